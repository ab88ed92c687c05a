//! An agent's routes to one peer and the state of the checks over each: a small fixed
//! table ([`MAX_ROUTES`]), ranked by how each route was learned.

use heapless::Vec;

use super::{Route, RouteKind, MAX_ROUTES};
use crate::time::{Duration, Instant};

/// One route and its check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Check {
    pub(super) route: Route,
    pub(super) kind: RouteKind,
    /// A pong came back on this route (and nothing since said it stopped working).
    pub(super) succeeded: bool,
    /// A pong came back in the current round.
    pub(super) answered: bool,
    /// The id the pings of this check carry; retries repeat it.
    pub(super) tx: u64,
    /// When to send the next ping, if one is owed.
    pub(super) due: Option<Instant>,
    /// Sends left in this round.
    pub(super) left: u16,
    /// When the last ping of this check left (for the round-trip time).
    pub(super) sent_at: Option<Instant>,
    /// The round trip of the last answered check.
    pub(super) rtt: Option<Duration>,
    /// Owed one copy of the channel's newest initiation.
    pub(super) owes_initiation: bool,
}

impl Check {
    fn new(route: Route, kind: RouteKind, tx: u64) -> Self {
        Check {
            route,
            kind,
            succeeded: false,
            answered: false,
            tx,
            due: None,
            left: 0,
            sent_at: None,
            rtt: None,
            owes_initiation: false,
        }
    }

    /// Owes `sends` pings from `now` on.
    pub(super) fn schedule(&mut self, now: Instant, sends: u16) {
        self.left = sends;
        self.due = (sends > 0).then_some(now);
    }

    /// Forgets that the route worked: the next pong must prove it again.
    pub(super) fn forget(&mut self, tx: u64) {
        self.succeeded = false;
        self.answered = false;
        self.tx = tx;
        self.sent_at = None;
    }
}

/// The routes of one agent.
#[derive(Debug, Clone, Default)]
pub(super) struct Checks {
    list: Vec<Check, MAX_ROUTES>,
}

impl Checks {
    pub(super) fn iter(&self) -> impl Iterator<Item = &Check> {
        self.list.iter()
    }

    pub(super) fn iter_mut(&mut self) -> impl Iterator<Item = &mut Check> {
        self.list.iter_mut()
    }

    pub(super) fn get(&self, i: usize) -> &Check {
        &self.list[i]
    }

    pub(super) fn get_mut(&mut self, i: usize) -> &mut Check {
        &mut self.list[i]
    }

    pub(super) fn find(&self, route: Route) -> Option<usize> {
        self.list.iter().position(|c| c.route == route)
    }

    /// The index of `route`, added as `kind` if new (a known route takes the higher of
    /// the two kinds). When the table is full, a new route replaces the lowest-ranked one
    /// that never answered and is not `keep`; `None` if there is none.
    pub(super) fn add(
        &mut self,
        route: Route,
        kind: RouteKind,
        tx: u64,
        keep: Option<Route>,
    ) -> Option<usize> {
        if let Some(i) = self.find(route) {
            let c = &mut self.list[i];
            c.kind = c.kind.max(kind);
            return Some(i);
        }
        let fresh = Check::new(route, kind, tx);
        if self.list.push(fresh).is_ok() {
            return Some(self.list.len() - 1);
        }
        let victim = self
            .list
            .iter()
            .enumerate()
            .filter(|(_, c)| !c.succeeded && Some(c.route) != keep && c.route != Route::Relay)
            .filter(|(_, c)| c.kind.rank() <= kind.rank())
            .min_by_key(|(_, c)| c.kind)
            .map(|(i, _)| i)?;
        self.list[victim] = fresh;
        Some(victim)
    }

    /// Removes `route` if present.
    pub(super) fn remove(&mut self, route: Route) {
        if let Some(i) = self.find(route) {
            self.list.remove(i);
        }
    }

    /// The best route that answered: the highest rank, then the shortest round trip. The
    /// relay only if `relay_ok`.
    pub(super) fn best(&self, relay_ok: bool) -> Option<&Check> {
        self.list
            .iter()
            .filter(|c| c.succeeded && (c.route.is_direct() || relay_ok))
            .max_by(|a, b| {
                let rtt = |c: &Check| core::cmp::Reverse(c.rtt.unwrap_or(Duration::MAX));
                (a.kind.rank(), rtt(a)).cmp(&(b.kind.rank(), rtt(b)))
            })
    }

    /// The earliest ping owed.
    pub(super) fn next_due(&self) -> Option<Instant> {
        self.list.iter().filter_map(|c| c.due).min()
    }

    /// The index of the check owed a ping longest, if one is due at `now`.
    pub(super) fn due_at(&self, now: Instant) -> Option<usize> {
        self.list
            .iter()
            .enumerate()
            .filter(|(_, c)| c.due.is_some_and(|d| d <= now))
            .min_by_key(|(_, c)| c.due)
            .map(|(i, _)| i)
    }

    /// The index of a check owed a copy of the initiation.
    pub(super) fn owing_initiation(&self) -> Option<usize> {
        self.list.iter().position(|c| c.owes_initiation)
    }
}
