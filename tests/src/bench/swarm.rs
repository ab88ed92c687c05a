//! Light directory clients for the benchmarks: many logins from one process, cheap
//! enough to share the machine with the servers they measure.
//!
//! Clients are light tasks (no roster of N entries each): each keeps a bitset of the
//! ids it knows, decodes snapshot pages with the proto decoder and reads deltas by their
//! first fields only (kind, version, id). They connect from 127.0.0.1–8 so ephemeral
//! ports do not run short, and ping every 4 s.

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
use tokio::task::JoinHandle;

/// Source addresses clients spread over.
pub(crate) const SOURCES: u8 = 8;
/// Connects in flight at once.
const CONNECTS: usize = 512;

/// Shared progress of all clients.
struct Swarm {
    n: usize,
    converged: AtomicUsize,
    bytes: AtomicU64,
    retries: AtomicU64,
    all_done: Notify,
    connects: Semaphore,
}

/// `n` light clients logged in (or logging in) and staying online until stopped.
pub(crate) struct Running {
    swarm: Arc<Swarm>,
    tasks: Vec<JoinHandle<()>>,
    start: StdInstant,
}

impl Running {
    /// Starts `n` clients; client `i` logs in as `bench{i}` at `servers[i % len]`. Each
    /// counts as converged once it knows `n` users online (itself included).
    pub(crate) fn start(servers: &[SocketAddr], n: usize) -> Running {
        let swarm = Arc::new(Swarm {
            n,
            converged: AtomicUsize::new(0),
            bytes: AtomicU64::new(0),
            retries: AtomicU64::new(0),
            all_done: Notify::new(),
            connects: Semaphore::new(CONNECTS),
        });
        let start = StdInstant::now();
        let tasks = (0..n)
            .map(|i| {
                let server = servers[i % servers.len()];
                tokio::spawn(client(Arc::clone(&swarm), server, i))
            })
            .collect();
        Running {
            swarm,
            tasks,
            start,
        }
    }

    /// Waits until every client converged, at most `limit`: how many did, and the time
    /// since the start.
    pub(crate) async fn converged(&self, limit: Duration) -> (usize, Duration) {
        let done = self.swarm.all_done.notified();
        if self.swarm.converged.load(Ordering::SeqCst) < self.swarm.n {
            let _ = tokio::time::timeout(limit, done).await;
        }
        (
            self.swarm.converged.load(Ordering::SeqCst),
            self.start.elapsed(),
        )
    }

    /// Bytes the clients received so far.
    pub(crate) fn bytes(&self) -> u64 {
        self.swarm.bytes.load(Ordering::SeqCst)
    }

    /// Connects that had to be retried, and sessions that ended and started again.
    pub(crate) fn retries(&self) -> u64 {
        self.swarm.retries.load(Ordering::SeqCst)
    }

    /// Stops every client (their connections close).
    pub(crate) fn stop(self) {
        for t in self.tasks {
            t.abort();
        }
    }
}

/// A TCP connection to `server` from source address number `i` (of [`SOURCES`]),
/// retried every 50 ms until it succeeds; `retries` counts the failures.
pub(crate) async fn connect_from(
    server: SocketAddr,
    i: usize,
    retries: &AtomicU64,
) -> Option<TcpStream> {
    let source = Ipv4Addr::new(127, 0, 0, 1 + (i % usize::from(SOURCES)) as u8);
    loop {
        let sock = TcpSocket::new_v4().ok()?;
        sock.bind(SocketAddr::new(IpAddr::V4(source), 0)).ok()?;
        if let Ok(stream) = sock.connect(server).await {
            return Some(stream);
        }
        retries.fetch_add(1, Ordering::Relaxed);
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

/// One connection's life; `None` if it could not even connect.
async fn session(s: &Swarm, server: SocketAddr, i: usize, done: &mut bool) -> Option<()> {
    let mut stream = {
        let _permit = s.connects.acquire().await.ok()?;
        connect_from(server, i, &s.retries).await?
    };
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
                if !*done && reader.known.count >= s.n {
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
        }
    }
}

/// Splits the stream into frames and applies the ones about who is online. Deltas are
/// read by their first fields only (kind, version, id); pages are decoded in full.
#[derive(Default)]
pub(crate) struct Reader {
    frame: Vec<u8>,
    raw: Vec<u8>,
    /// The ids known online.
    pub(crate) known: Known,
    /// With `Some`, every id a `Joined` names is also appended here.
    pub(crate) joins: Option<Vec<u32>>,
}

impl Reader {
    /// Takes in bytes read from the server.
    pub(crate) fn feed(&mut self, bytes: &[u8]) {
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
                        if let Some(joins) = self.joins.as_mut() {
                            joins.push(id as u32);
                        }
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
pub(crate) struct Known {
    bits: Vec<u64>,
    /// How many ids are set.
    pub(crate) count: usize,
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
