//! SORT and SORT_RO: sort a list, set or sorted set (which BY nosort returns in score order), optionally by external weights (`BY`), fetching
//! external values (`GET`), with LIMIT, ASC/DESC, ALPHA and STORE.
//!
//! BY and GET patterns read keys the command's key specs cannot name, so the table marks both commands
//! `ALL_SHARDS`: dispatch takes every shard lock for them, as EXEC does, and the sort is atomic.
//! Comparisons follow Redis's `sortCompare`: numeric scores with ties broken by the element's bytes,
//! or byte-wise (the C locale's `strcoll`) with ALPHA; a missing BY value sorts first.

use crate::storage::notify;
use std::cmp::Ordering;

use bytes::Bytes;

use super::args::parse_f64;
use super::table::{
    acl, flags::*, getkeys, ks, BeginSearch, CommandSpec, Docs, FindKeys, Group, KeySpec,
};
use super::{Args, ExecCtx};
use crate::error::CmdError;
use crate::protocol::Reply;
use crate::storage::db::Ttl;
use crate::storage::types::list::ListValue;
use crate::storage::{Db, Value};

const fn docs(summary: &'static str, since: &'static str, complexity: &'static str) -> Docs {
    Docs {
        summary,
        since,
        complexity,
    }
}

const UNKNOWN: KeySpec = KeySpec {
    flags: ks::RO | ks::ACCESS,
    begin: BeginSearch::Unknown,
    find: FindKeys::Unknown,
};
const CATS: u64 = acl::SET | acl::SORTEDSET | acl::LIST | acl::DANGEROUS;
const COMPLEXITY: &str = "O(N+M*log(M)) where N is the number of elements in the list or set to sort, and M the number of returned elements. When the elements are not sorted, complexity is O(N).";

#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec { name: "sort", group: Group::Generic, arity: -2, flags: WRITE | DENYOOM | ALL_SHARDS, acl: CATS, keys: &[KeySpec::one(1, ks::RO | ks::ACCESS), UNKNOWN, KeySpec { flags: ks::OW | ks::UPDATE, ..UNKNOWN }], getkeys: Some(getkeys::sort), docs: docs("Sorts the elements in a list, a set, or a sorted set, optionally storing the result.", "1.0.0", COMPLEXITY), event: Some((notify::GENERIC, "sortstore")), handler: sort, ..CommandSpec::DEFAULT },
    CommandSpec { name: "sort_ro", group: Group::Generic, arity: -2, flags: READONLY | ALL_SHARDS, acl: CATS, keys: &[KeySpec::one(1, ks::RO | ks::ACCESS), UNKNOWN], getkeys: Some(getkeys::sort), docs: docs("Returns the sorted elements of a list, a set, or a sorted set.", "7.0.0", COMPLEXITY), handler: sort_ro, ..CommandSpec::DEFAULT },
];

struct Options {
    by: Option<Bytes>,
    dont_sort: bool,
    limit: Option<(i64, i64)>,
    get: Vec<Bytes>,
    desc: bool,
    alpha: bool,
    store: Option<Bytes>,
}

fn parse(args: &mut Args, allow_store: bool) -> Result<Options, CmdError> {
    let mut o = Options {
        by: None,
        dont_sort: false,
        limit: None,
        get: Vec::new(),
        desc: false,
        alpha: false,
        store: None,
    };
    while let Some(opt) = args.next() {
        let left = args.remaining();
        if opt.eq_ignore_ascii_case(b"ASC") {
            o.desc = false;
        } else if opt.eq_ignore_ascii_case(b"DESC") {
            o.desc = true;
        } else if opt.eq_ignore_ascii_case(b"ALPHA") {
            o.alpha = true;
        } else if opt.eq_ignore_ascii_case(b"LIMIT") && left >= 2 {
            let start = args.next_i64()?;
            let count = args.next_i64()?;
            o.limit = Some((start, count));
        } else if allow_store && opt.eq_ignore_ascii_case(b"STORE") && left >= 1 {
            o.store = Some(args.next_shared()?);
        } else if opt.eq_ignore_ascii_case(b"BY") && left >= 1 {
            let pattern = args.next_shared()?;
            // A pattern without '*' means "do not sort" (BY nosort).
            o.dont_sort = !pattern.contains(&b'*');
            o.by = Some(pattern);
        } else if opt.eq_ignore_ascii_case(b"GET") && left >= 1 {
            o.get.push(args.next_shared()?);
        } else {
            return Err(CmdError::Syntax);
        }
    }
    Ok(o)
}

/// Redis's `lookupKeyByPattern`: `#` is the element itself; otherwise the first `*` is replaced by the
/// element, and `key->field` reads a hash field. `None` when missing or of the wrong type.
fn lookup_pattern(db: &mut Db<'_, '_>, pattern: &[u8], elem: &[u8]) -> Option<Vec<u8>> {
    if pattern == b"#" {
        return Some(elem.to_vec());
    }
    let star = pattern.iter().position(|&c| c == b'*')?;
    let (key_pat, field) = match find(&pattern[star + 1..], b"->") {
        Some(off) if star + 1 + off + 2 < pattern.len() => {
            let at = star + 1 + off;
            (&pattern[..at], Some(&pattern[at + 2..]))
        }
        _ => (pattern, None),
    };
    let mut key = Vec::with_capacity(key_pat.len() + elem.len());
    key.extend_from_slice(&key_pat[..star]);
    key.extend_from_slice(elem);
    key.extend_from_slice(&key_pat[star + 1..]);
    match (db.get(&key)?, field) {
        (Value::Str(s), None) => Some(s.as_bytes().into_owned()),
        (Value::Hash(h), Some(f)) => h.get(f).map(|v| v.to_vec()),
        _ => None,
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The elements of the value at `key`, in its natural order (`Ok(None)` if absent).
fn elements(v: Option<&Value>) -> Result<Option<Vec<Vec<u8>>>, CmdError> {
    Ok(match v {
        None => None,
        Some(Value::List(l)) => Some(l.iter().map(|e| e.to_vec()).collect()),
        Some(Value::Set(s)) => Some(s.iter().map(|m| m.with_bytes(|b| b.to_vec())).collect()),
        Some(Value::ZSet(z)) => Some(z.iter().map(|(m, _)| m.to_vec()).collect()),
        Some(_) => return Err(CmdError::WrongType),
    })
}

fn sort_generic(
    ctx: &mut ExecCtx<'_>,
    args: &mut Args,
    allow_store: bool,
) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let o = parse(args, allow_store)?;
    let mut db = ctx.db();
    let is_zset = matches!(db.peek(key).map(|e| &e.value), Some(Value::ZSet(_)));
    let mut elems = elements(db.get(key))?.unwrap_or_default();
    // Unsorted, a sorted set keeps its own order, walked backwards for DESC (lists ignore DESC).
    if is_zset && o.dont_sort && o.desc {
        elems.reverse();
    }
    let len = elems.len() as i64;

    // LIMIT sanity as Redis: negative start is 0, negative count means "to the end".
    let (start, end) = match o.limit {
        None => (0, len - 1),
        Some((s, c)) => {
            let mut start = s.max(0);
            let mut end = if c < 0 {
                len - 1
            } else {
                start.saturating_add(c) - 1
            };
            if start >= len {
                start = len - 1;
                end = len - 2;
            }
            if end >= len {
                end = len - 1;
            }
            (start, end)
        }
    };

    let mut items: Vec<(Vec<u8>, Option<Vec<u8>>, f64)> = Vec::with_capacity(elems.len());
    for e in elems {
        let by = match (&o.by, o.dont_sort) {
            (Some(p), false) => lookup_pattern(&mut db, p, &e),
            _ => None,
        };
        let score = if o.dont_sort || o.alpha {
            0.0
        } else {
            // A missing BY value, like an empty string (strtod reads nothing), scores 0.
            let src = by
                .as_deref()
                .unwrap_or(if o.by.is_some() { b"" } else { &e });
            if src.is_empty() {
                0.0
            } else {
                parse_f64(src).ok_or(CmdError::SortNotDouble)?
            }
        };
        items.push((e, by, score));
    }
    if !o.dont_sort {
        let by_pattern = o.by.is_some();
        items.sort_by(|a, b| {
            let cmp = if !o.alpha {
                a.2.partial_cmp(&b.2)
                    .unwrap_or(Ordering::Equal)
                    .then_with(|| a.0.cmp(&b.0))
            } else if by_pattern {
                match (&a.1, &b.1) {
                    (None, None) => Ordering::Equal,
                    (None, Some(_)) => Ordering::Less,
                    (Some(_), None) => Ordering::Greater,
                    (Some(x), Some(y)) => x.cmp(y),
                }
            } else {
                a.0.cmp(&b.0)
            };
            if o.desc {
                cmp.reverse()
            } else {
                cmp
            }
        });
    }
    let picked: Vec<Vec<u8>> = if start <= end && end >= 0 {
        items
            .into_iter()
            .skip(start as usize)
            .take((end - start + 1) as usize)
            .map(|i| i.0)
            .collect()
    } else {
        Vec::new()
    };

    // One value per element, or one per GET pattern per element.
    let mut out: Vec<Option<Vec<u8>>> = Vec::new();
    for e in picked {
        if o.get.is_empty() {
            out.push(Some(e));
        } else {
            for g in &o.get {
                out.push(lookup_pattern(&mut db, g, &e));
            }
        }
    }
    match o.store {
        None => Ok(Reply::Array(
            out.into_iter()
                .map(|v| v.map_or(Reply::Nil, |b| Reply::bulk_copy(&b)))
                .collect(),
        )),
        Some(dest) => {
            let n = out.len();
            if n == 0 {
                db.remove(&dest);
            } else {
                let max = ctx.server.config.read().list_max_listpack_size;
                let list =
                    ListValue::from_elements(max, out.iter().map(|v| v.as_deref().unwrap_or(b"")));
                ctx.db().set(&dest, Value::List(list), Ttl::Clear);
            }
            Ok(Reply::Int(n as i64))
        }
    }
}

/// `SORT key [BY pattern] [LIMIT offset count] [GET pattern [GET pattern ...]] [ASC|DESC] [ALPHA]
/// [STORE destination]` → the sorted elements (or fetched values), or with STORE their number.
fn sort(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    sort_generic(ctx, args, true)
}

/// `SORT_RO key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC] [ALPHA]` → as SORT,
/// without STORE.
fn sort_ro(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    sort_generic(ctx, args, false)
}
