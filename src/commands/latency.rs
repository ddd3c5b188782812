//! The latency monitor (LATENCY LATEST / HISTORY / RESET / GRAPH / DOCTOR / HISTOGRAM / HELP).
//!
//! Built as Redis's `latency.c`: one time series of 160 one-second slots per event, where a second
//! sample within the same second only raises that second's value, plus the all-time maximum. Events
//! are rare (only operations slower than `latency-monitor-threshold`), so the series live behind one
//! mutex; the per-command path pays one relaxed load of the threshold. The event names Ferrite records
//! are Redis's `command` and `fast-command` (commands flagged `fast`).
//!
//! LATENCY HISTOGRAM reads the per-command latency histograms kept with the command statistics
//! (see `server::stats`), which also feed INFO `latencystats`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use bytes::Bytes;
use parking_lot::Mutex;

use super::table::{acl, flags::*, CommandSpec, Docs, Group};
use super::{Args, ExecCtx};
use crate::error::CmdError;
use crate::protocol::Reply;

const fn docs(summary: &'static str, since: &'static str, complexity: &'static str) -> Docs {
    Docs {
        summary,
        since,
        complexity,
    }
}

const ADMIN_ACL: u64 = acl::ADMIN | acl::DANGEROUS;
const LAT_FLAGS: u64 = ADMIN | NOSCRIPT | LOADING | STALE;
const SPECIAL: &[&str] = &[
    "nondeterministic_output",
    "request_policy:all_nodes",
    "response_policy:special",
];

#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec { name: "latency", group: Group::Server, arity: -2, docs: docs("A container for latency diagnostics commands.", "2.8.13", "Depends on subcommand."), subcommands: LATENCY_SUBCOMMANDS, ..CommandSpec::DEFAULT },
];

#[rustfmt::skip]
static LATENCY_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec { name: "latency|doctor", group: Group::Server, arity: 2, flags: LAT_FLAGS, acl: ADMIN_ACL, tips: SPECIAL, docs: docs("Returns a human-readable latency analysis report.", "2.8.13", "O(1)"), handler: latency_doctor, ..CommandSpec::DEFAULT },
    CommandSpec { name: "latency|graph", group: Group::Server, arity: 3, flags: LAT_FLAGS, acl: ADMIN_ACL, tips: SPECIAL, docs: docs("Returns a latency graph for an event.", "2.8.13", "O(1)"), handler: latency_graph, ..CommandSpec::DEFAULT },
    CommandSpec { name: "latency|help", group: Group::Server, arity: 2, flags: LOADING | STALE, docs: docs("Returns helpful text about the different subcommands.", "2.8.13", "O(1)"), handler: latency_help, ..CommandSpec::DEFAULT },
    CommandSpec { name: "latency|histogram", group: Group::Server, arity: -2, flags: LAT_FLAGS, acl: ADMIN_ACL, tips: SPECIAL, docs: docs("Returns the cumulative distribution of latencies of a subset or all commands.", "7.0.0", "O(N) where N is the number of commands with latency information being retrieved."), handler: latency_histogram, ..CommandSpec::DEFAULT },
    CommandSpec { name: "latency|history", group: Group::Server, arity: 3, flags: LAT_FLAGS, acl: ADMIN_ACL, tips: SPECIAL, docs: docs("Returns timestamp-latency samples for an event.", "2.8.13", "O(1)"), handler: latency_history, ..CommandSpec::DEFAULT },
    CommandSpec { name: "latency|latest", group: Group::Server, arity: 2, flags: LAT_FLAGS, acl: ADMIN_ACL, tips: SPECIAL, docs: docs("Returns the latest latency samples for all events.", "2.8.13", "O(1)"), handler: latency_latest, ..CommandSpec::DEFAULT },
    CommandSpec { name: "latency|reset", group: Group::Server, arity: -2, flags: LAT_FLAGS, acl: ADMIN_ACL, tips: &["request_policy:all_nodes", "response_policy:all_succeeded"], docs: docs("Resets the latency data for one or more events.", "2.8.13", "O(1)"), handler: latency_reset, ..CommandSpec::DEFAULT },
];

/// Slots per event, as Redis's `LATENCY_TS_LEN`.
const TS_LEN: usize = 160;
/// Width of LATENCY GRAPH, as Redis's `LATENCY_GRAPH_COLS`.
const GRAPH_COLS: usize = 80;

#[derive(Clone, Copy, Default)]
struct Sample {
    /// Unix seconds (0: empty slot).
    time: u64,
    /// Milliseconds.
    latency: u64,
}

struct Series {
    idx: usize,
    max: u64,
    samples: [Sample; TS_LEN],
}

impl Series {
    fn new() -> Series {
        Series {
            idx: 0,
            max: 0,
            samples: [Sample::default(); TS_LEN],
        }
    }

    fn add(&mut self, now: u64, latency: u64) {
        self.max = self.max.max(latency);
        let prev = (self.idx + TS_LEN - 1) % TS_LEN;
        if self.samples[prev].time == now {
            let p = &mut self.samples[prev];
            p.latency = p.latency.max(latency);
            return;
        }
        self.samples[self.idx] = Sample { time: now, latency };
        self.idx = (self.idx + 1) % TS_LEN;
    }

    /// Samples from the oldest to the newest.
    fn ordered(&self) -> impl Iterator<Item = Sample> + '_ {
        (0..TS_LEN)
            .map(move |j| self.samples[(self.idx + j) % TS_LEN])
            .filter(|s| s.time != 0)
    }

    fn latest(&self) -> Sample {
        self.samples[(self.idx + TS_LEN - 1) % TS_LEN]
    }
}

/// Every event's time series.
#[derive(Default)]
pub struct Monitor {
    events: Mutex<BTreeMap<&'static str, Series>>,
}

impl Monitor {
    /// Records that `event` took `latency_ms` (the caller checked the threshold).
    pub fn add(&self, event: &'static str, latency_ms: u64) {
        let now = crate::storage::clock::now_ms() / 1000;
        self.events
            .lock()
            .entry(event)
            .or_insert_with(Series::new)
            .add(now, latency_ms);
    }
}

fn now_secs() -> u64 {
    crate::storage::clock::now_ms() / 1000
}

/// `LATENCY LATEST` → `[event, unix time, latest ms, all-time max ms]` per event.
fn latency_latest(ctx: &mut ExecCtx<'_>, _: &mut Args) -> Result<Reply, CmdError> {
    let events = ctx.server.latency.events.lock();
    Ok(Reply::Array(
        events
            .iter()
            .map(|(name, s)| {
                let last = s.latest();
                Reply::Array(vec![
                    Reply::bulk_str(name),
                    Reply::Int(last.time as i64),
                    Reply::Int(last.latency as i64),
                    Reply::Int(s.max as i64),
                ])
            })
            .collect(),
    ))
}

/// `LATENCY HISTORY event` → `[unix time, ms]` per recorded second, oldest first (empty if none).
fn latency_history(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let event = args.next_bytes()?;
    let events = ctx.server.latency.events.lock();
    let Some(s) = events
        .iter()
        .find(|(n, _)| n.as_bytes() == event)
        .map(|e| e.1)
    else {
        return Ok(Reply::Array(vec![]));
    };
    Ok(Reply::Array(
        s.ordered()
            .map(|x| {
                Reply::Array(vec![
                    Reply::Int(x.time as i64),
                    Reply::Int(x.latency as i64),
                ])
            })
            .collect(),
    ))
}

/// `LATENCY RESET [event ...]` → how many event series were cleared (all when none is named).
fn latency_reset(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let names = args.rest();
    let mut events = ctx.server.latency.events.lock();
    if names.is_empty() {
        let n = events.len();
        events.clear();
        return Ok(Reply::Int(n as i64));
    }
    let mut n = 0;
    for name in names {
        let key = events.keys().find(|k| k.as_bytes() == name).copied();
        if let Some(k) = key {
            events.remove(k);
            n += 1;
        }
    }
    Ok(Reply::Int(n))
}

/// `LATENCY GRAPH event` → Redis's ASCII sparkline of the event's samples.
fn latency_graph(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let event = args.next_bytes()?;
    let events = ctx.server.latency.events.lock();
    let Some((name, s)) = events.iter().find(|(n, _)| n.as_bytes() == event) else {
        return Err(CmdError::Generic(format!(
            "No samples available for event '{}'",
            String::from_utf8_lossy(event)
        )));
    };
    let now = now_secs();
    let samples: Vec<(u64, String)> = s
        .ordered()
        .map(|x| {
            let elapsed = now.saturating_sub(x.time);
            let label = if elapsed < 60 {
                format!("{elapsed}s")
            } else if elapsed < 3600 {
                format!("{}m", elapsed / 60)
            } else if elapsed < 86400 {
                format!("{}h", elapsed / 3600)
            } else {
                format!("{}d", elapsed / 86400)
            };
            (x.latency, label)
        })
        .collect();
    let min = samples.iter().map(|x| x.0).min().unwrap_or(0);
    let max = samples.iter().map(|x| x.0).max().unwrap_or(0);
    let mut out = format!(
        "{name} - high {max} ms, low {min} ms (all time high {} ms)\n{}\n",
        s.max,
        "-".repeat(GRAPH_COLS)
    );
    sparkline(&mut out, &samples, min, max);
    Ok(Reply::Verbatim("txt", Bytes::from(out)))
}

/// Redis's `sparklineRender` with 4 rows, the fill charset and labels under each column.
fn sparkline(out: &mut String, samples: &[(u64, String)], min: u64, max: u64) {
    const ROWS: i64 = 4;
    const CHARS: &[u8] = b"_o#";
    let steps = CHARS.len() as i64 * ROWS;
    let relmax = max.saturating_sub(min) as f64;
    for (chunk_no, chunk) in samples.chunks(GRAPH_COLS).enumerate() {
        if chunk_no != 0 {
            out.push('\n');
        }
        let mut row = 0i64;
        loop {
            let mut again = false;
            let mut line = vec![b' '; chunk.len()];
            for (j, (value, label)) in chunk.iter().enumerate() {
                let rel = value.saturating_sub(min) as f64;
                // Redis divides 0 by 0 here when every sample is equal; x86 then yields step 0.
                let step = if relmax == 0.0 {
                    0
                } else {
                    ((rel * steps as f64) / relmax) as i64
                }
                .clamp(0, steps - 1);
                if row < ROWS {
                    again = true;
                    let idx = step - (ROWS - row - 1) * CHARS.len() as i64;
                    if (0..CHARS.len() as i64).contains(&idx) {
                        line[j] = CHARS[idx as usize];
                    } else if idx >= CHARS.len() as i64 {
                        line[j] = b'|';
                    }
                } else {
                    // One blank row, then the labels written downwards.
                    if row - ROWS < 1 {
                        again = true;
                        break;
                    }
                    let at = (row - ROWS - 1) as usize;
                    if let Some(&c) = label.as_bytes().get(at) {
                        again = true;
                        line[j] = c;
                    }
                }
            }
            if !again {
                break;
            }
            row += 1;
            out.push_str(&String::from_utf8_lossy(&line));
            out.push('\n');
        }
    }
}

/// `LATENCY DOCTOR` → Redis's human-readable report on the recorded events.
fn latency_doctor(ctx: &mut ExecCtx<'_>, _: &mut Args) -> Result<Reply, CmdError> {
    let (threshold, slow_than, slow_len) = {
        let c = ctx.server.config.read();
        (
            c.latency_monitor_threshold,
            c.slowlog_log_slower_than,
            c.slowlog_max_len,
        )
    };
    let events = ctx.server.latency.events.lock();
    let mut out = String::new();
    if threshold == 0 && events.is_empty() {
        out.push_str("I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. If we weren't in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n");
        return Ok(Reply::Verbatim("txt", Bytes::from(out)));
    }
    let (mut enabled, mut tuning, mut inspect, mut scheduler, mut large) =
        (false, false, false, false, false);
    let mut advices = 0;
    let now = now_secs();
    for (num, (name, s)) in events.iter().enumerate() {
        let samples: Vec<Sample> = s.ordered().collect();
        let n = samples.len() as u64;
        if n == 0 {
            continue;
        }
        let sum: u64 = samples.iter().map(|x| x.latency).sum();
        let avg = sum / n;
        let oldest = samples.iter().map(|x| x.time).min().unwrap_or(now);
        let period = now.saturating_sub(oldest).max(1);
        let mad = samples.iter().map(|x| avg.abs_diff(x.latency)).sum::<u64>() / n;
        if num == 0 {
            out.push_str("Dave, I have observed latency spikes in this Redis instance. You don't mind talking about it, do you Dave?\n\n");
        }
        let _ = writeln!(
            out,
            "{}. {name}: {n} latency spikes (average {avg}ms, mean deviation {mad}ms, period {:.2} sec). Worst all time event {}ms.",
            num + 1,
            period as f64 / n as f64,
            s.max
        );
        if *name == "command" {
            if slow_than < 0 || slow_len == 0 {
                enabled = true;
                advices += 1;
            } else if slow_than / 1000 > threshold as i64 {
                tuning = true;
                advices += 1;
            }
            inspect = true;
            large = true;
            advices += 2;
        }
        if *name == "fast-command" {
            scheduler = true;
            advices += 1;
        }
    }
    if events.is_empty() {
        out.push_str("Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest bit. I honestly think you ought to sit down calmly, take a stress pill, and think things over.\n");
    } else if advices == 0 {
        out.push_str("\nWhile there are latency events logged, I'm not able to suggest any easy fix. Please use the Redis community to get some help, providing this report in your help request.\n");
    } else {
        out.push_str("\nI have a few advices for you:\n\n");
        if enabled {
            let _ = writeln!(out, "- There are latency issues with potentially slow commands you are using. Try to enable the Slow Log Redis feature using the command 'CONFIG SET slowlog-log-slower-than {}'. If the Slow log is disabled Redis is not able to log slow commands execution for you.", threshold.saturating_mul(1000));
        }
        if tuning {
            let _ = writeln!(out, "- Your current Slow Log configuration only logs events that are slower than your configured latency monitor threshold. Please use 'CONFIG SET slowlog-log-slower-than {}'.", threshold.saturating_mul(1000));
        }
        if inspect {
            out.push_str("- Check your Slow Log to understand what are the commands you are running which are too slow to execute. Please check https://redis.io/commands/slowlog for more information.\n");
        }
        if scheduler {
            out.push_str("- The system is slow to execute Redis code paths not containing system calls. This usually means the system does not provide Redis CPU time to run for long periods. You should try to:\n  1) Lower the system load.\n  2) Use a computer / VM just for Redis if you are running in a virtualized environment.\n  3) Check if you have a \"noisy neighbour\" problem.\n  4) Check with 'redis-cli --intrinsic-latency 100' what is the intrinsic latency in your system.\n  5) Check if the problem is allocator-related by recompiling Redis with MALLOC=libc, if you are using Jemalloc. However this may create fragmentation problems.\n");
        }
        if large {
            out.push_str("- Deleting, expiring or evicting (because of maxmemory policy) large objects is a blocking operation. If you have very large objects that are often deleted, expired, or evicted, try to fragment those objects into multiple smaller objects.\n");
        }
    }
    Ok(Reply::Verbatim("txt", Bytes::from(out)))
}

/// `LATENCY HISTOGRAM [command ...]` → per command: `{calls, histogram_usec: {bucket: cumulative}}`
/// with power-of-two microsecond buckets, as Redis reports them.
fn latency_histogram(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let wanted: Vec<String> = args
        .rest()
        .iter()
        .map(|a| String::from_utf8_lossy(a).to_ascii_lowercase())
        .collect();
    let all = ctx.server.command_stats.histograms();
    let mut out = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    let mut push = |name: &'static str, h: &crate::server::stats::Histogram| {
        if h.count() == 0 || seen.contains(&name) {
            return;
        }
        seen.push(name);
        out.push((
            Reply::bulk_str(name),
            Reply::Map(vec![
                (Reply::bulk_str("calls"), Reply::Int(h.count() as i64)),
                (
                    Reply::bulk_str("histogram_usec"),
                    Reply::Map(
                        h.cumulative_pow2()
                            .into_iter()
                            .map(|(us, n)| (Reply::Int(us as i64), Reply::Int(n as i64)))
                            .collect(),
                    ),
                ),
            ]),
        ));
    };
    if wanted.is_empty() {
        for (name, h) in &all {
            push(name, h);
        }
    } else {
        for w in &wanted {
            // A container name covers its subcommands.
            for (name, h) in &all {
                if *name == w.as_str()
                    || name.split('|').next() == Some(w.as_str()) && !w.contains('|')
                {
                    push(name, h);
                }
            }
        }
    }
    Ok(Reply::Map(out))
}

/// `LATENCY HELP`.
fn latency_help(_: &mut ExecCtx<'_>, _: &mut Args) -> Result<Reply, CmdError> {
    let lines = [
        "LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "DOCTOR",
        "    Return a human readable latency analysis report.",
        "GRAPH <event>",
        "    Return an ASCII latency graph for the <event> class.",
        "HISTORY <event>",
        "    Return time-latency samples for the <event> class.",
        "LATEST",
        "    Return the latest latency samples for all events.",
        "RESET [<event> ...]",
        "    Reset latency data of one or more <event> classes.",
        "    (default: reset all data for all event classes)",
        "HISTOGRAM [COMMAND ...]",
        "    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
        "    If no commands are specified then all histograms are replied.",
        "HELP",
        "    Prints this help.",
    ];
    Ok(Reply::help(&lines))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_second_keeps_the_max() {
        let mut s = Series::new();
        s.add(10, 100);
        s.add(10, 60);
        s.add(11, 70);
        let v: Vec<_> = s.ordered().map(|x| (x.time, x.latency)).collect();
        assert_eq!(v, vec![(10, 100), (11, 70)]);
        assert_eq!(s.max, 100);
    }

    #[test]
    fn sparkline_of_one_sample() {
        let mut out = String::new();
        sparkline(&mut out, &[(100, "0s".into())], 100, 100);
        assert_eq!(out, " \n \n \n_\n \n0\ns\n");
    }
}
