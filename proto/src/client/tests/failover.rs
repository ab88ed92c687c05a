//! Failing over between the servers of a cluster: in order, at once after a lost
//! session, probes to the server in use, peers and chat kept throughout.

use super::*;

const OTHER: SocketAddr = addr(9999);

#[test]
fn a_lost_session_moves_to_the_next_server_at_once_and_chat_goes_on() {
    let (mut alice, mut bob) = pair();
    assert!(alice.client.add_server(OTHER));
    assert_eq!(alice.client.server(), SERVER);
    alice.client.handle_control_closed(alice.now);
    alice.advance(Duration::ZERO);
    let events = alice.events();
    assert_eq!(events, [Ev::Connect, Ev::Disconnected], "no backoff");
    assert_eq!(alice.client.server(), OTHER);

    // Bob is still known while alice is between servers.
    let sent = alice
        .client
        .send_to(alice.now, "bob", "failing over")
        .unwrap();
    pump(&mut alice, &mut bob);
    assert!(alice.events().contains(&Ev::Delivered {
        to: "bob".into(),
        id: sent.id
    }));

    // The other server logs her in (under a new cluster id); bob is on its list.
    let bob_at = bob.udp;
    alice.accept_login(7, &[(2, "bob", bob_at)]);
    let events = alice.events();
    assert!(
        events.contains(&Ev::LoggedIn { id: 7, again: true }),
        "{events:?}"
    );
    let mut buf = [0u8; MAX_DATAGRAM];
    let probe = alice.client.poll_transmit(alice.now, &mut buf).unwrap();
    assert_eq!(probe.dst, OTHER, "probes go to the server in use");
    assert_eq!(alice.client.id(), Some(PeerId(7)));
}

#[test]
fn servers_are_tried_in_order_then_the_round_backs_off() {
    let mut alice = Node::new("alice", 5001);
    assert!(alice.client.add_server(OTHER));
    assert_eq!(alice.events(), [Ev::Connect]);
    assert_eq!(alice.client.server(), SERVER);
    alice.client.handle_control_closed(alice.now);
    alice.advance(Duration::ZERO);
    assert_eq!(alice.events(), [Ev::Connect, Ev::Disconnected]);
    assert_eq!(alice.client.server(), OTHER);
    alice.client.handle_control_closed(alice.now);
    alice.advance(Duration::ZERO);
    assert_eq!(alice.events(), [Ev::Disconnected], "both failed: back off");
    assert_eq!(alice.client.server(), SERVER);
    wait_for_reconnect(&mut alice);
}

#[test]
fn a_name_still_held_is_retried_on_the_same_server() {
    let (mut alice, _bob) = pair();
    assert!(alice.client.add_server(OTHER));
    alice.client.handle_control_closed(alice.now);
    alice.advance(Duration::ZERO);
    let _ = alice.events();
    assert_eq!(alice.client.server(), OTHER);
    alice.client.handle_control_connected(alice.now);
    let _ = alice.frames();
    alice.server_says(&ServerMsg::Rejected {
        reason: RejectReason::NameTaken,
    });
    assert_eq!(alice.events(), [Ev::Close, Ev::Disconnected]);
    assert_eq!(
        alice.client.server(),
        OTHER,
        "the name is held cluster-wide"
    );
}

#[test]
fn at_most_max_servers_are_kept() {
    let mut alice = Node::new("alice", 5001);
    for i in 1..MAX_SERVERS {
        assert!(alice.client.add_server(addr(10_000 + i as u16)));
    }
    assert!(!alice.client.add_server(addr(20_000)));
}
