//! The device's answers, written into fixed buffers: `echo: <text>` for a direct
//! message, and `received <name>: <n> bytes, blake3 <hex>` for a file.

/// Largest reply the device writes (longer echoes are cut at a character boundary and
/// end in `…`).
pub const REPLY_CAP: usize = 1024;

const ELLIPSIS: &str = "…";

/// A reply being built in a fixed buffer.
pub struct Reply {
    buf: heapless::String<REPLY_CAP>,
}

impl Default for Reply {
    fn default() -> Self {
        Self::new()
    }
}

impl Reply {
    /// An empty reply.
    pub const fn new() -> Reply {
        Reply {
            buf: heapless::String::new(),
        }
    }

    /// The reply text.
    pub fn as_str(&self) -> &str {
        &self.buf
    }

    /// Builds `echo: <text>`, cutting `text` if the whole does not fit.
    pub fn echo(&mut self, text: &str) -> &str {
        self.buf.clear();
        self.push_cut("echo: ");
        self.push_cut(text);
        &self.buf
    }

    /// Builds `received <name>: <len> bytes, blake3 <64 hex digits>`.
    pub fn file_received(&mut self, name: &str, len: usize, hash: &[u8; 32]) -> &str {
        self.buf.clear();
        self.push_cut("received ");
        self.push_cut(name);
        // The name is at most 255 bytes, so the tail (under 100 bytes) still fits. Digits
        // are written by hand: `core::fmt` would cost the image about 1 KiB of code.
        let _ = self.buf.push_str(": ");
        self.push_decimal(len);
        let _ = self.buf.push_str(" bytes, blake3 ");
        for byte in hash {
            let _ = self.buf.push(hex_digit(byte >> 4));
            let _ = self.buf.push(hex_digit(byte & 0xf));
        }
        &self.buf
    }

    /// Appends `n` in decimal.
    fn push_decimal(&mut self, mut n: usize) {
        let mut digits = [0u8; 20];
        let mut start = digits.len();
        loop {
            start -= 1;
            // `n % 10` is below 10, so the cast keeps it.
            digits[start] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        for &d in &digits[start..] {
            let _ = self.buf.push(char::from(d));
        }
    }

    /// Appends `s`, or as much of it as fits followed by `…`.
    fn push_cut(&mut self, s: &str) {
        if self.buf.push_str(s).is_ok() {
            return;
        }
        let room = REPLY_CAP - self.buf.len() - ELLIPSIS.len();
        let mut cut = room.min(s.len());
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        // Both pushes fit: `cut + ELLIPSIS` is at most the room left.
        let _ = self.buf.push_str(&s[..cut]);
        let _ = self.buf.push_str(ELLIPSIS);
    }
}

/// The lower-case hex digit of `nibble` (below 16).
fn hex_digit(nibble: u8) -> char {
    char::from(b"0123456789abcdef"[usize::from(nibble & 0xf)])
}

#[cfg(test)]
mod tests;
