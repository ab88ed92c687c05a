//! Deterministic simulation of the directory: one sans-IO server node and many client
//! state machines over in-memory connections, on the core's own virtual clock. Byte
//! streams are cut into seeded random chunks and nodes run in seeded random order; a
//! failing seed replays exactly.

use std::collections::VecDeque;

use peerchat_proto::control::client::{Action, Client, ClientConfig, ClientEvent, Disconnect};
use peerchat_proto::control::server::{Conn, ConnId, Record, Server, ServerConfig, Transmit};
use peerchat_proto::directory::Slot;
use peerchat_proto::roster::RosterEvent;
use peerchat_proto::wire::{WireAddr, MAX_CLIENT_FRAME};
use peerchat_proto::{Duration, Instant};

type Node = Server<Vec<Slot>, Vec<Conn>, Vec<Record>>;

const STEP: Duration = Duration::from_millis(10);
const HEARTBEAT: Duration = Duration::from_secs(1);

fn server(seed: u64) -> Node {
    let mut config = ServerConfig::new([seed as u8; 32]);
    config.heartbeat = HEARTBEAT;
    config.sweep_interval = Duration::from_millis(100);
    config.handshake_timeout = Duration::from_secs(2);
    config.stall_timeout = Duration::from_secs(3);
    Server::new(
        vec![Slot::EMPTY; 64],
        core::iter::repeat_with(Conn::new).take(80).collect(),
        vec![Record::EMPTY; 256],
        config,
    )
}

struct Link {
    conn: ConnId,
    up: VecDeque<u8>,
    down: VecDeque<u8>,
}

struct Peer {
    client: Client<64>,
    link: Option<Link>,
    /// The network drops everything to and from this peer, silently.
    cut: bool,
    events: Vec<ClientEvent>,
}

struct World {
    now: Instant,
    server: Node,
    peers: Vec<Peer>,
    rng: u64,
}

impl World {
    fn new(seed: u64, n: usize) -> Self {
        let peers = (0..n)
            .map(|i| {
                let mut config = ClientConfig::new(seed ^ i as u64);
                config.backoff_min = Duration::from_millis(100);
                config.backoff_max = Duration::from_secs(1);
                Peer {
                    client: Client::new(&format!("user{i}"), 9000 + i as u16, config).unwrap(),
                    link: None,
                    cut: false,
                    events: Vec::new(),
                }
            })
            .collect();
        World {
            now: Instant::ZERO,
            server: server(seed),
            peers,
            rng: seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1,
        }
    }

    fn random(&mut self, below: usize) -> usize {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        (self.rng % below as u64) as usize
    }

    fn step(&mut self) {
        let mut order: Vec<usize> = (0..self.peers.len()).collect();
        for i in (1..order.len()).rev() {
            let j = self.random(i + 1);
            order.swap(i, j);
        }
        for &i in &order {
            self.client_side(i);
        }
        if self.server.poll_timeout() <= self.now {
            self.server.handle_timeout(self.now);
        }
        let _ = self.server.poll_wakeup();
        while self.server.poll_event().is_some() {}
        for &i in &order {
            self.server_side(i);
        }
        self.now += STEP;
    }

    fn client_side(&mut self, i: usize) {
        let now = self.now;
        let p = &mut self.peers[i];
        if p.client.poll_timeout().is_some_and(|t| t <= now) {
            p.client.handle_timeout(now);
            drain(p);
        }
        while let Some(action) = p.client.poll_action() {
            match action {
                Action::Connect if p.cut => p.client.handle_connect_failed(now),
                Action::Connect => {
                    let addr = WireAddr::V4([10, 0, 0, i as u8], 40000);
                    let conn = self.server.handle_connect(now, addr).expect("room");
                    p.link = Some(Link {
                        conn,
                        up: VecDeque::new(),
                        down: VecDeque::new(),
                    });
                    p.client.handle_connected(now);
                }
                Action::Close => {
                    if let Some(link) = p.link.take() {
                        if !p.cut {
                            self.server.handle_disconnect(now, link.conn);
                        }
                    }
                }
            }
        }
        let mut buf = [0u8; MAX_CLIENT_FRAME];
        while let Some(Ok(n)) = p.client.poll_transmit(&mut buf) {
            if let Some(link) = p.link.as_mut() {
                if !p.cut {
                    link.up.extend(&buf[..n]);
                }
            }
        }
        let chunk = 1 + self.random(48);
        let p = &mut self.peers[i];
        if let Some(link) = p.link.as_mut() {
            let take = chunk.min(link.up.len());
            let bytes: Vec<u8> = link.up.drain(..take).collect();
            self.server.handle_bytes(now, link.conn, &bytes);
        }
    }

    fn server_side(&mut self, i: usize) {
        let now = self.now;
        let size = 2048 + self.random(4096);
        let chunk = 1 + self.random(3000);
        let p = &mut self.peers[i];
        let Some(link) = p.link.as_mut() else { return };
        let mut buf = vec![0u8; size];
        loop {
            match self.server.poll_transmit(now, link.conn, &mut buf) {
                Transmit::Frames(n) if !p.cut => link.down.extend(&buf[..n]),
                Transmit::Frames(_) => {}
                Transmit::Idle => break,
                Transmit::Close(_) => {
                    self.server.handle_disconnect(now, link.conn);
                    if !p.cut {
                        // The client reads what is left, then sees the end.
                        let rest: Vec<u8> = link.down.drain(..).collect();
                        feed(p, now, &rest);
                        p.link = None;
                        p.client.handle_disconnected(now);
                        drain(p);
                    }
                    return;
                }
            }
        }
        let take = chunk.min(link.down.len());
        let bytes: Vec<u8> = link.down.drain(..take).collect();
        feed(p, now, &bytes);
    }

    /// The server process dies and a new one starts: every connection breaks.
    fn restart_server(&mut self, seed: u64) {
        self.server = server(seed);
        let now = self.now;
        for p in &mut self.peers {
            if p.link.take().is_some() {
                p.client.handle_disconnected(now);
                drain(p);
            }
        }
    }

    fn run_until(&mut self, limit: Duration, mut done: impl FnMut(&World) -> bool) -> bool {
        let end = self.now + limit;
        while self.now < end {
            if done(self) {
                return true;
            }
            self.step();
        }
        done(self)
    }

    /// Every peer in `who` is synced and sees exactly the peers in `who`.
    fn converged(&self, who: &[usize]) -> bool {
        let mut want: Vec<String> = who.iter().map(|i| format!("user{i}")).collect();
        want.sort();
        who.iter().all(|&i| {
            let c = &self.peers[i].client;
            let mut names: Vec<String> = c
                .roster()
                .iter()
                .map(|p| p.name.as_str().to_string())
                .collect();
            names.sort();
            c.is_online() && c.roster().is_synced() && names == want
        })
    }
}

fn feed(p: &mut Peer, now: Instant, bytes: &[u8]) {
    let mut rest = bytes;
    while !rest.is_empty() {
        let used = p.client.handle_bytes(now, rest);
        rest = &rest[used..];
        drain(p);
    }
    drain(p);
}

fn drain(p: &mut Peer) {
    while let Some(e) = p.client.poll_event() {
        p.events.push(e);
    }
}

#[test]
fn after_a_server_restart_everyone_reregisters_and_lists_converge() {
    for seed in 1..=5 {
        let n = 20;
        let all: Vec<usize> = (0..n).collect();
        let mut w = World::new(seed, n);
        assert!(
            w.run_until(Duration::from_secs(10), |w| w.converged(&all)),
            "seed {seed}: first login"
        );
        w.restart_server(seed + 100);
        assert!(
            w.run_until(Duration::from_secs(20), |w| w.converged(&all)),
            "seed {seed}: no convergence after the restart"
        );
        for (i, p) in w.peers.iter().enumerate() {
            let relogin = p.events.iter().any(|e| {
                matches!(
                    e,
                    ClientEvent::LoggedIn {
                        reconnected: true,
                        ..
                    }
                )
            });
            assert!(relogin, "seed {seed}: user{i} did not log in again");
            assert!(p
                .events
                .iter()
                .any(|e| matches!(e, ClientEvent::Disconnected(Disconnect::Closed))));
        }
    }
}

#[test]
fn a_silently_cut_client_is_reported_left_after_the_heartbeat_timeout() {
    for seed in 1..=5 {
        let n = 6;
        let all: Vec<usize> = (0..n).collect();
        let mut w = World::new(seed, n);
        assert!(
            w.run_until(Duration::from_secs(10), |w| w.converged(&all)),
            "seed {seed}"
        );
        let cut_at = w.now;
        w.peers[0].cut = true;
        let rest: Vec<usize> = (1..n).collect();
        let left = |w: &World| {
            rest.iter().all(|&i| {
                w.peers[i].events.iter().any(
                    |e| matches!(e, ClientEvent::Roster(RosterEvent::Left(p)) if p.name.as_str() == "user0"),
                )
            })
        };
        assert!(
            w.run_until(Duration::from_secs(10), left),
            "seed {seed}: no Left for user0"
        );
        let after = w.now - cut_at;
        // Silence is tolerated for three heartbeats, then the next sweep removes it.
        assert!(
            after >= HEARTBEAT.saturating_mul(3),
            "seed {seed}: Left after only {after:?}"
        );
        assert!(
            after <= HEARTBEAT.saturating_mul(4),
            "seed {seed}: Left only after {after:?}"
        );
        assert!(w.converged(&rest), "seed {seed}");
        // The cut client notices the silence on its own.
        let idle = |w: &World| {
            w.peers[0]
                .events
                .iter()
                .any(|e| matches!(e, ClientEvent::Disconnected(Disconnect::IdleTimeout)))
        };
        assert!(
            w.run_until(Duration::from_secs(5), idle),
            "seed {seed}: no idle timeout: {:?}",
            w.peers[0].events
        );
        // Back on the network, it logs in again and everyone sees everyone.
        w.peers[0].cut = false;
        assert!(
            w.run_until(Duration::from_secs(20), |w| w.converged(&all)),
            "seed {seed}: rejoin"
        );
    }
}
