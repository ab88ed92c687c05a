//! Encoding into caller buffers and strict decoding of single units.

use core::ops::{Index, IndexMut};

use postcard::ser_flavors::{Cobs, Flavor};
use serde::{Deserialize, Serialize};

use super::control::{ClientMsg, ServerMsg};
use super::limits::{Limit, MAX_DATAGRAM, VERSION};
use super::packet::{Body, Header, Packet};
use super::Message;
use crate::num::{write_decimal, write_hex_byte};

/// Why a message could not be encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum EncodeError {
    /// The buffer is too small; `needed` bytes would do.
    BufferTooSmall {
        /// Bytes the encoding needs.
        needed: usize,
    },
    /// The message breaks a protocol limit and would be refused by its receiver.
    OverLimit(Limit),
}

/// Why bytes could not be decoded. Every variant means "drop this unit"; on a stream
/// it means "close the connection".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum DecodeError {
    /// The first byte names a protocol version this core does not speak.
    UnknownVersion(u8),
    /// The kind byte names no message of this version.
    UnknownKind(u8),
    /// The header sets flags this version does not define.
    UnsupportedFlags(u8),
    /// Truncated, trailing or otherwise invalid bytes.
    Malformed,
    /// The unit breaks a protocol limit.
    OverLimit(Limit),
}

impl core::fmt::Display for EncodeError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // Written piece by piece rather than with `write!`, so that a device that logs
        // these in text does not link `core::fmt`'s machinery for them (see `num`).
        match self {
            EncodeError::BufferTooSmall { needed } => {
                f.write_str("buffer too small: ")?;
                write_decimal(f, *needed as u64)?;
                f.write_str(" bytes needed")
            }
            EncodeError::OverLimit(limit) => {
                f.write_str("message over limit: ")?;
                core::fmt::Display::fmt(limit, f)
            }
        }
    }
}

impl core::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // Piece by piece, like `EncodeError`.
        match self {
            DecodeError::UnknownVersion(v) => {
                f.write_str("unknown protocol version ")?;
                write_decimal(f, u64::from(*v))
            }
            DecodeError::UnknownKind(k) => {
                f.write_str("unknown message kind ")?;
                write_decimal(f, u64::from(*k))
            }
            DecodeError::UnsupportedFlags(x) => {
                f.write_str("unsupported header flags ")?;
                write_hex_byte(f, *x)
            }
            DecodeError::Malformed => f.write_str("malformed message"),
            DecodeError::OverLimit(limit) => {
                f.write_str("message over limit: ")?;
                core::fmt::Display::fmt(limit, f)
            }
        }
    }
}

impl core::error::Error for EncodeError {}
impl core::error::Error for DecodeError {}

/// Encodes `VERSION ‖ msg` into `buf`, returning the length written.
pub fn encode_client(msg: &ClientMsg<'_>, buf: &mut [u8]) -> Result<usize, EncodeError> {
    msg.check_limits().map_err(EncodeError::OverLimit)?;
    encode_unit(&(VERSION, msg), buf)
}

/// Encodes `VERSION ‖ msg` into `buf`, returning the length written.
pub fn encode_server(msg: &ServerMsg<'_>, buf: &mut [u8]) -> Result<usize, EncodeError> {
    msg.check_limits().map_err(EncodeError::OverLimit)?;
    encode_unit(&(VERSION, msg), buf)
}

/// Encodes one datagram into `buf`, returning its length (at most [`MAX_DATAGRAM`]).
pub fn encode_packet(packet: &Packet<'_>, buf: &mut [u8]) -> Result<usize, EncodeError> {
    packet.check_limits().map_err(EncodeError::OverLimit)?;
    let n = encode_unit(&(VERSION, &packet.header, &packet.body), buf)?;
    if n > MAX_DATAGRAM {
        return Err(EncodeError::OverLimit(Limit::Datagram));
    }
    Ok(n)
}

/// Decodes a client message (without framing).
pub fn decode_client(bytes: &[u8]) -> Result<ClientMsg<'_>, DecodeError> {
    let rest = strip_version(bytes)?;
    decode_message(rest)
}

/// Decodes a server message (without framing).
pub fn decode_server(bytes: &[u8]) -> Result<ServerMsg<'_>, DecodeError> {
    let rest = strip_version(bytes)?;
    decode_message(rest)
}

/// Decodes one datagram.
pub fn decode_packet(bytes: &[u8]) -> Result<Packet<'_>, DecodeError> {
    if bytes.len() > MAX_DATAGRAM {
        return Err(DecodeError::OverLimit(Limit::Datagram));
    }
    let rest = strip_version(bytes)?;
    let (header, rest) =
        postcard::take_from_bytes::<Header>(rest).map_err(|_| DecodeError::Malformed)?;
    if header.flags != 0 {
        return Err(DecodeError::UnsupportedFlags(header.flags));
    }
    check_kind(rest, Packet::KINDS)?;
    let body = take_all::<Body<'_>>(rest)?;
    let packet = Packet { header, body };
    packet.check_limits().map_err(DecodeError::OverLimit)?;
    Ok(packet)
}

fn strip_version(bytes: &[u8]) -> Result<&[u8], DecodeError> {
    match bytes.split_first() {
        Some((&VERSION, rest)) => Ok(rest),
        Some((&other, _)) => Err(DecodeError::UnknownVersion(other)),
        None => Err(DecodeError::Malformed),
    }
}

/// A postcard enum starts with its varint discriminant; any kind below 128 is one byte.
fn check_kind(bytes: &[u8], kinds: u8) -> Result<(), DecodeError> {
    match bytes.first() {
        Some(&kind) if kind < kinds => Ok(()),
        Some(&kind) => Err(DecodeError::UnknownKind(kind)),
        None => Err(DecodeError::Malformed),
    }
}

fn decode_message<'a, T: Deserialize<'a> + Message>(bytes: &'a [u8]) -> Result<T, DecodeError> {
    check_kind(bytes, T::KINDS)?;
    let msg = take_all::<T>(bytes)?;
    msg.check_limits().map_err(DecodeError::OverLimit)?;
    Ok(msg)
}

pub(super) fn take_all<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> Result<T, DecodeError> {
    match postcard::take_from_bytes::<T>(bytes) {
        Ok((value, [])) => Ok(value),
        _ => Err(DecodeError::Malformed),
    }
}

pub(super) fn encode_unit<T: Serialize + ?Sized>(
    value: &T,
    buf: &mut [u8],
) -> Result<usize, EncodeError> {
    let room = buf.len();
    fitted(postcard::serialize_with_flavor(value, Sink::new(buf)), room)
}

/// Encodes `value` as one COBS frame (terminator included) with postcard's own COBS
/// flavor, so the bytes are `to_slice_cobs`'s.
pub(super) fn encode_cobs<T: Serialize + ?Sized>(
    value: &T,
    buf: &mut [u8],
) -> Result<usize, EncodeError> {
    let room = buf.len();
    let encoded = Cobs::try_new(Sink::new(buf))
        .and_then(|flavor| postcard::serialize_with_flavor(value, flavor));
    fitted(encoded, room)
}

/// The encoding's length if it fitted in `room` bytes.
fn fitted(encoded: postcard::Result<usize>, room: usize) -> Result<usize, EncodeError> {
    // A `Sink` never fails, and neither does serializing a wire type into it.
    let needed = encoded.unwrap_or(usize::MAX);
    if needed <= room {
        Ok(needed)
    } else {
        Err(EncodeError::BufferTooSmall { needed })
    }
}

/// A postcard flavor that writes into a caller buffer while there is room and counts
/// every byte, room or not: one serializer both encodes and, when the buffer is short,
/// tells how long the encoding is (a device links each message's serializer once, not
/// once more for a counting flavor). Bytes past the end, and COBS back-patches past the
/// end, are dropped (`spill`).
struct Sink<'b> {
    buf: &'b mut [u8],
    len: usize,
    spill: u8,
}

impl<'b> Sink<'b> {
    fn new(buf: &'b mut [u8]) -> Self {
        Sink {
            buf,
            len: 0,
            spill: 0,
        }
    }
}

impl Flavor for Sink<'_> {
    type Output = usize;

    #[inline(never)]
    fn try_push(&mut self, byte: u8) -> postcard::Result<()> {
        if let Some(slot) = self.buf.get_mut(self.len) {
            *slot = byte;
        }
        self.len += 1;
        Ok(())
    }

    fn try_extend(&mut self, bytes: &[u8]) -> postcard::Result<()> {
        let end = self.len + bytes.len();
        if let Some(slots) = self.buf.get_mut(self.len..end) {
            slots.copy_from_slice(bytes);
        }
        self.len = end;
        Ok(())
    }

    fn finalize(self) -> postcard::Result<usize> {
        Ok(self.len)
    }
}

impl Index<usize> for Sink<'_> {
    type Output = u8;

    fn index(&self, i: usize) -> &u8 {
        self.buf.get(i).unwrap_or(&self.spill)
    }
}

impl IndexMut<usize> for Sink<'_> {
    fn index_mut(&mut self, i: usize) -> &mut u8 {
        match self.buf.get_mut(i) {
            Some(slot) => slot,
            None => &mut self.spill,
        }
    }
}
