//! The `directory` scenario: N clients log in to a real `peerchat-server` at once and
//! wait until every client sees every other. Figures: time to converge, server RSS per
//! client, server CPU seconds.
//!
//! Clients are light tasks (no roster of N entries each): each keeps a bitset of the
//! ids it knows, decodes snapshot pages with the proto decoder and reads deltas by their
//! first fields only (kind, version, id), so that the clients, which share the machine
//! with the server, cost as little as possible. They connect from 127.0.0.1–8 so
//! ephemeral ports do not run short. `BENCH_DIRECTORY_N=1000,10000` picks the sizes.

use core::net::{IpAddr, Ipv4Addr, SocketAddr};
use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use core::time::Duration;
use std::sync::Arc;
use std::time::Instant as StdInstant;

use peerchat_proto::wire::{
    decode_server, encode_client_frame, ClientMsg, ServerMsg, MAX_CLIENT_FRAME,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::{Notify, Semaphore};

use super::Table;
use crate::procs::{cpu_secs, raise_fd_limit, ServerProc};

/// Source addresses clients spread over.
const SOURCES: u8 = 8;
/// Connects in flight at once.
const CONNECTS: usize = 512;
/// Give up after this long.
const LIMIT: Duration = Duration::from_secs(120);

/// Runs the scenario for each size.
pub fn run() -> Table {
    let sizes: Vec<usize> = std::env::var("BENCH_DIRECTORY_N")
        .ok()
        .map(|v| v.split(',').filter_map(|s| s.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![1_000, 10_000]);
    let fd_limit = raise_fd_limit();
    let mut table = Table::new(
        "directory: N clients log in and converge",
        &[
            "clients",
            "converged",
            "time to converge (s)",
            "server RSS (MiB)",
            "RSS / client (KiB)",
            "RSS growth / client (KiB)",
            "server CPU (s)",
            "received / client (KiB)",
            "bench clients CPU (s)",
            "connect retries",
        ],
    );
    for n in sizes {
        let r = measure(n);
        table.row(vec![
            n.to_string(),
            format!("{}/{}", r.converged, n),
            format!("{:.2}", r.time.as_secs_f64()),
            format!("{:.1}", r.rss_kib as f64 / 1024.0),
            format!("{:.2}", r.rss_kib as f64 / n as f64),
            format!(
                "{:.2}",
                r.rss_kib.saturating_sub(r.idle_rss_kib) as f64 / n as f64
            ),
            format!("{:.2}", r.cpu),
            format!("{:.0}", r.bytes as f64 / n as f64 / 1024.0),
            format!("{:.2}", r.client_cpu),
            r.retries.to_string(),
        ]);
    }
    table.notes.push(format!(
        "Release build, loopback, clients in one tokio process (2 worker threads) over \
         {SOURCES} source addresses; server `--max-clients N`; fd limit {fd_limit}. RSS from \
         /proc/PID/status VmRSS when the last client converged (growth: minus RSS before \
         the first login); CPU = utime + stime of the server from first connect to \
         convergence."
    ));
    table
}

struct Result {
    converged: usize,
    time: Duration,
    idle_rss_kib: u64,
    rss_kib: u64,
    cpu: f64,
    client_cpu: f64,
    bytes: u64,
    retries: u64,
}

fn measure(n: usize) -> Result {
    let server = ServerProc::start(&["--max-clients", &n.to_string(), "--log-level", "warn"]);
    let pid = server.proc.pid();
    std::thread::sleep(Duration::from_millis(200));
    let idle_rss_kib = server.rss_kib();
    let cpu0 = cpu_secs(pid);
    let me = std::process::id();
    let client_cpu0 = cpu_secs(me);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let (converged, time, bytes, retries) = rt.block_on(swarm(server.addr, n));
    let rss_kib = server.rss_kib();
    let cpu = cpu_secs(pid) - cpu0;
    let client_cpu = cpu_secs(me) - client_cpu0;
    drop(rt);
    if converged < n {
        let log = server.log();
        let tail: Vec<&str> = log.lines().rev().take(20).collect();
        eprintln!("directory {n}: only {converged} converged; server log tail:");
        tail.iter().rev().for_each(|l| eprintln!("  {l}"));
    }
    Result {
        converged,
        time,
        idle_rss_kib,
        rss_kib,
        cpu,
        client_cpu,
        bytes,
        retries,
    }
}

/// Shared progress of all clients.
struct Swarm {
    n: usize,
    converged: AtomicUsize,
    bytes: AtomicU64,
    retries: AtomicU64,
    all_done: Notify,
    stop: Notify,
    connects: Semaphore,
}

async fn swarm(server: SocketAddr, n: usize) -> (usize, Duration, u64, u64) {
    let s = Arc::new(Swarm {
        n,
        converged: AtomicUsize::new(0),
        bytes: AtomicU64::new(0),
        retries: AtomicU64::new(0),
        all_done: Notify::new(),
        stop: Notify::new(),
        connects: Semaphore::new(CONNECTS),
    });
    let start = StdInstant::now();
    let tasks: Vec<_> = (0..n)
        .map(|i| tokio::spawn(client(Arc::clone(&s), server, i)))
        .collect();
    let done = s.all_done.notified();
    let _ = tokio::time::timeout(LIMIT, done).await;
    let time = start.elapsed();
    s.stop.notify_waiters();
    for t in tasks {
        t.abort();
    }
    (
        s.converged.load(Ordering::SeqCst),
        time,
        s.bytes.load(Ordering::SeqCst),
        s.retries.load(Ordering::SeqCst),
    )
}

async fn connect(s: &Swarm, server: SocketAddr, i: usize) -> Option<TcpStream> {
    let _permit = s.connects.acquire().await.ok()?;
    let source = Ipv4Addr::new(127, 0, 0, 1 + (i % usize::from(SOURCES)) as u8);
    loop {
        let sock = TcpSocket::new_v4().ok()?;
        sock.bind(SocketAddr::new(IpAddr::V4(source), 0)).ok()?;
        if let Ok(stream) = sock.connect(server).await {
            return Some(stream);
        }
        s.retries.fetch_add(1, Ordering::Relaxed);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// One light client: logs in (again, if it is closed), tracks the ids it knows,
/// pings, reports convergence.
async fn client(s: Arc<Swarm>, server: SocketAddr, i: usize) {
    let mut done = false;
    loop {
        if session(&s, server, i, &mut done).await.is_none() {
            return;
        }
        s.retries.fetch_add(1, Ordering::Relaxed);
    }
}

/// One connection's life; `None` when the benchmark is over.
async fn session(s: &Swarm, server: SocketAddr, i: usize, done: &mut bool) -> Option<()> {
    let mut stream = connect(s, server, i).await?;
    let mut frame = [0u8; MAX_CLIENT_FRAME];
    let name = format!("bench{i}");
    let n = encode_client_frame(
        &ClientMsg::Hello {
            name: &name,
            udp_port: 9,
        },
        &mut frame,
    )
    .ok()?;
    if stream.write_all(&frame[..n]).await.is_err() {
        return Some(());
    }
    let ping_len = encode_client_frame(&ClientMsg::Ping, &mut frame).ok()?;
    let mut reader = Reader::default();
    let mut buf = vec![0u8; 16 * 1024];
    let mut ping = tokio::time::interval(Duration::from_secs(4));
    loop {
        tokio::select! {
            r = stream.read(&mut buf) => {
                let len = match r {
                    Ok(len) if len > 0 => len,
                    _ => return Some(()),
                };
                s.bytes.fetch_add(len as u64, Ordering::Relaxed);
                reader.feed(&buf[..len]);
                if !*done && reader.known.count == s.n {
                    *done = true;
                    if s.converged.fetch_add(1, Ordering::SeqCst) + 1 == s.n {
                        s.all_done.notify_one();
                    }
                }
            }
            _ = ping.tick() => {
                if stream.write_all(&frame[..ping_len]).await.is_err() {
                    return Some(());
                }
            }
            () = s.stop.notified() => return None,
        }
    }
}

/// Splits the stream into frames and applies the ones about who is online. Deltas are
/// read by their first fields only (kind, version, id); pages are decoded in full.
#[derive(Default)]
struct Reader {
    frame: Vec<u8>,
    raw: Vec<u8>,
    known: Known,
}

impl Reader {
    fn feed(&mut self, bytes: &[u8]) {
        for part in bytes.split_inclusive(|&b| b == 0) {
            self.frame.extend_from_slice(part);
            if self.frame.last() == Some(&0) {
                if cobs_decode(&self.frame[..self.frame.len() - 1], &mut self.raw) {
                    self.apply();
                }
                self.frame.clear();
            }
        }
    }

    fn apply(&mut self) {
        // raw = VERSION ‖ kind ‖ fields…; Joined = version, PeerInfo (id first); Left =
        // version, id.
        match self.raw.get(1) {
            Some(2) => {
                if let Ok(ServerMsg::Snapshot(page)) = decode_server(&self.raw) {
                    if page.page == 0 {
                        self.known.clear();
                    }
                    for p in &page.peers {
                        self.known.insert(p.id.0);
                    }
                }
            }
            Some(&kind @ (3 | 4)) => {
                let mut rest = &self.raw[2..];
                let _version = varint(&mut rest);
                if let Some(id) = varint(&mut rest) {
                    if kind == 3 {
                        self.known.insert(id as u32);
                    } else {
                        self.known.remove(id as u32);
                    }
                }
            }
            _ => {}
        }
    }
}

/// COBS-decodes `frame` (without its terminator) into `out`.
fn cobs_decode(frame: &[u8], out: &mut Vec<u8>) -> bool {
    out.clear();
    let mut i = 0;
    while i < frame.len() {
        let code = usize::from(frame[i]);
        if code == 0 || i + code > frame.len() {
            return false;
        }
        out.extend_from_slice(&frame[i + 1..i + code]);
        i += code;
        if code < 0xff && i < frame.len() {
            out.push(0);
        }
    }
    true
}

/// A postcard (LEB128) unsigned varint.
fn varint(bytes: &mut &[u8]) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let (&b, rest) = bytes.split_first()?;
        *bytes = rest;
        value |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

/// A bitset of peer ids.
#[derive(Default)]
struct Known {
    bits: Vec<u64>,
    count: usize,
}

impl Known {
    fn insert(&mut self, id: u32) {
        let (w, b) = (id as usize / 64, id % 64);
        if w >= self.bits.len() {
            self.bits.resize(w + 1, 0);
        }
        if self.bits[w] & (1 << b) == 0 {
            self.bits[w] |= 1 << b;
            self.count += 1;
        }
    }

    fn remove(&mut self, id: u32) {
        let (w, b) = (id as usize / 64, id % 64);
        if w < self.bits.len() && self.bits[w] & (1 << b) != 0 {
            self.bits[w] &= !(1 << b);
            self.count -= 1;
        }
    }

    fn clear(&mut self) {
        self.bits.iter_mut().for_each(|w| *w = 0);
        self.count = 0;
    }
}
