//! A cursor over a request's arguments.
//!
//! Handlers pull arguments in order (`next_bytes`, `next_i64`, `eat("NX")`) and call [`Args::finish`]
//! when they expect no more, so leftovers become `ERR syntax error` as in Redis. Parse failures map to
//! Redis's exact errors (`ERR value is not an integer or out of range`, ...).

use bytes::Bytes;
use smallvec::SmallVec;

use crate::error::CmdError;
use crate::protocol::{parse_i64, Argv};

/// Arguments as [`Args::rest`] hands them out: on the stack for the common few.
pub type Rest<'a> = SmallVec<[&'a [u8]; 4]>;

/// Reads a request's arguments in order. Arguments are borrowed from the request (`&'a [u8]`, valid
/// for the whole command, independent of the cursor); [`Args::next_shared`] gives one that must be
/// kept beyond the command.
pub struct Args<'a> {
    argv: &'a Argv,
    pos: usize,
}

impl<'a> Args<'a> {
    /// `argv` is the whole request (name included); reading starts at `start`.
    pub fn new(argv: &'a Argv, start: usize) -> Args<'a> {
        Args { argv, pos: start }
    }

    /// The whole request, command name included.
    pub fn argv(&self) -> &'a Argv {
        self.argv
    }

    pub fn remaining(&self) -> usize {
        self.argv.len().saturating_sub(self.pos)
    }

    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    pub fn peek(&self) -> Option<&'a [u8]> {
        self.argv.get(self.pos)
    }

    /// The next argument; a missing one is a syntax error.
    #[inline]
    pub fn next_bytes(&mut self) -> Result<&'a [u8], CmdError> {
        self.next().ok_or(CmdError::Syntax)
    }

    /// The next argument as a `Bytes` sharing the request's buffer, for what outlives the command
    /// (a blocked client's keys, a subscription's channel); a missing one is a syntax error.
    pub fn next_shared(&mut self) -> Result<Bytes, CmdError> {
        if self.pos >= self.argv.len() {
            return Err(CmdError::Syntax);
        }
        self.pos += 1;
        Ok(self.argv.shared(self.pos - 1))
    }

    /// The next argument as an integer (`ERR value is not an integer or out of range`).
    pub fn next_i64(&mut self) -> Result<i64, CmdError> {
        let b = self.next_bytes()?;
        parse_i64(b).ok_or(CmdError::NotInteger)
    }

    /// The next argument as a double (`ERR value is not a valid float`).
    pub fn next_f64(&mut self) -> Result<f64, CmdError> {
        let b = self.next_bytes()?;
        parse_f64(b).ok_or(CmdError::NotFloat)
    }

    /// The next argument as a blocking timeout in seconds (fractions allowed, 0 = forever), returned
    /// in milliseconds, with Redis's errors.
    pub fn next_timeout(&mut self) -> Result<Option<u64>, CmdError> {
        parse_timeout(self.next_bytes()?)
    }

    /// Consumes the next argument if it equals `kw`, ignoring ASCII case.
    pub fn eat(&mut self, kw: &str) -> bool {
        match self.peek() {
            Some(a) if a.eq_ignore_ascii_case(kw.as_bytes()) => {
                self.pos += 1;
                true
            }
            _ => false,
        }
    }

    /// Index in the request of the next argument.
    pub fn next_index(&self) -> usize {
        self.pos
    }

    /// Consumes every remaining argument (read through [`Args::argv`]).
    pub fn skip_rest(&mut self) {
        self.pos = self.argv.len();
    }

    /// Remaining arguments, consumed.
    pub fn rest(&mut self) -> Rest<'a> {
        let out = self.by_ref().collect();
        self.pos = self.argv.len();
        out
    }

    /// Remaining arguments, consumed, as `Bytes` sharing the request's buffer.
    pub fn rest_shared(&mut self) -> Vec<Bytes> {
        let out = (self.pos..self.argv.len())
            .map(|i| self.argv.shared(i))
            .collect();
        self.pos = self.argv.len();
        out
    }

    /// Errors with `ERR syntax error` if arguments are left over.
    pub fn finish(&self) -> Result<(), CmdError> {
        if self.remaining() == 0 {
            Ok(())
        } else {
            Err(CmdError::Syntax)
        }
    }
}

/// Arguments are consumed in order; `next()` yields the next one (borrowed from the request).
impl<'a> Iterator for Args<'a> {
    type Item = &'a [u8];

    #[inline]
    fn next(&mut self) -> Option<&'a [u8]> {
        let b = self.argv.get(self.pos)?;
        self.pos += 1;
        Some(b)
    }
}

/// A blocking timeout in seconds (fractions allowed, 0 = forever), in milliseconds, with Redis's
/// errors.
pub fn parse_timeout(b: &[u8]) -> Result<Option<u64>, CmdError> {
    let secs = parse_f64(b)
        .filter(|v| v.is_finite())
        .ok_or(CmdError::TimeoutNotFloat)?;
    if secs < 0.0 {
        return Err(CmdError::TimeoutNegative);
    }
    let ms = (secs * 1000.0).round();
    if ms > (i64::MAX / 2) as f64 {
        return Err(CmdError::TimeoutOutOfRange);
    }
    Ok(if ms == 0.0 { None } else { Some(ms as u64) })
}

/// Parses a double as Redis's `string2ld`/`strtold` callers do: no spaces, `inf`/`-inf` accepted,
/// `nan` refused.
pub fn parse_f64(b: &[u8]) -> Option<f64> {
    if b.is_empty() || b[0].is_ascii_whitespace() || b[b.len() - 1].is_ascii_whitespace() {
        return None;
    }
    let s = std::str::from_utf8(b).ok()?;
    let v: f64 = match s.to_ascii_lowercase().as_str() {
        "inf" | "+inf" | "infinity" | "+infinity" => f64::INFINITY,
        "-inf" | "-infinity" => f64::NEG_INFINITY,
        _ => {
            // Rust accepts forms C does not ("1e", "1_0" are refused by both; "0x10" is refused by Rust
            // and accepted by strtold; Redis users do not rely on hex floats).
            if !s
                .bytes()
                .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'-' | b'+' | b'e' | b'E'))
            {
                return None;
            }
            s.parse().ok()?
        }
    };
    if v.is_nan() {
        None
    } else {
        Some(v)
    }
}
