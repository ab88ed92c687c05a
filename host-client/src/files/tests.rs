//! Host file handling against real files in temporary folders.

use std::path::Path;

use peerchat_proto::transfer::{AcceptPolicy, Event, HostTransfers, Role, TransferKey, Transfers};
use peerchat_proto::wire::{decode_packet, PeerId, TransferId, MAX_DATAGRAM};
use peerchat_proto::Instant;

use super::send::prepare_blocking;
use super::*;

fn key(id: u32) -> TransferKey {
    TransferKey {
        peer: PeerId(7),
        id: TransferId(id),
        role: Role::Receive,
    }
}

fn options(dir: &Path) -> FileOptions {
    FileOptions {
        downloads: dir.to_path_buf(),
        max_file_size: 1 << 20,
        accept: AcceptPolicy::Auto,
    }
}

#[test]
fn sending_refuses_bad_paths_with_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let missing = prepare_blocking(&dir.path().join("nope.txt"), 100).unwrap_err();
    assert!(matches!(missing, PrepareError::Missing(_)));
    assert!(missing.to_string().ends_with("no such file"), "{missing}");
    let sub = dir.path().join("folder.txt");
    std::fs::create_dir(&sub).unwrap();
    assert!(matches!(
        prepare_blocking(&sub, 100),
        Err(PrepareError::NotAFile(_))
    ));
    let sh = dir.path().join("x.sh");
    std::fs::write(&sh, b"echo").unwrap();
    let e = prepare_blocking(&sh, 100).unwrap_err();
    assert!(e.to_string().contains("only .txt files"), "{e}");
    let big = dir.path().join("big.txt");
    std::fs::write(&big, [b'a'; 101]).unwrap();
    let e = prepare_blocking(&big, 100).unwrap_err();
    assert!(matches!(e, PrepareError::TooLarge(_, 101, 100)), "{e}");
    assert!(!e.to_string().contains('\n'));
}

#[test]
fn a_good_file_is_hashed_and_fills_chunks() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.TXT");
    let data: Vec<u8> = (0..5000u32).map(|i| (i % 241) as u8).collect();
    std::fs::write(&path, &data).unwrap();
    let mut out = prepare_blocking(&path, 1 << 20).unwrap();
    assert_eq!((out.name.as_str(), out.size), ("notes.TXT", 5000));
    assert_eq!(out.hash, *blake3::hash(&data).as_bytes());
    let fill = Fill {
        key: key(1),
        offset: 1136,
        at: 10,
        len: 1136,
    };
    let mut buf = [0u8; MAX_DATAGRAM];
    out.fill(&fill, &mut buf).unwrap();
    assert_eq!(&buf[10..10 + 1136], &data[1136..2272]);
    let past = Fill {
        offset: 4990,
        ..fill
    };
    assert!(
        out.fill(&past, &mut buf).is_err(),
        "reading past the end fails"
    );
}

/// Runs a writer to its verdict and returns its reports.
async fn reports(files: &mut Files, n: usize) -> Vec<Report> {
    let mut out = Vec::new();
    for _ in 0..n {
        let r = tokio::time::timeout(core::time::Duration::from_secs(10), files.next_report());
        out.push(r.await.expect("writer report"));
    }
    out
}

fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn out_of_order_writes_are_hashed_stored_and_numbered() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.txt"), b"mine").unwrap();
    let mut files = Files::new(options(dir.path())).unwrap();
    let data: Vec<u8> = (0..3000u32).map(|i| (i % 7) as u8).collect();
    let mut incoming = Incoming::start(
        dir.path(),
        key(1),
        "notes.txt",
        3000,
        files.reports_tx.clone(),
    )
    .unwrap();
    incoming.write(2000, &data[2000..], 0);
    incoming.write(1000, &data[1000..2000], 0);
    incoming.write(0, &data[..1000], 3000);
    incoming.complete();
    let hashed = reports(&mut files, 1).await;
    assert!(
        matches!(hashed[0], Report::Hashed(k, h) if k == key(1) && h == *blake3::hash(&data).as_bytes())
    );
    incoming.commit();
    let Report::Stored(_, path) = reports(&mut files, 1).await.remove(0) else {
        panic!("not stored");
    };
    assert_eq!(path, dir.path().join("notes (1).txt"));
    assert_eq!(std::fs::read(&path).unwrap(), data);
    assert_eq!(
        std::fs::read(dir.path().join("notes.txt")).unwrap(),
        b"mine",
        "never overwritten"
    );
    assert_eq!(
        entries(dir.path()),
        ["notes (1).txt", "notes.txt"],
        "no .part left"
    );
}

#[tokio::test]
async fn an_aborted_transfer_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let files = Files::new(options(dir.path())).unwrap();
    let mut incoming =
        Incoming::start(dir.path(), key(2), "x.txt", 10, files.reports_tx.clone()).unwrap();
    incoming.write(0, b"01234", 5);
    let part = incoming.part.clone();
    assert!(part.exists());
    incoming.abort();
    drop(incoming);
    for _ in 0..200 {
        if !part.exists() {
            break;
        }
        tokio::time::sleep(core::time::Duration::from_millis(5)).await;
    }
    assert!(entries(dir.path()).is_empty());
}

/// Polls `done` for up to two seconds.
async fn eventually(mut done: impl FnMut() -> bool) -> bool {
    for _ in 0..400 {
        if done() {
            return true;
        }
        tokio::time::sleep(core::time::Duration::from_millis(5)).await;
    }
    done()
}

#[tokio::test]
async fn the_part_file_has_its_whole_size_on_disk_before_data_arrives() {
    let dir = tempfile::tempdir().unwrap();
    let files = Files::new(options(dir.path())).unwrap();
    let size = 3 << 20;
    let incoming = Incoming::start(
        dir.path(),
        key(3),
        "big.txt",
        size,
        files.reports_tx.clone(),
    )
    .unwrap();
    let part = incoming.part.clone();
    let len = || std::fs::metadata(&part).map_or(0, |m| m.len());
    assert!(eventually(|| len() == size).await, "size {}", len());
    #[cfg(target_os = "linux")]
    {
        // Allocated, not a sparse file: a full disk fails the transfer at the start.
        use std::os::unix::fs::MetadataExt;
        let allocated = std::fs::metadata(&part).unwrap().blocks() * 512;
        assert!(allocated >= size, "{allocated} bytes allocated");
    }
    incoming.abort();
    drop(incoming);
    assert!(eventually(|| entries(dir.path()).is_empty()).await);
}

#[tokio::test]
async fn a_file_the_disk_cannot_hold_fails_at_once_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut files = Files::new(options(dir.path())).unwrap();
    // Far past what any file system here allows.
    let size = 1 << 62;
    let _incoming = Incoming::start(
        dir.path(),
        key(4),
        "huge.txt",
        size,
        files.reports_tx.clone(),
    )
    .unwrap();
    let report = reports(&mut files, 1).await.remove(0);
    let Report::Failed(k, reason) = report else {
        panic!("not failed: {report:?}");
    };
    assert_eq!(k, key(4));
    assert!(!reason.is_empty());
    assert!(entries(dir.path()).is_empty(), "no .part left");
}

#[test]
fn symlinks_are_never_followed() {
    let dir = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let victim = outside.path().join("victim.txt");
    std::fs::write(&victim, b"precious").unwrap();
    std::os::unix::fs::symlink(&victim, dir.path().join("notes.txt")).unwrap();
    let k = key(3);
    std::os::unix::fs::symlink(
        &victim,
        dir.path()
            .join(format!(".peerchat-{}-{}.part", k.peer.0, k.id.0)),
    )
    .unwrap();
    let (tx, _rx) = unbounded_channel();
    let incoming = Incoming::start(dir.path(), k, "notes.txt", 3, tx).unwrap();
    assert!(
        incoming.part.ends_with(".peerchat-7-3-1.part"),
        "{:?}",
        incoming.part
    );
    let placed = store::place(dir.path(), &incoming.part, "notes.txt").unwrap();
    assert_eq!(placed, dir.path().join("notes (1).txt"));
    assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
    incoming.abort();
}

#[test]
fn hostile_names_are_refused_before_touching_the_disk() {
    let dir = tempfile::tempdir().unwrap();
    let (tx, _rx) = unbounded_channel();
    for name in [
        "../../x.txt",
        "/etc/x.txt",
        "a\u{1b}[2Jb.txt",
        "CON.txt",
        "x.sh",
    ] {
        assert!(
            Incoming::start(dir.path(), key(4), name, 1, tx.clone()).is_err(),
            "{name}"
        );
    }
    assert!(entries(dir.path()).is_empty());
}

/// A sender table and a receiving host with its own table, wired in memory.
struct Wire {
    a: Box<HostTransfers>,
    b: Box<HostTransfers>,
    files: Files,
    out: Outgoing,
    events: Vec<UiEvent>,
}

const A: PeerId = PeerId(1);
const B: PeerId = PeerId(2);

impl Wire {
    fn pump(&mut self, now: Instant) {
        let mut buf = [0u8; MAX_DATAGRAM];
        loop {
            let mut moved = false;
            while let Some(t) = self.a.poll_control(now, A, &mut buf) {
                moved = true;
                let p = decode_packet(&buf[..t.len]).unwrap();
                if let Some(w) = self.b.handle_packet(now, A, &p.body) {
                    self.files.write(&w);
                }
            }
            while let Some((t, fill)) = self.a.poll_chunk_fill(now, A, &mut buf) {
                moved = true;
                self.out.fill(&fill, &mut buf).unwrap();
                let p = decode_packet(&buf[..t.len]).unwrap();
                if let Some(w) = self.b.handle_packet(now, A, &p.body) {
                    self.files.write(&w);
                }
            }
            while let Some(t) = self.b.poll_control(now, B, &mut buf) {
                moved = true;
                let p = decode_packet(&buf[..t.len]).unwrap();
                let _ = self.a.handle_packet(now, B, &p.body);
            }
            while let Some(e) = self.b.poll_event().map(owned) {
                let (e, name) = e;
                let e = restore(e, &name);
                if let Some(ui) = self.files.on_event(e, "alice", &mut self.b, now) {
                    self.events.push(ui);
                }
            }
            while self.a.poll_event().is_some() {}
            if !moved {
                return;
            }
        }
    }
}

/// An event detached from the table (its name copied out).
fn owned(e: Event<'_>) -> (Event<'static>, String) {
    match e {
        Event::Offered {
            key,
            name,
            size,
            needs_decision,
        } => (
            Event::Offered {
                key,
                name: "",
                size,
                needs_decision,
            },
            name.to_owned(),
        ),
        Event::Accepted { key } => (Event::Accepted { key }, String::new()),
        Event::Complete { key } => (Event::Complete { key }, String::new()),
        Event::Received { key, size } => (Event::Received { key, size }, String::new()),
        Event::Sent { key, size } => (Event::Sent { key, size }, String::new()),
        Event::Failed { key, reason } => (Event::Failed { key, reason }, String::new()),
    }
}

fn restore<'a>(e: Event<'static>, name: &'a str) -> Event<'a> {
    match e {
        Event::Offered {
            key,
            size,
            needs_decision,
            ..
        } => Event::Offered {
            key,
            name,
            size,
            needs_decision,
        },
        other => other,
    }
}

async fn transfer(dir: &Path, data: &[u8], hash: Option<[u8; 32]>) -> Vec<UiEvent> {
    let src = dir.join("src");
    std::fs::create_dir(&src).unwrap();
    let path = src.join("notes.txt");
    std::fs::write(&path, data).unwrap();
    let out = prepare(path, 1 << 20).await.unwrap();
    let downloads = dir.join("downloads");
    let files = Files::new(options(&downloads)).unwrap();
    let mut b = Box::new(Transfers::new(files.core_config(), 9));
    b.set_config(files.core_config());
    let mut w = Wire {
        a: Box::new(Transfers::new(Default::default(), 1)),
        b,
        files,
        out,
        events: Vec::new(),
    };
    let mut now = Instant::from_millis(1);
    let hash = hash.unwrap_or(w.out.hash);
    w.a.send(now, B, &w.out.name, w.out.size, hash).unwrap();
    for _ in 0..100_000 {
        w.pump(now);
        let finished = |w: &Wire| {
            w.events
                .iter()
                .any(|e| matches!(e, UiEvent::FileReceived { .. } | UiEvent::FileFailed { .. }))
        };
        if finished(&w) {
            break;
        }
        let wait = core::time::Duration::from_millis(if w.a.active() == 0 { 1000 } else { 0 });
        if let Ok(report) = tokio::time::timeout(wait, w.files.next_report()).await {
            if let Some(ui) = w.files.on_report(report, &mut w.b, now) {
                w.events.push(ui);
            }
            continue;
        }
        let next =
            w.a.poll_timeout()
                .into_iter()
                .chain(w.b.poll_timeout())
                .min();
        now = next
            .unwrap_or(now)
            .max(now + peerchat_proto::Duration::from_micros(10));
        w.a.handle_timeout(now);
        w.b.handle_timeout(now);
    }
    w.events
}

#[tokio::test]
async fn a_received_file_is_verified_then_put_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let data: Vec<u8> = (0..50_000u32).map(|i| (i % 251) as u8).collect();
    let events = transfer(dir.path(), &data, None).await;
    let downloads = dir.path().join("downloads");
    let UiEvent::FileOffered {
        from,
        name,
        size: 50_000,
        id: offered,
    } = &events[0]
    else {
        panic!("{events:?}");
    };
    assert_eq!((from.as_str(), name.as_str()), ("alice", "notes.txt"));
    let Some(UiEvent::FileReceived {
        id,
        from,
        name,
        path,
        bytes,
    }) = events.last()
    else {
        panic!("{events:?}");
    };
    assert_eq!(id, offered, "the end carries the offer's id");
    assert_eq!(
        (from.as_str(), name.as_str(), *bytes),
        ("alice", "notes.txt", 50_000)
    );
    assert_eq!(Path::new(path), downloads.join("notes.txt"));
    assert_eq!(std::fs::read(path).unwrap(), data);
    assert_eq!(entries(&downloads), ["notes.txt"]);
}

#[tokio::test]
async fn a_hash_mismatch_leaves_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let data = vec![b'x'; 20_000];
    let events = transfer(dir.path(), &data, Some([1; 32])).await;
    assert!(
        matches!(events.last(), Some(UiEvent::FileFailed { reason, .. }) if reason.contains("hash mismatch")),
        "{events:?}"
    );
    let downloads = dir.path().join("downloads");
    for _ in 0..200 {
        if entries(&downloads).is_empty() {
            break;
        }
        tokio::time::sleep(core::time::Duration::from_millis(5)).await;
    }
    assert!(entries(&downloads).is_empty());
}

#[tokio::test]
async fn a_file_placed_after_the_transfer_failed_is_removed() {
    let dir = tempfile::tempdir().unwrap();
    let mut files = Files::new(options(dir.path())).unwrap();
    let mut table: Box<HostTransfers> = Box::new(Transfers::new(files.core_config(), 1));
    let k = key(5);
    files.label(k, "alice", "late.txt", 3);
    files.open(k).unwrap();
    let incoming = files.receives.get_mut(&k).unwrap();
    incoming.write(0, b"abc", 3);
    incoming.complete();
    assert!(matches!(
        reports(&mut files, 1).await[0],
        Report::Hashed(..)
    ));
    files.receives.get(&k).unwrap().commit();
    // The sender gives up while the writer places the file.
    let now = Instant::from_millis(1);
    assert!(files.failed(k, "cancelled".into()).is_some());
    let stored = reports(&mut files, 1).await.remove(0);
    assert!(matches!(stored, Report::Stored(..)), "{stored:?}");
    assert!(files.on_report(stored, &mut table, now).is_none());
    assert!(entries(dir.path()).is_empty(), "{:?}", entries(dir.path()));
}

fn offered(files: &mut Files, table: &mut HostTransfers, key: TransferKey, from: &str) -> u32 {
    let offer = Event::Offered {
        key,
        name: "notes.txt",
        size: 10,
        needs_decision: true,
    };
    match files.on_event(offer, from, table, Instant::from_millis(0)) {
        Some(UiEvent::FileOffered { id, .. }) => id,
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn transfers_keep_their_own_ids_whatever_ids_the_peers_choose() {
    let dir = tempfile::tempdir().unwrap();
    let mut files = Files::new(FileOptions {
        accept: AcceptPolicy::Ask,
        ..options(dir.path())
    })
    .unwrap();
    let mut table: Box<HostTransfers> = Box::new(Transfers::new(files.core_config(), 1));
    let now = Instant::from_millis(0);
    // Two peers offer under the same wire id, and our own send uses it too.
    let from = |peer, role| TransferKey {
        peer: PeerId(peer),
        id: TransferId(5),
        role,
    };
    let alice = offered(&mut files, &mut table, from(1, Role::Receive), "alice");
    let bob = offered(&mut files, &mut table, from(2, Role::Receive), "bob");
    let source = dir.path().join("mine.txt");
    std::fs::write(&source, b"hello").unwrap();
    let out = prepare_blocking(&source, 100).unwrap();
    let ours = files.started(from(3, Role::Send), "carol", out);
    assert!(alice != bob && ours != alice && ours != bob);
    // Our send failing leaves both offers waiting.
    let failed = Event::Failed {
        key: from(3, Role::Send),
        reason: peerchat_proto::transfer::FailReason::Rejected(
            peerchat_proto::wire::FileRejectReason::Declined,
        ),
    };
    let Some(UiEvent::FileFailed { id, peer, .. }) =
        files.on_event(failed, "carol", &mut table, now)
    else {
        panic!("no file_failed");
    };
    assert_eq!((id, peer.as_str()), (ours, "carol"));
    // Each answer reaches its own offer, once.
    files.decline(alice, &mut table, now).unwrap();
    let again = files.decline(alice, &mut table, now).unwrap_err();
    assert_eq!(again, format!("no file offer {alice} is waiting"));
    files.accept(bob, &mut table, now).unwrap();
    assert!(files.receives.get(&from(2, Role::Receive)).is_some());
    assert!(files.receives.get(&from(1, Role::Receive)).is_none());
    let Some(UiEvent::FileFailed { id, peer, .. }) =
        files.failed(from(2, Role::Receive), "cancelled".into())
    else {
        panic!("no file_failed");
    };
    assert_eq!((id, peer.as_str()), (bob, "bob"));
}
