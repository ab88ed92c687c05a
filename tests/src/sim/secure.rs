//! A simulated version-2 client: the chat endpoint of [`ChatNode`] with every datagram
//! sealed by a [`PeerChannel`] per peer, behind one [`HandshakeGuard`] — the wiring the
//! endpoint itself will do, so the simulation can run sealed chat against an attacker.
//!
//! Datagrams the endpoint emits before a peer's session exists wait in a bounded queue
//! (the link retransmits anyway); handshake answers go out on the next poll.

use core::net::SocketAddr;
use std::collections::VecDeque;

use chacha20::rand_core::SeedableRng;
use chacha20::ChaCha20Rng;
use peerchat_proto::crypto::{
    Admission, ChannelEvent, GuardConfig, HandshakeGuard, Keypair, PeerChannel, PublicKey,
    SealError,
};
use peerchat_proto::time::Instant;
use peerchat_proto::wire::v2_peer::{datagram_kind, DatagramKind, SEALED_HEADER_LEN};
use peerchat_proto::wire::{PeerId, MAX_DATAGRAM};

use super::chat::ChatNode;
use super::world::Node;

/// Datagrams held per peer while its handshake runs.
pub const HOLD: usize = 64;
/// Handshake answers waiting to go out.
pub const OUTBOX: usize = 64;

/// One user as the directory would publish it.
#[derive(Debug, Clone, Copy)]
pub struct Listing {
    /// Directory id.
    pub id: PeerId,
    /// Published address.
    pub addr: SocketAddr,
    /// Public key.
    pub key: PublicKey,
}

/// What the wiring did (the channels and the guard count the rest).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SecureStats {
    /// Datagrams from senders no channel is for, or not version 2.
    pub unknown: u64,
    /// Held datagrams dropped because the hold queue was full.
    pub held_dropped: u64,
    /// Handshake answers dropped because the outbox was full.
    pub outbox_dropped: u64,
    /// Sessions established, as events.
    pub established: u64,
}

struct Peer {
    listing: Listing,
    chan: PeerChannel,
    held: VecDeque<Vec<u8>>,
}

/// A chat node whose datagrams are all sealed.
pub struct SecureNode {
    /// The chat endpoint and its log.
    pub chat: ChatNode,
    /// Our identity.
    pub key: Keypair,
    /// The handshake guard.
    pub guard: HandshakeGuard,
    peers: Vec<Peer>,
    rng: ChaCha20Rng,
    outbox: VecDeque<(SocketAddr, Vec<u8>)>,
    /// Counters.
    pub stats: SecureStats,
}

impl core::fmt::Debug for SecureNode {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SecureNode")
            .field("id", &self.chat.id)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl SecureNode {
    /// The node of `me` (whose secret key is `key`) knowing every other `listing`.
    pub fn new(me: Listing, key: Keypair, seed: u64, directory: &[Listing]) -> Self {
        let addrs: Vec<_> = directory.iter().map(|l| (l.id, l.addr)).collect();
        let chat = ChatNode::new(me.id, seed, &addrs);
        let mut guard = HandshakeGuard::new(key.public(), GuardConfig::DESKTOP);
        guard.set_local_id(me.id);
        let peers = directory
            .iter()
            .filter(|l| l.id != me.id)
            .map(|&listing| Peer {
                listing,
                chan: PeerChannel::new(key.public(), me.id, listing.id, listing.key, listing.addr),
                held: VecDeque::new(),
            })
            .collect();
        SecureNode {
            chat,
            key,
            guard,
            peers,
            rng: ChaCha20Rng::seed_from_u64(seed ^ 0x7365_6375_7265),
            outbox: VecDeque::new(),
            stats: SecureStats::default(),
        }
    }

    /// The channel to `id`.
    pub fn channel(&self, id: PeerId) -> Option<&PeerChannel> {
        self.peers
            .iter()
            .find(|p| p.listing.id == id)
            .map(|p| &p.chan)
    }

    /// Every channel.
    pub fn channels(&self) -> impl Iterator<Item = &PeerChannel> {
        self.peers.iter().map(|p| &p.chan)
    }

    /// The longest hold queue and the outbox's length now.
    pub fn queued(&self) -> (usize, usize) {
        let held = self.peers.iter().map(|p| p.held.len()).max().unwrap_or(0);
        (held, self.outbox.len())
    }

    fn peer_index(&self, id: u32) -> Option<usize> {
        self.peers.iter().position(|p| p.listing.id.0 == id)
    }

    fn answer(&mut self, dst: SocketAddr, bytes: &[u8]) {
        if self.outbox.len() == OUTBOX {
            self.stats.outbox_dropped += 1;
        } else {
            self.outbox.push_back((dst, bytes.to_vec()));
        }
    }

    fn handle_handshake(
        &mut self,
        now: Instant,
        from: SocketAddr,
        kind: DatagramKind,
        i: usize,
        bytes: &[u8],
    ) {
        let mut reply = [0u8; MAX_DATAGRAM];
        match kind {
            DatagramKind::Initiation => {
                match self
                    .guard
                    .admit_initiation(now, from, bytes, &mut self.rng, &mut reply)
                {
                    Admission::Proceed(ticket) => {
                        let p = &mut self.peers[i];
                        if let Ok(n) = p.chan.handle_initiation(
                            now,
                            ticket,
                            &self.key,
                            bytes,
                            &mut self.rng,
                            &mut reply,
                        ) {
                            self.answer(from, &reply[..n]);
                        }
                    }
                    Admission::SendCookie(n) => self.answer(from, &reply[..n]),
                    Admission::Drop(_) => {}
                }
            }
            DatagramKind::Response => {
                let _ = self.peers[i].chan.handle_response(
                    now,
                    &mut self.guard,
                    &self.key,
                    from,
                    bytes,
                );
            }
            DatagramKind::CookieReply => {
                let _ = self.peers[i].chan.handle_cookie(now, bytes);
            }
            DatagramKind::Sealed => unreachable!("sealed packets are opened elsewhere"),
        }
    }

    fn open(&mut self, now: Instant, from: SocketAddr, i: usize, bytes: &[u8]) {
        let mut copy = bytes.to_vec();
        let p = &mut self.peers[i];
        let Ok(opened) = p.chan.open(now, from, &mut copy) else {
            return;
        };
        if !opened.payload.is_empty() {
            // The channel authenticated the sender: the endpoint sees the packet as coming
            // from the peer's published address whatever the path.
            let addr = p.listing.addr;
            self.chat.ep.handle_datagram(now, addr, opened.payload);
            self.chat.drain_events(now);
        }
    }

    fn drain_channel_events(&mut self) {
        for p in &mut self.peers {
            while let Some(ev) = p.chan.poll_event() {
                if let ChannelEvent::Established { .. } = ev {
                    self.stats.established += 1;
                }
            }
        }
    }

    /// Seals a held or new endpoint datagram for peer `i` into `buf`.
    fn seal_into(
        &mut self,
        now: Instant,
        i: usize,
        v1: &[u8],
        buf: &mut [u8],
    ) -> Result<usize, SealError> {
        buf[SEALED_HEADER_LEN..SEALED_HEADER_LEN + v1.len()].copy_from_slice(v1);
        self.peers[i].chan.seal(now, buf, v1.len())
    }

    fn hold(&mut self, i: usize, v1: &[u8]) {
        let held = &mut self.peers[i].held;
        if held.len() == HOLD {
            held.pop_front();
            self.stats.held_dropped += 1;
        }
        held.push_back(v1.to_vec());
    }
}

impl Node for SecureNode {
    fn handle_datagram(&mut self, now: Instant, from: SocketAddr, bytes: &[u8]) {
        let (kind, sender_at) = match datagram_kind(bytes) {
            Ok(DatagramKind::Sealed) => (DatagramKind::Sealed, 3),
            Ok(kind) => (kind, 2),
            Err(_) => {
                self.stats.unknown += 1;
                return;
            }
        };
        let sender = bytes
            .get(sender_at..sender_at + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
        let Some(i) = sender.and_then(|id| self.peer_index(id)) else {
            self.stats.unknown += 1;
            return;
        };
        match kind {
            DatagramKind::Sealed => self.open(now, from, i, bytes),
            _ => self.handle_handshake(now, from, kind, i, bytes),
        }
        self.drain_channel_events();
    }

    fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<(SocketAddr, usize)> {
        if let Some((dst, bytes)) = self.outbox.pop_front() {
            buf[..bytes.len()].copy_from_slice(&bytes);
            return Some((dst, bytes.len()));
        }
        for p in &mut self.peers {
            if let Some(t) = p.chan.poll_transmit(now, &self.key, &mut self.rng, buf) {
                return Some((t.dst, t.len));
            }
        }
        for i in 0..self.peers.len() {
            if !self.peers[i].chan.can_seal(now) {
                continue;
            }
            if let Some(v1) = self.peers[i].held.pop_front() {
                if let Ok(n) = self.seal_into(now, i, &v1, buf) {
                    return Some((self.peers[i].chan.addr(), n));
                }
            }
        }
        let mut v1 = [0u8; MAX_DATAGRAM];
        loop {
            let t = self.chat.ep.poll_transmit(now, &mut v1)?;
            let Some(i) = self.peers.iter().position(|p| p.listing.addr == t.dst) else {
                continue;
            };
            match self.seal_into(now, i, &v1[..t.len], buf) {
                Ok(n) => return Some((self.peers[i].chan.addr(), n)),
                Err(_) => self.hold(i, &v1[..t.len]),
            }
        }
    }

    fn poll_timeout(&self) -> Option<Instant> {
        let channels = self.peers.iter().filter_map(|p| p.chan.poll_timeout());
        channels.chain(self.chat.ep.poll_timeout()).min()
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.chat.ep.handle_timeout(now);
        self.chat.drain_events(now);
        for p in &mut self.peers {
            p.chan.handle_timeout(now);
        }
        self.drain_channel_events();
    }
}
