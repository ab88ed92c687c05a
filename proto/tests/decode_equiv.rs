//! `ServerMsg`, `Body` and `WireAddr` are decoded by hand-shaped `Deserialize` impls
//! (`wire::decode`) rather than serde's derived ones: on every input, they must give the
//! derived code's verdict, value and unread rest. The reference here is the derived code
//! itself, on mirror types declared as the wire types were (byte arrays with serde's own
//! array impls, which read the same bytes as `wire::byte_array`).

mod support;

use peerchat_proto::wire::*;
use proptest::collection::vec;
use proptest::prelude::*;
use serde::Deserialize;

#[derive(Deserialize)]
enum RefWireAddr {
    V4([u8; 4], u16),
    V6([u8; 16], u16),
}

impl From<RefWireAddr> for WireAddr {
    fn from(a: RefWireAddr) -> Self {
        match a {
            RefWireAddr::V4(ip, port) => WireAddr::V4(ip, port),
            RefWireAddr::V6(ip, port) => WireAddr::V6(ip, port),
        }
    }
}

#[derive(Deserialize)]
struct RefPeerInfo<'a> {
    id: PeerId,
    name: &'a str,
    addr: RefWireAddr,
}

impl<'a> From<RefPeerInfo<'a>> for PeerInfo<'a> {
    fn from(p: RefPeerInfo<'a>) -> Self {
        PeerInfo {
            id: p.id,
            name: p.name,
            addr: p.addr.into(),
        }
    }
}

#[derive(Deserialize)]
struct RefSnapshotPage<'a> {
    version: u64,
    page: u32,
    last: bool,
    #[serde(borrow)]
    peers: heapless::Vec<RefPeerInfo<'a>, SNAPSHOT_PAGE>,
}

// Mirrors of wire types, as large as they are.
#[allow(clippy::large_enum_variant)]
#[derive(Deserialize)]
enum RefServerMsg<'a> {
    Welcome {
        id: PeerId,
        observed_addr: RefWireAddr,
        probe_token: u64,
        heartbeat_ms: u32,
    },
    Rejected {
        reason: RejectReason,
    },
    #[serde(borrow)]
    Snapshot(RefSnapshotPage<'a>),
    Joined {
        version: u64,
        #[serde(borrow)]
        peer: RefPeerInfo<'a>,
    },
    Left {
        version: u64,
        id: PeerId,
    },
    Moved {
        version: u64,
        id: PeerId,
        addr: RefWireAddr,
    },
    Pong,
    Shutdown,
}

impl<'a> From<RefServerMsg<'a>> for ServerMsg<'a> {
    fn from(m: RefServerMsg<'a>) -> Self {
        match m {
            RefServerMsg::Welcome {
                id,
                observed_addr,
                probe_token,
                heartbeat_ms,
            } => ServerMsg::Welcome {
                id,
                observed_addr: observed_addr.into(),
                probe_token,
                heartbeat_ms,
            },
            RefServerMsg::Rejected { reason } => ServerMsg::Rejected { reason },
            RefServerMsg::Snapshot(p) => ServerMsg::Snapshot(SnapshotPage {
                version: p.version,
                page: p.page,
                last: p.last,
                peers: p.peers.into_iter().map(PeerInfo::from).collect(),
            }),
            RefServerMsg::Joined { version, peer } => ServerMsg::Joined {
                version,
                peer: peer.into(),
            },
            RefServerMsg::Left { version, id } => ServerMsg::Left { version, id },
            RefServerMsg::Moved { version, id, addr } => ServerMsg::Moved {
                version,
                id,
                addr: addr.into(),
            },
            RefServerMsg::Pong => ServerMsg::Pong,
            RefServerMsg::Shutdown => ServerMsg::Shutdown,
        }
    }
}

#[allow(clippy::large_enum_variant)]
#[derive(Deserialize)]
enum RefBody<'a> {
    Probe {
        token: u64,
    },
    ProbeReply {
        observed: RefWireAddr,
    },
    #[serde(borrow)]
    Chat(Chat<'a>),
    Ack(Ack),
    FileOffer(FileOffer<'a>),
    FileAccept {
        transfer: TransferId,
    },
    FileReject {
        transfer: TransferId,
        reason: FileRejectReason,
    },
    FileChunk(FileChunk<'a>),
    FileAck(FileAck),
    FileDone {
        transfer: TransferId,
    },
    FileCancel {
        transfer: TransferId,
        reason: CancelReason,
    },
}

impl<'a> From<RefBody<'a>> for Body<'a> {
    fn from(b: RefBody<'a>) -> Self {
        match b {
            RefBody::Probe { token } => Body::Probe { token },
            RefBody::ProbeReply { observed } => Body::ProbeReply {
                observed: observed.into(),
            },
            RefBody::Chat(c) => Body::Chat(c),
            RefBody::Ack(a) => Body::Ack(a),
            RefBody::FileOffer(o) => Body::FileOffer(o),
            RefBody::FileAccept { transfer } => Body::FileAccept { transfer },
            RefBody::FileReject { transfer, reason } => Body::FileReject { transfer, reason },
            RefBody::FileChunk(c) => Body::FileChunk(c),
            RefBody::FileAck(a) => Body::FileAck(a),
            RefBody::FileDone { transfer } => Body::FileDone { transfer },
            RefBody::FileCancel { transfer, reason } => Body::FileCancel { transfer, reason },
        }
    }
}

/// A decoder's verdict: the value and the length of the unread rest, or `None`.
type Verdict<T> = Option<(T, usize)>;

/// Ours (`T`) and the reference (`R`, derived) on `bytes`.
fn both<'a, T, R>(bytes: &'a [u8]) -> (Verdict<T>, Verdict<T>)
where
    T: Deserialize<'a>,
    R: Deserialize<'a> + Into<T>,
{
    let ours = postcard::take_from_bytes::<T>(bytes).ok();
    let reference = postcard::take_from_bytes::<R>(bytes).ok();
    (
        ours.map(|(v, rest)| (v, rest.len())),
        reference.map(|(v, rest)| (v.into(), rest.len())),
    )
}

fn both_server(bytes: &[u8]) -> (Verdict<ServerMsg<'_>>, Verdict<ServerMsg<'_>>) {
    both::<ServerMsg<'_>, RefServerMsg<'_>>(bytes)
}

fn both_body(bytes: &[u8]) -> (Verdict<Body<'_>>, Verdict<Body<'_>>) {
    both::<Body<'_>, RefBody<'_>>(bytes)
}

fn both_addr(bytes: &[u8]) -> (Verdict<WireAddr>, Verdict<WireAddr>) {
    both::<WireAddr, RefWireAddr>(bytes)
}

/// The message bytes of every server and packet example of the spec (after the version
/// byte, and for packets after the header).
fn example_messages() -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
    let (mut server, mut body) = (Vec::new(), Vec::new());
    for (id, bytes) in support::examples() {
        if id.starts_with("server-") {
            server.push(bytes[1..].to_vec());
        } else if id.starts_with("packet-") {
            let (_, rest) = postcard::take_from_bytes::<Header>(&bytes[1..]).unwrap();
            body.push(rest.to_vec());
        }
    }
    (server, body)
}

/// `bytes` with one byte changed, for every position and a few values, and cut at every
/// length.
fn variants(bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for at in 0..bytes.len() {
        for value in [0, 1, 2, 0x7f, 0x80, 0xff, bytes[at].wrapping_add(1)] {
            let mut v = bytes.to_vec();
            v[at] = value;
            out.push(v);
        }
        out.push(bytes[..at].to_vec());
    }
    out.push(bytes.to_vec());
    let mut longer = bytes.to_vec();
    longer.push(0);
    out.push(longer);
    out
}

#[test]
fn examples_and_their_mutations_decode_alike() {
    let (server, body) = example_messages();
    assert!(
        server.len() >= 8 && body.len() >= 11,
        "every kind has an example"
    );
    let mut decoded = 0;
    for v in server.iter().flat_map(|m| variants(m)) {
        let (ours, reference) = both_server(&v);
        decoded += usize::from(ours.is_some());
        assert_eq!(ours, reference, "{v:02x?}");
    }
    for v in body.iter().flat_map(|m| variants(m)) {
        let (ours, reference) = both_body(&v);
        decoded += usize::from(ours.is_some());
        assert_eq!(ours, reference, "{v:02x?}");
    }
    // Addresses sit inside several messages: every suffix, read as one, reads alike.
    for v in server.iter().chain(&body).flat_map(|m| variants(m)) {
        for at in 0..v.len() {
            let (ours, reference) = both_addr(&v[at..]);
            assert_eq!(ours, reference, "{v:02x?} from {at}");
        }
    }
    assert!(decoded > 100, "the mutations also make valid messages");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes_decode_alike(kind in 0u8..14, tail in vec(any::<u8>(), 0..48)) {
        let mut bytes = vec![kind];
        bytes.extend_from_slice(&tail);
        let (ours, reference) = both_server(&bytes);
        prop_assert_eq!(ours, reference);
        let (ours, reference) = both_body(&bytes);
        prop_assert_eq!(ours, reference);
        let (ours, reference) = both_addr(&bytes);
        prop_assert_eq!(ours, reference);
    }
}
