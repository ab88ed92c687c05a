//! Choosing and encoding the next datagram: acks, then chat, then file transfers.

use core::net::SocketAddr;

use super::{Endpoint, SlotState, Transmit};
use crate::link::{fragment_range, Texts};
use crate::time::Instant;
use crate::wire::{Body, Chat, Frag, Packet, PeerId, MAX_DATAGRAM};

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
    /// Writes the next datagram to send into `buf` (at least
    /// [`MAX_DATAGRAM`] bytes). Acks first, then chat, then file packets.
    #[must_use]
    pub fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<Transmit> {
        let local = self.local?;
        if buf.len() < MAX_DATAGRAM {
            return None;
        }
        self.settle_marks();
        self.poll_ack(local, buf)
            .or_else(|| self.poll_chat(now, local, buf))
            .or_else(|| self.poll_file_transmit(now, local, buf))
    }

    fn poll_ack(&mut self, local: PeerId, buf: &mut [u8]) -> Option<Transmit> {
        // The lowest slot that owes an ack, as a scan of the whole table would find.
        let i = self
            .marks
            .iter()
            .filter(|&i| self.peers[i].link.ack_pending())
            .min()?;
        let slot = &mut self.peers[i];
        let ack = slot.link.take_ack(&self.rx)?;
        let packet = Packet::new(local, Body::Ack(ack));
        encode(&packet, slot.addr, buf)
    }

    /// Unlists the slots that have nothing to send (see `marks.rs`); only active slots
    /// stay listed.
    fn settle_marks(&mut self) {
        let peers = &self.peers;
        self.marks.retain(|i| {
            let p = &peers[i];
            p.state == SlotState::Active && (p.link.ack_pending() || p.link.chat_pending())
        });
    }

    fn poll_chat(&mut self, now: Instant, local: PeerId, buf: &mut [u8]) -> Option<Transmit> {
        // Round-robin: the first slot with chat at or after the cursor, wrapping.
        let cursor = self.cursor;
        let i = self
            .marks
            .iter()
            .filter(|&i| self.peers[i].link.chat_pending())
            .min_by_key(|&i| (i + P - cursor) % P)?;
        let slot = &mut self.peers[i];
        // `chat_pending` said a fragment may go: this is `Some`.
        let out = slot.link.next_chat(now, &mut self.counters)?;
        self.cursor = (i + 1) % P;
        let text = self.texts.bytes(out.text);
        let range = fragment_range(text, usize::from(out.index));
        // Fragments end on character boundaries of a UTF-8 text: this cannot fail.
        let text = core::str::from_utf8(&text[range]).unwrap_or("");
        let chat = Chat {
            seq: out.seq,
            base: out.base,
            to_all: out.to_all,
            frag: Frag {
                index: out.index,
                count: out.count,
            },
            text,
        };
        encode(&Packet::new(local, Body::Chat(chat)), slot.addr, buf)
    }
}

/// Encodes `packet` for `dst`; our own packets always fit (see the link's size test).
fn encode(packet: &Packet<'_>, dst: SocketAddr, buf: &mut [u8]) -> Option<Transmit> {
    crate::wire::encode_packet(packet, buf)
        .ok()
        .map(|len| Transmit {
            dst,
            len,
            fill: None,
        })
}
