//! What the peer and its channel tell a [`PathAgent`]: checks (a ping is answered where
//! it came from and teaches a peer-reflexive route; a pong proves a route), other
//! authenticated datagrams (liveness), data sent, the channel's initiations and
//! responses, and moves.

use core::net::SocketAddr;

use super::agent::{Phase, BACKGROUND_BURST};
use super::{PathAgent, Route, RouteKind};
use crate::time::Instant;
use crate::wire::v2_path::PathCheck;
use crate::wire::v2_peer::{
    INITIATION_LEN, INITIATION_MAC1_OFFSET, INITIATION_MAC2_OFFSET, RESPONSE_LEN,
};

impl PathAgent {
    /// A path check the peer sent, opened by its channel, that came on `route`.
    pub fn handle_check(&mut self, now: Instant, route: Route, check: PathCheck) {
        self.heard(now, route);
        match check {
            PathCheck::Ping { tx } => self.on_ping(now, route, tx),
            PathCheck::Pong { tx, observed } => self.on_pong(now, route, tx, observed),
        }
    }

    fn on_ping(&mut self, now: Instant, route: Route, tx: u64) {
        let observed = match route {
            Route::Direct(src) => Some(src.into()),
            Route::Relay => None,
        };
        if self.pongs.is_full() {
            self.pongs.pop_front();
        }
        // Room was just made.
        let _ = self
            .pongs
            .push_back((route, PathCheck::Pong { tx, observed }));
        // A ping from a route we have not seen answer: check it at once (the peer's NAT
        // just opened toward us there).
        let i = match route {
            Route::Relay => self.checks.find(Route::Relay),
            Route::Direct(_) => self.add_route(route, RouteKind::PeerReflexive),
        };
        if let Some(i) = i {
            let phase = self.phase;
            let c = self.checks.get_mut(i);
            if !c.succeeded && phase != Phase::Idle && c.due.is_none() {
                c.schedule(now, BACKGROUND_BURST);
            }
        }
        self.schedule_send();
    }

    fn on_pong(
        &mut self,
        now: Instant,
        route: Route,
        tx: u64,
        observed: Option<crate::wire::WireAddr>,
    ) {
        let Some(i) = self.checks.find(route) else {
            // An answer from an address no check named: the peer's NAT maps per
            // destination. Check the new route.
            if route == Route::Relay {
                return;
            }
            if let Some(i) = self.add_route(route, RouteKind::PeerReflexive) {
                self.checks.get_mut(i).schedule(now, BACKGROUND_BURST);
            }
            return self.schedule_send();
        };
        let c = self.checks.get_mut(i);
        if c.tx != tx {
            return;
        }
        c.succeeded = true;
        c.answered = true;
        c.due = None;
        c.left = 0;
        c.rtt = c.sent_at.map(|t| now.saturating_since(t));
        self.stats.answered += 1;
        if let (Route::Direct(_), Some(addr)) = (route, observed) {
            self.observed = Some(addr.into());
        }
        self.reselect(now);
        self.schedule_send();
    }

    /// An authenticated datagram other than a check came on `route`.
    pub fn handle_inbound(&mut self, now: Instant, route: Route) {
        self.heard(now, route);
    }

    fn heard(&mut self, now: Instant, route: Route) {
        if self.selected == Some(route) {
            self.live.last_heard = Some(now);
            self.live.unanswered_since = None;
            self.live.probes = 0;
            self.schedule_liveness();
        }
    }

    /// Data was sent on [`PathAgent::route`].
    pub fn handle_sent(&mut self, now: Instant) {
        self.live.last_sent = Some(now);
        self.live.unanswered_since.get_or_insert(now);
        self.schedule_liveness();
    }

    /// The peer channel's newest handshake initiation (the channel does not send it: the
    /// agent sends copies where they must go).
    pub fn handle_initiation(&mut self, now: Instant, initiation: &[u8]) {
        let Ok(bytes) = <[u8; INITIATION_LEN]>::try_from(initiation) else {
            return;
        };
        self.initiation = Some(bytes);
        self.initiation_at = now;
        let selected = self.selected;
        for c in self.checks.iter_mut() {
            c.owes_initiation = match selected {
                Some(route) => c.route == route,
                None => true,
            };
        }
        self.schedule_send();
    }

    /// The channel answered the peer's `initiation` with `response`: kept, so a copy of
    /// the same initiation that arrives later (again, or on another route) is answered
    /// again ([`PathAgent::repeat_response`]). The peer sends copies to every candidate
    /// until one response gets through; the channel answers only the first.
    pub fn handle_response_sent(&mut self, initiation: &[u8], response: &[u8]) {
        let mac1 = initiation.get(INITIATION_MAC1_OFFSET..INITIATION_MAC2_OFFSET);
        if let (Some(mac1), Ok(response)) = (mac1, <[u8; RESPONSE_LEN]>::try_from(response)) {
            let mut id = [0u8; 16];
            id.copy_from_slice(mac1);
            self.answered = Some((id, response));
        }
    }

    /// A copy of an initiation the channel refused as stale: the response to send back
    /// the way it came if it is the initiation answered last (its `mac1` covers all of
    /// it but the MACs). The response is smaller than the initiation: no amplifier.
    pub fn repeat_response(&self, initiation: &[u8]) -> Option<&[u8]> {
        let mac1 = initiation.get(INITIATION_MAC1_OFFSET..INITIATION_MAC2_OFFSET)?;
        let (id, response) = self.answered.as_ref()?;
        (initiation.len() == INITIATION_LEN && id[..] == *mac1).then_some(&response[..])
    }

    /// The peer channel moved the peer to `addr` (an authenticated packet, the newest, came
    /// from there): check it as a peer-reflexive route.
    pub fn handle_moved(&mut self, now: Instant, addr: SocketAddr) {
        if let Some(i) = self.add_route(Route::Direct(addr), RouteKind::PeerReflexive) {
            let c = self.checks.get_mut(i);
            if !c.succeeded && c.due.is_none() {
                c.schedule(now, BACKGROUND_BURST);
            }
        }
        self.schedule_send();
    }
}
