//! Pure data structures behind the typed values: plain Rust over bytes and collections, no RESP and no
//! keyspace, so each one is unit-tested on its own (and can be checked against a naive model).

pub mod bitmap;
pub mod hash;
pub mod list;
pub mod set;
pub mod stream;
pub mod zset;
