//! The list type: a listpack while small, a deque of fixed-size blocks of byte strings past the
//! limit.
//!
//! Why it is built this way:
//! * Most lists in a keyspace are small (queues of a few jobs, recent-items lists). Those are one
//!   exactly-sized [`Packed`] buffer holding Redis's own listpack entry format: an encoding byte
//!   (7-bit and 13/16/24/32/64-bit integers, 6/12/32-bit string lengths), the payload, then the
//!   entry's size written backwards ("backlen") so the tail can be walked from the end. Both ends pop
//!   without a scan, canonical integers take 1-9 bytes, and because the entries are byte-for-byte
//!   Redis's, the listpack size Redis compares with `list-max-listpack-size` is simply our buffer's
//!   length: the conversions happen at exactly Redis's boundaries. The buffer starts with the element
//!   count (2 bytes, little endian) where Redis keeps 6 header bytes and an end marker.
//! * Past the limit a list becomes a [`BlockDeque`] of [`SmallBytes`] (elements up to 22 bytes
//!   inline): blocks of 256 elements that never reallocate, in an outer deque of block headers.
//!   Push and pop are O(1) at both ends with no step that copies the whole list (a `VecDeque` copies
//!   everything when it doubles: 70 ms for one RPUSH onto 8M elements), as with Redis's quicklist
//!   of listpacks; and unlike a quicklist, indexing stays O(1), which LRANGE and LINDEX on long
//!   queues use. `OBJECT ENCODING` answers `quicklist` and Redis's node structure is not modelled
//!   (Redis converts a quicklist back only when it has a single node; we assume it does).
//! * LREM removes all its matches in one O(n) compaction pass, not one shift per match.
//! * The enum is 16 bytes (the boxed deque uses the niche of the buffer's pointer), so `Value` holds
//!   it unboxed.
//!
//! Conversions follow Redis 7.2's `listTypeTryConversion*`: before adding elements, a listpack whose
//! size plus the new elements' lengths (or count plus theirs) would pass the limit becomes a
//! quicklist; after removing elements, a quicklist at or under half the limit becomes a listpack
//! again; a list built whole (SORT STORE) is a listpack if it fits one quicklist node.

use std::borrow::Cow;

use super::blocks::{self, BlockDeque};
use super::packed::Packed;
use crate::protocol::parse_i64;
use crate::smallbytes::SmallBytes;

/// Which end of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    Left,
    Right,
}

/// Listpack header (total bytes + count) and end byte: what Redis's `lpBytes` adds to the entries.
const LP_OVERHEAD: usize = 7;
/// Our header: the element count.
const HDR: usize = 2;
/// `SIZE_SAFETY_LIMIT`: the byte cap of a count-limited quicklist node.
const SIZE_SAFETY_LIMIT: usize = 8192;
/// `SIZE_ESTIMATE_OVERHEAD`: what quicklist adds to an element's length when deciding whether it
/// fits a node.
const SIZE_ESTIMATE_OVERHEAD: usize = 8;

/// One element as stored: the bytes, or a canonical integer a listpack keeps as a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Item<'a> {
    Str(&'a [u8]),
    Int(i64),
    /// An element of a block list, as stored (a reply can copy it whole, inline bytes and all).
    Ref(&'a SmallBytes),
}

impl<'a> Item<'a> {
    /// Calls `f` with the element's bytes (integers formatted on the stack).
    #[inline]
    pub fn with_bytes<R>(&self, f: impl FnOnce(&[u8]) -> R) -> R {
        match self {
            Item::Str(s) => f(s),
            Item::Ref(s) => f(s),
            Item::Int(i) => f(itoa::Buffer::new().format(*i).as_bytes()),
        }
    }

    pub fn to_bytes(&self) -> Cow<'a, [u8]> {
        match *self {
            Item::Str(s) => Cow::Borrowed(s),
            Item::Ref(s) => Cow::Borrowed(s.as_slice()),
            Item::Int(i) => Cow::Owned(itoa::Buffer::new().format(i).as_bytes().to_vec()),
        }
    }

    pub fn to_vec(&self) -> Vec<u8> {
        self.with_bytes(|b| b.to_vec())
    }

    pub fn to_small(&self) -> SmallBytes {
        match self {
            Item::Ref(s) => (*s).clone(),
            _ => self.with_bytes(SmallBytes::new),
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Item::Str(s) => s.len(),
            Item::Ref(s) => s.len(),
            Item::Int(i) => itoa::Buffer::new().format(*i).len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether this element equals the searched bytes.
    #[inline]
    pub fn matches(&self, n: &Needle<'_>) -> bool {
        match self {
            Item::Str(s) => *s == n.bytes,
            Item::Ref(s) => s.as_slice() == n.bytes,
            Item::Int(i) => n.int == Some(*i),
        }
    }
}

/// Bytes searched for (LPOS, LREM, LINSERT's pivot), parsed once: a canonical integer only ever
/// matches an integer entry and other bytes only a string entry.
pub struct Needle<'a> {
    bytes: &'a [u8],
    int: Option<i64>,
}

impl<'a> Needle<'a> {
    pub fn new(bytes: &'a [u8]) -> Needle<'a> {
        Needle {
            bytes,
            int: parse_i64(bytes),
        }
    }
}

// --- listpack entries (Redis's format) ---

fn backlen_size(enclen: usize) -> usize {
    if enclen <= 127 {
        1
    } else if enclen < 16383 {
        2
    } else if enclen < 2_097_151 {
        3
    } else if enclen < 268_435_455 {
        4
    } else {
        5
    }
}

/// Bytes of encoding + payload for `e`, as `lpEncodeGetType` chooses.
fn enc_len(e: &[u8]) -> usize {
    if let Some(v) = parse_i64(e) {
        return int_enc_len(v);
    }
    let n = e.len();
    if n < 64 {
        1 + n
    } else if n < 4096 {
        2 + n
    } else {
        5 + n
    }
}

fn int_enc_len(v: i64) -> usize {
    if (0..=127).contains(&v) {
        1
    } else if (-4096..=4095).contains(&v) {
        2
    } else if (-32768..=32767).contains(&v) {
        3
    } else if (-8_388_608..=8_388_607).contains(&v) {
        4
    } else if (-2_147_483_648..=2_147_483_647).contains(&v) {
        5
    } else {
        9
    }
}

/// Bytes one element takes in a listpack (encoding, payload, backlen).
pub fn lp_entry_size(e: &[u8]) -> usize {
    let l = enc_len(e);
    l + backlen_size(l)
}

/// Appends `e` as a listpack entry.
fn encode(out: &mut Vec<u8>, e: &[u8]) {
    let start = out.len();
    if let Some(v) = parse_i64(e) {
        if (0..=127).contains(&v) {
            out.push(v as u8);
        } else if (-4096..=4095).contains(&v) {
            let u = (v as u64) & 0x1fff;
            out.extend_from_slice(&[0xC0 | (u >> 8) as u8, u as u8]);
        } else if (-32768..=32767).contains(&v) {
            out.push(0xF1);
            out.extend_from_slice(&(v as i16).to_le_bytes());
        } else if (-8_388_608..=8_388_607).contains(&v) {
            out.push(0xF2);
            out.extend_from_slice(&(v as i32).to_le_bytes()[..3]);
        } else if (-2_147_483_648..=2_147_483_647).contains(&v) {
            out.push(0xF3);
            out.extend_from_slice(&(v as i32).to_le_bytes());
        } else {
            out.push(0xF4);
            out.extend_from_slice(&v.to_le_bytes());
        }
    } else {
        let n = e.len();
        if n < 64 {
            out.push(0x80 | n as u8);
        } else if n < 4096 {
            out.extend_from_slice(&[0xE0 | (n >> 8) as u8, n as u8]);
        } else {
            out.push(0xF0);
            // Packed lists stay under 64 KB (the largest limit), far below u32::MAX.
            out.extend_from_slice(&(n as u32).to_le_bytes());
        }
        out.extend_from_slice(e);
    }
    let l = out.len() - start;
    // The backlen: the entry's size in 7-bit groups, most significant first; every byte but the
    // first has its high bit set, so a reader walking backwards knows when to stop.
    let size = backlen_size(l);
    for k in (0..size).rev() {
        let group = ((l >> (7 * k)) & 127) as u8;
        out.push(if k + 1 == size { group } else { group | 128 });
    }
}

/// Decodes the entry at `pos`: the element and the entry's total size.
#[inline]
fn decode(buf: &[u8], pos: usize) -> (Item<'_>, usize) {
    let b = buf[pos];
    let (item, enclen) = if b & 0x80 == 0 {
        (Item::Int(b as i64), 1)
    } else if b & 0xC0 == 0x80 {
        let n = (b & 0x3f) as usize;
        (Item::Str(&buf[pos + 1..pos + 1 + n]), 1 + n)
    } else if b & 0xE0 == 0xC0 {
        let u = (((b & 0x1f) as i64) << 8) | buf[pos + 1] as i64;
        (Item::Int(if u >= 1 << 12 { u - (1 << 13) } else { u }), 2)
    } else if b & 0xF0 == 0xE0 {
        let n = (((b & 0x0f) as usize) << 8) | buf[pos + 1] as usize;
        (Item::Str(&buf[pos + 2..pos + 2 + n]), 2 + n)
    } else {
        let le = |n: usize| {
            let mut a = [0u8; 8];
            a[..n].copy_from_slice(&buf[pos + 1..pos + 1 + n]);
            u64::from_le_bytes(a)
        };
        match b {
            0xF1 => (Item::Int(le(2) as u16 as i16 as i64), 3),
            0xF2 => (Item::Int(((le(3) as u32) << 8) as i32 as i64 >> 8), 4),
            0xF3 => (Item::Int(le(4) as u32 as i32 as i64), 5),
            0xF4 => (Item::Int(le(8) as i64), 9),
            _ => {
                let n = le(4) as usize;
                (Item::Str(&buf[pos + 5..pos + 5 + n]), 5 + n)
            }
        }
    };
    (item, enclen + backlen_size(enclen))
}

/// The start of the entry that ends at `end` (read from its backlen).
#[inline]
fn prev_start(buf: &[u8], end: usize) -> usize {
    let mut p = end - 1;
    let mut val = 0usize;
    let mut shift = 0;
    loop {
        let b = buf[p];
        val |= ((b & 127) as usize) << shift;
        if b & 128 == 0 {
            break;
        }
        shift += 7;
        p -= 1;
    }
    end - val - backlen_size(val)
}

/// Size and count limits of one quicklist node for `list-max-listpack-size` (`quicklistNodeLimit`).
fn node_limit(fill: i64) -> (usize, usize) {
    if fill >= 0 {
        (usize::MAX, if fill == 0 { 1 } else { fill as usize })
    } else {
        let levels = [4096, 8192, 16384, 32768, 65536];
        let off = ((-(fill as i128)) - 1).min(4) as usize;
        (levels[off], usize::MAX)
    }
}

/// `quicklistNodeExceedsLimit`.
fn exceeds(fill: i64, sz: usize, count: usize) -> bool {
    let (sz_limit, count_limit) = node_limit(fill);
    if sz_limit != usize::MAX {
        sz > sz_limit
    } else {
        sz > SIZE_SAFETY_LIMIT || count > count_limit
    }
}

/// A list too big for a listpack.
#[derive(Debug, Clone, Default)]
pub struct Deque {
    items: BlockDeque<SmallBytes>,
    /// Listpack bytes of the entries (what a single quicklist node holding them would measure).
    bytes: usize,
}

#[derive(Debug, Clone)]
pub enum ListValue {
    /// `[count: u16 LE][listpack entries]`; empty when the list is.
    Packed(Packed),
    Deque(Box<Deque>),
}

impl Default for ListValue {
    fn default() -> Self {
        ListValue::Packed(Packed::new())
    }
}

impl PartialEq for ListValue {
    fn eq(&self, other: &ListValue) -> bool {
        self.len() == other.len()
            && self
                .iter()
                .zip(other.iter())
                .all(|(a, b)| a.to_bytes() == b.to_bytes())
    }
}

#[inline]
fn packed_count(p: &Packed) -> usize {
    match p.as_slice() {
        [a, b, ..] => u16::from_le_bytes([*a, *b]) as usize,
        _ => 0,
    }
}

/// Writes a packed buffer: header + entries.
fn build_packed(count: usize, entries: &[u8]) -> Packed {
    let mut v = Vec::with_capacity(HDR + entries.len());
    v.extend_from_slice(&(count as u16).to_le_bytes());
    v.extend_from_slice(entries);
    Packed::from_slice(&v)
}

fn set_count(p: &mut Packed, count: usize) {
    p.as_mut_slice()[..HDR].copy_from_slice(&(count as u16).to_le_bytes());
}

/// Byte offset of entry `i` (`i <= count`; `count` gives the end), walking from the nearer end.
fn seek(buf: &[u8], count: usize, i: usize) -> usize {
    if i <= count / 2 {
        let mut pos = HDR;
        for _ in 0..i {
            pos += decode(buf, pos).1;
        }
        pos
    } else {
        let mut pos = buf.len();
        for _ in i..count {
            pos = prev_start(buf, pos);
        }
        pos
    }
}

impl ListValue {
    pub fn new() -> ListValue {
        ListValue::default()
    }

    #[inline]
    pub fn len(&self) -> usize {
        match self {
            ListValue::Packed(p) => packed_count(p),
            ListValue::Deque(d) => d.items.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `listpack` or `quicklist`, as Redis 7.2 reports.
    pub fn encoding(&self) -> &'static str {
        match self {
            ListValue::Packed(_) => "listpack",
            ListValue::Deque(_) => "quicklist",
        }
    }

    /// Redis's `lpBytes` for these elements in one listpack.
    pub fn lp_bytes(&self) -> usize {
        match self {
            ListValue::Packed(p) => LP_OVERHEAD + p.len().saturating_sub(HDR),
            ListValue::Deque(d) => LP_OVERHEAD + d.bytes,
        }
    }

    /// Before adding `add` (elements of these lengths): a listpack that would pass
    /// `list-max-listpack-size` (`fill`) becomes a quicklist (`LIST_CONV_GROWING`). Like Redis, this
    /// counts the new elements' raw lengths.
    pub fn grow<'e>(&mut self, fill: i64, add: impl ExactSizeIterator<Item = &'e [u8]>) {
        let ListValue::Packed(p) = self else {
            return;
        };
        let n = add.len();
        let add_bytes: usize = add.map(|e| e.len()).sum();
        let count = packed_count(p);
        // The count header is 16 bits: a list that could reach it leaves the listpack whatever the
        // limit (Redis's own 16-bit count saturates there too).
        if exceeds(
            fill,
            LP_OVERHEAD + p.len().saturating_sub(HDR) + add_bytes,
            count + n,
        ) || count + n >= u16::MAX as usize
        {
            self.make_deque();
        }
    }

    /// After removing elements: a quicklist at or under half the limit becomes a listpack again
    /// (`LIST_CONV_SHRINKING`).
    pub fn shrink(&mut self, fill: i64) {
        let ListValue::Deque(d) = self else {
            return;
        };
        let (sz_limit, count_limit) = node_limit(fill);
        if LP_OVERHEAD + d.bytes > sz_limit / 2 || d.items.len() > count_limit / 2 {
            return;
        }
        self.make_packed();
    }

    /// A list built whole (SORT STORE): Redis pushes into a quicklist and keeps it a listpack when
    /// it ends up as one node (`LIST_CONV_AUTO`).
    pub fn from_elements<'e>(
        fill: i64,
        elems: impl Iterator<Item = &'e [u8]> + Clone,
    ) -> ListValue {
        let mut node_sz = LP_OVERHEAD;
        let mut count = 0usize;
        let mut one_node = true;
        for e in elems.clone() {
            if count > 0 && exceeds(fill, node_sz + e.len() + SIZE_ESTIMATE_OVERHEAD, count + 1) {
                one_node = false;
                break;
            }
            node_sz += lp_entry_size(e);
            count += 1;
        }
        let (sz_limit, count_limit) = node_limit(fill);
        let mut l = ListValue::Deque(Box::default());
        for e in elems {
            l.push(End::Right, e);
        }
        if one_node && node_sz <= sz_limit && count <= count_limit && count < u16::MAX as usize {
            l.make_packed();
        }
        l
    }

    fn make_deque(&mut self) {
        if let ListValue::Packed(p) = self {
            let items: BlockDeque<SmallBytes> = iter_packed(p).map(|i| i.to_small()).collect();
            let bytes = p.len().saturating_sub(HDR);
            *self = ListValue::Deque(Box::new(Deque { items, bytes }));
        }
    }

    fn make_packed(&mut self) {
        if let ListValue::Deque(d) = self {
            let mut entries = Vec::with_capacity(d.bytes);
            for e in &d.items {
                encode(&mut entries, e);
            }
            *self = ListValue::Packed(build_packed(d.items.len(), &entries));
        }
    }

    pub fn push(&mut self, end: End, e: &[u8]) {
        self.push_all(end, std::iter::once(e));
    }

    /// Pushes each element in turn at `end` (so LPUSH a b c leaves c first).
    pub fn push_all<'e>(&mut self, end: End, elems: impl Iterator<Item = &'e [u8]>) {
        match self {
            ListValue::Deque(d) => {
                for e in elems {
                    d.bytes += lp_entry_size(e);
                    let v = SmallBytes::new(e);
                    match end {
                        End::Left => d.items.push_front(v),
                        End::Right => d.items.push_back(v),
                    }
                }
            }
            ListValue::Packed(p) => {
                let mut entries = Vec::new();
                let mut n = 0;
                match end {
                    End::Right => {
                        for e in elems {
                            encode(&mut entries, e);
                            n += 1;
                        }
                    }
                    End::Left => {
                        // Each element goes before the previous one: encode them in reverse order.
                        let all: Vec<&[u8]> = elems.collect();
                        for e in all.iter().rev() {
                            encode(&mut entries, e);
                        }
                        n = all.len();
                    }
                }
                let count = packed_count(p) + n;
                if count >= u16::MAX as usize {
                    // Callers run `grow` first, which never lets a listpack get here; stay correct
                    // anyway rather than wrap the 16-bit count.
                    self.make_deque();
                    let block = PackedIter {
                        buf: &entries,
                        front: 0,
                        back: entries.len(),
                        left: n,
                    };
                    let block: Vec<SmallBytes> = block.map(|i| i.to_small()).collect();
                    if let ListValue::Deque(d) = self {
                        d.bytes += entries.len();
                        match end {
                            End::Left => {
                                block.into_iter().rev().for_each(|v| d.items.push_front(v))
                            }
                            End::Right => d.items.extend(block),
                        }
                    }
                    return;
                }
                if p.is_empty() {
                    *p = build_packed(count, &entries);
                    return;
                }
                match end {
                    End::Left => p.insert(HDR, &entries),
                    End::Right => p.extend(&entries),
                }
                set_count(p, count);
            }
        }
    }

    pub fn pop(&mut self, end: End) -> Option<SmallBytes> {
        let mut out = None;
        self.pop_each(end, 1, |i| out = Some(i.to_small()));
        out
    }

    /// Pops up to `n` elements from `end`, in the order popped.
    pub fn pop_many(&mut self, end: End, n: usize) -> Vec<SmallBytes> {
        let mut out = Vec::with_capacity(n.min(self.len()));
        self.pop_each(end, n, |i| out.push(i.to_small()));
        out
    }

    /// Pops up to `n` elements from `end`, handing each to `f` in the order popped (a listpack is
    /// cut once for all of them). Returns how many were popped.
    #[inline]
    pub fn pop_each(&mut self, end: End, n: usize, mut f: impl FnMut(Item<'_>)) -> usize {
        match self {
            ListValue::Deque(d) => {
                let n = n.min(d.items.len());
                for _ in 0..n {
                    let v = match end {
                        End::Left => d.items.pop_front(),
                        End::Right => d.items.pop_back(),
                    };
                    if let Some(v) = v {
                        d.bytes -= lp_entry_size(&v);
                        f(Item::Ref(&v));
                    }
                }
                n
            }
            ListValue::Packed(p) => {
                let count = packed_count(p);
                let n = n.min(count);
                if n == 0 {
                    return 0;
                }
                let buf = p.as_slice();
                let range = match end {
                    End::Left => {
                        let mut pos = HDR;
                        for _ in 0..n {
                            let (item, size) = decode(buf, pos);
                            f(item);
                            pos += size;
                        }
                        HDR..pos
                    }
                    End::Right => {
                        let mut pos = buf.len();
                        for _ in 0..n {
                            pos = prev_start(buf, pos);
                            f(decode(buf, pos).0);
                        }
                        pos..buf.len()
                    }
                };
                p.remove(range);
                set_count(p, count - n);
                n
            }
        }
    }

    /// Element `i`, or `None` past the end.
    pub fn get(&self, i: usize) -> Option<Item<'_>> {
        match self {
            ListValue::Deque(d) => d.items.get(i).map(Item::Ref),
            ListValue::Packed(p) => {
                let count = packed_count(p);
                (i < count).then(|| decode(p.as_slice(), seek(p.as_slice(), count, i)).0)
            }
        }
    }

    /// Replaces element `i`; false if out of range.
    pub fn set(&mut self, i: usize, e: &[u8]) -> bool {
        match self {
            ListValue::Deque(d) => {
                let Some(slot) = d.items.get_mut(i) else {
                    return false;
                };
                d.bytes = d.bytes - lp_entry_size(slot) + lp_entry_size(e);
                *slot = SmallBytes::new(e);
                true
            }
            ListValue::Packed(p) => {
                let count = packed_count(p);
                if i >= count {
                    return false;
                }
                let pos = seek(p.as_slice(), count, i);
                let size = decode(p.as_slice(), pos).1;
                let mut entry = Vec::with_capacity(lp_entry_size(e));
                encode(&mut entry, e);
                p.splice(pos..pos + size, &entry);
                true
            }
        }
    }

    /// Inserts `e` before element `i` (`i == len` appends).
    pub fn insert(&mut self, i: usize, e: &[u8]) {
        match self {
            ListValue::Deque(d) => {
                d.bytes += lp_entry_size(e);
                d.items.insert(i, SmallBytes::new(e));
            }
            ListValue::Packed(p) => {
                let count = packed_count(p);
                if p.is_empty() || i >= count || count + 1 >= u16::MAX as usize {
                    if i >= count {
                        self.push(End::Right, e);
                    } else {
                        self.make_deque();
                        self.insert(i, e);
                    }
                    return;
                }
                let pos = seek(p.as_slice(), count, i);
                let mut entry = Vec::with_capacity(lp_entry_size(e));
                encode(&mut entry, e);
                p.insert(pos, &entry);
                set_count(p, count + 1);
            }
        }
    }

    pub fn iter(&self) -> Iter<'_> {
        match self {
            ListValue::Packed(p) => Iter::Packed(iter_packed(p)),
            ListValue::Deque(d) => Iter::Deque(d.items.iter()),
        }
    }

    /// Elements `start..=stop` (already clamped by the caller).
    pub fn range(&self, start: usize, stop: usize) -> impl Iterator<Item = Item<'_>> {
        let take = (stop + 1).saturating_sub(start);
        let it = match self {
            ListValue::Packed(p) => {
                let count = packed_count(p);
                let buf = p.as_slice();
                let start = start.min(count);
                Iter::Packed(PackedIter {
                    buf,
                    front: if count == 0 {
                        buf.len()
                    } else {
                        seek(buf, count, start)
                    },
                    back: buf.len(),
                    left: count - start,
                })
            }
            ListValue::Deque(d) => Iter::Deque(d.items.range_from(start.min(d.items.len()))),
        };
        it.take(take)
    }

    /// Calls `f` on elements `start..=stop` (clamped by the caller) in order: one tight loop per
    /// representation (LRANGE on a long list is the hot path redis-benchmark measures).
    #[inline]
    pub fn range_each(&self, start: usize, stop: usize, mut f: impl FnMut(Item<'_>)) {
        match self {
            ListValue::Deque(d) => {
                let stop = stop.min(d.items.len().saturating_sub(1));
                if start <= stop {
                    d.items.range(start..=stop).for_each(|v| f(Item::Ref(v)));
                }
            }
            ListValue::Packed(_) => self.range(start, stop).for_each(f),
        }
    }

    /// Elements `start..=stop` (clamped by the caller) of a block list as stored, in contiguous
    /// runs, or `None` for a listpack: lets LRANGE on a long list copy its replies out in plain
    /// slice loops.
    pub fn block_slices(
        &self,
        start: usize,
        stop: usize,
    ) -> Option<impl Iterator<Item = &[SmallBytes]> + '_> {
        match self {
            ListValue::Deque(d) => {
                let n = d.items.len();
                let start = start.min(n);
                Some(
                    d.items
                        .range_slices(start..stop.saturating_add(1).clamp(start, n)),
                )
            }
            ListValue::Packed(_) => None,
        }
    }

    /// Index of the first element equal to `e`, searching from the head.
    pub fn position(&self, e: &[u8]) -> Option<usize> {
        let n = Needle::new(e);
        self.iter().position(|i| i.matches(&n))
    }

    /// Removes up to `count` elements equal to `e` (0 = all), from the head if `from_head`.
    pub fn remove_matching(&mut self, e: &[u8], count: usize, from_head: bool) -> usize {
        let limit = if count == 0 { usize::MAX } else { count };
        let needle = Needle::new(e);
        match self {
            ListValue::Deque(d) => {
                // One compaction pass (O(n) however many match), not a shift per match.
                let removed = d
                    .items
                    .remove_where(limit, !from_head, |v| v.as_slice() == e);
                d.bytes -= removed * lp_entry_size(e);
                removed
            }
            ListValue::Packed(p) => {
                let count = packed_count(p);
                let buf = p.as_slice();
                // Entry ranges of the matches, in list order.
                let mut hits: Vec<(usize, usize)> = Vec::new();
                let mut pos = HDR;
                for _ in 0..count {
                    let (item, size) = decode(buf, pos);
                    if item.matches(&needle) {
                        hits.push((pos, pos + size));
                    }
                    pos += size;
                }
                let hits: &[(usize, usize)] = if hits.len() <= limit {
                    &hits
                } else if from_head {
                    &hits[..limit]
                } else {
                    &hits[hits.len() - limit..]
                };
                if hits.is_empty() {
                    return 0;
                }
                let mut out = Vec::with_capacity(buf.len());
                out.extend_from_slice(&((count - hits.len()) as u16).to_le_bytes());
                let mut from = HDR;
                for &(s, e) in hits {
                    out.extend_from_slice(&buf[from..s]);
                    from = e;
                }
                out.extend_from_slice(&buf[from..]);
                let removed = hits.len();
                *p = Packed::from_slice(&out);
                removed
            }
        }
    }

    /// Keeps only elements `start..=stop` (clamped by the caller); empty if `start > stop`.
    pub fn trim(&mut self, start: usize, stop: usize) {
        if start > stop || start >= self.len() {
            *self = ListValue::new();
            return;
        }
        match self {
            ListValue::Deque(d) => {
                // Subtract what goes: no more work than dropping it (LTRIM keeping a capped list
                // short removes a few elements of many).
                let stop = stop.min(d.items.len() - 1);
                let gone: usize = d
                    .items
                    .range(..start)
                    .chain(d.items.range(stop + 1..))
                    .map(|e| lp_entry_size(e))
                    .sum();
                d.bytes -= gone;
                d.items.truncate(stop + 1);
                d.items.drop_front(start);
            }
            ListValue::Packed(p) => {
                let count = packed_count(p);
                let stop = stop.min(count - 1);
                let buf = p.as_slice();
                let s = seek(buf, count, start);
                let e = seek(buf, count, stop + 1);
                *p = build_packed(stop + 1 - start, &buf[s..e]);
            }
        }
    }

    /// Heap bytes held (MEMORY USAGE): the listpack buffer, or the blocks (all their slots, used or
    /// not), the outer deque of blocks and the box, plus, from up to `samples` elements (0: all),
    /// the extrapolated bytes of elements too long to sit inline.
    pub fn heap_bytes(&self, samples: usize) -> usize {
        match self {
            ListValue::Packed(p) => p.heap_bytes(),
            ListValue::Deque(d) => {
                let own = std::mem::size_of::<Deque>() + d.items.heap_bytes();
                let n = d.items.len();
                if n == 0 {
                    return own;
                }
                let take = if samples == 0 { n } else { samples.min(n) };
                let sampled: usize = d.items.iter().take(take).map(super::heap_len).sum();
                own + sampled * n / take
            }
        }
    }
}

fn iter_packed(p: &Packed) -> PackedIter<'_> {
    let buf = p.as_slice();
    PackedIter {
        buf,
        front: HDR.min(buf.len()),
        back: buf.len(),
        left: packed_count(p),
    }
}

/// Walks a packed list from both ends.
pub struct PackedIter<'a> {
    buf: &'a [u8],
    front: usize,
    back: usize,
    left: usize,
}

impl<'a> Iterator for PackedIter<'a> {
    type Item = Item<'a>;

    #[inline]
    fn next(&mut self) -> Option<Item<'a>> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let (item, size) = decode(self.buf, self.front);
        self.front += size;
        Some(item)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl<'a> DoubleEndedIterator for PackedIter<'a> {
    fn next_back(&mut self) -> Option<Item<'a>> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        self.back = prev_start(self.buf, self.back);
        Some(decode(self.buf, self.back).0)
    }
}

/// A list's elements in order, from either end.
pub enum Iter<'a> {
    Packed(PackedIter<'a>),
    Deque(blocks::Iter<'a, SmallBytes>),
}

impl<'a> Iterator for Iter<'a> {
    type Item = Item<'a>;

    #[inline]
    fn next(&mut self) -> Option<Item<'a>> {
        match self {
            Iter::Packed(p) => p.next(),
            Iter::Deque(d) => d.next().map(Item::Ref),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match self {
            Iter::Packed(p) => p.size_hint(),
            Iter::Deque(d) => d.size_hint(),
        }
    }
}

impl<'a> DoubleEndedIterator for Iter<'a> {
    fn next_back(&mut self) -> Option<Item<'a>> {
        match self {
            Iter::Packed(p) => p.next_back(),
            Iter::Deque(d) => d.next_back().map(Item::Ref),
        }
    }
}

impl ExactSizeIterator for Iter<'_> {}

/// Converts Redis-style `start`/`stop` indices (negative from the end) into a clamped inclusive range,
/// or `None` when the range is empty.
pub fn clamp_range(start: i64, stop: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let mut start = if start < 0 { len + start } else { start };
    let mut stop = if stop < 0 { len + stop } else { stop };
    if start < 0 {
        start = 0;
    }
    if start > stop || start >= len {
        return None;
    }
    if stop >= len {
        stop = len - 1;
    }
    Some((start as usize, stop as usize))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::VecDeque;

    #[test]
    fn stays_unboxed() {
        assert_eq!(std::mem::size_of::<ListValue>(), 16);
    }

    #[test]
    fn entries_round_trip_with_redis_sizes() {
        let cases: Vec<Vec<u8>> = [
            "0",
            "1",
            "127",
            "128",
            "-1",
            "4095",
            "-4096",
            "4096",
            "-4097",
            "32767",
            "-32768",
            "32768",
            "8388607",
            "-8388608",
            "8388608",
            "2147483647",
            "-2147483648",
            "2147483648",
            "9223372036854775807",
            "-9223372036854775808",
            "9223372036854775808",
            "01",
            "-0",
            "+1",
            "",
            "a",
            "hello",
        ]
        .iter()
        .map(|s| s.as_bytes().to_vec())
        .chain([
            vec![b'x'; 63],
            vec![b'x'; 64],
            vec![b'y'; 4095],
            vec![b'z'; 4096],
            vec![b'w'; 20000],
        ])
        .collect();
        // Sizes Redis's listpack gives (encoding + payload + backlen).
        let want = [
            2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 6, 6, 6, 10, 10, 10, 21, 4, 4, 4, 2, 3, 7,
            65, 67, 4099, 4103, 20008,
        ];
        for (e, w) in cases.iter().zip(want) {
            let mut buf = vec![0, 0];
            encode(&mut buf, e);
            assert_eq!(
                buf.len() - 2,
                w,
                "{:?}",
                String::from_utf8_lossy(&e[..e.len().min(20)])
            );
            assert_eq!(lp_entry_size(e), w);
            let (item, size) = decode(&buf, 2);
            assert_eq!(size, w);
            assert_eq!(item.to_vec(), *e);
            assert_eq!(prev_start(&buf, buf.len()), 2);
        }
    }

    #[derive(Debug, Clone)]
    enum Op {
        Push(bool, Vec<Vec<u8>>),
        Pop(bool, usize),
        Set(usize, Vec<u8>),
        Insert(usize, Vec<u8>),
        Remove(Vec<u8>, usize, bool),
        Trim(i64, i64),
        Get(usize),
        Range(i64, i64),
        Position(Vec<u8>),
    }

    fn elem() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            4 => prop::collection::vec(prop::sample::select(vec![b'a', b'b', b'1']), 0..4),
            2 => any::<i64>().prop_map(|i| i.to_string().into_bytes()),
            2 => (-40000i64..40000).prop_map(|i| i.to_string().into_bytes()),
            1 => (0usize..300).prop_map(|n| vec![b'q'; n]),
            1 => (4000usize..5000).prop_map(|n| vec![b'L'; n]),
        ]
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => (any::<bool>(), prop::collection::vec(elem(), 1..6)).prop_map(|(l, e)| Op::Push(l, e)),
            2 => (any::<bool>(), 0usize..4).prop_map(|(l, n)| Op::Pop(l, n)),
            1 => (0usize..20, elem()).prop_map(|(i, e)| Op::Set(i, e)),
            1 => (0usize..20, elem()).prop_map(|(i, e)| Op::Insert(i, e)),
            1 => (elem(), 0usize..3, any::<bool>()).prop_map(|(e, c, h)| Op::Remove(e, c, h)),
            1 => (-10i64..10, -10i64..10).prop_map(|(a, b)| Op::Trim(a, b)),
            1 => (0usize..20).prop_map(Op::Get),
            1 => (-10i64..10, -10i64..10).prop_map(|(a, b)| Op::Range(a, b)),
            1 => elem().prop_map(Op::Position),
        ]
    }

    /// What the encoding must be after an operation, tracked the way Redis decides it.
    fn check(l: &ListValue, model: &VecDeque<Vec<u8>>) -> Result<(), TestCaseError> {
        prop_assert_eq!(l.len(), model.len());
        let bytes: usize = model.iter().map(|e| lp_entry_size(e)).sum();
        prop_assert_eq!(l.lp_bytes(), LP_OVERHEAD + bytes);
        let items: Vec<Vec<u8>> = l.iter().map(|v| v.to_vec()).collect();
        prop_assert_eq!(&items, &model.iter().cloned().collect::<Vec<_>>());
        let back: Vec<Vec<u8>> = l.iter().rev().map(|v| v.to_vec()).collect();
        prop_assert_eq!(back, model.iter().rev().cloned().collect::<Vec<_>>());
        Ok(())
    }

    proptest! {
        #[test]
        fn behaves_like_a_vecdeque(
            fill in prop::sample::select(vec![-1i64, -2, 0, 1, 3, 8, 128]),
            ops in prop::collection::vec(op(), 0..150),
        ) {
            let mut l = ListValue::new();
            let mut model: VecDeque<Vec<u8>> = VecDeque::new();
            for o in ops {
                let before = l.encoding();
                match o {
                    Op::Push(left, es) => {
                        let raw: usize = es.iter().map(|e| e.len()).sum();
                        let grows = before == "listpack"
                            && exceeds(fill, l.lp_bytes() + raw, l.len() + es.len());
                        l.grow(fill, es.iter().map(|e| &e[..]));
                        prop_assert_eq!(l.encoding(), if grows || before == "quicklist" { "quicklist" } else { "listpack" });
                        l.push_all(if left { End::Left } else { End::Right }, es.iter().map(|e| &e[..]));
                        for e in es {
                            if left { model.push_front(e) } else { model.push_back(e) }
                        }
                    }
                    Op::Pop(left, n) => {
                        let got: Vec<Vec<u8>> = l.pop_many(if left { End::Left } else { End::Right }, n)
                            .iter().map(|v| v.to_vec()).collect();
                        let mut want = Vec::new();
                        for _ in 0..n {
                            if let Some(v) = if left { model.pop_front() } else { model.pop_back() } {
                                want.push(v);
                            }
                        }
                        prop_assert_eq!(got, want);
                        l.shrink(fill);
                    }
                    Op::Set(i, e) => {
                        l.grow(fill, std::iter::once(&e[..]));
                        prop_assert_eq!(l.set(i, &e), i < model.len());
                        if i < model.len() { model[i] = e; }
                        l.shrink(fill);
                    }
                    Op::Insert(i, e) => {
                        if i <= model.len() {
                            l.grow(fill, std::iter::once(&e[..]));
                            l.insert(i, &e);
                            model.insert(i, e);
                        }
                    }
                    Op::Remove(e, count, head) => {
                        let n = l.remove_matching(&e, count, head);
                        let limit = if count == 0 { usize::MAX } else { count };
                        let mut removed = 0;
                        if head {
                            let mut i = 0;
                            while i < model.len() && removed < limit {
                                if model[i] == e { model.remove(i); removed += 1; } else { i += 1; }
                            }
                        } else {
                            let mut i = model.len();
                            while i > 0 && removed < limit { i -= 1; if model[i] == e { model.remove(i); removed += 1; } }
                        }
                        prop_assert_eq!(n, removed);
                        l.shrink(fill);
                    }
                    Op::Trim(a, b) => {
                        match clamp_range(a, b, model.len()) {
                            Some((s, e)) => { l.trim(s, e); model = model.range(s..=e).cloned().collect(); }
                            None => { l.trim(1, 0); model.clear(); }
                        }
                        l.shrink(fill);
                    }
                    Op::Get(i) => {
                        prop_assert_eq!(l.get(i).map(|v| v.to_vec()), model.get(i).cloned());
                    }
                    Op::Range(a, b) => {
                        let got: Vec<Vec<u8>> = match clamp_range(a, b, l.len()) {
                            Some((s, e)) => l.range(s, e).map(|v| v.to_vec()).collect(),
                            None => vec![],
                        };
                        let want: Vec<Vec<u8>> = match clamp_range(a, b, model.len()) {
                            Some((s, e)) => model.range(s..=e).cloned().collect(),
                            None => vec![],
                        };
                        // LRANGE's path on a block list: the stored runs.
                        if let Some((s, e)) = clamp_range(a, b, l.len()) {
                            if let Some(runs) = l.block_slices(s, e) {
                                let flat: Vec<Vec<u8>> = runs.flatten().map(|v| v.to_vec()).collect();
                                prop_assert_eq!(&flat, &want);
                            }
                        }
                        prop_assert_eq!(got, want);
                    }
                    Op::Position(e) => {
                        prop_assert_eq!(l.position(&e), model.iter().position(|x| *x == e));
                    }
                }
                if l.encoding() == "listpack" && before == "quicklist" {
                    // Converted back: only at or under half the limit.
                    let (sz, cnt) = node_limit(fill);
                    prop_assert!(l.lp_bytes() <= sz / 2 && l.len() <= cnt / 2);
                }
                if l.is_empty() {
                    // The key is deleted when a list empties: start again from a new listpack.
                    l = ListValue::new();
                }
                check(&l, &model)?;
            }
        }
    }

    #[test]
    fn encoding_converts_both_ways() {
        let mut l = ListValue::new();
        for _ in 0..100 {
            l.grow(-2, std::iter::once(&[b'x'; 100][..]));
            l.push(End::Right, &[b'x'; 100]);
        }
        assert_eq!(l.encoding(), "quicklist");
        while l.len() > 30 {
            l.pop(End::Left);
            l.shrink(-2);
        }
        assert_eq!(l.encoding(), "listpack");
        assert_eq!(l.len(), 30);
        let mut l = ListValue::new();
        for _ in 0..5 {
            l.grow(4, std::iter::once(&b"a"[..]));
            l.push(End::Right, b"a");
        }
        assert_eq!(l.encoding(), "quicklist");
        l.pop(End::Left);
        l.pop(End::Left);
        l.shrink(4);
        assert_eq!(l.encoding(), "quicklist");
        l.pop(End::Left);
        l.shrink(4);
        assert_eq!(l.encoding(), "listpack");
        assert_eq!(
            l.iter().map(|i| i.to_vec()).collect::<Vec<_>>(),
            [b"a", b"a"]
        );
    }

    #[test]
    fn built_whole_is_a_listpack_when_it_fits_one_node() {
        let small: Vec<&[u8]> = vec![b"a", b"10", b"c"];
        assert_eq!(
            ListValue::from_elements(-2, small.iter().copied()).encoding(),
            "listpack"
        );
        assert_eq!(
            ListValue::from_elements(2, small.iter().copied()).encoding(),
            "quicklist"
        );
        let l = ListValue::from_elements(3, small.iter().copied());
        assert_eq!(l.encoding(), "listpack");
        assert_eq!(
            l.iter().map(|i| i.to_vec()).collect::<Vec<_>>(),
            [&b"a"[..], b"10", b"c"]
        );
    }

    /// LREM on a block list: which elements go for a positive, negative and zero count, and the
    /// listpack size kept in step.
    #[test]
    fn remove_matching_on_a_block_list() {
        // Long enough to span several blocks, with the matches in the first, middle and last.
        let mut items: Vec<Vec<u8>> = (0..1000).map(|i| format!("e{i}").into_bytes()).collect();
        for i in [0, 3, 255, 256, 257, 511, 600, 998, 999] {
            items[i] = b"x".to_vec();
        }
        items[500] = b"-7".to_vec();
        let list = || {
            let mut l = ListValue::new();
            l.grow(128, items.iter().map(|e| &e[..]));
            l.push_all(End::Right, items.iter().map(|e| &e[..]));
            assert_eq!(l.encoding(), "quicklist");
            l
        };
        let positions = |l: &ListValue, e: &[u8]| -> Vec<usize> {
            l.iter()
                .enumerate()
                .filter(|(_, v)| v.to_vec() == e)
                .map(|(i, _)| i)
                .collect()
        };
        let after = |count: usize, from_head: bool, e: &[u8]| {
            let mut l = list();
            let n = l.remove_matching(e, count, from_head);
            let bytes: usize = l.iter().map(|v| lp_entry_size(&v.to_vec())).sum();
            assert_eq!(l.lp_bytes(), LP_OVERHEAD + bytes);
            assert_eq!(l.len(), items.len() - n);
            (n, l)
        };
        // LREM l 2 x: the first two.
        let (n, l) = after(2, true, b"x");
        assert_eq!(n, 2);
        assert_eq!(positions(&l, b"x"), [253, 254, 255, 509, 598, 996, 997]);
        assert_eq!(l.get(0).map(|v| v.to_vec()), Some(b"e1".to_vec()));
        // LREM l -3 x: the last three.
        let (n, l) = after(3, false, b"x");
        assert_eq!(n, 3);
        assert_eq!(positions(&l, b"x"), [0, 3, 255, 256, 257, 511]);
        assert_eq!(l.get(996).map(|v| v.to_vec()), Some(b"e997".to_vec()));
        // LREM l 0 x: all of them, whichever end.
        for from_head in [true, false] {
            let (n, l) = after(0, from_head, b"x");
            assert_eq!(n, 9);
            assert!(positions(&l, b"x").is_empty());
            let want: Vec<Vec<u8>> = items.iter().filter(|e| *e != b"x").cloned().collect();
            assert_eq!(l.iter().map(|v| v.to_vec()).collect::<Vec<_>>(), want);
        }
        // More asked than there are; an integer-looking element; no match at all.
        assert_eq!(after(50, false, b"x").0, 9);
        let (n, l) = after(1, true, b"-7");
        assert_eq!(n, 1);
        assert_eq!(l.get(500).map(|v| v.to_vec()), Some(b"e501".to_vec()));
        assert_eq!(after(0, true, b"nope").0, 0);
    }

    #[test]
    fn ranges() {
        assert_eq!(clamp_range(0, -1, 3), Some((0, 2)));
        assert_eq!(clamp_range(-100, 100, 3), Some((0, 2)));
        assert_eq!(clamp_range(2, 1, 3), None);
        assert_eq!(clamp_range(5, 10, 3), None);
        assert_eq!(clamp_range(i64::MIN, i64::MAX, 3), Some((0, 2)));
        assert_eq!(clamp_range(0, 0, 0), None);
    }
}
