//! The table of every transfer this node runs, and its host-facing API.

use heapless::Deque;

use super::chunk::ChunkHeader;
use super::receiver::Receiver;
use super::sender::{Ready, SendState, Sender};
use super::types::{
    AcceptPolicy, ChunkSource, Config, Event, FailReason, FileName, Fill, Progress, Role,
    SendError, SendStats, TransferKey, Transmit, Write,
};
use crate::names::file;
use crate::time::Instant;
use crate::wire::{
    encode_packet, Body, CancelReason, FileOffer, FileRejectReason, Packet, PeerId, TransferId,
    MAX_CHUNK,
};

/// Refusals sent without a table entry, and events about them, kept until polled.
const STRAYS: usize = 4;

/// Every transfer of this node: up to `SEND` outgoing and `RECV` incoming at once, each
/// with a window of `W` chunks. See the [module documentation](super).
pub struct Transfers<const SEND: usize, const RECV: usize, const W: usize> {
    config: Config,
    next_id: u32,
    senders: [Option<Sender<W>>; SEND],
    /// Each sender's chunk datagram prefix, encoded once.
    headers: [Option<ChunkHeader>; SEND],
    receivers: [Option<Receiver<W>>; RECV],
    strays: Deque<(PeerId, TransferId, FileRejectReason), STRAYS>,
    stray_events: Deque<Event<'static>, STRAYS>,
    next_sender: usize,
}

impl<const SEND: usize, const RECV: usize, const W: usize> Transfers<SEND, RECV, W> {
    /// An empty table. `id_seed` (random, from the host) picks this node's first transfer
    /// id, so ids of the two directions between two peers are unlikely to meet.
    pub fn new(config: Config, id_seed: u32) -> Self {
        Transfers {
            config,
            next_id: id_seed,
            senders: [const { None }; SEND],
            headers: [None; SEND],
            receivers: [const { None }; RECV],
            strays: Deque::new(),
            stray_events: Deque::new(),
            next_sender: 0,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Changes the configuration for transfers that start from now on.
    pub fn set_config(&mut self, config: Config) {
        self.config = config;
    }

    /// Starts offering a file of `size` bytes with BLAKE3 `hash` to `peer`.
    pub fn send(
        &mut self,
        now: Instant,
        peer: PeerId,
        name: &str,
        size: u64,
        hash: [u8; 32],
    ) -> Result<TransferKey, SendError> {
        let safe = file::check(name).map_err(SendError::BadName)?;
        let nchunks = chunk_count(size, self.config.chunk_size).ok_or(SendError::TooLarge)?;
        let slot = self
            .senders
            .iter()
            .position(Option::is_none)
            .ok_or(SendError::Full)?;
        let id = self.fresh_id(peer);
        let mut owned = FileName::new();
        // Cannot fail: a safe name is at most MAX_FILE_NAME_LEN bytes.
        let _ = owned.push_str(safe.as_str());
        let sender = Sender::new(now, peer, id, owned, size, hash, nchunks, self.config);
        let key = sender.key;
        self.senders[slot] = Some(sender);
        Ok(key)
    }

    fn fresh_id(&mut self, peer: PeerId) -> TransferId {
        loop {
            let id = TransferId(self.next_id);
            self.next_id = self.next_id.wrapping_add(1);
            if self.sender(peer, id).is_none() {
                return id;
            }
        }
    }

    /// Accepts an offer the host was asked about.
    pub fn accept(&mut self, now: Instant, key: TransferKey) -> bool {
        self.receiver(key.peer, key.id)
            .map(|r| r.accept(now))
            .is_some()
    }

    /// Declines an offer the host was asked about.
    pub fn reject(&mut self, now: Instant, key: TransferKey) -> bool {
        self.receiver(key.peer, key.id)
            .map(|r| r.reject(now, FileRejectReason::Declined))
            .is_some()
    }

    /// Ends a transfer from this side (user request, or the host could not read or
    /// store the file); the peer is told why.
    pub fn cancel(&mut self, now: Instant, key: TransferKey, reason: CancelReason) -> bool {
        match key.role {
            Role::Send => self.sender(key.peer, key.id).map(|s| s.cancel(reason)),
            Role::Receive => self
                .receiver(key.peer, key.id)
                .map(|r| r.cancel(now, reason)),
        }
        .is_some()
    }

    /// Cancels every transfer with `peer` (it left).
    pub fn cancel_peer(&mut self, now: Instant, peer: PeerId, reason: CancelReason) {
        for s in self
            .senders
            .iter_mut()
            .flatten()
            .filter(|s| s.key.peer == peer)
        {
            s.cancel(reason);
        }
        for r in self.receivers.iter_mut().flatten() {
            if r.key.peer == peer {
                r.cancel(now, reason);
            }
        }
    }

    /// The host's BLAKE3 hash of a received file, after [`Event::Complete`]: the core
    /// answers with [`Event::Received`] or a hash-mismatch [`Event::Failed`].
    pub fn handle_hash(&mut self, now: Instant, key: TransferKey, hash: &[u8; 32]) {
        if let Some(r) = self.receiver(key.peer, key.id) {
            r.on_hash(now, hash);
        }
    }

    /// The host put a verified file in place (after [`Event::Received`]): only now does
    /// the sender hear `FileDone`. If the host cannot place it, it calls
    /// [`Transfers::cancel`] with [`CancelReason::WriteFailed`] instead, and both sides
    /// fail.
    pub fn handle_stored(&mut self, now: Instant, key: TransferKey) {
        if let Some(r) = self.receiver(key.peer, key.id) {
            r.on_stored(now);
        }
    }

    /// How far a transfer got.
    pub fn progress(&self, key: TransferKey) -> Option<Progress> {
        match key.role {
            Role::Send => self
                .senders
                .iter()
                .flatten()
                .find(|s| s.key == key)
                .map(Sender::progress),
            Role::Receive => self
                .receivers
                .iter()
                .flatten()
                .find(|r| r.key == key)
                .map(Receiver::progress),
        }
    }

    /// A running send's path statistics.
    pub fn send_stats(&self, key: TransferKey) -> Option<SendStats> {
        self.senders
            .iter()
            .flatten()
            .find(|s| s.key == key)
            .map(Sender::stats)
    }

    fn sender(&mut self, peer: PeerId, id: TransferId) -> Option<&mut Sender<W>> {
        let key = TransferKey {
            peer,
            id,
            role: Role::Send,
        };
        self.senders.iter_mut().flatten().find(|s| s.key == key)
    }

    fn receiver(&mut self, peer: PeerId, id: TransferId) -> Option<&mut Receiver<W>> {
        let key = TransferKey {
            peer,
            id,
            role: Role::Receive,
        };
        self.receivers.iter_mut().flatten().find(|r| r.key == key)
    }

    /// A file packet from `peer`. Returns the bytes to store when it carried new file
    /// data (borrowed from the datagram). Other bodies are ignored.
    pub fn handle_packet<'a>(
        &mut self,
        now: Instant,
        peer: PeerId,
        body: &Body<'a>,
    ) -> Option<Write<'a>> {
        match body {
            Body::FileOffer(offer) => self.on_offer(now, peer, offer),
            Body::FileChunk(chunk) => {
                return self.receiver(peer, chunk.transfer)?.on_chunk(now, chunk)
            }
            Body::FileAccept { transfer } => self.sender(peer, *transfer)?.on_accept(now),
            Body::FileReject { transfer, reason } => {
                self.sender(peer, *transfer)?.on_reject(*reason)
            }
            Body::FileAck(ack) => self.sender(peer, ack.transfer)?.on_ack(now, ack),
            Body::FileDone { transfer } => self.sender(peer, *transfer)?.on_done(),
            Body::FileCancel { transfer, reason } => self.on_cancel(now, peer, *transfer, *reason),
            _ => {}
        }
        None
    }

    /// A cancel names a transfer id but not its direction: it ends our send of that id
    /// if one is running, else our receive.
    fn on_cancel(&mut self, now: Instant, peer: PeerId, id: TransferId, reason: CancelReason) {
        if let Some(s) = self.sender(peer, id) {
            if s.state != SendState::Finished {
                s.on_peer_cancel(reason);
                return;
            }
        }
        if let Some(r) = self.receiver(peer, id) {
            r.on_peer_cancel(now, reason);
        }
    }

    fn on_offer(&mut self, now: Instant, peer: PeerId, offer: &FileOffer<'_>) {
        if let Some(r) = self.receiver(peer, offer.transfer) {
            r.on_repeated_offer(now);
            return;
        }
        let key = TransferKey {
            peer,
            id: offer.transfer,
            role: Role::Receive,
        };
        match self.admit(offer) {
            Ok((name, nchunks)) => {
                let slot = self.receivers.iter().position(Option::is_none);
                // `admit` checked there is a free slot.
                if let Some(slot) = slot {
                    self.receivers[slot] =
                        Some(Receiver::new(now, peer, offer, name, nchunks, self.config));
                }
            }
            Err(reason) => {
                if self
                    .strays
                    .push_back((peer, offer.transfer, reason))
                    .is_ok()
                {
                    let event = Event::Failed {
                        key,
                        reason: FailReason::Refused(reason),
                    };
                    // Dropped when full: the refusal itself still goes out, and the
                    // sender's repeats produce the event again.
                    let _ = self.stray_events.push_back(event);
                }
            }
        }
    }

    /// Every check an offer must pass before data may flow.
    fn admit(&self, offer: &FileOffer<'_>) -> Result<(FileName, u32), FileRejectReason> {
        let safe = file::check(offer.name).map_err(|e| e.reject_reason())?;
        if offer.size > self.config.max_file_size {
            return Err(FileRejectReason::TooLarge);
        }
        let nchunks =
            chunk_count(offer.size, offer.chunk_size).ok_or(FileRejectReason::TooLarge)?;
        if self.config.accept == AcceptPolicy::Never {
            return Err(FileRejectReason::Declined);
        }
        if self.receivers.iter().all(Option::is_some) {
            return Err(FileRejectReason::Busy);
        }
        let mut name = FileName::new();
        // Cannot fail: a checked name is at most MAX_FILE_NAME_LEN bytes.
        let _ = name.push_str(safe.as_str());
        Ok((name, nchunks))
    }

    /// Writes the next control packet (offers, answers, acks, done, cancels) into `buf`
    /// (at least `MAX_DATAGRAM` bytes), with `local` as the sender id. Drain this before
    /// [`Self::poll_chunk`].
    #[must_use]
    pub fn poll_control(
        &mut self,
        now: Instant,
        local: PeerId,
        buf: &mut [u8],
    ) -> Option<Transmit> {
        if let Some((peer, transfer, reason)) = self.strays.pop_front() {
            return emit(local, peer, Body::FileReject { transfer, reason }, buf);
        }
        for r in self.receivers.iter_mut().flatten() {
            if let Some(body) = r.poll_control() {
                return emit(local, r.key.peer, body, buf);
            }
        }
        for s in self.senders.iter_mut().flatten() {
            let peer = s.key.peer;
            if let Some(body) = s.poll_control(now) {
                return emit(local, peer, body, buf);
            }
        }
        None
    }

    /// Writes the next file chunk into `buf` (at least `MAX_DATAGRAM` bytes), reading its
    /// bytes from `source`; senders take turns. `None` when window, congestion control
    /// or pacing hold everything back ([`Self::poll_timeout`] says when to retry).
    #[must_use]
    pub fn poll_chunk<S: ChunkSource + ?Sized>(
        &mut self,
        now: Instant,
        local: PeerId,
        buf: &mut [u8],
        source: &mut S,
    ) -> Option<Transmit> {
        loop {
            let (transmit, fill) = self.poll_chunk_fill(now, local, buf)?;
            let data = &mut buf[fill.at..fill.at + fill.len];
            if source.read(fill.key, fill.offset, data).is_ok() {
                return Some(transmit);
            }
            self.cancel(now, fill.key, CancelReason::ReadFailed);
        }
    }

    /// Like [`Self::poll_chunk`], but leaves the file bytes to the host: the datagram in
    /// `buf` is complete except for `fill.len` bytes at `fill.at`, which must become the
    /// file's bytes at `fill.offset` before it is sent (the host reads them straight into
    /// the datagram: no copy). A host that cannot read them calls
    /// [`Self::cancel`] with [`CancelReason::ReadFailed`] and drops the datagram.
    #[must_use]
    pub fn poll_chunk_fill(
        &mut self,
        now: Instant,
        local: PeerId,
        buf: &mut [u8],
    ) -> Option<(Transmit, Fill)> {
        for step in 0..SEND {
            let i = (self.next_sender + step) % SEND;
            let Some(s) = self.senders[i].as_mut() else {
                continue;
            };
            let Ready::Chunk(idx, len) = s.ready(now) else {
                continue;
            };
            let key = s.key;
            let offset = u64::from(idx) * u64::from(s.chunk_size());
            s.on_sent(now, idx);
            self.next_sender = i + 1;
            let header = match self.headers[i] {
                Some(h) if h.is_for(local, key.id) => h,
                _ => {
                    let h = ChunkHeader::new(local, key.id)?;
                    self.headers[i] = Some(h);
                    h
                }
            };
            let (total, at) = header.write(idx, len, buf)?;
            let transmit = Transmit {
                peer: key.peer,
                len: total,
            };
            let fill = Fill {
                key,
                offset,
                at,
                len,
            };
            return Some((transmit, fill));
        }
        None
    }

    /// The next thing the host must learn.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event<'_>> {
        if let Some(e) = self.stray_events.pop_front() {
            return Some(e);
        }
        for slot in self.senders.iter_mut() {
            if let Some(s) = slot {
                if let Some(e) = s.events.pop_front() {
                    return Some(e);
                }
                if s.state == SendState::Finished && s.pending_cancel.is_none() {
                    *slot = None;
                }
            }
        }
        for slot in self.receivers.iter_mut() {
            if slot.as_ref().is_some_and(Receiver::removable) {
                *slot = None;
            }
        }
        let r = self
            .receivers
            .iter_mut()
            .flatten()
            .find(|r| !r.events.is_empty())?;
        let event = r.events.pop_front()?;
        Some(match event {
            Event::Offered {
                key,
                size,
                needs_decision,
                ..
            } => Event::Offered {
                key,
                name: r.name.as_str(),
                size,
                needs_decision,
            },
            other => other,
        })
    }

    /// When [`Self::handle_timeout`] must next be called (also when a paced chunk may go).
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        let s = self
            .senders
            .iter()
            .flatten()
            .filter_map(Sender::next_timeout);
        let r = self
            .receivers
            .iter()
            .flatten()
            .filter_map(Receiver::next_timeout);
        s.chain(r).min()
    }

    /// Runs every timer due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        // A receive-only table (`SEND == 0`) links no sender code only with this guard:
        // LLVM at opt-level "z" keeps this loop over an empty array, and with it about
        // 1.4 KiB of sender timers on a Cortex-M4.
        if SEND > 0 {
            for s in self.senders.iter_mut().flatten() {
                s.handle_timeout(now);
            }
        }
        for r in self.receivers.iter_mut().flatten() {
            r.handle_timeout(now);
        }
    }

    /// Transfers running (both directions).
    pub fn active(&self) -> usize {
        self.senders.iter().flatten().count() + self.receivers.iter().flatten().count()
    }
}

fn emit(local: PeerId, peer: PeerId, body: Body<'_>, buf: &mut [u8]) -> Option<Transmit> {
    let packet = Packet::new(local, body);
    // Every body this module builds is within the limits; a too-small buffer is a host
    // bug and drops this one packet (repeats and timers recover).
    let len = encode_packet(&packet, buf).ok()?;
    Some(Transmit { peer, len })
}

/// Chunks of `size` bytes at `chunk` bytes each, if it fits the wire's `u32` index.
fn chunk_count(size: u64, chunk: u16) -> Option<u32> {
    let chunk = u64::from(chunk);
    if chunk == 0 || chunk as usize > MAX_CHUNK {
        return None;
    }
    let (whole, rest) = crate::num::div_rem_u64(size, chunk);
    u32::try_from(whole + u64::from(rest != 0)).ok()
}
