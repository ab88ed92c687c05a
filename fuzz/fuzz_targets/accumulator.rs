//! Any byte stream, cut into chunks whose size the first byte picks, fed to the frame
//! decoder of each side: nothing panics, and every decoded message re-encodes to a
//! frame that decodes to the same message.
#![no_main]

use libfuzzer_sys::fuzz_target;
use peerchat_proto::wire::{
    decode_client, decode_server, encode_client, encode_server, ClientMsg, Feed, FrameDecoder,
    ServerMsg, MAX_CLIENT_FRAME, MAX_SERVER_FRAME,
};

fuzz_target!(|data: &[u8]| {
    let Some((&first, stream)) = data.split_first() else {
        return;
    };
    let chunk = usize::from(first % 64) + 1;
    let mut client = FrameDecoder::<MAX_CLIENT_FRAME>::new();
    let mut server = FrameDecoder::<MAX_SERVER_FRAME>::new();
    let mut buf = [0u8; MAX_SERVER_FRAME];
    for piece in stream.chunks(chunk) {
        let mut input = piece;
        while let Feed::Frame { msg, rest } = client.feed::<ClientMsg<'_>>(input) {
            if let Ok(msg) = msg {
                let n = encode_client(&msg, &mut buf).expect("decoded, so within limits");
                assert_eq!(decode_client(&buf[..n]), Ok(msg));
            }
            input = rest;
        }
        let mut input = piece;
        while let Feed::Frame { msg, rest } = server.feed::<ServerMsg<'_>>(input) {
            if let Ok(msg) = msg {
                let n = encode_server(&msg, &mut buf).expect("decoded, so within limits");
                assert_eq!(decode_server(&buf[..n]), Ok(msg));
            }
            input = rest;
        }
    }
});
