//! The directory server's peer table.
//!
//! [`Directory`] owns who is online: names (valid, unique case-insensitively), ids,
//! published addresses, probe tokens, heartbeat expiry and the version counter that every
//! change bumps. Every change returns a [`Delta`] that the caller fans out (the server
//! node keeps them in its journal).
//!
//! **Storage is lent by the caller** (smoltcp style): anything that is
//! `AsRef<[Slot]> + AsMut<[Slot]>` — a `[Slot; 16]` on firmware, a
//! `vec![Slot::EMPTY; 100_000]` on the server host — so a large table is never built on
//! the stack. Lookups are O(1) expected: a [`PeerId`] encodes its slot index, and names
//! live in a chained hash index whose bucket heads and links are stored inside the slots
//! themselves (no second table to lend). A cluster's servers give entries ids of their
//! own choosing, and keep entries for other servers' users ([`Directory::join_as`],
//! [`Directory::join_remote`]).

mod ids;
#[cfg(test)]
mod ids_tests;
mod slot;
#[cfg(test)]
mod tests;
mod types;

use crate::names::user::{name_hash, UserName};
use crate::time::Instant;
use crate::wire::{PeerId, PeerInfo, SnapshotPage, WireAddr, SNAPSHOT_PAGE};

pub use slot::Slot;
use slot::NIL;
pub use types::{Config, Delta, DeltaKind, Expired, JoinError, Login, PeerRecord, ProbeError};

/// The server's peer table over caller-lent slots `S`.
pub struct Directory<S> {
    slots: S,
    cap: u32,
    len: u32,
    version: u64,
    free: u32,
    logins: u64,
    hash_seed: u64,
    config: Config,
    sweep_at: Instant,
    sweep_cursor: u32,
    /// One past the highest slot ever used: scans stop here (the free list is LIFO, so
    /// slots stay packed at the low end).
    high: u32,
}

impl<S: AsRef<[Slot]> + AsMut<[Slot]>> Directory<S> {
    /// A table using every slot of `slots` (overwritten) as capacity.
    pub fn new(mut slots: S, config: Config) -> Self {
        let cap = u32::try_from(slots.as_ref().len()).unwrap_or(u32::MAX - 1);
        let cap = cap.min(u32::MAX - 1);
        for (i, s) in slots.as_mut().iter_mut().take(cap as usize).enumerate() {
            *s = Slot::EMPTY;
            s.next = if i as u32 + 1 < cap {
                i as u32 + 1
            } else {
                NIL
            };
        }
        let mut seed = [0u8; 8];
        seed.copy_from_slice(&blake3::hash(&config.seed).as_bytes()[..8]);
        Directory {
            slots,
            cap,
            len: 0,
            version: 0,
            free: if cap > 0 { 0 } else { NIL },
            logins: 0,
            hash_seed: u64::from_le_bytes(seed),
            config,
            sweep_at: Instant::ZERO + config.sweep_interval,
            sweep_cursor: 0,
            high: 0,
        }
    }

    /// How many peers fit.
    pub fn capacity(&self) -> usize {
        self.cap as usize
    }

    /// How many peers are online.
    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// Whether no one is online.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The current version (0 for a new table; every change adds one).
    pub fn version(&self) -> u64 {
        self.version
    }

    /// The settings.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Logs `name` in at `addr`; `tag` is the caller's own handle (returned on expiry).
    pub fn join(
        &mut self,
        now: Instant,
        name: &str,
        addr: WireAddr,
        tag: u32,
    ) -> Result<Login, JoinError> {
        self.insert(now, name, addr, None, tag)
    }

    fn insert(
        &mut self,
        now: Instant,
        name: &str,
        addr: WireAddr,
        given: Option<PeerId>,
        tag: u32,
    ) -> Result<Login, JoinError> {
        let name = UserName::new(name).map_err(JoinError::InvalidName)?;
        if self.find(name.as_str()).is_some() {
            return Err(JoinError::NameTaken);
        }
        if given.is_some_and(|id| id == PeerId::SERVER || self.index_of(id).is_some()) {
            return Err(JoinError::IdTaken);
        }
        let index = self.free;
        if index == NIL {
            return Err(JoinError::Full);
        }
        let bucket = self.bucket(name.as_str());
        let cap = self.cap;
        self.logins += 1;
        let token = self.token(index, self.logins);
        let slots = self.slots.as_mut();
        self.free = slots[index as usize].next;
        self.high = self.high.max(index + 1);
        let slot = &mut slots[index as usize];
        let id = match given {
            Some(id) => {
                slot.occupy_as(id, name, addr, token, now, tag);
                id
            }
            None => slot.occupy(index, cap, name, addr, token, now, tag),
        };
        slots[index as usize].next = slots[bucket].head;
        slots[bucket].head = index;
        if given.is_some() {
            let bucket = self.id_bucket(id);
            let slots = self.slots.as_mut();
            slots[index as usize].keyed = true;
            slots[index as usize].id_next = slots[bucket].id_head;
            slots[bucket].id_head = index;
        }
        self.len += 1;
        let delta = self.bump(DeltaKind::Joined, self.record(index));
        Ok(Login {
            id,
            probe_token: token,
            delta,
        })
    }

    /// Logs `id` out; `None` if no one online has that id.
    pub fn leave(&mut self, id: PeerId) -> Option<Delta> {
        let index = self.index_of(id)?;
        let record = self.record(index);
        self.unlink(index);
        Some(self.bump(DeltaKind::Left, record))
    }

    /// Records that `id` was heard from; `false` if no one online has that id.
    pub fn touch(&mut self, now: Instant, id: PeerId) -> bool {
        match self.index_of(id) {
            Some(i) => {
                self.slots.as_mut()[i as usize].last_seen = now;
                true
            }
            None => false,
        }
    }

    /// A UDP probe from `id` carrying `token` arrived from `observed`: publish that
    /// address. `Ok(None)` if it was already the published one.
    pub fn probe(
        &mut self,
        now: Instant,
        id: PeerId,
        token: u64,
        observed: WireAddr,
    ) -> Result<Option<Delta>, ProbeError> {
        let index = self.index_of(id).ok_or(ProbeError::UnknownPeer)?;
        let slot = &mut self.slots.as_mut()[index as usize];
        if slot.token != token {
            return Err(ProbeError::BadToken);
        }
        slot.last_seen = now;
        if slot.addr == observed {
            return Ok(None);
        }
        slot.addr = observed;
        Ok(Some(self.bump(DeltaKind::Moved, self.record(index))))
    }

    /// The peer with this id.
    pub fn get(&self, id: PeerId) -> Option<PeerRecord> {
        self.index_of(id).map(|i| self.record(i))
    }

    /// The probe token `id` was given at login.
    pub fn probe_token(&self, id: PeerId) -> Option<u64> {
        self.index_of(id)
            .map(|i| self.slots.as_ref()[i as usize].token)
    }

    /// The tag given when `id` logged in.
    pub fn tag(&self, id: PeerId) -> Option<u32> {
        self.index_of(id)
            .map(|i| self.slots.as_ref()[i as usize].tag)
    }

    /// The id of whoever is logged in as `name` (case-insensitively).
    pub fn find(&self, name: &str) -> Option<PeerId> {
        if self.cap == 0 {
            return None;
        }
        let slots = self.slots.as_ref();
        let mut i = slots[self.bucket(name)].head;
        while i != NIL {
            let s = &slots[i as usize];
            if s.name.same_as(name) {
                return Some(s.id);
            }
            i = s.next;
        }
        None
    }

    /// Removes one peer that has been silent longer than the expiry, if a sweep is due.
    /// Call until `None` from the host's timeout handling.
    pub fn poll_expired(&mut self, now: Instant) -> Option<Expired> {
        if now < self.sweep_at {
            return None;
        }
        while self.sweep_cursor < self.high {
            let index = self.sweep_cursor;
            self.sweep_cursor += 1;
            let s = &self.slots.as_ref()[index as usize];
            if s.is_used() && now.saturating_since(s.last_seen) > self.config.expiry {
                let tag = s.tag;
                let record = self.record(index);
                self.unlink(index);
                let delta = self.bump(DeltaKind::Left, record);
                return Some(Expired { delta, tag });
            }
        }
        self.sweep_cursor = 0;
        self.sweep_at = now + self.config.sweep_interval;
        None
    }

    /// When the next expiry sweep is due.
    pub fn poll_timeout(&self) -> Instant {
        self.sweep_at
    }

    /// Fills `peers` with up to [`SNAPSHOT_PAGE`] peers from slot `start` on and returns
    /// the slot to continue from, or `None` when the table is done (this page is the last).
    pub fn fill_page<'a>(
        &'a self,
        start: usize,
        peers: &mut heapless::Vec<PeerInfo<'a>, SNAPSHOT_PAGE>,
    ) -> Option<usize> {
        let slots = &self.slots.as_ref()[..self.high as usize];
        let mut i = start;
        while i < slots.len() && !peers.is_full() {
            if slots[i].is_used() {
                // `is_full` was checked just above.
                let _ = peers.push(slots[i].info());
            }
            i += 1;
        }
        // Skip trailing free slots so a full last page is marked `last`.
        while i < slots.len() && !slots[i].is_used() {
            i += 1;
        }
        (i < slots.len()).then_some(i)
    }

    /// The whole table as snapshot pages at the current version.
    pub fn snapshot(&self) -> Pages<'_, S> {
        Pages {
            dir: self,
            next: 0,
            page: 0,
            done: false,
        }
    }

    /// Every online peer, in slot order.
    pub fn iter(&self) -> impl Iterator<Item = PeerRecord> + '_ {
        self.slots.as_ref()[..self.high as usize]
            .iter()
            .filter(|s| s.is_used())
            .map(Slot::record)
    }

    fn index_of(&self, id: PeerId) -> Option<u32> {
        let raw = id.0.checked_sub(1)?;
        if self.cap == 0 {
            return None;
        }
        let index = raw % self.cap;
        let slots = self.slots.as_ref();
        let s = &slots[index as usize];
        if s.is_used() && s.id == id {
            return Some(index);
        }
        // Not where `join` would have put it: an id given to `join_as`, or no one.
        self.find_keyed(id)
    }

    fn record(&self, index: u32) -> PeerRecord {
        self.slots.as_ref()[index as usize].record()
    }

    fn bucket(&self, name: &str) -> usize {
        let h = name_hash(name, self.hash_seed);
        ((u128::from(h) * u128::from(self.cap)) >> 64) as usize
    }

    fn token(&self, index: u32, login: u64) -> u64 {
        let mut input = [0u8; 12];
        input[..4].copy_from_slice(&index.to_le_bytes());
        input[4..].copy_from_slice(&login.to_le_bytes());
        let hash = blake3::keyed_hash(&self.config.seed, &input);
        let mut out = [0u8; 8];
        out.copy_from_slice(&hash.as_bytes()[..8]);
        u64::from_le_bytes(out)
    }

    /// Removes slot `index` from its name chain and returns it to the free list.
    fn unlink(&mut self, index: u32) {
        let bucket = self.bucket(self.slots.as_ref()[index as usize].name.as_str());
        let slots = self.slots.as_mut();
        let after = slots[index as usize].next;
        if slots[bucket].head == index {
            slots[bucket].head = after;
        } else {
            let mut i = slots[bucket].head;
            while i != NIL && slots[i as usize].next != index {
                i = slots[i as usize].next;
            }
            if i != NIL {
                slots[i as usize].next = after;
            }
        }
        if slots[index as usize].keyed {
            self.unlink_id(index);
        }
        let slots = self.slots.as_mut();
        slots[index as usize].vacate(self.free);
        self.free = index;
        self.len -= 1;
    }

    fn bump(&mut self, kind: DeltaKind, peer: PeerRecord) -> Delta {
        self.version += 1;
        Delta {
            version: self.version,
            kind,
            peer,
        }
    }
}

/// Iterator over a snapshot's pages (see [`Directory::snapshot`]).
pub struct Pages<'a, S> {
    dir: &'a Directory<S>,
    next: usize,
    page: u32,
    done: bool,
}

impl<'a, S: AsRef<[Slot]> + AsMut<[Slot]>> Iterator for Pages<'a, S> {
    type Item = SnapshotPage<'a>;

    fn next(&mut self) -> Option<SnapshotPage<'a>> {
        if self.done {
            return None;
        }
        let mut peers = heapless::Vec::new();
        let next = self.dir.fill_page(self.next, &mut peers);
        let last = next.is_none();
        self.next = next.unwrap_or(0);
        self.done = last;
        let page = SnapshotPage {
            version: self.dir.version(),
            page: self.page,
            last,
            peers,
        };
        self.page += 1;
        Some(page)
    }
}
