//! Shared helpers for Peerchat end-to-end tests, simulation and benchmarks.

pub mod procs;
