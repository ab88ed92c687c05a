//! A world of sans-IO nodes on one [`Network`] under one virtual clock.

use core::net::SocketAddr;

use peerchat_proto::time::Instant;
use peerchat_proto::wire::v2_relay::MAX_RELAY_DATAGRAM;

use super::net::{NetConfig, Network};

/// What the world needs from a node: the sans-IO driving surface. A node wrapper usually
/// drains its core's events into a log inside `handle_datagram`/`handle_timeout`.
pub trait Node {
    /// One datagram arrived from `from`.
    fn handle_datagram(&mut self, now: Instant, from: SocketAddr, bytes: &[u8]);
    /// The next datagram to send: destination and length written into `buf`.
    fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<(SocketAddr, usize)>;
    /// When `handle_timeout` must run next.
    fn poll_timeout(&self) -> Option<Instant>;
    /// Timers expired.
    fn handle_timeout(&mut self, now: Instant);
}

/// Nodes, their addresses, the network and the clock.
#[derive(Debug)]
pub struct World<N> {
    now: Instant,
    nodes: Vec<(SocketAddr, N)>,
    /// The network; tests may reconfigure it, take nodes down or inject datagrams.
    pub net: Network,
}

impl<N: Node> World<N> {
    /// An empty world at time zero.
    pub fn new(config: NetConfig, seed: u64) -> Self {
        World {
            now: Instant::ZERO,
            nodes: Vec::new(),
            net: Network::new(config, seed ^ 0x6e65_7477_6f72_6b00),
        }
    }

    /// Adds a node reachable at `addr`; returns its index.
    pub fn add(&mut self, addr: SocketAddr, node: N) -> usize {
        self.nodes.push((addr, node));
        self.nodes.len() - 1
    }

    /// Replaces node `i` by `node` at `addr` (a restart, possibly from a new address);
    /// returns the old node.
    pub fn replace(&mut self, i: usize, addr: SocketAddr, node: N) -> N {
        core::mem::replace(&mut self.nodes[i], (addr, node)).1
    }

    /// The virtual time.
    pub fn now(&self) -> Instant {
        self.now
    }

    /// Address of node `i`.
    pub fn addr(&self, i: usize) -> SocketAddr {
        self.nodes[i].0
    }

    /// Node `i`.
    pub fn node(&self, i: usize) -> &N {
        &self.nodes[i].1
    }

    /// Node `i`, to feed it input (sends made now go out on the next step).
    pub fn node_mut(&mut self, i: usize) -> &mut N {
        &mut self.nodes[i].1
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether there are no nodes.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Hands every node's pending datagrams to the network.
    pub fn flush(&mut self) {
        // Room for any datagram, a relayed one included.
        let mut buf = [0u8; MAX_RELAY_DATAGRAM];
        for (addr, node) in &mut self.nodes {
            while let Some((dst, len)) = node.poll_transmit(self.now, &mut buf) {
                self.net.send(self.now, *addr, dst, &buf[..len]);
            }
        }
    }

    /// The next moment something happens (a datagram arrives or a timer fires).
    pub fn next_event(&self) -> Option<Instant> {
        let timers = self.nodes.iter().filter_map(|(_, n)| n.poll_timeout());
        timers.chain(self.net.next_arrival()).min()
    }

    /// Advances to the next event if it is at or before `limit` and handles it; else
    /// moves the clock to `limit`. Returns whether an event was handled.
    pub fn step(&mut self, limit: Instant) -> bool {
        self.flush();
        let Some(at) = self.next_event().filter(|&at| at <= limit) else {
            self.now = self.now.max(limit);
            return false;
        };
        self.now = self.now.max(at);
        while let Some(d) = self.net.pop_due(self.now) {
            if let Some((_, node)) = self.nodes.iter_mut().find(|(a, _)| *a == d.to) {
                node.handle_datagram(self.now, d.from, &d.bytes);
            }
        }
        for (_, node) in &mut self.nodes {
            if node.poll_timeout().is_some_and(|t| t <= self.now) {
                node.handle_timeout(self.now);
            }
        }
        self.flush();
        true
    }

    /// Runs until `limit` or until `done` says so (checked after every step).
    pub fn run_until(&mut self, limit: Instant, mut done: impl FnMut(&Self) -> bool) -> bool {
        while !done(self) {
            if !self.step(limit) && self.now >= limit {
                return done(self);
            }
        }
        true
    }
}
