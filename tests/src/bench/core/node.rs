//! The `core` scenario's two nodes, their host loop on a virtual clock, and the timing
//! of every call into them.

use core::net::SocketAddr;
use std::time::Instant as StdInstant;

use peerchat_proto::client::{ClientConfig, HostClient};
use peerchat_proto::time::{Duration, Instant};
use peerchat_proto::transfer::Event as FileEvent;
use peerchat_proto::wire::{
    encode_server_frame, PeerId, PeerInfo, ServerMsg, SnapshotPage, WireAddr, MAX_CHUNK,
    MAX_SERVER_FRAME, SNAPSHOT_PAGE,
};

use super::link::Link;
use crate::sim::SimRng;

/// One run's parameters.
#[derive(Debug, Clone, Copy)]
pub(super) struct Run {
    /// File size.
    pub(super) bytes: u64,
    /// Link rate, bytes per second.
    pub(super) rate: u64,
    /// Round-trip time of the idle link.
    pub(super) rtt: Duration,
    /// The host loop wakes at most this often (virtual time).
    pub(super) tick: Duration,
    /// Random loss, each direction.
    pub(super) loss: f64,
    /// Other peers online (idle), besides the two nodes.
    pub(super) bystanders: usize,
}

/// Wall-clock nanoseconds spent in one node's calls, by kind.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Spent {
    /// `handle_datagram`.
    pub(super) datagrams: f64,
    /// `poll_transmit` and the host's fill of chunk bytes.
    pub(super) transmit: f64,
    /// `poll_timeout` and `handle_timeout`.
    pub(super) timers: f64,
    /// `poll_event` (node and file table).
    pub(super) events: f64,
}

impl Spent {
    pub(super) fn total(&self) -> f64 {
        self.datagrams + self.transmit + self.timers + self.events
    }
}

/// What one run measured.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Measured {
    pub(super) sender: Spent,
    pub(super) receiver: Spent,
    /// Chunk datagrams the sender sent, and how many of them were repeats.
    pub(super) chunks_sent: u64,
    pub(super) resent: u64,
    /// Chunk datagrams that reached the receiver.
    pub(super) chunks_received: u64,
    /// Virtual time from the offer to the sender's `Sent`.
    pub(super) virtual_secs: f64,
}

const SERVER: SocketAddr = SocketAddr::new(
    core::net::IpAddr::V4(core::net::Ipv4Addr::new(10, 0, 0, 9)),
    7000,
);
/// The file's bytes repeat with this period (the sender's fill copies from it).
const PATTERN: usize = 1 << 16;
/// A stand-in for the file's BLAKE3 hash: the receiving host reports it back unchanged.
const HASH: [u8; 32] = [7; 32];

fn addr(id: u32) -> SocketAddr {
    SocketAddr::from(([10, 0, 0, id as u8], 7000 + id as u16))
}

fn feed(core: &mut HostClient, now: Instant, msg: &ServerMsg<'_>) {
    let mut frame = [0u8; MAX_SERVER_FRAME];
    let len = encode_server_frame(msg, &mut frame).expect("encode");
    let _ = core.handle_control_bytes(now, &frame[..len]);
}

/// A node logged in as `id` with the other one and `bystanders` idle peers online.
fn node(id: u32, name: &str, peer: (u32, &str), bystanders: usize) -> Box<HostClient> {
    let config = ClientConfig {
        name,
        udp_port: addr(id).port(),
        server: SERVER,
        seed: u64::from(id) * 77,
    };
    let mut core = Box::new(HostClient::new(config).expect("valid name"));
    let now = Instant::from_millis(1);
    core.handle_timeout(now);
    while core.poll_event().is_some() {}
    core.handle_control_connected(now);
    let mut buf = [0u8; 256];
    while core.poll_control_transmit(&mut buf).is_some() {}
    let welcome = ServerMsg::Welcome {
        id: PeerId(id),
        observed_addr: addr(id).into(),
        probe_token: 1,
        heartbeat_ms: 60_000,
    };
    feed(&mut core, now, &welcome);
    // Us, the other node, then idle bystanders (ids from 100), in pages.
    let mut everyone = vec![
        (id, name.to_owned(), addr(id)),
        (peer.0, peer.1.to_owned(), addr(peer.0)),
    ];
    everyone.extend((0..bystanders).map(|k| {
        let at = SocketAddr::from(([10, 1, (k / 250) as u8, (k % 250) as u8 + 1], 7000));
        (100 + k as u32, format!("bystander{k}"), at)
    }));
    let pages: Vec<_> = everyone.chunks(SNAPSHOT_PAGE).collect();
    for (page, list) in pages.iter().enumerate() {
        let mut peers = heapless::Vec::new();
        for (id, name, at) in list.iter() {
            let _ = peers.push(PeerInfo {
                id: PeerId(*id),
                name,
                addr: WireAddr::from(*at),
            });
        }
        let snapshot = ServerMsg::Snapshot(SnapshotPage {
            version: 1,
            page: page as u32,
            last: page + 1 == pages.len(),
            peers,
        });
        feed(&mut core, now, &snapshot);
    }
    while core.poll_event().is_some() {}
    core
}

/// The size of a `HostClient` and how long building one (by value, then boxed) takes.
pub(super) fn build_cost() -> (usize, f64) {
    let config = ClientConfig {
        name: "carol",
        udp_port: 7003,
        server: SERVER,
        seed: 3,
    };
    let start = StdInstant::now();
    let core = Box::new(HostClient::new(config).expect("valid name"));
    let took = start.elapsed().as_secs_f64() * 1e6;
    drop(core);
    (core::mem::size_of::<HostClient>(), took)
}

fn elapsed_ns(since: StdInstant) -> f64 {
    since.elapsed().as_nanos() as f64
}

/// Moves the file from node 1 to node 2 and times every call.
pub(super) fn measure(run: Run) -> Measured {
    let pattern: Vec<u8> = (0..PATTERN + MAX_CHUNK)
        .map(|i| b'a' + (i % PATTERN % 26) as u8)
        .collect();
    let mut a = node(1, "alice", (2, "bob"), run.bystanders);
    let mut b = node(2, "bob", (1, "alice"), run.bystanders);
    let one_way = Duration::from_micros(run.rtt.as_micros() / 2);
    let mut ab = Link::new(run.rate, one_way, run.loss, 1 << 14);
    let mut ba = Link::new(run.rate, one_way, run.loss, 1 << 12);
    let mut rng = SimRng::new(0x5eed);
    let mut m = Measured::default();
    let start = Instant::from_millis(2);
    let mut now = start;
    a.files()
        .send(now, PeerId(2), "bench.txt", run.bytes, HASH)
        .expect("send starts");
    let (mut sent, mut received, mut stored) = (false, false, 0u64);
    while !(sent && received) {
        assert!(
            now - start < Duration::from_secs(600),
            "the transfer stalled"
        );
        // Datagrams in.
        let t = StdInstant::now();
        while let Some(bytes) = ab.receive(now) {
            m.chunks_received += 1;
            if let Some(write) = b.handle_datagram(now, addr(1), bytes) {
                stored += write.data.len() as u64;
            }
        }
        m.receiver.datagrams += elapsed_ns(t);
        let t = StdInstant::now();
        while let Some(bytes) = ba.receive(now) {
            let _ = a.handle_datagram(now, addr(2), bytes);
        }
        m.sender.datagrams += elapsed_ns(t);
        // Timers.
        for (node, spent) in [(&mut a, &mut m.sender), (&mut b, &mut m.receiver)] {
            let t = StdInstant::now();
            if node.poll_timeout().is_some_and(|at| at <= now) {
                node.handle_timeout(now);
            }
            spent.timers += elapsed_ns(t);
        }
        // Events.
        let t = StdInstant::now();
        while a.poll_event().is_some() {}
        while let Some(e) = a.files().poll_event() {
            match e {
                FileEvent::Sent { .. } => {
                    if std::env::var_os("BENCH_CORE_TRACE").is_some() {
                        eprintln!("{now:?} sent");
                    }
                    sent = true;
                    m.virtual_secs = (now - start).as_micros() as f64 / 1e6;
                }
                FileEvent::Failed { reason, .. } => panic!("send failed: {reason}"),
                _ => {}
            }
        }
        m.sender.events += elapsed_ns(t);
        let t = StdInstant::now();
        while b.poll_event().is_some() {}
        while let Some(e) = b.files().poll_event() {
            match e {
                FileEvent::Complete { key } => {
                    if std::env::var_os("BENCH_CORE_TRACE").is_some() {
                        eprintln!("{now:?} complete");
                    }
                    assert_eq!(stored, run.bytes, "every byte was handed out once");
                    b.files().handle_hash(now, key, &HASH);
                }
                FileEvent::Received { key, .. } => {
                    b.files().handle_stored(now, key);
                    received = true;
                }
                FileEvent::Failed { reason, .. } => panic!("receive failed: {reason}"),
                _ => {}
            }
        }
        m.receiver.events += elapsed_ns(t);
        // Datagrams out.
        let t = StdInstant::now();
        while let Some((slot, buf)) = ab.buffer() {
            let Some(tx) = a.poll_transmit(now, buf) else {
                break;
            };
            if let Some(fill) = tx.fill {
                let from = (fill.offset % PATTERN as u64) as usize;
                buf[fill.at..fill.at + fill.len].copy_from_slice(&pattern[from..from + fill.len]);
                m.chunks_sent += 1;
            }
            if tx.dst != SERVER {
                ab.send(now, slot, tx.len, &mut rng);
            }
        }
        m.sender.transmit += elapsed_ns(t);
        let t = StdInstant::now();
        while let Some((slot, buf)) = ba.buffer() {
            let Some(tx) = b.poll_transmit(now, buf) else {
                break;
            };
            if tx.dst != SERVER {
                ba.send(now, slot, tx.len, &mut rng);
            }
        }
        m.receiver.transmit += elapsed_ns(t);
        // Control frames (heartbeats) go nowhere.
        let mut frame = [0u8; 256];
        while a.poll_control_transmit(&mut frame).is_some() {}
        while b.poll_control_transmit(&mut frame).is_some() {}
        now = next_wake(
            now,
            run.tick,
            [
                ab.next_arrival(),
                ba.next_arrival(),
                a.poll_timeout(),
                b.poll_timeout(),
            ],
        );
    }
    m.resent = m
        .chunks_sent
        .saturating_sub(run.bytes.div_ceil(MAX_CHUNK as u64));
    m
}

/// The host's next wake-up: the earliest event, but not sooner than one tick.
fn next_wake(now: Instant, tick: Duration, events: [Option<Instant>; 4]) -> Instant {
    let next = events.into_iter().flatten().min().unwrap_or(now + tick);
    next.max(now + tick)
}
