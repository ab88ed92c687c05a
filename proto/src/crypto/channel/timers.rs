//! The peer channel's timer table: one deadline per [`ChannelTimer`], the next wake-up
//! being the earliest armed one.

use crate::time::Instant;

/// What a channel waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ChannelTimer {
    /// Send the handshake initiation again (new ephemeral, new epoch).
    Retry,
    /// Send an empty sealed packet: to confirm a session we initiated, or because we
    /// received data and sent nothing for `KEEPALIVE_TIMEOUT`.
    Keepalive,
    /// We sent data and heard nothing for `KEEPALIVE_TIMEOUT + REKEY_TIMEOUT`: the peer
    /// may have lost our session, so start a handshake.
    DeadPeer,
    /// Wipe the previous session.
    DropPrevious,
    /// Wipe everything: no session was made for `EXPIRE_AFTER`.
    Expire,
}

const TIMERS: usize = 5;

impl ChannelTimer {
    const ALL: [ChannelTimer; TIMERS] = [
        ChannelTimer::Retry,
        ChannelTimer::Keepalive,
        ChannelTimer::DeadPeer,
        ChannelTimer::DropPrevious,
        ChannelTimer::Expire,
    ];

    fn index(self) -> usize {
        self as usize
    }
}

/// One optional deadline per timer.
#[derive(Debug, Clone, Default)]
pub(super) struct TimerTable {
    at: [Option<Instant>; TIMERS],
}

impl TimerTable {
    pub(super) fn set(&mut self, timer: ChannelTimer, at: Instant) {
        self.at[timer.index()] = Some(at);
    }

    /// Arms `timer` at `at` unless it is already armed earlier.
    pub(super) fn set_earliest(&mut self, timer: ChannelTimer, at: Instant) {
        let slot = &mut self.at[timer.index()];
        *slot = Some(slot.map_or(at, |t| t.min(at)));
    }

    pub(super) fn stop(&mut self, timer: ChannelTimer) {
        self.at[timer.index()] = None;
    }

    pub(super) fn get(&self, timer: ChannelTimer) -> Option<Instant> {
        self.at[timer.index()]
    }

    /// The earliest deadline.
    pub(super) fn next(&self) -> Option<Instant> {
        self.at.iter().flatten().min().copied()
    }

    /// Disarms and returns the first timer due at `now`, if any.
    pub(super) fn take_due(&mut self, now: Instant) -> Option<ChannelTimer> {
        let due = ChannelTimer::ALL
            .into_iter()
            .find(|t| self.get(*t).is_some_and(|at| at <= now))?;
        self.stop(due);
        Some(due)
    }

    pub(super) fn clear(&mut self) {
        self.at = [None; TIMERS];
    }
}
