//! What the client node tells its host, and its typed errors.

use crate::control::client::Disconnect;
use crate::link::{FailReason, MessageId};
use crate::names::user::UserName;
use core::net::SocketAddr;

use crate::wire::{PeerId, RejectReason};

/// What the host must do or tell the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Event<'a> {
    /// Open a new control connection to the server now, then call
    /// `handle_control_connected` (or `handle_control_closed` if connecting failed).
    Connect,
    /// Close the control connection (after writing what `poll_control_transmit` gave).
    Close,
    /// Logged in to the directory.
    LoggedIn {
        /// Our id.
        id: PeerId,
        /// The address the server publishes for us.
        addr: SocketAddr,
        /// Whether this is a re-login after the server went away.
        again: bool,
    },
    /// The server refused the login for good; the node has stopped.
    Rejected(RejectReason),
    /// The control connection ended; the node reconnects on its own ([`Event::Connect`]
    /// follows after a backoff). Peer links keep working meanwhile.
    Disconnected(Disconnect),
    /// A full list of who is online arrived (after login, a reconnect or a resync):
    /// `Client::peers` has it.
    PeerList,
    /// A peer came online.
    Joined {
        /// Its id.
        id: PeerId,
        /// Its login name.
        name: UserName,
        /// Its published UDP address.
        addr: SocketAddr,
    },
    /// A peer went offline.
    Left {
        /// Its id.
        id: PeerId,
        /// Its login name.
        name: UserName,
    },
    /// A chat message arrived, whole and in order.
    Message {
        /// Sender's login name.
        from: UserName,
        /// The text.
        text: &'a str,
        /// Sent to everyone online.
        to_all: bool,
    },
    /// A peer acknowledged a message.
    Delivered {
        /// Recipient.
        to: UserName,
        /// The id `send_to`/`send_to_all` returned.
        id: MessageId,
    },
    /// A message could not be delivered.
    Failed {
        /// Recipient.
        to: UserName,
        /// The id `send_to`/`send_to_all` returned.
        id: MessageId,
        /// Why.
        reason: FailReason,
    },
    /// `quit` finished: `Bye` was written; the node has stopped.
    Stopped,
}

/// A message handed to a peer's link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Sent {
    /// Recipient id.
    pub to: PeerId,
    /// Recipient name (as the directory spells it).
    pub name: UserName,
    /// Names the message in `Delivered`/`Failed`.
    pub id: MessageId,
}

/// Why a message was not sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum SendError {
    /// No one of that name is online (as far as this client knows).
    UnknownName,
    /// The name is our own.
    ToSelf,
    /// Nobody else is online.
    NobodyOnline,
    /// The text is empty.
    Empty,
    /// The text is over [`crate::wire::MAX_TEXT_LEN`] bytes.
    TooLong,
    /// Too many messages are waiting for acknowledgement; try again shortly.
    QueueFull,
}

impl core::fmt::Display for SendError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            SendError::UnknownName => "no one of that name is online",
            SendError::ToSelf => "that is your own name",
            SendError::NobodyOnline => "nobody else is online",
            SendError::Empty => "nothing to send",
            SendError::TooLong => "message is over 16 KiB",
            SendError::QueueFull => "too many messages waiting for delivery; try again",
        })
    }
}

impl core::error::Error for SendError {}
