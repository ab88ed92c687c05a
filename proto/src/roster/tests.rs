extern crate std;

use super::*;
use crate::wire::SNAPSHOT_PAGE;

fn info(id: u32, name: &str) -> PeerInfo<'_> {
    PeerInfo {
        id: PeerId(id),
        name,
        addr: WireAddr::V4([10, 0, 0, 1], id as u16),
    }
}

fn page<'a>(version: u64, page: u32, last: bool, peers: &[PeerInfo<'a>]) -> ServerMsg<'a> {
    ServerMsg::Snapshot(SnapshotPage {
        version,
        page,
        last,
        peers: Vec::from_slice(peers).unwrap(),
    })
}

fn joined(version: u64, id: u32, name: &str) -> ServerMsg<'_> {
    ServerMsg::Joined {
        version,
        peer: info(id, name),
    }
}

fn left(version: u64, id: u32) -> ServerMsg<'static> {
    ServerMsg::Left {
        version,
        id: PeerId(id),
    }
}

fn synced<const N: usize>(version: u64, peers: &[PeerInfo<'_>]) -> Roster<N> {
    let mut r = Roster::new();
    assert!(matches!(
        r.apply(&page(version, 0, true, peers)),
        Some(RosterEvent::Synced { .. })
    ));
    r
}

#[test]
fn snapshot_then_deltas() {
    let mut r: Roster<8> = synced(5, &[info(1, "a"), info(2, "b")]);
    assert!(r.is_synced());
    assert_eq!(r.version(), 5);
    assert!(
        matches!(r.apply(&joined(6, 3, "c")), Some(RosterEvent::Joined(p)) if p.id == PeerId(3))
    );
    assert!(matches!(r.apply(&left(7, 1)), Some(RosterEvent::Left(p)) if p.name.as_str() == "a"));
    let moved = ServerMsg::Moved {
        version: 8,
        id: PeerId(2),
        addr: WireAddr::V4([1, 1, 1, 1], 9),
    };
    assert!(matches!(r.apply(&moved), Some(RosterEvent::Moved(p)) if p.addr.port() == 9));
    assert_eq!(r.len(), 2);
    assert_eq!(r.find("B").unwrap().addr, WireAddr::V4([1, 1, 1, 1], 9));
    assert_eq!(r.poll_resync(), None);
}

#[test]
fn a_version_gap_asks_for_a_resync_once() {
    let mut r: Roster<8> = synced(5, &[info(1, "a")]);
    assert_eq!(r.apply(&joined(7, 3, "c")), None);
    assert_eq!(
        r.poll_resync(),
        Some(Resync::Gap {
            expected: 6,
            got: 7
        })
    );
    assert!(!r.is_synced());
    assert_eq!(r.apply(&joined(8, 4, "d")), None, "ignored while resyncing");
    assert_eq!(r.poll_resync(), None, "asked once");
    r.apply(&page(
        8,
        0,
        true,
        &[info(1, "a"), info(3, "c"), info(4, "d")],
    ));
    assert!(r.is_synced());
    assert_eq!(r.len(), 3);
}

#[test]
fn a_delta_for_an_unknown_peer_asks_for_a_resync() {
    let mut r: Roster<8> = synced(5, &[info(1, "a")]);
    r.apply(&left(6, 9));
    assert_eq!(r.poll_resync(), Some(Resync::UnknownPeer(PeerId(9))));
}

#[test]
fn stale_duplicates_are_ignored() {
    let mut r: Roster<8> = synced(5, &[info(1, "a")]);
    assert_eq!(r.apply(&joined(5, 2, "b")), None);
    assert_eq!(r.apply(&left(3, 1)), None);
    assert_eq!(r.poll_resync(), None);
    assert_eq!(r.len(), 1);
}

#[test]
fn deltas_inside_the_replay_window_are_idempotent() {
    // Pages built at versions 10 and 12: deltas 11 and 12 may already be in them.
    let mut r: Roster<8> = Roster::new();
    r.apply(&page(10, 0, false, &[info(1, "a")]));
    r.apply(&page(12, 1, true, &[info(3, "c")]));
    assert_eq!(r.version(), 10);
    assert_eq!(
        r.apply(&left(11, 2)),
        None,
        "left before its page was built"
    );
    assert_eq!(r.apply(&joined(12, 3, "c")), None, "already in a page");
    assert_eq!(r.poll_resync(), None);
    r.apply(&left(13, 9));
    assert_eq!(
        r.poll_resync(),
        Some(Resync::UnknownPeer(PeerId(9))),
        "strict after it"
    );
}

#[test]
fn never_shows_a_peer_twice() {
    let mut r: Roster<8> = Roster::new();
    r.apply(&page(3, 0, false, &[info(1, "a"), info(2, "Bob")]));
    r.apply(&page(4, 1, true, &[info(1, "a"), info(5, "bob")]));
    assert_eq!(r.len(), 2);
    assert_eq!(r.find("BOB").unwrap().id, PeerId(5), "the newer login wins");
    r.apply(&joined(4, 1, "a"));
    r.apply(&joined(5, 1, "a"));
    assert_eq!(r.len(), 2);
}

#[test]
fn pages_out_of_order_ask_for_a_resync() {
    let mut r: Roster<8> = Roster::new();
    r.apply(&page(3, 0, false, &[info(1, "a")]));
    r.apply(&page(3, 2, true, &[info(2, "b")]));
    assert_eq!(r.poll_resync(), Some(Resync::PageOrder));
    assert!(!r.is_synced());
    assert_eq!(
        r.apply(&page(3, 1, true, &[])),
        None,
        "tail of an abandoned snapshot"
    );
}

#[test]
fn a_new_snapshot_replaces_the_list() {
    let mut r: Roster<8> = synced(5, &[info(1, "a"), info(2, "b")]);
    r.apply(&page(9, 0, true, &[info(3, "c")]));
    assert_eq!(r.len(), 1);
    assert_eq!(r.version(), 9);
}

#[test]
fn a_full_roster_counts_the_missing_and_refetches_when_room_appears() {
    let peers: std::vec::Vec<_> = ["a", "b", "c"]
        .iter()
        .zip(1..)
        .map(|(n, i)| info(i, n))
        .collect();
    let mut r: Roster<2> = Roster::new();
    let ev = r.apply(&page(3, 0, true, &peers));
    assert_eq!(
        ev,
        Some(RosterEvent::Synced {
            count: 2,
            missing: 1
        })
    );
    assert_eq!(r.apply(&joined(4, 4, "d")), None);
    assert_eq!(r.missing(), 2);
    assert!(matches!(r.apply(&left(5, 1)), Some(RosterEvent::Left(_))));
    assert_eq!(r.poll_resync(), Some(Resync::Room));
}

#[test]
fn a_large_snapshot_arrives_in_pages() {
    let names: std::vec::Vec<std::string::String> =
        (0..100).map(|i| std::format!("u{i}")).collect();
    let infos: std::vec::Vec<_> = names.iter().zip(1..).map(|(n, i)| info(i, n)).collect();
    let mut r: Roster<128> = Roster::new();
    let chunks: std::vec::Vec<_> = infos.chunks(SNAPSHOT_PAGE).collect();
    for (i, c) in chunks.iter().enumerate() {
        let ev = r.apply(&page(50, i as u32, i + 1 == chunks.len(), c));
        assert_eq!(ev.is_some(), i + 1 == chunks.len());
    }
    assert_eq!(r.len(), 100);
    assert!(r.is_synced());
}

#[test]
fn reset_waits_for_a_fresh_snapshot() {
    let mut r: Roster<8> = synced(5, &[info(1, "a")]);
    r.reset();
    assert!(r.is_empty());
    assert_eq!(r.apply(&joined(6, 2, "b")), None);
    assert_eq!(r.poll_resync(), None);
}
