//! The wire format of protocol version 1: every message, its encoding into caller
//! buffers, its zero-copy decoding, and the control channel's stream framing.
//!
//! Every encoded unit is `VERSION ‖ postcard(message)`. A control frame is that unit
//! COBS-encoded and terminated by `0x00` ([`frame`]); a peer datagram is that unit raw,
//! with a [`Header`] before the body ([`packet`]). Decoding checks the version byte and
//! the kind before postcard sees the bytes, rejects trailing bytes, and enforces the
//! [`limits`], so an unknown version or kind is never misparsed. [`stream`] reads and
//! writes frames over `embedded-io` byte streams.
//!
//! [`v2_peer`] and [`v2_control`] hold the new units of version 2 (handshakes, cookie
//! replies, sealed packets and frames), which `crate::crypto` produces and consumes;
//! [`v2_path`] and [`v2_relay`] the messages that open paths through NATs and the relay's
//! framing, which `crate::path` gives their meaning.

mod byte_array;
mod codec;
pub mod control;
mod decode;
pub mod frame;
pub mod limits;
pub mod packet;
pub mod stream;
pub mod types;
pub mod v2_control;
pub mod v2_path;
pub mod v2_peer;
pub mod v2_relay;

pub use codec::{
    decode_client, decode_packet, decode_server, encode_client, encode_packet, encode_server,
    DecodeError, EncodeError,
};
pub use control::{ClientMsg, ServerMsg, SnapshotPage};
pub use frame::{encode_client_frame, encode_server_frame, Feed, FrameDecoder};
pub use limits::*;
pub use packet::{
    Ack, Body, Chat, ChunkRange, FileAck, FileChunk, FileOffer, Frag, Header, Packet,
};
pub use stream::{
    write_client_frame, write_server_frame, FrameReader, ReadFrameError, WriteFrameError,
};
pub use types::{
    CancelReason, FileRejectReason, PeerId, PeerInfo, RejectReason, TransferId, WireAddr,
};

/// What the codec needs to know about a top-level message type.
pub trait Message {
    /// Number of kinds: a kind byte at or above this is [`DecodeError::UnknownKind`].
    const KINDS: u8;

    /// Limits postcard's types cannot express (string lengths, ranges).
    fn check_limits(&self) -> Result<(), Limit>;
}
