//! Test doubles: a Vec-backed DMA region and a BAR that records writes.

extern crate std;

use core::cell::RefCell;
use std::vec;
use std::vec::Vec;

use crate::os::{Bar0, DmaRegion};

/// DMA memory in a `Vec`, with the `DmaRegion` out-of-range rule (reads 0, writes
/// ignored) and a count of out-of-range accesses so tests can assert there were none.
pub struct VecDma {
    pub mem: RefCell<Vec<u8>>,
    pub paddr: u64,
    pub oob: RefCell<u32>,
}

impl VecDma {
    pub fn new(len: usize) -> Self {
        VecDma {
            mem: RefCell::new(vec![0; len]),
            paddr: 0x1_0000_0000,
            oob: RefCell::new(0),
        }
    }

    fn range(&self, off: usize, n: usize) -> Option<core::ops::Range<usize>> {
        let end = off.checked_add(n)?;
        if end <= self.mem.borrow().len() {
            Some(off..end)
        } else {
            *self.oob.borrow_mut() += 1;
            None
        }
    }

    /// Bytes `[off, off + n)`.
    pub fn bytes(&self, off: usize, n: usize) -> Vec<u8> {
        self.mem.borrow()[off..off + n].to_vec()
    }

    pub fn oob(&self) -> u32 {
        *self.oob.borrow()
    }

    /// Fill every byte with `b`.
    pub fn fill(&self, b: u8) {
        self.mem.borrow_mut().iter_mut().for_each(|x| *x = b);
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
        let mut b = [0; 2];
        self.read(off, &mut b);
        u16::from_le_bytes(b)
    }
    fn rd_u32(&self, off: usize) -> u32 {
        let mut b = [0; 4];
        self.read(off, &mut b);
        u32::from_le_bytes(b)
    }
    fn rd_u64(&self, off: usize) -> u64 {
        let mut b = [0; 8];
        self.read(off, &mut b);
        u64::from_le_bytes(b)
    }
    fn wr_u16(&self, off: usize, val: u16) {
        self.write(off, &val.to_le_bytes());
    }
    fn wr_u32(&self, off: usize, val: u32) {
        self.write(off, &val.to_le_bytes());
    }
    fn wr_u64(&self, off: usize, val: u64) {
        self.write(off, &val.to_le_bytes());
    }
    fn read(&self, off: usize, dst: &mut [u8]) {
        match self.range(off, dst.len()) {
            Some(r) => dst.copy_from_slice(&self.mem.borrow()[r]),
            None => dst.iter_mut().for_each(|x| *x = 0),
        }
    }
    fn write(&self, off: usize, src: &[u8]) {
        if let Some(r) = self.range(off, src.len()) {
            self.mem.borrow_mut()[r].copy_from_slice(src);
        }
    }
    fn zero(&self, off: usize, len: usize) {
        if let Some(r) = self.range(off, len) {
            self.mem.borrow_mut()[r].iter_mut().for_each(|x| *x = 0);
        }
    }
}

/// A BAR0 that records every write (reads return 0).
#[derive(Default)]
pub struct BarLog {
    pub log: RefCell<Vec<(u32, u32)>>,
}

impl BarLog {
    pub fn writes(&self) -> Vec<(u32, u32)> {
        self.log.borrow().clone()
    }
}

impl Bar0 for BarLog {
    fn rd32(&self, _off: u32) -> u32 {
        0
    }
    fn wr32(&self, off: u32, val: u32) {
        self.log.borrow_mut().push((off, val));
    }
}

/// xorshift64* PRNG for the fuzz-style tests (deterministic seeds).
pub struct XorShift(pub u64);

impl XorShift {
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}
