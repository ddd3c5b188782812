//! String commands: GET SET and friends, counters, ranges and LCS.
//!
//! Values are [`StrValue`]s: integers stay integers (INCR never parses text and updates them in place
//! with one lookup), other values keep their bytes. Every handler follows the order of checks of
//! Redis's `t_string.c` (option syntax, then the key's type, then the option values), because that
//! order decides which error a client sees. INCRBYFLOAT does its arithmetic in a software x87
//! `long double` ([`ld`]) so its text matches Redis digit for digit.
//!
//! Every handler documents its syntax and reply.

pub mod ld;

use crate::storage::notify;
use bytes::Bytes;

use super::table::{acl, flags::*, ks, CommandSpec, Docs, Group, KeySpec};
use super::{Args, ExecCtx};
use crate::error::CmdError;
use crate::protocol::{parse_i64, Reply};
use crate::storage::db::Ttl;
use crate::storage::{StrValue, Value};

const STR: u64 = acl::STRING;

const fn docs(summary: &'static str, since: &'static str, complexity: &'static str) -> Docs {
    Docs {
        summary,
        since,
        complexity,
    }
}

const RANGE_COMPLEXITY: &str = "O(N) where N is the length of the returned string. The complexity is ultimately determined by the returned length, but because creating a substring from an existing string is very cheap, it can be considered O(1) for small strings.";

#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec { name: "get", group: Group::String, arity: 2, flags: READONLY | FAST, acl: STR, keys: &[KeySpec::one(1, ks::RO | ks::ACCESS)], docs: docs("Returns the string value of a key.", "1.0.0", "O(1)"), handler: get, ..CommandSpec::DEFAULT },
    CommandSpec { name: "set", group: Group::String, arity: -3, flags: WRITE | DENYOOM, acl: STR, keys: &[KeySpec::one(1, ks::RW | ks::ACCESS | ks::UPDATE | ks::VARIABLE_FLAGS)], key_notes: &["RW and ACCESS due to the optional `GET` argument"], getkeys: Some(super::table::getkeys::set), docs: docs("Sets the string value of a key, ignoring its type. The key is created if it doesn't exist.", "1.0.0", "O(1)"), event: Some((notify::STRING, "set")), handler: set, ..CommandSpec::DEFAULT },
    CommandSpec { name: "setnx", group: Group::String, arity: 3, flags: WRITE | DENYOOM | FAST, acl: STR, keys: &[KeySpec::one(1, ks::OW | ks::INSERT)], docs: docs("Set the string value of a key only when the key doesn't exist.", "1.0.0", "O(1)"), event: Some((notify::STRING, "set")), handler: setnx, ..CommandSpec::DEFAULT },
    CommandSpec { name: "setex", group: Group::String, arity: 4, flags: WRITE | DENYOOM, acl: STR, keys: &[KeySpec::one(1, ks::OW | ks::UPDATE)], docs: docs("Sets the string value and expiration time of a key. Creates the key if it doesn't exist.", "2.0.0", "O(1)"), event: Some((notify::STRING, "set")), handler: setex, ..CommandSpec::DEFAULT },
    CommandSpec { name: "psetex", group: Group::String, arity: 4, flags: WRITE | DENYOOM, acl: STR, keys: &[KeySpec::one(1, ks::OW | ks::UPDATE)], docs: docs("Sets both string value and expiration time in milliseconds of a key. The key is created if it doesn't exist.", "2.6.0", "O(1)"), event: Some((notify::STRING, "set")), handler: psetex, ..CommandSpec::DEFAULT },
    CommandSpec { name: "mget", group: Group::String, arity: -2, flags: READONLY | FAST, acl: STR, keys: &[KeySpec::range(1, -1, 1, ks::RO | ks::ACCESS)], tips: &["request_policy:multi_shard"], docs: docs("Atomically returns the string values of one or more keys.", "1.0.0", "O(N) where N is the number of keys to retrieve."), handler: mget, ..CommandSpec::DEFAULT },
    CommandSpec { name: "mset", group: Group::String, arity: -3, flags: WRITE | DENYOOM, acl: STR, keys: &[KeySpec::range(1, -1, 2, ks::OW | ks::UPDATE)], tips: &["request_policy:multi_shard", "response_policy:all_succeeded"], docs: docs("Atomically creates or modifies the string values of one or more keys.", "1.0.1", "O(N) where N is the number of keys to set."), handler: mset, ..CommandSpec::DEFAULT },
    CommandSpec { name: "msetnx", group: Group::String, arity: -3, flags: WRITE | DENYOOM, acl: STR, keys: &[KeySpec::range(1, -1, 2, ks::OW | ks::INSERT)], tips: &["request_policy:multi_shard", "response_policy:agg_min"], docs: docs("Atomically modifies the string values of one or more keys only when all keys don't exist.", "1.0.1", "O(N) where N is the number of keys to set."), handler: msetnx, ..CommandSpec::DEFAULT },
    CommandSpec { name: "getset", group: Group::String, arity: 3, flags: WRITE | DENYOOM | FAST, acl: STR, keys: &[KeySpec::one(1, ks::RW | ks::ACCESS | ks::UPDATE)], docs: docs("Returns the previous string value of a key after setting it to a new value.", "1.0.0", "O(1)"), event: Some((notify::STRING, "set")), handler: getset, ..CommandSpec::DEFAULT },
    CommandSpec { name: "getdel", group: Group::String, arity: 2, flags: WRITE | FAST, acl: STR, keys: &[KeySpec::one(1, ks::RW | ks::ACCESS | ks::DELETE)], docs: docs("Returns the string value of a key after deleting the key.", "6.2.0", "O(1)"), handler: getdel, ..CommandSpec::DEFAULT },
    CommandSpec { name: "getex", group: Group::String, arity: -2, flags: WRITE | FAST, acl: STR, keys: &[KeySpec::one(1, ks::RW | ks::ACCESS | ks::UPDATE)], docs: docs("Returns the string value of a key after setting its expiration time.", "6.2.0", "O(1)"), handler: getex, ..CommandSpec::DEFAULT },
    CommandSpec { name: "append", group: Group::String, arity: 3, flags: WRITE | DENYOOM | FAST, acl: STR, keys: &[KeySpec::one(1, ks::RW | ks::INSERT)], docs: docs("Appends a string to the value of a key. Creates the key if it doesn't exist.", "2.0.0", "O(1). The amortized time complexity is O(1) assuming the appended value is small and the already present value is of any size, since the dynamic string library used by Redis will double the free space available on every reallocation."), event: Some((notify::STRING, "append")), handler: append, ..CommandSpec::DEFAULT },
    CommandSpec { name: "strlen", group: Group::String, arity: 2, flags: READONLY | FAST, acl: STR, keys: &[KeySpec::one(1, ks::RO)], docs: docs("Returns the length of a string value.", "2.2.0", "O(1)"), handler: strlen, ..CommandSpec::DEFAULT },
    CommandSpec { name: "incr", group: Group::String, arity: 2, flags: WRITE | DENYOOM | FAST, acl: STR, keys: &[KeySpec::one(1, ks::RW | ks::ACCESS | ks::UPDATE)], docs: docs("Increments the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.", "1.0.0", "O(1)"), event: Some((notify::STRING, "incrby")), handler: incr, ..CommandSpec::DEFAULT },
    CommandSpec { name: "decr", group: Group::String, arity: 2, flags: WRITE | DENYOOM | FAST, acl: STR, keys: &[KeySpec::one(1, ks::RW | ks::ACCESS | ks::UPDATE)], docs: docs("Decrements the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.", "1.0.0", "O(1)"), event: Some((notify::STRING, "incrby")), handler: decr, ..CommandSpec::DEFAULT },
    CommandSpec { name: "incrby", group: Group::String, arity: 3, flags: WRITE | DENYOOM | FAST, acl: STR, keys: &[KeySpec::one(1, ks::RW | ks::ACCESS | ks::UPDATE)], docs: docs("Increments the integer value of a key by a number. Uses 0 as initial value if the key doesn't exist.", "1.0.0", "O(1)"), event: Some((notify::STRING, "incrby")), handler: incrby, ..CommandSpec::DEFAULT },
    CommandSpec { name: "decrby", group: Group::String, arity: 3, flags: WRITE | DENYOOM | FAST, acl: STR, keys: &[KeySpec::one(1, ks::RW | ks::ACCESS | ks::UPDATE)], docs: docs("Decrements a number from the integer value of a key. Uses 0 as initial value if the key doesn't exist.", "1.0.0", "O(1)"), event: Some((notify::STRING, "incrby")), handler: decrby, ..CommandSpec::DEFAULT },
    CommandSpec { name: "incrbyfloat", group: Group::String, arity: 3, flags: WRITE | DENYOOM | FAST, acl: STR, keys: &[KeySpec::one(1, ks::RW | ks::ACCESS | ks::UPDATE)], docs: docs("Increment the floating point value of a key by a number. Uses 0 as initial value if the key doesn't exist.", "2.6.0", "O(1)"), event: Some((notify::STRING, "incrbyfloat")), handler: incrbyfloat, ..CommandSpec::DEFAULT },
    CommandSpec { name: "getrange", group: Group::String, arity: 4, flags: READONLY, acl: STR, keys: &[KeySpec::one(1, ks::RO | ks::ACCESS)], docs: docs("Returns a substring of the string stored at a key.", "2.4.0", RANGE_COMPLEXITY), handler: getrange, ..CommandSpec::DEFAULT },
    CommandSpec { name: "substr", group: Group::String, arity: 4, flags: READONLY, acl: STR, keys: &[KeySpec::one(1, ks::RO | ks::ACCESS)], docs: docs("Returns a substring from a string value.", "1.0.0", RANGE_COMPLEXITY), handler: getrange, ..CommandSpec::DEFAULT },
    CommandSpec { name: "setrange", group: Group::String, arity: 4, flags: WRITE | DENYOOM, acl: STR, keys: &[KeySpec::one(1, ks::RW | ks::UPDATE)], docs: docs("Overwrites a part of a string value with another by an offset. Creates the key if it doesn't exist.", "2.2.0", "O(1), not counting the time taken to copy the new string in place. Usually, this string is very small so the amortized complexity is O(1). Otherwise, complexity is O(M) with M being the length of the value argument."), event: Some((notify::STRING, "setrange")), handler: setrange, ..CommandSpec::DEFAULT },
    CommandSpec { name: "lcs", group: Group::String, arity: -3, flags: READONLY, acl: STR, keys: &[KeySpec::range(1, 1, 1, ks::RO | ks::ACCESS)], docs: docs("Finds the longest common substring.", "7.0.0", "O(N*M) where N and M are the lengths of s1 and s2, respectively"), handler: lcs, ..CommandSpec::DEFAULT },
];

/// Reads a string value: `Ok(None)` if the key is absent, WRONGTYPE if it holds another type.
pub fn get_str(v: Option<&Value>) -> Result<Option<&StrValue>, CmdError> {
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
        StrValue::Emb(b) => Reply::bulk_copy(b),
        StrValue::Raw(b) => Reply::bulk_copy(b),
    }
}

/// `GET key` → the value, or nil.
fn get(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let mut db = ctx.db();
    Ok(get_str(db.get(key))?.map_or(Reply::Nil, str_reply))
}

// Option bits of SET and GETEX, as Redis's `parseExtendedStringArgumentsOrReply` keeps them.
const O_NX: u16 = 1;
const O_XX: u16 = 1 << 1;
const O_GET: u16 = 1 << 2;
const O_KEEPTTL: u16 = 1 << 3;
const O_PERSIST: u16 = 1 << 4;
const O_EX: u16 = 1 << 5;
const O_PX: u16 = 1 << 6;
const O_EXAT: u16 = 1 << 7;
const O_PXAT: u16 = 1 << 8;
const O_EXPIRE: u16 = O_EX | O_PX | O_EXAT | O_PXAT;

/// Parsed SET / GETEX options: the flags and the raw EX/PX/EXAT/PXAT argument.
struct StrOpts<'a> {
    flags: u16,
    expire: Option<&'a [u8]>,
}

impl StrOpts<'_> {
    fn has(&self, f: u16) -> bool {
        self.flags & f != 0
    }

    /// The expiry kind for [`expire_time`]: 0 EX, 1 PX, 2 EXAT, 3 PXAT.
    fn expire_kind(&self) -> u8 {
        if self.has(O_EX) {
            0
        } else if self.has(O_PX) {
            1
        } else if self.has(O_EXAT) {
            2
        } else {
            3
        }
    }
}

/// Parses SET's (`for_set`) or GETEX's options with Redis's exclusion rules: each option is refused
/// when a conflicting one came before (so `NX XX` and `EX 1 PX 1` are syntax errors), while repeating
/// the same option is allowed (`EX 1 EX 2`: the last wins). An expiry keyword must have a value.
fn parse_str_opts<'a>(args: &mut Args<'a>, for_set: bool) -> Result<StrOpts<'a>, CmdError> {
    let mut o = StrOpts {
        flags: 0,
        expire: None,
    };
    while let Some(opt) = args.next() {
        let kw = |s: &str| opt.eq_ignore_ascii_case(s.as_bytes());
        let has_next = !args.is_empty();
        let expire_bit = if kw("EX") {
            O_EX
        } else if kw("PX") {
            O_PX
        } else if kw("EXAT") {
            O_EXAT
        } else if kw("PXAT") {
            O_PXAT
        } else {
            0
        };
        if for_set && kw("NX") && !o.has(O_XX) {
            o.flags |= O_NX;
        } else if for_set && kw("XX") && !o.has(O_NX) {
            o.flags |= O_XX;
        } else if for_set && kw("GET") {
            o.flags |= O_GET;
        } else if for_set && kw("KEEPTTL") && !o.has(O_PERSIST | O_EXPIRE) {
            o.flags |= O_KEEPTTL;
        } else if !for_set && kw("PERSIST") && !o.has(O_EXPIRE | O_KEEPTTL) {
            o.flags |= O_PERSIST;
        } else if expire_bit != 0
            && has_next
            && !o.has(O_KEEPTTL | O_PERSIST | (O_EXPIRE & !expire_bit))
        {
            o.flags |= expire_bit;
            o.expire = args.next();
        } else {
            return Err(CmdError::Syntax);
        }
    }
    Ok(o)
}

/// `SET key value [NX | XX] [GET] [EX seconds | PX milliseconds | EXAT unix-time-seconds |
/// PXAT unix-time-milliseconds | KEEPTTL]` → `+OK`, nil when NX/XX prevented the write, or with GET the
/// old value (nil if there was none), whether or not the write happened.
fn set(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let value = args.next_bytes()?;
    let opts = parse_str_opts(args, true)?;
    set_generic(ctx, key, value, &opts, "set", Reply::Ok, Reply::Nil)
}

/// Redis's `setGenericCommand`: the expire value is checked first, then GET's type check, then NX/XX.
/// `ok` and `abort` are the replies for a write done and a write refused (without GET).
fn set_generic(
    ctx: &mut ExecCtx<'_>,
    key: &[u8],
    value: &[u8],
    opts: &StrOpts,
    cmd: &'static str,
    ok: Reply,
    abort: Reply,
) -> Result<Reply, CmdError> {
    let now = ctx.now;
    let ttl = match &opts.expire {
        Some(v) => Ttl::At(expire_time(opts.expire_kind(), v, now, cmd)?),
        None if opts.has(O_KEEPTTL) => Ttl::Keep,
        None => Ttl::Clear,
    };
    let mut db = ctx.db();
    let old = if opts.has(O_GET) {
        Some(get_str(db.get(key))?.map_or(Reply::Nil, str_reply))
    } else {
        None
    };
    if opts.has(O_NX | O_XX) {
        let exists = match &old {
            Some(o) => !matches!(o, Reply::Nil),
            None => db.exists(key),
        };
        if (opts.has(O_NX) && exists) || (opts.has(O_XX) && !exists) {
            return Ok(old.unwrap_or(abort));
        }
    }
    db.set(key, Value::from_bytes(value), ttl);
    Ok(old.unwrap_or(ok))
}

/// `SETNX key value` → 1 if the key was set, 0 if it already existed.
fn setnx(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let value = args.next_bytes()?;
    let opts = StrOpts {
        flags: O_NX,
        expire: None,
    };
    set_generic(
        ctx,
        key,
        value,
        &opts,
        "setnx",
        Reply::Int(1),
        Reply::Int(0),
    )
}

/// `SETEX key seconds value` → `+OK`.
fn setex(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    setex_generic(ctx, args, O_EX, "setex")
}

/// `PSETEX key milliseconds value` → `+OK`.
fn psetex(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    setex_generic(ctx, args, O_PX, "psetex")
}

fn setex_generic(
    ctx: &mut ExecCtx<'_>,
    args: &mut Args,
    unit: u16,
    cmd: &'static str,
) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let expire = args.next_bytes()?;
    let value = args.next_bytes()?;
    let opts = StrOpts {
        flags: unit,
        expire: Some(expire),
    };
    set_generic(ctx, key, value, &opts, cmd, Reply::Ok, Reply::Nil)
}

/// Converts an EX/PX/EXAT/PXAT argument (`kind` 0/1/2/3) to an absolute Unix time in milliseconds, with
/// Redis's `invalid expire time` error for non-positive values and overflow.
pub fn expire_time(kind: u8, v: &[u8], now_ms: u64, cmd: &'static str) -> Result<u64, CmdError> {
    let n = parse_i64(v).ok_or(CmdError::NotInteger)?;
    if n <= 0 {
        return Err(CmdError::InvalidExpire(cmd));
    }
    let ms = match kind {
        0 | 2 => n.checked_mul(1000).ok_or(CmdError::InvalidExpire(cmd))?,
        _ => n,
    };
    let at = match kind {
        0 | 1 => ms
            .checked_add(now_ms as i64)
            .ok_or(CmdError::InvalidExpire(cmd))?,
        _ => ms,
    };
    Ok(at as u64)
}

/// `MGET key [key ...]` → an array with each value, nil for missing keys and keys of other types.
fn mget(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let mut db = ctx.db();
    // Arguments are moved out, not cloned: a clone is an atomic refcount on the shared read buffer.
    let out = std::iter::from_fn(|| args.next())
        .map(|k| match db.get(k) {
            Some(Value::Str(s)) => str_reply(s),
            #[allow(unreachable_patterns)]
            _ => Reply::Nil,
        })
        .collect();
    Ok(Reply::Array(out))
}

/// `MSET key value [key value ...]` → `+OK`. Every key loses its TTL. Atomic: dispatch holds the
/// shards of all the keys.
fn mset(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let pairs = mset_pairs(args, "mset")?;
    let mut db = ctx.db();
    for kv in pairs.chunks_exact(2) {
        db.set(kv[0], Value::from_bytes(kv[1]), Ttl::Clear);
        // One `set` per pair, even for a key named twice (as Redis).
        db.notify(notify::STRING, "set", kv[0]);
    }
    Ok(Reply::Ok)
}

/// `MSETNX key value [key value ...]` → 1 if every key was set, 0 (and nothing set) if any existed.
fn msetnx(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let pairs = mset_pairs(args, "msetnx")?;
    let mut db = ctx.db();
    if pairs.chunks_exact(2).any(|kv| db.exists(kv[0])) {
        return Ok(Reply::Int(0));
    }
    for kv in pairs.chunks_exact(2) {
        db.set(kv[0], Value::from_bytes(kv[1]), Ttl::Clear);
        // One `set` per pair, even for a key named twice (as Redis).
        db.notify(notify::STRING, "set", kv[0]);
    }
    Ok(Reply::Int(1))
}

/// The key/value arguments of MSET/MSETNX; an odd count is Redis's arity error.
fn mset_pairs<'a>(
    args: &mut Args<'a>,
    cmd: &'static str,
) -> Result<super::args::Rest<'a>, CmdError> {
    if !args.remaining().is_multiple_of(2) {
        return Err(CmdError::WrongArity(cmd));
    }
    Ok(args.rest())
}

/// `GETSET key value` → the old value or nil; the key is set and loses its TTL.
fn getset(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let value = args.next_bytes()?;
    let mut db = ctx.db();
    let old = get_str(db.get(key))?.map_or(Reply::Nil, str_reply);
    db.set(key, Value::from_bytes(value), Ttl::Clear);
    Ok(old)
}

/// `GETDEL key` → the value (and the key is deleted), or nil.
fn getdel(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let mut db = ctx.db();
    let reply = match get_str(db.get(key))? {
        None => return Ok(Reply::Nil),
        Some(s) => str_reply(s),
    };
    db.remove(key);
    Ok(reply)
}

/// `GETEX key [EX seconds | PX milliseconds | EXAT unix-time-seconds | PXAT unix-time-milliseconds |
/// PERSIST]` → the value, or nil. Sets or removes the TTL; an EXAT/PXAT time already past deletes the key.
/// Option syntax is checked first, the expire value only once the key is known to exist (as Redis).
fn getex(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let opts = parse_str_opts(args, false)?;
    let now = ctx.now;
    let mut db = ctx.db();
    let reply = match get_str(db.get(key))? {
        None => return Ok(Reply::Nil),
        Some(s) => str_reply(s),
    };
    if let Some(v) = &opts.expire {
        let at = expire_time(opts.expire_kind(), v, now, "getex")?;
        // `set_expire` deletes the key when the time has already passed.
        db.set_expire(key, Some(at));
    } else if opts.has(O_PERSIST) && db.expire_at(key).flatten().is_some() {
        db.set_expire(key, None);
    }
    Ok(reply)
}

/// The `proto-max-bulk-len` limit, read before the keyspace is touched.
fn max_string_len(ctx: &ExecCtx<'_>) -> u64 {
    ctx.server.config.read().proto_max_bulk_len.max(0) as u64
}

/// Redis's `checkStringLength`: the length a write would reach, refused beyond `proto-max-bulk-len`.
fn check_string_length(max: u64, size: u64, append: u64) -> Result<(), CmdError> {
    match size.checked_add(append) {
        Some(total) if total <= max => Ok(()),
        _ => Err(CmdError::StringTooLong),
    }
}

/// `APPEND key value` → the length of the string after the append. Creates the key if absent.
fn append(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let tail = args.next_bytes()?;
    let max = max_string_len(ctx);
    let mut db = ctx.db();
    let result = match db.get_mut(key) {
        None => {
            db.set(key, Value::from_bytes(tail), Ttl::Keep);
            return Ok(Reply::Int(tail.len() as i64));
        }
        Some(Value::Str(s)) => {
            check_string_length(max, s.len() as u64, tail.len() as u64).map(|()| {
                let raw = s.make_raw();
                crate::storage::value::raw::extend(raw, tail);
                raw.len()
            })
        }
        #[allow(unreachable_patterns)]
        Some(_) => Err(CmdError::WrongType),
    };
    undirty_on_error(ctx, result).map(|n| Reply::Int(n as i64))
}

/// `get_mut` and `get_or_insert_with` count a write before the handler knows whether it will fail;
/// a failed command changed nothing, so it takes that count back.
fn undirty_on_error<T>(ctx: &mut ExecCtx<'_>, r: Result<T, CmdError>) -> Result<T, CmdError> {
    if r.is_err() {
        ctx.dirty = ctx.dirty.saturating_sub(1);
    }
    r
}

/// `STRLEN key` → the length of the value, 0 if the key is absent.
fn strlen(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let mut db = ctx.db();
    Ok(Reply::Int(
        get_str(db.get(key))?.map_or(0, |s| s.len() as i64),
    ))
}

/// `INCR key` → the value after adding 1.
fn incr(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    incr_decr(ctx, key, 1)
}

/// `DECR key` → the value after subtracting 1.
fn decr(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    incr_decr(ctx, key, -1)
}

/// `INCRBY key increment` → the value after adding `increment`.
fn incrby(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let by = args.next_i64()?;
    incr_decr(ctx, key, by)
}

/// `DECRBY key decrement` → the value after subtracting `decrement`.
fn decrby(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let by = args.next_i64()?;
    let neg = by.checked_neg().ok_or(CmdError::DecrementOverflow)?;
    incr_decr(ctx, key, neg)
}

/// The INCR family: one lookup, the integer updated in place (the TTL stays), the key created at 0
/// when absent. A text value is parsed once and becomes an integer.
fn incr_decr(ctx: &mut ExecCtx<'_>, key: &[u8], by: i64) -> Result<Reply, CmdError> {
    let mut db = ctx.db();
    let v = db.get_or_insert_with(key, || Value::from_int(0));
    let result = match v {
        Value::Str(s) => {
            let cur = match &*s {
                StrValue::Int(i) => Ok(*i),
                other => {
                    parse_i64(other.raw_bytes().unwrap_or_default()).ok_or(CmdError::NotInteger)
                }
            };
            cur.and_then(|c| c.checked_add(by).ok_or(CmdError::Overflow))
                .inspect(|&n| *s = StrValue::Int(n))
        }
        #[allow(unreachable_patterns)]
        _ => Err(CmdError::WrongType),
    };
    undirty_on_error(ctx, result).map(Reply::Int)
}

/// `INCRBYFLOAT key increment` → the new value as text. The sum is computed in x87 `long double` and
/// printed as Redis prints it (`%.17Lf`, trailing zeros trimmed); the TTL stays.
fn incrbyfloat(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let inc_arg = args.next_bytes()?;
    let mut db = ctx.db();
    // A write lookup, as Redis's `lookupKeyWrite`: no keyspace hit/miss counted.
    let cur = match get_str(db.peek(key).map(|e| &e.value))? {
        None => None,
        Some(StrValue::Int(i)) => Some(ld::Ld::from_i64(*i)),
        Some(other) => {
            Some(ld::parse(other.raw_bytes().unwrap_or_default()).ok_or(CmdError::NotFloat)?)
        }
    };
    let inc = ld::parse(inc_arg).ok_or(CmdError::NotFloat)?;
    let sum = ld::add(cur.unwrap_or(ld::Ld::ZERO), inc).ok_or(CmdError::NanOrInfinity)?;
    let text = ld::format_human(sum).into_bytes();
    let reply = Reply::bulk_copy(&text);
    // Redis stores the text as a string object (embstr or raw), never as an integer.
    let value = if text.len() <= crate::storage::value::EMBSTR_MAX {
        StrValue::Emb(crate::smallbytes::SmallBytes::new(&text))
    } else {
        StrValue::Raw(crate::storage::value::raw::from_slice(&text))
    };
    let ttl = if cur.is_some() { Ttl::Keep } else { Ttl::Clear };
    db.set(key, Value::Str(value), ttl);
    Ok(reply)
}

/// `GETRANGE key start end` (and its old name `SUBSTR`) → the bytes from `start` to `end` inclusive;
/// negative indices count from the end; an empty string when the range is empty or the key absent.
fn getrange(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let start = args.next_i64()?;
    let end = args.next_i64()?;
    let mut db = ctx.db();
    let Some(s) = get_str(db.get(key))? else {
        return Ok(Reply::bulk_str(""));
    };
    let mut buf = itoa::Buffer::new();
    let bytes: &[u8] = match s {
        StrValue::Int(i) => buf.format(*i).as_bytes(),
        other => other.raw_bytes().unwrap_or_default(),
    };
    Ok(match substr_range(bytes.len(), start, end) {
        Some((a, b)) => Reply::bulk_copy(&bytes[a..=b]),
        None => Reply::bulk_str(""),
    })
}

/// GETRANGE's index rules (Redis's `getrangeCommand`): the inclusive byte range, or `None` if empty.
fn substr_range(len: usize, mut start: i64, mut end: i64) -> Option<(usize, usize)> {
    if start < 0 && end < 0 && start > end {
        return None;
    }
    let l = len as i64;
    if start < 0 {
        start = l.wrapping_add(start);
    }
    if end < 0 {
        end = l.wrapping_add(end);
    }
    start = start.max(0);
    end = end.max(0);
    if end >= l {
        end = l - 1;
    }
    if start > end || len == 0 {
        return None;
    }
    Some((start as usize, end as usize))
}

/// `SETRANGE key offset value` → the length of the string after the write. Pads with zero bytes;
/// creates the key unless `value` is empty.
fn setrange(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let offset = args.next_i64()?;
    let value = args.next_bytes()?;
    if offset < 0 {
        return Err(CmdError::OffsetOutOfRange);
    }
    let offset = offset as u64;
    let max = max_string_len(ctx);
    let mut db = ctx.db();
    let result = match db.get_mut(key) {
        None if value.is_empty() => return Ok(Reply::Int(0)),
        None => {
            check_string_length(max, offset, value.len() as u64)?;
            // Within proto-max-bulk-len (an i64), so the end fits in usize.
            let mut raw = crate::storage::value::RawBytes::new();
            crate::storage::value::raw::zero_extend(&mut raw, offset as usize + value.len());
            raw[offset as usize..].copy_from_slice(value);
            let n = raw.len();
            db.set(key, Value::Str(StrValue::Raw(raw)), Ttl::Keep);
            return Ok(Reply::Int(n as i64));
        }
        Some(Value::Str(s)) if value.is_empty() => Ok(s.len()),
        Some(Value::Str(s)) => check_string_length(max, offset, value.len() as u64).map(|()| {
            let (start, end) = (offset as usize, offset as usize + value.len());
            let raw = s.make_raw();
            crate::storage::value::raw::zero_extend(raw, end);
            raw[start..end].copy_from_slice(value);
            raw.len()
        }),
        #[allow(unreachable_patterns)]
        Some(_) => Err(CmdError::WrongType),
    };
    let unchanged = value.is_empty();
    if unchanged && result.is_ok() {
        // Nothing written: take back the write `get_mut` counted.
        ctx.dirty = ctx.dirty.saturating_sub(1);
    }
    undirty_on_error(ctx, result).map(|n| Reply::Int(n as i64))
}

/// `LCS key1 key2 [LEN] [IDX] [MINMATCHLEN min-match-len] [WITHMATCHLEN]` → the longest common
/// subsequence of the two strings (missing keys count as empty); with LEN its length; with IDX a map
/// `matches` (ranges in both strings, last match first, optionally with their lengths) and `len`.
fn lcs(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let ka = args.next_bytes()?;
    let kb = args.next_bytes()?;
    let mut db = ctx.db();
    let a = get_str(db.get(ka))
        .map_err(|_| CmdError::LcsNotString)?
        .map(|s| s.as_bytes().into_owned());
    let b = get_str(db.get(kb))
        .map_err(|_| CmdError::LcsNotString)?
        .map(|s| s.as_bytes().into_owned());
    let (a, b) = (a.unwrap_or_default(), b.unwrap_or_default());
    let (mut getlen, mut getidx, mut withmatchlen, mut minmatchlen) = (false, false, false, 0i64);
    while let Some(opt) = args.next() {
        if opt.eq_ignore_ascii_case(b"IDX") {
            getidx = true;
        } else if opt.eq_ignore_ascii_case(b"LEN") {
            getlen = true;
        } else if opt.eq_ignore_ascii_case(b"WITHMATCHLEN") {
            withmatchlen = true;
        } else if opt.eq_ignore_ascii_case(b"MINMATCHLEN") && !args.is_empty() {
            minmatchlen = args.next_i64()?.max(0);
        } else {
            return Err(CmdError::Syntax);
        }
    }
    if getidx && getlen {
        return Err(CmdError::LcsIdxAndLen);
    }
    if a.len() >= u32::MAX as usize - 1 || b.len() >= u32::MAX as usize - 1 {
        return Err(CmdError::LcsTooLong);
    }
    let (alen, blen) = (a.len(), b.len());
    let cells = (alen + 1) as u64 * (blen + 1) as u64;
    let max = ctx.server.config.read().proto_max_bulk_len.max(0) as u64;
    if cells.saturating_mul(4) > max {
        return Err(CmdError::LcsNoMemory);
    }
    let mut dp: Vec<u32> = Vec::new();
    dp.try_reserve_exact(cells as usize)
        .map_err(|_| CmdError::LcsNoMemory)?;
    dp.resize(cells as usize, 0);
    let w = blen + 1;
    for i in 1..=alen {
        for j in 1..=blen {
            dp[i * w + j] = if a[i - 1] == b[j - 1] {
                dp[(i - 1) * w + j - 1] + 1
            } else {
                dp[(i - 1) * w + j].max(dp[i * w + j - 1])
            };
        }
    }
    let total = dp[alen * w + blen];
    if getlen {
        return Ok(Reply::Int(total as i64));
    }
    // Walk back from the end, collecting the LCS and (for IDX) the ranges, as Redis's lcsCommand.
    let mut result = vec![0u8; total as usize];
    let mut idx = total as usize;
    let mut matches = Vec::new();
    let (mut i, mut j) = (alen, blen);
    let unset = alen;
    let (mut a_start, mut a_end, mut b_start, mut b_end) = (unset, 0usize, 0usize, 0usize);
    while i > 0 && j > 0 {
        let mut emit = false;
        if a[i - 1] == b[j - 1] {
            result[idx - 1] = a[i - 1];
            if a_start == unset {
                (a_start, a_end, b_start, b_end) = (i - 1, i - 1, j - 1, j - 1);
            } else if a_start == i && b_start == j {
                a_start -= 1;
                b_start -= 1;
            } else {
                emit = true;
            }
            if a_start == 0 || b_start == 0 {
                emit = true;
            }
            idx -= 1;
            i -= 1;
            j -= 1;
        } else {
            if dp[(i - 1) * w + j] > dp[i * w + j - 1] {
                i -= 1;
            } else {
                j -= 1;
            }
            if a_start != unset {
                emit = true;
            }
        }
        if emit {
            let match_len = (a_end - a_start + 1) as i64;
            if getidx && (minmatchlen == 0 || match_len >= minmatchlen) {
                let mut m = vec![
                    Reply::Array(vec![Reply::Int(a_start as i64), Reply::Int(a_end as i64)]),
                    Reply::Array(vec![Reply::Int(b_start as i64), Reply::Int(b_end as i64)]),
                ];
                if withmatchlen {
                    m.push(Reply::Int(match_len));
                }
                matches.push(Reply::Array(m));
            }
            a_start = unset;
        }
    }
    if getidx {
        return Ok(Reply::Map(vec![
            (Reply::bulk_str("matches"), Reply::Array(matches)),
            (Reply::bulk_str("len"), Reply::Int(total as i64)),
        ]));
    }
    Ok(Reply::Bulk(Bytes::from(result)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn getrange_indices() {
        assert_eq!(substr_range(5, 0, -1), Some((0, 4)));
        assert_eq!(substr_range(5, -3, -1), Some((2, 4)));
        assert_eq!(substr_range(5, -1, -3), None);
        assert_eq!(substr_range(5, 3, 1), None);
        assert_eq!(substr_range(5, 10, 20), None);
        assert_eq!(substr_range(5, -100, 100), Some((0, 4)));
        assert_eq!(substr_range(5, i64::MIN, i64::MAX), Some((0, 4)));
        assert_eq!(substr_range(0, 0, -1), None);
        assert_eq!(substr_range(5, 0, i64::MIN), Some((0, 0)));
    }
}
