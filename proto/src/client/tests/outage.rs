//! Server loss, reconnects, moves, re-logins with new ids, and lingering peers.

use super::*;

#[test]
fn chat_goes_on_while_the_server_is_away() {
    let (mut alice, mut bob) = pair();
    alice.client.handle_control_closed(alice.now);
    bob.client.handle_control_closed(bob.now);
    assert_eq!(alice.events(), [Ev::Disconnected]);
    assert!(!alice.client.is_online());

    let sent = alice
        .client
        .send_to(alice.now, "bob", "server's gone")
        .unwrap();
    pump(&mut alice, &mut bob);
    assert!(bob.events().contains(&Ev::Message {
        from: "alice".into(),
        text: "server's gone".into(),
        to_all: false
    }));
    assert_eq!(
        alice.events(),
        [Ev::Delivered {
            to: "bob".into(),
            id: sent.id
        }]
    );

    // The core decides when to reconnect.
    wait_for_reconnect(&mut alice);
}

#[test]
fn after_a_server_restart_both_log_in_again_and_keep_chatting() {
    let (mut alice, mut bob) = pair();
    lose_server(&mut alice);
    lose_server(&mut bob);
    // The fresh server hands out ids in another order.
    let (alice_at, bob_at) = (alice.udp, bob.udp);
    let events = bob.log_in(1, &[(2, "alice", alice_at)]);
    assert!(
        events.contains(&Ev::LoggedIn { id: 1, again: true }),
        "{events:?}"
    );
    alice.log_in(2, &[(1, "bob", bob_at)]);
    let names: Vec<_> = alice
        .client
        .peers()
        .map(|p| (p.id, p.name.as_str()))
        .collect();
    assert_eq!(names, [(PeerId(1), "bob")]);

    let sent = alice.client.send_to(alice.now, "bob", "new ids").unwrap();
    pump(&mut alice, &mut bob);
    assert!(bob.events().contains(&Ev::Message {
        from: "alice".into(),
        text: "new ids".into(),
        to_all: false
    }));
    assert!(alice.events().contains(&Ev::Delivered {
        to: "bob".into(),
        id: sent.id
    }));
}

#[test]
fn a_probe_goes_to_the_server_after_login() {
    let (mut alice, _bob) = pair();
    let mut buf = [0u8; MAX_DATAGRAM];
    let t = alice.client.poll_transmit(alice.now, &mut buf).unwrap();
    assert_eq!(t.dst, SERVER);
    let packet = crate::wire::decode_packet(&buf[..t.len]).unwrap();
    assert!(matches!(packet.body, Body::Probe { token: 7 }));
}

#[test]
fn a_refused_login_stops_the_client() {
    let mut alice = Node::new("alice", 5001);
    alice.events();
    alice.client.handle_control_connected(alice.now);
    alice.frames();
    alice.server_says(&ServerMsg::Rejected {
        reason: RejectReason::NameTaken,
    });
    let events = alice.events();
    assert!(
        events.contains(&Ev::Rejected(RejectReason::NameTaken)),
        "{events:?}"
    );
    assert!(events.contains(&Ev::Close), "{events:?}");
}

#[test]
fn quit_says_bye_then_stops() {
    let (mut alice, _bob) = pair();
    alice.events();
    alice.frames();
    alice.client.quit();
    assert_eq!(alice.frames().len(), 1, "Bye goes out");
    assert_eq!(alice.events(), [Ev::Close]);
    alice.client.handle_control_closed(alice.now);
    assert_eq!(alice.events(), [Ev::Stopped]);
}

#[test]
fn a_moved_peer_is_reached_at_its_new_address() {
    let (mut alice, mut bob) = pair();
    bob.udp = addr(5012);
    alice.server_says(&ServerMsg::Moved {
        version: 2,
        id: PeerId(2),
        addr: WireAddr::from(bob.udp),
    });
    assert!(alice.events().is_empty(), "a move is not a join");
    assert_eq!(
        alice.client.peer_by_name("bob").unwrap().addr,
        bob.udp.into()
    );
    let sent = alice.client.send_to(alice.now, "bob", "new place").unwrap();
    let datagrams = alice.datagrams();
    assert!(datagrams.iter().all(|(to, _)| *to == bob.udp));
    for (_, bytes) in datagrams {
        bob.client.handle_datagram(bob.now, alice.udp, &bytes);
    }
    // Bob's answers now come from his new address.
    for (_, bytes) in bob.datagrams() {
        alice.client.handle_datagram(alice.now, bob.udp, &bytes);
    }
    assert!(alice.events().contains(&Ev::Delivered {
        to: "bob".into(),
        id: sent.id
    }));
}

#[test]
fn an_unchanged_peer_keeps_its_link_across_a_reconnect() {
    let (mut alice, mut bob) = pair();
    let sent = alice.client.send_to(alice.now, "bob", "in flight").unwrap();
    lose_server(&mut alice);
    let bob_at = bob.udp;
    let events = alice.log_in(1, &[(2, "bob", bob_at)]);
    assert!(
        !events.iter().any(|e| matches!(e, Ev::Failed { .. })),
        "{events:?}"
    );
    pump(&mut alice, &mut bob);
    assert!(alice.events().contains(&Ev::Delivered {
        to: "bob".into(),
        id: sent.id
    }));
}

#[test]
fn after_a_restart_the_first_back_learns_of_the_other_by_a_join() {
    let (mut alice, mut bob) = pair();
    lose_server(&mut alice);
    lose_server(&mut bob);
    // Bob is back first, as id 1 (Alice's old id), alone.
    bob.log_in(1, &[]);
    // Alice comes back as id 2 (Bob's old id) and sees Bob.
    let bob_at = bob.udp;
    alice.log_in(2, &[(1, "bob", bob_at)]);
    bob.server_says(&ServerMsg::Joined {
        version: 2,
        peer: info(2, "alice", alice.udp),
    });
    assert!(bob.events().contains(&Ev::Joined("alice".into())));

    let sent = alice.client.send_to(alice.now, "bob", "after").unwrap();
    pump(&mut alice, &mut bob);
    let got = bob.events();
    assert!(
        got.contains(&Ev::Message {
            from: "alice".into(),
            text: "after".into(),
            to_all: false
        }),
        "{got:?}"
    );
    assert!(alice.events().contains(&Ev::Delivered {
        to: "bob".into(),
        id: sent.id
    }));
    let back = bob.client.send_to(bob.now, "alice", "back").unwrap();
    pump(&mut alice, &mut bob);
    assert!(alice.events().contains(&Ev::Message {
        from: "bob".into(),
        text: "back".into(),
        to_all: false
    }));
    assert!(bob.events().contains(&Ev::Delivered {
        to: "alice".into(),
        id: back.id
    }));
}

#[test]
fn after_a_restart_with_the_same_ids_one_side_drops_the_link_and_both_still_chat() {
    for seed_shift in 0..8u64 {
        let (mut alice, mut bob) = pair();
        // Traffic before the outage, so both links have history.
        for i in 0..3 {
            alice.client.send_to(alice.now, "bob", "before").unwrap();
            bob.client.send_to(bob.now, "alice", "before").unwrap();
            let _ = i;
        }
        pump(&mut alice, &mut bob);
        alice.events();
        bob.events();
        for node in [&mut alice, &mut bob] {
            node.client.handle_control_closed(node.now);
            node.advance(Duration::from_millis(100 * (seed_shift + 1)));
            for _ in 0..100 {
                node.advance(Duration::from_millis(100));
                if node.events().contains(&Ev::Connect) {
                    break;
                }
            }
        }
        // Alice is back first under the same id, alone: Bob leaves her table.
        alice.log_in(1, &[]);
        let bob_at = bob.udp;
        let alice_at = alice.udp;
        // Bob comes back under his old id too and finds Alice unchanged.
        bob.log_in(2, &[(1, "alice", alice_at)]);
        alice.server_says(&ServerMsg::Joined {
            version: 2,
            peer: info(2, "bob", bob_at),
        });
        alice.events();
        bob.events();
        let sent = alice.client.send_to(alice.now, "bob", "after").unwrap();
        let back = bob.client.send_to(bob.now, "alice", "back").unwrap();
        for _ in 0..50 {
            pump(&mut alice, &mut bob);
            alice.advance(Duration::from_millis(200));
            bob.advance(Duration::from_millis(200));
        }
        let a = alice.events();
        let b = bob.events();
        assert!(
            b.contains(&Ev::Message {
                from: "alice".into(),
                text: "after".into(),
                to_all: false
            }),
            "{seed_shift}: bob {b:?}"
        );
        assert!(
            a.contains(&Ev::Delivered {
                to: "bob".into(),
                id: sent.id
            }),
            "{seed_shift}: alice {a:?}"
        );
        assert!(
            a.contains(&Ev::Message {
                from: "bob".into(),
                text: "back".into(),
                to_all: false
            }),
            "{seed_shift}: alice {a:?}"
        );
        assert!(
            b.contains(&Ev::Delivered {
                to: "alice".into(),
                id: back.id
            }),
            "{seed_shift}: bob {b:?}"
        );
    }
}

#[test]
fn a_peer_not_back_yet_after_our_relogin_lingers_and_chat_goes_on() {
    let (mut alice, mut bob) = pair();
    lose_server(&mut alice);
    lose_server(&mut bob);
    // Alice is back first: the fresh list lacks Bob, who is kept.
    let events = alice.log_in(1, &[]);
    assert!(
        !events.iter().any(|e| matches!(e, Ev::Left(_))),
        "{events:?}"
    );
    assert!(alice.client.peer_by_name("bob").is_some());
    let sent = alice
        .client
        .send_to(alice.now, "bob", "still here")
        .unwrap();
    pump(&mut alice, &mut bob);
    assert!(bob.events().contains(&Ev::Message {
        from: "alice".into(),
        text: "still here".into(),
        to_all: false
    }));
    assert!(alice.events().contains(&Ev::Delivered {
        to: "bob".into(),
        id: sent.id
    }));
    // Bob comes back unchanged: no join to report, and no deadline any more.
    alice.server_says(&ServerMsg::Joined {
        version: 2,
        peer: info(2, "bob", bob.udp),
    });
    assert!(alice.events().is_empty());
    alice.advance(REJOIN_GRACE + Duration::from_secs(1));
    assert!(!alice.events().contains(&Ev::Left("bob".into())));
    assert!(alice.client.peer_by_name("bob").is_some());
}

#[test]
fn a_peer_that_does_not_come_back_leaves_after_the_grace() {
    let (mut alice, _bob) = pair();
    lose_server(&mut alice);
    alice.log_in(1, &[]);
    assert!(alice.client.peer_by_name("bob").is_some());
    let deadline = alice.client.poll_timeout().unwrap();
    assert!(deadline <= alice.now + REJOIN_GRACE);
    alice.advance(REJOIN_GRACE);
    assert!(alice.events().contains(&Ev::Left("bob".into())));
    assert_eq!(
        alice.client.send_to(alice.now, "bob", "x"),
        Err(SendError::UnknownName)
    );
}

#[test]
fn a_peer_replaced_in_the_list_does_not_linger() {
    let (mut alice, _bob) = pair();
    lose_server(&mut alice);
    // The fresh server gave Bob's name to someone at another address.
    alice.log_in(1, &[(5, "bob", addr(7777))]);
    let bob = alice.client.peer_by_name("bob").unwrap();
    assert_eq!((bob.id, bob.addr), (PeerId(5), WireAddr::from(addr(7777))));
    assert_eq!(alice.client.peers().count(), 1);
}
