//! DEBUG: the subset of Redis's debugging command that tools and test suites use.
//!
//! DEBUG is one command whose first argument selects the action (it has no subcommand table in
//! Redis's COMMAND output, so it has none here either): SLEEP, SET-ACTIVE-EXPIRE, OBJECT, PROTOCOL,
//! CHANGE-REPL-ID, QUICKLIST-PACKED-THRESHOLD, ERROR, LOG, HELP. Like Redis it is refused unless
//! `enable-debug-command` allows it (`yes`, or `local` for loopback clients): it can stall the server.
//!
//! DEBUG SLEEP really stops the I/O thread that runs it, as Redis's sleeps the whole server: tests
//! use it to produce a slow command (SLOWLOG, LATENCY, client timeouts).

use bytes::Bytes;

use super::table::{acl, flags::*, CommandSpec, Docs, Group};
use super::{Args, ExecCtx};
use crate::error::CmdError;
use crate::protocol::{Protocol, Reply};
use crate::storage::value::{Entry, Value};
use crate::storage::{Db, Locks};

#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec { name: "debug", group: Group::Server, arity: -2, flags: ADMIN | NOSCRIPT | LOADING | STALE | PROTECTED, acl: acl::ADMIN | acl::DANGEROUS, docs: Docs { summary: "A container for debugging commands.", since: "1.0.0", complexity: "Depends on subcommand." }, handler: debug, ..CommandSpec::DEFAULT },
];

const HELP: &[&str] = &[
    "DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CHANGE-REPL-ID",
    "    Change the replication IDs of the instance.",
    "    Dangerous: should be used only for testing the replication subsystem.",
    "ERROR <string>",
    "    Return a Redis protocol error with <string> as message. Useful for clients",
    "    unit tests to simulate Redis errors.",
    "LOG <message>",
    "    Write <message> to the server log.",
    "OBJECT <key>",
    "    Show low level info about `key` and associated value.",
    "PROTOCOL <type>",
    "    Reply with a test value of the specified type. <type> can be: string,",
    "    integer, double, bignum, null, array, set, map, attrib, push, verbatim,",
    "    true, false.",
    "SET-ACTIVE-EXPIRE <0|1>",
    "    Setting it to 0 disables expiring keys in background when they are not",
    "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
    "    default.",
    "QUICKLIST-PACKED-THRESHOLD <size>",
    "    Sets the threshold for elements to be inserted as plain vs packed nodes",
    "    Default value is 1GB, allows values up to 4GB. Setting to 0 restores to default.",
    "SLEEP <seconds>",
    "    Stop the server for <seconds>. Decimals allowed.",
    "HELP",
    "    Prints this help.",
];

/// C's `atof`/`strtod` prefix parse: the longest leading number, 0 when there is none.
fn atof(b: &[u8]) -> f64 {
    let s = String::from_utf8_lossy(b);
    let s = s.trim_start();
    (1..=s.len())
        .rev()
        .filter(|&i| s.is_char_boundary(i))
        .find_map(|i| s[..i].parse::<f64>().ok())
        .unwrap_or(0.0)
}

/// C's `atoi`: optional sign and leading digits, 0 when there are none.
fn atoi(b: &[u8]) -> i64 {
    let s = String::from_utf8_lossy(b);
    let s = s.trim_start();
    let (neg, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let n = digits
        .bytes()
        .take_while(u8::is_ascii_digit)
        .fold(0i64, |acc, d| {
            acc.saturating_mul(10).saturating_add((d - b'0') as i64)
        });
    if neg {
        -n
    } else {
        n
    }
}

/// Whether `enable-debug-command` lets this client run DEBUG.
fn allowed(ctx: &ExecCtx<'_>) -> bool {
    match ctx.server.config.read().enable_debug_command.as_str() {
        "yes" => true,
        "local" => ctx.client.addr.ip().is_loopback(),
        _ => false,
    }
}

/// `DEBUG <subcommand> [args]`: see the module docs for the subcommands and their replies.
fn debug(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    if !allowed(ctx) {
        return Err(CmdError::DebugNotAllowed);
    }
    let sub = args.next_bytes()?;
    let argc = args.remaining() + 2;
    let name = String::from_utf8_lossy(sub).to_ascii_lowercase();
    match (name.as_str(), argc) {
        ("help", 2) => Ok(Reply::help(HELP)),
        ("sleep", 3) => {
            let secs = atof(args.next_bytes()?);
            if secs.is_finite() && secs > 0.0 {
                std::thread::sleep(std::time::Duration::from_secs_f64(secs.min(1e9)));
            }
            Ok(Reply::Ok)
        }
        ("set-active-expire", 3) => {
            let on = atoi(args.next_bytes()?) != 0;
            ctx.server.config.write().active_expire = on;
            Ok(Reply::Ok)
        }
        ("object", 3) => debug_object(ctx, args.next_bytes()?),
        ("protocol", 3) => protocol(ctx, args.next_bytes()?),
        ("change-repl-id", 2) => Ok(Reply::Ok),
        ("quicklist-packed-threshold", 3) => {
            let v = String::from_utf8_lossy(args.next_bytes()?).into_owned();
            match crate::config::parse_memory(&v) {
                Some(n) if n <= 1 << 32 => Ok(Reply::Ok),
                _ => Err(CmdError::QuicklistThreshold),
            }
        }
        ("error", 3) => Ok(Reply::Error(
            String::from_utf8_lossy(args.next_bytes()?).into_owned(),
        )),
        ("log", 3) => {
            tracing::warn!("DEBUG LOG: {}", String::from_utf8_lossy(args.next_bytes()?));
            Ok(Reply::Ok)
        }
        _ => Err(CmdError::Generic(format!(
            "unknown subcommand or wrong number of arguments for '{}'. Try DEBUG HELP.",
            String::from_utf8_lossy(sub)
        ))),
    }
}

/// Length of Redis's RDB length prefix for `n`.
fn rdb_len(n: usize) -> usize {
    if n < 1 << 6 {
        1
    } else if n < 1 << 14 {
        2
    } else if n <= u32::MAX as usize {
        5
    } else {
        9
    }
}

/// An RDB-encoded string's size: small integers in 2-5 bytes, others length-prefixed.
fn rdb_string_len(b: &[u8]) -> usize {
    if let Some(i) = crate::protocol::parse_i64(b) {
        if i8::try_from(i).is_ok() {
            return 2;
        }
        if i16::try_from(i).is_ok() {
            return 3;
        }
        if i32::try_from(i).is_ok() {
            return 5;
        }
    }
    rdb_len(b.len()) + b.len()
}

/// An estimate of the value's RDB size (Redis's `serializedlength`): exact for strings without
/// LZF compression, the sum of the elements' encodings for collections.
fn serialized_len(v: &Value) -> usize {
    match v {
        Value::Str(s) => rdb_string_len(&s.as_bytes()),
        Value::List(l) => {
            rdb_len(l.len())
                + l.iter()
                    .map(|e| e.with_bytes(rdb_string_len))
                    .sum::<usize>()
        }
        other => {
            // Collections are saved as a listpack or element by element; both are close to the
            // sum of the element encodings, which the command table's reply text sizes give.
            let n = match other {
                Value::Hash(h) => h.len() * 2,
                Value::Set(s) => s.len(),
                Value::ZSet(z) => z.len() * 2,
                _ => 1,
            };
            rdb_len(n) + n * 2
        }
    }
}

/// `DEBUG OBJECT key` → `Value at:0x... refcount:1 encoding:... serializedlength:... lru:...
/// lru_seconds_idle:...` (plus the quicklist fields for a quicklist), or `ERR no such key`.
fn debug_object(ctx: &mut ExecCtx<'_>, key: &[u8]) -> Result<Reply, CmdError> {
    let max_listpack = ctx.server.config.read().list_max_listpack_size;
    // DEBUG has no key spec, so dispatch locked nothing: lock the key's shard here (inside EXEC
    // every shard is already held).
    if ctx.locks.holds_all() {
        let mut db = ctx.db();
        let stamp = db.stamp_notouch(key).unwrap_or(0);
        return object_line(db.peek(key), stamp, max_listpack);
    }
    let mut locks = Locks::for_keys(&ctx.server.keyspace, std::iter::once(key));
    let mut dirty = 0;
    let mut db = Db::new(&mut locks, ctx.client.db, ctx.now, &mut dirty).no_touch(true);
    let stamp = db.stamp_notouch(key).unwrap_or(0);
    object_line(db.peek(key), stamp, max_listpack)
}

fn object_line(e: Option<&Entry>, stamp: u32, max_listpack: i64) -> Result<Reply, CmdError> {
    let Some(e) = e else {
        return Err(CmdError::NoSuchKey);
    };
    let refcount = match &e.value {
        Value::Str(crate::storage::value::StrValue::Int(i)) if (0..10_000).contains(i) => {
            i32::MAX as i64
        }
        _ => 1,
    };
    let mut line = format!(
        "Value at:{:p} refcount:{refcount} encoding:{} serializedlength:{} lru:{} lru_seconds_idle:{}",
        &e.value as *const Value,
        e.value.encoding(),
        serialized_len(&e.value),
        stamp,
        crate::storage::lfu::idle_seconds(stamp)
    );
    if let Value::List(l) = &e.value {
        if l.encoding() == "quicklist" {
            let size: usize = l.iter().map(|x| x.len() + 2).sum::<usize>() + 7;
            line.push_str(&format!(
                " ql_nodes:1 ql_avg_node:{:.2} ql_listpack_max:{max_listpack} ql_compressed:0 ql_uncompressed_size:{size}",
                l.len() as f64
            ));
        }
    }
    Ok(Reply::Status(line))
}

/// `DEBUG PROTOCOL type` → a sample reply of each RESP3 type, lowered for RESP2 as Redis does
/// (PUSH is refused in RESP2).
fn protocol(ctx: &mut ExecCtx<'_>, kind: &[u8]) -> Result<Reply, CmdError> {
    let ints = |n: i64| (0..n).map(Reply::Int).collect::<Vec<_>>();
    Ok(
        match String::from_utf8_lossy(kind).to_ascii_lowercase().as_str() {
            "string" => Reply::bulk_str("Hello World"),
            "integer" => Reply::Int(12345),
            // Redis's sample value, not π.
            #[allow(clippy::approx_constant)]
            "double" => Reply::Double(3.141),
            "bignum" => Reply::BigNumber("1234567999999999999999999999999999999".into()),
            "null" => Reply::Nil,
            "array" => Reply::Array(ints(3)),
            "set" => Reply::Set(ints(3)),
            "map" => Reply::Map(
                (0..3)
                    .map(|j| (Reply::Int(j), Reply::Bool(j == 1)))
                    .collect(),
            ),
            "attrib" => Reply::Attribute(
                vec![(
                    Reply::bulk_str("key-popularity"),
                    Reply::Array(vec![Reply::bulk_str("key:123"), Reply::Int(90)]),
                )],
                Box::new(Reply::bulk_str("Some real reply following the attribute")),
            ),
            "push" => {
                // The one reply shape RESP2 cannot carry: Redis refuses it there.
                if ctx.client.resp == Protocol::Resp2 {
                    return Err(CmdError::Resp2NotSupported);
                }
                Reply::Multi(vec![
                    Reply::Push(vec![Reply::bulk_str("server-cpu-usage"), Reply::Int(42)]),
                    Reply::bulk_str("Some real reply following the push reply"),
                ])
            }
            "verbatim" => Reply::Verbatim("txt", Bytes::from_static(b"This is a verbatim\nstring")),
            "true" => Reply::Bool(true),
            "false" => Reply::Bool(false),
            _ => return Err(CmdError::DebugProtocolType),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c_number_prefixes() {
        assert_eq!(atof(b"0.25"), 0.25);
        assert_eq!(atof(b"abc"), 0.0);
        assert_eq!(atof(b"1.5xyz"), 1.5);
        assert_eq!(atoi(b"2"), 2);
        assert_eq!(atoi(b"-3x"), -3);
        assert_eq!(atoi(b"x"), 0);
    }

    #[test]
    fn rdb_sizes() {
        assert_eq!(rdb_string_len(b"v"), 2);
        assert_eq!(rdb_string_len(b"100"), 2);
        assert_eq!(rdb_string_len(b"1000"), 3);
        assert_eq!(rdb_string_len(&[b'a'; 100]), 102);
    }
}
