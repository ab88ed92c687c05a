//! `peerchat-server`: the directory server.

use core::net::SocketAddr;
use core::time::Duration;
use std::io::IsTerminal as _;
use std::process::ExitCode;

use clap::Parser;
use peerchat_server::{bind, serve, ServerConfig};
use tracing_subscriber::EnvFilter;

/// Peerchat directory server: keeps the list of who is online.
#[derive(Debug, Parser)]
#[command(name = "peerchat-server", version)]
struct Cli {
    /// TCP address to listen on; UDP probes are answered on the same port number.
    #[arg(long, default_value = "0.0.0.0:8888")]
    listen: SocketAddr,
    /// Most users logged in at once.
    #[arg(long, default_value_t = 100_000)]
    max_clients: usize,
    /// Log level or filter (error, warn, info, debug, trace, or a tracing filter).
    #[arg(long, default_value = "info")]
    log_level: String,
    /// Heartbeat period in milliseconds (clients silent for three are logged out).
    #[arg(long, default_value_t = 5_000)]
    heartbeat_ms: u64,
    /// Milliseconds a new connection has to log in.
    #[arg(long, default_value_t = 5_000)]
    handshake_timeout_ms: u64,
    /// Milliseconds a client may leave changes unread before it is dropped.
    #[arg(long, default_value_t = 10_000)]
    stall_timeout_ms: u64,
    /// Join a cluster of servers that share one list through this Redis
    /// (redis://HOST:PORT[/DB]). Every server of a cluster needs the same heartbeat.
    #[arg(long, value_name = "URL")]
    cluster: Option<String>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let filter = match EnvFilter::try_new(&cli.log_level) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("peerchat-server: bad --log-level {:?}: {e}", cli.log_level);
            return ExitCode::from(2);
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("peerchat-server: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    let config = ServerConfig {
        max_clients: cli.max_clients,
        heartbeat: Duration::from_millis(cli.heartbeat_ms.max(10)),
        handshake_timeout: Duration::from_millis(cli.handshake_timeout_ms),
        stall_timeout: Duration::from_millis(cli.stall_timeout_ms),
        cluster: cli.cluster.clone(),
        ..ServerConfig::default()
    };
    if let Some(Err(e)) = cli.cluster.as_deref().map(peerchat_server::cluster::open) {
        eprintln!("peerchat-server: --cluster: {e}");
        return ExitCode::from(2);
    }
    match runtime.block_on(run(cli.listen, config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("peerchat-server: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(listen: SocketAddr, config: ServerConfig) -> std::io::Result<()> {
    // Handlers first: a signal that arrives once the address is printed is never lost.
    let stop = signal()?;
    let (listener, udp) = bind(listen)
        .await
        .map_err(|e| std::io::Error::new(e.kind(), format!("cannot listen on {listen}: {e}")))?;
    // The bound address on stdout, so scripts and tests can use port 0.
    println!("listening on {}", listener.local_addr()?);
    serve(listener, udp, config, stop).await
}

/// Installs the SIGINT and SIGTERM handlers now; the future completes on either.
#[cfg(unix)]
fn signal() -> std::io::Result<impl core::future::Future<Output = ()>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = int.recv() => {}
            _ = term.recv() => {}
        }
    })
}

/// Completes on Ctrl-C.
#[cfg(not(unix))]
fn signal() -> std::io::Result<impl core::future::Future<Output = ()>> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}
