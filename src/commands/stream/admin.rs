//! XGROUP and XINFO: creating and managing consumer groups, and looking inside streams.
//!
//! Split from `stream.rs` to keep each file short; the helpers (ID parsing, replies, lookups) live
//! there.

use super::*;
use crate::storage::notify;

// ---------------------------------------------------------------------------------------------------
// XGROUP

fn sub_syntax(args: &Args) -> CmdError {
    CmdError::SubcommandSyntax {
        sub: String::from_utf8_lossy(&args.argv()[1]).into_owned(),
        container: "XGROUP",
    }
}

fn parse_entries_read(b: &[u8]) -> Result<Option<u64>, CmdError> {
    let n = parse_i64(b).ok_or(CmdError::NotInteger)?;
    match n {
        -1 => Ok(None),
        n if n < 0 => Err(CmdError::EntriesReadInvalid),
        n => Ok(Some(n as u64)),
    }
}

/// `XGROUP CREATE key group id|$ [MKSTREAM] [ENTRIESREAD entries-read]` → OK.
pub(super) fn xgroup_create(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let argv = args.argv();
    let (key, gname, id_arg) = (&argv[2], &argv[3], &argv[4]);
    let mut mkstream = false;
    let mut entries_read = None;
    let mut i = 5;
    while i < argv.len() {
        if argv[i].eq_ignore_ascii_case(b"MKSTREAM") {
            mkstream = true;
            i += 1;
        } else if argv[i].eq_ignore_ascii_case(b"ENTRIESREAD") && i + 1 < argv.len() {
            entries_read = parse_entries_read(&argv[i + 1])?;
            i += 2;
        } else {
            return Err(sub_syntax(args));
        }
    }
    let mut db = ctx.db();
    let exists = stream_ref(db.peek(key).map(|e| &e.value))?.is_some();
    if !exists && !mkstream {
        return Err(CmdError::XgroupNoKey);
    }
    if argv.len() > 8 {
        return Err(sub_syntax(args));
    }
    let id = if id_arg == b"$" {
        None
    } else {
        Some(strict_id(id_arg)?)
    };
    let s = match db.get_or_create(
        key,
        |v| matches!(v, Value::Stream(_)),
        || Value::Stream(Box::default()),
    ) {
        Ok(Value::Stream(s)) => s,
        _ => return Err(CmdError::WrongType),
    };
    let id = id.unwrap_or(s.last_id);
    if s.groups.contains_key(gname) {
        return Err(CmdError::BusyGroup);
    }
    s.groups
        .insert(gname.to_vec(), ConsumerGroup::new(id, entries_read));
    Ok(Reply::Ok)
}

/// Looks up the stream and group XGROUP's other subcommands need, with Redis's errors.
fn xgroup_target<'d>(
    db: &'d mut Db<'_, '_>,
    key: &[u8],
    gname: &[u8],
    need_group: bool,
) -> Result<(&'d mut Stream, bool), CmdError> {
    match stream_ref(db.peek(key).map(|e| &e.value))? {
        None => return Err(CmdError::XgroupNoKey),
        Some(s) => {
            if need_group && !s.groups.contains_key(gname) {
                return Err(nogroup_for_key(key, gname));
            }
        }
    }
    let s = stream_mut(db, key)?.ok_or(CmdError::XgroupNoKey)?;
    let has = s.groups.contains_key(gname);
    Ok((s, has))
}

/// `XGROUP SETID key group id|$ [ENTRIESREAD entries-read]` → OK.
pub(super) fn xgroup_setid(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let argv = args.argv();
    let mut entries_read = None;
    if argv.len() == 7 {
        if !argv[5].eq_ignore_ascii_case(b"ENTRIESREAD") {
            return Err(sub_syntax(args));
        }
        entries_read = parse_entries_read(&argv[6])?;
    } else if argv.len() != 5 {
        return Err(sub_syntax(args));
    }
    let mut db = ctx.db();
    let (s, _) = xgroup_target(&mut db, &argv[2], &argv[3], true)?;
    let id = if &argv[4][..] == b"$" {
        s.last_id
    } else {
        parse_id(&argv[4], 0, false)?
    };
    if let Some(g) = s.groups.get_mut(&argv[3][..]) {
        g.last_id = id;
        g.entries_read = entries_read;
    }
    Ok(Reply::Ok)
}

/// `XGROUP DESTROY key group` → 1 if the group existed, else 0.
pub(super) fn xgroup_destroy(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let argv = args.argv();
    let dirty = ctx.dirty;
    let mut db = ctx.db();
    let (s, _) = xgroup_target(&mut db, &argv[2], &argv[3], false)?;
    let removed = s.groups.remove(&argv[3][..]).is_some();
    if !removed {
        // Nothing changed: no write counted, no event (as Redis).
        ctx.dirty = dirty;
    } else {
        // Blocked XREADGROUP clients of this group must re-run and get NOGROUP.
        ctx.signal_ready(&argv[2]);
    }
    Ok(Reply::Int(i64::from(removed)))
}

/// `XGROUP CREATECONSUMER key group consumer` → 1 if created, 0 if it existed.
pub(super) fn xgroup_createconsumer(
    ctx: &mut ExecCtx<'_>,
    args: &mut Args,
) -> Result<Reply, CmdError> {
    let argv = args.argv();
    let now = ctx.now;
    let mut db = ctx.db();
    let (s, _) = xgroup_target(&mut db, &argv[2], &argv[3], true)?;
    let created = match s.groups.get_mut(&argv[3][..]) {
        Some(g) => g.consumer_mut(&argv[4], now).1,
        None => false,
    };
    if created {
        db.notify(notify::STREAM, "xgroup-createconsumer", &argv[2]);
    }
    Ok(Reply::Int(i64::from(created)))
}

/// `XGROUP DELCONSUMER key group consumer` → the number of entries it had pending (now dropped).
pub(super) fn xgroup_delconsumer(
    ctx: &mut ExecCtx<'_>,
    args: &mut Args,
) -> Result<Reply, CmdError> {
    let argv = args.argv();
    let dirty = ctx.dirty;
    let mut db = ctx.db();
    let (s, _) = xgroup_target(&mut db, &argv[2], &argv[3], true)?;
    let Some(g) = s.groups.get_mut(&argv[3][..]) else {
        return Ok(Reply::Int(0));
    };
    let Some(c) = g.consumers.remove(&argv[4][..]) else {
        // Nothing changed: no write counted, no event (as Redis).
        ctx.dirty = dirty;
        return Ok(Reply::Int(0));
    };
    for id in &c.pel {
        g.pel.remove(id);
    }
    Ok(int(c.pel.len() as u64))
}

fn help(lines: &[&'static str]) -> Reply {
    Reply::help(lines)
}

/// `XGROUP HELP` → the help text.
pub(super) fn xgroup_help(_: &mut ExecCtx<'_>, _: &mut Args) -> Result<Reply, CmdError> {
    Ok(help(&[
        "XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CREATE <key> <groupname> <id|$> [option]",
        "    Create a new consumer group. Options are:",
        "    * MKSTREAM",
        "      Create the empty stream if it does not exist.",
        "    * ENTRIESREAD entries_read",
        "      Set the group's entries_read counter (internal use).",
        "CREATECONSUMER <key> <groupname> <consumer>",
        "    Create a new consumer in the specified group.",
        "DELCONSUMER <key> <groupname> <consumer>",
        "    Remove the specified consumer.",
        "DESTROY <key> <groupname>",
        "    Remove the specified group.",
        "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
        "    Set the current group ID and entries_read counter.",
        "HELP",
        "    Prints this help.",
    ]))
}

// ---------------------------------------------------------------------------------------------------
// XINFO

fn opt_int(v: Option<u64>) -> Reply {
    v.map_or(Reply::Nil, int)
}

/// `XINFO STREAM key [FULL [COUNT count]]` → the stream's summary, or with FULL its entries, groups,
/// PELs and consumers (COUNT limits each list, default 10, 0 for all).
pub(super) fn xinfo_stream(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let mut full = false;
    let mut count: usize = 10;
    if !args.is_empty() {
        let sub = String::from_utf8_lossy(&args.argv()[1]).into_owned();
        let bad = move || CmdError::SubcommandSyntax {
            sub,
            container: "XINFO",
        };
        if !args.eat("FULL") {
            return Err(bad());
        }
        full = true;
        if args.remaining() == 2 && args.eat("COUNT") {
            let c = args.next_i64()?;
            count = if c <= 0 { usize::MAX } else { c as usize };
        } else if !args.is_empty() {
            return Err(bad());
        }
    }
    let mut db = ctx.db();
    let Some(s) = stream_ref(db.get(key))? else {
        return Err(CmdError::NoSuchKey);
    };
    let blocks = s.blocks() as u64;
    let mut m = vec![
        kv("length", int(s.len())),
        kv("radix-tree-keys", int(blocks)),
        kv("radix-tree-nodes", int(blocks + 1)),
        kv("last-generated-id", id_reply(s.last_id)),
        kv("max-deleted-entry-id", id_reply(s.max_deleted_id)),
        kv("entries-added", int(s.entries_added)),
        kv("recorded-first-entry-id", id_reply(s.first_id())),
    ];
    if !full {
        m.push(kv("groups", int(s.groups.len() as u64)));
        m.push(kv(
            "first-entry",
            s.first_entry()
                .map_or(Reply::Nil, |(id, f)| entry_reply(id, f)),
        ));
        m.push(kv(
            "last-entry",
            s.last_entry()
                .map_or(Reply::Nil, |(id, f)| entry_reply(id, f)),
        ));
        return Ok(Reply::Map(m));
    }
    m.push(kv(
        "entries",
        Reply::Array(
            s.range(StreamId::MIN, StreamId::MAX, false)
                .take(count)
                .map(|(id, f)| entry_reply(id, f))
                .collect(),
        ),
    ));
    let groups = s
        .groups
        .iter()
        .map(|(name, g)| {
            let pel = g
                .pel
                .iter()
                .take(count)
                .map(|(id, p)| {
                    Reply::Array(vec![
                        id_reply(*id),
                        Reply::bulk_copy(&p.consumer),
                        int(p.delivery_time),
                        int(p.delivery_count),
                    ])
                })
                .collect();
            let consumers = g
                .consumers
                .iter()
                .map(|(cn, c)| {
                    let pending = c
                        .pel
                        .iter()
                        .take(count)
                        .filter_map(|id| {
                            g.pel.get(id).map(|p| {
                                Reply::Array(vec![
                                    id_reply(*id),
                                    int(p.delivery_time),
                                    int(p.delivery_count),
                                ])
                            })
                        })
                        .collect();
                    Reply::Map(vec![
                        kv("name", Reply::bulk_copy(cn)),
                        kv("seen-time", int(c.seen_time)),
                        kv("active-time", c.active_time.map_or(Reply::Int(-1), int)),
                        kv("pel-count", int(c.pel.len() as u64)),
                        kv("pending", Reply::Array(pending)),
                    ])
                })
                .collect();
            Reply::Map(vec![
                kv("name", Reply::bulk_copy(name)),
                kv("last-delivered-id", id_reply(g.last_id)),
                kv("entries-read", opt_int(g.entries_read)),
                kv("lag", s.lag(g).map_or(Reply::Nil, Reply::Int)),
                kv("pel-count", int(g.pel.len() as u64)),
                kv("pending", Reply::Array(pel)),
                kv("consumers", Reply::Array(consumers)),
            ])
        })
        .collect();
    m.push(kv("groups", Reply::Array(groups)));
    Ok(Reply::Map(m))
}

/// `XINFO GROUPS key` → one map per group: name, consumers, pending, last-delivered-id, entries-read,
/// lag.
pub(super) fn xinfo_groups(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let mut db = ctx.db();
    let Some(s) = stream_ref(db.get(key))? else {
        return Err(CmdError::NoSuchKey);
    };
    Ok(Reply::Array(
        s.groups
            .iter()
            .map(|(name, g)| {
                Reply::Map(vec![
                    kv("name", Reply::bulk_copy(name)),
                    kv("consumers", int(g.consumers.len() as u64)),
                    kv("pending", int(g.pel.len() as u64)),
                    kv("last-delivered-id", id_reply(g.last_id)),
                    kv("entries-read", opt_int(g.entries_read)),
                    kv("lag", s.lag(g).map_or(Reply::Nil, Reply::Int)),
                ])
            })
            .collect(),
    ))
}

/// `XINFO CONSUMERS key group` → one map per consumer: name, pending, idle (ms since last seen),
/// inactive (ms since its last successful read or claim, -1 if never), as Redis 7.2.
pub(super) fn xinfo_consumers(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let gname = args.next_bytes()?;
    let now = ctx.now;
    let mut db = ctx.db();
    let Some(s) = stream_ref(db.get(key))? else {
        return Err(CmdError::NoSuchKey);
    };
    let Some(g) = s.groups.get(gname) else {
        return Err(nogroup_for_key(key, gname));
    };
    Ok(Reply::Array(
        g.consumers
            .iter()
            .map(|(name, c)| {
                Reply::Map(vec![
                    kv("name", Reply::bulk_copy(name)),
                    kv("pending", int(c.pel.len() as u64)),
                    kv("idle", int(now.saturating_sub(c.seen_time))),
                    kv(
                        "inactive",
                        c.active_time
                            .map_or(Reply::Int(-1), |t| int(now.saturating_sub(t))),
                    ),
                ])
            })
            .collect(),
    ))
}

/// `XINFO HELP` → the help text.
pub(super) fn xinfo_help(_: &mut ExecCtx<'_>, _: &mut Args) -> Result<Reply, CmdError> {
    Ok(help(&[
        "XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CONSUMERS <key> <groupname>",
        "    Show consumers of <groupname>.",
        "GROUPS <key>",
        "    Show the stream consumer groups.",
        "STREAM <key> [FULL [COUNT <count>]",
        "    Show information about the stream.",
        "HELP",
        "    Prints this help.",
    ]))
}
