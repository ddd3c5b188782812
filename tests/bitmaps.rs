//! Bitmap commands: SETBIT GETBIT BITCOUNT BITPOS BITOP BITFIELD BITFIELD_RO.
//!
//! Expected values and error texts were taken from a real Redis (7.0, whose bitmap behaviour 7.2 keeps)
//! by sending it the same requests. WRONGTYPE cases wait for a second value type to exist.

mod common;

use common::{err, resp, TestServer};
use redis::{Connection, Value};

fn int(con: &mut Connection, args: &[&str]) -> i64 {
    let mut c = redis::cmd(args[0]);
    for a in &args[1..] {
        c.arg(*a);
    }
    c.query(con).unwrap_or_else(|e| panic!("{args:?}: {e}"))
}

fn ints(con: &mut Connection, args: &[&str]) -> Vec<Option<i64>> {
    let mut c = redis::cmd(args[0]);
    for a in &args[1..] {
        c.arg(*a);
    }
    c.query(con).unwrap_or_else(|e| panic!("{args:?}: {e}"))
}

fn set_bytes(con: &mut Connection, key: &str, v: &[u8]) {
    let _: () = redis::cmd("SET").arg(key).arg(v).query(con).unwrap();
}

fn get_bytes(con: &mut Connection, key: &str) -> Option<Vec<u8>> {
    redis::cmd("GET").arg(key).query(con).unwrap()
}

fn exists(con: &mut Connection, key: &str) -> bool {
    int(con, &["EXISTS", key]) == 1
}

const OFFSET_ERR: &str = "ERR bit offset is not an integer or out of range";
const BIT_ERR: &str = "ERR bit is not an integer or out of range";
const NOT_INT: &str = "ERR value is not an integer or out of range";
const SYNTAX: &str = "ERR syntax error";
const TYPE_ERR: &str = "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.";

#[test]
fn setbit_getbit_basics() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    assert_eq!(int(&mut con, &["SETBIT", "b", "7", "1"]), 0);
    assert_eq!(get_bytes(&mut con, "b").unwrap(), [0x01]);
    assert_eq!(int(&mut con, &["SETBIT", "b", "7", "1"]), 1);
    assert_eq!(int(&mut con, &["SETBIT", "b", "7", "0"]), 1);
    assert_eq!(int(&mut con, &["GETBIT", "b", "7"]), 0);
    // Growth zero-fills, and GET returns the raw bytes.
    assert_eq!(int(&mut con, &["SETBIT", "b", "33", "1"]), 0);
    assert_eq!(get_bytes(&mut con, "b").unwrap(), [0, 0, 0, 0, 0x40]);
    assert_eq!(int(&mut con, &["GETBIT", "b", "33"]), 1);
    assert_eq!(int(&mut con, &["GETBIT", "b", "32"]), 0);
    assert_eq!(int(&mut con, &["GETBIT", "b", "1000000"]), 0);
    assert_eq!(int(&mut con, &["GETBIT", "missing", "5"]), 0);
    assert!(!exists(&mut con, "missing"));
    // Binary-safe: high bytes survive.
    set_bytes(&mut con, "bin", &[0xff, 0x00, 0x80]);
    assert_eq!(int(&mut con, &["GETBIT", "bin", "7"]), 1);
    assert_eq!(int(&mut con, &["GETBIT", "bin", "8"]), 0);
    assert_eq!(int(&mut con, &["SETBIT", "bin", "0", "0"]), 1);
    assert_eq!(get_bytes(&mut con, "bin").unwrap(), [0x7f, 0x00, 0x80]);
}

#[test]
fn setbit_on_integer_and_short_strings_edits_their_text() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    let _: () = redis::cmd("SET")
        .arg("n")
        .arg("12345")
        .query(&mut con)
        .unwrap();
    // '1' is 0x31 = 0011 0001.
    assert_eq!(int(&mut con, &["GETBIT", "n", "2"]), 1);
    assert_eq!(int(&mut con, &["GETBIT", "n", "0"]), 0);
    assert_eq!(int(&mut con, &["SETBIT", "n", "1", "1"]), 0);
    assert_eq!(get_bytes(&mut con, "n").unwrap(), b"q2345");
    let _: () = redis::cmd("SET").arg("e").arg("").query(&mut con).unwrap();
    assert_eq!(int(&mut con, &["GETBIT", "e", "0"]), 0);
    assert_eq!(int(&mut con, &["SETBIT", "e", "15", "1"]), 0);
    assert_eq!(get_bytes(&mut con, "e").unwrap(), [0x00, 0x01]);
}

#[test]
fn setbit_getbit_errors() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    for off in [
        "-1",
        "4294967296",
        "x",
        "01",
        "1.5",
        "",
        "#1",
        "9223372036854775808",
    ] {
        assert_eq!(
            err(&mut con, &["SETBIT", "k", off, "1"]),
            OFFSET_ERR,
            "offset {off:?}"
        );
        assert_eq!(
            err(&mut con, &["GETBIT", "k", off]),
            OFFSET_ERR,
            "offset {off:?}"
        );
    }
    for v in ["2", "-1", "x", "", "01", "9223372036854775808"] {
        assert_eq!(
            err(&mut con, &["SETBIT", "k", "1", v]),
            BIT_ERR,
            "value {v:?}"
        );
    }
    // The offset is checked before the value.
    assert_eq!(err(&mut con, &["SETBIT", "k", "-1", "2"]), OFFSET_ERR);
    assert!(!exists(&mut con, "k"));
    assert_eq!(
        err(&mut con, &["SETBIT", "k", "1"]),
        "ERR wrong number of arguments for 'setbit' command"
    );
    assert_eq!(
        err(&mut con, &["SETBIT", "k", "1", "1", "1"]),
        "ERR wrong number of arguments for 'setbit' command"
    );
    assert_eq!(
        err(&mut con, &["GETBIT", "k"]),
        "ERR wrong number of arguments for 'getbit' command"
    );
    assert_eq!(
        err(&mut con, &["GETBIT", "k", "1", "2"]),
        "ERR wrong number of arguments for 'getbit' command"
    );
}

#[test]
fn setbit_large_offsets_respect_proto_max_bulk_len() {
    // A 1 MB limit keeps the test's allocations small: the last addressable bit is 8 Mi - 1.
    let srv = TestServer::with_config(|c| c.proto_max_bulk_len = 1024 * 1024);
    let mut con = srv.conn();
    let last = (8 * 1024 * 1024 - 1).to_string();
    let over = (8 * 1024 * 1024).to_string();
    assert_eq!(err(&mut con, &["SETBIT", "big", &over, "1"]), OFFSET_ERR);
    assert_eq!(err(&mut con, &["GETBIT", "big", &over]), OFFSET_ERR);
    assert_eq!(int(&mut con, &["SETBIT", "big", &last, "1"]), 0);
    let v = get_bytes(&mut con, "big").unwrap();
    assert_eq!(v.len(), 1024 * 1024);
    assert_eq!(v[v.len() - 1], 0x01);
    assert!(v[..v.len() - 1].iter().all(|&b| b == 0));
    assert_eq!(int(&mut con, &["BITCOUNT", "big"]), 1);
    assert_eq!(int(&mut con, &["BITPOS", "big", "1"]), 8 * 1024 * 1024 - 1);
    assert_eq!(
        err(&mut con, &["BITFIELD", "big", "GET", "u8", &over]),
        OFFSET_ERR
    );
    assert_eq!(
        err(&mut con, &["BITFIELD", "big", "SET", "u8", "#1048576", "1"]),
        OFFSET_ERR
    );
}

#[test]
fn setbit_default_limit_is_512mb() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    // 2^32 is one past the last bit of a 512 MB string; a moderately large offset works.
    assert_eq!(
        err(&mut con, &["SETBIT", "k", "4294967296", "1"]),
        OFFSET_ERR
    );
    assert_eq!(int(&mut con, &["SETBIT", "k", "10000000", "1"]), 0);
    assert_eq!(get_bytes(&mut con, "k").unwrap().len(), 1_250_001);
    assert_eq!(int(&mut con, &["GETBIT", "k", "4294967295"]), 0);
}

#[test]
fn bitcount_ranges() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    set_bytes(&mut con, "k", b"foobar");
    assert_eq!(int(&mut con, &["BITCOUNT", "k"]), 26);
    assert_eq!(int(&mut con, &["BITCOUNT", "k", "0", "0"]), 4);
    assert_eq!(int(&mut con, &["BITCOUNT", "k", "1", "1"]), 6);
    assert_eq!(int(&mut con, &["BITCOUNT", "k", "1", "1", "BYTE"]), 6);
    assert_eq!(int(&mut con, &["BITCOUNT", "k", "5", "30", "BIT"]), 17);
    assert_eq!(int(&mut con, &["BITCOUNT", "k", "5", "30", "bit"]), 17);
    assert_eq!(int(&mut con, &["BITCOUNT", "k", "0", "-1"]), 26);
    assert_eq!(int(&mut con, &["BITCOUNT", "k", "-2", "-1"]), 7);
    assert_eq!(int(&mut con, &["BITCOUNT", "k", "-100", "100"]), 26);
    assert_eq!(int(&mut con, &["BITCOUNT", "k", "3", "1"]), 0);
    assert_eq!(int(&mut con, &["BITCOUNT", "k", "6", "10"]), 0);
    assert_eq!(int(&mut con, &["BITCOUNT", "k", "-1", "-1", "BIT"]), 0);
    assert_eq!(int(&mut con, &["BITCOUNT", "k", "-2", "-1", "BIT"]), 1);
    // Both ends negative and clamped to the start still count the first byte, unless start > end.
    assert_eq!(int(&mut con, &["BITCOUNT", "k", "-20", "-10"]), 4);
    assert_eq!(int(&mut con, &["BITCOUNT", "k", "-10", "-20"]), 0);
    let (min, max) = (i64::MIN.to_string(), i64::MAX.to_string());
    assert_eq!(int(&mut con, &["BITCOUNT", "k", &min, &max, "BIT"]), 26);
    assert_eq!(int(&mut con, &["BITCOUNT", "k", &max, &min]), 0);
    set_bytes(&mut con, "e", b"");
    assert_eq!(int(&mut con, &["BITCOUNT", "e"]), 0);
    assert_eq!(int(&mut con, &["BITCOUNT", "e", "0", "-1"]), 0);
    assert_eq!(int(&mut con, &["BITCOUNT", "missing"]), 0);
    set_bytes(&mut con, "n", b"255");
    assert_eq!(int(&mut con, &["BITCOUNT", "n"]), 11);
    // Word-sized chunks and ragged edges on a longer value.
    let long: Vec<u8> = (0..1000u32).map(|i| (i * 37 % 256) as u8).collect();
    set_bytes(&mut con, "long", &long);
    let want: u32 = long[3..=996].iter().map(|b| b.count_ones()).sum();
    assert_eq!(
        int(&mut con, &["BITCOUNT", "long", "3", "996"]),
        want as i64
    );
    let want: u32 = long.iter().map(|b| b.count_ones()).sum::<u32>()
        - (long[0] >> 1).count_ones()
        - (long[999] & 1) as u32;
    assert_eq!(
        int(&mut con, &["BITCOUNT", "long", "7", "7998", "BIT"]),
        want as i64
    );
}

#[test]
fn bitcount_errors() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    set_bytes(&mut con, "k", b"foobar");
    assert_eq!(err(&mut con, &["BITCOUNT", "k", "1"]), SYNTAX);
    assert_eq!(err(&mut con, &["BITCOUNT", "k", "1", "2", "FOO"]), SYNTAX);
    assert_eq!(
        err(&mut con, &["BITCOUNT", "k", "1", "2", "BIT", "x"]),
        SYNTAX
    );
    assert_eq!(err(&mut con, &["BITCOUNT", "k", "a", "1"]), NOT_INT);
    assert_eq!(
        err(&mut con, &["BITCOUNT", "k", "1", "9223372036854775808"]),
        NOT_INT
    );
    // Redis 7.2 checks "both negative and start > end" before the unit.
    assert_eq!(int(&mut con, &["BITCOUNT", "k", "-1", "-2", "FOO"]), 0);
    // A missing key answers 0 before the other arguments are read (until Redis 8).
    assert_eq!(int(&mut con, &["BITCOUNT", "missing", "1"]), 0);
    assert_eq!(
        int(&mut con, &["BITCOUNT", "missing", "a", "b", "c", "d"]),
        0
    );
    assert_eq!(
        err(&mut con, &["BITCOUNT"]),
        "ERR wrong number of arguments for 'bitcount' command"
    );
}

#[test]
fn bitpos_finds_bits() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    set_bytes(&mut con, "k", &[0xff, 0xf0, 0x00]);
    assert_eq!(int(&mut con, &["BITPOS", "k", "0"]), 12);
    assert_eq!(int(&mut con, &["BITPOS", "k", "1"]), 0);
    set_bytes(&mut con, "k", &[0x00, 0xff, 0xf0]);
    assert_eq!(int(&mut con, &["BITPOS", "k", "1", "0"]), 8);
    assert_eq!(int(&mut con, &["BITPOS", "k", "1", "2"]), 16);
    assert_eq!(int(&mut con, &["BITPOS", "k", "1", "2", "-1", "BYTE"]), 16);
    assert_eq!(int(&mut con, &["BITPOS", "k", "1", "7", "15", "BIT"]), 8);
    assert_eq!(int(&mut con, &["BITPOS", "k", "1", "7", "-3", "BIT"]), 8);
    assert_eq!(int(&mut con, &["BITPOS", "k", "0", "8", "-1", "bit"]), 20);
    assert_eq!(int(&mut con, &["BITPOS", "k", "1", "3", "1"]), -1);
    assert_eq!(int(&mut con, &["BITPOS", "k", "1", "100"]), -1);
    assert_eq!(int(&mut con, &["BITPOS", "k", "0", "100"]), -1);
    // Negative ends clamp to the start of the string.
    assert_eq!(int(&mut con, &["BITPOS", "k", "0", "-10", "-20"]), 0);
    set_bytes(&mut con, "z", &[0, 0, 0]);
    assert_eq!(int(&mut con, &["BITPOS", "z", "1"]), -1);
    assert_eq!(int(&mut con, &["BITPOS", "z", "0"]), 0);
    // Clear bits: without an end the string is zero-padded, with one the range is exact.
    set_bytes(&mut con, "ff", &[0xff, 0xff, 0xff]);
    assert_eq!(int(&mut con, &["BITPOS", "ff", "0"]), 24);
    assert_eq!(int(&mut con, &["BITPOS", "ff", "0", "1"]), 24);
    assert_eq!(int(&mut con, &["BITPOS", "ff", "0", "1", "-1"]), -1);
    assert_eq!(int(&mut con, &["BITPOS", "ff", "0", "0", "23", "BIT"]), -1);
    assert_eq!(int(&mut con, &["BITPOS", "ff", "1", "9", "9", "BIT"]), 9);
    set_bytes(&mut con, "e", b"");
    assert_eq!(int(&mut con, &["BITPOS", "e", "0"]), -1);
    assert_eq!(int(&mut con, &["BITPOS", "e", "1"]), -1);
    assert_eq!(int(&mut con, &["BITPOS", "missing", "0"]), 0);
    assert_eq!(int(&mut con, &["BITPOS", "missing", "1"]), -1);
    // A long run of zeros before the first set bit.
    let mut long = vec![0u8; 5000];
    long[4321] = 0x04;
    set_bytes(&mut con, "long", &long);
    assert_eq!(int(&mut con, &["BITPOS", "long", "1"]), 4321 * 8 + 5);
    assert_eq!(int(&mut con, &["BITPOS", "long", "1", "4322"]), -1);
    assert_eq!(int(&mut con, &["BITPOS", "long", "0", "0", "-1"]), 0);
}

#[test]
fn bitpos_errors() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    set_bytes(&mut con, "k", b"foobar");
    assert_eq!(
        err(&mut con, &["BITPOS", "k", "2"]),
        "ERR The bit argument must be 1 or 0."
    );
    assert_eq!(
        err(&mut con, &["BITPOS", "k", "-1"]),
        "ERR The bit argument must be 1 or 0."
    );
    assert_eq!(
        err(&mut con, &["BITPOS", "missing", "2"]),
        "ERR The bit argument must be 1 or 0."
    );
    assert_eq!(err(&mut con, &["BITPOS", "k", "x"]), NOT_INT);
    assert_eq!(err(&mut con, &["BITPOS", "k", "1", "a"]), NOT_INT);
    assert_eq!(err(&mut con, &["BITPOS", "k", "1", "1", "a"]), NOT_INT);
    // The unit is read before the end.
    assert_eq!(
        err(&mut con, &["BITPOS", "k", "0", "1", "a", "FOO"]),
        SYNTAX
    );
    assert_eq!(
        err(&mut con, &["BITPOS", "k", "0", "a", "1", "FOO"]),
        NOT_INT
    );
    assert_eq!(
        err(&mut con, &["BITPOS", "k", "1", "1", "2", "3", "4"]),
        SYNTAX
    );
    // A missing key answers before the range is read (until Redis 8).
    assert_eq!(int(&mut con, &["BITPOS", "missing", "0", "a", "b"]), 0);
    assert_eq!(
        err(&mut con, &["BITPOS", "k"]),
        "ERR wrong number of arguments for 'bitpos' command"
    );
}

#[test]
fn bitop_operations() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    set_bytes(&mut con, "a", b"abc");
    set_bytes(&mut con, "b", b"de");
    assert_eq!(int(&mut con, &["BITOP", "AND", "d", "a", "b"]), 3);
    assert_eq!(
        get_bytes(&mut con, "d").unwrap(),
        [b'a' & b'd', b'b' & b'e', 0]
    );
    assert_eq!(int(&mut con, &["BITOP", "or", "d", "a", "b"]), 3);
    assert_eq!(
        get_bytes(&mut con, "d").unwrap(),
        [b'a' | b'd', b'b' | b'e', b'c']
    );
    assert_eq!(
        int(&mut con, &["BITOP", "Xor", "d", "a", "b", "missing"]),
        3
    );
    assert_eq!(
        get_bytes(&mut con, "d").unwrap(),
        [b'a' ^ b'd', b'b' ^ b'e', b'c']
    );
    assert_eq!(int(&mut con, &["BITOP", "NOT", "d", "a"]), 3);
    assert_eq!(get_bytes(&mut con, "d").unwrap(), [!b'a', !b'b', !b'c']);
    // A missing source is zeros as long as the longest source.
    assert_eq!(int(&mut con, &["BITOP", "AND", "d", "missing", "a"]), 3);
    assert_eq!(get_bytes(&mut con, "d").unwrap(), [0, 0, 0]);
    assert_eq!(int(&mut con, &["BITOP", "OR", "d", "b"]), 2);
    assert_eq!(get_bytes(&mut con, "d").unwrap(), b"de");
    // The destination may be a source.
    assert_eq!(int(&mut con, &["BITOP", "XOR", "a", "a", "a"]), 3);
    assert_eq!(get_bytes(&mut con, "a").unwrap(), [0, 0, 0]);
    // Integer-encoded sources are read as their text.
    let _: () = redis::cmd("SET")
        .arg("n")
        .arg("12")
        .query(&mut con)
        .unwrap();
    assert_eq!(int(&mut con, &["BITOP", "NOT", "d", "n"]), 2);
    assert_eq!(get_bytes(&mut con, "d").unwrap(), [!b'1', !b'2']);
    // Binary data, longer than a word.
    let x: Vec<u8> = (0..=255u8).collect();
    let y: Vec<u8> = (0..=255u8).rev().take(100).collect();
    set_bytes(&mut con, "x", &x);
    set_bytes(&mut con, "y", &y);
    assert_eq!(int(&mut con, &["BITOP", "AND", "d", "x", "y"]), 256);
    let want: Vec<u8> = (0..256)
        .map(|i| if i < 100 { x[i] & y[i] } else { 0 })
        .collect();
    assert_eq!(get_bytes(&mut con, "d").unwrap(), want);
}

#[test]
fn bitop_empty_result_deletes_destination() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    set_bytes(&mut con, "d", b"old");
    assert_eq!(int(&mut con, &["BITOP", "AND", "d", "m1", "m2"]), 0);
    assert!(!exists(&mut con, "d"));
    set_bytes(&mut con, "d", b"old");
    set_bytes(&mut con, "e", b"");
    assert_eq!(int(&mut con, &["BITOP", "NOT", "d", "e"]), 0);
    assert!(!exists(&mut con, "d"));
    assert_eq!(int(&mut con, &["BITOP", "OR", "d", "m1"]), 0);
    assert!(!exists(&mut con, "d"));
}

#[test]
fn bitop_errors() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    set_bytes(&mut con, "a", b"abc");
    let not_err = "ERR BITOP NOT must be called with a single source key.";
    assert_eq!(err(&mut con, &["BITOP", "NOT", "d", "a", "a"]), not_err);
    assert_eq!(
        err(&mut con, &["BITOP", "not", "d", "a", "b", "c"]),
        not_err
    );
    assert_eq!(err(&mut con, &["BITOP", "NAND", "d", "a"]), SYNTAX);
    assert_eq!(err(&mut con, &["BITOP", "DIFF", "d", "a", "a"]), SYNTAX);
    assert_eq!(err(&mut con, &["BITOP", "", "d", "a"]), SYNTAX);
    assert!(!exists(&mut con, "d"));
    assert_eq!(
        err(&mut con, &["BITOP", "AND", "d"]),
        "ERR wrong number of arguments for 'bitop' command"
    );
    assert_eq!(
        err(&mut con, &["BITOP", "NOT", "d"]),
        "ERR wrong number of arguments for 'bitop' command"
    );
}

#[test]
fn bitfield_get_set_incrby() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    assert_eq!(
        ints(
            &mut con,
            &["BITFIELD", "k", "INCRBY", "i5", "100", "1", "GET", "u4", "0"]
        ),
        [Some(1), Some(0)]
    );
    assert_eq!(get_bytes(&mut con, "k").unwrap().len(), 14);
    assert_eq!(
        ints(&mut con, &["BITFIELD", "k", "SET", "i8", "0", "-100"]),
        [Some(0)]
    );
    assert_eq!(
        ints(
            &mut con,
            &[
                "BITFIELD", "k", "GET", "i8", "0", "GET", "u8", "0", "GET", "u4", "0", "GET", "i4",
                "4"
            ]
        ),
        [Some(-100), Some(156), Some(9), Some(-4)]
    );
    assert_eq!(get_bytes(&mut con, "k").unwrap()[0], 0x9c);
    // `#N` offsets count fields of the type's width.
    assert_eq!(
        ints(
            &mut con,
            &["BITFIELD", "k", "SET", "u8", "#2", "200", "GET", "u8", "16", "GET", "u8", "#2"]
        ),
        [Some(0), Some(200), Some(200)]
    );
    // Operations run in order and see each other's writes.
    assert_eq!(
        ints(
            &mut con,
            &[
                "BITFIELD", "k", "SET", "u8", "#3", "7", "INCRBY", "u8", "#3", "3", "GET", "u8",
                "#3"
            ]
        ),
        [Some(0), Some(10), Some(10)]
    );
    // 64-bit signed fields, unaligned.
    let (min, max) = (i64::MIN.to_string(), i64::MAX.to_string());
    assert_eq!(
        ints(
            &mut con,
            &["BITFIELD", "w", "SET", "i64", "3", &min, "GET", "i64", "3"]
        ),
        [Some(0), Some(i64::MIN)]
    );
    assert_eq!(
        ints(&mut con, &["BITFIELD", "w", "INCRBY", "i64", "3", "-1"]),
        [Some(i64::MAX)]
    );
    assert_eq!(
        ints(
            &mut con,
            &["BITFIELD", "w", "SET", "u63", "1", "-1", "GET", "u63", "1"]
        ),
        [Some(1152921504606846975), Some(i64::MAX)]
    );
    assert_eq!(
        ints(
            &mut con,
            &["BITFIELD", "w", "SET", "i64", "0", &max, "GET", "u1", "0", "GET", "u1", "1"]
        ),
        [Some(i64::MAX), Some(0), Some(1)]
    );
    assert_eq!(ints(&mut con, &["BITFIELD", "k"]), []);
}

#[test]
fn bitfield_overflow_modes() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    assert_eq!(
        ints(
            &mut con,
            &[
                "BITFIELD", "k", "INCRBY", "u2", "100", "1", "OVERFLOW", "SAT", "INCRBY", "u2",
                "102", "1"
            ]
        ),
        [Some(1), Some(1)]
    );
    assert_eq!(
        ints(
            &mut con,
            &[
                "BITFIELD", "k", "INCRBY", "u2", "100", "1", "OVERFLOW", "SAT", "INCRBY", "u2",
                "102", "1"
            ]
        ),
        [Some(2), Some(2)]
    );
    assert_eq!(
        ints(
            &mut con,
            &[
                "BITFIELD", "k", "INCRBY", "u2", "100", "1", "OVERFLOW", "SAT", "INCRBY", "u2",
                "102", "1"
            ]
        ),
        [Some(3), Some(3)]
    );
    assert_eq!(
        ints(
            &mut con,
            &[
                "BITFIELD", "k", "INCRBY", "u2", "100", "1", "OVERFLOW", "SAT", "INCRBY", "u2",
                "102", "1"
            ]
        ),
        [Some(0), Some(3)]
    );
    assert_eq!(
        ints(
            &mut con,
            &["BITFIELD", "k", "OVERFLOW", "FAIL", "INCRBY", "u2", "102", "1", "GET", "u2", "102"]
        ),
        [None, Some(3)]
    );
    // Signed wrap and saturation.
    assert_eq!(
        ints(
            &mut con,
            &["BITFIELD", "s", "SET", "i8", "0", "127", "INCRBY", "i8", "0", "1"]
        ),
        [Some(0), Some(-128)]
    );
    assert_eq!(
        ints(
            &mut con,
            &[
                "BITFIELD", "s", "OVERFLOW", "SAT", "INCRBY", "i8", "0", "-1000", "INCRBY", "i8",
                "0", "1000"
            ]
        ),
        [Some(-128), Some(127)]
    );
    assert_eq!(
        ints(
            &mut con,
            &["BITFIELD", "s", "OVERFLOW", "wrap", "SET", "i8", "0", "-129", "GET", "i8", "0"]
        ),
        [Some(127), Some(127)]
    );
    assert_eq!(
        ints(
            &mut con,
            &[
                "BITFIELD", "s", "OVERFLOW", "fail", "SET", "i8", "0", "128", "SET", "i8", "0",
                "-128"
            ]
        ),
        [None, Some(127)]
    );
    // Unsigned SET takes the argument's 64-bit pattern: -1 is above the maximum, for WRAP and SAT alike.
    assert_eq!(
        ints(
            &mut con,
            &["BITFIELD", "u", "SET", "u8", "0", "-1", "GET", "u8", "0"]
        ),
        [Some(0), Some(255)]
    );
    assert_eq!(
        ints(
            &mut con,
            &[
                "BITFIELD", "u", "OVERFLOW", "SAT", "SET", "u8", "0", "-1000", "INCRBY", "u8", "0",
                "-1000"
            ]
        ),
        [Some(255), Some(0)]
    );
    // Redis's signed check wraps for values far below the minimum and saturates them to the maximum.
    let min = i64::MIN.to_string();
    assert_eq!(
        ints(
            &mut con,
            &["BITFIELD", "q", "OVERFLOW", "SAT", "SET", "i8", "0", &min, "GET", "i8", "0"]
        ),
        [Some(0), Some(127)]
    );
    assert_eq!(
        ints(
            &mut con,
            &[
                "BITFIELD",
                "q",
                "OVERFLOW",
                "SAT",
                "SET",
                "i8",
                "0",
                "-9223372036854775680",
                "GET",
                "i8",
                "0"
            ]
        ),
        [Some(127), Some(-128)]
    );
    assert_eq!(
        ints(
            &mut con,
            &[
                "BITFIELD",
                "q",
                "OVERFLOW",
                "SAT",
                "SET",
                "i63",
                "0",
                "-4611686018427387905",
                "GET",
                "i63",
                "0"
            ]
        ),
        [Some(-4611686018427387904), Some(4611686018427387903)]
    );
    let (max, min) = (i64::MAX.to_string(), i64::MIN.to_string());
    assert_eq!(
        ints(
            &mut con,
            &[
                "BITFIELD", "r", "OVERFLOW", "SAT", "INCRBY", "i64", "0", &max, "INCRBY", "i64",
                "0", "1", "OVERFLOW", "WRAP", "INCRBY", "i64", "0", "1"
            ]
        ),
        [Some(i64::MAX), Some(i64::MAX), Some(i64::MIN)]
    );
    assert_eq!(
        ints(
            &mut con,
            &[
                "BITFIELD", "r", "OVERFLOW", "FAIL", "INCRBY", "i64", "0", "-1", "INCRBY", "i64",
                "0", &min, "INCRBY", "i64", "0", &max
            ]
        ),
        [None, None, Some(-1)]
    );
}

#[test]
fn bitfield_fail_reply_is_nil_on_the_wire() {
    let srv = TestServer::start();
    let mut raw = srv.raw();
    raw.roundtrip(
        &resp(&[
            b"BITFIELD",
            b"k",
            b"OVERFLOW",
            b"FAIL",
            b"INCRBY",
            b"u2",
            b"0",
            b"10",
            b"GET",
            b"u2",
            b"0",
        ]),
        b"*2\r\n$-1\r\n:0\r\n",
    );
}

#[test]
fn bitfield_key_creation() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    // Only GETs: zeros, and the key is not created.
    assert_eq!(
        ints(
            &mut con,
            &["BITFIELD", "k", "GET", "i8", "0", "GET", "u63", "#100"]
        ),
        [Some(0), Some(0)]
    );
    assert!(!exists(&mut con, "k"));
    assert_eq!(
        ints(&mut con, &["BITFIELD_RO", "k", "GET", "u8", "0"]),
        [Some(0)]
    );
    assert!(!exists(&mut con, "k"));
    // A write creates it grown to the highest written bit, even when OVERFLOW FAIL refuses the write.
    assert_eq!(
        ints(
            &mut con,
            &["BITFIELD", "f", "OVERFLOW", "FAIL", "INCRBY", "u2", "0", "10"]
        ),
        [None]
    );
    assert_eq!(get_bytes(&mut con, "f").unwrap(), [0]);
    assert_eq!(
        ints(
            &mut con,
            &["BITFIELD", "g", "SET", "u8", "20", "0", "GET", "u8", "1000"]
        ),
        [Some(0), Some(0)]
    );
    assert_eq!(get_bytes(&mut con, "g").unwrap(), [0, 0, 0, 0]);
    // GETs past the end of an existing string read zeros and do not grow it.
    set_bytes(&mut con, "s", &[0xff]);
    assert_eq!(
        ints(
            &mut con,
            &["BITFIELD", "s", "GET", "u16", "0", "GET", "i8", "4"]
        ),
        [Some(0xff00), Some(-16)]
    );
    assert_eq!(get_bytes(&mut con, "s").unwrap(), [0xff]);
    assert_eq!(
        ints(
            &mut con,
            &["BITFIELD", "s", "GET", "u16", "0", "SET", "u1", "15", "1"]
        ),
        [Some(0xff00), Some(0)]
    );
    assert_eq!(get_bytes(&mut con, "s").unwrap(), [0xff, 0x01]);
}

#[test]
fn bitfield_errors() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    for ty in ["u64", "i65", "i0", "u0", "x8", "I8", "i08", "i-1", "i", ""] {
        assert_eq!(
            err(&mut con, &["BITFIELD", "k", "GET", ty, "0"]),
            TYPE_ERR,
            "type {ty:?}"
        );
    }
    for off in ["-1", "#-1", "#", "x", "4294967296", "#536870912", "1.0"] {
        assert_eq!(
            err(&mut con, &["BITFIELD", "k", "GET", "i8", off]),
            OFFSET_ERR,
            "offset {off:?}"
        );
    }
    assert_eq!(
        ints(&mut con, &["BITFIELD", "k", "GET", "i8", "#536870911"]),
        [Some(0)]
    );
    // `#N` is multiplied as Redis's C does: the product wraps.
    assert_eq!(
        ints(
            &mut con,
            &["BITFIELD", "k", "GET", "i8", "#2305843009213693953"]
        ),
        [Some(0)]
    );
    assert_eq!(
        err(&mut con, &["BITFIELD", "k", "OVERFLOW", "x"]),
        "ERR Invalid OVERFLOW type specified"
    );
    assert_eq!(err(&mut con, &["BITFIELD", "k", "OVERFLOW"]), SYNTAX);
    assert_eq!(err(&mut con, &["BITFIELD", "k", "GET", "i8"]), SYNTAX);
    assert_eq!(err(&mut con, &["BITFIELD", "k", "SET", "i8", "0"]), SYNTAX);
    assert_eq!(err(&mut con, &["BITFIELD", "k", "FOO"]), SYNTAX);
    assert_eq!(
        err(&mut con, &["BITFIELD", "k", "SET", "i8", "0", "x"]),
        NOT_INT
    );
    assert_eq!(
        err(
            &mut con,
            &["BITFIELD", "k", "INCRBY", "i8", "0", "9223372036854775808"]
        ),
        NOT_INT
    );
    // Errors anywhere in the list leave the key untouched.
    assert_eq!(
        err(
            &mut con,
            &["BITFIELD", "k", "SET", "i8", "0", "1", "GET", "u64", "0"]
        ),
        TYPE_ERR
    );
    assert!(!exists(&mut con, "k"));
    assert_eq!(
        err(&mut con, &["BITFIELD"]),
        "ERR wrong number of arguments for 'bitfield' command"
    );
}

#[test]
fn bitfield_ro() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    set_bytes(&mut con, "k", &[0x9c, 0x01]);
    assert_eq!(
        ints(
            &mut con,
            &["BITFIELD_RO", "k", "GET", "i8", "0", "GET", "u4", "#3"]
        ),
        [Some(-100), Some(1)]
    );
    assert_eq!(
        ints(
            &mut con,
            &["BITFIELD_RO", "k", "OVERFLOW", "SAT", "GET", "u8", "0"]
        ),
        [Some(0x9c)]
    );
    assert_eq!(ints(&mut con, &["BITFIELD_RO", "k"]), []);
    let ro = "ERR BITFIELD_RO only supports the GET subcommand";
    assert_eq!(
        err(&mut con, &["BITFIELD_RO", "k", "SET", "i8", "0", "1"]),
        ro
    );
    assert_eq!(
        err(
            &mut con,
            &["BITFIELD_RO", "missing", "INCRBY", "i8", "0", "1"]
        ),
        ro
    );
    assert!(!exists(&mut con, "missing"));
    assert_eq!(get_bytes(&mut con, "k").unwrap(), [0x9c, 0x01]);
    // The whole request is parsed before the read-only check.
    assert_eq!(
        err(&mut con, &["BITFIELD_RO", "k", "SET", "i8", "0", "x"]),
        NOT_INT
    );
    assert_eq!(
        err(&mut con, &["BITFIELD_RO", "k", "GET", "u64", "0"]),
        TYPE_ERR
    );
    assert_eq!(
        err(&mut con, &["BITFIELD_RO"]),
        "ERR wrong number of arguments for 'bitfield_ro' command"
    );
}

#[test]
fn nul_bytes_end_keywords_as_in_c() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    set_bytes(&mut con, "k", &[0xff]);
    assert_eq!(int(&mut con, &["BITCOUNT", "k", "0", "0", "bit\0x"]), 1);
    assert_eq!(
        ints(
            &mut con,
            &["BITFIELD", "k", "GET\0zz", "u8", "0", "GET", "i8\0junk", "0"]
        ),
        [Some(255), Some(-1)]
    );
    assert_eq!(err(&mut con, &["BITCOUNT", "k", "0", "0", "\0bit"]), SYNTAX);
    let _: Value = redis::cmd("PING").query(&mut con).unwrap();
}

/// The key's TTL as the keyspace holds it (`None`: no key, `Some(None)`: no TTL).
fn expire_at(srv: &TestServer, key: &str) -> Option<Option<u64>> {
    use ferrite::storage::{clock, Db, Locks};
    let mut locks = Locks::for_keys(&srv.server.keyspace, std::iter::once(key.as_bytes()));
    let mut dirty = 0;
    Db::new(&mut locks, 0, clock::now_ms(), &mut dirty).expire_at(key.as_bytes())
}

#[test]
fn ttl_is_kept_by_in_place_writes_and_cleared_by_bitop() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    for k in ["s", "f", "d"] {
        let _: () = redis::cmd("SET")
            .arg(k)
            .arg("v")
            .arg("EX")
            .arg(1000)
            .query(&mut con)
            .unwrap();
        assert!(matches!(expire_at(&srv, k), Some(Some(_))));
    }
    assert_eq!(int(&mut con, &["SETBIT", "s", "100", "1"]), 0);
    assert!(matches!(expire_at(&srv, "s"), Some(Some(_))));
    assert_eq!(
        ints(&mut con, &["BITFIELD", "f", "SET", "u8", "#20", "1"]),
        [Some(0)]
    );
    assert!(matches!(expire_at(&srv, "f"), Some(Some(_))));
    assert_eq!(int(&mut con, &["BITOP", "OR", "d", "s"]), 13);
    assert_eq!(expire_at(&srv, "d"), Some(None));
}
