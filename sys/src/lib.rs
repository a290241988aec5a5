//! ravf-sys: hand-written mirrors of the FreeBSD kernel interfaces ravf uses.
//!
//! * [`iflib`]: `#[repr(C)]` copies of the `sys/net/iflib.h` structs that cross the
//!   driver/iflib boundary, each with compile-time size and offset checks.
//! * [`consts`]: flag and enum values from `sys/sys/mbuf.h`, `sys/net/if.h`,
//!   `sys/net/if_media.h`, `sys/sys/bus.h`, `sys/sys/malloc.h` and `sys/net/iflib.h`.
//! * [`softc`]: the layout of the driver softc that iflib allocates (shared with the
//!   C shim in `kmod/`, which `_Static_assert`s the same numbers).
//!
//! The function imports (the "KPI seam") live in `ravf-ffi`'s `kpi.rs`, the single
//! list that the C shim and the test harness implement.
//!
//! # Versions
//! Checked against `sys/net/iflib.h` of releng/14.3 (as imported into
//! RTEMS/rtems-libbsd branch 7-freebsd-14, FreeBSD commit 5982521fe3dd) and of
//! freebsd-src main (the copy without `$FreeBSD$` that has `isc_dma_width`,
//! `ift_txq_select_v2` and `iflib_irq_alloc_generic_subctx`). For every struct here the
//! two layouts are identical; the `freebsd15` feature exists so a later divergence has a
//! place to go, and currently changes nothing. Older layouts (13.x: `iru_vaddrs`,
//! 64-byte `if_txrx`, no `isc_dma_width`) are not supported.
//!
//! Only amd64 (LP64) is supported: pointers and `long` are 8 bytes, `int` is 4.
#![no_std]
#![allow(non_camel_case_types)]

pub mod consts;
pub mod iflib;
pub mod softc;

pub use consts::*;
pub use iflib::*;
pub use softc::*;

#[cfg(not(target_pointer_width = "64"))]
compile_error!("ravf-sys mirrors the amd64 (LP64) layouts only");
