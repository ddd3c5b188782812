//! Hash commands: HSET HSETNX HGET HMGET HMSET HGETALL HDEL HEXISTS HLEN HSTRLEN HKEYS HVALS HINCRBY
//! HINCRBYFLOAT HRANDFIELD HSCAN.
//!
//! Why it is built this way:
//! * The value is a [`HashValue`] (`storage::types::hash`): a listpack-like buffer in insertion order
//!   while small, a [`crate::storage::Dict`] past the configured thresholds. Handlers read the
//!   thresholds once per write ([`limits`]) and hand them to the data structure, which converts as
//!   Redis's `hashTypeTryConversion`/`hashTypeSet` do, so `OBJECT ENCODING` and reply order match.
//! * Each handler follows its Redis counterpart's order of checks (argument parsing, then the key's
//!   type, then the values), so the same request fails with the same error.
//! * Write commands count `dirty` as Redis does (HSET: one per pair given, HDEL: one per field
//!   removed, nothing on failure): the `Db` lookups count one write each, so handlers set the final
//!   count themselves.
//! * A hash never stays empty: HDEL removing the last field deletes the key, and no command creates
//!   a key it then leaves empty.

use crate::storage::notify;
use rand::seq::index;

use super::string::ld;
use super::table::{acl, flags::*, ks, member, CommandSpec, Docs, Group, KeySpec};
use super::{Args, ExecCtx};
use crate::error::CmdError;
use crate::protocol::{parse_i64, Reply};
use crate::storage::types::hash::{HashLimits, HashValue};
use crate::storage::Value;

const HASH: u64 = acl::HASH;

const fn docs(summary: &'static str, since: &'static str, complexity: &'static str) -> Docs {
    Docs {
        summary,
        since,
        complexity,
    }
}

const RO_ACCESS: &[KeySpec] = &[KeySpec::one(1, ks::RO | ks::ACCESS)];
const RO: &[KeySpec] = &[KeySpec::one(1, ks::RO)];
const RW_UPDATE: &[KeySpec] = &[KeySpec::one(1, ks::RW | ks::UPDATE)];
const RW_ACCESS_UPDATE: &[KeySpec] = &[KeySpec::one(1, ks::RW | ks::ACCESS | ks::UPDATE)];
const SIZE: &str = "O(N) where N is the size of the hash.";

#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec { name: "hset", group: Group::Hash, arity: -4, flags: WRITE | DENYOOM | FAST, acl: HASH, keys: RW_UPDATE, docs: docs("Creates or modifies the value of a field in a hash.", "2.0.0", "O(1) for each field/value pair added, so O(N) to add N field/value pairs when the command is called with multiple field/value pairs."), event: Some((notify::HASH, "hset")), member: member(4, 2), handler: hset, ..CommandSpec::DEFAULT },
    CommandSpec { name: "hsetnx", group: Group::Hash, arity: 4, flags: WRITE | DENYOOM | FAST, acl: HASH, keys: &[KeySpec::one(1, ks::RW | ks::INSERT)], docs: docs("Sets the value of a field in a hash only when the field doesn't exist.", "2.0.0", "O(1)"), event: Some((notify::HASH, "hset")), member: member(4, 2), handler: hsetnx, ..CommandSpec::DEFAULT },
    CommandSpec { name: "hget", group: Group::Hash, arity: 3, flags: READONLY | FAST, acl: HASH, keys: RO_ACCESS, docs: docs("Returns the value of a field in a hash.", "2.0.0", "O(1)"), member: member(3, 2), handler: hget, ..CommandSpec::DEFAULT },
    CommandSpec { name: "hmget", group: Group::Hash, arity: -3, flags: READONLY | FAST, acl: HASH, keys: RO_ACCESS, docs: docs("Returns the values of all fields in a hash.", "2.0.0", "O(N) where N is the number of fields being requested."), handler: hmget, ..CommandSpec::DEFAULT },
    CommandSpec { name: "hmset", group: Group::Hash, arity: -4, flags: WRITE | DENYOOM | FAST, acl: HASH, keys: RW_UPDATE, docs: docs("Sets the values of multiple fields.", "2.0.0", "O(N) where N is the number of fields being set."), event: Some((notify::HASH, "hset")), handler: hmset, ..CommandSpec::DEFAULT },
    CommandSpec { name: "hgetall", group: Group::Hash, arity: 2, flags: READONLY, acl: HASH, keys: RO_ACCESS, tips: &["nondeterministic_output_order"], docs: docs("Returns all fields and values in a hash.", "2.0.0", SIZE), handler: hgetall, ..CommandSpec::DEFAULT },
    CommandSpec { name: "hdel", group: Group::Hash, arity: -3, flags: WRITE | FAST, acl: HASH, keys: &[KeySpec::one(1, ks::RW | ks::DELETE)], docs: docs("Deletes one or more fields and their values from a hash. Deletes the hash if no fields remain.", "2.0.0", "O(N) where N is the number of fields to be removed."), event: Some((notify::HASH, "hdel")), member: member(3, 2), handler: hdel, ..CommandSpec::DEFAULT },
    CommandSpec { name: "hexists", group: Group::Hash, arity: 3, flags: READONLY | FAST, acl: HASH, keys: RO, docs: docs("Determines whether a field exists in a hash.", "2.0.0", "O(1)"), member: member(3, 2), handler: hexists, ..CommandSpec::DEFAULT },
    CommandSpec { name: "hlen", group: Group::Hash, arity: 2, flags: READONLY | FAST, acl: HASH, keys: RO, docs: docs("Returns the number of fields in a hash.", "2.0.0", "O(1)"), handler: hlen, ..CommandSpec::DEFAULT },
    CommandSpec { name: "hstrlen", group: Group::Hash, arity: 3, flags: READONLY | FAST, acl: HASH, keys: RO, docs: docs("Returns the length of the value of a field.", "3.2.0", "O(1)"), member: member(3, 2), handler: hstrlen, ..CommandSpec::DEFAULT },
    CommandSpec { name: "hkeys", group: Group::Hash, arity: 2, flags: READONLY, acl: HASH, keys: RO_ACCESS, tips: &["nondeterministic_output_order"], docs: docs("Returns all fields in a hash.", "2.0.0", SIZE), handler: hkeys, ..CommandSpec::DEFAULT },
    CommandSpec { name: "hvals", group: Group::Hash, arity: 2, flags: READONLY, acl: HASH, keys: RO_ACCESS, tips: &["nondeterministic_output_order"], docs: docs("Returns all values in a hash.", "2.0.0", SIZE), handler: hvals, ..CommandSpec::DEFAULT },
    CommandSpec { name: "hincrby", group: Group::Hash, arity: 4, flags: WRITE | DENYOOM | FAST, acl: HASH, keys: RW_ACCESS_UPDATE, docs: docs("Increments the integer value of a field in a hash by a number. Uses 0 as initial value if the field doesn't exist.", "2.0.0", "O(1)"), event: Some((notify::HASH, "hincrby")), member: member(4, 2), handler: hincrby, ..CommandSpec::DEFAULT },
    CommandSpec { name: "hincrbyfloat", group: Group::Hash, arity: 4, flags: WRITE | DENYOOM | FAST, acl: HASH, keys: RW_ACCESS_UPDATE, docs: docs("Increments the floating point value of a field by a number. Uses 0 as initial value if the field doesn't exist.", "2.6.0", "O(1)"), event: Some((notify::HASH, "hincrbyfloat")), member: member(4, 2), handler: hincrbyfloat, ..CommandSpec::DEFAULT },
    CommandSpec { name: "hrandfield", group: Group::Hash, arity: -2, flags: READONLY, acl: HASH, keys: RO_ACCESS, tips: &["nondeterministic_output"], docs: docs("Returns one or more random fields from a hash.", "6.2.0", "O(N) where N is the number of fields returned"), handler: hrandfield, ..CommandSpec::DEFAULT },
    CommandSpec { name: "hscan", group: Group::Hash, arity: -3, flags: READONLY, acl: HASH, keys: RO_ACCESS, tips: &["nondeterministic_output"], docs: docs("Iterates over fields and values of a hash.", "2.8.0", "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection."), handler: hscan, ..CommandSpec::DEFAULT },
];

/// Reads a hash: `Ok(None)` if the key is absent, WRONGTYPE if it holds another type.
pub fn get_hash(v: Option<&Value>) -> Result<Option<&HashValue>, CmdError> {
    match v {
        None => Ok(None),
        Some(Value::Hash(h)) => Ok(Some(h)),
        Some(_) => Err(CmdError::WrongType),
    }
}

fn as_hash_mut(v: &mut Value) -> Result<&mut HashValue, CmdError> {
    match v {
        Value::Hash(h) => Ok(h),
        _ => Err(CmdError::WrongType),
    }
}

/// The conversion thresholds currently configured.
fn limits(ctx: &ExecCtx<'_>) -> HashLimits {
    let c = ctx.server.config.read();
    HashLimits {
        listpack_entries: c.hash_max_listpack_entries,
        listpack_value: c.hash_max_listpack_value,
    }
}

/// Runs a write and sets the command's dirty count to what Redis counts (`changes` on success,
/// nothing on failure), whatever the lookups counted (a key found expired during the lookup is not
/// counted either, as Redis's lazy expiry does not count it).
fn counted<T>(
    ctx: &mut ExecCtx<'_>,
    f: impl FnOnce(&mut ExecCtx<'_>) -> Result<(T, u64), CmdError>,
) -> Result<T, CmdError> {
    let before = ctx.dirty;
    let r = f(ctx);
    ctx.dirty = before + r.as_ref().map_or(0, |(_, n)| *n);
    r.map(|(t, _)| t)
}

/// Sets the field/value `pairs` in the hash at `key`, creating it; returns how many fields are new.
/// WRONGTYPE before any change.
fn set_pairs(ctx: &mut ExecCtx<'_>, key: &[u8], pairs: &[&[u8]]) -> Result<u64, CmdError> {
    let lim = limits(ctx);
    let mut db = ctx.db();
    // One lookup: an absent key gets an empty hash, which the pairs (at least one, by arity) then fill.
    let h = as_hash_mut(db.get_or_insert_with(key, new_hash))?;
    let longest = pairs.iter().map(|a| a.len()).max().unwrap_or(0);
    h.prepare_write(pairs.len() / 2, longest, &lim);
    let mut added = 0;
    for p in pairs.chunks_exact(2) {
        added += u64::from(h.set(p[0], p[1], &lim));
    }
    Ok(added)
}

fn new_hash() -> Value {
    Value::Hash(HashValue::default())
}

/// The key and the field/value arguments of HSET/HMSET (borrowed from the request, no copies), with
/// Redis's arity error for an odd count.
fn pair_args<'a>(
    args: &mut Args<'a>,
    name: &'static str,
) -> Result<(&'a [u8], super::args::Rest<'a>), CmdError> {
    if args.remaining().is_multiple_of(2) {
        return Err(CmdError::WrongArity(name));
    }
    let key = args.next_bytes()?;
    Ok((key, args.rest()))
}

/// `HSET key field value [field value ...]` → the number of fields added (not updated).
fn hset(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let (key, pairs) = pair_args(args, "hset")?;
    let n = (pairs.len() / 2) as u64;
    counted(ctx, |ctx| Ok((set_pairs(ctx, key, &pairs)?, n))).map(|a| Reply::Int(a as i64))
}

/// `HMSET key field value [field value ...]` → `+OK` (HSET's deprecated form).
fn hmset(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let (key, pairs) = pair_args(args, "hmset")?;
    let n = (pairs.len() / 2) as u64;
    counted(ctx, |ctx| Ok((set_pairs(ctx, key, &pairs)?, n))).map(|_| Reply::Ok)
}

/// `HSETNX key field value` → 1 if the field was set, 0 if it already existed.
fn hsetnx(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let field = args.next_bytes()?;
    let value = args.next_bytes()?;
    let lim = limits(ctx);
    counted(ctx, |ctx| {
        let mut db = ctx.db();
        // A new key's hash lacks the field, so it never stays empty.
        let h = as_hash_mut(db.get_or_insert_with(key, new_hash))?;
        if h.contains(field) {
            return Ok((Reply::Int(0), 0));
        }
        h.prepare_write(1, field.len().max(value.len()), &lim);
        h.set(field, value, &lim);
        Ok((Reply::Int(1), 1))
    })
}

/// `HGET key field` → the value, or nil.
fn hget(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let field = args.next_bytes()?;
    let mut db = ctx.db();
    Ok(get_hash(db.get(key))?
        .and_then(|h| h.get(field))
        .map_or(Reply::Nil, Reply::bulk_copy))
}

/// `HMGET key field [field ...]` → an array with each field's value or nil.
fn hmget(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let mut db = ctx.db();
    let h = get_hash(db.get(key))?;
    Ok(Reply::Array(
        args.map(|f| {
            h.and_then(|h| h.get(f))
                .map_or(Reply::Nil, Reply::bulk_copy)
        })
        .collect(),
    ))
}

/// What HGETALL/HKEYS/HVALS return of each pair.
#[derive(Clone, Copy, PartialEq)]
enum Part {
    Both,
    Fields,
    Values,
}

fn getall(ctx: &mut ExecCtx<'_>, args: &mut Args, part: Part) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let mut db = ctx.db();
    let h = get_hash(db.get(key))?;
    let iter = h.into_iter().flat_map(|h| h.iter());
    Ok(match part {
        Part::Both => Reply::Map(
            iter.map(|(f, v)| (Reply::bulk_copy(f), Reply::bulk_copy(v)))
                .collect(),
        ),
        Part::Fields => Reply::Array(iter.map(|(f, _)| Reply::bulk_copy(f)).collect()),
        Part::Values => Reply::Array(iter.map(|(_, v)| Reply::bulk_copy(v)).collect()),
    })
}

/// `HGETALL key` → a map of every field to its value (a flat array in RESP2); empty if the key is
/// absent. A listpack-encoded hash answers in insertion order, as Redis does.
fn hgetall(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    getall(ctx, args, Part::Both)
}

/// `HKEYS key` → an array of the fields.
fn hkeys(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    getall(ctx, args, Part::Fields)
}

/// `HVALS key` → an array of the values.
fn hvals(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    getall(ctx, args, Part::Values)
}

/// `HDEL key field [field ...]` → the number of fields removed; the key goes when the last does.
fn hdel(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    counted(ctx, |ctx| {
        let mut db = ctx.db();
        let Some(v) = db.get_mut(key) else {
            return Ok((Reply::Int(0), 0));
        };
        let h = as_hash_mut(v)?;
        let mut removed = 0u64;
        for f in args {
            if h.remove(f) {
                removed += 1;
                if h.is_empty() {
                    break;
                }
            }
        }
        if h.is_empty() {
            db.remove(key);
        }
        Ok((Reply::Int(removed as i64), removed))
    })
}

/// `HEXISTS key field` → 1 if the field exists, else 0.
fn hexists(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let field = args.next_bytes()?;
    let mut db = ctx.db();
    let found = get_hash(db.get(key))?.is_some_and(|h| h.contains(field));
    Ok(Reply::Int(i64::from(found)))
}

/// `HLEN key` → the number of fields, 0 if the key is absent.
fn hlen(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let mut db = ctx.db();
    Ok(Reply::Int(
        get_hash(db.get(key))?.map_or(0, |h| h.len()) as i64
    ))
}

/// `HSTRLEN key field` → the length of the field's value, 0 if the field or key is absent.
fn hstrlen(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let field = args.next_bytes()?;
    let mut db = ctx.db();
    let len = get_hash(db.get(key))?
        .and_then(|h| h.get(field))
        .map_or(0, |v| v.len());
    Ok(Reply::Int(len as i64))
}

/// `HINCRBY key field increment` → the field's new integer value (a missing field counts as 0).
fn hincrby(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let field = args.next_bytes()?;
    let by = args.next_i64()?;
    let lim = limits(ctx);
    counted(ctx, |ctx| {
        let mut db = ctx.db();
        // Failures need an existing field, so a hash created here is never left empty.
        let h = as_hash_mut(db.get_or_insert_with(key, new_hash))?;
        let cur = match h.get(field) {
            None => 0,
            Some(b) => parse_i64(b).ok_or(CmdError::HashValueNotInteger)?,
        };
        let new = cur.checked_add(by).ok_or(CmdError::Overflow)?;
        h.set(field, itoa::Buffer::new().format(new).as_bytes(), &lim);
        Ok((Reply::Int(new), 1))
    })
}

/// `HINCRBYFLOAT key field increment` → the field's new value as text, computed and printed in
/// Redis's 80-bit long double exactly as INCRBYFLOAT (shared `string::ld`).
fn hincrbyfloat(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let field = args.next_bytes()?;
    let by = ld::parse(args.next_bytes()?).ok_or(CmdError::NotFloat)?;
    if by.is_infinite() {
        return Err(CmdError::ValueNanOrInfinity);
    }
    let lim = limits(ctx);
    counted(ctx, |ctx| {
        let mut db = ctx.db();
        // Failures need an existing field (the increment is finite), so no empty hash is left.
        let h = as_hash_mut(db.get_or_insert_with(key, new_hash))?;
        let cur = match h.get(field) {
            None => ld::Ld::ZERO,
            Some(b) => ld::parse(b).ok_or(CmdError::HashValueNotFloat)?,
        };
        let sum = ld::add(cur, by).ok_or(CmdError::NanOrInfinity)?;
        let text = ld::format_human(sum);
        h.set(field, text.as_bytes(), &lim);
        Ok((Reply::bulk_string(text), 1))
    })
}

/// The most elements a random reply may hold (the sets family uses the same bound). Redis would try
/// to build any size and run out of memory; we refuse instead.
const MAX_RANDOM_REPLY: u64 = 1 << 27;

/// `HRANDFIELD key [count [WITHVALUES]]` → without count, one random field (nil if the key is
/// absent); with a positive count, up to `count` distinct fields; with a negative count, exactly
/// `-count` fields, repetitions allowed. WITHVALUES adds each value (pairs in RESP3).
fn hrandfield(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    if args.is_empty() {
        let mut db = ctx.db();
        let Some(h) = get_hash(db.get(key))? else {
            return Ok(Reply::Nil);
        };
        let mut rng = rand::thread_rng();
        return Ok(h
            .random_pair(&mut rng)
            .map_or(Reply::Nil, |(f, _)| Reply::bulk_copy(f)));
    }
    let count = parse_i64(args.next_bytes()?).ok_or(CmdError::NotInteger)?;
    if count == i64::MIN {
        return Err(CmdError::CountOutOfRange);
    }
    let withvalues = match args.remaining() {
        0 => false,
        1 if args.eat("withvalues") => true,
        _ => return Err(CmdError::Syntax),
    };
    if withvalues && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&count) {
        return Err(CmdError::ValueOutOfRange);
    }
    let mut db = ctx.db();
    let Some(h) = get_hash(db.get(key))? else {
        return Ok(Reply::Array(Vec::new()));
    };
    let n = count.unsigned_abs();
    if n == 0 {
        return Ok(Reply::Array(Vec::new()));
    }
    let reply = |picked: &mut dyn Iterator<Item = (&[u8], &[u8])>| {
        if withvalues {
            Reply::Pairs(
                picked
                    .map(|(f, v)| (Reply::bulk_copy(f), Reply::bulk_copy(v)))
                    .collect(),
            )
        } else {
            Reply::Array(picked.map(|(f, _)| Reply::bulk_copy(f)).collect())
        }
    };
    let mut rng = rand::thread_rng();
    let size = h.len() as u64;
    // Negative count (or 1): independent draws, in random order.
    if count < 0 || n == 1 {
        if n > MAX_RANDOM_REPLY {
            return Err(CmdError::RandomCountTooLarge);
        }
        let mut draws = (0..n).filter_map(|_| h.random_pair(&mut rng));
        return Ok(reply(&mut draws));
    }
    // A count at least the size: the whole hash, in its own order (insertion order for a listpack).
    if n >= size {
        return Ok(reply(&mut h.iter()));
    }
    // Fewer distinct fields than the hash holds.
    let n = n as usize;
    match h.dict() {
        // A big table and a small count: draw until enough distinct fields were seen (Redis's CASE 4).
        Some(_) if n * 3 <= size as usize => {
            let mut seen = std::collections::HashSet::with_capacity(n);
            let mut picked = Vec::with_capacity(n);
            while picked.len() < n {
                if let Some((f, v)) = h.random_pair(&mut rng) {
                    if seen.insert(f) {
                        picked.push((f, v));
                    }
                }
            }
            Ok(reply(&mut picked.into_iter()))
        }
        // Otherwise sample indices over the pairs in order.
        _ => {
            let all: Vec<(&[u8], &[u8])> = h.iter().collect();
            let mut chosen = index::sample(&mut rng, all.len(), n).into_vec();
            if h.dict().is_none() {
                // Redis answers a listpack sample in listpack order.
                chosen.sort_unstable();
            }
            Ok(reply(&mut chosen.into_iter().map(|i| all[i])))
        }
    }
}

/// `HSCAN key cursor [MATCH pattern] [COUNT count]` → `[next cursor, [field, value, ...]]`.
///
/// A listpack-encoded hash is returned whole with cursor 0, as Redis does. A hashtable is walked with
/// the table's reverse-binary cursor until `count` elements (fields and values, as Redis counts them)
/// were collected or `count * 10` buckets were visited; MATCH filters fields afterwards. As in Redis,
/// options are only checked once the key is found to be a hash.
fn hscan(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let cursor = super::scan::parse_cursor(args.next_bytes()?).ok_or(CmdError::InvalidCursor)?;
    let mut db = ctx.db();
    let Some(h) = get_hash(db.get(key))? else {
        return Ok(super::scan::reply(0, Vec::new()));
    };
    let opts = super::scan::ScanOptions::parse(args, false)?;
    let count = opts.count;
    let keep = |f: &[u8]| opts.matches(f);
    let mut out = Vec::new();
    let next = match h.dict() {
        None => {
            for (f, v) in h.iter().filter(|(f, _)| keep(f)) {
                out.push(Reply::bulk_copy(f));
                out.push(Reply::bulk_copy(v));
            }
            0
        }
        Some(d) => {
            let mut cursor = cursor;
            let mut budget = count.saturating_mul(10);
            let mut seen = 0u64;
            loop {
                cursor = d.scan_step(cursor, |n| {
                    seen += 2;
                    if keep(&n.key) {
                        out.push(Reply::bulk_copy(&n.key));
                        out.push(Reply::bulk_copy(&n.entry));
                    }
                });
                if cursor == 0 || budget == 0 || seen >= count {
                    break cursor;
                }
                budget -= 1;
            }
        }
    };
    Ok(super::scan::reply(next, out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_matches_the_reference() {
        // Every hash command is in the table once, in Group::Hash, with @hash.
        for c in COMMANDS {
            assert_eq!(c.group, Group::Hash, "{}", c.name);
            assert!(c.acl_categories() & acl::HASH != 0, "{}", c.name);
        }
        assert_eq!(COMMANDS.len(), 16);
    }
}
