//! Keys and pasted text: what each key does to the [`App`], and the commands that
//! Enter turns the input line into.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::app::{App, Focus, Now};
use super::conversation::Level;
use super::escape::escape;
use super::input::Completed;
use crate::command::{self, Command, ParseError, Target, HELP};

/// The keys of the terminal UI, shown after the commands by `/help`.
const KEYS: &str = "\
Tab, Shift-Tab       pick who plain lines go to (Tab after /msg or /send completes a name)
Ctrl-↑, Ctrl-↓       the same; Esc moves to the users pane (↑/↓, Enter to come back)
↑, ↓                 earlier lines you typed
PgUp, PgDn, Ctrl-End scroll the conversation, back to the newest
Ctrl-C               log out and quit";

impl App {
    /// Handles pasted text: it goes into the input line.
    pub(crate) fn handle_paste(&mut self, text: &str, now: Now) {
        self.focus = Focus::Input;
        if !self.input.insert(text) {
            self.system(now, Level::Error, "the pasted text is too long".to_owned());
        }
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
