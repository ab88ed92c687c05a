//! A simulated version-2 client that finds its paths: the chat endpoint of [`ChatNode`],
//! a peer channel and a [`PathAgent`] per peer, one handshake guard, a [`RelayClient`],
//! its candidates and the control messages of paths — the wiring the endpoint and the
//! control client will do, so the simulation runs chat through NATs.
//!
//! Datagrams the endpoint emits for a peer with no route (or no session yet) wait in a
//! bounded queue, and the agent is told it is wanted; the link retransmits anyway.
//! Receiving and sending are in `client_io.rs`.

use core::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::collections::VecDeque;

use chacha20::rand_core::SeedableRng;
use chacha20::ChaCha20Rng;
use peerchat_proto::crypto::{GuardConfig, HandshakeGuard, Keypair, PeerChannel, PublicKey};
use peerchat_proto::path::{
    LocalCandidates, PathAgent, PathConfig, PathEvent, RelayClient, Route, RouteKind,
};
use peerchat_proto::time::{Duration, Instant};
use peerchat_proto::wire::v2_path::{PathClientMsg, PathServerMsg};
use peerchat_proto::wire::PeerId;

use super::super::chat::ChatNode;
use super::bus::{Bus, BusEnd};

/// Datagrams held per peer while it has no route or no session.
pub const PATH_HOLD: usize = 64;
/// Probes sent before giving up, and how far apart.
const PROBES: u32 = 20;
pub(super) const PROBE_EVERY: Duration = Duration::from_millis(500);

/// Another user as the directory lists it.
#[derive(Debug, Clone, Copy)]
pub struct PathPeer {
    /// Directory id.
    pub id: PeerId,
    /// Public key.
    pub key: PublicKey,
}

/// One thing a client's path machinery reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PathLog {
    /// When.
    pub at: Instant,
    /// About which peer.
    pub peer: PeerId,
    /// What.
    pub event: PathEvent,
}

pub(super) struct PeerState {
    pub(super) id: PeerId,
    pub(super) chan: PeerChannel,
    pub(super) agent: PathAgent,
    pub(super) held: VecDeque<Vec<u8>>,
}

/// A client that finds paths through NATs.
pub struct PathClient {
    /// The chat endpoint and its log.
    pub chat: ChatNode,
    /// Our directory id.
    pub id: PeerId,
    /// Everything the path machinery reported, in order.
    pub log: Vec<PathLog>,
    /// The directory's answer to our probe: our address as it sees it.
    pub reflexive: Option<SocketAddr>,
    /// Held datagrams dropped because a queue was full.
    pub held_dropped: u64,
    pub(super) key: Keypair,
    pub(super) guard: HandshakeGuard,
    pub(super) peers: Vec<PeerState>,
    pub(super) relay: RelayClient,
    pub(super) directory: SocketAddr,
    pub(super) bus: Bus,
    pub(super) rng: ChaCha20Rng,
    pub(super) outbox: VecDeque<(SocketAddr, Vec<u8>)>,
    pub(super) local: LocalCandidates,
    pub(super) probes_left: u32,
    pub(super) probe_at: Option<Instant>,
}

impl core::fmt::Debug for PathClient {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PathClient")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// The address the chat endpoint knows peer `id` by: the channel and the path decide
/// where its datagrams really go.
pub(super) fn chat_addr(id: PeerId) -> SocketAddr {
    let [_, _, hi, lo] = id.0.to_be_bytes();
    SocketAddr::new(IpAddr::V4(Ipv4Addr::new(127, 77, hi, lo)), 9)
}

impl PathClient {
    /// The client `id` (secret `key`) at LAN address `lan`, with the directory's UDP
    /// address and control bus, knowing every other user of `peers`.
    pub fn new(
        id: PeerId,
        key: Keypair,
        seed: u64,
        lan: SocketAddr,
        directory: (SocketAddr, Bus),
        peers: &[PathPeer],
        config: PathConfig,
    ) -> Self {
        let others: Vec<&PathPeer> = peers.iter().filter(|p| p.id != id).collect();
        let addrs: Vec<_> = others.iter().map(|p| (p.id, chat_addr(p.id))).collect();
        let mut guard = HandshakeGuard::new(key.public(), GuardConfig::DESKTOP);
        guard.set_local_id(id);
        let peers = others
            .iter()
            .map(|p| PeerState {
                id: p.id,
                chan: PeerChannel::new(key.public(), id, p.id, p.key, directory.0),
                agent: PathAgent::new(config, id, p.id, None, false),
                held: VecDeque::new(),
            })
            .collect();
        let mut local = LocalCandidates::new();
        local.set_host(&[lan]);
        PathClient {
            chat: ChatNode::new(id, seed, &addrs),
            id,
            log: Vec::new(),
            reflexive: None,
            held_dropped: 0,
            key,
            guard,
            peers,
            relay: RelayClient::new(id),
            directory: directory.0,
            bus: directory.1,
            rng: ChaCha20Rng::seed_from_u64(seed ^ 0x7061_7468),
            outbox: VecDeque::new(),
            local,
            probes_left: PROBES,
            probe_at: Some(Instant::ZERO),
        }
    }

    /// Logs in: announces the host candidates on the control channel (the directory
    /// sends the relay grant itself).
    pub fn login(&mut self, now: Instant) {
        let msg = self.local.announcement();
        self.tell(now, &msg);
    }

    /// Sends `text` to `to` through the chat endpoint.
    pub fn send(&mut self, now: Instant, to: PeerId, text: &str) -> bool {
        let sent = self.chat.ep.send(now, to, text, false).is_ok();
        self.chat.drain_events(now);
        sent
    }

    /// The route to `peer` now and how it was learned.
    pub fn path(&self, peer: PeerId) -> Option<(Route, RouteKind)> {
        let agent = &self.peer(peer)?.agent;
        Some((agent.route()?, agent.route_kind()?))
    }

    /// The path agent toward `peer`.
    pub fn agent(&self, peer: PeerId) -> Option<&PathAgent> {
        self.peer(peer).map(|p| &p.agent)
    }

    /// The peer channel toward `peer`.
    pub fn channel(&self, peer: PeerId) -> Option<&PeerChannel> {
        self.peer(peer).map(|p| &p.chan)
    }

    fn peer(&self, id: PeerId) -> Option<&PeerState> {
        self.peers.iter().find(|p| p.id == id)
    }

    pub(super) fn index_of(&self, id: PeerId) -> Option<usize> {
        self.peers.iter().position(|p| p.id == id)
    }

    pub(super) fn tell(&mut self, now: Instant, msg: &PathClientMsg) {
        let mut buf = [0u8; 256];
        let n = msg.encode(&mut buf).expect("a path message fits");
        let mut bus = self.bus.borrow_mut();
        bus.send(now, self.id, BusEnd::Directory, buf[..n].to_vec());
    }

    /// Control messages from the directory.
    pub(super) fn control(&mut self, now: Instant) {
        let letters = self.bus.borrow_mut().take(now, BusEnd::Client(self.id));
        for (_, bytes) in letters {
            match PathServerMsg::decode(&bytes).expect("the directory speaks paths") {
                PathServerMsg::PunchNotice { peer, candidates } => {
                    if let Some(i) = self.index_of(peer) {
                        self.peers[i].agent.handle_notice(now, &candidates);
                    }
                }
                grant @ PathServerMsg::RelayGrant { .. } => {
                    let on = self.relay.handle_grant(&grant);
                    for p in &mut self.peers {
                        p.agent.set_relay(now, on);
                    }
                    let mut buf = [0u8; 64];
                    if let Ok(n) = self.relay.registration(&mut buf) {
                        self.outbox.push_back((self.directory, buf[..n].to_vec()));
                    }
                }
                PathServerMsg::PunchRefused { .. } => {}
            }
        }
    }

    /// The path agents' events: rendezvous requests go to the directory; the rest is
    /// logged.
    pub(super) fn drain_path_events(&mut self, now: Instant) {
        for i in 0..self.peers.len() {
            while let Some(event) = self.peers[i].agent.poll_event() {
                let peer = self.peers[i].id;
                if event == PathEvent::Rendezvous {
                    self.tell(now, &PathClientMsg::PunchRequest { peer });
                }
                if let PathEvent::Selected {
                    route: Route::Direct(addr),
                    ..
                } = event
                {
                    self.peers[i].chan.set_addr(addr);
                }
                self.log.push(PathLog {
                    at: now,
                    peer,
                    event,
                });
            }
        }
    }
}
