//! The peer handshake (Noise IK) on both sides, its retries and cookies, and the rule
//! that keeps replayed initiations from doing anything.
//!
//! **Freshness without a clock.** WireGuard puts a TAI64N timestamp in each initiation
//! and refuses one not newer than the last; the core has no wall clock (and devices have
//! none). Instead the key epoch, which the prologue authenticates, must grow: a responder
//! takes an initiation whose epoch is above every epoch the peer confirmed (`floor`) and
//! above its pending one (a retry always is: each attempt takes a new, higher epoch). A
//! lower epoch is taken only when the peer has been quiet (no authenticated packet) for
//! [`REKEY_TIMEOUT`] and no pending session is younger than [`REKEY_ATTEMPT_TIME`]: that
//! is a restarted peer, or a replay that then does nothing, since a pending session is
//! used only after the peer proves it holds it, and the current session is untouched.
//! The staleness test runs before any Diffie-Hellman, so replays cost one BLAKE2s.

use core::net::SocketAddr;

use rand_core::CryptoRng;

use super::super::cookie;
use super::super::guard::{Admission, HandshakeGuard, HandshakeTicket};
use super::super::keys::Keypair;
use super::super::noise::{HandshakeState, NoiseError, IK};
use super::session::SessionKeys;
use super::timers::ChannelTimer;
use super::{
    HandshakeError, PeerChannel, Pending, EXPIRE_AFTER, HANDSHAKE_JITTER, HANDSHAKE_RETRY_INITIAL,
    HANDSHAKE_RETRY_MAX, PEER_PROLOGUE, REKEY_ATTEMPT_TIME, REKEY_TIMEOUT,
};
use crate::time::{Duration, Instant};
use crate::wire::v2_peer::{
    decode_datagram, HandshakeInitiation, HandshakeResponse, PeerDatagram, INITIATION_LEN,
    INITIATION_MAC1_OFFSET, INITIATION_MAC2_OFFSET, INITIATION_NOISE_LEN, RESPONSE_LEN,
    RESPONSE_MAC1_OFFSET, RESPONSE_NOISE_LEN, VERSION_2,
};
use crate::wire::PeerId;

/// Our initiation in flight: the Noise state to read the response with.
#[derive(Clone)]
pub(super) struct InFlight {
    epoch: u32,
    hs: HandshakeState,
    /// When this round of attempts began.
    round_started: Instant,
    attempts: u32,
    /// The initiation's `mac1`: a cookie reply to it is sealed with it as AD.
    mac1: [u8; 16],
}

/// The first ten bytes of an initiation: the part of the prologue after the label.
fn initiation_header(sender: u32, epoch: u32) -> [u8; 10] {
    let mut h = [0u8; 10];
    h[..2].copy_from_slice(&[VERSION_2, 1]);
    h[2..6].copy_from_slice(&sender.to_le_bytes());
    h[6..].copy_from_slice(&epoch.to_le_bytes());
    h
}

impl<const W: usize> PeerChannel<W> {
    /// The epoch for our next initiation: random at first (so a restart rarely meets an
    /// old one), then two more each time, always of our parity.
    fn take_epoch<R: CryptoRng + ?Sized>(&mut self, rng: &mut R) -> u32 {
        let epoch = self
            .next_epoch
            .unwrap_or_else(|| (rng.next_u32() & 0x3fff_fffe) | self.parity);
        self.next_epoch = Some(epoch.checked_add(2).unwrap_or(self.parity));
        epoch
    }

    /// Writes a new initiation into `buf` and arms the retry; `None` if the buffer is too
    /// small or the peer's key cannot take part in a handshake (a low-order point).
    pub(super) fn write_initiation<R: CryptoRng + ?Sized>(
        &mut self,
        now: Instant,
        local: &Keypair,
        rng: &mut R,
        buf: &mut [u8],
    ) -> Option<usize> {
        let buf = buf.get_mut(..INITIATION_LEN)?;
        let epoch = self.take_epoch(rng);
        let header = initiation_header(self.local_id.0, epoch);
        let e = Keypair::generate(rng);
        let mut hs = HandshakeState::new(
            &IK,
            true,
            &[PEER_PROLOGUE, &header],
            local.public(),
            Some(self.peer_key),
            e,
        );
        let mut noise = [0u8; INITIATION_NOISE_LEN];
        if hs.write_message(local, &[], &mut noise).is_err() {
            self.in_flight = None;
            self.events.gave_up = true;
            return None;
        }
        let msg = HandshakeInitiation {
            sender: self.local_id,
            epoch,
            noise,
            mac1: [0; 16],
            mac2: [0; 16],
        };
        msg.encode(buf).ok()?;
        let mac1 = self.peer_macs.mac1(&buf[..INITIATION_MAC1_OFFSET]);
        buf[INITIATION_MAC1_OFFSET..INITIATION_MAC2_OFFSET].copy_from_slice(&mac1);
        let fresh_cookie = self
            .cookie
            .as_ref()
            .filter(|(_, at)| now - *at < cookie::COOKIE_SECRET_LIFETIME)
            .map(|(c, _)| c);
        let mac2 = cookie::mac2(fresh_cookie, &buf[..INITIATION_MAC2_OFFSET]);
        buf[INITIATION_MAC2_OFFSET..].copy_from_slice(&mac2);

        let (round_started, attempts) = match &self.in_flight {
            Some(f) => (f.round_started, f.attempts + 1),
            None => (now, 1),
        };
        self.in_flight = Some(InFlight {
            epoch,
            hs,
            round_started,
            attempts,
            mac1,
        });
        let jitter =
            Duration::from_micros(u64::from(rng.next_u32()) % (HANDSHAKE_JITTER.as_micros() + 1));
        self.timers
            .set(ChannelTimer::Retry, now + retry_delay(attempts) + jitter);
        self.stats.initiations_sent += 1;
        Some(INITIATION_LEN)
    }

    /// The retry timer fired: try again, or give up after [`REKEY_ATTEMPT_TIME`].
    pub(super) fn retry(&mut self, now: Instant) {
        let Some(flight) = &self.in_flight else {
            return;
        };
        if now - flight.round_started >= REKEY_ATTEMPT_TIME {
            self.in_flight = None;
            self.events.gave_up = true;
        } else {
            self.want_initiation = true;
        }
    }

    /// Whether an initiation with `epoch` may be taken (see the module doc).
    fn fresh(&self, now: Instant, epoch: u32) -> bool {
        let above_pending = self.pending.as_ref().is_none_or(|p| epoch > p.keys.epoch);
        if self.floor.is_none_or(|f| epoch > f) && above_pending {
            return true;
        }
        // A lower epoch: a restarted peer, or a replay (which then confirms nothing).
        let quiet = self.last_received.is_none_or(|t| now - t >= REKEY_TIMEOUT);
        let pending_recent = self
            .pending
            .as_ref()
            .is_some_and(|p| now - p.born < REKEY_ATTEMPT_TIME);
        quiet && !pending_recent
    }

    /// Answers the peer's initiation: on success the response is in `out` (its length
    /// returned; send it back to the initiation's source address) and a pending session
    /// waits for the peer's first packet. On failure nothing changed.
    ///
    /// The peer's address does not change here: an initiation may be a replay, so only
    /// an authenticated sealed packet moves the peer.
    pub fn handle_initiation<R: CryptoRng + ?Sized>(
        &mut self,
        now: Instant,
        ticket: HandshakeTicket,
        local: &Keypair,
        datagram: &[u8],
        rng: &mut R,
        out: &mut [u8],
    ) -> Result<usize, HandshakeError> {
        let _ = ticket;
        let result = self.respond(now, local, datagram, rng, out);
        self.counted(result)
    }

    /// Counts a failed handshake message.
    fn counted<T>(&mut self, result: Result<T, HandshakeError>) -> Result<T, HandshakeError> {
        if result.is_err() {
            self.stats.handshake_failed += 1;
        }
        result
    }

    /// Our initiation in flight that a response or cookie from `sender` for `epoch`
    /// answers.
    fn flight_for(&self, sender: PeerId, epoch: u32) -> Result<&InFlight, HandshakeError> {
        if sender != self.peer_id {
            return Err(HandshakeError::WrongSender);
        }
        self.in_flight
            .as_ref()
            .filter(|f| f.epoch == epoch)
            .ok_or(HandshakeError::Unexpected)
    }

    fn respond<R: CryptoRng + ?Sized>(
        &mut self,
        now: Instant,
        local: &Keypair,
        datagram: &[u8],
        rng: &mut R,
        out: &mut [u8],
    ) -> Result<usize, HandshakeError> {
        let Ok(PeerDatagram::Initiation(msg)) = decode_datagram(datagram) else {
            return Err(HandshakeError::Malformed);
        };
        if msg.sender != self.peer_id {
            return Err(HandshakeError::WrongSender);
        }
        if msg.epoch & 1 == self.parity {
            return Err(HandshakeError::WrongParity);
        }
        let out = out
            .get_mut(..RESPONSE_LEN)
            .ok_or(HandshakeError::BufferTooSmall {
                needed: RESPONSE_LEN,
            })?;
        if !self.fresh(now, msg.epoch) {
            return Err(HandshakeError::StaleEpoch);
        }
        let mut hs = HandshakeState::new(
            &IK,
            false,
            &[PEER_PROLOGUE, &datagram[..10]],
            local.public(),
            None,
            Keypair::generate(rng),
        );
        hs.read_message(local, &msg.noise, &mut [])
            .map_err(noise_error)?;
        let presented = *hs.remote_static().ok_or(HandshakeError::AuthFailed)?;
        if presented != self.peer_key {
            return Err(HandshakeError::KeyMismatch { presented });
        }
        let mut noise = [0u8; RESPONSE_NOISE_LEN];
        hs.write_message(local, &[], &mut noise)
            .map_err(noise_error)?;
        let response = HandshakeResponse {
            sender: self.local_id,
            epoch: msg.epoch,
            noise,
            mac1: [0; 16],
        };
        // `out` was cut to exactly `RESPONSE_LEN` bytes above.
        response.encode(out).expect("room checked");
        let mac1 = self.peer_macs.mac1(&out[..RESPONSE_MAC1_OFFSET]);
        out[RESPONSE_MAC1_OFFSET..].copy_from_slice(&mac1);
        let (send, recv) = hs.split();
        self.pending = Some(Pending {
            keys: SessionKeys {
                epoch: msg.epoch,
                send,
                recv,
                we_initiated: false,
            },
            born: now,
        });
        self.timers.set(ChannelTimer::Expire, now + EXPIRE_AFTER);
        Ok(RESPONSE_LEN)
    }

    /// Completes our handshake with the peer's response from `src`: the new session is
    /// current at once, and a keepalive confirms it to the peer. On failure nothing
    /// changed (a forged response does not end a genuine handshake in flight).
    ///
    /// The `guard` checks the response's `mac1` and spends from its budget, but only for
    /// a response that answers our initiation in flight (sender and epoch): others cost
    /// nothing.
    pub fn handle_response(
        &mut self,
        now: Instant,
        guard: &mut HandshakeGuard,
        local: &Keypair,
        src: SocketAddr,
        datagram: &[u8],
    ) -> Result<(), HandshakeError> {
        let result = self.complete(now, guard, local, src, datagram);
        self.counted(result)
    }

    fn complete(
        &mut self,
        now: Instant,
        guard: &mut HandshakeGuard,
        local: &Keypair,
        src: SocketAddr,
        datagram: &[u8],
    ) -> Result<(), HandshakeError> {
        let Ok(PeerDatagram::Response(msg)) = decode_datagram(datagram) else {
            return Err(HandshakeError::Malformed);
        };
        let flight = self.flight_for(msg.sender, msg.epoch)?;
        if let Admission::Drop(why) = guard.admit_response(now, datagram) {
            return Err(HandshakeError::Refused(why));
        }
        let mut hs = flight.hs.clone();
        hs.read_message(local, &msg.noise, &mut [])
            .map_err(noise_error)?;
        let (send, recv) = hs.split();
        self.in_flight = None;
        self.timers.stop(ChannelTimer::Retry);
        self.install(
            SessionKeys {
                epoch: msg.epoch,
                send,
                recv,
                we_initiated: true,
            },
            now,
        );
        self.want_keepalive = true;
        self.moved_to(src);
        Ok(())
    }

    /// Takes a cookie reply to our initiation in flight; the next retry carries `mac2`.
    pub fn handle_cookie(&mut self, now: Instant, datagram: &[u8]) -> Result<(), HandshakeError> {
        let result = self.take_cookie(now, datagram);
        self.counted(result)
    }

    fn take_cookie(&mut self, now: Instant, datagram: &[u8]) -> Result<(), HandshakeError> {
        let Ok(PeerDatagram::CookieReply(msg)) = decode_datagram(datagram) else {
            return Err(HandshakeError::Malformed);
        };
        let flight = self.flight_for(msg.sender, msg.epoch)?;
        let cookie = self
            .peer_macs
            .open_cookie(&msg.sealed_cookie, &msg.nonce, &flight.mac1)
            .map_err(|_| HandshakeError::AuthFailed)?;
        self.cookie = Some((cookie, now));
        self.stats.cookies_received += 1;
        Ok(())
    }

    /// A responder's pending session, once the peer's first packet under it opened.
    pub(super) fn confirm_pending(&mut self, now: Instant) {
        if let Some(p) = self.pending.take() {
            self.floor = Some(p.keys.epoch);
            self.install(p.keys, now);
        }
    }

    /// The pending session, if it has `epoch` and is young enough to open packets.
    pub(super) fn pending_for(&self, now: Instant, epoch: u32) -> Option<&SessionKeys> {
        self.pending
            .as_ref()
            .filter(|p| p.keys.epoch == epoch && now - p.born < super::REJECT_AFTER_TIME)
            .map(|p| &p.keys)
    }
}

/// The wait before attempt `attempts + 1`: 1 s, 2 s, 4 s, then 8 s.
fn retry_delay(attempts: u32) -> Duration {
    let doublings = attempts.saturating_sub(1).min(8);
    HANDSHAKE_RETRY_INITIAL
        .saturating_mul(1 << doublings)
        .min(HANDSHAKE_RETRY_MAX)
}

fn noise_error(e: NoiseError) -> HandshakeError {
    match e {
        NoiseError::BufferTooSmall { needed } => HandshakeError::BufferTooSmall { needed },
        NoiseError::Length => HandshakeError::Malformed,
        NoiseError::Decrypt | NoiseError::LowOrder | NoiseError::OutOfTurn => {
            HandshakeError::AuthFailed
        }
    }
}
