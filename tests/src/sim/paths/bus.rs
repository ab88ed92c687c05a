//! The control channel of the path simulation: reliable, in order, a fixed delay each
//! way. It carries the path messages (`Candidates`, `PunchRequest`, `PunchNotice`,
//! `RelayGrant`) as their encoded bytes, between each client and the directory.

use core::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use peerchat_proto::time::{Duration, Instant};
use peerchat_proto::wire::PeerId;

/// One end of the control channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BusEnd {
    /// The directory server.
    Directory,
    /// A client, by its directory id.
    Client(PeerId),
}

#[derive(Debug)]
struct Letter {
    at: Instant,
    to: BusEnd,
    from: PeerId,
    bytes: Vec<u8>,
}

/// Every control connection of a simulation (one delay for all keeps each in order).
#[derive(Debug)]
pub struct ControlBus {
    delay: Duration,
    queue: VecDeque<Letter>,
    /// Messages sent so far.
    pub sent: u64,
}

/// The bus, shared by the directory and the clients.
pub type Bus = Rc<RefCell<ControlBus>>;

impl ControlBus {
    /// A bus delivering each message `delay` after it is sent.
    pub fn new(delay: Duration) -> Bus {
        Rc::new(RefCell::new(ControlBus {
            delay,
            queue: VecDeque::new(),
            sent: 0,
        }))
    }

    /// Sends `bytes` from `from` (the directory is [`PeerId::SERVER`]) to `to`.
    pub fn send(&mut self, now: Instant, from: PeerId, to: BusEnd, bytes: Vec<u8>) {
        self.sent += 1;
        self.queue.push_back(Letter {
            at: now + self.delay,
            to,
            from,
            bytes,
        });
    }

    /// When the next message for `to` arrives.
    pub fn next_for(&self, to: BusEnd) -> Option<Instant> {
        self.queue.iter().find(|l| l.to == to).map(|l| l.at)
    }

    /// The messages for `to` that arrived by `now`, in order, with their senders.
    pub fn take(&mut self, now: Instant, to: BusEnd) -> Vec<(PeerId, Vec<u8>)> {
        let mut out = Vec::new();
        self.queue.retain_mut(|l| {
            if l.to == to && l.at <= now {
                out.push((l.from, core::mem::take(&mut l.bytes)));
                false
            } else {
                true
            }
        });
        out
    }
}
