//! Keyspace notifications through real subscribers: the exact events (channel and message) of a
//! representative command of every family, in Redis's order (taken from a real Redis 7.0 running the
//! same commands), RESP2 and RESP3 subscribers, flag filtering, events from MULTI/EXEC and scripts,
//! `expired` raised by the active expire cycle with nobody touching the key, lazy expiry, and silence
//! when notifications are off.
//!
//! Each test ends its command sequence with a sentinel PUBLISH that the subscriber's pattern also
//! matches, and collects messages up to it: no sleeps, no guessing how long delivery takes.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::{cmd, int, ok, resp, TestServer};

const SENTINEL: &str = "__keyevent@99__:end";

/// A RESP2 pattern subscriber on `__key*__:*`, reading `pmessage` frames off a raw socket.
struct Sub {
    r: BufReader<TcpStream>,
}

impl Sub {
    fn new(srv: &TestServer) -> Sub {
        let mut s = TcpStream::connect(("127.0.0.1", srv.port)).unwrap();
        s.write_all(&resp(&[b"PSUBSCRIBE", b"__key*__:*"])).unwrap();
        let mut sub = Sub {
            r: BufReader::new(s),
        };
        sub.set_timeout(Duration::from_secs(10));
        let confirm = sub.frame().expect("psubscribe confirmation");
        assert_eq!(confirm[0], "psubscribe");
        sub
    }

    fn set_timeout(&mut self, t: Duration) {
        self.r.get_ref().set_read_timeout(Some(t)).unwrap();
    }

    fn line(&mut self) -> Option<String> {
        let mut l = String::new();
        match self.r.read_line(&mut l) {
            Ok(n) if n > 0 => Some(l.trim_end_matches("\r\n").to_string()),
            _ => None,
        }
    }

    /// One array of bulk strings (or integers), as strings.
    fn frame(&mut self) -> Option<Vec<String>> {
        let head = self.line()?;
        let n: usize = head.strip_prefix('*').expect("an array").parse().unwrap();
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            let l = self.line()?;
            if let Some(i) = l.strip_prefix(':') {
                out.push(i.to_string());
                continue;
            }
            let len: usize = l.strip_prefix('$').expect("a bulk").parse().unwrap();
            let mut buf = vec![0; len + 2];
            self.r.read_exact(&mut buf).ok()?;
            buf.truncate(len);
            out.push(String::from_utf8(buf).unwrap());
        }
        Some(out)
    }

    /// The next `(channel, payload)` within the read timeout.
    fn message(&mut self) -> Option<(String, String)> {
        let f = self.frame()?;
        assert_eq!(f[0], "pmessage", "{f:?}");
        Some((f[2].clone(), f[3].clone()))
    }

    /// Messages as `(channel, payload)` until the sentinel published by [`end`].
    fn until_sentinel(&mut self) -> Vec<(String, String)> {
        self.set_timeout(Duration::from_secs(10));
        let mut out = Vec::new();
        loop {
            let m = self.message().expect("message before the sentinel");
            if m.0 == SENTINEL {
                return out;
            }
            out.push(m);
        }
    }

    /// The next message within `timeout`, if any.
    fn next_within(&mut self, timeout: Duration) -> Option<(String, String)> {
        self.set_timeout(timeout);
        self.message()
    }
}

fn end(con: &mut redis::Connection) {
    int(con, &["PUBLISH", SENTINEL, "x"]);
}

fn config_set(con: &mut redis::Connection, flags: &str) {
    ok(con, &["CONFIG", "SET", "notify-keyspace-events", flags]);
}

fn run_all(con: &mut redis::Connection, script: &str) {
    for line in script.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let args: Vec<&str> = line.split_whitespace().collect();
        cmd(con, &args);
    }
}

/// `(db, event, key)` triples as keyevent messages.
fn keyevents(expected: &[(u32, &str, &str)]) -> Vec<(String, String)> {
    expected
        .iter()
        .map(|(db, ev, key)| (format!("__keyevent@{db}__:{ev}"), key.to_string()))
        .collect()
}

/// Only the keyevent half of what a `KE...` subscriber saw.
fn only_keyevents(got: Vec<(String, String)>) -> Vec<(String, String)> {
    got.into_iter()
        .filter(|(c, _)| c.starts_with("__keyevent@"))
        .collect()
}

/// One representative command sequence per family. The expected events are what Redis 7.0.15 sent
/// for the same commands with `notify-keyspace-events KEAn`.
#[test]
fn events_of_every_family_match_redis() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    config_set(&mut con, "KEAn");
    let mut sub = Sub::new(&srv);
    run_all(
        &mut con,
        "set s1 v ex 100
         append s1 x
         incrby n 5
         incrbyfloat n 1.5
         setrange s1 0 ab
         getex s1 persist
         getdel s1
         rpush l a b
         lmove l l2 left right
         lmove l l2 left left
         linsert l2 before b x
         lset l2 0 y
         lrem l2 0 y
         ltrim l2 0 0
         hset h f 1
         hincrby h f 2
         hincrbyfloat h f 1.5
         hdel h f
         sadd s a b
         srem s a
         smove s s2 b
         sadd s3 c
         sinterstore s4 s2 s3
         sunionstore s4 s2 s3
         zadd z 1 m
         zadd z incr 2 m
         zincrby z 1 m
         zrem z m
         zadd z 1 a 2 b 3 c
         zremrangebyscore z 1 1
         zpopmax z
         zrangestore z2 z 0 -1
         zunionstore z3 1 z2
         xadd x 1-1 f v
         xgroup create x g 0
         xreadgroup group g c1 count 1 streams x >
         xdel x 1-1
         xtrim x maxlen 0
         xgroup delconsumer x g c1
         xgroup destroy x g
         set t 1
         expire t 100
         persist t
         rename t t2
         copy t2 t3
         move t3 1
         del t2 nokey",
    );
    end(&mut con);
    let got = only_keyevents(sub.until_sentinel());
    let want = keyevents(&[
        (0, "new", "s1"),
        (0, "set", "s1"),
        (0, "expire", "s1"),
        (0, "append", "s1"),
        (0, "new", "n"),
        (0, "incrby", "n"),
        (0, "incrbyfloat", "n"),
        (0, "setrange", "s1"),
        (0, "persist", "s1"),
        (0, "del", "s1"),
        (0, "new", "l"),
        (0, "rpush", "l"),
        (0, "new", "l2"),
        (0, "rpush", "l2"),
        (0, "lpop", "l"),
        (0, "lpush", "l2"),
        (0, "lpop", "l"),
        (0, "del", "l"),
        (0, "linsert", "l2"),
        (0, "lset", "l2"),
        (0, "lrem", "l2"),
        (0, "ltrim", "l2"),
        (0, "new", "h"),
        (0, "hset", "h"),
        (0, "hincrby", "h"),
        (0, "hincrbyfloat", "h"),
        (0, "hdel", "h"),
        (0, "del", "h"),
        (0, "new", "s"),
        (0, "sadd", "s"),
        (0, "srem", "s"),
        (0, "srem", "s"),
        (0, "del", "s"),
        (0, "new", "s2"),
        (0, "sadd", "s2"),
        (0, "new", "s3"),
        (0, "sadd", "s3"),
        (0, "new", "s4"),
        (0, "sunionstore", "s4"),
        (0, "new", "z"),
        (0, "zadd", "z"),
        (0, "zincr", "z"),
        (0, "zincr", "z"),
        (0, "zrem", "z"),
        (0, "del", "z"),
        (0, "new", "z"),
        (0, "zadd", "z"),
        (0, "zremrangebyscore", "z"),
        (0, "zpopmax", "z"),
        (0, "new", "z2"),
        (0, "zrangestore", "z2"),
        (0, "new", "z3"),
        (0, "zunionstore", "z3"),
        (0, "new", "x"),
        (0, "xadd", "x"),
        (0, "xgroup-create", "x"),
        (0, "xgroup-createconsumer", "x"),
        (0, "xdel", "x"),
        (0, "xgroup-delconsumer", "x"),
        (0, "xgroup-destroy", "x"),
        (0, "new", "t"),
        (0, "set", "t"),
        (0, "expire", "t"),
        (0, "persist", "t"),
        (0, "new", "t2"),
        (0, "rename_from", "t"),
        (0, "rename_to", "t2"),
        (0, "new", "t3"),
        (0, "copy_to", "t3"),
        (1, "new", "t3"),
        (0, "move_from", "t3"),
        (1, "move_to", "t3"),
        (0, "del", "t2"),
    ]);
    assert_eq!(got, want);
}

/// Commands that change nothing raise nothing (as Redis): a refused SET NX, a SADD of a present
/// member, an LREM/ZREM/XDEL that removes nothing, an LINSERT without its pivot, a SETBIT that leaves
/// the bit as it was, a BITFIELD of GETs, XGROUP on what does not exist.
#[test]
fn no_change_no_event() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    run_all(
        &mut con,
        "set k v
         sadd s a
         rpush l a
         zadd z 1 a
         xadd x 1-1 f v
         xgroup create x g $
         setbit b 1 1",
    );
    config_set(&mut con, "KEA");
    let mut sub = Sub::new(&srv);
    run_all(
        &mut con,
        "set k w nx
         setnx k w
         sadd s a
         srem s nope
         lrem l 0 nope
         linsert l before nope x
         lpushx nolist a
         zrem z nope
         zremrangebyscore z 5 6
         zadd z nx 5 a
         xdel x 9-9
         xtrim x maxlen 10
         xgroup delconsumer x g nobody
         xgroup destroy x nogroup
         xgroup createconsumer x g c
         xgroup createconsumer x g c
         setbit b 1 1
         bitfield b get u8 0
         hdel nohash f
         persist k
         del nokey
         get nokey",
    );
    end(&mut con);
    let got = only_keyevents(sub.until_sentinel());
    // Only the first CREATECONSUMER creates something.
    assert_eq!(got, keyevents(&[(0, "xgroup-createconsumer", "x")]));
}

#[test]
fn keyspace_and_keyevent_channels_resp2() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    config_set(&mut con, "KEA");
    let mut sub = Sub::new(&srv);
    cmd(&mut con, &["LPUSH", "q", "a"]);
    cmd(&mut con, &["SELECT", "3"]);
    cmd(&mut con, &["SET", "k", "v"]);
    end(&mut con);
    let got = sub.until_sentinel();
    let pairs = |v: &[(&str, &str)]| -> Vec<(String, String)> {
        v.iter()
            .map(|(c, m)| (c.to_string(), m.to_string()))
            .collect()
    };
    assert_eq!(
        got,
        pairs(&[
            ("__keyspace@0__:q", "lpush"),
            ("__keyevent@0__:lpush", "q"),
            ("__keyspace@3__:k", "set"),
            ("__keyevent@3__:set", "k"),
        ])
    );
}

#[test]
fn resp3_subscriber_gets_push_frames() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    config_set(&mut con, "KEA");
    let mut sub = srv.raw();
    sub.send(b"HELLO 3\r\n");
    let mut hello = Vec::new();
    while !hello.ends_with(b"modules\r\n*0\r\n") {
        hello.extend(sub.read_n(1));
    }
    sub.roundtrip(
        b"PSUBSCRIBE __key*__:*\r\n",
        b">3\r\n$10\r\npsubscribe\r\n$10\r\n__key*__:*\r\n:1\r\n",
    );
    cmd(&mut con, &["SET", "k", "v"]);
    sub.roundtrip(
        b"",
        b">4\r\n$8\r\npmessage\r\n$10\r\n__key*__:*\r\n$16\r\n__keyspace@0__:k\r\n$3\r\nset\r\n\
          >4\r\n$8\r\npmessage\r\n$10\r\n__key*__:*\r\n$18\r\n__keyevent@0__:set\r\n$1\r\nk\r\n",
    );
    // Channel subscribers get plain messages.
    sub.roundtrip(
        b"SUBSCRIBE __keyevent@0__:del\r\n",
        b">3\r\n$9\r\nsubscribe\r\n$18\r\n__keyevent@0__:del\r\n:2\r\n",
    );
    cmd(&mut con, &["DEL", "k"]);
    sub.roundtrip(
        b"",
        b">4\r\n$8\r\npmessage\r\n$10\r\n__key*__:*\r\n$16\r\n__keyspace@0__:k\r\n$3\r\ndel\r\n\
          >3\r\n$7\r\nmessage\r\n$18\r\n__keyevent@0__:del\r\n$1\r\nk\r\n\
          >4\r\n$8\r\npmessage\r\n$10\r\n__key*__:*\r\n$18\r\n__keyevent@0__:del\r\n$1\r\nk\r\n",
    );
}

#[test]
fn flags_filter_classes_and_channels() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    let script = "set k v ex 100
                  lpush l a
                  del k l";
    // Keyevent channel, generic class only.
    config_set(&mut con, "Eg");
    let mut sub = Sub::new(&srv);
    run_all(&mut con, script);
    end(&mut con);
    assert_eq!(
        sub.until_sentinel(),
        keyevents(&[(0, "expire", "k"), (0, "del", "k"), (0, "del", "l")])
    );
    // Keyspace channel, string class only.
    config_set(&mut con, "K$");
    run_all(&mut con, script);
    end(&mut con);
    assert_eq!(
        sub.until_sentinel(),
        vec![("__keyspace@0__:k".to_string(), "set".to_string())]
    );
    // Classes without K or E publish nothing.
    config_set(&mut con, "A");
    run_all(&mut con, script);
    end(&mut con);
    assert_eq!(sub.until_sentinel(), vec![]);
    // A does not include n (new) or m (keymiss); they must be named.
    config_set(&mut con, "EA");
    run_all(&mut con, "set k2 v\nget nokey");
    end(&mut con);
    assert_eq!(sub.until_sentinel(), keyevents(&[(0, "set", "k2")]));
    config_set(&mut con, "Enm");
    run_all(&mut con, "set k3 v\nget nokey");
    end(&mut con);
    assert_eq!(
        sub.until_sentinel(),
        keyevents(&[(0, "new", "k3"), (0, "keymiss", "nokey")])
    );
}

#[test]
fn config_get_shows_redis_canonical_order_and_rejects_unknown_classes() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    let get = |con: &mut redis::Connection| -> String {
        let v: Vec<String> = redis::cmd("CONFIG")
            .arg("GET")
            .arg("notify-keyspace-events")
            .query(con)
            .unwrap();
        v[1].clone()
    };
    assert_eq!(get(&mut con), "");
    for (set, shown) in [
        ("KEA", "AKE"),
        ("Elm", "lEm"),
        ("g$lshzxetd", "A"),
        ("nmK", "nKm"),
        ("EKtdx", "xtdKE"),
        ("An", "A"),
        ("gn", "gn"),
        ("", ""),
    ] {
        config_set(&mut con, set);
        assert_eq!(get(&mut con), shown, "after setting {set:?}");
    }
    assert_eq!(
        common::err(&mut con, &["CONFIG", "SET", "notify-keyspace-events", "KQ"]),
        "ERR CONFIG SET failed (possibly related to argument 'notify-keyspace-events') - Invalid event class character. Use 'Ag$lshzxeKEtmdn'."
    );
    assert_eq!(get(&mut con), "");
}

#[test]
fn config_file_and_command_line_set_the_flags() {
    let cfg = ferrite::config::Config::from_args(&[
        "--notify-keyspace-events".to_string(),
        "Ex".to_string(),
    ])
    .unwrap();
    assert_eq!(
        cfg.notify_keyspace_events,
        ferrite::storage::notify::parse_flags("Ex").unwrap()
    );
    let mut from_file = ferrite::config::Config::default();
    from_file
        .apply_text("notify-keyspace-events \"KEA\"\n", "test.conf")
        .unwrap();
    let srv =
        TestServer::with_config(|c| c.notify_keyspace_events = from_file.notify_keyspace_events);
    let mut con = srv.conn();
    let v: Vec<String> = redis::cmd("CONFIG")
        .arg("GET")
        .arg("notify-keyspace-events")
        .query(&mut con)
        .unwrap();
    assert_eq!(v[1], "AKE");
    let mut sub = Sub::new(&srv);
    cmd(&mut con, &["SET", "k", "v"]);
    end(&mut con);
    assert_eq!(
        only_keyevents(sub.until_sentinel()),
        keyevents(&[(0, "set", "k")])
    );
}

#[test]
fn transactions_and_scripts_emit_as_each_command_runs() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    config_set(&mut con, "EA");
    let mut sub = Sub::new(&srv);
    ok(&mut con, &["MULTI"]);
    for c in [
        &["SET", "a", "1"][..],
        &["LPUSH", "l", "x"],
        &["LPOP", "l"],
        &["SADD", "s", "m"],
    ] {
        cmd(&mut con, c);
    }
    cmd(&mut con, &["EXEC"]);
    cmd(
        &mut con,
        &[
            "EVAL",
            "redis.call('incr', KEYS[1]); redis.call('hset', KEYS[2], 'f', 'v'); return 1",
            "2",
            "n",
            "h",
        ],
    );
    end(&mut con);
    assert_eq!(
        sub.until_sentinel(),
        keyevents(&[
            (0, "set", "a"),
            (0, "lpush", "l"),
            (0, "lpop", "l"),
            (0, "del", "l"),
            (0, "sadd", "s"),
            (0, "incrby", "n"),
            (0, "hset", "h"),
        ])
    );
}

#[test]
fn blocked_pop_served_by_a_push_raises_both_events() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    config_set(&mut con, "El");
    let mut sub = Sub::new(&srv);
    let url = srv.url();
    let waiter = std::thread::spawn(move || {
        let mut c = redis::Client::open(url).unwrap().get_connection().unwrap();
        cmd(&mut c, &["BLPOP", "q", "10"])
    });
    common::wait_blocked_clients(&mut con, 1);
    cmd(&mut con, &["RPUSH", "q", "a"]);
    waiter.join().unwrap();
    end(&mut con);
    assert_eq!(
        sub.until_sentinel(),
        keyevents(&[(0, "rpush", "q"), (0, "lpop", "q")])
    );
}

#[test]
fn active_expire_cycle_raises_expired_without_access() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    config_set(&mut con, "Ex");
    let mut sub = Sub::new(&srv);
    cmd(&mut con, &["SET", "gone", "v", "PX", "50"]);
    cmd(&mut con, &["SELECT", "5"]);
    cmd(&mut con, &["SET", "gone5", "v", "PX", "50"]);
    // Nobody reads the keys: only the sweeper can find them. Both events arrive, in either order.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut got = Vec::new();
    while got.len() < 2 && Instant::now() < deadline {
        if let Some(m) = sub.next_within(Duration::from_secs(10)) {
            got.push(m);
        }
    }
    got.sort();
    assert_eq!(
        got,
        vec![
            ("__keyevent@0__:expired".to_string(), "gone".to_string()),
            ("__keyevent@5__:expired".to_string(), "gone5".to_string()),
        ]
    );
}

#[test]
fn lazy_expiry_raises_expired_on_access() {
    let srv = TestServer::with_config(|c| c.active_expire = false);
    let mut con = srv.conn();
    config_set(&mut con, "Egx");
    let mut sub = Sub::new(&srv);
    cmd(&mut con, &["SET", "k", "v", "PX", "20"]);
    let deadline = Instant::now() + Duration::from_secs(10);
    while int(&mut con, &["PTTL", "k"]) > 0 {
        assert!(Instant::now() < deadline, "key never expired");
        std::thread::sleep(Duration::from_millis(5));
    }
    // The PTTL that found it past its TTL already dropped it.
    cmd(&mut con, &["GET", "k"]);
    end(&mut con);
    assert_eq!(
        sub.until_sentinel(),
        keyevents(&[(0, "expire", "k"), (0, "expired", "k")])
    );
}

#[test]
fn nothing_is_published_when_notifications_are_off() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    let mut sub = Sub::new(&srv);
    run_all(
        &mut con,
        "set k v px 30
         lpush l a
         lpop l
         hset h f v
         del h
         get nokey",
    );
    end(&mut con);
    assert_eq!(sub.until_sentinel(), vec![]);
    // Turning them off at run time stops them too.
    config_set(&mut con, "KEA");
    config_set(&mut con, "");
    cmd(&mut con, &["SET", "k2", "v"]);
    end(&mut con);
    assert_eq!(sub.until_sentinel(), vec![]);
}
