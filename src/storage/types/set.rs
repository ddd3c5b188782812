//! The set type: a set of binary-safe byte strings in one of Redis 7.2's three encodings.
//!
//! Why three encodings, and why they mimic Redis's conversion rules exactly:
//! * `intset`: a sorted `Vec<i64>` while every member is a canonical 64-bit integer (the text `string2ll`
//!   accepts: no `+`, no leading zeros, no `-0`) and there are at most `set-max-intset-entries`. One
//!   allocation, binary search, and members come out in numeric order, as in Redis.
//! * `listpack`: one `Vec<u8>` of length-prefixed entries in insertion order, for small sets of short
//!   strings (at most `set-max-listpack-entries` members of at most `set-max-listpack-value` bytes).
//!   Lookups are linear, which beats hashing at these sizes and costs no per-member allocation.
//! * `hashtable`: the keyspace's own chained [`Dict`] (keyed by member, no payload), whose reverse-binary
//!   cursor gives SSCAN the SCAN guarantee.
//!
//! `OBJECT ENCODING` and the order in which compact sets list their members are visible to clients, so
//! creation ([`SetValue::create`]), growth ([`SetValue::add`]) and the explicit conversions follow
//! `t_set.c` step by step, including its one-way nature: a set never converts back to a compact encoding
//! on its own (only SINTERSTORE's result and SPOP's rebuilt set are made compact again, as in Redis).
//!
//! This module knows nothing of RESP or of the keyspace.

use rand::seq::index::sample;
use rand::Rng;

use crate::protocol::parse_i64;
use crate::smallbytes::SmallBytes;
use crate::storage::dict::{Dict, Key};
use crate::storage::hash_key;

/// The conversion thresholds (`set-max-intset-entries`, `set-max-listpack-entries`,
/// `set-max-listpack-value`), read from the configuration by the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SetLimits {
    pub intset_entries: usize,
    pub listpack_entries: usize,
    pub listpack_value: usize,
}

impl Default for SetLimits {
    fn default() -> Self {
        SetLimits {
            intset_entries: 512,
            listpack_entries: 128,
            listpack_value: 64,
        }
    }
}

impl SetLimits {
    /// Redis caps intsets at 2^30 entries whatever the configuration says.
    fn intset_max(&self) -> usize {
        self.intset_entries.min(1 << 30)
    }
}

/// A member as a set yields it: an integer (from an intset) or bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Member<'a> {
    Int(i64),
    Str(&'a [u8]),
}

impl Member<'_> {
    /// The member's text, copied (inline when short, which every integer is).
    pub fn to_small(self) -> SmallBytes {
        match self {
            Member::Int(i) => SmallBytes::new(itoa::Buffer::new().format(i).as_bytes()),
            Member::Str(s) => SmallBytes::new(s),
        }
    }

    /// Calls `f` with the member's text, formatting integers on the stack.
    pub fn with_bytes<R>(self, f: impl FnOnce(&[u8]) -> R) -> R {
        match self {
            Member::Int(i) => f(itoa::Buffer::new().format(i).as_bytes()),
            Member::Str(s) => f(s),
        }
    }

    /// The member as an integer, if its text is a canonical i64.
    pub fn as_int(self) -> Option<i64> {
        match self {
            Member::Int(i) => Some(i),
            Member::Str(s) => parse_i64(s),
        }
    }
}

/// Listpack: a 4-byte little-endian member count, then entries `varint(len) bytes` back to back, in
/// insertion order. The count lives in the buffer so the whole value stays three words.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Listpack {
    buf: thin_vec::ThinVec<u8>,
}

const HEADER: usize = 4;

/// Reads a LEB128 length at `pos`: (length, bytes used).
#[inline]
fn read_varint(buf: &[u8], mut pos: usize) -> (usize, usize) {
    let start = pos;
    let mut v = 0usize;
    let mut shift = 0;
    while let Some(&b) = buf.get(pos) {
        pos += 1;
        v |= ((b & 0x7f) as usize) << shift;
        if b & 0x80 == 0 {
            break;
        }
        shift += 7;
    }
    (v, pos - start)
}

fn write_varint(buf: &mut impl Extend<u8>, mut v: usize) {
    while v >= 0x80 {
        buf.extend(Some((v as u8) | 0x80));
        v >>= 7;
    }
    buf.extend(Some(v as u8));
}

impl Listpack {
    pub fn len(&self) -> usize {
        match self.buf.get(..HEADER) {
            Some(h) => u32::from_le_bytes([h[0], h[1], h[2], h[3]]) as usize,
            None => 0,
        }
    }

    fn set_len(&mut self, n: usize) {
        if self.buf.len() < HEADER {
            self.buf.resize(HEADER, 0);
        }
        self.buf[..HEADER].copy_from_slice(&(n as u32).to_le_bytes());
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Entries as `(offset of the entry, its bytes)`.
    fn entries(&self) -> impl Iterator<Item = (usize, &[u8])> {
        let mut pos = HEADER;
        std::iter::from_fn(move || {
            if pos >= self.buf.len() {
                return None;
            }
            let (n, used) = read_varint(&self.buf, pos);
            let at = pos;
            let start = pos + used;
            pos = start + n;
            Some((at, &self.buf[start..start + n]))
        })
    }

    pub fn iter(&self) -> impl Iterator<Item = &[u8]> {
        self.entries().map(|(_, b)| b)
    }

    fn find(&self, m: &[u8]) -> Option<usize> {
        self.entries().find(|(_, b)| *b == m).map(|(at, _)| at)
    }

    pub fn contains(&self, m: &[u8]) -> bool {
        self.find(m).is_some()
    }

    /// Appends a member known to be absent.
    pub fn push(&mut self, m: &[u8]) {
        let n = self.len() + 1;
        self.set_len(n);
        // Exact growth, as a listpack reallocates per insert: small sets keep no spare capacity.
        self.buf.reserve_exact(m.len() + 2);
        write_varint(&mut self.buf, m.len());
        self.buf.extend_from_slice(m);
    }

    fn remove_at(&mut self, at: usize) {
        let (n, used) = read_varint(&self.buf, at);
        self.buf.drain(at..at + used + n);
        let left = self.len() - 1;
        self.set_len(left);
    }

    pub fn remove(&mut self, m: &[u8]) -> bool {
        match self.find(m) {
            Some(at) => {
                self.remove_at(at);
                true
            }
            None => false,
        }
    }

    pub fn nth(&self, i: usize) -> Option<&[u8]> {
        self.iter().nth(i)
    }
}

/// A set value in one of its three encodings.
pub enum SetValue {
    /// Sorted, distinct.
    /// `ThinVec`s (one pointer each) keep `SetValue` two words, so it fits in `Value` unboxed.
    Intset(thin_vec::ThinVec<i64>),
    Listpack(Listpack),
    Hashtable(Box<Dict<()>>),
}

/// Which encoding a set has (Redis's `OBJECT ENCODING` names via [`Encoding::name`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Intset,
    Listpack,
    Hashtable,
}

impl Encoding {
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Intset => "intset",
            Encoding::Listpack => "listpack",
            Encoding::Hashtable => "hashtable",
        }
    }
}

fn dict_with(cap: usize) -> Box<Dict<()>> {
    let _ = cap; // Dict grows by doubling; pre-sizing is an optimisation Redis makes and we skip.
    Box::new(Dict::new())
}

fn dict_insert(d: &mut Dict<()>, m: &[u8]) -> bool {
    let h = hash_key(m);
    if d.get(h, m).is_some() {
        return false;
    }
    d.insert_new(h, Key::new(m), ());
    true
}

/// Number of decimal characters of `v`, sign included (Redis's `sdigits10`).
fn sdigits10(v: i64) -> usize {
    itoa::Buffer::new().format(v).len()
}

impl SetValue {
    pub fn new_intset() -> SetValue {
        SetValue::Intset(thin_vec::ThinVec::new())
    }

    pub fn new_listpack() -> SetValue {
        SetValue::Listpack(Listpack::default())
    }

    /// An empty set able to hold `first`, sized for about `size_hint` members (Redis's `setTypeCreate`).
    pub fn create(first: &[u8], size_hint: usize, lim: &SetLimits) -> SetValue {
        if parse_i64(first).is_some() && size_hint <= lim.intset_entries {
            SetValue::new_intset()
        } else if size_hint <= lim.listpack_entries {
            SetValue::new_listpack()
        } else {
            SetValue::Hashtable(dict_with(size_hint))
        }
    }

    pub fn encoding(&self) -> Encoding {
        match self {
            SetValue::Intset(_) => Encoding::Intset,
            SetValue::Listpack(_) => Encoding::Listpack,
            SetValue::Hashtable(_) => Encoding::Hashtable,
        }
    }

    pub fn len(&self) -> usize {
        match self {
            SetValue::Intset(v) => v.len(),
            SetValue::Listpack(l) => l.len(),
            SetValue::Hashtable(d) => d.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Converts to a hash table before adding about `size_hint` members when a compact encoding could
    /// not hold that many anyway (Redis's `setTypeMaybeConvert`, used by SADD).
    pub fn maybe_convert(&mut self, size_hint: usize, lim: &SetLimits) {
        let convert = match self {
            SetValue::Listpack(_) => size_hint > lim.listpack_entries,
            SetValue::Intset(_) => size_hint > lim.intset_entries,
            SetValue::Hashtable(_) => false,
        };
        if convert {
            self.convert_to_hashtable();
        }
    }

    /// Converts to the hash-table encoding (keeps it if already so).
    pub fn convert_to_hashtable(&mut self) {
        let mut d = dict_with(self.len());
        match self {
            SetValue::Hashtable(_) => return,
            SetValue::Intset(v) => {
                let mut b = itoa::Buffer::new();
                for &i in v.iter() {
                    dict_insert(&mut d, b.format(i).as_bytes());
                }
            }
            SetValue::Listpack(l) => {
                for m in l.iter() {
                    dict_insert(&mut d, m);
                }
            }
        }
        *self = SetValue::Hashtable(d);
    }

    fn intset_to_listpack(v: &[i64]) -> Listpack {
        let mut l = Listpack::default();
        let mut b = itoa::Buffer::new();
        for &i in v {
            l.push(b.format(i).as_bytes());
        }
        l
    }

    /// Adds a member; true if it was not there (Redis's `setTypeAddAux`, conversions included).
    pub fn add(&mut self, m: Member<'_>, lim: &SetLimits) -> bool {
        let mut buf = itoa::Buffer::new();
        let s: &[u8] = match m {
            Member::Int(i) => buf.format(i).as_bytes(),
            Member::Str(s) => s,
        };
        match self {
            SetValue::Hashtable(d) => return dict_insert(d, s),
            SetValue::Listpack(l) => {
                if l.contains(s) {
                    return false;
                }
                if l.len() < lim.listpack_entries && s.len() <= lim.listpack_value {
                    l.push(s);
                    return true;
                }
            }
            SetValue::Intset(v) => {
                if let Some(i) = m.as_int() {
                    let Err(pos) = v.binary_search(&i) else {
                        return false;
                    };
                    v.reserve_exact(1);
                    v.insert(pos, i);
                    if v.len() > lim.intset_max() {
                        self.convert_to_hashtable();
                    }
                    return true;
                }
                // A non-integer: become a listpack if everything fits, else a hash table.
                let maxelelen = match (v.first(), v.last()) {
                    (Some(&lo), Some(&hi)) => sdigits10(lo).max(sdigits10(hi)),
                    _ => 0,
                };
                if v.len() < lim.listpack_entries
                    && s.len() <= lim.listpack_value
                    && maxelelen <= lim.listpack_value
                {
                    let mut l = Self::intset_to_listpack(v);
                    l.push(s);
                    *self = SetValue::Listpack(l);
                    return true;
                }
            }
        }
        // A compact encoding cannot take this member: convert, then add.
        self.convert_to_hashtable();
        if let SetValue::Hashtable(d) = self {
            dict_insert(d, s);
        }
        true
    }

    /// Adds a member given as bytes.
    pub fn add_bytes(&mut self, m: &[u8], lim: &SetLimits) -> bool {
        self.add(Member::Str(m), lim)
    }

    /// Removes a member; true if it was there. Never changes the encoding.
    pub fn remove(&mut self, m: Member<'_>) -> bool {
        match self {
            SetValue::Intset(v) => match m.as_int().map(|i| v.binary_search(&i)) {
                Some(Ok(pos)) => {
                    v.remove(pos);
                    true
                }
                _ => false,
            },
            SetValue::Listpack(l) => m.with_bytes(|s| l.remove(s)),
            SetValue::Hashtable(d) => m.with_bytes(|s| d.remove(hash_key(s), s).is_some()),
        }
    }

    pub fn contains(&self, m: Member<'_>) -> bool {
        match self {
            SetValue::Intset(v) => m.as_int().is_some_and(|i| v.binary_search(&i).is_ok()),
            SetValue::Listpack(l) => m.with_bytes(|s| l.contains(s)),
            SetValue::Hashtable(d) => m.with_bytes(|s| d.get(hash_key(s), s).is_some()),
        }
    }

    pub fn contains_bytes(&self, m: &[u8]) -> bool {
        self.contains(Member::Str(m))
    }

    /// Members in the encoding's order: numeric for an intset, insertion order for a listpack, table
    /// order for a hash table.
    pub fn iter(&self) -> Box<dyn Iterator<Item = Member<'_>> + '_> {
        match self {
            SetValue::Intset(v) => Box::new(v.iter().map(|&i| Member::Int(i))),
            SetValue::Listpack(l) => Box::new(l.iter().map(Member::Str)),
            SetValue::Hashtable(d) => Box::new(d.iter().map(|n| Member::Str(&n.key))),
        }
    }

    /// The `i`-th member in iteration order (O(1) for an intset, O(n) otherwise).
    fn nth(&self, i: usize) -> Option<Member<'_>> {
        match self {
            SetValue::Intset(v) => v.get(i).map(|&x| Member::Int(x)),
            SetValue::Listpack(l) => l.nth(i).map(Member::Str),
            SetValue::Hashtable(d) => d.iter().nth(i).map(|n| Member::Str(&n.key)),
        }
    }

    /// A member picked at random, or `None` if the set is empty.
    pub fn random(&self, rng: &mut impl Rng) -> Option<Member<'_>> {
        match self {
            SetValue::Hashtable(d) => d.random_node(rng, |_| true).map(|n| Member::Str(&n.key)),
            _ if self.is_empty() => None,
            _ => self.nth(rng.gen_range(0..self.len())),
        }
    }

    /// Removes and returns a random member.
    pub fn pop_random(&mut self, rng: &mut impl Rng) -> Option<SmallBytes> {
        match self {
            SetValue::Intset(v) => {
                if v.is_empty() {
                    return None;
                }
                let i = v.remove(rng.gen_range(0..v.len()));
                Some(Member::Int(i).to_small())
            }
            SetValue::Listpack(l) => {
                if l.is_empty() {
                    return None;
                }
                let (at, m) = l.entries().nth(rng.gen_range(0..l.len()))?;
                let out = SmallBytes::new(m);
                l.remove_at(at);
                Some(out)
            }
            SetValue::Hashtable(d) => {
                let key = d.random_node(rng, |_| true)?.key.clone();
                d.remove(hash_key(&key), &key);
                Some(key)
            }
        }
    }

    /// Up to `count` distinct members picked at random, in iteration order (for SRANDMEMBER with a
    /// positive count smaller than the set).
    pub fn sample_distinct(&self, count: usize, rng: &mut impl Rng) -> Vec<Member<'_>> {
        let n = self.len();
        let count = count.min(n);
        let mut idx = sample(rng, n, count).into_vec();
        idx.sort_unstable();
        match self {
            SetValue::Intset(v) => idx.into_iter().map(|i| Member::Int(v[i])).collect(),
            _ => {
                let mut out = Vec::with_capacity(count);
                let mut want = idx.into_iter().peekable();
                for (i, m) in self.iter().enumerate() {
                    match want.peek() {
                        None => break,
                        Some(&w) if w == i => {
                            out.push(m);
                            want.next();
                        }
                        _ => {}
                    }
                }
                out
            }
        }
    }

    /// Converts to an intset if every member is an integer and there are few enough of them (Redis's
    /// `maybeConvertToIntset`, used on SINTERSTORE's result).
    pub fn maybe_convert_to_intset(&mut self, lim: &SetLimits) {
        if matches!(self, SetValue::Intset(_)) || self.len() > lim.intset_max() {
            return;
        }
        let mut v = Vec::with_capacity(self.len());
        for m in self.iter() {
            match m.as_int() {
                Some(i) => v.push(i),
                None => return,
            }
        }
        v.sort_unstable();
        *self = SetValue::Intset(v.into());
    }

    /// The hash table, for cursor scans; `None` for the compact encodings (which SSCAN returns whole).
    pub fn dict(&self) -> Option<&Dict<()>> {
        match self {
            SetValue::Hashtable(d) => Some(d),
            _ => None,
        }
    }
}

impl Clone for SetValue {
    /// Keeps the encoding, as Redis's `setTypeDup` (COPY).
    fn clone(&self) -> Self {
        match self {
            SetValue::Intset(v) => SetValue::Intset(v.clone()),
            SetValue::Listpack(l) => SetValue::Listpack(l.clone()),
            SetValue::Hashtable(d) => {
                let mut nd = dict_with(d.len());
                for n in d.iter() {
                    nd.insert_new(hash_key(&n.key), n.key.clone(), ());
                }
                SetValue::Hashtable(nd)
            }
        }
    }
}

impl PartialEq for SetValue {
    /// Same encoding and same members.
    fn eq(&self, other: &Self) -> bool {
        self.encoding() == other.encoding()
            && self.len() == other.len()
            && self.iter().all(|m| other.contains(m))
    }
}

impl std::fmt::Debug for SetValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.encoding().name())?;
        f.debug_set()
            .entries(self.iter().map(|m| m.to_small()))
            .finish()
    }
}

impl SetValue {
    /// Heap bytes held (MEMORY USAGE), sampling up to `samples` members of a hashtable (0: all).
    pub fn heap_bytes(&self, samples: usize) -> usize {
        match self {
            SetValue::Intset(v) => v.capacity() * 8,
            SetValue::Listpack(lp) => lp.buf.capacity(),
            SetValue::Hashtable(d) => {
                std::mem::size_of::<Dict<()>>()
                    + d.allocated()
                    + super::sampled(d.iter(), d.len(), samples, |n| super::heap_len(&n.key))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    fn members(s: &SetValue) -> Vec<String> {
        s.iter()
            .map(|m| String::from_utf8_lossy(&m.to_small()).into_owned())
            .collect()
    }

    fn set_of(items: &[&str]) -> SetValue {
        let lim = SetLimits::default();
        let mut s = SetValue::create(items[0].as_bytes(), items.len(), &lim);
        for i in items {
            s.add_bytes(i.as_bytes(), &lim);
        }
        s
    }

    #[test]
    fn intset_stays_sorted_and_converts_to_listpack_on_a_string() {
        let mut s = set_of(&["3", "1", "2", "-5"]);
        assert_eq!(s.encoding(), Encoding::Intset);
        assert_eq!(members(&s), ["-5", "1", "2", "3"]);
        assert!(!s.add_bytes(b"2", &SetLimits::default()));
        assert!(s.add_bytes(b"a", &SetLimits::default()));
        assert_eq!(s.encoding(), Encoding::Listpack);
        assert_eq!(members(&s), ["-5", "1", "2", "3", "a"]);
    }

    #[test]
    fn non_canonical_integers_are_strings() {
        for t in ["01", "+1", "-0", " 1", "1 ", "9223372036854775808", ""] {
            let s = set_of(&[t]);
            assert_eq!(s.encoding(), Encoding::Listpack, "{t:?}");
        }
        let s = set_of(&["-9223372036854775808", "9223372036854775807"]);
        assert_eq!(s.encoding(), Encoding::Intset);
    }

    #[test]
    fn thresholds() {
        let lim = SetLimits::default();
        // Intset past 512 entries becomes a hash table.
        let mut s = SetValue::create(b"0", 1, &lim);
        for i in 0..512 {
            s.add_bytes(i.to_string().as_bytes(), &lim);
        }
        assert_eq!(s.encoding(), Encoding::Intset);
        s.add_bytes(b"512", &lim);
        assert_eq!(s.encoding(), Encoding::Hashtable);
        // Intset of 128 and a string: too many for a listpack.
        let mut s = SetValue::create(b"0", 1, &lim);
        for i in 0..128 {
            s.add_bytes(i.to_string().as_bytes(), &lim);
        }
        s.add_bytes(b"x", &lim);
        assert_eq!(s.encoding(), Encoding::Hashtable);
        // Listpack: 128 entries, then one more.
        let mut s = SetValue::create(b"a", 1, &lim);
        for i in 0..128 {
            s.add_bytes(format!("m{i}").as_bytes(), &lim);
        }
        assert_eq!(s.encoding(), Encoding::Listpack);
        s.add_bytes(b"more", &lim);
        assert_eq!(s.encoding(), Encoding::Hashtable);
        // A 65-byte member.
        let mut s = SetValue::create(b"a", 1, &lim);
        s.add_bytes(&[b'x'; 64], &lim);
        assert_eq!(s.encoding(), Encoding::Listpack);
        s.add_bytes(&[b'y'; 65], &lim);
        assert_eq!(s.encoding(), Encoding::Hashtable);
        // Creation hints.
        assert_eq!(
            SetValue::create(b"1", 513, &lim).encoding(),
            Encoding::Hashtable
        );
        assert_eq!(
            SetValue::create(b"1", 512, &lim).encoding(),
            Encoding::Intset
        );
        assert_eq!(
            SetValue::create(b"a", 129, &lim).encoding(),
            Encoding::Hashtable
        );
    }

    #[test]
    fn long_members_use_multi_byte_lengths() {
        let lim = SetLimits {
            listpack_value: 100_000,
            ..SetLimits::default()
        };
        let mut s = SetValue::new_listpack();
        let big = vec![7u8; 70_000];
        assert!(s.add_bytes(&big, &lim));
        assert!(s.add_bytes(b"small", &lim));
        assert!(s.contains_bytes(&big));
        assert!(s.remove(Member::Str(&big)));
        assert_eq!(members(&s), ["small"]);
    }

    #[test]
    fn pop_and_sample() {
        let mut rng = rand::thread_rng();
        for items in [&["1", "2", "3", "4"][..], &["a", "b", "c", "d"][..]] {
            let mut s = set_of(items);
            let picked: BTreeSet<_> = s
                .sample_distinct(3, &mut rng)
                .into_iter()
                .map(|m| m.to_small().to_vec())
                .collect();
            assert_eq!(picked.len(), 3);
            let mut seen = BTreeSet::new();
            while let Some(m) = s.pop_random(&mut rng) {
                assert!(seen.insert(m.to_vec()));
            }
            assert_eq!(seen.len(), 4);
            assert!(s.is_empty());
        }
        let mut s = set_of(&["a"]);
        s.convert_to_hashtable();
        assert_eq!(
            s.pop_random(&mut rng).map(|m| m.to_vec()),
            Some(b"a".to_vec())
        );
        assert!(s.random(&mut rng).is_none());
    }

    #[derive(Debug, Clone)]
    enum Op {
        Add(Vec<u8>),
        Remove(Vec<u8>),
        Pop,
    }

    fn member() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            (-20i64..20).prop_map(|i| i.to_string().into_bytes()),
            proptest::collection::vec(any::<u8>(), 0..4),
            proptest::collection::vec(b'a'..b'c', 60..70),
        ]
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => member().prop_map(Op::Add),
            2 => member().prop_map(Op::Remove),
            1 => Just(Op::Pop),
        ]
    }

    proptest! {
        #[test]
        fn behaves_like_a_btreeset(ops in proptest::collection::vec(op(), 1..200)) {
            let lim = SetLimits { intset_entries: 16, listpack_entries: 8, listpack_value: 64 };
            let mut rng = rand::thread_rng();
            let mut s = SetValue::new_intset();
            let mut model: BTreeSet<Vec<u8>> = BTreeSet::new();
            for op in ops {
                match op {
                    Op::Add(m) => prop_assert_eq!(s.add_bytes(&m, &lim), model.insert(m)),
                    Op::Remove(m) => prop_assert_eq!(s.remove(Member::Str(&m)), model.remove(&m)),
                    Op::Pop => match s.pop_random(&mut rng) {
                        Some(m) => prop_assert!(model.remove(&m.to_vec())),
                        None => prop_assert!(model.is_empty()),
                    },
                }
                prop_assert_eq!(s.len(), model.len());
                let got: BTreeSet<Vec<u8>> = s.iter().map(|m| m.to_small().to_vec()).collect();
                prop_assert_eq!(&got, &model);
                if let SetValue::Intset(v) = &s {
                    prop_assert!(v.windows(2).all(|w| w[0] < w[1]));
                    prop_assert!(v.len() <= 16);
                }
                if let SetValue::Listpack(l) = &s {
                    prop_assert!(l.len() <= 8);
                    prop_assert!(l.iter().all(|m| m.len() <= 64));
                }
                let c = s.clone();
                prop_assert_eq!(&c, &s);
            }
        }
    }
}
