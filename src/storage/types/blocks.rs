//! A deque stored as fixed-capacity blocks: what a big list keeps its elements in.
//!
//! Why it is built this way:
//! * A `VecDeque` doubles when it fills, and that one push copies the whole deque: on an
//!   8M-element list a single RPUSH took 70 ms. A queue (LPUSH/BRPOP) must never stall like that.
//!   Redis's quicklist (a linked list of small listpacks) has no such step, and neither has this.
//! * The elements live in blocks of exactly `B` slots (`VecDeque<T>` created with capacity `B`),
//!   held in order by an outer `VecDeque`. A block is never pushed into while full, so it never
//!   reallocates; a push that finds its end block full starts a new block. Growth copies only the
//!   outer deque of block headers, 32 bytes per `B` = 256 elements: 1 MB at 8M elements (about
//!   0.5 ms, measured) where a `VecDeque` of list elements copies 192 MB.
//! * Every block except the first and the last is exactly full, and no block is empty. That keeps
//!   indexing O(1), as LINDEX, LSET and LRANGE on a long list need: element `i` is in the first
//!   block when `i < first.len()`, else in block `1 + (i - first.len()) / B` at
//!   `(i - first.len()) % B`. Redis's quicklist walks its nodes for that.
//! * Inserting or removing one element in the middle (LINSERT) moves one element between each pair
//!   of neighbouring blocks from the spot to the nearer end: O(B + n/B), where a `VecDeque` moves up
//!   to n/2 elements. Removing many at once (LREM) is one O(n) compaction pass ([`remove_where`]).
//!
//! [`remove_where`]: BlockDeque::remove_where

use std::collections::{vec_deque, VecDeque};
use std::fmt;
use std::iter::FusedIterator;
use std::ops::{Bound, RangeBounds};

/// Elements per block: 256 list elements of 24 bytes are 6 KB, big enough that the outer deque is
/// small and its growth cheap, small enough that an insert in a block moves little.
pub const BLOCK: usize = 256;

/// A double-ended queue of blocks of `B` elements each (see the module docs).
pub struct BlockDeque<T, const B: usize = BLOCK> {
    blocks: VecDeque<VecDeque<T>>,
    len: usize,
}

impl<T, const B: usize> BlockDeque<T, B> {
    pub fn new() -> Self {
        const { assert!(B > 0, "a block holds at least one element") };
        BlockDeque {
            blocks: VecDeque::new(),
            len: 0,
        }
    }

    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Element slots allocated: blocks × `B`.
    pub fn capacity(&self) -> usize {
        self.blocks.len() * B
    }

    /// Heap bytes the deque allocates itself (its blocks and the outer deque of block headers), not
    /// counting what the elements own.
    pub fn heap_bytes(&self) -> usize {
        self.blocks.capacity() * std::mem::size_of::<VecDeque<T>>()
            + self.capacity() * std::mem::size_of::<T>()
    }

    /// A new block holding `v`: the only way blocks are made, so each has room for exactly `B`.
    fn block_of(v: T) -> VecDeque<T> {
        let mut b = VecDeque::with_capacity(B);
        b.push_back(v);
        b
    }

    /// Block and offset of element `i` (`i < len`).
    #[inline]
    fn locate(&self, i: usize) -> (usize, usize) {
        locate::<B>(self.blocks.front().map_or(0, VecDeque::len), i)
    }

    #[inline]
    pub fn push_back(&mut self, v: T) {
        match self.blocks.back_mut() {
            Some(b) if b.len() < B => b.push_back(v),
            _ => self.blocks.push_back(Self::block_of(v)),
        }
        self.len += 1;
    }

    #[inline]
    pub fn push_front(&mut self, v: T) {
        match self.blocks.front_mut() {
            Some(b) if b.len() < B => b.push_front(v),
            _ => self.blocks.push_front(Self::block_of(v)),
        }
        self.len += 1;
    }

    #[inline]
    pub fn pop_front(&mut self) -> Option<T> {
        let first = self.blocks.front_mut()?;
        let v = first.pop_front();
        if first.is_empty() {
            self.blocks.pop_front();
        }
        self.len -= 1;
        v
    }

    #[inline]
    pub fn pop_back(&mut self) -> Option<T> {
        let last = self.blocks.back_mut()?;
        let v = last.pop_back();
        if last.is_empty() {
            self.blocks.pop_back();
        }
        self.len -= 1;
        v
    }

    pub fn front(&self) -> Option<&T> {
        self.blocks.front()?.front()
    }

    pub fn back(&self) -> Option<&T> {
        self.blocks.back()?.back()
    }

    /// Element `i`, or `None` past the end.
    #[inline]
    pub fn get(&self, i: usize) -> Option<&T> {
        if i >= self.len {
            return None;
        }
        let (b, o) = self.locate(i);
        self.blocks.get(b)?.get(o)
    }

    #[inline]
    pub fn get_mut(&mut self, i: usize) -> Option<&mut T> {
        if i >= self.len {
            return None;
        }
        let (b, o) = self.locate(i);
        self.blocks.get_mut(b)?.get_mut(o)
    }

    /// Inserts `v` before element `i` (`i == len` appends): each full block between the spot and
    /// the nearer end passes one element on to its neighbour.
    ///
    /// # Panics
    /// If `i > len`, like `VecDeque::insert`.
    pub fn insert(&mut self, i: usize, v: T) {
        assert!(
            i <= self.len,
            "insertion index {i} past the length {}",
            self.len
        );
        if i == self.len {
            return self.push_back(v);
        }
        if i == 0 {
            return self.push_front(v);
        }
        let (b, o) = self.locate(i);
        self.len += 1;
        // Only the first and the last block can have room.
        if self.blocks[b].len() < B {
            self.blocks[b].insert(o, v);
            return;
        }
        let n = self.blocks.len();
        if b < n - 1 - b {
            // Toward the front: the block's first element moves to the end of the previous block.
            let mut carry = if o == 0 {
                v
            } else {
                let blk = &mut self.blocks[b];
                let c = blk.pop_front().expect("a full block is not empty");
                blk.insert(o - 1, v);
                c
            };
            for k in (0..b).rev() {
                let blk = &mut self.blocks[k];
                if blk.len() < B {
                    blk.push_back(carry);
                    return;
                }
                let next = blk.pop_front().expect("a full block is not empty");
                blk.push_back(carry);
                carry = next;
            }
            self.blocks.push_front(Self::block_of(carry));
        } else {
            // Toward the back: the block's last element moves to the start of the next block.
            let blk = &mut self.blocks[b];
            let mut carry = blk.pop_back().expect("a full block is not empty");
            blk.insert(o, v);
            for k in b + 1..n {
                let blk = &mut self.blocks[k];
                if blk.len() < B {
                    blk.push_front(carry);
                    return;
                }
                let next = blk.pop_back().expect("a full block is not empty");
                blk.push_front(carry);
                carry = next;
            }
            self.blocks.push_back(Self::block_of(carry));
        }
    }

    /// Removes and returns element `i` (`None` past the end): the blocks between the gap and the
    /// nearer end each pass one element on to refill it.
    pub fn remove(&mut self, i: usize) -> Option<T> {
        if i >= self.len {
            return None;
        }
        let (b, o) = self.locate(i);
        let v = self.blocks.get_mut(b)?.remove(o)?;
        self.len -= 1;
        let n = self.blocks.len();
        if b == 0 || b == n - 1 {
            // An end block may hold any number of elements but none.
            if self.blocks[b].is_empty() {
                if b == 0 {
                    self.blocks.pop_front();
                } else {
                    self.blocks.pop_back();
                }
            }
        } else if b < n - 1 - b {
            for k in (0..b).rev() {
                let moved = self.blocks[k].pop_back().expect("blocks are never empty");
                self.blocks[k + 1].push_front(moved);
            }
            if self.blocks[0].is_empty() {
                self.blocks.pop_front();
            }
        } else {
            for k in b + 1..n {
                let moved = self.blocks[k].pop_front().expect("blocks are never empty");
                self.blocks[k - 1].push_back(moved);
            }
            if self.blocks[n - 1].is_empty() {
                self.blocks.pop_back();
            }
        }
        Some(v)
    }

    /// Keeps the first `n` elements, dropping whole blocks past them at once.
    pub fn truncate(&mut self, n: usize) {
        if n >= self.len {
            return;
        }
        if n == 0 {
            return self.clear();
        }
        let (b, o) = self.locate(n);
        self.blocks.truncate(b + 1);
        if o == 0 {
            self.blocks.pop_back();
        } else {
            self.blocks[b].truncate(o);
        }
        self.len = n;
    }

    /// Drops the first `n` elements (all if `n >= len`), whole blocks at once.
    pub fn drop_front(&mut self, n: usize) {
        if n >= self.len {
            return self.clear();
        }
        if n == 0 {
            return;
        }
        let (b, o) = self.locate(n);
        self.blocks.drain(..b);
        // Element `n` is at `o` in what is now the first block, so it keeps at least that one.
        self.blocks[0].drain(..o);
        self.len -= n;
    }

    pub fn clear(&mut self) {
        self.blocks.clear();
        self.len = 0;
    }

    /// Removes up to `limit` elements for which `matches` holds: the first ones from the head, or
    /// with `from_back` the last ones. Returns how many were removed.
    ///
    /// O(n) whatever the number removed: a scan finds the span of the elements to remove (stopping
    /// at the `limit`-th), then one pass moves the kept elements on that span's shorter side over
    /// the gaps, and the removed ones, gathered at that end, are dropped. `matches` must answer the
    /// same for an element each time (it is asked again in the second pass).
    pub fn remove_where(
        &mut self,
        limit: usize,
        from_back: bool,
        mut matches: impl FnMut(&T) -> bool,
    ) -> usize {
        if limit == 0 || self.len == 0 {
            return 0;
        }
        // The elements to remove are `k` consecutive matches (in the order of the matches) from
        // `first` to `last`: so from `first` forwards, or from `last` backwards, they are the first
        // `k` matches met.
        let (mut first, mut last, mut k) = (0, 0, 0);
        if from_back {
            for (i, x) in self.iter().enumerate().rev() {
                if matches(x) {
                    if k == 0 {
                        last = i;
                    }
                    first = i;
                    k += 1;
                    if k == limit {
                        break;
                    }
                }
            }
        } else {
            for (i, x) in self.iter().enumerate() {
                if matches(x) {
                    if k == 0 {
                        first = i;
                    }
                    last = i;
                    k += 1;
                    if k == limit {
                        break;
                    }
                }
            }
        }
        if k == 0 {
            return 0;
        }
        let len = self.len;
        let first_len = self.blocks.front().map_or(0, VecDeque::len);
        let blocks = self.blocks.make_contiguous();
        let at = |i: usize| locate::<B>(first_len, i);
        let mut removed = 0;
        if len - first <= last + 1 {
            // Move the kept elements after `first` toward the front; the removed end up last.
            let mut w = first;
            for r in first..len {
                let (rb, ro) = at(r);
                if removed < k && matches(&blocks[rb][ro]) {
                    removed += 1;
                } else {
                    swap_slots(blocks, at(w), (rb, ro));
                    w += 1;
                }
            }
            self.truncate(len - k);
        } else {
            // Move the kept elements before `last` toward the back; the removed end up first.
            let mut w = last;
            for r in (0..=last).rev() {
                let (rb, ro) = at(r);
                if removed < k && matches(&blocks[rb][ro]) {
                    removed += 1;
                } else {
                    swap_slots(blocks, at(w), (rb, ro));
                    // Cannot pass 0: `last + 1 - k` elements are kept and `w` starts at `last`.
                    w = w.saturating_sub(1);
                }
            }
            self.drop_front(k);
        }
        k
    }

    pub fn iter(&self) -> Iter<'_, T> {
        self.range(..)
    }

    /// `range` as `start..end`.
    ///
    /// # Panics
    /// If the range starts after it ends or ends past the length, like `VecDeque::range`.
    fn bounds(&self, range: impl RangeBounds<usize>) -> (usize, usize) {
        let start = match range.start_bound() {
            Bound::Included(&s) => s,
            Bound::Excluded(&s) => s.saturating_add(1),
            Bound::Unbounded => 0,
        };
        let end = match range.end_bound() {
            Bound::Included(&e) => e.saturating_add(1),
            Bound::Excluded(&e) => e,
            Bound::Unbounded => self.len,
        };
        assert!(
            start <= end && end <= self.len,
            "range {start}..{end} out of bounds of length {}",
            self.len
        );
        (start, end)
    }

    /// The elements in `range`, as one iterator that starts there directly.
    ///
    /// # Panics
    /// If the range starts after it ends or ends past the length, like `VecDeque::range`.
    pub fn range(&self, range: impl RangeBounds<usize>) -> Iter<'_, T> {
        let (start, end) = self.bounds(range);
        if start == end {
            return Iter::default();
        }
        let (b0, o0) = self.locate(start);
        let (b1, o1) = self.locate(end - 1);
        if b0 == b1 {
            Iter {
                front: self.blocks[b0].range(o0..=o1),
                mid: self.blocks.range(0..0),
                back: vec_deque::Iter::default(),
                len: end - start,
            }
        } else {
            Iter {
                front: self.blocks[b0].range(o0..),
                mid: self.blocks.range(b0 + 1..b1),
                back: self.blocks[b1].range(..=o1),
                len: end - start,
            }
        }
    }

    /// The elements in `range` as the contiguous slices they are stored in, in order (up to two
    /// per block, as a block's ring may wrap): a caller that copies them out (LRANGE's reply) gets
    /// a plain slice loop per run.
    ///
    /// # Panics
    /// As [`range`](Self::range).
    pub fn range_slices(
        &self,
        range: impl RangeBounds<usize>,
    ) -> impl Iterator<Item = &[T]> + Clone + '_ {
        let (start, end) = self.bounds(range);
        // Blocks `b0..=b1`, from offset `o0` in the first to `o1` in the last, if any.
        let (b0, o0, b1, o1, n) = if start == end {
            (0, 0, 0, 0, 0)
        } else {
            let (b0, o0) = self.locate(start);
            let (b1, o1) = self.locate(end - 1);
            (b0, o0, b1, o1, b1 + 1 - b0)
        };
        self.blocks
            .range(b0..b0 + n)
            .enumerate()
            .flat_map(move |(k, blk)| {
                let lo = if k == 0 { o0 } else { 0 };
                let hi = if b0 + k == b1 { o1 + 1 } else { blk.len() };
                let (a, b) = blk.as_slices();
                let split = a.len();
                if hi <= split {
                    [&a[lo..hi], &[][..]]
                } else if lo >= split {
                    [&b[lo - split..hi - split], &[][..]]
                } else {
                    [&a[lo..], &b[..hi - split]]
                }
            })
            .filter(|run| !run.is_empty())
    }

    /// The elements from `start` to the end.
    pub fn range_from(&self, start: usize) -> Iter<'_, T> {
        self.range(start..)
    }
}

/// Block and offset of element `i` when the first block holds `first_len`.
#[inline]
fn locate<const B: usize>(first_len: usize, i: usize) -> (usize, usize) {
    if i < first_len {
        (0, i)
    } else {
        let j = i - first_len;
        (1 + j / B, j % B)
    }
}

/// Swaps two elements given as (block, offset).
fn swap_slots<T>(blocks: &mut [VecDeque<T>], a: (usize, usize), b: (usize, usize)) {
    if a.0 == b.0 {
        blocks[a.0].swap(a.1, b.1);
    } else {
        let (lo, hi) = if a.0 < b.0 { (a, b) } else { (b, a) };
        let (left, right) = blocks.split_at_mut(hi.0);
        std::mem::swap(&mut left[lo.0][lo.1], &mut right[0][hi.1]);
    }
}

impl<T, const B: usize> Default for BlockDeque<T, B> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Clone, const B: usize> Clone for BlockDeque<T, B> {
    /// Block by block, each new block with room for `B` (a `VecDeque`'s own clone would size it to
    /// its length, and the next push into it would reallocate).
    fn clone(&self) -> Self {
        let mut blocks = VecDeque::with_capacity(self.blocks.len());
        for b in &self.blocks {
            let mut nb = VecDeque::with_capacity(B);
            nb.extend(b.iter().cloned());
            blocks.push_back(nb);
        }
        BlockDeque {
            blocks,
            len: self.len,
        }
    }
}

impl<T: fmt::Debug, const B: usize> fmt::Debug for BlockDeque<T, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<T: PartialEq, const B: usize> PartialEq for BlockDeque<T, B> {
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len && self.iter().eq(other.iter())
    }
}

impl<T: Eq, const B: usize> Eq for BlockDeque<T, B> {}

impl<T, const B: usize> Extend<T> for BlockDeque<T, B> {
    fn extend<I: IntoIterator<Item = T>>(&mut self, iter: I) {
        for v in iter {
            self.push_back(v);
        }
    }
}

impl<T, const B: usize> FromIterator<T> for BlockDeque<T, B> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        let mut d = Self::new();
        d.extend(iter);
        d
    }
}

impl<'a, T, const B: usize> IntoIterator for &'a BlockDeque<T, B> {
    type Item = &'a T;
    type IntoIter = Iter<'a, T>;

    fn into_iter(self) -> Iter<'a, T> {
        self.iter()
    }
}

/// Elements of a [`BlockDeque`] in order, from either end: the rest of the first block, the full
/// blocks between, then the start of the last block.
pub struct Iter<'a, T> {
    front: vec_deque::Iter<'a, T>,
    mid: vec_deque::Iter<'a, VecDeque<T>>,
    back: vec_deque::Iter<'a, T>,
    len: usize,
}

impl<T> Default for Iter<'_, T> {
    fn default() -> Self {
        Iter {
            front: vec_deque::Iter::default(),
            mid: vec_deque::Iter::default(),
            back: vec_deque::Iter::default(),
            len: 0,
        }
    }
}

impl<T> Clone for Iter<'_, T> {
    fn clone(&self) -> Self {
        Iter {
            front: self.front.clone(),
            mid: self.mid.clone(),
            back: self.back.clone(),
            len: self.len,
        }
    }
}

impl<'a, T> Iterator for Iter<'a, T> {
    type Item = &'a T;

    #[inline]
    fn next(&mut self) -> Option<&'a T> {
        let v = match self.front.next() {
            Some(v) => v,
            None => {
                self.front = match self.mid.next() {
                    Some(b) => b.iter(),
                    None => std::mem::take(&mut self.back),
                };
                self.front.next()?
            }
        };
        self.len -= 1;
        Some(v)
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.len, Some(self.len))
    }

    /// Block by block (LRANGE's loop): each block's own fold, no per-element block checks.
    fn fold<A, F: FnMut(A, &'a T) -> A>(self, init: A, mut f: F) -> A {
        let acc = self.front.fold(init, &mut f);
        let acc = self.mid.fold(acc, |acc, b| b.iter().fold(acc, &mut f));
        self.back.fold(acc, &mut f)
    }
}

impl<'a, T> DoubleEndedIterator for Iter<'a, T> {
    #[inline]
    fn next_back(&mut self) -> Option<&'a T> {
        let v = match self.back.next_back() {
            Some(v) => v,
            None => {
                self.back = match self.mid.next_back() {
                    Some(b) => b.iter(),
                    None => std::mem::take(&mut self.front),
                };
                self.back.next_back()?
            }
        };
        self.len -= 1;
        Some(v)
    }

    fn rfold<A, F: FnMut(A, &'a T) -> A>(self, init: A, mut f: F) -> A {
        let acc = self.back.rfold(init, &mut f);
        let acc = self.mid.rfold(acc, |acc, b| b.iter().rfold(acc, &mut f));
        self.front.rfold(acc, &mut f)
    }
}

impl<T> ExactSizeIterator for Iter<'_, T> {}

impl<T> FusedIterator for Iter<'_, T> {}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Small blocks, so a few dozen elements cross many block boundaries.
    type Small<T> = BlockDeque<T, 4>;

    /// The layout promises: interior blocks full, none empty, none grown past its first allocation.
    fn check_shape<T, const B: usize>(d: &BlockDeque<T, B>) -> Result<(), TestCaseError> {
        let fresh = VecDeque::<T>::with_capacity(B).capacity();
        let n = d.blocks.len();
        for (k, b) in d.blocks.iter().enumerate() {
            prop_assert!(!b.is_empty(), "block {} of {} empty", k, n);
            prop_assert!(b.len() <= B);
            if k > 0 && k + 1 < n {
                prop_assert_eq!(b.len(), B, "interior block {} of {} not full", k, n);
            }
            prop_assert_eq!(b.capacity(), fresh, "block {} reallocated", k);
        }
        prop_assert_eq!(d.blocks.iter().map(VecDeque::len).sum::<usize>(), d.len());
        prop_assert_eq!(d.capacity(), n * B);
        Ok(())
    }

    fn check<const B: usize>(
        d: &BlockDeque<u32, B>,
        model: &VecDeque<u32>,
    ) -> Result<(), TestCaseError> {
        check_shape(d)?;
        prop_assert_eq!(d.len(), model.len());
        prop_assert_eq!(d.is_empty(), model.is_empty());
        prop_assert_eq!(d.iter().len(), model.len());
        prop_assert_eq!(
            d.iter().copied().collect::<Vec<_>>(),
            model.iter().copied().collect::<Vec<_>>()
        );
        prop_assert_eq!(
            d.iter().rev().copied().collect::<Vec<_>>(),
            model.iter().rev().copied().collect::<Vec<_>>()
        );
        // fold / rfold (what `for_each` and `collect` use) against next / next_back.
        let mut folded = Vec::new();
        d.iter().for_each(|v| folded.push(*v));
        prop_assert_eq!(&folded, &model.iter().copied().collect::<Vec<_>>());
        let mut rfolded = Vec::new();
        d.iter().rev().for_each(|v| rfolded.push(*v));
        prop_assert_eq!(rfolded, model.iter().rev().copied().collect::<Vec<_>>());
        for i in 0..=model.len() {
            prop_assert_eq!(d.get(i), model.get(i));
        }
        prop_assert_eq!(d.front(), model.front());
        prop_assert_eq!(d.back(), model.back());
        Ok(())
    }

    #[derive(Debug, Clone)]
    enum Op {
        PushFront(u32),
        PushBack(u32),
        PopFront,
        PopBack,
        Set(usize, u32),
        Insert(usize, u32),
        Remove(usize),
        Truncate(usize),
        DropFront(usize),
        Extend(Vec<u32>),
        RemoveWhere(u32, usize, bool),
        Range(usize, usize),
        /// Takes `n` from the front and `m` from the back of a range, then folds the rest.
        MixedIter(usize, usize, usize, usize),
        Clone,
        Collect,
        Clear,
    }

    fn op() -> impl Strategy<Value = Op> {
        let v = 0u32..4;
        prop_oneof![
            6 => v.clone().prop_map(Op::PushFront),
            6 => v.clone().prop_map(Op::PushBack),
            2 => Just(Op::PopFront),
            2 => Just(Op::PopBack),
            1 => (0usize..40, v.clone()).prop_map(|(i, x)| Op::Set(i, x)),
            4 => (0usize..40, v.clone()).prop_map(|(i, x)| Op::Insert(i, x)),
            3 => (0usize..40).prop_map(Op::Remove),
            1 => (0usize..40).prop_map(Op::Truncate),
            1 => (0usize..40).prop_map(Op::DropFront),
            2 => prop::collection::vec(v.clone(), 0..12).prop_map(Op::Extend),
            2 => (v, 0usize..5, any::<bool>()).prop_map(|(x, l, b)| Op::RemoveWhere(x, l, b)),
            2 => (0usize..40, 0usize..40).prop_map(|(a, b)| Op::Range(a, b)),
            2 => (0usize..40, 0usize..40, 0usize..6, 0usize..6)
                .prop_map(|(a, b, n, m)| Op::MixedIter(a, b, n, m)),
            1 => Just(Op::Clone),
            1 => Just(Op::Collect),
            1 => Just(Op::Clear),
        ]
    }

    fn run<const B: usize>(ops: Vec<Op>) -> Result<(), TestCaseError> {
        let mut d: BlockDeque<u32, B> = BlockDeque::new();
        let mut model: VecDeque<u32> = VecDeque::new();
        for o in ops {
            match o {
                Op::PushFront(x) => {
                    d.push_front(x);
                    model.push_front(x);
                }
                Op::PushBack(x) => {
                    d.push_back(x);
                    model.push_back(x);
                }
                Op::PopFront => prop_assert_eq!(d.pop_front(), model.pop_front()),
                Op::PopBack => prop_assert_eq!(d.pop_back(), model.pop_back()),
                Op::Set(i, x) => {
                    let got = d.get_mut(i).map(|s| std::mem::replace(s, x));
                    let want = model.get_mut(i).map(|s| std::mem::replace(s, x));
                    prop_assert_eq!(got, want);
                }
                Op::Insert(i, x) => {
                    let i = i.min(model.len());
                    d.insert(i, x);
                    model.insert(i, x);
                }
                Op::Remove(i) => prop_assert_eq!(d.remove(i), model.remove(i)),
                Op::Truncate(n) => {
                    d.truncate(n);
                    model.truncate(n);
                }
                Op::DropFront(n) => {
                    d.drop_front(n);
                    model.drain(..n.min(model.len()));
                }
                Op::Extend(xs) => {
                    d.extend(xs.iter().copied());
                    model.extend(xs);
                }
                Op::RemoveWhere(x, limit, from_back) => {
                    let got = d.remove_where(limit, from_back, |v| *v == x);
                    // The model: LREM's loop, one `remove` at a time.
                    let mut removed = 0;
                    if from_back {
                        let mut i = model.len();
                        while i > 0 && removed < limit {
                            i -= 1;
                            if model[i] == x {
                                model.remove(i);
                                removed += 1;
                            }
                        }
                    } else {
                        let mut i = 0;
                        while i < model.len() && removed < limit {
                            if model[i] == x {
                                model.remove(i);
                                removed += 1;
                            } else {
                                i += 1;
                            }
                        }
                    }
                    prop_assert_eq!(got, removed);
                }
                Op::Range(a, b) => {
                    let (s, e) = (a.min(model.len()), b.min(model.len()));
                    let (s, e) = (s.min(e), s.max(e));
                    let it = d.range(s..e);
                    prop_assert_eq!(it.len(), e - s);
                    prop_assert_eq!(
                        it.clone().copied().collect::<Vec<_>>(),
                        model.range(s..e).copied().collect::<Vec<_>>()
                    );
                    prop_assert_eq!(
                        it.rev().copied().collect::<Vec<_>>(),
                        model.range(s..e).rev().copied().collect::<Vec<_>>()
                    );
                    if e > s {
                        prop_assert_eq!(
                            d.range(s..=e - 1).copied().collect::<Vec<_>>(),
                            model.range(s..=e - 1).copied().collect::<Vec<_>>()
                        );
                    }
                    prop_assert_eq!(
                        d.range_from(s).copied().collect::<Vec<_>>(),
                        model.range(s..).copied().collect::<Vec<_>>()
                    );
                    prop_assert_eq!(
                        d.range_slices(s..e).flatten().copied().collect::<Vec<_>>(),
                        model.range(s..e).copied().collect::<Vec<_>>()
                    );
                }
                Op::MixedIter(a, b, n, m) => {
                    let (s, e) = (a.min(model.len()), b.min(model.len()));
                    let (s, e) = (s.min(e), s.max(e));
                    let mut it = d.range(s..e);
                    let mut want = model.range(s..e);
                    for _ in 0..n {
                        prop_assert_eq!(it.next(), want.next());
                        prop_assert_eq!(it.len(), want.len());
                    }
                    for _ in 0..m {
                        prop_assert_eq!(it.next_back(), want.next_back());
                        prop_assert_eq!(it.len(), want.len());
                    }
                    // Alternate ends to the finish, then stay finished.
                    let mut front = true;
                    loop {
                        let (g, w) = if front {
                            (it.next(), want.next())
                        } else {
                            (it.next_back(), want.next_back())
                        };
                        prop_assert_eq!(g, w);
                        prop_assert_eq!(it.len(), want.len());
                        if g.is_none() {
                            break;
                        }
                        front = !front;
                    }
                    prop_assert_eq!(it.next(), None);
                    prop_assert_eq!(it.next_back(), None);
                }
                Op::Clone => {
                    let c = d.clone();
                    check_shape(&c)?;
                    prop_assert_eq!(&c, &d);
                    d = c;
                }
                Op::Collect => {
                    d = model.iter().copied().collect();
                }
                Op::Clear => {
                    d.clear();
                    model.clear();
                }
            }
            check(&d, &model)?;
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

        #[test]
        fn behaves_like_a_vecdeque(ops in prop::collection::vec(op(), 0..200)) {
            run::<4>(ops)?;
        }

        #[test]
        fn behaves_like_a_vecdeque_with_one_element_blocks(
            ops in prop::collection::vec(op(), 0..100),
        ) {
            run::<1>(ops)?;
        }
    }

    #[test]
    fn ranges_start_in_place() {
        let d: Small<u32> = (0..23).collect();
        // Blocks of 4 from a first block of 3: the ranges cross their boundaries anywhere.
        let mut d2 = d.clone();
        d2.pop_front();
        for d in [&d, &d2] {
            let v: Vec<u32> = d.iter().copied().collect();
            for s in 0..=v.len() {
                for e in s..=v.len() {
                    assert_eq!(d.range(s..e).copied().collect::<Vec<_>>(), v[s..e]);
                    assert_eq!(d.range(s..e).len(), e - s);
                    let runs: Vec<&[u32]> = d.range_slices(s..e).collect();
                    assert_eq!(runs.concat(), v[s..e]);
                    assert!(runs.iter().all(|r| !r.is_empty() && r.len() <= 4));
                }
            }
        }
    }

    #[test]
    fn remove_where_counts_and_directions() {
        let items = [1, 2, 1, 3, 1, 1, 4, 1, 5, 1, 1];
        let d: Small<u32> = items.iter().copied().collect();
        let remove = |limit: usize, from_back: bool| {
            let mut d = d.clone();
            let n = d.remove_where(limit, from_back, |v| *v == 1);
            (n, d.iter().copied().collect::<Vec<_>>())
        };
        assert_eq!(remove(2, false), (2, vec![2, 3, 1, 1, 4, 1, 5, 1, 1]));
        assert_eq!(remove(2, true), (2, vec![1, 2, 1, 3, 1, 1, 4, 1, 5]));
        assert_eq!(remove(3, true), (3, vec![1, 2, 1, 3, 1, 1, 4, 5]));
        assert_eq!(remove(usize::MAX, false), (7, vec![2, 3, 4, 5]));
        assert_eq!(remove(usize::MAX, true), (7, vec![2, 3, 4, 5]));
        assert_eq!(remove(0, false), (0, items.to_vec()));
        let mut d = d.clone();
        assert_eq!(d.remove_where(usize::MAX, false, |v| *v == 9), 0);
        assert_eq!(d.remove_where(usize::MAX, true, |_| true), items.len());
        assert!(d.is_empty());
    }

    #[test]
    fn growth_reallocates_no_block() {
        // The default block size: a long deque built from both ends keeps every block's allocation.
        let mut d: BlockDeque<u64> = BlockDeque::new();
        for i in 0..10_000 {
            d.push_back(i);
            d.push_front(i);
        }
        d.insert(7_777, 0);
        d.remove(3_333);
        let fresh = VecDeque::<u64>::with_capacity(BLOCK).capacity();
        assert!(d.blocks.iter().all(|b| b.capacity() == fresh));
        assert_eq!(d.len(), 20_000);
        assert_eq!(d.capacity(), d.blocks.len() * BLOCK);
    }
}
