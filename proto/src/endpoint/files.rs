//! The endpoint's file transfers (maintained with `crate::transfer`): routing of
//! `Body::File*` packets to the transfer table, its transmit slot after acks and chat,
//! and the host's access to the table.

use super::{Endpoint, Packet, Transmit};
use crate::time::Instant;
use crate::transfer::{Transfers, Write};
use crate::wire::{CancelReason, PeerId};

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
    /// The file-transfer table: start sends, answer offers, poll its events, report
    /// hashes (see [`crate::transfer`]). Its packets leave through `poll_transmit`.
    pub fn files(&mut self) -> &mut Transfers<FS, FR, FW> {
        &mut self.files
    }

    /// The file-transfer table, read-only (progress, statistics).
    pub fn files_ref(&self) -> &Transfers<FS, FR, FW> {
        &self.files
    }

    /// A `Body::File*` packet from the known peer in slot `peer`.
    pub(super) fn route_file_packet<'a>(
        &mut self,
        now: Instant,
        peer: usize,
        packet: &Packet<'a>,
    ) -> Option<Write<'a>> {
        let from = self.peers[peer].id;
        self.files.handle_packet(now, from, &packet.body)
    }

    /// The lowest transmit priority, asked only when no ack or chat packet is waiting:
    /// the table's control packets, then its chunks (with their fill). Packets for a
    /// peer the table no longer knows are dropped.
    pub(super) fn poll_file_transmit(
        &mut self,
        now: Instant,
        local: PeerId,
        buf: &mut [u8],
    ) -> Option<Transmit> {
        loop {
            let (t, fill) = match self.files.poll_control(now, local, buf) {
                Some(t) => (t, None),
                None => {
                    let (t, fill) = self.files.poll_chunk_fill(now, local, buf)?;
                    (t, Some(fill))
                }
            };
            if let Some(dst) = self.lookup(t.peer).map(|i| self.peers[i].addr) {
                return Some(Transmit {
                    dst,
                    len: t.len,
                    fill,
                });
            }
        }
    }

    /// A peer left: its transfers end.
    pub(super) fn files_peer_gone(&mut self, id: PeerId) {
        // The table only cancels transfers that are still running.
        self.files
            .cancel_peer(Instant::ZERO, id, CancelReason::Cancelled);
    }
}

#[cfg(test)]
#[path = "files_tests.rs"]
mod tests;
