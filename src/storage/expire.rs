//! The active expire cycle: reclaims keys whose TTL passed even if nobody reads them.
//!
//! Modelled on Redis's adaptive cycle (`activeExpireCycle`): `hz` times a second, walk the tables that hold
//! keys with a TTL, a small batch at a time, and keep going on a table while a large share of what was
//! looked at had expired, within a CPU budget of 25% of the interval. Instead of random sampling it resumes
//! a per-table reverse-binary cursor, so every volatile key is looked at once per pass and no expired key
//! is missed by bad luck.
//!
//! Keys it reclaims raise the `expired` keyspace event: the batch's events are handed to `publish`
//! after the shard lock is released (the keyspace knows nothing of pub/sub; the server passes a closure).
//!
//! It runs on its own OS thread so its work never sits on a Tokio worker between client requests, and it
//! takes each shard lock only for one small batch, so clients wait microseconds at most.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::notify::{self, Event};
use super::{clock, Keyspace, SHARDS};

/// Buckets looked at per batch under one lock.
const BUCKETS_PER_BATCH: usize = 64;
/// Keep working on a table while more than this share of the volatile keys looked at had expired.
const STALE_PERCENT: usize = 10;

/// Buckets (or nodes, compacting) a background step moves under one lock (a few microseconds).
const REHASH_CHUNK: usize = 128;

/// Runs until `stop` is set. `hz` is read each round so CONFIG SET hz applies at once; `enabled`
/// is `active-expire-enabled`, `rehashing` is `activerehashing`.
pub fn run(
    ks: Arc<Keyspace>,
    hz: impl Fn() -> u64,
    enabled: impl Fn() -> bool,
    rehashing: impl Fn() -> bool,
    stop: Arc<AtomicBool>,
    publish: impl Fn(&[Event]),
) {
    let mut next_shard = 0usize;
    while !stop.load(Ordering::Relaxed) {
        let hz = hz().clamp(1, 500);
        let period = Duration::from_micros(1_000_000 / hz);
        let started = Instant::now();
        clock::resync();
        if enabled() {
            let budget = period / 4;
            next_shard = cycle(&ks, next_shard, started + budget, &publish);
        }
        if rehashing() {
            // A tenth of the round (Redis gives it 1 ms per cron call on its only thread; this thread
            // holds each shard's lock only for a chunk). At ten million keys the last growth of the
            // tables moves about 8M buckets: 1 ms per round would take two minutes, this ten seconds.
            rehash_cycle(&ks, Instant::now() + period / 10);
        }
        let spent = started.elapsed();
        if spent < period {
            std::thread::sleep(period - spent);
        }
    }
}

/// One cycle over the shards, starting at `first`, until `deadline`. Returns where the next cycle starts.
pub fn cycle(ks: &Keyspace, first: usize, deadline: Instant, publish: &impl Fn(&[Event])) -> usize {
    for step in 0..SHARDS {
        let shard_idx = (first + step) % SHARDS;
        for db in 0..ks.databases() {
            loop {
                let (checked, expired) = sweep_batch(ks, shard_idx, db, publish);
                if checked == 0 || expired * 100 <= checked * STALE_PERCENT {
                    break;
                }
                if Instant::now() >= deadline {
                    return shard_idx;
                }
            }
        }
        if Instant::now() >= deadline {
            return (shard_idx + 1) % SHARDS;
        }
    }
    first
}

/// Moves on the resizes (and node slab compactions) under way in the keyspace's tables, a chunk at a
/// time under the shard's lock, until `deadline`: a table that grew and then only sees reads would
/// otherwise keep two bucket arrays (and misses would look in both) for good. Redis does this in its cron
/// (`activerehashing`).
pub fn rehash_cycle(ks: &Keyspace, deadline: Instant) {
    for shard_idx in 0..SHARDS {
        loop {
            let mut guard = ks.lock(shard_idx);
            let mut more = false;
            for dict in guard.dbs.iter_mut().filter(|d| d.has_pending_work()) {
                dict.background_step(REHASH_CHUNK);
                more |= dict.has_pending_work();
            }
            drop(guard);
            if !more {
                break;
            }
            if Instant::now() >= deadline {
                return;
            }
        }
    }
}

/// Looks at one batch of buckets of one table. Returns (volatile keys checked, keys expired).
fn sweep_batch(
    ks: &Keyspace,
    shard_idx: usize,
    db: usize,
    publish: &impl Fn(&[Event]),
) -> (usize, usize) {
    let now = clock::now_ms();
    let mut guard = ks.lock(shard_idx);
    let shard = &mut *guard;
    let dict = &mut shard.dbs[db];
    if dict.volatile() == 0 {
        return (0, 0);
    }
    let mut checked = 0;
    let mut freed = Vec::new();
    let mut cursor = dict.expire_cursor;
    for _ in 0..BUCKETS_PER_BATCH {
        let before = freed.len();
        // The cursor walks the buckets as a scan does, so a resize between batches skips no key.
        cursor = dict.sweep_step(
            cursor,
            |n| checked += (n.entry.expire_at != 0) as usize,
            |n| n.entry.is_expired(now),
            &mut freed,
        );
        for node in &freed[before..] {
            ks.watches.touch(db, &node.key);
        }
        if cursor == 0 || dict.is_empty() {
            break;
        }
    }
    dict.expire_cursor = cursor;
    let expired = freed.len();
    dict.volatile -= expired;
    shard.stats.expired += expired as u64;
    // Free the values (and publish their events) after the lock is released.
    drop(guard);
    if expired > 0 && ks.notify.wants(notify::EXPIRED) {
        let events: Vec<Event> = freed
            .iter()
            .map(|n| Event {
                class: notify::EXPIRED,
                name: "expired",
                db,
                key: bytes::Bytes::copy_from_slice(&n.key),
            })
            .collect();
        publish(&events);
    }
    for node in freed {
        super::lazyfree::free_expired(node.entry.value);
    }
    (checked, expired)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::{hash_key, shard_of, value::Value, Entry};

    /// Inserts keys into shard 0's table of database `db` until that table is in the middle of an
    /// incremental grow; returns the keys with their hashes.
    fn fill_until_resizing(ks: &Keyspace, db: usize) -> Vec<(u64, Vec<u8>)> {
        let mut keys = Vec::new();
        let mut shard = ks.lock(0);
        let mut i = 0;
        while !shard.dbs[db].is_rehashing() {
            let k = format!("key:{i}").into_bytes();
            i += 1;
            let h = hash_key(&k);
            if shard_of(h) == 0 {
                let e = Entry::new(Value::from_bytes(b"v"));
                shard.dbs[db].insert_new(h, crate::storage::dict::Key::new(&k), e);
                keys.push((h, k));
            }
        }
        keys
    }

    /// `activerehashing no` leaves a resize to the writes; switching it on (CONFIG SET applies at
    /// the next round) lets the expire thread finish it.
    #[test]
    fn activerehashing_gates_the_background_pass() {
        let ks = Arc::new(Keyspace::new(1));
        fill_until_resizing(&ks, 0);
        let rehashing = Arc::new(AtomicBool::new(false));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (ks, rehashing, stop) = (ks.clone(), rehashing.clone(), stop.clone());
            std::thread::spawn(move || {
                run(
                    ks,
                    || 500,
                    || true,
                    move || rehashing.load(Ordering::Relaxed),
                    stop,
                    |_| {},
                )
            })
        };
        std::thread::sleep(Duration::from_millis(100));
        assert!(ks.lock(0).dbs[0].is_rehashing(), "no pass while it is off");
        rehashing.store(true, Ordering::Relaxed);
        let deadline = Instant::now() + Duration::from_secs(30);
        while ks.lock(0).dbs[0].is_rehashing() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        stop.store(true, Ordering::Relaxed);
        thread.join().expect("expire thread");
        assert!(
            !ks.lock(0).dbs[0].is_rehashing(),
            "the pass finished the resize"
        );
    }

    #[test]
    fn the_background_pass_finishes_resizes_that_reads_alone_would_leave() {
        let ks = Keyspace::new(2);
        let keys = fill_until_resizing(&ks, 1);
        rehash_cycle(&ks, Instant::now() + Duration::from_secs(60));
        let shard = ks.lock(0);
        assert!(!shard.dbs[1].is_rehashing());
        assert!(keys.iter().all(|(h, k)| shard.dbs[1].get(*h, k).is_some()));
    }
}
