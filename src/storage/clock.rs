//! Wall-clock helpers: Unix milliseconds for expiry, a coarse seconds clock for LRU.

use std::time::{SystemTime, UNIX_EPOCH};

/// Unix time in milliseconds.
#[inline]
pub fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

/// Unix time in microseconds.
pub fn now_us() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_micros() as u64).unwrap_or(0)
}

/// Mask of the 24-bit LRU clock, in seconds (as Redis's `LRU_CLOCK_MAX`).
pub const LRU_MASK: u32 = (1 << 24) - 1;

#[inline]
pub fn lru_now() -> u32 {
    ((now_ms() / 1000) as u32) & LRU_MASK
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
