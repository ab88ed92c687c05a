//! Refusals: an unknown version, kind or flag, trailing bytes and truncation are each
//! rejected with their own error by every decoder, framed or not.

mod support;

use peerchat_proto::wire::*;
use support::{examples, frame_of};

/// Which decoder an example belongs to, by its id.
#[derive(Clone, Copy, Debug)]
enum Channel {
    Client,
    Server,
    Packet,
}

fn channel(id: &str) -> Option<Channel> {
    match id.split('-').next() {
        Some("client") => Some(Channel::Client),
        Some("server") => Some(Channel::Server),
        Some("packet") => Some(Channel::Packet),
        _ => None,
    }
}

/// Decodes `unit` as `ch` (discarding the value).
fn decode(ch: Channel, unit: &[u8]) -> Result<(), DecodeError> {
    match ch {
        Channel::Client => decode_client(unit).map(drop),
        Channel::Server => decode_server(unit).map(drop),
        Channel::Packet => decode_packet(unit).map(drop),
    }
}

/// Frames `unit` and decodes it with a [`FrameDecoder`] (control channels only).
fn decode_framed(ch: Channel, unit: &[u8]) -> Result<(), DecodeError> {
    let frame = frame_of(unit);
    let mut decoder = FrameDecoder::<MAX_FRAME>::new();
    let (result, rest) = match ch {
        Channel::Client => match decoder.feed::<ClientMsg<'_>>(&frame) {
            Feed::Frame { msg, rest } => (msg.map(drop), rest),
            Feed::Pending => panic!("frame incomplete"),
        },
        Channel::Server => match decoder.feed::<ServerMsg<'_>>(&frame) {
            Feed::Frame { msg, rest } => (msg.map(drop), rest),
            Feed::Pending => panic!("frame incomplete"),
        },
        Channel::Packet => unreachable!("packets are not framed"),
    };
    assert!(rest.is_empty());
    result
}

/// Every unit example in the spec with its channel.
fn units() -> Vec<(String, Channel, Vec<u8>)> {
    examples()
        .into_iter()
        .filter_map(|(id, bytes)| channel(&id).map(|ch| (id, ch, bytes)))
        .collect()
}

/// Decodes with the plain decoder and, on the control channel, framed too.
fn assert_refused(ch: Channel, unit: &[u8], expected: DecodeError, what: &str) {
    assert_eq!(decode(ch, unit), Err(expected), "{what}");
    if !matches!(ch, Channel::Packet) {
        assert_eq!(decode_framed(ch, unit), Err(expected), "{what} (framed)");
    }
}

#[test]
fn the_examples_decode_framed_and_unframed() {
    for (id, ch, unit) in units() {
        assert_eq!(decode(ch, &unit), Ok(()), "{id}");
        if !matches!(ch, Channel::Packet) {
            assert_eq!(decode_framed(ch, &unit), Ok(()), "{id} (framed)");
        }
    }
}

#[test]
fn unknown_version_is_named() {
    for (id, ch, unit) in units() {
        for version in [0u8, 2, 0x80, 0xff] {
            let mut other = unit.clone();
            other[0] = version;
            let expected = DecodeError::UnknownVersion(version);
            assert_refused(ch, &other, expected, &format!("{id} as version {version}"));
        }
    }
}

#[test]
fn unknown_kind_is_named() {
    let cases: [(Channel, &[u8], u8); 6] = [
        (Channel::Client, &[1, 4], 4),
        (Channel::Client, &[1, 0x7f], 0x7f),
        (Channel::Client, &[1, 0x80, 0x01], 0x80),
        (Channel::Server, &[1, 8], 8),
        (Channel::Server, &[1, 0xff, 0x01, 0x00], 0xff),
        (Channel::Packet, &[1, 0, 7, 11], 11),
    ];
    for (ch, unit, kind) in cases {
        let what = format!("{ch:?} kind {kind}");
        assert_refused(ch, unit, DecodeError::UnknownKind(kind), &what);
    }
}

#[test]
fn packet_flags_are_refused() {
    let ack = support::example("packet-ack");
    for flags in [0x01, 0x02, 0x80, 0xff] {
        let mut flagged = ack.clone();
        flagged[1] = flags;
        assert_eq!(
            decode_packet(&flagged),
            Err(DecodeError::UnsupportedFlags(flags))
        );
    }
}

#[test]
fn trailing_bytes_are_malformed() {
    for (id, ch, unit) in units() {
        for extra in [0x00u8, 0x01, 0xff] {
            let mut longer = unit.clone();
            longer.push(extra);
            let what = format!("{id} + {extra:02x}");
            assert_refused(ch, &longer, DecodeError::Malformed, &what);
        }
    }
}

#[test]
fn every_truncation_is_malformed() {
    for (id, ch, unit) in units() {
        for len in 0..unit.len() {
            let what = format!("{id} cut to {len} bytes");
            assert_refused(ch, &unit[..len], DecodeError::Malformed, &what);
        }
    }
}

#[test]
fn invalid_field_values_are_malformed() {
    let malformed = DecodeError::Malformed;
    // Name "a\xff": not UTF-8.
    assert_refused(
        Channel::Client,
        &[1, 0, 2, b'a', 0xff, 1],
        malformed,
        "utf-8",
    );
    // Chat with to_all = 2.
    let chat = [1, 0, 7, 2, 1, 2, 0, 1, 1, b'x'];
    assert_refused(Channel::Packet, &chat, malformed, "bool");
    // Address kind 2.
    let moved = [1, 5, 1, 1, 2, 1, 2, 3, 4, 5];
    assert_refused(Channel::Server, &moved, malformed, "address kind");
    // A snapshot page claiming 33 peers.
    let page = [1, 2, 1, 0, 1, 33];
    assert_refused(Channel::Server, &page, malformed, "page size");
    // A varint longer than its type allows.
    let ping_kind_overlong = [1, 0x82, 0x80, 0x80, 0x80, 0x80, 0x00];
    assert!(decode(Channel::Client, &ping_kind_overlong).is_err());
}

#[test]
fn an_empty_frame_is_malformed() {
    let mut decoder = FrameDecoder::<MAX_CLIENT_FRAME>::new();
    match decoder.feed::<ClientMsg<'_>>(&[0]) {
        Feed::Frame { msg, rest } => {
            assert_eq!(msg, Err(DecodeError::Malformed));
            assert!(rest.is_empty());
        }
        Feed::Pending => panic!("terminator not seen"),
    }
    assert!(!decoder.in_frame());
}

#[test]
fn errors_read_as_documented() {
    let cases = [
        (
            DecodeError::UnknownVersion(2).to_string(),
            "unknown protocol version 2",
        ),
        (
            DecodeError::UnknownKind(200).to_string(),
            "unknown message kind 200",
        ),
        (
            DecodeError::UnsupportedFlags(1).to_string(),
            "unsupported header flags 0x01",
        ),
        (
            DecodeError::UnsupportedFlags(0xfe).to_string(),
            "unsupported header flags 0xfe",
        ),
        (DecodeError::Malformed.to_string(), "malformed message"),
        (
            DecodeError::OverLimit(Limit::Datagram).to_string(),
            "message over limit: datagram over 1200 bytes",
        ),
        (
            EncodeError::BufferTooSmall { needed: 1201 }.to_string(),
            "buffer too small: 1201 bytes needed",
        ),
        (
            EncodeError::OverLimit(Limit::Name).to_string(),
            "message over limit: name over 32 bytes",
        ),
    ];
    for (got, expected) in cases {
        assert_eq!(got, expected);
    }
}
