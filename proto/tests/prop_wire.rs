//! Property tests of the wire format: arbitrary messages of every kind round-trip,
//! arbitrary bytes never panic a decoder, and frames split anywhere reassemble exactly.

use peerchat_proto::wire::*;
use proptest::collection::vec;
use proptest::prelude::*;

/// Strategies build owned strings; messages borrow them for the whole test run. The
/// few kilobytes leaked per case are a test's price for borrowed wire types.
fn leak(s: String) -> &'static str {
    s.leak()
}

fn leak_bytes(b: Vec<u8>) -> &'static [u8] {
    b.leak()
}

fn addr() -> impl Strategy<Value = WireAddr> {
    prop_oneof![
        (any::<[u8; 4]>(), any::<u16>()).prop_map(|(ip, port)| WireAddr::V4(ip, port)),
        (any::<[u8; 16]>(), any::<u16>()).prop_map(|(ip, port)| WireAddr::V6(ip, port)),
    ]
}

fn name() -> impl Strategy<Value = &'static str> {
    "[A-Za-z0-9_.-]{1,32}".prop_map(leak)
}

fn peer() -> impl Strategy<Value = PeerInfo<'static>> {
    (any::<u32>(), name(), addr()).prop_map(|(id, name, addr)| PeerInfo {
        id: PeerId(id),
        name,
        addr,
    })
}

fn reject_reason() -> impl Strategy<Value = RejectReason> {
    use RejectReason::*;
    prop::sample::select(vec![
        NameTaken,
        InvalidName,
        ServerFull,
        BadVersion,
        Protocol,
    ])
}

fn file_reject_reason() -> impl Strategy<Value = FileRejectReason> {
    use FileRejectReason::*;
    prop::sample::select(vec![NotTxt, BadName, TooLarge, Declined, Busy])
}

fn cancel_reason() -> impl Strategy<Value = CancelReason> {
    use CancelReason::*;
    let all = vec![
        Cancelled,
        HashMismatch,
        Timeout,
        WriteFailed,
        ReadFailed,
        Protocol,
    ];
    prop::sample::select(all)
}

fn client_msg() -> impl Strategy<Value = ClientMsg<'static>> {
    prop_oneof![
        (name(), any::<u16>()).prop_map(|(name, udp_port)| ClientMsg::Hello { name, udp_port }),
        Just(ClientMsg::List),
        Just(ClientMsg::Ping),
        Just(ClientMsg::Bye),
    ]
}

fn snapshot() -> impl Strategy<Value = ServerMsg<'static>> {
    let peers = vec(peer(), 0..=SNAPSHOT_PAGE);
    (any::<u64>(), any::<u32>(), any::<bool>(), peers).prop_map(|(version, page, last, p)| {
        let peers = heapless::Vec::from_slice(&p).expect("at most a page");
        ServerMsg::Snapshot(SnapshotPage {
            version,
            page,
            last,
            peers,
        })
    })
}

fn server_msg() -> impl Strategy<Value = ServerMsg<'static>> {
    let id = any::<u32>().prop_map(PeerId);
    prop_oneof![
        (id.clone(), addr(), any::<u64>(), any::<u32>()).prop_map(|(id, a, token, hb)| {
            ServerMsg::Welcome {
                id,
                observed_addr: a,
                probe_token: token,
                heartbeat_ms: hb,
            }
        }),
        reject_reason().prop_map(|reason| ServerMsg::Rejected { reason }),
        snapshot(),
        (any::<u64>(), peer()).prop_map(|(version, peer)| ServerMsg::Joined { version, peer }),
        (any::<u64>(), id.clone()).prop_map(|(version, id)| ServerMsg::Left { version, id }),
        (any::<u64>(), id, addr()).prop_map(|(version, id, addr)| ServerMsg::Moved {
            version,
            id,
            addr
        }),
        Just(ServerMsg::Pong),
        Just(ServerMsg::Shutdown),
    ]
}

fn chat() -> impl Strategy<Value = Body<'static>> {
    // 280 characters are at most 1120 bytes of UTF-8: under MAX_CHAT_FRAGMENT.
    let frag = (1..=MAX_FRAGMENTS as u8).prop_flat_map(|count| (0..count, Just(count)));
    (any::<u32>(), any::<bool>(), frag, ".{0,280}").prop_map(|(seq, to_all, (i, n), text)| {
        Body::Chat(Chat {
            seq,
            base: seq.wrapping_sub(u32::from(i)),
            to_all,
            frag: Frag { index: i, count: n },
            text: leak(text),
        })
    })
}

fn file_offer() -> impl Strategy<Value = Body<'static>> {
    let chunk_size = 1..=MAX_CHUNK as u16;
    let fields = (
        any::<u32>(),
        ".{0,63}",
        any::<u64>(),
        chunk_size,
        any::<[u8; 32]>(),
    );
    fields.prop_map(|(t, name, size, chunk_size, hash)| {
        Body::FileOffer(FileOffer {
            transfer: TransferId(t),
            name: leak(name),
            size,
            chunk_size,
            hash,
        })
    })
}

fn file_ack() -> impl Strategy<Value = Body<'static>> {
    let range = (any::<u32>(), any::<u32>()).prop_map(|(start, end)| ChunkRange { start, end });
    let ranges = vec(range, 0..=MAX_ACK_RANGES);
    (any::<u32>(), any::<u32>(), any::<u32>(), ranges).prop_map(|(t, cumulative, limit, r)| {
        Body::FileAck(FileAck {
            transfer: TransferId(t),
            cumulative,
            limit,
            ranges: heapless::Vec::from_slice(&r).expect("at most MAX_ACK_RANGES"),
        })
    })
}

fn body() -> impl Strategy<Value = Body<'static>> {
    let transfer = any::<u32>().prop_map(TransferId);
    prop_oneof![
        any::<u64>().prop_map(|token| Body::Probe { token }),
        addr().prop_map(|observed| Body::ProbeReply { observed }),
        chat(),
        (any::<u32>(), any::<u32>()).prop_map(|(next, above)| Body::Ack(Ack { next, above })),
        file_offer(),
        transfer
            .clone()
            .prop_map(|transfer| Body::FileAccept { transfer }),
        (transfer.clone(), file_reject_reason())
            .prop_map(|(transfer, reason)| Body::FileReject { transfer, reason }),
        (
            transfer.clone(),
            any::<u32>(),
            vec(any::<u8>(), 0..=MAX_CHUNK)
        )
            .prop_map(|(transfer, index, data)| Body::FileChunk(FileChunk {
                transfer,
                index,
                data: leak_bytes(data),
            })),
        file_ack(),
        transfer
            .clone()
            .prop_map(|transfer| Body::FileDone { transfer }),
        (transfer, cancel_reason())
            .prop_map(|(transfer, reason)| Body::FileCancel { transfer, reason }),
    ]
}

fn packet() -> impl Strategy<Value = Packet<'static>> {
    (any::<u32>(), body()).prop_map(|(sender, body)| Packet::new(PeerId(sender), body))
}

/// Cuts `bytes` at the given points (taken modulo its length) into consecutive pieces.
fn split_at_points<'a>(bytes: &'a [u8], points: &[usize]) -> Vec<&'a [u8]> {
    let mut cuts: Vec<usize> = points.iter().map(|p| p % (bytes.len() + 1)).collect();
    cuts.push(0);
    cuts.push(bytes.len());
    cuts.sort_unstable();
    cuts.windows(2).map(|w| &bytes[w[0]..w[1]]).collect()
}

/// Feeds `pieces` into a decoder and re-encodes every decoded server message as a frame.
fn reassemble_server(pieces: &[&[u8]]) -> Vec<Vec<u8>> {
    let mut decoder = FrameDecoder::<MAX_SERVER_FRAME>::new();
    let mut frames = Vec::new();
    for piece in pieces {
        let mut input = *piece;
        while let Feed::Frame { msg, rest } = decoder.feed::<ServerMsg<'_>>(input) {
            let mut buf = [0u8; MAX_SERVER_FRAME];
            let n = encode_server_frame(&msg.expect("valid frame"), &mut buf).unwrap();
            frames.push(buf[..n].to_vec());
            input = rest;
        }
    }
    assert!(!decoder.in_frame(), "bytes left over");
    frames
}

fn reassemble_client(pieces: &[&[u8]]) -> Vec<ClientMsg<'static>> {
    let mut decoder = FrameDecoder::<MAX_CLIENT_FRAME>::new();
    let mut msgs = Vec::new();
    for piece in pieces {
        let mut input = *piece;
        while let Feed::Frame { msg, rest } = decoder.feed::<ClientMsg<'_>>(input) {
            msgs.push(match msg.expect("valid frame") {
                ClientMsg::Hello { name, udp_port } => ClientMsg::Hello {
                    name: leak(name.to_owned()),
                    udp_port,
                },
                ClientMsg::List => ClientMsg::List,
                ClientMsg::Ping => ClientMsg::Ping,
                ClientMsg::Bye => ClientMsg::Bye,
            });
            input = rest;
        }
    }
    msgs
}

/// Feeds arbitrary chunks to a decoder of each message type; only panics matter.
fn feed_everything<const N: usize>(chunks: &[Vec<u8>]) {
    let mut client = FrameDecoder::<N>::new();
    let mut server = FrameDecoder::<N>::new();
    for chunk in chunks {
        let mut input = chunk.as_slice();
        while let Feed::Frame { rest, .. } = client.feed::<ClientMsg<'_>>(input) {
            input = rest;
        }
        let mut input = chunk.as_slice();
        while let Feed::Frame { rest, .. } = server.feed::<ServerMsg<'_>>(input) {
            input = rest;
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn packets_round_trip(packet in packet()) {
        let mut buf = [0u8; MAX_DATAGRAM];
        let n = encode_packet(&packet, &mut buf).unwrap();
        prop_assert!(n <= MAX_DATAGRAM - SEAL_HEADROOM);
        prop_assert_eq!(decode_packet(&buf[..n]), Ok(packet));
    }

    #[test]
    fn client_messages_round_trip(msg in client_msg()) {
        let mut buf = [0u8; MAX_CLIENT_FRAME];
        let n = encode_client(&msg, &mut buf).unwrap();
        prop_assert_eq!(decode_client(&buf[..n]), Ok(msg));
        let n = encode_client_frame(&msg, &mut buf).unwrap();
        prop_assert_eq!(reassemble_client(&[&buf[..n]]), vec![msg]);
    }

    #[test]
    fn server_messages_round_trip(msg in server_msg()) {
        let mut buf = [0u8; MAX_SERVER_FRAME];
        let n = encode_server(&msg, &mut buf).unwrap();
        prop_assert_eq!(decode_server(&buf[..n]), Ok(msg.clone()));
        let n = encode_server_frame(&msg, &mut buf).unwrap();
        let mut decoder = FrameDecoder::<MAX_SERVER_FRAME>::new();
        match decoder.feed::<ServerMsg<'_>>(&buf[..n]) {
            Feed::Frame { msg: got, rest } => {
                prop_assert!(rest.is_empty());
                prop_assert_eq!(got, Ok(msg));
            }
            Feed::Pending => prop_assert!(false, "frame not complete"),
        };
    }

    #[test]
    fn arbitrary_bytes_never_panic_the_decoders(bytes in vec(any::<u8>(), 0..1300)) {
        let _ = decode_packet(&bytes);
        let _ = decode_client(&bytes);
        let _ = decode_server(&bytes);
    }

    #[test]
    fn mutated_packets_never_panic(
        packet in packet(),
        flips in vec((any::<usize>(), any::<u8>()), 1..4),
    ) {
        let mut buf = [0u8; MAX_DATAGRAM];
        let n = encode_packet(&packet, &mut buf).unwrap();
        for (at, value) in flips {
            buf[at % n] = value;
        }
        let _ = decode_packet(&buf[..n]);
    }

    #[test]
    fn arbitrary_chunks_never_panic_the_frame_decoder(
        chunks in vec(vec(any::<u8>(), 0..300), 0..8),
    ) {
        feed_everything::<MAX_CLIENT_FRAME>(&chunks);
        feed_everything::<MAX_SERVER_FRAME>(&chunks);
    }

    #[test]
    fn server_frames_split_anywhere_reassemble_exactly(
        msgs in vec(server_msg(), 1..6),
        points in vec(any::<usize>(), 0..12),
    ) {
        let mut stream = Vec::new();
        let mut expected = Vec::new();
        for msg in &msgs {
            let mut buf = [0u8; MAX_SERVER_FRAME];
            let n = encode_server_frame(msg, &mut buf).unwrap();
            stream.extend_from_slice(&buf[..n]);
            expected.push(buf[..n].to_vec());
        }
        prop_assert_eq!(reassemble_server(&split_at_points(&stream, &points)), expected);
    }

    #[test]
    fn client_frames_split_anywhere_reassemble_exactly(
        msgs in vec(client_msg(), 1..10),
        points in vec(any::<usize>(), 0..12),
    ) {
        let mut stream = Vec::new();
        for msg in &msgs {
            let mut buf = [0u8; MAX_CLIENT_FRAME];
            let n = encode_client_frame(msg, &mut buf).unwrap();
            stream.extend_from_slice(&buf[..n]);
        }
        prop_assert_eq!(reassemble_client(&split_at_points(&stream, &points)), msgs);
    }

    #[test]
    fn encoders_write_postcards_own_bytes(
        packet in packet(),
        client in client_msg(),
        server in server_msg(),
    ) {
        let mut ours = [0u8; MAX_FRAME];
        let mut theirs = [0u8; MAX_FRAME];
        let n = encode_packet(&packet, &mut ours).unwrap();
        let unit = (VERSION, &packet.header, &packet.body);
        prop_assert_eq!(&ours[..n], &*postcard::to_slice(&unit, &mut theirs).unwrap());
        let n = encode_client(&client, &mut ours).unwrap();
        prop_assert_eq!(&ours[..n], &*postcard::to_slice(&(VERSION, &client), &mut theirs).unwrap());
        let n = encode_client_frame(&client, &mut ours).unwrap();
        let cobs = postcard::to_slice_cobs(&(VERSION, &client), &mut theirs).unwrap();
        prop_assert_eq!(&ours[..n], &*cobs);
        let n = encode_server(&server, &mut ours).unwrap();
        prop_assert_eq!(&ours[..n], &*postcard::to_slice(&(VERSION, &server), &mut theirs).unwrap());
        let n = encode_server_frame(&server, &mut ours).unwrap();
        let cobs = postcard::to_slice_cobs(&(VERSION, &server), &mut theirs).unwrap();
        prop_assert_eq!(&ours[..n], &*cobs);
    }
}
