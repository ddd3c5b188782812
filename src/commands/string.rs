//! String commands: GET SET and friends, counters, ranges, LCS, and bitmaps.
//!
//! Values are [`StrValue`]s: integers stay integers (INCR never parses text), other values keep their
//! bytes. Every handler documents its syntax and reply.

use bytes::Bytes;

use super::table::{acl, flags::*, ks, CommandSpec, Docs, Group, KeySpec};
use super::{Args, ExecCtx};
use crate::error::CmdError;
use crate::protocol::Reply;
use crate::storage::db::Ttl;
use crate::storage::{StrValue, Value};

const STR: u64 = acl::STRING;

const fn docs(summary: &'static str, since: &'static str, complexity: &'static str) -> Docs {
    Docs { summary, since, complexity }
}

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec { name: "get", group: Group::String, arity: 2, flags: READONLY | FAST, acl: STR, keys: &[KeySpec::one(1, ks::RO | ks::ACCESS)], docs: docs("Returns the string value of a key.", "1.0.0", "O(1)"), handler: get, ..CommandSpec::DEFAULT },
    CommandSpec { name: "set", group: Group::String, arity: -3, flags: WRITE | DENYOOM, acl: STR, keys: &[KeySpec::one(1, ks::RW | ks::ACCESS | ks::UPDATE | ks::VARIABLE_FLAGS)], key_notes: &["RW and ACCESS due to the optional `GET` argument"], getkeys: Some(super::table::getkeys::set), docs: docs("Sets the string value of a key, ignoring its type. The key is created if it doesn't exist.", "1.0.0", "O(1)"), handler: set, ..CommandSpec::DEFAULT },
];

/// Reads a string value: `Ok(None)` if the key is absent, WRONGTYPE if it holds another type.
pub fn get_str<'v>(v: Option<&'v Value>) -> Result<Option<&'v StrValue>, CmdError> {
    match v {
        None => Ok(None),
        Some(Value::Str(s)) => Ok(Some(s)),
        #[allow(unreachable_patterns)]
        Some(_) => Err(CmdError::WrongType),
    }
}

/// The reply for a stored string.
pub fn str_reply(s: &StrValue) -> Reply {
    match s {
        StrValue::Int(i) => Reply::bulk_int(*i),
        StrValue::Emb(b) | StrValue::Raw(b) => Reply::Bulk(Bytes::copy_from_slice(b)),
    }
}

/// `GET key` → the value, or nil.
fn get(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let mut db = ctx.db();
    Ok(get_str(db.get(&key))?.map_or(Reply::Nil, str_reply))
}

/// `SET key value [NX | XX] [GET] [EX seconds | PX milliseconds | EXAT unix-time-seconds |
/// PXAT unix-time-milliseconds | KEEPTTL]` → `+OK`, nil when NX/XX prevented the write, or with GET the
/// old value.
fn set(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let value = args.next_bytes()?;
    let (mut nx, mut xx, mut get, mut keep) = (false, false, false, false);
    let mut expire: Option<(u8, Bytes)> = None;
    while let Some(opt) = args.next() {
        let o = opt.to_ascii_uppercase();
        match o.as_slice() {
            b"NX" if !xx => nx = true,
            b"XX" if !nx => xx = true,
            b"GET" => get = true,
            b"KEEPTTL" if expire.is_none() => keep = true,
            b"EX" | b"PX" | b"EXAT" | b"PXAT" if expire.is_none() && !keep && !args.is_empty() => {
                let kind = match o.as_slice() {
                    b"EX" => 0,
                    b"PX" => 1,
                    b"EXAT" => 2,
                    _ => 3,
                };
                expire = Some((kind, args.next_bytes()?));
            }
            _ => return Err(CmdError::Syntax),
        }
    }
    let now = ctx.now;
    let ttl = match expire {
        None if keep => Ttl::Keep,
        None => Ttl::Clear,
        Some((kind, v)) => Ttl::At(expire_time(kind, &v, now, "set")?),
    };
    let mut db = ctx.db();
    let old = if get {
        Some(get_str(db.get(&key))?.map(str_reply))
    } else {
        None
    };
    let exists = match &old {
        Some(o) => o.is_some(),
        None if nx || xx => db.exists(&key),
        None => false,
    };
    if (nx && exists) || (xx && !exists) {
        return Ok(match old {
            Some(o) => o.unwrap_or(Reply::Nil),
            None => Reply::Nil,
        });
    }
    db.set(&key, Value::from_bytes(&value), ttl);
    Ok(match old {
        Some(o) => o.unwrap_or(Reply::Nil),
        None => Reply::Ok,
    })
}

/// Converts an EX/PX/EXAT/PXAT argument to an absolute Unix time in milliseconds, with Redis's
/// `invalid expire time` error for non-positive values and overflow.
pub fn expire_time(kind: u8, v: &[u8], now_ms: u64, cmd: &'static str) -> Result<u64, CmdError> {
    let n = crate::protocol::parse_i64(v).ok_or(CmdError::NotInteger)?;
    if n <= 0 {
        return Err(CmdError::InvalidExpire(cmd));
    }
    let ms = match kind {
        0 | 2 => n.checked_mul(1000).ok_or(CmdError::InvalidExpire(cmd))?,
        _ => n,
    };
    let at = match kind {
        0 | 1 => ms.checked_add(now_ms as i64).ok_or(CmdError::InvalidExpire(cmd))?,
        _ => ms,
    };
    Ok(at as u64)
}
