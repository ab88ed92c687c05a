//! What one connection is sent: owed control frames, snapshot pages built lazily from
//! the live directory, then journal deltas copied out until the buffer is full.

use super::conn::{Conn, ConnState, Snap};
use super::journal::Journal;
use super::ConnId;
use super::{Record, Server, ServerEvent, Transmit};
use crate::directory::{Directory, Slot};
use crate::time::{Duration, Instant};
use crate::wire::{encode_server_frame, ServerMsg, SnapshotPage, MAX_SERVER_FRAME};

impl<S, C, J> Server<S, C, J>
where
    S: AsRef<[Slot]> + AsMut<[Slot]>,
    C: AsRef<[Conn]> + AsMut<[Conn]>,
    J: AsRef<[Record]> + AsMut<[Record]>,
{
    /// What to do with `conn` now: frames written into `buf` (give at least
    /// [`MAX_SERVER_FRAME`] bytes; more lets a burst go out in one write), a close, or
    /// nothing. Call when the connection is writable and after being woken.
    #[must_use]
    pub fn poll_transmit(&mut self, now: Instant, conn: ConnId, buf: &mut [u8]) -> Transmit {
        let Some(i) = self.index(conn) else {
            return Transmit::Close(super::CloseReason::Disconnected);
        };
        let heartbeat = self.config.heartbeat;
        let c = &mut self.conns.as_mut()[i];
        if let ConnState::Closing(reason) = c.state {
            let n = write_final(c, buf);
            return if n > 0 {
                Transmit::Frames(n)
            } else {
                Transmit::Close(reason)
            };
        }
        if c.state != ConnState::Active {
            return Transmit::Idle;
        }
        let mut out = Out { buf, pos: 0 };
        if c.owed.welcome && write_welcome(c, &self.dir, heartbeat, &mut out) {
            c.owed.welcome = false;
        }
        if c.owed.pong && out.put(&ServerMsg::Pong) {
            c.owed.pong = false;
        }
        let fell_behind = write_changes(c, &self.dir, &self.journal, now, &mut out);
        let n = out.pos;
        if fell_behind {
            self.event(ServerEvent::Resnapshot { conn });
        }
        if n > 0 {
            Transmit::Frames(n)
        } else {
            Transmit::Idle
        }
    }
}

/// A caller buffer being filled with whole frames.
struct Out<'b> {
    buf: &'b mut [u8],
    pos: usize,
}

impl Out<'_> {
    fn room(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// Appends one frame if it fits.
    fn put(&mut self, msg: &ServerMsg<'_>) -> bool {
        match encode_server_frame(msg, &mut self.buf[self.pos..]) {
            Ok(n) => {
                self.pos += n;
                true
            }
            Err(_) => false,
        }
    }

    fn copy(&mut self, frame: &[u8]) -> bool {
        if frame.len() > self.room() {
            return false;
        }
        self.buf[self.pos..self.pos + frame.len()].copy_from_slice(frame);
        self.pos += frame.len();
        true
    }
}

/// The last frames of a closing connection (`Rejected` or `Shutdown`), once each.
fn write_final(c: &mut Conn, buf: &mut [u8]) -> usize {
    let mut out = Out { buf, pos: 0 };
    if let Some(reason) = c.owed.reject {
        if out.put(&ServerMsg::Rejected { reason }) {
            c.owed.reject = None;
        }
    }
    if c.owed.shutdown && out.put(&ServerMsg::Shutdown) {
        c.owed.shutdown = false;
    }
    out.pos
}

fn write_welcome<S: AsRef<[Slot]> + AsMut<[Slot]>>(
    c: &Conn,
    dir: &Directory<S>,
    heartbeat: Duration,
    out: &mut Out<'_>,
) -> bool {
    let (Some(me), Some(token)) = (dir.get(c.id), dir.probe_token(c.id)) else {
        return true; // gone already: nothing to welcome
    };
    out.put(&ServerMsg::Welcome {
        id: c.id,
        observed_addr: me.addr,
        probe_token: token,
        heartbeat_ms: u32::try_from(heartbeat.as_millis()).unwrap_or(u32::MAX),
    })
}

/// Snapshot pages, then deltas, while they fit. Returns whether the connection fell
/// behind the journal (and was switched to a fresh snapshot).
fn write_changes<S, J>(
    c: &mut Conn,
    dir: &Directory<S>,
    journal: &Journal<J>,
    now: Instant,
    out: &mut Out<'_>,
) -> bool
where
    S: AsRef<[Slot]> + AsMut<[Slot]>,
    J: AsRef<[Record]> + AsMut<[Record]>,
{
    let mut fell_behind = false;
    loop {
        if let Some(snap) = c.snap {
            if out.room() < MAX_SERVER_FRAME {
                return fell_behind;
            }
            write_page(c, snap, dir, out);
            continue;
        }
        if c.sent >= dir.version() {
            return fell_behind;
        }
        match journal.get(c.sent + 1) {
            Some(frame) if out.copy(frame) => c.sent += 1,
            Some(_) => return fell_behind,
            None => {
                fell_behind = true;
                c.snap = Some(Snap {
                    next: 0,
                    page: 0,
                    started: now,
                });
            }
        }
    }
}

/// One snapshot page at the current version; page 0 resets the delta cursor to it.
fn write_page<S: AsRef<[Slot]> + AsMut<[Slot]>>(
    c: &mut Conn,
    snap: Snap,
    dir: &Directory<S>,
    out: &mut Out<'_>,
) {
    let mut peers = heapless::Vec::new();
    let next = dir.fill_page(snap.next, &mut peers);
    let page = SnapshotPage {
        version: dir.version(),
        page: snap.page,
        last: next.is_none(),
        peers,
    };
    // A page of 32 maximal entries is under MAX_SERVER_FRAME, and that much room was
    // checked by the caller.
    let _ = out.put(&ServerMsg::Snapshot(page));
    if snap.page == 0 {
        c.sent = dir.version();
    }
    c.snap = next.map(|next| Snap {
        next,
        page: snap.page + 1,
        started: snap.started,
    });
}
