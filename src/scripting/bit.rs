//! The `bit` library (LuaBitOp), as Redis loads it: 32-bit operations on Lua numbers.
//!
//! LuaBitOp normalises a number to a 32-bit integer by adding 2^52 + 2^51 and keeping the low 32 bits of
//! the double's representation (wrapping modulo 2^32, rounding fractions); results are signed.

use mlua::{Lua, Table, Value, Variadic};

/// The low 32 bits of `v`, as LuaBitOp's `barg`.
pub fn tobit(v: f64) -> i32 {
    (v + 6_755_399_441_055_744.0).to_bits() as u32 as i32
}

fn arg(name: &str, i: usize, v: Option<&Value>) -> mlua::Result<i32> {
    let n = match v {
        Some(Value::Integer(i)) => *i as f64,
        Some(Value::Number(n)) => *n,
        Some(Value::String(s)) => std::str::from_utf8(&s.as_bytes())
            .ok()
            .and_then(|t| t.trim().parse::<f64>().ok())
            .ok_or_else(|| bad_arg(name, i, "string"))?,
        Some(other) => return Err(bad_arg(name, i, other.type_name())),
        None => return Err(bad_arg(name, i, "no value")),
    };
    Ok(tobit(n))
}

fn bad_arg(name: &str, i: usize, got: &str) -> mlua::Error {
    mlua::Error::RuntimeError(format!(
        "bad argument #{i} to '{name}' (number expected, got {got})"
    ))
}

fn fold(lua: &Lua, name: &'static str, f: fn(i32, i32) -> i32) -> mlua::Result<mlua::Function> {
    lua.create_function(move |_, args: Variadic<Value>| {
        let mut acc = arg(name, 1, args.first())?;
        for (i, v) in args.iter().enumerate().skip(1) {
            acc = f(acc, arg(name, i + 1, Some(v))?);
        }
        Ok(acc as f64)
    })
}

fn shift(lua: &Lua, name: &'static str, f: fn(i32, u32) -> i32) -> mlua::Result<mlua::Function> {
    lua.create_function(move |_, args: Variadic<Value>| {
        let x = arg(name, 1, args.first())?;
        let n = arg(name, 2, args.get(1))? as u32 & 31;
        Ok(f(x, n) as f64)
    })
}

pub fn open(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.raw_set(
        "tobit",
        lua.create_function(|_, args: Variadic<Value>| Ok(arg("tobit", 1, args.first())? as f64))?,
    )?;
    t.raw_set(
        "bnot",
        lua.create_function(|_, args: Variadic<Value>| Ok(!arg("bnot", 1, args.first())? as f64))?,
    )?;
    t.raw_set(
        "bswap",
        lua.create_function(|_, args: Variadic<Value>| {
            Ok(arg("bswap", 1, args.first())?.swap_bytes() as f64)
        })?,
    )?;
    t.raw_set(
        "tohex",
        lua.create_function(|_, args: Variadic<Value>| {
            let x = arg("tohex", 1, args.first())? as u32;
            let mut n = match args.get(1) {
                None | Some(Value::Nil) => 8,
                v => arg("tohex", 2, v)?,
            };
            let upper = n < 0;
            if upper {
                n = n.saturating_neg();
            }
            let n = n.clamp(0, 8) as u32;
            let mut out = String::with_capacity(n as usize);
            for i in (0..n).rev() {
                let d = (x >> (4 * i)) & 15;
                let c = char::from_digit(d, 16).unwrap_or('0');
                out.push(if upper { c.to_ascii_uppercase() } else { c });
            }
            Ok(out)
        })?,
    )?;
    t.raw_set("band", fold(lua, "band", |a, b| a & b)?)?;
    t.raw_set("bor", fold(lua, "bor", |a, b| a | b)?)?;
    t.raw_set("bxor", fold(lua, "bxor", |a, b| a ^ b)?)?;
    t.raw_set(
        "lshift",
        shift(lua, "lshift", |x, n| ((x as u32) << n) as i32)?,
    )?;
    t.raw_set(
        "rshift",
        shift(lua, "rshift", |x, n| ((x as u32) >> n) as i32)?,
    )?;
    t.raw_set("arshift", shift(lua, "arshift", |x, n| x >> n)?)?;
    t.raw_set(
        "rol",
        shift(lua, "rol", |x, n| (x as u32).rotate_left(n) as i32)?,
    )?;
    t.raw_set(
        "ror",
        shift(lua, "ror", |x, n| (x as u32).rotate_right(n) as i32)?,
    )?;
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalisation() {
        assert_eq!(tobit(0xffff_ffff_u32 as f64), -1);
        assert_eq!(tobit(4_294_967_296.0 + 5.0), 5);
        assert_eq!(tobit(-1.0), -1);
        assert_eq!(tobit(1.5), 2);
    }
}
