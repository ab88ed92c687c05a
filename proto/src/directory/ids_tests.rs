//! Entries under ids the caller chose (a cluster's), remote entries, and walking the
//! table.

extern crate std;

use std::vec::Vec;

use super::*;
use crate::time::Duration;

const T0: Instant = Instant::ZERO;

fn addr(n: u8) -> WireAddr {
    WireAddr::V4([10, 0, 0, n], 4000 + u16::from(n))
}

fn dir(n: usize) -> Directory<Vec<Slot>> {
    let mut config = Config::new([9; 32]);
    config.expiry = Duration::from_secs(3);
    Directory::new(std::vec![Slot::EMPTY; n], config)
}

#[test]
fn given_ids_are_found_whatever_slot_they_land_in() {
    let mut d = dir(8);
    let ids = [7u32, 8, 15, 1_000_003, u32::MAX, 16];
    for (i, id) in ids.iter().enumerate() {
        let login = d
            .join_as(T0, &std::format!("u{i}"), addr(1), PeerId(*id), i as u32)
            .unwrap();
        assert_eq!(login.id, PeerId(*id));
        assert_eq!(login.delta.kind, DeltaKind::Joined);
    }
    for (i, id) in ids.iter().enumerate() {
        let record = d.get(PeerId(*id)).unwrap();
        assert_eq!(record.name.as_str(), std::format!("u{i}"));
        assert_eq!(d.tag(PeerId(*id)), Some(i as u32));
    }
    assert_eq!(d.get(PeerId(9)), None);
    // Leaving from the middle of a chain keeps the others reachable.
    d.leave(PeerId(15)).unwrap();
    d.leave(PeerId(7)).unwrap();
    for id in [8u32, 1_000_003, u32::MAX, 16] {
        assert!(d.get(PeerId(id)).is_some(), "{id}");
    }
    assert_eq!(d.get(PeerId(15)), None);
    assert_eq!(d.len(), 4);
}

#[test]
fn a_given_id_in_use_or_zero_is_refused() {
    let mut d = dir(4);
    d.join_as(T0, "a", addr(1), PeerId(5), 0).unwrap();
    assert_eq!(
        d.join_as(T0, "b", addr(2), PeerId(5), 0),
        Err(JoinError::IdTaken)
    );
    assert_eq!(
        d.join_as(T0, "b", addr(2), PeerId::SERVER, 0),
        Err(JoinError::IdTaken)
    );
    assert_eq!(
        d.join_as(T0, "A", addr(2), PeerId(6), 0),
        Err(JoinError::NameTaken)
    );
    assert_eq!(d.version(), 1);
}

#[test]
fn remote_entries_never_expire_here_local_ones_do() {
    let mut d = dir(4);
    d.join_as(T0, "local", addr(1), PeerId(10), 0).unwrap();
    d.join_remote("remote", addr(2), PeerId(20), 1 << 31)
        .unwrap();
    let later = T0 + Duration::from_secs(60);
    let expired = d.poll_expired(later).unwrap();
    assert_eq!(expired.delta.peer.id, PeerId(10));
    assert_eq!(d.poll_expired(later), None);
    assert!(d.get(PeerId(20)).is_some());
}

#[test]
fn set_addr_publishes_a_move_once() {
    let mut d = dir(4);
    d.join_remote("r", addr(2), PeerId(20), 0).unwrap();
    let moved = d.set_addr(PeerId(20), addr(3)).unwrap();
    assert_eq!(moved.kind, DeltaKind::Moved);
    assert_eq!(moved.peer.addr, addr(3));
    assert_eq!(d.set_addr(PeerId(20), addr(3)), None, "unchanged");
    assert_eq!(d.set_addr(PeerId(21), addr(3)), None, "no such peer");
    assert!(d.set_tag(PeerId(20), 77));
    assert_eq!(d.tag(PeerId(20)), Some(77));
    assert!(!d.set_tag(PeerId(21), 1));
}

#[test]
fn scan_walks_every_entry_even_while_removing() {
    let mut d = dir(16);
    for i in 0..10u32 {
        d.join_as(T0, &std::format!("u{i}"), addr(1), PeerId(100 + i), i)
            .unwrap();
    }
    d.leave(PeerId(103)).unwrap();
    let (mut from, mut seen) = (0, Vec::new());
    while let Some((slot, record, tag)) = d.scan(from) {
        from = slot + 1;
        seen.push(record.id.0);
        if tag % 2 == 0 {
            d.leave(record.id).unwrap();
        }
    }
    assert_eq!(seen, [100, 101, 102, 104, 105, 106, 107, 108, 109]);
    assert_eq!(d.len(), 4, "the odd tags stay");
    assert_eq!(d.scan(1000), None);
}
