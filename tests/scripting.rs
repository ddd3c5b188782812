//! EVAL/EVALSHA/EVAL_RO/EVALSHA_RO and SCRIPT through real clients: conversions both ways, Redis 7's
//! error texts, the sandbox, the cjson/bit/cmsgpack libraries, atomicity, a lock and a rate limiter
//! written as scripts, and a differential run of scripts against a real redis-server.

mod common;

use common::{err, run, TestServer};
use redis::{Commands, Value};

fn eval(con: &mut redis::Connection, script: &str, keys: &[&str], args: &[&str]) -> Value {
    let mut c = redis::cmd("EVAL");
    c.arg(script).arg(keys.len()).arg(keys).arg(args);
    c.query(con).expect("eval")
}

fn eval_err(con: &mut redis::Connection, script: &str) -> String {
    err(con, &["EVAL", script, "0"])
}

fn bulk(s: &str) -> Value {
    Value::BulkString(s.as_bytes().to_vec())
}

fn sha1(s: &str) -> String {
    ferrite::scripting::sha1_hex(s.as_bytes())
}

#[test]
fn lua_to_reply_conversions() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    assert_eq!(eval(&mut con, "return 23", &[], &[]), Value::Int(23));
    assert_eq!(eval(&mut con, "return 3.99", &[], &[]), Value::Int(3));
    assert_eq!(eval(&mut con, "return -2.7", &[], &[]), Value::Int(-2));
    assert_eq!(
        eval(&mut con, "return 'lua string'", &[], &[]),
        bulk("lua string")
    );
    assert_eq!(eval(&mut con, "return true", &[], &[]), Value::Int(1));
    assert_eq!(eval(&mut con, "return false", &[], &[]), Value::Nil);
    assert_eq!(eval(&mut con, "return nil", &[], &[]), Value::Nil);
    assert_eq!(eval(&mut con, "return", &[], &[]), Value::Nil);
    // The array part stops at the first nil.
    assert_eq!(
        eval(&mut con, "return {1, 2, nil, 4}", &[], &[]),
        Value::Array(vec![Value::Int(1), Value::Int(2)])
    );
    assert_eq!(
        eval(&mut con, "return {1.9, 'a', true, false, {3}}", &[], &[]),
        Value::Array(vec![
            Value::Int(1),
            bulk("a"),
            Value::Int(1),
            Value::Nil,
            Value::Array(vec![Value::Int(3)])
        ])
    );
    assert_eq!(
        eval(&mut con, "return {ok='fine'}", &[], &[]),
        Value::SimpleString("fine".into())
    );
    assert_eq!(
        eval(&mut con, "return redis.status_reply('PONG')", &[], &[]),
        Value::SimpleString("PONG".into())
    );
    // RESP2 lowering of the RESP3-only table forms.
    assert_eq!(eval(&mut con, "return {double=1.5}", &[], &[]), bulk("1.5"));
    assert_eq!(
        eval(&mut con, "return {map={a=1}}", &[], &[]),
        Value::Array(vec![bulk("a"), Value::Int(1)])
    );
    // Binary-safe strings in both directions.
    assert_eq!(
        eval(&mut con, "return ARGV[1]", &[], &["\u{0}\u{1}\u{ff}"]),
        bulk("\u{0}\u{1}\u{ff}")
    );
    // Huge numbers saturate as C's cast does on x86.
    assert_eq!(
        eval(&mut con, "return 1e300", &[], &[]),
        Value::Int(i64::MIN)
    );
    assert_eq!(
        eval(&mut con, "return 9007199254740993", &[], &[]),
        Value::Int(9007199254740992)
    );
}

#[test]
fn error_replies() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    let mut raw = srv.raw();
    raw.roundtrip(
        &common::resp(&[b"EVAL", b"return {err='bad thing'}", b"0"]),
        b"-bad thing\r\n",
    );
    raw.roundtrip(
        &common::resp(&[b"EVAL", b"return {err='a\\nb'}", b"0"]),
        b"-a b\r\n",
    );
    raw.roundtrip(
        &common::resp(&[b"EVAL", b"return {ok='x\\r\\ny'}", b"0"]),
        b"+x  y\r\n",
    );
    assert_eq!(
        eval_err(&mut con, "return redis.error_reply('My')"),
        "ERR My"
    );
    assert_eq!(
        eval_err(&mut con, "return redis.error_reply('MY thing')"),
        "MY thing"
    );
    let s = "error('boom')";
    assert_eq!(
        eval_err(&mut con, s),
        format!(
            "ERR user_script:1: boom script: {}, on @user_script:1.",
            sha1(s)
        )
    );
    let s = "local a = 1\nreturn a + nil";
    assert_eq!(
        eval_err(&mut con, s),
        format!(
            "ERR user_script:2: attempt to perform arithmetic on a nil value script: {}, on @user_script:2.",
            sha1(s)
        )
    );
    let s = "return redis.call('nosuch')";
    assert_eq!(
        eval_err(&mut con, s),
        format!(
            "ERR Unknown Redis command called from script script: {}, on @user_script:1.",
            sha1(s)
        )
    );
    let s = "return redis.call('get')";
    assert_eq!(
        eval_err(&mut con, s),
        format!(
            "ERR Wrong number of args calling Redis command from script script: {}, on @user_script:1.",
            sha1(s)
        )
    );
    for s in [
        "return redis.call('eval', 'return 1', 0)",
        "return redis.call('blpop', 'l', 0)",
        "return redis.call('multi')",
        "return redis.call('subscribe', 'c')",
    ] {
        assert_eq!(
            eval_err(&mut con, s),
            format!(
                "ERR This Redis command is not allowed from script script: {}, on @user_script:1.",
                sha1(s)
            )
        );
    }
    let s = "return redis.call()";
    assert_eq!(
        eval_err(&mut con, s),
        format!("ERR Please specify at least one argument for this redis lib call script: {}, on @user_script:1.", sha1(s))
    );
    let s = "return redis.call('get', {})";
    assert_eq!(
        eval_err(&mut con, s),
        format!("ERR Lua redis lib command arguments must be strings or integers script: {}, on @user_script:1.", sha1(s))
    );
    // A command's own error, raised by redis.call, returned by redis.pcall.
    let _: () = con.set("s", "x").expect("set");
    let s = "return redis.call('incr', 's')";
    assert_eq!(
        eval_err(&mut con, s),
        format!(
            "ERR value is not an integer or out of range script: {}, on @user_script:1.",
            sha1(s)
        )
    );
    assert_eq!(
        eval_err(&mut con, "return redis.pcall('incr', 's')"),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(
        eval(
            &mut con,
            "local t = redis.pcall('lpush', 's', 'x') return t.err",
            &[],
            &[]
        ),
        bulk("WRONGTYPE Operation against a key holding the wrong kind of value")
    );
    // Lua's pcall catches redis.call's error as its message.
    assert_eq!(
        eval(
            &mut con,
            "local ok, e = pcall(redis.call, 'nosuch') return {tostring(ok), e}",
            &[],
            &[]
        ),
        Value::Array(vec![
            bulk("false"),
            bulk("ERR Unknown Redis command called from script")
        ])
    );
    // Compilation errors.
    assert_eq!(
        eval_err(&mut con, "return 1 +"),
        "ERR Error compiling script (new function): user_script:1: unexpected symbol near '<eof>'"
    );
}

#[test]
fn keys_and_argv() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    assert_eq!(
        eval(
            &mut con,
            "return {#KEYS, #ARGV, KEYS[1], KEYS[2], ARGV[1]}",
            &["k1", "k2"],
            &["a1"]
        ),
        Value::Array(vec![
            Value::Int(2),
            Value::Int(1),
            bulk("k1"),
            bulk("k2"),
            bulk("a1")
        ])
    );
    assert_eq!(
        err(&mut con, &["EVAL", "return 1", "1"]),
        "ERR Number of keys can't be greater than number of args"
    );
    assert_eq!(
        err(&mut con, &["EVAL", "return 1", "-1"]),
        "ERR Number of keys can't be negative"
    );
    assert_eq!(
        err(&mut con, &["EVAL", "return 1", "x"]),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(
        err(&mut con, &["EVAL", "return 1", "99999999999999999999"]),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(
        err(&mut con, &["EVAL", "return 1"]),
        "ERR wrong number of arguments for 'eval' command"
    );
    assert_eq!(
        err(&mut con, &["EVALSHA", "x"]),
        "ERR wrong number of arguments for 'evalsha' command"
    );
    // Numbers passed to redis.call are formatted as %.17g.
    assert_eq!(
        eval(
            &mut con,
            "redis.call('set', KEYS[1], 0.1) return redis.call('get', KEYS[1])",
            &["n"],
            &[]
        ),
        bulk("0.10000000000000001")
    );
    assert_eq!(
        eval(
            &mut con,
            "redis.call('set', KEYS[1], 42) return redis.call('incr', KEYS[1])",
            &["n"],
            &[]
        ),
        Value::Int(43)
    );
}

#[test]
fn reply_to_lua_conversions() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    let _: () = con.rpush("l", &["a", "b"]).expect("rpush");
    assert_eq!(
        eval(
            &mut con,
            "local r = redis.call('set', 'k', 'v') return type(r) .. r.ok",
            &[],
            &[]
        ),
        bulk("tableOK")
    );
    assert_eq!(
        eval(
            &mut con,
            "return type(redis.call('get', 'nokey'))",
            &[],
            &[]
        ),
        bulk("boolean")
    );
    assert_eq!(
        eval(&mut con, "return type(redis.call('incr', 'cnt'))", &[], &[]),
        bulk("number")
    );
    assert_eq!(
        eval(
            &mut con,
            "return redis.call('lrange', 'l', 0, -1)",
            &[],
            &[]
        ),
        Value::Array(vec![bulk("a"), bulk("b")])
    );
    // RESP3 inside the script: null is nil, maps are {map=...}.
    assert_eq!(
        eval(
            &mut con,
            "redis.setresp(3) return type(redis.call('get', 'nokey'))",
            &[],
            &[]
        ),
        bulk("nil")
    );
    let _: () = con.hset("h", "f", "v").expect("hset");
    assert_eq!(
        eval(
            &mut con,
            "redis.setresp(3) return redis.call('hgetall', 'h').map.f",
            &[],
            &[]
        ),
        bulk("v")
    );
    // redis.call and redis.setresp are bound once per Lua state: each run still starts in RESP2, and
    // a local copy of redis.call acts on the run it is called in.
    assert_eq!(
        eval(
            &mut con,
            "return type(redis.call('hgetall', 'h').map)",
            &[],
            &[]
        ),
        bulk("nil")
    );
    for i in 0..3 {
        assert_eq!(
            eval(
                &mut con,
                "local c, pc = redis.call, redis.pcall \
                 c('set', KEYS[1], ARGV[1]) \
                 return {c('get', KEYS[1]), pc('lpush', KEYS[1], 'x')['err']}",
                &["bound"],
                &[&i.to_string()]
            ),
            Value::Array(vec![
                bulk(&i.to_string()),
                bulk("WRONGTYPE Operation against a key holding the wrong kind of value")
            ])
        );
    }
    let s = "return redis.setresp(4)";
    assert_eq!(
        eval_err(&mut con, s),
        format!(
            "ERR RESP version must be 2 or 3. script: {}, on @user_script:1.",
            sha1(s)
        )
    );
}

#[test]
fn evalsha_and_script_cache() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    let body = "return 'cached'";
    let sha = sha1(body);
    assert_eq!(
        err(&mut con, &["EVALSHA", &sha, "0"]),
        "NOSCRIPT No matching script. Please use EVAL."
    );
    assert_eq!(
        err(&mut con, &["EVALSHA", "abc", "0"]),
        "NOSCRIPT No matching script. Please use EVAL."
    );
    let loaded: String = redis::cmd("SCRIPT")
        .arg("LOAD")
        .arg(body)
        .query(&mut con)
        .expect("load");
    assert_eq!(loaded, sha);
    assert_eq!(
        run(&mut con, &["EVALSHA", &sha, "0"]).expect("evalsha"),
        bulk("cached")
    );
    // The digest is matched without regard to case.
    assert_eq!(
        run(&mut con, &["EVALSHA", &sha.to_uppercase(), "0"]).expect("evalsha"),
        bulk("cached")
    );
    assert_eq!(
        run(
            &mut con,
            &["SCRIPT", "EXISTS", &sha, "nope", &sha.to_uppercase()]
        )
        .expect("exists"),
        Value::Array(vec![Value::Int(1), Value::Int(0), Value::Int(1)])
    );
    // EVAL caches what it runs.
    let _ = eval(&mut con, "return 7", &[], &[]);
    assert_eq!(
        run(&mut con, &["SCRIPT", "EXISTS", &sha1("return 7")]).expect("exists"),
        Value::Array(vec![Value::Int(1)])
    );
    // A script that does not compile is not cached.
    assert_eq!(
        err(&mut con, &["SCRIPT", "LOAD", "return +"]),
        "ERR Error compiling script (new function): user_script:1: unexpected symbol near '+'"
    );
    assert_eq!(
        run(&mut con, &["SCRIPT", "EXISTS", &sha1("return +")]).expect("exists"),
        Value::Array(vec![Value::Int(0)])
    );
    for mode in [&[][..], &["ASYNC"][..], &["sync"][..]] {
        let mut args = vec!["SCRIPT", "FLUSH"];
        args.extend_from_slice(mode);
        assert_eq!(run(&mut con, &args).expect("flush"), Value::Okay);
    }
    assert_eq!(
        err(&mut con, &["EVALSHA", &sha, "0"]),
        "NOSCRIPT No matching script. Please use EVAL."
    );
    assert_eq!(
        err(&mut con, &["SCRIPT", "FLUSH", "bad"]),
        "ERR SCRIPT FLUSH only support SYNC|ASYNC option"
    );
    assert_eq!(
        err(&mut con, &["SCRIPT", "FLUSH", "SYNC", "ASYNC"]),
        "ERR SCRIPT FLUSH only support SYNC|ASYNC option"
    );
    assert_eq!(
        err(&mut con, &["SCRIPT", "KILL"]),
        "NOTBUSY No scripts in execution right now."
    );
    assert_eq!(
        err(&mut con, &["SCRIPT", "EXISTS"]),
        "ERR wrong number of arguments for 'script|exists' command"
    );
    assert_eq!(
        err(&mut con, &["SCRIPT", "nosuch"]),
        "ERR unknown subcommand 'nosuch'. Try SCRIPT HELP."
    );
    match run(&mut con, &["SCRIPT", "HELP"]).expect("help") {
        Value::Array(lines) => {
            assert_eq!(lines.len(), 17);
            assert_eq!(
                lines[0],
                Value::SimpleString(
                    "SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:".into()
                )
            );
        }
        other => panic!("SCRIPT HELP: {other:?}"),
    }
}

#[test]
fn read_only_scripts() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    let _: () = con.set("k", "v").expect("set");
    assert_eq!(
        run(
            &mut con,
            &["EVAL_RO", "return redis.call('get', KEYS[1])", "1", "k"]
        )
        .expect("ro"),
        bulk("v")
    );
    let s = "return redis.call('set', 'k', 'w')";
    assert_eq!(
        err(&mut con, &["EVAL_RO", s, "0"]),
        format!(
            "ERR Write commands are not allowed from read-only scripts. script: {}, on @user_script:1.",
            sha1(s)
        )
    );
    assert_eq!(
        err(
            &mut con,
            &["EVAL_RO", "return redis.pcall('del', 'k')", "0"]
        ),
        "ERR Write commands are not allowed from read-only scripts."
    );
    let sha = sha1(s);
    assert_eq!(
        err(&mut con, &["EVALSHA_RO", &sha, "0"]),
        format!(
            "ERR Write commands are not allowed from read-only scripts. script: {sha}, on @user_script:1."
        )
    );
    // A no-writes shebang makes EVAL read-only; line numbers count the shebang line.
    let s = "#!lua flags=no-writes\nreturn redis.call('set', 'k', 'w')";
    assert_eq!(
        eval_err(&mut con, s),
        format!(
            "ERR Write commands are not allowed from read-only scripts. script: {}, on @user_script:2.",
            sha1(s)
        )
    );
    assert_eq!(
        eval_err(&mut con, "#!foo\nreturn 1"),
        "ERR Unexpected engine in script shebang: #!foo"
    );
    assert_eq!(
        eval_err(&mut con, "#!lua x=1\nreturn 1"),
        "ERR Unknown lua shebang option: x=1"
    );
    assert_eq!(
        eval_err(&mut con, "#!lua flags=bad\nreturn 1"),
        "ERR Unexpected flag in script shebang: bad"
    );
    let v: String = con.get("k").expect("get");
    assert_eq!(v, "v");
}

#[test]
fn sandbox() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    for name in [
        "os", "io", "loadfile", "dofile", "require", "package", "debug", "print", "x",
    ] {
        let s = format!("return {name}");
        assert_eq!(
            eval_err(&mut con, &s),
            format!(
                "ERR user_script:1: Script attempted to access nonexistent global variable '{name}' script: {}, on @user_script:1.",
                sha1(&s)
            )
        );
    }
    for s in [
        "x = 1",
        "redis.call = nil",
        "string.foo = 1",
        "cjson.x = 1",
        "_G.y = 2",
    ] {
        assert_eq!(
            eval_err(&mut con, s),
            format!(
                "ERR user_script:1: Attempt to modify a readonly table script: {}, on @user_script:1.",
                sha1(s)
            )
        );
    }
    // Local state is fine; libraries are usable.
    assert_eq!(
        eval(
            &mut con,
            "local t = {} t.x = string.upper('a') .. math.floor(2.5) .. table.concat({1, 2}, ',') return t.x",
            &[],
            &[]
        ),
        bulk("A21,2")
    );
    // Bytecode is refused by loadstring and load; source text still loads.
    assert_eq!(
        eval(
            &mut con,
            "local f, e = loadstring(string.dump(function() return 1 end)) return {tostring(f), e ~= nil}",
            &[],
            &[]
        ),
        Value::Array(vec![bulk("nil"), Value::Int(1)])
    );
    assert_eq!(
        eval(
            &mut con,
            "local d = string.dump(function() return 1 end) local done = false local f = load(function() if done then return nil end done = true return d end) return tostring(f)",
            &[],
            &[]
        ),
        bulk("nil")
    );
    assert_eq!(
        eval(&mut con, "return loadstring('return 5')()", &[], &[]),
        Value::Int(5)
    );
    assert_eq!(
        eval(
            &mut con,
            "return {redis.sha1hex(''), redis.REDIS_VERSION, redis.REDIS_VERSION_NUM}",
            &[],
            &[]
        ),
        Value::Array(vec![
            bulk("da39a3ee5e6b4b0d3255bfef95601890afd80709"),
            bulk(ferrite::server::REDIS_VERSION),
            Value::Int(0x070204),
        ])
    );
    assert_eq!(
        eval(
            &mut con,
            "redis.log(redis.LOG_WARNING, 'from a script') redis.set_repl(redis.REPL_ALL) return redis.replicate_commands()",
            &[],
            &[]
        ),
        Value::Int(1)
    );
    let s = "redis.log(9, 'x')";
    assert_eq!(
        eval_err(&mut con, s),
        format!(
            "ERR Invalid debug level. script: {}, on @user_script:1.",
            sha1(s)
        )
    );
}

#[test]
fn cjson_bit_cmsgpack() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    let e = |con: &mut redis::Connection, s: &str| eval(con, s, &[], &[]);
    assert_eq!(
        e(&mut con, "return cjson.encode({1, 2, {a = 1}})"),
        bulk("[1,2,{\"a\":1}]")
    );
    assert_eq!(e(&mut con, "return cjson.encode({})"), bulk("{}"));
    assert_eq!(
        e(&mut con, "return cjson.encode({[1] = 1, [3] = 3})"),
        bulk("[1,null,3]")
    );
    assert_eq!(
        e(
            &mut con,
            "return cjson.encode({'x/y\"\\n', 0.1, 1e20, cjson.null, true})"
        ),
        bulk("[\"x\\/y\\\"\\n\",0.1,1e+20,null,true]")
    );
    assert_eq!(
        e(
            &mut con,
            "local t = cjson.decode('{\"a\":[1,2,{\"b\":\"\\\\u00e9\"}],\"n\":null}') return {t.a[2], t.a[3].b, tostring(t.n == cjson.null)}"
        ),
        Value::Array(vec![Value::Int(2), bulk("é"), bulk("true")])
    );
    let s = "return cjson.decode('{')";
    assert_eq!(
        eval_err(&mut con, s),
        format!("ERR user_script:1: Expected object key string but found T_END at character 2 script: {}, on @user_script:1.", sha1(s))
    );
    let s = "return cjson.encode({[1] = 1, [20] = 3})";
    assert_eq!(
        eval_err(&mut con, s),
        format!("ERR user_script:1: Cannot serialise table: excessively sparse array script: {}, on @user_script:1.", sha1(s))
    );
    assert_eq!(
        e(
            &mut con,
            "return bit.tohex(65535) .. ' ' .. bit.band(0xff, 0x0f) .. ' ' .. bit.tobit(2^32 + 5) .. ' ' .. bit.bnot(0) .. ' ' .. bit.lshift(1, 31) .. ' ' .. bit.tohex(255, -4)"
        ),
        bulk("0000ffff 15 5 -1 -2147483648 00FF")
    );
    // cmsgpack round trip, and bytes exactly as lua-cmsgpack packs them.
    assert_eq!(
        e(
            &mut con,
            "local a, b, c = cmsgpack.unpack(cmsgpack.pack({1, 2, {x = 'y'}}, 'a', -1.5)) return {a[1], a[3].x, b, tostring(c)}"
        ),
        Value::Array(vec![Value::Int(1), bulk("y"), bulk("a"), bulk("-1.5")])
    );
    assert_eq!(
        e(
            &mut con,
            "return cmsgpack.pack({1, 2, 3}, 'a', 1.5, -1, 300)"
        ),
        Value::BulkString(vec![
            0x93, 0x01, 0x02, 0x03, 0xa1, b'a', 0xca, 0x3f, 0xc0, 0x00, 0x00, 0xff, 0xcd, 0x01,
            0x2c
        ])
    );
}

#[test]
fn scripts_are_atomic_and_touch_undeclared_keys() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    // BullMQ-style: keys built inside the script, not declared in KEYS.
    let script = "for i = 1, 100 do redis.call('incr', 'counter:' .. (i % 7)) end return redis.call('get', 'counter:0')";
    let mut handles = Vec::new();
    for _ in 0..4 {
        let url = srv.url();
        let script = script.to_string();
        handles.push(std::thread::spawn(move || {
            let mut c = redis::Client::open(url)
                .expect("client")
                .get_connection()
                .expect("conn");
            for _ in 0..10 {
                let _: Value = redis::cmd("EVAL")
                    .arg(&script)
                    .arg(0)
                    .query(&mut c)
                    .expect("eval");
            }
        }));
    }
    for h in handles {
        h.join().expect("thread");
    }
    let total: i64 = (0..7)
        .map(|i| con.get::<_, i64>(format!("counter:{i}")).expect("get"))
        .sum();
    assert_eq!(total, 4 * 10 * 100);
    // SELECT inside a script does not change the caller's database.
    assert_eq!(
        eval(
            &mut con,
            "redis.call('select', 1) redis.call('set', 'in1', 'x') return redis.call('get', 'in1')",
            &[],
            &[]
        ),
        bulk("x")
    );
    let in0: Option<String> = con.get("in1").expect("get");
    assert_eq!(in0, None);
    // Inside MULTI, EVAL runs at EXEC, holding the same locks.
    let (a, b): (i64, String) = redis::pipe()
        .atomic()
        .cmd("EVAL")
        .arg("return redis.call('incr', KEYS[1])")
        .arg(1)
        .arg("m")
        .cmd("EVAL")
        .arg("return redis.call('get', 'm')")
        .arg(0)
        .query(&mut con)
        .expect("multi");
    assert_eq!((a, b.as_str()), (1, "1"));
}

const UNLOCK: &str = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

#[test]
fn distributed_lock() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    let set = |con: &mut redis::Connection, token: &str| -> Value {
        redis::cmd("SET")
            .arg("lock")
            .arg(token)
            .arg("NX")
            .arg("PX")
            .arg(30000)
            .query(con)
            .expect("set")
    };
    assert_eq!(set(&mut con, "token-a"), Value::Okay);
    assert_eq!(set(&mut con, "token-b"), Value::Nil);
    let unlock_sha: String = redis::cmd("SCRIPT")
        .arg("LOAD")
        .arg(UNLOCK)
        .query(&mut con)
        .expect("load");
    // A wrong token cannot release the lock.
    assert_eq!(
        run(&mut con, &["EVALSHA", &unlock_sha, "1", "lock", "token-b"]).expect("evalsha"),
        Value::Int(0)
    );
    let ttl: i64 = con.pttl("lock").expect("pttl");
    assert!(ttl > 0 && ttl <= 30000, "{ttl}");
    assert_eq!(
        run(&mut con, &["EVALSHA", &unlock_sha, "1", "lock", "token-a"]).expect("evalsha"),
        Value::Int(1)
    );
    assert_eq!(
        run(&mut con, &["EVALSHA", &unlock_sha, "1", "lock", "token-a"]).expect("evalsha"),
        Value::Int(0)
    );
    assert_eq!(set(&mut con, "token-b"), Value::Okay);
}

/// A token bucket: `capacity` tokens, refilled at `rate` per second; the clock comes from ARGV so the
/// test controls it.
const BUCKET: &str = r#"
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local want = tonumber(ARGV[4])
local state = redis.call('hmget', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1]) or capacity
local ts = tonumber(state[2]) or now
tokens = math.min(capacity, tokens + (now - ts) * rate)
local allowed = 0
if tokens >= want then
  tokens = tokens - want
  allowed = 1
end
redis.call('hset', KEYS[1], 'tokens', tokens, 'ts', now)
redis.call('pexpire', KEYS[1], math.ceil(capacity / rate * 1000))
return {allowed, tokens}
"#;

#[test]
fn token_bucket_rate_limiter() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    let take = |con: &mut redis::Connection, now: u64| -> (i64, i64) {
        let v: (i64, i64) = redis::cmd("EVAL")
            .arg(BUCKET)
            .arg(1)
            .arg("bucket")
            .arg(5)
            .arg(1)
            .arg(now)
            .arg(1)
            .query(con)
            .expect("bucket");
        v
    };
    for i in 0..5 {
        assert_eq!(take(&mut con, 1000), (1, 4 - i));
    }
    assert_eq!(take(&mut con, 1000), (0, 0));
    // Two seconds later, two tokens are back.
    assert_eq!(take(&mut con, 1002), (1, 1));
    assert_eq!(take(&mut con, 1002), (1, 0));
    assert_eq!(take(&mut con, 1002), (0, 0));
    let ttl: i64 = con.pttl("bucket").expect("pttl");
    assert!(ttl > 0 && ttl <= 5000, "{ttl}");
}

#[test]
fn differential_against_redis() {
    let Some(redis) = common::diff::start_redis() else {
        return;
    };
    let srv = TestServer::start();
    let scripts: &[&[&str]] = &[
        &["SET", "s", "x"],
        &["RPUSH", "l", "a", "b", "c"],
        &[
            "EVAL",
            "return redis.call('lrange', KEYS[1], 0, -1)",
            "1",
            "l",
        ],
        &["EVAL", "return redis.call('get', 'nokey')", "0"],
        &["EVAL", "return {1, 'two', {3, {4}}, true, false, 2.5}", "0"],
        &["EVAL", "return redis.call('incr', 's')", "0"],
        &["EVAL", "return redis.pcall('incr', 's')", "0"],
        &["EVAL", "return redis.call('nosuch', 'a')", "0"],
        &["EVAL", "return redis.call('get')", "0"],
        &["EVAL", "return redis.call('get', true)", "0"],
        &["EVAL", "error('custom')", "0"],
        &["EVAL", "error({err='MYERR custom'})", "0"],
        &["EVAL", "return redis.error_reply('OOPS x')", "0"],
        &["EVAL", "return redis.status_reply('DONE')", "0"],
        &["EVAL", "return undefined_global", "0"],
        &["EVAL", "newglobal = 1", "0"],
        &["EVAL", "return table.concat({1, 2, 3}, '-')", "0"],
        &["EVAL", "return cjson.encode({a = {1, 2}, b = 'x'})", "0"],
        &["EVAL", "return cjson.decode('[1, 2, 3')", "0"],
        &["EVAL", "return cjson.decode('\"a\\\\x\"')", "0"],
        &[
            "EVAL",
            "return cmsgpack.pack({a = 1}, {1, 2}, 'str', 70000, -70000, 0.25)",
            "0",
        ],
        &["EVAL", "return bit.bxor(5, 3, 1)", "0"],
        &["EVAL", "return {pcall(error, 'e')}", "0"],
        &["EVAL", "return {redis.pcall('hset', 's', 'f', 'v')}", "0"],
        &[
            "EVAL",
            "redis.setresp(3) return redis.call('hgetall', 'nohash')",
            "0",
        ],
        &["EVAL", "return redis.sha1hex('abc')", "0"],
        &["EVAL", "return redis.sha1hex()", "0"],
        &["EVAL", "return redis.log()", "0"],
        &["EVAL", "return redis.set_repl(99)", "0"],
        &["EVAL", "return 1 +", "0"],
        &["EVAL", "return 1", "2", "a"],
        &["EVAL", "return 1", "-5"],
        &["EVAL_RO", "return redis.call('del', 'l')", "0"],
        &["EVAL_RO", "return redis.call('llen', 'l')", "0"],
        &["EVALSHA", "0000000000000000000000000000000000000000", "0"],
        &["SCRIPT", "LOAD", "return ARGV[1]"],
        &[
            "EVALSHA",
            "098e0f0d1448c0a81dafe820f66d460eb09263da",
            "0",
            "hello",
        ],
        &[
            "SCRIPT",
            "EXISTS",
            "098e0f0d1448c0a81dafe820f66d460eb09263da",
            "x",
        ],
        &["SCRIPT", "FLUSH"],
        &[
            "SCRIPT",
            "EXISTS",
            "098e0f0d1448c0a81dafe820f66d460eb09263da",
        ],
        &["SCRIPT", "FLUSH", "x"],
        &["SCRIPT", "KILL"],
        &["SCRIPT", "HELP"],
        &[
            "EVAL",
            "local f, e = loadstring(string.dump(function() end)) return e",
            "0",
        ],
        &["EVAL", "return loadstring(123)", "0"],
        &["EVAL", "return load('x')", "0"],
        &["EVAL", "return struct.pack('<i2hd', 7, -3, 0.5)", "0"],
        &[
            "EVAL",
            "return {struct.unpack('>lLc2', struct.pack('>lLc2', -9, 9, 'ab'))}",
            "0",
        ],
        &["EVAL", "return struct.unpack('i4', 'ab')", "0"],
        &["EVAL", "return struct.pack('z', 1)", "0"],
        &["EVAL", "return struct.size('c0')", "0"],
        &[
            "EVAL",
            "local t = {} for k in pairs(_G) do t[#t + 1] = k end table.sort(t) return t",
            "0",
        ],
        &[
            "EVAL",
            "return {cmsgpack.unpack_one(cmsgpack.pack(1, 2))}",
            "0",
        ],
        &[
            "EVAL",
            "return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 2)}",
            "0",
        ],
        &[
            "EVAL",
            "return {cmsgpack.unpack_one(cmsgpack.pack(1, 2), 1)}",
            "0",
        ],
        &["EVAL", "return cmsgpack.unpack_one('a', 5)", "0"],
        &[
            "EVAL",
            "return {cjson.encode_max_depth(), cjson.encode_number_precision(), cjson._VERSION}",
            "0",
        ],
        &["EVAL", "return setfenv", "0"],
        // Deep nesting fails cleanly (a regression: msgpack nesting once overflowed Rust's stack).
        &["EVAL", "return cmsgpack.unpack(string.rep(string.char(0x91), 100000))", "0"],
        &["EVAL", "return cjson.decode(string.rep('[', 100000))", "0"],
        &["EVAL", "return #cjson.decode(string.rep('[', 999) .. string.rep(']', 999))", "0"],
        &["EVAL", "local t = {} local c = t for i = 1, 1100 do c[1] = {} c = c[1] end return cjson.encode(t)", "0"],
        &["PING"],
    ];
    let cmds = scripts
        .iter()
        .map(|c| c.iter().map(|s| s.as_bytes().to_vec()).collect());
    common::diff::compare_all(redis.port, srv.port, "scripting", cmds);
}

#[test]
fn struct_library() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    assert_eq!(
        eval(
            &mut con,
            "return {struct.unpack('>I2i4bB', struct.pack('>I2i4bB', 258, -2, -1, 255))}",
            &[],
            &[]
        ),
        Value::Array(vec![
            Value::Int(258),
            Value::Int(-2),
            Value::Int(-1),
            Value::Int(255),
            Value::Int(9)
        ])
    );
    assert_eq!(
        eval(&mut con, "return struct.pack('>I2', 258)", &[], &[]),
        Value::BulkString(vec![1, 2])
    );
    assert_eq!(
        eval(&mut con, "return struct.size('!4bi')", &[], &[]),
        Value::Int(8)
    );
    assert_eq!(
        eval(
            &mut con,
            "return {struct.unpack('bc0s', struct.pack('bc0s', 3, 'xyz', 'zt'))}",
            &[],
            &[]
        ),
        Value::Array(vec![bulk("xyz"), bulk("zt"), Value::Int(8)])
    );
    let s = "return struct.pack('c5', 'ab')";
    assert_eq!(
        eval_err(&mut con, s),
        format!("ERR user_script:1: bad argument #3 to 'pack' (string too short) script: {}, on @user_script:1.", sha1(s))
    );
}

#[test]
fn script_push_wakes_blocked_client() {
    let srv = TestServer::start();
    let url = srv.url();
    let waiter = std::thread::spawn(move || {
        let mut c = redis::Client::open(url)
            .expect("client")
            .get_connection()
            .expect("conn");
        let v: Value = redis::cmd("BLPOP")
            .arg("queue")
            .arg(10)
            .query(&mut c)
            .expect("blpop");
        v
    });
    let mut con = srv.conn();
    // Wait until the waiter is blocked, then push from a script on a key built inside it.
    for _ in 0..200 {
        let clients: String = redis::cmd("INFO")
            .arg("clients")
            .query(&mut con)
            .expect("info");
        if clients.contains("blocked_clients:1") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let _ = eval(
        &mut con,
        "return redis.call('rpush', 'que' .. 'ue', 'job')",
        &[],
        &[],
    );
    assert_eq!(
        waiter.join().expect("waiter"),
        Value::Array(vec![bulk("queue"), bulk("job")])
    );
}

#[test]
fn resp3_client() {
    let srv = TestServer::start();
    let mut raw = srv.raw();
    raw.send(b"HELLO 3\r\n");
    let _ = raw.read_n(1);
    // Drain the HELLO map: read until quiet by sending a PING marker.
    raw.send(b"PING\r\n");
    let mut seen = Vec::new();
    while !seen.ends_with(b"+PONG\r\n") {
        let b = raw.read_n(1);
        if b.is_empty() {
            break;
        }
        seen.extend_from_slice(&b);
    }
    raw.roundtrip(&common::resp(&[b"EVAL", b"return false", b"0"]), b"_\r\n");
    raw.roundtrip(
        &common::resp(&[b"EVAL", b"redis.setresp(3) return false", b"0"]),
        b"#f\r\n",
    );
    raw.roundtrip(
        &common::resp(&[b"EVAL", b"return {double=1.5}", b"0"]),
        b",1.5\r\n",
    );
    raw.roundtrip(
        &common::resp(&[b"EVAL", b"return {map={a=1}}", b"0"]),
        b"%1\r\n$1\r\na\r\n:1\r\n",
    );
    raw.roundtrip(
        &common::resp(&[b"EVAL", b"return {set={x=true}}", b"0"]),
        b"~1\r\n$1\r\nx\r\n",
    );
}

/// A server whose scripts turn BUSY after 100 ms, with `io_threads` I/O threads (0: the default, one
/// per core but one). With one thread every client shares the script's thread, which must hand its
/// other connections over once the script is busy; with two, consecutive connections land on
/// different threads.
fn busy_server(io_threads: usize) -> TestServer {
    TestServer::with_config(|c| {
        c.io_threads = io_threads;
        c.busy_reply_threshold = 100;
    })
}

/// Polls with PING until the server answers BUSY (panics after 10 seconds); returns the error.
fn wait_busy(con: &mut redis::Connection) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        if let Err(e) = run(con, &["PING"]) {
            return format!("{} {}", e.code().unwrap_or(""), e.detail().unwrap_or(""));
        }
        assert!(std::time::Instant::now() < deadline, "never saw BUSY");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

const BUSY_EVAL: &str =
    "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.";
const BUSY_FUNCTION: &str =
    "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.";
const UNKILLABLE: &str = "UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.";

#[test]
fn busy_script_killed_with_script_kill_default_io_threads() {
    busy_script_killed_with_script_kill(0);
}

#[test]
fn busy_script_killed_with_script_kill_one_io_thread() {
    busy_script_killed_with_script_kill(1);
}

#[test]
fn busy_script_killed_with_script_kill_two_io_threads() {
    busy_script_killed_with_script_kill(2);
}

fn busy_script_killed_with_script_kill(io_threads: usize) {
    let srv = busy_server(io_threads);
    let mut other = srv.conn();
    let mut runner = srv.raw();
    let mut third = srv.conn();
    let script = "while true do end";
    runner.send(&common::resp(&[b"EVAL", script.as_bytes(), b"0"]));
    assert_eq!(wait_busy(&mut other), BUSY_EVAL);
    // Commands Redis refuses while busy, and the ones it serves.
    assert_eq!(err(&mut other, &["GET", "k"]), BUSY_EVAL);
    assert_eq!(err(&mut other, &["FUNCTION", "STATS"]), BUSY_EVAL);
    assert_eq!(err(&mut other, &["FUNCTION", "KILL"]), BUSY_EVAL);
    assert_eq!(err(&mut other, &["SHUTDOWN"]), BUSY_EVAL);
    // A transaction refused while busy is discarded by its EXEC.
    assert_eq!(run(&mut other, &["MULTI"]), Ok(Value::Okay));
    assert_eq!(err(&mut other, &["SET", "k", "v"]), BUSY_EVAL);
    assert_eq!(
        err(&mut other, &["EXEC"]),
        format!("EXECABORT Transaction discarded because of: {BUSY_EVAL}")
    );
    // WATCH is served too, without waiting for the keys' locks the script holds.
    assert_eq!(run(&mut other, &["WATCH", "k"]), Ok(Value::Okay));
    assert_eq!(run(&mut other, &["UNWATCH"]), Ok(Value::Okay));
    assert_eq!(err(&mut third, &["GET", "k"]), BUSY_EVAL);
    assert_eq!(run(&mut third, &["SCRIPT", "KILL"]), Ok(Value::Okay));
    let expected = format!(
        "-ERR Script killed by user with SCRIPT KILL... script: {}, on @user_script:1.\r\n",
        sha1(script)
    );
    assert_eq!(
        String::from_utf8_lossy(&runner.read_n(expected.len())),
        expected
    );
    assert_eq!(
        run(&mut other, &["PING"]),
        Ok(Value::SimpleString("PONG".into()))
    );
    assert_eq!(run(&mut third, &["SET", "k", "v"]), Ok(Value::Okay));
    assert_eq!(
        common::bulk(&mut other, &["GET", "k"]).as_deref(),
        Some("v")
    );
    runner.roundtrip(&common::resp(&[b"GET", b"k"]), b"$1\r\nv\r\n");
    assert_eq!(
        err(&mut other, &["SCRIPT", "KILL"]),
        "NOTBUSY No scripts in execution right now."
    );
    // pcall cannot swallow the kill.
    let script = "while true do pcall(function() while true do end end) end";
    runner.send(&common::resp(&[b"EVAL", script.as_bytes(), b"0"]));
    assert_eq!(wait_busy(&mut other), BUSY_EVAL);
    assert_eq!(run(&mut other, &["SCRIPT", "KILL"]), Ok(Value::Okay));
    let reply = runner.read_n(b"-ERR Script killed by user with SCRIPT KILL...".len());
    assert_eq!(
        String::from_utf8_lossy(&reply),
        "-ERR Script killed by user with SCRIPT KILL..."
    );
}

#[test]
fn busy_script_that_wrote_is_unkillable_one_io_thread() {
    busy_script_that_wrote_is_unkillable(1);
}

#[test]
fn busy_script_that_wrote_is_unkillable_two_io_threads() {
    busy_script_that_wrote_is_unkillable(2);
}

fn busy_script_that_wrote_is_unkillable(io_threads: usize) {
    let srv = busy_server(io_threads);
    let mut other = srv.conn();
    let mut runner = srv.raw();
    let script = "redis.call('set', 'k', 'v') while true do end";
    runner.send(&common::resp(&[b"EVAL", script.as_bytes(), b"0"]));
    assert_eq!(wait_busy(&mut other), BUSY_EVAL);
    assert_eq!(err(&mut other, &["SCRIPT", "KILL"]), UNKILLABLE);
    assert_eq!(err(&mut other, &["FUNCTION", "KILL"]), UNKILLABLE);
    // SHUTDOWN NOSAVE stops the script and the server.
    let _ = run(&mut other, &["SHUTDOWN", "NOSAVE"]);
    let _ = runner.read_n(1);
    assert!(srv.server.is_shutting_down());
}

/// A write refused for memory did not write, so the script can still be killed (Redis sets the
/// script's write flag only after `scriptVerifyOOM`; checked with redis-cli against redis-server).
#[test]
fn busy_script_whose_write_was_refused_stays_killable() {
    let srv = busy_server(1);
    let mut other = srv.conn();
    let mut runner = srv.raw();
    common::ok(&mut other, &["SET", "a", "b"]);
    common::ok(&mut other, &["CONFIG", "SET", "maxmemory", "1"]);
    let script = "redis.pcall('set', 'x', 'y') while true do end";
    runner.send(&common::resp(&[b"EVAL", script.as_bytes(), b"0"]));
    assert_eq!(wait_busy(&mut other), BUSY_EVAL);
    assert_eq!(run(&mut other, &["SCRIPT", "KILL"]), Ok(Value::Okay));
    let reply = runner.read_n(b"-ERR Script killed by user with SCRIPT KILL...".len());
    assert_eq!(
        String::from_utf8_lossy(&reply),
        "-ERR Script killed by user with SCRIPT KILL..."
    );
}

#[test]
fn busy_function_killed_with_function_kill_two_io_threads() {
    let srv = busy_server(2);
    let mut other = srv.conn();
    let mut runner = srv.raw();
    let lib = "#!lua name=loop\nredis.register_function('loop', function() while true do end end)";
    assert_eq!(
        run(&mut other, &["FUNCTION", "LOAD", lib]),
        Ok(Value::BulkString(b"loop".to_vec()))
    );
    runner.send(&common::resp(&[b"FCALL", b"loop", b"0"]));
    assert_eq!(wait_busy(&mut other), BUSY_FUNCTION);
    assert_eq!(err(&mut other, &["SCRIPT", "KILL"]), BUSY_FUNCTION);
    match run(&mut other, &["FUNCTION", "STATS"]) {
        Ok(Value::Array(items)) => {
            assert_eq!(items[0], Value::BulkString(b"running_script".to_vec()));
            let Value::Array(running) = &items[1] else {
                panic!("running_script: {:?}", items[1]);
            };
            assert_eq!(running[1], Value::BulkString(b"loop".to_vec()));
            assert_eq!(
                running[3],
                Value::Array(vec![
                    Value::BulkString(b"FCALL".to_vec()),
                    Value::BulkString(b"loop".to_vec()),
                    Value::BulkString(b"0".to_vec()),
                ])
            );
        }
        other => panic!("FUNCTION STATS: {other:?}"),
    }
    assert_eq!(run(&mut other, &["FUNCTION", "KILL"]), Ok(Value::Okay));
    let expected =
        "-ERR Script killed by user with SCRIPT KILL... script: loop, on @user_function:2.\r\n";
    assert_eq!(
        String::from_utf8_lossy(&runner.read_n(expected.len())),
        expected
    );
    assert_eq!(
        run(&mut other, &["CONFIG", "GET", "lua-time-limit"]),
        Ok(Value::Array(vec![
            Value::BulkString(b"lua-time-limit".to_vec()),
            Value::BulkString(b"100".to_vec()),
        ]))
    );
}

/// Commands that arrive while a script runs below the threshold wait for it, then run normally (no
/// BUSY), whether their client shares the script's I/O thread or not.
#[test]
fn commands_waiting_for_a_short_script_run_normally() {
    for io_threads in [1, 2] {
        let srv = TestServer::with_config(|c| c.io_threads = io_threads);
        let mut a = srv.conn();
        let mut runner = srv.raw();
        let mut b = srv.conn();
        assert_eq!(run(&mut a, &["SET", "k", "before"]), Ok(Value::Okay));
        // Runs for 300 ms (below the default 5 s threshold), then writes.
        let script = "local s = redis.call('TIME') \
            repeat local n = redis.call('TIME') \
            until (n[1] - s[1]) * 1000000 + (n[2] - s[2]) > 300000 \
            redis.call('SET', 'k', 'after') return 1";
        runner.send(&common::resp(&[b"EVAL", script.as_bytes(), b"0"]));
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while srv.server.script_run.current().is_none() {
            assert!(
                std::time::Instant::now() < deadline,
                "the script never started"
            );
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        // Sent while the script runs: both wait for it and see its write.
        let got = [
            common::bulk(&mut a, &["GET", "k"]),
            common::bulk(&mut b, &["GET", "k"]),
        ];
        assert_eq!(got, [Some("after".into()), Some("after".into())]);
        assert_eq!(runner.read_n(4), b":1\r\n");
    }
}

/// Scripts lock each shard when they first touch it, in whatever order they touch keys, while
/// multi-key commands and transactions on other I/O threads lock theirs in ascending order. Moves
/// between undeclared keys from several threads must neither deadlock nor be seen half done.
#[test]
fn scripts_touching_undeclared_keys_stay_atomic_beside_multi_key_commands() {
    const KEYS: usize = 24;
    let srv = TestServer::with_config(|c| c.io_threads = 4);
    let mut con = srv.conn();
    let names: Vec<String> = (0..KEYS).map(|i| format!("acct:{i}")).collect();
    for n in &names {
        let _: () = con.set(n, 100).unwrap();
    }
    let total = 100 * KEYS as i64;
    // Moves one unit between two accounts, then sums them all: the sum is the script's own view.
    let script = "redis.call('decr', ARGV[1]) redis.call('incr', ARGV[2]) \
                  local s = 0 for i = 3, #ARGV do s = s + tonumber(redis.call('get', ARGV[i])) end \
                  return s";
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    let mut workers = Vec::new();
    for t in 0..4usize {
        let client = srv.client();
        let names = names.clone();
        let done = done_tx.clone();
        workers.push(std::thread::spawn(move || {
            let mut c = client.get_connection().unwrap();
            for i in 0..500usize {
                let a = &names[(i * 7 + t) % KEYS];
                let b = &names[(i * 5 + 3 * t + 1) % KEYS];
                match t {
                    // Scripts, visiting the accounts in descending order.
                    0 | 1 => {
                        let mut cmd = redis::cmd("EVAL");
                        cmd.arg(script).arg(0).arg(a).arg(b);
                        cmd.arg(names.iter().rev().collect::<Vec<_>>());
                        let sum: i64 = cmd.query(&mut c).unwrap();
                        assert_eq!(sum, total, "a script saw a move half done");
                    }
                    // Keyed transactions (several shards, ascending).
                    2 => {
                        let _: Value = redis::pipe()
                            .atomic()
                            .decr(a, 1)
                            .incr(b, 1)
                            .query(&mut c)
                            .unwrap();
                    }
                    // MGET of every account (several shards, ascending).
                    _ => {
                        let v: Vec<i64> = c.mget(&names).unwrap();
                        assert_eq!(v.iter().sum::<i64>(), total, "MGET saw a move half done");
                    }
                }
            }
            let _ = done.send(t);
        }));
    }
    for _ in 0..4 {
        done_rx
            .recv_timeout(std::time::Duration::from_secs(60))
            .expect("a worker is stuck: deadlock between scripts and multi-key commands");
    }
    for w in workers {
        w.join().unwrap();
    }
    let v: Vec<i64> = con.mget(&names).unwrap();
    assert_eq!(v.iter().sum::<i64>(), total);
}

/// Keyspace-wide reads (INFO, MEMORY STATS/DOCTOR) inside a script that already holds the shard of
/// a key it wrote: they read through the script's locks instead of locking that shard again (which
/// used to hang the server's thread for good).
#[test]
fn keyspace_wide_reads_inside_a_script_answer() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    con.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    let info = eval(
        &mut con,
        "redis.call('set', KEYS[1], '1') redis.call('set', KEYS[2], '2') \
         return redis.call('info', 'keyspace')",
        &["a", "b"],
        &[],
    );
    let Value::BulkString(text) = info else {
        panic!("INFO inside a script: {info:?}");
    };
    assert!(
        String::from_utf8_lossy(&text).contains("db0:keys=2,expires=0"),
        "{}",
        String::from_utf8_lossy(&text)
    );
    for cmd in ["info", "memory stats", "memory doctor", "dbsize"] {
        let script = format!(
            "redis.call('set', KEYS[1], '3') return redis.call('{}')",
            cmd.replace(' ', "', '")
        );
        let r = run(&mut con, &["EVAL", &script, "1", "a"]);
        assert!(r.is_ok(), "{cmd} inside a script: {r:?}");
    }
    assert_eq!(
        run(&mut con, &["PING"]).unwrap(),
        Value::SimpleString("PONG".into())
    );
}

/// INFO errorstats and the calls/rejected/failed counts of INFO commandstats, order-free (Redis lists
/// commands in its table's hash order).
fn error_accounting(con: &mut redis::Connection) -> Vec<String> {
    let info: String = redis::cmd("INFO")
        .arg("errorstats")
        .arg("commandstats")
        .query(con)
        .unwrap();
    let mut lines: Vec<String> = info
        .lines()
        .filter(|l| l.starts_with("errorstat_") || l.starts_with("cmdstat_"))
        .map(|l| {
            // cmdstat_x:calls=1,usec=..,usec_per_call=..,rejected_calls=0,failed_calls=1
            let (name, fields) = l.split_once(':').unwrap_or((l, ""));
            let kept: Vec<&str> = fields
                .split(',')
                .filter(|f| !f.starts_with("usec"))
                .collect();
            format!("{name}:{}", kept.join(","))
        })
        .collect();
    lines.sort();
    lines
}

/// What errors inside scripts count, as Redis 7's `scriptCall` and `luaReplyToRedisReply` count
/// them: a call refused before running counts its error and a rejected call of the command; a command
/// that fails counts as failed; the script's command fails when its result holds an error, which
/// counts again only if `redis.call` did not count it already. Compared with redis-server.
#[test]
fn errors_inside_scripts_are_counted_as_redis_counts_them() {
    let Some(redis) = common::diff::start_redis() else {
        return;
    };
    let ferrite = TestServer::start();
    let scripts = [
        "return redis.call('nosuch')",
        "local t = redis.pcall('nosuch'); return tostring(t.ignore_error_stats_update)",
        "return {err='My Error'}",
        "return redis.error_reply('XY bad thing')",
        "error('boom')",
        "return redis.pcall('incr','s')",
        "return redis.call('incr','s')",
        "local t = redis.pcall('incr','s'); return {err=t.err}",
        "local t = redis.pcall('incr','s'); return 1",
        "local t = redis.pcall('incr','s'); error(t)",
        "redis.pcall('get'); return 1",
        "return redis.call('get')",
        "return redis.call()",
        "return redis.call('get', {})",
        "return redis.pcall('eval','return 1','0')",
        "return {1, {err='Nested x'}}",
        "return {1, redis.pcall('incr','s')}",
        "local ok, e = pcall(redis.call, 'incr', 's'); return e",
        "local ok, e = pcall(redis.call, 'incr', 's'); return {err=e}",
    ];
    let mut failures = Vec::new();
    for script in scripts {
        let mut replies = Vec::new();
        for port in [redis.port, ferrite.port] {
            let client = redis::Client::open(format!("redis://127.0.0.1:{port}/")).unwrap();
            // One connection: the client library's CLIENT SETINFO at connect (unknown to Redis 7.0)
            // happens before the statistics are reset.
            let mut con = client.get_connection().unwrap();
            let _: () = redis::cmd("SET")
                .arg("s")
                .arg("abc")
                .query(&mut con)
                .unwrap();
            let _: () = redis::cmd("CONFIG")
                .arg("RESETSTAT")
                .query(&mut con)
                .unwrap();
            let reply: redis::RedisResult<Value> =
                redis::cmd("EVAL").arg(script).arg(0).query(&mut con);
            let reply = match reply {
                Ok(v) => format!("{v:?}"),
                Err(e) => format!("error {}", e.detail().unwrap_or_default()),
            };
            replies.push((reply, error_accounting(&mut con)));
        }
        if replies[0] != replies[1] {
            failures.push(format!(
                "{script}\n  redis:   {:?}\n  ferrite: {:?}",
                replies[0], replies[1]
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
