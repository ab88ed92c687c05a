//! Early writeback for an incoming file. The final `fsync` of a large file would
//! otherwise write everything at the end, after the last chunk arrived, while the
//! sender waits for its verdict. The writer kicks an [`EarlySync`] every
//! [`SYNC_EVERY`] bytes; a helper thread then syncs the data written so far while the
//! transfer goes on, so the final sync has little left to do.
//!
//! The helper syncs the same open file (a duplicated descriptor), and a write-back
//! error is reported to one sync only: so the helper keeps its first error and
//! [`EarlySync::finish`] returns it, for the writer to fail the transfer.

use std::fs::File;
use std::io;
use std::sync::mpsc::{sync_channel, SyncSender, TrySendError};
use std::thread::JoinHandle;

/// Bytes written between early syncs.
pub(super) const SYNC_EVERY: u64 = 32 << 20;

/// The helper thread of one file, started on the first kick.
#[derive(Default)]
pub(super) struct EarlySync {
    written: u64,
    helper: Option<(SyncSender<()>, JoinHandle<io::Result<()>>)>,
}

impl EarlySync {
    /// `n` more bytes were written to `file`; starts a sync every [`SYNC_EVERY`].
    pub(super) fn wrote(&mut self, file: &File, n: u64) -> io::Result<()> {
        self.written += n;
        if self.written < SYNC_EVERY {
            return Ok(());
        }
        self.written = 0;
        if self.helper.is_none() {
            let file = file.try_clone()?;
            let (kick, kicks) = sync_channel::<()>(1);
            let helper = std::thread::Builder::new()
                .name("peerchat-file-sync".to_owned())
                .spawn(move || {
                    while kicks.recv().is_ok() {
                        file.sync_data()?;
                    }
                    Ok(())
                })?;
            self.helper = Some((kick, helper));
        }
        if let Some((kick, _)) = &self.helper {
            match kick.try_send(()) {
                // Full: a sync is already due, it covers these bytes too.
                Ok(()) | Err(TrySendError::Full(())) => {}
                // The helper stopped on an error: `finish` reports it.
                Err(TrySendError::Disconnected(())) => {}
            }
        }
        Ok(())
    }

    /// Whether the helper thread runs.
    #[cfg(test)]
    pub(super) fn started(&self) -> bool {
        self.helper.is_some()
    }

    /// Stops the helper (after the sync it is running) and returns its first error.
    pub(super) fn finish(&mut self) -> io::Result<()> {
        let Some((kick, helper)) = self.helper.take() else {
            return Ok(());
        };
        drop(kick);
        helper
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("the sync thread panicked")))
    }
}
