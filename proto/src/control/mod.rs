//! Per-connection control-channel state machines, one for each end.

pub mod client;
pub mod server;
