//! Bitmap commands: SETBIT GETBIT BITCOUNT BITPOS BITOP BITFIELD BITFIELD_RO.
//!
//! Bitmaps are not a type of their own: they are strings read as bit arrays (bit 0 is the most
//! significant bit of the first byte), so these handlers read [`StrValue`]s and write them through
//! [`StrValue::make_raw`], which turns an `int`/`embstr` value into the `raw` byte vector Redis also
//! switches to on in-place modification. The bit arithmetic itself lives in
//! [`crate::storage::types::bitmap`], pure and unit-tested; this file parses arguments in Redis's order
//! (so the same bad request gets the same error) and moves bytes in and out of the keyspace.
//!
//! Behaviour follows Redis 7.2, including its quirks: BITCOUNT and BITPOS answer a missing key before
//! looking at the rest of the arguments (Redis 8 changed that), BITPOS for a clear bit treats the string
//! as zero-padded only when no `end` was given, BITFIELD with only GETs never creates the key while any
//! SET/INCRBY creates it even if every write then fails under `OVERFLOW FAIL`, and keywords are compared
//! as C strings (up to the first NUL byte) as Redis's `strcasecmp` does.

use crate::storage::notify;

use super::table::{acl, flags::*, ks, CommandSpec, Docs, Group, KeySpec};
use super::{Args, ExecCtx};
use crate::error::CmdError;
use crate::protocol::{parse_i64, Reply};
use crate::storage::db::Ttl;
use crate::storage::types::bitmap::{self as bm, BitOp, FieldType, Overflow, Unit};
use crate::storage::{StrValue, Value};

const BM: u64 = acl::BITMAP;

const fn docs(summary: &'static str, since: &'static str, complexity: &'static str) -> Docs {
    Docs {
        summary,
        since,
        complexity,
    }
}

#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec { name: "setbit", group: Group::Bitmap, arity: 4, flags: WRITE | DENYOOM, acl: BM, keys: &[KeySpec::one(1, ks::RW | ks::ACCESS | ks::UPDATE)], docs: docs("Sets or clears the bit at offset of the string value. Creates the key if it doesn't exist.", "2.2.0", "O(1)"), event: Some((notify::STRING, "setbit")), handler: setbit, ..CommandSpec::DEFAULT },
    CommandSpec { name: "getbit", group: Group::Bitmap, arity: 3, flags: READONLY | FAST, acl: BM, keys: &[KeySpec::one(1, ks::RO | ks::ACCESS)], docs: docs("Returns a bit value by offset.", "2.2.0", "O(1)"), handler: getbit, ..CommandSpec::DEFAULT },
    CommandSpec { name: "bitcount", group: Group::Bitmap, arity: -2, flags: READONLY, acl: BM, keys: &[KeySpec::one(1, ks::RO | ks::ACCESS)], docs: docs("Counts the number of set bits (population counting) in a string.", "2.6.0", "O(N)"), handler: bitcount, ..CommandSpec::DEFAULT },
    CommandSpec { name: "bitpos", group: Group::Bitmap, arity: -3, flags: READONLY, acl: BM, keys: &[KeySpec::one(1, ks::RO | ks::ACCESS)], docs: docs("Finds the first set (1) or clear (0) bit in a string.", "2.8.7", "O(N)"), handler: bitpos, ..CommandSpec::DEFAULT },
    CommandSpec { name: "bitop", group: Group::Bitmap, arity: -4, flags: WRITE | DENYOOM, acl: BM, keys: &[KeySpec::one(2, ks::OW | ks::UPDATE), KeySpec::range(3, -1, 1, ks::RO | ks::ACCESS)], docs: docs("Performs bitwise operations on multiple strings, and stores the result.", "2.6.0", "O(N)"), event: Some((notify::STRING, "set")), handler: bitop, ..CommandSpec::DEFAULT },
    CommandSpec { name: "bitfield", group: Group::Bitmap, arity: -2, flags: WRITE | DENYOOM, acl: BM, keys: &[KeySpec::one(1, ks::RW | ks::ACCESS | ks::UPDATE | ks::VARIABLE_FLAGS)], docs: docs("Performs arbitrary bitfield integer operations on strings.", "3.2.0", "O(1) for each subcommand specified"), event: Some((notify::STRING, "setbit")), handler: bitfield, ..CommandSpec::DEFAULT },
    CommandSpec { name: "bitfield_ro", group: Group::Bitmap, arity: -2, flags: READONLY | FAST, acl: BM, keys: &[KeySpec::one(1, ks::RO | ks::ACCESS)], docs: docs("Performs arbitrary read-only bitfield integer operations on strings.", "6.0.0", "O(1) for each subcommand specified"), handler: bitfield_ro, ..CommandSpec::DEFAULT },
];

/// A string value for reading: `Ok(None)` if the key is absent, WRONGTYPE if it holds another type.
fn read_str(v: Option<&Value>) -> Result<Option<&StrValue>, CmdError> {
    match v {
        None => Ok(None),
        Some(Value::Str(s)) => Ok(Some(s)),
        #[allow(unreachable_patterns)]
        Some(_) => Err(CmdError::WrongType),
    }
}

/// A string value for writing: WRONGTYPE if the key holds another type.
fn write_str(v: &mut Value) -> Result<&mut StrValue, CmdError> {
    match v {
        Value::Str(s) => Ok(s),
        #[allow(unreachable_patterns)]
        _ => Err(CmdError::WrongType),
    }
}

/// The value of a missing key that a write is about to grow.
fn empty_raw() -> Value {
    Value::Str(StrValue::Raw(crate::storage::value::RawBytes::new()))
}

/// `arg` as C sees it: up to its first NUL byte.
fn c_str(arg: &[u8]) -> &[u8] {
    match memchr::memchr(0, arg) {
        Some(i) => &arg[..i],
        None => arg,
    }
}

/// Redis's `strcasecmp(arg, kw) == 0`.
fn is_kw(arg: &[u8], kw: &str) -> bool {
    c_str(arg).eq_ignore_ascii_case(kw.as_bytes())
}

/// The string size limit (`proto-max-bulk-len`), which also bounds bit offsets.
fn max_bulk(ctx: &ExecCtx<'_>) -> i64 {
    ctx.server.config.read().proto_max_bulk_len
}

/// Parses a bit offset as Redis's `getBitOffsetFromArgument`: a non-negative integer whose byte lies
/// below `proto-max-bulk-len`. With `field_bits` (BITFIELD), `#N` means N fields of that width; the
/// multiplication wraps as it does in Redis's C, so huge `#N` values land where they land there.
fn bit_offset(arg: &[u8], field_bits: Option<u32>, max_bulk: i64) -> Result<u64, CmdError> {
    let (digits, mul) = match (arg.first(), field_bits) {
        (Some(b'#'), Some(bits)) => (&arg[1..], bits as i64),
        _ => (arg, 1),
    };
    let off = parse_i64(digits)
        .ok_or(CmdError::BitOffset)?
        .wrapping_mul(mul);
    if off < 0 || (off >> 3) >= max_bulk {
        return Err(CmdError::BitOffset);
    }
    Ok(off as u64)
}

/// `BYTE | BIT` (`ERR syntax error` otherwise).
fn unit(arg: &[u8]) -> Result<Unit, CmdError> {
    if is_kw(arg, "bit") {
        Ok(Unit::Bit)
    } else if is_kw(arg, "byte") {
        Ok(Unit::Byte)
    } else {
        Err(CmdError::Syntax)
    }
}

/// `SETBIT key offset value` → the bit's previous value (0 or 1). Grows the string with zero bytes up
/// to the offset; the offset must stay below `proto-max-bulk-len` bytes.
fn setbit(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let offset = bit_offset(args.next_bytes()?, None, max_bulk(ctx))?;
    let on = match parse_i64(args.next_bytes()?) {
        Some(0) => false,
        Some(1) => true,
        _ => return Err(CmdError::BitValue),
    };
    let dirty = ctx.dirty;
    let mut db = ctx.db();
    let existed = db.peek(key).is_some();
    let s = write_str(db.get_or_insert_with(key, empty_raw))?;
    let raw = s.make_raw();
    let len = raw.len();
    let old = bm::set_bit(raw, offset, on);
    // As Redis: a write (and the `setbit` event) only if the key was created, grew, or the bit changed.
    if existed && raw.len() == len && old == on {
        ctx.dirty = dirty;
    }
    Ok(Reply::Int(old as i64))
}

/// `GETBIT key offset` → the bit at `offset` (0 past the end of the string or for a missing key).
fn getbit(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let offset = bit_offset(args.next_bytes()?, None, max_bulk(ctx))?;
    let mut db = ctx.db();
    let bit = match read_str(db.get(key))? {
        Some(s) => bm::get_bit(&s.as_bytes(), offset),
        None => false,
    };
    Ok(Reply::Int(bit as i64))
}

/// `BITCOUNT key [start end [BYTE | BIT]]` → the number of set bits in the string, or in the range
/// (byte or bit indices, negative from the end). 0 for a missing key, whatever the other arguments.
fn bitcount(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let mut db = ctx.db();
    let Some(s) = read_str(db.get(key))? else {
        return Ok(Reply::Int(0));
    };
    let bytes = s.as_bytes();
    let range = match args.remaining() {
        0 => (!bytes.is_empty()).then(|| (0, bytes.len() as u64 * 8 - 1)),
        2 | 3 => {
            let start = args.next_i64()?;
            let end = args.next_i64()?;
            // Redis answers this case before reading the unit.
            if start < 0 && end < 0 && start > end {
                return Ok(Reply::Int(0));
            }
            let unit = match args.next() {
                Some(u) => unit(u)?,
                None => Unit::Byte,
            };
            bm::resolve_range(bytes.len(), start, end, unit)
        }
        _ => return Err(CmdError::Syntax),
    };
    Ok(Reply::Int(
        range.map_or(0, |(s, e)| bm::count_bits(&bytes, s, e)) as i64,
    ))
}

/// `BITPOS key bit [start [end [BYTE | BIT]]]` → the offset of the first bit equal to `bit`, or -1.
///
/// A missing key is all zeros (0 for a clear bit, -1 for a set bit). Looking for a clear bit without an
/// explicit `end`, the string counts as zero-padded: an all-ones range answers the first bit after it.
/// With an explicit `end`, or looking for a set bit, a range without a match answers -1.
fn bitpos(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let bit = match args.next_i64()? {
        0 => false,
        1 => true,
        _ => return Err(CmdError::BitArgument),
    };
    let mut db = ctx.db();
    let Some(s) = read_str(db.get(key))? else {
        return Ok(Reply::Int(if bit { -1 } else { 0 }));
    };
    let bytes = s.as_bytes();
    let last_byte = bytes.len() as i64 - 1;
    let (range, end_given) = match args.remaining() {
        0 => (
            bm::resolve_range(bytes.len(), 0, last_byte, Unit::Byte),
            false,
        ),
        n @ 1..=3 => {
            let start = args.next_i64()?;
            // Redis reads the unit before the end.
            let unit = if n == 3 {
                unit(&args.argv()[args.argv().len() - 1])?
            } else {
                Unit::Byte
            };
            let end = if n >= 2 { args.next_i64()? } else { last_byte };
            (bm::resolve_range(bytes.len(), start, end, unit), n >= 2)
        }
        _ => return Err(CmdError::Syntax),
    };
    let Some((start, end)) = range else {
        return Ok(Reply::Int(-1));
    };
    let pos = match bm::find_bit(&bytes, bit, start, end) {
        Some(p) => p as i64,
        None if bit || end_given => -1,
        None => end as i64 + 1,
    };
    Ok(Reply::Int(pos))
}

/// `BITOP AND | OR | XOR | NOT destkey key [key ...]` → the length of the string stored at `destkey`.
///
/// Sources are read as zero-padded to the longest one; missing keys are empty strings. NOT takes exactly
/// one source. An empty result deletes `destkey`; otherwise it is replaced (TTL cleared) by a `raw`
/// string.
fn bitop(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    let name = args.next_bytes()?;
    let op = if is_kw(name, "and") {
        BitOp::And
    } else if is_kw(name, "or") {
        BitOp::Or
    } else if is_kw(name, "xor") {
        BitOp::Xor
    } else if is_kw(name, "not") {
        BitOp::Not
    } else {
        return Err(CmdError::Syntax);
    };
    let dest = args.next_bytes()?;
    let sources = args.rest();
    if op == BitOp::Not && sources.len() != 1 {
        return Err(CmdError::BitopNotSingleSource);
    }
    let mut db = ctx.db();
    let mut acc: Vec<u8> = Vec::new();
    for (i, key) in sources.iter().enumerate() {
        let s = read_str(db.get(key))?;
        let src = s.map(|s| s.as_bytes());
        let src: &[u8] = src.as_deref().unwrap_or(&[]);
        if i == 0 {
            acc = src.to_vec();
        } else {
            bm::fold_into(&mut acc, src, op);
        }
    }
    if op == BitOp::Not {
        bm::not_in_place(&mut acc);
    }
    if acc.is_empty() {
        db.remove(dest);
        return Ok(Reply::Int(0));
    }
    let len = acc.len() as i64;
    db.set(
        dest,
        Value::Str(StrValue::Raw(crate::storage::value::raw::from_slice(&acc))),
        Ttl::Clear,
    );
    Ok(Reply::Int(len))
}

/// One parsed BITFIELD operation.
#[derive(Debug, Clone, Copy)]
enum FieldOp {
    Get,
    Set(i64),
    IncrBy(i64),
}

#[derive(Debug, Clone, Copy)]
struct Field {
    op: FieldOp,
    ty: FieldType,
    offset: u64,
    overflow: Overflow,
}

/// Parses BITFIELD's operation list, in Redis's order of checks. Returns the operations and, if any of
/// them writes, the highest bit offset written.
fn parse_fields(args: &mut Args, max_bulk: i64) -> Result<(Vec<Field>, Option<u64>), CmdError> {
    let mut fields = Vec::new();
    let mut overflow = Overflow::Wrap;
    let mut highest: Option<u64> = None;
    while let Some(sub) = args.next() {
        let left = args.remaining();
        let op = if is_kw(sub, "get") && left >= 2 {
            FieldOp::Get
        } else if is_kw(sub, "set") && left >= 3 {
            FieldOp::Set(0)
        } else if is_kw(sub, "incrby") && left >= 3 {
            FieldOp::IncrBy(0)
        } else if is_kw(sub, "overflow") && left >= 1 {
            let kind = args.next_bytes()?;
            overflow = if is_kw(kind, "wrap") {
                Overflow::Wrap
            } else if is_kw(kind, "sat") {
                Overflow::Sat
            } else if is_kw(kind, "fail") {
                Overflow::Fail
            } else {
                return Err(CmdError::BitfieldOverflowType);
            };
            continue;
        } else {
            return Err(CmdError::Syntax);
        };
        let ty = FieldType::parse(c_str(args.next_bytes()?)).ok_or(CmdError::BitfieldType)?;
        let offset = bit_offset(args.next_bytes()?, Some(ty.bits), max_bulk)?;
        let op = match op {
            FieldOp::Get => FieldOp::Get,
            write => {
                let last = offset + ty.bits as u64 - 1;
                highest = Some(highest.map_or(last, |h| h.max(last)));
                let v = args.next_i64()?;
                if matches!(write, FieldOp::Set(_)) {
                    FieldOp::Set(v)
                } else {
                    FieldOp::IncrBy(v)
                }
            }
        };
        fields.push(Field {
            op,
            ty,
            offset,
            overflow,
        });
    }
    Ok((fields, highest))
}

/// Runs BITFIELD's operations: read-only ones against the stored bytes (or none), writing ones against
/// the value grown to cover every write.
fn bitfield_generic(
    ctx: &mut ExecCtx<'_>,
    args: &mut Args,
    read_only_cmd: bool,
) -> Result<Reply, CmdError> {
    let key = args.next_bytes()?;
    let (fields, highest) = parse_fields(args, max_bulk(ctx))?;
    let dirty = ctx.dirty;
    let mut db = ctx.db();
    let Some(highest) = highest else {
        let s = read_str(db.get(key))?;
        let bytes = s.map(|s| s.as_bytes());
        let bytes: &[u8] = bytes.as_deref().unwrap_or(&[]);
        return Ok(Reply::Array(
            fields
                .iter()
                .map(|f| Reply::Int(bm::get_field(bytes, f.offset, f.ty)))
                .collect(),
        ));
    };
    if read_only_cmd {
        return Err(CmdError::BitfieldRoGetOnly);
    }
    let b = write_str(db.get_or_insert_with(key, empty_raw))?.make_raw();
    bm::grow_to_bit(b, highest);
    let mut changes = 0u64;
    let replies = fields
        .iter()
        .map(|f| {
            let old = bm::get_field(b, f.offset, f.ty);
            let (new, reply) = match f.op {
                FieldOp::Get => return Reply::Int(old),
                FieldOp::Set(v) => match bm::set_value(f.ty, v, f.overflow) {
                    Some((new, _)) => (new, old),
                    None => return Reply::Nil,
                },
                FieldOp::IncrBy(d) => match bm::apply(f.ty, old, d, f.overflow) {
                    Some((new, _)) => (new, new),
                    None => return Reply::Nil,
                },
            };
            bm::set_field(b, f.offset, f.ty, new);
            changes += 1;
            Reply::Int(reply)
        })
        .collect();
    // As Redis: the writes (and the `setbit` event) are the SETs and INCRBYs that were applied.
    ctx.dirty = dirty + changes;
    Ok(Reply::Array(replies))
}

/// `BITFIELD key [GET type offset | [OVERFLOW WRAP | SAT | FAIL] SET type offset value |
/// [OVERFLOW WRAP | SAT | FAIL] INCRBY type offset increment ...]` → one reply per GET/SET/INCRBY: the
/// field's value (GET), its previous value (SET), its new value (INCRBY), or nil when `OVERFLOW FAIL`
/// refused the write. Types are `i1`..`i64` and `u1`..`u63`; `#N` offsets count fields of the type's
/// width. Only GETs: a missing key reads as zeros and is not created.
fn bitfield(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    bitfield_generic(ctx, args, false)
}

/// `BITFIELD_RO key [GET type offset ...]` → one integer per GET, as BITFIELD; any other operation is
/// refused (after the whole request has been parsed).
fn bitfield_ro(ctx: &mut ExecCtx<'_>, args: &mut Args) -> Result<Reply, CmdError> {
    bitfield_generic(ctx, args, true)
}
