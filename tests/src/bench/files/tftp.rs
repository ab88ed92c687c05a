//! The TFTP row: `in.tftpd` (tftpd-hpa) on 127.0.0.1 and a free port, serving a fresh
//! root folder holding a hard link to the source file, and `atftp --option "blksize
//! 1428" --get` fetching it. Both are installed with apt-get if missing; the row is
//! skipped if that fails.

use core::time::Duration;
use std::net::UdpSocket;
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};
use std::time::Instant;

use super::system::{ensure, which};
use super::{checked, left, Outcome, Setup};
use crate::procs::Proc;

/// Fetches the source over TFTP.
pub(super) fn get(setup: &Setup<'_>) -> Outcome {
    eprintln!("bench files: TFTP");
    if let Err(why) = ensure(&["in.tftpd", "atftp"], &["tftpd-hpa", "atftp"]) {
        return Outcome::Skipped(why);
    }
    let (Some(tftpd), Some(atftp)) = (which("in.tftpd"), which("atftp")) else {
        return Outcome::Skipped("in.tftpd or atftp not found".to_owned());
    };
    let root = tempfile::tempdir_in(setup.scratch).expect("tftp root");
    // The server may drop to an unprivileged user: let it in.
    let _ = std::fs::set_permissions(root.path(), std::fs::Permissions::from_mode(0o755));
    std::fs::hard_link(&setup.source.path, root.path().join("bench.txt"))
        .expect("link the source into the tftp root");
    let port = free_udp_port();
    let server = Command::new(tftpd)
        .args(["--foreground", "--secure", "--user", "root", "--address"])
        .arg(format!("127.0.0.1:{port}"))
        .arg(root.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    let _server = match server {
        Ok(child) => Proc::new(child),
        Err(e) => return Outcome::Failed(format!("in.tftpd: {e}")),
    };
    if !wait_bound(port, Duration::from_secs(5)) {
        return Outcome::Failed("in.tftpd did not bind its port".to_owned());
    }
    let dest = setup.scratch.join("tftp-received.txt");
    let start = Instant::now();
    let client = Command::new(atftp)
        .args(["--option", "blksize 1428", "--get", "-r", "bench.txt", "-l"])
        .arg(&dest)
        .args(["127.0.0.1", &port.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    let mut client = match client {
        Ok(child) => Proc::new(child),
        Err(e) => return Outcome::Failed(format!("atftp: {e}")),
    };
    let outcome = match client.wait_timeout(setup.limit) {
        None => Outcome::Timeout,
        Some(status) if !status.success() => Outcome::Failed(format!("atftp: {status}")),
        Some(_) => checked(setup.source, &dest, start.elapsed()),
    };
    let _ = std::fs::remove_file(&dest);
    outcome
}

/// A UDP port nothing on 127.0.0.1 uses right now.
fn free_udp_port() -> u16 {
    let sock = UdpSocket::bind("127.0.0.1:0").expect("bind");
    sock.local_addr().expect("addr").port()
}

/// Polls until something holds UDP `port` on 127.0.0.1 (binding it fails).
fn wait_bound(port: u16, limit: Duration) -> bool {
    let end = Instant::now() + limit;
    while left(end).is_some() {
        if UdpSocket::bind(("127.0.0.1", port)).is_err() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}
