//! End to end with the real `peerchat-server` process on loopback, driven by small
//! clients built on the proto core.

use core::net::SocketAddr;
use core::time::Duration;

use peerchat_proto::wire::{
    decode_packet, encode_client_frame, encode_packet, Body, ClientMsg, FrameDecoder, Packet,
    PeerId, ServerMsg, WireAddr, MAX_CLIENT_FRAME, MAX_SERVER_FRAME,
};
use peerchat_tests::procs::dirclient::{wait_until, DirClient};
use peerchat_tests::procs::ServerProc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream, UdpSocket};

const WAIT: Duration = Duration::from_secs(20);

fn names(n: &[&str]) -> Vec<String> {
    n.iter().map(|s| s.to_string()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_clients_see_each_other_and_a_leaver() {
    let server = ServerProc::start(&[]);
    let a = DirClient::spawn(server.addr, "alice", 1);
    let b = DirClient::spawn(server.addr, "bob", 2);
    let c = DirClient::spawn(server.addr, "Carol", 3);
    let all = names(&["Carol", "alice", "bob"]);
    for x in [&a, &b, &c] {
        assert!(
            wait_until(WAIT, || x.view().names() == all).await,
            "{:?}",
            x.view()
        );
    }
    c.quit();
    for x in [&a, &b] {
        assert!(wait_until(WAIT, || x.view().left == ["Carol"]).await);
        assert_eq!(x.view().names(), names(&["alice", "bob"]));
    }
    assert!(wait_until(WAIT, || c.view().stopped).await);
    let log = server.log();
    assert!(log.contains("login") && log.contains("name=Carol"), "{log}");
    assert!(log.contains("client said bye"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_hundred_clients_converge_to_the_full_list() {
    let server = ServerProc::start(&[]);
    let n = 500;
    let clients: Vec<DirClient> = (0..n)
        .map(|i| DirClient::spawn(server.addr, &format!("user{i}"), i as u64))
        .collect();
    let done = wait_until(Duration::from_secs(120), || {
        clients
            .iter()
            .all(|c| c.view().synced && c.view().peers.len() == n)
    })
    .await;
    let short = clients.iter().filter(|c| c.view().peers.len() != n).count();
    let unsynced = clients.iter().filter(|c| !c.view().synced).count();
    let drops: usize = clients.iter().map(|c| c.view().disconnects).sum();
    let fewest = clients.iter().map(|c| c.view().peers.len()).min();
    for c in clients.iter().filter(|c| !c.view().synced).take(3) {
        let v = c.view();
        eprintln!(
            "unsynced: online {} logins {} disconnects {} rejected {:?} stopped {} peers {}",
            v.online,
            v.logins,
            v.disconnects,
            v.rejected,
            v.stopped,
            v.peers.len()
        );
    }
    assert!(
        done,
        "{short} clients do not see all {n} (fewest {fewest:?}, {unsynced} unsynced, \
         {drops} disconnects)\n{}",
        server
            .log()
            .lines()
            .filter(|l| !l.contains(" login "))
            .take(20)
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_taken_name_is_refused_case_insensitively() {
    let server = ServerProc::start(&[]);
    let a = DirClient::spawn(server.addr, "alice", 1);
    assert!(wait_until(WAIT, || a.view().synced).await);
    let b = DirClient::spawn(server.addr, "ALICE", 2);
    assert!(wait_until(WAIT, || b.view().rejected.is_some()).await);
    assert!(wait_until(WAIT, || b.view().stopped).await);
    assert_eq!(
        b.view().rejected,
        Some(peerchat_proto::wire::RejectReason::NameTaken)
    );
}

/// Writes raw bytes on a new connection and returns it.
async fn raw(addr: SocketAddr, bytes: &[u8]) -> TcpStream {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(bytes).await.unwrap();
    s
}

/// Reads until EOF (or `WAIT`); returns what arrived.
async fn read_to_end(s: &mut TcpStream) -> Vec<u8> {
    let mut out = Vec::new();
    let _ = tokio::time::timeout(WAIT, s.read_to_end(&mut out)).await;
    out
}

fn hello(name: &str) -> Vec<u8> {
    let mut buf = [0u8; MAX_CLIENT_FRAME];
    let n = encode_client_frame(&ClientMsg::Hello { name, udp_port: 9 }, &mut buf).unwrap();
    buf[..n].to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abusive_connections_are_closed_and_everyone_else_is_served() {
    let server = ServerProc::start(&[
        "--handshake-timeout-ms",
        "500",
        "--stall-timeout-ms",
        "1000",
    ]);
    let a = DirClient::spawn(server.addr, "alice", 1);
    assert!(wait_until(WAIT, || a.view().synced).await);
    let rss_before = server.rss_kib();

    // Garbage bytes, an oversized frame, a truncated frame, and a silent connection.
    let mut garbage = raw(server.addr, &[0xde, 0xad, 0xbe, 0xef, 0x00]).await;
    let mut oversized = raw(server.addr, &[0x41; 4096]).await;
    let mut truncated = raw(server.addr, &hello("trunc")[..4]).await;
    let mut silent = TcpStream::connect(server.addr).await.unwrap();
    for s in [&mut garbage, &mut oversized, &mut truncated, &mut silent] {
        read_to_end(s).await; // the server closes each of them
    }

    // A crowd, so that a snapshot is a few KiB.
    let crowd: Vec<DirClient> = (0..50)
        .map(|i| {
            DirClient::spawn(
                server.addr,
                &format!("crowd{i:02}_with_a_long_name"),
                100 + i,
            )
        })
        .collect();
    assert!(wait_until(WAIT, || a.view().peers.len() == 51).await);

    // A client that logs in, keeps pinging and asking for the list, and never reads,
    // with a tiny receive window.
    let sock = TcpSocket::new_v4().unwrap();
    sock.set_recv_buffer_size(4096).unwrap();
    let mut deaf = sock.connect(server.addr).await.unwrap();
    deaf.write_all(&hello("deaf")).await.unwrap();
    assert!(wait_until(WAIT, || a.view().names().contains(&"deaf".to_string())).await);
    let mut frame = [0u8; MAX_CLIENT_FRAME];
    let n = encode_client_frame(&ClientMsg::List, &mut frame).unwrap();
    let list = frame[..n].to_vec();
    let n = encode_client_frame(&ClientMsg::Ping, &mut frame).unwrap();
    let ping = frame[..n].to_vec();
    let nag = tokio::spawn(async move {
        loop {
            if deaf.write_all(&list).await.is_err() || deaf.write_all(&ping).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    });
    let gone = wait_until(WAIT, || !a.view().names().contains(&"deaf".to_string())).await;
    assert!(gone, "the deaf client was never dropped");
    nag.abort();
    drop(crowd);
    // Alice was served all along and still is.
    let b = DirClient::spawn(server.addr, "bob", 2);
    assert!(wait_until(WAIT, || a.view().names().contains(&"bob".to_string())).await);
    assert!(wait_until(WAIT, || b.view().names().contains(&"alice".to_string())).await);
    let log = server.log();
    for reason in ["bad frame", "no hello in time", "too slow"] {
        assert!(log.contains(reason), "no {reason:?} in log:\n{log}");
    }
    let rss_after = server.rss_kib();
    println!("server RSS {rss_before} KiB before abuse, {rss_after} KiB after");
    assert!(
        rss_after < rss_before + 16 * 1024,
        "RSS grew from {rss_before} to {rss_after} KiB"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_sends_shutdown_and_exits_zero() {
    let mut server = ServerProc::start(&[]);
    let mut s = raw(server.addr, &hello("alice")).await;
    let mut dec = FrameDecoder::<MAX_SERVER_FRAME>::new();
    let mut buf = [0u8; 4096];
    let mut got_welcome = false;
    while !got_welcome {
        let n = s.read(&mut buf).await.unwrap();
        assert!(n > 0);
        let mut rest = &buf[..n];
        while let peerchat_proto::wire::Feed::Frame { msg, rest: r } = dec.feed::<ServerMsg>(rest) {
            rest = r;
            got_welcome |= matches!(msg, Ok(ServerMsg::Welcome { .. }));
        }
    }
    server.proc.signal(libc::SIGTERM);
    let bytes = read_to_end(&mut s).await;
    let mut shutdown = false;
    let mut rest = &bytes[..];
    while let peerchat_proto::wire::Feed::Frame { msg, rest: r } = dec.feed::<ServerMsg>(rest) {
        rest = r;
        shutdown |= matches!(msg, Ok(ServerMsg::Shutdown));
    }
    assert!(shutdown, "no Shutdown frame");
    let status = server.proc.wait_timeout(WAIT).expect("server exits");
    assert!(status.success(), "{status:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_udp_probe_publishes_the_observed_address() {
    let server = ServerProc::start(&[]);
    let watcher = DirClient::spawn(server.addr, "watcher", 1);
    let mut s = raw(server.addr, &hello("prober")).await;
    let mut dec = FrameDecoder::<MAX_SERVER_FRAME>::new();
    let mut buf = [0u8; 4096];
    let (id, token) = loop {
        let n = s.read(&mut buf).await.unwrap();
        assert!(n > 0);
        if let peerchat_proto::wire::Feed::Frame {
            msg: Ok(ServerMsg::Welcome {
                id, probe_token, ..
            }),
            ..
        } = dec.feed::<ServerMsg>(&buf[..n])
        {
            break (id, probe_token);
        }
    };
    let udp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let mut pkt = [0u8; 64];
    // A wrong token gets no answer; the right one gets a ProbeReply.
    let n = encode_packet(&Packet::new(id, Body::Probe { token: token ^ 1 }), &mut pkt).unwrap();
    udp.send_to(&pkt[..n], server.addr).await.unwrap();
    let n = encode_packet(&Packet::new(id, Body::Probe { token }), &mut pkt).unwrap();
    udp.send_to(&pkt[..n], server.addr).await.unwrap();
    let mut reply = [0u8; 1500];
    let (n, from) = tokio::time::timeout(WAIT, udp.recv_from(&mut reply))
        .await
        .expect("probe reply")
        .unwrap();
    assert_eq!(from, server.addr);
    let p = decode_packet(&reply[..n]).unwrap();
    assert_eq!(p.header.sender, PeerId::SERVER);
    let observed = WireAddr::from(udp.local_addr().unwrap());
    assert_eq!(p.body, Body::ProbeReply { observed });
    assert!(
        wait_until(WAIT, || watcher
            .view()
            .names()
            .contains(&"prober".to_string()))
        .await
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn running_out_of_file_descriptors_pauses_accepting_and_recovers() {
    let server = ServerProc::start_with_fd_limit(&[], 48);
    let a = DirClient::spawn(server.addr, "alice", 1);
    assert!(wait_until(WAIT, || a.view().synced).await);
    // A flood that exhausts the server's descriptors.
    let mut flood = Vec::new();
    for _ in 0..80 {
        if let Ok(Ok(s)) =
            tokio::time::timeout(Duration::from_millis(200), TcpStream::connect(server.addr)).await
        {
            flood.push(s);
        }
    }
    assert!(
        wait_until(WAIT, || server.log().contains("accept failed; pausing")).await,
        "{}",
        server.log()
    );
    assert!(server.proc_running(), "the server survived");
    drop(flood);
    // Once descriptors are free again, logins work and alice is still served.
    let b = DirClient::spawn(server.addr, "bob", 2);
    assert!(wait_until(WAIT, || a.view().names() == names(&["alice", "bob"])).await);
    assert!(wait_until(WAIT, || b.view().synced).await);
}
