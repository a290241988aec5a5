//! ravf-harness: a user-space stand-in for FreeBSD's iflib.
//!
//! It drives ravf-ffi's exported C functions (the `ravf_if_*` ifdi methods, the
//! `if_txrx` callbacks reached through `scctx->isc_txrx`, the interrupt filters and
//! the admin task) in the order and with the arguments iflib uses, against the
//! emulated VFs of ravf-sim, and provides every kernel function ravf-ffi imports
//! (`ffi/src/kpi.rs`) over the emulator. It is also a checker: every index, length
//! and pointer the driver hands back is validated, and misuse (sleeping in a filter,
//! a foreign pointer, MMIO outside BAR0, a lock taken twice) is recorded.
//!
//! * [`machine`]: iflib proper (`iflib_device_register`, `iflib_init_locked`,
//!   `iflib_stop`, `iflib_encap`/`iflib_txq_drain`, `iflib_completed_tx_reclaim`,
//!   `iflib_rxeof`/`iflib_fl_refill`, `iflib_fast_intr_rxtx`, `_task_fn_admin`,
//!   `iflib_timer`, the ioctl paths) and the [`Machine`] API.
//! * [`kpi`]: the KPI seam's kernel side; [`sched`]: interrupts and deferred work;
//!   [`ctx`]: what `if_ctx_t`/`device_t`/`if_t` point to.
//! * [`parse`]: the stack's and `iflib_parse_header`'s edits of an outgoing frame.
//! * [`pkt`], [`host`]: frame builders/checkers and a minimal host stack (ARP, ICMP
//!   echo, a checking TCP receiver) for the demo and the tests.
//! * [`emu`]: the [`device::Device`] over ravf-sim, and machine constructors.
//!
//! ```no_run
//! use ravf_harness::{emu, host::Host, pkt, Offload, Options};
//! let mut m = emu::machine_from_config(
//!     "PF { device : \"ixl0\"; num_vfs : 2; }\n",
//!     Options::default(),
//! ).unwrap();
//! m.attach(0).unwrap();
//! m.attach(1).unwrap();
//! m.run_until(2_000_000_000, |m| m.link_up(0) && m.link_up(1));
//! let frame = pkt::ether(m.lladdr(1).unwrap(), m.lladdr(0).unwrap(), None, 0x88b5, &[0; 46]);
//! m.send(0, &frame, Offload::NONE).unwrap();
//! m.run_until_idle();
//! let got = m.recv(1).unwrap();
//! assert_eq!(got.data, frame);
//! assert!(emu::violations(&m).is_empty() && m.harness_errors().is_empty());
//! # let _ = Host::new(0, [0; 6], [0; 4]);
//! ```

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
