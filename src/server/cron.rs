//! The server's periodic work (Redis's `serverCron`): sampling the instantaneous metrics.
//!
//! Once a second it closes clients idle for longer than `timeout` seconds (Redis's
//! `clientsCronHandleTimeout`): not those blocked in a command, subscribed, or running MONITOR.
//!
//! Every 100 ms the task samples the command, network-input and network-output counters into
//! 16-slot rings, as Redis's `trackInstantaneousMetric` does; INFO's `instantaneous_ops_per_sec` and
//! `instantaneous_input_kbps`/`output_kbps` are the averages of the rings. Connections only bump
//! relaxed counters; nothing here runs on the request path.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use parking_lot::Mutex;

use super::Server;

/// Samples per metric, as Redis's `STATS_METRIC_SAMPLES`.
const SAMPLES: usize = 16;
/// Sampling period in milliseconds.
pub const PERIOD_MS: u64 = 100;

#[derive(Default, Clone, Copy)]
struct Metric {
    last_ms: u64,
    last_value: u64,
    samples: [u64; SAMPLES],
    idx: usize,
}

impl Metric {
    fn track(&mut self, now_ms: u64, value: u64) {
        if self.last_ms != 0 {
            let dt = now_ms.saturating_sub(self.last_ms).max(1);
            let delta = value.saturating_sub(self.last_value);
            self.samples[self.idx] = delta.saturating_mul(1000) / dt;
            self.idx = (self.idx + 1) % SAMPLES;
        }
        self.last_ms = now_ms;
        self.last_value = value;
    }

    fn average(&self) -> u64 {
        self.samples.iter().sum::<u64>() / SAMPLES as u64
    }
}

/// Instantaneous metrics: commands per second, input and output bytes per second.
#[derive(Default)]
pub struct Metrics {
    inner: Mutex<[Metric; 3]>,
}

impl Metrics {
    fn sample(&self, server: &Server, now_ms: u64) {
        let s = &server.stats;
        let mut m = self.inner.lock();
        m[0].track(now_ms, s.commands.load(Ordering::Relaxed));
        m[1].track(now_ms, s.net_input_bytes.load(Ordering::Relaxed));
        m[2].track(now_ms, s.net_output_bytes.load(Ordering::Relaxed));
    }

    /// `(ops/sec, input bytes/sec, output bytes/sec)`.
    pub fn instantaneous(&self) -> (u64, u64, u64) {
        let m = self.inner.lock();
        (m[0].average(), m[1].average(), m[2].average())
    }

    /// CONFIG RESETSTAT.
    pub fn reset(&self) {
        *self.inner.lock() = Default::default();
    }
}

/// Runs until shutdown.
pub async fn run(server: Arc<Server>) {
    let mut tick = tokio::time::interval(std::time::Duration::from_millis(PERIOD_MS));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut ticks = 0u64;
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = server.shutdown_requested() => return,
        }
        let now = crate::storage::clock::now_ms();
        server.metrics.sample(&server, now);
        // used_memory_peak follows the process between INFO calls, as Redis's cron samples it.
        server.memory.refresh();
        ticks = ticks.wrapping_add(1);
        if ticks.is_multiple_of(1000 / PERIOD_MS) {
            close_idle_clients(&server, now);
        }
    }
}

/// Kills clients idle for more than `timeout` seconds, as Redis: blocked clients, subscribers and
/// monitors are exempt.
fn close_idle_clients(server: &Server, now_ms: u64) {
    let timeout = server.config.read().timeout;
    if timeout == 0 {
        return;
    }
    let limit = timeout.saturating_mul(1000);
    for c in server.clients.iter() {
        if c.flags.contains('P') || c.flags.contains('O') || c.live.blocked.load(Ordering::Relaxed)
        {
            continue;
        }
        let last = c
            .live
            .last_interaction_ms
            .load(Ordering::Relaxed)
            .max(c.created_ms);
        if now_ms.saturating_sub(last) > limit {
            c.live.kill();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn average_of_rates() {
        let mut m = Metric::default();
        m.track(1_000, 0);
        m.track(1_100, 10); // 100 per second
        assert_eq!(m.average(), 100 / SAMPLES as u64);
        for i in 2..=SAMPLES as u64 + 1 {
            m.track(1_000 + i * 100, i * 10);
        }
        assert_eq!(m.average(), 100);
    }
}
