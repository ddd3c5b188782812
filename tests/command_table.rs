//! The command table against Redis 7.0's own, and the COMMAND container through a real client.
//!
//! * `table_matches_redis`: every command and subcommand Ferrite implements is compared with
//!   `tests/data/redis-7.0-command-table.json` (what a real Redis 7.0 answers to `COMMAND`): arity,
//!   flags (with the derived `movablekeys`), first/last/step, ACL categories (with the implied ones),
//!   tips and key specs. The test fails listing every mismatch at once.
//! * `every_command_has_a_test`: fails listing each implemented command whose name appears in no string
//!   literal of any other test file.
//! * The rest checks COMMAND COUNT/INFO/LIST/GETKEYS/GETKEYSANDFLAGS/DOCS/HELP, byte for byte where the
//!   shape matters (RESP2 and RESP3 replies copied from a real Redis 7.0).

mod common;

use std::collections::BTreeSet;

use common::{err, resp, run, TestServer};
use ferrite::commands::table::{acl, flags, ks, BeginSearch, CommandSpec, FindKeys};
use redis::Value;

// ---------------------------------------------------------------------------------------------------
// A small JSON reader for the reference file (the test needs no JSON crate).

#[derive(Debug, Clone)]
enum J {
    Null,
    Bool(bool),
    Num(i64),
    Str(String),
    Arr(Vec<J>),
    Obj(Vec<(String, J)>),
}

/// Equality that treats an empty object and an empty array alike: the reference file was captured
/// over RESP2, where Redis's empty map (an unknown key spec's `spec`) arrives as `*0`.
impl PartialEq for J {
    fn eq(&self, other: &J) -> bool {
        match (self, other) {
            (J::Null, J::Null) => true,
            (J::Bool(a), J::Bool(b)) => a == b,
            (J::Num(a), J::Num(b)) => a == b,
            (J::Str(a), J::Str(b)) => a == b,
            (J::Arr(a), J::Arr(b)) => a == b,
            (J::Obj(a), J::Obj(b)) => a == b,
            (J::Arr(a), J::Obj(b)) | (J::Obj(b), J::Arr(a)) => a.is_empty() && b.is_empty(),
            _ => false,
        }
    }
}

impl J {
    fn get(&self, k: &str) -> &J {
        match self {
            J::Obj(m) => m.iter().find(|(n, _)| n == k).map_or(&J::Null, |(_, v)| v),
            _ => &J::Null,
        }
    }
    fn num(&self) -> i64 {
        match self {
            J::Num(n) => *n,
            other => panic!("not a number: {other:?}"),
        }
    }
    fn arr(&self) -> &[J] {
        match self {
            J::Arr(a) => a,
            _ => &[],
        }
    }
    fn strs(&self) -> Vec<String> {
        self.arr()
            .iter()
            .map(|v| match v {
                J::Str(s) => s.clone(),
                other => panic!("not a string: {other:?}"),
            })
            .collect()
    }
}

struct P<'a> {
    b: &'a [u8],
    i: usize,
}

impl P<'_> {
    fn ws(&mut self) {
        while self.i < self.b.len() && self.b[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }
    fn eat(&mut self, c: u8) {
        self.ws();
        assert_eq!(
            self.b[self.i], c,
            "JSON: expected {} at {}",
            c as char, self.i
        );
        self.i += 1;
    }
    fn string(&mut self) -> String {
        self.eat(b'"');
        let mut out = Vec::new();
        loop {
            let c = self.b[self.i];
            self.i += 1;
            match c {
                b'"' => break,
                b'\\' => {
                    let e = self.b[self.i];
                    self.i += 1;
                    match e {
                        b'n' => out.push(b'\n'),
                        b't' => out.push(b'\t'),
                        b'r' => out.push(b'\r'),
                        b'u' => {
                            let hex =
                                std::str::from_utf8(&self.b[self.i..self.i + 4]).expect("hex");
                            self.i += 4;
                            let ch = char::from_u32(u32::from_str_radix(hex, 16).expect("hex"))
                                .unwrap_or('?');
                            out.extend_from_slice(ch.to_string().as_bytes());
                        }
                        other => out.push(other),
                    }
                }
                _ => out.push(c),
            }
        }
        String::from_utf8(out).expect("utf8")
    }
    fn value(&mut self) -> J {
        self.ws();
        match self.b[self.i] {
            b'{' => {
                self.i += 1;
                let mut m = Vec::new();
                self.ws();
                if self.b[self.i] == b'}' {
                    self.i += 1;
                    return J::Obj(m);
                }
                loop {
                    let k = self.string();
                    self.eat(b':');
                    m.push((k, self.value()));
                    self.ws();
                    self.i += 1;
                    if self.b[self.i - 1] == b'}' {
                        return J::Obj(m);
                    }
                }
            }
            b'[' => {
                self.i += 1;
                let mut a = Vec::new();
                self.ws();
                if self.b[self.i] == b']' {
                    self.i += 1;
                    return J::Arr(a);
                }
                loop {
                    a.push(self.value());
                    self.ws();
                    self.i += 1;
                    if self.b[self.i - 1] == b']' {
                        return J::Arr(a);
                    }
                }
            }
            b'"' => J::Str(self.string()),
            b't' => {
                self.i += 4;
                J::Bool(true)
            }
            b'f' => {
                self.i += 5;
                J::Bool(false)
            }
            b'n' => {
                self.i += 4;
                J::Null
            }
            _ => {
                let start = self.i;
                while self.i < self.b.len()
                    && (self.b[self.i] == b'-' || self.b[self.i].is_ascii_digit())
                {
                    self.i += 1;
                }
                J::Num(
                    std::str::from_utf8(&self.b[start..self.i])
                        .expect("num")
                        .parse()
                        .expect("int"),
                )
            }
        }
    }
}

fn reference() -> J {
    let text = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/redis-7.0-command-table.json"
    ))
    .expect("reference table");
    P { b: &text, i: 0 }.value()
}

// ---------------------------------------------------------------------------------------------------
// The meta-tests.

/// Commands that are new in Redis 7.2 (Ferrite follows 7.2), so the 7.0 table cannot know them.
const NEW_IN_7_2: &[&str] = &["client|setinfo", "client|no-touch"];

/// Fields where Ferrite follows Redis 7.2 and 7.2 differs from the 7.0 reference: (command, field).
const CHANGED_IN_7_2: &[(&str, &str)] = &[
    ("config|resetstat", "tips"),
    // 7.2 added ZRANK/ZREVRANK ... WITHSCORE.
    ("zrank", "arity"),
    ("zrevrank", "arity"),
];

fn names<T: Copy + std::ops::BitAnd<Output = T> + PartialEq + Default>(
    bits: T,
    table: &[(T, &str)],
) -> Vec<String> {
    table
        .iter()
        .filter(|(b, _)| bits & *b != T::default())
        .map(|(_, n)| n.to_string())
        .collect()
}

fn key_spec_json(c: &CommandSpec) -> Vec<J> {
    let n = |v: i32| J::Num(v.into());
    let obj = |pairs: Vec<(&str, J)>| {
        J::Obj(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
    };
    c.keys
        .iter()
        .map(|k| {
            let (bt, bs) = match k.begin {
                BeginSearch::Index(i) => ("index", obj(vec![("index", n(i))])),
                BeginSearch::Keyword { keyword, startfrom } => (
                    "keyword",
                    obj(vec![
                        ("keyword", J::Str(keyword.into())),
                        ("startfrom", n(startfrom)),
                    ]),
                ),
                BeginSearch::Unknown => ("unknown", obj(vec![])),
            };
            let (ft, fs) = match k.find {
                FindKeys::Range {
                    lastkey,
                    keystep,
                    limit,
                } => (
                    "range",
                    obj(vec![
                        ("lastkey", n(lastkey)),
                        ("keystep", n(keystep)),
                        ("limit", n(limit)),
                    ]),
                ),
                FindKeys::Keynum {
                    keynumidx,
                    firstkey,
                    keystep,
                } => (
                    "keynum",
                    obj(vec![
                        ("keynumidx", n(keynumidx)),
                        ("firstkey", n(firstkey)),
                        ("keystep", n(keystep)),
                    ]),
                ),
                FindKeys::Unknown => ("unknown", obj(vec![])),
            };
            obj(vec![
                (
                    "flags",
                    J::Arr(names(k.flags, ks::NAMES).into_iter().map(J::Str).collect()),
                ),
                (
                    "begin_search",
                    obj(vec![("type", J::Str(bt.into())), ("spec", bs)]),
                ),
                (
                    "find_keys",
                    obj(vec![("type", J::Str(ft.into())), ("spec", fs)]),
                ),
            ])
        })
        .collect()
}

fn compare(c: &CommandSpec, r: &J, out: &mut Vec<String>) {
    let name = c.name;
    let mut diff = |what: &str, ours: String, redis: String| {
        if ours != redis && !CHANGED_IN_7_2.contains(&(name, what)) {
            out.push(format!("{name}: {what}: ours {ours}, Redis {redis}"));
        }
    };
    diff(
        "arity",
        c.arity.to_string(),
        r.get("arity").num().to_string(),
    );
    diff(
        "flags",
        format!("{:?}", names(c.all_flags(), flags::NAMES)),
        format!("{:?}", r.get("flags").strs()),
    );
    let (f, l, s) = c.legacy_range();
    diff(
        "first/last/step",
        format!("{f}/{l}/{s}"),
        format!(
            "{}/{}/{}",
            r.get("first_key").num(),
            r.get("last_key").num(),
            r.get("step").num()
        ),
    );
    let cats: Vec<String> = names(c.acl_categories(), acl::NAMES)
        .into_iter()
        .map(|n| format!("@{n}"))
        .collect();
    diff(
        "acl categories",
        format!("{cats:?}"),
        format!("{:?}", r.get("acl_categories").strs()),
    );
    diff(
        "tips",
        format!("{:?}", c.tips),
        format!("{:?}", r.get("tips").strs()),
    );
    // Compared as values (not text) so an empty map equals RESP2's empty array.
    let (ours_ks, redis_ks) = (key_spec_json(c), r.get("key_specs").arr().to_vec());
    if ours_ks != redis_ks {
        diff("key specs", format!("{ours_ks:?}"), format!("{redis_ks:?}"));
    }
    if !c.subcommands.is_empty() && r.get("subcommands").arr().is_empty() {
        out.push(format!("{name}: has subcommands, Redis has none"));
    }
    for sub in c.subcommands {
        if NEW_IN_7_2.contains(&sub.name) {
            continue;
        }
        match r
            .get("subcommands")
            .arr()
            .iter()
            .find(|s| s.get("name") == &J::Str(sub.name.into()))
        {
            Some(rs) => compare(sub, rs, out),
            None => out.push(format!("{}: not a Redis 7.0 subcommand", sub.name)),
        }
    }
}

#[test]
fn table_matches_redis() {
    let reference = reference();
    let mut mismatches = Vec::new();
    let mut seen = BTreeSet::new();
    for c in ferrite::commands::all_commands() {
        assert!(seen.insert(c.name), "{} registered twice", c.name);
        if NEW_IN_7_2.contains(&c.name) {
            continue;
        }
        match reference.get(c.name) {
            J::Null => mismatches.push(format!("{}: not a Redis 7.0 command", c.name)),
            r => compare(c, r, &mut mismatches),
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} mismatches with Redis 7.0:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

/// Every string literal in a Rust source (plain, byte and raw strings; good enough for test files).
fn string_literals(src: &str) -> Vec<(usize, String)> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut line = 1;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\n' => line += 1,
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'\''
                if b.get(i + 2) == Some(&b'\'')
                    || (b.get(i + 1) == Some(&b'\\') && b.get(i + 3) == Some(&b'\'')) =>
            {
                // A char literal such as '"' must not open a string.
                i += if b[i + 1] == b'\\' { 4 } else { 3 };
                continue;
            }
            b'"' => {
                let start_line = line;
                let mut s = Vec::new();
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    if b[i] == b'\\' && i + 1 < b.len() {
                        i += 1;
                    }
                    if b[i] == b'\n' {
                        line += 1;
                    }
                    s.push(b[i]);
                    i += 1;
                }
                out.push((start_line, String::from_utf8_lossy(&s).into_owned()));
            }
            _ => {}
        }
        i += 1;
    }
    out
}

fn has_word(text: &str, word: &str) -> bool {
    let t = text.to_ascii_lowercase();
    let is_word = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || c == b'-' || c == b'|';
    let tb = t.as_bytes();
    let mut from = 0;
    while let Some(pos) = t[from..].find(word) {
        let at = from + pos;
        let end = at + word.len();
        if (at == 0 || !is_word(tb[at - 1])) && (end == tb.len() || !is_word(tb[end])) {
            return true;
        }
        from = at + 1;
    }
    false
}

/// Literals of every test file but this one, by line.
fn test_literals() -> Vec<Vec<(usize, String)>> {
    let mut files = Vec::new();
    let mut dirs = vec![std::path::PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests"
    ))];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).expect("tests dir").flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") && !p.ends_with("command_table.rs") {
                files.push(string_literals(
                    &std::fs::read_to_string(&p).expect("read test file"),
                ));
            }
        }
    }
    files
}

/// A command counts as tested if its name is a whole word of a string literal in another test file; a
/// subcommand, if the container's name and its own appear in literals of the same line.
fn untested(files: &[Vec<(usize, String)>], c: &CommandSpec) -> bool {
    match c.name.split_once('|') {
        None => !files
            .iter()
            .any(|f| f.iter().any(|(_, s)| has_word(s, c.name))),
        Some((container, sub)) => !files.iter().any(|f| {
            f.iter().any(|(line, s)| {
                has_word(s, container) && f.iter().any(|(l2, s2)| l2 == line && has_word(s2, sub))
            })
        }),
    }
}

#[test]
fn every_command_has_a_test() {
    let files = test_literals();
    let mut missing = Vec::new();
    for c in ferrite::commands::all_commands() {
        if c.name == "command" {
            continue; // tested here
        }
        if untested(&files, c) {
            missing.push(c.name);
        }
        for s in c.subcommands {
            if untested(&files, s) {
                missing.push(s.name);
            }
        }
    }
    assert!(
        missing.is_empty(),
        "commands without a test ({}): {}",
        missing.len(),
        missing.join(", ")
    );
}

#[test]
fn literal_scanner() {
    let lits = string_literals(
        "let a = [\"GET\", b\"x\\\"y\"]; // \"no\"\nlet c = '\"'; f(\"config\", \"Get\");",
    );
    assert_eq!(
        lits,
        vec![
            (1, "GET".into()),
            (1, "x\"y".into()),
            (2, "config".into()),
            (2, "Get".into())
        ]
    );
    assert!(has_word("ERR unknown 'get' command", "get"));
    assert!(!has_word("getex", "get"));
    assert!(!has_word("restore-asking", "restore"));
}

// ---------------------------------------------------------------------------------------------------
// The COMMAND container through a client.

fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::Array(a) | Value::Set(a) => a
            .iter()
            .map(|x| redis::from_redis_value::<String>(x).expect("string"))
            .collect(),
        other => panic!("not an array: {other:?}"),
    }
}

/// Switches a raw connection to RESP3 and skips HELLO's reply.
fn to_resp3(raw: &mut common::Raw) {
    raw.send(&resp(&[b"HELLO", b"3"]));
    raw.send(&resp(&[b"PING", b"marker"]));
    let mut buf = Vec::new();
    while !buf.ends_with(b"$6\r\nmarker\r\n") {
        let more = raw.read_n(1);
        assert!(!more.is_empty(), "connection closed");
        buf.extend(more);
    }
}

fn cmd(con: &mut redis::Connection, args: &[&str]) -> Value {
    run(con, args).expect("command failed")
}

#[test]
fn count_and_list() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    let top = ferrite::commands::all_commands().count() as i64;
    assert_eq!(cmd(&mut con, &["COMMAND", "COUNT"]), Value::Int(top));
    let all = strings(&cmd(&mut con, &["COMMAND", "LIST"]));
    let subs: usize = ferrite::commands::all_commands()
        .map(|c| c.subcommands.len())
        .sum();
    assert_eq!(all.len(), top as usize + subs);
    for n in ["get", "set", "command", "command|info", "config|get"] {
        assert!(all.iter().any(|c| c == n), "{n} missing from COMMAND LIST");
    }
    let pat = strings(&cmd(
        &mut con,
        &["command", "list", "FILTERBY", "pattern", "CONFIG*"],
    ));
    assert!(pat.contains(&"config".to_string()) && pat.contains(&"config|get".to_string()));
    assert!(pat.iter().all(|n| n.starts_with("config")));
    let conn = strings(&cmd(
        &mut con,
        &["COMMAND", "LIST", "FILTERBY", "ACLCAT", "Connection"],
    ));
    assert!(conn.contains(&"ping".to_string()) && conn.contains(&"command|docs".to_string()));
    assert!(!conn.contains(&"get".to_string()));
    let string = strings(&cmd(
        &mut con,
        &["COMMAND", "LIST", "FILTERBY", "ACLCAT", "string"],
    ));
    assert!(string.contains(&"get".to_string()) && !string.contains(&"del".to_string()));
    assert_eq!(
        cmd(
            &mut con,
            &["COMMAND", "LIST", "FILTERBY", "ACLCAT", "@read"]
        ),
        Value::Array(vec![])
    );
    assert_eq!(
        cmd(
            &mut con,
            &["COMMAND", "LIST", "FILTERBY", "ACLCAT", "nosuch"]
        ),
        Value::Array(vec![])
    );
    assert_eq!(
        cmd(&mut con, &["COMMAND", "LIST", "FILTERBY", "MODULE", "x"]),
        Value::Array(vec![])
    );
    for bad in [
        &["COMMAND", "LIST", "FILTERBY"][..],
        &["COMMAND", "LIST", "foo"],
        &["COMMAND", "LIST", "FILTERBY", "foo", "x"],
        &["COMMAND", "LIST", "FILTERBY", "PATTERN", "x", "y"],
        &["COMMAND", "LIST", "FILTERBY", "PATTERN"],
    ] {
        assert_eq!(err(&mut con, bad), "ERR syntax error", "{bad:?}");
    }
    assert_eq!(
        err(&mut con, &["COMMAND", "COUNT", "x"]),
        "ERR wrong number of arguments for 'command|count' command"
    );
    assert_eq!(
        err(&mut con, &["COMMAND", "NOSUCH"]),
        "ERR unknown subcommand 'NOSUCH'. Try COMMAND HELP."
    );
    assert_eq!(
        err(&mut con, &["COMMAND", "HELP", "x"]),
        "ERR wrong number of arguments for 'command|help' command"
    );
}

#[test]
fn info_entries() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    let Value::Array(all) = cmd(&mut con, &["COMMAND"]) else {
        panic!("COMMAND is not an array")
    };
    assert_eq!(all.len(), ferrite::commands::all_commands().count());
    assert_eq!(cmd(&mut con, &["COMMAND", "INFO"]), Value::Array(all));
    let Value::Array(v) = cmd(
        &mut con,
        &[
            "COMMAND",
            "INFO",
            "GET",
            "nosuch",
            "Config|Get",
            "get|x",
            "config|nosub",
            "a|b|c",
        ],
    ) else {
        panic!("not an array")
    };
    assert_eq!(v.len(), 6);
    let Value::Array(get) = &v[0] else {
        panic!("get entry")
    };
    assert_eq!(get.len(), 10);
    assert_eq!(get[0], Value::BulkString(b"get".to_vec()));
    assert_eq!(get[1], Value::Int(2));
    assert_eq!(strings(&get[2]), ["readonly", "fast"]);
    assert_eq!(&get[3..6], &[Value::Int(1), Value::Int(1), Value::Int(1)]);
    assert_eq!(strings(&get[6]), ["@read", "@string", "@fast"]);
    assert_eq!(v[1], Value::Nil);
    let Value::Array(cg) = &v[2] else {
        panic!("config|get entry")
    };
    assert_eq!(cg[0], Value::BulkString(b"config|get".to_vec()));
    assert_eq!(&v[3..], &[Value::Nil, Value::Nil, Value::Nil]);
    // A container: no keys, its subcommands nested.
    let Value::Array(c) = cmd(&mut con, &["COMMAND", "INFO", "command"]) else {
        panic!()
    };
    let Value::Array(c) = &c[0] else { panic!() };
    assert_eq!(&c[3..6], &[Value::Int(0), Value::Int(0), Value::Int(0)]);
    let Value::Array(subs) = &c[9] else {
        panic!("subcommands")
    };
    assert_eq!(subs.len(), 7);
}

/// Byte-exact replies, copied from a real Redis 7.0.
#[test]
fn info_bytes_match_redis() {
    let srv = TestServer::start();
    let mut raw = srv.raw();
    let get2 = "*10\r\n$3\r\nget\r\n:2\r\n*2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n*3\r\n+@read\r\n+@string\r\n+@fast\r\n*0\r\n*1\r\n*6\r\n$5\r\nflags\r\n*2\r\n+RO\r\n+access\r\n$12\r\nbegin_search\r\n*4\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n*2\r\n$5\r\nindex\r\n:1\r\n$9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n*6\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n*0\r\n";
    raw.roundtrip(
        &resp(&[b"COMMAND", b"INFO", b"get", b"nosuch"]),
        format!("*2\r\n{get2}$-1\r\n").as_bytes(),
    );
    let set2 = "*10\r\n$3\r\nset\r\n:-3\r\n*2\r\n+write\r\n+denyoom\r\n:1\r\n:1\r\n:1\r\n*3\r\n+@write\r\n+@string\r\n+@slow\r\n*0\r\n*1\r\n*8\r\n$5\r\nnotes\r\n$48\r\nRW and ACCESS due to the optional `GET` argument\r\n$5\r\nflags\r\n*4\r\n+RW\r\n+access\r\n+update\r\n+variable_flags\r\n$12\r\nbegin_search\r\n*4\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n*2\r\n$5\r\nindex\r\n:1\r\n$9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n*6\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n*0\r\n";
    raw.roundtrip(
        &resp(&[b"COMMAND", b"INFO", b"set"]),
        format!("*1\r\n{set2}").as_bytes(),
    );
    let del2 = "*10\r\n$3\r\ndel\r\n:-2\r\n*1\r\n+write\r\n:1\r\n:-1\r\n:1\r\n*3\r\n+@keyspace\r\n+@write\r\n+@slow\r\n*2\r\n$26\r\nrequest_policy:multi_shard\r\n$23\r\nresponse_policy:agg_sum\r\n*1\r\n*6\r\n$5\r\nflags\r\n*2\r\n+RM\r\n+delete\r\n$12\r\nbegin_search\r\n*4\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n*2\r\n$5\r\nindex\r\n:1\r\n$9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n*6\r\n$7\r\nlastkey\r\n:-1\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n*0\r\n";
    raw.roundtrip(
        &resp(&[b"COMMAND", b"INFO", b"del"]),
        format!("*1\r\n{del2}").as_bytes(),
    );
    let cfg2 = "*10\r\n$10\r\nconfig|get\r\n:-3\r\n*4\r\n+admin\r\n+noscript\r\n+loading\r\n+stale\r\n:0\r\n:0\r\n:0\r\n*3\r\n+@admin\r\n+@slow\r\n+@dangerous\r\n*0\r\n*0\r\n*0\r\n";
    raw.roundtrip(
        &resp(&[b"COMMAND", b"INFO", b"CONFIG|GET"]),
        format!("*1\r\n{cfg2}").as_bytes(),
    );

    to_resp3(&mut raw);
    let get3 = "*10\r\n$3\r\nget\r\n:2\r\n~2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n~3\r\n+@read\r\n+@string\r\n+@fast\r\n~0\r\n~1\r\n%3\r\n$5\r\nflags\r\n~2\r\n+RO\r\n+access\r\n$12\r\nbegin_search\r\n%2\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n%1\r\n$5\r\nindex\r\n:1\r\n$9\r\nfind_keys\r\n%2\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n%3\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n~0\r\n";
    raw.roundtrip(
        &resp(&[b"COMMAND", b"INFO", b"get", b"nosuch"]),
        format!("*2\r\n{get3}_\r\n").as_bytes(),
    );
    // A container in RESP3: empty flags, tips and key specs are sets, the subcommands an array.
    raw.send(&resp(&[b"COMMAND", b"INFO", b"command"]));
    let head = "*1\r\n*10\r\n$7\r\ncommand\r\n:-1\r\n~2\r\n+loading\r\n+stale\r\n:0\r\n:0\r\n:0\r\n~2\r\n+@slow\r\n+@connection\r\n~1\r\n$29\r\nnondeterministic_output_order\r\n~0\r\n*7\r\n*10\r\n";
    assert_eq!(String::from_utf8_lossy(&raw.read_n(head.len())), head);
}

#[test]
fn getkeys() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    let keys = |con: &mut redis::Connection, args: &[&str]| strings(&cmd(con, args));
    if ferrite::commands::lookup(b"mset").is_some() {
        // A range with step 2 (MSET is another family's: tested once it is there).
        assert_eq!(
            keys(
                &mut con,
                &["COMMAND", "GETKEYS", "MSET", "a", "1", "b", "2"]
            ),
            ["a", "b"]
        );
        assert_eq!(
            keys(&mut con, &["COMMAND", "GETKEYS", "mset", "a", "1", "b"]),
            ["a", "b"]
        );
    }
    if ferrite::commands::lookup(b"eval").is_some() {
        // A numkeys spec; no keys is fine for EVAL (no_mandatory_keys).
        assert_eq!(
            keys(
                &mut con,
                &["COMMAND", "GETKEYS", "EVAL", "s", "2", "a", "b", "c"]
            ),
            ["a", "b"]
        );
        for n in ["0", "5", "-1", "x"] {
            assert_eq!(
                cmd(&mut con, &["COMMAND", "GETKEYS", "EVAL", "s", n, "a"]),
                Value::Array(vec![])
            );
        }
    }
    assert_eq!(
        keys(&mut con, &["COMMAND", "GETKEYS", "DEL", "x", "y", "z"]),
        ["x", "y", "z"]
    );
    assert_eq!(
        keys(
            &mut con,
            &["COMMAND", "GETKEYS", "SET", "k", "v", "EX", "10"]
        ),
        ["k"]
    );
    assert_eq!(
        keys(&mut con, &["COMMAND", "GETKEYS", "get", "\u{1}bin\u{ff}"]),
        ["\u{1}bin\u{ff}"]
    );
    // Errors, in Redis's order: unknown command, no keys, arity, arguments that name no keys.
    assert_eq!(
        err(&mut con, &["COMMAND", "GETKEYS", "nosuch", "a"]),
        "ERR Invalid command specified"
    );
    assert_eq!(
        err(&mut con, &["COMMAND", "GETKEYS", "config", "nosub", "x"]),
        "ERR Invalid command specified"
    );
    assert_eq!(
        err(&mut con, &["COMMAND", "GETKEYS", "ping", "a"]),
        "ERR The command has no key arguments"
    );
    assert_eq!(
        err(&mut con, &["COMMAND", "GETKEYS", "config", "get", "x"]),
        "ERR The command has no key arguments"
    );
    assert_eq!(
        err(&mut con, &["COMMAND", "GETKEYS", "get", "a", "b"]),
        "ERR Invalid number of arguments specified for command"
    );
    assert_eq!(
        err(&mut con, &["COMMAND", "GETKEYS", "set", "a"]),
        "ERR Invalid number of arguments specified for command"
    );
    assert_eq!(
        err(&mut con, &["COMMAND", "GETKEYS", "get"]),
        "ERR wrong number of arguments for 'command|getkeys' command"
    );
    assert_eq!(
        err(&mut con, &["COMMAND", "GETKEYSANDFLAGS", "get"]),
        "ERR wrong number of arguments for 'command|getkeysandflags' command"
    );
}

#[test]
fn getkeysandflags() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    let pairs = |v: Value| -> Vec<(String, Vec<String>)> {
        let Value::Array(items) = v else {
            panic!("not an array: {v:?}")
        };
        items
            .iter()
            .map(|p| {
                let Value::Array(kv) = p else {
                    panic!("not a pair: {p:?}")
                };
                (
                    redis::from_redis_value(&kv[0]).expect("key"),
                    strings(&kv[1]),
                )
            })
            .collect()
    };
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    if ferrite::commands::lookup(b"mset").is_some() {
        assert_eq!(
            pairs(cmd(
                &mut con,
                &["COMMAND", "GETKEYSANDFLAGS", "MSET", "a", "1", "b", "2"]
            )),
            vec![
                ("a".into(), s(&["OW", "update"])),
                ("b".into(), s(&["OW", "update"]))
            ]
        );
    }
    // SET's flags depend on GET (Redis's setGetKeys).
    assert_eq!(
        pairs(cmd(
            &mut con,
            &["COMMAND", "GETKEYSANDFLAGS", "SET", "k", "v"]
        )),
        vec![("k".into(), s(&["OW", "update"]))]
    );
    assert_eq!(
        pairs(cmd(
            &mut con,
            &["COMMAND", "GETKEYSANDFLAGS", "SET", "k", "v", "get"]
        )),
        vec![("k".into(), s(&["RW", "access", "update"]))]
    );
    assert_eq!(
        pairs(cmd(&mut con, &["COMMAND", "GETKEYSANDFLAGS", "del", "k"])),
        vec![("k".into(), s(&["RM", "delete"]))]
    );
    // RESP3: the flags are a set.
    let mut raw = srv.raw();
    to_resp3(&mut raw);
    raw.roundtrip(
        &resp(&[b"COMMAND", b"GETKEYSANDFLAGS", b"del", b"a", b"c"]),
        b"*2\r\n*2\r\n$1\r\na\r\n~2\r\n+RM\r\n+delete\r\n*2\r\n$1\r\nc\r\n~2\r\n+RM\r\n+delete\r\n",
    );
}

#[test]
fn docs() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    let mut raw = srv.raw();
    raw.roundtrip(
        &resp(&[b"COMMAND", b"DOCS", b"GET", b"nosuch"]),
        b"*2\r\n$3\r\nget\r\n*8\r\n$7\r\nsummary\r\n$34\r\nReturns the string value of a key.\r\n$5\r\nsince\r\n$5\r\n1.0.0\r\n$5\r\ngroup\r\n$6\r\nstring\r\n$10\r\ncomplexity\r\n$4\r\nO(1)\r\n",
    );
    raw.roundtrip(&resp(&[b"COMMAND", b"DOCS", b"nosuch"]), b"*0\r\n");
    // Every command has docs; containers list their subcommands' docs.
    let Value::Array(all) = cmd(&mut con, &["COMMAND", "DOCS"]) else {
        panic!("DOCS is not a flat map in RESP2")
    };
    assert_eq!(all.len(), 2 * ferrite::commands::all_commands().count());
    let Value::Array(d) = cmd(&mut con, &["COMMAND", "DOCS", "command"]) else {
        panic!()
    };
    let Value::Array(fields) = &d[1] else {
        panic!("docs map")
    };
    let keys: Vec<String> = fields
        .iter()
        .step_by(2)
        .map(|k| redis::from_redis_value(k).expect("key"))
        .collect();
    assert_eq!(
        keys,
        ["summary", "since", "group", "complexity", "subcommands"]
    );
    let Value::Array(subs) = &fields[9] else {
        panic!("subcommands")
    };
    assert_eq!(subs.len(), 14);
    assert_eq!(subs[0], Value::BulkString(b"command|count".to_vec()));
    for c in ferrite::commands::all_commands().flat_map(|c| std::iter::once(c).chain(c.subcommands))
    {
        // Redis documents no complexity for MONITOR (and DOCS then omits the field).
        assert!(
            !c.docs.summary.is_empty() && (!c.docs.complexity.is_empty() || c.name == "monitor"),
            "{} lacks docs",
            c.name
        );
    }
}

#[test]
fn help() {
    let srv = TestServer::start();
    let mut con = srv.conn();
    let lines = strings(&cmd(&mut con, &["COMMAND", "HELP"]));
    assert_eq!(lines.len(), 21);
    assert_eq!(
        lines[0],
        "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    );
    assert_eq!(lines[20], "    Prints this help.");
}

/// Every single-member form the table declares for prefetching is a request the command accepts,
/// with its one key at 1 and the member elsewhere (a wrong entry would prefetch the wrong bytes).
#[test]
fn declared_member_positions_fit_their_commands() {
    let mut declared = 0;
    for c in ferrite::commands::all_commands() {
        let Some(m) = c.member else { continue };
        declared += 1;
        assert!(
            c.arity_ok(m.argc),
            "{}: arity {} refuses {}",
            c.name,
            c.arity,
            m.argc
        );
        assert!(
            m.index > 1 && m.index < m.argc,
            "{}: member at {}",
            c.name,
            m.index
        );
        let argv: ferrite::protocol::Argv = (0..m.argc).map(|i| i.to_string()).collect();
        assert_eq!(
            c.key_positions(&argv).ok().as_deref(),
            Some(&[1usize][..]),
            "{}: the member's collection must be the request's one key, at 1",
            c.name
        );
        assert_eq!(c.member_at(m.argc), Some(m.index));
        assert_eq!(c.member_at(m.argc + 1), None);
    }
    assert!(declared >= 17, "{declared} single-member forms declared");
}

/// Dispatch's one-key fast path (`CommandSpec::single_key`) must find the key the key specs find,
/// for every command and every request length its arity accepts (up to 8).
#[test]
fn single_key_fast_path_agrees_with_the_key_specs() {
    let mut fast = 0;
    for c in ferrite::commands::all_commands().flat_map(|c| std::iter::once(c).chain(c.subcommands))
    {
        for argc in 1..=8usize {
            if !c.arity_ok(argc) {
                continue;
            }
            let argv: ferrite::protocol::Argv = (0..argc).map(|i| format!("a{i}")).collect();
            if let Some(i) = c.single_key(argc) {
                fast += 1;
                assert_eq!(
                    c.key_positions(&argv).ok().as_deref(),
                    Some(&[i][..]),
                    "{} with {argc} arguments",
                    c.full_name()
                );
            }
        }
    }
    assert!(
        fast > 100,
        "{fast} (command, length) pairs took the fast path"
    );
}
