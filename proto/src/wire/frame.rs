//! Control-channel stream framing: each message is `VERSION ‖ postcard(msg)`,
//! COBS-encoded and terminated by `0x00`, using postcard's own COBS flavor and
//! `CobsAccumulator`.
//!
//! Decoding is as strict as [`super::decode_client`]/[`super::decode_server`]: an unknown
//! version or kind is named, and truncated or trailing bytes inside a frame are
//! [`DecodeError::Malformed`].

use core::marker::PhantomData;

use postcard::accumulator::{CobsAccumulator, FeedResult};
use serde::de::{self, Deserializer, IgnoredAny, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};

use super::codec::{encode_cobs, DecodeError, EncodeError};
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
    encode_cobs(&(VERSION, msg), buf)
}

/// How many raw (COBS) bytes of a frame's start the decoder keeps to name an unknown kind:
/// the COBS code byte, the version byte and the kind byte.
const HEAD: usize = 3;

/// Reassembles frames from a byte stream into messages. `N` is the largest frame
/// accepted, terminator included ([`super::MAX_CLIENT_FRAME`] on a server,
/// [`super::MAX_SERVER_FRAME`] on a client, never more than [`super::MAX_FRAME`]).
pub struct FrameDecoder<const N: usize> {
    acc: CobsAccumulator<N>,
    /// The first raw bytes of the frame being received.
    head: [u8; HEAD],
    /// Raw bytes of the frame being received so far.
    seen: usize,
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
            head: [0; HEAD],
            seen: 0,
        }
    }

    /// Whether part of a frame has been fed and its terminator has not (a stream that
    /// ends now ends inside a frame).
    pub const fn in_frame(&self) -> bool {
        self.seen > 0
    }

    /// Feeds stream bytes; returns at the first frame boundary. Call again with `rest`
    /// until [`Feed::Pending`]. The message borrows from the decoder.
    // Out of line: a message moves through several wrappers here (a snapshot page is about
    // 1 KiB); inlined, those copies would enlarge the caller's stack frame, and past 4 KiB
    // each of its stack accesses takes an extra instruction on a Cortex-M.
    #[inline(never)]
    pub fn feed<'d, 'i, T>(&'d mut self, input: &'i [u8]) -> Feed<'i, T>
    where
        T: Deserialize<'d> + Message,
    {
        let frame_part = input
            .iter()
            .position(|&b| b == 0)
            .map_or(input.len(), |zero| zero + 1);
        self.note(&input[..frame_part]);
        let unknown_kind = self.unknown_kind(T::KINDS);
        let result = self.acc.feed_ref::<Versioned<T>>(input);
        if !matches!(result, FeedResult::Consumed) {
            self.seen = 0;
        }
        match result {
            FeedResult::Consumed => Feed::Pending,
            FeedResult::OverFull(rest) => Feed::Frame {
                msg: Err(DecodeError::OverLimit(Limit::Frame)),
                rest,
            },
            FeedResult::DeserError(rest) => Feed::Frame {
                msg: Err(unknown_kind.unwrap_or(DecodeError::Malformed)),
                rest,
            },
            FeedResult::Success { data, remaining } => Feed::Frame {
                msg: data.into_message(),
                rest: remaining,
            },
        }
    }

    /// Buffers input that holds no frame terminator. `Err(rest)` means the frame grew
    /// over `N` bytes (the decoder starts over at `rest`, as [`Feed::Frame`] with
    /// [`Limit::Frame`] would).
    pub(super) fn feed_partial<'i>(&mut self, input: &'i [u8]) -> Result<(), &'i [u8]> {
        debug_assert!(!input.contains(&0), "a partial feed holds no terminator");
        self.note(input);
        // Without a terminator the accumulator never deserializes, so `IgnoredAny` is
        // never asked for anything.
        match self.acc.feed_ref::<IgnoredAny>(input) {
            FeedResult::Consumed => Ok(()),
            FeedResult::OverFull(rest) | FeedResult::DeserError(rest) => {
                self.seen = 0;
                Err(rest)
            }
            FeedResult::Success { remaining, .. } => {
                self.seen = 0;
                Err(remaining)
            }
        }
    }

    fn note(&mut self, part: &[u8]) {
        for (slot, &byte) in self.head.iter_mut().skip(self.seen).zip(part) {
            *slot = byte;
        }
        self.seen = self.seen.saturating_add(part.len());
    }

    /// `UnknownKind` when the frame's first raw bytes are a COBS code covering at least
    /// two bytes, the current version and a kind byte at or above `kinds`. (A valid
    /// kind 0 would end the first COBS block early, so an unknown kind is always here.)
    fn unknown_kind(&self, kinds: u8) -> Option<DecodeError> {
        match self.head {
            [code, VERSION, kind] if self.seen >= HEAD && code >= 3 && kind >= kinds => {
                Some(DecodeError::UnknownKind(kind))
            }
            _ => None,
        }
    }
}

/// A message behind its version byte; a foreign version stops decoding at that byte.
enum Versioned<T> {
    Current(T),
    Unknown(u8),
    Trailing,
}

impl<T: Message> Versioned<T> {
    fn into_message(self) -> Result<T, DecodeError> {
        match self {
            Versioned::Current(msg) => match msg.check_limits() {
                Ok(()) => Ok(msg),
                Err(limit) => Err(DecodeError::OverLimit(limit)),
            },
            Versioned::Unknown(v) => Err(DecodeError::UnknownVersion(v)),
            Versioned::Trailing => Err(DecodeError::Malformed),
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Versioned<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Three elements: version, message, and a probe that must find the input ended.
        deserializer.deserialize_tuple(3, VersionedVisitor(PhantomData))
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
        // Reading one more byte fails only at the end of the frame, as it must.
        match seq.next_element::<u8>() {
            Ok(Some(_)) => Ok(Versioned::Trailing),
            Ok(None) | Err(_) => Ok(Versioned::Current(msg)),
        }
    }
}
