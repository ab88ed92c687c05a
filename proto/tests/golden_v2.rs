//! Golden bytes of version 2's cryptography: every message is built here through the
//! public API from the fixed keys, ephemerals, epochs and counters that
//! `docs/PROTOCOL-v2-crypto.md` names, and must equal the document's example byte for
//! byte; the document's tables of limits and timers must match the constants.

mod support;

use core::convert::Infallible;
use core::net::SocketAddr;
use std::collections::VecDeque;

use chacha20::rand_core::{TryCryptoRng, TryRng};
use peerchat_proto::crypto::channel::{
    EXPIRE_AFTER, HANDSHAKE_JITTER, HANDSHAKE_RETRY_INITIAL, HANDSHAKE_RETRY_MAX,
    KEEPALIVE_TIMEOUT, REJECT_AFTER_TIME, REKEY_AFTER_MESSAGES, REKEY_AFTER_TIME,
    REKEY_ATTEMPT_TIME, REKEY_TIMEOUT,
};
use peerchat_proto::crypto::control_channel::CONTROL_REKEY_FRAMES;
use peerchat_proto::crypto::guard::SOURCE_SLOTS;
use peerchat_proto::crypto::replay::REJECT_AFTER_MESSAGES;
use peerchat_proto::crypto::*;
use peerchat_proto::time::{Duration, Instant};
use peerchat_proto::wire::v2_control::*;
use peerchat_proto::wire::v2_peer::*;
use peerchat_proto::wire::PeerId;
use support::{examples_in, hex, Raw, SPEC_V2_CRYPTO};

/// A "random" generator that hands out the bytes it was given, then zeros: the draws
/// of the scenario below are listed in the document.
struct Script(VecDeque<u8>);

impl Script {
    fn new(parts: &[&[u8]]) -> Self {
        Script(parts.iter().flat_map(|p| p.iter().copied()).collect())
    }
}

impl TryRng for Script {
    type Error = Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        let mut b = [0u8; 4];
        self.try_fill_bytes(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }
    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        let mut b = [0u8; 8];
        self.try_fill_bytes(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        for d in dst {
            *d = self.0.pop_front().unwrap_or(0);
        }
        Ok(())
    }
}

impl TryCryptoRng for Script {}

const A_SECRET: [u8; 32] = [0x11; 32];
const B_SECRET: [u8; 32] = [0x22; 32];
const A_EPHEMERAL: [u8; 32] = [0x33; 32];
const B_EPHEMERAL: [u8; 32] = [0x44; 32];
const COOKIE_SECRET: [u8; 32] = [0x55; 32];
const COOKIE_NONCE: [u8; 24] = [0x66; 24];
const A_RETRY_EPHEMERAL: [u8; 32] = [0x77; 32];
const CLIENT_SECRET: [u8; 32] = [0x88; 32];
const CLIENT_EPHEMERAL: [u8; 32] = [0x99; 32];
const SERVER_SECRET: [u8; 32] = [0xaa; 32];
const SERVER_EPHEMERAL: [u8; 32] = [0xbb; 32];
/// A's epoch draw: `0x100`, then A's parity bit.
const EPOCH_DRAW: u32 = 0x100;
const A_ID: PeerId = PeerId(7);
const B_ID: PeerId = PeerId(2);

fn a_addr() -> SocketAddr {
    "192.0.2.10:4000".parse().unwrap()
}

fn b_addr() -> SocketAddr {
    "198.51.100.7:5000".parse().unwrap()
}

fn t0() -> Instant {
    Instant::from_millis(1_000_000)
}

type Chan = PeerChannel<16>;

/// Every message of the document's scenario, in order, as `(id, bytes)`.
fn scenario() -> Vec<(&'static str, Vec<u8>)> {
    let mut out = Vec::new();
    let a = Keypair::from_secret_bytes(A_SECRET);
    let b = Keypair::from_secret_bytes(B_SECRET);
    out.push(("v2-key-a", a.public().0.to_vec()));
    out.push(("v2-key-b", b.public().0.to_vec()));
    out.push(("v2-fingerprint-a", Fingerprint::of(a.public()).0.to_vec()));
    peer_scenario(&a, &b, &mut out);
    cookie_scenario(&a, &b, &mut out);
    control_scenario(&mut out);
    out
}

fn peer_scenario(a: &Keypair, b: &Keypair, out: &mut Vec<(&'static str, Vec<u8>)>) {
    let now = t0();
    let mut ca = Chan::new(a.public(), A_ID, B_ID, *b.public(), b_addr());
    let mut cb = Chan::new(b.public(), B_ID, A_ID, *a.public(), a_addr());
    let mut guard_b = HandshakeGuard::new(b.public(), GuardConfig::DESKTOP);
    let mut guard_a = HandshakeGuard::new(a.public(), GuardConfig::DESKTOP);
    let mut rng_a = Script::new(&[&EPOCH_DRAW.to_le_bytes(), &A_EPHEMERAL]);
    let mut rng_b = Script::new(&[&B_EPHEMERAL]);
    let mut buf = [0u8; 1200];

    ca.connect(now);
    let t = ca.poll_transmit(now, a, &mut rng_a, &mut buf).unwrap();
    let init = buf[..t.len].to_vec();
    out.push(("v2-initiation", init.clone()));

    let Admission::Proceed(ticket) =
        guard_b.admit_initiation(now, a_addr(), &init, &mut rng_b, &mut buf)
    else {
        panic!("admitted")
    };
    let n = cb
        .handle_initiation(now, ticket, b, &init, &mut rng_b, &mut buf)
        .unwrap();
    let response = buf[..n].to_vec();
    out.push(("v2-response", response.clone()));

    ca.handle_response(now, &mut guard_a, a, b_addr(), &response)
        .unwrap();
    let t = ca.poll_transmit(now, a, &mut rng_a, &mut buf).unwrap();
    let keepalive = buf[..t.len].to_vec();
    out.push(("v2-keepalive", keepalive.clone()));
    assert_eq!(
        cb.open(now, a_addr(), &mut keepalive.clone())
            .unwrap()
            .payload,
        b""
    );

    let sealed = seal(&mut ca, now, b"hello, bob");
    out.push(("v2-sealed", sealed.clone()));
    assert_eq!(
        cb.open(now, a_addr(), &mut sealed.clone()).unwrap().payload,
        b"hello, bob"
    );
    let sealed = seal(&mut cb, now, b"hi alice");
    out.push(("v2-sealed-reply", sealed.clone()));
    assert_eq!(
        ca.open(now, b_addr(), &mut sealed.clone()).unwrap().payload,
        b"hi alice"
    );

    let safety = SafetyNumber::of(a.public(), b.public());
    assert_eq!(safety, SafetyNumber::of(b.public(), a.public()));
    out.push(("v2-safety-number-ab", safety.digits().to_vec()));
}

fn seal(chan: &mut Chan, now: Instant, text: &[u8]) -> Vec<u8> {
    let mut buf = [0u8; 1200];
    buf[SEALED_HEADER_LEN..SEALED_HEADER_LEN + text.len()].copy_from_slice(text);
    let n = chan.seal(now, &mut buf, text.len()).unwrap();
    buf[..n].to_vec()
}

/// B's guard under load answers A's first initiation with a cookie; A's retry carries
/// `mac2` and is admitted.
fn cookie_scenario(a: &Keypair, b: &Keypair, out: &mut Vec<(&'static str, Vec<u8>)>) {
    let now = t0();
    let mut ca = Chan::new(a.public(), A_ID, B_ID, *b.public(), b_addr());
    let tight = GuardConfig {
        handshakes_per_sec: 1,
        handshake_burst: 1,
        ..GuardConfig::DESKTOP
    };
    let mut guard_b = HandshakeGuard::new(b.public(), tight);
    guard_b.set_local_id(B_ID);
    let mut rng_a = Script::new(&[
        &EPOCH_DRAW.to_le_bytes(),
        &A_EPHEMERAL,
        &[0; 4],
        &A_RETRY_EPHEMERAL,
    ]);
    let mut rng_b = Script::new(&[&COOKIE_SECRET, &COOKIE_NONCE]);
    let mut buf = [0u8; 1200];
    ca.connect(now);
    let t = ca.poll_transmit(now, a, &mut rng_a, &mut buf).unwrap();
    let init = buf[..t.len].to_vec();
    // The one unit of the budget goes; the same initiation again finds B under load.
    assert!(matches!(
        guard_b.admit_initiation(now, a_addr(), &init, &mut rng_b, &mut buf),
        Admission::Proceed(_)
    ));
    let Admission::SendCookie(n) =
        guard_b.admit_initiation(now, a_addr(), &init, &mut rng_b, &mut buf)
    else {
        panic!("a cookie")
    };
    let cookie = buf[..n].to_vec();
    out.push(("v2-cookie-reply", cookie.clone()));
    ca.handle_cookie(now, &cookie).unwrap();
    let later = now + HANDSHAKE_RETRY_INITIAL + Duration::from_secs(1);
    ca.handle_timeout(later);
    let t = ca.poll_transmit(later, a, &mut rng_a, &mut buf).unwrap();
    let retry = buf[..t.len].to_vec();
    out.push(("v2-initiation-mac2", retry.clone()));
    assert!(matches!(
        guard_b.admit_initiation(later, a_addr(), &retry, &mut rng_b, &mut buf),
        Admission::Proceed(_)
    ));
}

fn control_scenario(out: &mut Vec<(&'static str, Vec<u8>)>) {
    let client = Keypair::from_secret_bytes(CLIENT_SECRET);
    let server = Keypair::from_secret_bytes(SERVER_SECRET);
    out.push(("v2-key-server", server.public().0.to_vec()));
    let mut c = ControlClientHandshake::with_ephemeral(
        &client,
        Keypair::from_secret_bytes(CLIENT_EPHEMERAL),
    );
    let mut s = ControlServerHandshake::with_ephemeral(
        &server,
        Keypair::from_secret_bytes(SERVER_EPHEMERAL),
    );
    let mut buf = [0u8; 256];
    let n = c.write_hello(&client, &mut buf).unwrap();
    let hello = buf[..n].to_vec();
    out.push(("v2-control-hello", hello.clone()));
    let mut framed = [0u8; 64];
    let f = postcard::to_slice_cobs(&Raw(&hello), &mut framed).unwrap();
    out.push(("v2-control-hello-frame", f.to_vec()));
    s.read_hello(&server, &hello).unwrap();
    let n = s.write_reply(&server, &mut buf).unwrap();
    let reply = buf[..n].to_vec();
    out.push(("v2-control-reply", reply.clone()));
    let pin = ServerPin::Fingerprint(Fingerprint::of(server.public()));
    assert_eq!(
        c.read_reply(&client, &reply, pin).unwrap(),
        *server.public()
    );
    let (n, mut client_cipher) = c.write_finish(&client, &mut buf).unwrap();
    let finish = buf[..n].to_vec();
    out.push(("v2-control-finish", finish.clone()));
    let (client_key, mut server_cipher) = s.read_finish(&server, &finish).unwrap();
    assert_eq!(client_key, *client.public());
    let text = b"hello, server";
    buf[2..2 + text.len()].copy_from_slice(text);
    let n = client_cipher.seal(&mut buf, text.len()).unwrap();
    out.push(("v2-control-sealed", buf[..n].to_vec()));
    assert_eq!(server_cipher.open(&mut buf[..n]).unwrap(), text);
}

fn check(id: &str) {
    let built = scenario()
        .into_iter()
        .find(|(found, _)| *found == id)
        .unwrap_or_else(|| panic!("the scenario builds no `{id}`"))
        .1;
    let documented = examples_in(SPEC_V2_CRYPTO)
        .into_iter()
        .find(|(found, _)| found == id)
        .unwrap_or_else(|| panic!("docs/PROTOCOL-v2-crypto.md has no example `{id}`"))
        .1;
    assert_eq!(
        hex(&built),
        hex(&documented),
        "example `{id}` in docs/PROTOCOL-v2-crypto.md differs from the code; the code's \
         bytes, 16 a line:\n{}",
        built.chunks(16).map(hex).collect::<Vec<_>>().join("\n")
    );
}

#[test]
fn keys_and_fingerprint() {
    check("v2-key-a");
    check("v2-key-b");
    check("v2-key-server");
    check("v2-fingerprint-a");
}

#[test]
fn peer_handshake() {
    check("v2-initiation");
    check("v2-response");
}

#[test]
fn sealed_packets() {
    check("v2-keepalive");
    check("v2-sealed");
    check("v2-sealed-reply");
}

#[test]
fn cookie_reply_and_mac2() {
    check("v2-cookie-reply");
    check("v2-initiation-mac2");
}

#[test]
fn control_handshake_and_frames() {
    check("v2-control-hello");
    check("v2-control-hello-frame");
    check("v2-control-reply");
    check("v2-control-finish");
    check("v2-control-sealed");
}

/// The safety number is written in the document as its digits, in groups.
#[test]
fn safety_number() {
    check("v2-safety-number-ab");
    let a = Keypair::from_secret_bytes(A_SECRET);
    let b = Keypair::from_secret_bytes(B_SECRET);
    let text = SafetyNumber::of(a.public(), b.public()).to_string();
    let line = format!("safety number of A and B: `{text}`");
    assert!(SPEC_V2_CRYPTO.contains(&line), "the document lacks: {line}");
    let fp = Fingerprint::of(a.public()).to_string();
    let line = format!("fingerprint of A: `{fp}`");
    assert!(SPEC_V2_CRYPTO.contains(&line), "the document lacks: {line}");
}

/// Every example in the document is built by the scenario.
#[test]
fn every_example_is_checked() {
    let built: Vec<&str> = scenario().into_iter().map(|(id, _)| id).collect();
    for (id, _) in examples_in(SPEC_V2_CRYPTO) {
        assert!(
            built.contains(&id.as_str()),
            "example `{id}` is not checked"
        );
    }
    assert_eq!(built.len(), examples_in(SPEC_V2_CRYPTO).len());
}

#[test]
fn limits_and_timers_tables_match_the_constants() {
    let rows: Vec<(&str, String)> = vec![
        ("VERSION_2", VERSION_2.to_string()),
        ("INITIATION_LEN", INITIATION_LEN.to_string()),
        ("RESPONSE_LEN", RESPONSE_LEN.to_string()),
        ("COOKIE_REPLY_LEN", COOKIE_REPLY_LEN.to_string()),
        ("SEALED_HEADER_LEN", SEALED_HEADER_LEN.to_string()),
        ("SEALED_OVERHEAD", SEALED_OVERHEAD.to_string()),
        ("MAX_SEALED_PAYLOAD", MAX_SEALED_PAYLOAD.to_string()),
        ("CONTROL_HELLO_LEN", CONTROL_HELLO_LEN.to_string()),
        ("CONTROL_REPLY_LEN", CONTROL_REPLY_LEN.to_string()),
        ("CONTROL_FINISH_LEN", CONTROL_FINISH_LEN.to_string()),
        (
            "CONTROL_SEALED_OVERHEAD",
            CONTROL_SEALED_OVERHEAD.to_string(),
        ),
        ("CONTROL_REKEY_FRAMES", CONTROL_REKEY_FRAMES.to_string()),
        ("SOURCE_SLOTS", SOURCE_SLOTS.to_string()),
        (
            "REKEY_AFTER_MESSAGES",
            format!("2^{}", REKEY_AFTER_MESSAGES.trailing_zeros()),
        ),
        ("REJECT_AFTER_MESSAGES", (REJECT_AFTER_MESSAGES).to_string()),
        (
            "DEFAULT_WINDOW_WORDS",
            peerchat_proto::crypto::channel::DEFAULT_WINDOW_WORDS.to_string(),
        ),
    ];
    for (name, value) in rows {
        let row = format!("| `{name}` | {value} |");
        assert!(
            SPEC_V2_CRYPTO.contains(&row),
            "the document lacks the row {row}"
        );
    }
    let timers: [(&str, Duration); 9] = [
        ("REKEY_AFTER_TIME", REKEY_AFTER_TIME),
        ("REJECT_AFTER_TIME", REJECT_AFTER_TIME),
        ("REKEY_ATTEMPT_TIME", REKEY_ATTEMPT_TIME),
        ("REKEY_TIMEOUT", REKEY_TIMEOUT),
        ("KEEPALIVE_TIMEOUT", KEEPALIVE_TIMEOUT),
        ("HANDSHAKE_RETRY_INITIAL", HANDSHAKE_RETRY_INITIAL),
        ("HANDSHAKE_RETRY_MAX", HANDSHAKE_RETRY_MAX),
        ("HANDSHAKE_JITTER", HANDSHAKE_JITTER),
        ("EXPIRE_AFTER", EXPIRE_AFTER),
    ];
    for (name, value) in timers
        .into_iter()
        .chain([("COOKIE_SECRET_LIFETIME", COOKIE_SECRET_LIFETIME)])
    {
        let row = format!("| `{name}` | {} ms |", value.as_millis());
        assert!(
            SPEC_V2_CRYPTO.contains(&row),
            "the document lacks the row {row}"
        );
    }
}
