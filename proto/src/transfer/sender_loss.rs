//! The sender's loss detection (RACK's time threshold) and its timers: the probe
//! timeout, the idle timeout and the pacer's wake-up.

use super::{SendState, Sender, Timer, IN_FLIGHT};
use crate::time::Instant;
use crate::wire::CancelReason;

impl<const W: usize> Sender<W> {
    /// RACK-style: a chunk is lost once one sent later was acknowledged and the reorder
    /// window has passed since it was sent. (No packet-count threshold: reordering by
    /// more than a few datagrams is common at high rates.)
    pub(super) fn detect_losses(&mut self, now: Instant) {
        self.set(Timer::Loss, None);
        let Some(largest) = self.largest_acked else {
            return;
        };
        let window = self.rtt.reorder_window();
        while let Some(&(idx, seq)) = self.sent.front() {
            if !self.live(idx, seq) {
                self.sent.pop_front();
                continue;
            }
            if seq >= largest {
                break;
            }
            let sent_at = self.slots[idx as usize % W].sent_at;
            if now < sent_at + window {
                self.set(Timer::Loss, Some(sent_at + window));
                break;
            }
            self.sent.pop_front();
            self.mark_lost(idx);
        }
    }

    fn live(&self, idx: u32, seq: u32) -> bool {
        let slot = &self.slots[idx as usize % W];
        idx >= self.base && slot.seq == seq && slot.flags & IN_FLIGHT != 0
    }

    fn mark_lost(&mut self, idx: u32) {
        let len = self.len_of(idx);
        self.slot(idx).flags &= !IN_FLIGHT;
        self.inflight -= len;
        self.bbr.on_lost(len);
        // Cannot fail: every queued index is a distinct unacknowledged chunk of the
        // window (it leaves the flight when queued and rejoins only when resent).
        let _ = self.lost.push_back(idx);
    }

    pub(in crate::transfer) fn handle_timeout(&mut self, now: Instant) {
        let due = |t: Option<Instant>| t.is_some_and(|t| t <= now);
        if due(self.timers[Timer::Idle as usize]) {
            self.cancel(CancelReason::Timeout);
            return;
        }
        if due(self.timers[Timer::Pace as usize]) {
            self.set(Timer::Pace, None);
        }
        if due(self.timers[Timer::Loss as usize]) {
            self.detect_losses(now);
        }
        if due(self.timers[Timer::Retransmit as usize]) {
            self.set(Timer::Retransmit, None);
            self.on_probe_timeout();
        }
    }

    fn on_probe_timeout(&mut self) {
        match self.state {
            SendState::Offering | SendState::AwaitDone => self.need_offer = true,
            SendState::Sending => {
                // A probe, not a flood: resend the oldest chunk in flight; the receiver
                // acknowledges it at once and RACK finds whatever else was lost.
                self.pto_count += 1;
                while let Some((idx, seq)) = self.sent.pop_front() {
                    if self.live(idx, seq) {
                        self.mark_lost(idx);
                        break;
                    }
                }
            }
            SendState::Finished => {}
        }
    }
}
