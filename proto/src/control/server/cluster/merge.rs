//! Cluster mode: applying the store's changes and presence sets to this server's
//! directory, so that it lists exactly the live leases of the cluster.
//!
//! Every change becomes an ordinary directory delta (its clients see the same versioned
//! `Joined`/`Left`/`Moved` as from a lone server). The rules:
//!
//! - **Own users are this server's truth.** A change about a lease this server owns is
//!   its own echo and is skipped — except a `Left` by a sweep (the lease expired before
//!   it was renewed): the user is still here, so its lease is renewed at once, which
//!   claims it again under the same id.
//! - **The store is the cluster's truth.** A lease of another server is listed under
//!   its id. An entry here with the same name under another id, or the same id under
//!   another name, belongs to a lease that ended without this server seeing it, and is
//!   removed first. A local user holding the name loses it only to a lease claimed
//!   *after* its own (by change number); an older one is stale, its `Left` follows.
//! - **A presence set replaces what it covers.** Remote entries are marked with the
//!   load that saw them; after a load, those it did not see are removed. Local users
//!   missing from it are claimed again by the renewal that follows every load. A set
//!   from a store of another epoch (one that lost its data) numbers changes afresh:
//!   local users' claim numbers are forgotten (any lease on their names is newer).

use super::super::{Conn, Record, Server};
use super::{ClusterEvent, REMOTE};
use crate::cluster::{Change, ChangeKind, Lease, LeaseEnd};
use crate::directory::Slot;
use crate::names::user::UserName;
use crate::time::Instant;
use crate::wire::PeerId;

impl<S, C, J> Server<S, C, J>
where
    S: AsRef<[Slot]> + AsMut<[Slot]>,
    C: AsRef<[Conn]> + AsMut<[Conn]>,
    J: AsRef<[Record]> + AsMut<[Record]>,
{
    /// A change read from the store's stream (in cluster mode): applied in sequence
    /// order; duplicates are dropped, early ones held, and a gap that does not fill in
    /// time makes the server load the presence set again.
    pub fn handle_change(&mut self, now: Instant, change: Change) {
        let Some(cl) = self.cluster.as_mut() else {
            return;
        };
        cl.touch(now);
        let mut next = cl.feed.handle_change(now, change);
        while let Some(change) = next {
            self.apply(&change);
            next = self.cluster.as_mut().and_then(|cl| cl.feed.poll_next());
        }
        self.check_resync(now);
    }

    /// The presence set the host loaded after [`super::StoreOp::Load`]: every live lease
    /// as of change `seq` of the store with this `epoch`. The directory is made to match
    /// it, then follows the stream from `seq` on; every local lease is renewed (or
    /// claimed again) at once.
    pub fn handle_snapshot<I: IntoIterator<Item = Lease>>(
        &mut self,
        now: Instant,
        epoch: u64,
        seq: u64,
        leases: I,
    ) {
        let Some(cl) = self.cluster.as_mut() else {
            return;
        };
        cl.mark = cl.mark.wrapping_add(1) & !REMOTE;
        let node = cl.config.node;
        let renumbered = cl.epoch != Some(epoch) || seq < cl.last_seq;
        cl.epoch = Some(epoch);
        cl.last_seq = seq;
        if renumbered {
            // The store lost its data: our claims' numbers mean nothing in its new
            // numbering. Until the renewal after this load claims them again, any
            // lease the store holds on their names is newer.
            for c in self.conns.as_mut() {
                c.store.lease_seq = 0;
            }
        }
        for lease in leases {
            if lease.owner != node {
                self.upsert(&lease, seq);
            }
        }
        let remote = self.drop_remote_where(|tag, mark| tag != REMOTE | mark);
        let Some(cl) = self.cluster.as_mut() else {
            return;
        };
        cl.feed.handle_snapshot(now, seq);
        while let Some(change) = self.cluster.as_mut().and_then(|cl| cl.feed.poll_next()) {
            self.apply(&change);
        }
        self.store_synced(now, seq, remote);
        self.check_resync(now);
    }

    /// The store has been unreachable for a lease period: remote users go.
    pub(in crate::control::server) fn drop_remote(&mut self) {
        let before = self.count_remote();
        self.drop_remote_where(|_, _| true);
        if let Some(cl) = self.cluster.as_mut() {
            cl.push(ClusterEvent::RemoteDropped { count: before });
        }
    }

    /// The store granted this server `name` as `id` at change `seq`: entries here that
    /// disagree are stale, and go.
    pub(in crate::control::server) fn evict_stale(&mut self, name: UserName, id: PeerId, seq: u64) {
        if let Some(other) = self.dir.find(name.as_str()) {
            self.give_way(other, seq);
        }
        if self.dir.get(id).is_some() {
            self.give_way(id, seq);
        }
    }

    fn check_resync(&mut self, now: Instant) {
        if let Some(why) = self.cluster.as_mut().and_then(|cl| cl.feed.poll_resync()) {
            self.want_load(now, why);
        }
    }

    fn apply(&mut self, change: &Change) {
        let Some(cl) = self.cluster.as_mut() else {
            return;
        };
        cl.last_seq = change.seq;
        let node = cl.config.node;
        let lease = &change.lease;
        match change.kind {
            ChangeKind::Joined | ChangeKind::Moved if lease.owner != node => {
                self.upsert(lease, change.seq)
            }
            ChangeKind::Left(_) if lease.owner != node => self.remove(lease),
            ChangeKind::Left(LeaseEnd::Swept) => self.renew_swept(lease.id),
            _ => {}
        }
    }

    /// Lists another server's lease (or updates its address), marked as seen.
    fn upsert(&mut self, lease: &Lease, seq: u64) {
        let Some(mark) = self.cluster.as_ref().map(|cl| REMOTE | cl.mark) else {
            return;
        };
        if let Some(id) = self.dir.find(lease.name.as_str()) {
            let tag = self.dir.tag(id).unwrap_or(REMOTE);
            if tag & REMOTE != 0 && id == lease.id {
                if let Some(delta) = self.dir.set_addr(id, lease.addr) {
                    self.publish(&delta);
                }
                self.dir.set_tag(id, mark);
                return;
            }
            if !self.give_way(id, seq) {
                return;
            }
        }
        // The id under another name: the store hands out an id again once its lease
        // ended (and after it lost its data, ids start over).
        if self.dir.get(lease.id).is_some() && !self.give_way(lease.id, seq) {
            return;
        }
        match self
            .dir
            .join_remote(lease.name.as_str(), lease.addr, lease.id, mark)
        {
            Ok(delta) => self.publish(&delta),
            Err(error) => {
                if let Some(cl) = self.cluster.as_mut() {
                    let name = lease.name;
                    cl.push(ClusterEvent::RemoteRefused { name, error });
                }
            }
        }
    }

    /// Another server's lease ended.
    fn remove(&mut self, lease: &Lease) {
        let listed = self.dir.get(lease.id).zip(self.dir.tag(lease.id));
        if let Some((record, tag)) = listed {
            if tag & REMOTE != 0 && record.name.same_as(lease.name.as_str()) {
                self.evict(lease.id);
            }
        }
    }

    /// Entry `id` stands in the way of a lease the store granted at change `seq`: a
    /// remote entry goes (its lease ended unseen); a local user goes only if `seq` is
    /// later than its own claim (else the change is older, and its end follows).
    /// Returns whether the way is clear.
    fn give_way(&mut self, id: PeerId, seq: u64) -> bool {
        if let Some(tag) = self.dir.tag(id).filter(|t| t & REMOTE == 0) {
            if seq <= self.conns.as_ref()[tag as usize].store.lease_seq {
                return false;
            }
        }
        self.evict(id);
        true
    }

    /// One of our leases expired before it was renewed; if its user is still here,
    /// renew it now (the store claims it again under the same id).
    fn renew_swept(&mut self, id: PeerId) {
        let Some(tag) = self.dir.tag(id).filter(|t| t & REMOTE == 0) else {
            return;
        };
        let i = tag as usize;
        if self.conns.as_ref()[i].is_active() && self.conns.as_ref()[i].id == id {
            self.conns.as_mut()[i].store.renew = true;
            self.enqueue(i);
        }
    }

    /// Removes entry `id`: a remote one quietly (with its delta), a local user by
    /// disconnecting it (it lost its name).
    fn evict(&mut self, id: PeerId) {
        match self.dir.tag(id) {
            Some(tag) if tag & REMOTE == 0 => self.lose_name(tag as usize),
            Some(_) => {
                if let Some(delta) = self.dir.leave(id) {
                    self.publish(&delta);
                }
            }
            None => {}
        }
    }

    /// Removes the remote entries whose tag `gone(tag, mark)` picks; returns how many
    /// remote entries are left.
    fn drop_remote_where(&mut self, gone: impl Fn(u32, u32) -> bool) -> usize {
        let mark = self.cluster.as_ref().map_or(0, |cl| cl.mark);
        let (mut from, mut left) = (0, 0);
        while let Some((slot, record, tag)) = self.dir.scan(from) {
            from = slot + 1;
            if tag & REMOTE == 0 {
                continue;
            }
            if gone(tag, mark) {
                if let Some(delta) = self.dir.leave(record.id) {
                    self.publish(&delta);
                }
            } else {
                left += 1;
            }
        }
        left
    }

    fn count_remote(&self) -> usize {
        let mut from = 0;
        let mut n = 0;
        while let Some((slot, _, tag)) = self.dir.scan(from) {
            from = slot + 1;
            n += usize::from(tag & REMOTE != 0);
        }
        n
    }
}
