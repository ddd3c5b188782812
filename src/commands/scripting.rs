//! Scripting: EVAL EVALSHA EVAL_RO EVALSHA_RO and SCRIPT LOAD/EXISTS/FLUSH/KILL/DEBUG/HELP.
//!
//! These handlers parse arguments and manage the script cache; running a script is
//! [`crate::scripting::run_script`]'s job (every shard locked, `redis.call` through the ordinary
//! dispatch path). EVAL caches every script it runs, as Redis does, so EVALSHA finds it afterwards.

use bytes::Bytes;

use super::table::{acl, flags::*, ks, CommandSpec, Docs, Group, KeySpec};
use super::{Args, ExecCtx};
use crate::error::CmdError;
use crate::protocol::{parse_i64, Reply};
use crate::scripting::{self, sha1_hex};

const fn docs(summary: &'static str, since: &'static str, complexity: &'static str) -> Docs {
    Docs {
        summary,
        since,
        complexity,
    }
}

const SC: u64 = acl::SCRIPTING;
/// Scripts may touch keys they do not declare (BullMQ's and Sidekiq's do): dispatch locks every
/// shard for them (`ALL_SHARDS`), once.
const EVAL_FLAGS: u64 =
    NOSCRIPT | STALE | SKIP_MONITOR | NO_MANDATORY_KEYS | MAY_REPLICATE | ALL_SHARDS;
const EVAL_KEYS: &[KeySpec] = &[KeySpec::keynum(2, ks::RW | ks::ACCESS | ks::UPDATE)];
const EVAL_RO_KEYS: &[KeySpec] = &[KeySpec::keynum(2, ks::RO | ks::ACCESS)];
const BY_SCRIPT: &str = "Depends on the script that is executed.";

#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec { name: "eval", group: Group::Scripting, arity: -3, flags: EVAL_FLAGS, acl: SC, keys: EVAL_KEYS, docs: docs("Executes a server-side Lua script.", "2.6.0", BY_SCRIPT), handler: eval, ..CommandSpec::DEFAULT },
    CommandSpec { name: "evalsha", group: Group::Scripting, arity: -3, flags: EVAL_FLAGS, acl: SC, keys: EVAL_KEYS, docs: docs("Executes a server-side Lua script by SHA1 digest.", "2.6.0", BY_SCRIPT), handler: evalsha, ..CommandSpec::DEFAULT },
    CommandSpec { name: "eval_ro", group: Group::Scripting, arity: -3, flags: READONLY | EVAL_FLAGS, acl: SC, keys: EVAL_RO_KEYS, docs: docs("Executes a read-only server-side Lua script.", "7.0.0", BY_SCRIPT), handler: eval_ro, ..CommandSpec::DEFAULT },
    CommandSpec { name: "evalsha_ro", group: Group::Scripting, arity: -3, flags: READONLY | EVAL_FLAGS, acl: SC, keys: EVAL_RO_KEYS, docs: docs("Executes a read-only server-side Lua script by SHA1 digest.", "7.0.0", BY_SCRIPT), handler: evalsha_ro, ..CommandSpec::DEFAULT },
    CommandSpec { name: "script", group: Group::Scripting, arity: -2, docs: docs("A container for Lua scripts management commands.", "2.6.0", "Depends on subcommand."), subcommands: SCRIPT, ..CommandSpec::DEFAULT },
];

#[rustfmt::skip]
static SCRIPT: &[CommandSpec] = &[
    CommandSpec { name: "script|debug", group: Group::Scripting, arity: 3, flags: NOSCRIPT, acl: SC, docs: docs("Sets the debug mode of server-side Lua scripts.", "3.2.0", "O(1)"), handler: script_debug, ..CommandSpec::DEFAULT },
    CommandSpec { name: "script|help", group: Group::Scripting, arity: 2, flags: LOADING | STALE, acl: SC, docs: docs("Returns helpful text about the different subcommands.", "5.0.0", "O(1)"), handler: script_help, ..CommandSpec::DEFAULT },
    CommandSpec { name: "script|exists", group: Group::Scripting, arity: -3, flags: NOSCRIPT, acl: SC, tips: &["request_policy:all_shards", "response_policy:agg_logical_and"], docs: docs("Determines whether server-side Lua scripts exist in the script cache.", "2.6.0", "O(N) with N being the number of scripts to check (so checking a single script is an O(1) operation)."), handler: script_exists, ..CommandSpec::DEFAULT },
    CommandSpec { name: "script|flush", group: Group::Scripting, arity: -2, flags: NOSCRIPT, acl: SC, tips: &["request_policy:all_nodes", "response_policy:all_succeeded"], docs: docs("Removes all server-side Lua scripts from the script cache.", "2.6.0", "O(N) with N being the number of scripts in cache"), handler: script_flush, ..CommandSpec::DEFAULT },
    CommandSpec { name: "script|kill", group: Group::Scripting, arity: 2, flags: NOSCRIPT | ALLOW_BUSY, acl: SC, tips: &["request_policy:all_shards", "response_policy:one_succeeded"], docs: docs("Terminates a server-side Lua script during execution.", "2.6.0", "O(1)"), handler: script_kill, ..CommandSpec::DEFAULT },
    CommandSpec { name: "script|load", group: Group::Scripting, arity: 3, flags: NOSCRIPT | STALE, acl: SC, tips: &["request_policy:all_nodes", "response_policy:all_succeeded"], docs: docs("Loads a server-side Lua script to the script cache.", "2.6.0", "O(N) with N being the length in bytes of the script body."), handler: script_load, ..CommandSpec::DEFAULT },
];

/// The `numkeys key [key ...] arg [arg ...]` part of an EVAL- or FCALL-like request, with Redis's
/// errors; `not_integer` is the one for a `numkeys` that is not a number (EVAL and FCALL differ).
/// Returns the request (for the running-script record) and where its keys and its arguments start;
/// nothing is copied.
pub(super) fn keys_and_args<'a>(
    args: &mut Args<'a>,
    not_integer: CmdError,
) -> Result<KeysAndArgs<'a>, CmdError> {
    let numkeys = parse_i64(args.next_bytes()?).ok_or(not_integer)?;
    let request = args.argv();
    let rest = args.rest();
    if numkeys > rest.len() as i64 {
        return Err(CmdError::NumkeysTooMany);
    }
    if numkeys < 0 {
        return Err(CmdError::NumkeysNegative);
    }
    let mut keys = rest;
    let argv = keys.drain(numkeys as usize..).collect();
    Ok(KeysAndArgs {
        request,
        keys,
        argv,
    })
}

/// An EVAL- or FCALL-like request split up by [`keys_and_args`].
pub(super) struct KeysAndArgs<'a> {
    pub request: &'a crate::protocol::Argv,
    pub keys: super::args::Rest<'a>,
    pub argv: super::args::Rest<'a>,
}

fn eval_body(ctx: &mut ExecCtx<'_>, args: &mut Args, read_only: bool) -> Result<Reply, CmdError> {
    let body = args.next_bytes()?;
    let req = keys_and_args(args, CmdError::NotInteger)?;
    let sha = scripting::sha1_of_script(body);
    let cache = &ctx.server.scripts;
    if !cache.contains(&sha) {
        scripting::check_compiles(&sha, body)?;
        cache.insert(sha.clone(), Bytes::copy_from_slice(body));
    }
    scripting::run_script(
        ctx,
        &sha,
        body,
        &req.keys,
        &req.argv,
        read_only,
        req.request,
    )
}

fn evalsha_body(
    ctx: &mut ExecCtx<'_>,
    args: &mut Args,
    read_only: bool,
) -> Result<Reply, CmdError> {
    let sha = args.next_bytes()?;
    let req = keys_and_args(args, CmdError::NotInteger)?;
    if sha.len() != 40 {
        return Err(CmdError::NoScript);
    }
    let sha = String::from_utf8_lossy(sha).to_ascii_lowercase();
    let body = ctx.server.scripts.get(&sha).ok_or(CmdError::NoScript)?;
    scripting::run_script(
        ctx,
        &sha,
        &body,
        &req.keys,
        &req.argv,
        read_only,
        req.request,
    )
}

/// `EVAL script numkeys [key ...] [arg ...]` → the script's return value, converted to a reply.
fn eval(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    eval_body(ctx, args, false)
}

/// `EVALSHA sha1 numkeys [key ...] [arg ...]` → as EVAL, for a cached script; `NOSCRIPT` if unknown.
fn evalsha(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    evalsha_body(ctx, args, false)
}

/// `EVAL_RO script numkeys [key ...] [arg ...]` → as EVAL; write commands are refused.
fn eval_ro(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    eval_body(ctx, args, true)
}

/// `EVALSHA_RO sha1 numkeys [key ...] [arg ...]` → as EVALSHA; write commands are refused.
fn evalsha_ro(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    evalsha_body(ctx, args, true)
}

/// `SCRIPT LOAD script` → the script's SHA-1 (bulk), once it compiles.
fn script_load(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let body = args.next_bytes()?;
    let sha = sha1_hex(body);
    if !ctx.server.scripts.contains(&sha) {
        scripting::check_compiles(&sha, body)?;
        ctx.server
            .scripts
            .insert(sha.clone(), Bytes::copy_from_slice(body));
    }
    Ok(Reply::bulk_string(sha))
}

/// `SCRIPT EXISTS sha1 [sha1 ...]` → an array of 1 (cached) or 0, one per argument.
fn script_exists(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let cache = &ctx.server.scripts;
    Ok(Reply::Array(
        args.map(|sha| {
            let sha = String::from_utf8_lossy(sha).to_ascii_lowercase();
            Reply::Int(cache.contains(&sha) as i64)
        })
        .collect(),
    ))
}

/// `SCRIPT FLUSH [ASYNC|SYNC]` → `+OK`; the cache is emptied at once either way.
fn script_flush(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    if args.remaining() > 1 || !(args.is_empty() || args.eat("SYNC") || args.eat("ASYNC")) {
        return Err(CmdError::ScriptFlushOption);
    }
    ctx.server.scripts.flush();
    Ok(Reply::Ok)
}

/// `SCRIPT KILL` → `+OK` once the running script is told to stop; `NOTBUSY` when none runs,
/// `UNKILLABLE` when it has written, `BUSY` when the running one is a function.
fn script_kill(ctx: &mut ExecCtx<'_>, _: &mut Args) -> Result<Reply, CmdError> {
    ctx.server.script_run.kill(true)?;
    Ok(Reply::Ok)
}

/// `SCRIPT DEBUG YES|SYNC|NO` → `+OK` for NO; the Lua debugger is not available.
fn script_debug(_: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    if args.eat("NO") {
        Ok(Reply::Ok)
    } else if args.eat("YES") || args.eat("SYNC") {
        Err(CmdError::ScriptDebugUnsupported)
    } else {
        Err(CmdError::ScriptDebugMode)
    }
}

/// `SCRIPT HELP` → the help lines.
fn script_help(_: &mut ExecCtx<'_>, _: &mut Args) -> Result<Reply, CmdError> {
    let lines = [
        "SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "DEBUG (YES|SYNC|NO)",
        "    Set the debug mode for subsequent scripts executed.",
        "EXISTS <sha1> [<sha1> ...]",
        "    Return information about the existence of the scripts in the script cache.",
        "FLUSH [ASYNC|SYNC]",
        "    Flush the Lua scripts cache. Very dangerous on replicas.",
        "    When called without the optional mode argument, the behavior is determined by the",
        "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
        "    * ASYNC: Asynchronously flush the scripts cache.",
        "    * SYNC: Synchronously flush the scripts cache.",
        "KILL",
        "    Kill the currently executing Lua script.",
        "LOAD <script>",
        "    Load a script into the scripts cache without executing it.",
        "HELP",
        "    Prints this help.",
    ];
    Ok(Reply::help(&lines))
}
