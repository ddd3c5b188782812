//! What SCAN, HSCAN, SSCAN and ZSCAN share: their options and their reply.

use bytes::Bytes;

use super::Args;
use crate::error::CmdError;
use crate::protocol::Reply;

/// `[MATCH pattern] [COUNT count]` (and `[TYPE type]` for SCAN).
pub struct ScanOptions {
    pub count: u64,
    /// `None` for no pattern or `*` (everything matches).
    pub pattern: Option<Bytes>,
    pub type_name: Option<Bytes>,
}

impl ScanOptions {
    /// Parses the options as Redis's `scanGenericCommand` does: COUNT below 1 and unknown options are
    /// syntax errors. TYPE is accepted only where `allow_type` (SCAN).
    pub fn parse(args: &mut Args, allow_type: bool) -> Result<ScanOptions, CmdError> {
        let mut o = ScanOptions {
            count: 10,
            pattern: None,
            type_name: None,
        };
        while let Some(opt) = args.next() {
            let has_value = !args.is_empty();
            if opt.eq_ignore_ascii_case(b"count") && has_value {
                let c = args.next_i64()?;
                if c < 1 {
                    return Err(CmdError::Syntax);
                }
                o.count = c as u64;
            } else if opt.eq_ignore_ascii_case(b"match") && has_value {
                let p = args.next_shared()?;
                o.pattern = (&p[..] != b"*").then_some(p);
            } else if allow_type && opt.eq_ignore_ascii_case(b"type") && has_value {
                o.type_name = Some(args.next_shared()?);
            } else {
                return Err(CmdError::Syntax);
            }
        }
        Ok(o)
    }

    /// True if `item` passes MATCH.
    pub fn matches(&self, item: &[u8]) -> bool {
        self.pattern
            .as_ref()
            .is_none_or(|p| crate::glob::matches(p, item, false))
    }
}

/// `[cursor, [items...]]`, the cursor as a bulk string.
pub fn reply(cursor: u64, items: Vec<Reply>) -> Reply {
    let mut b = itoa::Buffer::new();
    Reply::Array(vec![
        Reply::bulk_copy(b.format(cursor).as_bytes()),
        Reply::Array(items),
    ])
}

/// Parses a SCAN cursor as Redis's `parseScanCursorOrReply` (`strtoul` base 10): no leading space, an
/// optional sign (`-1` wraps to the largest cursor), digits, nothing after them; the empty string is 0.
pub fn parse_cursor(b: &[u8]) -> Option<u64> {
    let (neg, digits) = match b.first() {
        None => return Some(0),
        Some(b' ' | b'\t'..=b'\r') => return None,
        Some(b'-') => (true, &b[1..]),
        Some(b'+') => (false, &b[1..]),
        Some(_) => (false, b),
    };
    if digits.is_empty() {
        return None;
    }
    let mut v: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
    }
    Some(if neg { v.wrapping_neg() } else { v })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_parsing_follows_strtoul() {
        assert_eq!(parse_cursor(b"0"), Some(0));
        assert_eq!(parse_cursor(b""), Some(0));
        assert_eq!(parse_cursor(b"+5"), Some(5));
        assert_eq!(parse_cursor(b"-1"), Some(u64::MAX));
        assert_eq!(parse_cursor(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_cursor(b"18446744073709551616"), None);
        assert_eq!(parse_cursor(b" 5"), None);
        assert_eq!(parse_cursor(b"5 "), None);
        assert_eq!(parse_cursor(b"+"), None);
        assert_eq!(parse_cursor(b"abc"), None);
        assert_eq!(parse_cursor(b"0x10"), None);
    }
}
