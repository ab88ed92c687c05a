//! The core's one timer table.
//!
//! Every machine keeps its timers in a [`TimerTable`]: a fixed array indexed by the
//! machine's own timer enum (cast to `usize`), each entry a deadline or nothing. The
//! machine's next deadline is the earliest entry (quinn-proto's `TimerTable`). A stopped
//! timer is stored as `u64::MAX` microseconds, so an entry is eight bytes.

use crate::time::Instant;

/// "Not armed".
const OFF: Instant = Instant::from_micros(u64::MAX);

/// `N` timers, each armed at an instant or stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TimerTable<const N: usize> {
    at: [Instant; N],
}

impl<const N: usize> TimerTable<N> {
    /// Every timer stopped.
    pub(crate) const fn new() -> Self {
        TimerTable { at: [OFF; N] }
    }

    /// Arms timer `t` for `at`, or stops it with `None`.
    pub(crate) fn set(&mut self, t: usize, at: Option<Instant>) {
        set(&mut self.at, t, at);
    }

    /// Stops timer `t`.
    pub(crate) fn stop(&mut self, t: usize) {
        self.set(t, None);
    }

    /// Stops every timer.
    pub(crate) fn clear(&mut self) {
        self.at = [OFF; N];
    }

    /// When timer `t` fires, if armed.
    pub(crate) fn get(&self, t: usize) -> Option<Instant> {
        get(&self.at, t)
    }

    /// Whether timer `t` is armed and due at `now` (a stopped timer is due at the end of
    /// time only, which no clock reaches).
    pub(crate) fn is_due(&self, t: usize, now: Instant) -> bool {
        self.at.get(t).is_some_and(|&at| at <= now && now != OFF)
    }

    /// Stops timer `t` and says whether it was due at `now`.
    pub(crate) fn take_due(&mut self, t: usize, now: Instant) -> bool {
        let due = self.is_due(t, now);
        if due {
            self.stop(t);
        }
        due
    }

    /// The earliest armed deadline.
    pub(crate) fn next(&self) -> Option<Instant> {
        next(&self.at)
    }
}

// The work is done on slices: one copy for every table size where it is not inlined.

fn set(at: &mut [Instant], t: usize, to: Option<Instant>) {
    if let Some(slot) = at.get_mut(t) {
        *slot = to.unwrap_or(OFF);
    }
}

fn get(at: &[Instant], t: usize) -> Option<Instant> {
    at.get(t).copied().filter(|&at| at != OFF)
}

fn next(at: &[Instant]) -> Option<Instant> {
    let earliest = at.iter().copied().min().unwrap_or(OFF);
    (earliest != OFF).then_some(earliest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_deadline_is_the_earliest_armed_one() {
        let mut t = TimerTable::<3>::new();
        assert_eq!(t.next(), None);
        t.set(2, Some(Instant::from_millis(9)));
        t.set(0, Some(Instant::from_millis(4)));
        assert_eq!(t.next(), Some(Instant::from_millis(4)));
        assert!(!t.is_due(0, Instant::from_millis(3)));
        assert!(t.take_due(0, Instant::from_millis(4)));
        assert_eq!(t.get(0), None);
        assert_eq!(t.next(), Some(Instant::from_millis(9)));
        t.clear();
        assert_eq!(t.next(), None);
        t.set(7, Some(Instant::ZERO));
        assert_eq!(t.next(), None, "out of range is ignored");
    }
}
