//! A simulated directory cluster on the seeded harness: several server cores in
//! cluster mode, the store model ([`SimStore`]), and control clients that fail over
//! between the servers, all under one virtual clock.
//!
//! - Store calls travel reliably with a random delay; a store that is down, or a server
//!   cut off from it, answers every call with a failure.
//! - The change stream reaches each server through the harness's [`Network`]: changes
//!   can be lost (a gap), duplicated, reordered and delayed, as configured.
//! - Servers can be killed (their clients fail over; their leases expire and are swept
//!   by the others) and started again under a new node id; the store can go down and
//!   come back, with or without its data.
//!
//! [`ClusterSim::check`] says whether every list agrees with the store's live leases.

use core::net::{IpAddr, Ipv4Addr, SocketAddr};

use peerchat_proto::cluster::{Change, ClusterConfig, NodeId};
use peerchat_proto::control::client::Client;
use peerchat_proto::control::server::{
    Conn, ConnId, Record, Server, ServerConfig, StoreFailed, StoreOp, StoreReply,
};
use peerchat_proto::directory::Slot;
use peerchat_proto::time::{Duration, Instant};

mod check;
mod clients;

use super::store::{Loaded, SimStore};
use super::{NetConfig, Network, SimRng};
use clients::drain;

type Node = Server<Vec<Slot>, Vec<Conn>, Vec<Record>>;

/// The simulation's step.
const STEP: Duration = Duration::from_millis(5);
/// The servers' heartbeat (a lease lives three).
pub const CLUSTER_HEARTBEAT: Duration = Duration::from_secs(1);
/// How often a server's stream reader polls the store.
const READ_EVERY: Duration = Duration::from_millis(10);

/// A store call or its answer on the way.
enum Call {
    ToStore(StoreOp),
    Answer(StoreOp, Result<StoreReply, StoreFailed>),
    Loaded(Result<Loaded, StoreFailed>),
}

struct SimServer {
    core: Node,
    node: NodeId,
    alive: bool,
    /// Cut off from the store (the others still reach it).
    cut: bool,
    /// Where its stream reader is; `None` until a presence set says.
    cursor: Option<usize>,
    /// Presence sets applied: a change read before the last one is dropped, as the
    /// host does (the set's position covers it).
    loads: u64,
    /// Bumped on restart: calls of the old process are dropped.
    generation: u32,
    addr: SocketAddr,
}

struct Link {
    server: usize,
    generation: u32,
    conn: ConnId,
}

struct SimClient {
    pub(super) name: String,
    pub(super) client: Client<64>,
    /// Server indexes in the order this client tries them.
    pub(super) servers: Vec<usize>,
    pub(super) link: Option<Link>,
    /// Whether the scenario wants it logged in (it quits otherwise).
    pub(super) wanted: bool,
    /// When it was refused for good (a new session's name still held by the lease of
    /// the last one, which had no chance to release it): the user tries again later.
    pub(super) refused_at: Option<Instant>,
}

/// The simulated cluster.
pub struct ClusterSim {
    now: Instant,
    rng: SimRng,
    /// The store model.
    pub store: SimStore,
    store_up: bool,
    servers: Vec<SimServer>,
    clients: Vec<SimClient>,
    /// Change delivery from the store to the servers.
    pub net: Network,
    calls: Vec<(Instant, usize, u32, Call)>,
    store_addr: SocketAddr,
    next_node: u64,
}

fn addr(host: u8, port: u16) -> SocketAddr {
    SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, host)), port)
}

fn new_node(node: NodeId, now: Instant, seed: u64) -> Node {
    let mut config = ServerConfig::new([seed as u8; 32]);
    config.heartbeat = CLUSTER_HEARTBEAT;
    config.sweep_interval = Duration::from_millis(100);
    config.handshake_timeout = Duration::from_secs(2);
    config.stall_timeout = Duration::from_secs(3);
    let mut core = Server::new(
        vec![Slot::EMPTY; 64],
        core::iter::repeat_with(Conn::new).take(96).collect(),
        vec![Record::EMPTY; 256],
        config,
    );
    core.enable_cluster(now, ClusterConfig::new(node, CLUSTER_HEARTBEAT));
    core
}

impl ClusterSim {
    /// `servers` servers and `clients` clients (spread across them, each listing every
    /// server in its own order), changes delivered over a network like `net`.
    pub fn new(seed: u64, servers: usize, clients: usize, net: NetConfig) -> Self {
        let mut sim = ClusterSim {
            now: Instant::ZERO,
            rng: SimRng::new(seed),
            store: SimStore::new(512, 1, 0),
            store_up: true,
            servers: Vec::new(),
            clients: Vec::new(),
            net: Network::new(net, seed ^ 0x5eed),
            calls: Vec::new(),
            store_addr: addr(200, 6379),
            next_node: 1,
        };
        for i in 0..servers {
            let node = NodeId(sim.next_node);
            sim.next_node += 1;
            sim.servers.push(SimServer {
                core: new_node(node, sim.now, seed ^ i as u64),
                node,
                alive: true,
                cut: false,
                cursor: None,
                loads: 0,
                generation: 0,
                addr: addr(1 + i as u8, 8888),
            });
        }
        for i in 0..clients {
            let mut order: Vec<usize> = (0..servers).collect();
            order.rotate_left(i % servers);
            sim.spawn_client(format!("user{i}"), order);
        }
        sim
    }

    /// The virtual time.
    pub fn now(&self) -> Instant {
        self.now
    }

    /// The random generator scenarios draw their faults from.
    pub fn rng(&mut self) -> &mut SimRng {
        &mut self.rng
    }

    /// Number of servers.
    pub fn server_count(&self) -> usize {
        self.servers.len()
    }

    /// Number of clients.
    pub fn client_count(&self) -> usize {
        self.clients.len()
    }

    /// Whether server `i` runs.
    pub fn server_alive(&self, i: usize) -> bool {
        self.servers[i].alive
    }

    /// Kills server `i` (`kill -9`): its connections break, its calls vanish.
    pub fn kill_server(&mut self, i: usize) {
        let s = &mut self.servers[i];
        s.alive = false;
        s.cursor = None;
        s.generation += 1;
        let now = self.now;
        for c in &mut self.clients {
            if c.link.as_ref().is_some_and(|l| l.server == i) {
                c.link = None;
                c.client.handle_disconnected(now);
                drain(&mut c.client);
            }
        }
    }

    /// Starts server `i` again: a new process with a new node id, empty.
    pub fn start_server(&mut self, i: usize) {
        let node = NodeId(self.next_node);
        self.next_node += 1;
        let seed = self.rng.next_u64();
        let s = &mut self.servers[i];
        s.core = new_node(node, self.now, seed);
        s.node = node;
        s.alive = true;
        s.cut = false;
        s.cursor = None;
        // A new process reads nothing the old one read.
        s.loads += 1;
    }

    /// Cuts server `i` off from the store, or reconnects it.
    pub fn cut_server(&mut self, i: usize, cut: bool) {
        self.servers[i].cut = cut;
    }

    /// Takes the store down or brings it back; `wipe` brings it back empty (a Redis
    /// restarted without persistence).
    pub fn set_store(&mut self, up: bool, wipe: bool) {
        self.store_up = up;
        if wipe {
            let epoch = self.rng.next_u64();
            self.store = SimStore::new(512, epoch, self.store.end());
        }
    }

    /// Runs for `d` of virtual time.
    pub fn run_for(&mut self, d: Duration) {
        let end = self.now + d;
        while self.now < end {
            self.step();
        }
    }

    /// Runs until `check` passes or `d` has gone by; the last check's outcome.
    pub fn run_until_converged(&mut self, d: Duration) -> Result<(), String> {
        let end = self.now + d;
        loop {
            let verdict = self.check();
            if verdict.is_ok() || self.now >= end {
                return verdict;
            }
            for _ in 0..20 {
                self.step();
            }
        }
    }

    fn step(&mut self) {
        self.now += STEP;
        self.deliver_changes();
        self.run_calls();
        self.read_streams();
        for i in 0..self.servers.len() {
            let s = &mut self.servers[i];
            if s.alive && s.core.poll_timeout() <= self.now {
                s.core.handle_timeout(self.now);
            }
            if s.alive {
                self.take_ops(i);
            }
        }
        for i in 0..self.clients.len() {
            self.pump_client(i);
        }
        let trace = std::env::var_os("SIM_TRACE").is_some();
        let now = self.now;
        for (i, s) in self.servers.iter_mut().enumerate() {
            while let Some(e) = s.core.poll_event() {
                if trace {
                    eprintln!("{:>8} server {i}: {e:?}", now.as_micros() / 1000);
                }
            }
            while let Some(e) = s.core.poll_cluster_event() {
                if trace {
                    eprintln!("{:>8} server {i}: {e:?}", now.as_micros() / 1000);
                }
            }
            let _ = s.core.poll_wakeup();
        }
    }

    fn deliver_changes(&mut self) {
        while let Some(d) = self.net.pop_due(self.now) {
            let Some(i) = self.servers.iter().position(|s| s.addr == d.to) else {
                continue;
            };
            let text = String::from_utf8(d.bytes).expect("change text");
            let (loads, text) = text.split_once('|').expect("load count|change");
            let change = Change::parse(text).expect("a change the model wrote");
            let s = &mut self.servers[i];
            if s.alive && loads.parse() == Ok(s.loads) {
                s.core.handle_change(self.now, change);
                if std::env::var_os("SIM_TRACE").is_some() {
                    let listed = s.core.directory().find(change.lease.name.as_str());
                    eprintln!(
                        "{:>8} server {i} <- {change} (applied {:?}; {} listed as {listed:?})",
                        self.now.as_micros() / 1000,
                        s.core.cluster_seq(),
                        change.lease.name
                    );
                }
            }
        }
    }

    fn take_ops(&mut self, i: usize) {
        let now = self.now;
        while let Some(op) = self.servers[i].core.poll_store_op(now) {
            let at = now + self.delay();
            let generation = self.servers[i].generation;
            self.calls.push((at, i, generation, Call::ToStore(op)));
        }
    }

    fn delay(&mut self) -> Duration {
        Duration::from_micros(self.rng.range(100, 3_000))
    }

    fn run_calls(&mut self) {
        let now = self.now;
        let (due, later): (Vec<_>, Vec<_>) = self.calls.drain(..).partition(|(at, ..)| *at <= now);
        self.calls = later;
        for (_, i, generation, call) in due {
            if self.servers[i].generation != generation || !self.servers[i].alive {
                continue;
            }
            match call {
                Call::ToStore(op) => {
                    let answer = self.execute(i, op);
                    let at = now + self.delay();
                    self.calls.push((at, i, generation, answer));
                }
                Call::Answer(op, reply) => self.servers[i].core.handle_store_reply(now, op, reply),
                Call::Loaded(Ok(loaded)) => {
                    let s = &mut self.servers[i];
                    s.core
                        .handle_snapshot(now, loaded.epoch, loaded.seq, loaded.leases);
                    s.cursor = Some(loaded.position);
                    s.loads += 1;
                }
                Call::Loaded(Err(e)) => {
                    self.servers[i]
                        .core
                        .handle_store_reply(now, StoreOp::Load, Err(e));
                }
            }
        }
    }

    /// Runs `op` at the store for server `i`.
    fn execute(&mut self, i: usize, op: StoreOp) -> Call {
        let reachable = self.store_up && !self.servers[i].cut;
        if !reachable {
            return match op {
                StoreOp::Load => Call::Loaded(Err(StoreFailed)),
                op => Call::Answer(op, Err(StoreFailed)),
            };
        }
        let now = self.now;
        let owner = self.servers[i].node;
        let ttl = CLUSTER_HEARTBEAT.saturating_mul(3);
        let store = &mut self.store;
        let reply = match op {
            StoreOp::Load => return Call::Loaded(Ok(store.load(now))),
            StoreOp::Claim { name, addr, .. } => store.claim(now, ttl, owner, name, addr),
            StoreOp::Renew { name, id, addr, .. } => store.renew(now, ttl, owner, name, id, addr),
            StoreOp::Release { name, id, .. } => store.release(owner, name, id),
            StoreOp::Sweep { limit } => store.sweep(now, limit),
        };
        Call::Answer(op, Ok(reply))
    }

    /// Each server's reader: new stream entries go out over the network.
    fn read_streams(&mut self) {
        if self.now.as_micros() % READ_EVERY.as_micros() != 0 {
            return;
        }
        for i in 0..self.servers.len() {
            let s = &mut self.servers[i];
            let Some(from) = s.cursor.filter(|_| s.alive) else {
                continue;
            };
            if !self.store_up || s.cut {
                s.cursor = None;
                s.core.handle_store_failed(self.now);
                continue;
            }
            let (entries, end) = self.store.read(from);
            s.cursor = Some(end);
            let to = s.addr;
            for change in entries {
                let text = format!("{}|{change}", s.loads);
                self.net
                    .send(self.now, self.store_addr, to, text.as_bytes());
            }
        }
    }
}

impl core::fmt::Debug for ClusterSim {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ClusterSim")
            .field("now", &self.now)
            .field("store_up", &self.store_up)
            .finish_non_exhaustive()
    }
}
