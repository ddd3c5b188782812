mod common;

use common::TestServer;
use redis::Commands;

#[test]
fn set_get_through_client() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    let _: () = con.set("k", "v").unwrap();
    let v: String = con.get("k").unwrap();
    assert_eq!(v, "v");
    assert_eq!(common::err(&mut con, &["GET"]), "ERR wrong number of arguments for 'get' command");
    assert_eq!(common::err(&mut con, &["NOPE", "a"]), "ERR unknown command 'NOPE', with args beginning with: 'a' ");
}
