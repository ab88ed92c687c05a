//! The published Noise test vectors (cacophony's, `vectors/noise-cacophony.json`) for
//! `Noise_IK_25519_ChaChaPoly_BLAKE2s` and `Noise_XX_25519_ChaChaPoly_BLAKE2s`, run
//! through [`HandshakeState`] on both sides: every handshake message, the handshake hash,
//! and the transport messages after `Split()`.

extern crate std;

use std::string::String;
use std::vec::Vec;

use serde_json::Value;

use super::keys::Keypair;
use super::noise::{HandshakeState, Pattern, IK, XX};
use super::primitives::{self, TAG_LEN};

const VECTORS: &str = include_str!("vectors/noise-cacophony.json");

fn field(v: &Value, name: &str) -> Vec<u8> {
    hex::decode(v[name].as_str().unwrap_or_default()).expect("hex")
}

fn key(v: &Value, name: &str) -> Keypair {
    Keypair::from_secret_bytes(field(v, name).try_into().expect("32 bytes"))
}

fn vector(name: &str) -> Value {
    let all: Value = serde_json::from_str(VECTORS).expect("JSON");
    all["vectors"]
        .as_array()
        .expect("vectors")
        .iter()
        .find(|v| v["protocol_name"] == name)
        .cloned()
        .unwrap_or_else(|| panic!("no vector {name}"))
}

/// One transport message after the handshake: sealed with the sender's key and its
/// implicit nonce, empty associated data.
fn transport(key: &[u8; 32], nonce: u64, payload: &[u8]) -> Vec<u8> {
    let mut buf = payload.to_vec();
    let tag = primitives::seal(key, nonce, &[], &mut buf);
    buf.extend_from_slice(&tag);
    buf
}

fn run(pattern: &'static Pattern) {
    let v = vector(pattern.name);
    let init_s = key(&v, "init_static");
    let resp_s = key(&v, "resp_static");
    let prologue = field(&v, "init_prologue");
    assert_eq!(prologue, field(&v, "resp_prologue"));
    let rs = v.get("init_remote_static").map(|_| *resp_s.public());
    if let Some(rs) = rs {
        assert_eq!(field(&v, "init_remote_static"), rs.0);
    }
    let mut init = HandshakeState::new(
        pattern,
        true,
        &[&prologue],
        init_s.public(),
        rs,
        key(&v, "init_ephemeral"),
    );
    let mut resp = HandshakeState::new(
        pattern,
        false,
        &[&prologue],
        resp_s.public(),
        None,
        key(&v, "resp_ephemeral"),
    );
    let messages = v["messages"].as_array().expect("messages");
    let mut keys = None;
    let mut nonces = [0u64; 2];
    for (i, m) in messages.iter().enumerate() {
        let payload = field(m, "payload");
        let expected = field(m, "ciphertext");
        let from_initiator = i % 2 == 0;
        if !init.is_finished() {
            let (writer, reader, ws, rs) = if from_initiator {
                (&mut init, &mut resp, &init_s, &resp_s)
            } else {
                (&mut resp, &mut init, &resp_s, &init_s)
            };
            let mut out = [0u8; 256];
            let n = writer.write_message(ws, &payload, &mut out).unwrap();
            assert_eq!(
                hex::encode(&out[..n]),
                hex::encode(&expected),
                "message {i}"
            );
            let mut got = [0u8; 256];
            // A tampered copy of an authenticated message fails on a copy of the state.
            if expected.len() >= 32 + payload.len() + TAG_LEN {
                let mut tampered = expected.clone();
                *tampered.last_mut().unwrap() ^= 1;
                let mut spare = reader.clone();
                assert!(
                    spare.read_message(rs, &tampered, &mut got).is_err(),
                    "tampered {i}"
                );
            }
            let len = reader.read_message(rs, &expected, &mut got).unwrap();
            assert_eq!(got[..len], payload[..], "payload {i}");
            continue;
        }
        let (i_send, i_recv) = keys.get_or_insert_with(|| {
            assert!(resp.is_finished());
            assert_eq!(init.handshake_hash(), resp.handshake_hash());
            assert_eq!(init.handshake_hash()[..], field(&v, "handshake_hash")[..]);
            let (r_send, r_recv) = resp.split();
            let (i_send, i_recv) = init.split();
            assert_eq!(*i_send, *r_recv);
            assert_eq!(*i_recv, *r_send);
            (i_send, i_recv)
        });
        let (k, slot) = if from_initiator {
            (&**i_send, 0)
        } else {
            (&**i_recv, 1)
        };
        let sealed = transport(k, nonces[slot], &payload);
        nonces[slot] += 1;
        assert_eq!(hex::encode(sealed), hex::encode(&expected), "transport {i}");
    }
    assert!(keys.is_some(), "the vector has transport messages");
    assert_eq!(
        init.remote_static().map(|k| k.0),
        Some(resp_s.public().0),
        "the initiator knows the responder"
    );
    assert_eq!(resp.remote_static().map(|k| k.0), Some(init_s.public().0));
}

#[test]
fn noise_ik_25519_chachapoly_blake2s() {
    run(&IK);
}

#[test]
fn noise_xx_25519_chachapoly_blake2s() {
    run(&XX);
}

#[test]
fn the_vectors_name_their_source() {
    let all: Value = serde_json::from_str(VECTORS).unwrap();
    let source: String = all["source"].as_str().unwrap().into();
    assert!(source.contains("cacophony"));
}
