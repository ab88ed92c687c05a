//! Integer helpers that keep a 32-bit device image small.

/// `(n / d, n % d)` for `d > 0`, by binary long division. A 32-bit target has no `u64`
/// divide instruction, and its library routine is about 900 bytes of code; the few
/// `u64` divisions the core makes (reconnect jitter, chunk counts) are rare enough for
/// this loop.
pub(crate) const fn div_rem_u64(n: u64, d: u64) -> (u64, u64) {
    let mut quotient = 0;
    let mut rem = 0u64;
    let mut bit = 64;
    while bit > 0 {
        bit -= 1;
        let carry = rem >> 63;
        rem = (rem << 1) | ((n >> bit) & 1);
        // With the bit shifted out, `rem` was at least 2^64 > `d`.
        if carry == 1 || rem >= d {
            rem = rem.wrapping_sub(d);
            quotient |= 1 << bit;
        }
    }
    (quotient, rem)
}

#[cfg(test)]
mod tests {
    use super::div_rem_u64;

    #[test]
    fn matches_the_division_operators() {
        let values = [
            0,
            1,
            2,
            3,
            7,
            10,
            255,
            1 << 31,
            u64::from(u32::MAX),
            1 << 32,
            (1 << 48) + 12_345,
            u64::MAX / 3,
            u64::MAX - 1,
            u64::MAX,
        ];
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let random = core::iter::from_fn(|| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            Some(x >> (x % 64))
        });
        let all: heapless::Vec<u64, 2_100> = values.into_iter().chain(random.take(2_000)).collect();
        for &n in &all {
            for &d in all.iter().take(40).chain(&all[all.len() - 60..]) {
                if d != 0 {
                    assert_eq!(div_rem_u64(n, d), (n / d, n % d), "{n} / {d}");
                }
            }
        }
    }
}
