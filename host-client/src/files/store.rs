//! The receiving side's storage: one writer thread per incoming file. It writes chunks
//! at their offsets into a `.part` file, hashes the contiguous prefix as it grows (so
//! the verdict is ready as soon as the last byte lands), and on the core's word either
//! moves the file into place without overwriting anything or removes the `.part` file.
//! All disk work happens on that thread, never on the engine's socket task.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

use peerchat_proto::names::file::{self as names};
use peerchat_proto::transfer::TransferKey;
use tokio::sync::mpsc::UnboundedSender;

/// Chunks queued for one writer before the engine waits for the disk (about 18 MB).
const QUEUE: usize = 16 * 1024;
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

enum Job {
    Data {
        offset: u64,
        bytes: Vec<u8>,
        contiguous: u64,
    },
    Complete,
    Commit,
    Abort,
}

/// The engine's handle on one incoming file.
pub(crate) struct Incoming {
    jobs: SyncSender<Job>,
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
        let (jobs, rx) = sync_channel(QUEUE);
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
        };
        std::thread::Builder::new()
            .name("peerchat-file-writer".to_owned())
            .spawn(move || writer.run(rx))?;
        Ok(Incoming {
            jobs,
            #[cfg(test)]
            part,
        })
    }

    /// Bytes to write at `offset`; `contiguous` bytes from the start are all written.
    /// Waits when the disk is far behind (back-pressure, never unbounded memory).
    pub(crate) fn write(&self, offset: u64, data: &[u8], contiguous: u64) {
        let job = Job::Data {
            offset,
            bytes: data.to_vec(),
            contiguous,
        };
        // A closed channel means the writer failed; its report is on the way.
        let _ = self.jobs.send(job);
    }

    /// Every byte was handed over: finish hashing, sync, report [`Report::Hashed`].
    pub(crate) fn complete(&self) {
        let _ = self.jobs.send(Job::Complete);
    }

    /// The core verified the hash: move the file into place, report [`Report::Stored`].
    pub(crate) fn commit(&self) {
        let _ = self.jobs.send(Job::Commit);
    }

    /// The transfer failed: remove the `.part` file.
    pub(crate) fn abort(&self) {
        let _ = self.jobs.send(Job::Abort);
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

struct Writer {
    key: TransferKey,
    dir: PathBuf,
    name: String,
    size: u64,
    part: PathBuf,
    file: File,
    hasher: blake3::Hasher,
    hashed: u64,
    reports: UnboundedSender<Report>,
}

impl Writer {
    fn run(mut self, jobs: Receiver<Job>) {
        while let Ok(job) = jobs.recv() {
            let done = match job {
                Job::Data {
                    offset,
                    bytes,
                    contiguous,
                } => self.data(offset, &bytes, contiguous).map(|()| false),
                Job::Complete => self.complete().map(|()| false),
                Job::Commit => self.commit().map(|()| true),
                Job::Abort => {
                    let _ = std::fs::remove_file(&self.part);
                    return;
                }
            };
            match done {
                Ok(false) => {}
                Ok(true) => return,
                Err(e) => {
                    let _ = std::fs::remove_file(&self.part);
                    let _ = self.reports.send(Report::Failed(self.key, e.to_string()));
                    return;
                }
            }
        }
        // The engine dropped us without a verdict: leave nothing behind.
        let _ = std::fs::remove_file(&self.part);
    }

    fn data(&mut self, offset: u64, bytes: &[u8], contiguous: u64) -> io::Result<()> {
        if offset + bytes.len() as u64 > self.size {
            return Err(io::Error::other("data past the announced size"));
        }
        self.file.write_all_at(bytes, offset)?;
        if offset == self.hashed {
            self.hasher.update(bytes);
            self.hashed += bytes.len() as u64;
        }
        self.hash_to(contiguous)
    }

    /// Hashes `hashed..upto` by reading it back (it is in the page cache).
    fn hash_to(&mut self, upto: u64) -> io::Result<()> {
        let mut buf = vec![0u8; 256 * 1024];
        while self.hashed < upto {
            let n = (upto - self.hashed).min(buf.len() as u64) as usize;
            self.file.read_exact_at(&mut buf[..n], self.hashed)?;
            self.hasher.update(&buf[..n]);
            self.hashed += n as u64;
        }
        Ok(())
    }

    fn complete(&mut self) -> io::Result<()> {
        self.hash_to(self.size)?;
        self.file.set_len(self.size)?;
        self.file.sync_all()?;
        let hash = *self.hasher.finalize().as_bytes();
        let _ = self.reports.send(Report::Hashed(self.key, hash));
        Ok(())
    }

    fn commit(&mut self) -> io::Result<()> {
        let path = place(&self.dir, &self.part, &self.name)?;
        std::fs::remove_file(&self.part)?;
        if let Ok(dir) = File::open(&self.dir) {
            let _ = dir.sync_all();
        }
        let _ = self.reports.send(Report::Stored(self.key, path));
        Ok(())
    }
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
