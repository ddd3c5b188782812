//! `Packed`: the one contiguous allocation behind every compact encoding (Redis's listpack and
//! intset idea).
//!
//! Why it is built this way:
//! * A small collection is a few dozen bytes, so the allocation's bookkeeping is what decides its
//!   size. `Packed` is a boxed slice sized exactly to its contents: no capacity word and no spare
//!   room, so 31 bytes of pairs cost a 32-byte jemalloc class where a `Vec` (or a `ThinVec`, whose
//!   header holds length and capacity) would round up to the next class after its header. Every edit
//!   reallocates to the new exact size, as Redis's `lpInsert` does; jemalloc resizes in place when
//!   the size class does not change, and the buffers are small by construction (the
//!   `*-max-listpack-*` thresholds bound them).
//! * It is 16 bytes with a non-null pointer, so an enum of a `Packed` and a `Box` stays 16 bytes and
//!   the collection types stay unboxed inside the 24-byte `Value`.
//! * The entry formats live in the types that use them; this module only gives them the buffer and
//!   the LEB128 varint they share.

use std::ops::Range;

#[derive(Clone, PartialEq, Eq, Default)]
pub struct Packed(Box<[u8]>);

impl Packed {
    pub fn new() -> Packed {
        Packed(Box::default())
    }

    pub fn from_slice(b: &[u8]) -> Packed {
        Packed(b.into())
    }

    #[inline]
    pub fn as_slice(&self) -> &[u8] {
        &self.0
    }

    #[inline]
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        &mut self.0
    }

    #[inline]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Replaces the bytes in `range` with `with`, leaving the buffer exactly as long as its contents.
    /// Panics if `range` is out of bounds (ranges come from this crate's own walks, never a client).
    pub fn splice(&mut self, range: Range<usize>, with: &[u8]) {
        if range.len() == with.len() {
            self.0[range].copy_from_slice(with);
            return;
        }
        let mut v = std::mem::take(&mut self.0).into_vec();
        let grow = with.len().saturating_sub(range.len());
        v.reserve_exact(grow);
        if range.end == v.len() && range.is_empty() {
            v.extend_from_slice(with);
        } else {
            v.splice(range, with.iter().copied());
        }
        // `into_boxed_slice` shrinks to the length: a realloc only when bytes were removed.
        self.0 = v.into_boxed_slice();
    }

    /// Inserts `with` before byte `at`.
    pub fn insert(&mut self, at: usize, with: &[u8]) {
        self.splice(at..at, with);
    }

    /// Appends `with`.
    pub fn extend(&mut self, with: &[u8]) {
        let n = self.len();
        self.splice(n..n, with);
    }

    /// Removes the bytes in `range`.
    pub fn remove(&mut self, range: Range<usize>) {
        self.splice(range, &[]);
    }

    /// Heap bytes held (exact: there is no spare capacity).
    pub fn heap_bytes(&self) -> usize {
        self.0.len()
    }
}

/// A counted buffer: a varint entry count, then the entries (hash, set and sorted-set listpacks).
/// An empty collection is an empty buffer (no allocation), so the count is only written when there
/// is something to count; below 128 entries it is one byte.
impl Packed {
    /// The entry count of a counted buffer.
    #[inline]
    pub fn count(&self) -> usize {
        if self.0.is_empty() {
            0
        } else {
            get_varint(&self.0, 0).0
        }
    }

    /// Where the entries of a counted buffer start (after the count).
    #[inline]
    pub fn body(&self) -> usize {
        if self.0.is_empty() {
            0
        } else {
            get_varint(&self.0, 0).1
        }
    }

    /// Replaces the bytes in `range` (offsets into the whole buffer, inside the body) with `with`
    /// and sets the count to `count`, in one reallocation: the count is rewritten in place unless its
    /// varint changes length (crossing 0, 128, 16384 ...), when the buffer is rebuilt.
    pub fn splice_counted(&mut self, range: Range<usize>, with: &[u8], count: usize) {
        if count == 0 {
            debug_assert_eq!(self.0.len() - range.len() + with.len(), self.body());
            self.0 = Box::default();
            return;
        }
        let old = self.body();
        let new = varint_len(count);
        if old == new {
            self.splice(range, with);
            let mut hdr = [0u8; 10];
            let n = write_varint(&mut hdr, count);
            self.0[..n].copy_from_slice(&hdr[..n]);
            return;
        }
        let body = &self.0[old..];
        let (start, end) = (range.start - old, range.end - old);
        let mut v = Vec::with_capacity(new + body.len() - (end - start) + with.len());
        put_varint(&mut v, count);
        v.extend_from_slice(&body[..start]);
        v.extend_from_slice(with);
        v.extend_from_slice(&body[end..]);
        self.0 = v.into_boxed_slice();
    }
}

/// Writes `n` as a varint into `out`, returning the bytes used (at most 10).
#[inline]
fn write_varint(out: &mut [u8; 10], mut n: usize) -> usize {
    let mut i = 0;
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out[i] = byte;
            return i + 1;
        }
        out[i] = byte | 0x80;
        i += 1;
    }
}

impl std::fmt::Debug for Packed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Packed({} bytes)", self.0.len())
    }
}

/// Appends `n` as an unsigned LEB128 varint (one byte below 128).
#[inline]
pub fn put_varint(buf: &mut Vec<u8>, mut n: usize) {
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            buf.push(byte);
            return;
        }
        buf.push(byte | 0x80);
    }
}

/// How many bytes [`put_varint`] writes for `n`.
#[inline]
pub fn varint_len(n: usize) -> usize {
    let bits = usize::BITS - (n | 1).leading_zeros();
    bits.div_ceil(7) as usize
}

/// Reads a varint at `pos`: `(value, position after it)`. The buffers are this crate's own and well
/// formed; a truncated one reads as what it holds rather than panicking.
#[inline]
pub fn get_varint(buf: &[u8], mut pos: usize) -> (usize, usize) {
    let mut n = 0usize;
    let mut shift = 0;
    while let Some(&b) = buf.get(pos) {
        pos += 1;
        n |= ((b & 0x7f) as usize).wrapping_shl(shift);
        if b & 0x80 == 0 {
            break;
        }
        shift += 7;
    }
    (n, pos)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splice_keeps_the_buffer_exact() {
        let mut p = Packed::from_slice(b"hello world");
        p.splice(0..5, b"howdy");
        assert_eq!(p.as_slice(), b"howdy world");
        p.insert(5, b",");
        assert_eq!(p.as_slice(), b"howdy, world");
        p.remove(5..6);
        assert_eq!(p.as_slice(), b"howdy world");
        p.extend(b"!");
        assert_eq!(p.as_slice(), b"howdy world!");
        p.splice(6..12, b"");
        assert_eq!(p.as_slice(), b"howdy ");
        assert_eq!(p.heap_bytes(), 6);
        assert_eq!(std::mem::size_of::<Packed>(), 16);
    }

    #[test]
    fn counted_buffers_rewrite_their_count() {
        let mut p = Packed::new();
        assert_eq!((p.count(), p.body(), p.heap_bytes()), (0, 0, 0));
        p.splice_counted(0..0, b"ab", 1);
        assert_eq!(p.as_slice(), b"\x01ab");
        let end = p.len();
        p.splice_counted(end..end, b"c", 2);
        assert_eq!(p.as_slice(), b"\x02abc");
        p.splice_counted(1..2, b"", 128);
        assert_eq!(p.as_slice(), b"\x80\x01bc");
        assert_eq!((p.count(), p.body()), (128, 2));
        p.splice_counted(3..4, b"xy", 127);
        assert_eq!(p.as_slice(), b"\x7fbxy");
        p.splice_counted(1..4, b"", 0);
        assert_eq!(p.heap_bytes(), 0);
    }

    #[test]
    fn varints_round_trip() {
        for n in [
            0usize,
            1,
            127,
            128,
            300,
            16_383,
            16_384,
            u32::MAX as usize,
            usize::MAX,
        ] {
            let mut b = Vec::new();
            put_varint(&mut b, n);
            assert_eq!(b.len(), varint_len(n), "{n}");
            assert_eq!(get_varint(&b, 0), (n, b.len()));
        }
    }
}
