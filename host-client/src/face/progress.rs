//! File-transfer progress bars for the `--plain` face on a terminal (indicatif): one bar
//! per running transfer, fed by `file_progress` events and cleared when the transfer
//! ends. Lines printed meanwhile go above the bars.

use std::collections::HashMap;
use std::io;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::event::{Direction, UiEvent};

/// The bars of running transfers.
pub(super) struct Bars {
    multi: MultiProgress,
    /// By transfer id.
    bars: HashMap<u32, ProgressBar>,
}

impl Bars {
    /// Bars drawn on stdout, where the lines go.
    pub(super) fn new() -> Bars {
        Bars {
            multi: MultiProgress::with_draw_target(ProgressDrawTarget::stdout()),
            bars: HashMap::new(),
        }
    }

    /// Updates the bars from an event; returns whether the event was a progress event
    /// (which then prints no line).
    pub(super) fn update(&mut self, event: &UiEvent) -> bool {
        match event {
            UiEvent::FileProgress {
                id,
                name,
                direction,
                bytes,
                total,
            } => {
                let bar = self.bars.entry(*id).or_insert_with(|| {
                    let bar = self.multi.add(ProgressBar::new(*total));
                    bar.set_style(style());
                    let verb = match direction {
                        Direction::Send => "sending",
                        Direction::Receive => "receiving",
                    };
                    bar.set_message(format!("{verb} {}", super::plain::escape(name)));
                    bar
                });
                bar.set_position(*bytes);
                true
            }
            UiEvent::FileReceived { id, .. }
            | UiEvent::FileSent { id, .. }
            | UiEvent::FileFailed { id, .. } => {
                self.finish(*id);
                false
            }
            _ => false,
        }
    }

    /// Prints a line above the bars.
    pub(super) fn println(&self, line: &str) -> io::Result<()> {
        if self.bars.is_empty() {
            return super::lines::write_line(line);
        }
        self.multi.println(line)
    }

    fn finish(&mut self, id: u32) {
        if let Some(bar) = self.bars.remove(&id) {
            bar.finish_and_clear();
            self.multi.remove(&bar);
        }
    }
}

fn style() -> ProgressStyle {
    ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {eta}")
        // The template is a constant known to parse.
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn progress(id: u32, direction: Direction) -> UiEvent {
        UiEvent::FileProgress {
            id,
            name: "a.txt".into(),
            direction,
            bytes: 10,
            total: 100,
        }
    }

    #[test]
    fn a_bar_lives_from_the_first_progress_to_the_end_of_its_transfer() {
        let mut bars = Bars::new();
        assert!(
            bars.update(&progress(7, Direction::Receive)),
            "progress prints no line"
        );
        assert!(bars.update(&progress(8, Direction::Receive)));
        assert!(bars.update(&progress(9, Direction::Send)));
        assert_eq!(bars.bars.len(), 3);
        // Saved under another name than offered: its bar ends all the same, and the
        // bars of other files of the same name stay.
        let done = UiEvent::FileReceived {
            id: 7,
            from: "bob".into(),
            name: "a (1).txt".into(),
            path: "/d/a (1).txt".into(),
            bytes: 100,
        };
        assert!(!bars.update(&done), "the end prints its line");
        assert_eq!(bars.bars.len(), 2);
        let failed = UiEvent::FileFailed {
            id: 9,
            peer: "bob".into(),
            name: "a.txt".into(),
            reason: "r".into(),
        };
        assert!(!bars.update(&failed));
        let sent = UiEvent::FileSent {
            id: 8,
            to: "bob".into(),
            name: "a.txt".into(),
            bytes: 100,
        };
        assert!(!bars.update(&sent));
        assert!(bars.bars.is_empty());
    }
}
