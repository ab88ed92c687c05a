//! # peerchat-proto
//!
//! The protocol core of Peerchat: a `no_std`, allocation-free, sans-IO implementation of
//! everything Peerchat says on the wire and every decision it makes about it.
//!
//! **What it does not do.** It opens no socket, reads no clock, spawns nothing, sleeps
//! never and never allocates. Randomness comes in as seeds from the host.
//!
//! **How a host drives it.** Every state machine has two verb families:
//! - input goes in through `handle_*(now, …)` (bytes received, a user command, a timeout);
//! - output is pulled: `poll_transmit(now, buf)` writes the next datagram or frame into
//!   a caller-owned buffer, `poll_event()` yields what the application must learn, and
//!   `poll_timeout()` says when to call `handle_timeout(now)` next.
//!
//! A host reads its sockets, calls `handle_*`, drains `poll_transmit` and `poll_event`
//! until they return `None`, and sleeps until `poll_timeout()`. Time is [`time::Instant`],
//! microseconds since an origin the host picks.
//!
//! **Modules.** [`wire`] is the version-1 wire format and its limits (and the new units of
//! version 2); [`time`] the clock types; [`link`] reliable, ordered chat with one peer;
//! [`endpoint`] every chat link of one client over one UDP socket; [`crypto`] version 2's
//! identities, handshakes and sealed packets and frames; [`cluster`] the records and
//! change feed of a directory cluster (the server node's cluster mode lives in
//! [`control::server`]); [`path`] how datagrams reach a peer through NATs (hole punching,
//! keepalives, the relay of last resort).
#![no_std]
#![forbid(unsafe_code)]

pub mod client;
pub mod cluster;
pub mod control;
pub mod crypto;
pub mod directory;
pub mod endpoint;
pub mod link;
pub mod names;
mod num;
pub mod path;
pub mod roster;
pub mod time;
// The table's whole interface; not every part has a user in every build.
#[allow(dead_code)]
mod timer;
pub mod transfer;
pub mod wire;

pub use time::{Duration, Instant};
