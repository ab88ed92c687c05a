//! The Linux host binary: `firmware-example` with no arguments runs the self-test;
//! `firmware-example SERVER_ADDR NAME` runs the device.
#![no_std]
#![no_main]

#[cfg(not(all(target_os = "linux", target_arch = "x86_64")))]
compile_error!(
    "the firmware-example binary runs on Linux x86_64; build the library for other targets"
);

mod linux;

use core::net::SocketAddr;

use firmware_example::platform::Platform as _;
use firmware_example::{error, info};
use linux::args::Args;
use linux::{Console, Linux};

/// Runs the program; the return value is the exit code.
fn main(args: Args) -> i32 {
    match (args.len(), args.get(0), args.get(1)) {
        (0, _, _) => selftest(),
        (2, Some(server), Some(name)) => device(server, name),
        _ => {
            error!(Console, "usage: firmware-example [SERVER_ADDR NAME]");
            2
        }
    }
}

fn selftest() -> i32 {
    if let Err(failure) = firmware_example::selftest::run() {
        error!(Console, "self-test failed: {}", failure);
        return 1;
    }
    info!(Console, "self-test: wire round trips passed");
    if let Err(failure) = linux::loopback::run() {
        error!(Console, "self-test failed: UDP loopback: {}", failure);
        return 1;
    }
    info!(Console, "self-test: UDP and TCP loopback passed");
    0
}

/// Connects to the server and stays until SIGINT/SIGTERM (the protocol loop comes with
/// `proto`'s client node).
fn device(server: &str, name: &str) -> i32 {
    let Ok(addr) = server.parse::<SocketAddr>() else {
        error!(Console, "bad SERVER_ADDR {}: expected IP:PORT", server);
        return 2;
    };
    let mut linux = match Linux::open(addr) {
        Ok(linux) => linux,
        Err(e) => {
            error!(Console, "cannot set up: {}", e);
            return 1;
        }
    };
    if let Err(e) = linux.connect() {
        error!(Console, "cannot connect to {}: {}", server, e);
        return 1;
    }
    let port = linux.udp_port();
    info!(
        Console,
        "connected to {} as {}; UDP port {}", server, name, port
    );
    while !linux.stop_requested() {
        if let Err(e) = linux.wait(None) {
            error!(Console, "wait failed: {}", e);
            return 1;
        }
    }
    info!(Console, "stopping");
    0
}
