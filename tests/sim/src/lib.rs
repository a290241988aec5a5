//! ravf-sim: an emulated Intel Ethernet 700-series PF (X710 class) with SR-IOV VFs.
//!
//! See `docs/emulator.md` for what is emulated, what is not, and the source of
//! each behaviour.

pub mod mem;
