//! [`PathAgent`]: one peer's path: its state, the search rounds (`want`, the directory's
//! notices), the choice of a route and its loss. What the peer and its channel tell it is
//! in `received.rs`; what it hands out (transmits, events, timers) in `output.rs`.

use core::net::SocketAddr;

use heapless::Deque;

use super::checks::Checks;
use super::{NoPathReason, PathConfig, Route, RouteKind};
use crate::time::Instant;
use crate::timer::TimerTable;
use crate::wire::v2_path::{Candidate, CandidateKind, PathCheck};
use crate::wire::v2_peer::{INITIATION_LEN, RESPONSE_LEN};
use crate::wire::PeerId;

/// Pongs owed at once; an older one gives way (its ping is repeated anyway).
pub(super) const PONGS: usize = 4;
/// Pings of one check in a background round.
pub(super) const BACKGROUND_BURST: u16 = 3;
/// Pings of one check in a punch round: as many as the window has room for.
pub(super) const PUNCH_BURST: u16 = u16::MAX;

/// The agent's timers, as indices into its [`TimerTable`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Timer {
    /// A ping, a pong or an initiation copy is due (paced).
    Send = 0,
    /// The relay may become the path now.
    RelayAfter = 1,
    /// The punch window ends: fast checks stop.
    WindowEnd = 2,
    /// The next background round.
    Background = 3,
    /// A keepalive, a liveness ping, or giving the path up.
    Liveness = 4,
}

pub(super) const TIMERS: usize = 5;

/// Where the agent is in its search.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Phase {
    /// Nothing asked for yet.
    Idle,
    /// Fast checks of every route.
    Punching,
    /// Slow rounds of checks: no direct route yet.
    Background,
    /// A direct route is the path; only it is pinged (keepalives, liveness).
    Settled,
}

/// The liveness of the chosen route.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Liveness {
    /// Last datagram sent on it.
    pub(super) last_sent: Option<Instant>,
    /// Last authenticated datagram that came on it.
    pub(super) last_heard: Option<Instant>,
    /// The first datagram sent since `last_heard`.
    pub(super) unanswered_since: Option<Instant>,
    /// Liveness pings sent without an answer.
    pub(super) probes: u8,
}

/// Events not yet polled (flags: no queue to overflow).
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Events {
    pub(super) rendezvous: bool,
    pub(super) path: bool,
    pub(super) no_path: Option<NoPathReason>,
}

/// What an agent did so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct PathStats {
    /// Pings sent (checks, keepalives, liveness).
    pub pings: u64,
    /// Pongs sent.
    pub pongs: u64,
    /// Copies of initiations sent.
    pub initiation_copies: u64,
    /// Checks answered.
    pub answered: u64,
    /// Times the path changed.
    pub switches: u64,
    /// Times the path was lost.
    pub lost: u64,
}

/// One peer's path (see the [module documentation](super)).
#[derive(Debug, Clone)]
pub struct PathAgent {
    pub(super) config: PathConfig,
    /// We ping an idle path first (the smaller directory id leads).
    pub(super) leads: bool,
    pub(super) relay_enabled: bool,
    pub(super) checks: Checks,
    pub(super) selected: Option<Route>,
    pub(super) phase: Phase,
    pub(super) round_started: Instant,
    /// From when the relay may be the path.
    pub(super) relay_ready_at: Option<Instant>,
    pub(super) background_wait: crate::time::Duration,
    pub(super) next_tx: u64,
    pub(super) pongs: Deque<(Route, PathCheck), PONGS>,
    pub(super) initiation: Option<[u8; INITIATION_LEN]>,
    /// When the channel made it: after `REKEY_ATTEMPT_TIME` the channel has given it up.
    pub(super) initiation_at: Instant,
    /// The peer's initiation we answered last (its `mac1`) and our response.
    pub(super) answered: Option<([u8; 16], [u8; RESPONSE_LEN])>,
    /// No check leaves before this (pacing).
    pub(super) pace_until: Instant,
    pub(super) live: Liveness,
    pub(super) observed: Option<SocketAddr>,
    pub(super) events: Events,
    pub(super) timers: TimerTable<TIMERS>,
    pub(super) stats: PathStats,
}

impl PathAgent {
    /// The agent of `local` for its path to `peer` (directory ids), whom the directory
    /// published at `published` (its server-reflexive address, checked first); `relay`
    /// says whether the directory's relay is on.
    pub fn new(
        config: PathConfig,
        local: PeerId,
        peer: PeerId,
        published: Option<SocketAddr>,
        relay: bool,
    ) -> Self {
        let mut agent = PathAgent {
            config,
            leads: local < peer,
            relay_enabled: false,
            checks: Checks::default(),
            selected: None,
            phase: Phase::Idle,
            round_started: Instant::ZERO,
            relay_ready_at: None,
            background_wait: config.background_initial,
            next_tx: 1,
            pongs: Deque::new(),
            initiation: None,
            initiation_at: Instant::ZERO,
            answered: None,
            pace_until: Instant::ZERO,
            live: Liveness::default(),
            observed: None,
            events: Events::default(),
            timers: TimerTable::new(),
            stats: PathStats::default(),
        };
        if let Some(addr) = published {
            agent.add_route(Route::Direct(addr), RouteKind::ServerReflexive);
        }
        if relay {
            agent.add_route(Route::Relay, RouteKind::Relay);
            agent.relay_enabled = true;
        }
        agent
    }

    /// Where datagrams to the peer go now; `None`: hold them (a path is being looked for).
    pub fn route(&self) -> Option<Route> {
        self.selected
    }

    /// How the current route was learned.
    pub fn route_kind(&self) -> Option<RouteKind> {
        let i = self.checks.find(self.selected?)?;
        Some(self.checks.get(i).kind)
    }

    /// Our own address as the peer last saw it on a direct route (a `Pong`'s `observed`).
    /// Another port than our server-reflexive address means our NAT maps per destination.
    pub fn observed(&self) -> Option<SocketAddr> {
        self.observed
    }

    /// Whether fast checks are running.
    pub fn is_punching(&self) -> bool {
        self.phase == Phase::Punching
    }

    /// What the agent did so far.
    pub fn stats(&self) -> PathStats {
        self.stats
    }

    /// The routes known and whether each answered (for logs and tests).
    pub fn routes(&self) -> impl Iterator<Item = (Route, RouteKind, bool)> + '_ {
        self.checks.iter().map(|c| (c.route, c.kind, c.succeeded))
    }

    pub(super) fn take_tx(&mut self) -> u64 {
        let tx = self.next_tx;
        self.next_tx = self.next_tx.wrapping_add(1).max(1);
        tx
    }

    pub(super) fn add_route(&mut self, route: Route, kind: RouteKind) -> Option<usize> {
        let tx = self.next_tx;
        let i = self.checks.add(route, kind, tx, self.selected)?;
        if self.checks.get(i).tx == tx {
            self.take_tx();
        }
        Some(i)
    }

    /// Something waits for the peer. With no path, this starts a search (and asks for a
    /// rendezvous) unless one is running or the last began less than
    /// [`PathConfig::background_max`] ago.
    pub fn want(&mut self, now: Instant) {
        if self.selected.is_some() || self.phase == Phase::Punching {
            return;
        }
        let recent = now - self.round_started < self.config.background_max;
        if self.phase != Phase::Idle && recent {
            return;
        }
        self.events.rendezvous = true;
        self.start_round(now, now + self.config.relay_after);
    }

    /// The directory's `PunchNotice`: the peer's candidates. Starts a punch round now (the
    /// peer starts one too); in the background, a burst of checks instead.
    pub fn handle_notice(&mut self, now: Instant, candidates: &[Candidate]) {
        for c in candidates {
            let kind = match c.kind {
                CandidateKind::Host => RouteKind::Host,
                CandidateKind::ServerReflexive => RouteKind::ServerReflexive,
            };
            self.add_route(Route::Direct(c.addr.into()), kind);
        }
        if self.phase == Phase::Background {
            // A background round (ours or the peer's): a burst to every route that has
            // not answered, in step with the peer's.
            let selected = self.selected;
            for c in self.checks.iter_mut() {
                if !c.succeeded && Some(c.route) != selected {
                    c.schedule(now, BACKGROUND_BURST);
                }
            }
            return self.schedule_send();
        }
        // A round under way, or a path: the relay stays as eligible as it was.
        let fresh = now + self.config.relay_after;
        let relay_at = match self.relay_ready_at {
            Some(t) if self.phase == Phase::Punching || self.selected.is_some() => t.min(fresh),
            _ => fresh,
        };
        self.start_round(now, relay_at);
        // The peer asked for a punch although we have a path: it may have lost it. Check
        // ours now (the liveness pings give it up if it stopped answering).
        if let (Some(route), 0) = (self.selected, self.live.probes) {
            self.probe(now, route);
            self.schedule_send();
        }
    }

    /// Starts a round of fast checks of every route but the chosen one.
    pub(super) fn start_round(&mut self, now: Instant, relay_at: Instant) {
        self.phase = Phase::Punching;
        self.round_started = now;
        self.relay_ready_at = Some(relay_at);
        self.events.no_path = None;
        let selected = self.selected;
        for c in self.checks.iter_mut() {
            c.answered = false;
            if Some(c.route) != selected {
                c.schedule(now, PUNCH_BURST);
            }
        }
        self.timers.set(Timer::RelayAfter as usize, Some(relay_at));
        let end = now + self.config.punch_window;
        self.timers.set(Timer::WindowEnd as usize, Some(end));
        self.timers.stop(Timer::Background as usize);
        self.schedule_send();
    }

    /// The directory's relay went on or off (a `RelayGrant`).
    pub fn set_relay(&mut self, now: Instant, enabled: bool) {
        if enabled == self.relay_enabled {
            return;
        }
        self.relay_enabled = enabled;
        if enabled {
            if let Some(i) = self.add_route(Route::Relay, RouteKind::Relay) {
                // Checked at once if a round is under way; else with the next one.
                if self.phase == Phase::Punching {
                    self.checks.get_mut(i).schedule(now, PUNCH_BURST);
                }
            }
        } else {
            if self.selected == Some(Route::Relay) {
                self.lose(now);
            }
            self.checks.remove(Route::Relay);
        }
        self.schedule_send();
    }

    /// Makes the best route that answered the path, if it beats the current one.
    pub(super) fn reselect(&mut self, now: Instant) {
        let relay_ok = self.relay_ready_at.is_some_and(|t| now >= t);
        let Some(best) = self.checks.best(relay_ok) else {
            return;
        };
        let (route, rank) = (best.route, best.kind.rank());
        let current = self
            .selected
            .and_then(|r| self.checks.find(r))
            .map(|i| self.checks.get(i).kind.rank());
        if current.is_some_and(|c| c >= rank) {
            return;
        }
        self.selected = Some(route);
        self.events.path = true;
        self.events.no_path = None;
        self.stats.switches += 1;
        self.live = Liveness {
            last_sent: Some(now),
            last_heard: Some(now),
            ..Liveness::default()
        };
        if let Some(i) = self.checks.find(route) {
            let c = self.checks.get_mut(i);
            c.due = None;
            c.left = 0;
        }
        if route.is_direct() && self.phase == Phase::Background {
            self.settle();
        }
        self.schedule_liveness();
    }

    /// A direct route is the path: background rounds stop.
    pub(super) fn settle(&mut self) {
        self.phase = Phase::Settled;
        self.timers.stop(Timer::Background as usize);
        for c in self.checks.iter_mut() {
            c.due = None;
            c.left = 0;
        }
    }

    /// The path stopped answering: forget what worked and search again, the relay
    /// allowed at once.
    pub(super) fn lose(&mut self, now: Instant) {
        self.selected = None;
        self.events.path = true;
        self.events.rendezvous = true;
        self.stats.lost += 1;
        self.live = Liveness::default();
        self.timers.stop(Timer::Liveness as usize);
        let mut txs = [0u64; super::MAX_ROUTES];
        for tx in txs.iter_mut() {
            *tx = self.take_tx();
        }
        for (c, tx) in self.checks.iter_mut().zip(txs) {
            c.forget(tx);
        }
        self.start_round(now, now);
    }
}
