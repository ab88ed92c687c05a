//! The Linux x86_64 platform layer: raw system calls, the process runtime and the
//! device's view of sockets, time, signals and logs. This is the only code that uses
//! `unsafe`.

pub(crate) mod args;
mod rt;
pub(crate) mod stderr;
pub(crate) mod sys;
