//! A Cortex-M4F image of version 2's cryptography alone, for measuring what it will add
//! to the device: what a device uses of it — a key pair, a peer handshake on both sides
//! through the guard, sealed packets both ways, cookie replies, the client's side of the
//! control handshake and its sealed frames, a fingerprint and a safety number. Inputs come through `black_box`, so no path is left
//! out. It is linked (with `cortex-m.x`) but never run:
//!
//! ```sh
//! cargo build --release --example crypto_image --target thumbv7em-none-eabihf \
//!     --manifest-path firmware-example/Cargo.toml
//! python3 firmware-example/footprint.py --no-build \
//!     firmware-example/target/thumbv7em-none-eabihf/release/examples/crypto_image
//! ```
//!
//! On the host this example is an empty program.
#![cfg_attr(target_os = "none", no_std, no_main)]

#[cfg(not(target_os = "none"))]
fn main() {}

#[cfg(target_os = "none")]
mod image {
    use core::convert::Infallible;
    use core::fmt::Write;
    use core::hint::black_box;
    use core::net::{Ipv4Addr, SocketAddr};

    use peerchat_proto::crypto::{
        Admission, ControlClientHandshake, Fingerprint, GuardConfig, HandshakeGuard, Keypair,
        PeerChannel, SafetyNumber, ServerPin,
    };
    use peerchat_proto::wire::{PeerId, MAX_DATAGRAM};
    use peerchat_proto::Instant;
    use rand_core::{TryCryptoRng, TryRng};

    /// The platform's random generator, as the optimiser cannot predict it.
    struct PlatformRng;

    impl TryRng for PlatformRng {
        type Error = Infallible;
        fn try_next_u32(&mut self) -> Result<u32, Infallible> {
            Ok(black_box(7))
        }
        fn try_next_u64(&mut self) -> Result<u64, Infallible> {
            Ok(black_box(7))
        }
        fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
            black_box(dst);
            Ok(())
        }
    }

    impl TryCryptoRng for PlatformRng {}

    /// A sink for text, as a log would be.
    struct Sink;

    impl Write for Sink {
        fn write_str(&mut self, s: &str) -> core::fmt::Result {
            black_box(s);
            Ok(())
        }
    }

    type Chan = PeerChannel<16>;

    fn peer(rng: &mut PlatformRng, now: Instant) {
        let a = Keypair::generate(rng);
        let b = Keypair::from_secret_bytes(black_box([2; 32]));
        let addr = SocketAddr::new(Ipv4Addr::new(192, 0, 2, 2).into(), 40_001);
        let mut ca = Chan::new(a.public(), PeerId(1), PeerId(2), *b.public(), addr);
        let mut cb = Chan::new(b.public(), PeerId(2), PeerId(1), *a.public(), addr);
        let mut ga = HandshakeGuard::new(a.public(), GuardConfig::DEVICE);
        let mut gb = HandshakeGuard::new(b.public(), GuardConfig::DEVICE);
        let mut buf = [0u8; MAX_DATAGRAM];
        let mut out = [0u8; MAX_DATAGRAM];
        ca.connect(now);
        let Some(t) = ca.poll_transmit(now, &a, rng, &mut buf) else {
            return;
        };
        let init = black_box(&mut buf[..t.len]);
        match gb.admit_initiation(now, addr, init, rng, &mut out) {
            Admission::Proceed(ticket) => {
                let _ = black_box(cb.handle_initiation(now, ticket, &b, init, rng, &mut out));
            }
            other => {
                black_box(other);
            }
        }
        let _ = black_box(ca.handle_response(now, &mut ga, &a, addr, black_box(&out[..74])));
        let _ = black_box(ca.handle_cookie(now, black_box(&out[..66])));
        let n = ca.seal(now, &mut buf, black_box(100)).unwrap_or(0);
        let _ = black_box(
            cb.open(now, addr, black_box(&mut buf[..n]))
                .map(|o| o.payload.len()),
        );
        cb.handle_timeout(black_box(now));
        ca.handle_timeout(black_box(now));
        black_box((
            ca.poll_event(),
            cb.poll_event(),
            ca.poll_timeout(),
            ca.stats(),
        ));
        let _ = black_box(cb.poll_transmit(now, &b, rng, &mut buf));
    }

    fn control(rng: &mut PlatformRng) {
        let client = Keypair::generate(rng);
        let server = Keypair::from_secret_bytes(black_box([3; 32]));
        let mut buf = [0u8; 256];
        let mut c = ControlClientHandshake::new(&client, rng);
        let _ = black_box(c.write_hello(&client, &mut buf));
        black_box(&mut buf);
        let pin = ServerPin::Fingerprint(Fingerprint(black_box([1; 16])));
        if c.read_reply(&client, black_box(&buf[..98]), pin).is_err() {
            return;
        }
        let Ok((n, mut cipher)) = c.write_finish(&client, &mut buf) else {
            return;
        };
        black_box(&buf[..n]);
        let n = cipher.seal(&mut buf, black_box(40)).unwrap_or(0);
        let _ = black_box(cipher.open(black_box(&mut buf[..n])).map(<[u8]>::len));
        let mut sink = Sink;
        let _ = write!(sink, "{}", Fingerprint::of(client.public()));
        let _ = write!(
            sink,
            "{}",
            SafetyNumber::of(client.public(), server.public())
        );
    }

    /// The reset handler named by `cortex-m.x`.
    #[unsafe(no_mangle)]
    extern "C" fn reset() -> ! {
        let mut rng = PlatformRng;
        let now = Instant::from_micros(black_box(1_000_000));
        peer(&mut rng, now);
        control(&mut rng);
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
