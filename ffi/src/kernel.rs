//! Kernel-only runtime pieces (target_os = "none"): the global allocator over
//! malloc(9) and the panic handler over panic(9).
//!
//! # Allocation contexts
//! Every allocation is `M_NOWAIT`, so `GlobalAlloc` never sleeps and may be called
//! from any context, and a failure is reported as a null pointer (Rust then calls
//! `handle_alloc_error`, which panics the kernel, so callers that can fail use
//! `Box::try_new`-style paths where offered). In practice ravf allocates only in
//! `ifdi_attach_pre` (the per-device state, sleepable) and frees in `ifdi_detach`; the
//! data path, interrupt filters and the admin task do not allocate.

use core::alloc::{GlobalAlloc, Layout};
use core::ffi::{c_char, c_void};
use core::fmt::Write as _;
use core::panic::PanicInfo;

use ravf_sys::{M_NOWAIT, M_ZERO};

use crate::fmtbuf::FmtBuf;
use crate::kpi;

/// Alignment malloc(9) guarantees on amd64: its kmem zones have sizes that are
/// multiples of 16 carved from page-aligned slabs, and large allocations are page
/// aligned. Larger alignments are honoured by over-allocating.
const MALLOC_ALIGN: usize = 16;

/// `malloc(9)` with the driver's malloc type (`M_RAVF`, defined in the C shim).
pub struct KernelAlloc;

impl KernelAlloc {
    /// # Safety
    /// Same as `GlobalAlloc::alloc`.
    unsafe fn alloc_flags(layout: Layout, flags: core::ffi::c_int) -> *mut u8 {
        let size = layout.size().max(1);
        if layout.align() <= MALLOC_ALIGN {
            // SAFETY: plain malloc(9) call with M_NOWAIT; any context.
            return unsafe { kpi::ravf_kpi_malloc(size, flags) }.cast();
        }
        // Over-allocate by `align` bytes, round up, and keep the pointer malloc(9)
        // returned in the 8 bytes just below the aligned block. The raw pointer is at
        // least 16-aligned and align > 16 is a power of two, so the aligned pointer
        // is at least 16 bytes above it: room for the stash.
        let Some(total) = size.checked_add(layout.align()) else {
            return core::ptr::null_mut();
        };
        // SAFETY: as above.
        let raw = unsafe { kpi::ravf_kpi_malloc(total, flags) }.cast::<u8>();
        if raw.is_null() {
            return raw;
        }
        let addr = raw as usize;
        let aligned = (addr + 1).next_multiple_of(layout.align());
        let shift = aligned - addr;
        // SAFETY: shift <= align, so aligned + size <= raw + total: inside the block;
        // shift >= 16 so the stash at aligned - 8 is inside it too and 8-aligned.
        unsafe {
            let p = raw.add(shift);
            p.sub(8).cast::<*mut u8>().write(raw);
            p
        }
    }
}

// SAFETY: alloc returns blocks of at least `layout.size()` bytes aligned to
// `layout.align()` (malloc(9)'s 16, or over-allocation), or null; dealloc frees exactly
// what alloc returned for the same layout.
unsafe impl GlobalAlloc for KernelAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded contract.
        unsafe { Self::alloc_flags(layout, M_NOWAIT) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded contract; M_ZERO zeroes the whole block.
        unsafe { Self::alloc_flags(layout, M_NOWAIT | M_ZERO) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let raw = if layout.align() <= MALLOC_ALIGN {
            ptr
        } else {
            // SAFETY: `ptr` came from alloc_flags with this layout, which stashed the
            // original malloc(9) pointer 8 bytes below it.
            unsafe { ptr.sub(8).cast::<*mut u8>().read() }
        };
        // SAFETY: `raw` is a live malloc(9) block of type M_RAVF, freed once.
        unsafe { kpi::ravf_kpi_free(raw.cast::<c_void>()) }
    }
}

#[global_allocator]
static ALLOC: KernelAlloc = KernelAlloc;

/// Format "ravf: panicked at file:line:col: message" into a stack buffer and call
/// panic(9). No allocation, no unwinding.
#[panic_handler]
fn panic(info: &PanicInfo<'_>) -> ! {
    let mut buf = FmtBuf::<384>::new();
    let _ = write!(buf, "ravf: {info}");
    let b = buf.as_bytes();
    // SAFETY: `b` is valid for b.len() bytes; ravf_kpi_panic does not return.
    unsafe { kpi::ravf_kpi_panic(b.as_ptr().cast::<c_char>(), b.len()) }
}
