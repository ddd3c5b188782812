//! Runaway scripts: the server-wide record of the running script, `busy-reply-threshold`, BUSY,
//! SCRIPT KILL and FUNCTION KILL.
//!
//! Why it is built this way: a script holds the keyspace (the exclusive world gate, and the shards it
//! touched) for its whole run, synchronously, on the I/O thread of the client that sent it. Redis's
//! single thread, once the threshold has passed, serves other clients from inside the script's hook
//! (`processEventsWhileBlocked`); we get the same observable behaviour without paying anything on
//! short scripts:
//!
//! * **The script's own I/O thread.** Each I/O thread is a one-worker multi-thread Tokio runtime
//!   (see `server::io_thread`). When the Lua instruction-count hook (every [`HOOK_INSTRUCTIONS`]
//!   instructions, as Redis's `luaMaskCountHook`) finds the run older than the threshold, it raises
//!   BUSY and then calls `block_in_place`, which hands the runtime's worker (every other connection
//!   of that thread) to a fresh thread and leaves this one to finish the script alone. The hook waits
//!   until the new thread has really taken the worker, so the hand-off cannot be undone by the
//!   script's return. Those connections then read their requests and get BUSY, SCRIPT KILL, ...
//!   A short script never reaches the hook's check, so EVAL/FCALL cost what they did: the price is
//!   one relaxed store of the state word when a script starts and a condition-variable notify (one
//!   atomic load when nobody waits) when it ends. Measured on the 2-core box: EVAL `incr` at -P 1
//!   and -P 16 within noise of before (CPU time per request ratio 0.94-1.01), GET/SET likewise.
//! * **Other I/O threads** (`io-threads` ≥ 2). Their commands would block their whole thread on a
//!   shard mutex until the script ends, and never see BUSY. So the state word [`ScriptRun::busy`] is
//!   [`RUNNING`] for any running script, and dispatch, which loads it once per command (one relaxed
//!   load of a rarely written word: the only cost on GET/SET), sends every non-`allow-busy` command
//!   that finds it non-zero to [`ScriptRun::wait_unless_busy`]: it waits (spinning briefly, then
//!   parked on a condition variable in short slices) until the script ends, and runs normally, or
//!   until BUSY is raised, and answers BUSY. Before the threshold other clients therefore wait, as in
//!   Redis; commands that were waiting when the script ended run normally.
//!
//! The hook raises the kill error once SCRIPT KILL, FUNCTION KILL or SHUTDOWN NOSAVE asked for it.
//! Commands flagged `allow-busy` (SCRIPT KILL, FUNCTION KILL/STATS, SHUTDOWN, ...) carry on.
//!
//! Differences from Redis: a SCRIPT KILL (or SHUTDOWN NOSAVE) from a client of another I/O thread
//! that arrives before the threshold is served at once (it takes no lock) and stops the script. A
//! command of another I/O thread that passed the state check in the instant before a script took
//! its locks waits on the shard mutex until the script ends (without BUSY). WATCH (`allow-busy`,
//! with keys) waits for a script below the threshold like any command and past it runs without the
//! key locks. After a hand-off the script's old thread keeps its Lua state until it is reclaimed,
//! and the worker's new thread builds its own (compiled scripts and a library's upvalues are per
//! thread, see [`super::functions`]).

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

use crate::error::CmdError;

/// How often (in Lua VM instructions) the hook checks the clock and the kill flag (Redis: 100000).
pub const HOOK_INSTRUCTIONS: u32 = 100_000;

/// [`ScriptRun::busy`] values.
pub const NOT_BUSY: u8 = 0;
pub const BUSY_EVAL: u8 = 1;
pub const BUSY_FUNCTION: u8 = 2;
/// A script is running and has not reached the threshold: other commands wait for it.
pub const RUNNING: u8 = 3;

/// Whether `state` is [`BUSY_EVAL`] or [`BUSY_FUNCTION`] (commands are refused with BUSY).
#[inline]
pub fn is_busy(state: u8) -> bool {
    state == BUSY_EVAL || state == BUSY_FUNCTION
}

/// The script being run, shared with the Lua hook of its thread.
pub struct Running {
    pub started: Instant,
    /// EVAL/EVALSHA (true) or FCALL (false): decides the BUSY text and which KILL may stop it.
    pub is_eval: bool,
    /// The function's name (FCALL) or the script's SHA-1.
    pub name: String,
    /// The caller's request (FUNCTION STATS).
    pub argv: crate::protocol::Argv,
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

    /// The hook's periodic check: raises BUSY once the threshold has passed (and lets the script's
    /// I/O thread serve its other clients, see [`release_io_thread`]); true when the script must
    /// stop.
    pub fn tick(&self) -> bool {
        if !is_busy(self.busy.load(Ordering::Relaxed))
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
            release_io_thread();
        }
        self.killed()
    }

    pub fn duration_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }
}

/// Hands the current Tokio worker (the other connections of this I/O thread) to a new thread, so they
/// are served while this thread goes on running the script. Does nothing outside a multi-thread
/// runtime (a current-thread runtime cannot hand its connections over: they wait, as before).
fn release_io_thread() {
    use tokio::runtime::{Handle, RuntimeFlavor};
    let Ok(handle) = Handle::try_current() else {
        return;
    };
    if handle.runtime_flavor() != RuntimeFlavor::MultiThread {
        return;
    }
    // `block_in_place` takes the worker back on return if no thread has claimed it yet: wait until a
    // task queued on the worker has run somewhere else (bounded, in case the runtime is stopping).
    let moved = Arc::new(AtomicBool::new(false));
    let flag = moved.clone();
    handle.spawn(async move { flag.store(true, Ordering::Release) });
    tokio::task::block_in_place(|| {
        let deadline = Instant::now() + Duration::from_secs(1);
        while !moved.load(Ordering::Acquire) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_micros(200));
        }
    });
}

/// The server's script-run state.
pub struct ScriptRun {
    /// [`NOT_BUSY`], [`RUNNING`], [`BUSY_EVAL`] or [`BUSY_FUNCTION`].
    busy: Arc<AtomicU8>,
    threshold_ms: AtomicU64,
    current: Mutex<Option<Arc<Running>>>,
    /// Signalled (under `current`'s lock) when a script ends, for [`ScriptRun::wait_unless_busy`].
    ended: Condvar,
}

impl ScriptRun {
    pub fn new(threshold_ms: u64) -> ScriptRun {
        ScriptRun {
            busy: Arc::new(AtomicU8::new(NOT_BUSY)),
            threshold_ms: AtomicU64::new(threshold_ms),
            current: Mutex::new(None),
            ended: Condvar::new(),
        }
    }

    /// [`NOT_BUSY`], [`RUNNING`] while a script runs, or [`BUSY_EVAL`]/[`BUSY_FUNCTION`] once it has
    /// run past the threshold. One relaxed load: dispatch calls it for every command.
    #[inline]
    pub fn busy(&self) -> u8 {
        self.busy.load(Ordering::Relaxed)
    }

    /// Called by a command that found `state` non-zero (and is not `allow-busy`), never from the
    /// script's own thread: waits until the script ends (`Ok`: go on normally) or runs past the
    /// threshold (`Err(BUSY)`). Spins briefly first, as a script usually ends within microseconds.
    #[cold]
    #[inline(never)]
    pub fn wait_unless_busy(&self, mut state: u8) -> Result<(), CmdError> {
        for _ in 0..200 {
            if state == NOT_BUSY {
                return Ok(());
            }
            if is_busy(state) {
                return Err(Self::busy_error(state));
            }
            std::hint::spin_loop();
            state = self.busy.load(Ordering::Relaxed);
        }
        let mut current = self.current.lock();
        loop {
            // Read under the lock: a script ending clears the word under it before signalling, so
            // the end cannot be missed. BUSY is raised without the lock, hence the short slices.
            state = self.busy.load(Ordering::Relaxed);
            if state == NOT_BUSY {
                return Ok(());
            }
            if is_busy(state) {
                return Err(Self::busy_error(state));
            }
            self.ended.wait_for(&mut current, Duration::from_millis(2));
        }
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
    pub fn begin(&self, is_eval: bool, name: String, argv: crate::protocol::Argv) -> RunGuard<'_> {
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
        if previous.is_none() {
            self.busy.store(RUNNING, Ordering::Relaxed);
        }
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
            drop(current);
            self.run.ended.notify_all();
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
            let g = run.begin(true, "sha".into(), Default::default());
            assert_eq!(run.busy(), RUNNING);
            assert!(!g.running.tick());
            assert_eq!(run.busy(), BUSY_EVAL);
            assert_eq!(run.kill(false), Err(CmdError::BusyEval));
            assert_eq!(run.kill(true), Ok(()));
            assert!(g.running.tick());
        }
        assert_eq!(run.busy(), NOT_BUSY);
        assert!(run.current().is_none());
        let g = run.begin(false, "f".into(), Default::default());
        assert_eq!(run.kill(true), Err(CmdError::BusyFunction));
        g.running.mark_write();
        assert_eq!(run.kill(false), Err(CmdError::Unkillable));
    }

    #[test]
    fn waiters_run_when_the_script_ends_and_get_busy_past_the_threshold() {
        let run = Arc::new(ScriptRun::new(60_000));
        assert_eq!(run.wait_unless_busy(NOT_BUSY), Ok(()));
        let g = run.begin(true, "sha".into(), Default::default());
        let waiter = {
            let run = run.clone();
            std::thread::spawn(move || run.wait_unless_busy(RUNNING))
        };
        std::thread::sleep(Duration::from_millis(20));
        drop(g);
        assert_eq!(waiter.join().ok(), Some(Ok(())));
        run.set_threshold(0);
        let g = run.begin(false, "f".into(), Default::default());
        let waiter = {
            let run = run.clone();
            std::thread::spawn(move || run.wait_unless_busy(RUNNING))
        };
        assert!(!g.running.tick());
        assert_eq!(waiter.join().ok(), Some(Err(CmdError::BusyFunction)));
    }
}
