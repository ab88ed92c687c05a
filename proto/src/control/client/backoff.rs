//! Reconnect delays: exponential with jitter, from a host-provided seed.

use crate::time::Duration;

/// Exponential backoff between `min` and `max`, each delay jittered to 75–100 %.
#[derive(Debug, Clone)]
pub(super) struct Backoff {
    min: Duration,
    max: Duration,
    attempt: u32,
    rng: u64,
}

impl Backoff {
    pub(super) fn new(min: Duration, max: Duration, seed: u64) -> Self {
        Backoff {
            min,
            max: max.max(min),
            attempt: 0,
            rng: seed | 1,
        }
    }

    /// The delay before the next attempt; each call doubles the next one.
    pub(super) fn next_delay(&mut self) -> Duration {
        let shift = self.attempt.min(20);
        self.attempt = self.attempt.saturating_add(1);
        let full = self.min.saturating_mul(1 << shift).min(self.max);
        let quarter = full.as_micros() / 4;
        let jitter = if quarter == 0 {
            0
        } else {
            crate::num::div_rem_u64(self.random(), quarter).1
        };
        full - Duration::from_micros(jitter)
    }

    /// After a successful login the next failure starts from `min` again.
    pub(super) fn reset(&mut self) {
        self.attempt = 0;
    }

    fn random(&mut self) -> u64 {
        // xorshift64
        let mut x = self.rng;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.rng = x;
        x
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_up_to_the_cap_with_jitter() {
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_secs(1), 42);
        let d: [Duration; 6] = core::array::from_fn(|_| b.next_delay());
        for (i, want) in [100u64, 200, 400, 800, 1000, 1000].iter().enumerate() {
            let ms = d[i].as_millis();
            assert!(ms <= *want && ms >= want * 3 / 4, "{i}: {ms}");
        }
        b.reset();
        assert!(b.next_delay() <= Duration::from_millis(100));
    }
}
