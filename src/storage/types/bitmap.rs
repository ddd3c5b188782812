//! Bit operations over a string's bytes: the pure half of the bitmap commands.
//!
//! Bits are numbered as Redis numbers them: bit 0 is the most significant bit of byte 0. A string is an
//! infinite run of zero bits past its end, so reads beyond the end see zeros and writes grow the string
//! with zero bytes.
//!
//! Why it is built this way:
//! * Everything here is a function over `&[u8]` / `&mut crate::storage::value::RawBytes`, with no RESP and no keyspace, so the
//!   commands (`commands::bitmap`) only parse arguments and move bytes in and out of the store, and these
//!   functions are unit-tested against a naive bit-by-bit model.
//! * Counting and searching are the hot paths of BITCOUNT and BITPOS on large bitmaps: both walk the
//!   bytes in `u64` words (`count_ones`, compare against an all-zero/all-one word) and only fall back to
//!   bytes at the ragged edges of a range.
//! * Bit fields (BITFIELD) are read and written through a 128-bit big-endian window over the (at most
//!   nine) bytes a 1..64-bit field can touch, and the overflow rules are computed in `i128`, where no
//!   intermediate sum can overflow; the results are the ones Redis's `checkSignedBitfieldOverflow` and
//!   `checkUnsignedBitfieldOverflow` give.

/// Whether a range's `start`/`end` count bytes or bits (BITCOUNT/BITPOS `BYTE | BIT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Byte,
    Bit,
}

/// The value of bit `offset`, zero past the end.
pub fn get_bit(b: &[u8], offset: u64) -> bool {
    let byte = offset >> 3;
    match usize::try_from(byte).ok().and_then(|i| b.get(i)) {
        Some(v) => v & (0x80 >> (offset & 7)) != 0,
        None => false,
    }
}

/// Grows `b` with zero bytes so that bit `offset` exists.
pub fn grow_to_bit(b: &mut crate::storage::value::RawBytes, offset: u64) {
    crate::storage::value::raw::zero_extend(b, (offset >> 3) as usize + 1);
}

/// Sets bit `offset` to `on`, growing `b` with zero bytes as needed. Returns the previous value.
pub fn set_bit(b: &mut crate::storage::value::RawBytes, offset: u64, on: bool) -> bool {
    grow_to_bit(b, offset);
    let byte = &mut b[(offset >> 3) as usize];
    let mask = 0x80u8 >> (offset & 7);
    let old = *byte & mask != 0;
    if on {
        *byte |= mask;
    } else {
        *byte &= !mask;
    }
    old
}

/// Number of set bits in `b`, a word at a time.
pub fn popcount(b: &[u8]) -> u64 {
    let mut chunks = b.chunks_exact(8);
    let mut n: u64 = 0;
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        n += u64::from_ne_bytes(w).count_ones() as u64;
    }
    n + chunks
        .remainder()
        .iter()
        .map(|x| x.count_ones() as u64)
        .sum::<u64>()
}

/// Resolves a `start end` range over a string of `len` bytes to an inclusive range of bit offsets, the way
/// BITCOUNT and BITPOS do: negative indices count from the end, both ends are clamped to the string, and
/// `None` means the range is empty.
pub fn resolve_range(len: usize, start: i64, end: i64, unit: Unit) -> Option<(u64, u64)> {
    let len = len as i64;
    let total = match unit {
        Unit::Byte => len,
        Unit::Bit => len.saturating_mul(8),
    };
    let mut start = if start < 0 {
        start.saturating_add(total)
    } else {
        start
    };
    let mut end = if end < 0 {
        end.saturating_add(total)
    } else {
        end
    };
    start = start.max(0);
    end = end.max(0);
    if end >= total {
        end = total - 1;
    }
    if start > end {
        return None;
    }
    let (s, e) = (start as u64, end as u64);
    Some(match unit {
        Unit::Byte => (s * 8, e * 8 + 7),
        Unit::Bit => (s, e),
    })
}

/// Mask of the bits of a byte at positions `from..=to` (0 = most significant).
fn byte_mask(from: u64, to: u64) -> u8 {
    let high = 0xffu8 >> from;
    let low = 0xffu8 << (7 - to);
    high & low
}

/// Number of set bits among bit offsets `start..=end`, which must lie inside `b`.
pub fn count_bits(b: &[u8], start: u64, end: u64) -> u64 {
    let (sb, eb) = ((start >> 3) as usize, (end >> 3) as usize);
    if sb == eb {
        return (b[sb] & byte_mask(start & 7, end & 7)).count_ones() as u64;
    }
    let first = (b[sb] & byte_mask(start & 7, 7)).count_ones() as u64;
    let last = (b[eb] & byte_mask(0, end & 7)).count_ones() as u64;
    first + popcount(&b[sb + 1..eb]) + last
}

/// Index of the first byte of `b` that is not `skip`, scanning a word at a time.
fn first_byte_not(b: &[u8], skip: u8) -> Option<usize> {
    let word = u64::from_ne_bytes([skip; 8]);
    let mut chunks = b.chunks_exact(8);
    let mut base = 0;
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        if u64::from_ne_bytes(w) != word {
            break;
        }
        base += 8;
    }
    b[base..].iter().position(|&x| x != skip).map(|i| base + i)
}

/// Offset of the first bit equal to `bit` among bit offsets `start..=end`, which must lie inside `b`.
pub fn find_bit(b: &[u8], bit: bool, start: u64, end: u64) -> Option<u64> {
    let (sb, eb) = ((start >> 3) as usize, (end >> 3) as usize);
    // Look for a 1 in the bytes as they are (bit 1) or inverted (bit 0).
    let norm = |x: u8| if bit { x } else { !x };
    let hit = |i: usize, mask: u8| {
        let v = norm(b[i]) & mask;
        (v != 0).then(|| i as u64 * 8 + v.leading_zeros() as u64)
    };
    if sb == eb {
        return hit(sb, byte_mask(start & 7, end & 7));
    }
    if let Some(p) = hit(sb, byte_mask(start & 7, 7)) {
        return Some(p);
    }
    let skip = if bit { 0x00 } else { 0xff };
    if let Some(i) = first_byte_not(&b[sb + 1..eb], skip) {
        return hit(sb + 1 + i, 0xff);
    }
    hit(eb, byte_mask(0, end & 7))
}

/// BITOP's operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BitOp {
    And,
    Or,
    Xor,
    Not,
}

/// Folds one more source into an AND/OR/XOR result: `acc` and `src` are both read as zero-padded to the
/// longer of the two, and `acc` grows to that length. (`Not` has a single source: see [`not_in_place`].)
pub fn fold_into(acc: &mut Vec<u8>, src: &[u8], op: BitOp) {
    if acc.len() < src.len() {
        acc.resize(src.len(), 0);
    }
    let n = src.len();
    let (head, tail) = acc.split_at_mut(n);
    // Plain byte loops: LLVM vectorises them, which beats hand-made word loops.
    match op {
        BitOp::And => {
            head.iter_mut().zip(src).for_each(|(a, s)| *a &= s);
            tail.fill(0);
        }
        BitOp::Or => head.iter_mut().zip(src).for_each(|(a, s)| *a |= s),
        BitOp::Xor => head.iter_mut().zip(src).for_each(|(a, s)| *a ^= s),
        BitOp::Not => {}
    }
}

/// Inverts every bit of `b`.
pub fn not_in_place(b: &mut [u8]) {
    b.iter_mut().for_each(|x| *x = !*x);
}

/// A BITFIELD integer type: `i1`..`i64` or `u1`..`u63`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldType {
    pub signed: bool,
    /// Width in bits, 1..=64 (1..=63 when unsigned).
    pub bits: u32,
}

impl FieldType {
    /// Parses `i<bits>` / `u<bits>` as Redis's `getBitfieldTypeFromArgument` does (the width is a strict
    /// integer: no sign, no leading zeros).
    pub fn parse(b: &[u8]) -> Option<FieldType> {
        let (&kind, width) = b.split_first()?;
        let signed = match kind {
            b'i' => true,
            b'u' => false,
            _ => return None,
        };
        let bits = crate::protocol::parse_i64(width)?;
        let max = if signed { 64 } else { 63 };
        if !(1..=max).contains(&bits) {
            return None;
        }
        Some(FieldType {
            signed,
            bits: bits as u32,
        })
    }
}

/// BITFIELD's OVERFLOW behaviours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overflow {
    Wrap,
    Sat,
    Fail,
}

/// Applies `incr` to the field value `value` under `ow`, with the rules of Redis's
/// `checkSignedBitfieldOverflow` / `checkUnsignedBitfieldOverflow`: `Some((result, overflowed))`, or
/// `None` when `ow` is `Fail` and the result does not fit. An unsigned `value` is the 64-bit two's
/// complement pattern of the argument (so `SET u8 0 -1` is 255 under WRAP and SAT alike).
///
/// The signed check is Redis's to the bit, including where its 64-bit arithmetic wraps: a value far below
/// the type's minimum (below `i64::MIN + max`, e.g. `SET i8 0 -9223372036854775808`) is reported as an
/// overflow *upwards*, so SAT stores the maximum. Differential tests against Redis pin this.
pub fn apply(ty: FieldType, value: i64, incr: i64, ow: Overflow) -> Option<(i64, bool)> {
    if ty.signed {
        apply_signed(value, incr, ty.bits, ow)
    } else {
        apply_unsigned(value as u64, incr, ty.bits, ow)
    }
}

/// The value a BITFIELD `SET` writes for the requested `v` (see [`apply`]).
pub fn set_value(ty: FieldType, v: i64, ow: Overflow) -> Option<(i64, bool)> {
    apply(ty, v, 0, ow)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Dir {
    None,
    Up,
    Down,
}

fn apply_signed(value: i64, incr: i64, bits: u32, ow: Overflow) -> Option<(i64, bool)> {
    let max: i64 = if bits == 64 {
        i64::MAX
    } else {
        (1i64 << (bits - 1)) - 1
    };
    let min = -max - 1;
    // Both may wrap, as in Redis; they are only trusted once `value` is known to be in range.
    let maxincr = (max as u64).wrapping_sub(value as u64) as i64;
    let minincr = min.wrapping_sub(value);
    let dir = if value > max
        || (bits != 64 && incr > maxincr)
        || (value >= 0 && incr > 0 && incr > maxincr)
    {
        Dir::Up
    } else if value < min
        || (bits != 64 && incr < minincr)
        || (value < 0 && incr < 0 && incr < minincr)
    {
        Dir::Down
    } else {
        Dir::None
    };
    match (dir, ow) {
        (Dir::None, _) => Some((value.wrapping_add(incr), false)),
        (_, Overflow::Fail) => None,
        (Dir::Up, Overflow::Sat) => Some((max, true)),
        (_, Overflow::Sat) => Some((min, true)),
        (_, Overflow::Wrap) => {
            let mut c = (value as u64).wrapping_add(incr as u64);
            if bits < 64 {
                let high = u64::MAX << bits;
                if c & (1u64 << (bits - 1)) != 0 {
                    c |= high;
                } else {
                    c &= !high;
                }
            }
            Some((c as i64, true))
        }
    }
}

fn apply_unsigned(value: u64, incr: i64, bits: u32, ow: Overflow) -> Option<(i64, bool)> {
    let max: u64 = (1u64 << bits) - 1;
    let maxincr = max.wrapping_sub(value) as i64;
    let minincr = value.wrapping_neg() as i64;
    let dir = if value > max || (incr > 0 && incr > maxincr) {
        Dir::Up
    } else if incr < 0 && incr < minincr {
        Dir::Down
    } else {
        Dir::None
    };
    match (dir, ow) {
        (Dir::None, _) => Some((value.wrapping_add(incr as u64) as i64, false)),
        (_, Overflow::Fail) => None,
        (Dir::Up, Overflow::Sat) => Some((max as i64, true)),
        (_, Overflow::Sat) => Some((0, true)),
        (_, Overflow::Wrap) => Some(((value.wrapping_add(incr as u64) & max) as i64, true)),
    }
}

/// The 128-bit big-endian window starting at byte `offset / 8`, zero past the end of `b`.
fn window(b: &[u8], byte: u64) -> u128 {
    let mut w = [0u8; 16];
    if let Ok(i) = usize::try_from(byte) {
        if i < b.len() {
            let n = (b.len() - i).min(9);
            w[..n].copy_from_slice(&b[i..i + n]);
        }
    }
    u128::from_be_bytes(w)
}

/// Reads the field of type `ty` at bit `offset`; bits past the end of `b` read as zero.
pub fn get_field(b: &[u8], offset: u64, ty: FieldType) -> i64 {
    let shift = (offset & 7) as u32;
    let raw = (window(b, offset >> 3) << shift) >> (128 - ty.bits);
    let raw = raw as u64;
    if ty.signed && ty.bits < 64 && raw >> (ty.bits - 1) & 1 == 1 {
        (raw | (u64::MAX << ty.bits)) as i64
    } else {
        raw as i64
    }
}

/// Writes the low `ty.bits` bits of `v` at bit `offset`, growing `b` with zero bytes as needed.
pub fn set_field(b: &mut crate::storage::value::RawBytes, offset: u64, ty: FieldType, v: i64) {
    let last = offset + ty.bits as u64 - 1;
    grow_to_bit(b, last);
    let byte = offset >> 3;
    let shift = (offset & 7) as u32;
    let low = 128 - shift - ty.bits;
    let field_mask = if ty.bits == 64 {
        u64::MAX as u128
    } else {
        (1u128 << ty.bits) - 1
    };
    let mask = field_mask << low;
    let w = (window(b, byte) & !mask) | (((v as u64 as u128) & field_mask) << low);
    let bytes = w.to_be_bytes();
    let first = byte as usize;
    let n = ((last >> 3) - byte + 1) as usize;
    b[first..first + n].copy_from_slice(&bytes[..n]);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Naive model: the bits of `b`, MSB first.
    fn bits(b: &[u8]) -> Vec<bool> {
        (0..b.len() as u64 * 8)
            .map(|i| b[(i / 8) as usize] & (0x80 >> (i % 8)) != 0)
            .collect()
    }

    fn sample(n: usize, seed: u64) -> Vec<u8> {
        let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect()
    }

    #[test]
    fn get_and_set_bits() {
        let mut b = crate::storage::value::RawBytes::new();
        assert!(!set_bit(&mut b, 7, true));
        assert_eq!(b, [0x01]);
        assert!(set_bit(&mut b, 7, true));
        assert!(!set_bit(&mut b, 17, true));
        assert_eq!(b, [0x01, 0x00, 0x40]);
        assert!(get_bit(&b, 17) && get_bit(&b, 7) && !get_bit(&b, 0));
        assert!(!get_bit(&b, 1 << 40));
        assert!(!get_bit(&b, u64::MAX));
        assert!(set_bit(&mut b, 17, false));
        assert_eq!(b, [0x01, 0x00, 0x00]);
    }

    #[test]
    fn popcount_matches_model() {
        for n in [0, 1, 7, 8, 9, 31, 64, 100] {
            let b = sample(n, n as u64 + 3);
            assert_eq!(popcount(&b), bits(&b).iter().filter(|&&x| x).count() as u64);
        }
    }

    #[test]
    fn ranges_resolve_like_redis() {
        assert_eq!(resolve_range(6, 0, -1, Unit::Byte), Some((0, 47)));
        assert_eq!(resolve_range(6, 1, 1, Unit::Byte), Some((8, 15)));
        assert_eq!(resolve_range(6, 5, 30, Unit::Bit), Some((5, 30)));
        assert_eq!(resolve_range(6, -2, -1, Unit::Byte), Some((32, 47)));
        assert_eq!(resolve_range(6, -100, 100, Unit::Byte), Some((0, 47)));
        assert_eq!(resolve_range(6, 3, 2, Unit::Byte), None);
        assert_eq!(resolve_range(6, 10, 20, Unit::Byte), None);
        assert_eq!(resolve_range(0, 0, -1, Unit::Byte), None);
        assert_eq!(
            resolve_range(6, i64::MIN, i64::MAX, Unit::Bit),
            Some((0, 47))
        );
        assert_eq!(resolve_range(6, i64::MAX, i64::MIN, Unit::Bit), None);
    }

    #[test]
    fn count_and_find_match_model() {
        let b = sample(40, 7);
        let m = bits(&b);
        for s in 0..m.len() as u64 {
            for e in s..m.len() as u64 {
                let want = m[s as usize..=e as usize].iter().filter(|&&x| x).count() as u64;
                assert_eq!(count_bits(&b, s, e), want, "count {s}..={e}");
                for bit in [false, true] {
                    let want = (s..=e).find(|&i| m[i as usize] == bit);
                    assert_eq!(find_bit(&b, bit, s, e), want, "find {bit} {s}..={e}");
                }
            }
        }
    }

    #[test]
    fn find_in_long_uniform_runs() {
        let mut b = vec![0u8; 100];
        assert_eq!(find_bit(&b, true, 0, 799), None);
        assert_eq!(find_bit(&b, false, 3, 799), Some(3));
        b[77] = 0x02;
        assert_eq!(find_bit(&b, true, 0, 799), Some(77 * 8 + 6));
        let mut b = vec![0xffu8; 100];
        assert_eq!(find_bit(&b, false, 0, 799), None);
        b[90] = 0xfe;
        assert_eq!(find_bit(&b, false, 9, 799), Some(90 * 8 + 7));
        assert_eq!(find_bit(&b, false, 9, 726), None);
    }

    #[test]
    fn bitop_folds_with_zero_padding() {
        let mut acc = vec![0xff, 0x0f];
        fold_into(&mut acc, &[0xf0], BitOp::And);
        assert_eq!(acc, [0xf0, 0x00]);
        let mut acc = vec![0x01];
        fold_into(&mut acc, &[0x10, 0x20], BitOp::Or);
        assert_eq!(acc, [0x11, 0x20]);
        let mut acc = vec![0xff, 0xff];
        fold_into(&mut acc, &[0x0f], BitOp::Xor);
        assert_eq!(acc, [0xf0, 0xff]);
        let mut acc = vec![0xaa];
        fold_into(&mut acc, &[], BitOp::And);
        assert_eq!(acc, [0x00]);
        let mut b = vec![0x0f, 0x00];
        not_in_place(&mut b);
        assert_eq!(b, [0xf0, 0xff]);
    }

    #[test]
    fn field_types_parse() {
        assert_eq!(
            FieldType::parse(b"i64"),
            Some(FieldType {
                signed: true,
                bits: 64
            })
        );
        assert_eq!(
            FieldType::parse(b"u63"),
            Some(FieldType {
                signed: false,
                bits: 63
            })
        );
        assert_eq!(
            FieldType::parse(b"u1"),
            Some(FieldType {
                signed: false,
                bits: 1
            })
        );
        for bad in [
            &b"u64"[..],
            b"i65",
            b"i0",
            b"u",
            b"",
            b"x8",
            b"I8",
            b"i08",
            b"i-1",
            b"i+8",
        ] {
            assert_eq!(
                FieldType::parse(bad),
                None,
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn fields_roundtrip_against_model() {
        for signed in [false, true] {
            let max = if signed { 64 } else { 63 };
            for w in 1..=max {
                let ty = FieldType { signed, bits: w };
                for offset in [0u64, 1, 5, 7, 8, 13, 63, 64, 71] {
                    let mut b: crate::storage::value::RawBytes =
                        sample(12, w as u64 * 100 + offset).into();
                    let before = bits(&b);
                    let v = (0x5a5a_5a5a_5a5a_5a5au64 >> (64 - w)) as i64;
                    set_field(&mut b, offset, ty, v);
                    let after = bits(&b);
                    for (i, (x, y)) in before.iter().zip(&after).enumerate() {
                        let i = i as u64;
                        if i < offset || i >= offset + w as u64 {
                            assert_eq!(x, y, "bit {i} outside the field changed");
                        }
                    }
                    let got = get_field(&b, offset, ty);
                    let want = if signed && w < 64 && (v >> (w - 1)) & 1 == 1 {
                        v | (-1i64 << w)
                    } else {
                        v
                    };
                    assert_eq!(got, want, "{ty:?} at {offset}");
                }
            }
        }
    }

    #[test]
    fn fields_read_zeros_past_the_end_and_grow_on_write() {
        let i8t = FieldType {
            signed: true,
            bits: 8,
        };
        assert_eq!(get_field(&[], 0, i8t), 0);
        assert_eq!(get_field(&[0xff], 4, i8t), -16);
        assert_eq!(get_field(&[0xff], u64::MAX - 70, i8t), 0);
        let mut b = crate::storage::value::RawBytes::new();
        set_field(
            &mut b,
            100,
            FieldType {
                signed: false,
                bits: 8,
            },
            255,
        );
        assert_eq!(b.len(), 14);
        assert_eq!(
            get_field(
                &b,
                100,
                FieldType {
                    signed: false,
                    bits: 8
                }
            ),
            255
        );
        let i64t = FieldType {
            signed: true,
            bits: 64,
        };
        let mut b = crate::storage::value::RawBytes::new();
        set_field(&mut b, 3, i64t, i64::MIN);
        assert_eq!(get_field(&b, 3, i64t), i64::MIN);
        assert_eq!(b.len(), 9);
    }

    #[test]
    fn overflow_rules() {
        let u8t = FieldType {
            signed: false,
            bits: 8,
        };
        let i8t = FieldType {
            signed: true,
            bits: 8,
        };
        let i64t = FieldType {
            signed: true,
            bits: 64,
        };
        let u63t = FieldType {
            signed: false,
            bits: 63,
        };
        assert_eq!(apply(u8t, 255, 1, Overflow::Wrap), Some((0, true)));
        assert_eq!(apply(u8t, 0, -1, Overflow::Wrap), Some((255, true)));
        assert_eq!(apply(u8t, 200, 100, Overflow::Sat), Some((255, true)));
        assert_eq!(apply(u8t, 3, -5, Overflow::Sat), Some((0, true)));
        assert_eq!(apply(u8t, 255, 1, Overflow::Fail), None);
        assert_eq!(apply(u8t, 254, 1, Overflow::Fail), Some((255, false)));
        assert_eq!(apply(u63t, i64::MAX, i64::MIN, Overflow::Fail), None);
        assert_eq!(
            apply(u63t, i64::MAX, -i64::MAX, Overflow::Fail),
            Some((0, false))
        );
        assert_eq!(apply(u63t, 0, i64::MIN, Overflow::Wrap), Some((0, true)));
        assert_eq!(apply(i8t, 127, 1, Overflow::Wrap), Some((-128, true)));
        assert_eq!(apply(i8t, -128, -1, Overflow::Wrap), Some((127, true)));
        assert_eq!(apply(i8t, 100, 900, Overflow::Sat), Some((127, true)));
        assert_eq!(apply(i8t, -100, -900, Overflow::Sat), Some((-128, true)));
        assert_eq!(
            apply(i8t, -100, i64::MIN, Overflow::Sat),
            Some((-128, true))
        );
        assert_eq!(apply(i8t, 100, i64::MAX, Overflow::Wrap), Some((99, true)));
        assert_eq!(
            apply(i64t, i64::MAX, 1, Overflow::Wrap),
            Some((i64::MIN, true))
        );
        assert_eq!(
            apply(i64t, i64::MAX, 1, Overflow::Sat),
            Some((i64::MAX, true))
        );
        assert_eq!(
            apply(i64t, i64::MIN, -1, Overflow::Sat),
            Some((i64::MIN, true))
        );
        assert_eq!(
            apply(i64t, i64::MIN, i64::MAX, Overflow::Fail),
            Some((-1, false))
        );
        assert_eq!(apply(i64t, -1, i64::MIN, Overflow::Fail), None);
        // SET: an unsigned field takes the argument's 64-bit pattern.
        assert_eq!(set_value(u8t, -1, Overflow::Sat), Some((255, true)));
        assert_eq!(set_value(u8t, -1, Overflow::Wrap), Some((255, true)));
        assert_eq!(set_value(u8t, -1, Overflow::Fail), None);
        assert_eq!(set_value(i8t, -1, Overflow::Fail), Some((-1, false)));
        assert_eq!(set_value(i8t, -129, Overflow::Sat), Some((-128, true)));
        assert_eq!(set_value(i8t, -129, Overflow::Wrap), Some((127, true)));
        // Redis's signed check wraps for values far below the minimum and calls them overflows upwards.
        assert_eq!(set_value(i8t, i64::MIN, Overflow::Sat), Some((127, true)));
        assert_eq!(
            set_value(i8t, i64::MIN + 127, Overflow::Sat),
            Some((127, true))
        );
        assert_eq!(
            set_value(i8t, i64::MIN + 128, Overflow::Sat),
            Some((-128, true))
        );
        assert_eq!(set_value(i8t, i64::MIN, Overflow::Wrap), Some((0, true)));
    }
}
