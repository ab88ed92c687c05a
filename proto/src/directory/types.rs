//! The directory's value types: records, changes, answers and settings.

use crate::names::user::{NameError, UserName};
use crate::time::Duration;
use crate::wire::{PeerId, PeerInfo, ServerMsg, WireAddr};

/// One online user, owned (the table's copy of a [`PeerInfo`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct PeerRecord {
    /// Directory-assigned id.
    pub id: PeerId,
    /// Login name as typed.
    pub name: UserName,
    /// Published UDP address.
    pub addr: WireAddr,
}

impl PeerRecord {
    /// The wire form, borrowing the name.
    pub fn info(&self) -> PeerInfo<'_> {
        PeerInfo {
            id: self.id,
            name: self.name.as_str(),
            addr: self.addr,
        }
    }

    /// An owned copy of a wire entry; `None` if its name breaks the rules.
    pub fn from_info(info: &PeerInfo<'_>) -> Option<Self> {
        Some(PeerRecord {
            id: info.id,
            name: UserName::new(info.name).ok()?,
            addr: info.addr,
        })
    }
}

/// What changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum DeltaKind {
    /// The peer logged in.
    Joined,
    /// The peer logged out, was disconnected or expired.
    Left,
    /// The peer's published address changed.
    Moved,
}

/// One change of the directory, stamped with the version it produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Delta {
    /// The directory version after this change.
    pub version: u64,
    /// What happened.
    pub kind: DeltaKind,
    /// The peer as it is after the change (as it was, for `Left`).
    pub peer: PeerRecord,
}

impl Delta {
    /// The server message announcing this change.
    pub fn to_msg(&self) -> ServerMsg<'_> {
        let (version, id) = (self.version, self.peer.id);
        match self.kind {
            DeltaKind::Joined => ServerMsg::Joined {
                version,
                peer: self.peer.info(),
            },
            DeltaKind::Left => ServerMsg::Left { version, id },
            DeltaKind::Moved => ServerMsg::Moved {
                version,
                id,
                addr: self.peer.addr,
            },
        }
    }
}

/// Why a login was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum JoinError {
    /// The name breaks the name rules.
    InvalidName(NameError),
    /// Someone online already has this name (case-insensitively).
    NameTaken,
    /// Every slot is in use.
    Full,
    /// The id given to [`super::Directory::join_as`] is online already (or is the
    /// server's own, 0).
    IdTaken,
}

impl core::fmt::Display for JoinError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            JoinError::InvalidName(e) => write!(f, "invalid name: {e}"),
            JoinError::NameTaken => f.write_str("name is taken"),
            JoinError::Full => f.write_str("directory is full"),
            JoinError::IdTaken => f.write_str("id is in use"),
        }
    }
}

impl core::error::Error for JoinError {}

/// Why a UDP probe did not move an address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ProbeError {
    /// No one online has this id.
    UnknownPeer,
    /// The token is not the one this peer was given.
    BadToken,
}

impl core::fmt::Display for ProbeError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            ProbeError::UnknownPeer => "probe for an unknown peer",
            ProbeError::BadToken => "probe with a wrong token",
        })
    }
}

impl core::error::Error for ProbeError {}

/// A successful login.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Login {
    /// The new peer's id.
    pub id: PeerId,
    /// The secret its UDP `Probe` must carry.
    pub probe_token: u64,
    /// The `Joined` change to fan out.
    pub delta: Delta,
}

/// A peer removed for silence, with the caller's tag given at [`Directory::join`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Expired {
    /// The `Left` change to fan out.
    pub delta: Delta,
    /// The tag given at login (the server node stores its connection index there).
    pub tag: u32,
}

/// Directory settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    /// A peer not heard from for this long is removed.
    pub expiry: Duration,
    /// How often the table is swept for expired peers (expiry is this precise).
    pub sweep_interval: Duration,
    /// Host-provided secret (from the OS random generator) from which probe tokens and
    /// the name hash seed are derived.
    pub seed: [u8; 32],
}

impl Config {
    /// Defaults (15 s expiry, 1 s sweeps) with the host's secret `seed`.
    pub const fn new(seed: [u8; 32]) -> Self {
        Config {
            expiry: Duration::from_secs(15),
            sweep_interval: Duration::from_secs(1),
            seed,
        }
    }
}
