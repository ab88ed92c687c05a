//! The node's table of peers it can talk to: a mirror of the roster (ourselves left
//! out) that is exactly the endpoint's peer table, and that survives while the server is
//! away. Recently departed peers are remembered briefly so late `delivered`/`failed`
//! events can still name them.

use heapless::{Deque, Vec};

use crate::names::user::{same_name, UserName};
use crate::roster::PeerRecord;
use crate::wire::PeerId;

/// At most `N` peers, unique by id and by name.
#[derive(Debug, Clone)]
pub(super) struct Peers<const N: usize> {
    live: Vec<PeerRecord, N>,
    /// The last `N` peers removed, to name their late `delivered`/`failed` events.
    departed: Deque<PeerRecord, N>,
}

impl<const N: usize> Peers<N> {
    pub(super) const fn new() -> Self {
        Peers {
            live: Vec::new(),
            departed: Deque::new(),
        }
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = &PeerRecord> + '_ {
        self.live.iter()
    }

    pub(super) fn is_empty(&self) -> bool {
        self.live.is_empty()
    }

    pub(super) fn get(&self, index: usize) -> Option<&PeerRecord> {
        self.live.get(index)
    }

    pub(super) fn by_id(&self, id: PeerId) -> Option<&PeerRecord> {
        self.live.iter().find(|p| p.id == id)
    }

    pub(super) fn by_name(&self, name: &str) -> Option<&PeerRecord> {
        self.live.iter().find(|p| same_name(p.name.as_str(), name))
    }

    /// The name of a live or recently departed peer.
    pub(super) fn name_of(&self, id: PeerId) -> Option<UserName> {
        self.by_id(id)
            .or_else(|| self.departed.iter().rev().find(|p| p.id == id))
            .map(|p| p.name)
    }

    /// Adds a peer; the caller removed any entry with the same id or name first.
    /// Returns `false` if the table is full.
    pub(super) fn insert(&mut self, record: PeerRecord) -> bool {
        self.live.push(record).is_ok()
    }

    /// Removes the peer with this id, remembering it as departed.
    pub(super) fn remove(&mut self, id: PeerId) -> Option<PeerRecord> {
        let index = self.live.iter().position(|p| p.id == id)?;
        let record = self.live.swap_remove(index);
        if self.departed.is_full() {
            self.departed.pop_front();
        }
        // There is room: one was just made if needed.
        let _ = self.departed.push_back(record);
        Some(record)
    }

    /// Entries that clash with `record`: same id or same name, but not identical.
    pub(super) fn clashing(&self, record: &PeerRecord) -> Option<PeerId> {
        self.live
            .iter()
            .find(|p| {
                (p.id == record.id || same_name(p.name.as_str(), record.name.as_str()))
                    && *p != record
            })
            .map(|p| p.id)
    }

    /// Whether the table holds this id under this name (perhaps at another address).
    pub(super) fn same_login(&self, record: &PeerRecord) -> bool {
        self.by_id(record.id)
            .is_some_and(|p| p.name.as_str() == record.name.as_str())
    }

    /// Replaces the entry with `record`'s id; returns whether there was one.
    pub(super) fn set(&mut self, record: PeerRecord) -> bool {
        match self.live.iter_mut().find(|p| p.id == record.id) {
            Some(p) => {
                *p = record;
                true
            }
            None => false,
        }
    }

    /// Whether this exact record is in the table.
    pub(super) fn contains(&self, record: &PeerRecord) -> bool {
        self.live.iter().any(|p| p == record)
    }
}
