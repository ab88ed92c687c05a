use super::*;
use crate::cluster::{ChangeKind, Lease, NodeId};
use crate::names::user::UserName;
use crate::wire::{PeerId, WireAddr};

fn change(seq: u64) -> Change {
    Change {
        seq,
        kind: ChangeKind::Joined,
        lease: Lease {
            id: PeerId(seq as u32),
            owner: NodeId(1),
            addr: WireAddr::V4([10, 0, 0, 1], 1),
            name: UserName::new("u").unwrap(),
            key: None,
        },
    }
}

fn ms(n: u64) -> Instant {
    Instant::from_millis(n)
}

fn synced_at(seq: u64) -> ChangeFeed {
    let mut f = ChangeFeed::new(Duration::from_millis(100));
    assert_eq!(f.poll_resync(), Some(Reload::Start));
    f.handle_snapshot(ms(0), seq);
    f
}

/// Feeds `seqs` and returns the order in which they were applied.
fn feed(f: &mut ChangeFeed, now: Instant, seqs: &[u64]) -> heapless::Vec<u64, 64> {
    let mut out = heapless::Vec::new();
    for &s in seqs {
        if let Some(c) = f.handle_change(now, change(s)) {
            out.push(c.seq).unwrap();
            while let Some(c) = f.poll_next() {
                out.push(c.seq).unwrap();
            }
        }
    }
    out
}

#[test]
fn in_order_changes_apply_at_once() {
    let mut f = synced_at(10);
    assert_eq!(feed(&mut f, ms(1), &[11, 12, 13]), [11, 12, 13]);
    assert_eq!(f.applied(), Some(13));
    assert_eq!(f.poll_timeout(), None);
}

#[test]
fn duplicates_and_changes_the_snapshot_covers_are_dropped() {
    let mut f = synced_at(10);
    assert_eq!(feed(&mut f, ms(1), &[9, 10, 11, 11, 10, 12]), [11, 12]);
    assert_eq!(f.duplicates(), 4);
}

#[test]
fn out_of_order_changes_are_held_until_the_gap_fills() {
    let mut f = synced_at(0);
    assert_eq!(feed(&mut f, ms(1), &[3, 2, 5]), [] as [u64; 0]);
    assert!(f.poll_timeout().is_some());
    assert_eq!(feed(&mut f, ms(2), &[1]), [1, 2, 3]);
    assert_eq!(feed(&mut f, ms(3), &[4]), [4, 5]);
    assert_eq!(f.poll_timeout(), None, "no gap left");
    assert_eq!(f.poll_resync(), None);
}

#[test]
fn a_gap_not_filled_in_time_asks_for_a_resync_once() {
    let mut f = synced_at(0);
    assert_eq!(feed(&mut f, ms(10), &[1, 3, 4]), [1]);
    assert_eq!(f.poll_timeout(), Some(ms(110)));
    f.handle_timeout(ms(109));
    assert_eq!(f.poll_resync(), None);
    f.handle_timeout(ms(110));
    assert_eq!(
        f.poll_resync(),
        Some(Reload::Gap {
            expected: 2,
            got: 3
        })
    );
    assert_eq!(f.poll_resync(), None);
    // The presence set as of 3 covers the hole; 4 is still held and now applies.
    f.handle_snapshot(ms(120), 3);
    assert_eq!(f.poll_next().map(|c| c.seq), Some(4));
    assert_eq!(f.poll_next(), None);
    assert_eq!(f.poll_timeout(), None);
}

#[test]
fn overflowing_the_holding_room_asks_for_a_resync() {
    let mut f = synced_at(0);
    let early: std::vec::Vec<u64> = (2..2 + REORDER as u64 + 1).collect();
    assert_eq!(feed(&mut f, ms(1), &early), [] as [u64; 0]);
    assert_eq!(f.poll_resync(), Some(Reload::Overflow));
}

#[test]
fn nothing_applies_before_the_first_presence_set() {
    let mut f = ChangeFeed::new(Duration::from_millis(100));
    assert_eq!(feed(&mut f, ms(1), &[5, 6, 8]), [] as [u64; 0]);
    assert_eq!(f.applied(), None);
    f.handle_snapshot(ms(2), 5);
    let mut got = std::vec::Vec::new();
    while let Some(c) = f.poll_next() {
        got.push(c.seq);
    }
    assert_eq!(got, [6], "5 is in the set, 8 waits for 7");
    assert_eq!(feed(&mut f, ms(3), &[7]), [7, 8]);
}

#[test]
fn a_lost_store_forgets_its_numbering() {
    let mut f = synced_at(100);
    assert_eq!(feed(&mut f, ms(1), &[102]), [] as [u64; 0]);
    f.reset();
    assert_eq!(f.poll_resync(), Some(Reload::Start));
    assert_eq!(feed(&mut f, ms(2), &[101]), [] as [u64; 0]);
    // A new, empty store: its sequence starts again below where the old one was.
    f.reset();
    f.handle_snapshot(ms(3), 0);
    assert_eq!(f.poll_next(), None, "nothing from the old store is applied");
    assert_eq!(feed(&mut f, ms(4), &[1, 2]), [1, 2]);
}

extern crate std;

#[test]
fn a_head_ahead_of_the_applied_changes_is_a_gap_even_with_nothing_held() {
    let mut f = synced_at(10);
    f.handle_head(ms(5), 10);
    assert_eq!(f.poll_timeout(), None, "up to date");
    f.handle_head(ms(5), 12);
    assert_eq!(f.poll_timeout(), Some(ms(105)));
    // The changes come: no resync.
    assert_eq!(feed(&mut f, ms(6), &[11, 12]), [11, 12]);
    assert_eq!(f.poll_next(), None);
    assert_eq!(f.poll_timeout(), None);
    // They do not: the gap is reported with the head.
    f.handle_head(ms(7), 14);
    f.handle_timeout(ms(107));
    assert_eq!(
        f.poll_resync(),
        Some(Reload::Gap {
            expected: 13,
            got: 14
        })
    );
}

#[test]
fn a_head_behind_the_applied_changes_is_only_old_news() {
    let mut f = synced_at(10);
    f.handle_head(ms(1), 3);
    assert_eq!(f.poll_resync(), None);
    assert_eq!(f.poll_timeout(), None);
    assert_eq!(feed(&mut f, ms(3), &[11]), [11]);
}
