//! Routing, sending, receiving and the peer table.

use std::string::String;
use std::vec::Vec;

use super::*;

#[test]
fn direct_message_is_delivered_and_acknowledged() {
    let (mut a, mut b) = (endpoint(A, &[B], 1), endpoint(B, &[A], 2));
    let now = Instant::from_millis(1);
    let id = a.send(now, B, "hello", false).unwrap();
    pump(&mut [&mut a, &mut b], now, all);
    assert_eq!(events(&mut b), [Ev::Msg(A, "hello".into(), false)]);
    assert_eq!(events(&mut a), [Ev::Delivered(B, id)]);
    assert_eq!(a.poll_timeout(), None, "nothing in flight");
}

#[test]
fn long_non_ascii_text_is_split_and_reassembled() {
    let (mut a, mut b) = (endpoint(A, &[B], 1), endpoint(B, &[A], 2));
    let mut text = String::new();
    while text.len() + 4 <= MAX_TEXT_LEN {
        text.push(['é', '€', '😀', 'x'][text.len() % 4]);
    }
    let now = Instant::ZERO;
    let id = a.send(now, B, &text, true).unwrap();
    let packets = drain(&mut a, now);
    assert!(packets.len() > 1 && packets.len() <= crate::wire::MAX_FRAGMENTS);
    // Deliver them backwards: reassembly must put them in order.
    for (_, bytes) in packets.iter().rev() {
        b.handle_datagram(now, addr(A), bytes);
    }
    pump(&mut [&mut a, &mut b], now, all);
    assert_eq!(events(&mut b), [Ev::Msg(A, text, true)]);
    assert_eq!(events(&mut a), [Ev::Delivered(B, id)]);
}

#[test]
fn acks_coalesce_and_go_before_chat() {
    let (mut a, mut b) = (endpoint(A, &[B], 1), endpoint(B, &[A], 2));
    let now = Instant::ZERO;
    for text in ["one", "two", "three"] {
        a.send(now, B, text, false).unwrap();
    }
    for (_, bytes) in drain(&mut a, now) {
        b.handle_datagram(now, addr(A), &bytes);
    }
    b.send(now, A, "reply", false).unwrap();
    let out = drain(&mut b, now);
    let bodies: Vec<_> = out
        .iter()
        .map(|(_, p)| decode_packet(p).unwrap().body)
        .collect();
    // Only the first message fits the receiver's buffer until it is read, so one ack
    // covers what was stored; then the reply.
    assert!(matches!(bodies[0], Body::Ack(_)), "{bodies:?}");
    assert!(matches!(bodies[1], Body::Chat(_)), "{bodies:?}");
    assert_eq!(bodies.len(), 2);
}

#[test]
fn duplicates_are_delivered_once() {
    let (mut a, mut b) = (endpoint(A, &[B], 1), endpoint(B, &[A], 2));
    let now = Instant::ZERO;
    a.send(now, B, "once", false).unwrap();
    let packets = drain(&mut a, now);
    for _ in 0..3 {
        b.handle_datagram(now, addr(A), &packets[0].1);
        let _ = events(&mut b);
    }
    b.handle_datagram(now, addr(A), &packets[0].1);
    assert!(events(&mut b).is_empty());
    assert_eq!(b.counters().duplicates, 3);
}

#[test]
fn forged_garbage_and_unknown_senders_are_counted_and_change_nothing() {
    let (mut a, mut b) = (endpoint(A, &[B], 1), endpoint(B, &[A], 2));
    let now = Instant::ZERO;
    a.send(now, B, "real", false).unwrap();
    let packets = drain(&mut a, now);
    let forged_from = SocketAddr::from(([10, 0, 0, 9], 4001));
    b.handle_datagram(now, forged_from, &packets[0].1);
    b.handle_datagram(now, addr(A), &[1, 2, 3, 0xff]);
    b.handle_datagram(now, addr(A), &[]);
    let mut buf = [0u8; MAX_DATAGRAM];
    let chat = Chat {
        seq: 0,
        base: 0,
        to_all: false,
        frag: Frag { index: 0, count: 1 },
        text: "who?",
    };
    let n = encode_packet(&Packet::new(PeerId(9), Body::Chat(chat)), &mut buf).unwrap();
    b.handle_datagram(now, addr(A), &buf[..n]);
    assert!(events(&mut b).is_empty());
    assert!(drain(&mut b, now).is_empty());
    let c = b.counters();
    assert_eq!(
        (
            c.dropped_bad_source,
            c.dropped_undecodable,
            c.dropped_unknown_peer
        ),
        (1, 2, 1)
    );
    // The real one still gets through.
    b.handle_datagram(now, addr(A), &packets[0].1);
    assert_eq!(events(&mut b), [Ev::Msg(A, "real".into(), false)]);
}

#[test]
fn ipv4_mapped_source_matches_the_roster() {
    let (mut a, mut b) = (endpoint(A, &[B], 1), endpoint(B, &[A], 2));
    let now = Instant::ZERO;
    a.send(now, B, "mapped", false).unwrap();
    let packets = drain(&mut a, now);
    let mapped: SocketAddr = "[::ffff:127.0.0.1]:4001".parse().unwrap();
    b.handle_datagram(now, mapped, &packets[0].1);
    assert_eq!(events(&mut b), [Ev::Msg(A, "mapped".into(), false)]);
}

#[test]
fn taking_a_peers_id_as_our_own_removes_that_peer() {
    let mut a = endpoint(A, &[B, C], 1);
    let id = a.send(Instant::ZERO, C, "to the old C", false).unwrap();
    a.set_local_id(C);
    assert_eq!(events(&mut a), [Ev::Failed(C, id, FailReason::PeerRemoved)]);
    assert_eq!(a.peer_addr(C), None);
    assert_eq!(a.local_id(), Some(C));
    assert_eq!(a.add_peer(C, addr(C)), Err(PeerError::InvalidId));
}
