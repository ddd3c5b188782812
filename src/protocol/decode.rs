//! Incremental RESP request decoder.
//!
//! Requests arrive either as RESP multibulk arrays (`*2\r\n$3\r\nGET\r\n$1\r\nk\r\n`) or as inline
//! commands (`GET k\r\n`, what `telnet` and `redis-cli`'s inline mode send). The decoder works over the
//! connection's `BytesMut` read buffer and keeps its progress between reads, so a large multibulk that
//! arrives in many TCP segments is scanned once, not from the start on every read.
//!
//! Arguments are zero-copy: a complete request is split off the read buffer in one piece, an [`Argv`]
//! of spans into it. Storage copies what it keeps (a stored value must never pin a whole read buffer).
//!
//! Limits and error texts follow Redis 7 (`networking.c`): a framing error produces the exact
//! `Protocol error: ...` message Redis sends, after which the connection is closed. A declared length is
//! never used to pre-allocate more than a small bounded amount: memory grows only as bytes arrive.

use std::ops::Range;

use bytes::{Buf, BytesMut};

use super::Argv;

use crate::error::ProtocolError;

/// Longest inline request, and longest `*<n>`/`$<n>` header line (Redis's `PROTO_INLINE_MAX_SIZE`).
pub const INLINE_MAX_SIZE: usize = 64 * 1024;
/// Largest multibulk count accepted before the client authenticated.
pub const UNAUTH_MAX_MULTIBULK: i64 = 10;
/// Largest bulk accepted before the client authenticated.
pub const UNAUTH_MAX_BULK: i64 = 16 * 1024;
/// Never reserve more argument slots than this up front, whatever the client declares.
const MAX_PREALLOC_ARGS: usize = 1024;

/// Per-connection limits the decoder enforces.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// `proto-max-bulk-len`.
    pub max_bulk_len: i64,
    /// True while the client must still authenticate: Redis then caps request sizes much lower.
    pub auth_required: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bulk_len: 512 * 1024 * 1024,
            auth_required: false,
        }
    }
}

/// One decoded request: the command name followed by its arguments.
pub type Request = Argv;

#[derive(Debug, Default)]
pub struct Decoder {
    /// Arguments still expected in the multibulk being read; 0 when between requests.
    multibulk_left: usize,
    /// Length of the bulk whose header has been read but whose payload has not fully arrived.
    bulk_len: Option<usize>,
    /// Bytes at the front of the buffer read so far of the request in progress (its header and the
    /// arguments complete so far). They stay in the buffer until the request is complete.
    pos: usize,
    /// Where the arguments read so far lie in the buffer.
    spans: Vec<Range<usize>>,
    /// Span vectors of executed requests, given back through [`Decoder::recycle`]: a window of
    /// pipelined requests is decoded before any of them runs, so one spare vector is not enough.
    spare: Vec<Vec<Range<usize>>>,
}

/// Most spare span vectors kept (a window of pipelined requests is 16).
const MAX_SPARE: usize = 32;

impl Decoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Gives back a request's vector once it has been executed, so a later request reuses its
    /// allocation (no malloc/free per command).
    pub fn recycle(&mut self, args: Request) {
        let spans = args.into_spans();
        if spans.capacity() == 0 || spans.capacity() > MAX_PREALLOC_ARGS {
            return;
        }
        if self.spans.capacity() == 0 && !self.in_progress() {
            self.spans = spans;
        } else if self.spare.len() < MAX_SPARE {
            self.spare.push(spans);
        }
    }

    /// True when a request has been partly read.
    pub fn in_progress(&self) -> bool {
        self.multibulk_left > 0
    }

    /// Bytes still to arrive for the bulk being read, given the buffer's length (0 between bulks).
    pub fn bulk_remaining(&self, buffered: usize) -> usize {
        self.bulk_len
            .map_or(0, |len| (self.pos + len + 2).saturating_sub(buffered))
    }

    /// Bytes at the front of the buffer that belong to arguments of the request in progress already
    /// read: Redis's query buffer limit counts only what is left (it has moved those into `argv`).
    pub fn parsed(&self) -> usize {
        self.pos
    }

    /// Decodes the next request from `buf`, consuming its bytes.
    ///
    /// `Ok(None)` means more bytes are needed. Empty requests (`*0`, `*-1`, blank inline lines) are skipped.
    pub fn decode(
        &mut self,
        buf: &mut BytesMut,
        limits: &Limits,
    ) -> Result<Option<Request>, ProtocolError> {
        loop {
            if self.multibulk_left == 0 {
                if buf.is_empty() {
                    return Ok(None);
                }
                if buf[0] == b'*' {
                    match self.read_multibulk_header(buf, limits)? {
                        Header::Incomplete => return Ok(None),
                        Header::Empty => continue,
                        Header::Started => {}
                    }
                } else {
                    match decode_inline(buf)? {
                        None => return Ok(None),
                        Some(args) if args.is_empty() => continue,
                        Some(args) => return Ok(Some(args)),
                    }
                }
            }
            if !self.read_bulks(buf, limits)? {
                return Ok(None);
            }
            let request = buf.split_to(self.pos).freeze();
            self.pos = 0;
            let next = self.spare.pop().unwrap_or_default();
            return Ok(Some(Argv::from_spans(
                request,
                std::mem::replace(&mut self.spans, next),
            )));
        }
    }

    fn read_multibulk_header(
        &mut self,
        buf: &mut BytesMut,
        limits: &Limits,
    ) -> Result<Header, ProtocolError> {
        let (n, cr) = match short_number(buf) {
            Some(h) => h,
            None => {
                let Some(cr) = memchr::memchr(b'\r', buf) else {
                    if buf.len() > INLINE_MAX_SIZE {
                        return Err(ProtocolError::TooBigMbulkCount);
                    }
                    return Ok(Header::Incomplete);
                };
                if cr + 1 >= buf.len() {
                    return Ok(Header::Incomplete);
                }
                match parse_i64(&buf[1..cr]) {
                    Some(n) => (n, cr),
                    None => return Err(ProtocolError::InvalidMultibulkLength),
                }
            }
        };
        if n > i32::MAX as i64 {
            return Err(ProtocolError::InvalidMultibulkLength);
        }
        if n > UNAUTH_MAX_MULTIBULK && limits.auth_required {
            return Err(ProtocolError::UnauthenticatedMultibulkLength);
        }
        if n <= 0 {
            buf.advance(cr + 2);
            return Ok(Header::Empty);
        }
        self.pos = cr + 2;
        self.multibulk_left = n as usize;
        self.spans.clear();
        self.spans.reserve((n as usize).min(MAX_PREALLOC_ARGS));
        Ok(Header::Started)
    }

    /// Reads bulk arguments until the multibulk is complete (true) or the buffer runs dry (false).
    fn read_bulks(&mut self, buf: &mut BytesMut, limits: &Limits) -> Result<bool, ProtocolError> {
        while self.multibulk_left > 0 {
            let len = match self.bulk_len {
                Some(len) => len,
                None => {
                    let rest = &buf[self.pos..];
                    let (len, cr) = match short_number(rest) {
                        Some(h) if rest[0] == b'$' => h,
                        _ => {
                            let Some(cr) = memchr::memchr(b'\r', rest) else {
                                if rest.len() > INLINE_MAX_SIZE {
                                    return Err(ProtocolError::TooBigBulkCount);
                                }
                                return Ok(false);
                            };
                            if cr + 1 >= rest.len() {
                                return Ok(false);
                            }
                            if rest[0] != b'$' {
                                return Err(ProtocolError::ExpectedDollar(rest[0]));
                            }
                            match parse_i64(&rest[1..cr]) {
                                Some(n) if n >= 0 => (n, cr),
                                _ => return Err(ProtocolError::InvalidBulkLength),
                            }
                        }
                    };
                    if len > limits.max_bulk_len {
                        return Err(ProtocolError::InvalidBulkLength);
                    }
                    if len > UNAUTH_MAX_BULK && limits.auth_required {
                        return Err(ProtocolError::UnauthenticatedBulkLength);
                    }
                    self.pos += cr + 2;
                    let len = len as usize;
                    self.bulk_len = Some(len);
                    len
                }
            };
            if buf.len() - self.pos < len + 2 {
                return Ok(false);
            }
            // Like Redis, the two bytes after the payload are skipped without being checked.
            self.spans.push(self.pos..self.pos + len);
            self.pos += len + 2;
            self.bulk_len = None;
            self.multibulk_left -= 1;
        }
        Ok(true)
    }
}

enum Header {
    Incomplete,
    Empty,
    Started,
}

/// The common header, `*3\r\n` or `$5\r\n`, read without a search: the number after the first byte
/// and the position of the `\r` that ends it, when the number is 1 to 18 plain digits (no sign, no
/// leading zero) followed by `\r` and at least one more byte. Anything else returns `None` for the
/// general path (a search for `\r`, then Redis's errors); where this returns a header, that path
/// would find the same `\r` and the same number.
#[inline]
fn short_number(s: &[u8]) -> Option<(i64, usize)> {
    let mut v: i64 = 0;
    let mut i = 1;
    while i < s.len() && i <= 18 && s[i].is_ascii_digit() {
        v = v * 10 + i64::from(s[i] - b'0');
        i += 1;
    }
    if i == 1 || i + 1 >= s.len() || s[i] != b'\r' || (s[1] == b'0' && i > 2) {
        return None;
    }
    Some((v, i))
}

/// Parses one inline request line, as Redis's `processInlineBuffer` + `sdssplitargs` do.
fn decode_inline(buf: &mut BytesMut) -> Result<Option<Request>, ProtocolError> {
    let Some(nl) = memchr::memchr(b'\n', buf) else {
        if buf.len() > INLINE_MAX_SIZE {
            return Err(ProtocolError::TooBigInline);
        }
        return Ok(None);
    };
    let line_end = if nl > 0 && buf[nl - 1] == b'\r' {
        nl - 1
    } else {
        nl
    };
    let args = split_args(&buf[..line_end]).ok_or(ProtocolError::UnbalancedQuotes)?;
    buf.advance(nl + 1);
    Ok(Some(Argv::from_args(args)))
}

/// Splits a line into arguments with Redis's `sdssplitargs` rules: whitespace separates arguments,
/// `"..."` understands `\n \r \t \b \a \xHH` and `\"`, `'...'` understands only `\'`, and a closing quote
/// must be followed by whitespace or the end of the line. `None` means unbalanced quotes.
pub fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut args = Vec::new();
    let mut i = 0;
    let n = line.len();
    loop {
        while i < n && is_space(line[i]) {
            i += 1;
        }
        if i >= n {
            return Some(args);
        }
        let mut cur = Vec::new();
        let mut in_dq = false;
        let mut in_sq = false;
        loop {
            if in_dq {
                if i >= n {
                    return None;
                }
                let c = line[i];
                if c == b'\\'
                    && i + 3 < n
                    && line[i + 1] == b'x'
                    && is_hex(line[i + 2])
                    && is_hex(line[i + 3])
                {
                    cur.push(hex_val(line[i + 2]) * 16 + hex_val(line[i + 3]));
                    i += 3;
                } else if c == b'\\' && i + 1 < n {
                    i += 1;
                    cur.push(match line[i] {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 8,
                        b'a' => 7,
                        other => other,
                    });
                } else if c == b'"' {
                    if i + 1 < n && !is_space(line[i + 1]) {
                        return None;
                    }
                    i += 1;
                    break;
                } else {
                    cur.push(c);
                }
            } else if in_sq {
                if i >= n {
                    return None;
                }
                let c = line[i];
                if c == b'\\' && i + 1 < n && line[i + 1] == b'\'' {
                    i += 1;
                    cur.push(b'\'');
                } else if c == b'\'' {
                    if i + 1 < n && !is_space(line[i + 1]) {
                        return None;
                    }
                    i += 1;
                    break;
                } else {
                    cur.push(c);
                }
            } else {
                if i >= n {
                    break;
                }
                match line[i] {
                    c if is_space(c) => break,
                    b'"' => in_dq = true,
                    b'\'' => in_sq = true,
                    c => cur.push(c),
                }
            }
            i += 1;
        }
        args.push(cur);
    }
}

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\n' | b'\r' | b'\t' | 0x0b | 0x0c)
}

fn is_hex(c: u8) -> bool {
    c.is_ascii_hexdigit()
}

fn hex_val(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        _ => c - b'A' + 10,
    }
}

/// Strict base-10 i64 parse as Redis's `string2ll`: optional `-`, no `+`, no spaces, no leading zeros.
pub fn parse_i64(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    if s == b"0" {
        return Some(0);
    }
    let (neg, digits) = if s[0] == b'-' {
        (true, &s[1..])
    } else {
        (false, s)
    };
    if digits.is_empty() || digits[0] == b'0' {
        return None;
    }
    let mut v: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add((c - b'0') as u64)?;
    }
    if neg {
        if v > i64::MAX as u64 + 1 {
            None
        } else {
            Some((v as i64).wrapping_neg())
        }
    } else if v > i64::MAX as u64 {
        None
    } else {
        Some(v as i64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(input: &[u8]) -> Result<Vec<Request>, ProtocolError> {
        let mut d = Decoder::new();
        let mut buf = BytesMut::from(input);
        let mut out = Vec::new();
        while let Some(r) = d.decode(&mut buf, &Limits::default())? {
            out.push(r);
        }
        Ok(out)
    }

    #[test]
    fn multibulk_and_inline() {
        let r = decode_all(b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\nPING\r\n  set a  \"b c\"\n").unwrap();
        assert_eq!(r.len(), 3);
        assert_eq!(r[0], Argv::from_args(["GET", "k"]));
        assert_eq!(r[1], Argv::from_args(["PING"]));
        assert_eq!(r[2], Argv::from_args(["set", "a", "b c"]));
    }

    /// A request that arrives a byte at a time decodes as one that arrives whole, and each complete
    /// request leaves the buffer holding only what follows it.
    #[test]
    fn requests_split_across_reads() {
        let input: &[u8] =
            b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n*0\r\n*2\r\n$4\r\nECHO\r\n$5\r\na\r\nbc\r\nPING\r\n";
        let whole = decode_all(input).unwrap();
        assert_eq!(
            whole,
            vec![
                Argv::from_args(["SET", "k", ""]),
                Argv::from_args(["ECHO", "a\r\nbc"]),
                Argv::from_args(["PING"]),
            ]
        );
        let mut d = Decoder::new();
        let mut buf = BytesMut::new();
        let mut got = Vec::new();
        for &b in input {
            buf.extend_from_slice(&[b]);
            while let Some(r) = d.decode(&mut buf, &Limits::default()).unwrap() {
                got.push(r);
                assert!(d.parsed() == 0 && !d.in_progress());
            }
            assert!(d.parsed() <= buf.len());
        }
        assert_eq!(got, whole);
        assert!(buf.is_empty());
    }

    #[test]
    fn errors() {
        assert_eq!(
            decode_all(b"*x\r\n").unwrap_err(),
            ProtocolError::InvalidMultibulkLength
        );
        assert_eq!(
            decode_all(b"*1\r\n$-1\r\n").unwrap_err(),
            ProtocolError::InvalidBulkLength
        );
        assert_eq!(
            decode_all(b"*1\r\nx3\r\n").unwrap_err(),
            ProtocolError::ExpectedDollar(b'x')
        );
        assert_eq!(
            decode_all(b"set \"a\n").unwrap_err(),
            ProtocolError::UnbalancedQuotes
        );
        assert_eq!(
            decode_all(b"set \"a\"b\n").unwrap_err(),
            ProtocolError::UnbalancedQuotes
        );
    }

    #[test]
    fn quoting_rules() {
        assert_eq!(
            split_args(b"a \"\\x41\\n\" 'it\\'s'").unwrap(),
            vec![b"a".to_vec(), b"A\n".to_vec(), b"it's".to_vec()]
        );
        assert_eq!(split_args(b"\"\"").unwrap(), vec![Vec::<u8>::new()]);
        assert!(split_args(b"'abc").is_none());
    }

    /// A window of pipelined requests decoded after the previous window was executed and recycled
    /// takes its span vectors from the spares, one each, instead of allocating.
    #[test]
    fn recycled_span_vectors_serve_the_next_window() {
        let window: Vec<u8> = (0..16)
            .flat_map(|i| format!("*2\r\n$3\r\nGET\r\n$2\r\nk{}\r\n", i % 10).into_bytes())
            .collect();
        let mut d = Decoder::new();
        let mut buf = BytesMut::from(&window[..]);
        let mut first = Vec::new();
        while let Some(r) = d.decode(&mut buf, &Limits::default()).unwrap() {
            first.push(r);
        }
        assert_eq!(first.len(), 16);
        for r in first {
            d.recycle(r);
        }
        assert!(d.spans.capacity() > 0);
        assert_eq!(d.spare.len(), 15);
        buf.extend_from_slice(&window);
        let mut second = 0;
        while let Some(r) = d.decode(&mut buf, &Limits::default()).unwrap() {
            assert_eq!(r.len(), 2);
            second += 1;
        }
        assert_eq!(second, 16);
        // Sixteen requests, sixteen recycled vectors: none was allocated.
        assert_eq!(d.spare.len(), 0);
    }

    #[test]
    fn huge_declared_lengths_do_not_allocate() {
        let mut d = Decoder::new();
        let mut buf = BytesMut::from(&b"*2147483647\r\n$536870912\r\nab"[..]);
        assert!(d.decode(&mut buf, &Limits::default()).unwrap().is_none());
        assert!(d.spans.capacity() <= MAX_PREALLOC_ARGS);
        assert!(buf.capacity() < 1024);
    }

    /// Where the search-free header read answers, the general path (search for `\r`, strict parse)
    /// finds the same `\r` and the same number; the common headers take the fast path.
    #[test]
    fn short_headers_agree_with_the_general_parse() {
        let bodies = [
            "0",
            "1",
            "3",
            "42",
            "00",
            "01",
            "-1",
            "+1",
            "",
            " 1",
            "1 ",
            "x",
            "12a",
            "123456789012345678",
            "1234567890123456789",
            "99999999999999999999",
            "2147483648",
        ];
        let mut fast = 0;
        for body in bodies {
            for tail in ["\r\n", "\r", "\n", "", "\r\nrest", "x\r\n"] {
                let s = format!("${body}{tail}");
                let s = s.as_bytes();
                if let Some((v, cr)) = short_number(s) {
                    fast += 1;
                    assert_eq!(memchr::memchr(b'\r', s), Some(cr), "{s:?}");
                    assert!(cr + 1 < s.len());
                    assert_eq!(parse_i64(&s[1..cr]), Some(v), "{s:?}");
                }
            }
        }
        assert!(fast >= 12, "{fast}");
        assert_eq!(short_number(b"$5\r\nhello\r\n"), Some((5, 2)));
        assert_eq!(short_number(b"*3\r\n"), Some((3, 2)));
        assert_eq!(short_number(b"$01\r\n"), None);
        assert_eq!(short_number(b"$3\r"), None);
    }

    #[test]
    fn parse_i64_is_strict() {
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_i64(b"9223372036854775808"), None);
        assert_eq!(parse_i64(b"01"), None);
        assert_eq!(parse_i64(b"+1"), None);
        assert_eq!(parse_i64(b"-0"), None);
        assert_eq!(parse_i64(b" 1"), None);
    }
}
