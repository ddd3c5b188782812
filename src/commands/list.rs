//! List commands, including the blocking pops (BLPOP BRPOP BLMOVE BRPOPLPUSH BLMPOP).
//!
//! Arguments are validated in Redis's order (options before the key lookup where Redis does so), so the
//! same bad request gets the same error. A list that becomes empty is deleted. Blocking commands that
//! find nothing set `ctx.block`; the connection waits and runs them again when a write touches one of
//! their keys (dispatch wakes waiters after every write command).

use crate::storage::notify;
use bytes::Bytes;

use super::table::{acl, flags::*, ks, CommandSpec, Docs, Group, KeySpec};
use super::{Args, BlockOn, ExecCtx};
use crate::error::CmdError;
use crate::protocol::Reply;
use crate::storage::types::list::{clamp_range, End, Item, ListValue, Needle};
use crate::storage::{Db, Value};

const L: u64 = acl::LIST;

const fn docs(summary: &'static str, since: &'static str, complexity: &'static str) -> Docs {
    Docs {
        summary,
        since,
        complexity,
    }
}

const KEY_INSERT: &[KeySpec] = &[KeySpec::one(1, ks::RW | ks::INSERT)];
const KEY_POP: &[KeySpec] = &[KeySpec::one(1, ks::RW | ks::ACCESS | ks::DELETE)];
const KEY_READ: &[KeySpec] = &[KeySpec::one(1, ks::RO | ks::ACCESS)];
const KEYS_MOVE: &[KeySpec] = &[
    KeySpec::one(1, ks::RW | ks::ACCESS | ks::DELETE),
    KeySpec::one(2, ks::RW | ks::INSERT),
];
const KEYS_BPOP: &[KeySpec] = &[KeySpec::range(1, -2, 1, ks::RW | ks::ACCESS | ks::DELETE)];

#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec { name: "lpush", group: Group::List, arity: -3, flags: WRITE | DENYOOM | FAST, acl: L, keys: KEY_INSERT, docs: docs("Prepends one or more elements to a list. Creates the key if it doesn't exist.", "1.0.0", "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments."), event: Some((notify::LIST, "lpush")), handler: lpush, ..CommandSpec::DEFAULT },
    CommandSpec { name: "rpush", group: Group::List, arity: -3, flags: WRITE | DENYOOM | FAST, acl: L, keys: KEY_INSERT, docs: docs("Appends one or more elements to a list. Creates the key if it doesn't exist.", "1.0.0", "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments."), event: Some((notify::LIST, "rpush")), handler: rpush, ..CommandSpec::DEFAULT },
    CommandSpec { name: "lpushx", group: Group::List, arity: -3, flags: WRITE | DENYOOM | FAST, acl: L, keys: KEY_INSERT, docs: docs("Prepends one or more elements to a list only when the list exists.", "2.2.0", "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments."), event: Some((notify::LIST, "lpush")), handler: lpushx, ..CommandSpec::DEFAULT },
    CommandSpec { name: "rpushx", group: Group::List, arity: -3, flags: WRITE | DENYOOM | FAST, acl: L, keys: KEY_INSERT, docs: docs("Appends an element to a list only when the list exists.", "2.2.0", "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments."), event: Some((notify::LIST, "rpush")), handler: rpushx, ..CommandSpec::DEFAULT },
    CommandSpec { name: "lpop", group: Group::List, arity: -2, flags: WRITE | FAST, acl: L, keys: KEY_POP, docs: docs("Returns the first elements in a list after removing it. Deletes the list if the last element was popped.", "1.0.0", "O(N) where N is the number of elements returned"), handler: lpop, ..CommandSpec::DEFAULT },
    CommandSpec { name: "rpop", group: Group::List, arity: -2, flags: WRITE | FAST, acl: L, keys: KEY_POP, docs: docs("Returns and removes the last elements of a list. Deletes the list if the last element was popped.", "1.0.0", "O(N) where N is the number of elements returned"), handler: rpop, ..CommandSpec::DEFAULT },
    CommandSpec { name: "llen", group: Group::List, arity: 2, flags: READONLY | FAST, acl: L, keys: &[KeySpec::one(1, ks::RO)], docs: docs("Returns the length of a list.", "1.0.0", "O(1)"), handler: llen, ..CommandSpec::DEFAULT },
    CommandSpec { name: "lrange", group: Group::List, arity: 4, flags: READONLY, acl: L, keys: KEY_READ, docs: docs("Returns a range of elements from a list.", "1.0.0", "O(S+N) where S is the distance of start offset from HEAD for small lists, from nearest end (HEAD or TAIL) for large lists; and N is the number of elements in the specified range."), handler: lrange, ..CommandSpec::DEFAULT },
    CommandSpec { name: "lindex", group: Group::List, arity: 3, flags: READONLY, acl: L, keys: KEY_READ, docs: docs("Returns an element from a list by its index.", "1.0.0", "O(N) where N is the number of elements to traverse to get to the element at index. This makes asking for the first or the last element of the list O(1)."), handler: lindex, ..CommandSpec::DEFAULT },
    CommandSpec { name: "lset", group: Group::List, arity: 4, flags: WRITE | DENYOOM, acl: L, keys: &[KeySpec::one(1, ks::RW | ks::UPDATE)], docs: docs("Sets the value of an element in a list by its index.", "1.0.0", "O(N) where N is the length of the list. Setting either the first or the last element of the list is O(1)."), event: Some((notify::LIST, "lset")), handler: lset, ..CommandSpec::DEFAULT },
    CommandSpec { name: "linsert", group: Group::List, arity: 5, flags: WRITE | DENYOOM, acl: L, keys: KEY_INSERT, docs: docs("Inserts an element before or after another element in a list.", "2.2.0", "O(N) where N is the number of elements to traverse before seeing the value pivot. This means that inserting somewhere on the left end on the list (head) can be considered O(1) and inserting somewhere on the right end (tail) is O(N)."), event: Some((notify::LIST, "linsert")), handler: linsert, ..CommandSpec::DEFAULT },
    CommandSpec { name: "lrem", group: Group::List, arity: 4, flags: WRITE, acl: L, keys: &[KeySpec::one(1, ks::RW | ks::DELETE)], docs: docs("Removes elements from a list. Deletes the list if the last element was removed.", "1.0.0", "O(N+M) where N is the length of the list and M is the number of elements removed."), event: Some((notify::LIST, "lrem")), handler: lrem, ..CommandSpec::DEFAULT },
    CommandSpec { name: "ltrim", group: Group::List, arity: 4, flags: WRITE, acl: L, keys: &[KeySpec::one(1, ks::RW | ks::DELETE)], docs: docs("Removes elements from both ends a list. Deletes the list if all elements were trimmed.", "1.0.0", "O(N) where N is the number of elements to be removed by the operation."), event: Some((notify::LIST, "ltrim")), handler: ltrim, ..CommandSpec::DEFAULT },
    CommandSpec { name: "lpos", group: Group::List, arity: -3, flags: READONLY, acl: L, keys: KEY_READ, docs: docs("Returns the index of matching elements in a list.", "6.0.6", "O(N) where N is the number of elements in the list, for the average case. When searching for elements near the head or the tail of the list, or when the MAXLEN option is provided, the command may run in constant time."), handler: lpos, ..CommandSpec::DEFAULT },
    CommandSpec { name: "lmove", group: Group::List, arity: 5, flags: WRITE | DENYOOM, acl: L, keys: KEYS_MOVE, docs: docs("Returns an element after popping it from one list and pushing it to another. Deletes the list if the last element was moved.", "6.2.0", "O(1)"), handler: lmove, ..CommandSpec::DEFAULT },
    CommandSpec { name: "rpoplpush", group: Group::List, arity: 3, flags: WRITE | DENYOOM, acl: L, keys: KEYS_MOVE, docs: docs("Returns the last element of a list after removing and pushing it to another list. Deletes the list if the last element was popped.", "1.2.0", "O(1)"), handler: rpoplpush, ..CommandSpec::DEFAULT },
    CommandSpec { name: "lmpop", group: Group::List, arity: -4, flags: WRITE, acl: L, keys: &[KeySpec::keynum(1, ks::RW | ks::ACCESS | ks::DELETE)], docs: docs("Returns multiple elements from a list after removing them. Deletes the list if the last element was popped.", "7.0.0", "O(N+M) where N is the number of provided keys and M is the number of elements returned."), handler: lmpop, ..CommandSpec::DEFAULT },
    CommandSpec { name: "blpop", group: Group::List, arity: -3, flags: WRITE | NOSCRIPT | BLOCKING, acl: L, keys: KEYS_BPOP, docs: docs("Removes and returns the first element in a list. Blocks until an element is available otherwise. Deletes the list if the last element was popped.", "2.0.0", "O(N) where N is the number of provided keys."), handler: blpop, ..CommandSpec::DEFAULT },
    CommandSpec { name: "brpop", group: Group::List, arity: -3, flags: WRITE | NOSCRIPT | BLOCKING, acl: L, keys: KEYS_BPOP, docs: docs("Removes and returns the last element in a list. Blocks until an element is available otherwise. Deletes the list if the last element was popped.", "2.0.0", "O(N) where N is the number of provided keys."), handler: brpop, ..CommandSpec::DEFAULT },
    CommandSpec { name: "blmove", group: Group::List, arity: 6, flags: WRITE | DENYOOM | NOSCRIPT | BLOCKING, acl: L, keys: KEYS_MOVE, docs: docs("Pops an element from a list, pushes it to another list and returns it. Blocks until an element is available otherwise. Deletes the list if the last element was moved.", "6.2.0", "O(1)"), handler: blmove, ..CommandSpec::DEFAULT },
    CommandSpec { name: "brpoplpush", group: Group::List, arity: 4, flags: WRITE | DENYOOM | NOSCRIPT | BLOCKING, acl: L, keys: KEYS_MOVE, docs: docs("Pops an element from a list, pushes it to another list and returns it. Block until an element is available otherwise. Deletes the list if the last element was popped.", "2.2.0", "O(1)"), handler: brpoplpush, ..CommandSpec::DEFAULT },
    CommandSpec { name: "blmpop", group: Group::List, arity: -5, flags: WRITE | BLOCKING, acl: L, keys: &[KeySpec::keynum(2, ks::RW | ks::ACCESS | ks::DELETE)], docs: docs("Pops the first element from one of multiple lists. Blocks until an element is available otherwise. Deletes the list if the last element was popped.", "7.0.0", "O(N+M) where N is the number of provided keys and M is the number of elements returned."), handler: blmpop, ..CommandSpec::DEFAULT },
];

fn is_list(v: &Value) -> bool {
    matches!(v, Value::List(_))
}

/// A list for reading: `Ok(None)` if the key is absent, WRONGTYPE if it holds another type.
fn list_ref(v: Option<&Value>) -> Result<Option<&ListValue>, CmdError> {
    match v {
        None => Ok(None),
        Some(Value::List(l)) => Ok(Some(l)),
        Some(_) => Err(CmdError::WrongType),
    }
}

/// An existing list for modification.
fn list_mut<'d>(db: &'d mut Db<'_, '_>, key: &[u8]) -> Result<Option<&'d mut ListValue>, CmdError> {
    match db.peek(key).map(|e| is_list(&e.value)) {
        None => Ok(None),
        Some(false) => Err(CmdError::WrongType),
        Some(true) => match db.get_mut(key) {
            Some(Value::List(l)) => Ok(Some(l)),
            _ => Ok(None),
        },
    }
}

/// The bulk reply of one element: a ring list's element is copied as stored (no re-encoding of
/// inline bytes), a listpack integer formatted once. Always inlined so the reply is built in its
/// slot of the reply array (built elsewhere and copied, it stalls on store forwarding: measured).
#[inline(always)]
fn item_reply(i: Item<'_>) -> Reply {
    match i {
        Item::Ref(s) => Reply::SmallBulk(s.clone()),
        Item::Str(b) => Reply::bulk_copy(b),
        Item::Int(n) => Reply::bulk_int(n),
    }
}

fn max_listpack(ctx: &ExecCtx<'_>) -> i64 {
    ctx.server.config.read().list_max_listpack_size
}

fn end_of(arg: &[u8]) -> Result<End, CmdError> {
    if arg.eq_ignore_ascii_case(b"LEFT") {
        Ok(End::Left)
    } else if arg.eq_ignore_ascii_case(b"RIGHT") {
        Ok(End::Right)
    } else {
        Err(CmdError::Syntax)
    }
}

fn push(
    ctx: &mut ExecCtx<'_>,
    args: &mut Args,
    end: End,
    only_existing: bool,
) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let elems = args.rest();
    let max = max_listpack(ctx);
    let mut db = ctx.db();
    let list = if only_existing {
        match list_mut(&mut db, key)? {
            Some(l) => l,
            None => return Ok(Reply::Int(0)),
        }
    } else {
        match db.get_or_create(key, is_list, || Value::List(ListValue::new())) {
            Ok(Value::List(l)) => l,
            _ => return Err(CmdError::WrongType),
        }
    };
    list.grow(max, elems.iter().map(|e| &e[..]));
    list.push_all(end, elems.iter().map(|e| &e[..]));
    Ok(Reply::Int(list.len() as i64))
}

/// `LPUSH key element [element ...]` → the list's length.
fn lpush(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    push(ctx, args, End::Left, false)
}

/// `RPUSH key element [element ...]` → the list's length.
fn rpush(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    push(ctx, args, End::Right, false)
}

/// `LPUSHX key element [element ...]` → the list's length, 0 (and nothing created) if it does not exist.
fn lpushx(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    push(ctx, args, End::Left, true)
}

/// `RPUSHX key element [element ...]` → the list's length, 0 if it does not exist.
fn rpushx(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    push(ctx, args, End::Right, true)
}

/// The keyspace event of a pop from `end`.
fn pop_event(end: End) -> &'static str {
    match end {
        End::Left => "lpop",
        End::Right => "rpop",
    }
}

/// The keyspace event of a push to `end`.
fn push_event(end: End) -> &'static str {
    match end {
        End::Left => "lpush",
        End::Right => "rpush",
    }
}

/// Pops up to `count` elements from one end, deleting the key if the list empties. Raises the pop's
/// keyspace event (then `del`) here, for every popping command: its name depends on the end.
fn pop_n(
    db: &mut Db<'_, '_>,
    key: &[u8],
    end: End,
    count: usize,
    max: i64,
) -> Result<Option<Vec<Reply>>, CmdError> {
    let Some(list) = list_mut(db, key)? else {
        return Ok(None);
    };
    let mut out = Vec::with_capacity(count.min(list.len()));
    list.pop_each(end, count, |e| out.push(item_reply(e)));
    let empty = list.is_empty();
    if !empty && !out.is_empty() {
        list.shrink(max);
    }
    if !out.is_empty() {
        db.notify(notify::LIST, pop_event(end), key);
    }
    if empty {
        db.remove(key);
    }
    Ok(Some(out))
}

fn pop(
    ctx: &mut ExecCtx<'_>,
    args: &mut Args,
    end: End,
    name: &'static str,
) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let count = match args.remaining() {
        0 => None,
        1 => {
            let c = args.next_i64().map_err(|_| CmdError::NotPositive)?;
            if c < 0 {
                return Err(CmdError::NotPositive);
            }
            Some(c as usize)
        }
        _ => return Err(CmdError::WrongArity(name)),
    };
    let max = max_listpack(ctx);
    let mut db = ctx.db();
    match count {
        None => Ok(pop_n(&mut db, key, end, 1, max)?
            .and_then(|mut v| v.pop())
            .unwrap_or(Reply::Nil)),
        Some(c) => Ok(pop_n(&mut db, key, end, c, max)?.map_or(Reply::NilArray, Reply::Array)),
    }
}

/// `LPOP key [count]` → the first element (nil if none), or with count an array (nil if no key).
fn lpop(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    pop(ctx, args, End::Left, "lpop")
}

/// `RPOP key [count]` → the last element, or with count an array.
fn rpop(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    pop(ctx, args, End::Right, "rpop")
}

/// `LLEN key` → the length (0 if no key).
fn llen(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let mut db = ctx.db();
    Ok(Reply::Int(
        list_ref(db.get(key))?.map_or(0, |l| l.len() as i64),
    ))
}

/// `LRANGE key start stop` → the elements in the inclusive range (negative indices from the end).
fn lrange(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let start = args.next_i64()?;
    let stop = args.next_i64()?;
    let mut db = ctx.db();
    let Some(list) = list_ref(db.get(key))? else {
        return Ok(Reply::Array(vec![]));
    };
    Ok(Reply::Array(match clamp_range(start, stop, list.len()) {
        Some((s, e)) => match list.block_slices(s, e) {
            // One `extend` per contiguous run, so the replies are written straight into the array.
            Some(runs) => {
                let mut out = Vec::with_capacity(e - s + 1);
                for run in runs {
                    out.extend(run.iter().map(|v| Reply::bulk_copy(v)));
                }
                out
            }
            None => {
                let mut out = Vec::with_capacity(e - s + 1);
                list.range_each(s, e, |v| out.push(item_reply(v)));
                out
            }
        },
        None => vec![],
    }))
}

/// Resolves a possibly negative index; `None` when out of range.
fn index_of(i: i64, len: usize) -> Option<usize> {
    let i = if i < 0 {
        (len as i64).checked_add(i)?
    } else {
        i
    };
    (i >= 0 && (i as u64) < len as u64).then_some(i as usize)
}

/// `LINDEX key index` → the element, or nil.
fn lindex(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let mut db = ctx.db();
    // Redis looks the key up before parsing the index.
    let Some(list) = list_ref(db.get(key))? else {
        return Ok(Reply::Nil);
    };
    let idx = args.next_i64()?;
    Ok(index_of(idx, list.len())
        .and_then(|i| list.get(i))
        .map_or(Reply::Nil, |v| item_reply(v)))
}

/// `LSET key index element` → `+OK`; `ERR no such key`, `ERR index out of range`.
fn lset(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let max = max_listpack(ctx);
    let mut db = ctx.db();
    // Redis looks the key up before parsing the index.
    let list = list_mut(&mut db, key)?.ok_or(CmdError::NoSuchKey)?;
    let idx = args.next_i64()?;
    let elem = args.next_bytes()?;
    // As Redis: the growing conversion happens before the range check.
    list.grow(max, std::iter::once(elem));
    let i = index_of(idx, list.len()).ok_or(CmdError::IndexOutOfRange)?;
    list.set(i, elem);
    list.shrink(max);
    Ok(Reply::Ok)
}

/// `LINSERT key BEFORE|AFTER pivot element` → the new length, -1 if the pivot is absent, 0 if no key.
fn linsert(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let where_ = args.next_bytes()?;
    let after = if where_.eq_ignore_ascii_case(b"AFTER") {
        true
    } else if where_.eq_ignore_ascii_case(b"BEFORE") {
        false
    } else {
        return Err(CmdError::Syntax);
    };
    let pivot = args.next_bytes()?;
    let elem = args.next_bytes()?;
    let max = max_listpack(ctx);
    let dirty = ctx.dirty;
    let mut db = ctx.db();
    let Some(list) = list_mut(&mut db, key)? else {
        return Ok(Reply::Int(0));
    };
    // As Redis: converted as if the element will be inserted, before looking for the pivot.
    list.grow(max, std::iter::once(elem));
    let Some(pos) = list.position(pivot) else {
        // Nothing changed: no write counted, no event (as Redis).
        ctx.dirty = dirty;
        return Ok(Reply::Int(-1));
    };
    list.insert(if after { pos + 1 } else { pos }, elem);
    Ok(Reply::Int(list.len() as i64))
}

/// `LREM key count element` → how many were removed (count > 0 from the head, < 0 from the tail,
/// 0 all).
fn lrem(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let count = args.next_i64()?;
    let elem = args.next_bytes()?;
    let max = max_listpack(ctx);
    let dirty = ctx.dirty;
    let mut db = ctx.db();
    let Some(list) = list_mut(&mut db, key)? else {
        return Ok(Reply::Int(0));
    };
    let removed = list.remove_matching(
        elem,
        count.unsigned_abs().min(usize::MAX as u64) as usize,
        count >= 0,
    );
    if list.is_empty() {
        db.remove(key);
    } else if removed > 0 {
        list.shrink(max);
    }
    if removed == 0 {
        // Nothing changed: no write counted, no event (as Redis).
        ctx.dirty = dirty;
    }
    Ok(Reply::Int(removed as i64))
}

/// `LTRIM key start stop` → `+OK`; the list keeps only the range (deleted if empty).
fn ltrim(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let start = args.next_i64()?;
    let stop = args.next_i64()?;
    let max = max_listpack(ctx);
    let mut db = ctx.db();
    let Some(list) = list_mut(&mut db, key)? else {
        return Ok(Reply::Ok);
    };
    match clamp_range(start, stop, list.len()) {
        Some((s, e)) => list.trim(s, e),
        None => list.trim(1, 0),
    }
    if list.is_empty() {
        db.remove(key);
    } else {
        list.shrink(max);
    }
    Ok(Reply::Ok)
}

/// `LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]` → the index of the first match
/// (nil if none), or with COUNT an array of indices.
fn lpos(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let elem = args.next_bytes()?;
    let (mut rank, mut count, mut maxlen) = (1i64, None, 0i64);
    while let Some(opt) = args.next() {
        if opt.eq_ignore_ascii_case(b"RANK") && !args.is_empty() {
            rank = args.next_i64()?;
            if rank == 0 {
                return Err(CmdError::LposRankZero);
            }
        } else if opt.eq_ignore_ascii_case(b"COUNT") && !args.is_empty() {
            let c = args.next_i64().map_err(|_| CmdError::LposCountNegative)?;
            if c < 0 {
                return Err(CmdError::LposCountNegative);
            }
            count = Some(c as u64);
        } else if opt.eq_ignore_ascii_case(b"MAXLEN") && !args.is_empty() {
            maxlen = args.next_i64().map_err(|_| CmdError::LposMaxlenNegative)?;
            if maxlen < 0 {
                return Err(CmdError::LposMaxlenNegative);
            }
        } else {
            return Err(CmdError::Syntax);
        }
    }
    let mut db = ctx.db();
    let Some(list) = list_ref(db.get(key))? else {
        return Ok(if count.is_some() {
            Reply::Array(vec![])
        } else {
            Reply::Nil
        });
    };
    let len = list.len();
    let scan_limit = if maxlen == 0 {
        len
    } else {
        (maxlen as u64).min(len as u64) as usize
    };
    let want = match count {
        None => 1,
        Some(0) => u64::MAX,
        Some(c) => c,
    };
    // Redis negates the rank in C, so RANK i64::MIN stays negative and matches the first element
    // found from the tail: skip nothing.
    let mut skip = if rank == i64::MIN {
        0
    } else {
        rank.unsigned_abs() - 1
    };
    let mut found = Vec::new();
    let needle = Needle::new(elem);
    let forward = rank > 0;
    let mut it = list.iter();
    for step in 0..scan_limit {
        let item = if forward { it.next() } else { it.next_back() };
        let Some(item) = item else { break };
        if item.matches(&needle) {
            if skip > 0 {
                skip -= 1;
                continue;
            }
            let i = if forward { step } else { len - 1 - step };
            found.push(Reply::Int(i as i64));
            if found.len() as u64 >= want {
                break;
            }
        }
    }
    Ok(match count {
        Some(_) => Reply::Array(found),
        None => found.pop().unwrap_or(Reply::Nil),
    })
}

/// Moves one element from `src` to `dst`; `Ok(None)` when `src` is missing or empty.
/// Checks both keys' types before changing anything, as Redis does.
fn move_one(
    ctx: &mut ExecCtx<'_>,
    src: &[u8],
    dst: &[u8],
    from: End,
    to: End,
) -> Result<Option<Reply>, CmdError> {
    let max = max_listpack(ctx);
    let mut db = ctx.db();
    match db.peek(src).map(|e| is_list(&e.value)) {
        None => return Ok(None),
        Some(false) => return Err(CmdError::WrongType),
        Some(true) => {}
    }
    if db.peek(dst).is_some_and(|e| !is_list(&e.value)) {
        return Err(CmdError::WrongType);
    }
    let Some(list) = list_mut(&mut db, src)? else {
        return Ok(None);
    };
    let Some(elem) = list.pop(from) else {
        return Ok(None);
    };
    // As Redis: the push (and its events) first, then the pop's event, then `del` if `src` emptied.
    match db.get_or_create(dst, is_list, || Value::List(ListValue::new())) {
        Ok(Value::List(l)) => {
            l.grow(max, std::iter::once(&elem[..]));
            l.push(to, &elem);
        }
        _ => return Err(CmdError::WrongType),
    }
    db.notify(notify::LIST, push_event(to), dst);
    db.notify(notify::LIST, pop_event(from), src);
    match list_mut(&mut db, src)? {
        Some(l) if l.is_empty() => {
            db.remove(src);
        }
        Some(l) => l.shrink(max),
        None => {}
    }
    Ok(Some(Reply::SmallBulk(elem)))
}

/// `LMOVE source destination LEFT|RIGHT LEFT|RIGHT` → the element moved, or nil.
fn lmove(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let src = args.next_bytes()?;
    let dst = args.next_bytes()?;
    let from = end_of(args.next_bytes()?)?;
    let to = end_of(args.next_bytes()?)?;
    Ok(move_one(ctx, src, dst, from, to)?.unwrap_or(Reply::Nil))
}

/// `RPOPLPUSH source destination` → the element moved, or nil.
fn rpoplpush(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let src = args.next_bytes()?;
    let dst = args.next_bytes()?;
    Ok(move_one(ctx, src, dst, End::Right, End::Left)?.unwrap_or(Reply::Nil))
}

/// Parsed `numkeys key [key ...] LEFT|RIGHT [COUNT count]`.
struct Mpop<'a> {
    keys: Vec<&'a [u8]>,
    end: End,
    count: usize,
}

fn parse_mpop<'a>(args: &mut Args<'a>) -> Result<Mpop<'a>, CmdError> {
    let numkeys = args.next_i64().map_err(|_| CmdError::NumkeysNotPositive)?;
    if numkeys <= 0 {
        return Err(CmdError::NumkeysNotPositive);
    }
    if numkeys as u64 >= args.remaining() as u64 {
        return Err(CmdError::Syntax);
    }
    let keys: Vec<&[u8]> = (0..numkeys).filter_map(|_| args.next()).collect();
    let end = end_of(args.next_bytes()?)?;
    let mut count = 1;
    if !args.is_empty() {
        if !args.eat("COUNT") || args.remaining() != 1 {
            return Err(CmdError::Syntax);
        }
        let c = args.next_i64().map_err(|_| CmdError::CountNotPositive)?;
        if c <= 0 {
            return Err(CmdError::CountNotPositive);
        }
        count = c as usize;
    }
    Ok(Mpop { keys, end, count })
}

/// Pops from the first non-empty list of `keys`: `[key, [elements]]`, or `None` if all are empty.
fn mpop(
    ctx: &mut ExecCtx<'_>,
    keys: &[&[u8]],
    end: End,
    count: usize,
) -> Result<Option<Reply>, CmdError> {
    let max = max_listpack(ctx);
    let mut db = ctx.db();
    for key in keys {
        if let Some(elems) = pop_n(&mut db, key, end, count, max)? {
            return Ok(Some(Reply::Array(vec![
                Reply::Bulk(Bytes::copy_from_slice(key)),
                Reply::Array(elems),
            ])));
        }
    }
    Ok(None)
}

/// `LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count]` → `[key, [elements]]` or nil.
fn lmpop(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let m = parse_mpop(args)?;
    Ok(mpop(ctx, &m.keys, m.end, m.count)?.unwrap_or(Reply::NilArray))
}

/// While a woken client re-runs its blocking command, a key holding another type counts as empty
/// (Redis leaves such a client blocked); on the first run it is WRONGTYPE as usual.
fn unless_retrying<T>(
    ctx: &ExecCtx<'_>,
    r: Result<Option<T>, CmdError>,
) -> Result<Option<T>, CmdError> {
    match r {
        Err(CmdError::WrongType) if ctx.client.retrying_block => Ok(None),
        other => other,
    }
}

/// Blocks the client on `keys` (or, where it may not block, answers as a timeout would).
fn block(
    ctx: &mut ExecCtx<'_>,
    keys: &[&[u8]],
    timeout_ms: Option<u64>,
) -> Result<Reply, CmdError> {
    if ctx.may_block() {
        ctx.block = Some(BlockOn {
            keys: keys.iter().map(|k| Bytes::copy_from_slice(k)).collect(),
            timeout_ms,
            timeout_reply: Reply::NilArray,
            argv_override: None,
            shared: false,
        });
    }
    Ok(Reply::NilArray)
}

fn bpop(ctx: &mut ExecCtx<'_>, args: &mut Args, end: End) -> Result<Reply, CmdError> {
    let mut keys = args.rest();
    let timeout_arg = keys.pop().ok_or(CmdError::Syntax)?;
    let timeout = super::args::parse_timeout(timeout_arg)?;
    let max = max_listpack(ctx);
    let retrying = ctx.client.retrying_block;
    {
        let mut db = ctx.db();
        for key in &keys {
            let popped = match pop_n(&mut db, key, end, 1, max) {
                Err(CmdError::WrongType) if retrying => None,
                other => other?,
            };
            if let Some(e) = popped.and_then(|mut v| v.pop()) {
                return Ok(Reply::Array(vec![
                    Reply::Bulk(Bytes::copy_from_slice(key)),
                    e,
                ]));
            }
        }
    }
    block(ctx, &keys, timeout)
}

/// `BLPOP key [key ...] timeout` → `[key, element]`, or nil when the timeout passes.
fn blpop(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    bpop(ctx, args, End::Left)
}

/// `BRPOP key [key ...] timeout` → `[key, element]`, or nil when the timeout passes.
fn brpop(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    bpop(ctx, args, End::Right)
}

fn bmove(
    ctx: &mut ExecCtx<'_>,
    src: &[u8],
    dst: &[u8],
    from: End,
    to: End,
    timeout: Option<u64>,
) -> Result<Reply, CmdError> {
    let moved = move_one(ctx, src, dst, from, to);
    match unless_retrying(ctx, moved)? {
        Some(r) => Ok(r),
        None => block(ctx, &[src], timeout),
    }
}

/// `BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout` → the element moved, or nil on timeout.
fn blmove(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let src = args.next_bytes()?;
    let dst = args.next_bytes()?;
    let from = end_of(args.next_bytes()?)?;
    let to = end_of(args.next_bytes()?)?;
    let timeout = args.next_timeout()?;
    bmove(ctx, src, dst, from, to, timeout)
}

/// `BRPOPLPUSH source destination timeout` → the element moved, or nil on timeout.
fn brpoplpush(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let src = args.next_bytes()?;
    let dst = args.next_bytes()?;
    let timeout = args.next_timeout()?;
    bmove(ctx, src, dst, End::Right, End::Left, timeout)
}

/// `BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count]` → `[key, [elements]]` or nil.
fn blmpop(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let timeout = args.next_timeout()?;
    let m = parse_mpop(args)?;
    let popped = mpop(ctx, &m.keys, m.end, m.count);
    match unless_retrying(ctx, popped)? {
        Some(r) => Ok(r),
        None => block(ctx, &m.keys, timeout),
    }
}
