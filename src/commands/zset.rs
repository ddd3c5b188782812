//! Sorted-set commands (`t_zset.c`): ZADD and friends, ranges by rank, score and lex, pops (blocking
//! too), random members, ZSCAN, and the set algebra (ZUNION, ZINTER, ZDIFF, ZINTERCARD).
//!
//! The data structure is [`crate::storage::types::zset::ZSet`]; this file parses arguments in the order
//! Redis does (that order decides which error a client sees: option syntax, then incompatible options,
//! then numbers, then the key's type) and turns every range (by rank, by score, by lex) into a rank
//! range of the set, which the set answers in O(log n).
//!
//! Scores are replied as [`Reply::Double`] (a RESP3 double, a bulk string in RESP2) with Redis 7.2's
//! shortest round-trip text (`1.1`, where Redis 7.0 printed `1.1000000000000001`). Replies made of
//! `member, score` pairs use [`Reply::Pairs`]: nested pairs in RESP3, a flat array in RESP2, as Redis.

use crate::storage::notify;
use bytes::Bytes;
use rand::Rng;

use super::table::{acl, flags::*, ks, member, CommandSpec, Docs, Group, KeySpec};
use super::{Args, BlockOn, ExecCtx};
use crate::error::CmdError;
use crate::protocol::{format_double, parse_i64, Reply};
use crate::storage::db::Ttl;
use crate::storage::types::zset::{Limits, ZSet};
use crate::storage::Value;

const Z: u64 = acl::SORTEDSET;

const fn docs(summary: &'static str, since: &'static str, complexity: &'static str) -> Docs {
    Docs {
        summary,
        since,
        complexity,
    }
}

const RO_ACCESS: &[KeySpec] = &[KeySpec::one(1, ks::RO | ks::ACCESS)];
const RW_DELETE: &[KeySpec] = &[KeySpec::one(1, ks::RW | ks::DELETE)];
const RW_ACCESS_DELETE: &[KeySpec] = &[KeySpec::one(1, ks::RW | ks::ACCESS | ks::DELETE)];
const KEYNUM_RO: &[KeySpec] = &[KeySpec::keynum(1, ks::RO | ks::ACCESS)];
const STORE_KEYNUM: &[KeySpec] = &[
    KeySpec::one(1, ks::OW | ks::UPDATE),
    KeySpec::keynum(2, ks::RO | ks::ACCESS),
];
const BY_RANGE: &str = "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).";
const REM_RANGE: &str = "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.";
const UNION: &str = "O(N)+O(M*log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set.";
const INTER: &str = "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number of input sorted sets and M being the number of elements in the resulting sorted set.";
const DIFF: &str = "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is the size of the first set, and K is the size of the result set.";
const MPOP: &str = "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped.";

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec { name: "zadd", group: Group::SortedSet, arity: -4, flags: WRITE | DENYOOM | FAST, acl: Z, keys: &[KeySpec::one(1, ks::RW | ks::UPDATE)], docs: docs("Add one or more members to a sorted set, or update its score if it already exists", "1.2.0", "O(log(N)) for each item added, where N is the number of elements in the sorted set."), member: member(4, 3), handler: zadd, ..CommandSpec::DEFAULT },
    CommandSpec { name: "zincrby", group: Group::SortedSet, arity: 4, flags: WRITE | DENYOOM | FAST, acl: Z, keys: &[KeySpec::one(1, ks::RW | ks::ACCESS | ks::UPDATE)], docs: docs("Increment the score of a member in a sorted set", "1.2.0", "O(log(N)) where N is the number of elements in the sorted set."), member: member(4, 3), handler: zincrby, ..CommandSpec::DEFAULT },
    CommandSpec { name: "zrem", group: Group::SortedSet, arity: -3, flags: WRITE | FAST, acl: Z, keys: RW_DELETE, docs: docs("Remove one or more members from a sorted set", "1.2.0", "O(M*log(N)) with N being the number of elements in the sorted set and M the number of elements to be removed."), event: Some((notify::ZSET, "zrem")), member: member(3, 2), handler: zrem, ..CommandSpec::DEFAULT },
    CommandSpec { name: "zcard", group: Group::SortedSet, arity: 2, flags: READONLY | FAST, acl: Z, keys: &[KeySpec::one(1, ks::RO)], docs: docs("Get the number of members in a sorted set", "1.2.0", "O(1)"), handler: zcard, ..CommandSpec::DEFAULT },
    CommandSpec { name: "zscore", group: Group::SortedSet, arity: 3, flags: READONLY | FAST, acl: Z, keys: RO_ACCESS, docs: docs("Get the score associated with the given member in a sorted set", "1.2.0", "O(1)"), member: member(3, 2), handler: zscore, ..CommandSpec::DEFAULT },
    CommandSpec { name: "zmscore", group: Group::SortedSet, arity: -3, flags: READONLY | FAST, acl: Z, keys: RO_ACCESS, docs: docs("Get the score associated with the given members in a sorted set", "6.2.0", "O(N) where N is the number of members being requested."), handler: zmscore, ..CommandSpec::DEFAULT },
    CommandSpec { name: "zcount", group: Group::SortedSet, arity: 4, flags: READONLY | FAST, acl: Z, keys: RO_ACCESS, docs: docs("Count the members in a sorted set with scores within the given values", "2.0.0", "O(log(N)) with N being the number of elements in the sorted set."), handler: zcount, ..CommandSpec::DEFAULT },
    CommandSpec { name: "zlexcount", group: Group::SortedSet, arity: 4, flags: READONLY | FAST, acl: Z, keys: RO_ACCESS, docs: docs("Count the number of members in a sorted set between a given lexicographical range", "2.8.9", "O(log(N)) with N being the number of elements in the sorted set."), handler: zlexcount, ..CommandSpec::DEFAULT },
    // ZRANK/ZREVRANK take WITHSCORE since 7.2, so their arity is -3 (7.0's table says 3).
    CommandSpec { name: "zrank", group: Group::SortedSet, arity: -3, flags: READONLY | FAST, acl: Z, keys: RO_ACCESS, docs: docs("Determine the index of a member in a sorted set", "2.0.0", "O(log(N))"), member: member(3, 2), handler: zrank, ..CommandSpec::DEFAULT },
    CommandSpec { name: "zrevrank", group: Group::SortedSet, arity: -3, flags: READONLY | FAST, acl: Z, keys: RO_ACCESS, docs: docs("Determine the index of a member in a sorted set, with scores ordered from high to low", "2.0.0", "O(log(N))"), member: member(3, 2), handler: zrevrank, ..CommandSpec::DEFAULT },
    CommandSpec { name: "zrange", group: Group::SortedSet, arity: -4, flags: READONLY, acl: Z, keys: RO_ACCESS, docs: docs("Return a range of members in a sorted set", "1.2.0", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned."), handler: zrange, ..CommandSpec::DEFAULT },
    CommandSpec { name: "zrangestore", group: Group::SortedSet, arity: -5, flags: WRITE | DENYOOM, acl: Z, keys: &[KeySpec::one(1, ks::OW | ks::UPDATE), KeySpec::one(2, ks::RO | ks::ACCESS)], docs: docs("Store a range of members from sorted set into another key", "6.2.0", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements stored into the destination key."), event: Some((notify::ZSET, "zrangestore")), handler: zrangestore, ..CommandSpec::DEFAULT },
    CommandSpec { name: "zrevrange", group: Group::SortedSet, arity: -4, flags: READONLY, acl: Z, keys: RO_ACCESS, docs: docs("Return a range of members in a sorted set, by index, with scores ordered from high to low", "1.2.0", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned."), handler: zrevrange, ..CommandSpec::DEFAULT },
    CommandSpec { name: "zrangebyscore", group: Group::SortedSet, arity: -4, flags: READONLY, acl: Z, keys: RO_ACCESS, docs: docs("Return a range of members in a sorted set, by score", "1.0.5", BY_RANGE), handler: zrangebyscore, ..CommandSpec::DEFAULT },
    CommandSpec { name: "zrevrangebyscore", group: Group::SortedSet, arity: -4, flags: READONLY, acl: Z, keys: RO_ACCESS, docs: docs("Return a range of members in a sorted set, by score, with scores ordered from high to low", "2.2.0", BY_RANGE), handler: zrevrangebyscore, ..CommandSpec::DEFAULT },
    CommandSpec { name: "zrangebylex", group: Group::SortedSet, arity: -4, flags: READONLY, acl: Z, keys: RO_ACCESS, docs: docs("Return a range of members in a sorted set, by lexicographical range", "2.8.9", BY_RANGE), handler: zrangebylex, ..CommandSpec::DEFAULT },
    CommandSpec { name: "zrevrangebylex", group: Group::SortedSet, arity: -4, flags: READONLY, acl: Z, keys: RO_ACCESS, docs: docs("Return a range of members in a sorted set, by lexicographical range, ordered from higher to lower strings.", "2.8.9", BY_RANGE), handler: zrevrangebylex, ..CommandSpec::DEFAULT },
    CommandSpec { name: "zremrangebyrank", group: Group::SortedSet, arity: 4, flags: WRITE, acl: Z, keys: RW_DELETE, docs: docs("Remove all members in a sorted set within the given indexes", "2.0.0", REM_RANGE), event: Some((notify::ZSET, "zremrangebyrank")), handler: zremrangebyrank, ..CommandSpec::DEFAULT },
    CommandSpec { name: "zremrangebyscore", group: Group::SortedSet, arity: 4, flags: WRITE, acl: Z, keys: RW_DELETE, docs: docs("Remove all members in a sorted set within the given scores", "1.2.0", REM_RANGE), event: Some((notify::ZSET, "zremrangebyscore")), handler: zremrangebyscore, ..CommandSpec::DEFAULT },
    CommandSpec { name: "zremrangebylex", group: Group::SortedSet, arity: 4, flags: WRITE, acl: Z, keys: RW_DELETE, docs: docs("Remove all members in a sorted set between the given lexicographical range", "2.8.9", REM_RANGE), event: Some((notify::ZSET, "zremrangebylex")), handler: zremrangebylex, ..CommandSpec::DEFAULT },
    CommandSpec { name: "zpopmin", group: Group::SortedSet, arity: -2, flags: WRITE | FAST, acl: Z, keys: RW_ACCESS_DELETE, docs: docs("Remove and return members with the lowest scores in a sorted set", "5.0.0", "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped."), handler: zpopmin, ..CommandSpec::DEFAULT },
    CommandSpec { name: "zpopmax", group: Group::SortedSet, arity: -2, flags: WRITE | FAST, acl: Z, keys: RW_ACCESS_DELETE, docs: docs("Remove and return members with the highest scores in a sorted set", "5.0.0", "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped."), handler: zpopmax, ..CommandSpec::DEFAULT },
    CommandSpec { name: "zrandmember", group: Group::SortedSet, arity: -2, flags: READONLY, acl: Z, keys: RO_ACCESS, tips: &["nondeterministic_output"], docs: docs("Get one or multiple random elements from a sorted set", "6.2.0", "O(N) where N is the number of elements returned"), handler: zrandmember, ..CommandSpec::DEFAULT },
    CommandSpec { name: "zscan", group: Group::SortedSet, arity: -3, flags: READONLY, acl: Z, keys: RO_ACCESS, tips: &["nondeterministic_output"], docs: docs("Incrementally iterate sorted sets elements and associated scores", "2.8.0", "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.."), handler: zscan, ..CommandSpec::DEFAULT },
    CommandSpec { name: "zunion", group: Group::SortedSet, arity: -3, flags: READONLY, acl: Z, keys: KEYNUM_RO, docs: docs("Add multiple sorted sets", "6.2.0", UNION), handler: zunion, ..CommandSpec::DEFAULT },
    CommandSpec { name: "zunionstore", group: Group::SortedSet, arity: -4, flags: WRITE | DENYOOM, acl: Z, keys: STORE_KEYNUM, docs: docs("Add multiple sorted sets and store the resulting sorted set in a new key", "2.0.0", "O(N)+O(M log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set."), event: Some((notify::ZSET, "zunionstore")), handler: zunionstore, ..CommandSpec::DEFAULT },
    CommandSpec { name: "zinter", group: Group::SortedSet, arity: -3, flags: READONLY, acl: Z, keys: KEYNUM_RO, docs: docs("Intersect multiple sorted sets", "6.2.0", INTER), handler: zinter, ..CommandSpec::DEFAULT },
    CommandSpec { name: "zinterstore", group: Group::SortedSet, arity: -4, flags: WRITE | DENYOOM, acl: Z, keys: STORE_KEYNUM, docs: docs("Intersect multiple sorted sets and store the resulting sorted set in a new key", "2.0.0", INTER), event: Some((notify::ZSET, "zinterstore")), handler: zinterstore, ..CommandSpec::DEFAULT },
    CommandSpec { name: "zdiff", group: Group::SortedSet, arity: -3, flags: READONLY, acl: Z, keys: KEYNUM_RO, docs: docs("Subtract multiple sorted sets", "6.2.0", DIFF), handler: zdiff, ..CommandSpec::DEFAULT },
    CommandSpec { name: "zdiffstore", group: Group::SortedSet, arity: -4, flags: WRITE | DENYOOM, acl: Z, keys: STORE_KEYNUM, docs: docs("Subtract multiple sorted sets and store the resulting sorted set in a new key", "6.2.0", DIFF), event: Some((notify::ZSET, "zdiffstore")), handler: zdiffstore, ..CommandSpec::DEFAULT },
    CommandSpec { name: "zintercard", group: Group::SortedSet, arity: -3, flags: READONLY, acl: Z, keys: KEYNUM_RO, docs: docs("Intersect multiple sorted sets and return the cardinality of the result", "7.0.0", "O(N*K) worst case with N being the smallest input sorted set, K being the number of input sorted sets."), handler: zintercard, ..CommandSpec::DEFAULT },
    CommandSpec { name: "zmpop", group: Group::SortedSet, arity: -4, flags: WRITE, acl: Z, keys: &[KeySpec::keynum(1, ks::RW | ks::ACCESS | ks::DELETE)], docs: docs("Remove and return members with scores in a sorted set", "7.0.0", MPOP), handler: zmpop, ..CommandSpec::DEFAULT },
    CommandSpec { name: "bzpopmin", group: Group::SortedSet, arity: -3, flags: WRITE | NOSCRIPT | BLOCKING | FAST, acl: Z, keys: &[KeySpec::range(1, -2, 1, ks::RW | ks::ACCESS | ks::DELETE)], docs: docs("Remove and return the member with the lowest score from one or more sorted sets, or block until one is available", "5.0.0", "O(log(N)) with N being the number of elements in the sorted set."), handler: bzpopmin, ..CommandSpec::DEFAULT },
    CommandSpec { name: "bzpopmax", group: Group::SortedSet, arity: -3, flags: WRITE | NOSCRIPT | BLOCKING | FAST, acl: Z, keys: &[KeySpec::range(1, -2, 1, ks::RW | ks::ACCESS | ks::DELETE)], docs: docs("Remove and return the member with the highest score from one or more sorted sets, or block until one is available", "5.0.0", "O(log(N)) with N being the number of elements in the sorted set."), handler: bzpopmax, ..CommandSpec::DEFAULT },
    CommandSpec { name: "bzmpop", group: Group::SortedSet, arity: -5, flags: WRITE | BLOCKING, acl: Z, keys: &[KeySpec::keynum(2, ks::RW | ks::ACCESS | ks::DELETE)], docs: docs("Remove and return members with scores in a sorted set or block until one is available", "7.0.0", MPOP), handler: bzmpop, ..CommandSpec::DEFAULT },
];

// ---------------------------------------------------------------------------------------------------
// Helpers

/// Reads a sorted set: `Ok(None)` if the key is absent, WRONGTYPE if it holds another type.
pub fn get_zset(v: Option<&Value>) -> Result<Option<&ZSet>, CmdError> {
    match v {
        None => Ok(None),
        Some(Value::ZSet(z)) => Ok(Some(z)),
        Some(_) => Err(CmdError::WrongType),
    }
}

/// [`get_zset`] for writing.
fn get_zset_mut(v: Option<&mut Value>) -> Result<Option<&mut ZSet>, CmdError> {
    match v {
        None => Ok(None),
        Some(Value::ZSet(z)) => Ok(Some(z)),
        Some(_) => Err(CmdError::WrongType),
    }
}

/// The configured listpack thresholds.
fn limits(ctx: &ExecCtx<'_>) -> Limits {
    let c = ctx.server.config.read();
    Limits {
        entries: c.zset_max_listpack_entries,
        value: c.zset_max_listpack_value,
    }
}

/// A member as a bulk string (inline when short).
fn member_reply(m: &[u8]) -> Reply {
    Reply::bulk_copy(m)
}

/// Parses a double as C's `strtod` does for range bounds: leading blanks skipped, the empty string is 0.
fn strtod(b: &[u8]) -> Option<f64> {
    let start = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    let t = &b[start..];
    if t.is_empty() {
        return Some(0.0);
    }
    super::args::parse_f64(t)
}

/// A score interval (`zrangespec`).
#[derive(Debug, Clone, Copy, PartialEq)]
struct ScoreRange {
    min: f64,
    max: f64,
    minex: bool,
    maxex: bool,
}

impl ScoreRange {
    /// Redis's `zslParseRange`: `(` makes a bound exclusive; `-inf`/`+inf` are accepted.
    fn parse(min: &[u8], max: &[u8]) -> Result<ScoreRange, CmdError> {
        fn bound(b: &[u8]) -> Option<(f64, bool)> {
            match b.first() {
                Some(b'(') => strtod(&b[1..]).map(|v| (v, true)),
                _ => strtod(b).map(|v| (v, false)),
            }
        }
        let (min, minex) = bound(min).ok_or(CmdError::MinMaxNotFloat)?;
        let (max, maxex) = bound(max).ok_or(CmdError::MinMaxNotFloat)?;
        Ok(ScoreRange {
            min,
            max,
            minex,
            maxex,
        })
    }

    /// The rank interval `lo..hi` of the elements in range.
    fn ranks(&self, z: &ZSet) -> (usize, usize) {
        let lo = if self.minex {
            z.count_before(|s, _| s <= self.min)
        } else {
            z.count_before(|s, _| s < self.min)
        };
        let hi = if self.maxex {
            z.count_before(|s, _| s < self.max)
        } else {
            z.count_before(|s, _| s <= self.max)
        };
        (lo, hi.max(lo))
    }
}

/// One end of a lex interval.
#[derive(Debug, Clone, PartialEq)]
enum Lex {
    Min,
    Max,
    Incl(Bytes),
    Excl(Bytes),
}

impl Lex {
    /// Redis's `zslParseLexRangeItem`: `[x`, `(x`, `-`, `+`.
    fn parse(b: &[u8]) -> Result<Lex, CmdError> {
        match b.first() {
            Some(b'+') if b.len() == 1 => Ok(Lex::Max),
            Some(b'-') if b.len() == 1 => Ok(Lex::Min),
            Some(b'[') => Ok(Lex::Incl(Bytes::copy_from_slice(&b[1..]))),
            Some(b'(') => Ok(Lex::Excl(Bytes::copy_from_slice(&b[1..]))),
            _ => Err(CmdError::LexRangeItem),
        }
    }
}

/// The rank interval `lo..hi` of the elements between `min` and `max` in lex order (meaningful when all
/// scores are equal, as Redis documents).
fn lex_ranks(z: &ZSet, min: &Lex, max: &Lex) -> (usize, usize) {
    let lo = z.count_before(|_, m| match min {
        Lex::Min => false,
        Lex::Max => true,
        Lex::Incl(b) => m < &b[..],
        Lex::Excl(b) => m <= &b[..],
    });
    let hi = z.count_before(|_, m| match max {
        Lex::Min => false,
        Lex::Max => true,
        Lex::Incl(b) => m <= &b[..],
        Lex::Excl(b) => m < &b[..],
    });
    (lo, hi.max(lo))
}

/// Redis's rank-range normalisation (negative indices from the end); `None` when empty.
fn rank_range(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let llen = len as i64;
    let mut start = if start < 0 {
        llen.saturating_add(start)
    } else {
        start
    };
    let mut end = if end < 0 {
        llen.saturating_add(end)
    } else {
        end
    };
    if start < 0 {
        start = 0;
    }
    if start > end || start >= llen {
        return None;
    }
    if end >= llen {
        end = llen - 1;
    }
    Some((start as usize, end as usize))
}

/// Builds a sorted set from pairs, in the encoding a stored result gets (listpack if it fits).
fn build(
    pairs: impl IntoIterator<Item = (Vec<u8>, f64)>,
    n: usize,
    maxlen: usize,
    lim: Limits,
) -> ZSet {
    let mut z = ZSet::with_hint(n, maxlen, lim);
    for (m, s) in pairs {
        z.insert(&m, s, lim);
    }
    z
}

/// Stores `z` at `dst` (replacing whatever was there), or deletes `dst` when `z` is empty; returns the
/// reply (the stored size).
fn store(ctx: &mut ExecCtx<'_>, dst: &[u8], z: ZSet) -> Reply {
    let n = z.len();
    if n == 0 {
        ctx.db().remove(dst);
    } else {
        ctx.db().set(dst, Value::ZSet(z), Ttl::Clear);
        ctx.signal_ready(dst);
    }
    Reply::Int(n as i64)
}

/// A non-negative count argument parsed as Redis's `getPositiveLongFromObjectOrReply` with message
/// `err` (used for bad integers as well).
fn positive(b: &[u8], err: CmdError) -> Result<i64, CmdError> {
    match parse_i64(b) {
        Some(v) if v >= 0 => Ok(v),
        _ => Err(err),
    }
}

/// A numkeys argument, validated as Redis does before any key is touched: at least one key (`zero`
/// error) and no more keys than arguments left (`ERR syntax error`).
fn numkeys(args: &mut Args, zero: CmdError, parse: CmdError) -> Result<usize, CmdError> {
    let n = parse_i64(args.next_bytes()?).ok_or(parse)?;
    if n < 1 {
        return Err(zero);
    }
    if n as u64 > args.remaining() as u64 {
        return Err(CmdError::Syntax);
    }
    Ok(n as usize)
}

// ---------------------------------------------------------------------------------------------------
// ZADD ZINCRBY ZREM ZCARD ZSCORE ZMSCORE ZCOUNT ZLEXCOUNT ZRANK

const NX: u8 = 1;
const XX: u8 = 2;
const GT: u8 = 4;
const LT: u8 = 8;
const CH: u8 = 16;
const INCR: u8 = 32;

/// `ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...]` → the number of members added
/// (with CH: added or changed); with INCR the member's new score, or nil when the update was refused.
fn zadd(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let mut flags = 0u8;
    loop {
        let f = match args.peek() {
            Some(a) if a.eq_ignore_ascii_case(b"nx") => NX,
            Some(a) if a.eq_ignore_ascii_case(b"xx") => XX,
            Some(a) if a.eq_ignore_ascii_case(b"gt") => GT,
            Some(a) if a.eq_ignore_ascii_case(b"lt") => LT,
            Some(a) if a.eq_ignore_ascii_case(b"ch") => CH,
            Some(a) if a.eq_ignore_ascii_case(b"incr") => INCR,
            _ => break,
        };
        flags |= f;
        args.next();
    }
    zadd_generic(ctx, key, flags, args)
}

/// `ZINCRBY key increment member` → the member's new score.
fn zincrby(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    zadd_generic(ctx, key, INCR, args)
}

/// Redis's `zaddGenericCommand`, after the options.
fn zadd_generic(
    ctx: &mut ExecCtx<'_>,
    key: &[u8],
    flags: u8,
    args: &mut Args,
) -> Result<Reply, CmdError> {
    let rest = args.rest();
    if rest.is_empty() || !rest.len().is_multiple_of(2) {
        return Err(CmdError::Syntax);
    }
    let has = |f: u8| flags & f != 0;
    if has(NX) && has(XX) {
        return Err(CmdError::ZaddXxNx);
    }
    if (has(GT) && has(NX)) || (has(LT) && has(NX)) || (has(GT) && has(LT)) {
        return Err(CmdError::ZaddGtLtNx);
    }
    let pairs = rest.len() / 2;
    if has(INCR) && pairs > 1 {
        return Err(CmdError::ZaddIncrPair);
    }
    let mut scores = Vec::with_capacity(pairs);
    for p in rest.chunks_exact(2) {
        scores.push(super::args::parse_f64(p[0]).ok_or(CmdError::NotFloat)?);
    }
    let lim = limits(ctx);
    let mut db = ctx.db();
    let exists = match db.get_mut(key) {
        None => false,
        Some(Value::ZSet(_)) => true,
        Some(_) => return Err(CmdError::WrongType),
    };
    let no_result = || Ok(if has(INCR) { Reply::Nil } else { Reply::Int(0) });
    if !exists {
        if has(XX) {
            return no_result();
        }
        let maxlen = rest.chunks_exact(2).map(|p| p[1].len()).max().unwrap_or(0);
        db.set(
            key,
            Value::ZSet(ZSet::with_hint(pairs, maxlen, lim)),
            Ttl::Clear,
        );
    }
    let Some(Value::ZSet(z)) = db.get_mut(key) else {
        return no_result();
    };
    let (mut added, mut updated, mut processed) = (0i64, 0i64, 0i64);
    let mut last = 0.0;
    let mut err = None;
    for (p, &score) in rest.chunks_exact(2).zip(&scores) {
        let member = p[1];
        match z.score(member) {
            Some(cur) => {
                if has(NX) {
                    continue;
                }
                let new = if has(INCR) {
                    let v = cur + score;
                    if v.is_nan() {
                        err = Some(CmdError::ScoreNan);
                        break;
                    }
                    v
                } else {
                    score
                };
                if (has(LT) && new >= cur) || (has(GT) && new <= cur) {
                    continue;
                }
                last = new;
                processed += 1;
                if new != cur {
                    z.insert(member, new, lim);
                    updated += 1;
                }
            }
            None => {
                if has(XX) {
                    continue;
                }
                z.insert(member, score, lim);
                last = score;
                added += 1;
                processed += 1;
            }
        }
    }
    let empty = z.is_empty();
    if added + updated > 0 {
        db.notify(notify::ZSET, if has(INCR) { "zincr" } else { "zadd" }, key);
    }
    if empty {
        db.remove(key);
    }
    if added > 0 {
        ctx.signal_ready(key);
    }
    if let Some(e) = err {
        return Err(e);
    }
    Ok(if has(INCR) {
        if processed > 0 {
            Reply::Double(last)
        } else {
            Reply::Nil
        }
    } else if has(CH) {
        Reply::Int(added + updated)
    } else {
        Reply::Int(added)
    })
}

/// `ZREM key member [member ...]` → the number of members removed.
fn zrem(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let dirty = ctx.dirty;
    let mut db = ctx.db();
    let Some(z) = get_zset_mut(db.get_mut(key))? else {
        return Ok(Reply::Int(0));
    };
    let mut n = 0;
    for m in args.by_ref() {
        if z.remove(m).is_some() {
            n += 1;
            if z.is_empty() {
                break;
            }
        }
    }
    if z.is_empty() {
        db.remove(key);
    }
    if n == 0 {
        // Nothing changed: no write counted, no event (as Redis).
        ctx.dirty = dirty;
    }
    Ok(Reply::Int(n))
}

/// `ZCARD key` → the number of members (0 for a missing key).
fn zcard(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let mut db = ctx.db();
    Ok(Reply::Int(
        get_zset(db.get(key))?.map_or(0, |z| z.len() as i64),
    ))
}

/// `ZSCORE key member` → the score, or nil.
fn zscore(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let member = args.next_bytes()?;
    let mut db = ctx.db();
    Ok(get_zset(db.get(key))?
        .and_then(|z| z.score(member))
        .map_or(Reply::Nil, Reply::Double))
}

/// `ZMSCORE key member [member ...]` → one score or nil per member.
fn zmscore(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let mut db = ctx.db();
    let z = get_zset(db.get(key))?;
    Ok(Reply::Array(
        args.map(|m| z.and_then(|z| z.score(m)).map_or(Reply::Nil, Reply::Double))
            .collect(),
    ))
}

/// `ZCOUNT key min max` → the number of members with a score in the range.
fn zcount(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let range = ScoreRange::parse(args.next_bytes()?, args.next_bytes()?)?;
    let mut db = ctx.db();
    Ok(Reply::Int(get_zset(db.get(key))?.map_or(0, |z| {
        let (lo, hi) = range.ranks(z);
        (hi - lo) as i64
    })))
}

/// `ZLEXCOUNT key min max` → the number of members in the lex range.
fn zlexcount(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let min = Lex::parse(args.next_bytes()?)?;
    let max = Lex::parse(args.next_bytes()?)?;
    let mut db = ctx.db();
    Ok(Reply::Int(get_zset(db.get(key))?.map_or(0, |z| {
        let (lo, hi) = lex_ranks(z, &min, &max);
        (hi - lo) as i64
    })))
}

/// `ZRANK key member [WITHSCORE]` → the 0-based rank (nil if absent); with WITHSCORE `[rank, score]`
/// (a null array if absent).
fn zrank(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    rank_generic(ctx, args, false)
}

/// `ZREVRANK key member [WITHSCORE]`: as ZRANK, counting from the highest score.
fn zrevrank(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    rank_generic(ctx, args, true)
}

/// ZRANK/ZREVRANK (`rev`), with 7.2's optional WITHSCORE.
fn rank_generic(ctx: &mut ExecCtx<'_>, args: &mut Args, rev: bool) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let member = args.next_bytes()?;
    let withscore = match args.remaining() {
        0 => false,
        1 if args.eat("withscore") => true,
        _ => return Err(CmdError::Syntax),
    };
    let none = if withscore {
        Reply::NilArray
    } else {
        Reply::Nil
    };
    let mut db = ctx.db();
    let Some(z) = get_zset(db.get(key))? else {
        return Ok(none);
    };
    Ok(match z.rank(member) {
        None => none,
        Some((r, s)) => {
            let r = if rev { z.len() - 1 - r } else { r } as i64;
            if withscore {
                Reply::Array(vec![Reply::Int(r), Reply::Double(s)])
            } else {
                Reply::Int(r)
            }
        }
    })
}

// ---------------------------------------------------------------------------------------------------
// ZRANGE and its older forms, ZRANGESTORE

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum By {
    Auto,
    Rank,
    Score,
    Lex,
}

/// `ZRANGE key start stop [BYSCORE|BYLEX] [REV] [LIMIT offset count] [WITHSCORES]` → members (with
/// their scores as pairs).
fn zrange(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    zrange_generic(ctx, args, None, By::Auto, None)
}

/// `ZRANGESTORE dst src min max [BYSCORE|BYLEX] [REV] [LIMIT offset count]` → the stored size.
fn zrangestore(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let dst = args.next_bytes()?;
    zrange_generic(ctx, args, Some(dst), By::Auto, None)
}

/// `ZREVRANGE key start stop [WITHSCORES]`.
fn zrevrange(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    zrange_generic(ctx, args, None, By::Rank, Some(true))
}

/// `ZRANGEBYSCORE key min max [WITHSCORES] [LIMIT offset count]`.
fn zrangebyscore(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    zrange_generic(ctx, args, None, By::Score, Some(false))
}

/// `ZREVRANGEBYSCORE key max min [WITHSCORES] [LIMIT offset count]`.
fn zrevrangebyscore(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    zrange_generic(ctx, args, None, By::Score, Some(true))
}

/// `ZRANGEBYLEX key min max [LIMIT offset count]`.
fn zrangebylex(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    zrange_generic(ctx, args, None, By::Lex, Some(false))
}

/// `ZREVRANGEBYLEX key max min [LIMIT offset count]`.
fn zrevrangebylex(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    zrange_generic(ctx, args, None, By::Lex, Some(true))
}

/// Redis's `zrangeGenericCommand`: options first, then conflicts, then the range's numbers, then the key.
fn zrange_generic(
    ctx: &mut ExecCtx<'_>,
    args: &mut Args,
    dst: Option<&[u8]>,
    mut by: By,
    mut rev: Option<bool>,
) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let mut a = args.next_bytes()?;
    let mut b = args.next_bytes()?;
    let mut withscores = false;
    let mut limit: Option<(i64, i64)> = None;
    while let Some(opt) = args.next() {
        let left = args.remaining();
        let kw = |s: &str| opt.eq_ignore_ascii_case(s.as_bytes());
        if dst.is_none() && kw("withscores") {
            withscores = true;
        } else if kw("limit") && left >= 2 {
            let off = args.next_i64()?;
            let cnt = args.next_i64()?;
            limit = Some((off, cnt));
        } else if rev.is_none() && kw("rev") {
            rev = Some(true);
        } else if by == By::Auto && kw("bylex") {
            by = By::Lex;
        } else if by == By::Auto && kw("byscore") {
            by = By::Score;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    let rev = rev.unwrap_or(false);
    if by == By::Auto {
        by = By::Rank;
    }
    if limit.is_some() && by == By::Rank {
        return Err(CmdError::ZrangeLimitNeedsBy);
    }
    if withscores && by == By::Lex {
        return Err(CmdError::ZrangeWithscoresBylex);
    }
    if rev && by != By::Rank {
        std::mem::swap(&mut a, &mut b);
    }
    enum Spec {
        Rank(i64, i64),
        Score(ScoreRange),
        Lex(Lex, Lex),
    }
    let spec = match by {
        By::Score => Spec::Score(ScoreRange::parse(a, b)?),
        By::Lex => Spec::Lex(Lex::parse(a)?, Lex::parse(b)?),
        _ => Spec::Rank(
            parse_i64(a).ok_or(CmdError::NotInteger)?,
            parse_i64(b).ok_or(CmdError::NotInteger)?,
        ),
    };
    let lim = limits(ctx);
    let mut db = ctx.db();
    let z = match get_zset(db.get(key))? {
        Some(z) => z,
        None => {
            return Ok(match dst {
                Some(d) => store(ctx, d, ZSet::new()),
                None => Reply::Array(Vec::new()),
            })
        }
    };
    // The ascending rank interval [lo, hi) to emit, walked from the top when `rev`.
    let (lo, hi, offset, count) = match spec {
        Spec::Rank(s, e) => match rank_range(s, e, z.len()) {
            None => (0, 0, 0, -1),
            Some((s, e)) => {
                if rev {
                    (z.len() - 1 - e, z.len() - s, 0, -1)
                } else {
                    (s, e + 1, 0, -1)
                }
            }
        },
        Spec::Score(r) => {
            let (lo, hi) = r.ranks(z);
            let (o, c) = limit.unwrap_or((0, -1));
            (lo, hi, o, c)
        }
        Spec::Lex(min, max) => {
            let (lo, hi) = lex_ranks(z, &min, &max);
            let (o, c) = limit.unwrap_or((0, -1));
            (lo, hi, o, c)
        }
    };
    // LIMIT: a negative offset (or one past the set) selects nothing, a negative count everything.
    let (lo, hi) = if offset < 0 || (offset > 0 && offset as u64 >= z.len() as u64) {
        (0, 0)
    } else {
        let offset = offset as usize;
        let avail = (hi - lo).saturating_sub(offset);
        let take = if count < 0 {
            avail
        } else {
            avail.min(count as usize)
        };
        if rev {
            (hi - offset.min(hi - lo) - take, hi - offset.min(hi - lo))
        } else {
            (lo + offset.min(hi - lo), lo + offset.min(hi - lo) + take)
        }
    };
    let items = if hi > lo {
        z.range(lo, hi - 1, rev)
    } else {
        z.range(1, 0, rev)
    };
    if let Some(d) = dst {
        let n = hi.saturating_sub(lo);
        let pairs: Vec<(Vec<u8>, f64)> = items.map(|(m, s)| (m.to_vec(), s)).collect();
        let maxlen = pairs.iter().map(|p| p.0.len()).max().unwrap_or(0);
        let z = build(pairs, n, maxlen, lim);
        return Ok(store(ctx, d, z));
    }
    Ok(if withscores {
        Reply::Pairs(
            items
                .map(|(m, s)| (member_reply(m), Reply::Double(s)))
                .collect(),
        )
    } else {
        Reply::Array(items.map(|(m, _)| member_reply(m)).collect())
    })
}

// ---------------------------------------------------------------------------------------------------
// ZREMRANGEBY*

enum RemSpec {
    Rank(i64, i64),
    Score(ScoreRange),
    Lex(Lex, Lex),
}

/// `ZREMRANGEBYRANK key start stop` → the number of members removed.
fn zremrangebyrank(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let s = args.next_i64()?;
    let e = args.next_i64()?;
    zrem_range(ctx, key, RemSpec::Rank(s, e))
}

/// `ZREMRANGEBYSCORE key min max` → the number of members removed.
fn zremrangebyscore(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let r = ScoreRange::parse(args.next_bytes()?, args.next_bytes()?)?;
    zrem_range(ctx, key, RemSpec::Score(r))
}

/// `ZREMRANGEBYLEX key min max` → the number of members removed.
fn zremrangebylex(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let min = Lex::parse(args.next_bytes()?)?;
    let max = Lex::parse(args.next_bytes()?)?;
    zrem_range(ctx, key, RemSpec::Lex(min, max))
}

/// The ZREMRANGEBY* commands once their range is parsed: the key's type is checked after the range.
fn zrem_range(ctx: &mut ExecCtx<'_>, key: &[u8], spec: RemSpec) -> Result<Reply, CmdError> {
    let dirty = ctx.dirty;
    let mut db = ctx.db();
    let Some(z) = get_zset_mut(db.get_mut(key))? else {
        return Ok(Reply::Int(0));
    };
    let (lo, hi) = match spec {
        RemSpec::Rank(s, e) => match rank_range(s, e, z.len()) {
            Some((s, e)) => (s, e + 1),
            None => (0, 0),
        },
        RemSpec::Score(r) => r.ranks(z),
        RemSpec::Lex(min, max) => lex_ranks(z, &min, &max),
    };
    let n = if hi > lo {
        z.remove_range(lo, hi - 1)
    } else {
        0
    };
    if z.is_empty() {
        db.remove(key);
    }
    if n == 0 {
        // Nothing changed: no write counted, no event (as Redis).
        ctx.dirty = dirty;
    }
    Ok(Reply::Int(n as i64))
}

// ---------------------------------------------------------------------------------------------------
// Pops

/// Popped `(member, score)` pairs.
type Popped = Vec<(Vec<u8>, f64)>;

/// Pops up to `count` elements from the first non-empty set among `keys`: `Ok(None)` when all are
/// empty or missing; WRONGTYPE for a non-set met before a non-empty set.
fn pop_first(
    ctx: &mut ExecCtx<'_>,
    keys: &[&[u8]],
    max: bool,
    count: usize,
) -> Result<Option<(Bytes, Popped)>, CmdError> {
    let mut db = ctx.db();
    for key in keys {
        let Some(z) = get_zset_mut(db.get_mut(key))? else {
            continue;
        };
        if z.is_empty() {
            continue;
        }
        let mut out = Vec::with_capacity(count.min(z.len()));
        while out.len() < count {
            match z.pop(max) {
                Some(e) => out.push(e),
                None => break,
            }
        }
        let empty = z.is_empty();
        // Every popping command (ZPOPMIN, BZPOPMAX, ZMPOP, ...) raises the event of its end.
        db.notify(notify::ZSET, if max { "zpopmax" } else { "zpopmin" }, key);
        if empty {
            db.remove(key);
        }
        return Ok(Some((Bytes::copy_from_slice(key), out)));
    }
    Ok(None)
}

/// `member, score` pairs: nested in RESP3, flat in RESP2 (ZPOPMIN with a count).
fn pairs_reply(items: Vec<(Vec<u8>, f64)>) -> Reply {
    Reply::Pairs(
        items
            .into_iter()
            .map(|(m, s)| (Reply::bulk(m), Reply::Double(s)))
            .collect(),
    )
}

/// `[[member, score], ...]` in every protocol (ZMPOP, BZMPOP).
fn nested_pairs(items: Vec<(Vec<u8>, f64)>) -> Reply {
    Reply::Array(
        items
            .into_iter()
            .map(|(m, s)| Reply::Array(vec![Reply::bulk(m), Reply::Double(s)]))
            .collect(),
    )
}

/// `ZPOPMIN key [count]` → `[member, score]`, or with a count the popped pairs.
fn zpopmin(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    zpop(ctx, args, false)
}

/// `ZPOPMAX key [count]` → as ZPOPMIN, from the highest score.
fn zpopmax(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    zpop(ctx, args, true)
}

/// ZPOPMIN/ZPOPMAX: the count is checked before the key (`ERR value is out of range, must be
/// positive`), and a count of 0 answers an empty array without looking at the key.
fn zpop(ctx: &mut ExecCtx<'_>, args: &mut Args, max: bool) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let count = match args.next() {
        None => None,
        Some(c) => Some(positive(c, CmdError::NotPositive)?),
    };
    args.finish()?;
    if count == Some(0) {
        // Redis answers before looking at the key.
        return Ok(Reply::Array(Vec::new()));
    }
    let n = count.unwrap_or(1) as usize;
    match pop_first(ctx, std::slice::from_ref(&key), max, n)? {
        None => Ok(Reply::Array(Vec::new())),
        Some((_, items)) => Ok(if count.is_some() {
            pairs_reply(items)
        } else {
            Reply::Array(
                items
                    .into_iter()
                    .flat_map(|(m, s)| [Reply::bulk(m), Reply::Double(s)])
                    .collect(),
            )
        }),
    }
}

/// Parses `numkeys key [key ...] MIN|MAX [COUNT count]` (ZMPOP, BZMPOP) as Redis's
/// `zmpopGenericCommand`.
fn parse_mpop<'a>(args: &mut Args<'a>) -> Result<(Vec<&'a [u8]>, bool, usize), CmdError> {
    let n = parse_i64(args.next_bytes()?)
        .filter(|&n| n >= 1)
        .ok_or(CmdError::NumkeysNotPositive)?;
    if n as u64 >= args.remaining() as u64 {
        return Err(CmdError::Syntax);
    }
    let keys: Vec<&[u8]> = (0..n).filter_map(|_| args.next()).collect();
    let max = if args.eat("min") {
        false
    } else if args.eat("max") {
        true
    } else {
        return Err(CmdError::Syntax);
    };
    let mut count = None;
    while let Some(opt) = args.next() {
        if count.is_none() && opt.eq_ignore_ascii_case(b"count") && !args.is_empty() {
            let c = parse_i64(args.next_bytes()?)
                .filter(|&c| c >= 1)
                .ok_or(CmdError::CountNotPositive)?;
            count = Some(c);
        } else {
            return Err(CmdError::Syntax);
        }
    }
    Ok((keys, max, count.unwrap_or(1) as usize))
}

/// `ZMPOP numkeys key [key ...] MIN|MAX [COUNT count]` → `[key, [[member, score], ...]]` from the first
/// non-empty set, or a null array.
fn zmpop(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let (keys, max, count) = parse_mpop(args)?;
    Ok(match pop_first(ctx, &keys, max, count)? {
        None => Reply::NilArray,
        Some((k, items)) => Reply::Array(vec![Reply::Bulk(k), nested_pairs(items)]),
    })
}

/// `BZPOPMIN key [key ...] timeout` → `[key, member, score]`, blocking until a set has members; a null
/// array on timeout.
fn bzpopmin(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    bzpop(ctx, args, false)
}

/// `BZPOPMAX key [key ...] timeout` → as BZPOPMIN, from the highest score.
fn bzpopmax(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    bzpop(ctx, args, true)
}

/// BZPOPMIN/BZPOPMAX: the timeout (last argument) is parsed first, then the keys are tried in order.
fn bzpop(ctx: &mut ExecCtx<'_>, args: &mut Args, max: bool) -> Result<Reply, CmdError> {
    let mut keys = args.rest();
    let t = keys.pop().ok_or(CmdError::Syntax)?;
    let timeout_ms = super::args::parse_timeout(t)?;
    match pop_first(ctx, &keys, max, 1)? {
        Some((k, mut items)) => {
            let (m, s) = items.pop().ok_or(CmdError::Syntax)?;
            Ok(Reply::Array(vec![
                Reply::Bulk(k),
                Reply::bulk(m),
                Reply::Double(s),
            ]))
        }
        None => block(ctx, &keys, timeout_ms),
    }
}

/// `BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count]` → as ZMPOP, blocking while every set is
/// empty; a null array on timeout.
fn bzmpop(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let timeout_ms = args.next_timeout()?;
    let (keys, max, count) = parse_mpop(args)?;
    match pop_first(ctx, &keys, max, count)? {
        Some((k, items)) => Ok(Reply::Array(vec![Reply::Bulk(k), nested_pairs(items)])),
        None => block(ctx, &keys, timeout_ms),
    }
}

/// Blocks the client on `keys`, or answers as a timeout where blocking is not allowed.
fn block(
    ctx: &mut ExecCtx<'_>,
    keys: &[&[u8]],
    timeout_ms: Option<u64>,
) -> Result<Reply, CmdError> {
    if !ctx.may_block() {
        return Ok(Reply::NilArray);
    }
    ctx.block = Some(BlockOn {
        keys: keys.iter().map(|k| Bytes::copy_from_slice(k)).collect(),
        timeout_ms,
        timeout_reply: Reply::NilArray,
        argv_override: None,
        shared: false,
    });
    Ok(Reply::NilArray)
}

// ---------------------------------------------------------------------------------------------------
// ZRANDMEMBER ZSCAN

/// Largest repetition count ZRANDMEMBER accepts (see below).
const RANDMEMBER_MAX: u64 = 1 << 27;

/// `ZRANDMEMBER key [count [WITHSCORES]]` → a random member (nil if none); with a count, that many
/// distinct members (positive count) or members with repetition (negative count), with scores as pairs.
fn zrandmember(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    if args.is_empty() {
        let mut db = ctx.db();
        let Some(z) = get_zset(db.get(key))? else {
            return Ok(Reply::Nil);
        };
        let r = rand::thread_rng().gen_range(0..z.len().max(1));
        return Ok(z.at(r).map_or(Reply::Nil, |(m, _)| member_reply(m)));
    }
    let count = args.next_i64()?;
    if count == i64::MIN {
        return Err(CmdError::ZrandCountRange);
    }
    let withscores = match args.remaining() {
        0 => false,
        1 if args.eat("withscores") => true,
        _ => return Err(CmdError::Syntax),
    };
    if withscores && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&count) {
        return Err(CmdError::ValueOutOfRange);
    }
    let mut db = ctx.db();
    let Some(z) = get_zset(db.get(key))? else {
        return Ok(Reply::Array(Vec::new()));
    };
    let len = z.len();
    let mut rng = rand::thread_rng();
    let picks: Vec<usize> = if count == 0 || len == 0 {
        Vec::new()
    } else if count < 0 {
        // Redis streams such a reply; we build it first, so an absurd count (more than 2^27 members,
        // gigabytes of reply) is refused rather than allowed to exhaust memory.
        if count.unsigned_abs() > RANDMEMBER_MAX {
            return Err(CmdError::ValueOutOfRange);
        }
        let n = count.unsigned_abs() as usize;
        (0..n).map(|_| rng.gen_range(0..len)).collect()
    } else if count as u64 >= len as u64 {
        (0..len).collect()
    } else {
        rand::seq::index::sample(&mut rng, len, count as usize).into_vec()
    };
    // A listpack finds a rank by walking its entries: decode them once rather than once per pick.
    let walked: Vec<(&[u8], f64)> = if z.encoding() == "listpack" && picks.len() > 1 {
        z.iter().collect()
    } else {
        Vec::new()
    };
    let items = picks.into_iter().filter_map(|r| {
        if walked.is_empty() {
            z.at(r)
        } else {
            walked.get(r).copied()
        }
    });
    Ok(if withscores {
        Reply::Pairs(
            items
                .map(|(m, s)| (member_reply(m), Reply::Double(s)))
                .collect(),
        )
    } else {
        Reply::Array(items.map(|(m, _)| member_reply(m)).collect())
    })
}

/// `ZSCAN key cursor [MATCH pattern] [COUNT count]` → `[next cursor, [member, score, ...]]`. A
/// `listpack` set is returned whole with cursor 0, as Redis does; a `skiplist` set is walked through
/// its member table with the reverse-binary cursor. Scores are bulk strings here in every protocol.
fn zscan(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let cursor = super::scan::parse_cursor(args.next_bytes()?).ok_or(CmdError::InvalidCursor)?;
    let empty = || {
        Ok(Reply::Array(vec![
            Reply::bulk_str("0"),
            Reply::Array(Vec::new()),
        ]))
    };
    let mut db = ctx.db();
    let Some(z) = get_zset(db.get(key))? else {
        return empty();
    };
    let opts = super::scan::ScanOptions::parse(args, false)?;
    let count = opts.count;
    let keep = |m: &[u8]| opts.matches(m);
    let mut out = Vec::new();
    let next = match z.dict() {
        None => {
            for (m, s) in z.iter() {
                if keep(m) {
                    out.push(member_reply(m));
                    out.push(Reply::bulk_string(format_double(s)));
                }
            }
            0
        }
        Some(dict) => {
            let mut cur = cursor;
            let mut budget = count.saturating_mul(10);
            let mut seen = 0u64;
            loop {
                cur = dict.scan_step(cur, |n| {
                    // Redis counts members and scores alike against COUNT.
                    seen += 2;
                    if keep(&n.key) {
                        out.push(member_reply(&n.key));
                        out.push(Reply::bulk_string(format_double(n.entry)));
                    }
                });
                if cur == 0 || seen >= count || budget == 0 {
                    break cur;
                }
                budget -= 1;
            }
        }
    };
    Ok(Reply::Array(vec![
        Reply::bulk_string(next.to_string()),
        Reply::Array(out),
    ]))
}

// ---------------------------------------------------------------------------------------------------
// ZUNION ZINTER ZDIFF (+STORE), ZINTERCARD

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Union,
    Inter,
    Diff,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Agg {
    Sum,
    Min,
    Max,
}

/// Folds `v` into `acc` as AGGREGATE says; a NaN sum (inf + -inf) becomes 0, as in Redis.
fn aggregate(agg: Agg, acc: &mut f64, v: f64) {
    match agg {
        Agg::Sum => {
            *acc += v;
            if acc.is_nan() {
                *acc = 0.0;
            }
        }
        Agg::Min => {
            if v < *acc {
                *acc = v
            }
        }
        Agg::Max => {
            if v > *acc {
                *acc = v
            }
        }
    }
}

/// `ZUNION numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]`.
fn zunion(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    setop(ctx, args, Op::Union, None, "zunion")
}

/// `ZINTER numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]`.
fn zinter(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    setop(ctx, args, Op::Inter, None, "zinter")
}

/// `ZDIFF numkeys key [key ...] [WITHSCORES]`.
fn zdiff(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    setop(ctx, args, Op::Diff, None, "zdiff")
}

/// `ZUNIONSTORE dst numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE SUM|MIN|MAX]` → stored size.
fn zunionstore(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let dst = args.next_bytes()?;
    setop(ctx, args, Op::Union, Some(dst), "zunionstore")
}

/// `ZINTERSTORE dst numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE SUM|MIN|MAX]` → stored size.
fn zinterstore(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let dst = args.next_bytes()?;
    setop(ctx, args, Op::Inter, Some(dst), "zinterstore")
}

/// `ZDIFFSTORE dst numkeys key [key ...]` → stored size.
fn zdiffstore(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let dst = args.next_bytes()?;
    setop(ctx, args, Op::Diff, Some(dst), "zdiffstore")
}

/// Reads the input sets of a set operation (missing keys are empty sets). Plain sets count as sorted
/// sets whose members all score 1, as in Redis; other types are WRONGTYPE. Owned copies, so the
/// result can be written to a key that is also an input.
fn read_inputs(ctx: &mut ExecCtx<'_>, keys: &[&[u8]]) -> Result<Vec<Option<ZSet>>, CmdError> {
    let mut db = ctx.db();
    let mut out = Vec::with_capacity(keys.len());
    for k in keys {
        let z = match db.get(k) {
            Some(Value::Set(set)) => {
                let mut z = ZSet::new();
                // Unbounded limits: this is a scratch copy; stored results re-check the encoding.
                let lim = Limits {
                    entries: usize::MAX,
                    value: usize::MAX,
                };
                for m in set.iter() {
                    m.with_bytes(|b| z.insert(b, 1.0, lim));
                }
                Some(z)
            }
            other => get_zset(other)?.cloned(),
        };
        out.push(z);
    }
    Ok(out)
}

/// Redis's `zunionInterDiffGenericCommand` (without the cardinality-only mode).
fn setop(
    ctx: &mut ExecCtx<'_>,
    args: &mut Args,
    op: Op,
    dst: Option<&[u8]>,
    name: &'static str,
) -> Result<Reply, CmdError> {
    let n = numkeys(args, CmdError::AtLeastOneKey(name), CmdError::NotInteger)?;
    let keys: Vec<&[u8]> = (0..n).filter_map(|_| args.next()).collect();
    // Redis checks the inputs' types before it parses the options.
    let sets = read_inputs(ctx, &keys)?;
    let mut weights = vec![1.0f64; n];
    let mut agg = Agg::Sum;
    let mut withscores = false;
    while let Some(opt) = args.next() {
        let left = args.remaining();
        let kw = |s: &str| opt.eq_ignore_ascii_case(s.as_bytes());
        if op != Op::Diff && left >= n && kw("weights") {
            for w in weights.iter_mut() {
                *w = super::args::parse_f64(args.next_bytes()?).ok_or(CmdError::WeightNotFloat)?;
            }
        } else if op != Op::Diff && left >= 1 && kw("aggregate") {
            let a = args.next_bytes()?;
            agg = if a.eq_ignore_ascii_case(b"sum") {
                Agg::Sum
            } else if a.eq_ignore_ascii_case(b"min") {
                Agg::Min
            } else if a.eq_ignore_ascii_case(b"max") {
                Agg::Max
            } else {
                return Err(CmdError::Syntax);
            };
        } else if dst.is_none() && kw("withscores") {
            withscores = true;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    let result = compute(&sets, &weights, agg, op);
    let lim = limits(ctx);
    if let Some(d) = dst {
        let maxlen = result.iter().map(|p| p.0.len()).max().unwrap_or(0);
        let len = result.len();
        let z = build(result, len, maxlen, lim);
        return Ok(store(ctx, d, z));
    }
    // Reply in the result set's order: by score, then member.
    let z = build(result, usize::MAX, usize::MAX, lim);
    Ok(if withscores {
        Reply::Pairs(
            z.iter()
                .map(|(m, s)| (member_reply(m), Reply::Double(s)))
                .collect(),
        )
    } else {
        Reply::Array(z.iter().map(|(m, _)| member_reply(m)).collect())
    })
}

/// The result of a set operation, unordered.
fn compute(sets: &[Option<ZSet>], weights: &[f64], agg: Agg, op: Op) -> Vec<(Vec<u8>, f64)> {
    let weighted = |w: f64, s: f64| {
        let v = w * s;
        if v.is_nan() {
            0.0
        } else {
            v
        }
    };
    match op {
        Op::Union => {
            let mut acc: std::collections::HashMap<Vec<u8>, f64, ahash::RandomState> =
                Default::default();
            let mut order: Vec<Vec<u8>> = Vec::new();
            for (z, &w) in sets.iter().zip(weights) {
                let Some(z) = z else { continue };
                for (m, s) in z.iter() {
                    let v = weighted(w, s);
                    match acc.get_mut(m) {
                        Some(a) => aggregate(agg, a, v),
                        None => {
                            acc.insert(m.to_vec(), v);
                            order.push(m.to_vec());
                        }
                    }
                }
            }
            order
                .into_iter()
                .map(|m| {
                    let s = acc.get(&m).copied().unwrap_or(0.0);
                    (m, s)
                })
                .collect()
        }
        Op::Inter => {
            if sets.iter().any(|z| z.as_ref().is_none_or(|z| z.is_empty())) {
                return Vec::new();
            }
            // Walk the smallest set, as Redis does.
            let mut idx: Vec<usize> = (0..sets.len()).collect();
            idx.sort_by_key(|&i| sets[i].as_ref().map_or(0, |z| z.len()));
            let first = idx[0];
            let Some(base) = &sets[first] else {
                return Vec::new();
            };
            let mut out = Vec::new();
            'members: for (m, s) in base.iter() {
                let mut acc = weighted(weights[first], s);
                for &j in &idx[1..] {
                    match sets[j].as_ref().and_then(|z| z.score(m)) {
                        Some(t) => aggregate(agg, &mut acc, weighted(weights[j], t)),
                        None => continue 'members,
                    }
                }
                out.push((m.to_vec(), acc));
            }
            out
        }
        Op::Diff => {
            let Some(Some(base)) = sets.first() else {
                return Vec::new();
            };
            base.iter()
                .filter(|(m, _)| {
                    !sets[1..]
                        .iter()
                        .any(|z| z.as_ref().is_some_and(|z| z.score(m).is_some()))
                })
                .map(|(m, s)| (m.to_vec(), s))
                .collect()
        }
    }
}

/// `ZINTERCARD numkeys key [key ...] [LIMIT limit]` → the size of the intersection (stopping at
/// `limit` when it is not 0).
fn zintercard(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let n = numkeys(
        args,
        CmdError::AtLeastOneKey("zintercard"),
        CmdError::NotInteger,
    )?;
    let keys: Vec<&[u8]> = (0..n).filter_map(|_| args.next()).collect();
    let sets = read_inputs(ctx, &keys)?;
    let mut limit = 0u64;
    while let Some(opt) = args.next() {
        if opt.eq_ignore_ascii_case(b"limit") && !args.is_empty() {
            limit = positive(args.next_bytes()?, CmdError::LimitNegative)? as u64;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    if sets.iter().any(|z| z.as_ref().is_none_or(|z| z.is_empty())) {
        return Ok(Reply::Int(0));
    }
    let mut idx: Vec<usize> = (0..sets.len()).collect();
    idx.sort_by_key(|&i| sets[i].as_ref().map_or(0, |z| z.len()));
    let Some(base) = &sets[idx[0]] else {
        return Ok(Reply::Int(0));
    };
    let mut count = 0u64;
    for (m, _) in base.iter() {
        if idx[1..]
            .iter()
            .all(|&j| sets[j].as_ref().is_some_and(|z| z.score(m).is_some()))
        {
            count += 1;
            if limit != 0 && count >= limit {
                break;
            }
        }
    }
    Ok(Reply::Int(count as i64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn score_ranges_parse_like_zslparserange() {
        let r = ScoreRange::parse(b"(1.5", b"+inf").unwrap();
        assert_eq!(
            (r.min, r.minex, r.max, r.maxex),
            (1.5, true, f64::INFINITY, false)
        );
        assert_eq!(ScoreRange::parse(b"", b"(").unwrap().min, 0.0);
        assert!(ScoreRange::parse(b"1x", b"2").is_err());
        assert!(ScoreRange::parse(b"nan", b"2").is_err());
        assert_eq!(ScoreRange::parse(b" 1", b"2").unwrap().min, 1.0);
    }

    #[test]
    fn lex_items() {
        assert_eq!(Lex::parse(&Bytes::from_static(b"-")).unwrap(), Lex::Min);
        assert_eq!(Lex::parse(&Bytes::from_static(b"+")).unwrap(), Lex::Max);
        assert_eq!(
            Lex::parse(&Bytes::from_static(b"[a")).unwrap(),
            Lex::Incl(Bytes::from_static(b"a"))
        );
        assert!(Lex::parse(&Bytes::from_static(b"a")).is_err());
        assert!(Lex::parse(&Bytes::from_static(b"+a")).is_err());
        assert!(Lex::parse(&Bytes::from_static(b"")).is_err());
    }

    #[test]
    fn rank_ranges() {
        assert_eq!(rank_range(0, -1, 3), Some((0, 2)));
        assert_eq!(rank_range(-100, 100, 3), Some((0, 2)));
        assert_eq!(rank_range(2, 1, 3), None);
        assert_eq!(rank_range(i64::MIN, i64::MAX, 3), Some((0, 2)));
        assert_eq!(rank_range(3, 5, 3), None);
        assert_eq!(rank_range(0, -1, 0), None);
    }
}
