//! The control channel's cryptography: a Noise `XX` handshake of the client against the
//! server's long-term key, then sealed control messages.
//!
//! **Why XX.** The client may not know the server's key yet (first use), and the server
//! must learn the client's key (the directory hands it out with the name). In `XX` the
//! server proves its key in the second message, so the client can check it against its
//! pin, or pin it on first use, *before* it reveals its own key in the third; both keys
//! travel encrypted, and both sides get forward secrecy. `IK` would save half a round
//! trip only when the key is pinned, at the price of a second pattern (and the client's
//! identity encrypted to the server's static key only). A control connection is opened
//! once and kept for hours: one pattern for every case is worth half a round trip.
//!
//! **Transport.** TCP delivers in order, so each direction counts its frames (Noise's
//! implicit nonce). The associated data is the unit's two header bytes. After every
//! [`CONTROL_REKEY_FRAMES`] frames a direction's key is replaced by Noise's
//! `REKEY(k)`, so a key taken from memory later opens at most that many earlier frames.

use rand_core::CryptoRng;

use super::identity::Fingerprint;
use super::keys::{Keypair, PublicKey};
use super::noise::{HandshakeState, NoiseError, XX};
use super::primitives::{self, Secret, KEY_LEN, TAG_LEN};
use crate::wire::v2_control::{
    control_unit_header, decode_control_unit, ControlUnitKind, CONTROL_FINISH_LEN,
    CONTROL_HELLO_LEN, CONTROL_REPLY_LEN, CONTROL_SEALED_OVERHEAD,
};
use crate::wire::DecodeError;

/// The control handshake's Noise prologue.
pub(crate) const CONTROL_PROLOGUE: &[u8] = b"peerchat v2 control";

/// Frames a direction seals under one key before `REKEY` replaces it.
pub const CONTROL_REKEY_FRAMES: u64 = 256;

/// What the client expects of the server's key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ServerPin {
    /// Nothing pinned yet: accept the key and pin it (trust on first use).
    FirstUse,
    /// This key exactly.
    Key(PublicKey),
    /// A key with this fingerprint (`--server-key` as printed by the server).
    Fingerprint(Fingerprint),
}

/// Why the control handshake failed; the connection must close.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ControlHandshakeError {
    /// Not the expected unit (a version-1 peer gives `UnknownVersion(1)`).
    Malformed(DecodeError),
    /// A sealed field did not authenticate.
    AuthFailed,
    /// The server proved a key other than the pinned one.
    ServerKeyChanged {
        /// The fingerprint pinned.
        pinned: Fingerprint,
        /// The key the server proved.
        presented: PublicKey,
    },
    /// The output buffer is too small; `needed` bytes would do.
    BufferTooSmall {
        /// Bytes the unit needs.
        needed: usize,
    },
    /// A step was taken out of order.
    OutOfTurn,
}

/// Why a sealed control unit was refused; the connection must close (a stream cannot
/// skip a frame).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ControlOpenError {
    /// Not a sealed version-2 control unit.
    Malformed(DecodeError),
    /// The tag did not verify (forged, corrupted, reordered or replayed).
    AuthFailed,
}

fn noise_error(e: NoiseError) -> ControlHandshakeError {
    match e {
        NoiseError::BufferTooSmall { needed } => ControlHandshakeError::BufferTooSmall { needed },
        NoiseError::Length => ControlHandshakeError::Malformed(DecodeError::Malformed),
        NoiseError::OutOfTurn => ControlHandshakeError::OutOfTurn,
        NoiseError::Decrypt | NoiseError::LowOrder => ControlHandshakeError::AuthFailed,
    }
}

/// Writes a handshake unit of `kind` (`len` bytes in all) with the next Noise message.
fn write_unit(
    hs: &mut HandshakeState,
    local: &Keypair,
    kind: ControlUnitKind,
    len: usize,
    out: &mut [u8],
) -> Result<usize, ControlHandshakeError> {
    control_unit_header(out, kind, len)
        .map_err(|_| ControlHandshakeError::BufferTooSmall { needed: len })?;
    let n = hs
        .write_message(local, &[], &mut out[2..len])
        .map_err(noise_error)?;
    Ok(2 + n)
}

/// Reads a handshake unit of `kind` into the Noise state.
fn read_unit(
    hs: &mut HandshakeState,
    local: &Keypair,
    kind: ControlUnitKind,
    unit: &[u8],
) -> Result<(), ControlHandshakeError> {
    let decoded = decode_control_unit(unit).map_err(ControlHandshakeError::Malformed)?;
    if decoded.kind != kind {
        return Err(ControlHandshakeError::Malformed(DecodeError::UnknownKind(
            decoded.kind as u8,
        )));
    }
    hs.read_message(local, decoded.body, &mut [])
        .map_err(noise_error)?;
    Ok(())
}

/// The control handshake's Noise state for one side.
fn xx(client: bool, local: &Keypair, e: Keypair) -> HandshakeState {
    HandshakeState::new(&XX, client, &[CONTROL_PROLOGUE], local.public(), None, e)
}

/// The client's side of the control handshake.
pub struct ControlClientHandshake {
    hs: HandshakeState,
}

impl ControlClientHandshake {
    /// A handshake by the holder of `local`, with an ephemeral key from `rng`.
    pub fn new<R: CryptoRng + ?Sized>(local: &Keypair, rng: &mut R) -> Self {
        Self::with_ephemeral(local, Keypair::generate(rng))
    }

    /// The same with a given ephemeral key (test vectors).
    pub fn with_ephemeral(local: &Keypair, e: Keypair) -> Self {
        ControlClientHandshake {
            hs: xx(true, local, e),
        }
    }

    /// Writes the `ControlHello` unit ([`CONTROL_HELLO_LEN`] bytes).
    pub fn write_hello(
        &mut self,
        local: &Keypair,
        out: &mut [u8],
    ) -> Result<usize, ControlHandshakeError> {
        write_unit(
            &mut self.hs,
            local,
            ControlUnitKind::Hello,
            CONTROL_HELLO_LEN,
            out,
        )
    }

    /// Reads the server's `ControlReply` and checks its key against `pin`; returns the
    /// key (to pin, on first use).
    pub fn read_reply(
        &mut self,
        local: &Keypair,
        unit: &[u8],
        pin: ServerPin,
    ) -> Result<PublicKey, ControlHandshakeError> {
        read_unit(&mut self.hs, local, ControlUnitKind::Reply, unit)?;
        let presented = *self
            .hs
            .remote_static()
            .ok_or(ControlHandshakeError::OutOfTurn)?;
        let pinned = match pin {
            ServerPin::FirstUse => return Ok(presented),
            ServerPin::Key(key) if key == presented => return Ok(presented),
            ServerPin::Key(key) => Fingerprint::of(&key),
            ServerPin::Fingerprint(fp) if fp == Fingerprint::of(&presented) => {
                return Ok(presented)
            }
            ServerPin::Fingerprint(fp) => fp,
        };
        Err(ControlHandshakeError::ServerKeyChanged { pinned, presented })
    }

    /// Writes the `ControlFinish` unit ([`CONTROL_FINISH_LEN`] bytes), which reveals our
    /// key to the server; returns its length and the transport cipher.
    pub fn write_finish(
        mut self,
        local: &Keypair,
        out: &mut [u8],
    ) -> Result<(usize, ControlCipher), ControlHandshakeError> {
        let n = write_unit(
            &mut self.hs,
            local,
            ControlUnitKind::Finish,
            CONTROL_FINISH_LEN,
            out,
        )?;
        Ok((n, ControlCipher::from_handshake(&self.hs)))
    }
}

/// The server's side of the control handshake.
pub struct ControlServerHandshake {
    hs: HandshakeState,
}

impl ControlServerHandshake {
    /// A handshake by the server holding `local`, with an ephemeral key from `rng`.
    pub fn new<R: CryptoRng + ?Sized>(local: &Keypair, rng: &mut R) -> Self {
        Self::with_ephemeral(local, Keypair::generate(rng))
    }

    /// The same with a given ephemeral key (test vectors).
    pub fn with_ephemeral(local: &Keypair, e: Keypair) -> Self {
        ControlServerHandshake {
            hs: xx(false, local, e),
        }
    }

    /// Reads the client's `ControlHello`.
    pub fn read_hello(
        &mut self,
        local: &Keypair,
        unit: &[u8],
    ) -> Result<(), ControlHandshakeError> {
        read_unit(&mut self.hs, local, ControlUnitKind::Hello, unit)
    }

    /// Writes the `ControlReply` unit ([`CONTROL_REPLY_LEN`] bytes).
    pub fn write_reply(
        &mut self,
        local: &Keypair,
        out: &mut [u8],
    ) -> Result<usize, ControlHandshakeError> {
        write_unit(
            &mut self.hs,
            local,
            ControlUnitKind::Reply,
            CONTROL_REPLY_LEN,
            out,
        )
    }

    /// Reads the client's `ControlFinish`: returns the key the client proved (its
    /// identity for the directory) and the transport cipher.
    pub fn read_finish(
        mut self,
        local: &Keypair,
        unit: &[u8],
    ) -> Result<(PublicKey, ControlCipher), ControlHandshakeError> {
        read_unit(&mut self.hs, local, ControlUnitKind::Finish, unit)?;
        let client = *self
            .hs
            .remote_static()
            .ok_or(ControlHandshakeError::OutOfTurn)?;
        Ok((client, ControlCipher::from_handshake(&self.hs)))
    }
}

/// One direction of the sealed stream: its key and frame counter.
#[derive(Clone)]
struct Direction {
    key: Secret,
    frames: u64,
}

impl Direction {
    /// Counts a frame; replaces the key with `REKEY(k)` every [`CONTROL_REKEY_FRAMES`].
    fn advance(&mut self) {
        self.frames += 1;
        if self.frames % CONTROL_REKEY_FRAMES == 0 {
            let mut next = [0u8; KEY_LEN];
            let _tag = primitives::seal(&self.key, u64::MAX, &[], &mut next);
            *self.key = next;
        }
    }
}

/// The sealed control stream after the handshake, for one side. A clone holds the same
/// keys and counters.
#[derive(Clone)]
pub struct ControlCipher {
    send: Direction,
    recv: Direction,
    handshake_hash: [u8; KEY_LEN],
}

impl ControlCipher {
    fn from_handshake(hs: &HandshakeState) -> Self {
        let (send, recv) = hs.split();
        ControlCipher {
            send: Direction {
                key: send,
                frames: 0,
            },
            recv: Direction {
                key: recv,
                frames: 0,
            },
            handshake_hash: hs.handshake_hash(),
        }
    }

    /// The Noise handshake hash: both sides hold the same one (a channel binding).
    pub fn handshake_hash(&self) -> &[u8; KEY_LEN] {
        &self.handshake_hash
    }

    /// Seals the `plain_len` bytes the caller wrote at `buf[2..]` into a `ControlSealed`
    /// unit in place; returns the unit's length (`plain_len + CONTROL_SEALED_OVERHEAD`).
    pub fn seal(
        &mut self,
        buf: &mut [u8],
        plain_len: usize,
    ) -> Result<usize, crate::wire::EncodeError> {
        let len = plain_len + CONTROL_SEALED_OVERHEAD;
        control_unit_header(buf, ControlUnitKind::Sealed, len)?;
        let (ad, rest) = buf.split_at_mut(2);
        let (body, tail) = rest.split_at_mut(plain_len);
        let tag = primitives::seal(&self.send.key, self.send.frames, ad, body);
        tail[..TAG_LEN].copy_from_slice(&tag);
        self.send.advance();
        Ok(len)
    }

    /// Opens a `ControlSealed` unit in place; returns the plaintext.
    pub fn open<'b>(&mut self, unit: &'b mut [u8]) -> Result<&'b [u8], ControlOpenError> {
        let decoded = decode_control_unit(unit).map_err(ControlOpenError::Malformed)?;
        if decoded.kind != ControlUnitKind::Sealed {
            return Err(ControlOpenError::Malformed(DecodeError::UnknownKind(
                decoded.kind as u8,
            )));
        }
        let (ad, rest) = unit.split_at_mut(2);
        let (body, tag) = rest.split_at_mut(rest.len() - TAG_LEN);
        let mut t = [0u8; TAG_LEN];
        t.copy_from_slice(tag);
        primitives::open(&self.recv.key, self.recv.frames, ad, body, &t)
            .map_err(|_| ControlOpenError::AuthFailed)?;
        self.recv.advance();
        Ok(body)
    }
}

impl core::fmt::Debug for ControlCipher {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ControlCipher")
            .field("sent", &self.send.frames)
            .field("received", &self.recv.frames)
            .finish_non_exhaustive()
    }
}

impl core::fmt::Debug for ControlClientHandshake {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ControlClientHandshake")
            .finish_non_exhaustive()
    }
}

impl core::fmt::Debug for ControlServerHandshake {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ControlServerHandshake")
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests;
