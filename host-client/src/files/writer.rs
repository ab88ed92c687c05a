//! The writer thread of one incoming file: writes each [`Batch`] with one `pwrite` into
//! the `.part` file, hashes the contiguous prefix as it grows (from the batch in memory
//! when it continues the prefix, otherwise by reading the file back in large blocks from
//! the page cache), has what it wrote synced early ([`super::early_sync`]), and on the
//! engine's word syncs, places or removes the file.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, Sender};

use peerchat_proto::transfer::TransferKey;
use tokio::sync::mpsc::UnboundedSender;

use super::early_sync::EarlySync;
use super::stage::Batch;
use super::store::{place, Report};

/// Bytes read back per read when hashing what was written out of order.
const READBACK: usize = 1 << 20;

/// Work for the writer thread, in order.
pub(super) enum Job {
    /// Write these bytes (and give the buffer back).
    Data(Batch),
    /// Every byte was handed over: finish hashing, sync, report [`Report::Hashed`].
    Complete,
    /// Verified: move the file into place, report [`Report::Stored`].
    Commit,
    /// Failed: remove the `.part` file.
    Abort,
}

pub(super) struct Writer {
    pub(super) key: TransferKey,
    pub(super) dir: PathBuf,
    pub(super) name: String,
    pub(super) size: u64,
    pub(super) part: PathBuf,
    pub(super) file: File,
    pub(super) hasher: blake3::Hasher,
    /// `0..hashed` has gone into `hasher`.
    pub(super) hashed: u64,
    pub(super) reports: UnboundedSender<Report>,
    /// Emptied batch buffers go back to the engine's pool here.
    pub(super) returns: Sender<Vec<u8>>,
    /// Reused for reading back (allocated on first use).
    pub(super) readback: Vec<u8>,
    /// Syncs written data while the transfer goes on.
    pub(super) early: EarlySync,
}

impl Writer {
    pub(super) fn run(mut self, jobs: Receiver<Job>) {
        if let Err(e) = reserve(&self.file, self.size) {
            let _ = std::fs::remove_file(&self.part);
            let _ = self.reports.send(Report::Failed(self.key, e.to_string()));
            return;
        }
        while let Ok(job) = jobs.recv() {
            let done = match job {
                Job::Data(batch) => self.data(batch).map(|()| false),
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

    /// Writes one batch, hashes what it can, and returns the buffer.
    pub(super) fn data(&mut self, mut batch: Batch) -> io::Result<()> {
        let result = self.write_and_hash(&batch);
        batch.bytes.clear();
        // The engine may be gone already; then the buffer is simply freed.
        let _ = self.returns.send(batch.bytes);
        result
    }

    fn write_and_hash(&mut self, batch: &Batch) -> io::Result<()> {
        let (offset, bytes) = (batch.offset, &batch.bytes[..]);
        let end = offset + bytes.len() as u64;
        if end > self.size {
            return Err(io::Error::other("data past the announced size"));
        }
        self.file.write_all_at(bytes, offset)?;
        self.early.wrote(&self.file, bytes.len() as u64)?;
        let upto = batch.hash_upto.min(self.size);
        if self.hashed >= upto {
            return Ok(());
        }
        // Written earlier, before this batch: read back.
        self.hash_back(upto.min(offset))?;
        // This batch, straight from memory.
        if (offset..end).contains(&self.hashed) {
            let to = upto.min(end);
            let from = (self.hashed - offset) as usize;
            self.hasher.update(&bytes[from..(to - offset) as usize]);
            self.hashed = to;
        }
        // Written earlier, after this batch: read back.
        self.hash_back(upto)
    }

    /// Hashes `hashed..upto` by reading it back (it is in the page cache).
    fn hash_back(&mut self, upto: u64) -> io::Result<()> {
        if self.hashed >= upto {
            return Ok(());
        }
        if self.readback.is_empty() {
            self.readback = vec![0u8; READBACK];
        }
        while self.hashed < upto {
            let n = (upto - self.hashed).min(READBACK as u64) as usize;
            let buf = &mut self.readback[..n];
            self.file.read_exact_at(buf, self.hashed)?;
            self.hasher.update(buf);
            self.hashed += n as u64;
        }
        Ok(())
    }

    pub(super) fn complete(&mut self) -> io::Result<()> {
        self.hash_back(self.size)?;
        self.early.finish()?;
        self.file.set_len(self.size)?;
        self.file.sync_all()?;
        let hash = *self.hasher.finalize().as_bytes();
        let _ = self.reports.send(Report::Hashed(self.key, hash));
        Ok(())
    }

    fn commit(&mut self) -> io::Result<()> {
        let path = place(&self.dir, &self.part, &self.name)?;
        if let Err(e) = std::fs::remove_file(&self.part) {
            // A failure leaves no file in place.
            let _ = std::fs::remove_file(&path);
            return Err(e);
        }
        if let Ok(dir) = File::open(&self.dir) {
            let _ = dir.sync_all();
        }
        let _ = self.reports.send(Report::Stored(self.key, path));
        Ok(())
    }
}

/// Gives the `.part` file its full size before any data arrives: disk space is
/// allocated once (a disk without room for the file fails the transfer now, not
/// half-way), and the writes that follow neither extend the file nor allocate blocks
/// page by page, which costs several times the copy on ext4. Where the file system
/// cannot allocate ahead, the file is only extended.
fn reserve(file: &File, size: u64) -> io::Result<()> {
    if size == 0 {
        return Ok(());
    }
    #[cfg(any(target_os = "linux", target_os = "android"))]
    match rustix::fs::fallocate(file, rustix::fs::FallocateFlags::empty(), 0, size) {
        Ok(()) => return Ok(()),
        Err(e) if e == rustix::io::Errno::NOSPC => return Err(e.into()),
        Err(_) => {}
    }
    file.set_len(size)
}
