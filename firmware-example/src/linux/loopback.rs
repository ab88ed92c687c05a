//! The platform half of the self-test, on 127.0.0.1: a `Chat` packet goes out of a UDP
//! socket to itself and must come back through `ppoll` and `recvfrom` before a deadline
//! on the monotonic clock; a `Hello` frame and a `Pong` frame cross a TCP connection
//! through the `embedded-io` `Read`/`Write` of [`TcpStream`].

use core::net::{Ipv4Addr, SocketAddr};

use embedded_io::{Read, Write};
use peerchat_proto::wire::{
    decode_packet, encode_client_frame, encode_packet, encode_server_frame, Body, Chat, ClientMsg,
    Feed, Frag, FrameDecoder, Packet, PeerId, ServerMsg, WireAddr, MAX_DATAGRAM, MAX_SERVER_FRAME,
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
    let me = WireAddr::V4([127, 0, 0, 1], udp.port());
    let packet = Packet::new(
        PeerId(1),
        Body::Chat(Chat {
            seq: 0,
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

/// Sends a `Hello` frame one way and a `Pong` frame back over one TCP connection.
fn tcp() -> Result<(), LoopbackError> {
    let localhost = SocketAddr::new(Ipv4Addr::LOCALHOST.into(), 0);
    let (mut client, mut server) =
        TcpStream::accept_one(localhost, |at| TcpStream::connect(at.into()))
            .map_err(|_| LoopbackError::Connect)?;
    let mut buf = [0u8; MAX_SERVER_FRAME];
    let hello = ClientMsg::Hello {
        name: "device-1",
        udp_port: 40_000,
    };
    let n = encode_client_frame(&hello, &mut buf).map_err(|_| LoopbackError::Mismatch)?;
    client
        .write_all(&buf[..n])
        .map_err(|_| LoopbackError::Stream)?;
    let n = read_frame(&mut server, &mut buf)?;
    let got_hello = matches!(
        FrameDecoder::<MAX_SERVER_FRAME>::new().feed::<ClientMsg<'_>>(&buf[..n]),
        Feed::Frame { msg: Ok(msg), .. } if msg == hello
    );
    let n = encode_server_frame(&ServerMsg::Pong, &mut buf).map_err(|_| LoopbackError::Mismatch)?;
    server
        .write_all(&buf[..n])
        .map_err(|_| LoopbackError::Stream)?;
    let n = read_frame(&mut client, &mut buf)?;
    let got_pong = matches!(
        FrameDecoder::<MAX_SERVER_FRAME>::new().feed::<ServerMsg<'_>>(&buf[..n]),
        Feed::Frame {
            msg: Ok(ServerMsg::Pong),
            ..
        }
    );
    (got_hello && got_pong)
        .then_some(())
        .ok_or(LoopbackError::Mismatch)
}

/// Reads from `stream` into `buf` until a frame terminator (0x00) arrives; returns the
/// length up to and including it.
fn read_frame(stream: &mut TcpStream, buf: &mut [u8]) -> Result<usize, LoopbackError> {
    let mut len = 0;
    while !buf[..len].contains(&0) {
        let n = match stream.read(&mut buf[len..]) {
            Ok(0) | Err(_) => return Err(LoopbackError::Stream),
            Ok(n) => n,
        };
        len += n;
    }
    Ok(len)
}
