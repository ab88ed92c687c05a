//! Version 2 of the control channel (TCP): the units of the Noise XX handshake and the
//! sealed units after it, each `02 ‖ kind ‖ body`.
//!
//! | kind | unit | body |
//! | --- | --- | --- |
//! | 1 | `ControlHello` (client) | Noise `-> e`: 32 bytes |
//! | 2 | `ControlReply` (server) | Noise `<- e, ee, s, es`: 96 bytes |
//! | 3 | `ControlFinish` (client) | Noise `-> s, se`: 64 bytes |
//! | 4 | `ControlSealed` (both) | ciphertext ‖ 16-byte tag |
//!
//! Units travel in the framing of version 1, unchanged: COBS, then a `00` terminator
//! ([`super::frame`]). Because every unit starts with its version byte, a version-1
//! server answers a version-2 client with `Rejected { BadVersion }` and a version-2
//! server recognises a version-1 `Hello` (`UnknownVersion(1)`) before anything else.

use super::codec::{DecodeError, EncodeError};
use super::limits::{Limit, MAX_FRAME};
use super::v2_peer::VERSION_2;

/// Bytes of a `ControlHello` unit.
pub const CONTROL_HELLO_LEN: usize = 2 + 32;
/// Bytes of a `ControlReply` unit.
pub const CONTROL_REPLY_LEN: usize = 2 + 96;
/// Bytes of a `ControlFinish` unit.
pub const CONTROL_FINISH_LEN: usize = 2 + 64;
/// Bytes a `ControlSealed` unit adds to its plaintext: version, kind, tag.
pub const CONTROL_SEALED_OVERHEAD: usize = 2 + 16;

/// The kind byte of a version-2 control unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(u8)]
pub enum ControlUnitKind {
    /// The client's first handshake message.
    Hello = 1,
    /// The server's handshake message.
    Reply = 2,
    /// The client's last handshake message.
    Finish = 3,
    /// A sealed control message.
    Sealed = 4,
}

/// One decoded control unit: its kind and the bytes after the kind (the Noise message,
/// or ciphertext ‖ tag).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ControlUnit<'a> {
    /// Which unit.
    pub kind: ControlUnitKind,
    /// Everything after the kind byte.
    pub body: &'a [u8],
}

/// Decodes a control unit (the bytes of one frame after COBS decoding): version, kind
/// and exact length.
pub fn decode_control_unit(bytes: &[u8]) -> Result<ControlUnit<'_>, DecodeError> {
    let (kind, body) = match bytes {
        [VERSION_2, kind, body @ ..] => (*kind, body),
        [VERSION_2] | [] => return Err(DecodeError::Malformed),
        [version, ..] => return Err(DecodeError::UnknownVersion(*version)),
    };
    let (kind, len_ok) = match kind {
        1 => (ControlUnitKind::Hello, bytes.len() == CONTROL_HELLO_LEN),
        2 => (ControlUnitKind::Reply, bytes.len() == CONTROL_REPLY_LEN),
        3 => (ControlUnitKind::Finish, bytes.len() == CONTROL_FINISH_LEN),
        4 => (
            ControlUnitKind::Sealed,
            bytes.len() >= CONTROL_SEALED_OVERHEAD,
        ),
        other => return Err(DecodeError::UnknownKind(other)),
    };
    if bytes.len() > MAX_FRAME {
        return Err(DecodeError::OverLimit(Limit::Frame));
    }
    if !len_ok {
        return Err(DecodeError::Malformed);
    }
    Ok(ControlUnit { kind, body })
}

/// Writes the two header bytes of a control unit of `kind` whose whole length is `len`
/// into `out`, checking the room.
pub(crate) fn control_unit_header(
    out: &mut [u8],
    kind: ControlUnitKind,
    len: usize,
) -> Result<(), EncodeError> {
    if out.len() < len {
        return Err(EncodeError::BufferTooSmall { needed: len });
    }
    out[..2].copy_from_slice(&[VERSION_2, kind as u8]);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_are_checked_by_kind_and_length() {
        let mut hello = [0u8; CONTROL_HELLO_LEN];
        control_unit_header(&mut hello, ControlUnitKind::Hello, CONTROL_HELLO_LEN).unwrap();
        let unit = decode_control_unit(&hello).unwrap();
        assert_eq!((unit.kind, unit.body.len()), (ControlUnitKind::Hello, 32));
        assert_eq!(
            decode_control_unit(&hello[..33]),
            Err(DecodeError::Malformed)
        );
        // A version-1 `Hello` unit, as a version-1 client sends it.
        assert_eq!(
            decode_control_unit(&[1, 0, 5, b'a', b'l', b'i', b'c', b'e', 0xa0, 0x1f]),
            Err(DecodeError::UnknownVersion(1))
        );
        assert_eq!(
            decode_control_unit(&[2, 9]),
            Err(DecodeError::UnknownKind(9))
        );
        assert_eq!(decode_control_unit(&[2]), Err(DecodeError::Malformed));
        let sealed = [2, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(decode_control_unit(&sealed).unwrap().body.len(), 16);
        assert_eq!(
            decode_control_unit(&sealed[..17]),
            Err(DecodeError::Malformed)
        );
        assert_eq!(
            control_unit_header(&mut [0; 3], ControlUnitKind::Reply, CONTROL_REPLY_LEN),
            Err(EncodeError::BufferTooSmall {
                needed: CONTROL_REPLY_LEN
            })
        );
    }
}
