//! Timers: retries and their backoff, giving up, keepalives, dead-peer detection and
//! expiry.

use super::*;

#[test]
fn retries_back_off_then_give_up() {
    let mut d = Duo::new(21);
    d.a.chan.connect(d.now);
    let start = d.now;
    let mut sent_at = Vec::new();
    while d.now - start < REKEY_ATTEMPT_TIME + HANDSHAKE_RETRY_MAX.saturating_mul(2) {
        for _ in d.transmits(true) {
            sent_at.push(d.now - start);
        }
        match d.a.chan.poll_timeout() {
            Some(t) => {
                let wait = t - d.now;
                d.advance(wait);
            }
            None => break,
        }
    }
    let gaps: Vec<u64> = sent_at
        .windows(2)
        .map(|w| (w[1] - w[0]).as_millis())
        .collect();
    // 1 s, 2 s, 4 s, then 8 s, each with up to 333 ms of jitter.
    for (gap, base) in gaps.iter().zip([1000u64, 2000, 4000, 8000, 8000]) {
        assert!((base..=base + 333).contains(gap), "{gaps:?}");
    }
    assert!(sent_at.last().unwrap().as_millis() < REKEY_ATTEMPT_TIME.as_millis());
    assert_eq!(d.events(true), [ChannelEvent::HandshakeGaveUp]);
    assert!(
        d.a.chan.poll_timeout().is_none(),
        "it stops until asked again"
    );
    assert_eq!(d.seal(true, b"x"), Err(SealError::NoSession));
    assert_eq!(d.transmits(true).len(), 1);
}

#[test]
fn each_retry_has_a_new_epoch_and_an_old_response_is_ignored() {
    let mut d = Duo::new(22);
    d.a.chan.connect(d.now);
    let first = d.transmits(true).remove(0);
    d.advance(HANDSHAKE_RETRY_INITIAL + HANDSHAKE_JITTER);
    let second = d.transmits(true).remove(0);
    assert_ne!(first[6..10], second[6..10]);
    // The response to the first attempt arrives late: unexpected, nothing changes.
    let (answers, _) = d.deliver(false, d.a.addr, &first);
    d.deliver(true, d.b.addr, &answers[0]);
    assert!(!d.a.chan.can_seal(d.now));
    // The second attempt is newer than B's pending one: B takes it.
    let (answers, _) = d.deliver(false, d.a.addr, &second);
    d.deliver(true, d.b.addr, &answers[0]);
    assert!(d.a.chan.can_seal(d.now));
}

#[test]
fn a_lost_confirmation_is_sent_again() {
    let mut d = Duo::new(23);
    d.a.chan.connect(d.now);
    let init = d.transmits(true).remove(0);
    let (answers, _) = d.deliver(false, d.a.addr, &init);
    d.deliver(true, d.b.addr, &answers[0]);
    let _lost_keepalive = d.transmits(true);
    // B sends nothing new yet; A sends real data instead: that confirms too.
    let p = d.seal(true, b"data").unwrap();
    assert_eq!(d.open(false, d.a.addr, &p).unwrap(), b"data");
    assert!(d.b.chan.can_seal(d.now));
}

#[test]
fn received_data_unanswered_gets_a_keepalive() {
    let mut d = Duo::new(24);
    d.establish(true);
    let p = d.seal(true, b"ping").unwrap();
    d.open(false, d.a.addr, &p).unwrap();
    assert!(d.transmits(false).is_empty());
    d.advance(KEEPALIVE_TIMEOUT);
    let k = d.transmits(false);
    assert_eq!(k.len(), 1);
    assert_eq!(k[0].len(), SEALED_OVERHEAD);
    assert_eq!(d.open(true, d.b.addr, &k[0]).unwrap(), b"");
}

#[test]
fn sent_data_unanswered_starts_a_handshake() {
    let mut d = Duo::new(25);
    d.establish(true);
    let _lost = d.seal(true, b"into the void").unwrap();
    d.advance(KEEPALIVE_TIMEOUT + REKEY_TIMEOUT);
    let out = d.transmits(true);
    assert_eq!(out.len(), 1);
    assert_eq!(datagram_kind(&out[0]), Ok(DatagramKind::Initiation));
}

#[test]
fn every_key_is_wiped_after_expire_after() {
    let mut d = Duo::new(26);
    d.establish(true);
    d.advance(EXPIRE_AFTER);
    assert!(d.a.chan.sessions.iter().all(|s| !s.live && s.is_wiped()));
    assert!(d.a.chan.poll_timeout().is_none());
    // The floor survives: B still refuses A's old epochs.
    assert!(d.b.chan.floor.is_some());
}
