//! Unit tests of the path agent: two peers (`Pair`), each a peer channel, a handshake
//! guard and a [`PathAgent`] wired the way the endpoint will wire them, over a scripted
//! network: a function says which routes carry datagrams and how they arrive.

extern crate std;

mod punch;
mod staying;

use core::net::SocketAddr;
use std::boxed::Box;
use std::vec::Vec;

use chacha20::rand_core::SeedableRng;
use chacha20::ChaCha20Rng;

use super::*;
use crate::crypto::guard::{Admission, GuardConfig, HandshakeGuard};
use crate::crypto::{ChannelEvent, Keypair, PeerChannel};
use crate::time::{Duration, Instant};
use crate::wire::v2_path::{Candidate, CandidateKind, PathCheck};
use crate::wire::v2_peer::{datagram_kind, DatagramKind, SEALED_HEADER_LEN};
use crate::wire::{PeerId, MAX_DATAGRAM};

/// How a datagram sent by side A (`from_a`) on `route` at `now` arrives at the other
/// side, if it does.
pub(super) type Reach = Box<dyn FnMut(bool, Route, Instant) -> Option<Route>>;

pub(super) struct Side {
    pub(super) key: Keypair,
    pub(super) guard: HandshakeGuard,
    pub(super) chan: PeerChannel<4>,
    pub(super) agent: PathAgent,
    pub(super) events: Vec<(Instant, PathEvent)>,
    /// Application payloads received.
    pub(super) received: Vec<Vec<u8>>,
    /// Application payloads waiting for a route.
    pub(super) held: Vec<Vec<u8>>,
    /// Every datagram sent: when and on which route.
    pub(super) sent: Vec<(Instant, Route)>,
}

struct InFlight {
    at: Instant,
    to_a: bool,
    route: Route,
    bytes: Vec<u8>,
}

pub(super) struct Pair {
    pub(super) a: Side,
    pub(super) b: Side,
    pub(super) now: Instant,
    rng: ChaCha20Rng,
    queue: Vec<InFlight>,
    reach: Reach,
    delay: Duration,
    /// Answer a side's rendezvous with notices to both, this long after (a directory).
    pub(super) directory: Option<Duration>,
    notice_at: Option<Instant>,
}

/// A's public address, B's public address, A's and B's LAN addresses.
pub(super) fn a_pub() -> SocketAddr {
    "198.51.100.1:4000".parse().unwrap()
}
pub(super) fn b_pub() -> SocketAddr {
    "203.0.113.2:5000".parse().unwrap()
}
pub(super) fn a_lan() -> SocketAddr {
    "10.0.0.1:4000".parse().unwrap()
}
pub(super) fn b_lan() -> SocketAddr {
    "10.0.0.2:5000".parse().unwrap()
}

/// The candidates a notice hands out: the LAN address and the public one.
pub(super) fn candidates(lan: SocketAddr, public: SocketAddr) -> [Candidate; 2] {
    [
        Candidate {
            kind: CandidateKind::Host,
            addr: lan.into(),
        },
        Candidate {
            kind: CandidateKind::ServerReflexive,
            addr: public.into(),
        },
    ]
}

/// A network where only the public addresses work, both ways, and the relay too.
pub(super) fn open_internet() -> Reach {
    Box::new(|from_a, route, _| match (from_a, route) {
        (true, Route::Direct(to)) if to == b_pub() => Some(Route::Direct(a_pub())),
        (false, Route::Direct(to)) if to == a_pub() => Some(Route::Direct(b_pub())),
        (_, Route::Relay) => Some(Route::Relay),
        _ => None,
    })
}

impl Side {
    fn new(id: u32, key: Keypair, peer: &Keypair, peer_id: u32, published: SocketAddr) -> Self {
        let mut guard = HandshakeGuard::new(key.public(), GuardConfig::DESKTOP);
        guard.set_local_id(PeerId(id));
        let chan = PeerChannel::new(
            key.public(),
            PeerId(id),
            PeerId(peer_id),
            *peer.public(),
            published,
        );
        Side {
            key,
            guard,
            chan,
            agent: PathAgent::new(
                PathConfig::DEFAULT,
                PeerId(id),
                PeerId(peer_id),
                Some(published),
                true,
            ),
            events: Vec::new(),
            received: Vec::new(),
            held: Vec::new(),
            sent: Vec::new(),
        }
    }

    /// The route now.
    pub(super) fn selected(&self) -> Option<Route> {
        self.agent.route()
    }

    /// When the first event matching `f` came.
    pub(super) fn first(&self, f: impl Fn(&PathEvent) -> bool) -> Option<Instant> {
        self.events.iter().find(|(_, e)| f(e)).map(|(t, _)| *t)
    }
}

impl Pair {
    pub(super) fn new(seed: u64, reach: Reach) -> Self {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let ka = Keypair::generate(&mut rng);
        let kb = Keypair::generate(&mut rng);
        let a = Side::new(1, ka.clone(), &kb, 2, b_pub());
        let b = Side::new(2, kb, &ka, 1, a_pub());
        Pair {
            a,
            b,
            now: Instant::from_millis(1_000),
            rng,
            queue: Vec::new(),
            reach,
            delay: Duration::from_millis(20),
            directory: None,
            notice_at: None,
        }
    }

    /// Both agents get the notice a punch request makes.
    pub(super) fn notice(&mut self) {
        let now = self.now;
        self.a
            .agent
            .handle_notice(now, &candidates(b_lan(), b_pub()));
        self.b
            .agent
            .handle_notice(now, &candidates(a_lan(), a_pub()));
    }

    pub(super) fn side(&mut self, a: bool) -> &mut Side {
        if a {
            &mut self.a
        } else {
            &mut self.b
        }
    }

    /// The application on side `a` sends `text`: now if there is a route, else when
    /// one comes.
    pub(super) fn send(&mut self, a: bool, text: &[u8]) {
        let now = self.now;
        let side = self.side(a);
        side.held.push(text.to_vec());
        side.agent.want(now);
        self.flush();
    }

    fn emit(&mut self, from_a: bool, route: Route, bytes: Vec<u8>) {
        let now = self.now;
        self.side(from_a).sent.push((now, route));
        if let Some(arrives) = (self.reach)(from_a, route, now) {
            self.queue.push(InFlight {
                at: now + self.delay,
                to_a: !from_a,
                route: arrives,
                bytes,
            });
        }
    }

    /// Everything both sides want to send now goes out.
    pub(super) fn flush(&mut self) {
        for from_a in [true, false] {
            for (route, bytes) in self.outgoing(from_a) {
                self.emit(from_a, route, bytes);
            }
        }
    }

    fn outgoing(&mut self, a: bool) -> Vec<(Route, Vec<u8>)> {
        let now = self.now;
        let (side, rng) = if a {
            (&mut self.a, &mut self.rng)
        } else {
            (&mut self.b, &mut self.rng)
        };
        let mut out = Vec::new();
        let mut buf = [0u8; MAX_DATAGRAM];
        loop {
            if let Some(t) = side.chan.poll_transmit(now, &side.key, rng, &mut buf) {
                match datagram_kind(&buf[..t.len]) {
                    Ok(DatagramKind::Initiation) => {
                        side.agent.handle_initiation(now, &buf[..t.len]);
                    }
                    _ => {
                        if let Some(route) = side.agent.route() {
                            out.push((route, buf[..t.len].to_vec()));
                        }
                    }
                }
                continue;
            }
            if let Some(t) = side
                .agent
                .poll_transmit(now, &mut side.chan, &mut buf)
                .unwrap()
            {
                out.push((t.route, buf[..t.len].to_vec()));
                continue;
            }
            if let (Some(route), true) = (side.agent.route(), side.chan.can_seal(now)) {
                if !side.held.is_empty() {
                    let text = side.held.remove(0);
                    buf[SEALED_HEADER_LEN..SEALED_HEADER_LEN + text.len()].copy_from_slice(&text);
                    let n = side.chan.seal(now, &mut buf, text.len()).unwrap();
                    side.agent.handle_sent(now);
                    out.push((route, buf[..n].to_vec()));
                    continue;
                }
            }
            break;
        }
        let mut rendezvous = false;
        while let Some(e) = side.agent.poll_event() {
            rendezvous |= e == PathEvent::Rendezvous;
            side.events.push((now, e));
        }
        if let (true, Some(delay)) = (rendezvous, self.directory) {
            self.notice_at.get_or_insert(now + delay);
        }
        out
    }

    fn deliver(&mut self, d: InFlight) {
        let now = self.now;
        let (side, rng) = if d.to_a {
            (&mut self.a, &mut self.rng)
        } else {
            (&mut self.b, &mut self.rng)
        };
        let src = match d.route {
            Route::Direct(src) => src,
            Route::Relay => "192.0.2.1:3478".parse().unwrap(),
        };
        let mut reply = [0u8; MAX_DATAGRAM];
        let mut answer = None;
        match datagram_kind(&d.bytes) {
            Ok(DatagramKind::Initiation) => {
                if let Admission::Proceed(ticket) = side
                    .guard
                    .admit_initiation(now, src, &d.bytes, rng, &mut reply)
                {
                    let r = side
                        .chan
                        .handle_initiation(now, ticket, &side.key, &d.bytes, rng, &mut reply);
                    match r {
                        Ok(n) => {
                            side.agent.handle_response_sent(&d.bytes, &reply[..n]);
                            answer = Some(reply[..n].to_vec());
                        }
                        Err(crate::crypto::HandshakeError::StaleEpoch) => {
                            answer = side.agent.repeat_response(&d.bytes).map(<[u8]>::to_vec);
                        }
                        Err(_) => {}
                    }
                }
            }
            Ok(DatagramKind::Response) => {
                let _ = side
                    .chan
                    .handle_response(now, &mut side.guard, &side.key, src, &d.bytes);
            }
            Ok(DatagramKind::CookieReply) => {
                let _ = side.chan.handle_cookie(now, &d.bytes);
            }
            Ok(DatagramKind::Sealed) => {
                let mut copy = d.bytes.clone();
                if let Ok(opened) = side.chan.open(now, src, &mut copy) {
                    match PathCheck::decode(opened.payload) {
                        Ok(check) => side.agent.handle_check(now, d.route, check),
                        Err(_) => {
                            if !opened.payload.is_empty() {
                                side.received.push(opened.payload.to_vec());
                            }
                            side.agent.handle_inbound(now, d.route);
                        }
                    }
                }
            }
            Err(_) => {}
        }
        while let Some(e) = side.chan.poll_event() {
            if let ChannelEvent::Moved { addr } = e {
                if d.route.is_direct() {
                    side.agent.handle_moved(now, addr);
                }
            }
        }
        if let Some(bytes) = answer {
            self.emit(d.to_a, d.route, bytes);
        }
    }

    fn next_time(&self) -> Option<Instant> {
        let timers = [
            self.a.agent.poll_timeout(),
            self.b.agent.poll_timeout(),
            self.a.chan.poll_timeout(),
            self.b.chan.poll_timeout(),
        ];
        let arrivals = self.queue.iter().map(|d| d.at);
        let notice = self.notice_at;
        timers
            .into_iter()
            .flatten()
            .chain(arrivals)
            .chain(notice)
            .min()
    }

    /// Runs everything up to `until`.
    pub(super) fn run(&mut self, until: Instant) {
        self.flush();
        let mut steps = 0;
        while let Some(at) = self.next_time().filter(|&t| t <= until) {
            steps += 1;
            assert!(steps < 1_000_000, "the pair never went quiet");
            self.now = self.now.max(at);
            let now = self.now;
            let (due, later): (Vec<_>, Vec<_>) = self.queue.drain(..).partition(|d| d.at <= now);
            self.queue = later;
            for d in due {
                self.deliver(d);
            }
            if self.notice_at.is_some_and(|t| t <= now) {
                self.notice_at = None;
                self.notice();
            }
            for side in [&mut self.a, &mut self.b] {
                side.chan.handle_timeout(now);
                side.agent.handle_timeout(now);
            }
            self.flush();
        }
        self.now = self.now.max(until);
    }

    /// Runs for `d` more.
    pub(super) fn run_for(&mut self, d: Duration) {
        let until = self.now + d;
        self.run(until);
    }
}

#[test]
fn a_small_buffer_is_refused_before_anything_changes() {
    let mut p = Pair::new(1, open_internet());
    let now = p.now;
    p.a.agent.want(now);
    let mut small = [0u8; 40];
    let r = p.a.agent.poll_transmit(now, &mut p.a.chan, &mut small);
    assert_eq!(
        r,
        Err(crate::wire::EncodeError::BufferTooSmall {
            needed: PATH_BUFFER
        })
    );
    assert_eq!(p.a.agent.stats(), Default::default());
}
