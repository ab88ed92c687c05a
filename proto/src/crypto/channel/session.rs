//! One session of a peer channel: the two transport keys a handshake produced, the key
//! epoch that names them, the send counter and the replay window; and the sealing and
//! opening of packets under them.

use zeroize::Zeroizing;

use super::super::primitives::{self, Secret, KEY_LEN};
use super::super::replay::{ReplayError, ReplayWindow, REJECT_AFTER_MESSAGES};
use super::{REJECT_AFTER_TIME, REKEY_AFTER_MESSAGES};
use crate::time::Instant;
use crate::wire::v2_peer::{SealedHeader, SEALED_HEADER_LEN, SEAL_TAG_LEN};
use crate::wire::{PeerId, MAX_DATAGRAM};

/// Transport keys straight out of a handshake.
#[derive(Clone)]
pub(super) struct SessionKeys {
    pub(super) epoch: u32,
    pub(super) send: Secret,
    pub(super) recv: Secret,
    pub(super) we_initiated: bool,
}

/// A live session, or an empty slot (`live == false`, keys zeroed).
#[derive(Clone)]
pub(super) struct Session<const W: usize> {
    pub(super) live: bool,
    pub(super) epoch: u32,
    send: Secret,
    recv: Secret,
    next_send: u64,
    window: ReplayWindow<W>,
    pub(super) born: Instant,
    pub(super) we_initiated: bool,
    /// An authenticated packet arrived on it: the peer holds it too.
    pub(super) heard: bool,
}

impl<const W: usize> Session<W> {
    pub(super) fn empty() -> Self {
        Session {
            live: false,
            epoch: 0,
            send: Zeroizing::new([0; KEY_LEN]),
            recv: Zeroizing::new([0; KEY_LEN]),
            next_send: 0,
            window: ReplayWindow::new(),
            born: Instant::ZERO,
            we_initiated: false,
            heard: false,
        }
    }

    /// Fills this slot with fresh keys, wiping what it held.
    pub(super) fn install(&mut self, keys: SessionKeys, now: Instant) {
        *self.send = *keys.send;
        *self.recv = *keys.recv;
        self.epoch = keys.epoch;
        self.we_initiated = keys.we_initiated;
        self.next_send = 0;
        self.window.reset();
        self.born = now;
        self.heard = false;
        self.live = true;
    }

    /// Wipes the keys and frees the slot.
    pub(super) fn clear(&mut self) {
        *self.send = [0; KEY_LEN];
        *self.recv = [0; KEY_LEN];
        self.live = false;
        self.heard = false;
    }

    /// Whether both keys are zero (a cleared slot).
    #[cfg(test)]
    pub(super) fn is_wiped(&self) -> bool {
        *self.send == [0; KEY_LEN] && *self.recv == [0; KEY_LEN]
    }

    /// Whether the session may still open packets at `now`.
    pub(super) fn can_open(&self, now: Instant) -> bool {
        self.live && now - self.born < REJECT_AFTER_TIME
    }

    /// Whether the session may still seal a packet at `now`.
    pub(super) fn can_seal(&self, now: Instant) -> bool {
        self.can_open(now) && self.next_send < REJECT_AFTER_MESSAGES
    }

    /// Whether the send counter calls for a new handshake.
    pub(super) fn counter_worn(&self) -> bool {
        self.next_send >= REKEY_AFTER_MESSAGES
    }

    /// Seals the `payload_len` bytes at `buf[SEALED_HEADER_LEN..]` in place, writing the
    /// header before them and the tag after; returns the datagram's length. The caller
    /// checked `can_seal` and the room.
    pub(super) fn seal(&mut self, sender: PeerId, buf: &mut [u8], payload_len: usize) -> usize {
        let header = SealedHeader {
            flags: 0,
            sender,
            epoch: self.epoch,
            counter: self.next_send,
        };
        self.next_send += 1;
        // The caller checked that `buf` holds the header, the payload and the tag.
        header.encode(buf).expect("room checked by the caller");
        let (ad, rest) = buf.split_at_mut(SEALED_HEADER_LEN);
        let (body, tail) = rest.split_at_mut(payload_len);
        let tag = primitives::seal(&self.send, header.counter, ad, body);
        tail[..SEAL_TAG_LEN].copy_from_slice(&tag);
        SEALED_HEADER_LEN + payload_len + SEAL_TAG_LEN
    }

    /// Whether `counter` could be new on this session (checked before the AEAD).
    pub(super) fn check(&self, counter: u64) -> Result<(), ReplayError> {
        self.window.check(counter)
    }

    /// Authenticates and decrypts `datagram` (header ‖ ciphertext ‖ tag) in place and
    /// records its counter. On failure nothing changes, the buffer included.
    pub(super) fn open(&mut self, counter: u64, datagram: &mut [u8]) -> Result<(), ()> {
        let (ad, rest) = datagram.split_at_mut(SEALED_HEADER_LEN);
        let (body, tag) = rest.split_at_mut(rest.len() - SEAL_TAG_LEN);
        let mut t = [0u8; SEAL_TAG_LEN];
        t.copy_from_slice(tag);
        primitives::open(&self.recv, counter, ad, body, &t).map_err(|_| ())?;
        // `check` passed just before and nothing ran in between: `accept` succeeds.
        let accepted = self.window.accept(counter);
        debug_assert!(accepted.is_ok());
        self.heard = true;
        Ok(())
    }

    /// Whether `datagram` authenticates under this session, without decrypting it in
    /// place or recording anything (a copy of a packet already taken).
    pub(super) fn is_authentic(&self, counter: u64, datagram: &[u8]) -> bool {
        let mut scratch = [0u8; MAX_DATAGRAM];
        let Some(copy) = scratch.get_mut(..datagram.len()) else {
            return false;
        };
        copy.copy_from_slice(datagram);
        let (ad, rest) = copy.split_at_mut(SEALED_HEADER_LEN);
        let (body, tag) = rest.split_at_mut(rest.len() - SEAL_TAG_LEN);
        let mut t = [0u8; SEAL_TAG_LEN];
        t.copy_from_slice(tag);
        primitives::open(&self.recv, counter, ad, body, &t).is_ok()
    }

    /// Records the first packet of a session just confirmed (opened with its keys before
    /// it was installed).
    pub(super) fn accept_first(&mut self, counter: u64) -> Result<(), ReplayError> {
        self.window.accept(counter)?;
        self.heard = true;
        Ok(())
    }

    /// The highest counter opened so far.
    pub(super) fn highest(&self) -> Option<u64> {
        self.window.highest()
    }
}
