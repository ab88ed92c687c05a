//! A one-way in-memory link for the `core` scenario: a FIFO of datagrams with a rate,
//! a one-way delay and seeded random loss, in storage allocated once (no allocation
//! per datagram).

use std::collections::VecDeque;

use peerchat_proto::time::{Duration, Instant};
use peerchat_proto::wire::MAX_DATAGRAM;

use crate::sim::SimRng;

/// Datagrams on their way, in arrival order.
pub(super) struct Link {
    /// Bytes per second.
    rate: u64,
    delay: Duration,
    loss: f64,
    busy_until_ns: u64,
    /// `(arrival, slot, len)`, oldest first.
    queue: VecDeque<(Instant, usize, usize)>,
    slots: Vec<[u8; MAX_DATAGRAM]>,
    free: Vec<usize>,
    /// Datagrams offered, and lost at random.
    pub(super) sent: u64,
    pub(super) lost: u64,
}

impl Link {
    /// A link carrying `rate` bytes/s with `delay` one way, losing a `loss` fraction, with
    /// room for `capacity` datagrams in flight.
    pub(super) fn new(rate: u64, delay: Duration, loss: f64, capacity: usize) -> Link {
        let mut slots = vec![[0u8; MAX_DATAGRAM]; capacity];
        // Touch every page now, so that page faults are not timed as the nodes' work.
        for slot in &mut slots {
            slot.fill(1);
        }
        Link {
            rate,
            delay,
            loss,
            busy_until_ns: 0,
            queue: VecDeque::with_capacity(capacity),
            slots,
            free: (0..capacity).rev().collect(),
            sent: 0,
            lost: 0,
        }
    }

    /// A free buffer to write a datagram into, if the link has room.
    pub(super) fn buffer(&mut self) -> Option<(usize, &mut [u8; MAX_DATAGRAM])> {
        let slot = *self.free.last()?;
        Some((slot, &mut self.slots[slot]))
    }

    /// Sends the `len` bytes written into `slot` (from [`Self::buffer`]) at `now`.
    pub(super) fn send(&mut self, now: Instant, slot: usize, len: usize, rng: &mut SimRng) {
        self.sent += 1;
        let start = self.busy_until_ns.max(now.as_micros() * 1000);
        self.busy_until_ns = start + len as u64 * 1_000_000_000 / self.rate;
        if rng.chance(self.loss) {
            self.lost += 1;
            return;
        }
        self.free.pop();
        let arrival = Instant::from_micros(self.busy_until_ns.div_ceil(1000)) + self.delay;
        self.queue.push_back((arrival, slot, len));
    }

    /// When the next datagram arrives.
    pub(super) fn next_arrival(&self) -> Option<Instant> {
        self.queue.front().map(|&(at, _, _)| at)
    }

    /// The next datagram that has arrived by `now` (its buffer is free again after the
    /// next call).
    pub(super) fn receive(&mut self, now: Instant) -> Option<&[u8]> {
        let &(at, slot, len) = self.queue.front()?;
        if at > now {
            return None;
        }
        self.queue.pop_front();
        self.free.push(slot);
        Some(&self.slots[slot][..len])
    }
}
