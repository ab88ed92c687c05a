//! Deterministic simulation: sans-IO nodes, a virtual clock and a seeded network that
//! loses, duplicates, reorders and delays datagrams (in the spirit of quinn-proto's
//! `Pair` and str0m's netem).
//!
//! - [`SimRng`]: the only randomness, from a seed.
//! - [`Network`] / [`NetConfig`]: the emulated network; nodes can go down and come back;
//!   tests can inject forged or garbage datagrams; [`Nats`] put LANs behind routers that
//!   map and filter as real NATs do ([`NatConfig`]).
//! - [`World`]: nodes implementing [`Node`] on one network under one clock. It is generic:
//!   the chat tests use [`ChatNode`]; file-transfer tests can wrap their own node.
//! - [`PathNode`]: clients behind NATs that find paths to each other (hole punching,
//!   keepalives, the relay) and the directory that helps them, over a [`ControlBus`].
//! - [`ClusterSim`]: a directory cluster — server cores in cluster mode, a model of
//!   the store ([`SimStore`]) and failing-over clients — with its change stream carried
//!   over a [`Network`].
//! - [`SecureNode`] / [`Attacker`]: a chat node whose datagrams are sealed by version 2's
//!   peer channels, and an active attacker that sees every datagram through the
//!   network's tap and injects altered, replayed, forged and flooding ones.
//! - [`run_seeds`]: runs a scenario over many seeds; a failure prints its seed, and
//!   `SIM_SEED=<seed>` replays just that one; `SIM_SEEDS=<n>` runs seeds `0..n` instead
//!   of each scenario's default count (a soak run).

mod attacker;
mod chat;
mod cluster;
mod nat;
mod net;
mod paths;
mod rng;
mod secure;
mod store;
mod world;

pub use attacker::{AttackStats, Attacker};
pub use chat::{ChatNode, Record, SimEndpoint};
pub use cluster::{ClusterSim, CLUSTER_HEARTBEAT};
pub use nat::{Filtering, Mapping, NatConfig, NatStats, Nats};
pub use net::{InFlight, NetConfig, NetStats, Network};
pub use paths::{
    Bus, BusEnd, ControlBus, PathClient, PathDirectory, PathLog, PathNode, PathPeer, PATH_HOLD,
};
pub use rng::SimRng;
pub use secure::{Listing, SecureNode, SecureStats, HOLD, OUTBOX};
pub use store::SimStore;
pub use world::{Node, World};

use core::panic::AssertUnwindSafe;
use std::panic::{catch_unwind, resume_unwind};

/// The seeds to run: `SIM_SEED` alone if set, else `0..SIM_SEEDS` if set (a longer soak
/// run), else `0..count`.
pub fn seeds(count: u64) -> Vec<u64> {
    let var = |name| {
        std::env::var(name)
            .ok()
            .map(|s: String| s.trim().to_owned())
    };
    if let Some(seed) = var("SIM_SEED") {
        return vec![seed.parse().expect("SIM_SEED must be a u64")];
    }
    let count = var("SIM_SEEDS").map_or(count, |n| n.parse().expect("SIM_SEEDS must be a u64"));
    (0..count).collect()
}

/// Runs `scenario` for every seed of [`seeds`]; on a failure prints how to replay it and
/// fails with the scenario's own message.
pub fn run_seeds(name: &str, count: u64, mut scenario: impl FnMut(u64)) {
    for seed in seeds(count) {
        if let Err(panic) = catch_unwind(AssertUnwindSafe(|| scenario(seed))) {
            eprintln!("simulation `{name}` failed with seed {seed}: replay with SIM_SEED={seed}");
            resume_unwind(panic);
        }
    }
}
