//! What a peer channel hands back: transmits, opened packets, events, errors and
//! counters.

use core::net::SocketAddr;

use super::super::guard::GuardDrop;
use super::super::keys::PublicKey;
use super::super::replay::ReplayError;
use crate::wire::DecodeError;

/// A datagram the channel wrote into the caller's buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ChannelTransmit {
    /// Where to send it.
    pub dst: SocketAddr,
    /// Its length, from the start of the buffer.
    pub len: usize,
}

/// An authenticated packet, decrypted in place.
#[derive(Debug, PartialEq, Eq)]
pub struct Opened<'b> {
    /// The plaintext payload (empty for a keepalive).
    pub payload: &'b [u8],
    /// The key epoch of the session that opened it.
    pub epoch: u32,
}

/// What the application (the endpoint) must learn from a channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ChannelEvent {
    /// A new session can seal: send what waited for it.
    Established {
        /// Its key epoch.
        epoch: u32,
    },
    /// An authenticated packet, the newest yet, came from a new address: the peer moved
    /// (roaming, or a NAT that changed its mapping). Packets now go there.
    Moved {
        /// The new address.
        addr: SocketAddr,
    },
    /// No answer to our handshakes for `REKEY_ATTEMPT_TIME`; the channel stopped trying
    /// until the next packet to seal.
    HandshakeGaveUp,
}

/// Why [`PeerChannel::seal`](super::PeerChannel::seal) wrote nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum SealError {
    /// No session can seal yet; a handshake was started (or is under way). Try again
    /// after [`ChannelEvent::Established`].
    NoSession,
    /// The payload is over `MAX_SEALED_PAYLOAD`.
    TooLong,
    /// The buffer is too small; `needed` bytes would do.
    BufferTooSmall {
        /// Bytes the sealed packet needs.
        needed: usize,
    },
}

/// Why a sealed packet was dropped. None of these changes any state but a counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum OpenError {
    /// Not a well-formed version-2 sealed packet.
    Malformed(DecodeError),
    /// The header names another sender than this channel's peer.
    WrongSender,
    /// No session of this channel has the packet's key epoch.
    UnknownEpoch,
    /// The session is too old to open anything (`REJECT_AFTER_TIME`).
    Expired,
    /// The counter was seen before, is behind the window, or is exhausted.
    Replay(ReplayError),
    /// The AEAD tag did not verify: forged, corrupted or truncated.
    AuthFailed,
}

/// Why a handshake message was dropped. None of these changes the channel's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum HandshakeError {
    /// Not a well-formed message of the expected kind.
    Malformed,
    /// The header names another sender than this channel's peer.
    WrongSender,
    /// A response or cookie that answers no initiation of ours in flight.
    Unexpected,
    /// The epoch does not belong to the peer's half of the epoch space.
    WrongParity,
    /// The epoch is not newer than what this channel already accepted, and the peer has
    /// not been quiet long enough for it to be a restart: a replay.
    StaleEpoch,
    /// A sealed field did not authenticate (or a Diffie-Hellman result was zero).
    AuthFailed,
    /// The initiator proved a static key other than the one the directory gave for this
    /// peer: an impostor, or a changed key.
    KeyMismatch {
        /// The key it proved.
        presented: PublicKey,
    },
    /// The handshake guard refused the message (a wrong `mac1`, or over its budget).
    Refused(GuardDrop),
    /// The response buffer is too small; `needed` bytes would do.
    BufferTooSmall {
        /// Bytes the response needs.
        needed: usize,
    },
}

/// What a channel did so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ChannelStats {
    /// Packets sealed (keepalives included).
    pub sealed: u64,
    /// Packets opened.
    pub opened: u64,
    /// Packets dropped by [`OpenError`], all kinds together.
    pub open_failed: u64,
    /// Of those, AEAD failures.
    pub auth_failed: u64,
    /// Of those, replays and packets behind the window.
    pub replayed: u64,
    /// Handshake messages dropped by [`HandshakeError`].
    pub handshake_failed: u64,
    /// Initiations sent (first tries and retries).
    pub initiations_sent: u64,
    /// Handshakes completed, as initiator or responder.
    pub handshakes_completed: u64,
    /// Cookies received and accepted.
    pub cookies_received: u64,
    /// Times the peer moved to a new address.
    pub moves: u64,
}

impl core::ops::AddAssign for ChannelStats {
    /// Sums counters, e.g. over every channel of an endpoint.
    fn add_assign(&mut self, o: ChannelStats) {
        self.sealed += o.sealed;
        self.opened += o.opened;
        self.open_failed += o.open_failed;
        self.auth_failed += o.auth_failed;
        self.replayed += o.replayed;
        self.handshake_failed += o.handshake_failed;
        self.initiations_sent += o.initiations_sent;
        self.handshakes_completed += o.handshakes_completed;
        self.cookies_received += o.cookies_received;
        self.moves += o.moves;
    }
}
