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
//!
//! Cost (make bench): every DMA access of the data path comes through here, about ten
//! per forwarded packet, so the lookup is kept cheap: no lock (the mappings change only
//! when the harness allocates or frees a ring or buffer pool, never on the data path,
//! so readers use an immutable snapshot that alloc/free replace), a few recently hit
//! regions tried first, then a binary search of the regions sorted by IOVA.

use std::alloc::{alloc_zeroed, dealloc, Layout};
use std::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

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

/// One mapping: a description only. The allocation it points to is owned by
/// [`HostMemory`] (its `allocs` list), not by the region.
#[derive(Clone, Copy)]
struct Region {
    host: *mut u8,
    iova: u64,
    len: usize,
}

impl Region {
    /// Whether `[iova, end)` lies inside this region.
    #[inline]
    fn holds(&self, iova: u64, end: u64) -> bool {
        iova >= self.iova && end <= self.iova + self.len as u64
    }
}

/// One published mapping table, sorted by IOVA. Never changed once published.
struct Table {
    regions: Vec<Region>,
}

/// What only `alloc`/`free` touch, under `HostMemory::update`.
struct Update {
    next_iova: u64,
    /// Every table ever published, the current one last. Old ones are kept until
    /// drop: an access may still be using one it loaded before a newer one replaced
    /// it. (Tables change only when the harness allocates or frees, tens of times
    /// per machine, so keeping them costs little.)
    // Boxed on purpose: `table` points into these, so each needs an address that
    // stays put when the Vec grows.
    #[allow(clippy::vec_box)]
    tables: Vec<Box<Table>>,
    /// Every allocation ever made, freed ones included: `free` only unmaps. The
    /// memory goes back in `Drop`, when no access can be running (it needs `&mut`).
    allocs: Vec<(*mut u8, Layout)>,
}

/// In-process guest memory: zeroed host allocations mapped at synthetic IOVAs.
///
/// Lookups take no lock: `table` points to an immutable, IOVA-sorted snapshot of the
/// mappings that `alloc`/`free` replace (never edit) under the `update` mutex.
///
/// # Invariants
/// - `table` always points to a `Table` owned by `update.tables` (hence alive until
///   `Drop`); its regions describe allocations in `update.allocs`, `len` bytes at
///   `[iova, iova + len)`, never overlapping, sorted by `iova` (IOVAs are handed out
///   in increasing order and never reused).
/// - No allocation is deallocated before `Drop`. A region removed by `free` is gone
///   from every table published afterwards, so later accesses fault; an access that
///   loaded the older table just before keeps copying to/from still-allocated memory
///   (as a device's DMA in flight when the IOMMU mapping goes away).
/// - `hints` are only guesses at indexes into the current table; each is
///   bounds-checked and range-checked before use, so a stale value (e.g. from an older
///   table) costs a search, never a wrong access.
pub struct HostMemory {
    table: AtomicPtr<Table>,
    update: Mutex<Update>,
    /// Recently hit regions. A forwarded packet touches about four regions in turn
    /// (TX arena, RX ring, RX buffers, TX ring), so one last-hit index would miss on
    /// most accesses.
    hints: [AtomicUsize; HINTS],
    /// The slot the next search result replaces (round robin).
    hint_next: AtomicUsize,
}

// SAFETY: the raw pointers in HostMemory (the table pointer, regions' and allocs'
// host pointers) refer to memory HostMemory owns and frees only in Drop; tables are
// immutable once published and replaced under the `update` mutex with Release/Acquire
// ordering, and the bytes behind the host pointers are only copied, never referenced
// across calls. Sharing it between threads is therefore as safe as sharing the
// buffers themselves, which is the harness's (single-threaded) business.
unsafe impl Send for HostMemory {}
// SAFETY: as above.
unsafe impl Sync for HostMemory {}

const HINTS: usize = 4;

/// IOVAs start here: far from any user-space host address on x86-64 Linux, so a
/// host pointer used as a bus address never hits a mapping.
const IOVA_BASE: u64 = 0x7e00_0000_0000_0000;

impl HostMemory {
    pub fn new() -> Arc<Self> {
        let mut first = Box::new(Table {
            regions: Vec::new(),
        });
        let ptr: *mut Table = &mut *first;
        Arc::new(HostMemory {
            table: AtomicPtr::new(ptr),
            update: Mutex::new(Update {
                next_iova: IOVA_BASE,
                tables: vec![first],
                allocs: Vec::new(),
            }),
            hints: Default::default(),
            hint_next: AtomicUsize::new(0),
        })
    }

    /// Publish `regions` as the new table (caller holds the `update` lock).
    fn publish(&self, u: &mut Update, regions: Vec<Region>) {
        let mut t = Box::new(Table { regions });
        let ptr: *mut Table = &mut *t;
        // Keep it alive before anyone can load it (invariant: owned by u.tables).
        u.tables.push(t);
        self.table.store(ptr, Ordering::Release);
    }

    /// The current table.
    #[inline]
    fn current(&self) -> &Table {
        // SAFETY: `table` always points to a Table in `update.tables`, boxed (stable
        // address), never mutated after the Release store that published it (paired
        // with this Acquire load) and dropped only in Drop, which needs &mut self, so
        // not while this &self borrow lives.
        unsafe { &*self.table.load(Ordering::Acquire) }
    }

    /// Allocate `len` zeroed bytes aligned to `align` (a power of two) both on the
    /// host and in IOVA space. Panics on allocation failure (test harness only).
    pub fn alloc(&self, len: usize, align: usize) -> DmaBuf {
        let align = align.max(64).next_power_of_two();
        let layout = Layout::from_size_align(len.max(1), align).expect("dma layout");
        // SAFETY: layout has non-zero size.
        let host = unsafe { alloc_zeroed(layout) };
        assert!(!host.is_null(), "HostMemory: out of memory");
        let mut u = self.update.lock().unwrap_or_else(PoisonError::into_inner);
        u.allocs.push((host, layout));
        let iova = (u.next_iova + align as u64 - 1) & !(align as u64 - 1);
        // Leave an unmapped guard page between buffers so overruns fault.
        u.next_iova = iova + len as u64 + 4096;
        // Appending keeps the table sorted: IOVAs only grow (under this lock).
        let mut regions = self.current().regions.clone();
        regions.push(Region { host, iova, len });
        self.publish(&mut u, regions);
        DmaBuf {
            vaddr: host,
            iova,
            len,
        }
    }

    /// Unmap a buffer returned by [`alloc`](Self::alloc): every later device access to
    /// it faults. The host memory itself is released when the `HostMemory` is dropped
    /// (see the type's invariants: lookups take no lock, so nothing else tells when
    /// the last access that found the old mapping has finished).
    pub fn free(&self, buf: DmaBuf) {
        let mut u = self.update.lock().unwrap_or_else(PoisonError::into_inner);
        let cur = &self.current().regions;
        if let Ok(i) = cur.binary_search_by_key(&buf.iova, |r| r.iova) {
            let mut regions = cur.clone();
            // `remove`, not `swap_remove`: the table stays sorted.
            regions.remove(i);
            self.publish(&mut u, regions);
        }
    }

    /// Append the `len` bytes at `iova` to `out`, as [`GuestMemory::read`] would read
    /// them, without zero-filling `out` first (the harness's RX path assembles frames
    /// this way). On a fault `out` is left as it was.
    pub fn read_append(&self, iova: u64, len: usize, out: &mut Vec<u8>) -> Result<(), DmaFault> {
        out.reserve(len);
        self.with_range(iova, len, |p| {
            let at = out.len();
            // SAFETY: p is valid for len bytes (with_range); reserve made room for len
            // more bytes after `at` in out's own allocation, which cannot overlap guest
            // memory; set_len only covers bytes just initialised by the copy.
            unsafe {
                std::ptr::copy_nonoverlapping(p, out.as_mut_ptr().add(at), len);
                out.set_len(at + len);
            }
        })
    }

    /// Run `f` on the host address of `[iova, iova + len)`, or fault if the range is
    /// not inside one mapping.
    #[inline]
    fn with_range<R>(
        &self,
        iova: u64,
        len: usize,
        f: impl FnOnce(*mut u8) -> R,
    ) -> Result<R, DmaFault> {
        let fault = DmaFault { iova, len };
        let end = iova.checked_add(len as u64).ok_or(fault)?;
        let regions = &self.current().regions;
        let hit = self.hints.iter().find_map(|h| {
            regions
                .get(h.load(Ordering::Relaxed))
                .filter(|r| r.holds(iova, end))
        });
        let r = match hit {
            Some(r) => r,
            None => {
                // Last region starting at or below iova (the table is sorted).
                let i = regions.partition_point(|r| r.iova <= iova).checked_sub(1);
                match i.and_then(|i| regions.get(i).map(|r| (i, r))) {
                    Some((i, r)) if r.holds(iova, end) => {
                        let slot = self.hint_next.load(Ordering::Relaxed) % HINTS;
                        self.hints[slot].store(i, Ordering::Relaxed);
                        self.hint_next.store(slot + 1, Ordering::Relaxed);
                        r
                    }
                    _ => return Err(fault),
                }
            }
        };
        let off = (iova - r.iova) as usize;
        // SAFETY: off + len <= r.len (holds), so the pointer stays inside the
        // allocation the region describes, which stays allocated until Drop (struct
        // invariants), and Drop cannot run during this &self call.
        Ok(f(unsafe { r.host.add(off) }))
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
        let u = self
            .update
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner);
        for &(host, layout) in &u.allocs {
            // SAFETY: each entry was allocated with its layout by alloc() and is
            // deallocated only here, once; &mut self means no access is running.
            unsafe { dealloc(host, layout) };
        }
        u.allocs.clear();
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

    /// The lookup (last-hit index, then binary search) finds every region, faults in
    /// the guard gaps, before the first and after the last region, on ranges that
    /// straddle two regions, and after a free (also when the freed region was the
    /// last hit).
    #[test]
    fn lookup_faults_outside_every_mapping() {
        let m = HostMemory::new();
        let bufs: Vec<DmaBuf> = (0..9).map(|i| m.alloc(100 + i * 64, 64)).collect();
        for (i, b) in bufs.iter().enumerate() {
            m.write(b.iova, &[i as u8; 4]).unwrap();
            m.write(b.iova + b.len as u64 - 1, &[i as u8]).unwrap();
            assert!(
                m.write(b.iova + b.len as u64, &[0]).is_err(),
                "gap after {i}"
            );
            assert!(m.write(b.iova - 1, &[0]).is_err(), "gap before {i}");
        }
        // Read back in reverse order (more regions than hint slots: searches too).
        for (i, b) in bufs.iter().enumerate().rev() {
            let mut x = [0u8; 4];
            m.read(b.iova, &mut x).unwrap();
            assert_eq!(x, [i as u8; 4]);
            // SAFETY: vaddr is the live host side of the same buffer.
            assert_eq!(unsafe { *b.vaddr.add(b.len - 1) }, i as u8);
        }
        let mut x = [0u8; 8];
        assert!(
            m.read(IOVA_BASE - 8, &mut x).is_err(),
            "below every mapping"
        );
        let last = bufs[8];
        assert!(m.read(last.iova + (1 << 20), &mut x).is_err(), "above");
        assert!(m.read(u64::MAX - 3, &mut x).is_err(), "wrapping range");
        // Spanning the end of one buffer into the gap (and beyond into the next).
        let b3 = bufs[3];
        let mut big = vec![0u8; (bufs[4].iova - b3.iova + 8) as usize];
        assert!(m.read(b3.iova, &mut big).is_err(), "spans two mappings");
        // Free the region just hit; accesses there now fault, the others still work.
        m.read(b3.iova, &mut x).unwrap();
        m.free(b3);
        assert!(m.read(b3.iova, &mut x).is_err(), "freed region must fault");
        for (i, b) in bufs.iter().enumerate().filter(|&(i, _)| i != 3) {
            let mut y = [0u8; 4];
            m.read(b.iova, &mut y).unwrap();
            assert_eq!(y, [i as u8; 4]);
        }
        // New allocations come after every existing one and are found too.
        let n = m.alloc(64, 64);
        assert!(n.iova > last.iova);
        m.write(n.iova, &[7]).unwrap();
        assert_eq!(m.read(n.iova, &mut x[..1]), Ok(()));
        assert_eq!(x[0], 7);
    }

    /// Lookups run without a lock while another thread maps and unmaps: accesses to a
    /// region that stays mapped never fault and see their own writes; an unmapped one
    /// faults once `free` returned.
    #[test]
    fn lookups_race_alloc_and_free() {
        let m = HostMemory::new();
        let keep = m.alloc(4096, 64);
        let churn = {
            let m = Arc::clone(&m);
            std::thread::spawn(move || {
                for i in 0..200 {
                    let b = m.alloc(256 + i, 64);
                    m.write(b.iova, &[1; 8]).unwrap();
                    m.free(b);
                    let mut x = [0u8; 8];
                    assert!(m.read(b.iova, &mut x).is_err(), "unmapped: must fault");
                }
            })
        };
        for i in 0..20_000u64 {
            let v = i.to_le_bytes();
            let at = keep.iova + (i % 500) * 8;
            m.write(at, &v).unwrap();
            let mut x = [0u8; 8];
            m.read(at, &mut x).unwrap();
            assert_eq!(x, v);
        }
        churn.join().unwrap();
    }

    #[test]
    fn read_append_appends_or_leaves_out_alone() {
        let m = HostMemory::new();
        let b = m.alloc(64, 64);
        m.write(b.iova, &[9, 8, 7, 6]).unwrap();
        let mut out = vec![1, 2];
        m.read_append(b.iova + 1, 3, &mut out).unwrap();
        assert_eq!(out, [1, 2, 8, 7, 6]);
        assert!(
            m.read_append(b.iova + 60, 8, &mut out).is_err(),
            "overrun faults"
        );
        assert!(m.read_append(b.vaddr as u64, 1, &mut out).is_err());
        assert_eq!(out, [1, 2, 8, 7, 6], "unchanged after a fault");
    }
}
