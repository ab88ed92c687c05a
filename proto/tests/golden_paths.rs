//! Golden bytes of version 2's paths: every message of `docs/PROTOCOL-v2-paths.md` is
//! built here through the public API from the values the text names and must equal the
//! document's example byte for byte; the document's tables of limits and timers must
//! match the constants.

mod support;

use core::net::SocketAddr;

use peerchat_proto::path::server::{
    DEFAULT_RELAY_BUDGET, DEFAULT_RELAY_RATE, PUNCH_REQUESTS_PER_SEC, PUNCH_REQUEST_BURST,
    RELAY_PEERS, RELAY_WINDOW_WORDS,
};
use peerchat_proto::path::*;
use peerchat_proto::time::Duration;
use peerchat_proto::wire::v2_path::*;
use peerchat_proto::wire::v2_relay::*;
use peerchat_proto::wire::{PeerId, WireAddr};
use support::{examples_in, hex, SPEC_V2_CRYPTO, SPEC_V2_PATHS};

fn addr(s: &str) -> WireAddr {
    s.parse::<SocketAddr>().unwrap().into()
}

const RELAY_KEY: [u8; 32] = [0x77; 32];

fn encode(f: impl FnOnce(&mut [u8]) -> usize) -> Vec<u8> {
    let mut buf = [0u8; 2048];
    let n = f(&mut buf);
    buf[..n].to_vec()
}

fn client(msg: PathClientMsg) -> Vec<u8> {
    encode(|b| msg.encode(b).unwrap())
}

fn server(msg: PathServerMsg) -> Vec<u8> {
    encode(|b| msg.encode(b).unwrap())
}

fn check_msg(msg: PathCheck) -> Vec<u8> {
    encode(|b| msg.encode(b).unwrap())
}

/// The relay client of user A (id 7) under the example grant.
fn relay_a() -> RelayClient {
    let mut a = RelayClient::new(PeerId(7));
    assert!(a.handle_grant(&grant()));
    a
}

fn grant() -> PathServerMsg {
    PathServerMsg::RelayGrant {
        key: RELAY_KEY,
        rate: DEFAULT_RELAY_RATE,
        budget: DEFAULT_RELAY_BUDGET,
    }
}

/// A's keepalive to B from the cryptography draft: the datagram the relay carries.
fn keepalive() -> Vec<u8> {
    support::example_in(SPEC_V2_CRYPTO, "v2-keepalive")
}

/// Every example, in document order.
fn scenario() -> Vec<(&'static str, Vec<u8>)> {
    let host = |a| Candidate {
        kind: CandidateKind::Host,
        addr: addr(a),
    };
    let reflexive = |a| Candidate {
        kind: CandidateKind::ServerReflexive,
        addr: addr(a),
    };
    let mut relay = relay_a();
    let send = encode(|b| relay.wrap(PeerId(2), &keepalive(), b).unwrap());
    let registration = encode(|b| relay.registration(b).unwrap());
    let deliver = encode(|b| {
        let n = encode_deliver_header(PeerId(7), b).unwrap();
        b[n..n + keepalive().len()].copy_from_slice(&keepalive());
        n + keepalive().len()
    });
    vec![
        (
            "v2-path-candidates",
            client(PathClientMsg::Candidates(
                [addr("10.0.1.2:5000"), addr("[2001:db8::7]:5000")]
                    .into_iter()
                    .collect(),
            )),
        ),
        (
            "v2-path-punch-request",
            client(PathClientMsg::PunchRequest { peer: PeerId(2) }),
        ),
        (
            "v2-path-punch-notice",
            server(PathServerMsg::PunchNotice {
                peer: PeerId(2),
                candidates: [host("10.0.2.2:5000"), reflexive("203.0.113.2:5000")]
                    .into_iter()
                    .collect(),
            }),
        ),
        (
            "v2-path-punch-refused",
            server(PathServerMsg::PunchRefused {
                peer: PeerId(9),
                reason: PunchRefusal::Offline,
            }),
        ),
        ("v2-path-relay-grant", server(grant())),
        ("v2-path-ping", check_msg(PathCheck::Ping { tx: 1 })),
        (
            "v2-path-pong",
            check_msg(PathCheck::Pong {
                tx: 1,
                observed: Some(addr("198.51.100.1:4000")),
            }),
        ),
        (
            "v2-path-pong-relayed",
            check_msg(PathCheck::Pong {
                tx: 300,
                observed: None,
            }),
        ),
        ("v2-relay-send", send),
        ("v2-relay-registration", registration),
        ("v2-relay-deliver", deliver),
    ]
}

#[test]
fn every_example_matches_the_document() {
    let examples = examples_in(SPEC_V2_PATHS);
    let built = scenario();
    for (id, bytes) in &built {
        let doc = examples
            .iter()
            .find(|(e, _)| e == id)
            .map(|(_, b)| b)
            .unwrap_or_else(|| panic!("the document has no example `{id}`:\n{}", hex(bytes)));
        assert_eq!(hex(doc), hex(bytes), "example `{id}`");
    }
    assert_eq!(built.len(), examples.len(), "an example is not checked");
}

#[test]
fn every_example_decodes_to_what_built_it() {
    let ex = |id| support::example_in(SPEC_V2_PATHS, id);
    assert_eq!(
        PathClientMsg::decode(&ex("v2-path-punch-request")),
        Ok(PathClientMsg::PunchRequest { peer: PeerId(2) })
    );
    assert_eq!(
        PathServerMsg::decode(&ex("v2-path-relay-grant")),
        Ok(grant())
    );
    assert!(PathCheck::is_check(&ex("v2-path-ping")));
    let send = ex("v2-relay-send");
    let d = decode_relay_send(&send).unwrap();
    assert_eq!((d.header.to, d.inner), (PeerId(2), &keepalive()[..]));
    let deliver = ex("v2-relay-deliver");
    let inbound = RelayClient::new(PeerId(2)).unwrap(&deliver).unwrap();
    assert_eq!((inbound.from, inbound.inner), (PeerId(7), &keepalive()[..]));
}

#[test]
fn limits_and_timers_tables_match_the_constants() {
    let rows: Vec<(&str, String)> = vec![
        ("MAX_HOST_CANDIDATES", MAX_HOST_CANDIDATES.to_string()),
        ("MAX_CANDIDATES", MAX_CANDIDATES.to_string()),
        ("MAX_PATH_CLIENT_MSG", MAX_PATH_CLIENT_MSG.to_string()),
        ("MAX_PATH_SERVER_MSG", MAX_PATH_SERVER_MSG.to_string()),
        ("MAX_PATH_CHECK", MAX_PATH_CHECK.to_string()),
        ("RELAY_KEY_LEN", RELAY_KEY_LEN.to_string()),
        ("RELAY_SEND_HEADER_LEN", RELAY_SEND_HEADER_LEN.to_string()),
        ("RELAY_MAC_LEN", RELAY_MAC_LEN.to_string()),
        ("RELAY_SEND_OVERHEAD", RELAY_SEND_OVERHEAD.to_string()),
        (
            "RELAY_DELIVER_HEADER_LEN",
            RELAY_DELIVER_HEADER_LEN.to_string(),
        ),
        ("MAX_RELAY_DATAGRAM", MAX_RELAY_DATAGRAM.to_string()),
        ("MAX_ROUTES", MAX_ROUTES.to_string()),
        ("LIVENESS_ATTEMPTS", LIVENESS_ATTEMPTS.to_string()),
        ("RELAY_PEERS", RELAY_PEERS.to_string()),
        ("RELAY_WINDOW_WORDS", RELAY_WINDOW_WORDS.to_string()),
        ("DEFAULT_RELAY_RATE", DEFAULT_RELAY_RATE.to_string()),
        ("DEFAULT_RELAY_BUDGET", DEFAULT_RELAY_BUDGET.to_string()),
        ("PUNCH_REQUESTS_PER_SEC", PUNCH_REQUESTS_PER_SEC.to_string()),
        ("PUNCH_REQUEST_BURST", PUNCH_REQUEST_BURST.to_string()),
    ];
    for (name, value) in rows {
        let row = format!("| `{name}` | {value} |");
        assert!(
            SPEC_V2_PATHS.contains(&row),
            "the document lacks the row {row}"
        );
    }
    let timers: [(&str, Duration); 10] = [
        ("CHECK_INTERVAL", CHECK_INTERVAL),
        ("CHECK_PACE", CHECK_PACE),
        ("RELAY_AFTER", RELAY_AFTER),
        ("PUNCH_WINDOW", PUNCH_WINDOW),
        ("BACKGROUND_INITIAL", BACKGROUND_INITIAL),
        ("BACKGROUND_MAX", BACKGROUND_MAX),
        ("KEEPALIVE_INTERVAL", KEEPALIVE_INTERVAL),
        ("KEEPALIVE_FOLLOW", KEEPALIVE_FOLLOW),
        ("SILENCE", SILENCE),
        ("LIVENESS_INTERVAL", LIVENESS_INTERVAL),
    ];
    for (name, value) in timers {
        let row = format!("| `{name}` | {} ms |", value.as_millis());
        assert!(
            SPEC_V2_PATHS.contains(&row),
            "the document lacks the row {row}"
        );
    }
}
