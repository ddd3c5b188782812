//! Wall-clock helpers: Unix milliseconds for expiry, a coarse seconds clock for LRU.
//!
//! Reading the wall clock is a system call on some virtual machines (it was here), and connections
//! read it for every batch of requests. So [`now_ms`] reads a TSC-based monotonic clock (`quanta`) and
//! adds an offset to Unix time, which [`resync`] refreshes from the real wall clock (the active expire
//! cycle calls it every round), so a wall-clock step is followed within a cycle.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
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

/// The latest [`now_ms`] handed out: the clock never goes back by less than [`MAX_HOLD_MS`].
static LAST: AtomicU64 = AtomicU64::new(0);

/// A wall-clock step back by more than this is followed; a smaller one (the two clocks' rounding and
/// drift make [`resync`] step back by a millisecond now and then) holds the clock until it has passed.
const MAX_HOLD_MS: u64 = 1000;

fn unheld_ms(m: &Mono) -> u64 {
    (mono_ms(m) + OFFSET.load(Ordering::Relaxed)).max(0) as u64
}

/// Unix time in milliseconds; never less than a value it returned before (see [`MAX_HOLD_MS`]).
#[inline]
pub fn now_ms() -> u64 {
    let t = unheld_ms(mono());
    let last = LAST.load(Ordering::Relaxed);
    if t > last {
        // Written once per millisecond at most, so the shared line stays read-mostly.
        LAST.fetch_max(t, Ordering::Relaxed).max(t)
    } else {
        last
    }
}

/// Re-aligns [`now_ms`] with the wall clock.
pub fn resync() {
    let m = mono();
    OFFSET.store(system_ms() as i64 - mono_ms(m), Ordering::Relaxed);
    let t = unheld_ms(m);
    if t + MAX_HOLD_MS < LAST.load(Ordering::Relaxed) {
        LAST.store(t, Ordering::Relaxed);
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Re-aligning with the wall clock must not move [`now_ms`] back: a key set with PX 30000 would
    /// then show a PTTL above 30000.
    #[test]
    fn resync_never_moves_the_clock_back() {
        let deadline = std::time::Instant::now() + std::time::Duration::from_millis(1500);
        let mut last = now_ms();
        while std::time::Instant::now() < deadline {
            resync();
            let now = now_ms();
            assert!(now >= last, "clock went back from {last} to {now}");
            last = now;
        }
    }
}
