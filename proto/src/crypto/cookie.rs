//! WireGuard's `mac1`, `mac2` and cookie construction (whitepaper §5.4.4 and §5.4.7),
//! shared by the side that checks them ([`super::guard`]) and the side that writes them
//! ([`super::channel`]).
//!
//! - `mac1 = MAC(HASH("mac1----" ‖ receiver's key), message up to mac1)`: anyone may
//!   compute it, but only someone who knows the receiver's key, so random bytes cost the
//!   receiver one BLAKE2s and nothing more.
//! - `cookie = MAC(secret, source IP ‖ port)`, where the receiver's `secret` changes every
//!   [`COOKIE_SECRET_LIFETIME`]; it reaches the sender sealed with XChaCha20-Poly1305 under
//!   `HASH("cookie--" ‖ receiver's key)`, with the refused message's `mac1` as associated
//!   data.
//! - `mac2 = MAC(cookie, message up to mac2)`, or zeros without a fresh cookie: proof that
//!   the sender receives datagrams at its source address.

use core::net::SocketAddr;

use super::keys::PublicKey;
use super::primitives::{self, hash, mac16, AuthFailed, KEY_LEN, MAC_LEN, TAG_LEN, XNONCE_LEN};
use crate::time::Duration;

/// How long a responder's cookie secret lives, and how long a received cookie is used.
pub const COOKIE_SECRET_LIFETIME: Duration = Duration::from_secs(120);

const LABEL_MAC1: &[u8] = b"mac1----";
const LABEL_COOKIE: &[u8] = b"cookie--";

/// The two keys every handshake message to the holder of one static key needs.
#[derive(Clone)]
pub(crate) struct MacKeys {
    mac1: [u8; KEY_LEN],
    cookie: [u8; KEY_LEN],
}

impl MacKeys {
    /// The keys for messages to the holder of `key`.
    pub(crate) fn new(key: &PublicKey) -> Self {
        MacKeys {
            mac1: hash(&[LABEL_MAC1, key.as_bytes()]),
            cookie: hash(&[LABEL_COOKIE, key.as_bytes()]),
        }
    }

    /// `mac1` of `covered`.
    pub(crate) fn mac1(&self, covered: &[u8]) -> [u8; MAC_LEN] {
        mac16(&self.mac1, &[covered])
    }

    /// Whether `mac1` is right for `covered` (constant time).
    pub(crate) fn verify_mac1(&self, covered: &[u8], mac1: &[u8]) -> Result<(), AuthFailed> {
        primitives::mac16_verify(&self.mac1, &[covered], mac1)
    }

    /// Seals `cookie` for a cookie reply: returns ciphertext ‖ tag.
    pub(crate) fn seal_cookie(
        &self,
        cookie: &[u8; MAC_LEN],
        nonce: &[u8; XNONCE_LEN],
        mac1: &[u8],
    ) -> [u8; MAC_LEN + TAG_LEN] {
        let mut out = [0u8; MAC_LEN + TAG_LEN];
        out[..MAC_LEN].copy_from_slice(cookie);
        let tag = primitives::xseal(&self.cookie, nonce, mac1, &mut out[..MAC_LEN]);
        out[MAC_LEN..].copy_from_slice(&tag);
        out
    }

    /// Opens a cookie reply's sealed cookie, given the `mac1` of the message it answers.
    pub(crate) fn open_cookie(
        &self,
        sealed: &[u8; MAC_LEN + TAG_LEN],
        nonce: &[u8; XNONCE_LEN],
        mac1: &[u8],
    ) -> Result<[u8; MAC_LEN], AuthFailed> {
        let mut cookie = [0u8; MAC_LEN];
        cookie.copy_from_slice(&sealed[..MAC_LEN]);
        let mut tag = [0u8; TAG_LEN];
        tag.copy_from_slice(&sealed[MAC_LEN..]);
        primitives::xopen(&self.cookie, nonce, mac1, &mut cookie, &tag)?;
        Ok(cookie)
    }
}

/// `mac2` of `covered` with `cookie`, or zeros without one.
pub(crate) fn mac2(cookie: Option<&[u8; MAC_LEN]>, covered: &[u8]) -> [u8; MAC_LEN] {
    cookie.map_or([0; MAC_LEN], |c| mac16(c, &[covered]))
}

/// The bytes a cookie binds: the IP address (4 or 16 bytes), then the port, big-endian.
pub(crate) fn source_bytes(src: SocketAddr) -> ([u8; 18], usize) {
    let mut out = [0u8; 18];
    let len = match src {
        SocketAddr::V4(a) => {
            out[..4].copy_from_slice(&a.ip().octets());
            4
        }
        SocketAddr::V6(a) => {
            out[..16].copy_from_slice(&a.ip().octets());
            16
        }
    };
    out[len..len + 2].copy_from_slice(&src.port().to_be_bytes());
    (out, len + 2)
}

/// The cookie for `src` under `secret`.
pub(crate) fn cookie_for(secret: &[u8; KEY_LEN], src: SocketAddr) -> [u8; MAC_LEN] {
    let (bytes, len) = source_bytes(src);
    mac16(secret, &[&bytes[..len]])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cookie_opens_only_with_the_right_mac1() {
        let keys = MacKeys::new(&PublicKey([5; 32]));
        let cookie = cookie_for(&[1; 32], "192.0.2.1:4000".parse().unwrap());
        let sealed = keys.seal_cookie(&cookie, &[2; 24], &[3; 16]);
        assert_eq!(keys.open_cookie(&sealed, &[2; 24], &[3; 16]), Ok(cookie));
        assert!(keys.open_cookie(&sealed, &[2; 24], &[4; 16]).is_err());
        let other = MacKeys::new(&PublicKey([6; 32]));
        assert!(other.open_cookie(&sealed, &[2; 24], &[3; 16]).is_err());
    }

    #[test]
    fn cookies_bind_address_and_port() {
        let secret = [1; 32];
        let a = cookie_for(&secret, "192.0.2.1:4000".parse().unwrap());
        assert_ne!(a, cookie_for(&secret, "192.0.2.1:4001".parse().unwrap()));
        assert_ne!(a, cookie_for(&secret, "192.0.2.2:4000".parse().unwrap()));
        assert_ne!(a, cookie_for(&[2; 32], "192.0.2.1:4000".parse().unwrap()));
        assert_eq!(source_bytes("[2001:db8::1]:80".parse().unwrap()).1, 18);
        assert_eq!(mac2(None, b"x"), [0; 16]);
        assert_ne!(mac2(Some(&a), b"x"), [0; 16]);
    }
}
