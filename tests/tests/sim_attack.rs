//! Sealed chat between four users over a hostile network while an active attacker, who
//! sees every datagram, flips bits, truncates, replays old and recent packets, reorders,
//! races copies from its own address, forges packets under a peer's id and header,
//! floods handshakes claiming other users' ids, and sends garbage. The run spans several
//! rekeys. Every message still arrives exactly once and in order, nothing forged is
//! delivered, and the work and memory the attacker can cost stay bounded.
//!
//! Replay a failing seed with `SIM_SEED=<seed> cargo test -p peerchat-tests --test sim_attack`.

use core::net::SocketAddr;

use chacha20::rand_core::SeedableRng;
use chacha20::ChaCha20Rng;
use peerchat_proto::crypto::{ChannelStats, GuardConfig, Keypair};
use peerchat_proto::endpoint::SendError;
use peerchat_proto::time::{Duration, Instant};
use peerchat_proto::wire::PeerId;
use peerchat_tests::sim::{
    run_seeds, AttackStats, Attacker, Listing, NetConfig, Record, SecureNode, SimRng, World, HOLD,
    OUTBOX,
};

const USERS: usize = 4;
/// Sends spread over this span: past two rekeys (120 s each).
const SPAN: Duration = Duration::from_secs(300);
/// How often the attacker acts.
const TICK: Duration = Duration::from_millis(50);

fn addr(i: usize) -> SocketAddr {
    SocketAddr::from(([10, 0, 0, i as u8 + 1], 5000))
}

fn id_of(i: usize) -> PeerId {
    PeerId(i as u32 + 1)
}

struct Sim {
    world: World<SecureNode>,
    directory: Vec<Listing>,
    attacker: Attacker,
    rng: SimRng,
    /// `(from, to, text)` in sending order.
    sent: Vec<(usize, usize, String)>,
    /// The largest hold queue and outbox seen.
    peak: (usize, usize),
}

impl Sim {
    fn new(seed: u64) -> Self {
        let keys: Vec<Keypair> = (0..USERS)
            .map(|i| Keypair::generate(&mut ChaCha20Rng::seed_from_u64(seed * 16 + i as u64)))
            .collect();
        let directory: Vec<Listing> = (0..USERS)
            .map(|i| Listing {
                id: id_of(i),
                addr: addr(i),
                key: *keys[i].public(),
            })
            .collect();
        let mut world = World::new(NetConfig::hostile(), seed);
        for (i, key) in keys.into_iter().enumerate() {
            let node = SecureNode::new(directory[i], key, seed * 31 + i as u64, &directory);
            world.add(addr(i), node);
        }
        world.net.enable_tap(256);
        Sim {
            world,
            directory,
            attacker: Attacker::new(seed, SocketAddr::from(([10, 0, 0, 66], 6666))),
            rng: SimRng::new(seed ^ 0x706c_616e),
            sent: Vec::new(),
            peak: (0, 0),
        }
    }

    /// Runs to `until`, the attacker striking every tick when `attack` is set.
    fn run(&mut self, until: Instant, attack: bool) {
        while self.world.now() < until {
            let next = (self.world.now() + TICK).min(until);
            self.world.run_until(next, |_| false);
            for i in 0..USERS {
                let (held, outbox) = self.world.node(i).queued();
                self.peak = (self.peak.0.max(held), self.peak.1.max(outbox));
            }
            if attack {
                self.attacker.observe(&mut self.world.net);
                let now = self.world.now();
                let count = self.rng.range(1, 4) as usize;
                self.attacker
                    .strike(now, &mut self.world.net, &self.directory, count);
            } else {
                self.world.net.drain_tap();
            }
        }
    }

    fn send(&mut self, from: usize, to: usize, tag: &str) -> bool {
        let text = format!("{tag}|{from}>{to}|{}", self.sent.len());
        let now = self.world.now();
        let ep = &mut self.world.node_mut(from).chat.ep;
        match ep.send(now, id_of(to), &text, false) {
            Ok(_) => {
                self.sent.push((from, to, text));
                true
            }
            Err(SendError::QueueFull | SendError::BufferFull) => false,
            Err(e) => panic!("unexpected send error {e}"),
        }
    }

    fn delivered(&self) -> usize {
        (0..USERS)
            .flat_map(|i| &self.world.node(i).chat.log)
            .filter(|r| matches!(r, Record::Delivered { .. }))
            .count()
    }

    /// Sends `count` messages at random moments of `span` from now, under attack.
    fn chat_under_attack(&mut self, count: usize, span: Duration) {
        let start = self.world.now();
        let mut plan: Vec<(Instant, usize, usize)> = (0..count)
            .map(|_| {
                let at = start + Duration::from_micros(self.rng.below(span.as_micros()));
                let from = self.rng.below(USERS as u64) as usize;
                let to = (from + 1 + self.rng.below(USERS as u64 - 1) as usize) % USERS;
                (at, from, to)
            })
            .collect();
        plan.sort();
        for (at, from, to) in plan {
            self.run(at, true);
            while !self.send(from, to, "m") {
                let later = self.world.now() + Duration::from_millis(200);
                self.run(later, true);
            }
        }
    }

    /// Runs (attacking if asked) until every message sent is delivered, or fails.
    fn settle(&mut self, limit: Duration, attack: bool) {
        let deadline = self.world.now() + limit;
        while self.delivered() < self.sent.len() {
            if self.world.now() >= deadline {
                self.dump();
            }
            assert!(
                self.world.now() < deadline,
                "only {} of {} messages delivered",
                self.delivered(),
                self.sent.len()
            );
            let next = self.world.now() + Duration::from_secs(1);
            self.run(next, attack);
        }
    }

    /// Every receiver got exactly what each sender sent it, once, in order: nothing
    /// forged, lost, repeated or reordered; and nothing failed.
    fn check_exactly_once_in_order(&self) {
        for r in 0..USERS {
            let log = &self.world.node(r).chat.log;
            assert!(
                !log.iter().any(|rec| matches!(rec, Record::Failed { .. })),
                "no user was gone, so nothing may fail"
            );
            for s in (0..USERS).filter(|&s| s != r) {
                let sent: Vec<&str> = self
                    .sent
                    .iter()
                    .filter(|(f, t, _)| *f == s && *t == r)
                    .map(|(_, _, text)| text.as_str())
                    .collect();
                let got: Vec<&str> = log
                    .iter()
                    .filter_map(|rec| match rec {
                        Record::Received { from, text, .. } if *from == id_of(s) => {
                            Some(text.as_str())
                        }
                        _ => None,
                    })
                    .collect();
                assert_eq!(got, sent, "what {r} received from {s}");
            }
        }
    }

    /// Prints every user's channels and counters (for a failing seed).
    fn dump(&self) {
        let now = self.world.now();
        for i in 0..USERS {
            let node = self.world.node(i);
            eprintln!(
                "user {i}: {:?} {:?} guard {:?}",
                node.stats,
                node.queued(),
                node.guard.stats()
            );
            for c in node.channels() {
                eprintln!(
                    "  {c:?} can_seal {} timeout {:?}",
                    c.can_seal(now),
                    c.poll_timeout()
                );
            }
            let failed = node
                .chat
                .log
                .iter()
                .filter(|r| matches!(r, Record::Failed { .. }))
                .count();
            for r in node
                .chat
                .log
                .iter()
                .filter(|r| matches!(r, Record::Failed { .. }))
            {
                eprintln!("  {r:?}");
            }
            eprintln!("  failed {failed}, endpoint {:?}", node.chat.ep.counters());
        }
        eprintln!("attacker {:?} at {now:?}", self.attacker.stats);
    }

    fn channel_totals(&self) -> ChannelStats {
        let mut total = ChannelStats::default();
        for i in 0..USERS {
            for c in self.world.node(i).channels() {
                total += c.stats();
            }
        }
        total
    }
}

#[test]
fn an_active_attacker_changes_nothing_that_is_delivered() {
    let mut attacks = AttackStats::default();
    let mut defences = ChannelStats::default();
    let mut bad_mac1 = 0;
    run_seeds("active_attacker", 6, |seed| {
        let mut sim = Sim::new(seed);
        sim.chat_under_attack(60, SPAN);
        sim.settle(Duration::from_secs(120), true);
        // A calm spell, then one message each way between every pair: every peer is
        // reached at its own address again, whatever copies the attacker raced.
        sim.run(sim.world.now() + Duration::from_secs(5), false);
        for from in 0..USERS {
            for to in (0..USERS).filter(|&t| t != from) {
                assert!(sim.send(from, to, "calm"));
            }
        }
        sim.settle(Duration::from_secs(60), false);
        sim.check_exactly_once_in_order();
        for i in 0..USERS {
            for c in sim.world.node(i).channels() {
                let peer = (c.peer_id().0 - 1) as usize;
                assert_eq!(
                    c.addr(),
                    addr(peer),
                    "{i}'s channel to {peer} points elsewhere"
                );
            }
        }

        // Bounded: the harness's only growable parts stayed within their caps, and no
        // guard did more handshake work than its budget allows.
        assert!(sim.peak.0 <= HOLD && sim.peak.1 <= OUTBOX, "{:?}", sim.peak);
        let elapsed = (sim.world.now() - Instant::ZERO).as_millis() / 1000 + 1;
        let cfg = GuardConfig::DESKTOP;
        let budget = u64::from(cfg.handshake_burst) + u64::from(cfg.handshakes_per_sec) * elapsed;
        for i in 0..USERS {
            let g = sim.world.node(i).guard.stats();
            assert!(g.admitted <= budget, "{i}: {g:?}");
            bad_mac1 += g.bad_mac1;
        }
        let totals = sim.channel_totals();
        assert!(
            totals.handshakes_completed >= 2 * 6,
            "every pair rekeyed at least once: {totals:?}"
        );
        defences += totals;
        attacks += sim.attacker.stats;
    });
    // Every kind of attack was tried, and the defences saw them.
    let a = attacks;
    for (name, n) in [
        ("flipped", a.flipped),
        ("truncated", a.truncated),
        ("replayed_recent", a.replayed_recent),
        ("replayed_old", a.replayed_old),
        ("reordered", a.reordered),
        ("raced", a.raced),
        ("forged_sealed", a.forged_sealed),
        ("impostor_initiations", a.impostor_initiations),
        ("garbage", a.garbage),
    ] {
        assert!(n > 0, "the attacker never tried {name}: {a:?}");
    }
    assert!(defences.auth_failed > 0, "{defences:?}");
    assert!(defences.replayed > 0, "{defences:?}");
    assert!(defences.handshake_failed > 0, "{defences:?}");
    assert!(bad_mac1 > 0);
}
