//! MULTI/EXEC/DISCARD/WATCH/UNWATCH through real clients, WATCH races between connections, and a
//! differential test of transaction sequences against a real redis-server.

mod common;

use std::time::Duration;

use common::{err, TestServer};
use redis::{Commands, Value};

fn ok(v: &str) -> Value {
    Value::SimpleString(v.into())
}

#[test]
fn queue_and_exec() {
    let srv = TestServer::start();
    let mut raw = srv.raw();
    raw.roundtrip(b"MULTI\r\n", b"+OK\r\n");
    raw.roundtrip(
        b"SET a 1\r\nINCR a\r\nLPUSH a x\r\nGET a\r\n",
        b"+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n",
    );
    raw.roundtrip(
        b"EXEC\r\n",
        b"*4\r\n+OK\r\n:2\r\n-WRONGTYPE Operation against a key holding the wrong kind of value\r\n$1\r\n2\r\n",
    );
    raw.roundtrip(b"EXEC\r\n", b"-ERR EXEC without MULTI\r\n");
    raw.roundtrip(b"DISCARD\r\n", b"-ERR DISCARD without MULTI\r\n");
    raw.roundtrip(
        b"MULTI\r\nMULTI\r\n",
        b"+OK\r\n-ERR MULTI calls can not be nested\r\n",
    );
    raw.roundtrip(
        b"WATCH a\r\n",
        b"-ERR WATCH inside MULTI is not allowed\r\n",
    );
    raw.roundtrip(
        b"SET b 1\r\nDISCARD\r\nGET b\r\n",
        b"+QUEUED\r\n+OK\r\n$-1\r\n",
    );
    // An empty transaction.
    raw.roundtrip(b"MULTI\r\nEXEC\r\n", b"+OK\r\n*0\r\n");
}

#[test]
fn queue_time_errors_abort_exec() {
    let srv = TestServer::start();
    let mut raw = srv.raw();
    raw.roundtrip(
        b"MULTI\r\nSET a 1\r\nNOSUCH\r\nSET a\r\nEXEC\r\n",
        b"+OK\r\n+QUEUED\r\n-ERR unknown command 'NOSUCH', with args beginning with: \r\n-ERR wrong number of arguments for 'set' command\r\n-EXECABORT Transaction discarded because of previous errors.\r\n",
    );
    raw.roundtrip(b"GET a\r\n", b"$-1\r\n");
}

#[test]
fn blocking_commands_inside_multi_do_not_block() {
    let srv = TestServer::start();
    let mut raw = srv.raw();
    raw.roundtrip(
        b"MULTI\r\nBLPOP q 0\r\nRPUSH q x\r\nBLPOP q 0\r\nEXEC\r\n",
        b"+OK\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n*3\r\n*-1\r\n:1\r\n*2\r\n$1\r\nq\r\n$1\r\nx\r\n",
    );
}

#[test]
fn keyspace_wide_commands_work_inside_exec() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    let _: () = con.set("k1", 1).unwrap();
    let _: () = redis::cmd("MULTI").query(&mut con).unwrap();
    for c in [
        &["KEYS", "*"][..],
        &["DBSIZE"],
        &["SCAN", "0"],
        &["RANDOMKEY"],
        &["SWAPDB", "0", "1"],
        &["FLUSHALL"],
    ] {
        let r: Value = common::run(&mut con, c).unwrap();
        assert_eq!(r, ok("QUEUED"));
    }
    let Value::Array(replies) = common::run(&mut con, &["EXEC"]).unwrap() else {
        panic!("EXEC reply")
    };
    assert_eq!(replies.len(), 6);
    assert_eq!(
        replies[0],
        Value::Array(vec![Value::BulkString(b"k1".to_vec())])
    );
    assert_eq!(replies[1], Value::Int(1));
    assert_eq!(replies[3], Value::BulkString(b"k1".to_vec()));
    let n: i64 = redis::cmd("DBSIZE").query(&mut con).unwrap();
    assert_eq!(n, 0);
}

#[test]
fn watch_aborts_only_when_a_watched_key_changes() {
    let srv = TestServer::start();
    let mut a = srv.conn();
    let mut b = srv.conn();
    let _: () = a.set("balance", 10).unwrap();

    // Untouched: EXEC runs.
    let _: () = redis::cmd("WATCH").arg("balance").query(&mut a).unwrap();
    let _: () = b.set("other", 1).unwrap();
    let _: () = redis::cmd("MULTI").query(&mut a).unwrap();
    let _: Value = redis::cmd("INCRBY")
        .arg("balance")
        .arg(5)
        .query(&mut a)
        .unwrap();
    let r: Value = redis::cmd("EXEC").query(&mut a).unwrap();
    assert_eq!(r, Value::Array(vec![Value::Int(15)]));

    // Touched by another client between WATCH and EXEC: nil, nothing applied.
    let _: () = redis::cmd("WATCH").arg("balance").query(&mut a).unwrap();
    let _: i64 = b.incr("balance", 1).unwrap();
    let _: () = redis::cmd("MULTI").query(&mut a).unwrap();
    let _: Value = redis::cmd("INCRBY")
        .arg("balance")
        .arg(100)
        .query(&mut a)
        .unwrap();
    let r: Value = redis::cmd("EXEC").query(&mut a).unwrap();
    assert_eq!(r, Value::Nil);
    assert_eq!(a.get::<_, i64>("balance").unwrap(), 16);

    // EXEC forgot the watch: the next transaction runs.
    let _: i64 = b.incr("balance", 1).unwrap();
    let _: () = redis::cmd("MULTI").query(&mut a).unwrap();
    let _: Value = redis::cmd("GET").arg("balance").query(&mut a).unwrap();
    let r: Value = redis::cmd("EXEC").query(&mut a).unwrap();
    assert_eq!(r, Value::Array(vec![Value::BulkString(b"17".to_vec())]));

    // UNWATCH forgets too.
    let _: () = redis::cmd("WATCH").arg("balance").query(&mut a).unwrap();
    let _: () = redis::cmd("UNWATCH").query(&mut a).unwrap();
    let _: i64 = b.incr("balance", 1).unwrap();
    let _: () = redis::cmd("MULTI").query(&mut a).unwrap();
    let r: Value = redis::cmd("EXEC").query(&mut a).unwrap();
    assert_eq!(r, Value::Array(vec![]));
}

#[test]
fn watch_sees_deletes_flushes_expiry_and_other_databases() {
    let srv = TestServer::start();
    let mut a = srv.conn();
    let mut b = srv.conn();
    let exec_after = |a: &mut redis::Connection, change: &mut dyn FnMut()| -> Value {
        let _: () = redis::cmd("WATCH").arg("k").query(a).unwrap();
        change();
        let _: () = redis::cmd("MULTI").query(a).unwrap();
        let _: Value = redis::cmd("PING").query(a).unwrap();
        redis::cmd("EXEC").query(a).unwrap()
    };
    let _: () = a.set("k", 1).unwrap();
    assert_eq!(
        exec_after(&mut a, &mut || {
            b.del::<_, i64>("k").unwrap();
        }),
        Value::Nil
    );
    let _: () = a.set("k", 1).unwrap();
    assert_eq!(
        exec_after(&mut a, &mut || drop(
            redis::cmd("FLUSHALL").query::<()>(&mut b)
        )),
        Value::Nil
    );
    let _: () = a.set("k", 1).unwrap();
    assert_eq!(
        exec_after(&mut a, &mut || {
            b.expire::<_, i64>("k", 100).unwrap();
        }),
        Value::Nil
    );
    // A key that expires while watched makes EXEC fail even if nobody reads it.
    let _: () = redis::cmd("SET")
        .arg("k")
        .arg(1)
        .arg("PX")
        .arg(50)
        .query(&mut a)
        .unwrap();
    assert_eq!(
        exec_after(&mut a, &mut || std::thread::sleep(Duration::from_millis(
            150
        ))),
        Value::Nil
    );
    // The same key name in another database is a different key.
    let _: () = a.set("k", 1).unwrap();
    let _: () = redis::cmd("SELECT").arg(1).query(&mut b).unwrap();
    assert_eq!(
        exec_after(&mut a, &mut || b.set::<_, _, ()>("k", 2).unwrap()),
        Value::Array(vec![ok("PONG")])
    );
    // Other keys are not watched.
    assert_eq!(
        exec_after(&mut a, &mut || b.set::<_, _, ()>("x", 1).unwrap()),
        Value::Array(vec![ok("PONG")])
    );
    // A missing key that gets created counts as a change.
    let _: () = redis::cmd("SELECT").arg(0).query(&mut b).unwrap();
    let _: i64 = a.del("k").unwrap();
    assert_eq!(
        exec_after(&mut a, &mut || b.set::<_, _, ()>("k", 1).unwrap()),
        Value::Nil
    );
}

/// EXEC of keyed commands locks only their shards; one keyless or keyspace-wide request (or a
/// script) makes it lock every shard. Mixed transactions from several threads must neither deadlock
/// nor interleave.
#[test]
fn transactions_mixing_keyed_and_keyspace_wide_requests_run_side_by_side() {
    let srv = TestServer::with_config(|c| c.io_threads = 4);
    let workers: Vec<_> = (0..4)
        .map(|t| {
            let client = srv.client();
            std::thread::spawn(move || {
                let mut c = client.get_connection().unwrap();
                for i in 0..100 {
                    let mut p = redis::pipe();
                    p.atomic().incr(format!("a{t}"), 1).incr("shared", 1);
                    match (t + i) % 4 {
                        0 => p.cmd("DBSIZE"),
                        1 => p
                            .cmd("EVAL")
                            .arg("return redis.call('incr', 'other')")
                            .arg(0),
                        2 => p.cmd("SORT").arg("l").arg("BY").arg("nosort"),
                        _ => p.set(format!("b{t}"), i),
                    };
                    let _: Value = p.query(&mut c).unwrap();
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    let mut con = srv.conn();
    let shared: i64 = con.get("shared").unwrap();
    let other: i64 = con.get("other").unwrap();
    assert_eq!((shared, other), (400, 100));
    for t in 0..4 {
        let a: i64 = con.get(format!("a{t}")).unwrap();
        assert_eq!(a, 100);
    }
}

#[test]
fn exec_is_atomic_across_clients() {
    // Many clients move value between two keys in transactions; a reader never sees the total change.
    // Four I/O threads, so transactions really run side by side (EXEC locks only its keys' shards).
    let srv = TestServer::with_config(|c| c.io_threads = 4);
    let mut con = srv.conn();
    let _: () = con.set("x", 1000).unwrap();
    let _: () = con.set("y", 0).unwrap();
    let writers: Vec<_> = (0..4)
        .map(|_| {
            let client = srv.client();
            std::thread::spawn(move || {
                let mut c = client.get_connection().unwrap();
                for _ in 0..200 {
                    let _: Value = redis::pipe()
                        .atomic()
                        .decr("x", 1)
                        .incr("y", 1)
                        .query(&mut c)
                        .unwrap();
                }
            })
        })
        .collect();
    for _ in 0..300 {
        let (x, y): (i64, i64) = redis::pipe()
            .atomic()
            .get("x")
            .get("y")
            .query(&mut con)
            .unwrap();
        assert_eq!(x + y, 1000);
        let (x, y): (i64, i64) = redis::cmd("MGET")
            .arg("x")
            .arg("y")
            .query(&mut con)
            .unwrap();
        assert_eq!(x + y, 1000);
    }
    for w in writers {
        w.join().unwrap();
    }
    let (x, y): (i64, i64) = redis::cmd("MGET")
        .arg("x")
        .arg("y")
        .query(&mut con)
        .unwrap();
    assert_eq!((x, y), (200, 800));
}

#[test]
fn optimistic_lock_retry_loop() {
    // The classic WATCH/GET/MULTI/SET/EXEC loop from several clients never loses an increment.
    let srv = TestServer::start();
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let client = srv.client();
            std::thread::spawn(move || {
                let mut c = client.get_connection().unwrap();
                for _ in 0..50 {
                    loop {
                        let _: () = redis::cmd("WATCH").arg("counter").query(&mut c).unwrap();
                        let v: Option<i64> = c.get("counter").unwrap();
                        let _: () = redis::cmd("MULTI").query(&mut c).unwrap();
                        let _: Value = redis::cmd("SET")
                            .arg("counter")
                            .arg(v.unwrap_or(0) + 1)
                            .query(&mut c)
                            .unwrap();
                        let r: Value = redis::cmd("EXEC").query(&mut c).unwrap();
                        if r != Value::Nil {
                            break;
                        }
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let mut con = srv.conn();
    assert_eq!(con.get::<_, i64>("counter").unwrap(), 200);
}

#[test]
fn reset_and_disconnect_forget_transactions() {
    let srv = TestServer::start();
    let mut raw = srv.raw();
    raw.roundtrip(
        b"WATCH k\r\nMULTI\r\nSET k 1\r\nRESET\r\nEXEC\r\n",
        b"+OK\r\n+OK\r\n+QUEUED\r\n+RESET\r\n-ERR EXEC without MULTI\r\n",
    );
    let mut con = srv.conn();
    assert_eq!(
        err(&mut con, &["UNWATCH", "x"]),
        "ERR wrong number of arguments for 'unwatch' command"
    );
    assert_eq!(
        err(&mut con, &["WATCH"]),
        "ERR wrong number of arguments for 'watch' command"
    );
    {
        let mut gone = srv.raw();
        gone.roundtrip(b"WATCH a b c\r\n", b"+OK\r\n");
    }
    // The disconnected client's watches are dropped.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while srv.server.keyspace.watches.registrations() > 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "watches of a closed connection were kept"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let _: () = con.set("a", 1).unwrap();
}

#[test]
fn transactions_match_redis() {
    let Some(redis) = common::diff::start_redis() else {
        return;
    };
    let srv = TestServer::start();
    let script: &[&[&str]] = &[
        &["FLUSHALL"],
        &["MULTI"],
        &["SET", "a", "1"],
        &["INCR", "a"],
        &["LPUSH", "a", "x"],
        &["RPUSH", "l", "1", "2"],
        &["LPOP", "l"],
        &["EXEC"],
        &["MULTI"],
        &["GET", "a"],
        &["SET", "a"],
        &["EXEC"],
        &["WATCH", "a"],
        &["SET", "a", "3"],
        &["MULTI"],
        &["GET", "a"],
        &["EXEC"],
        &["MULTI"],
        &["DISCARD"],
        &["EXEC"],
        &["DISCARD"],
        &["MULTI"],
        &["SELECT", "2"],
        &["SET", "a", "db2"],
        &["EXEC"],
        &["GET", "a"],
        &["SELECT", "0"],
        &["MULTI"],
        &["MULTI"],
        &["WATCH", "x"],
        &["EXEC"],
    ];
    let cmds = script
        .iter()
        .map(|c| c.iter().map(|s| s.as_bytes().to_vec()).collect());
    common::diff::compare_all(redis.port, srv.port, "transactions", cmds);
}

/// INFO, MEMORY STATS and CONFIG RESETSTAT queued after a write: EXEC holds the written key's shard
/// and these read every shard through EXEC's locks (they used to wait on that shard forever).
#[test]
fn keyspace_wide_reads_inside_exec_answer() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    con.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    let (_, info, _, _, dbsize): (Value, String, Value, Value, i64) = redis::pipe()
        .atomic()
        .set("k", 1)
        .cmd("INFO")
        .arg("keyspace")
        .cmd("MEMORY")
        .arg("STATS")
        .cmd("CONFIG")
        .arg("RESETSTAT")
        .cmd("DBSIZE")
        .query(&mut con)
        .unwrap();
    assert!(info.contains("db0:keys=1,expires=0"), "{info}");
    assert_eq!(dbsize, 1);
}
