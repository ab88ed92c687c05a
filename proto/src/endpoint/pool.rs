//! The endpoint's pool of texts waiting for acknowledgement.
//!
//! Up to `E` texts in `T` bytes, shared by every link of the endpoint: a message sent to
//! everyone online is stored once and referenced by each peer's link. Space is handed out
//! from the end; when the end is reached, live texts are moved down over freed ones.

use crate::link::{TextRef, Texts};

#[derive(Debug, Clone, Copy, Default)]
struct Entry {
    off: usize,
    len: usize,
    refs: u16,
}

/// `E` texts in `T` bytes.
pub(crate) struct TextPool<const E: usize, const T: usize> {
    entries: [Entry; E],
    buf: [u8; T],
    end: usize,
}

impl<const E: usize, const T: usize> TextPool<E, T> {
    /// An empty pool.
    pub(crate) const fn new() -> Self {
        TextPool {
            entries: [Entry {
                off: 0,
                len: 0,
                refs: 0,
            }; E],
            buf: [0; T],
            end: 0,
        }
    }

    /// Whether a text of `len` bytes would fit now.
    pub(crate) fn fits(&self, len: usize) -> bool {
        self.entries.iter().any(|e| e.refs == 0) && self.live_bytes() + len <= T
    }

    /// Stores `text` for `refs` links (at least 1); `None` when full.
    pub(crate) fn insert(&mut self, text: &str, refs: u16) -> Option<TextRef> {
        if !self.fits(text.len()) || refs == 0 {
            return None;
        }
        if self.end + text.len() > T {
            self.compact();
        }
        let index = self.entries.iter().position(|e| e.refs == 0)?;
        let off = self.end;
        self.buf[off..off + text.len()].copy_from_slice(text.as_bytes());
        self.end += text.len();
        self.entries[index] = Entry {
            off,
            len: text.len(),
            refs,
        };
        u16::try_from(index).ok().map(TextRef)
    }

    fn live_bytes(&self) -> usize {
        self.entries
            .iter()
            .filter(|e| e.refs > 0)
            .map(|e| e.len)
            .sum()
    }

    /// Moves every live text down so that free space is one run at the end.
    fn compact(&mut self) {
        let mut to = 0;
        loop {
            // Next live entry at or above `to`, lowest offset first (E is small).
            let next = (0..E)
                .filter(|&i| {
                    let e = self.entries[i];
                    e.refs > 0 && e.len > 0 && e.off >= to
                })
                .min_by_key(|&i| self.entries[i].off);
            let Some(i) = next else { break };
            let Entry { off, len, .. } = self.entries[i];
            self.buf.copy_within(off..off + len, to);
            self.entries[i].off = to;
            to += len;
        }
        self.end = to;
    }
}

impl<const E: usize, const T: usize> Texts for TextPool<E, T> {
    fn bytes(&self, text: TextRef) -> &[u8] {
        match self.entries.get(usize::from(text.0)) {
            Some(e) if e.refs > 0 => &self.buf[e.off..e.off + e.len],
            _ => &[],
        }
    }

    fn release(&mut self, text: TextRef) {
        if let Some(e) = self.entries.get_mut(usize::from(text.0)) {
            e.refs = e.refs.saturating_sub(1);
            if e.refs == 0 && e.off + e.len == self.end {
                self.end = e.off;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_releases_and_compacts() {
        let mut pool = TextPool::<4, 10>::new();
        let a = pool.insert("aaaa", 2).unwrap();
        let b = pool.insert("bbbb", 1).unwrap();
        assert!(pool.insert("ccc", 1).is_none(), "only 2 bytes left");
        pool.release(a);
        assert_eq!(pool.bytes(a), b"aaaa", "still referenced once");
        pool.release(a);
        assert_eq!(pool.bytes(a), b"");
        let c = pool.insert("cccccc", 1).unwrap();
        assert_eq!(pool.bytes(b), b"bbbb");
        assert_eq!(pool.bytes(c), b"cccccc");
        assert!(!pool.fits(1));
    }

    #[test]
    fn entry_table_bounds_the_count() {
        let mut pool = TextPool::<2, 100>::new();
        assert!(pool.insert("a", 1).is_some());
        assert!(pool.insert("b", 1).is_some());
        assert!(pool.insert("c", 1).is_none());
    }
}
