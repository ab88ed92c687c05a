//! One incoming transfer: reassembly bookkeeping, acknowledgements, the verdict.

use heapless::{Deque, Vec};

use super::runs::{walk_down, walk_up};
use super::types::{Config, Event, FailReason, FileName, Progress, Role, TransferKey, Write};
use crate::time::Instant;
use crate::wire::{
    Body, CancelReason, ChunkRange, FileAck, FileChunk, FileOffer, FileRejectReason, PeerId,
    MAX_ACK_RANGES,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum RecvState {
    /// Waiting for the host's decision.
    Pending,
    Receiving,
    /// Every chunk is in; waiting for the host's hash.
    AwaitHash,
    /// Verified; waiting for the host to put the file in place.
    AwaitStore,
    /// Verified and in place; lingering to repeat `FileDone`.
    Done,
    /// Refused or cancelled; lingering to repeat the answer.
    Failed,
}

/// The last word this side says about a transfer, repeated on request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    Reject(FileRejectReason),
    Cancel(CancelReason),
    Done,
}

#[derive(Debug, Clone, Copy)]
enum Timer {
    /// Send the delayed acknowledgement.
    Ack = 0,
    /// The sender went quiet.
    Idle = 1,
    /// Forget the finished transfer.
    Linger = 2,
}
const TIMERS: usize = 3;

/// How many recently received chunks the next ack reports first.
const RECENT: usize = 8;

pub(super) struct Receiver<const W: usize> {
    pub(super) key: TransferKey,
    pub(super) name: FileName,
    size: u64,
    chunk: u16,
    hash: [u8; 32],
    nchunks: u32,
    pub(super) state: RecvState,
    cfg: Config,
    cum: u32,
    highest: u32,
    /// 1 for each chunk of the window above `cum` that is in (see `runs.rs`).
    got: [u8; W],
    received: u64,
    recent: Vec<u32, RECENT>,
    /// The lowest chunk stored since the last complete round of acks.
    lowest_new: Option<u32>,
    /// Where the next ack of a multi-ack round continues (downwards).
    ack_cursor: Option<u32>,
    unacked: u8,
    need_accept: bool,
    need_ack: bool,
    answer: Option<Answer>,
    need_answer: bool,
    pub(super) expired: bool,
    timers: [Option<Instant>; TIMERS],
    pub(super) events: Deque<Event<'static>, 4>,
}

impl<const W: usize> Receiver<W> {
    /// A receiver for an offer that passed every check; `nchunks` fits the chunk size.
    pub(super) fn new(
        now: Instant,
        peer: PeerId,
        offer: &FileOffer<'_>,
        name: FileName,
        nchunks: u32,
        cfg: Config,
    ) -> Self {
        let key = TransferKey {
            peer,
            id: offer.transfer,
            role: Role::Receive,
        };
        let ask = cfg.accept == super::AcceptPolicy::Ask;
        let mut r = Receiver {
            key,
            name,
            size: offer.size,
            chunk: offer.chunk_size,
            hash: offer.hash,
            nchunks,
            state: RecvState::Pending,
            cfg,
            cum: 0,
            highest: 0,
            got: [0; W],
            received: 0,
            recent: Vec::new(),
            lowest_new: None,
            ack_cursor: None,
            unacked: 0,
            need_accept: false,
            need_ack: false,
            answer: None,
            need_answer: false,
            expired: false,
            timers: [None; TIMERS],
            events: Deque::new(),
        };
        r.heard(now);
        // The name is filled in from the entry when the event is polled.
        r.event(Event::Offered {
            key,
            name: "",
            size: offer.size,
            needs_decision: ask,
        });
        if !ask {
            r.accept(now);
        }
        r
    }

    fn event(&mut self, event: Event<'static>) {
        // Cannot overflow: a receiver emits at most four events (offered, complete,
        // received, then a failure if the host cannot store the file).
        let _ = self.events.push_back(event);
    }

    fn heard(&mut self, now: Instant) {
        self.timers[Timer::Idle as usize] = Some(now + self.cfg.idle_timeout);
    }

    pub(super) fn next_timeout(&self) -> Option<Instant> {
        self.timers.iter().flatten().min().copied()
    }

    pub(super) fn progress(&self) -> Progress {
        let bytes = (self.received * u64::from(self.chunk)).min(self.size);
        Progress {
            bytes,
            size: self.size,
        }
    }

    pub(super) fn is_terminal(&self) -> bool {
        matches!(self.state, RecvState::Done | RecvState::Failed)
    }

    /// Whether the entry may be dropped: finished, answered, told, and lingered.
    pub(super) fn removable(&self) -> bool {
        self.is_terminal() && self.expired && !self.need_answer && self.events.is_empty()
    }

    pub(super) fn accept(&mut self, now: Instant) {
        if self.state != RecvState::Pending {
            return;
        }
        self.state = RecvState::Receiving;
        self.need_accept = true;
        self.heard(now);
        if self.nchunks == 0 {
            self.complete();
        }
    }

    pub(super) fn reject(&mut self, now: Instant, reason: FileRejectReason) {
        if self.state == RecvState::Pending {
            self.end(
                now,
                Some(Answer::Reject(reason)),
                FailReason::Refused(reason),
            );
        }
    }

    pub(super) fn cancel(&mut self, now: Instant, reason: CancelReason) {
        if !self.is_terminal() {
            self.end(
                now,
                Some(Answer::Cancel(reason)),
                FailReason::Cancelled(reason),
            );
        }
    }

    pub(super) fn on_peer_cancel(&mut self, now: Instant, reason: CancelReason) {
        if !self.is_terminal() {
            self.end(now, None, FailReason::PeerCancelled(reason));
        }
    }

    fn end(&mut self, now: Instant, answer: Option<Answer>, reason: FailReason) {
        self.state = RecvState::Failed;
        self.answer = answer;
        self.need_answer = answer.is_some();
        self.linger(now);
        self.event(Event::Failed {
            key: self.key,
            reason,
        });
    }

    fn linger(&mut self, now: Instant) {
        self.timers = [None; TIMERS];
        self.timers[Timer::Linger as usize] = Some(now + self.cfg.linger);
    }

    /// The sender repeated its offer: repeat what we last said.
    pub(super) fn on_repeated_offer(&mut self, now: Instant) {
        match self.state {
            RecvState::Pending => self.heard(now),
            RecvState::Receiving => {
                self.heard(now);
                self.need_accept = true;
                self.need_ack = true;
            }
            RecvState::AwaitHash | RecvState::AwaitStore => self.need_ack = true,
            RecvState::Done | RecvState::Failed => self.need_answer = self.answer.is_some(),
        }
    }

    fn expected_len(&self, idx: u32) -> u64 {
        let start = u64::from(idx) * u64::from(self.chunk);
        (self.size - start).min(u64::from(self.chunk))
    }

    /// A chunk arrived: the bytes to store, if they are new.
    pub(super) fn on_chunk<'a>(&mut self, now: Instant, c: &FileChunk<'a>) -> Option<Write<'a>> {
        match self.state {
            RecvState::Receiving => {}
            RecvState::Pending => return None,
            RecvState::AwaitHash | RecvState::AwaitStore => {
                self.need_ack = true;
                return None;
            }
            RecvState::Done | RecvState::Failed => {
                self.need_answer = self.answer.is_some();
                return None;
            }
        }
        self.heard(now);
        let idx = c.index;
        if idx >= self.nchunks || c.data.len() as u64 != self.expected_len(idx) {
            self.cancel(now, CancelReason::Protocol);
            return None;
        }
        if u64::from(idx) >= u64::from(self.cum) + W as u64 {
            return None;
        }
        if idx < self.cum || self.has(idx) {
            self.need_ack = true;
            return None;
        }
        self.store(now, idx);
        let chunk = u64::from(self.chunk);
        Some(Write {
            key: self.key,
            offset: u64::from(idx) * chunk,
            data: c.data,
            contiguous: (u64::from(self.cum) * chunk).min(self.size),
        })
    }

    fn store(&mut self, now: Instant, idx: u32) {
        self.got[idx as usize % W] = 1;
        self.received += 1;
        self.highest = self.highest.max(idx + 1);
        while self.cum < self.highest && self.has(self.cum) {
            self.got[self.cum as usize % W] = 0;
            self.cum += 1;
        }
        self.lowest_new = Some(self.lowest_new.map_or(idx, |l| l.min(idx)));
        if self.recent.push(idx).is_err() {
            self.need_ack = true;
        }
        self.unacked = self.unacked.saturating_add(1);
        if self.unacked >= self.cfg.ack_every.clamp(1, RECENT as u8) {
            self.need_ack = true;
        } else if self.timers[Timer::Ack as usize].is_none() {
            self.timers[Timer::Ack as usize] = Some(now + self.cfg.ack_delay);
        }
        if self.cum == self.nchunks {
            self.complete();
        }
    }

    fn complete(&mut self) {
        self.state = RecvState::AwaitHash;
        self.need_ack = true;
        self.timers[Timer::Idle as usize] = None;
        self.event(Event::Complete { key: self.key });
    }

    /// The host's BLAKE3 hash of everything it stored.
    pub(super) fn on_hash(&mut self, now: Instant, hash: &[u8; 32]) {
        if self.state != RecvState::AwaitHash {
            return;
        }
        if *hash != self.hash {
            self.cancel(now, CancelReason::HashMismatch);
            return;
        }
        self.state = RecvState::AwaitStore;
        self.event(Event::Received {
            key: self.key,
            size: self.size,
        });
    }

    /// The host put the verified file in place: now the sender hears `FileDone`.
    pub(super) fn on_stored(&mut self, now: Instant) {
        if self.state != RecvState::AwaitStore {
            return;
        }
        self.state = RecvState::Done;
        self.answer = Some(Answer::Done);
        self.need_answer = true;
        self.linger(now);
    }

    pub(super) fn handle_timeout(&mut self, now: Instant) {
        let due = |t: Option<Instant>| t.is_some_and(|t| t <= now);
        if due(self.timers[Timer::Linger as usize]) {
            self.timers[Timer::Linger as usize] = None;
            self.expired = true;
        }
        if due(self.timers[Timer::Idle as usize]) {
            self.cancel(now, CancelReason::Timeout);
        }
        if due(self.timers[Timer::Ack as usize]) {
            self.timers[Timer::Ack as usize] = None;
            self.need_ack = true;
        }
    }

    /// The next control packet this receiver owes its sender.
    pub(super) fn poll_control(&mut self) -> Option<Body<'static>> {
        let transfer = self.key.id;
        if self.need_answer {
            self.need_answer = false;
            return self.answer.map(|a| match a {
                Answer::Reject(reason) => Body::FileReject { transfer, reason },
                Answer::Cancel(reason) => Body::FileCancel { transfer, reason },
                Answer::Done => Body::FileDone { transfer },
            });
        }
        if self.is_terminal() {
            return None;
        }
        if self.need_accept {
            self.need_accept = false;
            return Some(Body::FileAccept { transfer });
        }
        if self.need_ack {
            return Some(Body::FileAck(self.build_ack()));
        }
        None
    }

    /// An ack: the runs holding the most recent chunks first, then runs from the top
    /// down. When more chunks arrived since the last ack than one ack can describe (a
    /// host that drains a burst of datagrams before polling), further acks follow, each
    /// continuing below the previous one, until every new chunk was reported.
    fn build_ack(&mut self) -> FileAck {
        let mut ranges: Vec<ChunkRange, MAX_ACK_RANGES> = Vec::new();
        for i in (0..self.recent.len()).rev() {
            let idx = self.recent[i];
            // A chunk in a run already listed has that very run around it.
            let listed = ranges.iter().any(|r| r.start <= idx && idx < r.end);
            if idx >= self.cum && !ranges.is_full() && !listed {
                // Not listed yet: a whole run that contains none of the listed ones.
                // Cannot fail: checked `is_full`.
                let _ = ranges.push(self.run_around(idx));
            }
        }
        // The runs below are disjoint: only these first ones can repeat among them.
        let around_recent = ranges.len();
        let mut top = self.ack_cursor.take().unwrap_or(self.highest).max(self.cum);
        while top > self.cum && !ranges.is_full() {
            top = walk_down(&self.got, top, self.cum, false);
            let end = top;
            top = walk_down(&self.got, top, self.cum, true);
            let run = ChunkRange { start: top, end };
            if end > top && !ranges[..around_recent].contains(&run) {
                // Cannot fail: checked `is_full`.
                let _ = ranges.push(run);
            }
        }
        self.recent.clear();
        self.unacked = 0;
        self.timers[Timer::Ack as usize] = None;
        // Chunks below `top` that arrived since the last ack are not described yet.
        let more = self
            .lowest_new
            .is_some_and(|low| low < top && top > self.cum);
        self.need_ack = more;
        if more {
            self.ack_cursor = Some(top);
        } else {
            self.lowest_new = None;
        }
        let limit = u64::from(self.cum) + W as u64;
        FileAck {
            transfer: self.key.id,
            cumulative: self.cum,
            limit: u32::try_from(limit).unwrap_or(u32::MAX).min(self.nchunks),
            ranges,
        }
    }

    fn has(&self, idx: u32) -> bool {
        self.got[idx as usize % W] != 0
    }

    /// The whole run of received chunks around `idx` (which is in).
    fn run_around(&self, idx: u32) -> ChunkRange {
        ChunkRange {
            start: walk_down(&self.got, idx, self.cum, true),
            end: walk_up(&self.got, idx + 1, self.highest),
        }
    }
}
