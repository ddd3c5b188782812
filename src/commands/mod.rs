//! Commands: the one command table and the dispatch pipeline.
//!
//! Each family file (`string.rs`, `generic.rs`, ...) exports `COMMANDS: &[CommandSpec]`, its slice of the
//! table, with one handler per command. [`FAMILIES`] lists the slices; nothing else names commands.
//! Adding a command touches its family file and its test file, nothing more.
//!
//! Dispatch is one short pipeline, driven by the table:
//! lookup → subcommand → arity → authentication → key extraction and shard locking → handler →
//! bookkeeping. Handlers are synchronous and never see the socket or the protocol version, so the same
//! handler serves a client, a transaction, a script and (later) AOF replay.

pub mod args;
pub mod command;
pub mod connection;
pub mod generic;
pub mod server;
pub mod string;
pub mod table;

use std::collections::HashMap;
use std::sync::OnceLock;

use bytes::Bytes;

pub use args::Args;
pub use table::{acl, flags, ks, CommandSpec, Docs, Group, KeySpec};

use crate::error::CmdError;
use crate::protocol::Reply;
use crate::server::{ClientState, Server};
use crate::storage::{Db, Locks};

/// The command table, one slice per family.
pub static FAMILIES: &[&[CommandSpec]] =
    &[connection::COMMANDS, string::COMMANDS, generic::COMMANDS, server::COMMANDS, command::COMMANDS];

/// Everything a handler may use: the server, the calling client, and the keys locked for it.
pub struct ExecCtx<'a> {
    pub server: &'a Server,
    pub client: &'a mut ClientState,
    pub locks: Locks<'a>,
    /// The command's clock in Unix milliseconds (fixed for the whole command).
    pub now: u64,
    /// Keys changed by this command (feeds `INFO`'s `rdb_changes_since_last_save`).
    pub dirty: u64,
}

impl<'a> ExecCtx<'a> {
    /// The client's selected database, through the command's locks.
    pub fn db(&mut self) -> Db<'_, 'a> {
        Db::new(&mut self.locks, self.client.db, self.now, &mut self.dirty)
    }

    /// Database `index` through the command's locks.
    pub fn db_at(&mut self, index: usize) -> Db<'_, 'a> {
        Db::new(&mut self.locks, index, self.now, &mut self.dirty)
    }
}

/// All top-level commands.
pub fn all_commands() -> impl Iterator<Item = &'static CommandSpec> {
    FAMILIES.iter().flat_map(|f| f.iter())
}

fn registry() -> &'static HashMap<&'static [u8], &'static CommandSpec, ahash::RandomState> {
    static MAP: OnceLock<HashMap<&'static [u8], &'static CommandSpec, ahash::RandomState>> = OnceLock::new();
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
pub fn lookup_sub(container: &'static CommandSpec, sub: &[u8]) -> Option<&'static CommandSpec> {
    container.subcommands.iter().find(|s| s.short_name().as_bytes().eq_ignore_ascii_case(sub))
}

/// Resolves a request to its command (or subcommand) spec, with Redis's errors for unknown names and
/// wrong arity. Returns the spec and the index of its first argument.
pub fn resolve(argv: &[Bytes]) -> Result<(&'static CommandSpec, usize), CmdError> {
    let Some(name) = argv.first() else { return Err(CmdError::Syntax) };
    let spec = lookup(name).ok_or_else(|| CmdError::unknown_command(name, &argv[1..]))?;
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

/// Runs one request to completion and returns its reply.
pub fn execute(server: &Server, client: &mut ClientState, argv: Vec<Bytes>) -> Reply {
    match dispatch(server, client, argv) {
        Ok(r) => r,
        Err(e) => Reply::from(e),
    }
}

fn dispatch(server: &Server, client: &mut ClientState, argv: Vec<Bytes>) -> Result<Reply, CmdError> {
    let (spec, start) = resolve(&argv)?;
    if !client.authenticated && !spec.has(flags::NO_AUTH) {
        return Err(CmdError::NoAuth);
    }
    let ks = &*server.keyspace;
    let locks = match spec.key_positions(&argv) {
        Ok(pos) if !pos.is_empty() => Locks::for_keys(ks, pos.iter().map(|&i| &argv[i][..])),
        _ => Locks::none(ks),
    };
    let now = crate::storage::clock::now_ms();
    let mut ctx = ExecCtx { server, client, locks, now, dirty: 0 };
    let mut args = Args::new(argv, start);
    let reply = (spec.handler)(&mut ctx, &mut args);
    let dirty = ctx.dirty;
    drop(ctx);
    if dirty > 0 {
        server.add_dirty(dirty);
    }
    reply
}
