//! The engine's side of file transfers: `/send`, `/accept`, `/decline`, file bytes in
//! and out of datagrams, and the transfer table's events, carried out with
//! [`crate::files::Files`] (which reads, hashes, stores and places files). Hashing a
//! file to send runs off the engine task; its result comes back as a [`Prepared`].

use std::path::PathBuf;

use peerchat_proto::transfer::{Event, TransferKey};
use peerchat_proto::wire::PeerId;

use super::Engine;
use crate::event::UiEvent;
use crate::files::{Outgoing, PrepareError, Report};

/// A file checked and hashed for `/send`, or why it cannot be sent.
#[derive(Debug)]
pub(crate) struct Prepared {
    /// Recipient name.
    name: String,
    /// Recipient id when `/send` was given.
    id: PeerId,
    /// The file.
    result: Result<Outgoing, PrepareError>,
}

/// A transfer-table event detached from the table (the offered name copied out), so
/// the table can be lent to [`crate::files::Files`] while it is handled.
enum Detached {
    Offered {
        key: TransferKey,
        name: String,
        size: u64,
        needs_decision: bool,
    },
    Other(Event<'static>),
}

impl Detached {
    fn new(event: Event<'_>) -> Detached {
        match event {
            Event::Offered {
                key,
                name,
                size,
                needs_decision,
            } => Detached::Offered {
                key,
                name: name.to_owned(),
                size,
                needs_decision,
            },
            Event::Accepted { key } => Detached::Other(Event::Accepted { key }),
            Event::Complete { key } => Detached::Other(Event::Complete { key }),
            Event::Received { key, size } => Detached::Other(Event::Received { key, size }),
            Event::Sent { key, size } => Detached::Other(Event::Sent { key, size }),
            Event::Failed { key, reason } => Detached::Other(Event::Failed { key, reason }),
        }
    }

    fn key(&self) -> TransferKey {
        match self {
            Detached::Offered { key, .. } => *key,
            Detached::Other(
                Event::Offered { key, .. }
                | Event::Accepted { key }
                | Event::Complete { key }
                | Event::Received { key, .. }
                | Event::Sent { key, .. }
                | Event::Failed { key, .. },
            ) => *key,
        }
    }

    fn event(&self) -> Event<'_> {
        match self {
            Detached::Offered {
                key,
                name,
                size,
                needs_decision,
            } => Event::Offered {
                key: *key,
                name,
                size: *size,
                needs_decision: *needs_decision,
            },
            Detached::Other(event) => *event,
        }
    }
}

impl Engine {
    /// `/send NAME PATH`: checks and hashes the file off the engine task.
    pub(super) async fn send_file(&mut self, to: &str, path: &str) {
        let Some(peer) = self.core.peer_by_name(to).copied() else {
            return self
                .error(format!(
                    "cannot send to {to}: no one of that name is online"
                ))
                .await;
        };
        let tx = self.prepared_tx.clone();
        let max = self.files.max_file_size();
        let path = PathBuf::from(path);
        let name = peer.name.as_str().to_owned();
        tokio::spawn(async move {
            let result = crate::files::prepare(path, max).await;
            // The engine may have finished meanwhile; then nobody waits for the file.
            let _ = tx
                .send(Prepared {
                    name,
                    id: peer.id,
                    result,
                })
                .await;
        });
    }

    /// A file for `/send` is checked and hashed: offer it.
    pub(super) async fn on_prepared(&mut self, prepared: Prepared) {
        let out = match prepared.result {
            Ok(out) => out,
            Err(e) => return self.error(e.to_string()).await,
        };
        let still_there = self
            .core
            .peer_by_name(&prepared.name)
            .is_some_and(|p| p.id == prepared.id);
        if !still_there {
            let message = format!("cannot send {}: {} went offline", out.name, prepared.name);
            return self.error(message).await;
        }
        let now = self.now();
        match self
            .core
            .files()
            .send(now, prepared.id, &out.name, out.size, out.hash)
        {
            Ok(key) => {
                let (name, size) = (out.name.clone(), out.size);
                let id = self.files.started(key, &prepared.name, out);
                let message = format!(
                    "offering {name} ({size} bytes) to {}, transfer {id}",
                    prepared.name
                );
                self.notice(message).await;
            }
            Err(e) => self.error(format!("cannot send {}: {e}", out.name)).await,
        }
    }

    /// `/accept ID` or `/decline ID`.
    pub(super) async fn answer_offer(&mut self, id: u32, accept: bool) {
        let now = self.now();
        let result = if accept {
            self.files.accept(id, self.core.files(), now)
        } else {
            self.files.decline(id, self.core.files(), now)
        };
        if let Err(message) = result {
            self.error(message).await;
        }
    }

    /// A writer thread's report (hash ready, file stored, or a failure).
    pub(super) async fn on_report(&mut self, report: Report) {
        let now = self.now();
        if let Some(event) = self.files.on_report(report, self.core.files(), now) {
            self.emit(event).await;
        }
    }

    /// Drains the transfer table's events; returns whether there were any.
    pub(super) async fn drain_file_events(&mut self) -> bool {
        // Every chunk handed out before `Complete` must reach the writer before it.
        self.files.flush_writes();
        let mut events = Vec::new();
        while let Some(event) = self.core.files().poll_event() {
            events.push(Detached::new(event));
        }
        let any = !events.is_empty();
        for event in events {
            let peer = self.peer_label(event.key().peer);
            let now = self.now();
            let shown = self
                .files
                .on_event(event.event(), &peer, self.core.files(), now);
            if let Some(shown) = shown {
                self.emit(shown).await;
            }
        }
        any
    }

    /// Progress of running transfers (at most ten a second each).
    pub(super) async fn file_progress(&mut self) {
        let events: Vec<UiEvent> = self
            .files
            .progress(std::time::Instant::now(), self.core.files_ref());
        for event in events {
            self.emit(event).await;
        }
    }

    /// Whether any transfer is running (progress is reported only then).
    pub(super) fn transfers_running(&self) -> bool {
        self.core.files_ref().active() > 0
    }

    fn peer_label(&self, id: PeerId) -> String {
        match self.core.peer_name(id) {
            Some(name) => name.as_str().to_owned(),
            None => format!("peer-{}", id.0),
        }
    }
}
