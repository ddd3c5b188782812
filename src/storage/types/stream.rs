//! The stream type: entries ordered by ID, plus consumer groups.
//!
//! Entries live in blocks keyed by the ID of the first entry appended to them (Redis's radix tree of
//! listpacks, with a B-tree in place of the radix tree): each block keeps its IDs in one vector and all
//! its fields and values in one byte buffer, so a stream of small entries costs a few allocations per
//! hundred entries, `XRANGE` over a window is one B-tree seek and a scan, and `XADD` appends to the last
//! block. A block is closed once [`BLOCK_MAX_ENTRIES`] entries have been appended to it (deleted ones
//! included) or the listpack Redis would have built for it passes [`BLOCK_MAX_BYTES`] (its size is
//! computed as Redis lays a stream node out: master entry, field compression, integer encodings), as
//! Redis's `stream-node-max-entries` and `stream-node-max-bytes` defaults do. Approximate trimming
//! (`~`), which only drops whole blocks, therefore removes the same entries Redis would.
//!
//! Consumer groups hold the group's last-delivered ID, its logical read counter, its pending entries
//! list (PEL) and its consumers, each with its own PEL. Everything here is plain data: the commands
//! (`commands/stream.rs`) enforce Redis's rules and build replies.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use super::packed::{get_varint, put_varint};

/// Entries appended to a block before a new one is started (Redis's `stream-node-max-entries`).
pub const BLOCK_MAX_ENTRIES: u32 = 100;
/// Listpack size past which a new block is started (Redis's `stream-node-max-bytes`, measured as
/// Redis's listpack would take it).
pub const BLOCK_MAX_BYTES: usize = 4096;

/// A stream entry ID: milliseconds and sequence number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Hash)]
pub struct StreamId {
    pub ms: u64,
    pub seq: u64,
}

impl StreamId {
    pub const MIN: StreamId = StreamId { ms: 0, seq: 0 };
    pub const MAX: StreamId = StreamId {
        ms: u64::MAX,
        seq: u64::MAX,
    };

    pub const fn new(ms: u64, seq: u64) -> StreamId {
        StreamId { ms, seq }
    }

    pub fn is_zero(&self) -> bool {
        *self == StreamId::MIN
    }

    /// The next ID, `None` past the maximum.
    pub fn next(self) -> Option<StreamId> {
        if self.seq < u64::MAX {
            Some(StreamId::new(self.ms, self.seq + 1))
        } else if self.ms < u64::MAX {
            Some(StreamId::new(self.ms + 1, 0))
        } else {
            None
        }
    }

    /// The previous ID, `None` below 0-0.
    pub fn prev(self) -> Option<StreamId> {
        if self.seq > 0 {
            Some(StreamId::new(self.ms, self.seq - 1))
        } else if self.ms > 0 {
            Some(StreamId::new(self.ms - 1, u64::MAX))
        } else {
            None
        }
    }
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

/// One block of entries: live entries in ID order, all in one buffer.
#[derive(Debug, Clone, PartialEq)]
struct Block {
    /// End offset in `data` of each live entry (its start is the previous entry's end).
    ends: Vec<u32>,
    /// Per entry: its ID relative to the block's first ID (`ms - first.ms`, then `seq - first.seq`
    /// when the milliseconds are the first's, else `seq`: one or two bytes each for a stream fed by
    /// XADD `*`, where a 16-byte ID would be most of a small entry), `2 * item count + same`, then
    /// each field and value as its length and bytes, except
    /// that an entry whose fields are the block's master fields (`same` = 1, the common case: a
    /// stream's entries usually share their fields) stores only its values, as Redis's listpack
    /// does. Counts and lengths are LEB128 varints: one byte for the usual short field or value.
    data: Vec<u8>,
    /// Entries ever appended to this block, deleted ones included.
    appended: u32,
    /// The last ID appended (Redis's last listpack entry, deleted or not).
    last: StreamId,
    /// The size Redis's listpack for this block would have (it decides when a new block starts).
    lp_bytes: usize,
    /// The fields of the block's first entry (Redis's master entry), which later entries with the same
    /// fields do not repeat.
    master: Vec<Vec<u8>>,
    /// The first ID appended (Redis's master ID).
    first: StreamId,
}

/// Bytes a listpack integer element takes (encoding + back-length).
fn lp_int_size(v: i64) -> usize {
    let enc = if (0..=127).contains(&v) {
        1
    } else if (-4096..=4095).contains(&v) {
        2
    } else if i16::try_from(v).is_ok() {
        3
    } else if (-(1 << 23)..(1 << 23)).contains(&v) {
        4
    } else if i32::try_from(v).is_ok() {
        5
    } else {
        9
    };
    enc + 1
}

/// Bytes a listpack string element takes (strings that are integers are stored as integers).
fn lp_str_size(s: &[u8]) -> usize {
    if s.len() <= 20 {
        if let Some(v) = crate::protocol::parse_i64(s) {
            return lp_int_size(v);
        }
    }
    let len = s.len();
    let enc = if len < 64 {
        1 + len
    } else if len < 4096 {
        2 + len
    } else {
        5 + len
    };
    let back = match enc {
        0..=127 => 1,
        128..=16382 => 2,
        16383..=2097150 => 3,
        2097151..=268435454 => 4,
        _ => 5,
    };
    enc + back
}

/// The listpack size of a new block holding only the master entry for `items`' fields.
fn lp_block_base(items: &[&[u8]]) -> usize {
    let fields = items.len() / 2;
    // Header and end byte; count, deleted, num-fields, the fields, the master terminator.
    7 + 2
        + 2
        + lp_int_size(fields as i64)
        + items
            .iter()
            .step_by(2)
            .map(|f| lp_str_size(f))
            .sum::<usize>()
        + 2
}

impl Block {
    fn len(&self) -> usize {
        self.ends.len()
    }

    fn span(&self, i: usize) -> (usize, usize) {
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        (start, self.ends[i] as usize)
    }

    /// Entry `i`'s ID and the position after it in `data`.
    fn id_at(&self, i: usize) -> (StreamId, usize) {
        let (s, _) = self.span(i);
        let (ms, p) = get_varint(&self.data, s);
        let (seq, p) = get_varint(&self.data, p);
        let ms = self.first.ms.wrapping_add(ms as u64);
        let seq = if ms == self.first.ms {
            self.first.seq.wrapping_add(seq as u64)
        } else {
            seq as u64
        };
        (StreamId::new(ms, seq), p)
    }

    /// Entry `i`: its ID and its fields.
    fn entry(&self, i: usize) -> (StreamId, Fields<'_>) {
        let (id, p) = self.id_at(i);
        let e = self.ends[i] as usize;
        let fields = Fields {
            data: &self.data[p..e],
            master: &self.master,
        };
        (id, fields)
    }

    /// Where `id` is among the live entries: `Ok(index)` or `Err(insertion point)`.
    fn search(&self, id: StreamId) -> Result<usize, usize> {
        let (mut lo, mut hi) = (0, self.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match self.id_at(mid).0.cmp(&id) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Ok(mid),
            }
        }
        Err(lo)
    }

    /// Whether Redis would start a new node before appending an entry of `items`.
    fn is_full_for(&self, items: &[&[u8]]) -> bool {
        let raw: usize = items.iter().map(|i| i.len()).sum();
        self.lp_bytes + raw >= BLOCK_MAX_BYTES || self.appended >= BLOCK_MAX_ENTRIES
    }

    fn push(&mut self, id: StreamId, items: &[&[u8]]) {
        let fields = items.len() / 2;
        let same = fields == self.master.len()
            && items
                .iter()
                .step_by(2)
                .zip(&self.master)
                .all(|(a, b)| *a == &b[..]);
        let ms_diff = id.ms.wrapping_sub(self.first.ms) as i64;
        let seq_diff = id.seq.wrapping_sub(self.first.seq) as i64;
        let mut size = 2 + lp_int_size(ms_diff) + lp_int_size(seq_diff);
        if same {
            size += items
                .iter()
                .skip(1)
                .step_by(2)
                .map(|v| lp_str_size(v))
                .sum::<usize>();
            size += lp_int_size(fields as i64 + 3);
        } else {
            size += lp_int_size(fields as i64);
            size += items.iter().map(|v| lp_str_size(v)).sum::<usize>();
            size += lp_int_size(2 * fields as i64 + 4);
        }
        self.lp_bytes += size;
        // IDs only grow within a block, so both differences are non-negative.
        put_varint(&mut self.data, id.ms.wrapping_sub(self.first.ms) as usize);
        let seq = if id.ms == self.first.ms {
            id.seq.wrapping_sub(self.first.seq)
        } else {
            id.seq
        };
        put_varint(&mut self.data, seq as usize);
        put_varint(&mut self.data, items.len() * 2 + same as usize);
        for (k, it) in items.iter().enumerate() {
            if same && k % 2 == 0 {
                continue;
            }
            put_varint(&mut self.data, it.len());
            self.data.extend_from_slice(it);
        }
        self.ends.push(self.data.len() as u32);
        self.appended += 1;
        self.last = id;
    }

    fn remove_at(&mut self, i: usize) {
        let (s, e) = self.span(i);
        let n = (e - s) as u32;
        self.data.drain(s..e);
        self.ends.remove(i);
        for end in &mut self.ends[i..] {
            *end -= n;
        }
    }
}

/// The fields and values of one entry, as stored.
#[derive(Debug, Clone, Copy)]
pub struct Fields<'a> {
    data: &'a [u8],
    /// The block's master fields, which an entry with the same fields does not repeat.
    master: &'a [Vec<u8>],
}

impl<'a> Fields<'a> {
    /// Fields and values alternately.
    pub fn items(&self) -> impl Iterator<Item = &'a [u8]> + 'a {
        let data = self.data;
        let master = self.master;
        let (head, mut pos) = get_varint(data, 0);
        let same = head & 1 == 1;
        let mut i = 0usize;
        std::iter::from_fn(move || {
            // Fields of a `same` entry come from the master list.
            if same && i.is_multiple_of(2) {
                let f = master.get(i / 2)?;
                i += 1;
                return Some(&f[..]);
            }
            if pos >= data.len() {
                return None;
            }
            let (len, at) = get_varint(data, pos);
            let item = data.get(at..at + len)?;
            pos = at + len;
            i += 1;
            Some(item)
        })
    }

    /// Number of fields and values (twice the number of pairs).
    pub fn count(&self) -> usize {
        get_varint(self.data, 0).0 / 2
    }
}

/// How to trim a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trim {
    MaxLen(u64),
    MinId(StreamId),
}

/// One entry of a group's PEL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingEntry {
    pub consumer: Vec<u8>,
    /// Unix ms of the last delivery.
    pub delivery_time: u64,
    pub delivery_count: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Consumer {
    /// Unix ms of the last interaction (read, claim, ...).
    pub seen_time: u64,
    /// Unix ms of the last successful interaction (something delivered or claimed); 0 = never.
    pub active_time: Option<u64>,
    pub pel: BTreeSet<StreamId>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConsumerGroup {
    pub last_id: StreamId,
    /// The group's logical read counter; `None` when it cannot be known (Redis's invalid counter).
    pub entries_read: Option<u64>,
    pub pel: BTreeMap<StreamId, PendingEntry>,
    pub consumers: BTreeMap<Vec<u8>, Consumer>,
}

impl ConsumerGroup {
    pub fn new(last_id: StreamId, entries_read: Option<u64>) -> ConsumerGroup {
        ConsumerGroup {
            last_id,
            entries_read,
            ..Default::default()
        }
    }

    /// The consumer `name`, created (with `now` as its seen time) if absent; true if created.
    pub fn consumer_mut(&mut self, name: &[u8], now: u64) -> (&mut Consumer, bool) {
        let created = !self.consumers.contains_key(name);
        let c = self
            .consumers
            .entry(name.to_vec())
            .or_insert_with(|| Consumer {
                seen_time: now,
                active_time: None,
                pel: BTreeSet::new(),
            });
        (c, created)
    }

    /// Removes `id` from the group's PEL and its consumer's; true if it was pending.
    pub fn ack(&mut self, id: StreamId) -> bool {
        match self.pel.remove(&id) {
            Some(p) => {
                if let Some(c) = self.consumers.get_mut(&p.consumer) {
                    c.pel.remove(&id);
                }
                true
            }
            None => false,
        }
    }

    /// Makes `consumer` the owner of pending entry `id` (creating the PEL entry if needed).
    pub fn assign(&mut self, id: StreamId, consumer: &[u8], delivery_time: u64, count: u64) {
        if let Some(old) = self.pel.get(&id) {
            if old.consumer != consumer {
                let prev = old.consumer.clone();
                if let Some(c) = self.consumers.get_mut(&prev) {
                    c.pel.remove(&id);
                }
            }
        }
        self.pel.insert(
            id,
            PendingEntry {
                consumer: consumer.to_vec(),
                delivery_time,
                delivery_count: count,
            },
        );
        if let Some(c) = self.consumers.get_mut(consumer) {
            c.pel.insert(id);
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Stream {
    blocks: BTreeMap<StreamId, Block>,
    len: u64,
    pub last_id: StreamId,
    pub max_deleted_id: StreamId,
    pub entries_added: u64,
    pub groups: BTreeMap<Vec<u8>, ConsumerGroup>,
}

impl Stream {
    pub fn new() -> Stream {
        Stream::default()
    }

    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Number of blocks (XINFO STREAM's `radix-tree-nodes`-like figure).
    pub fn blocks(&self) -> usize {
        self.blocks.len()
    }

    /// The first live entry's ID, 0-0 when empty.
    pub fn first_id(&self) -> StreamId {
        self.first_entry().map(|(id, _)| id).unwrap_or_default()
    }

    pub fn first_entry(&self) -> Option<(StreamId, Fields<'_>)> {
        self.range(StreamId::MIN, StreamId::MAX, false).next()
    }

    pub fn last_entry(&self) -> Option<(StreamId, Fields<'_>)> {
        self.range(StreamId::MIN, StreamId::MAX, true).next()
    }

    /// Appends an entry; `id` must be greater than `last_id` (the caller checks).
    /// `items` are fields and values alternately.
    pub fn append(&mut self, id: StreamId, items: &[&[u8]]) {
        debug_assert!(id > self.last_id || (self.len == 0 && self.entries_added == 0));
        let need_new = match self.blocks.iter().next_back() {
            None => true,
            Some((_, b)) => b.is_full_for(items),
        };
        if need_new {
            // The last block is sealed: give back its spare capacity.
            if let Some((_, b)) = self.blocks.iter_mut().next_back() {
                b.ends.shrink_to_fit();
                b.data.shrink_to_fit();
            }
            self.blocks.insert(
                id,
                Block {
                    ends: Vec::new(),
                    data: Vec::new(),
                    appended: 0,
                    last: id,
                    lp_bytes: lp_block_base(items),
                    master: items.iter().step_by(2).map(|f| f.to_vec()).collect(),
                    first: id,
                },
            );
        }
        if let Some((_, b)) = self.blocks.iter_mut().next_back() {
            b.push(id, items);
        }
        self.len += 1;
        self.entries_added += 1;
        self.last_id = id;
    }

    /// The entry `id`, if present.
    pub fn get(&self, id: StreamId) -> Option<Fields<'_>> {
        let (_, b) = self.blocks.range(..=id).next_back()?;
        let i = b.search(id).ok()?;
        Some(b.entry(i).1)
    }

    /// Entries with IDs in `start..=end`, in ascending order or (`rev`) descending.
    pub fn range(
        &self,
        start: StreamId,
        end: StreamId,
        rev: bool,
    ) -> Box<dyn Iterator<Item = (StreamId, Fields<'_>)> + '_> {
        if start > end {
            return Box::new(std::iter::empty());
        }
        let lo = self
            .blocks
            .range(..=start)
            .next_back()
            .map_or(start, |(k, _)| *k);
        let blocks = self.blocks.range(lo..=end);
        let in_range = move |id: &StreamId| *id >= start && *id <= end;
        if rev {
            Box::new(blocks.rev().flat_map(move |(_, b)| {
                (0..b.len())
                    .rev()
                    .map(move |i| b.entry(i))
                    .filter(move |(id, _)| in_range(id))
            }))
        } else {
            Box::new(blocks.flat_map(move |(_, b)| {
                (0..b.len())
                    .map(move |i| b.entry(i))
                    .filter(move |(id, _)| in_range(id))
            }))
        }
    }

    /// Deletes entry `id`; true if it existed. A block left empty is dropped.
    pub fn remove(&mut self, id: StreamId) -> bool {
        let Some((&key, b)) = self.blocks.range_mut(..=id).next_back() else {
            return false;
        };
        let Ok(i) = b.search(id) else {
            return false;
        };
        b.remove_at(i);
        if b.len() == 0 {
            self.blocks.remove(&key);
        }
        self.len -= 1;
        true
    }

    /// Trims as Redis's `streamTrim`: whole blocks from the oldest while they can all go, then (unless
    /// `approx`) single entries of the next block. `limit` (0 = none) caps the entries removed in whole
    /// blocks. Returns the number of entries removed.
    pub fn trim(&mut self, how: Trim, approx: bool, limit: u64) -> u64 {
        let mut deleted = 0u64;
        while let Some((&key, b)) = self.blocks.iter().next() {
            if let Trim::MaxLen(n) = how {
                if self.len <= n {
                    break;
                }
            }
            let entries = b.len() as u64;
            if limit != 0 && deleted + entries > limit {
                break;
            }
            let whole = match how {
                Trim::MaxLen(n) => self.len - entries >= n,
                Trim::MinId(min) => b.last < min,
            };
            if whole {
                self.blocks.remove(&key);
                self.len -= entries;
                deleted += entries;
                continue;
            }
            if approx {
                break;
            }
            let Some(b) = self.blocks.get_mut(&key) else {
                break;
            };
            let mut n = 0usize;
            for i in 0..b.len() {
                let id = b.id_at(i).0;
                let stop = match how {
                    Trim::MaxLen(max) => self.len - n as u64 <= max,
                    Trim::MinId(min) => id >= min,
                };
                if stop {
                    break;
                }
                n += 1;
            }
            if n > 0 {
                let cut = b.ends[n - 1];
                b.data.drain(..cut as usize);
                b.ends.drain(..n);
                for e in &mut b.ends {
                    *e -= cut;
                }
            }
            self.len -= n as u64;
            deleted += n as u64;
            break;
        }
        deleted
    }

    /// Redis's `streamEstimateDistanceFromFirstEverEntry`: the logical position of `id` among all
    /// entries ever added, when it can be known.
    pub fn estimate_counter(&self, id: StreamId) -> Option<u64> {
        if self.entries_added == 0 {
            return Some(0);
        }
        if self.len == 0 && id <= self.last_id {
            return Some(self.entries_added);
        }
        if id == self.last_id {
            return Some(self.entries_added);
        }
        if id > self.last_id {
            return None;
        }
        let first = self.first_id();
        if self.max_deleted_id.is_zero() || self.max_deleted_id < first {
            if id < first {
                return Some(self.entries_added - self.len);
            }
            if id == first {
                return Some(self.entries_added - self.len + 1);
            }
        }
        None
    }

    /// Redis's `streamRangeHasTombstones` from `start` to the end of the stream.
    pub fn has_tombstones_from(&self, start: StreamId) -> bool {
        if self.len == 0 || self.max_deleted_id.is_zero() {
            return false;
        }
        if self.first_id() > self.max_deleted_id {
            return false;
        }
        start <= self.max_deleted_id
    }

    /// A group's lag as Redis 7 reports it (`None` when unknown; negative when a group was told it
    /// read more entries than were ever added, as Redis reports it).
    pub fn lag(&self, g: &ConsumerGroup) -> Option<i64> {
        let diff = |read: u64| (self.entries_added as i128 - read as i128) as i64;
        if self.entries_added == 0 {
            return Some(0);
        }
        if let Some(read) = g.entries_read {
            if !self.has_tombstones_from(g.last_id) {
                return Some(diff(read));
            }
        }
        self.estimate_counter(g.last_id).map(diff)
    }
}

impl Stream {
    /// Heap bytes held (MEMORY USAGE): entry blocks (sampling up to `samples` of them, 0: all), plus
    /// consumer groups and their pending entries.
    pub fn heap_bytes(&self, samples: usize) -> usize {
        let block = |b: &Block| {
            std::mem::size_of::<Block>() + b.ends.capacity() * 4 + b.data.capacity() + 32
        };
        let blocks = super::sampled(self.blocks.values(), self.blocks.len(), samples, block);
        let groups: usize = self
            .groups
            .iter()
            .map(|(name, g)| {
                name.len()
                    + 64
                    + g.pel.len() * (std::mem::size_of::<PendingEntry>() + 48)
                    + g.consumers
                        .iter()
                        .map(|(c, cons)| c.len() + 96 + cons.pel.len() * 24)
                        .sum::<usize>()
            })
            .sum();
        blocks + groups
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn id(ms: u64) -> StreamId {
        StreamId::new(ms, 0)
    }

    fn collect(s: &Stream, a: StreamId, b: StreamId, rev: bool) -> Vec<(StreamId, Vec<Vec<u8>>)> {
        s.range(a, b, rev)
            .map(|(i, f)| (i, f.items().map(|x| x.to_vec()).collect()))
            .collect()
    }

    #[test]
    fn ids_relative_to_the_block_round_trip() {
        let ids = [
            StreamId::new(5, 3),
            StreamId::new(5, 10),
            StreamId::new(6, 0),
            StreamId::new(6, u64::MAX),
            StreamId::new(u64::MAX - 1, 2),
            StreamId::new(u64::MAX, u64::MAX),
        ];
        let mut s = Stream::new();
        for (k, &i) in ids.iter().enumerate() {
            s.append(i, &[b"f", format!("v{k}").as_bytes()]);
        }
        let got: Vec<StreamId> = s
            .range(StreamId::MIN, StreamId::MAX, false)
            .map(|e| e.0)
            .collect();
        assert_eq!(got, ids);
        for (k, &i) in ids.iter().enumerate() {
            let f = s
                .get(i)
                .map(|f| f.items().map(|x| x.to_vec()).collect::<Vec<_>>());
            assert_eq!(f, Some(vec![b"f".to_vec(), format!("v{k}").into_bytes()]));
        }
        assert!(s.get(StreamId::new(5, 4)).is_none());
        assert!(s.remove(StreamId::new(6, 0)));
        assert_eq!(s.first_id(), StreamId::new(5, 3));
        assert_eq!(s.trim(Trim::MinId(StreamId::new(6, 1)), false, 0), 2);
        assert_eq!(s.first_id(), StreamId::new(6, u64::MAX));
        assert_eq!(s.last_entry().map(|e| e.0), Some(StreamId::MAX));
    }

    #[test]
    fn entries_sharing_the_master_fields_read_back_whole() {
        let mut s = Stream::new();
        s.append(StreamId::new(1, 0), &[b"f", b"v1", b"g", b"w1"]);
        s.append(StreamId::new(2, 0), &[b"f", b"v2", b"g", b"w2"]);
        s.append(StreamId::new(3, 0), &[b"other", b"x"]);
        s.append(StreamId::new(4, 0), &[b"f", b"", b"g", &[0u8, 255][..]]);
        let read = |id| {
            let f = s.get(StreamId::new(id, 0)).expect("entry");
            (f.count(), f.items().map(<[u8]>::to_vec).collect::<Vec<_>>())
        };
        assert_eq!(
            read(2),
            (
                4,
                vec![b"f".to_vec(), b"v2".to_vec(), b"g".to_vec(), b"w2".to_vec()]
            )
        );
        assert_eq!(read(3), (2, vec![b"other".to_vec(), b"x".to_vec()]));
        assert_eq!(
            read(4),
            (4, vec![b"f".to_vec(), vec![], b"g".to_vec(), vec![0, 255]])
        );
    }

    #[test]
    fn append_range_remove() {
        let mut s = Stream::new();
        for i in 1..=250u64 {
            s.append(id(i), &[b"f", i.to_string().as_bytes()]);
        }
        assert_eq!(s.len(), 250);
        assert_eq!(s.blocks(), 3);
        let r = collect(&s, id(99), id(102), false);
        assert_eq!(r.len(), 4);
        assert_eq!(r[0].1, vec![b"f".to_vec(), b"99".to_vec()]);
        assert!(s.remove(id(100)));
        assert!(!s.remove(id(100)));
        assert_eq!(collect(&s, id(99), id(102), true).len(), 3);
        assert_eq!(s.first_id(), id(1));
        assert_eq!(s.get(id(5)).map(|f| f.count()), Some(2));
    }

    #[test]
    fn trim_whole_blocks_when_approximate() {
        let mut s = Stream::new();
        for i in 1..=250u64 {
            s.append(id(i), &[b"f", b"v"]);
        }
        assert_eq!(s.trim(Trim::MaxLen(180), true, 0), 0);
        assert_eq!(s.trim(Trim::MaxLen(140), true, 0), 100);
        assert_eq!(s.len(), 150);
        assert_eq!(s.trim(Trim::MaxLen(10), false, 0), 140);
        assert_eq!(s.first_id(), id(241));
        assert_eq!(s.trim(Trim::MinId(id(245)), false, 0), 4);
        assert_eq!(s.first_id(), id(245));
    }

    #[derive(Debug, Clone)]
    enum Op {
        Add(u8, u8),
        Del(u8),
        TrimLen(u8, bool),
        TrimMin(u8, bool),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => (1u8..4, any::<u8>()).prop_map(|(n, v)| Op::Add(n, v)),
            2 => any::<u8>().prop_map(Op::Del),
            1 => (any::<u8>(), any::<bool>()).prop_map(|(n, a)| Op::TrimLen(n, a)),
            1 => (any::<u8>(), any::<bool>()).prop_map(|(n, a)| Op::TrimMin(n, a)),
        ]
    }

    proptest! {
        #[test]
        fn matches_btreemap_model(ops in proptest::collection::vec(op(), 1..600)) {
            let mut s = Stream::new();
            let mut model: BTreeMap<StreamId, Vec<Vec<u8>>> = BTreeMap::new();
            let mut next = 1u64;
            for o in ops {
                match o {
                    Op::Add(n, v) => {
                        let items: Vec<Vec<u8>> = (0..n * 2).map(|i| vec![v; (i as usize + v as usize) % 7]).collect();
                        let refs: Vec<&[u8]> = items.iter().map(|x| x.as_slice()).collect();
                        let sid = StreamId::new(next / 3, next % 3);
                        next += 1;
                        s.append(sid, &refs);
                        model.insert(sid, items);
                    }
                    Op::Del(k) => {
                        let sid = StreamId::new(k as u64 / 3, k as u64 % 3);
                        prop_assert_eq!(s.remove(sid), model.remove(&sid).is_some());
                    }
                    Op::TrimLen(n, approx) => {
                        let removed = s.trim(Trim::MaxLen(n as u64), approx, 0);
                        for _ in 0..removed {
                            let first = *model.keys().next().unwrap();
                            model.remove(&first);
                        }
                        if !approx {
                            prop_assert!(model.len() as u64 <= n as u64);
                        }
                    }
                    Op::TrimMin(k, approx) => {
                        let min = StreamId::new(k as u64 / 3, k as u64 % 3);
                        let removed = s.trim(Trim::MinId(min), approx, 0);
                        let before: Vec<StreamId> = model.range(..min).map(|(k, _)| *k).collect();
                        prop_assert!(removed as usize <= before.len());
                        for k in before.iter().take(removed as usize) {
                            model.remove(k);
                        }
                        if !approx {
                            prop_assert_eq!(removed as usize, before.len());
                        }
                    }
                }
                prop_assert_eq!(s.len(), model.len() as u64);
            }
            let all: Vec<(StreamId, Vec<Vec<u8>>)> = model.iter().map(|(k, v)| (*k, v.clone())).collect();
            prop_assert_eq!(collect(&s, StreamId::MIN, StreamId::MAX, false), all.clone());
            let mut rev = all.clone();
            rev.reverse();
            prop_assert_eq!(collect(&s, StreamId::MIN, StreamId::MAX, true), rev);
            // A window.
            let a = StreamId::new(20, 1);
            let b = StreamId::new(60, 0);
            let win: Vec<_> = all.iter().filter(|(k, _)| *k >= a && *k <= b).cloned().collect();
            prop_assert_eq!(collect(&s, a, b, false), win);
        }
    }
}
