//! Connection commands: PING ECHO QUIT RESET HELLO AUTH SELECT and the CLIENT container.

use bytes::Bytes;

use super::table::{acl, flags::*, CommandSpec, Docs, Group};
use super::{Args, ExecCtx};
use crate::error::CmdError;
use crate::protocol::{Protocol, Reply};
use crate::server::REDIS_VERSION;

const CONN: u64 = acl::CONNECTION;

const fn docs(summary: &'static str, since: &'static str, complexity: &'static str) -> Docs {
    Docs {
        summary,
        since,
        complexity,
    }
}

#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec { name: "ping", group: Group::Connection, arity: -1, flags: FAST | SENTINEL | SUBSCRIBED_OK, acl: CONN, tips: &["request_policy:all_shards", "response_policy:all_succeeded"], docs: docs("Returns the server's liveliness response.", "1.0.0", "O(1)"), handler: ping, ..CommandSpec::DEFAULT },
    CommandSpec { name: "echo", group: Group::Connection, arity: 2, flags: LOADING | STALE | FAST, acl: CONN, docs: docs("Returns the given string.", "1.0.0", "O(1)"), handler: echo, ..CommandSpec::DEFAULT },
    CommandSpec { name: "quit", group: Group::Connection, arity: -1, flags: ALLOW_BUSY | NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | TX_CONTROL | SUBSCRIBED_OK, acl: CONN, docs: docs("Closes the connection.", "1.0.0", "O(1)"), handler: quit, ..CommandSpec::DEFAULT },
    CommandSpec { name: "reset", group: Group::Connection, arity: 1, flags: NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY | TX_CONTROL | SUBSCRIBED_OK, acl: CONN, docs: docs("Resets the connection.", "6.2.0", "O(1)"), handler: reset, ..CommandSpec::DEFAULT },
    CommandSpec { name: "hello", group: Group::Connection, arity: -1, flags: NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | SENTINEL | ALLOW_BUSY, acl: CONN, docs: docs("Handshakes with the Redis server.", "6.0.0", "O(1)"), handler: hello, ..CommandSpec::DEFAULT },
    CommandSpec { name: "auth", group: Group::Connection, arity: -2, flags: NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | SENTINEL | ALLOW_BUSY, acl: CONN, docs: docs("Authenticates the connection.", "1.0.0", "O(N) where N is the number of passwords defined for the user"), handler: auth, ..CommandSpec::DEFAULT },
    CommandSpec { name: "select", group: Group::Connection, arity: 2, flags: LOADING | STALE | FAST, acl: CONN, docs: docs("Changes the selected database.", "1.0.0", "O(1)"), handler: select, ..CommandSpec::DEFAULT },
    CommandSpec { name: "client", group: Group::Connection, arity: -2, flags: SENTINEL, acl: 0, docs: docs("A container for client connection commands.", "2.4.0", "Depends on subcommand."), subcommands: CLIENT_SUBCOMMANDS, ..CommandSpec::DEFAULT },
];

const CLIENT_FLAGS: u64 = NOSCRIPT | LOADING | STALE | SENTINEL;

#[rustfmt::skip]
static CLIENT_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec { name: "client|id", group: Group::Connection, arity: 2, flags: CLIENT_FLAGS, acl: CONN, docs: docs("Returns the unique client ID of the connection.", "5.0.0", "O(1)"), handler: client_id, ..CommandSpec::DEFAULT },
    CommandSpec { name: "client|setname", group: Group::Connection, arity: 3, flags: CLIENT_FLAGS, acl: CONN, docs: docs("Sets the connection name.", "2.6.9", "O(1)"), handler: client_setname, ..CommandSpec::DEFAULT },
    CommandSpec { name: "client|getname", group: Group::Connection, arity: 2, flags: CLIENT_FLAGS, acl: CONN, docs: docs("Returns the name of the connection.", "2.6.9", "O(1)"), handler: client_getname, ..CommandSpec::DEFAULT },
    CommandSpec { name: "client|setinfo", group: Group::Connection, arity: 4, flags: CLIENT_FLAGS, acl: CONN, tips: &["request_policy:all_nodes", "response_policy:all_succeeded"], docs: docs("Sets information specific to the client or connection.", "7.2.0", "O(1)"), handler: client_setinfo, ..CommandSpec::DEFAULT },
    CommandSpec { name: "client|list", group: Group::Connection, arity: -2, flags: ADMIN | CLIENT_FLAGS, acl: CONN, tips: &["nondeterministic_output"], docs: docs("Lists open connections.", "2.4.0", "O(N) where N is the number of client connections"), handler: client_list, ..CommandSpec::DEFAULT },
    CommandSpec { name: "client|info", group: Group::Connection, arity: 2, flags: CLIENT_FLAGS, acl: CONN, tips: &["nondeterministic_output"], docs: docs("Returns information about the connection.", "6.2.0", "O(1)"), handler: client_info, ..CommandSpec::DEFAULT },
    CommandSpec { name: "client|kill", group: Group::Connection, arity: -3, flags: ADMIN | CLIENT_FLAGS, acl: CONN, docs: docs("Terminates open connections.", "2.4.0", "O(N) where N is the number of client connections"), handler: client_kill, ..CommandSpec::DEFAULT },
    CommandSpec { name: "client|unblock", group: Group::Connection, arity: -3, flags: ADMIN | CLIENT_FLAGS, acl: CONN, docs: docs("Unblocks a client blocked by a blocking command from a different connection.", "5.0.0", "O(log N) where N is the number of client connections"), handler: client_unblock, ..CommandSpec::DEFAULT },
    CommandSpec { name: "client|help", group: Group::Connection, arity: 2, flags: LOADING | STALE, acl: CONN, docs: docs("Returns helpful text about the different subcommands.", "5.0.0", "O(1)"), handler: client_help, ..CommandSpec::DEFAULT },
    CommandSpec { name: "client|reply", group: Group::Connection, arity: 3, flags: CLIENT_FLAGS, acl: CONN, docs: docs("Instructs the server whether to reply to commands.", "3.2.0", "O(1)"), handler: client_reply, ..CommandSpec::DEFAULT },
    CommandSpec { name: "client|pause", group: Group::Connection, arity: -3, flags: ADMIN | CLIENT_FLAGS, acl: CONN, docs: docs("Suspends commands processing.", "3.0.0", "O(1)"), handler: client_pause, ..CommandSpec::DEFAULT },
    CommandSpec { name: "client|unpause", group: Group::Connection, arity: 2, flags: ADMIN | CLIENT_FLAGS, acl: CONN, docs: docs("Resumes processing commands from paused clients.", "6.2.0", "O(N) Where N is the number of paused clients"), handler: client_unpause, ..CommandSpec::DEFAULT },
    CommandSpec { name: "client|no-evict", group: Group::Connection, arity: 3, flags: ADMIN | CLIENT_FLAGS, acl: CONN, docs: docs("Sets the client eviction mode of the connection.", "7.0.0", "O(1)"), handler: client_no_evict, ..CommandSpec::DEFAULT },
    CommandSpec { name: "client|no-touch", group: Group::Connection, arity: 3, flags: CLIENT_FLAGS, acl: CONN, docs: docs("Controls whether commands sent by the client affect the LRU/LFU of accessed keys.", "7.2.0", "O(1)"), handler: client_no_touch, ..CommandSpec::DEFAULT },
];

/// `PING [message]` → `+PONG` or the message as a bulk string.
fn ping(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    // A RESP2 subscriber gets `["pong", message]`, as Redis answers in subscribed mode.
    if ctx.client.in_subscribed_mode() && args.remaining() <= 1 {
        let msg = args.next_shared().unwrap_or_default();
        return Ok(Reply::Array(vec![
            Reply::bulk_str("pong"),
            Reply::Bulk(msg),
        ]));
    }
    match args.remaining() {
        0 => Ok(Reply::Simple("PONG")),
        1 => Ok(Reply::Bulk(args.next_shared()?)),
        _ => Err(CmdError::WrongArity("ping")),
    }
}

/// `ECHO message` → the message.
fn echo(_: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    Ok(Reply::Bulk(args.next_shared()?))
}

/// `QUIT` → `+OK`, then the connection closes.
fn quit(ctx: &mut ExecCtx<'_>, _: &mut Args) -> Result<Reply, CmdError> {
    ctx.client.close_after_reply = true;
    Ok(Reply::Ok)
}

/// `RESET` → `+RESET`: database 0, RESP2, no name, and authentication required again.
fn reset(ctx: &mut ExecCtx<'_>, _: &mut Args) -> Result<Reply, CmdError> {
    ctx.client.multi = None;
    crate::commands::transaction::unwatch_all(ctx.server, ctx.client);
    crate::commands::pubsub::unsubscribe_all(ctx.server, ctx.client);
    let c = &mut *ctx.client;
    c.db = 0;
    c.resp = Protocol::Resp2;
    c.name = None;
    c.authenticated = ctx.server.requirepass().is_none();
    c.info_changed = true;
    Ok(Reply::Simple("RESET"))
}

fn check_password(ctx: &mut ExecCtx<'_>, user: Option<&[u8]>, pass: &[u8]) -> Result<(), CmdError> {
    let ok = match (ctx.server.requirepass(), user) {
        (_, Some(u)) if u != b"default" => false,
        (None, _) => true,
        (Some(p), _) => p.as_bytes() == pass,
    };
    if ok {
        ctx.client.authenticated = true;
        Ok(())
    } else {
        Err(CmdError::WrongPass)
    }
}

/// `AUTH [username] password` → `+OK`, or `-WRONGPASS ...`.
fn auth(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    match args.remaining() {
        1 => {
            if ctx.server.requirepass().is_none() {
                return Err(CmdError::AuthNotConfigured);
            }
            let pass = args.next_bytes()?;
            check_password(ctx, None, pass)?;
        }
        2 => {
            let user = args.next_bytes()?;
            let pass = args.next_bytes()?;
            check_password(ctx, Some(user), pass)?;
        }
        _ => return Err(CmdError::Syntax),
    }
    Ok(Reply::Ok)
}

/// Validates a client name as Redis does: printable ASCII without spaces.
fn valid_name(name: &[u8]) -> bool {
    name.iter().all(|&c| (b'!'..=b'~').contains(&c))
}

fn set_name(ctx: &mut ExecCtx<'_>, name: Bytes) -> Result<(), CmdError> {
    if !valid_name(&name) {
        return Err(CmdError::BadClientName);
    }
    ctx.client.name = if name.is_empty() { None } else { Some(name) };
    ctx.client.info_changed = true;
    Ok(())
}

/// `HELLO [protover [AUTH username password] [SETNAME clientname]]` → a map describing the server.
fn hello(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let mut ver = None;
    if !args.is_empty() {
        let v = args.next_i64().map_err(|_| CmdError::ProtoNotInteger)?;
        if !(2..=3).contains(&v) {
            return Err(CmdError::NoProto);
        }
        ver = Some(v);
    }
    let mut creds = None;
    let mut name = None;
    while let Some(opt) = args.next() {
        let more = args.remaining();
        if opt.eq_ignore_ascii_case(b"AUTH") && more >= 2 {
            creds = Some((args.next_bytes()?, args.next_bytes()?));
        } else if opt.eq_ignore_ascii_case(b"SETNAME") && more >= 1 {
            name = Some(args.next_bytes()?);
        } else {
            return Err(CmdError::Generic(format!(
                "Syntax error in HELLO option '{}'",
                String::from_utf8_lossy(opt)
            )));
        }
    }
    if let Some((user, pass)) = creds {
        check_password(ctx, Some(user), pass)?;
    }
    if !ctx.client.authenticated {
        return Err(CmdError::HelloNoAuth);
    }
    if let Some(n) = name {
        set_name(ctx, Bytes::copy_from_slice(n))?;
    }
    if let Some(v) = ver {
        ctx.client.resp = if v == 3 {
            Protocol::Resp3
        } else {
            Protocol::Resp2
        };
        ctx.client.info_changed = true;
    }
    let proto = if ctx.client.resp == Protocol::Resp3 {
        3
    } else {
        2
    };
    Ok(Reply::Map(vec![
        (Reply::bulk_str("server"), Reply::bulk_str("redis")),
        (Reply::bulk_str("version"), Reply::bulk_str(REDIS_VERSION)),
        (Reply::bulk_str("proto"), Reply::Int(proto)),
        (Reply::bulk_str("id"), Reply::Int(ctx.client.id as i64)),
        (Reply::bulk_str("mode"), Reply::bulk_str("standalone")),
        (Reply::bulk_str("role"), Reply::bulk_str("master")),
        (Reply::bulk_str("modules"), Reply::Array(vec![])),
    ]))
}

/// `SELECT index` → `+OK`.
fn select(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let idx = args.next_i64()?;
    if idx < 0 || idx as usize >= ctx.server.keyspace.databases() {
        return Err(CmdError::DbIndexOutOfRange);
    }
    ctx.client.db = idx as usize;
    ctx.client.info_changed = true;
    Ok(Reply::Ok)
}

fn client_id(ctx: &mut ExecCtx<'_>, _: &mut Args) -> Result<Reply, CmdError> {
    Ok(Reply::Int(ctx.client.id as i64))
}

fn client_setname(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let name = Bytes::copy_from_slice(args.next_bytes()?);
    set_name(ctx, name)?;
    Ok(Reply::Ok)
}

fn client_getname(ctx: &mut ExecCtx<'_>, _: &mut Args) -> Result<Reply, CmdError> {
    Ok(Reply::opt_bulk(ctx.client.name.clone()))
}

/// `CLIENT SETINFO LIB-NAME|LIB-VER value` (Redis 7.2).
fn client_setinfo(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let attr = args.next_bytes()?;
    let val = args.next_bytes()?;
    let lib_name = attr.eq_ignore_ascii_case(b"lib-name");
    if !lib_name && !attr.eq_ignore_ascii_case(b"lib-ver") {
        return Err(CmdError::Generic(format!(
            "Unrecognized option '{}'",
            String::from_utf8_lossy(attr)
        )));
    }
    if !valid_name(val) {
        let which = if lib_name { "lib-name" } else { "lib-ver" };
        return Err(CmdError::Generic(format!(
            "{which} cannot contain spaces, newlines or special characters."
        )));
    }
    let val = (!val.is_empty()).then(|| Bytes::copy_from_slice(val));
    if lib_name {
        ctx.client.lib_name = val;
    } else {
        ctx.client.lib_ver = val;
    }
    ctx.client.info_changed = true;
    Ok(Reply::Ok)
}

/// One CLIENT LIST line, in Redis's field order.
pub fn client_line(info: &crate::server::ClientInfo, now_ms: u64) -> String {
    use std::sync::atomic::Ordering::Relaxed;
    let s = |b: &Option<Bytes>| {
        b.as_ref()
            .map(|v| String::from_utf8_lossy(v).into_owned())
            .unwrap_or_default()
    };
    let age = now_ms.saturating_sub(info.created_ms) / 1000;
    let last = info
        .live
        .last_interaction_ms
        .load(Relaxed)
        .max(info.created_ms);
    let idle = now_ms.saturating_sub(last) / 1000;
    // Redis's letter order: O/S, M, P, x, b, ...; `b` (blocked) changes while the client waits.
    let mut flags = info.flags.clone();
    if info.live.blocked.load(Relaxed) {
        let at = flags
            .find(|c: char| !matches!(c, 'O' | 'S' | 'M' | 'P' | 'x'))
            .unwrap_or(flags.len());
        flags.insert(at, 'b');
    }
    if flags.is_empty() {
        flags.push('N');
    }
    let b = &info.live.buffers;
    let (qbuf, qbuf_free) = if info.argv_mem > 0 {
        // The asking client: its request is still in the query buffer, as in Redis.
        let q = b.qbuf.load(Relaxed).saturating_add(info.request_len);
        (
            q,
            b.qbuf_free.load(Relaxed).saturating_sub(info.request_len),
        )
    } else {
        (b.qbuf.load(Relaxed), b.qbuf_free.load(Relaxed))
    };
    let rbs = b.rbs.load(Relaxed);
    let obl = b.obl.load(Relaxed);
    // Messages queued for a subscriber stand for Redis's reply list (16 KB blocks).
    let omem = info.subscriber.as_ref().map_or(0, |s| s.pending() as u64);
    let oll = omem.div_ceil(16 * 1024);
    let tot_mem = (qbuf + qbuf_free)
        .saturating_add(rbs)
        .saturating_add(info.argv_mem)
        .saturating_add(info.multi_mem)
        .saturating_add(omem)
        .saturating_add(std::mem::size_of::<crate::server::ClientState>() as u64);
    format!(
        "id={} addr={} laddr={} fd={} name={} age={age} idle={idle} flags={flags} db={} sub={} psub={} ssub={} multi={} qbuf={qbuf} qbuf-free={qbuf_free} argv-mem={} multi-mem={} rbs={rbs} rbp={obl} obl={obl} oll={oll} omem={omem} tot-mem={tot_mem} events=r cmd={} user=default redir=-1 resp={} lib-name={} lib-ver={}",
        info.id,
        info.addr,
        info.laddr,
        info.live.fd.load(Relaxed),
        s(&info.name),
        info.db,
        info.sub,
        info.psub,
        info.ssub,
        info.multi,
        info.argv_mem,
        info.multi_mem,
        info.live.last_command(),
        info.resp,
        s(&info.lib_name),
        s(&info.lib_ver)
    )
}

/// The calling client's own CLIENT LIST entry: its running request counts as `argv-mem` and sits in
/// the query buffer (`qbuf`), as Redis shows it.
fn own_info(ctx: &mut ExecCtx<'_>, args: &Args) -> crate::server::ClientInfo {
    ctx.client
        .live
        .touch(ctx.now, Some(ctx.client.last_command_name));
    let mut me = ctx.client.info();
    let argv = args.argv();
    me.argv_mem = argv.iter().map(|a| a.len() as u64).sum();
    let request: u64 = argv
        .iter()
        .map(|a| (a.len() + 5 + digits(a.len())) as u64)
        .sum::<u64>()
        + 3
        + digits(argv.len()) as u64;
    me.request_len = request;
    me
}

fn digits(n: usize) -> usize {
    n.to_string().len()
}

/// `CLIENT LIST [TYPE ...] [ID ...]` → one line per connection (a verbatim string).
fn client_list(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let filter = list_filter(args)?;
    let me = own_info(ctx, args);
    let mut infos: Vec<_> = ctx
        .server
        .clients
        .iter()
        .map(|e| e.value().clone())
        .filter(|c| match &filter {
            ListFilter::All => true,
            ListFilter::Ids(ids) => ids.contains(&(c.id as i64)),
            ListFilter::Type(t) => match t.as_str() {
                "pubsub" => c.flags.contains('P'),
                "normal" => !c.flags.contains('P'),
                _ => false,
            },
        })
        .collect();
    infos.sort_by_key(|i| i.id);
    let mut out = String::new();
    for info in infos {
        let info = if info.id == me.id { me.clone() } else { info };
        out.push_str(&client_line(&info, ctx.now));
        out.push('\n');
    }
    Ok(Reply::Verbatim("txt", Bytes::from(out)))
}

/// CLIENT LIST's optional `TYPE normal|pubsub|master|replica` or `ID id [id ...]`.
enum ListFilter {
    All,
    Type(String),
    Ids(Vec<i64>),
}

fn list_filter(args: &mut Args) -> Result<ListFilter, CmdError> {
    let rest = args.rest();
    match rest.as_slice() {
        [] => Ok(ListFilter::All),
        [kw, t] if kw.eq_ignore_ascii_case(b"type") => {
            let t = String::from_utf8_lossy(t).to_ascii_lowercase();
            if !matches!(
                t.as_str(),
                "normal" | "pubsub" | "master" | "replica" | "slave"
            ) {
                return Err(CmdError::Generic(format!(
                    "Unknown client type '{}'",
                    String::from_utf8_lossy(rest[1])
                )));
            }
            Ok(ListFilter::Type(t))
        }
        [kw, ids @ ..] if kw.eq_ignore_ascii_case(b"id") && !ids.is_empty() => ids
            .iter()
            .map(|i| {
                crate::protocol::parse_i64(i)
                    .ok_or_else(|| CmdError::Generic("Invalid client ID".into()))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(ListFilter::Ids),
        _ => Err(CmdError::Syntax),
    }
}

/// `CLIENT INFO` → the calling connection's CLIENT LIST line.
fn client_info(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let me = own_info(ctx, args);
    let mut line = client_line(&me, ctx.now);
    line.push('\n');
    Ok(Reply::Verbatim("txt", Bytes::from(line)))
}

/// `CLIENT HELP` → Redis 7.2's help lines.
fn client_help(_: &mut ExecCtx<'_>, _: &mut Args) -> Result<Reply, CmdError> {
    let lines = [
        "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CACHING (YES|NO)",
        "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
        "GETREDIR",
        "    Return the client ID we are redirecting to when tracking is enabled.",
        "GETNAME",
        "    Return the name of the current connection.",
        "ID",
        "    Return the ID of the current connection.",
        "INFO",
        "    Return information about the current client connection.",
        "KILL <ip:port>",
        "    Kill connection made from <ip:port>.",
        "KILL <option> <value> [<option> <value> [...]]",
        "    Kill connections. Options are:",
        "    * ADDR (<ip:port>|<unixsocket>:0)",
        "      Kill connections made from the specified address",
        "    * LADDR (<ip:port>|<unixsocket>:0)",
        "      Kill connections made to specified local address",
        "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
        "      Kill connections by type.",
        "    * USER <username>",
        "      Kill connections authenticated by <username>.",
        "    * SKIPME (YES|NO)",
        "      Skip killing current connection (default: yes).",
        "LIST [options ...]",
        "    Return information about client connections. Options:",
        "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
        "      Return clients of specified type.",
        "UNPAUSE",
        "    Stop the current client pause, resuming traffic.",
        "PAUSE <timeout> [WRITE|ALL]",
        "    Suspend all, or just write, clients for <timeout> milliseconds.",
        "REPLY (ON|OFF|SKIP)",
        "    Control the replies sent to the current connection.",
        "SETNAME <name>",
        "    Assign the name <name> to the current connection.",
        "SETINFO <option> <value>",
        "    Set client meta attr. Options are:",
        "    * LIB-NAME: the client lib name.",
        "    * LIB-VER: the client lib version.",
        "UNBLOCK <clientid> [TIMEOUT|ERROR]",
        "    Unblock the specified blocked client.",
        "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
        "         [OPTIN] [OPTOUT] [NOLOOP]",
        "    Control server assisted client side caching.",
        "TRACKINGINFO",
        "    Report tracking status for the current connection.",
        "NO-EVICT (ON|OFF)",
        "    Protect current client connection from eviction.",
        "NO-TOUCH (ON|OFF)",
        "    Will not touch LRU/LFU stats when this mode is on.",
        "HELP",
        "    Prints this help.",
    ];
    Ok(Reply::help(&lines))
}

/// `CLIENT REPLY ON|OFF|SKIP` → `+OK` for ON; OFF and SKIP send nothing (not even their own reply).
/// OFF drops every reply until ON; SKIP drops the next command's reply.
fn client_reply(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    use crate::server::client::ReplyMode;
    let mode = args.next_bytes()?;
    let c = &mut *ctx.client;
    if mode.eq_ignore_ascii_case(b"on") {
        c.reply_mode = ReplyMode::On;
        Ok(Reply::Ok)
    } else if mode.eq_ignore_ascii_case(b"off") {
        c.reply_mode = ReplyMode::Off;
        Ok(Reply::NoReply)
    } else if mode.eq_ignore_ascii_case(b"skip") {
        if c.reply_mode != ReplyMode::Off {
            c.reply_mode = ReplyMode::SkipNext;
        }
        Ok(Reply::NoReply)
    } else {
        Err(CmdError::Syntax)
    }
}

/// Parses `ON|OFF` (anything else is a syntax error).
fn on_off(args: &mut Args) -> Result<bool, CmdError> {
    let v = args.next_bytes()?;
    if v.eq_ignore_ascii_case(b"on") {
        Ok(true)
    } else if v.eq_ignore_ascii_case(b"off") {
        Ok(false)
    } else {
        Err(CmdError::Syntax)
    }
}

/// `CLIENT PAUSE timeout [WRITE|ALL]` → `+OK`; other clients' commands (all, or only those that may
/// write) wait until `timeout` milliseconds pass or CLIENT UNPAUSE.
fn client_pause(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    use crate::server::pause::PauseMode;
    let timeout = crate::protocol::parse_i64(args.next_bytes()?).ok_or(CmdError::PauseTimeout)?;
    if timeout < 0 {
        return Err(CmdError::PauseTimeoutNegative);
    }
    let mode = match args.next() {
        None => PauseMode::All,
        Some(m) if m.eq_ignore_ascii_case(b"write") => PauseMode::Write,
        Some(m) if m.eq_ignore_ascii_case(b"all") => PauseMode::All,
        Some(_) => return Err(CmdError::PauseMode),
    };
    if !args.is_empty() {
        return Err(CmdError::Syntax);
    }
    let end = ctx.now.saturating_add(timeout as u64);
    ctx.server.pause.pause(end, mode, ctx.now);
    Ok(Reply::Ok)
}

/// `CLIENT UNPAUSE` → `+OK`; paused clients resume at once.
fn client_unpause(ctx: &mut ExecCtx<'_>, _: &mut Args) -> Result<Reply, CmdError> {
    ctx.server.pause.unpause();
    Ok(Reply::Ok)
}

/// `CLIENT NO-EVICT ON|OFF` → `+OK` (flag `e` in CLIENT LIST).
fn client_no_evict(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    ctx.client.no_evict = on_off(args)?;
    ctx.client.info_changed = true;
    Ok(Reply::Ok)
}

/// `CLIENT NO-TOUCH ON|OFF` → `+OK`; while on, this client's commands leave keys' LRU/idle time
/// alone (TOUCH still updates it). Flag `T` in CLIENT LIST.
fn client_no_touch(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    ctx.client.no_touch = on_off(args)?;
    ctx.client.info_changed = true;
    Ok(Reply::Ok)
}

/// `CLIENT KILL ip:port` (old form: `+OK` or `ERR No such client`) or
/// `CLIENT KILL [ID id] [ADDR ip:port] [LADDR ip:port] [USER user] [TYPE normal|pubsub|master|replica]
/// [SKIPME yes|no]` (new form: how many clients were closed). The killed connections close as soon
/// as their tasks notice, between requests or while blocked.
fn client_kill(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    if args.remaining() == 1 {
        let addr = String::from_utf8_lossy(args.next_bytes()?).into_owned();
        let target = ctx
            .server
            .clients
            .iter()
            .find(|c| c.addr.to_string() == addr)
            .map(|c| c.live.clone());
        return match target {
            Some(live) => {
                live.kill();
                Ok(Reply::Ok)
            }
            None => Err(CmdError::Generic("No such client".into())),
        };
    }
    let (mut id, mut addr, mut laddr, mut user, mut kind) = (None, None, None, None, None);
    let mut skipme = true;
    while let Some(opt) = args.next() {
        let Some(val) = args.next() else {
            return Err(CmdError::Syntax);
        };
        let text = String::from_utf8_lossy(val).into_owned();
        match opt.to_ascii_lowercase().as_slice() {
            b"id" => match crate::protocol::parse_i64(val) {
                Some(n) if n > 0 => id = Some(n as u64),
                _ => {
                    return Err(CmdError::Generic(
                        "client-id should be greater than 0".into(),
                    ))
                }
            },
            b"addr" => addr = Some(text),
            b"laddr" => laddr = Some(text),
            b"user" => user = Some(text),
            b"type" => {
                let t = text.to_ascii_lowercase();
                if !matches!(
                    t.as_str(),
                    "normal" | "pubsub" | "master" | "replica" | "slave"
                ) {
                    return Err(CmdError::Generic(format!("Unknown client type '{text}'")));
                }
                kind = Some(t);
            }
            b"skipme" => {
                skipme = match text.to_ascii_lowercase().as_str() {
                    "yes" => true,
                    "no" => false,
                    _ => return Err(CmdError::Syntax),
                }
            }
            _ => return Err(CmdError::Syntax),
        }
    }
    let me = ctx.client.id;
    let mut killed = 0;
    for c in ctx.server.clients.iter() {
        let pubsub = c.flags.contains('P');
        let matches = id.is_none_or(|i| c.id == i)
            && addr.as_ref().is_none_or(|a| c.addr.to_string() == *a)
            && laddr.as_ref().is_none_or(|a| c.laddr.to_string() == *a)
            && user.as_ref().is_none_or(|u| u == "default")
            && kind.as_ref().is_none_or(|k| match k.as_str() {
                "pubsub" => pubsub,
                "normal" => !pubsub,
                _ => false,
            })
            && !(skipme && c.id == me);
        if matches {
            c.live.kill();
            killed += 1;
        }
    }
    Ok(Reply::Int(killed))
}

/// `CLIENT UNBLOCK client-id [TIMEOUT|ERROR]` → 1 if the client was blocked (it then gets its timeout
/// reply, or `-UNBLOCKED ...` with ERROR), else 0.
fn client_unblock(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let id = args.next_i64()?;
    let with_error = match args.next() {
        None => false,
        Some(r) if r.eq_ignore_ascii_case(b"TIMEOUT") => false,
        Some(r) if r.eq_ignore_ascii_case(b"ERROR") => true,
        Some(_) => {
            return Err(CmdError::Generic(
                "CLIENT UNBLOCK reason should be TIMEOUT or ERROR".into(),
            ))
        }
    };
    args.finish()?;
    let live = u64::try_from(id)
        .ok()
        .and_then(|id| ctx.server.clients.get(&id).map(|c| c.live.clone()));
    Ok(Reply::Int(
        live.is_some_and(|l| l.unblock(with_error)) as i64
    ))
}
