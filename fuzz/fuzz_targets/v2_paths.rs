//! Version 2's path messages and relay datagrams: decoding never panics, and whatever
//! decodes re-encodes to bytes that decode to the same thing; a relay server handed any
//! datagram, or any change to a genuine one, never panics and forwards nothing but the
//! genuine bytes (the MAC), and a client unwraps nothing that names another sender.
//!
//! The first input byte picks the mode: 0–2 decode the rest as a client message, a
//! server message or a path check; 3 as relay datagrams; 4 hands the rest to the relay
//! server raw; 5 XORs the rest onto a genuine `RelaySend` first.
#![no_main]

use std::net::SocketAddr;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use peerchat_proto::path::{PathServer, PathSlot, RelayClient, RelayConfig};
use peerchat_proto::time::Instant;
use peerchat_proto::wire::v2_path::{PathCheck, PathClientMsg, PathServerMsg};
use peerchat_proto::wire::v2_relay::{decode_relay_deliver, decode_relay_send, MAX_RELAY_DATAGRAM};
use peerchat_proto::wire::PeerId;

const A: PeerId = PeerId(1);
const B: PeerId = PeerId(2);

/// A relay server where A and B are logged in and named each other, and a genuine
/// `RelaySend` from A to B (a sealed packet's shape inside).
fn setup() -> (PathServer<Vec<PathSlot>>, Vec<u8>) {
    let mut server = PathServer::new(vec![PathSlot::EMPTY; 4], RelayConfig::DEFAULT);
    let now = Instant::from_millis(1_000);
    let grant = server.admit(now, A, [7; 32], None).unwrap();
    server.admit(now, B, [8; 32], Some(addr(2))).unwrap();
    server.handle_punch_request(now, A, None, B, None).unwrap();
    let mut a = RelayClient::new(A);
    a.handle_grant(&grant);
    let mut inner = vec![0x5a; 60];
    inner[..7].copy_from_slice(&[2, 4, 0, 1, 0, 0, 0]);
    let mut out = [0u8; MAX_RELAY_DATAGRAM];
    let n = a.wrap(B, &inner, &mut out).unwrap();
    (server, out[..n].to_vec())
}

fn addr(last: u8) -> SocketAddr {
    SocketAddr::from(([192, 0, 2, last], 4000))
}

fn round_trip<T: PartialEq + core::fmt::Debug>(
    decoded: T,
    encode: impl Fn(&T, &mut [u8]) -> usize,
    decode: impl Fn(&[u8]) -> T,
) {
    let mut buf = [0u8; 512];
    let n = encode(&decoded, &mut buf);
    assert_eq!(decode(&buf[..n]), decoded);
}

/// Hands `datagram` to a copy of the set-up server (to which even the genuine datagram
/// is new), or, with `xor`, the genuine datagram with `datagram` XORed onto it: only the
/// genuine bytes are forwarded or taken.
fn relay(datagram: &[u8], xor: bool) {
    static SETUP: OnceLock<(PathServer<Vec<PathSlot>>, Vec<u8>)> = OnceLock::new();
    let (server, genuine) = SETUP.get_or_init(setup);
    let mut server = server.clone();
    let mut bytes = if xor {
        genuine.clone()
    } else {
        datagram.to_vec()
    };
    if xor {
        for (b, x) in bytes.iter_mut().zip(datagram) {
            *b ^= x;
        }
    }
    let mut out = [0u8; MAX_RELAY_DATAGRAM];
    let now = Instant::from_millis(2_000);
    if let Ok(forwarded) = server.handle_datagram(now, addr(1), &bytes, &mut out) {
        assert_eq!(&bytes, genuine, "only the genuine datagram passes");
        let f = forwarded.expect("the genuine datagram is for B");
        assert_eq!(f.dst, addr(2));
        assert_eq!(decode_relay_deliver(&out[..f.len]).unwrap().from, A);
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 6 {
        0 => {
            if let Ok(msg) = PathClientMsg::decode(rest) {
                round_trip(
                    msg,
                    |m, b| m.encode(b).unwrap(),
                    |b| PathClientMsg::decode(b).unwrap(),
                );
            }
        }
        1 => {
            if let Ok(msg) = PathServerMsg::decode(rest) {
                round_trip(
                    msg,
                    |m, b| m.encode(b).unwrap(),
                    |b| PathServerMsg::decode(b).unwrap(),
                );
            }
        }
        2 => {
            if let Ok(msg) = PathCheck::decode(rest) {
                round_trip(
                    msg,
                    |m, b| m.encode(b).unwrap(),
                    |b| PathCheck::decode(b).unwrap(),
                );
            }
        }
        3 => {
            if let Ok(send) = decode_relay_send(rest) {
                let mut head = [0u8; 14];
                send.header.encode(&mut head).unwrap();
                assert_eq!(head, rest[..14]);
                assert_eq!(send.inner.len() + 30, rest.len());
            }
            if let Ok(deliver) = decode_relay_deliver(rest) {
                assert_eq!(deliver.inner.len() + 6, rest.len());
                if let Ok(inbound) = RelayClient::new(B).unwrap(rest) {
                    assert_eq!(inbound.from, deliver.from);
                }
            }
        }
        4 => relay(rest, false),
        _ => relay(rest, true),
    }
});
