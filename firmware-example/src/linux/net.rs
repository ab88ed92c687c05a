//! TCP and UDP sockets over raw system calls. The TCP stream implements `embedded-io`
//! `Read`/`Write`; the UDP socket never blocks on receive.

use core::net::{IpAddr, SocketAddr};

use firmware_example::platform::NetError;

use super::sys::{self, c, errno, RawAddr};

/// Encodes `addr` as a `sockaddr_in`/`sockaddr_in6`.
pub(crate) fn raw_addr(addr: SocketAddr) -> RawAddr {
    let mut raw = RawAddr::empty();
    let port = addr.port().to_be_bytes();
    raw.bytes[2..4].copy_from_slice(&port);
    match addr.ip() {
        IpAddr::V4(ip) => {
            raw.bytes[..2].copy_from_slice(&c::AF_INET.to_ne_bytes());
            raw.bytes[4..8].copy_from_slice(&ip.octets());
            raw.len = 16;
        }
        IpAddr::V6(ip) => {
            raw.bytes[..2].copy_from_slice(&c::AF_INET6.to_ne_bytes());
            raw.bytes[8..24].copy_from_slice(&ip.octets());
            raw.len = 28;
        }
    }
    raw
}

/// Decodes a `sockaddr_in`/`sockaddr_in6`; `None` for other families.
pub(crate) fn socket_addr(raw: &RawAddr) -> Option<SocketAddr> {
    let family = u16::from_ne_bytes([raw.bytes[0], raw.bytes[1]]);
    let port = u16::from_be_bytes([raw.bytes[2], raw.bytes[3]]);
    let ip = match family {
        c::AF_INET => {
            let mut ip = [0; 4];
            ip.copy_from_slice(&raw.bytes[4..8]);
            IpAddr::from(ip)
        }
        c::AF_INET6 => {
            let mut ip = [0; 16];
            ip.copy_from_slice(&raw.bytes[8..24]);
            IpAddr::from(ip)
        }
        _ => return None,
    };
    Some(SocketAddr::new(ip, port))
}

fn family(addr: SocketAddr) -> u16 {
    if addr.is_ipv4() {
        c::AF_INET
    } else {
        c::AF_INET6
    }
}

/// The socket's error type for `embedded-io`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct IoError(pub(crate) i32);

impl core::fmt::Display for IoError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "os error {}", self.0)
    }
}

impl core::error::Error for IoError {}

impl embedded_io::Error for IoError {
    fn kind(&self) -> embedded_io::ErrorKind {
        use embedded_io::ErrorKind as K;
        match self.0 {
            errno::EPIPE => K::BrokenPipe,
            errno::ECONNRESET => K::ConnectionReset,
            errno::ECONNREFUSED => K::ConnectionRefused,
            errno::ETIMEDOUT => K::TimedOut,
            errno::EINVAL => K::InvalidInput,
            errno::EINTR => K::Interrupted,
            _ => K::Other,
        }
    }
}

/// A connected TCP stream; closed on drop.
pub(crate) struct TcpStream {
    fd: i32,
}

impl TcpStream {
    /// Connects to `addr` (blocking).
    pub(crate) fn connect(addr: SocketAddr) -> Result<TcpStream, NetError> {
        let fd = sys::socket(family(addr), c::SOCK_STREAM).map_err(NetError)?;
        let stream = TcpStream { fd };
        sys::connect(fd, &raw_addr(addr)).map_err(NetError)?;
        Ok(stream)
    }

    /// Listens on `addr` and accepts one connection (for the loopback self-test);
    /// `bound` learns the listening address before the accept blocks.
    pub(crate) fn accept_one(
        addr: SocketAddr,
        connect: impl FnOnce(SocketAddr) -> Result<TcpStream, NetError>,
    ) -> Result<(TcpStream, TcpStream), NetError> {
        let listener = TcpStream {
            fd: sys::socket(family(addr), c::SOCK_STREAM).map_err(NetError)?,
        };
        sys::bind(listener.fd, &raw_addr(addr)).map_err(NetError)?;
        sys::listen(listener.fd).map_err(NetError)?;
        let local = sys::getsockname(listener.fd).map_err(NetError)?;
        let local = socket_addr(&local).ok_or(NetError(errno::EINVAL))?;
        // The backlog holds the connection until `accept`, so connecting first is fine.
        let client = connect(local)?;
        let server = TcpStream {
            fd: sys::accept(listener.fd).map_err(NetError)?,
        };
        Ok((client, server))
    }

    /// The descriptor, for `ppoll`.
    pub(crate) fn fd(&self) -> i32 {
        self.fd
    }
}

impl Drop for TcpStream {
    fn drop(&mut self) {
        sys::close(self.fd);
    }
}

impl embedded_io::ErrorType for TcpStream {
    type Error = IoError;
}

impl embedded_io::Read for TcpStream {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, IoError> {
        sys::read(self.fd, buf).map_err(IoError)
    }
}

impl embedded_io::Write for TcpStream {
    fn write(&mut self, buf: &[u8]) -> Result<usize, IoError> {
        sys::sendto(self.fd, buf, 0, None).map_err(IoError)
    }

    fn flush(&mut self) -> Result<(), IoError> {
        Ok(())
    }
}

/// A bound UDP socket; closed on drop.
pub(crate) struct UdpSocket {
    fd: i32,
    port: u16,
}

impl UdpSocket {
    /// Binds to any port on the unspecified address of `like`'s family.
    pub(crate) fn bind_any(like: SocketAddr) -> Result<UdpSocket, NetError> {
        let fd = sys::socket(family(like), c::SOCK_DGRAM).map_err(NetError)?;
        let mut socket = UdpSocket { fd, port: 0 };
        let any = match like {
            SocketAddr::V4(_) => SocketAddr::new(IpAddr::V4(core::net::Ipv4Addr::UNSPECIFIED), 0),
            SocketAddr::V6(_) => SocketAddr::new(IpAddr::V6(core::net::Ipv6Addr::UNSPECIFIED), 0),
        };
        sys::bind(fd, &raw_addr(any)).map_err(NetError)?;
        let local = sys::getsockname(fd).map_err(NetError)?;
        socket.port = socket_addr(&local).map_or(0, |a| a.port());
        Ok(socket)
    }

    /// The descriptor, for `ppoll`.
    pub(crate) fn fd(&self) -> i32 {
        self.fd
    }

    /// The bound local port.
    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    /// Sends one datagram to `to`.
    pub(crate) fn send_to(&mut self, to: SocketAddr, datagram: &[u8]) -> Result<(), NetError> {
        let raw = raw_addr(to);
        sys::sendto(self.fd, datagram, 0, Some(&raw))
            .map(drop)
            .map_err(NetError)
    }

    /// Receives one queued datagram, or `None` when none is queued.
    pub(crate) fn recv_from(
        &mut self,
        buf: &mut [u8],
    ) -> Result<Option<(usize, SocketAddr)>, NetError> {
        match sys::recvfrom(self.fd, buf, c::MSG_DONTWAIT) {
            Ok((n, from)) => Ok(socket_addr(&from).map(|addr| (n, addr))),
            Err(errno::EAGAIN) => Ok(None),
            Err(e) => Err(NetError(e)),
        }
    }
}

impl Drop for UdpSocket {
    fn drop(&mut self) {
        sys::close(self.fd);
    }
}
