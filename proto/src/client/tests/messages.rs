//! Login, chat, typed send errors and forged input.

use super::*;

#[test]
fn a_new_client_asks_to_connect_and_logs_in() {
    let mut alice = Node::new("alice", 5001);
    let events = alice.log_in(1, &[(2, "bob", addr(5002))]);
    assert_eq!(
        events,
        [
            Ev::Connect,
            Ev::LoggedIn {
                id: 1,
                again: false
            },
            Ev::PeerList
        ]
    );
    let names: Vec<_> = alice.client.peers().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["bob"], "we are not in our own list");
    assert_eq!(alice.client.id(), Some(PeerId(1)));
    assert_eq!(alice.client.peer_name(PeerId(2)).unwrap().as_str(), "bob");
    assert_eq!(alice.client.peer_name(PeerId(9)), None);
    assert!(alice.client.peer_by_name("BOB").is_some());
}

#[test]
fn an_invalid_name_is_refused_before_connecting() {
    let config = ClientConfig {
        name: "no spaces",
        udp_port: 1,
        server: SERVER,
        seed: 0,
    };
    assert!(SmallClient::new(config).is_err());
}

#[test]
fn a_message_arrives_once_and_is_delivered() {
    let (mut alice, mut bob) = pair();
    let sent = alice.client.send_to(alice.now, "Bob", "héllo").unwrap();
    assert_eq!(sent.name.as_str(), "bob");
    pump(&mut alice, &mut bob);
    assert_eq!(
        bob.events(),
        [Ev::Message {
            from: "alice".into(),
            text: "héllo".into(),
            to_all: false
        }]
    );
    assert_eq!(
        alice.events(),
        [Ev::Delivered {
            to: "bob".into(),
            id: sent.id
        }]
    );
}

#[test]
fn a_message_to_all_goes_to_every_peer() {
    let (mut alice, mut bob) = pair();
    let id = alice.client.send_to_all(alice.now, "hi all").unwrap();
    pump(&mut alice, &mut bob);
    assert_eq!(
        bob.events(),
        [Ev::Message {
            from: "alice".into(),
            text: "hi all".into(),
            to_all: true
        }]
    );
    assert_eq!(
        alice.events(),
        [Ev::Delivered {
            to: "bob".into(),
            id
        }]
    );
}

#[test]
fn bad_sends_are_typed_errors_and_send_nothing() {
    let (mut alice, _bob) = pair();
    let now = alice.now;
    let c = &mut alice.client;
    assert_eq!(c.send_to(now, "carol", "x"), Err(SendError::UnknownName));
    assert_eq!(c.send_to(now, "ALICE", "x"), Err(SendError::ToSelf));
    assert_eq!(c.send_to(now, "bob", ""), Err(SendError::Empty));
    let long = "x".repeat(MAX_TEXT_LEN + 1);
    assert_eq!(c.send_to(now, "bob", &long), Err(SendError::TooLong));
    assert!(alice.datagrams().is_empty());

    let mut lonely = Node::new("lonely", 5009);
    lonely.log_in(9, &[]);
    assert_eq!(
        lonely.client.send_to_all(lonely.now, "anyone?"),
        Err(SendError::NobodyOnline)
    );
}

#[test]
fn joins_and_leaves_update_the_peer_table() {
    let (mut alice, mut bob) = pair();
    alice.server_says(&ServerMsg::Joined {
        version: 2,
        peer: info(3, "carol", addr(5003)),
    });
    assert_eq!(alice.events(), [Ev::Joined("carol".into())]);
    assert!(alice.client.send_to(alice.now, "carol", "hi").is_ok());

    alice.server_says(&ServerMsg::Left {
        version: 3,
        id: PeerId(2),
    });
    let events = alice.events();
    assert!(events.contains(&Ev::Left("bob".into())), "{events:?}");
    assert_eq!(
        alice.client.send_to(alice.now, "bob", "x"),
        Err(SendError::UnknownName)
    );
    // Bob's packets are no longer accepted.
    bob.client
        .send_to(bob.now, "alice", "still there?")
        .unwrap();
    pump(&mut alice, &mut bob);
    assert!(!alice
        .events()
        .iter()
        .any(|e| matches!(e, Ev::Message { .. })));
}

#[test]
fn a_message_in_flight_to_a_leaver_fails_and_names_it() {
    let (mut alice, _bob) = pair();
    let sent = alice.client.send_to(alice.now, "bob", "bye?").unwrap();
    alice.server_says(&ServerMsg::Left {
        version: 2,
        id: PeerId(2),
    });
    let events = alice.events();
    assert!(
        events.contains(&Ev::Failed {
            to: "bob".into(),
            id: sent.id
        }),
        "{events:?}"
    );
}

#[test]
fn forged_and_garbage_datagrams_change_nothing() {
    let (mut alice, _bob) = pair();
    let mut buf = [0u8; MAX_DATAGRAM];
    let forged = Packet::new(
        PeerId(2),
        Body::Chat(Chat {
            seq: 0,
            base: 0,
            to_all: false,
            frag: Frag { index: 0, count: 1 },
            text: "forged",
        }),
    );
    let len = encode_packet(&forged, &mut buf).unwrap();
    // Bob's id from another address, and from the server's address.
    alice
        .client
        .handle_datagram(alice.now, addr(6666), &buf[..len]);
    alice.client.handle_datagram(alice.now, SERVER, &buf[..len]);
    for junk in [&[][..], &[0xff; 3][..], &[1, 0, 0, 0][..]] {
        alice.client.handle_datagram(alice.now, addr(5002), junk);
        alice.client.handle_datagram(alice.now, SERVER, junk);
    }
    assert!(alice.events().is_empty());
    assert_eq!(alice.client.peers().count(), 1);
}
