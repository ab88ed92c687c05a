//! Encoding into caller buffers and strict decoding of single units.

use core::ops::{Index, IndexMut};

use postcard::ser_flavors::{Cobs, Flavor};
use serde::{Deserialize, Serialize};

use super::control::{ClientMsg, ServerMsg};
use super::limits::{Limit, MAX_DATAGRAM, VERSION};
use super::packet::{Body, Header, Packet};
use super::Message;

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
        match self {
            EncodeError::BufferTooSmall { needed } => {
                write!(f, "buffer too small: {needed} bytes needed")
            }
            EncodeError::OverLimit(limit) => write!(f, "message over limit: {limit}"),
        }
    }
}

impl core::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            DecodeError::UnknownVersion(v) => write!(f, "unknown protocol version {v}"),
            DecodeError::UnknownKind(k) => write!(f, "unknown message kind {k}"),
            DecodeError::UnsupportedFlags(x) => write!(f, "unsupported header flags {x:#04x}"),
            DecodeError::Malformed => f.write_str("malformed message"),
            DecodeError::OverLimit(limit) => write!(f, "message over limit: {limit}"),
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

fn take_all<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> Result<T, DecodeError> {
    match postcard::take_from_bytes::<T>(bytes) {
        Ok((value, [])) => Ok(value),
        _ => Err(DecodeError::Malformed),
    }
}

fn encode_unit<T: Serialize + ?Sized>(value: &T, buf: &mut [u8]) -> Result<usize, EncodeError> {
    match postcard::to_slice(value, buf) {
        Ok(used) => Ok(used.len()),
        Err(_) => Err(EncodeError::BufferTooSmall {
            needed: encoded_len(value),
        }),
    }
}

/// Length of the plain postcard encoding of `value`.
pub(super) fn encoded_len<T: Serialize + ?Sized>(value: &T) -> usize {
    // The size flavor never fails: it only counts.
    postcard::serialize_with_flavor(value, postcard::ser_flavors::Size::default()).unwrap_or(0)
}

/// Length of the COBS frame of `value`, terminator included: postcard's own COBS flavor
/// run over a sink that only counts, so it matches `to_slice_cobs` byte for byte.
pub(super) fn framed_len<T: Serialize + ?Sized>(value: &T) -> usize {
    // Neither the counting sink nor the COBS flavor over it can fail.
    Cobs::try_new(CountingSink::default())
        .and_then(|flavor| postcard::serialize_with_flavor(value, flavor))
        .unwrap_or(0)
}

/// A postcard flavor that stores nothing and counts bytes; COBS back-patches go to `sink`.
#[derive(Default)]
struct CountingSink {
    len: usize,
    sink: u8,
}

impl Flavor for CountingSink {
    type Output = usize;

    fn try_push(&mut self, _byte: u8) -> postcard::Result<()> {
        self.len += 1;
        Ok(())
    }

    fn finalize(self) -> postcard::Result<usize> {
        Ok(self.len)
    }
}

impl Index<usize> for CountingSink {
    type Output = u8;

    fn index(&self, _: usize) -> &u8 {
        &self.sink
    }
}

impl IndexMut<usize> for CountingSink {
    fn index_mut(&mut self, _: usize) -> &mut u8 {
        &mut self.sink
    }
}
