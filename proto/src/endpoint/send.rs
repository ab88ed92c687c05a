//! Queueing the user's messages: to one peer, or one copy to every peer.

use super::{Endpoint, SlotState};
use crate::link::{MessageId, Texts};
use crate::time::Instant;
use crate::wire::{PeerId, MAX_TEXT_LEN};

/// Why a message was not queued (nothing was sent; the caller still has the text).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum SendError {
    /// No peer with this id in the table.
    UnknownPeer,
    /// No peer in the table at all (for `send_all`).
    NoPeers,
    /// The text is over [`MAX_TEXT_LEN`] bytes.
    TooLong,
    /// A peer's send queue is full: wait for `delivered`/`failed` events.
    QueueFull,
    /// The endpoint's storage for unacknowledged texts is full: wait for events.
    BufferFull,
}

impl core::fmt::Display for SendError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            SendError::UnknownPeer => "unknown peer",
            SendError::NoPeers => "nobody else is online",
            SendError::TooLong => "message over 16 KiB",
            SendError::QueueFull => "too many messages waiting for this peer",
            SendError::BufferFull => "too many unacknowledged messages",
        })
    }
}

impl core::error::Error for SendError {}

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
    /// Queues `text` for `to`; `to_all` marks one copy of a message to everyone online.
    /// The returned id comes back in a `Delivered` or `Failed` event.
    pub fn send(
        &mut self,
        _now: Instant,
        to: PeerId,
        text: &str,
        to_all: bool,
    ) -> Result<MessageId, SendError> {
        check_len(text)?;
        let i = self.active(to).ok_or(SendError::UnknownPeer)?;
        if !self.peers[i].link.has_room() {
            return Err(SendError::QueueFull);
        }
        let text_ref = self.texts.insert(text, 1).ok_or(SendError::BufferFull)?;
        let id = self.next_message_id();
        self.push(i, id, text_ref, to_all);
        Ok(id)
    }

    /// Queues one copy of `text` to every peer in the table, each acknowledged on its own
    /// (one `Delivered`/`Failed` event per peer, all with the returned id). All or
    /// nothing: if any peer's queue is full, nothing is queued.
    pub fn send_all(&mut self, _now: Instant, text: &str) -> Result<MessageId, SendError> {
        check_len(text)?;
        let mut count = 0u16;
        for slot in self.peers.iter().filter(|p| p.state == SlotState::Active) {
            if !slot.link.has_room() {
                return Err(SendError::QueueFull);
            }
            count += 1;
        }
        if count == 0 {
            return Err(SendError::NoPeers);
        }
        let text_ref = self
            .texts
            .insert(text, count)
            .ok_or(SendError::BufferFull)?;
        let id = self.next_message_id();
        for i in 0..P {
            if self.peers[i].state == SlotState::Active {
                self.push(i, id, text_ref, true);
            }
        }
        Ok(id)
    }

    fn push(&mut self, i: usize, id: MessageId, text_ref: crate::link::TextRef, to_all: bool) {
        let text = self.texts.bytes(text_ref);
        if self.peers[i].link.push(id, text_ref, text, to_all).is_err() {
            // The caller checked `has_room` just before: cannot happen, but never leak.
            self.texts.release(text_ref);
        }
        self.marks.mark(i);
    }

    fn next_message_id(&mut self) -> MessageId {
        let id = MessageId(self.next_id);
        self.next_id = self.next_id.wrapping_add(1).max(1);
        id
    }
}

fn check_len(text: &str) -> Result<(), SendError> {
    if text.len() > MAX_TEXT_LEN {
        return Err(SendError::TooLong);
    }
    Ok(())
}
