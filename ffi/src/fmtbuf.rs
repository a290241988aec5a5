//! Formatting into a fixed stack buffer: no allocation, silent truncation.
//!
//! Used by the log path (any context) and the panic handler (which must not
//! allocate).

use core::fmt;

/// A `fmt::Write` sink over `[u8; N]` that keeps the first `N` bytes written and
/// drops the rest. Truncation may split a UTF-8 sequence; the consumer is a C
/// `"%.*s"`, which only counts bytes.
pub struct FmtBuf<const N: usize> {
    buf: [u8; N],
    len: usize,
}

impl<const N: usize> FmtBuf<N> {
    pub const fn new() -> Self {
        Self {
            buf: [0; N],
            len: 0,
        }
    }

    /// The bytes written so far (at most `N`).
    pub fn as_bytes(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or(&[])
    }

    /// True when something was dropped.
    pub fn truncated(&self) -> bool {
        self.len == N
    }
}

impl<const N: usize> Default for FmtBuf<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> fmt::Write for FmtBuf<N> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let room = N - self.len;
        let take = s.len().min(room);
        if let (Some(dst), Some(src)) = (
            self.buf.get_mut(self.len..self.len + take),
            s.as_bytes().get(..take),
        ) {
            dst.copy_from_slice(src);
            self.len += take;
        }
        // Never report an error: a truncated message is better than none.
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::fmt::Write;

    #[test]
    fn keeps_short_messages_whole() {
        let mut b = FmtBuf::<32>::new();
        write!(b, "queue {} of {}", 3, 4).unwrap();
        assert_eq!(b.as_bytes(), b"queue 3 of 4");
        assert!(!b.truncated());
    }

    #[test]
    fn truncates_at_capacity() {
        let mut b = FmtBuf::<8>::new();
        write!(b, "0123456789abcdef").unwrap();
        write!(b, "more").unwrap();
        assert_eq!(b.as_bytes(), b"01234567");
        assert!(b.truncated());
    }
}
