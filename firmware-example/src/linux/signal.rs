//! SIGINT and SIGTERM set a stop flag. Both stay blocked except while the device waits
//! in `ppoll`, which unblocks them atomically: a signal can never slip in between
//! checking the flag and going to sleep.

use core::arch::global_asm;
use core::sync::atomic::{AtomicBool, Ordering};

use super::sys::{self, c, SigAction};

static STOP: AtomicBool = AtomicBool::new(false);

/// The signals that request a stop, as a kernel signal set.
pub(crate) const STOP_SIGNALS: u64 = (1 << (c::SIGINT - 1)) | (1 << (c::SIGTERM - 1));

// The kernel returns from a handler through `rt_sigreturn`, called by this restorer.
global_asm!(
    ".globl peerchat_sigreturn",
    "peerchat_sigreturn:",
    "mov eax, 15",
    "syscall",
    "ud2",
);

extern "C" {
    fn peerchat_sigreturn();
}

extern "C" fn on_stop_signal(_signal: i32) {
    STOP.store(true, Ordering::SeqCst);
}

/// Installs the handlers and blocks both signals outside `ppoll`.
pub(crate) fn install() -> Result<(), i32> {
    let action = SigAction {
        handler: on_stop_signal as *const () as usize,
        flags: c::SA_RESTORER,
        restorer: peerchat_sigreturn as *const () as usize,
        mask: STOP_SIGNALS,
    };
    sys::block_signals(STOP_SIGNALS)?;
    sys::sigaction(c::SIGINT, &action)?;
    sys::sigaction(c::SIGTERM, &action)
}

/// Whether SIGINT or SIGTERM arrived.
pub(crate) fn stop_requested() -> bool {
    STOP.load(Ordering::SeqCst)
}
