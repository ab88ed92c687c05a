//! The `cluster` scenario: three `peerchat-server --cluster` on one real
//! `redis-server`, N light clients per server (3 000; `BENCH_CLUSTER_N` picks another
//! number) logging in at once. Figures: the time until every client sees every other;
//! cross-server join latency p50/p99 (from a `Hello` on one server until a client of
//! another server reads the `Joined`, measured with everyone online); Redis commands
//! per login (`INFO commandstats`, the commands scripts run included) and script calls
//! per login; then, idle, the commands per second that renewals and sweeps cost; each
//! server's CPU and RSS, and Redis's.

use core::net::SocketAddr;
use core::sync::atomic::AtomicU64;
use core::time::Duration;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant as StdInstant;

use peerchat_proto::wire::{
    encode_client_frame, ClientMsg, Feed, FrameDecoder, ServerMsg, MAX_CLIENT_FRAME,
    MAX_SERVER_FRAME,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::Notify;

use super::swarm::{connect_from, Reader, Running};
use super::Table;
use crate::procs::redis::RedisProc;
use crate::procs::{cpu_secs, raise_fd_limit, rss_kib, ServerProc};

/// Give up converging after this long.
const LIMIT: Duration = Duration::from_secs(180);
/// Cross-server joins timed.
const JOINS: usize = 100;
/// The pause between two timed joins (each is then logged out): every join and leave
/// reaches all N × 3 clients, so joins much closer together would measure the machine's
/// fan-out capacity rather than the cluster's latency.
const JOIN_EVERY: Duration = Duration::from_millis(150);
/// How long the idle cost of the cluster is watched.
const IDLE: Duration = Duration::from_secs(10);

/// Runs the scenario.
pub fn run() -> Table {
    let per_server: usize = std::env::var("BENCH_CLUSTER_N")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(3_000);
    let fd_limit = raise_fd_limit();
    let mut table = Table::new(
        "cluster: 3 servers, one Redis, N clients per server log in at once",
        &[
            "clients",
            "converged",
            "all see all (s)",
            "join p50 (ms)",
            "join p99 (ms)",
            "Redis commands / login",
            "script calls / login",
            "idle Redis commands / s",
            "server CPU (s) A, B, C",
            "server RSS (MiB) A, B, C",
            "Redis CPU (s), RSS (MiB)",
        ],
    );
    let m = measure(per_server);
    let each = |f: &dyn Fn(&ServerFigures) -> String| {
        m.servers.iter().map(f).collect::<Vec<_>>().join(", ")
    };
    let logins = (3 * per_server) as f64;
    table.row(vec![
        format!("3 × {per_server}"),
        format!("{}/{}", m.converged, 3 * per_server),
        format!("{:.2}", m.time.as_secs_f64()),
        format!("{:.1}", percentile(&m.joins, 50)),
        format!("{:.1}", percentile(&m.joins, 99)),
        format!("{:.1}", m.login_commands as f64 / logins),
        format!("{:.2}", m.login_scripts as f64 / logins),
        format!("{:.0}", m.idle_commands as f64 / IDLE.as_secs_f64()),
        each(&|s| format!("{:.2}", s.cpu)),
        each(&|s| format!("{:.1}", s.rss_kib as f64 / 1024.0)),
        format!("{:.2}, {:.1}", m.redis_cpu, m.redis_rss_kib as f64 / 1024.0),
    ]);
    table.notes.push(format!(
        "Machine load (1-minute load average, 2 cores, shared): {:.1} before, {:.1} after.",
        m.load.0, m.load.1
    ));
    table.notes.push(format!(
        "Release build, loopback; servers `--cluster redis://… --max-clients {}` with the \
         default 5 s heartbeat (leases of 15 s renewed every 2.5 s); light clients in one \
         tokio process (2 worker threads), client i on server i mod 3; fd limit \
         {fd_limit}. Joins: {JOINS} logins {} ms apart, each on one server and \
         watched from the next, with all clients online. Commands per login: every \
         command Redis ran (`INFO commandstats`, those inside scripts included) from the \
         first login until all saw all, over the logins; script calls are the servers' \
         round trips (claims and renewals waiting together share one). Idle: the same count over {}s after convergence. CPU = utime + \
         stime from the first login until all saw all; RSS then.",
        3 * per_server + 1_000,
        JOIN_EVERY.as_millis(),
        IDLE.as_secs()
    ));
    table
}

struct ServerFigures {
    cpu: f64,
    rss_kib: u64,
}

struct Figures {
    converged: usize,
    time: Duration,
    joins: Vec<f64>,
    login_commands: u64,
    login_scripts: u64,
    idle_commands: u64,
    servers: Vec<ServerFigures>,
    redis_cpu: f64,
    redis_rss_kib: u64,
    /// The 1-minute load average before and after.
    load: (f64, f64),
}

fn measure(per_server: usize) -> Figures {
    let load0 = load_average();
    let total = 3 * per_server;
    let redis = RedisProc::start();
    let max = (total + 1_000).to_string();
    let servers: Vec<ServerProc> = (0..3)
        .map(|_| {
            ServerProc::start(&[
                "--cluster",
                &redis.url(),
                "--max-clients",
                &max,
                "--log-level",
                "warn",
            ])
        })
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    let addrs: Vec<SocketAddr> = servers.iter().map(|s| s.addr).collect();
    let pids: Vec<u32> = servers.iter().map(|s| s.proc.pid()).collect();
    let redis_pid = redis.pid().unwrap_or(0);
    let cpu0: Vec<f64> = pids.iter().map(|&p| cpu_secs(p)).collect();
    let redis_cpu0 = cpu_secs(redis_pid);
    let calls0 = redis.command_calls();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let clients = rt.block_on(async { Running::start(&addrs, total) });
    let (converged, time) = rt.block_on(clients.converged(LIMIT));
    let calls1 = redis.command_calls();
    let figures: Vec<ServerFigures> = pids
        .iter()
        .zip(&cpu0)
        .map(|(&p, c0)| ServerFigures {
            cpu: cpu_secs(p) - c0,
            rss_kib: rss_kib(p),
        })
        .collect();
    let redis_cpu = cpu_secs(redis_pid) - redis_cpu0;
    let redis_rss_kib = rss_kib(redis_pid);
    if converged < total {
        for (i, s) in servers.iter().enumerate() {
            let log = s.log();
            let tail: Vec<&str> = log.lines().rev().take(10).collect();
            eprintln!("cluster: only {converged} converged; server {i} log tail:");
            tail.iter().rev().for_each(|l| eprintln!("  {l}"));
        }
    }
    std::thread::sleep(IDLE);
    let calls2 = redis.command_calls();
    let joins = rt.block_on(join_latency(&addrs));
    clients.stop();
    drop(rt);
    Figures {
        converged,
        time,
        joins,
        login_commands: total_calls(&calls1) - total_calls(&calls0),
        login_scripts: script_calls(&calls1) - script_calls(&calls0),
        idle_commands: total_calls(&calls2) - total_calls(&calls1),
        servers: figures,
        redis_cpu,
        redis_rss_kib,
        load: (load0, load_average()),
    }
}

/// The 1-minute load average (`/proc/loadavg`), 0 if unknown.
fn load_average() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0.0)
}

fn total_calls(calls: &[(String, u64)]) -> u64 {
    calls.iter().map(|(_, n)| n).sum()
}

fn script_calls(calls: &[(String, u64)]) -> u64 {
    calls
        .iter()
        .filter(|(c, _)| c == "evalsha" || c == "eval")
        .map(|(_, n)| n)
        .sum()
}

/// The `p`th percentile of `values`, in milliseconds (0 if none).
fn percentile(values: &[f64], p: usize) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => 0.0,
        n => v[((n - 1) * p / 100).min(n - 1)],
    }
}

/// When each id's `Joined` reached a watcher, per server.
type Seen = Arc<(Mutex<HashMap<u32, StdInstant>>, Notify)>;

/// Times [`JOINS`] logins, one after another ([`JOIN_EVERY`] apart), each from its
/// `Hello` on server `k` until the watcher on server `k + 1` reads its `Joined`; in
/// milliseconds. Each probe logs out once timed.
async fn join_latency(servers: &[SocketAddr]) -> Vec<f64> {
    let retries = AtomicU64::new(0);
    let mut seen = Vec::new();
    let mut watchers = Vec::new();
    for (k, &server) in servers.iter().enumerate() {
        let log: Seen = Arc::default();
        seen.push(Arc::clone(&log));
        watchers.push(tokio::spawn(watch(server, k, log)));
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mut out = Vec::new();
    for j in 0..JOINS {
        let from = j % servers.len();
        let to = (from + 1) % servers.len();
        let Some(mut stream) = connect_from(servers[from], j, &retries).await else {
            continue;
        };
        let started = StdInstant::now();
        let Some(id) = log_in(&mut stream, &format!("probe{j}")).await else {
            continue;
        };
        let welcomed = started.elapsed();
        let (log, arrived) = &*seen[to];
        let wait = async {
            loop {
                let notified = arrived.notified();
                if let Some(at) = log.lock().unwrap_or_else(|e| e.into_inner()).get(&id) {
                    return *at;
                }
                notified.await;
            }
        };
        if let Ok(at) = tokio::time::timeout(Duration::from_secs(10), wait).await {
            out.push(at.saturating_duration_since(started).as_secs_f64() * 1e3);
            if std::env::var_os("BENCH_CLUSTER_TRACE").is_some() {
                eprintln!(
                    "join {j}: welcome {:.1} ms, seen {:.1} ms",
                    welcomed.as_secs_f64() * 1e3,
                    out[out.len() - 1]
                );
            }
        }
        drop(stream);
        tokio::time::sleep(JOIN_EVERY).await;
    }
    for w in watchers {
        w.abort();
    }
    out
}

/// Says `Hello` as `name` and returns the id from the `Welcome`.
async fn log_in(stream: &mut tokio::net::TcpStream, name: &str) -> Option<u32> {
    let mut frame = [0u8; MAX_CLIENT_FRAME];
    let hello = ClientMsg::Hello { name, udp_port: 9 };
    let n = encode_client_frame(&hello, &mut frame).ok()?;
    stream.write_all(&frame[..n]).await.ok()?;
    let mut decoder = FrameDecoder::<MAX_SERVER_FRAME>::new();
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = stream.read(&mut buf).await.ok().filter(|&n| n > 0)?;
        let mut rest = &buf[..n];
        while let Feed::Frame { msg, rest: after } = decoder.feed::<ServerMsg<'_>>(rest) {
            if let Ok(ServerMsg::Welcome { id, .. }) = msg {
                return Some(id.0);
            }
            rest = after;
        }
    }
}

/// A light client on `server` that notes when each `Joined` arrives.
async fn watch(server: SocketAddr, k: usize, seen: Seen) {
    let retries = AtomicU64::new(0);
    let Some(mut stream) = connect_from(server, k, &retries).await else {
        return;
    };
    let mut frame = [0u8; MAX_CLIENT_FRAME];
    let name = format!("watch{k}");
    let hello = ClientMsg::Hello {
        name: &name,
        udp_port: 9,
    };
    let Ok(n) = encode_client_frame(&hello, &mut frame) else {
        return;
    };
    if stream.write_all(&frame[..n]).await.is_err() {
        return;
    }
    let ping_len = encode_client_frame(&ClientMsg::Ping, &mut frame).unwrap_or(0);
    let mut reader = Reader::default();
    reader.joins = Some(Vec::new());
    let mut buf = vec![0u8; 64 * 1024];
    let mut ping = tokio::time::interval(Duration::from_secs(4));
    loop {
        tokio::select! {
            r = stream.read(&mut buf) => {
                let Ok(n) = r else { return };
                if n == 0 {
                    return;
                }
                let at = StdInstant::now();
                reader.feed(&buf[..n]);
                if let Some(joins) = reader.joins.as_mut() {
                    if !joins.is_empty() {
                        let (log, arrived) = &*seen;
                        let mut log = log.lock().unwrap_or_else(|e| e.into_inner());
                        log.extend(joins.drain(..).map(|id| (id, at)));
                        arrived.notify_waiters();
                    }
                }
            }
            _ = ping.tick() => {
                if stream.write_all(&frame[..ping_len]).await.is_err() {
                    return;
                }
            }
        }
    }
}
