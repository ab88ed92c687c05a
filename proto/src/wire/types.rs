//! Small value types shared by the control and peer channels.

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use serde::{Deserialize, Serialize};

/// A peer's identifier, assigned by the directory server at login. `0` is the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[serde(transparent)]
pub struct PeerId(pub u32);

impl PeerId {
    /// The directory server itself (sender of `ProbeReply`).
    pub const SERVER: PeerId = PeerId(0);
}

/// A socket address on the wire: IPv4 or IPv6 plus a port.
// `Deserialize` is written out in `wire::decode` (the same bytes, less code on a device).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum WireAddr {
    /// IPv4 octets and port.
    V4(#[serde(with = "super::byte_array")] [u8; 4], u16),
    /// IPv6 octets and port.
    V6(#[serde(with = "super::byte_array")] [u8; 16], u16),
}

impl From<SocketAddr> for WireAddr {
    fn from(addr: SocketAddr) -> Self {
        match addr.ip() {
            IpAddr::V4(ip) => WireAddr::V4(ip.octets(), addr.port()),
            IpAddr::V6(ip) => WireAddr::V6(ip.octets(), addr.port()),
        }
    }
}

impl From<WireAddr> for SocketAddr {
    // Out of line: a client converts addresses in several places, and `SocketAddrV6`
    // makes each inlined copy large.
    #[inline(never)]
    fn from(addr: WireAddr) -> Self {
        match addr {
            WireAddr::V4(ip, port) => SocketAddr::new(IpAddr::V4(Ipv4Addr::from(ip)), port),
            WireAddr::V6(ip, port) => SocketAddr::new(IpAddr::V6(Ipv6Addr::from(ip)), port),
        }
    }
}

impl WireAddr {
    /// The same IP with another port.
    pub const fn with_port(self, port: u16) -> Self {
        match self {
            WireAddr::V4(ip, _) => WireAddr::V4(ip, port),
            WireAddr::V6(ip, _) => WireAddr::V6(ip, port),
        }
    }

    /// The port.
    pub const fn port(self) -> u16 {
        match self {
            WireAddr::V4(_, port) | WireAddr::V6(_, port) => port,
        }
    }
}

/// One online user as the directory publishes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct PeerInfo<'a> {
    /// Directory-assigned id; the `sender` of this user's packets.
    pub id: PeerId,
    /// Login name (1–32 bytes of `[A-Za-z0-9_.-]`).
    pub name: &'a str,
    /// Where this user's UDP socket is reachable.
    pub addr: WireAddr,
}

/// Why the server refused a login.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum RejectReason {
    /// Another online user has this name (case-insensitively).
    NameTaken,
    /// The name breaks the name rules.
    InvalidName,
    /// The directory is at capacity.
    ServerFull,
    /// The client speaks another protocol version.
    BadVersion,
    /// The client broke the protocol (e.g. no `Hello` in time, or a second `Hello`).
    Protocol,
}

impl core::fmt::Display for RejectReason {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            RejectReason::NameTaken => "name is taken",
            RejectReason::InvalidName => "invalid name (1-32 bytes of A-Z a-z 0-9 _ . -)",
            RejectReason::ServerFull => "server is full",
            RejectReason::BadVersion => "protocol version not supported",
            RejectReason::Protocol => "protocol violation",
        })
    }
}

/// A file transfer's identifier, chosen by the sender, unique per sender.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[serde(transparent)]
pub struct TransferId(pub u32);

/// Why a receiver refused a file offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum FileRejectReason {
    /// The name does not end in `.txt`.
    NotTxt,
    /// The name cannot be made safe (path parts, control characters, reserved names…).
    BadName,
    /// The size is over the receiver's limit.
    TooLarge,
    /// The user (or `--accept never`) declined.
    Declined,
    /// The receiver has too many transfers running.
    Busy,
}

impl core::fmt::Display for FileRejectReason {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            FileRejectReason::NotTxt => "only .txt files are accepted",
            FileRejectReason::BadName => "file name refused",
            FileRejectReason::TooLarge => "file is over the receiver's size limit",
            FileRejectReason::Declined => "declined by the receiver",
            FileRejectReason::Busy => "receiver is busy with other transfers",
        })
    }
}

/// Why a transfer was ended early by either side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum CancelReason {
    /// The user cancelled.
    Cancelled,
    /// The received file's BLAKE3 hash differs from the offer's.
    HashMismatch,
    /// The other side stopped answering.
    Timeout,
    /// The receiver could not store the data.
    WriteFailed,
    /// The sender could not read the file.
    ReadFailed,
    /// The other side broke the transfer protocol.
    Protocol,
}

impl core::fmt::Display for CancelReason {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            CancelReason::Cancelled => "cancelled",
            CancelReason::HashMismatch => "hash mismatch: file corrupted in transit",
            CancelReason::Timeout => "peer stopped answering",
            CancelReason::WriteFailed => "receiver could not write the file",
            CancelReason::ReadFailed => "sender could not read the file",
            CancelReason::Protocol => "transfer protocol violation",
        })
    }
}
