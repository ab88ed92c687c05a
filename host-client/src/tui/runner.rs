//! The terminal UI's loop: draw, then wait for an engine event or a terminal event,
//! apply it to the [`App`], and pass the commands it yields to the engine.
//!
//! `/quit` and Ctrl-C send [`Command::Quit`]; the engine logs out and closes the event
//! channel, which ends the loop. If the engine takes too long, a second Ctrl-C or a
//! deadline ends it anyway. The terminal is restored on every way out.

use core::time::Duration;
use std::io;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use ratatui::crossterm::event::{Event, KeyCode, KeyModifiers};
use tokio::sync::mpsc::{Receiver, Sender};

use super::app::{App, Now};
use super::conversation::TimeOfDay;
use super::terminal::{TerminalEvents, TerminalGuard};
use super::view;
use crate::command::Command;
use crate::event::UiEvent;

/// How long the UI waits for the engine to log out after `/quit`.
const QUIT_GRACE: Duration = Duration::from_secs(3);

/// Runs the terminal UI until the engine finishes or the user quits.
pub(crate) async fn run(
    server: String,
    mut events: Receiver<UiEvent>,
    commands: Sender<Command>,
) -> io::Result<()> {
    // Before the reader thread starts: the local offset can only be read safely
    // while the process has one thread.
    let clock = Clock::start();
    let mut guard = TerminalGuard::enter()?;
    let mut keys = TerminalEvents::spawn()?;
    let mut app = App::new(server);
    let result = drive(
        &mut guard,
        &mut app,
        &mut events,
        &mut keys,
        &commands,
        &clock,
    )
    .await;
    drop(keys);
    drop(guard);
    for line in app.parting_errors() {
        eprintln!("peerchat: {line}");
    }
    result
}

/// Wall and monotonic time for the [`App`].
struct Clock {
    start: Instant,
    /// Local time minus UTC, in seconds (0, i.e. UTC, when it cannot be known).
    offset: i64,
}

impl Clock {
    fn start() -> Self {
        let offset = time::UtcOffset::current_local_offset().map_or(0, |o| o.whole_seconds());
        Clock {
            start: Instant::now(),
            offset: i64::from(offset),
        }
    }

    fn now(&self) -> Now {
        let since_epoch = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        Now {
            mono: self.start.elapsed(),
            time: time_of_day(since_epoch.as_secs(), self.offset),
        }
    }
}

/// The local time of day `unix_secs` seconds after the epoch, `offset` seconds ahead of UTC.
fn time_of_day(unix_secs: u64, offset: i64) -> TimeOfDay {
    let local = i64::try_from(unix_secs).unwrap_or(i64::MAX) + offset;
    TimeOfDay(local.rem_euclid(86_400) as u32)
}

async fn drive(
    guard: &mut TerminalGuard,
    app: &mut App,
    events: &mut Receiver<UiEvent>,
    keys: &mut TerminalEvents,
    commands: &Sender<Command>,
    clock: &Clock,
) -> io::Result<()> {
    let mut keys_open = true;
    let mut deadline: Option<tokio::time::Instant> = None;
    loop {
        guard.terminal.draw(|frame| view::draw(frame, app))?;
        tokio::select! {
            event = events.recv() => {
                let Some(event) = event else { return Ok(()) };
                app.handle_event(event, clock.now());
                // Apply a burst of events before drawing again.
                while let Ok(event) = events.try_recv() {
                    app.handle_event(event, clock.now());
                }
            }
            input = keys.recv(), if keys_open => {
                let command = match input {
                    Some(input) => {
                        if app.quitting && is_ctrl_c(&input) {
                            return Ok(());
                        }
                        handle_input(app, input, clock.now())
                    }
                    None => {
                        // The terminal went away: log out.
                        keys_open = false;
                        app.quitting = true;
                        Some(Command::Quit)
                    }
                };
                if let Some(command) = command {
                    if commands.send(command).await.is_err() {
                        return Ok(()); // the engine is gone
                    }
                }
            }
            () = sleep_until(deadline), if deadline.is_some() => return Ok(()),
        }
        if app.quitting && deadline.is_none() {
            deadline = Some(tokio::time::Instant::now() + QUIT_GRACE);
        }
    }
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => core::future::pending().await,
    }
}

fn is_ctrl_c(input: &Event) -> bool {
    matches!(input, Event::Key(key)
        if key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL))
}

fn handle_input(app: &mut App, input: Event, now: Now) -> Option<Command> {
    match input {
        Event::Key(key) => app.handle_key(key, now),
        Event::Paste(text) => {
            app.handle_paste(&text, now);
            None
        }
        // A resize needs only the redraw that follows every event.
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_local() {
        let noon_utc = 19_000 * 86_400 + 12 * 3600;
        assert_eq!(time_of_day(noon_utc, 0).hh_mm(), "12:00");
        assert_eq!(time_of_day(noon_utc, 2 * 3600).hh_mm(), "14:00");
        assert_eq!(time_of_day(noon_utc, -(13 * 3600 + 1800)).hh_mm(), "22:30");
        assert_eq!(time_of_day(0, -60).hh_mm(), "23:59");
    }
}
