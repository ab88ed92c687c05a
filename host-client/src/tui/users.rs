//! The users pane: who is online, and which entry plain lines go to.
//!
//! The selection is kept by name, not by position, so joins and leaves never move it
//! to someone else. When the selected user leaves, the selection stays on them (shown
//! as gone) rather than falling back to "everyone": a private line must never go to
//! everyone by surprise.

use crate::command::Target;
use crate::event::PeerEntry;

/// Who is online and who is selected.
#[derive(Debug, Clone)]
pub(crate) struct Users {
    /// Online users but us, sorted by name without regard to case.
    online: Vec<PeerEntry>,
    /// The target of plain lines.
    selected: Target,
}

/// One row of the users pane.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Row<'a> {
    /// `None` is the "everyone" entry.
    pub(crate) name: Option<&'a str>,
    /// Whether this is the selected entry.
    pub(crate) selected: bool,
    /// Whether the user is no longer online (only for a selected user who left).
    pub(crate) gone: bool,
}

impl Default for Users {
    fn default() -> Self {
        Users {
            online: Vec::new(),
            selected: Target::Everyone,
        }
    }
}

impl Users {
    /// Replaces the whole list.
    pub(crate) fn set_all(&mut self, mut peers: Vec<PeerEntry>) {
        peers.sort_by_key(|p| p.name.to_lowercase());
        peers.dedup_by(|a, b| a.name.eq_ignore_ascii_case(&b.name));
        self.online = peers;
    }

    /// Adds or updates one user; false if they were already listed with that address.
    pub(crate) fn join(&mut self, peer: PeerEntry) -> bool {
        match self.position(&peer.name) {
            Ok(i) if self.online[i] == peer => false,
            Ok(i) => {
                self.online[i] = peer;
                true
            }
            Err(i) => {
                self.online.insert(i, peer);
                true
            }
        }
    }

    /// Removes one user; false if they were not listed.
    pub(crate) fn leave(&mut self, name: &str) -> bool {
        match self.position(name) {
            Ok(i) => {
                self.online.remove(i);
                true
            }
            Err(_) => false,
        }
    }

    fn position(&self, name: &str) -> Result<usize, usize> {
        let key = name.to_lowercase();
        self.online
            .binary_search_by(|p| p.name.to_lowercase().cmp(&key))
    }

    /// Whether `name` is online (names are unique without regard to case).
    pub(crate) fn is_online(&self, name: &str) -> bool {
        self.position(name).is_ok()
    }

    /// The listed spelling of an online name.
    pub(crate) fn canonical(&self, name: &str) -> Option<&str> {
        self.position(name)
            .ok()
            .map(|i| self.online[i].name.as_str())
    }

    /// Everyone online.
    pub(crate) fn online(&self) -> &[PeerEntry] {
        &self.online
    }

    /// The target of plain lines.
    pub(crate) fn selected(&self) -> &Target {
        &self.selected
    }

    /// Selects a target, whether or not it is online.
    pub(crate) fn select(&mut self, target: Target) {
        self.selected = match target {
            Target::Peer(name) => Target::Peer(self.canonical(&name).unwrap_or(&name).to_owned()),
            Target::Everyone => Target::Everyone,
        };
    }

    /// The rows of the pane: "everyone", the online users, and a selected user who left.
    pub(crate) fn rows(&self) -> Vec<Row<'_>> {
        let mut rows = vec![Row {
            name: None,
            selected: self.selected == Target::Everyone,
            gone: false,
        }];
        rows.extend(self.online.iter().map(|p| Row {
            name: Some(p.name.as_str()),
            selected: matches!(&self.selected, Target::Peer(n) if n.eq_ignore_ascii_case(&p.name)),
            gone: false,
        }));
        if let Target::Peer(name) = &self.selected {
            if !self.is_online(name) {
                rows.push(Row {
                    name: Some(name),
                    selected: true,
                    gone: true,
                });
            }
        }
        rows
    }

    /// Index of the selected row in [`Users::rows`].
    pub(crate) fn selected_row(&self) -> usize {
        match &self.selected {
            Target::Everyone => 0,
            Target::Peer(name) => match self.position(name) {
                Ok(i) => i + 1,
                Err(_) => self.online.len() + 1,
            },
        }
    }

    /// Moves the selection by `step` rows, wrapping around.
    pub(crate) fn step(&mut self, step: isize) {
        let rows = self.rows();
        let len = rows.len() as isize;
        let next = (self.selected_row() as isize + step).rem_euclid(len) as usize;
        let target = match rows[next].name {
            None => Target::Everyone,
            Some(name) => Target::Peer(name.to_owned()),
        };
        self.selected = target;
    }
}
