//! Transactions: MULTI EXEC DISCARD WATCH UNWATCH.
//!
//! Between MULTI and EXEC, dispatch queues requests instead of running them (after the same lookup and
//! arity checks, whose failures make EXEC answer EXECABORT). EXEC is an ordinary handler: it takes every
//! shard lock, so no other client can observe a partial transaction, and runs each queued request
//! through the same handlers a client's commands use. WATCH registers flags in the keyspace's
//! [`crate::storage::watch::Watches`], which the keyspace's write path raises; EXEC replies nil if one
//! was raised.

use std::sync::atomic::Ordering;

use bytes::Bytes;

use super::table::{acl, flags::*, ks, CommandSpec, Docs, Group, KeySpec};
use super::{Args, ExecCtx};
use crate::error::CmdError;
use crate::protocol::Reply;
use crate::storage::watch::WatchFlag;
use crate::storage::Locks;

const TX: u64 = acl::TRANSACTION;

const fn docs(summary: &'static str, since: &'static str, complexity: &'static str) -> Docs {
    Docs {
        summary,
        since,
        complexity,
    }
}

const CONTROL: u64 = NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY | TX_CONTROL;

#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec { name: "multi", group: Group::Transactions, arity: 1, flags: CONTROL, acl: TX, docs: docs("Starts a transaction.", "1.2.0", "O(1)"), handler: multi, ..CommandSpec::DEFAULT },
    CommandSpec { name: "exec", group: Group::Transactions, arity: 1, flags: NOSCRIPT | LOADING | STALE | SKIP_SLOWLOG | TX_CONTROL, acl: TX, docs: docs("Executes all commands in a transaction.", "1.2.0", "Depends on commands in the transaction"), handler: exec, ..CommandSpec::DEFAULT },
    CommandSpec { name: "discard", group: Group::Transactions, arity: 1, flags: CONTROL, acl: TX, docs: docs("Discards a transaction.", "2.0.0", "O(N), when N is the number of queued commands"), handler: discard, ..CommandSpec::DEFAULT },
    CommandSpec { name: "watch", group: Group::Transactions, arity: -2, flags: CONTROL, acl: TX, keys: &[KeySpec::range(1, -1, 1, ks::RO)], docs: docs("Monitors changes to keys to determine the execution of a transaction.", "2.2.0", "O(1) for every key."), handler: watch, ..CommandSpec::DEFAULT },
    CommandSpec { name: "unwatch", group: Group::Transactions, arity: 1, flags: CONTROL, acl: TX, docs: docs("Forgets about watched keys of a transaction.", "2.2.0", "O(1)"), handler: unwatch, ..CommandSpec::DEFAULT },
];

/// A request queued between MULTI and EXEC.
pub struct Queued {
    pub spec: &'static CommandSpec,
    pub start: usize,
    pub argv: crate::protocol::Argv,
}

/// A client's open transaction.
#[derive(Default)]
pub struct MultiState {
    pub queue: Vec<Queued>,
    /// A request failed its checks while queueing: EXEC must answer EXECABORT.
    pub aborted: bool,
}

/// A client's watched keys.
#[derive(Default)]
pub struct WatchState {
    pub flag: WatchFlag,
    pub keys: Vec<(usize, Bytes)>,
}

/// Forgets every key `client` watches (UNWATCH, EXEC, DISCARD, RESET, disconnect).
pub fn unwatch_all(server: &crate::server::Server, client: &mut crate::server::ClientState) {
    if let Some(w) = client.watch.take() {
        for (db, key) in &w.keys {
            server.keyspace.watches.unwatch(*db, key, &w.flag);
        }
    }
}

/// `MULTI` → `+OK`; later requests are queued until EXEC or DISCARD.
fn multi(ctx: &mut ExecCtx<'_>, _: &mut Args) -> Result<Reply, CmdError> {
    if ctx.client.multi.is_some() {
        return Err(CmdError::MultiNested);
    }
    ctx.client.multi = Some(MultiState::default());
    ctx.client.info_changed = true;
    Ok(Reply::Ok)
}

/// `DISCARD` → `+OK`; the queue is dropped and watched keys forgotten.
fn discard(ctx: &mut ExecCtx<'_>, _: &mut Args) -> Result<Reply, CmdError> {
    if ctx.client.multi.take().is_none() {
        return Err(CmdError::DiscardWithoutMulti);
    }
    unwatch_all(ctx.server, ctx.client);
    ctx.client.info_changed = true;
    Ok(Reply::Ok)
}

/// `WATCH key [key ...]` → `+OK`.
fn watch(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    if ctx.client.multi.is_some() {
        return Err(CmdError::WatchInsideMulti);
    }
    let db = ctx.client.db;
    let state = ctx.client.watch.get_or_insert_with(WatchState::default);
    for key in args.by_ref() {
        if state.keys.iter().any(|(d, k)| *d == db && *k == key) {
            continue;
        }
        ctx.server.keyspace.watches.watch(db, key, &state.flag);
        state.keys.push((db, Bytes::copy_from_slice(key)));
    }
    Ok(Reply::Ok)
}

/// `UNWATCH` → `+OK`.
fn unwatch(ctx: &mut ExecCtx<'_>, _: &mut Args) -> Result<Reply, CmdError> {
    unwatch_all(ctx.server, ctx.client);
    Ok(Reply::Ok)
}

/// True if a watched key changed, or has passed its TTL without being reclaimed yet (Redis 7 treats
/// that as a change too).
fn watch_failed(ctx: &mut ExecCtx<'_>) -> bool {
    let Some(w) = ctx.client.watch.as_ref() else {
        return false;
    };
    if w.flag.load(Ordering::Relaxed) {
        return true;
    }
    let keys = w.keys.clone();
    let now = ctx.now;
    keys.iter().any(|(db, key)| {
        let hash = crate::storage::hash_key(key);
        let shard = ctx.locks.shard_mut(crate::storage::shard_of(hash));
        shard.dbs[*db]
            .get(hash, key)
            .is_some_and(|n| n.entry.is_expired(now))
    })
}

/// The shard locks EXEC holds for the whole transaction, so nobody sees it half done: the shards of
/// every key its requests and its watched keys name, taken at once in ascending order (a typical
/// EXEC, a redis-py pipeline or a job push, then costs a few lock operations instead of one per
/// shard). A request that may touch keys it does not name takes every shard: keyless ones (DBSIZE,
/// FLUSHDB, KEYS, SELECT ... walk the shards themselves and would otherwise wait on a lock this
/// transaction holds) and `ALL_SHARDS` ones (SORT with BY/GET, scripts, functions).
fn exec_locks<'a>(
    ks: &'a crate::storage::Keyspace,
    queue: &[Queued],
    watch: Option<&WatchState>,
) -> Locks<'a> {
    let mut keys: Vec<&[u8]> = Vec::new();
    for q in queue {
        let positions = match q.spec.key_positions(&q.argv) {
            Ok(p) if !p.is_empty() => p,
            _ => return Locks::all(ks),
        };
        if q.spec.has(ALL_SHARDS) {
            return Locks::all(ks);
        }
        keys.extend(positions.iter().filter_map(|&i| q.argv.get(i)));
    }
    if let Some(w) = watch {
        keys.extend(w.keys.iter().map(|(_, k)| &k[..]));
    }
    Locks::for_keys(ks, keys.into_iter())
}

/// `EXEC` → an array with each queued request's reply (errors in place), nil if a watched key changed,
/// or `EXECABORT` if a request failed its checks while queueing.
fn exec(ctx: &mut ExecCtx<'_>, _: &mut Args) -> Result<Reply, CmdError> {
    let Some(state) = ctx.client.multi.take() else {
        return Err(CmdError::ExecWithoutMulti);
    };
    ctx.client.info_changed = true;
    if state.aborted {
        unwatch_all(ctx.server, ctx.client);
        return Err(CmdError::ExecAbort);
    }
    ctx.locks = exec_locks(
        &ctx.server.keyspace,
        &state.queue,
        ctx.client.watch.as_ref(),
    );
    if watch_failed(ctx) {
        unwatch_all(ctx.server, ctx.client);
        return Ok(Reply::NilArray);
    }
    let server = ctx.server;
    ctx.client.in_exec = true;
    let mut replies = Vec::with_capacity(state.queue.len());
    for q in state.queue {
        replies.push(match super::run_nested(ctx, q.spec, q.start, &q.argv) {
            Ok(reply) => reply,
            Err(e) => {
                let text = e.to_string();
                server.command_stats.record_error(&text);
                Reply::Error(text)
            }
        });
    }
    ctx.client.in_exec = false;
    unwatch_all(ctx.server, ctx.client);
    Ok(Reply::Array(replies))
}
