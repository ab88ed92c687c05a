//! The client end of the control connection.
//!
//! [`Client`] owns everything the client decides about the directory server: when to
//! connect (and reconnect, with backoff), the `Hello`/`Welcome`/`Rejected` handshake and
//! its timeout, heartbeats (`Ping` every `heartbeat_ms`, idle timeout when the server is
//! silent for three periods), resyncs (`List`), `Bye`, `Shutdown`, the UDP `Probe` that
//! publishes the client's observed address, and the [`Roster`] replica of who is online.
//!
//! **Driving it.** The host owns one TCP connection at a time and one UDP socket:
//! - [`Client::poll_action`]: `Connect` (open a TCP connection to the server, then call
//!   [`Client::handle_connected`] or [`Client::handle_connect_failed`]) or `Close`.
//! - [`Client::handle_bytes`]: bytes read from the connection; returns how many it
//!   consumed (it stops early when its event queue is full: drain events, call again).
//! - [`Client::handle_disconnected`]: the connection ended (EOF or error).
//! - [`Client::poll_transmit`]: the next frame to write; [`Client::poll_probe`]: a UDP
//!   datagram for the server's address; [`Client::poll_event`]: what the UI must learn.
//! - [`Client::poll_timeout`] / [`Client::handle_timeout`]: the timers.
//!
//! A host that knows several servers (a cluster) says how many with
//! [`Client::set_servers`] and connects to [`Client::server`] on each `Connect`:
//! `failover` decides which one comes next.

mod backoff;
mod failover;
#[cfg(test)]
mod tests;
mod types;

use heapless::Deque;

use crate::names::user::{NameError, UserName};
use crate::roster::Roster;
use crate::time::{Duration, Instant};
use crate::wire::{
    encode_client_frame, encode_packet, Body, ClientMsg, EncodeError, Feed, FrameDecoder, Packet,
    PeerId, RejectReason, ServerMsg, WireAddr, MAX_SERVER_FRAME,
};
use backoff::Backoff;
use failover::Failover;
pub use types::{Action, ClientConfig, ClientEvent, Disconnect};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Waiting for the reconnect timer.
    Waiting,
    /// `Connect` was asked for; waiting for the host.
    Connecting,
    /// Connected; `Hello` sent or queued; waiting for `Welcome`.
    Handshake,
    /// Logged in.
    Online,
    /// `Bye` queued; `Close` follows.
    Quitting,
    /// Rejected or quit: nothing more happens.
    Stopped,
}

/// The client's timers, indexed into a fixed table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Timer {
    Reconnect = 0,
    Handshake = 1,
    Ping = 2,
    Idle = 3,
    Probe = 4,
}
const TIMERS: usize = 5;

#[derive(Debug, Clone, Copy, Default)]
struct Pending {
    hello: bool,
    list: bool,
    ping: bool,
    bye: bool,
}

/// Room kept in the event queue per frame handled (a frame yields at most one event).
const EVENTS: usize = 16;

/// The client end of the control connection with its roster of at most `N` peers.
pub struct Client<const N: usize> {
    decoder: FrameDecoder<MAX_SERVER_FRAME>,
    core: Core<N>,
}

/// Everything but the decoder, so decoded messages can borrow the decoder while the
/// state machine changes.
struct Core<const N: usize> {
    name: UserName,
    udp_port: u16,
    config: ClientConfig,
    state: State,
    timers: [Option<Instant>; TIMERS],
    backoff: Backoff,
    pending: Pending,
    action: Option<Action>,
    events: Deque<ClientEvent, EVENTS>,
    roster: Roster<N>,
    id: Option<PeerId>,
    probe_token: u64,
    probes_left: u8,
    probe_answered: bool,
    heartbeat: Duration,
    logged_in_before: bool,
    /// A `Hello` went out on an earlier connection (whose login may still be held).
    hello_sent_before: bool,
    /// A `Hello` went out on the current connection.
    hello_sent: bool,
    /// When the current run of `NameTaken` answers began.
    name_taken_since: Option<Instant>,
    failover: Failover,
}

impl<const N: usize> Client<N> {
    /// A client that will log in as `name` with its UDP socket on `udp_port`; it asks
    /// to connect at once.
    pub fn new(name: &str, udp_port: u16, config: ClientConfig) -> Result<Self, NameError> {
        let mut timers = [None; TIMERS];
        timers[Timer::Reconnect as usize] = Some(Instant::ZERO);
        let core = Core {
            name: UserName::new(name)?,
            udp_port,
            config,
            state: State::Waiting,
            timers,
            backoff: Backoff::new(config.backoff_min, config.backoff_max, config.seed),
            pending: Pending::default(),
            action: None,
            events: Deque::new(),
            roster: Roster::new(),
            id: None,
            probe_token: 0,
            probes_left: 0,
            probe_answered: false,
            heartbeat: Duration::from_secs(5),
            logged_in_before: false,
            hello_sent_before: false,
            hello_sent: false,
            name_taken_since: None,
            failover: Failover::new(),
        };
        Ok(Client {
            decoder: FrameDecoder::new(),
            core,
        })
    }

    /// The login name.
    pub fn name(&self) -> &UserName {
        &self.core.name
    }

    /// Our id while logged in.
    pub fn id(&self) -> Option<PeerId> {
        self.core.id.filter(|_| self.core.state == State::Online)
    }

    /// Whether we are logged in now.
    pub fn is_online(&self) -> bool {
        self.core.state == State::Online
    }

    /// Whether the client has stopped for good (rejected or quit).
    pub fn is_stopped(&self) -> bool {
        self.core.state == State::Stopped
    }

    /// The host knows `n` directory servers (of one cluster), to be tried in its order;
    /// 1 unless set.
    pub fn set_servers(&mut self, n: u8) {
        self.core.failover.set_servers(n);
    }

    /// Which of the host's servers to connect to on `Connect` (index into its list).
    pub fn server(&self) -> usize {
        self.core.failover.current()
    }

    /// The replica of who is online (ourselves included).
    pub fn roster(&self) -> &Roster<N> {
        &self.core.roster
    }

    /// The host's TCP connect succeeded.
    pub fn handle_connected(&mut self, now: Instant) {
        if self.core.state != State::Connecting {
            return;
        }
        self.decoder = FrameDecoder::new();
        self.core.connected_at(now);
    }

    /// The host's TCP connect failed.
    pub fn handle_connect_failed(&mut self, now: Instant) {
        if self.core.state == State::Connecting {
            self.core.lose(now, Disconnect::ConnectFailed, false);
        }
    }

    /// The connection ended (EOF or error).
    pub fn handle_disconnected(&mut self, now: Instant) {
        match self.core.state {
            State::Handshake | State::Online => self.core.lose(now, Disconnect::Closed, false),
            State::Quitting => self.core.stop(ClientEvent::Stopped),
            _ => {}
        }
    }

    /// Bytes read from the connection. Returns how many were consumed: fewer than given
    /// when the event queue filled up (drain [`Client::poll_event`] and call again with
    /// the rest).
    // Out of line, like `FrameDecoder::feed`: decoding a frame moves a `ServerMsg` (a
    // snapshot page is about 1 KiB) through several wrappers, and inlined into a host's
    // loop those temporaries made that loop's stack frame so large that each of its stack
    // accesses took an extra instruction (over 1 KiB of a Cortex-M4 image).
    #[inline(never)]
    pub fn handle_bytes(&mut self, now: Instant, bytes: &[u8]) -> usize {
        let core = &mut self.core;
        let mut rest = bytes;
        while !rest.is_empty() && core.connected() && core.events.len() + 2 <= EVENTS {
            match self.decoder.feed::<ServerMsg<'_>>(rest) {
                Feed::Pending => rest = &[],
                Feed::Frame { msg, rest: after } => {
                    rest = after;
                    match msg {
                        Ok(msg) => core.on_message(now, msg),
                        Err(e) => core.lose(now, Disconnect::Protocol(e), true),
                    }
                }
            }
        }
        if !core.connected() {
            return bytes.len(); // nothing more is read from a closed connection
        }
        bytes.len() - rest.len()
    }

    /// Ask the server for a full list now (the roster is replaced when it arrives).
    pub fn request_list(&mut self) {
        if self.core.state == State::Online {
            self.core.pending.list = true;
        }
    }

    /// Log out (`Bye`) and stop; [`ClientEvent::Stopped`] follows.
    pub fn quit(&mut self) {
        self.core.quit();
    }

    /// A `ProbeReply` from the server arrived on the UDP socket.
    pub fn handle_probe_reply(&mut self, observed: WireAddr) {
        let core = &mut self.core;
        if core.state == State::Online && !core.probe_answered {
            core.probe_answered = true;
            core.probes_left = 0;
            core.set(Timer::Probe, None);
            core.push(ClientEvent::Observed(observed));
        }
    }

    /// The host's next connection action.
    #[must_use]
    pub fn poll_action(&mut self) -> Option<Action> {
        self.core.action.take()
    }

    /// Writes the next frame for the server into `buf` (at least
    /// [`crate::wire::MAX_CLIENT_FRAME`] bytes) and returns its length.
    #[must_use]
    pub fn poll_transmit(&mut self, buf: &mut [u8]) -> Option<Result<usize, EncodeError>> {
        self.core.poll_transmit(buf)
    }

    /// Writes a UDP `Probe` for the server's address (same port number as the TCP
    /// server) into `buf` when one is due.
    #[must_use]
    pub fn poll_probe(
        &mut self,
        now: Instant,
        buf: &mut [u8],
    ) -> Option<Result<usize, EncodeError>> {
        self.core.poll_probe(now, buf)
    }

    /// What the application must learn next.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<ClientEvent> {
        self.core.events.pop_front()
    }

    /// When [`Client::handle_timeout`] must be called next.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.core.timers.iter().flatten().min().copied()
    }

    /// Runs every timer that is due.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.core.handle_timeout(now);
    }
}

impl<const N: usize> Core<N> {
    fn connected_at(&mut self, now: Instant) {
        self.state = State::Handshake;
        self.pending = Pending {
            hello: true,
            ..Pending::default()
        };
        self.set(Timer::Handshake, Some(now + self.config.handshake_timeout));
    }

    fn quit(&mut self) {
        match self.state {
            State::Online | State::Handshake => {
                self.pending = Pending {
                    bye: true,
                    ..Pending::default()
                };
                self.state = State::Quitting;
                self.timers = [None; TIMERS];
            }
            State::Quitting | State::Stopped => {}
            State::Waiting | State::Connecting => {
                if self.state == State::Connecting {
                    self.action = Some(Action::Close);
                }
                self.stop(ClientEvent::Stopped);
            }
        }
    }

    fn poll_transmit(&mut self, buf: &mut [u8]) -> Option<Result<usize, EncodeError>> {
        let name = self.name;
        let p = &mut self.pending;
        let msg = if core::mem::take(&mut p.hello) {
            self.hello_sent = true;
            ClientMsg::Hello {
                name: name.as_str(),
                udp_port: self.udp_port,
            }
        } else if core::mem::take(&mut p.bye) {
            self.action = Some(Action::Close);
            ClientMsg::Bye
        } else if core::mem::take(&mut p.list) {
            ClientMsg::List
        } else if core::mem::take(&mut p.ping) {
            ClientMsg::Ping
        } else {
            return None;
        };
        Some(encode_client_frame(&msg, buf))
    }

    fn poll_probe(&mut self, now: Instant, buf: &mut [u8]) -> Option<Result<usize, EncodeError>> {
        let id = self.id.filter(|_| self.state == State::Online)?;
        if self.probes_left == 0 || self.timer(Timer::Probe).is_some_and(|t| t > now) {
            return None;
        }
        self.probes_left -= 1;
        let next = (self.probes_left > 0).then(|| now + self.config.probe_interval);
        self.set(Timer::Probe, next);
        let packet = Packet::new(
            id,
            Body::Probe {
                token: self.probe_token,
            },
        );
        Some(encode_packet(&packet, buf))
    }

    fn handle_timeout(&mut self, now: Instant) {
        if self.due(Timer::Reconnect, now) {
            self.set(Timer::Reconnect, None);
            self.state = State::Connecting;
            self.action = Some(Action::Connect);
            self.set(Timer::Handshake, Some(now + self.config.handshake_timeout));
        }
        if self.due(Timer::Handshake, now) {
            self.lose(now, Disconnect::HandshakeTimeout, true);
        }
        if self.due(Timer::Idle, now) {
            self.lose(now, Disconnect::IdleTimeout, true);
        }
        if self.due(Timer::Ping, now) {
            self.pending.ping = true;
            self.set(Timer::Ping, Some(now + self.heartbeat));
        }
        // The probe timer is only a wake-up: `poll_probe` decides.
    }

    fn connected(&self) -> bool {
        matches!(
            self.state,
            State::Handshake | State::Online | State::Quitting
        )
    }

    fn on_message(&mut self, now: Instant, msg: ServerMsg<'_>) {
        if self.state == State::Online {
            self.set(Timer::Idle, Some(now + self.heartbeat.saturating_mul(3)));
        }
        match msg {
            ServerMsg::Welcome {
                id,
                observed_addr,
                probe_token,
                heartbeat_ms,
            } => self.on_welcome(now, id, observed_addr, probe_token, heartbeat_ms),
            ServerMsg::Rejected { reason } => self.on_rejected(now, reason),
            ServerMsg::Shutdown => self.lose(now, Disconnect::ServerShutdown, true),
            ServerMsg::Pong => {}
            msg if self.state == State::Online => {
                if let Some(event) = self.roster.apply(&msg) {
                    self.push(ClientEvent::Roster(event));
                }
                if self.roster.poll_resync().is_some() {
                    self.pending.list = true;
                }
            }
            _ => {}
        }
    }

    fn on_welcome(&mut self, now: Instant, id: PeerId, addr: WireAddr, token: u64, hb_ms: u32) {
        if self.state != State::Handshake {
            return;
        }
        self.state = State::Online;
        self.id = Some(id);
        self.probe_token = token;
        self.probes_left = self.config.probe_attempts;
        self.probe_answered = false;
        self.heartbeat = Duration::from_millis(u64::from(hb_ms.max(100)));
        self.backoff.reset();
        self.failover.logged_in();
        self.name_taken_since = None;
        self.roster.reset();
        self.set(Timer::Handshake, None);
        self.set(Timer::Ping, Some(now + self.heartbeat));
        self.set(Timer::Idle, Some(now + self.heartbeat.saturating_mul(3)));
        self.set(Timer::Probe, Some(now));
        let reconnected = core::mem::replace(&mut self.logged_in_before, true);
        self.push(ClientEvent::LoggedIn {
            id,
            addr,
            reconnected,
        });
    }

    fn on_rejected(&mut self, now: Instant, reason: RejectReason) {
        if reason == RejectReason::Protocol {
            // We always open with a valid `Hello`: the server did not get it in time.
            return self.lose(now, Disconnect::Refused(reason), true);
        }
        if reason == RejectReason::NameTaken && self.hello_sent_before {
            // The name may be held by our own earlier login (a session that has not
            // expired, or a `Hello` whose answer we gave up on): retry for a while.
            let since = *self.name_taken_since.get_or_insert(now);
            if now.saturating_since(since) < self.config.name_retry_window {
                return self.lose(now, Disconnect::NameStillTaken, true);
            }
        }
        self.action = Some(Action::Close);
        self.stop(ClientEvent::Rejected(reason));
    }

    /// The connection is gone (or must go): tell the UI and schedule a reconnect.
    fn lose(&mut self, now: Instant, why: Disconnect, close: bool) {
        self.hello_sent_before |= core::mem::take(&mut self.hello_sent);
        if close {
            self.action = Some(Action::Close);
        }
        self.state = State::Waiting;
        self.timers = [None; TIMERS];
        self.pending = Pending::default();
        self.probes_left = 0;
        let delay = if self.failover.after_loss(why) {
            self.backoff.next_delay()
        } else {
            Duration::ZERO
        };
        self.set(Timer::Reconnect, Some(now + delay));
        self.push(ClientEvent::Disconnected(why));
    }

    fn stop(&mut self, event: ClientEvent) {
        self.state = State::Stopped;
        self.timers = [None; TIMERS];
        self.pending = Pending::default();
        self.push(event);
    }

    fn push(&mut self, event: ClientEvent) {
        if self.events.push_back(event).is_err() {
            // `handle_bytes` keeps room for every event a frame can cause; a timer event
            // arriving on a full queue replaces the oldest so the newest state wins.
            self.events.pop_front();
            let _ = self.events.push_back(event);
        }
    }

    fn timer(&self, t: Timer) -> Option<Instant> {
        self.timers[t as usize]
    }

    fn due(&self, t: Timer, now: Instant) -> bool {
        self.timer(t).is_some_and(|at| at <= now)
    }

    fn set(&mut self, t: Timer, at: Option<Instant>) {
        self.timers[t as usize] = at;
    }
}
