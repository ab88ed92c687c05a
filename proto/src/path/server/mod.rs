//! [`PathServer`]: the directory's side of paths. It keeps each logged-in client's host
//! candidates and relay key, coordinates punches (a `PunchRequest` from one client makes a
//! `PunchNotice` for each side, at once), and runs the relay (in `forward.rs`).
//!
//! **The relay forwards** a `RelaySend` only if its MAC verifies under the sender's key
//! (handed out in `RelayGrant` over the encrypted control channel: so it comes from that
//! logged-in client, wherever its NAT maps it), its counter is new (a replay window per
//! client), the destination is a logged-in client that the two named in a punch request,
//! and the sender's [`ByteBudget`] allows its bytes. It reads nothing of the inner
//! datagram but its length: sealed packets stay sealed. The checks that cost nothing come
//! before the MAC; nothing is charged to a budget before the MAC verifies. A client over
//! its budget loses its own datagrams and no one else's: there is no shared queue.
//!
//! **Storage is lent by the caller**, one [`PathSlot`] per directory slot: a client's
//! [`PeerId`] names its slot as it does in the directory (`(id − 1) mod slots`), so the
//! table must be as long as the directory's.

mod forward;

use core::net::SocketAddr;

use heapless::Vec;

use super::bucket::ByteBudget;
use crate::crypto::replay::ReplayWindow;
use crate::crypto::Budget;
use crate::time::Instant;
use crate::wire::v2_path::{
    Candidate, CandidateKind, PathServerMsg, PunchRefusal, MAX_CANDIDATES, MAX_HOST_CANDIDATES,
    RELAY_KEY_LEN,
};
use crate::wire::{DecodeError, PeerId, WireAddr};

/// Peers one client may reach through the relay: the last it named (or that named it).
pub const RELAY_PEERS: usize = 8;
/// Replay-window words of a client's relay counter: 192 datagrams of reordering.
pub const RELAY_WINDOW_WORDS: usize = 4;
/// Default bytes per second the relay forwards for one client (`--relay-rate`).
pub const DEFAULT_RELAY_RATE: u32 = 2 * 1024 * 1024;
/// Default bytes the relay forwards for one client in one burst (`--relay-budget`).
pub const DEFAULT_RELAY_BUDGET: u32 = 1024 * 1024;
/// Punch requests one client may make per second, sustained.
pub const PUNCH_REQUESTS_PER_SEC: u32 = 4;
/// Punch requests one client may make at once.
pub const PUNCH_REQUEST_BURST: u32 = 8;

/// The relay's terms, the same for every client. `rate` or `budget` 0: the relay is off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct RelayConfig {
    /// Bytes per second forwarded for one client, sustained.
    pub rate: u32,
    /// Bytes forwarded for one client in one burst.
    pub budget: u32,
}

impl RelayConfig {
    /// The defaults: [`DEFAULT_RELAY_RATE`], [`DEFAULT_RELAY_BUDGET`].
    pub const DEFAULT: RelayConfig = RelayConfig {
        rate: DEFAULT_RELAY_RATE,
        budget: DEFAULT_RELAY_BUDGET,
    };
    /// No relay.
    pub const OFF: RelayConfig = RelayConfig { rate: 0, budget: 0 };

    /// Whether the relay forwards anything.
    pub const fn enabled(&self) -> bool {
        self.rate > 0 && self.budget > 0
    }
}

/// Why a slot could not be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum SlotError {
    /// The id names a slot held by another client (the table is shorter than the
    /// directory's), or no slot at all.
    Taken,
    /// No client with this id was admitted.
    Unknown,
}

/// One client's state: its key, replay window, budget, return address, the peers it
/// may relay to and its host candidates.
#[derive(Debug, Clone)]
pub struct PathSlot {
    id: PeerId,
    key: [u8; RELAY_KEY_LEN],
    window: ReplayWindow<RELAY_WINDOW_WORDS>,
    bucket: ByteBudget,
    /// Where deliveries to this client go: the source of its newest authenticated relay
    /// datagram, or its probe's.
    return_addr: Option<SocketAddr>,
    /// Most recently named first; `PeerId::SERVER` is an empty entry.
    peers: [PeerId; RELAY_PEERS],
    host: Vec<WireAddr, MAX_HOST_CANDIDATES>,
    punches: Budget,
}

impl PathSlot {
    /// A free slot.
    pub const EMPTY: PathSlot = PathSlot {
        id: PeerId::SERVER,
        key: [0; RELAY_KEY_LEN],
        window: ReplayWindow::new(),
        bucket: ByteBudget::new(Instant::ZERO, 0, 0),
        return_addr: None,
        peers: [PeerId::SERVER; RELAY_PEERS],
        host: Vec::new(),
        punches: Budget::new(PUNCH_REQUESTS_PER_SEC, PUNCH_REQUEST_BURST),
    };

    fn is_live(&self) -> bool {
        self.id != PeerId::SERVER
    }

    /// Whether `peer` is one this client may relay to.
    fn names(&self, peer: PeerId) -> bool {
        peer != PeerId::SERVER && self.peers.contains(&peer)
    }

    /// Puts `peer` first among the peers this client may relay to.
    fn name(&mut self, peer: PeerId) {
        let at = self
            .peers
            .iter()
            .position(|p| *p == peer)
            .unwrap_or(RELAY_PEERS - 1);
        self.peers[..=at].rotate_right(1);
        self.peers[0] = peer;
    }
}

/// What the server's relay did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct PathServerStats {
    /// Datagrams forwarded.
    pub forwarded: u64,
    /// Bytes of those datagrams, as received.
    pub forwarded_bytes: u64,
    /// Registrations taken.
    pub registrations: u64,
    /// Datagrams dropped because their sender was over its budget.
    pub throttled: u64,
    /// Datagrams dropped for any other reason.
    pub dropped: u64,
    /// Of those, MACs that did not verify.
    pub bad_mac: u64,
    /// Punch requests coordinated.
    pub punches: u64,
}

/// The two notices a punch request makes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PunchNotices {
    /// For the client that asked: the peer's candidates.
    pub to_requester: PathServerMsg,
    /// For the peer: the requester's candidates.
    pub to_peer: PathServerMsg,
}

/// The directory's side of paths over caller-lent slots `S`. A clone holds the same
/// state (fuzzing starts many runs from one).
#[derive(Debug, Clone)]
pub struct PathServer<S> {
    slots: S,
    config: RelayConfig,
    stats: PathServerStats,
}

impl<S: AsRef<[PathSlot]> + AsMut<[PathSlot]>> PathServer<S> {
    /// A server over `slots` (as many as the directory's), every one freed.
    pub fn new(mut slots: S, config: RelayConfig) -> Self {
        slots.as_mut().fill(PathSlot::EMPTY);
        PathServer {
            slots,
            config,
            stats: PathServerStats::default(),
        }
    }

    /// The relay's terms.
    pub fn config(&self) -> RelayConfig {
        self.config
    }

    /// What the relay did so far.
    pub fn stats(&self) -> PathServerStats {
        self.stats
    }

    fn index(&self, id: PeerId) -> Option<usize> {
        let n = self.slots.as_ref().len();
        let raw = usize::try_from(id.0.checked_sub(1)?).ok()?;
        (n > 0).then(|| raw % n)
    }

    pub(super) fn slot(&self, id: PeerId) -> Option<&PathSlot> {
        let s = &self.slots.as_ref()[self.index(id)?];
        (s.is_live() && s.id == id).then_some(s)
    }

    pub(super) fn slot_mut(&mut self, id: PeerId) -> Option<&mut PathSlot> {
        let i = self.index(id)?;
        let s = &mut self.slots.as_mut()[i];
        (s.is_live() && s.id == id).then_some(s)
    }

    /// A client logged in as `id`; `key` is 32 fresh random bytes from the host, and
    /// `probed` its UDP address if already known. Returns the `RelayGrant` to send it
    /// (zero terms when the relay is off).
    pub fn admit(
        &mut self,
        now: Instant,
        id: PeerId,
        key: [u8; RELAY_KEY_LEN],
        probed: Option<SocketAddr>,
    ) -> Result<PathServerMsg, SlotError> {
        let i = self.index(id).ok_or(SlotError::Taken)?;
        let s = &mut self.slots.as_mut()[i];
        if s.is_live() && s.id != id {
            return Err(SlotError::Taken);
        }
        let config = self.config;
        *s = PathSlot {
            id,
            key,
            bucket: ByteBudget::new(now, config.rate, config.budget),
            return_addr: probed,
            ..PathSlot::EMPTY
        };
        Ok(PathServerMsg::RelayGrant {
            key: if config.enabled() { key } else { [0; 32] },
            rate: config.rate,
            budget: config.budget,
        })
    }

    /// The client left: its slot is freed and its key wiped.
    pub fn release(&mut self, id: PeerId) {
        if let Some(s) = self.slot_mut(id) {
            *s = PathSlot::EMPTY;
        }
    }

    /// The directory saw the client's UDP probe come from `addr`.
    pub fn set_return_addr(&mut self, id: PeerId, addr: SocketAddr) -> Result<(), SlotError> {
        self.slot_mut(id).ok_or(SlotError::Unknown)?.return_addr = Some(addr);
        Ok(())
    }

    /// The client's `Candidates`: its host candidates, replacing the last.
    pub fn handle_candidates(&mut self, id: PeerId, host: &[WireAddr]) -> Result<(), SlotError> {
        let s = self.slot_mut(id).ok_or(SlotError::Unknown)?;
        s.host = host.iter().copied().take(MAX_HOST_CANDIDATES).collect();
        Ok(())
    }

    /// The candidates of `id` as a notice hands them out: its host candidates, then
    /// `reflexive` (the address the directory publishes for it).
    pub fn candidates(
        &self,
        id: PeerId,
        reflexive: Option<WireAddr>,
    ) -> Vec<Candidate, MAX_CANDIDATES> {
        let host = self.slot(id).map(|s| &s.host[..]).unwrap_or(&[]);
        let host = host.iter().map(|&addr| Candidate {
            kind: CandidateKind::Host,
            addr,
        });
        let reflexive = reflexive.map(|addr| Candidate {
            kind: CandidateKind::ServerReflexive,
            addr,
        });
        // At most four host candidates and one more: it fits.
        host.chain(reflexive).take(MAX_CANDIDATES).collect()
    }

    /// `from` asks for a path to `to`. `from_addr` and `to_addr` are the addresses the
    /// directory publishes for each. On success each side gets a notice with the other's
    /// candidates (send both at once), and each may relay to the other from now on.
    pub fn handle_punch_request(
        &mut self,
        now: Instant,
        from: PeerId,
        from_addr: Option<WireAddr>,
        to: PeerId,
        to_addr: Option<WireAddr>,
    ) -> Result<PunchNotices, PathServerMsg> {
        let refused = |reason| PathServerMsg::PunchRefused { peer: to, reason };
        if from == to {
            return Err(refused(PunchRefusal::Yourself));
        }
        if self.slot(to).is_none() {
            return Err(refused(PunchRefusal::Offline));
        }
        let requester = self.slot_mut(from).ok_or(refused(PunchRefusal::Offline))?;
        if !requester.punches.try_take(now) {
            return Err(refused(PunchRefusal::TooSoon));
        }
        requester.name(to);
        if let Some(peer) = self.slot_mut(to) {
            peer.name(from);
        }
        self.stats.punches += 1;
        Ok(PunchNotices {
            to_requester: PathServerMsg::PunchNotice {
                peer: to,
                candidates: self.candidates(to, to_addr),
            },
            to_peer: PathServerMsg::PunchNotice {
                peer: from,
                candidates: self.candidates(from, from_addr),
            },
        })
    }
}

/// A relay datagram that was forwarded: where the `RelayDeliver` in the caller's buffer
/// goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct RelayForward {
    /// The destination client's address.
    pub dst: SocketAddr,
    /// The `RelayDeliver`'s length, from the start of the buffer.
    pub len: usize,
}

/// Why the relay dropped a datagram. None of these changes any state but a counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum RelayDrop {
    /// Not a well-formed `RelaySend`.
    Malformed(DecodeError),
    /// The relay is off.
    Disabled,
    /// No logged-in client has the sender's id.
    UnknownSender,
    /// The MAC did not verify: not from that client, or altered.
    BadMac,
    /// The counter was seen before, or is too far behind.
    Replay,
    /// Neither side named the other in a punch request.
    NotNamed,
    /// The destination is not logged in.
    Offline,
    /// The destination's address is not known yet.
    NoAddress,
    /// The sender is over its budget.
    Throttled,
    /// A datagram with nothing inside for a peer, or something inside for the server.
    Empty,
    /// The output buffer is too small; `needed` bytes would do.
    BufferTooSmall {
        /// Bytes the delivery needs.
        needed: usize,
    },
}

#[cfg(test)]
mod tests;
