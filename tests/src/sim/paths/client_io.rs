//! A [`PathClient`]'s datagrams: what comes in (straight from a peer, or through the
//! relay: handshakes, checks, sealed chat; the probe's answer) and what goes out
//! (handshake answers, path checks, chat on each peer's route, probes).

use core::net::SocketAddr;

use peerchat_proto::crypto::{Admission, ChannelEvent, HandshakeError};
use peerchat_proto::path::Route;
use peerchat_proto::time::Instant;
use peerchat_proto::wire::v2_path::PathCheck;
use peerchat_proto::wire::v2_peer::{datagram_kind, DatagramKind, SEALED_HEADER_LEN};
use peerchat_proto::wire::v2_relay::{is_relay, MAX_RELAY_DATAGRAM};
use peerchat_proto::wire::{decode_packet, encode_packet, Body, Packet, MAX_DATAGRAM};

use super::super::world::Node;
use super::client::{chat_addr, PathClient, PATH_HOLD};

impl PathClient {
    /// A peer datagram that came on `route`.
    fn peer_datagram(&mut self, now: Instant, route: Route, bytes: &[u8]) {
        let kind = match datagram_kind(bytes) {
            Ok(kind) => kind,
            Err(_) => return,
        };
        let at = if kind == DatagramKind::Sealed { 3 } else { 2 };
        let Some(sender) = bytes.get(at..at + 4) else {
            return;
        };
        let sender = u32::from_le_bytes([sender[0], sender[1], sender[2], sender[3]]);
        let Some(i) = self.peers.iter().position(|p| p.id.0 == sender) else {
            return;
        };
        // The channel sees a relayed datagram as coming from the directory.
        let src = match route {
            Route::Direct(addr) => addr,
            Route::Relay => self.directory,
        };
        match kind {
            DatagramKind::Sealed => self.open(now, route, src, i, bytes),
            _ => self.handshake(now, route, src, i, kind, bytes),
        }
        while let Some(event) = self.peers[i].chan.poll_event() {
            if let (ChannelEvent::Moved { addr }, true) = (event, route.is_direct()) {
                self.peers[i].agent.handle_moved(now, addr);
            }
        }
    }

    fn handshake(
        &mut self,
        now: Instant,
        route: Route,
        src: SocketAddr,
        i: usize,
        kind: DatagramKind,
        bytes: &[u8],
    ) {
        let mut reply = [0u8; MAX_DATAGRAM];
        let answer = match kind {
            DatagramKind::Initiation => {
                let admission =
                    self.guard
                        .admit_initiation(now, src, bytes, &mut self.rng, &mut reply);
                match admission {
                    Admission::Proceed(ticket) => {
                        let p = &mut self.peers[i];
                        let rng = &mut self.rng;
                        let answered = p
                            .chan
                            .handle_initiation(now, ticket, &self.key, bytes, rng, &mut reply);
                        match answered {
                            Ok(n) => {
                                p.agent.handle_response_sent(bytes, &reply[..n]);
                                Some(n)
                            }
                            // A copy of an initiation already answered: answer it again.
                            Err(HandshakeError::StaleEpoch) => {
                                let again = p.agent.repeat_response(bytes);
                                again.map(|r| {
                                    reply[..r.len()].copy_from_slice(r);
                                    r.len()
                                })
                            }
                            Err(_) => None,
                        }
                    }
                    Admission::SendCookie(n) => Some(n),
                    Admission::Drop(_) => None,
                }
            }
            DatagramKind::Response => {
                let p = &mut self.peers[i];
                let _ = p
                    .chan
                    .handle_response(now, &mut self.guard, &self.key, src, bytes);
                None
            }
            _ => {
                let _ = self.peers[i].chan.handle_cookie(now, bytes);
                None
            }
        };
        if let Some(n) = answer {
            self.emit(i, route, &reply[..n]);
        }
    }

    fn open(&mut self, now: Instant, route: Route, src: SocketAddr, i: usize, bytes: &[u8]) {
        let mut copy = bytes.to_vec();
        let p = &mut self.peers[i];
        let Ok(opened) = p.chan.open(now, src, &mut copy) else {
            return;
        };
        if PathCheck::is_check(opened.payload) {
            if let Ok(check) = PathCheck::decode(opened.payload) {
                p.agent.handle_check(now, route, check);
            }
            return;
        }
        p.agent.handle_inbound(now, route);
        if !opened.payload.is_empty() {
            let addr = chat_addr(p.id);
            self.chat.ep.handle_datagram(now, addr, opened.payload);
            self.chat.drain_events(now);
        }
    }

    /// Queues `bytes` for peer `i` on `route` (wrapped for the relay if need be).
    fn emit(&mut self, i: usize, route: Route, bytes: &[u8]) {
        match route {
            Route::Direct(addr) => self.outbox.push_back((addr, bytes.to_vec())),
            Route::Relay => {
                let mut out = [0u8; MAX_RELAY_DATAGRAM];
                let to = self.peers[i].id;
                if let Ok(n) = self.relay.wrap(to, bytes, &mut out) {
                    self.outbox.push_back((self.directory, out[..n].to_vec()));
                }
            }
        }
    }

    /// Everything the channels and agents want sent now goes to the outbox.
    fn gather(&mut self, now: Instant) {
        let mut buf = [0u8; MAX_DATAGRAM];
        for i in 0..self.peers.len() {
            loop {
                let p = &mut self.peers[i];
                if let Some(t) = p
                    .chan
                    .poll_transmit(now, &self.key, &mut self.rng, &mut buf)
                {
                    if datagram_kind(&buf[..t.len]) == Ok(DatagramKind::Initiation) {
                        p.agent.handle_initiation(now, &buf[..t.len]);
                    } else if let Some(route) = p.agent.route() {
                        self.emit(i, route, &buf[..t.len]);
                    }
                    continue;
                }
                let sent = p.agent.poll_transmit(now, &mut p.chan, &mut buf);
                match sent.expect("the buffer holds any datagram") {
                    Some(t) => self.emit(i, t.route, &buf[..t.len]),
                    None => break,
                }
            }
            self.release_held(now, i);
        }
        self.drain_path_events(now);
    }

    /// Held datagrams of peer `i` go out once it has a route and a session.
    fn release_held(&mut self, now: Instant, i: usize) {
        while let Some(v1) = self.peers[i].held.pop_front() {
            if !self.seal_and_emit(now, i, &v1) {
                self.peers[i].held.push_front(v1);
                return;
            }
        }
    }

    /// Seals `v1` for peer `i` and queues it on its route; `false` if it has none yet.
    fn seal_and_emit(&mut self, now: Instant, i: usize, v1: &[u8]) -> bool {
        let p = &mut self.peers[i];
        let Some(route) = p.agent.route() else {
            p.agent.want(now);
            return false;
        };
        let mut buf = [0u8; MAX_DATAGRAM];
        buf[SEALED_HEADER_LEN..SEALED_HEADER_LEN + v1.len()].copy_from_slice(v1);
        let Ok(n) = p.chan.seal(now, &mut buf, v1.len()) else {
            return false;
        };
        p.agent.handle_sent(now);
        self.emit(i, route, &buf[..n]);
        true
    }

    /// The chat endpoint's datagrams, each sealed on its peer's route or held.
    fn chat_out(&mut self, now: Instant) {
        let mut v1 = [0u8; MAX_DATAGRAM];
        while let Some(t) = self.chat.ep.poll_transmit(now, &mut v1) {
            let Some(i) = self.peers.iter().position(|p| chat_addr(p.id) == t.dst) else {
                continue;
            };
            let fresh = v1[..t.len].to_vec();
            if !self.peers[i].held.is_empty() || !self.seal_and_emit(now, i, &fresh) {
                let held = &mut self.peers[i].held;
                if held.len() == PATH_HOLD {
                    held.pop_front();
                    self.held_dropped += 1;
                }
                held.push_back(fresh);
            }
        }
        self.drain_path_events(now);
    }

    fn probe(&mut self, now: Instant) {
        if self.reflexive.is_some() || self.probes_left == 0 {
            self.probe_at = None;
            return;
        }
        self.probes_left -= 1;
        self.probe_at = Some(now + super::client::PROBE_EVERY);
        let probe = Packet::new(self.id, Body::Probe { token: 0 });
        let mut buf = [0u8; MAX_DATAGRAM];
        let n = encode_packet(&probe, &mut buf).expect("a probe fits");
        self.outbox.push_back((self.directory, buf[..n].to_vec()));
    }
}

impl Node for PathClient {
    fn handle_datagram(&mut self, now: Instant, from: SocketAddr, bytes: &[u8]) {
        if from == self.directory {
            if is_relay(bytes) {
                if let Ok(inbound) = self.relay.unwrap(bytes) {
                    let inner = inbound.inner.to_vec();
                    self.peer_datagram(now, Route::Relay, &inner);
                }
            } else if let Ok(packet) = decode_packet(bytes) {
                if let Body::ProbeReply { observed } = packet.body {
                    self.reflexive = Some(observed.into());
                    self.local.set_reflexive(observed.into());
                }
            }
        } else {
            self.peer_datagram(now, Route::Direct(from), bytes);
        }
        self.drain_path_events(now);
    }

    fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<(SocketAddr, usize)> {
        if self.outbox.is_empty() {
            self.gather(now);
            self.chat_out(now);
        }
        let (dst, bytes) = self.outbox.pop_front()?;
        buf[..bytes.len()].copy_from_slice(&bytes);
        Some((dst, bytes.len()))
    }

    fn poll_timeout(&self) -> Option<Instant> {
        let peers = self
            .peers
            .iter()
            .flat_map(|p| [p.chan.poll_timeout(), p.agent.poll_timeout()]);
        let bus = self
            .bus
            .borrow()
            .next_for(super::bus::BusEnd::Client(self.id));
        peers
            .chain([self.chat.ep.poll_timeout(), bus, self.probe_at])
            .flatten()
            .min()
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.chat.ep.handle_timeout(now);
        self.chat.drain_events(now);
        for p in &mut self.peers {
            p.chan.handle_timeout(now);
            p.agent.handle_timeout(now);
        }
        self.control(now);
        if self.probe_at.is_some_and(|t| t <= now) {
            self.probe(now);
        }
        self.drain_path_events(now);
    }
}
