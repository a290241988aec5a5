//! Shared pieces of the ravf fuzz targets (`fuzz_targets/*.rs`).
//!
//! * [`input::Input`]: a byte cursor over the fuzzer's input that never fails (it
//!   yields zeros once the input is used up, so every input is a complete run).
//! * [`dma::VecDma`]: a `DmaRegion` in a `Vec`, counting accesses outside the region.
//! * [`fakepf`]: a fake VF BAR0 + admin-queue firmware + PF whose answers are chosen
//!   by the fuzzer, for driving `ravf::Vf`.
//! * [`txcheck::hw_rules`]: an independent checker of the TX descriptor rules the
//!   hardware enforces (MDD), written from the contract's bit positions.
//!
//! The driver's own test doubles (`driver/src/testing.rs`, `txrx/testutil.rs`) are
//! `#[cfg(test)]` and stay private; these are separate, fuzz-oriented fakes.

pub mod dma;
pub mod fakepf;
pub mod input;
pub mod txcheck;

/// True when `RAVF_FUZZ_STATS` is set: targets then print one line per input about
/// what it reached (for judging a corpus: `-runs=0` over it), else stay silent.
pub fn stats_enabled() -> bool {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("RAVF_FUZZ_STATS").is_some())
}
