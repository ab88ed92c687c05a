//! Version 2 of the peer channel (UDP): the four datagrams the cryptographic layer puts
//! on the wire, each `02 ‖ kind ‖ …` with a fixed layout and little-endian integers.
//!
//! | kind | datagram | bytes |
//! | --- | --- | --- |
//! | 1 | [`HandshakeInitiation`] | [`INITIATION_LEN`] |
//! | 2 | [`HandshakeResponse`] | [`RESPONSE_LEN`] |
//! | 3 | [`CookieReply`] | [`COOKIE_REPLY_LEN`] |
//! | 4 | sealed packet: [`SealedHeader`] ‖ ciphertext ‖ tag | [`SEALED_OVERHEAD`] + payload |
//!
//! Fixed layouts keep the MAC and AEAD inputs at fixed offsets, so a receiver checks a
//! datagram's length and MACs before it parses or decrypts anything. The payload of a
//! sealed packet is the version-2 body; its meaning belongs to the layers above.
//! `crate::crypto` gives these bytes their meaning (keys, MACs, counters).

use super::codec::{DecodeError, EncodeError};
use super::limits::{Limit, MAX_DATAGRAM};
use super::types::PeerId;

/// The protocol version byte of every version-2 unit.
pub const VERSION_2: u8 = 2;

/// Bytes of a [`HandshakeInitiation`].
pub const INITIATION_LEN: usize = 138;
/// Bytes of a [`HandshakeResponse`].
pub const RESPONSE_LEN: usize = 74;
/// Bytes of a [`CookieReply`].
pub const COOKIE_REPLY_LEN: usize = 66;
/// Bytes of a sealed packet's cleartext header (its AEAD associated data).
pub const SEALED_HEADER_LEN: usize = 19;
/// Bytes of the Poly1305 tag at the end of a sealed packet.
pub const SEAL_TAG_LEN: usize = 16;
/// Bytes a sealed packet adds to its payload.
pub const SEALED_OVERHEAD: usize = SEALED_HEADER_LEN + SEAL_TAG_LEN;
/// Largest payload of one sealed packet, so the datagram stays within [`MAX_DATAGRAM`].
pub const MAX_SEALED_PAYLOAD: usize = MAX_DATAGRAM - SEALED_OVERHEAD;

/// Bytes of an initiation before its `mac1` (what `mac1` covers).
pub const INITIATION_MAC1_OFFSET: usize = 106;
/// Bytes of an initiation before its `mac2` (what `mac2` covers).
pub const INITIATION_MAC2_OFFSET: usize = 122;
/// Bytes of a response before its `mac1`.
pub const RESPONSE_MAC1_OFFSET: usize = 58;

/// Bytes of the Noise message inside an initiation: `e`, sealed `s`, sealed empty payload.
pub const INITIATION_NOISE_LEN: usize = 96;
/// Bytes of the Noise message inside a response: `e`, sealed empty payload.
pub const RESPONSE_NOISE_LEN: usize = 48;

/// The kind byte (byte 1) of a version-2 datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(u8)]
pub enum DatagramKind {
    /// A handshake initiation.
    Initiation = 1,
    /// A handshake response.
    Response = 2,
    /// A cookie reply to an initiation refused under load.
    CookieReply = 3,
    /// A sealed packet.
    Sealed = 4,
}

/// First message of the peer handshake (Noise IK `-> e, es, s, ss`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct HandshakeInitiation {
    /// The initiator's directory id.
    pub sender: PeerId,
    /// The key epoch the new session will carry.
    pub epoch: u32,
    /// The Noise message: ephemeral key (32), sealed static key (48), sealed empty
    /// payload (16).
    pub noise: [u8; INITIATION_NOISE_LEN],
    /// `MAC(HASH("mac1----" ‖ responder's key), bytes 0..106)`.
    pub mac1: [u8; 16],
    /// `MAC(cookie, bytes 0..122)`, or zeros without a fresh cookie.
    pub mac2: [u8; 16],
}

/// Second message of the peer handshake (Noise IK `<- e, ee, se`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct HandshakeResponse {
    /// The responder's directory id.
    pub sender: PeerId,
    /// The initiation's epoch, echoed.
    pub epoch: u32,
    /// The Noise message: ephemeral key (32), sealed empty payload (16).
    pub noise: [u8; RESPONSE_NOISE_LEN],
    /// `MAC(HASH("mac1----" ‖ initiator's key), bytes 0..58)`.
    pub mac1: [u8; 16],
}

/// A responder under load answers an initiation without a valid `mac2` with a cookie.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct CookieReply {
    /// The responder's directory id.
    pub sender: PeerId,
    /// The epoch of the initiation answered.
    pub epoch: u32,
    /// The XChaCha20-Poly1305 nonce.
    pub nonce: [u8; 24],
    /// The 16-byte cookie, sealed, and its tag.
    pub sealed_cookie: [u8; 32],
}

/// The cleartext header of a sealed packet: it is the AEAD's associated data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct SealedHeader {
    /// Must be 0 in version 2.
    pub flags: u8,
    /// The sender's directory id.
    pub sender: PeerId,
    /// Which session's keys sealed it.
    pub epoch: u32,
    /// The packet's counter: the AEAD nonce, and its place in the replay window.
    pub counter: u64,
}

/// One decoded version-2 datagram.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum PeerDatagram<'a> {
    /// A handshake initiation.
    Initiation(HandshakeInitiation),
    /// A handshake response.
    Response(HandshakeResponse),
    /// A cookie reply.
    CookieReply(CookieReply),
    /// A sealed packet: its header and its ciphertext with the tag at the end.
    Sealed {
        /// The cleartext header.
        header: SealedHeader,
        /// Ciphertext ‖ tag (at least [`SEAL_TAG_LEN`] bytes).
        sealed: &'a [u8],
    },
}

/// Reads fixed-size fields front to back.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take<const N: usize>(&mut self) -> [u8; N] {
        // Every caller checked the datagram's exact length first.
        let (head, rest) = self.0.split_at(N);
        self.0 = rest;
        head.try_into().expect("length checked before reading")
    }

    fn u32(&mut self) -> u32 {
        u32::from_le_bytes(self.take())
    }
}

/// Writes fixed-size fields front to back.
struct Writer<'a> {
    out: &'a mut [u8],
    at: usize,
}

impl<'a> Writer<'a> {
    fn new(out: &'a mut [u8], len: usize, kind: DatagramKind) -> Result<Self, EncodeError> {
        if out.len() < len {
            return Err(EncodeError::BufferTooSmall { needed: len });
        }
        let mut w = Writer { out, at: 0 };
        w.put(&[VERSION_2, kind as u8]);
        Ok(w)
    }

    fn put(&mut self, bytes: &[u8]) {
        self.out[self.at..self.at + bytes.len()].copy_from_slice(bytes);
        self.at += bytes.len();
    }

    fn done(self) -> usize {
        self.at
    }
}

impl HandshakeInitiation {
    /// Writes the initiation into `out`; returns [`INITIATION_LEN`].
    pub fn encode(&self, out: &mut [u8]) -> Result<usize, EncodeError> {
        let mut w = Writer::new(out, INITIATION_LEN, DatagramKind::Initiation)?;
        w.put(&self.sender.0.to_le_bytes());
        w.put(&self.epoch.to_le_bytes());
        w.put(&self.noise);
        w.put(&self.mac1);
        w.put(&self.mac2);
        Ok(w.done())
    }

    fn read(r: &mut Reader<'_>) -> Self {
        HandshakeInitiation {
            sender: PeerId(r.u32()),
            epoch: r.u32(),
            noise: r.take(),
            mac1: r.take(),
            mac2: r.take(),
        }
    }
}

impl HandshakeResponse {
    /// Writes the response into `out`; returns [`RESPONSE_LEN`].
    pub fn encode(&self, out: &mut [u8]) -> Result<usize, EncodeError> {
        let mut w = Writer::new(out, RESPONSE_LEN, DatagramKind::Response)?;
        w.put(&self.sender.0.to_le_bytes());
        w.put(&self.epoch.to_le_bytes());
        w.put(&self.noise);
        w.put(&self.mac1);
        Ok(w.done())
    }

    fn read(r: &mut Reader<'_>) -> Self {
        HandshakeResponse {
            sender: PeerId(r.u32()),
            epoch: r.u32(),
            noise: r.take(),
            mac1: r.take(),
        }
    }
}

impl CookieReply {
    /// Writes the cookie reply into `out`; returns [`COOKIE_REPLY_LEN`].
    pub fn encode(&self, out: &mut [u8]) -> Result<usize, EncodeError> {
        let mut w = Writer::new(out, COOKIE_REPLY_LEN, DatagramKind::CookieReply)?;
        w.put(&self.sender.0.to_le_bytes());
        w.put(&self.epoch.to_le_bytes());
        w.put(&self.nonce);
        w.put(&self.sealed_cookie);
        Ok(w.done())
    }

    fn read(r: &mut Reader<'_>) -> Self {
        CookieReply {
            sender: PeerId(r.u32()),
            epoch: r.u32(),
            nonce: r.take(),
            sealed_cookie: r.take(),
        }
    }
}

impl SealedHeader {
    /// Writes the header into the first [`SEALED_HEADER_LEN`] bytes of `out`.
    pub fn encode(&self, out: &mut [u8]) -> Result<usize, EncodeError> {
        let mut w = Writer::new(out, SEALED_HEADER_LEN, DatagramKind::Sealed)?;
        w.put(&[self.flags]);
        w.put(&self.sender.0.to_le_bytes());
        w.put(&self.epoch.to_le_bytes());
        w.put(&self.counter.to_le_bytes());
        Ok(w.done())
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let [flags] = r.take();
        if flags != 0 {
            return Err(DecodeError::UnsupportedFlags(flags));
        }
        Ok(SealedHeader {
            flags,
            sender: PeerId(r.u32()),
            epoch: r.u32(),
            counter: u64::from_le_bytes(r.take()),
        })
    }
}

/// The kind of a version-2 datagram from its first two bytes, checking nothing else.
pub fn datagram_kind(bytes: &[u8]) -> Result<DatagramKind, DecodeError> {
    match bytes {
        [] | [_] => Err(DecodeError::Malformed),
        [VERSION_2, kind, ..] => match kind {
            1 => Ok(DatagramKind::Initiation),
            2 => Ok(DatagramKind::Response),
            3 => Ok(DatagramKind::CookieReply),
            4 => Ok(DatagramKind::Sealed),
            other => Err(DecodeError::UnknownKind(*other)),
        },
        [version, ..] => Err(DecodeError::UnknownVersion(*version)),
    }
}

/// Decodes one version-2 datagram: version, kind and exact length (a sealed packet: at
/// least its overhead, at most [`MAX_DATAGRAM`]), and a sealed header's flags. A
/// version-1 packet is `UnknownVersion(1)`.
pub fn decode_datagram(bytes: &[u8]) -> Result<PeerDatagram<'_>, DecodeError> {
    if bytes.len() > MAX_DATAGRAM {
        return Err(DecodeError::OverLimit(Limit::Datagram));
    }
    let kind = datagram_kind(bytes)?;
    let exact = match kind {
        DatagramKind::Initiation => Some(INITIATION_LEN),
        DatagramKind::Response => Some(RESPONSE_LEN),
        DatagramKind::CookieReply => Some(COOKIE_REPLY_LEN),
        DatagramKind::Sealed => None,
    };
    match exact {
        Some(len) if bytes.len() != len => return Err(DecodeError::Malformed),
        None if bytes.len() < SEALED_OVERHEAD => return Err(DecodeError::Malformed),
        _ => {}
    }
    let mut r = Reader(&bytes[2..]);
    Ok(match kind {
        DatagramKind::Initiation => PeerDatagram::Initiation(HandshakeInitiation::read(&mut r)),
        DatagramKind::Response => PeerDatagram::Response(HandshakeResponse::read(&mut r)),
        DatagramKind::CookieReply => PeerDatagram::CookieReply(CookieReply::read(&mut r)),
        DatagramKind::Sealed => PeerDatagram::Sealed {
            header: SealedHeader::read(&mut r)?,
            sealed: r.0,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn initiation() -> HandshakeInitiation {
        HandshakeInitiation {
            sender: PeerId(0x0102_0304),
            epoch: 7,
            noise: [0xaa; INITIATION_NOISE_LEN],
            mac1: [1; 16],
            mac2: [2; 16],
        }
    }

    #[test]
    fn fixed_layouts_round_trip() {
        let mut buf = [0u8; MAX_DATAGRAM];
        let n = initiation().encode(&mut buf).unwrap();
        assert_eq!(n, INITIATION_LEN);
        assert_eq!(buf[..6], [2, 1, 4, 3, 2, 1]);
        assert_eq!(buf[INITIATION_MAC1_OFFSET..][..16], [1; 16]);
        assert_eq!(buf[INITIATION_MAC2_OFFSET..][..16], [2; 16]);
        assert_eq!(
            decode_datagram(&buf[..n]),
            Ok(PeerDatagram::Initiation(initiation()))
        );

        let response = HandshakeResponse {
            sender: PeerId(9),
            epoch: 7,
            noise: [0xbb; RESPONSE_NOISE_LEN],
            mac1: [3; 16],
        };
        let n = response.encode(&mut buf).unwrap();
        assert_eq!((n, buf[RESPONSE_MAC1_OFFSET]), (RESPONSE_LEN, 3));
        assert_eq!(
            decode_datagram(&buf[..n]),
            Ok(PeerDatagram::Response(response))
        );

        let cookie = CookieReply {
            sender: PeerId(9),
            epoch: 7,
            nonce: [4; 24],
            sealed_cookie: [5; 32],
        };
        let n = cookie.encode(&mut buf).unwrap();
        assert_eq!(n, COOKIE_REPLY_LEN);
        assert_eq!(
            decode_datagram(&buf[..n]),
            Ok(PeerDatagram::CookieReply(cookie))
        );

        let header = SealedHeader {
            flags: 0,
            sender: PeerId(9),
            epoch: 7,
            counter: 0x0102_0304_0506_0708,
        };
        assert_eq!(header.encode(&mut buf), Ok(SEALED_HEADER_LEN));
        let n = SEALED_OVERHEAD + 3;
        match decode_datagram(&buf[..n]) {
            Ok(PeerDatagram::Sealed { header: h, sealed }) => {
                assert_eq!(h, header);
                assert_eq!(sealed.len(), 3 + SEAL_TAG_LEN);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn bad_datagrams_get_typed_errors() {
        let mut buf = [0u8; MAX_DATAGRAM + 1];
        let n = initiation().encode(&mut buf).unwrap();
        assert_eq!(decode_datagram(&buf[..n - 1]), Err(DecodeError::Malformed));
        assert_eq!(decode_datagram(&buf[..n + 1]), Err(DecodeError::Malformed));
        assert_eq!(decode_datagram(&[]), Err(DecodeError::Malformed));
        assert_eq!(decode_datagram(&[2]), Err(DecodeError::Malformed));
        assert_eq!(
            decode_datagram(&[1, 0, 7, 3, 0]),
            Err(DecodeError::UnknownVersion(1))
        );
        assert_eq!(decode_datagram(&[2, 0]), Err(DecodeError::UnknownKind(0)));
        assert_eq!(
            decode_datagram(&[2, 5, 0]),
            Err(DecodeError::UnknownKind(5))
        );
        let mut sealed = [0u8; SEALED_OVERHEAD];
        sealed[..2].copy_from_slice(&[2, 4]);
        assert!(decode_datagram(&sealed).is_ok());
        assert_eq!(
            decode_datagram(&sealed[..SEALED_OVERHEAD - 1]),
            Err(DecodeError::Malformed)
        );
        sealed[2] = 1;
        assert_eq!(
            decode_datagram(&sealed),
            Err(DecodeError::UnsupportedFlags(1))
        );
        buf[..2].copy_from_slice(&[2, 4]);
        assert_eq!(
            decode_datagram(&buf),
            Err(DecodeError::OverLimit(Limit::Datagram))
        );
        assert_eq!(
            initiation().encode(&mut buf[..INITIATION_LEN - 1]),
            Err(EncodeError::BufferTooSmall {
                needed: INITIATION_LEN
            })
        );
    }
}
