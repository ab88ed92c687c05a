//! A model of the cluster store for the simulation: the semantics of the Lua scripts
//! in `host-server/src/cluster/scripts.rs` (claim, renew, release, sweep, load) over
//! in-memory maps, on the simulation's clock. The end-to-end tests run the real
//! scripts on a real Redis; this model lets the seeded simulation drive the cores'
//! merge logic through thousands of interleavings.

use std::collections::{BTreeMap, VecDeque};

use peerchat_proto::cluster::{Change, ChangeKind, Lease, LeaseEnd, NodeId};
use peerchat_proto::control::server::StoreReply;
use peerchat_proto::names::user::UserName;
use peerchat_proto::time::{Duration, Instant};
use peerchat_proto::wire::{PeerId, WireAddr};

/// The store's state.
#[derive(Debug, Default)]
pub struct SimStore {
    /// Folded name → lease and its expiry.
    users: BTreeMap<String, (Lease, Instant)>,
    /// Id → folded name, for every lease.
    ids: BTreeMap<u32, String>,
    next_id: u32,
    seq: u64,
    /// The stream: `log[0]` is entry number `first`.
    log: VecDeque<Change>,
    first: usize,
    /// Most entries kept.
    max_len: usize,
    /// Its epoch (a new store gets a new one).
    epoch: u64,
}

/// A presence set as [`SimStore::load`] returns it.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The store's epoch.
    pub epoch: u64,
    /// Its change number.
    pub seq: u64,
    /// Stream position to read on from.
    pub position: usize,
    /// The leases.
    pub leases: Vec<Lease>,
}

fn folded(name: &UserName) -> String {
    name.as_str().to_ascii_lowercase()
}

impl SimStore {
    /// An empty store keeping at most `max_len` stream entries, of epoch `epoch`, its
    /// stream positions starting at `first` (Redis stream ids grow with time, also
    /// across a restart).
    pub fn new(max_len: usize, epoch: u64, first: usize) -> Self {
        SimStore {
            max_len,
            epoch,
            first,
            ..SimStore::default()
        }
    }

    /// The live leases at `now` (expired ones not yet swept excluded).
    pub fn live(&self, now: Instant) -> Vec<Lease> {
        self.users
            .values()
            .filter(|(_, exp)| *exp > now)
            .map(|(l, _)| *l)
            .collect()
    }

    /// Stream entries from absolute position `from` on (entries trimmed away are
    /// skipped), and the position after them.
    pub fn read(&self, from: usize) -> (Vec<Change>, usize) {
        let start = from.max(self.first);
        let skip = start - self.first;
        let entries: Vec<Change> = self.log.iter().skip(skip).copied().collect();
        (entries, self.first + self.log.len())
    }

    /// The last change number.
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// The end of the stream.
    pub fn end(&self) -> usize {
        self.first + self.log.len()
    }

    fn publish(&mut self, kind: ChangeKind, lease: Lease) -> u64 {
        self.seq += 1;
        self.log.push_back(Change {
            seq: self.seq,
            kind,
            lease,
        });
        while self.log.len() > self.max_len {
            self.log.pop_front();
            self.first += 1;
        }
        self.seq
    }

    fn drop_lease(&mut self, key: &str, why: LeaseEnd) {
        if let Some((lease, _)) = self.users.remove(key) {
            if self.ids.get(&lease.id.0).is_some_and(|k| k == key) {
                self.ids.remove(&lease.id.0);
            }
            self.publish(ChangeKind::Left(why), lease);
        }
    }

    /// The live lease on `key`; an expired one is swept first.
    fn live_lease(&mut self, key: &str, now: Instant) -> Option<Lease> {
        let (lease, exp) = *self.users.get(key)?;
        if exp > now {
            return Some(lease);
        }
        self.drop_lease(key, LeaseEnd::Swept);
        None
    }

    fn grant(&mut self, lease: Lease, ttl: Duration, now: Instant) -> u64 {
        let key = folded(&lease.name);
        self.next_id = self.next_id.max(lease.id.0);
        self.users.insert(key.clone(), (lease, now + ttl));
        assert!(
            self.ids.get(&lease.id.0).is_none_or(|k| *k == key),
            "two live leases under id {}",
            lease.id.0
        );
        self.ids.insert(lease.id.0, key);
        self.publish(ChangeKind::Joined, lease)
    }

    /// The claim script.
    pub fn claim(
        &mut self,
        now: Instant,
        ttl: Duration,
        owner: NodeId,
        name: UserName,
        addr: WireAddr,
    ) -> StoreReply {
        let key = folded(&name);
        if self.live_lease(&key, now).is_some() {
            return StoreReply::Taken;
        }
        let id = loop {
            self.next_id = self.next_id.checked_add(1).unwrap_or(1);
            if !self.ids.contains_key(&self.next_id) {
                break PeerId(self.next_id);
            }
        };
        let lease = Lease {
            id,
            owner,
            addr,
            name,
            key: None,
        };
        let seq = self.grant(lease, ttl, now);
        StoreReply::Claimed { id, seq }
    }

    /// The renew script, for one lease.
    pub fn renew(
        &mut self,
        now: Instant,
        ttl: Duration,
        owner: NodeId,
        name: UserName,
        id: PeerId,
        addr: WireAddr,
    ) -> StoreReply {
        let key = folded(&name);
        let fresh = Lease {
            id,
            owner,
            addr,
            name,
            key: None,
        };
        // The owner's own lease is extended even if its time ran out, as long as no
        // sweep ended it (nobody was told it ended).
        let own = self
            .users
            .get(&key)
            .is_some_and(|(l, _)| l.id == id && l.owner == owner);
        let current = if own {
            self.users.get(&key).map(|(l, _)| *l)
        } else {
            self.live_lease(&key, now)
        };
        match current {
            Some(lease) if lease.id == id && lease.owner == owner => {
                if lease != fresh {
                    self.users.insert(key, (fresh, now + ttl));
                    self.publish(ChangeKind::Moved, fresh);
                } else if let Some(entry) = self.users.get_mut(&key) {
                    entry.1 = now + ttl;
                }
                StoreReply::Renewed
            }
            Some(_) => StoreReply::Lost,
            None if self.ids.get(&id.0).is_some_and(|k| *k != key) => StoreReply::Lost,
            None => StoreReply::Claimed {
                id,
                seq: self.grant(fresh, ttl, now),
            },
        }
    }

    /// The release script.
    pub fn release(&mut self, owner: NodeId, name: UserName, id: PeerId) -> StoreReply {
        let key = folded(&name);
        if let Some((lease, _)) = self.users.get(&key) {
            if lease.id == id && lease.owner == owner {
                self.drop_lease(&key, LeaseEnd::Bye);
            }
        }
        StoreReply::Released
    }

    /// The sweep script.
    pub fn sweep(&mut self, now: Instant, limit: u32) -> StoreReply {
        let mut expired: Vec<(Instant, String)> = self
            .users
            .iter()
            .filter(|(_, (_, exp))| *exp <= now)
            .map(|(k, (_, exp))| (*exp, k.clone()))
            .collect();
        expired.sort();
        expired.truncate(limit as usize);
        for (_, key) in &expired {
            self.drop_lease(key, LeaseEnd::Swept);
        }
        let next = self.users.values().map(|(_, exp)| *exp).min();
        StoreReply::Swept {
            count: expired.len() as u32,
            next_expiry: next.map(|t| t.saturating_since(now)),
            head: self.seq,
            epoch: self.epoch,
        }
    }

    /// The load script: sweep everything expired, then the presence set.
    pub fn load(&mut self, now: Instant) -> Loaded {
        while matches!(self.sweep(now, 1000), StoreReply::Swept { count: 1000, .. }) {}
        Loaded {
            epoch: self.epoch,
            seq: self.seq,
            position: self.end(),
            leases: self.users.values().map(|(l, _)| *l).collect(),
        }
    }
}
