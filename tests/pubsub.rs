//! Pub/sub through real connections: RESP2 and RESP3 subscribers, patterns, shard channels,
//! introspection, subscribed-mode restrictions, a slow subscriber cut off at its output limit while
//! others keep receiving, and a differential run against redis-server.

mod common;

use std::io::Read;
use std::time::{Duration, Instant};

use common::{resp, TestServer};
use redis::Value;

fn publish(con: &mut redis::Connection, ch: &str, msg: &str) -> i64 {
    redis::cmd("PUBLISH").arg(ch).arg(msg).query(con).unwrap()
}

/// Waits until PUBSUB NUMSUB reports `n` subscribers of `ch`.
fn wait_numsub(con: &mut redis::Connection, ch: &str, n: i64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let v: (String, i64) = redis::cmd("PUBSUB")
            .arg("NUMSUB")
            .arg(ch)
            .query(con)
            .unwrap();
        if v.1 == n {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "NUMSUB {ch} stayed {} (want {n})",
            v.1
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn resp2_subscriber_receives_and_is_restricted() {
    let srv = TestServer::start();
    let mut sub = srv.raw();
    sub.roundtrip(
        b"UNSUBSCRIBE\r\n",
        b"*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n",
    );
    sub.roundtrip(
        b"SUBSCRIBE a b a\r\n",
        b"*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n*3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:2\r\n*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:2\r\n",
    );
    sub.roundtrip(
        b"GET x\r\n",
        b"-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n",
    );
    sub.roundtrip(b"PING\r\n", b"*2\r\n$4\r\npong\r\n$0\r\n\r\n");
    sub.roundtrip(b"PING hi\r\n", b"*2\r\n$4\r\npong\r\n$2\r\nhi\r\n");
    let mut con = srv.conn();
    assert_eq!(publish(&mut con, "a", "hello"), 1);
    assert_eq!(publish(&mut con, "nobody", "x"), 0);
    sub.roundtrip(b"", b"*3\r\n$7\r\nmessage\r\n$1\r\na\r\n$5\r\nhello\r\n");
    sub.roundtrip(
        b"PSUBSCRIBE h?llo\r\n",
        b"*3\r\n$10\r\npsubscribe\r\n$5\r\nh?llo\r\n:3\r\n",
    );
    assert_eq!(publish(&mut con, "hello", "p"), 1);
    sub.roundtrip(
        b"",
        b"*4\r\n$8\r\npmessage\r\n$5\r\nh?llo\r\n$5\r\nhello\r\n$1\r\np\r\n",
    );
    sub.roundtrip(
        b"UNSUBSCRIBE\r\n",
        b"*3\r\n$11\r\nunsubscribe\r\n$1\r\na\r\n:2\r\n*3\r\n$11\r\nunsubscribe\r\n$1\r\nb\r\n:1\r\n",
    );
    sub.roundtrip(
        b"PUNSUBSCRIBE\r\n",
        b"*3\r\n$12\r\npunsubscribe\r\n$5\r\nh?llo\r\n:0\r\n",
    );
    // Out of subscribed mode, ordinary commands work again.
    sub.roundtrip(b"GET x\r\n", b"$-1\r\n");
}

#[test]
fn resp3_subscriber_gets_push_frames_and_can_run_commands() {
    let srv = TestServer::start();
    let mut sub = srv.raw();
    sub.send(b"HELLO 3\r\n");
    let _ = sub.read_n(7);
    let mut rest = Vec::new();
    while !rest.ends_with(b"modules\r\n*0\r\n") {
        rest.extend(sub.read_n(1));
    }
    sub.roundtrip(
        b"SUBSCRIBE a\r\n",
        b">3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n",
    );
    sub.roundtrip(b"GET x\r\n", b"_\r\n");
    sub.roundtrip(b"PING\r\n", b"+PONG\r\n");
    let mut con = srv.conn();
    assert_eq!(publish(&mut con, "a", "m"), 1);
    sub.roundtrip(b"", b">3\r\n$7\r\nmessage\r\n$1\r\na\r\n$1\r\nm\r\n");
    sub.roundtrip(
        b"UNSUBSCRIBE a\r\n",
        b">3\r\n$11\r\nunsubscribe\r\n$1\r\na\r\n:0\r\n",
    );
}

#[test]
fn shard_channels_and_introspection() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    let mut s1 = srv.raw();
    s1.roundtrip(
        b"SSUBSCRIBE s1\r\n",
        b"*3\r\n$10\r\nssubscribe\r\n$2\r\ns1\r\n:1\r\n",
    );
    let mut s2 = srv.raw();
    s2.roundtrip(b"SUBSCRIBE news.sport news.tech\r\nPSUBSCRIBE news.*\r\n", b"*3\r\n$9\r\nsubscribe\r\n$10\r\nnews.sport\r\n:1\r\n*3\r\n$9\r\nsubscribe\r\n$9\r\nnews.tech\r\n:2\r\n*3\r\n$10\r\npsubscribe\r\n$6\r\nnews.*\r\n:3\r\n");
    let n: i64 = redis::cmd("SPUBLISH")
        .arg("s1")
        .arg("x")
        .query(&mut con)
        .unwrap();
    assert_eq!(n, 1);
    s1.roundtrip(b"", b"*3\r\n$8\r\nsmessage\r\n$2\r\ns1\r\n$1\r\nx\r\n");
    // A channel and a matching pattern both deliver.
    assert_eq!(publish(&mut con, "news.tech", "t"), 2);
    let mut channels: Vec<String> = redis::cmd("PUBSUB")
        .arg("CHANNELS")
        .query(&mut con)
        .unwrap();
    channels.sort();
    assert_eq!(channels, ["news.sport", "news.tech"]);
    let channels: Vec<String> = redis::cmd("PUBSUB")
        .arg("CHANNELS")
        .arg("*sport")
        .query(&mut con)
        .unwrap();
    assert_eq!(channels, ["news.sport"]);
    let v: Vec<Value> = redis::cmd("PUBSUB")
        .arg("NUMSUB")
        .arg("news.tech")
        .arg("none")
        .query(&mut con)
        .unwrap();
    assert_eq!(
        v,
        vec![
            Value::BulkString(b"news.tech".to_vec()),
            Value::Int(1),
            Value::BulkString(b"none".to_vec()),
            Value::Int(0)
        ]
    );
    let n: i64 = redis::cmd("PUBSUB").arg("NUMPAT").query(&mut con).unwrap();
    assert_eq!(n, 1);
    let shardchannels = ["PUBSUB", "SHARDCHANNELS"];
    let v: Vec<String> = redis::cmd(shardchannels[0])
        .arg(shardchannels[1])
        .query(&mut con)
        .unwrap();
    assert_eq!(v, ["s1"]);
    let v: Vec<Value> = redis::cmd("PUBSUB")
        .arg("SHARDNUMSUB")
        .arg("s1")
        .query(&mut con)
        .unwrap();
    assert_eq!(v, vec![Value::BulkString(b"s1".to_vec()), Value::Int(1)]);
    let help: Vec<String> = redis::cmd("PUBSUB").arg("HELP").query(&mut con).unwrap();
    assert_eq!(
        help.last().map(String::as_str),
        Some("    Prints this help.")
    );
    s1.roundtrip(
        b"SUNSUBSCRIBE\r\n",
        b"*3\r\n$12\r\nsunsubscribe\r\n$2\r\ns1\r\n:0\r\n",
    );
    // Disconnecting drops every subscription.
    drop(s2);
    wait_numsub(&mut con, "news.tech", 0);
    let n: i64 = redis::cmd("PUBSUB").arg("NUMPAT").query(&mut con).unwrap();
    assert_eq!(n, 0);
}

#[test]
fn glob_patterns_follow_redis_rules() {
    let srv = TestServer::start();
    let mut sub = srv.raw();
    sub.roundtrip(b"PSUBSCRIBE user:[0-9]* a\\*b [^x]y\r\n", b"*3\r\n$10\r\npsubscribe\r\n$11\r\nuser:[0-9]*\r\n:1\r\n*3\r\n$10\r\npsubscribe\r\n$4\r\na\\*b\r\n:2\r\n*3\r\n$10\r\npsubscribe\r\n$5\r\n[^x]y\r\n:3\r\n");
    let mut con = srv.conn();
    assert_eq!(publish(&mut con, "user:42:login", "1"), 1);
    assert_eq!(publish(&mut con, "user:x", "1"), 0);
    assert_eq!(publish(&mut con, "a*b", "1"), 1);
    assert_eq!(publish(&mut con, "aXb", "1"), 0);
    assert_eq!(publish(&mut con, "zy", "1"), 1);
    assert_eq!(publish(&mut con, "xy", "1"), 0);
}

#[test]
fn a_slow_subscriber_is_disconnected_and_others_keep_receiving() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("client-output-buffer-limit")
        .arg("pubsub 1mb 512kb 60")
        .query(&mut con)
        .unwrap();
    // The slow one never reads; its socket buffers fill and messages queue up on the server.
    let mut slow = srv.raw();
    slow.send(&resp(&[b"SUBSCRIBE", b"feed"]));
    std::thread::sleep(Duration::from_millis(100));
    // The fast one reads everything in a thread, and says how far it got.
    let fast_port = srv.port;
    let (progress, received) = std::sync::mpsc::channel::<usize>();
    let fast = std::thread::spawn(move || {
        let client = redis::Client::open(format!("redis://127.0.0.1:{fast_port}/")).unwrap();
        let mut c = client.get_connection().unwrap();
        let mut ps = c.as_pubsub();
        ps.subscribe("feed").unwrap();
        ps.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        let mut got = 0;
        while got < 200 {
            let _ = ps.get_message().unwrap();
            got += 1;
            let _ = progress.send(got);
        }
        got
    });
    wait_numsub(&mut con, "feed", 2);
    let payload = "x".repeat(64 * 1024);
    // The publisher keeps at most 4 messages (256 KB) ahead of the fast subscriber, under its
    // 512 KB soft limit however slowly its thread is scheduled on a loaded machine; the slow one,
    // which reads nothing, still goes past 1 MB.
    let mut fast_got = 0;
    for i in 0..200 {
        while fast_got + 4 < i {
            fast_got = received
                .recv_timeout(Duration::from_secs(20))
                .expect("the fast subscriber stopped receiving");
        }
        publish(&mut con, "feed", &payload);
    }
    assert_eq!(fast.join().unwrap(), 200);
    // The slow subscriber went past 1 MB and was cut off.
    wait_numsub(&mut con, "feed", 0);
    slow.s
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut sink = Vec::new();
    let _ = slow.s.read_to_end(&mut sink);
    assert!(
        sink.len() < 200 * payload.len(),
        "the slow client received everything"
    );
}

#[test]
fn pubsub_matches_redis() {
    let Some(redis) = common::diff::start_redis() else {
        return;
    };
    let srv = TestServer::start();
    let script: &[&[&str]] = &[
        &["PUBLISH", "a", "x"],
        &["PUBSUB", "NUMSUB", "a", "b"],
        &["PUBSUB", "NUMPAT"],
        &["PUBSUB", "CHANNELS", "zz*"],
        &["PUBSUB", "SHARDNUMSUB"],
        &["SUBSCRIBE"],
        &["PUBSUB", "NOPE"],
        &["PUBSUB", "CHANNELS", "a", "b"],
        &["SPUBLISH", "s", "m"],
        &["UNSUBSCRIBE"],
        &["PUNSUBSCRIBE", "x"],
        &["SUNSUBSCRIBE"],
        &["SSUBSCRIBE", "s1", "s2"],
        &["SPUBLISH", "s1", "m"],
        &["SUNSUBSCRIBE", "s2"],
        &["SUBSCRIBE", "c"],
        &["PSUBSCRIBE", "p*"],
        &["PING"],
        &["PING", "x"],
        &["SET", "a", "b"],
        &["UNSUBSCRIBE"],
        &["PUNSUBSCRIBE"],
        &["SUNSUBSCRIBE"],
        &["GET", "a"],
    ];
    let cmds = script
        .iter()
        .map(|c| c.iter().map(|s| s.as_bytes().to_vec()).collect());
    common::diff::compare_all(redis.port, srv.port, "pubsub", cmds);
}
