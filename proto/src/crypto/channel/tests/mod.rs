//! Unit tests of the peer channel: a pair of channels (`Duo`) wired by hand, each
//! datagram passed explicitly, so every test says exactly what the network did.

extern crate std;

mod guard;
mod handshake;
mod timers;
mod transport;

use core::net::SocketAddr;
use std::vec::Vec;

use chacha20::rand_core::SeedableRng;
use chacha20::ChaCha20Rng;

use super::*;
use crate::crypto::guard::{Admission, GuardConfig, HandshakeGuard};
use crate::crypto::replay::{ReplayError, ReplayWindow};
use crate::wire::v2_peer::{
    datagram_kind, DatagramKind, MAX_SEALED_PAYLOAD, SEALED_HEADER_LEN, SEALED_OVERHEAD,
};
use crate::wire::MAX_DATAGRAM;

/// Small windows keep the tests' channels small.
type Chan = PeerChannel<4>;

pub(super) struct Side {
    pub(super) key: Keypair,
    pub(super) id: PeerId,
    pub(super) addr: SocketAddr,
    pub(super) chan: Chan,
    pub(super) guard: HandshakeGuard,
}

pub(super) struct Duo {
    pub(super) a: Side,
    pub(super) b: Side,
    pub(super) rng: ChaCha20Rng,
    pub(super) now: Instant,
}

pub(super) fn addr(last: u8) -> SocketAddr {
    SocketAddr::from(([192, 0, 2, last], 4000))
}

impl Duo {
    pub(super) fn new(seed: u64) -> Self {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let ka = Keypair::generate(&mut rng);
        let kb = Keypair::generate(&mut rng);
        let side = |key: Keypair, id, addr, peer: &Keypair, peer_id, peer_addr| Side {
            chan: Chan::new(
                key.public(),
                PeerId(id),
                PeerId(peer_id),
                *peer.public(),
                peer_addr,
            ),
            guard: {
                let mut g = HandshakeGuard::new(key.public(), GuardConfig::DESKTOP);
                g.set_local_id(PeerId(id));
                g
            },
            key,
            id: PeerId(id),
            addr,
        };
        let a = side(ka.clone(), 1, addr(1), &kb, 2, addr(2));
        let b = side(kb, 2, addr(2), &ka, 1, addr(1));
        Duo {
            a,
            b,
            rng,
            now: Instant::from_millis(1_000_000),
        }
    }

    pub(super) fn side(&mut self, a: bool) -> (&mut Side, &mut ChaCha20Rng) {
        if a {
            (&mut self.a, &mut self.rng)
        } else {
            (&mut self.b, &mut self.rng)
        }
    }

    pub(super) fn advance(&mut self, d: Duration) {
        self.now += d;
        let now = self.now;
        self.a.chan.handle_timeout(now);
        self.b.chan.handle_timeout(now);
    }

    /// Everything side `a` (or b) wants to send now.
    pub(super) fn transmits(&mut self, a: bool) -> Vec<Vec<u8>> {
        let now = self.now;
        let (side, rng) = self.side(a);
        let mut out = Vec::new();
        let mut buf = [0u8; MAX_DATAGRAM];
        while let Some(t) = side.chan.poll_transmit(now, &side.key, rng, &mut buf) {
            assert_eq!(t.dst, side.chan.addr());
            out.push(buf[..t.len].to_vec());
        }
        out
    }

    /// Hands `datagram` to side `to` as if it came from `src`, through the guard; returns
    /// the datagrams the receiver answers with at once (a response or a cookie), and the
    /// plaintext if it was a sealed packet that opened.
    pub(super) fn deliver(
        &mut self,
        to_a: bool,
        src: SocketAddr,
        datagram: &[u8],
    ) -> (Vec<Vec<u8>>, Option<Vec<u8>>) {
        let now = self.now;
        let (side, rng) = self.side(to_a);
        let mut reply = [0u8; MAX_DATAGRAM];
        let mut answers = Vec::new();
        match datagram_kind(datagram) {
            Ok(DatagramKind::Initiation) => {
                match side
                    .guard
                    .admit_initiation(now, src, datagram, rng, &mut reply)
                {
                    Admission::Proceed(ticket) => {
                        let r = side
                            .chan
                            .handle_initiation(now, ticket, &side.key, datagram, rng, &mut reply);
                        if let Ok(n) = r {
                            answers.push(reply[..n].to_vec());
                        }
                    }
                    Admission::SendCookie(n) => answers.push(reply[..n].to_vec()),
                    Admission::Drop(_) => {}
                }
            }
            Ok(DatagramKind::Response) => {
                let _ = side
                    .chan
                    .handle_response(now, &mut side.guard, &side.key, src, datagram);
            }
            Ok(DatagramKind::CookieReply) => {
                let _ = side.chan.handle_cookie(now, datagram);
            }
            Ok(DatagramKind::Sealed) => {
                let mut copy = datagram.to_vec();
                if let Ok(opened) = side.chan.open(now, src, &mut copy) {
                    return (answers, Some(opened.payload.to_vec()));
                }
            }
            Err(_) => {}
        }
        (answers, None)
    }

    /// Runs a handshake started by `a_starts` to completion over a perfect network,
    /// including the initiator's confirming keepalive.
    pub(super) fn establish(&mut self, a_starts: bool) {
        let now = self.now;
        let initiator = if a_starts { &mut self.a } else { &mut self.b };
        initiator.chan.connect(now);
        self.exchange();
        assert!(self.a.chan.can_seal(self.now) && self.b.chan.can_seal(self.now));
    }

    /// Delivers everything both sides send, back and forth, until both are silent.
    pub(super) fn exchange(&mut self) {
        for _ in 0..10 {
            let mut quiet = true;
            for from_a in [true, false] {
                let src = if from_a { self.a.addr } else { self.b.addr };
                let mut queue = self.transmits(from_a);
                while let Some(d) = queue.pop() {
                    quiet = false;
                    let (answers, _) = self.deliver(!from_a, src, &d);
                    let back = if from_a { self.b.addr } else { self.a.addr };
                    for answer in answers {
                        let _ = self.deliver(from_a, back, &answer);
                    }
                }
            }
            if quiet {
                return;
            }
        }
        panic!("the channels never went quiet");
    }

    /// Seals `text` on side `a` (or b).
    pub(super) fn seal(&mut self, a: bool, text: &[u8]) -> Result<Vec<u8>, SealError> {
        let now = self.now;
        let (side, _) = self.side(a);
        let mut buf = [0u8; MAX_DATAGRAM];
        buf[SEALED_HEADER_LEN..SEALED_HEADER_LEN + text.len()].copy_from_slice(text);
        let n = side.chan.seal(now, &mut buf, text.len())?;
        Ok(buf[..n].to_vec())
    }

    /// Opens `datagram` on side `a` (or b) from `src`.
    pub(super) fn open(
        &mut self,
        a: bool,
        src: SocketAddr,
        datagram: &[u8],
    ) -> Result<Vec<u8>, OpenError> {
        let now = self.now;
        let (side, _) = self.side(a);
        let mut copy = datagram.to_vec();
        side.chan
            .open(now, src, &mut copy)
            .map(|o| o.payload.to_vec())
    }

    pub(super) fn events(&mut self, a: bool) -> Vec<ChannelEvent> {
        let (side, _) = self.side(a);
        core::iter::from_fn(|| side.chan.poll_event()).collect()
    }
}

#[test]
fn a_full_packet_fits_a_datagram() {
    let mut d = Duo::new(1);
    d.establish(true);
    let text = [0x5a; MAX_SEALED_PAYLOAD];
    let sealed = d.seal(true, &text).unwrap();
    assert_eq!(sealed.len(), MAX_DATAGRAM);
    assert_eq!(d.open(false, d.a.addr, &sealed).unwrap(), text);
    assert_eq!(
        d.seal(true, &[0; MAX_SEALED_PAYLOAD + 1]),
        Err(SealError::TooLong)
    );
}
