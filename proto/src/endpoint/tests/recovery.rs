//! Loss, retransmission, failure, restarts and ordering.

use std::vec::Vec;

use super::*;
use crate::wire::{encode_packet, Chat, Frag, MAX_DATAGRAM};

#[test]
fn silent_peer_makes_the_message_fail_within_the_bound() {
    let mut a = endpoint(A, &[B], 1);
    let start = Instant::ZERO;
    let id = a.send(start, B, "anyone?", false).unwrap();
    let mut now = start;
    let mut sent = 0;
    loop {
        sent += drain(&mut a, now).len();
        if let Some(ev) = events(&mut a).pop() {
            assert_eq!(ev, Ev::Failed(B, id, FailReason::Timeout));
            break;
        }
        now = a
            .poll_timeout()
            .expect("a timer runs while a message is pending");
        a.handle_timeout(now);
    }
    assert_eq!(sent, usize::from(LinkConfig::default().max_tries));
    assert!(now - start <= LinkConfig::default().give_up_bound());
    assert_eq!(a.poll_timeout(), None);
}

#[test]
fn after_a_failure_the_receiver_skips_the_lost_message() {
    let (mut a, mut b) = (endpoint(A, &[B], 1), endpoint(B, &[A], 2));
    let mut now = Instant::ZERO;
    a.send(now, B, "warm-up", false).unwrap();
    pump(&mut [&mut a, &mut b], now, all);
    let _ = (events(&mut a), events(&mut b));
    // B is unreachable for a while: every copy of "lost" vanishes.
    let lost = a.send(now, B, "lost", false).unwrap();
    while events(&mut a).is_empty() {
        let _ = drain(&mut a, now);
        now = a.poll_timeout().unwrap();
        a.handle_timeout(now);
    }
    let id = a.send(now, B, "after", false).unwrap();
    pump(&mut [&mut a, &mut b], now, all);
    assert_eq!(events(&mut b), [Ev::Msg(A, "after".into(), false)]);
    assert_eq!(events(&mut a), [Ev::Delivered(B, id)]);
    let _ = lost;
}

#[test]
fn send_all_queues_one_copy_per_peer_with_one_id() {
    let mut a = endpoint(A, &[B, C], 1);
    let (mut b, mut c) = (endpoint(B, &[A, C], 2), endpoint(C, &[A, B], 3));
    let now = Instant::ZERO;
    let id = a.send_all(now, "hi all").unwrap();
    pump(&mut [&mut a, &mut b, &mut c], now, all);
    assert_eq!(events(&mut b), [Ev::Msg(A, "hi all".into(), true)]);
    assert_eq!(events(&mut c), [Ev::Msg(A, "hi all".into(), true)]);
    let mut evs = events(&mut a);
    evs.sort_by_key(peer_of);
    assert_eq!(evs, [Ev::Delivered(B, id), Ev::Delivered(C, id)]);
}

fn peer_of(e: &Ev) -> u32 {
    match e {
        Ev::Delivered(p, _) | Ev::Failed(p, _, _) | Ev::Msg(p, _, _) => p.0,
    }
}

#[test]
fn send_errors_are_typed() {
    let mut a = endpoint(A, &[B], 1);
    let now = Instant::ZERO;
    let long = "x".repeat(MAX_TEXT_LEN + 1);
    assert_eq!(a.send(now, B, &long, false), Err(SendError::TooLong));
    assert_eq!(a.send(now, C, "?", false), Err(SendError::UnknownPeer));
    for _ in 0..4 {
        a.send(now, B, "q", false).unwrap();
    }
    assert_eq!(a.send(now, B, "q", false), Err(SendError::QueueFull));
    assert_eq!(a.send_all(now, "q"), Err(SendError::QueueFull));
    let mut lonely = endpoint(A, &[], 1);
    assert_eq!(lonely.send_all(now, "q"), Err(SendError::NoPeers));
    let mut small = endpoint(A, &[B, C], 1);
    let big = "y".repeat(MAX_TEXT_LEN);
    small.send(now, B, &big, false).unwrap();
    small.send(now, C, &big, false).unwrap();
    assert_eq!(small.send(now, B, &big, false), Err(SendError::BufferFull));
}

#[test]
fn address_change_and_removal_fail_pending_messages() {
    let mut a = endpoint(A, &[B, C], 1);
    let now = Instant::ZERO;
    let to_b = a.send(now, B, "b", false).unwrap();
    let to_c = a.send(now, C, "c", false).unwrap();
    let _ = drain(&mut a, now);
    a.add_peer(B, SocketAddr::from(([127, 0, 0, 2], 9)))
        .unwrap();
    assert!(a.remove_peer(C));
    assert!(!a.remove_peer(C));
    let evs = events(&mut a);
    assert!(evs.contains(&Ev::Failed(B, to_b, FailReason::PeerChanged)));
    assert!(evs.contains(&Ev::Failed(C, to_c, FailReason::PeerRemoved)));
    assert_eq!(a.send(now, C, "gone", false), Err(SendError::UnknownPeer));
    assert_eq!(a.add_peer(A, addr(A)), Err(PeerError::InvalidId));
    assert_eq!(
        a.add_peer(PeerId::SERVER, addr(A)),
        Err(PeerError::InvalidId)
    );
}

#[test]
fn peer_table_is_bounded() {
    let mut a = endpoint(A, &[], 1);
    for id in 2..6 {
        a.add_peer(PeerId(id), addr(PeerId(id))).unwrap();
    }
    assert_eq!(a.add_peer(PeerId(9), addr(A)), Err(PeerError::TableFull));
    assert!(a.remove_peer(PeerId(2)));
    let _ = events(&mut a);
    a.add_peer(PeerId(9), addr(A)).unwrap();
}

#[test]
fn a_restarted_sender_is_followed() {
    let (mut a, mut b) = (endpoint(A, &[B], 1), endpoint(B, &[A], 2));
    let now = Instant::ZERO;
    a.send(now, B, "before", false).unwrap();
    pump(&mut [&mut a, &mut b], now, all);
    let _ = (events(&mut a), events(&mut b));
    // A restarts with the same id and address; B keeps its state.
    for seed in [3, 4, 5, 6] {
        let mut a2 = endpoint(A, &[B], seed);
        let id = a2.send(now, B, "after restart", false).unwrap();
        pump(&mut [&mut a2, &mut b], now, all);
        assert_eq!(events(&mut b), [Ev::Msg(A, "after restart".into(), false)]);
        assert_eq!(events(&mut a2), [Ev::Delivered(B, id)]);
    }
}

#[test]
fn stale_acks_acknowledge_nothing() {
    let mut a = endpoint(A, &[B], 1);
    let now = Instant::ZERO;
    a.send(now, B, "x", false).unwrap();
    let _ = drain(&mut a, now);
    let mut buf = [0u8; MAX_DATAGRAM];
    let ack = Ack {
        next: 12345,
        above: u32::MAX,
    };
    let n = encode_packet(&Packet::new(B, Body::Ack(ack)), &mut buf).unwrap();
    a.handle_datagram(now, addr(B), &buf[..n]);
    assert!(events(&mut a).is_empty());
    assert_eq!(a.counters().stale_acks, 1);
}

#[test]
fn round_trip_time_is_measured() {
    let (mut a, mut b) = (endpoint(A, &[B], 1), endpoint(B, &[A], 2));
    let t0 = Instant::ZERO;
    a.send(t0, B, "ping", false).unwrap();
    for (_, p) in drain(&mut a, t0) {
        b.handle_datagram(t0, addr(A), &p);
    }
    let t1 = t0 + Duration::from_millis(30);
    for (_, p) in drain(&mut b, t1) {
        a.handle_datagram(t1, addr(B), &p);
    }
    assert_eq!(a.srtt(B), Some(Duration::from_millis(30)));
}

#[test]
fn nothing_is_sent_before_the_local_id_is_known() {
    let mut a = Ep::new(EndpointConfig::default());
    a.add_peer(B, addr(B)).unwrap();
    a.send(Instant::ZERO, B, "early", false).unwrap();
    assert!(drain(&mut a, Instant::ZERO).is_empty());
    a.set_local_id(A);
    assert_eq!(drain(&mut a, Instant::ZERO).len(), 1);
}

#[test]
fn a_small_receiver_refuses_what_it_cannot_hold() {
    let mut a = endpoint(A, &[B], 1);
    let mut b = SmallEndpoint::new(EndpointConfig::default());
    b.set_local_id(B);
    b.add_peer(A, addr(A)).unwrap();
    let now = Instant::ZERO;
    a.send(now, B, &"z".repeat(4000), false).unwrap();
    for (_, p) in drain(&mut a, now) {
        b.handle_datagram(now, addr(A), &p);
    }
    assert!(b.poll_event().is_none());
    assert!(b.counters().dropped_too_large > 0);
}

#[test]
fn retransmissions_back_off_exponentially() {
    let mut a = endpoint(A, &[B], 1);
    let mut now = Instant::ZERO;
    a.send(now, B, "echo?", false).unwrap();
    let mut sent_at = Vec::new();
    for _ in 0..6 {
        if !drain(&mut a, now).is_empty() {
            sent_at.push(now);
        }
        now = a.poll_timeout().unwrap();
        a.handle_timeout(now);
    }
    let gaps: Vec<u64> = sent_at
        .windows(2)
        .map(|w| (w[1] - w[0]).as_millis())
        .collect();
    // Initial RTO 500 ms, doubled each time, clamped at 2 s.
    assert_eq!(gaps, [500, 1000, 2000, 2000, 2000]);
    assert!(a.counters().retransmissions >= 5);
}

#[test]
fn no_more_than_a_window_of_packets_is_in_flight() {
    let mut a = endpoint(A, &[B], 1);
    let now = Instant::ZERO;
    let text = "w".repeat(MAX_TEXT_LEN);
    a.send(now, B, &text, false).unwrap();
    a.send(now, B, &text, false).unwrap();
    a.send(now, B, &text[..3000], false).unwrap();
    // 15 + 15 + 3 fragments queued; only the first WINDOW sequence numbers go out.
    assert_eq!(drain(&mut a, now).len(), crate::link::WINDOW as usize);
}

#[test]
fn a_stalled_reassembly_frees_its_buffer() {
    let mut a = endpoint(A, &[B], 1);
    let mut b = endpoint(B, &[A], 2);
    let now = Instant::ZERO;
    a.send(now, B, &"s".repeat(3000), false).unwrap();
    let packets = drain(&mut a, now);
    b.handle_datagram(now, addr(A), &packets[0].1);
    let at = b.poll_timeout().expect("reassembly timer");
    assert_eq!(at, now + LinkConfig::default().reassembly_timeout);
    b.handle_timeout(at);
    assert_eq!(b.counters().reassembly_timeouts, 1);
    assert_eq!(b.poll_timeout(), None);
    assert!(b.rx.iter().all(|r| !r.in_use()));
}

#[test]
fn outcomes_are_reported_in_sending_order() {
    let (mut a, mut b) = (endpoint(A, &[B], 1), endpoint(B, &[A], 2));
    let now = Instant::ZERO;
    let ids: Vec<_> = ["1", "2", "3"]
        .iter()
        .map(|t| a.send(now, B, t, false).unwrap())
        .collect();
    pump(&mut [&mut a, &mut b], now, all);
    let _ = events(&mut b);
    // b read the first message only after all three arrived: the others come again.
    let mut now = now;
    for _ in 0..3 {
        now = a.poll_timeout().unwrap_or(now);
        a.handle_timeout(now);
        pump(&mut [&mut a, &mut b], now, all);
        let _ = events(&mut b);
    }
    let delivered: Vec<_> = events(&mut a)
        .into_iter()
        .map(|e| match e {
            Ev::Delivered(_, id) => id,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(delivered, ids);
}

#[test]
fn an_early_message_waits_unacknowledged_until_the_gap_fills() {
    let (mut a, mut b) = (endpoint(A, &[B], 1), endpoint(B, &[A], 2));
    let now = Instant::ZERO;
    let first = a.send(now, B, "first", false).unwrap();
    let second = a.send(now, B, "second", false).unwrap();
    let packets = drain(&mut a, now);
    b.handle_datagram(now, addr(A), &packets[1].1);
    assert!(events(&mut b).is_empty());
    // The ack for the early packet must not acknowledge it: the first may still fail.
    for (_, ack) in drain(&mut b, now) {
        a.handle_datagram(now, addr(B), &ack);
    }
    assert!(events(&mut a).is_empty());
    b.handle_datagram(now, addr(A), &packets[0].1);
    assert_eq!(
        events(&mut b),
        [
            Ev::Msg(A, "first".into(), false),
            Ev::Msg(A, "second".into(), false)
        ]
    );
    for (_, ack) in drain(&mut b, now) {
        a.handle_datagram(now, addr(B), &ack);
    }
    assert_eq!(
        events(&mut a),
        [Ev::Delivered(B, first), Ev::Delivered(B, second)]
    );
    assert_eq!(a.counters().retransmissions, 0);
}

#[test]
fn a_small_endpoint_fits_a_microcontroller_budget() {
    std::eprintln!(
        "HostEndpoint {} bytes, SmallEndpoint {} bytes",
        core::mem::size_of::<HostEndpoint>(),
        core::mem::size_of::<SmallEndpoint>()
    );
    // 16 KiB for the links, plus about 1 KiB for one incoming file transfer.
    assert!(core::mem::size_of::<SmallEndpoint>() < 17 * 1024);
}

#[test]
fn overlapping_messages_from_a_broken_sender_free_their_buffers() {
    let mut b = endpoint(B, &[A], 2);
    let now = Instant::ZERO;
    let mut buf = [0u8; MAX_DATAGRAM];
    // (seq, index, count): a later message at 1..3 overlapping the first one at 0..3.
    for (seq, index, count) in [(1, 0, 2), (0, 0, 3), (2, 1, 2), (1, 1, 3), (2, 2, 3)] {
        let chat = Chat {
            seq,
            base: 0,
            to_all: false,
            frag: Frag { index, count },
            text: "x",
        };
        let n = encode_packet(&Packet::new(A, Body::Chat(chat)), &mut buf).unwrap();
        b.handle_datagram(now, addr(A), &buf[..n]);
    }
    assert_eq!(events(&mut b), [Ev::Msg(A, "xxx".into(), false)]);
    assert!(b.rx.iter().all(|r| !r.in_use()), "no buffer stays taken");
}

#[test]
fn a_message_stuck_behind_a_gap_is_dropped_after_the_timeout() {
    let mut b = endpoint(B, &[A], 2);
    let now = Instant::ZERO;
    let mut buf = [0u8; MAX_DATAGRAM];
    let chat = Chat {
        seq: 1,
        base: 0,
        to_all: false,
        frag: Frag { index: 0, count: 1 },
        text: "early",
    };
    let n = encode_packet(&Packet::new(A, Body::Chat(chat)), &mut buf).unwrap();
    b.handle_datagram(now, addr(A), &buf[..n]);
    assert!(events(&mut b).is_empty());
    let at = b.poll_timeout().expect("reassembly timer");
    b.handle_timeout(at);
    assert!(
        events(&mut b).is_empty(),
        "never acknowledged, so never owed"
    );
    assert!(b.rx.iter().all(|r| !r.in_use()));
    assert_eq!(b.counters().reassembly_timeouts, 1);
}

#[test]
fn early_messages_released_by_a_skip_come_out_in_sequence_order() {
    type Roomy = Endpoint<4, 4, 8, 8192, 4, 4096>;
    let mut b = Roomy::new(EndpointConfig::default());
    b.set_local_id(B);
    b.add_peer(A, addr(A)).unwrap();
    let now = Instant::ZERO;
    let mut buf = [0u8; MAX_DATAGRAM];
    // Message 1 is never seen (its sender gave up); 3 arrives before 2; then 4 says
    // that everything below it is settled.
    for (seq, base, text) in [(0, 0, "zero"), (3, 1, "c"), (2, 1, "b"), (4, 4, "d")] {
        let chat = Chat {
            seq,
            base,
            to_all: false,
            frag: Frag { index: 0, count: 1 },
            text,
        };
        let n = encode_packet(&Packet::new(A, Body::Chat(chat)), &mut buf).unwrap();
        b.handle_datagram(now, addr(A), &buf[..n]);
    }
    let mut texts = std::vec::Vec::new();
    while let Some(ev) = b.poll_event() {
        if let Event::Message { text, .. } = ev {
            texts.push(std::string::String::from(text));
        }
    }
    assert_eq!(texts, ["zero", "b", "c", "d"]);
}

#[test]
fn an_early_message_gives_its_buffer_to_a_message_due_first() {
    const D: PeerId = PeerId(4);
    let mut b = endpoint(B, &[A, C, D], 2);
    let now = Instant::ZERO;
    let mut buf = [0u8; MAX_DATAGRAM];
    let mut feed = |b: &mut Ep, from: PeerId, seq: u32, base: u32, frag: (u8, u8), text: &str| {
        let chat = Chat {
            seq,
            base,
            to_all: false,
            frag: Frag {
                index: frag.0,
                count: frag.1,
            },
            text,
        };
        let n = encode_packet(&Packet::new(from, Body::Chat(chat)), &mut buf).unwrap();
        b.handle_datagram(now, addr(from), &buf[..n]);
    };
    feed(&mut b, A, 0, 0, (0, 1), "a0");
    assert_eq!(events(&mut b), [Ev::Msg(A, "a0".into(), false)]);
    feed(&mut b, A, 2, 1, (0, 1), "early"); // held behind A's missing seq 1
    feed(&mut b, C, 0, 0, (0, 2), "c"); // C's first half: the last free buffer
    feed(&mut b, D, 0, 0, (0, 1), "d"); // due first: A's early message gives way
    assert_eq!(events(&mut b), [Ev::Msg(D, "d".into(), false)]);
    assert_eq!(b.counters().dropped_busy, 0);
}
