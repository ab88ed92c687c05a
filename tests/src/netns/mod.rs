//! Network namespaces for tests through real NATs: an "internet" namespace, private LANs
//! behind NAT router namespaces (Linux conntrack and `iptables -t nat … MASQUERADE`, with
//! `--random-fully` for a symmetric NAT), veth pairs, processes and sockets inside a
//! namespace, and a router's UDP mapping timeout shortened. Everything a [`Topology`]
//! made is deleted when it drops, a panic included; what a killed test left behind (its
//! names carry its process id) is deleted by the next one.
//!
//! Names start with [`PREFIX`], the process id and a per-process counter, so parallel
//! tests and other suites' namespaces never collide. Interfaces are created inside their
//! namespaces (never in the host's), and every address is inside the namespaces:
//! `198.18.0.0/15` (the benchmarking range) for the internet, `10.0.0.0/16` for LANs.
//!
//! This needs root, `ip` (iproute2) and `iptables`; [`unavailable`] says why not, and
//! tests then skip with a notice. `.ci/run` installs the tools and runs as root.

mod topology;

pub use topology::{Lan, NatConfig, NatKind, Topology, INTERNET_SERVER};

use core::sync::atomic::{AtomicU32, Ordering};
use std::fs::File;
use std::os::fd::AsRawFd;
use std::process::{Command, Stdio};

/// Every namespace this module makes is named `PREFIX<pid>x<n>-<role>`.
pub const PREFIX: &str = "pcnat";

/// Why namespace tests cannot run here, or `None` if they can.
pub fn unavailable() -> Option<String> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        return Some("not running as root".into());
    }
    for tool in ["ip", "iptables"] {
        let found = Command::new(tool)
            .arg("-V")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !found {
            return Some(format!("`{tool}` is not installed"));
        }
    }
    None
}

/// Runs `program args…` and returns its stdout, or an error naming the command and
/// its stderr.
pub fn run(program: &str, args: &[&str]) -> Result<String, String> {
    let out = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{program} {}: {e}", args.join(" ")))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(format!("{program} {}: {}", args.join(" "), err.trim()));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// A network namespace this process made; deleted when dropped.
#[derive(Debug)]
pub struct Netns {
    name: String,
}

impl Netns {
    /// Makes a namespace for `role` (a few letters) with its loopback up.
    pub fn create(role: &str) -> Result<Netns, String> {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let name = format!("{PREFIX}{}x{n}-{role}", std::process::id());
        run("ip", &["netns", "add", &name])?;
        let ns = Netns { name };
        ns.ip(&["link", "set", "lo", "up"])?;
        Ok(ns)
    }

    /// Its name (for `ip -n` and `ip netns exec`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Runs `ip ARGS…` on this namespace.
    pub fn ip(&self, args: &[&str]) -> Result<String, String> {
        let mut all = vec!["-n", self.name.as_str()];
        all.extend_from_slice(args);
        run("ip", &all)
    }

    /// Runs `program args…` inside the namespace and waits for it.
    pub fn exec(&self, program: &str, args: &[&str]) -> Result<String, String> {
        let mut all = vec!["netns", "exec", self.name.as_str(), program];
        all.extend_from_slice(args);
        run("ip", &all)
    }

    /// A command that runs `program` inside the namespace (`ip netns exec` execs it, so
    /// the child's pid is the program's).
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.name]).arg(program);
        cmd
    }

    /// Sets sysctl `key` to `value` inside the namespace.
    pub fn sysctl(&self, key: &str, value: &str) -> Result<(), String> {
        self.exec("sysctl", &["-qw", &format!("{key}={value}")])
            .map(drop)
    }

    /// Runs `f` on a thread inside the namespace: sockets it opens belong there, and
    /// keep working from any thread afterwards.
    pub fn enter<T: Send>(&self, f: impl FnOnce() -> T + Send) -> Result<T, String> {
        let path = format!("/var/run/netns/{}", self.name);
        let ns = File::open(&path).map_err(|e| format!("{path}: {e}"))?;
        std::thread::scope(|s| {
            s.spawn(|| {
                // SAFETY: setns with a namespace file held open; it moves only this
                // thread, which ends after `f`.
                let entered = unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) };
                if entered != 0 {
                    return Err(format!("setns {path}: {}", std::io::Error::last_os_error()));
                }
                Ok(f())
            })
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        })
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = run("ip", &["netns", "del", &self.name]);
    }
}

/// Deletes namespaces of this module left by processes that are gone.
pub fn remove_stale() {
    let Ok(list) = run("ip", &["netns", "list"]) else {
        return;
    };
    for name in list.lines().filter_map(|l| l.split_whitespace().next()) {
        let pid = name
            .strip_prefix(PREFIX)
            .and_then(|rest| rest.split('x').next())
            .and_then(|pid| pid.parse::<u32>().ok());
        if let Some(pid) = pid {
            if std::fs::metadata(format!("/proc/{pid}")).is_err() {
                let _ = run("ip", &["netns", "del", name]);
            }
        }
    }
}
