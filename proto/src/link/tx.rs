//! The sending half of a link: queue, transmission, acknowledgement, retransmission.

use super::frag::fragment_count;
use super::{
    ahead, mask, Counters, FailReason, Link, MessageId, OutChat, Outcome, TextRef, Texts, Timer,
    TxMsg, TxState, WINDOW,
};
use crate::time::Instant;
use crate::wire::Ack;

impl<const Q: usize> Link<Q> {
    /// Whether another message fits in the send queue.
    pub(crate) fn has_room(&self) -> bool {
        !self.tx.is_full()
    }

    /// Queues `text` (stored as `text_ref`) for sending. The caller checked
    /// [`Link::has_room`] and the text length; on a full queue the message is handed back.
    pub(crate) fn push(
        &mut self,
        id: MessageId,
        text_ref: TextRef,
        text: &[u8],
        to_all: bool,
    ) -> Result<(), MessageId> {
        // At most MAX_TEXT_LEN bytes make at most MAX_FRAGMENTS (≤ 16) fragments.
        let count = u8::try_from(fragment_count(text)).unwrap_or(u8::MAX);
        let msg = TxMsg {
            id,
            start: self.next_seq,
            count,
            to_all,
            text: text_ref,
            acked: 0,
            sent: 0,
            need: mask(count),
            tries: 0,
            last_sent: Instant::ZERO,
            retransmitted: false,
            state: TxState::Pending,
        };
        self.tx.push_back(msg).map_err(|m| m.id)?;
        self.next_seq = self.next_seq.wrapping_add(u32::from(count));
        Ok(())
    }

    /// Lowest sequence number not yet settled (acknowledged or given up).
    pub(crate) fn base(&self) -> u32 {
        self.tx
            .iter()
            .find(|m| matches!(m.state, TxState::Pending))
            .map_or(self.next_seq, |m| m.start)
    }

    /// Whether the link owes the peer an ack.
    pub(crate) const fn ack_pending(&self) -> bool {
        self.ack_pending
    }

    /// Whether a chat packet is waiting to be sent.
    pub(crate) fn chat_pending(&self) -> bool {
        let base = self.base();
        self.tx.iter().any(|m| next_fragment(m, base).is_some())
    }

    /// Picks the next chat packet to send, oldest first, within the window.
    pub(crate) fn next_chat(&mut self, now: Instant, counters: &mut Counters) -> Option<OutChat> {
        let base = self.base();
        let msg = self
            .tx
            .iter_mut()
            .find(|m| next_fragment(m, base).is_some())?;
        let index = next_fragment(msg, base)?;
        let bit = 1u16 << index;
        if msg.sent & bit != 0 {
            counters.retransmissions += 1;
        }
        msg.sent |= bit;
        msg.need &= !bit;
        msg.last_sent = now;
        let out = OutChat {
            seq: msg.start.wrapping_add(u32::from(index)),
            base,
            to_all: msg.to_all,
            index,
            count: msg.count,
            text: msg.text,
        };
        if msg.tries == 0 {
            msg.tries = 1;
        }
        if self.timers[Timer::Retransmit as usize].is_none() {
            self.set_timer(Timer::Retransmit, Some(now + self.rtt.rto()));
        }
        Some(out)
    }

    /// Applies an ack from the peer.
    pub(crate) fn on_ack(
        &mut self,
        now: Instant,
        ack: Ack,
        texts: &mut impl Texts,
        counters: &mut Counters,
    ) {
        let base = self.base();
        if ahead(base, ack.next) > ahead(base, self.next_seq) {
            counters.stale_acks += 1;
            return;
        }
        let mut progress = false;
        for msg in self.tx.iter_mut() {
            if !matches!(msg.state, TxState::Pending) {
                continue;
            }
            let newly = acked_bits(msg, base, ack) & !msg.acked;
            if newly == 0 {
                continue;
            }
            progress = true;
            msg.acked |= newly;
            msg.need &= !msg.acked;
            if !msg.retransmitted {
                self.rtt.on_sample(now - msg.last_sent);
            }
            if msg.acked == mask(msg.count) {
                msg.state = TxState::Done(Outcome::Delivered);
                texts.release(msg.text);
            }
        }
        if progress {
            self.rtt.on_progress();
            self.rearm(now);
        }
    }

    /// Restarts the retransmission timer if anything is in flight, else stops it.
    fn rearm(&mut self, now: Instant) {
        let in_flight = self
            .tx
            .iter()
            .any(|m| matches!(m.state, TxState::Pending) && (m.sent & !m.acked & !m.need) != 0);
        let at = in_flight.then(|| now + self.rtt.rto());
        self.set_timer(Timer::Retransmit, at);
    }

    /// The retransmission timer fired: back off, give up what was tried enough, and mark
    /// the rest of what is in flight for sending again.
    pub(super) fn on_retransmit_timeout(&mut self, now: Instant, texts: &mut impl Texts) {
        self.rtt.on_timeout();
        let max_tries = self.config.max_tries.max(1);
        let exhausted = self.tx.iter().any(|m| {
            matches!(m.state, TxState::Pending) && m.sent & !m.acked != 0 && m.tries >= max_tries
        });
        if exhausted {
            // A packet went unanswered through every retry: the peer is gone. Everything
            // still queued fails now rather than one window at a time.
            self.fail_pending(FailReason::Timeout, texts);
        }
        for msg in self.tx.iter_mut() {
            let unacked = msg.sent & !msg.acked;
            if !matches!(msg.state, TxState::Pending) || unacked == 0 {
                continue;
            }
            msg.tries += 1;
            msg.retransmitted = true;
            msg.need |= unacked;
        }
        self.set_timer(Timer::Retransmit, None);
        if self.chat_pending() {
            // Armed again by the first resend; until then nothing is in flight.
            self.set_timer(Timer::Retransmit, Some(now + self.rtt.rto()));
        }
    }

    /// Gives up every unsettled message.
    pub(super) fn fail_pending(&mut self, reason: FailReason, texts: &mut impl Texts) {
        for msg in self.tx.iter_mut() {
            if matches!(msg.state, TxState::Pending) {
                msg.state = TxState::Done(Outcome::Failed(reason));
                texts.release(msg.text);
            }
        }
    }

    /// The oldest settled message, if its outcome is the next to report (outcomes are
    /// reported in sending order).
    pub(crate) fn pop_outcome(&mut self) -> Option<(MessageId, Outcome)> {
        match self.tx.front()?.state {
            TxState::Pending => None,
            TxState::Done(outcome) => self.tx.pop_front().map(|m| (m.id, outcome)),
        }
    }

    /// The smoothed round-trip time, once measured.
    pub(crate) fn srtt(&self) -> Option<crate::time::Duration> {
        self.rtt.srtt()
    }
}

/// Index of the next fragment of `msg` to send, if one is waiting inside the window.
fn next_fragment(msg: &TxMsg, base: u32) -> Option<u8> {
    if !matches!(msg.state, TxState::Pending) || msg.need == 0 {
        return None;
    }
    // `need` is non-zero and has at most 16 bits, so the index fits in a u8.
    let index = msg.need.trailing_zeros() as u8;
    let seq = msg.start.wrapping_add(u32::from(index));
    (ahead(base, seq) < WINDOW).then_some(index)
}

/// Fragments of `msg` that `ack` acknowledges.
fn acked_bits(msg: &TxMsg, base: u32, ack: Ack) -> u16 {
    let mut bits = 0u16;
    for index in 0..msg.count {
        let seq = msg.start.wrapping_add(u32::from(index));
        let cumulative = ahead(base, seq) < ahead(base, ack.next);
        let above = ahead(ack.next, seq)
            .checked_sub(1)
            .is_some_and(|i| i < 32 && ack.above & (1 << i) != 0);
        if cumulative || above {
            bits |= 1 << index;
        }
    }
    bits
}
