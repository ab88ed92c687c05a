//! The peer channel: encryption and authentication of every datagram to and from one
//! peer, following WireGuard's design.
//!
//! - **Handshake**: Noise `IK` (one round trip, forward secrecy; the initiator knows the
//!   peer's key from the directory and proves its own), in `handshake.rs`. Every attempt
//!   uses a new ephemeral key and a new **key epoch**, which names the session. Epochs
//!   the peer with the smaller `(key, id)` starts are even, the other's odd, so two
//!   handshakes crossing each other never share one.
//! - **Sessions**: each handshake yields a session (two ChaCha20-Poly1305 keys). A
//!   channel keeps the *current* one, the *previous* one (until it is
//!   [`REJECT_AFTER_TIME`] old, as WireGuard does: packets in flight still open after a
//!   rekey, and after two handshakes cross, each side may seal with the session the other
//!   holds as its previous) and, as a responder, one *pending* session that becomes current when
//!   the first packet sealed under it arrives (key confirmation), in `transport.rs`.
//! - **Sealed packets**: the header (version, kind, flags, sender, epoch, counter) in the
//!   clear as associated data; the counter as the nonce; an RFC 6479 replay window of
//!   `(W − 1) × 64` packets ([`DEFAULT_WINDOW_WORDS`]).
//! - **Timers** (WireGuard's): a new handshake when the current session reaches
//!   [`REKEY_AFTER_TIME`] (its initiator first, its responder [`2 × REKEY_TIMEOUT`] later)
//!   or [`REKEY_AFTER_MESSAGES`]; no key seals or opens after [`REJECT_AFTER_TIME`];
//!   handshake retries back off from [`HANDSHAKE_RETRY_INITIAL`] to
//!   [`HANDSHAKE_RETRY_MAX`] and stop after [`REKEY_ATTEMPT_TIME`]; keepalives; all keys
//!   wiped after [`EXPIRE_AFTER`] without a new session.
//!
//! A channel is sans-IO like the rest of the core: the host passes `now`, lends buffers
//! and randomness, drains [`PeerChannel::poll_transmit`] and [`PeerChannel::poll_event`]
//! and wakes at [`PeerChannel::poll_timeout`]. Handshake messages reach it only with a
//! [`HandshakeTicket`] from the endpoint's [`HandshakeGuard`](super::HandshakeGuard).
//!
//! [`2 × REKEY_TIMEOUT`]: REKEY_TIMEOUT

mod handshake;
mod session;
mod timers;
mod transport;
mod types;

use core::net::SocketAddr;

use rand_core::CryptoRng;

use self::handshake::InFlight;
use self::session::{Session, SessionKeys};
use self::timers::{ChannelTimer, TimerTable};
pub use self::types::{
    ChannelEvent, ChannelStats, ChannelTransmit, HandshakeError, OpenError, Opened, SealError,
};
use super::cookie::MacKeys;
use super::keys::{Keypair, PublicKey};
use super::primitives::MAC_LEN;
use crate::time::{Duration, Instant};
use crate::wire::PeerId;

#[cfg(doc)]
use super::guard::HandshakeTicket;

/// Replay-window words of a desktop channel: 1023 × 64 = 65 472 packets, more than
/// eight files' windows of 8192 chunks in flight to one peer at once.
pub const DEFAULT_WINDOW_WORDS: usize = 1024;

/// A session's age at which its initiator starts a new handshake.
pub const REKEY_AFTER_TIME: Duration = Duration::from_secs(120);
/// A session's age after which it neither seals nor opens.
pub const REJECT_AFTER_TIME: Duration = Duration::from_secs(180);
/// How long a round of handshake attempts lasts before the channel gives up.
pub const REKEY_ATTEMPT_TIME: Duration = Duration::from_secs(90);
/// How long the peer must be quiet before a lower epoch is taken for a restart; how long
/// a young pending session keeps us from starting a handshake of our own.
pub const REKEY_TIMEOUT: Duration = Duration::from_secs(5);
/// Received data unanswered this long gets a keepalive; sent data unanswered this long
/// (plus [`REKEY_TIMEOUT`]) gets a new handshake.
pub const KEEPALIVE_TIMEOUT: Duration = Duration::from_secs(10);
/// First wait before sending an initiation again; it doubles with each try.
pub const HANDSHAKE_RETRY_INITIAL: Duration = Duration::from_secs(1);
/// Longest wait between two initiations.
pub const HANDSHAKE_RETRY_MAX: Duration = Duration::from_secs(8);
/// Random extra wait added to each retry, at most.
pub const HANDSHAKE_JITTER: Duration = Duration::from_millis(333);
/// Without a new session for this long, every key of the channel is wiped.
pub const EXPIRE_AFTER: Duration = Duration::from_secs(540);
/// Packets one session seals before a new handshake starts.
pub const REKEY_AFTER_MESSAGES: u64 = 1 << 60;

/// The fixed part of the peer handshake's Noise prologue; the initiation's first ten
/// bytes (version, kind, sender, epoch) follow it.
pub(crate) const PEER_PROLOGUE: &[u8] = b"peerchat v2 peer";

/// A responder's session waiting for the initiator's first packet.
#[derive(Clone)]
struct Pending {
    keys: SessionKeys,
    born: Instant,
}

/// Events not yet polled (flags: no queue to overflow).
#[derive(Default, Clone)]
struct Events {
    established: Option<u32>,
    moved: Option<SocketAddr>,
    gave_up: bool,
}

/// Everything about the cryptographic link to one peer. A clone holds the same keys
/// (tests and fuzzing start many runs from one state).
#[derive(Clone)]
pub struct PeerChannel<const W: usize = DEFAULT_WINDOW_WORDS> {
    local_id: PeerId,
    peer_id: PeerId,
    peer_key: PublicKey,
    peer_macs: MacKeys,
    /// Low bit of the epochs we start.
    parity: u32,
    addr: SocketAddr,
    /// The address before a move: where to go back if the move turns out to be a copy
    /// raced from elsewhere, or the peer stays silent at the new address.
    fallback: Option<SocketAddr>,
    sessions: [Session<W>; 2],
    current: usize,
    pending: Option<Pending>,
    in_flight: Option<InFlight>,
    want_initiation: bool,
    want_keepalive: bool,
    next_epoch: Option<u32>,
    /// The newest confirmed epoch the peer started.
    floor: Option<u32>,
    last_received: Option<Instant>,
    cookie: Option<([u8; MAC_LEN], Instant)>,
    timers: TimerTable,
    events: Events,
    stats: ChannelStats,
}

impl<const W: usize> PeerChannel<W> {
    /// A channel from us (`local` key, directory id `local_id`) to `peer_id`, whose key
    /// the directory gave as `peer_key` and whose datagrams go to `addr`. No handshake
    /// starts until there is something to seal or [`PeerChannel::connect`].
    pub fn new(
        local: &PublicKey,
        local_id: PeerId,
        peer_id: PeerId,
        peer_key: PublicKey,
        addr: SocketAddr,
    ) -> Self {
        let parity = u32::from((local, local_id.0) > (&peer_key, peer_id.0));
        PeerChannel {
            local_id,
            peer_id,
            peer_key,
            peer_macs: MacKeys::new(&peer_key),
            parity,
            addr,
            fallback: None,
            sessions: [Session::empty(), Session::empty()],
            current: 0,
            pending: None,
            in_flight: None,
            want_initiation: false,
            want_keepalive: false,
            next_epoch: None,
            floor: None,
            last_received: None,
            cookie: None,
            timers: TimerTable::default(),
            events: Events::default(),
            stats: ChannelStats::default(),
        }
    }

    /// The peer's directory id.
    pub fn peer_id(&self) -> PeerId {
        self.peer_id
    }

    /// The peer's static key this channel authenticates.
    pub fn peer_key(&self) -> &PublicKey {
        &self.peer_key
    }

    /// Where the peer's datagrams go.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Points the channel at a new address (the directory published one).
    pub fn set_addr(&mut self, addr: SocketAddr) {
        self.addr = addr;
        self.fallback = None;
    }

    /// Whether a packet can be sealed at `now` without waiting for a handshake.
    pub fn can_seal(&self, now: Instant) -> bool {
        self.sessions[self.current].can_seal(now)
    }

    /// What the channel did so far.
    pub fn stats(&self) -> ChannelStats {
        self.stats
    }

    /// Starts a handshake now unless one is under way or a session can seal.
    pub fn connect(&mut self, now: Instant) {
        if !self.can_seal(now) {
            self.demand_handshake(now);
        }
    }

    /// Asks for a new handshake unless one is already under way (ours in flight, or the
    /// peer's pending and young).
    fn demand_handshake(&mut self, now: Instant) {
        let pending_young = self
            .pending
            .as_ref()
            .is_some_and(|p| now - p.born < REKEY_TIMEOUT);
        if self.in_flight.is_none() && !pending_young {
            self.want_initiation = true;
        }
    }

    /// Starts a rekey when the current session is old or worn: its initiator at
    /// [`REKEY_AFTER_TIME`], its responder a little later.
    fn rekey_if_due(&mut self, now: Instant) {
        let cur = &self.sessions[self.current];
        if !cur.live {
            return;
        }
        let due = match cur.we_initiated {
            true => REKEY_AFTER_TIME,
            false => REKEY_AFTER_TIME + REKEY_TIMEOUT.saturating_mul(2),
        };
        if now - cur.born >= due || cur.counter_worn() {
            self.demand_handshake(now);
        }
    }

    /// The next datagram the channel itself wants sent (an initiation or a keepalive),
    /// written into `buf` (at least `INITIATION_LEN` bytes).
    pub fn poll_transmit<R: CryptoRng + ?Sized>(
        &mut self,
        now: Instant,
        local: &Keypair,
        rng: &mut R,
        buf: &mut [u8],
    ) -> Option<ChannelTransmit> {
        if self.want_initiation {
            self.want_initiation = false;
            if let Some(len) = self.write_initiation(now, local, rng, buf) {
                return Some(ChannelTransmit {
                    dst: self.addr,
                    len,
                });
            }
        }
        if self.want_keepalive {
            self.want_keepalive = false;
            if let Ok(len) = self.seal(now, buf, 0) {
                return Some(ChannelTransmit {
                    dst: self.addr,
                    len,
                });
            }
        }
        None
    }

    /// When [`PeerChannel::handle_timeout`] must run next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.next()
    }

    /// Runs every timer due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some(timer) = self.timers.take_due(now) {
            match timer {
                ChannelTimer::Retry => self.retry(now),
                ChannelTimer::Keepalive => self.want_keepalive = self.can_seal(now),
                ChannelTimer::DeadPeer => self.peer_silent(now),
                ChannelTimer::DropPrevious => self.sessions[1 - self.current].clear(),
                ChannelTimer::Expire => self.expire(),
            }
        }
    }

    /// The next event, if any.
    pub fn poll_event(&mut self) -> Option<ChannelEvent> {
        if let Some(epoch) = self.events.established.take() {
            return Some(ChannelEvent::Established { epoch });
        }
        if let Some(addr) = self.events.moved.take() {
            return Some(ChannelEvent::Moved { addr });
        }
        if core::mem::take(&mut self.events.gave_up) {
            return Some(ChannelEvent::HandshakeGaveUp);
        }
        None
    }

    /// Wipes every key; the epoch floor stays (it is what refuses old replays).
    fn expire(&mut self) {
        for s in &mut self.sessions {
            s.clear();
        }
        self.pending = None;
        self.in_flight = None;
        self.cookie = None;
        self.want_initiation = false;
        self.want_keepalive = false;
        self.timers.clear();
    }

    /// Makes `keys` the current session; the current one becomes the previous.
    fn install(&mut self, keys: SessionKeys, now: Instant) {
        let slot = 1 - self.current;
        self.sessions[slot].install(keys, now);
        self.current = slot;
        let previous = &self.sessions[1 - slot];
        if previous.live {
            self.timers.set(
                ChannelTimer::DropPrevious,
                previous.born + REJECT_AFTER_TIME,
            );
        }
        self.timers.set(ChannelTimer::Expire, now + EXPIRE_AFTER);
        self.stats.handshakes_completed += 1;
        self.events.established = Some(self.sessions[slot].epoch);
    }

    /// Records that the peer moved to `src`, keeping the address before as a fallback
    /// (see `transport.rs`).
    fn moved_to(&mut self, src: SocketAddr) {
        if src == self.addr {
            return;
        }
        if self.fallback == Some(src) {
            self.fallback = None;
        } else if self.fallback.is_none() {
            self.fallback = Some(self.addr);
        }
        self.addr = src;
        self.events.moved = Some(src);
        self.stats.moves += 1;
    }

    /// We sent data and heard nothing back for `KEEPALIVE_TIMEOUT + REKEY_TIMEOUT`: the
    /// peer may have lost our session, or a move was a copy raced from elsewhere. Go
    /// back to the address before an unconfirmed move, and start a handshake.
    fn peer_silent(&mut self, now: Instant) {
        self.undo_move();
        self.demand_handshake(now);
    }

    /// Goes back to the address before the last move, if there was one.
    fn undo_move(&mut self) {
        if let Some(back) = self.fallback.take() {
            self.addr = back;
            self.events.moved = Some(back);
            self.stats.moves += 1;
        }
    }
}

impl<const W: usize> core::fmt::Debug for PeerChannel<W> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PeerChannel")
            .field("peer_id", &self.peer_id)
            .field("addr", &self.addr)
            .field("epoch", &self.sessions[self.current].epoch)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests;
