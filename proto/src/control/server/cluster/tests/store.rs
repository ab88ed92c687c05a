//! Remote changes, presence sets, renewals, sweeps, and a store that fails.

use super::*;

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
        cluster_events(&mut s).contains(&ClusterEvent::Loading(Reload::Gap {
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
    assert!(cluster_events(&mut s).contains(&ClusterEvent::Loading(Reload::NewEpoch)));
}

#[test]
fn a_store_unreachable_from_the_start_is_reported_once() {
    let mut core = ServerConfig::new([5; 32]);
    core.heartbeat = Duration::from_secs(1);
    let mut s: TestServer = Server::new(
        [Slot::EMPTY; 8],
        core::array::from_fn(|_| Conn::new()),
        [Record::EMPTY; 32],
        core,
    );
    s.enable_cluster(ms(0), config());
    for t in [0, 100, 300, 700] {
        assert_eq!(drain_ops(&mut s, ms(t)), [StoreOp::Load], "retry at {t} ms");
        s.handle_store_reply(ms(t), StoreOp::Load, Err(StoreFailed));
    }
    let keep = config().lease_ttl;
    assert_eq!(cluster_events(&mut s), [ClusterEvent::StoreDown { keep }]);
    assert_eq!(drain_ops(&mut s, ms(1400)), [], "the next try waits 800 ms");
}
