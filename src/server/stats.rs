//! Per-command statistics (INFO commandstats), error statistics (INFO errorstats) and the slow log.
//!
//! Command counters are kept per thread: each thread owns an array of counters indexed by command id
//! and is its only writer, so updating them is a plain relaxed load and store with no cache line
//! bouncing between cores. INFO sums the arrays of every thread. Errors and slow-log entries are rare
//! and live behind a mutex.

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use parking_lot::Mutex;

use crate::commands::{self, CommandSpec};

/// Every command and subcommand, with its index into the counter arrays.
struct CommandIds {
    specs: Vec<&'static CommandSpec>,
    ids: HashMap<usize, usize, ahash::RandomState>,
}

fn command_ids() -> &'static CommandIds {
    static IDS: OnceLock<CommandIds> = OnceLock::new();
    IDS.get_or_init(|| {
        let mut specs = Vec::new();
        for c in commands::all_commands() {
            specs.push(c);
            specs.extend(c.subcommands.iter());
        }
        let ids = specs
            .iter()
            .enumerate()
            .map(|(i, s)| (*s as *const CommandSpec as usize, i))
            .collect();
        CommandIds { specs, ids }
    })
}

fn id_of(spec: &'static CommandSpec) -> Option<usize> {
    // Pipelines and benchmarks repeat one command: remember the last lookup per thread.
    let ptr = spec as *const CommandSpec as usize;
    LAST_ID.with(|last| {
        let (p, id) = last.get();
        if p == ptr {
            return Some(id);
        }
        let id = command_ids().ids.get(&ptr).copied()?;
        last.set((ptr, id));
        Some(id)
    })
}

/// calls, usec, rejected_calls, failed_calls per command, then the latency histogram's buckets.
const COUNTERS: usize = 4;
const FIELDS: usize = COUNTERS + BUCKETS;

/// Latency histogram buckets (nanoseconds): one below 1024 ns, then 8 per power of two up to
/// 2^37 ns (about 137 s), then one for anything longer. Redis keeps an HDR histogram with two
/// significant digits; 8 sub-buckets per octave (12.5%) keep the per-thread arrays small while
/// reporting the same power-of-two LATENCY HISTOGRAM buckets and close INFO percentiles.
const SUB: usize = 8;
const FIRST_EXP: u32 = 10;
const LAST_EXP: u32 = 37;
pub const BUCKETS: usize = 1 + (LAST_EXP - FIRST_EXP) as usize * SUB + 1;

fn bucket_of(ns: u64) -> usize {
    if ns < 1 << FIRST_EXP {
        return 0;
    }
    let e = 63 - ns.leading_zeros();
    if e >= LAST_EXP {
        return BUCKETS - 1;
    }
    let sub = ((ns >> (e - 3)) & (SUB as u64 - 1)) as usize;
    1 + (e - FIRST_EXP) as usize * SUB + sub
}

/// The largest value (ns) bucket `i` holds.
fn bucket_high(i: usize) -> u64 {
    if i == 0 {
        return (1 << FIRST_EXP) - 1;
    }
    if i >= BUCKETS - 1 {
        return u64::MAX;
    }
    let e = FIRST_EXP + ((i - 1) / SUB) as u32;
    let sub = ((i - 1) % SUB) as u64;
    ((SUB as u64 + sub + 1) << (e - 3)) - 1
}

/// One command's latency distribution.
#[derive(Clone, Debug)]
pub struct Histogram {
    counts: Vec<u64>,
}

impl Histogram {
    pub fn count(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// The latency (µs) below which `pct` percent of calls fell, as Redis's `hdr_value_at_percentile`
    /// reports it (the top of the bucket holding that call).
    pub fn percentile_usec(&self, pct: f64) -> f64 {
        let total = self.count();
        let want = (((pct / 100.0) * total as f64 + 0.5) as u64).clamp(1, total.max(1));
        let mut seen = 0;
        for (i, c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= want {
                return bucket_high(i).min(1 << 40) as f64 / 1000.0;
            }
        }
        0.0
    }

    /// `(µs, calls at or below)` at power-of-two bounds from 1024 ns, listing only bounds where the
    /// count grew (LATENCY HISTOGRAM).
    pub fn cumulative_pow2(&self) -> Vec<(u64, u64)> {
        let total = self.count();
        let mut out = Vec::new();
        let mut cum = self.counts[0];
        let mut prev = 0;
        let mut k = 0u32;
        loop {
            if cum > prev {
                out.push(((1u64 << (FIRST_EXP + k)) / 1000, cum));
                prev = cum;
            }
            if cum >= total || FIRST_EXP + k >= LAST_EXP {
                break;
            }
            let start = 1 + k as usize * SUB;
            cum += self.counts[start..start + SUB].iter().sum::<u64>();
            k += 1;
        }
        if cum < total {
            out.push((u64::MAX / 1000, total));
        }
        out
    }
}

struct ThreadCounters {
    counters: Box<[AtomicU64]>,
}

impl ThreadCounters {
    fn add(&self, id: usize, field: usize, n: u64) {
        let c = &self.counters[id * FIELDS + field];
        // Single writer: no read-modify-write instruction needed.
        c.store(c.load(Ordering::Relaxed).wrapping_add(n), Ordering::Relaxed);
    }
}

#[derive(Default)]
pub struct Stats {
    threads: Mutex<Vec<Arc<ThreadCounters>>>,
    errors: Mutex<HashMap<String, u64>>,
    total_errors: AtomicU64,
    slowlog: Mutex<SlowLog>,
}

#[derive(Default)]
struct SlowLog {
    next_id: u64,
    entries: VecDeque<SlowEntry>,
}

/// One SLOWLOG entry.
#[derive(Clone, Debug)]
pub struct SlowEntry {
    pub id: u64,
    pub time: u64,
    pub micros: u64,
    pub argv: Vec<Bytes>,
    pub peer: String,
    pub name: Bytes,
}

/// One command's totals.
#[derive(Clone, Copy, Debug, Default)]
pub struct CommandTotals {
    pub calls: u64,
    pub usec: u64,
    pub rejected: u64,
    pub failed: u64,
}

thread_local! {
    static LOCAL: RefCell<Option<Arc<ThreadCounters>>> = const { RefCell::new(None) };
    /// The last (spec pointer, command id) looked up on this thread.
    static LAST_ID: std::cell::Cell<(usize, usize)> = const { std::cell::Cell::new((0, 0)) };
}

impl Stats {
    fn with_local(&self, f: impl FnOnce(&ThreadCounters)) {
        LOCAL.with(|l| {
            let mut l = l.borrow_mut();
            let counters = l.get_or_insert_with(|| {
                let n = command_ids().specs.len() * FIELDS;
                let t = Arc::new(ThreadCounters {
                    counters: (0..n).map(|_| AtomicU64::new(0)).collect(),
                });
                self.threads.lock().push(t.clone());
                t
            });
            f(counters)
        });
    }

    /// Records one execution of `spec` that took `nanos` nanoseconds.
    pub fn record_call(&self, spec: &'static CommandSpec, nanos: u64, failed: bool) {
        if let Some(id) = id_of(spec) {
            self.with_local(|t| {
                t.add(id, 0, 1);
                t.add(id, 1, nanos / 1000);
                t.add(id, COUNTERS + bucket_of(nanos), 1);
                if failed {
                    t.add(id, 3, 1);
                }
            });
        }
    }

    /// Records a call refused before running (arity, authentication, ...).
    pub fn record_rejected(&self, spec: &'static CommandSpec) {
        if let Some(id) = id_of(spec) {
            self.with_local(|t| t.add(id, 2, 1));
        }
    }

    /// Counts an error reply by its code (`ERR`, `WRONGTYPE`, ...).
    pub fn record_error(&self, text: &str) {
        self.total_errors.fetch_add(1, Ordering::Relaxed);
        let code = text.split(' ').next().unwrap_or("ERR");
        *self.errors.lock().entry(code.to_string()).or_default() += 1;
    }

    pub fn total_errors(&self) -> u64 {
        self.total_errors.load(Ordering::Relaxed)
    }

    /// Error counts by code, sorted by code.
    pub fn errors(&self) -> Vec<(String, u64)> {
        let mut v: Vec<_> = self
            .errors
            .lock()
            .iter()
            .map(|(k, v)| (k.clone(), *v))
            .collect();
        v.sort();
        v
    }

    /// Totals per command that has been called, as `(full name, totals)`.
    pub fn commands(&self) -> Vec<(&'static str, CommandTotals)> {
        let ids = command_ids();
        let mut sums = vec![CommandTotals::default(); ids.specs.len()];
        for t in self.threads.lock().iter() {
            for (i, s) in sums.iter_mut().enumerate() {
                let c = |f: usize| t.counters[i * FIELDS + f].load(Ordering::Relaxed);
                s.calls += c(0);
                s.usec += c(1);
                s.rejected += c(2);
                s.failed += c(3);
            }
        }
        ids.specs
            .iter()
            .zip(sums)
            .filter(|(_, s)| s.calls + s.rejected + s.failed > 0)
            .map(|(spec, s)| (spec.full_name(), s))
            .collect()
    }

    /// Latency histograms of the commands that have been called, as `(full name, histogram)`.
    pub fn histograms(&self) -> Vec<(&'static str, Histogram)> {
        let ids = command_ids();
        let mut sums = vec![vec![0u64; BUCKETS]; ids.specs.len()];
        for t in self.threads.lock().iter() {
            for (i, s) in sums.iter_mut().enumerate() {
                for (b, v) in s.iter_mut().enumerate() {
                    *v += t.counters[i * FIELDS + COUNTERS + b].load(Ordering::Relaxed);
                }
            }
        }
        ids.specs
            .iter()
            .zip(sums)
            .map(|(spec, counts)| (spec.full_name(), Histogram { counts }))
            .filter(|(_, h)| h.count() > 0)
            .collect()
    }

    /// CONFIG RESETSTAT.
    pub fn reset(&self) {
        for t in self.threads.lock().iter() {
            for c in t.counters.iter() {
                c.store(0, Ordering::Relaxed);
            }
        }
        self.errors.lock().clear();
        self.total_errors.store(0, Ordering::Relaxed);
    }

    /// Adds a slow-log entry, keeping at most `max_len`.
    pub fn slowlog_push(&self, mut entry: SlowEntry, max_len: usize) {
        let mut log = self.slowlog.lock();
        entry.id = log.next_id;
        log.next_id += 1;
        log.entries.push_front(entry);
        log.entries.truncate(max_len);
    }

    /// The newest `count` entries.
    pub fn slowlog_get(&self, count: usize) -> Vec<SlowEntry> {
        self.slowlog
            .lock()
            .entries
            .iter()
            .take(count)
            .cloned()
            .collect()
    }

    pub fn slowlog_len(&self) -> usize {
        self.slowlog.lock().entries.len()
    }

    pub fn slowlog_reset(&self) {
        self.slowlog.lock().entries.clear();
    }
}

/// The arguments as SLOWLOG keeps them: at most 32 (the last says how many more), each cut at 128 bytes
/// with a note of how many more bytes there were.
pub fn slowlog_argv(argv: &crate::protocol::Argv) -> Vec<Bytes> {
    const MAX_ARGC: usize = 32;
    const MAX_STRING: usize = 128;
    let shown = argv.len().min(MAX_ARGC);
    let mut out = Vec::with_capacity(shown);
    for (i, a) in argv.iter().take(shown).enumerate() {
        if i == MAX_ARGC - 1 && argv.len() > MAX_ARGC {
            out.push(Bytes::from(format!(
                "... ({} more arguments)",
                argv.len() - MAX_ARGC + 1
            )));
        } else if a.len() > MAX_STRING {
            let mut s = a[..MAX_STRING].to_vec();
            s.extend_from_slice(format!("... ({} more bytes)", a.len() - MAX_STRING).as_bytes());
            out.push(Bytes::from(s));
        } else {
            out.push(Bytes::copy_from_slice(a));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_cover_their_values() {
        for ns in [
            0u64,
            1,
            1023,
            1024,
            1500,
            2047,
            2048,
            9_999,
            1 << 20,
            123_456_789,
            1 << 36,
        ] {
            let b = bucket_of(ns);
            assert!(ns <= bucket_high(b), "{ns} in {b}");
            if b > 0 {
                assert!(ns > bucket_high(b - 1), "{ns} above {}", b - 1);
            }
        }
        assert_eq!(bucket_of(u64::MAX), BUCKETS - 1);
    }

    #[test]
    fn pow2_buckets_and_percentiles() {
        let mut h = Histogram {
            counts: vec![0; BUCKETS],
        };
        h.counts[bucket_of(5_000)] += 1;
        h.counts[bucket_of(12_000)] += 2;
        assert_eq!(h.cumulative_pow2(), vec![(8, 1), (16, 3)]);
        assert!(h.percentile_usec(50.0) >= 12.0 && h.percentile_usec(50.0) < 13.5);
        assert!(h.percentile_usec(10.0) >= 5.0 && h.percentile_usec(10.0) < 5.7);
    }
}
