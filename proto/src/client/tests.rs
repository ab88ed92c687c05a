//! Unit tests of the composed client node: two nodes and a scripted server.

extern crate std;

use std::vec::Vec;

use super::*;
use crate::time::Duration;
use crate::wire::{
    encode_packet, encode_server_frame, Chat, Frag, Packet, PeerInfo, RejectReason, ServerMsg,
    SnapshotPage, WireAddr, MAX_DATAGRAM, MAX_SERVER_FRAME,
};

const SERVER: SocketAddr = addr(8888);

pub(super) const fn addr(port: u16) -> SocketAddr {
    SocketAddr::new(
        core::net::IpAddr::V4(core::net::Ipv4Addr::new(127, 0, 0, 1)),
        port,
    )
}

/// An owned event, for assertions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Ev {
    Connect,
    Close,
    LoggedIn {
        id: u32,
        again: bool,
    },
    Rejected(RejectReason),
    Disconnected,
    PeerList,
    Joined(std::string::String),
    Left(std::string::String),
    Message {
        from: std::string::String,
        text: std::string::String,
        to_all: bool,
    },
    Delivered {
        to: std::string::String,
        id: MessageId,
    },
    Failed {
        to: std::string::String,
        id: MessageId,
    },
    Stopped,
}

fn own(event: Event<'_>) -> Ev {
    use std::string::ToString;
    match event {
        Event::Connect => Ev::Connect,
        Event::Close => Ev::Close,
        Event::LoggedIn { id, again, .. } => Ev::LoggedIn { id: id.0, again },
        Event::Rejected(r) => Ev::Rejected(r),
        Event::Disconnected(_) => Ev::Disconnected,
        Event::PeerList => Ev::PeerList,
        Event::Joined { name, .. } => Ev::Joined(name.as_str().to_string()),
        Event::Left { name, .. } => Ev::Left(name.as_str().to_string()),
        Event::Message { from, text, to_all } => Ev::Message {
            from: from.as_str().to_string(),
            text: text.to_string(),
            to_all,
        },
        Event::Delivered { to, id } => Ev::Delivered {
            to: to.as_str().to_string(),
            id,
        },
        Event::Failed { to, id, .. } => Ev::Failed {
            to: to.as_str().to_string(),
            id,
        },
        Event::Stopped => Ev::Stopped,
    }
}

/// One node under test with its UDP address and a clock.
pub(super) struct Node {
    pub(super) client: SmallClient,
    pub(super) udp: SocketAddr,
    pub(super) now: Instant,
}

impl Node {
    fn new(name: &str, port: u16) -> Node {
        let config = ClientConfig {
            name,
            udp_port: port,
            server: SERVER,
            seed: u64::from(port),
        };
        let mut client = SmallClient::new(config).unwrap();
        let now = Instant::from_millis(1);
        assert!(
            client.poll_timeout().is_some_and(|t| t <= now),
            "due at once"
        );
        client.handle_timeout(now);
        Node {
            client,
            udp: addr(port),
            now,
        }
    }

    fn events(&mut self) -> Vec<Ev> {
        let mut out = Vec::new();
        while let Some(event) = self.client.poll_event() {
            out.push(own(event));
        }
        out
    }

    fn frames(&mut self) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        let mut buf = [0u8; 256];
        while let Some(len) = self.client.poll_control_transmit(&mut buf) {
            out.push(buf[..len].to_vec());
        }
        out
    }

    fn server_says(&mut self, msg: &ServerMsg<'_>) {
        let mut buf = [0u8; MAX_SERVER_FRAME];
        let len = encode_server_frame(msg, &mut buf).unwrap();
        let used = self.client.handle_control_bytes(self.now, &buf[..len]);
        assert_eq!(used, len);
    }

    /// Connects and logs in as `id`; the snapshot holds `peers` (and us).
    pub(super) fn log_in(&mut self, id: u32, peers: &[(u32, &str, SocketAddr)]) -> Vec<Ev> {
        let mut events = self.events();
        self.accept_login(id, peers);
        events.extend(self.events());
        events
    }

    /// The server side of a login (the node asked to connect): connected, `Welcome`,
    /// a snapshot with `peers` and us. Leaves the node's events alone.
    pub(super) fn accept_login(&mut self, id: u32, peers: &[(u32, &str, SocketAddr)]) {
        self.client.handle_control_connected(self.now);
        assert_eq!(self.frames().len(), 1, "Hello goes out");
        self.server_says(&ServerMsg::Welcome {
            id: PeerId(id),
            observed_addr: self.udp.into(),
            probe_token: 7,
            heartbeat_ms: 1000,
        });
        let mut page = SnapshotPage {
            version: 1,
            page: 0,
            last: true,
            peers: heapless::Vec::new(),
        };
        let name = self.client.name;
        page.peers.push(info(id, name.as_str(), self.udp)).unwrap();
        for &(id, name, at) in peers {
            page.peers.push(info(id, name, at)).unwrap();
        }
        self.server_says(&ServerMsg::Snapshot(page));
    }

    fn advance(&mut self, by: Duration) {
        self.now += by;
        if self.client.poll_timeout().is_some_and(|t| t <= self.now) {
            self.client.handle_timeout(self.now);
        }
    }

    /// Every datagram the node has for peers (probes for the server are dropped).
    pub(super) fn datagrams(&mut self) -> Vec<(SocketAddr, Vec<u8>)> {
        let mut out = Vec::new();
        let mut buf = [0u8; MAX_DATAGRAM];
        while let Some(t) = self.client.poll_transmit(self.now, &mut buf) {
            if t.dst != SERVER {
                out.push((t.dst, buf[..t.len].to_vec()));
            }
        }
        out
    }
}

fn info(id: u32, name: &str, at: SocketAddr) -> PeerInfo<'_> {
    PeerInfo {
        id: PeerId(id),
        name,
        addr: WireAddr::from(at),
    }
}

/// Moves datagrams between the nodes until both are quiet.
fn pump(a: &mut Node, b: &mut Node) {
    for _ in 0..64 {
        let from_a = a.datagrams();
        let from_b = b.datagrams();
        if from_a.is_empty() && from_b.is_empty() {
            return;
        }
        for (to, bytes) in from_a {
            if to == b.udp {
                b.client.handle_datagram(b.now, a.udp, &bytes);
            }
        }
        for (to, bytes) in from_b {
            if to == a.udp {
                a.client.handle_datagram(a.now, b.udp, &bytes);
            }
        }
    }
    panic!("the nodes never went quiet");
}

/// Alice (id 1) and Bob (id 2), logged in and knowing each other.
pub(super) fn pair() -> (Node, Node) {
    let mut alice = Node::new("alice", 5001);
    let mut bob = Node::new("bob", 5002);
    let bob_at = bob.udp;
    let alice_at = alice.udp;
    alice.log_in(1, &[(2, "bob", bob_at)]);
    bob.log_in(2, &[(1, "alice", alice_at)]);
    (alice, bob)
}

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
    let mut connect = false;
    for _ in 0..100 {
        alice.advance(Duration::from_millis(100));
        if alice.events().contains(&Ev::Connect) {
            connect = true;
            break;
        }
    }
    assert!(connect, "a reconnect is asked for");
}

#[test]
fn after_a_server_restart_both_log_in_again_and_keep_chatting() {
    let (mut alice, mut bob) = pair();
    for node in [&mut alice, &mut bob] {
        node.client.handle_control_closed(node.now);
        let mut asked = false;
        for _ in 0..100 {
            node.advance(Duration::from_millis(100));
            if node.events().contains(&Ev::Connect) {
                asked = true;
                break;
            }
        }
        assert!(asked);
    }
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
    alice.client.handle_control_closed(alice.now);
    for _ in 0..100 {
        alice.advance(Duration::from_millis(100));
        if alice.events().contains(&Ev::Connect) {
            break;
        }
    }
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
    for node in [&mut alice, &mut bob] {
        node.client.handle_control_closed(node.now);
        let mut asked = false;
        for _ in 0..100 {
            node.advance(Duration::from_millis(100));
            if node.events().contains(&Ev::Connect) {
                asked = true;
                break;
            }
        }
        assert!(asked);
    }
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

/// Disconnects `node` and waits for the core's reconnect.
fn lose_server(node: &mut Node) {
    node.client.handle_control_closed(node.now);
    for _ in 0..100 {
        node.advance(Duration::from_millis(100));
        if node.events().contains(&Ev::Connect) {
            return;
        }
    }
    panic!("no reconnect asked for");
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
