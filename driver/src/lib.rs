//! ravf: the core of a driver for Intel Ethernet 700-series Virtual Functions.
//!
//! `no_std`, no `unsafe`, no floating point, no allocation on the data path (the
//! control plane allocates its tables once, at attach, through `alloc`; in the kernel
//! that is malloc(9) via ravf-ffi's global allocator). All hardware access goes
//! through the traits in [`os`].
//!
//! * [`regs`]: the VF BAR0 register map.
//! * [`virtchnl`]: the VF ↔ PF message protocol (wire structs, builders, parsers).
//! * [`aq`]: the admin queue (mailbox) rings.
//! * [`vf`]: the control plane ([`Vf`]): attach, the non-blocking mailbox engine,
//!   init/stop, filters, link, statistics, reset recovery.
//! * [`irq`]: admin-vector and ITR helpers usable from interrupt filters.
//! * [`filters`]: fixed-capacity MAC list and VLAN set.
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod aq;
pub mod filters;
pub mod irq;
pub mod os;
pub mod regs;
pub mod txrx;
pub mod vf;
pub mod virtchnl;

#[cfg(test)]
pub(crate) mod testing;

pub use vf::{
    wait, AdminReport, AttachConfig, CtlCounters, Error, HeapVf, Link, Poll, PromiscState,
    QueueSetup, Resources, RxRingSetup, Ticket, TxRingSetup, Vf, VfState,
};
pub use virtchnl::{EthStats, VcOp, VfCaps};
