//! The monotonic clock as `proto`'s `Instant` (microseconds since boot).

use peerchat_proto::Instant;

use super::sys::{self, Timespec};

/// Now, on the monotonic clock.
pub(crate) fn now() -> Instant {
    let ts = sys::clock_monotonic();
    Instant::from_micros(ts.sec as u64 * 1_000_000 + ts.nsec as u64 / 1_000)
}

/// The time from `now` until `deadline` as a `ppoll` timeout (zero if it has passed).
pub(crate) fn timeout(now: Instant, deadline: Instant) -> Timespec {
    let micros = deadline.saturating_since(now).as_micros();
    Timespec {
        sec: (micros / 1_000_000) as i64,
        nsec: (micros % 1_000_000) as i64 * 1_000,
    }
}
