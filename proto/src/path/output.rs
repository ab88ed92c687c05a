//! What a [`PathAgent`] hands out: datagrams (pongs first, then initiation copies and
//! pings, paced), events, and its timers.

use super::agent::{Phase, Timer, BACKGROUND_BURST};
use super::{NoPathReason, PathAgent, PathEvent, PathTransmit, KEEPALIVE_FOLLOW};
use crate::crypto::channel::REKEY_ATTEMPT_TIME;
use crate::crypto::PeerChannel;
use crate::time::Instant;
use crate::wire::v2_path::{PathCheck, MAX_PATH_CHECK};
use crate::wire::v2_peer::{INITIATION_LEN, SEALED_HEADER_LEN, SEALED_OVERHEAD};
use crate::wire::EncodeError;

/// The smallest buffer [`PathAgent::poll_transmit`] takes: an initiation or a sealed check.
pub const PATH_BUFFER: usize = if INITIATION_LEN > SEALED_OVERHEAD + MAX_PATH_CHECK {
    INITIATION_LEN
} else {
    SEALED_OVERHEAD + MAX_PATH_CHECK
};

impl PathAgent {
    /// The next datagram the agent wants sent, written into `buf` (at least
    /// [`PATH_BUFFER`] bytes): a pong owed, a copy of the channel's initiation, or a ping,
    /// sealed with `chan` (the peer's channel). With no session to seal with, the agent
    /// asks `chan` for a handshake; its initiation comes back through
    /// [`PathAgent::handle_initiation`].
    pub fn poll_transmit<const W: usize>(
        &mut self,
        now: Instant,
        chan: &mut PeerChannel<W>,
        buf: &mut [u8],
    ) -> Result<Option<PathTransmit>, EncodeError> {
        if buf.len() < PATH_BUFFER {
            return Err(EncodeError::BufferTooSmall {
                needed: PATH_BUFFER,
            });
        }
        let sent = self.next_datagram(now, chan, buf);
        if let Some(t) = sent {
            if self.selected == Some(t.route) {
                self.live.last_sent = Some(now);
            }
        }
        self.schedule_send();
        Ok(sent)
    }

    fn next_datagram<const W: usize>(
        &mut self,
        now: Instant,
        chan: &mut PeerChannel<W>,
        buf: &mut [u8],
    ) -> Option<PathTransmit> {
        // The channel gives an initiation up after `REKEY_ATTEMPT_TIME`: no more copies.
        if now - self.initiation_at >= REKEY_ATTEMPT_TIME {
            self.initiation = None;
        }
        while let Some((route, pong)) = self.pongs.pop_front() {
            if let Some(len) = seal_check(now, chan, &pong, buf) {
                self.stats.pongs += 1;
                return Some(PathTransmit { route, len });
            }
        }
        if now < self.pace_until {
            return None;
        }
        let mut sent = None;
        while sent.is_none()
            && self.initiation.is_some()
            && self.checks.owing_initiation().is_some()
        {
            sent = self.owed_initiation(buf);
        }
        let sent = sent.or_else(|| self.due_check(now, chan, buf));
        if sent.is_some() {
            self.pace_until = now + self.config.check_pace;
        }
        sent
    }

    /// A copy of the newest initiation for a route owed one.
    fn owed_initiation(&mut self, buf: &mut [u8]) -> Option<PathTransmit> {
        let initiation = self.initiation?;
        let i = self.checks.owing_initiation()?;
        let c = self.checks.get_mut(i);
        if c.due.is_some() {
            // Its check is scheduled: that send carries the copy (or a ping, if a
            // session came meanwhile).
            c.owes_initiation = false;
            return None;
        }
        c.owes_initiation = false;
        buf[..INITIATION_LEN].copy_from_slice(&initiation);
        self.stats.initiation_copies += 1;
        Some(PathTransmit {
            route: c.route,
            len: INITIATION_LEN,
        })
    }

    /// The check owed a ping longest: a sealed ping, or (no session yet) a copy of the
    /// initiation.
    fn due_check<const W: usize>(
        &mut self,
        now: Instant,
        chan: &mut PeerChannel<W>,
        buf: &mut [u8],
    ) -> Option<PathTransmit> {
        let interval = self.config.check_interval;
        while let Some(i) = self.checks.due_at(now) {
            let sealable = chan.can_seal(now);
            let c = self.checks.get_mut(i);
            let len = if sealable {
                let len = seal_check(now, chan, &PathCheck::Ping { tx: c.tx }, buf);
                self.stats.pings += u64::from(len.is_some());
                len
            } else if let Some(initiation) = &self.initiation {
                c.owes_initiation = false;
                buf[..INITIATION_LEN].copy_from_slice(initiation);
                self.stats.initiation_copies += 1;
                Some(INITIATION_LEN)
            } else {
                None
            };
            let Some(len) = len else {
                // Nothing to send it with yet: a handshake starts, and the check waits.
                chan.connect(now);
                c.due = Some(now + interval);
                continue;
            };
            c.left = c.left.saturating_sub(1);
            c.due = (c.left > 0).then_some(now + interval);
            c.sent_at = Some(now);
            return Some(PathTransmit {
                route: c.route,
                len,
            });
        }
        None
    }

    /// The next event, if any.
    pub fn poll_event(&mut self) -> Option<PathEvent> {
        if core::mem::take(&mut self.events.rendezvous) {
            return Some(PathEvent::Rendezvous);
        }
        if core::mem::take(&mut self.events.path) {
            return Some(match (self.selected, self.route_kind()) {
                (Some(route), Some(kind)) => PathEvent::Selected { route, kind },
                _ => PathEvent::Lost,
            });
        }
        if self.selected.is_none() {
            if let Some(reason) = self.events.no_path.take() {
                return Some(PathEvent::NoPath { reason });
            }
        }
        None
    }

    /// When [`PathAgent::handle_timeout`] must run next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.next()
    }

    /// Runs the timers due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.timers.take_due(Timer::RelayAfter as usize, now) {
            self.relay_time(now);
        }
        if self.timers.take_due(Timer::WindowEnd as usize, now) {
            self.window_end(now);
        }
        if self.timers.take_due(Timer::Background as usize, now) {
            self.background_round(now);
        }
        if self.timers.take_due(Timer::Liveness as usize, now) {
            self.liveness(now);
        }
        self.schedule_send();
    }

    /// The relay may be the path now; without one, say there is none.
    fn relay_time(&mut self, now: Instant) {
        self.reselect(now);
        if self.selected.is_none() && !self.relay_enabled {
            self.events.no_path = Some(NoPathReason::RelayDisabled);
        }
    }

    /// Fast checks end: settle on a direct route, or go on in the background.
    fn window_end(&mut self, now: Instant) {
        if self.selected.is_some_and(|r| r.is_direct()) {
            return self.settle();
        }
        self.phase = Phase::Background;
        let selected = self.selected;
        for c in self.checks.iter_mut().filter(|c| Some(c.route) != selected) {
            c.due = None;
            c.left = 0;
        }
        if self.selected.is_none() {
            self.events.no_path = Some(match self.relay_enabled {
                true => NoPathReason::Unreachable,
                false => NoPathReason::RelayDisabled,
            });
        }
        self.background_wait = self.config.background_initial;
        let at = now + self.background_wait;
        self.timers.set(Timer::Background as usize, Some(at));
    }

    /// A round of background checks of every route that has not answered, and a new
    /// rendezvous, so the peer checks in step (and the directory hands out candidates it
    /// may have learned since).
    fn background_round(&mut self, now: Instant) {
        if self.phase != Phase::Background {
            return;
        }
        self.events.rendezvous = true;
        let selected = self.selected;
        for c in self.checks.iter_mut() {
            if !c.succeeded && Some(c.route) != selected {
                c.schedule(now, BACKGROUND_BURST);
            }
        }
        let wait = self.background_wait.saturating_mul(2);
        self.background_wait = wait.min(self.config.background_max);
        let at = now + self.background_wait;
        self.timers.set(Timer::Background as usize, Some(at));
    }

    /// Keepalive, silence or an unanswered liveness ping: ping the path again, or give
    /// it up after [`PathConfig::liveness_attempts`](super::PathConfig) pings.
    fn liveness(&mut self, now: Instant) {
        let Some(route) = self.selected else {
            return;
        };
        if self.live.probes >= self.config.liveness_attempts {
            return self.lose(now);
        }
        let idle = self.live.last_sent.map(|t| t + self.keepalive());
        let silent = self.live.unanswered_since.map(|t| t + self.config.silence);
        let due = [idle, silent].into_iter().flatten().any(|t| t <= now);
        if self.live.probes == 0 && !due {
            return self.schedule_liveness();
        }
        self.probe(now, route);
    }

    /// Sends a liveness ping on the path (a new check id for the first of a series) and
    /// arms the next.
    pub(super) fn probe(&mut self, now: Instant, route: super::Route) {
        let fresh = (self.live.probes == 0).then(|| self.take_tx());
        if let Some(i) = self.checks.find(route) {
            let c = self.checks.get_mut(i);
            if let Some(tx) = fresh {
                c.tx = tx;
            }
            c.schedule(now, 1);
        }
        self.live.probes += 1;
        let next = now + self.config.liveness_interval;
        self.timers.set(Timer::Liveness as usize, Some(next));
    }

    /// Idle time before our keepalive: the side that leads pings after
    /// [`PathConfig::keepalive`](super::PathConfig), the other [`KEEPALIVE_FOLLOW`] later, so it
    /// only answers while the leader is there (one ping and one pong per interval).
    fn keepalive(&self) -> crate::time::Duration {
        match self.leads {
            true => self.config.keepalive,
            false => self.config.keepalive + KEEPALIVE_FOLLOW,
        }
    }

    /// Arms the liveness timer from the last send and the silence since (no ping out).
    pub(super) fn schedule_liveness(&mut self) {
        if self.selected.is_none() {
            return self.timers.stop(Timer::Liveness as usize);
        }
        if self.live.probes > 0 {
            return;
        }
        let idle = self.live.last_sent.map(|t| t + self.keepalive());
        let silent = self.live.unanswered_since.map(|t| t + self.config.silence);
        let at = [idle, silent].into_iter().flatten().min();
        self.timers.set(Timer::Liveness as usize, at);
    }

    /// Arms the send timer: now for a pong, else the first check or copy owed, paced.
    pub(super) fn schedule_send(&mut self) {
        let at = if !self.pongs.is_empty() {
            Some(Instant::ZERO)
        } else if self.initiation.is_some() && self.checks.owing_initiation().is_some() {
            Some(self.pace_until)
        } else {
            self.checks.next_due().map(|d| d.max(self.pace_until))
        };
        self.timers.set(Timer::Send as usize, at);
    }
}

/// Seals `check` with `chan` into `buf`; `None` if the channel cannot seal now.
fn seal_check<const W: usize>(
    now: Instant,
    chan: &mut PeerChannel<W>,
    check: &PathCheck,
    buf: &mut [u8],
) -> Option<usize> {
    if !chan.can_seal(now) {
        return None;
    }
    // The caller's buffer holds `PATH_BUFFER` bytes: room for any check, sealed.
    let n = check.encode(&mut buf[SEALED_HEADER_LEN..]).ok()?;
    chan.seal(now, buf, n).ok()
}
