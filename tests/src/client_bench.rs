//! The `chat` benchmark: the round trip of one chat message (send → `delivered`) over
//! loopback, next to a raw UDP ping-pong of the same size measured in the same run.
//!
//! Three measurements, each a list of round-trip times:
//! - [`raw_udp_rtt`]: a datagram of `size` bytes to an echo thread and back;
//! - [`core_chat_rtt`]: two client cores over real loopback sockets, the receiver on its
//!   own thread (the same shape as the echo): the protocol's own cost;
//! - [`process_chat_rtt`]: two real `peerchat --json` processes and a directory server;
//!   the round trip as a program sees it (stdin command → `delivered` line), which adds
//!   two pipe hops and the JSON face.

use core::net::SocketAddr;
use core::sync::atomic::{AtomicBool, Ordering};
use core::time::Duration;
use std::net::UdpSocket;
use std::sync::Arc;
use std::time::Instant as StdInstant;

use peerchat_proto::client::{ClientConfig, Event, HostClient};
use peerchat_proto::wire::{
    encode_server_frame, PeerId, PeerInfo, ServerMsg, SnapshotPage, WireAddr, MAX_DATAGRAM,
    MAX_SERVER_FRAME,
};
use peerchat_proto::Instant;

use crate::bench::Table;
use crate::client::{ChatClient, ServerProc};

/// Message sizes measured (bytes of text; the raw datagram has the same size).
const SIZES: [usize; 2] = [64, 1000];

/// Runs the `chat` scenario: for each size, raw UDP, client cores and real processes,
/// in that order, in the same run. `BENCH_CHAT_ROUNDS` sets the round trips per
/// measurement (default 2000; a quarter of that for the processes).
pub fn run() -> Table {
    let rounds: usize = std::env::var("BENCH_CHAT_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let mut table = Table::new(
        "chat: send → delivered round trip over loopback vs raw UDP ping-pong",
        &[
            "size (B)",
            "measurement",
            "round trips",
            "p50 (µs)",
            "p99 (µs)",
            "p50 / raw",
            "p99 / raw",
        ],
    );
    for size in SIZES {
        let mut raw = raw_udp_rtt(size, rounds);
        let raw_p50 = percentile(&mut raw, 50.0);
        let raw_p99 = percentile(&mut raw, 99.0);
        let measured = [
            ("raw UDP echo", raw),
            (
                "client cores, loopback sockets",
                core_chat_rtt(size, rounds),
            ),
            (
                "peerchat --json processes",
                process_chat_rtt(size, (rounds / 4).max(1)),
            ),
        ];
        for (name, mut samples) in measured {
            let p50 = percentile(&mut samples, 50.0);
            let p99 = percentile(&mut samples, 99.0);
            table.row(vec![
                size.to_string(),
                name.to_owned(),
                samples.len().to_string(),
                micros(p50),
                micros(p99),
                ratio(p50, raw_p50),
                ratio(p99, raw_p99),
            ]);
        }
    }
    table.notes.push(
        "Raw UDP: a datagram of the same size to an echo thread and back. Client cores: \
         two `peerchat-proto` client nodes on real loopback sockets, the receiver on its \
         own thread (the protocol's own cost: encode, reliable link, ack). Processes: \
         `/msg` written to one `peerchat --json` process's stdin until its `delivered` \
         line is read (adds two pipe hops, the engine task and JSON). Goal: client \
         cores p50 ≤ 1.5× raw."
            .to_owned(),
    );
    table
}

fn micros(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1e6)
}

fn ratio(a: Duration, b: Duration) -> String {
    if b.is_zero() {
        return "-".to_owned();
    }
    format!("{:.2}×", a.as_secs_f64() / b.as_secs_f64())
}

/// The `p`-th percentile (0–100) of `samples` (sorted in place).
pub fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    if samples.is_empty() {
        return Duration::ZERO;
    }
    samples.sort();
    let rank = (p / 100.0 * (samples.len() - 1) as f64).floor() as usize;
    samples[rank.min(samples.len() - 1)]
}

/// Round trips of a `size`-byte datagram to an echo thread on loopback.
pub fn raw_udp_rtt(size: usize, rounds: usize) -> Vec<Duration> {
    let echo = UdpSocket::bind("127.0.0.1:0").expect("bind echo");
    let echo_at = echo.local_addr().expect("echo addr");
    echo.set_read_timeout(Some(Duration::from_millis(100)))
        .expect("timeout");
    let stop = Arc::new(AtomicBool::new(false));
    let stop_echo = Arc::clone(&stop);
    let thread = std::thread::spawn(move || {
        let mut buf = [0u8; 2048];
        while !stop_echo.load(Ordering::Relaxed) {
            if let Ok((n, from)) = echo.recv_from(&mut buf) {
                let _ = echo.send_to(&buf[..n], from);
            }
        }
    });
    let sock = UdpSocket::bind("127.0.0.1:0").expect("bind");
    sock.set_read_timeout(Some(Duration::from_secs(1)))
        .expect("timeout");
    let payload = vec![b'x'; size];
    let mut buf = [0u8; 2048];
    let mut out = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let start = StdInstant::now();
        sock.send_to(&payload, echo_at).expect("send");
        if sock.recv_from(&mut buf).is_ok() {
            out.push(start.elapsed());
        }
    }
    stop.store(true, Ordering::Relaxed);
    let _ = thread.join();
    out
}

/// A client core on a real socket, logged in by scripted server frames.
struct Side {
    core: Box<HostClient>,
    sock: UdpSocket,
    origin: StdInstant,
}

impl Side {
    fn new(name: &str, origin: StdInstant) -> Side {
        let sock = UdpSocket::bind("127.0.0.1:0").expect("bind");
        let port = sock.local_addr().expect("addr").port();
        let config = ClientConfig {
            name,
            udp_port: port,
            server: SocketAddr::from(([127, 0, 0, 1], 9)),
            seed: u64::from(port),
        };
        let core = Box::new(HostClient::new(config).expect("valid name"));
        Side { core, sock, origin }
    }

    fn now(&self) -> Instant {
        Instant::from_micros(self.origin.elapsed().as_micros() as u64)
    }

    fn addr(&self) -> SocketAddr {
        self.sock.local_addr().expect("addr")
    }

    /// Logs in as `id` with `peer` in the list.
    fn log_in(&mut self, id: u32, me: &str, peer: (u32, &str, SocketAddr)) {
        let now = self.now();
        self.core.handle_timeout(now);
        while self.core.poll_event().is_some() {}
        self.core.handle_control_connected(now);
        let mut buf = [0u8; 256];
        while self.core.poll_control_transmit(&mut buf).is_some() {}
        let mut peers = heapless::Vec::new();
        let info = |id, name, at: SocketAddr| PeerInfo {
            id: PeerId(id),
            name,
            addr: WireAddr::from(at),
        };
        let _ = peers.push(info(id, me, self.addr()));
        let _ = peers.push(info(peer.0, peer.1, peer.2));
        let welcome = ServerMsg::Welcome {
            id: PeerId(id),
            observed_addr: self.addr().into(),
            probe_token: 1,
            heartbeat_ms: 60_000,
        };
        let snapshot = ServerMsg::Snapshot(SnapshotPage {
            version: 1,
            page: 0,
            last: true,
            peers,
        });
        for msg in [welcome, snapshot] {
            let mut frame = [0u8; MAX_SERVER_FRAME];
            let len = encode_server_frame(&msg, &mut frame).expect("encode");
            let _ = self.core.handle_control_bytes(now, &frame[..len]);
        }
        while self.core.poll_event().is_some() {}
    }

    /// Sends what the core has; returns whether a `Delivered` came out.
    fn flush(&mut self) -> bool {
        let now = self.now();
        let mut buf = [0u8; MAX_DATAGRAM];
        while let Some(t) = self.core.poll_transmit(now, &mut buf) {
            let _ = self.sock.send_to(&buf[..t.len], t.dst);
        }
        let mut delivered = false;
        while let Some(event) = self.core.poll_event() {
            delivered |= matches!(event, Event::Delivered { .. });
        }
        delivered
    }

    /// Waits for one datagram (or the next timer) and feeds it.
    fn step(&mut self, buf: &mut [u8]) {
        let wait = self
            .core
            .poll_timeout()
            .map(|t| Duration::from_micros(t.as_micros().saturating_sub(self.now().as_micros())))
            .unwrap_or(Duration::from_millis(50))
            .clamp(Duration::from_micros(50), Duration::from_millis(50));
        let _ = self.sock.set_read_timeout(Some(wait));
        match self.sock.recv_from(buf) {
            Ok((n, from)) => {
                let now = self.now();
                self.core.handle_datagram(now, from, &buf[..n]);
            }
            Err(_) => {
                let now = self.now();
                self.core.handle_timeout(now);
            }
        }
    }
}

/// Round trips (send → `Delivered`) of a `size`-byte chat message between two client
/// cores on loopback sockets, the receiver on its own thread.
pub fn core_chat_rtt(size: usize, rounds: usize) -> Vec<Duration> {
    // The cores are large: build them on threads with room for them.
    let origin = StdInstant::now();
    let (tx, rx) = std::sync::mpsc::channel::<SocketAddr>();
    let (tx_bob, rx_bob) = std::sync::mpsc::channel::<SocketAddr>();
    let stop = Arc::new(AtomicBool::new(false));
    let stop_bob = Arc::clone(&stop);
    let bob = std::thread::Builder::new()
        .stack_size(32 << 20)
        .spawn(move || {
            let mut bob = Side::new("bob", origin);
            tx_bob.send(bob.addr()).expect("main waits");
            let alice_at = rx.recv().expect("alice's address");
            bob.log_in(2, "bob", (1, "alice", alice_at));
            let mut buf = vec![0u8; 2048];
            while !stop_bob.load(Ordering::Relaxed) {
                bob.step(&mut buf);
                bob.flush();
            }
        })
        .expect("spawn");
    let out = std::thread::Builder::new()
        .stack_size(32 << 20)
        .spawn(move || {
            let mut alice = Side::new("alice", origin);
            tx.send(alice.addr()).expect("bob waits");
            let bob_at = rx_bob.recv().expect("bob's address");
            alice.log_in(1, "alice", (2, "bob", bob_at));
            let text = "x".repeat(size);
            let mut buf = vec![0u8; 2048];
            let mut out = Vec::with_capacity(rounds);
            for _ in 0..rounds {
                let start = StdInstant::now();
                let now = alice.now();
                alice.core.send_to(now, "bob", &text).expect("send");
                let mut done = alice.flush();
                while !done && start.elapsed() < Duration::from_secs(5) {
                    alice.step(&mut buf);
                    done = alice.flush();
                }
                if done {
                    out.push(start.elapsed());
                }
            }
            out
        })
        .expect("spawn")
        .join()
        .expect("alice's thread");
    stop.store(true, Ordering::Relaxed);
    let _ = bob.join();
    out
}

/// Round trips (`/msg` line written → `delivered` line read) between two real
/// `peerchat --json` processes.
pub fn process_chat_rtt(size: usize, rounds: usize) -> Vec<Duration> {
    let server = ServerProc::start(&[]);
    let mut alice = ChatClient::spawn(server.addr, "alice").expect("spawn alice");
    let mut bob = ChatClient::spawn(server.addr, "bob").expect("spawn bob");
    alice.expect_ready();
    bob.expect_ready();
    alice.expect_peers(&["bob"]);
    bob.expect_peers(&["alice"]);
    let text = "x".repeat(size);
    let mut out = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let start = StdInstant::now();
        alice.command(&format!("/msg bob {text}"));
        if alice
            .try_expect(Duration::from_secs(5), |e| e["event"] == "delivered")
            .is_some()
        {
            out.push(start.elapsed());
        }
        alice.seen.clear();
    }
    // Bob's events pile up in his reader's channel; he is dropped (killed) here.
    drop(bob);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_measurement_completes_its_rounds() {
        assert_eq!(raw_udp_rtt(64, 5).len(), 5);
        assert_eq!(core_chat_rtt(64, 5).len(), 5);
        let mut samples = vec![Duration::from_micros(3), Duration::from_micros(1)];
        assert_eq!(percentile(&mut samples, 50.0), Duration::from_micros(1));
        assert_eq!(percentile(&mut samples, 100.0), Duration::from_micros(3));
    }
}
