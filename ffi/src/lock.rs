//! The control-plane lock: a sleepable exclusive lock (sx(9) in the kernel, via
//! `ravf_kpi_mtx_*`) around the driver core's `Vf`.
//!
//! # Lock order
//! 1. iflib's CTX lock (sx; held by iflib around every ifdi method except the
//!    if_txrx callbacks and the interrupt filters);
//! 2. the ravf control lock ([`CtlLock`]);
//! 3. locks iflib takes inside the functions ravf calls (STATE_LOCK in
//!    `iflib_link_state_change`, ...).
//!
//! The ravf admin task (its own taskqueue) takes only 2, never 1, so `ifdi_init` can
//! hold 1, release 2 and sleep while the admin task drives the mailbox. Nothing takes
//! 1 while holding 2. Interrupt filters and the if_txrx callbacks take neither.
//! The holder of 2 may sleep (`pause`), which is why it is an sx and not a mutex.

use core::cell::UnsafeCell;
use core::ffi::c_void;
use core::ops::{Deref, DerefMut};

use crate::kpi;

/// Data guarded by the control lock.
pub struct CtlLock<T> {
    m: *mut c_void,
    data: UnsafeCell<T>,
}

impl<T> CtlLock<T> {
    /// Create the lock (`ravf_kpi_mtx_init`). `name` must be NUL-terminated.
    /// Returns `None` if the C side could not allocate it.
    pub fn new(name: &'static [u8], data: T) -> Option<Self> {
        if name.last() != Some(&0) {
            return None;
        }
        // SAFETY: `name` is a static NUL-terminated string; attach context.
        let m = unsafe { kpi::ravf_kpi_mtx_init(name.as_ptr().cast()) };
        if m.is_null() {
            return None;
        }
        Some(Self {
            m,
            data: UnsafeCell::new(data),
        })
    }

    /// Take the lock; sleepable contexts only.
    pub fn lock(&self) -> CtlGuard<'_, T> {
        // SAFETY: `m` is a live lock handle from ravf_kpi_mtx_init (destroyed only in
        // Drop, which needs `&mut self`, so not while this borrow lives).
        unsafe { kpi::ravf_kpi_mtx_lock(self.m) };
        CtlGuard { lock: self }
    }

    /// Access without locking, for the owner holding `&mut` (attach/detach, before
    /// the state is shared).
    pub fn get_mut(&mut self) -> &mut T {
        self.data.get_mut()
    }
}

impl<T> Drop for CtlLock<T> {
    fn drop(&mut self) {
        // SAFETY: `m` came from ravf_kpi_mtx_init and is destroyed once; `&mut self`
        // proves no guard is alive.
        unsafe { kpi::ravf_kpi_mtx_destroy(self.m) };
    }
}

/// Proof that the control lock is held; unlocks on drop.
pub struct CtlGuard<'a, T> {
    lock: &'a CtlLock<T>,
}

impl<T> Deref for CtlGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the lock is held for the guard's life, so no other reference to the
        // data exists (all access goes through a guard or `get_mut`).
        unsafe { &*self.lock.data.get() }
    }
}

impl<T> DerefMut for CtlGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in deref, and `&mut self` makes this the only live reference.
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<T> Drop for CtlGuard<'_, T> {
    fn drop(&mut self) {
        // SAFETY: this guard holds the lock (taken in CtlLock::lock).
        unsafe { kpi::ravf_kpi_mtx_unlock(self.lock.m) };
    }
}
