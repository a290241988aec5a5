//! The driver softc that iflib allocates.
//!
//! iflib allocates `driver_t.size` bytes of zeroed softc per device before
//! `ifdi_attach_pre` and frees it after `ifdi_detach`. ravf keeps that C-visible part
//! to one pointer; everything else lives in a Rust allocation the pointer owns.
//!
//! The C shim (`kmod/`) declares the same struct and checks it:
//!
//! ```text
//! struct ravf_softc { void *rs; };
//! _Static_assert(sizeof(struct ravf_softc) == 8, "RavfSoftc");
//! ```
//!
//! and passes `sizeof(struct ravf_softc)` as the `driver_t` size.

use core::ffi::c_void;
use core::mem::{align_of, offset_of, size_of};

use static_assertions::const_assert_eq;

/// `struct ravf_softc`: the softc iflib allocates (zeroed) for each device.
#[repr(C)]
#[derive(Debug)]
pub struct RavfSoftc {
    /// The Rust per-device state (ravf-ffi's `RavfState`), owned by the softc from
    /// `ifdi_attach_pre` until `ifdi_detach`; NULL outside that window.
    pub rs: *mut c_void,
}

/// `sizeof(struct ravf_softc)` for the C `driver_t`.
pub const RAVF_SOFTC_SIZE: usize = 8;

const_assert_eq!(size_of::<RavfSoftc>(), RAVF_SOFTC_SIZE);
const_assert_eq!(align_of::<RavfSoftc>(), 8);
const_assert_eq!(offset_of!(RavfSoftc, rs), 0);
