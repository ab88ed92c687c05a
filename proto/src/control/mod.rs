//! The control channel (client ↔ directory server over TCP), one state machine per end:
//! [`client::Client`] for a user's connection and [`server::Server`], the whole
//! directory server node (peer table, every connection, fan-out of changes).

pub mod client;
pub mod server;
