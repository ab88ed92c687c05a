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

use firmware_example::device::{Device, Exit};
use firmware_example::platform::Platform as _;
use firmware_example::{error, info};
use linux::args::Args;
use linux::{Console, Linux};
use static_cell::StaticCell;

/// Runs the program; the return value is the exit code.
fn main(args: Args) -> i32 {
    match (args.len(), args.get(0), args.get(1)) {
        (0, _, _) => selftest(),
        (2, Some(server), Some(name)) => device(server, name),
        _ => {
            error!(&mut Console, "usage: firmware-example [SERVER_ADDR NAME]");
            2
        }
    }
}

fn selftest() -> i32 {
    if let Err(failure) = firmware_example::selftest::run() {
        error!(&mut Console, "self-test failed: {}", failure);
        return 1;
    }
    info!(&mut Console, "self-test: wire round trips passed");
    if let Err(failure) = linux::loopback::run() {
        error!(&mut Console, "self-test failed: UDP loopback: {}", failure);
        return 1;
    }
    info!(&mut Console, "self-test: UDP and TCP loopback passed");
    0
}

/// The device's memory, in `.bss`.
static DEVICE: StaticCell<Device> = StaticCell::new();

/// Runs the device until SIGINT/SIGTERM has logged it out.
fn device(server: &str, name: &str) -> i32 {
    let Ok(addr) = server.parse::<SocketAddr>() else {
        error!(&mut Console, "bad SERVER_ADDR {}: expected IP:PORT", server);
        return 2;
    };
    let mut linux = match Linux::open(addr) {
        Ok(linux) => linux,
        Err(e) => {
            error!(&mut Console, "cannot set up the sockets: {}", e);
            return 1;
        }
    };
    let seed = linux.seed();
    let device = match Device::new(name, linux.udp_port(), seed, addr) {
        Ok(device) => device,
        Err(e) => {
            error!(&mut Console, "{}: {}", name, e);
            return 2;
        }
    };
    let device = DEVICE.init(device);
    let port = linux.udp_port();
    info!(
        &mut linux,
        "joining {} as {}; UDP port {}", server, name, port
    );
    match device.run(&mut linux) {
        Exit::Stopped => 0,
        Exit::Rejected(_) => 1,
        Exit::Platform(e) => {
            error!(&mut linux, "stopped: {}", e);
            1
        }
    }
}
