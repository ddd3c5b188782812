//! The Lua engine: one Lua 5.1 state per thread, the conversions between replies and Lua values, and the
//! run of one script with `redis.call` bound to the calling command's [`ExecCtx`].
//!
//! Why one state per thread: a script runs synchronously inside its command's handler, holding every
//! shard lock, so it never migrates between threads and never meets another script on its thread. A
//! thread-local state needs no lock and no `Send` (which `mlua` could only give with a mutex around a
//! state whose callbacks borrow a non-`Send` context). Script bodies live in the server's
//! [`super::ScriptCache`]; each thread compiles a body once and keeps the function by SHA-1, which
//! names its body, so sharing compiled functions between servers of one process is harmless.
//! `SCRIPT FLUSH` bumps a process-wide epoch and every thread drops its compiled functions on its next
//! script.
//!
//! `redis.call` is a Rust function bound once per state; while a script runs, a thread-local pointer
//! (see [`Bound`]) gives it the command's `ExecCtx`.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use mlua::{
    Function, HookTriggers, IntoLuaMulti, LightUserData, Lua, LuaOptions, StdLib, Table, Value,
    Variadic, VmState,
};

use crate::commands::{self, flags, ExecCtx};
use crate::error::CmdError;
use crate::protocol::{format_double, Reply};
use crate::scripting::busy::{Running, HOOK_INSTRUCTIONS};
use crate::scripting::functions::{self as funcs, FunctionInfo};

/// Bumped by `SCRIPT FLUSH`: threads drop their compiled functions when it changes.
static FLUSH_EPOCH: AtomicU64 = AtomicU64::new(0);

/// Bytes used by every thread's Lua state (INFO's `used_memory_lua`), updated after each use.
static LUA_MEMORY: AtomicU64 = AtomicU64::new(0);

/// Bytes used by all Lua states, as last reported by their threads.
pub fn lua_memory() -> u64 {
    LUA_MEMORY.load(Ordering::Relaxed)
}

/// Tables deeper than this are not converted (Redis stops at its Lua stack limit).
const MAX_DEPTH: usize = 1000;

struct Engine {
    lua: Lua,
    /// The state's globals table, kept rather than fetched from the registry on every run.
    globals: Table,
    /// The names `KEYS` and `ARGV`, interned once (set and cleared on every run).
    keys_name: mlua::String,
    argv_name: mlua::String,
    run: Function,
    funcs: HashMap<String, Function>,
    epoch: u64,
    /// `run_fn(f, keys, args)`: a function's callback under the error handler.
    run_fn: Function,
    /// The environment of every library's code and callbacks.
    fenv: Table,
    /// The load-time `redis` table (`register_function` is set in it during a load).
    load_redis: Table,
    /// `function_mode(loading)`: switches `fenv`'s reads between the load-time API and the globals.
    function_mode: Function,
    /// Compiled libraries by load id: function name → callback.
    libs: HashMap<u64, HashMap<String, Function>>,
    /// The registry generation `libs` was last pruned at.
    libs_generation: u64,
}

impl Drop for Engine {
    /// A thread's state goes away with its thread (an I/O worker that moved away during a busy script
    /// leaves its old thread, which ends later): its share of [`LUA_MEMORY`] goes with it.
    fn drop(&mut self) {
        let reported = REPORTED_MEMORY.try_with(|m| m.replace(0)).unwrap_or(0);
        let _ = LUA_MEMORY.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |v| {
            Some(v.saturating_sub(reported))
        });
    }
}

thread_local! {
    static ENGINE: RefCell<Option<Engine>> = const { RefCell::new(None) };
    /// Set when the hook raised the kill error: the prelude's `pcall` re-raises it.
    static KILLED: Cell<bool> = const { Cell::new(false) };
    /// This thread's share of [`LUA_MEMORY`].
    static REPORTED_MEMORY: Cell<u64> = const { Cell::new(0) };
}

/// The error a killed script ends with (SCRIPT KILL, FUNCTION KILL, SHUTDOWN NOSAVE).
const KILLED_TEXT: &str = "ERR Script killed by user with SCRIPT KILL...";
/// How long a library's top-level code may run (Redis's `LOAD_TIMEOUT_MS`).
const LOAD_TIMEOUT_MS: u128 = 500;

/// Drops every thread's compiled scripts (lazily, on each thread's next use).
pub fn flush_compiled() {
    FLUSH_EPOCH.fetch_add(1, Ordering::Relaxed);
}

fn with_engine<R>(f: impl FnOnce(&mut Engine) -> Result<R, CmdError>) -> Result<R, CmdError> {
    ENGINE.with(|cell| {
        let mut slot = cell
            .try_borrow_mut()
            .map_err(|_| CmdError::Script("ERR Lua engine busy".into()))?;
        if slot.is_none() {
            *slot = Some(new_engine().map_err(|e| {
                CmdError::Script(format!("ERR Error initializing the Lua engine: {e}"))
            })?);
        }
        let engine = slot
            .as_mut()
            .ok_or_else(|| CmdError::Script("ERR Lua engine unavailable".into()))?;
        let epoch = FLUSH_EPOCH.load(Ordering::Relaxed);
        if engine.epoch != epoch {
            engine.funcs.clear();
            engine.epoch = epoch;
            engine.lua.gc_collect().ok();
        }
        let r = f(engine);
        let now = engine.lua.used_memory() as u64;
        let before = REPORTED_MEMORY.with(|m| m.replace(now));
        if now >= before {
            LUA_MEMORY.fetch_add(now - before, Ordering::Relaxed);
        } else {
            LUA_MEMORY.fetch_sub(before - now, Ordering::Relaxed);
        }
        r
    })
}

fn new_engine() -> mlua::Result<Engine> {
    // SAFETY: the debug library is needed only by the prelude's error handler, which keeps it in an
    // upvalue; the prelude removes it from the globals before any script runs.
    let lua = unsafe {
        Lua::unsafe_new_with(
            StdLib::TABLE | StdLib::STRING | StdLib::MATH | StdLib::DEBUG,
            LuaOptions::new(),
        )
    };
    let globals = lua.globals();
    globals.raw_set("cjson", super::cjson::open(&lua)?)?;
    globals.raw_set("bit", super::bit::open(&lua)?)?;
    globals.raw_set("cmsgpack", super::cmsgpack::open(&lua)?)?;
    globals.raw_set("struct", super::structlib::open(&lua)?)?;
    let bridge = lua.create_table()?;
    let helpers = helpers(&lua)?;
    let api: Table = lua
        .load(include_str!("prelude.lua"))
        .set_name("=ferrite")
        .call((bridge.clone(), helpers))?;
    bind_run_api(&lua, &api)?;
    // `run`: xpcall with Redis's error handler.
    let run: Function = bridge.raw_get("run")?;
    Ok(Engine {
        globals: lua.globals(),
        keys_name: lua.create_string("KEYS")?,
        argv_name: lua.create_string("ARGV")?,
        run,
        funcs: HashMap::new(),
        epoch: FLUSH_EPOCH.load(Ordering::Relaxed),
        run_fn: bridge.raw_get("run_fn")?,
        fenv: bridge.raw_get("fenv")?,
        load_redis: bridge.raw_get("load_redis")?,
        function_mode: bridge.raw_get("function_mode")?,
        libs: HashMap::new(),
        libs_generation: 0,
        lua,
    })
}

/// Rust helpers the prelude's `redis` functions call once they have checked their arguments.
fn helpers(lua: &Lua) -> mlua::Result<Table> {
    let h = lua.create_table()?;
    h.raw_set("version", crate::server::REDIS_VERSION)?;
    h.raw_set(
        "killed",
        lua.create_function(|_, ()| Ok(KILLED.with(|k| k.get())))?,
    )?;
    h.raw_set("version_num", version_num(crate::server::REDIS_VERSION))?;
    h.raw_set(
        "sha1hex",
        lua.create_function(|lua, args: Variadic<Value>| {
            if args.len() != 1 {
                return Err(raise("ERR wrong number of arguments"));
            }
            let bytes = lua_tolstring(&args[0]).unwrap_or_default();
            lua.create_string(super::sha1_hex(&bytes))
        })?,
    )?;
    h.raw_set(
        "error_text",
        lua.create_function(|_, s: mlua::String| {
            let b = s.as_bytes();
            let b: &[u8] = b.strip_prefix(b"-").unwrap_or(&b);
            Ok(error_text(&String::from_utf8_lossy(b)))
        })?,
    )?;
    h.raw_set(
        "log",
        lua.create_function(|_, args: Variadic<Value>| {
            if args.len() < 2 {
                return Err(raise("ERR redis.log() requires two arguments or more."));
            }
            let Some(level) = lua_tonumber(&args[0]) else {
                return Err(raise("ERR First argument must be a number (log level)."));
            };
            let level = c_int(level);
            if !(0..=3).contains(&level) {
                return Err(raise("ERR Invalid debug level."));
            }
            let mut text = Vec::new();
            for (i, v) in args.iter().enumerate().skip(1) {
                if let Some(b) = lua_tolstring(v) {
                    if i != 1 {
                        text.push(b' ');
                    }
                    text.extend_from_slice(&b);
                }
            }
            let text = String::from_utf8_lossy(&text);
            match level {
                0 => tracing::debug!(target: "script", "{text}"),
                1 => tracing::trace!(target: "script", "{text}"),
                2 => tracing::info!(target: "script", "{text}"),
                _ => tracing::warn!(target: "script", "{text}"),
            }
            Ok(())
        })?,
    )?;
    h.raw_set(
        "set_repl",
        lua.create_function(|_, args: Variadic<Value>| {
            if args.len() != 1 {
                return Err(raise("ERR redis.set_repl() requires two arguments."));
            }
            let flags = c_int(lua_tonumber(&args[0]).unwrap_or(0.0));
            if flags & !3 != 0 {
                return Err(raise("ERR Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE."));
            }
            Ok(())
        })?,
    )?;
    h.raw_set(
        "acl_check_cmd",
        lua.create_function(|_, args: Variadic<Value>| {
            if args.is_empty() {
                return Err(raise(
                    "ERR Please specify at least one argument for this redis lib call",
                ));
            }
            let Some(argv) = lua_argv(&args) else {
                return Err(raise(
                    "ERR Lua redis lib command arguments must be strings or integers",
                ));
            };
            // No ACL users yet: every existing command is permitted.
            if commands::resolve(&argv).is_err() {
                return Err(raise("ERR Invalid command passed to redis.acl_check_cmd()"));
            }
            Ok(true)
        })?,
    )?;
    // Redis's Lua parses every chunk as text. A leading space keeps line numbers and makes a binary
    // chunk fail to parse exactly as it does there ("unexpected symbol near 'char(27)'").
    let lua_loadstring: Function = lua.globals().raw_get("loadstring")?;
    let text_loader = lua_loadstring.clone();
    h.raw_set(
        "loadstring",
        lua.create_function(move |lua, args: Variadic<Value>| {
            let Some(chunk) = args.first().and_then(lua_tolstring) else {
                let got = args.first().map_or("no value", |v| v.type_name());
                return Err(mlua::Error::RuntimeError(format!(
                    "bad argument #1 to 'loadstring' (string expected, got {got})"
                )));
            };
            let name = match args.get(1) {
                None | Some(Value::Nil) => lua.create_string(&chunk)?,
                Some(v) => lua.create_string(lua_tolstring(v).unwrap_or_default())?,
            };
            let mut text = Vec::with_capacity(chunk.len() + 1);
            text.push(b' ');
            text.extend_from_slice(&chunk);
            text_loader.call::<mlua::MultiValue>((lua.create_string(&text)?, name))
        })?,
    )?;
    h.raw_set(
        "load",
        lua.create_function(move |lua, args: Variadic<Value>| {
            let Some(Value::Function(reader)) = args.first() else {
                let got = args.first().map_or("no value", |v| v.type_name());
                return Err(mlua::Error::RuntimeError(format!(
                    "bad argument #1 to 'load' (function expected, got {got})"
                )));
            };
            let mut text = vec![b' '];
            loop {
                match reader.call::<Value>(())? {
                    Value::Nil => break,
                    Value::String(s) if s.as_bytes().is_empty() => break,
                    Value::String(s) => text.extend_from_slice(&s.as_bytes()),
                    _ => {
                        return (Value::Nil, "reader function must return a string")
                            .into_lua_multi(lua)
                    }
                }
            }
            let name = match args.get(1) {
                None | Some(Value::Nil) => "=(load)".to_string(),
                Some(v) => {
                    String::from_utf8_lossy(&lua_tolstring(v).unwrap_or_default()).into_owned()
                }
            };
            lua_loadstring.call::<mlua::MultiValue>((lua.create_string(&text)?, name))
        })?,
    )?;
    h.raw_set(
        "error_message",
        lua.create_function(|_, v: Value| {
            let Value::Error(e) = v else {
                return Ok((None, false, false));
            };
            let mut e: &mlua::Error = &e;
            loop {
                match e {
                    mlua::Error::CallbackError { cause, .. } => e = cause,
                    mlua::Error::ExternalError(x) => {
                        return Ok(match x.downcast_ref::<Raised>() {
                            Some(r) => (Some(r.text.clone()), true, r.counted),
                            None => (Some(x.to_string()), false, false),
                        })
                    }
                    mlua::Error::RuntimeError(m) => return Ok((Some(m.clone()), false, false)),
                    other => return Ok((Some(other.to_string()), false, false)),
                }
            }
        })?,
    )?;
    Ok(h)
}

/// `7.2.4` → `0x070204`, as `REDIS_VERSION_NUM`.
fn version_num(v: &str) -> i64 {
    v.split('.')
        .take(3)
        .fold(0, |acc, p| (acc << 8) | p.parse::<i64>().unwrap_or(0))
}

/// An error raised as Redis raises `{err = ...}` tables: the prelude's error handler and `pcall` turn
/// it back into the table (or its message).
/// `counted`: the error statistics counted it already (see [`CallError`]).
#[derive(Debug)]
struct Raised {
    text: String,
    counted: bool,
}

impl Raised {
    fn new(text: impl Into<String>) -> Self {
        Raised {
            text: text.into(),
            counted: false,
        }
    }
}

impl std::fmt::Display for Raised {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::error::Error for Raised {}

/// Raises `{err = text}` (shaped as [`error_text`]) from a Rust function called by a script.
fn raise(text: &str) -> mlua::Error {
    mlua::Error::external(Raised::new(error_text(text)))
}

/// Lua's `lua_tonumber`: numbers, and strings that read as numbers.
fn lua_tonumber(v: &Value) -> Option<f64> {
    match v {
        Value::Integer(i) => Some(*i as f64),
        Value::Number(n) => Some(*n),
        Value::String(s) => {
            let b = s.as_bytes();
            let t = std::str::from_utf8(&b).ok()?.trim();
            match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
                Some(hex) => u64::from_str_radix(hex, 16).ok().map(|n| n as f64),
                None => t.parse().ok(),
            }
        }
        _ => None,
    }
}

/// C's `(int)` cast of a double, saturating.
fn c_int(n: f64) -> i64 {
    if n.is_nan() {
        0
    } else {
        n.clamp(i32::MIN as f64, i32::MAX as f64) as i64
    }
}

/// Lua's `lua_tolstring`: strings, and numbers in Lua's own `%.14g`.
fn lua_tolstring(v: &Value) -> Option<Vec<u8>> {
    match v {
        Value::String(s) => Some(s.as_bytes().to_vec()),
        Value::Integer(i) => Some(fmt_g(*i as f64, 14).into_bytes()),
        Value::Number(n) => Some(fmt_g(*n, 14).into_bytes()),
        _ => None,
    }
}

/// Lua values as a command's arguments: strings as they are, numbers as C's `%.17g` (Redis does not
/// use Lua's own number format, which loses precision); anything else is refused (`None`).
fn lua_argv(args: &[Value]) -> Option<crate::protocol::Argv> {
    let bytes = args
        .iter()
        .map(|v| match v {
            Value::String(s) => s.as_bytes().len(),
            _ => 24,
        })
        .sum();
    let mut argv = crate::protocol::ArgvBuilder::with_capacity(args.len(), bytes);
    for v in args {
        match v {
            Value::String(s) => argv.push(&s.as_bytes()),
            Value::Integer(i) => argv.push(fmt_g(*i as f64, 17).as_bytes()),
            Value::Number(n) => argv.push(fmt_g(*n, 17).as_bytes()),
            _ => return None,
        }
    }
    Some(argv.finish())
}

/// C's `printf("%.<prec>g", v)`.
pub fn fmt_g(v: f64, prec: usize) -> String {
    if v.is_nan() {
        return if v.is_sign_negative() { "-nan" } else { "nan" }.into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "inf" } else { "-inf" }.into();
    }
    if v == 0.0 {
        return if v.is_sign_negative() { "-0" } else { "0" }.into();
    }
    let p = prec.max(1);
    let sci = format!("{:.*e}", p - 1, v);
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if exp < -4 || exp >= p as i32 {
        let mant = strip_zeros(mant);
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mant}e{sign}{:02}", exp.unsigned_abs())
    } else {
        let decimals = (p as i32 - 1 - exp).max(0) as usize;
        strip_zeros(&format!("{v:.decimals$}")).to_string()
    }
}

fn strip_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

/// An error's text as Redis's `luaPushErrorBuff` shapes it: `CODE message`, `ERR` when the text has
/// no code, without trailing CR/LF.
fn error_text(text: &str) -> String {
    let (code, msg) = match text.split_once(' ') {
        Some((code, msg)) => (code, msg),
        None => ("ERR", text),
    };
    format!("{code} {}", msg.trim_matches(|c| c == '\r' || c == '\n'))
}

/// `{err = text}`, marked as counted in the error statistics if `counted` (see [`ResultErrors`]).
fn err_table(lua: &Lua, text: &str, counted: bool) -> mlua::Result<Value> {
    let t = lua.create_table()?;
    t.raw_set("err", error_text(text))?;
    if counted {
        t.raw_set(COUNTED_FIELD, true)?;
    }
    Ok(Value::Table(t))
}

/// A command's reply as a Lua value, as Redis's `redisProtocolToLuaType` (RESP2 or RESP3, as the
/// script chose with `redis.setresp`).
fn reply_to_lua(lua: &Lua, reply: Reply, resp3: bool) -> mlua::Result<Value> {
    let single = |k: &str, v: Value| -> mlua::Result<Value> {
        let t = lua.create_table()?;
        t.raw_set(k, v)?;
        Ok(Value::Table(t))
    };
    let array = |items: Vec<Reply>| -> mlua::Result<Value> {
        let t = lua.create_table_with_capacity(items.len(), 0)?;
        for (i, r) in items.into_iter().enumerate() {
            t.raw_set(i + 1, reply_to_lua(lua, r, resp3)?)?;
        }
        Ok(Value::Table(t))
    };
    Ok(match reply {
        Reply::Ok => single("ok", Value::String(lua.create_string("OK")?))?,
        Reply::Simple(s) => single("ok", Value::String(lua.create_string(s)?))?,
        Reply::Status(s) => single("ok", Value::String(lua.create_string(s)?))?,
        // The command's error was counted when it was replied (as Redis's call() counts it).
        Reply::Error(e) => err_table(lua, &e, true)?,
        Reply::Int(i) => Value::Number(i as f64),
        Reply::Bulk(b) => Value::String(lua.create_string(&b[..])?),
        Reply::SmallBulk(b) => Value::String(lua.create_string(&b[..])?),
        Reply::Nil | Reply::NilArray | Reply::NoReply => {
            if resp3 {
                Value::Nil
            } else {
                Value::Boolean(false)
            }
        }
        Reply::Array(items) | Reply::Push(items) | Reply::Multi(items) => array(items)?,
        Reply::Set(items) if resp3 => {
            let set = lua.create_table()?;
            for r in items {
                set.raw_set(reply_to_lua(lua, r, resp3)?, true)?;
            }
            single("set", Value::Table(set))?
        }
        Reply::Set(items) => array(items)?,
        Reply::Map(pairs) if resp3 => {
            let map = lua.create_table()?;
            for (k, v) in pairs {
                map.raw_set(reply_to_lua(lua, k, resp3)?, reply_to_lua(lua, v, resp3)?)?;
            }
            single("map", Value::Table(map))?
        }
        Reply::Map(pairs) => array(pairs.into_iter().flat_map(|(k, v)| [k, v]).collect())?,
        Reply::Pairs(pairs) if resp3 => array(
            pairs
                .into_iter()
                .map(|(k, v)| Reply::Array(vec![k, v]))
                .collect(),
        )?,
        Reply::Pairs(pairs) => array(pairs.into_iter().flat_map(|(k, v)| [k, v]).collect())?,
        Reply::Double(d) if resp3 => single("double", Value::Number(d))?,
        Reply::Double(d) => Value::String(lua.create_string(format_double(d))?),
        Reply::Bool(b) if resp3 => Value::Boolean(b),
        Reply::Bool(b) => Value::Number(if b { 1.0 } else { 0.0 }),
        Reply::Verbatim(fmt, body) if resp3 => {
            let v = lua.create_table()?;
            v.raw_set("format", fmt)?;
            v.raw_set("string", lua.create_string(&body[..])?)?;
            single("verbatim_string", Value::Table(v))?
        }
        Reply::Verbatim(_, body) => Value::String(lua.create_string(&body[..])?),
        Reply::BigNumber(n) if resp3 => single("big_number", Value::String(lua.create_string(n)?))?,
        Reply::BigNumber(n) => Value::String(lua.create_string(n)?),
        Reply::Attribute(_, reply) => reply_to_lua(lua, *reply, resp3)?,
    })
}

/// A compile error as Redis prints it: the parser's message alone, on one line.
fn compile_error(e: &mlua::Error) -> String {
    let msg = match e {
        mlua::Error::SyntaxError { message, .. } => message.clone(),
        other => other.to_string(),
    };
    one_line(msg.as_bytes())
}

/// Replaces CR and LF with spaces, as Redis does for status and error lines built from script values.
fn one_line(b: &[u8]) -> String {
    String::from_utf8_lossy(b).replace(['\r', '\n'], " ")
}

/// The error replies in a script's result, for the error statistics: Redis counts each one as it
/// adds it to the reply, except those that `redis.call`/`redis.pcall` counted already (their tables
/// carry `ignore_error_stats_update`); the script's command counts as failed if there is any.
#[derive(Default)]
struct ResultErrors {
    /// Texts of the errors to count now.
    uncounted: Vec<String>,
    any: bool,
}

impl ResultErrors {
    fn add(&mut self, text: &str, counted: bool) {
        self.any = true;
        if !counted {
            self.uncounted.push(text.to_string());
        }
    }
}

/// The field Redis sets on an error table whose error was counted already (visible to scripts).
const COUNTED_FIELD: &str = "ignore_error_stats_update";

fn is_counted(t: &Table) -> bool {
    matches!(t.raw_get::<Value>(COUNTED_FIELD), Ok(Value::Boolean(true)))
}

/// A script's return value as a reply, as Redis's `luaReplyToRedisReply`.
fn lua_to_reply(v: &Value, resp3: bool, depth: usize, errs: &mut ResultErrors) -> Reply {
    match v {
        Value::String(s) => Reply::bulk_copy(&s.as_bytes()),
        Value::Boolean(true) if !resp3 => Reply::Int(1),
        Value::Boolean(false) if !resp3 => Reply::Nil,
        Value::Boolean(b) => Reply::Bool(*b),
        Value::Integer(i) => Reply::Int(*i),
        Value::Number(n) => Reply::Int(lua_number_to_i64(*n)),
        Value::Table(t) if depth < MAX_DEPTH => table_to_reply(t, resp3, depth, errs),
        Value::Table(_) => {
            let text = "ERR reached lua stack limit";
            errs.add(text, false);
            Reply::Error(text.into())
        }
        _ => Reply::Nil,
    }
}

/// -2^63 and 2^63 as doubles: the range where a double converts to i64.
pub const I64_LOW: f64 = -9_223_372_036_854_775_808.0;
pub const I64_HIGH: f64 = 9_223_372_036_854_775_808.0;

/// C's `(long long)` cast of a double, without its undefined behaviour: truncation toward zero,
/// saturating (x86 gives i64::MIN for anything out of range, NaN included).
fn lua_number_to_i64(n: f64) -> i64 {
    if !(I64_LOW..I64_HIGH).contains(&n) {
        i64::MIN
    } else {
        n as i64
    }
}

fn table_to_reply(t: &Table, resp3: bool, depth: usize, errs: &mut ResultErrors) -> Reply {
    let get = |k: &str| t.raw_get::<Value>(k).unwrap_or(Value::Nil);
    if let Value::String(e) = get("err") {
        let text = one_line(&e.as_bytes());
        errs.add(&text, is_counted(t));
        return Reply::Error(text);
    }
    if let Value::String(s) = get("ok") {
        return Reply::Status(one_line(&s.as_bytes()));
    }
    if let v @ (Value::Number(_) | Value::Integer(_)) = get("double") {
        return Reply::Double(lua_tonumber(&v).unwrap_or(0.0));
    }
    if let Value::String(s) = get("big_number") {
        // No big-number reply type yet: RESP2 sends it as a bulk string, as Redis does.
        return Reply::bulk_copy(one_line(&s.as_bytes()).as_bytes());
    }
    if let Value::Table(v) = get("verbatim_string") {
        if let (Ok(Value::String(_)), Ok(Value::String(s))) =
            (v.raw_get::<Value>("format"), v.raw_get::<Value>("string"))
        {
            let format = match v.raw_get::<Value>("format") {
                Ok(Value::String(f)) if &*f.as_bytes() == b"mkd" => "mkd",
                _ => "txt",
            };
            return Reply::Verbatim(format, Bytes::copy_from_slice(&s.as_bytes()));
        }
    }
    if let Value::Table(m) = get("map") {
        let pairs = m
            .pairs::<Value, Value>()
            .filter_map(Result::ok)
            .map(|(k, v)| {
                (
                    lua_to_reply(&k, resp3, depth + 1, errs),
                    lua_to_reply(&v, resp3, depth + 1, errs),
                )
            })
            .collect();
        return Reply::Map(pairs);
    }
    if let Value::Table(s) = get("set") {
        let items = s
            .pairs::<Value, Value>()
            .filter_map(Result::ok)
            .map(|(k, _)| lua_to_reply(&k, resp3, depth + 1, errs))
            .collect();
        return Reply::Set(items);
    }
    let mut items = Vec::new();
    for i in 1.. {
        match t.raw_get::<Value>(i) {
            Ok(Value::Nil) | Err(_) => break,
            Ok(v) => items.push(lua_to_reply(&v, resp3, depth + 1, errs)),
        }
    }
    Reply::Array(items)
}

/// What a running script's callbacks share: the command's context and the script's settings.
struct RunState<'c, 'a> {
    ctx: &'c mut ExecCtx<'a>,
    resp3: bool,
    read_only: bool,
    running: Arc<Running>,
}

fn borrow<'s, 'c, 'a>(
    state: &'s RefCell<RunState<'c, 'a>>,
) -> mlua::Result<std::cell::RefMut<'s, RunState<'c, 'a>>> {
    state
        .try_borrow_mut()
        .map_err(|_| mlua::Error::RecursiveMutCallback)
}

/// Why `redis.call`/`redis.pcall` failed: the error's text (`CODE message`), and whether it was
/// counted in the error statistics already (then its table says so, and a script that returns or
/// raises it does not count it again).
struct CallError {
    text: String,
    counted: bool,
}

/// `redis.call`/`redis.pcall`: the reply as a Lua value, or why it failed.
///
/// As Redis's `scriptCall`: a request refused before it runs (unknown command, wrong arity, or
/// [`commands::refuse_from_script`]) counts its error and, when the command is known, a rejected
/// call of it; a command that runs and fails counts as any failed command.
/// Arguments that are not strings or numbers are the script's own error, counted if the script
/// fails with it.
fn redis_call(
    lua: &Lua,
    st: &mut RunState<'_, '_>,
    args: &[Value],
) -> mlua::Result<Result<Value, CallError>> {
    let own = |text: &str| -> mlua::Result<Result<Value, CallError>> {
        Ok(Err(CallError {
            text: error_text(text),
            counted: false,
        }))
    };
    if args.is_empty() {
        return own("ERR Please specify at least one argument for this redis lib call");
    }
    let Some(argv) = lua_argv(args) else {
        return own("ERR Lua redis lib command arguments must be strings or integers");
    };
    let stats = &st.ctx.server.command_stats;
    let rejected = |spec: Option<&'static crate::commands::CommandSpec>, text: &str| {
        let text = error_text(text);
        stats.record_error(&text);
        if let Some(spec) = spec {
            stats.record_rejected(spec);
        }
        Ok(Err(CallError {
            text,
            counted: true,
        }))
    };
    let (spec, start) = match commands::resolve(&argv) {
        Ok(resolved) => resolved,
        Err(CmdError::WrongArity(_)) => {
            return rejected(
                commands::resolve_name(&argv),
                "ERR Wrong number of args calling Redis command from script",
            )
        }
        Err(_) => return rejected(None, "ERR Unknown Redis command called from script"),
    };
    if let Some(e) = commands::refuse_from_script(st.ctx, spec, st.read_only) {
        return rejected(Some(spec), &e.to_string());
    }
    // Only a write that was allowed makes the script unkillable (a refused one did not write).
    if spec.has(flags::WRITE) {
        st.running.mark_write();
    }
    match commands::run_nested(st.ctx, spec, start, &argv) {
        Ok(reply) => Ok(Ok(reply_to_lua(lua, reply, st.resp3)?)),
        Err(e) => {
            // Counted as a failed call by `run_nested`; its error is counted here.
            let text = e.to_string();
            st.ctx.server.command_stats.record_error(&text);
            Ok(Err(CallError {
                text: error_text(&text),
                counted: true,
            }))
        }
    }
}

/// Script or library source as Lua must see it: Redis's Lua always parses text, so a body that starts
/// like a precompiled chunk (ESC) gets a leading space, which keeps line numbers and makes the binary
/// chunk fail to parse as it does there.
fn as_text(body: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    if body.first() == Some(&0x1b) {
        let mut v = Vec::with_capacity(body.len() + 1);
        v.push(b' ');
        v.extend_from_slice(body);
        v.into()
    } else {
        body.into()
    }
}

/// Compiles `body` (unless this thread has it already) under the name Redis gives it.
fn compiled(engine: &mut Engine, sha: &str, body: &[u8]) -> Result<Function, CmdError> {
    if let Some(f) = engine.funcs.get(sha) {
        return Ok(f.clone());
    }
    let source = as_text(body);
    let f = engine
        .lua
        .load(&source[..])
        .set_name("@user_script")
        .into_function()
        .map_err(|e| {
            CmdError::Script(format!(
                "ERR Error compiling script (new function): {}",
                compile_error(&e)
            ))
        })?;
    engine.funcs.insert(sha.to_string(), f.clone());
    Ok(f)
}

/// Checks that `body` compiles (SCRIPT LOAD, EVAL of a new script) and keeps it compiled.
pub fn compile(sha: &str, body: &[u8]) -> Result<(), CmdError> {
    with_engine(|engine| compiled(engine, sha, body).map(|_| ()))
}

/// Runs a script: `KEYS` and `ARGV` set, `redis.call` bound to `ctx`. The caller holds every shard.
pub fn run(
    ctx: &mut ExecCtx<'_>,
    sha: &str,
    body: &[u8],
    keys: &[&[u8]],
    args: &[&[u8]],
    read_only: bool,
    running: Arc<Running>,
) -> Result<Reply, CmdError> {
    with_engine(|engine| {
        let func = compiled(engine, sha, body)?;
        let lua = &engine.lua;
        let globals = &engine.globals;
        globals
            .raw_set(&engine.keys_name, strings(lua, keys).map_err(internal)?)
            .map_err(internal)?;
        globals
            .raw_set(&engine.argv_name, strings(lua, args).map_err(internal)?)
            .map_err(internal)?;
        let r = invoke(engine, ctx, sha, read_only, running, |e| {
            e.run.call::<(bool, Value)>(func)
        });
        // Nothing of this run stays reachable from the globals.
        globals.raw_set(&engine.keys_name, Value::Nil).ok();
        globals.raw_set(&engine.argv_name, Value::Nil).ok();
        r
    })
}

fn internal(e: mlua::Error) -> CmdError {
    CmdError::Script(format!("ERR Error running script: {e}"))
}

/// A Lua array of strings.
fn strings(lua: &Lua, items: &[&[u8]]) -> mlua::Result<Table> {
    let t = lua.create_table_with_capacity(items.len(), 0)?;
    for (i, b) in items.iter().enumerate() {
        t.raw_set(i + 1, lua.create_string(b)?)?;
    }
    Ok(t)
}

/// Calls a script or function (`call`) with `redis.call`, `redis.pcall` and `redis.setresp` bound to
/// `ctx`, and the kill/BUSY hook installed. `name` names the script in error texts.
fn invoke(
    engine: &Engine,
    ctx: &mut ExecCtx<'_>,
    name: &str,
    read_only: bool,
    running: Arc<Running>,
    call: impl FnOnce(&Engine) -> mlua::Result<(bool, Value)>,
) -> Result<Reply, CmdError> {
    let lua = &engine.lua;
    let hook_run = running.clone();
    let state = RefCell::new(RunState {
        ctx,
        resp3: false,
        read_only,
        running,
    });
    let _bound = Bound::set(&state);
    KILLED.with(|k| k.set(false));
    lua.set_hook(
        HookTriggers::new().every_nth_instruction(HOOK_INSTRUCTIONS),
        move |_, _| {
            if hook_run.tick() {
                KILLED.with(|k| k.set(true));
                Err(mlua::Error::external(Raised::new(KILLED_TEXT)))
            } else {
                Ok(VmState::Continue)
            }
        },
    );
    let r = call(engine);
    lua.remove_hook();
    KILLED.with(|k| k.set(false));
    let (ok, v) = r.map_err(internal)?;
    let mut st = state.borrow_mut();
    if ok {
        let mut errs = ResultErrors::default();
        let reply = lua_to_reply(&v, st.resp3, 0, &mut errs);
        for text in &errs.uncounted {
            st.ctx.server.command_stats.record_error(text);
        }
        st.ctx.failed |= errs.any;
        return Ok(reply);
    }
    let err = script_error(&v, name);
    if matches!(&v, Value::Table(t) if is_counted(t)) {
        // What `redis.call` raised: counted when the call failed; the script still failed.
        st.ctx.failed = true;
        return Ok(Reply::Error(err.to_string()));
    }
    Err(err)
}

thread_local! {
    /// The running script's `RefCell<RunState>` while [`invoke`] runs on this thread, else null.
    static CURRENT_RUN: Cell<*const ()> = const { Cell::new(std::ptr::null()) };
}

/// Makes a run's state what `redis.call`, `redis.pcall` and `redis.setresp` act on, until dropped.
///
/// Those three are bound once per Lua state (in [`new_engine`]) rather than once per run: a scoped
/// callback per run cost three userdata, three closures and their garbage on every EVAL, about a tenth
/// of a short script's time. The price is this pointer, which only [`with_run`] reads.
struct Bound {
    previous: *const (),
}

impl Bound {
    fn set(state: &RefCell<RunState<'_, '_>>) -> Bound {
        let p = (state as *const RefCell<RunState<'_, '_>>).cast::<()>();
        Bound {
            previous: CURRENT_RUN.with(|c| c.replace(p)),
        }
    }
}

impl Drop for Bound {
    fn drop(&mut self) {
        CURRENT_RUN.with(|c| c.set(self.previous));
    }
}

/// Calls `f` with the state of the script running on this thread; an error outside of a run (a
/// library's load-time code, or a reference to `redis.call` kept and called later).
fn with_run<R>(f: impl FnOnce(&mut RunState<'_, '_>) -> mlua::Result<R>) -> mlua::Result<R> {
    let p = CURRENT_RUN.with(|c| c.get());
    if p.is_null() {
        return Err(raise(
            "ERR redis.call, redis.pcall and redis.setresp are only available while a script runs",
        ));
    }
    // SAFETY: `p` was set by `Bound::set` from a `RefCell<RunState>` on the stack of `invoke`, which
    // outlives the `Bound` that resets the pointer when dropped; Lua callbacks run synchronously inside
    // that `invoke` on this same thread, so the cell is alive and not moved. Only the lifetimes are
    // erased, and `f` cannot let the state escape. The `RefCell` catches re-entrant use.
    let state = unsafe { &*p.cast::<RefCell<RunState<'_, '_>>>() };
    f(&mut *borrow(state)?)
}

/// `redis.call`, `redis.pcall` and `redis.setresp`, set in the `redis` table once per Lua state.
fn bind_run_api(lua: &Lua, api: &Table) -> mlua::Result<()> {
    api.raw_set(
        "call",
        lua.create_function(|lua, args: Variadic<Value>| {
            match with_run(|st| redis_call(lua, st, &args))? {
                Ok(v) => Ok(v),
                Err(e) => Err(mlua::Error::external(Raised {
                    text: e.text,
                    counted: e.counted,
                })),
            }
        })?,
    )?;
    api.raw_set(
        "pcall",
        lua.create_function(|lua, args: Variadic<Value>| {
            match with_run(|st| redis_call(lua, st, &args))? {
                Ok(v) => Ok(v),
                Err(e) => err_table(lua, &e.text, e.counted),
            }
        })?,
    )?;
    api.raw_set(
        "setresp",
        lua.create_function(|_, args: Variadic<Value>| {
            if args.len() != 1 {
                return Err(raise("ERR redis.setresp() requires one argument."));
            }
            let resp = c_int(lua_tonumber(&args[0]).unwrap_or(0.0));
            if resp != 2 && resp != 3 {
                return Err(raise("ERR RESP version must be 2 or 3."));
            }
            with_run(|st| {
                st.resp3 = resp == 3;
                Ok(())
            })
        })?,
    )
}

/// Runs a library's code (FUNCTION LOAD, or a thread's first call of one of its functions) and
/// returns the functions it registered. The code sees only the load-time API and may run for
/// [`LOAD_TIMEOUT_MS`].
pub fn load_library(id: u64, body: &[u8]) -> Result<Vec<FunctionInfo>, CmdError> {
    with_engine(|engine| {
        let registered = load_into(engine, id, body)?;
        Ok(registered.into_iter().map(|(info, _)| info).collect())
    })
}

fn load_into(
    engine: &mut Engine,
    id: u64,
    body: &[u8],
) -> Result<Vec<(FunctionInfo, Function)>, CmdError> {
    let lua = &engine.lua;
    let source = as_text(body);
    let chunk = lua
        .load(&source[..])
        .set_name("@user_function")
        .set_environment(engine.fenv.clone())
        .into_function()
        .map_err(|e| {
            CmdError::Function(format!("Error compiling function: {}", compile_error(&e)))
        })?;
    let registered: RefCell<Vec<(FunctionInfo, Function)>> = RefCell::new(Vec::new());
    let setup = |e: mlua::Error| CmdError::Function(format!("Error registering functions: {e}"));
    let outcome = lua
        .scope(|scope| {
            let register = scope.create_function(|_, args: Variadic<Value>| {
                let (info, f) = register_args(&args).map_err(|t| raise(&format!("ERR {t}")))?;
                let mut list = registered
                    .try_borrow_mut()
                    .map_err(|_| mlua::Error::RecursiveMutCallback)?;
                if list.iter().any(|(i, _)| i.name == info.name) {
                    return Err(raise("ERR Function already exists in the library"));
                }
                list.push((info, f));
                Ok(())
            })?;
            engine.load_redis.raw_set("register_function", register)?;
            engine.function_mode.call::<()>(true)?;
            let started = std::time::Instant::now();
            lua.set_hook(
                HookTriggers::new().every_nth_instruction(HOOK_INSTRUCTIONS),
                move |_, _| {
                    if started.elapsed().as_millis() > LOAD_TIMEOUT_MS {
                        Err(mlua::Error::external(Raised::new(
                            "ERR FUNCTION LOAD timeout",
                        )))
                    } else {
                        Ok(VmState::Continue)
                    }
                },
            );
            let r = chunk.call::<()>(());
            lua.remove_hook();
            engine.function_mode.call::<()>(false)?;
            engine.load_redis.raw_set("register_function", Value::Nil)?;
            Ok(r)
        })
        .map_err(setup)?;
    if let Err(e) = outcome {
        let msg = match load_error_message(&e) {
            (m, true) => m,
            (m, false) => format!("ERR {m}"),
        };
        return Err(CmdError::Function(format!(
            "Error registering functions: {}",
            one_line(msg.as_bytes())
        )));
    }
    let registered = registered.into_inner();
    if registered.is_empty() {
        return Err(CmdError::Function("No functions registered".into()));
    }
    let map = registered
        .iter()
        .map(|(i, f)| (i.name.clone(), f.clone()))
        .collect();
    engine.libs.insert(id, map);
    Ok(registered)
}

/// An error raised while a library loaded: the text, and whether it is already shaped (`ERR ...`).
fn load_error_message(e: &mlua::Error) -> (String, bool) {
    let mut e = e;
    loop {
        match e {
            mlua::Error::CallbackError { cause, .. } => e = cause,
            mlua::Error::ExternalError(x) => {
                return match x.downcast_ref::<Raised>() {
                    Some(r) => (r.text.clone(), true),
                    None => (x.to_string(), false),
                }
            }
            mlua::Error::RuntimeError(m) => {
                // mlua appends a traceback to errors of Lua code called from Rust.
                let m = m.split("\nstack traceback:").next().unwrap_or(m);
                return (m.to_string(), false);
            }
            other => return (other.to_string(), false),
        }
    }
}

/// `redis.register_function(name, callback)` or `redis.register_function{function_name=...,
/// callback=..., flags={...}, description=...}`, checked as Redis's `luaRegisterFunctionReadArgs`.
fn register_args(args: &[Value]) -> Result<(FunctionInfo, Function), &'static str> {
    let text = |v: &Value| -> Option<String> {
        lua_tolstring(v).map(|b| String::from_utf8_lossy(&b).into_owned())
    };
    let (name, desc, callback, flags) = match args {
        [one] => {
            let Value::Table(t) = one else {
                return Err("calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).");
            };
            let (mut name, mut desc, mut callback, mut flags) = (None, None, None, 0u8);
            for pair in t.pairs::<Value, Value>() {
                let (k, v) =
                    pair.map_err(|_| "unknown argument given to redis.register_function")?;
                let Some(key) = text(&k) else {
                    return Err(
                        "named argument key given to redis.register_function is not a string",
                    );
                };
                match key.to_ascii_lowercase().as_str() {
                    "function_name" => name = Some(text(&v).ok_or(
                        "function_name argument given to redis.register_function must be a string",
                    )?),
                    "description" => desc = Some(lua_tolstring(&v).ok_or(
                        "description argument given to redis.register_function must be a string",
                    )?),
                    "callback" => match v {
                        Value::Function(f) => callback = Some(f),
                        _ => return Err(
                            "callback argument given to redis.register_function must be a function",
                        ),
                    },
                    "flags" => {
                        let Value::Table(list) = v else {
                            return Err("flags argument to redis.register_function must be a table representing function flags");
                        };
                        flags = read_flags(&list).ok_or("unknown flag given")?;
                    }
                    _ => return Err("unknown argument given to redis.register_function"),
                }
            }
            let name = name.ok_or("redis.register_function must get a function name argument")?;
            let callback =
                callback.ok_or("redis.register_function must get a callback argument")?;
            (name, desc, callback, flags)
        }
        [name, callback] => {
            let name =
                text(name).ok_or("first argument to redis.register_function must be a string")?;
            let Value::Function(callback) = callback else {
                return Err("second argument to redis.register_function must be a function");
            };
            (name, None, callback.clone(), 0)
        }
        _ => return Err("wrong number of arguments to redis.register_function"),
    };
    if !funcs::valid_name(name.as_bytes()) {
        return Err(funcs::INVALID_NAME);
    }
    Ok((
        FunctionInfo {
            name,
            description: desc.map(Bytes::from),
            flags,
        },
        callback,
    ))
}

/// A `flags` table: strings naming known flags (any case), read until the first nil.
fn read_flags(list: &Table) -> Option<u8> {
    let mut flags = 0;
    for i in 1.. {
        let v = list.raw_get::<Value>(i).ok()?;
        if matches!(v, Value::Nil) {
            break;
        }
        let name = lua_tolstring(&v)?;
        let (bit, _) = funcs::FLAG_NAMES
            .iter()
            .find(|(_, n)| n.as_bytes().eq_ignore_ascii_case(&name))?;
        flags |= bit;
    }
    Some(flags)
}

/// Runs function `name` of library `lib` (FCALL/FCALL_RO): its callback gets KEYS and ARGV as its
/// two arguments. The caller holds every shard.
#[allow(clippy::too_many_arguments)]
pub fn call_function(
    ctx: &mut ExecCtx<'_>,
    lib: &funcs::Library,
    name: &str,
    keys: &[&[u8]],
    args: &[&[u8]],
    read_only: bool,
    running: Arc<Running>,
) -> Result<Reply, CmdError> {
    let generation = ctx.server.functions.generation();
    with_engine(|engine| {
        if engine.libs_generation != generation {
            let live = ctx.server.functions.live_ids();
            engine.libs.retain(|id, _| live.contains(id));
            engine.libs_generation = generation;
        }
        let cached = engine.libs.get(&lib.id).and_then(|m| m.get(name)).cloned();
        let func = match cached {
            Some(f) => f,
            None => {
                load_into(engine, lib.id, lib.body())?;
                engine
                    .libs
                    .get(&lib.id)
                    .and_then(|m| m.get(name))
                    .cloned()
                    .ok_or(CmdError::FunctionNotFound)?
            }
        };
        let lua = &engine.lua;
        let keys = strings(lua, keys).map_err(internal)?;
        let argv = strings(lua, args).map_err(internal)?;
        invoke(engine, ctx, name, read_only, running, |e| {
            e.run_fn.call::<(bool, Value)>((func, keys, argv))
        })
    })
}

/// The reply to a script that raised an error: the error's text, then where it was raised.
fn script_error(v: &Value, sha: &str) -> CmdError {
    let Value::Table(t) = v else {
        let msg = match v {
            Value::String(s) => s.to_string_lossy(),
            _ => "execution failure".into(),
        };
        let msg: String = msg.chars().take(100).collect();
        return CmdError::Script(format!("ERR Error running script {sha}, {msg}"));
    };
    let text = |k: &str| match t.raw_get::<Value>(k) {
        Ok(Value::String(s)) => Some(s.to_string_lossy()),
        Ok(Value::Integer(i)) => Some(i.to_string()),
        Ok(Value::Number(n)) => Some(fmt_g(n, 14)),
        _ => None,
    };
    let mut out = text("err").unwrap_or_default();
    if let (Some(source), Some(line)) = (text("source"), text("line")) {
        out.push_str(&format!(" script: {sha}, on {source}:{line}."));
    }
    CmdError::Script(out.replace(['\r', '\n'], " "))
}

/// A Lua light userdata holding NULL: `cjson.null`.
pub fn null() -> Value {
    Value::LightUserData(LightUserData(std::ptr::null_mut()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printf_g() {
        assert_eq!(fmt_g(1.5, 17), "1.5");
        assert_eq!(fmt_g(0.1, 17), "0.10000000000000001");
        assert_eq!(fmt_g(10.0, 17), "10");
        assert_eq!(fmt_g(1e17, 17), "1e+17");
        assert_eq!(fmt_g(123456789012345678.0, 17), "1.2345678901234568e+17");
        assert_eq!(fmt_g(0.0001, 14), "0.0001");
        assert_eq!(fmt_g(0.00001, 14), "1e-05");
        assert_eq!(fmt_g(-2.5, 14), "-2.5");
        assert_eq!(fmt_g(1.234567890123456, 14), "1.2345678901235");
        assert_eq!(fmt_g(100.0, 14), "100");
    }

    #[test]
    fn error_texts() {
        assert_eq!(error_text("My"), "ERR My");
        assert_eq!(error_text("MY thing\r\n"), "MY thing");
        assert_eq!(error_text("ERR x y"), "ERR x y");
    }

    #[test]
    fn versions() {
        assert_eq!(version_num("7.2.4"), 0x070204);
        assert_eq!(lua_number_to_i64(-2.7), -2);
        assert_eq!(lua_number_to_i64(f64::NAN), i64::MIN);
        assert_eq!(lua_number_to_i64(1e300), i64::MIN);
    }
}
