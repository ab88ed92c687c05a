//! Shared helpers for Peerchat end-to-end tests, simulation and benchmarks.

pub mod bench;
pub mod client;
pub mod client_bench;
pub mod netns;
pub mod procs;
pub mod sim;
