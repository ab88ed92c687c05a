//! The `handshake` scenario: what version 2's cryptography costs, on one core.
//!
//! - the peer handshake (Noise IK): one full round trip between two `PeerChannel`s, each
//!   message through the receiver's `HandshakeGuard`, then the initiator's confirming
//!   keepalive; the initiator's and the responder's CPU time apart;
//! - the control handshake (Noise XX): client and server, three messages;
//! - sealing and opening one full datagram (1165 bytes of payload);
//! - what a flood costs per message: a wrong `mac1`, and a cookie reply under load.
//!
//! CPU time is the thread's (`CLOCK_THREAD_CPUTIME_ID`), wall time `std::time::Instant`;
//! each row is the median of `BENCH_HANDSHAKE_ROUNDS` (default 2000) operations.

use core::net::SocketAddr;
use std::time::Instant as WallInstant;

use chacha20::rand_core::SeedableRng;
use chacha20::ChaCha20Rng;
use peerchat_proto::crypto::{
    Admission, ControlClientHandshake, ControlServerHandshake, GuardConfig, HandshakeGuard,
    Keypair, PeerChannel, ServerPin,
};
use peerchat_proto::time::Instant;
use peerchat_proto::wire::v2_peer::{MAX_SEALED_PAYLOAD, SEALED_HEADER_LEN};
use peerchat_proto::wire::{PeerId, MAX_DATAGRAM};

use super::Table;

/// Nanoseconds of CPU this thread has used.
pub(super) fn thread_cpu_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec for the call's duration.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// Wall and CPU nanoseconds of one call.
fn timed<T>(f: impl FnOnce() -> T) -> (T, u64, u64) {
    let (wall, cpu) = (WallInstant::now(), thread_cpu_ns());
    let out = f();
    let cpu = thread_cpu_ns() - cpu;
    (out, wall.elapsed().as_nanos() as u64, cpu)
}

/// Medians of samples, in microseconds.
#[derive(Default)]
struct Samples(Vec<u64>);

impl Samples {
    fn median_us(&mut self) -> f64 {
        self.0.sort_unstable();
        self.0.get(self.0.len() / 2).copied().unwrap_or(0) as f64 / 1000.0
    }
}

fn addr(last: u8) -> SocketAddr {
    SocketAddr::from(([192, 0, 2, last], 4000))
}

struct Side {
    key: Keypair,
    chan: PeerChannel<16>,
    guard: HandshakeGuard,
}

/// Two fresh sides with each other's keys (guards with room for every round).
fn pair(rng: &mut ChaCha20Rng) -> (Side, Side) {
    let ka = Keypair::generate(rng);
    let kb = Keypair::generate(rng);
    let mk = |key: &Keypair, id: u32, other: &Keypair, other_id: u32| Side {
        chan: PeerChannel::new(
            key.public(),
            PeerId(id),
            PeerId(other_id),
            *other.public(),
            addr(other_id as u8),
        ),
        guard: HandshakeGuard::new(key.public(), GuardConfig::DESKTOP),
        key: key.clone(),
    };
    (mk(&ka, 1, &kb, 2), mk(&kb, 2, &ka, 1))
}

/// One peer handshake between fresh sides; returns them with (wall, initiator CPU,
/// responder CPU) in ns.
fn peer_handshake(rng: &mut ChaCha20Rng, now: Instant) -> ((Side, Side), (u64, u64, u64)) {
    let (mut a, mut b) = pair(rng);
    let mut init = [0u8; MAX_DATAGRAM];
    let mut resp = [0u8; MAX_DATAGRAM];
    let mut keepalive = [0u8; MAX_DATAGRAM];
    let wall = WallInstant::now();
    let (len, _, cpu_a1) = timed(|| {
        a.chan.connect(now);
        let t = a.chan.poll_transmit(now, &a.key, rng, &mut init);
        t.expect("an initiation").len
    });
    let (n, _, cpu_b) = timed(|| {
        let admitted = b
            .guard
            .admit_initiation(now, addr(1), &init[..len], rng, &mut resp);
        let Admission::Proceed(t) = admitted else {
            panic!("admitted")
        };
        let r = b
            .chan
            .handle_initiation(now, t, &b.key, &init[..len], rng, &mut resp);
        r.expect("a response")
    });
    let (k, _, cpu_a2) = timed(|| {
        let done = a
            .chan
            .handle_response(now, &mut a.guard, &a.key, addr(2), &resp[..n]);
        done.expect("completed");
        let t = a.chan.poll_transmit(now, &a.key, rng, &mut keepalive);
        t.expect("a keepalive").len
    });
    let (_, _, cpu_b2) = timed(|| {
        let opened = b.chan.open(now, addr(1), &mut keepalive[..k]);
        opened.expect("confirmed").epoch
    });
    let wall = wall.elapsed().as_nanos() as u64;
    ((a, b), (wall, cpu_a1 + cpu_a2, cpu_b + cpu_b2))
}

/// One control handshake; returns (wall, client CPU, server CPU) in ns.
fn control_handshake(client: &Keypair, server: &Keypair, rng: &mut ChaCha20Rng) -> (u64, u64, u64) {
    let mut buf = [0u8; 256];
    let wall = WallInstant::now();
    let ((mut c, n), _, c1) = timed(|| {
        let mut c = ControlClientHandshake::new(client, rng);
        let n = c.write_hello(client, &mut buf).expect("hello");
        (c, n)
    });
    let hello = buf[..n].to_vec();
    let ((s, n), _, s1) = timed(|| {
        let mut s = ControlServerHandshake::new(server, rng);
        s.read_hello(server, &hello).expect("read hello");
        let n = s.write_reply(server, &mut buf).expect("reply");
        (s, n)
    });
    let reply = buf[..n].to_vec();
    let (n, _, c2) = timed(|| {
        c.read_reply(client, &reply, ServerPin::Key(*server.public()))
            .expect("pinned key");
        c.write_finish(client, &mut buf).expect("finish").0
    });
    let finish = buf[..n].to_vec();
    let (_, _, s2) = timed(|| s.read_finish(server, &finish).expect("read finish").0);
    (wall.elapsed().as_nanos() as u64, c1 + c2, s1 + s2)
}

/// Runs the scenario.
pub fn run() -> Table {
    let rounds: usize = std::env::var("BENCH_HANDSHAKE_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let now = Instant::from_millis(1_000);
    let mut table = Table::new(
        "handshake: version 2's cryptography on one core",
        &[
            "operation",
            "wall µs",
            "CPU µs",
            "… initiator/client",
            "… responder/server",
            "per second, one core",
        ],
    );

    let (mut wall, mut a, mut b) = (Samples::default(), Samples::default(), Samples::default());
    for _ in 0..rounds {
        let (_, (w, ca, cb)) = peer_handshake(&mut rng, now);
        wall.0.push(w);
        a.0.push(ca);
        b.0.push(cb);
    }
    let (a_us, b_us) = (a.median_us(), b.median_us());
    table.row(vec![
        "peer handshake (IK, guard, confirmation)".into(),
        format!("{:.0}", wall.median_us()),
        format!("{:.0}", a_us + b_us),
        format!("{a_us:.0}"),
        format!("{b_us:.0}"),
        format!("{:.0} (responder)", 1e6 / b_us),
    ]);

    let client = Keypair::generate(&mut rng);
    let server = Keypair::generate(&mut rng);
    let (mut wall, mut c, mut s) = (Samples::default(), Samples::default(), Samples::default());
    for _ in 0..rounds {
        let (w, cc, cs) = control_handshake(&client, &server, &mut rng);
        wall.0.push(w);
        c.0.push(cc);
        s.0.push(cs);
    }
    let (c_us, s_us) = (c.median_us(), s.median_us());
    table.row(vec![
        "control handshake (XX)".into(),
        format!("{:.0}", wall.median_us()),
        format!("{:.0}", c_us + s_us),
        format!("{c_us:.0}"),
        format!("{s_us:.0}"),
        format!("{:.0} (server)", 1e6 / s_us),
    ]);

    table.row(seal_open_row(&mut rng, now, rounds * 10));
    table.rows.extend(flood_rows(&mut rng, now, rounds * 10));
    table.notes.push(format!(
        "Median of {rounds} handshakes (×10 for the per-packet rows), \
         `cargo run --release -p peerchat-tests --bin bench -- handshake` \
         (`BENCH_HANDSHAKE_ROUNDS`). CPU: the thread's CPU time in the calls of each side; \
         wall: the whole exchange in one thread, no network. The peer handshake includes \
         key generation for the ephemerals, both guards' `mac1` checks and the \
         confirming keepalive."
    ));
    table
}

fn seal_open_row(rng: &mut ChaCha20Rng, now: Instant, rounds: usize) -> Vec<String> {
    let ((mut a, mut b), _) = peer_handshake(rng, now);
    let mut seal = Samples::default();
    let mut open = Samples::default();
    let mut buf = [0u8; MAX_DATAGRAM];
    for i in 0..rounds {
        buf[SEALED_HEADER_LEN..SEALED_HEADER_LEN + MAX_SEALED_PAYLOAD].fill(i as u8);
        let (n, _, cs) = timed(|| {
            a.chan
                .seal(now, &mut buf, MAX_SEALED_PAYLOAD)
                .expect("sealed")
        });
        let (_, _, co) = timed(|| {
            b.chan
                .open(now, addr(1), &mut buf[..n])
                .expect("opened")
                .payload
                .len()
        });
        seal.0.push(cs);
        open.0.push(co);
    }
    let (s, o) = (seal.median_us(), open.median_us());
    vec![
        "seal + open, 1200-byte datagram".into(),
        "".into(),
        format!("{:.2}", s + o),
        format!("{s:.2} (seal)"),
        format!("{o:.2} (open)"),
        format!("{:.0} MB/s sealed", MAX_SEALED_PAYLOAD as f64 / s),
    ]
}

fn flood_rows(rng: &mut ChaCha20Rng, now: Instant, rounds: usize) -> Vec<Vec<String>> {
    let ((mut a, b), _) = peer_handshake(rng, now);
    let mut guard = b.guard.clone();
    let mut init = [0u8; MAX_DATAGRAM];
    // A fresh initiation from A, its sessions long expired.
    let later = now + peerchat_proto::time::Duration::from_secs(200);
    a.chan.handle_timeout(later);
    a.chan.connect(later);
    let t = a
        .chan
        .poll_transmit(later, &a.key, rng, &mut init)
        .expect("initiation");
    let mut junk = init;
    junk[110] ^= 1;
    let mut reply = [0u8; MAX_DATAGRAM];
    let mut bad = Samples::default();
    for _ in 0..rounds {
        let (_, _, c) = timed(|| {
            matches!(
                guard.admit_initiation(now, addr(9), &junk[..t.len], rng, &mut reply),
                Admission::Drop(_)
            )
        });
        bad.0.push(c);
    }
    // Drain the budget so that every initiation gets a cookie reply.
    while let Admission::Proceed(_) =
        guard.admit_initiation(now, addr(9), &init[..t.len], rng, &mut reply)
    {}
    let mut cookie = Samples::default();
    for i in 0..rounds {
        let later = now + peerchat_proto::time::Duration::from_millis(i as u64 / 8);
        let (_, _, c) =
            timed(|| guard.admit_initiation(later, addr(9), &init[..t.len], rng, &mut reply));
        cookie.0.push(c);
    }
    let (b_us, c_us) = (bad.median_us(), cookie.median_us());
    vec![
        vec![
            "flood: initiation with a wrong mac1".into(),
            "".into(),
            format!("{b_us:.2}"),
            "".into(),
            format!("{b_us:.2}"),
            format!("{:.0}", 1e6 / b_us),
        ],
        vec![
            "flood under load: cookie reply".into(),
            "".into(),
            format!("{c_us:.2}"),
            "".into(),
            format!("{c_us:.2}"),
            format!("{:.0}", 1e6 / c_us),
        ],
    ]
}
