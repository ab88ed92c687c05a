//! The server node's settings, events and answers.

use super::conn::{CloseReason, ConnId};
use crate::directory::{self, ProbeError};
use crate::names::user::UserName;
use crate::time::Duration;
use crate::wire::{PeerId, RejectReason, WireAddr};

/// Server settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerConfig {
    /// How often clients must `Ping`; silence for three periods logs a client out.
    pub heartbeat: Duration,
    /// How long a new connection may take to send `Hello`.
    pub handshake_timeout: Duration,
    /// How long a client may leave waiting changes unread before it is disconnected.
    pub stall_timeout: Duration,
    /// How often connections and the directory are swept for timeouts.
    pub sweep_interval: Duration,
    /// How long `Shutdown` may take to reach every client before connections are closed.
    pub shutdown_grace: Duration,
    /// Host-provided secret (OS random): probe tokens and the name-hash seed.
    pub seed: [u8; 32],
}

impl ServerConfig {
    /// Defaults: 5 s heartbeat (15 s expiry), 5 s handshake, 10 s stall, 1 s sweeps,
    /// 2 s shutdown grace.
    pub const fn new(seed: [u8; 32]) -> Self {
        ServerConfig {
            heartbeat: Duration::from_secs(5),
            handshake_timeout: Duration::from_secs(5),
            stall_timeout: Duration::from_secs(10),
            sweep_interval: Duration::from_secs(1),
            shutdown_grace: Duration::from_secs(2),
            seed,
        }
    }

    pub(super) fn directory(&self) -> directory::Config {
        directory::Config {
            expiry: self.heartbeat.saturating_mul(3),
            sweep_interval: self.sweep_interval,
            seed: self.seed,
        }
    }
}

/// Something worth logging.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ServerEvent {
    /// A user logged in.
    LoggedIn {
        /// Connection.
        conn: ConnId,
        /// Assigned id.
        id: PeerId,
        /// Login name.
        name: UserName,
        /// Published address.
        addr: WireAddr,
    },
    /// A user left the directory.
    LoggedOut {
        /// Connection.
        conn: ConnId,
        /// Their id.
        id: PeerId,
        /// Their name.
        name: UserName,
        /// Why.
        reason: CloseReason,
    },
    /// A login was refused.
    Rejected {
        /// Connection.
        conn: ConnId,
        /// TCP peer.
        peer: WireAddr,
        /// Why.
        reason: RejectReason,
    },
    /// A connection ended (after [`Server::handle_disconnect`]).
    Closed {
        /// Connection.
        conn: ConnId,
        /// TCP peer.
        peer: WireAddr,
        /// Why.
        reason: CloseReason,
    },
    /// A UDP probe moved a user's published address.
    Moved {
        /// Who.
        id: PeerId,
        /// The new address.
        addr: WireAddr,
    },
    /// A UDP probe was refused (no reply is sent).
    BadProbe {
        /// Where it came from.
        from: WireAddr,
        /// Why.
        error: ProbeError,
    },
    /// A client fell further behind than the journal and is sent a fresh snapshot.
    Resnapshot {
        /// Connection.
        conn: ConnId,
    },
}

/// Why a connection could not be accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ConnectError {
    /// Every connection slot is in use.
    Full,
    /// The server is shutting down.
    ShuttingDown,
}

impl core::fmt::Display for ConnectError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            ConnectError::Full => "too many connections",
            ConnectError::ShuttingDown => "server is shutting down",
        })
    }
}

impl core::error::Error for ConnectError {}

/// What the host must do with a connection (from [`Server::poll_transmit`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Transmit {
    /// Write the first `n` bytes of the buffer, then ask again.
    Frames(usize),
    /// Close the connection, then call [`Server::handle_disconnect`].
    Close(CloseReason),
    /// Nothing to do until woken.
    Idle,
}
