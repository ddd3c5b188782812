//! The keyspace's hash table: chained buckets in a power-of-two array.
//!
//! Why not `HashMap`/`hashbrown`: Redis's `SCAN` promises that a key present for the whole scan is
//! returned at least once even if the table grows or shrinks between calls. That promise comes from
//! walking buckets in reverse-binary order, which needs each key to live in the bucket its hash selects,
//! i.e. chaining, and a bucket index we control. The same bucket array also gives cheap random sampling
//! (eviction, RANDOMKEY) and an incremental cursor for the active expire cycle.
//!
//! Each database of each shard owns one `Dict`; shards keep tables small, so a resize rehashes a few
//! thousand entries at most and never becomes a latency spike.

use super::huge::HugeArray;
use super::value::Entry;

/// Keys live inline in the node when short (see [`crate::smallbytes`]).
pub type Key = crate::smallbytes::SmallBytes;

/// "No node": the end of a chain, an empty bucket.
const NIL: u32 = u32::MAX;

/// One key and its payload (`Entry` in the keyspace; a field's value in a hash; `()` in a set).
pub struct Node<V = Entry> {
    pub key: Key,
    pub entry: V,
    /// Slab index of the next node in this bucket's chain.
    next: u32,
    /// Four bytes the owner may use; the keyspace keeps the key's LRU/LFU stamp here. It lives in the
    /// node rather than in `Entry` so that a keyspace node is exactly 64 bytes: key 24, value 24,
    /// expiry 8, chain link 4, stamp 4.
    pub meta: u32,
}

/// A chained hash table from byte-string keys to `V`. The keyspace uses `Dict<Entry>`; collection
/// types reuse it (`Dict<SmallBytes>` for hash fields, `Dict<()>` for set members) so their SCAN
/// cursors have the same guarantee.
///
/// Nodes live in a slab of fixed-size chunks and chain through 32-bit indices rather than boxed
/// pointers: no allocation (and no allocator size-class rounding) per key, 4-byte bucket heads and
/// links, and nodes of one table close together in memory.
pub struct Dict<V = Entry> {
    buckets: HugeArray<u32>,
    slab: Slab<V>,
    len: usize,
    /// Keys that carry a TTL; maintained by `storage::db`, the only writer of expiry times.
    pub(crate) volatile: usize,
    /// Where the active expire cycle resumes in this table.
    pub(crate) expire_cursor: u64,
}

impl<V> Default for Dict<V> {
    fn default() -> Self {
        Dict {
            buckets: HugeArray::default(),
            slab: Slab::default(),
            len: 0,
            volatile: 0,
            expire_cursor: 0,
        }
    }
}

const MIN_BUCKETS: usize = 4;

/// Asks the CPU to start loading the cache line at `p` (no-op where there is no stable intrinsic).
#[inline(always)]
pub fn prefetch<T: ?Sized>(p: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is a hint: it never faults and has no effect on program state.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
            (p as *const T).cast::<i8>(),
        );
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// Node storage: chunks of 4, 4, 8, 16, 32, 64 slots, then 64 slots each up to [`BIG_FROM`] slots,
/// then [`BIG_CHUNK`] slots each. A small table wastes little and no table ever copies nodes to grow.
/// Freed slots are reused; when more than half the slots are free the table compacts itself (see
/// [`Dict::compact`]) so memory is given back.
///
/// Why the big chunks: every node lookup reads `chunks[c]` between the bucket and the node. With 64-slot
/// chunks a keyspace of 10M keys has a chunk table of 2.5 MB in all, past L2, and that read became a
/// third dependent cache miss per GET; 512-slot chunks make it 300 KB. A big table wastes at most one
/// partly filled 32 KB chunk.
struct Slab<V> {
    chunks: Vec<HugeArray<Option<Node<V>>>>,
    /// Free slot indices below `used`.
    free: Vec<u32>,
    /// Slots handed out so far (occupied or in `free`).
    used: u32,
}

impl<V> Default for Slab<V> {
    fn default() -> Self {
        Slab {
            chunks: Vec::new(),
            free: Vec::new(),
            used: 0,
        }
    }
}

/// Slots 0..128 are in chunks 0..=5; then come 64-slot chunks.
const SMALL_SLOTS: u32 = 128;
const SMALL_CHUNKS: usize = 6;
const MID_BITS: u32 = 6;
/// Where the big chunks start (a multiple of the 64-slot chunks' size).
const BIG_FROM: u32 = 8192;
const BIG_BITS: u32 = 9;
const BIG_CHUNK: usize = 1 << BIG_BITS;
/// The first big chunk's index.
const BIG_FIRST: usize = SMALL_CHUNKS + ((BIG_FROM - SMALL_SLOTS) >> MID_BITS) as usize;

/// `(chunk, offset)` of slot `i`.
#[inline]
fn locate(i: u32) -> (usize, usize) {
    if i >= BIG_FROM {
        let j = i - BIG_FROM;
        (
            (j >> BIG_BITS) as usize + BIG_FIRST,
            (j & ((1 << BIG_BITS) - 1)) as usize,
        )
    } else if i >= SMALL_SLOTS {
        let j = i - SMALL_SLOTS;
        (
            (j >> MID_BITS) as usize + SMALL_CHUNKS,
            (j & ((1 << MID_BITS) - 1)) as usize,
        )
    } else if i < 4 {
        (0, i as usize)
    } else {
        let log = 31 - i.leading_zeros();
        (log as usize - 1, (i - (1 << log)) as usize)
    }
}

fn chunk_len(c: usize) -> usize {
    match c {
        0 => 4,
        1..SMALL_CHUNKS => 1 << (c + 1),
        SMALL_CHUNKS..BIG_FIRST => 1 << MID_BITS,
        _ => BIG_CHUNK,
    }
}

impl<V> Slab<V> {
    #[inline]
    fn slot(&self, i: u32) -> &Option<Node<V>> {
        let (c, o) = locate(i);
        &self.chunks[c][o]
    }

    #[inline]
    fn slot_mut(&mut self, i: u32) -> &mut Option<Node<V>> {
        let (c, o) = locate(i);
        &mut self.chunks[c][o]
    }

    #[inline]
    fn get(&self, i: u32) -> &Node<V> {
        match self.slot(i) {
            Some(n) => n,
            None => unreachable!("dict chain points at a free slot"),
        }
    }

    #[inline]
    fn get_mut(&mut self, i: u32) -> &mut Node<V> {
        match self.slot_mut(i) {
            Some(n) => n,
            None => unreachable!("dict chain points at a free slot"),
        }
    }

    fn alloc(&mut self, node: Node<V>) -> u32 {
        let i = match self.free.pop() {
            Some(i) => i,
            None => {
                let i = self.used;
                let (c, _) = locate(i);
                if c == self.chunks.len() {
                    self.chunks.push(HugeArray::from_fn(chunk_len(c), |_| None));
                }
                self.used += 1;
                i
            }
        };
        *self.slot_mut(i) = Some(node);
        i
    }

    fn take(&mut self, i: u32) -> Node<V> {
        match self.slot_mut(i).take() {
            Some(n) => n,
            None => unreachable!("dict chain points at a free slot"),
        }
    }

    fn release(&mut self, i: u32) -> Node<V> {
        let n = self.take(i);
        self.free.push(i);
        n
    }

    fn iter(&self) -> impl Iterator<Item = &Node<V>> {
        self.chunks
            .iter()
            .flat_map(|c| c.iter().filter_map(Option::as_ref))
    }

    /// Bytes of node storage allocated (for MEMORY USAGE and the like).
    fn allocated(&self) -> usize {
        let slots: usize = (0..self.chunks.len()).map(chunk_len).sum();
        slots * std::mem::size_of::<Option<Node<V>>>()
            + self.free.capacity() * 4
            + self.chunks.capacity() * std::mem::size_of::<HugeArray<Option<Node<V>>>>()
    }
}

impl<V> Dict<V> {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn volatile(&self) -> usize {
        self.volatile
    }

    pub fn bucket_count(&self) -> usize {
        self.buckets.len()
    }

    /// Bytes this table's own structure takes (bucket array and node slots), not what the nodes
    /// point to.
    pub fn allocated(&self) -> usize {
        self.buckets.bytes() + self.slab.allocated()
    }

    #[inline]
    fn index(&self, hash: u64) -> usize {
        hash as usize & (self.buckets.len() - 1)
    }

    /// Starts loading the bucket slot a lookup of `hash` reads first (a hint; see
    /// [`crate::storage::Keyspace::prefetch`]).
    #[inline]
    pub fn prefetch_bucket(&self, hash: u64) {
        if !self.buckets.is_empty() {
            prefetch(&self.buckets[self.index(hash)]);
        }
    }

    /// [`Dict::prefetch_node`] if `node`, else [`Dict::prefetch_bucket`].
    #[inline]
    pub fn prefetch(&self, hash: u64, node: bool) {
        if node {
            self.prefetch_node(hash)
        } else {
            self.prefetch_bucket(hash)
        }
    }

    /// Starts loading the first node of `hash`'s chain (call once the bucket slot is in cache).
    #[inline]
    pub fn prefetch_node(&self, hash: u64) {
        if !self.buckets.is_empty() {
            let i = self.buckets[self.index(hash)];
            if i != NIL {
                prefetch(self.slab.slot(i));
            }
        }
    }

    /// Slab index of `key`'s node.
    #[inline]
    fn find(&self, hash: u64, key: &[u8]) -> Option<u32> {
        if self.buckets.is_empty() {
            return None;
        }
        let mut i = self.buckets[self.index(hash)];
        while i != NIL {
            let n = self.slab.get(i);
            if n.key.as_slice() == key {
                return Some(i);
            }
            i = n.next;
        }
        None
    }

    #[inline]
    pub fn get(&self, hash: u64, key: &[u8]) -> Option<&Node<V>> {
        self.find(hash, key).map(|i| self.slab.get(i))
    }

    #[inline]
    pub fn get_mut(&mut self, hash: u64, key: &[u8]) -> Option<&mut Node<V>> {
        self.find(hash, key).map(|i| self.slab.get_mut(i))
    }

    /// Inserts a key known to be absent (callers look it up first) and returns its node.
    pub fn insert_new(&mut self, hash: u64, key: Key, entry: V) -> &mut Node<V> {
        if self.len >= self.buckets.len() {
            self.resize((self.buckets.len() * 2).max(MIN_BUCKETS));
        }
        let b = self.index(hash);
        let next = self.buckets[b];
        let i = self.slab.alloc(Node {
            key,
            entry,
            next,
            meta: 0,
        });
        self.buckets[b] = i;
        self.len += 1;
        self.slab.get_mut(i)
    }

    pub fn remove(&mut self, hash: u64, key: &[u8]) -> Option<Node<V>> {
        if self.buckets.is_empty() {
            return None;
        }
        let b = self.index(hash);
        let mut prev = NIL;
        let mut i = self.buckets[b];
        while i != NIL {
            let n = self.slab.get(i);
            if n.key.as_slice() == key {
                let next = n.next;
                self.unlink(b, prev, next);
                let node = self.slab.release(i);
                self.len -= 1;
                self.maybe_shrink();
                return Some(node);
            }
            prev = i;
            i = n.next;
        }
        None
    }

    /// Points whatever pointed at a node (bucket head `b` or node `prev`) at `next`.
    #[inline]
    fn unlink(&mut self, b: usize, prev: u32, next: u32) {
        if prev == NIL {
            self.buckets[b] = next;
        } else {
            self.slab.get_mut(prev).next = next;
        }
    }

    /// Removes every node of bucket `idx` for which `expired` says so, returning them.
    pub fn remove_where(
        &mut self,
        idx: usize,
        mut expired: impl FnMut(&Node<V>) -> bool,
    ) -> Vec<Node<V>> {
        let mut out = Vec::new();
        if idx >= self.buckets.len() {
            return out;
        }
        let mut prev = NIL;
        let mut i = self.buckets[idx];
        while i != NIL {
            let n = self.slab.get(i);
            let next = n.next;
            if expired(n) {
                self.unlink(idx, prev, next);
                out.push(self.slab.release(i));
            } else {
                prev = i;
            }
            i = next;
        }
        self.len -= out.len();
        if !out.is_empty() {
            self.maybe_shrink();
        }
        out
    }

    /// Calls `f` on each node of bucket `idx`.
    pub fn for_bucket(&self, idx: usize, mut f: impl FnMut(&Node<V>)) {
        let mut i = self.buckets.get(idx).copied().unwrap_or(NIL);
        while i != NIL {
            let n = self.slab.get(i);
            f(n);
            i = n.next;
        }
    }

    /// One step of a reverse-binary scan: visits the bucket `cursor` selects and returns the next
    /// cursor, 0 when the scan is complete. Keys present for the whole scan are visited at least once,
    /// whatever resizing happens between steps.
    pub fn scan_step(&self, cursor: u64, mut f: impl FnMut(&Node<V>)) -> u64 {
        if self.buckets.is_empty() {
            return 0;
        }
        let mask = (self.buckets.len() - 1) as u64;
        self.for_bucket((cursor & mask) as usize, &mut f);
        let mut v = cursor | !mask;
        v = v.reverse_bits();
        v = v.wrapping_add(1);
        v.reverse_bits()
    }

    /// A node picked at random for which `accept` holds, or `None` if there is none. Samples a few random
    /// buckets first (O(1) on a healthy table) and falls back to a full walk, so a table whose keys are
    /// all rejected (e.g. all logically expired) answers `None` rather than looping.
    pub fn random_node(
        &self,
        rng: &mut impl rand::Rng,
        mut accept: impl FnMut(&Node<V>) -> bool,
    ) -> Option<&Node<V>> {
        if self.len == 0 {
            return None;
        }
        let mask = self.buckets.len() - 1;
        for _ in 0..16 {
            let mut idx = rng.gen::<usize>() & mask;
            // Walk to the next non-empty bucket; the table is not empty, so this ends.
            while self.buckets[idx] == NIL {
                idx = (idx + 1) & mask;
            }
            let mut chain = 0;
            self.for_bucket(idx, |_| chain += 1);
            let mut pick = rng.gen_range(0..chain);
            let mut i = self.buckets[idx];
            while i != NIL {
                let n = self.slab.get(i);
                if pick == 0 {
                    if accept(n) {
                        return Some(n);
                    }
                    break;
                }
                pick -= 1;
                i = n.next;
            }
        }
        self.iter().find(|n| accept(n))
    }

    /// Removes everything, returning the old table so the caller may drop it elsewhere.
    pub fn take_all(&mut self) -> Dict<V> {
        std::mem::take(self)
    }

    fn maybe_shrink(&mut self) {
        let n = self.buckets.len();
        if n > MIN_BUCKETS && self.len * 8 < n {
            self.resize(self.len.next_power_of_two().max(MIN_BUCKETS));
        }
        let free = self.slab.free.len();
        if free > 64 && free > self.len {
            self.compact();
        }
    }

    /// Moves every node into the lowest `len` slots and frees the chunks beyond them, so a table that
    /// shrank gives its memory back. Nodes stay in their buckets, so SCAN cursors are unaffected.
    fn compact(&mut self) {
        let len = self.len as u32;
        let mut holes: Vec<u32> = std::mem::take(&mut self.slab.free)
            .into_iter()
            .filter(|&f| f < len)
            .collect();
        holes.sort_unstable();
        let mask = self.buckets.len().wrapping_sub(1);
        let mut top = self.slab.used;
        for hole in holes {
            // The highest occupied slot; there is one at or above `len` for every hole below it.
            loop {
                top -= 1;
                if self.slab.slot(top).is_some() {
                    break;
                }
            }
            let node = self.slab.take(top);
            let b = super::hash_key(&node.key) as usize & mask;
            if self.buckets[b] == top {
                self.buckets[b] = hole;
            } else {
                let mut i = self.buckets[b];
                while self.slab.get(i).next != top {
                    i = self.slab.get(i).next;
                }
                self.slab.get_mut(i).next = hole;
            }
            *self.slab.slot_mut(hole) = Some(node);
        }
        self.slab.used = len;
        let keep = if len == 0 { 0 } else { locate(len - 1).0 + 1 };
        self.slab.chunks.truncate(keep);
        self.slab.chunks.shrink_to_fit();
        self.slab.free.shrink_to_fit();
    }

    fn resize(&mut self, new_size: usize) {
        let old = std::mem::replace(&mut self.buckets, HugeArray::filled(new_size, NIL));
        let mask = new_size - 1;
        for &head in old.iter() {
            let mut i = head;
            while i != NIL {
                let n = self.slab.get_mut(i);
                let next = n.next;
                let b = super::hash_key(&n.key) as usize & mask;
                n.next = self.buckets[b];
                self.buckets[b] = i;
                i = next;
            }
        }
    }

    /// Iterates over all nodes (no ordering guarantee).
    pub fn iter(&self) -> impl Iterator<Item = &Node<V>> {
        self.slab.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::{hash_key, value::Value};
    use std::collections::HashSet;

    fn entry() -> Entry {
        Entry::new(Value::from_bytes(b"v"))
    }

    #[test]
    fn insert_get_remove_against_model() {
        let mut d = Dict::new();
        let mut model = HashSet::new();
        for i in 0..5000u32 {
            let k = format!("key:{}", i % 1700).into_bytes();
            let h = hash_key(&k);
            if i % 3 == 0 {
                assert_eq!(d.remove(h, &k).is_some(), model.remove(&k));
            } else if d.get(h, &k).is_none() {
                d.insert_new(h, Key::new(&k), entry());
                assert!(model.insert(k));
            }
            assert_eq!(d.len(), model.len());
        }
        for k in &model {
            assert!(d.get(hash_key(k), k).is_some());
        }
    }

    #[test]
    fn slots_map_onto_chunks_without_gaps() {
        let mut expect = (0usize, 0usize);
        for i in 0..20_000u32 {
            assert_eq!(locate(i), expect, "slot {i}");
            expect.1 += 1;
            if expect.1 == chunk_len(expect.0) {
                expect = (expect.0 + 1, 0);
            }
        }
    }

    #[test]
    fn shrinking_compacts_and_keeps_every_key() {
        // 20,000 slots: across the 64-slot and the big chunks.
        let mut d = Dict::new();
        for i in 0..20_000 {
            let k = format!("k{i}").into_bytes();
            d.insert_new(hash_key(&k), Key::new(&k), entry()).meta = i;
        }
        let full = d.allocated();
        // Delete in an order that leaves holes everywhere.
        for i in (0..20_000).filter(|i| i % 10 != 3) {
            let k = format!("k{i}").into_bytes();
            assert!(d.remove(hash_key(&k), &k).is_some());
        }
        assert_eq!(d.len(), 2000);
        assert!(d.allocated() * 4 < full, "{} vs {full}", d.allocated());
        for i in (0..20_000).filter(|i| i % 10 == 3) {
            let k = format!("k{i}").into_bytes();
            let n = d.get(hash_key(&k), &k).expect("kept");
            assert_eq!(n.meta, i);
        }
        assert_eq!(d.iter().count(), 2000);
        // And it keeps working after compaction.
        for i in 0..100 {
            let k = format!("n{i}").into_bytes();
            d.insert_new(hash_key(&k), Key::new(&k), entry());
        }
        assert_eq!(d.iter().count(), 2100);
    }

    #[test]
    fn keyspace_node_is_one_cache_line() {
        assert_eq!(std::mem::size_of::<Option<Node<Entry>>>(), 64);
    }

    #[test]
    fn scan_survives_resizes() {
        let mut d = Dict::new();
        for i in 0..1000 {
            let k = format!("k{i}").into_bytes();
            d.insert_new(hash_key(&k), Key::new(&k), entry());
        }
        let mut seen = HashSet::new();
        let mut cursor = 0;
        let mut step = 0;
        loop {
            cursor = d.scan_step(cursor, |n| {
                seen.insert(n.key.to_vec());
            });
            step += 1;
            // Grow and shrink the table mid-scan with keys that are not part of the guarantee.
            if step == 50 {
                for i in 0..5000 {
                    let k = format!("extra{i}").into_bytes();
                    d.insert_new(hash_key(&k), Key::new(&k), entry());
                }
            }
            if step == 900 {
                for i in 0..5000 {
                    let k = format!("extra{i}").into_bytes();
                    d.remove(hash_key(&k), &k);
                }
            }
            if cursor == 0 {
                break;
            }
        }
        for i in 0..1000 {
            assert!(seen.contains(format!("k{i}").as_bytes()), "k{i} missed");
        }
    }
}

#[cfg(test)]
mod chain_stats {
    use super::*;
    use crate::storage::{hash_key, shard_of, value::Value};

    #[test]
    fn chains_are_short() {
        let mut dicts: Vec<Dict> = (0..crate::storage::SHARDS).map(|_| Dict::new()).collect();
        for i in 0..100_000 {
            let k = format!("key:{i:012}").into_bytes();
            let h = hash_key(&k);
            dicts[shard_of(h)].insert_new(h, Key::new(&k), Entry::new(Value::from_bytes(b"v")));
        }
        let mut max = 0;
        let mut total_sq = 0usize;
        let mut n = 0usize;
        for d in &dicts {
            for b in 0..d.bucket_count() {
                let mut c = 0;
                d.for_bucket(b, |_| c += 1);
                max = max.max(c);
                total_sq += c * c;
                n += c;
            }
        }
        let avg_probe = total_sq as f64 / n as f64;
        eprintln!("max chain {max}, mean chain length seen by a key {avg_probe:.2}");
        assert!(max < 16 && avg_probe < 3.0);
    }
}
