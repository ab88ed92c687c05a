//! Unit tests of the composed client node: two nodes and a scripted server. This file
//! is the harness; `messages` covers login and chat, `outage` server loss and re-login.

extern crate std;

use std::vec::Vec;

mod failover;
mod messages;
mod outage;

use super::*;
use crate::time::Duration;
use crate::wire::{
    encode_packet, encode_server_frame, Chat, Frag, Packet, PeerInfo, RejectReason, ServerMsg,
    SnapshotPage, WireAddr, MAX_DATAGRAM, MAX_SERVER_FRAME,
};

const SERVER: SocketAddr = addr(8888);

pub(super) const fn addr(port: u16) -> SocketAddr {
    SocketAddr::new(
        core::net::IpAddr::V4(core::net::Ipv4Addr::new(127, 0, 0, 1)),
        port,
    )
}

/// An owned event, for assertions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Ev {
    Connect,
    Close,
    LoggedIn {
        id: u32,
        again: bool,
    },
    Rejected(RejectReason),
    Disconnected,
    PeerList,
    Joined(std::string::String),
    Left(std::string::String),
    Message {
        from: std::string::String,
        text: std::string::String,
        to_all: bool,
    },
    Delivered {
        to: std::string::String,
        id: MessageId,
    },
    Failed {
        to: std::string::String,
        id: MessageId,
    },
    Stopped,
}

fn own(event: Event<'_>) -> Ev {
    use std::string::ToString;
    match event {
        Event::Connect => Ev::Connect,
        Event::Close => Ev::Close,
        Event::LoggedIn { id, again, .. } => Ev::LoggedIn { id: id.0, again },
        Event::Rejected(r) => Ev::Rejected(r),
        Event::Disconnected(_) => Ev::Disconnected,
        Event::PeerList => Ev::PeerList,
        Event::Joined { name, .. } => Ev::Joined(name.as_str().to_string()),
        Event::Left { name, .. } => Ev::Left(name.as_str().to_string()),
        Event::Message { from, text, to_all } => Ev::Message {
            from: from.as_str().to_string(),
            text: text.to_string(),
            to_all,
        },
        Event::Delivered { to, id } => Ev::Delivered {
            to: to.as_str().to_string(),
            id,
        },
        Event::Failed { to, id, .. } => Ev::Failed {
            to: to.as_str().to_string(),
            id,
        },
        Event::Stopped => Ev::Stopped,
    }
}

/// One node under test with its UDP address and a clock.
pub(super) struct Node {
    pub(super) client: SmallClient,
    pub(super) udp: SocketAddr,
    pub(super) now: Instant,
}

impl Node {
    fn new(name: &str, port: u16) -> Node {
        let config = ClientConfig {
            name,
            udp_port: port,
            server: SERVER,
            seed: u64::from(port),
        };
        let mut client = SmallClient::new(config).unwrap();
        let now = Instant::from_millis(1);
        assert!(
            client.poll_timeout().is_some_and(|t| t <= now),
            "due at once"
        );
        client.handle_timeout(now);
        Node {
            client,
            udp: addr(port),
            now,
        }
    }

    fn events(&mut self) -> Vec<Ev> {
        let mut out = Vec::new();
        while let Some(event) = self.client.poll_event() {
            out.push(own(event));
        }
        out
    }

    fn frames(&mut self) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        let mut buf = [0u8; 256];
        while let Some(len) = self.client.poll_control_transmit(&mut buf) {
            out.push(buf[..len].to_vec());
        }
        out
    }

    fn server_says(&mut self, msg: &ServerMsg<'_>) {
        let mut buf = [0u8; MAX_SERVER_FRAME];
        let len = encode_server_frame(msg, &mut buf).unwrap();
        let used = self.client.handle_control_bytes(self.now, &buf[..len]);
        assert_eq!(used, len);
    }

    /// Connects and logs in as `id`; the snapshot holds `peers` (and us).
    pub(super) fn log_in(&mut self, id: u32, peers: &[(u32, &str, SocketAddr)]) -> Vec<Ev> {
        let mut events = self.events();
        self.accept_login(id, peers);
        events.extend(self.events());
        events
    }

    /// The server side of a login (the node asked to connect): connected, `Welcome`,
    /// a snapshot with `peers` and us. Leaves the node's events alone.
    pub(super) fn accept_login(&mut self, id: u32, peers: &[(u32, &str, SocketAddr)]) {
        self.client.handle_control_connected(self.now);
        assert_eq!(self.frames().len(), 1, "Hello goes out");
        self.server_says(&ServerMsg::Welcome {
            id: PeerId(id),
            observed_addr: self.udp.into(),
            probe_token: 7,
            heartbeat_ms: 1000,
        });
        let mut page = SnapshotPage {
            version: 1,
            page: 0,
            last: true,
            peers: heapless::Vec::new(),
        };
        let name = self.client.name;
        page.peers.push(info(id, name.as_str(), self.udp)).unwrap();
        for &(id, name, at) in peers {
            page.peers.push(info(id, name, at)).unwrap();
        }
        self.server_says(&ServerMsg::Snapshot(page));
    }

    fn advance(&mut self, by: Duration) {
        self.now += by;
        if self.client.poll_timeout().is_some_and(|t| t <= self.now) {
            self.client.handle_timeout(self.now);
        }
    }

    /// Every datagram the node has for peers (probes for the server are dropped).
    pub(super) fn datagrams(&mut self) -> Vec<(SocketAddr, Vec<u8>)> {
        let mut out = Vec::new();
        let mut buf = [0u8; MAX_DATAGRAM];
        while let Some(t) = self.client.poll_transmit(self.now, &mut buf) {
            if t.dst != SERVER {
                out.push((t.dst, buf[..t.len].to_vec()));
            }
        }
        out
    }
}

fn info(id: u32, name: &str, at: SocketAddr) -> PeerInfo<'_> {
    PeerInfo {
        id: PeerId(id),
        name,
        addr: WireAddr::from(at),
    }
}

/// Moves datagrams between the nodes until both are quiet.
fn pump(a: &mut Node, b: &mut Node) {
    for _ in 0..64 {
        let from_a = a.datagrams();
        let from_b = b.datagrams();
        if from_a.is_empty() && from_b.is_empty() {
            return;
        }
        for (to, bytes) in from_a {
            if to == b.udp {
                b.client.handle_datagram(b.now, a.udp, &bytes);
            }
        }
        for (to, bytes) in from_b {
            if to == a.udp {
                a.client.handle_datagram(a.now, b.udp, &bytes);
            }
        }
    }
    panic!("the nodes never went quiet");
}

/// Alice (id 1) and Bob (id 2), logged in and knowing each other.
pub(super) fn pair() -> (Node, Node) {
    let mut alice = Node::new("alice", 5001);
    let mut bob = Node::new("bob", 5002);
    let bob_at = bob.udp;
    let alice_at = alice.udp;
    alice.log_in(1, &[(2, "bob", bob_at)]);
    bob.log_in(2, &[(1, "alice", alice_at)]);
    (alice, bob)
}

/// Disconnects `node` and waits for the core's reconnect.
fn lose_server(node: &mut Node) {
    node.client.handle_control_closed(node.now);
    wait_for_reconnect(node);
}

/// Advances `node`'s clock until the core asks to connect again.
fn wait_for_reconnect(node: &mut Node) {
    for _ in 0..100 {
        node.advance(Duration::from_millis(100));
        if node.events().contains(&Ev::Connect) {
            return;
        }
    }
    panic!("no reconnect asked for");
}
