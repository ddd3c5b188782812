//! Stream commands through real clients: entries, trimming, consumer groups (two consumers sharing work,
//! a crashed consumer's entries claimed back), blocking reads with several connections, and a
//! differential test against a real redis-server.

mod common;

use std::thread;
use std::time::{Duration, Instant};

use common::{err, run, TestServer};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use redis::{Connection, Value};

/// A compact rendering of a reply: arrays as `[a,b]`, nil as `nil`, integers as numbers.
fn show(v: &Value) -> String {
    match v {
        Value::Nil => "nil".into(),
        Value::Int(i) => i.to_string(),
        Value::BulkString(b) => String::from_utf8_lossy(b).into_owned(),
        Value::SimpleString(s) => s.clone(),
        Value::Okay => "OK".into(),
        Value::Array(a) | Value::Set(a) => {
            format!("[{}]", a.iter().map(show).collect::<Vec<_>>().join(","))
        }
        Value::Map(m) => format!(
            "{{{}}}",
            m.iter()
                .map(|(k, v)| format!("{}:{}", show(k), show(v)))
                .collect::<Vec<_>>()
                .join(",")
        ),
        other => format!("{other:?}"),
    }
}

/// Runs a command and renders its reply.
fn q(con: &mut Connection, args: &[&str]) -> String {
    show(&run(con, args).unwrap_or_else(|e| panic!("{args:?}: {e}")))
}

#[test]
fn xadd_ids_and_errors() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    assert_eq!(q(&mut con, &["XADD", "s", "1-1", "a", "1"]), "1-1");
    assert_eq!(q(&mut con, &["XADD", "s", "1-*", "b", "2"]), "1-2");
    assert_eq!(q(&mut con, &["XADD", "s", "5", "c", "3"]), "5-0");
    assert_eq!(q(&mut con, &["XADD", "s", "5-*", "c", "3"]), "5-1");
    assert_eq!(q(&mut con, &["XADD", "s", "7-*", "c", "3"]), "7-0");
    // `*` uses the clock: greater than anything so far.
    let auto = q(&mut con, &["XADD", "s", "*", "d", "4"]);
    let ms: u64 = auto.split('-').next().unwrap().parse().unwrap();
    assert!(ms > 1_600_000_000_000, "{auto}");
    assert_eq!(
        err(&mut con, &["XADD", "s", "5-0", "a", "1"]),
        "ERR The ID specified in XADD is equal or smaller than the target stream top item"
    );
    assert_eq!(
        err(&mut con, &["XADD", "t", "0-0", "a", "1"]),
        "ERR The ID specified in XADD must be greater than 0-0"
    );
    assert_eq!(
        err(&mut con, &["XADD", "t", "0", "a", "1"]),
        "ERR The ID specified in XADD must be greater than 0-0"
    );
    assert_eq!(q(&mut con, &["XADD", "t", "0-*", "a", "1"]), "0-1");
    for bad in ["abc", "5-x", "-5", "1-", "18446744073709551616-0", "-", "+"] {
        assert_eq!(
            err(&mut con, &["XADD", "s", bad, "a", "1"]),
            "ERR Invalid stream ID specified as stream command argument",
            "{bad}"
        );
    }
    assert_eq!(
        err(&mut con, &["XADD", "s", "*", "a"]),
        "ERR wrong number of arguments for 'xadd' command"
    );
    assert_eq!(
        err(&mut con, &["XADD", "s", "*", "a", "1", "b"]),
        "ERR wrong number of arguments for 'xadd' command"
    );
    assert_eq!(
        err(&mut con, &["XADD", "s", "*"]),
        "ERR wrong number of arguments for 'xadd' command"
    );
    // NOMKSTREAM.
    assert_eq!(
        q(&mut con, &["XADD", "none", "NOMKSTREAM", "*", "a", "1"]),
        "nil"
    );
    assert_eq!(q(&mut con, &["EXISTS", "none"]), "0");
    assert_eq!(
        q(&mut con, &["XADD", "t", "nomkstream", "9", "a", "1"]),
        "9-0"
    );
    // The last possible ID.
    assert_eq!(
        q(
            &mut con,
            &[
                "XADD",
                "big",
                "18446744073709551615-18446744073709551615",
                "a",
                "1"
            ]
        ),
        "18446744073709551615-18446744073709551615"
    );
    assert_eq!(
        err(&mut con, &["XADD", "big", "*", "a", "1"]),
        "ERR The stream has exhausted the last possible ID, unable to add more items"
    );
    // Binary-safe fields and values, empty strings.
    let _: String = redis::cmd("XADD")
        .arg("bin")
        .arg("1")
        .arg(&b"\x00\xff"[..])
        .arg("")
        .query(&mut con)
        .unwrap();
    let v = run(&mut con, &["XRANGE", "bin", "-", "+"]).unwrap();
    assert_eq!(
        v,
        Value::Array(vec![Value::Array(vec![
            Value::BulkString(b"1-0".to_vec()),
            Value::Array(vec![
                Value::BulkString(b"\x00\xff".to_vec()),
                Value::BulkString(vec![]),
            ]),
        ])])
    );
    assert_eq!(q(&mut con, &["TYPE", "s"]), "stream");
    assert_eq!(q(&mut con, &["OBJECT", "ENCODING", "s"]), "stream");
}

#[test]
fn xadd_trimming_options() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    for i in 1..=5 {
        q(&mut con, &["XADD", "s", &i.to_string(), "f", "v"]);
    }
    assert_eq!(
        q(&mut con, &["XADD", "s", "MAXLEN", "3", "6", "f", "v"]),
        "6-0"
    );
    assert_eq!(q(&mut con, &["XLEN", "s"]), "3");
    assert_eq!(
        q(&mut con, &["XADD", "s", "MAXLEN", "=", "2", "7", "f", "v"]),
        "7-0"
    );
    assert_eq!(
        q(&mut con, &["XRANGE", "s", "-", "+"]),
        "[[6-0,[f,v]],[7-0,[f,v]]]"
    );
    assert_eq!(
        q(&mut con, &["XADD", "s", "MINID", "7", "8", "f", "v"]),
        "8-0"
    );
    assert_eq!(q(&mut con, &["XLEN", "s"]), "2");
    // Approximate trimming only drops whole blocks (100 entries): nothing here.
    assert_eq!(
        q(&mut con, &["XADD", "s", "MAXLEN", "~", "1", "9", "f", "v"]),
        "9-0"
    );
    assert_eq!(q(&mut con, &["XLEN", "s"]), "3");
    assert_eq!(
        err(
            &mut con,
            &["XADD", "s", "MAXLEN", "1", "MINID", "1", "10", "f", "v"]
        ),
        "ERR syntax error, MAXLEN and MINID options at the same time are not compatible"
    );
    assert_eq!(
        err(&mut con, &["XADD", "s", "MAXLEN", "-1", "10", "f", "v"]),
        "ERR The MAXLEN argument must be >= 0."
    );
    assert_eq!(
        err(&mut con, &["XADD", "s", "MAXLEN", "abc", "10", "f", "v"]),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(
        err(&mut con, &["XADD", "s", "LIMIT", "5", "10", "f", "v"]),
        "ERR syntax error, LIMIT cannot be used without specifying a trimming strategy"
    );
    assert_eq!(
        err(
            &mut con,
            &["XADD", "s", "MAXLEN", "1", "LIMIT", "5", "10", "f", "v"]
        ),
        "ERR syntax error, LIMIT cannot be used without the special ~ option"
    );
    assert_eq!(
        err(
            &mut con,
            &["XADD", "s", "MAXLEN", "~", "1", "LIMIT", "-1", "10", "f", "v"]
        ),
        "ERR The LIMIT argument must be >= 0."
    );
    assert_eq!(
        err(&mut con, &["XADD", "s", "MINID", "x", "10", "f", "v"]),
        "ERR Invalid stream ID specified as stream command argument"
    );
    // 250 entries in blocks of 100: `~` drops the first block only.
    for i in 100..350 {
        q(&mut con, &["XADD", "big", &i.to_string(), "f", "v"]);
    }
    assert_eq!(q(&mut con, &["XTRIM", "big", "MAXLEN", "~", "120"]), "100");
    assert_eq!(q(&mut con, &["XLEN", "big"]), "150");
    assert_eq!(
        q(
            &mut con,
            &["XTRIM", "big", "MAXLEN", "~", "0", "LIMIT", "50"]
        ),
        "0"
    );
    assert_eq!(q(&mut con, &["XTRIM", "big", "MINID", "300"]), "100");
    assert_eq!(q(&mut con, &["XTRIM", "big", "MAXLEN", "=", "10"]), "40");
    assert_eq!(q(&mut con, &["XTRIM", "big", "MAXLEN", "0"]), "10");
    // An emptied stream keeps its key.
    assert_eq!(q(&mut con, &["EXISTS", "big"]), "1");
    assert_eq!(q(&mut con, &["XTRIM", "nokey", "MAXLEN", "0"]), "0");
    assert_eq!(
        err(&mut con, &["XTRIM", "big", "LIMIT", "1"]),
        "ERR syntax error, LIMIT cannot be used without specifying a trimming strategy"
    );
    assert_eq!(
        err(&mut con, &["XTRIM", "big", "foo", "1"]),
        "ERR syntax error"
    );
    assert_eq!(
        err(&mut con, &["XTRIM", "big"]),
        "ERR wrong number of arguments for 'xtrim' command"
    );
    assert_eq!(
        err(&mut con, &["XTRIM", "big", "LIMIT", "0", "x"]),
        "ERR syntax error"
    );
}

#[test]
fn xrange_and_xrevrange() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    for id in ["1-0", "1-1", "2-0", "3-5", "4-0"] {
        q(&mut con, &["XADD", "s", id, "k", id]);
    }
    assert_eq!(
        q(&mut con, &["XRANGE", "s", "-", "+", "COUNT", "2"]),
        "[[1-0,[k,1-0]],[1-1,[k,1-1]]]"
    );
    // Incomplete IDs: 1 means 1-0 as a start and 1-max as an end.
    assert_eq!(
        q(&mut con, &["XRANGE", "s", "1", "1"]),
        "[[1-0,[k,1-0]],[1-1,[k,1-1]]]"
    );
    assert_eq!(
        q(&mut con, &["XRANGE", "s", "(1-0", "(3-5"]),
        "[[1-1,[k,1-1]],[2-0,[k,2-0]]]"
    );
    assert_eq!(
        q(&mut con, &["XRANGE", "s", "(3", "+"]),
        "[[3-5,[k,3-5]],[4-0,[k,4-0]]]"
    );
    assert_eq!(
        q(&mut con, &["XREVRANGE", "s", "+", "-", "COUNT", "2"]),
        "[[4-0,[k,4-0]],[3-5,[k,3-5]]]"
    );
    assert_eq!(
        q(&mut con, &["XREVRANGE", "s", "(4", "(1-1"]),
        "[[4-0,[k,4-0]],[3-5,[k,3-5]],[2-0,[k,2-0]]]"
    );
    assert_eq!(q(&mut con, &["XRANGE", "s", "3", "2"]), "[]");
    assert_eq!(q(&mut con, &["XRANGE", "nokey", "-", "+"]), "[]");
    assert_eq!(q(&mut con, &["XRANGE", "s", "-", "+", "COUNT", "0"]), "nil");
    assert_eq!(
        q(&mut con, &["XRANGE", "s", "-", "+", "COUNT", "-3"]),
        "nil"
    );
    assert_eq!(
        q(
            &mut con,
            &["XRANGE", "s", "-", "+", "COUNT", "9223372036854775807"]
        )
        .len(),
        q(&mut con, &["XRANGE", "s", "-", "+"]).len()
    );
    assert_eq!(
        err(&mut con, &["XRANGE", "s", "(-", "+"]),
        "ERR Invalid stream ID specified as stream command argument"
    );
    assert_eq!(
        err(
            &mut con,
            &[
                "XRANGE",
                "s",
                "(18446744073709551615-18446744073709551615",
                "+"
            ]
        ),
        "ERR invalid start ID for the interval"
    );
    assert_eq!(
        err(&mut con, &["XRANGE", "s", "-", "(0-0"]),
        "ERR invalid end ID for the interval"
    );
    assert_eq!(
        err(&mut con, &["XRANGE", "s", "-", "+", "COUNT"]),
        "ERR syntax error"
    );
    assert_eq!(
        err(&mut con, &["XRANGE", "s", "-", "+", "LIMIT", "1"]),
        "ERR syntax error"
    );
    assert_eq!(
        err(&mut con, &["XRANGE", "s", "-", "+", "COUNT", "x"]),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(
        err(&mut con, &["XRANGE", "s", "-"]),
        "ERR wrong number of arguments for 'xrange' command"
    );
    assert_eq!(
        err(&mut con, &["XREVRANGE", "s", "+"]),
        "ERR wrong number of arguments for 'xrevrange' command"
    );
    // A window inside a large stream.
    for i in 10..1000 {
        q(
            &mut con,
            &["XADD", "big", &i.to_string(), "i", &i.to_string()],
        );
    }
    assert_eq!(
        q(&mut con, &["XRANGE", "big", "500", "502"]),
        "[[500-0,[i,500]],[501-0,[i,501]],[502-0,[i,502]]]"
    );
    assert_eq!(
        q(&mut con, &["XREVRANGE", "big", "(600-0", "-", "COUNT", "1"]),
        "[[599-0,[i,599]]]"
    );
}

#[test]
fn xdel_xlen_xsetid() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    for id in ["1", "2", "3"] {
        q(&mut con, &["XADD", "s", id, "f", "v"]);
    }
    assert_eq!(q(&mut con, &["XDEL", "s", "2", "9", "2"]), "1");
    assert_eq!(q(&mut con, &["XLEN", "s"]), "2");
    assert_eq!(q(&mut con, &["XDEL", "nokey", "bad"]), "0");
    assert_eq!(
        err(&mut con, &["XDEL", "s", "1", "bad"]),
        "ERR Invalid stream ID specified as stream command argument"
    );
    // All or nothing: the valid ID was not deleted.
    assert_eq!(q(&mut con, &["XLEN", "s"]), "2");
    assert_eq!(q(&mut con, &["XDEL", "s", "1", "3"]), "2");
    assert_eq!(q(&mut con, &["XLEN", "s"]), "0");
    assert_eq!(q(&mut con, &["EXISTS", "s"]), "1");
    assert_eq!(q(&mut con, &["XLEN", "nokey"]), "0");
    let info = q(&mut con, &["XINFO", "STREAM", "s"]);
    assert!(info.contains("max-deleted-entry-id,3-0"), "{info}");
    assert!(info.contains("entries-added,3"), "{info}");
    // XSETID.
    assert_eq!(q(&mut con, &["XADD", "t", "5", "f", "v"]), "5-0");
    assert_eq!(
        err(&mut con, &["XSETID", "t", "4"]),
        "ERR The ID specified in XSETID is smaller than the target stream top item"
    );
    assert_eq!(q(&mut con, &["XSETID", "t", "10"]), "OK");
    assert_eq!(
        err(&mut con, &["XADD", "t", "9", "f", "v"]),
        "ERR The ID specified in XADD is equal or smaller than the target stream top item"
    );
    assert_eq!(
        q(
            &mut con,
            &[
                "XSETID",
                "t",
                "20",
                "ENTRIESADDED",
                "7",
                "MAXDELETEDID",
                "15"
            ]
        ),
        "OK"
    );
    let info = q(&mut con, &["XINFO", "STREAM", "t"]);
    assert!(
        info.contains("last-generated-id,20-0,max-deleted-entry-id,15-0,entries-added,7"),
        "{info}"
    );
    assert_eq!(
        err(&mut con, &["XSETID", "t", "20", "ENTRIESADDED", "0"]),
        "ERR The entries_added specified in XSETID is smaller than the target stream length"
    );
    assert_eq!(
        err(&mut con, &["XSETID", "t", "20", "ENTRIESADDED", "-1"]),
        "ERR entries_added must be positive"
    );
    assert_eq!(
        err(&mut con, &["XSETID", "t", "20", "MAXDELETEDID", "30"]),
        "ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id"
    );
    assert_eq!(
        err(&mut con, &["XSETID", "t", "20", "FOO"]),
        "ERR syntax error"
    );
    assert_eq!(err(&mut con, &["XSETID", "nokey", "1"]), "ERR no such key");
    assert_eq!(
        err(&mut con, &["XSETID", "t", "-"]),
        "ERR Invalid stream ID specified as stream command argument"
    );
}

#[test]
fn wrong_type_both_ways() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    q(&mut con, &["SET", "str", "v"]);
    q(&mut con, &["XADD", "s", "1", "f", "v"]);
    let wt = "WRONGTYPE Operation against a key holding the wrong kind of value";
    for c in [
        &["XADD", "str", "*", "a", "1"][..],
        &["XLEN", "str"],
        &["XRANGE", "str", "-", "+"],
        &["XREVRANGE", "str", "+", "-"],
        &["XDEL", "str", "1"],
        &["XTRIM", "str", "MAXLEN", "0"],
        &["XSETID", "str", "1"],
        &["XREAD", "STREAMS", "str", "0"],
        &["XGROUP", "CREATE", "str", "g", "$"],
        &["XINFO", "STREAM", "str"],
        &["XINFO", "GROUPS", "str"],
        &["XACK", "str", "g", "1"],
        &["XPENDING", "str", "g"],
        &["XCLAIM", "str", "g", "c", "0", "1"],
        &["XAUTOCLAIM", "str", "g", "c", "0", "0"],
    ] {
        assert_eq!(err(&mut con, c), wt, "{c:?}");
    }
    assert_eq!(err(&mut con, &["GET", "s"]), wt);
    assert_eq!(err(&mut con, &["APPEND", "s", "x"]), wt);
    assert_eq!(err(&mut con, &["LPUSH", "s", "x"]), wt);
    assert_eq!(q(&mut con, &["MGET", "s", "str"]), "[nil,v]");
}

#[test]
fn xread_without_block() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    q(&mut con, &["XADD", "s", "1", "a", "1"]);
    q(&mut con, &["XADD", "s", "2", "b", "2"]);
    q(&mut con, &["XADD", "t", "5", "c", "3"]);
    assert_eq!(
        q(&mut con, &["XREAD", "STREAMS", "s", "t", "0", "0"]),
        "[[s,[[1-0,[a,1]],[2-0,[b,2]]]],[t,[[5-0,[c,3]]]]]"
    );
    assert_eq!(
        q(
            &mut con,
            &["XREAD", "COUNT", "1", "STREAMS", "s", "t", "1", "0"]
        ),
        "[[s,[[2-0,[b,2]]]],[t,[[5-0,[c,3]]]]]"
    );
    assert_eq!(
        q(&mut con, &["XREAD", "STREAMS", "s", "nokey", "2", "0"]),
        "nil"
    );
    assert_eq!(q(&mut con, &["XREAD", "STREAMS", "s", "$"]), "nil");
    assert_eq!(
        err(&mut con, &["XREAD", "STREAMS", "s", "t", "0"]),
        "ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified."
    );
    assert_eq!(
        err(&mut con, &["XREAD", "STREAMS", "s", ">"]),
        "ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option."
    );
    assert_eq!(
        err(&mut con, &["XREAD", "GROUP", "g", "c", "STREAMS", "s", "0"]),
        "ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead."
    );
    assert_eq!(
        err(&mut con, &["XREAD", "NOACK", "STREAMS", "s", "0"]),
        "ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead."
    );
    assert_eq!(
        err(&mut con, &["XREAD", "FOO", "STREAMS", "s", "0"]),
        "ERR syntax error"
    );
    assert_eq!(
        err(&mut con, &["XREAD", "COUNT", "1", "s", "0"]),
        "ERR syntax error"
    );
    assert_eq!(
        err(&mut con, &["XREAD", "STREAMS", "s", "bad"]),
        "ERR Invalid stream ID specified as stream command argument"
    );
    assert_eq!(
        err(&mut con, &["XREAD", "BLOCK", "-1", "STREAMS", "s", "0"]),
        "ERR timeout is negative"
    );
    assert_eq!(
        err(&mut con, &["XREAD", "BLOCK", "1.5", "STREAMS", "s", "0"]),
        "ERR timeout is not an integer or out of range"
    );
    assert_eq!(
        err(
            &mut con,
            &["XREAD", "BLOCK", "9223372036854775807", "STREAMS", "s", "0"]
        ),
        "ERR timeout is out of range"
    );
    assert_eq!(
        err(&mut con, &["XREAD", "STREAMS", "s"]),
        "ERR wrong number of arguments for 'xread' command"
    );
    // RESP2 and RESP3 shapes, byte for byte.
    let mut raw = srv.raw();
    raw.roundtrip(
        b"XREAD STREAMS t 0\r\n",
        b"*1\r\n*2\r\n$1\r\nt\r\n*1\r\n*2\r\n$3\r\n5-0\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n",
    );
    raw.roundtrip(b"XREAD STREAMS t 5\r\n", b"*-1\r\n");
    raw.send(b"HELLO 3\r\n");
    let _ = raw.read_n(1);
    std::thread::sleep(Duration::from_millis(100));
    let mut sink = [0u8; 4096];
    let _ = std::io::Read::read(&mut raw.s, &mut sink);
    raw.roundtrip(
        b"XREAD STREAMS t 0\r\n",
        b"%1\r\n$1\r\nt\r\n*1\r\n*2\r\n$3\r\n5-0\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n",
    );
    raw.roundtrip(b"XREAD STREAMS t 5\r\n", b"_\r\n");
}

#[test]
fn consumer_groups_split_work_and_acknowledge() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    assert_eq!(
        err(&mut con, &["XGROUP", "CREATE", "s", "g", "$"]),
        "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically."
    );
    assert_eq!(
        q(&mut con, &["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]),
        "OK"
    );
    assert_eq!(
        err(&mut con, &["XGROUP", "CREATE", "s", "g", "0"]),
        "BUSYGROUP Consumer Group name already exists"
    );
    for i in 1..=4 {
        q(
            &mut con,
            &["XADD", "s", &i.to_string(), "job", &i.to_string()],
        );
    }
    // Two consumers split the work.
    assert_eq!(
        q(
            &mut con,
            &[
                "XREADGROUP",
                "GROUP",
                "g",
                "alice",
                "COUNT",
                "2",
                "STREAMS",
                "s",
                ">"
            ]
        ),
        "[[s,[[1-0,[job,1]],[2-0,[job,2]]]]]"
    );
    assert_eq!(
        q(
            &mut con,
            &["XREADGROUP", "GROUP", "g", "bob", "STREAMS", "s", ">"]
        ),
        "[[s,[[3-0,[job,3]],[4-0,[job,4]]]]]"
    );
    assert_eq!(
        q(
            &mut con,
            &["XREADGROUP", "GROUP", "g", "bob", "STREAMS", "s", ">"]
        ),
        "nil"
    );
    assert_eq!(
        q(&mut con, &["XPENDING", "s", "g"]),
        "[4,1-0,4-0,[[alice,2],[bob,2]]]"
    );
    // Each consumer's history is its own.
    assert_eq!(
        q(
            &mut con,
            &["XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", "0"]
        ),
        "[[s,[[1-0,[job,1]],[2-0,[job,2]]]]]"
    );
    assert_eq!(q(&mut con, &["XACK", "s", "g", "1", "3", "99"]), "2");
    assert_eq!(q(&mut con, &["XACK", "s", "g", "1"]), "0");
    assert_eq!(q(&mut con, &["XACK", "s", "nog", "1"]), "0");
    assert_eq!(q(&mut con, &["XACK", "nokey", "g", "1"]), "0");
    assert_eq!(
        err(&mut con, &["XACK", "s", "g", "2", "bad"]),
        "ERR Invalid stream ID specified as stream command argument"
    );
    assert_eq!(
        q(&mut con, &["XPENDING", "s", "g"]),
        "[2,2-0,4-0,[[alice,1],[bob,1]]]"
    );
    // Extended form; idle times are small.
    let v = run(&mut con, &["XPENDING", "s", "g", "-", "+", "10"]).unwrap();
    let Value::Array(rows) = v else { panic!() };
    assert_eq!(rows.len(), 2);
    assert_eq!(
        q(&mut con, &["XPENDING", "s", "g", "-", "+", "10", "bob"])
            .split(',')
            .next(),
        Some("[[4-0")
    );
    assert_eq!(
        q(&mut con, &["XPENDING", "s", "g", "-", "+", "10", "nobody"]),
        "[]"
    );
    assert_eq!(
        q(&mut con, &["XPENDING", "s", "g", "(2", "+", "10", "alice"]),
        "[]"
    );
    assert_eq!(
        q(
            &mut con,
            &["XPENDING", "s", "g", "IDLE", "100000", "-", "+", "10"]
        ),
        "[]"
    );
    assert_eq!(q(&mut con, &["XPENDING", "s", "g", "-", "+", "0"]), "[]");
    assert_eq!(
        err(&mut con, &["XPENDING", "s", "g", "-", "+"]),
        "ERR syntax error"
    );
    assert_eq!(
        err(&mut con, &["XPENDING", "s", "g", "IDLE", "5", "-", "+"]),
        "ERR syntax error"
    );
    assert_eq!(
        err(&mut con, &["XPENDING", "s", "g", "-", "+", "x"]),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(
        err(&mut con, &["XPENDING", "s", "nog"]),
        "NOGROUP No such key 's' or consumer group 'nog'"
    );
    // NOACK delivers without adding to the PEL.
    q(&mut con, &["XADD", "s", "5", "job", "5"]);
    assert_eq!(
        q(
            &mut con,
            &[
                "XREADGROUP",
                "GROUP",
                "g",
                "carol",
                "NOACK",
                "STREAMS",
                "s",
                ">"
            ]
        ),
        "[[s,[[5-0,[job,5]]]]]"
    );
    assert_eq!(
        q(&mut con, &["XPENDING", "s", "g"]).split(',').next(),
        Some("[2")
    );
    // History of a deleted entry comes back with a nil body.
    q(&mut con, &["XDEL", "s", "2"]);
    assert_eq!(
        q(
            &mut con,
            &["XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", "0"]
        ),
        "[[s,[[2-0,nil]]]]"
    );
    // Errors.
    assert_eq!(
        err(
            &mut con,
            &["XREADGROUP", "GROUP", "nog", "c", "STREAMS", "s", ">"]
        ),
        "NOGROUP No such key 's' or consumer group 'nog' in XREADGROUP with GROUP option"
    );
    assert_eq!(
        err(&mut con, &["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "$"]),
        "ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set."
    );
    assert_eq!(
        err(&mut con, &["XREADGROUP", "COUNT", "1", "STREAMS", "s", ">", "x"]),
        "ERR Unbalanced XREADGROUP list of streams: for each stream key an ID or '>' must be specified."
    );
    assert_eq!(
        err(
            &mut con,
            &["XREADGROUP", "COUNT", "1", "STREAMS", "s", "t", ">", ">"]
        ),
        "ERR Missing GROUP option for XREADGROUP"
    );
    assert_eq!(
        err(&mut con, &["XREADGROUP", "GROUP", "g", "c", "STREAMS"]),
        "ERR wrong number of arguments for 'xreadgroup' command"
    );
}

#[test]
fn crashed_consumer_entries_are_claimed() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    q(&mut con, &["XGROUP", "CREATE", "s", "g", "0", "MKSTREAM"]);
    for i in 1..=5 {
        q(
            &mut con,
            &["XADD", "s", &i.to_string(), "job", &i.to_string()],
        );
    }
    // The worker takes everything and crashes.
    q(
        &mut con,
        &["XREADGROUP", "GROUP", "g", "crashed", "STREAMS", "s", ">"],
    );
    // Make its deliveries look old, as if it had stopped long ago.
    assert_eq!(
        q(
            &mut con,
            &[
                "XCLAIM", "s", "g", "crashed", "0", "1", "2", "3", "4", "5", "IDLE", "3600000",
                "JUSTID"
            ]
        ),
        "[1-0,2-0,3-0,4-0,5-0]"
    );
    q(&mut con, &["XDEL", "s", "3"]);
    // Too recent for a one-day minimum: nothing claimed, but the deleted entry is dropped from the
    // PEL and reported.
    assert_eq!(
        q(
            &mut con,
            &["XAUTOCLAIM", "s", "g", "rescuer", "86400000", "0"]
        ),
        "[0-0,[],[3-0]]"
    );
    assert_eq!(
        q(
            &mut con,
            &[
                "XAUTOCLAIM",
                "s",
                "g",
                "rescuer",
                "60000",
                "0",
                "COUNT",
                "2"
            ]
        ),
        "[4-0,[[1-0,[job,1]],[2-0,[job,2]]],[]]"
    );
    assert_eq!(
        q(
            &mut con,
            &["XAUTOCLAIM", "s", "g", "rescuer", "60000", "4-0", "JUSTID"]
        ),
        "[0-0,[4-0,5-0],[]]"
    );
    assert_eq!(
        q(&mut con, &["XPENDING", "s", "g"]),
        "[4,1-0,5-0,[[rescuer,4]]]"
    );
    // Delivery counts: 1 read + 1 claim for 1 and 2; JUSTID does not count.
    let rows = q(&mut con, &["XPENDING", "s", "g", "-", "+", "10"]);
    assert!(rows.starts_with("[[1-0,rescuer,"), "{rows}");
    assert!(rows.contains(",2],[2-0,rescuer,"), "{rows}");
    assert!(rows.ends_with(",1]]"), "{rows}");
    // XCLAIM options.
    assert_eq!(
        q(
            &mut con,
            &[
                "XCLAIM",
                "s",
                "g",
                "other",
                "0",
                "1",
                "RETRYCOUNT",
                "9",
                "TIME",
                "0"
            ]
        ),
        "[[1-0,[job,1]]]"
    );
    let row = q(&mut con, &["XPENDING", "s", "g", "-", "1", "1"]);
    assert!(
        row.starts_with("[[1-0,other,") && row.ends_with(",9]]"),
        "{row}"
    );
    assert_eq!(
        q(&mut con, &["XCLAIM", "s", "g", "other", "0", "3", "FORCE"]),
        "[]"
    );
    q(&mut con, &["XADD", "s", "6", "job", "6"]);
    assert_eq!(
        q(
            &mut con,
            &["XCLAIM", "s", "g", "other", "0", "6", "FORCE", "JUSTID", "LASTID", "6"]
        ),
        "[6-0]"
    );
    let groups = q(&mut con, &["XINFO", "GROUPS", "s"]);
    assert!(groups.contains("last-delivered-id,6-0"), "{groups}");
    assert_eq!(
        err(&mut con, &["XCLAIM", "s", "g", "c", "x", "1"]),
        "ERR Invalid min-idle-time argument for XCLAIM"
    );
    assert_eq!(
        err(&mut con, &["XCLAIM", "s", "g", "c", "0", "1", "IDLE", "x"]),
        "ERR Invalid IDLE option argument for XCLAIM"
    );
    assert_eq!(
        err(&mut con, &["XCLAIM", "s", "g", "c", "0", "1", "TIME", "x"]),
        "ERR Invalid TIME option argument for XCLAIM"
    );
    assert_eq!(
        err(
            &mut con,
            &["XCLAIM", "s", "g", "c", "0", "1", "RETRYCOUNT", "x"]
        ),
        "ERR Invalid RETRYCOUNT option argument for XCLAIM"
    );
    assert_eq!(
        err(&mut con, &["XCLAIM", "s", "g", "c", "0", "1", "BOGUS"]),
        "ERR Unrecognized XCLAIM option 'BOGUS'"
    );
    assert_eq!(
        err(&mut con, &["XCLAIM", "s", "nog", "c", "0", "1"]),
        "NOGROUP No such key 's' or consumer group 'nog'"
    );
    assert_eq!(
        err(
            &mut con,
            &["XAUTOCLAIM", "s", "g", "c", "0", "0", "COUNT", "0"]
        ),
        "ERR COUNT must be > 0"
    );
    assert_eq!(
        err(&mut con, &["XAUTOCLAIM", "s", "g", "c", "x", "0"]),
        "ERR Invalid min-idle-time argument for XAUTOCLAIM"
    );
    assert_eq!(
        err(&mut con, &["XAUTOCLAIM", "s", "g", "c", "0", "0", "FOO"]),
        "ERR syntax error"
    );
    assert_eq!(
        err(&mut con, &["XAUTOCLAIM", "nokey", "g", "c", "0", "0"]),
        "NOGROUP No such key 'nokey' or consumer group 'g'"
    );
    assert_eq!(
        err(&mut con, &["XAUTOCLAIM", "s", "g", "c", "0"]),
        "ERR wrong number of arguments for 'xautoclaim' command"
    );
}

#[test]
fn xgroup_subcommands_and_xinfo() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    q(&mut con, &["XADD", "s", "1", "a", "1"]);
    q(&mut con, &["XADD", "s", "2", "b", "2"]);
    assert_eq!(q(&mut con, &["XGROUP", "CREATE", "s", "g", "$"]), "OK");
    assert_eq!(
        q(
            &mut con,
            &["XGROUP", "CREATE", "s", "g2", "0", "ENTRIESREAD", "5"]
        ),
        "OK"
    );
    assert_eq!(
        err(
            &mut con,
            &["XGROUP", "CREATE", "s", "g3", "0", "ENTRIESREAD", "-2"]
        ),
        "ERR value for ENTRIESREAD must be positive or -1"
    );
    assert_eq!(
        err(&mut con, &["XGROUP", "CREATE", "s", "g3", "0", "FOO"]),
        "ERR unknown subcommand or wrong number of arguments for 'CREATE'. Try XGROUP HELP."
    );
    assert_eq!(
        err(&mut con, &["XGROUP", "CREATE", "s", "g3"]),
        "ERR wrong number of arguments for 'xgroup|create' command"
    );
    assert_eq!(
        err(&mut con, &["XGROUP", "FOO"]),
        "ERR unknown subcommand 'FOO'. Try XGROUP HELP."
    );
    assert_eq!(
        q(&mut con, &["XINFO", "GROUPS", "s"]),
        "[[name,g,consumers,0,pending,0,last-delivered-id,2-0,entries-read,nil,lag,0],[name,g2,consumers,0,pending,0,last-delivered-id,0-0,entries-read,5,lag,-3]]"
    );
    assert_eq!(
        q(&mut con, &["XGROUP", "CREATECONSUMER", "s", "g", "c1"]),
        "1"
    );
    assert_eq!(
        q(&mut con, &["XGROUP", "CREATECONSUMER", "s", "g", "c1"]),
        "0"
    );
    assert_eq!(
        err(&mut con, &["XGROUP", "CREATECONSUMER", "s", "nog", "c1"]),
        "NOGROUP No such consumer group 'nog' for key name 's'"
    );
    assert_eq!(q(&mut con, &["XGROUP", "SETID", "s", "g", "0"]), "OK");
    assert_eq!(
        q(
            &mut con,
            &["XREADGROUP", "GROUP", "g", "c1", "STREAMS", "s", ">"]
        ),
        "[[s,[[1-0,[a,1]],[2-0,[b,2]]]]]"
    );
    assert_eq!(
        q(
            &mut con,
            &["XGROUP", "SETID", "s", "g2", "$", "ENTRIESREAD", "2"]
        ),
        "OK"
    );
    assert_eq!(
        err(&mut con, &["XGROUP", "SETID", "s", "g2", "0", "FOO", "1"]),
        "ERR unknown subcommand or wrong number of arguments for 'SETID'. Try XGROUP HELP."
    );
    assert_eq!(
        err(&mut con, &["XGROUP", "SETID", "nokey", "g", "0"]),
        "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically."
    );
    let consumers = q(&mut con, &["XINFO", "CONSUMERS", "s", "g"]);
    assert!(
        consumers.starts_with("[[name,c1,pending,2,idle,"),
        "{consumers}"
    );
    assert!(consumers.contains(",inactive,"), "{consumers}");
    assert_eq!(
        err(&mut con, &["XINFO", "CONSUMERS", "s", "nog"]),
        "NOGROUP No such consumer group 'nog' for key name 's'"
    );
    let stream = q(&mut con, &["XINFO", "STREAM", "s"]);
    assert_eq!(
        stream,
        "[length,2,radix-tree-keys,1,radix-tree-nodes,2,last-generated-id,2-0,max-deleted-entry-id,0-0,entries-added,2,recorded-first-entry-id,1-0,groups,2,first-entry,[1-0,[a,1]],last-entry,[2-0,[b,2]]]"
    );
    let full = q(&mut con, &["XINFO", "STREAM", "s", "FULL", "COUNT", "1"]);
    assert!(full.contains("entries,[[1-0,[a,1]]],groups,[[name,g,last-delivered-id,2-0,entries-read,2,lag,0,pel-count,2,pending,[[1-0,c1,"), "{full}");
    assert_eq!(
        err(&mut con, &["XINFO", "STREAM", "s", "FOO"]),
        "ERR unknown subcommand or wrong number of arguments for 'STREAM'. Try XINFO HELP."
    );
    assert_eq!(
        err(&mut con, &["XINFO", "STREAM", "nokey"]),
        "ERR no such key"
    );
    assert_eq!(
        err(&mut con, &["XINFO", "GROUPS", "nokey"]),
        "ERR no such key"
    );
    let help = q(&mut con, &["XINFO", "HELP"]);
    assert!(help.starts_with("[XINFO <subcommand>"), "{help}");
    let help = q(&mut con, &["XGROUP", "HELP"]);
    assert!(help.starts_with("[XGROUP <subcommand>"), "{help}");
    // DELCONSUMER drops its pending entries; DESTROY the group.
    assert_eq!(q(&mut con, &["XGROUP", "DELCONSUMER", "s", "g", "c1"]), "2");
    assert_eq!(q(&mut con, &["XGROUP", "DELCONSUMER", "s", "g", "c1"]), "0");
    assert_eq!(q(&mut con, &["XPENDING", "s", "g"]), "[0,nil,nil,nil]");
    assert_eq!(q(&mut con, &["XGROUP", "DESTROY", "s", "g"]), "1");
    assert_eq!(q(&mut con, &["XGROUP", "DESTROY", "s", "g"]), "0");
    assert_eq!(
        err(&mut con, &["XGROUP", "DESTROY", "nokey", "g"]),
        "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically."
    );
}

fn conn_at(port: u16) -> Connection {
    redis::Client::open(format!("redis://127.0.0.1:{port}/"))
        .unwrap()
        .get_connection()
        .unwrap()
}

fn in_thread(port: u16, args: &'static [&'static str]) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut con = conn_at(port);
        match run(&mut con, args) {
            Ok(v) => show(&v),
            Err(e) => format!("{} {}", e.code().unwrap_or(""), e.detail().unwrap_or("")),
        }
    })
}

#[test]
fn xread_block_wakes_every_reader_and_times_out() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    q(&mut con, &["XADD", "s", "1", "old", "1"]);
    let a = in_thread(srv.port, &["XREAD", "BLOCK", "0", "STREAMS", "s", "$"]);
    let b = in_thread(
        srv.port,
        &["XREAD", "BLOCK", "10000", "STREAMS", "other", "s", "$", "$"],
    );
    common::wait_blocked_clients(&mut con, 2);
    // A write that adds nothing readable does not release them.
    q(&mut con, &["XADD", "other2", "1", "x", "1"]);
    // Two entries in one pipeline: `$` keeps meaning 1-0 for the readers however the retries interleave.
    let _: () = redis::pipe()
        .cmd("XADD")
        .arg("s")
        .arg("2")
        .arg("new")
        .arg("2")
        .ignore()
        .cmd("XADD")
        .arg("s")
        .arg("3")
        .arg("new")
        .arg("3")
        .ignore()
        .query(&mut con)
        .unwrap();
    let ra = a.join().unwrap();
    let rb = b.join().unwrap();
    assert!(ra.starts_with("[[s,[[2-0,[new,2]]"), "{ra}");
    assert!(rb.starts_with("[[s,[[2-0,[new,2]]"), "{rb}");
    // Timeouts give a nil reply after about the time asked (milliseconds).
    let started = Instant::now();
    assert_eq!(
        q(&mut con, &["XREAD", "BLOCK", "100", "STREAMS", "s", "$"]),
        "nil"
    );
    assert!(started.elapsed() >= Duration::from_millis(90));
    // Entries already there are served at once.
    assert_eq!(
        q(
            &mut con,
            &["XREAD", "BLOCK", "0", "COUNT", "1", "STREAMS", "s", "0"]
        ),
        "[[s,[[1-0,[old,1]]]]]"
    );
    // A stream created while waiting.
    let c = in_thread(srv.port, &["XREAD", "BLOCK", "0", "STREAMS", "fresh", "$"]);
    common::wait_blocked_clients(&mut con, 1);
    q(&mut con, &["XADD", "fresh", "7", "f", "v"]);
    assert_eq!(c.join().unwrap(), "[[fresh,[[7-0,[f,v]]]]]");
}

#[test]
fn xreadgroup_block_serves_one_consumer_per_entry() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    q(&mut con, &["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]);
    let a = in_thread(
        srv.port,
        &[
            "XREADGROUP",
            "GROUP",
            "g",
            "a",
            "BLOCK",
            "0",
            "STREAMS",
            "s",
            ">",
        ],
    );
    common::wait_blocked_clients(&mut con, 1);
    let b = in_thread(
        srv.port,
        &[
            "XREADGROUP",
            "GROUP",
            "g",
            "b",
            "BLOCK",
            "0",
            "STREAMS",
            "s",
            ">",
        ],
    );
    common::wait_blocked_clients(&mut con, 2);
    q(&mut con, &["XADD", "s", "1", "job", "1"]);
    let first = a.join().unwrap();
    assert_eq!(first, "[[s,[[1-0,[job,1]]]]]");
    common::wait_blocked_clients(&mut con, 1);
    q(&mut con, &["XADD", "s", "2", "job", "2"]);
    assert_eq!(b.join().unwrap(), "[[s,[[2-0,[job,2]]]]]");
    assert_eq!(
        q(&mut con, &["XPENDING", "s", "g"]),
        "[2,1-0,2-0,[[a,1],[b,1]]]"
    );
    // Timeout.
    assert_eq!(
        q(
            &mut con,
            &[
                "XREADGROUP",
                "GROUP",
                "g",
                "a",
                "BLOCK",
                "50",
                "STREAMS",
                "s",
                ">"
            ]
        ),
        "nil"
    );
    // History never blocks.
    assert_eq!(
        q(
            &mut con,
            &[
                "XREADGROUP",
                "GROUP",
                "g",
                "a",
                "BLOCK",
                "0",
                "STREAMS",
                "s",
                "1"
            ]
        ),
        "[[s,[]]]"
    );
    // Destroying the group or deleting the key releases blocked consumers with an error.
    let c = in_thread(
        srv.port,
        &[
            "XREADGROUP",
            "GROUP",
            "g",
            "c",
            "BLOCK",
            "0",
            "STREAMS",
            "s",
            ">",
        ],
    );
    common::wait_blocked_clients(&mut con, 1);
    q(&mut con, &["XGROUP", "DESTROY", "s", "g"]);
    assert_eq!(
        c.join().unwrap(),
        "NOGROUP the consumer group this client was blocked on no longer exists"
    );
    q(&mut con, &["XGROUP", "CREATE", "s", "g", "$"]);
    let d = in_thread(
        srv.port,
        &[
            "XREADGROUP",
            "GROUP",
            "g",
            "d",
            "BLOCK",
            "0",
            "STREAMS",
            "s",
            ">",
        ],
    );
    common::wait_blocked_clients(&mut con, 1);
    q(&mut con, &["DEL", "s"]);
    assert_eq!(
        d.join().unwrap(),
        "UNBLOCKED the stream key no longer exists"
    );
}

#[test]
fn random_stream_commands_match_redis() {
    let Some(redis) = common::diff::start_redis() else {
        return;
    };
    let srv = TestServer::start();
    // STREAMS_SEEDS=n runs more seeds when hunting for differences.
    let seeds: u64 = std::env::var("STREAMS_SEEDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    for seed in 0..seeds {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut cmds: Vec<Vec<Vec<u8>>> = vec![vec![b"FLUSHALL".to_vec()]];
        let keys = ["s1", "s2", "str"];
        let groups = ["g1", "g2"];
        let consumers = ["c1", "c2"];
        let mut next_ms = 1u64;
        for _ in 0..500 {
            let k = keys[rng.gen_range(0..keys.len())];
            let g = groups[rng.gen_range(0..groups.len())];
            let c = consumers[rng.gen_range(0..consumers.len())];
            let id = format!("{}-{}", rng.gen_range(0..next_ms + 2), rng.gen_range(0..3));
            let id2 = format!("{}", rng.gen_range(0..next_ms + 2));
            let n = format!("{}", rng.gen_range(-1..6));
            let add_id = if rng.gen_bool(0.8) {
                next_ms += 1;
                format!("{next_ms}-{}", rng.gen_range(0..2))
            } else {
                id.clone()
            };
            let cmd: Vec<String> = match rng.gen_range(0..30) {
                0..=3 => vec!["XADD".into(), k.into(), add_id, "f".into(), n.clone()],
                4 => vec![
                    "XADD".into(),
                    k.into(),
                    "MAXLEN".into(),
                    n.clone(),
                    add_id,
                    "f".into(),
                    "v".into(),
                ],
                5 => vec![
                    "XADD".into(),
                    k.into(),
                    "NOMKSTREAM".into(),
                    "MINID".into(),
                    id.clone(),
                    add_id,
                    "f".into(),
                    "v".into(),
                ],
                6 => vec![
                    "XRANGE".into(),
                    k.into(),
                    id.clone(),
                    "+".into(),
                    "COUNT".into(),
                    n.clone(),
                ],
                7 => vec!["XREVRANGE".into(), k.into(), "+".into(), format!("({id2}")],
                8 => vec!["XDEL".into(), k.into(), id.clone(), id2.clone()],
                9 => vec!["XTRIM".into(), k.into(), "MAXLEN".into(), n.clone()],
                24 => vec![
                    "XTRIM".into(),
                    k.into(),
                    "MINID".into(),
                    "~".into(),
                    id.clone(),
                    "LIMIT".into(),
                    n.clone(),
                ],
                25 => {
                    // A burst of entries, then approximate trimming: whole blocks only, as Redis.
                    let mut c = vec![
                        "XADD".into(),
                        k.into(),
                        "MAXLEN".into(),
                        "~".into(),
                        format!("{}", rng.gen_range(0..300)),
                    ];
                    next_ms += 1;
                    c.push(format!("{next_ms}-0"));
                    c.push("f".into());
                    c.push("x".repeat(rng.gen_range(0..80)));
                    c
                }
                10 => vec!["XLEN".into(), k.into()],
                11 => vec![
                    "XREAD".into(),
                    "COUNT".into(),
                    n.clone(),
                    "STREAMS".into(),
                    "s1".into(),
                    "s2".into(),
                    id.clone(),
                    id2.clone(),
                ],
                12 => vec![
                    "XGROUP".into(),
                    "CREATE".into(),
                    k.into(),
                    g.into(),
                    id2.clone(),
                    "MKSTREAM".into(),
                ],
                13 => vec![
                    "XGROUP".into(),
                    "SETID".into(),
                    k.into(),
                    g.into(),
                    id.clone(),
                ],
                14 => vec![
                    "XGROUP".into(),
                    "CREATECONSUMER".into(),
                    k.into(),
                    g.into(),
                    c.into(),
                ],
                15 => vec![
                    "XGROUP".into(),
                    "DELCONSUMER".into(),
                    k.into(),
                    g.into(),
                    c.into(),
                ],
                16 | 17 => vec![
                    "XREADGROUP".into(),
                    "GROUP".into(),
                    g.into(),
                    c.into(),
                    "COUNT".into(),
                    n.clone(),
                    "STREAMS".into(),
                    k.into(),
                    if rng.gen_bool(0.7) {
                        ">".into()
                    } else {
                        id2.clone()
                    },
                ],
                18 => vec!["XACK".into(), k.into(), g.into(), id.clone(), id2.clone()],
                19 => vec!["XPENDING".into(), k.into(), g.into()],
                20 => vec![
                    "XCLAIM".into(),
                    k.into(),
                    g.into(),
                    c.into(),
                    "0".into(),
                    id.clone(),
                    id2.clone(),
                    "JUSTID".into(),
                ],
                21 => vec![
                    "XAUTOCLAIM".into(),
                    k.into(),
                    g.into(),
                    c.into(),
                    "0".into(),
                    id2.clone(),
                    "COUNT".into(),
                    "2".into(),
                ],
                22 => vec!["XINFO".into(), "GROUPS".into(), k.into()],
                23 => vec!["XINFO".into(), "STREAM".into(), k.into()],
                _ => vec![
                    "XADD".into(),
                    k.into(),
                    {
                        next_ms += 1;
                        format!("{next_ms}")
                    },
                    "f".into(),
                    "v".into(),
                ],
            };
            cmds.push(cmd.into_iter().map(String::into_bytes).collect());
            if std::env::var("STREAMS_DEBUG").is_ok() {
                for key in ["s1", "s2"] {
                    cmds.push(vec![b"XINFO".to_vec(), b"GROUPS".to_vec(), key.into()]);
                }
            }
            if rng.gen_range(0..40) == 0 {
                cmds.push(vec![b"SET".to_vec(), b"str".to_vec(), b"x".to_vec()]);
            }
        }
        common::diff::compare_all(redis.port, srv.port, &format!("streams seed {seed}"), cmds);
    }
}

/// One XADD serves every client blocked in XREAD on the stream at once, whatever their order and
/// whether the first in line can use the entry: a reader waiting for an ID beyond the new entry finds
/// nothing, keeps waiting without holding the others back, and is served by a later XADD. Consumers in
/// XREADGROUP `>` take new entries in turn: one XADD serves one of them.
#[test]
fn xadd_wakes_every_blocked_reader() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    q(&mut con, &["XADD", "s", "1", "old", "1"]);
    // First in line: waits for entries after 5-0, which the next XADD does not provide.
    let late = in_thread(srv.port, &["XREAD", "BLOCK", "0", "STREAMS", "s", "5"]);
    common::wait_blocked_clients(&mut con, 1);
    let readers: Vec<_> = (0..3)
        .map(|_| in_thread(srv.port, &["XREAD", "BLOCK", "0", "STREAMS", "s", "$"]))
        .collect();
    common::wait_blocked_clients(&mut con, 4);
    q(&mut con, &["XADD", "s", "2", "new", "2"]);
    for r in readers {
        assert_eq!(r.join().unwrap(), "[[s,[[2-0,[new,2]]]]]");
    }
    // The late reader re-ran, found nothing, and is still waiting.
    common::wait_blocked_clients(&mut con, 1);
    assert!(!late.is_finished());
    q(&mut con, &["XADD", "s", "6", "newer", "6"]);
    assert_eq!(late.join().unwrap(), "[[s,[[6-0,[newer,6]]]]]");

    // Consumers of a group share the entries: one XADD serves exactly one of two blocked consumers.
    q(&mut con, &["XGROUP", "CREATE", "s", "g", "$"]);
    let c1 = in_thread(
        srv.port,
        &[
            "XREADGROUP",
            "GROUP",
            "g",
            "c1",
            "BLOCK",
            "0",
            "STREAMS",
            "s",
            ">",
        ],
    );
    let c2 = in_thread(
        srv.port,
        &[
            "XREADGROUP",
            "GROUP",
            "g",
            "c2",
            "BLOCK",
            "0",
            "STREAMS",
            "s",
            ">",
        ],
    );
    common::wait_blocked_clients(&mut con, 2);
    q(&mut con, &["XADD", "s", "7", "job", "7"]);
    common::wait_blocked_clients(&mut con, 1);
    q(&mut con, &["XADD", "s", "8", "job", "8"]);
    let mut got = [c1.join().unwrap(), c2.join().unwrap()];
    got.sort();
    assert_eq!(
        got,
        [
            "[[s,[[7-0,[job,7]]]]]".to_string(),
            "[[s,[[8-0,[job,8]]]]]".to_string()
        ]
    );
}
