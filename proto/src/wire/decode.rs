//! Hand-shaped `Deserialize` for the wire enums a device decodes (`ServerMsg`, `Body`,
//! `WireAddr`), reading exactly the bytes their derived `Serialize` writes.
//!
//! postcard writes an enum as its variant index (a varint) followed by the variant's
//! fields, one after the other, and a struct as its fields: so a message is a sequence
//! of values, read here as one tuple: the index, then the fields that index names.
//! serde's derived code goes through its enum machinery instead (a visitor per variant
//! with its own error paths): more code on a device for the same bytes and verdicts.
//! `proto/tests/decode_equiv.rs` holds these to the derived code's verdicts on every
//! input it tries; the golden bytes of `docs/PROTOCOL.md` and the round-trip property
//! tests hold them to the encoders.

use core::fmt;
use core::marker::PhantomData;

use serde::de::{Error, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};

use super::control::{ServerMsg, SnapshotPage};
use super::packet::{Body, Chat, FileAck, FileChunk, FileOffer, Frag};
use super::types::WireAddr;

/// At least as many values as any message has: the most is a chat packet, with its
/// index and six values (the fragment position is two).
const MAX_VALUES: usize = 8;

/// The next value of the sequence; a missing one is an error.
fn next<'de, T: Deserialize<'de>, A: SeqAccess<'de>>(seq: &mut A) -> Result<T, A::Error> {
    seq.next_element()?
        .ok_or_else(|| A::Error::custom("message ends early"))
}

/// Reads one message as its variant index and fields.
struct Fields<T>(PhantomData<T>);

impl<'de: 'a, 'a> Deserialize<'de> for ServerMsg<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_tuple(MAX_VALUES, Fields::<Self>(PhantomData))
    }
}

impl<'de: 'a, 'a> Visitor<'de> for Fields<ServerMsg<'a>> {
    type Value = ServerMsg<'a>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a server message")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let s = &mut seq;
        Ok(match next::<u32, A>(s)? {
            0 => ServerMsg::Welcome {
                id: next(s)?,
                observed_addr: next(s)?,
                probe_token: next(s)?,
                heartbeat_ms: next(s)?,
            },
            1 => ServerMsg::Rejected { reason: next(s)? },
            2 => ServerMsg::Snapshot(SnapshotPage {
                version: next(s)?,
                page: next(s)?,
                last: next(s)?,
                peers: next(s)?,
            }),
            3 => ServerMsg::Joined {
                version: next(s)?,
                peer: next(s)?,
            },
            4 => ServerMsg::Left {
                version: next(s)?,
                id: next(s)?,
            },
            5 => ServerMsg::Moved {
                version: next(s)?,
                id: next(s)?,
                addr: next(s)?,
            },
            6 => ServerMsg::Pong,
            7 => ServerMsg::Shutdown,
            _ => return Err(A::Error::custom("unknown message kind")),
        })
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Body<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_tuple(MAX_VALUES, Fields::<Self>(PhantomData))
    }
}

impl<'de: 'a, 'a> Visitor<'de> for Fields<Body<'a>> {
    type Value = Body<'a>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a packet body")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let s = &mut seq;
        Ok(match next::<u32, A>(s)? {
            0 => Body::Probe { token: next(s)? },
            1 => Body::ProbeReply { observed: next(s)? },
            2 => Body::Chat(Chat {
                seq: next(s)?,
                base: next(s)?,
                to_all: next(s)?,
                frag: Frag {
                    index: next(s)?,
                    count: next(s)?,
                },
                text: next(s)?,
            }),
            3 => Body::Ack(next(s)?),
            4 => Body::FileOffer(FileOffer {
                transfer: next(s)?,
                name: next(s)?,
                size: next(s)?,
                chunk_size: next(s)?,
                hash: next::<Array<32>, A>(s)?.0,
            }),
            5 => Body::FileAccept { transfer: next(s)? },
            6 => Body::FileReject {
                transfer: next(s)?,
                reason: next(s)?,
            },
            7 => Body::FileChunk(FileChunk {
                transfer: next(s)?,
                index: next(s)?,
                data: next(s)?,
            }),
            8 => Body::FileAck(FileAck {
                transfer: next(s)?,
                cumulative: next(s)?,
                limit: next(s)?,
                ranges: next(s)?,
            }),
            9 => Body::FileDone { transfer: next(s)? },
            10 => Body::FileCancel {
                transfer: next(s)?,
                reason: next(s)?,
            },
            _ => return Err(A::Error::custom("unknown packet kind")),
        })
    }
}

impl<'de> Deserialize<'de> for WireAddr {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_tuple(3, Fields::<Self>(PhantomData))
    }
}

impl<'de> Visitor<'de> for Fields<WireAddr> {
    type Value = WireAddr;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an address")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let s = &mut seq;
        Ok(match next::<u32, A>(s)? {
            0 => WireAddr::V4(next::<Array<4>, A>(s)?.0, next(s)?),
            1 => WireAddr::V6(next::<Array<16>, A>(s)?.0, next(s)?),
            _ => return Err(A::Error::custom("unknown address kind")),
        })
    }
}

/// A byte array, as `super::byte_array` reads it.
struct Array<const N: usize>([u8; N]);

impl<'de, const N: usize> Deserialize<'de> for Array<N> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        super::byte_array::deserialize(deserializer).map(Array)
    }
}
