extern crate std;

use super::*;
use crate::names::user::NameError;
use crate::time::Duration;
use crate::wire::ServerMsg;

const T0: Instant = Instant::ZERO;

fn addr(n: u8) -> WireAddr {
    WireAddr::V4([10, 0, 0, n], 4000 + u16::from(n))
}

fn dir<const N: usize>() -> Directory<[Slot; N]> {
    Directory::new([Slot::EMPTY; N], Config::new([7; 32]))
}

#[test]
fn join_assigns_ids_and_bumps_the_version() {
    let mut d = dir::<4>();
    let a = d.join(T0, "alice", addr(1), 10).unwrap();
    let b = d.join(T0, "bob", addr(2), 11).unwrap();
    assert_ne!(a.id, b.id);
    assert_eq!((a.delta.version, b.delta.version), (1, 2));
    assert_eq!(a.delta.kind, DeltaKind::Joined);
    assert_eq!(d.version(), 2);
    assert_eq!(d.len(), 2);
    assert_eq!(d.get(b.id).unwrap().name.as_str(), "bob");
    assert_eq!(d.tag(a.id), Some(10));
    assert_eq!(d.find("ALICE"), Some(a.id));
}

#[test]
fn refuses_invalid_duplicate_and_case_clashing_names() {
    let mut d = dir::<4>();
    d.join(T0, "Alice", addr(1), 0).unwrap();
    assert_eq!(
        d.join(T0, "bad name", addr(2), 0),
        Err(JoinError::InvalidName(NameError::BadChar { index: 3 }))
    );
    assert_eq!(
        d.join(T0, "", addr(2), 0),
        Err(JoinError::InvalidName(NameError::Empty))
    );
    assert_eq!(d.join(T0, "Alice", addr(2), 0), Err(JoinError::NameTaken));
    assert_eq!(d.join(T0, "aLiCe", addr(2), 0), Err(JoinError::NameTaken));
    assert_eq!(d.version(), 1, "a refused login changes nothing");
    assert_eq!(d.len(), 1);
}

#[test]
fn full_is_a_typed_answer_and_leaving_frees_a_slot() {
    let mut d = dir::<2>();
    let a = d.join(T0, "a", addr(1), 0).unwrap();
    d.join(T0, "b", addr(2), 0).unwrap();
    assert_eq!(d.join(T0, "c", addr(3), 0), Err(JoinError::Full));
    let left = d.leave(a.id).unwrap();
    assert_eq!(left.kind, DeltaKind::Left);
    assert_eq!(left.peer.name.as_str(), "a");
    assert_eq!(left.version, 3);
    let c = d.join(T0, "c", addr(3), 0).unwrap();
    assert_ne!(c.id, a.id, "a reused slot gets a new id");
    assert_eq!(d.get(a.id), None);
    assert_eq!(d.leave(a.id), None, "leaving twice is not a change");
    assert_eq!(d.version(), 4);
}

#[test]
fn a_name_is_free_again_after_its_owner_leaves() {
    let mut d = dir::<3>();
    let a = d.join(T0, "x", addr(1), 0).unwrap();
    d.leave(a.id).unwrap();
    assert_eq!(d.find("x"), None);
    d.join(T0, "X", addr(1), 0).unwrap();
}

#[test]
fn zero_capacity_is_always_full() {
    let mut d = dir::<0>();
    assert_eq!(d.join(T0, "a", addr(1), 0), Err(JoinError::Full));
    assert_eq!(d.find("a"), None);
    assert_eq!(d.snapshot().count(), 1);
}

#[test]
fn silent_peers_expire_at_the_next_sweep() {
    let mut d = dir::<4>();
    let a = d.join(T0, "a", addr(1), 1).unwrap();
    let b = d.join(T0, "b", addr(2), 2).unwrap();
    let later = T0 + Duration::from_secs(10);
    assert!(d.touch(later, b.id));
    let t = T0 + Duration::from_secs(16);
    assert!(d.poll_timeout() <= t);
    let e = d.poll_expired(t).unwrap();
    assert_eq!(
        (e.delta.peer.id, e.delta.kind, e.tag),
        (a.id, DeltaKind::Left, 1)
    );
    assert_eq!(d.poll_expired(t), None);
    assert!(d.poll_timeout() > t, "the next sweep is scheduled");
    assert!(d.get(b.id).is_some());
    let t2 = later + Duration::from_secs(17);
    assert_eq!(d.poll_expired(t2).unwrap().delta.peer.id, b.id);
    assert!(d.is_empty());
}

#[test]
fn no_sweep_before_it_is_due() {
    let mut d = dir::<4>();
    d.join(T0, "a", addr(1), 0).unwrap();
    assert_eq!(d.poll_expired(T0 + Duration::from_millis(500)), None);
}

#[test]
fn probe_with_the_right_token_moves_the_address() {
    let mut d = dir::<4>();
    let a = d.join(T0, "a", addr(1), 0).unwrap();
    let b = d.join(T0, "b", addr(2), 0).unwrap();
    assert_ne!(a.probe_token, b.probe_token);
    let nat = WireAddr::V4([1, 2, 3, 4], 999);
    assert_eq!(
        d.probe(T0, a.id, b.probe_token, nat),
        Err(ProbeError::BadToken)
    );
    assert_eq!(
        d.probe(T0, PeerId(77), a.probe_token, nat),
        Err(ProbeError::UnknownPeer)
    );
    let moved = d.probe(T0, a.id, a.probe_token, nat).unwrap().unwrap();
    assert_eq!(
        (moved.kind, moved.peer.addr, moved.version),
        (DeltaKind::Moved, nat, 3)
    );
    assert_eq!(
        d.probe(T0, a.id, a.probe_token, nat),
        Ok(None),
        "same address: no change"
    );
    assert_eq!(d.get(a.id).unwrap().addr, nat);
}

#[test]
fn tokens_depend_on_the_seed_and_the_login() {
    let mut d1 = dir::<4>();
    let mut d2: Directory<[Slot; 4]> = Directory::new([Slot::EMPTY; 4], Config::new([8; 32]));
    let a1 = d1.join(T0, "a", addr(1), 0).unwrap();
    let a2 = d2.join(T0, "a", addr(1), 0).unwrap();
    assert_eq!(a1.id, a2.id);
    assert_ne!(a1.probe_token, a2.probe_token);
    d1.leave(a1.id);
    let again = d1.join(T0, "a", addr(1), 0).unwrap();
    assert_ne!(again.probe_token, a1.probe_token);
}

#[test]
fn large_snapshot_is_paged_and_complete() {
    let mut d = Directory::new(std::vec![Slot::EMPTY; 1000], Config::new([1; 32]));
    let mut ids = std::vec::Vec::new();
    for i in 0..100u32 {
        let name = std::format!("user{i}");
        ids.push(d.join(T0, &name, addr(1), i).unwrap().id);
    }
    for id in ids.iter().step_by(3) {
        d.leave(*id);
    }
    let pages: std::vec::Vec<_> = d.snapshot().collect();
    assert_eq!(pages.len(), 3, "66 peers in pages of 32");
    assert!(pages.iter().all(|p| p.version == d.version()));
    assert_eq!(pages.iter().filter(|p| p.last).count(), 1);
    assert!(pages.last().unwrap().last);
    let seen: std::vec::Vec<_> = pages
        .iter()
        .flat_map(|p| p.peers.iter().map(|i| i.id))
        .collect();
    assert_eq!(seen.len(), 66);
    let mut dedup = seen.clone();
    dedup.sort();
    dedup.dedup();
    assert_eq!(dedup.len(), 66);
    for (n, p) in pages.iter().enumerate() {
        assert_eq!(p.page as usize, n);
    }
}

#[test]
fn a_full_last_page_is_marked_last() {
    let mut d = dir::<40>();
    for i in 0..32 {
        d.join(T0, &std::format!("u{i}"), addr(1), 0).unwrap();
    }
    let pages: std::vec::Vec<_> = d.snapshot().collect();
    assert_eq!(pages.len(), 1);
    assert!(pages[0].last);
}

#[test]
fn holds_a_hundred_thousand_peers_with_fast_lookups() {
    let n = 100_000;
    let mut d = Directory::new(std::vec![Slot::EMPTY; n], Config::new([3; 32]));
    for i in 0..n {
        let name = std::format!("peer{i}");
        d.join(T0, &name, addr(1), 0).unwrap();
    }
    assert_eq!(d.len(), n);
    assert_eq!(d.join(T0, "Peer5", addr(1), 0), Err(JoinError::NameTaken));
    assert_eq!(d.join(T0, "extra", addr(1), 0), Err(JoinError::Full));
    let id = d.find("PEER99999").unwrap();
    assert_eq!(d.get(id).unwrap().name.as_str(), "peer99999");
    assert_eq!(d.snapshot().count(), n.div_ceil(SNAPSHOT_PAGE));
}

#[test]
fn delta_messages_carry_the_change() {
    let mut d = dir::<2>();
    let a = d.join(T0, "a", addr(1), 0).unwrap();
    match a.delta.to_msg() {
        ServerMsg::Joined { version: 1, peer } => assert_eq!(peer.name, "a"),
        other => panic!("{other:?}"),
    }
    let left = d.leave(a.id).unwrap();
    assert_eq!(
        left.to_msg(),
        ServerMsg::Left {
            version: 2,
            id: a.id
        }
    );
}
