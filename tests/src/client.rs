//! Real `peerchat --json` processes for end-to-end tests and benchmarks: spawn one,
//! write command lines to its stdin, and read its JSON events with deadlines. A client
//! is killed when dropped.

use core::net::SocketAddr;
use core::time::Duration;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use serde_json::Value;

use crate::procs::binary;
pub use crate::procs::ServerProc;

/// How long a test waits for an event it expects before failing.
pub const DEADLINE: Duration = Duration::from_secs(20);

/// The `peerchat` binary.
pub fn peerchat_bin() -> PathBuf {
    binary("peerchat", "peerchat")
}

/// A running `peerchat --json`.
pub struct ChatClient {
    /// The login name it was started with.
    pub name: String,
    child: Child,
    stdin: Option<ChildStdin>,
    events: Receiver<Value>,
    stderr: Arc<Mutex<Stderr>>,
    /// Every event read so far, in order.
    pub seen: Vec<Value>,
    /// The UDP address from its `ready` event, once seen.
    pub udp: Option<SocketAddr>,
    /// Its downloads folder (a fresh temporary one unless the options name one).
    pub downloads: PathBuf,
    _downloads: Option<tempfile::TempDir>,
}

/// How to start a client.
#[derive(Debug, Clone, Default)]
pub struct ClientOptions {
    /// `--server`; `None` leaves it out (the embedded-server default).
    pub server: Option<SocketAddr>,
    /// More arguments.
    pub extra: Vec<String>,
    /// Environment variables to set.
    pub env: Vec<(String, String)>,
    /// Start the `--plain` face instead of `--json`: every line then reads as
    /// `{"event": "not_json", "line": LINE}`.
    pub plain: bool,
}

impl ChatClient {
    /// Starts `peerchat --json --name NAME --server SERVER`.
    pub fn spawn(server: SocketAddr, name: &str) -> io::Result<ChatClient> {
        let options = ClientOptions {
            server: Some(server),
            ..ClientOptions::default()
        };
        Self::spawn_with(name, &options)
    }

    /// Starts `peerchat --json --name NAME` with `options`.
    pub fn spawn_with(name: &str, options: &ClientOptions) -> io::Result<ChatClient> {
        let mut cmd = Command::new(peerchat_bin());
        let face = if options.plain { "--plain" } else { "--json" };
        cmd.args([face, "--name", name]);
        if let Some(server) = options.server {
            cmd.arg("--server").arg(server.to_string());
        }
        cmd.args(&options.extra);
        let own_downloads = !options.extra.iter().any(|a| a == "--downloads");
        let temp = if own_downloads {
            Some(tempfile::tempdir()?)
        } else {
            None
        };
        let downloads = match &temp {
            Some(dir) => {
                cmd.arg("--downloads").arg(dir.path());
                dir.path().to_path_buf()
            }
            None => PathBuf::new(),
        };
        for (k, v) in &options.env {
            cmd.env(k, v);
        }
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn()?;
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("piped stdout");
        let stderr = child.stderr.take().expect("piped stderr");
        Ok(ChatClient {
            name: name.to_owned(),
            child,
            stdin,
            events: spawn_event_reader(stdout),
            stderr: spawn_text_reader(stderr),
            seen: Vec::new(),
            udp: None,
            downloads,
            _downloads: temp,
        })
    }

    /// Writes one command line to the client's stdin.
    pub fn command(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin still open");
        writeln!(stdin, "{line}").expect("write to client stdin");
        stdin.flush().expect("flush client stdin");
    }

    /// Closes the client's stdin (it then logs out).
    pub fn close_stdin(&mut self) {
        self.stdin = None;
    }

    /// The next event, waiting at most `timeout`.
    pub fn next_event(&mut self, timeout: Duration) -> Option<Value> {
        match self.events.recv_timeout(timeout) {
            Ok(event) => {
                self.seen.push(event.clone());
                Some(event)
            }
            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => None,
        }
    }

    /// Reads events until one satisfies `pred`; panics (naming what it saw) after
    /// [`DEADLINE`].
    pub fn expect(&mut self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        self.try_expect(DEADLINE, pred).unwrap_or_else(|| {
            panic!(
                "{}: no {what} within {DEADLINE:?}; saw {:#?}; stderr: {}",
                self.name,
                self.seen,
                self.stderr()
            )
        })
    }

    /// Reads events until one satisfies `pred` or `timeout` passes.
    pub fn try_expect(
        &mut self,
        timeout: Duration,
        pred: impl Fn(&Value) -> bool,
    ) -> Option<Value> {
        let end = Instant::now() + timeout;
        loop {
            let left = end.checked_duration_since(Instant::now())?;
            let event = self.next_event(left)?;
            if pred(&event) {
                return Some(event);
            }
        }
    }

    /// Waits for an event named `kind`.
    pub fn expect_event(&mut self, kind: &str) -> Value {
        self.expect(kind, |e| e["event"] == kind)
    }

    /// Waits for `ready` and returns the client's UDP address.
    pub fn expect_ready(&mut self) -> SocketAddr {
        let ready = self.expect_event("ready");
        let udp = ready["udp"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("{}: bad ready event {ready}", self.name));
        self.udp = Some(udp);
        udp
    }

    /// Waits until the `peers`, `joined` and `left` events read so far, and those that
    /// follow, show everyone in `names` online. (After a reconnect, first wait for the
    /// fresh `peers` event, or the list from before the outage counts.)
    pub fn expect_peers(&mut self, names: &[&str]) {
        // What the events read so far say, then what comes next.
        let mut online: Vec<String> = Vec::new();
        for event in &self.seen {
            apply_presence(&mut online, event);
        }
        let all_there = |online: &Vec<String>| names.iter().all(|n| online.iter().any(|o| o == n));
        let end = Instant::now() + DEADLINE;
        while !all_there(&online) {
            let left = end.saturating_duration_since(Instant::now());
            let Some(event) = self.next_event(left) else {
                panic!(
                    "{}: {names:?} not all online within {DEADLINE:?}; saw {:#?}",
                    self.name, self.seen
                );
            };
            apply_presence(&mut online, &event);
        }
    }

    /// Waits for the process to exit (and for its stderr to be read to the end).
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let end = Instant::now() + timeout;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                while !self.stderr_lock().closed && Instant::now() < end {
                    std::thread::sleep(Duration::from_millis(5));
                }
                return Some(status);
            }
            if Instant::now() > end {
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Everything the client wrote to stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr_lock().text.clone()
    }

    fn stderr_lock(&self) -> std::sync::MutexGuard<'_, Stderr> {
        self.stderr.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for ChatClient {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Updates a list of online names from a `peers`, `joined` or `left` event.
pub fn apply_presence(online: &mut Vec<String>, event: &Value) {
    let name = |v: &Value| v["name"].as_str().unwrap_or_default().to_owned();
    match event["event"].as_str() {
        Some("peers") => {
            *online = event["peers"]
                .as_array()
                .map(|a| a.iter().map(name).collect())
                .unwrap_or_default();
        }
        Some("joined") => online.push(name(event)),
        Some("left") => online.retain(|n| *n != name(event)),
        _ => {}
    }
}

fn spawn_event_reader(stdout: impl Read + Send + 'static) -> Receiver<Value> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            let event = serde_json::from_str(&line)
                .unwrap_or_else(|_| serde_json::json!({ "event": "not_json", "line": line }));
            if tx.send(event).is_err() {
                break;
            }
        }
    });
    rx
}

/// A child's stderr as read so far.
#[derive(Debug, Default)]
struct Stderr {
    text: String,
    /// The pipe reached its end.
    closed: bool,
}

fn spawn_text_reader(stderr: impl Read + Send + 'static) -> Arc<Mutex<Stderr>> {
    let text = Arc::new(Mutex::new(Stderr::default()));
    let sink = Arc::clone(&text);
    std::thread::spawn(move || {
        let lock = || sink.lock().unwrap_or_else(|e| e.into_inner());
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            let mut sink = lock();
            sink.text.push_str(&line);
            sink.text.push('\n');
        }
        lock().closed = true;
    });
    text
}

/// A free loopback port for both TCP and UDP (the directory server uses the same port
/// number for its UDP probe socket).
pub fn free_port() -> u16 {
    loop {
        let tcp = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
        let port = tcp.local_addr().expect("local addr").port();
        if std::net::UdpSocket::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// A hand-driven peer for hostile tests: logs in to the directory over TCP like a
/// client, then sends whatever datagrams the test writes from its registered UDP socket.
pub struct RawPeer {
    /// Its directory id.
    pub id: peerchat_proto::wire::PeerId,
    /// Its UDP socket (the address the directory publishes for it).
    pub udp: std::net::UdpSocket,
    _control: std::net::TcpStream,
}

impl RawPeer {
    /// Logs in as `name`; panics if the server refuses or says nothing in time.
    pub fn log_in(server: SocketAddr, name: &str) -> RawPeer {
        use peerchat_proto::wire::{encode_client_frame, ClientMsg, Feed, FrameDecoder, ServerMsg};
        let udp = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind udp");
        let udp_port = udp.local_addr().expect("udp addr").port();
        let mut control = std::net::TcpStream::connect(server).expect("connect");
        control.set_read_timeout(Some(DEADLINE)).expect("timeout");
        let mut frame = [0u8; 64];
        let len = encode_client_frame(&ClientMsg::Hello { name, udp_port }, &mut frame)
            .expect("encode hello");
        control.write_all(&frame[..len]).expect("send hello");
        let mut decoder = FrameDecoder::<4096>::new();
        let mut buf = [0u8; 4096];
        loop {
            let n = control.read(&mut buf).expect("read welcome");
            assert!(n > 0, "server closed before Welcome");
            let mut rest = &buf[..n];
            while let Feed::Frame { msg, rest: after } = decoder.feed::<ServerMsg<'_>>(rest) {
                if let Ok(ServerMsg::Welcome { id, .. }) = msg {
                    return RawPeer {
                        id,
                        udp,
                        _control: control,
                    };
                }
                rest = after;
            }
        }
    }
}

/// A fresh server and `names` logged in, each having seen all the others online.
pub fn chat_room(names: &[&str]) -> (ServerProc, Vec<ChatClient>) {
    let server = ServerProc::start(&[]);
    let mut clients: Vec<ChatClient> = names
        .iter()
        .map(|n| ChatClient::spawn(server.addr, n).expect("spawn peerchat"))
        .collect();
    for c in &mut clients {
        c.expect_ready();
    }
    for c in &mut clients {
        let others: Vec<&str> = names.iter().copied().filter(|n| *n != c.name).collect();
        c.expect_peers(&others);
    }
    (server, clients)
}
