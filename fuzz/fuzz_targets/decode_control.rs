//! Any control unit, read as a client message and as a server message: decoding never
//! panics, and whatever decodes re-encodes to a unit that decodes to the same message.
#![no_main]

use libfuzzer_sys::fuzz_target;
use peerchat_proto::wire::{
    decode_client, decode_server, encode_client, encode_server, MAX_SERVER_FRAME,
};

fuzz_target!(|data: &[u8]| {
    let mut buf = [0u8; MAX_SERVER_FRAME];
    if let Ok(msg) = decode_client(data) {
        let n = encode_client(&msg, &mut buf).expect("a decoded message is within limits");
        assert_eq!(decode_client(&buf[..n]), Ok(msg));
    }
    if let Ok(msg) = decode_server(data) {
        let n = encode_server(&msg, &mut buf).expect("a decoded message is within limits");
        assert_eq!(decode_server(&buf[..n]), Ok(msg));
    }
});
