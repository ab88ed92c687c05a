//! Control-channel messages (client ↔ directory server over TCP).

use heapless::Vec;
use serde::{Deserialize, Serialize};

use super::limits::{Limit, MAX_NAME_LEN, SNAPSHOT_PAGE};
use super::types::{PeerId, PeerInfo, RejectReason, WireAddr};
use super::Message;

/// Client → server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ClientMsg<'a> {
    /// Log in as `name`; the user's UDP socket listens on `udp_port` (kind 0).
    Hello {
        /// Requested login name.
        name: &'a str,
        /// Port of the client's UDP socket, published with the TCP-observed IP.
        udp_port: u16,
    },
    /// Ask for a full snapshot of who is online (kind 1).
    List,
    /// Heartbeat; the server answers `Pong` (kind 2).
    Ping,
    /// Log out (kind 3).
    Bye,
}

/// One page of the directory. A snapshot is pages `0..=n` in order; the page with
/// `last == true` completes it. Each page carries the directory version at the time it
/// was built, so later pages may be newer than earlier ones (see `docs/PROTOCOL.md`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct SnapshotPage<'a> {
    /// Directory version when this page was built.
    pub version: u64,
    /// Page number, from 0.
    pub page: u32,
    /// Whether this is the final page.
    pub last: bool,
    /// Up to [`SNAPSHOT_PAGE`] peers.
    #[serde(borrow)]
    pub peers: Vec<PeerInfo<'a>, SNAPSHOT_PAGE>,
}

/// Server → client.
// Wire values are short-lived stack values in a no-alloc crate: boxing is not an option,
// and the size of the largest variant is the point (a full page or ack list, no copying).
//
// `Deserialize` is written out in `wire::decode` (the same bytes, less code on a device).
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ServerMsg<'a> {
    /// Login accepted (kind 0).
    Welcome {
        /// The id this client's packets must carry.
        id: PeerId,
        /// The address the server publishes for this client (TCP-observed IP + UDP port).
        observed_addr: WireAddr,
        /// Secret the client echoes in its UDP `Probe` so no one else can move its address.
        probe_token: u64,
        /// How often the client must send `Ping`; silence for three periods logs it out.
        heartbeat_ms: u32,
    },
    /// Login refused; the server closes the connection after this (kind 1).
    Rejected {
        /// Why.
        reason: RejectReason,
    },
    /// One page of a full snapshot (kind 2).
    Snapshot(SnapshotPage<'a>),
    /// A user logged in; the directory is now at `version` (kind 3).
    Joined {
        /// New directory version.
        version: u64,
        /// Who.
        peer: PeerInfo<'a>,
    },
    /// A user logged out or timed out (kind 4).
    Left {
        /// New directory version.
        version: u64,
        /// Who.
        id: PeerId,
    },
    /// A user's published address changed (after a UDP `Probe`) (kind 5).
    Moved {
        /// New directory version.
        version: u64,
        /// Who.
        id: PeerId,
        /// The new address.
        addr: WireAddr,
    },
    /// Answer to `Ping` (kind 6).
    Pong,
    /// The server is going away; the client should reconnect later (kind 7).
    Shutdown,
}

impl Message for ClientMsg<'_> {
    const KINDS: u8 = 4;

    fn check_limits(&self) -> Result<(), Limit> {
        match self {
            ClientMsg::Hello { name, .. } if name.len() > MAX_NAME_LEN => Err(Limit::Name),
            _ => Ok(()),
        }
    }
}

impl Message for ServerMsg<'_> {
    const KINDS: u8 = 8;

    fn check_limits(&self) -> Result<(), Limit> {
        let name_ok = |p: &PeerInfo<'_>| p.name.len() <= MAX_NAME_LEN;
        match self {
            ServerMsg::Snapshot(page) if !page.peers.iter().all(name_ok) => Err(Limit::Name),
            ServerMsg::Joined { peer, .. } if !name_ok(peer) => Err(Limit::Name),
            _ => Ok(()),
        }
    }
}
