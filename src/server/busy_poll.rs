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
}

/// Records that a connection on this thread ran commands (and wakes the poller if it was waiting).
#[inline]
pub fn activity() {
    PASSES.with(|p| p.set(p.get().wrapping_add(1)));
    if let Some(w) = PARKED.with(|p| p.borrow_mut().take()) {
        w.wake();
    }
}

fn passes() -> u64 {
    PASSES.with(Cell::get)
}

/// Runs on an I/O thread until its runtime stops: polls while a command ran within the last
/// `busy-poll-us`, else waits for the next one.
pub async fn run(server: Arc<Server>) {
    loop {
        let window = Duration::from_micros(server.config.read().busy_poll_us);
        if window.is_zero() {
            // Off: look at the setting again now and then (CONFIG SET may turn it on).
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        }
        let mut seen = passes();
        let mut last = Instant::now();
        loop {
            // Tokio polls its I/O driver without blocking before it resumes a yielded task.
            tokio::task::yield_now().await;
            let now = passes();
            if now != seen {
                seen = now;
                last = Instant::now();
            } else if last.elapsed() > window {
                break;
            }
        }
        poll_fn(|cx| {
            if passes() != seen {
                return Poll::Ready(());
            }
            PARKED.with(|p| *p.borrow_mut() = Some(cx.waker().clone()));
            Poll::Pending
        })
        .await;
    }
}
