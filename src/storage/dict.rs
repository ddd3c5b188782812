//! The keyspace's hash table: chained buckets in a power-of-two array.
//!
//! Why not `HashMap`/`hashbrown`: Redis's `SCAN` promises that a key present for the whole scan is
//! returned at least once even if the table grows or shrinks between calls. That promise comes from
//! walking buckets in reverse-binary order, which needs each key to live in the bucket its hash selects,
//! i.e. chaining, and a bucket index we control. The same bucket array also gives cheap random sampling
//! (eviction, RANDOMKEY) and an incremental cursor for the active expire cycle.
//!
//! Each database of each shard owns one `Dict`; shards keep tables small, so a resize rehashes a few
//! thousand entries at most and never becomes a latency spike.

use super::value::Entry;

pub type Key = Box<[u8]>;

pub struct Node {
    pub key: Key,
    pub entry: Entry,
    next: Option<Box<Node>>,
}

#[derive(Default)]
pub struct Dict {
    buckets: Vec<Option<Box<Node>>>,
    len: usize,
    /// Keys that carry a TTL; maintained by `storage::db`, the only writer of expiry times.
    pub(crate) volatile: usize,
    /// Where the active expire cycle resumes in this table.
    pub(crate) expire_cursor: u64,
}

const MIN_BUCKETS: usize = 4;

impl Dict {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn volatile(&self) -> usize {
        self.volatile
    }

    pub fn bucket_count(&self) -> usize {
        self.buckets.len()
    }

    #[inline]
    fn index(&self, hash: u64) -> usize {
        hash as usize & (self.buckets.len() - 1)
    }

    pub fn get(&self, hash: u64, key: &[u8]) -> Option<&Node> {
        if self.buckets.is_empty() {
            return None;
        }
        let mut cur = self.buckets[self.index(hash)].as_deref();
        while let Some(n) = cur {
            if &*n.key == key {
                return Some(n);
            }
            cur = n.next.as_deref();
        }
        None
    }

    pub fn get_mut(&mut self, hash: u64, key: &[u8]) -> Option<&mut Node> {
        if self.buckets.is_empty() {
            return None;
        }
        let idx = self.index(hash);
        let mut cur = self.buckets[idx].as_deref_mut();
        while let Some(n) = cur {
            if &*n.key == key {
                return Some(n);
            }
            cur = n.next.as_deref_mut();
        }
        None
    }

    /// Inserts a key known to be absent (callers look it up first) and returns its node.
    pub fn insert_new(&mut self, hash: u64, key: Key, entry: Entry) -> &mut Node {
        if self.len >= self.buckets.len() {
            self.resize((self.buckets.len() * 2).max(MIN_BUCKETS));
        }
        let idx = self.index(hash);
        let next = self.buckets[idx].take();
        self.len += 1;
        self.buckets[idx].insert(Box::new(Node { key, entry, next }))
    }

    pub fn remove(&mut self, hash: u64, key: &[u8]) -> Option<Box<Node>> {
        if self.buckets.is_empty() {
            return None;
        }
        let idx = self.index(hash);
        let mut link = &mut self.buckets[idx];
        loop {
            match link {
                None => return None,
                Some(n) if &*n.key == key => {
                    let mut node = link.take()?;
                    *link = node.next.take();
                    self.len -= 1;
                    self.maybe_shrink();
                    return Some(node);
                }
                Some(n) => link = &mut n.next,
            }
        }
    }

    /// Removes every node of bucket `idx` for which `expired` says so, returning them.
    pub fn remove_where(&mut self, idx: usize, mut expired: impl FnMut(&Node) -> bool) -> Vec<Box<Node>> {
        let mut out = Vec::new();
        if idx >= self.buckets.len() {
            return out;
        }
        let mut link = &mut self.buckets[idx];
        loop {
            match link {
                None => break,
                Some(n) if expired(n) => {
                    let Some(mut node) = link.take() else { break };
                    *link = node.next.take();
                    out.push(node);
                }
                Some(n) => link = &mut n.next,
            }
        }
        self.len -= out.len();
        out
    }

    /// Calls `f` on each node of bucket `idx`.
    pub fn for_bucket(&self, idx: usize, mut f: impl FnMut(&Node)) {
        if let Some(b) = self.buckets.get(idx) {
            let mut cur = b.as_deref();
            while let Some(n) = cur {
                f(n);
                cur = n.next.as_deref();
            }
        }
    }

    /// One step of a reverse-binary scan: visits the bucket `cursor` selects and returns the next
    /// cursor, 0 when the scan is complete. Keys present for the whole scan are visited at least once,
    /// whatever resizing happens between steps.
    pub fn scan_step(&self, cursor: u64, mut f: impl FnMut(&Node)) -> u64 {
        if self.buckets.is_empty() {
            return 0;
        }
        let mask = (self.buckets.len() - 1) as u64;
        self.for_bucket((cursor & mask) as usize, &mut f);
        let mut v = cursor | !mask;
        v = v.reverse_bits();
        v = v.wrapping_add(1);
        v.reverse_bits()
    }

    /// Removes everything, returning the old table so the caller may drop it elsewhere.
    pub fn take_all(&mut self) -> Dict {
        std::mem::take(self)
    }

    fn maybe_shrink(&mut self) {
        let n = self.buckets.len();
        if n > MIN_BUCKETS && self.len * 8 < n {
            self.resize(self.len.next_power_of_two().max(MIN_BUCKETS));
        }
    }

    fn resize(&mut self, new_size: usize) {
        let old = std::mem::replace(&mut self.buckets, (0..new_size).map(|_| None).collect());
        let mask = new_size - 1;
        for mut head in old {
            while let Some(mut node) = head {
                head = node.next.take();
                let idx = super::hash_key(&node.key) as usize & mask;
                node.next = self.buckets[idx].take();
                self.buckets[idx] = Some(node);
            }
        }
    }

    /// Iterates over all nodes (no ordering guarantee).
    pub fn iter(&self) -> impl Iterator<Item = &Node> {
        self.buckets.iter().flat_map(|b| {
            let mut cur = b.as_deref();
            std::iter::from_fn(move || {
                let n = cur?;
                cur = n.next.as_deref();
                Some(n)
            })
        })
    }
}

impl Drop for Dict {
    fn drop(&mut self) {
        // Unlink chains iteratively so a long chain cannot overflow the stack.
        for b in self.buckets.iter_mut() {
            let mut cur = b.take();
            while let Some(mut n) = cur {
                cur = n.next.take();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::{hash_key, value::Value};
    use std::collections::HashSet;

    fn entry() -> Entry {
        Entry::new(Value::from_bytes(b"v"))
    }

    #[test]
    fn insert_get_remove_against_model() {
        let mut d = Dict::new();
        let mut model = HashSet::new();
        for i in 0..5000u32 {
            let k = format!("key:{}", i % 1700).into_bytes();
            let h = hash_key(&k);
            if i % 3 == 0 {
                assert_eq!(d.remove(h, &k).is_some(), model.remove(&k));
            } else if d.get(h, &k).is_none() {
                d.insert_new(h, k.clone().into_boxed_slice(), entry());
                assert!(model.insert(k));
            }
            assert_eq!(d.len(), model.len());
        }
        for k in &model {
            assert!(d.get(hash_key(k), k).is_some());
        }
    }

    #[test]
    fn scan_survives_resizes() {
        let mut d = Dict::new();
        for i in 0..1000 {
            let k = format!("k{i}").into_bytes();
            d.insert_new(hash_key(&k), k.into_boxed_slice(), entry());
        }
        let mut seen = HashSet::new();
        let mut cursor = 0;
        let mut step = 0;
        loop {
            cursor = d.scan_step(cursor, |n| {
                seen.insert(n.key.to_vec());
            });
            step += 1;
            // Grow and shrink the table mid-scan with keys that are not part of the guarantee.
            if step == 50 {
                for i in 0..5000 {
                    let k = format!("extra{i}").into_bytes();
                    d.insert_new(hash_key(&k), k.into_boxed_slice(), entry());
                }
            }
            if step == 900 {
                for i in 0..5000 {
                    let k = format!("extra{i}").into_bytes();
                    d.remove(hash_key(&k), &k);
                }
            }
            if cursor == 0 {
                break;
            }
        }
        for i in 0..1000 {
            assert!(seen.contains(format!("k{i}").as_bytes()), "k{i} missed");
        }
    }
}
