//! The primitives, each taken from its crate, behind the few functions the protocols
//! call: BLAKE2s-256 (Noise's `HASH`), HMAC-BLAKE2s and Noise's `HKDF`, keyed BLAKE2s-128
//! (`mac1`, `mac2`, cookies), ChaCha20-Poly1305 with Noise's nonce, XChaCha20-Poly1305
//! (cookie replies) and X25519.
//!
//! Nothing here is a primitive written by hand: these are the glue of the Noise
//! specification (§4 and §5) and of WireGuard's cookie construction, and every secret they
//! produce is returned in a [`Zeroizing`] box.

use blake2::digest::{Digest, KeyInit, Mac};
use blake2::{Blake2s256, Blake2sMac};
use chacha20poly1305::aead::consts::U16;
use chacha20poly1305::{AeadInOut, ChaCha20Poly1305, Key, Nonce, Tag, XChaCha20Poly1305, XNonce};
use hmac::SimpleHmac;
use zeroize::Zeroizing;

/// Bytes of a symmetric key, a hash, an X25519 key.
pub(crate) const KEY_LEN: usize = 32;
/// Bytes of a Poly1305 tag.
pub(crate) const TAG_LEN: usize = 16;
/// Bytes of a keyed-BLAKE2s MAC (`mac1`, `mac2`, a cookie).
pub(crate) const MAC_LEN: usize = 16;
/// Bytes of an XChaCha20-Poly1305 nonce.
pub(crate) const XNONCE_LEN: usize = 24;

/// A secret 32-byte value wiped when dropped.
pub(crate) type Secret = Zeroizing<[u8; KEY_LEN]>;

/// An AEAD tag did not verify, or a MAC did not match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AuthFailed;

/// `HASH(parts[0] ‖ parts[1] ‖ …)`: BLAKE2s-256.
pub(crate) fn hash(parts: &[&[u8]]) -> [u8; KEY_LEN] {
    let mut h = Blake2s256::new();
    for part in parts {
        h.update(part);
    }
    h.finalize().into()
}

/// `HMAC-HASH(key, parts…)` (RFC 2104 over BLAKE2s, block length 64), as Noise defines it.
fn hmac(key: &[u8], parts: &[&[u8]]) -> Secret {
    // A key of any length is valid for HMAC: the `expect` cannot fail.
    let mut mac =
        <SimpleHmac<Blake2s256> as KeyInit>::new_from_slice(key).expect("HMAC takes any key");
    for part in parts {
        Mac::update(&mut mac, part);
    }
    Zeroizing::new(mac.finalize().into_bytes().into())
}

/// Noise's `HKDF(chaining_key, input_key_material, 2)`.
pub(crate) fn hkdf2(chaining_key: &[u8; KEY_LEN], ikm: &[u8]) -> (Secret, Secret) {
    let temp = hmac(chaining_key, &[ikm]);
    let first = hmac(&temp[..], &[&[1]]);
    let second = hmac(&temp[..], &[&first[..], &[2]]);
    (first, second)
}

/// Keyed BLAKE2s with a 16-byte output: `MAC(key, parts…)` of WireGuard's `mac1`, `mac2`
/// and cookie. `key` is 1 to 32 bytes.
pub(crate) fn mac16(key: &[u8], parts: &[&[u8]]) -> [u8; MAC_LEN] {
    keyed(key, parts).finalize().into_bytes().into()
}

/// Whether `tag` is `MAC(key, parts…)`, compared in constant time.
pub(crate) fn mac16_verify(key: &[u8], parts: &[&[u8]], tag: &[u8]) -> Result<(), AuthFailed> {
    keyed(key, parts).verify_slice(tag).map_err(|_| AuthFailed)
}

fn keyed(key: &[u8], parts: &[&[u8]]) -> Blake2sMac<U16> {
    // Every caller passes a key of 16 or 32 bytes, which keyed BLAKE2s accepts.
    let mut mac = Blake2sMac::<U16>::new_from_slice(key).expect("a 16- or 32-byte key");
    for part in parts {
        Mac::update(&mut mac, part);
    }
    mac
}

/// Noise's ChaCha20-Poly1305 nonce: 32 zero bits, then the counter in little-endian.
fn nonce(counter: u64) -> Nonce {
    let mut n = [0u8; 12];
    n[4..].copy_from_slice(&counter.to_le_bytes());
    Nonce::from(n)
}

/// Encrypts `buf` in place under `key` and nonce `counter` with `ad` authenticated;
/// returns the tag.
pub(crate) fn seal(key: &[u8; KEY_LEN], counter: u64, ad: &[u8], buf: &mut [u8]) -> [u8; TAG_LEN] {
    let cipher = ChaCha20Poly1305::new(&Key::from(*key));
    // Encryption fails only for a message over 256 GiB: every caller passes a datagram
    // or a frame.
    let tag = cipher
        .encrypt_inout_detached(&nonce(counter), ad, buf.into())
        .expect("message under the AEAD's length limit");
    tag.into()
}

/// Verifies `tag` and decrypts `buf` in place. On failure `buf` is left as it was.
pub(crate) fn open(
    key: &[u8; KEY_LEN],
    counter: u64,
    ad: &[u8],
    buf: &mut [u8],
    tag: &[u8; TAG_LEN],
) -> Result<(), AuthFailed> {
    let cipher = ChaCha20Poly1305::new(&Key::from(*key));
    cipher
        .decrypt_inout_detached(&nonce(counter), ad, buf.into(), &Tag::from(*tag))
        .map_err(|_| AuthFailed)
}

/// XChaCha20-Poly1305 encryption in place (cookie replies); returns the tag.
pub(crate) fn xseal(
    key: &[u8; KEY_LEN],
    nonce: &[u8; XNONCE_LEN],
    ad: &[u8],
    buf: &mut [u8],
) -> [u8; TAG_LEN] {
    let cipher = XChaCha20Poly1305::new(&Key::from(*key));
    // A 16-byte cookie is far under the length limit.
    let tag = cipher
        .encrypt_inout_detached(&XNonce::from(*nonce), ad, buf.into())
        .expect("message under the AEAD's length limit");
    tag.into()
}

/// XChaCha20-Poly1305 verification and decryption in place.
pub(crate) fn xopen(
    key: &[u8; KEY_LEN],
    nonce: &[u8; XNONCE_LEN],
    ad: &[u8],
    buf: &mut [u8],
    tag: &[u8; TAG_LEN],
) -> Result<(), AuthFailed> {
    let cipher = XChaCha20Poly1305::new(&Key::from(*key));
    cipher
        .decrypt_inout_detached(&XNonce::from(*nonce), ad, buf.into(), &Tag::from(*tag))
        .map_err(|_| AuthFailed)
}

/// Splits `bytes` into a fixed-size head and the rest; `None` if it is too short.
pub(crate) fn split_array<const N: usize>(bytes: &[u8]) -> Option<(&[u8; N], &[u8])> {
    let (head, rest) = bytes.split_at_checked(N)?;
    Some((head.try_into().ok()?, rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unhex<const N: usize>(s: &str) -> [u8; N] {
        let bytes = hex::decode(s.replace(' ', "")).unwrap();
        bytes.try_into().unwrap()
    }

    /// RFC 8439 §A.5: the ChaCha20-Poly1305 decryption vector, whose nonce
    /// (`00000000 0102030405060708`) is Noise's: 32 zero bits and a little-endian counter.
    #[test]
    fn rfc8439_a5_opens_through_the_noise_nonce() {
        let key: [u8; 32] =
            unhex("1c9240a5eb55d38af333888604f6b5f0473917c1402b80099dca5cbc207075c0");
        let counter = u64::from_le_bytes([1, 2, 3, 4, 5, 6, 7, 8]);
        let ad = hex::decode("f33388860000000000004e91").unwrap();
        let mut ct = hex::decode(concat!(
            "64a0861575861af460f062c79be643bd5e805cfd345cf389f108670ac76c8cb2",
            "4c6cfc18755d43eea09ee94e382d26b0bdb7b73c321b0100d4f03b7f355894cf",
            "332f830e710b97ce98c8a84abd0b948114ad176e008d33bd60f982b1ff37c855",
            "9797a06ef4f0ef61c186324e2b3506383606907b6a7c02b0f9f6157b53c867e4",
            "b9166c767b804d46a59b5216cde7a4e99040c5a40433225ee282a1b0a06c523e",
            "af4534d7f83fa1155b0047718cbc546a0d072b04b3564eea1b422273f548271a",
            "0bb2316053fa76991955ebd63159434ecebb4e466dae5a1073a6727627097a10",
            "49e617d91d361094fa68f0ff77987130305beaba2eda04df997b714d6c6f2c29",
            "a6ad5cb4022b02709b"
        ))
        .unwrap();
        let tag: [u8; 16] = unhex("eead9d67890cbb22392336fea1851f38");
        let original = ct.clone();
        // A wrong tag fails and leaves the buffer untouched.
        let mut bad = tag;
        bad[0] ^= 1;
        assert_eq!(open(&key, counter, &ad, &mut ct, &bad), Err(AuthFailed));
        assert_eq!(ct, original);
        open(&key, counter, &ad, &mut ct, &tag).unwrap();
        let plaintext = hex::decode(concat!(
            "496e7465726e65742d4472616674732061726520647261667420646f63756d65",
            "6e74732076616c696420666f722061206d6178696d756d206f6620736978206d",
            "6f6e74687320616e64206d617920626520757064617465642c207265706c6163",
            "65642c206f72206f62736f6c65746564206279206f7468657220646f63756d65",
            "6e747320617420616e792074696d652e20497420697320696e617070726f7072",
            "6961746520746f2075736520496e7465726e65742d4472616674732061732072",
            "65666572656e6365206d6174657269616c206f7220746f206369746520746865",
            "6d206f74686572207468616e206173202fe2809c776f726b20696e2070726f67",
            "726573732e2fe2809d"
        ))
        .unwrap();
        assert_eq!(ct, plaintext);
        // And sealing it again gives the same ciphertext and tag.
        assert_eq!(seal(&key, counter, &ad, &mut ct), tag);
        assert_eq!(ct, original);
    }

    /// The BLAKE2s-256 of "abc" (RFC 7693 appendix B).
    #[test]
    fn blake2s_rfc7693_abc() {
        let expected: [u8; 32] =
            unhex("508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982");
        assert_eq!(hash(&[b"a", b"bc"]), expected);
    }

    #[test]
    fn mac16_verifies_only_its_own_tag() {
        let key = [7u8; 32];
        let tag = mac16(&key, &[b"hello ", b"world"]);
        assert_eq!(mac16_verify(&key, &[b"hello world"], &tag), Ok(()));
        let mut bad = tag;
        bad[15] ^= 0x80;
        assert_eq!(mac16_verify(&key, &[b"hello world"], &bad), Err(AuthFailed));
        assert_eq!(
            mac16_verify(&key, &[b"hello world"], &tag[..15]),
            Err(AuthFailed)
        );
    }

    #[test]
    fn xchacha_round_trip_and_tamper() {
        let key = [9u8; 32];
        let nonce = [3u8; 24];
        let mut buf = *b"sixteen byte msg";
        let tag = xseal(&key, &nonce, b"ad", &mut buf);
        assert_ne!(&buf, b"sixteen byte msg");
        let mut copy = buf;
        assert_eq!(xopen(&key, &nonce, b"AD", &mut copy, &tag), Err(AuthFailed));
        xopen(&key, &nonce, b"ad", &mut buf, &tag).unwrap();
        assert_eq!(&buf, b"sixteen byte msg");
    }
}
