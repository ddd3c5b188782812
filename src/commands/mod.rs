//! Commands: the one command table and the dispatch pipeline.
//!
//! Each family file (`string.rs`, `generic.rs`, ...) exports `COMMANDS: &[CommandSpec]`, its slice of the
//! table, with one handler per command. [`FAMILIES`] lists the slices; nothing else names commands.
//! Adding a command touches its family file and its test file, nothing more.
//!
//! Dispatch is one short pipeline, driven by the table:
//! lookup → subcommand → arity → authentication → key extraction and shard locking → handler →
//! bookkeeping (statistics, blocked-client wake-ups, keyspace events published after the locks are
//! dropped: see [`crate::storage::notify`]). Handlers are synchronous and never see the socket or the protocol version, so the same
//! handler serves a client, a transaction, a script and (later) AOF replay.

pub mod args;
pub mod bitmap;
pub mod command;
pub mod connection;
pub mod debug;
pub mod function;
pub mod generic;
pub mod hash;
pub mod latency;
pub mod list;
pub mod memory;
pub mod pubsub;
pub mod scan;
pub mod scripting;
pub mod server;
pub mod set;
pub mod sort;
pub mod stream;
pub mod string;
pub mod table;
pub mod transaction;
pub mod zset;

use std::collections::HashMap;
use std::sync::OnceLock;

use bytes::Bytes;

pub use args::Args;
pub use table::{acl, flags, ks, CommandSpec, Docs, Group, KeySpec};

use crate::error::CmdError;
use crate::protocol::{Argv, Reply};
use crate::server::{ClientState, Server};
use crate::storage::notify::{self, Event, Events};
use crate::storage::{Db, Locks, Shard};

/// The command table, one slice per family.
pub static FAMILIES: &[&[CommandSpec]] = &[
    memory::COMMANDS,
    connection::COMMANDS,
    string::COMMANDS,
    generic::COMMANDS,
    server::COMMANDS,
    command::COMMANDS,
    bitmap::COMMANDS,
    list::COMMANDS,
    transaction::COMMANDS,
    pubsub::COMMANDS,
    sort::COMMANDS,
    hash::COMMANDS,
    set::COMMANDS,
    zset::COMMANDS,
    stream::COMMANDS,
    scripting::COMMANDS,
    latency::COMMANDS,
    debug::COMMANDS,
    function::COMMANDS,
];

/// Everything a handler may use: the server, the calling client, and the keys locked for it.
pub struct ExecCtx<'a> {
    pub server: &'a Server,
    pub client: &'a mut ClientState,
    pub locks: Locks<'a>,
    /// The command's clock in Unix milliseconds (fixed for the whole command).
    pub now: u64,
    /// Keys changed by this command (feeds `INFO`'s `rdb_changes_since_last_save`).
    pub dirty: u64,
    /// Set by a blocking command that found nothing to serve: the client waits on these keys.
    pub block: Option<BlockOn>,
    /// Keys this command made ready for blocked clients, as `(db, key)`.
    pub ready: Vec<(usize, Bytes)>,
    /// Keyspace events raised so far, published once the command's locks are dropped.
    pub events: Events,
    /// The reply holds an error whose error statistics were counted already (a script returning
    /// what `redis.call` failed with): the command still counts as failed, as Redis counts it.
    pub failed: bool,
}

/// A shard reached through [`ExecCtx::lock_shard`].
pub enum ShardGuard<'g> {
    Held(&'g mut Shard),
    Own(parking_lot::MutexGuard<'g, Shard>),
}

/// Every shard through [`ExecCtx::lock_shard`]: the ones a script or EXEC holds are used as held.
impl crate::storage::EachShard for ExecCtx<'_> {
    fn each_shard(&mut self, f: &mut dyn FnMut(&mut Shard)) {
        for i in 0..crate::storage::SHARDS {
            f(&mut self.lock_shard(i));
        }
    }
}

impl std::ops::Deref for ShardGuard<'_> {
    type Target = Shard;
    fn deref(&self) -> &Shard {
        match self {
            ShardGuard::Held(s) => s,
            ShardGuard::Own(g) => g,
        }
    }
}

impl std::ops::DerefMut for ShardGuard<'_> {
    fn deref_mut(&mut self) -> &mut Shard {
        match self {
            ShardGuard::Held(s) => s,
            ShardGuard::Own(g) => g,
        }
    }
}

/// What a blocked client waits for.
#[derive(Debug, Clone)]
pub struct BlockOn {
    pub keys: Vec<Bytes>,
    /// How long to wait, in milliseconds; `None` waits forever.
    pub timeout_ms: Option<u64>,
    /// The reply sent when the timeout passes (a null array for BLPOP, a null bulk for BLMOVE, ...).
    pub timeout_reply: Reply,
    /// The request to run again on wake-up, when it differs from the one received (XREAD resolves
    /// `$` to the stream's last ID at the time it first blocked).
    pub argv_override: Option<Argv>,
    /// The client consumes nothing when served (XREAD): it is woken together with every other such
    /// client of the key (see [`crate::server::blocking`]).
    pub shared: bool,
}

/// The result of executing a request.
pub enum Outcome {
    Reply(Reply),
    /// The client blocks; `argv` is the request to run again when a key becomes ready.
    Block {
        argv: Argv,
        db: usize,
        on: BlockOn,
    },
}

impl<'a> ExecCtx<'a> {
    /// The client's selected database, through the command's locks.
    pub fn db(&mut self) -> Db<'_, 'a> {
        Db::with_events(
            &mut self.locks,
            self.client.db,
            self.now,
            &mut self.dirty,
            &mut self.events,
        )
        .no_touch(self.client.no_touch)
    }

    /// Raises the keyspace event `name` of `class` on `key` of the selected database, if enabled:
    /// for handlers whose events depend on the outcome (see [`crate::storage::notify`]).
    pub fn notify(&mut self, class: u32, name: &'static str, key: &[u8]) {
        self.notify_at(self.client.db, class, name, key);
    }

    /// [`ExecCtx::notify`] for database `db` (MOVE's `move_to`, COPY ... DB).
    pub fn notify_at(&mut self, db: usize, class: u32, name: &'static str, key: &[u8]) {
        if self.server.keyspace.notify.wants(class) {
            self.events.push(Event {
                class,
                name,
                db,
                key: Bytes::copy_from_slice(key),
            });
        }
    }

    /// Whether this client may block (not inside MULTI or a script, where blocking commands answer
    /// as if their timeout had passed).
    pub fn may_block(&self) -> bool {
        !self.client.in_exec
    }

    /// Marks `key` (in the selected database) as ready for clients blocked on it.
    pub fn signal_ready(&mut self, key: &[u8]) {
        if self.server.blocking.waiting() > 0 {
            self.ready
                .push((self.client.db, Bytes::copy_from_slice(key)));
        }
    }

    /// Shard `i`: through the command's locks when it holds every shard (inside EXEC), otherwise
    /// locked for as long as the guard lives. Keyspace-wide commands (KEYS, SCAN, ...) walk shards
    /// this way so they work both alone and inside a transaction.
    pub fn lock_shard(&mut self, i: usize) -> ShardGuard<'_> {
        if self.locks.holds_all() {
            ShardGuard::Held(self.locks.shard_mut(i))
        } else {
            ShardGuard::Own(self.server.keyspace.lock(i))
        }
    }

    /// Runs `f` with every shard locked at once (FLUSHALL, SWAPDB), reusing the locks if held.
    pub fn with_all_shards<R>(&mut self, f: impl FnOnce(&mut Locks<'_>) -> R) -> R {
        if self.locks.holds_all() {
            f(&mut self.locks)
        } else {
            let mut all = Locks::all(&self.server.keyspace);
            f(&mut all)
        }
    }

    /// Database `index` through the command's locks.
    pub fn db_at(&mut self, index: usize) -> Db<'_, 'a> {
        Db::with_events(
            &mut self.locks,
            index,
            self.now,
            &mut self.dirty,
            &mut self.events,
        )
        .no_touch(self.client.no_touch)
    }
}

/// All top-level commands.
pub fn all_commands() -> impl Iterator<Item = &'static CommandSpec> {
    FAMILIES.iter().flat_map(|f| f.iter())
}

fn registry() -> &'static HashMap<&'static [u8], &'static CommandSpec, ahash::RandomState> {
    static MAP: OnceLock<HashMap<&'static [u8], &'static CommandSpec, ahash::RandomState>> =
        OnceLock::new();
    MAP.get_or_init(|| all_commands().map(|c| (c.name.as_bytes(), c)).collect())
}

/// Finds a command by name, ignoring ASCII case.
pub fn lookup(name: &[u8]) -> Option<&'static CommandSpec> {
    let mut buf = [0u8; 32];
    if name.len() > buf.len() {
        return None;
    }
    let lower = &mut buf[..name.len()];
    lower.copy_from_slice(name);
    lower.make_ascii_lowercase();
    registry().get(&*lower).copied()
}

/// Finds a subcommand of a container command, ignoring ASCII case.
/// Starts loading from memory what a batch of pipelined requests is about to look up: the keys
/// their key specs name, in database `db` (see [`crate::storage::Keyspace::prefetch`]). A request
/// that does not resolve is skipped; the batch then runs as usual, so this changes only timing.
pub fn prefetch(server: &Server, db: usize, batch: &[Argv]) {
    const MAX_KEYS: usize = 64;
    let mut keys: smallvec::SmallVec<[(u64, &[u8]); MAX_KEYS]> = smallvec::SmallVec::new();
    let mut members: smallvec::SmallVec<[(u64, &[u8], u64); 16]> = smallvec::SmallVec::new();
    // The previous request, and where its member is (with its key's hash) if it names one.
    type Member = Option<(usize, u64)>;
    let mut prev: Option<(&Argv, Member)> = None;
    // The last command resolved, by its name as sent and the request's length: a pipeline of one
    // command over many keys (GET k1, GET k2, ...) looks it up once.
    let mut last: Option<(&[u8], usize, &'static CommandSpec, Option<usize>)> = None;
    for argv in batch {
        // A run of requests on one key (LPUSH mylist ..., HSET myhash ...) needs one key prefetch,
        // and telling it apart costs two short compares instead of a table lookup per request. Its
        // members differ from request to request, so those are prefetched for each.
        let member = match prev {
            Some((p, member))
                if p.len() >= 2 && p.get(1) == argv.get(1) && p.first() == argv.first() =>
            {
                member
            }
            _ => {
                let Some(name) = argv.first() else {
                    prev = None;
                    continue;
                };
                let (spec, position) = match last {
                    Some((n, argc, spec, position)) if argc == argv.len() && n == name => {
                        (spec, position)
                    }
                    _ => {
                        let Some(spec) = lookup(name) else {
                            prev = None;
                            continue;
                        };
                        let position = spec.member_at(argv.len());
                        last = Some((name, argv.len(), spec, position));
                        (spec, position)
                    }
                };
                let member = position.zip(argv.get(1).map(crate::storage::hash_key));
                prev = Some((argv, member));
                if !spec.subcommands.is_empty() {
                    continue;
                }
                let Ok(positions) = spec.key_positions(argv) else {
                    continue;
                };
                for key in positions.iter().filter_map(|&i| argv.get(i)) {
                    if keys.len() == MAX_KEYS {
                        break;
                    }
                    keys.push((crate::storage::hash_key(key), key));
                }
                member
            }
        };
        if let (Some((i, h)), Some(key)) = (member, argv.get(1)) {
            if let (Some(m), false) = (argv.get(i), members.len() == members.inline_size()) {
                members.push((h, key, crate::storage::hash_key(m)));
            }
        }
    }
    server.keyspace.prefetch(db, &keys);
    if !members.is_empty() {
        server.keyspace.prefetch_members(db, &members);
    }
}

pub fn lookup_sub(container: &'static CommandSpec, sub: &[u8]) -> Option<&'static CommandSpec> {
    container
        .subcommands
        .iter()
        .find(|s| s.short_name().as_bytes().eq_ignore_ascii_case(sub))
}

/// Resolves a request to its command (or subcommand) spec, with Redis's errors for unknown names and
/// wrong arity. Returns the spec and the index of its first argument.
pub fn resolve(argv: &Argv) -> Result<(&'static CommandSpec, usize), CmdError> {
    let Some(name) = argv.first() else {
        return Err(CmdError::Syntax);
    };
    let spec = lookup(name).ok_or_else(|| CmdError::unknown_command(name, argv.iter().skip(1)))?;
    let (spec, start) = match (spec.is_container(), argv.get(1)) {
        (true, Some(sub)) => match lookup_sub(spec, sub) {
            Some(s) => (s, 2),
            None => {
                return Err(CmdError::UnknownSubcommand {
                    sub: String::from_utf8_lossy(&sub[..sub.len().min(128)]).into_owned(),
                    container: String::from_utf8_lossy(name).to_ascii_uppercase(),
                })
            }
        },
        _ => (spec, 1),
    };
    if !spec.arity_ok(argv.len()) {
        return Err(CmdError::WrongArity(spec.full_name()));
    }
    Ok((spec, start))
}

/// The command (or subcommand) a request names, whatever its arity (for counting a rejected call).
pub fn resolve_name(argv: &Argv) -> Option<&'static CommandSpec> {
    let spec = lookup(argv.first()?)?;
    match (spec.is_container(), argv.get(1)) {
        (true, Some(sub)) => lookup_sub(spec, sub),
        _ => Some(spec),
    }
}

/// Runs one request to completion and returns its reply. `now` is the caller's cached clock (Unix ms),
/// read once per batch of pipelined requests as Redis caches it per event-loop iteration.
/// The request's vector is handed back through `argv` (emptied of its arguments) for reuse.
pub fn execute(server: &Server, client: &mut ClientState, argv: &mut Argv, now: u64) -> Outcome {
    match dispatch(server, client, argv, now) {
        Ok(o) => o,
        Err(e) => {
            let text = e.to_string();
            server.command_stats.record_error(&text);
            Outcome::Reply(Reply::Error(text))
        }
    }
}

fn dispatch(
    server: &Server,
    client: &mut ClientState,
    request: &mut Argv,
    now: u64,
) -> Result<Outcome, CmdError> {
    // Clients tend to repeat a command (pipelines, benchmarks): check the last one before hashing.
    let resolved = resolve_cached(client, request);
    let (spec, start) = match resolved {
        Ok(r) => r,
        Err(e) => {
            // A request that cannot even be resolved dooms an open transaction (EXECABORT).
            if let Some(m) = client.multi.as_mut() {
                m.aborted = true;
            }
            return Err(e);
        }
    };
    let argv = std::mem::take(request);
    client.last_command_name = spec.full_name();
    if !client.authenticated && !spec.has(flags::NO_AUTH) {
        server.command_stats.record_rejected(spec);
        if let Some(m) = client.multi.as_mut() {
            m.aborted = true;
        }
        return Err(CmdError::NoAuth);
    }
    // A RESP2 subscriber may only (un)subscribe, PING, QUIT or RESET.
    if client.in_subscribed_mode() && !spec.has(flags::SUBSCRIBED_OK) {
        return Err(CmdError::SubscribedMode(spec.full_name()));
    }
    // A script running (on another thread): wait for it to end, or answer BUSY once it has run past
    // `busy-reply-threshold`; only `allow-busy` commands go ahead. One relaxed load on the common
    // path, checked before any shard lock, which the script holds (see `scripting::busy`).
    let busy = server.script_run.busy();
    if busy != 0 {
        if !spec.has(flags::ALLOW_BUSY) {
            if let Err(err) = server.script_run.wait_unless_busy(busy) {
                return Err(refuse_busy(server, client, spec, err));
            }
        } else if !spec.keys.is_empty() {
            // WATCH: waits for a script below the threshold like any command; past it, it runs
            // without the key locks the script holds (`run`), as Redis serves it from the hook.
            let _ = server.script_run.wait_unless_busy(busy);
        }
    }
    // Over `maxmemory`: free keys first; refuse what would grow memory if nothing can be freed.
    if server.memory.maxmemory() > 0 {
        client.pre_command_oom = check_oom(server, client, spec, now)?;
    }
    // Inside MULTI, everything but the transaction-control commands is queued.
    if let Some(m) = client.multi.as_mut() {
        if !spec.has(flags::TX_CONTROL) {
            if spec.has(flags::NO_MULTI) {
                m.aborted = true;
                return Err(CmdError::NotAllowedInMulti);
            }
            m.queue.push(transaction::Queued { spec, start, argv });
            // CLIENT LIST shows the queue's length and size.
            client.info_changed = true;
            return Ok(Outcome::Reply(Reply::Simple("QUEUED")));
        }
    }
    run(server, client, spec, start, argv, request, now)
}

/// A command refused while a script is busy; a refused EXEC ends the transaction, as Redis's
/// `execCommandAbort`, and anything else dooms an open one.
#[cold]
fn refuse_busy(
    server: &Server,
    client: &mut ClientState,
    spec: &'static CommandSpec,
    err: CmdError,
) -> CmdError {
    if client.multi.is_some() && spec.name == "exec" {
        client.multi = None;
        client.info_changed = true;
        transaction::unwatch_all(server, client);
        return CmdError::ExecAbortBecause(err.to_string());
    }
    if let Some(m) = client.multi.as_mut() {
        m.aborted = true;
    }
    err
}

/// Runs evictions if memory is over `maxmemory` and refuses the command as Redis's `processCommand`
/// does when nothing could be freed: `denyoom` commands, anything queued inside MULTI, and EXEC of a
/// transaction holding a `denyoom` command (which discards it). Returns whether memory is still over
/// the limit, which scripts consult (Redis's `pre_command_oom_state`).
fn check_oom(
    server: &Server,
    client: &mut ClientState,
    spec: &'static CommandSpec,
    now: u64,
) -> Result<bool, CmdError> {
    use crate::server::memory::Evict;
    let mut evicted = Vec::new();
    let state = server.memory.check(&server.keyspace, now, &mut evicted);
    if !evicted.is_empty() {
        server.publish_events(&evicted);
    }
    if state != Evict::Fail {
        return Ok(false);
    }
    let name = spec.name;
    let reject = match client.multi.as_mut() {
        Some(m) if name == "exec" => {
            if m.queue.iter().any(|q| q.spec.has(flags::DENYOOM)) {
                client.multi = None;
                server.command_stats.record_rejected(spec);
                return Err(CmdError::ExecAbortOom);
            }
            false
        }
        Some(_) => !matches!(name, "discard" | "quit" | "reset" | "multi" | "watch"),
        None => spec.has(flags::DENYOOM),
    };
    if reject {
        server.command_stats.record_rejected(spec);
        if let Some(m) = client.multi.as_mut() {
            m.aborted = true;
        }
        return Err(CmdError::Oom);
    }
    Ok(true)
}

/// CLIENT PAUSE: whether a pause in `mode` holds this request. WRITE holds what Redis calls
/// "may replicate": write commands, the may-replicate ones (EVAL, PUBLISH, ...), and an EXEC whose
/// queue holds one. A request that cannot be resolved is not held (its error goes out at once).
pub fn held_by_pause(
    client: &ClientState,
    argv: &Argv,
    mode: crate::server::pause::PauseMode,
) -> bool {
    let Ok((spec, _)) = resolve(argv) else {
        return false;
    };
    match mode {
        crate::server::pause::PauseMode::All => true,
        crate::server::pause::PauseMode::Write => {
            let w = flags::WRITE | flags::MAY_REPLICATE;
            spec.has(w)
                || (spec.name == "exec"
                    && client
                        .multi
                        .as_ref()
                        .is_some_and(|m| m.queue.iter().any(|q| q.spec.has(w))))
        }
    }
}

/// Resolves the request, checking the client's last command first.
fn resolve_cached(
    client: &mut ClientState,
    request: &Argv,
) -> Result<(&'static CommandSpec, usize), CmdError> {
    // Clients tend to repeat a command (pipelines, benchmarks): check the last one before hashing.
    let resolved = match client.last_command {
        Some(last)
            if request
                .first()
                .is_some_and(|n| last.name.as_bytes().eq_ignore_ascii_case(n)) =>
        {
            if !last.arity_ok(request.len()) {
                return Err(CmdError::WrongArity(last.full_name()));
            }
            (last, 1)
        }
        _ => resolve(request)?,
    };
    // Containers are never cached: their subcommand must be looked up on every call.
    if resolved.1 == 1 && !resolved.0.is_container() {
        client.last_command = Some(resolved.0);
    }
    Ok(resolved)
}

/// Runs a resolved request: key locks, handler, bookkeeping. The emptied vector goes back through
/// `request` for reuse.
fn run(
    server: &Server,
    client: &mut ClientState,
    spec: &'static CommandSpec,
    start: usize,
    argv: Argv,
    request: &mut Argv,
    now: u64,
) -> Result<Outcome, CmdError> {
    // A blocking command may have to run again once a key is ready: keep its request.
    let retry = spec.has(flags::BLOCKING).then(|| argv.clone());
    let ks = &*server.keyspace;
    let locks = if spec.has(flags::ALL_SHARDS) {
        Locks::all(ks)
    } else if spec.has(flags::ALLOW_BUSY)
        && crate::scripting::busy::is_busy(server.script_run.busy())
    {
        Locks::none(ks)
    } else if let Some(i) = spec.single_key(argv.len()) {
        Locks::for_key(ks, &argv[i])
    } else {
        let positions = spec.key_positions(&argv).unwrap_or_default();
        if positions.is_empty() {
            Locks::none(ks)
        } else {
            Locks::for_keys(ks, positions.iter().map(|&i| &argv[i]))
        }
    };
    // A write may make a key ready for blocked clients (a push, a RENAME onto it, ...): remember the
    // keys it names. Only when someone is blocked at all, so the common path pays nothing.
    let mut ready: Vec<(usize, Bytes)> = Vec::new();
    if spec.has(flags::WRITE) && server.blocking.waiting() > 0 {
        let positions = spec.key_positions(&argv).unwrap_or_default();
        ready.extend(positions.iter().map(|&i| (client.db, argv.shared(i))));
    }
    let mut ctx = ExecCtx {
        server,
        client,
        locks,
        now,
        dirty: 0,
        block: None,
        ready,
        events: Vec::new(),
        failed: false,
    };
    let mut args = Args::new(&argv, start);
    let started = command_clock().now();
    let reply = (spec.handler)(&mut ctx, &mut args);
    let nanos = command_clock().now().duration_since(started).as_nanos() as u64;
    let micros = nanos / 1000;
    let ExecCtx {
        dirty,
        block,
        ready,
        locks,
        client,
        mut events,
        failed,
        ..
    } = ctx;
    drop(locks);
    if !events.is_empty() {
        let flags = server.keyspace.notify.flags();
        // The command's own event: for the keys it wrote, if it changed anything and succeeded.
        let changed = dirty > 0 && reply.is_ok();
        notify::resolve_markers(&mut events, 0, spec.event, changed, flags);
        server.publish_events(&events);
    }
    if server.pubsub.monitoring() && !spec.has(flags::SKIP_MONITOR | flags::ADMIN) {
        feed_monitors(server, client, &argv);
    }
    // A blocked client's time waiting is not the command's time; its final run is counted.
    if block.is_none() {
        server
            .command_stats
            .record_call(spec, nanos, reply.is_err() || failed);
        let latency_ms = server.latency_threshold_ms();
        if latency_ms > 0 && micros / 1000 >= latency_ms {
            let event = if spec.has(flags::FAST) {
                "fast-command"
            } else {
                "command"
            };
            server.latency.add(event, micros / 1000);
        }
        let threshold = server.slowlog_threshold();
        if threshold >= 0 && micros >= threshold as u64 && !spec.has(flags::SKIP_SLOWLOG) {
            server.command_stats.slowlog_push(
                crate::server::stats::SlowEntry {
                    id: 0,
                    time: now / 1000,
                    micros,
                    argv: crate::server::stats::slowlog_argv(&argv),
                    peer: client.addr.to_string(),
                    name: client.name.clone().unwrap_or_default(),
                },
                server.config.read().slowlog_max_len,
            );
        }
    }
    let mut argv = argv;
    argv.clear();
    *request = argv;
    if dirty > 0 {
        server.add_dirty(dirty);
    }
    // Only a command that wrote can have made a key ready (a blocked client re-running its own
    // command and finding nothing must not wake itself).
    if dirty > 0 {
        for (db, key) in &ready {
            server.blocking.wake_first(*db, key);
        }
    }
    match (block, retry) {
        (Some(mut on), Some(argv)) => Ok(Outcome::Block {
            argv: on.argv_override.take().unwrap_or(argv),
            db: client.db,
            on,
        }),
        _ => reply.map(Outcome::Reply),
    }
}

/// Runs a request inside another command that already holds every shard lock (EXEC's queue, a
/// script's `redis.call`): the same handler, statistics and blocked-client bookkeeping as a client's
/// own request, without taking locks again.
pub fn run_nested(
    ctx: &mut ExecCtx<'_>,
    spec: &'static CommandSpec,
    start: usize,
    argv: &Argv,
) -> Result<Reply, CmdError> {
    let keys: Vec<Bytes> = if spec.has(flags::WRITE) && ctx.server.blocking.waiting() > 0 {
        spec.key_positions(argv)
            .unwrap_or_default()
            .iter()
            .map(|&i| argv.shared(i))
            .collect()
    } else {
        Vec::new()
    };
    let dirty_before = ctx.dirty;
    let events_before = ctx.events.len();
    let mut args = Args::new(argv, start);
    let started = command_clock().now();
    let failed_before = std::mem::take(&mut ctx.failed);
    let r = (spec.handler)(ctx, &mut args);
    let failed = std::mem::replace(&mut ctx.failed, failed_before);
    if ctx.events.len() > events_before {
        let flags = ctx.server.keyspace.notify.flags();
        let changed = ctx.dirty > dirty_before && r.is_ok();
        notify::resolve_markers(&mut ctx.events, events_before, spec.event, changed, flags);
    }
    if ctx.server.pubsub.monitoring() && !spec.has(flags::SKIP_MONITOR | flags::ADMIN) {
        feed_monitors(ctx.server, ctx.client, argv);
    }
    ctx.server.command_stats.record_call(
        spec,
        command_clock().now().duration_since(started).as_nanos() as u64,
        r.is_err() || failed,
    );
    if ctx.dirty > dirty_before {
        let db = ctx.client.db;
        ctx.ready.extend(keys.into_iter().map(|k| (db, k)));
    }
    r
}

/// Why `redis.call` may not run `spec`, once the script resolved the request (`resolve`: the same
/// lookup and arity check as a client's), as Redis's `scriptCall` checks in this order: a command not
/// allowed from scripts, a write from a read-only script, and a command that may grow memory while
/// memory was over the limit when the script started and it has not written yet (`scriptVerifyOOM`:
/// once it wrote, it runs to the end for atomicity). `None`: run it with [`run_nested`].
pub fn refuse_from_script(
    ctx: &ExecCtx<'_>,
    spec: &'static CommandSpec,
    read_only: bool,
) -> Option<CmdError> {
    if spec.has(flags::NOSCRIPT) {
        Some(CmdError::NotAllowedFromScript)
    } else if read_only && spec.has(flags::WRITE) {
        Some(CmdError::ScriptReadOnly)
    } else if ctx.client.pre_command_oom && ctx.dirty == 0 && spec.has(flags::DENYOOM) {
        Some(CmdError::Oom)
    } else {
        None
    }
}

/// Sends the request to MONITOR clients, formatted as Redis does.
fn feed_monitors(server: &Server, client: &ClientState, argv: &Argv) {
    let line = crate::server::pubsub::monitor_line(
        crate::storage::clock::now_us(),
        client.db,
        &client.addr.to_string(),
        argv,
    );
    server.pubsub.feed_monitors(line);
}

/// The clock that times commands (INFO commandstats, SLOWLOG): TSC-based, a few nanoseconds per read.
/// `std::time::Instant` costs a system call per read on some virtual machines (seen here: 8% of a
/// pipelined GET benchmark went to clock_gettime), and every command reads it twice.
fn command_clock() -> &'static quanta::Clock {
    static CLOCK: OnceLock<quanta::Clock> = OnceLock::new();
    CLOCK.get_or_init(quanta::Clock::new)
}
