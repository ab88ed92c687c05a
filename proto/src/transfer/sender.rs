//! One outgoing transfer: offer, window, loss detection, retransmission, rate control.

use heapless::Deque;

use super::cc::{Bbr, Pacer, Rtt};
use super::types::{Config, Event, FailReason, FileName, Progress, Role, SendStats, TransferKey};
use crate::time::{Duration, Instant};
use crate::wire::{Body, CancelReason, FileOffer, FileRejectReason, PeerId, TransferId};

#[path = "sender_ack.rs"]
mod ack;
#[path = "sender_loss.rs"]
mod loss;

const ACKED: u8 = 1;
const IN_FLIGHT: u8 = 2;
const RETX: u8 = 4;

/// What the sender remembers of the latest transmission of one chunk.
#[derive(Debug, Clone, Copy, Default)]
struct Slot {
    sent_at: Instant,
    /// Bytes delivered when it was sent.
    delivered: u64,
    /// `sent_at − delivered_at` at send time, µs.
    delivered_ago: u32,
    /// `sent_at − first_sent_at` at send time, µs.
    first_sent_ago: u32,
    seq: u32,
    flags: u8,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SendState {
    Offering,
    Sending,
    /// Every chunk acknowledged; waiting for the receiver's verdict.
    AwaitDone,
    Finished,
}

/// Timers of a sender, indexing its timer table.
#[derive(Debug, Clone, Copy)]
enum Timer {
    /// Offer repeat, probe timeout, or the "are you done?" probe.
    Retransmit = 0,
    /// Re-check for RACK losses.
    Loss = 1,
    /// Give up.
    Idle = 2,
    /// The pacer allows the next chunk.
    Pace = 3,
}
const TIMERS: usize = 4;

/// What `ready` says about the next chunk.
pub(super) enum Ready {
    /// Send this chunk (index, length).
    Chunk(u32, usize),
    /// Nothing may go now.
    Blocked,
}

/// Chunks a sender may send after the accept before any ack raises the limit: every
/// receiver's window is at least this large.
pub(super) const INITIAL_LIMIT: u32 = 32;

/// Longest wait between repeated offers and probes (unless the RTT is longer): the
/// idle timeout leaves room for several, so a few lost answers do not end a transfer.
const MAX_REPEAT: Duration = Duration::from_secs(1);

pub(super) struct Sender<const W: usize> {
    pub(super) key: TransferKey,
    name: FileName,
    size: u64,
    chunk: u16,
    hash: [u8; 32],
    nchunks: u32,
    pub(super) state: SendState,
    cfg: Config,
    need_offer: bool,
    offer_count: u32,
    offer_sent_at: Instant,
    pub(super) pending_cancel: Option<CancelReason>,
    base: u32,
    next_new: u32,
    peer_limit: u32,
    slots: [Slot; W],
    /// 1 where the slot's chunk is acknowledged (its `ACKED` flag), densely: an ack
    /// repeats up to 32 ranges, and the walk over them skips what is known eight at a
    /// time (see `runs.rs`).
    acked: [u8; W],
    sent: Deque<(u32, u32), W>,
    lost: Deque<u32, W>,
    seq: u32,
    largest_acked: Option<u32>,
    inflight: u64,
    delivered: u64,
    delivered_at: Instant,
    first_sent_at: Instant,
    next_round: u64,
    rtt: Rtt,
    bbr: Bbr,
    /// `bbr.cwnd(&rtt)` and `bbr.pacing_rate()`, refreshed whenever the model changes
    /// (the per-chunk path only reads them).
    cwnd: u64,
    pacing_rate: u64,
    pacer: Pacer,
    pto_count: u32,
    transmissions: u64,
    retransmissions: u64,
    timers: [Option<Instant>; TIMERS],
    pub(super) events: Deque<Event<'static>, 4>,
}

impl<const W: usize> Sender<W> {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn new(
        now: Instant,
        peer: PeerId,
        id: TransferId,
        name: FileName,
        size: u64,
        hash: [u8; 32],
        nchunks: u32,
        cfg: Config,
    ) -> Self {
        let chunk = u64::from(cfg.chunk_size);
        let mut timers = [None; TIMERS];
        timers[Timer::Idle as usize] = Some(now + cfg.offer_timeout);
        let rtt = Rtt::new(cfg.initial_rtt);
        let bbr = Bbr::new(chunk, cfg.initial_rtt);
        Sender {
            key: TransferKey {
                peer,
                id,
                role: Role::Send,
            },
            name,
            size,
            chunk: cfg.chunk_size,
            hash,
            nchunks,
            state: SendState::Offering,
            cfg,
            need_offer: true,
            offer_count: 0,
            offer_sent_at: now,
            pending_cancel: None,
            base: 0,
            next_new: 0,
            peer_limit: INITIAL_LIMIT,
            slots: [Slot::default(); W],
            acked: [0; W],
            sent: Deque::new(),
            lost: Deque::new(),
            seq: 0,
            largest_acked: None,
            inflight: 0,
            delivered: 0,
            delivered_at: now,
            first_sent_at: now,
            next_round: 0,
            cwnd: bbr.cwnd(&rtt),
            pacing_rate: bbr.pacing_rate(),
            rtt,
            bbr,
            pacer: Pacer::new(now, chunk),
            pto_count: 0,
            transmissions: 0,
            retransmissions: 0,
            timers,
            events: Deque::new(),
        }
    }

    fn event(&mut self, event: Event<'static>) {
        // Cannot overflow: a sender emits at most two events (accepted, then an outcome).
        let _ = self.events.push_back(event);
    }

    fn set(&mut self, timer: Timer, at: Option<Instant>) {
        self.timers[timer as usize] = at;
    }

    fn len_of(&self, idx: u32) -> u64 {
        let start = u64::from(idx) * u64::from(self.chunk);
        (self.size - start).min(u64::from(self.chunk))
    }

    fn slot(&mut self, idx: u32) -> &mut Slot {
        &mut self.slots[idx as usize % W]
    }

    pub(super) fn chunk_size(&self) -> u16 {
        self.chunk
    }

    pub(super) fn progress(&self) -> Progress {
        let bytes = (u64::from(self.base) * u64::from(self.chunk)).min(self.size);
        Progress {
            bytes,
            size: self.size,
        }
    }

    pub(super) fn stats(&self) -> SendStats {
        SendStats {
            srtt: self.rtt.srtt(),
            min_rtt: self.rtt.min_rtt(),
            bandwidth: self.bbr.bandwidth(),
            pacing_rate: self.bbr.pacing_rate(),
            cwnd: self.bbr.cwnd(&self.rtt),
            inflight: self.inflight,
            transmissions: self.transmissions,
            retransmissions: self.retransmissions,
            loss_permille: self.bbr.loss_permille(),
        }
    }

    pub(super) fn next_timeout(&self) -> Option<Instant> {
        self.timers.iter().flatten().min().copied()
    }

    /// The probe timeout with exponential backoff, capped at [`MAX_REPEAT`] (or two
    /// probe timeouts on a path slower than that).
    fn repeat_delay(&self) -> Duration {
        let pto = self.rtt.pto(self.cfg.ack_delay);
        let cap = MAX_REPEAT.max(pto.saturating_mul(2));
        pto.saturating_mul(1 << self.pto_count.min(6)).min(cap)
    }

    /// Ends the transfer from this side.
    pub(super) fn cancel(&mut self, reason: CancelReason) {
        if self.state == SendState::Finished {
            return;
        }
        self.finish(FailReason::Cancelled(reason));
        self.pending_cancel = Some(reason);
    }

    fn finish(&mut self, reason: FailReason) {
        self.state = SendState::Finished;
        self.timers = [None; TIMERS];
        self.event(Event::Failed {
            key: self.key,
            reason,
        });
    }

    /// The next control packet: the cancel, or the (repeated) offer.
    pub(super) fn poll_control(&mut self, now: Instant) -> Option<Body<'_>> {
        if let Some(reason) = self.pending_cancel.take() {
            return Some(Body::FileCancel {
                transfer: self.key.id,
                reason,
            });
        }
        if !self.need_offer || self.state == SendState::Finished {
            return None;
        }
        self.need_offer = false;
        if self.offer_count == 0 {
            self.offer_sent_at = now;
        }
        self.offer_count += 1;
        let delay = self.repeat_delay();
        self.set(Timer::Retransmit, Some(now + delay));
        self.pto_count += 1;
        Some(Body::FileOffer(FileOffer {
            transfer: self.key.id,
            name: &self.name,
            size: self.size,
            chunk_size: self.chunk,
            hash: self.hash,
        }))
    }

    pub(super) fn on_accept(&mut self, now: Instant) {
        if self.state != SendState::Offering {
            return;
        }
        if self.offer_count == 1 {
            self.rtt.sample(now, now - self.offer_sent_at);
            self.refresh_model();
        }
        self.state = SendState::Sending;
        self.pto_count = 0;
        self.need_offer = false;
        self.pacer = Pacer::new(now, u64::from(self.chunk));
        self.delivered_at = now;
        self.first_sent_at = now;
        self.set(Timer::Retransmit, None);
        self.heard(now);
        self.event(Event::Accepted { key: self.key });
        if self.nchunks == 0 {
            self.all_acked(now);
        }
    }

    pub(super) fn on_reject(&mut self, reason: FileRejectReason) {
        if self.state == SendState::Offering {
            self.finish(FailReason::Rejected(reason));
        }
    }

    pub(super) fn on_done(&mut self) {
        if self.state == SendState::Finished {
            return;
        }
        self.state = SendState::Finished;
        self.timers = [None; TIMERS];
        self.event(Event::Sent {
            key: self.key,
            size: self.size,
        });
    }

    pub(super) fn on_peer_cancel(&mut self, reason: CancelReason) {
        if self.state != SendState::Finished {
            self.finish(FailReason::PeerCancelled(reason));
        }
    }

    fn heard(&mut self, now: Instant) {
        self.set(Timer::Idle, Some(now + self.cfg.idle_timeout));
    }

    fn all_acked(&mut self, now: Instant) {
        self.state = SendState::AwaitDone;
        self.sent.clear();
        self.lost.clear();
        self.inflight = 0;
        self.pto_count = 0;
        self.set(Timer::Loss, None);
        self.set(Timer::Pace, None);
        let delay = self.repeat_delay();
        self.set(Timer::Retransmit, Some(now + delay));
    }

    /// Which chunk may go now (retransmissions first), subject to window, flow control,
    /// congestion window and pacing.
    pub(super) fn ready(&mut self, now: Instant) -> Ready {
        if self.state != SendState::Sending || self.sent.is_full() {
            return Ready::Blocked;
        }
        let Some(idx) = self.candidate() else {
            return Ready::Blocked;
        };
        let len = self.len_of(idx);
        // Every change of the model refreshes these (checked in test builds).
        debug_assert_eq!(
            (self.cwnd, self.pacing_rate),
            (self.bbr.cwnd(&self.rtt), self.bbr.pacing_rate())
        );
        if self.inflight + len > self.cwnd {
            return Ready::Blocked;
        }
        if let Some(at) = self
            .pacer
            .ready(now, self.pacing_rate, u64::from(self.chunk), len)
        {
            self.set(Timer::Pace, Some(at));
            return Ready::Blocked;
        }
        self.set(Timer::Pace, None);
        // `len` is at most `chunk_size` ≤ MAX_CHUNK.
        Ready::Chunk(idx, len as usize)
    }

    fn candidate(&mut self) -> Option<u32> {
        while let Some(&idx) = self.lost.front() {
            if idx >= self.base && self.slots[idx as usize % W].flags & ACKED == 0 {
                return Some(idx);
            }
            self.lost.pop_front();
        }
        let open = self.next_new < self.nchunks
            && u64::from(self.next_new) < u64::from(self.base) + W as u64
            && self.next_new < self.peer_limit;
        open.then_some(self.next_new)
    }

    /// Records that chunk `idx` (from [`Self::ready`]) went out.
    pub(super) fn on_sent(&mut self, now: Instant, idx: u32) {
        let len = self.len_of(idx);
        let retx = idx < self.next_new;
        self.transmissions += 1;
        if retx {
            self.retransmissions += 1;
            self.lost.pop_front();
        } else {
            self.next_new += 1;
        }
        if self.inflight == 0 {
            self.delivered_at = now;
            self.first_sent_at = now;
        }
        self.seq += 1;
        let slot = Slot {
            sent_at: now,
            delivered: self.delivered,
            delivered_ago: micros_u32(now - self.delivered_at),
            first_sent_ago: micros_u32(now - self.first_sent_at),
            seq: self.seq,
            flags: IN_FLIGHT | if retx { RETX } else { 0 },
        };
        *self.slot(idx) = slot;
        self.inflight += len;
        self.bbr.on_sent(len);
        // Cannot fail: `ready` refused to send while the ring was full.
        let _ = self.sent.push_back((idx, self.seq));
        self.pacer.spend(len);
        let delay = self.repeat_delay();
        self.set(Timer::Retransmit, Some(now + delay));
    }
}

fn micros_u32(d: Duration) -> u32 {
    u32::try_from(d.as_micros()).unwrap_or(u32::MAX)
}
