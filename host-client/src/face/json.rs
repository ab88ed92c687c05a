//! The `--json` face: one [`UiEvent`] JSON object per line on stdout, commands read as
//! lines from stdin. A line that is not a command becomes an `error` event.

use std::io;

use tokio::sync::mpsc;

use super::lines::{self, Render};
use crate::command::{Command, ParseError};
use crate::event::UiEvent;

struct Json;

impl Render for Json {
    fn event(&mut self, event: &UiEvent) -> Option<String> {
        Some(event.to_json_line())
    }

    fn bad_input(&mut self, error: &ParseError) -> String {
        UiEvent::Error {
            message: error.to_string(),
        }
        .to_json_line()
    }
}

/// Runs the JSON face until the engine finishes.
pub(crate) async fn run(
    _server: String,
    events: mpsc::Receiver<UiEvent>,
    commands: mpsc::Sender<Command>,
) -> io::Result<()> {
    lines::run(Json, events, commands).await
}
