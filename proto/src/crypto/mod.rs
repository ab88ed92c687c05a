//! Version 2's cryptography (placeholder doc, completed below).

mod budget;
pub mod channel;
pub mod control_channel;
mod cookie;
pub use cookie::COOKIE_SECRET_LIFETIME;
pub mod guard;
pub mod identity;
pub mod keys;
mod noise;
mod primitives;
pub mod replay;

#[cfg(test)]
mod noise_vectors;

pub use budget::Budget;
pub use channel::{
    ChannelEvent, ChannelStats, ChannelTransmit, HandshakeError, OpenError, Opened, PeerChannel,
    SealError,
};
pub use guard::{Admission, GuardConfig, GuardDrop, GuardStats, HandshakeGuard, HandshakeTicket};
pub use identity::{Fingerprint, SafetyNumber};
pub use keys::{Keypair, PublicKey};
pub use rand_core::CryptoRng;
pub use replay::{ReplayError, ReplayWindow};
