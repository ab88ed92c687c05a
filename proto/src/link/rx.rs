//! The receiving half of a link: duplicate suppression, ordering, reassembly, acks.

use super::frag::InsertError;
use super::{ahead, Counters, Link, Reassembly, Timer, RESTART_HORIZON};
use crate::time::Instant;
use crate::wire::{Ack, Chat};

/// Half the sequence space: distances below it count as "ahead".
const HALF: u32 = 1 << 31;

impl<const Q: usize> Link<Q> {
    /// Takes in one chat packet from the peer.
    pub(crate) fn on_chat<const B: usize>(
        &mut self,
        now: Instant,
        chat: &Chat<'_>,
        slots: &mut [Reassembly<B>],
        counters: &mut Counters,
    ) {
        self.follow_base(chat.base, slots);
        let dist = ahead(self.rx.next, chat.seq);
        if dist >= HALF {
            counters.duplicates += 1;
            self.ack_pending = true;
            return;
        }
        let index = chat.frag.index;
        if u32::from(index) != dist {
            // A fragment of a later message: not stored, the sender resends it.
            counters.dropped_out_of_order += 1;
            self.ack_pending = true;
            return;
        }
        if self.rx.ready {
            counters.dropped_busy += 1;
            return;
        }
        self.store(now, chat, slots, counters);
    }

    /// Adopts or follows the sender's `base` (see the module doc).
    fn follow_base<const B: usize>(&mut self, base: u32, slots: &mut [Reassembly<B>]) {
        if !self.rx.synced {
            self.rx.synced = true;
            self.rx.next = base;
            return;
        }
        let dist = ahead(self.rx.next, base);
        let skipped = dist != 0 && dist < HALF;
        let restarted = dist >= HALF && dist.wrapping_neg() > RESTART_HORIZON;
        if skipped || restarted {
            self.drop_reassembly(slots);
            self.rx.next = base;
        }
    }

    /// Stores a fragment of the message that starts at `rx.next`.
    fn store<const B: usize>(
        &mut self,
        now: Instant,
        chat: &Chat<'_>,
        slots: &mut [Reassembly<B>],
        counters: &mut Counters,
    ) {
        let Some(slot) = self.claim_slot(chat, slots) else {
            counters.dropped_busy += 1;
            return;
        };
        let buf = &mut slots[usize::from(slot)];
        match buf.insert(chat.frag.index, chat.frag.count, chat.text) {
            Ok(true) => {}
            Ok(false) => counters.duplicates += 1,
            Err(InsertError::TooLarge) => {
                counters.dropped_too_large += 1;
                return;
            }
            Err(InsertError::Inconsistent) => {
                counters.dropped_out_of_order += 1;
                return;
            }
        }
        self.ack_pending = true;
        if buf.is_complete() {
            self.rx.ready = true;
            self.rx.next = self.rx.next.wrapping_add(u32::from(chat.frag.count));
            self.set_timer(Timer::Reassembly, None);
        } else {
            let at = now + self.config.reassembly_timeout;
            self.set_timer(Timer::Reassembly, Some(at));
        }
    }

    /// The reassembly buffer of the current message, claiming a free one if needed.
    fn claim_slot<const B: usize>(
        &mut self,
        chat: &Chat<'_>,
        slots: &mut [Reassembly<B>],
    ) -> Option<u8> {
        if let Some(slot) = self.rx.slot {
            return Some(slot);
        }
        let free = slots.iter().position(|s| !s.in_use())?;
        let slot = u8::try_from(free).ok()?;
        slots[free].claim(chat.frag.count, chat.to_all);
        self.rx.slot = Some(slot);
        Some(slot)
    }

    /// Releases a partly reassembled message (never a complete one awaiting hand-out).
    pub(super) fn drop_reassembly<const B: usize>(&mut self, slots: &mut [Reassembly<B>]) {
        if self.rx.ready {
            return;
        }
        if let Some(slot) = self.rx.slot.take() {
            if let Some(buf) = slots.get_mut(usize::from(slot)) {
                buf.release();
            }
        }
        self.set_timer(Timer::Reassembly, None);
    }

    /// The ack owed to the peer, if any (one per call: acks coalesce until polled).
    pub(crate) fn take_ack<const B: usize>(&mut self, slots: &[Reassembly<B>]) -> Option<Ack> {
        if !self.ack_pending {
            return None;
        }
        self.ack_pending = false;
        let received = match self.rx.slot {
            Some(slot) if !self.rx.ready => {
                slots.get(usize::from(slot)).map_or(0, |b| b.received())
            }
            _ => 0,
        };
        let run = received.trailing_ones();
        let above = u32::from(received).checked_shr(run + 1).unwrap_or(0);
        Some(Ack {
            next: self.rx.next.wrapping_add(run),
            above,
        })
    }

    /// The reassembly buffer holding a complete message to hand out, if any.
    pub(crate) fn ready_slot(&self) -> Option<u8> {
        self.rx.slot.filter(|_| self.rx.ready)
    }

    /// The application has the message in `slot`: free the buffer.
    pub(crate) fn release_ready<const B: usize>(&mut self, slot: u8, slots: &mut [Reassembly<B>]) {
        if self.rx.ready && self.rx.slot == Some(slot) {
            self.rx.ready = false;
            self.rx.slot = None;
        }
        if let Some(buf) = slots.get_mut(usize::from(slot)) {
            buf.release();
        }
    }
}
