//! Clients blocked on keys (BLPOP, BLMOVE, BZPOPMIN, XREAD BLOCK, ...).
//!
//! A blocking handler that finds nothing to serve sets [`crate::commands::ExecCtx::block`]; the
//! connection then registers a [`Waiter`] here on each key and waits, holding no lock and no thread,
//! until it is woken, times out, or the client goes away. A command that makes a key ready (a push)
//! calls `ExecCtx::signal_ready`; after it completes, dispatch wakes the first waiter of each ready key.
//! The woken client re-runs its command. If it gets the element it wakes the next waiter (the key may
//! hold more); if another client took the element first it registers again at the head of the queue, so
//! clients are served in the order they blocked.
//!
//! Waiters come in two kinds. A consuming waiter (BLPOP, BZPOPMIN, XREADGROUP `>`) takes what it is
//! woken for, so one is woken per ready key and the served one passes the turn on, as above. A
//! *shared* waiter (XREAD) consumes nothing: every shared waiter of a key is woken at once, as Redis
//! serves every client blocked in XREAD on a stream when an entry is added. A shared waiter whose
//! re-run finds nothing (the entry was deleted meanwhile) simply waits again; its place in the queue
//! does not matter, since all of them are woken together.
//!
//! A global count of waiters keeps the push path free of any lock when nobody is blocked.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use parking_lot::Mutex;
use tokio::sync::Notify;

/// One blocked client.
pub struct Waiter {
    pub client_id: u64,
    /// Consumes nothing (XREAD): woken together with every other shared waiter of the key.
    pub shared: bool,
    notify: Notify,
}

impl Waiter {
    /// A consuming waiter: one is woken per ready key.
    pub fn new(client_id: u64) -> Arc<Waiter> {
        Self::with_kind(client_id, false)
    }

    /// A waiter of the given kind (`shared`: consumes nothing, woken with all other shared waiters).
    pub fn with_kind(client_id: u64, shared: bool) -> Arc<Waiter> {
        Arc::new(Waiter {
            client_id,
            shared,
            notify: Notify::new(),
        })
    }

    /// Resolves when the waiter is woken (a wake-up that came before the wait is not lost).
    pub async fn woken(&self) {
        self.notify.notified().await
    }

    pub fn wake(&self) {
        self.notify.notify_one();
    }
}

type KeyId = (usize, Bytes);

#[derive(Default)]
pub struct Blocking {
    waiting: AtomicUsize,
    queues: Mutex<HashMap<KeyId, VecDeque<Arc<Waiter>>>>,
}

impl Blocking {
    /// Number of registrations (a client blocked on two keys counts twice).
    pub fn waiting(&self) -> usize {
        self.waiting.load(Ordering::Relaxed)
    }

    /// Number of distinct blocked clients (INFO's `blocked_clients`).
    pub fn blocked_clients(&self) -> usize {
        if self.waiting() == 0 {
            return 0;
        }
        let q = self.queues.lock();
        let mut ids: Vec<u64> = q.values().flatten().map(|w| w.client_id).collect();
        ids.sort_unstable();
        ids.dedup();
        ids.len()
    }

    /// Registers `w` on `keys` of database `db`, at the tail (or the head, to keep its turn after losing
    /// a race for an element).
    pub fn register(&self, db: usize, keys: &[Bytes], w: &Arc<Waiter>, at_head: bool) {
        let mut q = self.queues.lock();
        for k in keys {
            let queue = q.entry((db, k.clone())).or_default();
            if queue.iter().any(|x| Arc::ptr_eq(x, w)) {
                continue;
            }
            if at_head {
                queue.push_front(w.clone());
            } else {
                queue.push_back(w.clone());
            }
            self.waiting.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Removes `w` from every queue it is in.
    pub fn unregister(&self, db: usize, keys: &[Bytes], w: &Arc<Waiter>) {
        let mut q = self.queues.lock();
        for k in keys {
            let id = (db, k.clone());
            if let Some(queue) = q.get_mut(&id) {
                let before = queue.len();
                queue.retain(|x| !Arc::ptr_eq(x, w));
                self.waiting
                    .fetch_sub(before - queue.len(), Ordering::Relaxed);
                if queue.is_empty() {
                    q.remove(&id);
                }
            }
        }
    }

    /// Wakes, among the clients blocked on `key` of database `db`, the first consuming one and every
    /// shared one. A woken client stays registered until it has retried its command, so a second
    /// wake-up for the same key goes to the same consuming client only if it has not yet run.
    pub fn wake_first(&self, db: usize, key: &[u8]) {
        if self.waiting() == 0 {
            return;
        }
        let q = self.queues.lock();
        if let Some(queue) = q.get(&(db, Bytes::copy_from_slice(key))) {
            let mut consumer_woken = false;
            for w in queue {
                if w.shared {
                    w.wake();
                } else if !consumer_woken {
                    w.wake();
                    consumer_woken = true;
                }
            }
        }
    }

    /// Wakes every client blocked on any key of database `db` (or all databases): FLUSHDB, SWAPDB and
    /// key deletion make them re-check (and fail or keep waiting) as Redis does for streams.
    pub fn wake_all(&self, db: Option<usize>) {
        if self.waiting() == 0 {
            return;
        }
        let q = self.queues.lock();
        for ((d, _), queue) in q.iter() {
            if db.is_none_or(|x| x == *d) {
                for w in queue {
                    w.wake();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn shared_waiters_all_wake_with_one_consumer() {
        let b = Blocking::default();
        let keys = [Bytes::from_static(b"s")];
        let readers: Vec<_> = (0..3).map(|i| Waiter::with_kind(i, true)).collect();
        let consumers: Vec<_> = (10..12).map(Waiter::new).collect();
        for w in consumers.iter().chain(&readers) {
            b.register(0, &keys, w, false);
        }
        b.wake_first(0, b"s");
        let wait = std::time::Duration::from_secs(1);
        for r in &readers {
            tokio::time::timeout(wait, r.woken()).await.unwrap();
        }
        tokio::time::timeout(wait, consumers[0].woken())
            .await
            .unwrap();
        assert!(
            tokio::time::timeout(std::time::Duration::from_millis(20), consumers[1].woken())
                .await
                .is_err()
        );
    }

    #[tokio::test]
    async fn fifo_wakeups_and_bookkeeping() {
        let b = Blocking::default();
        let keys = [Bytes::from_static(b"q")];
        let first = Waiter::new(1);
        let second = Waiter::new(2);
        b.register(0, &keys, &first, false);
        b.register(0, &keys, &second, false);
        assert_eq!(b.waiting(), 2);
        assert_eq!(b.blocked_clients(), 2);
        b.wake_first(0, b"q");
        // The first waiter's wake-up is stored even though nobody awaits it yet.
        tokio::time::timeout(std::time::Duration::from_secs(1), first.woken())
            .await
            .unwrap();
        assert!(
            tokio::time::timeout(std::time::Duration::from_millis(20), second.woken())
                .await
                .is_err()
        );
        b.unregister(0, &keys, &first);
        b.wake_first(0, b"q");
        tokio::time::timeout(std::time::Duration::from_secs(1), second.woken())
            .await
            .unwrap();
        b.unregister(0, &keys, &second);
        assert_eq!(b.waiting(), 0);
        // A client that lost a race keeps its turn.
        b.register(0, &keys, &second, false);
        b.register(0, &keys, &first, true);
        b.wake_first(0, b"q");
        tokio::time::timeout(std::time::Duration::from_secs(1), first.woken())
            .await
            .unwrap();
    }
}
