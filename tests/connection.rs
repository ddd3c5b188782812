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
