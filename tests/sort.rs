//! SORT and SORT_RO on lists and sets: numeric and ALPHA order, BY weights (keys and hash fields),
//! GET patterns, LIMIT, DESC, STORE, errors, and a differential run against redis-server on cases
//! whose order Redis defines.

mod common;

use common::{err, TestServer};
use redis::{Commands, Value};

fn sorted(con: &mut redis::Connection, args: &[&str]) -> Vec<Option<String>> {
    let mut c = redis::cmd(args[0]);
    for a in &args[1..] {
        c.arg(*a);
    }
    c.query(con).unwrap()
}

fn some(v: &[&str]) -> Vec<Option<String>> {
    v.iter().map(|s| Some(s.to_string())).collect()
}

#[test]
fn numeric_alpha_limit_desc() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    let _: i64 = con.rpush("l", &["3", "1", "2", "10"]).unwrap();
    assert_eq!(
        sorted(&mut con, &["SORT", "l"]),
        some(&["1", "2", "3", "10"])
    );
    assert_eq!(
        sorted(&mut con, &["SORT", "l", "ALPHA"]),
        some(&["1", "10", "2", "3"])
    );
    assert_eq!(
        sorted(&mut con, &["SORT", "l", "DESC", "LIMIT", "1", "2"]),
        some(&["3", "2"])
    );
    assert_eq!(
        sorted(&mut con, &["SORT", "l", "LIMIT", "-1", "-1"]),
        some(&["1", "2", "3", "10"])
    );
    assert_eq!(
        sorted(&mut con, &["SORT", "l", "LIMIT", "10", "5"]),
        some(&[])
    );
    assert_eq!(
        sorted(
            &mut con,
            &["SORT_RO", "l", "BY", "nosort", "LIMIT", "0", "2"]
        ),
        some(&["3", "1"])
    );
    let _: i64 = con.rpush("bad", &["1", "x"]).unwrap();
    assert_eq!(
        err(&mut con, &["SORT", "bad"]),
        "ERR One or more scores can't be converted into double"
    );
    assert_eq!(
        err(&mut con, &["SORT", "l", "LIMIT", "1"]),
        "ERR syntax error"
    );
    assert_eq!(err(&mut con, &["SORT", "l", "FOO"]), "ERR syntax error");
    assert_eq!(
        err(&mut con, &["SORT_RO", "l", "STORE", "x"]),
        "ERR syntax error"
    );
    let _: () = con.set("s", "x").unwrap();
    assert_eq!(
        err(&mut con, &["SORT", "s"]),
        "WRONGTYPE Operation against a key holding the wrong kind of value"
    );
    assert!(sorted(&mut con, &["SORT", "missing"]).is_empty());
    let _: i64 = con.sadd("set", &["5", "3", "9"]).unwrap();
    assert_eq!(sorted(&mut con, &["SORT", "set"]), some(&["3", "5", "9"]));
}

#[test]
fn by_get_and_store() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    let _: i64 = con.rpush("l", &["3", "1", "2", "b"]).unwrap();
    let _: () = redis::cmd("MSET")
        .arg("w_3")
        .arg(30)
        .arg("w_1")
        .arg(10)
        .arg("w_2")
        .arg(20)
        .query(&mut con)
        .unwrap();
    // "b" has no weight: it scores 0 and comes first.
    assert_eq!(
        sorted(
            &mut con,
            &["SORT", "l", "BY", "w_*", "GET", "#", "GET", "w_*"]
        ),
        vec![
            Some("b".into()),
            None,
            Some("1".into()),
            Some("10".into()),
            Some("2".into()),
            Some("20".into()),
            Some("3".into()),
            Some("30".into())
        ]
    );
    let _: i64 = con.hset("h_1", "f", "x").unwrap();
    assert_eq!(
        sorted(&mut con, &["SORT", "l", "BY", "nosort", "GET", "h_*->f"]),
        vec![None, Some("x".into()), None, None]
    );
    assert_eq!(
        common::run(&mut con, &["SORT", "l", "BY", "w_*", "STORE", "dst"]).unwrap(),
        Value::Int(4)
    );
    let dst: Vec<String> = con.lrange("dst", 0, -1).unwrap();
    assert_eq!(dst, ["b", "1", "2", "3"]);
    // An empty result deletes the destination.
    assert_eq!(
        common::run(&mut con, &["SORT", "missing", "STORE", "dst"]).unwrap(),
        Value::Int(0)
    );
    assert!(!con.exists::<_, bool>("dst").unwrap());
    let keys: Vec<Value> = redis::cmd("COMMAND")
        .arg("GETKEYS")
        .arg("SORT")
        .arg("l")
        .arg("BY")
        .arg("w_*")
        .arg("STORE")
        .arg("d")
        .query(&mut con)
        .unwrap();
    assert_eq!(
        keys,
        vec![
            Value::BulkString(b"l".to_vec()),
            Value::BulkString(b"d".to_vec())
        ]
    );
}

#[test]
fn sort_matches_redis() {
    let Some(redis) = common::diff::start_redis() else {
        return;
    };
    let srv = TestServer::start();
    let script: &[&[&str]] = &[
        &["FLUSHALL"],
        &["RPUSH", "l", "3", "1", "2", "10", "-5", "2.5", "1e2"],
        &["MSET", "w_3", "3", "w_1", "100", "w_2", "-1", "w_10", "x"],
        &["HSET", "h_1", "f", "a", "h_2", "f", "b"],
        &["SORT", "l"],
        &["SORT", "l", "DESC"],
        &["SORT", "l", "ALPHA"],
        &["SORT", "l", "ALPHA", "DESC", "LIMIT", "2", "3"],
        &["SORT", "l", "LIMIT", "0", "0"],
        &["SORT", "l", "LIMIT", "-5", "2"],
        &["SORT", "l", "LIMIT", "100", "2"],
        &["SORT", "l", "BY", "nosort"],
        &[
            "SORT", "l", "BY", "nosort", "GET", "#", "GET", "w_*", "GET", "h_*->f",
        ],
        &["SORT", "l", "BY", "w_*"],
        &["SORT", "l", "GET", "nostar"],
        &["SORT", "l", "ALPHA", "STORE", "out"],
        &["LRANGE", "out", "0", "-1"],
        &["SORT", "l", "BY", "nosort", "GET", "w_*", "STORE", "out"],
        &["LRANGE", "out", "0", "-1"],
        &["SADD", "ints", "5", "-3", "9", "0"],
        &["SORT", "ints"],
        &["SORT", "ints", "DESC", "LIMIT", "1", "2"],
        &["ZADD", "z", "3", "c", "1", "a", "2", "b", "2", "10"],
        &["SORT", "z", "ALPHA"],
        &["SORT", "z", "BY", "nosort"],
        &["SORT", "z", "BY", "nosort", "DESC"],
        &["SORT", "z", "BY", "nosort", "LIMIT", "1", "2"],
        &["SORT", "nokey"],
        &["SORT", "nokey", "STORE", "out"],
        &["EXISTS", "out"],
        &["SET", "str", "1"],
        &["SORT", "str"],
        &["SORT", "l", "LIMIT", "x", "1"],
        &["SORT", "l", "BY"],
        &["SORT_RO", "l", "ALPHA"],
        &["SORT_RO", "l", "STORE", "x"],
    ];
    let cmds = script
        .iter()
        .map(|c| c.iter().map(|s| s.as_bytes().to_vec()).collect());
    common::diff::compare_all(redis.port, srv.port, "sort", cmds);
}
