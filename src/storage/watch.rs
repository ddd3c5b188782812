//! WATCHed keys: which clients must see their transaction fail when a key changes.
//!
//! The keyspace's write path ([`super::Db`]) and the active expire cycle call [`Watches::touch`] for
//! every key they change, so no command can forget to; FLUSHDB/FLUSHALL/SWAPDB touch whole databases.
//! With no key watched anywhere (the usual case) a write costs one relaxed atomic load here.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;

/// A client's "a watched key changed" flag.
pub type WatchFlag = Arc<AtomicBool>;

/// Watchers of each key of one database.
type DbWatches = HashMap<Box<[u8]>, Vec<WatchFlag>>;

#[derive(Default)]
pub struct Watches {
    registrations: AtomicUsize,
    by_db: Mutex<HashMap<usize, DbWatches>>,
}

impl Watches {
    pub fn watch(&self, db: usize, key: &[u8], flag: &WatchFlag) {
        let mut m = self.by_db.lock();
        let list = m.entry(db).or_default().entry(Box::from(key)).or_default();
        if !list.iter().any(|f| Arc::ptr_eq(f, flag)) {
            list.push(flag.clone());
            self.registrations.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub fn unwatch(&self, db: usize, key: &[u8], flag: &WatchFlag) {
        let mut m = self.by_db.lock();
        let Some(keys) = m.get_mut(&db) else { return };
        if let Some(list) = keys.get_mut(key) {
            let before = list.len();
            list.retain(|f| !Arc::ptr_eq(f, flag));
            self.registrations
                .fetch_sub(before - list.len(), Ordering::Relaxed);
            if list.is_empty() {
                keys.remove(key);
            }
        }
        if keys.is_empty() {
            m.remove(&db);
        }
    }

    /// Number of (client, key) registrations.
    pub fn registrations(&self) -> usize {
        self.registrations.load(Ordering::Relaxed)
    }

    #[inline]
    fn any(&self) -> bool {
        self.registrations.load(Ordering::Relaxed) > 0
    }

    /// `key` in database `db` changed.
    #[inline]
    pub fn touch(&self, db: usize, key: &[u8]) {
        if !self.any() {
            return;
        }
        if let Some(list) = self.by_db.lock().get(&db).and_then(|k| k.get(key)) {
            for f in list {
                f.store(true, Ordering::Relaxed);
            }
        }
    }

    /// Every key of database `db` changed (or of every database with `None`).
    pub fn touch_db(&self, db: Option<usize>) {
        if !self.any() {
            return;
        }
        for (d, keys) in self.by_db.lock().iter() {
            if db.is_none_or(|x| x == *d) {
                for f in keys.values().flatten() {
                    f.store(true, Ordering::Relaxed);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn touch_marks_only_watchers_of_that_key() {
        let w = Watches::default();
        let a: WatchFlag = Arc::default();
        let b: WatchFlag = Arc::default();
        w.watch(0, b"k", &a);
        w.watch(1, b"k", &b);
        w.touch(0, b"other");
        w.touch(0, b"k");
        assert!(a.load(Ordering::Relaxed) && !b.load(Ordering::Relaxed));
        w.touch_db(Some(1));
        assert!(b.load(Ordering::Relaxed));
        w.unwatch(0, b"k", &a);
        w.unwatch(1, b"k", &b);
        assert!(!w.any());
    }
}
