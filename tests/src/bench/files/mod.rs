//! The `files` scenario: one `.txt` file (256 MiB unless `BENCH_FILES_MB` says
//! otherwise) over loopback, sent by real `peerchat` processes, next to a raw TCP copy
//! of the same file (also one that waits for the received copy's fsync, as Peerchat does)
//! and a TFTP download of it, all in the same run; then Peerchat and
//! TCP again with 2% random loss both ways (iptables on loopback, only on this run's
//! ports).
//!
//! Every row runs `BENCH_FILES_RUNS` times (default 3) and shows the median, with the
//! slowest and fastest run beside it: this machine's figures swing with its load. Every
//! run starts after a `sync` (earlier copies are on disk) with the source file just
//! read (it is in the page cache). Each
//! run is bounded by `BENCH_FILES_TIMEOUT_S` (default 120 s) and reads "timeout" when
//! it runs out; a row whose tools are missing (TFTP, iptables) reads "skipped" with
//! a note. Every received copy is checked for size and BLAKE3 hash. Temporary files,
//! processes and firewall rules are removed on the way out, also when a row panics.

mod loss;
mod peerchat;
mod system;
mod tcp;
mod tftp;

use core::time::Duration;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::Table;

/// Loss applied to the lossy rows (per packet, each direction).
const LOSS: f64 = 0.02;

/// How one row ended.
#[derive(Debug, Clone)]
enum Outcome {
    /// The file arrived intact after this long (one entry per run, fastest first).
    Done(Vec<Duration>),
    /// The row gave up after the time limit.
    Timeout,
    /// Something failed (the reason).
    Failed(String),
    /// The row could not run here (the reason).
    Skipped(String),
}

impl Outcome {
    /// Throughput in MB/s (10^6 bytes) if the row completed.
    fn mb_per_s(&self, bytes: u64) -> Option<f64> {
        match self {
            Outcome::Done(runs) => Some(mb_per_s(bytes, runs[runs.len() / 2])),
            _ => None,
        }
    }

    fn cell(&self, bytes: u64) -> String {
        match self {
            Outcome::Done(runs) if runs.len() > 1 => format!(
                "{:.1} ({:.0}–{:.0})",
                self.mb_per_s(bytes).unwrap_or(0.0),
                mb_per_s(bytes, runs[runs.len() - 1]),
                mb_per_s(bytes, runs[0]),
            ),
            Outcome::Done(_) => format!("{:.1}", self.mb_per_s(bytes).unwrap_or(0.0)),
            Outcome::Timeout => "timeout".to_owned(),
            Outcome::Failed(why) => format!("failed: {why}"),
            Outcome::Skipped(_) => "skipped".to_owned(),
        }
    }
}

fn mb_per_s(bytes: u64, took: Duration) -> f64 {
    bytes as f64 / 1e6 / took.as_secs_f64().max(1e-9)
}

/// The file every row moves, and what it must look like on arrival.
struct Source {
    path: PathBuf,
    bytes: u64,
    hash: blake3::Hash,
}

/// What a row needs: the file, a scratch folder and the time limit.
struct Setup<'a> {
    source: &'a Source,
    scratch: &'a Path,
    limit: Duration,
}

/// Runs the scenario.
pub fn run() -> Table {
    let mb: u64 = env_or("BENCH_FILES_MB", 256);
    let limit = Duration::from_secs(env_or("BENCH_FILES_TIMEOUT_S", 120));
    let runs = env_or("BENCH_FILES_RUNS", 3).max(1);
    let mut table = Table::new(
        &format!("files: a {mb} MiB .txt file over loopback"),
        &[
            "loss",
            "method",
            "MB/s (slowest–fastest)",
            "vs TCP",
            "vs TFTP",
        ],
    );
    let dir = tempfile::tempdir().expect("temporary folder");
    let source = write_source(dir.path(), mb << 20).expect("write the source file");
    let setup = Setup {
        source: &source,
        scratch: dir.path(),
        limit,
    };
    let clean = [
        (
            "Peerchat (2 `peerchat --json`)",
            row(&source, runs, || {
                peerchat::send(&setup, None, &mut table.notes)
            }),
        ),
        (
            "raw TCP copy",
            row(&source, runs, || tcp::copy(&setup, None, false)),
        ),
        (
            "TFTP (atftp, blksize 1428)",
            row(&source, runs, || tftp::get(&setup)),
        ),
        (
            "raw TCP copy + fsync",
            row(&source, runs, || tcp::copy(&setup, None, true)),
        ),
    ];
    let tcp = clean[1].1.mb_per_s(source.bytes);
    let tftp = clean[2].1.mb_per_s(source.bytes);
    add_rows(&mut table, "none", &clean, source.bytes, tcp, tftp);
    let lossy = match loss::Firewall::find() {
        Ok(fw) => [
            (
                "Peerchat (2 `peerchat --json`)",
                row(&source, runs, || {
                    peerchat::send(&setup, Some(&fw), &mut table.notes)
                }),
            ),
            (
                "raw TCP copy",
                row(&source, runs, || tcp::copy(&setup, Some(&fw), false)),
            ),
        ],
        Err(why) => {
            let skipped = Outcome::Skipped(format!("no iptables: {why}"));
            [
                ("Peerchat (2 `peerchat --json`)", skipped.clone()),
                ("raw TCP copy", skipped),
            ]
        }
    };
    let lossy_tcp = lossy[1].1.mb_per_s(source.bytes);
    add_rows(
        &mut table,
        "2% each way",
        &lossy,
        source.bytes,
        lossy_tcp,
        None,
    );
    for (name, outcome) in clean.iter().chain(lossy.iter()) {
        if let Outcome::Skipped(why) = outcome {
            table.notes.push(format!("{name} skipped: {why}."));
        }
    }
    table.notes.push(format!(
        "{} bytes; MB/s = 10^6 bytes per second, from the start of the transfer until the \
         receiver holds the whole file (Peerchat: `/send` written to the sender's stdin \
         until the receiver prints `file_received`, i.e. after it hashed, fsynced and \
         renamed the file; the sender hashes the file before it offers it). Raw TCP: one \
         connection, 256 KiB read/write loops, file to socket to file (\"+ fsync\": until the \
         received file is fsynced, the durability Peerchat gives). TFTP: tftpd-hpa on \
         127.0.0.1 and `atftp --option \"blksize 1428\" --get`. Every copy is checked for \
         size and BLAKE3 hash. Each run starts after `sync`, with the source just read into \
         the page cache. Loss: iptables `statistic --mode random --probability {LOSS}` \
         DROP rules on loopback for both clients' UDP ports and for the TCP copy's port in \
         both directions; the lossy rows compare with TCP under the same loss. Rows give \
         up after {} s.",
        source.bytes,
        limit.as_secs()
    ));
    table
}

fn add_rows(
    table: &mut Table,
    loss: &str,
    rows: &[(&str, Outcome)],
    bytes: u64,
    tcp: Option<f64>,
    tftp: Option<f64>,
) {
    let ratio = |x: Option<f64>, base: Option<f64>| match (x, base) {
        (Some(x), Some(b)) if b > 0.0 => format!("{:.2}×", x / b),
        _ => "-".to_owned(),
    };
    for (name, outcome) in rows {
        let mbs = outcome.mb_per_s(bytes);
        table.row(vec![
            loss.to_owned(),
            (*name).to_owned(),
            outcome.cell(bytes),
            ratio(mbs, tcp),
            ratio(mbs, tftp),
        ]);
    }
}

/// Runs one row `runs` times: all the durations if every run arrived, else the first
/// run that did not. Every run starts alike: nothing left to write back, so no run pays
/// for the one before it (a TCP copy that did not sync leaves its file to the kernel),
/// and the source read once, so it is in the page cache (this machine's kernel pages
/// out files left untouched for a few seconds, and the first run would read the disk).
fn row(source: &Source, runs: u64, mut f: impl FnMut() -> Outcome) -> Outcome {
    let mut took = Vec::new();
    for _ in 0..runs {
        settle(source);
        match run_once(&mut f) {
            Outcome::Done(d) => took.extend(d),
            other => return other,
        }
    }
    took.sort();
    Outcome::Done(took)
}

/// Writes every dirty page back (`sync`) and reads the source through; where either
/// fails, the run just starts as things are.
fn settle(source: &Source) {
    let _ = std::process::Command::new("sync").status();
    if let Ok(mut file) = std::fs::File::open(&source.path) {
        let _ = std::io::copy(&mut file, &mut std::io::sink());
    }
}

/// Runs a row once; a panic becomes a failed row (guards have cleaned up by then).
fn run_once(f: &mut impl FnMut() -> Outcome) -> Outcome {
    match std::panic::catch_unwind(core::panic::AssertUnwindSafe(f)) {
        Ok(outcome) => outcome,
        Err(panic) => {
            let why = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_else(|| "panicked".to_owned());
            Outcome::Failed(why.lines().next().unwrap_or_default().to_owned())
        }
    }
}

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

/// Writes `bytes` bytes of numbered text lines to `dir/bench.txt` (every run's `settle`
/// puts it on disk).
fn write_source(dir: &Path, bytes: u64) -> std::io::Result<Source> {
    let path = dir.join("bench.txt");
    let mut out = BufWriter::with_capacity(1 << 20, std::fs::File::create(&path)?);
    let mut hasher = blake3::Hasher::new();
    let mut left = bytes;
    let mut n = 0u64;
    while left > 0 {
        let line = format!("{n:010} the quick brown fox jumps over the lazy dog\n");
        let take = (line.len() as u64).min(left) as usize;
        out.write_all(&line.as_bytes()[..take])?;
        hasher.update(&line.as_bytes()[..take]);
        left -= take as u64;
        n += 1;
    }
    out.flush()?;
    Ok(Source {
        path,
        bytes,
        hash: hasher.finalize(),
    })
}

/// Checks that `path` holds exactly the source's bytes.
fn verify(source: &Source, path: &Path) -> Result<(), String> {
    let len = std::fs::metadata(path)
        .map_err(|e| format!("{}: {e}", path.display()))?
        .len();
    if len != source.bytes {
        return Err(format!("{len} bytes instead of {}", source.bytes));
    }
    let mut hasher = blake3::Hasher::new();
    hasher
        .update_reader(std::fs::File::open(path).map_err(|e| e.to_string())?)
        .map_err(|e| e.to_string())?;
    if hasher.finalize() != source.hash {
        return Err("BLAKE3 hash differs".to_owned());
    }
    Ok(())
}

/// Turns a verified arrival into the row's outcome.
fn checked(source: &Source, path: &Path, took: Duration) -> Outcome {
    match verify(source, path) {
        Ok(()) => Outcome::Done(vec![took]),
        Err(why) => Outcome::Failed(why),
    }
}

/// Time left until `end`, or `None` once it passed.
fn left(end: Instant) -> Option<Duration> {
    end.checked_duration_since(Instant::now())
        .filter(|d| !d.is_zero())
}
