//! `Client::poll_event`: the control machine's actions and events, applied to the
//! endpoint's peer table and translated for the host, then the endpoint's events with
//! peer ids turned into names.

use super::{Client, Event};
use crate::control::client::{Action, ClientEvent};
use crate::endpoint::{Endpoint, Event as EndpointEvent};
use crate::names::user::UserName;
use crate::roster::{PeerRecord, RosterEvent};
use crate::wire::PeerId;

use super::peers::Peers;

impl<
        const P: usize,
        const Q: usize,
        const E: usize,
        const T: usize,
        const R: usize,
        const B: usize,
        const FS: usize,
        const FR: usize,
        const FW: usize,
    > Client<P, Q, E, T, R, B, FS, FR, FW>
{
    /// What the host must do or tell the user next.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event<'_>> {
        if let Some(action) = self.control.poll_action() {
            return Some(match action {
                Action::Connect => {
                    self.connecting = true;
                    Event::Connect
                }
                Action::Close => Event::Close,
            });
        }
        while let Some(event) = self.control.poll_event() {
            if let Some(event) = self.on_control_event(event) {
                return Some(event);
            }
        }
        if let Some(event) = self.poll_expired() {
            return Some(event);
        }
        self.poll_endpoint_event()
    }

    fn on_control_event(&mut self, event: ClientEvent) -> Option<Event<'static>> {
        Some(match event {
            ClientEvent::LoggedIn {
                id,
                addr,
                reconnected,
            } => {
                if self.local_id != Some(id) {
                    self.local_id = Some(id);
                    self.endpoint.set_local_id(id);
                }
                self.relogin = reconnected;
                Event::LoggedIn {
                    id,
                    addr: addr.into(),
                    again: reconnected,
                }
            }
            ClientEvent::Rejected(reason) => Event::Rejected(reason),
            ClientEvent::Disconnected(why) => Event::Disconnected(why),
            ClientEvent::Stopped => Event::Stopped,
            ClientEvent::Observed(_) => return None,
            ClientEvent::Roster(event) => return self.on_roster_event(event),
        })
    }

    fn on_roster_event(&mut self, event: RosterEvent) -> Option<Event<'static>> {
        match event {
            RosterEvent::Joined(r) | RosterEvent::Moved(r) if Some(r.id) != self.local_id => {
                self.linger.forget(&r);
                let new_name = self.peers.by_name(r.name.as_str()).is_none();
                let changed = adopt(&mut self.endpoint, &mut self.peers, r);
                (changed && new_name).then_some(Event::Joined {
                    id: r.id,
                    name: r.name,
                    addr: r.addr.into(),
                })
            }
            RosterEvent::Left(r) if Some(r.id) != self.local_id => {
                self.linger.forget(&r);
                let gone = drop_peer(&mut self.endpoint, &mut self.peers, r.id)?;
                Some(Event::Left {
                    id: gone.id,
                    name: gone.name,
                })
            }
            RosterEvent::Synced { .. } => {
                self.resync();
                Some(Event::PeerList)
            }
            _ => None,
        }
    }

    /// Makes the peer table equal to the roster (ourselves left out): a peer whose id,
    /// name and address are unchanged keeps its link. In the first list after our
    /// re-login, a peer that is simply missing (not replaced) lingers instead of going.
    fn resync(&mut self) {
        let lenient = core::mem::take(&mut self.relogin);
        let until = self.now + super::REJOIN_GRACE;
        let roster = self.control.roster();
        let mut i = 0;
        while let Some(p) = self.peers.get(i).copied() {
            let me = Some(p.id) == self.local_id;
            if !me && roster.get(p.id).is_some_and(|r| *r == p) {
                self.linger.forget(&p);
                i += 1;
            } else if !me && lenient && roster.find(p.name.as_str()).is_none() {
                self.linger.insert(p, until);
                i += 1;
            } else {
                self.linger.forget(&p);
                // `drop_peer` swap-removes: index `i` now holds an unchecked entry.
                drop_peer(&mut self.endpoint, &mut self.peers, p.id);
            }
        }
        for r in roster.iter() {
            if Some(r.id) != self.local_id {
                self.linger.forget(r);
                adopt(&mut self.endpoint, &mut self.peers, *r);
            }
        }
    }

    /// A lingering peer that did not come back in time: it left.
    fn poll_expired(&mut self) -> Option<Event<'static>> {
        while let Some(record) = self.linger.take_expired(self.now) {
            // Only if the table still holds that very record (not a replacement).
            if self.peers.contains(&record) {
                drop_peer(&mut self.endpoint, &mut self.peers, record.id);
                return Some(Event::Left {
                    id: record.id,
                    name: record.name,
                });
            }
        }
        None
    }

    fn poll_endpoint_event(&mut self) -> Option<Event<'_>> {
        let peers = &self.peers;
        let named = |id: PeerId| peers.name_of(id).unwrap_or_else(|| id_name(id));
        Some(match self.endpoint.poll_event()? {
            EndpointEvent::Message { from, text, to_all } => Event::Message {
                from: named(from),
                text,
                to_all,
            },
            EndpointEvent::Delivered { to, id } => Event::Delivered { to: named(to), id },
            EndpointEvent::Failed { to, id, reason } => Event::Failed {
                to: named(to),
                id,
                reason,
            },
        })
    }
}

/// A stand-in name (`peer-ID`) for an id the table no longer holds. Not reached: the
/// table remembers the last `P` departed peers, more than one drain can remove.
fn id_name(id: PeerId) -> UserName {
    // "peer-" and at most 10 digits fit 15 bytes. The digits are written by hand so
    // that a device's image does not need `core::fmt` for this.
    let mut buf = *b"peer-0000000000";
    let mut start = buf.len();
    let mut n = id.0;
    loop {
        start -= 1;
        // `n % 10` is below 10.
        buf[start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    buf.copy_within(..5, start - 5);
    // ASCII letters, a dash and digits are valid UTF-8 and always make a valid name.
    let s = core::str::from_utf8(&buf[start - 5..]).expect("ASCII is UTF-8");
    UserName::new(s).expect("peer-ID is a valid name")
}

/// Puts `record` in the peer table (replacing entries with its id or name). Returns
/// whether anything changed.
fn adopt<
    const P: usize,
    const Q: usize,
    const E: usize,
    const T: usize,
    const R: usize,
    const B: usize,
    const FS: usize,
    const FR: usize,
    const FW: usize,
>(
    endpoint: &mut Endpoint<P, Q, E, T, R, B, FS, FR, FW>,
    peers: &mut Peers<P>,
    record: PeerRecord,
) -> bool {
    if peers.contains(&record) {
        return false;
    }
    if peers.same_login(&record) {
        // Only the address moved: the endpoint starts the link over at the new address.
        return endpoint.add_peer(record.id, record.addr.into()).is_ok() && peers.set(record);
    }
    while let Some(id) = peers.clashing(&record) {
        drop_peer(endpoint, peers, id);
    }
    if endpoint.add_peer(record.id, record.addr.into()).is_err() {
        return false;
    }
    if !peers.insert(record) {
        // The tables have the same size, so the endpoint refused first; keep them equal.
        endpoint.remove_peer(record.id);
        return false;
    }
    true
}

fn drop_peer<
    const P: usize,
    const Q: usize,
    const E: usize,
    const T: usize,
    const R: usize,
    const B: usize,
    const FS: usize,
    const FR: usize,
    const FW: usize,
>(
    endpoint: &mut Endpoint<P, Q, E, T, R, B, FS, FR, FW>,
    peers: &mut Peers<P>,
    id: PeerId,
) -> Option<PeerRecord> {
    let gone = peers.remove(id)?;
    endpoint.remove_peer(id);
    Some(gone)
}

#[cfg(test)]
mod id_name_tests {
    extern crate std;

    use super::{id_name, PeerId};

    #[test]
    fn a_departed_peer_is_named_peer_and_its_id() {
        for id in [0, 7, 10, 4096, u32::MAX] {
            assert_eq!(id_name(PeerId(id)).as_str(), std::format!("peer-{id}"));
        }
    }
}
