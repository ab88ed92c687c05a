//! The path simulation: clients behind NATs ([`super::nat`]) that find paths to each
//! other with the core's path machinery, a directory that coordinates punches and
//! relays, and the control channel between them ([`ControlBus`]).
//!
//! - [`PathClient`]: chat over sealed peer channels, each peer's datagrams on the route
//!   its [`PathAgent`](peerchat_proto::path::PathAgent) chose.
//! - [`PathDirectory`]: probes, `PunchRequest` → two `PunchNotice`s, the relay.
//! - [`PathNode`]: either, so both live in one [`World`](super::World).

mod bus;
mod client;
mod client_io;
mod directory;

use core::net::SocketAddr;

use peerchat_proto::time::Instant;

pub use bus::{Bus, BusEnd, ControlBus};
pub use client::{PathClient, PathLog, PathPeer, PATH_HOLD};
pub use directory::PathDirectory;

use super::world::Node;

/// A node of the path simulation.
#[derive(Debug)]
pub enum PathNode {
    /// A client.
    Client(Box<PathClient>),
    /// The directory.
    Directory(Box<PathDirectory>),
}

impl PathNode {
    /// The client, if this is one.
    pub fn client(&self) -> Option<&PathClient> {
        match self {
            PathNode::Client(c) => Some(c),
            PathNode::Directory(_) => None,
        }
    }

    /// The client, if this is one.
    pub fn client_mut(&mut self) -> Option<&mut PathClient> {
        match self {
            PathNode::Client(c) => Some(c),
            PathNode::Directory(_) => None,
        }
    }

    /// The directory, if this is it.
    pub fn directory(&self) -> Option<&PathDirectory> {
        match self {
            PathNode::Directory(d) => Some(d),
            PathNode::Client(_) => None,
        }
    }

    fn node(&mut self) -> &mut dyn Node {
        match self {
            PathNode::Client(c) => &mut **c,
            PathNode::Directory(d) => &mut **d,
        }
    }
}

impl Node for PathNode {
    fn handle_datagram(&mut self, now: Instant, from: SocketAddr, bytes: &[u8]) {
        self.node().handle_datagram(now, from, bytes);
    }

    fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<(SocketAddr, usize)> {
        self.node().poll_transmit(now, buf)
    }

    fn poll_timeout(&self) -> Option<Instant> {
        match self {
            PathNode::Client(c) => c.poll_timeout(),
            PathNode::Directory(d) => d.poll_timeout(),
        }
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.node().handle_timeout(now);
    }
}
