//! Busy polling of an I/O thread between passes.
//!
//! An I/O thread that runs out of work sleeps in `epoll_wait`. The client's next request must then wake
//! it: the client's `send()` runs the wake-up (a reschedule, often a cross-CPU interrupt) in its own
//! time, and the request waits for the thread to get back on a CPU. For a client that sends as fast as
//! the server answers (a benchmark, a pipeline of one connection, a busy application server), those
//! wake-ups are a large share of the cost of a small request on both sides.
//!
//! While the thread has been busy in the last `busy-poll-us` microseconds, a task on it keeps polling
//! for readiness (`epoll_wait` with a zero timeout, through Tokio's driver) instead of letting the
//! thread sleep. When no connection has run a command for that long, it stops and waits for the next
//! one, so an idle server costs no CPU. The server starts the poller only when its I/O threads leave
//! at least one CPU free: polling threads with no CPU to spare would take it from each other.

use std::cell::{Cell, RefCell};
use std::future::poll_fn;
use std::sync::Arc;
use std::task::{Poll, Waker};
use std::time::{Duration, Instant};

use super::Server;

thread_local! {
    /// Passes that ran commands on this thread.
    static PASSES: Cell<u64> = const { Cell::new(0) };
    /// The poller, when it is waiting for activity.
    static PARKED: RefCell<Option<Waker>> = const { RefCell::new(None) };
    /// The pass count the waiting poller wants to be woken at.
    static WAKE_AT: Cell<u64> = const { Cell::new(0) };
}

/// Records that a connection on this thread ran commands (and wakes the poller once the pass it
/// waits for has come).
#[inline]
pub fn activity() {
    let n = PASSES.with(|p| {
        let n = p.get() + 1;
        p.set(n);
        n
    });
    if n >= WAKE_AT.with(Cell::get) {
        if let Some(w) = PARKED.with(|p| p.borrow_mut().take()) {
            w.wake();
        }
    }
}

fn passes() -> u64 {
    PASSES.with(Cell::get)
}

/// How often a waiting poller renews its wait (see [`run`]).
const REREGISTER: Duration = Duration::from_millis(100);

/// After this many polls in a row that saw no command, polling pauses for this many commands at most.
const MAX_SKIP: u64 = 64;

/// Runs on an I/O thread until its runtime stops: after a command, polls while commands keep coming
/// within `busy-poll-us` of each other, then waits for the next one.
///
/// A poll that saw no command at all (the client's next request came later than the window) was
/// CPU spent for nothing, and under a moderate steady load every poll would be one: 2,500 GETs/s from
/// one client cost 11.7% of a CPU with polling against 2.3% without. So each such poll makes the
/// poller sit out the next 1, 2, 4 ... [`MAX_SKIP`] commands, and a poll that catches one resets that.
pub async fn run(server: Arc<Server>) {
    let mut backoff = 0u64;
    let mut seen = passes();
    loop {
        // Wait for the next command, or after a fruitless poll for `backoff` more: activity() wakes
        // the poller only when that pass comes. The waker lives in this OS thread's slot, and a
        // script that runs past busy-reply-threshold hands this I/O thread's tasks to another OS
        // thread for good: so the wait is renewed every REREGISTER, from whichever thread the
        // poller then runs on.
        let target = seen + 1 + backoff;
        loop {
            let command = poll_fn(|cx| {
                // Fewer passes than seen: this is another OS thread's count (see above).
                let now = passes();
                if now >= target || now < seen {
                    return Poll::Ready(());
                }
                WAKE_AT.with(|w| w.set(target));
                PARKED.with(|p| *p.borrow_mut() = Some(cx.waker().clone()));
                Poll::Pending
            });
            tokio::select! {
                () = command => break,
                () = tokio::time::sleep(REREGISTER) => {}
            }
        }
        seen = passes();
        let window = Duration::from_micros(server.config.read().busy_poll_us);
        if window.is_zero() {
            // Off: stop listening for commands (they then cost nothing here) and look at the setting
            // again now and then, for CONFIG SET.
            while server.config.read().busy_poll_us == 0 {
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            seen = passes();
            continue;
        }
        let mut caught = false;
        let mut last = Instant::now();
        loop {
            // Tokio polls its I/O driver without blocking before it resumes a yielded task.
            tokio::task::yield_now().await;
            let now = passes();
            if now != seen {
                seen = now;
                caught = true;
                last = Instant::now();
            } else if last.elapsed() > window {
                break;
            }
        }
        backoff = if caught {
            0
        } else {
            (backoff * 2).clamp(1, MAX_SKIP)
        };
    }
}
