//! Unit tests of the transfer table, driven over a perfect in-memory link with a filter.

extern crate std;

use std::vec;
use std::vec::Vec;

use super::*;
use crate::time::{Duration, Instant};
use crate::wire::{
    decode_packet, encode_packet, Body, CancelReason, ChunkRange, FileAck, FileChunk, FileOffer,
    FileRejectReason, Packet, PeerId, TransferId, MAX_DATAGRAM,
};

type T = Transfers<2, 2, 64>;

const A: PeerId = PeerId(1);
const B: PeerId = PeerId(2);

struct Bytes<'a>(&'a [u8]);

impl ChunkSource for Bytes<'_> {
    fn read(&mut self, _: TransferKey, offset: u64, buf: &mut [u8]) -> Result<(), ReadError> {
        let start = usize::try_from(offset).map_err(|_| ReadError)?;
        let src = self.0.get(start..start + buf.len()).ok_or(ReadError)?;
        buf.copy_from_slice(src);
        Ok(())
    }
}

fn hash(data: &[u8]) -> [u8; 32] {
    *blake3::hash(data).as_bytes()
}

/// Two nodes; `a` sends `file`, `b` stores it.
struct Pair<'f> {
    a: T,
    b: T,
    file: &'f [u8],
    stored: Vec<u8>,
    now: Instant,
    a_events: Vec<Event<'static>>,
    b_events: Vec<Event<'static>>,
    /// Datagrams from `a` to `b` (index of transmission) that are dropped.
    drop_a: fn(usize, &Body<'_>) -> bool,
    sent_a: usize,
    chunks_seen: Vec<u32>,
    /// When `a` learnt its outcome.
    a_done_at: Option<Instant>,
}

impl<'f> Pair<'f> {
    fn new(file: &'f [u8], cfg_b: Config) -> Self {
        Pair {
            a: T::new(Config::default(), 100),
            b: T::new(cfg_b, 500),
            file,
            stored: vec![0; file.len()],
            now: Instant::from_millis(1),
            a_events: Vec::new(),
            b_events: Vec::new(),
            drop_a: |_, _| false,
            sent_a: 0,
            chunks_seen: Vec::new(),
            a_done_at: None,
        }
    }

    fn send(&mut self, name: &str) -> TransferKey {
        let h = hash(self.file);
        self.a
            .send(self.now, B, name, self.file.len() as u64, h)
            .unwrap()
    }

    /// Moves every datagram both ways until both sides are quiet; returns whether anything moved.
    fn pump(&mut self) -> bool {
        let mut moved = false;
        let mut buf = [0u8; MAX_DATAGRAM];
        loop {
            let mut any = false;
            while let Some(t) = self.a.poll_control(self.now, A, &mut buf) {
                self.deliver_to_b(&buf[..t.len]);
                any = true;
            }
            let mut src = Bytes(self.file);
            while let Some(t) = self.a.poll_chunk(self.now, A, &mut buf, &mut src) {
                self.deliver_to_b(&buf[..t.len]);
                any = true;
            }
            while let Some(t) = self.b.poll_control(self.now, B, &mut buf) {
                let p = decode_packet(&buf[..t.len]).unwrap();
                let _ = self.a.handle_packet(self.now, B, &p.body);
                any = true;
            }
            self.drain_events();
            if !any {
                return moved;
            }
            moved = true;
        }
    }

    fn deliver_to_b(&mut self, bytes: &[u8]) {
        let p = decode_packet(bytes).unwrap();
        self.sent_a += 1;
        if let Body::FileChunk(c) = &p.body {
            self.chunks_seen.push(c.index);
        }
        if (self.drop_a)(self.sent_a, &p.body) {
            return;
        }
        if let Some(w) = self.b.handle_packet(self.now, A, &p.body) {
            let at = w.offset as usize;
            self.stored[at..at + w.data.len()].copy_from_slice(w.data);
        }
    }

    fn drain_events(&mut self) {
        while let Some(e) = self.a.poll_event().map(keep) {
            if matches!(e, Event::Sent { .. } | Event::Failed { .. }) {
                self.a_done_at.get_or_insert(self.now);
            }
            self.a_events.push(e);
        }
        while let Some(e) = self.b.poll_event().map(keep) {
            if let Event::Complete { key } = e {
                let h = hash(&self.stored);
                self.b.handle_hash(self.now, key, &h);
            }
            self.b_events.push(e);
        }
    }

    /// Runs until both sides are idle and no timer is due within `limit`.
    fn run(&mut self, limit: Duration) {
        let end = self.now + limit;
        loop {
            self.pump();
            let next = [self.a.poll_timeout(), self.b.poll_timeout()]
                .into_iter()
                .flatten()
                .min();
            match next {
                Some(t) if t <= end => {
                    self.now = self.now.max(t);
                    self.a.handle_timeout(self.now);
                    self.b.handle_timeout(self.now);
                }
                _ => return,
            }
        }
    }
}

/// A sender whose offer of `size` bytes went out and was accepted by `B`.
fn accepted_sender(seed: u32, size: u64, hash: [u8; 32]) -> (T, TransferKey) {
    let mut a = T::new(Config::default(), seed);
    let key = a.send(Instant::ZERO, B, "a.txt", size, hash).unwrap();
    let mut buf = [0u8; MAX_DATAGRAM];
    while a.poll_control(Instant::ZERO, A, &mut buf).is_some() {}
    let _ = a.handle_packet(Instant::ZERO, B, &Body::FileAccept { transfer: key.id });
    (a, key)
}

/// An ack of every chunk below `cumulative` that allows chunks below `limit`.
fn plain_ack(key: TransferKey, cumulative: u32, limit: u32) -> Body<'static> {
    Body::FileAck(FileAck {
        transfer: key.id,
        cumulative,
        limit,
        ranges: heapless::Vec::new(),
    })
}

fn file(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 % 251) as u8).collect()
}

/// The event with its name leaked, so tests can keep it.
fn keep(e: Event<'_>) -> Event<'static> {
    match e {
        Event::Offered {
            key,
            name,
            size,
            needs_decision,
        } => Event::Offered {
            key,
            name: std::string::String::from(name).leak(),
            size,
            needs_decision,
        },
        Event::Accepted { key } => Event::Accepted { key },
        Event::Complete { key } => Event::Complete { key },
        Event::Received { key, size } => Event::Received { key, size },
        Event::Sent { key, size } => Event::Sent { key, size },
        Event::Failed { key, reason } => Event::Failed { key, reason },
    }
}

fn outcome<'e>(events: &'e [Event<'static>]) -> Option<&'e Event<'static>> {
    events.iter().find(|e| {
        matches!(
            e,
            Event::Sent { .. } | Event::Received { .. } | Event::Failed { .. }
        )
    })
}

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

/// A receiver fed by hand: the offer is accepted, then the test sends chunks.
fn receiver(size: u64) -> (T, TransferKey) {
    let mut b = T::new(Config::default(), 1);
    let offer = Body::FileOffer(FileOffer {
        transfer: TransferId(3),
        name: "a.txt",
        size,
        chunk_size: 100,
        hash: [0; 32],
    });
    let _ = b.handle_packet(Instant::ZERO, A, &offer);
    let Some(Event::Offered { key, .. }) = b.poll_event() else {
        panic!("no offer event");
    };
    (b, key)
}

fn chunk(index: u32, data: &[u8]) -> Body<'_> {
    Body::FileChunk(FileChunk {
        transfer: TransferId(3),
        index,
        data,
    })
}

fn acks(b: &mut T) -> Vec<FileAck> {
    let mut buf = [0u8; MAX_DATAGRAM];
    let mut out = Vec::new();
    while let Some(t) = b.poll_control(Instant::ZERO, B, &mut buf) {
        if let Body::FileAck(a) = decode_packet(&buf[..t.len]).unwrap().body {
            out.push(a);
        }
    }
    out
}

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
