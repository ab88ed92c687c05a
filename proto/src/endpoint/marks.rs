//! Which peer slots may have an ack or a chat packet to send.
//!
//! `poll_transmit` runs once per datagram, and while a file moves that is once per
//! chunk, almost always with no chat waiting: instead of asking every slot of the table,
//! it asks only the slots listed here. A slot is listed whenever something happens to
//! its link that can give it work (a packet in, a message queued, a timer, a new peer)
//! and unlisted once it has neither an ack nor chat to send.

use heapless::Vec;

/// Slot indices below `N`, each listed at most once.
pub(super) struct Marks<const N: usize> {
    listed: [bool; N],
    list: Vec<u16, N>,
}

impl<const N: usize> Marks<N> {
    /// Nothing listed.
    pub(super) const fn new() -> Self {
        const { assert!(N <= 1 << 16, "slot indices are u16") };
        Marks {
            listed: [false; N],
            list: Vec::new(),
        }
    }

    /// Lists slot `i` (no effect if it is listed already, or out of range).
    pub(super) fn mark(&mut self, i: usize) {
        let Some(listed) = self.listed.get_mut(i) else {
            return;
        };
        if !*listed {
            *listed = true;
            // Cannot fail: each of the N indices is listed at most once.
            // `i < N ≤ 2^16` (checked in `new`), so it fits a u16.
            let _ = self.list.push(i as u16);
        }
    }

    /// Keeps the listed slots for which `keep` says so.
    pub(super) fn retain(&mut self, mut keep: impl FnMut(usize) -> bool) {
        let listed = &mut self.listed;
        self.list.retain(|&i| {
            let i = usize::from(i);
            let kept = keep(i);
            if !kept {
                listed[i] = false;
            }
            kept
        });
    }

    /// The listed slots, in no particular order.
    pub(super) fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.list.iter().map(|&i| usize::from(i))
    }
}

#[cfg(test)]
mod tests {
    extern crate std;

    use std::vec::Vec;

    use super::Marks;

    fn sorted(m: &Marks<8>) -> Vec<usize> {
        let mut v: Vec<usize> = m.iter().collect();
        v.sort_unstable();
        v
    }

    #[test]
    fn lists_each_slot_once_and_ignores_out_of_range() {
        let mut m = Marks::<8>::new();
        for i in [3, 1, 3, 7, 8, 100, 1] {
            m.mark(i);
        }
        assert_eq!(sorted(&m), [1, 3, 7]);
    }

    #[test]
    fn retain_unlists_and_a_slot_can_be_listed_again() {
        let mut m = Marks::<8>::new();
        for i in 0..8 {
            m.mark(i);
        }
        m.retain(|i| i % 3 == 0);
        assert_eq!(sorted(&m), [0, 3, 6]);
        m.mark(4);
        m.mark(3);
        assert_eq!(sorted(&m), [0, 3, 4, 6]);
        m.retain(|_| false);
        assert!(sorted(&m).is_empty());
        for i in (0..8).rev() {
            m.mark(i);
        }
        assert_eq!(sorted(&m), (0..8).collect::<Vec<_>>(), "room for all again");
    }
}
