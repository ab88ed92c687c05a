//! An active attacker on the simulated network: it sees every datagram (through the
//! network's tap) and injects altered, replayed, reordered, forged and flooding ones.
//! It holds its own key (it may be a user of the directory) but no victim's secret.

use core::net::SocketAddr;
use std::collections::VecDeque;

use chacha20::rand_core::SeedableRng;
use chacha20::ChaCha20Rng;
use peerchat_proto::crypto::{Keypair, PeerChannel};
use peerchat_proto::time::{Duration, Instant};
use peerchat_proto::wire::v2_peer::{
    datagram_kind, DatagramKind, INITIATION_LEN, SEALED_HEADER_LEN,
};
use peerchat_proto::wire::MAX_DATAGRAM;

use super::net::{InFlight, Network};
use super::rng::SimRng;
use super::secure::Listing;

/// Datagrams the attacker remembers from the recent past.
const RECENT: usize = 512;
/// Datagrams it keeps from its first sightings, to replay much later.
const OLD: usize = 128;

/// What the attacker did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AttackStats {
    /// Datagrams with flipped bits.
    pub flipped: u64,
    /// Datagrams cut short.
    pub truncated: u64,
    /// Exact copies of recent datagrams (inside the replay window), from their source.
    pub replayed_recent: u64,
    /// Exact copies of datagrams seen long ago.
    pub replayed_old: u64,
    /// Copies held back and sent much later.
    pub reordered: u64,
    /// Copies of a recent sealed packet sent at once from the attacker's own address.
    pub raced: u64,
    /// Sealed packets with a live header and a made-up body.
    pub forged_sealed: u64,
    /// Initiations under a victim's id proving the attacker's key.
    pub impostor_initiations: u64,
    /// Initiation-sized garbage.
    pub garbage: u64,
}

impl core::ops::AddAssign for AttackStats {
    fn add_assign(&mut self, o: AttackStats) {
        self.flipped += o.flipped;
        self.truncated += o.truncated;
        self.replayed_recent += o.replayed_recent;
        self.replayed_old += o.replayed_old;
        self.reordered += o.reordered;
        self.raced += o.raced;
        self.forged_sealed += o.forged_sealed;
        self.impostor_initiations += o.impostor_initiations;
        self.garbage += o.garbage;
    }
}

/// The attacker.
pub struct Attacker {
    rng: SimRng,
    /// Where its own datagrams come from.
    pub addr: SocketAddr,
    key: Keypair,
    crypto_rng: ChaCha20Rng,
    recent: VecDeque<InFlight>,
    old: Vec<InFlight>,
    /// What it did.
    pub stats: AttackStats,
}

impl core::fmt::Debug for Attacker {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Attacker")
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl Attacker {
    /// An attacker at `addr` with its own seed.
    pub fn new(seed: u64, addr: SocketAddr) -> Self {
        let mut crypto_rng = ChaCha20Rng::seed_from_u64(seed ^ 0x006d_616c_6c6f_7279);
        Attacker {
            rng: SimRng::new(seed ^ 0x6174_7461_636b),
            addr,
            key: Keypair::generate(&mut crypto_rng),
            crypto_rng,
            recent: VecDeque::new(),
            old: Vec::new(),
            stats: AttackStats::default(),
        }
    }

    /// Takes in what the tap saw.
    pub fn observe(&mut self, net: &mut Network) {
        for d in net.drain_tap() {
            if self.old.len() < OLD {
                self.old.push(d.clone());
            }
            if self.recent.len() == RECENT {
                self.recent.pop_front();
            }
            self.recent.push_back(d);
        }
    }

    /// Injects `count` attacks at `now` against the users of `directory`.
    pub fn strike(&mut self, now: Instant, net: &mut Network, directory: &[Listing], count: usize) {
        for _ in 0..count {
            self.one(now, net, directory);
        }
    }

    fn pick_recent(&mut self) -> Option<InFlight> {
        if self.recent.is_empty() {
            return None;
        }
        let i = self.rng.below(self.recent.len() as u64) as usize;
        Some(self.recent[i].clone())
    }

    fn soon(&mut self, now: Instant) -> Instant {
        now + Duration::from_micros(self.rng.range(0, 20_000))
    }

    fn one(&mut self, now: Instant, net: &mut Network, directory: &[Listing]) {
        let choice = self.rng.below(9);
        if choice == 7 {
            return self.impostor(now, net, directory);
        }
        if choice == 8 {
            let victim = *self.rng.pick(directory);
            let mut junk = self.rng.bytes(INITIATION_LEN);
            junk[..2].copy_from_slice(&[2, 1]);
            let at = self.soon(now);
            net.inject(at, self.addr, victim.addr, junk);
            self.stats.garbage += 1;
            return;
        }
        let Some(d) = self.pick_recent() else {
            return;
        };
        let mut bytes = d.bytes.clone();
        let (from, mut at) = (d.from, self.soon(now));
        match choice {
            0 => {
                for _ in 0..self.rng.range(1, 3) {
                    let bit = self.rng.below(bytes.len() as u64 * 8) as usize;
                    bytes[bit / 8] ^= 1 << (bit % 8);
                }
                self.stats.flipped += 1;
            }
            1 => {
                bytes.truncate(self.rng.below(bytes.len() as u64) as usize);
                self.stats.truncated += 1;
            }
            2 => self.stats.replayed_recent += 1,
            3 => {
                let i = self.rng.below(self.old.len() as u64) as usize;
                let old = self.old[i].clone();
                net.inject(at, old.from, old.to, old.bytes);
                self.stats.replayed_old += 1;
                return;
            }
            4 => {
                at = now + Duration::from_millis(self.rng.range(200, 5_000));
                self.stats.reordered += 1;
            }
            5 => {
                if datagram_kind(&bytes) != Ok(DatagramKind::Sealed) {
                    return;
                }
                net.inject(now, self.addr, d.to, bytes);
                self.stats.raced += 1;
                return;
            }
            _ => {
                if datagram_kind(&bytes) != Ok(DatagramKind::Sealed) {
                    return;
                }
                let len = self
                    .rng
                    .range(SEALED_HEADER_LEN as u64 + 16, MAX_DATAGRAM as u64)
                    as usize;
                let mut forged = bytes[..SEALED_HEADER_LEN].to_vec();
                // A counter just ahead of the genuine one: inside the window.
                let counter = u64::from_le_bytes(bytes[11..19].try_into().unwrap_or_default());
                forged[11..19].copy_from_slice(&(counter + self.rng.range(1, 50)).to_le_bytes());
                forged.extend(self.rng.bytes(len - SEALED_HEADER_LEN));
                bytes = forged;
                self.stats.forged_sealed += 1;
            }
        }
        net.inject(at, from, d.to, bytes);
    }

    /// A burst of initiations to one user claiming another's id, proving the attacker's
    /// own key (which passes `mac1`, computed from public keys only).
    fn impostor(&mut self, now: Instant, net: &mut Network, directory: &[Listing]) {
        if directory.len() < 2 {
            return;
        }
        let victim = *self.rng.pick(directory);
        let claimed = loop {
            let c = *self.rng.pick(directory);
            if c.id != victim.id {
                break c;
            }
        };
        let mut chan: PeerChannel<2> = PeerChannel::new(
            self.key.public(),
            claimed.id,
            victim.id,
            victim.key,
            victim.addr,
        );
        let mut buf = [0u8; MAX_DATAGRAM];
        for _ in 0..self.rng.range(1, 20) {
            chan.connect(now);
            if let Some(t) = chan.poll_transmit(now, &self.key, &mut self.crypto_rng, &mut buf) {
                let at = self.soon(now);
                net.inject(at, self.addr, victim.addr, buf[..t.len].to_vec());
                self.stats.impostor_initiations += 1;
            }
            // Each burst member is a fresh attempt.
            chan.handle_timeout(now + Duration::from_secs(100));
        }
    }
}
