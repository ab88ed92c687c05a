//! The terminal UI's whole state, with no terminal in it: events and keys go in,
//! commands for the engine come out, and [`super::view`] draws it. Everything here is
//! testable without a terminal.

use core::cell::Cell;
use core::time::Duration;

use super::conversation::{Conversation, Entry, Level, Mark, TimeOfDay};
use super::escape::escape;
use super::input::Input;
use super::lines::entry_rows;
use super::transfers::{human_bytes, Transfers};
use super::users::Users;
use crate::event::UiEvent;

/// The moment an event or key is handled.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Now {
    /// Monotonic time since the UI started (for rates).
    pub(crate) mono: Duration,
    /// Wall-clock time of day (for timestamps).
    pub(crate) time: TimeOfDay,
}

/// Where keys go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Focus {
    /// The input line (the default).
    Input,
    /// The users pane: ↑/↓ move the selection.
    Users,
}

/// The state of the link to the directory server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Link {
    /// Not logged in yet.
    Connecting,
    /// Logged in.
    Connected,
    /// Lost; the engine is reconnecting.
    Reconnecting,
}

/// What the last drawing of the conversation pane learned, for paging.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Viewport {
    /// Text width of the conversation pane.
    pub(crate) width: usize,
    /// Rows of the conversation pane.
    pub(crate) rows: usize,
    /// The largest useful scroll offset, once the top has been reached.
    pub(crate) max_scroll: Option<usize>,
}

/// Everything the terminal UI shows.
#[derive(Debug)]
pub(crate) struct App {
    pub(crate) server: String,
    /// Our name and UDP address once logged in.
    pub(crate) me: Option<(String, String)>,
    pub(crate) link: Link,
    pub(crate) users: Users,
    pub(crate) conversation: Conversation,
    pub(crate) input: Input,
    pub(crate) transfers: Transfers,
    pub(crate) focus: Focus,
    /// Conversation rows scrolled up from the bottom.
    pub(crate) scroll: usize,
    /// Set by each drawing.
    pub(crate) viewport: Cell<Viewport>,
    /// `/quit` or Ctrl-C was pressed.
    pub(crate) quitting: bool,
    /// A `/who` answer is awaited.
    pub(super) who_asked: bool,
}

impl App {
    /// A fresh UI for the server at `server`.
    pub(crate) fn new(server: String) -> Self {
        App {
            server,
            me: None,
            link: Link::Connecting,
            users: Users::default(),
            conversation: Conversation::default(),
            input: Input::default(),
            transfers: Transfers::default(),
            focus: Focus::Input,
            scroll: 0,
            viewport: Cell::new(Viewport::default()),
            quitting: false,
            who_asked: false,
        }
    }

    /// Our name, once logged in.
    pub(crate) fn my_name(&self) -> Option<&str> {
        self.me.as_ref().map(|(name, _)| name.as_str())
    }

    /// Adds a conversation entry, keeping a scrolled-up view where it is.
    pub(super) fn push(&mut self, entry: Entry) {
        if self.scroll > 0 {
            let width = self.viewport.get().width;
            self.scroll += entry_rows(&entry, self.my_name(), width).len();
        }
        self.conversation.push(entry);
    }

    pub(super) fn system(&mut self, now: Now, level: Level, text: String) {
        self.push(Entry::System {
            at: now.time,
            level,
            text,
        });
    }

    /// Applies one event from the engine.
    pub(crate) fn handle_event(&mut self, event: UiEvent, now: Now) {
        match event {
            UiEvent::Ready { name, udp } => {
                let line = format!("logged in as {} ({udp})", escape(&name));
                self.me = Some((name, udp));
                self.link = Link::Connected;
                self.system(now, Level::Info, line);
                let hint = "/help lists the commands and keys".to_owned();
                self.system(now, Level::Info, hint);
            }
            UiEvent::Peers { peers } => {
                self.users.set_all(peers);
                if core::mem::take(&mut self.who_asked) {
                    let line = self.who_line();
                    self.system(now, Level::Info, line);
                }
            }
            UiEvent::Joined { name, addr } => {
                let line = format!("{} joined ({addr})", escape(&name));
                if self.users.join(crate::event::PeerEntry { name, addr }) {
                    self.system(now, Level::Info, line);
                }
            }
            UiEvent::Left { name } => {
                if self.users.leave(&name) {
                    self.system(now, Level::Info, format!("{} left", escape(&name)));
                }
            }
            UiEvent::Message { from, text, to_all } => self.push(Entry::Message {
                at: now.time,
                from,
                text,
                to_all,
            }),
            UiEvent::Sending {
                to,
                id,
                to_all,
                text,
            } => {
                let before = self.conversation.entries().len();
                self.conversation.sending(now.time, &to, id, to_all, &text);
                let entries = self.conversation.entries();
                if self.scroll > 0 && entries.len() > before {
                    let width = self.viewport.get().width;
                    let rows = entries
                        .back()
                        .map_or(0, |e| entry_rows(e, self.my_name(), width).len());
                    self.scroll += rows;
                }
            }
            UiEvent::Delivered { id, .. } => {
                self.conversation.mark(id, Mark::Delivered);
            }
            UiEvent::Failed { to, id, reason } => {
                self.conversation.mark(id, Mark::Failed);
                let line = format!("message to {} not delivered: {reason}", escape(&to));
                self.system(now, Level::Error, line);
            }
            other => self.handle_file_or_link_event(other, now),
        }
    }

    fn handle_file_or_link_event(&mut self, event: UiEvent, now: Now) {
        let (level, line) = match event {
            UiEvent::FileOffered {
                from,
                name,
                size,
                id,
            } => (
                Level::File,
                format!(
                    "{} offers {} ({}), transfer {id}",
                    escape(&from),
                    escape(&name),
                    human_bytes(size as f64)
                ),
            ),
            UiEvent::FileProgress {
                id,
                name,
                direction,
                bytes,
                total,
            } => {
                let name = escape(&name).into_owned();
                self.transfers
                    .progress(now.mono, id, name, direction, bytes, total);
                return;
            }
            UiEvent::FileReceived {
                id,
                from,
                name,
                path,
                bytes,
            } => {
                self.transfers.finish(id);
                let size = human_bytes(bytes as f64);
                let line = format!(
                    "saved {} from {} ({size}) to {path}",
                    escape(&name),
                    escape(&from)
                );
                (Level::File, line)
            }
            UiEvent::FileSent {
                id,
                to,
                name,
                bytes,
            } => {
                self.transfers.finish(id);
                let size = human_bytes(bytes as f64);
                let line = format!("sent {} to {} ({size})", escape(&name), escape(&to));
                (Level::File, line)
            }
            UiEvent::FileFailed {
                id,
                peer,
                name,
                reason,
            } => {
                self.transfers.finish(id);
                let line = format!(
                    "transfer of {} with {} failed: {reason}",
                    escape(&name),
                    escape(&peer)
                );
                (Level::Error, line)
            }
            UiEvent::Error { message } => (Level::Error, message),
            UiEvent::Notice { message } => (Level::Info, message),
            UiEvent::Disconnected { reason } => {
                // Every failed attempt says so again; one line is enough.
                if core::mem::replace(&mut self.link, Link::Reconnecting) == Link::Reconnecting {
                    return;
                }
                (
                    Level::Error,
                    format!("lost the server ({reason}); reconnecting…"),
                )
            }
            UiEvent::Reconnected => {
                self.link = Link::Connected;
                (Level::Info, "reconnected to the server".to_owned())
            }
            // Handled in `handle_event`.
            _ => return,
        };
        self.system(now, level, line);
    }

    fn who_line(&self) -> String {
        let online = self.users.online();
        if online.is_empty() {
            return "nobody else is online".to_owned();
        }
        let names: Vec<_> = online.iter().map(|p| escape(&p.name)).collect();
        format!("online ({}): {}", online.len(), names.join(", "))
    }

    /// What to print once the terminal is back when the engine ended on its own
    /// (say, the name was taken): the errors among the last lines, which would
    /// otherwise vanish with the screen.
    pub(crate) fn parting_errors(&self) -> Vec<String> {
        if self.quitting {
            return Vec::new();
        }
        let entries = self.conversation.entries();
        entries
            .iter()
            .skip(entries.len().saturating_sub(3))
            .filter_map(|e| match e {
                Entry::System {
                    level: Level::Error,
                    text,
                    ..
                } => Some(escape(text).into_owned()),
                _ => None,
            })
            .collect()
    }
}

#[cfg(test)]
#[path = "app_tests.rs"]
mod tests;
