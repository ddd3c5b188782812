//! Software x87 `long double` for INCRBYFLOAT (and HINCRBYFLOAT).
//!
//! Redis adds these operands as C `long double`, which on x86-64 Linux (the platform whose replies we
//! copy) is the x87 80-bit format: a 64-bit significand and a 15-bit exponent. It then prints the sum
//! with `%.17Lf` and strips trailing zeros (`ld2string`, `LD_STR_HUMAN`). `f64` cannot give the same
//! text: `1 + -1.1` is `-0.1` in Redis but `-0.10000000000000009` in `f64`, and `10000.5 + 0.1` is
//! `10000.59999999999999964` in Redis. So this module does what glibc and the FPU do, exactly:
//!
//! * [`parse`] is `strtold` as Redis's `string2ld` calls it (correctly rounded, decimal or hex,
//!   `inf`/`infinity`, no spaces, `nan` refused, overflow and underflow-to-zero refused);
//! * [`add`] is one correctly rounded x87 addition (round to nearest, ties to even);
//! * [`format_human`] is `%.17Lf` (exact decimal expansion, ties to even) with Redis's trimming.
//!
//! Exact arithmetic uses a tiny unsigned big integer ([`Big`]); operands that differ by more than 200
//! binary orders are reduced first, so the common case stays within a few limbs.

use std::cmp::Ordering;

/// Smallest binary exponent of the significand's last bit (subnormals included): 2^-16445.
const MIN_EXP: i64 = -16445;
/// Largest binary exponent of the significand's last bit: the value is below 2^16384.
const MAX_EXP: i64 = 16384 - 64;

/// A finite or infinite `long double`: `(-1)^neg * mant * 2^exp`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ld {
    neg: bool,
    inf: bool,
    mant: u64,
    exp: i64,
}

impl Ld {
    pub const ZERO: Ld = Ld {
        neg: false,
        inf: false,
        mant: 0,
        exp: 0,
    };

    /// The exact value of an integer (64 significand bits hold every `i64`).
    pub fn from_i64(i: i64) -> Ld {
        Ld {
            neg: i < 0,
            inf: false,
            mant: i.unsigned_abs(),
            exp: 0,
        }
    }

    pub fn is_infinite(&self) -> bool {
        self.inf
    }

    fn infinity(neg: bool) -> Ld {
        Ld {
            neg,
            inf: true,
            mant: 0,
            exp: 0,
        }
    }
}

/// Unsigned big integer, little-endian 64-bit limbs, no high zero limbs.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Big(Vec<u64>);

impl Big {
    fn from_u128(v: u128) -> Big {
        let mut b = Big(vec![v as u64, (v >> 64) as u64]);
        b.trim();
        b
    }

    fn trim(&mut self) {
        while self.0.last() == Some(&0) {
            self.0.pop();
        }
    }

    fn is_zero(&self) -> bool {
        self.0.is_empty()
    }

    fn bits(&self) -> i64 {
        match self.0.last() {
            None => 0,
            Some(&top) => (self.0.len() as i64 - 1) * 64 + (64 - top.leading_zeros() as i64),
        }
    }

    fn mul_add_small(&mut self, m: u64, a: u64) {
        let mut carry = a as u128;
        for l in self.0.iter_mut() {
            let v = (*l as u128) * (m as u128) + carry;
            *l = v as u64;
            carry = v >> 64;
        }
        if carry > 0 {
            self.0.push(carry as u64);
        }
        self.trim();
    }

    fn pow10(n: u64) -> Big {
        let mut b = Big(vec![1]);
        let mut left = n;
        while left > 0 {
            let k = left.min(19);
            b.mul_add_small(10u64.pow(k as u32), 0);
            left -= k;
        }
        b
    }

    fn mul_pow10(&mut self, n: u64) {
        let mut left = n;
        while left > 0 {
            let k = left.min(19);
            self.mul_add_small(10u64.pow(k as u32), 0);
            left -= k;
        }
    }

    fn shl(&self, n: i64) -> Big {
        if self.is_zero() || n <= 0 {
            return self.clone();
        }
        let (words, bits) = ((n / 64) as usize, (n % 64) as u32);
        let mut out = vec![0u64; words];
        if bits == 0 {
            out.extend_from_slice(&self.0);
        } else {
            let mut carry = 0u64;
            for &l in &self.0 {
                out.push((l << bits) | carry);
                carry = l >> (64 - bits);
            }
            out.push(carry);
        }
        let mut b = Big(out);
        b.trim();
        b
    }

    /// The bits from `n` up, and whether any bit below `n` is set.
    fn shr_sticky(&self, n: i64) -> (Big, bool) {
        if n <= 0 {
            return (self.clone(), false);
        }
        let (words, bits) = ((n / 64) as usize, (n % 64) as u32);
        if words >= self.0.len() {
            return (Big(Vec::new()), !self.is_zero());
        }
        let sticky = self.0[..words].iter().any(|&l| l != 0)
            || (bits > 0 && self.0[words] & ((1u64 << bits) - 1) != 0);
        let src = &self.0[words..];
        let mut out = Vec::with_capacity(src.len());
        for i in 0..src.len() {
            let lo = src[i] >> bits;
            let hi = if bits > 0 {
                src.get(i + 1).map_or(0, |h| h << (64 - bits))
            } else {
                0
            };
            out.push(lo | hi);
        }
        let mut b = Big(out);
        b.trim();
        (b, sticky)
    }

    fn cmp(&self, o: &Big) -> Ordering {
        self.0
            .len()
            .cmp(&o.0.len())
            .then_with(|| self.0.iter().rev().cmp(o.0.iter().rev()))
    }

    fn add(&self, o: &Big) -> Big {
        let (long, short) = if self.0.len() >= o.0.len() {
            (self, o)
        } else {
            (o, self)
        };
        let mut out = Vec::with_capacity(long.0.len() + 1);
        let mut carry = false;
        for (i, &l) in long.0.iter().enumerate() {
            let (s1, c1) = l.overflowing_add(short.0.get(i).copied().unwrap_or(0));
            let (s2, c2) = s1.overflowing_add(carry as u64);
            out.push(s2);
            carry = c1 || c2;
        }
        if carry {
            out.push(1);
        }
        Big(out)
    }

    /// `self - o`, for `self >= o`.
    fn sub(&self, o: &Big) -> Big {
        let mut out = Vec::with_capacity(self.0.len());
        let mut borrow = false;
        for (i, &l) in self.0.iter().enumerate() {
            let (d1, b1) = l.overflowing_sub(o.0.get(i).copied().unwrap_or(0));
            let (d2, b2) = d1.overflowing_sub(borrow as u64);
            out.push(d2);
            borrow = b1 || b2;
        }
        let mut b = Big(out);
        b.trim();
        b
    }

    fn to_u128(&self) -> u128 {
        self.0.first().copied().unwrap_or(0) as u128
            | (self.0.get(1).copied().unwrap_or(0) as u128) << 64
    }

    /// Divides by a small divisor in place, returning the remainder.
    fn div_small(&mut self, d: u64) -> u64 {
        let mut rem: u128 = 0;
        for l in self.0.iter_mut().rev() {
            let cur = (rem << 64) | *l as u128;
            *l = (cur / d as u128) as u64;
            rem = cur % d as u128;
        }
        self.trim();
        rem as u64
    }

    fn to_decimal(&self) -> String {
        if self.is_zero() {
            return "0".into();
        }
        let mut n = self.clone();
        let mut chunks = Vec::new();
        while !n.is_zero() {
            chunks.push(n.div_small(10_000_000_000_000_000_000));
        }
        let mut s = String::with_capacity(chunks.len() * 19);
        for (i, c) in chunks.iter().rev().enumerate() {
            if i == 0 {
                s.push_str(&c.to_string());
            } else {
                s.push_str(&format!("{c:019}"));
            }
        }
        s
    }
}

/// `num / den * 2^e2`, rounded to a `long double` (nearest, ties to even), with gradual underflow and
/// overflow to infinity. `num` must be nonzero.
fn round_ratio(neg: bool, num: &Big, den: &Big, e2: i64) -> Ld {
    // Scale so the quotient has 66 or 67 bits: 64 for the significand, the rest and a sticky bit
    // for rounding.
    let s = 66 - (num.bits() - den.bits());
    if den.0 == [1] {
        let (q, sticky) = if s >= 0 {
            (num.shl(s), false)
        } else {
            num.shr_sticky(-s)
        };
        return round_bits(neg, q.to_u128(), sticky, e2 - s);
    }
    let (n, d) = (num.shl(s), den.shl(-s));
    let (q, sticky) = if d.0.len() == 1 {
        let mut n = n;
        let r = n.div_small(d.0[0]);
        (n.to_u128(), r != 0)
    } else {
        let mut r = n;
        let mut q: u128 = 0;
        for i in (0..68).rev() {
            let t = d.shl(i);
            if r.cmp(&t) != Ordering::Less {
                r = r.sub(&t);
                q |= 1u128 << i;
            }
        }
        (q, !r.is_zero())
    };
    round_bits(neg, q, sticky, e2 - s)
}

/// `(q + sticky fraction) * 2^e`, rounded to a `long double`.
fn round_bits(neg: bool, q: u128, sticky: bool, e: i64) -> Ld {
    let qb = 128 - q.leading_zeros() as i64;
    let mut sh = (qb - 64).max(0);
    if e + sh < MIN_EXP {
        sh = MIN_EXP - e;
    }
    let mut exp = e + sh;
    let mut mant = if sh == 0 {
        q
    } else if sh >= 128 {
        0 // q has fewer than 70 bits: far below half of the smallest subnormal
    } else {
        let m = q >> sh;
        let rest = q & ((1u128 << sh) - 1);
        let half = 1u128 << (sh - 1);
        if rest > half || (rest == half && (sticky || m & 1 == 1)) {
            m + 1
        } else {
            m
        }
    };
    if mant >> 64 != 0 {
        mant >>= 1;
        exp += 1;
    }
    if exp > MAX_EXP {
        return Ld::infinity(neg);
    }
    if mant == 0 {
        return Ld { neg, ..Ld::ZERO };
    }
    Ld {
        neg,
        inf: false,
        mant: mant as u64,
        exp,
    }
}

/// `strtold` as Redis's `string2ld` uses it: `None` for anything that is not wholly a number, for NaN,
/// for values beyond the `long double` range, and for nonzero values that round to zero.
pub fn parse(b: &[u8]) -> Option<Ld> {
    // Redis copies into a 5 KiB buffer first.
    if b.is_empty() || b.len() >= 5 * 1024 {
        return None;
    }
    let (neg, body) = match b[0] {
        b'-' => (true, &b[1..]),
        b'+' => (false, &b[1..]),
        _ => (false, b),
    };
    if body.eq_ignore_ascii_case(b"inf") || body.eq_ignore_ascii_case(b"infinity") {
        return Some(Ld::infinity(neg));
    }
    if body.len() > 2 && body[0] == b'0' && (body[1] | 0x20) == b'x' {
        return parse_hex(neg, &body[2..]);
    }
    let mut i = 0;
    let mut n = Big(Vec::new());
    let mut digits = 0usize;
    let mut exp10: i64 = 0;
    let mut chunk: u64 = 0;
    let mut chunk_len = 0u32;
    fn flush(n: &mut Big, chunk: &mut u64, len: &mut u32) {
        if *len > 0 {
            n.mul_add_small(10u64.pow(*len), *chunk);
            *chunk = 0;
            *len = 0;
        }
    }
    while i < body.len() && body[i].is_ascii_digit() {
        chunk = chunk * 10 + (body[i] - b'0') as u64;
        chunk_len += 1;
        if chunk_len == 19 {
            flush(&mut n, &mut chunk, &mut chunk_len);
        }
        i += 1;
        digits += 1;
    }
    if i < body.len() && body[i] == b'.' {
        i += 1;
        while i < body.len() && body[i].is_ascii_digit() {
            chunk = chunk * 10 + (body[i] - b'0') as u64;
            chunk_len += 1;
            if chunk_len == 19 {
                flush(&mut n, &mut chunk, &mut chunk_len);
            }
            i += 1;
            digits += 1;
            exp10 -= 1;
        }
    }
    flush(&mut n, &mut chunk, &mut chunk_len);
    if digits == 0 {
        return None;
    }
    if i < body.len() && (body[i] | 0x20) == b'e' {
        i += 1;
        let eneg = match body.get(i) {
            Some(b'-') => {
                i += 1;
                true
            }
            Some(b'+') => {
                i += 1;
                false
            }
            _ => false,
        };
        let start = i;
        let mut e: i64 = 0;
        while i < body.len() && body[i].is_ascii_digit() {
            e = (e * 10 + (body[i] - b'0') as i64).min(1 << 40);
            i += 1;
        }
        if i == start {
            return None;
        }
        exp10 += if eneg { -e } else { e };
    }
    if i != body.len() {
        return None;
    }
    if n.is_zero() {
        return Some(Ld { neg, ..Ld::ZERO });
    }
    // n < 10^5120: beyond these bounds the value overflows or underflows whatever the digits.
    if exp10 > 4940 {
        return None;
    }
    if exp10 < -(5120 + 4960) {
        return None;
    }
    let r = if exp10 >= 0 {
        n.mul_pow10(exp10 as u64);
        round_ratio(neg, &n, &Big(vec![1]), 0)
    } else {
        round_ratio(neg, &n, &Big::pow10((-exp10) as u64), 0)
    };
    finite(r)
}

/// Refuses what `strtold` reports as `ERANGE` with an infinite or zero result.
fn finite(r: Ld) -> Option<Ld> {
    if r.inf || r.mant == 0 {
        None
    } else {
        Some(r)
    }
}

/// The part after `0x`: hex digits, an optional fraction, an optional binary exponent `p±n`.
fn parse_hex(neg: bool, body: &[u8]) -> Option<Ld> {
    let mut n = Big(Vec::new());
    let mut i = 0;
    let mut digits = 0;
    let mut exp2: i64 = 0;
    let hex = |c: u8| (c as char).to_digit(16);
    while let Some(d) = body.get(i).and_then(|&c| hex(c)) {
        n.mul_add_small(16, d as u64);
        i += 1;
        digits += 1;
    }
    if body.get(i) == Some(&b'.') {
        i += 1;
        while let Some(d) = body.get(i).and_then(|&c| hex(c)) {
            n.mul_add_small(16, d as u64);
            i += 1;
            digits += 1;
            exp2 -= 4;
        }
    }
    if digits == 0 {
        return None;
    }
    if i < body.len() && (body[i] | 0x20) == b'p' {
        i += 1;
        let eneg = match body.get(i) {
            Some(b'-') => {
                i += 1;
                true
            }
            Some(b'+') => {
                i += 1;
                false
            }
            _ => false,
        };
        let start = i;
        let mut e: i64 = 0;
        while i < body.len() && body[i].is_ascii_digit() {
            e = (e * 10 + (body[i] - b'0') as i64).min(1 << 40);
            i += 1;
        }
        if i == start {
            return None;
        }
        exp2 += if eneg { -e } else { e };
    }
    if i != body.len() {
        return None;
    }
    if n.is_zero() {
        return Some(Ld { neg, ..Ld::ZERO });
    }
    if !(-40000..=20000).contains(&exp2) {
        return None;
    }
    finite(round_ratio(neg, &n, &Big(vec![1]), exp2))
}

/// `a + b` rounded as the x87 does; `None` if an operand is infinite or the sum overflows (Redis:
/// "increment would produce NaN or Infinity").
pub fn add(a: Ld, b: Ld) -> Option<Ld> {
    if a.inf || b.inf {
        return None;
    }
    if b.mant == 0 {
        return Some(if a.mant == 0 {
            Ld {
                neg: a.neg && b.neg,
                ..Ld::ZERO
            }
        } else {
            a
        });
    }
    if a.mant == 0 {
        return Some(b);
    }
    // Put the larger exponent first, and reduce a far smaller operand to a sticky bit: any nonzero
    // value far below the rounding position rounds the same way.
    let (hi, mut lo) = if a.exp >= b.exp { (a, b) } else { (b, a) };
    if hi.exp - lo.exp > 200 {
        lo = Ld {
            neg: lo.neg,
            inf: false,
            mant: 1,
            exp: hi.exp - 200,
        };
    }
    let e = lo.exp;
    let x = Big::from_u128(hi.mant as u128).shl(hi.exp - e);
    let y = Big::from_u128(lo.mant as u128);
    let (neg, n) = if hi.neg == lo.neg {
        (hi.neg, x.add(&y))
    } else {
        match x.cmp(&y) {
            Ordering::Greater => (hi.neg, x.sub(&y)),
            Ordering::Less => (lo.neg, y.sub(&x)),
            Ordering::Equal => return Some(Ld::ZERO),
        }
    };
    let r = round_ratio(neg, &n, &Big(vec![1]), e);
    if r.inf {
        None
    } else {
        Some(r)
    }
}

/// `%.17Lf` with Redis's `LD_STR_HUMAN` trimming: trailing zeros after the point go, then the point
/// itself, and `-0` becomes `0`. Infinite values print as `inf`/`-inf`.
pub fn format_human(v: Ld) -> String {
    if v.inf {
        return if v.neg { "-inf".into() } else { "inf".into() };
    }
    let (int, frac) = if v.exp >= 0 {
        (Big::from_u128(v.mant as u128).shl(v.exp).to_decimal(), 0u64)
    } else {
        // value * 10^17 = mant * 10^17 / 2^s, which fits in 121 bits before the shift.
        const P17: u128 = 100_000_000_000_000_000;
        let p = v.mant as u128 * P17;
        let s = -v.exp;
        let q = if s >= 128 {
            0
        } else {
            let q = p >> s;
            let rest = p & ((1u128 << s) - 1);
            let half = 1u128 << (s - 1);
            if rest > half || (rest == half && q & 1 == 1) {
                q + 1
            } else {
                q
            }
        };
        (Big::from_u128(q / P17).to_decimal(), (q % P17) as u64)
    };
    let mut out = String::with_capacity(int.len() + 19);
    if v.neg {
        out.push('-');
    }
    out.push_str(&int);
    if frac != 0 {
        let f = format!("{frac:017}");
        out.push('.');
        out.push_str(f.trim_end_matches('0'));
    }
    if out == "-0" {
        out.remove(0);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sum(a: &str, b: &str) -> String {
        let a = parse(a.as_bytes()).expect("a parses");
        let b = parse(b.as_bytes()).expect("b parses");
        format_human(add(a, b).expect("finite"))
    }

    /// Each row is a stored value, an increment and the reply of a real Redis 7.0 (x86-64).
    #[test]
    fn matches_redis() {
        let cases = [
            ("10000.5", "0.1", "10000.59999999999999964"),
            ("10.5", "0.1", "10.6"),
            ("1", "-1.1", "-0.1"),
            ("12345678.9", "0.3", "12345679.1999999999998181"),
            ("5.0e3", "2.0e3", "7000"),
            ("7000", "1e30", "1000000000000000000024696061952"),
            ("0", "1e-20", "0"),
            ("0", "0.1", "0.1"),
            ("0.1", "0.2", "0.3"),
            ("1.1", "2.2", "3.3"),
            ("-5", "2.5", "-2.5"),
            ("3", "-0.3333", "2.6667"),
            ("1e17", "0.5", "100000000000000000.5"),
            ("2.5e-17", "0", "0.00000000000000002"),
            ("1.5e-17", "0", "0.00000000000000002"),
            ("5e-18", "0", "0"),
            ("123456789.123456789", "0", "123456789.12345678899873747"),
            ("1e-4940", "0", "0"),
            ("9.9999999999999999999e-18", "0", "0.00000000000000001"),
            ("0x1.8p3", "0.25", "12.25"),
            ("18446744073709551615", "1", "18446744073709551616"),
            ("-9223372036854775808", "-1", "-9223372036854775809"),
            (
                "3.14159265358979323846264338327950288",
                "2.718281828459045",
                "5.85987448204883824",
            ),
        ];
        for (a, b, want) in cases {
            assert_eq!(sum(a, b), want, "{a} + {b}");
        }
        // Long results: the first digits and the length Redis printed.
        let big = sum("1e4931", "0");
        assert!(
            big.starts_with("100000000000000000000601894938") && big.len() == 4932,
            "{}",
            &big[..40]
        );
        let dbl = sum("1.7976931348623157e308", "0");
        assert!(
            dbl.starts_with("179769313486231569995921046774") && dbl.len() == 309,
            "{}",
            &dbl[..40]
        );
    }

    #[test]
    fn parse_rules() {
        for bad in [
            "", " 1", "1 ", "nan", "-nan", "1e", "e5", ".", "1e99999", "1e-99999", "0x", "abc",
            "1.2.3", "--1",
        ] {
            assert!(parse(bad.as_bytes()).is_none(), "{bad:?}");
        }
        for good in [
            "1",
            "-1",
            "+.5",
            "5.",
            "1e10",
            "1E+10",
            "inf",
            "-Infinity",
            "0x10",
            "0x1p-2",
            "0e-99999",
        ] {
            assert!(parse(good.as_bytes()).is_some(), "{good:?}");
        }
        assert_eq!(format_human(parse(b"0x1p-2").unwrap()), "0.25");
        assert_eq!(format_human(parse(b"-0").unwrap()), "0");
        assert_eq!(format_human(Ld::from_i64(i64::MIN)), "-9223372036854775808");
    }

    proptest::proptest! {
        /// Client bytes never panic the parser, and whatever parses adds and prints.
        #[test]
        fn arbitrary_input_never_panics(a in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..40),
                                        b in "[-+]?[0-9]{0,25}(\\.[0-9]{0,25})?([eE][-+]?[0-9]{1,5})?") {
            let pa = parse(&a);
            if let (Some(x), Some(y)) = (pa, parse(b.as_bytes())) {
                if let Some(z) = add(x, y) {
                    let text = format_human(z);
                    proptest::prop_assert!(parse(text.as_bytes()).is_some() || text == "0");
                }
            }
        }

        /// Integers add exactly while they fit in 64 significand bits.
        #[test]
        fn integer_sums_are_exact(x in -(1i64 << 62)..(1i64 << 62), y in -(1i64 << 62)..(1i64 << 62)) {
            let z = add(Ld::from_i64(x), Ld::from_i64(y)).unwrap();
            proptest::prop_assert_eq!(format_human(z), (x + y).to_string());
        }
    }
}
