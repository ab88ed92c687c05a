//! The Peerchat rows: a `peerchat-server` and two `peerchat --json` clients (release
//! builds); `/send bob PATH` on alice, timed until bob prints `file_received`.

use core::time::Duration;
use std::path::Path;
use std::time::Instant;

use serde_json::Value;

use super::loss::Firewall;
use super::{checked, left, Outcome, Setup, LOSS};
use crate::client::{chat_room, ChatClient};
use crate::procs::cpu_secs;

/// Sends the source from alice to bob (with random loss through `loss` if given);
/// adds a note on where the time went.
pub(super) fn send(setup: &Setup<'_>, loss: Option<&Firewall>, notes: &mut Vec<String>) -> Outcome {
    let label = if loss.is_some() {
        "with loss"
    } else {
        "no loss"
    };
    eprintln!("bench files: Peerchat ({label})");
    let (_server, mut c) = chat_room(&["alice", "bob"]);
    let mut rules = loss.map(Firewall::rules);
    if let Some(rules) = rules.as_mut() {
        for client in &c {
            let port = client.udp.expect("ready seen").port();
            if let Err(why) = rules.drop_random("udp", "--dport", port, LOSS) {
                return Outcome::Skipped(format!("iptables: {why}"));
            }
        }
    }
    let (cpu_alice, cpu_bob) = (cpu_secs(c[0].pid()), cpu_secs(c[1].pid()));
    let start = Instant::now();
    let end = start + setup.limit;
    c[0].command(&format!("/send bob {}", setup.source.path.display()));
    let (alice, bob) = c.split_at_mut(1);
    let result = wait_arrival(&mut alice[0], &mut bob[0], end);
    let took = start.elapsed();
    drop(rules);
    match result {
        Arrival::Received { path, offered } => {
            notes.push(format!(
                "Peerchat ({label}): bob saw the offer after {:.2} s, the file after {:.2} s; \
                 CPU during the transfer: sender {:.2} s, receiver {:.2} s.",
                offered.unwrap_or_default().as_secs_f64(),
                took.as_secs_f64(),
                cpu_secs(alice[0].pid()) - cpu_alice,
                cpu_secs(bob[0].pid()) - cpu_bob,
            ));
            let outcome = checked(setup.source, Path::new(&path), took);
            let _ = std::fs::remove_file(&path);
            outcome
        }
        Arrival::Failed(why) => Outcome::Failed(why),
        Arrival::Timeout => Outcome::Timeout,
    }
}

enum Arrival {
    Received {
        path: String,
        offered: Option<Duration>,
    },
    Failed(String),
    Timeout,
}

/// Reads both clients' events until bob has the file, either side reports a failure,
/// or `end` passes.
fn wait_arrival(alice: &mut ChatClient, bob: &mut ChatClient, end: Instant) -> Arrival {
    let start = Instant::now();
    let mut offered = None;
    loop {
        let Some(wait) = left(end) else {
            return Arrival::Timeout;
        };
        while let Some(event) = alice.next_event(Duration::ZERO) {
            if let Some(why) = failure(&event) {
                return Arrival::Failed(format!("sender: {why}"));
            }
            alice.seen.clear();
        }
        let Some(event) = bob.next_event(wait.min(Duration::from_millis(100))) else {
            continue;
        };
        bob.seen.clear();
        match event["event"].as_str() {
            Some("file_offered") => offered = Some(start.elapsed()),
            Some("file_received") => {
                let path = event["path"].as_str().unwrap_or_default().to_owned();
                return Arrival::Received { path, offered };
            }
            _ => {
                if let Some(why) = failure(&event) {
                    return Arrival::Failed(format!("receiver: {why}"));
                }
            }
        }
    }
}

/// The reason if `event` says the transfer failed.
fn failure(event: &Value) -> Option<String> {
    match event["event"].as_str() {
        Some("file_failed") => Some(event["reason"].as_str().unwrap_or("?").to_owned()),
        Some("error") => Some(event["message"].as_str().unwrap_or("?").to_owned()),
        _ => None,
    }
}
