//! Lua scripting (EVAL and friends): the script cache, shebang flags, and the Lua machinery.
//!
//! A script runs like EXEC's queue: its command is entitled to every shard (the world gate exclusive,
//! each shard locked when first touched and kept to the end; see [`crate::storage::db::Locks`]), so
//! it is atomic and may touch keys it did not declare in `KEYS` (as BullMQ's scripts do), and each
//! `redis.call` goes through [`crate::commands::resolve`], then
//! [`crate::commands::refuse_from_script`] and [`crate::commands::run_nested`]: the same lookup, arity
//! check and handler a client's request uses. Nothing here implements a command twice.
//!
//! * [`ScriptCache`]: bodies by SHA-1, shared by the server's clients (SCRIPT LOAD/EXISTS/FLUSH).
//! * [`engine`]: the Lua 5.1 states (one per thread), reply ↔ Lua conversions, running one script.
//! * [`cjson`], [`bit`], [`cmsgpack`], [`structlib`] (`struct`): the libraries Redis gives scripts, over Rust code.
//!
//! Known differences from Redis 7.2 (vanilla Lua 5.1 has no read-only tables):
//! * library tables (`redis`, `string`, `cjson`, ...) are read-only proxies, so `pairs(string)` is
//!   empty and `getmetatable` of them (and of strings) is `false`; `rawset(_G, ...)` is not refused.
//! * no debugger (SCRIPT DEBUG YES/SYNC); `{big_number=...}` replies are sent as bulk strings.
//! * a library's upvalues are per thread (see [`functions`]); a script past `busy-reply-threshold`
//!   moves its I/O thread's other clients to a new thread, which starts with fresh upvalues (see
//!   [`busy`]).
//! * replies nested deeper than 1000 levels end in `reached lua stack limit` (Redis: about 8000).
//! * `cjson`'s configuration functions answer the defaults and do not change them; `-0.0` encodes
//!   as `0` (mlua reads integral numbers as integers).

pub mod bit;
pub mod busy;
pub mod cjson;
pub mod cmsgpack;
pub mod engine;
pub mod functions;
pub mod structlib;

use std::collections::HashMap;

use bytes::Bytes;
use parking_lot::Mutex;

use crate::commands::ExecCtx;
use crate::error::CmdError;
use crate::protocol::Reply;

/// Script bodies by lower-case hex SHA-1.
#[derive(Default)]
pub struct ScriptCache {
    scripts: Mutex<HashMap<String, Bytes>>,
}

impl ScriptCache {
    pub fn get(&self, sha: &str) -> Option<Bytes> {
        self.scripts.lock().get(sha).cloned()
    }

    pub fn contains(&self, sha: &str) -> bool {
        self.scripts.lock().contains_key(sha)
    }

    pub fn insert(&self, sha: String, body: Bytes) {
        self.scripts.lock().insert(sha, body);
    }

    pub fn len(&self) -> usize {
        self.scripts.lock().len()
    }

    /// Bytes held by cached script bodies.
    pub fn memory(&self) -> usize {
        self.scripts.lock().values().map(|b| b.len() + 40).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Forgets every script, here and in every thread's compiled functions.
    pub fn flush(&self) {
        self.scripts.lock().clear();
        engine::flush_compiled();
    }
}

/// INFO memory's scripting lines, in Redis 7.0's order. One Lua state per I/O thread serves both
/// EVAL and functions, so `used_memory_vm_eval` is every state's memory and
/// `used_memory_vm_functions` the libraries' code and metadata (an approximation of Redis's split).
pub fn info_memory(server: &crate::server::Server) -> String {
    let vm = engine::lua_memory();
    let scripts_eval = server.scripts.memory();
    let (libraries, functions) = server.functions.counts();
    let funcs_mem = server.functions.memory() as u64;
    let human = crate::commands::server::human_bytes;
    format!(
        "used_memory_lua:{vm}\r\nused_memory_vm_eval:{vm}\r\nused_memory_lua_human:{}\r\nused_memory_scripts_eval:{scripts_eval}\r\nnumber_of_cached_scripts:{}\r\nnumber_of_functions:{functions}\r\nnumber_of_libraries:{libraries}\r\nused_memory_vm_functions:{funcs_mem}\r\nused_memory_vm_total:{}\r\nused_memory_vm_total_human:{}\r\nused_memory_functions:{funcs_mem}\r\nused_memory_scripts:{}\r\nused_memory_scripts_human:{}\r\n",
        human(vm),
        server.scripts.len(),
        vm + funcs_mem,
        human(vm + funcs_mem),
        scripts_eval as u64 + funcs_mem,
        human(scripts_eval as u64 + funcs_mem),
    )
}

/// Lower-case hex SHA-1 of `data`.
pub fn sha1_hex(data: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digest = sha1_smol::Sha1::from(data).digest().bytes();
    let mut s = String::with_capacity(40);
    for b in digest {
        s.push(char::from(HEX[usize::from(b >> 4)]));
        s.push(char::from(HEX[usize::from(b & 15)]));
    }
    s
}

thread_local! {
    /// The last script body EVAL hashed on this thread, and its SHA-1.
    static LAST_EVAL: std::cell::RefCell<(Bytes, String)> = std::cell::RefCell::default();
}

/// [`sha1_hex`] of an EVAL body. A client that sends the same script again and again (a rate
/// limiter, a lock release) gets its hash from the previous call: comparing the bytes costs far less
/// than hashing them.
pub fn sha1_of_script(body: &[u8]) -> String {
    LAST_EVAL.with(|last| {
        let mut last = last.borrow_mut();
        if last.0 != *body || last.1.is_empty() {
            // A copy: the request's bytes share the connection's read buffer, which must not be
            // kept alive by this memo.
            *last = (Bytes::copy_from_slice(body), sha1_hex(body));
        }
        last.1.clone()
    })
}

/// Flags a script declares in its `#!lua flags=...` line.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ScriptFlags {
    /// The script declared a shebang at all (scripts without one keep Redis 6's defaults).
    pub shebang: bool,
    pub no_writes: bool,
}

/// Parses a leading `#!<engine> [flags=a,b]` line as Redis 7's `evalExtractShebangFlags`, returning the
/// flags and the body to compile (the shebang line emptied, so line numbers stay as written).
pub fn shebang(body: &[u8]) -> Result<(ScriptFlags, std::borrow::Cow<'_, [u8]>), CmdError> {
    if !body.starts_with(b"#!") {
        return Ok((ScriptFlags::default(), body.into()));
    }
    let end = memchr::memchr(b'\n', body).unwrap_or(body.len());
    let line = String::from_utf8_lossy(&body[..end]).into_owned();
    let mut parts = line.split(' ').filter(|p| !p.is_empty());
    let engine = parts.next().unwrap_or("");
    if engine != "#!lua" {
        return Err(CmdError::ScriptShebangEngine(engine.to_string()));
    }
    let mut flags = ScriptFlags {
        shebang: true,
        ..ScriptFlags::default()
    };
    for part in parts {
        let Some(list) = part.strip_prefix("flags=") else {
            return Err(CmdError::ScriptShebangOption(part.to_string()));
        };
        for flag in list.split(',').filter(|f| !f.is_empty()) {
            match flag {
                "no-writes" => flags.no_writes = true,
                "allow-oom" | "allow-stale" | "no-cluster" | "allow-cross-slot-keys" => {}
                other => return Err(CmdError::ScriptShebangFlag(other.to_string())),
            }
        }
    }
    Ok((flags, body[end..].to_vec().into()))
}

/// Runs `body` (whose SHA-1 is `sha`) with `keys` and `args`, holding every shard for its duration.
/// `read_only` is EVAL_RO/EVALSHA_RO; a `no-writes` shebang flag makes any script read-only.
/// `request` is the caller's whole request (FUNCTION STATS shows it).
#[allow(clippy::too_many_arguments)]
pub fn run_script(
    ctx: &mut ExecCtx<'_>,
    sha: &str,
    body: &[u8],
    keys: &[&[u8]],
    args: &[&[u8]],
    read_only: bool,
    request: &crate::protocol::Argv,
) -> Result<Reply, CmdError> {
    let (flags, source) = shebang(body)?;
    let read_only = read_only || flags.no_writes;
    with_script_env(ctx, |ctx| {
        let server = ctx.server;
        let guard = server
            .script_run
            .begin(true, sha.to_string(), request.clone());
        engine::run(
            ctx,
            sha,
            &source,
            keys,
            args,
            read_only,
            guard.running.clone(),
        )
    })
}

/// Runs function `name` (FCALL/FCALL_RO) as [`run_script`] runs a script.
pub fn run_function(
    ctx: &mut ExecCtx<'_>,
    found: &functions::Found,
    keys: &[&[u8]],
    args: &[&[u8]],
    read_only: bool,
    request: &crate::protocol::Argv,
) -> Result<Reply, CmdError> {
    let info = found.info();
    if read_only && info.flags & functions::NO_WRITES == 0 {
        return Err(CmdError::FunctionWriteFlagRo);
    }
    let read_only = read_only || info.flags & functions::NO_WRITES != 0;
    let name = info.name.clone();
    with_script_env(ctx, |ctx| {
        let server = ctx.server;
        let guard = server
            .script_run
            .begin(false, name.clone(), request.clone());
        engine::call_function(
            ctx,
            &found.library,
            &name,
            keys,
            args,
            read_only,
            guard.running.clone(),
        )
    })
}

/// The client marked as inside a script and its database restored afterwards. The locks entitle it
/// to every shard already: dispatch's (EVAL and FCALL are `ALL_SHARDS`) or the EXEC's around them.
fn with_script_env(
    ctx: &mut ExecCtx<'_>,
    f: impl FnOnce(&mut ExecCtx<'_>) -> Result<Reply, CmdError>,
) -> Result<Reply, CmdError> {
    debug_assert!(
        ctx.locks.holds_all(),
        "a script runs without the right to every shard"
    );
    let db = ctx.client.db;
    let in_exec = std::mem::replace(&mut ctx.client.in_exec, true);
    let r = f(ctx);
    ctx.client.in_exec = in_exec;
    // SELECT inside a script does not change the caller's database (Redis 7).
    ctx.client.db = db;
    r
}

/// Compiles `body` (after its shebang line) to check it, as SCRIPT LOAD and a new EVAL do.
pub fn check_compiles(sha: &str, body: &[u8]) -> Result<(), CmdError> {
    let (_, source) = shebang(body)?;
    engine::compile(sha, &source)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha1() {
        assert_eq!(sha1_hex(b""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
        assert_eq!(
            sha1_hex(b"return 1"),
            "e0e1f9fabfc9d4800c877a703b823ac0578ff8db"
        );
    }

    #[test]
    fn shebangs() {
        let (f, body) = shebang(b"#!lua flags=no-writes\nreturn 1").unwrap_or_default_test();
        assert!(f.shebang && f.no_writes);
        assert_eq!(&body[..], b"\nreturn 1");
        assert_eq!(
            shebang(b"#!foo\nreturn 1").err(),
            Some(CmdError::ScriptShebangEngine("#!foo".into()))
        );
        assert_eq!(
            shebang(b"#!lua x=1\n").err(),
            Some(CmdError::ScriptShebangOption("x=1".into()))
        );
        assert_eq!(
            shebang(b"#!lua flags=bad\n").err(),
            Some(CmdError::ScriptShebangFlag("bad".into()))
        );
        let (f, body) = shebang(b"return 1").unwrap_or_default_test();
        assert!(!f.shebang);
        assert_eq!(&body[..], b"return 1");
    }

    trait OrDefault<'a> {
        fn unwrap_or_default_test(self) -> (ScriptFlags, std::borrow::Cow<'a, [u8]>);
    }

    impl<'a> OrDefault<'a> for Result<(ScriptFlags, std::borrow::Cow<'a, [u8]>), CmdError> {
        fn unwrap_or_default_test(self) -> (ScriptFlags, std::borrow::Cow<'a, [u8]>) {
            match self {
                Ok(v) => v,
                Err(e) => panic!("{e}"),
            }
        }
    }
}
