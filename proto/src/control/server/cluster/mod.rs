//! Cluster mode of the server node: its dealings with the store (Redis).
//!
//! After [`Server::enable_cluster`], the store is the directory of record
//! ([`crate::cluster`] has the model):
//! - a `Hello` whose name is free here becomes a **claim**: the connection waits
//!   (`Claiming`) while the host runs [`StoreOp::Claim`]; granted, the user joins under
//!   the cluster-wide id the store chose; taken, the login is refused with `NameTaken`;
//! - each local user's lease is **renewed** every `renew_interval` ([`StoreOp::Renew`],
//!   which also claims a lease the store lost under the same id, and publishes an
//!   address a probe moved);
//! - a local user who leaves is **released** ([`StoreOp::Release`]);
//! - expired leases are **swept** ([`StoreOp::Sweep`]) by whichever server comes first;
//! - the stream's changes arrive through [`Server::handle_change`] and the presence set
//!   through [`Server::handle_snapshot`] (after [`StoreOp::Load`]); [`merge`] applies
//!   them to the directory.
//!
//! **The store failing** ([`StoreFailed`]): local users are served as before. Remote
//! users stay listed for one lease period — their leases may well be alive — and are
//! then removed. The presence set is loaded again, with backoff, until the store
//! answers; then every local lease is renewed or claimed again, and the lists converge.
//!
//! **Driving it.** When [`Server::poll_store_wakeup`] says so, drain
//! [`Server::poll_store_op`], run each op against the store and hand back exactly one
//! outcome per op with [`Server::handle_store_reply`]. The core never has two ops of one
//! connection out at once; ops of different connections may run concurrently, and
//! consecutive `Renew`s may be batched into one store call.
//!
//! Files: `types` (ops, answers, events), `login` (claims, releases and renewals of
//! one connection), `queue` (the store queue through the connections, the renewal
//! round), `merge` (applying changes and presence sets).

mod login;
pub(super) mod merge;
mod queue;
#[cfg(test)]
mod tests;
mod types;

use heapless::Deque;

use super::{Conn, Record, Server};
use crate::cluster::{ChangeFeed, ClusterConfig, Reload};
use crate::directory::Slot;
use crate::time::{Duration, Instant};

pub(super) use types::StoreDue;
pub use types::{ClusterEvent, StoreFailed, StoreOp, StoreReply};

/// Tag bit of directory entries that are other servers' users (the rest of the tag is
/// the presence-set load that last saw them); local users' tags are connection indexes.
pub(super) const REMOTE: u32 = 1 << 31;

const EVENTS: usize = 32;

/// The cluster state of a server node.
pub(in crate::control::server) struct Cluster {
    pub(in crate::control::server) config: ClusterConfig,
    pub(in crate::control::server) feed: ChangeFeed,
    /// The store answers (a presence set was loaded since the last failure).
    pub(in crate::control::server) up: bool,
    /// A load is wanted, not before `load_at`.
    load: Option<Instant>,
    loading: bool,
    retry: Duration,
    last_ok: Instant,
    /// Without the store, remote users are removed at this time.
    drop_at: Option<Instant>,
    sweep_at: Instant,
    sweeping: bool,
    renew_at: Instant,
    /// The next directory slot of the renewal round under way.
    renew_from: Option<usize>,
    /// The current presence-set load (remote entries it saw carry it in their tag).
    pub(in crate::control::server) mark: u32,
    /// The last change number applied.
    pub(in crate::control::server) last_seq: u64,
    /// The epoch of the store the last presence set came from.
    pub(in crate::control::server) epoch: Option<u64>,
    head: u32,
    tail: u32,
    /// Ops handed out and not answered yet.
    out: u32,
    events: Deque<ClusterEvent, EVENTS>,
    /// A `StoreDown` was reported since the store last answered a load.
    told_down: bool,
    wake: bool,
}

impl<S, C, J> Server<S, C, J>
where
    S: AsRef<[Slot]> + AsMut<[Slot]>,
    C: AsRef<[Conn]> + AsMut<[Conn]>,
    J: AsRef<[Record]> + AsMut<[Record]>,
{
    /// Joins a cluster: from now on logins are claimed in the store, and this server
    /// lists the users of every server of the cluster. Call before the first connection.
    pub fn enable_cluster(&mut self, now: Instant, config: ClusterConfig) {
        let mut feed = ChangeFeed::new(config.gap_grace);
        // The first load is asked for here.
        let _ = feed.poll_resync();
        self.cluster = Some(Cluster {
            config,
            feed,
            up: false,
            load: Some(now),
            loading: false,
            retry: config.retry_min,
            last_ok: now,
            drop_at: None,
            sweep_at: now,
            sweeping: false,
            renew_at: now + config.renew_interval,
            renew_from: None,
            mark: 0,
            last_seq: 0,
            epoch: None,
            head: u32::MAX,
            tail: u32::MAX,
            out: 0,
            events: Deque::new(),
            told_down: false,
            wake: true,
        });
    }

    /// The cluster settings, in cluster mode.
    pub fn cluster_config(&self) -> Option<&ClusterConfig> {
        self.cluster.as_ref().map(|c| &c.config)
    }

    /// Whether the store answers (in cluster mode).
    pub fn is_store_up(&self) -> bool {
        self.cluster.as_ref().is_some_and(|c| c.up)
    }

    /// The last cluster change applied here (`None` while no presence set is loaded).
    pub fn cluster_seq(&self) -> Option<u64> {
        self.cluster.as_ref()?.feed.applied()
    }

    /// Whether store work may be due since the last call: drain
    /// [`Server::poll_store_op`] then.
    #[must_use]
    pub fn poll_store_wakeup(&mut self) -> bool {
        self.cluster
            .as_mut()
            .is_some_and(|c| core::mem::take(&mut c.wake))
    }

    /// The next log-worthy cluster event.
    #[must_use]
    pub fn poll_cluster_event(&mut self) -> Option<ClusterEvent> {
        self.cluster.as_mut()?.events.pop_front()
    }

    /// Whether no store work is queued or out (a host shutting down waits for that,
    /// briefly, so that leases are released rather than left to expire).
    pub fn is_store_idle(&self) -> bool {
        self.cluster
            .as_ref()
            .is_none_or(|c| c.head == u32::MAX && c.out == 0)
    }

    /// The stream could not be read: the store is treated as failed.
    pub fn handle_store_failed(&mut self, now: Instant) {
        self.store_failed(now);
    }

    /// The next thing to do with the store, if any is due now.
    #[must_use]
    pub fn poll_store_op(&mut self, now: Instant) -> Option<StoreOp> {
        let op = self.next_store_op(now);
        if let (Some(_), Some(cl)) = (op, self.cluster.as_mut()) {
            cl.out += 1;
        }
        op
    }

    fn next_store_op(&mut self, now: Instant) -> Option<StoreOp> {
        let cl = self.cluster.as_mut()?;
        if !cl.loading && cl.load.is_some_and(|at| at <= now) {
            cl.loading = true;
            cl.load = None;
            return Some(StoreOp::Load);
        }
        if !cl.up {
            return None;
        }
        if let Some(op) = self.next_queued() {
            return Some(op);
        }
        let cl = self.cluster.as_mut()?;
        if !cl.sweeping && cl.sweep_at <= now {
            cl.sweeping = true;
            return Some(StoreOp::Sweep {
                limit: cl.config.sweep_limit,
            });
        }
        self.next_renewal()
    }

    /// The outcome of `op`, which [`Server::poll_store_op`] gave.
    pub fn handle_store_reply(
        &mut self,
        now: Instant,
        op: StoreOp,
        reply: Result<StoreReply, StoreFailed>,
    ) {
        let Some(cl) = self.cluster.as_mut() else {
            return;
        };
        cl.out = cl.out.saturating_sub(1);
        match reply {
            Ok(_) => cl.touch(now),
            Err(StoreFailed) => self.store_failed(now),
        }
        match op {
            StoreOp::Load => {
                if let Some(cl) = self.cluster.as_mut() {
                    cl.loading = false;
                }
            }
            StoreOp::Sweep { limit } => self.swept(now, limit, reply),
            StoreOp::Claim { conn, .. } => self.claimed(now, conn.0 as usize, reply),
            StoreOp::Renew { conn, id, .. } => self.renewed(conn.0 as usize, id, reply),
            StoreOp::Release { conn, .. } => self.settled(conn.0 as usize),
        }
    }

    /// The cluster's timers.
    pub(in crate::control::server) fn cluster_timeout(&mut self, now: Instant) {
        let Some(cl) = self.cluster.as_mut() else {
            return;
        };
        cl.feed.handle_timeout(now);
        if let Some(why) = cl.feed.poll_resync() {
            self.want_load(now, why);
        }
        let Some(cl) = self.cluster.as_mut() else {
            return;
        };
        if cl.up && now >= cl.renew_at {
            cl.renew_at = now + cl.config.renew_interval;
            cl.renew_from = Some(0);
            cl.wake = true;
        }
        let due = |t: Instant| t <= now;
        if (cl.up && !cl.sweeping && due(cl.sweep_at)) || cl.load.is_some_and(due) {
            cl.wake = true;
        }
        if !cl.up && cl.drop_at.is_some_and(due) {
            cl.drop_at = None;
            self.drop_remote();
        }
    }

    /// The earliest cluster deadline.
    pub(in crate::control::server) fn cluster_deadline(&self) -> Option<Instant> {
        let cl = self.cluster.as_ref()?;
        let up = |t: Instant| cl.up.then_some(t);
        [
            cl.load.filter(|_| !cl.loading),
            up(cl.renew_at),
            up(cl.sweep_at).filter(|_| !cl.sweeping),
            cl.feed.poll_timeout(),
            cl.drop_at,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Asks for the presence set to be loaded (at once unless a load is under way).
    pub(in crate::control::server) fn want_load(&mut self, now: Instant, why: Reload) {
        let Some(cl) = self.cluster.as_mut() else {
            return;
        };
        // A load under way covers the request: its set resets the feed.
        if cl.load.is_none() && !cl.loading {
            cl.load = Some(now);
            cl.wake = true;
            cl.push(ClusterEvent::Loading(why));
        }
    }

    /// A presence set was applied: the store is up, and every local lease is renewed
    /// (or claimed again) at once.
    pub(in crate::control::server) fn store_synced(
        &mut self,
        now: Instant,
        seq: u64,
        remote: usize,
    ) {
        let local = self.dir.len().saturating_sub(remote);
        let Some(cl) = self.cluster.as_mut() else {
            return;
        };
        if core::mem::take(&mut cl.loading) {
            cl.out = cl.out.saturating_sub(1);
        }
        cl.up = true;
        cl.told_down = false;
        cl.retry = cl.config.retry_min;
        cl.last_ok = now;
        cl.drop_at = None;
        cl.renew_at = now + cl.config.renew_interval;
        cl.renew_from = Some(0);
        cl.sweep_at = cl.sweep_at.min(now + cl.config.sweep_interval);
        cl.wake = true;
        cl.push(ClusterEvent::Synced { seq, remote, local });
    }

    pub(in crate::control::server) fn store_failed(&mut self, now: Instant) {
        let Some(cl) = self.cluster.as_mut() else {
            return;
        };
        if !core::mem::replace(&mut cl.told_down, true) {
            let keep = cl.config.lease_ttl;
            cl.push(ClusterEvent::StoreDown { keep });
        }
        if cl.up {
            cl.up = false;
            cl.drop_at = Some(cl.last_ok + cl.config.lease_ttl);
            cl.renew_from = None;
            cl.feed.reset();
            self.drop_releases();
        }
        let Some(cl) = self.cluster.as_mut() else {
            return;
        };
        if cl.load.is_none() {
            cl.load = Some(now + cl.retry);
            cl.retry = cl.retry.saturating_mul(2).min(cl.config.retry_max);
        }
    }

    fn swept(&mut self, now: Instant, limit: u32, reply: Result<StoreReply, StoreFailed>) {
        let Some(cl) = self.cluster.as_mut() else {
            return;
        };
        cl.sweeping = false;
        if let Ok(StoreReply::Swept { head, epoch, .. }) = reply {
            if cl.epoch.is_some_and(|e| e != epoch) {
                cl.epoch = None;
                self.want_load(now, Reload::NewEpoch);
            } else {
                cl.feed.handle_head(now, head);
            }
        }
        let Some(cl) = self.cluster.as_mut() else {
            return;
        };
        let pause = match reply {
            Ok(StoreReply::Swept { count, .. }) if count >= limit => Duration::ZERO,
            Ok(StoreReply::Swept {
                next_expiry: Some(next),
                ..
            }) => next.min(cl.config.sweep_interval),
            _ => cl.config.sweep_interval,
        };
        cl.sweep_at = now + pause;
    }
}

impl Cluster {
    /// The store answered at `now`.
    pub(in crate::control::server) fn touch(&mut self, now: Instant) {
        self.last_ok = self.last_ok.max(now);
    }

    pub(in crate::control::server) fn push(&mut self, event: ClusterEvent) {
        if self.events.is_full() {
            self.events.pop_front();
        }
        let _ = self.events.push_back(event);
    }
}
