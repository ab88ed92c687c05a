//! The handshake guard: mac1, budgets, cookies under load.

use super::*;
use crate::crypto::guard::GuardDrop;

#[test]
fn random_bytes_cost_one_mac() {
    let mut d = Duo::new(31);
    let now = d.now;
    let mut junk = [0u8; 138];
    junk[..2].copy_from_slice(&[2, 1]);
    let r =
        d.b.guard
            .admit_initiation(now, addr(9), &junk, &mut d.rng, &mut [0; 128]);
    assert!(matches!(r, Admission::Drop(GuardDrop::BadMac1)));
    let r =
        d.b.guard
            .admit_initiation(now, addr(9), &junk[..100], &mut d.rng, &mut [0; 128]);
    assert!(matches!(r, Admission::Drop(GuardDrop::Malformed)));
    assert!(matches!(
        d.b.guard.admit_response(now, &junk[..74]),
        Admission::Drop(GuardDrop::Malformed)
    ));
    assert_eq!(d.b.guard.stats().admitted, 0);
}

/// A flood of valid-looking initiations (anyone can compute mac1 from B's public key).
fn flood(d: &mut Duo, count: usize, src: SocketAddr) -> (usize, usize) {
    let attacker = Keypair::from_secret_bytes([0x44; 32]);
    let mut forger = Chan::new(
        attacker.public(),
        PeerId(66),
        d.b.id,
        *d.b.key.public(),
        d.b.addr,
    );
    let (mut tickets, mut cookies) = (0, 0);
    let mut buf = [0u8; MAX_DATAGRAM];
    forger.connect(d.now);
    let t = forger
        .poll_transmit(d.now, &attacker, &mut d.rng, &mut buf)
        .unwrap();
    // The guard looks at lengths and MACs only: one initiation sent again and again is
    // as good a flood as fresh ones.
    for _ in 0..count {
        match d
            .b
            .guard
            .admit_initiation(d.now, src, &buf[..t.len], &mut d.rng, &mut [0; 128])
        {
            Admission::Proceed(_) => tickets += 1,
            Admission::SendCookie(_) => cookies += 1,
            Admission::Drop(_) => {}
        }
    }
    (tickets, cookies)
}

#[test]
fn under_a_flood_work_is_bounded_and_a_cookie_gets_the_peer_in() {
    let mut d = Duo::new(32);
    let cfg = GuardConfig::DESKTOP;
    // 10 000 initiations in one instant: only the first half-burst gets tickets.
    let (tickets, cookies) = flood(&mut d, 10_000, addr(200));
    assert_eq!(tickets as u32, cfg.handshake_burst / 2 + 1);
    assert!(cookies > 0);
    // A legitimate initiator, a moment later (the cookie budget refills at 10 per ms),
    // now gets a cookie instead of a response...
    d.now += Duration::from_millis(1);
    d.a.chan.connect(d.now);
    let init = d.transmits(true).remove(0);
    let (answers, _) = d.deliver(false, d.a.addr, &init);
    assert_eq!(answers.len(), 1);
    assert_eq!(datagram_kind(&answers[0]), Ok(DatagramKind::CookieReply));
    d.deliver(true, d.b.addr, &answers[0]);
    assert_eq!(d.a.chan.stats().cookies_received, 1);
    // ... and its retry, with mac2, goes through once the global budget has a unit.
    d.advance(HANDSHAKE_RETRY_INITIAL + HANDSHAKE_JITTER);
    d.exchange();
    assert!(d.a.chan.can_seal(d.now));
    assert!(d.b.chan.can_seal(d.now));
}

#[test]
fn a_sustained_flood_gets_the_configured_rate_at_most() {
    let mut d = Duo::new(33);
    let cfg = GuardConfig::DESKTOP;
    let mut total = 0;
    // 10 seconds, 2000 initiations each from one address that never returns cookies.
    for _ in 0..10 {
        total += flood(&mut d, 2000, addr(201)).0;
        d.now += Duration::from_secs(1);
    }
    assert!(
        total as u32 <= cfg.handshake_burst + 10 * cfg.handshakes_per_sec,
        "{total}"
    );
    // Stats add up.
    let s = d.b.guard.stats();
    assert_eq!(s.admitted as usize, total);
    assert_eq!(
        s.admitted + s.cookies_sent + s.rate_limited + s.bad_mac1 + s.malformed,
        20_000
    );
}

#[test]
fn responses_to_no_initiation_cost_no_budget() {
    let mut d = Duo::new(34);
    d.a.chan.connect(d.now);
    let init = d.transmits(true).remove(0);
    let (answers, _) = d.deliver(false, d.a.addr, &init);
    let genuine = answers[0].clone();
    // The same response under another epoch, with a good mac1 (A's key is public).
    let mut other = genuine.clone();
    other[6] ^= 2;
    let mac1 = crate::crypto::cookie::MacKeys::new(d.a.key.public()).mac1(&other[..58]);
    other[58..74].copy_from_slice(&mac1);
    let now = d.now;
    for _ in 0..1000 {
        let r =
            d.a.chan
                .handle_response(now, &mut d.a.guard, &d.a.key, d.b.addr, &other);
        assert_eq!(r, Err(HandshakeError::Unexpected));
    }
    assert_eq!(d.a.guard.stats().admitted, 0);
    // A forged response for the epoch in flight is refused, and the handshake goes on.
    let mut forged = genuine.clone();
    forged[20] ^= 1;
    let mac1 = crate::crypto::cookie::MacKeys::new(d.a.key.public()).mac1(&forged[..58]);
    forged[58..74].copy_from_slice(&mac1);
    let r =
        d.a.chan
            .handle_response(now, &mut d.a.guard, &d.a.key, d.b.addr, &forged);
    assert_eq!(r, Err(HandshakeError::AuthFailed));
    let r =
        d.a.chan
            .handle_response(now, &mut d.a.guard, &d.a.key, d.b.addr, &genuine);
    assert_eq!(r, Ok(()));
    assert_eq!(d.a.guard.stats().admitted, 2);
}
