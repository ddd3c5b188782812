//! Redis Functions: the server-wide library registry, library metadata (`#!lua name=<lib>`), and the
//! FUNCTION DUMP/RESTORE payload.
//!
//! Why it is built this way: the registry holds what a library *is* (its code, and the name,
//! description and flags of each function it registered), not compiled Lua, because every thread that
//! runs scripts (an I/O thread's worker, which a busy script moves to a new thread: see
//! [`super::busy`]) has its own Lua state (see [`super::engine`]). A thread compiles a library the first time one of
//! its functions is called there, keyed by the library's load id, which changes on every (re)load;
//! a bumped [`Functions::generation`] tells threads to drop libraries that are gone. A library's
//! top-level code therefore runs once per thread that calls it: local state kept in upvalues is
//! per thread (Redis has one Lua state; libraries are meant to be stateless anyway).
//!
//! Function names are matched ignoring ASCII case (as Redis's function dictionary); library names
//! are not. The DUMP payload is Redis's own: per library the RDB opcode `FUNCTION2` (0xF5) and the
//! code as an RDB string, then the RDB version (10, little-endian u16) and a CRC-64 (Jones, as
//! Redis's `crc64`), so payloads from Redis 7.0 restore here when their code is not LZF-compressed.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use parking_lot::RwLock;

use crate::error::CmdError;

/// Flags a function may declare, in the order Redis lists them (`scripts_flags_def`).
pub const FLAG_NAMES: &[(u8, &str)] = &[
    (NO_WRITES, "no-writes"),
    (ALLOW_OOM, "allow-oom"),
    (ALLOW_STALE, "allow-stale"),
    (NO_CLUSTER, "no-cluster"),
    (ALLOW_CROSS_SLOT, "allow-cross-slot-keys"),
];
pub const NO_WRITES: u8 = 1 << 0;
pub const ALLOW_OOM: u8 = 1 << 1;
pub const ALLOW_STALE: u8 = 1 << 2;
pub const NO_CLUSTER: u8 = 1 << 3;
pub const ALLOW_CROSS_SLOT: u8 = 1 << 4;

/// The only engine.
pub const ENGINE: &str = "LUA";

/// One function a library registered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionInfo {
    pub name: String,
    pub description: Option<Bytes>,
    pub flags: u8,
}

/// A loaded library.
#[derive(Debug)]
pub struct Library {
    pub name: String,
    /// The code as loaded, shebang line included (FUNCTION LIST WITHCODE, DUMP).
    pub code: Bytes,
    /// Unique per load: threads key their compiled copies by it.
    pub id: u64,
    /// In registration order.
    pub functions: Vec<FunctionInfo>,
}

impl Library {
    /// The code Lua compiles: from the end of the shebang line on (the line itself left empty, so
    /// line numbers stay as written).
    pub fn body(&self) -> &[u8] {
        let end = memchr::memchr(b'\n', &self.code).unwrap_or(self.code.len());
        &self.code[end..]
    }
}

/// A resolved function: its library and its index there.
#[derive(Clone)]
pub struct Found {
    pub library: Arc<Library>,
    pub index: usize,
}

impl Found {
    pub fn info(&self) -> &FunctionInfo {
        &self.library.functions[self.index]
    }
}

#[derive(Default, Clone)]
struct Registry {
    libraries: BTreeMap<String, Arc<Library>>,
    /// Lower-cased function name → (library name, index).
    functions: HashMap<String, (String, usize)>,
}

impl Registry {
    fn link(&mut self, lib: Arc<Library>) {
        for (i, f) in lib.functions.iter().enumerate() {
            self.functions
                .insert(f.name.to_ascii_lowercase(), (lib.name.clone(), i));
        }
        self.libraries.insert(lib.name.clone(), lib);
    }

    fn unlink(&mut self, name: &str) -> Option<Arc<Library>> {
        let lib = self.libraries.remove(name)?;
        for f in &lib.functions {
            self.functions.remove(&f.name.to_ascii_lowercase());
        }
        Some(lib)
    }

    /// The first of `lib`'s functions that another library already has.
    fn collision<'l>(&self, lib: &'l Library) -> Option<&'l str> {
        lib.functions
            .iter()
            .find(|f| self.functions.contains_key(&f.name.to_ascii_lowercase()))
            .map(|f| f.name.as_str())
    }

    fn function_count(&self) -> usize {
        self.functions.len()
    }
}

/// The server's libraries.
#[derive(Default)]
pub struct Functions {
    registry: RwLock<Registry>,
    next_id: AtomicU64,
    generation: AtomicU64,
}

/// What FUNCTION RESTORE does with the libraries already loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestorePolicy {
    Flush,
    Append,
    Replace,
}

impl Functions {
    /// A fresh load id.
    pub fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Bumped whenever a library goes away (threads then drop their compiled copies).
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Relaxed)
    }

    fn changed(&self) {
        self.generation.fetch_add(1, Ordering::Relaxed);
    }

    /// Finds a function by name, ignoring case.
    pub fn find(&self, name: &[u8]) -> Option<Found> {
        let name = std::str::from_utf8(name).ok()?.to_ascii_lowercase();
        let reg = self.registry.read();
        let (lib, index) = reg.functions.get(&name)?;
        Some(Found {
            library: reg.libraries.get(lib)?.clone(),
            index: *index,
        })
    }

    /// Whether the library load id `id` is still loaded.
    pub fn live_ids(&self) -> Vec<u64> {
        self.registry
            .read()
            .libraries
            .values()
            .map(|l| l.id)
            .collect()
    }

    pub fn contains_library(&self, name: &str) -> bool {
        self.registry.read().libraries.contains_key(name)
    }

    /// Adds a library built by FUNCTION LOAD, replacing one of the same name if `replace`.
    pub fn add(&self, lib: Library, replace: bool) -> Result<(), CmdError> {
        let mut reg = self.registry.write();
        let mut next = reg.clone();
        if next.unlink(&lib.name).is_some() && !replace {
            return Err(already_exists(&lib.name));
        }
        if let Some(f) = next.collision(&lib) {
            return Err(CmdError::Function(format!("Function {f} already exists")));
        }
        next.link(Arc::new(lib));
        *reg = next;
        drop(reg);
        self.changed();
        Ok(())
    }

    /// FUNCTION DELETE.
    pub fn delete(&self, name: &[u8]) -> Result<(), CmdError> {
        let name = std::str::from_utf8(name).map_err(|_| CmdError::LibraryNotFound)?;
        self.registry
            .write()
            .unlink(name)
            .ok_or(CmdError::LibraryNotFound)?;
        self.changed();
        Ok(())
    }

    /// FUNCTION FLUSH.
    pub fn flush(&self) {
        *self.registry.write() = Registry::default();
        self.changed();
    }

    /// Every library, by name.
    pub fn libraries(&self) -> Vec<Arc<Library>> {
        self.registry.read().libraries.values().cloned().collect()
    }

    /// `(libraries, functions)`.
    pub fn counts(&self) -> (usize, usize) {
        let reg = self.registry.read();
        (reg.libraries.len(), reg.function_count())
    }

    /// Bytes held by library code and function metadata (INFO's `used_memory_functions`).
    pub fn memory(&self) -> usize {
        let reg = self.registry.read();
        reg.libraries
            .values()
            .map(|l| {
                l.code.len()
                    + l.name.len()
                    + l.functions
                        .iter()
                        .map(|f| f.name.len() + f.description.as_ref().map_or(0, |d| d.len()) + 64)
                        .sum::<usize>()
                    + 96
            })
            .sum()
    }

    /// FUNCTION RESTORE of already-built libraries, with Redis's `libraryJoin` rules.
    pub fn restore(&self, libs: Vec<Library>, policy: RestorePolicy) -> Result<(), CmdError> {
        let mut reg = self.registry.write();
        let mut next = match policy {
            RestorePolicy::Flush => Registry::default(),
            _ => reg.clone(),
        };
        for lib in &libs {
            if next.libraries.contains_key(&lib.name) {
                if policy == RestorePolicy::Append {
                    return Err(CmdError::Function(format!(
                        "Library {} already exists",
                        lib.name
                    )));
                }
                next.unlink(&lib.name);
            }
        }
        for lib in &libs {
            if let Some(f) = next.collision(lib) {
                return Err(CmdError::Function(format!("Function {f} already exists")));
            }
        }
        for lib in libs {
            next.link(Arc::new(lib));
        }
        *reg = next;
        drop(reg);
        self.changed();
        Ok(())
    }
}

fn already_exists(name: &str) -> CmdError {
    CmdError::Function(format!("Library '{name}' already exists"))
}

/// `[a-zA-Z0-9_]+`, as Redis's `functionsVerifyName`.
pub fn valid_name(name: &[u8]) -> bool {
    !name.is_empty() && name.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_')
}

/// Redis 7.0's text for an invalid library or function name.
pub const INVALID_NAME: &str =
    "Library names can only contain letters, numbers, or underscores(_) and must be at least one character long";

/// Parses the `#!<engine> name=<lib>` line, as Redis's `functionExtractLibMetaData`, and checks the
/// name and the engine. Returns the library name.
pub fn parse_metadata(code: &[u8]) -> Result<String, CmdError> {
    let fail = |t: &str| Err(CmdError::Function(t.to_string()));
    if !code.starts_with(b"#!") {
        return fail("Missing library metadata");
    }
    let Some(end) = memchr::memchr(b'\n', code) else {
        return fail("Invalid library metadata");
    };
    let parts = match crate::protocol::decode::split_args(&code[..end]) {
        Some(p) if !p.is_empty() => p,
        _ => return fail("Invalid library metadata"),
    };
    let engine = parts[0].get(2..).unwrap_or_default().to_vec();
    let mut name: Option<Vec<u8>> = None;
    for part in &parts[1..] {
        if part.len() >= 5 && part[..5].eq_ignore_ascii_case(b"name=") {
            if name.is_some() {
                return fail("Invalid metadata value, name argument was given multiple times");
            }
            name = Some(part[5..].to_vec());
            continue;
        }
        return Err(CmdError::Function(format!(
            "Invalid metadata value given: {}",
            String::from_utf8_lossy(part)
        )));
    }
    let Some(name) = name else {
        return fail("Library name was not given");
    };
    if !valid_name(&name) {
        return fail(INVALID_NAME);
    }
    if !engine.eq_ignore_ascii_case(ENGINE.as_bytes()) {
        return Err(CmdError::Function(format!(
            "Engine '{}' not found",
            String::from_utf8_lossy(&engine)
        )));
    }
    Ok(String::from_utf8_lossy(&name).into_owned())
}

/// RDB opcode of a library in a payload (`RDB_OPCODE_FUNCTION2`).
const OPCODE_FUNCTION2: u8 = 0xF5;
/// Redis 7.0's `RDB_VERSION`.
const RDB_VERSION: u16 = 10;

/// FUNCTION DUMP's payload for `libs`.
pub fn dump(libs: &[Arc<Library>]) -> Vec<u8> {
    let mut out = Vec::new();
    for lib in libs {
        out.push(OPCODE_FUNCTION2);
        rdb_len(&mut out, lib.code.len() as u64);
        out.extend_from_slice(&lib.code);
    }
    out.extend_from_slice(&RDB_VERSION.to_le_bytes());
    let crc = crc64(0, &out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// The library codes in a FUNCTION RESTORE payload, with Redis's errors.
pub fn undump(payload: &[u8]) -> Result<Vec<Vec<u8>>, CmdError> {
    if payload.len() < 10 {
        return Err(CmdError::FunctionDumpPayload);
    }
    let (data, crc) = payload.split_at(payload.len() - 8);
    let version = u16::from_le_bytes([data[data.len() - 2], data[data.len() - 1]]);
    let mut crc_bytes = [0u8; 8];
    crc_bytes.copy_from_slice(crc);
    if version > RDB_VERSION || crc64(0, data) != u64::from_le_bytes(crc_bytes) {
        return Err(CmdError::FunctionDumpPayload);
    }
    let body = &data[..data.len() - 2];
    let mut pos = 0;
    let mut codes = Vec::new();
    let failed = || CmdError::Function("failed loading the given functions payload".into());
    while pos < body.len() {
        let opcode = body[pos];
        pos += 1;
        if opcode != OPCODE_FUNCTION2 {
            return Err(CmdError::Function("given type is not a function".into()));
        }
        codes.push(read_rdb_string(body, &mut pos).ok_or_else(failed)?);
    }
    Ok(codes)
}

/// An RDB string: plain, or LZF-compressed (Redis compresses strings longer than 20 bytes).
fn read_rdb_string(b: &[u8], pos: &mut usize) -> Option<Vec<u8>> {
    let take = |pos: &mut usize, len: u64| -> Option<&[u8]> {
        let end = pos.checked_add(usize::try_from(len).ok()?)?;
        let s = b.get(*pos..end)?;
        *pos = end;
        Some(s)
    };
    if b.get(*pos) == Some(&0xC3) {
        *pos += 1;
        let clen = read_rdb_len(b, pos)?;
        let len = read_rdb_len(b, pos)?;
        let compressed = take(pos, clen)?;
        return lzf_decompress(compressed, usize::try_from(len).ok()?);
    }
    let len = read_rdb_len(b, pos)?;
    take(pos, len).map(<[u8]>::to_vec)
}

/// LZF decompression (liblzf's format, as RDB uses); `None` unless the output is exactly `len` bytes.
fn lzf_decompress(input: &[u8], len: usize) -> Option<Vec<u8>> {
    let mut out: Vec<u8> = Vec::with_capacity(len.min(1 << 20));
    let mut ip = 0;
    while ip < input.len() {
        let ctrl = input[ip] as usize;
        ip += 1;
        if ctrl < 32 {
            let run = input.get(ip..ip + ctrl + 1)?;
            out.extend_from_slice(run);
            ip += ctrl + 1;
        } else {
            let mut n = ctrl >> 5;
            if n == 7 {
                n += *input.get(ip)? as usize;
                ip += 1;
            }
            let back = ((ctrl & 0x1f) << 8) + *input.get(ip)? as usize + 1;
            ip += 1;
            let start = out.len().checked_sub(back)?;
            for i in 0..n + 2 {
                let byte = out[start + i];
                out.push(byte);
            }
        }
        if out.len() > len {
            return None;
        }
    }
    (out.len() == len).then_some(out)
}

/// RDB length encoding.
fn rdb_len(out: &mut Vec<u8>, len: u64) {
    if len < 1 << 6 {
        out.push(len as u8);
    } else if len < 1 << 14 {
        out.push(0x40 | (len >> 8) as u8);
        out.push(len as u8);
    } else if len <= u32::MAX as u64 {
        out.push(0x80);
        out.extend_from_slice(&(len as u32).to_be_bytes());
    } else {
        out.push(0x81);
        out.extend_from_slice(&len.to_be_bytes());
    }
}

/// Reads an RDB length; `None` for a truncated one or a special (integer/LZF) encoding.
fn read_rdb_len(b: &[u8], pos: &mut usize) -> Option<u64> {
    let first = *b.get(*pos)?;
    *pos += 1;
    match first >> 6 {
        0 => Some((first & 0x3F) as u64),
        1 => {
            let second = *b.get(*pos)?;
            *pos += 1;
            Some((((first & 0x3F) as u64) << 8) | second as u64)
        }
        2 if first == 0x80 => {
            let v = b.get(*pos..*pos + 4)?;
            *pos += 4;
            Some(u32::from_be_bytes([v[0], v[1], v[2], v[3]]) as u64)
        }
        2 if first == 0x81 => {
            let v = b.get(*pos..*pos + 8)?;
            *pos += 8;
            let mut a = [0u8; 8];
            a.copy_from_slice(v);
            Some(u64::from_be_bytes(a))
        }
        _ => None,
    }
}

/// Redis's CRC-64 (Jones polynomial, reflected, no final xor).
pub fn crc64(mut crc: u64, data: &[u8]) -> u64 {
    const POLY: u64 = 0x95ac_9329_ac4b_c9b5;
    for &b in data {
        crc ^= b as u64;
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ POLY
            } else {
                crc >> 1
            };
        }
    }
    crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc64_check_value() {
        assert_eq!(crc64(0, b"123456789"), 0xe9c6_d914_c4b8_d9ca);
    }

    #[test]
    fn metadata() {
        assert_eq!(parse_metadata(b"#!lua name=lib\nx"), Ok("lib".into()));
        assert_eq!(parse_metadata(b"#!LUA   NAME=l_1  \n"), Ok("l_1".into()));
        let e = |c: &[u8]| parse_metadata(c).err().map(|e| e.to_string());
        assert_eq!(
            e(b"return 1").as_deref(),
            Some("ERR Missing library metadata")
        );
        assert_eq!(
            e(b"#!lua name=a").as_deref(),
            Some("ERR Invalid library metadata")
        );
        assert_eq!(
            e(b"#!lua name=a b=c\n").as_deref(),
            Some("ERR Invalid metadata value given: b=c")
        );
        assert_eq!(
            e(b"#!foo name=a\n").as_deref(),
            Some("ERR Engine 'foo' not found")
        );
        assert_eq!(
            e(b"#!lua\n").as_deref(),
            Some("ERR Library name was not given")
        );
        assert_eq!(
            e(b"#!lua name=a name=b\n").as_deref(),
            Some("ERR Invalid metadata value, name argument was given multiple times")
        );
        assert_eq!(e(b"#!lua name=a-b\n"), Some(format!("ERR {INVALID_NAME}")));
    }

    /// The payload Redis 7.0.15 answers to FUNCTION DUMP for this one library.
    #[test]
    fn dump_matches_redis() {
        let code = "#!lua name=a\nredis.register_function('f', function() return 1 end)";
        let lib = Arc::new(Library {
            name: "a".into(),
            code: Bytes::from(code),
            id: 1,
            functions: Vec::new(),
        });
        let payload = dump(&[lib]);
        assert_eq!(&payload[..3], &[0xF5, 0x40, 0x42]);
        assert_eq!(
            &payload[payload.len() - 10..],
            &[0x0a, 0x00, 0xe3, 0xd1, 0xb9, 0x83, 0x19, 0xf4, 0xe3, 0x84]
        );
        assert_eq!(undump(&payload), Ok(vec![code.as_bytes().to_vec()]));
        let mut bad = payload.clone();
        bad[5] ^= 1;
        assert_eq!(undump(&bad), Err(CmdError::FunctionDumpPayload));
        assert_eq!(undump(b"garbage"), Err(CmdError::FunctionDumpPayload));
    }
}
