extern crate std;

mod basic;
mod recovery;
mod table;

use std::string::{String, ToString};
use std::vec::Vec;

use super::*;
use crate::time::Duration;
use crate::wire::{encode_packet, Ack, Chat, Frag, MAX_DATAGRAM, MAX_TEXT_LEN};

pub(super) type Ep = Endpoint<4, 4, 8, { 40 * 1024 }, 2, { 16 * 1024 }>;

pub(super) const A: PeerId = PeerId(1);
pub(super) const B: PeerId = PeerId(2);
pub(super) const C: PeerId = PeerId(3);

pub(super) fn addr(id: PeerId) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 4000 + id.0 as u16))
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Ev {
    Msg(PeerId, String, bool),
    Delivered(PeerId, MessageId),
    Failed(PeerId, MessageId, FailReason),
}

pub(super) fn endpoint(me: PeerId, peers: &[PeerId], seed: u64) -> Ep {
    let mut ep = Ep::new(EndpointConfig {
        link: LinkConfig::default(),
        seed,
        ..EndpointConfig::default()
    });
    ep.set_local_id(me);
    for &p in peers {
        ep.add_peer(p, addr(p)).unwrap();
    }
    ep
}

pub(super) fn events(ep: &mut Ep) -> Vec<Ev> {
    let mut out = Vec::new();
    while let Some(ev) = ep.poll_event() {
        out.push(match ev {
            Event::Message { from, text, to_all } => Ev::Msg(from, text.to_string(), to_all),
            Event::Delivered { to, id } => Ev::Delivered(to, id),
            Event::Failed { to, id, reason } => Ev::Failed(to, id, reason),
        });
    }
    out
}

/// All datagrams `ep` wants to send now: (destination, bytes).
pub(super) fn drain(ep: &mut Ep, now: Instant) -> Vec<(SocketAddr, Vec<u8>)> {
    let mut buf = [0u8; MAX_DATAGRAM];
    let mut out = Vec::new();
    while let Some(t) = ep.poll_transmit(now, &mut buf) {
        assert!(t.len <= MAX_DATAGRAM);
        out.push((t.dst, buf[..t.len].to_vec()));
    }
    out
}

/// Moves datagrams among `eps` (indexed by id - 1) until quiet; `keep` may drop some.
pub(super) fn pump(eps: &mut [&mut Ep], now: Instant, mut keep: impl FnMut(&[u8]) -> bool) {
    loop {
        let mut moved = false;
        for i in 0..eps.len() {
            let from = addr(PeerId(i as u32 + 1));
            for (dst, bytes) in drain(eps[i], now) {
                moved = true;
                let j = usize::from(dst.port() - 4001);
                if keep(&bytes) {
                    eps[j].handle_datagram(now, from, &bytes);
                }
            }
        }
        if !moved {
            return;
        }
    }
}

pub(super) fn all(_: &[u8]) -> bool {
    true
}
