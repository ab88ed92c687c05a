//! Peer-channel packets (UDP, one packet per datagram).
//!
//! A packet is `version ‖ header ‖ body`. The header (flags, sender) is kept apart from
//! the body so that a later version can seal the body (flag bit 0) without changing
//! what any body means.

use heapless::Vec;
use serde::{Deserialize, Serialize};

use super::limits::{
    Limit, MAX_ACK_RANGES, MAX_CHAT_FRAGMENT, MAX_CHUNK, MAX_FILE_NAME_LEN, MAX_FRAGMENTS,
};
use super::types::{CancelReason, FileRejectReason, PeerId, TransferId, WireAddr};
use super::Message;

/// The fixed part of every peer packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Header {
    /// Feature flags. Version 1 defines none: must be 0. Bit 0 is reserved for sealed bodies.
    pub flags: u8,
    /// The sending peer's directory id ([`PeerId::SERVER`] for the server).
    pub sender: PeerId,
}

/// A whole datagram.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Packet<'a> {
    /// Version-independent header.
    pub header: Header,
    /// What the packet says.
    pub body: Body<'a>,
}

impl<'a> Packet<'a> {
    /// A packet from `sender` with no flags.
    pub const fn new(sender: PeerId, body: Body<'a>) -> Self {
        Packet {
            header: Header { flags: 0, sender },
            body,
        }
    }
}

/// Position of a chat fragment inside its message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Frag {
    /// Fragment index, from 0.
    pub index: u8,
    /// Number of fragments in the message (1 for an unfragmented message).
    pub count: u8,
}

/// One reliable chat packet: a whole message or one fragment of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Chat<'a> {
    /// Per-link sequence number of this packet; a message's id is the `seq` of its
    /// first fragment.
    pub seq: u32,
    /// The sender's lowest unsettled `seq`: every `seq` below it has been acknowledged or
    /// given up (reported `failed`), so the receiver must not wait for it. Lets a receiver
    /// skip a failed message and start a fresh link in step with the sender.
    pub base: u32,
    /// Sent to everyone online (one copy per peer) rather than to this peer alone.
    pub to_all: bool,
    /// Where this fragment sits in its message.
    pub frag: Frag,
    /// UTF-8 text of this fragment (split on character boundaries).
    pub text: &'a str,
}

/// Acknowledgement of chat packets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Ack {
    /// Every `seq < next` has been received.
    pub next: u32,
    /// Bit `i` set: `next + 1 + i` has been received too.
    pub above: u32,
}

/// A file offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct FileOffer<'a> {
    /// Sender-chosen id.
    pub transfer: TransferId,
    /// Offered name; the receiver never trusts it (see `names`).
    pub name: &'a str,
    /// Size in bytes.
    pub size: u64,
    /// Bytes per chunk (every chunk but the last is exactly this long).
    pub chunk_size: u16,
    /// BLAKE3 hash of the whole file.
    #[serde(with = "super::byte_array")]
    pub hash: [u8; 32],
}

/// One chunk of file data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct FileChunk<'a> {
    /// Which transfer.
    pub transfer: TransferId,
    /// Chunk index: the data starts at byte `index * chunk_size`.
    pub index: u32,
    /// The bytes.
    pub data: &'a [u8],
}

/// A half-open range `start..end` of chunk indices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ChunkRange {
    /// First index in the range.
    pub start: u32,
    /// One past the last index.
    pub end: u32,
}

/// Receiver's acknowledgement of file chunks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct FileAck {
    /// Which transfer.
    pub transfer: TransferId,
    /// Every chunk `< cumulative` has been received.
    pub cumulative: u32,
    /// Chunks the sender may send must have `index < limit` (flow control).
    pub limit: u32,
    /// Received ranges above `cumulative`, most recent first.
    pub ranges: Vec<ChunkRange, MAX_ACK_RANGES>,
}

/// Every kind of peer packet.
// Wire values are short-lived stack values in a no-alloc crate: boxing is not an option,
// and the size of the largest variant is the point (a full page or ack list, no copying).
//
// `Deserialize` is written out in `wire::decode` (the same bytes, less code on a device).
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Body<'a> {
    /// Client → server UDP socket: "publish the address you see this from" (kind 0).
    Probe {
        /// The `probe_token` from `Welcome`.
        token: u64,
    },
    /// Server → client: the address the probe came from (kind 1).
    ProbeReply {
        /// Observed source address of the probe.
        observed: WireAddr,
    },
    /// Reliable chat (kind 2).
    Chat(Chat<'a>),
    /// Acknowledges chat packets (kind 3).
    Ack(Ack),
    /// Offer a file (kind 4).
    FileOffer(FileOffer<'a>),
    /// Accept an offer (kind 5).
    FileAccept {
        /// Which transfer.
        transfer: TransferId,
    },
    /// Refuse an offer (kind 6).
    FileReject {
        /// Which transfer.
        transfer: TransferId,
        /// Why.
        reason: FileRejectReason,
    },
    /// File data (kind 7).
    FileChunk(FileChunk<'a>),
    /// Acknowledge file data (kind 8).
    FileAck(FileAck),
    /// Receiver: every byte arrived and the hash matches (kind 9).
    FileDone {
        /// Which transfer.
        transfer: TransferId,
    },
    /// Either side ends the transfer early (kind 10).
    FileCancel {
        /// Which transfer.
        transfer: TransferId,
        /// Why.
        reason: CancelReason,
    },
}

impl Message for Packet<'_> {
    const KINDS: u8 = 11;

    fn check_limits(&self) -> Result<(), Limit> {
        match &self.body {
            Body::Chat(c) if c.text.len() > MAX_CHAT_FRAGMENT => Err(Limit::Text),
            Body::Chat(c) if c.frag.count == 0 || c.frag.index >= c.frag.count => {
                Err(Limit::Fragments)
            }
            Body::Chat(c) if usize::from(c.frag.count) > MAX_FRAGMENTS => Err(Limit::Fragments),
            Body::FileOffer(o) if o.name.len() > MAX_FILE_NAME_LEN => Err(Limit::FileName),
            Body::FileOffer(o) if o.chunk_size == 0 || usize::from(o.chunk_size) > MAX_CHUNK => {
                Err(Limit::Chunk)
            }
            Body::FileChunk(c) if c.data.len() > MAX_CHUNK => Err(Limit::Chunk),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod hash_bytes_tests {
    use super::{FileOffer, TransferId};

    fn offer(hash: [u8; 32]) -> FileOffer<'static> {
        FileOffer {
            transfer: TransferId(7),
            name: "a.txt",
            size: 3,
            chunk_size: 1024,
            hash,
        }
    }

    #[test]
    fn the_hash_is_the_bytes_serde_writes_for_an_array() {
        let hash: [u8; 32] = core::array::from_fn(|i| (i * 37) as u8);
        let mut field = [0; 64];
        let field = postcard::to_slice(&hash, &mut field).unwrap();
        let mut whole = [0; 128];
        let whole = postcard::to_slice(&offer(hash), &mut whole).unwrap();
        assert!(whole.ends_with(field));
        assert_eq!(
            postcard::from_bytes::<FileOffer<'_>>(whole),
            Ok(offer(hash))
        );
    }

    #[test]
    fn a_short_hash_does_not_decode() {
        let mut buf = [0; 128];
        let whole = postcard::to_slice(&offer([0xab; 32]), &mut buf).unwrap();
        for cut in 1..=32 {
            let short = &whole[..whole.len() - cut];
            assert!(postcard::from_bytes::<FileOffer<'_>>(short).is_err());
        }
    }
}
