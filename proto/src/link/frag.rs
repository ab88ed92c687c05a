//! Splitting a text into chat fragments and putting the fragments back together.
//!
//! A text is split greedily: every fragment is the longest prefix of what is left that
//! fits in [`MAX_CHAT_FRAGMENT`] bytes and ends on a UTF-8 character boundary, so every
//! fragment is valid UTF-8 on its own. The split is a pure function of the text, which
//! lets a sender recompute fragment `i` when it retransmits instead of storing offsets.

use core::ops::Range;

use crate::wire::{MAX_CHAT_FRAGMENT, MAX_FRAGMENTS};

/// True when `byte` starts a UTF-8 character (is not a continuation byte).
const fn is_char_start(byte: u8) -> bool {
    byte & 0xC0 != 0x80
}

/// Length of the longest prefix of `text` (valid UTF-8) that fits in `max` bytes and ends
/// on a character boundary.
fn prefix_len(text: &[u8], max: usize) -> usize {
    if text.len() <= max {
        return text.len();
    }
    let mut end = max;
    // A UTF-8 character is at most 4 bytes, so this walks back at most 3 bytes; `end`
    // reaches 0 only for text that is not UTF-8, which then yields an empty prefix.
    while end > 0 && !is_char_start(text[end]) {
        end -= 1;
    }
    end
}

/// Number of fragments `text` splits into (1 for a short or empty text).
pub(crate) fn fragment_count(text: &[u8]) -> usize {
    let mut count = 0;
    let mut at = 0;
    loop {
        let len = prefix_len(&text[at..], MAX_CHAT_FRAGMENT);
        count += 1;
        at += len;
        if at >= text.len() || len == 0 {
            return count;
        }
    }
}

/// Byte range of fragment `index` of `text`; empty past the end.
pub(crate) fn fragment_range(text: &[u8], index: usize) -> Range<usize> {
    let mut at = 0;
    for _ in 0..index {
        at += prefix_len(&text[at..], MAX_CHAT_FRAGMENT);
    }
    at..at + prefix_len(&text[at..], MAX_CHAT_FRAGMENT)
}

/// Why a fragment could not be stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum InsertError {
    /// The message would not fit in the reassembly buffer.
    TooLarge,
    /// The fragment disagrees with the ones already stored (count or index).
    Inconsistent,
}

/// One message being put back together, with a fixed buffer of `B` bytes.
///
/// Fragments are kept in index order as they arrive (a later one shifts the tail), so a
/// complete message is one contiguous UTF-8 text with no second buffer.
pub(crate) struct Reassembly<const B: usize> {
    buf: [u8; B],
    len: usize,
    lens: [u16; MAX_FRAGMENTS],
    received: u16,
    count: u8,
    to_all: bool,
    in_use: bool,
}

impl<const B: usize> Reassembly<B> {
    /// An empty buffer.
    pub(crate) const fn new() -> Self {
        Reassembly {
            buf: [0; B],
            len: 0,
            lens: [0; MAX_FRAGMENTS],
            received: 0,
            count: 0,
            to_all: false,
            in_use: false,
        }
    }

    /// Whether a link is using this buffer.
    pub(crate) const fn in_use(&self) -> bool {
        self.in_use
    }

    /// Takes the buffer for a message of `count` fragments.
    pub(crate) fn claim(&mut self, count: u8, to_all: bool) {
        self.in_use = true;
        self.len = 0;
        self.received = 0;
        self.count = count;
        self.to_all = to_all;
    }

    /// Gives the buffer back.
    pub(crate) fn release(&mut self) {
        self.in_use = false;
        self.len = 0;
        self.received = 0;
        self.count = 0;
    }

    /// Bitmap of the fragments received so far (bit `i` = fragment `i`).
    pub(crate) const fn received(&self) -> u16 {
        self.received
    }

    /// Fragments of the message.
    pub(crate) const fn count(&self) -> u8 {
        self.count
    }

    /// Whether every fragment is here.
    pub(crate) fn is_complete(&self) -> bool {
        self.count > 0 && u32::from(self.received) == (1u32 << self.count) - 1
    }

    /// Whether the message was sent to everyone online.
    pub(crate) const fn to_all(&self) -> bool {
        self.to_all
    }

    /// Stores fragment `index` of `count`; `Ok(false)` if it was already here.
    pub(crate) fn insert(&mut self, index: u8, count: u8, text: &str) -> Result<bool, InsertError> {
        if count != self.count || index >= count {
            return Err(InsertError::Inconsistent);
        }
        let bit = 1u16 << index;
        if self.received & bit != 0 {
            return Ok(false);
        }
        let bytes = text.as_bytes();
        if self.len + bytes.len() > B {
            return Err(InsertError::TooLarge);
        }
        let at: usize = (0..usize::from(index))
            .filter(|i| self.received & (1 << i) != 0)
            .map(|i| usize::from(self.lens[i]))
            .sum();
        self.buf.copy_within(at..self.len, at + bytes.len());
        self.buf[at..at + bytes.len()].copy_from_slice(bytes);
        self.len += bytes.len();
        // A fragment is at most MAX_CHAT_FRAGMENT (< u16::MAX) bytes: the decoder checks it.
        self.lens[usize::from(index)] = u16::try_from(bytes.len()).unwrap_or(u16::MAX);
        self.received |= bit;
        Ok(true)
    }

    /// The whole text once complete (empty otherwise).
    pub(crate) fn text(&self) -> &str {
        if !self.is_complete() {
            return "";
        }
        // Every fragment is a whole-character UTF-8 string stored in index order, and
        // a concatenation of UTF-8 strings is UTF-8: this cannot fail.
        core::str::from_utf8(&self.buf[..self.len]).unwrap_or("")
    }
}
