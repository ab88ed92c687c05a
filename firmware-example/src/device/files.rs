//! The device's side of file transfers: receive only, one `.txt` of up to
//! [`FILE_CAP`] bytes at a time into the fixed [`crate::file::FileSlot`]. `proto`'s
//! transfer table (inside the client node) checks names and sizes, accepts, acknowledges
//! and judges the hash; the device stores the bytes it is handed, hashes the whole file
//! when told it is complete, and answers the sender with the length and hash once the
//! table has confirmed them.

use core::net::SocketAddr;

use peerchat_proto::transfer::{AcceptPolicy, Config, Event as FileEvent, TransferKey};
use peerchat_proto::wire::CancelReason;
use peerchat_proto::Instant;

use super::Device;
use crate::file::FILE_CAP;
use crate::platform::Platform;
use crate::{info, warn};

/// The transfer settings of a receive-only device: offers up to [`FILE_CAP`] bytes are
/// accepted at once, larger ones refused by the core before any data moves.
pub(super) fn config() -> Config {
    Config {
        max_file_size: FILE_CAP as u64,
        accept: AcceptPolicy::Auto,
        ..Config::default()
    }
}

impl Device {
    /// Hands a datagram to the client and stores the file bytes it hands back.
    pub(super) fn handle_datagram<P: Platform>(
        &mut self,
        p: &mut P,
        now: Instant,
        from: SocketAddr,
        len: usize,
    ) {
        let write = self
            .client
            .handle_datagram(now, from, &self.datagram[..len]);
        let stored = match write {
            Some(w) if self.file_key == Some(w.key) => {
                self.file.write(w.offset, w.data).map_err(|e| (w.key, e))
            }
            _ => Ok(()),
        };
        if let Err((key, e)) = stored {
            warn!(p, "cannot store file data: {}", e);
            let _ = self
                .client
                .files()
                .cancel(now, key, CancelReason::WriteFailed);
            self.forget_file();
        }
    }

    /// Handles one transfer event; returns whether there was one.
    pub(super) fn next_file_event<P: Platform>(&mut self, p: &mut P, now: Instant) -> bool {
        let Some(event) = self.client.files().poll_event() else {
            return false;
        };
        match event {
            FileEvent::Offered {
                key, name, size, ..
            } => match self.file.begin(name, size) {
                Ok(()) => {
                    info!(p, "receiving {} ({} bytes)", name, size);
                    self.file_key = Some(key);
                }
                Err(e) => {
                    warn!(p, "cannot take {}: {}", name, e);
                    let _ = self
                        .client
                        .files()
                        .cancel(now, key, CancelReason::WriteFailed);
                }
            },
            FileEvent::Complete { key } if self.file_key == Some(key) => {
                if let Some((_, hash)) = self.file.finish() {
                    self.file_hash = hash;
                    self.client.files().handle_hash(now, key, &hash);
                }
            }
            FileEvent::Received { key, size } if self.file_key == Some(key) => {
                // The verified file is the slot's content: it is in place.
                self.client.files().handle_stored(now, key);
                self.answer_file(p, now, key, size);
            }
            FileEvent::Failed { key, reason } => {
                warn!(p, "file transfer failed: {}", reason);
                if self.file_key == Some(key) {
                    self.forget_file();
                }
            }
            _ => {}
        }
        true
    }

    /// Tells the sender the verified file's length and hash, then frees the slot.
    fn answer_file<P: Platform>(&mut self, p: &mut P, now: Instant, key: TransferKey, size: u64) {
        let size = usize::try_from(size).unwrap_or(usize::MAX);
        let text = self
            .reply
            .file_received(self.file.name(), size, &self.file_hash);
        info!(p, "{}", text);
        let sender = self
            .client
            .peers()
            .find(|r| r.id == key.peer)
            .map(|r| r.name);
        match sender {
            Some(name) => self.answer(p, now, name.as_str()),
            None => warn!(p, "the sender of {} has left", self.file.name()),
        }
        self.forget_file();
    }

    /// Empties the slot.
    fn forget_file(&mut self) {
        self.file.clear();
        self.file_key = None;
    }
}
