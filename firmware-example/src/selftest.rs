//! The no-argument self-test: a `Hello` frame, a `Chat` packet and a snapshot page go
//! through `proto`'s encoders and decoders and must come back equal. Everything lives in
//! fixed-size buffers on the stack.

use peerchat_proto::wire::{
    decode_packet, encode_client_frame, encode_packet, encode_server_frame, Body, Chat, ClientMsg,
    Feed, Frag, FrameDecoder, Packet, PeerId, PeerInfo, ServerMsg, SnapshotPage, WireAddr,
    MAX_CLIENT_FRAME, MAX_DATAGRAM, MAX_SERVER_FRAME,
};

/// Which check of the self-test failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Failure {
    /// The `Hello` frame did not encode.
    EncodeHello,
    /// The `Hello` frame did not decode to the same message.
    DecodeHello,
    /// The `Chat` packet did not encode.
    EncodeChat,
    /// The `Chat` packet did not decode to the same packet.
    DecodeChat,
    /// The snapshot page did not encode.
    EncodeSnapshot,
    /// The snapshot page did not decode to the same page.
    DecodeSnapshot,
}

impl core::fmt::Display for Failure {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Failure::EncodeHello => "Hello frame did not encode",
            Failure::DecodeHello => "Hello frame did not round-trip",
            Failure::EncodeChat => "Chat packet did not encode",
            Failure::DecodeChat => "Chat packet did not round-trip",
            Failure::EncodeSnapshot => "snapshot page did not encode",
            Failure::DecodeSnapshot => "snapshot page did not round-trip",
        })
    }
}

impl core::error::Error for Failure {}

/// Runs every check; the first failure is returned.
pub fn run() -> Result<(), Failure> {
    hello_frame()?;
    chat_packet()?;
    snapshot_page()
}

fn hello_frame() -> Result<(), Failure> {
    let msg = ClientMsg::Hello {
        name: "device-1",
        udp_port: 40_000,
    };
    let mut buf = [0u8; MAX_CLIENT_FRAME];
    let n = encode_client_frame(&msg, &mut buf).map_err(|_| Failure::EncodeHello)?;
    // The no-allocator proof (see the README): this call needs a heap, so this program
    // cannot link with it.
    #[cfg(feature = "alloc-demo")]
    let _ = postcard::to_allocvec(&msg);
    let mut decoder = FrameDecoder::<MAX_CLIENT_FRAME>::new();
    let round_trip = matches!(
        decoder.feed::<ClientMsg<'_>>(&buf[..n]),
        Feed::Frame { msg: Ok(got), rest } if got == msg && rest.is_empty()
    );
    round_trip.then_some(()).ok_or(Failure::DecodeHello)
}

fn chat_packet() -> Result<(), Failure> {
    let packet = Packet::new(
        PeerId(7),
        Body::Chat(Chat {
            seq: 1,
            base: 1,
            to_all: false,
            frag: Frag { index: 0, count: 1 },
            text: "hello from a device with no heap",
        }),
    );
    let mut buf = [0u8; MAX_DATAGRAM];
    let n = encode_packet(&packet, &mut buf).map_err(|_| Failure::EncodeChat)?;
    match decode_packet(&buf[..n]) {
        Ok(got) if got == packet => Ok(()),
        _ => Err(Failure::DecodeChat),
    }
}

fn snapshot_page() -> Result<(), Failure> {
    let mut peers = heapless::Vec::new();
    for (i, name) in ["alice", "bob", "device-1"].into_iter().enumerate() {
        let id = PeerId(i as u32 + 1);
        let addr = WireAddr::V4([127, 0, 0, 1], 40_000 + i as u16);
        // Three peers fit a page of `SNAPSHOT_PAGE` (32).
        let _ = peers.push(PeerInfo { id, name, addr });
    }
    let msg = ServerMsg::Snapshot(SnapshotPage {
        version: 3,
        page: 0,
        last: true,
        peers,
    });
    let mut buf = [0u8; MAX_SERVER_FRAME];
    let n = encode_server_frame(&msg, &mut buf).map_err(|_| Failure::EncodeSnapshot)?;
    let mut decoder = FrameDecoder::<MAX_SERVER_FRAME>::new();
    let round_trip = matches!(
        decoder.feed::<ServerMsg<'_>>(&buf[..n]),
        Feed::Frame { msg: Ok(got), rest } if got == msg && rest.is_empty()
    );
    round_trip.then_some(()).ok_or(Failure::DecodeSnapshot)
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_check_passes() {
        assert_eq!(super::run(), Ok(()));
    }
}
