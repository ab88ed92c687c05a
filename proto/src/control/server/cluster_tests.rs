//! Cluster mode of the server node, against a scripted store: claims, releases,
//! renewals, sweeps, remote changes, presence sets and a store that fails.

extern crate std;

use std::string::{String, ToString};
use std::vec::Vec;

use super::*;
use crate::cluster::{Change, ChangeKind, ClusterConfig, Lease, LeaseEnd, NodeId, Resync};
use crate::time::Duration;
use crate::wire::{
    encode_client_frame, FrameDecoder, ServerMsg, MAX_CLIENT_FRAME, MAX_SERVER_FRAME,
};

type TestServer = Server<[Slot; 8], [Conn; 10], [Record; 32]>;

const ME: NodeId = NodeId(1);
const OTHER: NodeId = NodeId(2);

fn ms(n: u64) -> Instant {
    Instant::from_millis(n)
}

fn peer(n: u8) -> WireAddr {
    WireAddr::V4([127, 0, 0, n], 40000 + u16::from(n))
}

fn config() -> ClusterConfig {
    ClusterConfig::new(ME, Duration::from_secs(1))
}

/// A cluster server whose first presence set (empty, as of change 0) is loaded.
fn server() -> TestServer {
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

fn lease(id: u32, owner: NodeId, name: &str, port: u16) -> Lease {
    Lease {
        id: PeerId(id),
        owner,
        addr: WireAddr::V4([10, 0, 0, 9], port),
        name: UserName::new(name).unwrap(),
        key: None,
    }
}

fn change(seq: u64, kind: ChangeKind, lease: Lease) -> Change {
    Change { seq, kind, lease }
}

fn hello(name: &str) -> Vec<u8> {
    let mut buf = [0u8; MAX_CLIENT_FRAME];
    let msg = ClientMsg::Hello {
        name,
        udp_port: 7000,
    };
    let n = encode_client_frame(&msg, &mut buf).unwrap();
    buf[..n].to_vec()
}

fn ping() -> Vec<u8> {
    let mut buf = [0u8; MAX_CLIENT_FRAME];
    let n = encode_client_frame(&ClientMsg::Ping, &mut buf).unwrap();
    buf[..n].to_vec()
}

fn bye() -> Vec<u8> {
    let mut buf = [0u8; MAX_CLIENT_FRAME];
    let n = encode_client_frame(&ClientMsg::Bye, &mut buf).unwrap();
    buf[..n].to_vec()
}

/// Everything `conn` is sent, as short strings.
fn pull(s: &mut TestServer, now: Instant, conn: ConnId) -> Vec<String> {
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

fn decode(bytes: &[u8], out: &mut Vec<String>) {
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

fn drain_ops(s: &mut TestServer, now: Instant) -> Vec<StoreOp> {
    core::iter::from_fn(|| s.poll_store_op(now)).collect()
}

fn cluster_events(s: &mut TestServer) -> Vec<ClusterEvent> {
    core::iter::from_fn(|| s.poll_cluster_event()).collect()
}

/// Logs `name` in on a new connection, granted as `id` at change `seq`.
fn login(s: &mut TestServer, now: Instant, n: u8, name: &str, id: u32, seq: u64) -> ConnId {
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
fn a_login_waits_for_its_claim_and_gets_the_cluster_id() {
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
fn a_name_held_elsewhere_is_refused_with_the_usual_reason() {
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
fn leaving_releases_the_lease() {
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
fn a_user_gone_while_its_claim_is_out_is_released_and_its_slot_comes_back() {
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
fn remote_changes_reach_local_clients_and_own_echoes_are_skipped() {
    let mut s = server();
    let c = login(&mut s, ms(1), 1, "alice", 9, 1);
    let _ = pull(&mut s, ms(1), c);
    let bob = lease(20, OTHER, "bob", 1);
    s.handle_change(
        ms(2),
        change(1, ChangeKind::Joined, lease(9, ME, "alice", 1)),
    );
    s.handle_change(ms(2), change(2, ChangeKind::Joined, bob));
    s.handle_change(
        ms(2),
        change(3, ChangeKind::Moved, lease(20, OTHER, "bob", 2)),
    );
    s.handle_change(ms(2), change(4, ChangeKind::Left(LeaseEnd::Bye), bob));
    assert_eq!(
        pull(&mut s, ms(2), c),
        ["joined bob 20", "moved 20 2", "left 20"]
    );
    assert_eq!(s.directory().len(), 1);
}

#[test]
fn a_gap_that_does_not_fill_loads_the_presence_set_again() {
    let mut s = server();
    s.handle_change(
        ms(1),
        change(2, ChangeKind::Joined, lease(20, OTHER, "bob", 1)),
    );
    assert!(s.directory().is_empty(), "held: change 1 is missing");
    let deadline = ms(1) + config().gap_grace;
    s.handle_timeout(ms(200));
    assert_eq!(drain_ops(&mut s, deadline), []);
    s.handle_timeout(deadline);
    assert!(s.poll_store_wakeup());
    assert_eq!(drain_ops(&mut s, deadline), [StoreOp::Load]);
    assert!(
        cluster_events(&mut s).contains(&ClusterEvent::Loading(Resync::Gap {
            expected: 1,
            got: 2
        }))
    );
    s.handle_snapshot(deadline, 1, 2, [lease(20, OTHER, "bob", 1)]);
    assert_eq!(s.directory().find("bob"), Some(PeerId(20)));
    // Change 1 arriving late changes nothing.
    s.handle_change(
        deadline,
        change(1, ChangeKind::Joined, lease(30, OTHER, "x", 1)),
    );
    assert_eq!(s.directory().len(), 1);
}

#[test]
fn a_presence_set_replaces_the_remote_entries_it_covers() {
    let mut s = server();
    let c = login(&mut s, ms(1), 1, "alice", 9, 1);
    s.handle_change(
        ms(1),
        change(1, ChangeKind::Joined, lease(20, OTHER, "bob", 1)),
    );
    s.handle_change(
        ms(1),
        change(2, ChangeKind::Joined, lease(21, OTHER, "carol", 1)),
    );
    let _ = pull(&mut s, ms(1), c);
    s.handle_snapshot(
        ms(2),
        1,
        10,
        [
            lease(21, OTHER, "carol", 5),
            lease(22, OTHER, "dave", 1),
            lease(9, ME, "alice", 7000),
        ],
    );
    let mut got = pull(&mut s, ms(2), c);
    got.sort();
    assert_eq!(got, ["joined dave 22", "left 20", "moved 21 5"]);
    assert_eq!(s.directory().len(), 3);
    // Every local lease is renewed right after a load.
    let ops = drain_ops(&mut s, ms(2));
    assert!(
        matches!(ops[..], [StoreOp::Renew { id: PeerId(9), .. }]),
        "{ops:?}"
    );
}

#[test]
fn renewals_cover_every_local_user_and_a_lost_name_disconnects() {
    let mut s = server();
    let a = login(&mut s, ms(1), 1, "alice", 9, 1);
    let b = login(&mut s, ms(1), 2, "bob", 10, 2);
    s.handle_change(
        ms(1),
        change(1, ChangeKind::Joined, lease(20, OTHER, "carol", 1)),
    );
    let _ = (pull(&mut s, ms(1), a), pull(&mut s, ms(1), b));
    let due = ms(0) + config().renew_interval;
    s.handle_timeout(due);
    let ops: Vec<StoreOp> = drain_ops(&mut s, due)
        .into_iter()
        .filter(|op| matches!(op, StoreOp::Renew { .. }))
        .collect();
    assert_eq!(ops.len(), 2, "{ops:?}");
    s.handle_store_reply(due, ops[0], Ok(StoreReply::Renewed));
    s.handle_store_reply(due, ops[1], Ok(StoreReply::Lost));
    let StoreOp::Renew { conn: lost, .. } = ops[1] else {
        unreachable!()
    };
    let got = pull(&mut s, due, lost);
    assert!(
        got.last().unwrap().starts_with("close name now held"),
        "{got:?}"
    );
    assert!(matches!(
        cluster_events(&mut s)[..],
        [.., ClusterEvent::NameLost { .. }]
    ));
    assert_eq!(drain_ops(&mut s, due), [], "no release for a lost lease");
    assert_eq!(s.directory().len(), 2);
}

#[test]
fn an_own_lease_swept_too_early_is_claimed_again_under_the_same_id() {
    let mut s = server();
    let a = login(&mut s, ms(1), 1, "alice", 9, 1);
    let _ = pull(&mut s, ms(1), a);
    s.handle_change(
        ms(2),
        change(1, ChangeKind::Joined, lease(9, ME, "alice", 7000)),
    );
    s.handle_change(
        ms(2),
        change(
            2,
            ChangeKind::Left(LeaseEnd::Swept),
            lease(9, ME, "alice", 7000),
        ),
    );
    assert_eq!(
        pull(&mut s, ms(2), a),
        [] as [String; 0],
        "alice stays listed"
    );
    let ops = drain_ops(&mut s, ms(2));
    assert!(
        matches!(ops[..], [StoreOp::Renew { id: PeerId(9), .. }]),
        "{ops:?}"
    );
}

#[test]
fn sweeps_follow_the_earliest_expiry_and_repeat_while_there_is_more() {
    let mut s = server();
    // The first sweep (at load) found nothing: the next is a sweep interval later.
    assert_eq!(drain_ops(&mut s, ms(999)), []);
    let ops = drain_ops(&mut s, ms(1000));
    let sweep = ops[0];
    assert_eq!(sweep, StoreOp::Sweep { limit: 256 });
    let reply = StoreReply::Swept {
        count: 256,
        next_expiry: None,
        head: 0,
        epoch: 1,
    };
    s.handle_store_reply(ms(1001), sweep, Ok(reply));
    assert_eq!(
        drain_ops(&mut s, ms(1001)),
        [sweep],
        "a full sweep goes on at once"
    );
    let reply = StoreReply::Swept {
        count: 1,
        next_expiry: Some(Duration::from_millis(300)),
        head: 0,
        epoch: 1,
    };
    s.handle_store_reply(ms(1002), sweep, Ok(reply));
    assert_eq!(drain_ops(&mut s, ms(1301)), []);
    assert!(s.poll_timeout() <= ms(1302));
    assert_eq!(drain_ops(&mut s, ms(1302)), [sweep]);
}

#[test]
fn without_the_store_local_users_stay_and_remote_ones_go_after_a_lease_period() {
    let mut s = server();
    let a = login(&mut s, ms(1), 1, "alice", 9, 1);
    s.handle_change(
        ms(1),
        change(1, ChangeKind::Joined, lease(20, OTHER, "bob", 1)),
    );
    let _ = pull(&mut s, ms(1), a);
    s.handle_timeout(ms(500));
    let renew = drain_ops(&mut s, ms(500))[0];
    assert!(matches!(renew, StoreOp::Renew { .. }));
    s.handle_store_reply(ms(500), renew, Err(StoreFailed));
    assert!(!s.is_store_up());
    let keep = config().lease_ttl;
    assert_eq!(
        cluster_events(&mut s).last(),
        Some(&ClusterEvent::StoreDown { keep })
    );
    // Logins wait; retries of the load back off.
    let c = s.handle_connect(ms(600), peer(3)).unwrap();
    s.handle_bytes(ms(600), c, &hello("carol"));
    assert_eq!(drain_ops(&mut s, ms(600)), [StoreOp::Load]);
    s.handle_store_reply(ms(601), StoreOp::Load, Err(StoreFailed));
    assert_eq!(drain_ops(&mut s, ms(700)), []);
    // A lease period after the last answer (change 1 at 1 ms), bob goes; alice stays.
    let drop_at = ms(1) + keep;
    s.handle_bytes(ms(2000), a, &ping());
    s.handle_timeout(drop_at);
    assert_eq!(pull(&mut s, drop_at, a), ["pong", "left 20"]);
    assert_eq!(
        cluster_events(&mut s),
        [ClusterEvent::RemoteDropped { count: 1 }]
    );
    // The store is back: the set loads, local leases are renewed, the waiting claim goes.
    let back = drop_at + Duration::from_secs(1);
    s.handle_bytes(back, a, &ping());
    s.handle_timeout(back);
    assert_eq!(drain_ops(&mut s, back), [StoreOp::Load]);
    s.handle_snapshot(back, 1, 0, [lease(20, OTHER, "bob", 1)]);
    assert_eq!(pull(&mut s, back, a), ["pong", "joined bob 20"]);
    let ops = drain_ops(&mut s, back);
    assert!(ops
        .iter()
        .any(|op| matches!(op, StoreOp::Claim { conn, .. } if *conn == c)));
    assert!(ops
        .iter()
        .any(|op| matches!(op, StoreOp::Renew { id: PeerId(9), .. })));
}

#[test]
fn a_local_user_loses_its_name_only_to_a_later_claim() {
    let mut s = server();
    let a = login(&mut s, ms(1), 1, "alice", 9, 50);
    let _ = pull(&mut s, ms(1), a);
    s.handle_snapshot(ms(2), 1, 40, []);
    let _ = drain_ops(&mut s, ms(2));
    // An older lease on the name (change 41 < 50): stale, its end follows.
    s.handle_change(
        ms(3),
        change(41, ChangeKind::Joined, lease(3, OTHER, "alice", 1)),
    );
    assert_eq!(s.directory().find("alice"), Some(PeerId(9)));
    for seq in 42..=50 {
        s.handle_change(
            ms(3),
            change(seq, ChangeKind::Moved, lease(99, OTHER, "zed", 1)),
        );
    }
    // A later one (51 > 50): this server lost the name while it was cut off.
    s.handle_change(
        ms(4),
        change(51, ChangeKind::Joined, lease(60, OTHER, "alice", 1)),
    );
    assert_eq!(s.directory().find("alice"), Some(PeerId(60)));
    assert!(pull(&mut s, ms(4), a)
        .last()
        .unwrap()
        .starts_with("close name now held"));
}

#[test]
fn a_lone_server_never_asks_for_store_work() {
    let mut core = ServerConfig::new([5; 32]);
    core.heartbeat = Duration::from_secs(1);
    let mut s: TestServer = Server::new(
        [Slot::EMPTY; 8],
        core::array::from_fn(|_| Conn::new()),
        [Record::EMPTY; 32],
        core,
    );
    let c = s.handle_connect(ms(0), peer(1)).unwrap();
    s.handle_bytes(ms(0), c, &hello("alice"));
    assert_eq!(pull(&mut s, ms(0), c)[0], "welcome 1");
    assert!(!s.poll_store_wakeup());
    assert_eq!(s.poll_store_op(ms(0)), None);
    assert_eq!(s.poll_cluster_event(), None);
}

#[test]
fn a_store_of_another_epoch_is_loaded_again() {
    let mut s = server();
    let ops = drain_ops(&mut s, ms(1000));
    let sweep = ops[0];
    let reply = StoreReply::Swept {
        count: 0,
        next_expiry: None,
        head: 0,
        epoch: 2,
    };
    s.handle_store_reply(ms(1001), sweep, Ok(reply));
    assert_eq!(drain_ops(&mut s, ms(1001)), [StoreOp::Load]);
    assert!(cluster_events(&mut s).contains(&ClusterEvent::Loading(Resync::NewEpoch)));
}
