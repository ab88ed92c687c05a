//! One entry of the directory's caller-lent storage.

use super::PeerRecord;
use crate::names::user::UserName;
use crate::time::Instant;
use crate::wire::{PeerId, PeerInfo, WireAddr};

/// "No slot" in the chain and free-list links.
pub(super) const NIL: u32 = u32::MAX;

/// One slot of directory storage. Lend the directory a slice of [`Slot::EMPTY`]s; the
/// fields are private to the directory.
#[derive(Debug, Clone, Copy)]
pub struct Slot {
    /// `PeerId(0)` marks a free slot.
    pub(super) id: PeerId,
    /// How many times this slot was occupied (keeps ids of reused slots distinct).
    generation: u32,
    pub(super) name: UserName,
    pub(super) addr: WireAddr,
    pub(super) token: u64,
    pub(super) last_seen: Instant,
    pub(super) tag: u32,
    /// First slot of the name-hash bucket whose number is this slot's index.
    pub(super) head: u32,
    /// Next slot in this slot's bucket chain (used) or in the free list (free).
    pub(super) next: u32,
    /// First slot of the id-hash bucket whose number is this slot's index (entries
    /// whose id was given by the caller, see [`super::Directory::join_as`]).
    pub(super) id_head: u32,
    /// Next slot in this slot's id-bucket chain; `NIL` at its end and when unlinked.
    pub(super) id_next: u32,
    /// Whether this entry is linked into an id-bucket chain.
    pub(super) keyed: bool,
}

impl Slot {
    /// A free slot.
    pub const EMPTY: Slot = Slot {
        id: PeerId(0),
        generation: 0,
        name: UserName::EMPTY,
        addr: WireAddr::V4([0; 4], 0),
        token: 0,
        last_seen: Instant::ZERO,
        tag: 0,
        head: NIL,
        next: NIL,
        id_head: NIL,
        id_next: NIL,
        keyed: false,
    };

    pub(super) fn is_used(&self) -> bool {
        self.id.0 != 0
    }

    /// Fills a free slot at `index` of a `cap`-slot table and returns the new id:
    /// `generation * cap + index + 1`, so `(id - 1) % cap` finds the slot again.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn occupy(
        &mut self,
        index: u32,
        cap: u32,
        name: UserName,
        addr: WireAddr,
        token: u64,
        now: Instant,
        tag: u32,
    ) -> PeerId {
        let generations = (u32::MAX - 1) / cap;
        // `generation < generations` keeps the id within `generations * cap < u32::MAX`.
        if self.generation >= generations {
            self.generation = 0;
        }
        let id = PeerId(self.generation * cap + index + 1);
        self.generation += 1;
        self.id = id;
        self.name = name;
        self.addr = addr;
        self.token = token;
        self.last_seen = now;
        self.tag = tag;
        id
    }

    /// Fills a free slot with an entry whose id the caller chose.
    pub(super) fn occupy_as(
        &mut self,
        id: PeerId,
        name: UserName,
        addr: WireAddr,
        token: u64,
        last_seen: Instant,
        tag: u32,
    ) {
        self.id = id;
        self.name = name;
        self.addr = addr;
        self.token = token;
        self.last_seen = last_seen;
        self.tag = tag;
    }

    /// Frees the slot, linking it in front of the free list `free`.
    pub(super) fn vacate(&mut self, free: u32) {
        self.id = PeerId(0);
        self.keyed = false;
        self.id_next = NIL;
        self.name = UserName::EMPTY;
        self.token = 0;
        self.next = free;
    }

    pub(super) fn record(&self) -> PeerRecord {
        PeerRecord {
            id: self.id,
            name: self.name,
            addr: self.addr,
        }
    }

    pub(super) fn info(&self) -> PeerInfo<'_> {
        PeerInfo {
            id: self.id,
            name: self.name.as_str(),
            addr: self.addr,
        }
    }
}
