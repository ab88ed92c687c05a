//! The accept loop, the UDP probe task and the timer task.

use core::net::SocketAddr;
use core::time::Duration;
use std::io;
use std::sync::Arc;

use peerchat_proto::control::server::ConnectError;
use peerchat_proto::wire::{encode_server_frame, RejectReason, ServerMsg, MAX_DATAGRAM};
use tokio::net::{TcpListener, TcpStream, UdpSocket};

use crate::conn;
use crate::node::Shared;

/// Pause after an accept error that is about resources (out of file descriptors,
/// memory, buffers): retrying at once would spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);
/// Kernel send buffer per client: bounds what a non-reading client can absorb and the
/// kernel memory each connection costs.
const SEND_BUFFER: usize = 64 * 1024;

/// Accepts connections forever (until the task is dropped).
pub(crate) async fn accept_loop(shared: Arc<Shared>, listener: TcpListener) {
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => admit(&shared, stream, peer),
            Err(e) if is_transient(&e) => {}
            Err(e) => {
                tracing::warn!(error = %e, "accept failed; pausing");
                tokio::time::sleep(ACCEPT_BACKOFF).await;
            }
        }
    }
}

/// Errors about one connection that died before it was accepted.
fn is_transient(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::Interrupted
            | io::ErrorKind::WouldBlock
    )
}

fn admit(shared: &Arc<Shared>, stream: TcpStream, peer: SocketAddr) {
    let _ = stream.set_nodelay(true);
    let _ = socket2::SockRef::from(&stream).set_send_buffer_size(SEND_BUFFER);
    match shared.with(|node, now| node.handle_connect(now, peer.into())) {
        Ok(id) => {
            tokio::spawn(conn::run(Arc::clone(shared), id, stream));
        }
        Err(e) => {
            tracing::warn!(%peer, error = %e, "connection refused");
            if e == ConnectError::Full {
                let mut buf = [0u8; 16];
                let msg = ServerMsg::Rejected {
                    reason: RejectReason::ServerFull,
                };
                if let Ok(n) = encode_server_frame(&msg, &mut buf) {
                    let _ = stream.try_write(&buf[..n]);
                }
            }
        }
    }
}

/// Answers UDP probes.
pub(crate) async fn probes(shared: Arc<Shared>, udp: UdpSocket) {
    let mut buf = vec![0u8; MAX_DATAGRAM + 1];
    let mut out = [0u8; MAX_DATAGRAM];
    loop {
        let Ok((n, from)) = udp.recv_from(&mut buf).await else {
            tokio::time::sleep(ACCEPT_BACKOFF).await;
            continue;
        };
        shared.with(|node, now| {
            node.handle_datagram(now, from.into(), &buf[..n]);
            while let Some(reply) = node.poll_datagram(&mut out) {
                if let Ok((to, len)) = reply {
                    let _ = udp.try_send_to(&out[..len], to.into());
                }
            }
        });
    }
}

/// Runs the node's timers.
pub(crate) async fn timers(shared: Arc<Shared>) {
    loop {
        let at = shared.with(|node, now| {
            node.handle_timeout(now);
            node.poll_timeout()
        });
        let deadline = shared.deadline(at);
        tokio::select! {
            () = tokio::time::sleep_until(deadline) => {}
            () = shared.retime.notified() => {}
        }
    }
}

/// Waits until every connection is closed after `begin_shutdown`.
pub(crate) async fn until_finished(shared: &Shared) {
    loop {
        let woken = shared.wake.notified();
        tokio::pin!(woken);
        woken.as_mut().enable();
        if shared.with(|node, _| node.is_finished()) {
            return;
        }
        let _ = tokio::time::timeout(Duration::from_millis(50), woken).await;
    }
}
