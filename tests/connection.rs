//! Connection commands through a real client: PING ECHO SELECT CLIENT HELLO RESET AUTH QUIT.

mod common;

use common::{err, run, TestServer};
use redis::{Commands, Value};

#[test]
fn ping_and_echo() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    assert_eq!(
        run(&mut con, &["PING"]).unwrap(),
        Value::SimpleString("PONG".into())
    );
    let v: String = redis::cmd("PING").arg("hi").query(&mut con).unwrap();
    assert_eq!(v, "hi");
    let v: Vec<u8> = redis::cmd("ECHO")
        .arg(b"\x00bin\xff")
        .query(&mut con)
        .unwrap();
    assert_eq!(v, b"\x00bin\xff");
    assert_eq!(
        err(&mut con, &["ECHO"]),
        "ERR wrong number of arguments for 'echo' command"
    );
    assert_eq!(
        err(&mut con, &["PING", "a", "b"]),
        "ERR wrong number of arguments for 'ping' command"
    );
}

#[test]
fn select_isolates_databases() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    let _: () = con.set("k", "db0").unwrap();
    let _: () = redis::cmd("SELECT").arg(1).query(&mut con).unwrap();
    let v: Option<String> = con.get("k").unwrap();
    assert_eq!(v, None);
    let _: () = con.set("k", "db1").unwrap();
    let _: () = redis::cmd("SELECT").arg(0).query(&mut con).unwrap();
    let v: String = con.get("k").unwrap();
    assert_eq!(v, "db0");
    assert_eq!(
        err(&mut con, &["SELECT", "16"]),
        "ERR DB index is out of range"
    );
    assert_eq!(
        err(&mut con, &["SELECT", "-1"]),
        "ERR DB index is out of range"
    );
    assert_eq!(
        err(&mut con, &["SELECT", "x"]),
        "ERR value is not an integer or out of range"
    );
    let srv3 = TestServer::with_config(|c| c.databases = 3);
    let mut con3 = srv3.conn();
    assert_eq!(
        err(&mut con3, &["SELECT", "3"]),
        "ERR DB index is out of range"
    );
}

#[test]
fn client_name_id_setinfo_and_list() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    let id: i64 = redis::cmd("CLIENT").arg("ID").query(&mut con).unwrap();
    assert!(id > 0);
    let name: Option<String> = redis::cmd("CLIENT").arg("GETNAME").query(&mut con).unwrap();
    assert_eq!(name, None);
    let _: () = redis::cmd("CLIENT")
        .arg("SETNAME")
        .arg("worker-1")
        .query(&mut con)
        .unwrap();
    let name: String = redis::cmd("CLIENT").arg("GETNAME").query(&mut con).unwrap();
    assert_eq!(name, "worker-1");
    assert_eq!(
        err(&mut con, &["CLIENT", "SETNAME", "a b"]),
        "ERR Client names cannot contain spaces, newlines or special characters."
    );
    assert_eq!(
        err(&mut con, &["CLIENT", "SETNAME"]),
        "ERR wrong number of arguments for 'client|setname' command"
    );
    assert_eq!(
        err(&mut con, &["CLIENT", "NOPE"]),
        "ERR unknown subcommand 'NOPE'. Try CLIENT HELP."
    );
    let _: () = redis::cmd("CLIENT")
        .arg("SETINFO")
        .arg("LIB-NAME")
        .arg("mylib")
        .query(&mut con)
        .unwrap();
    let _: () = redis::cmd("CLIENT")
        .arg("SETINFO")
        .arg("lib-ver")
        .arg("1.2")
        .query(&mut con)
        .unwrap();
    assert_eq!(
        err(&mut con, &["CLIENT", "SETINFO", "foo", "bar"]),
        "ERR Unrecognized option 'foo'"
    );
    assert_eq!(
        err(&mut con, &["CLIENT", "SETINFO", "lib-name", "a b"]),
        "ERR lib-name cannot contain spaces, newlines or special characters."
    );
    // Another connection sees this one, with its name and library, in CLIENT LIST.
    let mut other = srv.conn();
    let list: String = redis::cmd("CLIENT").arg("LIST").query(&mut other).unwrap();
    let line = list
        .lines()
        .find(|l| l.starts_with(&format!("id={id} ")))
        .expect("own line");
    assert!(line.contains(" name=worker-1 "), "{line}");
    assert!(line.contains(" lib-name=mylib lib-ver=1.2"), "{line}");
    assert!(line.contains(" db=0 "), "{line}");
    assert_eq!(list.lines().count(), 2, "{list}");
    let info: String = redis::cmd("CLIENT").arg("INFO").query(&mut con).unwrap();
    assert!(info.starts_with(&format!("id={id} ")) && info.ends_with('\n'));
    let _: () = redis::cmd("CLIENT")
        .arg("SETNAME")
        .arg("")
        .query(&mut con)
        .unwrap();
    let name: Option<String> = redis::cmd("CLIENT").arg("GETNAME").query(&mut con).unwrap();
    assert_eq!(name, None);
}

#[test]
fn hello_setname_and_resp3_replies() {
    let srv = TestServer::start();
    let mut raw = srv.raw();
    raw.send(b"HELLO 3 SETNAME svc\r\n");
    let _ = raw.read_n(4);
    let mut con = srv.conn();
    let list: String = redis::cmd("CLIENT").arg("LIST").query(&mut con).unwrap();
    assert!(
        list.contains(" name=svc ") && list.contains(" resp=3 "),
        "{list}"
    );
}

#[test]
fn reset_restores_defaults() {
    let srv = TestServer::start();
    let mut raw = srv.raw();
    raw.roundtrip(b"SELECT 2\r\nCLIENT SETNAME x\r\n", b"+OK\r\n+OK\r\n");
    raw.roundtrip(b"RESET\r\n", b"+RESET\r\n");
    raw.roundtrip(b"CLIENT GETNAME\r\n", b"$-1\r\n");
    raw.roundtrip(
        b"SET k v\r\nSELECT 2\r\nGET k\r\n",
        b"+OK\r\n+OK\r\n$-1\r\n",
    );
    raw.roundtrip(
        b"RESET x\r\n",
        b"-ERR wrong number of arguments for 'reset' command\r\n",
    );
}

#[test]
fn auth_errors() {
    let srv = TestServer::with_config(|c| c.requirepass = Some("pw".into()));
    let mut raw = srv.raw();
    raw.roundtrip(b"AUTH a b c\r\n", b"-ERR syntax error\r\n");
    raw.roundtrip(
        b"AUTH someone pw\r\n",
        b"-WRONGPASS invalid username-password pair or user is disabled.\r\n",
    );
    raw.roundtrip(b"PING\r\n", b"-NOAUTH Authentication required.\r\n");
    raw.roundtrip(b"AUTH pw\r\nPING\r\n", b"+OK\r\n+PONG\r\n");
    // Clients authenticate through the client library too.
    let client = redis::Client::open(format!("redis://:pw@127.0.0.1:{}/", srv.port)).unwrap();
    let mut con = client.get_connection().unwrap();
    let _: () = con.set("a", 1).unwrap();
}

#[test]
fn quit_through_a_client() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    assert_eq!(run(&mut con, &["QUIT"]).unwrap(), Value::Okay);
}

#[test]
fn client_kill_closes_other_connections() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    let mut victim = srv.raw();
    victim.roundtrip(b"CLIENT ID\r\n", b":");
    let mut id = Vec::new();
    while !id.ends_with(b"\r\n") {
        id.extend(victim.read_n(1));
    }
    let id = String::from_utf8_lossy(&id[..id.len() - 2]).into_owned();
    assert_eq!(
        common::run(&mut con, &["CLIENT", "KILL", "ID", &id]).unwrap(),
        Value::Int(1)
    );
    assert!(victim.is_closed());
    // A client blocked in BLPOP is closed too.
    let mut blocked = srv.raw();
    blocked.send(b"BLPOP q 0\r\n");
    std::thread::sleep(std::time::Duration::from_millis(100));
    let killed: i64 = redis::cmd("CLIENT")
        .arg("KILL")
        .arg("TYPE")
        .arg("normal")
        .query(&mut con)
        .unwrap();
    assert!(killed >= 1);
    assert!(blocked.is_closed());
    // The old form takes an address.
    let mut other = srv.raw();
    other.roundtrip(b"PING\r\n", b"+PONG\r\n");
    let addr = other.s.local_addr().unwrap().to_string();
    assert_eq!(
        common::run(&mut con, &["CLIENT", "KILL", &addr]).unwrap(),
        Value::Okay
    );
    assert_eq!(
        err(&mut con, &["CLIENT", "KILL", "1.2.3.4:5"]),
        "ERR No such client"
    );
    assert_eq!(
        err(&mut con, &["CLIENT", "KILL", "ID", "0"]),
        "ERR client-id should be greater than 0"
    );
    assert_eq!(
        err(&mut con, &["CLIENT", "KILL", "TYPE", "bogus"]),
        "ERR Unknown client type 'bogus'"
    );
    assert_eq!(
        err(&mut con, &["CLIENT", "KILL", "FOO", "bar"]),
        "ERR syntax error"
    );
    // SKIPME yes (the default) spares the caller.
    let me: i64 = redis::cmd("CLIENT").arg("ID").query(&mut con).unwrap();
    let n: i64 = redis::cmd("CLIENT")
        .arg("KILL")
        .arg("ID")
        .arg(me)
        .query(&mut con)
        .unwrap();
    assert_eq!(n, 0);
}

#[test]
fn client_list_shows_live_state() {
    let srv = TestServer::start();
    let mut sub = srv.raw();
    sub.roundtrip(
        b"SUBSCRIBE a b\r\n",
        b"*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n*3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:2\r\n",
    );
    let mut tx = srv.raw();
    tx.roundtrip(b"MULTI\r\nSET k v\r\n", b"+OK\r\n+QUEUED\r\n");
    let mut con = srv.conn();
    let list: String = redis::cmd("CLIENT").arg("LIST").query(&mut con).unwrap();
    assert!(
        list.lines().any(|l| l.contains(" flags=P ")
            && l.contains(" sub=2 psub=0 ssub=0 ")
            && l.contains(" cmd=subscribe ")),
        "{list}"
    );
    assert!(
        list.lines()
            .any(|l| l.contains(" flags=x ") && l.contains(" multi=1 ") && l.contains(" cmd=set ")),
        "{list}"
    );
    assert!(
        list.lines()
            .any(|l| l.contains(" flags=N ") && l.contains(" cmd=client|list ")),
        "{list}"
    );
}

#[test]
fn client_list_filters_by_type_and_id() {
    let srv = TestServer::start();
    let mut a = srv.conn();
    let mut b = srv.conn();
    let id_a = common::int(&mut a, &["CLIENT", "ID"]);
    let id_b = common::int(&mut b, &["CLIENT", "ID"]);
    let list = |con: &mut redis::Connection, args: &[&str]| -> String {
        let mut full = vec!["CLIENT", "LIST"];
        full.extend_from_slice(args);
        match common::cmd(con, &full) {
            redis::Value::BulkString(b) => String::from_utf8(b).unwrap(),
            redis::Value::VerbatimString { text, .. } => text,
            other => panic!("{other:?}"),
        }
    };
    let ids = |text: &str| -> Vec<i64> {
        text.lines()
            .filter_map(|l| l.strip_prefix("id=")?.split(' ').next()?.parse().ok())
            .collect()
    };
    assert_eq!(ids(&list(&mut a, &["ID", &id_b.to_string()])), vec![id_b]);
    assert_eq!(
        ids(&list(
            &mut a,
            &["ID", &id_a.to_string(), &id_b.to_string(), "0", "-1"]
        )),
        vec![id_a, id_b]
    );
    assert_eq!(ids(&list(&mut a, &["TYPE", "normal"])), vec![id_a, id_b]);
    assert_eq!(list(&mut a, &["TYPE", "pubsub"]), "");
    assert_eq!(list(&mut a, &["TYPE", "replica"]), "");
    assert_eq!(
        common::err(&mut a, &["CLIENT", "LIST", "TYPE", "foo"]),
        "ERR Unknown client type 'foo'"
    );
    assert_eq!(
        common::err(&mut a, &["CLIENT", "LIST", "ID", "1", "x"]),
        "ERR Invalid client ID"
    );
    assert_eq!(
        common::err(&mut a, &["CLIENT", "LIST", "ID"]),
        "ERR syntax error"
    );
    assert_eq!(
        common::err(&mut a, &["CLIENT", "LIST", "TYPE", "normal", "ID", "1"]),
        "ERR syntax error"
    );
}

#[test]
fn client_kill_reaches_a_blocked_client_at_once() {
    let srv = TestServer::start();
    let mut blocked = srv.raw();
    blocked.send(b"CLIENT ID\r\n");
    let reply = String::from_utf8(blocked.read_n(1)).unwrap();
    let mut rest = reply.clone();
    while !rest.ends_with("\r\n") {
        rest.push_str(&String::from_utf8(blocked.read_n(1)).unwrap());
    }
    let id = rest.trim_start_matches(':').trim().to_string();
    blocked.send(b"BLPOP nothing 0\r\n");
    let mut con = srv.conn();
    common::wait_blocked_clients(&mut con, 1);
    let started = std::time::Instant::now();
    assert_eq!(common::int(&mut con, &["CLIENT", "KILL", "ID", &id]), 1);
    assert!(blocked.is_closed(), "the blocked client was not closed");
    assert!(started.elapsed() < std::time::Duration::from_secs(3));
}
