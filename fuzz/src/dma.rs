//! A `Vec`-backed [`DmaRegion`] with the trait's out-of-range rule (reads return 0,
//! writes are ignored) and a count of such accesses, which the targets require to
//! stay 0: the data path computes every offset from a masked ring index, so an access
//! outside the region is a bug even though the region itself absorbs it.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use ravf::os::DmaRegion;

/// Shared handle (clones see the same memory), so a fake device can keep one.
#[derive(Clone, Debug)]
pub struct VecDma {
    paddr: u64,
    mem: Rc<RefCell<Vec<u8>>>,
    oob: Rc<Cell<u64>>,
}

impl VecDma {
    /// `len` zero bytes at bus address `paddr`.
    pub fn new(paddr: u64, len: usize) -> Self {
        VecDma {
            paddr,
            mem: Rc::new(RefCell::new(vec![0; len])),
            oob: Rc::new(Cell::new(0)),
        }
    }

    /// Accesses that fell outside the region so far.
    pub fn oob(&self) -> u64 {
        self.oob.get()
    }

    /// Bytes `[off, off + n)`, zero-padded past the end (no oob count: a test read).
    pub fn snapshot(&self, off: usize, n: usize) -> Vec<u8> {
        let m = self.mem.borrow();
        let mut v = vec![0; n];
        if let Some(src) = m.get(off..off.saturating_add(n).min(m.len())) {
            v[..src.len()].copy_from_slice(src);
        }
        v
    }

    /// The whole region (a test read).
    pub fn to_vec(&self) -> Vec<u8> {
        self.mem.borrow().clone()
    }

    /// Overwrite from `off` as the device would (a fake-device write, no oob count).
    pub fn poke(&self, off: usize, src: &[u8]) {
        let mut m = self.mem.borrow_mut();
        let len = m.len();
        let start = off.min(len);
        let end = off.saturating_add(src.len()).min(len);
        let n = end - start;
        m[start..end].copy_from_slice(&src[..n]);
    }

    /// Does `[pa, pa + n)` lie inside this region? Returns the offset.
    pub fn offset_of(&self, pa: u64, n: usize) -> Option<usize> {
        let off = pa.checked_sub(self.paddr)?;
        let end = off.checked_add(n as u64)?;
        (end <= self.mem.borrow().len() as u64).then_some(off as usize)
    }

    fn range(&self, off: usize, n: usize) -> Option<std::ops::Range<usize>> {
        match off.checked_add(n) {
            Some(end) if end <= self.mem.borrow().len() => Some(off..end),
            _ => {
                self.oob.set(self.oob.get() + 1);
                None
            }
        }
    }

    fn rd<const N: usize>(&self, off: usize) -> [u8; N] {
        let mut b = [0u8; N];
        if let Some(r) = self.range(off, N) {
            b.copy_from_slice(&self.mem.borrow()[r]);
        }
        b
    }

    fn wr(&self, off: usize, src: &[u8]) {
        if let Some(r) = self.range(off, src.len()) {
            self.mem.borrow_mut()[r].copy_from_slice(src);
        }
    }
}

impl DmaRegion for VecDma {
    fn paddr(&self) -> u64 {
        self.paddr
    }
    fn len(&self) -> usize {
        self.mem.borrow().len()
    }
    fn rd_u16(&self, off: usize) -> u16 {
        u16::from_le_bytes(self.rd(off))
    }
    fn rd_u32(&self, off: usize) -> u32 {
        u32::from_le_bytes(self.rd(off))
    }
    fn rd_u64(&self, off: usize) -> u64 {
        u64::from_le_bytes(self.rd(off))
    }
    fn wr_u16(&self, off: usize, val: u16) {
        self.wr(off, &val.to_le_bytes())
    }
    fn wr_u32(&self, off: usize, val: u32) {
        self.wr(off, &val.to_le_bytes())
    }
    fn wr_u64(&self, off: usize, val: u64) {
        self.wr(off, &val.to_le_bytes())
    }
    fn read(&self, off: usize, dst: &mut [u8]) {
        match self.range(off, dst.len()) {
            Some(r) => dst.copy_from_slice(&self.mem.borrow()[r]),
            None => dst.fill(0),
        }
    }
    fn write(&self, off: usize, src: &[u8]) {
        self.wr(off, src)
    }
    fn zero(&self, off: usize, len: usize) {
        if let Some(r) = self.range(off, len) {
            self.mem.borrow_mut()[r].fill(0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_of_range_is_absorbed_and_counted() {
        let d = VecDma::new(0x1000, 16);
        d.wr_u64(8, 0x0102_0304_0506_0708);
        assert_eq!(d.rd_u64(8), 0x0102_0304_0506_0708);
        assert_eq!(d.snapshot(8, 2), vec![0x08, 0x07]);
        assert_eq!(d.oob(), 0);
        assert_eq!(d.rd_u64(9), 0);
        d.wr_u32(14, 1);
        d.zero(usize::MAX, 2);
        assert_eq!(d.oob(), 3);
        assert_eq!(d.offset_of(0x1008, 8), Some(8));
        assert_eq!(d.offset_of(0x1009, 8), None);
        assert_eq!(d.offset_of(0xFFF, 1), None);
    }
}
