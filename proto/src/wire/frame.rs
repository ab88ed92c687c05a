//! Control-channel stream framing: each message is `VERSION ‖ postcard(msg)`,
//! COBS-encoded and terminated by `0x00`, using postcard's own `to_slice_cobs` and
//! `CobsAccumulator`.

use core::marker::PhantomData;

use postcard::accumulator::{CobsAccumulator, FeedResult};
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};

use super::codec::{encoded_len, DecodeError, EncodeError};
use super::control::{ClientMsg, ServerMsg};
use super::limits::{Limit, VERSION};
use super::Message;

/// Encodes a client message as one frame (COBS + `0x00`), returning its length.
pub fn encode_client_frame(msg: &ClientMsg<'_>, buf: &mut [u8]) -> Result<usize, EncodeError> {
    encode_frame(msg, buf)
}

/// Encodes a server message as one frame (COBS + `0x00`), returning its length.
pub fn encode_server_frame(msg: &ServerMsg<'_>, buf: &mut [u8]) -> Result<usize, EncodeError> {
    encode_frame(msg, buf)
}

fn encode_frame<T: Serialize + Message>(msg: &T, buf: &mut [u8]) -> Result<usize, EncodeError> {
    msg.check_limits().map_err(EncodeError::OverLimit)?;
    let unit = (VERSION, msg);
    match postcard::to_slice_cobs(&unit, buf) {
        Ok(used) => Ok(used.len()),
        Err(_) => {
            // COBS adds one byte per 254 and one at the start; the terminator is one more.
            let raw = encoded_len(&unit);
            Err(EncodeError::BufferTooSmall {
                needed: raw + raw / 254 + 2,
            })
        }
    }
}

/// Reassembles frames from a byte stream into messages. `N` is the largest frame
/// accepted ([`super::MAX_CLIENT_FRAME`] on a server, [`super::MAX_SERVER_FRAME`] on a client,
/// never more than [`super::MAX_FRAME`]).
pub struct FrameDecoder<const N: usize> {
    acc: CobsAccumulator<N>,
}

/// What one call to [`FrameDecoder::feed`] found.
#[derive(Debug)]
pub enum Feed<'i, T> {
    /// All input was consumed; no frame is complete yet.
    Pending,
    /// A frame ended. `rest` is the input after it, to be fed next.
    Frame {
        /// The decoded message, or why the frame was refused. Any error should close
        /// the connection.
        msg: Result<T, DecodeError>,
        /// Unconsumed input.
        rest: &'i [u8],
    },
}

impl<const N: usize> Default for FrameDecoder<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> FrameDecoder<N> {
    /// An empty decoder.
    pub const fn new() -> Self {
        FrameDecoder {
            acc: CobsAccumulator::new(),
        }
    }

    /// Feeds stream bytes; returns at the first frame boundary. Call again with `rest`
    /// until [`Feed::Pending`]. The message borrows from the decoder.
    pub fn feed<'d, 'i, T>(&'d mut self, input: &'i [u8]) -> Feed<'i, T>
    where
        T: Deserialize<'d> + Message,
    {
        match self.acc.feed_ref::<Versioned<T>>(input) {
            FeedResult::Consumed => Feed::Pending,
            FeedResult::OverFull(rest) => Feed::Frame {
                msg: Err(DecodeError::OverLimit(Limit::Frame)),
                rest,
            },
            FeedResult::DeserError(rest) => Feed::Frame {
                msg: Err(DecodeError::Malformed),
                rest,
            },
            FeedResult::Success { data, remaining } => {
                let msg = match data {
                    Versioned::Current(msg) => msg
                        .check_limits()
                        .map(|()| msg)
                        .map_err(DecodeError::OverLimit),
                    Versioned::Unknown(v) => Err(DecodeError::UnknownVersion(v)),
                };
                Feed::Frame {
                    msg,
                    rest: remaining,
                }
            }
        }
    }
}

/// A message behind its version byte; a foreign version stops decoding at that byte.
enum Versioned<T> {
    Current(T),
    Unknown(u8),
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Versioned<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_tuple(2, VersionedVisitor(PhantomData))
    }
}

struct VersionedVisitor<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for VersionedVisitor<T> {
    type Value = Versioned<T>;

    fn expecting(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("a version byte and a message")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let version: u8 = seq
            .next_element()?
            .ok_or_else(|| de::Error::invalid_length(0, &self))?;
        if version != VERSION {
            return Ok(Versioned::Unknown(version));
        }
        let msg = seq
            .next_element()?
            .ok_or_else(|| de::Error::invalid_length(1, &self))?;
        Ok(Versioned::Current(msg))
    }
}
