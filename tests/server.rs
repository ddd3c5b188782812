//! Server commands through a real client: INFO, CONFIG GET/SET/RESETSTAT, DBSIZE, FLUSHDB, FLUSHALL,
//! TIME, LASTSAVE, SHUTDOWN.

mod common;

use common::{err, TestServer};
use redis::Commands;

fn info(con: &mut redis::Connection, section: &str) -> String {
    redis::cmd("INFO").arg(section).query(con).unwrap()
}

fn field(info: &str, name: &str) -> String {
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")))
        .unwrap_or_else(|| panic!("no {name} in {info}"))
        .to_string()
}

#[test]
fn info_sections_and_counters() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    let all = info(&mut con, "default");
    for section in [
        "# Server",
        "# Clients",
        "# Memory",
        "# Persistence",
        "# Stats",
        "# Replication",
        "# CPU",
        "# Keyspace",
    ] {
        assert!(all.contains(section), "{section} missing");
    }
    let server = info(&mut con, "server");
    assert!(!server.contains("# Clients"));
    assert_eq!(field(&server, "redis_version"), "7.2.4");
    assert_eq!(field(&server, "tcp_port"), srv.port.to_string());
    assert!(field(&server, "ferrite_version").starts_with("0."));
    let both: String = redis::cmd("INFO")
        .arg("clients")
        .arg("keyspace")
        .query(&mut con)
        .unwrap();
    assert!(
        both.contains("# Clients") && both.contains("# Keyspace") && !both.contains("# Memory")
    );
    assert_eq!(field(&info(&mut con, "persistence"), "loading"), "0");

    let before: u64 = field(&info(&mut con, "stats"), "total_commands_processed")
        .parse()
        .unwrap();
    let _: () = con.set("a", 1).unwrap();
    let _: Option<String> = con.get("a").unwrap();
    let _: Option<String> = con.get("missing").unwrap();
    let stats = info(&mut con, "stats");
    let after: u64 = field(&stats, "total_commands_processed").parse().unwrap();
    assert!(after >= before + 3, "{before} -> {after}");
    assert_eq!(field(&stats, "keyspace_hits"), "1");
    assert_eq!(field(&stats, "keyspace_misses"), "1");
    let _: () = redis::cmd("SET")
        .arg("t")
        .arg(1)
        .arg("EX")
        .arg(100)
        .query(&mut con)
        .unwrap();
    let _: () = redis::cmd("SELECT").arg(3).query(&mut con).unwrap();
    let _: () = con.set("b", 1).unwrap();
    let ks = info(&mut con, "keyspace");
    assert!(ks.contains("db0:keys=2,expires=1,avg_ttl="), "{ks}");
    assert!(ks.contains("db3:keys=1,expires=0,avg_ttl="), "{ks}");
    let clients = info(&mut con, "clients");
    let _second = srv.conn();
    assert_eq!(field(&clients, "connected_clients"), "1");
    assert!(
        field(&info(&mut con, "memory"), "used_memory")
            .parse::<u64>()
            .unwrap()
            > 0
    );
    let _: () = redis::cmd("CONFIG")
        .arg("RESETSTAT")
        .query(&mut con)
        .unwrap();
    assert_eq!(field(&info(&mut con, "stats"), "keyspace_hits"), "0");
}

#[test]
fn config_get_set() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    let v: Vec<String> = redis::cmd("CONFIG")
        .arg("GET")
        .arg("maxmemory")
        .query(&mut con)
        .unwrap();
    assert_eq!(v, vec!["maxmemory", "0"]);
    let v: Vec<String> = redis::cmd("CONFIG")
        .arg("GET")
        .arg("max*")
        .arg("hz")
        .query(&mut con)
        .unwrap();
    assert!(
        v.contains(&"maxmemory-policy".to_string())
            && v.contains(&"hz".to_string())
            && v.contains(&"maxclients".to_string())
    );
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("maxmemory")
        .arg("1gb")
        .arg("hz")
        .arg("20")
        .query(&mut con)
        .unwrap();
    let v: Vec<String> = redis::cmd("CONFIG")
        .arg("GET")
        .arg("maxmemory")
        .query(&mut con)
        .unwrap();
    assert_eq!(v, vec!["maxmemory", "1073741824"]);
    // `activerehashing`: the background finishing of resizes, on by default as in Redis.
    let get = |con: &mut redis::Connection| -> Vec<String> {
        redis::cmd("CONFIG")
            .arg("GET")
            .arg("activerehashing")
            .query(con)
            .unwrap()
    };
    assert_eq!(get(&mut con), ["activerehashing", "yes"]);
    let e = redis::cmd("CONFIG")
        .arg("SET")
        .arg("activerehashing")
        .arg("maybe")
        .query::<()>(&mut con)
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("argument 'activerehashing') - argument must be 'yes' or 'no'"),
        "{e}"
    );
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("activerehashing")
        .arg("no")
        .query(&mut con)
        .unwrap();
    assert_eq!(get(&mut con), ["activerehashing", "no"]);
    // All or nothing: a bad pair leaves the good one unapplied.
    assert_eq!(
        err(&mut con, &["CONFIG", "SET", "hz", "30", "maxmemory", "10x"]),
        "ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value"
    );
    let v: Vec<String> = redis::cmd("CONFIG")
        .arg("GET")
        .arg("hz")
        .query(&mut con)
        .unwrap();
    assert_eq!(v, vec!["hz", "20"]);
    assert_eq!(
        err(&mut con, &["CONFIG", "SET", "foo", "bar"]),
        "ERR Unknown option or number of arguments for CONFIG SET - 'foo'"
    );
    assert_eq!(
        err(&mut con, &["CONFIG", "SET", "hz"]),
        "ERR wrong number of arguments for 'config|set' command"
    );
    assert_eq!(
        err(&mut con, &["CONFIG", "SET", "hz", "abc"]),
        "ERR CONFIG SET failed (possibly related to argument 'hz') - argument couldn't be parsed into an integer"
    );
    assert_eq!(
        err(&mut con, &["CONFIG", "SET", "databases", "3"]),
        "ERR CONFIG SET failed (possibly related to argument 'databases') - can't set immutable config"
    );
    assert_eq!(
        err(&mut con, &["CONFIG", "SET", "hz", "20", "hz", "30"]),
        "ERR CONFIG SET failed (possibly related to argument 'hz') - duplicate parameter"
    );
    assert_eq!(
        err(&mut con, &["CONFIG", "SET", "maxmemory-policy", "bad"]),
        "ERR CONFIG SET failed (possibly related to argument 'maxmemory-policy') - argument(s) must be one of the following: volatile-lru, volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction"
    );
    assert_eq!(
        err(&mut con, &["CONFIG", "GET"]),
        "ERR wrong number of arguments for 'config|get' command"
    );
    // Clients such as redis-benchmark read these at start-up.
    let v: Vec<String> = redis::cmd("CONFIG")
        .arg("GET")
        .arg("save")
        .query(&mut con)
        .unwrap();
    assert_eq!(v, vec!["save", ""]);
    let v: Vec<String> = redis::cmd("CONFIG")
        .arg("GET")
        .arg("appendonly")
        .query(&mut con)
        .unwrap();
    assert_eq!(v, vec!["appendonly", "no"]);
}

#[test]
fn dbsize_and_flushes() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    for i in 0..100 {
        let _: () = con.set(format!("k{i}"), i).unwrap();
    }
    let n: i64 = redis::cmd("DBSIZE").query(&mut con).unwrap();
    assert_eq!(n, 100);
    let _: () = redis::cmd("SELECT").arg(1).query(&mut con).unwrap();
    let _: () = con.set("other", 1).unwrap();
    let _: () = redis::cmd("FLUSHDB").query(&mut con).unwrap();
    let n: i64 = redis::cmd("DBSIZE").query(&mut con).unwrap();
    assert_eq!(n, 0);
    let _: () = redis::cmd("SELECT").arg(0).query(&mut con).unwrap();
    let n: i64 = redis::cmd("DBSIZE").query(&mut con).unwrap();
    assert_eq!(n, 100);
    let _: () = redis::cmd("FLUSHALL").arg("ASYNC").query(&mut con).unwrap();
    let n: i64 = redis::cmd("DBSIZE").query(&mut con).unwrap();
    assert_eq!(n, 0);
    let _: () = redis::cmd("FLUSHALL").arg("SYNC").query(&mut con).unwrap();
    let _: () = redis::cmd("FLUSHDB").arg("async").query(&mut con).unwrap();
    assert_eq!(err(&mut con, &["FLUSHALL", "x"]), "ERR syntax error");
    assert_eq!(err(&mut con, &["FLUSHDB", "SYNC", "x"]), "ERR syntax error");
    assert_eq!(
        err(&mut con, &["DBSIZE", "x"]),
        "ERR wrong number of arguments for 'dbsize' command"
    );
}

#[test]
fn time_and_lastsave() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    let (secs, micros): (u64, u64) = redis::cmd("TIME").query(&mut con).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(secs.abs_diff(now) <= 2 && micros < 1_000_000);
    let last: u64 = redis::cmd("LASTSAVE").query(&mut con).unwrap();
    assert!(last <= now + 1 && last + 3600 > now);
    assert_eq!(
        err(&mut con, &["TIME", "x"]),
        "ERR wrong number of arguments for 'time' command"
    );
}

#[test]
fn shutdown_stops_the_server() {
    let srv = TestServer::start();
    let mut raw = srv.raw();
    raw.roundtrip(b"SHUTDOWN BOGUS\r\n", b"-ERR syntax error\r\n");
    assert!(!srv.server.is_shutting_down());
    raw.send(b"SHUTDOWN NOSAVE\r\n");
    assert!(raw.is_closed());
    assert!(srv.server.is_shutting_down());
}

#[test]
fn commandstats_and_errorstats() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    let _: () = redis::cmd("CONFIG")
        .arg("RESETSTAT")
        .query(&mut con)
        .unwrap();
    let _: () = con.set("s", "x").unwrap();
    let _: Option<String> = con.get("s").unwrap();
    let _ = err(&mut con, &["INCR", "s"]);
    let _ = err(&mut con, &["NOSUCH"]);
    let stats = info(&mut con, "commandstats");
    let incr = stats
        .lines()
        .find(|l| l.starts_with("cmdstat_incr:"))
        .expect("incr line");
    assert!(
        incr.contains("calls=1,") && incr.ends_with("rejected_calls=0,failed_calls=1"),
        "{incr}"
    );
    assert!(
        stats
            .lines()
            .any(|l| l.starts_with("cmdstat_get:calls=1,usec=")),
        "{stats}"
    );
    assert!(
        stats
            .lines()
            .any(|l| l.starts_with("cmdstat_config|resetstat:calls=1,")),
        "{stats}"
    );
    let errors = info(&mut con, "errorstats");
    assert!(errors.contains("errorstat_ERR:count=2"), "{errors}");
    assert_eq!(field(&info(&mut con, "stats"), "total_error_replies"), "2");
    let everything = info(&mut con, "everything");
    assert!(everything.contains("# Commandstats") && everything.contains("# Errorstats"));
    assert!(!info(&mut con, "default").contains("# Commandstats"));
}

#[test]
fn slowlog_records_commands_over_the_threshold() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("slowlog-log-slower-than")
        .arg("0")
        .query(&mut con)
        .unwrap();
    let _: () = redis::cmd("SLOWLOG").arg("RESET").query(&mut con).unwrap();
    let _: () = redis::cmd("CLIENT")
        .arg("SETNAME")
        .arg("slowpoke")
        .query(&mut con)
        .unwrap();
    let long = "x".repeat(200);
    let _: () = con.set("k", &long).unwrap();
    let mut many = redis::cmd("MSET");
    for i in 0..20 {
        many.arg(format!("k{i}")).arg(i);
    }
    let _: () = many.query(&mut con).unwrap();
    let entries: Vec<redis::Value> = redis::cmd("SLOWLOG")
        .arg("GET")
        .arg(2)
        .query(&mut con)
        .unwrap();
    assert_eq!(entries.len(), 2);
    let redis::Value::Array(newest) = &entries[0] else {
        panic!("entry shape")
    };
    assert_eq!(newest.len(), 6);
    let redis::Value::Array(argv) = &newest[3] else {
        panic!("argv shape")
    };
    // 41 arguments are shown as 31 and a count of the rest.
    assert_eq!(argv.len(), 32);
    assert_eq!(
        argv[31],
        redis::Value::BulkString(b"... (10 more arguments)".to_vec())
    );
    assert_eq!(newest[5], redis::Value::BulkString(b"slowpoke".to_vec()));
    let redis::Value::Array(set_entry) = &entries[1] else {
        panic!("entry shape")
    };
    let redis::Value::Array(argv) = &set_entry[3] else {
        panic!("argv shape")
    };
    assert_eq!(
        argv[2],
        redis::Value::BulkString(format!("{}... (72 more bytes)", "x".repeat(128)).into_bytes())
    );
    let len: i64 = redis::cmd("SLOWLOG").arg("LEN").query(&mut con).unwrap();
    assert!(len >= 3);
    assert_eq!(
        err(&mut con, &["SLOWLOG", "GET", "-2"]),
        "ERR count should be greater than or equal to -1"
    );
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("slowlog-max-len")
        .arg("1")
        .query(&mut con)
        .unwrap();
    let _: () = redis::cmd("PING").query(&mut con).unwrap();
    let _: () = redis::cmd("PING").query(&mut con).unwrap();
    let len: i64 = redis::cmd("SLOWLOG").arg("LEN").query(&mut con).unwrap();
    assert_eq!(len, 1);
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("slowlog-log-slower-than")
        .arg("-1")
        .query(&mut con)
        .unwrap();
    let _: () = redis::cmd("SLOWLOG").arg("RESET").query(&mut con).unwrap();
    let _: () = redis::cmd("PING").query(&mut con).unwrap();
    let len: i64 = redis::cmd("SLOWLOG").arg("LEN").query(&mut con).unwrap();
    assert_eq!(len, 0);
}

#[test]
fn help_texts() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    let slowlog: Vec<String> = redis::cmd("SLOWLOG").arg("HELP").query(&mut con).unwrap();
    let config: Vec<String> = redis::cmd("CONFIG").arg("HELP").query(&mut con).unwrap();
    let client: Vec<String> = redis::cmd("CLIENT").arg("HELP").query(&mut con).unwrap();
    for (lines, name) in [(slowlog, "SLOWLOG"), (config, "CONFIG"), (client, "CLIENT")] {
        assert_eq!(
            lines[0],
            format!("{name} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")
        );
        assert_eq!(
            lines.last().map(String::as_str),
            Some("    Prints this help.")
        );
    }
}

#[test]
fn monitor_streams_other_clients_commands() {
    let srv = TestServer::start();
    // Connect first: the client library's own handshake is not part of what we check.
    let mut con = srv.conn();
    let mut mon = srv.raw();
    mon.roundtrip(b"MONITOR\r\n", b"+OK\r\n");
    let _: () = redis::cmd("SET")
        .arg("a b")
        .arg("x\"y\n\x01")
        .query(&mut con)
        .unwrap();
    let _: () = redis::cmd("CONFIG")
        .arg("GET")
        .arg("hz")
        .query(&mut con)
        .unwrap();
    let _ = redis::cmd("AUTH").arg("secret").query::<()>(&mut con);
    let _: Option<String> = redis::cmd("GET").arg("k").query(&mut con).unwrap();
    let mut text = String::new();
    while !text.contains("\"GET\" \"k\"") {
        let b = mon.read_n(1);
        assert!(!b.is_empty(), "monitor closed: {text}");
        text.push(b[0] as char);
    }
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    let peer = "[0 127.0.0.1:";
    assert!(
        lines[0].starts_with('+') && lines[0].contains(peer),
        "{text}"
    );
    assert!(
        lines[0].ends_with("\"SET\" \"a b\" \"x\\\"y\\n\\x01\""),
        "{text}"
    );
    // CONFIG is an admin command and is not shown; AUTH's password is redacted.
    assert!(lines[1].ends_with("\"AUTH\" \"(redacted)\""), "{text}");
    assert!(lines[2].ends_with("\"GET\" \"k\""), "{text}");
}
