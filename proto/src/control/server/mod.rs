//! The directory server node: the [`Directory`] plus the server end of every control
//! connection, sans-IO.
//!
//! [`Server`] owns every decision the directory server makes: the handshake and its
//! timeout, login refusals, heartbeats and expiry, `List`, `Bye`, UDP probes, who is too
//! slow, shutdown, and the fan-out of changes. It holds no queue that grows with traffic:
//! each change is encoded once into a bounded [`journal`] ring, and each connection only
//! keeps a cursor ("sent up to version v") and a few flags. When the host asks for a
//! connection's output, every change it has not yet been given is copied out in one go,
//! so a burst of logins reaches each client in as few writes as its buffer allows.
//!
//! **Falling behind.** A client further behind than the ring is sent a fresh snapshot
//! (never larger than the directory, and it is reading — just late); a client that is
//! not given anything new for [`ServerConfig::stall_timeout`] while changes wait — its
//! host cannot write to it — or whose snapshot takes that long is disconnected as
//! [`CloseReason::TooSlow`]: it does not read, and keeping its backlog would cost memory.
//!
//! **Driving it.** `handle_connect(now, peer)` gives a [`ConnId`]; feed that
//! connection's bytes to `handle_bytes`; when it is writable, `poll_transmit(now, conn,
//! buf)` says what to write (or to close it); report its end with `handle_disconnect`.
//! UDP datagrams go to `handle_datagram`, replies come from `poll_datagram`. After any
//! call, `poll_wakeup()` says whether other connections may have output now (wake them
//! all); `poll_event()` yields log-worthy events; `poll_timeout()`/`handle_timeout()`
//! run the timers. Storage (directory slots, connections, journal records) is lent by
//! the caller.

mod cluster;
mod conn;
pub mod journal;
mod output;
#[cfg(test)]
mod tests;
mod types;

use heapless::Deque;

use crate::directory::{Delta, Directory, JoinError, Slot};
use crate::names::user::{NameError, UserName};
use crate::time::Instant;
use crate::wire::{
    decode_packet, encode_packet, Body, ClientMsg, DecodeError, EncodeError, Feed, Packet, PeerId,
    RejectReason, WireAddr,
};

pub use cluster::{ClusterEvent, StoreFailed, StoreOp, StoreReply};
pub use conn::{CloseReason, Conn, ConnId};
use conn::{ConnState, Snap};
pub use journal::Record;
pub use types::{ConnectError, ServerConfig, ServerEvent, Transmit};

const EVENTS: usize = 256;
const REPLIES: usize = 64;

/// The directory server node over caller-lent directory slots `S`, connections `C`
/// and journal records `J`.
pub struct Server<S, C, J> {
    dir: Directory<S>,
    conns: C,
    journal: journal::Journal<J>,
    config: ServerConfig,
    free: u32,
    open: usize,
    events: Deque<ServerEvent, EVENTS>,
    dropped_events: u64,
    replies: Deque<WireAddr, REPLIES>,
    sweep_at: Instant,
    shutting_down: bool,
    /// When connections still open after `Shutdown` are closed without waiting.
    grace_at: Option<Instant>,
    wake: bool,
    /// Cluster mode (see [`Server::enable_cluster`]).
    cluster: Option<cluster::Cluster>,
}

/// An owned summary of one decoded client frame.
enum Input {
    Hello(Result<UserName, NameError>, u16),
    List,
    Ping,
    Bye,
    Bad(DecodeError),
}

impl<S, C, J> Server<S, C, J>
where
    S: AsRef<[Slot]> + AsMut<[Slot]>,
    C: AsRef<[Conn]> + AsMut<[Conn]>,
    J: AsRef<[Record]> + AsMut<[Record]>,
{
    /// A server over the lent storage. `conns` should exceed the directory's slots by a
    /// margin for connections that have not logged in yet; `records` bounds how far a
    /// client may fall behind before it gets a fresh snapshot instead of deltas.
    pub fn new(slots: S, mut conns: C, records: J, config: ServerConfig) -> Self {
        let n = conns.as_ref().len().min(u32::MAX as usize - 1);
        for (i, c) in conns.as_mut().iter_mut().take(n).enumerate() {
            *c = Conn::new();
            c.next_free = if i + 1 < n { i as u32 + 1 } else { u32::MAX };
        }
        Server {
            dir: Directory::new(slots, config.directory()),
            conns,
            journal: journal::Journal::new(records),
            config,
            free: if n > 0 { 0 } else { u32::MAX },
            open: 0,
            events: Deque::new(),
            dropped_events: 0,
            replies: Deque::new(),
            sweep_at: Instant::ZERO + config.sweep_interval,
            shutting_down: false,
            grace_at: None,
            wake: false,
            cluster: None,
        }
    }

    /// The peer table.
    pub fn directory(&self) -> &Directory<S> {
        &self.dir
    }

    /// Open connections (logged in or not).
    pub fn connections(&self) -> usize {
        self.open
    }

    /// Events lost because nobody drained [`Server::poll_event`] in time.
    pub fn dropped_events(&self) -> u64 {
        self.dropped_events
    }

    /// Whether shutdown has begun and every connection is gone.
    pub fn is_finished(&self) -> bool {
        self.shutting_down && self.open == 0
    }

    /// Whether `conn` is closing, and why: a host whose writes to it are stuck closes it
    /// without waiting for [`Transmit::Close`].
    pub fn closing(&self, conn: ConnId) -> Option<CloseReason> {
        match self.index(conn).map(|i| self.conns.as_ref()[i].state) {
            None => Some(CloseReason::Disconnected),
            Some(ConnState::Closing(reason)) => Some(reason),
            Some(_) => None,
        }
    }

    /// A new TCP connection from `peer`.
    pub fn handle_connect(&mut self, now: Instant, peer: WireAddr) -> Result<ConnId, ConnectError> {
        if self.shutting_down {
            return Err(ConnectError::ShuttingDown);
        }
        let i = self.free;
        if i == u32::MAX {
            return Err(ConnectError::Full);
        }
        let c = &mut self.conns.as_mut()[i as usize];
        self.free = c.next_free;
        c.open(now, peer);
        self.open += 1;
        Ok(ConnId(i))
    }

    /// Bytes read from `conn`.
    pub fn handle_bytes(&mut self, now: Instant, conn: ConnId, bytes: &[u8]) {
        let Some(i) = self.index(conn) else { return };
        let mut rest = bytes;
        while !rest.is_empty() {
            let c = &mut self.conns.as_mut()[i];
            if !matches!(
                c.state,
                ConnState::Handshake | ConnState::Claiming | ConnState::Active
            ) {
                return;
            }
            let input = match c.decoder.feed::<ClientMsg<'_>>(rest) {
                Feed::Pending => return,
                Feed::Frame { msg, rest: after } => {
                    rest = after;
                    match msg {
                        Ok(ClientMsg::Hello { name, udp_port }) => {
                            Input::Hello(UserName::new(name), udp_port)
                        }
                        Ok(ClientMsg::List) => Input::List,
                        Ok(ClientMsg::Ping) => Input::Ping,
                        Ok(ClientMsg::Bye) => Input::Bye,
                        Err(e) => Input::Bad(e),
                    }
                }
            };
            self.on_input(now, i, input);
        }
    }

    /// `conn` ended (EOF, error, or closed after [`Transmit::Close`]); its handle is free.
    pub fn handle_disconnect(&mut self, now: Instant, conn: ConnId) {
        let Some(i) = self.index(conn) else { return };
        let _ = now;
        if self.conns.as_ref()[i].is_active() {
            self.leave(i, CloseReason::Disconnected);
        }
        let c = &mut self.conns.as_mut()[i];
        let reason = match c.state {
            ConnState::Closing(r) => r,
            _ => CloseReason::Disconnected,
        };
        let peer = c.peer;
        self.open -= 1;
        self.retire_conn(i);
        self.event(ServerEvent::Closed { conn, peer, reason });
    }

    /// A UDP datagram from `from` arrived on the server's socket.
    pub fn handle_datagram(&mut self, now: Instant, from: WireAddr, bytes: &[u8]) {
        let Ok(packet) = decode_packet(bytes) else {
            return; // not ours: dropped without a reply
        };
        let Body::Probe { token } = packet.body else {
            return;
        };
        match self.dir.probe(now, packet.header.sender, token, from) {
            Ok(Some(delta)) => {
                self.publish(&delta);
                self.store_moved(&delta);
                self.event(ServerEvent::Moved {
                    id: delta.peer.id,
                    addr: from,
                });
            }
            Ok(None) => {}
            Err(error) => return self.event(ServerEvent::BadProbe { from, error }),
        }
        // A full reply queue drops the reply: the client probes again.
        let _ = self.replies.push_back(from);
    }

    /// Starts a graceful shutdown: every client is sent `Shutdown`, then closed.
    pub fn begin_shutdown(&mut self, now: Instant) {
        if self.shutting_down {
            return;
        }
        self.shutting_down = true;
        self.grace_at = Some(now + self.config.shutdown_grace);
        for c in self.conns.as_mut() {
            if matches!(
                c.state,
                ConnState::Handshake | ConnState::Claiming | ConnState::Active
            ) {
                c.owed.shutdown = true;
                c.close(CloseReason::Shutdown);
            }
        }
        self.wake = true;
    }

    /// Runs the timers that are due.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some(expired) = self.dir.poll_expired(now) {
            self.publish(&expired.delta);
            let i = expired.tag as usize;
            let reason = CloseReason::HeartbeatTimeout;
            if let Some(c) = self.conns.as_mut().get_mut(i) {
                if c.is_active() && c.id == expired.delta.peer.id {
                    c.close(reason);
                    self.store_left(i, reason);
                }
            }
            self.logged_out(ConnId(expired.tag), &expired.delta, reason);
        }
        self.cluster_timeout(now);
        if now >= self.sweep_at {
            self.sweep_at = now + self.config.sweep_interval;
            self.sweep(now);
        }
        if self.grace_at.is_some_and(|t| now >= t) {
            self.grace_at = None;
            for c in self.conns.as_mut() {
                c.owed.shutdown = false;
                c.owed.reject = None;
            }
            self.wake = true;
        }
    }

    /// When [`Server::handle_timeout`] must run next.
    #[must_use]
    pub fn poll_timeout(&self) -> Instant {
        let t = self.dir.poll_timeout().min(self.sweep_at);
        let t = self.cluster_deadline().map_or(t, |c| t.min(c));
        match self.grace_at {
            Some(s) => t.min(s),
            None => t,
        }
    }

    /// Whether connections other than the one just handled may have output or must
    /// close (since the last call). The host then wakes every connection.
    #[must_use]
    pub fn poll_wakeup(&mut self) -> bool {
        core::mem::take(&mut self.wake)
    }

    /// The next log-worthy event.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<ServerEvent> {
        self.events.pop_front()
    }

    /// The next UDP datagram to send: `(destination, length written into buf)`.
    #[must_use]
    pub fn poll_datagram(
        &mut self,
        buf: &mut [u8],
    ) -> Option<Result<(WireAddr, usize), EncodeError>> {
        let to = self.replies.pop_front()?;
        let reply = Packet::new(PeerId::SERVER, Body::ProbeReply { observed: to });
        Some(encode_packet(&reply, buf).map(|n| (to, n)))
    }

    fn on_input(&mut self, now: Instant, i: usize, input: Input) {
        let c = &mut self.conns.as_mut()[i];
        if c.state == ConnState::Handshake {
            return self.on_handshake(now, i, input);
        }
        if c.state == ConnState::Claiming {
            return self.on_claiming(i, input);
        }
        self.dir.touch(now, c.id);
        match input {
            Input::Ping => c.owed.pong = true,
            Input::List => {
                // A repeated `List` restarts the snapshot but not its clock: a client
                // that asks faster than it reads is still too slow.
                let started = c.snap.map_or(now, |s| s.started);
                c.snap = Some(Snap {
                    next: 0,
                    page: 0,
                    started,
                });
            }
            Input::Bye => self.leave(i, CloseReason::Bye),
            Input::Hello(..) => self.leave(i, CloseReason::Unexpected),
            Input::Bad(e) => self.leave(i, CloseReason::Protocol(e)),
        }
    }

    fn on_handshake(&mut self, now: Instant, i: usize, input: Input) {
        let (name, port) = match input {
            Input::Hello(Ok(name), port) => (name, port),
            Input::Hello(Err(_), _) => return self.reject(i, RejectReason::InvalidName, None),
            Input::Bad(DecodeError::UnknownVersion(_)) => {
                return self.reject(i, RejectReason::BadVersion, None)
            }
            Input::Bad(e) => {
                return self.reject(i, RejectReason::Protocol, Some(CloseReason::Protocol(e)))
            }
            _ => return self.reject(i, RejectReason::Protocol, Some(CloseReason::Unexpected)),
        };
        if self.cluster.is_some() {
            return self.begin_claim(i, name, port);
        }
        let published = self.conns.as_ref()[i].peer.with_port(port);
        match self.dir.join(now, name.as_str(), published, i as u32) {
            Ok(login) => self.admit(now, i, &login, name, published),
            Err(JoinError::NameTaken) => self.reject(i, RejectReason::NameTaken, None),
            Err(JoinError::Full | JoinError::IdTaken) => {
                self.reject(i, RejectReason::ServerFull, None)
            }
            Err(JoinError::InvalidName(_)) => self.reject(i, RejectReason::InvalidName, None),
        }
    }

    /// Logs connection `i` in: it is active as `login.id`, owed its `Welcome` and a
    /// snapshot, and everyone learns of it.
    fn admit(
        &mut self,
        now: Instant,
        i: usize,
        login: &crate::directory::Login,
        name: UserName,
        published: WireAddr,
    ) {
        let c = &mut self.conns.as_mut()[i];
        c.state = ConnState::Active;
        c.id = login.id;
        c.owed.welcome = true;
        c.snap = Some(Snap {
            next: 0,
            page: 0,
            started: now,
        });
        c.behind_at = now;
        self.publish(&login.delta);
        self.event(ServerEvent::LoggedIn {
            conn: ConnId(i as u32),
            id: login.id,
            name,
            addr: published,
        });
    }

    /// Refuses a login: `Rejected { reason }` goes out, then the connection closes.
    fn reject(&mut self, i: usize, reason: RejectReason, close: Option<CloseReason>) {
        let c = &mut self.conns.as_mut()[i];
        let peer = c.peer;
        c.owed.reject = Some(reason);
        c.close(close.unwrap_or(CloseReason::Rejected(reason)));
        self.event(ServerEvent::Rejected {
            conn: ConnId(i as u32),
            peer,
            reason,
        });
    }

    /// Removes an active connection's user from the directory and closes it.
    fn leave(&mut self, i: usize, reason: CloseReason) {
        let c = &mut self.conns.as_mut()[i];
        let id = c.id;
        c.close(reason);
        self.wake = true;
        if let Some(delta) = self.dir.leave(id) {
            self.publish(&delta);
            self.store_left(i, reason);
            self.logged_out(ConnId(i as u32), &delta, reason);
        }
    }

    fn logged_out(&mut self, conn: ConnId, delta: &Delta, reason: CloseReason) {
        self.event(ServerEvent::LoggedOut {
            conn,
            id: delta.peer.id,
            name: delta.peer.name,
            reason,
        });
    }

    /// Records a change for every connection.
    fn publish(&mut self, delta: &Delta) {
        self.journal.push(delta);
        self.wake = true;
    }

    /// Handshake timeouts and slow readers.
    fn sweep(&mut self, now: Instant) {
        let version = self.dir.version();
        let stall = self.config.stall_timeout;
        for i in 0..self.conns.as_ref().len() {
            let c = &mut self.conns.as_mut()[i];
            match c.state {
                ConnState::Handshake | ConnState::Claiming
                    if now.saturating_since(c.opened) > self.config.handshake_timeout =>
                {
                    self.reject(
                        i,
                        RejectReason::Protocol,
                        Some(CloseReason::HandshakeTimeout),
                    );
                    self.wake = true;
                }
                ConnState::Active => {
                    let snap_slow = c
                        .snap
                        .is_some_and(|s| now.saturating_since(s.started) > stall);
                    if c.sent >= c.behind_mark && !snap_slow {
                        c.behind_mark = version;
                        c.behind_at = now;
                    } else if snap_slow || now.saturating_since(c.behind_at) > stall {
                        self.leave(i, CloseReason::TooSlow);
                    }
                }
                _ => {}
            }
        }
    }

    fn index(&self, conn: ConnId) -> Option<usize> {
        let i = conn.0 as usize;
        let c = self.conns.as_ref().get(i)?;
        (!matches!(c.state, ConnState::Free | ConnState::Departed)).then_some(i)
    }

    fn event(&mut self, event: ServerEvent) {
        if self.events.is_full() {
            self.events.pop_front();
            self.dropped_events += 1;
        }
        let _ = self.events.push_back(event);
    }
}
