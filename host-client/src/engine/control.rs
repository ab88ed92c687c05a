//! The control connection's I/O: connecting and reading run in small tasks that report
//! to the engine over one channel; the engine keeps the write half and writes frames
//! itself. Every report carries the connection's generation, so a report from a
//! connection the engine already gave up is ignored.

use core::net::SocketAddr;
use std::io;

use tokio::io::AsyncReadExt;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::task::AbortHandle;

/// What the control connection's tasks tell the engine.
#[derive(Debug)]
pub(crate) enum ControlInput {
    /// The connection is up; the engine writes through `writer`.
    Connected {
        /// Connection generation.
        generation: u64,
        /// Write half.
        writer: OwnedWriteHalf,
        /// Our address on the connection (its IP is how the server sees us).
        local: SocketAddr,
        /// Whether this connect started the directory server in this process.
        started_server: bool,
    },
    /// Bytes arrived.
    Bytes {
        /// Connection generation.
        generation: u64,
        /// The bytes.
        bytes: Vec<u8>,
    },
    /// Connecting failed, or the connection closed (`error` is `None` for a clean close).
    Closed {
        /// Connection generation.
        generation: u64,
        /// Why, if it was an error.
        error: Option<io::Error>,
    },
}

impl ControlInput {
    /// The generation this report belongs to.
    pub(crate) fn generation(&self) -> u64 {
        match self {
            ControlInput::Connected { generation, .. }
            | ControlInput::Bytes { generation, .. }
            | ControlInput::Closed { generation, .. } => *generation,
        }
    }
}

/// Starts connecting to `server`; the outcome and then every read arrive on `tx`.
/// Aborting the returned handle stops the reading.
pub(crate) fn spawn_connect(
    server: SocketAddr,
    generation: u64,
    tx: mpsc::Sender<ControlInput>,
    embed: bool,
) -> AbortHandle {
    let task = tokio::spawn(async move {
        match connect(server, embed).await {
            Ok((stream, started)) => run_connection(stream, started, generation, tx).await,
            Err(error) => {
                let error = Some(error);
                // The engine may be gone; then nobody needs the news.
                let _ = tx.send(ControlInput::Closed { generation, error }).await;
            }
        }
    });
    task.abort_handle()
}

/// Connects; with `embed`, a refused connection starts the directory server in this
/// process and tries again. Also says whether it started the server.
async fn connect(server: SocketAddr, embed: bool) -> io::Result<(TcpStream, bool)> {
    let (stream, started) = match TcpStream::connect(server).await {
        Err(e) if embed && e.kind() == io::ErrorKind::ConnectionRefused => {
            let started = crate::embedded::start(server).await?;
            (TcpStream::connect(server).await?, started)
        }
        other => (other?, false),
    };
    // Control frames are small and latency matters more than batching.
    let _ = stream.set_nodelay(true);
    Ok((stream, started))
}

async fn run_connection(
    stream: TcpStream,
    started_server: bool,
    generation: u64,
    tx: mpsc::Sender<ControlInput>,
) {
    let local = match stream.local_addr() {
        Ok(local) => local,
        Err(error) => {
            let error = Some(error);
            let _ = tx.send(ControlInput::Closed { generation, error }).await;
            return;
        }
    };
    let (reader, writer) = stream.into_split();
    let connected = ControlInput::Connected {
        generation,
        writer,
        local,
        started_server,
    };
    if tx.send(connected).await.is_ok() {
        read_loop(reader, generation, tx).await;
    }
}

async fn read_loop(mut reader: OwnedReadHalf, generation: u64, tx: mpsc::Sender<ControlInput>) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let report = match reader.read(&mut buf).await {
            Ok(0) => ControlInput::Closed {
                generation,
                error: None,
            },
            Ok(n) => ControlInput::Bytes {
                generation,
                bytes: buf[..n].to_vec(),
            },
            Err(error) => ControlInput::Closed {
                generation,
                error: Some(error),
            },
        };
        let last = matches!(report, ControlInput::Closed { .. });
        if tx.send(report).await.is_err() || last {
            return;
        }
    }
}
