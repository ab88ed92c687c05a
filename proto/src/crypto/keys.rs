//! X25519 key pairs: a user's or a server's long-term identity, and the ephemeral keys
//! of each handshake. Secrets come from the caller's randomness and are wiped on drop.

use core::fmt::Write;

use rand_core::CryptoRng;
use x25519_dalek::StaticSecret;
use zeroize::Zeroizing;

use super::primitives::{Secret, KEY_LEN};

/// An X25519 public key: a user's or a server's identity on the wire.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct PublicKey(pub [u8; KEY_LEN]);

impl PublicKey {
    /// The key's 32 bytes.
    pub const fn as_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    /// Parses 64 hexadecimal digits (either case), as [`Display`](core::fmt::Display)
    /// writes them.
    pub fn from_hex(text: &str) -> Option<PublicKey> {
        let text = text.as_bytes();
        if text.len() != 2 * KEY_LEN {
            return None;
        }
        let mut key = [0u8; KEY_LEN];
        for (byte, pair) in key.iter_mut().zip(text.chunks_exact(2)) {
            *byte = hex_digit(pair[0])? << 4 | hex_digit(pair[1])?;
        }
        Some(PublicKey(key))
    }
}

fn hex_digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Writes `bytes` as lowercase hexadecimal.
pub(crate) fn write_hex(f: &mut core::fmt::Formatter<'_>, bytes: &[u8]) -> core::fmt::Result {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for &b in bytes {
        f.write_char(char::from(DIGITS[usize::from(b >> 4)]))?;
        f.write_char(char::from(DIGITS[usize::from(b & 15)]))?;
    }
    Ok(())
}

impl core::fmt::Display for PublicKey {
    /// 64 lowercase hexadecimal digits.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write_hex(f, &self.0)
    }
}

impl core::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("PublicKey(")?;
        write_hex(f, &self.0)?;
        f.write_str(")")
    }
}

/// An X25519 key pair. The secret is wiped when the pair is dropped and never printed.
#[derive(Clone)]
pub struct Keypair {
    secret: StaticSecret,
    public: PublicKey,
}

impl Keypair {
    /// The pair whose secret scalar is `bytes` (clamped by X25519 when used), for keys
    /// read back from storage and for test vectors.
    pub fn from_secret_bytes(bytes: [u8; KEY_LEN]) -> Keypair {
        let bytes = Zeroizing::new(bytes);
        let secret = StaticSecret::from(*bytes);
        // X25519 with the base point (RFC 7748 §6.1): the Montgomery ladder that every
        // Diffie-Hellman uses anyway, rather than `PublicKey::from(&StaticSecret)`, whose
        // Edwards-curve code would add kilobytes to a device image for the same result.
        let public = PublicKey(x25519_dalek::x25519(
            *bytes,
            x25519_dalek::X25519_BASEPOINT_BYTES,
        ));
        Keypair { secret, public }
    }

    /// A new pair from 32 bytes of the caller's cryptographic randomness (the OS
    /// generator on a desktop, the platform's generator on a device).
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Keypair {
        let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
        rng.fill_bytes(&mut bytes[..]);
        Keypair::from_secret_bytes(*bytes)
    }

    /// The public half.
    pub const fn public(&self) -> &PublicKey {
        &self.public
    }

    /// The secret's bytes, for the host to store (mode 0600) and nothing else.
    pub fn secret_bytes(&self) -> Zeroizing<[u8; KEY_LEN]> {
        Zeroizing::new(self.secret.to_bytes())
    }

    /// X25519 with `peer`; `None` when the result is all zeros (a low-order point: the
    /// peer contributed nothing, so the handshake must fail).
    pub(crate) fn dh(&self, peer: &PublicKey) -> Option<Secret> {
        let shared = self
            .secret
            .diffie_hellman(&x25519_dalek::PublicKey::from(peer.0));
        shared
            .was_contributory()
            .then(|| Zeroizing::new(shared.to_bytes()))
    }
}

impl core::fmt::Debug for Keypair {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Keypair")
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    extern crate std;

    use std::format;

    use super::*;

    /// RFC 7748 §6.1: Alice's and Bob's keys and their shared secret.
    #[test]
    fn rfc7748_diffie_hellman() {
        let unhex = |s: &str| -> [u8; 32] { hex::decode(s).unwrap().try_into().unwrap() };
        let alice = Keypair::from_secret_bytes(unhex(
            "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
        ));
        let bob = Keypair::from_secret_bytes(unhex(
            "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb",
        ));
        assert_eq!(
            alice.public().0,
            unhex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")
        );
        assert_eq!(
            bob.public().0,
            unhex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f")
        );
        let shared = unhex("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
        assert_eq!(*alice.dh(bob.public()).unwrap(), shared);
        assert_eq!(*bob.dh(alice.public()).unwrap(), shared);
    }

    #[test]
    fn low_order_points_are_refused() {
        let pair = Keypair::from_secret_bytes([0x42; 32]);
        assert!(pair.dh(&PublicKey([0; 32])).is_none());
        let mut one = [0u8; 32];
        one[0] = 1;
        assert!(pair.dh(&PublicKey(one)).is_none());
    }

    #[test]
    fn hex_round_trip_and_no_secret_in_debug() {
        let pair = Keypair::from_secret_bytes([0x42; 32]);
        let text = format!("{}", pair.public());
        assert_eq!(text.len(), 64);
        assert_eq!(PublicKey::from_hex(&text), Some(*pair.public()));
        assert_eq!(
            PublicKey::from_hex(&text.to_uppercase()),
            Some(*pair.public())
        );
        assert_eq!(PublicKey::from_hex(&text[1..]), None);
        assert_eq!(PublicKey::from_hex(&format!("{}g", &text[1..])), None);
        let debug = format!("{pair:?}");
        assert!(!debug.contains("42424242"));
        assert!(debug.contains(&format!("{}", pair.public())));
        assert_eq!(pair.secret_bytes()[..], [0x42; 32]);
    }
}
