//! Single chunks and acks: writes at offsets, limits, ranges, pacing, fills, probes.

use super::*;

#[test]
fn chunks_become_writes_at_their_offsets_once() {
    let (mut b, key) = receiver(250);
    let d = [1u8; 100];
    let w = b.handle_packet(Instant::ZERO, A, &chunk(1, &d)).unwrap();
    assert_eq!(
        (w.key, w.offset, w.data.len(), w.contiguous),
        (key, 100, 100, 0)
    );
    assert!(
        b.handle_packet(Instant::ZERO, A, &chunk(1, &d)).is_none(),
        "duplicate ignored"
    );
    let w = b.handle_packet(Instant::ZERO, A, &chunk(0, &d)).unwrap();
    assert_eq!((w.offset, w.contiguous), (0, 200));
    let w = b
        .handle_packet(Instant::ZERO, A, &chunk(2, &d[..50]))
        .unwrap();
    assert_eq!((w.offset, w.contiguous), (200, 250));
    assert_eq!(b.poll_event(), Some(Event::Complete { key }));
}

#[test]
fn a_chunk_past_the_declared_size_is_a_protocol_error() {
    for (index, len) in [(3u32, 10usize), (2, 51), (1, 99)] {
        let (mut b, key) = receiver(250);
        let d = [0u8; 100];
        assert!(b
            .handle_packet(Instant::ZERO, A, &chunk(index, &d[..len]))
            .is_none());
        let reason = FailReason::Cancelled(CancelReason::Protocol);
        assert_eq!(b.poll_event(), Some(Event::Failed { key, reason }));
        let mut buf = [0u8; MAX_DATAGRAM];
        let t = b
            .poll_control(Instant::ZERO, B, &mut buf)
            .expect("a cancel");
        assert_eq!(
            decode_packet(&buf[..t.len]).unwrap().body,
            Body::FileCancel {
                transfer: TransferId(3),
                reason: CancelReason::Protocol
            }
        );
    }
}

#[test]
fn acks_report_recent_ranges_and_the_flow_limit() {
    let (mut b, _) = receiver(100 * 1000);
    let d = [0u8; 100];
    for i in [0u32, 2, 3, 7] {
        let _ = b.handle_packet(Instant::ZERO, A, &chunk(i, &d));
    }
    b.handle_timeout(Instant::from_millis(1000));
    let ack = acks(&mut b).pop().expect("delayed ack");
    assert_eq!(ack.cumulative, 1);
    assert_eq!(ack.limit, 1 + 64, "window of the receiver above cumulative");
    assert_eq!(
        ack.ranges[0],
        ChunkRange { start: 7, end: 8 },
        "most recent first"
    );
    assert!(ack.ranges.contains(&ChunkRange { start: 2, end: 4 }));
    // Beyond the flow limit: ignored.
    assert!(b.handle_packet(Instant::ZERO, A, &chunk(65, &d)).is_none());
}

#[test]
fn the_sender_respects_the_receivers_limit() {
    let data = file(200 * 1136);
    let (mut a, key) = accepted_sender(1, data.len() as u64, hash(&data));
    let mut buf = [0u8; MAX_DATAGRAM];
    let _ = a.handle_packet(Instant::ZERO, B, &plain_ack(key, 0, 40));
    let mut sent = Vec::new();
    let mut t = Instant::ZERO;
    for _ in 0..100 {
        t += Duration::from_millis(1);
        while let Some(tx) = a.poll_chunk(t, A, &mut buf, &mut Bytes(&data)) {
            if let Body::FileChunk(c) = decode_packet(&buf[..tx.len]).unwrap().body {
                sent.push(c.index);
            }
        }
        let cumulative = sent.len() as u32;
        let _ = a.handle_packet(t, B, &plain_ack(key, cumulative, 40));
    }
    assert!(
        sent.contains(&39) && sent.iter().all(|&i| i < 40),
        "{sent:?}"
    );
}

#[test]
fn pacing_spreads_chunks_and_says_when() {
    let data = file(1000 * 1136);
    let (mut a, key) = accepted_sender(1, data.len() as u64, hash(&data));
    let mut buf = [0u8; MAX_DATAGRAM];
    let _ = a.handle_packet(Instant::ZERO, B, &plain_ack(key, 0, 64));
    let mut burst = 0;
    while a
        .poll_chunk(Instant::ZERO, A, &mut buf, &mut Bytes(&data))
        .is_some()
    {
        burst += 1;
    }
    assert!((1..=32).contains(&burst), "initial burst {burst}");
    let next = a.poll_timeout().expect("a pacing deadline");
    assert!(next > Instant::ZERO);
}

#[test]
fn a_failing_source_cancels_with_read_failed() {
    struct Broken;
    impl ChunkSource for Broken {
        fn read(&mut self, _: TransferKey, _: u64, _: &mut [u8]) -> Result<(), ReadError> {
            Err(ReadError)
        }
    }
    let (mut a, key) = accepted_sender(1, 10, [0; 32]);
    let mut buf = [0u8; MAX_DATAGRAM];
    let _ = a.handle_packet(Instant::ZERO, B, &plain_ack(key, 0, 1));
    assert!(a
        .poll_chunk(Instant::ZERO, A, &mut buf, &mut Broken)
        .is_none());
    let t = a.poll_control(Instant::ZERO, A, &mut buf).expect("cancel");
    assert_eq!(
        decode_packet(&buf[..t.len]).unwrap().body,
        Body::FileCancel {
            transfer: key.id,
            reason: CancelReason::ReadFailed
        }
    );
    let _ = a.poll_event();
    let reason = FailReason::Cancelled(CancelReason::ReadFailed);
    assert_eq!(a.poll_event(), Some(Event::Failed { key, reason }));
}

#[test]
fn encoded_chunks_fit_a_datagram() {
    let data = [0u8; 1136];
    let body = Body::FileChunk(FileChunk {
        transfer: TransferId(u32::MAX),
        index: u32::MAX,
        data: &data,
    });
    let mut buf = [0u8; 2048];
    let n = encode_packet(&Packet::new(PeerId(u32::MAX), body), &mut buf).unwrap();
    assert!(n <= MAX_DATAGRAM);
}

#[test]
fn a_fill_lands_exactly_where_the_chunk_data_is_encoded() {
    let data = file(3 * 1136 + 100);
    let (mut a, _) = accepted_sender(77, data.len() as u64, hash(&data));
    let mut buf = [0u8; MAX_DATAGRAM];
    let mut seen = 0;
    while let Some((t, fill)) = a.poll_chunk_fill(Instant::ZERO, A, &mut buf) {
        let off = fill.offset as usize;
        buf[fill.at..fill.at + fill.len].copy_from_slice(&data[off..off + fill.len]);
        let Body::FileChunk(c) = decode_packet(&buf[..t.len]).unwrap().body else {
            panic!("not a chunk");
        };
        assert_eq!(c.data, &data[off..off + fill.len]);
        assert_eq!(u64::from(c.index) * 1136, fill.offset);
        seen += 1;
    }
    assert_eq!(seen, 4);
}

#[test]
fn a_one_receive_table_is_small() {
    assert!(core::mem::size_of::<Transfers<0, 1, 32>>() < 1200);
}

#[test]
fn a_burst_with_many_gaps_is_described_by_several_acks() {
    let mut b = Transfers::<1, 1, 256>::new(Config::default(), 1);
    let offer = Body::FileOffer(FileOffer {
        transfer: TransferId(3),
        name: "a.txt",
        size: 100 * 1000,
        chunk_size: 100,
        hash: [0; 32],
    });
    let _ = b.handle_packet(Instant::ZERO, A, &offer);
    let d = [0u8; 100];
    // 40 runs of one chunk with a gap after each, handed over before any ack.
    for i in 0..40u32 {
        let _ = b.handle_packet(Instant::ZERO, A, &chunk(2 * i + 1, &d));
    }
    let mut buf = [0u8; MAX_DATAGRAM];
    let mut acks = Vec::new();
    while let Some(t) = b.poll_control(Instant::ZERO, B, &mut buf) {
        if let Body::FileAck(a) = decode_packet(&buf[..t.len]).unwrap().body {
            acks.push(a);
        }
    }
    assert!(acks.len() >= 2, "{} acks", acks.len());
    let mut covered: Vec<u32> = acks
        .iter()
        .flat_map(|a| a.ranges.iter().flat_map(|r| r.start..r.end))
        .collect();
    covered.sort_unstable();
    covered.dedup();
    let sent: Vec<u32> = (0..40).map(|i| 2 * i + 1).collect();
    assert_eq!(covered, sent, "every chunk reported");
}

#[test]
fn a_probe_timeout_resends_one_chunk_not_the_window() {
    let data = file(20 * 1136);
    let (mut a, _) = accepted_sender(1, data.len() as u64, hash(&data));
    let mut buf = [0u8; MAX_DATAGRAM];
    let mut first = 0;
    while a
        .poll_chunk(Instant::ZERO, A, &mut buf, &mut Bytes(&data))
        .is_some()
    {
        first += 1;
    }
    assert!(first >= 16);
    let pto = Instant::from_millis(1000);
    a.handle_timeout(pto);
    let mut resent = Vec::new();
    while let Some(t) = a.poll_chunk(pto, A, &mut buf, &mut Bytes(&data)) {
        if let Body::FileChunk(c) = decode_packet(&buf[..t.len]).unwrap().body {
            resent.push(c.index);
        }
    }
    let again: Vec<u32> = resent.iter().copied().filter(|&i| i < first).collect();
    assert_eq!(again, [0], "one probe, the oldest chunk: {resent:?}");
}
