//! # firmware-example
//!
//! A Peerchat device with neither `std` nor an allocator. This library is the
//! target-independent part: it speaks only through [`peerchat_proto`] and through the
//! small traits a platform implements, so it builds for `thumbv7em-none-eabihf` as well as
//! for the Linux host whose platform layer lives in the binary (`src/linux/`).
//!
//! - [`selftest`]: encodes and decodes a few messages of every channel (run with no
//!   arguments).
#![no_std]
#![forbid(unsafe_code)]

pub mod selftest;
