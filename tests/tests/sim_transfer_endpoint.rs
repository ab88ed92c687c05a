//! File transfers through whole endpoints on the shared simulated network
//! (`peerchat_tests::sim`, hostile profile: 20% loss, duplication, reordering, 5–40 ms
//! delay), with chat running alongside. Replay a seed with `SIM_SEED=<n>`.

use core::net::SocketAddr;

use peerchat_proto::endpoint::{Endpoint, EndpointConfig, Event};
use peerchat_proto::time::{Duration, Instant};
use peerchat_proto::transfer::{Event as FileEvent, FailReason};
use peerchat_proto::wire::{PeerId, MAX_CHUNK};
use peerchat_tests::sim::{run_seeds, NetConfig, Node, SimRng, World};

type Ep = Endpoint<4, 16, 64, { 64 * 1024 }, 4, { 16 * 1024 }, 2, 2, 1024>;

const A: PeerId = PeerId(1);
const B: PeerId = PeerId(2);

fn addr(id: PeerId) -> SocketAddr {
    SocketAddr::from(([10, 0, 0, id.0 as u8], 7000))
}

/// An endpoint with a file to send and a place to store what it receives.
struct FileNode {
    ep: Box<Ep>,
    outgoing: Vec<u8>,
    part: Vec<u8>,
    received: Option<Vec<u8>>,
    sent: Option<Result<u64, FailReason>>,
    messages: Vec<String>,
    delivered: usize,
}

impl FileNode {
    fn new(me: PeerId, other: PeerId, seed: u64) -> Self {
        let mut ep = Box::new(Ep::new(EndpointConfig {
            seed,
            ..EndpointConfig::default()
        }));
        ep.set_local_id(me);
        ep.add_peer(other, addr(other)).expect("room for one peer");
        FileNode {
            ep,
            outgoing: Vec::new(),
            part: Vec::new(),
            received: None,
            sent: None,
            messages: Vec::new(),
            delivered: 0,
        }
    }

    fn drain(&mut self, now: Instant) {
        while let Some(e) = self.ep.poll_event() {
            match e {
                Event::Message { text, .. } => self.messages.push(text.to_owned()),
                Event::Delivered { .. } => self.delivered += 1,
                Event::Failed { .. } => panic!("a chat message failed"),
            }
        }
        while let Some(e) = self.ep.files().poll_event() {
            if std::env::var_os("SIM_TRACE").is_some() {
                println!("{now:?} event {e:?}");
            }
            match e {
                FileEvent::Offered { size, .. } => self.part = vec![0; size as usize],
                FileEvent::Complete { key } => {
                    let hash = *blake3::hash(&self.part).as_bytes();
                    self.ep.files().handle_hash(now, key, &hash);
                }
                FileEvent::Received { key, .. } => {
                    self.received = Some(core::mem::take(&mut self.part));
                    self.ep.files().handle_stored(now, key);
                }
                FileEvent::Sent { size, .. } => self.sent = Some(Ok(size)),
                FileEvent::Failed { reason, .. } => self.sent = Some(Err(reason)),
                FileEvent::Accepted { .. } => {}
            }
        }
    }
}

impl Node for FileNode {
    fn handle_datagram(&mut self, now: Instant, from: SocketAddr, bytes: &[u8]) {
        if std::env::var_os("SIM_TRACE").is_some() {
            let p = peerchat_proto::wire::decode_packet(bytes).unwrap();
            let b = match &p.body {
                peerchat_proto::wire::Body::FileChunk(c) => format!("chunk {}", c.index),
                b => format!("{b:?}"),
            };
            println!("{now:?} {from} -> {b}");
        }
        if let Some(w) = self.ep.handle_datagram(now, from, bytes) {
            let at = w.offset as usize;
            self.part[at..at + w.data.len()].copy_from_slice(w.data);
        }
        self.drain(now);
    }

    fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<(SocketAddr, usize)> {
        let t = self.ep.poll_transmit(now, buf)?;
        if let Some(fill) = t.fill {
            let at = fill.offset as usize;
            buf[fill.at..fill.at + fill.len].copy_from_slice(&self.outgoing[at..at + fill.len]);
        }
        Some((t.dst, t.len))
    }

    fn poll_timeout(&self) -> Option<Instant> {
        self.ep.poll_timeout()
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.ep.handle_timeout(now);
        self.drain(now);
    }
}

/// A sends B a file of `size` bytes and `chats` messages; both must arrive intact.
fn transfer(seed: u64, size: usize, chats: usize) {
    let mut world = World::new(NetConfig::hostile(), seed);
    let mut a = FileNode::new(A, B, seed);
    a.outgoing = SimRng::new(seed).bytes(size);
    let hash = *blake3::hash(&a.outgoing).as_bytes();
    let now = Instant::ZERO;
    a.ep.files()
        .send(now, B, "report.txt", size as u64, hash)
        .expect("send starts");
    let expected = a.outgoing.clone();
    world.add(addr(A), a);
    world.add(addr(B), FileNode::new(B, A, seed + 1));
    // One chat message every 50 ms while the file moves.
    for i in 0..chats {
        world.run_until(Instant::from_millis(50 * i as u64), |_| false);
        let now = world.now();
        world
            .node_mut(0)
            .ep
            .send(now, B, &format!("message {i}"), false)
            .expect("chat queued");
    }
    let limit = Instant::ZERO + Duration::from_secs(300);
    world.run_until(limit, |w| {
        w.node(0).sent.is_some() && w.node(0).delivered == chats
    });
    let (a, b) = (world.node(0), world.node(1));
    assert_eq!(a.sent, Some(Ok(size as u64)), "seed {seed}, size {size}");
    assert!(
        b.received.as_deref() == Some(&expected[..]),
        "seed {seed}, size {size}: bytes differ"
    );
    let want: Vec<String> = (0..chats).map(|i| format!("message {i}")).collect();
    assert_eq!(b.messages, want, "seed {seed}: chat alongside the file");
}

#[test]
fn edge_sizes_through_endpoints_on_the_hostile_network() {
    run_seeds("file edge sizes", 12, |seed| {
        for size in [0, 1, MAX_CHUNK - 1, MAX_CHUNK, MAX_CHUNK + 1] {
            transfer(seed, size, 2);
        }
    });
}

#[test]
fn a_mebibyte_and_chat_share_the_hostile_network() {
    run_seeds("file 1 MiB with chat", 3, |seed| {
        transfer(seed, 1 << 20, 12)
    });
}
