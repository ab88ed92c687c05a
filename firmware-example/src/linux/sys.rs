//! Raw Linux x86_64 system calls: the only way this program talks to the kernel. Each
//! wrapper takes Rust slices and returns the result or the positive `errno`.

use core::arch::asm;

/// System call numbers (x86_64).
mod nr {
    pub(super) const READ: usize = 0;
    pub(super) const WRITE: usize = 1;
    pub(super) const CLOSE: usize = 3;
    pub(super) const RT_SIGACTION: usize = 13;
    pub(super) const RT_SIGPROCMASK: usize = 14;
    pub(super) const SOCKET: usize = 41;
    pub(super) const CONNECT: usize = 42;
    pub(super) const ACCEPT4: usize = 288;
    pub(super) const SENDTO: usize = 44;
    pub(super) const RECVFROM: usize = 45;
    pub(super) const BIND: usize = 49;
    pub(super) const LISTEN: usize = 50;
    pub(super) const GETSOCKNAME: usize = 51;
    pub(super) const CLOCK_GETTIME: usize = 228;
    pub(super) const EXIT_GROUP: usize = 231;
    pub(super) const PPOLL: usize = 271;
    pub(super) const GETRANDOM: usize = 318;
}

/// `errno` values this program tells apart.
pub(crate) mod errno {
    pub(crate) const EINTR: i32 = 4;
    pub(crate) const EAGAIN: i32 = 11;
    pub(crate) const EINVAL: i32 = 22;
    pub(crate) const EPIPE: i32 = 32;
    pub(crate) const ECONNRESET: i32 = 104;
    pub(crate) const ECONNREFUSED: i32 = 111;
    pub(crate) const ETIMEDOUT: i32 = 110;
}

/// Constants of the socket, poll and signal interfaces.
pub(crate) mod c {
    pub(crate) const AF_INET: u16 = 2;
    pub(crate) const AF_INET6: u16 = 10;
    pub(crate) const SOCK_STREAM: usize = 1;
    pub(crate) const SOCK_DGRAM: usize = 2;
    pub(crate) const SOCK_CLOEXEC: usize = 0o2_000_000;
    pub(crate) const MSG_DONTWAIT: usize = 0x40;
    pub(crate) const MSG_NOSIGNAL: usize = 0x4000;
    pub(crate) const POLLIN: i16 = 0x1;
    pub(crate) const POLLERR: i16 = 0x8;
    pub(crate) const POLLHUP: i16 = 0x10;
    pub(crate) const CLOCK_MONOTONIC: usize = 1;
    pub(crate) const SIGINT: usize = 2;
    pub(crate) const SIGTERM: usize = 15;
    pub(crate) const SIG_BLOCK: usize = 0;
    pub(crate) const SA_RESTORER: u64 = 0x0400_0000;
}

/// A system call's result: the return value, or the positive `errno`.
pub(crate) type SysResult = Result<usize, i32>;

/// `struct pollfd`.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub(crate) struct PollFd {
    pub(crate) fd: i32,
    pub(crate) events: i16,
    pub(crate) revents: i16,
}

/// `struct timespec`.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub(crate) struct Timespec {
    pub(crate) sec: i64,
    pub(crate) nsec: i64,
}

/// The kernel's `struct sigaction` on x86_64.
#[repr(C)]
pub(crate) struct SigAction {
    pub(crate) handler: usize,
    pub(crate) flags: u64,
    pub(crate) restorer: usize,
    pub(crate) mask: u64,
}

/// A socket address in the kernel's layout (`sockaddr_in` or `sockaddr_in6`).
#[repr(C, align(4))]
#[derive(Clone, Copy)]
pub(crate) struct RawAddr {
    pub(crate) bytes: [u8; 28],
    pub(crate) len: u32,
}

fn result(ret: isize) -> SysResult {
    if (-4095..0).contains(&ret) {
        Err(-ret as i32)
    } else {
        Ok(ret as usize)
    }
}

/// Performs system call `n` with up to six arguments.
///
/// # Safety
/// The arguments must be valid for that system call (pointers to live memory of the
/// right size).
unsafe fn syscall(n: usize, args: [usize; 6]) -> SysResult {
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

/// Retries `f` while it fails with `EINTR`.
fn no_eintr(mut f: impl FnMut() -> SysResult) -> SysResult {
    loop {
        match f() {
            Err(errno::EINTR) => {}
            other => return other,
        }
    }
}

/// Writes all of `bytes` to file descriptor `fd`.
pub(crate) fn write_all(fd: i32, mut bytes: &[u8]) -> Result<(), i32> {
    while !bytes.is_empty() {
        let args = [fd as usize, bytes.as_ptr() as usize, bytes.len(), 0, 0, 0];
        // SAFETY: `bytes` is a live slice of `len` bytes.
        let n = no_eintr(|| unsafe { syscall(nr::WRITE, args) })?;
        bytes = &bytes[n..];
    }
    Ok(())
}

/// Reads into `buf` from `fd`; 0 means end of stream.
pub(crate) fn read(fd: i32, buf: &mut [u8]) -> SysResult {
    let args = [fd as usize, buf.as_mut_ptr() as usize, buf.len(), 0, 0, 0];
    // SAFETY: `buf` is a live, writable slice of `len` bytes.
    no_eintr(|| unsafe { syscall(nr::READ, args) })
}

/// Closes `fd`.
pub(crate) fn close(fd: i32) {
    // SAFETY: closing a descriptor touches no memory.
    let _ = unsafe { syscall(nr::CLOSE, [fd as usize, 0, 0, 0, 0, 0]) };
}

/// Opens a socket; returns its descriptor.
pub(crate) fn socket(family: u16, ty: usize) -> Result<i32, i32> {
    let args = [usize::from(family), ty | c::SOCK_CLOEXEC, 0, 0, 0, 0];
    // SAFETY: no pointers.
    unsafe { syscall(nr::SOCKET, args) }.map(|fd| fd as i32)
}

/// Connects `fd` to `addr` (blocking).
pub(crate) fn connect(fd: i32, addr: &RawAddr) -> Result<(), i32> {
    let args = [
        fd as usize,
        addr.bytes.as_ptr() as usize,
        addr.len as usize,
        0,
        0,
        0,
    ];
    // SAFETY: `addr.bytes` holds `addr.len` valid bytes.
    unsafe { syscall(nr::CONNECT, args) }.map(drop)
}

/// Binds `fd` to `addr`.
pub(crate) fn bind(fd: i32, addr: &RawAddr) -> Result<(), i32> {
    let args = [
        fd as usize,
        addr.bytes.as_ptr() as usize,
        addr.len as usize,
        0,
        0,
        0,
    ];
    // SAFETY: `addr.bytes` holds `addr.len` valid bytes.
    unsafe { syscall(nr::BIND, args) }.map(drop)
}

/// Marks `fd` as a listening socket.
pub(crate) fn listen(fd: i32) -> Result<(), i32> {
    // SAFETY: no pointers.
    unsafe { syscall(nr::LISTEN, [fd as usize, 1, 0, 0, 0, 0]) }.map(drop)
}

/// Accepts one connection on listening socket `fd` (blocking).
pub(crate) fn accept(fd: i32) -> Result<i32, i32> {
    // SAFETY: a null address asks for no peer address.
    no_eintr(|| unsafe { syscall(nr::ACCEPT4, [fd as usize, 0, 0, c::SOCK_CLOEXEC, 0, 0]) })
        .map(|fd| fd as i32)
}

/// Fills `buf` with random bytes from the kernel.
pub(crate) fn getrandom(buf: &mut [u8]) -> Result<(), i32> {
    let args = [buf.as_mut_ptr() as usize, buf.len(), 0, 0, 0, 0];
    // SAFETY: `buf` is writable for its length.
    let n = no_eintr(|| unsafe { syscall(nr::GETRANDOM, args) })?;
    if n == buf.len() {
        Ok(())
    } else {
        Err(errno::EAGAIN)
    }
}

/// The local address of `fd`.
pub(crate) fn getsockname(fd: i32) -> Result<RawAddr, i32> {
    let mut addr = RawAddr::empty();
    let len = core::ptr::addr_of_mut!(addr.len) as usize;
    let args = [fd as usize, addr.bytes.as_mut_ptr() as usize, len, 0, 0, 0];
    // SAFETY: the kernel writes at most `addr.len` (28) bytes and updates `addr.len`.
    unsafe { syscall(nr::GETSOCKNAME, args) }?;
    Ok(addr)
}

/// Sends `bytes` on `fd` (to `to` if given), never raising `SIGPIPE`.
pub(crate) fn sendto(fd: i32, bytes: &[u8], flags: usize, to: Option<&RawAddr>) -> SysResult {
    let (ptr, len) = to.map_or((0, 0), |a| (a.bytes.as_ptr() as usize, a.len as usize));
    let args = [
        fd as usize,
        bytes.as_ptr() as usize,
        bytes.len(),
        flags | c::MSG_NOSIGNAL,
        ptr,
        len,
    ];
    // SAFETY: `bytes` and the address are live slices of the given lengths.
    no_eintr(|| unsafe { syscall(nr::SENDTO, args) })
}

/// Receives one datagram into `buf`; returns its length and source address.
pub(crate) fn recvfrom(fd: i32, buf: &mut [u8], flags: usize) -> Result<(usize, RawAddr), i32> {
    let mut from = RawAddr::empty();
    let len = core::ptr::addr_of_mut!(from.len) as usize;
    let args = [
        fd as usize,
        buf.as_mut_ptr() as usize,
        buf.len(),
        flags,
        from.bytes.as_mut_ptr() as usize,
        len,
    ];
    // SAFETY: `buf` is writable for its length, `from` for `from.len` bytes.
    let n = no_eintr(|| unsafe { syscall(nr::RECVFROM, args) })?;
    Ok((n, from))
}

/// Waits for events on `fds` until `timeout` (`None`: forever) with signal mask `mask`
/// in force meanwhile. Returns the number of ready descriptors; `EINTR` when a signal
/// handler ran.
pub(crate) fn ppoll(fds: &mut [PollFd], timeout: Option<&Timespec>, mask: u64) -> SysResult {
    let ts = timeout.map_or(0, |t| t as *const Timespec as usize);
    let mask_ptr = &mask as *const u64 as usize;
    let args = [fds.as_mut_ptr() as usize, fds.len(), ts, mask_ptr, 8, 0];
    // SAFETY: `fds`, the timeout and the mask are live for the call.
    unsafe { syscall(nr::PPOLL, args) }
}

/// The monotonic clock.
pub(crate) fn clock_monotonic() -> Timespec {
    let mut ts = Timespec::default();
    let args = [
        c::CLOCK_MONOTONIC,
        &mut ts as *mut Timespec as usize,
        0,
        0,
        0,
        0,
    ];
    // SAFETY: `ts` is a writable timespec. CLOCK_MONOTONIC always exists on Linux.
    let _ = unsafe { syscall(nr::CLOCK_GETTIME, args) };
    ts
}

/// Installs `action` for signal `sig`.
pub(crate) fn sigaction(sig: usize, action: &SigAction) -> Result<(), i32> {
    let args = [sig, action as *const SigAction as usize, 0, 8, 0, 0];
    // SAFETY: `action` is a valid kernel sigaction; its handler and restorer are
    // functions that live for the whole process.
    unsafe { syscall(nr::RT_SIGACTION, args) }.map(drop)
}

/// Blocks the signals in `set` (outside `ppoll`).
pub(crate) fn block_signals(set: u64) -> Result<(), i32> {
    let args = [c::SIG_BLOCK, &set as *const u64 as usize, 0, 8, 0, 0];
    // SAFETY: `set` is a live 8-byte signal set.
    unsafe { syscall(nr::RT_SIGPROCMASK, args) }.map(drop)
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

impl RawAddr {
    /// Room for any address the kernel hands back.
    pub(crate) const fn empty() -> RawAddr {
        RawAddr {
            bytes: [0; 28],
            len: 28,
        }
    }
}
