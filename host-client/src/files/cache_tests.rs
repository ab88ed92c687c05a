//! The sender's read-ahead block against real files.

use std::fs::File;

use super::cache::{ReadCache, BLOCK};

fn file(len: usize) -> (tempfile::TempDir, File, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.txt");
    let data: Vec<u8> = (0..len).map(|i| (i * 7 % 253) as u8).collect();
    std::fs::write(&path, &data).unwrap();
    (dir, File::open(&path).unwrap(), data)
}

fn read(cache: &mut ReadCache, file: &File, offset: usize, len: usize) -> Vec<u8> {
    let mut out = vec![0; len];
    cache.read(file, offset as u64, &mut out).unwrap();
    out
}

#[test]
fn sequential_chunks_cost_one_read_per_block() {
    let len = 2 * BLOCK + 1000;
    let (_dir, f, data) = file(len);
    let mut cache = ReadCache::default();
    let mut at = 0;
    while at < len {
        let n = 1200.min(len - at);
        assert_eq!(read(&mut cache, &f, at, n), data[at..at + n], "at {at}");
        at += n;
    }
    assert_eq!(
        cache.loads, 3,
        "one read per block, chunks across a boundary included"
    );
}

#[test]
fn a_retransmission_behind_the_block_is_read_directly() {
    let (_dir, f, data) = file(3 * BLOCK);
    let mut cache = ReadCache::default();
    let ahead = 2 * BLOCK + 100;
    assert_eq!(read(&mut cache, &f, ahead, 1200), data[ahead..ahead + 1200]);
    assert_eq!(cache.loads, 1);
    // Chunks behind the block, one of them across a block boundary.
    for old in [5, BLOCK - 600, 2 * BLOCK - 600] {
        assert_eq!(read(&mut cache, &f, old, 1200), data[old..old + 1200]);
    }
    assert_eq!(cache.loads, 1, "the read-ahead block was kept");
    let next = ahead + 1200;
    assert_eq!(read(&mut cache, &f, next, 1200), data[next..next + 1200]);
    assert_eq!(cache.loads, 1);
}

#[test]
fn the_last_short_chunk_is_read() {
    let len = BLOCK + 7;
    let (_dir, f, data) = file(len);
    let mut cache = ReadCache::default();
    assert_eq!(read(&mut cache, &f, BLOCK, 7), data[BLOCK..]);
    assert_eq!(
        read(&mut cache, &f, BLOCK - 1193, 1200),
        data[BLOCK - 1193..]
    );
}

#[test]
fn a_file_shorter_than_offered_is_an_error() {
    let (_dir, f, _) = file(BLOCK + 500);
    let mut cache = ReadCache::default();
    let mut out = vec![0; 1200];
    let e = cache.read(&f, BLOCK as u64, &mut out).unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::UnexpectedEof);
    let e = cache.read(&f, 5 * BLOCK as u64, &mut out).unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::UnexpectedEof);
}

#[test]
fn a_retransmission_after_the_file_shrank_is_an_error() {
    let (dir, f, _) = file(2 * BLOCK);
    let mut cache = ReadCache::default();
    let _ = read(&mut cache, &f, BLOCK, 1200);
    let shrink = std::fs::OpenOptions::new()
        .write(true)
        .open(dir.path().join("a.txt"))
        .unwrap();
    shrink.set_len(100).unwrap();
    let mut out = vec![0; 1200];
    let e = cache.read(&f, 200, &mut out).unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::UnexpectedEof);
}

/// Send-path reads for in-order 1200-byte chunks: one `pread` each vs the read-ahead
/// block. Prints figures; run with
/// `cargo test --release -p peerchat send_path_throughput -- --ignored --nocapture`.
#[test]
#[ignore = "a measurement, not a test"]
fn send_path_throughput() {
    use std::os::unix::fs::FileExt;
    let mb: usize = std::env::var("BENCH_FILES_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256);
    let len = mb << 20;
    let (_dir, f, _) = file(len);
    let mut chunk = [0u8; 1200];
    let rate = |d: core::time::Duration| len as f64 / d.as_secs_f64() / 1e6;
    let start = std::time::Instant::now();
    for at in (0..len).step_by(1200) {
        let n = 1200.min(len - at);
        f.read_exact_at(&mut chunk[..n], at as u64).unwrap();
    }
    let direct = start.elapsed();
    let mut cache = ReadCache::default();
    let start = std::time::Instant::now();
    for at in (0..len).step_by(1200) {
        let n = 1200.min(len - at);
        cache.read(&f, at as u64, &mut chunk[..n]).unwrap();
    }
    let cached = start.elapsed();
    println!(
        "send path, {mb} MiB in 1200-byte chunks: one pread each {:.0} MB/s, \
         read-ahead block {:.0} MB/s",
        rate(direct),
        rate(cached)
    );
}
