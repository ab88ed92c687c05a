//! The embedded directory server: with no `--server` given and nothing listening on the
//! default address, the client runs the directory server (the `peerchat-server`
//! library) in its own process, so one command is a working chat. It lives as long as
//! this client does; when it goes, the other clients reconnect and one of them starts
//! its own.

use core::net::SocketAddr;
use std::io;

use peerchat_server::ServerConfig;

/// Starts the directory server in this process on `addr`. Returns `false` if another
/// process bound the address first (then there is a server to talk to anyway).
pub(crate) async fn start(addr: SocketAddr) -> io::Result<bool> {
    let (listener, udp) = match peerchat_server::bind(addr).await {
        Ok(sockets) => sockets,
        Err(e) if e.kind() == io::ErrorKind::AddrInUse => return Ok(false),
        Err(e) => return Err(e),
    };
    tracing::info!("started the directory server in this process on {addr}");
    tokio::spawn(async move {
        let forever = core::future::pending::<()>();
        if let Err(e) =
            peerchat_server::serve(listener, udp, ServerConfig::default(), forever).await
        {
            tracing::warn!("embedded directory server stopped: {e}");
        }
    });
    Ok(true)
}
