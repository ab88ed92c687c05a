//! Version 2's relay framing: the two datagrams that carry a peer datagram through the
//! directory server's UDP port when no direct path works. Fixed layouts and
//! little-endian integers, like [`super::v2_peer`], whose kinds 1–4 they follow:
//!
//! | kind | datagram | bytes |
//! | --- | --- | --- |
//! | 5 | [`RelaySend`] (client → server) | [`RELAY_SEND_OVERHEAD`] + inner |
//! | 6 | [`RelayDeliver`] (server → client) | [`RELAY_DELIVER_HEADER_LEN`] + inner |
//!
//! The inner datagram is a version-2 peer datagram (a handshake message or a sealed
//! packet), which the server forwards untouched and cannot read. A `RelaySend` ends with
//! a MAC under the key the server handed the client over the encrypted control channel
//! ([`super::v2_path::PathServerMsg::RelayGrant`]), over everything before it, so the
//! server knows which logged-in client sent it; its counter keeps a copy from being
//! forwarded twice. `crate::path` computes and checks the MAC.

use super::codec::{DecodeError, EncodeError};
use super::limits::{Limit, MAX_DATAGRAM};
use super::types::PeerId;
use super::v2_peer::VERSION_2;

/// Kind of a [`RelaySend`].
pub const KIND_RELAY_SEND: u8 = 5;
/// Kind of a [`RelayDeliver`].
pub const KIND_RELAY_DELIVER: u8 = 6;

/// Bytes of a `RelaySend` before its inner datagram.
pub const RELAY_SEND_HEADER_LEN: usize = 14;
/// Bytes of the MAC that ends a `RelaySend`.
pub const RELAY_MAC_LEN: usize = 16;
/// Bytes a `RelaySend` adds to its inner datagram.
pub const RELAY_SEND_OVERHEAD: usize = RELAY_SEND_HEADER_LEN + RELAY_MAC_LEN;
/// Bytes of a `RelayDeliver` before its inner datagram.
pub const RELAY_DELIVER_HEADER_LEN: usize = 6;
/// Largest relay datagram: a `RelaySend` around a [`MAX_DATAGRAM`] datagram (1230
/// bytes: with IPv6's 48 bytes of headers it still fits the 1280 every IPv6 link carries).
pub const MAX_RELAY_DATAGRAM: usize = MAX_DATAGRAM + RELAY_SEND_OVERHEAD;

/// The cleartext header of a [`RelaySend`] (the MAC covers it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct RelaySendHeader {
    /// The sending client's directory id.
    pub sender: PeerId,
    /// The peer it is for; [`PeerId::SERVER`] with no inner datagram only tells the server
    /// where the client is now (a registration).
    pub to: PeerId,
    /// Counts the client's relay datagrams from 0 under its current key.
    pub counter: u32,
}

/// A decoded `RelaySend`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct RelaySend<'a> {
    /// The header.
    pub header: RelaySendHeader,
    /// The datagram to forward (empty for a registration).
    pub inner: &'a [u8],
    /// Everything the MAC covers: the header and the inner datagram.
    pub authenticated: &'a [u8],
    /// The MAC.
    pub mac: &'a [u8; RELAY_MAC_LEN],
}

/// A decoded `RelayDeliver`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct RelayDeliver<'a> {
    /// The client that sent it through the relay.
    pub from: PeerId,
    /// The datagram it sent.
    pub inner: &'a [u8],
}

impl RelaySendHeader {
    /// Writes the header into the first [`RELAY_SEND_HEADER_LEN`] bytes of `out`.
    pub fn encode(&self, out: &mut [u8]) -> Result<usize, EncodeError> {
        let out = room(out, RELAY_SEND_HEADER_LEN)?;
        out[..2].copy_from_slice(&[VERSION_2, KIND_RELAY_SEND]);
        out[2..6].copy_from_slice(&self.sender.0.to_le_bytes());
        out[6..10].copy_from_slice(&self.to.0.to_le_bytes());
        out[10..14].copy_from_slice(&self.counter.to_le_bytes());
        Ok(RELAY_SEND_HEADER_LEN)
    }
}

/// Writes a `RelayDeliver` header for a datagram `from` sent into the first
/// [`RELAY_DELIVER_HEADER_LEN`] bytes of `out`.
pub fn encode_deliver_header(from: PeerId, out: &mut [u8]) -> Result<usize, EncodeError> {
    let out = room(out, RELAY_DELIVER_HEADER_LEN)?;
    out[..2].copy_from_slice(&[VERSION_2, KIND_RELAY_DELIVER]);
    out[2..6].copy_from_slice(&from.0.to_le_bytes());
    Ok(RELAY_DELIVER_HEADER_LEN)
}

fn room(out: &mut [u8], needed: usize) -> Result<&mut [u8], EncodeError> {
    out.get_mut(..needed)
        .ok_or(EncodeError::BufferTooSmall { needed })
}

/// Whether `bytes` is a relay datagram (version 2, kind 5 or 6), before decoding it.
pub fn is_relay(bytes: &[u8]) -> bool {
    matches!(bytes, [VERSION_2, KIND_RELAY_SEND | KIND_RELAY_DELIVER, ..])
}

/// Checks version, kind and the length bounds of a relay datagram of `kind` whose
/// header is `header` bytes and whose inner datagram may be empty if `empty_ok`.
fn check(bytes: &[u8], kind: u8, fixed: usize, empty_ok: bool) -> Result<(), DecodeError> {
    match bytes {
        [] | [_] => return Err(DecodeError::Malformed),
        [VERSION_2, k, ..] if *k == kind => {}
        [VERSION_2, k, ..] => return Err(DecodeError::UnknownKind(*k)),
        [v, ..] => return Err(DecodeError::UnknownVersion(*v)),
    }
    if bytes.len() > fixed + MAX_DATAGRAM {
        return Err(DecodeError::OverLimit(Limit::Datagram));
    }
    let least = fixed + usize::from(!empty_ok);
    if bytes.len() < least {
        return Err(DecodeError::Malformed);
    }
    Ok(())
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    let mut b = [0u8; 4];
    b.copy_from_slice(&bytes[at..at + 4]);
    u32::from_le_bytes(b)
}

/// Decodes a `RelaySend`: version, kind, length (the header and the MAC, at most a
/// [`MAX_DATAGRAM`] inside). It checks no MAC.
pub fn decode_relay_send(bytes: &[u8]) -> Result<RelaySend<'_>, DecodeError> {
    check(bytes, KIND_RELAY_SEND, RELAY_SEND_OVERHEAD, true)?;
    let (authenticated, mac) = bytes.split_at(bytes.len() - RELAY_MAC_LEN);
    let mac = mac.try_into().map_err(|_| DecodeError::Malformed)?;
    Ok(RelaySend {
        header: RelaySendHeader {
            sender: PeerId(u32_at(bytes, 2)),
            to: PeerId(u32_at(bytes, 6)),
            counter: u32_at(bytes, 10),
        },
        inner: &authenticated[RELAY_SEND_HEADER_LEN..],
        authenticated,
        mac,
    })
}

/// Decodes a `RelayDeliver`: version, kind, length (a header and a non-empty datagram of
/// at most [`MAX_DATAGRAM`]).
pub fn decode_relay_deliver(bytes: &[u8]) -> Result<RelayDeliver<'_>, DecodeError> {
    check(bytes, KIND_RELAY_DELIVER, RELAY_DELIVER_HEADER_LEN, false)?;
    Ok(RelayDeliver {
        from: PeerId(u32_at(bytes, 2)),
        inner: &bytes[RELAY_DELIVER_HEADER_LEN..],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_round_trip() {
        let mut buf = [0u8; MAX_RELAY_DATAGRAM + 1];
        let header = RelaySendHeader {
            sender: PeerId(7),
            to: PeerId(2),
            counter: 0x0102_0304,
        };
        assert_eq!(header.encode(&mut buf), Ok(RELAY_SEND_HEADER_LEN));
        buf[14..17].copy_from_slice(b"abc");
        buf[17..33].copy_from_slice(&[9; 16]);
        let send = decode_relay_send(&buf[..33]).unwrap();
        assert_eq!(send.header, header);
        assert_eq!((send.inner, send.mac), (&b"abc"[..], &[9; 16]));
        assert_eq!(send.authenticated, &buf[..17]);
        assert!(is_relay(&buf[..33]));

        assert_eq!(encode_deliver_header(PeerId(7), &mut buf), Ok(6));
        buf[6..9].copy_from_slice(b"abc");
        let deliver = decode_relay_deliver(&buf[..9]).unwrap();
        assert_eq!((deliver.from, deliver.inner), (PeerId(7), &b"abc"[..]));
    }

    #[test]
    fn bounds_and_kinds_are_checked() {
        let mut buf = [0u8; MAX_RELAY_DATAGRAM + 1];
        let header = RelaySendHeader {
            sender: PeerId(1),
            to: PeerId::SERVER,
            counter: 0,
        };
        header.encode(&mut buf).unwrap();
        // A registration: no inner datagram.
        assert!(decode_relay_send(&buf[..RELAY_SEND_OVERHEAD]).is_ok());
        assert_eq!(
            decode_relay_send(&buf[..RELAY_SEND_OVERHEAD - 1]),
            Err(DecodeError::Malformed)
        );
        assert!(decode_relay_send(&buf[..MAX_RELAY_DATAGRAM]).is_ok());
        assert_eq!(
            decode_relay_send(&buf),
            Err(DecodeError::OverLimit(Limit::Datagram))
        );
        encode_deliver_header(PeerId(1), &mut buf).unwrap();
        assert_eq!(
            decode_relay_deliver(&buf[..RELAY_DELIVER_HEADER_LEN]),
            Err(DecodeError::Malformed)
        );
        assert_eq!(
            decode_relay_deliver(&buf[..RELAY_DELIVER_HEADER_LEN + MAX_DATAGRAM + 1]),
            Err(DecodeError::OverLimit(Limit::Datagram))
        );
        assert_eq!(
            decode_relay_send(&buf[..40]),
            Err(DecodeError::UnknownKind(KIND_RELAY_DELIVER))
        );
        assert_eq!(
            decode_relay_deliver(&[1, 6, 0, 0, 0, 0, 0]),
            Err(DecodeError::UnknownVersion(1))
        );
        assert_eq!(decode_relay_deliver(&[2]), Err(DecodeError::Malformed));
        assert!(!is_relay(&[2, 4, 0]));
        assert_eq!(
            header.encode(&mut [0u8; 13]),
            Err(EncodeError::BufferTooSmall { needed: 14 })
        );
    }
}
