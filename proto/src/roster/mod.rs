//! The client's replica of the directory.
//!
//! [`Roster`] owns the client's list of who is online: it applies snapshot pages and
//! `Joined`/`Left`/`Moved` deltas, keeps at most `N` peers (firmware uses 16), never
//! holds one peer twice (by id or by name), and decides when the replica can no longer
//! be trusted — a version gap, a change for a peer it does not know, a page out of
//! order — and the client must send `List` ([`Roster::poll_resync`]).
//!
//! **Snapshots and the replay window.** The server streams a snapshot's pages lazily,
//! each stamped with the directory version at the time it was built, and then sends
//! every delta after the first page's version. Deltas up to the last page's version may
//! already be reflected in the pages, so inside that window they are applied
//! idempotently (a `Left` for an unknown peer is not an error there); after it, strictly.

#[cfg(test)]
mod tests;

use heapless::Vec;

pub use crate::directory::PeerRecord;
use crate::names::user::same_name;
use crate::wire::{PeerId, PeerInfo, ServerMsg, SnapshotPage, WireAddr};

/// What changed in the list, for the user interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum RosterEvent {
    /// A peer came online.
    Joined(PeerRecord),
    /// A peer went offline (the record as it was).
    Left(PeerRecord),
    /// A peer's address changed.
    Moved(PeerRecord),
    /// A full snapshot arrived: the list was replaced; `iter()` has the new one.
    Synced {
        /// How many peers the list holds now.
        count: usize,
        /// How many more are online but did not fit (0 unless the roster is full).
        missing: usize,
    },
}

/// Why the roster asks for a fresh snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Resync {
    /// A delta skipped versions.
    Gap {
        /// The version the roster expected.
        expected: u64,
        /// The version that arrived.
        got: u64,
    },
    /// A delta named a peer the roster does not hold.
    UnknownPeer(PeerId),
    /// A snapshot page arrived out of order.
    PageOrder,
    /// A peer left while others did not fit: there is room for them now.
    Room,
}

impl core::fmt::Display for Resync {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Resync::Gap { expected, got } => {
                write!(f, "directory version gap: expected {expected}, got {got}")
            }
            Resync::UnknownPeer(id) => write!(f, "change for unknown peer {}", id.0),
            Resync::PageOrder => f.write_str("snapshot page out of order"),
            Resync::Room => f.write_str("room for peers that did not fit"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// No snapshot yet, or one was asked for: deltas are ignored until page 0.
    Waiting,
    /// Pages are arriving; `next` is the expected page number.
    Building { base: u64, next: u32 },
    /// The list is current as of `applied`.
    Synced,
}

/// One change a numbered delta brings. (A value, not a closure: one `apply_delta` is
/// linked, not one per kind of change.)
enum Delta<'m> {
    Joined(&'m PeerInfo<'m>),
    Left(PeerId),
    Moved(PeerId, WireAddr),
}

/// The client's list of online peers, at most `N` of them.
#[derive(Debug, Clone)]
pub struct Roster<const N: usize> {
    peers: Vec<PeerRecord, N>,
    state: State,
    applied: u64,
    lenient_until: u64,
    missing: usize,
    resync: Option<Resync>,
}

impl<const N: usize> Default for Roster<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> Roster<N> {
    /// An empty roster waiting for its first snapshot.
    pub const fn new() -> Self {
        Roster {
            peers: Vec::new(),
            state: State::Waiting,
            applied: 0,
            lenient_until: 0,
            missing: 0,
            resync: None,
        }
    }

    /// Applies one server message (anything but `Snapshot`, `Joined`, `Left` and
    /// `Moved` is ignored) and says what changed. Then check [`Roster::poll_resync`].
    pub fn apply(&mut self, msg: &ServerMsg<'_>) -> Option<RosterEvent> {
        match msg {
            ServerMsg::Snapshot(page) => self.apply_page(page),
            ServerMsg::Joined { version, peer } => self.apply_delta(*version, Delta::Joined(peer)),
            ServerMsg::Left { version, id } => self.apply_delta(*version, Delta::Left(*id)),
            ServerMsg::Moved { version, id, addr } => {
                self.apply_delta(*version, Delta::Moved(*id, *addr))
            }
            _ => None,
        }
    }

    /// Whether the client must send `List` now, and why. Returns each request once;
    /// deltas are ignored until the snapshot's first page arrives.
    #[must_use]
    pub fn poll_resync(&mut self) -> Option<Resync> {
        self.resync.take()
    }

    /// Forgets everything (after a disconnect): the next snapshot starts afresh.
    pub fn reset(&mut self) {
        *self = Self::new();
    }

    /// Whether the list is complete and current (a snapshot finished, no gap since).
    pub fn is_synced(&self) -> bool {
        self.state == State::Synced
    }

    /// The directory version the list reflects.
    pub fn version(&self) -> u64 {
        self.applied
    }

    /// Peers online that did not fit in `N`.
    pub fn missing(&self) -> usize {
        self.missing
    }

    /// How many peers the list holds.
    pub fn len(&self) -> usize {
        self.peers.len()
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.peers.is_empty()
    }

    /// Every peer, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = &PeerRecord> + '_ {
        self.peers.iter()
    }

    /// The peer with this id.
    pub fn get(&self, id: PeerId) -> Option<&PeerRecord> {
        self.peers.iter().find(|p| p.id == id)
    }

    /// The peer logged in as `name` (case-insensitively).
    pub fn find(&self, name: &str) -> Option<&PeerRecord> {
        self.peers.iter().find(|p| same_name(p.name.as_str(), name))
    }

    fn apply_page(&mut self, page: &SnapshotPage<'_>) -> Option<RosterEvent> {
        let base = match self.state {
            _ if page.page == 0 => {
                self.peers.clear();
                self.missing = 0;
                page.version
            }
            State::Building { base, next } if next == page.page => base,
            State::Waiting => return None, // the tail of a snapshot we gave up on
            _ => return self.ask(Resync::PageOrder),
        };
        for info in &page.peers {
            self.upsert(info);
        }
        if !page.last {
            self.state = State::Building {
                base,
                next: page.page.saturating_add(1),
            };
            return None;
        }
        self.state = State::Synced;
        self.applied = base;
        self.lenient_until = page.version;
        Some(RosterEvent::Synced {
            count: self.peers.len(),
            missing: self.missing,
        })
    }

    fn apply_delta(&mut self, version: u64, delta: Delta<'_>) -> Option<RosterEvent> {
        if self.state != State::Synced || version <= self.applied {
            return None; // waiting for a snapshot, or a stale duplicate
        }
        let expected = self.applied + 1;
        if version != expected {
            return self.ask(Resync::Gap {
                expected,
                got: version,
            });
        }
        self.applied = version;
        let changed = match delta {
            Delta::Joined(info) => self.joined(info),
            Delta::Left(id) => self.left(id),
            Delta::Moved(id, addr) => self.moved(id, addr),
        };
        match changed {
            Ok(event) => event,
            Err(_) if version <= self.lenient_until => None,
            Err(_) if self.missing > 0 => {
                // Most likely one of the peers that did not fit.
                self.missing -= 1;
                None
            }
            Err(id) => self.ask(Resync::UnknownPeer(id)),
        }
    }

    fn joined(&mut self, info: &PeerInfo<'_>) -> Result<Option<RosterEvent>, PeerId> {
        let known = self.get(info.id).copied();
        let record = self.upsert(info);
        Ok(match (known, record) {
            (None, Some(r)) => Some(RosterEvent::Joined(r)),
            (Some(old), Some(r)) if old.addr != r.addr => Some(RosterEvent::Moved(r)),
            _ => None,
        })
    }

    fn left(&mut self, id: PeerId) -> Result<Option<RosterEvent>, PeerId> {
        let index = self.peers.iter().position(|p| p.id == id).ok_or(id)?;
        let record = self.peers.swap_remove(index);
        if self.missing > 0 {
            self.resync = Some(Resync::Room);
            self.state = State::Waiting;
        }
        Ok(Some(RosterEvent::Left(record)))
    }

    fn moved(&mut self, id: PeerId, addr: WireAddr) -> Result<Option<RosterEvent>, PeerId> {
        let peer = self.peers.iter_mut().find(|p| p.id == id).ok_or(id)?;
        if peer.addr == addr {
            return Ok(None);
        }
        peer.addr = addr;
        Ok(Some(RosterEvent::Moved(*peer)))
    }

    /// Inserts or updates a peer by id; a different id with the same name is replaced
    /// (the newer login wins). Returns the stored record, `None` if it did not fit or
    /// its name is invalid.
    fn upsert(&mut self, info: &PeerInfo<'_>) -> Option<PeerRecord> {
        let record = PeerRecord::from_info(info)?;
        let mut at = None;
        let mut i = 0;
        while i < self.peers.len() {
            let p = &self.peers[i];
            if p.id == record.id {
                at = Some(i);
                i += 1;
            } else if same_name(p.name.as_str(), info.name) {
                self.peers.swap_remove(i); // the element moved into `i` is checked next
            } else {
                i += 1;
            }
        }
        if let Some(i) = at {
            self.peers[i] = record;
        } else if self.peers.push(record).is_err() {
            self.missing += 1;
            return None;
        }
        Some(record)
    }

    fn ask(&mut self, why: Resync) -> Option<RosterEvent> {
        self.resync = Some(why);
        self.state = State::Waiting;
        None
    }
}
