//! A simulated chat client: an endpoint plus a log of everything it reported.

use core::net::SocketAddr;

use peerchat_proto::endpoint::{Endpoint, EndpointConfig, Event, FailReason, MessageId};
use peerchat_proto::time::Instant;
use peerchat_proto::wire::PeerId;

use super::world::Node;

/// The endpoint the chat simulation runs: 8 peers, 16 queued messages each, 64 texts in
/// 64 KiB, 4 reassembly buffers of 16 KiB.
pub type SimEndpoint = Endpoint<8, 16, 64, { 64 * 1024 }, 4, { 16 * 1024 }>;

/// One thing a node's endpoint reported, with when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    /// A message arrived.
    Received {
        /// When.
        at: Instant,
        /// Sender.
        from: PeerId,
        /// Text.
        text: String,
        /// Sent to everyone.
        to_all: bool,
    },
    /// A message was acknowledged.
    Delivered {
        /// When.
        at: Instant,
        /// Recipient.
        to: PeerId,
        /// Which message.
        id: MessageId,
    },
    /// A message was given up.
    Failed {
        /// When.
        at: Instant,
        /// Recipient.
        to: PeerId,
        /// Which message.
        id: MessageId,
        /// Why.
        reason: FailReason,
    },
}

/// An endpoint that logs its events as soon as they happen.
pub struct ChatNode {
    /// Our id.
    pub id: PeerId,
    /// The core under test (boxed: it is large).
    pub ep: Box<SimEndpoint>,
    /// Everything it reported, in order.
    pub log: Vec<Record>,
}

impl core::fmt::Debug for ChatNode {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ChatNode")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl ChatNode {
    /// A node with id `id`, seeded, knowing `peers`.
    pub fn new(id: PeerId, seed: u64, peers: &[(PeerId, SocketAddr)]) -> Self {
        let config = EndpointConfig {
            seed,
            ..EndpointConfig::default()
        };
        let mut ep = Box::new(SimEndpoint::new(config));
        ep.set_local_id(id);
        for &(peer, addr) in peers.iter().filter(|(p, _)| *p != id) {
            ep.add_peer(peer, addr).expect("room for every peer");
        }
        ChatNode {
            id,
            ep,
            log: Vec::new(),
        }
    }

    /// Moves the endpoint's events into the log.
    pub fn drain_events(&mut self, now: Instant) {
        while let Some(ev) = self.ep.poll_event() {
            self.log.push(match ev {
                Event::Message { from, text, to_all } => Record::Received {
                    at: now,
                    from,
                    text: text.to_owned(),
                    to_all,
                },
                Event::Delivered { to, id } => Record::Delivered { at: now, to, id },
                Event::Failed { to, id, reason } => Record::Failed {
                    at: now,
                    to,
                    id,
                    reason,
                },
            });
        }
    }
}

impl Node for ChatNode {
    fn handle_datagram(&mut self, now: Instant, from: SocketAddr, bytes: &[u8]) {
        self.ep.handle_datagram(now, from, bytes);
        self.drain_events(now);
    }

    fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<(SocketAddr, usize)> {
        self.ep.poll_transmit(now, buf).map(|t| (t.dst, t.len))
    }

    fn poll_timeout(&self) -> Option<Instant> {
        self.ep.poll_timeout()
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.ep.handle_timeout(now);
        self.drain_events(now);
    }
}
