//! What people compare: a key's [`Fingerprint`] (shown at start, pinned with
//! `--server-key`, listed with each peer) and the [`SafetyNumber`] of two keys, which two
//! users read to each other out of band, as Signal's safety numbers.
//!
//! Both are computed from public keys only, with BLAKE2s under their own labels, and both
//! print without `core::fmt`'s number formatting (a device logs them as text).

use core::fmt::Write;

use super::keys::{write_hex, PublicKey};
use super::primitives::hash;

/// Label of a fingerprint's hash.
const FINGERPRINT_LABEL: &[u8] = b"peerchat v2 fingerprint";
/// Label of one half of a safety number.
const SAFETY_LABEL: &[u8] = b"peerchat v2 safety number";

/// Bytes of a fingerprint: 128 bits of BLAKE2s.
pub const FINGERPRINT_LEN: usize = 16;

/// A key's fingerprint: the first 16 bytes of `BLAKE2s("peerchat v2 fingerprint" ‖ key)`,
/// written as eight groups of four hexadecimal digits (`9f3c-1a2b-…`).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Fingerprint(pub [u8; FINGERPRINT_LEN]);

impl Fingerprint {
    /// The fingerprint of `key`.
    pub fn of(key: &PublicKey) -> Fingerprint {
        let digest = hash(&[FINGERPRINT_LABEL, key.as_bytes()]);
        let mut fp = [0u8; FINGERPRINT_LEN];
        fp.copy_from_slice(&digest[..FINGERPRINT_LEN]);
        Fingerprint(fp)
    }

    /// Parses what [`Display`](core::fmt::Display) writes: 32 hexadecimal digits, in
    /// either case, with or without the dashes.
    pub fn parse(text: &str) -> Option<Fingerprint> {
        let mut fp = [0u8; FINGERPRINT_LEN];
        let mut digits = text.bytes().filter(|&c| c != b'-');
        for byte in &mut fp {
            let hi = hex_value(digits.next()?)?;
            let lo = hex_value(digits.next()?)?;
            *byte = hi << 4 | lo;
        }
        digits.next().is_none().then_some(Fingerprint(fp))
    }
}

fn hex_value(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

impl core::fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        for (i, pair) in self.0.chunks_exact(2).enumerate() {
            if i > 0 {
                f.write_str("-")?;
            }
            write_hex(f, pair)?;
        }
        Ok(())
    }
}

impl core::fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Fingerprint(")?;
        core::fmt::Display::fmt(self, f)?;
        f.write_str(")")
    }
}

/// Digits in one half of a safety number: six groups of five.
const HALF_DIGITS: usize = 30;

/// The safety number of two keys: 60 digits, shown as 12 groups of 5.
///
/// Each key gives 30 digits: the 32-byte `BLAKE2s("peerchat v2 safety number" ‖ key)`,
/// cut into six 5-byte big-endian numbers, each reduced modulo 100 000. The two halves
/// are written smaller first, so both users see the same number whoever computes it. A
/// different key on either side changes its half (about 100 bits: no one can make a key
/// whose half matches another's).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct SafetyNumber {
    digits: [u8; 2 * HALF_DIGITS],
}

impl SafetyNumber {
    /// The safety number of `ours` and `theirs` (the order does not matter).
    pub fn of(ours: &PublicKey, theirs: &PublicKey) -> SafetyNumber {
        let (a, b) = (half(ours), half(theirs));
        let (first, second) = if a <= b { (a, b) } else { (b, a) };
        let mut digits = [0u8; 2 * HALF_DIGITS];
        digits[..HALF_DIGITS].copy_from_slice(&first);
        digits[HALF_DIGITS..].copy_from_slice(&second);
        SafetyNumber { digits }
    }

    /// The 60 digits as ASCII.
    pub fn digits(&self) -> &[u8; 2 * HALF_DIGITS] {
        &self.digits
    }
}

/// One key's 30 digits, as ASCII.
fn half(key: &PublicKey) -> [u8; HALF_DIGITS] {
    let digest = hash(&[SAFETY_LABEL, key.as_bytes()]);
    let mut out = [b'0'; HALF_DIGITS];
    for (group, chunk) in out.chunks_exact_mut(5).zip(digest.chunks_exact(5)) {
        let mut value = chunk.iter().fold(0u64, |v, &b| v << 8 | u64::from(b)) % 100_000;
        for digit in group.iter_mut().rev() {
            // `value % 10` is a single decimal digit.
            *digit = b'0' + (value % 10) as u8;
            value /= 10;
        }
    }
    out
}

impl core::fmt::Display for SafetyNumber {
    /// `12345 67890 …`: 12 groups of 5 digits separated by spaces.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        for (i, group) in self.digits.chunks_exact(5).enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            for &digit in group {
                f.write_char(char::from(digit))?;
            }
        }
        Ok(())
    }
}

impl core::fmt::Debug for SafetyNumber {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("SafetyNumber(")?;
        core::fmt::Display::fmt(self, f)?;
        f.write_str(")")
    }
}

#[cfg(test)]
mod tests {
    extern crate std;

    use std::format;
    use std::string::ToString;

    use super::*;
    use crate::crypto::Keypair;

    fn key(byte: u8) -> PublicKey {
        *Keypair::from_secret_bytes([byte; 32]).public()
    }

    #[test]
    fn fingerprint_prints_and_parses() {
        let fp = Fingerprint::of(&key(1));
        let text = fp.to_string();
        assert_eq!(text.len(), 39);
        assert_eq!(text.matches('-').count(), 7);
        assert_eq!(Fingerprint::parse(&text), Some(fp));
        assert_eq!(
            Fingerprint::parse(&text.replace('-', "").to_uppercase()),
            Some(fp)
        );
        assert_eq!(Fingerprint::parse(&text[..38]), None);
        assert_eq!(Fingerprint::parse(&format!("{text}0")), None);
        assert_eq!(Fingerprint::parse(&format!("g{}", &text[1..])), None);
        assert_ne!(Fingerprint::of(&key(2)), fp);
    }

    #[test]
    fn safety_number_is_symmetric_and_changes_with_either_key() {
        let (a, b, c) = (key(1), key(2), key(3));
        let ab = SafetyNumber::of(&a, &b);
        assert_eq!(ab, SafetyNumber::of(&b, &a));
        assert_ne!(ab, SafetyNumber::of(&a, &c));
        assert_ne!(ab, SafetyNumber::of(&c, &b));
        let text = ab.to_string();
        let groups: std::vec::Vec<&str> = text.split(' ').collect();
        assert_eq!(groups.len(), 12);
        assert!(groups
            .iter()
            .all(|g| g.len() == 5 && g.bytes().all(|d| d.is_ascii_digit())));
        // Each side's half is the same in every number it is part of.
        let ac = SafetyNumber::of(&a, &c);
        let half_a = half(&a);
        for n in [ab, ac] {
            assert!(n.digits()[..30] == half_a || n.digits()[30..] == half_a);
        }
    }
}
