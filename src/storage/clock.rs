//! Wall-clock helpers: Unix milliseconds for expiry, a coarse seconds clock for LRU.
//!
//! Reading the wall clock is a system call on some virtual machines (it was here), and connections
//! read it for every batch of requests. So [`now_ms`] reads a TSC-based monotonic clock (`quanta`) and
//! adds an offset to Unix time, which [`resync`] refreshes from the real wall clock (the active expire
//! cycle calls it every round), so a wall-clock step is followed within a cycle.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

struct Mono {
    clock: quanta::Clock,
    start: quanta::Instant,
}

fn mono() -> &'static Mono {
    static MONO: OnceLock<Mono> = OnceLock::new();
    MONO.get_or_init(|| {
        let clock = quanta::Clock::new();
        let start = clock.now();
        OFFSET.store(system_ms() as i64, Ordering::Relaxed);
        Mono { clock, start }
    })
}

/// Unix milliseconds minus monotonic milliseconds since start.
static OFFSET: AtomicI64 = AtomicI64::new(0);

fn mono_ms(m: &Mono) -> i64 {
    m.clock.now().duration_since(m.start).as_millis() as i64
}

fn system_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Unix time in milliseconds.
#[inline]
pub fn now_ms() -> u64 {
    let m = mono();
    (mono_ms(m) + OFFSET.load(Ordering::Relaxed)).max(0) as u64
}

/// Re-aligns [`now_ms`] with the wall clock.
pub fn resync() {
    let m = mono();
    OFFSET.store(system_ms() as i64 - mono_ms(m), Ordering::Relaxed);
}

/// Unix time in microseconds.
pub fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}

/// Mask of the 24-bit LRU clock, in seconds (as Redis's `LRU_CLOCK_MAX`).
pub const LRU_MASK: u32 = (1 << 24) - 1;

#[inline]
pub fn lru_now() -> u32 {
    lru_at(now_ms())
}

/// The LRU clock at Unix time `ms` (commands use their cached clock instead of reading the time again).
#[inline]
pub fn lru_at(ms: u64) -> u32 {
    ((ms / 1000) as u32) & LRU_MASK
}

/// Seconds since an entry's LRU stamp, allowing for the clock's wrap-around.
pub fn idle_seconds(lru: u32) -> u64 {
    let now = lru_now();
    if now >= lru {
        (now - lru) as u64
    } else {
        (LRU_MASK - lru + now) as u64
    }
}
