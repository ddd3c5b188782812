//! Expiry: lazy (on access) and active (the background cycle reclaims keys nobody reads).

mod common;

use std::time::{Duration, Instant};

use common::TestServer;
use redis::Commands;

fn dbsize(con: &mut redis::Connection) -> i64 {
    redis::cmd("DBSIZE").query(con).unwrap()
}

#[test]
fn lazy_expiry_on_access() {
    let srv = TestServer::with_config(|c| c.active_expire = false);
    let mut con = srv.conn();
    let _: () = redis::cmd("SET")
        .arg("k")
        .arg("v")
        .arg("PX")
        .arg(100)
        .query(&mut con)
        .unwrap();
    let _: () = con.set("keep", "v").unwrap();
    assert_eq!(dbsize(&mut con), 2);
    std::thread::sleep(Duration::from_millis(250));
    // With the active cycle off, the key is still in the table until someone touches it.
    assert_eq!(dbsize(&mut con), 2);
    let v: Option<String> = con.get("k").unwrap();
    assert_eq!(v, None);
    assert_eq!(dbsize(&mut con), 1);
}

#[test]
fn active_expiry_reclaims_untouched_keys() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    let n = 200_000;
    let mut pipe = redis::pipe();
    for i in 0..n {
        pipe.cmd("SET")
            .arg(format!("key:{i}"))
            .arg("value")
            .arg("PX")
            .arg(300)
            .ignore();
        if i % 10_000 == 9_999 {
            let _: () = pipe.query(&mut con).unwrap();
            pipe = redis::pipe();
        }
    }
    let _: () = con.set("persistent", "1").unwrap();
    assert!(dbsize(&mut con) > 1);
    let deadline = Instant::now() + Duration::from_secs(30);
    while dbsize(&mut con) > 1 {
        assert!(
            Instant::now() < deadline,
            "keys with a TTL not reclaimed: {} left",
            dbsize(&mut con)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let v: String = con.get("persistent").unwrap();
    assert_eq!(v, "1");
    let info: String = redis::cmd("INFO").arg("stats").query(&mut con).unwrap();
    assert!(info.contains(&format!("expired_keys:{n}\r\n")), "{info}");
}
