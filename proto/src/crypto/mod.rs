//! Version 2's cryptography: identities, the peer channel (UDP), the control channel
//! (TCP), and what people compare. Like the rest of the core it does no I/O, reads no
//! clock, never allocates and takes its randomness from the caller ([`CryptoRng`]: the
//! OS generator on a desktop, the platform's generator on a device).
//!
//! | module | owns |
//! | --- | --- |
//! | [`keys`] | X25519 key pairs from caller randomness; secrets wiped on drop |
//! | [`identity`] | [`Fingerprint`] and [`SafetyNumber`] |
//! | [`channel`] | [`PeerChannel`]: the IK handshake, sessions, sealing, replay window, timers, roaming |
//! | [`guard`] | [`HandshakeGuard`]: `mac1`, cookies and budgets in front of every channel |
//! | [`control_channel`] | the XX handshake with server pinning, and the sealed control stream |
//! | [`replay`] | RFC 6479's anti-replay window |
//! | `noise` | Noise's `SymmetricState` and `HandshakeState` (checked with the cacophony vectors) |
//! | `primitives`, `cookie`, [`Budget`] | the glue to the crates below, WireGuard's MACs, rate budgets |
//!
//! The bytes these produce are in `crate::wire::v2_peer` and `crate::wire::v2_control`,
//! and in `docs/PROTOCOL-v2-crypto.md` with golden vectors.
//!
//! # Which crates, and why
//!
//! Every primitive comes from a crate; nothing here is a primitive written by hand.
//!
//! - **X25519**: `x25519-dalek` 3 (on `curve25519-dalek` 5, audited by Quarkslab in 2019;
//!   constant time, `no_std`, zeroizes its secrets).
//! - **AEAD**: `chacha20poly1305` 0.11 (RustCrypto; audited by NCC Group in 2020, no
//!   significant findings): ChaCha20-Poly1305 for packets and frames, XChaCha20-Poly1305
//!   for cookie replies.
//! - **Hash**: BLAKE2s from `blake2` 0.11, with `hmac` 0.13 for Noise's HMAC/HKDF. Noise
//!   allows only BLAKE2s, BLAKE2b, SHA-256 or SHA-512; BLAKE3 (which the core uses for
//!   files) is none of them, so using it would forfeit the published test vectors and
//!   Noise's analysis. BLAKE2s is WireGuard's choice and works on 32-bit words, which
//!   suits a Cortex-M. Neither crate has had an audit of its own; both are the ones
//!   WireGuard's Rust implementation (boringtun) uses.
//!
//! All are `no_std` without allocation and zeroize on drop.
//!
//! **Why not `clatter`** (2.3, the `no_std` Noise crate). It is maintained, `no_std` and
//! allocation-free, supports every Noise pattern (and post-quantum hybrids), and uses
//! RustCrypto and dalek underneath. But:
//! - its transport (`TransportState`) is Noise's `CipherState`: an implicit nonce bumped
//!   on every message, so packet *n* opens only after packets 0 to *n − 1*; one lost or
//!   reordered UDP datagram breaks the session. Its `take()`/`set_nonce()` escape hatch
//!   hands out the raw keys, and then the transport (explicit counters, the replay
//!   window, the header as associated data) is ours anyway;
//! - it creates its random generator with `Default` inside the handshake, which a sans-IO
//!   core that takes randomness from its host cannot use without a global;
//! - its README says it has not been audited, and it brings a second set of RustCrypto
//!   majors (`x25519-dalek` 2, `chacha20poly1305` 0.10, `rand_core` 0.6) with
//!   `arrayvec`, `thiserror-no-std` and `displaydoc`;
//! - it panics on some inputs (a message over 64 KiB) inside library code.
//!
//! `snow` needs `alloc`. So Peerchat follows **WireGuard's design** built from the crates
//! above: Noise IK for the peer handshake, explicit 64-bit counters and an RFC 6479 window
//! for packets, WireGuard's `mac1`/cookie defence and its timers. The Noise part is the
//! specification's `SymmetricState` and `HandshakeState` (a few hundred lines), checked
//! byte for byte against the cacophony test vectors of both patterns it runs (`IK` and
//! `XX`), and RFC 8439 and RFC 7748 vectors check the AEAD wrapping and X25519. Where
//! Peerchat departs from WireGuard it says so ([`channel`]: key epochs in place of
//! receiver indices and of the TAI64N timestamp, which needs a wall clock the core does
//! not have).

mod budget;
pub mod channel;
pub mod control_channel;
mod cookie;
pub mod guard;
pub mod identity;
pub mod keys;
mod noise;
pub(crate) mod primitives;
pub mod replay;

#[cfg(test)]
mod noise_vectors;

pub use budget::Budget;
pub use channel::{
    ChannelEvent, ChannelStats, ChannelTransmit, HandshakeError, OpenError, Opened, PeerChannel,
    SealError,
};
pub use control_channel::{
    ControlCipher, ControlClientHandshake, ControlHandshakeError, ControlOpenError,
    ControlServerHandshake, ServerPin,
};
pub use cookie::COOKIE_SECRET_LIFETIME;
pub use guard::{Admission, GuardConfig, GuardDrop, GuardStats, HandshakeGuard, HandshakeTicket};
pub use identity::{Fingerprint, SafetyNumber};
pub use keys::{Keypair, PublicKey};
pub use rand_core::CryptoRng;
pub use replay::{ReplayError, ReplayWindow};
