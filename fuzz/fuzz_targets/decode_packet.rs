//! Any datagram: decoding never panics, and whatever decodes re-encodes to a datagram
//! that decodes to the same packet.
#![no_main]

use libfuzzer_sys::fuzz_target;
use peerchat_proto::wire::{decode_packet, encode_packet, MAX_DATAGRAM};

fuzz_target!(|data: &[u8]| {
    let Ok(packet) = decode_packet(data) else {
        return;
    };
    let mut buf = [0u8; MAX_DATAGRAM];
    let n = encode_packet(&packet, &mut buf).expect("a decoded packet is within limits");
    assert_eq!(decode_packet(&buf[..n]), Ok(packet));
});
