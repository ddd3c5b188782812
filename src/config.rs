//! Configuration: `redis.conf` files, `--name value` arguments, and the `CONFIG GET/SET` table.
//!
//! One table ([`PARAMS`]) defines every parameter: its name, whether `CONFIG SET` may change it at run
//! time, how to read it and how to apply a new value. Start-up parsing and `CONFIG GET/SET` both go
//! through it, so a parameter cannot behave differently in a file and at run time.

use std::fmt;

#[derive(Debug, Clone)]
pub struct Config {
    pub bind: Vec<String>,
    pub port: u16,
    pub databases: usize,
    pub requirepass: Option<String>,
    pub loglevel: String,
    pub logfile: String,
    pub hz: u64,
    pub proto_max_bulk_len: i64,
    pub client_query_buffer_limit: u64,
    pub maxclients: u64,
    pub timeout: u64,
    pub tcp_keepalive: u64,
    pub save: String,
    pub appendonly: bool,
    pub dir: String,
    pub dbfilename: String,
    pub maxmemory: u64,
    pub maxmemory_policy: String,
    pub protected_mode: bool,
    pub daemonize: bool,
    pub active_expire: bool,
    /// `activerehashing`: the expire thread finishes the keyspace tables' resizes in the background.
    pub active_rehashing: bool,
    pub io_threads: usize,
    /// `busy-poll-us`: how long an I/O thread keeps polling after its last command (see
    /// `server::busy_poll`); 0 turns polling off.
    pub busy_poll_us: u64,
    pub list_max_listpack_size: i64,
    pub slowlog_log_slower_than: i64,
    pub slowlog_max_len: usize,
    pub hash_max_listpack_entries: usize,
    pub hash_max_listpack_value: usize,
    pub set_max_intset_entries: usize,
    pub set_max_listpack_entries: usize,
    pub set_max_listpack_value: usize,
    pub zset_max_listpack_entries: usize,
    pub zset_max_listpack_value: usize,
    /// `client-output-buffer-limit` classes: (class, hard, soft, seconds).
    pub client_output_buffer_limit: Vec<(String, u64, u64, u64)>,
    pub maxmemory_samples: u32,
    pub maxmemory_eviction_tenacity: u32,
    pub lfu_log_factor: u32,
    pub lfu_decay_time: u32,
    pub lazyfree_lazy_eviction: bool,
    pub lazyfree_lazy_expire: bool,
    pub lazyfree_lazy_server_del: bool,
    pub lazyfree_lazy_user_del: bool,
    pub lazyfree_lazy_user_flush: bool,
    /// `notify-keyspace-events` as flag bits (see [`crate::storage::notify`]).
    pub notify_keyspace_events: u32,
    // --- operations ---
    /// Milliseconds from which an operation is recorded by the latency monitor (0: off).
    pub latency_monitor_threshold: u64,
    /// Per-command latency histograms for INFO latencystats.
    pub latency_tracking: bool,
    pub latency_tracking_info_percentiles: Vec<f64>,
    /// `no`, `yes` or `local`: who may run DEBUG.
    pub enable_debug_command: String,
    /// The config file the server was started with (absolute), for CONFIG REWRITE and INFO.
    pub config_file: Option<String>,
    /// `busy-reply-threshold` (alias `lua-time-limit`): milliseconds after which a running script
    /// makes other clients' commands answer BUSY.
    pub busy_reply_threshold: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            bind: vec!["127.0.0.1".into(), "-::1".into()],
            port: 6379,
            databases: 16,
            requirepass: None,
            loglevel: "notice".into(),
            logfile: String::new(),
            hz: 10,
            proto_max_bulk_len: 512 * 1024 * 1024,
            client_query_buffer_limit: 1024 * 1024 * 1024,
            maxclients: 10000,
            timeout: 0,
            tcp_keepalive: 300,
            save: String::new(),
            appendonly: false,
            dir: ".".into(),
            dbfilename: "dump.rdb".into(),
            maxmemory: 0,
            maxmemory_policy: "noeviction".into(),
            protected_mode: true,
            daemonize: false,
            active_expire: true,
            active_rehashing: true,
            io_threads: 0,
            busy_poll_us: 50,
            list_max_listpack_size: -2,
            slowlog_log_slower_than: 10_000,
            slowlog_max_len: 128,
            hash_max_listpack_entries: 128,
            hash_max_listpack_value: 64,
            set_max_intset_entries: 512,
            set_max_listpack_entries: 128,
            set_max_listpack_value: 64,
            zset_max_listpack_entries: 128,
            zset_max_listpack_value: 64,
            busy_reply_threshold: 5000,
            client_output_buffer_limit: vec![
                ("normal".into(), 0, 0, 0),
                ("slave".into(), 256 << 20, 64 << 20, 60),
                ("pubsub".into(), 32 << 20, 8 << 20, 60),
            ],
            maxmemory_samples: 5,
            maxmemory_eviction_tenacity: 10,
            lfu_log_factor: 10,
            lfu_decay_time: 1,
            lazyfree_lazy_eviction: false,
            lazyfree_lazy_expire: false,
            lazyfree_lazy_server_del: false,
            lazyfree_lazy_user_del: false,
            lazyfree_lazy_user_flush: false,
            notify_keyspace_events: 0,
            latency_monitor_threshold: 0,
            latency_tracking: true,
            latency_tracking_info_percentiles: vec![50.0, 99.0, 99.9],
            enable_debug_command: "no".into(),
            config_file: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

type Getter = fn(&Config) -> String;
type Setter = fn(&mut Config, &[String]) -> Result<(), String>;

pub struct Param {
    pub name: &'static str,
    /// False for parameters only a restart can change (`CONFIG SET` refuses them, as Redis does).
    pub mutable: bool,
    pub get: Getter,
    pub set: Setter,
}

fn one(v: &[String]) -> Result<&str, String> {
    match v {
        [s] => Ok(s),
        _ => Err("wrong number of arguments".into()),
    }
}

fn yes_no(v: &[String]) -> Result<bool, String> {
    match one(v)?.to_ascii_lowercase().as_str() {
        "yes" => Ok(true),
        "no" => Ok(false),
        _ => Err("argument must be 'yes' or 'no'".into()),
    }
}

fn int(v: &[String], min: i64, max: i64) -> Result<i64, String> {
    let n: i64 = one(v)?
        .parse()
        .map_err(|_| "argument couldn't be parsed into an integer".to_string())?;
    if n < min || n > max {
        return Err(format!(
            "argument must be between {min} and {max} inclusive"
        ));
    }
    Ok(n)
}

/// Parses a memory amount with Redis's units: `1k`=1000, `1kb`=1024, `1m`, `1mb`, `1g`, `1gb`.
pub fn parse_memory(s: &str) -> Option<u64> {
    let l = s.to_ascii_lowercase();
    let (num, mul) = [
        ("gb", 1u64 << 30),
        ("mb", 1 << 20),
        ("kb", 1 << 10),
        ("g", 1_000_000_000),
        ("m", 1_000_000),
        ("k", 1000),
        ("b", 1),
    ]
    .iter()
    .find_map(|(suf, m)| l.strip_suffix(suf).map(|n| (n.to_string(), *m)))
    .unwrap_or((l.clone(), 1));
    let n: u64 = num.parse().ok()?;
    n.checked_mul(mul)
}

fn memory(v: &[String]) -> Result<u64, String> {
    parse_memory(one(v)?).ok_or_else(|| "argument must be a memory value".to_string())
}

/// A memory amount of at least `min` bytes (and at most `i64::MAX`), with Redis's range error.
fn memory_at_least(v: &[String], min: u64) -> Result<u64, String> {
    let n = memory(v)?;
    if n < min || n > i64::MAX as u64 {
        return Err(format!(
            "argument must be between {min} and {} inclusive",
            i64::MAX
        ));
    }
    Ok(n)
}

fn memory_in_range(v: &[String]) -> Result<usize, String> {
    let n = memory(v)?;
    if n > i64::MAX as u64 {
        return Err(format!(
            "argument must be between 0 and {} inclusive",
            i64::MAX
        ));
    }
    Ok(n as usize)
}

fn yn(b: bool) -> String {
    if b { "yes" } else { "no" }.into()
}

fn unsupported_yes(what: &'static str) -> impl Fn(bool) -> Result<(), String> {
    move |on| {
        if on {
            Err(format!("{what} is not supported by Ferrite yet"))
        } else {
            Ok(())
        }
    }
}

pub static PARAMS: &[Param] = &[
    Param {
        name: "bind",
        mutable: false,
        get: |c| c.bind.join(" "),
        set: |c, v| {
            c.bind = v
                .iter()
                .flat_map(|s| s.split_whitespace().map(str::to_string))
                .collect();
            Ok(())
        },
    },
    Param {
        name: "port",
        mutable: false,
        get: |c| c.port.to_string(),
        set: |c, v| {
            c.port = int(v, 0, 65535)? as u16;
            Ok(())
        },
    },
    Param {
        name: "databases",
        mutable: false,
        get: |c| c.databases.to_string(),
        set: |c, v| {
            c.databases = int(v, 1, i32::MAX as i64)? as usize;
            Ok(())
        },
    },
    Param {
        name: "requirepass",
        mutable: true,
        get: |c| c.requirepass.clone().unwrap_or_default(),
        set: |c, v| {
            let p = one(v)?;
            c.requirepass = if p.is_empty() {
                None
            } else {
                Some(p.to_string())
            };
            Ok(())
        },
    },
    Param {
        name: "loglevel",
        mutable: true,
        get: |c| c.loglevel.clone(),
        set: |c, v| {
            let l = one(v)?.to_ascii_lowercase();
            if !["debug", "verbose", "notice", "warning", "nothing"].contains(&l.as_str()) {
                return Err("argument(s) must be one of the following: debug, verbose, notice, warning, nothing".into());
            }
            c.loglevel = l;
            Ok(())
        },
    },
    Param {
        name: "logfile",
        mutable: false,
        get: |c| c.logfile.clone(),
        set: |c, v| {
            c.logfile = one(v)?.to_string();
            Ok(())
        },
    },
    Param {
        name: "hz",
        mutable: true,
        get: |c| c.hz.to_string(),
        set: |c, v| {
            c.hz = int(v, 0, i32::MAX as i64)?.clamp(1, 500) as u64;
            Ok(())
        },
    },
    Param {
        name: "proto-max-bulk-len",
        mutable: true,
        get: |c| c.proto_max_bulk_len.to_string(),
        set: |c, v| {
            c.proto_max_bulk_len = memory_at_least(v, 1024 * 1024)? as i64;
            Ok(())
        },
    },
    Param {
        name: "client-query-buffer-limit",
        mutable: true,
        get: |c| c.client_query_buffer_limit.to_string(),
        set: |c, v| {
            c.client_query_buffer_limit = memory_at_least(v, 1024 * 1024)?;
            Ok(())
        },
    },
    Param {
        name: "maxclients",
        mutable: true,
        get: |c| c.maxclients.to_string(),
        set: |c, v| {
            c.maxclients = int(v, 1, i64::MAX)? as u64;
            Ok(())
        },
    },
    Param {
        name: "timeout",
        mutable: true,
        get: |c| c.timeout.to_string(),
        set: |c, v| {
            c.timeout = int(v, 0, i32::MAX as i64)? as u64;
            Ok(())
        },
    },
    Param {
        name: "tcp-keepalive",
        mutable: true,
        get: |c| c.tcp_keepalive.to_string(),
        set: |c, v| {
            c.tcp_keepalive = int(v, 0, i32::MAX as i64)? as u64;
            Ok(())
        },
    },
    Param {
        name: "save",
        mutable: true,
        get: |c| c.save.clone(),
        set: |c, v| {
            let s = v.join(" ");
            if !s.trim().is_empty() {
                return Err(
                    "RDB persistence (save points) is not supported by Ferrite yet; use save \"\""
                        .into(),
                );
            }
            c.save = String::new();
            Ok(())
        },
    },
    Param {
        name: "appendonly",
        mutable: true,
        get: |c| yn(c.appendonly),
        set: |c, v| {
            let on = yes_no(v)?;
            unsupported_yes("appendonly (AOF persistence)")(on)?;
            c.appendonly = on;
            Ok(())
        },
    },
    Param {
        name: "activerehashing",
        mutable: true,
        get: |c| yn(c.active_rehashing),
        set: |c, v| {
            c.active_rehashing = yes_no(v)?;
            Ok(())
        },
    },
    Param {
        name: "dir",
        mutable: true,
        get: |c| c.dir.clone(),
        set: |c, v| {
            c.dir = one(v)?.to_string();
            Ok(())
        },
    },
    Param {
        name: "dbfilename",
        mutable: true,
        get: |c| c.dbfilename.clone(),
        set: |c, v| {
            c.dbfilename = one(v)?.to_string();
            Ok(())
        },
    },
    Param {
        name: "maxmemory",
        mutable: true,
        get: |c| c.maxmemory.to_string(),
        set: |c, v| {
            c.maxmemory = memory(v)?;
            Ok(())
        },
    },
    Param {
        name: "maxmemory-policy",
        mutable: true,
        get: |c| c.maxmemory_policy.clone(),
        set: |c, v| {
            let p = one(v)?.to_ascii_lowercase();
            const ALL: &[&str] = &[
                "volatile-lru",
                "volatile-lfu",
                "volatile-random",
                "volatile-ttl",
                "allkeys-lru",
                "allkeys-lfu",
                "allkeys-random",
                "noeviction",
            ];
            if !ALL.contains(&p.as_str()) {
                return Err(format!(
                    "argument(s) must be one of the following: {}",
                    ALL.join(", ")
                ));
            }
            c.maxmemory_policy = p;
            Ok(())
        },
    },
    Param {
        name: "protected-mode",
        mutable: true,
        get: |c| yn(c.protected_mode),
        set: |c, v| {
            c.protected_mode = yes_no(v)?;
            Ok(())
        },
    },
    Param {
        name: "daemonize",
        mutable: false,
        get: |c| yn(c.daemonize),
        set: |c, v| {
            let on = yes_no(v)?;
            unsupported_yes("daemonize")(on)?;
            c.daemonize = on;
            Ok(())
        },
    },
    Param {
        name: "io-threads",
        mutable: false,
        get: |c| c.io_threads.to_string(),
        set: |c, v| {
            c.io_threads = int(v, 0, 128)? as usize;
            Ok(())
        },
    },
    Param {
        name: "busy-poll-us",
        mutable: true,
        get: |c| c.busy_poll_us.to_string(),
        set: |c, v| {
            c.busy_poll_us = int(v, 0, 1_000_000)? as u64;
            Ok(())
        },
    },
    Param {
        name: "list-max-listpack-size",
        mutable: true,
        get: |c| c.list_max_listpack_size.to_string(),
        set: |c, v| {
            c.list_max_listpack_size = int(v, -5, i32::MAX as i64)?;
            Ok(())
        },
    },
    Param {
        name: "slowlog-log-slower-than",
        mutable: true,
        get: |c| c.slowlog_log_slower_than.to_string(),
        set: |c, v| {
            c.slowlog_log_slower_than = int(v, -1, i64::MAX)?;
            Ok(())
        },
    },
    Param {
        name: "slowlog-max-len",
        mutable: true,
        get: |c| c.slowlog_max_len.to_string(),
        set: |c, v| {
            c.slowlog_max_len = int(v, 0, i64::MAX)? as usize;
            Ok(())
        },
    },
    Param {
        name: "hash-max-listpack-entries",
        mutable: true,
        get: |c| c.hash_max_listpack_entries.to_string(),
        set: |c, v| {
            c.hash_max_listpack_entries = int(v, 0, i64::MAX)? as usize;
            Ok(())
        },
    },
    Param {
        name: "hash-max-listpack-value",
        mutable: true,
        get: |c| c.hash_max_listpack_value.to_string(),
        set: |c, v| {
            c.hash_max_listpack_value = memory_in_range(v)?;
            Ok(())
        },
    },
    Param {
        name: "client-output-buffer-limit",
        mutable: true,
        get: |c| {
            c.client_output_buffer_limit
                .iter()
                .map(|(class, h, s, t)| format!("{class} {h} {s} {t}"))
                .collect::<Vec<_>>()
                .join(" ")
        },
        set: output_limits,
    },
    Param {
        name: "set-max-intset-entries",
        mutable: true,
        get: |c| c.set_max_intset_entries.to_string(),
        set: |c, v| {
            c.set_max_intset_entries = int(v, 0, i64::MAX)? as usize;
            Ok(())
        },
    },
    Param {
        name: "set-max-listpack-entries",
        mutable: true,
        get: |c| c.set_max_listpack_entries.to_string(),
        set: |c, v| {
            c.set_max_listpack_entries = int(v, 0, i64::MAX)? as usize;
            Ok(())
        },
    },
    Param {
        name: "set-max-listpack-value",
        mutable: true,
        get: |c| c.set_max_listpack_value.to_string(),
        set: |c, v| {
            c.set_max_listpack_value = int(v, 0, i64::MAX)? as usize;
            Ok(())
        },
    },
    Param {
        name: "zset-max-listpack-entries",
        mutable: true,
        get: |c| c.zset_max_listpack_entries.to_string(),
        set: |c, v| {
            c.zset_max_listpack_entries = int(v, 0, i64::MAX)? as usize;
            Ok(())
        },
    },
    Param {
        name: "zset-max-listpack-value",
        mutable: true,
        get: |c| c.zset_max_listpack_value.to_string(),
        set: |c, v| {
            c.zset_max_listpack_value = memory_in_range(v)?;
            Ok(())
        },
    }, // --- operations: latency monitor, latency tracking, DEBUG ---
    Param {
        name: "latency-monitor-threshold",
        mutable: true,
        get: |c| c.latency_monitor_threshold.to_string(),
        set: |c, v| {
            c.latency_monitor_threshold = int(v, 0, i64::MAX)? as u64;
            Ok(())
        },
    },
    Param {
        name: "latency-tracking",
        mutable: true,
        get: |c| yn(c.latency_tracking),
        set: |c, v| {
            c.latency_tracking = yes_no(v)?;
            Ok(())
        },
    },
    Param {
        name: "latency-tracking-info-percentiles",
        mutable: true,
        get: |c| {
            c.latency_tracking_info_percentiles
                .iter()
                .map(|p| p.to_string())
                .collect::<Vec<_>>()
                .join(" ")
        },
        set: |c, v| {
            let mut out = Vec::new();
            for w in v.iter().flat_map(|s| s.split_whitespace()) {
                let p: f64 = w
                    .parse()
                    .ok()
                    .filter(|p: &f64| p.is_finite())
                    .ok_or("Invalid latency-tracking-info-percentiles parameters")?;
                if !(0.0..=100.0).contains(&p) {
                    return Err("latency-tracking-info-percentiles parameters should sit between [0.0,100.0]".into());
                }
                out.push(p);
            }
            c.latency_tracking_info_percentiles = out;
            Ok(())
        },
    },
    Param {
        name: "enable-debug-command",
        mutable: false,
        get: |c| c.enable_debug_command.clone(),
        set: |c, v| {
            let l = one(v)?.to_ascii_lowercase();
            if !["no", "yes", "local"].contains(&l.as_str()) {
                return Err("argument(s) must be one of the following: no, yes, local".into());
            }
            c.enable_debug_command = l;
            Ok(())
        },
    },
    // --- memory and eviction ---
    Param {
        name: "maxmemory-samples",
        mutable: true,
        get: |c| c.maxmemory_samples.to_string(),
        set: |c, v| {
            c.maxmemory_samples = int(v, 1, 64)? as u32;
            Ok(())
        },
    },
    Param {
        name: "maxmemory-eviction-tenacity",
        mutable: true,
        get: |c| c.maxmemory_eviction_tenacity.to_string(),
        set: |c, v| {
            c.maxmemory_eviction_tenacity = int(v, 0, 100)? as u32;
            Ok(())
        },
    },
    Param {
        name: "lfu-log-factor",
        mutable: true,
        get: |c| c.lfu_log_factor.to_string(),
        set: |c, v| {
            c.lfu_log_factor = int(v, 0, i32::MAX as i64)? as u32;
            Ok(())
        },
    },
    Param {
        name: "lfu-decay-time",
        mutable: true,
        get: |c| c.lfu_decay_time.to_string(),
        set: |c, v| {
            c.lfu_decay_time = int(v, 0, i32::MAX as i64)? as u32;
            Ok(())
        },
    },
    Param {
        name: "lazyfree-lazy-eviction",
        mutable: true,
        get: |c| yn(c.lazyfree_lazy_eviction),
        set: |c, v| {
            c.lazyfree_lazy_eviction = yes_no(v)?;
            Ok(())
        },
    },
    Param {
        name: "lazyfree-lazy-expire",
        mutable: true,
        get: |c| yn(c.lazyfree_lazy_expire),
        set: |c, v| {
            c.lazyfree_lazy_expire = yes_no(v)?;
            Ok(())
        },
    },
    Param {
        name: "lazyfree-lazy-server-del",
        mutable: true,
        get: |c| yn(c.lazyfree_lazy_server_del),
        set: |c, v| {
            c.lazyfree_lazy_server_del = yes_no(v)?;
            Ok(())
        },
    },
    Param {
        name: "lazyfree-lazy-user-del",
        mutable: true,
        get: |c| yn(c.lazyfree_lazy_user_del),
        set: |c, v| {
            c.lazyfree_lazy_user_del = yes_no(v)?;
            Ok(())
        },
    },
    Param {
        name: "lazyfree-lazy-user-flush",
        mutable: true,
        get: |c| yn(c.lazyfree_lazy_user_flush),
        set: |c, v| {
            c.lazyfree_lazy_user_flush = yes_no(v)?;
            Ok(())
        },
    },
    // --- keyspace notifications ---
    Param {
        name: "notify-keyspace-events",
        mutable: true,
        get: |c| crate::storage::notify::flags_to_string(c.notify_keyspace_events),
        set: |c, v| {
            c.notify_keyspace_events = crate::storage::notify::parse_flags(one(v)?)
                .ok_or("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.")?;
            Ok(())
        },
    },
    // --- scripting ---
    Param {
        name: "busy-reply-threshold",
        mutable: true,
        get: |c| c.busy_reply_threshold.to_string(),
        set: |c, v| {
            c.busy_reply_threshold = int(v, 0, i64::MAX)? as u64;
            Ok(())
        },
    },
];

/// Older names Redis still accepts for a parameter.
/// CONFIG GET lists them too, with the same value.
pub const ALIASES: &[(&str, &str)] = &[
    ("list-max-ziplist-size", "list-max-listpack-size"),
    ("hash-max-ziplist-entries", "hash-max-listpack-entries"),
    ("hash-max-ziplist-value", "hash-max-listpack-value"),
    ("zset-max-ziplist-entries", "zset-max-listpack-entries"),
    ("zset-max-ziplist-value", "zset-max-listpack-value"),
    ("lua-time-limit", "busy-reply-threshold"),
];

pub fn param(name: &str) -> Option<&'static Param> {
    let name = ALIASES
        .iter()
        .find(|(old, _)| old.eq_ignore_ascii_case(name))
        .map_or(name, |(_, new)| new);
    PARAMS.iter().find(|p| p.name.eq_ignore_ascii_case(name))
}

/// Parses `client-output-buffer-limit <class> <hard> <soft> <seconds> [<class> ...]`.
fn output_limits(c: &mut Config, v: &[String]) -> Result<(), String> {
    let words: Vec<&str> = v.iter().flat_map(|s| s.split_whitespace()).collect();
    if words.is_empty() || !words.len().is_multiple_of(4) {
        return Err("Wrong number of arguments in buffer limit configuration.".into());
    }
    let mut next = c.client_output_buffer_limit.clone();
    for w in words.chunks(4) {
        let class = match w[0].to_ascii_lowercase().as_str() {
            "normal" => "normal",
            "slave" | "replica" => "slave",
            "pubsub" => "pubsub",
            _ => {
                return Err("Invalid client class specified in buffer limit configuration.".into())
            }
        };
        let hard = parse_memory(w[1]);
        let soft = parse_memory(w[2]);
        let secs = w[3].parse::<u64>().ok();
        let (Some(hard), Some(soft), Some(secs)) = (hard, soft, secs) else {
            return Err(
                "Error in hard, soft or soft_seconds setting in buffer limit configuration.".into(),
            );
        };
        for e in next.iter_mut().filter(|e| e.0 == class) {
            *e = (class.to_string(), hard, soft, secs);
        }
    }
    c.client_output_buffer_limit = next;
    Ok(())
}

impl Config {
    /// `client-output-buffer-limit pubsub` as (hard, soft, seconds).
    pub fn pubsub_limit(&self) -> (u64, u64, u64) {
        self.client_output_buffer_limit
            .iter()
            .find(|e| e.0 == "pubsub")
            .map_or((0, 0, 0), |e| (e.1, e.2, e.3))
    }

    /// Builds the configuration from redis-server style arguments:
    /// `[/path/to/redis.conf] [--name value ...]...`.
    pub fn from_args(args: &[String]) -> Result<Config, ConfigError> {
        let mut cfg = Config::default();
        let mut rest = args;
        if let Some(first) = rest.first() {
            if !first.starts_with("--") {
                let text = std::fs::read_to_string(first).map_err(|e| {
                    ConfigError(format!(
                        "Fatal error, can't open config file '{first}': {e}"
                    ))
                })?;
                cfg.apply_text(&text, first)?;
                cfg.config_file = Some(
                    std::fs::canonicalize(first)
                        .map(|p| p.display().to_string())
                        .unwrap_or_else(|_| first.clone()),
                );
                rest = &rest[1..];
            }
        }
        let mut i = 0;
        while i < rest.len() {
            let Some(name) = rest[i].strip_prefix("--") else {
                return Err(ConfigError(format!("Invalid argument '{}'", rest[i])));
            };
            let mut vals = Vec::new();
            i += 1;
            while i < rest.len() && !rest[i].starts_with("--") {
                vals.push(rest[i].clone());
                i += 1;
            }
            cfg.apply(name, &vals)
                .map_err(|e| ConfigError(format!(">>> '{name} {}'\n{e}", vals.join(" "))))?;
        }
        Ok(cfg)
    }

    /// Applies a whole config file's text, with Redis's style of error (file, line, directive, reason).
    pub fn apply_text(&mut self, text: &str, file: &str) -> Result<(), ConfigError> {
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let words = crate::protocol::decode::split_args(line.as_bytes()).ok_or_else(|| {
                ConfigError(format!("*** FATAL CONFIG FILE ERROR ***\nin {file} at line {}\n>>> '{line}'\nUnbalanced quotes in configuration line", n + 1))
            })?;
            let words: Vec<String> = words
                .into_iter()
                .map(|w| String::from_utf8_lossy(&w).into_owned())
                .collect();
            let Some((name, vals)) = words.split_first() else {
                continue;
            };
            let res = if name.eq_ignore_ascii_case("include") {
                match vals {
                    [path] => std::fs::read_to_string(path)
                        .map_err(|e| format!("can't open included file '{path}': {e}"))
                        .and_then(|t| self.apply_text(&t, path).map_err(|e| e.0)),
                    _ => Err("wrong number of arguments".into()),
                }
            } else {
                self.apply(name, vals)
            };
            res.map_err(|e| {
                ConfigError(format!(
                    "*** FATAL CONFIG FILE ERROR ***\nin {file} at line {}\n>>> '{line}'\n{e}",
                    n + 1
                ))
            })?;
        }
        Ok(())
    }

    /// Sets one parameter by name.
    pub fn apply(&mut self, name: &str, vals: &[String]) -> Result<(), String> {
        let p =
            param(name).ok_or_else(|| "Bad directive or wrong number of arguments".to_string())?;
        (p.set)(self, vals)
    }
}
