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

/// calls, usec, rejected_calls, failed_calls per command.
const FIELDS: usize = 4;

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

    /// Records one execution of `spec` that took `usec` microseconds.
    pub fn record_call(&self, spec: &'static CommandSpec, usec: u64, failed: bool) {
        if let Some(id) = id_of(spec) {
            self.with_local(|t| {
                t.add(id, 0, 1);
                t.add(id, 1, usec);
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
pub fn slowlog_argv(argv: &[Bytes]) -> Vec<Bytes> {
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
            out.push(a.clone());
        }
    }
    out
}
