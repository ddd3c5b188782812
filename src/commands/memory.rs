//! MEMORY USAGE / STATS / DOCTOR / PURGE / MALLOC-STATS / HELP, and INFO's memory section.
//!
//! The figures come from jemalloc (what the process really holds, as Redis reads its own jemalloc) and
//! from the keyspace's own structures (see [`crate::storage::usage`]); both INFO memory and MEMORY STATS
//! are built from one [`Overhead`] snapshot so they agree.

use std::fmt::Write as _;

use super::table::{flags::*, CommandSpec, Docs, Group, KeySpec};
use super::{Args, ExecCtx};
use crate::error::CmdError;
use crate::protocol::Reply;
use crate::server::Server;
use crate::storage::{lazyfree, usage};

const fn docs(summary: &'static str, complexity: &'static str) -> Docs {
    Docs {
        summary,
        since: "4.0.0",
        complexity,
    }
}

const ALL_SHARDS_SPECIAL: &[&str] = &[
    "nondeterministic_output",
    "request_policy:all_shards",
    "response_policy:special",
];

#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec { name: "memory", group: Group::Server, arity: -2, docs: docs("A container for memory diagnostics commands", "Depends on subcommand."), subcommands: SUBCOMMANDS, ..CommandSpec::DEFAULT },
];

#[rustfmt::skip]
static SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec { name: "memory|doctor", group: Group::Server, arity: 2, tips: ALL_SHARDS_SPECIAL, docs: docs("Outputs memory problems report", "O(1)"), handler: doctor, ..CommandSpec::DEFAULT },
    CommandSpec { name: "memory|help", group: Group::Server, arity: 2, flags: LOADING | STALE, docs: docs("Show helpful text about the different subcommands", "O(1)"), handler: help, ..CommandSpec::DEFAULT },
    CommandSpec { name: "memory|malloc-stats", group: Group::Server, arity: 2, tips: ALL_SHARDS_SPECIAL, docs: docs("Show allocator internal stats", "Depends on how much memory is allocated, could be slow"), handler: malloc_stats, ..CommandSpec::DEFAULT },
    CommandSpec { name: "memory|purge", group: Group::Server, arity: 2, tips: &["request_policy:all_shards", "response_policy:all_succeeded"], docs: docs("Ask the allocator to release memory", "Depends on how much memory is allocated, could be slow"), handler: purge, ..CommandSpec::DEFAULT },
    CommandSpec { name: "memory|stats", group: Group::Server, arity: 2, tips: ALL_SHARDS_SPECIAL, docs: docs("Show memory usage details", "O(1)"), handler: stats, ..CommandSpec::DEFAULT },
    CommandSpec { name: "memory|usage", group: Group::Server, arity: -3, flags: READONLY, keys: &[KeySpec::one(2, super::table::ks::RO)], docs: docs("Estimate the memory usage of a key", "O(N) where N is the number of samples."), handler: usage_cmd, ..CommandSpec::DEFAULT },
];

/// `MEMORY USAGE key [SAMPLES count]` → bytes the key and its value take, or nil.
fn usage_cmd(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let mut samples = usage::DEFAULT_SAMPLES;
    while args.remaining() > 0 {
        if args.remaining() >= 2 && args.eat("SAMPLES") {
            let n = args.next_i64()?;
            if n < 0 {
                return Err(CmdError::Syntax);
            }
            samples = usize::try_from(n).unwrap_or(usize::MAX);
        } else {
            return Err(CmdError::Syntax);
        }
    }
    let mut db = ctx.db();
    Ok(match db.peek(key) {
        Some(e) => Reply::Int(usage::key_bytes(key, e, samples) as i64),
        None => Reply::Nil,
    })
}

/// Memory figures gathered once for INFO memory, MEMORY STATS and MEMORY DOCTOR.
pub struct Overhead {
    pub peak: u64,
    pub total: u64,
    pub startup: u64,
    pub clients_normal: u64,
    pub lua_caches: u64,
    /// Per non-empty database: (index, table bytes, keys, keys with a TTL).
    pub dbs: Vec<(usize, u64, u64, u64)>,
    pub overhead_total: u64,
    pub keys: u64,
    pub dataset: u64,
    pub allocator_allocated: u64,
    pub allocator_active: u64,
    pub allocator_resident: u64,
    pub rss: u64,
}

impl Overhead {
    pub fn gather(srv: &Server, via: &mut dyn crate::storage::EachShard) -> Overhead {
        let total = srv.memory.refresh();
        let peak = srv.memory.peak().max(total);
        let startup = srv
            .memory
            .startup
            .load(std::sync::atomic::Ordering::Relaxed);
        let ks = &srv.keyspace;
        let mut dbs: Vec<(usize, u64, u64, u64)> =
            (0..ks.databases()).map(|d| (d, 0, 0, 0)).collect();
        via.each_shard(&mut |shard| {
            for (d, dict) in shard.dbs.iter().enumerate() {
                dbs[d].1 += dict.allocated() as u64;
                dbs[d].2 += dict.len() as u64;
                dbs[d].3 += dict.volatile() as u64;
            }
        });
        dbs.retain(|d| d.2 > 0);
        let clients_normal = client_buffers(srv);
        let lua_caches = srv.scripts.memory() as u64;
        let tables: u64 = dbs.iter().map(|d| d.1).sum();
        let overhead_total = startup + clients_normal + lua_caches + tables;
        let keys: u64 = dbs.iter().map(|d| d.2).sum();
        let (allocator_allocated, allocator_active, allocator_resident) = allocator_stats();
        Overhead {
            peak,
            total,
            startup,
            clients_normal,
            lua_caches,
            dbs,
            overhead_total,
            keys,
            dataset: total.saturating_sub(overhead_total),
            allocator_allocated,
            allocator_active,
            allocator_resident,
            rss: crate::commands::server::used_memory_rss(),
        }
    }

    fn ratio(a: u64, b: u64) -> f64 {
        if b == 0 {
            0.0
        } else {
            a as f64 / b as f64
        }
    }

    fn frag(&self) -> f64 {
        Self::ratio(self.rss, self.total)
    }

    fn frag_bytes(&self) -> i64 {
        self.rss as i64 - self.total as i64
    }

    fn dataset_perc(&self) -> f64 {
        let net = self.total.saturating_sub(self.startup);
        Self::ratio(self.dataset * 100, net.max(1))
    }

    fn peak_perc(&self) -> f64 {
        Self::ratio(self.total * 100, self.peak.max(1))
    }
}

/// Bytes held by normal clients' buffers (INFO `mem_clients_normal`): each client's query and reply
/// buffers, queued pub/sub messages and MULTI queue, as CLIENT LIST's `tot-mem` adds them up.
fn client_buffers(srv: &Server) -> u64 {
    use std::sync::atomic::Ordering::Relaxed;
    srv.clients
        .iter()
        .map(|c| {
            let b = &c.live.buffers;
            let omem = c.subscriber.as_ref().map_or(0, |s| s.pending() as u64);
            b.qbuf.load(Relaxed)
                + b.qbuf_free.load(Relaxed)
                + b.rbs.load(Relaxed)
                + c.multi_mem
                + omem
                + std::mem::size_of::<crate::server::client::ClientState>() as u64
        })
        .sum()
}

/// The allocators' (allocated, active, resident): jemalloc's, plus the keyspace's huge-page pool
/// (whose mapped regions are counted as active and resident, as jemalloc counts its own).
fn allocator_stats() -> (u64, u64, u64) {
    let (pool_used, pool_mapped) = crate::storage::huge::stats();
    #[cfg(not(target_env = "msvc"))]
    {
        use tikv_jemalloc_ctl::stats;
        let _ = tikv_jemalloc_ctl::epoch::advance();
        (
            stats::allocated::read().unwrap_or(0) as u64 + pool_used,
            stats::active::read().unwrap_or(0) as u64 + pool_mapped,
            stats::resident::read().unwrap_or(0) as u64 + pool_mapped,
        )
    }
    #[cfg(target_env = "msvc")]
    {
        (pool_used, pool_mapped, pool_mapped)
    }
}

/// INFO's `# Memory` section, with Redis 7's field names and order.
pub fn info_section(ctx: &mut ExecCtx<'_>, out: &mut String) {
    let srv = ctx.server;
    let o = Overhead::gather(srv, ctx);
    let cfg = srv.config.read();
    let human = crate::commands::server::human_bytes;
    let sys = total_system_memory();
    let _ = write!(
        out,
        "# Memory\r\n\
         used_memory:{total}\r\n\
         used_memory_human:{}\r\n\
         used_memory_rss:{rss}\r\n\
         used_memory_rss_human:{}\r\n\
         used_memory_peak:{peak}\r\n\
         used_memory_peak_human:{}\r\n\
         used_memory_peak_perc:{:.2}%\r\n\
         used_memory_overhead:{}\r\n\
         used_memory_startup:{}\r\n\
         used_memory_dataset:{}\r\n\
         used_memory_dataset_perc:{:.2}%\r\n\
         allocator_allocated:{}\r\n\
         allocator_active:{}\r\n\
         allocator_resident:{}\r\n\
         total_system_memory:{sys}\r\n\
         total_system_memory_human:{}\r\n\
         {scripting}\
         maxmemory:{max}\r\n\
         maxmemory_human:{}\r\n\
         maxmemory_policy:{}\r\n\
         allocator_frag_ratio:{:.2}\r\n\
         allocator_frag_bytes:{}\r\n\
         allocator_rss_ratio:{:.2}\r\n\
         allocator_rss_bytes:{}\r\n\
         rss_overhead_ratio:{:.2}\r\n\
         rss_overhead_bytes:{}\r\n\
         mem_fragmentation_ratio:{:.2}\r\n\
         mem_fragmentation_bytes:{}\r\n\
         mem_not_counted_for_evict:0\r\n\
         mem_replication_backlog:0\r\n\
         mem_total_replication_buffers:0\r\n\
         mem_clients_slaves:0\r\n\
         mem_clients_normal:{}\r\n\
         mem_cluster_links:0\r\n\
         mem_aof_buffer:0\r\n\
         mem_allocator:jemalloc-5.3.0\r\n\
         active_defrag_running:0\r\n\
         lazyfree_pending_objects:{}\r\n\
         lazyfreed_objects:{}\r\n",
        human(o.total),
        human(o.rss),
        human(o.peak),
        o.peak_perc(),
        o.overhead_total,
        o.startup,
        o.dataset,
        o.dataset_perc(),
        o.allocator_allocated,
        o.allocator_active,
        o.allocator_resident,
        human(sys),
        human(cfg.maxmemory),
        cfg.maxmemory_policy,
        Overhead::ratio(o.allocator_active, o.allocator_allocated),
        o.allocator_active as i64 - o.allocator_allocated as i64,
        Overhead::ratio(o.allocator_resident, o.allocator_active),
        o.allocator_resident as i64 - o.allocator_active as i64,
        Overhead::ratio(o.rss, o.allocator_resident),
        o.rss as i64 - o.allocator_resident as i64,
        o.frag(),
        o.frag_bytes(),
        o.clients_normal,
        lazyfree::pending(),
        lazyfree::freed(),
        total = o.total,
        rss = o.rss,
        peak = o.peak,
        scripting = crate::scripting::info_memory(srv),
        max = cfg.maxmemory,
    );
}

fn total_system_memory() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map(|kb| kb * 1024)
        .unwrap_or(0)
}

/// `MEMORY STATS` → a map of memory figures, as Redis 7.0 lays it out.
fn stats(ctx: &mut ExecCtx<'_>, _: &mut Args) -> Result<Reply, CmdError> {
    let o = Overhead::gather(ctx.server, ctx);
    let mut m: Vec<(Reply, Reply)> = Vec::new();
    let mut int = |k: &'static str, v: i64| m.push((Reply::bulk_str(k), Reply::Int(v)));
    int("peak.allocated", o.peak as i64);
    int("total.allocated", o.total as i64);
    int("startup.allocated", o.startup as i64);
    int("replication.backlog", 0);
    int("clients.slaves", 0);
    int("clients.normal", o.clients_normal as i64);
    int("cluster.links", 0);
    int("aof.buffer", 0);
    int("lua.caches", o.lua_caches as i64);
    int("functions.caches", 0);
    for &(d, table, _, _) in &o.dbs {
        m.push((
            Reply::Bulk(format!("db.{d}").into()),
            Reply::Map(vec![
                (
                    Reply::bulk_str("overhead.hashtable.main"),
                    Reply::Int(table as i64),
                ),
                (Reply::bulk_str("overhead.hashtable.expires"), Reply::Int(0)),
                (
                    Reply::bulk_str("overhead.hashtable.slot-to-keys"),
                    Reply::Int(0),
                ),
            ]),
        ));
    }
    let mut int = |k: &'static str, v: i64| m.push((Reply::bulk_str(k), Reply::Int(v)));
    int("overhead.total", o.overhead_total as i64);
    int("keys.count", o.keys as i64);
    let net = o.total.saturating_sub(o.startup);
    int(
        "keys.bytes-per-key",
        net.checked_div(o.keys).unwrap_or(0) as i64,
    );
    int("dataset.bytes", o.dataset as i64);
    let mut dbl = |k: &'static str, v: f64| m.push((Reply::bulk_str(k), Reply::Double(v)));
    dbl("dataset.percentage", o.dataset_perc());
    dbl("peak.percentage", o.peak_perc());
    let mut int = |k: &'static str, v: i64| m.push((Reply::bulk_str(k), Reply::Int(v)));
    int("allocator.allocated", o.allocator_allocated as i64);
    int("allocator.active", o.allocator_active as i64);
    int("allocator.resident", o.allocator_resident as i64);
    let pairs: [(&'static str, f64, i64); 4] = [
        (
            "allocator-fragmentation",
            Overhead::ratio(o.allocator_active, o.allocator_allocated),
            o.allocator_active as i64 - o.allocator_allocated as i64,
        ),
        (
            "allocator-rss",
            Overhead::ratio(o.allocator_resident, o.allocator_active),
            o.allocator_resident as i64 - o.allocator_active as i64,
        ),
        (
            "rss-overhead",
            Overhead::ratio(o.rss, o.allocator_resident),
            o.rss as i64 - o.allocator_resident as i64,
        ),
        ("fragmentation", o.frag(), o.frag_bytes()),
    ];
    for (name, ratio, bytes) in pairs {
        if name == "fragmentation" {
            m.push((Reply::bulk_str("fragmentation"), Reply::Double(ratio)));
            m.push((Reply::bulk_str("fragmentation.bytes"), Reply::Int(bytes)));
        } else {
            m.push((
                Reply::Bulk(format!("{name}.ratio").into()),
                Reply::Double(ratio),
            ));
            m.push((
                Reply::Bulk(format!("{name}.bytes").into()),
                Reply::Int(bytes),
            ));
        }
    }
    Ok(Reply::Map(m))
}

/// `MEMORY DOCTOR` → a report on memory problems, with Redis's thresholds and wording.
fn doctor(ctx: &mut ExecCtx<'_>, _: &mut Args) -> Result<Reply, CmdError> {
    let o = Overhead::gather(ctx.server, ctx);
    let clients = ctx.server.clients.len().max(1) as u64;
    let mb10 = 10i64 << 20;
    let (a_frag, a_frag_b) = (
        Overhead::ratio(o.allocator_active, o.allocator_allocated),
        o.allocator_active as i64 - o.allocator_allocated as i64,
    );
    let (a_rss, a_rss_b) = (
        Overhead::ratio(o.allocator_resident, o.allocator_active),
        o.allocator_resident as i64 - o.allocator_active as i64,
    );
    let (p_rss, p_rss_b) = (
        Overhead::ratio(o.rss, o.allocator_resident),
        o.rss as i64 - o.allocator_resident as i64,
    );
    let mut issues: Vec<String> = Vec::new();
    let empty = o.total < 5 << 20;
    if !empty {
        if o.peak as f64 / o.total as f64 > 1.5 {
            issues.push(" * Peak memory: In the past this instance used more than 150% the memory that is currently using. The allocator is normally not able to release memory after a peak, so you can expect to see a big fragmentation ratio, however this is actually harmless and is only due to the memory peak, and if the Redis instance Resident Set Size (RSS) is currently bigger than expected, the memory will be used as soon as you fill the Redis instance with more data. If the memory peak was only occasional and you want to try to reclaim memory, please try the MEMORY PURGE command, otherwise the only other option is to shutdown and restart the instance.\n\n".into());
        }
        if o.frag() > 1.4 && o.frag_bytes() > mb10 {
            issues.push(" * High total RSS: This instance has a memory fragmentation and RSS overhead greater than 1.4 (this means that the Resident Set Size of the Redis process is much larger than the sum of the logical allocations Redis performed). This problem is usually due either to a large peak memory (check if there is a peak memory entry above in the report) or may result from a workload that causes the allocator to fragment memory a lot. If the problem is a large peak memory, then there is no issue. Otherwise, make sure you are using the Jemalloc allocator and not the default libc malloc. Note: The currently used allocator is \"jemalloc-5.3.0\".\n\n".into());
        }
        if a_frag > 1.1 && a_frag_b > mb10 {
            issues.push(" * High allocator fragmentation: This instance has an allocator external fragmentation greater than 1.1. This problem is usually due either to a large peak memory (check if there is a peak memory entry above in the report) or may result from a workload that causes the allocator to fragment memory a lot. You can try enabling 'activedefrag' config option.\n\n".into());
        }
        if a_rss > 1.1 && a_rss_b > mb10 {
            issues.push(" * High allocator RSS overhead: This instance has an RSS memory overhead is greater than 1.1 (this means that the Resident Set Size of the allocator is much larger than the sum what the allocator actually holds). This problem is usually due to a large peak memory (check if there is a peak memory entry above in the report), you can try the MEMORY PURGE command to reclaim it.\n\n".into());
        }
        if p_rss > 1.1 && p_rss_b > mb10 {
            issues.push(" * High process RSS overhead: This instance has non-allocator RSS memory overhead is greater than 1.1 (this means that the Resident Set Size of the Redis process is much larger than the RSS the allocator holds). This problem may be due to Lua scripts or Modules.\n\n".into());
        }
        if o.clients_normal / clients > 200 * 1024 {
            issues.push(" * Big client buffers: The clients output buffers in this instance are greater than 200K per client (on average). This may result from different causes, like Pub/Sub clients subscribed to channels bot not receiving data fast enough, so that data piles on the Redis instance output buffer, or clients sending commands with large replies or very large sequences of commands in the same pipeline. Please use the CLIENT LIST command in order to investigate the issue if it causes problems in your instance, or to understand better why certain clients are using a big amount of memory.\n\n".into());
        }
        if ctx.server.scripts.len() > 1000 {
            issues.push(" * Many scripts: There seem to be many cached scripts in this instance (more than 1000). This may be because scripts are generated and `EVAL`ed, instead of being parameterized (with KEYS and ARGV), `SCRIPT LOAD`ed and `EVALSHA`ed. Unless `SCRIPT FLUSH` is called periodically, the scripts' caches may end up consuming most of your memory.\n\n".into());
        }
    }
    let text = if empty {
        "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.\n".to_string()
    } else if issues.is_empty() {
        "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n".to_string()
    } else {
        let mut s =
            "Sam, I detected a few issues in this Redis instance memory implants:\n\n".to_string();
        for i in issues {
            s.push_str(&i);
        }
        s.push_str("I'm here to keep you safe, Sam. I want to help you.\n");
        s
    };
    Ok(Reply::Verbatim("txt", text.into()))
}

/// `MEMORY PURGE` → `+OK` after asking jemalloc to return dirty pages to the system.
fn purge(_: &mut ExecCtx<'_>, _: &mut Args) -> Result<Reply, CmdError> {
    crate::server::memory::purge();
    Ok(Reply::Ok)
}

/// `MEMORY MALLOC-STATS` → jemalloc's statistics report.
fn malloc_stats(_: &mut ExecCtx<'_>, _: &mut Args) -> Result<Reply, CmdError> {
    Ok(Reply::Verbatim(
        "txt",
        crate::server::memory::malloc_stats().into(),
    ))
}

/// `MEMORY HELP` → the help text.
fn help(_: &mut ExecCtx<'_>, _: &mut Args) -> Result<Reply, CmdError> {
    const LINES: &[&str] = &[
        "MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "DOCTOR",
        "    Return memory problems reports.",
        "MALLOC-STATS",
        "    Return internal statistics report from the memory allocator.",
        "PURGE",
        "    Attempt to purge dirty pages for reclamation by the allocator.",
        "STATS",
        "    Return information about the memory usage of the server.",
        "USAGE <key> [SAMPLES <count>]",
        "    Return memory in bytes used by <key> and its value. Nested values are",
        "    sampled up to <count> times (default: 5, 0 means sample all).",
        "HELP",
        "    Prints this help.",
    ];
    Ok(Reply::help(LINES))
}

#[cfg(test)]
mod tests {
    #[test]
    fn allocated_is_read() {
        assert!(crate::server::memory::allocated_now() > 0);
    }
}
