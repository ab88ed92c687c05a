//! Per-connection state of the server node, in caller-lent storage.

use super::cluster::StoreDue;
use crate::names::user::UserName;
use crate::time::Instant;
use crate::wire::{DecodeError, FrameDecoder, PeerId, RejectReason, WireAddr, MAX_CLIENT_FRAME};

/// A connection handle, assigned by [`super::Server::handle_connect`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ConnId(pub u32);

/// Why the server closes (or closed) a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum CloseReason {
    /// The client said `Bye`.
    Bye,
    /// The login was refused (the `Rejected` frame is sent first).
    Rejected(RejectReason),
    /// No `Hello` within the handshake timeout.
    HandshakeTimeout,
    /// No frame from a logged-in client within the heartbeat timeout.
    HeartbeatTimeout,
    /// The client sent bytes that are not a valid frame.
    Protocol(DecodeError),
    /// The client sent a valid message it must not send now (e.g. a second `Hello`).
    Unexpected,
    /// The client does not read what it is sent.
    TooSlow,
    /// The server is shutting down (`Shutdown` is sent first).
    Shutdown,
    /// The host saw the connection end (EOF or a socket error).
    Disconnected,
    /// Cluster mode: another server holds the name now (this server lost its lease
    /// while it could not reach the store).
    NameLost,
}

impl core::fmt::Display for CloseReason {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            CloseReason::Bye => f.write_str("client said bye"),
            CloseReason::Rejected(r) => write!(f, "login rejected: {r}"),
            CloseReason::HandshakeTimeout => f.write_str("no hello in time"),
            CloseReason::HeartbeatTimeout => f.write_str("heartbeat timeout"),
            CloseReason::Protocol(e) => write!(f, "bad frame: {e}"),
            CloseReason::Unexpected => f.write_str("unexpected message"),
            CloseReason::TooSlow => f.write_str("client does not read (too slow)"),
            CloseReason::Shutdown => f.write_str("server shutdown"),
            CloseReason::Disconnected => f.write_str("connection closed by peer"),
            CloseReason::NameLost => f.write_str("name now held on another server"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ConnState {
    Free,
    /// Waiting for `Hello`.
    Handshake,
    /// Cluster mode: `Hello` arrived; the name is being claimed in the store.
    Claiming,
    /// Logged in as `Conn::id`.
    Active,
    /// Closing: pending frames go out, then the host is told to close.
    Closing(CloseReason),
    /// Cluster mode: the host is done with it, but the store still owes an answer or
    /// is owed a release; freed after that.
    Departed,
}

/// A snapshot being streamed: the next slot and page.
#[derive(Debug, Clone, Copy)]
pub(super) struct Snap {
    pub(super) next: usize,
    pub(super) page: u32,
    pub(super) started: Instant,
}

/// Frames owed to the client, as flags: repeated requests coalesce.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Owed {
    pub(super) welcome: bool,
    pub(super) pong: bool,
    pub(super) reject: Option<RejectReason>,
    pub(super) shutdown: bool,
}

/// One connection's state. Lend the server a slice of [`Conn::new`]s.
pub struct Conn {
    pub(super) state: ConnState,
    pub(super) decoder: FrameDecoder<MAX_CLIENT_FRAME>,
    /// The TCP peer address.
    pub(super) peer: WireAddr,
    pub(super) opened: Instant,
    pub(super) id: PeerId,
    /// Every delta up to this version has been handed to the host.
    pub(super) sent: u64,
    pub(super) snap: Option<Snap>,
    pub(super) owed: Owed,
    /// Slow-reader check: at `behind_at` the directory was at `behind_mark` and this
    /// connection had not been given it yet.
    pub(super) behind_mark: u64,
    pub(super) behind_at: Instant,
    /// Free-list link.
    pub(super) next_free: u32,
    /// Cluster mode: the name claimed or held.
    pub(super) name: UserName,
    /// Cluster mode: what the store is owed for this connection.
    pub(super) store: StoreDue,
}

impl Default for Conn {
    fn default() -> Self {
        Self::new()
    }
}

impl Conn {
    /// An unused connection slot.
    pub const fn new() -> Self {
        Conn {
            state: ConnState::Free,
            decoder: FrameDecoder::new(),
            peer: WireAddr::V4([0; 4], 0),
            opened: Instant::ZERO,
            id: PeerId(0),
            sent: 0,
            snap: None,
            owed: Owed {
                welcome: false,
                pong: false,
                reject: None,
                shutdown: false,
            },
            behind_mark: 0,
            behind_at: Instant::ZERO,
            next_free: u32::MAX,
            name: UserName::EMPTY,
            store: StoreDue::NONE,
        }
    }

    /// Resets the slot for a new connection from `peer`.
    pub(super) fn open(&mut self, now: Instant, peer: WireAddr) {
        let next_free = self.next_free;
        *self = Conn::new();
        self.next_free = next_free;
        self.state = ConnState::Handshake;
        self.peer = peer;
        self.opened = now;
        self.behind_at = now;
    }

    /// Starts closing; frames already owed (a `Rejected`, a `Shutdown`) still go out.
    pub(super) fn close(&mut self, reason: CloseReason) {
        if !matches!(
            self.state,
            ConnState::Closing(_) | ConnState::Free | ConnState::Departed
        ) {
            self.state = ConnState::Closing(reason);
            self.snap = None;
            self.owed.welcome = false;
            self.owed.pong = false;
        }
    }

    pub(super) fn is_active(&self) -> bool {
        self.state == ConnState::Active
    }
}
