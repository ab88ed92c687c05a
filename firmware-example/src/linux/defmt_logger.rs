//! defmt's global logger for the Linux host: each log frame is rzCOBS-encoded by
//! `defmt::Encoder` into a fixed buffer and written to stderr in one `write`.
//! `defmt-print -e <this ELF>` decodes the stream (see the README).

use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicBool, Ordering};

use super::{clock, sys};

defmt::timestamp!("{=u64:us}", clock::now().as_micros());

/// Bytes of one buffered frame; a longer frame goes out in several writes.
const BUF: usize = 256;

struct State {
    encoder: defmt::Encoder,
    buf: [u8; BUF],
    len: usize,
}

/// The logger's state; only the holder of [`TAKEN`] touches it.
struct Shared(UnsafeCell<State>);

// SAFETY: every access happens between `acquire` and `release`, which `TAKEN` makes
// exclusive (the program has one thread and its signal handler never logs).
unsafe impl Sync for Shared {}

static TAKEN: AtomicBool = AtomicBool::new(false);
static STATE: Shared = Shared(UnsafeCell::new(State {
    encoder: defmt::Encoder::new(),
    buf: [0; BUF],
    len: 0,
}));

#[defmt::global_logger]
struct Logger;

// SAFETY: `acquire` takes `TAKEN` (panicking on re-entry, as defmt requires) and
// `release` gives it back; `write` and `flush` are only called in between.
unsafe impl defmt::Logger for Logger {
    fn acquire() {
        if TAKEN.swap(true, Ordering::Acquire) {
            panic!("defmt logger taken reentrantly");
        }
        // SAFETY: we now hold `TAKEN`.
        let state = unsafe { &mut *STATE.0.get() };
        let State { encoder, buf, len } = state;
        encoder.start_frame(|bytes| push(buf, len, bytes));
    }

    unsafe fn flush() {
        // SAFETY: called between `acquire` and `release`.
        let state = unsafe { &mut *STATE.0.get() };
        drain(&state.buf, &mut state.len);
    }

    unsafe fn release() {
        // SAFETY: called between `acquire` and `release`.
        let state = unsafe { &mut *STATE.0.get() };
        let State { encoder, buf, len } = state;
        encoder.end_frame(|bytes| push(buf, len, bytes));
        drain(buf, len);
        TAKEN.store(false, Ordering::Release);
    }

    unsafe fn write(bytes: &[u8]) {
        // SAFETY: called between `acquire` and `release`.
        let state = unsafe { &mut *STATE.0.get() };
        let State { encoder, buf, len } = state;
        encoder.write(bytes, |out| push(buf, len, out));
    }
}

/// Appends encoded bytes, writing the buffer out whenever it fills.
fn push(buf: &mut [u8; BUF], len: &mut usize, mut bytes: &[u8]) {
    while !bytes.is_empty() {
        if *len == BUF {
            drain(buf, len);
        }
        let take = bytes.len().min(BUF - *len);
        buf[*len..*len + take].copy_from_slice(&bytes[..take]);
        *len += take;
        bytes = &bytes[take..];
    }
}

fn drain(buf: &[u8; BUF], len: &mut usize) {
    let _ = sys::write_all(2, &buf[..*len]);
    *len = 0;
}
