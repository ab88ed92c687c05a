extern crate std;

use std::vec::Vec;

use chacha20::rand_core::SeedableRng;
use chacha20::ChaCha20Rng;

use super::*;

struct Pair {
    client: Keypair,
    server: Keypair,
    rng: ChaCha20Rng,
}

fn pair() -> Pair {
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    Pair {
        client: Keypair::generate(&mut rng),
        server: Keypair::generate(&mut rng),
        rng,
    }
}

/// Runs the handshake with `pin`; on success returns both ciphers and the keys each side
/// learned.
fn handshake(
    p: &mut Pair,
    pin: ServerPin,
) -> Result<(ControlCipher, ControlCipher, PublicKey, PublicKey), ControlHandshakeError> {
    let mut client = ControlClientHandshake::new(&p.client, &mut p.rng);
    let mut server = ControlServerHandshake::new(&p.server, &mut p.rng);
    let mut buf = [0u8; 128];
    let n = client.write_hello(&p.client, &mut buf)?;
    assert_eq!(n, CONTROL_HELLO_LEN);
    server.read_hello(&p.server, &buf[..n])?;
    let n = server.write_reply(&p.server, &mut buf)?;
    assert_eq!(n, CONTROL_REPLY_LEN);
    let server_key = client.read_reply(&p.client, &buf[..n], pin)?;
    let (n, client_cipher) = client.write_finish(&p.client, &mut buf)?;
    assert_eq!(n, CONTROL_FINISH_LEN);
    let (client_key, server_cipher) = server.read_finish(&p.server, &buf[..n])?;
    Ok((client_cipher, server_cipher, server_key, client_key))
}

fn seal(c: &mut ControlCipher, text: &[u8]) -> Vec<u8> {
    let mut buf = std::vec![0u8; text.len() + CONTROL_SEALED_OVERHEAD];
    buf[2..2 + text.len()].copy_from_slice(text);
    let n = c.seal(&mut buf, text.len()).unwrap();
    assert_eq!(n, buf.len());
    buf
}

#[test]
fn first_use_learns_both_keys_and_the_stream_works() {
    let mut p = pair();
    let (mut c, mut s, server_key, client_key) = handshake(&mut p, ServerPin::FirstUse).unwrap();
    assert_eq!(server_key, *p.server.public());
    assert_eq!(client_key, *p.client.public());
    assert_eq!(c.handshake_hash(), s.handshake_hash());
    for i in 0..3u8 {
        let mut unit = seal(&mut c, &[b'h', b'i', i]);
        assert_eq!(s.open(&mut unit).unwrap(), &[b'h', b'i', i]);
        let mut unit = seal(&mut s, b"welcome");
        assert_eq!(c.open(&mut unit).unwrap(), b"welcome");
    }
}

#[test]
fn a_pinned_key_or_fingerprint_is_checked() {
    let mut p = pair();
    let key = *p.server.public();
    assert!(handshake(&mut p, ServerPin::Key(key)).is_ok());
    assert!(handshake(&mut p, ServerPin::Fingerprint(Fingerprint::of(&key))).is_ok());
    let other = *Keypair::from_secret_bytes([9; 32]).public();
    match handshake(&mut p, ServerPin::Key(other)) {
        Err(ControlHandshakeError::ServerKeyChanged { pinned, presented }) => {
            assert_eq!(pinned, Fingerprint::of(&other));
            assert_eq!(presented, key);
        }
        other => panic!("{:?}", other.map(|_| ())),
    }
    let fp = Fingerprint::of(&other);
    assert!(matches!(
        handshake(&mut p, ServerPin::Fingerprint(fp)),
        Err(ControlHandshakeError::ServerKeyChanged { .. })
    ));
}

#[test]
fn a_server_without_the_key_cannot_answer() {
    // An impostor server with its own key: the client pinned the real one.
    let mut p = pair();
    let real = *p.server.public();
    p.server = Keypair::from_secret_bytes([3; 32]);
    assert!(matches!(
        handshake(&mut p, ServerPin::Key(real)),
        Err(ControlHandshakeError::ServerKeyChanged { .. })
    ));
}

#[test]
fn tampered_reordered_and_replayed_frames_fail() {
    let mut p = pair();
    let (mut c, mut s, _, _) = handshake(&mut p, ServerPin::FirstUse).unwrap();
    let first = seal(&mut c, b"one");
    let second = seal(&mut c, b"two");
    // Out of order: the second frame does not open in the first's place.
    assert_eq!(
        s.open(&mut second.clone()),
        Err(ControlOpenError::AuthFailed)
    );
    let mut flipped = first.clone();
    flipped[3] ^= 0x20;
    assert_eq!(s.open(&mut flipped), Err(ControlOpenError::AuthFailed));
    let mut header = first.clone();
    header[1] = 3;
    assert!(matches!(
        s.open(&mut header),
        Err(ControlOpenError::Malformed(_))
    ));
    assert_eq!(s.open(&mut first.clone()).unwrap(), b"one");
    // A replay of the first frame is now out of step.
    assert_eq!(
        s.open(&mut first.clone()),
        Err(ControlOpenError::AuthFailed)
    );
    assert_eq!(s.open(&mut second.clone()).unwrap(), b"two");
}

#[test]
fn keys_roll_over_every_rekey_interval() {
    let mut p = pair();
    let (mut c, mut s, _, _) = handshake(&mut p, ServerPin::FirstUse).unwrap();
    let before = *c.send.key;
    for i in 0..(3 * CONTROL_REKEY_FRAMES + 5) {
        let text = i.to_le_bytes();
        let mut unit = seal(&mut c, &text);
        assert_eq!(s.open(&mut unit).unwrap(), &text);
    }
    assert_ne!(*c.send.key, before);
    assert_eq!(*c.send.key, *s.recv.key);
}

#[test]
fn a_version_1_hello_is_refused_by_version() {
    let mut p = pair();
    let mut server = ControlServerHandshake::new(&p.server, &mut p.rng);
    let v1_hello = [1, 0, 5, b'a', b'l', b'i', b'c', b'e', 0xa0, 0x1f];
    assert_eq!(
        server.read_hello(&p.server, &v1_hello),
        Err(ControlHandshakeError::Malformed(
            DecodeError::UnknownVersion(1)
        ))
    );
    let mut client = ControlClientHandshake::new(&p.client, &mut p.rng);
    let mut buf = [0u8; 8];
    assert_eq!(
        client.write_hello(&p.client, &mut buf),
        Err(ControlHandshakeError::BufferTooSmall {
            needed: CONTROL_HELLO_LEN
        })
    );
}
