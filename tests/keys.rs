//! Keyspace ("generic") commands against a real Ferrite server: DEL UNLINK EXISTS, the EXPIRE/TTL
//! families, PERSIST TYPE RENAME RENAMENX KEYS SCAN RANDOMKEY COPY MOVE TOUCH OBJECT SWAPDB, and the
//! server's DBSIZE FLUSHDB FLUSHALL. Error texts are compared byte for byte with Redis 7.2's.

mod common;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use common::{bulk, cmd, err, int, ok, resp, TestServer};
use ferrite::storage::db::Ttl;
use ferrite::storage::{Db, Locks, Value};
use redis::{Connection, Value as V};

fn strings(v: V) -> Vec<String> {
    match v {
        V::Array(items) => items
            .into_iter()
            .map(|i| match i {
                V::BulkString(b) => String::from_utf8(b).expect("utf8"),
                V::SimpleString(s) => s,
                v => panic!("expected strings, got {v:?}"),
            })
            .collect(),
        v => panic!("expected an array, got {v:?}"),
    }
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

fn now_ms() -> i64 {
    ferrite::storage::clock::now_ms() as i64
}

/// Stores `key` directly in database `db` with an expiry already in the past, as a key the lazy and
/// active expiry have not reclaimed yet would be.
fn put_expired(srv: &TestServer, db: usize, key: &[u8]) {
    let ks = &*srv.server.keyspace;
    let mut locks = Locks::for_keys(ks, std::iter::once(key));
    let mut dirty = 0;
    let mut view = Db::new(
        &mut locks,
        db,
        ferrite::storage::clock::now_ms(),
        &mut dirty,
    );
    view.set(key, Value::from_bytes(b"stale"), Ttl::At(1));
}

/// One SCAN call: (next cursor, keys).
fn scan_once(con: &mut Connection, cursor: &str, extra: &[&str]) -> (String, Vec<String>) {
    let mut args = vec!["SCAN", cursor];
    args.extend_from_slice(extra);
    match cmd(con, &args) {
        V::Array(mut parts) if parts.len() == 2 => {
            let keys = strings(parts.pop().expect("keys"));
            let cursor = match parts.pop() {
                Some(V::BulkString(b)) => String::from_utf8(b).expect("utf8"),
                v => panic!("cursor must be a bulk string, got {v:?}"),
            };
            (cursor, keys)
        }
        v => panic!("bad SCAN reply {v:?}"),
    }
}

/// A complete SCAN iteration; panics if it does not end.
fn scan_all(con: &mut Connection, extra: &[&str]) -> Vec<String> {
    let mut cursor = "0".to_string();
    let mut out = Vec::new();
    for _ in 0..100_000 {
        let (next, keys) = scan_once(con, &cursor, extra);
        out.extend(keys);
        if next == "0" {
            return out;
        }
        cursor = next;
    }
    panic!("SCAN did not finish");
}

const NX_XX: &str = "ERR NX and XX, GT or LT options at the same time are not compatible";
const GT_LT: &str = "ERR GT and LT options at the same time are not compatible";

#[test]
fn del_unlink_exists() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    for k in ["a", "b", "c"] {
        ok(&mut con, &["SET", k, "1"]);
    }
    assert_eq!(int(&mut con, &["EXISTS", "a", "a", "nokey", "b"]), 3);
    assert_eq!(int(&mut con, &["DEL", "a", "a", "nokey"]), 1);
    assert_eq!(int(&mut con, &["EXISTS", "a"]), 0);
    assert_eq!(int(&mut con, &["UNLINK", "b", "c", "nokey"]), 2);
    assert_eq!(int(&mut con, &["EXISTS", "b", "c"]), 0);
    // Many values at once take UNLINK's background-free path.
    let many: Vec<String> = (0..200).map(|i| format!("u{i}")).collect();
    for k in &many {
        ok(&mut con, &["SET", k, "x"]);
    }
    let mut args = vec!["UNLINK"];
    args.extend(many.iter().map(String::as_str));
    assert_eq!(int(&mut con, &args), 200);
    assert_eq!(int(&mut con, &["DBSIZE"]), 0);
    // Binary-safe key names.
    let mut raw = srv.raw();
    raw.roundtrip(&resp(&[b"SET", b"k\x00\xff", b"v"]), b"+OK\r\n");
    raw.roundtrip(&resp(&[b"EXISTS", b"k\x00\xff", b"k\x00"]), b":1\r\n");
    raw.roundtrip(&resp(&[b"DEL", b"k\x00\xff"]), b":1\r\n");
    for c in ["DEL", "UNLINK", "EXISTS"] {
        assert_eq!(
            err(&mut con, &[c]),
            format!(
                "ERR wrong number of arguments for '{}' command",
                c.to_lowercase()
            )
        );
    }
}

#[test]
fn expire_and_ttl_basics() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    assert_eq!(int(&mut con, &["TTL", "nokey"]), -2);
    assert_eq!(int(&mut con, &["PTTL", "nokey"]), -2);
    assert_eq!(int(&mut con, &["EXPIRETIME", "nokey"]), -2);
    assert_eq!(int(&mut con, &["PEXPIRETIME", "nokey"]), -2);
    assert_eq!(int(&mut con, &["EXPIRE", "nokey", "100"]), 0);
    ok(&mut con, &["SET", "k", "v"]);
    assert_eq!(int(&mut con, &["TTL", "k"]), -1);
    assert_eq!(int(&mut con, &["PTTL", "k"]), -1);
    assert_eq!(int(&mut con, &["EXPIRETIME", "k"]), -1);
    assert_eq!(int(&mut con, &["PEXPIRETIME", "k"]), -1);

    assert_eq!(int(&mut con, &["EXPIRE", "k", "100"]), 1);
    let ttl = int(&mut con, &["TTL", "k"]);
    assert!((90..=100).contains(&ttl), "{ttl}");
    let pttl = int(&mut con, &["PTTL", "k"]);
    assert!((90_000..=100_000).contains(&pttl), "{pttl}");
    assert_eq!(int(&mut con, &["PEXPIRE", "k", "200000"]), 1);
    let pttl = int(&mut con, &["PTTL", "k"]);
    assert!((190_000..=200_000).contains(&pttl), "{pttl}");

    // Absolute forms, read back exactly.
    assert_eq!(int(&mut con, &["PEXPIREAT", "k", "4102444800123"]), 1);
    assert_eq!(int(&mut con, &["PEXPIRETIME", "k"]), 4_102_444_800_123);
    assert_eq!(int(&mut con, &["EXPIRETIME", "k"]), 4_102_444_800);
    assert_eq!(int(&mut con, &["PEXPIREAT", "k", "4102444800500"]), 1);
    assert_eq!(
        int(&mut con, &["EXPIRETIME", "k"]),
        4_102_444_801,
        "rounds half up like Redis"
    );
    assert_eq!(int(&mut con, &["EXPIREAT", "k", "4102444800"]), 1);
    assert_eq!(int(&mut con, &["PEXPIRETIME", "k"]), 4_102_444_800_000);
    let ttl = int(&mut con, &["TTL", "k"]);
    let expect = 4_102_444_800 - now_ms() / 1000;
    assert!((ttl - expect).abs() <= 10, "{ttl} vs {expect}");

    // Extremes that do not overflow.
    assert_eq!(int(&mut con, &["PEXPIREAT", "k", "9223372036854775807"]), 1);
    assert_eq!(int(&mut con, &["PEXPIRETIME", "k"]), i64::MAX);
    assert_eq!(int(&mut con, &["EXPIRETIME", "k"]), 9_223_372_036_854_776);
    assert_eq!(int(&mut con, &["EXPIREAT", "k", "9223372036854775"]), 1);
    assert_eq!(
        int(&mut con, &["PEXPIRETIME", "k"]),
        9_223_372_036_854_775_000
    );

    // PERSIST.
    assert_eq!(int(&mut con, &["PERSIST", "k"]), 1);
    assert_eq!(int(&mut con, &["PERSIST", "k"]), 0);
    assert_eq!(int(&mut con, &["PERSIST", "nokey"]), 0);
    assert_eq!(int(&mut con, &["TTL", "k"]), -1);

    // SET without KEEPTTL clears the TTL.
    assert_eq!(int(&mut con, &["EXPIRE", "k", "100"]), 1);
    ok(&mut con, &["SET", "k", "v2"]);
    assert_eq!(int(&mut con, &["TTL", "k"]), -1);
}

#[test]
fn expire_in_the_past_deletes() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    for args in [
        &["EXPIRE", "k", "0"][..],
        &["EXPIRE", "k", "-1"],
        &["PEXPIRE", "k", "-5", "NX"],
        &["EXPIREAT", "k", "1"],
        &["PEXPIREAT", "k", "-9223372036854775808"],
        &["EXPIRE", "k", "-9223372036854775"],
    ] {
        ok(&mut con, &["SET", "k", "v"]);
        assert_eq!(int(&mut con, args), 1, "{args:?}");
        assert_eq!(int(&mut con, &["EXISTS", "k"]), 0, "{args:?}");
        assert_eq!(int(&mut con, &["TTL", "k"]), -2);
    }
    // A condition that fails leaves the key alone even with a past time.
    ok(&mut con, &["SET", "k", "v"]);
    assert_eq!(int(&mut con, &["EXPIRE", "k", "-1", "XX"]), 0);
    assert_eq!(int(&mut con, &["EXISTS", "k"]), 1);
    assert_eq!(int(&mut con, &["EXPIRE", "k", "-1", "GT"]), 0);
    assert_eq!(int(&mut con, &["EXISTS", "k"]), 1);
    assert_eq!(
        int(&mut con, &["EXPIRE", "k", "-1", "LT"]),
        1,
        "no TTL is infinite, so LT applies"
    );
    assert_eq!(int(&mut con, &["EXISTS", "k"]), 0);
}

#[test]
fn expire_conditions() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    ok(&mut con, &["SET", "k", "v"]);
    // Without a TTL: XX and GT refuse, NX and LT apply.
    assert_eq!(int(&mut con, &["EXPIRE", "k", "100", "XX"]), 0);
    assert_eq!(int(&mut con, &["EXPIRE", "k", "100", "GT"]), 0);
    assert_eq!(int(&mut con, &["TTL", "k"]), -1);
    assert_eq!(int(&mut con, &["EXPIRE", "k", "100", "lt"]), 1);
    assert_eq!(int(&mut con, &["PERSIST", "k"]), 1);
    assert_eq!(int(&mut con, &["EXPIRE", "k", "100", "nx"]), 1);
    // With a TTL of 100 s.
    assert_eq!(int(&mut con, &["EXPIRE", "k", "200", "NX"]), 0);
    assert_eq!(int(&mut con, &["EXPIRE", "k", "200", "XX"]), 1);
    assert!(int(&mut con, &["TTL", "k"]) > 150);
    assert_eq!(int(&mut con, &["EXPIRE", "k", "100", "GT"]), 0);
    assert_eq!(int(&mut con, &["EXPIRE", "k", "300", "GT"]), 1);
    assert!(int(&mut con, &["TTL", "k"]) > 250);
    assert_eq!(int(&mut con, &["EXPIRE", "k", "400", "LT"]), 0);
    assert_eq!(int(&mut con, &["EXPIRE", "k", "50", "LT"]), 1);
    let ttl = int(&mut con, &["TTL", "k"]);
    assert!((40..=50).contains(&ttl), "{ttl}");
    // XX combined with GT / LT.
    assert_eq!(int(&mut con, &["EXPIRE", "k", "60", "XX", "GT"]), 1);
    assert_eq!(int(&mut con, &["EXPIRE", "k", "70", "LT", "XX"]), 0);
    // Equal times fail both GT and LT.
    assert_eq!(int(&mut con, &["PEXPIREAT", "k", "4102444800000"]), 1);
    assert_eq!(int(&mut con, &["PEXPIREAT", "k", "4102444800000", "GT"]), 0);
    assert_eq!(int(&mut con, &["PEXPIREAT", "k", "4102444800000", "LT"]), 0);
    assert_eq!(int(&mut con, &["EXPIRE", "nokey", "10", "NX"]), 0);
}

#[test]
fn expire_errors() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    ok(&mut con, &["SET", "k", "v"]);
    assert_eq!(
        err(&mut con, &["EXPIRE", "k", "10", "foo"]),
        "ERR Unsupported option foo"
    );
    // Options are checked before the number.
    assert_eq!(
        err(&mut con, &["EXPIRE", "k", "abc", "foo"]),
        "ERR Unsupported option foo"
    );
    assert_eq!(err(&mut con, &["EXPIRE", "k", "abc", "nx", "xx"]), NX_XX);
    assert_eq!(err(&mut con, &["EXPIRE", "k", "10", "NX", "XX"]), NX_XX);
    assert_eq!(err(&mut con, &["EXPIRE", "k", "10", "NX", "GT"]), NX_XX);
    assert_eq!(err(&mut con, &["PEXPIRE", "k", "10", "LT", "NX"]), NX_XX);
    assert_eq!(err(&mut con, &["EXPIRE", "k", "10", "GT", "LT"]), GT_LT);
    assert_eq!(
        err(&mut con, &["EXPIREAT", "k", "10", "XX", "GT", "LT"]),
        GT_LT
    );
    assert_eq!(
        err(&mut con, &["EXPIRE", "k", "abc"]),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(
        err(&mut con, &["EXPIRE", "k", ""]),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(
        err(&mut con, &["EXPIRE", "k", "1.5"]),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(
        err(&mut con, &["PEXPIRE", "k", "9223372036854775808"]),
        "ERR value is not an integer or out of range"
    );
    // Overflow of the unit conversion or of `now +`.
    assert_eq!(
        err(&mut con, &["EXPIRE", "k", "9223372036854775807"]),
        "ERR invalid expire time in 'expire' command"
    );
    assert_eq!(
        err(&mut con, &["EXPIRE", "k", "9223372036854774"]),
        "ERR invalid expire time in 'expire' command"
    );
    assert_eq!(
        err(&mut con, &["EXPIRE", "k", "-9223372036854775808"]),
        "ERR invalid expire time in 'expire' command"
    );
    assert_eq!(
        err(&mut con, &["PEXPIRE", "k", "9223372036854775807"]),
        "ERR invalid expire time in 'pexpire' command"
    );
    assert_eq!(
        err(&mut con, &["EXPIREAT", "k", "9223372036854776"]),
        "ERR invalid expire time in 'expireat' command"
    );
    // The errors left the key as it was.
    assert_eq!(int(&mut con, &["TTL", "k"]), -1);
    for c in ["EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT"] {
        let lc = c.to_lowercase();
        assert_eq!(
            err(&mut con, &[c, "k"]),
            format!("ERR wrong number of arguments for '{lc}' command")
        );
    }
    for c in [
        "TTL",
        "PTTL",
        "EXPIRETIME",
        "PEXPIRETIME",
        "PERSIST",
        "TYPE",
    ] {
        let lc = c.to_lowercase();
        assert_eq!(
            err(&mut con, &[c]),
            format!("ERR wrong number of arguments for '{lc}' command")
        );
        assert_eq!(
            err(&mut con, &[c, "a", "b"]),
            format!("ERR wrong number of arguments for '{lc}' command")
        );
    }
}

#[test]
fn keys_expire_for_real() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    ok(&mut con, &["SET", "k", "v"]);
    assert_eq!(int(&mut con, &["PEXPIRE", "k", "50"]), 1);
    let deadline = Instant::now() + Duration::from_secs(10);
    while int(&mut con, &["EXISTS", "k"]) == 1 {
        assert!(Instant::now() < deadline, "key never expired");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(int(&mut con, &["TTL", "k"]), -2);
    assert_eq!(bulk(&mut con, &["GET", "k"]), None);
}

#[test]
fn type_command() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    assert_eq!(bulk(&mut con, &["TYPE", "nokey"]).as_deref(), Some("none"));
    ok(&mut con, &["SET", "k", "1"]);
    assert_eq!(
        cmd(&mut con, &["TYPE", "k"]),
        V::SimpleString("string".into())
    );
    put_expired(&srv, 0, b"stale");
    assert_eq!(bulk(&mut con, &["TYPE", "stale"]).as_deref(), Some("none"));
}

#[test]
fn rename_and_renamenx() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    ok(&mut con, &["SET", "a", "1"]);
    ok(&mut con, &["SET", "b", "2"]);
    ok(&mut con, &["RENAME", "a", "b"]);
    assert_eq!(bulk(&mut con, &["GET", "b"]).as_deref(), Some("1"));
    assert_eq!(int(&mut con, &["EXISTS", "a"]), 0);
    assert_eq!(err(&mut con, &["RENAME", "nokey", "b"]), "ERR no such key");
    assert_eq!(
        err(&mut con, &["RENAME", "nokey", "nokey"]),
        "ERR no such key"
    );
    assert_eq!(
        err(&mut con, &["RENAMENX", "nokey", "x"]),
        "ERR no such key"
    );
    // Renaming a key to itself.
    ok(&mut con, &["RENAME", "b", "b"]);
    assert_eq!(int(&mut con, &["RENAMENX", "b", "b"]), 0);
    assert_eq!(bulk(&mut con, &["GET", "b"]).as_deref(), Some("1"));
    // RENAMENX.
    ok(&mut con, &["SET", "a", "x"]);
    assert_eq!(int(&mut con, &["RENAMENX", "a", "b"]), 0);
    assert_eq!(bulk(&mut con, &["GET", "a"]).as_deref(), Some("x"));
    assert_eq!(int(&mut con, &["RENAMENX", "a", "c"]), 1);
    assert_eq!(bulk(&mut con, &["GET", "c"]).as_deref(), Some("x"));
    assert_eq!(int(&mut con, &["EXISTS", "a"]), 0);
    // The TTL goes with the value, and replaces the destination's.
    ok(&mut con, &["SET", "t", "v"]);
    assert_eq!(int(&mut con, &["PEXPIREAT", "t", "4102444800123"]), 1);
    ok(&mut con, &["RENAME", "t", "u"]);
    assert_eq!(int(&mut con, &["PEXPIRETIME", "u"]), 4_102_444_800_123);
    assert_eq!(int(&mut con, &["RENAMENX", "u", "t"]), 1);
    assert_eq!(int(&mut con, &["PEXPIRETIME", "t"]), 4_102_444_800_123);
    ok(&mut con, &["SET", "d", "v"]);
    assert_eq!(int(&mut con, &["EXPIRE", "d", "1000"]), 1);
    ok(&mut con, &["SET", "p", "persistent"]);
    ok(&mut con, &["RENAME", "p", "d"]);
    assert_eq!(int(&mut con, &["TTL", "d"]), -1);
    // Encoding survives.
    ok(&mut con, &["SET", "n", "12345"]);
    ok(&mut con, &["RENAME", "n", "m"]);
    assert_eq!(
        bulk(&mut con, &["OBJECT", "ENCODING", "m"]).as_deref(),
        Some("int")
    );
    // A logically expired source does not exist.
    put_expired(&srv, 0, b"stale");
    assert_eq!(err(&mut con, &["RENAME", "stale", "x"]), "ERR no such key");
    for c in ["RENAME", "RENAMENX"] {
        let lc = c.to_lowercase();
        assert_eq!(
            err(&mut con, &[c, "a"]),
            format!("ERR wrong number of arguments for '{lc}' command")
        );
        assert_eq!(
            err(&mut con, &[c, "a", "b", "c"]),
            format!("ERR wrong number of arguments for '{lc}' command")
        );
    }
}

#[test]
fn keys_command() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    assert_eq!(strings(cmd(&mut con, &["KEYS", "*"])), Vec::<String>::new());
    for k in ["one", "two", "three", "four", "Other"] {
        ok(&mut con, &["SET", k, "1"]);
    }
    put_expired(&srv, 0, b"otter");
    assert_eq!(
        sorted(strings(cmd(&mut con, &["KEYS", "*"]))),
        ["Other", "four", "one", "three", "two"]
    );
    assert_eq!(
        sorted(strings(cmd(&mut con, &["KEYS", "t*"]))),
        ["three", "two"]
    );
    assert_eq!(
        sorted(strings(cmd(&mut con, &["KEYS", "?????"]))),
        ["Other", "three"]
    );
    assert_eq!(
        sorted(strings(cmd(&mut con, &["KEYS", "[ot]*"]))),
        ["one", "three", "two"]
    );
    assert_eq!(
        strings(cmd(&mut con, &["KEYS", "o*"])),
        ["one"],
        "case-sensitive, expired keys hidden"
    );
    assert_eq!(
        strings(cmd(&mut con, &["KEYS", "nomatch*"])),
        Vec::<String>::new()
    );
    // Other databases are separate.
    ok(&mut con, &["SELECT", "1"]);
    assert_eq!(strings(cmd(&mut con, &["KEYS", "*"])), Vec::<String>::new());
    // Binary-safe patterns and keys.
    let mut raw = srv.raw();
    raw.roundtrip(&resp(&[b"SELECT", b"2"]), b"+OK\r\n");
    raw.roundtrip(&resp(&[b"SET", b"a\x00b", b"v"]), b"+OK\r\n");
    raw.roundtrip(&resp(&[b"KEYS", b"a\x00*"]), b"*1\r\n$3\r\na\x00b\r\n");
    assert_eq!(
        err(&mut con, &["KEYS"]),
        "ERR wrong number of arguments for 'keys' command"
    );
    assert_eq!(
        err(&mut con, &["KEYS", "a", "b"]),
        "ERR wrong number of arguments for 'keys' command"
    );
}

#[test]
fn scan_basics() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    assert_eq!(scan_once(&mut con, "0", &[]), ("0".to_string(), vec![]));
    let keys: Vec<String> = (0..1000).map(|i| format!("key:{i}")).collect();
    for k in &keys {
        ok(&mut con, &["SET", k, "v"]);
    }
    ok(&mut con, &["SET", "other", "v"]);
    put_expired(&srv, 0, b"key:stale");

    let all: HashSet<String> = scan_all(&mut con, &[]).into_iter().collect();
    assert_eq!(all.len(), 1001);
    assert!(!all.contains("key:stale"));
    let mut expected: HashSet<String> = keys.iter().cloned().collect();
    expected.insert("other".into());
    assert_eq!(all, expected);

    // COUNT bounds the work per call; a big COUNT gets everything at once.
    let (next, got) = scan_once(&mut con, "0", &["COUNT", "5"]);
    assert_ne!(next, "0");
    assert!(!got.is_empty() && got.len() < 100, "{}", got.len());
    let (next, got) = scan_once(&mut con, "0", &["COUNT", "100000"]);
    assert_eq!(next, "0");
    assert_eq!(got.len(), 1001);

    // MATCH and TYPE filter.
    let matched: HashSet<String> = scan_all(&mut con, &["MATCH", "key:1??"])
        .into_iter()
        .collect();
    assert_eq!(
        matched,
        (100..200)
            .map(|i| format!("key:{i}"))
            .collect::<HashSet<_>>()
    );
    assert_eq!(
        scan_all(&mut con, &["MATCH", "oth*", "COUNT", "7"]),
        ["other"]
    );
    assert_eq!(
        scan_all(&mut con, &["MATCH", "*", "count", "1000"]).len(),
        1001
    );
    assert_eq!(
        scan_all(&mut con, &["TYPE", "STRING", "COUNT", "50"]).len(),
        1001
    );
    assert!(scan_all(&mut con, &["TYPE", "hash"]).is_empty());
    assert!(scan_all(&mut con, &["TYPE", "nosuchtype"]).is_empty());
    assert_eq!(
        scan_all(&mut con, &["type", "string", "match", "oth*"]),
        ["other"]
    );

    // Another database.
    ok(&mut con, &["SELECT", "5"]);
    assert_eq!(scan_once(&mut con, "0", &[]), ("0".to_string(), vec![]));
    ok(&mut con, &["SET", "x", "1"]);
    assert_eq!(scan_all(&mut con, &[]), ["x"]);
}

#[test]
fn scan_cursor_and_option_errors() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    ok(&mut con, &["SET", "k", "v"]);
    for bad in [
        "abc",
        " 5",
        "5 ",
        "+",
        "0x10",
        "18446744073709551616",
        "1.5",
    ] {
        assert_eq!(
            err(&mut con, &["SCAN", bad]),
            "ERR invalid cursor",
            "{bad:?}"
        );
    }
    // The cursor is checked before the options.
    assert_eq!(
        err(&mut con, &["SCAN", "abc", "COUNT", "0"]),
        "ERR invalid cursor"
    );
    // Any unsigned 64-bit value is a cursor, as with strtoul ("-1" wraps, "" is 0).
    for good in ["18446744073709551615", "-1", "+0", ""] {
        let _ = scan_once(&mut con, good, &[]);
    }
    assert_eq!(
        scan_once(&mut con, "", &["COUNT", "1000"]),
        ("0".to_string(), vec!["k".to_string()])
    );
    assert_eq!(
        err(&mut con, &["SCAN", "0", "COUNT", "0"]),
        "ERR syntax error"
    );
    assert_eq!(
        err(&mut con, &["SCAN", "0", "COUNT", "-1"]),
        "ERR syntax error"
    );
    assert_eq!(
        err(&mut con, &["SCAN", "0", "COUNT", "abc"]),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(
        err(&mut con, &["SCAN", "0", "COUNT", "9223372036854775808"]),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(err(&mut con, &["SCAN", "0", "COUNT"]), "ERR syntax error");
    assert_eq!(err(&mut con, &["SCAN", "0", "MATCH"]), "ERR syntax error");
    assert_eq!(err(&mut con, &["SCAN", "0", "TYPE"]), "ERR syntax error");
    assert_eq!(
        err(&mut con, &["SCAN", "0", "foo", "bar"]),
        "ERR syntax error"
    );
    assert_eq!(
        err(&mut con, &["SCAN", "0", "COUNT", "0", "foo"]),
        "ERR syntax error"
    );
    assert_eq!(
        err(&mut con, &["SCAN"]),
        "ERR wrong number of arguments for 'scan' command"
    );
    // A huge COUNT does not overflow anything.
    assert_eq!(
        scan_once(&mut con, "0", &["COUNT", "9223372036854775807"]),
        ("0".to_string(), vec!["k".to_string()])
    );
}

#[test]
fn scan_returns_every_stable_key_despite_resizes() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    let stable: Vec<String> = (0..3000).map(|i| format!("stable:{i}")).collect();
    for k in &stable {
        ok(&mut con, &["SET", k, "v"]);
    }
    let mut seen = HashSet::new();
    let mut cursor = "0".to_string();
    let mut calls = 0;
    let mut extra = 0;
    loop {
        let (next, keys) = scan_once(&mut con, &cursor, &["COUNT", "20"]);
        seen.extend(keys);
        calls += 1;
        // Grow the tables a lot, then shrink them, then grow again, between calls.
        match calls {
            5 | 40 => {
                for _ in 0..20_000 {
                    ok(&mut con, &["SET", &format!("extra:{extra}"), "v"]);
                    extra += 1;
                }
            }
            20 | 60 => {
                for i in 0..extra {
                    int(&mut con, &["DEL", &format!("extra:{i}")]);
                }
            }
            _ => {}
        }
        if next == "0" {
            break;
        }
        cursor = next;
        assert!(calls < 1_000_000, "SCAN did not finish");
    }
    for k in &stable {
        assert!(seen.contains(k), "{k} missed");
    }
}

#[test]
fn randomkey_command() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    assert_eq!(cmd(&mut con, &["RANDOMKEY"]), V::Nil);
    // Only logically expired keys: still nil.
    put_expired(&srv, 0, b"stale1");
    put_expired(&srv, 0, b"stale2");
    assert_eq!(cmd(&mut con, &["RANDOMKEY"]), V::Nil);
    ok(&mut con, &["SET", "only", "v"]);
    for _ in 0..20 {
        assert_eq!(bulk(&mut con, &["RANDOMKEY"]).as_deref(), Some("only"));
    }
    let keys: HashSet<String> = (0..50).map(|i| format!("k{i}")).collect();
    for k in &keys {
        ok(&mut con, &["SET", k, "v"]);
    }
    let mut got = HashSet::new();
    for _ in 0..300 {
        let k = bulk(&mut con, &["RANDOMKEY"]).expect("a key");
        assert!(k == "only" || keys.contains(&k), "{k}");
        got.insert(k);
    }
    assert!(got.len() > 10, "RANDOMKEY is not random: {}", got.len());
    // Two keys (almost surely in different shards) come back about equally often.
    ok(&mut con, &["FLUSHDB"]);
    ok(&mut con, &["SET", "left", "v"]);
    ok(&mut con, &["SET", "right", "v"]);
    let lefts = (0..400)
        .filter(|_| bulk(&mut con, &["RANDOMKEY"]).as_deref() == Some("left"))
        .count();
    assert!((100..=300).contains(&lefts), "biased: {lefts} of 400");
    ok(&mut con, &["SELECT", "3"]);
    assert_eq!(cmd(&mut con, &["RANDOMKEY"]), V::Nil);
    assert_eq!(
        err(&mut con, &["RANDOMKEY", "x"]),
        "ERR wrong number of arguments for 'randomkey' command"
    );
}

#[test]
fn copy_command() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    ok(&mut con, &["SET", "src", "hello"]);
    assert_eq!(int(&mut con, &["COPY", "src", "dst"]), 1);
    assert_eq!(bulk(&mut con, &["GET", "dst"]).as_deref(), Some("hello"));
    assert_eq!(
        int(&mut con, &["COPY", "src", "dst"]),
        0,
        "destination exists"
    );
    ok(&mut con, &["SET", "src", "world"]);
    assert_eq!(int(&mut con, &["COPY", "src", "dst", "REPLACE"]), 1);
    assert_eq!(bulk(&mut con, &["GET", "dst"]).as_deref(), Some("world"));
    assert_eq!(int(&mut con, &["COPY", "nokey", "dst"]), 0);
    // The copy is independent of the source.
    ok(&mut con, &["SET", "src", "changed"]);
    assert_eq!(bulk(&mut con, &["GET", "dst"]).as_deref(), Some("world"));
    // TTL and encoding are copied.
    ok(
        &mut con,
        &[
            "SET",
            "t",
            "012345678901234567890123456789012345678901234567890",
        ],
    );
    assert_eq!(int(&mut con, &["PEXPIREAT", "t", "4102444800123"]), 1);
    assert_eq!(int(&mut con, &["COPY", "t", "t2"]), 1);
    assert_eq!(int(&mut con, &["PEXPIRETIME", "t2"]), 4_102_444_800_123);
    assert_eq!(
        bulk(&mut con, &["OBJECT", "ENCODING", "t2"]).as_deref(),
        Some("raw")
    );
    ok(&mut con, &["SET", "n", "42"]);
    assert_eq!(int(&mut con, &["COPY", "n", "n2"]), 1);
    assert_eq!(
        bulk(&mut con, &["OBJECT", "ENCODING", "n2"]).as_deref(),
        Some("int")
    );
    // REPLACE of a destination with a TTL by a source without one.
    assert_eq!(int(&mut con, &["COPY", "n", "t2", "REPLACE"]), 1);
    assert_eq!(int(&mut con, &["TTL", "t2"]), -1);
    // To another database; the last DB option wins.
    assert_eq!(int(&mut con, &["COPY", "src", "other", "DB", "1"]), 1);
    assert_eq!(int(&mut con, &["EXISTS", "other"]), 0);
    assert_eq!(
        int(&mut con, &["COPY", "src", "src", "DB", "1"]),
        1,
        "same name, other database"
    );
    assert_eq!(
        int(&mut con, &["COPY", "src", "src", "DB", "1"]),
        0,
        "now it exists there"
    );
    ok(&mut con, &["SELECT", "1"]);
    assert_eq!(
        bulk(&mut con, &["GET", "other"]).as_deref(),
        Some("changed")
    );
    assert_eq!(bulk(&mut con, &["GET", "src"]).as_deref(), Some("changed"));
    ok(&mut con, &["SELECT", "0"]);
    assert_eq!(
        int(&mut con, &["COPY", "src", "x", "db", "1", "db", "0"]),
        1
    );
    assert_eq!(bulk(&mut con, &["GET", "x"]).as_deref(), Some("changed"));
    // Errors.
    assert_eq!(
        err(&mut con, &["COPY", "src", "src"]),
        "ERR source and destination objects are the same"
    );
    assert_eq!(
        err(&mut con, &["COPY", "src", "src", "DB", "0"]),
        "ERR source and destination objects are the same"
    );
    assert_eq!(
        err(&mut con, &["COPY", "nokey", "nokey"]),
        "ERR source and destination objects are the same"
    );
    assert_eq!(
        err(&mut con, &["COPY", "src", "y", "REPLACE", "foo"]),
        "ERR syntax error"
    );
    assert_eq!(
        err(&mut con, &["COPY", "src", "y", "DB"]),
        "ERR syntax error"
    );
    assert_eq!(
        err(&mut con, &["COPY", "src", "y", "DB", "16"]),
        "ERR DB index is out of range"
    );
    assert_eq!(
        err(&mut con, &["COPY", "src", "y", "DB", "-1"]),
        "ERR DB index is out of range"
    );
    assert_eq!(
        err(&mut con, &["COPY", "src", "y", "DB", "x"]),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(
        err(&mut con, &["COPY", "src", "y", "DB", "99999999999"]),
        "ERR value is out of range, value must between -2147483648 and 2147483647"
    );
    assert_eq!(
        err(&mut con, &["COPY", "nokey", "y", "DB", "99"]),
        "ERR DB index is out of range"
    );
    assert_eq!(
        err(&mut con, &["COPY", "src"]),
        "ERR wrong number of arguments for 'copy' command"
    );
}

#[test]
fn move_command() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    ok(&mut con, &["SET", "k", "v"]);
    assert_eq!(int(&mut con, &["PEXPIREAT", "k", "4102444800123"]), 1);
    assert_eq!(int(&mut con, &["MOVE", "k", "1"]), 1);
    assert_eq!(int(&mut con, &["EXISTS", "k"]), 0);
    assert_eq!(
        int(&mut con, &["MOVE", "k", "1"]),
        0,
        "gone from the source"
    );
    assert_eq!(int(&mut con, &["MOVE", "nokey", "1"]), 0);
    ok(&mut con, &["SELECT", "1"]);
    assert_eq!(bulk(&mut con, &["GET", "k"]).as_deref(), Some("v"));
    assert_eq!(int(&mut con, &["PEXPIRETIME", "k"]), 4_102_444_800_123);
    // The target already has the key: nothing moves.
    ok(&mut con, &["SET", "dup", "here"]);
    ok(&mut con, &["SELECT", "0"]);
    ok(&mut con, &["SET", "dup", "there"]);
    assert_eq!(int(&mut con, &["MOVE", "dup", "1"]), 0);
    assert_eq!(bulk(&mut con, &["GET", "dup"]).as_deref(), Some("there"));
    // Errors, in Redis's order.
    assert_eq!(
        err(&mut con, &["MOVE", "dup", "abc"]),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(
        err(&mut con, &["MOVE", "dup", "9999999999999"]),
        "ERR value is out of range, value must between -2147483648 and 2147483647"
    );
    assert_eq!(
        err(&mut con, &["MOVE", "dup", "16"]),
        "ERR DB index is out of range"
    );
    assert_eq!(
        err(&mut con, &["MOVE", "dup", "-1"]),
        "ERR DB index is out of range"
    );
    assert_eq!(
        err(&mut con, &["MOVE", "dup", "0"]),
        "ERR source and destination objects are the same"
    );
    assert_eq!(
        err(&mut con, &["MOVE", "nokey", "0"]),
        "ERR source and destination objects are the same"
    );
    assert_eq!(
        err(&mut con, &["MOVE", "dup"]),
        "ERR wrong number of arguments for 'move' command"
    );
}

#[test]
fn touch_command() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    ok(&mut con, &["SET", "a", "1"]);
    ok(&mut con, &["SET", "b", "1"]);
    assert_eq!(int(&mut con, &["TOUCH", "a", "b", "nokey", "a"]), 3);
    assert_eq!(int(&mut con, &["TOUCH", "nokey"]), 0);
    put_expired(&srv, 0, b"stale");
    assert_eq!(int(&mut con, &["TOUCH", "stale"]), 0);
    assert_eq!(
        err(&mut con, &["TOUCH"]),
        "ERR wrong number of arguments for 'touch' command"
    );
}

#[test]
fn object_command() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    ok(&mut con, &["SET", "i", "100"]);
    ok(&mut con, &["SET", "neg", "-5"]);
    ok(&mut con, &["SET", "big", "12345678901234567890"]);
    ok(&mut con, &["SET", "e", "hello"]);
    ok(&mut con, &["SET", "r", &"x".repeat(45)]);
    ok(&mut con, &["SET", "e44", &"x".repeat(44)]);
    for (k, enc) in [
        ("i", "int"),
        ("neg", "int"),
        ("big", "embstr"),
        ("e", "embstr"),
        ("e44", "embstr"),
        ("r", "raw"),
    ] {
        assert_eq!(
            bulk(&mut con, &["OBJECT", "ENCODING", k]).as_deref(),
            Some(enc),
            "{k}"
        );
    }
    assert_eq!(bulk(&mut con, &["object", "encoding", "nokey"]), None);
    // Shared small integers.
    assert_eq!(int(&mut con, &["OBJECT", "REFCOUNT", "i"]), 2_147_483_647);
    ok(&mut con, &["SET", "s", "9999"]);
    assert_eq!(int(&mut con, &["OBJECT", "REFCOUNT", "s"]), 2_147_483_647);
    ok(&mut con, &["SET", "s", "10000"]);
    assert_eq!(int(&mut con, &["OBJECT", "REFCOUNT", "s"]), 1);
    assert_eq!(int(&mut con, &["OBJECT", "REFCOUNT", "neg"]), 1);
    assert_eq!(int(&mut con, &["OBJECT", "REFCOUNT", "e"]), 1);
    assert_eq!(cmd(&mut con, &["OBJECT", "REFCOUNT", "nokey"]), V::Nil);
    // IDLETIME: fresh keys are idle for (about) zero seconds; missing keys are nil.
    assert!(int(&mut con, &["OBJECT", "IDLETIME", "e"]) <= 10);
    assert_eq!(cmd(&mut con, &["OBJECT", "IDLETIME", "nokey"]), V::Nil);
    // FREQ needs an LFU policy; IDLETIME refuses one. A missing key is nil first.
    let lfu_off = "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.";
    let lfu_on = "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.";
    assert_eq!(err(&mut con, &["OBJECT", "FREQ", "e"]), lfu_off);
    assert_eq!(cmd(&mut con, &["OBJECT", "FREQ", "nokey"]), V::Nil);
    ok(
        &mut con,
        &["CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"],
    );
    assert_eq!(err(&mut con, &["OBJECT", "IDLETIME", "e"]), lfu_on);
    assert_eq!(cmd(&mut con, &["OBJECT", "IDLETIME", "nokey"]), V::Nil);
    assert!(int(&mut con, &["OBJECT", "FREQ", "e"]) >= 0);
    ok(
        &mut con,
        &["CONFIG", "SET", "maxmemory-policy", "noeviction"],
    );
    // HELP, unknown subcommands, arity.
    let help = strings(cmd(&mut con, &["OBJECT", "HELP"]));
    assert_eq!(help.len(), 15);
    assert_eq!(
        help[0],
        "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    );
    assert_eq!(help[14], "    Prints this help.");
    assert_eq!(
        err(&mut con, &["OBJECT", "foo", "k"]),
        "ERR unknown subcommand 'foo'. Try OBJECT HELP."
    );
    assert_eq!(
        err(&mut con, &["OBJECT"]),
        "ERR wrong number of arguments for 'object' command"
    );
    assert_eq!(
        err(&mut con, &["OBJECT", "HELP", "x"]),
        "ERR wrong number of arguments for 'object|help' command"
    );
    assert_eq!(
        err(&mut con, &["OBJECT", "ENCODING"]),
        "ERR wrong number of arguments for 'object|encoding' command"
    );
    assert_eq!(
        err(&mut con, &["OBJECT", "REFCOUNT", "a", "b"]),
        "ERR wrong number of arguments for 'object|refcount' command"
    );
    // RESP2 help lines are status replies.
    let mut raw = srv.raw();
    raw.roundtrip(
        &resp(&[b"OBJECT", b"HELP"]),
        b"*15\r\n+OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n",
    );
}

#[test]
fn swapdb_command() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    ok(&mut con, &["SET", "a", "in0"]);
    assert_eq!(int(&mut con, &["PEXPIREAT", "a", "4102444800123"]), 1);
    ok(&mut con, &["SELECT", "1"]);
    ok(&mut con, &["SET", "b", "in1"]);
    ok(&mut con, &["SET", "c", "in1"]);
    ok(&mut con, &["SWAPDB", "0", "1"]);
    // This connection still has database 1 selected, which now holds the old database 0.
    assert_eq!(int(&mut con, &["DBSIZE"]), 1);
    assert_eq!(bulk(&mut con, &["GET", "a"]).as_deref(), Some("in0"));
    assert_eq!(int(&mut con, &["PEXPIRETIME", "a"]), 4_102_444_800_123);
    ok(&mut con, &["SELECT", "0"]);
    assert_eq!(int(&mut con, &["DBSIZE"]), 2);
    assert_eq!(sorted(strings(cmd(&mut con, &["KEYS", "*"]))), ["b", "c"]);
    ok(&mut con, &["SWAPDB", "0", "0"]);
    assert_eq!(int(&mut con, &["DBSIZE"]), 2);
    ok(&mut con, &["SWAPDB", "1", "0"]);
    assert_eq!(int(&mut con, &["DBSIZE"]), 1);
    assert_eq!(
        err(&mut con, &["SWAPDB", "a", "1"]),
        "ERR invalid first DB index"
    );
    assert_eq!(
        err(&mut con, &["SWAPDB", "1", "a"]),
        "ERR invalid second DB index"
    );
    assert_eq!(
        err(&mut con, &["SWAPDB", "99999999999", "0"]),
        "ERR invalid first DB index"
    );
    assert_eq!(
        err(&mut con, &["SWAPDB", "0", "-99999999999"]),
        "ERR invalid second DB index"
    );
    assert_eq!(
        err(&mut con, &["SWAPDB", "1", "99"]),
        "ERR DB index is out of range"
    );
    assert_eq!(
        err(&mut con, &["SWAPDB", "16", "1"]),
        "ERR DB index is out of range"
    );
    assert_eq!(
        err(&mut con, &["SWAPDB", "-1", "1"]),
        "ERR DB index is out of range"
    );
    assert_eq!(
        err(&mut con, &["SWAPDB", "0"]),
        "ERR wrong number of arguments for 'swapdb' command"
    );
    assert_eq!(
        err(&mut con, &["SWAPDB", "0", "1", "2"]),
        "ERR wrong number of arguments for 'swapdb' command"
    );
}

#[test]
fn dbsize_flushdb_flushall() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    assert_eq!(int(&mut con, &["DBSIZE"]), 0);
    for i in 0..100 {
        ok(&mut con, &["SET", &format!("k{i}"), "v"]);
    }
    assert_eq!(int(&mut con, &["DBSIZE"]), 100);
    ok(&mut con, &["SELECT", "1"]);
    ok(&mut con, &["SET", "x", "v"]);
    assert_eq!(int(&mut con, &["DBSIZE"]), 1);
    ok(&mut con, &["FLUSHDB"]);
    assert_eq!(int(&mut con, &["DBSIZE"]), 0);
    ok(&mut con, &["SELECT", "0"]);
    assert_eq!(int(&mut con, &["DBSIZE"]), 100);
    ok(&mut con, &["SELECT", "2"]);
    ok(&mut con, &["SET", "y", "v"]);
    ok(&mut con, &["FLUSHALL", "ASYNC"]);
    assert_eq!(int(&mut con, &["DBSIZE"]), 0);
    ok(&mut con, &["SELECT", "0"]);
    assert_eq!(int(&mut con, &["DBSIZE"]), 0);
    assert_eq!(cmd(&mut con, &["RANDOMKEY"]), V::Nil);
    assert_eq!(err(&mut con, &["FLUSHDB", "foo"]), "ERR syntax error");
    assert_eq!(
        err(&mut con, &["DBSIZE", "x"]),
        "ERR wrong number of arguments for 'dbsize' command"
    );
}

#[test]
fn keyspace_hit_and_miss_counters_follow_redis() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    let stats = |con: &mut Connection| -> (u64, u64) {
        let info = bulk(con, &["INFO", "stats"]).expect("info");
        let field = |name: &str| -> u64 {
            info.lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or_else(|| panic!("{name} missing"))
        };
        (field("keyspace_hits:"), field("keyspace_misses:"))
    };
    ok(&mut con, &["SET", "a", "1"]);
    ok(&mut con, &["CONFIG", "RESETSTAT"]);
    // Redis 7.0 (checked against redis-server): read lookups count, write lookups and scans do not.
    let steps: &[(&[&str], (u64, u64))] = &[
        (&["EXISTS", "a"], (1, 0)),
        (&["EXISTS", "b"], (1, 1)),
        (&["TTL", "a"], (2, 1)),
        (&["TYPE", "a"], (3, 1)),
        (&["OBJECT", "ENCODING", "a"], (4, 1)),
        (&["TOUCH", "a", "b"], (5, 2)),
        (&["EXPIRE", "a", "100"], (5, 2)),
        (&["PERSIST", "a"], (5, 2)),
        (&["COPY", "a", "c"], (6, 2)),
        (&["MOVE", "a", "1"], (6, 2)),
        (&["RENAME", "c", "d"], (6, 2)),
        (&["SCAN", "0"], (6, 2)),
        (&["KEYS", "*"], (6, 2)),
        (&["RANDOMKEY"], (6, 2)),
        (&["DEL", "d"], (6, 2)),
    ];
    for (args, expect) in steps {
        let _ = common::run(&mut con, args);
        assert_eq!(stats(&mut con), *expect, "after {args:?}");
    }
}

#[test]
fn resp3_replies() {
    let srv = TestServer::start();
    let mut raw = srv.raw();
    // Switch to RESP3 and skip HELLO's map by reading up to a marker echoed after it.
    let mut req = resp(&[b"HELLO", b"3"]);
    req.extend(resp(&[b"ECHO", b"end-of-hello"]));
    raw.send(&req);
    let mut got = Vec::new();
    while !got.ends_with(b"end-of-hello\r\n") {
        let more = raw.read_n(1);
        assert!(!more.is_empty(), "connection closed");
        got.extend(more);
    }
    raw.roundtrip(&resp(&[b"RANDOMKEY"]), b"_\r\n");
    raw.roundtrip(&resp(&[b"OBJECT", b"ENCODING", b"nokey"]), b"_\r\n");
    raw.roundtrip(&resp(&[b"SET", b"k", b"v"]), b"+OK\r\n");
    raw.roundtrip(
        &resp(&[b"SCAN", b"0", b"COUNT", b"1000"]),
        b"*2\r\n$1\r\n0\r\n*1\r\n$1\r\nk\r\n",
    );
    raw.roundtrip(&resp(&[b"TTL", b"k"]), b":-1\r\n");
}

#[test]
fn changes_counted_like_redis() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    let changes = |con: &mut Connection| -> u64 {
        let info = bulk(con, &["INFO", "persistence"]).expect("info");
        info.lines()
            .find_map(|l| l.strip_prefix("rdb_changes_since_last_save:"))
            .and_then(|v| v.trim().parse().ok())
            .expect("rdb_changes_since_last_save")
    };
    ok(&mut con, &["SET", "a", "1"]);
    ok(&mut con, &["SET", "b", "1"]);
    ok(&mut con, &["SET", "c", "1"]);
    // Deltas checked against redis-server: a rename, move or copy is one change.
    let steps: &[(&[&str], u64)] = &[
        (&["RENAME", "a", "b"], 1),
        (&["MOVE", "b", "1"], 1),
        (&["COPY", "c", "d"], 1),
        (&["COPY", "c", "d", "REPLACE"], 1),
        (&["EXPIRE", "c", "100"], 1),
        (&["PERSIST", "c"], 1),
        (&["DEL", "c", "d", "nokey"], 2),
        (&["SWAPDB", "0", "1"], 1),
        (&["EXPIRE", "nokey", "1"], 0),
        (&["RENAMENX", "b", "b"], 0),
    ];
    for (args, delta) in steps {
        let before = changes(&mut con);
        let _ = common::run(&mut con, args);
        assert_eq!(changes(&mut con) - before, *delta, "{args:?}");
    }
}
