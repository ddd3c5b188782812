//! The COMMAND container: COMMAND, COUNT, INFO, LIST, GETKEYS, GETKEYSANDFLAGS, DOCS and HELP.
//!
//! Nothing here knows about any particular command: every reply is built from the command table
//! ([`super::all_commands`]) and the facts [`CommandSpec`] derives (flags with `movablekeys`, ACL
//! categories, the legacy first/last/step triple, key extraction). The reply shapes are Redis 7's, set
//! for set and map for map, so the one RESP lowering gives the same bytes as Redis in RESP2 and RESP3.

use bytes::Bytes;

use super::table::{acl, flags::*, ks, BeginSearch, CommandSpec, Docs, FindKeys, Group, KeySpec};
use super::{all_commands, lookup, lookup_sub, Args, ExecCtx};
use crate::error::CmdError;
use crate::glob;
use crate::protocol::Reply;

const fn docs(summary: &'static str, since: &'static str, complexity: &'static str) -> Docs {
    Docs {
        summary,
        since,
        complexity,
    }
}

const CMD_FLAGS: u64 = LOADING | STALE | SENTINEL;
const CONN: u64 = acl::CONNECTION;
const ORDER: &[&str] = &["nondeterministic_output_order"];

#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec { name: "command", group: Group::Server, arity: -1, flags: CMD_FLAGS, acl: CONN, tips: ORDER, docs: docs("Returns detailed information about all commands.", "2.8.13", "O(N) where N is the total number of Redis commands"), handler: command, subcommands: SUBCOMMANDS, ..CommandSpec::DEFAULT },
];

#[rustfmt::skip]
static SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec { name: "command|count", group: Group::Server, arity: 2, flags: CMD_FLAGS, acl: CONN, docs: docs("Returns a count of commands.", "2.8.13", "O(1)"), handler: count, ..CommandSpec::DEFAULT },
    CommandSpec { name: "command|docs", group: Group::Server, arity: -2, flags: CMD_FLAGS, acl: CONN, tips: ORDER, docs: docs("Returns documentary information about one, multiple or all commands.", "7.0.0", "O(N) where N is the number of commands to look up"), handler: docs_cmd, ..CommandSpec::DEFAULT },
    CommandSpec { name: "command|getkeys", group: Group::Server, arity: -4, flags: CMD_FLAGS, acl: CONN, docs: docs("Extracts the key names from an arbitrary command.", "2.8.13", "O(N) where N is the number of arguments to the command"), handler: getkeys, ..CommandSpec::DEFAULT },
    CommandSpec { name: "command|getkeysandflags", group: Group::Server, arity: -4, flags: CMD_FLAGS, acl: CONN, docs: docs("Extracts the key names and access flags for an arbitrary command.", "7.0.0", "O(N) where N is the number of arguments to the command"), handler: getkeysandflags, ..CommandSpec::DEFAULT },
    CommandSpec { name: "command|help", group: Group::Server, arity: 2, flags: CMD_FLAGS, acl: CONN, docs: docs("Returns helpful text about the different subcommands.", "5.0.0", "O(1)"), handler: help, ..CommandSpec::DEFAULT },
    CommandSpec { name: "command|info", group: Group::Server, arity: -2, flags: CMD_FLAGS, acl: CONN, tips: ORDER, docs: docs("Returns information about one, multiple or all commands.", "2.8.13", "O(N) where N is the number of commands to look up"), handler: info, ..CommandSpec::DEFAULT },
    CommandSpec { name: "command|list", group: Group::Server, arity: -2, flags: CMD_FLAGS, acl: CONN, tips: ORDER, docs: docs("Returns a list of command names.", "7.0.0", "O(N) where N is the total number of Redis commands"), handler: list, ..CommandSpec::DEFAULT },
];

/// Finds a command by its full name (`get`, `config|get`), ignoring case, as Redis's
/// `lookupCommandBySds`: `x|y` names a subcommand of container `x` only.
pub fn lookup_fullname(name: &[u8]) -> Option<&'static CommandSpec> {
    let mut parts = name.splitn(3, |&b| b == b'|');
    let base = lookup(parts.next()?)?;
    match (parts.next(), parts.next()) {
        (None, _) => Some(base),
        (Some(sub), None) if base.is_container() => lookup_sub(base, sub),
        _ => None,
    }
}

/// Names of the bits set in `bits`, in the table's order, as simple strings.
fn names<T: Copy + std::ops::BitAnd<Output = T> + PartialEq + Default>(
    bits: T,
    table: &[(T, &'static str)],
) -> Vec<Reply> {
    table
        .iter()
        .filter(|(b, _)| bits & *b != T::default())
        .map(|(_, n)| Reply::Simple(n))
        .collect()
}

fn pair(k: &'static str, v: Reply) -> (Reply, Reply) {
    (Reply::bulk_str(k), v)
}

/// One key spec as `COMMAND INFO` shows it: `notes` (if any), `flags`, `begin_search`, `find_keys`.
fn key_spec_reply(spec: &KeySpec, note: Option<&'static str>) -> Reply {
    let mut m = Vec::with_capacity(4);
    if let Some(n) = note {
        m.push(pair("notes", Reply::bulk_str(n)));
    }
    m.push(pair("flags", Reply::Set(names(spec.flags, ks::NAMES))));
    let (bs_type, bs_spec) = match spec.begin {
        BeginSearch::Index(i) => ("index", vec![pair("index", Reply::Int(i.into()))]),
        BeginSearch::Keyword { keyword, startfrom } => (
            "keyword",
            vec![
                pair("keyword", Reply::bulk_str(keyword)),
                pair("startfrom", Reply::Int(startfrom.into())),
            ],
        ),
        BeginSearch::Unknown => ("unknown", vec![]),
    };
    m.push(pair(
        "begin_search",
        Reply::Map(vec![
            pair("type", Reply::bulk_str(bs_type)),
            pair("spec", Reply::Map(bs_spec)),
        ]),
    ));
    let (fk_type, fk_spec) = match spec.find {
        FindKeys::Range {
            lastkey,
            keystep,
            limit,
        } => (
            "range",
            vec![
                pair("lastkey", Reply::Int(lastkey.into())),
                pair("keystep", Reply::Int(keystep.into())),
                pair("limit", Reply::Int(limit.into())),
            ],
        ),
        FindKeys::Keynum {
            keynumidx,
            firstkey,
            keystep,
        } => (
            "keynum",
            vec![
                pair("keynumidx", Reply::Int(keynumidx.into())),
                pair("firstkey", Reply::Int(firstkey.into())),
                pair("keystep", Reply::Int(keystep.into())),
            ],
        ),
        FindKeys::Unknown => ("unknown", vec![]),
    };
    m.push(pair(
        "find_keys",
        Reply::Map(vec![
            pair("type", Reply::bulk_str(fk_type)),
            pair("spec", Reply::Map(fk_spec)),
        ]),
    ));
    Reply::Map(m)
}

/// A command's `COMMAND INFO` entry: Redis 7's ten fields (name, arity, flags, first key, last key,
/// step, ACL categories, tips, key specs, subcommands).
pub fn info_entry(c: &CommandSpec) -> Reply {
    let (first, last, step) = c.legacy_range();
    let categories = acl::NAMES
        .iter()
        .filter(|(b, _)| c.acl_categories() & b != 0)
        .map(|(_, n)| Reply::Status(format!("@{n}")))
        .collect();
    let specs = c
        .keys
        .iter()
        .enumerate()
        .map(|(i, k)| key_spec_reply(k, c.key_note(i)))
        .collect();
    let subs = if c.subcommands.is_empty() {
        // Redis replies an empty set here, but an array when there are subcommands.
        Reply::Set(vec![])
    } else {
        Reply::Array(c.subcommands.iter().map(info_entry).collect())
    };
    Reply::Array(vec![
        Reply::bulk_str(c.name),
        Reply::Int(c.arity.into()),
        Reply::Set(names(c.all_flags(), NAMES)),
        Reply::Int(first.into()),
        Reply::Int(last.into()),
        Reply::Int(step.into()),
        Reply::Set(categories),
        Reply::Set(c.tips.iter().map(|t| Reply::bulk_str(t)).collect()),
        Reply::Set(specs),
        subs,
    ])
}

/// A command's `COMMAND DOCS` map: summary, since, group, complexity, and the subcommands' docs.
pub fn docs_entry(c: &CommandSpec) -> Reply {
    let mut m = Vec::with_capacity(5);
    if !c.docs.summary.is_empty() {
        m.push(pair("summary", Reply::bulk_str(c.docs.summary)));
    }
    m.push(pair("since", Reply::bulk_str(c.docs.since)));
    m.push(pair("group", Reply::bulk_str(c.group.name())));
    if !c.docs.complexity.is_empty() {
        m.push(pair("complexity", Reply::bulk_str(c.docs.complexity)));
    }
    if c.is_container() {
        let subs = c
            .subcommands
            .iter()
            .map(|s| (Reply::bulk_str(s.name), docs_entry(s)))
            .collect();
        m.push(pair("subcommands", Reply::Map(subs)));
    }
    Reply::Map(m)
}

/// `COMMAND` → the `COMMAND INFO` entry of every command.
fn command(_: &mut ExecCtx<'_>, _: &mut Args) -> Result<Reply, CmdError> {
    Ok(Reply::Array(all_commands().map(info_entry).collect()))
}

/// `COMMAND COUNT` → the number of (top-level) commands.
fn count(_: &mut ExecCtx<'_>, _: &mut Args) -> Result<Reply, CmdError> {
    Ok(Reply::Int(all_commands().count() as i64))
}

/// `COMMAND INFO [command-name ...]` → an entry per name (nil for unknown names; `x|y` names a
/// subcommand); every command's entry without names.
fn info(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    if args.is_empty() {
        return command(ctx, args);
    }
    Ok(Reply::Array(
        args.rest()
            .iter()
            .map(|n| lookup_fullname(n).map_or(Reply::Nil, info_entry))
            .collect(),
    ))
}

/// `COMMAND DOCS [command-name ...]` → a map from full name to docs; unknown names are left out.
fn docs_cmd(_: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let entry = |c: &CommandSpec| (Reply::bulk_str(c.name), docs_entry(c));
    if args.is_empty() {
        return Ok(Reply::Map(all_commands().map(entry).collect()));
    }
    Ok(Reply::Map(
        args.rest()
            .iter()
            .filter_map(|n| lookup_fullname(n))
            .map(entry)
            .collect(),
    ))
}

enum Filter {
    None,
    Module,
    AclCat(u64),
    Pattern(Bytes),
}

fn keep(c: &CommandSpec, f: &Filter) -> bool {
    match f {
        Filter::None => true,
        Filter::Module => false,
        Filter::AclCat(cat) => c.acl_categories() & cat != 0,
        Filter::Pattern(p) => glob::matches(p, c.name.as_bytes(), true),
    }
}

/// `COMMAND LIST [FILTERBY MODULE module-name | ACLCAT category | PATTERN pattern]` → the full names
/// of the commands and subcommands that pass the filter. An unknown category matches nothing.
fn list(_: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let mut filter = Filter::None;
    while let Some(opt) = args.next() {
        if !opt.eq_ignore_ascii_case(b"FILTERBY") || args.remaining() != 2 {
            return Err(CmdError::Syntax);
        }
        let kind = args.next_bytes()?;
        let arg = args.next_bytes()?;
        filter = if kind.eq_ignore_ascii_case(b"MODULE") {
            Filter::Module
        } else if kind.eq_ignore_ascii_case(b"ACLCAT") {
            let cat = acl::NAMES
                .iter()
                .find(|(_, n)| n.as_bytes().eq_ignore_ascii_case(arg))
                .map_or(0, |(b, _)| *b);
            Filter::AclCat(cat)
        } else if kind.eq_ignore_ascii_case(b"PATTERN") {
            Filter::Pattern(Bytes::copy_from_slice(arg))
        } else {
            return Err(CmdError::Syntax);
        };
    }
    let mut out = Vec::new();
    for c in all_commands() {
        for c in std::iter::once(c).chain(c.subcommands) {
            if keep(c, &filter) {
                out.push(Reply::bulk_str(c.name));
            }
        }
    }
    Ok(Reply::Array(out))
}

/// The keys (argv positions, flags) of the command in `argv`, with Redis's `COMMAND GETKEYS` errors.
fn keys_of(argv: &crate::protocol::Argv) -> Result<Vec<(usize, u32)>, CmdError> {
    let spec = lookup(&argv[0]).ok_or(CmdError::InvalidCommandSpecified)?;
    let spec = match argv.get(1) {
        Some(sub) if spec.is_container() => {
            lookup_sub(spec, sub).ok_or(CmdError::InvalidCommandSpecified)?
        }
        _ => spec,
    };
    if !spec.has_keys() {
        return Err(CmdError::NoKeyArguments);
    }
    if !spec.arity_ok(argv.len()) {
        return Err(CmdError::InvalidCommandArity);
    }
    let keys = spec.keys_and_flags(argv);
    if keys.is_empty() && !spec.has(NO_MANDATORY_KEYS) {
        return Err(CmdError::InvalidCommandArguments);
    }
    Ok(keys)
}

/// `COMMAND GETKEYS command [arg ...]` → the key names the command would touch.
fn getkeys(_: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let argv = crate::protocol::Argv::from_args(args.rest());
    let keys = keys_of(&argv)?;
    Ok(Reply::Array(
        keys.iter()
            .map(|&(i, _)| Reply::Bulk(argv.shared(i)))
            .collect(),
    ))
}

/// `COMMAND GETKEYSANDFLAGS command [arg ...]` → `[key, flags]` pairs, flags as a set of key-spec flags.
fn getkeysandflags(_: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let argv = crate::protocol::Argv::from_args(args.rest());
    let keys = keys_of(&argv)?;
    Ok(Reply::Array(
        keys.iter()
            .map(|&(i, f)| {
                Reply::Array(vec![
                    Reply::Bulk(argv.shared(i)),
                    Reply::Set(names(f, ks::NAMES)),
                ])
            })
            .collect(),
    ))
}

/// `COMMAND HELP` → the help lines.
fn help(_: &mut ExecCtx<'_>, _: &mut Args) -> Result<Reply, CmdError> {
    const LINES: &[&str] = &[
        "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "(no subcommand)",
        "    Return details about all Redis commands.",
        "COUNT",
        "    Return the total number of commands in this Redis server.",
        "LIST",
        "    Return a list of all commands in this Redis server.",
        "INFO [<command-name> ...]",
        "    Return details about multiple Redis commands.",
        "    If no command names are given, documentation details for all",
        "    commands are returned.",
        "DOCS [<command-name> ...]",
        "    Return documentation details about multiple Redis commands.",
        "    If no command names are given, documentation details for all",
        "    commands are returned.",
        "GETKEYS <full-command>",
        "    Return the keys from a full Redis command.",
        "GETKEYSANDFLAGS <full-command>",
        "    Return the keys and the access flags from a full Redis command.",
        "HELP",
        "    Prints this help.",
    ];
    Ok(Reply::help(LINES))
}
