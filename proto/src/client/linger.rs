//! Peers kept across a re-login. A fresh server knows nobody until each client logs in
//! again, so the first list after our own re-login lacks the peers that are not back
//! yet. Dropping them would cut chat that works fine peer to peer (and reset one end of
//! each link while the other end keeps it), so a peer missing from that first list
//! lingers: it stays in the table, link and all, until it shows up again under the same
//! record, is replaced, or [`REJOIN_GRACE`] passes (then it is reported as left).

use heapless::Vec;

use crate::roster::PeerRecord;
use crate::time::{Duration, Instant};

/// How long a peer missing from the list after a re-login is kept: longer than a
/// client's reconnect backoff (10 s at most) plus its login.
pub const REJOIN_GRACE: Duration = Duration::from_secs(30);

/// Lingering peers with their deadlines, at most `N`.
#[derive(Debug, Clone)]
pub(super) struct Linger<const N: usize> {
    entries: Vec<(PeerRecord, Instant), N>,
}

impl<const N: usize> Linger<N> {
    pub(super) const fn new() -> Self {
        Linger {
            entries: Vec::new(),
        }
    }

    /// Keeps `record` until `until`.
    pub(super) fn insert(&mut self, record: PeerRecord, until: Instant) {
        self.forget(&record);
        // At most one entry per table entry: there is room.
        let _ = self.entries.push((record, until));
    }

    /// The peer is back (or replaced): no deadline any more.
    pub(super) fn forget(&mut self, record: &PeerRecord) {
        self.entries
            .retain(|(r, _)| r.id != record.id && r.name != record.name);
    }

    /// The earliest deadline.
    pub(super) fn next_deadline(&self) -> Option<Instant> {
        self.entries.iter().map(|(_, at)| *at).min()
    }

    /// A record whose deadline has passed, removed from the list.
    pub(super) fn take_expired(&mut self, now: Instant) -> Option<PeerRecord> {
        let i = self.entries.iter().position(|(_, at)| *at <= now)?;
        Some(self.entries.swap_remove(i).0)
    }
}
