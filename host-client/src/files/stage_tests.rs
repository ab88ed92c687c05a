//! Coalescing chunk bytes into batches, against an in-memory "disk" that checks every
//! batch's hash limit; and the writer thread hashing batches written in any order.

use std::collections::BTreeSet;

use super::stage::{Batch, Sink, Stager};
use super::store::{Incoming, Report, BATCH};
use super::*;

/// Records batches and applies them to a disk image, checking that everything below
/// each batch's hash limit is on the disk once the batch is.
#[derive(Default)]
struct Disk {
    bytes: Vec<u8>,
    written: Vec<bool>,
    batches: Vec<(u64, usize, u64)>,
    /// Buffers handed out and not yet sent back.
    out: usize,
    hashed: u64,
}

impl Sink for Disk {
    fn buffer(&mut self) -> Option<Vec<u8>> {
        self.out += 1;
        Some(Vec::new())
    }

    fn send(&mut self, batch: Batch) {
        self.out -= 1;
        let at = batch.offset as usize;
        let end = at + batch.bytes.len();
        if self.bytes.len() < end {
            self.bytes.resize(end, 0);
            self.written.resize(end, false);
        }
        self.bytes[at..end].copy_from_slice(&batch.bytes);
        self.written[at..end].iter_mut().for_each(|w| *w = true);
        let upto = batch.hash_upto as usize;
        let from = (self.hashed as usize).min(upto);
        assert!(
            self.written[from..upto].iter().all(|w| *w),
            "hash limit {upto} covers bytes not written yet"
        );
        self.hashed = self.hashed.max(batch.hash_upto);
        self.batches
            .push((batch.offset, batch.bytes.len(), batch.hash_upto));
    }
}

/// A stand-in for the core: which chunks arrived, and the contiguous prefix.
#[derive(Default)]
struct Model {
    have: BTreeSet<usize>,
    cum: usize,
}

impl Model {
    /// Chunk `i` arrived: its byte range and the contiguous prefix the core reports.
    fn arrive(&mut self, i: usize, chunk: usize, len: usize) -> (usize, usize, u64) {
        self.have.insert(i);
        while self.have.contains(&self.cum) {
            self.cum += 1;
        }
        let at = i * chunk;
        (
            at,
            (at + chunk).min(len),
            (self.cum * chunk).min(len) as u64,
        )
    }
}

/// Hands `order`'s chunks of `data` to the stager as the core would.
fn feed(stager: &mut Stager, disk: &mut Disk, data: &[u8], chunk: usize, order: &[usize]) {
    let mut model = Model::default();
    feed_more(&mut model, stager, disk, data, chunk, order);
}

fn feed_more(
    model: &mut Model,
    stager: &mut Stager,
    disk: &mut Disk,
    data: &[u8],
    chunk: usize,
    order: &[usize],
) {
    for &i in order {
        let (at, end, contiguous) = model.arrive(i, chunk, data.len());
        stager.write(disk, at as u64, &data[at..end], contiguous);
    }
}

fn data(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 251) as u8).collect()
}

#[test]
fn in_order_chunks_become_one_batch_on_flush() {
    let data = data(10 * 1200);
    let (mut stager, mut disk) = (Stager::new(64 * 1024), Disk::default());
    feed(
        &mut stager,
        &mut disk,
        &data,
        1200,
        &(0..10).collect::<Vec<_>>(),
    );
    assert!(disk.batches.is_empty(), "staged until flushed");
    stager.flush(&mut disk);
    assert_eq!(disk.batches, [(0, 12_000, 12_000)]);
    assert_eq!(disk.bytes, data);
    stager.flush(&mut disk);
    assert_eq!(disk.batches.len(), 1, "nothing left to flush");
    assert_eq!(disk.out, 0, "every buffer went to the writer");
}

#[test]
fn a_chunk_straddling_the_batch_boundary_is_split() {
    let data = data(7 * 300);
    let (mut stager, mut disk) = (Stager::new(1000), Disk::default());
    feed(
        &mut stager,
        &mut disk,
        &data,
        300,
        &(0..7).collect::<Vec<_>>(),
    );
    // 0..1000 went when full (the 4th chunk split 100 + 200); the hash limit is the
    // prefix before the split chunk, which was not whole yet.
    assert_eq!(disk.batches, [(0, 1000, 900), (1000, 1000, 1800)]);
    stager.flush(&mut disk);
    assert_eq!(disk.batches[2], (2000, 100, 2100));
    assert_eq!(disk.bytes, data);
}

#[test]
fn a_straggler_goes_to_the_side_run_and_the_main_run_goes_on() {
    let data = data(10 * 100);
    let (mut stager, mut disk) = (Stager::new(1 << 20), Disk::default());
    let mut model = Model::default();
    // Chunk 2 is lost, then retransmitted among the newer chunks.
    let (s, d) = (&mut stager, &mut disk);
    feed_more(&mut model, s, d, &data, 100, &[0, 1, 3, 4, 5]);
    assert_eq!(
        disk.batches,
        [(0, 200, 200)],
        "the gap starts a new main run"
    );
    let (s, d) = (&mut stager, &mut disk);
    feed_more(&mut model, s, d, &data, 100, &[2, 6, 7]);
    assert_eq!(
        disk.batches.len(),
        1,
        "the straggler did not cut the main run"
    );
    stager.flush(&mut disk);
    // Lowest first: the straggler may only be hashed up to the staged main run; then
    // the main run completes the prefix.
    assert_eq!(
        &disk.batches[1..],
        [(200, 100, 300), (300, 500, 800)].as_slice()
    );
    assert_eq!(disk.hashed, 800);
}

#[test]
fn any_order_ends_with_every_byte_written_and_hashable() {
    let chunk = 1200;
    let n = 2000;
    let data = data(n * chunk - 517);
    let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for _ in 0..10 {
        // Mostly in order, with losses retransmitted later and local reordering.
        let mut order = Vec::new();
        let mut lost = Vec::new();
        for i in 0..n {
            match next() % 50 {
                0 => lost.push(i),
                1 if order.last().is_some() => {
                    let last = order.pop().unwrap();
                    order.extend([i, last]);
                }
                _ => order.push(i),
            }
            if next() % 40 == 0 {
                order.append(&mut lost);
            }
        }
        order.append(&mut lost);
        let capacity = 500 + (next() % (256 * 1024)) as usize;
        let (mut stager, mut disk) = (Stager::new(capacity), Disk::default());
        feed(&mut stager, &mut disk, &data, chunk, &order);
        stager.flush(&mut disk);
        assert_eq!(disk.bytes, data);
        assert_eq!(disk.hashed, data.len() as u64);
        assert_eq!(disk.out, 0);
    }
}

/// Feeds `incoming` like the core would, in `order`, flushing every `burst` chunks.
fn feed_incoming(incoming: &mut Incoming, data: &[u8], order: &[usize], burst: usize) {
    let mut model = Model::default();
    for (n, &i) in order.iter().enumerate() {
        let (at, end, contiguous) = model.arrive(i, 1200, data.len());
        incoming.write(at as u64, &data[at..end], contiguous);
        if n % burst == burst - 1 {
            incoming.flush();
        }
    }
}

async fn hashed(files: &mut Files) -> [u8; 32] {
    let wait = core::time::Duration::from_secs(20);
    match tokio::time::timeout(wait, files.next_report()).await {
        Ok(Report::Hashed(_, hash)) => hash,
        other => panic!("{other:?}"),
    }
}

fn key(id: u32) -> TransferKey {
    TransferKey {
        peer: peerchat_proto::wire::PeerId(7),
        id: peerchat_proto::wire::TransferId(id),
        role: Role::Receive,
    }
}

#[tokio::test]
async fn the_writer_hashes_batches_in_any_order_right() {
    let dir = tempfile::tempdir().unwrap();
    let mut files = Files::new(FileOptions {
        downloads: dir.path().to_path_buf(),
        max_file_size: 1 << 30,
        accept: AcceptPolicy::Auto,
    })
    .unwrap();
    // Over two batches, so batches fill, split chunks, and come back to the pool.
    let len = 2 * BATCH + 5000;
    let data = data(len);
    let n = len.div_ceil(1200);
    // A gap at chunk 3 filled last, a gap at 500 filled soon, one reordered pair.
    let mut order: Vec<usize> = (0..n).filter(|&i| i != 3 && i != 500).collect();
    order.insert(600, 500);
    order.swap(700, 701);
    order.push(3);
    let mut incoming = Incoming::start(
        dir.path(),
        key(1),
        "a.txt",
        len as u64,
        files.reports_tx.clone(),
    )
    .unwrap();
    feed_incoming(&mut incoming, &data, &order, 64);
    incoming.complete();
    assert_eq!(hashed(&mut files).await, *blake3::hash(&data).as_bytes());
    assert_eq!(std::fs::read(&incoming.part).unwrap(), data);
    incoming.abort();
}

#[tokio::test]
async fn staged_bytes_reach_the_disk_when_flushed() {
    let dir = tempfile::tempdir().unwrap();
    let (tx, _rx) = unbounded_channel();
    let mut incoming = Incoming::start(dir.path(), key(2), "b.txt", 5000, tx).unwrap();
    let data = data(5000);
    incoming.write(0, &data[..1200], 1200);
    incoming.write(1200, &data[1200..2400], 2400);
    // The `.part` file may already have its full size (reserved, all zeros).
    let part = incoming.part.clone();
    let written = || std::fs::read(&part).unwrap().get(..2400) == Some(&data[..2400]);
    assert!(!written(), "staged");
    incoming.flush();
    let deadline = StdInstant::now() + core::time::Duration::from_secs(10);
    while !written() {
        assert!(StdInstant::now() < deadline, "flushed bytes never written");
        std::thread::sleep(core::time::Duration::from_millis(1));
    }
    incoming.abort();
}

/// Throughput of the receive path (stage, write, hash) for in-order chunks. Prints a
/// figure; run with
/// `cargo test --release -p peerchat receive_path_throughput -- --ignored --nocapture`.
#[tokio::test]
#[ignore = "a measurement, not a test"]
async fn receive_path_throughput() {
    let mb: usize = std::env::var("BENCH_FILES_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256);
    let len = mb << 20;
    let dir = tempfile::tempdir().unwrap();
    let mut files = Files::new(FileOptions {
        downloads: dir.path().to_path_buf(),
        max_file_size: 1 << 40,
        accept: AcceptPolicy::Auto,
    })
    .unwrap();
    let chunk = data(1200);
    let mut incoming = Incoming::start(
        dir.path(),
        key(3),
        "c.txt",
        len as u64,
        files.reports_tx.clone(),
    )
    .unwrap();
    let start = StdInstant::now();
    let mut at = 0;
    let mut n = 0u64;
    while at < len {
        let end = (at + 1200).min(len);
        incoming.write(at as u64, &chunk[..end - at], end as u64);
        at = end;
        n += 1;
        if n % 64 == 0 {
            incoming.flush();
        }
    }
    let staged = start.elapsed();
    incoming.complete();
    let _ = hashed(&mut files).await;
    let all = start.elapsed();
    let rate = |d: core::time::Duration| len as f64 / d.as_secs_f64() / 1e6;
    println!(
        "receive path, {mb} MiB in 1200-byte chunks, flushed every 64: engine side {:.0} MB/s \
         ({:.2} s), written+hashed+synced {:.0} MB/s ({:.2} s)",
        rate(staged),
        staged.as_secs_f64(),
        rate(all),
        all.as_secs_f64()
    );
    incoming.abort();
}
