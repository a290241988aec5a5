//! The platform seam: everything the core needs from its surroundings.
//!
//! The core never touches a raw pointer. `ffi/` implements these traits over the
//! FreeBSD KPI (bus_space for BAR0, iflib/busdma memory, DELAY/pause, a taskqueue);
//! the tests implement them over the emulator through the same `ffi/` code.
//!
//! # Contexts
//! * `delay_us` busy-waits and may be called from any context.
//! * `sleep_us` may sleep: only attach, init/stop (iflib's sx context lock) and the
//!   admin task call it, never the data path or an interrupt filter.
//! * `dma_alloc` may sleep: attach time only, never on the data path.

/// 32-bit MMIO access to the VF's BAR0 (the only width the device accepts).
pub trait Bar0 {
    /// Read the 32-bit register at byte offset `off` (little-endian on the bus).
    fn rd32(&self, off: u32) -> u32;
    /// Write the 32-bit register at byte offset `off`.
    fn wr32(&self, off: u32, val: u32);
}

/// A region of DMA-coherent memory shared with the device.
///
/// Offsets are bytes from the start of the region. Every access is little-endian
/// and volatile (the device may change the memory at any time).
///
/// # Invariants (for implementors)
/// An access that does not fit inside `len()` must not touch memory: reads return 0,
/// writes are ignored. The core never relies on this (it computes offsets from masked
/// ring indexes), but it keeps a wrong offset from becoming memory corruption.
pub trait DmaRegion {
    /// Bus address of byte 0, as the device sees it.
    fn paddr(&self) -> u64;
    /// Size in bytes.
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    fn rd_u16(&self, off: usize) -> u16;
    fn rd_u32(&self, off: usize) -> u32;
    fn rd_u64(&self, off: usize) -> u64;
    fn wr_u16(&self, off: usize, val: u16);
    fn wr_u32(&self, off: usize, val: u32);
    fn wr_u64(&self, off: usize, val: u64);
    /// Read the 16 bytes at `off` as two qwords, the one at `off + 8` **first**,
    /// returned as `[qw at off, qw at off + 8]`; `[0, 0]` when they do not fit.
    ///
    /// The order is the point: a descriptor's second qword holds the status the device
    /// writes last (RX DD), so what is read after it is at least as new as the status
    /// that vouches for it.
    ///
    /// The default checks `off + 16 <= len()` once and then makes the two
    /// [`Self::rd_u64`] accesses; when those are inlined, their own bounds checks are
    /// implied by this one and the compiler drops them (one compare per descriptor).
    /// An implementation may override it with one check and two volatile loads in this
    /// order.
    #[inline(always)]
    fn rd_u64x2(&self, off: usize) -> [u64; 2] {
        match off.checked_add(16) {
            Some(end) if end <= self.len() => {
                let hi = self.rd_u64(off + 8);
                let lo = self.rd_u64(off);
                [lo, hi]
            }
            _ => [0, 0],
        }
    }
    /// Write `qw[0]` at `off`, then `qw[1]` at `off + 8` (one descriptor); nothing when
    /// the 16 bytes do not fit. Each store is one aligned 64-bit access (never torn).
    /// The default checks bounds once, as [`Self::rd_u64x2`] does.
    #[inline(always)]
    fn wr_u64x2(&self, off: usize, qw: [u64; 2]) {
        if let Some(end) = off.checked_add(16) {
            if end <= self.len() {
                self.wr_u64(off, qw[0]);
                self.wr_u64(off + 8, qw[1]);
            }
        }
    }
    /// Copy `dst.len()` bytes out of the region.
    fn read(&self, off: usize, dst: &mut [u8]);
    /// Copy `src` into the region.
    fn write(&self, off: usize, src: &[u8]);
    /// Fill `len` bytes at `off` with zero.
    fn zero(&self, off: usize, len: usize);
}

/// Log levels, mapped to device_printf / a test log.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Error,
    Warn,
    Info,
    Debug,
}

/// What the control plane needs from the OS.
pub trait Os {
    type Bar: Bar0;
    type Dma: DmaRegion;

    /// BAR0 of this VF.
    fn bar(&self) -> &Self::Bar;
    /// Allocate zeroed DMA memory; `None` when out of memory. Attach time only.
    fn dma_alloc(&self, size: usize, align: usize) -> Option<Self::Dma>;
    /// Monotonic time in microseconds.
    fn now_us(&self) -> u64;
    /// Busy-wait. Any context.
    fn delay_us(&self, us: u32);
    /// Sleep (may yield the CPU; in the tests it runs the emulator). Not on the data path.
    fn sleep_us(&self, us: u32);
    /// Fill `buf` with random bytes (arc4random in the kernel).
    fn random_bytes(&self, buf: &mut [u8]);
    /// Print a message (device_printf in the kernel).
    fn log(&self, level: Level, args: core::fmt::Arguments<'_>);
    /// Ask for the admin task (mailbox processing) to run soon in its own context.
    fn schedule_admin_task(&self);
}

#[cfg(test)]
mod tests {
    extern crate std;

    use super::DmaRegion;
    use core::cell::RefCell;
    use std::vec::Vec;

    /// 32 bytes as four qwords, logging every access (offset, is_write) in order.
    struct Logged {
        q: RefCell<[u64; 4]>,
        log: RefCell<Vec<(usize, bool)>>,
    }

    impl Logged {
        fn new() -> Self {
            Logged {
                q: RefCell::new([1, 2, 3, 4]),
                log: RefCell::new(Vec::new()),
            }
        }
    }

    impl DmaRegion for Logged {
        fn paddr(&self) -> u64 {
            0
        }
        fn len(&self) -> usize {
            32
        }
        fn rd_u16(&self, _: usize) -> u16 {
            unimplemented!()
        }
        fn rd_u32(&self, _: usize) -> u32 {
            unimplemented!()
        }
        fn rd_u64(&self, off: usize) -> u64 {
            self.log.borrow_mut().push((off, false));
            self.q.borrow().get(off / 8).copied().unwrap_or(0)
        }
        fn wr_u16(&self, _: usize, _: u16) {
            unimplemented!()
        }
        fn wr_u32(&self, _: usize, _: u32) {
            unimplemented!()
        }
        fn wr_u64(&self, off: usize, val: u64) {
            self.log.borrow_mut().push((off, true));
            if let Some(q) = self.q.borrow_mut().get_mut(off / 8) {
                *q = val;
            }
        }
        fn read(&self, _: usize, _: &mut [u8]) {
            unimplemented!()
        }
        fn write(&self, _: usize, _: &[u8]) {
            unimplemented!()
        }
        fn zero(&self, _: usize, _: usize) {
            unimplemented!()
        }
    }

    #[test]
    fn pair_read_takes_the_status_qword_first() {
        let r = Logged::new();
        assert_eq!(r.rd_u64x2(16), [3, 4]);
        assert_eq!(*r.log.borrow(), [(24, false), (16, false)]);
    }

    #[test]
    fn pair_write_is_qw0_then_qw1() {
        let r = Logged::new();
        r.wr_u64x2(0, [10, 20]);
        assert_eq!(*r.q.borrow(), [10, 20, 3, 4]);
        assert_eq!(*r.log.borrow(), [(0, true), (8, true)]);
    }

    #[test]
    fn pair_access_out_of_bounds_touches_nothing() {
        let r = Logged::new();
        // 24 + 16 > 32: neither qword, not even the one that would fit.
        assert_eq!(r.rd_u64x2(24), [0, 0]);
        r.wr_u64x2(24, [7, 7]);
        r.wr_u64x2(usize::MAX - 7, [7, 7]);
        assert_eq!(r.rd_u64x2(usize::MAX - 7), [0, 0]);
        assert!(r.log.borrow().is_empty());
        assert_eq!(*r.q.borrow(), [1, 2, 3, 4]);
    }
}
