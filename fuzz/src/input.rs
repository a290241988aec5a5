//! Total byte cursors over a fuzz input.

/// Drawing values from the fuzzer's bytes; past the end every draw is zero.
pub trait Draw {
    /// The next byte, 0 past the end.
    fn u8(&mut self) -> u8;
    /// No bytes left.
    fn is_empty(&self) -> bool;

    fn bool(&mut self) -> bool {
        self.u8() & 1 != 0
    }
    fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.u8(), self.u8()])
    }
    fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }
    fn u64(&mut self) -> u64 {
        u64::from(self.u32()) | (u64::from(self.u32()) << 32)
    }
    /// `n` bytes (zeros past the end).
    fn vec(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.u8()).collect()
    }
    /// One of `choices` (the first when the input is used up). `choices` must not be empty.
    fn pick<T: Copy>(&mut self, choices: &[T]) -> T {
        choices[usize::from(self.u8()) % choices.len()]
    }
}

/// An owned cursor, for a fake device that keeps drawing decisions while the code
/// under test runs.
#[derive(Clone, Debug, Default)]
pub struct Tape {
    data: Vec<u8>,
    pos: usize,
}

impl Tape {
    pub fn new(data: &[u8]) -> Self {
        Tape {
            data: data.to_vec(),
            pos: 0,
        }
    }
}

impl Draw for Tape {
    fn u8(&mut self) -> u8 {
        let b = self.data.get(self.pos).copied().unwrap_or(0);
        self.pos = self.pos.saturating_add(1);
        b
    }
    fn is_empty(&self) -> bool {
        self.pos >= self.data.len()
    }
}

/// Reads little-endian values from the input; past the end every read is zero, so a
/// target can draw as many decisions as it likes and short inputs still mean something.
#[derive(Clone, Debug)]
pub struct Input<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Input<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Input { data, pos: 0 }
    }

    /// Bytes left.
    pub fn remaining(&self) -> usize {
        self.data.len().saturating_sub(self.pos)
    }

    /// Up to `n` bytes (fewer at the end of the input).
    pub fn bytes(&mut self, n: usize) -> &'a [u8] {
        let start = self.pos.min(self.data.len());
        let end = start.saturating_add(n).min(self.data.len());
        self.pos = self.pos.saturating_add(n);
        &self.data[start..end]
    }

    /// Everything that is left.
    pub fn rest(&mut self) -> &'a [u8] {
        let start = self.pos.min(self.data.len());
        self.pos = self.data.len();
        &self.data[start..]
    }
}

impl Draw for Input<'_> {
    fn u8(&mut self) -> u8 {
        let b = self.data.get(self.pos).copied().unwrap_or(0);
        self.pos = self.pos.saturating_add(1);
        b
    }
    fn is_empty(&self) -> bool {
        self.pos >= self.data.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tape_matches_input() {
        let mut t = Tape::new(&[1, 2, 3]);
        assert_eq!(t.u16(), 0x0201);
        assert_eq!(t.vec(3), vec![3, 0, 0]);
        assert!(t.is_empty());
    }

    #[test]
    fn reads_little_endian_then_zeros() {
        let mut i = Input::new(&[0x34, 0x12, 0xAA]);
        assert_eq!(i.u16(), 0x1234);
        assert!(!i.is_empty());
        assert_eq!(i.u16(), 0x00AA);
        assert!(i.is_empty());
        assert_eq!(i.u64(), 0);
        assert_eq!(i.bytes(4), &[] as &[u8]);
    }
}
