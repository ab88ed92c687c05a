//! The composed client node: everything one Peerchat client does, sans-IO.
//!
//! [`Client`] owns the control state machine ([`crate::control::client`], which owns the
//! roster) and the peer endpoint ([`crate::endpoint`]) and keeps them consistent:
//!
//! - `Welcome` gives the endpoint our id. Links survive a re-login: a peer whose id,
//!   name and address are unchanged keeps its link; one that comes back under a new id
//!   gets a new link (each `Chat` carries the sender's `base`, which keeps both ends of
//!   a fresh link in step);
//! - the roster's joins, leaves and moves, and every full snapshot, are mirrored into the
//!   endpoint's peer table, so only packets from known peers at their published
//!   addresses are accepted;
//! - losing the server does not touch the endpoint: links between peers that know each
//!   other keep working while the control machine reconnects (its backoff decides when:
//!   [`Event::Connect`]);
//! - user actions name peers by login name; an unknown name is a typed error.
//!
//! A host drives it like every state machine in this crate: feed the control connection
//! (`handle_control_connected/bytes/closed`), datagrams (`handle_datagram`) and timeouts
//! (`handle_timeout`); drain `poll_control_transmit` (frames for the TCP connection),
//! `poll_transmit` (datagrams) and `poll_event`; sleep until `poll_timeout`. When
//! `poll_event` yields [`Event::Connect`], open a new control connection and report it
//! with `handle_control_connected`, or `handle_control_closed` if it failed.
//!
//! File transfers ride on the same endpoint: [`Client::files`] is its transfer table,
//! file bytes come back from `handle_datagram`, and chunk datagrams from `poll_transmit`
//! carry a `fill` the host completes from the file.
//!
//! Capacities are const generics, the endpoint's: `P` is also the roster's size
//! ([`HostClient`] for desktops, [`SmallClient`] for firmware with 16 peers).

mod event;
mod linger;
mod peers;
mod poll;
#[cfg(test)]
mod sim_tests;
#[cfg(test)]
mod tests;

use core::net::SocketAddr;

pub use event::{Event, SendError, Sent};
pub use linger::REJOIN_GRACE;

use crate::control::client::{Client as ControlClient, ClientConfig as ControlConfig};
use crate::endpoint::{Endpoint, EndpointConfig, SendError as EndpointSendError};
use crate::names::user::{same_name, NameError, UserName};
use crate::time::Instant;
use crate::transfer::{HOST_RECEIVES, HOST_SENDS, HOST_WINDOW};
use crate::wire::{decode_packet, Body, PeerId, MAX_TEXT_LEN};

pub use crate::control::client::Disconnect;
pub use crate::endpoint::Transmit;
pub use crate::link::{FailReason, MessageId};
pub use crate::roster::PeerRecord;

/// A client sized for a desktop: up to 256 peers (the roster counts us too), 32 queued
/// messages per peer, 256 unacknowledged texts in 256 KiB, 8 reassembly buffers of
/// 16 KiB, 4 outgoing and 8 incoming files with 8192-chunk windows. About 2.3 MB:
/// build it on a thread with room for it and keep it on the heap.
pub type HostClient =
    Client<256, 32, 256, { 256 * 1024 }, 8, { 16 * 1024 }, HOST_SENDS, HOST_RECEIVES, HOST_WINDOW>;

/// A client sized for a microcontroller: 16 peers, 4 queued messages per peer, 16 texts
/// in 4 KiB, 2 reassembly buffers of 2 KiB (longer texts fail at their sender), one
/// incoming file at a time and no outgoing ones.
pub type SmallClient = Client<16, 4, 16, 4096, 2, 2048>;

/// Most directory servers a client fails over between.
pub const MAX_SERVERS: usize = 8;

/// Settings of a client node.
#[derive(Debug, Clone, Copy)]
pub struct ClientConfig<'a> {
    /// Login name.
    pub name: &'a str,
    /// Port of the host's UDP socket, announced in `Hello`.
    pub udp_port: u16,
    /// The directory server (its UDP socket on the same port answers probes).
    pub server: SocketAddr,
    /// Seed for every random choice (link start numbers, backoff jitter).
    pub seed: u64,
}

/// One Peerchat client: control connection, roster and peer links, composed. The
/// parameters are the endpoint's ([`crate::endpoint::Endpoint`]): `P` peers (also the
/// roster's size), `Q` queued messages per peer, `E` texts in `T` bytes awaiting
/// acknowledgement, `R` reassembly buffers of `B` bytes.
pub struct Client<
    const P: usize,
    const Q: usize,
    const E: usize,
    const T: usize,
    const R: usize,
    const B: usize,
    const FS: usize = 0,
    const FR: usize = 1,
    const FW: usize = 32,
> {
    control: ControlClient<P>,
    endpoint: Endpoint<P, Q, E, T, R, B, FS, FR, FW>,
    name: UserName,
    /// The directory servers, tried in order (the control machine picks); each one's
    /// UDP socket answers probes.
    servers: heapless::Vec<SocketAddr, MAX_SERVERS>,
    /// Our id from the last `Welcome`.
    local_id: Option<PeerId>,
    /// The peers the endpoint knows: a mirror of the roster that survives a lost server.
    peers: peers::Peers<P>,
    /// A connect was asked for and not yet reported.
    connecting: bool,
    /// Peers kept across our re-login until they are back (see [`linger`]).
    linger: linger::Linger<P>,
    /// The next full list is the first after a re-login.
    relogin: bool,
    /// The latest time a `handle_*` call brought.
    now: Instant,
}

impl<
        const P: usize,
        const Q: usize,
        const E: usize,
        const T: usize,
        const R: usize,
        const B: usize,
        const FS: usize,
        const FR: usize,
        const FW: usize,
    > Client<P, Q, E, T, R, B, FS, FR, FW>
{
    /// A client that will log in as `config.name`. Its first timeout is due at once and
    /// asks to connect ([`Event::Connect`]).
    pub fn new(config: ClientConfig<'_>) -> Result<Self, NameError> {
        let control = ControlClient::new(
            config.name,
            config.udp_port,
            ControlConfig::new(config.seed),
        )?;
        let name = *control.name();
        let endpoint = EndpointConfig {
            seed: mix(config.seed),
            ..EndpointConfig::default()
        };
        Ok(Client {
            control,
            endpoint: Endpoint::new(endpoint),
            name,
            servers: heapless::Vec::from_iter([config.server]),
            local_id: None,
            peers: peers::Peers::new(),
            connecting: false,
            linger: linger::Linger::new(),
            relogin: false,
            now: Instant::ZERO,
        })
    }

    /// Adds a directory server to fail over to (another server of the same cluster),
    /// tried after the ones before it. `false` if [`MAX_SERVERS`] are known already.
    pub fn add_server(&mut self, server: SocketAddr) -> bool {
        if self.servers.push(server).is_err() {
            return false;
        }
        // At most MAX_SERVERS, which fits a u8.
        self.control.set_servers(self.servers.len() as u8);
        true
    }

    /// The directory server to connect to on [`Event::Connect`] (and the one in use).
    pub fn server(&self) -> SocketAddr {
        let i = self.control.server();
        self.servers.get(i).copied().unwrap_or(self.servers[0])
    }

    /// Our login name.
    pub fn name(&self) -> &str {
        self.name.as_str()
    }

    /// Our id while logged in (kept while the server is away).
    pub fn id(&self) -> Option<PeerId> {
        self.local_id
    }

    /// Whether the control connection is logged in right now.
    pub fn is_online(&self) -> bool {
        self.control.is_online()
    }

    /// Everyone this client can talk to (everyone online but us, as last known; kept
    /// while the server is away).
    pub fn peers(&self) -> impl Iterator<Item = &PeerRecord> + '_ {
        self.peers.iter()
    }

    /// The peer logged in as `name` (case-insensitively).
    pub fn peer_by_name(&self, name: &str) -> Option<&PeerRecord> {
        self.peers.by_name(name)
    }

    /// The login name of the peer with this id (also for a peer that left recently,
    /// so late events about it can still name it).
    pub fn peer_name(&self, id: PeerId) -> Option<UserName> {
        self.peers.name_of(id)
    }

    /// The host's control connection is up.
    pub fn handle_control_connected(&mut self, now: Instant) {
        self.tick(now);
        self.connecting = false;
        self.control.handle_connected(now);
    }

    /// The host's control connection failed to open, or ended.
    pub fn handle_control_closed(&mut self, now: Instant) {
        self.tick(now);
        if core::mem::take(&mut self.connecting) {
            self.control.handle_connect_failed(now);
        } else {
            self.control.handle_disconnected(now);
        }
    }

    /// Bytes read from the control connection. Returns how many were consumed: fewer
    /// than given when events must be drained first (drain [`Client::poll_event`], then
    /// call again with the rest).
    pub fn handle_control_bytes(&mut self, now: Instant, bytes: &[u8]) -> usize {
        self.tick(now);
        self.control.handle_bytes(now, bytes)
    }

    /// A datagram arrived on the UDP socket from `from`. Returns the file bytes to store
    /// when it was a file chunk with new data (see [`crate::transfer`]).
    pub fn handle_datagram<'a>(
        &mut self,
        now: Instant,
        from: SocketAddr,
        bytes: &'a [u8],
    ) -> Option<crate::transfer::Write<'a>> {
        self.tick(now);
        if from == self.server() {
            // Only the server's own socket may answer a probe.
            if let Ok(packet) = decode_packet(bytes) {
                if let (PeerId::SERVER, Body::ProbeReply { observed }) =
                    (packet.header.sender, &packet.body)
                {
                    self.control.handle_probe_reply(*observed);
                    return None;
                }
            }
        }
        self.endpoint.handle_datagram(now, from, bytes)
    }

    /// The file-transfer table (send, accept, events, hash verdicts); its packets leave
    /// through [`Client::poll_transmit`]. Peers are named by id: see
    /// [`Client::peer_by_name`].
    pub fn files(&mut self) -> &mut crate::transfer::Transfers<FS, FR, FW> {
        self.endpoint.files()
    }

    /// The file-transfer table, read-only (progress, statistics).
    pub fn files_ref(&self) -> &crate::transfer::Transfers<FS, FR, FW> {
        self.endpoint.files_ref()
    }

    /// Runs every timer that is due.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.tick(now);
        self.control.handle_timeout(now);
        self.endpoint.handle_timeout(now);
    }

    /// Sends `text` to the peer logged in as `name`.
    pub fn send_to(&mut self, now: Instant, name: &str, text: &str) -> Result<Sent, SendError> {
        check_text(text)?;
        if same_name(name, self.name.as_str()) {
            return Err(SendError::ToSelf);
        }
        let peer = *self.peers.by_name(name).ok_or(SendError::UnknownName)?;
        let id = self
            .endpoint
            .send(now, peer.id, text, false)
            .map_err(SendError::from)?;
        Ok(Sent {
            to: peer.id,
            name: peer.name,
            id,
        })
    }

    /// Sends `text` to everyone online, one reliable copy per peer, each acknowledged on
    /// its own (one `Delivered`/`Failed` per peer, all with the returned id). The
    /// recipients are [`Client::peers`]. All or nothing: if one peer's queue is full,
    /// nothing is sent.
    pub fn send_to_all(&mut self, now: Instant, text: &str) -> Result<MessageId, SendError> {
        check_text(text)?;
        if self.peers.is_empty() {
            return Err(SendError::NobodyOnline);
        }
        self.endpoint.send_all(now, text).map_err(SendError::from)
    }

    /// Asks the server for a fresh list of who is online ([`Event::PeerList`] follows).
    pub fn request_list(&mut self) {
        self.control.request_list();
    }

    /// Logs out: `Bye` goes out on the control connection, then [`Event::Close`] and
    /// [`Event::Stopped`].
    pub fn quit(&mut self) {
        self.control.quit();
    }

    /// Writes the next control frame into `buf` (at least
    /// [`crate::wire::MAX_CLIENT_FRAME`] bytes) and returns its length.
    #[must_use]
    pub fn poll_control_transmit(&mut self, buf: &mut [u8]) -> Option<usize> {
        loop {
            match self.control.poll_transmit(buf)? {
                Ok(len) => return Some(len),
                // Our own messages fit MAX_CLIENT_FRAME; a smaller buffer is the host's
                // bug: skip the frame rather than loop.
                Err(_) => continue,
            }
        }
    }

    /// Writes the next datagram into `buf` (at least [`crate::wire::MAX_DATAGRAM`]
    /// bytes) and says where it goes.
    #[must_use]
    pub fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<Transmit> {
        if let Some(Ok(len)) = self.control.poll_probe(now, buf) {
            return Some(Transmit {
                dst: self.server(),
                len,
                fill: None,
            });
        }
        self.endpoint.poll_transmit(now, buf)
    }

    /// When [`Client::handle_timeout`] must be called next.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        [
            self.control.poll_timeout(),
            self.endpoint.poll_timeout(),
            self.linger.next_deadline(),
        ]
        .into_iter()
        .flatten()
        .min()
    }
}

impl<
        const P: usize,
        const Q: usize,
        const E: usize,
        const T: usize,
        const R: usize,
        const B: usize,
        const FS: usize,
        const FR: usize,
        const FW: usize,
    > Client<P, Q, E, T, R, B, FS, FR, FW>
{
    // Out of line: every `handle_*` starts with it (a `u64` maximum is several
    // instructions on a 32-bit target).
    #[cfg_attr(target_pointer_width = "32", inline(never))]
    fn tick(&mut self, now: Instant) {
        self.now = self.now.max(now);
    }
}

fn check_text(text: &str) -> Result<(), SendError> {
    if text.is_empty() {
        return Err(SendError::Empty);
    }
    if text.len() > MAX_TEXT_LEN {
        return Err(SendError::TooLong);
    }
    Ok(())
}

/// Derives an independent seed for the endpoint from the host's seed.
const fn mix(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl From<EndpointSendError> for SendError {
    fn from(e: EndpointSendError) -> Self {
        match e {
            EndpointSendError::UnknownPeer => SendError::UnknownName,
            EndpointSendError::NoPeers => SendError::NobodyOnline,
            EndpointSendError::TooLong => SendError::TooLong,
            EndpointSendError::QueueFull | EndpointSendError::BufferFull => SendError::QueueFull,
        }
    }
}
