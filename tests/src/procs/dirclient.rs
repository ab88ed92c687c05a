//! Small directory clients for tests and benchmarks, built on the proto core.
//!
//! [`DirClient`] runs the real [`Client`] state machine over a tokio TCP stream (the
//! same decisions the `peerchat` binary makes) and exposes what it sees as a [`View`].
//! [`wait_until`] polls a condition with a deadline, so tests never sleep blindly.

use core::net::SocketAddr;
use core::time::Duration;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant as StdInstant;

use peerchat_proto::control::client::{Action, Client, ClientConfig, ClientEvent};
use peerchat_proto::roster::RosterEvent;
use peerchat_proto::wire::{PeerId, RejectReason, MAX_CLIENT_FRAME};
use peerchat_proto::Instant;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

/// Roster capacity of test clients.
pub const CAPACITY: usize = 1024;

/// What one test client has seen.
#[derive(Debug, Default, Clone)]
pub struct View {
    /// Logged in right now.
    pub online: bool,
    /// Our id, once logged in.
    pub id: Option<PeerId>,
    /// The roster: id → name.
    pub peers: BTreeMap<u32, String>,
    /// Whether the roster is synced.
    pub synced: bool,
    /// Names that `Left`, in order.
    pub left: Vec<String>,
    /// Names that `Joined`, in order.
    pub joined: Vec<String>,
    /// How many times we logged in.
    pub logins: usize,
    /// How many times the connection was lost.
    pub disconnects: usize,
    /// Set when the server refused the login for good.
    pub rejected: Option<RejectReason>,
    /// Set when the client stopped.
    pub stopped: bool,
}

impl View {
    /// The roster's names, sorted.
    pub fn names(&self) -> Vec<String> {
        let mut v: Vec<String> = self.peers.values().cloned().collect();
        v.sort();
        v
    }
}

/// A test client driven by its own tokio task.
pub struct DirClient {
    view: Arc<Mutex<View>>,
    quit: Arc<Notify>,
    task: JoinHandle<()>,
}

impl DirClient {
    /// Starts a client that logs in as `name` at `server` (and reconnects on its own).
    pub fn spawn(server: SocketAddr, name: &str, seed: u64) -> Self {
        let mut config = ClientConfig::new(seed);
        config.backoff_min = peerchat_proto::Duration::from_millis(50);
        config.backoff_max = peerchat_proto::Duration::from_millis(500);
        Self::spawn_with(server, name, config)
    }

    /// Like [`DirClient::spawn`] with explicit settings.
    pub fn spawn_with(server: SocketAddr, name: &str, config: ClientConfig) -> Self {
        let client = Client::<CAPACITY>::new(name, 9, config).expect("valid test name");
        let view = Arc::new(Mutex::new(View::default()));
        let quit = Arc::new(Notify::new());
        let task = tokio::spawn(drive(
            server,
            Box::new(client),
            Arc::clone(&view),
            Arc::clone(&quit),
        ));
        DirClient { view, quit, task }
    }

    /// What it has seen so far.
    pub fn view(&self) -> MutexGuard<'_, View> {
        self.view.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Says `Bye` and stops.
    pub fn quit(&self) {
        self.quit.notify_one();
    }

    /// Vanishes without a word: the task stops and the socket closes.
    pub fn kill(&self) {
        self.task.abort();
    }
}

impl Drop for DirClient {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Polls `cond` every 10 ms until it holds (`true`) or `timeout` passes (`false`).
pub async fn wait_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = StdInstant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if StdInstant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn drive(
    server: SocketAddr,
    mut client: Box<Client<CAPACITY>>,
    view: Arc<Mutex<View>>,
    quit: Arc<Notify>,
) {
    let origin = StdInstant::now();
    let now = move || Instant::from_micros(origin.elapsed().as_micros() as u64);
    let mut stream: Option<TcpStream> = None;
    let mut rbuf = vec![0u8; 16 * 1024];
    let mut wbuf = [0u8; MAX_CLIENT_FRAME];
    loop {
        client.handle_timeout(now());
        while let Some(action) = client.poll_action() {
            match action {
                Action::Connect => {
                    let attempt =
                        tokio::time::timeout(Duration::from_secs(2), TcpStream::connect(server));
                    match attempt.await {
                        Ok(Ok(s)) => {
                            stream = Some(s);
                            client.handle_connected(now());
                        }
                        _ => client.handle_connect_failed(now()),
                    }
                }
                Action::Close => stream = None,
            }
        }
        while let Some(Ok(n)) = client.poll_transmit(&mut wbuf) {
            if let Some(s) = stream.as_mut() {
                if s.write_all(&wbuf[..n]).await.is_err() {
                    stream = None;
                    client.handle_disconnected(now());
                }
            }
        }
        drain(&mut client, &view);
        if client.is_stopped() && stream.is_none() {
            return;
        }
        let wake = client
            .poll_timeout()
            .map(|t| origin + Duration::from_micros(t.as_micros()));
        let sleep = tokio::time::sleep_until(
            wake.map(tokio::time::Instant::from_std)
                .unwrap_or_else(|| tokio::time::Instant::now() + Duration::from_secs(3600)),
        );
        tokio::select! {
            r = read(stream.as_mut(), &mut rbuf) => match r {
                Some(n) if n > 0 => feed(&mut client, &view, now(), &rbuf[..n]),
                _ => {
                    stream = None;
                    client.handle_disconnected(now());
                }
            },
            () = sleep => {}
            () = quit.notified() => client.quit(),
        }
    }
}

async fn read(stream: Option<&mut TcpStream>, buf: &mut [u8]) -> Option<usize> {
    match stream {
        Some(s) => s.read(buf).await.ok(),
        None => core::future::pending().await,
    }
}

fn feed(client: &mut Client<CAPACITY>, view: &Mutex<View>, now: Instant, bytes: &[u8]) {
    let mut rest = bytes;
    while !rest.is_empty() {
        let used = client.handle_bytes(now, rest);
        rest = &rest[used..];
        drain(client, view);
    }
}

fn drain(client: &mut Client<CAPACITY>, view: &Mutex<View>) {
    let mut v = view.lock().unwrap_or_else(|e| e.into_inner());
    let mut resynced = false;
    while let Some(event) = client.poll_event() {
        match event {
            ClientEvent::LoggedIn { id, .. } => {
                v.online = true;
                v.id = Some(id);
                v.logins += 1;
            }
            ClientEvent::Rejected(r) => v.rejected = Some(r),
            ClientEvent::Disconnected(_) => {
                v.online = false;
                v.disconnects += 1;
            }
            ClientEvent::Stopped => v.stopped = true,
            ClientEvent::Observed(_) => {}
            ClientEvent::Roster(r) => match r {
                RosterEvent::Joined(p) => {
                    let name = p.name.as_str().to_string();
                    v.peers.insert(p.id.0, name.clone());
                    v.joined.push(name);
                }
                RosterEvent::Left(p) => {
                    v.peers.remove(&p.id.0);
                    v.left.push(p.name.as_str().to_string());
                }
                RosterEvent::Moved(_) => {}
                RosterEvent::Synced { .. } => resynced = true,
            },
        }
    }
    v.synced = client.roster().is_synced() && client.is_online();
    v.stopped |= client.is_stopped();
    if resynced {
        v.peers = client
            .roster()
            .iter()
            .map(|p| (p.id.0, p.name.as_str().to_string()))
            .collect();
    }
}
