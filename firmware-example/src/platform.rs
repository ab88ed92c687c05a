//! What the device needs from the machine it runs on, and nothing more: a clock, one TCP
//! stream to the directory server (as `embedded-io` `Read`/`Write`), one UDP socket, a
//! way to sleep until something happens, a stop request and a log line.
//!
//! The Linux host implements it over raw system calls (`src/linux/`); an MCU would
//! implement it over its network stack and timer.

use core::fmt::Arguments;
use core::net::SocketAddr;

use peerchat_proto::Instant;

/// How important a log line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Level {
    /// Detail for debugging.
    Debug,
    /// Normal operation.
    Info,
    /// Something went wrong but the device goes on.
    Warn,
    /// The device cannot go on.
    Error,
}

impl Level {
    /// The level's name as printed in text logs.
    pub const fn as_str(self) -> &'static str {
        match self {
            Level::Debug => "DEBUG",
            Level::Info => "INFO",
            Level::Warn => "WARN",
            Level::Error => "ERROR",
        }
    }
}

/// What woke [`Platform::wait`] up. Several may be true at once; none means the
/// deadline passed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Wake {
    /// The TCP stream has bytes to read (or has been closed).
    pub tcp: bool,
    /// The UDP socket has a datagram to read.
    pub udp: bool,
    /// A stop was requested (SIGINT or SIGTERM on Linux).
    pub stop: bool,
}

/// A platform error: an OS error number or the platform's own code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct NetError(pub i32);

impl core::fmt::Display for NetError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "network error {}", self.0)
    }
}

impl core::error::Error for NetError {}

/// Where text log lines go (used when the `defmt` feature is off).
pub trait Log {
    /// Writes one log line.
    fn log(&mut self, level: Level, args: Arguments<'_>);
}

/// The machine under the device.
pub trait Platform: Log {
    /// The TCP stream to the directory server.
    type Tcp: embedded_io::Read + embedded_io::Write;

    /// Current time on a monotonic clock.
    fn now(&mut self) -> Instant;

    /// A random seed for the protocol core (it never asks the OS itself).
    fn seed(&mut self) -> u64;

    /// Opens a new TCP stream to the directory server, closing any previous one.
    fn connect(&mut self) -> Result<(), NetError>;

    /// Closes the TCP stream, if open.
    fn disconnect(&mut self);

    /// The open TCP stream, if any.
    fn tcp(&mut self) -> Option<&mut Self::Tcp>;

    /// The local port of the UDP socket (announced in `Hello`).
    fn udp_port(&self) -> u16;

    /// Sends one datagram from the UDP socket.
    fn send_to(&mut self, to: SocketAddr, datagram: &[u8]) -> Result<(), NetError>;

    /// Receives one datagram into `buf` without waiting; `None` when none is queued.
    fn recv_from(&mut self, buf: &mut [u8]) -> Result<Option<(usize, SocketAddr)>, NetError>;

    /// Sleeps until a socket is readable, a stop is requested or `deadline` passes
    /// (`None`: no deadline).
    fn wait(&mut self, deadline: Option<Instant>) -> Result<Wake, NetError>;

    /// Whether a stop was requested.
    fn stop_requested(&self) -> bool;
}
