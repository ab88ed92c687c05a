//! The raw TCP rows: one loopback connection, the sender reads the file and writes it to
//! the socket, the receiver reads the socket and writes a file (256 KiB buffers, no
//! tricks), both bounded by the row's time limit. The fsynced variant also waits until
//! the received file is on disk, as Peerchat does before it reports a file received.

use core::time::Duration;
use std::fs::File;
use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Instant;

use super::loss::Firewall;
use super::{checked, left, Outcome, Setup, LOSS};

const BUF: usize = 256 << 10;
/// How long one blocking socket call waits before the deadline is checked again.
const TICK: Duration = Duration::from_millis(200);

/// Copies the source over TCP (with random loss through `loss` if given); with `sync`,
/// the copy ends once the received file is fsynced.
pub(super) fn copy(setup: &Setup<'_>, loss: Option<&Firewall>, sync: bool) -> Outcome {
    eprintln!(
        "bench files: raw TCP copy{}{}",
        if sync { " + fsync" } else { "" },
        if loss.is_some() { " (loss)" } else { "" }
    );
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let mut rules = loss.map(Firewall::rules);
    if let Some(rules) = rules.as_mut() {
        for side in ["--dport", "--sport"] {
            if let Err(why) = rules.drop_random("tcp", side, port, LOSS) {
                return Outcome::Skipped(format!("iptables: {why}"));
            }
        }
    }
    let dest = setup.scratch.join("tcp-received.txt");
    let start = Instant::now();
    let end = start + setup.limit;
    let sender = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    let (receiver, _) = listener.accept().expect("accept");
    let path = setup.source.path.clone();
    let sending = std::thread::spawn(move || send(&path, sender, end));
    let received = receive(receiver, &dest, setup.source.bytes, end, sync);
    let took = start.elapsed();
    // The receiver reports; the sender ends on its own error or at the deadline.
    let _ = sending.join();
    drop(rules);
    let outcome = match received {
        Ok(true) => checked(setup.source, &dest, took),
        Ok(false) => Outcome::Timeout,
        Err(why) => Outcome::Failed(why),
    };
    let _ = std::fs::remove_file(&dest);
    outcome
}

/// Writes the file to the socket until done or `end`; errors end it quietly (the
/// receiver reports).
fn send(path: &std::path::Path, mut sock: TcpStream, end: Instant) -> Result<(), String> {
    sock.set_write_timeout(Some(TICK))
        .map_err(|e| e.to_string())?;
    let mut file = File::open(path).map_err(|e| e.to_string())?;
    let mut buf = vec![0u8; BUF];
    loop {
        let n = file.read(&mut buf).map_err(|e| e.to_string())?;
        if n == 0 {
            return Ok(());
        }
        let mut at = 0;
        while at < n {
            if left(end).is_none() {
                return Err("timeout".to_owned());
            }
            match sock.write(&buf[at..n]) {
                Ok(w) => at += w,
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e.to_string()),
            }
        }
    }
}

/// Reads `bytes` bytes into `dest` (and fsyncs it with `sync`); `Ok(false)` if `end`
/// came first.
fn receive(
    mut sock: TcpStream,
    dest: &std::path::Path,
    bytes: u64,
    end: Instant,
    sync: bool,
) -> Result<bool, String> {
    sock.set_read_timeout(Some(TICK))
        .map_err(|e| e.to_string())?;
    let mut file = File::create(dest).map_err(|e| e.to_string())?;
    let mut buf = vec![0u8; BUF];
    let mut got = 0u64;
    while got < bytes {
        if left(end).is_none() {
            return Ok(false);
        }
        match sock.read(&mut buf) {
            Ok(0) => return Err(format!("connection closed after {got} bytes")),
            Ok(n) => {
                file.write_all(&buf[..n]).map_err(|e| e.to_string())?;
                got += n as u64;
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e.to_string()),
        }
    }
    if sync {
        file.sync_all().map_err(|e| e.to_string())?;
    }
    Ok(true)
}
