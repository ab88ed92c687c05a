//! The `directory` scenario: N clients log in to a real `peerchat-server` at once and
//! wait until every client sees every other. Figures: time to converge, server RSS per
//! client, server CPU seconds.
//!
//! The clients are the light ones of [`super::swarm`], so that they, which share the
//! machine with the server, cost as little as possible.
//! `BENCH_DIRECTORY_N=1000,10000` picks the sizes.

use core::time::Duration;

use super::swarm::{Running, SOURCES};
use super::Table;
use crate::procs::{cpu_secs, raise_fd_limit, ServerProc};

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
    let (converged, time, bytes, retries) = rt.block_on(async {
        let clients = Running::start(&[server.addr], n);
        let (converged, time) = clients.converged(LIMIT).await;
        let (bytes, retries) = (clients.bytes(), clients.retries());
        clients.stop();
        (converged, time, bytes, retries)
    });
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
