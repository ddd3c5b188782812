//! Per-key memory estimates: `MEMORY USAGE` and the bytes an eviction frees.
//!
//! Redis reports what its allocator would charge for the key's objects; Ferrite reports the same kind
//! of figure for its own layout: the table slot (node and bucket head), the key's bytes when too long
//! to sit inline, and the value's heap allocations, sampling `samples` elements of big collections
//! (0: all) and extrapolating, as Redis does.

use super::dict::{Key, Node};
use super::types::heap_len;
use super::value::{Entry, StrValue, Value};

/// Redis's default `SAMPLES` for MEMORY USAGE.
pub const DEFAULT_SAMPLES: usize = 5;

/// Bytes of one keyspace slot: the node plus its share of the bucket array.
const SLOT: usize = std::mem::size_of::<Option<Node<Entry>>>() + 8;

/// Heap bytes of a value, sampling big collections.
pub fn value_bytes(v: &Value, samples: usize) -> usize {
    match v {
        Value::Str(StrValue::Int(_)) => 0,
        Value::Str(StrValue::Emb(b)) => heap_len(b),
        Value::Str(StrValue::Raw(b)) => b.capacity(),
        Value::List(l) => l.heap_bytes(samples),
        Value::Hash(h) => h.heap_bytes(samples),
        Value::Set(s) => s.heap_bytes(samples),
        Value::ZSet(z) => z.heap_bytes(samples),
        Value::Stream(s) => std::mem::size_of_val(&**s) + s.heap_bytes(samples),
    }
}

/// Bytes a key takes in all (MEMORY USAGE).
pub fn key_bytes(key: &[u8], entry: &Entry, samples: usize) -> usize {
    let key_heap = if key.len() > crate::smallbytes::INLINE_CAP {
        key.len()
    } else {
        0
    };
    SLOT + key_heap + value_bytes(&entry.value, samples)
}

/// What evicting a key frees, estimated cheaply (default sampling).
pub fn entry_bytes(key: &Key, entry: &Entry) -> usize {
    key_bytes(key, entry, DEFAULT_SAMPLES)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_string_costs_one_slot() {
        let e = Entry::new(Value::from_bytes(b"hello"));
        assert_eq!(key_bytes(b"k", &e, 5), SLOT);
        let big = Entry::new(Value::from_bytes(&[b'x'; 1000]));
        assert!(key_bytes(b"k", &big, 5) >= SLOT + 1000);
    }
}
