//! Sorted sets: members ordered by `(score, member)`, with O(log n) rank operations.
//!
//! Why it is built this way (after Redis's `t_zset.c`):
//! * Small sets use the `listpack` encoding: one sorted `Vec` of `(score, member)` pairs (members up to
//!   22 bytes live inline in the entry, so a typical small set is one allocation). Every operation is a
//!   scan or a binary search over at most `zset-max-listpack-entries` entries, which beats any pointer
//!   structure at that size.
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

/// A sorted set in one of Redis's two encodings.
#[derive(Debug, Clone)]
pub enum ZSet {
    /// Sorted by `(score, member)`.
    Listpack(thin_vec::ThinVec<(f64, SmallBytes)>),
    Skiplist(Box<Big>),
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
        ZSet::Listpack(thin_vec::ThinVec::new())
    }

    /// An empty set in the encoding Redis 7.2's `zsetTypeCreate` picks for `size_hint` elements whose
    /// longest member has `max_len` bytes.
    pub fn with_hint(size_hint: usize, max_len: usize, limits: Limits) -> ZSet {
        if size_hint <= limits.entries && max_len <= limits.value && limits.entries > 0 {
            ZSet::Listpack(thin_vec::ThinVec::with_capacity(
                size_hint.min(limits.entries),
            ))
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
            ZSet::Listpack(v) => v.iter().find(|e| &*e.1 == member).map(|e| e.0),
            ZSet::Skiplist(b) => b.dict.get(hash_key(member), member).map(|n| n.entry),
        }
    }

    fn convert(&mut self) {
        if let ZSet::Listpack(v) = self {
            let mut big = Big {
                dict: Dict::new(),
                list: SkipList::new(),
            };
            for (s, m) in v.drain(..) {
                big.dict.insert_new(hash_key(&m), m.clone(), s);
                big.list.insert(s, &m);
            }
            *self = ZSet::Skiplist(Box::new(big));
        }
    }

    /// Sets `member`'s score, adding it if absent (converting to `skiplist` past `limits`).
    /// Returns true if the member was added.
    pub fn insert(&mut self, member: &[u8], score: f64, limits: Limits) -> bool {
        if let ZSet::Listpack(v) = self {
            if let Some(pos) = v.iter().position(|e| &*e.1 == member) {
                if v[pos].0 == score {
                    return false;
                }
                let e = v.remove(pos);
                let at = v.partition_point(|x| before(x.0, &x.1, score, member));
                v.insert(at, (score, e.1));
                return false;
            }
            if v.len() + 1 > limits.entries || member.len() > limits.value {
                self.convert();
            } else {
                let at = v.partition_point(|x| before(x.0, &x.1, score, member));
                v.insert(at, (score, SmallBytes::new(member)));
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
                let pos = v.iter().position(|e| &*e.1 == member)?;
                Some(v.remove(pos).0)
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
            ZSet::Listpack(v) => v.iter().position(|e| &*e.1 == member).map(|p| (p, v[p].0)),
            ZSet::Skiplist(b) => {
                let s = b.dict.get(hash_key(member), member)?.entry;
                Some((b.list.count_before(|x, m| before(x, m, s, member)), s))
            }
        }
    }

    /// The element at 0-based ascending rank `r`.
    pub fn at(&self, r: usize) -> Option<(&[u8], f64)> {
        match self {
            ZSet::Listpack(v) => v.get(r).map(|e| (&*e.1, e.0)),
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
            ZSet::Listpack(v) => v.partition_point(|e| pred(e.0, &e.1)),
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
            };
        }
        let end = end.min(len - 1);
        let first = if rev { end } else { start };
        let pos = match self {
            ZSet::Listpack(_) => 0,
            ZSet::Skiplist(b) => b.list.at_rank(first),
        };
        Range {
            set: self,
            pos,
            idx: first,
            left: end - start + 1,
            rev,
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
                v.drain(start..=end);
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
                let e = v.get(self.idx)?;
                (&*e.1, e.0)
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
            ZSet::Listpack(v) => {
                v.capacity() * std::mem::size_of::<(f64, SmallBytes)>()
                    + super::sampled(v.iter(), v.len(), samples, |(_, m)| super::heap_len(m))
            }
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
