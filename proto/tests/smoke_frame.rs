use peerchat_proto::wire::*;

#[test]
fn frame_round_trip_and_versions() {
    let mut buf = [0u8; 256];
    let msg = ClientMsg::Hello {
        name: "alice",
        udp_port: 4000,
    };
    let n = encode_client_frame(&msg, &mut buf).unwrap();
    let mut dec = FrameDecoder::<MAX_CLIENT_FRAME>::new();
    match dec.feed::<ClientMsg>(&buf[..n]) {
        Feed::Frame { msg: Ok(m), rest } => {
            assert_eq!(m, msg);
            assert!(rest.is_empty());
        }
        other => panic!("{other:?}"),
    }
    // version 2 frame
    let n = postcard::to_slice_cobs(&(2u8, &msg), &mut buf)
        .unwrap()
        .len();
    match dec.feed::<ClientMsg>(&buf[..n]) {
        Feed::Frame {
            msg: Err(DecodeError::UnknownVersion(2)),
            ..
        } => {}
        other => panic!("{other:?}"),
    }
    let n = encode_client(&msg, &mut buf).unwrap();
    println!("{:02x?}", &buf[..n]);
    let mut small = [0u8; 4];
    assert_eq!(
        encode_client(&msg, &mut small),
        Err(EncodeError::BufferTooSmall { needed: n })
    );
    assert_eq!(decode_client(&[1, 9]), Err(DecodeError::UnknownKind(9)));
    let p = Packet::new(PeerId(7), Body::Ack(Ack { next: 3, above: 0 }));
    let n = encode_packet(&p, &mut buf).unwrap();
    println!("{:02x?}", &buf[..n]);
    assert_eq!(decode_packet(&buf[..n]).unwrap(), p);
}
