//! [`ByteBudget`]: a token bucket of bytes, the relay's per-client rate and burst.

use crate::time::Instant;

/// Microseconds per second: tokens are kept in byte-microseconds, so a refill is one
/// multiplication with no rounding.
const MICROS: u64 = 1_000_000;

/// `rate` bytes per second, at most `budget` bytes at once; full when made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ByteBudget {
    /// Bytes × 10⁶ available.
    tokens: u64,
    /// When `tokens` was last brought up to date.
    at: Instant,
    rate: u32,
    budget: u32,
}

impl ByteBudget {
    /// A full budget at `now`.
    pub const fn new(now: Instant, rate: u32, budget: u32) -> Self {
        ByteBudget {
            tokens: budget as u64 * MICROS,
            at: now,
            rate,
            budget,
        }
    }

    /// Brings the tokens up to `now`.
    fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_since(self.at).as_micros();
        let cap = u64::from(self.budget) * MICROS;
        let added = elapsed.saturating_mul(u64::from(self.rate));
        self.tokens = self.tokens.saturating_add(added).min(cap);
        self.at = self.at.max(now);
    }

    /// Whether `len` bytes may go at `now` (spends nothing).
    pub fn allows(&mut self, now: Instant, len: usize) -> bool {
        self.refill(now);
        self.tokens >= (len as u64).saturating_mul(MICROS)
    }

    /// Spends `len` bytes if they may go at `now`.
    pub fn try_spend(&mut self, now: Instant, len: usize) -> bool {
        if !self.allows(now, len) {
            return false;
        }
        self.tokens -= len as u64 * MICROS;
        true
    }

    /// Bytes available at `now`.
    pub fn available(&mut self, now: Instant) -> u64 {
        self.refill(now);
        self.tokens / MICROS
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Duration;

    #[test]
    fn a_burst_then_the_rate() {
        let t = Instant::from_millis(5);
        let mut b = ByteBudget::new(t, 1000, 1500);
        assert!(b.try_spend(t, 1200));
        assert!(!b.try_spend(t, 301));
        assert!(b.try_spend(t, 300));
        // 1000 bytes a second come back: 100 in 100 ms.
        let later = t + Duration::from_millis(100);
        assert!(!b.allows(later, 101));
        assert!(b.try_spend(later, 100));
        // Never more than the budget, however long the pause.
        let much_later = later + Duration::from_secs(1_000_000_000);
        assert_eq!(b.available(much_later), 1500);
        // Time that runs backwards adds nothing.
        assert_eq!(b.available(t), 1500);
    }

    #[test]
    fn over_a_long_run_the_rate_holds() {
        let mut b = ByteBudget::new(Instant::ZERO, 50_000, 10_000);
        let mut sent = 0u64;
        for ms in 0..10_000u64 {
            // A flood: ten 1200-byte datagrams every millisecond for 10 s.
            for _ in 0..10 {
                if b.try_spend(Instant::from_millis(ms), 1200) {
                    sent += 1200;
                }
            }
        }
        assert!((500_000..=510_000).contains(&sent), "{sent}");
    }
}
