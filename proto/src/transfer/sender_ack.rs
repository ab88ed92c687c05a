//! The sender's acknowledgement processing: the window moves, RTT and delivery-rate
//! samples feed the rate model, and losses are looked for.

use super::{SendState, Sender, Slot, Timer, ACKED, IN_FLIGHT, RETX};
use crate::time::Instant;
use crate::transfer::runs::walk_up;
use crate::wire::FileAck;

impl<const W: usize> Sender<W> {
    pub(in crate::transfer) fn on_ack(&mut self, now: Instant, ack: &FileAck) {
        if !matches!(self.state, SendState::Sending | SendState::AwaitDone) || !self.valid(ack) {
            return;
        }
        self.heard(now);
        self.peer_limit = self.peer_limit.max(ack.limit);
        if self.state == SendState::AwaitDone {
            return;
        }
        // The most recently sent chunk this ack covers: any, and first transmissions only.
        let mut newest: [Option<Slot>; 2] = [None; 2];
        let cum = ack.cumulative.min(self.next_new);
        while self.base < cum {
            self.acked(self.base, &mut newest);
            self.advance();
        }
        for r in &ack.ranges {
            let end = r.end.min(self.next_new);
            let mut idx = r.start.max(self.base);
            while idx < end {
                // Chunks acknowledged before are skipped (`acked` would ignore them).
                idx = walk_up(&self.acked, idx, end);
                if idx < end {
                    self.acked(idx, &mut newest);
                    idx += 1;
                }
            }
        }
        while self.base < self.next_new && self.slots[self.base as usize % W].flags & ACKED != 0 {
            self.advance();
        }
        if newest[0].is_some() {
            self.pto_count = 0;
        }
        // Only first transmissions are sampled: an ack of a retransmitted chunk may be
        // for its earlier copy, and would pass off an old send as a fresh one.
        if let Some(slot) = newest[1] {
            self.rtt_sample(now, &slot);
            self.sample(now, &slot);
        }
        self.detect_losses(now);
        self.bbr.on_inflight(now, self.inflight, &self.rtt);
        self.refresh_model();
        if self.base == self.nchunks {
            self.all_acked(now);
        } else if self.inflight == 0 {
            self.set(Timer::Retransmit, None);
        }
    }

    /// Re-reads the window and pacing rate from the model after it changed.
    pub(super) fn refresh_model(&mut self) {
        self.cwnd = self.bbr.cwnd(&self.rtt);
        self.pacing_rate = self.bbr.pacing_rate();
    }

    fn valid(&self, ack: &FileAck) -> bool {
        ack.cumulative <= self.nchunks
            && ack
                .ranges
                .iter()
                .all(|r| r.start < r.end && r.end <= self.nchunks)
    }

    fn advance(&mut self) {
        *self.slot(self.base) = Slot::default();
        self.acked[self.base as usize % W] = 0;
        self.base += 1;
    }

    fn acked(&mut self, idx: u32, newest: &mut [Option<Slot>; 2]) {
        let len = self.len_of(idx);
        let slot = *self.slot(idx);
        if slot.flags & ACKED != 0 {
            return;
        }
        if slot.flags & IN_FLIGHT != 0 {
            self.inflight -= len;
        }
        self.slot(idx).flags = ACKED | (slot.flags & RETX);
        self.acked[idx as usize % W] = 1;
        self.delivered += len;
        self.largest_acked = self.largest_acked.max(Some(slot.seq));
        if newest[0].is_none_or(|n| n.seq < slot.seq) {
            newest[0] = Some(slot);
        }
        if slot.flags & RETX == 0 && newest[1].is_none_or(|n| n.seq < slot.seq) {
            newest[1] = Some(slot);
        }
    }

    /// RTT sample from the most recently sent first transmission this ack covered
    /// (a retransmission's ack is ambiguous).
    fn rtt_sample(&mut self, now: Instant, slot: &Slot) {
        self.rtt.sample(now, now - slot.sent_at);
        self.bbr.on_rtt(now - slot.sent_at);
    }

    /// Delivery-rate sample (and round-trip count) from the most recently sent first
    /// transmission this ack covered.
    fn sample(&mut self, now: Instant, slot: &Slot) {
        let delivered_at =
            Instant::from_micros(slot.sent_at.as_micros() - u64::from(slot.delivered_ago));
        let ack_elapsed = (now - delivered_at).as_micros();
        let interval = ack_elapsed.max(u64::from(slot.first_sent_ago));
        let round_start = slot.delivered >= self.next_round;
        if round_start {
            self.next_round = self.delivered;
        }
        self.delivered_at = now;
        self.first_sent_at = slot.sent_at;
        // Shorter intervals than the minimum RTT are ack compression, not bandwidth.
        let valid = interval >= self.rtt.min_rtt().as_micros().max(1);
        let rate = valid.then(|| {
            crate::transfer::cc::mul_div(self.delivered - slot.delivered, 1_000_000, interval)
        });
        self.bbr.on_ack(now, rate, round_start, &self.rtt);
    }
}
