//! Files on the host: what the protocol core's transfer table
//! ([`peerchat_proto::transfer`]) cannot do itself — read and hash files to send, store
//! received bytes, and put verified files in place. Every decision (names, limits,
//! accept policy, retries, the hash verdict) stays in the core.
//!
//! # How the engine uses it
//!
//! ```text
//! start:      let files = Files::new(options)?;  core.files().set_config(files.core_config());
//! /send N P:  let out = files::prepare(path, files.max_file_size()).await?   // one error line
//!             let key = core.files().send(now, peer_id, &out.name, out.size, out.hash)?;
//!             let id = files.started(key, "N", out);   // the id events and /accept use
//! datagram:   if let Some(w) = core.handle_datagram(now, from, bytes) { files.write(&w) }
//! burst read: files.flush_writes()      // staged chunk bytes go to the writer threads
//! transmit:   if let Some(fill) = t.fill {
//!                 if files.fill(&fill, &mut buf).is_err() {       // drop this datagram
//!                     core.files().cancel(now, fill.key, CancelReason::ReadFailed); } }
//! events:     while let Some(e) = core.files().poll_event() { … files.on_event(e, peer_name, core.files(), now) }
//!             (collect the event first: it borrows the table)
//! select!:    report = files.next_report() => files.on_report(report, core.files(), now)
//!             (a placed file calls `handle_stored`: only then does the sender hear FileDone)
//! /accept ID: files.accept(id, core.files(), now);   /decline ID: files.decline(id, core.files(), now)
//! progress:   files.progress(std_now, core.files_ref())  (at most 10 per second per transfer)
//! ```
//! Each returns the [`UiEvent`]s to show. Storage runs on one writer thread per
//! incoming file (see [`store`], with a helper that syncs large files early); hashing of outgoing files runs on tokio's blocking
//! pool; the engine task only copies chunk bytes into large staging buffers handed to
//! the writer ([`stage`]) and copies chunk bytes for outgoing datagrams out of a
//! read-ahead block ([`cache`]).

mod cache;
mod early_sync;
mod hash;
mod keyed;
mod send;
mod stage;
mod store;
mod writer;

#[cfg(test)]
mod cache_tests;
#[cfg(test)]
mod early_sync_tests;
#[cfg(test)]
mod stage_tests;
#[cfg(test)]
mod tests;

use core::time::Duration;
use std::collections::HashMap;
use std::io;
use std::path::PathBuf;
use std::time::Instant as StdInstant;

use peerchat_proto::transfer::{
    AcceptPolicy, Config, Event, Fill, HostTransfers, Role, TransferKey, Write,
};
use peerchat_proto::wire::CancelReason;
use peerchat_proto::Instant;
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};

use crate::event::{Direction, UiEvent};
use keyed::Keyed;
pub(crate) use send::{prepare, Outgoing, PrepareError};
use store::Incoming;
pub(crate) use store::Report;

/// The receiver options (`--downloads`, `--max-file-size`, `--accept`).
#[derive(Debug, Clone)]
pub(crate) struct FileOptions {
    /// Where received files are stored (created if missing).
    pub(crate) downloads: PathBuf,
    /// Largest file sent or accepted, in bytes.
    pub(crate) max_file_size: u64,
    /// What to do with acceptable offers.
    pub(crate) accept: AcceptPolicy,
}

/// How often a transfer may report progress.
const PROGRESS_EVERY: Duration = Duration::from_millis(100);

/// Names shown for one transfer.
#[derive(Debug, Clone)]
struct Label {
    /// This host's number for the transfer: every `file_*` event carries it, and
    /// `/accept` and `/decline` take it. The wire's transfer id is the sender's choice,
    /// so two peers may use the same one; this number is never shared.
    id: u32,
    peer: String,
    name: String,
    size: u64,
}

/// The host's side of every file transfer; see the module documentation.
pub(crate) struct Files {
    options: FileOptions,
    sends: Keyed<Outgoing>,
    receives: Keyed<Incoming>,
    labels: HashMap<TransferKey, Label>,
    /// Offers waiting for `/accept` or `/decline`, by [`Label::id`].
    pending: HashMap<u32, TransferKey>,
    /// The last [`Label::id`] given out.
    last_id: u32,
    last_progress: HashMap<TransferKey, StdInstant>,
    reports_tx: UnboundedSender<Report>,
    reports: UnboundedReceiver<Report>,
}

impl Files {
    /// Creates the downloads folder if needed.
    pub(crate) fn new(options: FileOptions) -> io::Result<Files> {
        std::fs::create_dir_all(&options.downloads)?;
        let (reports_tx, reports) = unbounded_channel();
        Ok(Files {
            options,
            sends: Keyed::new(),
            receives: Keyed::new(),
            labels: HashMap::new(),
            pending: HashMap::new(),
            last_id: 0,
            last_progress: HashMap::new(),
            reports_tx,
            reports,
        })
    }

    /// The core's transfer settings for these options.
    pub(crate) fn core_config(&self) -> Config {
        Config {
            max_file_size: self.options.max_file_size,
            accept: self.options.accept,
            ..Config::default()
        }
    }

    /// The size limit for sending and receiving.
    pub(crate) fn max_file_size(&self) -> u64 {
        self.options.max_file_size
    }

    /// A send started (`Transfers::send` returned `key`); returns the id its events carry.
    pub(crate) fn started(&mut self, key: TransferKey, peer: &str, out: Outgoing) -> u32 {
        let id = self.label(key, peer, &out.name, out.size);
        self.sends.insert(key, out);
        id
    }

    /// Names transfer `key` and gives it the next id, which it returns.
    fn label(&mut self, key: TransferKey, peer: &str, name: &str, size: u64) -> u32 {
        // Ids of ended transfers may come back after 2^32 transfers; zero never does.
        self.last_id = self.last_id.checked_add(1).unwrap_or(1);
        let id = self.last_id;
        let label = Label {
            id,
            peer: peer.to_owned(),
            name: name.to_owned(),
            size,
        };
        self.labels.insert(key, label);
        id
    }

    /// Completes a chunk datagram with the file's bytes. On error, drop the datagram and
    /// cancel the transfer with [`CancelReason::ReadFailed`].
    pub(crate) fn fill(&mut self, fill: &Fill, buf: &mut [u8]) -> io::Result<()> {
        self.sends
            .get_mut(&fill.key)
            .ok_or_else(|| io::Error::other("no such transfer"))?
            .fill(fill, buf)
    }

    /// Chunk bytes from the core: staged for the transfer's writer thread, which gets
    /// them in large batches (see [`Files::flush_writes`]).
    pub(crate) fn write(&mut self, w: &Write<'_>) {
        if let Some(incoming) = self.receives.get_mut(&w.key) {
            incoming.write(w.offset, w.data, w.contiguous);
        }
    }

    /// Hands every staged chunk byte to the writer threads. Call after each burst of
    /// datagrams, so bytes do not wait for the next burst.
    pub(crate) fn flush_writes(&mut self) {
        for incoming in self.receives.values_mut() {
            incoming.flush();
        }
    }

    /// Waits for the next report of a writer thread (use in the engine's `select!`).
    pub(crate) async fn next_report(&mut self) -> Report {
        // `self` holds a sender, so the channel never closes.
        match self.reports.recv().await {
            Some(report) => report,
            None => core::future::pending().await,
        }
    }

    /// One event of the core's transfer table; `peer` is the other side's name.
    pub(crate) fn on_event(
        &mut self,
        event: Event<'_>,
        peer: &str,
        table: &mut HostTransfers,
        now: Instant,
    ) -> Option<UiEvent> {
        match event {
            Event::Offered {
                key,
                name,
                size,
                needs_decision,
            } => self.offered(key, name, size, peer, needs_decision, table, now),
            Event::Accepted { .. } => None,
            Event::Complete { key } => {
                if let Some(incoming) = self.receives.get_mut(&key) {
                    incoming.complete();
                }
                None
            }
            Event::Received { key, .. } => {
                if let Some(incoming) = self.receives.get(&key) {
                    incoming.commit();
                }
                None
            }
            Event::Sent { key, size } => {
                self.sends.remove(&key);
                self.last_progress.remove(&key);
                let label = self.labels.remove(&key)?;
                Some(UiEvent::FileSent {
                    id: label.id,
                    to: label.peer,
                    name: label.name,
                    bytes: size,
                })
            }
            Event::Failed { key, reason } => self.failed(key, reason.to_string()),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn offered(
        &mut self,
        key: TransferKey,
        name: &str,
        size: u64,
        peer: &str,
        needs_decision: bool,
        table: &mut HostTransfers,
        now: Instant,
    ) -> Option<UiEvent> {
        let id = self.label(key, peer, name, size);
        if needs_decision {
            self.pending.insert(id, key);
        } else if let Err(e) = self.open(key) {
            table.cancel(now, key, CancelReason::WriteFailed);
            return self.failed(key, format!("cannot store the file: {e}"));
        }
        Some(UiEvent::FileOffered {
            from: peer.to_owned(),
            name: name.to_owned(),
            size,
            id,
        })
    }

    fn open(&mut self, key: TransferKey) -> io::Result<()> {
        let label = self
            .labels
            .get(&key)
            .ok_or_else(|| io::Error::other("unknown transfer"))?;
        let incoming = Incoming::start(
            &self.options.downloads,
            key,
            &label.name,
            label.size,
            self.reports_tx.clone(),
        )?;
        self.receives.insert(key, incoming);
        Ok(())
    }

    fn failed(&mut self, key: TransferKey, reason: String) -> Option<UiEvent> {
        self.sends.remove(&key);
        self.last_progress.remove(&key);
        if let Some(incoming) = self.receives.remove(&key) {
            incoming.abort();
        }
        let label = self.labels.remove(&key)?;
        self.pending.remove(&label.id);
        Some(UiEvent::FileFailed {
            id: label.id,
            peer: label.peer,
            name: label.name,
            reason,
        })
    }

    /// `/accept ID`.
    pub(crate) fn accept(
        &mut self,
        id: u32,
        table: &mut HostTransfers,
        now: Instant,
    ) -> Result<(), String> {
        let key = self.take_offer(id)?;
        if let Err(e) = self.open(key) {
            table.cancel(now, key, CancelReason::WriteFailed);
            return Err(format!("cannot store the file: {e}"));
        }
        table.accept(now, key);
        Ok(())
    }

    /// The waiting offer `id`, no longer waiting.
    fn take_offer(&mut self, id: u32) -> Result<TransferKey, String> {
        self.pending
            .remove(&id)
            .ok_or_else(|| format!("no file offer {id} is waiting"))
    }

    /// `/decline ID`.
    pub(crate) fn decline(
        &mut self,
        id: u32,
        table: &mut HostTransfers,
        now: Instant,
    ) -> Result<(), String> {
        let key = self.take_offer(id)?;
        table.reject(now, key);
        Ok(())
    }

    /// A writer thread's report.
    pub(crate) fn on_report(
        &mut self,
        report: Report,
        table: &mut HostTransfers,
        now: Instant,
    ) -> Option<UiEvent> {
        match report {
            Report::Hashed(key, hash) => {
                table.handle_hash(now, key, &hash);
                None
            }
            Report::Stored(key, path) => {
                self.last_progress.remove(&key);
                let (Some(_), Some(label)) = (self.receives.remove(&key), self.labels.remove(&key))
                else {
                    // The transfer failed while the file was being placed (the sender
                    // gave up): a failed transfer leaves no file. The name was free
                    // until this transfer linked it, so it is ours to remove.
                    let _ = std::fs::remove_file(&path);
                    return None;
                };
                // Only now does the sender hear that the file arrived.
                table.handle_stored(now, key);
                let name = path
                    .file_name()
                    .map_or_else(|| label.name.clone(), |n| n.to_string_lossy().into_owned());
                Some(UiEvent::FileReceived {
                    id: label.id,
                    from: label.peer,
                    name,
                    path: path.display().to_string(),
                    bytes: label.size,
                })
            }
            Report::Failed(key, why) => {
                table.cancel(now, key, CancelReason::WriteFailed);
                self.failed(key, format!("cannot store the file: {why}"))
            }
        }
    }

    /// Progress of every running transfer, at most every 100 ms each.
    pub(crate) fn progress(&mut self, now: StdInstant, table: &HostTransfers) -> Vec<UiEvent> {
        let mut out = Vec::new();
        for (key, label) in &self.labels {
            let due = self
                .last_progress
                .get(key)
                .is_none_or(|t| now.duration_since(*t) >= PROGRESS_EVERY);
            let Some(p) = table.progress(*key).filter(|_| due) else {
                continue;
            };
            self.last_progress.insert(*key, now);
            let direction = match key.role {
                Role::Send => Direction::Send,
                Role::Receive => Direction::Receive,
            };
            out.push(UiEvent::FileProgress {
                id: label.id,
                name: label.name.clone(),
                direction,
                bytes: p.bytes,
                total: p.size,
            });
        }
        out
    }
}
