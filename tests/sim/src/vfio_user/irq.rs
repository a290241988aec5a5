//! MSI-X interrupt lines: one eventfd per vector, installed by the client with
//! DEVICE_SET_IRQS (index VFIO_PCI_MSIX_IRQ_INDEX). Signalling a vector writes 1 to
//! its eventfd; QEMU turns that into the MSI message programmed in the (QEMU-
//! emulated) MSI-X table, honouring the vector's mask bit itself.

use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::Mutex;

/// The eventfds of one VF.
pub struct IrqLines {
    msix: Mutex<Vec<Option<OwnedFd>>>,
    /// ERR and REQ eventfds: accepted (QEMU offers them) and kept, never signalled.
    other: Mutex<Vec<OwnedFd>>,
    nvec: u32,
}

impl IrqLines {
    /// `nvec` MSI-X vectors (the PF-granted count the config space advertises).
    pub fn new(nvec: u32) -> Self {
        IrqLines {
            msix: Mutex::new((0..nvec).map(|_| None).collect()),
            other: Mutex::new(Vec::new()),
            nvec,
        }
    }

    pub fn count(&self) -> u32 {
        self.nvec
    }

    /// Install (Some) or remove (None) the eventfd of `vector`. False if out of range.
    pub fn set(&self, vector: u32, fd: Option<OwnedFd>) -> bool {
        let mut v = self.msix.lock().unwrap_or_else(|e| e.into_inner());
        match v.get_mut(vector as usize) {
            Some(slot) => {
                *slot = fd;
                true
            }
            None => false,
        }
    }

    /// Remove every MSI-X eventfd (MSI-X disabled, or device reset).
    pub fn clear(&self) {
        let mut v = self.msix.lock().unwrap_or_else(|e| e.into_inner());
        v.iter_mut().for_each(|s| *s = None);
    }

    pub fn keep_other(&self, fd: OwnedFd) {
        self.other
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(fd);
    }

    /// Number of vectors with an eventfd installed.
    pub fn installed(&self) -> u32 {
        self.msix
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter(|s| s.is_some())
            .count() as u32
    }

    /// Signal every vector whose bit is set in `mask`. Returns the bits that had no
    /// eventfd (the interrupt is lost, as with MSI-X disabled).
    pub fn signal(&self, mask: u32) -> u32 {
        let v = self.msix.lock().unwrap_or_else(|e| e.into_inner());
        let mut lost = 0;
        for bit in 0..32u32 {
            if mask & (1 << bit) == 0 {
                continue;
            }
            match v.get(bit as usize) {
                Some(Some(fd)) => {
                    let one = 1u64.to_ne_bytes();
                    // SAFETY: fd is an open eventfd we own; write(2) reads 8 bytes from
                    // a live local. EAGAIN (counter saturated) loses nothing: the
                    // interrupt is already pending.
                    unsafe { libc::write(fd.as_raw_fd(), one.as_ptr().cast(), 8) };
                }
                _ => lost |= 1 << bit,
            }
        }
        lost
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::FromRawFd;

    #[test]
    fn signal_reaches_the_eventfd() {
        // SAFETY: eventfd(2) returns a new fd that we take ownership of.
        let raw = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK) };
        assert!(raw >= 0);
        // SAFETY: raw is a fresh fd owned by nobody else.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        // SAFETY: dup of a valid fd.
        let reader = unsafe { OwnedFd::from_raw_fd(libc::dup(raw)) };
        let l = IrqLines::new(5);
        assert!(l.set(2, Some(fd)));
        assert!(!l.set(5, None));
        assert_eq!(l.signal(0b100 | 0b1), 0b1, "vector 0 has no eventfd");
        let mut b = [0u8; 8];
        // SAFETY: reading 8 bytes into a live local from a valid eventfd.
        let n = unsafe { libc::read(reader.as_raw_fd(), b.as_mut_ptr().cast(), 8) };
        assert_eq!(n, 8);
        assert_eq!(u64::from_ne_bytes(b), 1);
        l.clear();
        assert_eq!(l.installed(), 0);
    }
}
