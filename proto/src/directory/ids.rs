//! Entries under ids the caller chose (a cluster's ids, the same on every server) and
//! entries kept for someone else (users of other servers), and what the cluster merge
//! needs besides: moving an address without a probe, retagging, walking the table.
//!
//! An id given to [`Directory::join_as`] does not encode its slot, so such entries are
//! also linked into a second chained hash, by id, whose bucket heads and links live in
//! the slots like the name index's. Entries made by [`Directory::join`] are found by
//! their id's arithmetic alone, as before.

use super::slot::NIL;
use super::{Delta, DeltaKind, Directory, JoinError, Login, PeerRecord, Slot};
use crate::time::Instant;
use crate::wire::{PeerId, WireAddr};

impl<S: AsRef<[Slot]> + AsMut<[Slot]>> Directory<S> {
    /// Like [`Directory::join`] under an id the caller chose (a cluster hands out ids
    /// that every server's table shares). `JoinError::IdTaken` if that id is online or
    /// is the server's own. Do not mix with [`Directory::join`] in one table: its ids
    /// are not checked against these.
    pub fn join_as(
        &mut self,
        now: Instant,
        name: &str,
        addr: WireAddr,
        id: PeerId,
        tag: u32,
    ) -> Result<Login, JoinError> {
        self.insert(now, name, addr, Some(id), tag)
    }

    /// Adds a peer whose liveness someone else tracks (a user of another server of a
    /// cluster): like [`Directory::join_as`], but it never expires here.
    pub fn join_remote(
        &mut self,
        name: &str,
        addr: WireAddr,
        id: PeerId,
        tag: u32,
    ) -> Result<Delta, JoinError> {
        let never = Instant::from_micros(u64::MAX);
        self.insert(never, name, addr, Some(id), tag)
            .map(|login| login.delta)
    }

    /// Publishes `addr` for `id` without a probe (a cluster peer that moved on its own
    /// server). `None` if no one online has that id or the address is unchanged.
    pub fn set_addr(&mut self, id: PeerId, addr: WireAddr) -> Option<Delta> {
        let index = self.index_of(id)?;
        let slot = &mut self.slots.as_mut()[index as usize];
        if slot.addr == addr {
            return None;
        }
        slot.addr = addr;
        Some(self.bump(DeltaKind::Moved, self.record(index)))
    }

    /// Replaces the caller's tag of `id`; `false` if no one online has that id.
    pub fn set_tag(&mut self, id: PeerId, tag: u32) -> bool {
        match self.index_of(id) {
            Some(i) => {
                self.slots.as_mut()[i as usize].tag = tag;
                true
            }
            None => false,
        }
    }

    /// The first online peer in slot `from` or after it, with its slot and tag: walk the
    /// table with `scan(slot + 1)`; removing the peer just returned does not disturb it.
    pub fn scan(&self, from: usize) -> Option<(usize, PeerRecord, u32)> {
        let slots = &self.slots.as_ref()[..self.high as usize];
        let i = from + slots.get(from..)?.iter().position(Slot::is_used)?;
        Some((i, slots[i].record(), slots[i].tag))
    }

    /// The slot of an entry made by [`Directory::join_as`] with this id.
    pub(super) fn find_keyed(&self, id: PeerId) -> Option<u32> {
        let slots = self.slots.as_ref();
        let mut i = slots[self.id_bucket(id)].id_head;
        while i != NIL {
            if slots[i as usize].id == id {
                return Some(i);
            }
            i = slots[i as usize].id_next;
        }
        None
    }

    pub(super) fn id_bucket(&self, id: PeerId) -> usize {
        let h = crate::names::user::mix64(u64::from(id.0) ^ self.hash_seed);
        ((u128::from(h) * u128::from(self.cap)) >> 64) as usize
    }

    /// Removes slot `index` from its id-bucket chain.
    pub(super) fn unlink_id(&mut self, index: u32) {
        let bucket = self.id_bucket(self.slots.as_ref()[index as usize].id);
        let slots = self.slots.as_mut();
        let after = slots[index as usize].id_next;
        if slots[bucket].id_head == index {
            slots[bucket].id_head = after;
            return;
        }
        let mut i = slots[bucket].id_head;
        while i != NIL && slots[i as usize].id_next != index {
            i = slots[i as usize].id_next;
        }
        if i != NIL {
            slots[i as usize].id_next = after;
        }
    }
}
