//! The one reply type, shaped after RESP3, and its encoding to RESP3 or RESP2.
//!
//! Handlers build a [`Reply`] without knowing which protocol the client speaks; [`encode`] is the single
//! place where RESP3 types are lowered for RESP2 clients (maps become flat arrays, sets become arrays,
//! doubles become bulk strings, booleans become integers, null becomes `$-1` or `*-1`).
//! Numbers are written with `itoa`/`ryu`-class formatting straight into the output buffer.

use bytes::{BufMut, Bytes, BytesMut};

use crate::smallbytes::SmallBytes;

/// Protocol version negotiated with `HELLO`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Resp2,
    Resp3,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// `+OK`
    Ok,
    /// A simple string (`+PONG`). Must not contain CR or LF.
    Simple(&'static str),
    /// A simple string built at run time.
    Status(String),
    /// An error line, already in Redis's wire text (`ERR ...`, `WRONGTYPE ...`), without the leading `-`.
    Error(String),
    Int(i64),
    Bulk(Bytes),
    /// A short bulk string carried inline (no allocation); see [`Reply::bulk_copy`].
    SmallBulk(SmallBytes),
    /// Null bulk (`$-1` in RESP2, `_` in RESP3).
    Nil,
    /// Null array (`*-1` in RESP2, `_` in RESP3).
    NilArray,
    Array(Vec<Reply>),
    Map(Vec<(Reply, Reply)>),
    /// Pairs that RESP3 sends as an array of 2-element arrays and RESP2 as one flat array
    /// (HRANDFIELD ... WITHVALUES, and ZRANGE ... WITHSCORES-style replies).
    Pairs(Vec<(Reply, Reply)>),
    Set(Vec<Reply>),
    Double(f64),
    Bool(bool),
    /// Verbatim string: format (`txt`, `mkd`) and body. A bulk string in RESP2.
    Verbatim(&'static str, Bytes),
    Push(Vec<Reply>),
    /// Nothing is sent (SHUTDOWN's success, later CLIENT REPLY OFF).
    NoReply,
    /// A big number (`(` in RESP3, a bulk string in RESP2).
    BigNumber(String),
    /// An attribute map followed by the reply it describes (RESP2 sends the reply alone).
    Attribute(Vec<(Reply, Reply)>, Box<Reply>),
    /// Several top-level replies to one request, sent one after another (SUBSCRIBE a b).
    Multi(Vec<Reply>),
}

impl Reply {
    pub fn bulk(b: impl Into<Bytes>) -> Reply {
        Reply::Bulk(b.into())
    }

    /// A bulk string copied from borrowed bytes: inline when short, so the common small value costs
    /// no allocation.
    #[inline]
    pub fn bulk_copy(b: &[u8]) -> Reply {
        if b.len() <= crate::smallbytes::INLINE_CAP {
            Reply::SmallBulk(SmallBytes::new(b))
        } else {
            Reply::Bulk(Bytes::copy_from_slice(b))
        }
    }

    /// A `HELP` subcommand's reply: one status line per text line, as Redis's `addReplyHelp`.
    pub fn help(lines: &[&'static str]) -> Reply {
        Reply::Array(lines.iter().map(|l| Reply::Simple(l)).collect())
    }

    pub fn bulk_str(s: &'static str) -> Reply {
        Reply::Bulk(Bytes::from_static(s.as_bytes()))
    }

    pub fn bulk_string(s: String) -> Reply {
        Reply::Bulk(Bytes::from(s))
    }

    pub fn bulk_int(i: i64) -> Reply {
        let mut b = itoa::Buffer::new();
        Reply::SmallBulk(SmallBytes::new(b.format(i).as_bytes()))
    }

    /// An optional byte string: bulk or nil.
    pub fn opt_bulk(b: Option<Bytes>) -> Reply {
        b.map_or(Reply::Nil, Reply::Bulk)
    }

    pub fn is_error(&self) -> bool {
        matches!(self, Reply::Error(_))
    }
}

impl From<crate::error::CmdError> for Reply {
    fn from(e: crate::error::CmdError) -> Self {
        Reply::Error(e.to_string())
    }
}

/// Appends `reply` to `out` in the client's protocol.
pub fn encode(reply: &Reply, proto: Protocol, out: &mut BytesMut) {
    match reply {
        Reply::NoReply => {}
        Reply::Multi(items) => {
            for r in items {
                encode(r, proto, out);
            }
        }
        Reply::Ok => out.put_slice(b"+OK\r\n"),
        Reply::Simple(s) => simple(out, b'+', s.as_bytes()),
        Reply::Status(s) => simple(out, b'+', s.as_bytes()),
        Reply::Error(e) => {
            // Error texts may embed user input: never let a CR or LF break the framing.
            out.put_u8(b'-');
            out.extend(
                e.bytes()
                    .map(|c| if c == b'\r' || c == b'\n' { b' ' } else { c }),
            );
            out.put_slice(b"\r\n");
        }
        Reply::Int(i) => number(out, b':', *i),
        Reply::Bulk(b) => bulk(out, b),
        Reply::SmallBulk(b) => bulk(out, b),
        Reply::Nil => out.put_slice(if proto == Protocol::Resp3 {
            b"_\r\n"
        } else {
            b"$-1\r\n"
        }),
        Reply::NilArray => out.put_slice(if proto == Protocol::Resp3 {
            b"_\r\n"
        } else {
            b"*-1\r\n"
        }),
        Reply::Array(items) => {
            number(out, b'*', items.len() as i64);
            for r in items {
                encode(r, proto, out);
            }
        }
        Reply::Set(items) => {
            number(
                out,
                if proto == Protocol::Resp3 { b'~' } else { b'*' },
                items.len() as i64,
            );
            for r in items {
                encode(r, proto, out);
            }
        }
        Reply::Push(items) => {
            number(
                out,
                if proto == Protocol::Resp3 { b'>' } else { b'*' },
                items.len() as i64,
            );
            for r in items {
                encode(r, proto, out);
            }
        }
        Reply::Map(pairs) => {
            if proto == Protocol::Resp3 {
                number(out, b'%', pairs.len() as i64);
            } else {
                number(out, b'*', 2 * pairs.len() as i64);
            }
            for (k, v) in pairs {
                encode(k, proto, out);
                encode(v, proto, out);
            }
        }
        Reply::Pairs(pairs) => {
            if proto == Protocol::Resp3 {
                number(out, b'*', pairs.len() as i64);
                for (a, b) in pairs {
                    out.put_slice(b"*2\r\n");
                    encode(a, proto, out);
                    encode(b, proto, out);
                }
            } else {
                number(out, b'*', 2 * pairs.len() as i64);
                for (a, b) in pairs {
                    encode(a, proto, out);
                    encode(b, proto, out);
                }
            }
        }
        Reply::Double(d) => {
            let text = format_double(*d);
            if proto == Protocol::Resp3 {
                simple(out, b',', text.as_bytes());
            } else {
                bulk(out, text.as_bytes());
            }
        }
        Reply::Bool(b) => {
            if proto == Protocol::Resp3 {
                out.put_slice(if *b { b"#t\r\n" } else { b"#f\r\n" });
            } else {
                out.put_slice(if *b { b":1\r\n" } else { b":0\r\n" });
            }
        }
        Reply::BigNumber(n) => {
            if proto == Protocol::Resp3 {
                simple(out, b'(', n.as_bytes());
            } else {
                bulk(out, n.as_bytes());
            }
        }
        Reply::Attribute(attrs, reply) => {
            if proto == Protocol::Resp3 {
                number(out, b'|', attrs.len() as i64);
                for (k, v) in attrs {
                    encode(k, proto, out);
                    encode(v, proto, out);
                }
            }
            encode(reply, proto, out);
        }
        Reply::Verbatim(fmt, body) => {
            if proto == Protocol::Resp3 {
                number(out, b'=', body.len() as i64 + 4);
                out.put_slice(fmt.as_bytes());
                out.put_u8(b':');
                out.put_slice(body);
                out.put_slice(b"\r\n");
            } else {
                bulk(out, body);
            }
        }
    }
}

fn simple(out: &mut BytesMut, prefix: u8, s: &[u8]) {
    out.reserve(s.len() + 3);
    out.put_u8(prefix);
    out.put_slice(s);
    out.put_slice(b"\r\n");
}

fn number(out: &mut BytesMut, prefix: u8, n: i64) {
    let mut b = itoa::Buffer::new();
    let s = b.format(n);
    out.reserve(s.len() + 3);
    out.put_u8(prefix);
    out.put_slice(s.as_bytes());
    out.put_slice(b"\r\n");
}

fn bulk(out: &mut BytesMut, b: &[u8]) {
    number(out, b'$', b.len() as i64);
    out.reserve(b.len() + 2);
    out.put_slice(b);
    out.put_slice(b"\r\n");
}

/// Formats a double as Redis 7.2 replies it: the shortest text that reads back to the same value,
/// `inf`/`-inf`/`nan` for the special values, integers without a fractional part, and an exponent
/// (`1e+20`) where `%.17g` would use one.
pub fn format_double(d: f64) -> String {
    if d.is_nan() {
        return "nan".into();
    }
    if d.is_infinite() {
        return if d > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if d == d.trunc() && d.abs() < 1e17 {
        // Exact integers print without a fraction ("3", not "3.0"); "-0" keeps its sign as Redis does.
        if d == 0.0 && d.is_sign_negative() {
            return "-0".into();
        }
        let mut b = itoa::Buffer::new();
        return b.format(d as i64).to_string();
    }
    let mut b = ryu::Buffer::new();
    let s = b.format_finite(d);
    // ryu writes `1e20` / `1.5e-7`; C's %g writes `1e+20` / `1.5e-07`.
    match s.find('e') {
        Some(pos) => {
            let (mant, exp) = s.split_at(pos);
            let exp = &exp[1..];
            let (sign, digits) = if let Some(rest) = exp.strip_prefix('-') {
                ('-', rest)
            } else {
                ('+', exp)
            };
            let mant = mant.strip_suffix(".0").unwrap_or(mant);
            if digits.len() < 2 {
                format!("{mant}e{sign}0{digits}")
            } else {
                format!("{mant}e{sign}{digits}")
            }
        }
        None => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(r: &Reply, p: Protocol) -> Vec<u8> {
        let mut out = BytesMut::new();
        encode(r, p, &mut out);
        out.to_vec()
    }

    #[test]
    fn resp2_lowering() {
        let m = Reply::Map(vec![(Reply::bulk_str("a"), Reply::Int(1))]);
        assert_eq!(enc(&m, Protocol::Resp2), b"*2\r\n$1\r\na\r\n:1\r\n");
        assert_eq!(enc(&m, Protocol::Resp3), b"%1\r\n$1\r\na\r\n:1\r\n");
        let p = Reply::Pairs(vec![(Reply::bulk_str("a"), Reply::Int(1))]);
        assert_eq!(enc(&p, Protocol::Resp2), b"*2\r\n$1\r\na\r\n:1\r\n");
        assert_eq!(enc(&p, Protocol::Resp3), b"*1\r\n*2\r\n$1\r\na\r\n:1\r\n");
        assert_eq!(enc(&Reply::Nil, Protocol::Resp2), b"$-1\r\n");
        assert_eq!(enc(&Reply::NilArray, Protocol::Resp2), b"*-1\r\n");
        assert_eq!(enc(&Reply::Nil, Protocol::Resp3), b"_\r\n");
        assert_eq!(enc(&Reply::Double(1.5), Protocol::Resp2), b"$3\r\n1.5\r\n");
        assert_eq!(enc(&Reply::Double(1.5), Protocol::Resp3), b",1.5\r\n");
        assert_eq!(enc(&Reply::Bool(true), Protocol::Resp2), b":1\r\n");
        assert_eq!(
            enc(
                &Reply::Verbatim("txt", Bytes::from_static(b"hi")),
                Protocol::Resp3
            ),
            b"=6\r\ntxt:hi\r\n"
        );
        assert_eq!(
            enc(&Reply::Error("ERR a\r\nb".into()), Protocol::Resp2),
            b"-ERR a  b\r\n"
        );
    }

    #[test]
    fn doubles() {
        assert_eq!(format_double(3.0), "3");
        assert_eq!(format_double(1.1), "1.1");
        assert_eq!(format_double(f64::INFINITY), "inf");
        assert_eq!(format_double(1e20), "1e+20");
        assert_eq!(format_double(1.5e-7), "1.5e-07");
    }
}
