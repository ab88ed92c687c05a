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
    /// By transfer id and direction, with the file name shown.
    bars: HashMap<(u32, bool), (String, ProgressBar)>,
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
                let key = (*id, *direction == Direction::Send);
                let (_, bar) = self.bars.entry(key).or_insert_with(|| {
                    let bar = self.multi.add(ProgressBar::new(*total));
                    bar.set_style(style());
                    let verb = if key.1 { "sending" } else { "receiving" };
                    bar.set_message(format!("{verb} {}", super::plain::escape(name)));
                    (name.clone(), bar)
                });
                bar.set_position(*bytes);
                true
            }
            UiEvent::FileReceived { name, .. }
            | UiEvent::FileSent { name, .. }
            | UiEvent::FileFailed { name, .. } => {
                self.finish(name);
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

    fn finish(&mut self, name: &str) {
        let done: Vec<_> = self
            .bars
            .iter()
            .filter(|(_, (n, _))| n == name)
            .map(|(k, _)| *k)
            .collect();
        for key in done {
            if let Some((_, bar)) = self.bars.remove(&key) {
                bar.finish_and_clear();
                self.multi.remove(&bar);
            }
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

    #[test]
    fn a_bar_lives_from_the_first_progress_to_the_end_of_its_transfer() {
        let mut bars = Bars::new();
        let progress = UiEvent::FileProgress {
            id: 7,
            name: "a.txt".into(),
            direction: Direction::Receive,
            bytes: 10,
            total: 100,
        };
        assert!(bars.update(&progress), "progress prints no line");
        assert_eq!(bars.bars.len(), 1);
        let done = UiEvent::FileReceived {
            from: "bob".into(),
            name: "a.txt".into(),
            path: "/d/a.txt".into(),
            bytes: 100,
        };
        assert!(!bars.update(&done), "the end prints its line");
        assert!(bars.bars.is_empty());
    }
}
