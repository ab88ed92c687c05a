//! Finding runs in a receiver's ring of received-chunk flags, eight flags at a time.
//!
//! The ring holds one byte per chunk of the window (1 = received, 0 = not), chunk `i` at
//! `i % len`. An acknowledgement describes up to 32 runs of received chunks, so building
//! one walks over hundreds of flags when chunks are being lost; these walks read the
//! flags as 64-bit words wherever eight of them lie side by side in the ring.

/// Eight flags that are all 1.
const ALL_SET: u64 = 0x0101_0101_0101_0101;

/// Rings shorter than this (a device's small window) are walked one flag at a time: the
/// word walk would be code spent on runs too short to gain from it.
const WORDS_FROM: usize = 64;

fn word(flags: &[u8], at: usize) -> u64 {
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&flags[at..at + 8]);
    u64::from_le_bytes(bytes)
}

/// The lowest `t` in `floor..=top` such that every chunk in `t..top` has flag `want`
/// (the walk from `top` downwards stops at the first other flag, or at `floor`).
pub(super) fn walk_down(flags: &[u8], top: u32, floor: u32, want: bool) -> u32 {
    let n = flags.len();
    let words = n >= WORDS_FROM;
    let pattern = if want { ALL_SET } else { 0 };
    let want = u8::from(want);
    let mut top = top;
    while top > floor && n > 0 {
        // Position of chunk `top - 1`, and how many flags lie below it in one piece.
        let p = (top - 1) as usize % n;
        let room = (p + 1).min((top - floor) as usize);
        if words && room >= 8 {
            let differ = word(flags, p + 1 - 8) ^ pattern;
            if differ == 0 {
                top -= 8;
                continue;
            }
            // Little-endian: chunk `top - 1` is the most significant byte.
            return top - differ.leading_zeros() / 8;
        }
        if flags[p] != want {
            return top;
        }
        top -= 1;
    }
    top
}

/// The highest `e` in `from..=ceil` such that every chunk in `from..e` is received.
pub(super) fn walk_up(flags: &[u8], from: u32, ceil: u32) -> u32 {
    let n = flags.len();
    let words = n >= WORDS_FROM;
    let mut end = from;
    while end < ceil && n > 0 {
        let p = end as usize % n;
        let room = (n - p).min((ceil - end) as usize);
        if words && room >= 8 {
            let differ = word(flags, p) ^ ALL_SET;
            if differ == 0 {
                end += 8;
                continue;
            }
            return end + differ.trailing_zeros() / 8;
        }
        if flags[p] != 1 {
            return end;
        }
        end += 1;
    }
    end
}

#[cfg(test)]
mod tests {
    extern crate std;

    use std::vec::Vec;

    use super::*;

    fn naive_down(flags: &[u8], mut top: u32, floor: u32, want: bool) -> u32 {
        while top > floor && (flags[(top - 1) as usize % flags.len()] == 1) == want {
            top -= 1;
        }
        top
    }

    fn naive_up(flags: &[u8], mut end: u32, ceil: u32) -> u32 {
        while end < ceil && flags[end as usize % flags.len()] == 1 {
            end += 1;
        }
        end
    }

    /// Flags from a small deterministic generator: runs of ones and zeros of mixed length.
    fn pattern(len: usize, seed: u64) -> Vec<u8> {
        let mut x = seed | 1;
        let mut out = Vec::new();
        let mut bit = 1u8;
        while out.len() < len {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let run = (x % 23) as usize;
            out.extend(core::iter::repeat_n(bit, run.min(len - out.len())));
            bit ^= 1;
        }
        out
    }

    #[test]
    fn walks_agree_with_one_flag_at_a_time() {
        for (len, seed) in [
            (64, 1),
            (32, 2),
            (100, 3),
            (7, 4),
            (1, 5),
            (2048, 6),
            (24, 7),
        ] {
            let flags = pattern(len, seed);
            let span = 3 * len as u32 + 20;
            for top in 0..span {
                for floor in [0, top.saturating_sub(1), top.saturating_sub(9), top / 2] {
                    for want in [true, false] {
                        assert_eq!(
                            walk_down(&flags, top, floor.min(top), want),
                            naive_down(&flags, top, floor.min(top), want),
                            "down len {len} top {top} floor {floor} want {want}"
                        );
                    }
                }
                for ceil in [top, top + 1, top + 9, top + len as u32, span] {
                    assert_eq!(
                        walk_up(&flags, top, ceil),
                        naive_up(&flags, top, ceil),
                        "up len {len} from {top} ceil {ceil}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_full_ring_is_one_run_up_to_the_bounds() {
        let flags = [1u8; 16];
        assert_eq!(walk_down(&flags, 100, 3, true), 3);
        assert_eq!(walk_down(&flags, 100, 3, false), 100);
        assert_eq!(walk_up(&flags, 5, 90), 90);
        let empty = [0u8; 16];
        assert_eq!(walk_down(&empty, 40, 0, false), 0);
        assert_eq!(walk_up(&empty, 5, 90), 5);
    }
}
