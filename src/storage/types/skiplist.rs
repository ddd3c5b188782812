//! The order half of a big sorted set: a skiplist with spans, as Redis's `zskiplist`.
//!
//! Why it is built this way: rank lookups, rank-to-element and range counts must all be O(log n), which
//! the spans give. A search is a chain of dependent loads, so what matters is how many cache lines each
//! step touches. Every node is one record in a single byte arena: header (score, back link, level
//! count, member length), then its levels (`fwd`, `span`, and `fwd`'s score cached: 16 bytes each),
//! then the member bytes, all inline. A step compares with the score cached in the current node's
//! level (in a line the previous step already brought in); only advancing, or a score tie (which reads
//! the next member), touches the next node, whose levels and member sit in the same record. That is
//! at most one miss per step, and none for the compare that ends each level's walk; a node with
//! separately allocated levels cost two.
//! Nodes are named by their offset in 8-byte words (`u32`), so links are 4 bytes, nothing is boxed
//! (no per-node allocation or allocator rounding) and there is no `unsafe`.
//!
//! Freed records go on a free list per size (in words) and are reused by a record of the same size;
//! when three quarters of the arena is free the list is rebuilt, so a set that shrank gives memory back
//! (amortised O(log n) per deletion). A score change that keeps the node between its neighbours is
//! done in place, as Redis's `zslUpdateScore`; otherwise the node is unlinked and relinked at its new
//! place without copying the member.
//!
//! The list knows nothing of the member → score table ([`super::zset`] keeps that); callers only
//! insert members known to be absent and delete or update members known to be present with their
//! current score.

/// "No node": the end of a level, an empty position.
pub(super) const NIL: u32 = u32::MAX;
/// The head record (32 levels, no member) sits at offset 0.
const HEAD: usize = 0;
const MAX_LEVEL: usize = 32;
/// Header bytes: score (8), back link (4), level count (1), member length (3).
const HDR: usize = 16;
/// Level bytes: `fwd` (4), `span` (4), and `fwd`'s score (8), cached so that the compare that ends a
/// level's walk does not visit the node it stops before.
const LV: usize = 16;
/// A member length field this large means "long member": its length is in the word after the levels.
/// (Small in tests so the model test covers both forms.)
const LONG: usize = if cfg!(test) { 40 } else { 0xFF_FFFF };
/// Record sizes (in words) below this get a free list; larger freed records wait for a rebuild.
const FREE_CLASSES: usize = 64;
/// Arenas this small (in words) are never rebuilt (smaller in tests, so the model test exercises it).
const COMPACT_MIN: usize = if cfg!(test) { 64 } else { 4096 };
/// Sets with more members than this are not rebuilt (a rebuild of this many takes 1-2 ms).
const COMPACT_MAX_LIVE: usize = if cfg!(test) { 1000 } else { 8 << 10 };

/// The arena grows in chunks of at most this many bytes (doubling up to it, so a small set stays
/// small), never by reallocating: no copy of the whole list on growth, and at most one partly used
/// chunk (a doubling `Vec` would leave up to half its capacity idle). A record never straddles two
/// chunks; one bigger than a chunk gets a chunk of its own.
const CHUNK_SHIFT: usize = 16;
const CHUNK: usize = 1 << CHUNK_SHIFT;
const FIRST_CHUNK: usize = 1024;

/// Byte offset of node `id` (chunk index in the high bits, offset in the chunk in the low 16).
#[inline]
fn at(id: u32) -> usize {
    id as usize * 8
}

/// Size in words of a record with `lvl` levels and a member of `len` bytes.
#[inline]
fn record_words(lvl: usize, len: usize) -> usize {
    2 + 2 * lvl + usize::from(len >= LONG) + len.div_ceil(8)
}

/// A skiplist with spans over one byte arena, as Redis's `zskiplist`.
#[derive(Clone, Debug)]
pub(super) struct SkipList {
    chunks: Vec<Box<[u8]>>,
    /// Bytes handed out from the last chunk.
    used: usize,
    /// Bytes handed out in all (live and freed records).
    allocated: usize,
    /// `free[w]`: freed records of `w` words.
    free: Vec<Vec<u32>>,
    /// Words in freed records.
    dead: usize,
    tail: u32,
    pub(super) len: usize,
    level: usize,
    rng: u64,
}

/// A position's predecessor at each level (record ids) and their ranks (elements up to and
/// including it).
#[derive(Clone, Copy)]
struct Path {
    update: [u32; MAX_LEVEL],
    rank: [u32; MAX_LEVEL],
}

/// A search for the position of `(score, member)`, one step (advance along a level, or drop a level)
/// at a time.
struct Descent<'m> {
    score: f64,
    member: &'m [u8],
    /// Byte offset of the current record.
    x: usize,
    /// Its rank.
    r: u32,
    /// The level being walked, plus one (0: done).
    i: usize,
    path: Path,
}

impl<'m> Descent<'m> {
    fn new(l: &SkipList, score: f64, member: &'m [u8]) -> Descent<'m> {
        Descent {
            score,
            member,
            x: HEAD,
            r: 0,
            i: l.level.min(MAX_LEVEL),
            path: Path {
                update: [0; MAX_LEVEL],
                rank: [0; MAX_LEVEL],
            },
        }
    }

    /// One step; false once the path is complete.
    ///
    /// Whether to advance depends on the load that misses the cache, so a branch on it would be
    /// mispredicted half the time, and each misprediction throws away the other descent's work in
    /// flight: the step is written as selects instead (only a score tie branches, to read a member).
    #[inline(always)]
    fn step(&mut self, l: &SkipList) -> bool {
        let Some(i) = self.i.checked_sub(1) else {
            return false;
        };
        let (f, span) = l.lvl(self.x, i);
        let s = l.cached(self.x, i);
        // Final once this level is left; overwritten while it is walked.
        self.path.update[i] = (self.x / 8) as u32;
        self.path.rank[i] = self.r;
        let live = f != NIL;
        let adv =
            live & (s < self.score) | (live && s == self.score && l.member_at(at(f)) < self.member);
        self.x = std::hint::select_unpredictable(adv, at(f), self.x);
        self.r += std::hint::select_unpredictable(adv, span, 0);
        self.i = std::hint::select_unpredictable(adv, self.i, i);
        self.i > 0
    }
}

impl SkipList {
    pub(super) fn new() -> SkipList {
        let mut l = SkipList {
            chunks: Vec::new(),
            used: 0,
            allocated: 0,
            free: Vec::new(),
            dead: 0,
            tail: NIL,
            len: 0,
            level: 1,
            rng: rand::random::<u64>() | 1,
        };
        l.alloc(0.0, b"", MAX_LEVEL);
        l
    }

    /// A level with Redis's distribution (p = 1/4, at most 32).
    fn random_level(&mut self) -> usize {
        // xorshift64*: cheap and good enough for level choice.
        let mut x = self.rng;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng = x;
        let r = x.wrapping_mul(0x2545_F491_4F6C_DD1D);
        // Two bits per level: each pair being zero has probability 1/4.
        let lvl = 1 + (r.trailing_zeros() / 2) as usize;
        lvl.min(MAX_LEVEL)
    }

    /// The arena from byte offset `o` to the end of its chunk.
    #[inline]
    fn bytes(&self, o: usize) -> &[u8] {
        self.chunks
            .get(o >> CHUNK_SHIFT)
            .and_then(|c| c.get(o & (CHUNK - 1)..))
            .unwrap_or(&[])
    }

    #[inline]
    fn bytes_mut(&mut self, o: usize) -> &mut [u8] {
        match self.chunks.get_mut(o >> CHUNK_SHIFT) {
            Some(c) => c.get_mut(o & (CHUNK - 1)..).unwrap_or(&mut []),
            None => &mut [],
        }
    }

    #[inline]
    fn rd64(&self, o: usize) -> u64 {
        self.bytes(o)
            .first_chunk::<8>()
            .map_or(u64::MAX, |b| u64::from_le_bytes(*b))
    }

    #[inline]
    fn wr64(&mut self, o: usize, v: u64) {
        if let Some(b) = self.bytes_mut(o).first_chunk_mut::<8>() {
            *b = v.to_le_bytes();
        }
    }

    #[inline]
    fn score_at(&self, o: usize) -> f64 {
        f64::from_bits(self.rd64(o))
    }

    /// `(back, level count, member length field)` of the record at byte offset `o`.
    #[inline]
    fn meta(&self, o: usize) -> (u32, usize, usize) {
        let m = self.rd64(o + 8);
        (m as u32, usize::from((m >> 32) as u8), (m >> 40) as usize)
    }

    #[inline]
    fn set_meta(&mut self, o: usize, back: u32, lvl: usize, lenf: usize) {
        self.wr64(
            o + 8,
            u64::from(back) | (lvl as u64) << 32 | (lenf as u64) << 40,
        );
    }

    fn set_back(&mut self, o: usize, back: u32) {
        let (_, lvl, lenf) = self.meta(o);
        self.set_meta(o, back, lvl, lenf);
    }

    /// `(fwd, span)` of level `i` of the record at byte offset `o`.
    #[inline]
    fn lvl(&self, o: usize, i: usize) -> (u32, u32) {
        let w = self.rd64(o + HDR + LV * i);
        (w as u32, (w >> 32) as u32)
    }

    #[inline]
    fn set_lvl(&mut self, o: usize, i: usize, fwd: u32, span: u32) {
        self.wr64(o + HDR + LV * i, u64::from(fwd) | u64::from(span) << 32);
    }

    /// The score of level `i`'s `fwd`, cached in the level (meaningless when `fwd` is `NIL`).
    #[inline]
    fn cached(&self, o: usize, i: usize) -> f64 {
        f64::from_bits(self.rd64(o + HDR + LV * i + 8))
    }

    #[inline]
    fn set_cached(&mut self, o: usize, i: usize, score: f64) {
        self.wr64(o + HDR + LV * i + 8, score.to_bits());
    }

    #[inline]
    fn fwd(&self, o: usize, i: usize) -> u32 {
        self.lvl(o, i).0
    }

    /// The member of the record at byte offset `o`.
    #[inline]
    fn member_at(&self, o: usize) -> &[u8] {
        let (_, lvl, lenf) = self.meta(o);
        let r = self.bytes(o);
        let mut p = HDR + LV * lvl;
        let len = if lenf == LONG {
            p += 8;
            self.rd64(o + p - 8) as usize
        } else {
            lenf
        };
        r.get(p..p + len).unwrap_or(&[])
    }

    /// Size in words of the record at byte offset `o`.
    fn words_at(&self, o: usize) -> usize {
        let (_, lvl, _) = self.meta(o);
        record_words(lvl, self.member_at(o).len())
    }

    /// A new unlinked record (levels `NIL`, no back link); returns its id.
    fn alloc(&mut self, score: f64, member: &[u8], lvl: usize) -> u32 {
        let words = record_words(lvl, member.len());
        let reused = self.free.get_mut(words).and_then(Vec::pop);
        let o = match reused {
            Some(id) => {
                self.dead -= words;
                at(id)
            }
            None => self.bump(words * 8),
        };
        self.wr64(o, score.to_bits());
        let lenf = if member.len() >= LONG {
            LONG
        } else {
            member.len()
        };
        self.set_meta(o, NIL, lvl, lenf);
        for i in 0..lvl {
            self.set_lvl(o, i, NIL, 0);
        }
        let mut p = HDR + LV * lvl;
        if lenf == LONG {
            self.wr64(o + p, member.len() as u64);
            p += 8;
        }
        if let Some(b) = self.bytes_mut(o).get_mut(p..p + member.len()) {
            b.copy_from_slice(member);
        }
        (o / 8) as u32
    }

    /// `n` fresh bytes (a multiple of 8) at the end of the arena; returns their offset.
    fn bump(&mut self, n: usize) -> usize {
        self.allocated += n;
        let last = self.chunks.len().wrapping_sub(1);
        if let Some(c) = self.chunks.last() {
            if self.used + n <= c.len() {
                self.used += n;
                return (last << CHUNK_SHIFT) + self.used - n;
            }
        }
        let grow = self.chunks.last().map_or(FIRST_CHUNK, |c| c.len() * 2);
        let size = grow.clamp(n, CHUNK.max(n));
        self.chunks.push(vec![0u8; size].into_boxed_slice());
        self.used = n;
        (self.chunks.len() - 1) << CHUNK_SHIFT
    }

    /// Puts record `x` (already unlinked) on the free list of its size.
    fn release(&mut self, x: u32) {
        let words = self.words_at(at(x));
        if words < FREE_CLASSES {
            if self.free.len() <= words {
                self.free.resize_with(words + 1, Vec::new);
            }
            self.free[words].push(x);
        }
        self.dead += words;
    }

    /// The predecessor (by id) at each level of the position of `(score, member)`, and their ranks.
    fn path(&self, score: f64, member: &[u8]) -> Path {
        let mut c = Descent::new(self, score, member);
        while c.step(self) {}
        c.path
    }

    /// The paths of two positions, found in one interleaved pass: the two descents are independent
    /// chains of cache misses, and stepping them alternately lets the CPU wait for both at once.
    fn paths(&self, a: (f64, &[u8]), b: (f64, &[u8])) -> (Path, Path) {
        let mut ca = Descent::new(self, a.0, a.1);
        let mut cb = Descent::new(self, b.0, b.1);
        loop {
            let more_a = ca.step(self);
            let more_b = cb.step(self);
            if !more_a {
                while cb.step(self) {}
                break;
            }
            if !more_b {
                while ca.step(self) {}
                break;
            }
        }
        (ca.path, cb.path)
    }

    /// Links record `n` (of `lvl` levels, holding `(score, member)`) at its place.
    fn link(&mut self, n: u32, lvl: usize, score: f64, member: &[u8]) {
        let path = self.path(score, member);
        self.link_at(n, lvl, score, path);
    }

    /// Links record `n` (of `lvl` levels, holding `score`) at the position `path` leads to.
    fn link_at(&mut self, n: u32, lvl: usize, score: f64, path: Path) {
        let Path {
            mut update,
            mut rank,
        } = path;
        if lvl > self.level {
            for i in self.level..lvl {
                rank[i] = 0;
                update[i] = 0;
                self.set_lvl(HEAD, i, NIL, self.len as u32);
            }
            self.level = lvl;
        }
        let no = at(n);
        for i in 0..lvl {
            let u = at(update[i]);
            let (uf, us) = self.lvl(u, i);
            let uc = self.cached(u, i);
            self.set_lvl(no, i, uf, us - (rank[0] - rank[i]));
            self.set_cached(no, i, uc);
            self.set_lvl(u, i, n, rank[0] - rank[i] + 1);
            self.set_cached(u, i, score);
        }
        for (i, &u) in update.iter().enumerate().take(self.level).skip(lvl) {
            let u = at(u);
            let (uf, us) = self.lvl(u, i);
            self.set_lvl(u, i, uf, us + 1);
        }
        self.set_back(no, if update[0] == 0 { NIL } else { update[0] });
        let f0 = self.fwd(no, 0);
        if f0 != NIL {
            self.set_back(at(f0), n);
        } else {
            self.tail = n;
        }
        self.len += 1;
    }

    /// Unlinks record `x`, whose predecessors at each level are `update`.
    fn unlink(&mut self, x: u32, update: &[u32; MAX_LEVEL]) {
        let xo = at(x);
        for (i, &u) in update.iter().enumerate().take(self.level) {
            let u = at(u);
            let (uf, us) = self.lvl(u, i);
            if uf == x {
                let (xf, xs) = self.lvl(xo, i);
                self.set_lvl(u, i, xf, us + xs - 1);
                let xc = self.cached(xo, i);
                self.set_cached(u, i, xc);
            } else {
                self.set_lvl(u, i, uf, us - 1);
            }
        }
        let f = self.fwd(xo, 0);
        let (back, _, _) = self.meta(xo);
        if f != NIL {
            self.set_back(at(f), back);
        } else {
            self.tail = back;
        }
        while self.level > 1 && self.fwd(HEAD, self.level - 1) == NIL {
            self.level -= 1;
        }
        self.len -= 1;
    }

    /// The node holding `(score, member)` and the path to it, if present.
    fn find(&self, score: f64, member: &[u8]) -> Option<(u32, [u32; MAX_LEVEL])> {
        let update = self.path(score, member).update;
        self.found(&update, score, member)
            .then(|| (self.fwd(at(update[0]), 0), update))
    }

    /// Whether the element after `update[0]` is `(score, member)`.
    fn found(&self, update: &[u32; MAX_LEVEL], score: f64, member: &[u8]) -> bool {
        let x = self.fwd(at(update[0]), 0);
        x != NIL && self.score_at(at(x)) == score && self.member_at(at(x)) == member
    }

    /// Inserts an element known to be absent.
    pub(super) fn insert(&mut self, score: f64, member: &[u8]) {
        let lvl = self.random_level();
        let n = self.alloc(score, member, lvl);
        self.link(n, lvl, score, member);
    }

    /// Removes `(score, member)`; false if absent.
    pub(super) fn delete(&mut self, score: f64, member: &[u8]) -> bool {
        let Some((x, update)) = self.find(score, member) else {
            return false;
        };
        self.unlink(x, &update);
        self.release(x);
        self.maybe_compact();
        true
    }

    /// Changes `member`'s score from `cur` to `new`: in place when the node stays between its
    /// neighbours, else unlinked and relinked (same record, same levels). False if absent.
    ///
    /// The old and the new position are searched in one interleaved pass (Redis searches twice, one
    /// after the other); the new position's path, found with the node still linked, is then corrected
    /// for its removal.
    pub(super) fn update_score(&mut self, cur: f64, member: &[u8], new: f64) -> bool {
        let (old, mut to) = self.paths((cur, member), (new, member));
        if !self.found(&old.update, cur, member) {
            return false;
        }
        let x = self.fwd(at(old.update[0]), 0);
        let xo = at(x);
        let (back, lvl, _) = self.meta(xo);
        let next = self.fwd(xo, 0);
        if (back == NIL || self.score_at(at(back)) < new)
            && (next == NIL || self.score_at(at(next)) > new)
        {
            self.wr64(xo, new.to_bits());
            for (i, &u) in old.update.iter().enumerate().take(lvl) {
                if self.fwd(at(u), i) == x {
                    self.set_cached(at(u), i, new);
                }
            }
            return true;
        }
        // Without `x`, a predecessor at or after it has one element less before it, and `x` itself
        // gives way to its own predecessor at that level.
        let x_rank = old.rank[0] + 1;
        for i in 0..self.level.min(MAX_LEVEL) {
            if to.rank[i] >= x_rank {
                if to.update[i] == x {
                    to.update[i] = old.update[i];
                    to.rank[i] = old.rank[i];
                } else {
                    to.rank[i] -= 1;
                }
            }
        }
        self.unlink(x, &old.update);
        self.wr64(xo, new.to_bits());
        self.link_at(x, lvl, new, to);
        true
    }

    /// Rebuilds the arena when three quarters of it is free, so a set that shrank gives its memory
    /// back (amortised O(1) per deletion), once the set is down to [`COMPACT_MAX_LIVE`] members: the
    /// rebuild runs inside one command, and at 390k members it took 70 ms. A bigger set keeps its
    /// freed records for reuse by later inserts (Redis, freeing node by node, keeps most of such
    /// memory too: few allocator pages end up wholly free).
    fn maybe_compact(&mut self) {
        let total = self.allocated / 8;
        if total <= COMPACT_MIN || self.dead * 4 <= total * 3 || self.len > COMPACT_MAX_LIVE {
            return;
        }
        let mut fresh = SkipList::new();
        fresh.rng = self.rng;
        // The members come in order, so each is appended after the last: its path is the last
        // record of each level, kept here, and no search is made. (Inserting each with a search
        // made one ZPOPMIN on a 1.5M-member set take 182 ms.)
        let mut tail = Path {
            update: [0; MAX_LEVEL],
            rank: [0; MAX_LEVEL],
        };
        let mut x = self.fwd(HEAD, 0);
        while x != NIL {
            let o = at(x);
            let next = self.fwd(o, 0);
            if next != NIL {
                crate::storage::dict::prefetch(self.bytes(at(next)));
            }
            let score = self.score_at(o);
            let lvl = fresh.random_level();
            let n = fresh.alloc(score, self.member_at(o), lvl);
            fresh.link_at(n, lvl, score, tail);
            for i in 0..lvl {
                tail.update[i] = n;
                tail.rank[i] = fresh.len as u32;
            }
            x = next;
        }
        let old = std::mem::replace(self, fresh);
        if old.allocated >= crate::storage::lazyfree::BACKGROUND_BYTES {
            crate::storage::lazyfree::drop_in_background(old.chunks);
        }
    }

    /// How many elements, from the first, satisfy `pred` (which must hold for a prefix of the order).
    pub(super) fn count_before(&self, pred: impl Fn(f64, &[u8]) -> bool) -> usize {
        let mut x = HEAD;
        let mut t = 0usize;
        for i in (0..self.level).rev() {
            loop {
                let (f, span) = self.lvl(x, i);
                if f == NIL {
                    break;
                }
                let fo = at(f);
                if !pred(self.score_at(fo), self.member_at(fo)) {
                    break;
                }
                t += span as usize;
                x = fo;
            }
        }
        t
    }

    /// The node at 0-based rank `r`, or `NIL`.
    pub(super) fn at_rank(&self, r: usize) -> u32 {
        if r >= self.len {
            return NIL;
        }
        let target = r + 1;
        let mut x = HEAD;
        let mut t = 0usize;
        for i in (0..self.level).rev() {
            loop {
                let (f, span) = self.lvl(x, i);
                if f == NIL || t + span as usize > target {
                    break;
                }
                t += span as usize;
                x = at(f);
            }
            if t == target {
                return (x / 8) as u32;
            }
        }
        NIL
    }

    /// The member of node `x` (not `NIL`).
    pub(super) fn member(&self, x: u32) -> &[u8] {
        self.member_at(at(x))
    }

    /// The score of node `x` (not `NIL`).
    pub(super) fn score(&self, x: u32) -> f64 {
        self.score_at(at(x))
    }

    /// The node after `x` in ascending order, or `NIL`.
    pub(super) fn next(&self, x: u32) -> u32 {
        self.fwd(at(x), 0)
    }

    /// The node before `x` in ascending order, or `NIL`.
    pub(super) fn prev(&self, x: u32) -> u32 {
        self.meta(at(x)).0
    }

    /// Heap bytes held (MEMORY USAGE): exact, the arena holds everything.
    pub(super) fn heap_bytes(&self) -> usize {
        self.chunks.iter().map(|c| c.len()).sum::<usize>()
            + self.chunks.capacity() * std::mem::size_of::<Box<[u8]>>()
            + self.free.capacity() * std::mem::size_of::<Vec<u32>>()
            + self.free.iter().map(|f| f.capacity() * 4).sum::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Everything the list says, checked against a sorted model (order, ranks, back links, counts).
    fn check(l: &SkipList, model: &[(f64, Vec<u8>)]) -> Result<(), TestCaseError> {
        prop_assert_eq!(l.len, model.len());
        let mut x = l.next(0);
        let mut prev = NIL;
        for (r, (s, m)) in model.iter().enumerate() {
            prop_assert!(x != NIL);
            prop_assert_eq!((l.score(x), l.member(x)), (*s, &m[..]));
            prop_assert_eq!(l.prev(x), prev);
            prop_assert_eq!(l.at_rank(r), x);
            prop_assert_eq!(l.count_before(|a, b| a < *s || (a == *s && b < &m[..])), r);
            prev = x;
            x = l.next(x);
        }
        prop_assert_eq!(x, NIL);
        prop_assert_eq!(l.tail, prev);
        prop_assert_eq!(l.at_rank(model.len()), NIL);
        Ok(())
    }

    proptest! {
        #[test]
        fn matches_a_sorted_model(ops in proptest::collection::vec((0u8..3, 0u8..30, -4i8..4), 0..400)) {
            let mut l = SkipList::new();
            let mut model: Vec<(f64, Vec<u8>)> = Vec::new();
            for (op, k, s) in ops {
                // Members short and long (past `LONG`), sharing prefixes so ties go deep.
                let member = if k % 3 == 0 { vec![b'x'; 30 + k as usize * 2] } else { format!("m{k}").into_bytes() };
                let score = f64::from(s);
                let pos = model.iter().position(|e| e.1 == member);
                match (op, pos) {
                    (0, None) => {
                        l.insert(score, &member);
                        model.push((score, member));
                    }
                    (0, Some(p)) | (1, Some(p)) => {
                        prop_assert!(l.update_score(model[p].0, &member, score));
                        model[p].0 = score;
                    }
                    (_, Some(p)) => {
                        prop_assert!(l.delete(model[p].0, &member));
                        model.remove(p);
                    }
                    (_, None) => prop_assert!(!l.delete(score, &member)),
                }
                model.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
                check(&l, &model)?;
            }
        }
    }

    #[test]
    fn members_bigger_than_a_chunk() {
        let mut l = SkipList::new();
        let big: Vec<u8> = (0..CHUNK * 3).map(|i| i as u8).collect();
        l.insert(1.0, b"a");
        l.insert(1.0, &big);
        l.insert(0.5, b"b");
        l.insert(2.0, &big[..CHUNK - 100]);
        let order: Vec<(f64, &[u8])> = (0..4)
            .map(|r| {
                let x = l.at_rank(r);
                (l.score(x), l.member(x))
            })
            .collect();
        assert_eq!(
            order,
            vec![
                (0.5, &b"b"[..]),
                (1.0, &big[..]),
                (1.0, &b"a"[..]),
                (2.0, &big[..CHUNK - 100])
            ]
        );
        assert!(l.update_score(1.0, &big, 3.0));
        assert!(l.delete(1.0, b"a"));
        assert_eq!(l.member(l.at_rank(2)), &big[..]);
    }

    #[test]
    fn a_big_set_is_rebuilt_only_once_small() {
        let mut l = SkipList::new();
        for i in 0..8_000u32 {
            l.insert(f64::from(i), format!("m{i}").as_bytes());
        }
        let full = l.heap_bytes();
        for i in 0..6_500u32 {
            assert!(l.delete(f64::from(i), format!("m{i}").as_bytes()));
        }
        // Over three quarters free, but 1500 members: no rebuild yet.
        assert!(l.heap_bytes() >= full, "{} of {full}", l.heap_bytes());
        for i in 6_500..7_100u32 {
            assert!(l.delete(f64::from(i), format!("m{i}").as_bytes()));
        }
        assert!(l.heap_bytes() * 4 < full, "{} of {full}", l.heap_bytes());
        assert_eq!(l.len, 900);
        assert_eq!(l.count_before(|s, _| s < 7_500.0), 400);
        let last = l.at_rank(899);
        assert_eq!((l.member(last), l.score(last)), (&b"m7999"[..], 7_999.0));
    }

    #[test]
    fn arena_shrinks_after_mass_deletion() {
        let mut l = SkipList::new();
        for i in 0..10_000u32 {
            l.insert(f64::from(i), format!("m{i}").as_bytes());
        }
        for i in 0..9_900u32 {
            assert!(l.delete(f64::from(i), format!("m{i}").as_bytes()));
        }
        assert!(
            l.heap_bytes() < 100_000,
            "arena kept {} bytes",
            l.heap_bytes()
        );
        assert_eq!(l.len, 100);
        let first = l.at_rank(0);
        assert_eq!((l.member(first), l.score(first)), (&b"m9900"[..], 9_900.0));
        assert_eq!(l.count_before(|s, _| s < 9_950.0), 50);
    }
}
