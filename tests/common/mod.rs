//! Test support: a real Ferrite server on 127.0.0.1:0, a `redis` client, and a raw-bytes helper.
#![allow(dead_code)]

pub mod diff;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

use ferrite::config::Config;
use ferrite::server::{self, Server};

pub struct TestServer {
    pub port: u16,
    pub server: Arc<Server>,
}

impl TestServer {
    /// Starts a server with default configuration on a free port.
    pub fn start() -> TestServer {
        Self::with_config(|_| {})
    }

    /// Starts a server after `tweak` has adjusted its configuration.
    pub fn with_config(tweak: impl FnOnce(&mut Config)) -> TestServer {
        let mut cfg = Config {
            port: 0,
            bind: vec!["127.0.0.1".into()],
            ..Config::default()
        };
        tweak(&mut cfg);
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let listeners = server::bind(&cfg).await.expect("bind");
                let port = listeners[0].local_addr().expect("addr").port();
                let srv = Server::new(cfg);
                tx.send((port, srv.clone())).expect("send");
                server::serve(srv, listeners).await;
            });
        });
        let (port, server) = rx.recv().expect("server start");
        TestServer { port, server }
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    pub fn client(&self) -> redis::Client {
        redis::Client::open(self.url()).expect("client")
    }

    pub fn conn(&self) -> redis::Connection {
        self.client().get_connection().expect("connect")
    }

    /// A raw TCP connection for byte-exact protocol checks.
    pub fn raw(&self) -> Raw {
        let s = TcpStream::connect(("127.0.0.1", self.port)).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        Raw { s }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.server.request_shutdown();
    }
}

pub struct Raw {
    pub s: TcpStream,
}

impl Raw {
    pub fn send(&mut self, bytes: &[u8]) {
        self.s.write_all(bytes).expect("write");
    }

    /// Reads until `n` bytes have arrived (or the peer closes).
    pub fn read_n(&mut self, n: usize) -> Vec<u8> {
        let mut out = vec![0; n];
        let mut got = 0;
        while got < n {
            match self.s.read(&mut out[got..]) {
                Ok(0) | Err(_) => break,
                Ok(k) => got += k,
            }
        }
        out.truncate(got);
        out
    }

    /// Sends `req` and reads exactly as many bytes as `expected` has, then compares.
    pub fn roundtrip(&mut self, req: &[u8], expected: &[u8]) {
        self.send(req);
        let got = self.read_n(expected.len());
        assert_eq!(
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(expected),
            "reply to {:?}",
            String::from_utf8_lossy(req)
        );
    }

    /// True if the server closed the connection (reads EOF within the timeout).
    pub fn is_closed(&mut self) -> bool {
        let mut b = [0u8; 1];
        matches!(self.s.read(&mut b), Ok(0))
    }
}

/// Encodes a command as a RESP multibulk.
pub fn resp(args: &[&[u8]]) -> Vec<u8> {
    let mut v = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        v.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        v.extend_from_slice(a);
        v.extend_from_slice(b"\r\n");
    }
    v
}

/// Runs a command and returns its result, error included (for error-text checks).
pub fn run(con: &mut redis::Connection, args: &[&str]) -> redis::RedisResult<redis::Value> {
    let mut c = redis::cmd(args[0]);
    for a in &args[1..] {
        c.arg(*a);
    }
    c.query(con)
}

/// The full error line a command returns (code and message, as the server sent them).
pub fn err(con: &mut redis::Connection, args: &[&str]) -> String {
    match run(con, args) {
        Ok(v) => panic!("expected an error from {args:?}, got {v:?}"),
        Err(e) => {
            let code = e.code().unwrap_or("");
            let detail = e.detail().unwrap_or("");
            if detail.is_empty() {
                code.to_string()
            } else {
                format!("{code} {detail}")
            }
        }
    }
}

/// Waits until INFO reports `n` blocked clients (panics after 10 seconds).
pub fn wait_blocked_clients(con: &mut redis::Connection, n: usize) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let info: String = redis::cmd("INFO").arg("clients").query(con).expect("INFO");
        if info.contains(&format!("blocked_clients:{n}\r\n")) {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never saw {n} blocked clients: {info}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Runs a command that must succeed and returns its reply.
pub fn cmd(con: &mut redis::Connection, args: &[&str]) -> redis::Value {
    run(con, args).unwrap_or_else(|e| panic!("{args:?} failed: {e}"))
}

/// Runs a command whose reply must be an integer.
pub fn int(con: &mut redis::Connection, args: &[&str]) -> i64 {
    match cmd(con, args) {
        redis::Value::Int(i) => i,
        v => panic!("{args:?}: expected an integer, got {v:?}"),
    }
}

/// Runs a command whose reply must be `+OK`.
pub fn ok(con: &mut redis::Connection, args: &[&str]) {
    assert_eq!(cmd(con, args), redis::Value::Okay, "{args:?}");
}

/// Runs a command whose reply must be a string (bulk or simple) or nil.
pub fn bulk(con: &mut redis::Connection, args: &[&str]) -> Option<String> {
    match cmd(con, args) {
        redis::Value::Nil => None,
        redis::Value::BulkString(b) => Some(String::from_utf8(b).expect("utf8")),
        redis::Value::SimpleString(s) => Some(s),
        v => panic!("{args:?}: expected a bulk string, got {v:?}"),
    }
}

/// The real `ferrite` binary in a child process, for tests that need the process to themselves
/// (memory accounting, eviction) or its command line. Killed on drop.
pub struct Process {
    pub port: u16,
    child: std::process::Child,
}

impl Process {
    /// Starts `ferrite --port <free> <args...>` and waits until it answers. A free port can be taken
    /// by another test's server between our probe and the child's bind (tests run in parallel): the
    /// child then exits with "Address already in use" and we try another port. Any other early exit
    /// fails the test with the child's log.
    pub fn start(args: &[&str]) -> Process {
        for _ in 0..5 {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("free port")
                .port();
            let log = std::env::temp_dir()
                .join(format!("ferrite-test-{}-{port}.log", std::process::id()));
            let stderr = std::fs::File::create(&log).expect("log file");
            let child = std::process::Command::new(env!("CARGO_BIN_EXE_ferrite"))
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                .args(args)
                .stdout(std::process::Stdio::null())
                .stderr(stderr)
                .spawn()
                .expect("spawn ferrite");
            let mut p = Process { port, child };
            let deadline = std::time::Instant::now() + Duration::from_secs(10);
            loop {
                if let Ok(Some(status)) = p.child.try_wait() {
                    let text = std::fs::read_to_string(&log).unwrap_or_default();
                    let _ = std::fs::remove_file(&log);
                    if text.contains("Address already in use") {
                        break;
                    }
                    panic!("ferrite exited at start ({status}): {text}");
                }
                // Answering is not enough: the port may be another test's server.
                if TcpStream::connect(("127.0.0.1", port)).is_ok()
                    && matches!(p.child.try_wait(), Ok(None))
                {
                    std::thread::sleep(Duration::from_millis(20));
                    if matches!(p.child.try_wait(), Ok(None)) {
                        let _ = std::fs::remove_file(&log);
                        return p;
                    }
                    continue;
                }
                assert!(
                    std::time::Instant::now() < deadline,
                    "ferrite did not start"
                );
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        panic!("no free port for ferrite after 5 tries");
    }

    pub fn conn(&self) -> redis::Connection {
        redis::Client::open(format!("redis://127.0.0.1:{}/", self.port))
            .expect("client")
            .get_connection()
            .expect("connect")
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One field of an INFO reply.
pub fn info_field(con: &mut redis::Connection, section: &str, field: &str) -> String {
    let text: String = redis::cmd("INFO").arg(section).query(con).expect("info");
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")).map(str::to_string))
        .unwrap_or_else(|| panic!("INFO {section} has no {field}"))
}
