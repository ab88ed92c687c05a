//! The end of a receive: `FileDone` goes out only once the host says the verified file
//! is in place; a file that cannot be placed fails on both sides.

use super::*;

/// Every control packet `b` has for its sender now.
fn controls(b: &mut T, now: Instant) -> Vec<Body<'static>> {
    let mut buf = [0u8; MAX_DATAGRAM];
    let mut out = Vec::new();
    while let Some(t) = b.poll_control(now, B, &mut buf) {
        let body = match decode_packet(&buf[..t.len]).unwrap().body {
            Body::FileDone { transfer } => Body::FileDone { transfer },
            Body::FileCancel { transfer, reason } => Body::FileCancel { transfer, reason },
            Body::FileAccept { transfer } => Body::FileAccept { transfer },
            Body::FileAck(ack) => Body::FileAck(ack),
            other => panic!("unexpected {other:?}"),
        };
        out.push(body);
    }
    out
}

fn is_done(body: &Body<'_>) -> bool {
    matches!(body, Body::FileDone { .. })
}

/// A receiver of 150 bytes (hash all zeros) with every chunk in and its hash checked.
fn verified() -> (T, TransferKey) {
    let (mut b, key) = receiver(150);
    let d = [0u8; 100];
    let _ = b.handle_packet(Instant::ZERO, A, &chunk(0, &d));
    let _ = b.handle_packet(Instant::ZERO, A, &chunk(1, &d[..50]));
    assert_eq!(b.poll_event(), Some(Event::Complete { key }));
    b.handle_hash(Instant::ZERO, key, &[0; 32]);
    assert_eq!(b.poll_event(), Some(Event::Received { key, size: 150 }));
    (b, key)
}

#[test]
fn file_done_waits_until_the_file_is_in_place() {
    let (mut b, key) = verified();
    let now = Instant::from_millis(5);
    assert!(
        !controls(&mut b, now).iter().any(is_done),
        "not in place yet"
    );
    // The sender probes with its offer meanwhile: it hears acks, not `FileDone`.
    let offer = Body::FileOffer(FileOffer {
        transfer: TransferId(3),
        name: "a.txt",
        size: 150,
        chunk_size: 100,
        hash: [0; 32],
    });
    let _ = b.handle_packet(now, A, &offer);
    let answers = controls(&mut b, now);
    assert!(answers.iter().any(|a| matches!(a, Body::FileAck(_))));
    assert!(!answers.iter().any(is_done));
    b.handle_stored(now, key);
    assert_eq!(
        controls(&mut b, now),
        [Body::FileDone {
            transfer: TransferId(3)
        }]
    );
    assert_eq!(b.poll_event(), None, "the host knows already");
    b.handle_stored(now, key);
    assert!(controls(&mut b, now).is_empty(), "said once");
}

#[test]
fn a_file_that_cannot_be_placed_fails_on_both_sides() {
    let data = file(5000);
    let mut p = Pair::new(&data, Config::default());
    p.place_fails = true;
    p.send("notes.txt");
    p.run(Duration::from_secs(1));
    assert!(p
        .b_events
        .iter()
        .any(|e| matches!(e, Event::Received { .. })));
    let write_failed = FailReason::Cancelled(CancelReason::WriteFailed);
    assert!(
        matches!(p.b_events.last(), Some(Event::Failed { reason, .. }) if *reason == write_failed),
        "{:?}",
        p.b_events
    );
    assert!(
        matches!(
            outcome(&p.a_events),
            Some(Event::Failed {
                reason: FailReason::PeerCancelled(CancelReason::WriteFailed),
                ..
            })
        ),
        "{:?}",
        p.a_events
    );
    assert_eq!(p.a.active(), 0);
}
