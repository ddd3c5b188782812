//! The command table's types: one [`CommandSpec`] per command, holding the primary facts Redis's own
//! table holds (arity, flags, explicit ACL categories, key specs, tips, docs).
//!
//! Everything else is derived here, in one function each: the implicit ACL categories
//! (`@read/@write/@fast/@slow/...`, as Redis's `setImplicitACLCategories`), the `movablekeys` flag, the
//! legacy first/last/step triple, and key extraction from the key specs (as Redis's
//! `getKeysUsingKeySpecs`), which dispatch uses to lock shards and `COMMAND GETKEYS` reports.

use bytes::Bytes;
use smallvec::SmallVec;

use super::args::Args;
use super::ExecCtx;
use crate::error::CmdError;
use crate::protocol::{parse_i64, Reply};

pub type Handler = fn(&mut ExecCtx<'_>, &mut Args) -> Result<Reply, CmdError>;

/// Command flags, with the names and order `COMMAND INFO` prints them in.
pub mod flags {
    pub const WRITE: u64 = 1 << 0;
    pub const READONLY: u64 = 1 << 1;
    pub const DENYOOM: u64 = 1 << 2;
    pub const MODULE: u64 = 1 << 3;
    pub const ADMIN: u64 = 1 << 4;
    pub const PUBSUB: u64 = 1 << 5;
    pub const NOSCRIPT: u64 = 1 << 6;
    pub const BLOCKING: u64 = 1 << 7;
    pub const LOADING: u64 = 1 << 8;
    pub const STALE: u64 = 1 << 9;
    pub const SKIP_MONITOR: u64 = 1 << 10;
    pub const SKIP_SLOWLOG: u64 = 1 << 11;
    pub const ASKING: u64 = 1 << 12;
    pub const FAST: u64 = 1 << 13;
    pub const NO_AUTH: u64 = 1 << 14;
    pub const NO_MANDATORY_KEYS: u64 = 1 << 15;
    pub const NO_ASYNC_LOADING: u64 = 1 << 16;
    pub const NO_MULTI: u64 = 1 << 17;
    pub const MOVABLEKEYS: u64 = 1 << 18;
    pub const ALLOW_BUSY: u64 = 1 << 19;
    // Flags Redis keeps but does not print.
    pub const MAY_REPLICATE: u64 = 1 << 32;
    pub const PROTECTED: u64 = 1 << 33;
    pub const SENTINEL: u64 = 1 << 34;
    pub const ONLY_SENTINEL: u64 = 1 << 35;

    pub const NAMES: &[(u64, &str)] = &[
        (WRITE, "write"),
        (READONLY, "readonly"),
        (DENYOOM, "denyoom"),
        (MODULE, "module"),
        (ADMIN, "admin"),
        (PUBSUB, "pubsub"),
        (NOSCRIPT, "noscript"),
        (BLOCKING, "blocking"),
        (LOADING, "loading"),
        (STALE, "stale"),
        (SKIP_MONITOR, "skip_monitor"),
        (SKIP_SLOWLOG, "skip_slowlog"),
        (ASKING, "asking"),
        (FAST, "fast"),
        (NO_AUTH, "no_auth"),
        (NO_MANDATORY_KEYS, "no_mandatory_keys"),
        (NO_ASYNC_LOADING, "no_async_loading"),
        (NO_MULTI, "no_multi"),
        (MOVABLEKEYS, "movablekeys"),
        (ALLOW_BUSY, "allow_busy"),
    ];
}

/// ACL categories, in Redis's order (the order `COMMAND INFO` lists them).
pub mod acl {
    pub const KEYSPACE: u64 = 1 << 0;
    pub const READ: u64 = 1 << 1;
    pub const WRITE: u64 = 1 << 2;
    pub const SET: u64 = 1 << 3;
    pub const SORTEDSET: u64 = 1 << 4;
    pub const LIST: u64 = 1 << 5;
    pub const HASH: u64 = 1 << 6;
    pub const STRING: u64 = 1 << 7;
    pub const BITMAP: u64 = 1 << 8;
    pub const HYPERLOGLOG: u64 = 1 << 9;
    pub const GEO: u64 = 1 << 10;
    pub const STREAM: u64 = 1 << 11;
    pub const PUBSUB: u64 = 1 << 12;
    pub const ADMIN: u64 = 1 << 13;
    pub const FAST: u64 = 1 << 14;
    pub const SLOW: u64 = 1 << 15;
    pub const BLOCKING: u64 = 1 << 16;
    pub const DANGEROUS: u64 = 1 << 17;
    pub const CONNECTION: u64 = 1 << 18;
    pub const TRANSACTION: u64 = 1 << 19;
    pub const SCRIPTING: u64 = 1 << 20;

    pub const NAMES: &[(u64, &str)] = &[
        (KEYSPACE, "keyspace"),
        (READ, "read"),
        (WRITE, "write"),
        (SET, "set"),
        (SORTEDSET, "sortedset"),
        (LIST, "list"),
        (HASH, "hash"),
        (STRING, "string"),
        (BITMAP, "bitmap"),
        (HYPERLOGLOG, "hyperloglog"),
        (GEO, "geo"),
        (STREAM, "stream"),
        (PUBSUB, "pubsub"),
        (ADMIN, "admin"),
        (FAST, "fast"),
        (SLOW, "slow"),
        (BLOCKING, "blocking"),
        (DANGEROUS, "dangerous"),
        (CONNECTION, "connection"),
        (TRANSACTION, "transaction"),
        (SCRIPTING, "scripting"),
    ];
}

/// Key-spec flags, in the order `COMMAND INFO` prints them.
pub mod ks {
    pub const RW: u32 = 1 << 0;
    pub const RO: u32 = 1 << 1;
    pub const OW: u32 = 1 << 2;
    pub const RM: u32 = 1 << 3;
    pub const ACCESS: u32 = 1 << 4;
    pub const UPDATE: u32 = 1 << 5;
    pub const INSERT: u32 = 1 << 6;
    pub const DELETE: u32 = 1 << 7;
    pub const NOT_KEY: u32 = 1 << 8;
    pub const INCOMPLETE: u32 = 1 << 9;
    pub const VARIABLE_FLAGS: u32 = 1 << 10;

    pub const NAMES: &[(u32, &str)] = &[
        (RW, "RW"),
        (RO, "RO"),
        (OW, "OW"),
        (RM, "RM"),
        (ACCESS, "access"),
        (UPDATE, "update"),
        (INSERT, "insert"),
        (DELETE, "delete"),
        (NOT_KEY, "not_key"),
        (INCOMPLETE, "incomplete"),
        (VARIABLE_FLAGS, "variable_flags"),
    ];
}

/// Redis's command groups (`COMMAND DOCS` reports them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    Generic,
    String,
    List,
    Set,
    SortedSet,
    Hash,
    PubSub,
    Transactions,
    Connection,
    Server,
    Scripting,
    HyperLogLog,
    Cluster,
    Geo,
    Stream,
    Bitmap,
}

impl Group {
    pub fn name(self) -> &'static str {
        match self {
            Group::Generic => "generic",
            Group::String => "string",
            Group::List => "list",
            Group::Set => "set",
            Group::SortedSet => "sorted-set",
            Group::Hash => "hash",
            Group::PubSub => "pubsub",
            Group::Transactions => "transactions",
            Group::Connection => "connection",
            Group::Server => "server",
            Group::Scripting => "scripting",
            Group::HyperLogLog => "hyperloglog",
            Group::Cluster => "cluster",
            Group::Geo => "geo",
            Group::Stream => "stream",
            Group::Bitmap => "bitmap",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BeginSearch {
    Index(i32),
    Keyword { keyword: &'static str, startfrom: i32 },
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FindKeys {
    Range { lastkey: i32, keystep: i32, limit: i32 },
    Keynum { keynumidx: i32, firstkey: i32, keystep: i32 },
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeySpec {
    pub flags: u32,
    pub begin: BeginSearch,
    pub find: FindKeys,
}

impl KeySpec {
    /// One key at `index`.
    pub const fn one(index: i32, flags: u32) -> KeySpec {
        KeySpec { flags, begin: BeginSearch::Index(index), find: FindKeys::Range { lastkey: 0, keystep: 1, limit: 0 } }
    }

    /// Keys from `index` to `lastkey` (relative to `index` if >= 0, from the end if negative) every `step`.
    pub const fn range(index: i32, lastkey: i32, keystep: i32, flags: u32) -> KeySpec {
        KeySpec { flags, begin: BeginSearch::Index(index), find: FindKeys::Range { lastkey, keystep, limit: 0 } }
    }

    /// `numkeys key [key ...]` with the count at `index`.
    pub const fn keynum(index: i32, flags: u32) -> KeySpec {
        KeySpec {
            flags,
            begin: BeginSearch::Index(index),
            find: FindKeys::Keynum { keynumidx: 0, firstkey: 1, keystep: 1 },
        }
    }
}

/// Text for `COMMAND DOCS`.
#[derive(Debug, Clone, Copy)]
pub struct Docs {
    pub summary: &'static str,
    pub since: &'static str,
    pub complexity: &'static str,
}

#[derive(Clone, Copy)]
pub struct CommandSpec {
    /// Lower-case name; for a subcommand, `container|sub` as Redis's `fullname`.
    pub name: &'static str,
    pub group: Group,
    /// Redis arity: `n` exactly n arguments (name included), `-n` at least n.
    pub arity: i32,
    pub flags: u64,
    /// ACL categories beyond the ones implied by `flags`.
    pub acl: u64,
    pub keys: &'static [KeySpec],
    pub tips: &'static [&'static str],
    pub docs: Docs,
    pub handler: Handler,
    pub subcommands: &'static [CommandSpec],
}

fn unimplemented_container(_: &mut ExecCtx<'_>, _: &mut Args) -> Result<Reply, CmdError> {
    // Containers dispatch to a subcommand before reaching a handler.
    Err(CmdError::Syntax)
}

impl CommandSpec {
    pub const DEFAULT: CommandSpec = CommandSpec {
        name: "",
        group: Group::Generic,
        arity: -1,
        flags: 0,
        acl: 0,
        keys: &[],
        tips: &[],
        docs: Docs { summary: "", since: "1.0.0", complexity: "" },
        handler: unimplemented_container,
        subcommands: &[],
    };

    /// The name used in replies (`get`, `config|get`).
    pub fn full_name(&self) -> &'static str {
        self.name
    }

    /// The subcommand part (`get` for `config|get`).
    pub fn short_name(&self) -> &'static str {
        self.name.rsplit('|').next().unwrap_or(self.name)
    }

    pub fn is_container(&self) -> bool {
        !self.subcommands.is_empty()
    }

    pub fn has(&self, flag: u64) -> bool {
        self.flags & flag != 0
    }

    pub fn arity_ok(&self, argc: usize) -> bool {
        let a = self.arity;
        (a >= 0 && argc as i32 == a) || (a < 0 && argc as i32 >= -a)
    }

    /// Flags as Redis reports them. `movablekeys` is derived from the key specs as Redis's
    /// `populateCommandLegacyRangeSpec` does; commands whose keys Redis finds with a `getkeys_proc`
    /// (SORT, MIGRATE, ...) carry it explicitly.
    pub fn all_flags(&self) -> u64 {
        self.flags | if self.legacy().1 { flags::MOVABLEKEYS } else { 0 }
    }

    /// ACL categories: the explicit ones plus those the flags imply (Redis's `setImplicitACLCategories`).
    pub fn acl_categories(&self) -> u64 {
        let mut c = self.acl;
        if self.has(flags::WRITE) {
            c |= acl::WRITE;
        }
        if self.has(flags::READONLY) && c & acl::SCRIPTING == 0 {
            c |= acl::READ;
        }
        if self.has(flags::ADMIN) {
            c |= acl::ADMIN | acl::DANGEROUS;
        }
        if self.has(flags::PUBSUB) {
            c |= acl::PUBSUB;
        }
        if self.has(flags::FAST) {
            c |= acl::FAST;
        }
        if self.has(flags::BLOCKING) {
            c |= acl::BLOCKING;
        }
        if c & acl::FAST == 0 {
            c |= acl::SLOW;
        }
        c
    }

    /// The legacy `(first, last, step)` triple `COMMAND INFO` reports.
    pub fn legacy_range(&self) -> (i32, i32, i32) {
        self.legacy().0
    }

    /// Redis's `populateCommandLegacyRangeSpec`: the legacy range and whether the keys are movable.
    fn legacy(&self) -> ((i32, i32, i32), bool) {
        if self.keys.is_empty() {
            return ((0, 0, 0), false);
        }
        if let [KeySpec { begin: BeginSearch::Index(pos), find: FindKeys::Range { lastkey, keystep, .. }, flags: f }] =
            self.keys
        {
            let last = if *lastkey >= 0 { pos + lastkey } else { *lastkey };
            return ((*pos, last, *keystep), f & ks::INCOMPLETE != 0);
        }
        let mut movable = false;
        let (mut first, mut last, mut prev_last) = (i32::MAX, 0i32, 0i32);
        for k in self.keys {
            let (BeginSearch::Index(pos), FindKeys::Range { lastkey, keystep, .. }) = (k.begin, k.find) else {
                movable = true;
                continue;
            };
            if keystep != 1 || (prev_last != 0 && prev_last != pos - 1) {
                movable = true;
                continue;
            }
            if k.flags & ks::INCOMPLETE != 0 {
                movable = true;
            }
            first = first.min(pos);
            let abs = if lastkey >= 0 { lastkey + pos } else { lastkey };
            // Unsigned comparison, as Redis does, so a negative (from-the-end) index wins.
            last = if (last as u32) >= (abs as u32) { last } else { abs };
            prev_last = last;
        }
        if first == i32::MAX {
            return ((0, 0, 0), true);
        }
        ((first, last, 1), movable)
    }

    /// Positions in `argv` of the keys this request names (Redis's `getKeysUsingKeySpecs`).
    /// Specs that do not match the request are skipped; `Err` if a spec is malformed for it.
    pub fn key_positions(&self, argv: &[Bytes]) -> Result<SmallVec<[usize; 4]>, ()> {
        let argc = argv.len() as i32;
        let mut out = SmallVec::new();
        for spec in self.keys {
            let first = match spec.begin {
                BeginSearch::Index(i) => i,
                BeginSearch::Keyword { keyword, startfrom } => {
                    let (start, end) = if startfrom > 0 { (startfrom, argc - 1) } else { (argc + startfrom, 0) };
                    let mut i = start;
                    let mut found = 0;
                    loop {
                        if i >= argc || i < 1 {
                            break;
                        }
                        if argv[i as usize].eq_ignore_ascii_case(keyword.as_bytes()) {
                            found = i + 1;
                            break;
                        }
                        if i == end {
                            break;
                        }
                        i = if start <= end { i + 1 } else { i - 1 };
                    }
                    if found == 0 {
                        continue;
                    }
                    found
                }
                BeginSearch::Unknown => return Err(()),
            };
            let (last, step) = match spec.find {
                FindKeys::Range { lastkey, keystep, limit } => {
                    let last = if lastkey >= 0 {
                        first + lastkey
                    } else if limit == 0 {
                        argc + lastkey
                    } else {
                        first + ((argc - first) / limit + lastkey)
                    };
                    (last, keystep)
                }
                FindKeys::Keynum { keynumidx, firstkey, keystep } => {
                    let at = first + keynumidx;
                    if keynumidx < 0 || at >= argc {
                        return Err(());
                    }
                    let n = parse_i64(&argv[at as usize]).ok_or(())?;
                    if n < 0 || n > i32::MAX as i64 {
                        return Err(());
                    }
                    (first + firstkey + n as i32 - 1, keystep)
                }
                FindKeys::Unknown => return Err(()),
            };
            let first = match spec.find {
                FindKeys::Keynum { firstkey, .. } => first + firstkey,
                _ => first,
            };
            if last >= argc || last < first || first >= argc {
                return Err(());
            }
            let mut i = first;
            while i <= last {
                out.push(i as usize);
                i += step.max(1);
            }
        }
        Ok(out)
    }
}
