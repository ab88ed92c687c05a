//! Chat over a hostile simulated network: every message arrives exactly once and in
//! order, or its sender gets `failed` — and `failed` only when the peer is really gone.
//!
//! Replay a failing seed with `SIM_SEED=<seed> cargo test -p peerchat-tests --test sim_chat`.

use core::net::SocketAddr;

use peerchat_proto::endpoint::{FailReason, MessageId, SendError};
use peerchat_proto::link::LinkConfig;
use peerchat_proto::time::{Duration, Instant};
use peerchat_proto::wire::{encode_packet, Body, Chat, Frag, Packet, PeerId, MAX_TEXT_LEN};
use peerchat_tests::sim::{run_seeds, ChatNode, NetConfig, NetStats, Record, SimRng, World};

/// One message a test sent.
#[derive(Debug, Clone)]
struct Sent {
    from: usize,
    id: MessageId,
    targets: Vec<usize>,
    text: String,
    to_all: bool,
    at: Instant,
}

/// A planned send: at `at`, node `from` sends to `to` (or everyone).
#[derive(Debug, Clone)]
struct Plan {
    at: Instant,
    from: usize,
    to: Option<usize>,
    text: String,
}

struct Sim {
    world: World<ChatNode>,
    sent: Vec<Sent>,
    rng: SimRng,
    /// Logs of nodes that restarted, per node index (earlier incarnations first).
    retired: Vec<Vec<Record>>,
}

/// Delivered and failed records in the whole world (current incarnations).
fn outcomes(world: &World<ChatNode>) -> usize {
    (0..world.len())
        .flat_map(|i| &world.node(i).log)
        .filter(|r| matches!(r, Record::Delivered { .. } | Record::Failed { .. }))
        .count()
}

fn id_of(i: usize) -> PeerId {
    PeerId(i as u32 + 1)
}

fn index_of(id: PeerId) -> usize {
    id.0 as usize - 1
}

fn addr(i: usize) -> SocketAddr {
    SocketAddr::from(([10, 0, 0, i as u8 + 1], 5000))
}

const ALPHABET: &[char] = &[
    'a', 'Z', ' ', '7', 'é', 'ß', 'Ω', '€', '中', '文', '😀', '🦀',
];

/// A text starting with a unique tag, of a random length up to the 16 KiB limit.
fn text(rng: &mut SimRng, tag: &str) -> String {
    let target = match rng.below(10) {
        0 => MAX_TEXT_LEN,
        1 | 2 => rng.range(1000, 5000) as usize,
        _ => rng.range(0, 200) as usize,
    };
    let mut s = format!("{tag}|");
    while s.len() + 4 <= target {
        s.push(*rng.pick(ALPHABET));
    }
    s
}

impl Sim {
    fn new(seed: u64, nodes: usize, net: NetConfig) -> Self {
        let mut world = World::new(net, seed);
        let peers: Vec<_> = (0..nodes).map(|i| (id_of(i), addr(i))).collect();
        for i in 0..nodes {
            let node = ChatNode::new(
                id_of(i),
                seed.wrapping_mul(31).wrapping_add(i as u64),
                &peers,
            );
            world.add(addr(i), node);
        }
        Sim {
            world,
            sent: Vec::new(),
            rng: SimRng::new(seed),
            retired: vec![Vec::new(); nodes],
        }
    }

    /// `per_node` random sends from each node, spread over `span` from `start`.
    fn plan(&mut self, start: Instant, span: Duration, per_node: usize) -> Vec<Plan> {
        let n = self.world.len();
        let mut plans = Vec::new();
        for from in 0..n {
            for k in 0..per_node {
                let at = start + Duration::from_micros(self.rng.below(span.as_micros()));
                let to = if self.rng.below(4) == 0 {
                    None
                } else {
                    let other = (from + 1 + self.rng.below(n as u64 - 1) as usize) % n;
                    Some(other)
                };
                let text = text(&mut self.rng, &format!("{from}>{k}@{}", at.as_micros()));
                plans.push(Plan { at, from, to, text });
            }
        }
        plans.sort_by_key(|p| p.at);
        plans
    }

    /// Carries out `plans` (retrying a send later while queues are full).
    fn execute(&mut self, mut plans: Vec<Plan>) {
        while let Some(plan) = plans.first().cloned() {
            self.world.run_until(plan.at, |_| false);
            plans.remove(0);
            if let Err(retry) = self.send(&plan) {
                let again = Plan {
                    at: self.world.now() + Duration::from_millis(200),
                    ..retry
                };
                let pos = plans.partition_point(|p| p.at <= again.at);
                plans.insert(pos, again);
            }
        }
    }

    fn send(&mut self, plan: &Plan) -> Result<(), Plan> {
        let now = self.world.now();
        let n = self.world.len();
        let ep = &mut self.world.node_mut(plan.from).ep;
        let (result, targets) = match plan.to {
            Some(to) => (ep.send(now, id_of(to), &plan.text, false), vec![to]),
            None => (
                ep.send_all(now, &plan.text),
                (0..n).filter(|&i| i != plan.from).collect(),
            ),
        };
        match result {
            Ok(id) => {
                self.sent.push(Sent {
                    from: plan.from,
                    id,
                    targets,
                    text: plan.text.clone(),
                    to_all: plan.to.is_none(),
                    at: now,
                });
                Ok(())
            }
            Err(SendError::QueueFull | SendError::BufferFull) => Err(plan.clone()),
            Err(e) => panic!("unexpected send error {e}"),
        }
    }

    /// Runs until every sent copy has an outcome (or `limit`, which is a failure).
    fn settle(&mut self, limit: Instant) {
        let expected: usize = self.sent.iter().map(|s| s.targets.len()).sum();
        let done = self.world.run_until(limit, |w| outcomes(w) >= expected);
        assert!(done, "not every message settled by {limit:?}");
    }

    /// Everything node `i` reported, over all its incarnations.
    fn log(&self, i: usize) -> impl Iterator<Item = &Record> {
        self.retired[i].iter().chain(&self.world.node(i).log)
    }

    fn outcome(&self, sent: &Sent, to: usize) -> &Record {
        let matching: Vec<_> = self
            .log(sent.from)
            .filter(|r| match r {
                Record::Delivered { to: t, id, .. } | Record::Failed { to: t, id, .. } => {
                    *id == sent.id && index_of(*t) == to
                }
                Record::Received { .. } => false,
            })
            .collect();
        assert_eq!(matching.len(), 1, "one outcome for {:?} to {to}", sent.id);
        matching[0]
    }

    /// Every received message was sent, arrives once, in sending order per sender, with
    /// its `to_all` flag; every delivered message was received.
    fn check_exactly_once_in_order(&self) {
        for r in 0..self.world.len() {
            for s in (0..self.world.len()).filter(|&s| s != r) {
                let sent: Vec<&Sent> = self
                    .sent
                    .iter()
                    .filter(|m| m.from == s && m.targets.contains(&r))
                    .collect();
                let received: Vec<(&str, bool)> = self
                    .log(r)
                    .filter_map(|rec| match rec {
                        Record::Received {
                            from, text, to_all, ..
                        } if index_of(*from) == s => Some((text.as_str(), *to_all)),
                        _ => None,
                    })
                    .collect();
                let mut next = 0;
                for (text, to_all) in &received {
                    let pos = sent[next..]
                        .iter()
                        .position(|m| m.text == *text)
                        .unwrap_or_else(|| {
                            self.dump_pair(s, r);
                            panic!("{r} got an unsent, repeated or out-of-order message from {s}")
                        });
                    assert_eq!(sent[next + pos].to_all, *to_all);
                    for skipped in &sent[next..next + pos] {
                        assert!(
                            matches!(self.outcome(skipped, r), Record::Failed { .. }),
                            "a delivered message from {s} to {r} is missing"
                        );
                    }
                    next += pos + 1;
                }
                for rest in &sent[next..] {
                    if !matches!(self.outcome(rest, r), Record::Failed { .. }) {
                        self.dump_pair(s, r);
                    }
                    assert!(
                        matches!(self.outcome(rest, r), Record::Failed { .. }),
                        "a delivered message from {s} to {r} never arrived"
                    );
                }
            }
        }
    }

    /// Prints what `s` sent to `r` and what `r` got from `s` (for a failing seed).
    fn dump_pair(&self, s: usize, r: usize) {
        for m in self
            .sent
            .iter()
            .filter(|m| m.from == s && m.targets.contains(&r))
        {
            eprintln!(
                "sent {:?} at {:?}, {} bytes {}: {:?}",
                m.id,
                m.at,
                m.text.len(),
                m.text.chars().take(16).collect::<String>(),
                self.outcome(m, r)
            );
        }
        for rec in self.log(r) {
            if let Record::Received { from, text, at, .. } = rec {
                if index_of(*from) == s {
                    eprintln!(
                        "received at {at:?}, {} bytes: {}",
                        text.len(),
                        text.chars().take(16).collect::<String>()
                    );
                }
            }
        }
        eprintln!("sender: {:?}", self.world.node(s).ep.counters());
        eprintln!("receiver: {:?}", self.world.node(r).ep.counters());
    }

    fn failures(&self) -> Vec<(usize, &Record)> {
        (0..self.world.len())
            .flat_map(|i| self.log(i).map(move |r| (i, r)))
            .filter(|(_, r)| matches!(r, Record::Failed { .. }))
            .collect()
    }
}

#[test]
fn hostile_network_delivers_every_message_exactly_once_in_order() {
    let mut total = NetStats::default();
    run_seeds("hostile_network", 200, |seed| {
        let mut sim = Sim::new(seed, 4, NetConfig::hostile());
        let plans = sim.plan(Instant::ZERO, Duration::from_secs(2), 5);
        sim.execute(plans);
        sim.settle(Instant::from_millis(120_000));
        assert!(
            sim.failures().is_empty(),
            "no peer was gone: {:?}",
            sim.failures()
        );
        sim.check_exactly_once_in_order();
        let stats = sim.world.net.stats();
        total.lost += stats.lost;
        total.duplicated += stats.duplicated;
        total.reordered += stats.reordered;
    });
    assert!(
        total.lost > 0 && total.duplicated > 0 && total.reordered > 0,
        "the network must misbehave: {total:?}"
    );
}

#[test]
fn a_vanished_peer_fails_messages_in_bounded_time_and_is_reachable_when_back() {
    let bound = LinkConfig::default().give_up_bound();
    run_seeds("vanished_peer", 30, |seed| {
        let mut sim = Sim::new(seed, 4, NetConfig::hostile());
        let gone = 3;
        let vanish_at = Instant::from_millis(1000);
        let plans = sim.plan(Instant::ZERO, Duration::from_secs(3), 5);
        let (before, after): (Vec<_>, Vec<_>) = plans.into_iter().partition(|p| p.at < vanish_at);
        sim.execute(before);
        sim.world.run_until(vanish_at, |_| false);
        sim.world.net.set_down(addr(gone), true);
        sim.execute(after);
        sim.settle(sim.world.now() + bound + Duration::from_secs(5));
        sim.check_exactly_once_in_order();
        for (node, rec) in sim.failures() {
            let Record::Failed { at, to, id, reason } = rec else {
                unreachable!()
            };
            if node != gone && index_of(*to) != gone {
                sim.dump_pair(node, index_of(*to));
                panic!("only messages to or from the vanished peer fail: {node} {rec:?}");
            }
            assert_eq!(*reason, FailReason::Timeout);
            let sent = sim
                .sent
                .iter()
                .find(|s| s.from == node && s.id == *id)
                .unwrap();
            assert!(*at - sent.at <= bound, "failed after {:?}", *at - sent.at);
        }
        let to_gone_after = sim
            .sent
            .iter()
            .filter(|s| s.targets.contains(&gone) && s.at >= vanish_at + Duration::from_secs(1))
            .count();
        assert!(
            to_gone_after == 0 || !sim.failures().is_empty(),
            "messages to a vanished peer must fail"
        );

        // The peer comes back: both directions work again.
        sim.world.net.set_down(addr(gone), false);
        let now = sim.world.now();
        let back = vec![
            Plan {
                at: now,
                from: 0,
                to: Some(gone),
                text: "welcome back 👋".into(),
            },
            Plan {
                at: now,
                from: gone,
                to: Some(0),
                text: "I'm back ✓".into(),
            },
        ];
        let failures_before = sim.failures().len();
        sim.execute(back);
        sim.settle(sim.world.now() + bound);
        assert_eq!(
            sim.failures().len(),
            failures_before,
            "no new failures once back"
        );
        sim.check_exactly_once_in_order();
    });
}

#[test]
fn forged_and_garbage_datagrams_change_nothing() {
    run_seeds("forged_and_garbage", 20, |seed| {
        let mut sim = Sim::new(seed, 3, NetConfig::hostile());
        let plans = sim.plan(Instant::ZERO, Duration::from_secs(2), 5);
        let attacker = SocketAddr::from(([10, 0, 0, 66], 6666));
        let mut rng = SimRng::new(seed ^ 0xbad);
        let mut buf = [0u8; 1200];
        for k in 0..300u32 {
            let at = Instant::from_millis(u64::from(k) * 10);
            let victim = rng.below(3) as usize;
            let (from, bytes) = match k % 4 {
                // Garbage from the attacker and from a real peer's address.
                0 => {
                    let len = rng.range(0, 1200) as usize;
                    (attacker, rng.bytes(len))
                }
                1 => {
                    let len = rng.range(0, 64) as usize;
                    (addr((victim + 1) % 3), rng.bytes(len))
                }
                // A well-formed chat claiming a real peer's id, from the wrong address.
                2 | 3 => {
                    let sender = if k % 4 == 2 {
                        id_of((victim + 1) % 3)
                    } else {
                        PeerId(77)
                    };
                    let chat = Chat {
                        seq: rng.next_u64() as u32,
                        base: rng.next_u64() as u32,
                        to_all: false,
                        frag: Frag { index: 0, count: 1 },
                        text: "FORGED",
                    };
                    let src = if k % 4 == 2 {
                        attacker
                    } else {
                        addr((victim + 1) % 3)
                    };
                    let n =
                        encode_packet(&Packet::new(sender, Body::Chat(chat)), &mut buf).unwrap();
                    (src, buf[..n].to_vec())
                }
                _ => unreachable!(),
            };
            sim.world.net.inject(at, from, addr(victim), bytes);
        }
        sim.execute(plans);
        sim.settle(Instant::from_millis(120_000));
        assert!(sim.failures().is_empty());
        sim.check_exactly_once_in_order();
        for i in 0..3 {
            let node = sim.world.node(i);
            assert!(!node
                .log
                .iter()
                .any(|r| matches!(r, Record::Received { text, .. } if text == "FORGED")));
            let c = node.ep.counters();
            assert!(
                c.dropped_bad_source > 0 && c.dropped_unknown_peer > 0 && c.dropped_undecodable > 0
            );
        }
    });
}

#[test]
fn a_peer_restarting_from_a_new_address_gets_a_fresh_link() {
    run_seeds("restart", 30, |seed| {
        let mut sim = Sim::new(seed, 4, NetConfig::hostile());
        let r = 3;
        let restart_at = Instant::from_millis(1500);
        let update_at = restart_at + Duration::from_millis(50);
        let plans = sim.plan(Instant::ZERO, Duration::from_secs(3), 6);
        // The old incarnation of `r` only listens (its own sends would die with it).
        let plans: Vec<_> = plans
            .into_iter()
            .filter(|p| p.from != r || p.at > update_at)
            .collect();
        let (before, rest): (Vec<_>, Vec<_>) = plans.into_iter().partition(|p| p.at < restart_at);
        let (mid, after): (Vec<_>, Vec<_>) = rest.into_iter().partition(|p| p.at < update_at);
        sim.execute(before);
        sim.world.run_until(restart_at, |_| false);
        let new_addr = SocketAddr::from(([10, 0, 0, 99], 5001));
        let peers: Vec<_> = (0..4).map(|i| (id_of(i), addr(i))).collect();
        let fresh = ChatNode::new(id_of(r), seed ^ 0xfeed, &peers);
        let old = sim.world.replace(r, new_addr, fresh);
        sim.retired[r] = old.log;
        sim.execute(mid);
        sim.world.run_until(update_at, |_| false);
        for i in (0..4).filter(|&i| i != r) {
            sim.world
                .node_mut(i)
                .ep
                .add_peer(id_of(r), new_addr)
                .unwrap();
        }
        sim.execute(after);
        sim.settle(sim.world.now() + Duration::from_secs(60));
        sim.check_exactly_once_in_order();
        for (node, rec) in sim.failures() {
            let Record::Failed { to, id, reason, .. } = rec else {
                unreachable!()
            };
            assert_eq!(
                (index_of(*to), *reason),
                (r, FailReason::PeerChanged),
                "{rec:?}"
            );
            let sent = sim
                .sent
                .iter()
                .find(|s| s.from == node && s.id == *id)
                .unwrap();
            assert!(
                sent.at < update_at,
                "only messages sent before the update fail"
            );
        }
    });
}

/// Eight peers sending at once to each other: more senders than reassembly buffers.
#[test]
fn a_crowd_shares_the_reassembly_buffers() {
    let mut busy = 0;
    run_seeds("crowd", 30, |seed| {
        let mut sim = Sim::new(seed, 8, NetConfig::hostile());
        let plans = sim.plan(Instant::ZERO, Duration::from_millis(20), 3);
        sim.execute(plans);
        sim.settle(Instant::from_millis(120_000));
        assert!(sim.failures().is_empty(), "{:?}", sim.failures());
        sim.check_exactly_once_in_order();
        busy += (0..8)
            .map(|i| sim.world.node(i).ep.counters().dropped_busy)
            .sum::<u64>();
    });
    assert!(
        busy > 0 || std::env::var("SIM_SEED").is_ok(),
        "the scenario must make peers wait for a buffer"
    );
}

#[test]
fn a_perfect_network_needs_no_retransmission() {
    let mut sim = Sim::new(7, 3, NetConfig::perfect());
    let plans = sim.plan(Instant::ZERO, Duration::from_secs(1), 10);
    sim.execute(plans);
    sim.settle(Instant::from_millis(10_000));
    sim.check_exactly_once_in_order();
    for i in 0..3 {
        assert_eq!(sim.world.node(i).ep.counters().retransmissions, 0);
    }
}
