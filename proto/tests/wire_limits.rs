//! The largest message of each channel fits its limit, over-limit messages are refused
//! on both ends, and `BufferTooSmall { needed }` names the exact size.

mod support;

use peerchat_proto::wire::*;

const MAX_V6: WireAddr = WireAddr::V6([0xff; 16], u16::MAX);
/// 32 bytes of name characters (no zero bytes: the worst case for COBS).
const LONG_NAME: &str = "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz";
const CHUNK: [u8; MAX_CHUNK] = [0xff; MAX_CHUNK];

fn max_peer<'a>() -> PeerInfo<'a> {
    PeerInfo {
        id: PeerId(u32::MAX),
        name: LONG_NAME,
        addr: MAX_V6,
    }
}

fn full_page(peer: PeerInfo<'_>) -> ServerMsg<'_> {
    let mut peers = heapless::Vec::new();
    while peers.push(peer).is_ok() {}
    ServerMsg::Snapshot(SnapshotPage {
        version: u64::MAX,
        page: u32::MAX,
        last: true,
        peers,
    })
}

fn largest_client_msgs<'a>() -> [ClientMsg<'a>; 4] {
    let hello = ClientMsg::Hello {
        name: LONG_NAME,
        udp_port: u16::MAX,
    };
    [hello, ClientMsg::List, ClientMsg::Ping, ClientMsg::Bye]
}

fn largest_server_msgs<'a>() -> Vec<ServerMsg<'a>> {
    let version = u64::MAX;
    let id = PeerId(u32::MAX);
    vec![
        ServerMsg::Welcome {
            id,
            observed_addr: MAX_V6,
            probe_token: u64::MAX,
            heartbeat_ms: u32::MAX,
        },
        ServerMsg::Rejected {
            reason: RejectReason::Protocol,
        },
        full_page(max_peer()),
        ServerMsg::Joined {
            version,
            peer: max_peer(),
        },
        ServerMsg::Left { version, id },
        ServerMsg::Moved {
            version,
            id,
            addr: MAX_V6,
        },
        ServerMsg::Pong,
        ServerMsg::Shutdown,
    ]
}

/// Every body at its largest: all numbers at their maximum, every text and list full.
fn largest_bodies() -> Vec<Body<'static>> {
    let transfer = TransferId(u32::MAX);
    let text: &'static str = "x".repeat(MAX_CHAT_FRAGMENT).leak();
    let file_name: &'static str = "n".repeat(MAX_FILE_NAME_LEN).leak();
    let range = ChunkRange {
        start: u32::MAX,
        end: u32::MAX,
    };
    vec![
        Body::Probe { token: u64::MAX },
        Body::ProbeReply { observed: MAX_V6 },
        Body::Chat(Chat {
            seq: u32::MAX,
            base: u32::MAX,
            to_all: true,
            frag: Frag {
                index: 15,
                count: 16,
            },
            text,
        }),
        Body::Ack(Ack {
            next: u32::MAX,
            above: u32::MAX,
        }),
        Body::FileOffer(FileOffer {
            transfer,
            name: file_name,
            size: u64::MAX,
            chunk_size: MAX_CHUNK as u16,
            hash: [0xff; 32],
        }),
        Body::FileAccept { transfer },
        Body::FileReject {
            transfer,
            reason: FileRejectReason::Busy,
        },
        Body::FileChunk(FileChunk {
            transfer,
            index: u32::MAX,
            data: &CHUNK,
        }),
        Body::FileAck(FileAck {
            transfer,
            cumulative: u32::MAX,
            limit: u32::MAX,
            ranges: heapless::Vec::from_slice(&[range; MAX_ACK_RANGES]).unwrap(),
        }),
        Body::FileDone { transfer },
        Body::FileCancel {
            transfer,
            reason: CancelReason::Protocol,
        },
    ]
}

#[test]
fn largest_client_frame_fits_max_client_frame() {
    let mut buf = [0u8; MAX_FRAME];
    for msg in largest_client_msgs() {
        let n = encode_client_frame(&msg, &mut buf).unwrap();
        assert!(n <= MAX_CLIENT_FRAME, "{msg:?}: {n} bytes");
        let mut decoder = FrameDecoder::<MAX_CLIENT_FRAME>::new();
        match decoder.feed::<ClientMsg<'_>>(&buf[..n]) {
            Feed::Frame { msg: Ok(got), .. } => assert_eq!(got, msg),
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn largest_server_frame_fits_max_server_frame() {
    let mut buf = [0u8; MAX_FRAME];
    for msg in largest_server_msgs() {
        let n = encode_server_frame(&msg, &mut buf).unwrap();
        assert!(n <= MAX_SERVER_FRAME, "{msg:?}: {n} bytes");
        let mut decoder = FrameDecoder::<MAX_SERVER_FRAME>::new();
        match decoder.feed::<ServerMsg<'_>>(&buf[..n]) {
            Feed::Frame { msg: Ok(got), .. } => assert_eq!(got, msg),
            other => panic!("{other:?}"),
        };
    }
}

#[test]
fn largest_packets_leave_seal_headroom() {
    let mut buf = [0u8; MAX_DATAGRAM];
    for body in largest_bodies() {
        let packet = Packet::new(PeerId(u32::MAX), body);
        let n = encode_packet(&packet, &mut buf).unwrap();
        assert!(
            n <= MAX_DATAGRAM - SEAL_HEADROOM,
            "{:?}: {n} bytes",
            packet.body
        );
        assert_eq!(decode_packet(&buf[..n]).as_ref(), Ok(&packet));
    }
}

/// Encodes `unit` without any limit check, as a broken or hostile peer could.
fn raw<T: serde::Serialize>(unit: &T) -> Vec<u8> {
    let mut buf = vec![0u8; 4 * MAX_SERVER_FRAME];
    let n = postcard::to_slice(unit, &mut buf).unwrap().len();
    buf.truncate(n);
    buf
}

fn over_limit_packet(body: Body<'_>, limit: Limit) {
    let packet = Packet::new(PeerId(7), body);
    let mut buf = [0u8; 2 * MAX_DATAGRAM];
    assert_eq!(
        encode_packet(&packet, &mut buf),
        Err(EncodeError::OverLimit(limit)),
        "{:?}",
        packet.body
    );
    let bytes = raw(&(VERSION, &packet.header, &packet.body));
    assert_eq!(decode_packet(&bytes), Err(DecodeError::OverLimit(limit)));
}

fn chat(text: &str, index: u8, count: u8) -> Body<'_> {
    Body::Chat(Chat {
        seq: 1,
        base: 1,
        to_all: false,
        frag: Frag { index, count },
        text,
    })
}

#[test]
fn over_limit_packets_are_refused_both_ways() {
    let long_text = "x".repeat(MAX_CHAT_FRAGMENT + 1);
    over_limit_packet(chat(&long_text, 0, 1), Limit::Text);
    over_limit_packet(chat("x", 0, 0), Limit::Fragments);
    over_limit_packet(chat("x", 3, 3), Limit::Fragments);
    over_limit_packet(chat("x", 0, MAX_FRAGMENTS as u8 + 1), Limit::Fragments);
    let offer = |name, chunk_size| {
        Body::FileOffer(FileOffer {
            transfer: TransferId(1),
            name,
            size: 10,
            chunk_size,
            hash: [0; 32],
        })
    };
    let long_name = "n".repeat(MAX_FILE_NAME_LEN + 1);
    over_limit_packet(offer(&long_name, 100), Limit::FileName);
    over_limit_packet(offer("a.txt", 0), Limit::Chunk);
    over_limit_packet(offer("a.txt", MAX_CHUNK as u16 + 1), Limit::Chunk);
    let data = [1u8; MAX_CHUNK + 1];
    let chunk = FileChunk {
        transfer: TransferId(1),
        index: 0,
        data: &data,
    };
    over_limit_packet(Body::FileChunk(chunk), Limit::Chunk);
}

#[test]
fn datagram_over_max_is_refused_before_decoding() {
    let mut bytes = support::example("packet-ack");
    bytes.resize(MAX_DATAGRAM + 1, 0);
    assert_eq!(
        decode_packet(&bytes),
        Err(DecodeError::OverLimit(Limit::Datagram))
    );
}

#[test]
fn over_long_names_are_refused_both_ways() {
    let name = "n".repeat(MAX_NAME_LEN + 1);
    let hello = ClientMsg::Hello {
        name: &name,
        udp_port: 1,
    };
    let mut buf = [0u8; 256];
    let over = Err(EncodeError::OverLimit(Limit::Name));
    assert_eq!(encode_client(&hello, &mut buf), over);
    assert_eq!(encode_client_frame(&hello, &mut buf), over);
    let unit = raw(&(VERSION, &hello));
    assert_eq!(
        decode_client(&unit),
        Err(DecodeError::OverLimit(Limit::Name))
    );
    let frame = support::frame_of(&unit);
    let mut decoder = FrameDecoder::<MAX_CLIENT_FRAME>::new();
    match decoder.feed::<ClientMsg<'_>>(&frame) {
        Feed::Frame { msg, .. } => assert_eq!(msg, Err(DecodeError::OverLimit(Limit::Name))),
        Feed::Pending => panic!("frame not complete"),
    }
    let peer = PeerInfo {
        name: &name,
        ..max_peer()
    };
    for msg in [ServerMsg::Joined { version: 1, peer }, full_page(peer)] {
        assert_eq!(encode_server(&msg, &mut [0u8; 4096]), over);
        let unit = raw(&(VERSION, &msg));
        assert_eq!(
            decode_server(&unit),
            Err(DecodeError::OverLimit(Limit::Name))
        );
    }
}

#[test]
fn frame_over_the_decoder_size_is_refused_and_the_stream_goes_on() {
    let unit = raw(&(
        VERSION,
        ClientMsg::Hello {
            name: LONG_NAME,
            udp_port: 1,
        },
    ));
    let big = support::frame_of(&unit);
    let mut small = vec![0u8; 64];
    let n = encode_client_frame(&ClientMsg::Ping, &mut small).unwrap();
    let mut stream = big.clone();
    stream.extend_from_slice(&small[..n]);
    let mut decoder = FrameDecoder::<16>::new();
    let rest = match decoder.feed::<ClientMsg<'_>>(&stream) {
        Feed::Frame { msg, rest } => {
            assert_eq!(msg, Err(DecodeError::OverLimit(Limit::Frame)));
            rest
        }
        Feed::Pending => panic!("over-long frame not noticed"),
    };
    // Fed in pieces, the over-long frame is noticed too; then the next frame decodes.
    let mut decoder = FrameDecoder::<16>::new();
    let (head, tail) = big.split_at(10);
    assert!(matches!(decoder.feed::<ClientMsg<'_>>(head), Feed::Pending));
    assert!(matches!(
        decoder.feed::<ClientMsg<'_>>(tail),
        Feed::Frame {
            msg: Err(DecodeError::OverLimit(Limit::Frame)),
            ..
        }
    ));
    match decoder.feed::<ClientMsg<'_>>(rest) {
        Feed::Frame { msg, rest } => {
            assert_eq!(msg, Ok(ClientMsg::Ping));
            assert!(rest.is_empty());
        }
        Feed::Pending => panic!("next frame lost"),
    }
}

/// Encoding into one byte less than the encoding's length fails naming that length, and
/// into exactly that length succeeds.
fn assert_exact<E>(encode: E)
where
    E: Fn(&mut [u8]) -> Result<usize, EncodeError>,
{
    let mut buf = vec![0u8; MAX_FRAME];
    let n = encode(&mut buf).unwrap();
    for short in [0, n / 2, n - 1] {
        let got = encode(&mut buf[..short]);
        assert_eq!(
            got,
            Err(EncodeError::BufferTooSmall { needed: n }),
            "{short} of {n}"
        );
    }
    assert_eq!(encode(&mut buf[..n]), Ok(n));
}

#[test]
fn buffer_too_small_names_the_exact_size() {
    for msg in largest_client_msgs() {
        assert_exact(|buf| encode_client(&msg, buf));
        assert_exact(|buf| encode_client_frame(&msg, buf));
    }
    // A page with many zero bytes (IPv4 10.0.0.x) and one with none: COBS overhead
    // differs, and `needed` must follow it exactly.
    let zeros = PeerInfo {
        id: PeerId(1),
        name: "a",
        addr: WireAddr::V4([10, 0, 0, 1], 256),
    };
    let mut server = largest_server_msgs();
    server.push(full_page(zeros));
    for msg in server {
        assert_exact(|buf| encode_server(&msg, buf));
        assert_exact(|buf| encode_server_frame(&msg, buf));
    }
    for body in largest_bodies() {
        let packet = Packet::new(PeerId(3), body);
        assert_exact(|buf| encode_packet(&packet, buf));
    }
}
