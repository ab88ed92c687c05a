//! A rate budget: so many events per second with bursts of so many, kept as one
//! [`Instant`] (the generic cell rate algorithm, GCRA, which is a token bucket without a
//! token count). The handshake guard bounds the CPU handshakes cost with these.

use crate::time::{Duration, Instant};

/// `per_sec` events per second, at most `burst` at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// The theoretical arrival time of the next event.
    tat: Instant,
    /// Time one event uses up.
    interval: Duration,
    /// How far ahead of `now` `tat` may run: `(burst − 1) × interval`.
    tolerance: Duration,
}

impl Budget {
    /// A full budget of `per_sec` events per second (at least 1) in bursts of `burst`
    /// (at least 1).
    pub const fn new(per_sec: u32, burst: u32) -> Budget {
        let per_sec = if per_sec == 0 { 1 } else { per_sec as u64 };
        let burst = if burst == 0 { 1 } else { burst as u64 };
        let interval = Duration::from_micros(1_000_000 / per_sec);
        Budget {
            tat: Instant::ZERO,
            interval,
            tolerance: interval.saturating_mul(burst - 1),
        }
    }

    /// Spends one event if the budget allows it at `now`.
    pub fn try_take(&mut self, now: Instant) -> bool {
        let tat = self.tat.max(now);
        if tat - now > self.tolerance {
            return false;
        }
        self.tat = tat + self.interval;
        true
    }

    /// Whether less than half the burst is left at `now`.
    pub fn is_low(&self, now: Instant) -> bool {
        let used = self.tat.max(now) - now;
        used.saturating_mul(2) > self.tolerance + self.interval
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bursts_then_refills_at_its_rate() {
        let mut b = Budget::new(10, 4);
        let t = Instant::from_millis(1_000);
        assert!(!b.is_low(t));
        assert!((0..4).all(|_| b.try_take(t)));
        assert!(b.is_low(t));
        assert!(!b.try_take(t));
        // One event per 100 ms comes back.
        assert!(!b.try_take(t + Duration::from_millis(99)));
        assert!(b.try_take(t + Duration::from_millis(100)));
        assert!(!b.try_take(t + Duration::from_millis(100)));
        // After a quiet second the whole burst is back.
        let later = t + Duration::from_secs(2);
        assert!(!b.is_low(later));
        assert!((0..4).all(|_| b.try_take(later)));
        assert!(!b.try_take(later));
    }

    #[test]
    fn over_a_long_run_the_rate_holds() {
        let mut b = Budget::new(50, 5);
        let mut taken = 0;
        for ms in 0..10_000u64 {
            // A flood: 10 attempts every millisecond for 10 s.
            for _ in 0..10 {
                taken += u32::from(b.try_take(Instant::from_millis(ms)));
            }
        }
        assert!((500..=505).contains(&taken), "{taken}");
    }
}
