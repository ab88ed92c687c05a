//! Spawning the built binaries for end-to-end tests and benchmarks, and reading their
//! resource use from `/proc`.
//!
//! Binaries of other packages are not visible through `CARGO_BIN_EXE_*`, so
//! [`binary`] runs `cargo build` for them once per test process (same profile as the
//! caller) and returns the path under the workspace's target directory. Every spawned
//! process is killed when its handle drops.

pub mod dirclient;
pub mod redis;

use core::net::SocketAddr;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ lives in the workspace")
        .to_path_buf()
}

/// Builds (once per process) and returns the path of binary `bin` of package `package`,
/// in the profile this code was built with.
pub fn binary(package: &str, bin: &str) -> PathBuf {
    static BUILT: OnceLock<Mutex<Vec<String>>> = OnceLock::new();
    let release = !cfg!(debug_assertions);
    let built = BUILT.get_or_init(|| Mutex::new(Vec::new()));
    let mut built = built.lock().unwrap_or_else(|e| e.into_inner());
    if !built.iter().any(|b| b == bin) {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut cmd = Command::new(cargo);
        cmd.current_dir(workspace())
            .args(["build", "--quiet", "-p", package, "--bin", bin]);
        if release {
            cmd.arg("--release");
        }
        let status = cmd.status().expect("run cargo build");
        assert!(
            status.success(),
            "cargo build -p {package} --bin {bin} failed"
        );
        built.push(bin.to_string());
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("target"));
    target
        .join(if release { "release" } else { "debug" })
        .join(bin)
}

/// A child process that is killed when dropped.
pub struct Proc {
    child: Child,
}

impl Proc {
    /// Wraps a spawned child.
    pub fn new(child: Child) -> Self {
        Proc { child }
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends a signal (e.g. `libc::SIGTERM`).
    pub fn signal(&self, sig: i32) {
        let pid = libc::pid_t::try_from(self.pid()).expect("pid fits");
        // SAFETY: kill(2) with a pid we spawned and still own (not yet reaped).
        unsafe {
            libc::kill(pid, sig);
        }
    }

    /// Waits for the exit status, at most `timeout`; `None` if still running.
    pub fn wait_timeout(
        &mut self,
        timeout: core::time::Duration,
    ) -> Option<std::process::ExitStatus> {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            if std::time::Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(core::time::Duration::from_millis(10));
        }
    }

    /// Whether it is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A running `peerchat-server` with its address and a file collecting its log. It can
/// be stopped and started again on the same address (a server restart).
pub struct ServerProc {
    /// The process.
    pub proc: Proc,
    /// Where it listens (TCP and UDP).
    pub addr: SocketAddr,
    args: Vec<String>,
    fds: Option<u64>,
    log: tempfile::NamedTempFile,
}

impl ServerProc {
    /// Starts `peerchat-server --listen 127.0.0.1:0` plus `args`, and waits until it
    /// prints its address.
    pub fn start(args: &[&str]) -> Self {
        Self::spawn(args, None)
    }

    /// Like [`ServerProc::start`] with the server's open-file limit set to `fds`.
    pub fn start_with_fd_limit(args: &[&str], fds: u64) -> Self {
        Self::spawn(args, Some(fds))
    }

    fn spawn(args: &[&str], fds: Option<u64>) -> Self {
        let log = tempfile::NamedTempFile::new().expect("log file");
        let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        let (proc, addr) = launch("127.0.0.1:0", &args, fds, &log);
        ServerProc {
            proc,
            addr,
            args,
            fds,
            log,
        }
    }

    /// Kills the server (its clients see their connections drop).
    pub fn stop(&mut self) {
        self.proc.signal(libc::SIGKILL);
        let _ = self.proc.wait_timeout(core::time::Duration::from_secs(10));
    }

    /// Stops the server and starts it again on the same address, with the same
    /// arguments; its log goes on in the same file.
    pub fn restart(&mut self) {
        self.stop();
        let (proc, addr) = launch(&self.addr.to_string(), &self.args, self.fds, &self.log);
        assert_eq!(addr, self.addr, "the restarted server moved");
        self.proc = proc;
    }

    /// Everything the server logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log.path()).unwrap_or_default()
    }

    /// Whether the process is still running.
    pub fn proc_running(&self) -> bool {
        std::fs::metadata(format!("/proc/{}", self.proc.pid())).is_ok()
            && !std::fs::read_to_string(format!("/proc/{}/stat", self.proc.pid()))
                .unwrap_or_default()
                .contains(") Z")
    }

    /// Resident memory in KiB.
    pub fn rss_kib(&self) -> u64 {
        rss_kib(self.proc.pid())
    }
}

/// Resident set size of `pid` in KiB (`VmRSS` of `/proc/PID/status`), 0 if unknown.
pub fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// User plus system CPU seconds used by `pid` (`/proc/PID/stat`), 0 if unknown.
pub fn cpu_secs(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
        return 0.0;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = [11, 12]
        .iter()
        .filter_map(|&i| fields.get(i).and_then(|f| f.parse::<u64>().ok()))
        .sum();
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1);
    ticks as f64 / hz as f64
}

/// Raises this process's open-file limit to its hard limit; returns the new soft limit.
pub fn raise_fd_limit() -> u64 {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit with a valid, initialised struct.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return 0;
        }
        lim.rlim_cur = lim.rlim_max;
        libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim);
    }
    lim.rlim_cur
}

/// Spawns `peerchat-server --listen LISTEN ARGS…` logging (appending) to `log`, and
/// reads the address it prints.
fn launch(
    listen: &str,
    args: &[String],
    fds: Option<u64>,
    log: &tempfile::NamedTempFile,
) -> (Proc, SocketAddr) {
    use std::os::unix::process::CommandExt;
    let log = std::fs::OpenOptions::new()
        .append(true)
        .open(log.path())
        .expect("log file");
    let mut cmd = Command::new(binary("peerchat-server", "peerchat-server"));
    cmd.args(["--listen", listen])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log);
    if let Some(fds) = fds {
        let lim = libc::rlimit {
            rlim_cur: fds as libc::rlim_t,
            rlim_max: fds as libc::rlim_t,
        };
        // SAFETY: setrlimit is async-signal-safe and only touches the child.
        unsafe {
            cmd.pre_exec(move || {
                libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
                Ok(())
            });
        }
    }
    let mut child = cmd.spawn().expect("spawn peerchat-server");
    let stdout = child.stdout.take().expect("piped stdout");
    let proc = Proc::new(child);
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("read server address");
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"));
    (proc, addr)
}
