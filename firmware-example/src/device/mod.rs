//! The device: a Peerchat client node from `proto` ([`DeviceClient`]: 16 peers,
//! receive-only files) driven over a [`Platform`]. It logs in, answers each direct
//! message with `echo: <text>`, takes one `.txt` file of up to [`crate::file::FILE_CAP`]
//! bytes at a time and answers with its length and BLAKE3 hash, and logs out (`Bye`) when
//! a stop is requested.
//!
//! Every protocol decision is `proto`'s. The driver loop only moves bytes and time:
//! read the sockets → `handle_*` → drain control frames, datagrams and events → sleep in
//! [`Platform::wait`] until `poll_timeout`. All memory is in [`Device`], which a host
//! keeps in a `static` (nothing is allocated).

use core::net::SocketAddr;

use peerchat_proto::client::{Client, ClientConfig, Event};
use peerchat_proto::transfer::TransferKey;
use peerchat_proto::wire::{RejectReason, MAX_CLIENT_FRAME, MAX_DATAGRAM};
use peerchat_proto::{Duration, Instant};

use crate::file::FileSlot;
use crate::platform::{NetError, Platform};
use crate::reply::Reply;
use crate::{error, info, warn};

mod files;

/// The device's client node: `proto`'s small client (16 peers, 4 queued messages per
/// peer, 16 texts in 4 KiB, 2 reassembly buffers of 2 KiB), receive-only for files (no
/// send slot, one receive slot, a window of 8 chunks: a 4 KiB file is 4 chunks).
pub type DeviceClient = Client<16, 4, 16, 4096, 2, 2048, 0, 1, 8>;

/// Bytes read from the control connection at a time.
const TCP_CHUNK: usize = 512;

/// Datagrams handled per wake-up before the loop drains its outputs.
const DATAGRAM_BURST: usize = 32;

/// How long a stop waits for the logout to finish before giving up on the server.
const STOP_GRACE: Duration = Duration::from_secs(2);

/// Why the device stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Exit {
    /// A stop was requested and the device logged out.
    Stopped,
    /// The server refused the login.
    Rejected(RejectReason),
    /// The platform failed.
    Platform(NetError),
}

/// Why a device could not be made: the login name breaks `proto`'s name rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct BadName;

impl core::fmt::Display for BadName {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("invalid name (1-32 bytes of A-Z a-z 0-9 _ . -)")
    }
}

impl core::error::Error for BadName {}

/// The device's memory: the client node and its buffers.
pub struct Device {
    client: DeviceClient,
    tcp_rx: [u8; TCP_CHUNK],
    /// Unconsumed bytes of `tcp_rx` are `tcp_rx[tcp_start..tcp_end]`.
    tcp_start: usize,
    tcp_end: usize,
    datagram: [u8; MAX_DATAGRAM],
    frame: [u8; MAX_CLIENT_FRAME],
    reply: Reply,
    file: FileSlot,
    /// The transfer whose bytes go into `file`.
    file_key: Option<TransferKey>,
    /// The hash of the complete file, reported to the core and then to the sender.
    file_hash: [u8; 32],
    stopping: Option<Instant>,
}

impl Device {
    /// A device that will log in as `name` at `server` with a UDP socket on `udp_port`.
    pub fn new(name: &str, udp_port: u16, seed: u64, server: SocketAddr) -> Result<Self, BadName> {
        let config = ClientConfig {
            name,
            udp_port,
            server,
            seed,
        };
        let mut client = DeviceClient::new(config).map_err(|_| BadName)?;
        client.files().set_config(files::config());
        Ok(Device {
            client,
            tcp_rx: [0; TCP_CHUNK],
            tcp_start: 0,
            tcp_end: 0,
            datagram: [0; MAX_DATAGRAM],
            frame: [0; MAX_CLIENT_FRAME],
            reply: Reply::new(),
            file: FileSlot::new(),
            file_key: None,
            file_hash: [0; 32],
            stopping: None,
        })
    }

    /// Runs until the device has logged out after a stop request, or cannot go on.
    pub fn run<P: Platform>(&mut self, p: &mut P) -> Exit {
        loop {
            let now = p.now();
            if let Some(exit) = self.drain(p, now) {
                return exit;
            }
            let deadline = self.deadline();
            let wake = match p.wait(deadline) {
                Ok(wake) => wake,
                Err(e) => return Exit::Platform(e),
            };
            let now = p.now();
            if wake.stop || p.stop_requested() {
                self.stop(p, now);
            }
            if self.stopping.is_some_and(|since| now >= since + STOP_GRACE) {
                warn!(p, "logout did not finish in time; leaving");
                return Exit::Stopped;
            }
            if wake.tcp && self.tcp_start == self.tcp_end {
                self.read_control(p, now);
            }
            if wake.udp {
                self.read_datagrams(p, now);
            }
            if self.client.poll_timeout().is_some_and(|t| now >= t) {
                self.client.handle_timeout(now);
            }
        }
    }

    /// The next time the loop must wake up on its own.
    fn deadline(&self) -> Option<Instant> {
        let grace = self.stopping.map(|since| since + STOP_GRACE);
        match (self.client.poll_timeout(), grace) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Asks the client to log out (once).
    fn stop<P: Platform>(&mut self, p: &mut P, now: Instant) {
        if self.stopping.is_none() {
            info!(p, "stop requested: logging out");
            self.stopping = Some(now);
            self.client.quit();
        }
    }

    /// Reads what the control connection has; its end is reported to the client.
    fn read_control<P: Platform>(&mut self, p: &mut P, now: Instant) {
        let Some(tcp) = p.tcp() else { return };
        match embedded_io::Read::read(tcp, &mut self.tcp_rx) {
            Ok(n) if n > 0 => {
                self.tcp_start = 0;
                self.tcp_end = n;
            }
            _ => {
                p.disconnect();
                self.client.handle_control_closed(now);
            }
        }
    }

    /// Hands buffered control bytes to the client; returns whether any were taken.
    fn feed_control(&mut self, now: Instant) -> bool {
        let pending = &self.tcp_rx[self.tcp_start..self.tcp_end];
        if pending.is_empty() {
            return false;
        }
        let used = self.client.handle_control_bytes(now, pending);
        self.tcp_start += used.min(pending.len());
        used > 0
    }

    /// Handles the datagrams that are queued, draining outputs after each.
    fn read_datagrams<P: Platform>(&mut self, p: &mut P, now: Instant) {
        for _ in 0..DATAGRAM_BURST {
            match p.recv_from(&mut self.datagram) {
                Ok(Some((n, from))) => self.handle_datagram(p, now, from, n),
                Ok(None) => return,
                Err(e) => {
                    warn!(p, "UDP receive failed: {}", e);
                    return;
                }
            }
        }
    }

    /// Writes every pending frame and datagram and handles every event, until nothing
    /// moves. Returns `Some` when the device must stop.
    fn drain<P: Platform>(&mut self, p: &mut P, now: Instant) -> Option<Exit> {
        loop {
            let mut moved = self.feed_control(now);
            moved |= self.send_frames(p, now);
            moved |= self.send_datagrams(p, now);
            match self.next_event(p, now) {
                Step::Idle => {}
                Step::Moved => moved = true,
                Step::Exit(exit) => return Some(exit),
            }
            moved |= self.next_file_event(p, now);
            if !moved {
                return None;
            }
        }
    }

    /// Writes pending control frames to the TCP stream.
    fn send_frames<P: Platform>(&mut self, p: &mut P, now: Instant) -> bool {
        let mut moved = false;
        while let Some(n) = self.client.poll_control_transmit(&mut self.frame) {
            moved = true;
            let written = match p.tcp() {
                Some(tcp) => embedded_io::Write::write_all(tcp, &self.frame[..n]).is_ok(),
                None => false,
            };
            if !written {
                p.disconnect();
                self.client.handle_control_closed(now);
            }
        }
        moved
    }

    /// Sends pending datagrams.
    fn send_datagrams<P: Platform>(&mut self, p: &mut P, now: Instant) -> bool {
        let mut moved = false;
        while let Some(t) = self.client.poll_transmit(now, &mut self.datagram) {
            moved = true;
            if let Err(e) = p.send_to(t.dst, &self.datagram[..t.len]) {
                warn!(p, "UDP send failed: {}", e);
            }
        }
        moved
    }

    /// Handles one event.
    fn next_event<P: Platform>(&mut self, p: &mut P, now: Instant) -> Step {
        let Some(event) = self.client.poll_event() else {
            return Step::Idle;
        };
        match event {
            Event::Connect => {
                let connected = p.connect();
                match connected {
                    Ok(()) => self.client.handle_control_connected(now),
                    Err(e) => {
                        warn!(p, "cannot connect to the server: {}", e);
                        self.client.handle_control_closed(now);
                    }
                }
            }
            Event::Close => {
                // Frames queued before the close (the `Bye`) go out first; then the
                // client learns the connection is gone.
                self.send_frames(p, now);
                p.disconnect();
                self.tcp_start = self.tcp_end;
                self.client.handle_control_closed(now);
            }
            Event::LoggedIn { id, addr, .. } => {
                info!(p, "logged in as id {}, published at {}", id.0, addr);
            }
            Event::Rejected(reason) => {
                error!(p, "login refused: {}", reason);
                return Step::Exit(Exit::Rejected(reason));
            }
            Event::Disconnected(why) => warn!(p, "server connection lost: {}", why),
            Event::PeerList => info!(p, "{} peers online", self.client.peers().count()),
            Event::Joined { name, .. } => info!(p, "{} joined", name.as_str()),
            Event::Left { name, .. } => info!(p, "{} left", name.as_str()),
            Event::Message { from, text, to_all } => {
                info!(p, "message from {}: {}", from.as_str(), text);
                if !to_all {
                    self.reply.echo(text);
                    self.answer(p, now, from.as_str());
                }
            }
            Event::Delivered { .. } => {}
            Event::Failed { to, reason, .. } => {
                warn!(p, "message to {} failed: {}", to.as_str(), reason);
            }
            Event::Stopped => {
                info!(p, "logged out");
                return Step::Exit(Exit::Stopped);
            }
        }
        Step::Moved
    }

    /// Sends the reply built in `self.reply` to `to`.
    fn answer<P: Platform>(&mut self, p: &mut P, now: Instant, to: &str) {
        if let Err(e) = self.client.send_to(now, to, self.reply.as_str()) {
            warn!(p, "cannot answer {}: {}", to, e);
        }
    }
}

/// What handling one event did.
enum Step {
    /// There was no event.
    Idle,
    /// An event was handled.
    Moved,
    /// The device must stop.
    Exit(Exit),
}
