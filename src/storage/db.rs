//! Locked access to the keyspace: [`Locks`] holds shard guards, [`Db`] is the view handlers use.
//!
//! Every read and write of a key goes through [`Db`], which makes it the single place for the side
//! effects of access: lazy expiry of a key found past its TTL, keyspace hit/miss counters, the LRU stamp,
//! the dirty counter, the count of keys with a TTL per table (which the active expire cycle reads), and
//! the generic keyspace events (`new`, `del`, `expired`, `expire`, `persist`, `keymiss`, `evicted`) plus
//! the per-key write markers that dispatch turns into the command's own event (see
//! [`super::notify`]). With notifications off, each costs one relaxed atomic load.

use smallvec::SmallVec;

use super::dict::{Dict, Key, Node};
use super::notify::{self, Event, Events};
use super::value::{Entry, Value};
use super::{hash_key, lfu, shard_of, Keyspace, Shard, SHARDS};
use parking_lot::{MutexGuard, RwLockReadGuard, RwLockWriteGuard};

/// Shard guards held for the duration of one command (or one transaction/script).
///
/// Three ways to hold the keyspace, chosen so that none can deadlock and the common one costs a
/// single lock:
/// - **one shard** (a single-key command, the expire cycle, eviction): its shard's lock only. Such
///   a holder waits for nothing else while it holds it.
/// - **several shards** (MSET, SUNIONSTORE, a keyed transaction): the world gate shared, then the
///   shards in ascending order, so these never wait on each other in a cycle.
/// - **every shard** (a script, FUNCTION/FCALL, a keyless transaction, FLUSHALL, SWAPDB, SORT BY):
///   the world gate exclusive, then each shard as it is first touched, in any order. With the gate
///   held no one else holds two shards, so whoever it waits for waits for nothing and finishes.
///   Shards are kept until the end (two-phase locking), so the whole run is atomic. A script that
///   reads one key locks one shard instead of 256 (locking and unlocking them all was half the
///   time of an `EVAL` of `redis.call('incr', KEYS[1])`).
pub struct Locks<'a> {
    ks: &'a Keyspace,
    /// Sorted by shard index. With every shard locked, `guards[i]` is shard `i`. Declared before
    /// `world` so the shards are released first.
    guards: SmallVec<[(usize, MutexGuard<'a, Shard>); 2]>,
    world: World<'a>,
}

enum World<'a> {
    None,
    /// Held while locking several shards.
    Shared(#[allow(dead_code)] RwLockReadGuard<'a, ()>),
    /// Held by a command entitled to every shard.
    Exclusive(#[allow(dead_code)] RwLockWriteGuard<'a, ()>),
}

impl<'a> Locks<'a> {
    pub fn none(ks: &'a Keyspace) -> Locks<'a> {
        Locks {
            ks,
            guards: SmallVec::new(),
            world: World::None,
        }
    }

    /// Locks the shards of `keys`, in ascending shard order (behind the shared world gate when there
    /// is more than one).
    pub fn for_keys<'k>(ks: &'a Keyspace, keys: impl Iterator<Item = &'k [u8]>) -> Locks<'a> {
        let mut idx: SmallVec<[usize; 4]> = keys.map(|k| shard_of(hash_key(k))).collect();
        idx.sort_unstable();
        idx.dedup();
        let world = if idx.len() > 1 {
            World::Shared(ks.world.read())
        } else {
            World::None
        };
        Locks {
            ks,
            guards: idx.into_iter().map(|i| (i, ks.lock(i))).collect(),
            world,
        }
    }

    /// Locks the shard of `key`: [`Locks::for_keys`] for one key.
    pub fn for_key(ks: &'a Keyspace, key: &[u8]) -> Locks<'a> {
        let i = shard_of(hash_key(key));
        let mut guards = SmallVec::new();
        guards.push((i, ks.lock(i)));
        Locks {
            ks,
            guards,
            world: World::None,
        }
    }

    /// Entitles the holder to every shard, for commands that must see or change the whole keyspace
    /// atomically or touch keys they did not declare. Shards are locked as they are first used.
    pub fn all(ks: &'a Keyspace) -> Locks<'a> {
        Locks {
            ks,
            guards: SmallVec::new(),
            world: World::Exclusive(ks.world.write()),
        }
    }

    pub fn keyspace(&self) -> &'a Keyspace {
        self.ks
    }

    /// Whether these locks entitle the holder to every shard ([`Locks::all`]).
    pub fn holds_all(&self) -> bool {
        matches!(self.world, World::Exclusive(_))
    }

    /// Shard `idx` through these locks, locking it first if it is not held yet: with
    /// [`Locks::all`] that is how shards are taken; otherwise it is a bug (below).
    pub fn shard_mut(&mut self, idx: usize) -> &mut Shard {
        let pos = if self.guards.len() == SHARDS {
            idx
        } else {
            match self.guards.binary_search_by_key(&idx, |g| g.0) {
                Ok(p) => p,
                Err(p) => {
                    // A handler touched a key its command's key specs do not name. That is a bug in the
                    // command table; take the lock rather than fail, and flag it in debug builds.
                    debug_assert!(self.holds_all(), "shard {idx} not locked for this command");
                    self.guards.insert(p, (idx, self.ks.lock(idx)));
                    p
                }
            }
        };
        &mut self.guards[pos].1
    }

    /// A shard already locked by this command, for shared access.
    fn shard_ref(&self, idx: usize) -> Option<&Shard> {
        if self.guards.len() == SHARDS {
            return self.guards.get(idx).map(|g| &*g.1);
        }
        self.guards
            .binary_search_by_key(&idx, |g| g.0)
            .ok()
            .map(|p| &*self.guards[p].1)
    }

    /// Runs `f` on each locked shard (on every shard, with [`Locks::all`]).
    pub fn for_each_shard(&mut self, mut f: impl FnMut(&mut Shard)) {
        if self.holds_all() && self.guards.len() < SHARDS {
            let mut held = std::mem::take(&mut self.guards).into_iter().peekable();
            let mut every = SmallVec::with_capacity(SHARDS);
            for i in 0..SHARDS {
                match held.next_if(|g| g.0 == i) {
                    Some(g) => every.push(g),
                    None => every.push((i, self.ks.lock(i))),
                }
            }
            self.guards = every;
        }
        for (_, g) in self.guards.iter_mut() {
            f(g);
        }
    }
}

/// How a write treats the key's existing TTL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ttl {
    /// Remove any TTL (what a plain SET does).
    Clear,
    /// Leave the TTL as it is (KEEPTTL, and in-place updates).
    Keep,
    /// Expire at this Unix time in milliseconds.
    At(u64),
}

/// Finds a live key's node, dropping it first if its TTL has passed.
fn lookup<'x>(
    locks: &'x mut Locks<'_>,
    index: usize,
    now: u64,
    dirty: &mut u64,
    events: Option<&mut Events>,
    key: &[u8],
) -> Option<&'x mut Node> {
    let hash = hash_key(key);
    let ks = locks.keyspace();
    let shard = locks.shard_mut(shard_of(hash));
    let dict = &mut shard.dbs[index];
    if dict.volatile > 0 {
        let expired = dict.get(hash, key).map(|n| n.entry.is_expired(now))?;
        if expired {
            if let Some(node) = dict.remove(hash, key) {
                if node.entry.expire_at != 0 {
                    dict.volatile -= 1;
                }
                super::lazyfree::free_expired(node.entry.value);
            }
            shard.stats.expired += 1;
            *dirty += 1;
            ks.watches.touch(index, key);
            if let Some(events) = events.filter(|_| ks.notify.wants(notify::EXPIRED)) {
                events.push(Event {
                    class: notify::EXPIRED,
                    name: "expired",
                    db: index,
                    key: bytes::Bytes::copy_from_slice(key),
                });
            }
            return None;
        }
    }
    shard.dbs[index].get_mut(hash, key)
}

/// Queues a `keymiss` event (class `m`) for a read that found nothing.
#[inline]
fn key_miss(ks: &Keyspace, events: Option<&mut Events>, db: usize, key: &[u8]) {
    if let Some(events) = events.filter(|_| ks.notify.wants(notify::KEY_MISS)) {
        events.push(Event {
            class: notify::KEY_MISS,
            name: "keymiss",
            db,
            key: bytes::Bytes::copy_from_slice(key),
        });
    }
}

/// One database seen through a command's locks.
pub struct Db<'l, 'a> {
    locks: &'l mut Locks<'a>,
    index: usize,
    now: u64,
    dirty: &'l mut u64,
    /// The command's keyspace-notification queue (see [`super::notify`]); `None` drops events (a
    /// view made outside a command, as in unit tests and benches).
    events: Option<&'l mut Events>,
    /// CLIENT NO-TOUCH: lookups leave the LRU stamp alone (TOUCH still sets it).
    no_touch: bool,
}

impl<'l, 'a> Db<'l, 'a> {
    pub fn new(locks: &'l mut Locks<'a>, index: usize, now: u64, dirty: &'l mut u64) -> Self {
        Db {
            locks,
            index,
            now,
            dirty,
            events: None,
            no_touch: false,
        }
    }

    /// A view whose keyspace events go to `events` (a command's queue).
    pub fn with_events(
        locks: &'l mut Locks<'a>,
        index: usize,
        now: u64,
        dirty: &'l mut u64,
        events: &'l mut Events,
    ) -> Self {
        Db {
            locks,
            index,
            now,
            dirty,
            events: Some(events),
            no_touch: false,
        }
    }

    /// Queues a keyspace event for `key` if its class is enabled (one relaxed load when off).
    #[inline]
    pub fn notify(&mut self, class: u32, name: &'static str, key: &[u8]) {
        if let Some(events) = self
            .events
            .as_deref_mut()
            .filter(|_| self.locks.keyspace().notify.wants(class))
        {
            events.push(Event {
                class,
                name,
                db: self.index,
                key: bytes::Bytes::copy_from_slice(key),
            });
        }
    }

    /// Records that this command wrote `key`, for the command's own event (see [`super::notify`]).
    #[inline]
    fn mark(&mut self, key: &[u8]) {
        if self.locks.keyspace().notify.flags() & (notify::KEYSPACE | notify::KEYEVENT) != 0 {
            if let Some(events) = self.events.as_deref_mut() {
                notify::mark_written(events, self.index, key);
            }
        }
    }

    /// For a CLIENT NO-TOUCH client: reads and writes through this Db keep keys' LRU stamps.
    pub fn no_touch(mut self, on: bool) -> Self {
        self.no_touch = on;
        self
    }

    pub fn index(&self) -> usize {
        self.index
    }

    /// The command's clock (fixed for the whole command, as Redis's `mstime` cache).
    pub fn now(&self) -> u64 {
        self.now
    }

    /// Tells WATCHing clients that `key` changed.
    #[inline]
    fn touched(&self, key: &[u8]) {
        self.locks.keyspace().watches.touch(self.index, key);
    }

    fn shard(&mut self, hash: u64) -> &mut Shard {
        self.locks.shard_mut(shard_of(hash))
    }

    fn dict(&mut self, hash: u64) -> &mut Dict {
        let i = self.index;
        &mut self.shard(hash).dbs[i]
    }

    /// Drops the key if its TTL has passed; true if it is (still) present afterwards.
    fn expire_if_needed(&mut self, hash: u64, key: &[u8]) -> bool {
        let now = self.now;
        let i = self.index;
        let shard = self.shard(hash);
        let dict = &mut shard.dbs[i];
        let expired = match dict.get(hash, key) {
            None => return false,
            Some(n) => n.entry.is_expired(now),
        };
        if expired {
            if let Some(node) = dict.remove(hash, key) {
                if node.entry.expire_at != 0 {
                    dict.volatile -= 1;
                }
                super::lazyfree::free_expired(node.entry.value);
            }
            shard.stats.expired += 1;
            *self.dirty += 1;
            self.touched(key);
            self.notify(notify::EXPIRED, "expired", key);
            return false;
        }
        true
    }

    fn node_mut(&mut self, key: &[u8]) -> Option<&mut Node> {
        lookup(
            self.locks,
            self.index,
            self.now,
            self.dirty,
            self.events.as_deref_mut(),
            key,
        )
    }

    /// Looks a key up for reading: counts a keyspace hit or miss and refreshes the LRU stamp.
    pub fn get(&mut self, key: &[u8]) -> Option<&Value> {
        let hash = hash_key(key);
        let present = self.dict(hash).volatile == 0 || self.expire_if_needed(hash, key);
        let i = self.index;
        let now = self.now;
        let touch = !self.no_touch;
        let ks = self.locks.keyspace();
        let shard = self.locks.shard_mut(shard_of(hash));
        let node = if present {
            shard.dbs[i].get_mut(hash, key)
        } else {
            None
        };
        match node {
            Some(n) => {
                shard.stats.hits += 1;
                if touch {
                    lfu::on_access(&mut n.meta, now);
                }
                Some(&n.entry.value)
            }
            None => {
                shard.stats.misses += 1;
                key_miss(ks, self.events.as_deref_mut(), i, key);
                None
            }
        }
    }

    /// Looks several keys up for reading at once, for commands that read many values together (SINTER,
    /// SUNION, SDIFF...): each key counts a hit or miss and has its LRU stamp refreshed exactly as with
    /// [`Db::get`] (a key named twice counts twice, as in Redis), then all values are borrowed together.
    pub fn get_many<K: AsRef<[u8]>>(&mut self, keys: &[K]) -> Vec<Option<&Value>> {
        for k in keys {
            self.get(k.as_ref());
        }
        let this: &Self = self;
        keys.iter()
            .map(|k| {
                let key = k.as_ref();
                let hash = hash_key(key);
                this.locks.shard_ref(shard_of(hash))?.dbs[this.index]
                    .get(hash, key)
                    .filter(|n| !n.entry.is_expired(this.now))
                    .map(|n| &n.entry.value)
            })
            .collect()
    }

    /// Looks a key up for reading without refreshing its LRU stamp, as Redis's `LOOKUP_NOTOUCH` reads
    /// (EXISTS, TYPE, TTL, OBJECT): counts a keyspace hit or miss.
    pub fn get_notouch(&mut self, key: &[u8]) -> Option<&Entry> {
        self.node_notouch(key).map(|n| &n.entry)
    }

    /// The key's LRU/LFU stamp (OBJECT IDLETIME/FREQ), looked up as [`Db::get_notouch`] does.
    pub fn stamp_notouch(&mut self, key: &[u8]) -> Option<u32> {
        self.node_notouch(key).map(|n| n.meta)
    }

    fn node_notouch(&mut self, key: &[u8]) -> Option<&Node> {
        let hash = hash_key(key);
        let present = self.dict(hash).volatile == 0 || self.expire_if_needed(hash, key);
        let i = self.index;
        let ks = self.locks.keyspace();
        let shard = self.locks.shard_mut(shard_of(hash));
        let node = if present {
            shard.dbs[i].get(hash, key)
        } else {
            None
        };
        match node {
            Some(n) => {
                shard.stats.hits += 1;
                Some(n)
            }
            None => {
                shard.stats.misses += 1;
                key_miss(ks, self.events.as_deref_mut(), i, key);
                None
            }
        }
    }

    /// Looks a key up without touching statistics or its LRU stamp (TYPE, EXISTS-like checks, OBJECT).
    pub fn peek(&mut self, key: &[u8]) -> Option<&Entry> {
        self.node_mut(key).map(|n| &n.entry)
    }

    pub fn exists(&mut self, key: &[u8]) -> bool {
        self.node_mut(key).is_some()
    }

    /// Looks a key up for modification in place. Counts as a write.
    pub fn get_mut(&mut self, key: &[u8]) -> Option<&mut Value> {
        let now = self.now;
        let touch = !self.no_touch;
        let ks = self.locks.keyspace();
        let n = lookup(
            self.locks,
            self.index,
            self.now,
            &mut *self.dirty,
            self.events.as_deref_mut(),
            key,
        )?;
        if touch {
            lfu::on_access(&mut n.meta, now);
        }
        *self.dirty += 1;
        ks.watches.touch(self.index, key);
        if ks.notify.flags() & (notify::KEYSPACE | notify::KEYEVENT) != 0 {
            if let Some(events) = self.events.as_deref_mut() {
                notify::mark_written(events, self.index, key);
            }
        }
        Some(&mut n.entry.value)
    }

    /// The value at `key`, inserting `make()` first if the key is absent. Counts as a write.
    pub fn get_or_insert_with(&mut self, key: &[u8], make: impl FnOnce() -> Value) -> &mut Value {
        let hash = hash_key(key);
        *self.dirty += 1;
        self.touched(key);
        let present = self.dict(hash).volatile == 0 || self.expire_if_needed(hash, key);
        let now = self.now;
        let touch = !self.no_touch;
        let exists = present && self.dict(hash).get(hash, key).is_some();
        if !exists {
            self.notify(notify::NEW, "new", key);
        }
        self.mark(key);
        let dict = self.dict(hash);
        if exists {
            let n = dict
                .get_mut(hash, key)
                .expect("present: checked above under the same lock");
            if touch {
                lfu::on_access(&mut n.meta, now);
            }
            return &mut n.entry.value;
        }
        let n = dict.insert_new(hash, Key::from(key), Entry::new(make()));
        n.meta = lfu::new_stamp(now);
        &mut n.entry.value
    }

    /// The value at `key` if `is_type` accepts it, creating it with `make()` if the key is absent.
    /// `Err(())` (and no write counted) when the key holds a value `is_type` refuses: the caller
    /// replies WRONGTYPE. Counts as a write otherwise.
    #[allow(clippy::result_unit_err)]
    pub fn get_or_create(
        &mut self,
        key: &[u8],
        is_type: impl Fn(&Value) -> bool,
        make: impl FnOnce() -> Value,
    ) -> Result<&mut Value, ()> {
        if let Some(e) = self.peek(key) {
            if !is_type(&e.value) {
                return Err(());
            }
        }
        Ok(self.get_or_insert_with(key, make))
    }

    /// Stores `value` at `key`, replacing any value, with the TTL rule `ttl`.
    /// Returns the previous value.
    pub fn set(&mut self, key: &[u8], value: Value, ttl: Ttl) -> Option<Value> {
        let hash = hash_key(key);
        *self.dirty += 1;
        self.touched(key);
        if self.dict(hash).volatile > 0 {
            self.expire_if_needed(hash, key);
        }
        if self.locks.keyspace().notify.flags() != 0 {
            if self.dict(hash).get(hash, key).is_none() {
                self.notify(notify::NEW, "new", key);
            }
            self.mark(key);
            if let Ttl::At(_) = ttl {
                self.notify(notify::GENERIC, "expire", key);
            }
        }
        let now = self.now;
        let dict = self.dict(hash);
        match dict.get_mut(hash, key) {
            Some(n) => {
                let old_exp = n.entry.expire_at;
                let new_exp = match ttl {
                    Ttl::Clear => 0,
                    Ttl::Keep => old_exp,
                    Ttl::At(t) => t,
                };
                n.entry.expire_at = new_exp;
                // An overwrite keeps the LFU counter (Redis's dbSetValue); LRU becomes now.
                lfu::on_access(&mut n.meta, now);
                let old = std::mem::replace(&mut n.entry.value, value);
                match (old_exp != 0, new_exp != 0) {
                    (true, false) => dict.volatile -= 1,
                    (false, true) => dict.volatile += 1,
                    _ => {}
                }
                Some(old)
            }
            None => {
                let mut entry = Entry::new(value);
                if let Ttl::At(t) = ttl {
                    entry.expire_at = t;
                    dict.volatile += 1;
                }
                dict.insert_new(hash, Key::from(key), entry).meta = lfu::new_stamp(now);
                None
            }
        }
    }

    /// Deletes a key, returning its value. Raises the `del` event (DEL, UNLINK, GETDEL, a collection
    /// emptied by a removal, an empty STORE result replacing a key, ...).
    pub fn remove(&mut self, key: &[u8]) -> Option<Value> {
        let e = self.remove_entry(key)?;
        self.notify(notify::GENERIC, "del", key);
        Some(e.value)
    }

    /// Deletes a key, returning its entry (value and TTL), with no event: for commands that move the
    /// entry elsewhere and raise their own events (RENAME, MOVE).
    pub fn remove_entry(&mut self, key: &[u8]) -> Option<Entry> {
        let hash = hash_key(key);
        if self.dict(hash).volatile > 0 && !self.expire_if_needed(hash, key) {
            return None;
        }
        let dict = self.dict(hash);
        let node = dict.remove(hash, key)?;
        if node.entry.expire_at != 0 {
            dict.volatile -= 1;
        }
        *self.dirty += 1;
        self.touched(key);
        Some(node.entry)
    }

    /// Inserts a whole entry (value and TTL) for a key known to be absent, e.g. RENAME, MOVE, COPY.
    pub fn insert_entry(&mut self, key: &[u8], entry: Entry) {
        self.remove_entry(key);
        self.notify(notify::NEW, "new", key);
        self.mark(key);
        let hash = hash_key(key);
        let now = self.now;
        let dict = self.dict(hash);
        if entry.expire_at != 0 {
            dict.volatile += 1;
        }
        dict.insert_new(hash, Key::from(key), entry).meta = lfu::new_stamp(now);
        *self.dirty += 1;
        self.touched(key);
    }

    /// The key's TTL: `None` if the key does not exist, `Some(None)` if it has no TTL.
    pub fn expire_at(&mut self, key: &[u8]) -> Option<Option<u64>> {
        self.node_mut(key).map(|n| n.entry.expire_at())
    }

    /// Sets or clears the TTL of an existing key. Returns false if the key does not exist.
    /// A time already past deletes the key, as Redis does.
    pub fn set_expire(&mut self, key: &[u8], at: Option<u64>) -> bool {
        let now = self.now;
        let hash = hash_key(key);
        if self.dict(hash).volatile > 0 && !self.expire_if_needed(hash, key) {
            return false;
        }
        if let Some(t) = at {
            if t <= now {
                return self.remove(key).is_some();
            }
        }
        let dict = self.dict(hash);
        let Some(n) = dict.get_mut(hash, key) else {
            return false;
        };
        let had = n.entry.expire_at != 0;
        n.entry.expire_at = at.unwrap_or(0);
        match (had, at.is_some()) {
            (true, false) => dict.volatile -= 1,
            (false, true) => dict.volatile += 1,
            _ => {}
        }
        *self.dirty += 1;
        self.touched(key);
        if at.is_some() {
            self.notify(notify::GENERIC, "expire", key);
        } else if had {
            self.notify(notify::GENERIC, "persist", key);
        }
        true
    }

    /// Updates a key's LRU stamp (TOUCH).
    pub fn touch(&mut self, key: &[u8]) -> bool {
        let now = self.now;
        match self.node_mut(key) {
            Some(n) => {
                lfu::on_access(&mut n.meta, now);
                true
            }
            None => false,
        }
    }

    /// Another database through the same locks (MOVE, COPY ... DB).
    pub fn with_db<R>(&mut self, index: usize, f: impl FnOnce(&mut Db<'_, 'a>) -> R) -> R {
        let mut other = Db {
            locks: self.locks,
            index,
            now: self.now,
            dirty: self.dirty,
            events: self.events.as_deref_mut(),
            no_touch: self.no_touch,
        };
        f(&mut other)
    }
}
