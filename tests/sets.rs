//! Set commands against a real Ferrite server: SADD SREM SMEMBERS SISMEMBER SMISMEMBER SCARD SPOP
//! SRANDMEMBER SMOVE SINTER SINTERCARD SUNION SDIFF SINTERSTORE SUNIONSTORE SDIFFSTORE SSCAN.
//! Error texts are compared byte for byte with Redis 7.2's; encodings follow Redis 7.2 (intset,
//! listpack, hashtable); a randomized differential test runs the same commands against a real
//! redis-server when one is installed.

mod common;

use std::collections::{BTreeSet, HashMap};

use common::diff::{read_frame, start_redis, Conn};
use common::{bulk, cmd, err, int, ok, resp, TestServer};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use redis::{Connection, Value as V};

fn strings(v: V) -> Vec<String> {
    match v {
        V::Array(items) | V::Set(items) => items
            .into_iter()
            .map(|i| match i {
                V::BulkString(b) => String::from_utf8(b).expect("utf8"),
                v => panic!("expected strings, got {v:?}"),
            })
            .collect(),
        v => panic!("expected an array, got {v:?}"),
    }
}

/// The reply of a command returning members, in the order the server sent them.
fn list(con: &mut Connection, args: &[&str]) -> Vec<String> {
    strings(cmd(con, args))
}

fn sorted(con: &mut Connection, args: &[&str]) -> Vec<String> {
    let mut v = list(con, args);
    v.sort();
    v
}

fn encoding(con: &mut Connection, key: &str) -> String {
    bulk(con, &["OBJECT", "ENCODING", key]).expect("key exists")
}

fn exists(con: &mut Connection, key: &str) -> bool {
    int(con, &["EXISTS", key]) == 1
}

fn sadd(con: &mut Connection, key: &str, members: &[&str]) -> i64 {
    let mut args = vec!["SADD", key];
    args.extend_from_slice(members);
    int(con, &args)
}

fn owned(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
const SYNTAX: &str = "ERR syntax error";

#[test]
fn sadd_srem_scard_sismember() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    assert_eq!(sadd(&mut con, "s", &["a", "b", "a"]), 2);
    assert_eq!(sadd(&mut con, "s", &["b", "c"]), 1);
    assert_eq!(int(&mut con, &["SCARD", "s"]), 3);
    assert_eq!(int(&mut con, &["SCARD", "nokey"]), 0);
    assert_eq!(int(&mut con, &["SISMEMBER", "s", "a"]), 1);
    assert_eq!(int(&mut con, &["SISMEMBER", "s", "z"]), 0);
    assert_eq!(int(&mut con, &["SISMEMBER", "nokey", "a"]), 0);
    assert_eq!(
        cmd(&mut con, &["SMISMEMBER", "s", "a", "z", "c", "a"]),
        V::Array(vec![V::Int(1), V::Int(0), V::Int(1), V::Int(1)])
    );
    assert_eq!(
        cmd(&mut con, &["SMISMEMBER", "nokey", "a", "b"]),
        V::Array(vec![V::Int(0), V::Int(0)])
    );
    assert_eq!(int(&mut con, &["SREM", "s", "a", "z", "a"]), 1);
    assert_eq!(int(&mut con, &["SREM", "nokey", "a"]), 0);
    assert_eq!(sorted(&mut con, &["SMEMBERS", "s"]), owned(&["b", "c"]));
    assert_eq!(bulk(&mut con, &["TYPE", "s"]).as_deref(), Some("set"));
    // Removing the last members deletes the key.
    assert_eq!(int(&mut con, &["SREM", "s", "b", "c", "d"]), 2);
    assert!(!exists(&mut con, "s"));
    assert_eq!(list(&mut con, &["SMEMBERS", "s"]), Vec::<String>::new());
    // Integers too.
    assert_eq!(sadd(&mut con, "i", &["5", "-1"]), 2);
    assert_eq!(int(&mut con, &["SREM", "i", "05", "5", "-1"]), 2);
    assert!(!exists(&mut con, "i"));
}

#[test]
fn members_are_binary_safe() {
    let srv = TestServer::start();
    let mut raw = srv.raw();
    raw.roundtrip(
        &resp(&[b"SADD", b"k", b"a\x00\xff", b"", b"\r\n"]),
        b":3\r\n",
    );
    raw.roundtrip(&resp(&[b"SISMEMBER", b"k", b"a\x00\xff"]), b":1\r\n");
    raw.roundtrip(&resp(&[b"SISMEMBER", b"k", b"a\x00"]), b":0\r\n");
    raw.roundtrip(&resp(&[b"SISMEMBER", b"k", b""]), b":1\r\n");
    raw.roundtrip(
        &resp(&[b"SMEMBERS", b"k"]),
        b"*3\r\n$3\r\na\x00\xff\r\n$0\r\n\r\n$2\r\n\r\n\r\n",
    );
    raw.roundtrip(&resp(&[b"SREM", b"k", b"\r\n", b""]), b":2\r\n");
}

#[test]
fn wrong_type_both_ways() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    ok(&mut con, &["SET", "str", "x"]);
    sadd(&mut con, "s", &["a"]);
    for args in [
        &["SADD", "str", "a"][..],
        &["SREM", "str", "a"],
        &["SMEMBERS", "str"],
        &["SISMEMBER", "str", "a"],
        &["SMISMEMBER", "str", "a"],
        &["SCARD", "str"],
        &["SPOP", "str"],
        &["SPOP", "str", "0"],
        &["SRANDMEMBER", "str"],
        &["SRANDMEMBER", "str", "0"],
        &["SMOVE", "str", "s", "a"],
        &["SMOVE", "s", "str", "a"],
        &["SMOVE", "s", "str", "notamember"],
        &["SINTER", "s", "str"],
        &["SINTER", "nokey", "str"],
        &["SINTERCARD", "2", "nokey", "str"],
        &["SUNION", "s", "str"],
        &["SDIFF", "s", "str"],
        &["SDIFF", "nokey", "str"],
        &["SINTERSTORE", "d", "s", "str"],
        &["SUNIONSTORE", "d", "str"],
        &["SDIFFSTORE", "d", "s", "str"],
        &["SSCAN", "str", "0"],
        &["SSCAN", "str", "0", "badoption"],
    ] {
        assert_eq!(err(&mut con, args), WRONGTYPE, "{args:?}");
    }
    // The failed commands changed nothing.
    assert_eq!(bulk(&mut con, &["GET", "str"]).as_deref(), Some("x"));
    assert!(!exists(&mut con, "d"));
    // String commands refuse sets.
    for args in [
        &["GET", "s"][..],
        &["APPEND", "s", "x"],
        &["INCR", "s"],
        &["STRLEN", "s"],
        &["GETRANGE", "s", "0", "1"],
        &["SETBIT", "s", "0", "1"],
        &["BITCOUNT", "s"],
    ] {
        match common::run(&mut con, args) {
            Err(e)
                if e.code() == Some("ERR")
                    && e.detail().is_some_and(|d| d.starts_with("unknown command")) => {}
            Err(_) => assert_eq!(err(&mut con, args), WRONGTYPE, "{args:?}"),
            Ok(v) => panic!("{args:?} answered {v:?} on a set"),
        }
    }
    // SET overwrites whatever the type.
    ok(&mut con, &["SET", "s", "v"]);
    assert_eq!(bulk(&mut con, &["TYPE", "s"]).as_deref(), Some("string"));
    // SMOVE from a missing source answers 0 before looking at the destination's type.
    assert_eq!(int(&mut con, &["SMOVE", "nokey", "str", "a"]), 0);
}

#[test]
fn wrong_arity() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    for args in [
        &["SADD", "s"][..],
        &["SREM", "s"],
        &["SMEMBERS"],
        &["SMEMBERS", "a", "b"],
        &["SISMEMBER", "s"],
        &["SISMEMBER", "s", "a", "b"],
        &["SMISMEMBER", "s"],
        &["SCARD"],
        &["SPOP"],
        &["SRANDMEMBER"],
        &["SMOVE", "a", "b"],
        &["SINTER"],
        &["SINTERCARD", "1"],
        &["SUNION"],
        &["SDIFF"],
        &["SINTERSTORE", "d"],
        &["SUNIONSTORE", "d"],
        &["SDIFFSTORE", "d"],
        &["SSCAN", "s"],
    ] {
        assert_eq!(
            err(&mut con, args),
            format!(
                "ERR wrong number of arguments for '{}' command",
                args[0].to_lowercase()
            )
        );
    }
}

#[test]
fn encodings_follow_redis_7_2() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    // intset while every member is an integer, in numeric order.
    sadd(
        &mut con,
        "i",
        &[
            "3",
            "-10",
            "1",
            "9223372036854775807",
            "-9223372036854775808",
        ],
    );
    assert_eq!(encoding(&mut con, "i"), "intset");
    assert_eq!(
        list(&mut con, &["SMEMBERS", "i"]),
        owned(&[
            "-9223372036854775808",
            "-10",
            "1",
            "3",
            "9223372036854775807"
        ])
    );
    // Non-canonical integers are strings.
    for m in ["01", "+1", "-0", " 1", "9223372036854775808", "1.0"] {
        let k = format!("nc{m}");
        sadd(&mut con, &k, &[m]);
        assert_eq!(encoding(&mut con, &k), "listpack", "{m:?}");
    }
    // A string turns a small intset into a listpack that keeps the numeric order, then insertion order.
    sadd(&mut con, "i", &["b", "a", "2"]);
    assert_eq!(encoding(&mut con, "i"), "listpack");
    assert_eq!(
        list(&mut con, &["SMEMBERS", "i"]),
        owned(&[
            "-9223372036854775808",
            "-10",
            "1",
            "3",
            "9223372036854775807",
            "b",
            "a",
            "2"
        ])
    );
    // Listpack: insertion order, removal keeps the rest in place.
    sadd(&mut con, "l", &["z", "y", "x", "w"]);
    int(&mut con, &["SREM", "l", "y"]);
    assert_eq!(list(&mut con, &["SMEMBERS", "l"]), owned(&["z", "x", "w"]));
    // A member longer than 64 bytes converts to a hash table, for good.
    let long = "x".repeat(65);
    sadd(&mut con, "l", &[&long]);
    assert_eq!(encoding(&mut con, "l"), "hashtable");
    int(&mut con, &["SREM", "l", &long]);
    assert_eq!(encoding(&mut con, "l"), "hashtable");
    sadd(&mut con, "l64", &[&"x".repeat(64)]);
    assert_eq!(encoding(&mut con, "l64"), "listpack");
    // 128 strings fit a listpack, 129 do not.
    let many: Vec<String> = (0..129).map(|i| format!("m{i}")).collect();
    let refs: Vec<&str> = many.iter().map(String::as_str).collect();
    sadd(&mut con, "lp", &refs[..128]);
    assert_eq!(encoding(&mut con, "lp"), "listpack");
    sadd(&mut con, "lp", &refs[128..]);
    assert_eq!(encoding(&mut con, "lp"), "hashtable");
    // SADD of more than 128 members at once converts even if they are all duplicates.
    sadd(&mut con, "lp2", &["a"]);
    sadd(&mut con, "lp2", &[&["a"; 129][..]].concat());
    assert_eq!(encoding(&mut con, "lp2"), "hashtable");
    assert_eq!(int(&mut con, &["SCARD", "lp2"]), 1);
    // 512 integers fit an intset, 513 do not.
    let nums: Vec<String> = (0..513).map(|i| i.to_string()).collect();
    let refs: Vec<&str> = nums.iter().map(String::as_str).collect();
    sadd(&mut con, "is", &refs[..512]);
    assert_eq!(encoding(&mut con, "is"), "intset");
    sadd(&mut con, "is", &refs[512..]);
    assert_eq!(encoding(&mut con, "is"), "hashtable");
    // An intset of 128 or more members and a string: too many for a listpack.
    sadd(&mut con, "is2", &refs[..128]);
    sadd(&mut con, "is2", &["s"]);
    assert_eq!(encoding(&mut con, "is2"), "hashtable");
    sadd(&mut con, "is3", &refs[..127]);
    sadd(&mut con, "is3", &["s"]);
    assert_eq!(encoding(&mut con, "is3"), "listpack");
    // Creating with more than 128 members of which the first is a string: a hash table at once.
    let mut mixed = vec!["s"];
    mixed.extend_from_slice(&refs[..200]);
    sadd(&mut con, "mx", &mixed);
    assert_eq!(encoding(&mut con, "mx"), "hashtable");
    // ... and with the first an integer: an intset that becomes a hash table on the string.
    let mut mixed: Vec<&str> = refs[..200].to_vec();
    mixed.push("s");
    sadd(&mut con, "mx2", &mixed);
    assert_eq!(encoding(&mut con, "mx2"), "hashtable");
}

#[test]
fn encoding_thresholds_are_configurable() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    for (p, v) in [
        ("set-max-intset-entries", "512"),
        ("set-max-listpack-entries", "128"),
        ("set-max-listpack-value", "64"),
    ] {
        assert_eq!(
            cmd(&mut con, &["CONFIG", "GET", p]),
            V::Array(vec![V::BulkString(p.into()), V::BulkString(v.into())])
        );
    }
    ok(&mut con, &["CONFIG", "SET", "set-max-intset-entries", "2"]);
    ok(
        &mut con,
        &["CONFIG", "SET", "set-max-listpack-entries", "3"],
    );
    ok(&mut con, &["CONFIG", "SET", "set-max-listpack-value", "4"]);
    sadd(&mut con, "i", &["1", "2"]);
    assert_eq!(encoding(&mut con, "i"), "intset");
    sadd(&mut con, "i", &["3"]);
    assert_eq!(encoding(&mut con, "i"), "hashtable");
    sadd(&mut con, "l", &["a", "b", "c"]);
    assert_eq!(encoding(&mut con, "l"), "listpack");
    sadd(&mut con, "l", &["d"]);
    assert_eq!(encoding(&mut con, "l"), "hashtable");
    sadd(&mut con, "v", &["abcd"]);
    assert_eq!(encoding(&mut con, "v"), "listpack");
    sadd(&mut con, "v", &["abcde"]);
    assert_eq!(encoding(&mut con, "v"), "hashtable");
    assert_eq!(
        err(&mut con, &["CONFIG", "SET", "set-max-intset-entries", "-1"]),
        "ERR CONFIG SET failed (possibly related to argument 'set-max-intset-entries') - argument must be between 0 and 9223372036854775807 inclusive"
    );
    assert_eq!(
        err(&mut con, &["CONFIG", "SET", "set-max-listpack-value", "1kb"]),
        "ERR CONFIG SET failed (possibly related to argument 'set-max-listpack-value') - argument couldn't be parsed into an integer"
    );
}

#[test]
fn spop_single_and_count() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    assert_eq!(cmd(&mut con, &["SPOP", "nokey"]), V::Nil);
    assert_eq!(
        list(&mut con, &["SPOP", "nokey", "3"]),
        Vec::<String>::new()
    );
    for (key, members) in [
        ("ints", (0..20).map(|i| i.to_string()).collect::<Vec<_>>()),
        ("strs", (0..20).map(|i| format!("s{i}")).collect()),
        ("big", (0..300).map(|i| format!("b{i}")).collect()),
    ] {
        let refs: Vec<&str> = members.iter().map(String::as_str).collect();
        sadd(&mut con, key, &refs);
        let all: BTreeSet<String> = members.iter().cloned().collect();
        let mut seen = BTreeSet::new();
        // One at a time.
        let one = bulk(&mut con, &["SPOP", key]).expect("member");
        assert!(all.contains(&one));
        seen.insert(one);
        // Count 0: nothing, the set is untouched.
        assert_eq!(list(&mut con, &["SPOP", key, "0"]), Vec::<String>::new());
        // A few (pops one by one), then most of what is left (rebuilds the set).
        let n = members.len();
        for count in [2, n - 6] {
            let got = list(&mut con, &["SPOP", key, &count.to_string()]);
            assert_eq!(got.len(), count);
            for g in got {
                assert!(all.contains(&g), "{g}");
                assert!(seen.insert(g.clone()), "{g} popped twice");
            }
            assert_eq!(int(&mut con, &["SCARD", key]) as usize, n - seen.len());
        }
        // The rest are exactly the members not popped.
        let rest: BTreeSet<String> = sorted(&mut con, &["SMEMBERS", key]).into_iter().collect();
        assert_eq!(rest.len() + seen.len(), n);
        assert!(rest.is_disjoint(&seen));
        // A count of the whole set or more returns everything and deletes the key.
        let got = list(&mut con, &["SPOP", key, "1000000"]);
        assert_eq!(got.into_iter().collect::<BTreeSet<_>>(), rest);
        assert!(!exists(&mut con, key));
    }
    // SPOP of the last member deletes the key.
    sadd(&mut con, "one", &["x"]);
    assert_eq!(bulk(&mut con, &["SPOP", "one"]).as_deref(), Some("x"));
    assert!(!exists(&mut con, "one"));
    // The whole of an intset comes back in numeric order, as SUNION would list it.
    sadd(&mut con, "n", &["3", "1", "2"]);
    assert_eq!(list(&mut con, &["SPOP", "n", "3"]), owned(&["1", "2", "3"]));
    // Errors.
    sadd(&mut con, "s", &["a"]);
    for c in ["-1", "x", "-9223372036854775808", "1.5"] {
        assert_eq!(
            err(&mut con, &["SPOP", "s", c]),
            "ERR value is out of range, must be positive"
        );
    }
    assert_eq!(err(&mut con, &["SPOP", "s", "1", "2"]), SYNTAX);
    assert_eq!(
        err(&mut con, &["SPOP", "nokey", "-1"]),
        "ERR value is out of range, must be positive"
    );
    assert!(exists(&mut con, "s"));
}

#[test]
fn spop_rebuild_keeps_ttl_and_picks_compact_encodings() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    let members: Vec<String> = (0..200).map(|i| format!("m{i}")).collect();
    let refs: Vec<&str> = members.iter().map(String::as_str).collect();
    sadd(&mut con, "h", &refs);
    assert_eq!(encoding(&mut con, "h"), "hashtable");
    int(&mut con, &["EXPIRE", "h", "1000"]);
    // 195 of 200: the five left are moved to a new, compact set.
    assert_eq!(list(&mut con, &["SPOP", "h", "195"]).len(), 195);
    assert_eq!(int(&mut con, &["SCARD", "h"]), 5);
    assert_eq!(encoding(&mut con, "h"), "listpack");
    assert!(int(&mut con, &["TTL", "h"]) > 900);
    // Popping a few from a hash table keeps it a hash table.
    sadd(&mut con, "h2", &refs);
    list(&mut con, &["SPOP", "h2", "10"]);
    assert_eq!(encoding(&mut con, "h2"), "hashtable");
    // An intset rebuilt stays an intset.
    let nums: Vec<String> = (0..100).map(|i| i.to_string()).collect();
    let refs: Vec<&str> = nums.iter().map(String::as_str).collect();
    sadd(&mut con, "i", &refs);
    list(&mut con, &["SPOP", "i", "90"]);
    assert_eq!(encoding(&mut con, "i"), "intset");
    let left = list(&mut con, &["SMEMBERS", "i"]);
    let mut by_value: Vec<i64> = left.iter().map(|s| s.parse().unwrap()).collect();
    by_value.sort();
    assert_eq!(
        left,
        by_value.iter().map(|i| i.to_string()).collect::<Vec<_>>()
    );
}

#[test]
fn srandmember_properties() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    assert_eq!(cmd(&mut con, &["SRANDMEMBER", "nokey"]), V::Nil);
    assert_eq!(
        list(&mut con, &["SRANDMEMBER", "nokey", "5"]),
        Vec::<String>::new()
    );
    assert_eq!(
        list(&mut con, &["SRANDMEMBER", "nokey", "-5"]),
        Vec::<String>::new()
    );
    for (key, n) in [("ints", 10), ("strs", 10), ("big", 300)] {
        let members: Vec<String> = (0..n)
            .map(|i| {
                if key == "ints" {
                    i.to_string()
                } else {
                    format!("{key}{i}")
                }
            })
            .collect();
        let refs: Vec<&str> = members.iter().map(String::as_str).collect();
        sadd(&mut con, key, &refs);
        let all: BTreeSet<String> = members.iter().cloned().collect();
        let one = bulk(&mut con, &["SRANDMEMBER", key]).expect("member");
        assert!(all.contains(&one));
        assert_eq!(
            list(&mut con, &["SRANDMEMBER", key, "0"]),
            Vec::<String>::new()
        );
        // Positive counts: distinct members, at most the set.
        for count in [1, 3, n / 2, n - 1, n, n + 5, 1_000_000] {
            let got = list(&mut con, &["SRANDMEMBER", key, &count.to_string()]);
            assert_eq!(got.len(), count.min(n), "count {count}");
            let distinct: BTreeSet<String> = got.iter().cloned().collect();
            assert_eq!(
                distinct.len(),
                got.len(),
                "repeated members for count {count}"
            );
            assert!(distinct.is_subset(&all));
        }
        // Negative counts: exactly that many, repetition allowed (and, with many draws, seen).
        let got = list(&mut con, &["SRANDMEMBER", key, "-1000"]);
        assert_eq!(got.len(), 1000);
        assert!(got.iter().all(|g| all.contains(g)));
        let mut freq: HashMap<&String, usize> = HashMap::new();
        for g in &got {
            *freq.entry(g).or_default() += 1;
        }
        assert!(freq.values().any(|&c| c > 1));
        if n <= 10 {
            assert_eq!(freq.len(), n, "every member shows up in 1000 draws of {n}");
        }
        // Nothing was removed.
        assert_eq!(int(&mut con, &["SCARD", key]) as usize, n);
    }
    // The whole of a compact set comes back in its order.
    sadd(&mut con, "ord", &["c", "a", "b"]);
    assert_eq!(
        list(&mut con, &["SRANDMEMBER", "ord", "3"]),
        owned(&["c", "a", "b"])
    );
    sadd(&mut con, "ordi", &["3", "1", "2"]);
    assert_eq!(
        list(&mut con, &["SRANDMEMBER", "ordi", "10"]),
        owned(&["1", "2", "3"])
    );
    // Errors.
    assert_eq!(
        err(&mut con, &["SRANDMEMBER", "ints", "x"]),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(
        err(&mut con, &["SRANDMEMBER", "ints", "-9223372036854775808"]),
        "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
    );
    assert_eq!(err(&mut con, &["SRANDMEMBER", "ints", "1", "2"]), SYNTAX);
    // Ferrite refuses to build a random reply of more than 2^24 members (Redis would try and run out of
    // memory).
    assert_eq!(
        err(&mut con, &["SRANDMEMBER", "ordi", "-9223372036854775807"]),
        "ERR count is too large for a random reply"
    );
    // The largest counts are accepted on a small set (positive: the whole set).
    assert_eq!(
        list(&mut con, &["SRANDMEMBER", "ordi", "9223372036854775807"]).len(),
        3
    );
}

#[test]
fn smove_cases() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    sadd(&mut con, "a", &["1", "2", "x"]);
    sadd(&mut con, "b", &["2"]);
    assert_eq!(int(&mut con, &["SMOVE", "a", "b", "1"]), 1);
    assert_eq!(list(&mut con, &["SMEMBERS", "b"]), owned(&["1", "2"]));
    // Already in the destination: still moved out of the source.
    assert_eq!(int(&mut con, &["SMOVE", "a", "b", "2"]), 1);
    assert_eq!(list(&mut con, &["SMEMBERS", "a"]), owned(&["x"]));
    // Not a member, missing source: 0.
    assert_eq!(int(&mut con, &["SMOVE", "a", "b", "nope"]), 0);
    assert_eq!(int(&mut con, &["SMOVE", "nokey", "b", "x"]), 0);
    // Same key: 1 if a member, 0 if not, nothing changes.
    assert_eq!(int(&mut con, &["SMOVE", "a", "a", "x"]), 1);
    assert_eq!(int(&mut con, &["SMOVE", "a", "a", "y"]), 0);
    assert_eq!(list(&mut con, &["SMEMBERS", "a"]), owned(&["x"]));
    // Moving the last member deletes the source and creates the destination.
    assert_eq!(int(&mut con, &["SMOVE", "a", "new", "x"]), 1);
    assert!(!exists(&mut con, "a"));
    assert_eq!(list(&mut con, &["SMEMBERS", "new"]), owned(&["x"]));
    assert_eq!(encoding(&mut con, "new"), "listpack");
    sadd(&mut con, "c", &["7"]);
    assert_eq!(int(&mut con, &["SMOVE", "c", "newi", "7"]), 1);
    assert_eq!(encoding(&mut con, "newi"), "intset");
    // A string destination is WRONGTYPE even when the member is absent; nothing moves.
    ok(&mut con, &["SET", "str", "v"]);
    assert_eq!(err(&mut con, &["SMOVE", "b", "str", "1"]), WRONGTYPE);
    assert_eq!(err(&mut con, &["SMOVE", "b", "str", "zzz"]), WRONGTYPE);
    assert_eq!(int(&mut con, &["SCARD", "b"]), 2);
}

#[test]
fn intersection() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    sadd(&mut con, "a", &["1", "2", "3", "4", "x"]);
    sadd(&mut con, "b", &["4", "3", "x", "y"]);
    sadd(&mut con, "i", &["4", "3", "9"]);
    assert_eq!(
        sorted(&mut con, &["SINTER", "a", "b"]),
        owned(&["3", "4", "x"])
    );
    // The smallest set is iterated: an intset gives numeric order.
    assert_eq!(list(&mut con, &["SINTER", "a", "i"]), owned(&["3", "4"]));
    // b began as an intset ([3, 4]) and became a listpack on "x": its order is 3 4 x y.
    assert_eq!(
        list(&mut con, &["SINTER", "b", "a"]),
        owned(&["3", "4", "x"])
    );
    assert_eq!(
        list(&mut con, &["SINTER", "a"]),
        list(&mut con, &["SMEMBERS", "a"])
    );
    assert_eq!(
        list(&mut con, &["SINTER", "a", "a"]),
        list(&mut con, &["SMEMBERS", "a"])
    );
    assert_eq!(
        list(&mut con, &["SINTER", "a", "nokey"]),
        Vec::<String>::new()
    );
    assert_eq!(list(&mut con, &["SINTER", "nokey"]), Vec::<String>::new());
    // SINTERCARD.
    assert_eq!(int(&mut con, &["SINTERCARD", "2", "a", "b"]), 3);
    assert_eq!(
        int(&mut con, &["SINTERCARD", "2", "a", "b", "LIMIT", "2"]),
        2
    );
    assert_eq!(
        int(&mut con, &["SINTERCARD", "2", "a", "b", "limit", "0"]),
        3
    );
    assert_eq!(
        int(
            &mut con,
            &["SINTERCARD", "2", "a", "b", "LIMIT", "1", "LIMIT", "9"]
        ),
        3
    );
    assert_eq!(int(&mut con, &["SINTERCARD", "1", "a"]), 5);
    assert_eq!(int(&mut con, &["SINTERCARD", "2", "a", "nokey"]), 0);
    assert_eq!(int(&mut con, &["SINTERCARD", "3", "a", "b", "i"]), 2);
    for (args, e) in [
        (
            &["SINTERCARD", "0", "a"][..],
            "ERR numkeys should be greater than 0",
        ),
        (
            &["SINTERCARD", "-1", "a"],
            "ERR numkeys should be greater than 0",
        ),
        (
            &["SINTERCARD", "x", "a"],
            "ERR numkeys should be greater than 0",
        ),
        (
            &["SINTERCARD", "99999999999999999999", "a"],
            "ERR numkeys should be greater than 0",
        ),
        (
            &["SINTERCARD", "2", "a"],
            "ERR Number of keys can't be greater than number of args",
        ),
        (
            &["SINTERCARD", "9223372036854775807", "a"],
            "ERR Number of keys can't be greater than number of args",
        ),
        (&["SINTERCARD", "1", "a", "LIMIT"], SYNTAX),
        (
            &["SINTERCARD", "1", "a", "LIMIT", "-1"],
            "ERR LIMIT can't be negative",
        ),
        (
            &["SINTERCARD", "1", "a", "LIMIT", "x"],
            "ERR LIMIT can't be negative",
        ),
        (&["SINTERCARD", "1", "a", "b"], SYNTAX),
        (
            &["SINTERCARD", "1", "nokey", "LIMIT", "-1"],
            "ERR LIMIT can't be negative",
        ),
    ] {
        assert_eq!(err(&mut con, args), e, "{args:?}");
    }
    // The key specs name SINTERCARD's keys (dispatch locks exactly these), and nothing when numkeys
    // is invalid (the command then fails before touching a key).
    let spec = ferrite::commands::lookup(b"sintercard").expect("registered");
    let argv = ferrite::protocol::Argv::from_args::<&[&str]>;
    assert_eq!(
        spec.key_positions(&argv(&["SINTERCARD", "2", "a", "b", "LIMIT", "1"]))
            .map(|v| v.to_vec()),
        Ok(vec![2, 3])
    );
    assert!(spec
        .key_positions(&argv(&["SINTERCARD", "0", "a"]))
        .is_err());
    assert!(spec
        .key_positions(&argv(&["SINTERCARD", "3", "a"]))
        .is_err());
    assert!(spec
        .key_positions(&argv(&["SINTERCARD", "x", "a"]))
        .is_err());
}

#[test]
fn union_and_difference() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    sadd(&mut con, "a", &["1", "2", "3", "x"]);
    sadd(&mut con, "b", &["3", "4"]);
    sadd(&mut con, "c", &["x", "1"]);
    // Integers gather in numeric order until the first string; then insertion order.
    assert_eq!(
        list(&mut con, &["SUNION", "b", "a"]),
        owned(&["1", "2", "3", "4", "x"])
    );
    assert_eq!(
        list(&mut con, &["SUNION", "c", "b"]),
        owned(&["x", "1", "3", "4"])
    );
    assert_eq!(
        list(&mut con, &["SUNION", "nokey", "b"]),
        owned(&["3", "4"])
    );
    assert_eq!(list(&mut con, &["SUNION", "nokey"]), Vec::<String>::new());
    assert_eq!(
        list(&mut con, &["SDIFF", "a", "b"]),
        owned(&["1", "2", "x"])
    );
    assert_eq!(list(&mut con, &["SDIFF", "a", "b", "c"]), owned(&["2"]));
    assert_eq!(
        list(&mut con, &["SDIFF", "a", "nokey"]),
        owned(&["1", "2", "3", "x"])
    );
    assert_eq!(
        list(&mut con, &["SDIFF", "a", "b", "a"]),
        Vec::<String>::new()
    );
    assert_eq!(
        list(&mut con, &["SDIFF", "nokey", "a"]),
        Vec::<String>::new()
    );
    assert_eq!(
        list(&mut con, &["SDIFF", "a"]),
        owned(&["1", "2", "3", "x"])
    );
    // The second algorithm (first set large next to the others).
    let big: Vec<String> = (0..300).map(|i| format!("e{i}")).collect();
    let refs: Vec<&str> = big.iter().map(String::as_str).collect();
    sadd(&mut con, "big", &refs);
    sadd(&mut con, "small", &["e1", "e2"]);
    let d = sorted(&mut con, &["SDIFF", "big", "small", "nokey", "small"]);
    assert_eq!(d.len(), 298);
    assert!(!d.contains(&"e1".to_string()));
}

#[test]
fn store_variants() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    sadd(&mut con, "a", &["1", "2", "3", "x"]);
    sadd(&mut con, "b", &["3", "2", "4", "x"]);
    // The destination is overwritten whatever its type, and loses its TTL.
    for (c, expect, members) in [
        ("SINTERSTORE", 3, &["3", "2", "x"][..]),
        ("SUNIONSTORE", 5, &["1", "2", "3", "x", "4"][..]),
        ("SDIFFSTORE", 1, &["1"][..]),
    ] {
        ok(&mut con, &["SET", "d", "str"]);
        int(&mut con, &["EXPIRE", "d", "100"]);
        assert_eq!(int(&mut con, &[c, "d", "a", "b"]), expect, "{c}");
        assert_eq!(bulk(&mut con, &["TYPE", "d"]).as_deref(), Some("set"));
        assert_eq!(int(&mut con, &["TTL", "d"]), -1, "{c}");
        let mut m = list(&mut con, &["SMEMBERS", "d"]);
        let mut want = owned(members);
        if c == "SINTERSTORE" {
            m.sort();
            want.sort();
        }
        assert_eq!(m, want, "{c}");
    }
    // An empty result deletes the destination and answers 0.
    for args in [
        &["SINTERSTORE", "d", "a", "nokey"][..],
        &["SUNIONSTORE", "d", "nokey"],
        &["SDIFFSTORE", "d", "a", "a"],
        &["SDIFFSTORE", "d", "nokey", "a"],
        &["SINTERSTORE", "d", "a", "c"],
    ] {
        ok(&mut con, &["SET", "d", "str"]);
        if args.contains(&"c") {
            sadd(&mut con, "c", &["zzz"]);
        }
        assert_eq!(int(&mut con, args), 0, "{args:?}");
        assert!(!exists(&mut con, "d"), "{args:?}");
    }
    // The destination may also be a source.
    assert_eq!(int(&mut con, &["SUNIONSTORE", "a", "a", "b"]), 5);
    assert_eq!(int(&mut con, &["SCARD", "a"]), 5);
    // Result encodings: all integers make an intset, whatever the sources were.
    sadd(&mut con, "s1", &["a", "1", "2", "3"]);
    sadd(&mut con, "s2", &["3", "b", "2", "1"]);
    assert_eq!(int(&mut con, &["SINTERSTORE", "d", "s1", "s2"]), 3);
    assert_eq!(encoding(&mut con, "d"), "intset");
    assert_eq!(list(&mut con, &["SMEMBERS", "d"]), owned(&["1", "2", "3"]));
    assert_eq!(int(&mut con, &["SDIFFSTORE", "d", "s1", "s2"]), 1);
    assert_eq!(encoding(&mut con, "d"), "listpack");
    assert_eq!(int(&mut con, &["SUNIONSTORE", "d", "s1", "s2"]), 5);
    assert_eq!(encoding(&mut con, "d"), "listpack");
    // Many strings: a hash table.
    let big: Vec<String> = (0..200).map(|i| format!("e{i}")).collect();
    let refs: Vec<&str> = big.iter().map(String::as_str).collect();
    sadd(&mut con, "big", &refs);
    assert_eq!(int(&mut con, &["SUNIONSTORE", "d", "big"]), 200);
    assert_eq!(encoding(&mut con, "d"), "hashtable");
    assert_eq!(int(&mut con, &["SINTERSTORE", "d", "big", "big"]), 200);
    assert_eq!(encoding(&mut con, "d"), "hashtable");
}

/// One SSCAN call: (next cursor, members).
fn sscan_once(
    con: &mut Connection,
    key: &str,
    cursor: &str,
    extra: &[&str],
) -> (String, Vec<String>) {
    let mut args = vec!["SSCAN", key, cursor];
    args.extend_from_slice(extra);
    match cmd(con, &args) {
        V::Array(mut parts) if parts.len() == 2 => {
            let members = strings(parts.pop().expect("members"));
            let cursor = match parts.pop() {
                Some(V::BulkString(b)) => String::from_utf8(b).expect("utf8"),
                v => panic!("cursor must be a bulk string, got {v:?}"),
            };
            (cursor, members)
        }
        v => panic!("bad SSCAN reply {v:?}"),
    }
}

#[test]
fn sscan_compact_and_hashtable() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    assert_eq!(
        sscan_once(&mut con, "nokey", "0", &[]),
        ("0".into(), vec![])
    );
    // Missing keys answer before the options are looked at, as in Redis.
    assert_eq!(
        sscan_once(&mut con, "nokey", "0", &["bad"]),
        ("0".into(), vec![])
    );
    sadd(&mut con, "i", &["3", "1", "20", "2"]);
    assert_eq!(
        sscan_once(&mut con, "i", "0", &[]),
        ("0".into(), owned(&["1", "2", "3", "20"]))
    );
    // Compact sets come back whole, whatever the cursor and COUNT.
    assert_eq!(
        sscan_once(&mut con, "i", "123", &["COUNT", "1"]),
        ("0".into(), owned(&["1", "2", "3", "20"]))
    );
    assert_eq!(
        sscan_once(&mut con, "i", "0", &["MATCH", "2*"]),
        ("0".into(), owned(&["2", "20"]))
    );
    sadd(&mut con, "l", &["b", "a", "ab"]);
    assert_eq!(
        sscan_once(&mut con, "l", "0", &["MATCH", "a*", "COUNT", "100"]),
        ("0".into(), owned(&["a", "ab"]))
    );
    // A hash table: a full iteration returns every member, cursors are not 0 in between.
    let members: Vec<String> = (0..1000).map(|i| format!("m{i}")).collect();
    let refs: Vec<&str> = members.iter().map(String::as_str).collect();
    sadd(&mut con, "h", &refs);
    let mut seen = BTreeSet::new();
    let mut cursor = "0".to_string();
    let mut calls = 0;
    loop {
        let (next, got) = sscan_once(&mut con, "h", &cursor, &["COUNT", "20"]);
        calls += 1;
        assert!(got.len() < 200, "COUNT is a hint, not ignored");
        seen.extend(got);
        if next == "0" {
            break;
        }
        cursor = next;
        assert!(calls < 10_000);
    }
    assert!(calls > 10);
    assert_eq!(seen.len(), 1000);
    // MATCH filters after the walk.
    let mut matched = BTreeSet::new();
    let mut cursor = "0".to_string();
    loop {
        let (next, got) = sscan_once(&mut con, "h", &cursor, &["MATCH", "m1?", "COUNT", "50"]);
        matched.extend(got);
        if next == "0" {
            break;
        }
        cursor = next;
    }
    assert_eq!(matched.len(), 10);
    // Errors.
    assert_eq!(err(&mut con, &["SSCAN", "h", "x"]), "ERR invalid cursor");
    assert_eq!(
        err(&mut con, &["SSCAN", "nokey", "x"]),
        "ERR invalid cursor"
    );
    assert_eq!(err(&mut con, &["SSCAN", "h", "0", "COUNT", "0"]), SYNTAX);
    assert_eq!(
        err(&mut con, &["SSCAN", "h", "0", "COUNT", "x"]),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(err(&mut con, &["SSCAN", "h", "0", "TYPE", "set"]), SYNTAX);
    assert_eq!(err(&mut con, &["SSCAN", "h", "0", "MATCH"]), SYNTAX);
    assert_eq!(err(&mut con, &["SSCAN", "i", "0", "foo", "bar"]), SYNTAX);
}

#[test]
fn resp3_set_replies() {
    let srv = TestServer::start();
    let mut raw = srv.raw();
    raw.send(&resp(&[b"HELLO", b"3"]));
    // Drain HELLO's map reply.
    let mut r = std::io::BufReader::new(raw.s.try_clone().expect("clone"));
    let mut out = Vec::new();
    read_frame(&mut r, &mut out);
    let mut call = |args: &[&[u8]]| {
        raw.s
            .try_clone()
            .and_then(|mut s| std::io::Write::write_all(&mut s, &resp(args)))
            .expect("write");
        let mut out = Vec::new();
        read_frame(&mut r, &mut out);
        String::from_utf8_lossy(&out).into_owned()
    };
    assert_eq!(call(&[b"SADD", b"s", b"2", b"1"]), ":2\r\n");
    assert_eq!(call(&[b"SMEMBERS", b"s"]), "~2\r\n$1\r\n1\r\n$1\r\n2\r\n");
    assert_eq!(call(&[b"SMEMBERS", b"nokey"]), "~0\r\n");
    assert_eq!(call(&[b"SINTER", b"s", b"nokey"]), "~0\r\n");
    assert_eq!(
        call(&[b"SINTER", b"s", b"s"]),
        "~2\r\n$1\r\n1\r\n$1\r\n2\r\n"
    );
    assert_eq!(call(&[b"SUNION", b"s"]), "~2\r\n$1\r\n1\r\n$1\r\n2\r\n");
    assert_eq!(
        call(&[b"SDIFF", b"s", b"nokey"]),
        "~2\r\n$1\r\n1\r\n$1\r\n2\r\n"
    );
    assert_eq!(call(&[b"SPOP", b"nokey", b"1"]), "~0\r\n");
    assert_eq!(call(&[b"SPOP", b"s", b"0"]), "~0\r\n");
    assert_eq!(call(&[b"SPOP", b"nokey"]), "_\r\n");
    assert_eq!(call(&[b"SRANDMEMBER", b"nokey"]), "_\r\n");
    assert_eq!(call(&[b"SRANDMEMBER", b"nokey", b"2"]), "*0\r\n");
    assert_eq!(
        call(&[b"SRANDMEMBER", b"s", b"5"]),
        "*2\r\n$1\r\n1\r\n$1\r\n2\r\n"
    );
    assert!(call(&[b"SPOP", b"s", b"1"]).starts_with("~1\r\n"));
    assert_eq!(call(&[b"SMISMEMBER", b"s", b"x"]), "*1\r\n:0\r\n");
    assert_eq!(call(&[b"SSCAN", b"nokey", b"0"]), "*2\r\n$1\r\n0\r\n*0\r\n");
}

#[test]
fn copy_rename_and_del_carry_sets() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    sadd(&mut con, "l", &["b", "a"]);
    assert_eq!(int(&mut con, &["COPY", "l", "l2"]), 1);
    assert_eq!(list(&mut con, &["SMEMBERS", "l2"]), owned(&["b", "a"]));
    assert_eq!(encoding(&mut con, "l2"), "listpack");
    sadd(&mut con, "l2", &["c"]);
    assert_eq!(int(&mut con, &["SCARD", "l"]), 2, "the copy is independent");
    let big: Vec<String> = (0..300).map(|i| format!("e{i}")).collect();
    let refs: Vec<&str> = big.iter().map(String::as_str).collect();
    sadd(&mut con, "h", &refs);
    assert_eq!(int(&mut con, &["COPY", "h", "h2"]), 1);
    assert_eq!(encoding(&mut con, "h2"), "hashtable");
    assert_eq!(
        sorted(&mut con, &["SMEMBERS", "h2"]),
        sorted(&mut con, &["SMEMBERS", "h"])
    );
    ok(&mut con, &["RENAME", "h2", "h3"]);
    assert_eq!(int(&mut con, &["SCARD", "h3"]), 300);
    match cmd(&mut con, &["SCAN", "0", "TYPE", "set", "COUNT", "1000"]) {
        V::Array(parts) => assert_eq!(strings(parts[1].clone()).len(), 4),
        v => panic!("bad SCAN reply {v:?}"),
    }
    assert_eq!(int(&mut con, &["DEL", "h", "h3", "l", "l2"]), 4);
}

// ---------------------------------------------------------------------------------------------------
// Differential test against a real redis-server.
// ---------------------------------------------------------------------------------------------------

/// Splits a reply that is a flat array or set of bulk strings into its elements (raw frames).
fn split_flat(reply: &[u8]) -> Option<(u8, Vec<Vec<u8>>)> {
    let kind = *reply.first()?;
    if kind != b'*' && kind != b'~' {
        return None;
    }
    let mut pos = reply.iter().position(|&b| b == b'\n')? + 1;
    let mut out = Vec::new();
    while pos < reply.len() {
        if reply[pos] != b'$' {
            return None;
        }
        let nl = pos + reply[pos..].iter().position(|&b| b == b'\n')?;
        let n: usize = std::str::from_utf8(&reply[pos + 1..nl - 1])
            .ok()?
            .parse()
            .ok()?;
        let end = nl + 1 + n + 2;
        out.push(reply.get(pos..end)?.to_vec());
        pos = end;
    }
    Some((kind, out))
}

/// Sorts the elements of a set-like reply, whose order is undefined for hash tables (and, between the
/// oracle's Redis 7.0 and 7.2, differs for small sets of strings).
fn sort_members(reply: Vec<u8>) -> Vec<u8> {
    match split_flat(&reply) {
        Some((_, mut items)) => {
            let head_end = reply.iter().position(|&b| b == b'\n').unwrap_or(0) + 1;
            items.sort();
            let mut out = reply[..head_end].to_vec();
            for i in items {
                out.extend(i);
            }
            out
        }
        None => reply,
    }
}

struct Gen {
    rng: StdRng,
    ints_only: bool,
    /// Large member space and many members per SADD, so sets cross the encoding thresholds.
    big: bool,
}

impl Gen {
    fn key(&mut self) -> Vec<u8> {
        const KEYS: &[&str] = &["s1", "s2", "s3", "s4", "str", "nokey"];
        KEYS[self.rng.gen_range(0..KEYS.len())].as_bytes().to_vec()
    }

    fn member(&mut self) -> Vec<u8> {
        if self.big {
            return if self.ints_only || self.rng.gen_bool(0.7) {
                self.rng.gen_range(-50..800).to_string().into_bytes()
            } else {
                format!("m{}", self.rng.gen_range(0..300)).into_bytes()
            };
        }
        const INTS: &[&str] = &[
            "0",
            "1",
            "2",
            "3",
            "5",
            "8",
            "13",
            "-1",
            "-42",
            "9223372036854775807",
            "-9223372036854775808",
            "100",
        ];
        const STRS: &[&str] = &["a", "b", "c", "", "01", "x y", "-0", "+1", "1.5"];
        if self.ints_only || self.rng.gen_bool(0.5) {
            INTS[self.rng.gen_range(0..INTS.len())].as_bytes().to_vec()
        } else {
            STRS[self.rng.gen_range(0..STRS.len())].as_bytes().to_vec()
        }
    }

    fn keys(&mut self, min: usize) -> Vec<Vec<u8>> {
        let n = self.rng.gen_range(min..4);
        (0..n).map(|_| self.key()).collect()
    }

    /// A command and whether its reply's elements must be sorted before comparing.
    fn command(&mut self) -> (Vec<Vec<u8>>, bool) {
        let b = |s: &str| s.as_bytes().to_vec();
        let sort = !self.ints_only || self.big;
        let n = if self.big {
            self.rng.gen_range(1..80)
        } else {
            self.rng.gen_range(1..5)
        };
        let all = if self.big { b("100000") } else { b("100") };
        match self.rng.gen_range(0..22) {
            0..=4 => {
                let mut c = vec![b("SADD"), self.key()];
                c.extend((0..n).map(|_| self.member()));
                (c, false)
            }
            5 | 6 => {
                let mut c = vec![b("SREM"), self.key()];
                c.extend((0..n).map(|_| self.member()));
                (c, false)
            }
            7 => (vec![b("SMEMBERS"), self.key()], sort),
            8 => (vec![b("SISMEMBER"), self.key(), self.member()], false),
            9 => {
                let mut c = vec![b("SMISMEMBER"), self.key()];
                c.extend((0..n).map(|_| self.member()));
                (c, false)
            }
            10 => (vec![b("SCARD"), self.key()], false),
            11 => (
                vec![b("SMOVE"), self.key(), self.key(), self.member()],
                false,
            ),
            12 => {
                let mut c = vec![b("SINTER")];
                c.extend(self.keys(1));
                (c, sort)
            }
            13 => {
                let ks = self.keys(1);
                let mut c = vec![b("SINTERCARD"), ks.len().to_string().into_bytes()];
                c.extend(ks);
                if self.rng.gen_bool(0.5) {
                    c.push(b("LIMIT"));
                    c.push(self.rng.gen_range(-1..4).to_string().into_bytes());
                }
                (c, false)
            }
            14 => {
                let mut c = vec![b("SUNION")];
                c.extend(self.keys(1));
                (c, sort)
            }
            15 => {
                let mut c = vec![b("SDIFF")];
                c.extend(self.keys(1));
                (c, sort)
            }
            16..=18 => {
                let name = ["SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"][self.rng.gen_range(0..3)];
                let mut c = vec![b(name), self.key()];
                c.extend(self.keys(1));
                (c, false)
            }
            // Counts that cover the whole set: deterministic up to order.
            19 => (vec![b("SRANDMEMBER"), self.key(), all], sort),
            20 if self.big && self.rng.gen_bool(0.8) => (vec![b("SCARD"), self.key()], false),
            20 => (vec![b("SPOP"), self.key(), all], sort),
            // A large COUNT makes Redis's hash tables answer in one call too.
            _ => (
                vec![b("SSCAN"), self.key(), b("0"), b("COUNT"), b("100000")],
                sort,
            ),
        }
    }
}

#[test]
fn differential_against_redis() {
    let Some(redis) = start_redis() else {
        return;
    };
    let srv = TestServer::start();
    for (seed, ints_only, big) in [
        (1u64, true, false),
        (2, true, false),
        (3, false, false),
        (4, false, false),
        (5, true, true),
        (6, false, true),
        (7, true, false),
        (8, false, true),
    ] {
        // The last two runs speak RESP3 (set replies are `~`).
        let resp3 = seed >= 7;
        let mut a = Conn::open(redis.port);
        let mut f = Conn::open(srv.port);
        for c in [&mut a, &mut f] {
            if resp3 {
                c.call(&[b"HELLO".to_vec(), b"3".to_vec()]);
            }
            c.call(&[b"FLUSHALL".to_vec()]);
            c.call(&[b"SET".to_vec(), b"str".to_vec(), b"v".to_vec()]);
        }
        let mut g = Gen {
            rng: StdRng::seed_from_u64(seed),
            ints_only,
            big,
        };
        let mut history = Vec::new();
        for _ in 0..3000 {
            let (c, sort) = g.command();
            let mut ra = a.call(&c);
            let mut rf = f.call(&c);
            if sort {
                if c[0] == b"SSCAN" {
                    ra = sort_scan(ra);
                    rf = sort_scan(rf);
                } else {
                    ra = sort_members(ra);
                    rf = sort_members(rf);
                }
            }
            history.push(
                c.iter()
                    .map(|x| String::from_utf8_lossy(x).into_owned())
                    .collect::<Vec<_>>()
                    .join(" "),
            );
            assert_eq!(
                String::from_utf8_lossy(&rf),
                String::from_utf8_lossy(&ra),
                "seed {seed}: replies differ (left: ferrite, right: redis) after:\n{}",
                history[history.len().saturating_sub(15)..].join("\n")
            );
        }
    }
}

/// Sorts the member list inside an SSCAN reply (`*2 cursor *n members`).
fn sort_scan(reply: Vec<u8>) -> Vec<u8> {
    // Skip "*2\r\n", then the cursor bulk.
    let Some(first_nl) = reply.iter().position(|&b| b == b'\n') else {
        return reply;
    };
    let rest = &reply[first_nl + 1..];
    let Some(len_nl) = rest.iter().position(|&b| b == b'\n') else {
        return reply;
    };
    let Ok(n) = std::str::from_utf8(&rest[1..len_nl - 1])
        .unwrap_or("x")
        .parse::<usize>()
    else {
        return reply;
    };
    let members_at = first_nl + 1 + len_nl + 1 + n + 2;
    let mut out = reply[..members_at].to_vec();
    out.extend(sort_members(reply[members_at..].to_vec()));
    out
}

/// Stores a set directly with an expiry already in the past, as a key the lazy and active expiry have
/// not reclaimed yet would be.
fn put_expired_set(srv: &TestServer, key: &[u8], members: &[&str]) {
    use ferrite::storage::db::Ttl;
    use ferrite::storage::types::set::{SetLimits, SetValue};
    use ferrite::storage::{Db, Locks, Value};
    let ks = &*srv.server.keyspace;
    let mut locks = Locks::for_keys(ks, std::iter::once(key));
    let mut dirty = 0;
    let mut db = Db::new(&mut locks, 0, ferrite::storage::clock::now_ms(), &mut dirty);
    let lim = SetLimits::default();
    let mut s = SetValue::create(members[0].as_bytes(), members.len(), &lim);
    for m in members {
        s.add_bytes(m.as_bytes(), &lim);
    }
    db.set(key, Value::Set(s), Ttl::At(1));
}

#[test]
fn expired_sets_are_missing() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    sadd(&mut con, "a", &["1", "2"]);
    put_expired_set(&srv, b"e", &["1", "2", "3"]);
    assert_eq!(list(&mut con, &["SINTER", "a", "e"]), Vec::<String>::new());
    assert_eq!(list(&mut con, &["SUNION", "e", "a"]), owned(&["1", "2"]));
    put_expired_set(&srv, b"e", &["1"]);
    assert_eq!(list(&mut con, &["SDIFF", "a", "e"]), owned(&["1", "2"]));
    put_expired_set(&srv, b"e", &["1"]);
    assert_eq!(int(&mut con, &["SINTERCARD", "2", "a", "e"]), 0);
    put_expired_set(&srv, b"e", &["1"]);
    assert_eq!(int(&mut con, &["SCARD", "e"]), 0);
    put_expired_set(&srv, b"e", &["1"]);
    assert_eq!(int(&mut con, &["SMOVE", "e", "a", "1"]), 0);
    put_expired_set(&srv, b"e", &["x", "y"]);
    assert_eq!(sadd(&mut con, "e", &["x"]), 1);
    assert_eq!(list(&mut con, &["SMEMBERS", "e"]), owned(&["x"]));
    assert_eq!(int(&mut con, &["TTL", "e"]), -1);
    put_expired_set(&srv, b"d", &["old"]);
    assert_eq!(int(&mut con, &["SUNIONSTORE", "d", "a"]), 2);
    assert_eq!(int(&mut con, &["TTL", "d"]), -1);
}

fn changes(con: &mut Connection) -> i64 {
    let info = bulk(con, &["INFO", "persistence"]).expect("info");
    info.lines()
        .find_map(|l| l.strip_prefix("rdb_changes_since_last_save:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("rdb_changes_since_last_save")
}

#[test]
fn changes_are_counted_as_redis_counts_them() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    ok(&mut con, &["SET", "str", "x"]);
    // (command, changes Redis counts), checked against Redis 7.0's INFO.
    for (args, n) in [
        (&["SADD", "s", "1", "2", "3"][..], 3),
        (&["SADD", "s", "3", "4"], 1),
        (&["SADD", "s", "4"], 0),
        (&["SADD", "str", "1"], 0),
        (&["SREM", "s", "1", "9", "2"], 2),
        (&["SREM", "nokey", "1"], 0),
        (&["SPOP", "s"], 1),
        (&["SPOP", "nokey"], 0),
        (
            &[
                "SADD", "p", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10",
            ],
            10,
        ),
        (&["SPOP", "p", "2"], 2),
        (&["SPOP", "p", "0"], 0),
        (&["SPOP", "p", "7"], 7),
        (&["SPOP", "p", "100"], 1),
        (&["SADD", "a", "1", "2", "3"], 3),
        (&["SADD", "b", "3", "4"], 2),
        (&["SMOVE", "a", "b", "1"], 2),
        (&["SMOVE", "a", "b", "3"], 1),
        (&["SMOVE", "a", "b", "9"], 0),
        (&["SMOVE", "b", "b", "1"], 0),
        (&["SINTERSTORE", "d", "a", "b"], 0),
        (&["SUNIONSTORE", "d", "a", "b"], 1),
        (&["SDIFFSTORE", "d", "b", "b"], 1),
        (&["SDIFFSTORE", "d", "b", "b"], 0),
    ] {
        let before = changes(&mut con);
        let _ = common::run(&mut con, args);
        assert_eq!(changes(&mut con) - before, n, "{args:?}");
    }
}

fn stat(con: &mut Connection, name: &str) -> i64 {
    let info = bulk(con, &["INFO", "stats"]).expect("info");
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")))
        .and_then(|v| v.trim().parse().ok())
        .expect("stat")
}

#[test]
fn keyspace_hits_and_misses_as_redis() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    sadd(&mut con, "s", &["1", "2", "3"]);
    sadd(&mut con, "t", &["3"]);
    // (command, hits, misses), checked against Redis 7.0's INFO: reads count, writes do not.
    for (args, h, m) in [
        (&["SADD", "s", "4"][..], 0, 0),
        (&["SREM", "nokey", "1"], 0, 0),
        (&["SMEMBERS", "s"], 1, 0),
        (&["SMEMBERS", "nokey"], 0, 1),
        (&["SISMEMBER", "s", "1"], 1, 0),
        (&["SMISMEMBER", "nokey", "1"], 0, 1),
        (&["SCARD", "s"], 1, 0),
        (&["SRANDMEMBER", "s", "2"], 1, 0),
        (&["SMOVE", "s", "t", "9"], 0, 0),
        (&["SINTER", "s", "nokey", "s"], 2, 1),
        (&["SINTERCARD", "2", "s", "t"], 2, 0),
        (&["SUNIONSTORE", "d", "s", "t", "nokey"], 2, 1),
        (&["SSCAN", "nokey", "0"], 0, 1),
        (&["SPOP", "s", "0"], 0, 0),
        (&["SPOP", "t", "100"], 1, 0),
    ] {
        let (h0, m0) = (
            stat(&mut con, "keyspace_hits"),
            stat(&mut con, "keyspace_misses"),
        );
        let _ = common::run(&mut con, args);
        let (h1, m1) = (
            stat(&mut con, "keyspace_hits"),
            stat(&mut con, "keyspace_misses"),
        );
        assert_eq!((h1 - h0, m1 - m0), (h, m), "{args:?}");
    }
}
