//! The engine: one task that owns the protocol core ([`peerchat_proto::client::Client`])
//! and feeds it from the control connection, the UDP socket, a timer set to the core's
//! `poll_timeout()`, and the face's commands. After every input it drains the core:
//! control frames to the TCP connection, datagrams to the UDP socket, events to the face.
//! Every protocol decision (heartbeats, reconnect backoff, retries) is the core's.

mod control;
mod core_events;
mod files;
mod udp;
mod user;

use core::net::SocketAddr;
use std::io;
use std::time::Instant as StdInstant;

use peerchat_proto::client::{ClientConfig, HostClient};
use peerchat_proto::wire::{CancelReason, RejectReason, MAX_CLIENT_FRAME};
use peerchat_proto::Instant;
use tokio::io::AsyncWriteExt;
use tokio::net::tcp::OwnedWriteHalf;
use tokio::sync::mpsc;
use tokio::task::AbortHandle;

use crate::command::{Command, Target};
use crate::event::UiEvent;
use crate::files::{FileOptions, Files};
use control::ControlInput;
use files::Prepared;
use udp::{Fit, RecvBuffers, SendBatch, Udp};

/// The client core as this host instantiates it.
pub(crate) type Core = HostClient;

/// How long `/quit` waits for the `Bye` to go out before giving up.
const QUIT_GRACE: core::time::Duration = core::time::Duration::from_secs(1);

/// What the engine needs to start.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    /// Login name.
    pub(crate) name: String,
    /// Directory servers, tried in order (the core picks; see `Client::server`).
    pub(crate) servers: Vec<SocketAddr>,
    /// Start the directory server in-process if nothing listens at `server`.
    pub(crate) embed: bool,
    /// Local UDP port (0 = any).
    pub(crate) udp_port: u16,
    /// Receiving files: folder, size limit, accept policy.
    pub(crate) files: FileOptions,
}

/// Why the engine stopped before the user quit.
#[derive(Debug)]
pub(crate) enum Fatal {
    /// The server refused the login.
    Rejected(RejectReason),
    /// The login name breaks the name rules (checked before connecting).
    InvalidName(String),
    /// The UDP socket could not be opened on this port.
    Udp(u16, io::Error),
    /// The downloads folder cannot be used.
    Downloads(std::path::PathBuf, io::Error),
    /// A local socket could not be set up.
    Io(io::Error),
}

impl core::fmt::Display for Fatal {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Fatal::Rejected(reason) => write!(f, "login refused: {reason}"),
            Fatal::InvalidName(why) => write!(f, "login refused: invalid name: {why}"),
            Fatal::Udp(port, e) => write!(f, "cannot open UDP port {port}: {e}"),
            Fatal::Downloads(dir, e) => {
                write!(f, "cannot use downloads folder {}: {e}", dir.display())
            }
            Fatal::Io(e) => write!(f, "{e}"),
        }
    }
}

/// The live control connection.
struct Connection {
    writer: Option<OwnedWriteHalf>,
    reader: AbortHandle,
}

pub(crate) struct Engine {
    core: Box<Core>,
    config: Config,
    origin: StdInstant,
    udp: Udp,
    /// Datagrams gathered for the next send.
    outgoing: SendBatch,
    local_udp: SocketAddr,
    events: mpsc::Sender<UiEvent>,
    control_tx: mpsc::Sender<ControlInput>,
    generation: u64,
    connection: Option<Connection>,
    /// Where plain lines go (everyone online until `/to NAME`).
    target: Target,
    /// Set once the first `Welcome` arrived.
    logged_in: bool,
    /// Logged in right now.
    online: bool,
    /// Set once the user was told the server cannot be reached (before the first login).
    told_unreachable: bool,
    /// Set when the core refused to go on.
    fatal: Option<Fatal>,
    /// Set by `/quit`: the engine stops once the core has said goodbye, or at this time.
    quitting: Option<tokio::time::Instant>,
    /// The core has stopped (after `/quit`).
    stopped: bool,
    /// Files on disk: reading, hashing, storing.
    files: Files,
    /// Where hashed files for `/send` come back.
    prepared_tx: mpsc::Sender<Prepared>,
}

/// How often running transfers report progress.
const PROGRESS_TICK: core::time::Duration = core::time::Duration::from_millis(100);

/// Batched reads per wake-up before the core's output (acknowledgements, mostly) is
/// drained: each read takes up to 16 buffers of up to 64 KiB.
const RECV_ROUNDS: usize = 4;

/// Runs the engine until the user quits (`Ok`) or the login is refused (`Err`).
/// Closing `events` (by returning) tells the face to finish.
pub(crate) async fn run(
    config: Config,
    mut commands: mpsc::Receiver<Command>,
    events: mpsc::Sender<UiEvent>,
) -> Result<(), Fatal> {
    let (control_tx, mut control_rx) = mpsc::channel(64);
    let (prepared_tx, mut prepared_rx) = mpsc::channel(16);
    let mut engine = Engine::new(config, events, control_tx, prepared_tx).await?;
    let mut progress = tokio::time::interval(PROGRESS_TICK);
    progress.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    engine.drain().await;
    let mut received = RecvBuffers::new();
    let mut commands_open = true;
    // Ctrl-C in line mode logs out cleanly (the terminal UI reads it as a key).
    let mut interrupt = core::pin::pin!(tokio::signal::ctrl_c());
    let mut interrupted = false;
    while !engine.finished() {
        let deadline = engine.deadline();
        let quit_by = engine.quitting;
        tokio::select! {
            cmd = commands.recv(), if commands_open => {
                commands_open = cmd.is_some();
                engine.on_command(cmd).await;
            }
            Some(input) = control_rx.recv() => engine.on_control(input).await,
            ready = engine.udp.readable() => match ready {
                Ok(()) => {
                    engine.read_datagrams(&mut received);
                    engine.files.flush_writes();
                }
                Err(e) => tracing::debug!("udp receive: {e}"),
            },
            Some(prepared) = prepared_rx.recv() => engine.on_prepared(prepared).await,
            report = engine.files.next_report() => engine.on_report(report).await,
            _ = progress.tick(), if engine.transfers_running() => engine.file_progress().await,
            () = sleep_until(deadline) => engine.on_timeout(),
            () = sleep_until(quit_by) => engine.stopped = true,
            signal = &mut interrupt, if !interrupted => {
                interrupted = true;
                if signal.is_ok() {
                    engine.quit();
                }
            }
        }
        engine.drain().await;
    }
    engine.close().await;
    match engine.fatal.take() {
        Some(fatal) => Err(fatal),
        None => Ok(()),
    }
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => core::future::pending().await,
    }
}

impl Engine {
    async fn new(
        config: Config,
        events: mpsc::Sender<UiEvent>,
        control_tx: mpsc::Sender<ControlInput>,
        prepared_tx: mpsc::Sender<Prepared>,
    ) -> Result<Self, Fatal> {
        let udp = Udp::bind(config.udp_port)
            .await
            .map_err(|e| Fatal::Udp(config.udp_port, e))?;
        let outgoing = SendBatch::new(udp.max_segments());
        let local_udp = udp.local_addr().map_err(Fatal::Io)?;
        let origin = StdInstant::now();
        let core_config = ClientConfig {
            name: &config.name,
            udp_port: local_udp.port(),
            server: config.servers[0],
            seed: seed_from(local_udp),
        };
        let mut core = new_core(core_config)?;
        for &server in &config.servers[1..] {
            // The command line allows no more than the core keeps.
            core.add_server(server);
        }
        let downloads = config.files.downloads.clone();
        let files = Files::new(config.files.clone()).map_err(|e| Fatal::Downloads(downloads, e))?;
        core.files().set_config(files.core_config());
        Ok(Engine {
            core,
            config,
            origin,
            udp,
            outgoing,
            local_udp,
            events,
            control_tx,
            generation: 0,
            connection: None,
            target: Target::Everyone,
            logged_in: false,
            online: false,
            told_unreachable: false,
            fatal: None,
            quitting: None,
            stopped: false,
            files,
            prepared_tx,
        })
    }

    fn now(&self) -> Instant {
        Instant::from_micros(u64::try_from(self.origin.elapsed().as_micros()).unwrap_or(u64::MAX))
    }

    fn deadline(&self) -> Option<tokio::time::Instant> {
        let at = self.core.poll_timeout()?;
        let at = self.origin + core::time::Duration::from_micros(at.as_micros());
        Some(tokio::time::Instant::from_std(at))
    }

    fn finished(&self) -> bool {
        self.stopped || self.fatal.is_some()
    }

    /// Logs out: the core writes `Bye`, asks to close, and stops.
    pub(super) fn quit(&mut self) {
        if self.quitting.is_none() {
            self.quitting = Some(tokio::time::Instant::now() + QUIT_GRACE);
            self.core.quit();
        }
    }

    async fn on_control(&mut self, input: ControlInput) {
        if input.generation() != self.generation {
            return;
        }
        let now = self.now();
        match input {
            ControlInput::Connected {
                writer,
                local,
                started_server,
                ..
            } => {
                if started_server {
                    self.notice(format!(
                        "no directory server at {}: started one in this process",
                        self.core.server()
                    ))
                    .await;
                }
                if self.local_udp.ip().is_unspecified() {
                    self.local_udp.set_ip(local.ip());
                }
                if let Some(conn) = self.connection.as_mut() {
                    conn.writer = Some(writer);
                }
                self.core.handle_control_connected(now);
            }
            ControlInput::Bytes { bytes, .. } => self.feed_control(&bytes).await,
            ControlInput::Closed { error, .. } => {
                if let Some(e) = error {
                    tracing::debug!("control connection: {e}");
                }
                self.drop_connection();
                self.core.handle_control_closed(now);
            }
        }
    }

    /// Closes the control connection (the core asked) and tells the core it is closed.
    pub(super) async fn close_connection(&mut self) {
        if let Some(mut conn) = self.connection.take() {
            if let Some(writer) = conn.writer.as_mut() {
                let _ = writer.shutdown().await;
            }
            conn.reader.abort();
        }
        // Reports from the old connection are stale from now on.
        self.generation += 1;
        let now = self.now();
        self.core.handle_control_closed(now);
    }

    /// Feeds control bytes; the core may take them in parts, with its events drained
    /// in between.
    async fn feed_control(&mut self, mut bytes: &[u8]) {
        let mut stalled = false;
        while !bytes.is_empty() {
            let now = self.now();
            let used = self.core.handle_control_bytes(now, bytes);
            bytes = &bytes[used..];
            self.drain().await;
            if used == 0 {
                if stalled {
                    // Nothing taken even after draining: the core reads no more.
                    return;
                }
                stalled = true;
            } else {
                stalled = false;
            }
        }
    }

    fn on_datagram(&mut self, now: Instant, from: SocketAddr, bytes: &[u8]) {
        if let Some(write) = self.core.handle_datagram(now, from, bytes) {
            self.files.write(&write);
        }
    }

    /// Reads the datagrams that are waiting (a burst of file chunks, say), a few
    /// batched reads' worth, before the core's output is drained.
    fn read_datagrams(&mut self, received: &mut RecvBuffers) {
        for _ in 0..RECV_ROUNDS {
            match self.udp.try_recv(received) {
                Ok(0) => return,
                Ok(filled) => {
                    // One clock reading per batched read: its datagrams arrived together.
                    let now = self.now();
                    for (from, datagram) in received.datagrams(filled) {
                        self.on_datagram(now, from, datagram);
                    }
                }
                // ICMP errors (a peer's port closed) surface here on some systems.
                Err(e) => tracing::debug!("udp receive: {e}"),
            }
        }
    }

    fn on_timeout(&mut self) {
        let now = self.now();
        self.core.handle_timeout(now);
    }

    /// Starts a new control connection (the core asked for one).
    fn connect(&mut self) {
        self.drop_connection();
        self.generation += 1;
        let reader = control::spawn_connect(
            self.core.server(),
            self.generation,
            self.control_tx.clone(),
            self.config.embed,
        );
        self.connection = Some(Connection {
            writer: None,
            reader,
        });
    }

    fn drop_connection(&mut self) {
        if let Some(conn) = self.connection.take() {
            conn.reader.abort();
        }
    }

    /// Drains everything the core has for the outside world.
    async fn drain(&mut self) {
        loop {
            let mut progressed = self.drain_control().await;
            progressed |= self.drain_datagrams().await;
            progressed |= self.drain_events().await;
            progressed |= self.drain_file_events().await;
            if !progressed {
                return;
            }
        }
    }

    async fn drain_control(&mut self) -> bool {
        let mut frame = [0u8; MAX_CLIENT_FRAME];
        let mut any = false;
        let now = self.now();
        while let Some(len) = self.core.poll_control_transmit(&mut frame) {
            any = true;
            let Some(writer) = self.connection.as_mut().and_then(|c| c.writer.as_mut()) else {
                continue;
            };
            if let Err(e) = writer.write_all(&frame[..len]).await {
                tracing::debug!("control write: {e}");
                self.drop_connection();
                self.core.handle_control_closed(now);
            }
        }
        any
    }

    /// Sends what the core has, gathering runs of datagrams for one peer into batched
    /// sends (see [`udp`]).
    async fn drain_datagrams(&mut self) -> bool {
        let mut any = false;
        // One clock reading per batched send: its datagrams leave together.
        let mut now = self.now();
        loop {
            let at = self.outgoing.tail_offset();
            let Some(t) = self.core.poll_transmit(now, self.outgoing.tail()) else {
                break;
            };
            any = true;
            if let Some(fill) = t.fill {
                if !self.fill_outgoing(&fill) {
                    continue;
                }
            }
            let mut fit = self.outgoing.push(t.dst, t.len);
            if fit == Fit::Apart {
                self.udp.send(&mut self.outgoing).await;
                fit = self.outgoing.restart_with_last(t.dst, at, t.len);
                now = self.now();
            }
            if fit == Fit::Full {
                self.udp.send(&mut self.outgoing).await;
                now = self.now();
            }
        }
        if !self.outgoing.is_empty() {
            self.udp.send(&mut self.outgoing).await;
        }
        any
    }

    /// Puts file bytes into the chunk datagram just written at the batch's tail;
    /// `false` if the file could not be read (the transfer is cancelled and the datagram
    /// dropped).
    fn fill_outgoing(&mut self, fill: &peerchat_proto::transfer::Fill) -> bool {
        if self.files.fill(fill, self.outgoing.tail()).is_ok() {
            return true;
        }
        let now = self.now();
        self.core
            .files()
            .cancel(now, fill.key, CancelReason::ReadFailed);
        false
    }

    async fn emit(&mut self, event: UiEvent) {
        // A face that has gone away no longer needs events; the engine goes on until
        // its command channel closes.
        let _ = self.events.send(event).await;
    }

    async fn notice(&mut self, message: String) {
        self.emit(UiEvent::Notice { message }).await;
    }

    async fn error(&mut self, message: String) {
        self.emit(UiEvent::Error { message }).await;
    }

    /// Closes whatever connection is left.
    async fn close(&mut self) {
        if let Some(mut conn) = self.connection.take() {
            if let Some(writer) = conn.writer.as_mut() {
                let _ = writer.shutdown().await;
            }
            conn.reader.abort();
        }
    }
}

/// Builds the core on the heap. It is over a megabyte and is built by value, so it is
/// built on a thread with a stack sized for it rather than on the runtime's.
fn new_core(config: ClientConfig<'_>) -> Result<Box<Core>, Fatal> {
    let name = config.name.to_owned();
    let (udp_port, server, seed) = (config.udp_port, config.server, config.seed);
    let build = move || {
        let config = ClientConfig {
            name: &name,
            udp_port,
            server,
            seed,
        };
        Core::new(config).map(Box::new).map_err(|e| e.to_string())
    };
    let built = std::thread::Builder::new()
        .name("core-init".into())
        .stack_size(CORE_STACK)
        .spawn(build)
        .map_err(Fatal::Io)?
        .join()
        .map_err(|_| Fatal::Io(io::Error::other("building the client core failed")))?;
    built.map_err(Fatal::InvalidName)
}

/// Stack for building the core: a few times its size.
const CORE_STACK: usize = 8 * core::mem::size_of::<Core>() + (1 << 20);

/// A seed for the core's randomness (connection ids, backoff jitter), from the clock
/// and the socket's port: different for every client on a machine.
fn seed_from(local: SocketAddr) -> u64 {
    let wall = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    wall ^ (u64::from(local.port()) << 48) ^ u64::from(std::process::id())
}
