//! A real `redis-server` for cluster tests and benchmarks: started on a free loopback
//! port with a temporary directory and no persistence, stopped (killed) when dropped,
//! and restartable on the same port (empty again, as a Redis without persistence comes
//! back). `.ci/run` installs `redis-server`; a test that cannot find it fails and says
//! so.

use core::time::Duration;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::Instant;

use super::Proc;

/// How long Redis may take to start answering.
const START: Duration = Duration::from_secs(20);

/// A running `redis-server`.
pub struct RedisProc {
    proc: Option<Proc>,
    /// Its TCP port on 127.0.0.1.
    pub port: u16,
    dir: tempfile::TempDir,
}

impl RedisProc {
    /// Starts `redis-server` on a free port; panics (saying how to install it) if the
    /// binary is missing or does not start.
    pub fn start() -> RedisProc {
        let dir = tempfile::tempdir().expect("redis temp dir");
        for _ in 0..5 {
            let port = crate::client::free_port();
            if let Some(proc) = launch(port, dir.path()) {
                return RedisProc {
                    proc: Some(proc),
                    port,
                    dir,
                };
            }
        }
        panic!("redis-server did not start (is it installed? `apt-get install redis-server`)");
    }

    /// `redis://127.0.0.1:PORT`, for `peerchat-server --cluster`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Kills Redis (`SIGKILL`: nothing is saved).
    pub fn stop(&mut self) {
        if let Some(mut proc) = self.proc.take() {
            proc.signal(libc::SIGKILL);
            let _ = proc.wait_timeout(Duration::from_secs(10));
        }
    }

    /// Starts Redis again on the same port, empty.
    pub fn restart(&mut self) {
        self.stop();
        let deadline = Instant::now() + START;
        while Instant::now() < deadline {
            if let Some(proc) = launch(self.port, self.dir.path()) {
                self.proc = Some(proc);
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("redis-server did not start again on port {}", self.port);
    }

    /// Its process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.proc.as_ref().map(Proc::pid)
    }

    /// Sends one command (words without spaces or newlines) and returns the reply's
    /// text: a status, an error, an integer or a bulk string.
    pub fn command(&self, words: &[&str]) -> std::io::Result<String> {
        command(self.port, words)
    }

    /// Sends one command and returns its reply, arrays included.
    pub fn query(&self, words: &[&str]) -> std::io::Result<Resp> {
        query(self.port, words)
    }

    /// Calls per command since start (or the last `CONFIG RESETSTAT`), from
    /// `INFO commandstats`: `(command, calls)`, commands run inside scripts included.
    pub fn command_calls(&self) -> Vec<(String, u64)> {
        let info = self.command(&["INFO", "commandstats"]).unwrap_or_default();
        info.lines()
            .filter_map(|l| {
                let (name, rest) = l.strip_prefix("cmdstat_")?.split_once(':')?;
                let calls = rest
                    .strip_prefix("calls=")?
                    .split(',')
                    .next()?
                    .parse()
                    .ok()?;
                Some((name.to_owned(), calls))
            })
            .collect()
    }
}

impl Drop for RedisProc {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Starts `redis-server` on `port` and waits for it to answer `PING`.
fn launch(port: u16, dir: &std::path::Path) -> Option<Proc> {
    let child = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no", "--protected-mode", "no"])
        .args(["--loglevel", "warning", "--daemonize", "no"])
        .arg("--dir")
        .arg(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("cannot run redis-server ({e}); install it: `apt-get install redis-server`")
        });
    let mut proc = Proc::new(child);
    let deadline = Instant::now() + START;
    while Instant::now() < deadline {
        if !proc.is_running() {
            return None; // the port was taken after all
        }
        if command(port, &["PING"]).is_ok_and(|r| r == "PONG") {
            return Some(proc);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

/// A reply from Redis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resp {
    /// Nil.
    Nil,
    /// An integer.
    Int(i64),
    /// A status, an error or a bulk string.
    Text(String),
    /// An array.
    Array(Vec<Resp>),
}

impl Resp {
    /// The text of a status, error, bulk string or integer.
    pub fn text(&self) -> Option<String> {
        match self {
            Resp::Text(t) => Some(t.clone()),
            Resp::Int(n) => Some(n.to_string()),
            _ => None,
        }
    }

    /// Every bulk string of a (nested) array, depth first.
    pub fn texts(&self) -> Vec<String> {
        match self {
            Resp::Text(t) => vec![t.clone()],
            Resp::Array(items) => items.iter().flat_map(Resp::texts).collect(),
            _ => Vec::new(),
        }
    }
}

/// One command over a fresh connection, its reply as text.
fn command(port: u16, words: &[&str]) -> std::io::Result<String> {
    let reply = query(port, words)?;
    reply
        .text()
        .ok_or_else(|| std::io::Error::other(format!("not a text reply: {reply:?}")))
}

/// One command over a fresh connection.
pub fn query(port: u16, words: &[&str]) -> std::io::Result<Resp> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut request = format!("*{}\r\n", words.len());
    for w in words {
        request += &format!("${}\r\n{w}\r\n", w.len());
    }
    stream.write_all(request.as_bytes())?;
    read_reply(&mut BufReader::new(stream))
}

fn read_reply(reader: &mut impl BufRead) -> std::io::Result<Resp> {
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let line = line.trim_end();
    let bad = || std::io::Error::other(format!("unexpected reply {line:?}"));
    let number = || line[1..].parse::<i64>().map_err(|_| bad());
    match line.as_bytes().first() {
        Some(b'+' | b'-') => Ok(Resp::Text(line[1..].to_owned())),
        Some(b':') => Ok(Resp::Int(number()?)),
        Some(b'$') if number()? < 0 => Ok(Resp::Nil),
        Some(b'$') => {
            let len = usize::try_from(number()?).map_err(|_| bad())?;
            let mut body = vec![0u8; len + 2];
            reader.read_exact(&mut body)?;
            body.truncate(len);
            String::from_utf8(body).map(Resp::Text).map_err(|_| bad())
        }
        Some(b'*') if number()? < 0 => Ok(Resp::Nil),
        Some(b'*') => (0..number()?)
            .map(|_| read_reply(reader))
            .collect::<std::io::Result<Vec<_>>>()
            .map(Resp::Array),
        _ => Err(bad()),
    }
}
