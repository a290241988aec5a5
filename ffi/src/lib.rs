//! ravf-ffi: the iflib entry points. Built `no_std` for the kernel (target_os = "none"),
//! and with std on the host so the stand-in for iflib can link it into tests.
//!
//! This crate is the only place where the raw pointers iflib passes become Rust
//! references (`state.rs`: softc/ctx → `RavfState`; `txrx.rs`: `if_pkt_info`,
//! `if_rxd_info`, `if_rxd_update` and the arrays they point to). Every `unsafe` block
//! names its invariant in a `// SAFETY:` comment.
//!
//! * [`kpi`]: every C function called (the seam the C shim and the harness implement).
//! * [`ifdi`]: the `ravf_if_*` ifdi methods.
//! * [`txrx`]: the seven `if_txrx` callbacks and the `ravf_txrx` table.
//! * [`intr`]: the MSI-X filters and the admin task.
//! * [`osdep`]: `ravf::os` (Bar0, DmaRegion, Os) over the KPI.
//! * [`lock`]: the control lock and the lock order.
//! * [`sysctl`]: the sysctl tree and loader tunables (written by the kmod helper).
#![cfg_attr(target_os = "none", no_std)]

extern crate alloc;

pub mod fmtbuf;
pub mod ifdi;
pub mod intr;
#[cfg(target_os = "none")]
mod kernel;
pub mod kpi;
pub mod lock;
pub mod osdep;
pub mod scctx;
pub mod state;
pub mod sysctl;
pub mod txrx;

#[cfg(test)]
mod layout_tests;
#[cfg(test)]
mod testkpi;
#[cfg(test)]
mod tests;
