//! Redis Functions through real clients: FUNCTION LOAD/DELETE/FLUSH/LIST/DUMP/RESTORE/STATS/KILL/HELP,
//! FCALL and FCALL_RO, with the error texts and reply shapes of Redis 7.0.15 (each expected value
//! below was read from a real redis-server). A busy function and FUNCTION KILL on one I/O thread are
//! here; the other I/O-thread layouts are in scripting.rs.

mod common;

use common::{bulk, cmd, err, int, ok, resp, TestServer};
use redis::Value;

const LIB: &str = "#!lua name=mylib
redis.register_function('myfunc', function(keys, args) return args[1] end)
redis.register_function{function_name='ro', callback=function(keys, args) return redis.call('get', keys[1]) end, flags={'no-writes'}, description='read only'}
redis.register_function{function_name='wr', callback=function(keys, args) return redis.call('set', keys[1], args[1]) end}";

fn load(con: &mut redis::Connection, code: &str) -> String {
    bulk(con, &["FUNCTION", "LOAD", code]).expect("library name")
}

fn load_err(con: &mut redis::Connection, code: &str) -> String {
    err(con, &["FUNCTION", "LOAD", code])
}

#[test]
fn load_and_call() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    assert_eq!(load(&mut con, LIB), "mylib");
    assert_eq!(
        bulk(&mut con, &["FCALL", "myfunc", "0", "hello"]).as_deref(),
        Some("hello")
    );
    // Function names ignore case.
    assert_eq!(
        bulk(&mut con, &["FCALL", "MYFUNC", "0", "hi"]).as_deref(),
        Some("hi")
    );
    assert_eq!(
        err(&mut con, &["FCALL_RO", "wr", "1", "k", "v"]),
        "ERR Can not execute a script with write flag using *_ro command."
    );
    assert_eq!(bulk(&mut con, &["FCALL_RO", "ro", "1", "k"]), None);
    ok(&mut con, &["FCALL", "wr", "1", "k", "v"]);
    assert_eq!(
        bulk(&mut con, &["FCALL_RO", "ro", "1", "k"]).as_deref(),
        Some("v")
    );
    // A no-writes function may not write even through FCALL.
    load(
        &mut con,
        "#!lua name=lib2\nredis.register_function{function_name='ro2', callback=function() return redis.call('set', 'x', 1) end, flags={'no-writes', 'allow-oom'}}\nredis.register_function('t', function(keys, args) return {#keys, #args} end)\nredis.register_function('e', function() error('boom') end)\nredis.register_function('k', function() return KEYS end)",
    );
    assert_eq!(
        err(&mut con, &["FCALL", "ro2", "0"]),
        "ERR Write commands are not allowed from read-only scripts. script: ro2, on @user_function:2."
    );
    assert_eq!(
        cmd(&mut con, &["FCALL", "t", "2", "a", "b", "c"]),
        Value::Array(vec![Value::Int(2), Value::Int(1)])
    );
    assert_eq!(
        err(&mut con, &["FCALL", "e", "0"]),
        "ERR user_function:4: boom script: e, on @user_function:4."
    );
    assert_eq!(
        err(&mut con, &["FCALL", "k", "0"]),
        "ERR user_function:5: Script attempted to access nonexistent global variable 'KEYS' script: k, on @user_function:5."
    );
    assert_eq!(
        err(&mut con, &["FCALL", "nosuch", "0"]),
        "ERR Function not found"
    );
    assert_eq!(
        err(&mut con, &["FCALL", "myfunc", "x"]),
        "ERR Bad number of keys provided"
    );
    assert_eq!(
        err(&mut con, &["FCALL", "myfunc", "5"]),
        "ERR Number of keys can't be greater than number of args"
    );
    assert_eq!(
        err(&mut con, &["FCALL", "myfunc", "-1"]),
        "ERR Number of keys can't be negative"
    );
    assert_eq!(
        err(&mut con, &["FCALL", "myfunc"]),
        "ERR wrong number of arguments for 'fcall' command"
    );
    // Functions cannot be called from scripts.
    assert_eq!(
        err(&mut con, &["EVAL", "return redis.call('fcall', 'myfunc', 0, 'x')", "0"]),
        "ERR This Redis command is not allowed from script script: 5c95a8894cf602c90172a1dfe54868a0b8696a21, on @user_script:1."
    );
}

#[test]
fn load_errors() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    load(&mut con, LIB);
    let cases: &[(&str, &str)] = &[
        ("#!lua name=mylib\nredis.register_function('x', function() end)", "ERR Library 'mylib' already exists"),
        ("#!lua name=other\nredis.register_function('MYFUNC', function() end)", "ERR Function MYFUNC already exists"),
        ("return 1", "ERR Missing library metadata"),
        ("#!lua", "ERR Invalid library metadata"),
        ("#!lua name=a b=c\n", "ERR Invalid metadata value given: b=c"),
        ("#!foo name=a\n", "ERR Engine 'foo' not found"),
        ("#!lua name=a\n", "ERR No functions registered"),
        ("#!lua name=a-b\n", "ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long"),
        ("#!lua name=a name=b\n", "ERR Invalid metadata value, name argument was given multiple times"),
        ("#!lua\n", "ERR Library name was not given"),
        ("#!lua name=a\nredis.call('ping')", "ERR Error registering functions: ERR user_function:2: Script attempted to access nonexistent global variable 'call'"),
        ("#!lua name=a\nredis.register_function('a-b', function() end)", "ERR Error registering functions: ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long"),
        ("#!lua name=a\nredis.register_function('ab', function() end)\nredis.register_function('ab', function() end)", "ERR Error registering functions: ERR Function already exists in the library"),
        ("#!lua name=a\nstring.format('x')", "ERR Error registering functions: ERR user_function:2: Script attempted to access nonexistent global variable 'string'"),
        ("#!lua name=a\nredis.register_function{function_name='f', callback=function() end, flags={'bad'}}", "ERR Error registering functions: ERR unknown flag given"),
        ("#!lua name=a\nredis.register_function{function_name='f', callback=function() end, flags='x'}", "ERR Error registering functions: ERR flags argument to redis.register_function must be a table representing function flags"),
        ("#!lua name=a\nredis.register_function{function_name='f', callback=function() end, foo=1}", "ERR Error registering functions: ERR unknown argument given to redis.register_function"),
        ("#!lua name=a\nredis.register_function{function_name='f', callback=5}", "ERR Error registering functions: ERR callback argument given to redis.register_function must be a function"),
        ("#!lua name=a\nredis.register_function{callback=function() end}", "ERR Error registering functions: ERR redis.register_function must get a function name argument"),
        ("#!lua name=a\nredis.register_function('f')", "ERR Error registering functions: ERR calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments)."),
        ("#!lua name=a\nredis.register_function(1,2,3)", "ERR Error registering functions: ERR wrong number of arguments to redis.register_function"),
        ("#!lua name=a\nx = 1", "ERR Error registering functions: ERR user_function:2: Attempt to modify a readonly table"),
        ("#!lua name=a\nsyntax error here", "ERR Error compiling function: user_function:2: '=' expected near 'error'"),
        ("#!lua name=a\nredis.setresp(3)", "ERR Error registering functions: ERR user_function:2: Script attempted to access nonexistent global variable 'setresp'"),
        ("#!lua name=a\nwhile true do end", "ERR Error registering functions: ERR FUNCTION LOAD timeout"),
    ];
    for (code, expected) in cases {
        assert_eq!(&load_err(&mut con, code), expected, "{code}");
    }
    assert_eq!(
        err(&mut con, &["FUNCTION", "LOAD", "foo", "x"]),
        "ERR Unknown option given: foo"
    );
    assert_eq!(
        err(&mut con, &["FUNCTION", "LOAD"]),
        "ERR wrong number of arguments for 'function|load' command"
    );
    // A failed load leaves the registry as it was; REPLACE swaps the library.
    let v2 = "#!lua name=mylib\nredis.register_function('t2', function() return 7 end)";
    assert_eq!(
        err(&mut con, &["FCALL", "t2", "0"]),
        "ERR Function not found"
    );
    assert_eq!(load_err(&mut con, v2), "ERR Library 'mylib' already exists");
    let replaced = bulk(&mut con, &["FUNCTION", "LOAD", "REPLACE", v2]);
    assert_eq!(replaced.as_deref(), Some("mylib"));
    assert_eq!(int(&mut con, &["FCALL", "t2", "0"]), 7);
    assert_eq!(
        err(&mut con, &["FCALL", "myfunc", "0"]),
        "ERR Function not found"
    );
}

const ONE: &str = "#!lua name=one\nredis.register_function{function_name='ro', callback=function() return 1 end, flags={'no-writes', 'allow-oom'}, description='read only'}";

/// FUNCTION LIST's reply, byte for byte, in RESP2 and RESP3 (flags are a set of status strings).
#[test]
fn list_reply_shapes() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    load(&mut con, ONE);
    load(
        &mut con,
        "#!lua name=two\nredis.register_function('f', function() return 2 end)",
    );
    let mut raw = srv.raw();
    raw.roundtrip(
        &resp(&[b"FUNCTION", b"LIST", b"LIBRARYNAME", b"o*"]),
        b"*1\r\n*6\r\n$12\r\nlibrary_name\r\n$3\r\none\r\n$6\r\nengine\r\n$3\r\nLUA\r\n$9\r\nfunctions\r\n*1\r\n*6\r\n$4\r\nname\r\n$2\r\nro\r\n$11\r\ndescription\r\n$9\r\nread only\r\n$5\r\nflags\r\n*2\r\n+no-writes\r\n+allow-oom\r\n",
    );
    raw.roundtrip(
        &resp(&[b"FUNCTION", b"LIST", b"WITHCODE", b"LIBRARYNAME", b"two"]),
        b"*1\r\n*8\r\n$12\r\nlibrary_name\r\n$3\r\ntwo\r\n$6\r\nengine\r\n$3\r\nLUA\r\n$9\r\nfunctions\r\n*1\r\n*6\r\n$4\r\nname\r\n$1\r\nf\r\n$11\r\ndescription\r\n$-1\r\n$5\r\nflags\r\n*0\r\n$12\r\nlibrary_code\r\n$68\r\n#!lua name=two\nredis.register_function('f', function() return 2 end)\r\n",
    );
    let hello = resp(&[b"HELLO", b"3"]);
    raw.send(&hello);
    let _ = raw.read_n(1);
    std::thread::sleep(std::time::Duration::from_millis(100));
    let mut sink = [0u8; 4096];
    let _ = std::io::Read::read(&mut raw.s, &mut sink);
    raw.roundtrip(
        &resp(&[b"FUNCTION", b"LIST", b"LIBRARYNAME", b"one"]),
        b"*1\r\n%3\r\n$12\r\nlibrary_name\r\n$3\r\none\r\n$6\r\nengine\r\n$3\r\nLUA\r\n$9\r\nfunctions\r\n*1\r\n%3\r\n$4\r\nname\r\n$2\r\nro\r\n$11\r\ndescription\r\n$9\r\nread only\r\n$5\r\nflags\r\n~2\r\n+no-writes\r\n+allow-oom\r\n",
    );
    raw.roundtrip(
        &resp(&[b"FUNCTION", b"LIST", b"LIBRARYNAME", b"nomatch"]),
        b"*0\r\n",
    );
    raw.roundtrip(
        &resp(&[b"FUNCTION", b"STATS"]),
        b"%2\r\n$14\r\nrunning_script\r\n_\r\n$7\r\nengines\r\n%1\r\n$3\r\nLUA\r\n%2\r\n$15\r\nlibraries_count\r\n:2\r\n$15\r\nfunctions_count\r\n:2\r\n",
    );
    assert_eq!(
        err(&mut con, &["FUNCTION", "LIST", "WITHCODE", "WITHCODE"]),
        "ERR Unknown argument WITHCODE"
    );
    assert_eq!(
        err(&mut con, &["FUNCTION", "LIST", "LIBRARYNAME"]),
        "ERR library name argument was not given"
    );
    assert_eq!(
        err(&mut con, &["FUNCTION", "LIST", "foo"]),
        "ERR Unknown argument foo"
    );
}

#[test]
fn delete_flush_stats_help_kill() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    load(&mut con, ONE);
    let mut raw = srv.raw();
    raw.roundtrip(
        &resp(&[b"FUNCTION", b"STATS"]),
        b"*4\r\n$14\r\nrunning_script\r\n$-1\r\n$7\r\nengines\r\n*2\r\n$3\r\nLUA\r\n*4\r\n$15\r\nlibraries_count\r\n:1\r\n$15\r\nfunctions_count\r\n:1\r\n",
    );
    assert_eq!(
        err(&mut con, &["FUNCTION", "DELETE", "nosuch"]),
        "ERR Library not found"
    );
    ok(&mut con, &["FUNCTION", "DELETE", "one"]);
    assert_eq!(
        err(&mut con, &["FCALL", "ro", "0"]),
        "ERR Function not found"
    );
    load(&mut con, ONE);
    ok(&mut con, &["FUNCTION", "FLUSH"]);
    assert_eq!(cmd(&mut con, &["FUNCTION", "LIST"]), Value::Array(vec![]));
    ok(&mut con, &["FUNCTION", "FLUSH", "ASYNC"]);
    ok(&mut con, &["FUNCTION", "FLUSH", "sync"]);
    assert_eq!(
        err(&mut con, &["FUNCTION", "FLUSH", "foo"]),
        "ERR FUNCTION FLUSH only supports SYNC|ASYNC option"
    );
    assert_eq!(
        err(&mut con, &["FUNCTION", "FLUSH", "a", "b"]),
        "ERR unknown subcommand or wrong number of arguments for 'flush'. Try FUNCTION HELP."
    );
    assert_eq!(
        err(&mut con, &["FUNCTION", "KILL"]),
        "NOTBUSY No scripts in execution right now."
    );
    match cmd(&mut con, &["FUNCTION", "HELP"]) {
        Value::Array(lines) => {
            assert_eq!(lines.len(), 40);
            assert_eq!(
                lines[0],
                Value::SimpleString(
                    "FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:".into()
                )
            );
        }
        v => panic!("FUNCTION HELP: {v:?}"),
    }
    // The counts INFO reports.
    load(&mut con, ONE);
    let info = bulk(&mut con, &["INFO", "memory"]).unwrap_or_default();
    assert!(info.contains("number_of_functions:1\r\n"), "{info}");
    assert!(info.contains("number_of_libraries:1\r\n"), "{info}");
    assert!(info.contains("used_memory_vm_functions:"), "{info}");
}

/// The payload Redis 7.0.15 answers to FUNCTION DUMP with one library: it restores here, and ours
/// is the same bytes.
const REDIS_PAYLOAD: &[u8] = b"\xf5\x40\x42#!lua name=a\nredis.register_function('f', function() return 1 end)\x0a\x00\xe3\xd1\xb9\x83\x19\xf4\xe3\x84";

fn restore(
    con: &mut redis::Connection,
    payload: &[u8],
    policy: Option<&str>,
) -> redis::RedisResult<Value> {
    let mut c = redis::cmd("FUNCTION");
    c.arg("RESTORE").arg(payload);
    if let Some(p) = policy {
        c.arg(p);
    }
    c.query(con)
}

fn restore_err(con: &mut redis::Connection, payload: &[u8], policy: Option<&str>) -> String {
    match restore(con, payload, policy) {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(e) => format!("{} {}", e.code().unwrap_or(""), e.detail().unwrap_or("")),
    }
}

#[test]
fn dump_and_restore() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    assert_eq!(restore(&mut con, REDIS_PAYLOAD, None), Ok(Value::Okay));
    assert_eq!(int(&mut con, &["FCALL", "f", "0"]), 1);
    let dumped: Vec<u8> = redis::cmd("FUNCTION")
        .arg("DUMP")
        .query(&mut con)
        .expect("dump");
    assert_eq!(dumped, REDIS_PAYLOAD);
    load(
        &mut con,
        "#!lua name=b\nredis.register_function('g', function() return 2 end)",
    );
    let both: Vec<u8> = redis::cmd("FUNCTION")
        .arg("DUMP")
        .query(&mut con)
        .expect("dump");
    // APPEND (the default) refuses an existing library; REPLACE swaps it; FLUSH starts over.
    assert_eq!(
        restore_err(&mut con, &both, None),
        "ERR Library a already exists"
    );
    assert_eq!(
        restore_err(&mut con, &both, Some("APPEND")),
        "ERR Library a already exists"
    );
    assert_eq!(restore(&mut con, &both, Some("REPLACE")), Ok(Value::Okay));
    ok(&mut con, &["FUNCTION", "DELETE", "a"]);
    load(
        &mut con,
        "#!lua name=c\nredis.register_function('F', function() return 3 end)",
    );
    assert_eq!(
        restore_err(&mut con, &both, Some("REPLACE")),
        "ERR Function f already exists"
    );
    assert_eq!(restore(&mut con, &both, Some("flush")), Ok(Value::Okay));
    let c = cmd(&mut con, &["FUNCTION", "LIST", "LIBRARYNAME", "c"]);
    assert_eq!(c, Value::Array(vec![]));
    assert_eq!(int(&mut con, &["FCALL", "g", "0"]), 2);
    // Garbage and bad policies.
    assert_eq!(
        restore_err(&mut con, b"garbage", None),
        "ERR DUMP payload version or checksum are wrong"
    );
    let mut bad = both.clone();
    bad[4] ^= 0x20;
    assert_eq!(
        restore_err(&mut con, &bad, None),
        "ERR DUMP payload version or checksum are wrong"
    );
    assert_eq!(
        restore_err(&mut con, &both, Some("foo")),
        "ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE."
    );
    assert_eq!(
        err(&mut con, &["FUNCTION", "RESTORE", "x", "FLUSH", "y"]),
        "ERR unknown subcommand or wrong number of arguments for 'restore'. Try FUNCTION HELP."
    );
    // Nothing changed through the failures.
    assert_eq!(int(&mut con, &["FCALL", "f", "0"]), 1);
}

/// Polls with PING until the server answers an error (panics after 10 seconds); returns it.
fn wait_busy(con: &mut redis::Connection) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        if let Err(e) = common::run(con, &["PING"]) {
            return format!("{} {}", e.code().unwrap_or(""), e.detail().unwrap_or(""));
        }
        assert!(std::time::Instant::now() < deadline, "never saw BUSY");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// A runaway FCALL with every client on the function's own I/O thread (io-threads 1, and the
/// default): the others get BUSY once the threshold has passed, FUNCTION KILL from a third client
/// stops it, the caller gets the kill error, and everything works afterwards.
#[test]
fn busy_function_killed_with_function_kill() {
    const BUSY: &str =
        "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.";
    for io_threads in [1, 0] {
        let srv = TestServer::with_config(|c| {
            c.io_threads = io_threads;
            c.busy_reply_threshold = 150;
        });
        let mut other = srv.conn();
        let mut runner = srv.raw();
        let mut third = srv.conn();
        let lib =
            "#!lua name=spin\nredis.register_function('spin', function() while true do end end)";
        assert_eq!(load(&mut other, lib), "spin");
        ok(&mut other, &["SET", "k", "v"]);
        runner.send(&resp(&[b"FCALL", b"spin", b"0"]));
        assert_eq!(wait_busy(&mut other), BUSY);
        assert_eq!(err(&mut third, &["GET", "k"]), BUSY);
        assert_eq!(err(&mut third, &["SCRIPT", "KILL"]), BUSY);
        ok(&mut third, &["FUNCTION", "KILL"]);
        let expected =
            "-ERR Script killed by user with SCRIPT KILL... script: spin, on @user_function:2.\r\n";
        assert_eq!(
            String::from_utf8_lossy(&runner.read_n(expected.len())),
            expected
        );
        assert_eq!(bulk(&mut other, &["GET", "k"]).as_deref(), Some("v"));
        assert_eq!(bulk(&mut third, &["GET", "k"]).as_deref(), Some("v"));
        runner.roundtrip(&resp(&[b"GET", b"k"]), b"$1\r\nv\r\n");
        assert_eq!(
            err(&mut other, &["FUNCTION", "KILL"]),
            "NOTBUSY No scripts in execution right now."
        );
    }
}
