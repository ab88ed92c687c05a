//! Any datagram, or any change to a genuine one, handed to a peer that has a session with
//! the genuine sender: decoding and opening never panic; whatever decodes re-encodes to
//! the same bytes; nothing but the genuine bytes opens or gets a handshake response.
//!
//! The first input byte picks the mode: even, the rest is a raw datagram; odd, the rest
//! is XORed onto a genuine datagram (picked by the second byte: sealed packet,
//! initiation, response or cookie reply).
#![no_main]

use std::sync::OnceLock;

use chacha20::rand_core::SeedableRng;
use chacha20::ChaCha20Rng;
use libfuzzer_sys::fuzz_target;
use peerchat_proto::crypto::{Admission, GuardConfig, HandshakeGuard, Keypair, PeerChannel};
use peerchat_proto::time::Instant;
use peerchat_proto::wire::v2_peer::{
    decode_datagram, PeerDatagram, INITIATION_MAC2_OFFSET, SEALED_HEADER_LEN,
};
use peerchat_proto::wire::{PeerId, MAX_DATAGRAM};

type Chan = PeerChannel<4>;

#[derive(Clone)]
struct Peer {
    key: Keypair,
    chan: Chan,
    guard: HandshakeGuard,
}

fn peer(key: Keypair, id: u32, other: &Keypair, other_id: u32) -> Peer {
    let addr = std::net::SocketAddr::from(([192, 0, 2, other_id as u8], 4000));
    Peer {
        chan: Chan::new(key.public(), PeerId(id), PeerId(other_id), *other.public(), addr),
        guard: HandshakeGuard::new(key.public(), GuardConfig::DESKTOP),
        key,
    }
}

/// A and B with a confirmed session, and genuine datagrams from A to B: a sealed packet,
/// A's next initiation, and (from a fresh responder) a response and a cookie reply.
fn setup(rng: &mut ChaCha20Rng) -> (Peer, Vec<Vec<u8>>) {
    let ka = Keypair::from_secret_bytes([1; 32]);
    let kb = Keypair::from_secret_bytes([2; 32]);
    let mut a = peer(ka.clone(), 1, &kb, 2);
    let mut b = peer(kb.clone(), 2, &ka, 1);
    let now = Instant::from_millis(1_000);
    let mut buf = [0u8; MAX_DATAGRAM];
    let mut out = [0u8; MAX_DATAGRAM];
    a.chan.connect(now);
    let t = a.chan.poll_transmit(now, &a.key, rng, &mut buf).unwrap();
    let Admission::Proceed(ticket) = b.guard.admit_initiation(now, a.chan.addr(), &buf[..t.len], rng, &mut out) else {
        unreachable!()
    };
    let n = b.chan.handle_initiation(now, ticket, &b.key, &buf[..t.len], rng, &mut out).unwrap();
    let response = out[..n].to_vec();
    a.chan.handle_response(now, &mut a.guard, &a.key, b.chan.addr(), &response).unwrap();
    let t = a.chan.poll_transmit(now, &a.key, rng, &mut buf).unwrap();
    b.chan.open(now, a.chan.addr(), &mut buf[..t.len]).unwrap();
    buf[SEALED_HEADER_LEN..SEALED_HEADER_LEN + 5].copy_from_slice(b"hello");
    let n = a.chan.seal(now, &mut buf, 5).unwrap();
    let sealed = buf[..n].to_vec();
    // A fresh initiation from A (B's channel would take it: its epoch is newer).
    a.chan.handle_timeout(now + peerchat_proto::time::Duration::from_secs(200));
    a.chan.connect(now);
    let t = a.chan.poll_transmit(now, &a.key, rng, &mut buf).unwrap();
    let initiation = buf[..t.len].to_vec();
    (b, vec![sealed, initiation, response])
}

/// The handshake and the genuine datagrams are made once; each run starts from a copy.
static SETUP: OnceLock<(Peer, Vec<Vec<u8>>)> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let (b, genuine) = SETUP.get_or_init(|| setup(&mut ChaCha20Rng::seed_from_u64(1)));
    let mut b = b.clone();
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    let (datagram, original) = if mode % 2 == 0 {
        (rest.to_vec(), None)
    } else {
        let Some((&pick, mask)) = rest.split_first() else {
            return;
        };
        let original = genuine[usize::from(pick) % genuine.len()].clone();
        let mut d = original.clone();
        for (byte, m) in d.iter_mut().zip(mask) {
            *byte ^= m;
        }
        (d, Some(original))
    };
    if datagram.len() > MAX_DATAGRAM {
        return;
    }
    // Whatever decodes re-encodes to the same bytes.
    let decoded = decode_datagram(&datagram);
    let mut buf = [0u8; MAX_DATAGRAM];
    let reencoded = match &decoded {
        Ok(PeerDatagram::Initiation(m)) => m.encode(&mut buf),
        Ok(PeerDatagram::Response(m)) => m.encode(&mut buf),
        Ok(PeerDatagram::CookieReply(m)) => m.encode(&mut buf),
        Ok(PeerDatagram::Sealed { header, sealed }) => header.encode(&mut buf).map(|n| {
            buf[n..n + sealed.len()].copy_from_slice(sealed);
            n + sealed.len()
        }),
        Err(_) => Ok(0),
    };
    if decoded.is_ok() {
        assert_eq!(&buf[..reencoded.unwrap()], &datagram[..]);
    }
    let now = Instant::from_millis(1_000);
    let src = std::net::SocketAddr::from(([198, 51, 100, 9], 9));
    let genuine_prefix = |len: usize| {
        original.as_ref().is_some_and(|o| o.len() == datagram.len() && o[..len] == datagram[..len])
    };
    match decoded {
        Ok(PeerDatagram::Sealed { .. }) => {
            let mut copy = datagram.clone();
            if let Ok(opened) = b.chan.open(now, src, &mut copy) {
                assert!(genuine_prefix(datagram.len()), "a forged packet opened");
                assert_eq!(opened.payload, b"hello");
            }
        }
        Ok(PeerDatagram::Initiation(_)) => {
            let mut out = [0u8; MAX_DATAGRAM];
            if let Admission::Proceed(t) = b.guard.admit_initiation(now, src, &datagram, &mut rng, &mut out) {
                if b.chan.handle_initiation(now, t, &b.key, &datagram, &mut rng, &mut out).is_ok() {
                    // mac2 is not checked when the guard is not under load.
                    assert!(genuine_prefix(INITIATION_MAC2_OFFSET), "a forged initiation was taken");
                }
            }
        }
        Ok(PeerDatagram::Response(_)) => {
            let r = b.chan.handle_response(now, &mut b.guard, &b.key, src, &datagram);
            assert!(r.is_err(), "no initiation in flight");
        }
        Ok(PeerDatagram::CookieReply(_)) => {
            assert!(b.chan.handle_cookie(now, &datagram).is_err(), "no initiation in flight");
        }
        Err(_) => {}
    }
});
