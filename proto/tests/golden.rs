//! Golden bytes: every message kind of protocol version 1 encodes to the example in
//! `docs/PROTOCOL.md` and decodes back from it, so the spec cannot drift from the code.

mod support;

use core::fmt::Debug;

use peerchat_proto::wire::*;
use support::{example, examples, hex, SPEC};

fn check_encoding(id: &str, encoded: &[u8]) -> Vec<u8> {
    let expected = example(id);
    assert_eq!(
        hex(encoded),
        hex(&expected),
        "encoding differs from example `{id}` in docs/PROTOCOL.md"
    );
    expected
}

fn client(id: &str, msg: ClientMsg<'_>) {
    let mut buf = [0u8; MAX_CLIENT_FRAME];
    let n = encode_client(&msg, &mut buf).unwrap();
    let expected = check_encoding(id, &buf[..n]);
    assert_eq!(decode_client(&expected), Ok(msg));
}

fn server(id: &str, msg: ServerMsg<'_>) {
    let mut buf = [0u8; MAX_SERVER_FRAME];
    let n = encode_server(&msg, &mut buf).unwrap();
    let expected = check_encoding(id, &buf[..n]);
    assert_eq!(decode_server(&expected), Ok(msg));
}

fn packet(id: &str, sender: u32, body: Body<'_>) {
    let packet = Packet::new(PeerId(sender), body);
    let mut buf = [0u8; MAX_DATAGRAM];
    let n = encode_packet(&packet, &mut buf).unwrap();
    let expected = check_encoding(id, &buf[..n]);
    assert_eq!(decode_packet(&expected), Ok(packet));
}

fn decode_frame<'d, T>(decoder: &'d mut FrameDecoder<MAX_SERVER_FRAME>, frame: &[u8]) -> T
where
    T: serde::Deserialize<'d> + Message + Debug,
{
    match decoder.feed::<T>(frame) {
        Feed::Frame {
            msg: Ok(msg),
            rest: [],
        } => msg,
        other => panic!("{other:?}"),
    }
}

const ALICE_ADDR: WireAddr = WireAddr::V4([192, 0, 2, 10], 4000);
const MOVED_ADDR: WireAddr = WireAddr::V4([203, 0, 113, 9], 62000);
const TOKEN: u64 = 0x0123_4567_89ab_cdef;
const HELLO: ClientMsg<'static> = ClientMsg::Hello {
    name: "alice",
    udp_port: 4000,
};
const WELCOME: ServerMsg<'static> = ServerMsg::Welcome {
    id: PeerId(7),
    observed_addr: ALICE_ADDR,
    probe_token: TOKEN,
    heartbeat_ms: 5000,
};

#[test]
fn client_hello() {
    client("client-hello", HELLO);
}

#[test]
fn client_list() {
    client("client-list", ClientMsg::List);
}

#[test]
fn client_ping() {
    client("client-ping", ClientMsg::Ping);
}

#[test]
fn client_bye() {
    client("client-bye", ClientMsg::Bye);
}

#[test]
fn server_welcome() {
    server("server-welcome", WELCOME);
}

#[test]
fn server_rejected() {
    let reason = RejectReason::NameTaken;
    server("server-rejected", ServerMsg::Rejected { reason });
}

#[test]
fn server_snapshot() {
    let bob = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];
    let peers = heapless::Vec::from_slice(&[
        PeerInfo {
            id: PeerId(1),
            name: "alice",
            addr: ALICE_ADDR,
        },
        PeerInfo {
            id: PeerId(2),
            name: "bob",
            addr: WireAddr::V6(bob, 4001),
        },
    ])
    .unwrap();
    let page = SnapshotPage {
        version: 3,
        page: 0,
        last: true,
        peers,
    };
    server("server-snapshot", ServerMsg::Snapshot(page));
}

#[test]
fn server_joined() {
    let peer = PeerInfo {
        id: PeerId(3),
        name: "carol",
        addr: WireAddr::V4([198, 51, 100, 7], 5000),
    };
    server("server-joined", ServerMsg::Joined { version: 4, peer });
}

#[test]
fn server_left() {
    let id = PeerId(2);
    server("server-left", ServerMsg::Left { version: 5, id });
}

#[test]
fn server_moved() {
    let msg = ServerMsg::Moved {
        version: 6,
        id: PeerId(1),
        addr: MOVED_ADDR,
    };
    server("server-moved", msg);
}

#[test]
fn server_pong() {
    server("server-pong", ServerMsg::Pong);
}

#[test]
fn server_shutdown() {
    server("server-shutdown", ServerMsg::Shutdown);
}

#[test]
fn packet_probe() {
    packet("packet-probe", 7, Body::Probe { token: TOKEN });
}

#[test]
fn packet_probe_reply() {
    let body = Body::ProbeReply {
        observed: MOVED_ADDR,
    };
    packet("packet-probe-reply", 0, body);
}

#[test]
fn packet_chat() {
    let chat = Chat {
        seq: 42,
        base: 40,
        to_all: false,
        frag: Frag { index: 0, count: 1 },
        text: "hi bob",
    };
    packet("packet-chat", 7, Body::Chat(chat));
}

#[test]
fn packet_ack() {
    let ack = Ack {
        next: 43,
        above: 0b101,
    };
    packet("packet-ack", 2, Body::Ack(ack));
}

#[test]
fn packet_file_offer() {
    let offer = FileOffer {
        transfer: TransferId(1),
        name: "notes.txt",
        size: 3000,
        chunk_size: 1136,
        hash: core::array::from_fn(|i| i as u8),
    };
    packet("packet-file-offer", 7, Body::FileOffer(offer));
}

#[test]
fn packet_file_accept() {
    let transfer = TransferId(1);
    packet("packet-file-accept", 2, Body::FileAccept { transfer });
}

#[test]
fn packet_file_reject() {
    let body = Body::FileReject {
        transfer: TransferId(1),
        reason: FileRejectReason::TooLarge,
    };
    packet("packet-file-reject", 2, body);
}

#[test]
fn packet_file_chunk() {
    let chunk = FileChunk {
        transfer: TransferId(1),
        index: 2,
        data: b"end.\n",
    };
    packet("packet-file-chunk", 7, Body::FileChunk(chunk));
}

#[test]
fn packet_file_ack() {
    let ack = FileAck {
        transfer: TransferId(1),
        cumulative: 2,
        limit: 34,
        ranges: heapless::Vec::from_slice(&[ChunkRange { start: 3, end: 5 }]).unwrap(),
    };
    packet("packet-file-ack", 2, Body::FileAck(ack));
}

#[test]
fn packet_file_done() {
    let transfer = TransferId(1);
    packet("packet-file-done", 2, Body::FileDone { transfer });
}

#[test]
fn packet_file_cancel() {
    let body = Body::FileCancel {
        transfer: TransferId(1),
        reason: CancelReason::HashMismatch,
    };
    packet("packet-file-cancel", 2, body);
}

#[test]
fn frame_client_to_server() {
    let mut buf = [0u8; MAX_CLIENT_FRAME];
    let n = encode_client_frame(&HELLO, &mut buf).unwrap();
    let expected = check_encoding("frame-hello", &buf[..n]);
    let mut decoder = FrameDecoder::new();
    assert_eq!(
        decode_frame::<ClientMsg<'_>>(&mut decoder, &expected),
        HELLO
    );
}

#[test]
fn frame_server_to_client() {
    let mut buf = [0u8; MAX_SERVER_FRAME];
    let n = encode_server_frame(&WELCOME, &mut buf).unwrap();
    let expected = check_encoding("frame-welcome", &buf[..n]);
    let mut decoder = FrameDecoder::new();
    assert_eq!(
        decode_frame::<ServerMsg<'_>>(&mut decoder, &expected),
        WELCOME
    );
}

/// Every example in the document is one of the tests above, and every kind has one.
#[test]
fn every_example_is_checked_and_every_kind_has_one() {
    let mut ids: Vec<String> = examples().into_iter().map(|(id, _)| id).collect();
    ids.sort();
    let mut checked = [
        "client-hello",
        "client-list",
        "client-ping",
        "client-bye",
        "server-welcome",
        "server-rejected",
        "server-snapshot",
        "server-joined",
        "server-left",
        "server-moved",
        "server-pong",
        "server-shutdown",
        "packet-probe",
        "packet-probe-reply",
        "packet-chat",
        "packet-ack",
        "packet-file-offer",
        "packet-file-accept",
        "packet-file-reject",
        "packet-file-chunk",
        "packet-file-ack",
        "packet-file-done",
        "packet-file-cancel",
        "frame-hello",
        "frame-welcome",
    ];
    checked.sort_unstable();
    assert_eq!(ids, checked);
    let count = |prefix: &str| checked.iter().filter(|id| id.starts_with(prefix)).count();
    assert_eq!(
        count("client-"),
        usize::from(<ClientMsg<'_> as Message>::KINDS)
    );
    assert_eq!(
        count("server-"),
        usize::from(<ServerMsg<'_> as Message>::KINDS)
    );
    assert_eq!(
        count("packet-"),
        usize::from(<Packet<'_> as Message>::KINDS)
    );
}

/// Each row of a reason table in the spec: `| byte | `Variant` |`.
fn assert_table_row<T: serde::Serialize + Debug>(value: T) {
    let mut buf = [0u8; 4];
    let bytes = postcard::to_slice(&value, &mut buf).unwrap();
    let row = format!("| {} | `{value:?}` |", bytes[0]);
    assert!(SPEC.contains(&row), "docs/PROTOCOL.md lacks the row {row}");
}

#[test]
fn reason_tables_match_the_encoding() {
    use CancelReason as C;
    use FileRejectReason as F;
    use RejectReason as R;
    let reject = [
        R::NameTaken,
        R::InvalidName,
        R::ServerFull,
        R::BadVersion,
        R::Protocol,
    ];
    reject.into_iter().for_each(assert_table_row);
    [F::NotTxt, F::BadName, F::TooLarge, F::Declined, F::Busy]
        .into_iter()
        .for_each(assert_table_row);
    let cancel = [
        C::Cancelled,
        C::HashMismatch,
        C::Timeout,
        C::WriteFailed,
        C::ReadFailed,
    ];
    cancel
        .into_iter()
        .chain([C::Protocol])
        .for_each(assert_table_row);
}

#[test]
fn limits_table_matches_the_constants() {
    let limits: [(&str, usize); 14] = [
        ("VERSION", usize::from(VERSION)),
        ("MAX_DATAGRAM", MAX_DATAGRAM),
        ("SEAL_HEADROOM", SEAL_HEADROOM),
        ("MAX_FRAME", MAX_FRAME),
        ("MAX_CLIENT_FRAME", MAX_CLIENT_FRAME),
        ("MAX_SERVER_FRAME", MAX_SERVER_FRAME),
        ("MAX_NAME_LEN", MAX_NAME_LEN),
        ("SNAPSHOT_PAGE", SNAPSHOT_PAGE),
        ("MAX_TEXT_LEN", MAX_TEXT_LEN),
        ("MAX_CHAT_FRAGMENT", MAX_CHAT_FRAGMENT),
        ("MAX_FRAGMENTS", MAX_FRAGMENTS),
        ("MAX_FILE_NAME_LEN", MAX_FILE_NAME_LEN),
        ("MAX_CHUNK", MAX_CHUNK),
        ("MAX_ACK_RANGES", MAX_ACK_RANGES),
    ];
    for (name, value) in limits {
        let row = format!("| `{name}` | {value} |");
        assert!(SPEC.contains(&row), "docs/PROTOCOL.md lacks the row {row}");
    }
}
