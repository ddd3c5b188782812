//! Keyspace commands: DEL EXISTS EXPIRE TTL TYPE RENAME SCAN KEYS COPY MOVE OBJECT ... (Redis's "generic"
//! group).

use super::table::{acl, flags::*, ks, CommandSpec, Docs, Group, KeySpec};
use super::{Args, ExecCtx};
use crate::error::CmdError;
use crate::protocol::Reply;

const KS: u64 = acl::KEYSPACE;

const fn docs(summary: &'static str, since: &'static str, complexity: &'static str) -> Docs {
    Docs { summary, since, complexity }
}

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec { name: "del", group: Group::Generic, arity: -2, flags: WRITE, acl: KS, keys: &[KeySpec::range(1, -1, 1, ks::RM | ks::DELETE)], tips: &["request_policy:multi_shard", "response_policy:agg_sum"], docs: docs("Deletes one or more keys.", "1.0.0", "O(N) where N is the number of keys that will be removed. When a key to remove holds a value other than a string, the individual complexity for this key is O(M) where M is the number of elements in the list, set, sorted set or hash. Removing a single key that holds a string value is O(1)."), handler: del, ..CommandSpec::DEFAULT },
    CommandSpec { name: "exists", group: Group::Generic, arity: -2, flags: READONLY | FAST, acl: KS, keys: &[KeySpec::range(1, -1, 1, ks::RO)], tips: &["request_policy:multi_shard", "response_policy:agg_sum"], docs: docs("Determines whether one or more keys exist.", "1.0.0", "O(N) where N is the number of keys to check."), handler: exists, ..CommandSpec::DEFAULT },
    CommandSpec { name: "type", group: Group::Generic, arity: 2, flags: READONLY | FAST, acl: KS, keys: &[KeySpec::one(1, ks::RO)], docs: docs("Determines the type of value stored at a key.", "1.0.0", "O(1)"), handler: type_cmd, ..CommandSpec::DEFAULT },
];

/// `DEL key [key ...]` → the number of keys removed.
fn del(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let keys = args.rest();
    let mut db = ctx.db();
    Ok(Reply::Int(keys.iter().filter(|k| db.remove(k).is_some()).count() as i64))
}

/// `EXISTS key [key ...]` → how many of the keys exist (a key named twice counts twice).
fn exists(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let keys = args.rest();
    let mut db = ctx.db();
    Ok(Reply::Int(keys.iter().filter(|k| db.exists(k)).count() as i64))
}

/// `TYPE key` → `+string`, `+list`, ..., or `+none`.
fn type_cmd(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let mut db = ctx.db();
    Ok(Reply::Simple(db.peek(&key).map_or("none", |e| e.value.type_name())))
}
