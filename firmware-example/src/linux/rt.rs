//! The freestanding runtime: the process entry point, the memory functions the compiler
//! emits calls to, and the panic handler. No C runtime and no libc are linked.

use core::arch::global_asm;

use super::sys;

// The kernel enters at `_start` with `rsp` pointing at `argc`, then `argv[0..argc]`.
// Clear the frame pointer, hand that pointer to Rust and align the stack as the ABI wants.
global_asm!(
    ".globl _start",
    "_start:",
    "xor ebp, ebp",
    "mov rdi, rsp",
    "and rsp, -16",
    "call {entry}",
    "ud2",
    entry = sym entry,
);

/// Rust side of `_start`: collects the arguments and runs `main`.
unsafe extern "C" fn entry(stack: *const usize) -> ! {
    // SAFETY: the kernel lays out `argc` then `argc` pointers to NUL-terminated strings.
    let args = unsafe { super::args::Args::from_stack(stack) };
    sys::exit(crate::main(args))
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    let mut err = super::stderr::Stderr;
    let _ = core::fmt::Write::write_fmt(&mut err, format_args!("firmware-example: {info}\n"));
    sys::exit(101)
}

/// Never called with `panic = "abort"`, but the precompiled `core` refers to it.
#[no_mangle]
extern "C" fn rust_eh_personality() {}

/// Copies `n` bytes; the regions do not overlap.
///
/// # Safety
/// `dst` and `src` are valid for `n` bytes.
#[no_mangle]
unsafe extern "C" fn memcpy(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    // SAFETY: `rep movsb` copies `rcx` bytes forwards from `rsi` to `rdi`; the caller
    // vouches for the regions. (Inline assembly, so the compiler cannot turn this back
    // into a call to `memcpy`.)
    unsafe {
        core::arch::asm!(
            "rep movsb",
            inout("rcx") n => _,
            inout("rdi") dst => _,
            inout("rsi") src => _,
            options(nostack, preserves_flags),
        );
    }
    dst
}

/// Copies `n` bytes; the regions may overlap.
///
/// # Safety
/// `dst` and `src` are valid for `n` bytes.
#[no_mangle]
unsafe extern "C" fn memmove(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    if (dst as usize).wrapping_sub(src as usize) >= n {
        // `dst` is below `src` or past its end: a forward copy never reads a byte it wrote.
        // SAFETY: as the caller vouches.
        return unsafe { memcpy(dst, src, n) };
    }
    // SAFETY: copy backwards (`std` direction flag) from the last byte; cleared after.
    unsafe {
        core::arch::asm!(
            "std",
            "rep movsb",
            "cld",
            inout("rcx") n => _,
            inout("rdi") dst.add(n).wrapping_sub(1) => _,
            inout("rsi") src.add(n).wrapping_sub(1) => _,
            options(nostack),
        );
    }
    dst
}

/// Fills `n` bytes with `c`.
///
/// # Safety
/// `dst` is valid for `n` bytes.
#[no_mangle]
unsafe extern "C" fn memset(dst: *mut u8, c: i32, n: usize) -> *mut u8 {
    // SAFETY: `rep stosb` stores `al` into `rcx` bytes from `rdi`.
    unsafe {
        core::arch::asm!(
            "rep stosb",
            inout("rcx") n => _,
            inout("rdi") dst => _,
            in("al") c as u8,
            options(nostack, preserves_flags),
        );
    }
    dst
}

/// Compares `n` bytes, returning their difference at the first mismatch.
///
/// # Safety
/// `a` and `b` are valid for `n` bytes.
#[no_mangle]
unsafe extern "C" fn memcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    let mut i = 0;
    while i < n {
        // SAFETY: `i < n` and both regions are valid for `n` bytes.
        let (x, y) = unsafe { (*a.add(i), *b.add(i)) };
        if x != y {
            return i32::from(x) - i32::from(y);
        }
        i += 1;
    }
    0
}

/// Whether `n` bytes are equal (0) or not (non-zero).
///
/// # Safety
/// `a` and `b` are valid for `n` bytes.
#[no_mangle]
unsafe extern "C" fn bcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    // SAFETY: as the caller vouches.
    unsafe { memcmp(a, b, n) }
}

/// Length of a NUL-terminated string (used by `CStr::from_ptr`).
///
/// # Safety
/// `s` points at a NUL-terminated string.
#[no_mangle]
unsafe extern "C" fn strlen(s: *const u8) -> usize {
    let mut n = 0;
    // SAFETY: the string is NUL-terminated, so every byte up to the NUL is readable.
    while unsafe { *s.add(n) } != 0 {
        n += 1;
    }
    n
}
