//! The order half of a big sorted set: a skiplist with spans, as Redis's `zskiplist`.
//!
//! Why it is built this way: rank lookups, rank-to-element and range counts must all be O(log n), which
//! the spans give. The list lives in an arena (`Vec` of nodes linked by `u32` indices, freed slots
//! reused, rebuilt when mostly empty) instead of raw pointers: no `unsafe`, 4-byte links. It knows
//! nothing of the member → score table ([`super::zset`] keeps that); callers only insert members known
//! to be absent and delete members known to be present with their current score.

use crate::smallbytes::SmallBytes;

/// "No node": the end of a level, an empty position.
pub(super) const NIL: u32 = u32::MAX;
const HEAD: u32 = 0;
const MAX_LEVEL: usize = 32;
/// Arenas this small are never compacted (smaller in tests, so the model test exercises compaction).
const COMPACT_MIN: usize = if cfg!(test) { 8 } else { 64 };

#[derive(Clone, Copy, Debug)]
struct Level {
    fwd: u32,
    span: u32,
    /// The score of `fwd`, cached here so a search compares without visiting the next node (one cache
    /// miss per step instead of two, as Redis's inline levels give); only a score tie reads the
    /// member. Meaningless when `fwd` is `NIL`.
    score: f64,
}

#[derive(Clone, Debug)]
struct SlNode {
    member: SmallBytes,
    score: f64,
    back: u32,
    /// This node's levels (a boxed slice: 16 bytes in the node instead of a `Vec`'s 24).
    lv: Box<[Level]>,
}

/// A skiplist with spans over an arena, as Redis's `zskiplist`.
#[derive(Clone, Debug)]
pub(super) struct SkipList {
    nodes: Vec<SlNode>,
    free: Vec<u32>,
    tail: u32,
    pub(super) len: usize,
    level: usize,
    rng: u64,
}

impl SkipList {
    pub(super) fn new() -> SkipList {
        SkipList {
            nodes: vec![SlNode {
                member: SmallBytes::new(b""),
                score: 0.0,
                back: NIL,
                lv: vec![
                    Level {
                        fwd: NIL,
                        span: 0,
                        score: 0.0
                    };
                    MAX_LEVEL
                ]
                .into_boxed_slice(),
            }],
            free: Vec::new(),
            tail: NIL,
            len: 0,
            level: 1,
            rng: rand::random::<u64>() | 1,
        }
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

    fn fwd(&self, x: u32, i: usize) -> u32 {
        self.nodes[x as usize].lv[i].fwd
    }

    fn span(&self, x: u32, i: usize) -> u32 {
        self.nodes[x as usize].lv[i].span
    }

    fn node(&self, x: u32) -> &SlNode {
        &self.nodes[x as usize]
    }

    /// The predecessor at each level of the position of `(score, member)`, and their ranks.
    fn path(&self, score: f64, member: &[u8]) -> ([u32; MAX_LEVEL], [u32; MAX_LEVEL]) {
        let mut update = [HEAD; MAX_LEVEL];
        let mut rank = [0u32; MAX_LEVEL];
        let mut x = HEAD;
        for i in (0..self.level).rev() {
            rank[i] = if i == self.level - 1 { 0 } else { rank[i + 1] };
            loop {
                let l = self.nodes[x as usize].lv[i];
                if l.fwd != NIL
                    && (l.score < score
                        || (l.score == score && &self.node(l.fwd).member[..] < member))
                {
                    rank[i] += l.span;
                    x = l.fwd;
                } else {
                    break;
                }
            }
            update[i] = x;
        }
        (update, rank)
    }

    /// Inserts an element known to be absent.
    pub(super) fn insert(&mut self, score: f64, member: &[u8]) {
        let (mut update, mut rank) = self.path(score, member);
        let member = SmallBytes::new(member);
        let lvl = self.random_level();
        if lvl > self.level {
            for i in self.level..lvl {
                rank[i] = 0;
                update[i] = HEAD;
                self.nodes[HEAD as usize].lv[i].span = self.len as u32;
            }
            self.level = lvl;
        }
        let node = SlNode {
            member,
            score,
            back: NIL,
            lv: vec![
                Level {
                    fwd: NIL,
                    span: 0,
                    score: 0.0
                };
                lvl
            ]
            .into_boxed_slice(),
        };
        let n = match self.free.pop() {
            Some(i) => {
                self.nodes[i as usize] = node;
                i
            }
            None => {
                self.nodes.push(node);
                (self.nodes.len() - 1) as u32
            }
        };
        for i in 0..lvl {
            let u = update[i] as usize;
            let uf = self.nodes[u].lv[i];
            self.nodes[n as usize].lv[i] = Level {
                fwd: uf.fwd,
                span: uf.span - (rank[0] - rank[i]),
                score: uf.score,
            };
            self.nodes[u].lv[i] = Level {
                fwd: n,
                span: rank[0] - rank[i] + 1,
                score,
            };
        }
        for (i, u) in update.iter().enumerate().take(self.level).skip(lvl) {
            self.nodes[*u as usize].lv[i].span += 1;
        }
        self.nodes[n as usize].back = if update[0] == HEAD { NIL } else { update[0] };
        let f0 = self.fwd(n, 0);
        if f0 != NIL {
            self.nodes[f0 as usize].back = n;
        } else {
            self.tail = n;
        }
        self.len += 1;
    }

    /// Removes `(score, member)`; false if absent.
    pub(super) fn delete(&mut self, score: f64, member: &[u8]) -> bool {
        let (update, _) = self.path(score, member);
        let x = self.fwd(update[0], 0);
        if x == NIL || self.node(x).score != score || &*self.node(x).member != member {
            return false;
        }
        for (i, &u) in update.iter().enumerate().take(self.level) {
            let u = u as usize;
            if self.nodes[u].lv[i].fwd == x {
                let xl = self.nodes[x as usize].lv[i];
                self.nodes[u].lv[i].span += xl.span;
                self.nodes[u].lv[i].span -= 1;
                self.nodes[u].lv[i].fwd = xl.fwd;
                self.nodes[u].lv[i].score = xl.score;
            } else {
                self.nodes[u].lv[i].span -= 1;
            }
        }
        let f = self.fwd(x, 0);
        let back = self.node(x).back;
        if f != NIL {
            self.nodes[f as usize].back = back;
        } else {
            self.tail = back;
        }
        while self.level > 1 && self.fwd(HEAD, self.level - 1) == NIL {
            self.level -= 1;
        }
        self.len -= 1;
        let slot = &mut self.nodes[x as usize];
        slot.member = SmallBytes::new(b"");
        slot.lv = Box::new([]);
        self.free.push(x);
        self.maybe_compact();
        true
    }

    /// Rebuilds the arena when three quarters of its slots are free, so a set that shrank gives its
    /// memory back (amortised O(log n) per deletion).
    fn maybe_compact(&mut self) {
        if self.nodes.len() <= COMPACT_MIN || self.len * 4 >= self.nodes.len() {
            return;
        }
        let mut items = Vec::with_capacity(self.len);
        let mut x = self.fwd(HEAD, 0);
        while x != NIL {
            let n = &mut self.nodes[x as usize];
            items.push((
                n.score,
                std::mem::replace(&mut n.member, SmallBytes::new(b"")),
            ));
            x = n.lv[0].fwd;
        }
        let rng = self.rng;
        *self = SkipList::new();
        self.rng = rng;
        self.nodes.reserve_exact(items.len());
        for (score, member) in items {
            self.insert(score, &member);
        }
    }

    /// How many elements, from the first, satisfy `pred` (which must hold for a prefix of the order).
    pub(super) fn count_before(&self, pred: impl Fn(f64, &[u8]) -> bool) -> usize {
        let mut x = HEAD;
        let mut t = 0usize;
        for i in (0..self.level).rev() {
            loop {
                let f = self.fwd(x, i);
                if f != NIL && {
                    let n = self.node(f);
                    pred(n.score, &n.member)
                } {
                    t += self.span(x, i) as usize;
                    x = f;
                } else {
                    break;
                }
            }
        }
        t
    }

    /// The node at 0-based rank `r`.
    pub(super) fn at_rank(&self, r: usize) -> u32 {
        if r >= self.len {
            return NIL;
        }
        let target = r + 1;
        let mut x = HEAD;
        let mut t = 0usize;
        for i in (0..self.level).rev() {
            loop {
                let f = self.fwd(x, i);
                if f != NIL && t + self.span(x, i) as usize <= target {
                    t += self.span(x, i) as usize;
                    x = f;
                } else {
                    break;
                }
            }
            if t == target {
                return x;
            }
        }
        NIL
    }

    /// The member of node `x` (not `NIL`).
    pub(super) fn member(&self, x: u32) -> &[u8] {
        &self.node(x).member
    }

    /// The score of node `x` (not `NIL`).
    pub(super) fn score(&self, x: u32) -> f64 {
        self.node(x).score
    }

    /// The node after `x` in ascending order, or `NIL`.
    pub(super) fn next(&self, x: u32) -> u32 {
        self.fwd(x, 0)
    }

    /// The node before `x` in ascending order, or `NIL`.
    pub(super) fn prev(&self, x: u32) -> u32 {
        self.node(x).back
    }

    /// Heap bytes held (MEMORY USAGE), sampling up to `samples` nodes (0: all).
    pub(super) fn heap_bytes(&self, samples: usize) -> usize {
        self.nodes.capacity() * std::mem::size_of::<SlNode>()
            + self.free.capacity() * 4
            + super::sampled(self.nodes.iter(), self.nodes.len(), samples, |n| {
                n.lv.len() * std::mem::size_of::<Level>() + super::heap_len(&n.member)
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arena_shrinks_after_mass_deletion() {
        let mut l = SkipList::new();
        for i in 0..10_000u32 {
            l.insert(f64::from(i), format!("m{i}").as_bytes());
        }
        for i in 0..9_900u32 {
            assert!(l.delete(f64::from(i), format!("m{i}").as_bytes()));
        }
        assert!(l.nodes.len() < 1_000, "arena kept {} slots", l.nodes.len());
        assert_eq!(l.len, 100);
        let first = l.at_rank(0);
        assert_eq!((l.member(first), l.score(first)), (&b"m9900"[..], 9_900.0));
        assert_eq!(l.count_before(|s, _| s < 9_950.0), 50);
    }
}
