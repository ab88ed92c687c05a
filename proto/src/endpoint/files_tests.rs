//! File transfers through the endpoint: routing, fills, priority behind chat.

extern crate std;

use std::vec;
use std::vec::Vec;

use core::net::SocketAddr;

use super::super::{Endpoint, EndpointConfig, Event};
use crate::time::{Duration, Instant};
use crate::transfer::{Event as FileEvent, Role};
use crate::wire::{decode_packet, Body, PeerId, MAX_DATAGRAM};

type Ep = Endpoint<4, 4, 8, 8192, 2, 4096, 1, 1, 64>;

const A: PeerId = PeerId(1);
const B: PeerId = PeerId(2);

fn addr(id: PeerId) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 5000 + id.0 as u16))
}

fn endpoint(me: PeerId, other: PeerId) -> std::boxed::Box<Ep> {
    let mut ep = std::boxed::Box::new(Ep::new(EndpointConfig::default()));
    ep.set_local_id(me);
    ep.add_peer(other, addr(other)).unwrap();
    ep
}

/// Everything `from` wants to send, with fills completed from `file`.
fn drain(ep: &mut Ep, now: Instant, file: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut buf = [0u8; MAX_DATAGRAM];
    while let Some(t) = ep.poll_transmit(now, &mut buf) {
        if let Some(fill) = t.fill {
            let at = fill.offset as usize;
            buf[fill.at..fill.at + fill.len].copy_from_slice(&file[at..at + fill.len]);
        }
        out.push(buf[..t.len].to_vec());
    }
    out
}

#[test]
fn a_file_moves_between_endpoints_behind_chat() {
    let file: Vec<u8> = (0..20_000u32).map(|i| (i % 253) as u8).collect();
    let hash = *blake3::hash(&file).as_bytes();
    let mut a = endpoint(A, B);
    let mut b = endpoint(B, A);
    let mut now = Instant::from_millis(1);
    a.files()
        .send(now, B, "notes.txt", file.len() as u64, hash)
        .unwrap();
    a.send(now, B, "hello", false).unwrap();
    let mut stored = vec![0u8; file.len()];
    let (mut received, mut sent, mut first) = (false, false, true);
    for _ in 0..10_000 {
        let mut moved = false;
        for bytes in drain(&mut a, now, &file) {
            moved = true;
            if first {
                assert!(matches!(decode_packet(&bytes).unwrap().body, Body::Chat(_)));
                first = false;
            }
            if let Some(w) = b.handle_datagram(now, addr(A), &bytes) {
                let at = w.offset as usize;
                stored[at..at + w.data.len()].copy_from_slice(w.data);
            }
        }
        for bytes in drain(&mut b, now, &[]) {
            moved = true;
            assert!(a.handle_datagram(now, addr(B), &bytes).is_none());
        }
        while let Some(e) = b.files().poll_event() {
            match e {
                FileEvent::Complete { key } => {
                    let h = *blake3::hash(&stored).as_bytes();
                    b.files().handle_hash(now, key, &h);
                }
                FileEvent::Received { key, size } => {
                    assert_eq!((key.role, size), (Role::Receive, 20_000));
                    b.files().handle_stored(now, key);
                    received = true;
                }
                _ => {}
            }
        }
        while let Some(e) = a.files().poll_event() {
            sent |= matches!(e, FileEvent::Sent { .. });
        }
        while let Some(e) = b.poll_event() {
            assert!(matches!(e, Event::Message { text: "hello", .. }));
        }
        while a.poll_event().is_some() {}
        if received && sent {
            break;
        }
        if moved {
            continue;
        }
        now = a
            .poll_timeout()
            .into_iter()
            .chain(b.poll_timeout())
            .min()
            .unwrap_or(now)
            .max(now + Duration::from_micros(100));
        a.handle_timeout(now);
        b.handle_timeout(now);
    }
    assert!(received && sent);
    assert_eq!(stored, file);
}

#[test]
fn a_removed_peer_ends_its_transfers() {
    let mut a = endpoint(A, B);
    let now = Instant::from_millis(1);
    a.files().send(now, B, "notes.txt", 10, [0; 32]).unwrap();
    assert!(a.remove_peer(B));
    let mut saw = false;
    while let Some(e) = a.files().poll_event() {
        saw |= matches!(e, FileEvent::Failed { .. });
    }
    assert!(saw);
    let mut buf = [0u8; MAX_DATAGRAM];
    assert!(
        a.poll_transmit(now, &mut buf).is_none(),
        "nothing goes to a removed peer"
    );
}
