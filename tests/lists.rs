//! List commands through real clients, blocking pops with several connections, and a differential test
//! against a real redis-server.

mod common;

use std::thread;
use std::time::{Duration, Instant};

use common::{err, TestServer};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use redis::{Commands, Connection, Value};

fn strs(con: &mut Connection, args: &[&str]) -> Vec<String> {
    let mut c = redis::cmd(args[0]);
    for a in &args[1..] {
        c.arg(*a);
    }
    c.query(con).unwrap()
}

#[test]
fn push_pop_range_index() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    assert_eq!(con.rpush::<_, _, i64>("l", &["a", "b", "c"]).unwrap(), 3);
    assert_eq!(con.lpush::<_, _, i64>("l", &["z", "y"]).unwrap(), 5);
    assert_eq!(
        strs(&mut con, &["LRANGE", "l", "0", "-1"]),
        ["y", "z", "a", "b", "c"]
    );
    assert_eq!(strs(&mut con, &["LRANGE", "l", "-2", "100"]), ["b", "c"]);
    assert!(strs(&mut con, &["LRANGE", "l", "3", "1"]).is_empty());
    assert!(strs(&mut con, &["LRANGE", "missing", "0", "-1"]).is_empty());
    assert_eq!(con.llen::<_, i64>("l").unwrap(), 5);
    assert_eq!(
        con.lindex::<_, Option<String>>("l", -1).unwrap().as_deref(),
        Some("c")
    );
    assert_eq!(con.lindex::<_, Option<String>>("l", 99).unwrap(), None);
    assert_eq!(
        con.lpop::<_, Option<String>>("l", None).unwrap().as_deref(),
        Some("y")
    );
    assert_eq!(
        con.rpop::<_, Option<String>>("l", None).unwrap().as_deref(),
        Some("c")
    );
    assert_eq!(strs(&mut con, &["LPOP", "l", "2"]), ["z", "a"]);
    assert!(strs(&mut con, &["LPOP", "l", "0"]).is_empty());
    assert_eq!(strs(&mut con, &["RPOP", "l", "5"]), ["b"]);
    // The last pop deleted the key.
    assert!(!con.exists::<_, bool>("l").unwrap());
    assert_eq!(
        common::run(&mut con, &["LPOP", "l", "2"]).unwrap(),
        Value::Nil
    );
    assert_eq!(common::run(&mut con, &["LPOP", "l"]).unwrap(), Value::Nil);
    assert_eq!(
        err(&mut con, &["LPOP", "l", "-1"]),
        "ERR value is out of range, must be positive"
    );
    assert_eq!(
        err(&mut con, &["LPOP", "l", "1", "2"]),
        "ERR wrong number of arguments for 'lpop' command"
    );
    assert_eq!(
        err(&mut con, &["LPUSH", "l"]),
        "ERR wrong number of arguments for 'lpush' command"
    );
    assert_eq!(con.lpush_exists::<_, _, i64>("nolist", "x").unwrap(), 0);
    assert!(!con.exists::<_, bool>("nolist").unwrap());
    assert_eq!(con.rpush_exists::<_, _, i64>("nolist", "x").unwrap(), 0);
}

#[test]
fn set_insert_rem_trim_pos() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    let _: i64 = con.rpush("l", &["a", "b", "c", "a", "b", "c"]).unwrap();
    let _: () = con.lset("l", -1, "C").unwrap();
    assert_eq!(
        err(&mut con, &["LSET", "l", "99", "x"]),
        "ERR index out of range"
    );
    assert_eq!(
        err(&mut con, &["LSET", "missing", "0", "x"]),
        "ERR no such key"
    );
    assert_eq!(
        common::run(&mut con, &["LINSERT", "l", "BEFORE", "b", "X"]).unwrap(),
        Value::Int(7)
    );
    assert_eq!(
        common::run(&mut con, &["LINSERT", "l", "after", "C", "Y"]).unwrap(),
        Value::Int(8)
    );
    assert_eq!(
        common::run(&mut con, &["LINSERT", "l", "BEFORE", "zz", "x"]).unwrap(),
        Value::Int(-1)
    );
    assert_eq!(
        common::run(&mut con, &["LINSERT", "missing", "BEFORE", "a", "x"]).unwrap(),
        Value::Int(0)
    );
    assert_eq!(
        err(&mut con, &["LINSERT", "l", "MIDDLE", "a", "x"]),
        "ERR syntax error"
    );
    assert_eq!(
        strs(&mut con, &["LRANGE", "l", "0", "-1"]),
        ["a", "X", "b", "c", "a", "b", "C", "Y"]
    );
    assert_eq!(
        common::run(&mut con, &["LPOS", "l", "b"]).unwrap(),
        Value::Int(2)
    );
    assert_eq!(
        common::run(&mut con, &["LPOS", "l", "b", "RANK", "-1"]).unwrap(),
        Value::Int(5)
    );
    assert_eq!(
        common::run(&mut con, &["LPOS", "l", "a", "COUNT", "0"]).unwrap(),
        Value::Array(vec![Value::Int(0), Value::Int(4)])
    );
    assert_eq!(
        common::run(&mut con, &["LPOS", "l", "a", "RANK", "2", "MAXLEN", "4"]).unwrap(),
        Value::Nil
    );
    assert_eq!(
        common::run(&mut con, &["LPOS", "missing", "a", "COUNT", "1"]).unwrap(),
        Value::Array(vec![])
    );
    assert_eq!(
        err(&mut con, &["LPOS", "l", "a", "RANK", "0"]),
        "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list"
    );
    assert_eq!(
        err(&mut con, &["LPOS", "l", "a", "COUNT", "-1"]),
        "ERR COUNT can't be negative"
    );
    assert_eq!(
        err(&mut con, &["LPOS", "l", "a", "MAXLEN", "-1"]),
        "ERR MAXLEN can't be negative"
    );
    assert_eq!(
        err(&mut con, &["LPOS", "l", "a", "FOO"]),
        "ERR syntax error"
    );
    assert_eq!(
        common::run(&mut con, &["LREM", "l", "-1", "b"]).unwrap(),
        Value::Int(1)
    );
    assert_eq!(
        common::run(&mut con, &["LREM", "l", "0", "a"]).unwrap(),
        Value::Int(2)
    );
    assert_eq!(
        err(&mut con, &["LREM", "l", "x", "a"]),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(
        strs(&mut con, &["LRANGE", "l", "0", "-1"]),
        ["X", "b", "c", "C", "Y"]
    );
    let _: () = con.ltrim("l", 1, -2).unwrap();
    assert_eq!(strs(&mut con, &["LRANGE", "l", "0", "-1"]), ["b", "c", "C"]);
    let _: () = con.ltrim("l", 5, 10).unwrap();
    assert!(!con.exists::<_, bool>("l").unwrap());
}

#[test]
fn move_and_mpop() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    let _: i64 = con.rpush("a", &["1", "2", "3"]).unwrap();
    assert_eq!(
        common::run(&mut con, &["LMOVE", "a", "b", "LEFT", "RIGHT"]).unwrap(),
        Value::BulkString(b"1".to_vec())
    );
    assert_eq!(
        common::run(&mut con, &["RPOPLPUSH", "a", "b"]).unwrap(),
        Value::BulkString(b"3".to_vec())
    );
    assert_eq!(strs(&mut con, &["LRANGE", "b", "0", "-1"]), ["3", "1"]);
    // Rotation on one key.
    assert_eq!(
        common::run(&mut con, &["LMOVE", "b", "b", "LEFT", "RIGHT"]).unwrap(),
        Value::BulkString(b"3".to_vec())
    );
    assert_eq!(strs(&mut con, &["LRANGE", "b", "0", "-1"]), ["1", "3"]);
    assert_eq!(
        common::run(&mut con, &["LMOVE", "missing", "b", "LEFT", "LEFT"]).unwrap(),
        Value::Nil
    );
    assert_eq!(
        err(&mut con, &["LMOVE", "a", "b", "UP", "LEFT"]),
        "ERR syntax error"
    );
    let _: () = con.set("s", "x").unwrap();
    assert_eq!(
        err(&mut con, &["LMOVE", "a", "s", "LEFT", "LEFT"]),
        "WRONGTYPE Operation against a key holding the wrong kind of value"
    );
    // Nothing moved when the destination has the wrong type.
    assert_eq!(strs(&mut con, &["LRANGE", "a", "0", "-1"]), ["2"]);
    assert_eq!(
        common::run(
            &mut con,
            &["LMPOP", "3", "missing", "a", "b", "RIGHT", "COUNT", "5"]
        )
        .unwrap(),
        Value::Array(vec![
            Value::BulkString(b"a".to_vec()),
            Value::Array(vec![Value::BulkString(b"2".to_vec())])
        ])
    );
    assert!(!con.exists::<_, bool>("a").unwrap());
    assert_eq!(
        common::run(&mut con, &["LMPOP", "1", "missing", "LEFT"]).unwrap(),
        Value::Nil
    );
    assert_eq!(
        err(&mut con, &["LMPOP", "0", "a", "LEFT"]),
        "ERR numkeys should be greater than 0"
    );
    assert_eq!(
        err(&mut con, &["LMPOP", "2", "a", "LEFT"]),
        "ERR syntax error"
    );
    assert_eq!(
        err(&mut con, &["LMPOP", "1", "a", "LEFT", "COUNT", "0"]),
        "ERR count should be greater than 0"
    );
    assert_eq!(
        err(&mut con, &["LMPOP", "1", "a", "MIDDLE"]),
        "ERR syntax error"
    );
}

#[test]
fn wrong_types_both_ways() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    let _: () = con.set("s", "x").unwrap();
    let _: i64 = con.rpush("l", "a").unwrap();
    const WT: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
    for cmd in [
        &["LPUSH", "s", "a"][..],
        &["RPUSHX", "s", "a"],
        &["LPOP", "s"],
        &["LLEN", "s"],
        &["LRANGE", "s", "0", "1"],
        &["LINDEX", "s", "0"],
        &["LSET", "s", "0", "a"],
        &["LINSERT", "s", "BEFORE", "a", "b"],
        &["LREM", "s", "0", "a"],
        &["LTRIM", "s", "0", "1"],
        &["LPOS", "s", "a"],
        &["LMPOP", "1", "s", "LEFT"],
        &["BLPOP", "s", "1"],
        &["GET", "l"],
        &["APPEND", "l", "x"],
        &["INCR", "l"],
        &["SETRANGE", "l", "0", "x"],
    ] {
        assert_eq!(err(&mut con, cmd), WT, "{cmd:?}");
    }
    let v: (Option<String>, Option<String>) = redis::cmd("MGET")
        .arg("l")
        .arg("s")
        .query(&mut con)
        .unwrap();
    assert_eq!(v, (None, Some("x".into())));
    let t: String = redis::cmd("TYPE").arg("l").query(&mut con).unwrap();
    assert_eq!(t, "list");
    let e: String = redis::cmd("OBJECT")
        .arg("ENCODING")
        .arg("l")
        .query(&mut con)
        .unwrap();
    assert_eq!(e, "listpack");
    let big: Vec<String> = (0..200).map(|i| format!("{i:0>60}")).collect();
    let _: i64 = con.rpush("l", &big).unwrap();
    let e: String = redis::cmd("OBJECT")
        .arg("ENCODING")
        .arg("l")
        .query(&mut con)
        .unwrap();
    assert_eq!(e, "quicklist");
    let keys: Vec<String> = redis::cmd("SCAN")
        .arg(0)
        .arg("TYPE")
        .arg("list")
        .query::<(String, Vec<String>)>(&mut con)
        .unwrap()
        .1;
    assert_eq!(keys, ["l"]);
    // COPY and RENAME carry the list.
    let _: () = redis::cmd("COPY")
        .arg("l")
        .arg("l2")
        .query(&mut con)
        .unwrap();
    assert_eq!(con.llen::<_, i64>("l2").unwrap(), 201);
}

fn blpop_in_thread(
    port: u16,
    key: &'static str,
    timeout: &'static str,
) -> thread::JoinHandle<Value> {
    thread::spawn(move || {
        let mut con = redis::Client::open(format!("redis://127.0.0.1:{port}/"))
            .unwrap()
            .get_connection()
            .unwrap();
        redis::cmd("BLPOP")
            .arg(key)
            .arg(timeout)
            .query(&mut con)
            .unwrap()
    })
}

fn pair(key: &str, v: &str) -> Value {
    Value::Array(vec![
        Value::BulkString(key.as_bytes().to_vec()),
        Value::BulkString(v.as_bytes().to_vec()),
    ])
}

#[test]
fn blocked_clients_are_served_in_order_one_element_each() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    let first = blpop_in_thread(srv.port, "q", "0");
    common::wait_blocked_clients(&mut con, 1);
    let second = blpop_in_thread(srv.port, "q", "0");
    common::wait_blocked_clients(&mut con, 2);
    let third = blpop_in_thread(srv.port, "q", "0");
    common::wait_blocked_clients(&mut con, 3);
    let _: i64 = con.rpush("q", "one").unwrap();
    assert_eq!(first.join().unwrap(), pair("q", "one"));
    common::wait_blocked_clients(&mut con, 2);
    let _: i64 = con.rpush("q", &["two", "three"]).unwrap();
    assert_eq!(second.join().unwrap(), pair("q", "two"));
    assert_eq!(third.join().unwrap(), pair("q", "three"));
    assert!(!con.exists::<_, bool>("q").unwrap());
    common::wait_blocked_clients(&mut con, 0);
}

#[test]
fn blocking_timeouts_and_errors() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    let started = Instant::now();
    assert_eq!(
        common::run(&mut con, &["BLPOP", "none", "0.2"]).unwrap(),
        Value::Nil
    );
    assert!(started.elapsed() >= Duration::from_millis(150));
    assert_eq!(
        common::run(&mut con, &["BLMOVE", "none", "x", "LEFT", "LEFT", "0.1"]).unwrap(),
        Value::Nil
    );
    assert_eq!(
        common::run(&mut con, &["BLMPOP", "0.1", "1", "none", "LEFT"]).unwrap(),
        Value::Nil
    );
    assert_eq!(
        common::run(&mut con, &["BRPOPLPUSH", "none", "x", "0.1"]).unwrap(),
        Value::Nil
    );
    let _: i64 = con.rpush("src", &["a", "b"]).unwrap();
    assert_eq!(
        common::run(&mut con, &["BRPOPLPUSH", "src", "dst", "0"]).unwrap(),
        Value::BulkString(b"b".to_vec())
    );
    assert_eq!(
        err(&mut con, &["BLPOP", "k", "-1"]),
        "ERR timeout is negative"
    );
    assert_eq!(
        err(&mut con, &["BLPOP", "k", "abc"]),
        "ERR timeout is not a float or out of range"
    );
    // Already-available data is served at once, from the first non-empty key.
    let _: i64 = con.rpush("b", &["1", "2"]).unwrap();
    assert_eq!(
        common::run(&mut con, &["BRPOP", "a", "b", "0"]).unwrap(),
        pair("b", "2")
    );
    let mut raw = srv.raw();
    raw.roundtrip(b"HELLO 3\r\n", b"%7\r\n");
    let _ = raw.read_n(200);
    raw.roundtrip(b"BLPOP none 0.05\r\n", b"_\r\n");
}

#[test]
fn push_of_another_type_does_not_wake_and_disconnected_waiters_take_nothing() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    let waiter = blpop_in_thread(srv.port, "k", "0");
    common::wait_blocked_clients(&mut con, 1);
    // A string at the key wakes the client, which finds no list and keeps waiting.
    let _: () = con.set("k", "str").unwrap();
    thread::sleep(Duration::from_millis(100));
    common::wait_blocked_clients(&mut con, 1);
    let _: i64 = con.del("k").unwrap();
    let _: i64 = con.rpush("k", "item").unwrap();
    assert_eq!(waiter.join().unwrap(), pair("k", "item"));

    // A client that disconnects while blocked is forgotten and does not swallow the next element.
    let mut raw = srv.raw();
    raw.send(b"BLPOP gone 0\r\n");
    common::wait_blocked_clients(&mut con, 1);
    drop(raw);
    common::wait_blocked_clients(&mut con, 0);
    let _: i64 = con.rpush("gone", "kept").unwrap();
    assert_eq!(con.llen::<_, i64>("gone").unwrap(), 1);
}

#[test]
fn blmove_wakes_on_push_and_pipelined_commands_wait_their_turn() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    let mut raw = srv.raw();
    // The GET after the blocking command is answered only after it.
    raw.send(b"BLMOVE src dst RIGHT LEFT 0\r\nGET after\r\n");
    common::wait_blocked_clients(&mut con, 1);
    let _: () = con.set("after", "yes").unwrap();
    let _: i64 = con.rpush("src", &["x", "y"]).unwrap();
    raw.roundtrip(b"", b"$1\r\ny\r\n$3\r\nyes\r\n");
    assert_eq!(strs(&mut con, &["LRANGE", "dst", "0", "-1"]), ["y"]);
    // BLMPOP with COUNT takes several at once.
    let mut raw = srv.raw();
    raw.send(b"BLMPOP 0 2 m1 m2 LEFT COUNT 3\r\n");
    common::wait_blocked_clients(&mut con, 1);
    let _: i64 = con.rpush("m2", &["1", "2"]).unwrap();
    raw.roundtrip(b"", b"*2\r\n$2\r\nm2\r\n*2\r\n$1\r\n1\r\n$1\r\n2\r\n");
}

#[test]
fn random_list_commands_match_redis() {
    let Some(redis) = common::diff::start_redis() else {
        return;
    };
    let srv = TestServer::start();
    for seed in 0..20u64 {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut cmds: Vec<Vec<Vec<u8>>> = vec![vec![b"FLUSHALL".to_vec()]];
        let keys = ["l1", "l2", "s"];
        let vals = [
            "a",
            "b",
            "c",
            "1",
            "",
            "long-value-xxxxxxxxxxxxxxxxxxxxxxxxxxx",
        ];
        let ints = [
            "0",
            "1",
            "-1",
            "2",
            "-3",
            "10",
            "-100",
            "x",
            "9223372036854775807",
            "-9223372036854775808",
        ];
        for _ in 0..400 {
            let k = keys[rng.gen_range(0..keys.len())];
            let k2 = keys[rng.gen_range(0..keys.len())];
            let v = vals[rng.gen_range(0..vals.len())];
            let i = ints[rng.gen_range(0..ints.len())];
            let j = ints[rng.gen_range(0..ints.len())];
            let side = ["LEFT", "RIGHT", "UP"][rng.gen_range(0..3)];
            let side2 = ["LEFT", "RIGHT"][rng.gen_range(0..2)];
            let c: Vec<&str> = match rng.gen_range(0..22) {
                0 | 1 => vec!["RPUSH", k, v, v],
                2 | 3 => vec!["LPUSH", k, v],
                4 => vec!["LPUSHX", k, v],
                5 => vec!["LPOP", k],
                6 => vec!["RPOP", k, i],
                7 => vec!["LRANGE", k, i, j],
                8 => vec!["LINDEX", k, i],
                9 => vec!["LSET", k, i, v],
                10 => vec![
                    "LINSERT",
                    k,
                    ["BEFORE", "AFTER", "X"][rng.gen_range(0..3)],
                    v,
                    v,
                ],
                11 => vec!["LREM", k, i, v],
                12 => vec!["LTRIM", k, i, j],
                13 => vec!["LPOS", k, v, "RANK", i],
                14 => vec!["LPOS", k, v, "COUNT", i, "MAXLEN", j],
                15 => vec!["LMOVE", k, k2, side, side2],
                16 => vec!["RPOPLPUSH", k, k2],
                17 => vec!["LMPOP", "2", k, k2, side, "COUNT", i],
                18 => vec!["LLEN", k],
                19 => vec!["SET", "s", v],
                20 => vec!["BLPOP", k, k2, "0.01"],
                _ => vec!["LRANGE", k, "0", "-1"],
            };
            cmds.push(c.iter().map(|s| s.as_bytes().to_vec()).collect());
        }
        common::diff::compare_all(redis.port, srv.port, &format!("lists seed {seed}"), cmds);
    }
}

#[test]
fn client_unblock_releases_a_blocked_client() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    let mut raw = srv.raw();
    raw.roundtrip(b"CLIENT ID\r\n", b":");
    let mut id = Vec::new();
    while !id.ends_with(b"\r\n") {
        id.extend(raw.read_n(1));
    }
    let id = String::from_utf8_lossy(&id[..id.len() - 2]).into_owned();
    // Not blocked yet: nothing to do.
    assert_eq!(
        common::run(&mut con, &["CLIENT", "UNBLOCK", &id]).unwrap(),
        Value::Int(0)
    );
    raw.send(b"BLPOP q 0\r\n");
    common::wait_blocked_clients(&mut con, 1);
    assert_eq!(
        common::run(&mut con, &["CLIENT", "UNBLOCK", &id]).unwrap(),
        Value::Int(1)
    );
    raw.roundtrip(b"", b"*-1\r\n");
    raw.send(b"BRPOP q 0\r\n");
    common::wait_blocked_clients(&mut con, 1);
    assert_eq!(
        common::run(&mut con, &["CLIENT", "UNBLOCK", &id, "ERROR"]).unwrap(),
        Value::Int(1)
    );
    raw.roundtrip(b"", b"-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n");
    assert_eq!(
        err(&mut con, &["CLIENT", "UNBLOCK", &id, "FOO"]),
        "ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR"
    );
    assert_eq!(
        err(&mut con, &["CLIENT", "UNBLOCK", "x"]),
        "ERR value is not an integer or out of range"
    );
    // The connection still works.
    raw.roundtrip(b"PING\r\n", b"+PONG\r\n");
}

/// Elements of every listpack entry width (7-bit to 64-bit integers, non-canonical numbers, 6/12/32-bit
/// string lengths) through every list command while small limits make the lists cross the
/// listpack/quicklist boundary both ways: the replies match a real Redis byte for byte.
#[test]
fn lists_crossing_the_listpack_boundary_match_redis() {
    let Some(redis) = common::diff::start_redis() else {
        return;
    };
    let srv = TestServer::start();
    let long = "y".repeat(5000);
    let mid = "q".repeat(100);
    for seed in 0..12u64 {
        let mut rng = StdRng::seed_from_u64(seed);
        let fill = ["-1", "2", "5", "-2", "0"][seed as usize % 5];
        let mut cmds: Vec<Vec<Vec<u8>>> = vec![
            vec![b"FLUSHALL".to_vec()],
            ["CONFIG", "SET", "list-max-listpack-size", fill]
                .iter()
                .map(|s| s.as_bytes().to_vec())
                .collect(),
        ];
        let keys = ["l1", "l2"];
        let vals = [
            "0",
            "127",
            "128",
            "-4096",
            "4096",
            "-32769",
            "8388608",
            "-2147483649",
            "9223372036854775807",
            "-9223372036854775808",
            "9223372036854775808",
            "01",
            "-0",
            "+1",
            "a",
            "",
            mid.as_str(),
            long.as_str(),
        ];
        let idx = ["0", "1", "-1", "3", "-4", "20"];
        for _ in 0..300 {
            let k = keys[rng.gen_range(0..2)];
            let k2 = keys[rng.gen_range(0..2)];
            let v = vals[rng.gen_range(0..vals.len())];
            let w = vals[rng.gen_range(0..vals.len())];
            let i = idx[rng.gen_range(0..idx.len())];
            let j = idx[rng.gen_range(0..idx.len())];
            let side = ["LEFT", "RIGHT"][rng.gen_range(0..2)];
            let c: Vec<&str> = match rng.gen_range(0..16) {
                0..=2 => vec!["RPUSH", k, v, w, v],
                3 | 4 => vec!["LPUSH", k, v, w],
                5 => vec!["LPOP", k, i.trim_start_matches('-')],
                6 => vec!["RPOP", k],
                7 => vec!["LRANGE", k, i, j],
                8 => vec!["LINDEX", k, i],
                9 => vec!["LSET", k, i, v],
                10 => vec!["LINSERT", k, "BEFORE", v, w],
                11 => vec!["LREM", k, i, v],
                12 => vec!["LTRIM", k, i, j],
                13 => vec!["LPOS", k, v, "RANK", "-1", "COUNT", "0"],
                14 => vec!["LMOVE", k, k2, side, "LEFT"],
                _ => vec!["SORT", k, "ALPHA", "STORE", k2],
            };
            cmds.push(c.iter().map(|s| s.as_bytes().to_vec()).collect());
            cmds.push(vec![
                b"LRANGE".to_vec(),
                k.into(),
                b"0".to_vec(),
                b"-1".to_vec(),
            ]);
        }
        common::diff::compare_all(redis.port, srv.port, &format!("boundary seed {seed}"), cmds);
    }
}

fn encoding(con: &mut Connection, key: &str) -> String {
    redis::cmd("OBJECT")
        .arg("ENCODING")
        .arg(key)
        .query(con)
        .unwrap()
}

/// Redis 7.2's conversions (t_list.c `listTypeTryConversion*`; the installed oracle is 7.0, which
/// reports every list as quicklist): checked before adding, on the listpack's bytes plus the new
/// elements' raw lengths; back to listpack at half the limit after removing.
#[test]
fn encoding_follows_redis_7_2_conversions() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    common::ok(&mut con, &["CONFIG", "SET", "list-max-listpack-size", "4"]);
    assert_eq!(
        common::int(&mut con, &["RPUSH", "c", "a", "b", "c", "d"]),
        4
    );
    assert_eq!(encoding(&mut con, "c"), "listpack");
    common::int(&mut con, &["RPUSH", "c", "e"]);
    assert_eq!(encoding(&mut con, "c"), "quicklist");
    common::bulk(&mut con, &["RPOP", "c"]);
    common::bulk(&mut con, &["RPOP", "c"]);
    assert_eq!(encoding(&mut con, "c"), "quicklist", "3 > 4/2");
    common::bulk(&mut con, &["RPOP", "c"]);
    assert_eq!(encoding(&mut con, "c"), "listpack");
    assert_eq!(strs(&mut con, &["LRANGE", "c", "0", "-1"]), ["a", "b"]);

    // Size limit 4096: 7 header bytes + 4089 raw bytes is not over it (the entry itself takes
    // 4096 + 6), but one more byte is.
    common::ok(&mut con, &["CONFIG", "SET", "list-max-listpack-size", "-1"]);
    let big = "x".repeat(4089);
    common::int(&mut con, &["RPUSH", "s", &big]);
    assert_eq!(encoding(&mut con, "s"), "listpack");
    common::int(&mut con, &["RPUSH", "s", "1"]);
    assert_eq!(encoding(&mut con, "s"), "quicklist");
    common::bulk(&mut con, &["LPOP", "s"]);
    assert_eq!(encoding(&mut con, "s"), "listpack");

    // LINSERT converts before looking for the pivot, LSET before checking the index.
    common::int(&mut con, &["RPUSH", "i", "a"]);
    assert_eq!(
        common::int(&mut con, &["LINSERT", "i", "BEFORE", "nope", &big]),
        -1
    );
    assert_eq!(common::int(&mut con, &["LLEN", "i"]), 1);
    assert_eq!(encoding(&mut con, "i"), "quicklist");
    common::int(&mut con, &["RPUSH", "j", "a"]);
    assert_eq!(
        err(&mut con, &["LSET", "j", "5", &big]),
        "ERR index out of range"
    );
    assert_eq!(encoding(&mut con, "j"), "quicklist");

    // SORT STORE: a listpack when the result fits one quicklist node.
    common::ok(&mut con, &["CONFIG", "SET", "list-max-listpack-size", "3"]);
    common::int(&mut con, &["RPUSH", "src", "3", "1", "2"]);
    assert_eq!(common::int(&mut con, &["SORT", "src", "STORE", "dst"]), 3);
    assert_eq!(encoding(&mut con, "dst"), "listpack");
    assert_eq!(
        strs(&mut con, &["LRANGE", "dst", "0", "-1"]),
        ["1", "2", "3"]
    );
    common::int(&mut con, &["RPUSH", "src", "0"]);
    common::int(&mut con, &["SORT", "src", "STORE", "dst"]);
    assert_eq!(encoding(&mut con, "dst"), "quicklist");
}

/// A small list is one buffer of Redis's listpack entries behind a 2-byte count: MEMORY USAGE
/// counts it exactly.
#[test]
fn small_lists_are_compact() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    common::int(&mut con, &["RPUSH", "l", "a1", "a2", "a3", "a4", "a5"]);
    common::int(
        &mut con,
        &["RPUSH", "m", "a1", "a2", "a3", "a4", "a5", "a6"],
    );
    let l = common::int(&mut con, &["MEMORY", "USAGE", "l"]);
    let m = common::int(&mut con, &["MEMORY", "USAGE", "m"]);
    // Each "aN" entry is 4 bytes: encoding byte, 2 bytes, backlen.
    assert_eq!(m - l, 4);
    common::int(&mut con, &["RPUSH", "n", "1", "2", "300"]);
    common::int(&mut con, &["RPUSH", "o", "1", "2", "300", "100000"]);
    let n = common::int(&mut con, &["MEMORY", "USAGE", "n"]);
    let o = common::int(&mut con, &["MEMORY", "USAGE", "o"]);
    // 100000 is a 24-bit integer entry: 4 bytes + backlen.
    assert_eq!(o - n, 5);
    assert!(l < 120, "{l}");
}
