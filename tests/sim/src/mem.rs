//! The emulator's view of guest memory, and the in-process memory model.
//!
//! The emulator reaches driver memory only by I/O virtual address (IOVA), as the
//! hardware does through the IOMMU. Two implementations exist: [`HostMemory`] here, for
//! the in-process harness, and the vfio-user DMA map (fds from QEMU) in `vfio_user`.
//!
//! [`HostMemory`] deliberately maps each buffer at an IOVA unrelated to its host
//! address, so a driver that hands the device a virtual address instead of a bus
//! address faults (a recorded DMA fault) instead of silently working.
//!
//! This module is where the in-process emulator's `unsafe` lives.

use std::alloc::{alloc_zeroed, dealloc, Layout};
use std::sync::{Arc, Mutex};

/// A DMA access outside every mapping.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DmaFault {
    pub iova: u64,
    pub len: usize,
}

/// Guest memory as the device sees it.
pub trait GuestMemory: Send + Sync {
    /// Copy `buf.len()` bytes from `iova`. The whole range must be mapped.
    fn read(&self, iova: u64, buf: &mut [u8]) -> Result<(), DmaFault>;
    /// Copy `buf` to `iova`. The whole range must be mapped.
    fn write(&self, iova: u64, buf: &[u8]) -> Result<(), DmaFault>;
}

/// One buffer allocated by the harness: a host pointer for the driver (through
/// ravf-ffi, as iflib and busdma would hand it out) and an IOVA for the device.
#[derive(Clone, Copy, Debug)]
pub struct DmaBuf {
    pub vaddr: *mut u8,
    pub iova: u64,
    pub len: usize,
}

// SAFETY: a DmaBuf is a plain description (pointer, address, length) of memory owned by
// HostMemory, which outlives every use of it in the harness; the harness serialises
// all accesses (it is single-threaded per emulated machine).
unsafe impl Send for DmaBuf {}
// SAFETY: as above; DmaBuf itself carries no interior state.
unsafe impl Sync for DmaBuf {}

struct Region {
    host: *mut u8,
    iova: u64,
    len: usize,
    layout: Layout,
}

// SAFETY: Region only describes an allocation owned by HostMemory; access to the bytes
// goes through HostMemory's methods, which hold the table lock while copying.
unsafe impl Send for Region {}

/// In-process guest memory: zeroed host allocations mapped at synthetic IOVAs.
///
/// # Invariants
/// Every `Region` in `regions` owns a live allocation of `layout`, `len` bytes long,
/// mapped at `[iova, iova + len)`; mapped ranges never overlap.
pub struct HostMemory {
    regions: Mutex<Vec<Region>>,
    next_iova: Mutex<u64>,
}

/// IOVAs start here: far from any user-space host address on x86-64 Linux, so a
/// host pointer used as a bus address never hits a mapping.
const IOVA_BASE: u64 = 0x7e00_0000_0000_0000;

impl HostMemory {
    pub fn new() -> Arc<Self> {
        Arc::new(HostMemory {
            regions: Mutex::new(Vec::new()),
            next_iova: Mutex::new(IOVA_BASE),
        })
    }

    /// Allocate `len` zeroed bytes aligned to `align` (a power of two) both on the
    /// host and in IOVA space. Panics on allocation failure (test harness only).
    pub fn alloc(&self, len: usize, align: usize) -> DmaBuf {
        let align = align.max(64).next_power_of_two();
        let layout = Layout::from_size_align(len.max(1), align).expect("dma layout");
        // SAFETY: layout has non-zero size.
        let host = unsafe { alloc_zeroed(layout) };
        assert!(!host.is_null(), "HostMemory: out of memory");
        let mut next = self.next_iova.lock().unwrap();
        let iova = (*next + align as u64 - 1) & !(align as u64 - 1);
        // Leave an unmapped guard page between buffers so overruns fault.
        *next = iova + len as u64 + 4096;
        self.regions.lock().unwrap().push(Region {
            host,
            iova,
            len,
            layout,
        });
        DmaBuf {
            vaddr: host,
            iova,
            len,
        }
    }

    /// Unmap and free a buffer returned by [`alloc`](Self::alloc).
    pub fn free(&self, buf: DmaBuf) {
        let mut regions = self.regions.lock().unwrap();
        if let Some(i) = regions.iter().position(|r| r.iova == buf.iova) {
            let r = regions.swap_remove(i);
            // SAFETY: r.host was allocated with r.layout and is removed from the table,
            // so no later access can reach it.
            unsafe { dealloc(r.host, r.layout) };
        }
    }

    fn with_range<R>(
        &self,
        iova: u64,
        len: usize,
        f: impl FnOnce(*mut u8) -> R,
    ) -> Result<R, DmaFault> {
        let regions = self.regions.lock().unwrap();
        let fault = DmaFault { iova, len };
        let end = iova.checked_add(len as u64).ok_or(fault)?;
        for r in regions.iter() {
            if iova >= r.iova && end <= r.iova + r.len as u64 {
                let off = (iova - r.iova) as usize;
                // SAFETY: off + len <= r.len, so the pointer stays inside the live
                // allocation (struct invariant); the lock is held during f.
                return Ok(f(unsafe { r.host.add(off) }));
            }
        }
        Err(fault)
    }
}

impl GuestMemory for HostMemory {
    fn read(&self, iova: u64, buf: &mut [u8]) -> Result<(), DmaFault> {
        self.with_range(iova, buf.len(), |p| {
            // SAFETY: p is valid for buf.len() bytes (with_range); buf is a distinct
            // Rust allocation, so the ranges do not overlap.
            unsafe { std::ptr::copy_nonoverlapping(p, buf.as_mut_ptr(), buf.len()) }
        })
    }

    fn write(&self, iova: u64, buf: &[u8]) -> Result<(), DmaFault> {
        self.with_range(iova, buf.len(), |p| {
            // SAFETY: as in read.
            unsafe { std::ptr::copy_nonoverlapping(buf.as_ptr(), p, buf.len()) }
        })
    }
}

impl Drop for HostMemory {
    fn drop(&mut self) {
        for r in self.regions.get_mut().unwrap().drain(..) {
            // SAFETY: each region owns its allocation (struct invariant).
            unsafe { dealloc(r.host, r.layout) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_pointer_is_not_a_bus_address() {
        let m = HostMemory::new();
        let b = m.alloc(256, 128);
        assert_eq!(b.iova % 128, 0);
        let mut x = [0u8; 4];
        assert!(m.read(b.vaddr as u64, &mut x).is_err());
        m.write(b.iova + 8, &[1, 2, 3, 4]).unwrap();
        m.read(b.iova + 8, &mut x).unwrap();
        assert_eq!(x, [1, 2, 3, 4]);
        assert!(
            m.read(b.iova + 254, &mut x).is_err(),
            "overrun past the buffer must fault"
        );
    }
}
