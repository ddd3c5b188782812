//! The hash type: a map from field bytes to value bytes, in Redis's two encodings.
//!
//! * `listpack`: small hashes live in one exactly-sized buffer of length-prefixed field/value pairs
//!   ([`Listpack`] over [`Packed`]), in insertion order, as Redis's listpack does: a 5-pair hash of
//!   short strings is 31 bytes, one 32-byte allocation. Lookups walk the buffer; at the
//!   default thresholds (128 pairs of at most 64 bytes) that is a few cache lines, cheaper than
//!   hashing, and a small hash costs one allocation. Redis replies with the listpack's order
//!   (HGETALL, HKEYS, HSCAN), so keeping insertion order makes those replies match it exactly.
//! * `hashtable`: past `hash-max-listpack-entries` pairs, or once a field or value longer than
//!   `hash-max-listpack-value` arrives, the pairs move to the keyspace's own chained [`Dict`] (keyed by
//!   field, the value as [`SmallBytes`]), whose reverse-binary cursor gives HSCAN Redis's guarantee.
//!   The conversion is one-way, as in Redis.
//!
//! The thresholds come from the configuration; callers pass them in ([`HashLimits`]), so this module
//! knows nothing of the server.

use crate::smallbytes::SmallBytes;
use crate::storage::dict::{Dict, Key};
use crate::storage::hash_key;
use crate::storage::types::packed::{get_varint, put_varint, Packed};

/// The conversion thresholds (`hash-max-listpack-entries`, `hash-max-listpack-value`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashLimits {
    pub listpack_entries: usize,
    pub listpack_value: usize,
}

impl Default for HashLimits {
    /// Redis 7.2's defaults.
    fn default() -> Self {
        HashLimits {
            listpack_entries: 128,
            listpack_value: 64,
        }
    }
}

/// Field/value pairs in one exactly-sized buffer ([`Packed`], counted): a varint pair count (one
/// byte below 128 pairs, so HLEN reads it without a walk), then for each pair the field and the
/// value, each as a varint length followed by its bytes. An empty hash is an empty buffer.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Listpack {
    /// 16 bytes with a non-null pointer keeps `HashValue` two words, so it fits in `Value` unboxed.
    buf: Packed,
}

/// Where one pair sits in the buffer.
struct Slot {
    /// First byte of the field's length prefix.
    start: usize,
    /// First byte of the value's length prefix.
    value_at: usize,
    /// The value's bytes.
    value: (usize, usize),
}

/// `varint(len) bytes` for each of `parts`.
fn encode(parts: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::with_capacity(parts.iter().map(|p| p.len() + 2).sum());
    for p in parts {
        put_varint(&mut out, p.len());
        out.extend_from_slice(p);
    }
    out
}

impl Listpack {
    #[inline]
    pub fn len(&self) -> usize {
        self.buf.count()
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Bytes used by the encoding (for memory estimates).
    pub fn bytes(&self) -> usize {
        self.buf.len()
    }

    fn find(&self, field: &[u8]) -> Option<Slot> {
        let buf = self.buf.as_slice();
        let mut pos = self.buf.body();
        while pos < buf.len() {
            let start = pos;
            let (flen, p) = get_varint(buf, pos);
            let value_at = p + flen;
            let (vlen, vp) = get_varint(buf, value_at);
            if flen == field.len() && &buf[p..value_at] == field {
                return Some(Slot {
                    start,
                    value_at,
                    value: (vp, vp + vlen),
                });
            }
            pos = vp + vlen;
        }
        None
    }

    pub fn get(&self, field: &[u8]) -> Option<&[u8]> {
        self.find(field)
            .map(|s| &self.buf.as_slice()[s.value.0..s.value.1])
    }

    /// Sets `field` to `value`: replaced in place if present (its position stays), appended otherwise.
    /// Returns true if the field is new.
    pub fn insert(&mut self, field: &[u8], value: &[u8]) -> bool {
        match self.find(field) {
            Some(s) if s.value.1 - s.value.0 == value.len() => {
                // Same length (so same prefix): overwrite in place.
                self.buf.as_mut_slice()[s.value.0..s.value.1].copy_from_slice(value);
                false
            }
            Some(s) => {
                self.buf.splice(s.value_at..s.value.1, &encode(&[value]));
                false
            }
            None => {
                let end = self.buf.len();
                let n = self.len() + 1;
                self.buf
                    .splice_counted(end..end, &encode(&[field, value]), n);
                true
            }
        }
    }

    /// Removes `field`; true if it was present.
    pub fn remove(&mut self, field: &[u8]) -> bool {
        match self.find(field) {
            Some(s) => {
                let n = self.len() - 1;
                self.buf.splice_counted(s.start..s.value.1, &[], n);
                true
            }
            None => false,
        }
    }

    /// The pairs in insertion order.
    pub fn iter(&self) -> ListpackIter<'_> {
        ListpackIter {
            buf: self.buf.as_slice(),
            pos: self.buf.body(),
        }
    }
}

pub struct ListpackIter<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Iterator for ListpackIter<'a> {
    type Item = (&'a [u8], &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        if self.pos >= self.buf.len() {
            return None;
        }
        let (flen, p) = get_varint(self.buf, self.pos);
        let f = &self.buf[p..p + flen];
        let (vlen, vp) = get_varint(self.buf, p + flen);
        let v = &self.buf[vp..vp + vlen];
        self.pos = vp + vlen;
        Some((f, v))
    }
}

/// A hash value in one of its two encodings.
pub enum HashValue {
    Listpack(Listpack),
    Hashtable(Box<Dict<SmallBytes>>),
}

impl Default for HashValue {
    fn default() -> Self {
        HashValue::Listpack(Listpack::default())
    }
}

/// An iterator over a hash's pairs (insertion order for a listpack, table order otherwise).
pub enum Iter<'a> {
    Listpack(ListpackIter<'a>),
    Hashtable(Box<dyn Iterator<Item = (&'a [u8], &'a [u8])> + 'a>),
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a [u8], &'a [u8]);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Iter::Listpack(i) => i.next(),
            Iter::Hashtable(i) => i.next(),
        }
    }
}

fn dict_set(d: &mut Dict<SmallBytes>, field: &[u8], value: &[u8]) -> bool {
    let h = hash_key(field);
    match d.get_mut(h, field) {
        Some(n) => {
            n.entry = SmallBytes::new(value);
            false
        }
        None => {
            d.insert_new(h, Key::new(field), SmallBytes::new(value));
            true
        }
    }
}

impl HashValue {
    pub fn new() -> HashValue {
        HashValue::default()
    }

    /// Redis's `OBJECT ENCODING` name.
    pub fn encoding(&self) -> &'static str {
        match self {
            HashValue::Listpack(_) => "listpack",
            HashValue::Hashtable(_) => "hashtable",
        }
    }

    pub fn len(&self) -> usize {
        match self {
            HashValue::Listpack(l) => l.len(),
            HashValue::Hashtable(d) => d.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn get(&self, field: &[u8]) -> Option<&[u8]> {
        match self {
            HashValue::Listpack(l) => l.get(field),
            HashValue::Hashtable(d) => d.get(hash_key(field), field).map(|n| &n.entry[..]),
        }
    }

    pub fn contains(&self, field: &[u8]) -> bool {
        self.get(field).is_some()
    }

    /// Moves the pairs to the `hashtable` encoding (no-op if already there).
    pub fn convert(&mut self) {
        if let HashValue::Listpack(l) = self {
            let mut d = Box::new(Dict::new());
            for (f, v) in l.iter() {
                d.insert_new(hash_key(f), Key::new(f), SmallBytes::new(v));
            }
            *self = HashValue::Hashtable(d);
        }
    }

    /// Redis's `hashTypeTryConversion`, run before a write of `pairs` field/value pairs whose longest
    /// argument is `longest` bytes: converts when the pairs alone could exceed the entry limit (even if
    /// some are duplicates, as Redis guesses) or an argument is too long for the listpack.
    pub fn prepare_write(&mut self, pairs: usize, longest: usize, lim: &HashLimits) {
        if matches!(self, HashValue::Listpack(_))
            && (pairs > lim.listpack_entries || longest > lim.listpack_value)
        {
            self.convert();
        }
    }

    /// Sets `field` to `value`, converting to `hashtable` when the pair is too long for the listpack
    /// or the listpack grows past the entry limit (Redis's `hashTypeSet`). True if the field is new.
    pub fn set(&mut self, field: &[u8], value: &[u8], lim: &HashLimits) -> bool {
        if let HashValue::Listpack(l) = self {
            if field.len() > lim.listpack_value || value.len() > lim.listpack_value {
                self.convert();
            } else {
                let new = l.insert(field, value);
                if l.len() > lim.listpack_entries {
                    self.convert();
                }
                return new;
            }
        }
        match self {
            HashValue::Hashtable(d) => dict_set(d, field, value),
            HashValue::Listpack(_) => unreachable!("converted above"),
        }
    }

    /// Removes `field`; true if it was present.
    pub fn remove(&mut self, field: &[u8]) -> bool {
        match self {
            HashValue::Listpack(l) => l.remove(field),
            HashValue::Hashtable(d) => d.remove(hash_key(field), field).is_some(),
        }
    }

    /// All pairs: insertion order for a listpack (as Redis replies), table order for a hashtable.
    pub fn iter(&self) -> Iter<'_> {
        match self {
            HashValue::Listpack(l) => Iter::Listpack(l.iter()),
            HashValue::Hashtable(d) => {
                Iter::Hashtable(Box::new(d.iter().map(|n| (&n.key[..], &n.entry[..]))))
            }
        }
    }

    /// The table behind a `hashtable` hash (HSCAN's cursor walks it).
    pub fn dict(&self) -> Option<&Dict<SmallBytes>> {
        match self {
            HashValue::Hashtable(d) => Some(d),
            HashValue::Listpack(_) => None,
        }
    }

    /// A pair picked at random, or `None` if the hash is empty.
    pub fn random_pair(&self, rng: &mut impl rand::Rng) -> Option<(&[u8], &[u8])> {
        match self {
            HashValue::Listpack(l) => {
                if l.is_empty() {
                    return None;
                }
                let i = rng.gen_range(0..l.len());
                l.iter().nth(i)
            }
            HashValue::Hashtable(d) => d
                .random_node(rng, |_| true)
                .map(|n| (&n.key[..], &n.entry[..])),
        }
    }
}

impl Clone for HashValue {
    /// Keeps the encoding, as Redis's `hashTypeDup` (COPY).
    fn clone(&self) -> Self {
        match self {
            HashValue::Listpack(l) => HashValue::Listpack(l.clone()),
            HashValue::Hashtable(d) => {
                let mut nd = Box::new(Dict::new());
                for n in d.iter() {
                    nd.insert_new(hash_key(&n.key), n.key.clone(), n.entry.clone());
                }
                HashValue::Hashtable(nd)
            }
        }
    }
}

impl PartialEq for HashValue {
    /// Same encoding and same pairs.
    fn eq(&self, other: &Self) -> bool {
        self.encoding() == other.encoding()
            && self.len() == other.len()
            && self.iter().all(|(f, v)| other.get(f) == Some(v))
    }
}

impl std::fmt::Debug for HashValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.encoding())?;
        f.debug_map()
            .entries(
                self.iter()
                    .map(|(k, v)| (String::from_utf8_lossy(k), String::from_utf8_lossy(v))),
            )
            .finish()
    }
}

impl HashValue {
    /// Heap bytes held (MEMORY USAGE), sampling up to `samples` fields of a hashtable (0: all).
    pub fn heap_bytes(&self, samples: usize) -> usize {
        match self {
            HashValue::Listpack(lp) => lp.buf.heap_bytes(),
            HashValue::Hashtable(d) => {
                std::mem::size_of::<Dict<SmallBytes>>()
                    + d.allocated()
                    + super::sampled(d.iter(), d.len(), samples, |n| {
                        super::heap_len(&n.key) + super::heap_len(&n.entry)
                    })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    fn lim(entries: usize, value: usize) -> HashLimits {
        HashLimits {
            listpack_entries: entries,
            listpack_value: value,
        }
    }

    #[test]
    fn listpack_keeps_insertion_order_and_updates_in_place() {
        let mut h = HashValue::new();
        let l = HashLimits::default();
        assert!(h.set(b"b", b"1", &l));
        assert!(h.set(b"a", b"2", &l));
        assert!(h.set(b"c", b"3", &l));
        assert!(!h.set(b"a", b"a much longer value than before", &l));
        let pairs: Vec<_> = h.iter().collect();
        assert_eq!(
            pairs,
            vec![
                (&b"b"[..], &b"1"[..]),
                (&b"a"[..], &b"a much longer value than before"[..]),
                (&b"c"[..], &b"3"[..])
            ]
        );
        assert!(h.remove(b"b"));
        assert!(!h.remove(b"b"));
        assert!(h.set(b"b", b"", &l));
        let keys: Vec<_> = h.iter().map(|p| p.0).collect();
        assert_eq!(keys, vec![&b"a"[..], &b"c"[..], &b"b"[..]]);
        assert_eq!(h.get(b"b"), Some(&b""[..]));
        assert_eq!(h.encoding(), "listpack");
    }

    #[test]
    fn listpack_is_one_exact_buffer() {
        let mut h = HashValue::new();
        let l = HashLimits::default();
        assert_eq!(h.heap_bytes(0), 0);
        for i in 1..=5 {
            h.set(format!("f{i}").as_bytes(), format!("v{i}").as_bytes(), &l);
        }
        // Count byte + 5 × (2 length bytes, 4 bytes of text).
        assert_eq!(h.heap_bytes(0), 31);
        assert_eq!(h.len(), 5);
        // 128 pairs need a two-byte count; back to one byte below that.
        for i in 6..=128 {
            h.set(format!("f{i}").as_bytes(), b"v", &l);
        }
        assert_eq!((h.len(), h.encoding()), (128, "listpack"));
        assert!(h.remove(b"f1"));
        assert_eq!(h.len(), 127);
        assert_eq!(h.get(b"f128"), Some(&b"v"[..]));
        assert_eq!(std::mem::size_of::<HashValue>(), 16);
    }

    #[test]
    fn long_lengths_round_trip() {
        let mut l = Listpack::default();
        let big = vec![7u8; 70_000];
        l.insert(&big, &big[..300]);
        l.insert(b"", &big);
        assert_eq!(l.get(&big), Some(&big[..300]));
        assert_eq!(l.get(b""), Some(&big[..]));
        assert_eq!(l.len(), 2);
    }

    #[test]
    fn conversion_thresholds() {
        let l = lim(3, 5);
        let mut h = HashValue::new();
        for f in [b"a", b"b", b"c"] {
            h.set(f, b"v", &l);
        }
        assert_eq!(h.encoding(), "listpack");
        h.set(b"d", b"v", &l);
        assert_eq!(h.encoding(), "hashtable");
        assert_eq!(h.len(), 4);

        let mut h = HashValue::new();
        h.set(b"a", b"12345", &l);
        assert_eq!(h.encoding(), "listpack");
        h.set(b"a", b"123456", &l);
        assert_eq!(h.encoding(), "hashtable");
        assert_eq!(h.get(b"a"), Some(&b"123456"[..]));

        let mut h = HashValue::new();
        h.set(b"long-field", b"v", &l);
        assert_eq!(h.encoding(), "hashtable");

        let mut h = HashValue::new();
        h.prepare_write(4, 1, &l);
        assert_eq!(h.encoding(), "hashtable");
        let mut h = HashValue::new();
        h.prepare_write(3, 6, &l);
        assert_eq!(h.encoding(), "hashtable");
        let mut h = HashValue::new();
        h.prepare_write(3, 5, &l);
        assert_eq!(h.encoding(), "listpack");
    }

    #[test]
    fn clone_and_eq_keep_encoding() {
        let l = lim(2, 64);
        let mut h = HashValue::new();
        for i in 0..10 {
            h.set(format!("f{i}").as_bytes(), b"v", &l);
        }
        let c = h.clone();
        assert_eq!(c, h);
        assert_eq!(c.encoding(), "hashtable");
        let mut s = HashValue::new();
        s.set(b"x", b"y", &l);
        assert_ne!(s, h);
        assert_eq!(s.clone(), s);
    }

    #[test]
    fn random_pair_covers_all() {
        let mut rng = rand::thread_rng();
        for l in [lim(128, 64), lim(1, 64)] {
            let mut h = HashValue::new();
            assert!(h.random_pair(&mut rng).is_none());
            for i in 0..5 {
                h.set(format!("f{i}").as_bytes(), format!("v{i}").as_bytes(), &l);
            }
            let mut seen = std::collections::HashSet::new();
            for _ in 0..500 {
                let (f, v) = h.random_pair(&mut rng).expect("not empty");
                assert_eq!(h.get(f), Some(v));
                seen.insert(f.to_vec());
            }
            assert_eq!(seen.len(), 5);
        }
    }

    #[derive(Debug, Clone)]
    enum Op {
        Set(u8, Vec<u8>),
        Remove(u8),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (0u8..24, proptest::collection::vec(any::<u8>(), 0..12))
                .prop_map(|(f, v)| Op::Set(f, v)),
            (0u8..24).prop_map(Op::Remove),
        ]
    }

    proptest! {
        /// Against a BTreeMap (plus a Vec for the listpack's insertion order).
        #[test]
        fn behaves_like_a_map(ops in proptest::collection::vec(op(), 0..200), entries in 1usize..20, value in 1usize..12) {
            let l = lim(entries, value);
            let mut h = HashValue::new();
            let mut model: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
            let mut order: Vec<Vec<u8>> = Vec::new();
            let mut converted = false;
            for op in ops {
                match op {
                    Op::Set(f, v) => {
                        let f = vec![b'f'; f as usize % 16];
                        let new = h.set(&f, &v, &l);
                        prop_assert_eq!(new, model.insert(f.clone(), v.clone()).is_none());
                        if new { order.push(f.clone()); }
                        converted |= model.len() > entries || f.len() > value || v.len() > value;
                    }
                    Op::Remove(f) => {
                        let f = vec![b'f'; f as usize % 16];
                        prop_assert_eq!(h.remove(&f), model.remove(&f).is_some());
                        order.retain(|x| x != &f);
                    }
                }
                prop_assert_eq!(h.len(), model.len());
                prop_assert_eq!(h.encoding(), if converted { "hashtable" } else { "listpack" });
            }
            for (k, v) in &model {
                prop_assert_eq!(h.get(k), Some(&v[..]));
            }
            let mut got: Vec<(Vec<u8>, Vec<u8>)> = h.iter().map(|(a, b)| (a.to_vec(), b.to_vec())).collect();
            if !converted {
                let keys: Vec<Vec<u8>> = got.iter().map(|p| p.0.clone()).collect();
                prop_assert_eq!(keys, order);
            }
            got.sort();
            let want: Vec<(Vec<u8>, Vec<u8>)> = model.into_iter().collect();
            prop_assert_eq!(got, want);
        }
    }
}
