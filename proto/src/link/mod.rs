//! Reliable messaging with one peer over datagrams.
//!
//! A `Link` owns both directions of the chat conversation with one peer:
//!
//! - **Sending.** Each message gets consecutive sequence numbers, one per fragment (a
//!   text is split on UTF-8 character boundaries into at most [`MAX_FRAGMENTS`] packets).
//!   Packets within a window of [`WINDOW`] sequence numbers above the lowest unsettled one
//!   are in flight at once. One retransmission timer per link (RFC 6298: SRTT, RTTVAR,
//!   clamped RTO, Karn's rule, exponential backoff) resends what is unacknowledged; a
//!   message whose packets went [`LinkConfig::max_tries`] times unanswered is given up
//!   and reported as failed — never dropped silently; then every message still queued
//!   for that peer fails with it. Every `Chat` carries the sender's `base` (lowest
//!   unsettled sequence number) so the receiver skips given-up messages.
//! - **Receiving.** Messages are delivered once each and in order: a packet below the
//!   next expected number is a duplicate (acknowledged again, not delivered); fragments
//!   are reassembled in buffers lent by the caller, the next message's and up to
//!   [`RX_HOLD`] in all (later messages that arrived early are kept but not acknowledged
//!   until the gap before them fills: an acknowledged message counts as delivered, so it
//!   must never wait behind one its sender may give up). Every packet makes the link owe
//!   one `Ack` (cumulative `next` plus a bitmap of the next message's fragments); acks
//!   for everything received between two `poll_transmit` calls are coalesced into one.
//!
//! A fresh link starts its sequence numbers at a random value from the host's seed, and a
//! fresh receiver adopts the first `base` it sees; together with the `base` check (a base
//! far behind the expected number means the sender started over) a peer that resets its
//! link is picked up without a handshake.
//!
//! Message texts live outside the link (the `Texts` trait) so that an endpoint can pool them
//! and share one copy of a message sent to everyone online.

mod frag;
mod rtt;
mod rx;
mod tx;

#[cfg(test)]
mod tests;

use heapless::Deque;

use crate::time::{Duration, Instant};
use crate::wire::MAX_FRAGMENTS;

pub(crate) use frag::{fragment_range, Reassembly};
pub use rtt::{RtoConfig, RttEstimator};

/// Sequence numbers a sender may have in flight above its lowest unsettled one.
pub const WINDOW: u32 = 32;

/// A base this far behind the next expected sequence number means the peer's link
/// started over (its new random start happened to be "behind" ours).
const RESTART_HORIZON: u32 = 1 << 16;

/// Identifies one sent message in `delivered`/`failed` events. A message sent to
/// everyone online has one id for all its copies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct MessageId(pub u32);

impl core::fmt::Display for MessageId {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Why a message was given up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum FailReason {
    /// The peer did not acknowledge it after every retry.
    Timeout,
    /// The peer left the roster before acknowledging it.
    PeerRemoved,
    /// The peer's address changed (a new session) before it acknowledged it.
    PeerChanged,
}

impl core::fmt::Display for FailReason {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            FailReason::Timeout => "no acknowledgement from the peer after every retry",
            FailReason::PeerRemoved => "the peer went offline",
            FailReason::PeerChanged => "the peer reconnected from another address",
        })
    }
}

impl core::error::Error for FailReason {}

/// Tuning of every link of an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct LinkConfig {
    /// Retransmission timing.
    pub rto: RtoConfig,
    /// Transmissions of a packet before its message fails (at least 1).
    pub max_tries: u8,
    /// Messages held but not deliverable (partial, or behind a gap) with no new fragment
    /// for this long are dropped, so a vanished sender cannot hold reassembly buffers
    /// forever. At least [`LinkConfig::give_up_bound`]: by then a sender that is still
    /// there has given the message up, so nothing it counts as delivered is lost.
    pub reassembly_timeout: Duration,
}

impl Default for LinkConfig {
    fn default() -> Self {
        LinkConfig {
            rto: RtoConfig::default(),
            max_tries: 16,
            reassembly_timeout: Duration::from_secs(35),
        }
    }
}

impl LinkConfig {
    /// An upper bound on the time from a message's first transmission to its `failed`
    /// event when the peer never answers.
    pub fn give_up_bound(&self) -> Duration {
        self.rto
            .max
            .saturating_mul(u64::from(self.max_tries.max(1)))
    }
}

/// Counts of what the links and the endpoint dropped or repeated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Counters {
    /// Datagrams whose source address is not the roster's address for their sender id.
    pub dropped_bad_source: u64,
    /// Datagrams that did not decode.
    pub dropped_undecodable: u64,
    /// Datagrams from ids not in the peer table.
    pub dropped_unknown_peer: u64,
    /// Peer packets of kinds this endpoint does not handle (probes, or file packets while
    /// no transfer manager is attached).
    pub dropped_unhandled: u64,
    /// Chat packets not stored for lack of a free reassembly buffer (resent later).
    pub dropped_busy: u64,
    /// Chat packets of a message too large for the reassembly buffer.
    pub dropped_too_large: u64,
    /// Chat packets of a later message, or inconsistent with the stored fragments.
    pub dropped_out_of_order: u64,
    /// Duplicate chat packets (acknowledged again, not delivered).
    pub duplicates: u64,
    /// Acks that acknowledge nothing we have in flight (stale, or from an old session).
    pub stale_acks: u64,
    /// Chat packets sent again after a timeout.
    pub retransmissions: u64,
    /// Times undeliverable held messages were dropped after
    /// [`LinkConfig::reassembly_timeout`].
    pub reassembly_timeouts: u64,
}

/// Read access to message texts stored outside the link.
pub(crate) trait Texts {
    /// The text's bytes (valid UTF-8).
    fn bytes(&self, text: TextRef) -> &[u8];
    /// The link no longer needs this text.
    fn release(&mut self, text: TextRef);
}

/// Handle of a stored text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TextRef(pub(crate) u16);

/// Timers of one link, indexing its timer table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Timer {
    /// Resend unacknowledged packets.
    Retransmit = 0,
    /// Drop a stalled reassembly.
    Reassembly = 1,
}

impl Timer {
    const COUNT: usize = 2;
}

/// What happened to a sent message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Every fragment was acknowledged.
    Delivered,
    /// Given up.
    Failed(FailReason),
}

#[derive(Debug, Clone, Copy)]
enum TxState {
    Pending,
    Done(Outcome),
}

/// One queued message on the sending side.
#[derive(Debug, Clone, Copy)]
struct TxMsg {
    id: MessageId,
    start: u32,
    count: u8,
    to_all: bool,
    text: TextRef,
    /// Fragments acknowledged.
    acked: u16,
    /// Fragments sent at least once.
    sent: u16,
    /// Fragments waiting to be (re)sent.
    need: u16,
    /// Transmissions of the most-tried fragment.
    tries: u8,
    last_sent: Instant,
    retransmitted: bool,
    state: TxState,
}

/// Messages one link may hold in reassembly buffers at once: the next one to deliver,
/// later ones that arrived early, and complete ones the application has not read yet.
pub const RX_HOLD: usize = 4;

/// A message held in a reassembly buffer.
#[derive(Debug, Clone, Copy)]
struct Held {
    /// Sequence number of its first fragment.
    start: u32,
    /// Index of the buffer in the endpoint's pool.
    slot: u8,
    /// Complete and passed by `next`: waiting to be handed out, in `order`.
    ready: bool,
    order: u32,
}

/// Receiving-side state.
#[derive(Debug, Clone, Copy)]
struct RxState {
    /// Next sequence number to deliver (always the start of a message).
    next: u32,
    /// Whether `next` has been learned from the peer's `base`.
    synced: bool,
    held: [Option<Held>; RX_HOLD],
    /// Counter giving ready messages their hand-out order.
    order: u32,
}

/// One chat packet chosen for sending (the caller encodes it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OutChat {
    pub(crate) seq: u32,
    pub(crate) base: u32,
    pub(crate) to_all: bool,
    pub(crate) index: u8,
    pub(crate) count: u8,
    pub(crate) text: TextRef,
}

/// Reliable, ordered chat with one peer; `Q` messages may be queued for sending.
#[derive(Debug)]
pub(crate) struct Link<const Q: usize> {
    config: LinkConfig,
    tx: Deque<TxMsg, Q>,
    next_seq: u32,
    rtt: RttEstimator,
    timers: [Option<Instant>; Timer::COUNT],
    rx: RxState,
    ack_pending: bool,
}

impl<const Q: usize> Link<Q> {
    /// A fresh link whose first sequence number is `isn`.
    pub(crate) fn new(config: LinkConfig, isn: u32) -> Self {
        const { assert!(MAX_FRAGMENTS <= 16, "fragment bitmaps are u16") };
        Link {
            config,
            tx: Deque::new(),
            next_seq: isn,
            rtt: RttEstimator::new(config.rto),
            timers: [None; Timer::COUNT],
            rx: RxState {
                next: 0,
                synced: false,
                held: [None; RX_HOLD],
                order: 0,
            },
            ack_pending: false,
        }
    }

    /// Starts over with sequence numbers from `isn`: every unsettled message fails with
    /// `reason`, a partial reassembly is dropped. A complete message not yet handed out
    /// stays (it was acknowledged, so it must not be lost) and so do unreported outcomes.
    /// The receiving side re-learns its position from the peer's next `base`.
    pub(crate) fn reset<const B: usize>(
        &mut self,
        isn: u32,
        reason: FailReason,
        texts: &mut impl Texts,
        slots: &mut [Reassembly<B>],
    ) {
        self.fail_pending(reason, texts);
        self.next_seq = isn;
        self.rtt = RttEstimator::new(self.config.rto);
        self.timers = [None; Timer::COUNT];
        self.settle_held(slots, None);
        self.rx.synced = false;
        self.ack_pending = false;
    }

    /// The earliest timer deadline.
    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        self.timers.iter().flatten().min().copied()
    }

    /// Runs expired timers.
    pub(crate) fn handle_timeout<const B: usize>(
        &mut self,
        now: Instant,
        texts: &mut impl Texts,
        slots: &mut [Reassembly<B>],
        counters: &mut Counters,
    ) {
        if self.expired(Timer::Retransmit, now) {
            self.on_retransmit_timeout(now, texts);
        }
        if self.expired(Timer::Reassembly, now) {
            self.timers[Timer::Reassembly as usize] = None;
            if self.drop_unready(slots) {
                counters.reassembly_timeouts += 1;
            }
        }
    }

    /// Whether nothing is queued, owed or held: the link may be forgotten.
    pub(crate) fn is_idle(&self) -> bool {
        self.tx.is_empty() && self.rx.held.iter().all(Option::is_none)
    }

    fn expired(&self, timer: Timer, now: Instant) -> bool {
        self.timers[timer as usize].is_some_and(|at| at <= now)
    }

    fn set_timer(&mut self, timer: Timer, at: Option<Instant>) {
        self.timers[timer as usize] = at;
    }
}

/// Serial-number distance from `from` forward to `to`.
const fn ahead(from: u32, to: u32) -> u32 {
    to.wrapping_sub(from)
}

/// Bitmap with the low `count` bits set.
const fn mask(count: u8) -> u16 {
    ((1u32 << count) - 1) as u16
}
