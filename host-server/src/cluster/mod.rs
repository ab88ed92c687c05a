//! Cluster mode (`--cluster redis://HOST:PORT[/DB]`): the I/O between the core's
//! cluster state and Redis. The core ([`peerchat_proto::control::server::Server`] in
//! cluster mode, [`peerchat_proto::cluster`]) decides everything — what to claim,
//! renew, release, sweep or load, how to merge changes, when the store counts as down
//! and how long to wait before trying again; this module only carries its
//! [`StoreOp`]s to Redis and the answers back, and reads the change stream.
//!
//! Two tasks: `run_store` drains the core's ops (up to `IN_FLIGHT` calls at once,
//! renewals batched `RENEW_BATCH` to a call), and `reader::read_changes` follows the
//! stream with `XREAD BLOCK`. docs/CLUSTER.md describes the design.
//!
//! **Why `redis` and not `fred`.** Both are maintained async clients with tokio
//! support; we checked `cargo info` (redis 1.2.2, fred 10.1.0). `redis` (redis-rs) is
//! the de facto standard and does exactly what is needed — scripts invoked by SHA1 and
//! loaded again when Redis answers `NOSCRIPT` (after a restart), plain commands for
//! `XREAD`, a multiplexed connection with connect and response timeouts. With default
//! features off it adds about fifteen small crates (`url` among them; `idna_adapter` is
//! locked at 1.0.0, ASCII host names only, so that `url` does not pull in the ICU
//! tables), and redis 1.2.2 is the newest release for our MSRV (1.85). `fred`
//! brings its own reconnection policies, pools, `parking_lot`, `rand` 0.8, `semver`
//! and more; its automatic reconnects and retries would make timing decisions that
//! belong to the core (how long the store may be away before remote users go, how
//! often to try again). With `redis`, a failed call is simply reported to the core,
//! and the connection is made again on the next call the core asks for.

mod reader;
pub(crate) mod scripts;
mod store;

use core::time::Duration;
use std::sync::Arc;

use peerchat_proto::cluster::ClusterConfig;
use peerchat_proto::control::server::{StoreFailed, StoreOp, StoreReply};
use std::sync::Mutex;
use tokio::sync::Notify;
use tokio::task::JoinSet;

use crate::node::Shared;
pub(crate) use store::std_duration;
use store::{Loaded, Store};

/// Store calls out at once.
pub(crate) const IN_FLIGHT: usize = 64;
/// Renewals per call.
pub(crate) const RENEW_BATCH: usize = 256;
/// How long one `XREAD` blocks waiting for changes.
const READ_BLOCK: Duration = Duration::from_secs(1);

/// Opens (without connecting) the store at `url`: `redis://HOST:PORT[/DB]`.
pub fn open(url: &str) -> Result<redis::Client, String> {
    if !url.starts_with("redis://") {
        return Err(format!("{url:?} is not a redis://HOST:PORT[/DB] URL"));
    }
    redis::Client::open(url).map_err(|e| format!("bad cluster URL {url:?}: {e}"))
}

/// Where the stream reader reads from. Every presence-set load sets it while it holds
/// the node's lock, and the reader applies a batch under that lock only if no load came
/// since it read the batch: a change read before a load is never applied after it (it
/// might even come from a Redis that has since lost its data and numbers afresh).
#[derive(Default)]
pub(crate) struct Cursor {
    /// How many loads set it, and the stream position of the last.
    state: Mutex<(u64, Option<String>)>,
    changed: Notify,
}

impl Cursor {
    fn set(&self, position: String) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        *state = (state.0 + 1, Some(position));
        self.changed.notify_one();
    }

    /// The load count and the position.
    pub(crate) fn get(&self) -> (u64, Option<String>) {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Waits until a load after load number `seen` sets it.
    pub(crate) async fn after(&self, seen: u64) -> (u64, String) {
        loop {
            let notified = self.changed.notified();
            if let (n, Some(position)) = self.get() {
                if n > seen {
                    return (n, position);
                }
            }
            notified.await;
        }
    }
}

/// The running cluster tasks.
pub(crate) struct Tasks {
    store: tokio::task::JoinHandle<()>,
    reader: tokio::task::JoinHandle<()>,
}

impl Tasks {
    pub(crate) fn abort(&self) {
        self.store.abort();
        self.reader.abort();
    }
}

/// Starts the store and stream tasks for a node in cluster mode.
pub(crate) fn start(shared: &Arc<Shared>, client: redis::Client, config: &ClusterConfig) -> Tasks {
    let store = Arc::new(Store::new(client.clone(), config));
    let cursor = Arc::new(Cursor::default());
    let timeout = std_duration(config.op_timeout);
    Tasks {
        store: tokio::spawn(run_store(Arc::clone(shared), store, Arc::clone(&cursor))),
        reader: tokio::spawn(reader::read_changes(
            Arc::clone(shared),
            client,
            cursor,
            READ_BLOCK,
            timeout,
        )),
    }
}

/// What one store call came back with.
enum Done {
    Replies(Vec<(StoreOp, Result<StoreReply, StoreFailed>)>),
    Loaded(Result<Loaded, StoreFailed>),
}

/// Runs the core's store ops until aborted.
async fn run_store(shared: Arc<Shared>, store: Arc<Store>, cursor: Arc<Cursor>) {
    let mut calls: JoinSet<Done> = JoinSet::new();
    loop {
        let room = IN_FLIGHT.saturating_sub(calls.len());
        let ops = shared.with(|node, now| take_ops(node, now, room));
        dispatch(&store, &mut calls, ops);
        let woken = shared.store_wake.notified();
        tokio::select! {
            () = woken => {}
            Some(done) = calls.join_next(), if !calls.is_empty() => {
                if let Ok(done) = done {
                    settle(&shared, &cursor, done);
                }
            }
        }
    }
}

/// The ops due now, as many as fill `room` calls (renewals go [`RENEW_BATCH`] to a
/// call); the rest wait in the core.
fn take_ops(
    node: &mut crate::node::Node,
    now: peerchat_proto::Instant,
    room: usize,
) -> Vec<StoreOp> {
    let (mut ops, mut calls, mut renewals) = (Vec::new(), 0, 0);
    while calls < room {
        let Some(op) = node.poll_store_op(now) else {
            break;
        };
        if matches!(op, StoreOp::Renew { .. }) {
            calls += usize::from(renewals % RENEW_BATCH == 0);
            renewals += 1;
        } else {
            calls += 1;
        }
        ops.push(op);
    }
    ops
}

/// Starts a call for every op: renewals in batches, a load on its own.
fn dispatch(store: &Arc<Store>, calls: &mut JoinSet<Done>, ops: Vec<StoreOp>) {
    let (renewals, others): (Vec<StoreOp>, Vec<StoreOp>) = ops
        .into_iter()
        .partition(|op| matches!(op, StoreOp::Renew { .. }));
    for batch in renewals.chunks(RENEW_BATCH) {
        let (store, batch) = (Arc::clone(store), batch.to_vec());
        calls.spawn(async move {
            let replies = store.renew(&batch).await;
            Done::Replies(batch.into_iter().zip(replies).collect())
        });
    }
    for op in others {
        let store = Arc::clone(store);
        calls.spawn(async move {
            match op {
                StoreOp::Load => Done::Loaded(store.load().await),
                op => Done::Replies(vec![(op, store.run(&op).await)]),
            }
        });
    }
}

/// Hands a finished call's answers to the core.
fn settle(shared: &Shared, cursor: &Cursor, done: Done) {
    match done {
        Done::Replies(replies) => shared.with(|node, now| {
            for (op, reply) in replies {
                node.handle_store_reply(now, op, reply);
            }
        }),
        Done::Loaded(Ok(loaded)) => {
            let Loaded {
                epoch,
                seq,
                last_id,
                leases,
            } = loaded;
            shared.with(|node, now| {
                node.handle_snapshot(now, epoch, seq, leases);
                cursor.set(last_id);
            });
        }
        Done::Loaded(Err(e)) => {
            shared.with(|node, now| node.handle_store_reply(now, StoreOp::Load, Err(e)))
        }
    }
    shared.retime.notify_one();
}

/// Waits (at most `limit`) until the core has no store work left: leases of users
/// who just left are released rather than left to expire.
pub(crate) async fn drain(shared: &Shared, limit: Duration) {
    let deadline = tokio::time::Instant::now() + limit;
    while !shared.with(|node, _| node.is_store_idle()) && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
