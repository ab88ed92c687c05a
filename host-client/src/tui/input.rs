//! The input line: editing, history, and Tab completion of command words and names.

use std::collections::VecDeque;

use crate::command::COMMAND_WORDS;

/// Lines kept in the history.
pub(crate) const HISTORY: usize = 200;
/// Longest line the input accepts, in bytes (the longest chat message).
pub(crate) const MAX_LINE: usize = 16 * 1024;

/// Commands whose first argument is a user name.
const NAME_COMMANDS: &[&str] = &["/msg", "/send", "/to"];

/// What a Tab press did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Completed {
    /// The cursor is not on a command word or a name argument.
    NotApplicable,
    /// Nothing starts with what was typed.
    NoMatch,
    /// The word was replaced.
    Done,
}

/// Candidates for the word being completed, cycled by repeated Tabs.
#[derive(Debug, Clone)]
struct Completion {
    /// Byte offset where the word starts.
    start: usize,
    candidates: Vec<String>,
    next: usize,
    /// The text as the last completion left it; any other text ends the cycle.
    left: String,
}

/// The line being typed.
#[derive(Debug, Default)]
pub(crate) struct Input {
    text: String,
    /// Byte offset of the cursor, always on a char boundary.
    cursor: usize,
    history: VecDeque<String>,
    /// Index into `history` while browsing it.
    browsing: Option<usize>,
    /// What was typed before browsing started.
    draft: String,
    completion: Option<Completion>,
}

impl Input {
    /// The current text.
    pub(crate) fn text(&self) -> &str {
        &self.text
    }

    /// The cursor as a byte offset into [`Input::text`].
    pub(crate) fn cursor(&self) -> usize {
        self.cursor
    }

    fn edited(&mut self) {
        self.browsing = None;
        self.completion = None;
    }

    /// Inserts text at the cursor (line breaks become spaces); false if it would make
    /// the line too long.
    pub(crate) fn insert(&mut self, s: &str) -> bool {
        let s: String = s
            .chars()
            .map(|c| if c == '\n' || c == '\t' { ' ' } else { c })
            .filter(|c| !c.is_control())
            .collect();
        if self.text.len() + s.len() > MAX_LINE {
            return false;
        }
        self.text.insert_str(self.cursor, &s);
        self.cursor += s.len();
        self.edited();
        true
    }

    fn prev_boundary(&self, from: usize) -> usize {
        self.text[..from]
            .char_indices()
            .last()
            .map_or(0, |(i, _)| i)
    }

    fn next_boundary(&self, from: usize) -> usize {
        self.text[from..]
            .chars()
            .next()
            .map_or(from, |c| from + c.len_utf8())
    }

    /// Deletes the character before the cursor.
    pub(crate) fn backspace(&mut self) {
        let start = self.prev_boundary(self.cursor);
        self.text.replace_range(start..self.cursor, "");
        self.cursor = start;
        self.edited();
    }

    /// Deletes the character under the cursor.
    pub(crate) fn delete(&mut self) {
        let end = self.next_boundary(self.cursor);
        self.text.replace_range(self.cursor..end, "");
        self.edited();
    }

    /// Deletes the word before the cursor (and the spaces after it).
    pub(crate) fn delete_word(&mut self) {
        let before = &self.text[..self.cursor];
        let trimmed = before.trim_end();
        let start = trimmed.rfind(char::is_whitespace).map_or(0, |i| i + 1);
        self.text.replace_range(start..self.cursor, "");
        self.cursor = start;
        self.edited();
    }

    /// Deletes from the start of the line to the cursor.
    pub(crate) fn kill_to_start(&mut self) {
        self.text.replace_range(..self.cursor, "");
        self.cursor = 0;
        self.edited();
    }

    /// Deletes from the cursor to the end of the line.
    pub(crate) fn kill_to_end(&mut self) {
        self.text.truncate(self.cursor);
        self.edited();
    }

    /// Moves the cursor one character left.
    pub(crate) fn left(&mut self) {
        self.cursor = self.prev_boundary(self.cursor);
    }

    /// Moves the cursor one character right.
    pub(crate) fn right(&mut self) {
        self.cursor = self.next_boundary(self.cursor);
    }

    /// Moves the cursor to the start of the line.
    pub(crate) fn home(&mut self) {
        self.cursor = 0;
    }

    /// Moves the cursor to the end of the line.
    pub(crate) fn end(&mut self) {
        self.cursor = self.text.len();
    }

    fn set(&mut self, text: String) {
        self.text = text;
        self.cursor = self.text.len();
        self.completion = None;
    }

    /// Takes the line for sending: the input empties and the line joins the history.
    pub(crate) fn take(&mut self) -> String {
        let line = core::mem::take(&mut self.text);
        self.cursor = 0;
        self.edited();
        self.draft.clear();
        if !line.trim().is_empty() && self.history.back() != Some(&line) {
            if self.history.len() == HISTORY {
                self.history.pop_front();
            }
            self.history.push_back(line.clone());
        }
        line
    }

    /// Shows the previous history line (↑); the line being typed is kept for ↓.
    pub(crate) fn history_prev(&mut self) {
        let index = match self.browsing {
            None if self.history.is_empty() => return,
            None => {
                self.draft = core::mem::take(&mut self.text);
                self.history.len() - 1
            }
            Some(0) => return,
            Some(i) => i - 1,
        };
        self.browsing = Some(index);
        self.set(self.history[index].clone());
    }

    /// Shows the next history line (↓), and finally the line that was being typed.
    pub(crate) fn history_next(&mut self) {
        let Some(index) = self.browsing else {
            return;
        };
        if index + 1 < self.history.len() {
            self.browsing = Some(index + 1);
            self.set(self.history[index + 1].clone());
        } else {
            self.browsing = None;
            let draft = core::mem::take(&mut self.draft);
            self.set(draft);
        }
    }

    /// Completes the word before the cursor: a command word at the start of the line,
    /// or a name after `/msg`, `/send` and `/to`. Repeated Tabs cycle through the
    /// candidates.
    pub(crate) fn complete(&mut self, names: &[&str]) -> Completed {
        let cycling = self
            .completion
            .as_ref()
            .is_some_and(|c| c.left == self.text && c.candidates.len() > 1);
        if !cycling {
            let Some(completion) = self.candidates(names) else {
                return Completed::NotApplicable;
            };
            if completion.candidates.is_empty() {
                return Completed::NoMatch;
            }
            self.completion = Some(completion);
        }
        self.apply_completion();
        Completed::Done
    }

    fn candidates(&self, names: &[&str]) -> Option<Completion> {
        let before = &self.text[..self.cursor];
        if !before.starts_with('/') || self.cursor != self.text.len() {
            return None;
        }
        let (start, pool): (usize, Vec<&str>) = match before.find(' ') {
            None => (0, COMMAND_WORDS.to_vec()),
            Some(space) => {
                let rest = &before[space..];
                let word_start = space + rest.len() - rest.trim_start().len();
                let is_name_arg = NAME_COMMANDS.contains(&&before[..space])
                    && !before[word_start..].contains(char::is_whitespace);
                if !is_name_arg {
                    return None;
                }
                (word_start, names.to_vec())
            }
        };
        let prefix = before[start..].to_lowercase();
        let candidates = pool
            .into_iter()
            .filter(|c| c.to_lowercase().starts_with(&prefix))
            .map(str::to_owned)
            .collect();
        Some(Completion {
            start,
            candidates,
            next: 0,
            left: String::new(),
        })
    }

    fn apply_completion(&mut self) {
        let Some(c) = self.completion.as_mut() else {
            return;
        };
        let word = &c.candidates[c.next % c.candidates.len()];
        c.next += 1;
        self.text.truncate(c.start);
        self.text.push_str(word);
        if c.candidates.len() == 1 {
            self.text.push(' ');
        }
        self.cursor = self.text.len();
        c.left = self.text.clone();
        self.browsing = None;
    }
}

#[cfg(test)]
#[path = "input_tests.rs"]
mod tests;
