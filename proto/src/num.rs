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

/// Writes `n` in decimal, as `{}` would, without `core::fmt`'s integer formatting: a
/// device that shows the core's errors in text logs then links none of it.
pub(crate) fn write_decimal(f: &mut core::fmt::Formatter<'_>, mut n: u64) -> core::fmt::Result {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        let (rest, digit) = div_rem_u64(n, 10);
        at -= 1;
        // `digit` is below 10.
        digits[at] = b'0' + digit as u8;
        n = rest;
        if n == 0 {
            break;
        }
    }
    // ASCII digits are UTF-8.
    f.write_str(core::str::from_utf8(&digits[at..]).unwrap_or_default())
}

/// Writes `byte` as `{:#04x}` would (`0x` and two lower-case hex digits), without
/// `core::fmt`'s integer formatting.
pub(crate) fn write_hex_byte(f: &mut core::fmt::Formatter<'_>, byte: u8) -> core::fmt::Result {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let text = [
        b'0',
        b'x',
        HEX[usize::from(byte >> 4)],
        HEX[usize::from(byte & 0xf)],
    ];
    // ASCII is UTF-8.
    f.write_str(core::str::from_utf8(&text).unwrap_or_default())
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

    struct Decimal(u64);

    impl core::fmt::Display for Decimal {
        fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
            super::write_decimal(f, self.0)
        }
    }

    struct Hex(u8);

    impl core::fmt::Display for Hex {
        fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
            super::write_hex_byte(f, self.0)
        }
    }

    #[test]
    fn digits_are_what_the_formatter_writes() {
        extern crate std;
        use std::format;
        let mut n = 1u64;
        for _ in 0..64 {
            for m in [
                n - 1,
                n,
                n.wrapping_add(1),
                n.wrapping_mul(10).wrapping_sub(1),
            ] {
                assert_eq!(format!("{}", Decimal(m)), format!("{m}"));
            }
            n = n.wrapping_shl(1) | 1;
        }
        for p in 0..20 {
            let ten = 10u64.pow(p);
            for m in [ten - 1, ten, ten + 1] {
                assert_eq!(format!("{}", Decimal(m)), format!("{m}"));
            }
        }
        assert_eq!(format!("{}", Decimal(u64::MAX)), format!("{}", u64::MAX));
        for b in 0..=u8::MAX {
            assert_eq!(format!("{}", Hex(b)), format!("{b:#04x}"));
        }
    }
}
