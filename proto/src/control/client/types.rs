//! The client's settings, the actions it asks of its host and the events it reports.

use crate::roster::RosterEvent;
use crate::time::Duration;
use crate::wire::{DecodeError, PeerId, RejectReason, WireAddr};

/// Client settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientConfig {
    /// How long a TCP connect plus the `Welcome` may take.
    pub handshake_timeout: Duration,
    /// First reconnect delay.
    pub backoff_min: Duration,
    /// Longest reconnect delay.
    pub backoff_max: Duration,
    /// How often an unanswered UDP probe is repeated.
    pub probe_interval: Duration,
    /// How many probes are sent after each login.
    pub probe_attempts: u8,
    /// How long `NameTaken` is retried when the name may be held by this client's own
    /// earlier login (it expires on the server within three heartbeats).
    pub name_retry_window: Duration,
    /// Host-provided random seed (jitter).
    pub seed: u64,
}

impl ClientConfig {
    /// Defaults: 5 s handshake, backoff 250 ms to 10 s, 3 probes 1 s apart, `NameTaken`
    /// retried for 30 s after an earlier login attempt.
    pub const fn new(seed: u64) -> Self {
        ClientConfig {
            handshake_timeout: Duration::from_secs(5),
            backoff_min: Duration::from_millis(250),
            backoff_max: Duration::from_secs(10),
            probe_interval: Duration::from_secs(1),
            probe_attempts: 3,
            name_retry_window: Duration::from_secs(30),
            seed,
        }
    }
}

/// What the host must do with its connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Action {
    /// Open a TCP connection to the server.
    Connect,
    /// Close the TCP connection (after writing what `poll_transmit` gave).
    Close,
}

/// Why the connection to the server ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Disconnect {
    /// The TCP connect failed.
    ConnectFailed,
    /// The server closed the connection (or the network did).
    Closed,
    /// No `Welcome` in time.
    HandshakeTimeout,
    /// The server was silent for three heartbeat periods.
    IdleTimeout,
    /// The server said `Shutdown`.
    ServerShutdown,
    /// The server sent something undecodable.
    Protocol(DecodeError),
    /// The name is still held by this user's previous session; retrying.
    NameStillTaken,
    /// The server refused this attempt for a reason that can pass (it did not get our
    /// `Hello` in time: `Rejected { Protocol }`); retrying.
    Refused(RejectReason),
}

impl core::fmt::Display for Disconnect {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Disconnect::ConnectFailed => f.write_str("could not connect to the server"),
            Disconnect::Closed => f.write_str("connection closed"),
            Disconnect::HandshakeTimeout => f.write_str("server did not answer the login"),
            Disconnect::IdleTimeout => f.write_str("server stopped answering"),
            Disconnect::ServerShutdown => f.write_str("server shut down"),
            // Piece by piece rather than `write!`, like the errors it shows (see `num`).
            Disconnect::Protocol(e) => {
                f.write_str("server sent bad data: ")?;
                core::fmt::Display::fmt(e, f)
            }
            Disconnect::NameStillTaken => f.write_str("name still held by the old session"),
            Disconnect::Refused(r) => {
                f.write_str("login refused (")?;
                core::fmt::Display::fmt(r, f)?;
                f.write_str("); retrying")
            }
        }
    }
}

/// What the application must learn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ClientEvent {
    /// Logged in (`reconnected`: not for the first time).
    LoggedIn {
        /// Our id; the sender of our UDP packets.
        id: PeerId,
        /// The address the server publishes for us (until a probe moves it).
        addr: WireAddr,
        /// Whether this is a re-login after a disconnect.
        reconnected: bool,
    },
    /// The server refused the login; the client has stopped (terminal).
    Rejected(RejectReason),
    /// The list of who is online changed.
    Roster(RosterEvent),
    /// The server saw our UDP probe from this address.
    Observed(WireAddr),
    /// The connection ended; a reconnect is scheduled.
    Disconnected(Disconnect),
    /// `quit` finished (terminal).
    Stopped,
}
