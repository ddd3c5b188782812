//! [`Argv`]: one request's arguments, as spans of the one buffer they arrived in.
//!
//! The decoder splits each complete request off the connection's read buffer in one piece and records
//! where its arguments lie in it. Handing out an argument is then a slice borrow, not a reference-counted
//! `Bytes` per argument: on a pipelined LPUSH, splitting, cloning and dropping one `Bytes` per argument
//! (an atomic operation each) was 11% of the server's time. A handler that must keep an argument beyond
//! the command (a blocked client's keys, a pub/sub channel) asks for [`Argv::shared`], which shares the
//! buffer without copying.

use std::fmt;
use std::ops::{Index, Range};

use bytes::{Bytes, BytesMut};

/// A request: the command name followed by its arguments.
#[derive(Clone, Default)]
pub struct Argv {
    buf: Bytes,
    spans: Vec<Range<usize>>,
}

impl Argv {
    /// A request from `buf` and the ranges of its arguments in it (the decoder's constructor).
    pub(crate) fn from_spans(buf: Bytes, spans: Vec<Range<usize>>) -> Argv {
        debug_assert!(spans.iter().all(|r| r.start <= r.end && r.end <= buf.len()));
        Argv { buf, spans }
    }

    /// A request made of these arguments, copied into one buffer (scripts, tests, rewritten requests).
    pub fn from_args<I>(args: I) -> Argv
    where
        I: IntoIterator,
        I::Item: AsRef<[u8]>,
    {
        let mut b = ArgvBuilder::default();
        for a in args {
            b.push(a.as_ref());
        }
        b.finish()
    }

    pub fn len(&self) -> usize {
        self.spans.len()
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// Argument `i` (0 is the command name).
    #[inline]
    pub fn get(&self, i: usize) -> Option<&[u8]> {
        self.spans.get(i).map(|r| &self.buf[r.clone()])
    }

    /// The command name.
    pub fn first(&self) -> Option<&[u8]> {
        self.get(0)
    }

    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &[u8]> + ExactSizeIterator + Clone + '_ {
        self.spans.iter().map(|r| &self.buf[r.clone()])
    }

    /// Argument `i` as a `Bytes` that shares this request's buffer (no copy): for what must outlive
    /// the command. Panics if `i` is out of range, as indexing does.
    pub fn shared(&self, i: usize) -> Bytes {
        self.buf.slice(self.spans[i].clone())
    }

    /// Every argument as a shared `Bytes`.
    pub fn to_vec(&self) -> Vec<Bytes> {
        self.spans
            .iter()
            .map(|r| self.buf.slice(r.clone()))
            .collect()
    }

    /// Drops the arguments, keeping the span vector's allocation for reuse.
    pub fn clear(&mut self) {
        self.buf = Bytes::new();
        self.spans.clear();
    }

    /// Drops the arguments and keeps the span vector's allocation for the next request.
    pub(crate) fn into_spans(mut self) -> Vec<Range<usize>> {
        self.spans.clear();
        self.spans
    }
}

/// Builds an [`Argv`] an argument at a time, into one buffer.
#[derive(Default)]
pub struct ArgvBuilder {
    buf: BytesMut,
    spans: Vec<Range<usize>>,
}

impl ArgvBuilder {
    /// Room for `args` arguments of `bytes` bytes in all, so that pushing them does not reallocate.
    pub fn with_capacity(args: usize, bytes: usize) -> ArgvBuilder {
        ArgvBuilder {
            buf: BytesMut::with_capacity(bytes),
            spans: Vec::with_capacity(args),
        }
    }

    pub fn push(&mut self, arg: &[u8]) {
        self.spans.push(self.buf.len()..self.buf.len() + arg.len());
        self.buf.extend_from_slice(arg);
    }

    pub fn finish(self) -> Argv {
        Argv {
            buf: self.buf.freeze(),
            spans: self.spans,
        }
    }
}

impl Index<usize> for Argv {
    type Output = [u8];

    #[inline]
    fn index(&self, i: usize) -> &[u8] {
        &self.buf[self.spans[i].clone()]
    }
}

/// Requests are equal when their arguments are, wherever the bytes lie.
impl PartialEq for Argv {
    fn eq(&self, other: &Argv) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl Eq for Argv {}

impl fmt::Debug for Argv {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.iter().map(|a| String::from_utf8_lossy(a)))
            .finish()
    }
}

impl<A: AsRef<[u8]>> FromIterator<A> for Argv {
    fn from_iter<I: IntoIterator<Item = A>>(iter: I) -> Argv {
        Argv::from_args(iter)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_index_one_buffer() {
        let buf = Bytes::from_static(b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
        let a = Argv::from_spans(buf, vec![8..11, 17..18]);
        assert_eq!(a.len(), 2);
        assert_eq!(&a[0], b"GET");
        assert_eq!(a.get(1), Some(&b"k"[..]));
        assert_eq!(a.get(2), None);
        assert_eq!(a.shared(1), Bytes::from_static(b"k"));
        assert_eq!(a, Argv::from_args(["GET", "k"]));
        assert_ne!(a, Argv::from_args(["GET", "k", ""]));
        assert_eq!(format!("{a:?}"), r#"["GET", "k"]"#);
        let empty: Argv = Vec::<&[u8]>::new().into_iter().collect();
        assert!(empty.is_empty());
    }
}
