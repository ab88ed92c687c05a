//! Files on the move: one entry per active transfer with its progress and rate.
//!
//! Progress events and the final events (`file_received`, `file_sent`, `file_failed`)
//! carry the transfer id, the host's own number for a transfer, so an entry ends by id
//! even when the file was saved under another name (`notes (1).txt`) or several files
//! of one name move at once.

use core::time::Duration;
use std::collections::VecDeque;

use crate::event::Direction;

/// How far back the rate looks.
const RATE_WINDOW: Duration = Duration::from_secs(3);

/// One active transfer.
#[derive(Debug, Clone)]
pub(crate) struct Transfer {
    /// Transfer id.
    pub(crate) id: u32,
    /// File name as shown (already escaped).
    pub(crate) name: String,
    /// Which way it moves.
    pub(crate) direction: Direction,
    /// Bytes done.
    pub(crate) bytes: u64,
    /// Bytes in all.
    pub(crate) total: u64,
    /// Recent (time, bytes) samples, oldest first.
    samples: VecDeque<(Duration, u64)>,
}

impl Transfer {
    /// Done as a fraction in `0.0..=1.0`.
    pub(crate) fn ratio(&self) -> f64 {
        if self.total == 0 {
            return 1.0;
        }
        (self.bytes as f64 / self.total as f64).clamp(0.0, 1.0)
    }

    /// Bytes per second over the last few seconds, once there are two samples.
    pub(crate) fn rate(&self) -> Option<f64> {
        let (t0, b0) = *self.samples.front()?;
        let (t1, b1) = *self.samples.back()?;
        let secs = t1.checked_sub(t0)?.as_secs_f64();
        (secs > 0.0).then(|| b1.saturating_sub(b0) as f64 / secs)
    }
}

/// Every active transfer, in the order they started.
#[derive(Debug, Default)]
pub(crate) struct Transfers {
    active: Vec<Transfer>,
}

impl Transfers {
    /// The active transfers.
    pub(crate) fn active(&self) -> &[Transfer] {
        &self.active
    }

    /// Records progress at monotonic time `now`.
    pub(crate) fn progress(
        &mut self,
        now: Duration,
        id: u32,
        name: String,
        direction: Direction,
        bytes: u64,
        total: u64,
    ) {
        let i = match self.active.iter().position(|t| t.id == id) {
            Some(i) => i,
            None => {
                self.active.push(Transfer {
                    id,
                    name,
                    direction,
                    bytes,
                    total,
                    samples: VecDeque::new(),
                });
                self.active.len() - 1
            }
        };
        let t = &mut self.active[i];
        t.bytes = bytes;
        t.total = total;
        t.samples.push_back((now, bytes));
        while t.samples.len() > 2 && now - t.samples[0].0 > RATE_WINDOW {
            t.samples.pop_front();
        }
    }

    /// Ends transfer `id`; returns whether it was shown.
    pub(crate) fn finish(&mut self, id: u32) -> bool {
        let before = self.active.len();
        self.active.retain(|t| t.id != id);
        self.active.len() < before
    }
}

/// A byte count in human units: `512 B`, `1.5 KiB`, `3.2 MiB`.
pub(crate) fn human_bytes(bytes: f64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024.0 {
        return format!("{bytes:.0} B");
    }
    let mut value = bytes / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    const fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn progress_updates_one_entry_and_measures_the_rate() {
        let mut t = Transfers::default();
        t.progress(ms(0), 7, "a.txt".into(), Direction::Receive, 0, 4096);
        assert_eq!(t.active()[0].rate(), None);
        t.progress(ms(500), 7, "a.txt".into(), Direction::Receive, 1024, 4096);
        t.progress(ms(1000), 7, "a.txt".into(), Direction::Receive, 2048, 4096);
        assert_eq!(t.active().len(), 1);
        assert_eq!(t.active()[0].ratio(), 0.5);
        assert_eq!(t.active()[0].rate(), Some(2048.0));
    }

    #[test]
    fn the_rate_forgets_old_samples() {
        let mut t = Transfers::default();
        t.progress(ms(0), 1, "a.txt".into(), Direction::Send, 0, 1 << 30);
        for s in 1..=10 {
            t.progress(
                ms(s * 1000),
                1,
                "a.txt".into(),
                Direction::Send,
                s * 100,
                1 << 30,
            );
        }
        t.progress(
            ms(11_000),
            1,
            "a.txt".into(),
            Direction::Send,
            4000,
            1 << 30,
        );
        // Only the last three seconds count: (4000 - 800) / 3 s.
        let rate = t.active()[0].rate().unwrap();
        assert!((rate - 3200.0 / 3.0).abs() < 1e-6, "{rate}");
    }

    #[test]
    fn final_events_end_the_transfer_with_their_id() {
        let mut t = Transfers::default();
        let ids = |t: &Transfers| t.active().iter().map(|t| t.id).collect::<Vec<_>>();
        // One name three times: each entry ends on its own id.
        t.progress(ms(0), 1, "a.txt".into(), Direction::Send, 10, 10);
        t.progress(ms(0), 2, "a.txt".into(), Direction::Receive, 5, 10);
        t.progress(ms(0), 3, "a.txt".into(), Direction::Receive, 9, 10);
        assert!(t.finish(2));
        assert_eq!(ids(&t), [1, 3]);
        // Ending twice, or an id never shown, changes nothing.
        assert!(!t.finish(2));
        assert!(!t.finish(7));
        assert_eq!(ids(&t), [1, 3]);
        assert!(t.finish(3));
        assert!(t.finish(1));
        assert!(t.active().is_empty());
    }

    #[test]
    fn sizes_read_like_people_write_them() {
        assert_eq!(human_bytes(512.0), "512 B");
        assert_eq!(human_bytes(1536.0), "1.5 KiB");
        assert_eq!(human_bytes(3.25 * 1024.0 * 1024.0), "3.2 MiB");
    }
}
