//! The Peerchat directory server as a library, so the client can embed it.
//!
//! This crate is a thin tokio driver: every decision (logins, names, heartbeats,
//! timeouts, fan-out, who is too slow, shutdown) is made by
//! [`peerchat_proto::control::server::Server`]. The driver accepts connections, runs
//! one task per connection, one task for UDP probes and one for timers, and logs the
//! node's events with `tracing`. With [`ServerConfig::cluster`] set, the server joins a
//! cluster whose list lives in Redis ([`cluster`]: two more tasks, one for store calls
//! and one reading the change stream).
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use peerchat_server::{bind, serve, ServerConfig};
//! let (listener, udp) = bind("127.0.0.1:0".parse().unwrap()).await?;
//! let addr = listener.local_addr()?;
//! let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
//! let server = tokio::spawn(serve(listener, udp, ServerConfig::default(), async {
//!     let _ = stopped.await;
//! }));
//! // … clients connect to `addr` …
//! let _ = stop.send(());
//! server.await.expect("server task")?;
//! # Ok(()) }
//! ```

mod accept;
pub mod cluster;
mod conn;
mod log;
mod node;

use core::future::Future;
use core::net::SocketAddr;
use core::time::Duration;
use std::io;
use std::sync::Arc;

use peerchat_proto::cluster::{ClusterConfig, NodeId};
use peerchat_proto::control::server::{self as core_server, Conn, Record, Server};
use peerchat_proto::directory::Slot;
use tokio::net::{TcpListener, UdpSocket};

use node::Shared;

/// Settings of one server.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Most users logged in at once (`--max-clients`).
    pub max_clients: usize,
    /// How often clients must ping; silence for three periods logs a client out.
    pub heartbeat: Duration,
    /// How long a new connection may take to say `Hello`.
    pub handshake_timeout: Duration,
    /// How long a client may leave waiting changes unread before it is dropped.
    pub stall_timeout: Duration,
    /// Changes kept for clients that are behind (beyond it they get a new snapshot).
    pub journal: usize,
    /// Secret for probe tokens; `None` reads one from the operating system.
    pub seed: Option<[u8; 32]>,
    /// Join the cluster whose list lives in this Redis (`redis://HOST:PORT[/DB]`);
    /// `None`: a lone server with its list in memory.
    pub cluster: Option<String>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            max_clients: 100_000,
            heartbeat: Duration::from_secs(5),
            handshake_timeout: Duration::from_secs(5),
            stall_timeout: Duration::from_secs(10),
            journal: 16_384,
            seed: None,
            cluster: None,
        }
    }
}

/// Binds the TCP listener on `addr` and a UDP socket on the same IP and port number
/// (the probe socket). With port 0 the TCP port is chosen first and reused for UDP.
pub async fn bind(addr: SocketAddr) -> io::Result<(TcpListener, UdpSocket)> {
    let socket = match addr {
        SocketAddr::V4(_) => tokio::net::TcpSocket::new_v4()?,
        SocketAddr::V6(_) => tokio::net::TcpSocket::new_v6()?,
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    // A long accept queue: a burst of logins waits here instead of retrying SYNs.
    let listener = socket.listen(4096)?;
    let udp = UdpSocket::bind(listener.local_addr()?).await?;
    Ok((listener, udp))
}

/// Runs a directory server on `listener` (TCP control connections) and `udp` (probes;
/// bind it to the same port number, see [`bind`]) until `shutdown` completes; then
/// every client is sent `Shutdown`, connections are closed (within a grace period)
/// and this returns `Ok(())`. Errors only if the sockets cannot be used at all.
pub async fn serve(
    listener: TcpListener,
    udp: UdpSocket,
    config: ServerConfig,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    let store = match config.cluster.as_deref().map(cluster::open) {
        Some(Err(e)) => return Err(io::Error::new(io::ErrorKind::InvalidInput, e)),
        Some(Ok(client)) => Some(client),
        None => None,
    };
    let shared = Arc::new(Shared::new(build_node(&config)));
    let local = listener.local_addr()?;
    tracing::info!(%local, max_clients = config.max_clients, "directory server listening");
    let cluster = match store {
        Some(client) => Some(join_cluster(&shared, client, &config)?),
        None => None,
    };
    let timers = tokio::spawn(accept::timers(Arc::clone(&shared)));
    let probes = tokio::spawn(accept::probes(Arc::clone(&shared), udp));
    let waker = tokio::spawn(node::waker(Arc::clone(&shared)));
    tokio::select! {
        () = accept::accept_loop(Arc::clone(&shared), listener) => {}
        () = shutdown => {}
    }
    tracing::info!("shutting down: telling every client");
    shared.with(|node, now| node.begin_shutdown(now));
    shared.retime.notify_one();
    accept::until_finished(&shared).await;
    if let Some((tasks, settings)) = &cluster {
        // Release the leases of everyone who just left, rather than let them expire.
        cluster::drain(&shared, cluster::std_duration(settings.op_timeout)).await;
        tasks.stop();
    }
    timers.abort();
    probes.abort();
    waker.abort();
    tracing::info!("directory server stopped");
    Ok(())
}

/// Puts the node in cluster mode under a new random node id and starts its store I/O.
fn join_cluster(
    shared: &Arc<Shared>,
    client: redis::Client,
    config: &ServerConfig,
) -> io::Result<(cluster::Tasks, ClusterConfig)> {
    let id = u64::from_le_bytes(os_seed()[..8].try_into().unwrap_or([1; 8]));
    let settings = ClusterConfig::new(NodeId(id), config.heartbeat.into());
    shared.with(|core, now| core.enable_cluster(now, settings));
    let url = config.cluster.as_deref().unwrap_or_default();
    tracing::info!(node = %settings.node, store = url, "joining the cluster");
    Ok((cluster::start(shared, client, &settings)?, settings))
}

fn build_node(config: &ServerConfig) -> node::Node {
    let mut core = core_server::ServerConfig::new(config.seed.unwrap_or_else(os_seed));
    core.heartbeat = config.heartbeat.into();
    core.handshake_timeout = config.handshake_timeout.into();
    core.stall_timeout = config.stall_timeout.into();
    core.sweep_interval = (config.heartbeat / 4)
        .clamp(Duration::from_millis(10), Duration::from_secs(1))
        .into();
    let slots = vec![Slot::EMPTY; config.max_clients];
    // Room for connections that have not logged in yet.
    let spare = (config.max_clients / 16).max(64);
    let conns: Vec<Conn> = core::iter::repeat_with(Conn::new)
        .take(config.max_clients + spare)
        .collect();
    let records = vec![Record::EMPTY; config.journal.max(1)];
    Server::new(slots, conns, records, core)
}

/// 32 random bytes from the operating system.
fn os_seed() -> [u8; 32] {
    use std::io::Read;
    let mut seed = [0u8; 32];
    if let Ok(mut f) = std::fs::File::open("/dev/urandom") {
        if f.read_exact(&mut seed).is_ok() {
            return seed;
        }
    }
    // No /dev/urandom: the standard library's per-process random hash keys.
    use core::hash::{BuildHasher, Hasher};
    for chunk in seed.chunks_mut(8) {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(chunk.as_ptr() as u64);
        chunk.copy_from_slice(&h.finish().to_le_bytes());
    }
    seed
}
