//! The Linux host binary: `firmware-example` with no arguments runs the self-test;
//! `firmware-example SERVER_ADDR NAME` runs the device.
#![no_std]
#![no_main]

#[cfg(not(all(target_os = "linux", target_arch = "x86_64")))]
compile_error!(
    "the firmware-example binary runs on Linux x86_64; build the library for other targets"
);

mod linux;

use core::fmt::Write as _;

use linux::args::Args;
use linux::stderr::Stderr;

/// Runs the program; the return value is the exit code.
fn main(args: Args) -> i32 {
    match (args.len(), args.get(0), args.get(1)) {
        (0, _, _) => selftest(),
        (2, Some(server), Some(name)) => {
            let _ = writeln!(
                Stderr,
                "firmware-example: cannot join {server} as {name}: the device loop is not built yet"
            );
            1
        }
        _ => {
            let _ = writeln!(Stderr, "usage: firmware-example [SERVER_ADDR NAME]");
            2
        }
    }
}

fn selftest() -> i32 {
    match firmware_example::selftest::run() {
        Ok(()) => {
            let _ = writeln!(Stderr, "firmware-example: self-test passed");
            0
        }
        Err(failure) => {
            let _ = writeln!(Stderr, "firmware-example: self-test failed: {failure}");
            1
        }
    }
}
