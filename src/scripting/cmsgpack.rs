//! The `cmsgpack` library as Redis ships it (lua-cmsgpack): `pack(...)` and `unpack(s)`.
//!
//! Encoding follows lua-cmsgpack: integral numbers as the smallest integer form, other numbers as a
//! float32 when exact, else a float64; a table whose keys are exactly `1..n` as an array, any other
//! table as a map; nesting deeper than 16 encodes nil; functions and userdata encode nil.

use mlua::{Lua, Table, Value, Variadic};

const MAX_NESTING: usize = 16;

fn fail(msg: &str) -> mlua::Error {
    mlua::Error::RuntimeError(msg.to_string())
}

pub fn open(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.raw_set(
        "pack",
        lua.create_function(|lua, args: Variadic<Value>| {
            if args.is_empty() {
                return Err(fail("MessagePack pack needs input."));
            }
            let mut out = Vec::new();
            for v in args.iter() {
                encode(v, &mut out, 0)?;
            }
            lua.create_string(&out)
        })?,
    )?;
    t.raw_set(
        "unpack",
        lua.create_function(|lua, s: mlua::String| unpack_full(lua, &s.as_bytes(), 0, 0))?,
    )?;
    t.raw_set(
        "unpack_one",
        lua.create_function(|lua, (s, offset): (mlua::String, Option<i64>)| {
            unpack_full(lua, &s.as_bytes(), 1, offset.unwrap_or(0))
        })?,
    )?;
    t.raw_set(
        "unpack_limit",
        lua.create_function(
            |lua, (s, limit, offset): (mlua::String, i64, Option<i64>)| {
                unpack_full(lua, &s.as_bytes(), limit, offset.unwrap_or(0))
            },
        )?,
    )?;
    t.raw_set("_NAME", "cmsgpack")?;
    t.raw_set("_VERSION", "lua-cmsgpack 0.4.0")?;
    t.raw_set("_COPYRIGHT", "Copyright (C) 2012, Salvatore Sanfilippo")?;
    t.raw_set("_DESCRIPTION", "MessagePack C implementation for Lua")?;
    Ok(t)
}

/// lua-cmsgpack's `mp_unpack_full`: up to `limit` values from byte `offset` (both 0: every value,
/// no offset returned); otherwise the next offset (-1 at the end) comes first.
fn unpack_full(lua: &Lua, s: &[u8], limit: i64, offset: i64) -> mlua::Result<Variadic<Value>> {
    let len = s.len();
    if offset < 0 || limit < 0 {
        // Sic: lua-cmsgpack prints the input length as the limit.
        return Err(fail(&format!(
            "Invalid request to unpack with offset of {offset} and limit of {len}."
        )));
    }
    if offset as u64 > len as u64 {
        return Err(fail(&format!(
            "Start offset {offset} greater than input length {len}."
        )));
    }
    let decode_all = limit == 0 && offset == 0;
    let limit = if decode_all { i64::MAX } else { limit };
    let mut d = Decoder {
        s,
        pos: offset as usize,
        depth: 0,
    };
    let mut out = Vec::new();
    let mut count = 0;
    while d.pos < len && count < limit {
        out.push(d.value(lua)?);
        count += 1;
    }
    if !decode_all {
        let next = if d.pos == len { -1 } else { d.pos as i64 };
        out.insert(0, Value::Number(next as f64));
    }
    Ok(Variadic::from_iter(out))
}

fn int(i: i64, out: &mut Vec<u8>) {
    if i >= 0 {
        let u = i as u64;
        if u <= 127 {
            out.push(u as u8);
        } else if u <= 0xff {
            out.extend_from_slice(&[0xcc, u as u8]);
        } else if u <= 0xffff {
            out.push(0xcd);
            out.extend_from_slice(&(u as u16).to_be_bytes());
        } else if u <= 0xffff_ffff {
            out.push(0xce);
            out.extend_from_slice(&(u as u32).to_be_bytes());
        } else {
            out.push(0xcf);
            out.extend_from_slice(&u.to_be_bytes());
        }
    } else if i >= -32 {
        out.push(i as i8 as u8);
    } else if i >= -128 {
        out.extend_from_slice(&[0xd0, i as i8 as u8]);
    } else if i >= -32768 {
        out.push(0xd1);
        out.extend_from_slice(&(i as i16).to_be_bytes());
    } else if i >= -2_147_483_648 {
        out.push(0xd2);
        out.extend_from_slice(&(i as i32).to_be_bytes());
    } else {
        out.push(0xd3);
        out.extend_from_slice(&i.to_be_bytes());
    }
}

fn number(n: f64, out: &mut Vec<u8>) {
    if (super::engine::I64_LOW..super::engine::I64_HIGH).contains(&n) && (n as i64) as f64 == n {
        int(n as i64, out);
    } else if (n as f32) as f64 == n || n.is_nan() {
        out.push(0xca);
        out.extend_from_slice(&(n as f32).to_be_bytes());
    } else {
        out.push(0xcb);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

fn len_header(out: &mut Vec<u8>, len: usize, fix: u8, fix_max: usize, b16: u8, b32: u8) {
    if len <= fix_max {
        out.push(fix | len as u8);
    } else if len <= 0xffff {
        out.push(b16);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(b32);
        out.extend_from_slice(&(len as u32).to_be_bytes());
    }
}

fn encode(v: &Value, out: &mut Vec<u8>, level: usize) -> mlua::Result<()> {
    match v {
        Value::Boolean(b) => out.push(if *b { 0xc3 } else { 0xc2 }),
        Value::Integer(i) => int(*i, out),
        Value::Number(n) => number(*n, out),
        Value::String(s) => {
            let b = s.as_bytes();
            let len = b.len();
            if len < 32 {
                out.push(0xa0 | len as u8);
            } else if len <= 0xff {
                out.extend_from_slice(&[0xd9, len as u8]);
            } else if len <= 0xffff {
                out.push(0xda);
                out.extend_from_slice(&(len as u16).to_be_bytes());
            } else {
                out.push(0xdb);
                out.extend_from_slice(&(len as u32).to_be_bytes());
            }
            out.extend_from_slice(&b);
        }
        Value::Table(t) if level < MAX_NESTING => {
            if let Some(len) = array_len(t)? {
                len_header(out, len, 0x90, 15, 0xdc, 0xdd);
                for i in 1..=len {
                    encode(&t.raw_get::<Value>(i)?, out, level + 1)?;
                }
            } else {
                let pairs: Vec<(Value, Value)> = t
                    .clone()
                    .pairs::<Value, Value>()
                    .collect::<mlua::Result<_>>()?;
                len_header(out, pairs.len(), 0x80, 15, 0xde, 0xdf);
                for (k, v) in &pairs {
                    encode(k, out, level + 1)?;
                    encode(v, out, level + 1)?;
                }
            }
        }
        _ => out.push(0xc0),
    }
    Ok(())
}

/// `Some(n)` if the table's keys are exactly the integers `1..=n`.
fn array_len(t: &Table) -> mlua::Result<Option<usize>> {
    let (mut max, mut count) = (0f64, 0usize);
    for pair in t.clone().pairs::<Value, Value>() {
        let (k, _) = pair?;
        let n = match k {
            Value::Integer(i) if i > 0 => i as f64,
            Value::Number(n) if n > 0.0 && n.floor() == n => n,
            _ => return Ok(None),
        };
        max = max.max(n);
        count += 1;
    }
    Ok((max == count as f64).then_some(count))
}

/// Nesting deeper than this fails as Redis's Lua stack check does (Rust's stack is the limit here).
const MAX_DECODE_DEPTH: usize = 1000;

struct Decoder<'s> {
    s: &'s [u8],
    pos: usize,
    depth: usize,
}

impl Decoder<'_> {
    fn take(&mut self, n: usize) -> mlua::Result<&[u8]> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.s.len())
            .ok_or_else(|| fail("Missing bytes in input."))?;
        let b = &self.s[self.pos..end];
        self.pos = end;
        Ok(b)
    }

    fn uint(&mut self, n: usize) -> mlua::Result<u64> {
        Ok(self
            .take(n)?
            .iter()
            .fold(0u64, |acc, &b| (acc << 8) | b as u64))
    }

    fn value(&mut self, lua: &Lua) -> mlua::Result<Value> {
        let c = self.take(1)?[0];
        let num = |n: f64| Ok(Value::Number(n));
        match c {
            0x00..=0x7f => num(c as f64),
            0x80..=0x8f => self.map(lua, (c & 0x0f) as usize),
            0x90..=0x9f => self.array(lua, (c & 0x0f) as usize),
            0xa0..=0xbf => self.str(lua, (c & 0x1f) as usize),
            0xc0 => Ok(Value::Nil),
            0xc2 => Ok(Value::Boolean(false)),
            0xc3 => Ok(Value::Boolean(true)),
            0xc4 | 0xd9 => {
                let n = self.uint(1)? as usize;
                self.str(lua, n)
            }
            0xc5 | 0xda => {
                let n = self.uint(2)? as usize;
                self.str(lua, n)
            }
            0xc6 | 0xdb => {
                let n = self.uint(4)? as usize;
                self.str(lua, n)
            }
            0xca => num(f32::from_bits(self.uint(4)? as u32) as f64),
            0xcb => num(f64::from_bits(self.uint(8)?)),
            0xcc => num(self.uint(1)? as f64),
            0xcd => num(self.uint(2)? as f64),
            0xce => num(self.uint(4)? as f64),
            0xcf => num(self.uint(8)? as f64),
            0xd0 => num(self.uint(1)? as u8 as i8 as f64),
            0xd1 => num(self.uint(2)? as u16 as i16 as f64),
            0xd2 => num(self.uint(4)? as u32 as i32 as f64),
            0xd3 => num(self.uint(8)? as i64 as f64),
            0xdc => {
                let n = self.uint(2)? as usize;
                self.array(lua, n)
            }
            0xdd => {
                let n = self.uint(4)? as usize;
                self.array(lua, n)
            }
            0xde => {
                let n = self.uint(2)? as usize;
                self.map(lua, n)
            }
            0xdf => {
                let n = self.uint(4)? as usize;
                self.map(lua, n)
            }
            0xe0..=0xff => num(c as i8 as f64),
            _ => Err(fail("Bad data format in input.")),
        }
    }

    fn str(&mut self, lua: &Lua, n: usize) -> mlua::Result<Value> {
        let b = self.take(n)?;
        Ok(Value::String(lua.create_string(b)?))
    }

    fn nest(&mut self, what: &str) -> mlua::Result<()> {
        self.depth += 1;
        if self.depth > MAX_DECODE_DEPTH {
            return Err(fail(&format!("stack overflow (in function {what})")));
        }
        Ok(())
    }

    fn array(&mut self, lua: &Lua, n: usize) -> mlua::Result<Value> {
        self.nest("mp_decode_to_lua_array")?;
        // Each element takes at least one byte: a count beyond the input is truncated data.
        if n > self.s.len() - self.pos {
            return Err(fail("Missing bytes in input."));
        }
        let t = lua.create_table_with_capacity(n, 0)?;
        for i in 1..=n {
            t.raw_set(i, self.value(lua)?)?;
        }
        self.depth -= 1;
        Ok(Value::Table(t))
    }

    fn map(&mut self, lua: &Lua, n: usize) -> mlua::Result<Value> {
        self.nest("mp_decode_to_lua_hash")?;
        if n > self.s.len() - self.pos {
            return Err(fail("Missing bytes in input."));
        }
        let t = lua.create_table()?;
        for _ in 0..n {
            let k = self.value(lua)?;
            let v = self.value(lua)?;
            if !matches!(k, Value::Nil) {
                t.raw_set(k, v)?;
            }
        }
        self.depth -= 1;
        Ok(Value::Table(t))
    }
}
