//! The handshake guard: what a flood of handshake messages can cost. One per endpoint,
//! in front of every peer's [`PeerChannel`](super::PeerChannel).
//!
//! A handshake costs X25519 operations (five for a responder); everything before them is
//! one BLAKE2s. So the guard admits a handshake message to the Diffie-Hellman work only
//! with a [`HandshakeTicket`], and hands out tickets like this:
//!
//! 1. The datagram has the exact length of its kind, and its `mac1` is right (it was made
//!    for our key): else dropped.
//! 2. While the global handshake [`Budget`] is at least half full, the message proceeds
//!    and spends one unit.
//! 3. Under load (the budget less than half full), an initiation must carry a `mac2` made
//!    with a fresh cookie for its source address. Without one it gets a [`CookieReply`]
//!    (itself limited by a budget, and smaller than the initiation, so never an
//!    amplifier); with one, it spends from its source's budget (a fixed table of
//!    [`SOURCE_SLOTS`] budgets indexed by a keyed hash of the source IP), then from the
//!    global budget.
//!
//! So the X25519 work per second is bounded by the global rate whatever arrives; a
//! spoofing flood never gets past step 3; and one address that can receive cookies gets
//! at most its own share. The guard's memory is fixed at construction.
//!
//! [`CookieReply`]: crate::wire::v2_peer::CookieReply

use core::net::{IpAddr, SocketAddr};

use rand_core::CryptoRng;
use zeroize::Zeroizing;

use super::budget::Budget;
use super::cookie::{self, MacKeys, COOKIE_SECRET_LIFETIME};
use super::keys::PublicKey;
use super::primitives::{mac16, Secret, KEY_LEN};
use crate::time::Instant;
use crate::wire::v2_peer::{
    datagram_kind, CookieReply, DatagramKind, COOKIE_REPLY_LEN, INITIATION_LEN,
    INITIATION_MAC1_OFFSET, INITIATION_MAC2_OFFSET, RESPONSE_LEN, RESPONSE_MAC1_OFFSET,
};
use crate::wire::PeerId;

/// Per-source budgets the guard keeps (a fixed table: sources that hash alike share one).
pub const SOURCE_SLOTS: usize = 64;

/// How much handshake work the guard allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct GuardConfig {
    /// Handshake messages admitted to X25519 work per second, from everyone together.
    pub handshakes_per_sec: u32,
    /// How many of those may come at once.
    pub handshake_burst: u32,
    /// Under load: initiations per second from one source IP.
    pub per_source_per_sec: u32,
    /// Under load: how many of those at once.
    pub per_source_burst: u32,
    /// Cookie replies sent per second, to everyone together (in bursts of a tenth of a
    /// second's worth).
    pub cookie_replies_per_sec: u32,
}

impl GuardConfig {
    /// A desktop or server: 200 handshakes per second (about 5 % of one core).
    pub const DESKTOP: GuardConfig = GuardConfig {
        handshakes_per_sec: 200,
        handshake_burst: 100,
        per_source_per_sec: 5,
        per_source_burst: 5,
        cookie_replies_per_sec: 10_000,
    };

    /// A microcontroller, where one handshake takes tens of milliseconds.
    pub const DEVICE: GuardConfig = GuardConfig {
        handshakes_per_sec: 2,
        handshake_burst: 4,
        per_source_per_sec: 1,
        per_source_burst: 2,
        cookie_replies_per_sec: 20,
    };
}

impl Default for GuardConfig {
    fn default() -> Self {
        GuardConfig::DESKTOP
    }
}

/// Permission to do one handshake's X25519 work, from [`HandshakeGuard`] only.
#[derive(Debug)]
#[must_use = "a ticket is spent by handing it to the channel"]
pub struct HandshakeTicket(());

/// Why the guard dropped a handshake message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum GuardDrop {
    /// Not a handshake message of the right length.
    Malformed,
    /// Its `mac1` was not made for our key.
    BadMac1,
    /// Over a budget (global, per source, or for cookie replies).
    RateLimited,
}

/// What to do with a handshake message.
#[derive(Debug)]
pub enum Admission {
    /// Go on: hand the ticket and the message to the sender's channel.
    Proceed(HandshakeTicket),
    /// Send the first `usize` bytes of the reply buffer (a cookie reply) back to the
    /// source; the message itself is dropped.
    SendCookie(usize),
    /// Drop the message.
    Drop(GuardDrop),
}

/// What the guard did so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct GuardStats {
    /// Tickets handed out.
    pub admitted: u64,
    /// Cookie replies written.
    pub cookies_sent: u64,
    /// Messages of the wrong length.
    pub malformed: u64,
    /// Messages with a wrong `mac1`.
    pub bad_mac1: u64,
    /// Messages over a budget.
    pub rate_limited: u64,
}

/// The endpoint-wide handshake guard. A clone holds the same cookie secret.
#[derive(Clone)]
pub struct HandshakeGuard {
    local_id: PeerId,
    keys: MacKeys,
    secret: Secret,
    secret_born: Option<Instant>,
    config: GuardConfig,
    handshakes: Budget,
    cookies: Budget,
    sources: [Budget; SOURCE_SLOTS],
    stats: GuardStats,
}

impl HandshakeGuard {
    /// A guard for the holder of `local` (our static public key).
    pub fn new(local: &PublicKey, config: GuardConfig) -> Self {
        let source = Budget::new(config.per_source_per_sec, config.per_source_burst);
        HandshakeGuard {
            local_id: PeerId(0),
            keys: MacKeys::new(local),
            secret: Zeroizing::new([0; KEY_LEN]),
            secret_born: None,
            config,
            handshakes: Budget::new(config.handshakes_per_sec, config.handshake_burst),
            cookies: Budget::new(
                config.cookie_replies_per_sec,
                config.cookie_replies_per_sec / 10,
            ),
            sources: [source; SOURCE_SLOTS],
            stats: GuardStats::default(),
        }
    }

    /// Our directory id, which cookie replies carry (known after login).
    pub fn set_local_id(&mut self, id: PeerId) {
        self.local_id = id;
    }

    /// What the guard did so far.
    pub fn stats(&self) -> GuardStats {
        self.stats
    }

    /// The configuration.
    pub fn config(&self) -> &GuardConfig {
        &self.config
    }

    /// Screens a handshake initiation that arrived from `src`. A cookie reply, if any, is
    /// written into `reply` (at least [`COOKIE_REPLY_LEN`] bytes).
    pub fn admit_initiation<R: CryptoRng + ?Sized>(
        &mut self,
        now: Instant,
        src: SocketAddr,
        datagram: &[u8],
        rng: &mut R,
        reply: &mut [u8],
    ) -> Admission {
        if let Err(drop) = self.screen(datagram, DatagramKind::Initiation, INITIATION_MAC1_OFFSET) {
            return self.dropped(drop);
        }
        if !self.handshakes.is_low(now) {
            return self.ticket(now);
        }
        self.rotate_secret(now, rng);
        let cookie = cookie::cookie_for(&self.secret, src);
        let covered = &datagram[..INITIATION_MAC2_OFFSET];
        let mac2 = &datagram[INITIATION_MAC2_OFFSET..];
        if super::primitives::mac16_verify(&cookie, &[covered], mac2).is_err() {
            return self.cookie_reply(now, &cookie, datagram, rng, reply);
        }
        let slot = self.source_slot(src.ip());
        if !self.sources[slot].try_take(now) {
            return self.dropped(GuardDrop::RateLimited);
        }
        self.ticket(now)
    }

    /// Screens a handshake response (to one of our initiations). `PeerChannel::
    /// handle_response` calls it once the response matches the initiation in flight.
    pub(crate) fn admit_response(&mut self, now: Instant, datagram: &[u8]) -> Admission {
        match self.screen(datagram, DatagramKind::Response, RESPONSE_MAC1_OFFSET) {
            Ok(()) => self.ticket(now),
            Err(drop) => self.dropped(drop),
        }
    }

    /// Length, kind and `mac1`.
    fn screen(&self, datagram: &[u8], kind: DatagramKind, mac1_at: usize) -> Result<(), GuardDrop> {
        let len = match kind {
            DatagramKind::Initiation => INITIATION_LEN,
            _ => RESPONSE_LEN,
        };
        if datagram.len() != len || datagram_kind(datagram) != Ok(kind) {
            return Err(GuardDrop::Malformed);
        }
        let mac1 = &datagram[mac1_at..mac1_at + 16];
        self.keys
            .verify_mac1(&datagram[..mac1_at], mac1)
            .map_err(|_| GuardDrop::BadMac1)
    }

    fn ticket(&mut self, now: Instant) -> Admission {
        if !self.handshakes.try_take(now) {
            return self.dropped(GuardDrop::RateLimited);
        }
        self.stats.admitted += 1;
        Admission::Proceed(HandshakeTicket(()))
    }

    fn dropped(&mut self, why: GuardDrop) -> Admission {
        match why {
            GuardDrop::Malformed => self.stats.malformed += 1,
            GuardDrop::BadMac1 => self.stats.bad_mac1 += 1,
            GuardDrop::RateLimited => self.stats.rate_limited += 1,
        }
        Admission::Drop(why)
    }

    fn cookie_reply<R: CryptoRng + ?Sized>(
        &mut self,
        now: Instant,
        cookie: &[u8; 16],
        initiation: &[u8],
        rng: &mut R,
        reply: &mut [u8],
    ) -> Admission {
        if !self.cookies.try_take(now) {
            return self.dropped(GuardDrop::RateLimited);
        }
        let mut nonce = [0u8; 24];
        rng.fill_bytes(&mut nonce);
        let mac1 = &initiation[INITIATION_MAC1_OFFSET..INITIATION_MAC2_OFFSET];
        let mut epoch = [0u8; 4];
        epoch.copy_from_slice(&initiation[6..10]);
        let msg = CookieReply {
            sender: self.local_id,
            epoch: u32::from_le_bytes(epoch),
            nonce,
            sealed_cookie: self.keys.seal_cookie(cookie, &nonce, mac1),
        };
        match msg.encode(reply) {
            Ok(n) => {
                self.stats.cookies_sent += 1;
                Admission::SendCookie(n)
            }
            // The caller's buffer is too small: a host bug, but no reason to panic.
            Err(_) => self.dropped(GuardDrop::RateLimited),
        }
    }

    /// Draws a new cookie secret when the current one is older than its lifetime.
    fn rotate_secret<R: CryptoRng + ?Sized>(&mut self, now: Instant, rng: &mut R) {
        let stale = self
            .secret_born
            .is_none_or(|born| now - born >= COOKIE_SECRET_LIFETIME);
        if stale {
            rng.fill_bytes(&mut self.secret[..]);
            self.secret_born = Some(now);
        }
    }

    /// The source budget for `ip`: a keyed hash, so no one can aim at another's slot.
    fn source_slot(&self, ip: IpAddr) -> usize {
        let digest = match ip {
            IpAddr::V4(a) => mac16(&self.secret[..], &[&a.octets()]),
            IpAddr::V6(a) => mac16(&self.secret[..], &[&a.octets()]),
        };
        usize::from(u16::from_le_bytes([digest[0], digest[1]])) % SOURCE_SLOTS
    }
}

impl core::fmt::Debug for HandshakeGuard {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("HandshakeGuard")
            .field("local_id", &self.local_id)
            .field("config", &self.config)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

/// The smallest buffer [`HandshakeGuard::admit_initiation`] needs for a reply.
pub const GUARD_REPLY_LEN: usize = COOKIE_REPLY_LEN;
