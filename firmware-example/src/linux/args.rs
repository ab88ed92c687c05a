//! The command-line arguments as the kernel left them on the stack.

use core::ffi::{c_char, CStr};

/// `argv[1..]`, borrowed for the life of the process.
#[derive(Clone, Copy)]
pub(crate) struct Args {
    argv: *const *const c_char,
    argc: usize,
}

impl Args {
    /// Reads `argc` and `argv` from the initial stack.
    ///
    /// # Safety
    /// `stack` is the stack pointer the kernel handed to `_start`.
    pub(crate) unsafe fn from_stack(stack: *const usize) -> Args {
        // SAFETY: the caller passes the initial stack: `argc` then the `argv` array.
        unsafe {
            Args {
                argc: *stack,
                argv: stack.add(1).cast(),
            }
        }
    }

    /// Number of arguments after the program name.
    pub(crate) fn len(&self) -> usize {
        self.argc.saturating_sub(1)
    }

    /// Argument `i` after the program name, if it exists and is UTF-8.
    pub(crate) fn get(&self, i: usize) -> Option<&'static str> {
        if i >= self.len() {
            return None;
        }
        // SAFETY: `i + 1 < argc`, so the pointer is a live NUL-terminated string that
        // the kernel keeps for the whole process.
        let arg = unsafe { CStr::from_ptr(*self.argv.add(i + 1)) };
        arg.to_str().ok()
    }
}
