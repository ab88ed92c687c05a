extern crate std;

use std::string::{String, ToString};
use std::vec::Vec;

use super::*;
use crate::directory::ProbeError;
use crate::time::Duration;
use crate::wire::{
    encode_client_frame, FrameDecoder, ServerMsg, MAX_CLIENT_FRAME, MAX_SERVER_FRAME,
};

type TestServer = Server<[Slot; 8], [Conn; 10], [Record; 16]>;

const SEED: [u8; 32] = [5; 32];

fn config() -> ServerConfig {
    ServerConfig {
        heartbeat: Duration::from_secs(1),
        handshake_timeout: Duration::from_secs(2),
        stall_timeout: Duration::from_secs(3),
        sweep_interval: Duration::from_millis(100),
        shutdown_grace: Duration::from_secs(1),
        seed: SEED,
    }
}

fn server() -> TestServer {
    Server::new(
        [Slot::EMPTY; 8],
        core::array::from_fn(|_| Conn::new()),
        [Record::EMPTY; 16],
        config(),
    )
}

fn ms(n: u64) -> Instant {
    Instant::from_millis(n)
}

fn peer(n: u8) -> WireAddr {
    WireAddr::V4([127, 0, 0, n], 40000 + u16::from(n))
}

fn frame(msg: &ClientMsg<'_>) -> Vec<u8> {
    let mut buf = [0u8; MAX_CLIENT_FRAME];
    let n = encode_client_frame(msg, &mut buf).unwrap();
    buf[..n].to_vec()
}

fn hello(name: &str) -> Vec<u8> {
    frame(&ClientMsg::Hello {
        name,
        udp_port: 7000,
    })
}

/// What a client received, owned.
#[derive(Debug, Clone, PartialEq)]
enum Got {
    Welcome(PeerId, u64),
    Rejected(RejectReason),
    Page {
        version: u64,
        page: u32,
        last: bool,
        names: Vec<String>,
    },
    Joined(u64, String),
    Left(u64, PeerId),
    Moved(u64, PeerId, WireAddr),
    Pong,
    Shutdown,
    Close(CloseReason),
}

fn decode_all(bytes: &[u8], out: &mut Vec<Got>) {
    let mut dec = FrameDecoder::<MAX_SERVER_FRAME>::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        match dec.feed::<ServerMsg<'_>>(rest) {
            Feed::Pending => break,
            Feed::Frame { msg, rest: r } => {
                rest = r;
                out.push(match msg.unwrap() {
                    ServerMsg::Welcome {
                        id, probe_token, ..
                    } => Got::Welcome(id, probe_token),
                    ServerMsg::Rejected { reason } => Got::Rejected(reason),
                    ServerMsg::Snapshot(p) => Got::Page {
                        version: p.version,
                        page: p.page,
                        last: p.last,
                        names: p.peers.iter().map(|i| i.name.to_string()).collect(),
                    },
                    ServerMsg::Joined { version, peer } => {
                        Got::Joined(version, peer.name.to_string())
                    }
                    ServerMsg::Left { version, id } => Got::Left(version, id),
                    ServerMsg::Moved { version, id, addr } => Got::Moved(version, id, addr),
                    ServerMsg::Pong => Got::Pong,
                    ServerMsg::Shutdown => Got::Shutdown,
                });
            }
        }
    }
}

/// Pulls everything `conn` has, with a buffer of `size`, counting writes.
fn pull_with(s: &mut TestServer, now: Instant, conn: ConnId, size: usize) -> (Vec<Got>, usize) {
    let mut got = Vec::new();
    let mut buf = std::vec![0u8; size];
    let mut writes = 0;
    loop {
        match s.poll_transmit(now, conn, &mut buf) {
            Transmit::Frames(n) => {
                writes += 1;
                decode_all(&buf[..n], &mut got);
            }
            Transmit::Close(r) => {
                got.push(Got::Close(r));
                return (got, writes);
            }
            Transmit::Idle => return (got, writes),
        }
    }
}

fn pull(s: &mut TestServer, now: Instant, conn: ConnId) -> Vec<Got> {
    pull_with(s, now, conn, 4096).0
}

fn login(s: &mut TestServer, now: Instant, n: u8, name: &str) -> ConnId {
    let c = s.handle_connect(now, peer(n)).unwrap();
    s.handle_bytes(now, c, &hello(name));
    c
}

fn events(s: &mut TestServer) -> Vec<ServerEvent> {
    core::iter::from_fn(|| s.poll_event()).collect()
}

#[test]
fn login_gets_welcome_and_a_snapshot_then_others_get_joined() {
    let mut s = server();
    let a = login(&mut s, ms(0), 1, "alice");
    let got = pull(&mut s, ms(0), a);
    assert!(matches!(got[0], Got::Welcome(PeerId(1), _)));
    assert_eq!(
        got[1],
        Got::Page {
            version: 1,
            page: 0,
            last: true,
            names: std::vec!["alice".into()]
        }
    );
    assert_eq!(got.len(), 2);
    assert!(s.poll_wakeup());
    let b = login(&mut s, ms(1), 2, "bob");
    assert_eq!(pull(&mut s, ms(1), a), [Got::Joined(2, "bob".into())]);
    let got_b = pull(&mut s, ms(1), b);
    assert!(matches!(&got_b[1], Got::Page { version: 2, names, .. } if names.len() == 2));
    assert!(matches!(
        events(&mut s)[..],
        [ServerEvent::LoggedIn { .. }, ServerEvent::LoggedIn { .. }]
    ));
}

#[test]
fn the_welcome_publishes_the_tcp_ip_with_the_udp_port() {
    let mut s = server();
    let a = login(&mut s, ms(0), 1, "alice");
    let _ = pull(&mut s, ms(0), a);
    let me = s.directory().get(PeerId(1)).unwrap();
    assert_eq!(me.addr, WireAddr::V4([127, 0, 0, 1], 7000));
}

#[test]
fn refused_logins_get_a_reason_and_are_closed() {
    let mut s = server();
    let a = login(&mut s, ms(0), 1, "alice");
    let _ = pull(&mut s, ms(0), a);
    let cases: [(&[u8], RejectReason); 3] = [
        (&hello("ALICE"), RejectReason::NameTaken),
        (&hello("no/slash"), RejectReason::InvalidName),
        (&frame(&ClientMsg::Ping), RejectReason::Protocol),
    ];
    for (i, (bytes, reason)) in cases.iter().enumerate() {
        let c = s.handle_connect(ms(1), peer(10 + i as u8)).unwrap();
        s.handle_bytes(ms(1), c, bytes);
        let got = pull(&mut s, ms(1), c);
        assert_eq!(got[0], Got::Rejected(*reason), "case {i}");
        assert!(matches!(got[1], Got::Close(_)));
        s.handle_disconnect(ms(1), c);
    }
    assert_eq!(s.directory().len(), 1);
    assert_eq!(s.connections(), 1);
    assert_eq!(pull(&mut s, ms(1), a), [], "the others saw nothing");
}

#[test]
fn a_foreign_version_is_rejected_as_bad_version() {
    let mut s = server();
    let c = s.handle_connect(ms(0), peer(1)).unwrap();
    let mut buf = [0u8; 64];
    let raw = postcard::to_slice_cobs(&(9u8, ClientMsg::List), &mut buf).unwrap();
    s.handle_bytes(ms(0), c, raw);
    assert_eq!(
        pull(&mut s, ms(0), c)[0],
        Got::Rejected(RejectReason::BadVersion)
    );
}

#[test]
fn garbage_and_oversized_frames_close_only_that_connection() {
    let mut s = server();
    let a = login(&mut s, ms(0), 1, "alice");
    let b = login(&mut s, ms(0), 2, "bob");
    let _ = pull(&mut s, ms(0), a);
    s.handle_bytes(ms(1), b, &[0xff; 10]);
    s.handle_bytes(ms(1), b, &[0x00]);
    assert!(matches!(
        pull(&mut s, ms(1), b)[..],
        [Got::Close(CloseReason::Protocol(_))]
    ));
    assert_eq!(pull(&mut s, ms(1), a), [Got::Left(3, PeerId(2))]);
    let c = s.handle_connect(ms(2), peer(3)).unwrap();
    s.handle_bytes(ms(2), c, &[0x55; 500]);
    let got = pull(&mut s, ms(2), c);
    assert!(
        matches!(
            got[..],
            [Got::Rejected(RejectReason::Protocol), Got::Close(_)]
        ),
        "{got:?}"
    );
}

#[test]
fn ping_gets_pong_and_pongs_coalesce() {
    let mut s = server();
    let a = login(&mut s, ms(0), 1, "alice");
    let _ = pull(&mut s, ms(0), a);
    let mut pings = frame(&ClientMsg::Ping);
    pings.extend(frame(&ClientMsg::Ping));
    s.handle_bytes(ms(1), a, &pings);
    assert_eq!(pull(&mut s, ms(1), a), [Got::Pong]);
}

#[test]
fn list_resends_a_snapshot() {
    let mut s = server();
    let a = login(&mut s, ms(0), 1, "alice");
    let _ = pull(&mut s, ms(0), a);
    s.handle_bytes(ms(1), a, &frame(&ClientMsg::List));
    assert!(matches!(
        pull(&mut s, ms(1), a)[..],
        [Got::Page {
            version: 1,
            last: true,
            ..
        }]
    ));
}

#[test]
fn bye_logs_out_and_others_get_left() {
    let mut s = server();
    let a = login(&mut s, ms(0), 1, "alice");
    let b = login(&mut s, ms(0), 2, "bob");
    let _ = pull(&mut s, ms(0), a);
    let _ = pull(&mut s, ms(0), b);
    s.handle_bytes(ms(1), b, &frame(&ClientMsg::Bye));
    assert_eq!(pull(&mut s, ms(1), b), [Got::Close(CloseReason::Bye)]);
    s.handle_disconnect(ms(1), b);
    assert_eq!(pull(&mut s, ms(1), a), [Got::Left(3, PeerId(2))]);
    let ev = events(&mut s);
    assert!(ev.iter().any(|e| matches!(
        e,
        ServerEvent::LoggedOut {
            reason: CloseReason::Bye,
            ..
        }
    )));
    assert!(ev.iter().any(|e| matches!(
        e,
        ServerEvent::Closed {
            reason: CloseReason::Bye,
            ..
        }
    )));
}

#[test]
fn a_dropped_connection_logs_out() {
    let mut s = server();
    let a = login(&mut s, ms(0), 1, "alice");
    let b = login(&mut s, ms(0), 2, "bob");
    let _ = pull(&mut s, ms(0), a);
    s.handle_disconnect(ms(1), b);
    assert_eq!(pull(&mut s, ms(1), a), [Got::Left(3, PeerId(2))]);
    assert_eq!(s.directory().find("bob"), None);
}

#[test]
fn a_second_hello_is_a_protocol_error() {
    let mut s = server();
    let a = login(&mut s, ms(0), 1, "alice");
    let _ = pull(&mut s, ms(0), a);
    s.handle_bytes(ms(1), a, &hello("other"));
    assert_eq!(
        pull(&mut s, ms(1), a),
        [Got::Close(CloseReason::Unexpected)]
    );
    assert!(s.directory().is_empty());
}

#[test]
fn no_hello_in_time_is_rejected() {
    let mut s = server();
    let c = s.handle_connect(ms(0), peer(1)).unwrap();
    assert!(s.poll_timeout() <= ms(100));
    s.handle_timeout(ms(1500));
    assert_eq!(pull(&mut s, ms(1500), c), []);
    s.handle_timeout(ms(2100));
    assert!(s.poll_wakeup());
    assert_eq!(
        pull(&mut s, ms(2100), c),
        [
            Got::Rejected(RejectReason::Protocol),
            Got::Close(CloseReason::HandshakeTimeout)
        ]
    );
}

#[test]
fn silent_clients_expire_and_others_get_left() {
    let mut s = server();
    let a = login(&mut s, ms(0), 1, "alice");
    let b = login(&mut s, ms(0), 2, "bob");
    let _ = pull(&mut s, ms(0), a);
    let _ = pull(&mut s, ms(0), b);
    for t in (500..=3000).step_by(500) {
        s.handle_bytes(ms(t), a, &frame(&ClientMsg::Ping));
        s.handle_timeout(ms(t));
        let _ = pull(&mut s, ms(t), a);
    }
    s.handle_timeout(ms(3200));
    assert_eq!(
        pull(&mut s, ms(3200), b),
        [Got::Close(CloseReason::HeartbeatTimeout)]
    );
    assert_eq!(pull(&mut s, ms(3200), a), [Got::Left(3, PeerId(2))]);
    assert!(events(&mut s).iter().any(|e| matches!(
        e,
        ServerEvent::LoggedOut {
            reason: CloseReason::HeartbeatTimeout,
            ..
        }
    )));
}

#[test]
fn a_burst_of_logins_reaches_a_client_in_one_write() {
    let mut s = server();
    let a = login(&mut s, ms(0), 1, "alice");
    let _ = pull(&mut s, ms(0), a);
    for i in 0..7u8 {
        let c = login(&mut s, ms(1), 10 + i, &std::format!("user{i}"));
        let _ = pull(&mut s, ms(1), c);
    }
    let (got, writes) = pull_with(&mut s, ms(1), a, 4096);
    assert_eq!(got.len(), 7);
    assert_eq!(writes, 1, "coalesced");
    assert_eq!(got[6], Got::Joined(8, "user6".into()));
}

#[test]
fn a_client_behind_the_journal_gets_a_fresh_snapshot() {
    let mut s = server();
    let a = login(&mut s, ms(0), 1, "alice");
    let _ = pull(&mut s, ms(0), a);
    for round in 0..3 {
        for i in 0..7u8 {
            let c = login(&mut s, ms(1), 10 + i, &std::format!("r{round}u{i}"));
            s.handle_disconnect(ms(1), c);
        }
    }
    let got = pull(&mut s, ms(1), a);
    assert_eq!(
        got,
        [Got::Page {
            version: 43,
            page: 0,
            last: true,
            names: std::vec!["alice".into()]
        }]
    );
    assert!(events(&mut s)
        .iter()
        .any(|e| matches!(e, ServerEvent::Resnapshot { .. })));
}

#[test]
fn a_client_that_never_reads_is_disconnected_as_too_slow() {
    let mut s = server();
    let a = login(&mut s, ms(0), 1, "alice");
    let b = login(&mut s, ms(0), 2, "bob");
    let _ = pull(&mut s, ms(0), a);
    for t in (100..=3600).step_by(100) {
        // alice reads and pings; bob pings but its host can never write to it
        s.handle_bytes(ms(t), a, &frame(&ClientMsg::Ping));
        s.handle_bytes(ms(t), b, &frame(&ClientMsg::Ping));
        if t % 1000 == 0 {
            let c = login(&mut s, ms(t), 20, &std::format!("churn{t}"));
            s.handle_disconnect(ms(t), c);
        }
        s.handle_timeout(ms(t));
        let _ = pull(&mut s, ms(t), a);
    }
    assert_eq!(s.directory().find("bob"), None);
    assert!(s.directory().find("alice").is_some());
    assert_eq!(
        pull(&mut s, ms(3600), b),
        [Got::Close(CloseReason::TooSlow)]
    );
}

#[test]
fn a_client_that_asks_for_lists_but_never_reads_is_too_slow() {
    let mut s = server();
    let a = login(&mut s, ms(0), 1, "alice");
    let _ = pull(&mut s, ms(0), a);
    let b = login(&mut s, ms(0), 2, "bob");
    let mut nag = frame(&ClientMsg::List);
    nag.extend(frame(&ClientMsg::Ping));
    for t in (100..=3600).step_by(100) {
        s.handle_bytes(ms(t), a, &frame(&ClientMsg::Ping));
        s.handle_bytes(ms(t), b, &nag);
        s.handle_timeout(ms(t));
        let _ = pull(&mut s, ms(t), a);
    }
    assert_eq!(s.directory().find("bob"), None);
    assert_eq!(
        pull(&mut s, ms(3600), b),
        [Got::Close(CloseReason::TooSlow)]
    );
}

#[test]
fn an_idle_directory_never_stalls_anyone() {
    let mut s = server();
    let a = login(&mut s, ms(0), 1, "alice");
    let _ = pull(&mut s, ms(0), a);
    for t in (100..=9000).step_by(100) {
        s.handle_bytes(ms(t), a, &frame(&ClientMsg::Ping));
        s.handle_timeout(ms(t));
    }
    assert!(s.directory().find("alice").is_some());
}

#[test]
fn a_valid_probe_moves_the_address_and_is_answered() {
    let mut s = server();
    let a = login(&mut s, ms(0), 1, "alice");
    let got = pull(&mut s, ms(0), a);
    let Got::Welcome(id, token) = got[0] else {
        panic!()
    };
    let nat = WireAddr::V4([9, 9, 9, 9], 555);
    let mut buf = [0u8; 64];
    let probe = |token| {
        let mut b = [0u8; 64];
        let n = encode_packet(&Packet::new(id, Body::Probe { token }), &mut b).unwrap();
        b[..n].to_vec()
    };
    s.handle_datagram(ms(1), nat, &probe(token ^ 1));
    assert!(
        s.poll_datagram(&mut buf).is_none(),
        "a wrong token gets no reply"
    );
    assert!(events(&mut s).iter().any(|e| matches!(
        e,
        ServerEvent::BadProbe {
            error: ProbeError::BadToken,
            ..
        }
    )));
    s.handle_datagram(ms(1), nat, &probe(token));
    let (to, n) = s.poll_datagram(&mut buf).unwrap().unwrap();
    assert_eq!(to, nat);
    let reply = decode_packet(&buf[..n]).unwrap();
    assert_eq!(reply.header.sender, PeerId::SERVER);
    assert_eq!(reply.body, Body::ProbeReply { observed: nat });
    assert_eq!(pull(&mut s, ms(1), a), [Got::Moved(2, id, nat)]);
    s.handle_datagram(ms(2), nat, &[1, 2, 3]);
    assert!(s.poll_datagram(&mut buf).is_none(), "garbage is dropped");
}

#[test]
fn shutdown_tells_everyone_then_closes() {
    let mut s = server();
    let a = login(&mut s, ms(0), 1, "alice");
    let b = login(&mut s, ms(0), 2, "bob");
    let _ = pull(&mut s, ms(0), a);
    s.begin_shutdown(ms(5));
    assert!(s.poll_wakeup());
    assert_eq!(
        s.handle_connect(ms(5), peer(3)),
        Err(ConnectError::ShuttingDown)
    );
    assert_eq!(
        pull(&mut s, ms(5), a),
        [Got::Shutdown, Got::Close(CloseReason::Shutdown)]
    );
    s.handle_disconnect(ms(5), a);
    assert!(!s.is_finished());
    s.handle_timeout(ms(1005));
    assert_eq!(
        pull(&mut s, ms(1005), b),
        [Got::Close(CloseReason::Shutdown)],
        "grace is over"
    );
    s.handle_disconnect(ms(1005), b);
    assert!(s.is_finished());
}

#[test]
fn full_tables_are_typed_answers() {
    let mut s = server();
    for i in 0..8u8 {
        login(&mut s, ms(0), i, &std::format!("u{i}"));
    }
    let c = login(&mut s, ms(0), 9, "late");
    assert_eq!(
        pull(&mut s, ms(0), c)[0],
        Got::Rejected(RejectReason::ServerFull)
    );
    let _ = s.handle_connect(ms(0), peer(10)).unwrap();
    assert_eq!(s.handle_connect(ms(0), peer(11)), Err(ConnectError::Full));
}

#[test]
fn the_largest_delta_fits_a_journal_record() {
    let name = "x".repeat(32);
    let msg = ServerMsg::Joined {
        version: u64::MAX,
        peer: crate::wire::PeerInfo {
            id: PeerId(u32::MAX),
            name: &name,
            addr: WireAddr::V6([0xff; 16], u16::MAX),
        },
    };
    let mut buf = [0u8; journal::RECORD_BYTES];
    assert!(crate::wire::encode_server_frame(&msg, &mut buf).is_ok());
}
