//! The per-key access stamp: an LRU clock or an LFU counter, in the 24 low bits of a table node's
//! `meta` word, as Redis keeps either in its object header's 24-bit `lru` field.
//!
//! * LRU: seconds of the Unix clock, modulo 2^24 ([`clock::lru_at`]).
//! * LFU: 16 bits of minutes (when the counter was last decremented) and an 8-bit logarithmic counter
//!   that grows with probability `1 / ((counter - 5) * lfu-log-factor + 1)` and loses one per
//!   `lfu-decay-time` minutes without access, as Redis's `LFULogIncr`/`LFUDecrAndReturn`.
//!
//! Which one is kept depends on `maxmemory-policy`; the mode and the two LFU parameters are read on every
//! key access, so they live in process-wide atomics that CONFIG SET updates (one relaxed load each).
//! Switching policy at run time leaves old stamps to be reinterpreted, as in Redis.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use super::clock;

/// Counter value of a new key, so it is not evicted before it had a chance to be used.
pub const LFU_INIT_VAL: u8 = 5;

static LFU_MODE: AtomicBool = AtomicBool::new(false);
static LOG_FACTOR: AtomicU32 = AtomicU32::new(10);
static DECAY_TIME: AtomicU32 = AtomicU32::new(1);

/// Selects LFU stamps (an `*-lfu` policy) or LRU stamps (anything else).
pub fn set_mode(lfu: bool) {
    LFU_MODE.store(lfu, Ordering::Relaxed);
}

pub fn lfu_mode() -> bool {
    LFU_MODE.load(Ordering::Relaxed)
}

pub fn set_params(log_factor: u32, decay_time: u32) {
    LOG_FACTOR.store(log_factor, Ordering::Relaxed);
    DECAY_TIME.store(decay_time, Ordering::Relaxed);
}

/// Minutes clock, 16 bits (Redis's `LFUGetTimeInMinutes`).
#[inline]
fn minutes(now_ms: u64) -> u32 {
    ((now_ms / 60_000) & 0xffff) as u32
}

/// The stamp of a key created at `now_ms`.
#[inline]
pub fn new_stamp(now_ms: u64) -> u32 {
    if lfu_mode() {
        (minutes(now_ms) << 8) | LFU_INIT_VAL as u32
    } else {
        clock::lru_at(now_ms)
    }
}

/// Updates a stamp for an access at `now_ms`.
#[inline]
pub fn on_access(stamp: &mut u32, now_ms: u64) {
    if lfu_mode() {
        let counter = log_incr(decayed_counter(*stamp, now_ms));
        *stamp = (minutes(now_ms) << 8) | counter as u32;
    } else {
        *stamp = clock::lru_at(now_ms);
    }
}

/// Minutes elapsed since the stamp's decrement time, allowing for the 16-bit wrap.
fn elapsed_minutes(stamp: u32, now_ms: u64) -> u32 {
    let now = minutes(now_ms);
    let then = (stamp >> 8) & 0xffff;
    if now >= then {
        now - then
    } else {
        65535 - then + now
    }
}

/// The counter after decay for the time since it was last touched (Redis's `LFUDecrAndReturn`).
pub fn decayed_counter(stamp: u32, now_ms: u64) -> u8 {
    let counter = (stamp & 0xff) as u8;
    let decay = DECAY_TIME.load(Ordering::Relaxed);
    let periods = elapsed_minutes(stamp, now_ms)
        .checked_div(decay)
        .unwrap_or(0);
    counter.saturating_sub(periods.min(255) as u8)
}

/// Increments a logarithmic counter with decreasing probability (Redis's `LFULogIncr`).
fn log_incr(counter: u8) -> u8 {
    if counter == 255 {
        return 255;
    }
    let r: f64 = rand::random();
    let base = counter.saturating_sub(LFU_INIT_VAL) as f64;
    let p = 1.0 / (base * LOG_FACTOR.load(Ordering::Relaxed) as f64 + 1.0);
    if r < p {
        counter + 1
    } else {
        counter
    }
}

/// Seconds since an LRU stamp (OBJECT IDLETIME).
pub fn idle_seconds(stamp: u32) -> u64 {
    clock::idle_seconds(stamp & clock::LRU_MASK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counter_decays_one_per_period_and_saturates() {
        let t0 = 1_700_000_000_000u64;
        let stamp = (minutes(t0) << 8) | 20;
        assert_eq!(decayed_counter(stamp, t0), 20);
        assert_eq!(decayed_counter(stamp, t0 + 3 * 60_000), 17);
        assert_eq!(decayed_counter(stamp, t0 + 300 * 60_000), 0);
    }

    #[test]
    fn log_incr_slows_down() {
        let mut c = LFU_INIT_VAL;
        for _ in 0..100 {
            c = log_incr(c);
        }
        // With factor 10, 100 hits give a counter well below 100 but above the initial value.
        assert!(c > LFU_INIT_VAL && c < 40, "{c}");
        assert_eq!(log_incr(255), 255);
    }
}
