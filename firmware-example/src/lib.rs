//! # firmware-example
//!
//! A Peerchat device with neither `std` nor an allocator. This library is the
//! target-independent part: it speaks only through [`peerchat_proto`] and through the
//! [`platform::Platform`] trait, so it builds for `thumbv7em-none-eabihf` as well as for
//! the Linux host, whose platform layer lives in the binary (`src/linux/`).
//!
//! - [`platform`]: what the device needs from the machine (clock, TCP as `embedded-io`,
//!   UDP, wait, stop request, logs).
//! - [`log`]: `info!`/`warn!`/`error!`/`debug!` over text or defmt.
//! - [`device`]: the device: `proto`'s client node and the driver loop around it.
//! - [`reply`]: the device's answers (`echo: …`, a file's length and hash) in fixed
//!   buffers.
//! - [`file`]: the fixed buffer one incoming `.txt` file is received into.
//! - [`selftest`]: encodes and decodes a few messages of every channel (run with no
//!   arguments).
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

#[cfg(feature = "defmt")]
#[doc(hidden)]
pub use defmt;

pub mod device;
pub mod file;
pub mod log;
pub mod platform;
pub mod reply;
pub mod selftest;
