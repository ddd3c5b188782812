//! Keyspace commands (Redis's "generic" group, plus SWAPDB): DEL UNLINK EXISTS, the EXPIRE and TTL
//! families, PERSIST TYPE RENAME RENAMENX KEYS SCAN RANDOMKEY COPY MOVE TOUCH OBJECT SWAPDB.
//!
//! Why it is built this way:
//! * Commands on named keys rely on dispatch having locked the shards their key specs name. RENAME and
//!   COPY name both keys, so both shards are held and the move of a whole entry (value and TTL) is
//!   atomic. MOVE and COPY ... DB reach another database through the same locks, because a shard holds
//!   every database's table for its keys ([`crate::storage::Db::with_db`]).
//! * KEYS, SCAN and RANDOMKEY name no key. They lock one shard at a time, so a large KEYS never stalls the
//!   whole server; the price is that KEYS is not a point-in-time snapshot across shards (SCAN never was).
//!   SWAPDB must swap every shard's tables at once, so it alone takes every shard lock.
//! * SCAN walks the shards in order and, inside a shard, the table's reverse-binary bucket cursor
//!   ([`crate::storage::Dict::scan_step`]). The client's cursor is `bucket_cursor << SHARD_BITS | shard`:
//!   it is 0 only at the start and at the very end, and a key present for the whole scan is returned at
//!   least once whatever resizing happens between calls, as Redis promises.
//! * Reads use Redis's lookup flavours: EXISTS/TYPE/TTL/OBJECT count keyspace hits and misses without
//!   refreshing the LRU stamp (`LOOKUP_NOTOUCH`), TOUCH and COPY's source count and refresh, and write
//!   paths (EXPIRE, PERSIST, RENAME, MOVE) refresh without counting.
//! * Expiry arithmetic follows `expireGenericCommand` exactly: options are parsed before the number,
//!   overflow of the unit conversion or of `now +` is `invalid expire time`, and a time already past
//!   deletes the key and answers 1.

use crate::storage::notify;
use rand::Rng;

use super::table::{acl, flags::*, ks, CommandSpec, Docs, Group, KeySpec};
use super::{Args, ExecCtx};
use crate::error::CmdError;
use crate::protocol::{parse_i64, Reply};
use crate::storage::{lfu, Entry, StrValue, Value, SHARDS, SHARD_BITS};

const KS: u64 = acl::KEYSPACE;

const fn docs(summary: &'static str, since: &'static str, complexity: &'static str) -> Docs {
    Docs {
        summary,
        since,
        complexity,
    }
}

const MULTI_SHARD: &[&str] = &["request_policy:multi_shard", "response_policy:agg_sum"];
const TTL_TIPS: &[&str] = &["nondeterministic_output"];
const ONE_RW_UPDATE: &[KeySpec] = &[KeySpec::one(1, ks::RW | ks::UPDATE)];
const ONE_RO_ACCESS: &[KeySpec] = &[KeySpec::one(1, ks::RO | ks::ACCESS)];
const OBJECT_KEY: &[KeySpec] = &[KeySpec::one(2, ks::RO)];

#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec { name: "del", group: Group::Generic, arity: -2, flags: WRITE, acl: KS, keys: &[KeySpec::range(1, -1, 1, ks::RM | ks::DELETE)], tips: MULTI_SHARD, docs: docs("Deletes one or more keys.", "1.0.0", "O(N) where N is the number of keys that will be removed. When a key to remove holds a value other than a string, the individual complexity for this key is O(M) where M is the number of elements in the list, set, sorted set or hash. Removing a single key that holds a string value is O(1)."), handler: del, ..CommandSpec::DEFAULT },
    CommandSpec { name: "unlink", group: Group::Generic, arity: -2, flags: WRITE | FAST, acl: KS, keys: &[KeySpec::range(1, -1, 1, ks::RM | ks::DELETE)], tips: MULTI_SHARD, docs: docs("Asynchronously deletes one or more keys.", "4.0.0", "O(1) for each key removed regardless of its size. Then the command does O(N) work in a different thread in order to reclaim memory, where N is the number of allocations the deleted objects where composed of."), handler: unlink, ..CommandSpec::DEFAULT },
    CommandSpec { name: "exists", group: Group::Generic, arity: -2, flags: READONLY | FAST, acl: KS, keys: &[KeySpec::range(1, -1, 1, ks::RO)], tips: MULTI_SHARD, docs: docs("Determines whether one or more keys exist.", "1.0.0", "O(N) where N is the number of keys to check."), handler: exists, ..CommandSpec::DEFAULT },
    CommandSpec { name: "expire", group: Group::Generic, arity: -3, flags: WRITE | FAST, acl: KS, keys: ONE_RW_UPDATE, docs: docs("Sets the expiration time of a key in seconds.", "1.0.0", "O(1)"), handler: expire, ..CommandSpec::DEFAULT },
    CommandSpec { name: "pexpire", group: Group::Generic, arity: -3, flags: WRITE | FAST, acl: KS, keys: ONE_RW_UPDATE, docs: docs("Sets the expiration time of a key in milliseconds.", "2.6.0", "O(1)"), handler: pexpire, ..CommandSpec::DEFAULT },
    CommandSpec { name: "expireat", group: Group::Generic, arity: -3, flags: WRITE | FAST, acl: KS, keys: ONE_RW_UPDATE, docs: docs("Sets the expiration time of a key to a Unix timestamp.", "1.2.0", "O(1)"), handler: expireat, ..CommandSpec::DEFAULT },
    CommandSpec { name: "pexpireat", group: Group::Generic, arity: -3, flags: WRITE | FAST, acl: KS, keys: ONE_RW_UPDATE, docs: docs("Sets the expiration time of a key to a Unix milliseconds timestamp.", "2.6.0", "O(1)"), handler: pexpireat, ..CommandSpec::DEFAULT },
    CommandSpec { name: "ttl", group: Group::Generic, arity: 2, flags: READONLY | FAST, acl: KS, keys: ONE_RO_ACCESS, tips: TTL_TIPS, docs: docs("Returns the expiration time in seconds of a key.", "1.0.0", "O(1)"), handler: ttl, ..CommandSpec::DEFAULT },
    CommandSpec { name: "pttl", group: Group::Generic, arity: 2, flags: READONLY | FAST, acl: KS, keys: ONE_RO_ACCESS, tips: TTL_TIPS, docs: docs("Returns the expiration time in milliseconds of a key.", "2.6.0", "O(1)"), handler: pttl, ..CommandSpec::DEFAULT },
    CommandSpec { name: "expiretime", group: Group::Generic, arity: 2, flags: READONLY | FAST, acl: KS, keys: ONE_RO_ACCESS, docs: docs("Returns the expiration time of a key as a Unix timestamp.", "7.0.0", "O(1)"), handler: expiretime, ..CommandSpec::DEFAULT },
    CommandSpec { name: "pexpiretime", group: Group::Generic, arity: 2, flags: READONLY | FAST, acl: KS, keys: ONE_RO_ACCESS, docs: docs("Returns the expiration time of a key as a Unix milliseconds timestamp.", "7.0.0", "O(1)"), handler: pexpiretime, ..CommandSpec::DEFAULT },
    CommandSpec { name: "persist", group: Group::Generic, arity: 2, flags: WRITE | FAST, acl: KS, keys: ONE_RW_UPDATE, docs: docs("Removes the expiration time of a key.", "2.2.0", "O(1)"), handler: persist, ..CommandSpec::DEFAULT },
    CommandSpec { name: "type", group: Group::Generic, arity: 2, flags: READONLY | FAST, acl: KS, keys: &[KeySpec::one(1, ks::RO)], docs: docs("Determines the type of value stored at a key.", "1.0.0", "O(1)"), handler: type_cmd, ..CommandSpec::DEFAULT },
    CommandSpec { name: "rename", group: Group::Generic, arity: 3, flags: WRITE, acl: KS, keys: &[KeySpec::one(1, ks::RW | ks::ACCESS | ks::DELETE), KeySpec::one(2, ks::OW | ks::UPDATE)], docs: docs("Renames a key and overwrites the destination.", "1.0.0", "O(1)"), handler: rename, ..CommandSpec::DEFAULT },
    CommandSpec { name: "renamenx", group: Group::Generic, arity: 3, flags: WRITE | FAST, acl: KS, keys: &[KeySpec::one(1, ks::RW | ks::ACCESS | ks::DELETE), KeySpec::one(2, ks::OW | ks::INSERT)], docs: docs("Renames a key only when the target key name doesn't exist.", "1.0.0", "O(1)"), handler: renamenx, ..CommandSpec::DEFAULT },
    CommandSpec { name: "keys", group: Group::Generic, arity: 2, flags: READONLY, acl: KS | acl::DANGEROUS, tips: &["request_policy:all_shards", "nondeterministic_output_order"], docs: docs("Returns all key names that match a pattern.", "1.0.0", "O(N) with N being the number of keys in the database, under the assumption that the key names in the database and the given pattern have limited length."), handler: keys, ..CommandSpec::DEFAULT },
    CommandSpec { name: "scan", group: Group::Generic, arity: -2, flags: READONLY, acl: KS, tips: &["nondeterministic_output", "request_policy:special"], docs: docs("Iterates over the key names in the database.", "2.8.0", "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection."), handler: scan, ..CommandSpec::DEFAULT },
    CommandSpec { name: "randomkey", group: Group::Generic, arity: 1, flags: READONLY, acl: KS, tips: &["request_policy:all_shards", "nondeterministic_output"], docs: docs("Returns a random key name from the database.", "1.0.0", "O(1)"), handler: randomkey, ..CommandSpec::DEFAULT },
    CommandSpec { name: "copy", group: Group::Generic, arity: -3, flags: WRITE | DENYOOM, acl: KS, keys: &[KeySpec::one(1, ks::RO | ks::ACCESS), KeySpec::one(2, ks::OW | ks::UPDATE)], docs: docs("Copies the value of a key to a new key.", "6.2.0", "O(N) worst case for collections, where N is the number of nested items. O(1) for string values."), handler: copy, ..CommandSpec::DEFAULT },
    CommandSpec { name: "move", group: Group::Generic, arity: 3, flags: WRITE | FAST, acl: KS, keys: &[KeySpec::one(1, ks::RW | ks::ACCESS | ks::UPDATE)], docs: docs("Moves a key to another database.", "1.0.0", "O(1)"), handler: move_cmd, ..CommandSpec::DEFAULT },
    CommandSpec { name: "touch", group: Group::Generic, arity: -2, flags: READONLY | FAST, acl: KS, keys: &[KeySpec::range(1, -1, 1, ks::RO)], tips: MULTI_SHARD, docs: docs("Returns the number of existing keys out of those specified after updating the time they were last accessed.", "3.2.1", "O(N) where N is the number of keys that will be touched."), handler: touch, ..CommandSpec::DEFAULT },
    CommandSpec { name: "object", group: Group::Generic, arity: -2, docs: docs("A container for object introspection commands.", "2.2.3", "Depends on subcommand."), subcommands: OBJECT_SUBCOMMANDS, ..CommandSpec::DEFAULT },
    CommandSpec { name: "swapdb", group: Group::Server, arity: 3, flags: WRITE | FAST, acl: KS | acl::DANGEROUS, docs: docs("Swaps two Redis databases.", "4.0.0", "O(N) where N is the count of clients watching or blocking on keys from both databases."), handler: swapdb, ..CommandSpec::DEFAULT },
];

#[rustfmt::skip]
static OBJECT_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec { name: "object|encoding", group: Group::Generic, arity: 3, flags: READONLY, acl: KS, keys: OBJECT_KEY, tips: TTL_TIPS, docs: docs("Returns the internal encoding of a Redis object.", "2.2.3", "O(1)"), handler: object_encoding, ..CommandSpec::DEFAULT },
    CommandSpec { name: "object|freq", group: Group::Generic, arity: 3, flags: READONLY, acl: KS, keys: OBJECT_KEY, tips: TTL_TIPS, docs: docs("Returns the logarithmic access frequency counter of a Redis object.", "4.0.0", "O(1)"), handler: object_freq, ..CommandSpec::DEFAULT },
    CommandSpec { name: "object|help", group: Group::Generic, arity: 2, flags: LOADING | STALE, acl: KS, docs: docs("Returns helpful text about the different subcommands.", "6.2.0", "O(1)"), handler: object_help, ..CommandSpec::DEFAULT },
    CommandSpec { name: "object|idletime", group: Group::Generic, arity: 3, flags: READONLY, acl: KS, keys: OBJECT_KEY, tips: TTL_TIPS, docs: docs("Returns the time since the last access to a Redis object.", "2.2.3", "O(1)"), handler: object_idletime, ..CommandSpec::DEFAULT },
    CommandSpec { name: "object|refcount", group: Group::Generic, arity: 3, flags: READONLY, acl: KS, keys: OBJECT_KEY, tips: TTL_TIPS, docs: docs("Returns the reference count of a value of a key.", "2.2.3", "O(1)"), handler: object_refcount, ..CommandSpec::DEFAULT },
];

/// `DEL key [key ...]` → the number of keys removed.
fn del(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let lazy = ctx.server.config.read().lazyfree_lazy_user_del;
    remove_keys(ctx, args, lazy)
}

/// `UNLINK key [key ...]` → the number of keys removed. Values are taken out of the keyspace under the
/// lock; big ones are freed on the lazyfree thread.
fn unlink(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    remove_keys(ctx, args, true)
}

fn remove_keys(ctx: &mut ExecCtx<'_>, args: &mut Args, lazy: bool) -> Result<Reply, CmdError> {
    let keys = args.rest();
    let mut db = ctx.db();
    let mut n = 0;
    for k in keys {
        if let Some(v) = db.remove(k) {
            n += 1;
            if lazy {
                crate::storage::lazyfree::free_value(v);
            }
        }
    }
    Ok(Reply::Int(n))
}

/// `EXISTS key [key ...]` → how many of the keys exist (a key named twice counts twice).
fn exists(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let keys = args.rest();
    let mut db = ctx.db();
    Ok(Reply::Int(
        keys.iter().filter(|k| db.get_notouch(k).is_some()).count() as i64,
    ))
}

/// The time unit of an EXPIRE-family argument.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Unit {
    Seconds,
    Millis,
}

/// EXPIRE's `NX | XX | GT | LT` conditions.
#[derive(Default, Clone, Copy)]
struct ExpireCond {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
}

impl ExpireCond {
    /// Parses the options after the time, as Redis's `parseExtendedExpireArgumentsOrReply`.
    fn parse(args: &mut Args) -> Result<ExpireCond, CmdError> {
        let mut c = ExpireCond::default();
        for opt in args.by_ref() {
            match opt.to_ascii_uppercase().as_slice() {
                b"NX" => c.nx = true,
                b"XX" => c.xx = true,
                b"GT" => c.gt = true,
                b"LT" => c.lt = true,
                _ => {
                    return Err(CmdError::UnsupportedOption(
                        String::from_utf8_lossy(opt).into_owned(),
                    ))
                }
            }
        }
        if c.nx && (c.xx || c.gt || c.lt) {
            return Err(CmdError::ExpireNxAndOthers);
        }
        if c.gt && c.lt {
            return Err(CmdError::ExpireGtAndLt);
        }
        Ok(c)
    }

    fn any(self) -> bool {
        self.nx || self.xx || self.gt || self.lt
    }

    /// Whether the condition allows replacing the TTL `current` (None: no TTL, i.e. infinite) by `when`.
    fn allows(self, current: Option<u64>, when: i64) -> bool {
        let current = current.map(|c| c as i64);
        if self.nx && current.is_some() {
            return false;
        }
        if self.xx && current.is_none() {
            return false;
        }
        // No TTL counts as infinite: GT never beats it, LT always does.
        if self.gt && current.is_none_or(|c| when <= c) {
            return false;
        }
        if self.lt && current.is_some_and(|c| when >= c) {
            return false;
        }
        true
    }
}

/// Converts an EXPIRE-family argument to absolute Unix milliseconds: `basetime` is `now` for relative
/// forms and 0 for the `AT` forms. Negative results are allowed (they delete the key).
fn expire_when(
    param: &[u8],
    unit: Unit,
    basetime: i64,
    cmd: &'static str,
) -> Result<i64, CmdError> {
    let mut when = parse_i64(param).ok_or(CmdError::NotInteger)?;
    if unit == Unit::Seconds {
        when = when.checked_mul(1000).ok_or(CmdError::InvalidExpire(cmd))?;
    }
    when.checked_add(basetime)
        .ok_or(CmdError::InvalidExpire(cmd))
}

/// The EXPIRE family: `key time [NX | XX | GT | LT]` → 1 if the TTL was set (or the key deleted because
/// the time is already past), 0 if the key does not exist or the condition was not met.
fn expire_generic(
    ctx: &mut ExecCtx<'_>,
    args: &mut Args,
    unit: Unit,
    relative: bool,
    cmd: &'static str,
) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let param = args.next_bytes()?;
    let cond = ExpireCond::parse(args)?;
    let now = i64::try_from(ctx.now).unwrap_or(i64::MAX);
    let when = expire_when(param, unit, if relative { now } else { 0 }, cmd)?;
    let mut db = ctx.db();
    // A write lookup: expires the key if due and refreshes its LRU stamp.
    if !db.touch(key) {
        return Ok(Reply::Int(0));
    }
    if cond.any() && !cond.allows(db.expire_at(key).flatten(), when) {
        return Ok(Reply::Int(0));
    }
    if when <= now {
        db.remove(key);
    } else {
        db.set_expire(key, Some(when as u64));
    }
    Ok(Reply::Int(1))
}

/// `EXPIRE key seconds [NX | XX | GT | LT]` → 1 or 0.
fn expire(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    expire_generic(ctx, args, Unit::Seconds, true, "expire")
}

/// `PEXPIRE key milliseconds [NX | XX | GT | LT]` → 1 or 0.
fn pexpire(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    expire_generic(ctx, args, Unit::Millis, true, "pexpire")
}

/// `EXPIREAT key unix-time-seconds [NX | XX | GT | LT]` → 1 or 0.
fn expireat(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    expire_generic(ctx, args, Unit::Seconds, false, "expireat")
}

/// `PEXPIREAT key unix-time-milliseconds [NX | XX | GT | LT]` → 1 or 0.
fn pexpireat(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    expire_generic(ctx, args, Unit::Millis, false, "pexpireat")
}

/// The TTL family: -2 if the key does not exist, -1 if it has no TTL, else the remaining time (or with
/// `absolute` the expiry time), in milliseconds or rounded to seconds as Redis's `ttlGenericCommand`.
fn ttl_generic(
    ctx: &mut ExecCtx<'_>,
    args: &mut Args,
    millis: bool,
    absolute: bool,
) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let now = i64::try_from(ctx.now).unwrap_or(i64::MAX);
    let mut db = ctx.db();
    let Some(entry) = db.get_notouch(key) else {
        return Ok(Reply::Int(-2));
    };
    let Some(at) = entry.expire_at() else {
        return Ok(Reply::Int(-1));
    };
    let at = i64::try_from(at).unwrap_or(i64::MAX);
    let t = if absolute {
        at
    } else {
        at.saturating_sub(now).max(0)
    };
    // Redis rounds with `(t+500)/1000`; at i64::MAX it answers as if without overflow.
    Ok(Reply::Int(if millis {
        t
    } else {
        ((i128::from(t) + 500) / 1000) as i64
    }))
}

/// `TTL key` → remaining seconds (rounded), -1 without TTL, -2 if missing.
fn ttl(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    ttl_generic(ctx, args, false, false)
}

/// `PTTL key` → remaining milliseconds, -1 without TTL, -2 if missing.
fn pttl(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    ttl_generic(ctx, args, true, false)
}

/// `EXPIRETIME key` → the expiry as Unix seconds (rounded), -1 without TTL, -2 if missing.
fn expiretime(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    ttl_generic(ctx, args, false, true)
}

/// `PEXPIRETIME key` → the expiry as Unix milliseconds, -1 without TTL, -2 if missing.
fn pexpiretime(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    ttl_generic(ctx, args, true, true)
}

/// `PERSIST key` → 1 if a TTL was removed, 0 if the key is missing or had none.
fn persist(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let mut db = ctx.db();
    if !db.touch(key) || db.expire_at(key).flatten().is_none() {
        return Ok(Reply::Int(0));
    }
    db.set_expire(key, None);
    Ok(Reply::Int(1))
}

/// `TYPE key` → `+string`, `+list`, ..., or `+none`.
fn type_cmd(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let mut db = ctx.db();
    Ok(Reply::Simple(
        db.get_notouch(key).map_or("none", |e| e.value.type_name()),
    ))
}

/// RENAME and RENAMENX: moves the whole entry (value and TTL) to the new name.
fn rename_generic(ctx: &mut ExecCtx<'_>, args: &mut Args, nx: bool) -> Result<Reply, CmdError> {
    let src = args.next_bytes()?;
    let dst = args.next_bytes()?;
    let dirty = ctx.dirty;
    let mut db = ctx.db();
    if !db.touch(src) {
        return Err(CmdError::NoSuchKey);
    }
    let done = if nx { Reply::Int(1) } else { Reply::Ok };
    if src == dst {
        return Ok(if nx { Reply::Int(0) } else { Reply::Ok });
    }
    if nx && db.exists(dst) {
        return Ok(Reply::Int(0));
    }
    let Some(entry) = db.remove_entry(src) else {
        return Err(CmdError::NoSuchKey);
    };
    db.insert_entry(dst, entry);
    db.notify(notify::GENERIC, "rename_from", src);
    db.notify(notify::GENERIC, "rename_to", dst);
    count_one_change(ctx, dirty);
    Ok(done)
}

/// Counts a key move (RENAME, MOVE, COPY) as one change, as Redis does, rather than as the removal and
/// insertion the `Db` recorded.
fn count_one_change(ctx: &mut ExecCtx<'_>, dirty_before: u64) {
    ctx.dirty = dirty_before + 1;
}

/// `RENAME key newkey` → `+OK`; `ERR no such key` if `key` is missing. The TTL goes with the value.
fn rename(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    rename_generic(ctx, args, false)
}

/// `RENAMENX key newkey` → 1 if renamed, 0 if `newkey` exists (or is `key`); `ERR no such key`.
fn renamenx(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    rename_generic(ctx, args, true)
}

/// `KEYS pattern` → every live key of the selected database matching the glob `pattern`.
fn keys(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let pattern = args.next_bytes()?;
    let all = pattern == b"*";
    let (db, now) = (ctx.client.db, ctx.now);
    let mut out = Vec::new();
    for i in 0..SHARDS {
        let shard = ctx.lock_shard(i);
        for n in shard.dbs[db].iter() {
            if !n.entry.is_expired(now) && (all || crate::glob::matches(pattern, &n.key, false)) {
                out.push(Reply::bulk_copy(&n.key));
            }
        }
    }
    Ok(Reply::Array(out))
}

/// The SCAN cursor for bucket cursor `bucket` of shard `shard`.
fn scan_cursor(bucket: u64, shard: usize) -> u64 {
    (bucket << SHARD_BITS) | shard as u64
}

/// `SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]` → `[next cursor, [key ...]]`.
///
/// Visits buckets until `count` live keys were seen or `count * 10` buckets were visited (Redis's cap
/// for sparse tables); MATCH and TYPE filter what was seen, so a call may return fewer keys than
/// `count`, or none, with a non-zero cursor.
fn scan(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let cursor = super::scan::parse_cursor(args.next_bytes()?).ok_or(CmdError::InvalidCursor)?;
    let opts = super::scan::ScanOptions::parse(args, true)?;
    let (count, pattern, type_name) = (opts.count, opts.pattern, opts.type_name);

    let (db, now) = (ctx.client.db, ctx.now);
    let mut shard = (cursor & (SHARDS as u64 - 1)) as usize;
    let mut bucket = cursor >> SHARD_BITS;
    let mut budget = count.saturating_mul(10);
    let mut seen = 0u64;
    let mut out = Vec::new();
    let next = 'shards: loop {
        {
            let guard = ctx.lock_shard(shard);
            let dict = &guard.dbs[db];
            if !dict.is_empty() {
                loop {
                    bucket = dict.scan_step(bucket, |n| {
                        if n.entry.is_expired(now) {
                            return;
                        }
                        seen += 1;
                        let type_ok = type_name.as_ref().is_none_or(|t| {
                            t.eq_ignore_ascii_case(n.entry.value.type_name().as_bytes())
                        });
                        if type_ok
                            && pattern
                                .as_ref()
                                .is_none_or(|p| crate::glob::matches(p, &n.key, false))
                        {
                            out.push(Reply::bulk_copy(&n.key));
                        }
                    });
                    if bucket == 0 {
                        break;
                    }
                    if seen >= count || budget == 0 {
                        break 'shards scan_cursor(bucket, shard);
                    }
                    budget -= 1;
                }
            }
        }
        // This shard's table is done: go on with the next one from its first bucket.
        shard += 1;
        bucket = 0;
        if shard == SHARDS {
            break 0;
        }
        if seen >= count || budget == 0 {
            break scan_cursor(0, shard);
        }
    };
    Ok(Reply::Array(vec![
        Reply::bulk_string(next.to_string()),
        Reply::Array(out),
    ]))
}

/// `RANDOMKEY` → a random live key of the selected database, or nil if it has none.
///
/// Picks a shard with probability proportional to its table's size (one short lock per shard to read
/// the sizes), then a random node in it; if that shard has emptied or holds only expired keys meanwhile,
/// the following shards are tried in turn, so a live key is found whenever one exists.
fn randomkey(ctx: &mut ExecCtx<'_>, _: &mut Args) -> Result<Reply, CmdError> {
    let (db, now) = (ctx.client.db, ctx.now);
    let sizes: Vec<usize> = (0..SHARDS)
        .map(|i| ctx.lock_shard(i).dbs[db].len())
        .collect();
    let total: usize = sizes.iter().sum();
    if total == 0 {
        return Ok(Reply::Nil);
    }
    let mut rng = rand::thread_rng();
    let mut r = rng.gen_range(0..total);
    let mut start = 0;
    for (i, &n) in sizes.iter().enumerate() {
        if r < n {
            start = i;
            break;
        }
        r -= n;
    }
    for step in 0..SHARDS {
        let shard = ctx.lock_shard((start + step) % SHARDS);
        if let Some(n) = shard.dbs[db].random_node(&mut rng, |n| !n.entry.is_expired(now)) {
            return Ok(Reply::bulk_copy(&n.key));
        }
    }
    Ok(Reply::Nil)
}

/// Parses a database index as Redis's `getIntFromObjectOrReply` followed by `selectDb`.
fn db_index(ctx: &ExecCtx<'_>, arg: &[u8]) -> Result<usize, CmdError> {
    let v = parse_i64(arg).ok_or(CmdError::NotInteger)?;
    let v = i32::try_from(v).map_err(|_| CmdError::NotInt32)?;
    match usize::try_from(v) {
        Ok(i) if i < ctx.server.keyspace.databases() => Ok(i),
        _ => Err(CmdError::DbIndexOutOfRange),
    }
}

/// `COPY source destination [DB destination-db] [REPLACE]` → 1 if copied, 0 if the source is missing or
/// the destination exists (without REPLACE). The copy keeps the source's TTL and encoding.
fn copy(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let src = args.next_bytes()?;
    let dst = args.next_bytes()?;
    let src_db = ctx.client.db;
    let mut dst_db = src_db;
    let mut replace = false;
    while let Some(opt) = args.next() {
        if opt.eq_ignore_ascii_case(b"replace") {
            replace = true;
        } else if opt.eq_ignore_ascii_case(b"db") && !args.is_empty() {
            dst_db = db_index(ctx, args.next_bytes()?)?;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    if src_db == dst_db && src == dst {
        return Err(CmdError::SameObject);
    }
    let dirty = ctx.dirty;
    let mut db = ctx.db();
    let Some(value) = db.get(src).cloned() else {
        return Ok(Reply::Int(0));
    };
    let expire_at = db.expire_at(src).flatten().unwrap_or(0);
    if !replace && db.with_db(dst_db, |d| d.exists(dst)) {
        return Ok(Reply::Int(0));
    }
    let mut entry = Entry::new(value);
    entry.expire_at = expire_at;
    db.with_db(dst_db, |d| {
        d.insert_entry(dst, entry);
        d.notify(notify::GENERIC, "copy_to", dst);
    });
    count_one_change(ctx, dirty);
    Ok(Reply::Int(1))
}

/// `MOVE key db` → 1 if moved, 0 if the key is missing here or already exists there. The TTL goes with
/// the value.
fn move_cmd(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let dst_db = db_index(ctx, args.next_bytes()?)?;
    if dst_db == ctx.client.db {
        return Err(CmdError::SameObject);
    }
    let dirty = ctx.dirty;
    let mut db = ctx.db();
    if !db.exists(key) || db.with_db(dst_db, |d| d.exists(key)) {
        return Ok(Reply::Int(0));
    }
    let Some(entry) = db.remove_entry(key) else {
        return Ok(Reply::Int(0));
    };
    db.with_db(dst_db, |d| d.insert_entry(key, entry));
    db.notify(notify::GENERIC, "move_from", key);
    db.with_db(dst_db, |d| d.notify(notify::GENERIC, "move_to", key));
    count_one_change(ctx, dirty);
    Ok(Reply::Int(1))
}

/// `TOUCH key [key ...]` → how many of the keys exist; refreshes their LRU stamps.
fn touch(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let keys = args.rest();
    // TOUCH updates the access time even for a CLIENT NO-TOUCH client, as in Redis.
    let mut db = ctx.db().no_touch(false);
    Ok(Reply::Int(
        keys.iter().filter(|k| db.get(k).is_some()).count() as i64,
    ))
}

/// Redis shares the objects for the integers 0..10000 (`OBJ_SHARED_INTEGERS`).
const SHARED_INTEGERS: i64 = 10_000;
/// What `OBJECT REFCOUNT` reports for a shared object (`OBJ_SHARED_REFCOUNT`).
const SHARED_REFCOUNT: i64 = i32::MAX as i64;
fn lfu_policy(_: &ExecCtx<'_>) -> bool {
    lfu::lfu_mode()
}

/// `OBJECT ENCODING key` → `int`, `embstr`, `raw`, ... or nil.
fn object_encoding(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let mut db = ctx.db();
    Ok(db
        .get_notouch(key)
        .map_or(Reply::Nil, |e| Reply::bulk_str(e.value.encoding())))
}

/// `OBJECT REFCOUNT key` → the value's reference count, or nil. Small integers are shared objects in
/// Redis (unless an LRU/LFU policy with a memory limit forbids sharing) and report `INT_MAX`.
fn object_refcount(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let sharing = {
        let cfg = ctx.server.config.read();
        cfg.maxmemory == 0
            || !(cfg.maxmemory_policy.contains("lru") || cfg.maxmemory_policy.contains("lfu"))
    };
    let mut db = ctx.db();
    Ok(match db.get_notouch(key) {
        None => Reply::Nil,
        Some(e) => match e.value {
            Value::Str(StrValue::Int(i)) if sharing && (0..SHARED_INTEGERS).contains(&i) => {
                Reply::Int(SHARED_REFCOUNT)
            }
            _ => Reply::Int(1),
        },
    })
}

/// `OBJECT IDLETIME key` → seconds since the key was last accessed, or nil; an error under an LFU policy.
fn object_idletime(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let lfu = lfu_policy(ctx);
    let mut db = ctx.db();
    let Some(stamp) = db.stamp_notouch(key) else {
        return Ok(Reply::Nil);
    };
    if lfu {
        return Err(CmdError::LfuSelected);
    }
    Ok(Reply::Int(
        i64::try_from(lfu::idle_seconds(stamp)).unwrap_or(i64::MAX),
    ))
}

/// `OBJECT FREQ key` → the key's logarithmic access counter, or nil; an error unless an LFU policy is
/// selected. The counter is reported after decay, as Redis does.
fn object_freq(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let lfu = lfu_policy(ctx);
    let now = ctx.now;
    let mut db = ctx.db();
    let Some(stamp) = db.stamp_notouch(key) else {
        return Ok(Reply::Nil);
    };
    if !lfu {
        return Err(CmdError::LfuNotSelected);
    }
    Ok(Reply::Int(lfu::decayed_counter(stamp, now) as i64))
}

/// `OBJECT HELP` → the help text, one status line per row.
fn object_help(_: &mut ExecCtx<'_>, _: &mut Args) -> Result<Reply, CmdError> {
    const LINES: &[&str] = &[
        "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "ENCODING <key>",
        "    Return the kind of internal representation used in order to store the value",
        "    associated with a <key>.",
        "FREQ <key>",
        "    Return the access frequency index of the <key>. The returned integer is",
        "    proportional to the logarithm of the recent access frequency of the key.",
        "IDLETIME <key>",
        "    Return the idle time of the <key>, that is the approximated number of",
        "    seconds elapsed since the last access to the key.",
        "REFCOUNT <key>",
        "    Return the number of references of the value associated with the specified",
        "    <key>.",
        "HELP",
        "    Prints this help.",
    ];
    Ok(Reply::help(LINES))
}

/// `SWAPDB index1 index2` → `+OK`. Swaps the two databases' tables in every shard, under all shard locks,
/// so no command sees a half-swapped keyspace.
fn swapdb(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let int = |b: &[u8]| parse_i64(b).and_then(|v| i32::try_from(v).ok());
    let a = int(args.next_bytes()?).ok_or(CmdError::InvalidFirstDb)?;
    let b = int(args.next_bytes()?).ok_or(CmdError::InvalidSecondDb)?;
    let databases = ctx.server.keyspace.databases();
    let (Ok(a), Ok(b)) = (usize::try_from(a), usize::try_from(b)) else {
        return Err(CmdError::DbIndexOutOfRange);
    };
    if a >= databases || b >= databases {
        return Err(CmdError::DbIndexOutOfRange);
    }
    if a != b {
        ctx.with_all_shards(|all| all.for_each_shard(|shard| shard.dbs.swap(a, b)));
        let ks = &ctx.server.keyspace;
        ks.watches.touch_db(Some(a));
        ks.watches.touch_db(Some(b));
        // Clients blocked on keys of either database look again.
        ctx.server.blocking.wake_all(Some(a));
        ctx.server.blocking.wake_all(Some(b));
    }
    ctx.dirty += 1;
    Ok(Reply::Ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expire_time_arithmetic() {
        assert_eq!(
            expire_when(b"10", Unit::Seconds, 1_000, "expire"),
            Ok(11_000)
        );
        assert_eq!(expire_when(b"-10", Unit::Millis, 0, "pexpireat"), Ok(-10));
        assert_eq!(
            expire_when(b"9223372036854775", Unit::Seconds, 0, "expireat"),
            Ok(9_223_372_036_854_775_000)
        );
        assert_eq!(
            expire_when(b"9223372036854776", Unit::Seconds, 0, "expireat"),
            Err(CmdError::InvalidExpire("expireat"))
        );
        assert_eq!(
            expire_when(b"-9223372036854776", Unit::Seconds, 0, "expire"),
            Err(CmdError::InvalidExpire("expire"))
        );
        assert_eq!(
            expire_when(
                &i64::MAX.to_string().into_bytes(),
                Unit::Millis,
                1,
                "pexpire"
            ),
            Err(CmdError::InvalidExpire("pexpire"))
        );
        assert_eq!(
            expire_when(
                &i64::MIN.to_string().into_bytes(),
                Unit::Millis,
                1_000,
                "pexpire"
            ),
            Ok(i64::MIN + 1_000)
        );
        assert_eq!(
            expire_when(b"1.5", Unit::Millis, 0, "pexpire"),
            Err(CmdError::NotInteger)
        );
    }

    #[test]
    fn expire_conditions() {
        let c = |nx, xx, gt, lt| ExpireCond { nx, xx, gt, lt };
        assert!(c(true, false, false, false).allows(None, 5));
        assert!(!c(true, false, false, false).allows(Some(1), 5));
        assert!(!c(false, true, false, false).allows(None, 5));
        assert!(c(false, true, false, false).allows(Some(1), 5));
        // No TTL is infinite: GT never wins, LT always does.
        assert!(!c(false, false, true, false).allows(None, i64::MAX));
        assert!(c(false, false, false, true).allows(None, i64::MAX));
        assert!(c(false, false, true, false).allows(Some(10), 11));
        assert!(!c(false, false, true, false).allows(Some(10), 10));
        assert!(c(false, false, false, true).allows(Some(10), 9));
        assert!(!c(false, false, false, true).allows(Some(10), 10));
        assert!(!c(false, true, true, false).allows(None, 11));
    }

    #[test]
    fn scan_cursor_round_trips() {
        let c = scan_cursor(0b1011, 7);
        assert_eq!((c & (SHARDS as u64 - 1)) as usize, 7);
        assert_eq!(c >> SHARD_BITS, 0b1011);
        assert_ne!(scan_cursor(0, 1), 0);
    }
}
