//! Stored values and the per-key entry around them.
//!
//! Strings keep Redis's three encodings so `OBJECT ENCODING` answers as Redis does: `int` for values
//! that are canonical 64-bit integers (stored as the integer itself), `embstr` for short strings set
//! whole, `raw` for longer strings and any string modified in place (APPEND, SETRANGE, SETBIT).
//! Collection types join this enum as their families land.

use std::borrow::Cow;

use super::types::hash::HashValue;
use super::types::set::SetValue;
use crate::protocol::parse_i64;
use crate::smallbytes::SmallBytes;
use crate::storage::types::list::ListValue;
use crate::storage::types::stream::Stream;

/// The buffer of a `raw` string.
pub type RawBytes = thin_vec::ThinVec<u8>;

/// Bulk operations on [`RawBytes`]. `thin_vec`'s own `From<&[T]>`, `From<Vec<T>>`,
/// `extend_from_slice` and `resize` go element by element (a push and a capacity check per byte): SET
/// of a 100 KB value spent 70% of its time there and ran at 0.37 of Redis. These copy or fill once.
pub mod raw {
    use super::RawBytes;

    /// `b` in a new buffer of exactly its length.
    pub fn from_slice(b: &[u8]) -> RawBytes {
        let mut v = RawBytes::with_capacity(b.len());
        extend(&mut v, b);
        v
    }

    /// Appends `b` (one copy).
    pub fn extend(v: &mut RawBytes, b: &[u8]) {
        if b.is_empty() {
            return;
        }
        v.reserve(b.len());
        let len = v.len();
        // SAFETY: `reserve` made room for `len + b.len()` bytes (a real allocation: `b` is not
        // empty, so this is never the shared empty header). The copy initialises exactly the bytes
        // `set_len` then covers, and `b` cannot overlap that spare capacity: `v` is borrowed mutably
        // for this call, so `b` does not point into it.
        unsafe {
            std::ptr::copy_nonoverlapping(b.as_ptr(), v.as_mut_ptr().add(len), b.len());
            v.set_len(len + b.len());
        }
    }

    /// Grows `v` to `len` bytes with zeros (no-op if it is that long already).
    pub fn zero_extend(v: &mut RawBytes, len: usize) {
        let old = v.len();
        if len <= old {
            return;
        }
        v.reserve(len - old);
        // SAFETY: `reserve` made room for `len` bytes, a real allocation since `len > old >= 0`;
        // `write_bytes` initialises bytes `old..len`, exactly what `set_len` then covers, and zero is
        // a valid `u8`.
        unsafe {
            std::ptr::write_bytes(v.as_mut_ptr().add(old), 0, len - old);
            v.set_len(len);
        }
    }
}

/// Longest string Redis stores as `embstr`.
pub const EMBSTR_MAX: usize = 44;

#[derive(Debug, Clone, PartialEq)]
pub enum StrValue {
    Int(i64),
    /// Up to 44 bytes set whole: inline up to 22 bytes, else one exact-size allocation.
    Emb(SmallBytes),
    /// Longer strings, or any string modified in place (spare capacity for APPEND/SETRANGE). A
    /// `ThinVec` keeps its length and capacity in the heap block, so this variant is one pointer and
    /// `Value` stays 24 bytes (a keyspace node 64).
    Raw(RawBytes),
}

impl Value {
    /// Starts loading, for a big hash, set or sorted set, the bucket slot (`node` false) or the
    /// first chain node (`node` true, once the slot is in cache) of the member hashing to `hash`.
    #[inline]
    pub fn prefetch_member(&self, hash: u64, node: bool) {
        use super::types::hash::HashValue;
        use super::types::set::SetValue;
        match self {
            Value::Hash(HashValue::Hashtable(d)) => d.prefetch(hash, node),
            Value::Set(SetValue::Hashtable(d)) => d.prefetch(hash, node),
            Value::ZSet(z) => z.prefetch_member(hash, node),
            _ => {}
        }
    }

    /// Starts loading the heap block a read of this value touches first (see
    /// [`crate::storage::Keyspace::prefetch`]); nothing for values stored inline.
    #[inline]
    pub fn prefetch(&self) {
        use crate::storage::dict::prefetch;
        match self {
            Value::Str(StrValue::Emb(SmallBytes::Heap(b))) => prefetch(&**b),
            Value::Str(StrValue::Raw(v)) => prefetch(&**v),
            Value::List(ListValue::Packed(p)) => prefetch(p.as_slice()),
            Value::List(ListValue::Deque(d)) => prefetch(&**d),
            Value::Stream(s) => prefetch(&**s),
            _ => {}
        }
    }
}

impl StrValue {
    /// Encodes bytes the way `SET` does: an integer if the text is a canonical i64, else a string.
    pub fn from_bytes(b: &[u8]) -> StrValue {
        if b.len() <= 20 {
            if let Some(i) = parse_i64(b) {
                return StrValue::Int(i);
            }
        }
        if b.len() <= EMBSTR_MAX {
            StrValue::Emb(SmallBytes::new(b))
        } else {
            StrValue::Raw(raw::from_slice(b))
        }
    }

    pub fn as_bytes(&self) -> Cow<'_, [u8]> {
        match self {
            StrValue::Int(i) => Cow::Owned(itoa::Buffer::new().format(*i).as_bytes().to_vec()),
            StrValue::Emb(b) => Cow::Borrowed(b.as_slice()),
            StrValue::Raw(b) => Cow::Borrowed(b),
        }
    }

    pub fn len(&self) -> usize {
        match self {
            StrValue::Int(i) => itoa::Buffer::new().format(*i).len(),
            StrValue::Emb(b) => b.len(),
            StrValue::Raw(b) => b.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The bytes for in-place modification; the value becomes `raw`, as in Redis.
    pub fn make_raw(&mut self) -> &mut RawBytes {
        let bytes = match self {
            StrValue::Raw(_) => None,
            StrValue::Emb(b) => Some(raw::from_slice(b.as_slice())),
            StrValue::Int(i) => Some(raw::from_slice(itoa::Buffer::new().format(*i).as_bytes())),
        };
        if let Some(b) = bytes {
            *self = StrValue::Raw(b);
        }
        match self {
            StrValue::Raw(b) => b,
            _ => unreachable!("converted to raw above"),
        }
    }

    /// The stored bytes, or `None` for an integer.
    pub fn raw_bytes(&self) -> Option<&[u8]> {
        match self {
            StrValue::Int(_) => None,
            StrValue::Emb(b) => Some(b),
            StrValue::Raw(b) => Some(b),
        }
    }

    pub fn encoding(&self) -> &'static str {
        match self {
            StrValue::Int(_) => "int",
            StrValue::Emb(_) => "embstr",
            StrValue::Raw(_) => "raw",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Str(StrValue),
    /// Unboxed: a listpack buffer or a boxed ring, 16 bytes either way.
    List(ListValue),
    /// Collections are boxed so `Value` stays three words (strings are the common case).
    Hash(HashValue),
    Set(SetValue),
    ZSet(super::types::zset::ZSet),
    Stream(Box<Stream>),
}

impl Value {
    pub fn from_bytes(b: &[u8]) -> Value {
        Value::Str(StrValue::from_bytes(b))
    }

    pub fn from_int(i: i64) -> Value {
        Value::Str(StrValue::Int(i))
    }

    /// The name `TYPE` reports.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "string",
            Value::List(_) => "list",
            Value::Hash(_) => "hash",
            Value::Set(_) => "set",
            Value::ZSet(_) => "zset",
            Value::Stream(_) => "stream",
        }
    }

    /// The name `OBJECT ENCODING` reports.
    pub fn encoding(&self) -> &'static str {
        match self {
            Value::Str(s) => s.encoding(),
            Value::List(l) => l.encoding(),
            Value::Hash(h) => h.encoding(),
            Value::Set(s) => s.encoding().name(),
            Value::ZSet(z) => z.encoding(),
            Value::Stream(_) => "stream",
        }
    }
}

/// Everything stored for one key besides the key itself and its LRU/LFU stamp (which lives in the
/// table node: see [`super::dict::Node::meta`]).
#[derive(Debug, Clone)]
pub struct Entry {
    pub value: Value,
    /// Absolute expiry in Unix milliseconds; 0 when the key does not expire.
    /// Only `storage::db` writes it, so the per-table volatile count stays exact.
    pub(crate) expire_at: u64,
}

impl Entry {
    pub fn new(value: Value) -> Entry {
        Entry {
            value,
            expire_at: 0,
        }
    }

    pub fn expire_at(&self) -> Option<u64> {
        (self.expire_at != 0).then_some(self.expire_at)
    }

    pub fn is_expired(&self, now_ms: u64) -> bool {
        self.expire_at != 0 && self.expire_at <= now_ms
    }
}

#[cfg(test)]
mod size_tests {
    use super::{raw, RawBytes};

    /// The bulk helpers copy and fill exactly, empty cases included.
    #[test]
    fn raw_bulk_operations() {
        let big: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        let mut v = raw::from_slice(&big);
        assert_eq!(&v[..], &big[..]);
        assert_eq!(v.capacity(), big.len());
        raw::extend(&mut v, b"tail");
        assert_eq!(&v[big.len()..], b"tail");
        raw::extend(&mut v, b"");
        assert_eq!(v.len(), big.len() + 4);
        raw::zero_extend(&mut v, big.len() + 10);
        assert_eq!(&v[big.len() + 4..], &[0u8; 6]);
        raw::zero_extend(&mut v, 3);
        assert_eq!(v.len(), big.len() + 10, "never shrinks");
        let mut e = raw::from_slice(b"");
        assert!(e.is_empty());
        raw::zero_extend(&mut e, 0);
        raw::zero_extend(&mut e, 5);
        assert_eq!(&e[..], &[0u8; 5]);
        let mut f = RawBytes::new();
        raw::extend(&mut f, b"abc");
        assert_eq!(&f[..], b"abc");
    }

    #[test]
    fn value_stays_small() {
        assert!(
            std::mem::size_of::<super::Value>() <= 24,
            "{}",
            std::mem::size_of::<super::Value>()
        );
    }
}
