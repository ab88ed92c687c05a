//! Paths between peers: how one client's datagrams reach another through NATs, by a
//! direct path opened by hole punching or, as a last resort, through the directory
//! server's relay. Sans-IO like the rest of the core: no socket, no clock, no allocation.
//!
//! | item | owns |
//! | --- | --- |
//! | [`LocalCandidates`] | our own candidates: host addresses (from the host) and the server-reflexive one (the probe's answer) |
//! | [`PathAgent`] | one peer's path: its candidates, the checks over each, the chosen [`Route`], keepalives, liveness, the fall back to the relay and the move back to direct |
//! | [`RelayClient`] | a client's end of the relay: wraps datagrams in `RelaySend` (MAC, counter) and unwraps `RelayDeliver` |
//! | [`PathServer`] | the directory's end: clients' host candidates, punch coordination, and the relay itself (only logged-in clients, only to peers they named, a byte budget each) |
//!
//! The bytes are in `crate::wire::v2_path` and `crate::wire::v2_relay`, and in
//! `docs/PROTOCOL-v2-paths.md` with golden vectors.
//!
//! # How a path is found
//!
//! 1. A client that has something for a peer it has no path to calls
//!    [`PathAgent::want`]; the agent asks for a rendezvous ([`PathEvent::Rendezvous`]: the
//!    host sends `PunchRequest` on the control channel) and starts checking the address
//!    the directory published for the peer.
//! 2. The directory answers both clients at once with a `PunchNotice` carrying the
//!    other's candidates ([`PathAgent::handle_notice`]), so both NATs open their mappings
//!    toward each other at the same time.
//! 3. Each side sends **checks** to every candidate, paced ([`CHECK_PACE`]) and repeated
//!    every [`CHECK_INTERVAL`]. A check is a sealed `Ping` (so it rides on the peer
//!    channel's keys: only the genuine peer can answer it) answered by a sealed `Pong`
//!    back where the ping came from. Before the two have a session, the check is the
//!    channel's handshake initiation itself, copied to every candidate
//!    ([`PathAgent::handle_initiation`]): the first copy through makes the session, and the
//!    pings follow.
//! 4. The first route that answers becomes the path ([`PathEvent::Selected`]); a better
//!    one found later (a host candidate: the same LAN) replaces it. A ping that arrives
//!    from an address no candidate names teaches a peer-reflexive candidate (a NAT that
//!    maps per destination), which is checked in turn.
//! 5. With no direct route after [`RELAY_AFTER`], the relay (checked alongside) becomes the
//!    path; without a relay the agent reports [`PathEvent::NoPath`]. Fast checks end after
//!    [`PUNCH_WINDOW`]; then rounds keep trying in the background, doubling from
//!    [`BACKGROUND_INITIAL`] to [`BACKGROUND_MAX`]: each asks for a rendezvous again (both
//!    sides check in step, with the candidates the directory knows by then) and sends a
//!    burst of checks; a direct route that answers replaces the relay.
//!
//! Once a path is chosen, a keepalive ping goes out whenever nothing was sent on it for
//! [`PathConfig::keepalive`] (25 s: NAT mappings for UDP commonly last 30 s); the side
//! with the greater directory id waits [`KEEPALIVE_FOLLOW`] longer, so while both are
//! there an idle path costs one ping and one pong per interval. A path
//! that stops answering ([`LIVENESS_ATTEMPTS`] pings, [`LIVENESS_INTERVAL`] apart) is lost:
//! the agent reports [`PathEvent::Lost`] and looks for another at once.
//!
//! # Driving an agent (what the endpoint does per peer)
//!
//! - Every datagram for the peer goes to [`PathAgent::route`] (`None`: hold it); call
//!   [`PathAgent::handle_sent`] after sending data there.
//! - The peer channel's initiations go to [`PathAgent::handle_initiation`], not out: the
//!   agent sends them where they must go. Its keepalives go to the route.
//! - An authenticated sealed packet from the peer: a [`PathCheck`] payload goes to
//!   [`PathAgent::handle_check`], anything else to the application and
//!   [`PathAgent::handle_inbound`]. A channel `Moved` event goes to
//!   [`PathAgent::handle_moved`]. A handshake response or cookie reply goes back the way
//!   its initiation came.
//! - Drain [`PathAgent::poll_transmit`] (it seals with the peer's channel) and
//!   [`PathAgent::poll_event`]; wake at [`PathAgent::poll_timeout`].
//!
//! [`PathCheck`]: crate::wire::v2_path::PathCheck

mod agent;
mod bucket;
mod candidates;
mod checks;
mod output;
mod received;
mod relay_client;
pub mod server;

use core::net::SocketAddr;

pub use agent::{PathAgent, PathStats};
pub use bucket::ByteBudget;
pub use candidates::LocalCandidates;
pub use output::PATH_BUFFER;
pub use relay_client::{RelayClient, RelayClientError, RelayInbound};
pub use server::{
    PathServer, PathServerStats, PathSlot, PunchNotices, RelayConfig, RelayDrop, RelayForward,
    SlotError,
};

use crate::time::Duration;

/// Checks to one candidate repeat this often while punching.
pub const CHECK_INTERVAL: Duration = Duration::from_millis(100);
/// Two checks of one agent leave at least this far apart.
pub const CHECK_PACE: Duration = Duration::from_millis(10);
/// With no direct route this long after punching began, the relay becomes the path.
pub const RELAY_AFTER: Duration = Duration::from_secs(2);
/// Fast checks last this long; background rounds follow.
pub const PUNCH_WINDOW: Duration = Duration::from_secs(5);
/// The first wait between two background rounds; it doubles each round.
pub const BACKGROUND_INITIAL: Duration = Duration::from_secs(2);
/// The longest wait between two background rounds.
pub const BACKGROUND_MAX: Duration = Duration::from_secs(16);
/// Default idle time on a path before a keepalive ping.
pub const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(25);
/// How much later than the leading side the other sends its keepalive.
pub const KEEPALIVE_FOLLOW: Duration = Duration::from_secs(2);
/// Data sent on the path and nothing heard back for this long: ping it.
pub const SILENCE: Duration = Duration::from_secs(4);
/// Liveness pings of a path that went quiet leave this far apart.
pub const LIVENESS_INTERVAL: Duration = Duration::from_millis(500);
/// Unanswered liveness pings after which a path is lost.
pub const LIVENESS_ATTEMPTS: u8 = 8;
/// Most routes one agent checks: the peer's candidates, three peer-reflexive ones and
/// the relay.
pub const MAX_ROUTES: usize = crate::wire::v2_path::MAX_CANDIDATES + 4;

/// Where datagrams to a peer go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Route {
    /// Straight to this address.
    Direct(SocketAddr),
    /// Through the directory server's relay (wrapped by [`RelayClient`]).
    Relay,
}

impl Route {
    /// Whether the route is direct.
    pub const fn is_direct(&self) -> bool {
        matches!(self, Route::Direct(_))
    }
}

/// How a route was learned; it ranks routes (a higher rank wins).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum RouteKind {
    /// Through the relay: the last resort.
    Relay,
    /// An address the peer's packets came from that no candidate named (its NAT maps
    /// per destination).
    PeerReflexive,
    /// The peer's NAT mapping as the directory saw it.
    ServerReflexive,
    /// One of the peer's own interfaces: the same LAN, or no NAT at all.
    Host,
}

impl RouteKind {
    /// A route's rank; direct routes of the same rank do not replace each other.
    pub(crate) const fn rank(self) -> u8 {
        match self {
            RouteKind::Relay => 0,
            RouteKind::PeerReflexive | RouteKind::ServerReflexive => 1,
            RouteKind::Host => 2,
        }
    }
}

/// Why a peer has no path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum NoPathReason {
    /// No direct route answered and the directory's relay is off.
    RelayDisabled,
    /// Nothing answered, not even through the relay.
    Unreachable,
}

impl core::fmt::Display for NoPathReason {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            NoPathReason::RelayDisabled => "relay disabled",
            NoPathReason::Unreachable => "no answer on any path, the relay included",
        })
    }
}

/// What the host must learn about one peer's path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum PathEvent {
    /// Ask the directory to coordinate a punch: send `PunchRequest { peer }`.
    Rendezvous,
    /// Datagrams to the peer now take `route` (the host's `path` event: `kind` direct or
    /// relayed, and the address).
    Selected {
        /// The route.
        route: Route,
        /// How it was learned.
        kind: RouteKind,
    },
    /// The path stopped answering; the agent is looking for another (datagrams wait).
    Lost,
    /// No route works: messages to the peer fail with this reason ("no path to NAME:
    /// relay disabled"). Checks go on in the background.
    NoPath {
        /// Why.
        reason: NoPathReason,
    },
}

/// A datagram the agent wrote into the caller's buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct PathTransmit {
    /// Where it goes ([`Route::Relay`]: wrap it with [`RelayClient::wrap`]).
    pub route: Route,
    /// Its length, from the start of the buffer.
    pub len: usize,
}

/// An agent's timers and limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct PathConfig {
    /// Idle time on the path before a keepalive ping (default [`KEEPALIVE_INTERVAL`]).
    /// Keep it under the shortest NAT mapping timeout on the way.
    pub keepalive: Duration,
    /// See [`CHECK_INTERVAL`].
    pub check_interval: Duration,
    /// See [`CHECK_PACE`].
    pub check_pace: Duration,
    /// See [`RELAY_AFTER`].
    pub relay_after: Duration,
    /// See [`PUNCH_WINDOW`].
    pub punch_window: Duration,
    /// See [`BACKGROUND_INITIAL`].
    pub background_initial: Duration,
    /// See [`BACKGROUND_MAX`].
    pub background_max: Duration,
    /// See [`SILENCE`].
    pub silence: Duration,
    /// See [`LIVENESS_INTERVAL`].
    pub liveness_interval: Duration,
    /// See [`LIVENESS_ATTEMPTS`].
    pub liveness_attempts: u8,
}

impl PathConfig {
    /// The defaults above.
    pub const DEFAULT: PathConfig = PathConfig {
        keepalive: KEEPALIVE_INTERVAL,
        check_interval: CHECK_INTERVAL,
        check_pace: CHECK_PACE,
        relay_after: RELAY_AFTER,
        punch_window: PUNCH_WINDOW,
        background_initial: BACKGROUND_INITIAL,
        background_max: BACKGROUND_MAX,
        silence: SILENCE,
        liveness_interval: LIVENESS_INTERVAL,
        liveness_attempts: LIVENESS_ATTEMPTS,
    };
}

impl Default for PathConfig {
    fn default() -> Self {
        PathConfig::DEFAULT
    }
}

#[cfg(test)]
mod tests;
