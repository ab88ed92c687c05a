//! End to end, real processes on loopback: `.txt` files between peers — a large file
//! arrives byte-identical, a second file of the same name is kept beside the first,
//! refused files get one clear line, hostile offers from a raw socket never write outside
//! the downloads folder, chat flows while a file moves, and a file that cannot be put in
//! place fails on both sides.

use std::path::Path;

use peerchat_proto::wire::{
    decode_packet, encode_packet, Body, FileOffer, FileRejectReason, Packet, TransferId,
};
use peerchat_tests::client::{chat_room, ChatClient, RawPeer, ServerProc};
use serde_json::Value;

/// Deterministic text of `len` bytes.
fn text_file(dir: &Path, name: &str, len: usize, seed: u8) -> std::path::PathBuf {
    let line = format!("line of seed {seed}: the quick brown fox jumps over the lazy dog\n");
    let bytes: Vec<u8> = line.bytes().cycle().take(len).collect();
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn is(kind: &'static str) -> impl Fn(&Value) -> bool {
    move |e| e["event"] == kind
}

#[test]
fn a_large_file_arrives_byte_identical_while_chat_goes_on() {
    let (_server, mut c) = chat_room(&["alice", "bob"]);
    let src = tempfile::tempdir().unwrap();
    let path = text_file(src.path(), "big.txt", 50 << 20, 1);
    c[0].command(&format!("/send bob {}", path.display()));
    c[1].expect_event("file_offered");
    c[0].command("/msg bob while the file moves");
    c[1].expect("chat during the transfer", |e| {
        e["event"] == "message" && e["text"] == "while the file moves"
    });
    let received = c[1].expect_event("file_received");
    assert_eq!(received["from"], "alice");
    assert_eq!(received["name"], "big.txt");
    assert_eq!(received["bytes"], 50 << 20);
    let stored = Path::new(received["path"].as_str().unwrap());
    assert!(stored.starts_with(&c[1].downloads), "{stored:?}");
    assert!(std::fs::read(stored).unwrap() == std::fs::read(&path).unwrap());
    c[0].expect_event("file_sent");
}

#[test]
fn a_second_file_of_the_same_name_is_kept_beside_the_first() {
    let (_server, mut c) = chat_room(&["alice", "bob"]);
    let src = tempfile::tempdir().unwrap();
    let mut ids = Vec::new();
    for seed in [1, 2] {
        let path = text_file(src.path(), "notes.txt", 10_000, seed);
        c[0].command(&format!("/send bob {}", path.display()));
        ids.push(c[1].expect_event("file_received")["id"].clone());
        c[0].expect_event("file_sent");
    }
    assert_ne!(ids[0], ids[1], "each transfer has its own id");
    let first = std::fs::read(c[1].downloads.join("notes.txt")).unwrap();
    let second = std::fs::read(c[1].downloads.join("notes (1).txt")).unwrap();
    assert!(first.starts_with(b"line of seed 1"));
    assert!(second.starts_with(b"line of seed 2"));
}

#[test]
fn files_that_cannot_be_sent_get_one_clear_line() {
    let (_server, mut c) = chat_room(&["alice", "bob"]);
    let src = tempfile::tempdir().unwrap();
    let not_txt = src.path().join("photo.jpg");
    std::fs::write(&not_txt, b"x").unwrap();
    c[0].command(&format!("/send bob {}", not_txt.display()));
    let error = c[0].expect_event("error");
    assert!(
        error["message"].as_str().unwrap().contains(".txt"),
        "{error}"
    );
    c[0].command(&format!(
        "/send bob {}",
        src.path().join("missing.txt").display()
    ));
    let error = c[0].expect_event("error");
    assert!(
        error["message"].as_str().unwrap().contains("no such file"),
        "{error}"
    );
    let ok = text_file(src.path(), "ok.txt", 10, 3);
    c[0].command(&format!("/send nobody {}", ok.display()));
    let error = c[0].expect_event("error");
    assert!(
        error["message"].as_str().unwrap().contains("nobody"),
        "{error}"
    );
    assert!(!c[1].seen.iter().any(is("file_offered")));
}

#[test]
fn hostile_offers_never_write_outside_the_downloads_folder() {
    let (server, mut c) = chat_room(&["alice", "bob"]);
    let bob_udp = c[1].udp.unwrap();
    // A peer that logged in properly, so its packets pass the source check and reach
    // the file-name rules.
    let mallory = RawPeer::log_in(server.addr, "mallory");
    c[1].expect_peers(&["alice", "mallory"]);
    let hostile = [
        "../../x.txt",
        "/etc/peerchat-x.txt",
        "a\u{1b}[2Jb.txt",
        "CON.txt",
        "..\\x.txt",
        ".hidden.txt",
        "notes.exe",
    ];
    assert!(!Path::new("/etc/peerchat-x.txt").exists());
    let mut buf = [0u8; 1200];
    mallory
        .udp
        .set_read_timeout(Some(core::time::Duration::from_millis(200)))
        .unwrap();
    // Like a real sender, repeat the offers that got no answer yet; every one must be
    // refused (the non-.txt one as such).
    let mut refused: Vec<(TransferId, FileRejectReason)> = Vec::new();
    for _ in 0..20 {
        for (i, name) in hostile.iter().enumerate() {
            let transfer = TransferId(i as u32);
            if refused.iter().any(|(t, _)| *t == transfer) {
                continue;
            }
            let offer = Packet::new(
                mallory.id,
                Body::FileOffer(FileOffer {
                    transfer,
                    name,
                    size: 5,
                    chunk_size: 1136,
                    hash: [0; 32],
                }),
            );
            let len = encode_packet(&offer, &mut buf).unwrap();
            mallory.udp.send_to(&buf[..len], bob_udp).unwrap();
        }
        while let Ok((n, _)) = mallory.udp.recv_from(&mut buf) {
            if let Ok(Packet {
                body: Body::FileReject { transfer, reason },
                ..
            }) = decode_packet(&buf[..n])
            {
                if !refused.iter().any(|(t, _)| *t == transfer) {
                    refused.push((transfer, reason));
                }
            }
        }
        if refused.len() == hostile.len() {
            break;
        }
    }
    assert_eq!(refused.len(), hostile.len(), "{refused:?}");
    let exe = TransferId(hostile.len() as u32 - 1);
    assert!(
        refused.contains(&(exe, FileRejectReason::NotTxt)),
        "{refused:?}"
    );

    c[0].command("/msg bob after the attack");
    c[1].expect("message", |e| {
        e["event"] == "message" && e["text"] == "after the attack"
    });
    assert!(!c[1].seen.iter().any(is("file_offered")), "{:?}", c[1].seen);
    let listing: Vec<_> = std::fs::read_dir(&c[1].downloads).unwrap().collect();
    assert!(listing.is_empty(), "{listing:?}");
    assert!(!c[1].downloads.parent().unwrap().join("x.txt").exists());
    assert!(!Path::new("/etc/peerchat-x.txt").exists());
}

#[test]
fn with_accept_ask_the_receiver_accepts_or_declines_each_offer() {
    let server = ServerProc::start(&[]);
    let mut alice = ChatClient::spawn(server.addr, "alice").unwrap();
    let options = peerchat_tests::client::ClientOptions {
        server: Some(server.addr),
        extra: vec!["--accept".into(), "ask".into()],
        ..Default::default()
    };
    let mut bob = ChatClient::spawn_with("bob", &options).unwrap();
    alice.expect_ready();
    bob.expect_ready();
    alice.expect_peers(&["bob"]);
    let src = tempfile::tempdir().unwrap();

    let wanted = text_file(src.path(), "wanted.txt", 5_000, 4);
    alice.command(&format!("/send bob {}", wanted.display()));
    let offer = bob.expect_event("file_offered");
    bob.command("/accept 12345");
    bob.expect_event("error");
    bob.command(&format!("/accept {}", offer["id"]));
    let received = bob.expect_event("file_received");
    assert_eq!(received["name"], "wanted.txt");
    assert_eq!(
        received["id"], offer["id"],
        "the end names the offer it ends"
    );
    alice.expect_event("file_sent");

    let unwanted = text_file(src.path(), "unwanted.txt", 5_000, 5);
    alice.command(&format!("/send bob {}", unwanted.display()));
    let offer = bob.expect_event("file_offered");
    bob.command(&format!("/decline {}", offer["id"]));
    let failed = alice.expect_event("file_failed");
    assert_eq!(failed["name"], "unwanted.txt");
    assert!(!bob.downloads.join("unwanted.txt").exists());
}

#[test]
fn a_file_that_cannot_be_put_in_place_fails_on_both_sides() {
    let (_server, mut c) = chat_room(&["alice", "bob"]);
    // Every name the receiver may use is taken (by folders), so the verified file has
    // nowhere to go.
    let taken = c[1].downloads.join("full.txt");
    std::fs::create_dir(&taken).unwrap();
    for n in 1..=10_000 {
        std::fs::create_dir(c[1].downloads.join(format!("full ({n}).txt"))).unwrap();
    }
    let src = tempfile::tempdir().unwrap();
    let path = text_file(src.path(), "full.txt", 100_000, 6);
    c[0].command(&format!("/send bob {}", path.display()));
    let failed = c[1].expect_event("file_failed");
    assert_eq!(failed["name"], "full.txt");
    assert!(
        failed["reason"].as_str().unwrap().contains("cannot store"),
        "{failed}"
    );
    let failed = c[0].expect_event("file_failed");
    assert!(
        failed["reason"]
            .as_str()
            .unwrap()
            .contains("could not write"),
        "{failed}"
    );
    assert!(!c[0].seen.iter().any(is("file_sent")), "{:?}", c[0].seen);
    assert!(!c[1].seen.iter().any(is("file_received")));
    let stray: Vec<_> = std::fs::read_dir(&c[1].downloads)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| !p.is_dir())
        .collect();
    assert!(stray.is_empty(), "no .part and no file left: {stray:?}");
}
