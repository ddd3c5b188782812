//! MEMORY USAGE/STATS/DOCTOR/PURGE/MALLOC-STATS/HELP, INFO memory, lazy freeing, against the real
//! binary in its own process so the memory figures are this server's alone.

mod common;

use common::{cmd, err, info_field, int, ok, Process};
use redis::Value;

fn usage(con: &mut redis::Connection, args: &[&str]) -> i64 {
    let mut full = vec!["MEMORY", "USAGE"];
    full.extend_from_slice(args);
    int(con, &full)
}

#[test]
fn memory_usage_grows_with_the_value_and_checks_its_arguments() {
    let p = Process::start(&[]);
    let mut con = p.conn();
    ok(&mut con, &["SET", "small", "v"]);
    ok(&mut con, &["SET", "big", &"x".repeat(10_000)]);
    let small = usage(&mut con, &["small"]);
    let big = usage(&mut con, &["big"]);
    assert!(small > 0 && small < 200, "small {small}");
    assert!((10_000..11_000).contains(&big), "big {big}");
    assert_eq!(cmd(&mut con, &["MEMORY", "USAGE", "missing"]), Value::Nil);
    // A collection, sampled or counted in full.
    for i in 0..1000 {
        int(
            &mut con,
            &["SADD", "set", &format!("member-with-a-long-name-{i:08}")],
        );
    }
    let sampled = usage(&mut con, &["set"]);
    let full = usage(&mut con, &["set", "SAMPLES", "0"]);
    assert!(full > 1000 * 30, "full {full}");
    assert!(
        (sampled - full).abs() < full / 5,
        "sampled {sampled} full {full}"
    );
    assert_eq!(
        err(&mut con, &["MEMORY", "USAGE", "set", "SAMPLES", "-1"]),
        "ERR syntax error"
    );
    assert_eq!(
        err(&mut con, &["MEMORY", "USAGE", "set", "SAMPLES", "x"]),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(
        err(&mut con, &["MEMORY", "USAGE", "set", "SAMPLES"]),
        "ERR syntax error"
    );
    assert_eq!(
        err(&mut con, &["MEMORY", "USAGE", "set", "BOGUS", "1"]),
        "ERR syntax error"
    );
    assert_eq!(
        err(&mut con, &["MEMORY", "USAGE"]),
        "ERR wrong number of arguments for 'memory|usage' command"
    );
}

#[test]
fn memory_stats_doctor_purge_malloc_stats_and_help() {
    let p = Process::start(&[]);
    let mut con = p.conn();
    // A small instance: the doctor declines, as Redis's does under 5 MB.
    let report: String = redis::cmd("MEMORY").arg("DOCTOR").query(&mut con).unwrap();
    assert!(
        report.starts_with("Hi Sam, this instance is empty"),
        "{report}"
    );
    for i in 0..100 {
        ok(&mut con, &["SET", &format!("k{i}"), "v"]);
    }
    ok(&mut con, &["SELECT", "2"]);
    ok(&mut con, &["SET", "other", "v"]);
    let Value::Array(items) = cmd(&mut con, &["MEMORY", "STATS"]) else {
        panic!("MEMORY STATS is not an array in RESP2")
    };
    let names: Vec<String> = items
        .iter()
        .step_by(2)
        .map(|v| match v {
            Value::BulkString(b) => String::from_utf8_lossy(b).into_owned(),
            other => panic!("{other:?}"),
        })
        .collect();
    let expected_head = [
        "peak.allocated",
        "total.allocated",
        "startup.allocated",
        "replication.backlog",
        "clients.slaves",
        "clients.normal",
        "cluster.links",
        "aof.buffer",
        "lua.caches",
        "functions.caches",
        "db.0",
        "db.2",
        "overhead.total",
        "keys.count",
    ];
    assert_eq!(&names[..expected_head.len()], &expected_head);
    assert_eq!(
        names.last().map(String::as_str),
        Some("fragmentation.bytes")
    );
    assert_eq!(items[27], Value::Int(101), "keys.count");
    assert_eq!(cmd(&mut con, &["MEMORY", "PURGE"]), Value::Okay);
    let malloc = ["MEMORY", "MALLOC-STATS"];
    let stats: String = redis::cmd(malloc[0])
        .arg(malloc[1])
        .query(&mut con)
        .unwrap();
    assert!(
        stats.contains("jemalloc statistics"),
        "{}",
        &stats[..stats.len().min(200)]
    );
    let Value::Array(help) = cmd(&mut con, &["MEMORY", "HELP"]) else {
        panic!("help")
    };
    assert_eq!(help.len(), 14);
    assert_eq!(
        err(&mut con, &["MEMORY", "NOPE"]),
        "ERR unknown subcommand 'NOPE'. Try MEMORY HELP."
    );
}

#[test]
fn info_memory_reports_real_figures() {
    let p = Process::start(&["--maxmemory", "100mb", "--maxmemory-policy", "allkeys-lru"]);
    let mut con = p.conn();
    let field = |con: &mut redis::Connection, f: &str| info_field(con, "memory", f);
    let before: u64 = field(&mut con, "used_memory").parse().unwrap();
    let value = "x".repeat(100);
    let mut pipe = redis::pipe();
    for i in 0..20_000 {
        pipe.cmd("SET").arg(format!("key:{i}")).arg(&value).ignore();
    }
    pipe.query::<()>(&mut con).unwrap();
    let after: u64 = field(&mut con, "used_memory").parse().unwrap();
    // 20,000 keys of 100-byte values: at least their payload, and not wildly more.
    assert!(after > before + 20_000 * 100, "{before} -> {after}");
    assert!(after < before + 20_000 * 400, "{before} -> {after}");
    assert_eq!(field(&mut con, "maxmemory"), (100u64 << 20).to_string());
    assert_eq!(field(&mut con, "maxmemory_human"), "100.00M");
    assert_eq!(field(&mut con, "maxmemory_policy"), "allkeys-lru");
    assert_eq!(field(&mut con, "mem_allocator"), "jemalloc-5.3.0");
    let peak: u64 = field(&mut con, "used_memory_peak").parse().unwrap();
    assert!(peak >= after);
    let rss: u64 = field(&mut con, "used_memory_rss").parse().unwrap();
    assert!(rss > after / 2);
    let dataset: u64 = field(&mut con, "used_memory_dataset").parse().unwrap();
    assert!(dataset > 20_000 * 100, "dataset {dataset}");
}

#[test]
fn unlink_and_flushall_async_free_big_values_in_the_background() {
    let p = Process::start(&[]);
    let mut con = p.conn();
    let freed = |con: &mut redis::Connection| -> u64 {
        info_field(con, "memory", "lazyfreed_objects")
            .parse()
            .unwrap()
    };
    let members: Vec<String> = (0..5000).map(|i| format!("m{i}")).collect();
    let mut sadd = vec!["SADD", "bigset"];
    sadd.extend(members.iter().map(String::as_str));
    assert_eq!(int(&mut con, &sadd), 5000);
    ok(&mut con, &["SET", "small", "v"]);
    assert_eq!(int(&mut con, &["UNLINK", "bigset", "small", "missing"]), 2);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while freed(&mut con) < 1 {
        assert!(
            std::time::Instant::now() < deadline,
            "UNLINK did not free in the background"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert_eq!(freed(&mut con), 1, "the small value is freed inline");
    for i in 0..300 {
        ok(&mut con, &["SET", &format!("k{i}"), "v"]);
    }
    ok(&mut con, &["FLUSHALL", "ASYNC"]);
    assert_eq!(int(&mut con, &["DBSIZE"]), 0);
    while freed(&mut con) < 301 {
        assert!(
            std::time::Instant::now() < deadline,
            "FLUSHALL ASYNC did not free"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert_eq!(
        info_field(&mut con, "memory", "lazyfree_pending_objects"),
        "0"
    );
    // DEL frees lazily only when lazyfree-lazy-user-del says so.
    ok(
        &mut con,
        &["CONFIG", "SET", "lazyfree-lazy-user-del", "yes"],
    );
    assert_eq!(int(&mut con, &sadd), 5000);
    assert_eq!(int(&mut con, &["DEL", "bigset"]), 1);
    while freed(&mut con) < 302 {
        assert!(
            std::time::Instant::now() < deadline,
            "lazy DEL did not free"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert_eq!(
        cmd(&mut con, &["CONFIG", "GET", "lazyfree-lazy-user-del"]),
        Value::Array(vec![
            Value::BulkString(b"lazyfree-lazy-user-del".to_vec()),
            Value::BulkString(b"yes".to_vec())
        ])
    );
}
