//! The control channel's handshake and sealed frames: any unit handed to each step of
//! the server's and the client's handshake, and any change to a genuine sealed frame,
//! never panics, and only the genuine bytes authenticate.
//!
//! The first byte picks the step: 0 a `ControlHello` for the server, 1 a `ControlReply`
//! for the client, 2 a `ControlFinish` for the server, 3 a raw sealed unit, 4 a mask
//! XORed onto a genuine sealed unit.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use peerchat_proto::crypto::{
    ControlCipher, ControlClientHandshake, ControlServerHandshake, Keypair, ServerPin,
};

#[derive(Clone)]
struct Run {
    client: Keypair,
    server: Keypair,
    hello: Vec<u8>,
    reply: Vec<u8>,
    finish: Vec<u8>,
    ciphers: (ControlCipher, ControlCipher),
}

fn run() -> Run {
    let client = Keypair::from_secret_bytes([3; 32]);
    let server = Keypair::from_secret_bytes([4; 32]);
    let mut c = ControlClientHandshake::with_ephemeral(&client, Keypair::from_secret_bytes([5; 32]));
    let mut s = ControlServerHandshake::with_ephemeral(&server, Keypair::from_secret_bytes([6; 32]));
    let mut buf = [0u8; 256];
    let n = c.write_hello(&client, &mut buf).unwrap();
    let hello = buf[..n].to_vec();
    s.read_hello(&server, &hello).unwrap();
    let n = s.write_reply(&server, &mut buf).unwrap();
    let reply = buf[..n].to_vec();
    c.read_reply(&client, &reply, ServerPin::FirstUse).unwrap();
    let (n, cc) = c.write_finish(&client, &mut buf).unwrap();
    let finish = buf[..n].to_vec();
    let (_, sc) = s.read_finish(&server, &finish).unwrap();
    Run { client, server, hello, reply, finish, ciphers: (cc, sc) }
}

/// The genuine handshake is run once; each input starts from a copy of its ciphers.
static RUN: OnceLock<Run> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let Some((&step, unit)) = data.split_first() else {
        return;
    };
    let mut r = RUN.get_or_init(run).clone();
    let mut buf = [0u8; 256];
    match step % 5 {
        0 => {
            let mut s = ControlServerHandshake::with_ephemeral(&r.server, Keypair::from_secret_bytes([6; 32]));
            if s.read_hello(&r.server, unit).is_ok() {
                // Any 32 bytes are an ephemeral key; the reply must still be writable.
                let _ = s.write_reply(&r.server, &mut buf);
            }
        }
        1 => {
            let mut c = ControlClientHandshake::with_ephemeral(&r.client, Keypair::from_secret_bytes([5; 32]));
            c.write_hello(&r.client, &mut buf).unwrap();
            if c.read_reply(&r.client, unit, ServerPin::Key(*r.server.public())).is_ok() {
                assert_eq!(unit, &r.reply[..], "only the genuine reply proves the pinned key");
            }
        }
        2 => {
            let mut s = ControlServerHandshake::with_ephemeral(&r.server, Keypair::from_secret_bytes([6; 32]));
            s.read_hello(&r.server, &r.hello).unwrap();
            s.write_reply(&r.server, &mut buf).unwrap();
            if let Ok((client, _)) = s.read_finish(&r.server, unit) {
                assert_eq!(unit, &r.finish[..], "only the genuine finish authenticates");
                assert_eq!(client, *r.client.public());
            }
        }
        3 => {
            let mut copy = unit.to_vec();
            assert!(r.ciphers.1.open(&mut copy).is_err(), "random bytes never open");
        }
        _ => {
            let text = b"hello, server";
            buf[2..2 + text.len()].copy_from_slice(text);
            let n = r.ciphers.0.seal(&mut buf, text.len()).unwrap();
            let genuine = buf[..n].to_vec();
            let mut unit_bytes = genuine.clone();
            for (b, m) in unit_bytes.iter_mut().zip(unit) {
                *b ^= m;
            }
            if let Ok(plain) = r.ciphers.1.open(&mut unit_bytes) {
                assert_eq!(plain, text);
                assert!(unit.iter().take(n).all(|&m| m == 0), "a changed frame opened");
            }
        }
    }
});
