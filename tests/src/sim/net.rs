//! A seeded network emulator: loss, duplication, reordering and delay, plus nodes that
//! vanish and come back, a tap through which a simulated attacker sees every datagram
//! sent, and NATs in front of LANs ([`super::nat`]).

use core::cmp::Reverse;
use core::net::SocketAddr;
use std::collections::{BinaryHeap, HashSet, VecDeque};

use peerchat_proto::time::{Duration, Instant};

use super::nat::Nats;
use super::rng::SimRng;

/// How the network mistreats datagrams.
#[derive(Debug, Clone, Copy)]
pub struct NetConfig {
    /// Probability that a datagram is lost.
    pub loss: f64,
    /// Probability that a datagram is delivered twice.
    pub duplicate: f64,
    /// Probability that a datagram is held back by up to `reorder_extra` more.
    pub reorder: f64,
    /// Shortest one-way delay.
    pub delay_min: Duration,
    /// Longest one-way delay (before reordering).
    pub delay_max: Duration,
    /// Extra delay of a reordered datagram, at most.
    pub reorder_extra: Duration,
}

impl NetConfig {
    /// A perfect network with a fixed 1 ms delay.
    pub fn perfect() -> Self {
        NetConfig {
            loss: 0.0,
            duplicate: 0.0,
            reorder: 0.0,
            delay_min: Duration::from_millis(1),
            delay_max: Duration::from_millis(1),
            reorder_extra: Duration::ZERO,
        }
    }

    /// The acceptance bar: 20% loss, 5% duplication, 5% reordering, 5–40 ms delay.
    pub fn hostile() -> Self {
        NetConfig {
            loss: 0.20,
            duplicate: 0.05,
            reorder: 0.05,
            delay_min: Duration::from_millis(5),
            delay_max: Duration::from_millis(40),
            reorder_extra: Duration::from_millis(100),
        }
    }
}

/// A datagram on its way.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct InFlight {
    /// When it arrives.
    pub at: Instant,
    /// Tie-breaker: order of sending, so equal times stay deterministic.
    pub serial: u64,
    /// Source address.
    pub from: SocketAddr,
    /// Destination address.
    pub to: SocketAddr,
    /// The bytes.
    pub bytes: Vec<u8>,
}

/// What the network did so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NetStats {
    /// Datagrams handed to the network.
    pub sent: u64,
    /// Lost on purpose.
    pub lost: u64,
    /// Extra copies made.
    pub duplicated: u64,
    /// Held back to arrive out of order.
    pub reordered: u64,
    /// Dropped because an end was down.
    pub blackholed: u64,
    /// Delivered.
    pub delivered: u64,
}

/// The network between the simulated nodes.
#[derive(Debug)]
pub struct Network {
    config: NetConfig,
    rng: SimRng,
    queue: BinaryHeap<Reverse<InFlight>>,
    down: HashSet<SocketAddr>,
    serial: u64,
    stats: NetStats,
    /// Copies of the last datagrams sent, for an on-path observer (off when `None`).
    tap: Option<(usize, VecDeque<InFlight>)>,
    nats: Nats,
}

impl Network {
    /// A network with its own random stream.
    pub fn new(config: NetConfig, seed: u64) -> Self {
        Network {
            config,
            rng: SimRng::new(seed),
            queue: BinaryHeap::new(),
            down: HashSet::new(),
            serial: 0,
            stats: NetStats::default(),
            tap: None,
            nats: Nats::default(),
        }
    }

    /// The NATs: add routers and LANs here (none: every address reaches every other).
    pub fn nats_mut(&mut self) -> &mut Nats {
        &mut self.nats
    }

    /// The NATs.
    pub fn nats(&self) -> &Nats {
        &self.nats
    }

    /// Keeps a copy of each datagram sent from now on (the last `capacity` of them), as
    /// an on-path observer sees them: before any loss.
    pub fn enable_tap(&mut self, capacity: usize) {
        self.tap = Some((capacity, VecDeque::new()));
    }

    /// The datagrams the tap saw since the last call, oldest first.
    pub fn drain_tap(&mut self) -> Vec<InFlight> {
        self.tap
            .as_mut()
            .map(|(_, seen)| seen.drain(..).collect())
            .unwrap_or_default()
    }

    /// Changes how the network behaves from now on.
    pub fn set_config(&mut self, config: NetConfig) {
        self.config = config;
    }

    /// Takes `addr` off the network (everything to or from it vanishes) or brings it back.
    pub fn set_down(&mut self, addr: SocketAddr, down: bool) {
        if down {
            self.down.insert(addr);
        } else {
            self.down.remove(&addr);
        }
    }

    /// What happened so far.
    pub fn stats(&self) -> NetStats {
        self.stats
    }

    /// Hands a datagram to the network at `now`.
    pub fn send(&mut self, now: Instant, from: SocketAddr, to: SocketAddr, bytes: &[u8]) {
        self.stats.sent += 1;
        // The source as the world sees it, after the sender's NAT.
        let Some(from) = self.nats.depart(now, from, to) else {
            return;
        };
        if let Some((capacity, seen)) = &mut self.tap {
            if seen.len() == *capacity {
                seen.pop_front();
            }
            seen.push_back(InFlight {
                at: now,
                serial: self.serial,
                from,
                to,
                bytes: bytes.to_vec(),
            });
        }
        if self.down.contains(&from) || self.down.contains(&to) {
            self.stats.blackholed += 1;
            return;
        }
        if self.rng.chance(self.config.loss) {
            self.stats.lost += 1;
            return;
        }
        let copies = if self.rng.chance(self.config.duplicate) {
            self.stats.duplicated += 1;
            2
        } else {
            1
        };
        for _ in 0..copies {
            let at = now + self.delay();
            self.push(at, from, to, bytes.to_vec());
        }
    }

    /// Puts a datagram on the wire exactly as given (for forged or garbage traffic).
    pub fn inject(&mut self, at: Instant, from: SocketAddr, to: SocketAddr, bytes: Vec<u8>) {
        self.push(at, from, to, bytes);
    }

    fn delay(&mut self) -> Duration {
        let c = self.config;
        let mut us = self
            .rng
            .range(c.delay_min.as_micros(), c.delay_max.as_micros());
        if self.rng.chance(c.reorder) {
            self.stats.reordered += 1;
            us += self.rng.range(0, c.reorder_extra.as_micros());
        }
        Duration::from_micros(us)
    }

    fn push(&mut self, at: Instant, from: SocketAddr, to: SocketAddr, bytes: Vec<u8>) {
        self.serial += 1;
        let serial = self.serial;
        self.queue.push(Reverse(InFlight {
            at,
            serial,
            from,
            to,
            bytes,
        }));
    }

    /// When the next datagram arrives.
    pub fn next_arrival(&self) -> Option<Instant> {
        self.queue.peek().map(|Reverse(d)| d.at)
    }

    /// The next datagram due at or before `now` (and not to a node that is down).
    pub fn pop_due(&mut self, now: Instant) -> Option<InFlight> {
        loop {
            if self.next_arrival()? > now {
                return None;
            }
            let Reverse(mut d) = self.queue.pop()?;
            // Through the receiver's NAT, as it is when the datagram arrives.
            match self.nats.arrive(now, d.from, d.to) {
                Some(to) => d.to = to,
                None => continue,
            }
            if self.down.contains(&d.to) {
                self.stats.blackholed += 1;
                continue;
            }
            self.stats.delivered += 1;
            return Some(d);
        }
    }
}
