//! One connection's dealings with the store: its claim (a login waiting for its name),
//! its release when it leaves, renewals that publish a moved address or find the name
//! lost, and the slot of a connection the host is done with.

use super::super::conn::ConnState;
use super::super::{CloseReason, Conn, ConnId, Record, Server};
use super::{ClusterEvent, StoreDue, StoreFailed, StoreReply, REMOTE};
use crate::directory::Slot;
use crate::names::user::UserName;
use crate::time::Instant;
use crate::wire::{PeerId, RejectReason};

impl<S, C, J> Server<S, C, J>
where
    S: AsRef<[Slot]> + AsMut<[Slot]>,
    C: AsRef<[Conn]> + AsMut<[Conn]>,
    J: AsRef<[Record]> + AsMut<[Record]>,
{
    /// A valid `Hello` on connection `i` in cluster mode: claim the name.
    pub(in crate::control::server) fn begin_claim(&mut self, i: usize, name: UserName, port: u16) {
        if self.dir.find(name.as_str()).is_some() {
            return self.reject(i, RejectReason::NameTaken, None);
        }
        if self.dir.len() >= self.dir.capacity() {
            return self.reject(i, RejectReason::ServerFull, None);
        }
        let c = &mut self.conns.as_mut()[i];
        c.state = ConnState::Claiming;
        c.name = name;
        c.store.port = port;
        c.store.claim = true;
        self.enqueue(i);
    }

    /// Input on a connection whose claim is out: pings are answered after `Welcome`,
    /// `List` is moot (the snapshot follows `Welcome`), anything else ends it.
    pub(in crate::control::server) fn on_claiming(&mut self, i: usize, input: super::super::Input) {
        let c = &mut self.conns.as_mut()[i];
        match input {
            super::super::Input::Ping => c.owed.pong = true,
            super::super::Input::List => {}
            super::super::Input::Bye => c.close(CloseReason::Bye),
            super::super::Input::Hello(..) => c.close(CloseReason::Unexpected),
            super::super::Input::Bad(e) => c.close(CloseReason::Protocol(e)),
        }
        self.wake = true;
    }

    /// Local user `i` left the directory: its lease is released (unless another server
    /// holds the name now).
    pub(in crate::control::server) fn store_left(&mut self, i: usize, reason: CloseReason) {
        if self.cluster.is_none() || reason == CloseReason::NameLost {
            return;
        }
        let c = &mut self.conns.as_mut()[i];
        c.store.release = true;
        c.store.renew = false;
        self.enqueue(i);
    }

    /// A probe moved a user's address: a local user's lease publishes it.
    pub(in crate::control::server) fn store_moved(&mut self, delta: &crate::directory::Delta) {
        if self.cluster.is_none() {
            return;
        }
        let Some(tag) = self.dir.tag(delta.peer.id) else {
            return;
        };
        if tag & REMOTE == 0 {
            self.conns.as_mut()[tag as usize].store.renew = true;
            self.enqueue(tag as usize);
        }
    }

    /// The host is done with connection `i`: its slot is free again, or once the store
    /// work it is owed is settled.
    pub(in crate::control::server) fn retire_conn(&mut self, i: usize) {
        self.release_on_shutdown(i);
        let c = &mut self.conns.as_mut()[i];
        if c.store.busy || c.store.queued {
            c.state = ConnState::Departed;
            return;
        }
        c.state = ConnState::Free;
        c.store = StoreDue::NONE;
        c.next_free = self.free;
        self.free = i as u32;
    }

    /// A user whose connection closed for the server's shutdown is still listed (a lone
    /// server just stops): in cluster mode its lease is released, so that its name is
    /// free at once rather than when the lease expires.
    fn release_on_shutdown(&mut self, i: usize) {
        let c = &self.conns.as_ref()[i];
        let closed = c.state == ConnState::Closing(CloseReason::Shutdown);
        if self.cluster.is_none() || !closed || self.dir.tag(c.id) != Some(i as u32) {
            return;
        }
        if let Some(delta) = self.dir.leave(c.id) {
            self.publish(&delta);
        }
        self.conns.as_mut()[i].store.release = true;
        self.enqueue(i);
    }

    pub(super) fn claimed(
        &mut self,
        now: Instant,
        i: usize,
        reply: Result<StoreReply, StoreFailed>,
    ) {
        // The answer concerns a connection the host is not handling now: wake it.
        self.wake = true;
        let c = &mut self.conns.as_mut()[i];
        c.store.busy = false;
        let claiming = c.state == ConnState::Claiming;
        match reply {
            Ok(StoreReply::Claimed { id, seq }) if claiming => self.grant(now, i, id, seq),
            Ok(StoreReply::Claimed { id, .. }) => {
                // The user left while the claim was out.
                c.id = id;
                c.store.release = true;
            }
            Ok(_) if claiming => self.reject(i, RejectReason::NameTaken, None),
            Err(StoreFailed) if claiming => c.store.claim = true,
            _ => {}
        }
        self.settled(i);
    }

    /// The store granted connection `i` its name as `id`.
    fn grant(&mut self, now: Instant, i: usize, id: PeerId, seq: u64) {
        let c = &mut self.conns.as_mut()[i];
        let (name, published) = (c.name, c.peer.with_port(c.store.port));
        c.store.lease_seq = seq;
        c.id = id;
        // The store says the name and id are ours now: entries here that say otherwise
        // are stale (their `Left` is still on its way).
        self.evict_stale(name, id, seq);
        match self
            .dir
            .join_as(now, name.as_str(), published, id, i as u32)
        {
            Ok(login) => self.admit(now, i, &login, name, published),
            Err(_) => {
                self.conns.as_mut()[i].store.release = true;
                self.reject(i, RejectReason::ServerFull, None);
            }
        }
    }

    pub(super) fn renewed(&mut self, i: usize, id: PeerId, reply: Result<StoreReply, StoreFailed>) {
        let c = &mut self.conns.as_mut()[i];
        c.store.busy = false;
        let current = c.is_active() && c.id == id;
        match reply {
            Ok(StoreReply::Claimed { seq, .. }) if current => c.store.lease_seq = seq,
            Ok(StoreReply::Lost) if current => self.lose_name(i),
            _ => {}
        }
        self.settled(i);
    }

    /// Local user `i` no longer holds its name in the cluster: it is disconnected.
    pub(in crate::control::server) fn lose_name(&mut self, i: usize) {
        let name = self.conns.as_ref()[i].name;
        self.leave(i, CloseReason::NameLost);
        if let Some(cl) = self.cluster.as_mut() {
            cl.push(ClusterEvent::NameLost {
                conn: ConnId(i as u32),
                name,
            });
        }
    }

    /// An op of connection `i` is settled: queue what it is owed next, or free a
    /// departed connection.
    pub(super) fn settled(&mut self, i: usize) {
        let c = &mut self.conns.as_mut()[i];
        c.store.busy = false;
        if c.store.claim || c.store.renew || c.store.release {
            return self.enqueue(i);
        }
        if c.state == ConnState::Departed && !c.store.queued {
            self.retire_conn(i);
        }
    }
}
