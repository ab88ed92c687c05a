//! Putting the change stream in order.
//!
//! Every change the store records carries the next number of one cluster-wide sequence
//! (1, 2, 3, …, no holes). A server applies changes strictly in that order, on top of a
//! presence set it loaded as of some sequence number. [`ChangeFeed`] is the gatekeeper:
//!
//! - a change at or below the last applied number was applied already (a duplicate, or
//!   one the loaded set already reflects): dropped;
//! - the next number: applied at once, then every held change that follows it;
//! - a later number: there is a **gap**. The change is held (at most [`REORDER`] of
//!   them) in case the missing ones are only late. If the gap is not filled within the
//!   grace period, or the holding room overflows, the feed asks for a **resync**: the
//!   server loads the whole presence set and its sequence number again, and the feed
//!   continues after it ([`ChangeFeed::handle_snapshot`]). Changes the stream still
//!   delivers after that point are applied; older ones are dropped.
//! - the store's own last number, when the server learns it
//!   ([`ChangeFeed::handle_head`], from every sweep): if it is ahead of what was
//!   applied, the changes in between are missing — a gap as well, even if no later
//!   change ever comes to reveal it (the last changes were lost, or the reader stalled).
//!
//! Before the first presence set (and after [`ChangeFeed::reset`], when the store was
//! lost and may have been replaced by an empty one) nothing is applied: changes are held
//! until a presence set says where the sequence stands.

use super::Change;
use crate::time::{Duration, Instant};

/// How many early changes the feed holds while it waits for a gap to fill.
pub const REORDER: usize = 32;

/// Why the server must load the presence set again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Reload {
    /// No presence set was loaded yet (start, or the store came back).
    Start,
    /// A hole in the sequence was not filled in time.
    Gap {
        /// The number that never came.
        expected: u64,
        /// The first number after the hole.
        got: u64,
    },
    /// More early changes arrived than can be held.
    Overflow,
    /// The store's epoch (set when its keys are first written) changed: it lost its
    /// data, or it is another store, and numbers its changes afresh.
    NewEpoch,
}

impl core::fmt::Display for Reload {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Reload::Start => f.write_str("no presence set loaded yet"),
            Reload::Gap { expected, got } => {
                write!(f, "change {expected} missing (got {got})")
            }
            Reload::Overflow => f.write_str("too many changes after a gap"),
            Reload::NewEpoch => f.write_str("the store started over (new epoch)"),
        }
    }
}

/// The in-order gate of one server's change stream.
#[derive(Debug, Clone)]
pub struct ChangeFeed {
    /// The last applied sequence number; `None` until a presence set was loaded.
    applied: Option<u64>,
    held: [Option<Change>; REORDER],
    /// The highest sequence number known to exist (held changes, the store's head).
    known: u64,
    /// When the current gap opened.
    gap_since: Option<Instant>,
    grace: Duration,
    resync: Option<Reload>,
    duplicates: u64,
}

impl ChangeFeed {
    /// A feed that waits for its first presence set; a gap may wait `grace` to fill.
    pub const fn new(grace: Duration) -> Self {
        ChangeFeed {
            applied: None,
            held: [None; REORDER],
            known: 0,
            gap_since: None,
            grace,
            resync: Some(Reload::Start),
            duplicates: 0,
        }
    }

    /// The last applied sequence number (`None` before the first presence set).
    pub fn applied(&self) -> Option<u64> {
        self.applied
    }

    /// Changes dropped because they were applied already.
    pub fn duplicates(&self) -> u64 {
        self.duplicates
    }

    /// A change read from the stream. Returns it if it is the one to apply now; then
    /// apply it and drain [`ChangeFeed::poll_next`]. Otherwise it is held or dropped.
    #[must_use]
    pub fn handle_change(&mut self, now: Instant, change: Change) -> Option<Change> {
        let Some(applied) = self.applied else {
            self.hold(change);
            return None;
        };
        if change.seq <= applied {
            self.duplicates += 1;
            return None;
        }
        if change.seq == applied + 1 {
            self.applied = Some(change.seq);
            return Some(change);
        }
        if !self.hold(change) {
            self.resync.get_or_insert(Reload::Overflow);
        }
        self.known = self.known.max(change.seq);
        self.gap_since.get_or_insert(now);
        None
    }

    /// The store's last change number was `head` (when it was read): changes up to it
    /// must come. A head below what was applied says nothing: it was read before the
    /// changes applied since (a store that lost its data shows a new epoch instead).
    pub fn handle_head(&mut self, now: Instant, head: u64) {
        let Some(applied) = self.applied else {
            return;
        };
        if head > applied {
            self.known = self.known.max(head);
            self.gap_since.get_or_insert(now);
        }
    }

    /// The next held change that is now in order, if any.
    #[must_use]
    pub fn poll_next(&mut self) -> Option<Change> {
        let applied = self.applied?;
        let mut next = None;
        for slot in &mut self.held {
            match slot {
                Some(c) if c.seq <= applied => *slot = None,
                Some(c) if c.seq == applied + 1 => next = slot.take(),
                _ => {}
            }
        }
        match next {
            Some(change) => {
                self.applied = Some(change.seq);
                Some(change)
            }
            None => {
                if applied >= self.known {
                    self.gap_since = None;
                }
                None
            }
        }
    }

    /// The presence set as of `seq` is applied: continue after it. (It may be lower
    /// than before: a store that lost its data starts its sequence again.)
    pub fn handle_snapshot(&mut self, now: Instant, seq: u64) {
        self.applied = Some(seq);
        self.resync = None;
        self.gap_since = None;
        for slot in &mut self.held {
            if slot.is_some_and(|c| c.seq <= seq) {
                *slot = None;
            }
        }
        // Changes held beyond the set come next; a head from the old numbering of a
        // store that started again counts no more.
        self.known = self
            .held
            .iter()
            .flatten()
            .map(|c| c.seq)
            .max()
            .unwrap_or(seq);
        if self.known > seq {
            self.gap_since = Some(now);
        }
    }

    /// The store was lost: nothing is applied until the next presence set, and changes
    /// held from the old store are forgotten (a new one numbers its changes afresh).
    pub fn reset(&mut self) {
        self.applied = None;
        self.held = [None; REORDER];
        self.known = 0;
        self.gap_since = None;
        self.resync = Some(Reload::Start);
    }

    /// When a gap has waited long enough.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.gap_since.map(|t| t + self.grace)
    }

    /// Checks the gap deadline.
    pub fn handle_timeout(&mut self, now: Instant) {
        let (Some(at), Some(applied)) = (self.poll_timeout(), self.applied) else {
            return;
        };
        if now >= at {
            self.gap_since = None;
            let got = self.held.iter().flatten().map(|c| c.seq).min();
            self.resync.get_or_insert(Reload::Gap {
                expected: applied + 1,
                got: got.unwrap_or(self.known),
            });
        }
    }

    /// Whether the presence set must be loaded again, and why (each request once).
    #[must_use]
    pub fn poll_resync(&mut self) -> Option<Reload> {
        self.resync.take()
    }

    /// Holds an early change; `false` if there is no room (it is dropped).
    fn hold(&mut self, change: Change) -> bool {
        if self.held.iter().flatten().any(|c| c.seq == change.seq) {
            self.duplicates += 1;
            return true;
        }
        match self.held.iter_mut().find(|s| s.is_none()) {
            Some(slot) => {
                *slot = Some(change);
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests;
