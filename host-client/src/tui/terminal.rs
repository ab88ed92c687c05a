//! Owning the terminal: raw mode, the alternate screen and bracketed paste while the
//! UI runs, restored on every way out (return, error or panic); and a thread that
//! reads terminal events (keys, pastes, resizes) into a channel.

use core::sync::atomic::{AtomicBool, Ordering};
use core::time::Duration;
use std::io::{self, stdout, Stdout};
use std::sync::{Arc, Once};
use std::thread::JoinHandle;

use ratatui::backend::CrosstermBackend;
use ratatui::crossterm::cursor::Show;
use ratatui::crossterm::event::{self, DisableBracketedPaste, EnableBracketedPaste, Event};
use ratatui::crossterm::execute;
use ratatui::crossterm::terminal::{
    disable_raw_mode, enable_raw_mode, EnterAlternateScreen, LeaveAlternateScreen,
};
use ratatui::Terminal;
use tokio::sync::mpsc;

/// Whether the terminal is currently set up for the UI (so a panic knows to restore it).
static ACTIVE: AtomicBool = AtomicBool::new(false);

/// The terminal in UI mode; dropping it puts the terminal back as it was.
pub(crate) struct TerminalGuard {
    /// The ratatui terminal drawing to stdout.
    pub(crate) terminal: Terminal<CrosstermBackend<Stdout>>,
}

impl TerminalGuard {
    /// Enters raw mode and the alternate screen.
    pub(crate) fn enter() -> io::Result<Self> {
        install_panic_hook();
        enable_raw_mode()?;
        ACTIVE.store(true, Ordering::SeqCst);
        let setup = execute!(stdout(), EnterAlternateScreen, EnableBracketedPaste)
            .and_then(|()| Terminal::new(CrosstermBackend::new(stdout())));
        match setup {
            Ok(terminal) => Ok(TerminalGuard { terminal }),
            Err(err) => {
                restore();
                Err(err)
            }
        }
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore();
    }
}

/// Puts the terminal back (cooked mode, main screen, visible cursor), once.
pub(crate) fn restore() {
    if !ACTIVE.swap(false, Ordering::SeqCst) {
        return;
    }
    // Best effort: there is nowhere left to report a failure to.
    let _ = disable_raw_mode();
    let _ = execute!(stdout(), DisableBracketedPaste, LeaveAlternateScreen, Show);
}

/// Makes a panic restore the terminal before the panic message is printed, so the
/// message is readable and the shell usable.
fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore();
            previous(info);
        }));
    });
}

/// How often the reader thread checks whether it should stop.
const POLL: Duration = Duration::from_millis(100);

/// Terminal events read on a thread of their own.
pub(crate) struct TerminalEvents {
    rx: mpsc::Receiver<Event>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl TerminalEvents {
    /// Starts the reader thread.
    pub(crate) fn spawn() -> io::Result<Self> {
        let (tx, rx) = mpsc::channel(256);
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("terminal-events".into())
            .spawn(move || read_events(&tx, &flag))?;
        Ok(TerminalEvents {
            rx,
            stop,
            thread: Some(thread),
        })
    }

    /// The next event; `None` once the terminal can no longer be read.
    pub(crate) async fn recv(&mut self) -> Option<Event> {
        self.rx.recv().await
    }
}

fn read_events(tx: &mpsc::Sender<Event>, stop: &AtomicBool) {
    while !stop.load(Ordering::SeqCst) {
        match event::poll(POLL) {
            Ok(false) => continue,
            Ok(true) => {}
            Err(_) => return,
        }
        let Ok(event) = event::read() else {
            return;
        };
        if tx.blocking_send(event).is_err() {
            return;
        }
    }
}

impl Drop for TerminalEvents {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        self.rx.close();
        if let Some(thread) = self.thread.take() {
            // The thread notices within one poll interval; a panic in it is already reported.
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_restores_the_terminal() {
        install_panic_hook();
        ACTIVE.store(true, Ordering::SeqCst);
        let result = std::panic::catch_unwind(|| panic!("drawing went wrong"));
        assert!(result.is_err());
        assert!(
            !ACTIVE.load(Ordering::SeqCst),
            "the panic hook restored the terminal"
        );
    }
}
