//! Freeing big values off the request path, as Redis's `lazyfree.c`.
//!
//! A value whose freeing costs more than [`LAZYFREE_THRESHOLD`] allocations (a collection with many
//! elements, a stream with many blocks) is handed to one background thread; small values are dropped
//! on the spot, where a channel send would cost more than the free. UNLINK and FLUSHALL/FLUSHDB ASYNC
//! always come here; DEL, eviction, expiry and FLUSHALL do when their `lazyfree-lazy-*` parameter says
//! so. INFO reports `lazyfree_pending_objects` and `lazyfreed_objects`.
//!
//! The same thread also prepares big allocations ahead of use ([`run_in_background`]), as Redis's
//! `bio` threads take slow work of several kinds off the event loop.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{channel, Sender};
use std::sync::{Mutex, OnceLock};

use std::sync::atomic::AtomicBool;

use super::{Dict, Value};

/// `lazyfree-lazy-expire`: keys expired on access are freed through here.
pub static LAZY_EXPIRE: AtomicBool = AtomicBool::new(false);

/// Redis's `LAZYFREE_THRESHOLD`: below this many allocations, freeing inline is cheaper.
pub const LAZYFREE_THRESHOLD: usize = 64;

static PENDING: AtomicU64 = AtomicU64::new(0);
static FREED: AtomicU64 = AtomicU64::new(0);

/// Held only to be dropped on the lazyfree thread.
#[allow(dead_code)]
enum Garbage {
    Value(Value),
    Tables(Vec<Dict>),
    /// A structure's own memory a resize or rebuild left behind (see [`drop_in_background`]).
    Memory(Box<dyn Send>),
    /// Work to run rather than memory to drop (see [`run_in_background`]).
    Job(Box<dyn FnOnce() + Send>),
}

fn sender() -> &'static Mutex<Sender<(Garbage, u64)>> {
    static TX: OnceLock<Mutex<Sender<(Garbage, u64)>>> = OnceLock::new();
    TX.get_or_init(|| {
        let (tx, rx) = channel::<(Garbage, u64)>();
        let spawned = std::thread::Builder::new()
            .name("lazyfree".into())
            .spawn(move || {
                for (garbage, objects) in rx {
                    match garbage {
                        Garbage::Job(job) => job(),
                        other => drop(other),
                    }
                    PENDING.fetch_sub(objects, Ordering::Relaxed);
                    FREED.fetch_add(objects, Ordering::Relaxed);
                }
            });
        if let Err(e) = spawned {
            tracing::warn!("cannot start the lazyfree thread ({e}); freeing inline");
        }
        Mutex::new(tx)
    })
}

fn send(garbage: Garbage, objects: u64) {
    PENDING.fetch_add(objects, Ordering::Relaxed);
    let tx = sender().lock().unwrap_or_else(|p| p.into_inner());
    if let Err(back) = tx.send((garbage, objects)) {
        // The thread is gone: free here.
        PENDING.fetch_sub(objects, Ordering::Relaxed);
        drop(back);
    }
}

/// Roughly how many allocations freeing `v` takes (Redis's `lazyfreeGetFreeEffort`).
pub fn free_effort(v: &Value) -> usize {
    match v {
        Value::Str(_) => 1,
        Value::List(l) => l.len(),
        Value::Hash(h) if h.encoding() == "hashtable" => h.len(),
        Value::Set(s) if s.encoding().name() == "hashtable" => s.len(),
        Value::ZSet(z) if z.encoding() == "skiplist" => z.len(),
        Value::Stream(s) => s.blocks() + s.groups.len(),
        _ => 1,
    }
}

/// Frees `v` in the background if that is worth it, else now.
pub fn free_value(v: Value) {
    if free_effort(&v) > LAZYFREE_THRESHOLD {
        send(Garbage::Value(v), 1);
    } else {
        drop(v);
    }
}

/// Frees an expired key's value: in the background under `lazyfree-lazy-expire`, else now.
pub fn free_expired(v: Value) {
    if LAZY_EXPIRE.load(Ordering::Relaxed) {
        free_value(v);
    }
}

/// Frees whole tables (FLUSHALL/FLUSHDB ASYNC) in the background.
pub fn free_tables(tables: Vec<Dict>) {
    let objects: u64 = tables.iter().map(|d| d.len() as u64).sum();
    if objects == 0 {
        return;
    }
    send(Garbage::Tables(tables), objects);
}

/// Bytes of a structure's own memory worth freeing off the request path: above this, giving pages
/// back to the kernel (munmap, or jemalloc purging) takes milliseconds.
pub const BACKGROUND_BYTES: usize = 1 << 20;

/// Drops `garbage`, a table's old bucket array or an arena a rebuild replaced (not a keyspace
/// object: INFO's lazyfree counts do not see it), on the lazyfree thread. Dropping the 90 MB arena
/// of a sorted set that shrank took 10 ms inside one ZPOPMIN.
pub fn drop_in_background<T: Send + 'static>(garbage: T) {
    send(Garbage::Memory(Box::new(garbage)), 0);
}

/// Runs `job` on the background thread, after what was queued before it. A job that the thread
/// cannot take (it failed to start) is dropped unrun, so callers must not depend on it running:
/// [`super::Dict`]'s prepared bucket arrays, for one, fall back to allocating inline.
pub fn run_in_background(job: impl FnOnce() + Send + 'static) {
    send(Garbage::Job(Box::new(job)), 0);
}

/// Objects queued but not yet freed (INFO `lazyfree_pending_objects`).
pub fn pending() -> u64 {
    PENDING.load(Ordering::Relaxed)
}

/// Objects freed in the background since start (INFO `lazyfreed_objects`).
pub fn freed() -> u64 {
    FREED.load(Ordering::Relaxed)
}

/// Clears the `lazyfreed_objects` counter (CONFIG RESETSTAT).
pub fn reset_stats() {
    FREED.store(0, Ordering::Relaxed);
}
