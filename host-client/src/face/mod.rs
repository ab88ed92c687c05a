//! Faces: how the user sees the engine. Every face has the same contract:
//!
//! ```text
//! async fn run(server: String,
//!              events: mpsc::Receiver<UiEvent>,
//!              commands: mpsc::Sender<Command>) -> io::Result<()>
//! ```
//!
//! - the face reads the user's input, parses it with [`crate::command::parse`] (a bad
//!   line is shown as one error line and nothing is sent) and sends [`Command`]s;
//! - the engine answers with [`UiEvent`]s; `Command::Quit` makes the engine log out and
//!   finish, and when the engine finishes the `events` channel closes: the face then
//!   returns;
//! - `server` is the directory server address, for display.
//!
//! [`json`] prints one JSON object per line, [`plain`] one human line per event; the
//! terminal UI lives in `crate::tui`.

use std::io::{self, IsTerminal};

use tokio::sync::mpsc;

use crate::command::Command;
use crate::event::UiEvent;

pub(crate) mod json;
mod lines;
pub(crate) mod plain;
mod progress;

/// Capacity of the engine → face and face → engine channels.
pub(crate) const CHANNEL: usize = 1024;

/// Which face to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FaceKind {
    /// One JSON event per line (`--json`).
    Json,
    /// Human lines (`--plain`, and anything that is not a terminal).
    Plain,
    /// The interactive terminal UI (default on a terminal).
    Terminal,
}

impl FaceKind {
    /// `--json` wins, then `--plain`; otherwise a terminal on both ends gets the
    /// terminal UI and anything else gets plain lines.
    pub(crate) fn choose(json: bool, plain: bool) -> FaceKind {
        if json {
            FaceKind::Json
        } else if plain || !(io::stdin().is_terminal() && io::stdout().is_terminal()) {
            FaceKind::Plain
        } else {
            FaceKind::Terminal
        }
    }
}

/// Runs the chosen face until the engine finishes.
pub(crate) async fn run(
    kind: FaceKind,
    server: String,
    events: mpsc::Receiver<UiEvent>,
    commands: mpsc::Sender<Command>,
) -> io::Result<()> {
    match kind {
        FaceKind::Json => json::run(server, events, commands).await,
        FaceKind::Plain => plain::run(server, events, commands).await,
        FaceKind::Terminal => crate::tui::run(server, events, commands).await,
    }
}
