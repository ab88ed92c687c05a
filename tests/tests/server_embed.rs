//! The server library embedded in-process, as the client does when no server runs.

use core::time::Duration;

use peerchat_server::{bind, serve, ServerConfig};
use peerchat_tests::procs::dirclient::{wait_until, DirClient};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_embedded_server_serves_and_stops_on_its_shutdown_future() {
    let (listener, udp) = bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let addr = listener.local_addr().unwrap();
    assert_eq!(
        udp.local_addr().unwrap().port(),
        addr.port(),
        "UDP on the same port"
    );
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let config = ServerConfig {
        max_clients: 16,
        ..ServerConfig::default()
    };
    let server = tokio::spawn(serve(listener, udp, config, async {
        let _ = stopped.await;
    }));
    let a = DirClient::spawn(addr, "alice", 1);
    let b = DirClient::spawn(addr, "bob", 2);
    let wait = Duration::from_secs(20);
    assert!(
        wait_until(wait, || a.view().peers.len() == 2
            && b.view().peers.len() == 2)
        .await
    );
    stop.send(()).unwrap();
    let result = tokio::time::timeout(wait, server)
        .await
        .expect("serve returns");
    assert!(result.expect("no panic").is_ok());
    // Both clients were told and lost the connection.
    assert!(
        wait_until(wait, || a.view().disconnects > 0
            && b.view().disconnects > 0)
        .await
    );
}
