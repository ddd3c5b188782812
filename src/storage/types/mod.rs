//! Pure data structures behind the typed values: plain Rust over bytes and collections, no RESP and no
//! keyspace, so each one is unit-tested on its own (and can be checked against a naive model).

pub mod bitmap;
pub mod blocks;
pub mod hash;
pub mod list;
pub mod packed;
pub mod set;
mod skiplist;
pub mod stream;
pub mod zset;

use crate::smallbytes::SmallBytes;

/// Heap bytes of a short string: nothing when it is stored inline.
pub(crate) fn heap_len(b: &SmallBytes) -> usize {
    match b {
        SmallBytes::Inline { .. } => 0,
        SmallBytes::Heap(h) => h.len(),
    }
}

/// `per(item)` summed over up to `samples` of `len` items (0: all), extrapolated to all of them, as
/// Redis's MEMORY USAGE samples big collections.
pub(crate) fn sampled<T>(
    items: impl Iterator<Item = T>,
    len: usize,
    samples: usize,
    per: impl Fn(T) -> usize,
) -> usize {
    if len == 0 {
        return 0;
    }
    let take = if samples == 0 { len } else { samples.min(len) };
    let sum: usize = items.take(take).map(per).sum();
    sum * len / take.max(1)
}
