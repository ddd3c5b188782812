//! maxmemory and the eviction policies, against the real binary in its own process so `used_memory`
//! is this server's alone.

mod common;

use common::{info_field, int, ok, Process};
use redis::Connection;

const OOM: &str = "OOM command not allowed when used memory > 'maxmemory'.";

fn used(con: &mut Connection) -> u64 {
    info_field(con, "memory", "used_memory")
        .parse()
        .expect("number")
}

fn evicted(con: &mut Connection) -> u64 {
    info_field(con, "stats", "evicted_keys")
        .parse()
        .expect("number")
}

/// Writes `n` keys `prefix:i` with `size`-byte values (and a TTL when `ttl` is set), pipelined.
fn fill(con: &mut Connection, prefix: &str, n: usize, size: usize, ttl: Option<u64>) {
    let value = "x".repeat(size);
    for chunk in (0..n).collect::<Vec<_>>().chunks(500) {
        let mut p = redis::pipe();
        for i in chunk {
            let c = p.cmd("SET").arg(format!("{prefix}:{i}")).arg(&value);
            if let Some(t) = ttl {
                c.arg("EX").arg(t + *i as u64);
            }
            c.ignore();
        }
        p.query::<()>(con).expect("fill");
    }
}

fn exists(con: &mut Connection, key: &str) -> bool {
    int(con, &["EXISTS", key]) == 1
}

/// Sets maxmemory to the current usage plus `headroom` bytes.
fn limit_at_current_plus(con: &mut Connection, headroom: u64) -> u64 {
    let limit = used(con) + headroom;
    ok(con, &["CONFIG", "SET", "maxmemory", &limit.to_string()]);
    limit
}

#[test]
fn noeviction_refuses_writes_but_serves_reads_and_deletes() {
    let p = Process::start(&["--maxmemory-policy", "noeviction"]);
    let mut con = p.conn();
    let mut admin = p.conn();
    fill(&mut con, "k", 1000, 100, None);
    // A transaction queued before the limit, executed after it.
    ok(&mut con, &["MULTI"]);
    assert_eq!(
        common::cmd(&mut con, &["SET", "queued", "v"]),
        redis::Value::SimpleString("QUEUED".into())
    );
    ok(&mut admin, &["CONFIG", "SET", "maxmemory", "1"]);
    assert_eq!(
        common::err(&mut con, &["EXEC"]),
        format!("EXECABORT Transaction discarded because of: {OOM}")
    );
    assert_eq!(common::err(&mut con, &["SET", "new", "v"]), OOM);
    assert_eq!(common::err(&mut con, &["LPUSH", "l", "v"]), OOM);
    assert_eq!(
        common::bulk(&mut con, &["GET", "k:1"]).as_deref(),
        Some(&*"x".repeat(100))
    );
    assert_eq!(int(&mut con, &["DEL", "k:1"]), 1);
    // Inside MULTI every command is refused while out of memory, and EXEC then aborts.
    ok(&mut con, &["MULTI"]);
    assert_eq!(common::err(&mut con, &["GET", "k:2"]), OOM);
    assert_eq!(
        common::err(&mut con, &["EXEC"]),
        "EXECABORT Transaction discarded because of previous errors."
    );
    // A script that has not written yet may not grow memory; a read-only one runs.
    let e = common::err(&mut con, &["EVAL", "return redis.call('set','a','b')", "0"]);
    assert!(e.starts_with(OOM), "{e}");
    assert_eq!(
        common::bulk(&mut con, &["EVAL", "return redis.call('get','k:2')", "0"]).as_deref(),
        Some(&*"x".repeat(100))
    );
    assert_eq!(evicted(&mut con), 0);
    // Back under the limit, writes work again.
    ok(&mut admin, &["CONFIG", "SET", "maxmemory", "0"]);
    ok(&mut con, &["SET", "new", "v"]);
}

#[test]
fn allkeys_lru_keeps_recently_read_keys() {
    let p = Process::start(&[
        "--maxmemory-policy",
        "allkeys-lru",
        "--maxmemory-samples",
        "10",
    ]);
    let mut con = p.conn();
    fill(&mut con, "cold", 3000, 200, None);
    fill(&mut con, "hot", 200, 200, None);
    // LRU stamps have one-second resolution: let every key age, then read the hot ones.
    std::thread::sleep(std::time::Duration::from_millis(2100));
    for i in 0..200 {
        common::bulk(&mut con, &["GET", &format!("hot:{i}")]);
    }
    let limit = limit_at_current_plus(&mut con, 0);
    // New keys force out roughly a quarter of the cold ones.
    fill(&mut con, "new", 800, 200, None);
    assert!(evicted(&mut con) >= 500, "evicted {}", evicted(&mut con));
    assert!(
        used(&mut con) <= limit + limit / 50,
        "{} > {limit}",
        used(&mut con)
    );
    let hot_kept = (0..200)
        .filter(|i| exists(&mut con, &format!("hot:{i}")))
        .count();
    assert_eq!(hot_kept, 200, "recently read keys were evicted");
    let cold_kept = (0..3000)
        .filter(|i| exists(&mut con, &format!("cold:{i}")))
        .count();
    assert!(cold_kept < 3000 - 400, "cold keys kept: {cold_kept}");
}

#[test]
fn volatile_policies_never_touch_keys_without_ttl() {
    for policy in [
        "volatile-lru",
        "volatile-lfu",
        "volatile-random",
        "volatile-ttl",
    ] {
        let p = Process::start(&["--maxmemory-policy", policy]);
        let mut con = p.conn();
        fill(&mut con, "keep", 500, 200, None);
        fill(&mut con, "vol", 1000, 200, Some(10_000));
        limit_at_current_plus(&mut con, 0);
        fill(&mut con, "more", 300, 200, Some(10_000));
        assert!(evicted(&mut con) > 0, "{policy}: nothing evicted");
        let kept = (0..500)
            .filter(|i| exists(&mut con, &format!("keep:{i}")))
            .count();
        assert_eq!(kept, 500, "{policy} evicted a key without TTL");
        // Once no key has a TTL left, writes are refused.
        common::run(&mut con, &["FLUSHALL"]).ok();
        ok(&mut con, &["CONFIG", "SET", "maxmemory", "0"]);
        fill(&mut con, "keep", 2000, 200, None);
        ok(&mut con, &["CONFIG", "SET", "maxmemory", "1"]);
        assert_eq!(common::err(&mut con, &["SET", "x", "y"]), OOM, "{policy}");
    }
}

#[test]
fn volatile_ttl_evicts_the_nearest_expiry_first() {
    let p = Process::start(&[
        "--maxmemory-policy",
        "volatile-ttl",
        "--maxmemory-samples",
        "10",
    ]);
    let mut con = p.conn();
    // vol:i expires in 10000 + i seconds: low i is evicted first.
    fill(&mut con, "vol", 2000, 200, Some(10_000));
    limit_at_current_plus(&mut con, 0);
    fill(&mut con, "late", 400, 200, Some(1_000_000));
    let gone: Vec<usize> = (0..2000)
        .filter(|i| !exists(&mut con, &format!("vol:{i}")))
        .collect();
    assert!(gone.len() >= 300, "evicted {}", gone.len());
    let mean = gone.iter().sum::<usize>() as f64 / gone.len() as f64;
    assert!(
        mean < 700.0,
        "evicted keys are not the soonest to expire: mean index {mean}"
    );
    let late_kept = (0..400)
        .filter(|i| exists(&mut con, &format!("late:{i}")))
        .count();
    assert_eq!(late_kept, 400);
}

#[test]
fn allkeys_lfu_keeps_frequently_used_keys_and_counts_frequency() {
    let p = Process::start(&[
        "--maxmemory-policy",
        "allkeys-lfu",
        "--maxmemory-samples",
        "10",
    ]);
    let mut con = p.conn();
    fill(&mut con, "rare", 3000, 200, None);
    fill(&mut con, "hot", 100, 200, None);
    assert_eq!(int(&mut con, &["OBJECT", "FREQ", "rare:1"]), 5);
    for _ in 0..50 {
        let mut pipe = redis::pipe();
        for i in 0..100 {
            pipe.cmd("GET").arg(format!("hot:{i}")).ignore();
        }
        pipe.query::<()>(&mut con).expect("reads");
    }
    assert!(int(&mut con, &["OBJECT", "FREQ", "hot:1"]) > 5);
    assert_eq!(
        common::err(&mut con, &["OBJECT", "IDLETIME", "hot:1"]),
        "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."
    );
    limit_at_current_plus(&mut con, 0);
    fill(&mut con, "new", 800, 200, None);
    let n = evicted(&mut con);
    assert!(n >= 500, "evicted {n}");
    let hot_kept = (0..100)
        .filter(|i| exists(&mut con, &format!("hot:{i}")))
        .count();
    assert_eq!(hot_kept, 100, "frequently used keys were evicted");
}

#[test]
fn allkeys_random_evicts_from_every_database() {
    let p = Process::start(&["--maxmemory-policy", "allkeys-random"]);
    let mut con = p.conn();
    fill(&mut con, "a", 1000, 200, None);
    ok(&mut con, &["SELECT", "3"]);
    fill(&mut con, "b", 1000, 200, None);
    let limit = limit_at_current_plus(&mut con, 0);
    fill(&mut con, "c", 1000, 200, None);
    let db3 = int(&mut con, &["DBSIZE"]);
    ok(&mut con, &["SELECT", "0"]);
    let db0 = int(&mut con, &["DBSIZE"]);
    assert!(db0 < 1000 && db3 < 2000, "db0 {db0} db3 {db3}");
    assert!(used(&mut con) <= limit + limit / 50);
}

#[test]
fn a_flooding_writer_never_drives_memory_far_past_the_limit() {
    let p = Process::start(&["--maxmemory-policy", "allkeys-lru", "--maxmemory", "8mb"]);
    let mut con = p.conn();
    let limit = 8 * 1024 * 1024u64;
    let value = "v".repeat(1000);
    let mut peak = 0;
    for round in 0..40 {
        let mut pipe = redis::pipe();
        for i in 0..1000 {
            pipe.cmd("SET")
                .arg(format!("flood:{round}:{i}"))
                .arg(&value)
                .ignore();
        }
        pipe.query::<()>(&mut con).expect("flood");
        peak = peak.max(used(&mut con));
    }
    assert!(evicted(&mut con) > 20_000);
    // Allow for the allocator's own slack and the request buffers of one pipeline.
    assert!(
        peak < limit + 2 * 1024 * 1024,
        "peak {peak} over limit {limit}"
    );
    assert_eq!(
        info_field(&mut con, "memory", "maxmemory_policy"),
        "allkeys-lru"
    );
}

#[test]
fn evictions_publish_evicted_events() {
    let p = Process::start(&[
        "--maxmemory-policy",
        "allkeys-random",
        "--notify-keyspace-events",
        "Ee",
    ]);
    let mut con = p.conn();
    let mut sub = p.conn();
    let mut pubsub = sub.as_pubsub();
    pubsub
        .subscribe("__keyevent@0__:evicted")
        .expect("subscribe");
    pubsub
        .set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .expect("timeout");
    fill(&mut con, "k", 1000, 200, None);
    limit_at_current_plus(&mut con, 0);
    // One command at a time, so events reach the subscriber as they come (a pipeline's events wait
    // in memory until it is done, and count against the limit). Enough of them to move the
    // allocator's figure past the limit: threads publish their balance in 16 KB steps.
    for i in 0..400 {
        ok(&mut con, &["SET", &format!("more:{i}"), &"x".repeat(200)]);
    }
    let msg = pubsub.get_message().expect("an evicted event");
    let key: String = msg.get_payload().expect("payload");
    assert!(key.starts_with("k:") || key.starts_with("more:"), "{key}");
    assert_eq!(msg.get_channel_name(), "__keyevent@0__:evicted");
}

#[test]
fn running_out_of_keys_to_evict_is_an_oom() {
    let p = Process::start(&["--maxmemory-policy", "allkeys-lru"]);
    let mut con = p.conn();
    fill(&mut con, "k", 100, 100, None);
    ok(&mut con, &["CONFIG", "SET", "maxmemory", "1"]);
    // Every key goes, and memory is still over the limit: the write is refused, as in Redis.
    assert_eq!(common::err(&mut con, &["SET", "x", "y"]), OOM);
    assert_eq!(int(&mut con, &["DBSIZE"]), 0);
    assert_eq!(evicted(&mut con), 100);
}
