//! Runaway scripts: the server-wide record of the running script, `busy-reply-threshold`, BUSY,
//! SCRIPT KILL and FUNCTION KILL.
//!
//! Why it is built this way: a script holds every shard lock for its whole run, on the I/O thread of
//! the client that sent it. Another client's command that names keys would wait for those locks and
//! never see BUSY, so dispatch checks *before* locking, with one relaxed load of [`ScriptRun::busy`]
//! (zero on every ordinary command, so the hot path pays one load of a rarely written word). The
//! script's own thread raises that word: the Lua instruction-count hook (every
//! [`HOOK_INSTRUCTIONS`] instructions, as Redis's `luaMaskCountHook`) compares the run's age with the
//! threshold, and raises the kill error once SCRIPT KILL, FUNCTION KILL or SHUTDOWN NOSAVE asked for
//! it. Commands flagged `allow-busy` (SCRIPT KILL, FUNCTION KILL/STATS, SHUTDOWN, ...) carry on.
//!
//! Unlike Redis, whose single thread only reads other clients once the threshold has passed, a
//! SCRIPT KILL that arrives earlier is served at once (it takes no lock), and kills the script.
//! BUSY needs the script and the other client on different I/O threads (`io-threads` ≥ 2): clients
//! of the script's own thread wait for it, as all of Redis's clients would.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use parking_lot::Mutex;

use crate::error::CmdError;

/// How often (in Lua VM instructions) the hook checks the clock and the kill flag (Redis: 100000).
pub const HOOK_INSTRUCTIONS: u32 = 100_000;

/// [`ScriptRun::busy`] values.
pub const NOT_BUSY: u8 = 0;
pub const BUSY_EVAL: u8 = 1;
pub const BUSY_FUNCTION: u8 = 2;

/// The script being run, shared with the Lua hook of its thread.
pub struct Running {
    pub started: Instant,
    /// EVAL/EVALSHA (true) or FCALL (false): decides the BUSY text and which KILL may stop it.
    pub is_eval: bool,
    /// The function's name (FCALL) or the script's SHA-1.
    pub name: String,
    /// The caller's request (FUNCTION STATS).
    pub argv: Vec<Bytes>,
    /// `busy-reply-threshold` when the run started, in milliseconds.
    threshold_ms: u64,
    /// The script called a write command: SCRIPT KILL answers UNKILLABLE.
    wrote: AtomicBool,
    /// SCRIPT KILL / FUNCTION KILL / SHUTDOWN NOSAVE asked the hook to stop the script.
    killed: AtomicBool,
    busy: Arc<AtomicU8>,
}

impl Running {
    /// Records that the script ran a write command.
    pub fn mark_write(&self) {
        self.wrote.store(true, Ordering::Relaxed);
    }

    pub fn killed(&self) -> bool {
        self.killed.load(Ordering::Relaxed)
    }

    /// The hook's periodic check: raises BUSY once the threshold has passed; true when the script
    /// must stop.
    pub fn tick(&self) -> bool {
        if self.busy.load(Ordering::Relaxed) == NOT_BUSY
            && self.started.elapsed().as_millis() as u64 >= self.threshold_ms
        {
            let state = if self.is_eval {
                BUSY_EVAL
            } else {
                BUSY_FUNCTION
            };
            self.busy.store(state, Ordering::Relaxed);
            tracing::warn!(
                "Slow script detected: still in execution after {} milliseconds. You can try killing the script using the {} command.",
                self.threshold_ms,
                if self.is_eval { "SCRIPT KILL" } else { "FUNCTION KILL" }
            );
        }
        self.killed()
    }

    pub fn duration_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }
}

/// The server's script-run state.
pub struct ScriptRun {
    busy: Arc<AtomicU8>,
    threshold_ms: AtomicU64,
    current: Mutex<Option<Arc<Running>>>,
}

impl ScriptRun {
    pub fn new(threshold_ms: u64) -> ScriptRun {
        ScriptRun {
            busy: Arc::new(AtomicU8::new(NOT_BUSY)),
            threshold_ms: AtomicU64::new(threshold_ms),
            current: Mutex::new(None),
        }
    }

    /// [`NOT_BUSY`], or [`BUSY_EVAL`]/[`BUSY_FUNCTION`] while a script runs past the threshold. One
    /// relaxed load: dispatch calls it for every command.
    #[inline]
    pub fn busy(&self) -> u8 {
        self.busy.load(Ordering::Relaxed)
    }

    /// The BUSY error for the current state.
    pub fn busy_error(state: u8) -> CmdError {
        if state == BUSY_EVAL {
            CmdError::BusyEval
        } else {
            CmdError::BusyFunction
        }
    }

    pub fn set_threshold(&self, ms: u64) {
        self.threshold_ms.store(ms, Ordering::Relaxed);
    }

    /// Records a script starting; the returned guard clears the record when the script ends.
    pub fn begin(&self, is_eval: bool, name: String, argv: Vec<Bytes>) -> RunGuard<'_> {
        let running = Arc::new(Running {
            started: Instant::now(),
            is_eval,
            name,
            argv,
            threshold_ms: self.threshold_ms.load(Ordering::Relaxed),
            wrote: AtomicBool::new(false),
            killed: AtomicBool::new(false),
            busy: self.busy.clone(),
        });
        let previous = self.current.lock().replace(running.clone());
        RunGuard {
            run: self,
            running,
            previous,
        }
    }

    /// The running script, if any (FUNCTION STATS).
    pub fn current(&self) -> Option<Arc<Running>> {
        self.current.lock().clone()
    }

    /// SCRIPT KILL (`is_eval`) or FUNCTION KILL, with Redis's `scriptKill` answers.
    pub fn kill(&self, is_eval: bool) -> Result<(), CmdError> {
        let current = self.current.lock();
        let Some(running) = current.as_ref() else {
            return Err(CmdError::NotBusy);
        };
        if running.wrote.load(Ordering::Relaxed) {
            return Err(CmdError::Unkillable);
        }
        if is_eval && !running.is_eval {
            return Err(CmdError::BusyFunction);
        }
        if !is_eval && running.is_eval {
            return Err(CmdError::BusyEval);
        }
        running.killed.store(true, Ordering::Relaxed);
        Ok(())
    }

    /// SHUTDOWN NOSAVE: stops the running script whatever it did.
    pub fn abort(&self) {
        if let Some(running) = self.current.lock().as_ref() {
            running.killed.store(true, Ordering::Relaxed);
        }
    }
}

/// Clears the running-script record (and BUSY) when dropped.
pub struct RunGuard<'a> {
    run: &'a ScriptRun,
    pub running: Arc<Running>,
    /// A script started from inside another (never today: scripts cannot call EVAL/FCALL).
    previous: Option<Arc<Running>>,
}

impl Drop for RunGuard<'_> {
    fn drop(&mut self) {
        let mut current = self.run.current.lock();
        *current = self.previous.take();
        if current.is_none() {
            self.run.busy.store(NOT_BUSY, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kill_rules() {
        let run = ScriptRun::new(0);
        assert_eq!(run.kill(true), Err(CmdError::NotBusy));
        {
            let g = run.begin(true, "sha".into(), Vec::new());
            assert_eq!(run.busy(), NOT_BUSY);
            assert!(!g.running.tick());
            assert_eq!(run.busy(), BUSY_EVAL);
            assert_eq!(run.kill(false), Err(CmdError::BusyEval));
            assert_eq!(run.kill(true), Ok(()));
            assert!(g.running.tick());
        }
        assert_eq!(run.busy(), NOT_BUSY);
        assert!(run.current().is_none());
        let g = run.begin(false, "f".into(), Vec::new());
        assert_eq!(run.kill(true), Err(CmdError::BusyFunction));
        g.running.mark_write();
        assert_eq!(run.kill(false), Err(CmdError::Unkillable));
    }
}
