//! The directory's side of paths: grants, punch coordination, and the relay's rules
//! (only logged-in clients, only to peers named, a budget each, nothing forged or
//! replayed forwarded, the return address following the client).

extern crate std;

use core::net::SocketAddr;
use std::vec;
use std::vec::Vec;

use super::*;
use crate::path::RelayClient;
use crate::time::Duration;
use crate::wire::v2_relay::{decode_relay_deliver, MAX_RELAY_DATAGRAM};

const A: PeerId = PeerId(1);
const B: PeerId = PeerId(2);
const C: PeerId = PeerId(3);

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

struct Relay {
    server: PathServer<Vec<PathSlot>>,
    clients: Vec<RelayClient>,
    now: Instant,
}

/// A server with room for 8 and clients A, B, C logged in (A and B probed).
fn relay(config: RelayConfig) -> Relay {
    let mut server = PathServer::new(vec![PathSlot::EMPTY; 8], config);
    let now = Instant::from_millis(10_000);
    let mut clients = Vec::new();
    for (id, probed) in [
        (A, Some("198.51.100.1:4000")),
        (B, Some("203.0.113.2:5000")),
        (C, None),
    ] {
        let key = [id.0 as u8; 32];
        let grant = server.admit(now, id, key, probed.map(addr)).unwrap();
        let mut client = RelayClient::new(id);
        assert_eq!(client.handle_grant(&grant), config.enabled());
        clients.push(client);
    }
    Relay {
        server,
        clients,
        now,
    }
}

impl Relay {
    fn punch(&mut self, from: PeerId, to: PeerId) {
        self.server
            .handle_punch_request(self.now, from, None, to, None)
            .unwrap();
    }

    /// Client `from` relays `inner` (a sealed-looking datagram) to `to` from `src`.
    fn send(
        &mut self,
        from: PeerId,
        to: PeerId,
        src: &str,
        len: usize,
    ) -> Result<Option<(SocketAddr, Vec<u8>)>, RelayDrop> {
        let datagram = self.wrapped(from, to, len);
        self.raw(src, &datagram)
    }

    fn wrapped(&mut self, from: PeerId, to: PeerId, len: usize) -> Vec<u8> {
        let inner = sealed_from(from, len);
        let mut out = [0u8; MAX_RELAY_DATAGRAM];
        let client = &mut self.clients[from.0 as usize - 1];
        let n = client.wrap(to, &inner, &mut out).unwrap();
        out[..n].to_vec()
    }

    fn raw(
        &mut self,
        src: &str,
        datagram: &[u8],
    ) -> Result<Option<(SocketAddr, Vec<u8>)>, RelayDrop> {
        let mut out = [0u8; MAX_RELAY_DATAGRAM];
        let r = self
            .server
            .handle_datagram(self.now, addr(src), datagram, &mut out)?;
        Ok(r.map(|f| (f.dst, out[..f.len].to_vec())))
    }
}

/// A version-2 sealed packet's shape from `sender`, `len` bytes long.
fn sealed_from(sender: PeerId, len: usize) -> Vec<u8> {
    let mut d = vec![0x5a; len.max(35)];
    d[..3].copy_from_slice(&[2, 4, 0]);
    d[3..7].copy_from_slice(&sender.0.to_le_bytes());
    d
}

#[test]
fn a_grant_carries_the_terms_and_slots_are_checked() {
    let mut server = PathServer::new(vec![PathSlot::EMPTY; 4], RelayConfig::DEFAULT);
    let now = Instant::ZERO;
    let grant = server.admit(now, PeerId(2), [7; 32], None).unwrap();
    assert_eq!(
        grant,
        PathServerMsg::RelayGrant {
            key: [7; 32],
            rate: DEFAULT_RELAY_RATE,
            budget: DEFAULT_RELAY_BUDGET
        }
    );
    // Id 6 names the same slot as id 2 in a table of 4.
    assert_eq!(
        server.admit(now, PeerId(6), [8; 32], None),
        Err(SlotError::Taken)
    );
    assert_eq!(
        server.admit(now, PeerId::SERVER, [8; 32], None),
        Err(SlotError::Taken)
    );
    server.release(PeerId(2));
    assert!(server.admit(now, PeerId(6), [8; 32], None).is_ok());
    assert_eq!(
        server.set_return_addr(PeerId(2), addr("10.0.0.1:1")),
        Err(SlotError::Unknown)
    );
    let mut off = PathServer::new(vec![PathSlot::EMPTY; 4], RelayConfig::OFF);
    let grant = off.admit(now, PeerId(1), [7; 32], None).unwrap();
    let mut client = RelayClient::new(PeerId(1));
    assert!(!client.handle_grant(&grant));
    assert_eq!(
        client.wrap(PeerId(2), &[1], &mut [0u8; 64]),
        Err(crate::path::RelayClientError::Disabled)
    );
}

#[test]
fn a_punch_request_makes_two_notices_with_each_others_candidates() {
    let mut r = relay(RelayConfig::DEFAULT);
    let a_lan = WireAddr::from(addr("10.0.0.1:4000"));
    let b_lan = WireAddr::from(addr("192.168.1.7:5000"));
    r.server.handle_candidates(A, &[a_lan]).unwrap();
    r.server.handle_candidates(B, &[b_lan]).unwrap();
    let a_pub = WireAddr::from(addr("198.51.100.1:4000"));
    let b_pub = WireAddr::from(addr("203.0.113.2:5000"));
    let notices = r
        .server
        .handle_punch_request(r.now, A, Some(a_pub), B, Some(b_pub))
        .unwrap();
    let host = |addr| Candidate {
        kind: CandidateKind::Host,
        addr,
    };
    let reflexive = |addr| Candidate {
        kind: CandidateKind::ServerReflexive,
        addr,
    };
    assert_eq!(
        notices.to_requester,
        PathServerMsg::PunchNotice {
            peer: B,
            candidates: [host(b_lan), reflexive(b_pub)].into_iter().collect()
        }
    );
    assert_eq!(
        notices.to_peer,
        PathServerMsg::PunchNotice {
            peer: A,
            candidates: [host(a_lan), reflexive(a_pub)].into_iter().collect()
        }
    );
    let refused = |peer, reason| Err(PathServerMsg::PunchRefused { peer, reason });
    let now = r.now;
    assert_eq!(
        r.server.handle_punch_request(now, A, None, A, None),
        refused(A, PunchRefusal::Yourself)
    );
    assert_eq!(
        r.server.handle_punch_request(now, A, None, PeerId(7), None),
        refused(PeerId(7), PunchRefusal::Offline)
    );
    // A burst of 8, then 4 a second.
    for _ in 1..PUNCH_REQUEST_BURST {
        assert!(r.server.handle_punch_request(now, A, None, C, None).is_ok());
    }
    assert_eq!(
        r.server.handle_punch_request(now, A, None, C, None),
        refused(C, PunchRefusal::TooSoon)
    );
    let later = now + Duration::from_millis(250);
    assert!(r
        .server
        .handle_punch_request(later, A, None, C, None)
        .is_ok());
    assert_eq!(r.server.stats().punches, 1 + 7 + 1);
}

#[test]
fn the_relay_forwards_between_named_peers_only_and_reads_nothing() {
    let mut r = relay(RelayConfig::DEFAULT);
    // Nobody named anybody yet.
    assert_eq!(
        r.send(A, B, "198.51.100.1:4000", 100),
        Err(RelayDrop::NotNamed)
    );
    r.punch(A, B);
    let (dst, deliver) = r.send(A, B, "198.51.100.1:4000", 100).unwrap().unwrap();
    assert_eq!(dst, addr("203.0.113.2:5000"));
    let d = decode_relay_deliver(&deliver).unwrap();
    assert_eq!((d.from, d.inner), (A, &sealed_from(A, 100)[..]));
    assert_eq!(r.clients[1].unwrap(&deliver).unwrap().inner, d.inner);
    // B may answer: the request named both.
    let (dst, _) = r.send(B, A, "203.0.113.2:5000", 60).unwrap().unwrap();
    assert_eq!(dst, addr("198.51.100.1:4000"));
    // C was named by no one; C has no address yet either.
    assert_eq!(r.send(C, A, "192.0.2.3:1", 60), Err(RelayDrop::NotNamed));
    r.punch(A, C);
    assert_eq!(
        r.send(A, C, "198.51.100.1:4000", 60),
        Err(RelayDrop::NoAddress)
    );
    r.server.release(C);
    assert_eq!(
        r.send(A, C, "198.51.100.1:4000", 60),
        Err(RelayDrop::Offline)
    );
    let s = r.server.stats();
    assert_eq!((s.forwarded, s.dropped), (2, 4));
}

#[test]
fn forged_replayed_or_empty_datagrams_change_nothing() {
    let mut r = relay(RelayConfig::DEFAULT);
    r.punch(A, B);
    let genuine = r.wrapped(A, B, 200);
    let mut forged = genuine.clone();
    forged[40] ^= 1;
    let budget_before = r.server.slot_mut(A).unwrap().bucket.available(r.now);
    assert_eq!(r.raw("192.0.2.66:6666", &forged), Err(RelayDrop::BadMac));
    assert_eq!(
        r.server.slot_mut(A).unwrap().bucket.available(r.now),
        budget_before
    );
    // The genuine one still goes, and moves A's return address to where it came from.
    assert!(r.raw("198.51.100.1:4001", &genuine).unwrap().is_some());
    assert_eq!(r.raw("198.51.100.1:4001", &genuine), Err(RelayDrop::Replay));
    assert_eq!(
        r.server.slot(A).unwrap().return_addr,
        Some(addr("198.51.100.1:4001"))
    );
    // Someone else's key: the MAC fails.
    let mut other = RelayClient::new(A);
    let grant = PathServerMsg::RelayGrant {
        key: [0xee; 32],
        rate: 1,
        budget: 1,
    };
    other.handle_grant(&grant);
    let mut out = [0u8; 128];
    // (A counter A has not used yet: a used one is refused as a replay before the MAC.)
    let mut n = 0;
    for _ in 0..5 {
        n = other.wrap(B, &sealed_from(A, 40), &mut out).unwrap();
    }
    assert_eq!(r.raw("192.0.2.66:6666", &out[..n]), Err(RelayDrop::BadMac));
    // Garbage, an empty datagram for a peer, a registration with something inside.
    assert!(matches!(
        r.raw("192.0.2.66:1", &[2, 5, 1]),
        Err(RelayDrop::Malformed(_))
    ));
    let empty = r.clients[0].wrap(B, &[], &mut out).unwrap();
    assert_eq!(
        r.raw("198.51.100.1:4001", &out[..empty]),
        Err(RelayDrop::Empty)
    );
    let stuffed = r.clients[0].wrap(PeerId::SERVER, &[1], &mut out).unwrap();
    assert_eq!(
        r.raw("198.51.100.1:4001", &out[..stuffed]),
        Err(RelayDrop::Empty)
    );
    assert_eq!(r.server.stats().bad_mac, 2);
    // An unknown sender; a small output buffer.
    r.server.release(A);
    assert_eq!(
        r.raw("198.51.100.1:4001", &genuine),
        Err(RelayDrop::UnknownSender)
    );
}

#[test]
fn a_registration_tells_where_a_client_is_and_only_the_newest_moves_it() {
    let mut r = relay(RelayConfig::DEFAULT);
    r.punch(A, C);
    let mut out = [0u8; 64];
    let first = r.clients[2].registration(&mut out).unwrap();
    let first = out[..first].to_vec();
    let second = r.clients[2].registration(&mut out).unwrap();
    let second = out[..second].to_vec();
    assert_eq!(r.raw("192.0.2.3:7000", &second), Ok(None));
    // The older one arrives late from elsewhere: taken (in the window) but not moving C.
    assert_eq!(r.raw("192.0.2.99:9", &first), Ok(None));
    let (dst, _) = r.send(A, C, "198.51.100.1:4000", 50).unwrap().unwrap();
    assert_eq!(dst, addr("192.0.2.3:7000"));
    assert_eq!(r.server.stats().registrations, 2);
}

#[test]
fn a_client_over_its_budget_is_throttled_and_others_still_flow() {
    // 10 kB/s, bursts of 5 kB.
    let mut r = relay(RelayConfig {
        rate: 10_000,
        budget: 5_000,
    });
    r.punch(A, B);
    r.punch(C, B);
    let mut out = [0u8; 64];
    let n = r.clients[2].registration(&mut out).unwrap();
    let registration = out[..n].to_vec();
    r.raw("192.0.2.3:7000", &registration).unwrap();
    let mut sent = 0;
    let mut throttled = 0;
    // A floods: 1000-byte datagrams every millisecond for a second.
    for ms in 0..1000 {
        r.now = Instant::from_millis(10_000 + ms);
        match r.send(A, B, "198.51.100.1:4000", 1000 - 30) {
            Ok(Some(_)) => sent += 1000,
            Err(RelayDrop::Throttled) => throttled += 1,
            other => panic!("{other:?}"),
        }
        // B's chat to A and C's to B go on through the flood.
        if ms % 100 == 0 {
            assert!(r.send(B, A, "203.0.113.2:5000", 100).unwrap().is_some());
            assert!(r.send(C, B, "192.0.2.3:7000", 100).unwrap().is_some());
        }
    }
    // The burst, then the rate: 5 kB + 10 kB in the second.
    assert!((14_000..=16_000).contains(&sent), "{sent}");
    assert_eq!(r.server.stats().throttled, throttled);
    assert!(throttled > 900);
}

#[test]
fn with_the_relay_off_nothing_is_forwarded() {
    let mut r = relay(RelayConfig::DEFAULT);
    r.punch(A, B);
    let datagram = r.wrapped(A, B, 80);
    r.server.config = RelayConfig::OFF;
    assert_eq!(
        r.raw("198.51.100.1:4000", &datagram),
        Err(RelayDrop::Disabled)
    );
    r.server.config = RelayConfig::DEFAULT;
    let mut small = [0u8; 20];
    assert_eq!(
        r.server
            .handle_datagram(r.now, addr("198.51.100.1:4000"), &datagram, &mut small),
        Err(RelayDrop::BufferTooSmall { needed: 6 + 80 })
    );
}
