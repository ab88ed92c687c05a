//! The one owner of the sans-IO server node, shared by the connection tasks.
//!
//! Every task locks the node, calls one `handle_*`/`poll_*`, and unlocks before any
//! `.await`. After each call the node says whether other connections may have output
//! (`poll_wakeup`); then every connection task is woken once through one `Notify`.

use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use core::time::Duration;
use std::sync::{Mutex, MutexGuard};
use std::time::Instant as StdInstant;

use peerchat_proto::control::server::{Conn, Record, Server, ServerEvent};
use peerchat_proto::directory::Slot;
use peerchat_proto::Instant;
use tokio::sync::Notify;

use crate::log::{log_cluster_event, log_event};

/// The server node over heap storage sized at start-up.
pub(crate) type Node = Server<Vec<Slot>, Vec<Conn>, Vec<Record>>;

/// State shared by every task of one server.
pub(crate) struct Shared {
    node: Mutex<Node>,
    /// Wakes every connection task (new changes, closes, shutdown).
    pub(crate) wake: Notify,
    /// Wakes the timer task when a deadline may have moved earlier.
    pub(crate) retime: Notify,
    /// Wakes the cluster's store task when the core may have store work.
    pub(crate) store_wake: Notify,
    /// A wake of every connection is due (see [`waker`]).
    wake_due: AtomicBool,
    wake_request: Notify,
    /// Open connections, for the wake interval.
    open: AtomicUsize,
    origin: StdInstant,
}

impl Shared {
    pub(crate) fn new(node: Node) -> Self {
        Shared {
            node: Mutex::new(node),
            wake: Notify::new(),
            retime: Notify::new(),
            store_wake: Notify::new(),
            wake_due: AtomicBool::new(false),
            wake_request: Notify::new(),
            open: AtomicUsize::new(0),
            origin: StdInstant::now(),
        }
    }

    /// The core's clock: microseconds since this server started.
    pub(crate) fn now(&self) -> Instant {
        Instant::from_micros(u64::try_from(self.origin.elapsed().as_micros()).unwrap_or(u64::MAX))
    }

    /// The core's instant as a tokio deadline.
    pub(crate) fn deadline(&self, at: Instant) -> tokio::time::Instant {
        let since = core::time::Duration::from_micros(at.as_micros());
        tokio::time::Instant::from_std(self.origin + since)
    }

    /// Runs `f` on the node, then logs its events and wakes the other tasks if needed.
    pub(crate) fn with<T>(&self, f: impl FnOnce(&mut Node, Instant) -> T) -> T {
        let mut events = Vec::new();
        let mut cluster_events = Vec::new();
        let (out, wake, store) = {
            let mut node = self.lock();
            let out = f(&mut node, self.now());
            while let Some(e) = node.poll_event() {
                events.push(e);
            }
            while let Some(e) = node.poll_cluster_event() {
                cluster_events.push(e);
            }
            self.open.store(node.connections(), Ordering::Relaxed);
            (out, node.poll_wakeup(), node.poll_store_wakeup())
        };
        if wake && !self.wake_due.swap(true, Ordering::AcqRel) {
            self.wake_request.notify_one();
        }
        if store {
            self.store_wake.notify_one();
        }
        events.iter().for_each(|e: &ServerEvent| log_event(e));
        cluster_events.iter().for_each(log_cluster_event);
        out
    }

    /// The pause between two wakes of every connection: a wake costs a little per
    /// connection, so bigger servers batch more (1 ms per 100 connections, 1–100 ms).
    pub(crate) fn wake_interval(&self) -> Duration {
        let open = self.open.load(Ordering::Relaxed) as u64;
        Duration::from_micros((open * 10).clamp(1_000, 100_000))
    }

    fn lock(&self) -> MutexGuard<'_, Node> {
        // A panic while holding the lock is a bug in the core; keep serving the others.
        self.node
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Wakes every connection task when the node asked for it, at most once per
/// [`Shared::wake_interval`].
pub(crate) async fn waker(shared: std::sync::Arc<Shared>) {
    loop {
        shared.wake_request.notified().await;
        shared.wake_due.store(false, Ordering::Release);
        shared.wake.notify_waiters();
        tokio::time::sleep(shared.wake_interval()).await;
    }
}
