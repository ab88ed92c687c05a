//! The platform half of the self-test, on 127.0.0.1: a `Chat` packet goes out of a UDP
//! socket to itself and must come back through `ppoll` and `recvfrom` before a deadline
//! on the monotonic clock; a `Hello` frame and a `Pong` frame cross a TCP connection
//! through the `embedded-io` `Read`/`Write` of [`TcpStream`].

use core::net::{Ipv4Addr, SocketAddr};

use peerchat_proto::wire::{
    decode_packet, encode_packet, write_client_frame, write_server_frame, Body, Chat, ClientMsg,
    Frag, FrameReader, Packet, PeerId, ServerMsg, MAX_CLIENT_FRAME, MAX_DATAGRAM, MAX_SERVER_FRAME,
};
use peerchat_proto::Duration;

use super::net::{TcpStream, UdpSocket};
use super::{clock, wait};

/// Which step of the loopback failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub(crate) enum LoopbackError {
    /// The socket could not be bound.
    Bind,
    /// The datagram could not be sent.
    Send,
    /// Nothing came back before the deadline.
    Timeout,
    /// Something other than what was sent came back.
    Mismatch,
    /// The TCP connection could not be made.
    Connect,
    /// The TCP stream failed.
    Stream,
}

impl core::fmt::Display for LoopbackError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            LoopbackError::Bind => "cannot bind a UDP socket",
            LoopbackError::Send => "cannot send a datagram",
            LoopbackError::Timeout => "datagram did not come back within 2 s",
            LoopbackError::Mismatch => "something else came back",
            LoopbackError::Connect => "cannot connect over TCP",
            LoopbackError::Stream => "the TCP stream failed",
        })
    }
}

/// Runs the UDP and TCP loopbacks.
pub(crate) fn run() -> Result<(), LoopbackError> {
    udp()?;
    tcp()
}

/// Sends a packet to ourselves and checks it comes back intact.
fn udp() -> Result<(), LoopbackError> {
    let localhost = SocketAddr::new(Ipv4Addr::LOCALHOST.into(), 0);
    let mut udp = UdpSocket::bind_any(localhost).map_err(|_| LoopbackError::Bind)?;
    let me = SocketAddr::new(Ipv4Addr::LOCALHOST.into(), udp.port());
    let packet = Packet::new(
        PeerId(1),
        Body::Chat(Chat {
            seq: 0,
            base: 0,
            to_all: false,
            frag: Frag { index: 0, count: 1 },
            text: "loopback",
        }),
    );
    let mut buf = [0u8; MAX_DATAGRAM];
    let n = encode_packet(&packet, &mut buf).map_err(|_| LoopbackError::Mismatch)?;
    udp.send_to(me, &buf[..n])
        .map_err(|_| LoopbackError::Send)?;
    let deadline = clock::now() + Duration::from_secs(2);
    loop {
        if let Ok(Some((n, from))) = udp.recv_from(&mut buf) {
            let same = from == me && decode_packet(&buf[..n]).is_ok_and(|p| p == packet);
            return same.then_some(()).ok_or(LoopbackError::Mismatch);
        }
        if clock::now() >= deadline {
            return Err(LoopbackError::Timeout);
        }
        let _ = wait(-1, udp.fd(), Some(deadline));
    }
}

/// Sends a `Hello` frame one way and a `Pong` frame back over one TCP connection,
/// with `proto`'s `embedded-io` stream helpers.
fn tcp() -> Result<(), LoopbackError> {
    let localhost = SocketAddr::new(Ipv4Addr::LOCALHOST.into(), 0);
    let (mut client, mut server) =
        TcpStream::accept_one(localhost, TcpStream::connect).map_err(|_| LoopbackError::Connect)?;
    let mut scratch = [0u8; MAX_CLIENT_FRAME];
    let hello = ClientMsg::Hello {
        name: "device-1",
        udp_port: 40_000,
    };
    write_client_frame(&mut client, &hello, &mut scratch).map_err(|_| LoopbackError::Stream)?;
    let mut at_server = FrameReader::<MAX_CLIENT_FRAME>::new();
    let got = at_server.read::<ClientMsg<'_>, _>(&mut server);
    let got_hello = got.as_ref() == Ok(&hello);
    write_server_frame(&mut server, &ServerMsg::Pong, &mut scratch)
        .map_err(|_| LoopbackError::Stream)?;
    let mut at_client = FrameReader::<MAX_SERVER_FRAME>::new();
    let got = at_client.read::<ServerMsg<'_>, _>(&mut client);
    let got_pong = got == Ok(ServerMsg::Pong);
    (got_hello && got_pong)
        .then_some(())
        .ok_or(LoopbackError::Mismatch)
}
