//! Stream commands: XADD XLEN XRANGE XREVRANGE XDEL XTRIM XSETID XREAD XREADGROUP XACK XPENDING XCLAIM
//! XAUTOCLAIM, and the XGROUP and XINFO containers.
//!
//! Arguments are validated in the order Redis's `t_stream.c` validates them (options before the key
//! lookup where Redis does so), so the same bad request gets the same error. Unlike other aggregates, a
//! stream that becomes empty keeps its key (its last ID and groups must survive), as in Redis.
//!
//! XREAD and XREADGROUP with BLOCK set `ctx.block` when nothing can be served; the connection runs them
//! again when a write touches one of their keys. `$` must keep meaning "the last ID when the client
//! blocked", so XREAD rewrites its request with the resolved IDs (`BlockOn::argv_override`).
//! XREADGROUP only touches the keyspace for writing when it delivers something or creates a consumer,
//! so a blocked client re-running it does not count as a write (which would wake the other waiters).

use crate::storage::notify;
use bytes::Bytes;

use super::table::{acl, flags::*, ks, CommandSpec, Docs, Group, KeySpec};
use super::{Args, BlockOn, ExecCtx};
use crate::error::CmdError;
use crate::protocol::{parse_i64, Protocol, Reply};
use crate::storage::types::stream::{ConsumerGroup, Fields, Stream, StreamId, Trim};
use crate::storage::{Db, Value};

mod admin;

use admin::*;

const S: u64 = acl::STREAM;

const fn docs(summary: &'static str, since: &'static str, complexity: &'static str) -> Docs {
    Docs {
        summary,
        since,
        complexity,
    }
}

const K_RW_UPDATE: &[KeySpec] = &[KeySpec::one(1, ks::RW | ks::UPDATE)];
const K_RW_DELETE: &[KeySpec] = &[KeySpec::one(1, ks::RW | ks::DELETE)];
const K_RO_ACCESS: &[KeySpec] = &[KeySpec::one(1, ks::RO | ks::ACCESS)];
const K2_RW_DELETE: &[KeySpec] = &[KeySpec::one(2, ks::RW | ks::DELETE)];
const K2_RW_INSERT: &[KeySpec] = &[KeySpec::one(2, ks::RW | ks::INSERT)];
const K2_RW_UPDATE: &[KeySpec] = &[KeySpec::one(2, ks::RW | ks::UPDATE)];
const K2_RO_ACCESS: &[KeySpec] = &[KeySpec::one(2, ks::RO | ks::ACCESS)];
const fn streams_keys(startfrom: i32) -> KeySpec {
    KeySpec {
        flags: ks::RO | ks::ACCESS,
        begin: super::table::BeginSearch::Keyword {
            keyword: "STREAMS",
            startfrom,
        },
        find: super::table::FindKeys::Range {
            lastkey: -1,
            keystep: 1,
            limit: 2,
        },
    }
}
const K_XREAD: &[KeySpec] = &[streams_keys(1)];
const K_XREADGROUP: &[KeySpec] = &[streams_keys(4)];
const NONDET: &[&str] = &["nondeterministic_output"];

#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec { name: "xadd", group: Group::Stream, arity: -5, flags: WRITE | DENYOOM | FAST, acl: S, keys: K_RW_UPDATE, tips: NONDET, docs: docs("Appends a new entry to a stream", "5.0.0", "O(1) when adding a new entry, O(N) when trimming where N being the number of entries evicted."), event: Some((notify::STREAM, "xadd")), handler: xadd, ..CommandSpec::DEFAULT },
    CommandSpec { name: "xlen", group: Group::Stream, arity: 2, flags: READONLY | FAST, acl: S, keys: &[KeySpec::one(1, ks::RO)], docs: docs("Return the number of entries in a stream", "5.0.0", "O(1)"), handler: xlen, ..CommandSpec::DEFAULT },
    CommandSpec { name: "xrange", group: Group::Stream, arity: -4, flags: READONLY, acl: S, keys: K_RO_ACCESS, docs: docs("Return a range of elements in a stream, with IDs matching the specified IDs interval", "5.0.0", "O(N) with N being the number of elements being returned. If N is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1)."), handler: xrange, ..CommandSpec::DEFAULT },
    CommandSpec { name: "xrevrange", group: Group::Stream, arity: -4, flags: READONLY, acl: S, keys: K_RO_ACCESS, docs: docs("Return a range of elements in a stream, with IDs matching the specified IDs interval, in reverse order (from greater to smaller IDs) compared to XRANGE", "5.0.0", "O(N) with N being the number of elements returned. If N is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1)."), handler: xrevrange, ..CommandSpec::DEFAULT },
    CommandSpec { name: "xdel", group: Group::Stream, arity: -3, flags: WRITE | FAST, acl: S, keys: K_RW_DELETE, docs: docs("Removes the specified entries from the stream. Returns the number of items actually deleted, that may be different from the number of IDs passed in case certain IDs do not exist.", "5.0.0", "O(1) for each single item to delete in the stream, regardless of the stream size."), event: Some((notify::STREAM, "xdel")), handler: xdel, ..CommandSpec::DEFAULT },
    CommandSpec { name: "xtrim", group: Group::Stream, arity: -4, flags: WRITE, acl: S, keys: K_RW_DELETE, tips: NONDET, docs: docs("Trims the stream to (approximately if '~' is passed) a certain size", "5.0.0", "O(N), with N being the number of evicted entries. Constant times are very small however, since entries are organized in macro nodes containing multiple entries that can be released with a single deallocation."), event: Some((notify::STREAM, "xtrim")), handler: xtrim, ..CommandSpec::DEFAULT },
    CommandSpec { name: "xsetid", group: Group::Stream, arity: -3, flags: WRITE | DENYOOM | FAST, acl: S, keys: K_RW_UPDATE, docs: docs("An internal command for replicating stream values", "5.0.0", "O(1)"), event: Some((notify::STREAM, "xsetid")), handler: xsetid, ..CommandSpec::DEFAULT },
    CommandSpec { name: "xread", group: Group::Stream, arity: -4, flags: READONLY | BLOCKING | MOVABLEKEYS, acl: S | acl::BLOCKING, keys: K_XREAD, docs: docs("Return never seen elements in multiple streams, with IDs greater than the ones reported by the caller for each stream. Can block.", "5.0.0", "For each stream mentioned: O(N) with N being the number of elements being returned, it means that XREAD-ing with a fixed COUNT is O(1). Note that when the BLOCK option is used, XADD will pay O(M) time in order to serve the M clients blocked on the stream getting new data."), handler: xread, ..CommandSpec::DEFAULT },
    CommandSpec { name: "xreadgroup", group: Group::Stream, arity: -7, flags: WRITE | BLOCKING | MOVABLEKEYS, acl: S | acl::BLOCKING, keys: K_XREADGROUP, docs: docs("Return new entries from a stream using a consumer group, or access the history of the pending entries for a given consumer. Can block.", "5.0.0", "For each stream mentioned: O(M) with M being the number of elements returned. If M is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1). On the other side when XREADGROUP blocks, XADD will pay the O(N) time in order to serve the N clients blocked on the stream getting new data."), handler: xreadgroup, ..CommandSpec::DEFAULT },
    CommandSpec { name: "xack", group: Group::Stream, arity: -4, flags: WRITE | FAST, acl: S, keys: K_RW_UPDATE, docs: docs("Marks a pending message as correctly processed, effectively removing it from the pending entries list of the consumer group. Return value of the command is the number of messages successfully acknowledged, that is, the IDs we were actually able to resolve in the PEL.", "5.0.0", "O(1) for each message ID processed."), handler: xack, ..CommandSpec::DEFAULT },
    CommandSpec { name: "xpending", group: Group::Stream, arity: -3, flags: READONLY, acl: S, keys: K_RO_ACCESS, tips: NONDET, docs: docs("Return information and entries from a stream consumer group pending entries list, that are messages fetched but never acknowledged.", "5.0.0", "O(N) with N being the number of elements returned, so asking for a small fixed number of entries per call is O(1). O(M), where M is the total number of entries scanned when used with the IDLE filter. When the command returns just the summary and the list of consumers is small, it runs in O(1) time; otherwise, an additional O(N) time for iterating every consumer."), handler: xpending, ..CommandSpec::DEFAULT },
    CommandSpec { name: "xclaim", group: Group::Stream, arity: -6, flags: WRITE | FAST, acl: S, keys: K_RW_UPDATE, tips: NONDET, docs: docs("Changes (or acquires) ownership of a message in a consumer group, as if the message was delivered to the specified consumer.", "5.0.0", "O(log N) with N being the number of messages in the PEL of the consumer group."), handler: xclaim, ..CommandSpec::DEFAULT },
    CommandSpec { name: "xautoclaim", group: Group::Stream, arity: -6, flags: WRITE | FAST, acl: S, keys: K_RW_DELETE, tips: NONDET, docs: docs("Changes (or acquires) ownership of messages in a consumer group, as if the messages were delivered to the specified consumer.", "6.2.0", "O(1) if COUNT is small."), handler: xautoclaim, ..CommandSpec::DEFAULT },
    CommandSpec { name: "xgroup", group: Group::Stream, arity: -2, docs: docs("A container for consumer groups commands", "5.0.0", "Depends on subcommand."), subcommands: XGROUP, ..CommandSpec::DEFAULT },
    CommandSpec { name: "xinfo", group: Group::Stream, arity: -2, docs: docs("A container for stream introspection commands", "5.0.0", "Depends on subcommand."), subcommands: XINFO, ..CommandSpec::DEFAULT },
];

#[rustfmt::skip]
static XGROUP: &[CommandSpec] = &[
    CommandSpec { name: "xgroup|create", group: Group::Stream, arity: -5, flags: WRITE | DENYOOM, acl: S, keys: K2_RW_INSERT, docs: docs("Create a consumer group.", "5.0.0", "O(1)"), event: Some((notify::STREAM, "xgroup-create")), handler: xgroup_create, ..CommandSpec::DEFAULT },
    CommandSpec { name: "xgroup|setid", group: Group::Stream, arity: -5, flags: WRITE, acl: S, keys: K2_RW_UPDATE, docs: docs("Set a consumer group to an arbitrary last delivered ID value.", "5.0.0", "O(1)"), event: Some((notify::STREAM, "xgroup-setid")), handler: xgroup_setid, ..CommandSpec::DEFAULT },
    CommandSpec { name: "xgroup|destroy", group: Group::Stream, arity: 4, flags: WRITE, acl: S, keys: K2_RW_DELETE, docs: docs("Destroy a consumer group.", "5.0.0", "O(N) where N is the number of entries in the group's pending entries list (PEL)."), event: Some((notify::STREAM, "xgroup-destroy")), handler: xgroup_destroy, ..CommandSpec::DEFAULT },
    CommandSpec { name: "xgroup|createconsumer", group: Group::Stream, arity: 5, flags: WRITE | DENYOOM, acl: S, keys: K2_RW_INSERT, docs: docs("Create a consumer in a consumer group.", "6.2.0", "O(1)"), handler: xgroup_createconsumer, ..CommandSpec::DEFAULT },
    CommandSpec { name: "xgroup|delconsumer", group: Group::Stream, arity: 5, flags: WRITE, acl: S, keys: K2_RW_DELETE, docs: docs("Delete a consumer from a consumer group.", "5.0.0", "O(1)"), event: Some((notify::STREAM, "xgroup-delconsumer")), handler: xgroup_delconsumer, ..CommandSpec::DEFAULT },
    CommandSpec { name: "xgroup|help", group: Group::Stream, arity: 2, flags: LOADING | STALE, acl: S, docs: docs("Show helpful text about the different subcommands", "5.0.0", "O(1)"), handler: xgroup_help, ..CommandSpec::DEFAULT },
];

#[rustfmt::skip]
static XINFO: &[CommandSpec] = &[
    CommandSpec { name: "xinfo|stream", group: Group::Stream, arity: -3, flags: READONLY, acl: S, keys: K2_RO_ACCESS, docs: docs("Get information about a stream", "5.0.0", "O(1)"), handler: xinfo_stream, ..CommandSpec::DEFAULT },
    CommandSpec { name: "xinfo|groups", group: Group::Stream, arity: 3, flags: READONLY, acl: S, keys: K2_RO_ACCESS, docs: docs("List the consumer groups of a stream", "5.0.0", "O(1)"), handler: xinfo_groups, ..CommandSpec::DEFAULT },
    CommandSpec { name: "xinfo|consumers", group: Group::Stream, arity: 4, flags: READONLY, acl: S, keys: K2_RO_ACCESS, tips: NONDET, docs: docs("List the consumers in a consumer group", "5.0.0", "O(1)"), handler: xinfo_consumers, ..CommandSpec::DEFAULT },
    CommandSpec { name: "xinfo|help", group: Group::Stream, arity: 2, flags: LOADING | STALE, acl: S, docs: docs("Show helpful text about the different subcommands", "5.0.0", "O(1)"), handler: xinfo_help, ..CommandSpec::DEFAULT },
];

// ---------------------------------------------------------------------------------------------------
// Helpers

/// A stream for reading: `Ok(None)` if the key is absent, WRONGTYPE if it holds another type.
fn stream_ref(v: Option<&Value>) -> Result<Option<&Stream>, CmdError> {
    match v {
        None => Ok(None),
        Some(Value::Stream(s)) => Ok(Some(s)),
        Some(_) => Err(CmdError::WrongType),
    }
}

/// An existing stream for modification.
fn stream_mut<'d>(db: &'d mut Db<'_, '_>, key: &[u8]) -> Result<Option<&'d mut Stream>, CmdError> {
    match db.peek(key).map(|e| matches!(e.value, Value::Stream(_))) {
        None => Ok(None),
        Some(false) => Err(CmdError::WrongType),
        Some(true) => match db.get_mut(key) {
            Some(Value::Stream(s)) => Ok(Some(s)),
            _ => Ok(None),
        },
    }
}

/// Redis's `string2ull`: decimal digits (a leading `+` or blanks tolerated as `strtoull` does).
fn parse_u64(b: &[u8]) -> Option<u64> {
    let t = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .map_or(&b[b.len()..], |i| &b[i..]);
    let t = t.strip_prefix(b"+").unwrap_or(t);
    if t.is_empty() || !t.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(t).ok()?.parse().ok()
}

/// Parses `ms[-seq]` (`-` and `+` too unless `strict`). A missing sequence is `missing_seq`. With
/// `allow_auto_seq`, `ms-*` parses with `seq_given = false`. Returns the ID and whether the sequence
/// was given.
fn parse_id_full(
    b: &[u8],
    missing_seq: u64,
    strict: bool,
    allow_auto_seq: bool,
) -> Result<(StreamId, bool), CmdError> {
    if b.len() > 127 {
        return Err(CmdError::StreamIdInvalid);
    }
    if b == b"-" || b == b"+" {
        if strict {
            return Err(CmdError::StreamIdInvalid);
        }
        return Ok((
            if b == b"-" {
                StreamId::MIN
            } else {
                StreamId::MAX
            },
            true,
        ));
    }
    let (ms, seq) = match b.iter().position(|&c| c == b'-') {
        Some(i) => (&b[..i], Some(&b[i + 1..])),
        None => (b, None),
    };
    let ms = parse_u64(ms).ok_or(CmdError::StreamIdInvalid)?;
    match seq {
        None => Ok((StreamId::new(ms, missing_seq), true)),
        Some(b"*") if allow_auto_seq => Ok((StreamId::new(ms, 0), false)),
        Some(s) => Ok((
            StreamId::new(ms, parse_u64(s).ok_or(CmdError::StreamIdInvalid)?),
            true,
        )),
    }
}

fn parse_id(b: &[u8], missing_seq: u64, strict: bool) -> Result<StreamId, CmdError> {
    parse_id_full(b, missing_seq, strict, false).map(|(id, _)| id)
}

/// A strict ID (no `-`/`+`), sequence 0 when missing.
fn strict_id(b: &[u8]) -> Result<StreamId, CmdError> {
    parse_id(b, 0, true)
}

/// An interval bound: `(id` is exclusive (strict syntax), else `-`, `+` or an ID.
fn parse_interval(b: &[u8], missing_seq: u64) -> Result<(StreamId, bool), CmdError> {
    if b.len() > 1 && b[0] == b'(' {
        Ok((parse_id(&b[1..], missing_seq, true)?, true))
    } else {
        Ok((parse_id(b, missing_seq, false)?, false))
    }
}

/// The inclusive start of an interval (`(id` moves one up).
fn interval_start(b: &[u8]) -> Result<StreamId, CmdError> {
    let (id, ex) = parse_interval(b, 0)?;
    if ex {
        id.next().ok_or(CmdError::StreamInvalidStart)
    } else {
        Ok(id)
    }
}

/// The inclusive end of an interval (`(id` moves one down).
fn interval_end(b: &[u8]) -> Result<StreamId, CmdError> {
    let (id, ex) = parse_interval(b, u64::MAX)?;
    if ex {
        id.prev().ok_or(CmdError::StreamInvalidEnd)
    } else {
        Ok(id)
    }
}

fn id_reply(id: StreamId) -> Reply {
    Reply::bulk_string(id.to_string())
}

fn fields_reply(f: Fields<'_>) -> Reply {
    Reply::Array(f.items().map(Reply::bulk_copy).collect())
}

/// `[id, [field, value, ...]]`.
fn entry_reply(id: StreamId, f: Fields<'_>) -> Reply {
    Reply::Array(vec![id_reply(id), fields_reply(f)])
}

/// One entry as XCLAIM/XAUTOCLAIM send it: the entry, or nil if it is gone.
fn entry_or_nil(s: &Stream, id: StreamId) -> Reply {
    match s.get(id) {
        Some(f) => entry_reply(id, f),
        None => Reply::Nil,
    }
}

fn int(n: u64) -> Reply {
    Reply::Int(i64::try_from(n).unwrap_or(i64::MAX))
}

fn kv(k: &'static str, v: Reply) -> (Reply, Reply) {
    (Reply::bulk_str(k), v)
}

fn nogroup(key: &[u8], group: &[u8]) -> CmdError {
    CmdError::NoGroup(format!(
        "No such key '{}' or consumer group '{}'",
        String::from_utf8_lossy(key),
        String::from_utf8_lossy(group)
    ))
}

fn nogroup_for_key(key: &[u8], group: &[u8]) -> CmdError {
    CmdError::NoGroup(format!(
        "No such consumer group '{}' for key name '{}'",
        String::from_utf8_lossy(group),
        String::from_utf8_lossy(key)
    ))
}

// ---------------------------------------------------------------------------------------------------
// XADD / XTRIM

/// The options XADD and XTRIM share (Redis's `streamParseAddOrTrimArgsOrReply`).
struct AddTrim {
    trim: Option<Trim>,
    approx: bool,
    limit: u64,
    nomkstream: bool,
    /// XADD's ID: `None` for `*`, else the ID and whether its sequence was given.
    id: Option<(StreamId, bool)>,
}

fn parse_add_trim(args: &mut Args, xadd: bool) -> Result<AddTrim, CmdError> {
    let mut o = AddTrim {
        trim: None,
        approx: false,
        limit: 0,
        nomkstream: false,
        id: None,
    };
    let mut limit_given = false;
    while let Some(opt) = args.peek() {
        let more = args.remaining() - 1;
        if xadd && opt == b"*" {
            args.next();
            break;
        } else if (opt.eq_ignore_ascii_case(b"MAXLEN") || opt.eq_ignore_ascii_case(b"MINID"))
            && more > 0
        {
            let maxlen = opt.eq_ignore_ascii_case(b"MAXLEN");
            if o.trim.is_some() {
                return Err(CmdError::StreamTrimBoth);
            }
            args.next();
            o.approx = false;
            if more >= 2 {
                match args.peek() {
                    Some(b"~") => {
                        o.approx = true;
                        args.next();
                    }
                    Some(b"=") => {
                        args.next();
                    }
                    _ => {}
                }
            }
            if maxlen {
                let n = args.next_i64()?;
                if n < 0 {
                    return Err(CmdError::StreamMaxlenNegative);
                }
                o.trim = Some(Trim::MaxLen(n as u64));
            } else {
                o.trim = Some(Trim::MinId(strict_id(args.next_bytes()?)?));
            }
        } else if opt.eq_ignore_ascii_case(b"LIMIT") && more > 0 {
            args.next();
            let n = args.next_i64()?;
            if n < 0 {
                return Err(CmdError::StreamLimitNegative);
            }
            o.limit = n as u64;
            limit_given = true;
        } else if xadd && opt.eq_ignore_ascii_case(b"NOMKSTREAM") {
            args.next();
            o.nomkstream = true;
        } else if xadd {
            let b = args.next_bytes()?;
            o.id = Some(parse_id_full(b, 0, true, true)?);
            break;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    if o.limit != 0 && o.trim.is_none() {
        return Err(CmdError::StreamLimitNoStrategy);
    }
    if !xadd && o.trim.is_none() {
        return Err(CmdError::XtrimNoStrategy);
    }
    if limit_given {
        if !o.approx {
            return Err(CmdError::StreamLimitNoApprox);
        }
    } else if o.approx {
        o.limit = 100 * u64::from(crate::storage::types::stream::BLOCK_MAX_ENTRIES);
    } else {
        o.limit = 0;
    }
    Ok(o)
}

/// `XADD key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]] *|id field value [field value
/// ...]` → the new entry's ID, or nil with NOMKSTREAM when the key does not exist.
fn xadd(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let o = parse_add_trim(args, true)?;
    let rem = args.remaining();
    if rem < 2 || rem % 2 == 1 {
        return Err(CmdError::WrongArity("xadd"));
    }
    if let Some((id, true)) = o.id {
        if id.is_zero() {
            return Err(CmdError::XaddIdZero);
        }
    }
    let items = args.rest();
    let now = ctx.now;
    let mut db = ctx.db();
    let s = if o.nomkstream {
        match stream_mut(&mut db, key)? {
            Some(s) => s,
            None => return Ok(Reply::Nil),
        }
    } else {
        match db.get_or_create(
            key,
            |v| matches!(v, Value::Stream(_)),
            || Value::Stream(Box::default()),
        ) {
            Ok(Value::Stream(s)) => s,
            _ => return Err(CmdError::WrongType),
        }
    };
    if s.last_id == StreamId::MAX {
        return Err(CmdError::StreamExhausted);
    }
    let id = match o.id {
        Some((id, true)) => id,
        Some((id, false)) => {
            if s.last_id.ms == id.ms {
                if s.last_id.seq == u64::MAX {
                    return Err(CmdError::XaddIdTooSmall);
                }
                StreamId::new(id.ms, s.last_id.seq + 1)
            } else {
                id
            }
        }
        None => {
            if now > s.last_id.ms {
                StreamId::new(now, 0)
            } else {
                s.last_id.next().ok_or(CmdError::StreamExhausted)?
            }
        }
    };
    if id <= s.last_id {
        return Err(CmdError::XaddIdTooSmall);
    }
    let refs: Vec<&[u8]> = items.iter().map(|b| &b[..]).collect();
    s.append(id, &refs);
    if let Some(t) = o.trim {
        // As Redis: `xtrim` follows `xadd` when the trim removed entries.
        if s.trim(t, o.approx, o.limit) > 0 {
            db.notify(notify::STREAM, "xtrim", key);
        }
    }
    Ok(id_reply(id))
}

/// `XTRIM key MAXLEN|MINID [=|~] threshold [LIMIT count]` → the number of entries removed.
fn xtrim(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let o = parse_add_trim(args, false)?;
    let dirty = ctx.dirty;
    let mut db = ctx.db();
    let Some(s) = stream_mut(&mut db, key)? else {
        return Ok(Reply::Int(0));
    };
    let Some(t) = o.trim else {
        return Err(CmdError::XtrimNoStrategy);
    };
    let removed = s.trim(t, o.approx, o.limit);
    if removed == 0 {
        // Nothing changed: no write counted, no event (as Redis).
        ctx.dirty = dirty;
    }
    Ok(int(removed))
}

/// `XLEN key` → the number of entries (0 if no key).
fn xlen(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let mut db = ctx.db();
    Ok(int(stream_ref(db.get(key))?.map_or(0, |s| s.len())))
}

// ---------------------------------------------------------------------------------------------------
// XRANGE / XREVRANGE / XDEL / XSETID

fn range_cmd(ctx: &mut ExecCtx<'_>, args: &mut Args, rev: bool) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let a = args.next_bytes()?;
    let b = args.next_bytes()?;
    let (start, end) = if rev { (b, a) } else { (a, b) };
    let start = interval_start(start)?;
    let end = interval_end(end)?;
    let mut count: i64 = -1;
    while !args.is_empty() {
        if args.remaining() >= 2 && args.eat("COUNT") {
            count = args.next_i64()?.max(0);
        } else {
            return Err(CmdError::Syntax);
        }
    }
    let mut db = ctx.db();
    let Some(s) = stream_ref(db.get(key))? else {
        return Ok(Reply::Array(vec![]));
    };
    if count == 0 {
        return Ok(Reply::NilArray);
    }
    let take = if count < 0 {
        usize::MAX
    } else {
        count as usize
    };
    Ok(Reply::Array(
        s.range(start, end, rev)
            .take(take)
            .map(|(id, f)| entry_reply(id, f))
            .collect(),
    ))
}

/// `XRANGE key start end [COUNT count]` → `[[id, [field, value, ...]], ...]`; `(id` excludes the bound.
fn xrange(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    range_cmd(ctx, args, false)
}

/// `XREVRANGE key end start [COUNT count]` → entries from `end` down to `start`.
fn xrevrange(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    range_cmd(ctx, args, true)
}

/// `XDEL key id [id ...]` → the number of entries deleted.
fn xdel(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let raw = args.rest();
    let dirty = ctx.dirty;
    let mut db = ctx.db();
    let Some(s) = stream_mut(&mut db, key)? else {
        return Ok(Reply::Int(0));
    };
    let ids = raw
        .iter()
        .map(|b| strict_id(b))
        .collect::<Result<Vec<_>, _>>()?;
    let mut deleted = 0;
    for id in ids {
        if s.remove(id) {
            if id > s.max_deleted_id {
                s.max_deleted_id = id;
            }
            deleted += 1;
        }
    }
    if deleted == 0 {
        // Nothing changed: no write counted, no event (as Redis).
        ctx.dirty = dirty;
    }
    Ok(Reply::Int(deleted))
}

/// `XSETID key last-id [ENTRIESADDED entries-added] [MAXDELETEDID max-deleted-id]` → OK.
fn xsetid(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let id = strict_id(args.next_bytes()?)?;
    let mut entries_added: Option<u64> = None;
    let mut max_del = StreamId::MIN;
    while !args.is_empty() {
        let more = args.remaining() - 1;
        if more > 0 && args.eat("ENTRIESADDED") {
            let n = args.next_i64()?;
            if n < 0 {
                return Err(CmdError::XsetidEntriesAddedNegative);
            }
            entries_added = Some(n as u64);
        } else if more > 0 && args.eat("MAXDELETEDID") {
            max_del = strict_id(args.next_bytes()?)?;
            if id < max_del {
                return Err(CmdError::XsetidBelowGivenMaxDeleted);
            }
        } else {
            return Err(CmdError::Syntax);
        }
    }
    let mut db = ctx.db();
    let Some(s) = stream_mut(&mut db, key)? else {
        return Err(CmdError::NoSuchKey);
    };
    if !s.is_empty() {
        if let Some((top, _)) = s.last_entry() {
            if id < top {
                return Err(CmdError::XsetidBelowTop);
            }
        }
        if let Some(n) = entries_added {
            if s.len() > n {
                return Err(CmdError::XsetidEntriesAddedBelowLength);
            }
        }
    }
    s.last_id = id;
    if let Some(n) = entries_added {
        s.entries_added = n;
    }
    if !max_del.is_zero() {
        s.max_deleted_id = max_del;
    }
    Ok(Reply::Ok)
}

// ---------------------------------------------------------------------------------------------------
// XREAD / XREADGROUP

/// `XREAD [COUNT count] [BLOCK ms] STREAMS key [key ...] id [id ...]` → per key with new entries,
/// `key → entries` (a map in RESP3, `[key, entries]` pairs in RESP2); nil if none.
fn xread(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    read_generic(ctx, args, false)
}

/// `XREADGROUP GROUP group consumer [COUNT count] [BLOCK ms] [NOACK] STREAMS key [key ...] id
/// [id ...]` → as XREAD; `>` delivers new entries to the consumer (adding them to the PELs unless
/// NOACK), another ID replays the consumer's own pending entries after it.
fn xreadgroup(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    read_generic(ctx, args, true)
}

fn read_generic(
    ctx: &mut ExecCtx<'_>,
    args: &mut Args,
    group_cmd: bool,
) -> Result<Reply, CmdError> {
    let argv = args.argv();
    let argc = argv.len();
    let mut timeout: Option<u64> = None;
    let mut blocking = false;
    let mut count: usize = 0;
    let mut streams_arg = 0;
    let mut n = 0;
    let mut group: Option<(Bytes, Bytes)> = None;
    let mut noack = false;
    let mut i = 1;
    while i < argc {
        let more = argc - i - 1;
        let o = &argv[i][..];
        if o.eq_ignore_ascii_case(b"BLOCK") && more > 0 {
            i += 1;
            let t = parse_i64(&argv[i]).ok_or(CmdError::TimeoutNotInteger)?;
            if t < 0 {
                return Err(CmdError::TimeoutNegative);
            }
            if t > 0 && t > i64::MAX - ctx.now as i64 {
                return Err(CmdError::TimeoutOutOfRange);
            }
            blocking = true;
            timeout = (t > 0).then_some(t as u64);
        } else if o.eq_ignore_ascii_case(b"COUNT") && more > 0 {
            i += 1;
            let c = parse_i64(&argv[i]).ok_or(CmdError::NotInteger)?;
            count = c.max(0) as usize;
        } else if o.eq_ignore_ascii_case(b"STREAMS") && more > 0 {
            streams_arg = i + 1;
            let total = argc - streams_arg;
            if !total.is_multiple_of(2) {
                return Err(if group_cmd {
                    CmdError::XreadUnbalanced("XREADGROUP", '>')
                } else {
                    CmdError::XreadUnbalanced("XREAD", '$')
                });
            }
            n = total / 2;
            break;
        } else if o.eq_ignore_ascii_case(b"GROUP") && more >= 2 {
            if !group_cmd {
                return Err(CmdError::XreadGroupOption);
            }
            group = Some((argv.shared(i + 1), argv.shared(i + 2)));
            i += 2;
        } else if o.eq_ignore_ascii_case(b"NOACK") {
            if !group_cmd {
                return Err(CmdError::XreadNoackOption);
            }
            noack = true;
        } else {
            return Err(CmdError::Syntax);
        }
        i += 1;
    }
    if streams_arg == 0 {
        return Err(CmdError::Syntax);
    }
    if group_cmd && group.is_none() {
        return Err(CmdError::XreadgroupMissingGroup);
    }
    let retrying = ctx.client.retrying_block;
    let now = ctx.now;
    // Resolve IDs, in Redis's order of checks. `None` stands for `>`.
    let mut ids: Vec<Option<StreamId>> = Vec::with_capacity(n);
    let mut resolved_dollar = false;
    {
        let mut db = ctx.db();
        for k in 0..n {
            let key = &argv[streams_arg + k];
            let arg = &argv[streams_arg + n + k][..];
            let s = match stream_ref(db.get(key)) {
                Err(CmdError::WrongType) if retrying && !group_cmd => None,
                // A blocked XREADGROUP whose stream was deleted or replaced is released with an
                // error, as Redis does.
                Err(CmdError::WrongType) | Ok(None) if retrying && group_cmd => {
                    return Err(CmdError::UnblockedStreamGone)
                }
                r => r?,
            };
            if let Some((g, _)) = &group {
                if retrying && !s.is_some_and(|s| s.groups.contains_key(&g[..])) {
                    return Err(CmdError::NoGroupBlockedOn);
                }
                if !s.is_some_and(|s| s.groups.contains_key(&g[..])) {
                    return Err(CmdError::NoGroup(format!(
                        "No such key '{}' or consumer group '{}' in XREADGROUP with GROUP option",
                        String::from_utf8_lossy(key),
                        String::from_utf8_lossy(g)
                    )));
                }
            }
            if arg == b"$" {
                if group_cmd {
                    return Err(CmdError::XreadgroupDollar);
                }
                ids.push(Some(s.map_or(StreamId::MIN, |s| s.last_id)));
                resolved_dollar = true;
            } else if arg == b">" {
                if !group_cmd {
                    return Err(CmdError::XreadGreater);
                }
                ids.push(None);
            } else {
                ids.push(Some(strict_id(arg)?));
            }
        }
    }
    let mut out: Vec<(Bytes, Reply)> = Vec::new();
    for (k, &id) in ids.iter().enumerate().take(n) {
        let key = argv.shared(streams_arg + k);
        let served = match &group {
            None => serve_plain(ctx, &key, id.unwrap_or(StreamId::MAX), count, retrying)?,
            Some((g, c)) => serve_group(ctx, &key, g, c, id, count, noack, now)?,
        };
        if let Some(r) = served {
            out.push((key, r));
        }
    }
    if !out.is_empty() {
        return Ok(match ctx.client.resp {
            // Redis itself builds this reply differently per protocol: a map in RESP3, an array of
            // `[key, entries]` pairs (not a flattened map) in RESP2.
            Protocol::Resp3 => {
                Reply::Map(out.into_iter().map(|(k, v)| (Reply::Bulk(k), v)).collect())
            }
            Protocol::Resp2 => Reply::Array(
                out.into_iter()
                    .map(|(k, v)| Reply::Array(vec![Reply::Bulk(k), v]))
                    .collect(),
            ),
        });
    }
    if blocking && ctx.may_block() {
        let keys = (streams_arg..streams_arg + n)
            .map(|i| Bytes::copy_from_slice(&argv[i]))
            .collect();
        let argv_override = resolved_dollar.then(|| {
            let mut a = argv.to_vec();
            for (k, id) in ids.iter().enumerate() {
                if let Some(id) = id {
                    if &a[streams_arg + n + k][..] == b"$" {
                        a[streams_arg + n + k] = Bytes::from(id.to_string());
                    }
                }
            }
            crate::protocol::Argv::from_args(a)
        });
        ctx.block = Some(BlockOn {
            keys,
            timeout_ms: timeout,
            timeout_reply: Reply::NilArray,
            argv_override,
            // XREAD consumes nothing: every reader blocked on the stream is served.
            shared: group.is_none(),
        });
    }
    Ok(Reply::NilArray)
}

/// XREAD on one key: the entries after `gt`, if any.
fn serve_plain(
    ctx: &mut ExecCtx<'_>,
    key: &[u8],
    gt: StreamId,
    count: usize,
    retrying: bool,
) -> Result<Option<Reply>, CmdError> {
    let mut db = ctx.db();
    let s = match stream_ref(db.get(key)) {
        Err(CmdError::WrongType) if retrying => return Ok(None),
        r => r?,
    };
    let Some(s) = s else { return Ok(None) };
    let Some((top, _)) = s.last_entry() else {
        return Ok(None);
    };
    if top <= gt {
        return Ok(None);
    }
    let Some(start) = gt.next() else {
        return Ok(None);
    };
    let take = if count == 0 { usize::MAX } else { count };
    Ok(Some(Reply::Array(
        s.range(start, StreamId::MAX, false)
            .take(take)
            .map(|(id, f)| entry_reply(id, f))
            .collect(),
    )))
}

/// XREADGROUP on one key: new entries (`id == None`) or the consumer's history after `id`.
#[allow(clippy::too_many_arguments)]
fn serve_group(
    ctx: &mut ExecCtx<'_>,
    key: &[u8],
    gname: &[u8],
    cname: &[u8],
    id: Option<StreamId>,
    count: usize,
    noack: bool,
    now: u64,
) -> Result<Option<Reply>, CmdError> {
    let mut db = ctx.db();
    // Decide with a read-only look whether anything is to be served: a blocked client retrying must
    // not count as a write.
    let needs_write = {
        let Some(s) = stream_ref(db.peek(key).map(|e| &e.value))? else {
            return Ok(None);
        };
        let Some(g) = s.groups.get(gname) else {
            return Ok(None);
        };
        id.is_some() || s.last_entry().is_some_and(|(top, _)| top > g.last_id)
    };
    if !needs_write {
        return Ok(None);
    }
    let Some(s) = stream_mut(&mut db, key)? else {
        return Ok(None);
    };
    let Some(mut g) = s.groups.remove(gname) else {
        return Ok(None);
    };
    let take = if count == 0 { usize::MAX } else { count };
    // As Redis, the consumer is created (or its seen time refreshed) only when it is served.
    let (c, created) = g.consumer_mut(cname, now);
    c.seen_time = now;
    let reply = {
        match id {
            Some(after) => Some(history(s, &mut g, cname, after, take, now)),
            None => {
                let top = s.last_entry().map(|(t, _)| t);
                if top.is_some_and(|t| t > g.last_id) {
                    Some(deliver_new(s, &mut g, cname, take, noack, now))
                } else {
                    None
                }
            }
        }
    };
    s.groups.insert(gname.to_vec(), g);
    if created {
        db.notify(notify::STREAM, "xgroup-createconsumer", key);
    }
    Ok(reply)
}

/// Delivers entries after the group's last ID to `cname`, advancing the group.
fn deliver_new(
    s: &Stream,
    g: &mut ConsumerGroup,
    cname: &[u8],
    take: usize,
    noack: bool,
    now: u64,
) -> Reply {
    let Some(start) = g.last_id.next() else {
        return Reply::Array(vec![]);
    };
    let mut out = Vec::new();
    for (id, f) in s.range(start, StreamId::MAX, false).take(take) {
        if id > g.last_id {
            match g.entries_read {
                Some(r) if !s.has_tombstones_from(id) => g.entries_read = Some(r + 1),
                _ if s.entries_added > 0 => g.entries_read = s.estimate_counter(id),
                _ => {}
            }
            g.last_id = id;
        }
        out.push(entry_reply(id, f));
        if !noack {
            g.assign(id, cname, now, 1);
            if let Some(c) = g.consumers.get_mut(cname) {
                c.active_time = Some(now);
            }
        }
    }
    Reply::Array(out)
}

/// Replays `cname`'s pending entries after `after`; deleted entries come back as `[id, nil]`.
fn history(
    s: &Stream,
    g: &mut ConsumerGroup,
    cname: &[u8],
    after: StreamId,
    take: usize,
    now: u64,
) -> Reply {
    let Some(start) = after.next() else {
        return Reply::Array(vec![]);
    };
    let ids: Vec<StreamId> = g
        .consumers
        .get(cname)
        .map(|c| c.pel.range(start..).take(take).copied().collect())
        .unwrap_or_default();
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        match s.get(id) {
            Some(f) => {
                out.push(entry_reply(id, f));
                if let Some(p) = g.pel.get_mut(&id) {
                    p.delivery_time = now;
                    p.delivery_count += 1;
                }
            }
            None => out.push(Reply::Array(vec![id_reply(id), Reply::NilArray])),
        }
    }
    Reply::Array(out)
}

// ---------------------------------------------------------------------------------------------------
// XACK / XPENDING / XCLAIM / XAUTOCLAIM

/// `XACK key group id [id ...]` → the number of entries acknowledged.
fn xack(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let gname = args.next_bytes()?;
    let raw = args.rest();
    let mut db = ctx.db();
    let exists = match stream_ref(db.get(key))? {
        None => false,
        Some(s) => s.groups.contains_key(gname),
    };
    if !exists {
        return Ok(Reply::Int(0));
    }
    let ids = raw
        .iter()
        .map(|b| strict_id(b))
        .collect::<Result<Vec<_>, _>>()?;
    let Some(s) = stream_mut(&mut db, key)? else {
        return Ok(Reply::Int(0));
    };
    let Some(g) = s.groups.get_mut(gname) else {
        return Ok(Reply::Int(0));
    };
    Ok(Reply::Int(
        ids.into_iter().filter(|&id| g.ack(id)).count() as i64
    ))
}

/// `XPENDING key group [[IDLE min-idle-time] start end count [consumer]]` → the summary
/// `[count, first, last, [[consumer, count], ...]]`, or the entries `[[id, consumer, idle, deliveries],
/// ...]`.
fn xpending(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let argv = args.argv();
    let argc = argv.len();
    let key = &argv[1];
    let gname = &argv[2];
    if argc != 3 && !(6..=9).contains(&argc) {
        return Err(CmdError::Syntax);
    }
    let mut extended = None;
    if argc >= 6 {
        let mut at = 3;
        let mut minidle = 0i64;
        if argv[3].eq_ignore_ascii_case(b"IDLE") {
            minidle = parse_i64(&argv[4]).ok_or(CmdError::NotInteger)?;
            if argc < 8 {
                return Err(CmdError::Syntax);
            }
            at += 2;
        }
        let count = parse_i64(&argv[at + 2]).ok_or(CmdError::NotInteger)?.max(0);
        let start = interval_start(&argv[at])?;
        let end = interval_end(&argv[at + 1])?;
        let consumer = argv.get(at + 3).map(Bytes::copy_from_slice);
        if at + 4 < argc {
            return Err(CmdError::Syntax);
        }
        extended = Some((minidle, start, end, count, consumer));
    }
    let now = ctx.now;
    let mut db = ctx.db();
    let s = stream_ref(db.get(key))?;
    let Some(g) = s.and_then(|s| s.groups.get(gname)) else {
        return Err(nogroup(key, gname));
    };
    let Some((minidle, start, end, count, consumer)) = extended else {
        if g.pel.is_empty() {
            return Ok(Reply::Array(vec![
                Reply::Int(0),
                Reply::Nil,
                Reply::Nil,
                Reply::NilArray,
            ]));
        }
        let first = g.pel.keys().next().copied().unwrap_or_default();
        let last = g.pel.keys().next_back().copied().unwrap_or_default();
        let consumers = g
            .consumers
            .iter()
            .filter(|(_, c)| !c.pel.is_empty())
            .map(|(n, c)| {
                Reply::Array(vec![
                    Reply::bulk_copy(n),
                    Reply::bulk_string(c.pel.len().to_string()),
                ])
            })
            .collect();
        return Ok(Reply::Array(vec![
            int(g.pel.len() as u64),
            id_reply(first),
            id_reply(last),
            Reply::Array(consumers),
        ]));
    };
    let ids: Box<dyn Iterator<Item = StreamId>> = match &consumer {
        Some(c) => match g.consumers.get(&c[..]) {
            None => return Ok(Reply::Array(vec![])),
            Some(c) => Box::new(c.pel.range(start..).copied()),
        },
        None => Box::new(g.pel.range(start..).map(|(k, _)| *k)),
    };
    let mut out = Vec::new();
    let mut left = count;
    for id in ids {
        if left == 0 || id > end {
            break;
        }
        let Some(p) = g.pel.get(&id) else { continue };
        let idle = (now as i64).saturating_sub(p.delivery_time as i64);
        if minidle != 0 && idle < minidle {
            continue;
        }
        left -= 1;
        out.push(Reply::Array(vec![
            id_reply(id),
            Reply::bulk_copy(&p.consumer),
            Reply::Int(idle.max(0)),
            int(p.delivery_count),
        ]));
    }
    Ok(Reply::Array(out))
}

/// `XCLAIM key group consumer min-idle-time id [id ...] [IDLE ms] [TIME unix-ms] [RETRYCOUNT count]
/// [FORCE] [JUSTID] [LASTID lastid]` → the claimed entries (or their IDs with JUSTID).
fn xclaim(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let argv = args.argv();
    let argc = argv.len();
    let (key, gname, cname) = (&argv[1], &argv[2], &argv[3]);
    let now = ctx.now;
    let mut db = ctx.db();
    let has_group = stream_ref(db.get(key))?.is_some_and(|s| s.groups.contains_key(gname));
    if !has_group {
        return Err(nogroup(key, gname));
    }
    let minidle = parse_i64(&argv[4])
        .ok_or(CmdError::InvalidArgument(
            "min-idle-time argument for XCLAIM",
        ))?
        .max(0);
    let mut ids = Vec::new();
    let mut j = 5;
    while j < argc {
        match strict_id(&argv[j]) {
            Ok(id) => ids.push(id),
            Err(_) => break,
        }
        j += 1;
    }
    let (mut force, mut justid) = (false, false);
    let mut delivery: Option<i64> = None;
    let mut retry: Option<i64> = None;
    let mut last_id = StreamId::MIN;
    while j < argc {
        let more = argc - 1 - j;
        let o = &argv[j][..];
        if o.eq_ignore_ascii_case(b"FORCE") {
            force = true;
        } else if o.eq_ignore_ascii_case(b"JUSTID") {
            justid = true;
        } else if o.eq_ignore_ascii_case(b"IDLE") && more > 0 {
            j += 1;
            let v = parse_i64(&argv[j])
                .ok_or(CmdError::InvalidArgument("IDLE option argument for XCLAIM"))?;
            delivery = Some((now as i64).saturating_sub(v));
        } else if o.eq_ignore_ascii_case(b"TIME") && more > 0 {
            j += 1;
            delivery = Some(
                parse_i64(&argv[j])
                    .ok_or(CmdError::InvalidArgument("TIME option argument for XCLAIM"))?,
            );
        } else if o.eq_ignore_ascii_case(b"RETRYCOUNT") && more > 0 {
            j += 1;
            retry = Some(parse_i64(&argv[j]).ok_or(CmdError::InvalidArgument(
                "RETRYCOUNT option argument for XCLAIM",
            ))?);
        } else if o.eq_ignore_ascii_case(b"LASTID") && more > 0 {
            j += 1;
            last_id = strict_id(&argv[j])?;
        } else {
            return Err(CmdError::XclaimOption(
                String::from_utf8_lossy(o).into_owned(),
            ));
        }
        j += 1;
    }
    let delivery = match delivery {
        Some(d) if d >= 0 && d as u64 <= now => d as u64,
        _ => now,
    };
    let Some(s) = stream_mut(&mut db, key)? else {
        return Err(nogroup(key, gname));
    };
    let Some(mut g) = s.groups.remove(gname) else {
        return Err(nogroup(key, gname));
    };
    if last_id > g.last_id {
        g.last_id = last_id;
    }
    let mut out = Vec::new();
    let mut have_consumer = false;
    let mut created = false;
    for id in ids {
        let exists = s.get(id).is_some();
        if !exists {
            g.ack(id);
            continue;
        }
        let forced = if force && !g.pel.contains_key(&id) {
            g.pel.insert(
                id,
                crate::storage::types::stream::PendingEntry {
                    consumer: Vec::new(),
                    delivery_time: now,
                    delivery_count: 1,
                },
            );
            true
        } else {
            false
        };
        let Some(p) = g.pel.get(&id) else { continue };
        if !forced && minidle > 0 {
            let idle = (now as i64).saturating_sub(p.delivery_time as i64);
            if idle < minidle {
                continue;
            }
        }
        let count = match retry {
            Some(r) if r >= 0 => r as u64,
            _ if !justid => p.delivery_count + 1,
            _ => p.delivery_count,
        };
        if !have_consumer {
            let (c, is_new) = g.consumer_mut(cname, now);
            c.seen_time = now;
            have_consumer = true;
            created = is_new;
        }
        g.assign(id, cname, delivery, count);
        if let Some(c) = g.consumers.get_mut(cname) {
            c.active_time = Some(now);
        }
        out.push(if justid {
            id_reply(id)
        } else {
            entry_or_nil(s, id)
        });
    }
    s.groups.insert(gname.to_vec(), g);
    if created {
        db.notify(notify::STREAM, "xgroup-createconsumer", key);
    }
    Ok(Reply::Array(out))
}

/// `XAUTOCLAIM key group consumer min-idle-time start [COUNT count] [JUSTID]` → `[next-start,
/// claimed entries (or IDs), deleted IDs]`.
fn xautoclaim(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let argv = args.argv();
    let argc = argv.len();
    let (key, gname, cname) = (&argv[1], &argv[2], &argv[3]);
    let minidle = parse_i64(&argv[4])
        .ok_or(CmdError::InvalidArgument(
            "min-idle-time argument for XAUTOCLAIM",
        ))?
        .max(0);
    let start = interval_start(&argv[5])?;
    let mut count: i64 = 100;
    let mut justid = false;
    let mut j = 6;
    while j < argc {
        let more = argc - 1 - j;
        let o = &argv[j][..];
        if o.eq_ignore_ascii_case(b"COUNT") && more > 0 {
            let max = i64::MAX / 16;
            count = parse_i64(&argv[j + 1])
                .filter(|c| (1..=max).contains(c))
                .ok_or(CmdError::CountNotPositiveStream)?;
            j += 1;
        } else if o.eq_ignore_ascii_case(b"JUSTID") {
            justid = true;
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    let now = ctx.now;
    let mut db = ctx.db();
    let has_group = stream_ref(db.get(key))?.is_some_and(|s| s.groups.contains_key(gname));
    if !has_group {
        return Err(nogroup(key, gname));
    }
    let Some(s) = stream_mut(&mut db, key)? else {
        return Err(nogroup(key, gname));
    };
    let Some(mut g) = s.groups.remove(gname) else {
        return Err(nogroup(key, gname));
    };
    let mut attempts = count.saturating_mul(10);
    let mut left = count;
    let mut cursor = Some(start);
    let mut claimed = Vec::new();
    let mut deleted = Vec::new();
    let mut have_consumer = false;
    let mut created = false;
    while let Some(from) = cursor {
        if attempts == 0 || left == 0 {
            break;
        }
        attempts -= 1;
        let Some((&id, p)) = g.pel.range(from..).next() else {
            cursor = None;
            break;
        };
        cursor = id.next();
        if s.get(id).is_none() {
            g.ack(id);
            deleted.push(id_reply(id));
            left -= 1;
            continue;
        }
        if minidle > 0 {
            let idle = (now as i64).saturating_sub(p.delivery_time as i64);
            if idle < minidle {
                continue;
            }
        }
        let dc = p.delivery_count + u64::from(!justid);
        if !have_consumer {
            let (c, is_new) = g.consumer_mut(cname, now);
            c.seen_time = now;
            have_consumer = true;
            created = is_new;
        }
        g.assign(id, cname, now, dc);
        if let Some(c) = g.consumers.get_mut(cname) {
            c.active_time = Some(now);
        }
        claimed.push(if justid {
            id_reply(id)
        } else {
            entry_or_nil(s, id)
        });
        left -= 1;
    }
    let next = cursor
        .and_then(|c| g.pel.range(c..).next().map(|(k, _)| *k))
        .unwrap_or_default();
    s.groups.insert(gname.to_vec(), g);
    if created {
        db.notify(notify::STREAM, "xgroup-createconsumer", key);
    }
    Ok(Reply::Array(vec![
        id_reply(next),
        Reply::Array(claimed),
        Reply::Array(deleted),
    ]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_parsing() {
        assert_eq!(strict_id(b"5").unwrap(), StreamId::new(5, 0));
        assert_eq!(strict_id(b"5-7").unwrap(), StreamId::new(5, 7));
        assert!(strict_id(b"-").is_err());
        assert!(strict_id(b"5-").is_err());
        assert!(strict_id(b"a").is_err());
        assert!(strict_id(b"-5").is_err());
        assert!(strict_id(b"18446744073709551616").is_err());
        assert_eq!(parse_id(b"+", 0, false).unwrap(), StreamId::MAX);
        assert_eq!(
            parse_id(b"3", u64::MAX, false).unwrap(),
            StreamId::new(3, u64::MAX)
        );
        assert_eq!(
            parse_id_full(b"3-*", 0, true, true).unwrap(),
            (StreamId::new(3, 0), false)
        );
        assert!(interval_start(b"(18446744073709551615-18446744073709551615").is_err());
        assert!(interval_end(b"(0-0").is_err());
        assert_eq!(interval_end(b"(5").unwrap(), StreamId::new(5, u64::MAX - 1));
    }
}
