//! Set commands: SADD SREM SMEMBERS SISMEMBER SMISMEMBER SCARD SPOP SRANDMEMBER SMOVE, the algebra
//! (SINTER SINTERCARD SUNION SDIFF and their STORE forms) and SSCAN.
//!
//! Why it is built this way:
//! * The data structure lives in [`crate::storage::types::set`]; this file parses, looks keys up and
//!   builds replies. The conversion thresholds are read from the configuration once per command.
//! * The algebra follows `t_set.c` operation by operation (which set is iterated, in which order the
//!   result is built, which encoding the result starts in), not just its mathematical result: the
//!   order of a reply from a compact set and the `OBJECT ENCODING` of a stored result are visible to
//!   clients and deterministic in Redis, so they are here too. The same union code answers SPOP when the
//!   count covers the whole set, as in Redis.
//! * Multi-key reads borrow every source at once through [`crate::storage::Db::get_many`] (dispatch has
//!   locked all their shards); results are built as owned sets and written after the borrows end.
//! * SMEMBERS, SINTER, SUNION, SDIFF and SPOP with a count reply with a RESP3 set (an array in RESP2);
//!   SRANDMEMBER with a count replies with an array, since it may repeat members.

use crate::storage::notify;
use rand::Rng;

use super::table::{acl, flags::*, ks, member, CommandSpec, Docs, Group, KeySpec};
use super::{Args, ExecCtx};
use crate::error::CmdError;
use crate::protocol::{parse_i64, Reply};
use crate::server::Server;
use crate::storage::db::Ttl;
use crate::storage::types::set::{Encoding, Member, SetLimits, SetValue};
use crate::storage::Value;

const SET: u64 = acl::SET;

const fn docs(summary: &'static str, since: &'static str, complexity: &'static str) -> Docs {
    Docs {
        summary,
        since,
        complexity,
    }
}

const ORDER: &[&str] = &["nondeterministic_output_order"];
const RANDOM: &[&str] = &["nondeterministic_output"];
const MULTI_RO: &[KeySpec] = &[KeySpec::range(1, -1, 1, ks::RO | ks::ACCESS)];
const STORE_RW: &[KeySpec] = &[
    KeySpec::one(1, ks::RW | ks::UPDATE),
    KeySpec::range(2, -1, 1, ks::RO | ks::ACCESS),
];
const STORE_OW: &[KeySpec] = &[
    KeySpec::one(1, ks::OW | ks::UPDATE),
    KeySpec::range(2, -1, 1, ks::RO | ks::ACCESS),
];
const INTER_COMPLEXITY: &str =
    "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.";
const TOTAL_COMPLEXITY: &str = "O(N) where N is the total number of elements in all given sets.";

#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec { name: "sadd", group: Group::Set, arity: -3, flags: WRITE | DENYOOM | FAST, acl: SET, keys: &[KeySpec::one(1, ks::RW | ks::INSERT)], docs: docs("Adds one or more members to a set. Creates the key if it doesn't exist.", "1.0.0", "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments."), event: Some((notify::SET, "sadd")), member: member(3, 2), handler: sadd, ..CommandSpec::DEFAULT },
    CommandSpec { name: "srem", group: Group::Set, arity: -3, flags: WRITE | FAST, acl: SET, keys: &[KeySpec::one(1, ks::RW | ks::DELETE)], docs: docs("Removes one or more members from a set. Deletes the set if the last member was removed.", "1.0.0", "O(N) where N is the number of members to be removed."), event: Some((notify::SET, "srem")), member: member(3, 2), handler: srem, ..CommandSpec::DEFAULT },
    CommandSpec { name: "smembers", group: Group::Set, arity: 2, flags: READONLY, acl: SET, keys: &[KeySpec::one(1, ks::RO | ks::ACCESS)], tips: ORDER, docs: docs("Returns all members of a set.", "1.0.0", "O(N) where N is the set cardinality."), handler: smembers, ..CommandSpec::DEFAULT },
    CommandSpec { name: "sismember", group: Group::Set, arity: 3, flags: READONLY | FAST, acl: SET, keys: &[KeySpec::one(1, ks::RO)], docs: docs("Determines whether a member belongs to a set.", "1.0.0", "O(1)"), member: member(3, 2), handler: sismember, ..CommandSpec::DEFAULT },
    CommandSpec { name: "smismember", group: Group::Set, arity: -3, flags: READONLY | FAST, acl: SET, keys: &[KeySpec::one(1, ks::RO | ks::ACCESS)], docs: docs("Determines whether multiple members belong to a set.", "6.2.0", "O(N) where N is the number of elements being checked for membership"), handler: smismember, ..CommandSpec::DEFAULT },
    CommandSpec { name: "scard", group: Group::Set, arity: 2, flags: READONLY | FAST, acl: SET, keys: &[KeySpec::one(1, ks::RO)], docs: docs("Returns the number of members in a set.", "1.0.0", "O(1)"), handler: scard, ..CommandSpec::DEFAULT },
    CommandSpec { name: "spop", group: Group::Set, arity: -2, flags: WRITE | FAST, acl: SET, keys: &[KeySpec::one(1, ks::RW | ks::ACCESS | ks::DELETE)], tips: RANDOM, docs: docs("Returns one or more random members from a set after removing them. Deletes the set if the last member was popped.", "1.0.0", "Without the count argument O(1), otherwise O(N) where N is the value of the passed count."), event: Some((notify::SET, "spop")), handler: spop, ..CommandSpec::DEFAULT },
    CommandSpec { name: "srandmember", group: Group::Set, arity: -2, flags: READONLY, acl: SET, keys: &[KeySpec::one(1, ks::RO | ks::ACCESS)], tips: RANDOM, docs: docs("Get one or multiple random members from a set", "1.0.0", "Without the count argument O(1), otherwise O(N) where N is the absolute value of the passed count."), handler: srandmember, ..CommandSpec::DEFAULT },
    CommandSpec { name: "smove", group: Group::Set, arity: 4, flags: WRITE | FAST, acl: SET, keys: &[KeySpec::one(1, ks::RW | ks::ACCESS | ks::DELETE), KeySpec::one(2, ks::RW | ks::INSERT)], docs: docs("Moves a member from one set to another.", "1.0.0", "O(1)"), handler: smove, ..CommandSpec::DEFAULT },
    CommandSpec { name: "sinter", group: Group::Set, arity: -2, flags: READONLY, acl: SET, keys: MULTI_RO, tips: ORDER, docs: docs("Returns the intersect of multiple sets.", "1.0.0", INTER_COMPLEXITY), handler: sinter, ..CommandSpec::DEFAULT },
    CommandSpec { name: "sintercard", group: Group::Set, arity: -3, flags: READONLY, acl: SET, keys: &[KeySpec::keynum(1, ks::RO | ks::ACCESS)], docs: docs("Returns the number of members of the intersect of multiple sets.", "7.0.0", INTER_COMPLEXITY), handler: sintercard, ..CommandSpec::DEFAULT },
    CommandSpec { name: "sunion", group: Group::Set, arity: -2, flags: READONLY, acl: SET, keys: MULTI_RO, tips: ORDER, docs: docs("Returns the union of multiple sets.", "1.0.0", TOTAL_COMPLEXITY), handler: sunion, ..CommandSpec::DEFAULT },
    CommandSpec { name: "sdiff", group: Group::Set, arity: -2, flags: READONLY, acl: SET, keys: MULTI_RO, tips: ORDER, docs: docs("Returns the difference of multiple sets.", "1.0.0", TOTAL_COMPLEXITY), handler: sdiff, ..CommandSpec::DEFAULT },
    CommandSpec { name: "sinterstore", group: Group::Set, arity: -3, flags: WRITE | DENYOOM, acl: SET, keys: STORE_RW, docs: docs("Stores the intersect of multiple sets in a key.", "1.0.0", INTER_COMPLEXITY), event: Some((notify::SET, "sinterstore")), handler: sinterstore, ..CommandSpec::DEFAULT },
    CommandSpec { name: "sunionstore", group: Group::Set, arity: -3, flags: WRITE | DENYOOM, acl: SET, keys: STORE_OW, docs: docs("Stores the union of multiple sets in a key.", "1.0.0", TOTAL_COMPLEXITY), event: Some((notify::SET, "sunionstore")), handler: sunionstore, ..CommandSpec::DEFAULT },
    CommandSpec { name: "sdiffstore", group: Group::Set, arity: -3, flags: WRITE | DENYOOM, acl: SET, keys: STORE_OW, docs: docs("Stores the difference of multiple sets in a key.", "1.0.0", TOTAL_COMPLEXITY), event: Some((notify::SET, "sdiffstore")), handler: sdiffstore, ..CommandSpec::DEFAULT },
    CommandSpec { name: "sscan", group: Group::Set, arity: -3, flags: READONLY, acl: SET, keys: &[KeySpec::one(1, ks::RO | ks::ACCESS)], tips: RANDOM, docs: docs("Iterates over members of a set.", "2.8.0", "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.."), handler: sscan, ..CommandSpec::DEFAULT },
];

/// The most members a random reply may hold. Redis would try to build any size and run out of memory;
/// we refuse instead.
const MAX_RANDOM_REPLY: u64 = 1 << 24;

/// The set conversion thresholds currently configured.
pub fn limits(server: &Server) -> SetLimits {
    let c = server.config.read();
    SetLimits {
        intset_entries: c.set_max_intset_entries,
        listpack_entries: c.set_max_listpack_entries,
        listpack_value: c.set_max_listpack_value,
    }
}

/// Reads a set value: `Ok(None)` if the key is absent, WRONGTYPE if it holds another type.
pub fn get_set(v: Option<&Value>) -> Result<Option<&SetValue>, CmdError> {
    match v {
        None => Ok(None),
        Some(Value::Set(s)) => Ok(Some(s)),
        Some(_) => Err(CmdError::WrongType),
    }
}

fn member_reply(m: Member<'_>) -> Reply {
    match m {
        Member::Int(i) => Reply::bulk_int(i),
        Member::Str(s) => Reply::bulk_copy(s),
    }
}

fn set_reply(s: &SetValue) -> Reply {
    Reply::Set(s.iter().map(member_reply).collect())
}

/// Runs a write handler and records the number of changes Redis counts for it (`server.dirty` in
/// `t_set.c`: one per member added, removed or popped, one per stored or deleted destination) in place
/// of the per-lookup count the keyspace view keeps, so `rdb_changes_since_last_save` matches Redis.
fn counted<'a>(
    ctx: &mut ExecCtx<'a>,
    args: &mut Args,
    f: impl FnOnce(&mut ExecCtx<'a>, &mut Args) -> Result<(Reply, u64), CmdError>,
) -> Result<Reply, CmdError> {
    let base = ctx.dirty;
    let r = f(ctx, args);
    match r {
        Ok((reply, n)) => {
            ctx.dirty = base + n;
            Ok(reply)
        }
        Err(e) => {
            ctx.dirty = base;
            Err(e)
        }
    }
}

/// `SADD key member [member ...]` → the number of members added.
fn sadd(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    counted(ctx, args, sadd_impl)
}

fn sadd_impl(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<(Reply, u64), CmdError> {
    let key = args.next_bytes()?;
    let n = args.remaining();
    let lim = limits(ctx.server);
    let mut db = ctx.db();
    let v = db.get_or_insert_with(key, || {
        Value::Set(SetValue::create(args.peek().unwrap_or_default(), n, &lim))
    });
    let Value::Set(set) = v else {
        return Err(CmdError::WrongType);
    };
    set.maybe_convert(n, &lim);
    let mut added = 0;
    for m in args.by_ref() {
        if set.add_bytes(m, &lim) {
            added += 1;
        }
    }
    Ok((Reply::Int(added), added as u64))
}

/// `SREM key member [member ...]` → the number of members removed; the key goes when the set empties.
fn srem(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    counted(ctx, args, srem_impl)
}

fn srem_impl(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<(Reply, u64), CmdError> {
    let key = args.next_bytes()?;
    let mut db = ctx.db();
    let set = match db.get_mut(key) {
        None => return Ok((Reply::Int(0), 0)),
        Some(Value::Set(s)) => s,
        Some(_) => return Err(CmdError::WrongType),
    };
    let mut removed = 0;
    for m in args.by_ref() {
        if set.remove(Member::Str(m)) {
            removed += 1;
            if set.is_empty() {
                break;
            }
        }
    }
    if set.is_empty() {
        db.remove(key);
    }
    Ok((Reply::Int(removed), removed as u64))
}

/// `SMEMBERS key` → every member (a set reply; empty for a missing key).
fn smembers(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let mut db = ctx.db();
    Ok(get_set(db.get(key))?.map_or(Reply::Set(Vec::new()), set_reply))
}

/// `SISMEMBER key member` → 1 if `member` belongs to the set, else 0.
fn sismember(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let m = args.next_bytes()?;
    let mut db = ctx.db();
    let found = get_set(db.get(key))?.is_some_and(|s| s.contains_bytes(m));
    Ok(Reply::Int(found as i64))
}

/// `SMISMEMBER key member [member ...]` → an array of 1/0, one per member (all 0 for a missing key).
fn smismember(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let mut db = ctx.db();
    let set = get_set(db.get(key))?;
    Ok(Reply::Array(
        args.map(|m| Reply::Int(set.is_some_and(|s| s.contains_bytes(m)) as i64))
            .collect(),
    ))
}

/// `SCARD key` → the number of members (0 for a missing key).
fn scard(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let mut db = ctx.db();
    Ok(Reply::Int(
        get_set(db.get(key))?.map_or(0, |s| s.len() as i64),
    ))
}

/// `SPOP key [count]` → without count, a random member removed (nil if the key is missing); with count,
/// a set reply of up to `count` distinct members removed. The key goes when the set empties.
fn spop(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    counted(ctx, args, spop_impl)
}

fn spop_impl(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<(Reply, u64), CmdError> {
    let key = args.next_bytes()?;
    match args.remaining() {
        0 => {}
        1 => return spop_count(ctx, key, args),
        _ => return Err(CmdError::Syntax),
    }
    let mut db = ctx.db();
    let set = match db.get_mut(key) {
        None => return Ok((Reply::Nil, 0)),
        Some(Value::Set(s)) => s,
        Some(_) => return Err(CmdError::WrongType),
    };
    let popped = set.pop_random(&mut rand::thread_rng());
    if set.is_empty() {
        db.remove(key);
    }
    let n = popped.is_some() as u64;
    Ok((popped.map_or(Reply::Nil, Reply::SmallBulk), n))
}

/// How many times larger than what stays the set must be for SPOP to pop members one by one rather
/// than rebuild the set from the members that stay (Redis's `SPOP_MOVE_STRATEGY_MUL`).
const SPOP_MOVE_STRATEGY_MUL: usize = 5;

fn spop_count(
    ctx: &mut ExecCtx<'_>,
    key: &[u8],
    args: &mut Args,
) -> Result<(Reply, u64), CmdError> {
    let count = parse_i64(args.next_bytes()?)
        .filter(|c| *c >= 0)
        .ok_or(CmdError::NotPositive)? as u64;
    let lim = limits(ctx.server);
    let mut db = ctx.db();
    let v = match db.get_mut(key) {
        None => return Ok((Reply::Set(Vec::new()), 0)),
        Some(v @ Value::Set(_)) => v,
        Some(_) => return Err(CmdError::WrongType),
    };
    let Value::Set(set) = v else {
        return Err(CmdError::WrongType);
    };
    if count == 0 {
        return Ok((Reply::Set(Vec::new()), 0));
    }
    let size = set.len();
    if count >= size as u64 {
        // The whole set, listed as SUNION of the one set would list it.
        let all = union_diff(&[Some(&*set)], false, Op::Union, &lim);
        let reply = set_reply(&all);
        // Redis lists it through SUNION's code, whose read lookup counts a keyspace hit.
        db.get(key);
        db.remove(key);
        return Ok((reply, size as u64));
    }
    let count = count as usize;
    let remaining = size - count;
    let mut rng = rand::thread_rng();
    if remaining * SPOP_MOVE_STRATEGY_MUL > count {
        let out = (0..count)
            .filter_map(|_| set.pop_random(&mut rng).map(Reply::SmallBulk))
            .collect();
        return Ok((Reply::Set(out), count as u64));
    }
    // Most of the set goes: move the members that stay to a new set and reply with the old one.
    let mut kept: Option<SetValue> = match set.encoding() {
        Encoding::Listpack => Some(SetValue::new_listpack()),
        _ => None,
    };
    let from_intset = set.encoding() == Encoding::Intset;
    for _ in 0..remaining {
        let Some(m) = set.pop_random(&mut rng) else {
            break;
        };
        let dst = kept.get_or_insert_with(|| {
            if from_intset {
                SetValue::new_intset()
            } else {
                SetValue::new_listpack()
            }
        });
        dst.add_bytes(&m, &lim);
    }
    let reply = set_reply(set);
    *v = Value::Set(kept.unwrap_or_else(SetValue::new_intset));
    Ok((reply, count as u64))
}

/// Below this ratio of set size to count, SRANDMEMBER samples by index rather than by random draws
/// (Redis's `SRANDMEMBER_SUB_STRATEGY_MUL`).
const SRANDMEMBER_SUB_STRATEGY_MUL: u64 = 3;

/// `SRANDMEMBER key [count]` → without count, a random member (nil if the key is missing); with a
/// positive count, up to `count` distinct members; with a negative count, exactly `-count` members that
/// may repeat. With a count the reply is an array (empty for a missing key).
fn srandmember(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let count = match args.remaining() {
        0 => None,
        1 => {
            let c = args.next_i64()?;
            if c == i64::MIN {
                return Err(CmdError::CountOutOfRange);
            }
            Some(c)
        }
        _ => return Err(CmdError::Syntax),
    };
    let mut db = ctx.db();
    let set = get_set(db.get(key))?;
    let mut rng = rand::thread_rng();
    let Some(count) = count else {
        return Ok(set
            .and_then(|s| s.random(&mut rng))
            .map_or(Reply::Nil, member_reply));
    };
    let Some(set) = set else {
        return Ok(Reply::Array(Vec::new()));
    };
    if count == 0 || set.is_empty() {
        return Ok(Reply::Array(Vec::new()));
    }
    let n = count.unsigned_abs();
    if count < 0 || count == 1 {
        if n > MAX_RANDOM_REPLY {
            return Err(CmdError::RandomCountTooLarge);
        }
        if set.encoding() == Encoding::Listpack {
            // Index the listpack once rather than walking it for every draw.
            let all: Vec<Member<'_>> = set.iter().collect();
            let out = (0..n)
                .map(|_| member_reply(all[rng.gen_range(0..all.len())]))
                .collect();
            return Ok(Reply::Array(out));
        }
        let out = (0..n)
            .filter_map(|_| set.random(&mut rng).map(member_reply))
            .collect();
        return Ok(Reply::Array(out));
    }
    if n >= set.len() as u64 {
        return Ok(Reply::Array(set.iter().map(member_reply).collect()));
    }
    if set.encoding() == Encoding::Hashtable && n * SRANDMEMBER_SUB_STRATEGY_MUL <= set.len() as u64
    {
        // Few members from a large table: draw until enough distinct ones, O(count) not O(size).
        let n = n as usize;
        let mut seen = std::collections::HashSet::with_capacity(n);
        let mut out = Vec::with_capacity(n);
        while out.len() < n {
            match set.random(&mut rng) {
                Some(m) => {
                    if seen.insert(m) {
                        out.push(member_reply(m));
                    }
                }
                None => break,
            }
        }
        return Ok(Reply::Array(out));
    }
    Ok(Reply::Array(
        set.sample_distinct(n as usize, &mut rng)
            .into_iter()
            .map(member_reply)
            .collect(),
    ))
}

/// `SMOVE source destination member` → 1 if the member was moved (or, when source and destination are
/// the same key, if it is a member), 0 otherwise. WRONGTYPE if either key holds another type.
fn smove(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    counted(ctx, args, smove_impl)
}

fn smove_impl(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<(Reply, u64), CmdError> {
    let src = args.next_bytes()?;
    let dst = args.next_bytes()?;
    let m = args.next_bytes()?;
    let lim = limits(ctx.server);
    let mut db = ctx.db();
    let is_set = |e: &crate::storage::Entry| matches!(e.value, Value::Set(_));
    match db.peek(src).map(is_set) {
        None => return Ok((Reply::Int(0), 0)),
        Some(false) => return Err(CmdError::WrongType),
        Some(true) => {}
    }
    if db.peek(dst).map(is_set) == Some(false) {
        return Err(CmdError::WrongType);
    }
    if src == dst {
        let found = db
            .peek(src)
            .is_some_and(|e| matches!(&e.value, Value::Set(s) if s.contains_bytes(m)));
        return Ok((Reply::Int(found as i64), 0));
    }
    let Some(Value::Set(from)) = db.get_mut(src) else {
        return Ok((Reply::Int(0), 0));
    };
    if !from.remove(Member::Str(m)) {
        return Ok((Reply::Int(0), 0));
    }
    let emptied = from.is_empty();
    // Events as Redis raises them: srem, del (if emptied), new (if created), sadd (if added).
    db.notify(notify::SET, "srem", src);
    if emptied {
        db.remove(src);
    }
    let to = db.get_or_insert_with(dst, || Value::Set(SetValue::create(m, 1, &lim)));
    let added = match to {
        Value::Set(to) => to.add_bytes(m, &lim),
        _ => false,
    };
    if added {
        db.notify(notify::SET, "sadd", dst);
    }
    Ok((Reply::Int(1), 1 + added as u64))
}

/// The sets named by `keys`, `None` for missing keys; WRONGTYPE if any key holds another type.
fn sources(vals: Vec<Option<&Value>>) -> Result<Vec<Option<&SetValue>>, CmdError> {
    vals.into_iter().map(get_set).collect()
}

/// What an intersection produces.
enum InterOut {
    Members(Vec<Reply>),
    Card(usize),
    Store(SetValue),
}

/// The intersection as Redis's `sinterGenericCommand` computes it: the sets sorted by size (stably), the
/// smallest iterated in its own order, each member tested against the others. `None` if a source is
/// missing (the result is empty). `limit` (0: none) stops SINTERCARD's count early.
fn intersect(mut sets: Vec<&SetValue>, mode: u8, limit: usize, lim: &SetLimits) -> InterOut {
    sets.sort_by_key(|s| s.len());
    let first = sets[0];
    let in_all = |m: Member<'_>| {
        sets[1..]
            .iter()
            .all(|s| std::ptr::eq(*s, first) || s.contains(m))
    };
    match mode {
        0 => InterOut::Members(
            first
                .iter()
                .filter(|m| in_all(*m))
                .map(member_reply)
                .collect(),
        ),
        1 => {
            let mut n = 0;
            for m in first.iter() {
                if in_all(m) {
                    n += 1;
                    if limit != 0 && n >= limit {
                        break;
                    }
                }
            }
            InterOut::Card(n)
        }
        _ => {
            let mut dst = if first.encoding() == Encoding::Intset {
                SetValue::new_intset()
            } else {
                SetValue::new_listpack()
            };
            let mut only_integers = true;
            for m in first.iter().filter(|m| in_all(*m)) {
                only_integers &= m.as_int().is_some();
                dst.add(m, lim);
            }
            if only_integers {
                dst.maybe_convert_to_intset(lim);
            }
            InterOut::Store(dst)
        }
    }
}

/// Runs an intersection over `keys` in the mode asked (0: members, 1: cardinality, 2: a stored set).
fn inter_generic(
    ctx: &mut ExecCtx<'_>,
    keys: &[&[u8]],
    mode: u8,
    limit: usize,
) -> Result<InterOut, CmdError> {
    let lim = limits(ctx.server);
    let mut db = ctx.db();
    let sets = sources(db.get_many(keys))?;
    let Some(sets) = sets.into_iter().collect::<Option<Vec<_>>>() else {
        return Ok(match mode {
            0 => InterOut::Members(Vec::new()),
            1 => InterOut::Card(0),
            _ => InterOut::Store(SetValue::new_intset()),
        });
    };
    Ok(intersect(sets, mode, limit, &lim))
}

/// Stores `result` at `dst` (replacing any value and TTL), or deletes `dst` if it is empty; replies
/// with the stored cardinality.
fn store(ctx: &mut ExecCtx<'_>, dst: &[u8], result: SetValue) -> (Reply, u64) {
    let n = result.len();
    let mut db = ctx.db();
    let changed = if n == 0 {
        db.remove(dst).is_some()
    } else {
        db.set(dst, Value::Set(result), Ttl::Clear);
        true
    };
    (Reply::Int(n as i64), changed as u64)
}

/// `SINTER key [key ...]` → the members common to every set (a set reply; empty if any key is missing).
fn sinter(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let keys = args.rest();
    match inter_generic(ctx, &keys, 0, 0)? {
        InterOut::Members(m) => Ok(Reply::Set(m)),
        _ => Ok(Reply::Set(Vec::new())),
    }
}

/// `SMEMBERS`-free intersection count: `SINTERCARD numkeys key [key ...] [LIMIT limit]` → the size of
/// the intersection, counting stops at `limit` when it is not 0.
fn sintercard(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let argv = args.rest();
    let numkeys = parse_i64(argv[0])
        .filter(|n| *n >= 1)
        .ok_or(CmdError::NumkeysNotPositive)?;
    if numkeys > (argv.len() - 1) as i64 {
        return Err(CmdError::NumkeysTooMany);
    }
    let numkeys = numkeys as usize;
    let mut limit = 0usize;
    let mut i = 1 + numkeys;
    while i < argv.len() {
        if argv[i].eq_ignore_ascii_case(b"limit") && i + 1 < argv.len() {
            limit = parse_i64(argv[i + 1])
                .filter(|l| *l >= 0)
                .ok_or(CmdError::LimitNegative)? as usize;
            i += 2;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    match inter_generic(ctx, &argv[1..=numkeys], 1, limit)? {
        InterOut::Card(n) => Ok(Reply::Int(n as i64)),
        _ => Ok(Reply::Int(0)),
    }
}

/// `SINTERSTORE destination key [key ...]` → the size of the intersection stored at `destination`
/// (which is deleted when the intersection is empty).
fn sinterstore(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    counted(ctx, args, |ctx, args| {
        let dst = args.next_bytes()?;
        let keys = args.rest();
        let result = match inter_generic(ctx, &keys, 2, 0)? {
            InterOut::Store(s) => s,
            _ => SetValue::new_intset(),
        };
        Ok(store(ctx, dst, result))
    })
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    Union,
    Diff,
}

/// Union or difference as Redis's `sunionDiffGenericCommand` builds it: into a set that starts as an
/// intset and converts as members arrive, choosing between its two difference algorithms by the work
/// each would do. `same_first` says a later key names the first set again (the difference is empty).
fn union_diff(sets: &[Option<&SetValue>], same_first: bool, op: Op, lim: &SetLimits) -> SetValue {
    let mut dst = SetValue::new_intset();
    match op {
        Op::Union => {
            for s in sets.iter().flatten() {
                for m in s.iter() {
                    dst.add(m, lim);
                }
            }
        }
        Op::Diff => {
            let Some(first) = sets[0] else {
                return dst;
            };
            if same_first {
                return dst;
            }
            let others = &sets[1..];
            let size = |s: &Option<&SetValue>| s.map_or(0, |s| s.len());
            // Redis counts the first set's size once per existing set (itself included), halved to
            // credit algorithm 1's better constants.
            let algo_one_work = sets.iter().flatten().count() * first.len() / 2;
            let algo_two_work: usize = sets.iter().map(size).sum();
            if algo_one_work <= algo_two_work {
                let mut rest: Vec<Option<&SetValue>> = others.to_vec();
                rest.sort_by_key(|s| std::cmp::Reverse(size(s)));
                for m in first.iter() {
                    if !rest.iter().flatten().any(|s| s.contains(m)) {
                        dst.add(m, lim);
                    }
                }
            } else {
                let mut card = 0usize;
                for (j, s) in sets.iter().enumerate() {
                    let Some(s) = s else { continue };
                    for m in s.iter() {
                        if j == 0 {
                            card += dst.add(m, lim) as usize;
                        } else {
                            card -= dst.remove(m) as usize;
                        }
                    }
                    if card == 0 {
                        break;
                    }
                }
            }
        }
    }
    dst
}

/// Computes a union or difference over `keys`.
fn union_diff_keys(ctx: &mut ExecCtx<'_>, keys: &[&[u8]], op: Op) -> Result<SetValue, CmdError> {
    let lim = limits(ctx.server);
    let mut db = ctx.db();
    let sets = sources(db.get_many(keys))?;
    let same_first = sets[0].is_some() && keys[1..].iter().any(|k| *k == keys[0]);
    Ok(union_diff(&sets, same_first, op, &lim))
}

/// `SUNION key [key ...]` → the members of any of the sets (a set reply).
fn sunion(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let keys = args.rest();
    Ok(set_reply(&union_diff_keys(ctx, &keys, Op::Union)?))
}

/// `SDIFF key [key ...]` → the members of the first set that are in none of the others (a set reply).
fn sdiff(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let keys = args.rest();
    Ok(set_reply(&union_diff_keys(ctx, &keys, Op::Diff)?))
}

/// `SUNIONSTORE destination key [key ...]` → the size of the union stored at `destination` (deleted
/// when the union is empty).
fn sunionstore(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    counted(ctx, args, |ctx, args| {
        let dst = args.next_bytes()?;
        let keys = args.rest();
        let result = union_diff_keys(ctx, &keys, Op::Union)?;
        Ok(store(ctx, dst, result))
    })
}

/// `SDIFFSTORE destination key [key ...]` → the size of the difference stored at `destination`
/// (deleted when the difference is empty).
fn sdiffstore(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    counted(ctx, args, |ctx, args| {
        let dst = args.next_bytes()?;
        let keys = args.rest();
        let result = union_diff_keys(ctx, &keys, Op::Diff)?;
        Ok(store(ctx, dst, result))
    })
}

/// `SSCAN key cursor [MATCH pattern] [COUNT count]` → `[next cursor, [member ...]]`. A compact set is
/// returned whole with cursor 0; a hash table is walked with the reverse-binary cursor, about `count`
/// members per call.
fn sscan(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let cursor = super::scan::parse_cursor(args.next_bytes()?).ok_or(CmdError::InvalidCursor)?;
    let mut db = ctx.db();
    let Some(set) = get_set(db.get(key))? else {
        return Ok(Reply::Array(vec![
            Reply::bulk_str("0"),
            Reply::Array(Vec::new()),
        ]));
    };
    let opts = super::scan::ScanOptions::parse(args, false)?;
    let count = opts.count;
    let keep = |m: &[u8]| opts.matches(m);
    let (next, out) = match set.dict() {
        None => {
            let out = set
                .iter()
                .filter_map(|m| m.with_bytes(|b| keep(b).then(|| Reply::bulk_copy(b))))
                .collect();
            (0, out)
        }
        Some(d) => {
            let mut out = Vec::new();
            let mut seen = 0u64;
            let mut budget = count.saturating_mul(10);
            let mut cur = cursor;
            loop {
                cur = d.scan_step(cur, |n| {
                    seen += 1;
                    if keep(&n.key) {
                        out.push(Reply::bulk_copy(&n.key));
                    }
                });
                if cur == 0 || budget == 0 || seen >= count {
                    break;
                }
                budget -= 1;
            }
            (cur, out)
        }
    };
    Ok(Reply::Array(vec![
        Reply::bulk_string(next.to_string()),
        Reply::Array(out),
    ]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(items: &[&str]) -> SetValue {
        let lim = SetLimits::default();
        let mut s = SetValue::create(items[0].as_bytes(), items.len(), &lim);
        for i in items {
            s.add_bytes(i.as_bytes(), &lim);
        }
        s
    }

    fn texts(s: &SetValue) -> Vec<String> {
        s.iter()
            .map(|m| String::from_utf8_lossy(&m.to_small()).into_owned())
            .collect()
    }

    #[test]
    fn union_order_follows_redis() {
        let lim = SetLimits::default();
        let a = set(&["b", "3", "a"]);
        let b = set(&["2", "1"]);
        // Integers first go into an intset (sorted); the first string turns it into a listpack.
        let u = union_diff(&[Some(&b), Some(&a)], false, Op::Union, &lim);
        assert_eq!(texts(&u), ["1", "2", "b", "3", "a"]);
        assert_eq!(u.encoding(), Encoding::Listpack);
    }

    #[test]
    fn diff_algorithms_agree() {
        let lim = SetLimits::default();
        let a = set(&["1", "2", "3", "4", "x"]);
        let b = set(&["2", "x"]);
        let d = union_diff(&[Some(&a), Some(&b), None], false, Op::Diff, &lim);
        assert_eq!(texts(&d), ["1", "3", "4"]);
        assert!(union_diff(&[Some(&a), Some(&b)], true, Op::Diff, &lim).is_empty());
        assert!(union_diff(&[None, Some(&b)], false, Op::Diff, &lim).is_empty());
    }

    #[test]
    fn intersection_store_encoding() {
        let lim = SetLimits::default();
        let a = set(&["a", "1", "2"]);
        let b = set(&["2", "1", "z"]);
        match intersect(vec![&a, &b], 2, 0, &lim) {
            InterOut::Store(s) => {
                assert_eq!(s.encoding(), Encoding::Intset);
                assert_eq!(texts(&s), ["1", "2"]);
            }
            _ => panic!("store expected"),
        }
        match intersect(vec![&a, &b], 1, 1, &lim) {
            InterOut::Card(n) => assert_eq!(n, 1),
            _ => panic!("card expected"),
        }
    }
}
