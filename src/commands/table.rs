//! The command table's types: one [`CommandSpec`] per command, holding the primary facts Redis's own
//! table holds (arity, flags, explicit ACL categories, key specs, tips, docs).
//!
//! Everything else is derived here, in one function each: the implicit ACL categories
//! (`@read/@write/@fast/@slow/...`, as Redis's `setImplicitACLCategories`), the `movablekeys` flag, the
//! legacy first/last/step triple, and key extraction from the key specs (as Redis's
//! `getKeysUsingKeySpecs`), which dispatch uses to lock shards and `COMMAND GETKEYS` reports.

use smallvec::SmallVec;

use super::args::Args;
use super::ExecCtx;
use crate::error::CmdError;
use crate::protocol::{parse_i64, Argv, Reply};

pub type Handler = fn(&mut ExecCtx<'_>, &mut Args) -> Result<Reply, CmdError>;

/// A request that does not fit a command's key specs (a syntax error its handler will report).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadKeys;

/// A command's own key finder: `(position in argv, key-spec flags)` for each key.
pub type GetKeys = fn(&Argv) -> Vec<(usize, u32)>;

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
    /// Ferrite's own: MULTI/EXEC/DISCARD/WATCH/UNWATCH/QUIT/RESET run even inside MULTI (not queued),
    /// as Redis special-cases them in `processCommand`. Not printed.
    pub const TX_CONTROL: u64 = 1 << 40;
    /// Ferrite's own: allowed while a RESP2 client is in subscribed mode. Not printed.
    pub const SUBSCRIBED_OK: u64 = 1 << 41;
    /// Ferrite's own: dispatch locks every shard, for commands that may touch keys no key spec names
    /// (SORT's BY/GET patterns, scripts and functions); EXEC does the same for a transaction that
    /// holds one. Not printed.
    pub const ALL_SHARDS: u64 = 1 << 42;

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
    Keyword {
        keyword: &'static str,
        startfrom: i32,
    },
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FindKeys {
    Range {
        lastkey: i32,
        keystep: i32,
        limit: i32,
    },
    Keynum {
        keynumidx: i32,
        firstkey: i32,
        keystep: i32,
    },
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
        KeySpec {
            flags,
            begin: BeginSearch::Index(index),
            find: FindKeys::Range {
                lastkey: 0,
                keystep: 1,
                limit: 0,
            },
        }
    }

    /// Keys from `index` to `lastkey` (relative to `index` if >= 0, from the end if negative) every `step`.
    pub const fn range(index: i32, lastkey: i32, keystep: i32, flags: u32) -> KeySpec {
        KeySpec {
            flags,
            begin: BeginSearch::Index(index),
            find: FindKeys::Range {
                lastkey,
                keystep,
                limit: 0,
            },
        }
    }

    /// `numkeys key [key ...]` with the count at `index`.
    pub const fn keynum(index: i32, flags: u32) -> KeySpec {
        KeySpec {
            flags,
            begin: BeginSearch::Index(index),
            find: FindKeys::Keynum {
                keynumidx: 0,
                firstkey: 1,
                keystep: 1,
            },
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
    /// Notes on the key specs, by index (`""` for none), as `COMMAND INFO` shows them.
    pub key_notes: &'static [&'static str],
    /// Finds keys and their flags where the key specs cannot (Redis's `getkeys_proc`): needed only
    /// for commands with `variable_flags` or `incomplete` specs. See [`getkeys`].
    pub getkeys: Option<GetKeys>,
    /// The keyspace event the command raises on each key it wrote, as `(class, name)` (see
    /// [`crate::storage::notify`]); `None` when its events depend on the outcome and the handler
    /// raises them itself, or it raises none.
    pub event: Option<(u32, &'static str)>,
    /// The form of the command that names one member (field) of its key's hash, set or sorted set,
    /// for prefetching: a pipeline of `ZADD z <score> <member>` or `HSET h <field> <value>` on one big
    /// collection has each request's member loaded before the run executes. A hint only: a wrong entry
    /// costs time, never a wrong answer.
    pub member: Option<MemberAt>,
}

/// Where the one member of a single-member request is (see [`CommandSpec::member`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemberAt {
    /// The request's length, command name included, in the single-member form.
    pub argc: usize,
    /// The member's position in the request.
    pub index: usize,
}

/// [`CommandSpec::member`] for a command whose `argc`-long requests name their member at `index`.
pub const fn member(argc: usize, index: usize) -> Option<MemberAt> {
    Some(MemberAt { argc, index })
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
        docs: Docs {
            summary: "",
            since: "1.0.0",
            complexity: "",
        },
        handler: unimplemented_container,
        subcommands: &[],
        key_notes: &[],
        getkeys: None,
        event: None,
        member: None,
    };

    /// Where the member of a `argc`-long request is, if this is the command's single-member form.
    pub fn member_at(&self, argc: usize) -> Option<usize> {
        self.member.filter(|m| m.argc == argc).map(|m| m.index)
    }

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

    /// Flags as Redis reports them, `movablekeys` included: Redis's `populateCommandMovableKeys` sets it
    /// when any key spec is not a plain `index` + `range` spec (keyword searches, `numkeys` counts,
    /// unknown specs), since a client cannot then find the keys from (first, last, step).
    pub fn all_flags(&self) -> u64 {
        let movable = self.keys.iter().any(|k| {
            !matches!(
                (k.begin, k.find),
                (BeginSearch::Index(_), FindKeys::Range { .. })
            )
        });
        self.flags | if movable { flags::MOVABLEKEYS } else { 0 }
    }

    /// ACL categories: the explicit ones plus those the flags imply (Redis's `setImplicitACLCategories`).
    /// A read-only scripting command (EVAL_RO, FCALL_RO) is not `@read`: the script decides what it reads.
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

    /// The legacy `(first, last, step)` triple `COMMAND INFO` reports, as Redis's
    /// `populateCommandLegacyRangeSpec` glues it from the key specs: a single index+range spec is taken
    /// as it is; otherwise only index+range specs count, any of them with a step other than 1 gives
    /// `(0, 0, 0)`, and the others are merged into one range with step 1 (the last key compared as
    /// unsigned, so a from-the-end index such as -1 wins over any absolute one).
    pub fn legacy_range(&self) -> (i32, i32, i32) {
        if let [KeySpec {
            begin: BeginSearch::Index(pos),
            find: FindKeys::Range {
                lastkey, keystep, ..
            },
            ..
        }] = self.keys
        {
            let last = if *lastkey >= 0 {
                pos + lastkey
            } else {
                *lastkey
            };
            return (*pos, last, *keystep);
        }
        let (mut first, mut last) = (i32::MAX, 0i32);
        for k in self.keys {
            let (
                BeginSearch::Index(pos),
                FindKeys::Range {
                    lastkey, keystep, ..
                },
            ) = (k.begin, k.find)
            else {
                continue;
            };
            if keystep != 1 {
                return (0, 0, 0);
            }
            first = first.min(pos);
            let abs = if lastkey >= 0 { lastkey + pos } else { lastkey };
            if (abs as u32) > (last as u32) {
                last = abs;
            }
        }
        if first == i32::MAX {
            return (0, 0, 0);
        }
        (first, last, 1)
    }

    /// Whether the command takes keys at all (Redis's `doesCommandHaveKeys`): a key-finding function,
    /// or a key spec that is not `not_key`.
    pub fn has_keys(&self) -> bool {
        self.getkeys.is_some() || self.keys.iter().any(|k| k.flags & ks::NOT_KEY == 0)
    }

    /// The notes of key spec `i` (`COMMAND INFO` prints them), if any.
    pub fn key_note(&self, i: usize) -> Option<&'static str> {
        self.key_notes.get(i).copied().filter(|n| !n.is_empty())
    }

    /// The argument range one key spec covers in `argv`: `Ok(None)` if its keyword is absent,
    /// `Err` if the request does not fit the spec (a syntax error the handler will report).
    fn spec_range(spec: &KeySpec, argv: &Argv) -> Result<Option<(i32, i32, i32)>, BadKeys> {
        let argc = argv.len() as i32;
        let first = match spec.begin {
            BeginSearch::Index(i) => i,
            BeginSearch::Keyword { keyword, startfrom } => {
                // As Redis: forward from `startfrom` up to (not including) the last argument, or backward
                // from `argc + startfrom` down to (not including) argument 1.
                let (start, end) = if startfrom > 0 {
                    (startfrom, argc - 1)
                } else {
                    (argc + startfrom, 1)
                };
                let mut i = start;
                let mut found = 0;
                while i != end && (1..argc).contains(&i) {
                    if argv[i as usize].eq_ignore_ascii_case(keyword.as_bytes()) {
                        found = i + 1;
                        break;
                    }
                    i = if start <= end { i + 1 } else { i - 1 };
                }
                if found == 0 {
                    return Ok(None);
                }
                found
            }
            BeginSearch::Unknown => return Err(BadKeys),
        };
        let (first, last, step) = match spec.find {
            FindKeys::Range {
                lastkey,
                keystep,
                limit,
            } => {
                let last = if lastkey >= 0 {
                    first + lastkey
                } else if limit == 0 {
                    argc + lastkey
                } else {
                    first + ((argc - first) / limit + lastkey)
                };
                (first, last, keystep)
            }
            FindKeys::Keynum {
                keynumidx,
                firstkey,
                keystep,
            } => {
                let at = first + keynumidx;
                if keynumidx < 0 || at >= argc {
                    return Err(BadKeys);
                }
                let n = parse_i64(&argv[at as usize]).ok_or(BadKeys)?;
                if n < 0 || n > i32::MAX as i64 {
                    return Err(BadKeys);
                }
                let first = first + firstkey;
                (first, first.saturating_add(n as i32 - 1), keystep)
            }
            FindKeys::Unknown => return Err(BadKeys),
        };
        if last >= argc || last < first || first >= argc {
            return Err(BadKeys);
        }
        Ok(Some((first, last, step.max(1))))
    }

    /// Keys and their flags as Redis's `getKeysUsingKeySpecs` finds them: `not_key` specs skipped, and
    /// `Err` when a spec does not fit the request or is `incomplete` (Redis then asks the command's own
    /// key-finding function).
    pub fn keys_from_specs(&self, argv: &Argv) -> Result<Vec<(usize, u32)>, BadKeys> {
        let mut out = Vec::new();
        for spec in self.keys {
            if spec.flags & ks::NOT_KEY != 0 {
                continue;
            }
            if let Some((first, last, step)) = Self::spec_range(spec, argv)? {
                let mut i = first;
                while i <= last {
                    out.push((i as usize, spec.flags));
                    i += step;
                }
            }
            if spec.flags & ks::INCOMPLETE != 0 {
                return Err(BadKeys);
            }
        }
        Ok(out)
    }

    /// Keys and flags for `COMMAND GETKEYS[ANDFLAGS]`, as Redis's `getKeysFromCommandWithSpecs`: the key
    /// specs when their flags are reliable (no `variable_flags`), else the command's [`GetKeys`]
    /// function. Ferrite falls back to the specs where a command has no such function. An empty result
    /// means none found.
    pub fn keys_and_flags(&self, argv: &Argv) -> Vec<(usize, u32)> {
        let has_keyspec = self.keys.iter().any(|k| k.flags & ks::NOT_KEY == 0);
        let has_varflags = self.keys.iter().any(|k| k.flags & ks::VARIABLE_FLAGS != 0);
        if has_keyspec && (!has_varflags || self.getkeys.is_none()) {
            if let Ok(keys) = self.keys_from_specs(argv) {
                return keys;
            }
        }
        self.getkeys.map(|f| f(argv)).unwrap_or_default()
    }

    /// The position of the request's one key when the command has exactly one key spec and it names
    /// one key at a fixed index (GET, SET, LPUSH, HSET, ...): dispatch's fast path, which then needs
    /// neither [`CommandSpec::key_positions`]'s vector nor a sort of shard indices.
    #[inline]
    pub fn single_key(&self, argc: usize) -> Option<usize> {
        match self.keys {
            [KeySpec {
                begin: BeginSearch::Index(i),
                find: FindKeys::Range { lastkey: 0, .. },
                ..
            }] if (*i as usize) < argc && *i > 0 => Some(*i as usize),
            _ => None,
        }
    }

    /// Positions in `argv` of the keys this request names, for dispatch to lock: every spec that fits
    /// (incomplete and `not_key` ones too: locking one shard more is harmless). Specs whose keyword is
    /// absent are skipped; `Err` if a spec does not fit the request.
    pub fn key_positions(&self, argv: &Argv) -> Result<SmallVec<[usize; 4]>, BadKeys> {
        let mut out = SmallVec::new();
        for spec in self.keys {
            if let Some((first, last, step)) = Self::spec_range(spec, argv)? {
                let mut i = first;
                while i <= last {
                    out.push(i as usize);
                    i += step;
                }
            }
        }
        Ok(out)
    }
}

/// Key finders for commands whose key specs cannot say everything (Redis's `*GetKeys` functions).
pub mod getkeys {
    use super::ks;
    use crate::protocol::Argv;

    /// SORT / SORT_RO (Redis's `sortGetKeys`): the key at 1, and STORE's destination.
    pub fn sort(argv: &Argv) -> Vec<(usize, u32)> {
        let mut keys = vec![(1, ks::RO | ks::ACCESS)];
        let mut i = 2;
        while i < argv.len() {
            let a = &argv[i];
            let skip = if a.eq_ignore_ascii_case(b"LIMIT") {
                2
            } else if a.eq_ignore_ascii_case(b"GET") || a.eq_ignore_ascii_case(b"BY") {
                1
            } else if a.eq_ignore_ascii_case(b"STORE") {
                if i + 1 < argv.len() {
                    // The last STORE wins, as in Redis.
                    keys.truncate(1);
                    keys.push((i + 1, ks::OW | ks::UPDATE));
                }
                1
            } else {
                0
            };
            i += skip + 1;
        }
        keys
    }

    /// SET: the key at 1, read and written if `GET` is among the options, else only overwritten.
    pub fn set(argv: &Argv) -> Vec<(usize, u32)> {
        let get = argv.iter().skip(3).any(|a| a.eq_ignore_ascii_case(b"GET"));
        vec![(
            1,
            if get {
                ks::RW | ks::ACCESS | ks::UPDATE
            } else {
                ks::OW | ks::UPDATE
            },
        )]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(keys: &'static [KeySpec]) -> CommandSpec {
        CommandSpec {
            name: "x",
            arity: -2,
            keys,
            ..CommandSpec::DEFAULT
        }
    }

    fn argv(a: &[&str]) -> Argv {
        Argv::from_args(a)
    }

    fn positions(c: &CommandSpec, a: &[&str]) -> Result<Vec<usize>, BadKeys> {
        c.keys_from_specs(&argv(a))
            .map(|v| v.into_iter().map(|(i, _)| i).collect())
    }

    /// ZUNIONSTORE's shape: a destination, then `numkeys key [key ...]`.
    static ZUNIONSTORE: &[KeySpec] = &[
        KeySpec::one(1, ks::OW | ks::UPDATE),
        KeySpec::keynum(2, ks::RO | ks::ACCESS),
    ];

    #[test]
    fn keynum_extraction() {
        let c = spec(ZUNIONSTORE);
        assert_eq!(
            positions(
                &c,
                &["zunionstore", "d", "2", "a", "b", "WEIGHTS", "1", "2"]
            ),
            Ok(vec![1, 3, 4])
        );
        assert_eq!(
            positions(&c, &["zunionstore", "d", "1", "a"]),
            Ok(vec![1, 3])
        );
        // numkeys 0, negative, not a number, or past the end: the request names no valid keys.
        for n in ["0", "-1", "x", "3", "99999999999"] {
            assert_eq!(
                positions(&c, &["zunionstore", "d", n, "a", "b"]),
                Err(BadKeys),
                "numkeys {n}"
            );
        }
        assert_eq!(positions(&c, &["zunionstore", "d"]), Err(BadKeys));
        // Flags come from each spec.
        let flags: Vec<u32> = c
            .keys_from_specs(&argv(&["z", "d", "1", "a"]))
            .unwrap_or_default()
            .iter()
            .map(|k| k.1)
            .collect();
        assert_eq!(flags, vec![ks::OW | ks::UPDATE, ks::RO | ks::ACCESS]);
        // Movable keys, and the legacy range covers only the index+range spec.
        assert!(c.all_flags() & flags::MOVABLEKEYS != 0);
        assert_eq!(c.legacy_range(), (1, 1, 1));
    }

    #[test]
    fn keyword_search() {
        // XREAD-like: keys after STREAMS, half of the rest.
        static XREAD: &[KeySpec] = &[KeySpec {
            flags: ks::RO,
            begin: BeginSearch::Keyword {
                keyword: "STREAMS",
                startfrom: 1,
            },
            find: FindKeys::Range {
                lastkey: -1,
                keystep: 1,
                limit: 2,
            },
        }];
        let c = spec(XREAD);
        assert_eq!(
            positions(&c, &["xread", "COUNT", "2", "streams", "a", "b", "0", "0"]),
            Ok(vec![4, 5])
        );
        // No keyword: the spec is skipped. A keyword in last place is not searched, as in Redis.
        assert_eq!(positions(&c, &["xread", "COUNT", "2"]), Ok(vec![]));
        assert_eq!(positions(&c, &["xread", "COUNT", "STREAMS"]), Ok(vec![]));
        // MIGRATE-like backward search from the end, incomplete: an error for GETKEYS.
        static MIGRATE: &[KeySpec] = &[KeySpec {
            flags: ks::RW | ks::INCOMPLETE,
            begin: BeginSearch::Keyword {
                keyword: "KEYS",
                startfrom: -2,
            },
            find: FindKeys::Range {
                lastkey: -1,
                keystep: 1,
                limit: 0,
            },
        }];
        let m = spec(MIGRATE);
        let a = ["migrate", "h", "p", "", "0", "5", "KEYS", "k1", "k2"];
        assert_eq!(positions(&m, &a), Err(BadKeys));
        assert_eq!(
            m.key_positions(&argv(&a)).map(|v| v.to_vec()),
            Ok(vec![7, 8])
        );
    }

    #[test]
    fn legacy_range_and_movable() {
        // MSET: one range with step 2 is taken as it is.
        static MSET: &[KeySpec] = &[KeySpec::range(1, -1, 2, ks::OW)];
        assert_eq!(spec(MSET).legacy_range(), (1, -1, 2));
        assert_eq!(spec(MSET).all_flags() & flags::MOVABLEKEYS, 0);
        // SINTERSTORE: destination then the rest, glued; the from-the-end index wins.
        static SINTERSTORE: &[KeySpec] =
            &[KeySpec::one(1, ks::RW), KeySpec::range(2, -1, 1, ks::RO)];
        assert_eq!(spec(SINTERSTORE).legacy_range(), (1, -1, 1));
        // LMOVE: two single keys.
        static LMOVE: &[KeySpec] = &[KeySpec::one(1, ks::RW), KeySpec::one(2, ks::RW)];
        assert_eq!(spec(LMOVE).legacy_range(), (1, 2, 1));
        // BITOP: the first key at 2.
        static BITOP: &[KeySpec] = &[KeySpec::one(2, ks::OW), KeySpec::range(3, -1, 1, ks::RO)];
        assert_eq!(spec(BITOP).legacy_range(), (2, -1, 1));
        // Only keynum specs: (0, 0, 0), movable.
        static ZUNION: &[KeySpec] = &[KeySpec::keynum(1, ks::RO)];
        assert_eq!(spec(ZUNION).legacy_range(), (0, 0, 0));
        assert_ne!(spec(ZUNION).all_flags() & flags::MOVABLEKEYS, 0);
        // Several specs, one with a step other than 1: no legacy range at all.
        static STEP2: &[KeySpec] = &[KeySpec::one(1, ks::RW), KeySpec::range(2, -1, 2, ks::RO)];
        assert_eq!(spec(STEP2).legacy_range(), (0, 0, 0));
        assert_eq!(spec(&[]).legacy_range(), (0, 0, 0));
    }

    #[test]
    fn implicit_acl_categories() {
        let c = |flags: u64, acl: u64| {
            CommandSpec {
                flags,
                acl,
                ..CommandSpec::DEFAULT
            }
            .acl_categories()
        };
        assert_eq!(
            c(flags::READONLY | flags::FAST, acl::STRING),
            acl::READ | acl::STRING | acl::FAST
        );
        assert_eq!(c(flags::WRITE, 0), acl::WRITE | acl::SLOW);
        assert_eq!(c(flags::ADMIN, 0), acl::ADMIN | acl::DANGEROUS | acl::SLOW);
        assert_eq!(
            c(flags::WRITE | flags::BLOCKING, acl::LIST),
            acl::WRITE | acl::LIST | acl::SLOW | acl::BLOCKING
        );
        // EVAL_RO: read-only scripts are not @read.
        assert_eq!(
            c(flags::READONLY, acl::SCRIPTING),
            acl::SCRIPTING | acl::SLOW
        );
        assert_eq!(c(flags::PUBSUB, 0), acl::PUBSUB | acl::SLOW);
    }

    #[test]
    fn set_getkeys_flags() {
        assert_eq!(
            getkeys::set(&argv(&["set", "k", "v"])),
            vec![(1, ks::OW | ks::UPDATE)]
        );
        assert_eq!(
            getkeys::set(&argv(&["set", "k", "v", "NX", "get"])),
            vec![(1, ks::RW | ks::ACCESS | ks::UPDATE)]
        );
        // The value itself is not an option.
        assert_eq!(
            getkeys::set(&argv(&["set", "k", "get"])),
            vec![(1, ks::OW | ks::UPDATE)]
        );
    }
}
