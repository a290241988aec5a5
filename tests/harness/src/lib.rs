//! ravf-harness: a user-space stand-in for FreeBSD's iflib.
//!
//! It drives ravf-ffi's exported C functions (the `ravf_if_*` ifdi methods, the
//! `if_txrx` callbacks, the interrupt filters and the admin task) in the order and
//! with the arguments iflib uses, against the emulated VFs of ravf-sim, and provides
//! every kernel function ravf-ffi imports (`kpi`) over the emulator. It is also a
//! checker: every index and length the driver hands back is validated.

// The driver: linked for its #[no_mangle] exports (ravf_if_*, the if_txrx callbacks).
extern crate ravf_ffi;

pub mod ctx;
pub mod device;
pub mod emu;
pub mod host;
pub mod ifdi;
pub mod kpi;
pub mod machine;
pub mod parse;
pub mod pkt;
pub mod queues;
pub mod sched;

pub use machine::{Doorbell, Machine, Media, Options, RxFrame, Sctx, SegLayout, TxError};
pub use parse::Offload;
