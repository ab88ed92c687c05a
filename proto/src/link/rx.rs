//! The receiving half of a link: duplicate suppression, ordering, reassembly, acks.
//!
//! The link holds up to [`RX_HOLD`](super::RX_HOLD) messages in the endpoint's reassembly buffers: the
//! next one to deliver, later ones whose packets arrived early (within [`WINDOW`], and
//! only while another buffer stays free for other peers), and complete ones waiting to
//! be read. A message is handed out once it is complete and every earlier one was handed
//! out or given up by the sender.

use super::frag::InsertError;
use super::{ahead, Counters, Held, Link, Reassembly, Timer, RESTART_HORIZON, WINDOW};
use crate::time::Instant;
use crate::wire::{Ack, Chat};

/// A packet of the next message to deliver found no free reassembly buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Starved;

/// Half the sequence space: distances below it count as "ahead".
const HALF: u32 = 1 << 31;

impl<const Q: usize> Link<Q> {
    /// Takes in one chat packet from the peer. `Err(Starved)` means it belongs to the next
    /// message to deliver but every reassembly buffer is taken: the caller may free an
    /// early message's buffer (see [`Link::evict_early`]) and offer the packet again.
    pub(crate) fn on_chat<const B: usize>(
        &mut self,
        now: Instant,
        chat: &Chat<'_>,
        slots: &mut [Reassembly<B>],
        counters: &mut Counters,
    ) -> Result<(), Starved> {
        self.follow_base(chat.base, slots);
        let dist = ahead(self.rx.next, chat.seq);
        if dist >= HALF {
            counters.duplicates += 1;
            self.ack_pending = true;
            return Ok(());
        }
        let index = u32::from(chat.frag.index);
        if index > dist || dist - index >= WINDOW {
            // Starts before the next expected message (inconsistent) or too far ahead.
            counters.dropped_out_of_order += 1;
            self.ack_pending = true;
            return Ok(());
        }
        let start = chat.seq.wrapping_sub(index);
        let slot = match self.held_slot(start, chat, slots) {
            Some(slot) => slot,
            None if start == self.rx.next && self.evict_early(slots) => {
                // Our own early message gave way to the one due first.
                self.held_slot(start, chat, slots).ok_or(Starved)?
            }
            None if start == self.rx.next => return Err(Starved),
            None => {
                counters.dropped_busy += 1;
                self.ack_pending = true;
                return Ok(());
            }
        };
        match slots[usize::from(slot)].insert(chat.frag.index, chat.frag.count, chat.text) {
            Ok(true) => self.set_timer(
                Timer::Reassembly,
                Some(now + self.config.reassembly_timeout),
            ),
            Ok(false) => counters.duplicates += 1,
            Err(InsertError::TooLarge) => {
                counters.dropped_too_large += 1;
                return Ok(());
            }
            Err(InsertError::Inconsistent) => {
                counters.dropped_out_of_order += 1;
                return Ok(());
            }
        }
        self.ack_pending = true;
        self.advance(slots);
        Ok(())
    }

    /// Frees the buffer of one early message (held behind a gap, never acknowledged, so
    /// its sender will send it again), the farthest ahead first. Whether one was freed.
    pub(crate) fn evict_early<const B: usize>(&mut self, slots: &mut [Reassembly<B>]) -> bool {
        let next = self.rx.next;
        let early = self
            .rx
            .held
            .iter_mut()
            .filter(|e| e.is_some_and(|h| !h.ready && h.start != next))
            .max_by_key(|e| e.map_or(0, |h| ahead(next, h.start)));
        let Some(entry) = early else {
            return false;
        };
        if let Some(h) = entry.take() {
            slots[usize::from(h.slot)].release();
        }
        self.update_reassembly_timer();
        true
    }

    /// Adopts or follows the sender's `base` (see the module doc of [`super`]).
    fn follow_base<const B: usize>(&mut self, base: u32, slots: &mut [Reassembly<B>]) {
        if !self.rx.synced {
            self.rx.synced = true;
            self.rx.next = base;
            return;
        }
        let dist = ahead(self.rx.next, base);
        if dist != 0 && dist < HALF {
            // The sender gave up everything below `base`: what is complete there was
            // acknowledged and goes out; what is partial will never complete.
            self.settle_held(slots, Some(dist));
            self.rx.next = base;
            self.advance(slots);
        } else if dist >= HALF && dist.wrapping_neg() > RESTART_HORIZON {
            // The sender started over.
            self.settle_held(slots, None);
            self.rx.next = base;
        }
    }

    /// Held messages that start less than `within` ahead of `next` (all of them with
    /// `None`): complete ones become ready in sequence order, partial ones are dropped.
    /// (A bound, not a predicate closure: one copy of this is linked, not one per caller.)
    pub(super) fn settle_held<const B: usize>(
        &mut self,
        slots: &mut [Reassembly<B>],
        within: Option<u32>,
    ) {
        let next = self.rx.next;
        let matches = |start| within.is_none_or(|dist| ahead(next, start) < dist);
        // Oldest first: the lowest start counted from `next` (RX_HOLD is small).
        while let Some(h) = self
            .rx
            .held
            .iter_mut()
            .flatten()
            .filter(|h| !h.ready && matches(h.start))
            .min_by_key(|h| ahead(next, h.start))
        {
            if slots[usize::from(h.slot)].is_complete() {
                h.ready = true;
                h.order = self.rx.order;
                self.rx.order = self.rx.order.wrapping_add(1);
            } else {
                let slot = h.slot;
                slots[usize::from(slot)].release();
                self.rx.held.iter_mut().for_each(|e| {
                    if e.is_some_and(|h| h.slot == slot) {
                        *e = None;
                    }
                });
            }
        }
        self.update_reassembly_timer();
    }

    /// Drops every message not yet deliverable (partial, or complete behind a gap); returns
    /// whether there was one. None of them was acknowledged, so none counts as delivered.
    pub(super) fn drop_unready<const B: usize>(&mut self, slots: &mut [Reassembly<B>]) -> bool {
        let mut dropped = false;
        for entry in self.rx.held.iter_mut() {
            if let Some(h) = entry.filter(|h| !h.ready) {
                slots[usize::from(h.slot)].release();
                *entry = None;
                dropped = true;
            }
        }
        self.update_reassembly_timer();
        dropped
    }

    /// Moves `next` past every complete message that starts at it.
    fn advance<const B: usize>(&mut self, slots: &mut [Reassembly<B>]) {
        while let Some(h) = self.rx.held.iter_mut().flatten().find(|h| {
            !h.ready && h.start == self.rx.next && slots[usize::from(h.slot)].is_complete()
        }) {
            h.ready = true;
            h.order = self.rx.order;
            self.rx.order = self.rx.order.wrapping_add(1);
            let count = slots[usize::from(h.slot)].count();
            self.rx.next = self.rx.next.wrapping_add(u32::from(count));
        }
        // A held message that now starts behind `next` overlapped another: only a broken
        // or hostile sender does that. Free its buffer.
        let next = self.rx.next;
        for entry in self.rx.held.iter_mut() {
            if let Some(h) = entry.filter(|h| !h.ready && ahead(next, h.start) >= HALF) {
                slots[usize::from(h.slot)].release();
                *entry = None;
            }
        }
        self.update_reassembly_timer();
    }

    /// Stops the reassembly timer when nothing is partly received.
    fn update_reassembly_timer(&mut self) {
        let partial = self.rx.held.iter().flatten().any(|h| !h.ready);
        if !partial {
            self.set_timer(Timer::Reassembly, None);
        }
    }

    /// The buffer of the message starting at `start`, claiming one if there is room.
    fn held_slot<const B: usize>(
        &mut self,
        start: u32,
        chat: &Chat<'_>,
        slots: &mut [Reassembly<B>],
    ) -> Option<u8> {
        if let Some(h) = self
            .rx
            .held
            .iter()
            .flatten()
            .find(|h| !h.ready && h.start == start)
        {
            return Some(h.slot);
        }
        let entry = self.rx.held.iter().position(Option::is_none)?;
        let free = slots.iter().filter(|s| !s.in_use()).count();
        // A later message may not take the last free buffer: the next one may need it.
        let needed = if start == self.rx.next { 1 } else { 2 };
        if free < needed {
            return None;
        }
        let index = slots.iter().position(|s| !s.in_use())?;
        let slot = u8::try_from(index).ok()?;
        slots[index].claim(chat.frag.count, chat.to_all);
        self.rx.held[entry] = Some(Held {
            start,
            slot,
            ready: false,
            order: 0,
        });
        Some(slot)
    }

    /// The ack owed to the peer, if any (one per call: acks coalesce until polled).
    pub(crate) fn take_ack<const B: usize>(&mut self, slots: &[Reassembly<B>]) -> Option<Ack> {
        if !self.ack_pending {
            return None;
        }
        self.ack_pending = false;
        let mut next = self.rx.next;
        while self.holds(next, slots) {
            next = next.wrapping_add(1);
        }
        let above = (0..32u32)
            .filter(|&i| self.holds(next.wrapping_add(1 + i), slots))
            .fold(0u32, |bits, i| bits | 1 << i);
        Some(Ack { next, above })
    }

    /// Whether `seq` (at or after `next`) is stored in the next message to deliver.
    ///
    /// Fragments of later messages are stored but not acknowledged: an acknowledged
    /// message counts as delivered at its sender, so it must not wait behind one that
    /// the sender may still give up on (it would then never be handed out). They are
    /// acknowledged by the cumulative ack once the gap before them fills.
    fn holds<const B: usize>(&self, seq: u32, slots: &[Reassembly<B>]) -> bool {
        let next = self.rx.next;
        let current = self
            .rx
            .held
            .iter()
            .flatten()
            .filter(|h| !h.ready && h.start == next);
        current.into_iter().any(|h| {
            let i = ahead(h.start, seq);
            i < 16 && slots[usize::from(h.slot)].received() & (1 << i) != 0
        })
    }

    /// The buffer holding the next complete message to hand out, if any.
    pub(crate) fn ready_slot(&self) -> Option<u8> {
        let oldest = self.rx.held.iter().flatten().filter(|h| h.ready);
        oldest
            .min_by_key(|h| h.order.wrapping_sub(self.rx.order))
            .map(|h| h.slot)
    }

    /// The application has the message in `slot`: free the buffer.
    pub(crate) fn release_ready<const B: usize>(&mut self, slot: u8, slots: &mut [Reassembly<B>]) {
        for entry in self.rx.held.iter_mut() {
            if entry.is_some_and(|h| h.ready && h.slot == slot) {
                *entry = None;
            }
        }
        if let Some(buf) = slots.get_mut(usize::from(slot)) {
            buf.release();
        }
    }
}
