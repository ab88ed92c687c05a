//! Sealed packets: tampering, truncation, replays, reordering, unknown epochs, roaming,
//! and rekeying with packets in flight.

use proptest::prelude::*;

use super::*;

#[test]
fn replays_are_refused_and_reordering_within_the_window_is_not() {
    let mut d = Duo::new(11);
    d.establish(true);
    let packets: Vec<Vec<u8>> = (0..50u8).map(|i| d.seal(true, &[i]).unwrap()).collect();
    // Deliver in reverse: all within the window (192 packets for 4 words).
    for (i, p) in packets.iter().enumerate().rev() {
        assert_eq!(d.open(false, d.a.addr, p).unwrap(), [i as u8]);
    }
    for p in &packets {
        assert!(matches!(
            d.open(false, d.a.addr, p),
            Err(OpenError::Replay(ReplayError::Replayed))
        ));
    }
    // Far behind the window: refused without opening.
    let old = d.seal(true, b"old").unwrap();
    for _ in 0..ReplayWindow::<4>::SIZE + 1 {
        let p = d.seal(true, b"new").unwrap();
        d.open(false, d.a.addr, &p).unwrap();
    }
    assert!(matches!(
        d.open(false, d.a.addr, &old),
        Err(OpenError::Replay(ReplayError::TooOld))
    ));
    let stats = d.b.chan.stats();
    assert_eq!(stats.replayed, 51);
    assert_eq!(stats.auth_failed, 0);
}

#[test]
fn unknown_epochs_and_other_senders_are_refused() {
    let mut d = Duo::new(12);
    d.establish(true);
    let mut p = d.seal(true, b"x").unwrap();
    p[7] ^= 0x40; // epoch
    assert_eq!(d.open(false, d.a.addr, &p), Err(OpenError::UnknownEpoch));
    let mut p = d.seal(true, b"x").unwrap();
    p[3] = 7; // sender
    assert_eq!(d.open(false, d.a.addr, &p), Err(OpenError::WrongSender));
    let mut p = d.seal(true, b"x").unwrap();
    p[2] = 1; // flags
    assert!(matches!(
        d.open(false, d.a.addr, &p),
        Err(OpenError::Malformed(_))
    ));
}

#[test]
fn only_the_newest_authenticated_packet_moves_the_peer() {
    let mut d = Duo::new(13);
    d.establish(true);
    d.events(false);
    let first = d.seal(true, b"1").unwrap();
    let second = d.seal(true, b"2").unwrap();
    d.open(false, d.a.addr, &second).unwrap();
    // An older packet (in the window, never seen) arriving from elsewhere: no move.
    d.open(false, addr(50), &first).unwrap();
    assert_eq!(d.b.chan.addr(), d.a.addr);
    // A forged packet from elsewhere: no move.
    let mut forged = d.seal(true, b"3").unwrap();
    let last = forged.len() - 1;
    forged[last] ^= 1;
    assert_eq!(d.open(false, addr(51), &forged), Err(OpenError::AuthFailed));
    assert_eq!(d.b.chan.addr(), d.a.addr);
    // The newest packet from a new address: A moved (a NAT rebinding).
    let newest = d.seal(true, b"4").unwrap();
    d.open(false, addr(52), &newest).unwrap();
    assert_eq!(d.b.chan.addr(), addr(52));
    assert_eq!(d.events(false), [ChannelEvent::Moved { addr: addr(52) }]);
    assert_eq!(d.b.chan.stats().moves, 1);
}

#[test]
fn packets_sealed_before_a_rekey_still_open_after_it() {
    let mut d = Duo::new(14);
    d.establish(true);
    let in_flight: Vec<Vec<u8>> = (0..5u8).map(|i| d.seal(false, &[i]).unwrap()).collect();
    d.advance(REKEY_AFTER_TIME);
    // A's next packet (A initiated the session) starts a new handshake.
    let p = d.seal(true, b"rekey now").unwrap();
    d.open(false, d.a.addr, &p).unwrap();
    let old_epoch = d.a.chan.sessions[d.a.chan.current].epoch;
    d.exchange();
    let new_epoch = d.a.chan.sessions[d.a.chan.current].epoch;
    assert_ne!(old_epoch, new_epoch);
    // B's packets sealed under the old session arrive late: they open on the previous.
    for (i, p) in in_flight.iter().enumerate() {
        assert_eq!(d.open(true, d.b.addr, p).unwrap(), [i as u8]);
    }
    let p = d.seal(false, b"new").unwrap();
    assert_eq!(d.open(true, d.b.addr, &p).unwrap(), b"new");
    assert_eq!(p[7..11], new_epoch.to_le_bytes());
    // The previous session goes when it is REJECT_AFTER_TIME old.
    let late = in_flight[0].clone();
    d.advance(REJECT_AFTER_TIME - REKEY_AFTER_TIME);
    assert!(!d.a.chan.sessions[1 - d.a.chan.current].live);
    assert_eq!(d.open(true, d.b.addr, &late), Err(OpenError::UnknownEpoch));
}

#[test]
fn no_key_seals_after_reject_after_time() {
    let mut d = Duo::new(15);
    d.establish(true);
    // Nobody sends for three minutes: the session dies with nothing to rekey it.
    d.advance(REJECT_AFTER_TIME);
    assert!(!d.a.chan.can_seal(d.now));
    assert_eq!(d.seal(true, b"late"), Err(SealError::NoSession));
    assert_eq!(d.transmits(true).len(), 1, "and a new handshake starts");
}

/// A session pair for the property tests, and one genuine packet.
fn sealed_pair(seed: u64, text: &[u8]) -> (Duo, Vec<u8>) {
    let mut d = Duo::new(seed);
    d.establish(true);
    let p = d.seal(true, text).unwrap();
    (d, p)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn seal_open_round_trip(text in proptest::collection::vec(any::<u8>(), 0..MAX_SEALED_PAYLOAD), seed in 0u64..4) {
        let (mut d, p) = sealed_pair(seed, &text);
        prop_assert_eq!(p.len(), text.len() + SEALED_OVERHEAD);
        prop_assert_eq!(d.open(false, d.a.addr, &p).unwrap(), text);
    }

    #[test]
    fn any_flipped_bit_fails_and_changes_nothing(
        text in proptest::collection::vec(any::<u8>(), 0..64),
        bit in any::<prop::sample::Index>(),
    ) {
        let (mut d, p) = sealed_pair(1, &text);
        let mut bad = p.clone();
        let bit = bit.index(bad.len() * 8);
        bad[bit / 8] ^= 1 << (bit % 8);
        let before = d.b.chan.stats();
        prop_assert!(d.open(false, addr(77), &bad).is_err());
        prop_assert_eq!(d.b.chan.stats().opened, before.opened);
        prop_assert_eq!(d.b.chan.addr(), d.a.addr);
        // The genuine packet still opens: the window did not move.
        prop_assert_eq!(d.open(false, d.a.addr, &p).unwrap(), text);
    }

    #[test]
    fn any_truncation_or_extension_fails(
        text in proptest::collection::vec(any::<u8>(), 0..64),
        cut in any::<prop::sample::Index>(),
        extra in proptest::collection::vec(any::<u8>(), 1..8),
    ) {
        let (mut d, p) = sealed_pair(2, &text);
        let short = &p[..cut.index(p.len())];
        prop_assert!(d.open(false, d.a.addr, short).is_err());
        let mut long = p.clone();
        long.extend_from_slice(&extra);
        prop_assert!(d.open(false, d.a.addr, &long).is_err());
        prop_assert_eq!(d.open(false, d.a.addr, &p).unwrap(), text);
    }
}

#[test]
fn a_raced_copy_moves_the_peer_only_until_the_genuine_copy_arrives() {
    let mut d = Duo::new(16);
    d.establish(true);
    d.events(false);
    let p = d.seal(true, b"genuine").unwrap();
    // The attacker's copy, sent from its own address, arrives first: B follows it.
    assert_eq!(d.open(false, addr(66), &p).unwrap(), b"genuine");
    assert_eq!(d.b.chan.addr(), addr(66));
    // The genuine copy from A's address is a replay, but an authentic one: B goes back.
    assert!(matches!(
        d.open(false, d.a.addr, &p),
        Err(OpenError::Replay(ReplayError::Replayed))
    ));
    assert_eq!(d.b.chan.addr(), d.a.addr);
    assert_eq!(
        d.events(false),
        [ChannelEvent::Moved { addr: d.a.addr }],
        "the last move is what the endpoint must follow"
    );
    // A forged "copy" from A's address moves nothing.
    let q = d.seal(true, b"next").unwrap();
    d.open(false, addr(66), &q).unwrap();
    let mut forged = q.clone();
    let last = forged.len() - 1;
    forged[last] ^= 1;
    assert!(d.open(false, d.a.addr, &forged).is_err());
    assert_eq!(d.b.chan.addr(), addr(66));
}

#[test]
fn a_peer_silent_at_its_new_address_is_sought_at_the_old_one() {
    let mut d = Duo::new(17);
    d.establish(true);
    let p = d.seal(true, b"from elsewhere").unwrap();
    d.open(false, addr(66), &p).unwrap();
    assert_eq!(d.b.chan.addr(), addr(66));
    // B sends into the void at the new address; nothing comes back.
    let _lost = d.seal(false, b"hello?").unwrap();
    d.advance(KEEPALIVE_TIMEOUT + REKEY_TIMEOUT);
    assert_eq!(d.b.chan.addr(), d.a.addr);
    let out = d.transmits(false);
    assert_eq!(datagram_kind(&out[0]), Ok(DatagramKind::Initiation));
}
