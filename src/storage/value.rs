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
            StrValue::Raw(RawBytes::from(b))
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
            StrValue::Emb(b) => Some(RawBytes::from(b.as_slice())),
            StrValue::Int(i) => Some(RawBytes::from(itoa::Buffer::new().format(*i).as_bytes())),
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
    #[test]
    fn value_stays_small() {
        assert!(
            std::mem::size_of::<super::Value>() <= 24,
            "{}",
            std::mem::size_of::<super::Value>()
        );
    }
}
