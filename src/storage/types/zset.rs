//! Sorted sets: members ordered by `(score, member)`, with O(log n) rank operations.
//!
//! Why it is built this way (after Redis's `t_zset.c`):
//! * Small sets use the `listpack` encoding ([`Zpack`]): `(score, member)` entries, sorted, packed in
//!   one exactly-sized buffer, integer scores as one-byte-or-so varints (five members `m1`..`m5` with
//!   scores 1..5 are 21 bytes, where a `Vec` of `(f64, SmallBytes)` took 160 plus its header). Every
//!   operation is a scan over at most `zset-max-listpack-entries` entries, as Redis's listpack, which
//!   beats any pointer structure at that size; descending ranges note the offsets they walk, since the
//!   entries carry no back links.
//! * Past the thresholds (`zset-max-listpack-entries`, `zset-max-listpack-value`) a set converts, one way,
//!   to the `skiplist` encoding: a [`Dict`] from member to score (O(1) ZSCORE, and ZSCAN's cursor
//!   guarantee through `scan_step`) plus a skiplist with spans, as Redis's `zskiplist`, so rank lookups,
//!   rank-to-element and range counts are all O(log n). The skiplist ([`super::skiplist`]) keeps each
//!   node, its levels and its member in one record of a flat arena, so a search step costs one cache
//!   miss.
//! * Ranges by score or by lex are answered as rank ranges: [`ZSet::count_before`] counts the prefix of
//!   the order for which a monotone predicate holds (O(log n) on the skiplist), so ZCOUNT, ZRANGEBYSCORE,
//!   ZREMRANGEBYLEX ... all reduce to "count below min, count below max, walk between".
//!
//! Scores are never NaN here: callers refuse NaN before it reaches the set.

use super::skiplist::{SkipList, NIL};
use crate::smallbytes::SmallBytes;
use crate::storage::dict::Dict;
use crate::storage::hash_key;
use crate::storage::types::packed::{get_varint, put_varint, Packed};

/// The conversion thresholds (`zset-max-listpack-entries`, `zset-max-listpack-value`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub entries: usize,
    pub value: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            entries: 128,
            value: 64,
        }
    }
}

/// Whether `(s1, m1)` sorts before `(s2, m2)`: by score, ties broken by member bytes.
#[inline]
fn before(s1: f64, m1: &[u8], s2: f64, m2: &[u8]) -> bool {
    s1 < s2 || (s1 == s2 && m1 < m2)
}

/// The full encoding: member → score, plus the order.
pub struct Big {
    dict: Dict<f64>,
    list: SkipList,
}

impl Clone for Big {
    fn clone(&self) -> Self {
        let mut dict = Dict::new();
        for n in self.dict.iter() {
            dict.insert_new(hash_key(&n.key), n.key.clone(), n.entry);
        }
        Big {
            dict,
            list: self.list.clone(),
        }
    }
}

impl std::fmt::Debug for Big {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Big({} members)", self.list.len)
    }
}

/// The `listpack` encoding: `(score, member)` entries sorted by score then member, in one counted
/// [`Packed`] buffer (a varint entry count, then the entries; empty set, empty buffer). Each entry is
/// a score then `varint(len) member`. A score that is an integer below 2^62 in magnitude is one
/// varint `zigzag(score) << 1` (one byte for -31..=31); any other score is the byte 1 followed by
/// its 8 IEEE bytes (infinities and fractions come back bit for bit). -0 is stored as 0, as Redis's
/// listpack stores it (`ZADD z -0 m` then `ZSCORE z m` answers `0` until the set converts; the
/// skiplist keeps -0, as Redis's does).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Zpack {
    buf: Packed,
}

/// One decoded entry: where it starts and ends in the buffer, its score and member.
struct ZEntry<'a> {
    at: usize,
    end: usize,
    score: f64,
    member: &'a [u8],
}

/// Integers up to this magnitude are stored as varints (their zigzag form, shifted, fits in 64 bits).
const INT_SCORE_LIMIT: f64 = 4_611_686_018_427_387_904.0; // 2^62

/// Appends `score`'s encoding.
fn put_score(out: &mut Vec<u8>, score: f64) {
    if score.fract() == 0.0 && score.abs() < INT_SCORE_LIMIT {
        let i = score as i64;
        let zz = ((i << 1) ^ (i >> 63)) as u64;
        if let Ok(h) = usize::try_from(zz << 1) {
            put_varint(out, h);
            return;
        }
    }
    out.push(1);
    out.extend_from_slice(&score.to_bits().to_le_bytes());
}

/// Reads a score at `pos`: `(score, position after it)`.
#[inline]
fn get_score(buf: &[u8], pos: usize) -> (f64, usize) {
    let (h, p) = get_varint(buf, pos);
    if h & 1 == 0 {
        let zz = (h >> 1) as u64;
        let i = ((zz >> 1) as i64) ^ -((zz & 1) as i64);
        (i as f64, p)
    } else {
        let mut b = [0u8; 8];
        b.copy_from_slice(&buf[p..p + 8]);
        (f64::from_bits(u64::from_le_bytes(b)), p + 8)
    }
}

fn encode_entry(score: f64, member: &[u8]) -> Vec<u8> {
    let mut e = Vec::with_capacity(member.len() + 11);
    put_score(&mut e, score);
    put_varint(&mut e, member.len());
    e.extend_from_slice(member);
    e
}

/// Decodes the entry at `pos` (which is inside the body).
#[inline]
fn entry_at(buf: &[u8], pos: usize) -> ZEntry<'_> {
    let (score, p) = get_score(buf, pos);
    let (n, m) = get_varint(buf, p);
    ZEntry {
        at: pos,
        end: m + n,
        score,
        member: &buf[m..m + n],
    }
}

impl Zpack {
    #[inline]
    pub fn len(&self) -> usize {
        self.buf.count()
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// The entries in order.
    fn entries(&self) -> impl Iterator<Item = ZEntry<'_>> {
        let buf = self.buf.as_slice();
        let mut pos = self.buf.body();
        std::iter::from_fn(move || {
            (pos < buf.len()).then(|| {
                let e = entry_at(buf, pos);
                pos = e.end;
                e
            })
        })
    }

    /// `member`'s rank and entry.
    fn find(&self, member: &[u8]) -> Option<(usize, ZEntry<'_>)> {
        self.entries().enumerate().find(|(_, e)| e.member == member)
    }

    /// Byte offset where `(score, member)` belongs (the first entry not before it).
    fn insert_pos(&self, score: f64, member: &[u8]) -> usize {
        self.entries()
            .find(|e| !before(e.score, e.member, score, member))
            .map_or(self.buf.len(), |e| e.at)
    }

    /// Byte offset of the entry of rank `r` (the end of the buffer if there is none).
    fn offset_of(&self, r: usize) -> usize {
        self.entries().nth(r).map_or(self.buf.len(), |e| e.at)
    }

    fn heap_bytes(&self) -> usize {
        self.buf.heap_bytes()
    }
}

impl std::fmt::Debug for Zpack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(
                self.entries()
                    .map(|e| (e.score, String::from_utf8_lossy(e.member))),
            )
            .finish()
    }
}

/// A sorted set in one of Redis's two encodings.
#[derive(Debug, Clone)]
pub enum ZSet {
    /// Sorted by `(score, member)`.
    Listpack(Zpack),
    Skiplist(Box<Big>),
}

impl ZSet {
    /// See [`crate::storage::value::Value::prefetch_member`].
    pub fn prefetch_member(&self, hash: u64, node: bool) {
        if let ZSet::Skiplist(b) = self {
            b.dict.prefetch(hash, node);
        }
    }
}

impl PartialEq for ZSet {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len()
            && self
                .iter()
                .zip(other.iter())
                .all(|(a, b)| a.0 == b.0 && a.1 == b.1)
    }
}

impl Default for ZSet {
    fn default() -> Self {
        ZSet::new()
    }
}

impl ZSet {
    pub fn new() -> ZSet {
        ZSet::Listpack(Zpack::default())
    }

    /// An empty set in the encoding Redis 7.2's `zsetTypeCreate` picks for `size_hint` elements whose
    /// longest member has `max_len` bytes.
    pub fn with_hint(size_hint: usize, max_len: usize, limits: Limits) -> ZSet {
        if size_hint <= limits.entries && max_len <= limits.value && limits.entries > 0 {
            ZSet::Listpack(Zpack::default())
        } else {
            ZSet::Skiplist(Box::new(Big {
                dict: Dict::new(),
                list: SkipList::new(),
            }))
        }
    }

    pub fn len(&self) -> usize {
        match self {
            ZSet::Listpack(v) => v.len(),
            ZSet::Skiplist(b) => b.list.len,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The name `OBJECT ENCODING` reports.
    pub fn encoding(&self) -> &'static str {
        match self {
            ZSet::Listpack(_) => "listpack",
            ZSet::Skiplist(_) => "skiplist",
        }
    }

    pub fn score(&self, member: &[u8]) -> Option<f64> {
        match self {
            ZSet::Listpack(v) => v.find(member).map(|(_, e)| e.score),
            ZSet::Skiplist(b) => b.dict.get(hash_key(member), member).map(|n| n.entry),
        }
    }

    fn convert(&mut self) {
        if let ZSet::Listpack(v) = self {
            let mut big = Big {
                dict: Dict::new(),
                list: SkipList::new(),
            };
            for e in v.entries() {
                big.dict
                    .insert_new(hash_key(e.member), SmallBytes::new(e.member), e.score);
                big.list.insert(e.score, e.member);
            }
            *self = ZSet::Skiplist(Box::new(big));
        }
    }

    /// Sets `member`'s score, adding it if absent (converting to `skiplist` past `limits`).
    /// Returns true if the member was added.
    pub fn insert(&mut self, member: &[u8], score: f64, limits: Limits) -> bool {
        if let ZSet::Listpack(v) = self {
            if let Some((_, e)) = v.find(member) {
                // `==`, as Redis's `zsetAdd`: re-adding 0 as -0 (or back) keeps the stored score.
                if e.score == score {
                    return false;
                }
                let old = e.at..e.end;
                v.buf.remove(old);
                let at = v.insert_pos(score, member);
                v.buf.insert(at, &encode_entry(score, member));
                return false;
            }
            if v.len() + 1 > limits.entries || member.len() > limits.value {
                self.convert();
            } else {
                let at = v.insert_pos(score, member);
                let n = v.len() + 1;
                v.buf
                    .splice_counted(at..at, &encode_entry(score, member), n);
                return true;
            }
        }
        let ZSet::Skiplist(b) = self else {
            return false;
        };
        let hash = hash_key(member);
        if let Some(n) = b.dict.get_mut(hash, member) {
            let old = n.entry;
            if old == score {
                return false;
            }
            n.entry = score;
            b.list.update_score(old, member, score);
            return false;
        }
        b.dict.insert_new(hash, SmallBytes::new(member), score);
        b.list.insert(score, member);
        true
    }

    /// Removes `member`, returning its score.
    pub fn remove(&mut self, member: &[u8]) -> Option<f64> {
        match self {
            ZSet::Listpack(v) => {
                let (_, e) = v.find(member)?;
                let (range, score) = (e.at..e.end, e.score);
                let n = v.len() - 1;
                v.buf.splice_counted(range, &[], n);
                Some(score)
            }
            ZSet::Skiplist(b) => {
                let n = b.dict.remove(hash_key(member), member)?;
                b.list.delete(n.entry, member);
                Some(n.entry)
            }
        }
    }

    /// `member`'s 0-based rank in ascending order, and its score.
    pub fn rank(&self, member: &[u8]) -> Option<(usize, f64)> {
        match self {
            ZSet::Listpack(v) => v.find(member).map(|(r, e)| (r, e.score)),
            ZSet::Skiplist(b) => {
                let s = b.dict.get(hash_key(member), member)?.entry;
                Some((b.list.count_before(|x, m| before(x, m, s, member)), s))
            }
        }
    }

    /// The element at 0-based ascending rank `r`.
    pub fn at(&self, r: usize) -> Option<(&[u8], f64)> {
        match self {
            ZSet::Listpack(v) => v.entries().nth(r).map(|e| (e.member, e.score)),
            ZSet::Skiplist(b) => {
                let x = b.list.at_rank(r);
                (x != NIL).then(|| (b.list.member(x), b.list.score(x)))
            }
        }
    }

    /// How many elements, from the lowest, satisfy `pred(score, member)`; `pred` must hold for a prefix
    /// of the order (e.g. "score < 5").
    pub fn count_before(&self, pred: impl Fn(f64, &[u8]) -> bool) -> usize {
        match self {
            ZSet::Listpack(v) => v.entries().take_while(|e| pred(e.score, e.member)).count(),
            ZSet::Skiplist(b) => b.list.count_before(pred),
        }
    }

    /// Elements of ranks `start..=end` (clamped to the set), ascending, or descending from `end` when
    /// `rev`.
    pub fn range(&self, start: usize, end: usize, rev: bool) -> Range<'_> {
        let len = self.len();
        if start > end || start >= len {
            return Range {
                set: self,
                pos: NIL,
                idx: 0,
                left: 0,
                rev,
                lp_pos: 0,
                lp_back: Vec::new(),
            };
        }
        let end = end.min(len - 1);
        let first = if rev { end } else { start };
        let (mut lp_pos, mut lp_back) = (0, Vec::new());
        let pos = match self {
            ZSet::Listpack(v) => {
                if rev {
                    // No back links in the buffer: note where each entry of the range starts.
                    lp_back = v
                        .entries()
                        .skip(start)
                        .take(end - start + 1)
                        .map(|e| e.at)
                        .collect();
                } else {
                    lp_pos = v.offset_of(start);
                }
                0
            }
            ZSet::Skiplist(b) => b.list.at_rank(first),
        };
        Range {
            set: self,
            pos,
            idx: first,
            left: end - start + 1,
            rev,
            lp_pos,
            lp_back,
        }
    }

    /// All elements, ascending.
    pub fn iter(&self) -> Range<'_> {
        self.range(0, usize::MAX, false)
    }

    /// Removes the elements of ranks `start..=end` (clamped); returns how many went.
    pub fn remove_range(&mut self, start: usize, end: usize) -> usize {
        let len = self.len();
        if start > end || start >= len {
            return 0;
        }
        let end = end.min(len - 1);
        match self {
            ZSet::Listpack(v) => {
                let from = v.offset_of(start);
                let to = v.entries().nth(end).map_or(v.buf.len(), |e| e.end);
                let n = len - (end - start + 1);
                v.buf.splice_counted(from..to, &[], n);
            }
            ZSet::Skiplist(_) => {
                let doomed: Vec<(f64, Vec<u8>)> = self
                    .range(start, end, false)
                    .map(|(m, s)| (s, m.to_vec()))
                    .collect();
                if let ZSet::Skiplist(b) = self {
                    for (s, m) in doomed {
                        b.dict.remove(hash_key(&m), &m);
                        b.list.delete(s, &m);
                    }
                }
            }
        }
        end - start + 1
    }

    /// Removes and returns the lowest (or, with `max`, the highest) element.
    pub fn pop(&mut self, max: bool) -> Option<(Vec<u8>, f64)> {
        let len = self.len();
        if len == 0 {
            return None;
        }
        let r = if max { len - 1 } else { 0 };
        let (m, s) = self.at(r).map(|(m, s)| (m.to_vec(), s))?;
        self.remove(&m);
        Some((m, s))
    }

    /// The member table of the `skiplist` encoding (ZSCAN walks it), `None` for `listpack`.
    pub fn dict(&self) -> Option<&Dict<f64>> {
        match self {
            ZSet::Listpack(_) => None,
            ZSet::Skiplist(b) => Some(&b.dict),
        }
    }

    /// Length of the longest member (for choosing a stored result's encoding).
    pub fn max_member_len(&self) -> usize {
        self.iter().map(|(m, _)| m.len()).max().unwrap_or(0)
    }
}

/// An iterator over a rank range of a [`ZSet`].
pub struct Range<'a> {
    set: &'a ZSet,
    /// Current skiplist node (unused for listpack).
    pos: u32,
    /// Current rank.
    idx: usize,
    left: usize,
    rev: bool,
    /// Listpack, ascending: byte offset of the next entry.
    lp_pos: usize,
    /// Listpack, descending: offsets of the range's entries, consumed from the back.
    lp_back: Vec<usize>,
}

impl<'a> Iterator for Range<'a> {
    type Item = (&'a [u8], f64);

    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let out = match self.set {
            ZSet::Listpack(v) => {
                let buf = v.buf.as_slice();
                let at = if self.rev {
                    self.lp_back.pop()?
                } else {
                    self.lp_pos
                };
                if at >= buf.len() {
                    return None;
                }
                let e = entry_at(buf, at);
                self.lp_pos = e.end;
                (e.member, e.score)
            }
            ZSet::Skiplist(b) => {
                if self.pos == NIL {
                    return None;
                }
                let x = self.pos;
                self.pos = if self.rev {
                    b.list.prev(x)
                } else {
                    b.list.next(x)
                };
                (b.list.member(x), b.list.score(x))
            }
        };
        if self.rev {
            self.idx = self.idx.wrapping_sub(1);
        } else {
            self.idx += 1;
        }
        Some(out)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl ZSet {
    /// Heap bytes held (MEMORY USAGE), sampling up to `samples` members (0: all).
    pub fn heap_bytes(&self, samples: usize) -> usize {
        match self {
            ZSet::Listpack(v) => v.heap_bytes(),
            ZSet::Skiplist(b) => {
                let list = b.list.heap_bytes();
                std::mem::size_of::<Big>()
                    + b.dict.allocated()
                    + super::sampled(b.dict.iter(), b.dict.len(), samples, |n| {
                        super::heap_len(&n.key)
                    })
                    + list
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    fn model_order(m: &BTreeMap<Vec<u8>, f64>) -> Vec<(Vec<u8>, f64)> {
        let mut v: Vec<(Vec<u8>, f64)> = m.iter().map(|(k, s)| (k.clone(), *s)).collect();
        v.sort_by(|a, b| {
            a.1.partial_cmp(&b.1)
                .unwrap_or(std::cmp::Ordering::Equal)
                .then_with(|| a.0.cmp(&b.0))
        });
        v
    }

    fn contents(z: &ZSet) -> Vec<(Vec<u8>, f64)> {
        z.iter().map(|(m, s)| (m.to_vec(), s)).collect()
    }

    #[test]
    fn listpack_scores_round_trip_bit_for_bit() {
        let scores = [
            0.0,
            -0.0,
            1.0,
            -1.0,
            31.0,
            -32.0,
            64.0,
            1.5,
            -2.25,
            0.1,
            1e-300,
            f64::MIN_POSITIVE,
            9_007_199_254_740_993.0,
            4_611_686_018_427_387_904.0,
            -4_611_686_018_427_387_904.0,
            4_611_686_018_427_387_903.0,
            9.223_372_036_854_776e18,
            -9.223_372_036_854_776e18,
            1e300,
            f64::MAX,
            f64::MIN,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ];
        // Every score comes back bit for bit, except -0, which comes back as 0.
        let stored = |s: f64| if s == 0.0 { 0.0 } else { s };
        for s in scores {
            let mut b = vec![0xAA];
            put_score(&mut b, s);
            assert_eq!(get_score(&b, 1), (s, b.len()), "{s:e}");
            assert_eq!(get_score(&b, 1).0.to_bits(), stored(s).to_bits(), "{s:e}");
        }
        // Small integers take one byte, other scores a tag and eight.
        let len = |s: f64| {
            let mut b = Vec::new();
            put_score(&mut b, s);
            b.len()
        };
        assert_eq!((len(0.0), len(31.0), len(-32.0), len(32.0)), (1, 1, 1, 2));
        assert_eq!((len(-0.0), len(0.5), len(f64::INFINITY)), (1, 9, 9));
        // Through the set: order by score then member, scores exact.
        let mut z = ZSet::new();
        let lim = Limits::default();
        for (i, s) in scores.iter().enumerate() {
            z.insert(format!("m{i:02}").as_bytes(), *s, lim);
        }
        assert_eq!(z.encoding(), "listpack");
        let got = contents(&z);
        let mut want: Vec<(Vec<u8>, f64)> = scores
            .iter()
            .enumerate()
            .map(|(i, s)| (format!("m{i:02}").into_bytes(), stored(*s)))
            .collect();
        // -0 and 0 compare equal, so they are ordered by member.
        want.sort_by(|a, b| {
            a.1.partial_cmp(&b.1)
                .unwrap_or(std::cmp::Ordering::Equal)
                .then_with(|| a.0.cmp(&b.0))
        });
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(&want) {
            assert_eq!(g.0, w.0);
            assert_eq!(g.1.to_bits(), w.1.to_bits());
        }
        // -0 is stored as 0, as Redis's listpack does.
        assert_eq!(z.score(b"m01").map(f64::to_bits), Some(0.0f64.to_bits()));
        let rev: Vec<_> = z.range(2, 6, true).map(|(m, _)| m.to_vec()).collect();
        let fwd: Vec<_> = z.range(2, 6, false).map(|(m, _)| m.to_vec()).collect();
        assert_eq!(rev, fwd.into_iter().rev().collect::<Vec<_>>());
    }

    #[test]
    fn listpack_is_one_exact_buffer() {
        let mut z = ZSet::new();
        assert_eq!(z.heap_bytes(0), 0);
        for (i, m) in [b"m1", b"m2", b"m3", b"m4", b"m5"].iter().enumerate() {
            z.insert(*m, (i + 1) as f64, Limits::default());
        }
        // Count byte + 5 × (score byte, length byte, 2 member bytes).
        assert_eq!(z.heap_bytes(0), 21);
        z.insert(b"m3", 0.5, Limits::default());
        assert_eq!(z.heap_bytes(0), 29);
        assert_eq!(z.rank(b"m3"), Some((0, 0.5)));
        for m in [b"m1", b"m2", b"m3", b"m4", b"m5"] {
            assert!(z.remove(m).is_some());
        }
        assert_eq!(z.heap_bytes(0), 0);
        assert_eq!(std::mem::size_of::<ZSet>(), 16);
    }

    #[test]
    fn converts_past_limits() {
        let lim = Limits {
            entries: 3,
            value: 4,
        };
        let mut z = ZSet::new();
        for (i, m) in [b"a", b"b", b"c"].iter().enumerate() {
            assert!(z.insert(*m, i as f64, lim));
        }
        assert_eq!(z.encoding(), "listpack");
        assert!(z.insert(b"d", 0.5, lim));
        assert_eq!(z.encoding(), "skiplist");
        assert_eq!(
            contents(&z),
            vec![
                (b"a".to_vec(), 0.0),
                (b"d".to_vec(), 0.5),
                (b"b".to_vec(), 1.0),
                (b"c".to_vec(), 2.0)
            ]
        );
        let mut w = ZSet::new();
        w.insert(b"long-member", 1.0, lim);
        assert_eq!(w.encoding(), "skiplist");
        // One-way: removing elements keeps the skiplist.
        z.remove(b"a");
        z.remove(b"b");
        assert_eq!(z.encoding(), "skiplist");
    }

    #[test]
    fn ranks_and_ranges_on_a_big_set() {
        let mut z = ZSet::new();
        let lim = Limits::default();
        for i in 0..1000u32 {
            z.insert(format!("m{i:04}").as_bytes(), f64::from(i % 100), lim);
        }
        assert_eq!(z.encoding(), "skiplist");
        let order = contents(&z);
        for (r, (m, s)) in order.iter().enumerate() {
            assert_eq!(z.rank(m), Some((r, *s)));
            assert_eq!(z.at(r).map(|(m, s)| (m.to_vec(), s)), Some((m.clone(), *s)));
        }
        assert_eq!(z.count_before(|s, _| s < 50.0), 500);
        let rev: Vec<_> = z.range(10, 19, true).map(|(m, _)| m.to_vec()).collect();
        let mut fwd: Vec<_> = z.range(10, 19, false).map(|(m, _)| m.to_vec()).collect();
        fwd.reverse();
        assert_eq!(rev, fwd);
        assert_eq!(z.remove_range(0, 499), 500);
        assert_eq!(z.len(), 500);
        assert_eq!(z.at(0).map(|x| x.1), Some(50.0));
    }

    #[derive(Debug, Clone)]
    enum Op {
        Insert(u8, i8),
        Remove(u8),
        RemoveRange(u8, u8),
        Pop(bool),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => (0u8..40, any::<i8>()).prop_map(|(m, s)| Op::Insert(m, s)),
            2 => (0u8..40).prop_map(Op::Remove),
            1 => (0u8..10, 0u8..10).prop_map(|(a, b)| Op::RemoveRange(a, b)),
            1 => any::<bool>().prop_map(Op::Pop),
        ]
    }

    proptest! {
        #[test]
        fn behaves_like_a_sorted_btreemap(ops in proptest::collection::vec(op(), 0..300), entries in 0usize..20) {
            let lim = Limits { entries, value: 64 };
            let mut z = ZSet::new();
            let mut m: BTreeMap<Vec<u8>, f64> = BTreeMap::new();
            for o in ops {
                match o {
                    Op::Insert(k, s) => {
                        let key = format!("k{k}").into_bytes();
                        let score = f64::from(s) / 2.0;
                        let added = z.insert(&key, score, lim);
                        prop_assert_eq!(added, m.insert(key, score).is_none());
                    }
                    Op::Remove(k) => {
                        let key = format!("k{k}").into_bytes();
                        prop_assert_eq!(z.remove(&key), m.remove(&key));
                    }
                    Op::RemoveRange(a, b) => {
                        let order = model_order(&m);
                        let (a, b) = (a as usize, b as usize);
                        let n = z.remove_range(a, b);
                        let mut want = 0;
                        if a <= b {
                            for (k, _) in order.iter().skip(a).take(b - a + 1) {
                                m.remove(k);
                                want += 1;
                            }
                        }
                        prop_assert_eq!(n, want);
                    }
                    Op::Pop(max) => {
                        let order = model_order(&m);
                        let want = if max { order.last().cloned() } else { order.first().cloned() };
                        if let Some((k, _)) = &want {
                            m.remove(k);
                        }
                        prop_assert_eq!(z.pop(max), want);
                    }
                }
                let order = model_order(&m);
                prop_assert_eq!(z.len(), order.len());
                prop_assert_eq!(contents(&z), order.clone());
                for (r, (k, s)) in order.iter().enumerate() {
                    prop_assert_eq!(z.rank(k), Some((r, *s)));
                    prop_assert_eq!(z.score(k), Some(*s));
                    prop_assert_eq!(z.at(r).map(|x| x.0.to_vec()), Some(k.clone()));
                }
                prop_assert_eq!(z.count_before(|s, _| s < 0.0), order.iter().filter(|e| e.1 < 0.0).count());
                let rev: Vec<_> = z.range(0, usize::MAX, true).map(|x| x.0.to_vec()).collect();
                let want: Vec<_> = order.iter().rev().map(|e| e.0.clone()).collect();
                prop_assert_eq!(rev, want);
                if entries > 0 && z.len() > entries {
                    prop_assert_eq!(z.encoding(), "skiplist");
                }
            }
        }
    }
}
