//! A seeded, replayable simulation of two client nodes: a lossy network that drops,
//! duplicates, delays and reorders datagrams, a virtual clock, and a directory server
//! that goes away and comes back in the middle. Every message must arrive exactly once,
//! in order, and be reported delivered. A failure names its seed.

extern crate std;

use std::vec::Vec;

use super::Event;
use crate::time::{Duration, Instant};
use crate::wire::PeerId;

/// xorshift64*: the simulation's only randomness, from the seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// True with probability `percent` / 100.
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// A datagram on its way.
struct Flight {
    at: Instant,
    to_bob: bool,
    bytes: Vec<u8>,
}

const MESSAGES: usize = 30;

fn run(seed: u64) {
    let mut rng = Rng(seed | 1);
    let (mut alice, mut bob) = super::tests::pair();
    let mut flights: Vec<Flight> = Vec::new();
    let mut sent = Vec::new();
    let mut received = Vec::new();
    let mut delivered = Vec::new();
    let mut logins = 0;
    let outage = 200 + rng.next() % 400;
    let back = outage + 100 + rng.next() % 2000;
    for ms in 0..60_000u64 {
        let now = Instant::from_millis(1 + ms);
        alice.now = now;
        bob.now = now;
        if sent.len() < MESSAGES && rng.chance(5) {
            let text = std::format!("message {} of seed {seed}", sent.len());
            if alice.client.send_to(now, "bob", &text).is_ok() {
                sent.push(text);
            }
        }
        if ms == outage {
            alice.client.handle_control_closed(now);
            bob.client.handle_control_closed(now);
        }
        for node in [&mut alice, &mut bob] {
            if node.client.poll_timeout().is_some_and(|t| t <= now) {
                node.client.handle_timeout(now);
            }
        }
        for (to_bob, node) in [(true, &mut alice), (false, &mut bob)] {
            for (_, bytes) in node.datagrams() {
                if rng.chance(20) {
                    continue;
                }
                let copies = if rng.chance(5) { 2 } else { 1 };
                for _ in 0..copies {
                    let delay = Duration::from_millis(1 + rng.next() % 20);
                    let bytes = bytes.clone();
                    flights.push(Flight {
                        at: now + delay,
                        to_bob,
                        bytes,
                    });
                }
            }
        }
        let (due, later): (Vec<Flight>, Vec<Flight>) =
            flights.into_iter().partition(|f| f.at <= now);
        flights = later;
        for f in due {
            let (node, from) = if f.to_bob {
                (&mut bob, alice.udp)
            } else {
                (&mut alice, bob.udp)
            };
            node.client.handle_datagram(now, from, &f.bytes);
        }
        let mut connects = [false; 2];
        while let Some(event) = bob.client.poll_event() {
            match event {
                Event::Message { text, .. } => received.push(std::string::String::from(text)),
                Event::Connect => connects[1] = true,
                _ => {}
            }
        }
        while let Some(event) = alice.client.poll_event() {
            match event {
                Event::Delivered { id, .. } => delivered.push(id),
                Event::Failed { .. } => panic!("seed {seed}: a message failed"),
                Event::Connect => connects[0] = true,
                _ => {}
            }
        }
        // Before `back` the server is away: connects fail; after, both log in again
        // under the same ids.
        let (a, b) = (alice.udp, bob.udp);
        for (asked, node, id, peer) in [
            (connects[0], &mut alice, 1, (2, "bob", b)),
            (connects[1], &mut bob, 2, (1, "alice", a)),
        ] {
            if !asked {
                continue;
            }
            if ms < back {
                node.client.handle_control_closed(now);
            } else {
                node.accept_login(id, &[peer]);
                logins += 1;
            }
        }
        if sent.len() == MESSAGES && delivered.len() == MESSAGES && logins >= 2 {
            break;
        }
    }
    assert_eq!(received, sent, "seed {seed}: exactly once, in order");
    assert_eq!(
        delivered.len(),
        MESSAGES,
        "seed {seed}: every message delivered"
    );
    // The scripted server never answers pings, so idle timeouts add more logins.
    assert!(logins >= 2, "seed {seed}: both logged in again");
    assert!(!alice.client.is_online() || alice.client.id() == Some(PeerId(1)));
}

#[test]
fn messages_survive_loss_duplication_reordering_and_a_server_outage() {
    let seeds = std::env::var("PEERCHAT_CLIENT_SIM_SEEDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(40u64);
    for seed in 1..=seeds {
        run(seed);
    }
}
