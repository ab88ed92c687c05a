//! Property tests: arbitrary packets from a known peer never panic the endpoint, received
//! texts stay within the buffer, and every accepted message ends in exactly one outcome
//! (`delivered` or `failed`), whatever the peer said.

extern crate std;

use proptest::prelude::*;

use super::*;
use crate::wire::{encode_packet, Ack, Chat, Frag, MAX_DATAGRAM};

type Ep = Endpoint<2, 4, 8, 8192, 2, 4096>;

#[derive(Debug, Clone)]
enum Input {
    Chat {
        seq: u32,
        base: u32,
        index: u8,
        count: u8,
        len: usize,
    },
    Ack {
        next: u32,
        above: u32,
    },
    Send(usize),
    Tick(u64),
}

fn input() -> impl Strategy<Value = Input> {
    // Small numbers around 0 and around the wrap, so that fields interact.
    let num = prop_oneof![0u32..40, (u32::MAX - 40)..=u32::MAX, any::<u32>()];
    prop_oneof![
        (num.clone(), num.clone(), 0u8..16, 1u8..=16, 0usize..1200).prop_map(
            |(seq, base, index, count, len)| Input::Chat {
                seq,
                base,
                index: index % count,
                count,
                len: len.min(crate::wire::MAX_CHAT_FRAGMENT),
            }
        ),
        (num, any::<u32>()).prop_map(|(next, above)| Input::Ack { next, above }),
        (0usize..3000).prop_map(Input::Send),
        (0u64..3_000_000).prop_map(Input::Tick),
    ]
}

proptest! {
    #[test]
    fn arbitrary_peer_packets_never_panic(inputs in proptest::collection::vec(input(), 1..60)) {
        let peer = PeerId(2);
        let from = SocketAddr::from(([127, 0, 0, 1], 4002));
        let mut ep = Ep::new(EndpointConfig::default());
        ep.set_local_id(PeerId(1));
        ep.add_peer(peer, from).unwrap();
        let mut now = Instant::ZERO;
        let mut buf = [0u8; MAX_DATAGRAM];
        let text = "é".repeat(600);
        let (mut delivered, mut sent, mut outcomes) = (0usize, 0usize, 0usize);
        for input in inputs {
            let body = match input {
                Input::Chat { seq, base, index, count, len } => {
                    let mut end = len.min(text.len());
                    while !text.is_char_boundary(end) {
                        end -= 1;
                    }
                    Some(Body::Chat(Chat { seq, base, to_all: false, frag: Frag { index, count }, text: &text[..end] }))
                }
                Input::Ack { next, above } => Some(Body::Ack(Ack { next, above })),
                Input::Send(len) => {
                    sent += usize::from(ep.send(now, peer, &"s".repeat(len), false).is_ok());
                    None
                }
                Input::Tick(us) => {
                    now += crate::time::Duration::from_micros(us);
                    ep.handle_timeout(now);
                    None
                }
            };
            if let Some(body) = body {
                let mut pbuf = [0u8; MAX_DATAGRAM];
                let n = encode_packet(&Packet::new(peer, body), &mut pbuf).unwrap();
                ep.handle_datagram(now, from, &pbuf[..n]);
            }
            while ep.poll_transmit(now, &mut buf).is_some() {}
            while let Some(ev) = ep.poll_event() {
                match ev {
                    Event::Message { text, .. } => {
                        prop_assert!(text.len() <= 4096);
                        delivered += 1;
                    }
                    _ => outcomes += 1,
                }
            }
        }
        let _ = delivered;
        // With the peer silent from now on, every accepted message gets its outcome.
        for _ in 0..1000 {
            let Some(at) = ep.poll_timeout() else { break };
            ep.handle_timeout(at.max(now));
            now = at.max(now);
            while ep.poll_transmit(now, &mut buf).is_some() {}
            while let Some(ev) = ep.poll_event() {
                outcomes += usize::from(!matches!(ev, Event::Message { .. }));
            }
        }
        prop_assert_eq!(ep.poll_timeout(), None);
        prop_assert_eq!(outcomes, sent);
    }
}
