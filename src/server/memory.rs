//! Memory accounting and `maxmemory` eviction.
//!
//! * **Accounting.** `used_memory` is what the process has allocated, kept by the counting allocator
//!   ([`crate::alloc`]) as Redis's `zmalloc_used_memory`: one atomic load to read.
//! * **Eviction.** Before a command runs with `maxmemory` set and the cached figure over the limit,
//!   [`Memory::perform_evictions`] frees keys until the estimate is under it, as Redis's
//!   `performEvictions`: approximated LRU/LFU/TTL by sampling `maxmemory-samples` keys per round into a
//!   16-entry pool of the best candidates seen so far (no global list touched on reads), or a random key
//!   for the `*-random` policies. A round is bounded in time by `maxmemory-eviction-tenacity`; when it
//!   cannot free anything (noeviction, or no key qualifies) the command is refused with `-OOM` if it is
//!   flagged `denyoom`.
//! * Freed values go through [`crate::storage::lazyfree`] when `lazyfree-lazy-eviction` is on.
//!
//! The limit, the policy and the tuning knobs are mirrored from the config into atomics so the check
//! every command makes is one relaxed load when `maxmemory` is 0.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicU8, Ordering};

use parking_lot::Mutex;
use rand::Rng;

use crate::config::Config;
use crate::smallbytes::SmallBytes;
use crate::storage::notify::{self, Event};
use crate::storage::{hash_key, lfu, shard_of, Keyspace, SHARDS};

/// What to evict, as `maxmemory-policy` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Policy {
    NoEviction = 0,
    AllKeysLru,
    VolatileLru,
    AllKeysLfu,
    VolatileLfu,
    AllKeysRandom,
    VolatileRandom,
    VolatileTtl,
}

impl Policy {
    pub fn parse(s: &str) -> Policy {
        match s {
            "allkeys-lru" => Policy::AllKeysLru,
            "volatile-lru" => Policy::VolatileLru,
            "allkeys-lfu" => Policy::AllKeysLfu,
            "volatile-lfu" => Policy::VolatileLfu,
            "allkeys-random" => Policy::AllKeysRandom,
            "volatile-random" => Policy::VolatileRandom,
            "volatile-ttl" => Policy::VolatileTtl,
            _ => Policy::NoEviction,
        }
    }

    fn from_u8(v: u8) -> Policy {
        match v {
            1 => Policy::AllKeysLru,
            2 => Policy::VolatileLru,
            3 => Policy::AllKeysLfu,
            4 => Policy::VolatileLfu,
            5 => Policy::AllKeysRandom,
            6 => Policy::VolatileRandom,
            7 => Policy::VolatileTtl,
            _ => Policy::NoEviction,
        }
    }

    fn volatile_only(self) -> bool {
        matches!(
            self,
            Policy::VolatileLru
                | Policy::VolatileLfu
                | Policy::VolatileRandom
                | Policy::VolatileTtl
        )
    }

    fn random(self) -> bool {
        matches!(self, Policy::AllKeysRandom | Policy::VolatileRandom)
    }
}

/// Result of an eviction attempt, as Redis's `EVICT_OK`/`EVICT_RUNNING`/`EVICT_FAIL`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Evict {
    /// Under the limit (or no limit).
    Ok,
    /// Over the limit but keys are being freed; commands may proceed.
    Running,
    /// Over the limit and nothing can be freed: `denyoom` commands are refused.
    Fail,
}

/// Candidates kept between rounds, as Redis's `EvictionPoolLRU` (`EVPOOL_SIZE`).
const POOL_SIZE: usize = 16;

struct Candidate {
    /// Higher is a better candidate: idle time, 255 - frequency, or time-to-expire inverted.
    score: u64,
    db: usize,
    key: SmallBytes,
}

pub struct Memory {
    maxmemory: AtomicU64,
    policy: AtomicU8,
    samples: AtomicU32,
    tenacity: AtomicU32,
    lazy_eviction: AtomicBool,
    used: AtomicU64,
    peak: AtomicU64,
    refreshed_ms: AtomicU64,
    /// `used_memory` when the server finished starting (INFO `used_memory_startup`).
    pub startup: AtomicU64,
    pub evicted_keys: AtomicU64,
    /// Microseconds spent over the limit (INFO `total_eviction_exceeded_time`).
    pub exceeded_us: AtomicU64,
    /// When the current over-limit episode began (Unix µs), 0 when under the limit.
    exceeded_since: AtomicU64,
    pool: Mutex<Pool>,
}

/// The evictor's state, kept between rounds under one lock.
#[derive(Default)]
struct Pool {
    candidates: Vec<Candidate>,
    /// Databases holding candidate keys, refreshed every [`DBS_REFRESH_MS`].
    dbs: Vec<usize>,
    dbs_at: u64,
    /// Next database the random policies take a key from (they go round in turn, as Redis).
    next_db: usize,
}

const DBS_REFRESH_MS: u64 = 100;

impl Default for Memory {
    fn default() -> Self {
        Memory {
            maxmemory: AtomicU64::new(0),
            policy: AtomicU8::new(0),
            samples: AtomicU32::new(5),
            tenacity: AtomicU32::new(10),
            lazy_eviction: AtomicBool::new(false),
            used: AtomicU64::new(0),
            peak: AtomicU64::new(0),
            refreshed_ms: AtomicU64::new(0),
            startup: AtomicU64::new(0),
            evicted_keys: AtomicU64::new(0),
            exceeded_us: AtomicU64::new(0),
            exceeded_since: AtomicU64::new(0),
            pool: Mutex::new(Pool::default()),
        }
    }
}

/// Bytes allocated by the process: the counting allocator's figure (see [`crate::alloc`]), or
/// jemalloc's `stats.allocated` where that allocator is not installed (the library in a test binary).
pub fn allocated_now() -> u64 {
    if let Some(used) = crate::alloc::used_memory() {
        return used;
    }
    #[cfg(not(target_env = "msvc"))]
    {
        let _ = tikv_jemalloc_ctl::epoch::advance();
        tikv_jemalloc_ctl::stats::allocated::read()
            .map(|v| v as u64)
            .unwrap_or(0)
    }
    #[cfg(target_env = "msvc")]
    {
        0
    }
}

impl Memory {
    /// Mirrors the memory parameters of `cfg` (at start-up and after CONFIG SET).
    pub fn sync_config(&self, cfg: &Config) {
        self.maxmemory.store(cfg.maxmemory, Ordering::Relaxed);
        let policy = Policy::parse(&cfg.maxmemory_policy);
        self.policy.store(policy as u8, Ordering::Relaxed);
        self.samples
            .store(cfg.maxmemory_samples.max(1), Ordering::Relaxed);
        self.tenacity
            .store(cfg.maxmemory_eviction_tenacity, Ordering::Relaxed);
        self.lazy_eviction
            .store(cfg.lazyfree_lazy_eviction, Ordering::Relaxed);
        crate::storage::lazyfree::LAZY_EXPIRE.store(cfg.lazyfree_lazy_expire, Ordering::Relaxed);
        lfu::set_mode(matches!(policy, Policy::AllKeysLfu | Policy::VolatileLfu));
        lfu::set_params(cfg.lfu_log_factor, cfg.lfu_decay_time);
    }

    pub fn maxmemory(&self) -> u64 {
        self.maxmemory.load(Ordering::Relaxed)
    }

    pub fn policy(&self) -> Policy {
        Policy::from_u8(self.policy.load(Ordering::Relaxed))
    }

    /// `used_memory` now: the counting allocator's figure (one atomic load), or the last jemalloc
    /// reading where that allocator is not installed.
    pub fn used(&self) -> u64 {
        crate::alloc::used_memory().unwrap_or_else(|| self.used.load(Ordering::Relaxed))
    }

    pub fn peak(&self) -> u64 {
        self.peak.load(Ordering::Relaxed)
    }

    /// Raises the peak to `used` (a write only when it is a new peak).
    fn record_peak(&self, used: u64) {
        if used > self.peak.load(Ordering::Relaxed) {
            self.peak.fetch_max(used, Ordering::Relaxed);
        }
    }

    /// Reads `used_memory` now and records the peak (INFO, MEMORY, the cron task).
    pub fn refresh(&self) -> u64 {
        let used = allocated_now();
        self.used.store(used, Ordering::Relaxed);
        self.record_peak(used);
        used
    }

    /// `used_memory` for the check before a command. Without the counting allocator the jemalloc
    /// reading (microseconds) is refreshed at most once per millisecond, by one thread.
    #[inline]
    fn current(&self, now_ms: u64) -> u64 {
        if let Some(used) = crate::alloc::used_memory() {
            return used;
        }
        let last = self.refreshed_ms.load(Ordering::Relaxed);
        if last != now_ms
            && self
                .refreshed_ms
                .compare_exchange(last, now_ms, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            return self.refresh();
        }
        self.used.load(Ordering::Relaxed)
    }

    /// Called before each command: frees keys if `maxmemory` is exceeded. Cheap when there is no
    /// limit (one load) and under it (two loads; nothing is written, so threads share the lines).
    #[inline]
    pub fn check(&self, ks: &Keyspace, now_ms: u64, events: &mut Vec<Event>) -> Evict {
        let max = self.maxmemory();
        if max == 0 {
            return Evict::Ok;
        }
        if self.current(now_ms) <= max {
            if self.exceeded_since.load(Ordering::Relaxed) != 0 {
                self.end_exceeded();
            }
            return Evict::Ok;
        }
        self.perform_evictions(ks, now_ms, events)
    }

    fn end_exceeded(&self) {
        let since = self.exceeded_since.swap(0, Ordering::Relaxed);
        if since != 0 {
            let now = crate::storage::clock::now_us();
            self.exceeded_us
                .fetch_add(now.saturating_sub(since), Ordering::Relaxed);
        }
    }

    /// Microseconds of the current over-limit episode (INFO `current_eviction_exceeded_time`).
    pub fn current_exceeded_us(&self) -> u64 {
        let since = self.exceeded_since.load(Ordering::Relaxed);
        if since == 0 {
            0
        } else {
            crate::storage::clock::now_us().saturating_sub(since)
        }
    }

    /// Time budget of one eviction round, from `maxmemory-eviction-tenacity` (Redis's
    /// `evictionTimeLimitUs`); `None` means unlimited.
    fn time_limit_us(&self) -> Option<u64> {
        let t = self.tenacity.load(Ordering::Relaxed);
        match t {
            0..=10 => Some(50 * t as u64),
            11..=99 => Some((500.0 * 1.15f64.powi(t as i32 - 10)) as u64),
            _ => None,
        }
    }

    /// Frees keys until `used_memory` is under `maxmemory`, within the round's time budget.
    pub fn perform_evictions(&self, ks: &Keyspace, now_ms: u64, events: &mut Vec<Event>) -> Evict {
        let max = self.maxmemory();
        let mut used = self.used();
        if max == 0 || used <= max {
            return Evict::Ok;
        }
        let policy = self.policy();
        if self.exceeded_since.load(Ordering::Relaxed) == 0 {
            self.exceeded_since
                .store(crate::storage::clock::now_us(), Ordering::Relaxed);
        }
        if policy == Policy::NoEviction {
            return Evict::Fail;
        }
        // One evictor at a time: others see Running and proceed (their writes are bounded by the
        // evictor's progress, as Redis's single thread bounds them).
        let Some(mut pool) = self.pool.try_lock() else {
            return Evict::Running;
        };
        let started = std::time::Instant::now();
        let limit = self.time_limit_us();
        let lazy = self.lazy_eviction.load(Ordering::Relaxed);
        let mut rng = rand::thread_rng();
        let mut rounds = 0u32;
        if now_ms.saturating_sub(pool.dbs_at) >= DBS_REFRESH_MS || pool.dbs.is_empty() {
            pool.dbs = candidate_dbs(ks, policy.volatile_only());
            pool.dbs_at = now_ms;
        }
        while used > max {
            let freed = if policy.random() {
                let Pool { dbs, next_db, .. } = &mut *pool;
                evict_random(ks, policy, dbs, next_db, &mut rng, lazy, events)
            } else {
                let Pool {
                    candidates, dbs, ..
                } = &mut *pool;
                self.fill_pool(candidates, dbs, ks, policy, now_ms, &mut rng);
                evict_from_pool(candidates, ks, policy, lazy, events)
            };
            let Some(bytes) = freed else {
                // Nothing (more) qualifies: empty keyspace, or no volatile keys for a volatile
                // policy. Still over the limit, so this is a failure even if some keys went, as
                // Redis's `performEvictions` says EVICT_FAIL when it runs out of keys.
                self.refresh();
                return if self.used() <= max {
                    Evict::Ok
                } else {
                    Evict::Fail
                };
            };
            self.evicted_keys.fetch_add(1, Ordering::Relaxed);
            used = used.saturating_sub(bytes);
            rounds += 1;
            // Re-read the allocator now and then: estimates drift, lazy frees land later.
            if rounds.is_multiple_of(16) {
                used = self.refresh();
                if let Some(l) = limit {
                    if started.elapsed().as_micros() as u64 > l {
                        return Evict::Running;
                    }
                }
            }
        }
        self.refresh();
        self.end_exceeded();
        Evict::Ok
    }

    /// Samples keys into the pool (Redis's `evictionPoolPopulate`): `maxmemory-samples` keys from each
    /// database that has candidates.
    fn fill_pool(
        &self,
        pool: &mut Vec<Candidate>,
        dbs: &[usize],
        ks: &Keyspace,
        policy: Policy,
        now_ms: u64,
        rng: &mut impl Rng,
    ) {
        let samples = self.samples.load(Ordering::Relaxed) as usize;
        let volatile = policy.volatile_only();
        let lru_now = crate::storage::clock::lru_at(now_ms);
        for &db in dbs {
            let mut taken = 0;
            let mut probe = Probe::new(samples * 4, rng);
            while taken < samples {
                let Some(s) = probe.next(rng) else { break };
                let shard = ks.lock(s);
                let dict = &shard.dbs[db];
                if dict.is_empty() || (volatile && dict.volatile() == 0) {
                    continue;
                }
                let Some(n) = dict.random_node(rng, |n| !volatile || n.entry.expire_at != 0) else {
                    continue;
                };
                taken += 1;
                let score = match policy {
                    Policy::AllKeysLfu | Policy::VolatileLfu => {
                        255 - lfu::decayed_counter(n.meta, now_ms) as u64
                    }
                    Policy::VolatileTtl => u64::MAX - n.entry.expire_at,
                    _ => lru_idle(n.meta, lru_now),
                };
                insert_candidate(pool, score, db, &n.key);
            }
        }
    }
}

/// Idle seconds of an LRU stamp against the clock `now` (both 24-bit, wrapping).
fn lru_idle(stamp: u32, now: u32) -> u64 {
    let stamp = stamp & crate::storage::clock::LRU_MASK;
    if now >= stamp {
        (now - stamp) as u64
    } else {
        (crate::storage::clock::LRU_MASK - stamp + now) as u64
    }
}

/// Keeps the pool sorted by ascending score with at most [`POOL_SIZE`] entries, no duplicates.
fn insert_candidate(pool: &mut Vec<Candidate>, score: u64, db: usize, key: &[u8]) {
    if let Some(i) = pool
        .iter()
        .position(|c| c.db == db && c.key.as_slice() == key)
    {
        pool[i].score = score;
        pool.sort_by_key(|c| c.score);
        return;
    }
    if pool.len() == POOL_SIZE {
        if pool[0].score >= score {
            return;
        }
        pool.remove(0);
    }
    let at = pool.partition_point(|c| c.score < score);
    pool.insert(
        at,
        Candidate {
            score,
            db,
            key: SmallBytes::new(key),
        },
    );
}

/// Evicts the best pool candidate that still exists; returns the bytes freed (an estimate).
fn evict_from_pool(
    pool: &mut Vec<Candidate>,
    ks: &Keyspace,
    policy: Policy,
    lazy: bool,
    events: &mut Vec<Event>,
) -> Option<u64> {
    while let Some(c) = pool.pop() {
        if let Some(bytes) = evict_key(ks, c.db, &c.key, policy.volatile_only(), lazy, events) {
            return Some(bytes);
        }
    }
    None
}

/// The shards an eviction looks at, in order: `random` random ones, then every shard once from a
/// random start, so the last few keys of a database spread over the shards are still found.
struct Probe {
    random: usize,
    start: usize,
    step: usize,
}

impl Probe {
    fn new(random: usize, rng: &mut impl Rng) -> Probe {
        Probe {
            random,
            start: rng.gen_range(0..SHARDS),
            step: 0,
        }
    }

    fn next(&mut self, rng: &mut impl Rng) -> Option<usize> {
        let step = self.step;
        self.step += 1;
        if step < self.random {
            Some(rng.gen_range(0..SHARDS))
        } else if step < self.random + SHARDS {
            Some((self.start + step - self.random) % SHARDS)
        } else {
            None
        }
    }
}

/// Databases with keys that may be evicted (any key, or keys with a TTL for a volatile policy).
fn candidate_dbs(ks: &Keyspace, volatile: bool) -> Vec<usize> {
    let mut has = vec![false; ks.databases()];
    for s in 0..SHARDS {
        let shard = ks.lock(s);
        for (d, dict) in shard.dbs.iter().enumerate() {
            has[d] |= if volatile {
                dict.volatile() > 0
            } else {
                !dict.is_empty()
            };
        }
    }
    has.iter()
        .enumerate()
        .filter_map(|(d, &h)| h.then_some(d))
        .collect()
}

/// Evicts one random key, taking the databases in turn as Redis does.
fn evict_random(
    ks: &Keyspace,
    policy: Policy,
    dbs: &[usize],
    next_db: &mut usize,
    rng: &mut impl Rng,
    lazy: bool,
    events: &mut Vec<Event>,
) -> Option<u64> {
    let volatile = policy.volatile_only();
    for _ in 0..dbs.len() {
        let db = dbs[*next_db % dbs.len()];
        *next_db = next_db.wrapping_add(1);
        let mut probe = Probe::new(16, rng);
        while let Some(s) = probe.next(rng) {
            let key = {
                let shard = ks.lock(s);
                let dict = &shard.dbs[db];
                if dict.is_empty() || (volatile && dict.volatile() == 0) {
                    continue;
                }
                match dict.random_node(rng, |n| !volatile || n.entry.expire_at != 0) {
                    Some(n) => n.key.clone(),
                    None => continue,
                }
            };
            if let Some(bytes) = evict_key(ks, db, &key, volatile, lazy, events) {
                return Some(bytes);
            }
        }
    }
    None
}

/// Removes `key` from database `db` as an eviction: WATCHers see it changed, the value is freed here or
/// on the lazy-free thread, an `evicted` event is queued for publishing. `None` if the key is gone (or
/// lost its TTL, for a volatile policy).
fn evict_key(
    ks: &Keyspace,
    db: usize,
    key: &[u8],
    volatile: bool,
    lazy: bool,
    events: &mut Vec<Event>,
) -> Option<u64> {
    let hash = hash_key(key);
    let mut shard = ks.lock(shard_of(hash));
    let dict = &mut shard.dbs[db];
    let n = dict.get(hash, key)?;
    if volatile && n.entry.expire_at == 0 {
        return None;
    }
    let node = dict.remove(hash, key)?;
    if node.entry.expire_at != 0 {
        dict.volatile -= 1;
    }
    drop(shard);
    ks.watches.touch(db, key);
    if ks.notify.wants(notify::EVICTED) {
        events.push(Event {
            class: notify::EVICTED,
            name: "evicted",
            db,
            key: bytes::Bytes::copy_from_slice(key),
        });
    }
    let bytes = crate::storage::usage::entry_bytes(&node.key, &node.entry) as u64;
    if lazy {
        crate::storage::lazyfree::free_value(node.entry.value);
    }
    Some(bytes)
}

/// Asks jemalloc to return unused dirty pages of every arena to the system (MEMORY PURGE).
pub fn purge() {
    #[cfg(not(target_env = "msvc"))]
    {
        // MALLCTL_ARENAS_ALL is 4096: "arena.4096.purge" purges all arenas. The control takes no
        // argument, so it is called with null pointers through the raw interface.
        let name = b"arena.4096.purge\0";
        // SAFETY: a NUL-terminated control name and null old/new pointers, as this control requires.
        unsafe {
            tikv_jemalloc_sys::mallctl(
                name.as_ptr().cast(),
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                0,
            );
        }
    }
}

/// jemalloc's own statistics report (MEMORY MALLOC-STATS).
pub fn malloc_stats() -> String {
    #[cfg(not(target_env = "msvc"))]
    {
        use std::ffi::{c_char, c_void, CStr};
        extern "C" fn write(opaque: *mut c_void, text: *const c_char) {
            // SAFETY: `opaque` is the `String` passed below, alive for the call; jemalloc hands a
            // NUL-terminated string.
            unsafe {
                let out = &mut *(opaque as *mut String);
                out.push_str(&CStr::from_ptr(text).to_string_lossy());
            }
        }
        let mut out = String::new();
        // SAFETY: the callback only appends to `out`, which outlives the call; null options.
        unsafe {
            tikv_jemalloc_sys::malloc_stats_print(
                Some(write),
                (&mut out as *mut String).cast(),
                std::ptr::null(),
            );
        }
        out
    }
    #[cfg(target_env = "msvc")]
    {
        "Stats not supported for the current allocator\n".to_string()
    }
}
