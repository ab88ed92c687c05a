//! The values a host exchanges with [`super::Transfers`].

use core::fmt;

use crate::time::Duration;
use crate::wire::{
    CancelReason, FileRejectReason, PeerId, TransferId, MAX_CHUNK, MAX_FILE_NAME_LEN,
};

/// A file name as offered and checked (see [`crate::names::file::check`]).
pub type FileName = heapless::String<MAX_FILE_NAME_LEN>;

/// What a receiver does with an acceptable offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum AcceptPolicy {
    /// Accept at once.
    Auto,
    /// Ask the host ([`Event::Offered`] with `needs_decision`), which answers with
    /// [`super::Transfers::accept`] or [`super::Transfers::reject`].
    Ask,
    /// Refuse every offer ([`FileRejectReason::Declined`]).
    Never,
}

/// Tunables of the transfer table. [`Config::default`] is what desktop hosts use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Config {
    /// Chunk size this node offers (1..=[`MAX_CHUNK`]).
    pub chunk_size: u16,
    /// Largest file this node accepts, in bytes.
    pub max_file_size: u64,
    /// What to do with acceptable offers.
    pub accept: AcceptPolicy,
    /// A transfer fails with [`CancelReason::Timeout`] when the other side says nothing
    /// for this long.
    pub idle_timeout: Duration,
    /// A sender gives up on an offer nobody answered after this long.
    pub offer_timeout: Duration,
    /// RTT assumed before the first measurement.
    pub initial_rtt: Duration,
    /// A finished receive is kept this long to answer the sender's repeats.
    pub linger: Duration,
    /// The receiver acknowledges after this many new chunks (1..=8)…
    pub ack_every: u8,
    /// …or this long after the first unacknowledged one.
    pub ack_delay: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            chunk_size: MAX_CHUNK as u16,
            max_file_size: 1 << 30,
            accept: AcceptPolicy::Auto,
            idle_timeout: Duration::from_secs(10),
            offer_timeout: Duration::from_secs(60),
            initial_rtt: Duration::from_millis(100),
            linger: Duration::from_secs(30),
            ack_every: 8,
            ack_delay: Duration::from_millis(1),
        }
    }
}

/// Which side of a transfer this node is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Role {
    /// This node sends the file.
    Send,
    /// This node receives the file.
    Receive,
}

/// Names one transfer of this node: the same id may run in both directions with a peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct TransferKey {
    /// The other side.
    pub peer: PeerId,
    /// The sender-chosen id.
    pub id: TransferId,
    /// Our side.
    pub role: Role,
}

/// Why a transfer ended without success.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum FailReason {
    /// The peer refused our offer.
    Rejected(FileRejectReason),
    /// We refused the peer's offer (bad name, too large, declined, busy).
    Refused(FileRejectReason),
    /// The peer ended the transfer.
    PeerCancelled(CancelReason),
    /// This node ended the transfer (host request, timeout, hash mismatch, protocol).
    Cancelled(CancelReason),
}

impl fmt::Display for FailReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Piece by piece rather than `write!`: a device that logs this in text then
        // links none of `core::fmt`'s machinery for it.
        let (what, why): (&str, &dyn fmt::Display) = match self {
            FailReason::Rejected(r) => ("refused by the receiver: ", r),
            FailReason::Refused(r) => ("offer refused: ", r),
            FailReason::PeerCancelled(r) => ("cancelled by the peer: ", r),
            FailReason::Cancelled(r) => ("", r),
        };
        f.write_str(what)?;
        why.fmt(f)
    }
}

impl core::error::Error for FailReason {}

/// What the host must learn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Event<'a> {
    /// A peer offers a file (receive side). With `needs_decision` the host must answer
    /// with `accept` or `reject`; otherwise it was accepted and data will follow: the
    /// host prepares storage (or cancels with [`CancelReason::WriteFailed`]).
    Offered {
        /// The transfer.
        key: TransferKey,
        /// The offered name, already checked safe (borrowed from the table until the
        /// next call that changes it).
        name: &'a str,
        /// Size in bytes.
        size: u64,
        /// The policy is [`AcceptPolicy::Ask`].
        needs_decision: bool,
    },
    /// The receiver accepted our offer (send side).
    Accepted {
        /// The transfer.
        key: TransferKey,
    },
    /// Every byte has been handed out as [`Write`]s (receive side): finish hashing and
    /// call `handle_hash`.
    Complete {
        /// The transfer.
        key: TransferKey,
    },
    /// The file arrived and its hash matches (receive side): put it in place, then
    /// call `handle_stored` (the sender hears `FileDone` only then), or `cancel` with
    /// [`CancelReason::WriteFailed`] if that fails.
    Received {
        /// The transfer.
        key: TransferKey,
        /// Size in bytes.
        size: u64,
    },
    /// The receiver verified the file (send side).
    Sent {
        /// The transfer.
        key: TransferKey,
        /// Size in bytes.
        size: u64,
    },
    /// The transfer ended without success; a receiver discards what it stored.
    Failed {
        /// The transfer.
        key: TransferKey,
        /// Why.
        reason: FailReason,
    },
}

/// Bytes to store (receive side): borrowed from the datagram, no copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Write<'a> {
    /// The transfer.
    pub key: TransferKey,
    /// Byte offset in the file.
    pub offset: u64,
    /// The bytes.
    pub data: &'a [u8],
    /// Bytes `0..contiguous` have all been handed out (this write included): a host
    /// may hash that prefix.
    pub contiguous: u64,
}

/// File bytes the host must place into a chunk datagram before sending it
/// (see `Transfers::poll_chunk_fill`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Fill {
    /// The transfer whose file is read.
    pub key: TransferKey,
    /// Byte offset in the file.
    pub offset: u64,
    /// Where the bytes go in the datagram buffer.
    pub at: usize,
    /// How many bytes.
    pub len: usize,
}

/// One datagram written into the caller's buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Transmit {
    /// Destination peer.
    pub peer: PeerId,
    /// Bytes written at the start of the buffer.
    pub len: usize,
}

/// How far a transfer got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Progress {
    /// Bytes acknowledged (send side) or received (receive side).
    pub bytes: u64,
    /// File size.
    pub size: u64,
}

/// A sender's view of its path, for progress displays and benchmarks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct SendStats {
    /// Smoothed round-trip time.
    pub srtt: Duration,
    /// Minimum round-trip time of the last 10 s.
    pub min_rtt: Duration,
    /// Bottleneck bandwidth estimate, bytes per second.
    pub bandwidth: u64,
    /// Current pacing rate, bytes per second.
    pub pacing_rate: u64,
    /// Congestion window, bytes.
    pub cwnd: u64,
    /// Bytes in flight.
    pub inflight: u64,
    /// Chunks sent, first transmissions and retransmissions.
    pub transmissions: u64,
    /// Chunks sent again.
    pub retransmissions: u64,
    /// Recent loss rate, in 1/1000.
    pub loss_permille: u64,
}

/// The host could not read file bytes for a chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ReadError;

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("could not read the file")
    }
}

impl core::error::Error for ReadError {}

/// Where a sender's file bytes come from: the host's open files.
pub trait ChunkSource {
    /// Fills `buf` with the file's bytes at `offset` (exactly `buf.len()` bytes). An error
    /// cancels the transfer with [`CancelReason::ReadFailed`].
    fn read(&mut self, key: TransferKey, offset: u64, buf: &mut [u8]) -> Result<(), ReadError>;
}

/// Why a send could not start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum SendError {
    /// The name breaks the file-name rules (it would be refused).
    BadName(crate::names::file::NameError),
    /// Too many chunks for one transfer at this chunk size.
    TooLarge,
    /// Every send slot is in use.
    Full,
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendError::BadName(e) => write!(f, "{e}"),
            SendError::TooLarge => f.write_str("file too large"),
            SendError::Full => f.write_str("too many transfers running"),
        }
    }
}

impl core::error::Error for SendError {}
