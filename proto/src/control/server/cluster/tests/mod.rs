//! Cluster mode of the server node, against a scripted store. This file is the harness
//! and the logins (claims, refusals, releases); `store` covers remote changes, presence
//! sets, renewals, sweeps and a store that fails.

extern crate std;

mod store;

use std::string::{String, ToString};
use std::vec::Vec;

use super::super::*;
use crate::cluster::{Change, ChangeKind, ClusterConfig, Lease, LeaseEnd, NodeId, Reload};
use crate::time::Duration;
use crate::wire::{
    encode_client_frame, FrameDecoder, ServerMsg, MAX_CLIENT_FRAME, MAX_SERVER_FRAME,
};

pub(super) type TestServer = Server<[Slot; 8], [Conn; 10], [Record; 32]>;

pub(super) const ME: NodeId = NodeId(1);
pub(super) const OTHER: NodeId = NodeId(2);

pub(super) fn ms(n: u64) -> Instant {
    Instant::from_millis(n)
}

pub(super) fn peer(n: u8) -> WireAddr {
    WireAddr::V4([127, 0, 0, n], 40000 + u16::from(n))
}

pub(super) fn config() -> ClusterConfig {
    ClusterConfig::new(ME, Duration::from_secs(1))
}

/// A cluster server whose first presence set (empty, as of change 0) is loaded.
pub(super) fn server() -> TestServer {
    let mut core = ServerConfig::new([5; 32]);
    core.heartbeat = Duration::from_secs(1);
    core.sweep_interval = Duration::from_millis(100);
    let mut s = Server::new(
        [Slot::EMPTY; 8],
        core::array::from_fn(|_| Conn::new()),
        [Record::EMPTY; 32],
        core,
    );
    s.enable_cluster(ms(0), config());
    assert!(s.poll_store_wakeup());
    assert_eq!(s.poll_store_op(ms(0)), Some(StoreOp::Load));
    s.handle_snapshot(ms(0), 1, 0, []);
    assert!(s.is_store_up());
    for op in drain_ops(&mut s, ms(0)) {
        assert!(matches!(op, StoreOp::Sweep { .. }), "{op:?}");
        let nothing = StoreReply::Swept {
            count: 0,
            next_expiry: None,
            head: 0,
            epoch: 1,
        };
        s.handle_store_reply(ms(0), op, Ok(nothing));
    }
    s
}

pub(super) fn lease(id: u32, owner: NodeId, name: &str, port: u16) -> Lease {
    Lease {
        id: PeerId(id),
        owner,
        addr: WireAddr::V4([10, 0, 0, 9], port),
        name: UserName::new(name).unwrap(),
        key: None,
    }
}

pub(super) fn change(seq: u64, kind: ChangeKind, lease: Lease) -> Change {
    Change { seq, kind, lease }
}

pub(super) fn hello(name: &str) -> Vec<u8> {
    let mut buf = [0u8; MAX_CLIENT_FRAME];
    let msg = ClientMsg::Hello {
        name,
        udp_port: 7000,
    };
    let n = encode_client_frame(&msg, &mut buf).unwrap();
    buf[..n].to_vec()
}

pub(super) fn ping() -> Vec<u8> {
    let mut buf = [0u8; MAX_CLIENT_FRAME];
    let n = encode_client_frame(&ClientMsg::Ping, &mut buf).unwrap();
    buf[..n].to_vec()
}

pub(super) fn bye() -> Vec<u8> {
    let mut buf = [0u8; MAX_CLIENT_FRAME];
    let n = encode_client_frame(&ClientMsg::Bye, &mut buf).unwrap();
    buf[..n].to_vec()
}

/// Everything `conn` is sent, as short strings.
pub(super) fn pull(s: &mut TestServer, now: Instant, conn: ConnId) -> Vec<String> {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.poll_transmit(now, conn, &mut buf) {
            Transmit::Frames(n) => decode(&buf[..n], &mut out),
            Transmit::Close(r) => {
                out.push(std::format!("close {r}"));
                return out;
            }
            Transmit::Idle => return out,
        }
    }
}

pub(super) fn decode(bytes: &[u8], out: &mut Vec<String>) {
    let mut dec = FrameDecoder::<MAX_SERVER_FRAME>::new();
    let mut rest = bytes;
    while let Feed::Frame { msg, rest: r } = dec.feed::<ServerMsg<'_>>(rest) {
        rest = r;
        out.push(match msg.unwrap() {
            ServerMsg::Welcome { id, .. } => std::format!("welcome {}", id.0),
            ServerMsg::Rejected { reason } => std::format!("rejected {reason}"),
            ServerMsg::Snapshot(p) => {
                let names: Vec<&str> = p.peers.iter().map(|i| i.name).collect();
                std::format!("page {}", names.join(","))
            }
            ServerMsg::Joined { peer, .. } => std::format!("joined {} {}", peer.name, peer.id.0),
            ServerMsg::Left { id, .. } => std::format!("left {}", id.0),
            ServerMsg::Moved { id, addr, .. } => std::format!("moved {} {}", id.0, addr.port()),
            ServerMsg::Pong => "pong".to_string(),
            ServerMsg::Shutdown => "shutdown".to_string(),
        });
    }
}

pub(super) fn drain_ops(s: &mut TestServer, now: Instant) -> Vec<StoreOp> {
    core::iter::from_fn(|| s.poll_store_op(now)).collect()
}

pub(super) fn cluster_events(s: &mut TestServer) -> Vec<ClusterEvent> {
    core::iter::from_fn(|| s.poll_cluster_event()).collect()
}

/// Logs `name` in on a new connection, granted as `id` at change `seq`.
pub(super) fn login(
    s: &mut TestServer,
    now: Instant,
    n: u8,
    name: &str,
    id: u32,
    seq: u64,
) -> ConnId {
    let c = s.handle_connect(now, peer(n)).unwrap();
    s.handle_bytes(now, c, &hello(name));
    let ops = drain_ops(s, now);
    let [op @ StoreOp::Claim { conn, .. }] = ops[..] else {
        panic!("expected one claim, got {ops:?}");
    };
    assert_eq!(conn, c);
    let claimed = StoreReply::Claimed {
        id: PeerId(id),
        seq,
    };
    s.handle_store_reply(now, op, Ok(claimed));
    c
}

#[test]
pub(super) fn a_login_waits_for_its_claim_and_gets_the_cluster_id() {
    let mut s = server();
    let c = s.handle_connect(ms(1), peer(1)).unwrap();
    s.handle_bytes(ms(1), c, &hello("Alice"));
    assert_eq!(pull(&mut s, ms(1), c), [] as [String; 0], "no welcome yet");
    let ops = drain_ops(&mut s, ms(1));
    assert_eq!(
        ops,
        [StoreOp::Claim {
            conn: c,
            name: UserName::new("Alice").unwrap(),
            addr: WireAddr::V4([127, 0, 0, 1], 7000),
        }]
    );
    let claimed = StoreReply::Claimed {
        id: PeerId(4242),
        seq: 1,
    };
    s.handle_store_reply(ms(2), ops[0], Ok(claimed));
    assert_eq!(pull(&mut s, ms(2), c), ["welcome 4242", "page Alice"]);
    assert_eq!(s.directory().find("alice"), Some(PeerId(4242)));
}

#[test]
pub(super) fn a_name_held_elsewhere_is_refused_with_the_usual_reason() {
    let mut s = server();
    let c = s.handle_connect(ms(1), peer(1)).unwrap();
    s.handle_bytes(ms(1), c, &hello("bob"));
    let op = drain_ops(&mut s, ms(1))[0];
    let _ = s.poll_wakeup();
    s.handle_store_reply(ms(2), op, Ok(StoreReply::Taken));
    assert!(
        s.poll_wakeup(),
        "the waiting connection is woken for its refusal"
    );
    let got = pull(&mut s, ms(2), c);
    assert_eq!(got[0], "rejected name is taken");
    // A name this server already lists is refused without asking the store.
    s.handle_change(
        ms(3),
        change(1, ChangeKind::Joined, lease(7, OTHER, "carol", 1)),
    );
    let d = s.handle_connect(ms(3), peer(2)).unwrap();
    s.handle_bytes(ms(3), d, &hello("CAROL"));
    assert_eq!(drain_ops(&mut s, ms(3)), []);
    assert_eq!(pull(&mut s, ms(3), d)[0], "rejected name is taken");
}

#[test]
pub(super) fn leaving_releases_the_lease() {
    let mut s = server();
    let c = login(&mut s, ms(1), 1, "alice", 9, 1);
    let _ = pull(&mut s, ms(1), c);
    s.handle_bytes(ms(2), c, &bye());
    let ops = drain_ops(&mut s, ms(2));
    assert_eq!(
        ops,
        [StoreOp::Release {
            conn: c,
            name: UserName::new("alice").unwrap(),
            id: PeerId(9),
        }]
    );
    s.handle_store_reply(ms(3), ops[0], Ok(StoreReply::Released));
    assert!(s.directory().is_empty());
}

#[test]
pub(super) fn a_user_gone_while_its_claim_is_out_is_released_and_its_slot_comes_back() {
    let mut s = server();
    let c = s.handle_connect(ms(1), peer(1)).unwrap();
    s.handle_bytes(ms(1), c, &hello("alice"));
    let claim = drain_ops(&mut s, ms(1))[0];
    s.handle_disconnect(ms(2), c);
    // Every other slot is taken: the departed one is not handed out yet.
    let others: Vec<ConnId> = (0..9)
        .map(|i| s.handle_connect(ms(2), peer(10 + i)).unwrap())
        .collect();
    assert_eq!(s.handle_connect(ms(2), peer(99)), Err(ConnectError::Full));
    let claimed = StoreReply::Claimed {
        id: PeerId(5),
        seq: 1,
    };
    s.handle_store_reply(ms(3), claim, Ok(claimed));
    assert!(
        s.directory().is_empty(),
        "nobody joins for a gone connection"
    );
    let release = drain_ops(&mut s, ms(3));
    assert_eq!(
        release,
        [StoreOp::Release {
            conn: c,
            name: UserName::new("alice").unwrap(),
            id: PeerId(5),
        }]
    );
    s.handle_store_reply(ms(4), release[0], Ok(StoreReply::Released));
    assert!(
        s.handle_connect(ms(4), peer(99)).is_ok(),
        "the slot is free now"
    );
    drop(others);
}

#[test]
fn a_shutdown_releases_every_local_lease() {
    let mut s = server();
    let a = login(&mut s, ms(1), 1, "alice", 9, 1);
    let _ = pull(&mut s, ms(1), a);
    s.begin_shutdown(ms(2));
    assert_eq!(
        pull(&mut s, ms(2), a),
        ["shutdown", "close server shutdown"]
    );
    assert_eq!(
        drain_ops(&mut s, ms(2)),
        [],
        "nothing before the connection is gone"
    );
    s.handle_disconnect(ms(3), a);
    let ops = drain_ops(&mut s, ms(3));
    assert_eq!(
        ops,
        [StoreOp::Release {
            conn: a,
            name: UserName::new("alice").unwrap(),
            id: PeerId(9),
        }]
    );
    assert!(!s.is_store_idle());
    s.handle_store_reply(ms(4), ops[0], Ok(StoreReply::Released));
    assert!(s.is_store_idle() && s.is_finished());
}
