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
