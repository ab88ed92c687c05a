//! The line loop shared by the `--plain` and `--json` faces: stdin lines become
//! commands, events become stdout lines.

use std::io::{self, BufRead, Write};

use tokio::sync::mpsc;

use crate::command::{self, Command, ParseError};
use crate::event::UiEvent;

/// How a line face shows things.
pub(super) trait Render {
    /// The line for an event, or `None` to show nothing.
    fn event(&mut self, event: &UiEvent) -> Option<String>;
    /// The line for an input line that is not a command.
    fn bad_input(&mut self, error: &ParseError) -> String;
    /// Shows one line.
    fn print(&mut self, line: &str) -> io::Result<()> {
        write_line(line)
    }
}

/// Runs until the engine closes `events`. End of input sends `Command::Quit`.
pub(super) async fn run(
    mut render: impl Render,
    mut events: mpsc::Receiver<UiEvent>,
    commands: mpsc::Sender<Command>,
) -> io::Result<()> {
    let mut input = spawn_stdin_reader();
    let mut input_open = true;
    loop {
        tokio::select! {
            event = events.recv() => match event {
                Some(event) => {
                    if let Some(line) = render.event(&event) {
                        render.print(&line)?;
                    }
                }
                None => return Ok(()),
            },
            line = input.recv(), if input_open => match line {
                Some(line) => {
                    if let Some(error) = submit(&line, &commands).await {
                        let line = render.bad_input(&error);
                        render.print(&line)?;
                    }
                }
                None => {
                    input_open = false;
                    // The engine may already be gone; then there is nothing to stop.
                    let _ = commands.send(Command::Quit).await;
                }
            },
        }
    }
}

/// Parses and sends one line; returns the parse error to show, if any. Empty lines
/// are ignored.
async fn submit(line: &str, commands: &mpsc::Sender<Command>) -> Option<ParseError> {
    match command::parse(line) {
        Ok(cmd) => {
            // A closed channel means the engine is finishing; its events say why.
            let _ = commands.send(cmd).await;
            None
        }
        Err(ParseError::Empty) => None,
        Err(error) => Some(error),
    }
}

/// Writes one line to stdout and flushes it.
pub(super) fn write_line(line: &str) -> io::Result<()> {
    let mut out = io::stdout().lock();
    out.write_all(line.as_bytes())?;
    out.write_all(b"\n")?;
    out.flush()
}

/// Reads stdin on a plain thread (a blocked read must not hold up runtime shutdown).
/// The channel closes at end of input or on a read error.
fn spawn_stdin_reader() -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel(64);
    std::thread::spawn(move || {
        for line in io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if tx.blocking_send(line).is_err() {
                break;
            }
        }
    });
    rx
}
