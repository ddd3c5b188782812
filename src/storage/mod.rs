//! The keyspace: sharded hash tables of typed values with expiry.
//!
//! # Layout
//! * [`Keyspace`] owns `SHARDS` mutex-protected [`Shard`]s; a key's hash picks its shard. Each shard holds
//!   one [`dict::Dict`] per logical database, so a shard lock covers a key in every database at once:
//!   MOVE, COPY ... DB and SWAPDB never need a second lock order.
//! * Commands never lock shards themselves: dispatch locks the shards of the keys named by the command's
//!   key specs (in ascending order, so multi-key commands cannot deadlock) and hands a [`db::Db`] view to
//!   the handler. Whole-keyspace commands (SCAN, KEYS, FLUSHALL) lock shards one at a time or all at once.
//! * [`db::Db`] is the one write path: lazy expiry, hit/miss and LRU bookkeeping, the dirty counter and the
//!   per-table TTL counts all happen there, so a command cannot forget them.
//! * [`expire`] runs the active expire cycle on its own thread.
//! * [`notify`] holds the `notify-keyspace-events` classes and the per-command queue of keyspace events
//!   that `Db` and dispatch fill and the server publishes once the locks are dropped.
//!
//! Why not `dashmap`: atomic multi-key commands (MSET, RENAME, later MULTI/EXEC and Lua) must hold several
//! shards at once, and SCAN needs bucket-level control of the table (see [`dict`]). `dashmap` is used where
//! a concurrent map is exactly what is needed (the client registry).

pub mod clock;
pub mod db;
pub mod dict;
pub mod expire;
pub mod huge;
pub mod lazyfree;
pub mod lfu;
pub mod notify;
pub mod types;
pub mod usage;
pub mod value;
pub mod watch;

use std::sync::OnceLock;

use parking_lot::{Mutex, MutexGuard, RwLock};

pub use db::{Db, Locks};
pub use dict::Dict;
pub use value::{Entry, StrValue, Value};

pub const SHARD_BITS: u32 = 8;
pub const SHARDS: usize = 1 << SHARD_BITS;

/// The keyspace hash (aHash, seeded randomly per process so clients cannot aim for collisions).
#[inline]
pub fn hash_key(key: &[u8]) -> u64 {
    static STATE: OnceLock<ahash::RandomState> = OnceLock::new();
    STATE.get_or_init(ahash::RandomState::new).hash_one(key)
}

/// The shard a hash belongs to: its top bits (the bucket index uses the low bits).
#[inline]
pub fn shard_of(hash: u64) -> usize {
    (hash >> (64 - SHARD_BITS)) as usize
}

/// Counters kept under the shard lock (no shared atomics on the hot path); INFO sums them.
#[derive(Debug, Default, Clone, Copy)]
pub struct ShardStats {
    pub hits: u64,
    pub misses: u64,
    pub expired: u64,
}

pub struct Shard {
    pub dbs: Box<[Dict]>,
    pub stats: ShardStats,
}

#[repr(align(128))]
struct Padded(Mutex<Shard>);

pub struct Keyspace {
    shards: Box<[Padded]>,
    /// The gate between commands that take several shards (shared) and those that may take any
    /// (exclusive: scripts, keyless transactions, FLUSHALL...). See [`db::Locks`].
    pub(crate) world: RwLock<()>,
    databases: usize,
    /// Clients WATCHing keys; every write path touches it.
    pub watches: watch::Watches,
    /// `notify-keyspace-events`, read by every write path.
    pub notify: notify::Notify,
}

/// How a keyspace-wide read (INFO, MEMORY STATS, CONFIG RESETSTAT) reaches every shard: the
/// [`Keyspace`] itself locks them one at a time; a command goes through its `ExecCtx`, which uses
/// the locks it may already hold (inside a script or EXEC, locking a held shard again would wait
/// on itself forever).
pub trait EachShard {
    fn each_shard(&mut self, f: &mut dyn FnMut(&mut Shard));
}

impl EachShard for &Keyspace {
    fn each_shard(&mut self, f: &mut dyn FnMut(&mut Shard)) {
        for i in 0..SHARDS {
            f(&mut self.lock(i));
        }
    }
}

impl Keyspace {
    pub fn new(databases: usize) -> Keyspace {
        let shards = (0..SHARDS)
            .map(|_| {
                Padded(Mutex::new(Shard {
                    dbs: (0..databases).map(|_| Dict::new()).collect(),
                    stats: ShardStats::default(),
                }))
            })
            .collect();
        Keyspace {
            shards,
            world: RwLock::new(()),
            databases,
            watches: watch::Watches::default(),
            notify: notify::Notify::default(),
        }
    }

    pub fn databases(&self) -> usize {
        self.databases
    }

    pub fn lock(&self, shard: usize) -> MutexGuard<'_, Shard> {
        self.shards[shard].0.lock()
    }

    /// Starts loading what a batch of requests about to run will read for each of its keys (`(hash,
    /// key)` pairs): the bucket slot, then the chain's first node, then the value's heap block. The
    /// batch then waits for memory once, in parallel, instead of once per key in turn (a lookup in a
    /// large keyspace is two or three dependent cache misses, most of a pipelined GET's time).
    /// Shards another thread holds are skipped: this is a hint and changes nothing but timing.
    pub fn prefetch(&self, db: usize, keys: &[(u64, &[u8])]) {
        let dicts = |f: &mut dyn FnMut(&Dict, u64, &[u8])| {
            for &(h, k) in keys {
                if let Some(s) = self.shards[shard_of(h)].0.try_lock() {
                    if let Some(d) = s.dbs.get(db) {
                        f(d, h, k);
                    }
                }
            }
        };
        dicts(&mut |d, h, _| d.prefetch_bucket(h));
        dicts(&mut |d, h, _| d.prefetch_node(h));
        dicts(&mut |d, h, k| {
            if let Some(n) = d.get(h, k) {
                n.entry.value.prefetch();
            }
        });
    }

    /// Starts loading, for each `(key hash, key, member hash)`, the member's bucket slot and then its
    /// first chain node in the key's hash, set or sorted set, as [`Keyspace::prefetch`] does for
    /// keys. Meant for a run of requests on one collection (`ZADD myzset <score> <member>`, `HSET
    /// myhash <field> <value>`...), whose key is in cache already and whose members are not.
    pub fn prefetch_members(&self, db: usize, members: &[(u64, &[u8], u64)]) {
        for run in members.chunk_by(|a, b| a.0 == b.0 && a.1 == b.1) {
            let Some(&(h, k, _)) = run.first() else {
                continue;
            };
            let Some(s) = self.shards[shard_of(h)].0.try_lock() else {
                continue;
            };
            let Some(n) = s.dbs.get(db).and_then(|d| d.get(h, k)) else {
                continue;
            };
            for node in [false, true] {
                for &(_, _, m) in run {
                    n.entry.value.prefetch_member(m, node);
                }
            }
        }
    }

    /// `(keys, volatile keys)` per database, for INFO keyspace.
    pub fn db_counts(&self, via: &mut dyn EachShard) -> Vec<(usize, usize)> {
        let mut out = vec![(0, 0); self.databases];
        via.each_shard(&mut |s| {
            for (d, dict) in s.dbs.iter().enumerate() {
                out[d].0 += dict.len();
                out[d].1 += dict.volatile();
            }
        });
        out
    }

    /// Keyspace hits, misses and expired keys, summed over the shards.
    pub fn stats(&self, via: &mut dyn EachShard) -> ShardStats {
        let mut t = ShardStats::default();
        via.each_shard(&mut |s| {
            t.hits += s.stats.hits;
            t.misses += s.stats.misses;
            t.expired += s.stats.expired;
        });
        t
    }

    pub fn reset_stats(&self, via: &mut dyn EachShard) {
        via.each_shard(&mut |s| s.stats = ShardStats::default());
    }
}
