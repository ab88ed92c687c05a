//! A Cortex-M4F image of the device, for measuring its footprint: the same
//! [`Device`] and driver loop as the Linux binary, over a platform whose sockets are
//! stubs. It is linked (with `cortex-m.x`) but never run:
//!
//! ```sh
//! cargo build --release --example cortex_m_image --target thumbv7em-none-eabihf \
//!     --manifest-path firmware-example/Cargo.toml
//! size firmware-example/target/thumbv7em-none-eabihf/release/examples/cortex_m_image
//! ```
//!
//! Add `--features defmt` (with `DEFMT_LOG=info`) for the image with defmt logs. On the
//! host this example is an empty program.
#![cfg_attr(target_os = "none", no_std, no_main)]

#[cfg(not(target_os = "none"))]
fn main() {}

#[cfg(target_os = "none")]
mod image {
    use core::fmt::Arguments;
    use core::hint::black_box;
    use core::net::{Ipv4Addr, SocketAddr};

    use firmware_example::device::Device;
    use firmware_example::platform::{Level, Log, NetError, Platform, Wake};
    use peerchat_proto::Instant;
    use static_cell::StaticCell;

    /// A platform whose results the optimiser cannot predict (`black_box`), so that no
    /// path of the device is left out of the image.
    struct Stub {
        tcp: Stream,
        clock: u64,
    }

    struct Stream;

    impl embedded_io::ErrorType for Stream {
        type Error = embedded_io::ErrorKind;
    }

    impl embedded_io::Read for Stream {
        fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
            black_box(&mut *buf);
            black_box(Ok(buf.len()))
        }
    }

    impl embedded_io::Write for Stream {
        fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
            black_box(Ok(black_box(buf).len()))
        }

        fn flush(&mut self) -> Result<(), Self::Error> {
            Ok(())
        }
    }

    impl Log for Stub {
        fn log(&mut self, level: Level, args: Arguments<'_>) {
            black_box((level, args));
        }
    }

    impl Platform for Stub {
        type Tcp = Stream;

        fn now(&mut self) -> Instant {
            self.clock += 1_000;
            Instant::from_micros(self.clock)
        }

        fn seed(&mut self) -> u64 {
            black_box(0x5eed)
        }

        fn connect(&mut self) -> Result<(), NetError> {
            black_box(Ok(()))
        }

        fn disconnect(&mut self) {}

        fn tcp(&mut self) -> Option<&mut Stream> {
            black_box(Some(&mut self.tcp))
        }

        fn udp_port(&self) -> u16 {
            black_box(40_000)
        }

        fn send_to(&mut self, to: SocketAddr, datagram: &[u8]) -> Result<(), NetError> {
            black_box((to, datagram));
            black_box(Ok(()))
        }

        fn recv_from(&mut self, buf: &mut [u8]) -> Result<Option<(usize, SocketAddr)>, NetError> {
            black_box(&mut *buf);
            let from = SocketAddr::new(Ipv4Addr::new(192, 0, 2, 2).into(), 40_001);
            black_box(Ok(Some((buf.len(), from))))
        }

        fn wait(&mut self, deadline: Option<Instant>) -> Result<Wake, NetError> {
            black_box(deadline);
            black_box(Ok(Wake::default()))
        }

        fn stop_requested(&self) -> bool {
            black_box(false)
        }
    }

    /// With `defmt`, frames go nowhere (but are still encoded).
    #[cfg(feature = "defmt")]
    #[defmt::global_logger]
    struct NullLogger;

    // SAFETY: the logger keeps no state, so any interleaving is sound.
    #[cfg(feature = "defmt")]
    unsafe impl defmt::Logger for NullLogger {
        fn acquire() {}
        unsafe fn flush() {}
        unsafe fn release() {}
        unsafe fn write(bytes: &[u8]) {
            black_box(bytes);
        }
    }

    static DEVICE: StaticCell<Device> = StaticCell::new();

    /// The reset handler named by `cortex-m.x`.
    #[unsafe(no_mangle)]
    extern "C" fn reset() -> ! {
        let server = SocketAddr::new(Ipv4Addr::new(192, 0, 2, 1).into(), 8888);
        let mut stub = Stub {
            tcp: Stream,
            clock: 0,
        };
        if let Ok(device) = Device::new("device-1", 40_000, stub.seed(), server) {
            let _ = DEVICE.init(device).run(&mut stub);
        }
        loop {
            core::hint::spin_loop();
        }
    }

    #[panic_handler]
    fn panic(_info: &core::panic::PanicInfo<'_>) -> ! {
        loop {
            core::hint::spin_loop();
        }
    }
}
