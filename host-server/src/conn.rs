//! One task per TCP connection: read bytes into the node, write what it hands out.
//!
//! Memory per connection is a small read buffer and, only while the socket refuses
//! data, the unsent rest of one write (at most [`SCRATCH`] bytes). Output is produced
//! into a per-thread scratch buffer while the socket accepts it, so a client that keeps
//! up never holds a buffer of its own.

use core::cell::RefCell;
use core::time::Duration;
use std::io;
use std::sync::Arc;

use peerchat_proto::control::server::{CloseReason, ConnId, Transmit};
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

use crate::node::Shared;

/// Largest single write (and the most a stuck connection keeps unsent).
pub(crate) const SCRATCH: usize = 16 * 1024;
/// Read buffer: client frames are at most 64 bytes.
const READ: usize = 256;
/// How long a closed connection is drained so the last frame is not lost to a reset.
const LINGER: Duration = Duration::from_millis(500);

thread_local! {
    static SCRATCH_BUF: RefCell<Vec<u8>> = RefCell::new(vec![0; SCRATCH]);
}

/// What a flush ended with.
enum Flushed {
    /// Everything the node had is written.
    Idle,
    /// The socket is full; `pending` holds the rest.
    Blocked,
    /// The node says close.
    Close(CloseReason),
}

/// Serves `conn` over `stream` until it closes, then reports the end to the node.
pub(crate) async fn run(shared: Arc<Shared>, conn: ConnId, stream: TcpStream) {
    let mut task = Task {
        shared,
        conn,
        stream,
        pending: Vec::new(),
    };
    let reason = task.serve().await;
    let Task { shared, stream, .. } = task;
    shared.with(|node, now| node.handle_disconnect(now, conn));
    if let Some(CloseReason::Disconnected) | None = reason {
        return;
    }
    linger(stream).await;
}

struct Task {
    shared: Arc<Shared>,
    conn: ConnId,
    stream: TcpStream,
    pending: Vec<u8>,
}

impl Task {
    /// Returns why the node closed the connection, `None` if the peer or network did.
    async fn serve(&mut self) -> Option<CloseReason> {
        let mut buf = [0u8; READ];
        let shared = Arc::clone(&self.shared);
        loop {
            let woken = shared.wake.notified();
            tokio::pin!(woken);
            woken.as_mut().enable();
            let blocked = match self.flush() {
                Ok(Flushed::Close(reason)) => return Some(reason),
                Ok(Flushed::Blocked) => true,
                Ok(Flushed::Idle) => false,
                Err(_) => return None,
            };
            tokio::select! {
                ready = self.stream.readable() => {
                    if ready.is_err() || !self.read(&mut buf) {
                        return None;
                    }
                }
                ready = self.stream.writable(), if blocked => {
                    if ready.is_err() {
                        return None;
                    }
                }
                () = &mut woken => {
                    if blocked {
                        let closing = shared.with(|node, _| node.closing(self.conn));
                        if closing.is_some() {
                            return closing;
                        }
                    }
                }
            }
        }
    }

    /// Reads what is there into the node; `false` at EOF or on an error.
    fn read(&mut self, buf: &mut [u8]) -> bool {
        match self.stream.try_read(buf) {
            Ok(0) => false,
            Ok(n) => {
                let conn = self.conn;
                self.shared
                    .with(|node, now| node.handle_bytes(now, conn, &buf[..n]));
                true
            }
            Err(e) => e.kind() == io::ErrorKind::WouldBlock,
        }
    }

    /// Writes the unsent rest, then pulls and writes output until the node has none or
    /// the socket is full.
    fn flush(&mut self) -> io::Result<Flushed> {
        if !self.pending.is_empty() {
            match self.stream.try_write(&self.pending) {
                Ok(n) if n == self.pending.len() => self.pending = Vec::new(),
                Ok(n) => {
                    self.pending.drain(..n);
                    return Ok(Flushed::Blocked);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(Flushed::Blocked),
                Err(e) => return Err(e),
            }
        }
        SCRATCH_BUF.with(|scratch| {
            let mut scratch = scratch.borrow_mut();
            loop {
                let conn = self.conn;
                let t = self
                    .shared
                    .with(|node, now| node.poll_transmit(now, conn, &mut scratch));
                let n = match t {
                    Transmit::Frames(n) => n,
                    Transmit::Close(reason) => return Ok(Flushed::Close(reason)),
                    Transmit::Idle => return Ok(Flushed::Idle),
                };
                let written = match self.stream.try_write(&scratch[..n]) {
                    Ok(w) => w,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => 0,
                    Err(e) => return Err(e),
                };
                if written < n {
                    self.pending = scratch[written..n].to_vec();
                    return Ok(Flushed::Blocked);
                }
            }
        })
    }
}

/// Half-closes and reads until EOF (briefly), so a `Rejected` or `Shutdown` just written
/// is not destroyed by a reset for unread input.
async fn linger(mut stream: TcpStream) {
    use tokio::io::AsyncWriteExt;
    let _ = stream.shutdown().await;
    let mut sink = [0u8; READ];
    let drain = async {
        while let Ok(n) = stream.read(&mut sink).await {
            if n == 0 {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(LINGER, drain).await;
}
