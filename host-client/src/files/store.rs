//! The receiving side's storage. The engine's handle on an incoming file ([`Incoming`])
//! coalesces chunk bytes into large batches ([`super::stage`]) in buffers recycled
//! through a small pool, and hands them to the file's writer thread
//! ([`super::writer`]), which writes them into a `.part` file, hashes the contiguous
//! prefix as it grows (so the verdict is ready as soon as the last byte lands), and on
//! the core's word either moves the file into place without overwriting anything or
//! removes the `.part` file. All disk work happens on that thread, never on the
//! engine's socket task; the engine only copies chunk bytes into a staging buffer.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{channel, Receiver, Sender};

use peerchat_proto::names::file::{self as names};
use peerchat_proto::transfer::TransferKey;
use tokio::sync::mpsc::UnboundedSender;

use super::early_sync::EarlySync;
use super::stage::{Batch, Sink, Stager};
use super::writer::{Job, Writer};

/// Bytes per batch handed to the writer (one `pwrite`).
pub(super) const BATCH: usize = 512 * 1024;
/// Batch buffers per incoming file: at most this many batches (16 MiB) wait for the
/// disk before the engine waits for the writer (back-pressure, never unbounded memory).
const BUFFERS: usize = 32;
/// Most `name (n).txt` tried before giving up.
const MAX_NUMBER: u32 = 10_000;

/// What a writer thread tells the engine.
#[derive(Debug)]
pub(crate) enum Report {
    /// Every byte is on disk and synced; this is the file's BLAKE3 hash.
    Hashed(TransferKey, [u8; 32]),
    /// The verified file is in place at this path.
    Stored(TransferKey, PathBuf),
    /// Storing failed; the `.part` file is gone.
    Failed(TransferKey, String),
}

/// The engine's end of a writer thread: its job queue and the pool of batch buffers.
struct Queue {
    jobs: Sender<Job>,
    returns: Receiver<Vec<u8>>,
    /// Buffers allocated so far (at most [`BUFFERS`]).
    made: usize,
}

impl Sink for Queue {
    fn buffer(&mut self) -> Option<Vec<u8>> {
        if let Ok(buf) = self.returns.try_recv() {
            return Some(buf);
        }
        if self.made < BUFFERS {
            self.made += 1;
            return Some(Vec::with_capacity(BATCH));
        }
        // Every buffer is queued: wait for the disk. An error means the writer failed
        // (its report is on the way) and the bytes are dropped.
        self.returns.recv().ok()
    }

    fn send(&mut self, batch: Batch) {
        // A closed queue means the writer failed; its report is on the way.
        let _ = self.jobs.send(Job::Data(batch));
    }
}

/// The engine's handle on one incoming file.
pub(crate) struct Incoming {
    queue: Queue,
    stager: Stager,
    /// The `.part` file (the writer thread owns it; kept here for tests).
    #[cfg(test)]
    pub(crate) part: PathBuf,
}

impl Incoming {
    /// Creates the `.part` file in `dir` (create-new: never an existing file, never
    /// through a symlink) and starts its writer thread.
    pub(crate) fn start(
        dir: &Path,
        key: TransferKey,
        name: &str,
        size: u64,
        reports: UnboundedSender<Report>,
    ) -> io::Result<Incoming> {
        let safe = names::check(name)
            .map_err(io::Error::other)?
            .as_str()
            .to_owned();
        let (part, file) = create_part(dir, key)?;
        let (jobs, rx) = channel();
        let (returns_tx, returns) = channel();
        let writer = Writer {
            key,
            dir: dir.to_path_buf(),
            name: safe,
            size,
            part: part.clone(),
            file,
            hasher: blake3::Hasher::new(),
            hashed: 0,
            reports,
            returns: returns_tx,
            readback: Vec::new(),
            early: EarlySync::default(),
        };
        let spawned = std::thread::Builder::new()
            .name("peerchat-file-writer".to_owned())
            .spawn(move || writer.run(rx));
        if let Err(e) = spawned {
            let _ = std::fs::remove_file(&part);
            return Err(e);
        }
        Ok(Incoming {
            queue: Queue {
                jobs,
                returns,
                made: 0,
            },
            stager: Stager::new(BATCH),
            #[cfg(test)]
            part,
        })
    }

    /// Bytes to write at `offset`; `contiguous` bytes from the start have been handed
    /// over. Staged, and handed to the writer in large batches; waits when the disk is
    /// far behind.
    pub(crate) fn write(&mut self, offset: u64, data: &[u8], contiguous: u64) {
        self.stager.write(&mut self.queue, offset, data, contiguous);
    }

    /// Hands every staged byte to the writer.
    pub(crate) fn flush(&mut self) {
        self.stager.flush(&mut self.queue);
    }

    /// Every byte was handed over: finish hashing, sync, report [`Report::Hashed`].
    pub(crate) fn complete(&mut self) {
        self.flush();
        let _ = self.queue.jobs.send(Job::Complete);
    }

    /// The core verified the hash: move the file into place, report [`Report::Stored`].
    pub(crate) fn commit(&self) {
        let _ = self.queue.jobs.send(Job::Commit);
    }

    /// The transfer failed: remove the `.part` file.
    pub(crate) fn abort(&self) {
        let _ = self.queue.jobs.send(Job::Abort);
    }
}

/// `.peerchat-<peer>-<id>[-n].part`: hidden, short, unique per transfer.
fn create_part(dir: &Path, key: TransferKey) -> io::Result<(PathBuf, File)> {
    for n in 0..100u32 {
        let suffix = if n == 0 {
            String::new()
        } else {
            format!("-{n}")
        };
        let path = dir.join(format!(
            ".peerchat-{}-{}{suffix}.part",
            key.peer.0, key.id.0
        ));
        match OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(file) => return Ok((path, file)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::other("no free .part name"))
}

/// Links `part` to `dir/name`, or `name (1).txt`, `name (2).txt`… — whichever does not
/// exist yet. `hard_link` never replaces anything (and never follows a symlink at the
/// destination), so nothing the user had is overwritten.
pub(crate) fn place(dir: &Path, part: &Path, name: &str) -> io::Result<PathBuf> {
    let safe = names::check(name).map_err(io::Error::other)?;
    for n in 0..=MAX_NUMBER {
        let candidate = dir.join(names::numbered(safe, n).to_string());
        match std::fs::hard_link(part, &candidate) {
            Ok(()) => return Ok(candidate),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::other(format!(
        "too many files named like {name}"
    )))
}
