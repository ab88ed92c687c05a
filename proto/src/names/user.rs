//! Login-name rules: 1–32 bytes of `[A-Za-z0-9_.-]`, unique case-insensitively while
//! online. This module owns the rule, the case-insensitive comparison and hash that the
//! directory and the roster use, and [`UserName`], a fixed-size copy of a valid name.

use crate::wire::MAX_NAME_LEN;

/// Why a login name was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum NameError {
    /// The name is empty.
    Empty,
    /// The name is longer than [`MAX_NAME_LEN`] bytes.
    TooLong,
    /// Byte `index` is not one of `A-Z a-z 0-9 _ . -`.
    BadChar {
        /// Position of the first offending byte.
        index: usize,
    },
}

impl core::fmt::Display for NameError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            NameError::Empty => f.write_str("name is empty"),
            NameError::TooLong => write!(f, "name is longer than {MAX_NAME_LEN} bytes"),
            NameError::BadChar { index } => write!(
                f,
                "name has a character other than A-Z a-z 0-9 _ . - at byte {index}"
            ),
        }
    }
}

impl core::error::Error for NameError {}

/// Whether `b` may appear in a login name.
pub const fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-')
}

/// Checks `name` against the login-name rules.
pub fn validate(name: &str) -> Result<(), NameError> {
    let bytes = name.as_bytes();
    if bytes.is_empty() {
        return Err(NameError::Empty);
    }
    if bytes.len() > MAX_NAME_LEN {
        return Err(NameError::TooLong);
    }
    match bytes.iter().position(|&b| !is_name_byte(b)) {
        Some(index) => Err(NameError::BadChar { index }),
        None => Ok(()),
    }
}

/// Whether two names are the same login (ASCII case-insensitive).
pub fn same_name(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// A case-insensitive 64-bit hash of `name` (FNV-1a over lower-cased bytes, then mixed
/// with `seed` so a remote user cannot aim collisions at one bucket without knowing it).
pub fn name_hash(name: &str, seed: u64) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ seed;
    for &b in name.as_bytes() {
        h ^= u64::from(b.to_ascii_lowercase());
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    mix64(h)
}

/// A strong 64-bit finaliser (splitmix64's).
pub(crate) const fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A valid login name stored inline (33 bytes, `Copy`), as it was typed.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct UserName {
    len: u8,
    bytes: [u8; MAX_NAME_LEN],
}

impl UserName {
    /// The empty placeholder of unused table slots; never a valid login.
    pub const EMPTY: UserName = UserName {
        len: 0,
        bytes: [0; MAX_NAME_LEN],
    };

    /// Checks and copies `name`.
    pub fn new(name: &str) -> Result<Self, NameError> {
        validate(name)?;
        let mut bytes = [0; MAX_NAME_LEN];
        bytes[..name.len()].copy_from_slice(name.as_bytes());
        Ok(UserName {
            len: name.len() as u8,
            bytes,
        })
    }

    /// The name as typed.
    pub fn as_str(&self) -> &str {
        // Only `new` writes the bytes, after `validate` proved them ASCII.
        core::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or("")
    }

    /// Whether this is the same login as `other` (case-insensitively).
    pub fn same_as(&self, other: &str) -> bool {
        same_name(self.as_str(), other)
    }
}

impl core::fmt::Debug for UserName {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        core::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl core::fmt::Display for UserName {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for UserName {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "{=str}", self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_allowed_alphabet() {
        assert_eq!(validate("a"), Ok(()));
        assert_eq!(validate("Alice_B.c-9"), Ok(()));
        assert_eq!(validate(&"x".repeat(32)), Ok(()));
    }

    #[test]
    fn refuses_empty_long_and_foreign_bytes() {
        assert_eq!(validate(""), Err(NameError::Empty));
        assert_eq!(validate(&"x".repeat(33)), Err(NameError::TooLong));
        assert_eq!(validate("bob smith"), Err(NameError::BadChar { index: 3 }));
        assert_eq!(validate("é"), Err(NameError::BadChar { index: 0 }));
        assert_eq!(validate("a/b"), Err(NameError::BadChar { index: 1 }));
        assert_eq!(UserName::new("a\n"), Err(NameError::BadChar { index: 1 }));
    }

    #[test]
    fn comparison_and_hash_ignore_case() {
        assert!(same_name("Alice", "aLICE"));
        assert!(!same_name("alice", "alice2"));
        assert_eq!(name_hash("Alice", 7), name_hash("ALICE", 7));
        assert_ne!(name_hash("alice", 7), name_hash("alice", 8));
        assert_ne!(name_hash("alice", 7), name_hash("bob", 7));
    }

    #[test]
    fn user_name_keeps_the_typed_case() {
        let n = UserName::new("Bob.K").unwrap();
        assert_eq!(n.as_str(), "Bob.K");
        assert!(n.same_as("bob.k"));
        assert_eq!(UserName::EMPTY.as_str(), "");
    }
}
