//! CLIENT PAUSE / UNPAUSE: holding clients' commands until a pause ends.
//!
//! The pause is server-wide state read by every connection before it runs a request, so the check
//! that nothing is paused is one relaxed atomic load. A paused request waits in its connection task
//! on a `watch` channel that UNPAUSE (or a later, longer PAUSE) bumps, and on a timer for the
//! deadline: it holds no lock and no runtime thread while it waits, and other connections on the
//! same I/O thread keep running.
//!
//! As in Redis, a new pause never shortens or weakens the one in force: the later deadline and the
//! stricter mode (ALL over WRITE) win, and UNPAUSE ends it at once.

use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};

use tokio::sync::watch;

const NONE: u8 = 0;
const WRITE: u8 = 1;
const ALL: u8 = 2;

/// Which commands a pause holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PauseMode {
    /// Commands that may write or replicate (Redis's `CLIENT PAUSE ... WRITE`).
    Write,
    /// Every command.
    All,
}

pub struct Pause {
    mode: AtomicU8,
    /// Unix milliseconds at which the pause ends.
    end_ms: AtomicU64,
    /// Bumped on every change, so waiters re-check.
    changed: watch::Sender<u64>,
}

impl Default for Pause {
    fn default() -> Self {
        Pause {
            mode: AtomicU8::new(NONE),
            end_ms: AtomicU64::new(0),
            changed: watch::Sender::new(0),
        }
    }
}

impl Pause {
    /// The fast check every request makes: true if a pause may be in force.
    #[inline]
    pub fn maybe_active(&self) -> bool {
        self.mode.load(Ordering::Relaxed) != NONE
    }

    /// The pause in force at `now_ms`, if any (an expired pause is cleared here).
    pub fn current(&self, now_ms: u64) -> Option<PauseMode> {
        let mode = self.mode.load(Ordering::Acquire);
        if mode == NONE {
            return None;
        }
        if now_ms >= self.end_ms.load(Ordering::Acquire) {
            self.mode.store(NONE, Ordering::Release);
            return None;
        }
        Some(if mode == ALL {
            PauseMode::All
        } else {
            PauseMode::Write
        })
    }

    /// CLIENT PAUSE: pauses until `end_ms`, keeping a later deadline or a stricter mode in force.
    pub fn pause(&self, end_ms: u64, mode: PauseMode, now_ms: u64) {
        let new = if mode == PauseMode::All { ALL } else { WRITE };
        let active = self.current(now_ms).is_some();
        let old_end = if active {
            self.end_ms.load(Ordering::Acquire)
        } else {
            0
        };
        let old_mode = if active {
            self.mode.load(Ordering::Acquire)
        } else {
            NONE
        };
        self.end_ms.store(end_ms.max(old_end), Ordering::Release);
        self.mode.store(new.max(old_mode), Ordering::Release);
        self.changed.send_modify(|g| *g = g.wrapping_add(1));
    }

    /// CLIENT UNPAUSE: ends any pause at once.
    pub fn unpause(&self) {
        self.mode.store(NONE, Ordering::Release);
        self.end_ms.store(0, Ordering::Release);
        self.changed.send_modify(|g| *g = g.wrapping_add(1));
    }

    /// Waits until `held(mode)` is false for the pause in force (or there is none).
    pub async fn wait(&self, held: impl Fn(PauseMode) -> bool) {
        let mut rx = self.changed.subscribe();
        loop {
            rx.borrow_and_update();
            let now = crate::storage::clock::now_ms();
            match self.current(now) {
                Some(m) if held(m) => {}
                _ => return,
            }
            let end = self.end_ms.load(Ordering::Acquire);
            let wait = std::time::Duration::from_millis(end.saturating_sub(now).max(1));
            tokio::select! {
                _ = rx.changed() => {}
                _ = tokio::time::sleep(wait) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn later_deadline_and_stricter_mode_win() {
        let p = Pause::default();
        assert!(!p.maybe_active());
        p.pause(1_000, PauseMode::All, 0);
        p.pause(500, PauseMode::Write, 0);
        assert_eq!(p.current(600), Some(PauseMode::All));
        assert_eq!(p.current(1_000), None);
        assert!(!p.maybe_active());
        p.pause(2_000, PauseMode::Write, 1_500);
        assert_eq!(p.current(1_600), Some(PauseMode::Write));
        p.unpause();
        assert_eq!(p.current(1_600), None);
    }
}
