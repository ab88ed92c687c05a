//! Raw Linux x86_64 system calls: the only way this program talks to the kernel.

use core::arch::asm;

/// System call numbers (x86_64).
pub(crate) mod nr {
    pub(crate) const WRITE: usize = 1;
    pub(crate) const EXIT_GROUP: usize = 231;
}

/// `errno` values this program tells apart.
pub(crate) mod errno {
    pub(crate) const EINTR: isize = 4;
}

/// A system call's result: the return value, or the positive `errno`.
pub(crate) type SysResult = Result<usize, isize>;

fn result(ret: isize) -> SysResult {
    if (-4095..0).contains(&ret) {
        Err(-ret)
    } else {
        Ok(ret as usize)
    }
}

/// Performs system call `n` with up to six arguments.
///
/// # Safety
/// The arguments must be valid for that system call (pointers to live memory of the
/// right size).
pub(crate) unsafe fn syscall(n: usize, args: [usize; 6]) -> SysResult {
    let ret: isize;
    // SAFETY: the x86_64 Linux system call ABI; the caller vouches for the arguments.
    unsafe {
        asm!(
            "syscall",
            inlateout("rax") n as isize => ret,
            in("rdi") args[0],
            in("rsi") args[1],
            in("rdx") args[2],
            in("r10") args[3],
            in("r8") args[4],
            in("r9") args[5],
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack),
        );
    }
    result(ret)
}

/// Writes all of `bytes` to file descriptor `fd` (retrying short writes and `EINTR`).
pub(crate) fn write_all(fd: i32, mut bytes: &[u8]) -> Result<(), isize> {
    while !bytes.is_empty() {
        let args = [fd as usize, bytes.as_ptr() as usize, bytes.len(), 0, 0, 0];
        // SAFETY: `bytes` is a live slice of `len` bytes.
        match unsafe { syscall(nr::WRITE, args) } {
            Ok(n) => bytes = &bytes[n..],
            Err(errno::EINTR) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Ends the process with `code`.
pub(crate) fn exit(code: i32) -> ! {
    // SAFETY: exit_group takes one integer and does not return.
    unsafe {
        let _ = syscall(nr::EXIT_GROUP, [code as usize, 0, 0, 0, 0, 0]);
    }
    loop {
        core::hint::spin_loop();
    }
}
