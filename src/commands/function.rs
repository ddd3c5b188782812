//! Redis Functions: FUNCTION LOAD/DELETE/FLUSH/LIST/DUMP/RESTORE/STATS/KILL/HELP, FCALL, FCALL_RO.
//!
//! These handlers parse arguments and reply; the registry lives in
//! [`crate::scripting::functions`], and running a function is [`crate::scripting::run_function`]'s
//! job (every shard locked, `redis.call` through the ordinary dispatch path, as EVAL). A library's
//! code runs once here, on FUNCTION LOAD, to learn which functions it registers; each I/O thread
//! runs it again the first time it calls one of them.

use bytes::Bytes;

use super::table::{acl, flags::*, ks, CommandSpec, Docs, Group, KeySpec};
use super::{Args, ExecCtx};
use crate::error::CmdError;
use crate::protocol::Reply;
use crate::scripting::busy::BUSY_EVAL;
use crate::scripting::functions::{self, Library, RestorePolicy, FLAG_NAMES};
use crate::scripting::{self, engine};

const fn docs(summary: &'static str, since: &'static str, complexity: &'static str) -> Docs {
    Docs {
        summary,
        since,
        complexity,
    }
}

const SC: u64 = acl::SCRIPTING;
/// Functions, like scripts, may touch undeclared keys: dispatch locks every shard (`ALL_SHARDS`).
const FCALL_FLAGS: u64 = NOSCRIPT | STALE | SKIP_MONITOR | NO_MANDATORY_KEYS | ALL_SHARDS;
const FCALL_KEYS: &[KeySpec] = &[KeySpec::keynum(2, ks::RW | ks::ACCESS | ks::UPDATE)];
const FCALL_RO_KEYS: &[KeySpec] = &[KeySpec::keynum(2, ks::RO | ks::ACCESS)];
const BY_FUNCTION: &str = "Depends on the function that is executed.";
const ALL_SHARDS_OK: &[&str] = &["request_policy:all_shards", "response_policy:all_succeeded"];

#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec { name: "fcall", group: Group::Scripting, arity: -3, flags: FCALL_FLAGS, acl: SC, keys: FCALL_KEYS, docs: docs("Invokes a function.", "7.0.0", BY_FUNCTION), handler: fcall, ..CommandSpec::DEFAULT },
    CommandSpec { name: "fcall_ro", group: Group::Scripting, arity: -3, flags: READONLY | FCALL_FLAGS, acl: SC, keys: FCALL_RO_KEYS, docs: docs("Invokes a read-only function.", "7.0.0", BY_FUNCTION), handler: fcall_ro, ..CommandSpec::DEFAULT },
    CommandSpec { name: "function", group: Group::Scripting, arity: -2, docs: docs("A container for function commands.", "7.0.0", "Depends on subcommand."), subcommands: FUNCTION, ..CommandSpec::DEFAULT },
];

#[rustfmt::skip]
static FUNCTION: &[CommandSpec] = &[
    CommandSpec { name: "function|delete", group: Group::Scripting, arity: 3, flags: WRITE | NOSCRIPT, acl: SC, tips: ALL_SHARDS_OK, docs: docs("Deletes a library and its functions.", "7.0.0", "O(1)"), handler: function_delete, ..CommandSpec::DEFAULT },
    CommandSpec { name: "function|dump", group: Group::Scripting, arity: 2, flags: NOSCRIPT, acl: SC, docs: docs("Dumps all libraries into a serialized binary payload.", "7.0.0", "O(N) where N is the number of functions"), handler: function_dump, ..CommandSpec::DEFAULT },
    CommandSpec { name: "function|flush", group: Group::Scripting, arity: -2, flags: WRITE | NOSCRIPT, acl: SC, tips: ALL_SHARDS_OK, docs: docs("Deletes all libraries and functions.", "7.0.0", "O(N) where N is the number of functions deleted"), handler: function_flush, ..CommandSpec::DEFAULT },
    CommandSpec { name: "function|help", group: Group::Scripting, arity: 2, flags: LOADING | STALE, acl: SC, docs: docs("Returns helpful text about the different subcommands.", "7.0.0", "O(1)"), handler: function_help, ..CommandSpec::DEFAULT },
    CommandSpec { name: "function|kill", group: Group::Scripting, arity: 2, flags: NOSCRIPT | ALLOW_BUSY, acl: SC, tips: &["request_policy:all_shards", "response_policy:one_succeeded"], docs: docs("Terminates a function during execution.", "7.0.0", "O(1)"), handler: function_kill, ..CommandSpec::DEFAULT },
    CommandSpec { name: "function|list", group: Group::Scripting, arity: -2, flags: NOSCRIPT, acl: SC, tips: &["nondeterministic_output_order"], docs: docs("Returns information about all libraries.", "7.0.0", "O(N) where N is the number of functions"), handler: function_list, ..CommandSpec::DEFAULT },
    CommandSpec { name: "function|load", group: Group::Scripting, arity: -3, flags: WRITE | DENYOOM | NOSCRIPT, acl: SC, tips: ALL_SHARDS_OK, docs: docs("Creates a library.", "7.0.0", "O(1) (considering compilation time is redundant)"), handler: function_load, ..CommandSpec::DEFAULT },
    CommandSpec { name: "function|restore", group: Group::Scripting, arity: -3, flags: WRITE | DENYOOM | NOSCRIPT, acl: SC, tips: ALL_SHARDS_OK, docs: docs("Restores all libraries from a payload.", "7.0.0", "O(N) where N is the number of functions on the payload"), handler: function_restore, ..CommandSpec::DEFAULT },
    CommandSpec { name: "function|stats", group: Group::Scripting, arity: 2, flags: NOSCRIPT | ALLOW_BUSY, acl: SC, tips: &["nondeterministic_output", "request_policy:all_shards", "response_policy:special"], docs: docs("Returns information about a function during execution.", "7.0.0", "O(1)"), handler: function_stats, ..CommandSpec::DEFAULT },
];

/// FCALL's `function numkeys key... arg...`, with Redis's checks in Redis's order.
fn fcall_generic(
    ctx: &mut ExecCtx<'_>,
    args: &mut Args,
    read_only: bool,
) -> Result<Reply, CmdError> {
    let name = args.next_bytes()?;
    let found = ctx
        .server
        .functions
        .find(name)
        .ok_or(CmdError::FunctionNotFound)?;
    let req = super::scripting::keys_and_args(args, CmdError::FunctionBadNumkeys)?;
    scripting::run_function(ctx, &found, &req.keys, &req.argv, read_only, req.request)
}

/// `FCALL function numkeys [key ...] [arg ...]` → the function's return value, converted to a reply.
fn fcall(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    fcall_generic(ctx, args, false)
}

/// `FCALL_RO function numkeys [key ...] [arg ...]` → as FCALL, for a function flagged `no-writes`.
fn fcall_ro(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    fcall_generic(ctx, args, true)
}

/// Builds a library from its code: metadata checked, code run to register its functions.
fn build_library(ctx: &ExecCtx<'_>, code: Bytes) -> Result<Library, CmdError> {
    let name = functions::parse_metadata(&code)?;
    let id = ctx.server.functions.next_id();
    let mut lib = Library {
        name,
        code,
        id,
        functions: Vec::new(),
    };
    lib.functions = engine::load_library(id, lib.body())?;
    Ok(lib)
}

/// `FUNCTION LOAD [REPLACE] function-code` → the library's name (bulk).
fn function_load(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let mut replace = false;
    while args.remaining() > 1 {
        let opt = args.next_bytes()?;
        if opt.eq_ignore_ascii_case(b"REPLACE") {
            replace = true;
        } else {
            return Err(CmdError::FunctionLoadOption(
                String::from_utf8_lossy(opt).into_owned(),
            ));
        }
    }
    let code = args
        .next_shared()
        .map_err(|_| CmdError::FunctionCodeMissing)?;
    // Redis checks an existing library before running the new code.
    let name = functions::parse_metadata(&code)?;
    if !replace && ctx.server.functions.contains_library(&name) {
        return Err(CmdError::Function(format!(
            "Library '{name}' already exists"
        )));
    }
    let lib = build_library(ctx, code)?;
    let name = lib.name.clone();
    ctx.server.functions.add(lib, replace)?;
    ctx.dirty += 1;
    Ok(Reply::bulk_string(name))
}

/// `FUNCTION DELETE library-name` → `+OK`, or `ERR Library not found`.
fn function_delete(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let name = args.next_bytes()?;
    ctx.server.functions.delete(name)?;
    ctx.dirty += 1;
    Ok(Reply::Ok)
}

/// `FUNCTION FLUSH [ASYNC|SYNC]` → `+OK`; the libraries go at once either way.
fn function_flush(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    if args.remaining() > 1 {
        return Err(CmdError::FunctionSubcommandSyntax("flush"));
    }
    if !(args.is_empty() || args.eat("SYNC") || args.eat("ASYNC")) {
        return Err(CmdError::FunctionFlushOption);
    }
    ctx.server.functions.flush();
    ctx.dirty += 1;
    Ok(Reply::Ok)
}

/// `FUNCTION LIST [LIBRARYNAME pattern] [WITHCODE]` → an array of maps (library_name, engine,
/// functions: maps of name, description, flags (a set); library_code with WITHCODE).
fn function_list(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let mut with_code = false;
    let mut pattern: Option<&[u8]> = None;
    while let Ok(arg) = args.next_bytes() {
        if !with_code && arg.eq_ignore_ascii_case(b"WITHCODE") {
            with_code = true;
        } else if pattern.is_none() && arg.eq_ignore_ascii_case(b"LIBRARYNAME") {
            pattern = Some(
                args.next_bytes()
                    .map_err(|_| CmdError::FunctionListNoLibraryName)?,
            );
        } else {
            return Err(CmdError::FunctionListArgument(
                String::from_utf8_lossy(arg).into_owned(),
            ));
        }
    }
    let libs = ctx.server.functions.libraries();
    let list = libs
        .iter()
        .filter(|l| {
            pattern
                .as_ref()
                .is_none_or(|p| crate::glob::matches(p, l.name.as_bytes(), true))
        })
        .map(|l| {
            let funcs = l
                .functions
                .iter()
                .map(|f| {
                    Reply::Map(vec![
                        (Reply::bulk_str("name"), Reply::bulk_string(f.name.clone())),
                        (
                            Reply::bulk_str("description"),
                            f.description.clone().map_or(Reply::Nil, Reply::Bulk),
                        ),
                        (
                            Reply::bulk_str("flags"),
                            Reply::Set(
                                FLAG_NAMES
                                    .iter()
                                    .filter(|(bit, _)| f.flags & bit != 0)
                                    .map(|(_, n)| Reply::Simple(n))
                                    .collect(),
                            ),
                        ),
                    ])
                })
                .collect();
            let mut map = vec![
                (
                    Reply::bulk_str("library_name"),
                    Reply::bulk_string(l.name.clone()),
                ),
                (
                    Reply::bulk_str("engine"),
                    Reply::bulk_str(functions::ENGINE),
                ),
                (Reply::bulk_str("functions"), Reply::Array(funcs)),
            ];
            if with_code {
                map.push((Reply::bulk_str("library_code"), Reply::Bulk(l.code.clone())));
            }
            Reply::Map(map)
        })
        .collect();
    Ok(Reply::Array(list))
}

/// `FUNCTION DUMP` → the libraries as a binary payload (bulk) for FUNCTION RESTORE.
fn function_dump(ctx: &mut ExecCtx<'_>, _: &mut Args) -> Result<Reply, CmdError> {
    let libs = ctx.server.functions.libraries();
    Ok(Reply::Bulk(Bytes::from(functions::dump(&libs))))
}

/// `FUNCTION RESTORE payload [FLUSH|APPEND|REPLACE]` → `+OK` once every library in the payload is
/// loaded; nothing changes on an error.
fn function_restore(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    if args.remaining() > 2 {
        return Err(CmdError::FunctionSubcommandSyntax("restore"));
    }
    let payload = args.next_bytes()?;
    let policy = match args.next_bytes() {
        Err(_) => RestorePolicy::Append,
        Ok(p) if p.eq_ignore_ascii_case(b"APPEND") => RestorePolicy::Append,
        Ok(p) if p.eq_ignore_ascii_case(b"REPLACE") => RestorePolicy::Replace,
        Ok(p) if p.eq_ignore_ascii_case(b"FLUSH") => RestorePolicy::Flush,
        Ok(_) => return Err(CmdError::FunctionRestorePolicy),
    };
    let codes = functions::undump(payload)?;
    let mut libs: Vec<Library> = Vec::with_capacity(codes.len());
    for code in codes {
        let lib = build_library(ctx, Bytes::from(code))?;
        // Libraries of one payload must not collide with each other (Redis loads them into one
        // fresh context).
        if libs.iter().any(|l| l.name == lib.name) {
            return Err(CmdError::Function(format!(
                "Library '{}' already exists",
                lib.name
            )));
        }
        if let Some(f) = lib.functions.iter().find(|f| {
            libs.iter().any(|l| {
                l.functions
                    .iter()
                    .any(|g| g.name.eq_ignore_ascii_case(&f.name))
            })
        }) {
            return Err(CmdError::Function(format!(
                "Function {} already exists",
                f.name
            )));
        }
        libs.push(lib);
    }
    ctx.server.functions.restore(libs, policy)?;
    ctx.dirty += 1;
    Ok(Reply::Ok)
}

/// `FUNCTION STATS` → a map: running_script (null, or a map of name, command, duration_ms) and
/// engines (LUA: libraries_count, functions_count). BUSY while an EVAL script runs.
fn function_stats(ctx: &mut ExecCtx<'_>, _: &mut Args) -> Result<Reply, CmdError> {
    let running = ctx.server.script_run.current();
    let running = match running {
        Some(r) if r.is_eval => {
            return Err(crate::scripting::busy::ScriptRun::busy_error(BUSY_EVAL))
        }
        Some(r) => Reply::Map(vec![
            (Reply::bulk_str("name"), Reply::bulk_string(r.name.clone())),
            (
                Reply::bulk_str("command"),
                Reply::Array(r.argv.to_vec().into_iter().map(Reply::Bulk).collect()),
            ),
            (
                Reply::bulk_str("duration_ms"),
                Reply::Int(r.duration_ms() as i64),
            ),
        ]),
        None => Reply::Nil,
    };
    let (libraries, funcs) = ctx.server.functions.counts();
    Ok(Reply::Map(vec![
        (Reply::bulk_str("running_script"), running),
        (
            Reply::bulk_str("engines"),
            Reply::Map(vec![(
                Reply::bulk_str(functions::ENGINE),
                Reply::Map(vec![
                    (
                        Reply::bulk_str("libraries_count"),
                        Reply::Int(libraries as i64),
                    ),
                    (Reply::bulk_str("functions_count"), Reply::Int(funcs as i64)),
                ]),
            )]),
        ),
    ]))
}

/// `FUNCTION KILL` → `+OK` once the running function is told to stop; `NOTBUSY` when none runs,
/// `UNKILLABLE` when it has written, `BUSY` when the running one is an EVAL script.
fn function_kill(ctx: &mut ExecCtx<'_>, _: &mut Args) -> Result<Reply, CmdError> {
    ctx.server.script_run.kill(false)?;
    Ok(Reply::Ok)
}

/// `FUNCTION HELP` → the help lines.
fn function_help(_: &mut ExecCtx<'_>, _: &mut Args) -> Result<Reply, CmdError> {
    let lines = [
        "FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "LOAD [REPLACE] <FUNCTION CODE>",
        "    Create a new library with the given library name and code.",
        "DELETE <LIBRARY NAME>",
        "    Delete the given library.",
        "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
        "    Return general information on all the libraries:",
        "    * Library name",
        "    * The engine used to run the Library",
        "    * Library description",
        "    * Functions list",
        "    * Library code (if WITHCODE is given)",
        "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
        "STATS",
        "    Return information about the current function running:",
        "    * Function name",
        "    * Command used to run the function",
        "    * Duration in MS that the function is running",
        "    If no function is running, return nil",
        "    In addition, returns a list of available engines.",
        "KILL",
        "    Kill the current running function.",
        "FLUSH [ASYNC|SYNC]",
        "    Delete all the libraries.",
        "    When called without the optional mode argument, the behavior is determined by the",
        "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
        "    * ASYNC: Asynchronously flush the libraries.",
        "    * SYNC: Synchronously flush the libraries.",
        "DUMP",
        "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
        "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
        "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
        "    control how to handle existing libraries (default APPEND):",
        "    * FLUSH: delete all existing libraries.",
        "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
        "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
        "      libraries with the new libraries (notice that even on this option there is a chance of failure",
        "      in case of functions name collision with another library).",
        "HELP",
        "    Prints this help.",
    ];
    Ok(Reply::help(&lines))
}
