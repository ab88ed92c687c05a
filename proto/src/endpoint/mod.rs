//! All links of one client over one UDP socket.
//!
//! An [`Endpoint`] owns:
//! - the **peer table**: up to `P` peers, id → address, fed from the roster by
//!   [`Endpoint::add_peer`] / [`Endpoint::remove_peer`]; a peer's link starts over when
//!   its address changes;
//! - one **link** per peer (see [`crate::link`]) with a send queue of `Q` messages;
//! - a **text pool** of `E` texts in `T` bytes holding what was sent and not yet
//!   acknowledged (a message to everyone online is stored once for all its copies);
//! - `R` **reassembly buffers** of `B` bytes each, lent to links while a message is
//!   being received and until the application has read it (`B` is the largest text this
//!   endpoint can receive; [`crate::wire::MAX_TEXT_LEN`] for a full client);
//! - the [`Counters`] of what it dropped.
//!
//! It routes every datagram by its sender id and drops (and counts) datagrams that do not
//! decode, that come from an unknown id, or whose source address is not the table's
//! address for that id.
//!
//! **Driving it.** `handle_datagram(now, from, bytes)` for each datagram read;
//! `send`/`send_all` for the user's messages; then drain `poll_transmit` (write each
//! [`Transmit`] to its `dst`) and `poll_event` until `None`; sleep until `poll_timeout()`
//! and call `handle_timeout(now)`.
//!
//! **Transmit priority.** `poll_transmit` hands out acks first, then chat packets (links
//! served round-robin), and only then file-transfer packets (see `poll_file_transmit`):
//! chat never waits behind file chunks. It asks only the links that may have something
//! to send (`marks.rs`), so a file's chunks do not pay for every peer online; the table's
//! loops stop at the highest slot in use, and datagrams are routed by the slot of the
//! previous lookup when it is the same peer's.
//!
//! **File transfers.** The endpoint owns a [`crate::transfer::Transfers`] table of `FS`
//! sends and `FR` receives with `FW`-chunk windows (see `files.rs`, owned by the transfer
//! module's maintainers): `Body::File*` packets from a known peer at its known address
//! go to it, `handle_datagram` returns the [`crate::transfer::Write`] a chunk carried,
//! its packets go out after acks and chat, a chunk [`Transmit`] carries a
//! [`crate::transfer::Fill`] the host completes from the file, and [`Endpoint::files`]
//! gives the host the table (send, accept, events, hash verdicts). Removing a peer
//! cancels its transfers.

mod files;
mod marks;
mod pool;
mod recv;
mod send;
mod transmit;

#[cfg(test)]
mod prop;
#[cfg(test)]
mod tests;

use core::net::SocketAddr;

use crate::link::{Link, LinkConfig, Reassembly};
use crate::time::Instant;
use crate::transfer::{HOST_RECEIVES, HOST_SENDS, HOST_WINDOW};
#[cfg(test)]
use crate::wire::{decode_packet, Body};
use crate::wire::{Packet, PeerId};

pub use crate::link::{Counters, FailReason, MessageId};
use pool::TextPool;
pub use send::SendError;

/// An endpoint sized for a desktop client: 64 peers, 32 queued messages per peer, 256
/// texts in 128 KiB waiting for acks, 8 reassembly buffers of 16 KiB, 4 outgoing and 8
/// incoming files with 8192-chunk windows (about 1.9 MB: keep it in a `Box`).
pub type HostEndpoint =
    Endpoint<64, 32, 256, { 128 * 1024 }, 8, { 16 * 1024 }, HOST_SENDS, HOST_RECEIVES, HOST_WINDOW>;

/// An endpoint sized for a microcontroller: 16 peers, 4 queued messages per peer, 16
/// texts in 4 KiB, 2 reassembly buffers of 2 KiB (longer texts are not accepted and
/// fail at their sender); one incoming file at a time, no outgoing ones (the default
/// file-table sizes).
pub type SmallEndpoint = Endpoint<16, 4, 16, 4096, 2, 2048>;

/// Where to send a datagram that `poll_transmit` wrote into the caller's buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Transmit {
    /// Destination address.
    pub dst: SocketAddr,
    /// Bytes written at the start of the buffer.
    pub len: usize,
    /// For a file chunk: the file bytes the host must place in the buffer first.
    pub fill: Option<crate::transfer::Fill>,
}

/// What the application must learn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Event<'a> {
    /// A whole message arrived (once, in order). The text borrows a reassembly buffer
    /// until the next `poll_event` call.
    Message {
        /// Sender.
        from: PeerId,
        /// The text.
        text: &'a str,
        /// Sent to everyone online rather than to us alone.
        to_all: bool,
    },
    /// The peer acknowledged every packet of a message.
    Delivered {
        /// Recipient.
        to: PeerId,
        /// What `send`/`send_all` returned.
        id: MessageId,
    },
    /// A message was given up.
    Failed {
        /// Recipient.
        to: PeerId,
        /// What `send`/`send_all` returned.
        id: MessageId,
        /// Why.
        reason: FailReason,
    },
}

/// Why a peer could not be added.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum PeerError {
    /// The peer table is full.
    TableFull,
    /// The id is the server's or our own.
    InvalidId,
}

impl core::fmt::Display for PeerError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            PeerError::TableFull => "peer table is full",
            PeerError::InvalidId => "peer id is the server's or our own",
        })
    }
}

impl core::error::Error for PeerError {}

/// Endpoint settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct EndpointConfig {
    /// Tuning of every link.
    pub link: LinkConfig,
    /// Seed for the links' random initial sequence numbers (from the host's randomness).
    pub seed: u64,
    /// File-transfer settings (size limit, accept policy, timeouts).
    pub files: crate::transfer::Config,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SlotState {
    Free,
    Active,
    /// Left the roster; kept until its outcomes are reported.
    Removed,
}

#[derive(Debug)]
struct PeerSlot<const Q: usize> {
    state: SlotState,
    id: PeerId,
    addr: SocketAddr,
    link: Link<Q>,
}

/// All chat links of one client; see the module documentation for the parameters.
pub struct Endpoint<
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
    config: LinkConfig,
    local: Option<PeerId>,
    peers: [PeerSlot<Q>; P],
    texts: TextPool<E, T>,
    rx: [Reassembly<B>; R],
    rng: u64,
    next_id: u32,
    /// The peer and buffer of the message the last `poll_event` lent out.
    lent: Option<(usize, u8)>,
    cursor: usize,
    counters: Counters,
    /// Slots that may have an ack or chat to send (see `marks.rs`).
    marks: marks::Marks<P>,
    /// Every slot at or above this index is free.
    top: usize,
    /// The slot the last lookup by id found (checked before use: only a hint).
    hint: usize,
    files: crate::transfer::Transfers<FS, FR, FW>,
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
    > Endpoint<P, Q, E, T, R, B, FS, FR, FW>
{
    /// An endpoint with no peers and no local id yet.
    pub fn new(config: EndpointConfig) -> Self {
        let link = config.link;
        Endpoint {
            config: link,
            local: None,
            peers: core::array::from_fn(|_| PeerSlot {
                state: SlotState::Free,
                id: PeerId::SERVER,
                addr: SocketAddr::from(([0, 0, 0, 0], 0)),
                link: Link::new(link, 0),
            }),
            texts: TextPool::new(),
            rx: core::array::from_fn(|_| Reassembly::new()),
            rng: config.seed,
            next_id: 1,
            lent: None,
            cursor: 0,
            counters: Counters::default(),
            marks: marks::Marks::new(),
            top: 0,
            hint: 0,
            files: crate::transfer::Transfers::new(config.files, (config.seed >> 32) as u32),
        }
    }

    /// Our own id, as the directory assigned it; packets are sent only once it is set.
    /// A peer entry with this id (the directory gave it to us now) is removed.
    /// Links keep going across a change of our id: a peer that learns our new id starts
    /// a fresh link for it, which follows our sequence numbers from their `base`.
    pub fn set_local_id(&mut self, id: PeerId) {
        self.remove_peer(id);
        self.local = Some(id);
    }

    /// Our own id, if known.
    pub const fn local_id(&self) -> Option<PeerId> {
        self.local
    }

    /// What was dropped or repeated so far.
    pub const fn counters(&self) -> Counters {
        self.counters
    }

    /// Adds `id` at `addr`, or updates it. A changed address starts the link over: its
    /// unacknowledged messages fail with [`FailReason::PeerChanged`].
    pub fn add_peer(&mut self, id: PeerId, addr: SocketAddr) -> Result<(), PeerError> {
        if id == PeerId::SERVER || Some(id) == self.local {
            return Err(PeerError::InvalidId);
        }
        let addr = canonical(addr);
        if let Some(i) = self.find(id) {
            let isn = self.random_isn();
            let slot = &mut self.peers[i];
            let moved = slot.state == SlotState::Active && slot.addr != addr;
            if moved {
                slot.link
                    .reset(isn, FailReason::PeerChanged, &mut self.texts, &mut self.rx);
            }
            slot.state = SlotState::Active;
            slot.addr = addr;
            self.marks.mark(i);
            if moved {
                self.files_peer_gone(id);
            }
            return Ok(());
        }
        let i = self.free_slot().ok_or(PeerError::TableFull)?;
        let link = Link::new(self.config, self.random_isn());
        self.peers[i] = PeerSlot {
            state: SlotState::Active,
            id,
            addr,
            link,
        };
        self.top = self.top.max(i + 1);
        self.marks.mark(i);
        Ok(())
    }

    /// Removes `id` (it left the roster): its unacknowledged messages fail with
    /// [`FailReason::PeerRemoved`]. Returns whether it was there.
    pub fn remove_peer(&mut self, id: PeerId) -> bool {
        self.files_peer_gone(id);
        let Some(i) = self
            .find(id)
            .filter(|&i| self.peers[i].state == SlotState::Active)
        else {
            return false;
        };
        let isn = self.random_isn();
        let slot = &mut self.peers[i];
        slot.link
            .reset(isn, FailReason::PeerRemoved, &mut self.texts, &mut self.rx);
        slot.state = SlotState::Removed;
        true
    }

    /// The address the table holds for `id`.
    pub fn peer_addr(&self, id: PeerId) -> Option<SocketAddr> {
        self.active(id).map(|i| self.peers[i].addr)
    }

    /// The smoothed round-trip time to `id`, once measured.
    pub fn srtt(&self, id: PeerId) -> Option<crate::time::Duration> {
        self.active(id).and_then(|i| self.peers[i].link.srtt())
    }

    /// The next event, if any. A [`Event::Message`] borrows its text until the next call.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event<'_>> {
        if let Some((i, slot)) = self.lent.take() {
            self.peers[i].link.release_ready(slot, &mut self.rx);
        }
        let top = self.top;
        let start = self.cursor.min(top);
        for i in (start..top).chain(0..start) {
            let slot = &mut self.peers[i];
            if slot.state == SlotState::Free {
                continue;
            }
            let to = slot.id;
            if let Some((id, outcome)) = slot.link.pop_outcome() {
                return Some(match outcome {
                    crate::link::Outcome::Delivered => Event::Delivered { to, id },
                    crate::link::Outcome::Failed(reason) => Event::Failed { to, id, reason },
                });
            }
            if let Some(ready) = slot.link.ready_slot() {
                self.lent = Some((i, ready));
                let buf = &self.rx[usize::from(ready)];
                return Some(Event::Message {
                    from: to,
                    text: buf.text(),
                    to_all: buf.to_all(),
                });
            }
            if slot.state == SlotState::Removed && slot.link.is_idle() {
                slot.state = SlotState::Free;
            }
        }
        while self.top > 0 && self.peers[self.top - 1].state == SlotState::Free {
            self.top -= 1;
        }
        None
    }

    /// When `handle_timeout` must be called next.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.peers[..self.top]
            .iter()
            .filter(|p| p.state != SlotState::Free)
            .filter_map(|p| p.link.poll_timeout())
            .chain(self.files.poll_timeout())
            .min()
    }

    /// Runs every expired timer.
    pub fn handle_timeout(&mut self, now: Instant) {
        for (i, slot) in self.peers[..self.top].iter_mut().enumerate() {
            let due = slot.link.poll_timeout().is_some_and(|at| at <= now);
            if slot.state == SlotState::Free || !due {
                continue;
            }
            slot.link
                .handle_timeout(now, &mut self.texts, &mut self.rx, &mut self.counters);
            self.marks.mark(i);
        }
        self.files.handle_timeout(now);
    }

    fn find(&self, id: PeerId) -> Option<usize> {
        self.peers[..self.top]
            .iter()
            .position(|p| p.state != SlotState::Free && p.id == id)
    }

    fn active(&self, id: PeerId) -> Option<usize> {
        self.find(id)
            .filter(|&i| self.peers[i].state == SlotState::Active)
    }

    fn free_slot(&self) -> Option<usize> {
        self.peers.iter().position(|p| p.state == SlotState::Free)
    }

    /// splitmix64: a fresh random initial sequence number.
    fn random_isn(&mut self) -> u32 {
        self.rng = self.rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) as u32
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
    > core::fmt::Debug for Endpoint<P, Q, E, T, R, B, FS, FR, FW>
{
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let peers = self
            .peers
            .iter()
            .filter(|p| p.state == SlotState::Active)
            .count();
        f.debug_struct("Endpoint")
            .field("local", &self.local)
            .field("peers", &peers)
            .field("counters", &self.counters)
            .finish_non_exhaustive()
    }
}

/// The address with an IPv4-mapped IPv6 address turned into plain IPv4, so a dual-stack
/// socket's view of a peer matches the roster's.
fn canonical(addr: SocketAddr) -> SocketAddr {
    SocketAddr::new(addr.ip().to_canonical(), addr.port())
}
