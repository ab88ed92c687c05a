//! Property tests of version 2's path messages and relay framing: arbitrary messages
//! round-trip and fit their limits, arbitrary bytes never panic a decoder, a cut-short
//! encoding never decodes, and a relay datagram carries its inner datagram whole.

use peerchat_proto::path::{RelayClient, RelayClientError};
use peerchat_proto::wire::v2_path::*;
use peerchat_proto::wire::v2_relay::*;
use peerchat_proto::wire::{PeerId, WireAddr, MAX_DATAGRAM};
use proptest::collection::vec;
use proptest::prelude::*;

fn addr() -> impl Strategy<Value = WireAddr> {
    prop_oneof![
        (any::<[u8; 4]>(), any::<u16>()).prop_map(|(ip, port)| WireAddr::V4(ip, port)),
        (any::<[u8; 16]>(), any::<u16>()).prop_map(|(ip, port)| WireAddr::V6(ip, port)),
    ]
}

fn candidate() -> impl Strategy<Value = Candidate> {
    let kind = prop::sample::select(vec![CandidateKind::Host, CandidateKind::ServerReflexive]);
    (kind, addr()).prop_map(|(kind, addr)| Candidate { kind, addr })
}

fn client_msg() -> impl Strategy<Value = PathClientMsg> {
    prop_oneof![
        vec(addr(), 0..=MAX_HOST_CANDIDATES)
            .prop_map(|v| PathClientMsg::Candidates(v.into_iter().collect())),
        any::<u32>().prop_map(|p| PathClientMsg::PunchRequest { peer: PeerId(p) }),
    ]
}

fn server_msg() -> impl Strategy<Value = PathServerMsg> {
    let reason = prop::sample::select(vec![
        PunchRefusal::Offline,
        PunchRefusal::Yourself,
        PunchRefusal::TooSoon,
    ]);
    prop_oneof![
        (any::<u32>(), vec(candidate(), 0..=MAX_CANDIDATES)).prop_map(|(p, c)| {
            PathServerMsg::PunchNotice {
                peer: PeerId(p),
                candidates: c.into_iter().collect(),
            }
        }),
        (any::<u32>(), reason).prop_map(|(p, reason)| PathServerMsg::PunchRefused {
            peer: PeerId(p),
            reason
        }),
        (any::<[u8; 32]>(), any::<u32>(), any::<u32>())
            .prop_map(|(key, rate, budget)| PathServerMsg::RelayGrant { key, rate, budget }),
    ]
}

fn check() -> impl Strategy<Value = PathCheck> {
    prop_oneof![
        any::<u64>().prop_map(|tx| PathCheck::Ping { tx }),
        (any::<u64>(), prop::option::of(addr()))
            .prop_map(|(tx, observed)| PathCheck::Pong { tx, observed }),
    ]
}

proptest! {
    #[test]
    fn client_messages_round_trip(msg in client_msg()) {
        let mut buf = [0u8; MAX_PATH_CLIENT_MSG];
        let n = msg.encode(&mut buf).unwrap();
        prop_assert_eq!(PathClientMsg::decode(&buf[..n]), Ok(msg));
        for cut in 0..n {
            prop_assert!(PathClientMsg::decode(&buf[..cut]).is_err());
        }
    }

    #[test]
    fn server_messages_round_trip(msg in server_msg()) {
        let mut buf = [0u8; MAX_PATH_SERVER_MSG];
        let n = msg.encode(&mut buf).unwrap();
        prop_assert_eq!(PathServerMsg::decode(&buf[..n]), Ok(msg));
        for cut in 0..n {
            prop_assert!(PathServerMsg::decode(&buf[..cut]).is_err());
        }
    }

    #[test]
    fn checks_round_trip(msg in check()) {
        let mut buf = [0u8; MAX_PATH_CHECK];
        let n = msg.encode(&mut buf).unwrap();
        prop_assert!(PathCheck::is_check(&buf[..n]));
        prop_assert_eq!(PathCheck::decode(&buf[..n]), Ok(msg));
        for cut in 0..n {
            prop_assert!(PathCheck::decode(&buf[..cut]).is_err());
        }
    }

    #[test]
    fn decoders_never_panic(bytes in vec(any::<u8>(), 0..1300)) {
        let _ = PathClientMsg::decode(&bytes);
        let _ = PathServerMsg::decode(&bytes);
        let _ = PathCheck::decode(&bytes);
        let _ = decode_relay_send(&bytes);
        let _ = decode_relay_deliver(&bytes);
        let _ = RelayClient::new(PeerId(1)).unwrap(&bytes);
    }

    #[test]
    fn a_relay_send_carries_its_inner_datagram_under_a_mac(
        inner in vec(any::<u8>(), 0..=MAX_DATAGRAM),
        to in 1..u32::MAX,
        key in any::<[u8; 32]>(),
    ) {
        let mut client = RelayClient::new(PeerId(7));
        client.handle_grant(&PathServerMsg::RelayGrant { key, rate: 1, budget: 1 });
        let mut out = [0u8; MAX_RELAY_DATAGRAM];
        let n = client.wrap(PeerId(to), &inner, &mut out).unwrap();
        prop_assert_eq!(n, inner.len() + RELAY_SEND_OVERHEAD);
        let send = decode_relay_send(&out[..n]).unwrap();
        prop_assert_eq!(send.header.to, PeerId(to));
        prop_assert_eq!(send.inner, &inner[..]);
        let too_long = client.wrap(PeerId(to), &[0; MAX_DATAGRAM + 1], &mut out);
        prop_assert_eq!(too_long, Err(RelayClientError::TooLong));
    }
}
