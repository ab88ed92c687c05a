//! Read-ahead for the sending side. Chunks go out mostly in order, 1200 bytes at a
//! time; reading each with its own `pread` costs a system call per datagram. A
//! [`ReadCache`] reads an aligned block ([`BLOCK`] bytes) with one `pread` and serves
//! the chunks inside it with a copy. A chunk behind the block (a retransmission) is read
//! directly, so it does not throw away the block the new chunks come from.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

/// Bytes read ahead at once.
pub(super) const BLOCK: usize = 1 << 20;

/// One aligned block of a file; see the module documentation.
#[derive(Default)]
pub(super) struct ReadCache {
    /// File offset of `buf[0]` (a multiple of [`BLOCK`]).
    start: u64,
    /// [`BLOCK`] bytes once allocated; `buf[..len]` holds the file's bytes.
    buf: Vec<u8>,
    /// Bytes read (fewer than [`BLOCK`] at the end of the file).
    len: usize,
    /// Blocks read so far (for tests).
    #[cfg(test)]
    pub(super) loads: usize,
}

impl ReadCache {
    /// Fills `dst` with the file's bytes at `offset`. Fails if the file ends before
    /// `offset + dst.len()` (it shrank since it was offered) or cannot be read.
    pub(super) fn read(&mut self, file: &File, offset: u64, dst: &mut [u8]) -> io::Result<()> {
        let (mut offset, mut dst) = (offset, dst);
        while !dst.is_empty() {
            let n = self.copy_out(offset, dst);
            if n > 0 {
                offset += n as u64;
                dst = &mut dst[n..];
                continue;
            }
            if self.len > 0 && offset < self.start {
                // Behind the read-ahead: a retransmission.
                return file.read_exact_at(dst, offset);
            }
            self.load(file, offset - offset % BLOCK as u64)?;
            if !self.holds(offset) {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the file is shorter than when it was offered",
                ));
            }
        }
        Ok(())
    }

    fn holds(&self, offset: u64) -> bool {
        offset >= self.start && offset - self.start < self.len as u64
    }

    /// Copies what the block holds from `offset` on; how many bytes.
    fn copy_out(&self, offset: u64, dst: &mut [u8]) -> usize {
        if !self.holds(offset) {
            return 0;
        }
        let from = (offset - self.start) as usize;
        let n = dst.len().min(self.len - from);
        dst[..n].copy_from_slice(&self.buf[from..from + n]);
        n
    }

    /// Reads the block at `start` (as much of it as the file has).
    fn load(&mut self, file: &File, start: u64) -> io::Result<()> {
        #[cfg(test)]
        {
            self.loads += 1;
        }
        if self.buf.is_empty() {
            self.buf = vec![0; BLOCK];
        }
        self.len = 0;
        let mut got = 0;
        while got < BLOCK {
            match file.read_at(&mut self.buf[got..], start + got as u64) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        self.len = got;
        self.start = start;
        Ok(())
    }
}
