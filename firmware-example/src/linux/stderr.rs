//! Standard error: a `core::fmt::Write` sink, and a fixed line buffer so that one log
//! line reaches the file descriptor in one `write`.

use super::sys;

/// File descriptor 2, unbuffered.
pub(crate) struct Stderr;

impl core::fmt::Write for Stderr {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        sys::write_all(2, s.as_bytes()).map_err(|_| core::fmt::Error)
    }
}

/// Longest log line; a longer one is cut and ends in `…`.
const LINE: usize = 512;

/// One log line being formatted.
pub(crate) struct LineBuf {
    buf: [u8; LINE],
    len: usize,
    cut: bool,
}

impl LineBuf {
    /// An empty line.
    pub(crate) const fn new() -> LineBuf {
        LineBuf {
            buf: [0; LINE],
            len: 0,
            cut: false,
        }
    }

    /// Ends the line with a newline and writes it to stderr.
    pub(crate) fn finish(mut self) {
        if self.cut {
            self.len = LINE - 4;
            self.buf[self.len..LINE - 1].copy_from_slice("…".as_bytes());
            self.len = LINE - 1;
        }
        self.buf[self.len] = b'\n';
        let _ = sys::write_all(2, &self.buf[..=self.len]);
    }
}

impl core::fmt::Write for LineBuf {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let room = LINE - 1 - self.len;
        let take = s.len().min(room);
        self.buf[self.len..self.len + take].copy_from_slice(&s.as_bytes()[..take]);
        self.len += take;
        self.cut |= take < s.len();
        Ok(())
    }
}
