//! Outside tools for the `files` scenario: finding a program, installing a missing one
//! with apt-get, and running a command with a time limit (killed when it runs out).

use core::time::Duration;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use crate::procs::Proc;

/// How long an apt-get step may take.
const APT_LIMIT: Duration = Duration::from_secs(300);

/// The path of `program` on `PATH` (or in the sbin folders), if any.
pub(super) fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var("PATH").unwrap_or_default();
    let found = path
        .split(':')
        .chain(["/usr/sbin", "/sbin", "/usr/local/sbin"])
        .map(|dir| PathBuf::from(dir).join(program))
        .find(|p| p.is_file());
    found
}

/// Makes sure every program in `programs` exists, installing `packages` with
/// `apt-get update` + `apt-get install -y` if one is missing.
pub(super) fn ensure(programs: &[&str], packages: &[&str]) -> Result<(), String> {
    if programs.iter().all(|p| which(p).is_some()) {
        return Ok(());
    }
    eprintln!(
        "bench files: installing {} with apt-get",
        packages.join(" ")
    );
    run_quiet(Command::new("apt-get").arg("update"), APT_LIMIT)?;
    run_quiet(
        Command::new("apt-get")
            .args(["install", "-y", "--no-install-recommends"])
            .args(packages)
            .env("DEBIAN_FRONTEND", "noninteractive"),
        APT_LIMIT,
    )?;
    match programs.iter().find(|p| which(p).is_none()) {
        Some(missing) => Err(format!("{missing} still missing after apt-get install")),
        None => Ok(()),
    }
}

/// Runs `cmd` with its output discarded; an error if it fails, cannot start, or runs
/// longer than `limit` (it is then killed).
pub(super) fn run_quiet(cmd: &mut Command, limit: Duration) -> Result<(), String> {
    let what = format!("{cmd:?}");
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("{what}: {e}"))?;
    let mut proc = Proc::new(child);
    match proc.wait_timeout(limit) {
        Some(status) if status.success() => Ok(()),
        Some(status) => Err(format!("{what}: {status}")),
        None => Err(format!("{what}: no answer within {} s", limit.as_secs())),
    }
}
