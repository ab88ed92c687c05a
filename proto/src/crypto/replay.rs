//! The anti-replay window of RFC 6479: a ring of `WORDS` 64-bit words remembers which of
//! the last `(WORDS − 1) × 64` counters below the highest one arrived, so a sealed packet
//! is accepted once, in any order, and a packet older than the window is refused.
//!
//! [`ReplayWindow::check`] is a read-only test made before the AEAD is opened (a forged
//! packet then costs nothing more); [`ReplayWindow::accept`] records a counter after the
//! packet authenticated, so a packet that fails changes no state.

/// Counters at or above this are refused: a sender rekeys long before
/// (WireGuard's `REJECT_AFTER_MESSAGES`, 2⁶⁴ − 2¹³ − 1).
pub const REJECT_AFTER_MESSAGES: u64 = u64::MAX - (1 << 13);

/// Why a counter was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ReplayError {
    /// This counter was already accepted.
    Replayed,
    /// The counter is further behind the highest one than the window reaches.
    TooOld,
    /// The counter is at or over [`REJECT_AFTER_MESSAGES`].
    Exhausted,
}

/// RFC 6479's window over `WORDS` words; `WORDS` is a power of two, at least 2.
#[derive(Clone)]
pub struct ReplayWindow<const WORDS: usize> {
    /// One more than the highest counter accepted; 0 before the first.
    top: u64,
    bits: [u64; WORDS],
}

impl<const WORDS: usize> ReplayWindow<WORDS> {
    /// How far behind the highest counter a counter may be and still be accepted.
    pub const SIZE: u64 = {
        assert!(
            WORDS.is_power_of_two() && WORDS >= 2,
            "WORDS: a power of two ≥ 2"
        );
        (WORDS as u64 - 1) * 64
    };

    /// An empty window: every counter below [`REJECT_AFTER_MESSAGES`] is new.
    pub const fn new() -> Self {
        let _ = Self::SIZE;
        ReplayWindow {
            top: 0,
            bits: [0; WORDS],
        }
    }

    /// Forgets every counter: the window of a fresh session.
    pub fn reset(&mut self) {
        self.top = 0;
        self.bits.fill(0);
    }

    /// Whether `counter` would be accepted; changes nothing.
    pub fn check(&self, counter: u64) -> Result<(), ReplayError> {
        if counter >= REJECT_AFTER_MESSAGES {
            return Err(ReplayError::Exhausted);
        }
        if counter >= self.top {
            return Ok(());
        }
        if self.top - 1 - counter >= Self::SIZE {
            return Err(ReplayError::TooOld);
        }
        let (word, bit) = Self::slot(counter);
        match self.bits[word] & bit {
            0 => Ok(()),
            _ => Err(ReplayError::Replayed),
        }
    }

    /// Records `counter` (after its packet authenticated), sliding the window forward
    /// when it is the highest yet.
    pub fn accept(&mut self, counter: u64) -> Result<(), ReplayError> {
        self.check(counter)?;
        if counter >= self.top {
            // Clear every word between the old top's word and the new one (at most all).
            let first = match self.top {
                0 => 0,
                top => ((top - 1) >> 6) + 1,
            };
            let words = ((counter >> 6) + 1).saturating_sub(first).min(WORDS as u64);
            for i in 0..words {
                self.bits[Self::index(first + i)] = 0;
            }
            self.top = counter + 1;
        }
        let (word, bit) = Self::slot(counter);
        self.bits[word] |= bit;
        Ok(())
    }

    /// The highest counter accepted so far.
    pub fn highest(&self) -> Option<u64> {
        self.top.checked_sub(1)
    }

    fn index(word: u64) -> usize {
        // Masked to the ring: the conversion cannot truncate anything kept.
        (word as usize) & (WORDS - 1)
    }

    fn slot(counter: u64) -> (usize, u64) {
        (Self::index(counter >> 6), 1 << (counter & 63))
    }
}

impl<const WORDS: usize> Default for ReplayWindow<WORDS> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const WORDS: usize> core::fmt::Debug for ReplayWindow<WORDS> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ReplayWindow")
            .field("highest", &self.highest())
            .field("size", &Self::SIZE)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    extern crate std;

    use std::collections::BTreeSet;
    use std::vec::Vec;

    use proptest::prelude::*;

    use super::*;

    type Small = ReplayWindow<4>;

    #[test]
    fn in_order_reordered_and_replayed() {
        let mut w = Small::new();
        assert_eq!(w.highest(), None);
        assert_eq!(w.accept(0), Ok(()));
        assert_eq!(w.accept(0), Err(ReplayError::Replayed));
        assert_eq!(w.accept(5), Ok(()));
        assert_eq!(w.accept(3), Ok(()));
        assert_eq!(w.accept(3), Err(ReplayError::Replayed));
        assert_eq!(w.highest(), Some(5));
        assert_eq!(w.check(4), Ok(()));
    }

    #[test]
    fn the_edge_of_the_window() {
        let mut w = Small::new();
        let top = 1000;
        w.accept(top).unwrap();
        // 192 behind the top is the first refused; 191 behind the last accepted.
        assert_eq!(Small::SIZE, 192);
        assert_eq!(w.check(top - Small::SIZE), Err(ReplayError::TooOld));
        assert_eq!(w.accept(top - Small::SIZE + 1), Ok(()));
        assert_eq!(w.accept(top - Small::SIZE + 1), Err(ReplayError::Replayed));
    }

    #[test]
    fn a_long_jump_forgets_everything_behind() {
        let mut w = Small::new();
        for c in 0..100 {
            w.accept(c).unwrap();
        }
        w.accept(100_000).unwrap();
        assert_eq!(w.check(99), Err(ReplayError::TooOld));
        assert_eq!(w.accept(100_000 - 5), Ok(()));
    }

    #[test]
    fn counters_near_the_limit_are_refused() {
        let mut w = Small::new();
        assert_eq!(w.accept(REJECT_AFTER_MESSAGES), Err(ReplayError::Exhausted));
        assert_eq!(w.accept(u64::MAX), Err(ReplayError::Exhausted));
        assert_eq!(w.accept(REJECT_AFTER_MESSAGES - 1), Ok(()));
        assert_eq!(w.highest(), Some(REJECT_AFTER_MESSAGES - 1));
    }

    /// The simplest correct window: every counter ever accepted, and the highest.
    #[derive(Default)]
    struct Model {
        seen: BTreeSet<u64>,
    }

    impl Model {
        fn check(&self, c: u64) -> Result<(), ReplayError> {
            if c >= REJECT_AFTER_MESSAGES {
                return Err(ReplayError::Exhausted);
            }
            match self.seen.last() {
                Some(&top) if c <= top && top - c >= Small::SIZE => Err(ReplayError::TooOld),
                _ if self.seen.contains(&c) => Err(ReplayError::Replayed),
                _ => Ok(()),
            }
        }
    }

    /// Counters that wander forward in small and large steps and look back within and
    /// beyond the window, so every branch is exercised.
    fn counters() -> impl Strategy<Value = Vec<(bool, i64)>> {
        let step = prop_oneof![
            8 => -300i64..70,
            1 => 60i64..400,
            1 => Just(0i64),
        ];
        proptest::collection::vec((any::<bool>(), step), 1..400)
    }

    proptest! {
        #[test]
        fn agrees_with_the_model(steps in counters()) {
            let mut w = Small::new();
            let mut m = Model::default();
            let mut base: i64 = 0;
            for (only_check, step) in steps {
                base = (base + step.max(0) / 4).max(0);
                let c = (base + step).max(0) as u64;
                let expected = m.check(c);
                prop_assert_eq!(w.check(c), expected, "check {}", c);
                if !only_check {
                    prop_assert_eq!(w.accept(c), expected, "accept {}", c);
                    if expected.is_ok() {
                        m.seen.insert(c);
                    }
                }
                prop_assert_eq!(w.highest(), m.seen.last().copied());
            }
        }
    }
}
