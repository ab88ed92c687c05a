//! Cluster mode (`--cluster redis://HOST:PORT[/DB]`): the I/O between the core's
//! cluster state and Redis. The core ([`peerchat_proto::control::server::Server`] in
//! cluster mode, [`peerchat_proto::cluster`]) decides everything — what to claim,
//! renew, release, sweep or load, how to merge changes, when the store counts as down
//! and how long to wait before trying again; this module only carries its
//! [`StoreOp`]s to Redis and the answers back, and reads the change stream.
//!
//! Two tasks on a thread of their own: `driver` drains the core's ops (up to 64 calls
//! at once, claims and renewals batched), and `reader` follows the stream with
//! `XREAD BLOCK`. docs/CLUSTER.md describes the design.
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

mod driver;
mod reader;
pub(crate) mod scripts;
mod store;

use core::time::Duration;
use std::sync::Arc;

use std::sync::Mutex;

use peerchat_proto::cluster::ClusterConfig;
use tokio::sync::Notify;

use crate::node::Shared;
pub(crate) use store::std_duration;
use store::Store;

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

/// The cluster's I/O thread: the store and stream tasks run on a runtime of their own,
/// so that a server busy waking thousands of connection tasks does not hold up its
/// store calls (a login waits for its claim).
pub(crate) struct Tasks {
    stop: Arc<Notify>,
}

impl Tasks {
    /// Stops the tasks (their thread ends on its own).
    pub(crate) fn stop(&self) {
        self.stop.notify_one();
    }
}

/// Starts the store and stream tasks for a node in cluster mode.
pub(crate) fn start(
    shared: &Arc<Shared>,
    client: redis::Client,
    config: &ClusterConfig,
) -> std::io::Result<Tasks> {
    let store = Arc::new(Store::new(client.clone(), config));
    let cursor = Arc::new(Cursor::default());
    let timeout = std_duration(config.op_timeout);
    let stop = Arc::new(Notify::new());
    let (shared, stopped) = (Arc::clone(shared), Arc::clone(&stop));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    std::thread::Builder::new()
        .name("cluster-store".into())
        .spawn(move || {
            runtime.block_on(async {
                let store = driver::run_store(Arc::clone(&shared), store, Arc::clone(&cursor));
                let reader = reader::read_changes(shared, client, cursor, READ_BLOCK, timeout);
                tokio::select! {
                    () = store => {}
                    () = reader => {}
                    () = stopped.notified() => {}
                }
            });
        })?;
    Ok(Tasks { stop })
}

/// Waits (at most `limit`) until the core has no store work left: leases of users
/// who just left are released rather than left to expire.
pub(crate) async fn drain(shared: &Shared, limit: Duration) {
    let deadline = tokio::time::Instant::now() + limit;
    while !shared.with(|node, _| node.is_store_idle()) && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
