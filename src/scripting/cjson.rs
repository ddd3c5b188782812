//! The `cjson` library as Redis ships it (lua-cjson 2.1 with Redis's defaults), written over Lua values
//! directly so that its texts match: numbers as `%.14g`, `/` escaped, an empty table as `{}`, sparse
//! arrays refused, `cjson.null` a NULL light userdata, and the decoder's error messages
//! (`Expected value but found invalid token at character 1`).

use mlua::{Lua, Table, Value};

use super::engine::{fmt_g, null};

const MAX_DEPTH: usize = 1000;

fn fail(msg: String) -> mlua::Error {
    mlua::Error::RuntimeError(msg)
}

pub fn open(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.raw_set(
        "encode",
        lua.create_function(|lua, v: Value| {
            let mut out = Vec::new();
            encode(&v, &mut out, 0)?;
            lua.create_string(&out)
        })?,
    )?;
    t.raw_set(
        "decode",
        lua.create_function(|lua, s: mlua::String| {
            let bytes = s.as_bytes();
            let mut p = Parser {
                lua,
                s: &bytes,
                pos: 0,
            };
            let v = p.value(0)?;
            match p.token()? {
                (Tok::End, _) => Ok(v),
                (tok, at) => Err(fail(format!(
                    "Expected the end but found {} at character {}",
                    tok.name(),
                    at + 1
                ))),
            }
        })?,
    )?;
    t.raw_set("null", null())?;
    t.raw_set("_NAME", "cjson")?;
    t.raw_set("_VERSION", "2.1.0")?;
    // The configuration functions answer Redis's defaults; settings are not kept (a script cannot
    // change them for the next one anyway in Redis 7, whose cjson table is read-only).
    let defaults: [(&str, Vec<Value>); 7] = [
        (
            "encode_sparse_array",
            vec![
                Value::Boolean(false),
                Value::Number(2.0),
                Value::Number(10.0),
            ],
        ),
        ("encode_max_depth", vec![Value::Number(MAX_DEPTH as f64)]),
        ("decode_max_depth", vec![Value::Number(MAX_DEPTH as f64)]),
        ("encode_number_precision", vec![Value::Number(14.0)]),
        ("encode_keep_buffer", vec![Value::Boolean(true)]),
        ("encode_invalid_numbers", vec![Value::Boolean(false)]),
        ("decode_invalid_numbers", vec![Value::Boolean(true)]),
    ];
    for (name, values) in defaults {
        t.raw_set(
            name,
            lua.create_function(move |_, _: mlua::MultiValue| {
                Ok(mlua::MultiValue::from_vec(values.clone()))
            })?,
        )?;
    }
    Ok(t)
}

fn encode(v: &Value, out: &mut Vec<u8>, depth: usize) -> mlua::Result<()> {
    match v {
        Value::Nil => out.extend_from_slice(b"null"),
        Value::LightUserData(p) if p.0.is_null() => out.extend_from_slice(b"null"),
        Value::Boolean(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Integer(i) => number(*i as f64, out)?,
        Value::Number(n) => number(*n, out)?,
        Value::String(s) => string(&s.as_bytes(), out),
        Value::Table(t) => {
            let depth = depth + 1;
            if depth > MAX_DEPTH {
                return Err(fail(format!(
                    "Cannot serialise, excessive nesting ({depth})"
                )));
            }
            let len = array_length(t)?;
            if len > 0 {
                out.push(b'[');
                for i in 1..=len {
                    if i > 1 {
                        out.push(b',');
                    }
                    encode(&t.raw_get::<Value>(i)?, out, depth)?;
                }
                out.push(b']');
            } else {
                out.push(b'{');
                let mut first = true;
                for pair in t.clone().pairs::<Value, Value>() {
                    let (k, v) = pair?;
                    if !first {
                        out.push(b',');
                    }
                    first = false;
                    match &k {
                        Value::Integer(i) => string(fmt_g(*i as f64, 14).as_bytes(), out),
                        Value::Number(n) => string(fmt_g(*n, 14).as_bytes(), out),
                        Value::String(s) => string(&s.as_bytes(), out),
                        _ => {
                            return Err(fail(
                                "Cannot serialise table: table key must be a number or string"
                                    .into(),
                            ))
                        }
                    }
                    out.push(b':');
                    encode(&v, out, depth)?;
                }
                out.push(b'}');
            }
        }
        other => {
            return Err(fail(format!(
                "Cannot serialise {}: type not supported",
                other.type_name()
            )))
        }
    }
    Ok(())
}

fn number(n: f64, out: &mut Vec<u8>) -> mlua::Result<()> {
    if !n.is_finite() {
        return Err(fail(
            "Cannot serialise number: must not be NaN or Inf".into(),
        ));
    }
    out.extend_from_slice(fmt_g(n, 14).as_bytes());
    Ok(())
}

/// lua-cjson's `lua_array_length`: the largest key if every key is a positive integer (0 for none),
/// `0` (encode as an object) otherwise; an error for an excessively sparse array.
fn array_length(t: &Table) -> mlua::Result<usize> {
    let (mut max, mut items) = (0usize, 0usize);
    for pair in t.clone().pairs::<Value, Value>() {
        let (k, _) = pair?;
        let n = match k {
            Value::Integer(i) if i >= 1 => i as f64,
            Value::Number(n) if n >= 1.0 && n.floor() == n => n,
            _ => return Ok(0),
        };
        if n > usize::MAX as f64 / 4.0 {
            return Err(fail(
                "Cannot serialise table: excessively sparse array".into(),
            ));
        }
        max = max.max(n as usize);
        items += 1;
    }
    if max > items.saturating_mul(2) && max > 10 {
        return Err(fail(
            "Cannot serialise table: excessively sparse array".into(),
        ));
    }
    Ok(max)
}

fn string(s: &[u8], out: &mut Vec<u8>) {
    out.push(b'"');
    for &c in s {
        match c {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'/' => out.extend_from_slice(b"\\/"),
            8 => out.extend_from_slice(b"\\b"),
            9 => out.extend_from_slice(b"\\t"),
            10 => out.extend_from_slice(b"\\n"),
            12 => out.extend_from_slice(b"\\f"),
            13 => out.extend_from_slice(b"\\r"),
            0..=31 | 127 => out.extend_from_slice(format!("\\u{:04x}", c).as_bytes()),
            _ => out.push(c),
        }
    }
    out.push(b'"');
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Tok {
    ObjBegin,
    ObjEnd,
    ArrBegin,
    ArrEnd,
    Str,
    Num,
    Bool,
    Null,
    Colon,
    Comma,
    End,
    Error(&'static str),
}

impl Tok {
    fn name(self) -> &'static str {
        match self {
            Tok::ObjBegin => "T_OBJ_BEGIN",
            Tok::ObjEnd => "T_OBJ_END",
            Tok::ArrBegin => "T_ARR_BEGIN",
            Tok::ArrEnd => "T_ARR_END",
            Tok::Str => "T_STRING",
            Tok::Num => "T_NUMBER",
            Tok::Bool => "T_BOOLEAN",
            Tok::Null => "T_NULL",
            Tok::Colon => "T_COLON",
            Tok::Comma => "T_COMMA",
            Tok::End => "T_END",
            Tok::Error(m) => m,
        }
    }
}

struct Parser<'l, 's> {
    lua: &'l Lua,
    s: &'s [u8],
    pos: usize,
}

impl Parser<'_, '_> {
    fn expected(&self, what: &str, tok: Tok, at: usize) -> mlua::Error {
        fail(format!(
            "Expected {what} but found {} at character {}",
            tok.name(),
            at + 1
        ))
    }

    /// The next token's kind and start; the token's value is left for `value` to read.
    fn token(&mut self) -> mlua::Result<(Tok, usize)> {
        while self.pos < self.s.len() && matches!(self.s[self.pos], b' ' | b'\t' | b'\n' | b'\r') {
            self.pos += 1;
        }
        let at = self.pos;
        let Some(&c) = self.s.get(at) else {
            return Ok((Tok::End, at));
        };
        let tok = match c {
            b'{' => Tok::ObjBegin,
            b'}' => Tok::ObjEnd,
            b'[' => Tok::ArrBegin,
            b']' => Tok::ArrEnd,
            b':' => Tok::Colon,
            b',' => Tok::Comma,
            b'"' => return Ok((Tok::Str, at)),
            b'-' | b'0'..=b'9' => return Ok((Tok::Num, at)),
            b't' if self.s[at..].starts_with(b"true") => {
                self.pos += 4;
                return Ok((Tok::Bool, at));
            }
            b'f' if self.s[at..].starts_with(b"false") => {
                self.pos += 5;
                return Ok((Tok::Bool, at));
            }
            b'n' if self.s[at..].starts_with(b"null") => {
                self.pos += 4;
                return Ok((Tok::Null, at));
            }
            _ => Tok::Error("invalid token"),
        };
        if !matches!(tok, Tok::Error(_)) {
            self.pos += 1;
        }
        Ok((tok, at))
    }

    fn value(&mut self, depth: usize) -> mlua::Result<Value> {
        let (tok, at) = self.token()?;
        self.value_from(tok, at, depth)
    }

    fn value_from(&mut self, tok: Tok, at: usize, depth: usize) -> mlua::Result<Value> {
        Ok(match tok {
            Tok::Str => Value::String(self.lua.create_string(self.string()?)?),
            Tok::Num => Value::Number(self.number()?),
            Tok::Bool => Value::Boolean(self.s[at] == b't'),
            Tok::Null => null(),
            Tok::ObjBegin | Tok::ArrBegin => {
                let depth = depth + 1;
                if depth > MAX_DEPTH {
                    return Err(fail(format!(
                        "Found too many nested data structures ({depth}) at character {}",
                        at + 1
                    )));
                }
                if tok == Tok::ObjBegin {
                    self.object(depth)?
                } else {
                    self.array(depth)?
                }
            }
            other => return Err(self.expected("value", other, at)),
        })
    }

    fn object(&mut self, depth: usize) -> mlua::Result<Value> {
        let t = self.lua.create_table()?;
        let (mut tok, mut at) = self.token()?;
        if tok == Tok::ObjEnd {
            return Ok(Value::Table(t));
        }
        loop {
            if tok != Tok::Str {
                return Err(self.expected("object key string", tok, at));
            }
            let key = self.lua.create_string(self.string()?)?;
            let (colon, cat) = self.token()?;
            if colon != Tok::Colon {
                return Err(self.expected("colon", colon, cat));
            }
            let v = self.value(depth)?;
            t.raw_set(key, v)?;
            let (next, nat) = self.token()?;
            match next {
                Tok::ObjEnd => return Ok(Value::Table(t)),
                Tok::Comma => {}
                other => return Err(self.expected("comma or object end", other, nat)),
            }
            (tok, at) = self.token()?;
        }
    }

    fn array(&mut self, depth: usize) -> mlua::Result<Value> {
        let t = self.lua.create_table()?;
        let (tok, at) = self.token()?;
        if tok == Tok::ArrEnd {
            return Ok(Value::Table(t));
        }
        let mut i = 1;
        let mut v = self.value_from(tok, at, depth)?;
        loop {
            t.raw_set(i, v)?;
            i += 1;
            let (next, nat) = self.token()?;
            match next {
                Tok::ArrEnd => return Ok(Value::Table(t)),
                Tok::Comma => {}
                other => return Err(self.expected("comma or array end", other, nat)),
            }
            v = self.value(depth)?;
        }
    }

    /// A string token starting at `self.pos` (the opening quote).
    fn string(&mut self) -> mlua::Result<Vec<u8>> {
        let start = self.pos;
        self.pos += 1;
        let mut out = Vec::new();
        let _ = start;
        let err = |msg: &'static str, at: usize| {
            fail(format!(
                "Expected value but found {msg} at character {}",
                at + 1
            ))
        };
        loop {
            let Some(&c) = self.s.get(self.pos) else {
                return Err(err("unexpected end of string", self.pos));
            };
            self.pos += 1;
            match c {
                b'"' => return Ok(out),
                b'\\' => {
                    let esc_at = self.pos - 1;
                    let Some(&e) = self.s.get(self.pos) else {
                        return Err(err("unexpected end of string", self.pos));
                    };
                    self.pos += 1;
                    match e {
                        b'"' | b'\\' | b'/' => out.push(e),
                        b'b' => out.push(8),
                        b'f' => out.push(12),
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'u' => {
                            let cp = self
                                .unicode()
                                .ok_or_else(|| err("invalid unicode escape code", esc_at))?;
                            let ch = char::from_u32(cp).unwrap_or('\u{fffd}');
                            let mut buf = [0u8; 4];
                            out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                        }
                        _ => return Err(err("invalid escape code", esc_at)),
                    }
                }
                _ => out.push(c),
            }
        }
    }

    fn hex4(&mut self) -> Option<u32> {
        let h = self.s.get(self.pos..self.pos + 4)?;
        let v = u32::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok()?;
        self.pos += 4;
        Some(v)
    }

    fn unicode(&mut self) -> Option<u32> {
        let hi = self.hex4()?;
        if (0xd800..0xdc00).contains(&hi) {
            if self.s.get(self.pos..self.pos + 2) != Some(b"\\u") {
                return None;
            }
            self.pos += 2;
            let lo = self.hex4()?;
            if !(0xdc00..0xe000).contains(&lo) {
                return None;
            }
            return Some(0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00));
        }
        if (0xdc00..0xe000).contains(&hi) {
            return None;
        }
        Some(hi)
    }

    fn number(&mut self) -> mlua::Result<f64> {
        let start = self.pos;
        let mut end = start;
        while end < self.s.len()
            && matches!(self.s[end], b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
        {
            end += 1;
        }
        let text = std::str::from_utf8(&self.s[start..end]).unwrap_or("");
        match text.parse::<f64>() {
            Ok(n) => {
                self.pos = end;
                Ok(n)
            }
            _ => Err(fail(format!(
                "Expected value but found invalid number at character {}",
                start + 1
            ))),
        }
    }
}
