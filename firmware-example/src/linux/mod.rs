//! The Linux x86_64 platform layer: raw system calls, the process runtime, and
//! [`Linux`], the device's [`Platform`] over a TCP stream, a UDP socket, `ppoll`, the
//! monotonic clock, `getrandom`, SIGINT/SIGTERM and stderr. This is the only code that
//! uses `unsafe`.

pub(crate) mod args;
mod clock;
#[cfg(feature = "defmt")]
mod defmt_logger;
pub(crate) mod loopback;
mod net;
mod rt;
mod signal;
pub(crate) mod stderr;
pub(crate) mod sys;

use core::fmt::{Arguments, Write as _};
use core::net::SocketAddr;

use firmware_example::platform::{Level, Log, NetError, Platform, Wake};
use peerchat_proto::Instant;

use net::{TcpStream, UdpSocket};
use sys::{c, errno, PollFd};

/// The device's machine: a TCP stream to the server (when connected), one UDP socket.
pub(crate) struct Linux {
    server: SocketAddr,
    tcp: Option<TcpStream>,
    udp: UdpSocket,
}

impl Linux {
    /// Installs the stop signals and binds a UDP socket of `server`'s address family.
    pub(crate) fn open(server: SocketAddr) -> Result<Linux, NetError> {
        signal::install().map_err(NetError)?;
        let udp = UdpSocket::bind_any(server)?;
        Ok(Linux {
            server,
            tcp: None,
            udp,
        })
    }
}

impl Platform for Linux {
    type Tcp = TcpStream;

    fn now(&mut self) -> Instant {
        clock::now()
    }

    fn seed(&mut self) -> u64 {
        let mut bytes = [0u8; 8];
        if sys::getrandom(&mut bytes).is_err() {
            // No entropy yet: the clock still differs between runs.
            bytes = clock::now().as_micros().to_le_bytes();
        }
        u64::from_le_bytes(bytes)
    }

    fn connect(&mut self) -> Result<(), NetError> {
        self.tcp = None;
        self.tcp = Some(TcpStream::connect(self.server)?);
        Ok(())
    }

    fn disconnect(&mut self) {
        self.tcp = None;
    }

    fn tcp(&mut self) -> Option<&mut TcpStream> {
        self.tcp.as_mut()
    }

    fn udp_port(&self) -> u16 {
        self.udp.port()
    }

    fn send_to(&mut self, to: SocketAddr, datagram: &[u8]) -> Result<(), NetError> {
        self.udp.send_to(to, datagram)
    }

    fn recv_from(&mut self, buf: &mut [u8]) -> Result<Option<(usize, SocketAddr)>, NetError> {
        self.udp.recv_from(buf)
    }

    fn wait(&mut self, deadline: Option<Instant>) -> Result<Wake, NetError> {
        let tcp = self.tcp.as_ref().map_or(-1, TcpStream::fd);
        wait(tcp, self.udp.fd(), deadline)
    }

    fn stop_requested(&self) -> bool {
        signal::stop_requested()
    }
}

impl Log for Linux {
    fn log(&mut self, level: Level, args: Arguments<'_>) {
        log_line(level, args);
    }
}

/// Text logs to stderr, for code that has no [`Linux`] yet.
pub(crate) struct Console;

impl Log for Console {
    fn log(&mut self, level: Level, args: Arguments<'_>) {
        log_line(level, args);
    }
}

/// Sleeps in `ppoll` on both descriptors (a negative one is ignored) with the stop
/// signals unblocked.
pub(crate) fn wait(tcp: i32, udp: i32, deadline: Option<Instant>) -> Result<Wake, NetError> {
    let mut fds = [tcp, udp].map(|fd| PollFd {
        fd,
        events: c::POLLIN,
        revents: 0,
    });
    let timeout = deadline.map(|d| clock::timeout(clock::now(), d));
    let ready = |fd: &PollFd| fd.revents & (c::POLLIN | c::POLLHUP | c::POLLERR) != 0;
    match sys::ppoll(&mut fds, timeout.as_ref(), 0) {
        Ok(_) | Err(errno::EINTR) => Ok(Wake {
            tcp: ready(&fds[0]),
            udp: ready(&fds[1]),
            stop: signal::stop_requested(),
        }),
        Err(e) => Err(NetError(e)),
    }
}

/// Writes `LEVEL message` to stderr as one line.
pub(crate) fn log_line(level: Level, args: Arguments<'_>) {
    let mut line = stderr::LineBuf::new();
    let _ = write!(line, "{:<5} {}", level.as_str(), args);
    line.finish();
}
