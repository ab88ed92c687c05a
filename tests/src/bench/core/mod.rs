//! The `core` scenario: what the protocol core alone costs per file chunk.
//!
//! Two `HostClient` nodes (logged in by scripted server frames) move one file
//! (256 MiB unless `BENCH_CORE_MB` says otherwise) in memory, over a pair of in-memory
//! links on a virtual clock: no sockets, no file I/O, no hashing, no allocation per
//! datagram. The sender's host copies each chunk's bytes from a small pattern (its
//! `fill`); the receiver's host only counts the bytes it is handed. Every call into
//! each node is timed (in batches), so the table shows wall-clock nanoseconds per chunk
//! for each side, and the rate one core could sustain if it had a CPU to itself.
//!
//! The virtual link (`BENCH_CORE_RATE_MBPS`, default 5000 MB/s; `BENCH_CORE_RTT_US`,
//! default 1000 µs round trip) is faster than loopback with a loaded loopback's round
//! trip; the host loop wakes at most every `BENCH_CORE_TICK_US` (default 20 µs) of
//! virtual time, like a host that reads and sends datagrams in batches. The "virtual
//! MB/s" column is the goodput on that link: what window and rate control allow.
//! `BENCH_CORE_PEERS=N` puts N idle peers online besides the two nodes (the desktop
//! client holds up to 255).

mod link;
mod node;

use peerchat_proto::time::Duration;

use super::Table;
use node::{Measured, Run};

/// Runs the scenario: a lossless run and one with 2% random loss both ways
/// (`BENCH_CORE_LOSS=0,2,20` picks the loss rates, in percent).
pub fn run() -> Table {
    let run = Run {
        bytes: env_or("BENCH_CORE_MB", 256) << 20,
        rate: env_or("BENCH_CORE_RATE_MBPS", 5000) * 1_000_000,
        rtt: Duration::from_micros(env_or("BENCH_CORE_RTT_US", 1000)),
        tick: Duration::from_micros(env_or("BENCH_CORE_TICK_US", 20)),
        loss: 0.0,
        bystanders: env_or("BENCH_CORE_PEERS", 0) as usize,
    };
    let mut table = Table::new(
        &format!(
            "core: {} MiB between two HostClient cores in memory",
            run.bytes >> 20
        ),
        &[
            "loss",
            "chunks sent (resent)",
            "sender ns/chunk",
            "… poll_transmit+fill",
            "receiver ns/chunk",
            "… handle_datagram",
            "sender MB/s",
            "receiver MB/s",
            "virtual MB/s",
        ],
    );
    let repeat = env_or("BENCH_CORE_REPEAT", 5).max(1);
    for loss in losses() {
        let runs: Vec<Measured> = (0..repeat)
            .map(|_| on_big_stack(move || node::measure(Run { loss, ..run })))
            .collect();
        table.row(row(loss, &best(&runs), run.bytes));
    }
    let (size, build_us) = on_big_stack(node::build_cost);
    table.notes.push(format!(
        "A `HostClient` is {} KiB (4 sends and 8 receives with their windows) and takes \
         {build_us:.0} µs to build by value and box.",
        size / 1024
    ));
    table.notes.push(format!(
        "ns/chunk: wall-clock time spent in each node's calls (datagrams in, transmit and \
         fill, timers, events) per chunk datagram sent (sender) or received (receiver); \
         MB/s = file bytes / that time, the rate one core could carry on its own; the \
         best of {repeat} identical runs (`BENCH_CORE_REPEAT`). \
         {} idle peers online besides the two (`BENCH_CORE_PEERS`). \
         Virtual link: {} MB/s, {} µs round trip, host wakes every {} µs, \
         `cargo run --release -p peerchat-tests --bin bench -- core`.",
        run.bystanders,
        run.rate / 1_000_000,
        run.rtt.as_micros(),
        run.tick.as_micros()
    ));
    table
}

/// The least time each side took over the repeats (the runs are identical but for
/// the time measured: other work on the machine only ever adds to it).
fn best(runs: &[Measured]) -> Measured {
    let by = |f: fn(&Measured) -> f64| {
        *runs
            .iter()
            .min_by(|a, b| f(a).total_cmp(&f(b)))
            .expect("at least one run")
    };
    Measured {
        sender: by(|m| m.sender.total()).sender,
        receiver: by(|m| m.receiver.total()).receiver,
        ..runs[0]
    }
}

fn row(loss: f64, m: &Measured, bytes: u64) -> Vec<String> {
    let per = |ns: f64, n: u64| ns / n.max(1) as f64;
    let mbs = |ns: f64| bytes as f64 / ns.max(1.0) * 1e3;
    let sender = m.sender.total();
    let receiver = m.receiver.total();
    vec![
        format!("{:.0}%", loss * 100.0),
        format!("{} ({})", m.chunks_sent, m.resent),
        format!("{:.0}", per(sender, m.chunks_sent)),
        format!("{:.0}", per(m.sender.transmit, m.chunks_sent)),
        format!("{:.0}", per(receiver, m.chunks_received)),
        format!("{:.0}", per(m.receiver.datagrams, m.chunks_received)),
        format!("{:.0}", mbs(sender)),
        format!("{:.0}", mbs(receiver)),
        format!("{:.0}", bytes as f64 / m.virtual_secs.max(1e-9) / 1e6),
    ]
}

/// Runs `f` on a thread with a stack big enough to build the cores by value.
fn on_big_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(f)
        .expect("spawn")
        .join()
        .unwrap_or_else(|e| std::panic::resume_unwind(e))
}

/// The loss rates to run, in percent: `BENCH_CORE_LOSS` (comma-separated), else 0 and 2.
fn losses() -> Vec<f64> {
    let list = std::env::var("BENCH_CORE_LOSS").unwrap_or_else(|_| "0,2".to_owned());
    list.split(',')
        .filter_map(|p| p.trim().parse::<f64>().ok())
        .map(|p| p / 100.0)
        .collect()
}

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}
