//! `SmallBytes`: a byte string stored inline when short (up to 22 bytes), on the heap otherwise.
//!
//! Keys are looked up on every command; storing a short key inside the table node saves an allocation
//! per key and, more importantly, a cache miss per lookup (the compare no longer chases a pointer).
//! Replies use it too: a short bulk string (a typical cached value) is sent without a heap allocation.

use std::ops::Deref;

pub const INLINE_CAP: usize = 22;

#[derive(Clone)]
pub enum SmallBytes {
    Inline { len: u8, buf: [u8; INLINE_CAP] },
    Heap(Box<[u8]>),
}

impl SmallBytes {
    #[inline]
    pub fn new(b: &[u8]) -> SmallBytes {
        if b.len() <= INLINE_CAP {
            let mut buf = [0u8; INLINE_CAP];
            buf[..b.len()].copy_from_slice(b);
            SmallBytes::Inline {
                len: b.len() as u8,
                buf,
            }
        } else {
            SmallBytes::Heap(b.into())
        }
    }

    #[inline]
    pub fn as_slice(&self) -> &[u8] {
        match self {
            SmallBytes::Inline { len, buf } => &buf[..*len as usize],
            SmallBytes::Heap(b) => b,
        }
    }
}

impl Deref for SmallBytes {
    type Target = [u8];

    #[inline]
    fn deref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl From<&[u8]> for SmallBytes {
    fn from(b: &[u8]) -> Self {
        SmallBytes::new(b)
    }
}

impl PartialEq for SmallBytes {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for SmallBytes {}

impl std::fmt::Debug for SmallBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(self))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_and_roundtrip() {
        assert_eq!(std::mem::size_of::<SmallBytes>(), 24);
        for n in [0, 1, 22, 23, 100] {
            let v: Vec<u8> = (0..n as u8).collect();
            assert_eq!(&*SmallBytes::new(&v), &v[..]);
        }
    }
}
