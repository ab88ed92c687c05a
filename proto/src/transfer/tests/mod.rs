//! Unit tests of the transfer table, driven over a perfect in-memory link with a filter.
//! This file is the harness; `flows` covers whole transfers, `chunks` the sender's and
//! receiver's handling of single chunks, acks, limits and pacing.

extern crate std;

use std::vec;
use std::vec::Vec;

mod chunks;
mod flows;
mod placing;

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
    /// `b`'s host cannot put a verified file in place.
    place_fails: bool,
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
            place_fails: false,
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
            match e {
                Event::Complete { key } => {
                    let h = hash(&self.stored);
                    self.b.handle_hash(self.now, key, &h);
                }
                Event::Received { key, .. } if self.place_fails => {
                    self.b.cancel(self.now, key, CancelReason::WriteFailed);
                }
                Event::Received { key, .. } => self.b.handle_stored(self.now, key),
                _ => {}
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
