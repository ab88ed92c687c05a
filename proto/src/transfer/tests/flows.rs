//! Whole transfers: delivery, refusals, full tables, ask policy, corruption, silence.

use super::*;

#[test]
fn a_file_arrives_and_both_sides_agree() {
    let data = file(10_000);
    let mut p = Pair::new(&data, Config::default());
    let key = p.send("notes.txt");
    p.run(Duration::from_secs(1));
    assert_eq!(p.stored, data);
    assert!(matches!(
        p.b_events[0],
        Event::Offered {
            name: "notes.txt",
            size: 10_000,
            needs_decision: false,
            ..
        }
    ));
    assert!(p
        .b_events
        .iter()
        .any(|e| matches!(e, Event::Complete { .. })));
    assert!(matches!(
        outcome(&p.b_events),
        Some(Event::Received { size: 10_000, .. })
    ));
    assert_eq!(
        outcome(&p.a_events),
        Some(&Event::Sent { key, size: 10_000 })
    );
    assert_eq!(p.a.active(), 0, "finished sends leave the table");
}

#[test]
fn an_empty_file_is_verified_without_chunks() {
    let mut p = Pair::new(&[], Config::default());
    p.send("empty.txt");
    p.run(Duration::from_secs(1));
    assert!(p.chunks_seen.is_empty());
    assert!(matches!(
        outcome(&p.a_events),
        Some(Event::Sent { size: 0, .. })
    ));
    assert!(matches!(
        outcome(&p.b_events),
        Some(Event::Received { size: 0, .. })
    ));
}

#[test]
fn lost_chunks_are_retransmitted() {
    let data = file(40 * 1136 + 5);
    let mut p = Pair::new(&data, Config::default());
    p.drop_a = |n, b| matches!(b, Body::FileChunk(c) if c.index % 7 == 3) && n < 60;
    p.send("notes.txt");
    p.run(Duration::from_secs(5));
    assert_eq!(p.stored, data);
    assert!(matches!(outcome(&p.a_events), Some(Event::Sent { .. })));
    let resent = p.chunks_seen.iter().filter(|&&i| i % 7 == 3).count();
    assert!(resent > 6, "dropped chunks went again ({resent})");
}

#[test]
fn a_lost_offer_is_repeated() {
    let data = file(100);
    let mut p = Pair::new(&data, Config::default());
    p.drop_a = |n, _| n == 1;
    p.send("notes.txt");
    p.run(Duration::from_secs(5));
    assert!(matches!(outcome(&p.a_events), Some(Event::Sent { .. })));
}

fn refused(name: &str, size: u64, cfg: Config, want: FileRejectReason) {
    let mut b = T::new(cfg, 1);
    let offer = Body::FileOffer(FileOffer {
        transfer: TransferId(9),
        name,
        size,
        chunk_size: 1136,
        hash: [0; 32],
    });
    assert!(b.handle_packet(Instant::ZERO, A, &offer).is_none());
    let mut buf = [0u8; MAX_DATAGRAM];
    let t = b
        .poll_control(Instant::ZERO, B, &mut buf)
        .expect("a refusal");
    let p = decode_packet(&buf[..t.len]).unwrap();
    assert_eq!(
        p.body,
        Body::FileReject {
            transfer: TransferId(9),
            reason: want
        }
    );
    assert!(
        matches!(b.poll_event(), Some(Event::Failed { reason: FailReason::Refused(r), .. }) if r == want)
    );
    assert_eq!(b.active(), 0);
}

#[test]
fn offers_are_checked_before_any_data_moves() {
    refused("x.exe", 1, Config::default(), FileRejectReason::NotTxt);
    refused(
        "../../x.txt",
        1,
        Config::default(),
        FileRejectReason::BadName,
    );
    refused(
        "a\u{1b}[2Jb.txt",
        1,
        Config::default(),
        FileRejectReason::BadName,
    );
    refused("CON.txt", 1, Config::default(), FileRejectReason::BadName);
    let small = Config {
        max_file_size: 10,
        ..Config::default()
    };
    refused("x.txt", 11, small, FileRejectReason::TooLarge);
    let never = Config {
        accept: AcceptPolicy::Never,
        ..Config::default()
    };
    refused("x.txt", 1, never, FileRejectReason::Declined);
}

#[test]
fn a_full_receive_table_answers_busy() {
    let mut b = T::new(Config::default(), 1);
    for id in 0..2 {
        let offer = Body::FileOffer(FileOffer {
            transfer: TransferId(id),
            name: "a.txt",
            size: 1,
            chunk_size: 1136,
            hash: [0; 32],
        });
        let _ = b.handle_packet(Instant::ZERO, A, &offer);
    }
    refused_on(&mut b, FileRejectReason::Busy);
}

fn refused_on(b: &mut T, want: FileRejectReason) {
    let offer = Body::FileOffer(FileOffer {
        transfer: TransferId(7),
        name: "a.txt",
        size: 1,
        chunk_size: 1136,
        hash: [0; 32],
    });
    let _ = b.handle_packet(Instant::ZERO, A, &offer);
    let mut buf = [0u8; MAX_DATAGRAM];
    let mut saw = false;
    while let Some(t) = b.poll_control(Instant::ZERO, B, &mut buf) {
        let p = decode_packet(&buf[..t.len]).unwrap();
        saw |= p.body
            == Body::FileReject {
                transfer: TransferId(7),
                reason: want,
            };
    }
    assert!(saw);
}

#[test]
fn a_full_send_table_is_a_typed_answer() {
    let mut a = T::new(Config::default(), 1);
    a.send(Instant::ZERO, B, "a.txt", 1, [0; 32]).unwrap();
    a.send(Instant::ZERO, B, "b.txt", 1, [0; 32]).unwrap();
    assert_eq!(
        a.send(Instant::ZERO, B, "c.txt", 1, [0; 32]),
        Err(SendError::Full)
    );
    assert!(matches!(
        a.send(Instant::ZERO, B, "c.sh", 1, [0; 32]),
        Err(SendError::BadName(_))
    ));
}

#[test]
fn ask_policy_waits_for_the_host() {
    let data = file(3000);
    let ask = Config {
        accept: AcceptPolicy::Ask,
        ..Config::default()
    };
    let mut p = Pair::new(&data, ask);
    p.send("notes.txt");
    p.run(Duration::from_millis(50));
    let Some(Event::Offered {
        key,
        needs_decision: true,
        ..
    }) = p.b_events.first().cloned()
    else {
        panic!("offer not asked: {:?}", p.b_events);
    };
    assert!(p.chunks_seen.is_empty(), "no data before the decision");
    assert!(p.b.reject(p.now, key));
    p.run(Duration::from_secs(1));
    assert!(matches!(
        outcome(&p.a_events),
        Some(Event::Failed {
            reason: FailReason::Rejected(FileRejectReason::Declined),
            ..
        })
    ));
}

#[test]
fn a_corrupted_file_ends_in_hash_mismatch_on_both_sides() {
    let data = file(5000);
    let mut p = Pair::new(&data, Config::default());
    let h = [7u8; 32];
    p.a.send(p.now, B, "notes.txt", data.len() as u64, h)
        .unwrap();
    p.run(Duration::from_secs(1));
    let mismatch = FailReason::Cancelled(CancelReason::HashMismatch);
    assert!(
        matches!(outcome(&p.b_events), Some(Event::Failed { reason, .. }) if *reason == mismatch)
    );
    assert!(matches!(
        outcome(&p.a_events),
        Some(Event::Failed {
            reason: FailReason::PeerCancelled(CancelReason::HashMismatch),
            ..
        })
    ));
}

#[test]
fn a_silent_receiver_fails_the_sender_within_the_idle_timeout() {
    let data = file(100_000);
    let mut p = Pair::new(&data, Config::default());
    // The receiver vanishes after accepting.
    p.drop_a = |_, b| matches!(b, Body::FileChunk(_));
    let start = p.now;
    p.send("notes.txt");
    p.run(Duration::from_secs(60));
    let Some(Event::Failed { reason, .. }) = outcome(&p.a_events) else {
        panic!("no failure: {:?}", p.a_events);
    };
    assert_eq!(*reason, FailReason::Cancelled(CancelReason::Timeout));
    let idle = Config::default().idle_timeout;
    let took = p.a_done_at.unwrap() - start;
    assert!(took <= idle + Duration::from_secs(1), "{took:?}");
}
