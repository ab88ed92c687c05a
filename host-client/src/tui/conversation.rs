//! The conversation pane's content: messages in and out, and system lines, oldest
//! first, bounded (the oldest entries go first when it is full).
//!
//! Our own messages carry the ids of the `sending` events that made them, so later
//! `delivered`/`failed` events mark the right line. A message to everyone is one line
//! that collects one id per recipient.

use std::collections::{HashMap, VecDeque};

/// Entries kept for scrollback.
pub(crate) const CAPACITY: usize = 2000;

/// Wall-clock time of day, seconds since midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct TimeOfDay(pub(crate) u32);

impl TimeOfDay {
    /// `HH:MM`.
    pub(crate) fn hh_mm(self) -> String {
        let minutes = self.0 / 60 % (24 * 60);
        format!("{:02}:{:02}", minutes / 60, minutes % 60)
    }
}

/// What became of one copy of our message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Mark {
    /// Handed to the network, not yet acknowledged.
    Pending,
    /// Acknowledged by the recipient.
    Delivered,
    /// Given up on.
    Failed,
}

/// Who one of our messages went to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum To {
    /// One user.
    Peer(String),
    /// Everyone online.
    Everyone,
}

/// How a system line looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Level {
    /// Joins, leaves, notices, help.
    Info,
    /// Files offered, moved, saved.
    File,
    /// Something went wrong.
    Error,
}

/// One entry of the conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Entry {
    /// A message from a peer.
    Message {
        /// When it arrived.
        at: TimeOfDay,
        /// Sender name.
        from: String,
        /// The text.
        text: String,
        /// Whether it was sent to everyone.
        to_all: bool,
    },
    /// A message we sent.
    Own {
        /// When it was sent.
        at: TimeOfDay,
        /// Its recipient.
        to: To,
        /// The text.
        text: String,
        /// One mark per recipient: (recipient, id, mark).
        copies: Vec<(String, u64, Mark)>,
    },
    /// A line from the client itself.
    System {
        /// When.
        at: TimeOfDay,
        /// How it looks.
        level: Level,
        /// The line.
        text: String,
    },
}

/// The conversation: entries oldest first, and where each message id lives.
#[derive(Debug, Default)]
pub(crate) struct Conversation {
    entries: VecDeque<Entry>,
    /// Number of entries dropped from the front so far.
    dropped: usize,
    /// Message id → absolute entry number.
    ids: HashMap<u64, usize>,
}

impl Conversation {
    /// All entries, oldest first.
    pub(crate) fn entries(&self) -> &VecDeque<Entry> {
        &self.entries
    }

    /// Adds an entry, dropping the oldest if full.
    pub(crate) fn push(&mut self, entry: Entry) {
        if self.entries.len() == CAPACITY {
            self.entries.pop_front();
            self.dropped += 1;
            let dropped = self.dropped;
            self.ids.retain(|_, at| *at >= dropped);
        }
        self.entries.push_back(entry);
    }

    /// Adds a system line.
    #[cfg(test)]
    pub(crate) fn system(&mut self, at: TimeOfDay, level: Level, text: impl Into<String>) {
        self.push(Entry::System {
            at,
            level,
            text: text.into(),
        });
    }

    /// Records one `sending` event: a new line, or one more copy of a message to everyone.
    pub(crate) fn sending(&mut self, at: TimeOfDay, to: &str, id: u64, to_all: bool, text: &str) {
        let absolute = self.dropped + self.entries.len();
        if to_all {
            if let Some(Entry::Own {
                to: To::Everyone,
                text: last,
                copies,
                ..
            }) = self.entries.back_mut()
            {
                if last == text && !copies.iter().any(|(name, ..)| name == to) {
                    copies.push((to.to_owned(), id, Mark::Pending));
                    self.ids.insert(id, absolute - 1);
                    return;
                }
            }
        }
        let target = if to_all {
            To::Everyone
        } else {
            To::Peer(to.to_owned())
        };
        self.push(Entry::Own {
            at,
            to: target,
            text: text.to_owned(),
            copies: vec![(to.to_owned(), id, Mark::Pending)],
        });
        self.ids.insert(id, self.dropped + self.entries.len() - 1);
    }

    /// Marks the copy with `id`; false if no line holds it any more.
    pub(crate) fn mark(&mut self, id: u64, mark: Mark) -> bool {
        let Some(&absolute) = self.ids.get(&id) else {
            return false;
        };
        let Some(Entry::Own { copies, .. }) = self.entries.get_mut(absolute - self.dropped) else {
            return false;
        };
        for copy in copies.iter_mut().filter(|c| c.1 == id) {
            copy.2 = mark.clone();
        }
        true
    }
}

/// A short summary of the marks on one of our messages: `…`, `✓`, `✗`, or counts for
/// a message to several people (`✓2/3`, `✗1/3`).
pub(crate) fn summary(copies: &[(String, u64, Mark)]) -> (String, Mark) {
    let total = copies.len();
    let delivered = copies.iter().filter(|c| c.2 == Mark::Delivered).count();
    let failed = copies.iter().filter(|c| c.2 == Mark::Failed).count();
    if failed > 0 {
        let text = if total == 1 {
            "✗".to_owned()
        } else {
            format!("✗{failed}/{total}")
        };
        return (text, Mark::Failed);
    }
    if delivered == total {
        return ("✓".to_owned(), Mark::Delivered);
    }
    if delivered > 0 {
        return (format!("✓{delivered}/{total}"), Mark::Pending);
    }
    ("…".to_owned(), Mark::Pending)
}

#[cfg(test)]
#[path = "conversation_tests.rs"]
mod tests;
