//! Standard error as a `core::fmt::Write` sink.

use super::sys;

/// File descriptor 2.
pub(crate) struct Stderr;

impl core::fmt::Write for Stderr {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        sys::write_all(2, s.as_bytes()).map_err(|_| core::fmt::Error)
    }
}
