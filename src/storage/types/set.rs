//! The set type: a set of binary-safe byte strings in one of Redis 7.2's three encodings.
//!
//! Why three encodings, and why they mimic Redis's conversion rules exactly:
//! * `intset`: sorted integers while every member is a canonical 64-bit integer (the text `string2ll`
//!   accepts: no `+`, no leading zeros, no `-0`) and there are at most `set-max-intset-entries`. As in
//!   Redis, every value is stored at one width (2, 4 or 8 bytes, widened when a bigger value arrives)
//!   in one exactly-sized [`Packed`] buffer: five small integers are 11 bytes. Binary
//!   search, and members come out in numeric order, as in Redis.
//! * `listpack`: one exactly-sized buffer of a member count and length-prefixed entries in insertion
//!   order, for small sets of short strings (at most `set-max-listpack-entries` members of at most
//!   `set-max-listpack-value` bytes). Lookups are linear, which beats hashing at these sizes and costs
//!   no per-member allocation.
//!   The two compact encodings share one enum variant and tell each other apart by the buffer's first
//!   byte (an intset's width is even, a listpack's `2n+1` header odd): a `Packed` has a single niche,
//!   so two `Packed` variants would make `SetValue` 24 bytes and every `Value` 32.
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
use crate::storage::types::packed::{get_varint, put_varint, Packed};

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

/// A listpack set in its buffer (read view): a varint header `2 * count + 1` (odd, which tells it
/// from an intset; one byte below 64 members), then entries `varint(len) bytes` back to back, in
/// insertion order. An empty listpack is the one byte `1`.
#[derive(Clone, Copy)]
struct Members<'a>(&'a [u8]);

impl<'a> Members<'a> {
    #[inline]
    fn len(self) -> usize {
        if self.0.is_empty() {
            0
        } else {
            get_varint(self.0, 0).0 >> 1
        }
    }

    /// Entries as `(offset of the entry, its bytes)`.
    fn entries(self) -> impl Iterator<Item = (usize, &'a [u8])> {
        let buf = self.0;
        let mut pos = if buf.is_empty() {
            0
        } else {
            get_varint(buf, 0).1
        };
        std::iter::from_fn(move || {
            if pos >= buf.len() {
                return None;
            }
            let at = pos;
            let (n, start) = get_varint(buf, pos);
            pos = start + n;
            Some((at, &buf[start..pos]))
        })
    }

    fn iter(self) -> impl Iterator<Item = &'a [u8]> {
        self.entries().map(|(_, b)| b)
    }

    fn find(self, m: &[u8]) -> Option<usize> {
        self.entries().find(|(_, b)| *b == m).map(|(at, _)| at)
    }

    fn contains(self, m: &[u8]) -> bool {
        self.find(m).is_some()
    }
}

/// An empty listpack set.
fn lp_new() -> Packed {
    Packed::from_slice(&[1])
}

/// A listpack of `n` encoded entries, in one allocation.
fn lp_from_body(body: &[u8], n: usize) -> Packed {
    let mut p = lp_new();
    p.splice_counted(1..1, body, 2 * n + 1);
    p
}

/// Appends a member known to be absent.
fn lp_push(p: &mut Packed, m: &[u8]) {
    let mut e = Vec::with_capacity(m.len() + 2);
    put_varint(&mut e, m.len());
    e.extend_from_slice(m);
    let end = p.len();
    let n = Members(p.as_slice()).len() + 1;
    p.splice_counted(end..end, &e, 2 * n + 1);
}

/// Removes the entry at byte offset `at`.
fn lp_remove_at(p: &mut Packed, at: usize) {
    let (n, start) = get_varint(p.as_slice(), at);
    let left = Members(p.as_slice()).len() - 1;
    p.splice_counted(at..start + n, &[], 2 * left + 1);
}

/// An intset in its buffer (read view), Redis's layout: one byte giving the width of every value (2,
/// 4 or 8: the narrowest that holds them all; even, which tells it from a listpack), then the values
/// sorted ascending, little endian, at that width. The count is `(bytes - 1) / width`, so it is not
/// stored. A value too wide for the current width upgrades the whole buffer (never downgraded, as in
/// Redis). An empty intset is an empty buffer.
#[derive(Clone, Copy)]
struct Ints<'a>(&'a [u8]);

/// The narrowest intset width (bytes) that holds `v`.
fn int_width(v: i64) -> usize {
    if i16::try_from(v).is_ok() {
        2
    } else if i32::try_from(v).is_ok() {
        4
    } else {
        8
    }
}

/// Reads the value of `width` bytes at `b`.
#[inline]
fn read_int(b: &[u8], width: usize) -> i64 {
    match width {
        2 => i64::from(i16::from_le_bytes([b[0], b[1]])),
        4 => i64::from(i32::from_le_bytes([b[0], b[1], b[2], b[3]])),
        _ => i64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]),
    }
}

/// Appends `v` at `width` bytes (which holds it).
fn write_int(out: &mut Vec<u8>, v: i64, width: usize) {
    out.extend_from_slice(&v.to_le_bytes()[..width]);
}

impl<'a> Ints<'a> {
    #[inline]
    fn width(self) -> usize {
        self.0.first().map_or(2, |&w| usize::from(w))
    }

    #[inline]
    fn len(self) -> usize {
        match self.0.first() {
            Some(&w) => (self.0.len() - 1) / usize::from(w),
            None => 0,
        }
    }

    /// The `i`-th smallest value.
    #[inline]
    fn get(self, i: usize) -> Option<i64> {
        if i >= self.len() {
            return None;
        }
        let w = self.width();
        Some(read_int(&self.0[1 + i * w..], w))
    }

    /// `Ok(index)` of `v`, or `Err(index it would go at)`.
    fn search(self, v: i64) -> Result<usize, usize> {
        let w = self.width();
        let len = self.len();
        if len == 0 || int_width(v) > w {
            // Wider than every value here: below or above them all.
            return Err(if v < 0 { 0 } else { len });
        }
        let (mut lo, mut hi) = (0, len);
        let b = &self.0[1..];
        while lo < hi {
            let mid = (lo + hi) / 2;
            match read_int(&b[mid * w..], w).cmp(&v) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Ok(mid),
            }
        }
        Err(lo)
    }

    fn contains(self, v: i64) -> bool {
        self.search(v).is_ok()
    }

    /// The values, ascending.
    fn iter(self) -> impl Iterator<Item = i64> + 'a {
        let w = self.width();
        self.0
            .get(1..)
            .unwrap_or(&[])
            .chunks_exact(w)
            .map(move |c| read_int(c, w))
    }
}

/// Inserts `v` into an intset; false if it was there.
fn ints_insert(p: &mut Packed, v: i64) -> bool {
    let ints = Ints(p.as_slice());
    let pos = match ints.search(v) {
        Ok(_) => return false,
        Err(pos) => pos,
    };
    let (w, len) = (ints.width(), ints.len());
    let need = int_width(v);
    if len == 0 || need > w {
        // Upgrade (or first value): rewrite every value at the new width.
        let nw = if len == 0 { need } else { need.max(w) };
        let mut out = Vec::with_capacity(1 + (len + 1) * nw);
        out.push(nw as u8);
        for (i, x) in ints.iter().enumerate() {
            if i == pos {
                write_int(&mut out, v, nw);
            }
            write_int(&mut out, x, nw);
        }
        if pos == len {
            write_int(&mut out, v, nw);
        }
        *p = Packed::from_slice(&out);
    } else {
        p.insert(1 + pos * w, &v.to_le_bytes()[..w]);
    }
    true
}

/// Removes the value at index `i` (which exists) from an intset.
fn ints_remove_at(p: &mut Packed, i: usize) {
    let ints = Ints(p.as_slice());
    if ints.len() == 1 {
        *p = Packed::new();
        return;
    }
    let w = ints.width();
    p.remove(1 + i * w..1 + (i + 1) * w);
}

/// An intset of sorted, distinct values, in one allocation.
fn ints_from_sorted(v: &[i64]) -> Packed {
    let (Some(&lo), Some(&hi)) = (v.first(), v.last()) else {
        return Packed::new();
    };
    let w = int_width(lo).max(int_width(hi));
    let mut out = Vec::with_capacity(1 + v.len() * w);
    out.push(w as u8);
    for &x in v {
        write_int(&mut out, x, w);
    }
    Packed::from_slice(&out)
}

/// A set value in one of its three encodings.
pub enum SetValue {
    /// An intset or a listpack, told apart by the buffer's first byte (even or absent: intset; odd:
    /// listpack). One variant for both because a [`Packed`] has a single niche (its non-null
    /// pointer), room for one more variant: this way `SetValue` stays 16 bytes and `Value` 24.
    Compact(Packed),
    Hashtable(Box<Dict<()>>),
}

/// A set's contents, seen through its encoding.
enum View<'a> {
    Int(Ints<'a>),
    Lp(Members<'a>),
    Table(&'a Dict<()>),
}

/// Whether a compact buffer holds a listpack (else an intset).
#[inline]
fn is_listpack(p: &Packed) -> bool {
    p.as_slice().first().is_some_and(|b| b & 1 == 1)
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
        SetValue::Compact(Packed::new())
    }

    pub fn new_listpack() -> SetValue {
        SetValue::Compact(lp_new())
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

    #[inline]
    fn view(&self) -> View<'_> {
        match self {
            SetValue::Compact(p) if is_listpack(p) => View::Lp(Members(p.as_slice())),
            SetValue::Compact(p) => View::Int(Ints(p.as_slice())),
            SetValue::Hashtable(d) => View::Table(d),
        }
    }

    pub fn encoding(&self) -> Encoding {
        match self.view() {
            View::Int(_) => Encoding::Intset,
            View::Lp(_) => Encoding::Listpack,
            View::Table(_) => Encoding::Hashtable,
        }
    }

    pub fn len(&self) -> usize {
        match self.view() {
            View::Int(v) => v.len(),
            View::Lp(l) => l.len(),
            View::Table(d) => d.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Converts to a hash table before adding about `size_hint` members when a compact encoding could
    /// not hold that many anyway (Redis's `setTypeMaybeConvert`, used by SADD).
    pub fn maybe_convert(&mut self, size_hint: usize, lim: &SetLimits) {
        let convert = match self.view() {
            View::Lp(_) => size_hint > lim.listpack_entries,
            View::Int(_) => size_hint > lim.intset_entries,
            View::Table(_) => false,
        };
        if convert {
            self.convert_to_hashtable();
        }
    }

    /// Converts to the hash-table encoding (keeps it if already so).
    pub fn convert_to_hashtable(&mut self) {
        let mut d = dict_with(self.len());
        match self.view() {
            View::Table(_) => return,
            View::Int(v) => {
                let mut b = itoa::Buffer::new();
                for i in v.iter() {
                    dict_insert(&mut d, b.format(i).as_bytes());
                }
            }
            View::Lp(l) => {
                for m in l.iter() {
                    dict_insert(&mut d, m);
                }
            }
        }
        *self = SetValue::Hashtable(d);
    }

    /// The intset's members as text, then `extra`, as a listpack in one allocation.
    fn intset_to_listpack(v: Ints<'_>, extra: &[u8]) -> Packed {
        let mut b = itoa::Buffer::new();
        let mut body = Vec::new();
        for i in v.iter() {
            let t = b.format(i).as_bytes();
            put_varint(&mut body, t.len());
            body.extend_from_slice(t);
        }
        put_varint(&mut body, extra.len());
        body.extend_from_slice(extra);
        lp_from_body(&body, v.len() + 1)
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
            SetValue::Compact(p) if is_listpack(p) => {
                let l = Members(p.as_slice());
                if l.contains(s) {
                    return false;
                }
                if l.len() < lim.listpack_entries && s.len() <= lim.listpack_value {
                    lp_push(p, s);
                    return true;
                }
            }
            SetValue::Compact(p) => {
                if let Some(i) = m.as_int() {
                    if !ints_insert(p, i) {
                        return false;
                    }
                    if Ints(p.as_slice()).len() > lim.intset_max() {
                        self.convert_to_hashtable();
                    }
                    return true;
                }
                // A non-integer: become a listpack if everything fits, else a hash table.
                let v = Ints(p.as_slice());
                let maxelelen = match (v.get(0), v.len().checked_sub(1).and_then(|i| v.get(i))) {
                    (Some(lo), Some(hi)) => sdigits10(lo).max(sdigits10(hi)),
                    _ => 0,
                };
                if v.len() < lim.listpack_entries
                    && s.len() <= lim.listpack_value
                    && maxelelen <= lim.listpack_value
                {
                    *p = Self::intset_to_listpack(v, s);
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
            SetValue::Compact(p) if is_listpack(p) => {
                m.with_bytes(|s| match Members(p.as_slice()).find(s) {
                    Some(at) => {
                        lp_remove_at(p, at);
                        true
                    }
                    None => false,
                })
            }
            SetValue::Compact(p) => match m.as_int().map(|i| Ints(p.as_slice()).search(i)) {
                Some(Ok(at)) => {
                    ints_remove_at(p, at);
                    true
                }
                _ => false,
            },
            SetValue::Hashtable(d) => m.with_bytes(|s| d.remove(hash_key(s), s).is_some()),
        }
    }

    pub fn contains(&self, m: Member<'_>) -> bool {
        match self.view() {
            View::Int(v) => m.as_int().is_some_and(|i| v.contains(i)),
            View::Lp(l) => m.with_bytes(|s| l.contains(s)),
            View::Table(d) => m.with_bytes(|s| d.get(hash_key(s), s).is_some()),
        }
    }

    pub fn contains_bytes(&self, m: &[u8]) -> bool {
        self.contains(Member::Str(m))
    }

    /// Members in the encoding's order: numeric for an intset, insertion order for a listpack, table
    /// order for a hash table.
    pub fn iter(&self) -> Box<dyn Iterator<Item = Member<'_>> + '_> {
        match self.view() {
            View::Int(v) => Box::new(v.iter().map(Member::Int)),
            View::Lp(l) => Box::new(l.iter().map(Member::Str)),
            View::Table(d) => Box::new(d.iter().map(|n| Member::Str(&n.key))),
        }
    }

    /// The `i`-th member in iteration order (O(1) for an intset, O(n) otherwise).
    fn nth(&self, i: usize) -> Option<Member<'_>> {
        match self.view() {
            View::Int(v) => v.get(i).map(Member::Int),
            View::Lp(l) => l.iter().nth(i).map(Member::Str),
            View::Table(d) => d.iter().nth(i).map(|n| Member::Str(&n.key)),
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
            SetValue::Compact(p) if is_listpack(p) => {
                let l = Members(p.as_slice());
                if l.len() == 0 {
                    return None;
                }
                let (at, m) = l.entries().nth(rng.gen_range(0..l.len()))?;
                let out = SmallBytes::new(m);
                lp_remove_at(p, at);
                Some(out)
            }
            SetValue::Compact(p) => {
                let v = Ints(p.as_slice());
                if v.len() == 0 {
                    return None;
                }
                let at = rng.gen_range(0..v.len());
                let i = v.get(at)?;
                ints_remove_at(p, at);
                Some(Member::Int(i).to_small())
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
        match self.view() {
            View::Int(v) => idx
                .into_iter()
                .filter_map(|i| v.get(i).map(Member::Int))
                .collect(),
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
        if self.encoding() == Encoding::Intset || self.len() > lim.intset_max() {
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
        *self = SetValue::Compact(ints_from_sorted(&v));
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
            SetValue::Compact(p) => SetValue::Compact(p.clone()),
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
            SetValue::Compact(p) => p.heap_bytes(),
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
    fn intset_widens_when_a_wider_value_arrives() {
        let mut p = Packed::new();
        let ints = |p: &Packed| Ints(p.as_slice()).iter().collect::<Vec<_>>();
        assert_eq!(Ints(p.as_slice()).len(), 0);
        for x in [5, -3, 1000] {
            assert!(ints_insert(&mut p, x));
        }
        assert!(!ints_insert(&mut p, 5));
        assert_eq!((Ints(p.as_slice()).width(), p.heap_bytes()), (2, 1 + 3 * 2));
        // Past i16: every value rewritten at 4 bytes, order kept, the new one placed.
        assert!(ints_insert(&mut p, -40_000));
        assert_eq!(
            (Ints(p.as_slice()).width(), Ints(p.as_slice()).len()),
            (4, 4)
        );
        assert_eq!(ints(&p), [-40_000, -3, 5, 1000]);
        for x in [i64::MAX, i64::MIN, 3_000_000_000] {
            assert!(ints_insert(&mut p, x));
        }
        assert_eq!((Ints(p.as_slice()).width(), p.heap_bytes()), (8, 1 + 7 * 8));
        let all = [i64::MIN, -40_000, -3, 5, 1000, 3_000_000_000, i64::MAX];
        assert_eq!(ints(&p), all);
        for x in all {
            assert!(Ints(p.as_slice()).contains(x));
        }
        for x in [4, i64::MAX - 1, -70_000] {
            assert!(!Ints(p.as_slice()).contains(x));
        }
        // Removing the wide values keeps the width, as in Redis.
        let mut s = SetValue::Compact(p);
        assert!(s.remove(Member::Int(i64::MAX)) && s.remove(Member::Int(i64::MIN)));
        assert!(!s.remove(Member::Int(i64::MIN)));
        assert_eq!(s.encoding(), Encoding::Intset);
        assert_eq!(s.heap_bytes(0), 1 + 5 * 8);
        assert_eq!(s.nth(0), Some(Member::Int(-40_000)));
        assert_eq!(s.nth(4), Some(Member::Int(3_000_000_000)));
        assert_eq!(s.nth(5), None);
        // A wide value below or above a narrow set, and narrow values around it.
        let mut w = ints_from_sorted(&[1, 2, 3]);
        assert_eq!(Ints(w.as_slice()).width(), 2);
        for x in [-(1 << 40), 1 << 40, 0] {
            assert!(ints_insert(&mut w, x));
        }
        assert_eq!(ints(&w), [-(1 << 40), 0, 1, 2, 3, 1 << 40]);
        let mut s = SetValue::Compact(w);
        for x in [-(1 << 40), 0, 1, 2, 3, 1 << 40] {
            assert!(s.remove(Member::Int(x)));
        }
        assert!(s.is_empty());
        assert_eq!(s.heap_bytes(0), 0);
        assert_eq!(s.encoding(), Encoding::Intset);
    }

    #[test]
    fn compact_sets_are_exact_buffers() {
        assert_eq!(std::mem::size_of::<SetValue>(), 16);
        let s = set_of(&["1", "2", "3", "4", "5"]);
        assert_eq!((s.encoding(), s.heap_bytes(0)), (Encoding::Intset, 11));
        let s = set_of(&["m1", "m2", "m3", "m4", "m5"]);
        assert_eq!((s.encoding(), s.heap_bytes(0)), (Encoding::Listpack, 16));
        // The header is 2n+1: two bytes from 64 members.
        let lim = SetLimits::default();
        let mut s = SetValue::new_listpack();
        for i in 0..64 {
            s.add_bytes(format!("{i:02}x").as_bytes(), &lim);
        }
        assert_eq!((s.len(), s.heap_bytes(0)), (64, 2 + 64 * 4));
        assert!(s.remove(Member::Str(b"00x")));
        assert_eq!((s.len(), s.heap_bytes(0)), (63, 1 + 63 * 4));
        assert!(s.contains_bytes(b"63x") && !s.contains_bytes(b"00x"));
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
                if let View::Int(v) = s.view() {
                    let v: Vec<i64> = v.iter().collect();
                    prop_assert!(v.windows(2).all(|w| w[0] < w[1]));
                    prop_assert!(v.len() <= 16);
                }
                if let View::Lp(l) = s.view() {
                    prop_assert!(l.len() <= 8);
                    prop_assert!(l.iter().all(|m| m.len() <= 64));
                }
                let c = s.clone();
                prop_assert_eq!(&c, &s);
            }
        }
    }
}
