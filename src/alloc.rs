//! The process allocator: jemalloc, wrapped to keep Redis's `used_memory` counter.
//!
//! Redis counts every allocation's usable size in an atomic (`zmalloc_used_memory`), which makes the
//! figure exact and cheap to read, so eviction can check it before every command. jemalloc's own
//! `stats.allocated` is neither: it needs an epoch refresh (microseconds) and counts memory parked in
//! thread caches as allocated, which made eviction free far more than needed. So each allocation adds
//! its jemalloc size class to a thread-local balance, flushed into one global atomic whenever it moves
//! by more than [`FLUSH`] bytes: no shared cache line is touched per allocation, and the global figure
//! is exact to within `FLUSH` bytes per thread.

use std::alloc::{GlobalAlloc, Layout};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

/// Bytes a thread may allocate or free before publishing its balance.
const FLUSH: i64 = 16 * 1024;

static USED: AtomicI64 = AtomicI64::new(0);
static INSTALLED: AtomicBool = AtomicBool::new(false);

thread_local! {
    static BALANCE: Cell<i64> = const { Cell::new(0) };
}

/// The jemalloc size class an allocation of `size` bytes occupies (four classes per doubling above
/// 128 bytes, 16-byte steps below, 8 for the tiniest).
#[inline]
pub fn size_class(size: usize) -> usize {
    if size <= 8 {
        8
    } else if size <= 128 {
        (size + 15) & !15
    } else {
        let step = size.next_power_of_two() >> 3;
        (size + step - 1) & !(step - 1)
    }
}

#[inline]
fn account(delta: i64) {
    // `try_with`: during thread teardown the slot may be gone; count globally then.
    let flushed = BALANCE.try_with(|b| {
        let v = b.get() + delta;
        if v.abs() >= FLUSH {
            b.set(0);
            USED.fetch_add(v, Ordering::Relaxed);
        } else {
            b.set(v);
        }
    });
    if flushed.is_err() {
        USED.fetch_add(delta, Ordering::Relaxed);
    }
}

/// Counts `delta` bytes of memory obtained outside the global allocator (the keyspace's huge-page
/// pool, [`crate::storage::huge`]) as allocated or, when negative, as given back.
pub fn account_external(delta: i64) {
    account(delta);
}

/// Bytes currently allocated through the counting allocator, or `None` when this process does not use
/// it (the library inside a test binary).
pub fn used_memory() -> Option<u64> {
    INSTALLED
        .load(Ordering::Relaxed)
        .then(|| USED.load(Ordering::Relaxed).max(0) as u64)
}

/// jemalloc with a `used_memory` counter; install it with `#[global_allocator]`.
pub struct Counting;

#[cfg(not(target_env = "msvc"))]
type Inner = tikv_jemallocator::Jemalloc;
#[cfg(target_env = "msvc")]
type Inner = std::alloc::System;

#[cfg(not(target_env = "msvc"))]
const INNER: Inner = tikv_jemallocator::Jemalloc;
#[cfg(target_env = "msvc")]
const INNER: Inner = std::alloc::System;

// SAFETY: every call is forwarded unchanged to the inner allocator; the wrapper only counts.
unsafe impl GlobalAlloc for Counting {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = INNER.alloc(layout);
        if !p.is_null() {
            account(size_class(layout.size()) as i64);
        }
        p
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = INNER.alloc_zeroed(layout);
        if !p.is_null() {
            account(size_class(layout.size()) as i64);
        }
        p
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        INNER.dealloc(ptr, layout);
        account(-(size_class(layout.size()) as i64));
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = INNER.realloc(ptr, layout, new_size);
        if !p.is_null() {
            account(size_class(new_size) as i64 - size_class(layout.size()) as i64);
        }
        p
    }
}

/// Marks the counting allocator as the process's allocator (called first thing in `main`).
pub fn mark_installed() {
    INSTALLED.store(true, Ordering::Relaxed);
}

#[cfg(test)]
mod tests {
    use super::size_class;

    #[test]
    fn size_classes_match_jemalloc() {
        let expect = [
            (1, 8),
            (8, 8),
            (9, 16),
            (24, 32),
            (48, 48),
            (100, 112),
            (129, 160),
            (200, 224),
            (257, 320),
            (1000, 1024),
            (1025, 1280),
            (5000, 5120),
        ];
        for (size, class) in expect {
            assert_eq!(size_class(size), class, "size {size}");
        }
    }
}
