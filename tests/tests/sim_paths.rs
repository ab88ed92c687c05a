//! Paths through NATs in the seeded simulation: two users behind NATs of every kind,
//! over a lossy network, find a direct path when the NATs allow one (the public
//! mappings, a peer-reflexive port, the LAN) and fall back to the directory's relay when
//! they do not, move back to direct when a path opens, keep their NAT mappings with
//! keepalives, and report no path (with its reason) without a relay. Every chat message
//! goes each way exactly once.
//!
//! Each case runs over 200 seeds (the whole file takes about 6 s in a debug build on two
//! cores); `SIM_SEEDS=<n>` runs `n` of each, `SIM_SEED=<seed>` replays one.

use core::net::{Ipv4Addr, SocketAddr};

use chacha20::rand_core::SeedableRng;
use chacha20::ChaCha20Rng;
use peerchat_proto::crypto::Keypair;
use peerchat_proto::path::{NoPathReason, PathConfig, PathEvent, RelayConfig, Route, RouteKind};
use peerchat_proto::time::{Duration, Instant};
use peerchat_proto::wire::PeerId;
use peerchat_tests::sim::{
    run_seeds, ControlBus, NatConfig, NetConfig, PathClient, PathDirectory, PathNode, PathPeer,
    Record, World,
};

/// Seeds per case by default.
const SEEDS: u64 = 200;
/// The directory's UDP address, on the internet.
const DIRECTORY: SocketAddr =
    SocketAddr::new(core::net::IpAddr::V4(Ipv4Addr::new(198, 18, 0, 1)), 3478);
const A: PeerId = PeerId(1);
const B: PeerId = PeerId(2);
/// When the first messages are sent: logins, probes (every 500 ms until one is answered,
/// with 20% loss each way) and grants are done by then.
const START: Instant = Instant::from_millis(5_000);

/// Where a user sits.
#[derive(Debug, Clone, Copy)]
enum Place {
    /// Behind NAT `n` of the scene.
    Behind(usize),
    /// On the internet, no NAT.
    Public,
}

struct Scene {
    world: World<PathNode>,
    /// Node index of each user (A, B).
    nodes: [usize; 2],
}

/// Users A and B placed as given, NATs as given, a directory with the relay `terms`.
fn scene(
    seed: u64,
    net: NetConfig,
    nats: &[NatConfig],
    places: [Place; 2],
    terms: RelayConfig,
    config: PathConfig,
) -> Scene {
    let mut world = World::new(net, seed);
    world.net.nats_mut().seed(seed ^ 0x006e_6174);
    for (n, &nat) in nats.iter().enumerate() {
        let k = n as u8 + 1;
        let public = Ipv4Addr::new(198, 18, k, 2);
        world
            .net
            .nats_mut()
            .add(public, Ipv4Addr::new(10, 0, k, 0), nat);
    }
    let bus = ControlBus::new(Duration::from_millis(15));
    let mut directory = PathDirectory::new(DIRECTORY, 16, terms, bus.clone(), seed);
    let keys: Vec<Keypair> = (0..2)
        .map(|i| Keypair::generate(&mut ChaCha20Rng::seed_from_u64(seed * 16 + i)))
        .collect();
    let peers = [A, B].map(|id| PathPeer {
        id,
        key: *keys[id.0 as usize - 1].public(),
    });
    let mut on_lan = vec![0u8; nats.len()];
    let mut nodes = [0; 2];
    for (i, key) in keys.into_iter().enumerate() {
        let addr = match places[i] {
            Place::Behind(n) => {
                on_lan[n] += 1;
                SocketAddr::from(([10, 0, n as u8 + 1, 1 + on_lan[n]], 5000))
            }
            Place::Public => SocketAddr::from(([198, 18, 100, i as u8 + 1], 5000)),
        };
        let id = peers[i].id;
        directory.login(Instant::ZERO, id);
        let directory = (DIRECTORY, bus.clone());
        let seed = seed * 31 + i as u64;
        let mut client = PathClient::new(id, key, seed, addr, directory, &peers, config);
        client.login(Instant::ZERO);
        nodes[i] = world.add(addr, PathNode::Client(Box::new(client)));
    }
    world.add(DIRECTORY, PathNode::Directory(Box::new(directory)));
    world.run_until(START, |_| false);
    Scene { world, nodes }
}

impl Scene {
    fn client(&self, user: usize) -> &PathClient {
        self.world
            .node(self.nodes[user])
            .client()
            .expect("a client")
    }

    fn client_mut(&mut self, user: usize) -> &mut PathClient {
        let i = self.nodes[user];
        self.world.node_mut(i).client_mut().expect("a client")
    }

    fn send(&mut self, from: usize, text: &str) {
        let now = self.world.now();
        let to = [B, A][from];
        assert!(self.client_mut(from).send(now, to, text), "queued");
    }

    fn run_until(&mut self, t: Instant) {
        self.world.run_until(t, |_| false);
    }

    /// A's path to B and B's to A.
    fn paths(&self) -> [Option<(Route, RouteKind)>; 2] {
        [self.client(0).path(B), self.client(1).path(A)]
    }

    /// When `user` first selected a route matching `f`, after `START`.
    fn selected_at(&self, user: usize, f: impl Fn(Route) -> bool) -> Option<Duration> {
        self.client(user).log.iter().find_map(|l| match l.event {
            PathEvent::Selected { route, .. } if f(route) => Some(l.at - START),
            _ => None,
        })
    }

    /// How many times `user` received `text`.
    fn received(&self, user: usize, text: &str) -> usize {
        let log = &self.client(user).chat.log;
        log.iter()
            .filter(|r| matches!(r, Record::Received { text: t, .. } if t == text))
            .count()
    }

    /// Both users' path logs and counters and the directory's, for a failure message.
    fn dump(&self) -> String {
        let mut out = String::new();
        for user in 0..2 {
            let c = self.client(user);
            let peer = [B, A][user];
            for l in &c.log {
                out += &format!("{user}: {:?} {:?}\n", l.at, l.event);
            }
            for r in &c.chat.log {
                out += &format!("{user}: {r:?}\n");
            }
            out += &format!("{user}: {:?}\n", c.agent(peer).map(|a| a.stats()));
            out += &format!("{user}: {:?}\n", c.channel(peer).map(|ch| ch.stats()));
        }
        let d = self.world.node(2).directory().expect("the directory");
        let nats = self.world.net.nats().stats();
        out += &format!(
            "relay: {:?} {:?}\nnats: {nats:?}",
            d.server.stats(),
            d.drops
        );
        out
    }

    fn failures(&self, user: usize) -> usize {
        let log = &self.client(user).chat.log;
        log.iter()
            .filter(|r| matches!(r, Record::Failed { .. }))
            .count()
    }

    fn lost(&self, user: usize) -> usize {
        let log = &self.client(user).log;
        log.iter().filter(|l| l.event == PathEvent::Lost).count()
    }

    /// A message each way at `START`, and again once the paths settled: each arrives
    /// exactly once, and none fails.
    fn chat_both_ways(&mut self) {
        self.send(0, "a to b, first");
        self.send(1, "b to a, first");
        self.run_until(START + Duration::from_secs(12));
        self.send(0, "a to b, second");
        self.send(1, "b to a, second");
        self.run_until(START + Duration::from_secs(24));
        for (user, texts) in [
            (1, ["a to b, first", "a to b, second"]),
            (0, ["b to a, first", "b to a, second"]),
        ] {
            for text in texts {
                let n = self.received(user, text);
                assert_eq!(n, 1, "{text:?} arrived {n} times\n{}", self.dump());
            }
            assert_eq!(self.failures(user), 0, "nothing failed");
        }
    }
}

fn direct(kind: RouteKind) -> impl Fn(Option<(Route, RouteKind)>) -> bool {
    move |p| matches!(p, Some((Route::Direct(_), k)) if k == kind)
}

fn relayed(p: Option<(Route, RouteKind)>) -> bool {
    matches!(p, Some((Route::Relay, _)))
}

fn default_scene(seed: u64, nats: &[NatConfig], places: [Place; 2]) -> Scene {
    let net = NetConfig::hostile();
    scene(
        seed,
        net,
        nats,
        places,
        RelayConfig::DEFAULT,
        PathConfig::DEFAULT,
    )
}

const TWO_LANS: [Place; 2] = [Place::Behind(0), Place::Behind(1)];

/// Prints the spread of `times` (the figures of a run).
fn report(what: &str, mut times: Vec<Duration>) {
    times.sort();
    if let (Some(first), Some(last)) = (times.first(), times.last()) {
        let median = times[times.len() / 2];
        let ms = |d: Duration| d.as_micros() as f64 / 1000.0;
        eprintln!(
            "measured: {what} over {} seeds: min {:.0} ms, median {:.0} ms, max {:.0} ms",
            times.len(),
            ms(*first),
            ms(median),
            ms(*last)
        );
    }
}

#[test]
fn two_cone_nats_find_the_direct_path_within_two_seconds() {
    let mut times = Vec::new();
    run_seeds("cone ↔ cone", SEEDS, |seed| {
        let nats = [NatConfig::PORT_RESTRICTED_CONE; 2];
        let mut s = default_scene(seed, &nats, TWO_LANS);
        s.chat_both_ways();
        let [a, b] = s.paths();
        assert!(direct(RouteKind::ServerReflexive)(a), "A: {a:?}");
        assert!(direct(RouteKind::ServerReflexive)(b), "B: {b:?}");
        let took = s.selected_at(0, |r| r.is_direct()).unwrap();
        assert!(took <= Duration::from_secs(2), "direct after {took:?}");
        times.push(took);
        assert!(s.client(0).log.iter().all(|l| !matches!(
            l.event,
            PathEvent::Selected {
                route: Route::Relay,
                ..
            }
        )));
    });
    report(
        "cone ↔ cone, first message to direct path (20% loss)",
        times,
    );
}

#[test]
fn a_symmetric_nat_reaches_a_full_cone_through_a_peer_reflexive_route() {
    run_seeds("symmetric ↔ full cone", SEEDS, |seed| {
        let nats = [NatConfig::SYMMETRIC, NatConfig::FULL_CONE];
        let mut s = default_scene(seed, &nats, TWO_LANS);
        s.chat_both_ways();
        let [a, b] = s.paths();
        // A's pings reach B from a port the directory never saw: B learns it.
        assert!(direct(RouteKind::PeerReflexive)(b), "B: {b:?}");
        assert!(matches!(a, Some((Route::Direct(_), _))), "A: {a:?}");
    });
}

#[test]
fn a_symmetric_nat_facing_a_port_restricted_one_goes_through_the_relay() {
    run_seeds("symmetric ↔ port-restricted", SEEDS, |seed| {
        let nats = [NatConfig::SYMMETRIC, NatConfig::PORT_RESTRICTED_CONE];
        let mut s = default_scene(seed, &nats, TWO_LANS);
        s.chat_both_ways();
        let [a, b] = s.paths();
        assert!(relayed(a) && relayed(b), "{a:?} {b:?}");
    });
}

#[test]
fn two_symmetric_nats_are_relayed_within_three_seconds() {
    let mut times = Vec::new();
    run_seeds("symmetric ↔ symmetric", SEEDS, |seed| {
        let nats = [NatConfig::SYMMETRIC; 2];
        let mut s = default_scene(seed, &nats, TWO_LANS);
        s.chat_both_ways();
        let [a, b] = s.paths();
        assert!(relayed(a) && relayed(b), "{a:?} {b:?}");
        for user in 0..2 {
            let took = s.selected_at(user, |r| r == Route::Relay).unwrap();
            assert!(took <= Duration::from_secs(3), "relayed after {took:?}");
            times.push(took);
        }
    });
    report(
        "symmetric ↔ symmetric, first message to relayed path (20% loss)",
        times,
    );
}

#[test]
fn two_users_behind_one_nat_take_the_lan() {
    run_seeds("one NAT", SEEDS, |seed| {
        for hairpin in [false, true] {
            let nat = NatConfig {
                hairpin,
                ..NatConfig::PORT_RESTRICTED_CONE
            };
            let places = [Place::Behind(0), Place::Behind(0)];
            let mut s = default_scene(seed, &[nat], places);
            s.chat_both_ways();
            let [a, b] = s.paths();
            assert!(direct(RouteKind::Host)(a), "hairpin {hairpin}: A {a:?}");
            assert!(direct(RouteKind::Host)(b), "hairpin {hairpin}: B {b:?}");
        }
    });
}

#[test]
fn a_user_with_no_nat_is_reached_directly() {
    run_seeds("public ↔ cone", SEEDS, |seed| {
        let nats = [NatConfig::PORT_RESTRICTED_CONE];
        let mut s = default_scene(seed, &nats, [Place::Public, Place::Behind(0)]);
        s.chat_both_ways();
        let [a, b] = s.paths();
        assert!(matches!(a, Some((Route::Direct(_), _))), "A: {a:?}");
        assert!(matches!(b, Some((Route::Direct(_), _))), "B: {b:?}");
    });
}

/// Users behind cone NATs whose mappings last 10 s of silence, with keepalives every
/// `keepalive`: they chat, fall silent for a minute, then only A speaks (so B's mapping
/// toward A must still be there for A's message to get in).
/// The network is lossy (5%) but not hostile: under 20% loss a path now and then loses
/// eight liveness round trips in a row and is looked for again, which is no test of
/// mappings.
fn silence(seed: u64, keepalive: Duration) -> Scene {
    let nat = NatConfig {
        timeout: Duration::from_secs(10),
        ..NatConfig::PORT_RESTRICTED_CONE
    };
    let config = PathConfig {
        keepalive,
        ..PathConfig::DEFAULT
    };
    let net = NetConfig {
        loss: 0.05,
        ..NetConfig::hostile()
    };
    let mut s = scene(seed, net, &[nat; 2], TWO_LANS, RelayConfig::DEFAULT, config);
    s.chat_both_ways();
    s.run_until(START + Duration::from_secs(90));
    s.send(0, "after the silence");
    s
}

#[test]
fn keepalives_hold_mappings_that_expire_when_idle() {
    run_seeds("mapping timeouts", SEEDS, |seed| {
        let mut s = silence(seed, Duration::from_secs(5));
        let before = s.paths();
        assert!(direct(RouteKind::ServerReflexive)(before[0]), "{before:?}");
        s.run_until(START + Duration::from_secs(100));
        assert_eq!(s.received(1, "after the silence"), 1);
        assert_eq!(s.paths(), before, "the same direct path");
        assert_eq!((s.lost(0), s.lost(1)), (0, 0), "never lost");
    });
}

#[test]
fn without_keepalives_an_expired_mapping_loses_the_path_and_a_new_one_is_found() {
    // Without the path's keepalives only the channel's own timers (its keepalive after
    // data, a handshake when data goes unanswered) may happen to hold a mapping: in most
    // runs the silence outlasts both NATs' mappings.
    let mut expired = 0;
    let seeds = peerchat_tests::sim::seeds(SEEDS).len();
    run_seeds("expired mapping", SEEDS, |seed| {
        let mut s = silence(seed, Duration::from_secs(300));
        s.run_until(START + Duration::from_secs(130));
        assert_eq!(s.received(1, "after the silence"), 1);
        let [a, b] = s.paths();
        assert!(a.is_some() && b.is_some(), "a path again: {a:?} {b:?}");
        assert_eq!((s.failures(0), s.failures(1)), (0, 0));
        expired += usize::from(s.lost(0) > 0);
    });
    assert!(
        expired * 2 >= seeds,
        "lost and found again in {expired} of {seeds} runs"
    );
}

#[test]
fn without_a_relay_two_symmetric_nats_have_no_path_and_say_why() {
    run_seeds("no relay", SEEDS, |seed| {
        let net = NetConfig::hostile();
        let nats = [NatConfig::SYMMETRIC; 2];
        let config = PathConfig::DEFAULT;
        let mut s = scene(seed, net, &nats, TWO_LANS, RelayConfig::OFF, config);
        s.send(0, "into the void");
        s.run_until(START + Duration::from_secs(5));
        let no_path = s.client(0).log.iter().find_map(|l| match l.event {
            PathEvent::NoPath { reason } => Some((l.at - START, reason)),
            _ => None,
        });
        let (at, reason) = no_path.expect("no path reported");
        assert_eq!(reason, NoPathReason::RelayDisabled);
        assert!(at <= Duration::from_millis(2_500), "after {at:?}");
        assert_eq!(s.paths(), [None, None]);
        assert_eq!(s.received(1, "into the void"), 0);
    });
}

#[test]
fn the_relay_gives_way_to_a_direct_path_when_one_opens() {
    run_seeds("relay → direct", SEEDS, |seed| {
        // B's firewall lets in only the directory's datagrams: UDP is blocked one way.
        let blocked = NatConfig {
            inbound_only_from: Some(DIRECTORY.ip()),
            ..NatConfig::PORT_RESTRICTED_CONE
        };
        let nats = [NatConfig::PORT_RESTRICTED_CONE, blocked];
        let mut s = default_scene(seed, &nats, TWO_LANS);
        s.send(0, "relayed");
        s.run_until(START + Duration::from_secs(8));
        assert!(relayed(s.paths()[0]), "{:?}", s.paths());
        // The firewall opens.
        let open = NatConfig::PORT_RESTRICTED_CONE;
        s.world.net.nats_mut().set_config(1, open);
        s.run_until(START + Duration::from_secs(40));
        let [a, b] = s.paths();
        assert!(direct(RouteKind::ServerReflexive)(a), "A: {a:?}");
        assert!(direct(RouteKind::ServerReflexive)(b), "B: {b:?}");
        s.send(0, "direct");
        s.send(1, "direct back");
        s.run_until(START + Duration::from_secs(50));
        assert_eq!(s.received(1, "relayed"), 1);
        assert_eq!(s.received(1, "direct"), 1);
        assert_eq!(s.received(0, "direct back"), 1);
        assert_eq!((s.failures(0), s.failures(1)), (0, 0));
    });
}
