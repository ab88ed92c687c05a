//! The engine's UDP socket, batched both ways through `quinn-udp`:
//!
//! - **Sending**: consecutive datagrams the core produces for one destination with one
//!   length (file chunks, mostly) leave in a single `sendmsg` with UDP GSO
//!   (`UDP_SEGMENT`); the last of a batch may be shorter. Where GSO is missing each
//!   datagram is its own send.
//! - **Receiving**: one `recvmmsg` reads several buffers, and with UDP GRO each buffer
//!   may hold many datagrams of one sender, split at the reported stride.
//!
//! This module only moves bytes: which datagrams go out, when, and what a received one
//! means stay the core's decisions.

use core::net::SocketAddr;
use std::io::{self, IoSliceMut};

use peerchat_proto::wire::MAX_DATAGRAM;
use quinn_udp::{RecvMeta, Transmit, UdpSockRef, UdpSocketState};
use tokio::io::Interest;
use tokio::net::UdpSocket;

/// The largest UDP payload over IPv4: a GSO batch never exceeds it.
const MAX_GSO_BYTES: usize = 65_507;
/// Buffers filled by one `recvmmsg`.
const RECV_BUFFERS: usize = 16;
/// Bytes per receive buffer: a whole GRO batch (the kernel keeps one under 64 KiB).
const RECV_BUFFER: usize = 64 * 1024;
/// Socket buffer sizes asked for (the kernel caps them at its `rmem_max`/`wmem_max`):
/// room for bursts of file chunks while the engine is busy elsewhere.
const SOCKET_BUFFER: usize = 4 << 20;

/// The engine's socket and its batching state.
pub(super) struct Udp {
    socket: UdpSocket,
    state: UdpSocketState,
}

impl Udp {
    /// Binds `0.0.0.0:port` and turns on GRO where the system has it.
    pub(super) async fn bind(port: u16) -> io::Result<Udp> {
        let socket = UdpSocket::bind(("0.0.0.0", port)).await?;
        let state = UdpSocketState::new(UdpSockRef::from(&socket))?;
        // Best effort: a smaller buffer only means more loss under bursts.
        let _ = state.set_recv_buffer_size(UdpSockRef::from(&socket), SOCKET_BUFFER);
        let _ = state.set_send_buffer_size(UdpSockRef::from(&socket), SOCKET_BUFFER);
        Ok(Udp { socket, state })
    }

    /// The bound address.
    pub(super) fn local_addr(&self) -> io::Result<SocketAddr> {
        self.socket.local_addr()
    }

    /// Most datagrams one send may carry.
    pub(super) fn max_segments(&self) -> usize {
        self.state.max_gso_segments().max(1)
    }

    /// Waits until datagrams may be waiting.
    pub(super) async fn readable(&self) -> io::Result<()> {
        self.socket.readable().await
    }

    /// Reads what is waiting into `rx` without blocking; the number of filled buffers
    /// (0 when nothing was waiting).
    pub(super) fn try_recv(&self, rx: &mut RecvBuffers) -> io::Result<usize> {
        let RecvBuffers { bufs, meta } = rx;
        let mut slices: [IoSliceMut<'_>; RECV_BUFFERS] =
            core::array::from_fn(|_| IoSliceMut::new(&mut []));
        for (slice, buf) in slices.iter_mut().zip(bufs.iter_mut()) {
            *slice = IoSliceMut::new(&mut buf[..]);
        }
        let got = self.socket.try_io(Interest::READABLE, || {
            self.state
                .recv(UdpSockRef::from(&self.socket), &mut slices, &mut meta[..])
        });
        match got {
            Ok(n) => Ok(n),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(0),
            Err(e) => Err(e),
        }
    }

    /// Sends `batch` (one datagram, or several of one length to one destination) and
    /// empties it. Waits while the socket buffer is full; other errors are logged and
    /// the datagrams counted lost (the link and the transfer retransmit).
    pub(super) async fn send(&self, batch: &mut SendBatch) {
        let Some(to) = batch.to else {
            return;
        };
        let transmit = Transmit {
            destination: to,
            ecn: None,
            contents: &batch.buf[..batch.len],
            segment_size: (batch.count > 1).then_some(batch.segment),
            src_ip: None,
        };
        loop {
            let sent = self.socket.try_io(Interest::WRITABLE, || {
                self.state
                    .try_send(UdpSockRef::from(&self.socket), &transmit)
            });
            match sent {
                Ok(()) => break,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    if let Err(e) = self.socket.writable().await {
                        tracing::debug!("udp send to {to}: {e}");
                        break;
                    }
                }
                Err(e) => {
                    tracing::debug!("udp send to {to}: {e}");
                    break;
                }
            }
        }
        batch.clear();
        // A failed GSO send turns segmentation off for good (quinn-udp notices).
        batch.max_segments = batch.max_segments.min(self.max_segments());
    }
}

/// Buffers for one batched receive.
pub(super) struct RecvBuffers {
    bufs: Box<[[u8; RECV_BUFFER]; RECV_BUFFERS]>,
    meta: [RecvMeta; RECV_BUFFERS],
}

impl RecvBuffers {
    pub(super) fn new() -> RecvBuffers {
        RecvBuffers {
            bufs: vec![[0u8; RECV_BUFFER]; RECV_BUFFERS]
                .into_boxed_slice()
                .try_into()
                .unwrap_or_else(|_| unreachable!("the vector has RECV_BUFFERS entries")),
            meta: [RecvMeta::default(); RECV_BUFFERS],
        }
    }

    /// The datagrams of the first `filled` buffers, each with its sender.
    pub(super) fn datagrams(&self, filled: usize) -> impl Iterator<Item = (SocketAddr, &[u8])> {
        self.meta[..filled]
            .iter()
            .zip(self.bufs.iter())
            .flat_map(|(meta, buf)| {
                let stride = if meta.stride == 0 {
                    meta.len.max(1)
                } else {
                    meta.stride
                };
                buf[..meta.len].chunks(stride).map(move |d| (meta.addr, d))
            })
    }
}

/// Datagrams gathered for one send: one destination, equal lengths except a shorter
/// last one.
pub(super) struct SendBatch {
    buf: Vec<u8>,
    len: usize,
    to: Option<SocketAddr>,
    segment: usize,
    count: usize,
    max_segments: usize,
}

/// Where the next datagram should go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Fit {
    /// It joined the batch; the batch can take more.
    Joined,
    /// It joined the batch, which is now complete: send it.
    Full,
    /// It does not belong to the batch: send the batch first, then
    /// [`SendBatch::restart_with_last`].
    Apart,
}

impl SendBatch {
    /// A batch of at most `max_segments` datagrams (1: no GSO).
    pub(super) fn new(max_segments: usize) -> SendBatch {
        let max_segments = max_segments.clamp(1, MAX_GSO_BYTES / MAX_DATAGRAM);
        SendBatch {
            buf: vec![0u8; max_segments * MAX_DATAGRAM + MAX_DATAGRAM],
            len: 0,
            to: None,
            segment: 0,
            count: 0,
            max_segments,
        }
    }

    /// Room for the next datagram, after those gathered so far.
    pub(super) fn tail(&mut self) -> &mut [u8] {
        &mut self.buf[self.len..self.len + MAX_DATAGRAM]
    }

    /// Whether nothing is gathered.
    pub(super) fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The datagram of `len` bytes just written at [`SendBatch::tail`], for `to`.
    pub(super) fn push(&mut self, to: SocketAddr, len: usize) -> Fit {
        if self.count == 0 {
            self.start(to, len);
            return self.fit_after_join(false);
        }
        let same_way = self.to == Some(to) && len <= self.segment && len > 0;
        if !same_way {
            return Fit::Apart;
        }
        self.len += len;
        self.count += 1;
        self.fit_after_join(len < self.segment)
    }

    /// After [`Fit::Apart`] and a send: the datagram that did not fit starts the batch.
    pub(super) fn restart_with_last(&mut self, to: SocketAddr, from: usize, len: usize) -> Fit {
        self.buf.copy_within(from..from + len, 0);
        self.start(to, len);
        self.fit_after_join(false)
    }

    /// Where the datagram written at [`SendBatch::tail`] begins (for
    /// [`SendBatch::restart_with_last`]).
    pub(super) fn tail_offset(&self) -> usize {
        self.len
    }

    fn start(&mut self, to: SocketAddr, len: usize) {
        self.to = Some(to);
        self.segment = len;
        self.len = len;
        self.count = 1;
    }

    fn fit_after_join(&self, shorter: bool) -> Fit {
        let next_fits = self.len + self.segment <= MAX_GSO_BYTES;
        if shorter || self.count >= self.max_segments || !next_fits || self.segment == 0 {
            Fit::Full
        } else {
            Fit::Joined
        }
    }

    fn clear(&mut self) {
        self.len = 0;
        self.count = 0;
        self.to = None;
        self.segment = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    /// Writes `len` bytes of `tag` at the tail and pushes them.
    fn push(batch: &mut SendBatch, to: SocketAddr, len: usize, tag: u8) -> Fit {
        batch.tail()[..len].fill(tag);
        batch.push(to, len)
    }

    #[test]
    fn equal_datagrams_to_one_peer_gather_until_the_segment_limit() {
        let mut batch = SendBatch::new(4);
        assert_eq!(push(&mut batch, addr(1), 1000, 1), Fit::Joined);
        assert_eq!(push(&mut batch, addr(1), 1000, 2), Fit::Joined);
        assert_eq!(push(&mut batch, addr(1), 1000, 3), Fit::Joined);
        assert_eq!(push(&mut batch, addr(1), 1000, 4), Fit::Full);
        assert_eq!(batch.len, 4000);
        assert_eq!(batch.segment, 1000);
        assert_eq!((batch.buf[2999], batch.buf[3000]), (3, 4));
    }

    #[test]
    fn a_shorter_datagram_ends_the_batch() {
        let mut batch = SendBatch::new(64);
        assert_eq!(push(&mut batch, addr(1), 1200, 1), Fit::Joined);
        assert_eq!(push(&mut batch, addr(1), 700, 2), Fit::Full);
        assert_eq!(batch.count, 2);
        assert_eq!(batch.len, 1900);
    }

    #[test]
    fn a_longer_datagram_or_another_peer_starts_a_new_batch() {
        let mut batch = SendBatch::new(64);
        assert_eq!(push(&mut batch, addr(1), 500, 1), Fit::Joined);
        let at = batch.tail_offset();
        assert_eq!(push(&mut batch, addr(1), 900, 2), Fit::Apart);
        assert_eq!(batch.count, 1, "the longer one is not part of the batch");
        batch.clear();
        assert_eq!(batch.restart_with_last(addr(1), at, 900), Fit::Joined);
        assert_eq!((batch.count, batch.len, batch.segment), (1, 900, 900));
        assert!(batch.buf[..900].iter().all(|&b| b == 2));
        let at = batch.tail_offset();
        assert_eq!(push(&mut batch, addr(2), 900, 3), Fit::Apart);
        batch.clear();
        assert_eq!(batch.restart_with_last(addr(2), at, 900), Fit::Joined);
        assert_eq!(batch.to, Some(addr(2)));
        assert!(batch.buf[..900].iter().all(|&b| b == 3));
    }

    #[test]
    fn without_gso_every_datagram_is_its_own_batch() {
        let mut batch = SendBatch::new(1);
        assert_eq!(push(&mut batch, addr(1), 1200, 1), Fit::Full);
    }

    #[test]
    fn a_batch_stays_under_the_largest_udp_payload() {
        let mut batch = SendBatch::new(1000);
        let mut n = 0;
        while push(&mut batch, addr(1), MAX_DATAGRAM, 0) == Fit::Joined {
            n += 1;
        }
        assert!(batch.len <= MAX_GSO_BYTES);
        assert_eq!(n + 1, MAX_GSO_BYTES / MAX_DATAGRAM);
    }

    #[test]
    fn received_buffers_split_at_their_stride() {
        let mut rx = RecvBuffers::new();
        rx.bufs[0][..2500].fill(7);
        (rx.meta[0].addr, rx.meta[0].len, rx.meta[0].stride) = (addr(9), 2500, 1000);
        (rx.meta[1].addr, rx.meta[1].len, rx.meta[1].stride) = (addr(8), 10, 10);
        let lens: Vec<(u16, usize)> = rx
            .datagrams(2)
            .map(|(from, d)| (from.port(), d.len()))
            .collect();
        assert_eq!(lens, [(9, 1000), (9, 1000), (9, 500), (8, 10)]);
    }
}
