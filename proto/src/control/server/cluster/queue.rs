//! The store queue: connections that owe the store something are linked through their
//! own slots (no queue that grows with traffic), and each yields one op at a time; the
//! renewal round walks the directory.

use super::super::conn::ConnState;
use super::super::{Conn, ConnId, Record, Server};
use super::{StoreOp, REMOTE};
use crate::directory::Slot;
use crate::wire::WireAddr;

impl<S, C, J> Server<S, C, J>
where
    S: AsRef<[Slot]> + AsMut<[Slot]>,
    C: AsRef<[Conn]> + AsMut<[Conn]>,
    J: AsRef<[Record]> + AsMut<[Record]>,
{
    /// Without the store, queued releases are dropped (those leases expire on their
    /// own) and connections that owe nothing else leave the queue.
    pub(in crate::control::server) fn drop_releases(&mut self) {
        let Some(cl) = self.cluster.as_mut() else {
            return;
        };
        let mut i = core::mem::replace(&mut cl.head, u32::MAX);
        cl.tail = u32::MAX;
        while i != u32::MAX {
            let c = &mut self.conns.as_mut()[i as usize];
            let next = c.store.next;
            c.store.release = false;
            c.store.queued = false;
            if c.store.claim || c.store.renew {
                self.enqueue(i as usize);
            } else if c.state == ConnState::Departed {
                self.retire_conn(i as usize);
            }
            i = next;
        }
    }

    /// Puts connection `i` at the end of the store queue (once; not while busy).
    pub(in crate::control::server) fn enqueue(&mut self, i: usize) {
        let Some(cl) = self.cluster.as_mut() else {
            return;
        };
        let c = &mut self.conns.as_mut()[i];
        if c.store.queued || c.store.busy {
            return;
        }
        c.store.queued = true;
        c.store.next = u32::MAX;
        if cl.tail == u32::MAX {
            cl.head = i as u32;
        } else {
            self.conns.as_mut()[cl.tail as usize].store.next = i as u32;
        }
        cl.tail = i as u32;
        cl.wake = true;
    }

    /// The op the first queued connection is owed.
    pub(in crate::control::server) fn next_queued(&mut self) -> Option<StoreOp> {
        loop {
            let cl = self.cluster.as_mut()?;
            if cl.head == u32::MAX {
                return None;
            }
            let i = cl.head as usize;
            let c = &mut self.conns.as_mut()[i];
            cl.head = c.store.next;
            if cl.head == u32::MAX {
                cl.tail = u32::MAX;
            }
            c.store.queued = false;
            let addr = self.dir.get(c.id).map(|r| r.addr);
            if let Some(op) = owed_op(i, c, addr) {
                c.store.busy = true;
                return Some(op);
            }
            if c.state == ConnState::Departed {
                self.retire_conn(i);
            }
        }
    }

    /// The next lease of the renewal round under way.
    pub(in crate::control::server) fn next_renewal(&mut self) -> Option<StoreOp> {
        let cl = self.cluster.as_mut()?;
        let mut from = cl.renew_from?;
        while let Some((slot, record, tag)) = self.dir.scan(from) {
            from = slot + 1;
            if tag & REMOTE != 0 {
                continue;
            }
            let Some(c) = self.conns.as_mut().get_mut(tag as usize) else {
                continue;
            };
            if !c.is_active() || c.id != record.id || c.store.busy || c.store.queued {
                continue;
            }
            c.store.busy = true;
            if let Some(cl) = self.cluster.as_mut() {
                cl.renew_from = Some(from);
            }
            return Some(StoreOp::Renew {
                conn: ConnId(tag),
                name: record.name,
                id: record.id,
                addr: record.addr,
            });
        }
        if let Some(cl) = self.cluster.as_mut() {
            cl.renew_from = None;
        }
        None
    }
}

/// The op connection `i` is owed now, clearing that debt; `addr` is its user's
/// published address, if it is in the directory.
fn owed_op(i: usize, c: &mut Conn, addr: Option<WireAddr>) -> Option<StoreOp> {
    let conn = ConnId(i as u32);
    let s = &mut c.store;
    if core::mem::take(&mut s.release) {
        s.claim = false;
        s.renew = false;
        return Some(StoreOp::Release {
            conn,
            name: c.name,
            id: c.id,
        });
    }
    if core::mem::take(&mut s.claim) && c.state == ConnState::Claiming {
        return Some(StoreOp::Claim {
            conn,
            name: c.name,
            addr: c.peer.with_port(s.port),
        });
    }
    match (core::mem::take(&mut s.renew), addr) {
        (true, Some(addr)) if c.state == ConnState::Active => Some(StoreOp::Renew {
            conn,
            name: c.name,
            id: c.id,
            addr,
        }),
        _ => None,
    }
}
