//! Differential testing support: a real `redis-server` beside Ferrite, raw RESP connections, and a
//! byte-exact comparison of replies. Tests call [`start_redis`] and skip (saying so) when it returns
//! `None` because no redis-server is installed.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::resp;

pub struct RedisServer {
    child: Child,
    pub port: u16,
    _dir: std::path::PathBuf,
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts a real redis-server, or returns None (and says why) when it is not installed.
pub fn start_redis() -> Option<RedisServer> {
    if Command::new("redis-server")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_err()
    {
        eprintln!("SKIPPED: differential test needs redis-server (apt-get install redis-server); not installed here");
        return None;
    }
    // The port is free when probed, but another test (they run in parallel) may bind it before
    // redis-server does: that redis-server then exits, and a probe would reach the other test's
    // server, which may be gone by the time the test talks to it. So the server that answers must
    // be ours (INFO's process_id), or we try another port.
    for _ in 0..5 {
        let port = free_port();
        let dir = std::env::temp_dir().join(format!("ferrite-diff-{port}"));
        std::fs::create_dir_all(&dir).ok()?;
        let mut child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .arg("--dir")
            .arg(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(Some(_)) = child.try_wait() {
                break; // Most likely "Address already in use": another port.
            }
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                let info = Conn::open(port).call(&[b"INFO".to_vec(), b"server".to_vec()]);
                let ours = format!("process_id:{}\r\n", child.id());
                if String::from_utf8_lossy(&info).contains(&ours) {
                    return Some(RedisServer {
                        child,
                        port,
                        _dir: dir,
                    });
                }
                let _ = child.kill();
                let _ = child.wait();
                break;
            }
            if Instant::now() > deadline {
                eprintln!("SKIPPED: redis-server did not start");
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    eprintln!("SKIPPED: redis-server found no free port in 5 tries");
    None
}

pub struct Conn {
    r: BufReader<TcpStream>,
}

impl Conn {
    pub fn open(port: u16) -> Conn {
        let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        Conn {
            r: BufReader::new(s),
        }
    }

    pub fn call(&mut self, args: &[Vec<u8>]) -> Vec<u8> {
        let refs: Vec<&[u8]> = args.iter().map(|a| a.as_slice()).collect();
        self.r.get_mut().write_all(&resp(&refs)).unwrap();
        let mut out = Vec::new();
        read_frame(&mut self.r, &mut out);
        out
    }
}

/// Reads one complete RESP2/RESP3 reply frame, appending its raw bytes to `out`.
pub fn read_frame(r: &mut BufReader<TcpStream>, out: &mut Vec<u8>) {
    let mut line = Vec::new();
    r.read_until(b'\n', &mut line).unwrap();
    assert!(!line.is_empty(), "connection closed");
    out.extend_from_slice(&line);
    let body = String::from_utf8_lossy(&line[1..line.len() - 2]).into_owned();
    match line[0] {
        b'$' | b'=' | b'!' => {
            let n: i64 = body.parse().unwrap();
            if n >= 0 {
                let mut buf = vec![0; n as usize + 2];
                r.read_exact(&mut buf).unwrap();
                out.extend(buf);
            }
        }
        b'*' | b'~' | b'>' => {
            let n: i64 = body.parse().unwrap();
            for _ in 0..n.max(0) {
                read_frame(r, out);
            }
        }
        b'%' => {
            let n: i64 = body.parse().unwrap();
            for _ in 0..2 * n.max(0) {
                read_frame(r, out);
            }
        }
        _ => {}
    }
}

/// Replies that may differ between two correct servers are normalised before comparison.
pub fn normalise(cmd: &[Vec<u8>], reply: Vec<u8>) -> Vec<u8> {
    let name = String::from_utf8_lossy(&cmd[0]).to_ascii_uppercase();
    if matches!(name.as_str(), "TTL" | "PTTL" | "EXPIRETIME" | "PEXPIRETIME")
        && reply.starts_with(b":")
    {
        let n: i64 = String::from_utf8_lossy(&reply[1..reply.len() - 2])
            .parse()
            .unwrap_or(0);
        return if n >= 0 {
            b":<positive>\r\n".to_vec()
        } else {
            reply
        };
    }
    reply
}

pub fn is_supported(port: u16, name: &[u8]) -> bool {
    let mut c = Conn::open(port);
    // Every command in the generator needs arguments (or is harmless without), so the bare name only
    // tells whether the command exists.
    let r = c.call(&[name.to_vec()]);
    !r.starts_with(b"-ERR unknown command")
}

/// Sends every command to both servers and asserts byte-identical (normalised) replies, showing the
/// last commands on a mismatch.
pub fn compare_all(
    redis_port: u16,
    ferrite_port: u16,
    label: &str,
    cmds: impl IntoIterator<Item = Vec<Vec<u8>>>,
) {
    let mut a = Conn::open(redis_port);
    let mut b = Conn::open(ferrite_port);
    let mut history: Vec<String> = Vec::new();
    for cmd in cmds {
        let ra = normalise(&cmd, a.call(&cmd));
        let rb = normalise(&cmd, b.call(&cmd));
        history.push(
            cmd.iter()
                .map(|x| String::from_utf8_lossy(x).into_owned())
                .collect::<Vec<_>>()
                .join(" "),
        );
        assert_eq!(
            String::from_utf8_lossy(&rb),
            String::from_utf8_lossy(&ra),
            "{label}: replies differ (left: ferrite, right: redis) after:\n{}",
            history[history.len().saturating_sub(15)..].join("\n")
        );
    }
}
