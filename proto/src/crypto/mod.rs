//! Version 2's cryptography (placeholder doc, completed below).

pub mod keys;
mod noise;
mod primitives;
pub mod replay;

#[cfg(test)]
mod noise_vectors;

pub use keys::{Keypair, PublicKey};
