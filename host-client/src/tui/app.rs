//! The terminal UI's whole state, with no terminal in it: events and keys go in,
//! commands for the engine come out, and [`super::view`] draws it. Everything here is
//! testable without a terminal.

use core::cell::Cell;
use core::time::Duration;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::conversation::{Conversation, Entry, Level, Mark, TimeOfDay};
use super::escape::escape;
use super::input::{Completed, Input};
use super::lines::entry_rows;
use super::transfers::{human_bytes, Transfers};
use super::users::Users;
use crate::command::{self, Command, ParseError, Target, HELP};
use crate::event::{Direction, UiEvent};

/// The keys of the terminal UI, shown after the commands by `/help`.
const KEYS: &str = "\
Tab, Shift-Tab       pick who plain lines go to (Tab after /msg or /send completes a name)
Ctrl-↑, Ctrl-↓       the same; Esc moves to the users pane (↑/↓, Enter to come back)
↑, ↓                 earlier lines you typed
PgUp, PgDn, Ctrl-End scroll the conversation, back to the newest
Ctrl-C               log out and quit";

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
    who_asked: bool,
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
    fn push(&mut self, entry: Entry) {
        if self.scroll > 0 {
            let width = self.viewport.get().width;
            self.scroll += entry_rows(&entry, self.my_name(), width).len();
        }
        self.conversation.push(entry);
    }

    fn system(&mut self, now: Now, level: Level, text: String) {
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
                from,
                name,
                path,
                bytes,
            } => {
                self.transfers
                    .finish(&escape(&name), Some(Direction::Receive));
                let size = human_bytes(bytes as f64);
                let line = format!(
                    "saved {} from {} ({size}) to {path}",
                    escape(&name),
                    escape(&from)
                );
                (Level::File, line)
            }
            UiEvent::FileSent { to, name, bytes } => {
                self.transfers.finish(&escape(&name), Some(Direction::Send));
                let size = human_bytes(bytes as f64);
                let line = format!("sent {} to {} ({size})", escape(&name), escape(&to));
                (Level::File, line)
            }
            UiEvent::FileFailed { peer, name, reason } => {
                self.transfers.finish(&escape(&name), None);
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
                self.link = Link::Reconnecting;
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

    /// Handles pasted text: it goes into the input line.
    pub(crate) fn handle_paste(&mut self, text: &str, now: Now) {
        self.focus = Focus::Input;
        if !self.input.insert(text) {
            self.system(now, Level::Error, "the pasted text is too long".to_owned());
        }
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

    /// Handles one key; returns the command it produced, if any.
    pub(crate) fn handle_key(&mut self, key: KeyEvent, now: Now) -> Option<Command> {
        if key.kind == KeyEventKind::Release {
            return None;
        }
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Char('c') if ctrl => return Some(self.quit()),
            KeyCode::PageUp => self.page(true),
            KeyCode::PageDown => self.page(false),
            KeyCode::End if ctrl => self.scroll = 0,
            KeyCode::BackTab => self.users.step(-1),
            KeyCode::Esc => self.toggle_focus(),
            _ if self.focus == Focus::Users => self.users_key(key),
            _ => return self.input_key(key, ctrl, now),
        }
        None
    }

    fn quit(&mut self) -> Command {
        self.quitting = true;
        Command::Quit
    }

    fn toggle_focus(&mut self) {
        self.focus = match self.focus {
            Focus::Input => Focus::Users,
            Focus::Users => Focus::Input,
        };
    }

    fn page(&mut self, up: bool) {
        let view = self.viewport.get();
        let page = view.rows.saturating_sub(1).max(1);
        self.scroll = if up {
            let wanted = self.scroll + page;
            view.max_scroll.map_or(wanted, |max| wanted.min(max))
        } else {
            self.scroll.saturating_sub(page)
        };
    }

    fn users_key(&mut self, key: KeyEvent) {
        match key.code {
            KeyCode::Up => self.users.step(-1),
            KeyCode::Down | KeyCode::Tab => self.users.step(1),
            KeyCode::Enter => self.focus = Focus::Input,
            KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                self.focus = Focus::Input;
                self.input.insert(c.encode_utf8(&mut [0; 4]));
            }
            _ => {}
        }
    }

    fn input_key(&mut self, key: KeyEvent, ctrl: bool, now: Now) -> Option<Command> {
        let input = &mut self.input;
        match key.code {
            KeyCode::Enter => return self.submit(now),
            KeyCode::Tab => self.tab(),
            KeyCode::Up if ctrl => self.users.step(-1),
            KeyCode::Down if ctrl => self.users.step(1),
            KeyCode::Up => input.history_prev(),
            KeyCode::Down => input.history_next(),
            KeyCode::Left => input.left(),
            KeyCode::Right => input.right(),
            KeyCode::Home => input.home(),
            KeyCode::End => input.end(),
            KeyCode::Backspace => input.backspace(),
            KeyCode::Delete => input.delete(),
            KeyCode::Char('a') if ctrl => input.home(),
            KeyCode::Char('e') if ctrl => input.end(),
            KeyCode::Char('u') if ctrl => input.kill_to_start(),
            KeyCode::Char('k') if ctrl => input.kill_to_end(),
            KeyCode::Char('w') if ctrl => input.delete_word(),
            KeyCode::Char(c) if !ctrl && !input.insert(c.encode_utf8(&mut [0; 4])) => {
                self.system(now, Level::Error, "the line is too long".to_owned());
            }
            _ => {}
        }
        None
    }

    fn tab(&mut self) {
        let names: Vec<&str> = self
            .users
            .online()
            .iter()
            .map(|p| p.name.as_str())
            .collect();
        if self.input.complete(&names) == Completed::NotApplicable {
            self.users.step(1);
        }
    }

    /// Enter: the line becomes a command. A line that does not parse stays in the
    /// input, with one error line, so nothing typed is lost.
    fn submit(&mut self, now: Now) -> Option<Command> {
        let line = self.input.text().to_owned();
        match command::parse(&line) {
            Ok(cmd) => {
                self.input.take();
                self.scroll = 0;
                self.run(cmd, now)
            }
            Err(ParseError::Empty) => None,
            Err(err) => {
                self.system(now, Level::Error, err.to_string());
                None
            }
        }
    }

    fn run(&mut self, cmd: Command, now: Now) -> Option<Command> {
        match cmd {
            Command::Text(text) => Some(match self.users.selected() {
                Target::Everyone => Command::All { text },
                Target::Peer(name) => Command::Msg {
                    to: name.clone(),
                    text,
                },
            }),
            Command::To(target) => {
                self.select(target, now);
                None
            }
            Command::Help => {
                for line in HELP.lines().chain(KEYS.lines()) {
                    self.system(now, Level::Info, line.to_owned());
                }
                None
            }
            Command::Who => {
                self.who_asked = true;
                Some(Command::Who)
            }
            Command::Quit => Some(self.quit()),
            other => Some(other),
        }
    }

    fn select(&mut self, target: Target, now: Now) {
        let line = match &target {
            Target::Everyone => "plain lines now go to everyone".to_owned(),
            Target::Peer(name) if self.users.is_online(name) => {
                format!("plain lines now go to {}", escape(name))
            }
            Target::Peer(name) => format!("plain lines now go to {} (not online)", escape(name)),
        };
        self.users.select(target);
        self.system(now, Level::Info, line);
    }
}

#[cfg(test)]
#[path = "app_tests.rs"]
mod tests;
