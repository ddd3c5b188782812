//! The list type: a ring buffer of byte strings.
//!
//! Elements up to 22 bytes live inline in the ring ([`SmallBytes`]), so a list of small items is one
//! contiguous allocation with O(1) push/pop at both ends and O(1) indexing (Redis needs a quicklist of
//! listpacks for the same). `OBJECT ENCODING` follows Redis 7.2: `listpack` while the list is within
//! `list-max-listpack-size`, `quicklist` past it, and back to `listpack` once it shrinks to half the
//! limit. The size is estimated as Redis's listpack would store it.

use std::collections::VecDeque;

use crate::smallbytes::SmallBytes;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListValue {
    items: VecDeque<SmallBytes>,
    /// Estimated listpack size of the elements (bytes).
    bytes: usize,
    quicklist: bool,
}

/// Listpack header + end byte.
const LP_OVERHEAD: usize = 7;

/// Bytes one element takes in a listpack (encoding header + payload + back-length).
fn lp_entry_size(e: &[u8]) -> usize {
    let len = e.len();
    let payload = if len <= 20 && crate::protocol::parse_i64(e).is_some() {
        9
    } else if len < 64 {
        1 + len
    } else if len < 4096 {
        2 + len
    } else {
        5 + len
    };
    payload
        + if payload < 128 {
            1
        } else if payload < 16384 {
            2
        } else {
            3
        }
}

/// Which end of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    Left,
    Right,
}

impl ListValue {
    pub fn new() -> ListValue {
        ListValue::default()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// `listpack` or `quicklist`, as Redis 7.2 reports for a list of this size. `max_size` is
    /// `list-max-listpack-size`: negative values are size classes (-1 = 4 KB ... -5 = 64 KB), positive
    /// values count entries.
    pub fn encoding(&self) -> &'static str {
        if self.quicklist {
            "quicklist"
        } else {
            "listpack"
        }
    }

    fn fits(&self, max_size: i64, divisor: usize) -> bool {
        if max_size > 0 {
            self.items.len() <= max_size as usize / divisor
        } else {
            let limit = match max_size {
                -1 => 4096,
                -2 => 8192,
                -3 => 16384,
                -4 => 32768,
                _ => 65536,
            };
            self.bytes + LP_OVERHEAD <= limit / divisor
        }
    }

    /// Re-evaluates the reported encoding after a change (grow: convert past the limit; shrink:
    /// convert back at half of it, as Redis 7.2 does).
    pub fn update_encoding(&mut self, max_size: i64) {
        if !self.quicklist && !self.fits(max_size, 1) {
            self.quicklist = true;
        } else if self.quicklist && self.fits(max_size, 2) {
            self.quicklist = false;
        }
    }

    pub fn push(&mut self, end: End, e: &[u8]) {
        self.bytes += lp_entry_size(e);
        let v = SmallBytes::new(e);
        match end {
            End::Left => self.items.push_front(v),
            End::Right => self.items.push_back(v),
        }
    }

    pub fn pop(&mut self, end: End) -> Option<SmallBytes> {
        let v = match end {
            End::Left => self.items.pop_front(),
            End::Right => self.items.pop_back(),
        }?;
        self.bytes -= lp_entry_size(&v);
        Some(v)
    }

    pub fn get(&self, i: usize) -> Option<&SmallBytes> {
        self.items.get(i)
    }

    /// Replaces element `i`; false if out of range.
    pub fn set(&mut self, i: usize, e: &[u8]) -> bool {
        let Some(slot) = self.items.get_mut(i) else {
            return false;
        };
        self.bytes = self.bytes - lp_entry_size(slot) + lp_entry_size(e);
        *slot = SmallBytes::new(e);
        true
    }

    pub fn insert(&mut self, i: usize, e: &[u8]) {
        self.bytes += lp_entry_size(e);
        self.items.insert(i, SmallBytes::new(e));
    }

    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &SmallBytes> + ExactSizeIterator {
        self.items.iter()
    }

    /// Elements `start..=stop` (already clamped by the caller).
    pub fn range(&self, start: usize, stop: usize) -> impl Iterator<Item = &SmallBytes> {
        self.items.range(start..=stop)
    }

    /// Removes up to `count` elements equal to `e` (0 = all), from the head if `from_head`.
    pub fn remove_matching(&mut self, e: &[u8], count: usize, from_head: bool) -> usize {
        let mut removed = 0;
        let limit = if count == 0 { usize::MAX } else { count };
        if from_head {
            let mut i = 0;
            while i < self.items.len() && removed < limit {
                if self.items[i].as_slice() == e {
                    self.items.remove(i);
                    removed += 1;
                } else {
                    i += 1;
                }
            }
        } else {
            let mut i = self.items.len();
            while i > 0 && removed < limit {
                i -= 1;
                if self.items[i].as_slice() == e {
                    self.items.remove(i);
                    removed += 1;
                }
            }
        }
        self.bytes -= removed * lp_entry_size(e);
        removed
    }

    /// Keeps only elements `start..=stop` (clamped by the caller); empty if `start > stop`.
    pub fn trim(&mut self, start: usize, stop: usize) {
        if start > stop || start >= self.items.len() {
            self.items.clear();
            self.bytes = 0;
            return;
        }
        self.items.truncate(stop + 1);
        self.items.drain(..start);
        self.bytes = self.items.iter().map(|e| lp_entry_size(e)).sum();
    }
}

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

impl ListValue {
    /// Heap bytes held (MEMORY USAGE): the element ring plus, from up to `samples` elements (0: all),
    /// the extrapolated bytes of elements too long to sit inline.
    pub fn heap_bytes(&self, samples: usize) -> usize {
        let ring = self.items.capacity() * std::mem::size_of::<SmallBytes>();
        let n = self.items.len();
        if n == 0 {
            return ring;
        }
        let take = if samples == 0 { n } else { samples.min(n) };
        let sampled: usize = self.items.iter().take(take).map(super::heap_len).sum();
        ring + sampled * n / take
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    enum Op {
        Push(bool, Vec<u8>),
        Pop(bool),
        Set(usize, Vec<u8>),
        Insert(usize, Vec<u8>),
        Remove(Vec<u8>, usize, bool),
        Trim(i64, i64),
    }

    fn op() -> impl Strategy<Value = Op> {
        let elem = prop::collection::vec(prop::sample::select(vec![b'a', b'b', b'1']), 0..30);
        prop_oneof![
            (any::<bool>(), elem.clone()).prop_map(|(l, e)| Op::Push(l, e)),
            any::<bool>().prop_map(Op::Pop),
            (0usize..20, elem.clone()).prop_map(|(i, e)| Op::Set(i, e)),
            (0usize..20, elem.clone()).prop_map(|(i, e)| Op::Insert(i, e)),
            (elem, 0usize..3, any::<bool>()).prop_map(|(e, c, h)| Op::Remove(e, c, h)),
            (-10i64..10, -10i64..10).prop_map(|(a, b)| Op::Trim(a, b)),
        ]
    }

    proptest! {
        #[test]
        fn behaves_like_a_vecdeque(ops in prop::collection::vec(op(), 0..200)) {
            let mut l = ListValue::new();
            let mut model: VecDeque<Vec<u8>> = VecDeque::new();
            for o in ops {
                match o {
                    Op::Push(left, e) => {
                        l.push(if left { End::Left } else { End::Right }, &e);
                        if left { model.push_front(e) } else { model.push_back(e) }
                    }
                    Op::Pop(left) => {
                        let got = l.pop(if left { End::Left } else { End::Right }).map(|v| v.to_vec());
                        let want = if left { model.pop_front() } else { model.pop_back() };
                        prop_assert_eq!(got, want);
                    }
                    Op::Set(i, e) => {
                        prop_assert_eq!(l.set(i, &e), i < model.len());
                        if i < model.len() { model[i] = e; }
                    }
                    Op::Insert(i, e) => {
                        if i <= model.len() { l.insert(i, &e); model.insert(i, e); }
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
                    }
                    Op::Trim(a, b) => {
                        match clamp_range(a, b, model.len()) {
                            Some((s, e)) => { l.trim(s, e); model = model.range(s..=e).cloned().collect(); }
                            None => { l.trim(1, 0); model.clear(); }
                        }
                    }
                }
                prop_assert_eq!(l.len(), model.len());
                let expected_bytes: usize = model.iter().map(|e| lp_entry_size(e)).sum();
                prop_assert_eq!(l.bytes, expected_bytes);
            }
            let items: Vec<Vec<u8>> = l.iter().map(|v| v.to_vec()).collect();
            prop_assert_eq!(items, model.into_iter().collect::<Vec<_>>());
        }
    }

    #[test]
    fn encoding_converts_both_ways() {
        let mut l = ListValue::new();
        for _ in 0..100 {
            l.push(End::Right, &[b'x'; 100]);
            l.update_encoding(-2);
        }
        assert_eq!(l.encoding(), "quicklist");
        while l.len() > 30 {
            l.pop(End::Left);
            l.update_encoding(-2);
        }
        assert_eq!(l.encoding(), "listpack");
        let mut l = ListValue::new();
        for _ in 0..5 {
            l.push(End::Right, b"a");
        }
        l.update_encoding(4);
        assert_eq!(l.encoding(), "quicklist");
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
