//! Taking in datagrams: each is routed by its sender id, and only from the address the
//! peer table holds for that id, to the peer's link (chat and its acks) or to the file
//! transfers.

use core::net::SocketAddr;

use super::{canonical, Endpoint, SlotState};
use crate::time::Instant;
use crate::wire::{decode_packet, Body, PeerId};

/// Windows (in chunks) from which chunk datagrams are decoded by the shortcut.
const SHORTCUT_WINDOW: usize = 256;

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
    /// Takes in one datagram read from the socket. Returns the file bytes to store when
    /// it was a file chunk with new data (borrowed from `bytes`).
    pub fn handle_datagram<'a>(
        &mut self,
        now: Instant,
        from: SocketAddr,
        bytes: &'a [u8],
    ) -> Option<crate::transfer::Write<'a>> {
        // File chunks, most of the traffic of a transfer, take a shortcut with the same
        // verdict (see `transfer::decode_chunk`) — in tables with windows large enough
        // for the rate to matter; a device's small table keeps the code instead.
        let shortcut = FW >= SHORTCUT_WINDOW;
        if let Some((sender, chunk)) = shortcut
            .then(|| crate::transfer::decode_chunk(bytes))
            .flatten()
        {
            let i = self.source(sender, from)?;
            let body = Body::FileChunk(chunk);
            return self.files.handle_packet(now, self.peers[i].id, &body);
        }
        let Ok(packet) = decode_packet(bytes) else {
            self.counters.dropped_undecodable += 1;
            return None;
        };
        let i = self.source(packet.header.sender, from)?;
        let link = &mut self.peers[i].link;
        match &packet.body {
            Body::Chat(chat) => {
                self.on_chat(now, i, chat);
                self.marks.mark(i);
            }
            Body::Ack(ack) => {
                link.on_ack(now, *ack, &mut self.texts, &mut self.counters);
                self.marks.mark(i);
            }
            Body::Probe { .. } | Body::ProbeReply { .. } => self.counters.dropped_unhandled += 1,
            _ => return self.route_file_packet(now, i, &packet),
        }
        None
    }

    /// The slot of the active peer `sender` if the datagram came from its address;
    /// otherwise counts the drop.
    fn source(&mut self, sender: PeerId, from: SocketAddr) -> Option<usize> {
        let Some(i) = self.lookup(sender) else {
            self.counters.dropped_unknown_peer += 1;
            return None;
        };
        if self.peers[i].addr != canonical(from) {
            self.counters.dropped_bad_source += 1;
            return None;
        }
        Some(i)
    }

    /// A chat packet for peer slot `i`. If it is due first and every reassembly buffer is
    /// taken, another peer's early message gives its buffer up (it was never
    /// acknowledged, so its sender sends it again).
    fn on_chat(&mut self, now: Instant, i: usize, chat: &crate::wire::Chat<'_>) {
        let result = self.peers[i]
            .link
            .on_chat(now, chat, &mut self.rx, &mut self.counters);
        if result.is_ok() {
            return;
        }
        let evicted = self.peers[..self.top]
            .iter_mut()
            .any(|p| p.state != SlotState::Free && p.link.evict_early(&mut self.rx));
        let retried = evicted
            && self.peers[i]
                .link
                .on_chat(now, chat, &mut self.rx, &mut self.counters)
                .is_ok();
        if !retried {
            self.counters.dropped_busy += 1;
        }
    }

    /// [`Self::active`], trying the slot of the previous lookup first: datagrams come
    /// in bursts from one peer (a file's chunks, its acks).
    pub(super) fn lookup(&mut self, id: PeerId) -> Option<usize> {
        let hint = self.hint;
        if self
            .peers
            .get(hint)
            .is_some_and(|p| p.state == SlotState::Active && p.id == id)
        {
            return Some(hint);
        }
        let i = self.active(id)?;
        self.hint = i;
        Some(i)
    }
}
