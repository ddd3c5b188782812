//! The keyspace's hash table: chained buckets in a power-of-two array.
//!
//! Why not `HashMap`/`hashbrown`: Redis's `SCAN` promises that a key present for the whole scan is
//! returned at least once even if the table grows or shrinks between calls. That promise comes from
//! walking buckets in reverse-binary order, which needs each key to live in the bucket its hash selects,
//! i.e. chaining, and a bucket index we control. The same bucket array also gives cheap random sampling
//! (eviction, RANDOMKEY) and an incremental cursor for the active expire cycle.
//!
//! Resizes are incremental, as Redis's: a table that must grow or shrink gets its new bucket array at
//! once, keeps the old one beside it, and each later write moves a couple of the old buckets' chains
//! across (the keyspace's tables are also finished off in the background by the expire thread, as Redis
//! does in its cron with `activerehashing`). Lookups check the old bucket first while it has not been
//! moved. Rehashing a big table in one go stalled the server: 4 ms per SET at 4M keys (one 16k-key
//! shard table at a time) and 200 ms for one HSET into a hash of 4M fields. Nodes stay where they are in
//! the slab; moving a chain only relinks it.
//!
//! A new bucket array big enough to be a mapping of its own is prepared on the background thread
//! (allocated and faulted in) before the resize starts: the resize writes all over it from its first
//! step, and each first write to a 2 MiB huge page cost a 4.5 ms page fault inside the command.

use std::sync::Arc;

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
    /// The bucket array inserts go to: during a resize, the new one.
    buckets: Buckets,
    /// During a resize, the previous bucket array; its buckets below `rehash_idx` have been moved into
    /// `buckets` (and are empty). Empty when no resize is under way.
    old: Buckets,
    rehash_idx: usize,
    slab: Slab<V>,
    len: usize,
    /// Keys that carry a TTL; maintained by `storage::db`, the only writer of expiry times.
    pub(crate) volatile: usize,
    /// Where the active expire cycle resumes in this table.
    pub(crate) expire_cursor: u64,
    /// The big bucket array the resize that is due waits for (see [`Dict::prepared`]).
    prepared: Option<Arc<Prepared>>,
}

/// A bucket array being allocated and faulted in on the background thread.
struct Prepared {
    len: usize,
    ready: parking_lot::Mutex<Option<Buckets>>,
}

impl Prepared {
    fn start(len: usize) -> Arc<Prepared> {
        let p = Arc::new(Prepared {
            len,
            ready: parking_lot::Mutex::new(None),
        });
        let job = p.clone();
        super::lazyfree::run_in_background(move || {
            // A table that no longer waits for it (dropped, or resized another way) has let go.
            if Arc::strong_count(&job) > 1 {
                let b = Buckets(HugeArray::zeroed_prefaulted(job.len));
                *job.ready.lock() = Some(b);
            }
        });
        p
    }

    /// The array, once it is ready.
    fn take(&self) -> Option<Buckets> {
        self.ready.try_lock()?.take()
    }
}

impl<V> Default for Dict<V> {
    fn default() -> Self {
        Dict {
            buckets: Buckets::default(),
            old: Buckets::default(),
            rehash_idx: 0,
            slab: Slab::default(),
            len: 0,
            volatile: 0,
            expire_cursor: 0,
            prepared: None,
        }
    }
}

const MIN_BUCKETS: usize = 4;
/// A resize whose old table has at most this many buckets is done at once (microseconds).
const REHASH_AT_ONCE: usize = 1024;
/// A slab of at most this many slots is compacted at once.
const COMPACT_AT_ONCE: u32 = 1024;
/// Nodes a write moves while a compaction is under way.
const STEP_MOVES: usize = 2;
/// Free-list entries a compaction step sorts (see `Slab::unfiltered`).
const FILTER_PER_STEP: usize = 64;
/// Non-empty old buckets a write moves while a resize is under way. Each step covers at least two
/// buckets; a grow starts at the latest when the table holds 1.5 keys per bucket (see
/// [`Dict::grow`]), and it is not due to grow again until it holds twice as many keys as the old
/// array had buckets: a resize always ends before the next is due.
const STEP_BUCKETS: usize = 2;
/// Empty old buckets a step may pass over per bucket it is asked to move (as Redis's `empty_visits`).
const EMPTY_VISITS: usize = 10;

/// A bucket array: each bucket holds the slab index of its chain's first node, stored inverted
/// (`!index`) so that an array of zero bytes is all empty buckets ([`NIL`] is `u32::MAX`). A new
/// array then costs no writes: a big one is fresh zero pages from the kernel, touched only as keys
/// land in it. Filling 16 MB of buckets with `NIL` took 20 ms in one HSET into a hash of 4M fields.
#[derive(Default)]
struct Buckets(HugeArray<u32>);

impl Buckets {
    fn new(len: usize) -> Self {
        Buckets(HugeArray::zeroed(len))
    }

    #[inline]
    fn len(&self) -> usize {
        self.0.len()
    }

    #[inline]
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The first node of bucket `b`'s chain, or `NIL`.
    #[inline]
    fn head(&self, b: usize) -> u32 {
        !self.0[b]
    }

    #[inline]
    fn set(&mut self, b: usize, i: u32) {
        self.0[b] = !i;
    }

    /// Empties bucket `b`, returning its chain.
    #[inline]
    fn take(&mut self, b: usize) -> u32 {
        let i = self.head(b);
        self.set(b, NIL);
        i
    }

    /// Where bucket `b` lives (for prefetching).
    #[inline]
    fn slot(&self, b: usize) -> &u32 {
        &self.0[b]
    }

    fn bytes(&self) -> usize {
        self.0.bytes()
    }
}

/// Which bucket array: the current one or, during a resize, the old one.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Table {
    New,
    Old,
}

/// The bucket arrays a scan step walks and their masks (see [`scan_walk`]).
#[derive(Clone, Copy)]
struct ScanTables {
    small: (Table, u64),
    /// During a resize, the larger array.
    big: Option<(Table, u64)>,
}

impl ScanTables {
    fn big_mask(&self) -> Option<u64> {
        self.big.map(|b| b.1)
    }

    /// The array `scan_walk` means by its `in_big` flag.
    fn pick(&self, in_big: bool) -> Table {
        match self.big {
            Some((t, _)) if in_big => t,
            _ => self.small.0,
        }
    }
}

/// One step of a reverse-binary scan over the bucket array of mask `small` and, during a resize, the
/// larger one of mask `big` (a superset of `small`'s bits). Calls `visit` with the bucket the cursor
/// selects in the smaller array (`false`), then every bucket of the larger array whose keys would hash
/// to it in the smaller (`true`), and returns the next cursor, 0 when the scan is complete. This is
/// Redis's `dictScan`: because the cursor's low bits select the smaller array's bucket and its
/// higher bits are incremented first, a key present for the whole scan is visited at least once
/// whatever resizes happen between steps.
fn scan_walk(cursor: u64, small: u64, big: Option<u64>, mut visit: impl FnMut(bool, usize)) -> u64 {
    let mut v = cursor;
    visit(false, (v & small) as usize);
    let Some(big) = big else {
        v |= !small;
        return v.reverse_bits().wrapping_add(1).reverse_bits();
    };
    loop {
        visit(true, (v & big) as usize);
        v |= !big;
        v = v.reverse_bits().wrapping_add(1).reverse_bits();
        if v & (small ^ big) == 0 {
            return v;
        }
    }
}

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
/// [`Dict::compact_step`]) so memory is given back.
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
    /// While a compaction is under way ([`Dict::compact_step`]), the slot count it shrinks the slab
    /// to: `free` then holds only slots below it, and slots at or above it are not reused.
    compact_to: Option<u32>,
    /// During a compaction, the free list as it was when it started, not yet sorted into `free`
    /// (slots below `compact_to`) or dropped (the others): a few entries per step, so the start
    /// makes no pass over a free list of millions of entries.
    unfiltered: Vec<u32>,
}

impl<V> Default for Slab<V> {
    fn default() -> Self {
        Slab {
            chunks: Vec::new(),
            free: Vec::new(),
            used: 0,
            compact_to: None,
            unfiltered: Vec::new(),
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

    /// A free slot to reuse: from `free`, else (during a compaction) from `unfiltered`, skipping
    /// the slots at or above the compaction's target.
    #[inline]
    fn pop_hole(&mut self) -> Option<u32> {
        if let Some(i) = self.free.pop() {
            return Some(i);
        }
        while let Some(i) = self.unfiltered.pop() {
            if self.compact_to.is_none_or(|to| i < to) {
                return Some(i);
            }
        }
        None
    }

    /// Sorts up to `n` entries of `unfiltered` into `free` or drops them.
    fn filter_some(&mut self, n: usize) {
        let Some(to) = self.compact_to else {
            return;
        };
        for _ in 0..n {
            match self.unfiltered.pop() {
                Some(i) if i < to => self.free.push(i),
                Some(_) => {}
                None => return,
            }
        }
    }

    fn alloc(&mut self, node: Node<V>) -> u32 {
        let i = match self.pop_hole() {
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
        if self.compact_to.is_none_or(|to| i < to) {
            self.free.push(i);
        }
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
            + (self.free.capacity() + self.unfiltered.capacity()) * 4
            + self.chunks.capacity() * std::mem::size_of::<HugeArray<Option<Node<V>>>>()
    }
}

impl<V: Send + 'static> Dict<V> {
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

    /// Buckets of the current array (the new one during a resize).
    pub fn bucket_count(&self) -> usize {
        self.buckets.len()
    }

    /// Whether a resize is under way (two bucket arrays).
    #[inline]
    pub fn is_rehashing(&self) -> bool {
        !self.old.is_empty()
    }

    /// Bytes this table's own structure takes (bucket arrays and node slots), not what the nodes
    /// point to.
    pub fn allocated(&self) -> usize {
        self.buckets.bytes() + self.old.bytes() + self.slab.allocated()
    }

    #[inline]
    fn index(&self, hash: u64) -> usize {
        hash as usize & (self.buckets.len() - 1)
    }

    /// During a resize, `hash`'s bucket in the old array if it has not been moved yet: a key may
    /// then be there or (inserted since) in the new array. `None` otherwise.
    #[inline]
    fn unmoved_old(&self, hash: u64) -> Option<usize> {
        if !self.is_rehashing() {
            return None;
        }
        let b = hash as usize & (self.old.len() - 1);
        (b >= self.rehash_idx).then_some(b)
    }

    /// The bucket array and bucket where `hash`'s existing key most likely is: during a resize, the
    /// old array's bucket unless it has been moved. `None` for a table with no buckets.
    #[inline]
    fn home(&self, hash: u64) -> Option<(&Buckets, usize)> {
        if let Some(b) = self.unmoved_old(hash) {
            return Some((&self.old, b));
        }
        if self.buckets.is_empty() {
            return None;
        }
        Some((&self.buckets, self.index(hash)))
    }

    /// Starts loading the bucket slot a lookup of `hash` reads first (a hint; see
    /// [`crate::storage::Keyspace::prefetch`]).
    #[inline]
    pub fn prefetch_bucket(&self, hash: u64) {
        if let Some((table, b)) = self.home(hash) {
            prefetch(table.slot(b));
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
        if let Some((table, b)) = self.home(hash) {
            let i = table.head(b);
            if i != NIL {
                prefetch(self.slab.slot(i));
            }
        }
    }

    /// Slab index of `key`'s node.
    #[inline]
    fn find(&self, hash: u64, key: &[u8]) -> Option<u32> {
        if let Some(b) = self.unmoved_old(hash) {
            if let Some(i) = self.find_in(self.old.head(b), key) {
                return Some(i);
            }
        }
        if self.buckets.is_empty() {
            return None;
        }
        self.find_in(self.buckets.head(self.index(hash)), key)
    }

    /// Slab index of `key`'s node in the chain starting at `i`.
    #[inline]
    fn find_in(&self, mut i: u32, key: &[u8]) -> Option<u32> {
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

    /// `key`'s node, for changing it. During a resize this also moves one old bucket, as every
    /// lookup does in Redis, so a table that is written to (the keyspace is looked up this way for
    /// reads too) finishes its resize soon.
    #[inline]
    pub fn get_mut(&mut self, hash: u64, key: &[u8]) -> Option<&mut Node<V>> {
        if self.is_rehashing() {
            self.rehash_step(1);
        }
        self.find(hash, key).map(|i| self.slab.get_mut(i))
    }

    /// The share of a resize or a compaction under way that each insert and removal does.
    #[inline]
    fn write_step(&mut self) {
        if self.is_rehashing() {
            self.rehash_step(STEP_BUCKETS);
        }
        if self.is_compacting() {
            self.compact_step(STEP_MOVES);
        }
    }

    /// Whether a resize or a compaction is under way (work [`Dict::background_step`] can do).
    pub fn has_pending_work(&self) -> bool {
        self.is_rehashing() || self.is_compacting()
    }

    /// Does `n` units of the resize or compaction under way, for a background thread.
    pub fn background_step(&mut self, n: usize) {
        if self.is_rehashing() {
            self.rehash_step(n);
        } else {
            self.compact_step(n);
        }
    }

    /// Inserts a key known to be absent (callers look it up first) and returns its node.
    pub fn insert_new(&mut self, hash: u64, key: Key, entry: V) -> &mut Node<V> {
        self.write_step();
        if self.len >= self.buckets.len() {
            self.grow();
        }
        let b = self.index(hash);
        let next = self.buckets.head(b);
        let i = self.slab.alloc(Node {
            key,
            entry,
            next,
            meta: 0,
        });
        self.buckets.set(b, i);
        self.len += 1;
        self.slab.get_mut(i)
    }

    pub fn remove(&mut self, hash: u64, key: &[u8]) -> Option<Node<V>> {
        self.write_step();
        let mut found = None;
        if let Some(b) = self.unmoved_old(hash) {
            found = unlink_key(&mut self.old, &mut self.slab, b, key);
        }
        if found.is_none() && !self.buckets.is_empty() {
            let b = self.index(hash);
            found = unlink_key(&mut self.buckets, &mut self.slab, b, key);
        }
        let node = found?;
        self.len -= 1;
        self.maybe_shrink();
        Some(node)
    }

    /// The bucket arrays a scan walks, with their masks: the smaller one, and the larger one during
    /// a resize.
    fn scan_masks(&self) -> Option<ScanTables> {
        let mask = |t: &Buckets| t.len() as u64 - 1;
        if self.is_rehashing() {
            let (small, big) = if self.old.len() < self.buckets.len() {
                (Table::Old, Table::New)
            } else {
                (Table::New, Table::Old)
            };
            Some(ScanTables {
                small: (small, mask(self.table(small))),
                big: Some((big, mask(self.table(big)))),
            })
        } else if self.buckets.is_empty() {
            None
        } else {
            Some(ScanTables {
                small: (Table::New, mask(&self.buckets)),
                big: None,
            })
        }
    }

    fn table(&self, t: Table) -> &Buckets {
        match t {
            Table::New => &self.buckets,
            Table::Old => &self.old,
        }
    }

    /// Calls `f` on each node of the chain starting at `i`.
    fn each_in(&self, mut i: u32, f: &mut impl FnMut(&Node<V>)) {
        while i != NIL {
            let n = self.slab.get(i);
            f(n);
            i = n.next;
        }
    }

    /// One step of a reverse-binary scan: visits the buckets `cursor` selects and returns the next
    /// cursor, 0 when the scan is complete. Keys present for the whole scan are visited at least once,
    /// whatever resizing happens between steps (see [`scan_walk`]).
    pub fn scan_step(&self, cursor: u64, mut f: impl FnMut(&Node<V>)) -> u64 {
        let Some(tables) = self.scan_masks() else {
            return 0;
        };
        scan_walk(cursor, tables.small.1, tables.big_mask(), |in_big, b| {
            self.each_in(self.table(tables.pick(in_big)).head(b), &mut f);
        })
    }

    /// One step of the active expire cycle, over the buckets [`Dict::scan_step`] would visit at
    /// `cursor`: calls `look` on each of their nodes, moves those `expired` selects into `out`, and
    /// returns the next cursor (0 when a pass is complete).
    pub fn sweep_step(
        &mut self,
        cursor: u64,
        mut look: impl FnMut(&Node<V>),
        mut expired: impl FnMut(&Node<V>) -> bool,
        out: &mut Vec<Node<V>>,
    ) -> u64 {
        let Some(tables) = self.scan_masks() else {
            return 0;
        };
        let before = out.len();
        let next = scan_walk(cursor, tables.small.1, tables.big_mask(), |in_big, b| {
            let table = match tables.pick(in_big) {
                Table::New => &mut self.buckets,
                Table::Old => &mut self.old,
            };
            let slab = &mut self.slab;
            let mut prev = NIL;
            let mut i = table.head(b);
            while i != NIL {
                let n = slab.get(i);
                let next = n.next;
                look(n);
                if expired(n) {
                    unlink(table, slab, b, prev, next);
                    out.push(slab.release(i));
                } else {
                    prev = i;
                }
                i = next;
            }
        });
        let removed = out.len() - before;
        if removed > 0 {
            self.len -= removed;
            self.maybe_shrink();
        }
        next
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
        // Buckets are numbered across both arrays during a resize: the old one's first, skipping
        // those already moved (as Redis's `dictGetRandomKey`).
        let old = self.old.len();
        let total = old + self.buckets.len();
        let head = |b: usize| {
            if b < old {
                self.old.head(b)
            } else {
                self.buckets.head(b - old)
            }
        };
        for _ in 0..16 {
            let mut b = rng.gen_range(self.rehash_idx..total);
            // Walk to the next non-empty bucket; the table is not empty, so this ends.
            while head(b) == NIL {
                b += 1;
                if b == total {
                    b = self.rehash_idx;
                }
            }
            let mut chain = 0;
            self.each_in(head(b), &mut |_| chain += 1);
            let mut pick = rng.gen_range(0..chain);
            let mut i = head(b);
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
        if self.is_rehashing() || self.is_compacting() {
            // Shrinking and compacting wait until the work under way is done.
            return;
        }
        let n = self.buckets.len();
        if n > MIN_BUCKETS && self.len * 8 < n {
            if let Some(b) = self.prepared(self.len.next_power_of_two().max(MIN_BUCKETS)) {
                self.resize_with(b);
            }
        }
        let free = self.slab.free.len();
        if !self.is_rehashing() && free > 64 && free > self.len {
            self.start_compaction();
        }
    }

    /// Whether a compaction of the node slab is under way.
    #[inline]
    pub fn is_compacting(&self) -> bool {
        self.slab.compact_to.is_some()
    }

    /// Starts moving every node into the lowest `len` slots, so that the chunks beyond them can be
    /// freed and a table that shrank gives its memory back. Like a resize, the moves are spread over
    /// later writes ([`Dict::compact_step`]); a small slab is compacted at once. Nodes stay in their
    /// buckets, so SCAN cursors are unaffected.
    fn start_compaction(&mut self) {
        let to = self.len as u32;
        // From now on `free` holds only the holes below `to` that nodes above it move into; the
        // entries it had are sorted a few per step (a pass over all of them at once took 3 ms at
        // 750k free slots).
        self.slab.unfiltered = std::mem::take(&mut self.slab.free);
        self.slab.compact_to = Some(to);
        if self.slab.used <= COMPACT_AT_ONCE {
            self.compact_step(usize::MAX);
        }
    }

    /// Moves up to `moves` nodes from the top of the slab into holes below the compaction's target,
    /// and ends the compaction once no node is left above it (freeing the chunks there) or no hole
    /// is left below it (inserts took them).
    pub fn compact_step(&mut self, moves: usize) {
        let Some(to) = self.slab.compact_to else {
            return;
        };
        self.slab.filter_some(FILTER_PER_STEP);
        for _ in 0..moves.max(1) {
            // Free slots at the top are not in the free list; step past them.
            while self.slab.used > to && self.slab.slot(self.slab.used - 1).is_none() {
                self.slab.used -= 1;
            }
            if self.slab.used <= to {
                return self.end_compaction();
            }
            let Some(hole) = self.slab.pop_hole() else {
                return self.end_compaction();
            };
            let top = self.slab.used - 1;
            self.relink(top, hole);
            let node = self.slab.take(top);
            *self.slab.slot_mut(hole) = Some(node);
            self.slab.used = top;
        }
    }

    /// Points whatever points at slot `from` (a bucket head or a node, in whichever bucket array
    /// holds its chain) at slot `to`.
    fn relink(&mut self, from: u32, to: u32) {
        let hash = super::hash_key(&self.slab.get(from).key);
        if let Some(b) = self.unmoved_old(hash) {
            if relink_in(&mut self.old, &mut self.slab, b, from, to) {
                return;
            }
        }
        let b = self.index(hash);
        if !relink_in(&mut self.buckets, &mut self.slab, b, from, to) {
            unreachable!("a live node is in its bucket's chain");
        }
    }

    /// Ends a compaction: frees the chunks above the last slot in use, or, if nodes are left above
    /// the target (inserts took the holes), puts the free slots up there back in the free list.
    fn end_compaction(&mut self) {
        let Some(to) = self.slab.compact_to.take() else {
            return;
        };
        // What is left unsorted (rare: the sorting runs 32 times as fast as the moves).
        for i in std::mem::take(&mut self.slab.unfiltered) {
            if i < to {
                self.slab.free.push(i);
            }
        }
        let used = self.slab.used;
        if used > to {
            // Rare: inserts outran the moves. The free slots between `to` and `used` were kept out of
            // the free list; give them back.
            for i in to..used {
                if self.slab.slot(i).is_none() {
                    self.slab.free.push(i);
                }
            }
        }
        let keep = if used == 0 { 0 } else { locate(used - 1).0 + 1 };
        let gone = self.slab.chunks.split_off(keep.min(self.slab.chunks.len()));
        if gone.len() > 64 {
            // Megabytes of chunks: giving their pages back took milliseconds in the command.
            super::lazyfree::drop_in_background(gone);
        }
        self.slab.chunks.shrink_to_fit();
        self.slab.free.shrink_to_fit();
    }

    /// Starts the grow that is due, to twice the buckets: at once if the new array is small, else
    /// once the background thread has it ready. Chains run longer meanwhile; at 1.5 keys per bucket
    /// the table stops waiting and allocates the array itself.
    fn grow(&mut self) {
        let new_size = (self.buckets.len() * 2).max(MIN_BUCKETS);
        if let Some(b) = self.prepared(new_size) {
            self.resize_with(b);
        } else if self.len >= self.buckets.len() + self.buckets.len() / 2 {
            self.prepared = None;
            self.resize_with(Buckets::new(new_size));
        }
    }

    /// A new array of `len` buckets if one can be had without page faults in a command: a small one
    /// now; one that gets a mapping of its own once the background thread has allocated it and
    /// faulted it in (asked for on the first call; `None` until it is ready).
    fn prepared(&mut self, len: usize) -> Option<Buckets> {
        if !super::huge::own_mapping(len * std::mem::size_of::<u32>()) {
            return Some(Buckets::new(len));
        }
        match &self.prepared {
            Some(p) if p.len == len => {
                let b = p.take();
                if b.is_some() {
                    self.prepared = None;
                }
                b
            }
            _ => {
                self.prepared = Some(Prepared::start(len));
                None
            }
        }
    }

    /// Whether a resize waits for its bucket array from the background thread.
    #[cfg(test)]
    fn is_preparing(&self) -> bool {
        self.prepared.is_some()
    }

    /// Starts a resize to `new_size` buckets at once (tests).
    #[cfg(test)]
    fn resize(&mut self, new_size: usize) {
        self.resize_with(Buckets::new(new_size));
    }

    /// Starts a resize to the array `new` (finishing one under way first). A small table is
    /// rehashed at once; a big one a few buckets per write (see [`Dict::rehash_step`]).
    fn resize_with(&mut self, new: Buckets) {
        if self.is_rehashing() {
            // Only a shrink can still be under way when the next resize is due (a grow always ends
            // first: see STEP_BUCKETS); its old array is mostly empty buckets.
            self.rehash_step(usize::MAX);
        }
        self.old = std::mem::replace(&mut self.buckets, new);
        self.rehash_idx = 0;
        if self.old.len() <= REHASH_AT_ONCE {
            self.rehash_step(usize::MAX);
        }
    }

    /// Moves up to `buckets` non-empty buckets of the old array (passing over at most `EMPTY_VISITS`
    /// empty ones for each) into the new one; drops the old array when it is all moved.
    pub fn rehash_step(&mut self, buckets: usize) {
        let mut left = buckets;
        let mut empty = buckets.saturating_mul(EMPTY_VISITS);
        let mask = self.buckets.len().wrapping_sub(1);
        while left > 0 && self.rehash_idx < self.old.len() {
            let mut i = self.old.take(self.rehash_idx);
            self.rehash_idx += 1;
            if i == NIL {
                empty -= 1;
                if empty == 0 {
                    break;
                }
                continue;
            }
            while i != NIL {
                let n = self.slab.get_mut(i);
                let next = n.next;
                let b = super::hash_key(&n.key) as usize & mask;
                n.next = self.buckets.head(b);
                self.buckets.set(b, i);
                i = next;
            }
            left -= 1;
        }
        if self.rehash_idx >= self.old.len() {
            let old = std::mem::take(&mut self.old);
            if old.bytes() >= super::lazyfree::BACKGROUND_BYTES {
                super::lazyfree::drop_in_background(old);
            }
            self.rehash_idx = 0;
        }
    }

    /// Checks the structure: every node is in exactly one chain, in the bucket its hash selects
    /// (in the old array only if that bucket is not moved yet), and every free-listed slot is free,
    /// listed once, and below `used`.
    #[cfg(test)]
    fn check(&self) {
        let mut seen = std::collections::HashSet::new();
        for (t, table) in [(Table::New, &self.buckets), (Table::Old, &self.old)] {
            for b in 0..table.len() {
                if t == Table::Old && b < self.rehash_idx {
                    assert_eq!(table.head(b), NIL, "moved bucket {b} not empty");
                }
                let mut i = table.head(b);
                while i != NIL {
                    assert!(i < self.slab.used, "node {i} above used {}", self.slab.used);
                    assert!(seen.insert(i), "node {i} in two chains");
                    let n = self.slab.get(i);
                    assert_eq!(super::hash_key(&n.key) as usize & (table.len() - 1), b);
                    i = n.next;
                }
            }
        }
        assert_eq!(seen.len(), self.len);
        assert_eq!(self.slab.iter().count(), self.len);
        let mut free = std::collections::HashSet::new();
        for &f in &self.slab.unfiltered {
            let to = self
                .slab
                .compact_to
                .expect("unsorted entries only during a compaction");
            if f < to {
                assert!(self.slab.slot(f).is_none() && free.insert(f));
            }
        }
        for &f in &self.slab.free {
            assert!(f < self.slab.used && self.slab.slot(f).is_none() && free.insert(f));
            if let Some(to) = self.slab.compact_to {
                assert!(f < to);
            }
        }
        if self.slab.compact_to.is_none() {
            // Outside a compaction every slot below `used` is a node or free-listed.
            assert_eq!(free.len() + self.len, self.slab.used as usize);
        }
    }

    /// Number of nodes in bucket `b` of the current array (for tests of the hash's quality).
    #[cfg(test)]
    fn chain_len(&self, b: usize) -> usize {
        let mut c = 0;
        self.each_in(self.buckets.head(b), &mut |_| c += 1);
        c
    }

    /// Iterates over all nodes (no ordering guarantee).
    pub fn iter(&self) -> impl Iterator<Item = &Node<V>> {
        self.slab.iter()
    }
}

/// Points whatever pointed at a node (bucket head `b` of `table`, or node `prev`) at `next`.
#[inline]
fn unlink<V>(table: &mut Buckets, slab: &mut Slab<V>, b: usize, prev: u32, next: u32) {
    if prev == NIL {
        table.set(b, next);
    } else {
        slab.get_mut(prev).next = next;
    }
}

/// Points whatever points at slot `from` in the chain of bucket `b` of `table` at slot `to`; false
/// if `from` is not in that chain.
fn relink_in<V>(table: &mut Buckets, slab: &mut Slab<V>, b: usize, from: u32, to: u32) -> bool {
    if table.head(b) == from {
        table.set(b, to);
        return true;
    }
    let mut i = table.head(b);
    while i != NIL {
        let n = slab.get_mut(i);
        if n.next == from {
            n.next = to;
            return true;
        }
        i = n.next;
    }
    false
}

/// Takes `key`'s node out of the chain of bucket `b` of `table` and out of the slab.
fn unlink_key<V>(table: &mut Buckets, slab: &mut Slab<V>, b: usize, key: &[u8]) -> Option<Node<V>> {
    let mut prev = NIL;
    let mut i = table.head(b);
    while i != NIL {
        let n = slab.get(i);
        let next = n.next;
        if n.key.as_slice() == key {
            unlink(table, slab, b, prev, next);
            return Some(slab.release(i));
        }
        prev = i;
        i = next;
    }
    None
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
        let mut compacting = 0;
        for i in (0..20_000).filter(|i| i % 10 != 3) {
            let k = format!("k{i}").into_bytes();
            assert!(d.remove(hash_key(&k), &k).is_some());
            compacting += d.is_compacting() as usize;
            if i % 1000 == 0 {
                // Every kept key is found while nodes are being moved.
                for j in (0..20_000).filter(|j| j % 10 == 3) {
                    let k = format!("k{j}").into_bytes();
                    assert_eq!(d.get(hash_key(&k), &k).map(|n| n.meta), Some(j));
                }
            }
        }
        // The moves were spread over the removals, not done in one.
        assert!(compacting > 1000, "{compacting}");
        assert_eq!(d.len(), 2000);
        while d.has_pending_work() {
            d.background_step(1);
        }
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

    fn key(s: &str, i: usize) -> Vec<u8> {
        format!("{s}{i}").into_bytes()
    }

    fn insert(d: &mut Dict, k: &[u8]) {
        d.insert_new(hash_key(k), Key::new(k), entry());
    }

    /// A grow whose new array is a mapping of its own (2 MiB: 512k buckets) waits for the
    /// background thread to prepare it, keeps every key reachable meanwhile, and starts with the
    /// prepared array well before the table would stop waiting.
    #[test]
    fn a_big_new_bucket_array_is_prepared_in_the_background() {
        let n = 1 << 18;
        assert!(!crate::storage::huge::own_mapping(n * 4));
        assert!(crate::storage::huge::own_mapping(n * 8));
        let mut d: Dict<()> = Dict::new();
        for i in 0..n {
            let k = key("k", i);
            d.insert_new(hash_key(&k), Key::new(&k), ());
            assert!(!d.is_preparing(), "small arrays are allocated at once");
        }
        assert_eq!(d.bucket_count(), n);
        let started = std::time::Instant::now();
        let mut i = n;
        while d.bucket_count() == n {
            let k = key("k", i);
            d.insert_new(hash_key(&k), Key::new(&k), ());
            i += 1;
            if d.bucket_count() == n {
                assert!(d.is_preparing(), "waits for the array at {i}");
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
        }
        assert!(!d.is_preparing());
        assert_eq!(d.bucket_count(), 2 * n);
        assert!(
            i < n + n / 2,
            "grew only when forced, after {:?}",
            started.elapsed()
        );
        assert!(d.is_rehashing());
        for j in (0..i).step_by(7) {
            let k = key("k", j);
            assert!(d.get(hash_key(&k), &k).is_some(), "k{j}");
        }
        // A table whose array does not come stops waiting at 1.5 keys per bucket and allocates it.
        let mut e: Dict<()> = Dict::new();
        for i in 0..n {
            let k = key("k", i);
            e.insert_new(hash_key(&k), Key::new(&k), ());
        }
        e.prepared = Some(Arc::new(Prepared {
            len: 2 * n,
            ready: parking_lot::Mutex::new(None),
        }));
        for i in n..n + n / 2 + 1 {
            assert_eq!(e.bucket_count(), n, "grew before it had to, at {i}");
            let k = key("k", i);
            e.insert_new(hash_key(&k), Key::new(&k), ());
        }
        assert_eq!(e.bucket_count(), 2 * n);
        assert!(!e.is_preparing());
    }

    #[test]
    fn a_big_table_resizes_a_little_per_write() {
        let mut d = Dict::new();
        let mut grew = 0;
        let mut checked = 0;
        for i in 0..100_000 {
            let before = d.bucket_count();
            insert(&mut d, &key("k", i));
            if before > REHASH_AT_ONCE && d.bucket_count() != before {
                // The insert that grew a big table left the old buckets to move later...
                assert!(d.is_rehashing(), "grew to {} at once", d.bucket_count());
                grew += 1;
            }
            // Halfway through a resize, every key is found, wherever its bucket is.
            if d.is_rehashing() && d.rehash_idx * 2 >= d.old.len() && checked != d.old.len() {
                checked = d.old.len();
                for j in 0..=i {
                    assert!(
                        d.get(hash_key(&key("k", j)), &key("k", j)).is_some(),
                        "k{j}"
                    );
                }
            }
            // ...and each resize is over before the next one is due.
            if d.len() == d.bucket_count() {
                assert!(!d.is_rehashing(), "still rehashing at {i}");
            }
        }
        assert!(grew >= 5);
        // Shrinking works the same way; every key stays reachable throughout.
        let mut shrank = false;
        for i in 0..99_000 {
            assert!(d.remove(hash_key(&key("k", i)), &key("k", i)).is_some());
            shrank |= d.is_rehashing() && d.bucket_count() < d.old.len();
            if i % 997 == 0 {
                for j in (i + 1..100_000).step_by(101) {
                    assert!(
                        d.get(hash_key(&key("k", j)), &key("k", j)).is_some(),
                        "k{j}"
                    );
                }
            }
        }
        assert!(shrank);
        assert_eq!(d.iter().count(), 1000);
        while d.is_rehashing() {
            d.rehash_step(1);
        }
        assert!(d.bucket_count() <= 2048);
        for j in 99_000..100_000 {
            assert!(d.get(hash_key(&key("k", j)), &key("k", j)).is_some());
        }
    }

    #[test]
    fn lookups_and_removals_during_a_resize_against_model() {
        let mut d = Dict::new();
        let mut model = HashSet::new();
        let (mut rehashing_seen, mut compacting_seen) = (0, 0);
        let mut x = 12345u64;
        for step in 0..200_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // Mostly inserts early on, mostly removals later: both kinds of resize happen.
            let k = key("k", (x % 30_000) as usize);
            let h = hash_key(&k);
            let remove = (x >> 32) % 100 < if step < 100_000 { 30 } else { 70 };
            if remove {
                assert_eq!(d.remove(h, &k).is_some(), model.remove(&k));
            } else if d.get(h, &k).is_none() {
                insert(&mut d, &k);
                assert!(model.insert(k));
            } else {
                assert!(model.contains(&k));
            }
            rehashing_seen += d.is_rehashing() as usize;
            compacting_seen += d.is_compacting() as usize;
            assert_eq!(d.len(), model.len());
            if step % 5000 == 0 {
                d.check();
            }
        }
        d.check();
        assert!(rehashing_seen > 1000, "{rehashing_seen}");
        assert!(compacting_seen > 1000, "{compacting_seen}");
        assert_eq!(d.iter().count(), model.len());
        for k in &model {
            assert!(d.get(hash_key(k), k).is_some());
        }
    }

    #[test]
    fn scan_and_sweep_miss_nothing_while_resizes_are_under_way() {
        for sweep in [false, true] {
            let mut d = Dict::new();
            for i in 0..3000 {
                insert(&mut d, &key("k", i));
            }
            let mut seen = HashSet::new();
            let mut cursor = 0;
            let mut step = 0;
            let mut rehashing_seen = 0;
            let mut extra = 0;
            loop {
                if sweep {
                    let mut out = Vec::new();
                    let before = d.len();
                    cursor = d.sweep_step(
                        cursor,
                        |n| {
                            seen.insert(n.key.to_vec());
                        },
                        |n| n.key.starts_with(b"x") && n.key.ends_with(b"7"),
                        &mut out,
                    );
                    assert_eq!(d.len(), before - out.len());
                    assert!(out.iter().all(|n| n.key.starts_with(b"x")));
                } else {
                    cursor = d.scan_step(cursor, |n| {
                        seen.insert(n.key.to_vec());
                    });
                }
                step += 1;
                // Keys outside the guarantee come and go, growing and shrinking the table mid-scan.
                if step % 3 == 0 && step < 1500 {
                    for _ in 0..40 {
                        insert(&mut d, &key("x", extra));
                        extra += 1;
                    }
                } else if step >= 1500 {
                    for _ in 0..60 {
                        if extra > 0 {
                            extra -= 1;
                            d.remove(hash_key(&key("x", extra)), &key("x", extra));
                        }
                    }
                }
                rehashing_seen += d.is_rehashing() as usize;
                if cursor == 0 {
                    break;
                }
            }
            assert!(rehashing_seen > 10, "{rehashing_seen}");
            for i in 0..3000 {
                assert!(seen.contains(&key("k", i)), "k{i} missed (sweep: {sweep})");
            }
        }
    }

    #[test]
    fn random_picks_reach_both_arrays_during_a_resize() {
        let mut d = Dict::new();
        let mut i = 0;
        while !(d.is_rehashing() && d.rehash_idx > 0 && d.old.len() > 2 * d.rehash_idx) {
            insert(&mut d, &key("k", i));
            i += 1;
        }
        let (in_old, in_new): (Vec<_>, Vec<_>) = (0..i).map(|j| key("k", j)).partition(|k| {
            let b = hash_key(k) as usize & (d.old.len() - 1);
            b >= d.rehash_idx && d.find_in(d.old.head(b), k).is_some()
        });
        assert!(!in_old.is_empty() && !in_new.is_empty());
        let mut rng = rand::thread_rng();
        let mut picked = HashSet::new();
        for _ in 0..20_000 {
            let n = d.random_node(&mut rng, |_| true).expect("not empty");
            picked.insert(n.key.to_vec());
        }
        assert!(in_old.iter().any(|k| picked.contains(k)));
        assert!(in_new.iter().any(|k| picked.contains(k)));
        let only = key("k", 7);
        let n = d.random_node(&mut rng, |n| n.key.as_slice() == only.as_slice());
        assert_eq!(n.map(|n| n.key.to_vec()), Some(only));
    }

    /// 20,000 keys `k0..`, then removals spread over the whole slab (`k{i * 7919 % 20000}` for
    /// `i` in `0..removed`) until a compaction starts: the table and `removed`.
    fn compacting_dict() -> (Dict, usize) {
        let mut d = Dict::new();
        for i in 0..20_000 {
            insert(&mut d, &key("k", i));
        }
        let mut removed = 0;
        while !d.is_compacting() {
            let k = key("k", removed * 7919 % 20_000);
            assert!(d.remove(hash_key(&k), &k).is_some());
            removed += 1;
        }
        (d, removed)
    }

    #[test]
    fn a_compaction_moves_nodes_of_both_arrays_during_a_resize() {
        let (mut d, i) = compacting_dict();
        // A grow that starts mid-compaction (rare in use: a shrink waits for the compaction, and
        // a grow needs the table full again), so nodes move while chains are split across arrays.
        d.resize(d.bucket_count() * 2);
        assert!(d.is_rehashing() && d.is_compacting());
        d.rehash_step(100);
        d.check();
        while d.is_compacting() {
            d.compact_step(50);
            d.check();
        }
        assert!(d.is_rehashing());
        for j in i..20_000 {
            let k = key("k", j * 7919 % 20_000);
            assert!(d.get(hash_key(&k), &k).is_some());
        }
        while d.has_pending_work() {
            d.background_step(100);
        }
        d.check();
        assert_eq!(d.len(), 20_000 - i);
    }

    #[test]
    fn inserts_that_outrun_a_compaction_lose_no_slot() {
        let (mut d, _) = compacting_dict();
        d.check();
        // Refill at once: the holes run out before the nodes above the target are all moved.
        for j in 0..15_000 {
            insert(&mut d, &key("n", j));
        }
        assert!(!d.is_compacting());
        d.check();
        let len = d.len();
        let used = d.slab.used;
        // Every free slot is reused before the slab grows.
        for j in 0..(used as usize - len) {
            insert(&mut d, &key("m", j));
        }
        assert_eq!(d.slab.used, used);
        d.check();
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
                let c = d.chain_len(b);
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
