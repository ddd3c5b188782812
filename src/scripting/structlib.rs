//! The `struct` library as Redis ships it (Roberto Ierusalimschy's lua-struct 0.2): `pack`, `unpack`
//! and `size` over a format string (`<` `>` `!n` endianness and alignment, `b B h H l L T i[n] I[n]`
//! integers, `f d` floats, `c[n]` fixed strings, `s` zero-terminated strings, `x` padding), with the
//! sizes of a 64-bit Linux build (`long` and `size_t` 8 bytes, `int` 4).

use mlua::{Lua, MultiValue, Table, Value, Variadic};

const MAX_INT_SIZE: usize = 32;
const MAX_ALIGN: usize = 8;

fn fail(msg: String) -> mlua::Error {
    mlua::Error::RuntimeError(msg)
}

fn arg_error(func: &str, n: usize, msg: &str) -> mlua::Error {
    fail(format!("bad argument #{n} to '{func}' ({msg})"))
}

struct Header {
    little: bool,
    align: usize,
}

struct Format<'f> {
    fmt: &'f [u8],
    pos: usize,
}

impl Format<'_> {
    fn next(&mut self) -> Option<u8> {
        let c = *self.fmt.get(self.pos)?;
        self.pos += 1;
        Some(c)
    }

    /// Digits following an option, or `default`.
    fn num(&mut self, default: usize) -> mlua::Result<usize> {
        if !self.fmt.get(self.pos).is_some_and(u8::is_ascii_digit) {
            return Ok(default);
        }
        let mut a: usize = 0;
        while let Some(&d) = self.fmt.get(self.pos).filter(|d| d.is_ascii_digit()) {
            a = a
                .checked_mul(10)
                .and_then(|a| a.checked_add((d - b'0') as usize))
                .filter(|&a| a <= i32::MAX as usize)
                .ok_or_else(|| fail("integral size overflow".into()))?;
            self.pos += 1;
        }
        Ok(a)
    }

    fn size(&mut self, opt: u8) -> mlua::Result<usize> {
        Ok(match opt {
            b'B' | b'b' => 1,
            b'H' | b'h' => 2,
            b'L' | b'l' | b'T' => 8,
            b'f' => 4,
            b'd' => 8,
            b'x' => 1,
            b'c' => self.num(1)?,
            b'i' | b'I' => {
                let sz = self.num(4)?;
                if sz > MAX_INT_SIZE {
                    return Err(fail(format!(
                        "integral size {sz} is larger than limit of {MAX_INT_SIZE}"
                    )));
                }
                sz
            }
            _ => 0,
        })
    }

    fn control(&mut self, func: &str, opt: u8, h: &mut Header) -> mlua::Result<()> {
        match opt {
            b' ' => {}
            b'>' => h.little = false,
            b'<' => h.little = true,
            b'!' => {
                let a = self.num(MAX_ALIGN)?;
                if !a.is_power_of_two() {
                    return Err(fail(format!("alignment {a} is not a power of 2")));
                }
                h.align = a;
            }
            other => {
                return Err(arg_error(
                    func,
                    1,
                    &format!("invalid format option '{}'", other as char),
                ))
            }
        }
        Ok(())
    }
}

fn to_align(len: usize, h: &Header, opt: u8, size: usize) -> usize {
    if size == 0 || opt == b'c' {
        return 0;
    }
    let size = size.min(h.align);
    (size - (len & (size - 1))) & (size - 1)
}

fn number(func: &str, args: &[Value], i: usize) -> mlua::Result<f64> {
    match args.get(i) {
        Some(Value::Integer(n)) => Ok(*n as f64),
        Some(Value::Number(n)) => Ok(*n),
        Some(Value::String(s)) => std::str::from_utf8(&s.as_bytes())
            .ok()
            .and_then(|t| t.trim().parse().ok())
            .ok_or_else(|| arg_error(func, i + 1, "number expected, got string")),
        Some(v) => Err(arg_error(
            func,
            i + 1,
            &format!("number expected, got {}", v.type_name()),
        )),
        None => Err(arg_error(func, i + 1, "number expected, got nil")),
    }
}

fn bytes(func: &str, args: &[Value], i: usize) -> mlua::Result<Vec<u8>> {
    match args.get(i) {
        Some(Value::String(s)) => Ok(s.as_bytes().to_vec()),
        Some(Value::Integer(n)) => Ok(super::engine::fmt_g(*n as f64, 14).into_bytes()),
        Some(Value::Number(n)) => Ok(super::engine::fmt_g(*n, 14).into_bytes()),
        Some(v) => Err(arg_error(
            func,
            i + 1,
            &format!("string expected, got {}", v.type_name()),
        )),
        None => Err(arg_error(func, i + 1, "string expected, got nil")),
    }
}

fn put(out: &mut Vec<u8>, raw: &[u8], little: bool) {
    if little {
        out.extend_from_slice(raw);
    } else {
        out.extend(raw.iter().rev());
    }
}

fn pack(args: &[Value]) -> mlua::Result<Vec<u8>> {
    let fmt = bytes("pack", args, 0)?;
    let mut f = Format { fmt: &fmt, pos: 0 };
    let mut h = Header {
        little: true,
        align: 1,
    };
    let mut out = Vec::new();
    let mut arg = 1;
    while let Some(opt) = f.next() {
        let mut size = f.size(opt)?;
        let pad = to_align(out.len(), &h, opt, size);
        out.resize(out.len() + pad, 0);
        match opt {
            b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I' => {
                let n = number("pack", args, arg)?;
                arg += 1;
                let v: u64 = if n < 0.0 { n as i64 as u64 } else { n as u64 };
                let mut le = vec![0u8; size];
                for (k, b) in le.iter_mut().enumerate().take(8) {
                    *b = (v >> (8 * k)) as u8;
                }
                put(&mut out, &le, h.little);
            }
            b'x' => out.push(0),
            b'f' => {
                let v = number("pack", args, arg)? as f32;
                arg += 1;
                put(&mut out, &v.to_le_bytes(), h.little);
            }
            b'd' => {
                let v = number("pack", args, arg)?;
                arg += 1;
                put(&mut out, &v.to_le_bytes(), h.little);
            }
            b'c' | b's' => {
                let s = bytes("pack", args, arg)?;
                arg += 1;
                if size == 0 {
                    size = s.len();
                }
                if s.len() < size {
                    return Err(arg_error("pack", arg + 1, "string too short"));
                }
                out.extend_from_slice(&s[..size]);
                if opt == b's' {
                    out.push(0);
                }
            }
            other => f.control("pack", other, &mut h)?,
        }
    }
    Ok(out)
}

fn unpack(lua: &Lua, args: &[Value]) -> mlua::Result<MultiValue> {
    let fmt = bytes("unpack", args, 0)?;
    let data = bytes("unpack", args, 1)?;
    let ld = data.len();
    let init = match args.get(2) {
        None | Some(Value::Nil) => 1.0,
        _ => number("unpack", args, 2)?,
    };
    let mut pos = (init as i64 - 1).max(0) as usize;
    if pos > ld {
        return Err(arg_error(
            "unpack",
            3,
            "offset must be 1 <= offset <= len(data)",
        ));
    }
    let mut f = Format { fmt: &fmt, pos: 0 };
    let mut h = Header {
        little: true,
        align: 1,
    };
    let mut out: Vec<Value> = Vec::new();
    let short = || arg_error("unpack", 2, "data string too short");
    while let Some(opt) = f.next() {
        let mut size = f.size(opt)?;
        pos += to_align(pos, &h, opt, size);
        if size > ld || pos > ld - size {
            return Err(short());
        }
        let field = |size: usize| -> Vec<u8> {
            let mut b = data[pos..pos + size].to_vec();
            if !h.little {
                b.reverse();
            }
            b
        };
        match opt {
            b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I' => {
                let le = field(size);
                let mut v: u64 = 0;
                for &b in le.iter().rev() {
                    v = (v << 8) | b as u64;
                }
                let n = if opt.is_ascii_lowercase() && size > 0 && size < 8 {
                    let mask = 1u64 << (size * 8 - 1);
                    ((v ^ mask).wrapping_sub(mask)) as i64 as f64
                } else if opt.is_ascii_lowercase() {
                    v as i64 as f64
                } else {
                    v as f64
                };
                out.push(Value::Number(n));
            }
            b'x' => {}
            b'f' => {
                let b = field(4);
                out.push(Value::Number(
                    f32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f64
                ));
            }
            b'd' => {
                let b = field(8);
                let mut a = [0u8; 8];
                a.copy_from_slice(&b);
                out.push(Value::Number(f64::from_le_bytes(a)));
            }
            b'c' => {
                if size == 0 {
                    let prev = match out.pop() {
                        Some(Value::Number(n)) => n,
                        Some(Value::Integer(n)) => n as f64,
                        _ => return Err(fail("format 'c0' needs a previous size".into())),
                    };
                    size = prev.max(0.0) as usize;
                    if size > ld || pos > ld - size {
                        return Err(short());
                    }
                }
                out.push(Value::String(lua.create_string(&data[pos..pos + size])?));
            }
            b's' => {
                let Some(end) = memchr::memchr(0, &data[pos..]) else {
                    return Err(fail("unfinished string in data".into()));
                };
                out.push(Value::String(lua.create_string(&data[pos..pos + end])?));
                size = end + 1;
            }
            other => f.control("unpack", other, &mut h)?,
        }
        pos += size;
    }
    out.push(Value::Number((pos + 1) as f64));
    Ok(MultiValue::from_vec(out))
}

fn size(args: &[Value]) -> mlua::Result<usize> {
    let fmt = bytes("size", args, 0)?;
    let mut f = Format { fmt: &fmt, pos: 0 };
    let mut h = Header {
        little: true,
        align: 1,
    };
    let mut pos = 0usize;
    while let Some(opt) = f.next() {
        let size = f.size(opt)?;
        pos += to_align(pos, &h, opt, size);
        if opt == b's' {
            return Err(arg_error("size", 1, "option 's' has no fixed size"));
        }
        if opt == b'c' && size == 0 {
            return Err(arg_error("size", 1, "option 'c0' has no fixed size"));
        }
        if !opt.is_ascii_alphanumeric() {
            f.control("size", opt, &mut h)?;
        }
        pos = pos.saturating_add(size);
    }
    Ok(pos)
}

pub fn open(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.raw_set(
        "pack",
        lua.create_function(|lua, args: Variadic<Value>| lua.create_string(pack(&args)?))?,
    )?;
    t.raw_set(
        "unpack",
        lua.create_function(|lua, args: Variadic<Value>| unpack(lua, &args))?,
    )?;
    t.raw_set(
        "size",
        lua.create_function(|_, args: Variadic<Value>| Ok(size(&args)? as f64))?,
    )?;
    Ok(t)
}
