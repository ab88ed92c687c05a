//! Version 2's cryptography (placeholder doc, completed below).

pub mod keys;
mod noise;
mod primitives;

#[cfg(test)]
mod noise_vectors;

pub use keys::{Keypair, PublicKey};
