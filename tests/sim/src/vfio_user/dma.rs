//! Guest memory as QEMU shares it over vfio-user: each DMA_MAP with a file
//! descriptor is mmap()ed shared, and device accesses by IOVA are translated to the
//! mapping that contains them. This file is part of the emulator's memory model and
//! holds its `unsafe` for the vfio-user side.
//!
//! Maps without an fd (QEMU sends those for ROM, vfio-user.rst "VFIO_USER_DMA_MAP")
//! are recorded so an UNMAP matches, but are not accessible: the device never DMAs
//! to ROM, and an access there is a DMA fault like an unmapped one.

use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::RwLock;

use crate::mem::{DmaFault, GuestMemory};

use super::proto::{EEXIST, EINVAL, ENOENT};

struct Map {
    iova: u64,
    len: u64,
    /// Start of the shared mapping, or null for a map without fd.
    host: *mut u8,
    writable: bool,
}

// SAFETY: a Map describes a MAP_SHARED mapping owned by its VfioMemory; the pointer is
// only dereferenced under the table's read lock, and unmapped under its write lock.
unsafe impl Send for Map {}
// SAFETY: as above.
unsafe impl Sync for Map {}

/// The DMA maps of one vfio-user connection.
///
/// # Invariants
/// Every non-null `host` is the start of a live `mmap(len)` mapping owned by this
/// table; maps never overlap in IOVA space; a mapping is only unmapped after it was
/// removed from the table under the write lock, so no reader can be inside it.
#[derive(Default)]
pub struct VfioMemory {
    maps: RwLock<Vec<Map>>,
}

impl VfioMemory {
    pub fn new() -> Self {
        Self::default()
    }

    /// DMA_MAP: `prot` bit 0 readable, bit 1 writable (vfio-user.rst). Returns an errno.
    pub fn map(
        &self,
        iova: u64,
        len: u64,
        file_offset: u64,
        prot: u32,
        fd: Option<OwnedFd>,
    ) -> Result<(), u32> {
        let end = iova.checked_add(len).ok_or(EINVAL)?;
        if len == 0 || len > isize::MAX as u64 {
            return Err(EINVAL);
        }
        let mut maps = self.maps.write().unwrap_or_else(|e| e.into_inner());
        if maps.iter().any(|m| iova < m.iova + m.len && m.iova < end) {
            return Err(EEXIST);
        }
        let writable = prot & 2 != 0;
        let host = match fd {
            None => std::ptr::null_mut(),
            Some(fd) => {
                let mut p = libc::PROT_NONE;
                if prot & 1 != 0 {
                    p |= libc::PROT_READ;
                }
                if writable {
                    p |= libc::PROT_WRITE;
                }
                // SAFETY: mapping a file QEMU shared with us at an address the kernel
                // chooses; no existing Rust object is affected. The fd may be closed
                // afterwards: the mapping keeps the file alive.
                let r = unsafe {
                    libc::mmap(
                        std::ptr::null_mut(),
                        len as usize,
                        p,
                        libc::MAP_SHARED,
                        fd.as_raw_fd(),
                        file_offset as libc::off_t,
                    )
                };
                if r == libc::MAP_FAILED {
                    return Err(std::io::Error::last_os_error()
                        .raw_os_error()
                        .unwrap_or(EINVAL as i32) as u32);
                }
                r.cast()
            }
        };
        maps.push(Map {
            iova,
            len,
            host,
            writable,
        });
        Ok(())
    }

    /// DMA_UNMAP: the range must match a map exactly (vfio-user.rst); `all` drops every map.
    pub fn unmap(&self, iova: u64, len: u64, all: bool) -> Result<(), u32> {
        let mut maps = self.maps.write().unwrap_or_else(|e| e.into_inner());
        let gone: Vec<Map> = if all {
            std::mem::take(&mut *maps)
        } else {
            let i = maps
                .iter()
                .position(|m| m.iova == iova && m.len == len)
                .ok_or(ENOENT)?;
            vec![maps.swap_remove(i)]
        };
        for m in gone {
            if !m.host.is_null() {
                // SAFETY: m.host/m.len is a live mapping (invariant) just removed from
                // the table while holding the write lock, so no reader can reach it.
                unsafe { libc::munmap(m.host.cast(), m.len as usize) };
            }
        }
        Ok(())
    }

    /// Number of maps (with or without fd).
    pub fn len(&self) -> usize {
        self.maps.read().unwrap_or_else(|e| e.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn with_range<R>(
        &self,
        iova: u64,
        len: usize,
        write: bool,
        f: impl FnOnce(*mut u8) -> R,
    ) -> Result<R, DmaFault> {
        let fault = DmaFault { iova, len };
        let end = iova.checked_add(len as u64).ok_or(fault)?;
        let maps = self.maps.read().unwrap_or_else(|e| e.into_inner());
        let m = maps
            .iter()
            .find(|m| iova >= m.iova && end <= m.iova + m.len)
            .ok_or(fault)?;
        if m.host.is_null() || (write && !m.writable) {
            return Err(fault);
        }
        // SAFETY: iova - m.iova + len <= m.len, so the pointer and the len bytes after
        // it lie inside the live mapping; the read lock is held while f runs.
        Ok(f(unsafe { m.host.add((iova - m.iova) as usize) }))
    }
}

impl GuestMemory for VfioMemory {
    fn read(&self, iova: u64, buf: &mut [u8]) -> Result<(), DmaFault> {
        self.with_range(iova, buf.len(), false, |p| {
            // SAFETY: p is valid for buf.len() bytes (with_range). The guest may write
            // the same bytes concurrently, exactly as it may race a real device's DMA;
            // the copy then sees old or new bytes, never invalid Rust values (u8).
            unsafe { std::ptr::copy_nonoverlapping(p, buf.as_mut_ptr(), buf.len()) }
        })
    }

    fn write(&self, iova: u64, buf: &[u8]) -> Result<(), DmaFault> {
        self.with_range(iova, buf.len(), true, |p| {
            // SAFETY: as in read; buf is our own memory, not inside the mapping.
            unsafe { std::ptr::copy_nonoverlapping(buf.as_ptr(), p, buf.len()) }
        })
    }
}

impl Drop for VfioMemory {
    fn drop(&mut self) {
        let _ = self.unmap(0, 0, true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Seek, SeekFrom, Write};
    use std::os::fd::FromRawFd;

    fn memfd(len: usize) -> std::fs::File {
        // SAFETY: memfd_create with a static NUL-terminated name.
        let fd = unsafe { libc::memfd_create(c"ravf-test".as_ptr(), 0) };
        assert!(fd >= 0);
        // SAFETY: fd was just created and is owned by nobody else.
        let f = unsafe { std::fs::File::from_raw_fd(fd) };
        f.set_len(len as u64).unwrap();
        f
    }

    #[test]
    fn iova_translation_through_shared_fd() {
        let mut f = memfd(0x3000);
        let m = VfioMemory::new();
        // Map file bytes [0x1000, 0x3000) at IOVA 0x10_0000.
        let fd: OwnedFd = f.try_clone().unwrap().into();
        m.map(0x10_0000, 0x2000, 0x1000, 3, Some(fd)).unwrap();
        m.write(0x10_0010, &[0xde, 0xad]).unwrap();
        let mut back = [0u8; 2];
        f.seek(SeekFrom::Start(0x1010)).unwrap();
        f.read_exact(&mut back).unwrap();
        assert_eq!(
            back,
            [0xde, 0xad],
            "device write must land in the client's file"
        );
        f.seek(SeekFrom::Start(0x2ffe)).unwrap();
        f.write_all(&[7, 8]).unwrap();
        m.read(0x10_1ffe, &mut back).unwrap();
        assert_eq!(back, [7, 8]);
        // Beyond the map, straddling its end, and below it: faults.
        assert!(m.read(0x10_2000, &mut back).is_err());
        assert!(m.read(0x10_1fff, &mut back).is_err());
        assert!(m.read(0x0f_fffe, &mut back).is_err());
        // Overlap refused, exact unmap required.
        assert_eq!(m.map(0x10_1000, 0x1000, 0, 3, None), Err(EEXIST));
        assert_eq!(m.unmap(0x10_0000, 0x1000, false), Err(ENOENT));
        m.unmap(0x10_0000, 0x2000, false).unwrap();
        assert!(m.read(0x10_0010, &mut back).is_err());
    }

    #[test]
    fn map_without_fd_is_not_accessible() {
        let m = VfioMemory::new();
        m.map(0xfffc_0000, 0x4_0000, 0, 1, None).unwrap();
        assert!(m.read(0xfffc_0000, &mut [0u8; 4]).is_err());
        assert_eq!(m.len(), 1);
        m.unmap(0, 0, true).unwrap();
        assert!(m.is_empty());
    }

    #[test]
    fn read_only_map_refuses_device_writes() {
        let f = memfd(0x1000);
        let m = VfioMemory::new();
        m.map(0x2000, 0x1000, 0, 1, Some(f.into())).unwrap();
        assert!(m.write(0x2000, &[1]).is_err());
        m.read(0x2000, &mut [0u8; 1]).unwrap();
    }
}
