//! The `relay` scenario: what the directory's relay costs per datagram and per MB, on one
//! core: the core's `PathServer::handle_datagram` (decode, the allow-list and budget
//! checks, the replay window, the MAC, the delivery written out) over datagrams a
//! `RelayClient` wrapped beforehand, for three sizes of inner datagram; and what a
//! forged datagram (a wrong MAC) and a throttled one cost.
//!
//! CPU time is the thread's; each row runs `BENCH_RELAY_MB` (default 64) MB of inner
//! datagrams through the relay.

use core::net::SocketAddr;

use peerchat_proto::path::{PathServer, PathSlot, RelayClient, RelayConfig};
use peerchat_proto::time::Instant;
use peerchat_proto::wire::v2_relay::{MAX_RELAY_DATAGRAM, RELAY_SEND_OVERHEAD};
use peerchat_proto::wire::PeerId;

use super::handshake::thread_cpu_ns;
use super::Table;

const A: PeerId = PeerId(1);
const B: PeerId = PeerId(2);

fn addr(last: u8) -> SocketAddr {
    SocketAddr::from(([192, 0, 2, last], 4000))
}

/// A server with A and B logged in and named, and A's relay client.
fn pair(terms: RelayConfig) -> (PathServer<Vec<PathSlot>>, RelayClient) {
    let mut server = PathServer::new(vec![PathSlot::EMPTY; 4], terms);
    let now = Instant::ZERO;
    let grant = server.admit(now, A, [7; 32], Some(addr(1))).expect("slot");
    server.admit(now, B, [8; 32], Some(addr(2))).expect("slot");
    server
        .handle_punch_request(now, A, None, B, None)
        .expect("both online");
    let mut client = RelayClient::new(A);
    client.handle_grant(&grant);
    (server, client)
}

/// `count` datagrams of A to B with `inner` bytes inside.
fn wrapped(client: &mut RelayClient, inner: usize, count: usize) -> Vec<Vec<u8>> {
    let mut sealed = vec![0x5a; inner];
    sealed[..7].copy_from_slice(&[2, 4, 0, 1, 0, 0, 0]);
    let mut out = [0u8; MAX_RELAY_DATAGRAM];
    (0..count)
        .map(|_| {
            let n = client.wrap(B, &sealed, &mut out).expect("room");
            out[..n].to_vec()
        })
        .collect()
}

/// CPU nanoseconds per datagram the server spends on `datagrams`, and how many it forwarded.
fn through(server: &mut PathServer<Vec<PathSlot>>, datagrams: &[Vec<u8>]) -> (f64, usize) {
    let mut out = [0u8; MAX_RELAY_DATAGRAM];
    let mut forwarded = 0;
    let start = thread_cpu_ns();
    for (i, d) in datagrams.iter().enumerate() {
        let now = Instant::from_micros(i as u64);
        if let Ok(Some(f)) = server.handle_datagram(now, addr(1), d, &mut out) {
            forwarded += usize::from(f.len > 0);
        }
    }
    let ns = (thread_cpu_ns() - start) as f64 / datagrams.len().max(1) as f64;
    (ns, forwarded)
}

/// Runs the scenario.
pub fn run() -> Table {
    let mb: usize = std::env::var("BENCH_RELAY_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64);
    let mut table = Table::new(
        "relay: the directory's relay on one core",
        &[
            "case",
            "datagram (bytes)",
            "CPU per datagram (µs)",
            "CPU per MB (ms)",
            "MB/s",
        ],
    );
    let open = RelayConfig {
        rate: u32::MAX,
        budget: u32::MAX,
    };
    for inner in [100, 600, 1200] {
        let (mut server, mut client) = pair(open);
        let count = (mb << 20) / inner;
        let datagrams = wrapped(&mut client, inner, count);
        let (ns, forwarded) = through(&mut server, &datagrams);
        assert_eq!(forwarded, count, "every genuine datagram is forwarded");
        let per_mb_ms = ns * (1 << 20) as f64 / inner as f64 / 1e6;
        table.row(vec![
            "forwarded".into(),
            (inner + RELAY_SEND_OVERHEAD).to_string(),
            format!("{:.2}", ns / 1000.0),
            format!("{per_mb_ms:.1}"),
            format!("{:.0}", 1000.0 / per_mb_ms),
        ]);
    }
    let (mut server, mut client) = pair(open);
    let mut forged = wrapped(&mut client, 1200, (mb << 20) / 1200);
    for d in &mut forged {
        d[40] ^= 1;
    }
    let (ns, forwarded) = through(&mut server, &forged);
    assert_eq!(forwarded, 0);
    table.row(vec![
        "forged (wrong MAC)".into(),
        (1200 + RELAY_SEND_OVERHEAD).to_string(),
        format!("{:.2}", ns / 1000.0),
        "–".into(),
        "–".into(),
    ]);
    let (mut server, mut client) = pair(RelayConfig { rate: 1, budget: 1 });
    let throttled = wrapped(&mut client, 1200, (mb << 20) / 1200);
    let (ns, _) = through(&mut server, &throttled);
    table.row(vec![
        "throttled (over budget)".into(),
        (1200 + RELAY_SEND_OVERHEAD).to_string(),
        format!("{:.2}", ns / 1000.0),
        "–".into(),
        "–".into(),
    ]);
    table.notes.push(format!(
        "{mb} MB of inner datagrams per row; CPU time of the calling thread; MB are of inner \
         datagrams (the sealed packets the relay carries). The host's socket calls are not \
         included."
    ));
    table
}
