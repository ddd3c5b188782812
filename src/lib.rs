//! Ferrite: a Redis-compatible in-memory data structure server.
//!
//! Ferrite speaks RESP2 and RESP3 over TCP so that `redis-cli`, `redis-benchmark` and Redis client
//! libraries work against it unchanged, and it aims to behave as Redis 7.2 does, byte for byte.
//!
//! # Layout
//! * [`protocol`]: RESP decoding (incremental, zero-copy, Redis's limits and errors) and encoding of the
//!   one RESP3-shaped [`protocol::Reply`] to RESP3 or RESP2. Knows nothing of storage.
//! * [`commands`]: the command table (one [`commands::CommandSpec`] per command, in one file per
//!   family) and the dispatch pipeline. Handlers are synchronous functions with no I/O.
//! * [`storage`]: the sharded keyspace, values, lazy and active expiry, keyspace notification events.
//! * [`server`]: the TCP listener and per-connection loop (read batch → execute → one write).
//! * [`scripting`]: the Lua engine behind EVAL and FCALL (script cache, function libraries, sandbox,
//!   reply conversions, cjson..., runaway-script detection).
//! * [`config`]: redis.conf / `--name value` parsing and the CONFIG parameter table.
//! * [`error`]: command and protocol errors with Redis's exact wire texts.

pub mod alloc;
pub mod commands;
pub mod config;
pub mod config_rewrite;
pub mod error;
pub mod glob;
pub mod protocol;
pub mod scripting;
pub mod server;
pub mod smallbytes;
pub mod storage;
