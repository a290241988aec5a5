//! The driver core's platform traits (`ravf::os`) over the KPI seam.
//!
//! * [`KBar`]: BAR0 through `ravf_kpi_rd32/wr32` (bus_space is a static inline in
//!   FreeBSD, so the C shim wraps it), bounds- and alignment-checked here.
//! * [`KDma`]: a (vaddr, paddr, len) window of device-shared memory with volatile
//!   little-endian accesses; either owned (from `iflib_dma_alloc_align`, freed on drop)
//!   or borrowed (descriptor rings iflib allocated and hands to `tx/rx_queues_alloc`).
//! * [`KOs`]: time, sleep, random, log and the admin-task doorbell.

use core::ffi::{c_char, c_int, c_void};
use core::fmt::{self, Write as _};
use core::ptr;

use ravf::os::{Bar0, DmaRegion, Level, Os};
use ravf_sys::{device_t, if_ctx_t, iflib_dma_info, BUS_DMA_NOWAIT};

use crate::fmtbuf::FmtBuf;
use crate::kpi;

/// What a read outside BAR0 returns: all-ones, like a read of an absent device,
/// which the core already treats as "VF in reset".
const BAR_OOB_READ: u32 = 0xFFFF_FFFF;

/// The VF's BAR0, mapped by the C shim.
pub struct KBar {
    handle: *mut c_void,
    size: u64,
}

impl KBar {
    /// # Safety
    /// `handle` must come from `ravf_kpi_bar0_map` (or the harness's equivalent),
    /// map at least `size` bytes, and stay mapped for the life of the `KBar`.
    pub unsafe fn new(handle: *mut c_void, size: u64) -> Self {
        Self { handle, size }
    }

    /// The C handle (for `ravf_kpi_bar0_unmap`).
    pub fn handle(&self) -> *mut c_void {
        self.handle
    }

    fn in_bounds(&self, off: u32) -> bool {
        off & 3 == 0 && u64::from(off) + 4 <= self.size
    }
}

impl Bar0 for KBar {
    fn rd32(&self, off: u32) -> u32 {
        if !self.in_bounds(off) {
            return BAR_OOB_READ;
        }
        // SAFETY: `handle` maps `size` bytes (KBar::new contract) and `off` is a
        // 4-aligned offset with off + 4 <= size.
        unsafe { kpi::ravf_kpi_rd32(self.handle, off) }
    }

    fn wr32(&self, off: u32, val: u32) {
        if !self.in_bounds(off) {
            return;
        }
        // SAFETY: as in rd32: the access lies inside the mapped BAR.
        unsafe { kpi::ravf_kpi_wr32(self.handle, off, val) }
    }
}

/// A window of DMA-coherent memory shared with the device.
///
/// Type invariant (checked by both constructors): `vaddr` is 8-byte aligned, so an
/// offset that is a multiple of `N` (N = 2, 4, 8) yields an `N`-aligned pointer. The
/// data path only uses such offsets (descriptor offsets are `index << 4` or
/// `index << 5`, plus 8), so its accessors compile to one bounds compare and one
/// `mov` once inlined: the alignment test folds away for offsets the compiler can see
/// are aligned, and `off + N` cannot overflow for offsets built from a `u16` index.
pub struct KDma {
    vaddr: *mut u8,
    paddr: u64,
    len: usize,
    /// `Some` when this region owns an `iflib_dma_alloc_align` allocation.
    owned: Option<iflib_dma_info>,
}

/// The base alignment [`KDma`] requires (its type invariant).
const KDMA_ALIGN: usize = 8;

impl KDma {
    /// Borrow memory someone else owns (iflib's descriptor rings, which iflib aligns to
    /// `isc_q_align`: PAGE_SIZE in kmod/if_ravf.c, above the 128 bytes the queue
    /// contexts need). `None` if `vaddr` is NULL or not 8-byte aligned.
    ///
    /// iflib frees the ring memory (`iflib_tx/rx_structures_free`) before it calls
    /// IFDI_DETACH/IFDI_QUEUES_FREE, which drop the rings: in that window the pointer
    /// dangles but is never dereferenced (the queues are stopped, their vectors masked
    /// by IFDI_INTR_DISABLE and their filters answer without touching the rings while
    /// `running` is clear), and a dangling raw pointer is not itself undefined.
    ///
    /// # Safety
    /// `vaddr` must be valid for reads and writes of `len` bytes, and stay so (and not
    /// be freed) for the life of the `KDma`; `paddr` must be its bus address.
    pub unsafe fn borrowed(vaddr: *mut u8, paddr: u64, len: usize) -> Option<Self> {
        if vaddr.is_null() || (vaddr as usize) % KDMA_ALIGN != 0 {
            return None;
        }
        Some(Self {
            vaddr,
            paddr,
            len,
            owned: None,
        })
    }

    /// Allocate `size` bytes aligned to `align` with `iflib_dma_alloc_align`.
    ///
    /// # Safety
    /// `ctx` must be a live iflib context, and the caller must be in a sleepable
    /// context (attach).
    pub unsafe fn alloc(ctx: if_ctx_t, size: usize, align: usize) -> Option<Self> {
        let size_c = c_int::try_from(size).ok().filter(|&s| s > 0)?;
        let align_c = c_int::try_from(align.max(KDMA_ALIGN)).ok()?;
        let mut info = iflib_dma_info::zeroed();
        // SAFETY: ctx is live (caller); `info` is a valid, writable iflib_dma_info.
        let rc =
            unsafe { kpi::iflib_dma_alloc_align(ctx, size_c, align_c, &mut info, BUS_DMA_NOWAIT) };
        if rc != 0 || info.idi_vaddr.is_null() {
            return None;
        }
        let vaddr = info.idi_vaddr.cast::<u8>();
        if (vaddr as usize) % KDMA_ALIGN != 0 {
            // Not what we asked for: give it back rather than break the invariant.
            // SAFETY: filled by the successful iflib_dma_alloc_align above, freed once.
            unsafe { kpi::iflib_dma_free(&mut info) };
            return None;
        }
        Some(Self {
            vaddr,
            paddr: info.idi_paddr,
            len: size,
            owned: Some(info),
        })
    }

    /// `Some(pointer)` to `n` bytes at `off` when they lie inside the region.
    #[inline(always)]
    fn span(&self, off: usize, n: usize) -> Option<*mut u8> {
        let end = off.checked_add(n)?;
        if end > self.len {
            return None;
        }
        // SAFETY: off + n <= len, so the result stays inside the allocation of `len`
        // bytes that `vaddr` points to (constructor contracts).
        Some(unsafe { self.vaddr.add(off) })
    }

    /// Byte-wise access for offsets that are not a multiple of the width, or out of
    /// bounds (zeros). Out of line: the data path never gets here.
    #[cold]
    #[inline(never)]
    fn rd_bytes<const N: usize>(&self, off: usize) -> [u8; N] {
        let mut out = [0u8; N];
        if let Some(p) = self.span(off, N) {
            for (i, b) in out.iter_mut().enumerate() {
                // SAFETY: p..p+N is inside the region (span); byte reads need no
                // alignment; volatile because the device writes this memory.
                *b = unsafe { ptr::read_volatile(p.add(i)) };
            }
        }
        out
    }

    #[cold]
    #[inline(never)]
    fn wr_bytes<const N: usize>(&self, off: usize, bytes: [u8; N]) {
        if let Some(p) = self.span(off, N) {
            for (i, b) in bytes.iter().enumerate() {
                // SAFETY: p..p+N is inside the region (span); volatile so the store
                // is not elided or merged past the device's view.
                unsafe { ptr::write_volatile(p.add(i), *b) };
            }
        }
    }
}

// The full-width accessors: one bounds compare (`off + N <= len`; the `checked_add`
// folds away when `off` comes from a masked ring index) and one volatile little-endian
// access when `off` is a multiple of N, which by the type invariant makes the pointer
// N-aligned. Anything else takes the cold byte-wise path.
macro_rules! dma_rw {
    ($rd:ident, $wr:ident, $t:ty) => {
        #[inline(always)]
        fn $rd(&self, off: usize) -> $t {
            const N: usize = core::mem::size_of::<$t>();
            if off % N == 0 {
                if let Some(p) = self.span(off, N) {
                    // SAFETY: p..p+N is inside the region (span), and p = vaddr + off
                    // is N-aligned: vaddr is 8-aligned (type invariant), N divides 8
                    // and off. Volatile: the device writes this memory.
                    return <$t>::from_le(unsafe { ptr::read_volatile(p.cast::<$t>()) });
                }
            }
            <$t>::from_le_bytes(self.rd_bytes::<N>(off))
        }

        #[inline(always)]
        fn $wr(&self, off: usize, val: $t) {
            const N: usize = core::mem::size_of::<$t>();
            if off % N == 0 {
                if let Some(p) = self.span(off, N) {
                    // SAFETY: as in the read: in bounds and N-aligned.
                    unsafe { ptr::write_volatile(p.cast::<$t>(), val.to_le()) };
                    return;
                }
            }
            self.wr_bytes::<N>(off, val.to_le_bytes())
        }
    };
}

const _: () = assert!(KDMA_ALIGN % core::mem::size_of::<u64>() == 0);

impl DmaRegion for KDma {
    #[inline]
    fn paddr(&self) -> u64 {
        self.paddr
    }

    #[inline]
    fn len(&self) -> usize {
        self.len
    }

    dma_rw!(rd_u16, wr_u16, u16);
    dma_rw!(rd_u32, wr_u32, u32);
    dma_rw!(rd_u64, wr_u64, u64);

    fn read(&self, off: usize, dst: &mut [u8]) {
        match self.span(off, dst.len()) {
            Some(p) => {
                for (i, b) in dst.iter_mut().enumerate() {
                    // SAFETY: p..p+dst.len() is inside the region (span).
                    *b = unsafe { ptr::read_volatile(p.add(i)) };
                }
            }
            // Out of bounds: no memory is touched; the caller sees zeros.
            None => dst.fill(0),
        }
    }

    fn write(&self, off: usize, src: &[u8]) {
        if let Some(p) = self.span(off, src.len()) {
            for (i, b) in src.iter().enumerate() {
                // SAFETY: p..p+src.len() is inside the region (span).
                unsafe { ptr::write_volatile(p.add(i), *b) };
            }
        }
    }

    fn zero(&self, off: usize, len: usize) {
        if let Some(p) = self.span(off, len) {
            for i in 0..len {
                // SAFETY: p..p+len is inside the region (span).
                unsafe { ptr::write_volatile(p.add(i), 0) };
            }
        }
    }
}

impl Drop for KDma {
    fn drop(&mut self) {
        if let Some(info) = self.owned.as_mut() {
            // SAFETY: `info` was filled by a successful iflib_dma_alloc_align and is
            // freed exactly once (here; `owned` is then dropped with the KDma).
            unsafe { kpi::iflib_dma_free(info) };
        }
    }
}

/// The core's `Os` for one device.
pub struct KOs {
    ctx: if_ctx_t,
    dev: device_t,
    bar: KBar,
    /// The ravf admin taskqueue handle (`ravf_kpi_admin_task_init`).
    admin_tq: *mut c_void,
}

impl KOs {
    /// # Safety
    /// `ctx`/`dev` must be the live iflib context and device of this VF; `admin_tq`
    /// a handle from `ravf_kpi_admin_task_init` (or NULL); all three must outlive the
    /// `KOs` (it is dropped in ifdi_detach, before they go away).
    pub unsafe fn new(ctx: if_ctx_t, dev: device_t, bar: KBar, admin_tq: *mut c_void) -> Self {
        Self {
            ctx,
            dev,
            bar,
            admin_tq,
        }
    }

    pub fn ctx(&self) -> if_ctx_t {
        self.ctx
    }

    pub fn dev(&self) -> device_t {
        self.dev
    }
}

/// Log a message through `ravf_kpi_log` (device_printf). Any context; no allocation.
pub(crate) fn log_dev(dev: device_t, level: Level, args: fmt::Arguments<'_>) {
    let mut buf = FmtBuf::<256>::new();
    let _ = buf.write_fmt(args);
    let bytes = buf.as_bytes();
    let lvl: c_int = match level {
        Level::Error => 0,
        Level::Warn => 1,
        Level::Info => 2,
        Level::Debug => 3,
    };
    // SAFETY: `bytes` is a live buffer of `bytes.len()` bytes for the duration of the
    // call; the wrapper prints it with "%.*s" and keeps no reference.
    unsafe { kpi::ravf_kpi_log(dev, lvl, bytes.as_ptr().cast::<c_char>(), bytes.len()) };
}

impl Os for KOs {
    type Bar = KBar;
    type Dma = KDma;

    fn bar(&self) -> &KBar {
        &self.bar
    }

    fn dma_alloc(&self, size: usize, align: usize) -> Option<KDma> {
        // SAFETY: ctx is live for the life of self (KOs::new contract); the core calls
        // dma_alloc at attach time only (os.rs contract), a sleepable context.
        unsafe { KDma::alloc(self.ctx, size, align) }
    }

    fn now_us(&self) -> u64 {
        // SAFETY: no arguments; callable from any context.
        unsafe { kpi::ravf_kpi_now_us() }
    }

    fn delay_us(&self, us: u32) {
        // SAFETY: busy-wait; callable from any context.
        unsafe { kpi::ravf_kpi_delay_us(us) }
    }

    fn sleep_us(&self, us: u32) {
        // SAFETY: the core sleeps only in attach, init/stop and the admin task
        // (os.rs contract), all sleepable contexts.
        unsafe { kpi::ravf_kpi_sleep_us(us) }
    }

    fn random_bytes(&self, buf: &mut [u8]) {
        // SAFETY: `buf` is valid for writes of buf.len() bytes.
        unsafe { kpi::ravf_kpi_random(buf.as_mut_ptr(), buf.len()) }
    }

    fn log(&self, level: Level, args: fmt::Arguments<'_>) {
        log_dev(self.dev, level, args)
    }

    fn schedule_admin_task(&self) {
        if self.admin_tq.is_null() {
            return;
        }
        // SAFETY: admin_tq came from ravf_kpi_admin_task_init and lives until detach,
        // after the KOs is gone; enqueue is callable from any context.
        unsafe { kpi::ravf_kpi_admin_task_enqueue(self.admin_tq) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 8-aligned backing store (the KDma invariant), viewed as bytes.
    #[repr(C, align(8))]
    struct Mem<const N: usize>([u8; N]);

    fn region(buf: &mut [u8], paddr: u64) -> KDma {
        // SAFETY: the test keeps `buf` alive and unaliased for the KDma's life.
        unsafe { KDma::borrowed(buf.as_mut_ptr(), paddr, buf.len()) }.expect("8-aligned")
    }

    #[test]
    fn little_endian_accesses() {
        let mut mem = Mem([0u8; 32]);
        let mem = &mut mem.0;
        {
            let r = region(mem, 0x1000);
            r.wr_u32(4, 0x1122_3344);
            r.wr_u64(8, 0x0102_0304_0506_0708);
            r.wr_u16(2, 0xBEEF);
            assert_eq!(r.rd_u32(4), 0x1122_3344);
            assert_eq!(r.rd_u64(8), 0x0102_0304_0506_0708);
            assert_eq!(r.rd_u16(2), 0xBEEF);
            assert_eq!(r.paddr(), 0x1000);
            assert_eq!(r.len(), 32);
        }
        assert_eq!(&mem[2..4], &[0xEF, 0xBE]);
        assert_eq!(&mem[4..8], &[0x44, 0x33, 0x22, 0x11]);
        assert_eq!(&mem[8..16], &[8, 7, 6, 5, 4, 3, 2, 1]);
    }

    #[test]
    fn unaligned_offsets_work() {
        let mut mem = Mem([0u8; 16]);
        let mem = &mut mem.0;
        {
            let r = region(mem, 0);
            r.wr_u32(1, 0xA1B2_C3D4);
            assert_eq!(r.rd_u32(1), 0xA1B2_C3D4);
            r.wr_u64(3, 0x1122_3344_5566_7788);
            assert_eq!(r.rd_u64(3), 0x1122_3344_5566_7788);
        }
        assert_eq!(mem[3], 0x88);
        assert_eq!(mem[10], 0x11);
    }

    #[test]
    fn out_of_bounds_touches_nothing() {
        let mut mem = Mem([0xAAu8; 24]);
        let mem = &mut mem.0;
        {
            let r = region(&mut mem[..16], 0);
            r.wr_u32(13, 0); // 13 + 4 > 16
            r.wr_u64(usize::MAX - 2, 0); // overflow
            r.wr_u64(usize::MAX - 7, 0); // aligned offset, overflow
            r.wr_u64(16, 0); // aligned, one past the end
            r.wr_u16(16, 0);
            r.write(10, &[0u8; 7]);
            r.zero(16, 1);
            assert_eq!(r.rd_u32(13), 0);
            assert_eq!(r.rd_u64(9), 0);
            assert_eq!(r.rd_u64(16), 0);
            assert_eq!(r.rd_u64(usize::MAX - 7), 0);
            let mut out = [0x55u8; 8];
            r.read(12, &mut out);
            assert_eq!(out, [0u8; 8]);
        }
        assert!(mem.iter().all(|&b| b == 0xAA));
    }

    #[test]
    fn misaligned_base_is_refused() {
        let mut mem = Mem([0u8; 16]);
        let p = mem.0.as_mut_ptr();
        // SAFETY: in bounds of `mem`; the KDma (if any) is dropped at once.
        unsafe {
            assert!(KDma::borrowed(p.add(1), 0, 8).is_none());
            assert!(KDma::borrowed(p.add(4), 0, 8).is_none());
            assert!(KDma::borrowed(ptr::null_mut(), 0, 8).is_none());
            assert!(KDma::borrowed(p.add(8), 0, 8).is_some());
        }
    }

    #[test]
    fn bulk_copy_and_zero() {
        let mut mem = Mem([0xFFu8; 16]);
        let mem = &mut mem.0;
        {
            let r = region(mem, 0);
            r.write(2, b"abcd");
            let mut out = [0u8; 4];
            r.read(2, &mut out);
            assert_eq!(&out, b"abcd");
            r.zero(3, 2);
        }
        assert_eq!(&mem[..7], &[0xFF, 0xFF, b'a', 0, 0, b'd', 0xFF]);
    }
}
