//! Server commands: INFO DBSIZE FLUSHDB FLUSHALL CONFIG TIME SHUTDOWN LASTSAVE.

use std::fmt::Write as _;
use std::sync::atomic::Ordering;

use bytes::Bytes;

use super::table::{acl, flags::*, CommandSpec, Docs, Group};
use super::{Args, ExecCtx};
use crate::config::{self, PARAMS};
use crate::error::CmdError;
use crate::protocol::Reply;
use crate::server::{FERRITE_VERSION, REDIS_VERSION};

const fn docs(summary: &'static str, since: &'static str, complexity: &'static str) -> Docs {
    Docs {
        summary,
        since,
        complexity,
    }
}

#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec { name: "info", group: Group::Server, arity: -1, flags: LOADING | STALE | SENTINEL, acl: acl::DANGEROUS, tips: &["nondeterministic_output", "request_policy:all_shards", "response_policy:special"], docs: docs("Returns information and statistics about the server.", "1.0.0", "O(1)"), handler: info, ..CommandSpec::DEFAULT },
    CommandSpec { name: "dbsize", group: Group::Server, arity: 1, flags: READONLY | FAST, acl: acl::KEYSPACE, tips: &["request_policy:all_shards", "response_policy:agg_sum"], docs: docs("Returns the number of keys in the database.", "1.0.0", "O(1)"), handler: dbsize, ..CommandSpec::DEFAULT },
    CommandSpec { name: "flushdb", group: Group::Server, arity: -1, flags: WRITE, acl: acl::KEYSPACE | acl::DANGEROUS, tips: &["request_policy:all_shards", "response_policy:all_succeeded"], docs: docs("Remove all keys from the current database.", "1.0.0", "O(N) where N is the number of keys in the selected database"), handler: flushdb, ..CommandSpec::DEFAULT },
    CommandSpec { name: "flushall", group: Group::Server, arity: -1, flags: WRITE, acl: acl::KEYSPACE | acl::DANGEROUS, tips: &["request_policy:all_shards", "response_policy:all_succeeded"], docs: docs("Removes all keys from all databases.", "1.0.0", "O(N) where N is the total number of keys in all databases"), handler: flushall, ..CommandSpec::DEFAULT },
    CommandSpec { name: "time", group: Group::Server, arity: 1, flags: LOADING | STALE | FAST, tips: &["nondeterministic_output"], docs: docs("Returns the server time.", "2.6.0", "O(1)"), handler: time, ..CommandSpec::DEFAULT },
    CommandSpec { name: "lastsave", group: Group::Server, arity: 1, flags: LOADING | STALE | FAST, acl: acl::ADMIN | acl::DANGEROUS, tips: &["nondeterministic_output"], docs: docs("Returns the Unix timestamp of the last successful save to disk.", "1.0.0", "O(1)"), handler: lastsave, ..CommandSpec::DEFAULT },
    CommandSpec { name: "shutdown", group: Group::Server, arity: -1, flags: ADMIN | NOSCRIPT | LOADING | STALE | NO_MULTI | SENTINEL | ALLOW_BUSY, docs: docs("Synchronously saves the database(s) to disk and shuts down the Redis server.", "1.0.0", "O(N) when saving, where N is the total number of keys in all databases when saving data, otherwise O(1)"), handler: shutdown, ..CommandSpec::DEFAULT },
    CommandSpec { name: "monitor", group: Group::Server, arity: 1, flags: ADMIN | NOSCRIPT | LOADING | STALE, docs: docs("Listens for all requests received by the server in real-time.", "1.0.0", ""), handler: monitor, ..CommandSpec::DEFAULT },
    CommandSpec { name: "slowlog", group: Group::Server, arity: -2, docs: docs("A container for slow log commands.", "2.2.12", "Depends on subcommand."), subcommands: SLOWLOG_SUBCOMMANDS, ..CommandSpec::DEFAULT },
    CommandSpec { name: "role", group: Group::Server, arity: 1, flags: NOSCRIPT | LOADING | STALE | FAST, acl: acl::ADMIN | acl::DANGEROUS, docs: docs("Returns the replication role.", "2.8.12", "O(1)"), handler: role, ..CommandSpec::DEFAULT },
    CommandSpec { name: "config", group: Group::Server, arity: -2, docs: docs("A container for server configuration commands.", "2.0.0", "Depends on subcommand."), subcommands: CONFIG_SUBCOMMANDS, ..CommandSpec::DEFAULT },
];

#[rustfmt::skip]
static SLOWLOG_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec { name: "slowlog|get", group: Group::Server, arity: -2, flags: ADMIN | LOADING | STALE, tips: &["request_policy:all_nodes", "nondeterministic_output"], docs: docs("Returns the slow log's entries.", "2.2.12", "O(N) where N is the number of entries returned"), handler: slowlog_get, ..CommandSpec::DEFAULT },
    CommandSpec { name: "slowlog|len", group: Group::Server, arity: 2, flags: ADMIN | LOADING | STALE, tips: &["request_policy:all_nodes", "response_policy:agg_sum", "nondeterministic_output"], docs: docs("Returns the number of entries in the slow log.", "2.2.12", "O(1)"), handler: slowlog_len, ..CommandSpec::DEFAULT },
    CommandSpec { name: "slowlog|reset", group: Group::Server, arity: 2, flags: ADMIN | LOADING | STALE, tips: &["request_policy:all_nodes", "response_policy:all_succeeded"], docs: docs("Clears all entries from the slow log.", "2.2.12", "O(N) where N is the number of entries in the slowlog"), handler: slowlog_reset, ..CommandSpec::DEFAULT },
    CommandSpec { name: "slowlog|help", group: Group::Server, arity: 2, flags: LOADING | STALE, docs: docs("Show helpful text about the different subcommands", "6.2.0", "O(1)"), handler: slowlog_help, ..CommandSpec::DEFAULT },
];

#[rustfmt::skip]
static CONFIG_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "config|get",
        group: Group::Server,
        arity: -3,
        flags: ADMIN | NOSCRIPT | LOADING | STALE,
        docs: docs(
            "Returns the effective values of configuration parameters.",
            "2.0.0",
            "O(N) when N is the number of configuration parameters provided",
        ),
        handler: config_get,
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "config|set",
        group: Group::Server,
        arity: -4,
        flags: ADMIN | NOSCRIPT | LOADING | STALE,
        tips: &["request_policy:all_nodes", "response_policy:all_succeeded"],
        docs: docs(
            "Sets configuration parameters in-flight.",
            "2.0.0",
            "O(N) when N is the number of configuration parameters provided",
        ),
        handler: config_set,
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "config|resetstat",
        group: Group::Server,
        arity: 2,
        flags: ADMIN | NOSCRIPT | LOADING | STALE,
        tips: &["request_policy:all_nodes", "response_policy:all_succeeded"],
        docs: docs("Resets the server's statistics.", "2.0.0", "O(1)"),
        handler: config_resetstat,
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "config|rewrite",
        group: Group::Server,
        arity: 2,
        flags: ADMIN | NOSCRIPT | LOADING | STALE,
        docs: docs(
            "Persists the effective configuration to file.",
            "2.8.0",
            "O(1)",
        ),
        handler: config_rewrite,
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "config|help",
        group: Group::Server,
        arity: 2,
        flags: LOADING | STALE,
        docs: docs(
            "Returns helpful text about the different subcommands.",
            "5.0.0",
            "O(1)",
        ),
        handler: config_help,
        ..CommandSpec::DEFAULT
    },
];

/// Resident set size from `/proc/self/statm` (0 where unavailable).
pub fn used_memory_rss() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .nth(1)
                .and_then(|v| v.parse::<u64>().ok())
        })
        .map(|pages| pages * 4096)
        .unwrap_or(0)
}

pub fn human_bytes(n: u64) -> String {
    let n = n as f64;
    if n < 1024.0 {
        format!("{n}B")
    } else if n < 1024.0 * 1024.0 {
        format!("{:.2}K", n / 1024.0)
    } else if n < 1024.0 * 1024.0 * 1024.0 {
        format!("{:.2}M", n / (1024.0 * 1024.0))
    } else {
        format!("{:.2}G", n / (1024.0 * 1024.0 * 1024.0))
    }
}

/// Every section, in Redis's order (commandstats and errorstats only on request or with `all`).
const ALL_SECTIONS: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "modules",
    "commandstats",
    "errorstats",
    "latencystats",
    "cluster",
    "keyspace",
];

/// What `INFO` and `INFO default` print, as Redis 7.
const DEFAULT_SECTIONS: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "modules",
    "errorstats",
    "cluster",
    "keyspace",
];

/// `INFO [section ...]` → the requested sections as a verbatim string.
fn info(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let mut wanted: Vec<String> = args
        .rest()
        .iter()
        .map(|a| String::from_utf8_lossy(a).to_ascii_lowercase())
        .collect();
    if wanted.is_empty() || wanted.iter().any(|w| w == "default") {
        wanted.extend(DEFAULT_SECTIONS.iter().map(|s| s.to_string()));
    }
    if wanted.iter().any(|w| w == "all" || w == "everything") {
        wanted.extend(ALL_SECTIONS.iter().map(|s| s.to_string()));
    }
    let mut out = String::new();
    for section in ALL_SECTIONS {
        if !wanted.iter().any(|w| w == section) {
            continue;
        }
        if !out.is_empty() {
            out.push_str("\r\n");
        }
        write_section(ctx, section, &mut out);
    }
    Ok(Reply::Verbatim("txt", Bytes::from(out)))
}

fn write_section(ctx: &mut ExecCtx<'_>, section: &str, out: &mut String) {
    let srv = ctx.server;
    let cfg = srv.config.read().clone();
    let uptime = srv.started.elapsed().as_secs();
    match section {
        "server" => {
            let _ = write!(
                out,
                "# Server\r\nredis_version:{REDIS_VERSION}\r\nferrite_version:{FERRITE_VERSION}\r\nredis_git_sha1:00000000\r\nredis_git_dirty:0\r\nredis_build_id:0\r\nredis_mode:standalone\r\nos:{} {}\r\narch_bits:64\r\nmonotonic_clock:POSIX clock_gettime\r\nmultiplexing_api:epoll\r\natomicvar_api:c11-builtin\r\ngcc_version:0.0.0\r\nprocess_id:{}\r\nprocess_supervised:no\r\nrun_id:{}\r\ntcp_port:{}\r\nserver_time_usec:{}\r\nuptime_in_seconds:{uptime}\r\nuptime_in_days:{}\r\nhz:{}\r\nconfigured_hz:{}\r\nlru_clock:{}\r\nexecutable:{}\r\nconfig_file:{}\r\nio_threads_active:0\r\n",
                std::env::consts::OS,
                std::env::consts::ARCH,
                std::process::id(),
                srv.run_id,
                srv.tcp_port.load(Ordering::Relaxed),
                crate::storage::clock::now_us(),
                uptime / 86400,
                cfg.hz,
                cfg.hz,
                crate::storage::clock::lru_now(),
                std::env::current_exe().map(|p| p.display().to_string()).unwrap_or_default(),
                cfg.config_file.as_deref().unwrap_or(""),
            );
        }
        "clients" => {
            let _ = write!(
                out,
                "# Clients\r\nconnected_clients:{}\r\ncluster_connections:0\r\nmaxclients:{}\r\nclient_recent_max_input_buffer:0\r\nclient_recent_max_output_buffer:0\r\nblocked_clients:{}\r\ntracking_clients:0\r\nclients_in_timeout_table:0\r\n",
                srv.clients.len(),
                cfg.maxclients,
                srv.blocking.blocked_clients()
            );
        }
        "memory" => crate::commands::memory::info_section(ctx, out),
        "persistence" => {
            let _ = write!(
                out,
                "# Persistence\r\nloading:0\r\nasync_loading:0\r\ncurrent_cow_peak:0\r\ncurrent_cow_size:0\r\ncurrent_cow_size_age:0\r\ncurrent_fork_perc:0.00\r\ncurrent_save_keys_processed:0\r\ncurrent_save_keys_total:0\r\nrdb_changes_since_last_save:{}\r\nrdb_bgsave_in_progress:0\r\nrdb_last_save_time:{}\r\nrdb_last_bgsave_status:ok\r\nrdb_last_bgsave_time_sec:-1\r\nrdb_current_bgsave_time_sec:-1\r\naof_enabled:0\r\naof_rewrite_in_progress:0\r\naof_rewrite_scheduled:0\r\naof_last_rewrite_time_sec:-1\r\naof_current_rewrite_time_sec:-1\r\naof_last_bgrewrite_status:ok\r\naof_rewrites:0\r\naof_last_write_status:ok\r\n",
                srv.stats.dirty.load(Ordering::Relaxed),
                srv.started_unix
            );
        }
        "stats" => {
            let ks = srv.keyspace.stats(ctx);
            let (ops, in_bps, out_bps) = srv.metrics.instantaneous();
            let _ = write!(
                out,
                "# Stats\r\ntotal_connections_received:{}\r\ntotal_commands_processed:{}\r\ninstantaneous_ops_per_sec:{ops}\r\ntotal_net_input_bytes:{}\r\ntotal_net_output_bytes:{}\r\ntotal_net_repl_input_bytes:0\r\ntotal_net_repl_output_bytes:0\r\ninstantaneous_input_kbps:{:.2}\r\ninstantaneous_output_kbps:{:.2}\r\ninstantaneous_input_repl_kbps:0.00\r\ninstantaneous_output_repl_kbps:0.00\r\nrejected_connections:{}\r\nexpired_keys:{}\r\nevicted_keys:{}\r\nevicted_clients:0\r\ntotal_eviction_exceeded_time:{}\r\ncurrent_eviction_exceeded_time:{}\r\nkeyspace_hits:{}\r\nkeyspace_misses:{}\r\npubsub_channels:{}\r\npubsub_patterns:{}\r\npubsubshard_channels:{}\r\ntotal_error_replies:{}\r\n",
                srv.stats.connections.load(Ordering::Relaxed),
                srv.stats.commands.load(Ordering::Relaxed),
                srv.stats.net_input_bytes.load(Ordering::Relaxed),
                srv.stats.net_output_bytes.load(Ordering::Relaxed),
                in_bps as f64 / 1024.0,
                out_bps as f64 / 1024.0,
                srv.stats.rejected_connections.load(Ordering::Relaxed),
                ks.expired,
                srv.memory.evicted_keys.load(Ordering::Relaxed),
                (srv.memory.exceeded_us.load(Ordering::Relaxed) + srv.memory.current_exceeded_us()) / 1000,
                srv.memory.current_exceeded_us() / 1000,
                ks.hits,
                ks.misses,
                srv.pubsub.channels(None, false).len(),
                srv.pubsub.numpat(),
                srv.pubsub.channels(None, true).len(),
                srv.command_stats.total_errors()
            );
        }
        "replication" => {
            let _ = write!(
                out,
                "# Replication\r\nrole:master\r\nconnected_slaves:0\r\nmaster_failover_state:no-failover\r\nmaster_replid:{}\r\nmaster_replid2:0000000000000000000000000000000000000000\r\nmaster_repl_offset:0\r\nsecond_repl_offset:-1\r\nrepl_backlog_active:0\r\nrepl_backlog_size:1048576\r\nrepl_backlog_first_byte_offset:0\r\nrepl_backlog_histlen:0\r\n",
                srv.run_id
            );
        }
        "cpu" => {
            let (user, sys) = cpu_times();
            let _ = write!(out, "# CPU\r\nused_cpu_sys:{sys:.6}\r\nused_cpu_user:{user:.6}\r\nused_cpu_sys_children:0.000000\r\nused_cpu_user_children:0.000000\r\n");
        }
        "commandstats" => {
            out.push_str("# Commandstats\r\n");
            for (name, t) in srv.command_stats.commands() {
                let per_call = if t.calls > 0 {
                    t.usec as f64 / t.calls as f64
                } else {
                    0.0
                };
                let _ = write!(
                    out,
                    "cmdstat_{name}:calls={},usec={},usec_per_call={per_call:.2},rejected_calls={},failed_calls={}\r\n",
                    t.calls, t.usec, t.rejected, t.failed
                );
            }
        }
        "errorstats" => {
            out.push_str("# Errorstats\r\n");
            for (code, n) in srv.command_stats.errors() {
                let _ = write!(out, "errorstat_{code}:count={n}\r\n");
            }
        }
        "modules" => out.push_str("# Modules\r\n"),
        "cluster" => out.push_str("# Cluster\r\ncluster_enabled:0\r\n"),
        "latencystats" => {
            out.push_str("# Latencystats\r\n");
            if cfg.latency_tracking {
                for (name, h) in srv.command_stats.histograms() {
                    let _ = write!(out, "latency_percentiles_usec_{name}:");
                    for (i, p) in cfg.latency_tracking_info_percentiles.iter().enumerate() {
                        if i > 0 {
                            out.push(',');
                        }
                        let _ = write!(out, "p{p}={:.3}", h.percentile_usec(*p));
                    }
                    out.push_str("\r\n");
                }
            }
        }
        "keyspace" => {
            out.push_str("# Keyspace\r\n");
            for (i, (keys, expires)) in srv.keyspace.db_counts(ctx).into_iter().enumerate() {
                if keys > 0 {
                    let _ = write!(out, "db{i}:keys={keys},expires={expires},avg_ttl=0\r\n");
                }
            }
        }
        _ => {}
    }
}

/// Process CPU time (user, system) in seconds, from `/proc/self/stat`.
fn cpu_times() -> (f64, f64) {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return (0.0, 0.0);
    };
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th fields.
    let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let tick = 100.0;
    let get = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0) / tick;
    (get(11), get(12))
}

/// `ROLE` → `[master, 0, []]`: Ferrite is always a master without replicas.
fn role(_: &mut ExecCtx<'_>, _: &mut Args) -> Result<Reply, CmdError> {
    Ok(Reply::Array(vec![
        Reply::bulk_str("master"),
        Reply::Int(0),
        Reply::Array(vec![]),
    ]))
}

/// `DBSIZE` → the number of keys in the selected database.
fn dbsize(ctx: &mut ExecCtx<'_>, _: &mut Args) -> Result<Reply, CmdError> {
    let db = ctx.client.db;
    Ok(Reply::Int(
        (0..crate::storage::SHARDS)
            .map(|i| ctx.lock_shard(i).dbs[db].len() as i64)
            .sum(),
    ))
}

/// Parses FLUSHDB/FLUSHALL's optional `ASYNC|SYNC`.
/// Without either, `lazyfree-lazy-user-flush` decides.
fn flush_mode(ctx: &ExecCtx<'_>, args: &mut Args) -> Result<bool, CmdError> {
    let asynchronous = match args.remaining() {
        0 => ctx.server.config.read().lazyfree_lazy_user_flush,
        1 if args.eat("ASYNC") => true,
        1 if args.eat("SYNC") => false,
        _ => return Err(CmdError::Syntax),
    };
    Ok(asynchronous)
}

/// Empties database `db` (all databases if `None`). With `asynchronous`, the old tables are freed on
/// another thread so a huge flush does not stall this connection.
pub fn flush(ctx: &mut ExecCtx<'_>, db: Option<usize>, asynchronous: bool) -> u64 {
    let mut garbage = Vec::new();
    let mut removed = 0u64;
    ctx.with_all_shards(|locks| {
        locks.for_each_shard(|shard| {
            for (i, dict) in shard.dbs.iter_mut().enumerate() {
                if db.is_none_or(|d| d == i) && !dict.is_empty() {
                    removed += dict.len() as u64;
                    garbage.push(dict.take_all());
                }
            }
        })
    });
    ctx.server.keyspace.watches.touch_db(db);
    if asynchronous {
        crate::storage::lazyfree::free_tables(garbage);
    } else {
        drop(garbage);
    }
    ctx.dirty += removed.max(1);
    removed
}

/// `FLUSHDB [ASYNC|SYNC]` → `+OK`.
fn flushdb(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let asynchronous = flush_mode(ctx, args)?;
    let db = ctx.client.db;
    flush(ctx, Some(db), asynchronous);
    Ok(Reply::Ok)
}

/// `FLUSHALL [ASYNC|SYNC]` → `+OK`.
fn flushall(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let asynchronous = flush_mode(ctx, args)?;
    flush(ctx, None, asynchronous);
    Ok(Reply::Ok)
}

/// `TIME` → `[unix seconds, microseconds]`.
fn time(_: &mut ExecCtx<'_>, _: &mut Args) -> Result<Reply, CmdError> {
    let us = crate::storage::clock::now_us();
    Ok(Reply::Array(vec![
        Reply::bulk_int((us / 1_000_000) as i64),
        Reply::bulk_int((us % 1_000_000) as i64),
    ]))
}

/// `LASTSAVE` → the Unix time of the last save (the start time, since Ferrite has not saved yet).
fn lastsave(ctx: &mut ExecCtx<'_>, _: &mut Args) -> Result<Reply, CmdError> {
    Ok(Reply::Int(ctx.server.started_unix as i64))
}

/// `SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]` → closes the server (no reply on success).
fn shutdown(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let mut nosave = false;
    for a in args.by_ref() {
        let a = a.to_ascii_uppercase();
        if !matches!(a.as_slice(), b"NOSAVE" | b"SAVE" | b"NOW" | b"FORCE") {
            return Err(CmdError::Syntax);
        }
        nosave |= a == b"NOSAVE";
    }
    // During a script only SHUTDOWN NOSAVE goes ahead, and it stops the script; a plain SHUTDOWN
    // waits for a script below the threshold (as every command does) and is refused once it is busy.
    let busy = ctx.server.script_run.busy();
    if busy != 0 {
        if nosave {
            ctx.server.script_run.abort();
        } else {
            ctx.server.script_run.wait_unless_busy(busy)?;
        }
    }
    ctx.server.request_shutdown();
    ctx.client.close_after_reply = true;
    Ok(Reply::NoReply)
}

/// `CONFIG GET parameter [parameter ...]` → a map of matching parameters and values.
fn config_get(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let patterns = args.rest();
    let cfg = ctx.server.config.read();
    let mut pairs = Vec::new();
    for p in PARAMS {
        if patterns
            .iter()
            .any(|pat| crate::glob::matches(pat, p.name.as_bytes(), true))
        {
            pairs.push((Reply::bulk_str(p.name), Reply::bulk_string((p.get)(&cfg))));
        }
    }
    // Old names (`*-ziplist-*`) are listed too, as Redis does.
    for (alias, target) in config::ALIASES {
        if patterns
            .iter()
            .any(|pat| crate::glob::matches(pat, alias.as_bytes(), true))
        {
            if let Some(p) = config::param(target) {
                pairs.push((Reply::bulk_str(alias), Reply::bulk_string((p.get)(&cfg))));
            }
        }
    }
    Ok(Reply::Map(pairs))
}

/// `CONFIG SET parameter value [parameter value ...]` → `+OK`; all pairs apply or none does.
fn config_set(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let argv = args.rest();
    if !argv.len().is_multiple_of(2) {
        return Err(CmdError::WrongArity("config|set"));
    }
    let mut cfg = ctx.server.config.write();
    let mut next = cfg.clone();
    let mut seen: Vec<&'static str> = Vec::new();
    for pair in argv.chunks(2) {
        let name = String::from_utf8_lossy(pair[0]).into_owned();
        if let Some(p) = config::param(&name) {
            if seen.contains(&p.name) {
                return Err(CmdError::Generic(format!(
                    "CONFIG SET failed (possibly related to argument '{name}') - duplicate parameter"
                )));
            }
            seen.push(p.name);
        }
        let value = String::from_utf8_lossy(pair[1]).into_owned();
        let Some(p) = config::param(&name) else {
            return Err(CmdError::Generic(format!(
                "Unknown option or number of arguments for CONFIG SET - '{name}'"
            )));
        };
        if !p.mutable {
            return Err(CmdError::Generic(format!("CONFIG SET failed (possibly related to argument '{name}') - can't set immutable config")));
        }
        let vals: Vec<String> = if p.name == "save" {
            value.split_whitespace().map(str::to_string).collect()
        } else {
            vec![value.clone()]
        };
        let vals = if vals.is_empty() {
            vec![String::new()]
        } else {
            vals
        };
        (p.set)(&mut next, &vals).map_err(|e| {
            CmdError::Generic(format!(
                "CONFIG SET failed (possibly related to argument '{name}') - {e}"
            ))
        })?;
    }
    *cfg = next;
    drop(cfg);
    ctx.server.config_changed();
    Ok(Reply::Ok)
}

/// `CONFIG RESETSTAT` → `+OK`.
fn config_resetstat(ctx: &mut ExecCtx<'_>, _: &mut Args) -> Result<Reply, CmdError> {
    let s = &ctx.server.stats;
    for c in [
        &s.commands,
        &s.connections,
        &s.rejected_connections,
        &s.net_input_bytes,
        &s.net_output_bytes,
    ] {
        c.store(0, Ordering::Relaxed);
    }
    ctx.server.keyspace.reset_stats(ctx);
    ctx.server.command_stats.reset();
    ctx.server.metrics.reset();
    Ok(Reply::Ok)
}

/// `CONFIG REWRITE` → `+OK` once the config file the server started with holds the running
/// configuration (see `config_rewrite` for how the file is edited).
fn config_rewrite(ctx: &mut ExecCtx<'_>, _: &mut Args) -> Result<Reply, CmdError> {
    let cfg = ctx.server.config.read().clone();
    let Some(path) = cfg.config_file.clone() else {
        return Err(CmdError::NoConfigFile);
    };
    crate::config_rewrite::rewrite_file(&path, &cfg).map_err(|e| {
        tracing::warn!("CONFIG REWRITE failed: {e}");
        CmdError::Generic(format!("Rewriting config file: {e}"))
    })?;
    Ok(Reply::Ok)
}

fn config_help(_: &mut ExecCtx<'_>, _: &mut Args) -> Result<Reply, CmdError> {
    let lines = [
        "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "GET <pattern>",
        "    Return parameters matching the glob-like <pattern> and their values.",
        "SET <directive> <value>",
        "    Set the configuration <directive> to <value>.",
        "RESETSTAT",
        "    Reset statistics reported by the INFO command.",
        "REWRITE",
        "    Rewrite the configuration file.",
        "HELP",
        "    Prints this help.",
    ];
    Ok(Reply::help(&lines))
}

/// `SLOWLOG GET [count]` → the newest entries (10 by default, -1 for all): each
/// `[id, unix time, microseconds, [args], client address, client name]`.
fn slowlog_get(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let count = match args.next() {
        None => 10usize,
        Some(a) => match crate::protocol::parse_i64(a) {
            Some(-1) => usize::MAX,
            Some(n) if n >= 0 => n as usize,
            _ => {
                return Err(CmdError::Generic(
                    "count should be greater than or equal to -1".into(),
                ))
            }
        },
    };
    args.finish()?;
    let entries = ctx.server.command_stats.slowlog_get(count);
    Ok(Reply::Array(
        entries
            .into_iter()
            .map(|e| {
                Reply::Array(vec![
                    Reply::Int(e.id as i64),
                    Reply::Int(e.time as i64),
                    Reply::Int(e.micros as i64),
                    Reply::Array(e.argv.into_iter().map(Reply::Bulk).collect()),
                    Reply::bulk_string(e.peer),
                    Reply::Bulk(e.name),
                ])
            })
            .collect(),
    ))
}

/// `SLOWLOG LEN` → the number of entries.
fn slowlog_len(ctx: &mut ExecCtx<'_>, _: &mut Args) -> Result<Reply, CmdError> {
    Ok(Reply::Int(ctx.server.command_stats.slowlog_len() as i64))
}

/// `SLOWLOG RESET` → `+OK`.
fn slowlog_reset(ctx: &mut ExecCtx<'_>, _: &mut Args) -> Result<Reply, CmdError> {
    ctx.server.command_stats.slowlog_reset();
    Ok(Reply::Ok)
}

fn slowlog_help(_: &mut ExecCtx<'_>, _: &mut Args) -> Result<Reply, CmdError> {
    let lines = [
        "SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "GET [<count>]",
        "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
        "    Entries are made of:",
        "    id, timestamp, time in microseconds, arguments array, client IP and port,",
        "    client name",
        "LEN",
        "    Return the length of the slowlog.",
        "RESET",
        "    Reset the slowlog.",
        "HELP",
        "    Prints this help.",
    ];
    Ok(Reply::help(&lines))
}

/// `MONITOR` → `+OK`, then every command the server runs, one status line each.
fn monitor(ctx: &mut ExecCtx<'_>, _: &mut Args) -> Result<Reply, CmdError> {
    let s = match &ctx.client.subscriber {
        Some(s) => s.clone(),
        None => {
            let (s, rx) = crate::server::pubsub::Subscriber::new(ctx.client.id);
            ctx.client.subscriber = Some(s.clone());
            ctx.client.new_messages = Some(rx);
            s
        }
    };
    ctx.server.pubsub.add_monitor(&s);
    ctx.client.monitor = true;
    ctx.client.info_changed = true;
    Ok(Reply::Ok)
}
