//! The simulated directory server's side of paths: the core's [`PathServer`] (punch
//! coordination and the relay) behind its UDP address, answering probes with the address
//! it saw (`docs/PROTOCOL.md` §5), and the control messages of the bus.

use core::net::SocketAddr;
use std::collections::{HashMap, VecDeque};

use peerchat_proto::path::{PathServer, PathSlot, RelayConfig, RelayDrop};
use peerchat_proto::time::Instant;
use peerchat_proto::wire::v2_path::{PathClientMsg, PathServerMsg};
use peerchat_proto::wire::v2_relay::{decode_relay_send, is_relay, MAX_RELAY_DATAGRAM};
use peerchat_proto::wire::{decode_packet, encode_packet, Body, Packet, PeerId, MAX_DATAGRAM};

use super::super::rng::SimRng;
use super::super::world::Node;
use super::bus::{Bus, BusEnd};

/// The directory of a path simulation.
pub struct PathDirectory {
    /// Its UDP address.
    pub addr: SocketAddr,
    /// The core's side of paths.
    pub server: PathServer<Vec<PathSlot>>,
    /// Each client's address as its probe showed it.
    pub reflexive: HashMap<PeerId, SocketAddr>,
    /// Relay datagrams dropped: when, from whom, to whom, why.
    pub drops: Vec<(Instant, PeerId, PeerId, RelayDrop)>,
    bus: Bus,
    outbox: VecDeque<(SocketAddr, Vec<u8>)>,
    rng: SimRng,
}

impl core::fmt::Debug for PathDirectory {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PathDirectory")
            .field("stats", &self.server.stats())
            .finish_non_exhaustive()
    }
}

impl PathDirectory {
    /// A directory at `addr` with room for `slots` clients and the relay's `terms`.
    pub fn new(addr: SocketAddr, slots: usize, terms: RelayConfig, bus: Bus, seed: u64) -> Self {
        PathDirectory {
            addr,
            server: PathServer::new(vec![PathSlot::EMPTY; slots], terms),
            reflexive: HashMap::new(),
            drops: Vec::new(),
            bus,
            outbox: VecDeque::new(),
            rng: SimRng::new(seed),
        }
    }

    /// Logs `id` in: a fresh relay key, and the grant on its control channel.
    pub fn login(&mut self, now: Instant, id: PeerId) {
        let mut key = [0u8; 32];
        key.copy_from_slice(&self.rng.bytes(32));
        let grant = self.server.admit(now, id, key, None).expect("a free slot");
        self.tell(now, id, &grant);
    }

    fn tell(&mut self, now: Instant, to: PeerId, msg: &PathServerMsg) {
        let mut buf = [0u8; 256];
        let n = msg.encode(&mut buf).expect("a path message fits");
        let bytes = buf[..n].to_vec();
        let mut bus = self.bus.borrow_mut();
        bus.send(now, PeerId::SERVER, BusEnd::Client(to), bytes);
    }

    fn control(&mut self, now: Instant, from: PeerId, bytes: &[u8]) {
        match PathClientMsg::decode(bytes) {
            Ok(PathClientMsg::Candidates(list)) => {
                let _ = self.server.handle_candidates(from, &list);
            }
            Ok(PathClientMsg::PunchRequest { peer }) => {
                let from_addr = self.reflexive.get(&from).map(|&a| a.into());
                let to_addr = self.reflexive.get(&peer).map(|&a| a.into());
                let punch = self
                    .server
                    .handle_punch_request(now, from, from_addr, peer, to_addr);
                match punch {
                    Ok(notices) => {
                        self.tell(now, from, &notices.to_requester);
                        self.tell(now, peer, &notices.to_peer);
                    }
                    Err(refused) => self.tell(now, from, &refused),
                }
            }
            Err(e) => panic!("a client sent a bad control message: {e}"),
        }
    }

    fn probe(&mut self, from: SocketAddr, bytes: &[u8]) {
        let Ok(packet) = decode_packet(bytes) else {
            return;
        };
        if let Body::Probe { .. } = packet.body {
            let id = packet.header.sender;
            self.reflexive.insert(id, from);
            let _ = self.server.set_return_addr(id, from);
            let reply = Packet::new(
                PeerId::SERVER,
                Body::ProbeReply {
                    observed: from.into(),
                },
            );
            let mut buf = [0u8; MAX_DATAGRAM];
            let n = encode_packet(&reply, &mut buf).expect("a reply fits");
            self.outbox.push_back((from, buf[..n].to_vec()));
        }
    }
}

impl Node for PathDirectory {
    fn handle_datagram(&mut self, now: Instant, from: SocketAddr, bytes: &[u8]) {
        if !is_relay(bytes) {
            return self.probe(from, bytes);
        }
        let mut out = [0u8; MAX_RELAY_DATAGRAM];
        match self.server.handle_datagram(now, from, bytes, &mut out) {
            Ok(Some(f)) => self.outbox.push_back((f.dst, out[..f.len].to_vec())),
            Ok(None) => {}
            Err(drop) => {
                let header = decode_relay_send(bytes).map(|d| d.header);
                let (from, to) =
                    header.map_or((PeerId::SERVER, PeerId::SERVER), |h| (h.sender, h.to));
                self.drops.push((now, from, to, drop));
            }
        }
    }

    fn poll_transmit(&mut self, _now: Instant, buf: &mut [u8]) -> Option<(SocketAddr, usize)> {
        let (dst, bytes) = self.outbox.pop_front()?;
        buf[..bytes.len()].copy_from_slice(&bytes);
        Some((dst, bytes.len()))
    }

    fn poll_timeout(&self) -> Option<Instant> {
        self.bus.borrow().next_for(BusEnd::Directory)
    }

    fn handle_timeout(&mut self, now: Instant) {
        let letters = self.bus.borrow_mut().take(now, BusEnd::Directory);
        for (from, bytes) in letters {
            self.control(now, from, &bytes);
        }
    }
}
