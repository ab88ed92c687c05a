//! The handshake: completion both ways, key confirmation, crossing handshakes, wrong keys,
//! stale epochs and replays.

use super::*;
use crate::crypto::cookie::MacKeys;
use crate::wire::v2_peer::INITIATION_MAC2_OFFSET;

#[test]
fn one_round_trip_then_sealed_both_ways() {
    let mut d = Duo::new(1);
    assert_eq!(d.seal(true, b"early"), Err(SealError::NoSession));
    let init = d.transmits(true);
    assert_eq!(
        init.len(),
        1,
        "sealing without a session starts a handshake"
    );
    assert_eq!(datagram_kind(&init[0]), Ok(DatagramKind::Initiation));
    let (answers, _) = d.deliver(false, d.a.addr, &init[0]);
    assert_eq!(answers.len(), 1);
    // The responder cannot seal before the initiator confirms.
    assert_eq!(d.seal(false, b"too soon"), Err(SealError::NoSession));
    assert!(
        d.transmits(false).is_empty(),
        "a young pending session starts no handshake"
    );
    d.deliver(true, d.b.addr, &answers[0]);
    assert!(d.a.chan.can_seal(d.now));
    let epoch = match d.events(true)[..] {
        [ChannelEvent::Established { epoch }] => epoch,
        ref other => panic!("{other:?}"),
    };
    // The initiator's first packet (here its keepalive) confirms the session.
    let keepalive = d.transmits(true);
    assert_eq!(keepalive.len(), 1);
    assert_eq!(
        d.deliver(false, d.a.addr, &keepalive[0]).1,
        Some(Vec::new())
    );
    assert_eq!(d.events(false), [ChannelEvent::Established { epoch }]);
    let sealed = d.seal(false, b"hello a").unwrap();
    assert_eq!(d.open(true, d.b.addr, &sealed).unwrap(), b"hello a");
    let sealed = d.seal(true, b"hello b").unwrap();
    assert_eq!(d.open(false, d.a.addr, &sealed).unwrap(), b"hello b");
    assert_eq!(d.a.chan.stats().handshakes_completed, 1);
    assert_eq!(d.b.chan.stats().handshakes_completed, 1);
}

#[test]
fn epochs_of_the_two_sides_differ_in_parity() {
    let mut d = Duo::new(2);
    d.establish(true);
    let ea = d.a.chan.sessions[d.a.chan.current].epoch;
    // Nobody talks until the session dies; then B starts the next one.
    d.advance(REJECT_AFTER_TIME);
    d.establish(false);
    let eb = d.b.chan.sessions[d.b.chan.current].epoch;
    assert_ne!(ea & 1, eb & 1);
}

#[test]
fn crossing_handshakes_both_complete() {
    let mut d = Duo::new(3);
    d.a.chan.connect(d.now);
    d.b.chan.connect(d.now);
    let ia = d.transmits(true);
    let ib = d.transmits(false);
    let (ra, _) = d.deliver(false, d.a.addr, &ia[0]);
    let (rb, _) = d.deliver(true, d.b.addr, &ib[0]);
    d.deliver(true, d.b.addr, &ra[0]);
    d.deliver(false, d.a.addr, &rb[0]);
    // Both confirmations cross too: each side confirms the other's session last, so
    // each ends with its own as the previous one.
    let ka = d.transmits(true);
    let kb = d.transmits(false);
    d.deliver(false, d.a.addr, &ka[0]);
    d.deliver(true, d.b.addr, &kb[0]);
    let (ca, cb) = (&d.a.chan, &d.b.chan);
    assert_ne!(ca.sessions[ca.current].epoch, cb.sessions[cb.current].epoch);
    // Each side may now seal with the session the other holds as its previous one, idle
    // spells included, until the next rekey.
    for i in 0..10u64 {
        for (from_a, text) in [(true, b"x" as &[u8]), (false, b"y")] {
            let sealed = d.seal(from_a, text).unwrap();
            let src = if from_a { d.a.addr } else { d.b.addr };
            assert_eq!(d.open(!from_a, src, &sealed).unwrap(), text);
        }
        d.advance(Duration::from_secs(1 + i % 3 * 9));
    }
}

#[test]
fn an_impostor_under_the_peers_id_is_refused_with_its_key() {
    let mut d = Duo::new(4);
    // Mallory knows B's key and claims A's id, but proves her own key.
    let mallory = Keypair::from_secret_bytes([0x33; 32]);
    let mut forged = Chan::new(mallory.public(), d.a.id, d.b.id, *d.b.key.public(), addr(2));
    forged.connect(d.now);
    let mut buf = [0u8; MAX_DATAGRAM];
    let t = forged
        .poll_transmit(d.now, &mallory, &mut d.rng, &mut buf)
        .unwrap();
    let now = d.now;
    let Admission::Proceed(ticket) =
        d.b.guard
            .admit_initiation(now, addr(66), &buf[..t.len], &mut d.rng, &mut [0; 128])
    else {
        panic!("mac1 only needs B's public key");
    };
    let mut out = [0u8; 128];
    let r =
        d.b.chan
            .handle_initiation(now, ticket, &d.b.key, &buf[..t.len], &mut d.rng, &mut out);
    assert_eq!(
        r,
        Err(HandshakeError::KeyMismatch {
            presented: *mallory.public()
        })
    );
    assert!(d.b.chan.pending.is_none());
    // A's real handshake still works.
    d.establish(true);
}

#[test]
fn a_tampered_initiation_or_response_changes_nothing() {
    let mut d = Duo::new(5);
    d.a.chan.connect(d.now);
    let init = d.transmits(true).remove(0);
    // A flipped bit anywhere up to mac2 is caught (by the kind, the length or mac1;
    // mac2 itself only matters under load).
    for byte in 0..INITIATION_MAC2_OFFSET {
        let mut bad = init.clone();
        bad[byte] ^= 1 << (byte % 8);
        let (answers, _) = d.deliver(false, d.a.addr, &bad);
        assert!(answers.is_empty(), "byte {byte}");
    }
    let mut reepoched = init.clone();
    reepoched[6] ^= 2;
    let mac1 = MacKeys::new(d.b.key.public()).mac1(&reepoched[..106]);
    reepoched[106..122].copy_from_slice(&mac1);
    let (answers, _) = d.deliver(false, d.a.addr, &reepoched);
    assert!(answers.is_empty(), "the epoch is in the Noise prologue");
    assert!(d.b.chan.pending.is_none());
    let (answers, _) = d.deliver(false, d.a.addr, &init);
    let response = answers[0].clone();
    let mut bad = response.clone();
    bad[20] ^= 4;
    d.deliver(true, d.b.addr, &bad);
    assert!(
        !d.a.chan.can_seal(d.now),
        "a forged response does not end the handshake"
    );
    d.deliver(true, d.b.addr, &response);
    assert!(d.a.chan.can_seal(d.now));
    // A second copy of the response is unexpected now.
    let before = d.a.chan.stats();
    d.deliver(true, d.b.addr, &response);
    assert_eq!(
        d.a.chan.stats().handshake_failed,
        before.handshake_failed + 1
    );
}

#[test]
fn replayed_initiations_are_stale_until_the_peer_is_quiet() {
    let mut d = Duo::new(6);
    d.a.chan.connect(d.now);
    let old = d.transmits(true).remove(0);
    let (answers, _) = d.deliver(false, d.a.addr, &old);
    d.deliver(true, d.b.addr, &answers[0]);
    d.exchange();
    // Traffic flows; a replay of the old initiation is refused before any DH.
    let sealed = d.seal(true, b"live").unwrap();
    d.open(false, d.a.addr, &sealed).unwrap();
    let now = d.now;
    let Admission::Proceed(ticket) =
        d.b.guard
            .admit_initiation(now, addr(99), &old, &mut d.rng, &mut [0; 128])
    else {
        panic!()
    };
    let mut out = [0u8; 128];
    let r =
        d.b.chan
            .handle_initiation(now, ticket, &d.b.key, &old, &mut d.rng, &mut out);
    assert_eq!(r, Err(HandshakeError::StaleEpoch));
    // After a quiet spell it is taken for a restart: a pending session appears, the
    // current one is untouched, and nothing the attacker holds can confirm it.
    d.advance(REKEY_TIMEOUT);
    let (answers, _) = d.deliver(false, addr(99), &old);
    assert_eq!(answers.len(), 1);
    assert!(d.b.chan.pending.is_some());
    let sealed = d.seal(true, b"still fine").unwrap();
    assert_eq!(d.open(false, d.a.addr, &sealed).unwrap(), b"still fine");
    assert_eq!(
        d.b.chan.addr(),
        d.a.addr,
        "the replay's address was not adopted"
    );
}

#[test]
fn a_restarted_peer_is_accepted_after_a_quiet_spell() {
    let mut d = Duo::new(7);
    d.establish(true);
    let sealed = d.seal(true, b"before").unwrap();
    d.open(false, d.a.addr, &sealed).unwrap();
    // A restarts: same id and key, a fresh channel (whose first epoch is random).
    let mut fresh = Chan::new(
        d.a.key.public(),
        d.a.id,
        d.b.id,
        *d.b.key.public(),
        d.b.addr,
    );
    fresh.next_epoch = Some(d.a.chan.parity); // the lowest epoch of its parity
    d.a.chan = fresh;
    d.a.chan.connect(d.now);
    let init = d.transmits(true).remove(0);
    let (answers, _) = d.deliver(false, d.a.addr, &init);
    assert!(answers.is_empty(), "B heard A a moment ago: stale");
    d.advance(REKEY_TIMEOUT);
    d.a.chan.connect(d.now);
    d.exchange();
    let sealed = d.seal(true, b"after").unwrap();
    assert_eq!(d.open(false, d.a.addr, &sealed).unwrap(), b"after");
    let sealed = d.seal(false, b"back").unwrap();
    assert_eq!(d.open(true, d.b.addr, &sealed).unwrap(), b"back");
}

#[test]
fn wrong_parity_and_wrong_sender_are_refused() {
    let mut d = Duo::new(8);
    d.a.chan.connect(d.now);
    let init = d.transmits(true).remove(0);
    // B's own parity in A's initiation: refused (mac1 recomputed so the guard passes).
    let mut bad = init.clone();
    bad[6] ^= 1;
    let mac1 = MacKeys::new(d.b.key.public()).mac1(&bad[..106]);
    bad[106..122].copy_from_slice(&mac1);
    let now = d.now;
    let mut out = [0u8; 128];
    let Admission::Proceed(t) =
        d.b.guard
            .admit_initiation(now, d.a.addr, &bad, &mut d.rng, &mut out)
    else {
        panic!()
    };
    let r =
        d.b.chan
            .handle_initiation(now, t, &d.b.key, &bad, &mut d.rng, &mut out);
    assert_eq!(r, Err(HandshakeError::WrongParity));
    let mut other = init.clone();
    other[2] = 9;
    let mac1 = MacKeys::new(d.b.key.public()).mac1(&other[..106]);
    other[106..122].copy_from_slice(&mac1);
    let Admission::Proceed(t) =
        d.b.guard
            .admit_initiation(now, d.a.addr, &other, &mut d.rng, &mut out)
    else {
        panic!()
    };
    let r =
        d.b.chan
            .handle_initiation(now, t, &d.b.key, &other, &mut d.rng, &mut out);
    assert_eq!(r, Err(HandshakeError::WrongSender));
}

#[test]
fn an_older_attempt_never_replaces_a_newer_pending_session() {
    let mut d = Duo::new(9);
    d.establish(true);
    // A rekeys: its first attempt is lost, its retry (a higher epoch) reaches B, and A
    // completes; A's confirmations are lost.
    d.advance(REKEY_AFTER_TIME);
    let _ = d.seal(true, b"rekey").unwrap();
    let first = d.transmits(true).remove(0);
    d.advance(HANDSHAKE_RETRY_INITIAL + HANDSHAKE_JITTER);
    let retry = d.transmits(true).remove(0);
    let (answers, _) = d.deliver(false, d.a.addr, &retry);
    d.deliver(true, d.b.addr, &answers[0]);
    let _lost = d.transmits(true);
    // Well after, while the link is quiet, the first attempt arrives (delayed or
    // replayed): B keeps the newer pending session.
    d.now += REKEY_TIMEOUT.saturating_mul(2);
    let (answers, _) = d.deliver(false, d.a.addr, &first);
    assert!(answers.is_empty());
    // So A's next packet, under the session it completed, confirms it at B.
    let p = d.seal(true, b"on the new session").unwrap();
    assert_eq!(d.open(false, d.a.addr, &p).unwrap(), b"on the new session");
}
