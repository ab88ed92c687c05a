//! Sealing and opening packets on a peer channel, the confirmation of a pending session
//! by its first packet, keepalives and roaming.
//!
//! Opening checks, in order and before any state changes: the header (length, version,
//! kind, flags, sender), a session with the packet's epoch that is not too old, the
//! replay window (a duplicate costs no AEAD), then the tag. Only an authenticated packet
//! moves the window, confirms a session, resets timers or moves the peer; and it moves
//! the peer only when it is the newest packet of its session, so a copy of an
//! old packet sent from elsewhere never redirects traffic. A move keeps the address
//! before it as a fallback: the channel goes back there when the genuine copy of the
//! packet that moved it arrives from there (the move was a copy raced from elsewhere), or
//! when the peer stays silent while we send.

use core::net::SocketAddr;

use super::super::primitives::{self, TAG_LEN};
use super::session::SessionKeys;
use super::timers::ChannelTimer;
use super::{OpenError, Opened, PeerChannel, SealError, KEEPALIVE_TIMEOUT, REKEY_TIMEOUT};
use crate::crypto::replay::ReplayError;
use crate::time::Instant;
use crate::wire::v2_peer::{
    decode_datagram, PeerDatagram, SealedHeader, MAX_SEALED_PAYLOAD, SEALED_HEADER_LEN,
    SEALED_OVERHEAD,
};

impl<const W: usize> PeerChannel<W> {
    /// Seals the `payload_len` bytes the caller wrote at `buf[SEALED_HEADER_LEN..]`, in
    /// place: the header goes before them and the tag after. Returns the datagram's
    /// length (`payload_len + SEALED_OVERHEAD`). Without a session it starts a handshake
    /// and returns [`SealError::NoSession`].
    pub fn seal(
        &mut self,
        now: Instant,
        buf: &mut [u8],
        payload_len: usize,
    ) -> Result<usize, SealError> {
        if payload_len > MAX_SEALED_PAYLOAD {
            return Err(SealError::TooLong);
        }
        let needed = payload_len + SEALED_OVERHEAD;
        if buf.len() < needed {
            return Err(SealError::BufferTooSmall { needed });
        }
        if !self.can_seal(now) {
            self.demand_handshake(now);
            return Err(SealError::NoSession);
        }
        self.rekey_if_due(now);
        let len = self.sessions[self.current].seal(self.local_id, buf, payload_len);
        self.stats.sealed += 1;
        self.want_keepalive = false;
        self.timers.stop(ChannelTimer::Keepalive);
        if payload_len > 0 {
            let deadline = now + KEEPALIVE_TIMEOUT + REKEY_TIMEOUT;
            self.timers.set_earliest(ChannelTimer::DeadPeer, deadline);
        }
        Ok(len)
    }

    /// Authenticates and decrypts a sealed packet from `src` in place. On failure the
    /// packet is dropped and counted and nothing else changes.
    pub fn open<'b>(
        &mut self,
        now: Instant,
        src: SocketAddr,
        datagram: &'b mut [u8],
    ) -> Result<Opened<'b>, OpenError> {
        match self.open_inner(now, src, datagram) {
            Ok((epoch, len)) => {
                self.stats.opened += 1;
                let payload = &datagram[SEALED_HEADER_LEN..SEALED_HEADER_LEN + len];
                Ok(Opened { payload, epoch })
            }
            Err(e) => {
                self.stats.open_failed += 1;
                match e {
                    OpenError::AuthFailed => self.stats.auth_failed += 1,
                    OpenError::Replay(_) => self.stats.replayed += 1,
                    _ => {}
                }
                Err(e)
            }
        }
    }

    /// Returns the epoch and the payload length.
    fn open_inner(
        &mut self,
        now: Instant,
        src: SocketAddr,
        datagram: &mut [u8],
    ) -> Result<(u32, usize), OpenError> {
        let header = match decode_datagram(datagram) {
            Ok(PeerDatagram::Sealed { header, .. }) => header,
            Ok(_) => return Err(OpenError::Malformed(crate::wire::DecodeError::Malformed)),
            Err(e) => return Err(OpenError::Malformed(e)),
        };
        if header.sender != self.peer_id {
            return Err(OpenError::WrongSender);
        }
        let payload_len = datagram.len() - SEALED_OVERHEAD;
        let mut error = OpenError::UnknownEpoch;
        // Current first, then previous: in the rare case that both carry the epoch (a
        // restarted peer that drew an old epoch), the tag decides.
        for slot in [self.current, 1 - self.current] {
            let session = &mut self.sessions[slot];
            if !session.live || session.epoch != header.epoch {
                continue;
            }
            if !session.can_open(now) {
                error = OpenError::Expired;
                continue;
            }
            if let Err(e) = session.check(header.counter) {
                // A genuine copy of a packet we took from a new address, now arriving
                // from the address before it: the move was a copy raced from elsewhere.
                let raced = e == ReplayError::Replayed
                    && self.fallback == Some(src)
                    && session.is_authentic(header.counter, datagram);
                if raced {
                    self.undo_move();
                }
                error = OpenError::Replay(e);
                continue;
            }
            if session.open(header.counter, datagram).is_err() {
                error = OpenError::AuthFailed;
                continue;
            }
            self.opened(now, src, slot, &header, payload_len);
            return Ok((header.epoch, payload_len));
        }
        if let Some(keys) = self.pending_for(now, header.epoch) {
            open_with(keys, &header, datagram)?;
            self.confirm_pending(now);
            let slot = self.current;
            // A fresh window takes any counter below the limit; `open_with` checked it.
            let accepted = self.sessions[slot].accept_first(header.counter);
            debug_assert!(accepted.is_ok());
            self.opened(now, src, slot, &header, payload_len);
            return Ok((header.epoch, payload_len));
        }
        Err(error)
    }

    /// Bookkeeping after an authenticated packet on session `slot`.
    fn opened(
        &mut self,
        now: Instant,
        src: SocketAddr,
        slot: usize,
        header: &SealedHeader,
        payload_len: usize,
    ) {
        self.last_received = Some(now);
        self.timers.stop(ChannelTimer::DeadPeer);
        if self.sessions[slot].highest() == Some(header.counter) {
            self.moved_to(src);
        }
        let current = &self.sessions[self.current];
        if slot != self.current && current.we_initiated && !current.heard {
            // The peer still seals with the previous session: our confirmation of the
            // current one was lost. Send another.
            self.want_keepalive = true;
        }
        if payload_len > 0 {
            self.timers
                .set_earliest(ChannelTimer::Keepalive, now + KEEPALIVE_TIMEOUT);
        }
        self.rekey_if_due(now);
    }
}

/// Opens `datagram` with a pending session's keys (its window is still empty, so only
/// the counter's limit applies). On failure the buffer is unchanged.
fn open_with(
    keys: &SessionKeys,
    header: &SealedHeader,
    datagram: &mut [u8],
) -> Result<(), OpenError> {
    if header.counter >= crate::crypto::replay::REJECT_AFTER_MESSAGES {
        return Err(OpenError::Replay(ReplayError::Exhausted));
    }
    let (ad, rest) = datagram.split_at_mut(SEALED_HEADER_LEN);
    let (body, tag) = rest.split_at_mut(rest.len() - TAG_LEN);
    let mut t = [0u8; TAG_LEN];
    t.copy_from_slice(tag);
    primitives::open(&keys.recv, header.counter, ad, body, &t).map_err(|_| OpenError::AuthFailed)
}
