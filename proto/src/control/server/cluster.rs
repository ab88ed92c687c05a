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
//!   through [`Server::handle_snapshot`] (after [`StoreOp::Load`]); `merge` applies
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

use heapless::Deque;

use super::conn::ConnState;
use super::{CloseReason, ConnId, Server};
use crate::cluster::{ChangeFeed, ClusterConfig, Resync};
use crate::directory::{JoinError, Slot};
use crate::names::user::UserName;
use crate::time::{Duration, Instant};
use crate::wire::{PeerId, RejectReason, WireAddr};

/// Tag bit of directory entries that are other servers' users (the rest of the tag is
/// the presence-set load that last saw them); local users' tags are connection indexes.
pub(super) const REMOTE: u32 = 1 << 31;

const EVENTS: usize = 32;

/// What the store is owed for one connection, and its place in the store queue.
#[derive(Debug, Clone, Copy)]
pub(crate) struct StoreDue {
    claim: bool,
    pub(super) renew: bool,
    release: bool,
    /// In the store queue.
    queued: bool,
    /// An op for this connection is out.
    busy: bool,
    next: u32,
    /// The UDP port from `Hello`.
    port: u16,
    /// The change sequence number at which this connection's lease was last claimed.
    pub(super) lease_seq: u64,
}

impl StoreDue {
    pub(crate) const NONE: StoreDue = StoreDue {
        claim: false,
        renew: false,
        release: false,
        queued: false,
        busy: false,
        next: u32::MAX,
        port: 0,
        lease_seq: 0,
    };
}

/// What the host must do with the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum StoreOp {
    /// Sweep expired leases, then load the presence set with the store's epoch and its
    /// change number, and read the stream on from the position it was taken at. Answer
    /// with [`Server::handle_snapshot`] (or a failure).
    Load,
    /// Claim `name` for a login at `addr` under a new id: [`StoreReply::Claimed`] or
    /// [`StoreReply::Taken`].
    Claim {
        /// The connection logging in.
        conn: ConnId,
        /// The name.
        name: UserName,
        /// The address to publish.
        addr: WireAddr,
    },
    /// Extend the lease this server holds on `name` as `id`, publishing `addr` if it
    /// changed; if the store no longer has a live lease on the name, claim it again
    /// under `id`. [`StoreReply::Renewed`], [`StoreReply::Claimed`] or
    /// [`StoreReply::Lost`] (someone else holds it).
    Renew {
        /// The user's connection.
        conn: ConnId,
        /// The name.
        name: UserName,
        /// The user's id.
        id: PeerId,
        /// Its published address.
        addr: WireAddr,
    },
    /// End the lease on `name` if this server still holds it as `id`:
    /// [`StoreReply::Released`].
    Release {
        /// The connection that held it.
        conn: ConnId,
        /// The name.
        name: UserName,
        /// The id it was held under.
        id: PeerId,
    },
    /// Remove up to `limit` expired leases, publishing their `Left`, and tell the last
    /// change number and the epoch: [`StoreReply::Swept`].
    Sweep {
        /// Most leases to remove.
        limit: u32,
    },
}

/// The store's answer to a [`StoreOp`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum StoreReply {
    /// The lease is this server's, under `id`, from change `seq` on.
    Claimed {
        /// The user's id.
        id: PeerId,
        /// The sequence number of the `Joined` change.
        seq: u64,
    },
    /// Someone else holds the name (a claim was refused).
    Taken,
    /// The lease was extended.
    Renewed,
    /// Someone else holds the name now (a renewal found it taken).
    Lost,
    /// The lease is gone (or was not this server's any more).
    Released,
    /// Expired leases were removed.
    Swept {
        /// How many.
        count: u32,
        /// When the earliest lease left would expire, from now.
        next_expiry: Option<Duration>,
        /// The store's last change number: a server that has not applied up to it is
        /// behind (and loads the presence set if the changes do not come).
        head: u64,
        /// The store's epoch: a server that loaded under another one loads again.
        epoch: u64,
    },
}

/// The store could not be reached or did not answer in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct StoreFailed;

/// Something about the cluster worth logging.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ClusterEvent {
    /// The store failed: local users go on; remote ones stay for `keep` at most.
    StoreDown {
        /// How long remote users stay listed without the store.
        keep: Duration,
    },
    /// The presence set is being loaded again.
    Loading(Resync),
    /// The presence set was loaded: the server follows the stream from `seq` on.
    Synced {
        /// Its sequence number.
        seq: u64,
        /// Users of other servers listed.
        remote: usize,
        /// This server's users.
        local: usize,
    },
    /// The store was unreachable for a lease period: other servers' users were removed
    /// from the list (their leases may have ended unseen).
    RemoteDropped {
        /// How many.
        count: usize,
    },
    /// A local user lost its name to a user of another server (this server could not
    /// renew the lease in time); it is disconnected.
    NameLost {
        /// Its connection.
        conn: ConnId,
        /// The name.
        name: UserName,
    },
    /// A user of another server could not be listed here.
    RemoteRefused {
        /// Who.
        name: UserName,
        /// Why (`Full`: this server's directory is smaller than the cluster).
        error: JoinError,
    },
}

/// The cluster state of a server node.
pub(super) struct Cluster {
    pub(super) config: ClusterConfig,
    pub(super) feed: ChangeFeed,
    /// The store answers (a presence set was loaded since the last failure).
    pub(super) up: bool,
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
    pub(super) mark: u32,
    /// The last change number applied.
    pub(super) last_seq: u64,
    /// The epoch of the store the last presence set came from.
    pub(super) epoch: Option<u64>,
    head: u32,
    tail: u32,
    /// Ops handed out and not answered yet.
    out: u32,
    events: Deque<ClusterEvent, EVENTS>,
    wake: bool,
}

impl<S, C, J> Server<S, C, J>
where
    S: AsRef<[Slot]> + AsMut<[Slot]>,
    C: AsRef<[super::Conn]> + AsMut<[super::Conn]>,
    J: AsRef<[super::Record]> + AsMut<[super::Record]>,
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

    /// A valid `Hello` on connection `i` in cluster mode: claim the name.
    pub(super) fn begin_claim(&mut self, i: usize, name: UserName, port: u16) {
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
    pub(super) fn on_claiming(&mut self, i: usize, input: super::Input) {
        let c = &mut self.conns.as_mut()[i];
        match input {
            super::Input::Ping => c.owed.pong = true,
            super::Input::List => {}
            super::Input::Bye => c.close(CloseReason::Bye),
            super::Input::Hello(..) => c.close(CloseReason::Unexpected),
            super::Input::Bad(e) => c.close(CloseReason::Protocol(e)),
        }
        self.wake = true;
    }

    /// Local user `i` left the directory: its lease is released (unless another server
    /// holds the name now).
    pub(super) fn store_left(&mut self, i: usize, reason: CloseReason) {
        if self.cluster.is_none() || reason == CloseReason::NameLost {
            return;
        }
        let c = &mut self.conns.as_mut()[i];
        c.store.release = true;
        c.store.renew = false;
        self.enqueue(i);
    }

    /// A probe moved a user's address: a local user's lease publishes it.
    pub(super) fn store_moved(&mut self, delta: &crate::directory::Delta) {
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
    pub(super) fn retire_conn(&mut self, i: usize) {
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

    /// The cluster's timers.
    pub(super) fn cluster_timeout(&mut self, now: Instant) {
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
    pub(super) fn cluster_deadline(&self) -> Option<Instant> {
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
    pub(super) fn want_load(&mut self, now: Instant, why: Resync) {
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
    pub(super) fn store_synced(&mut self, now: Instant, seq: u64, remote: usize) {
        let local = self.dir.len().saturating_sub(remote);
        let Some(cl) = self.cluster.as_mut() else {
            return;
        };
        if core::mem::take(&mut cl.loading) {
            cl.out = cl.out.saturating_sub(1);
        }
        cl.up = true;
        cl.retry = cl.config.retry_min;
        cl.last_ok = now;
        cl.drop_at = None;
        cl.renew_at = now + cl.config.renew_interval;
        cl.renew_from = Some(0);
        cl.sweep_at = cl.sweep_at.min(now + cl.config.sweep_interval);
        cl.wake = true;
        cl.push(ClusterEvent::Synced { seq, remote, local });
    }

    fn store_failed(&mut self, now: Instant) {
        let Some(cl) = self.cluster.as_mut() else {
            return;
        };
        if cl.up {
            cl.up = false;
            cl.drop_at = Some(cl.last_ok + cl.config.lease_ttl);
            cl.renew_from = None;
            cl.feed.reset();
            let keep = cl.config.lease_ttl;
            cl.push(ClusterEvent::StoreDown { keep });
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

    /// Without the store, queued releases are dropped (those leases expire on their
    /// own) and connections that owe nothing else leave the queue.
    fn drop_releases(&mut self) {
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

    fn swept(&mut self, now: Instant, limit: u32, reply: Result<StoreReply, StoreFailed>) {
        let Some(cl) = self.cluster.as_mut() else {
            return;
        };
        cl.sweeping = false;
        if let Ok(StoreReply::Swept { head, epoch, .. }) = reply {
            if cl.epoch.is_some_and(|e| e != epoch) {
                cl.epoch = None;
                self.want_load(now, Resync::NewEpoch);
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

    fn claimed(&mut self, now: Instant, i: usize, reply: Result<StoreReply, StoreFailed>) {
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

    fn renewed(&mut self, i: usize, id: PeerId, reply: Result<StoreReply, StoreFailed>) {
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
    pub(super) fn lose_name(&mut self, i: usize) {
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
    fn settled(&mut self, i: usize) {
        let c = &mut self.conns.as_mut()[i];
        c.store.busy = false;
        if c.store.claim || c.store.renew || c.store.release {
            return self.enqueue(i);
        }
        if c.state == ConnState::Departed && !c.store.queued {
            self.retire_conn(i);
        }
    }

    /// Puts connection `i` at the end of the store queue (once; not while busy).
    pub(super) fn enqueue(&mut self, i: usize) {
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
    fn next_queued(&mut self) -> Option<StoreOp> {
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
    fn next_renewal(&mut self) -> Option<StoreOp> {
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
fn owed_op(i: usize, c: &mut super::Conn, addr: Option<WireAddr>) -> Option<StoreOp> {
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

impl Cluster {
    /// The store answered at `now`.
    pub(super) fn touch(&mut self, now: Instant) {
        self.last_ok = self.last_ok.max(now);
    }

    pub(super) fn push(&mut self, event: ClusterEvent) {
        if self.events.is_full() {
            self.events.pop_front();
        }
        let _ = self.events.push_back(event);
    }
}
