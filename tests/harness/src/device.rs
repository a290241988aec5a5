//! The emulated hardware as the stand-in sees it: the handful of operations a PCI
//! bus gives an OS (BAR and config accesses, interrupts) plus the emulator's clock.
//! `emu.rs` implements it over ravf-sim.

/// One emulated PF with its VFs.
pub trait Device {
    /// Number of VFs.
    fn num_vfs(&self) -> usize;
    /// 32-bit read of BAR `bar` (0 = CSRs, 3 = MSI-X) of `vf` at byte offset `off`.
    fn bar_read(&mut self, vf: usize, bar: u8, off: u64) -> u32;
    /// 32-bit write.
    fn bar_write(&mut self, vf: usize, bar: u8, off: u64, val: u32);
    /// Size of BAR `bar` in bytes.
    fn bar_size(&self, vf: usize, bar: u8) -> u64;
    /// PCI configuration read of `width` bytes (1, 2 or 4).
    fn cfg_read(&mut self, vf: usize, off: u16, width: u8) -> u32;
    /// PCI configuration write.
    fn cfg_write(&mut self, vf: usize, off: u16, width: u8, val: u32);
    /// Let `ns` nanoseconds of virtual time pass.
    fn advance(&mut self, ns: u64);
    /// MSI-X vectors that fired for `vf` since the last call (bit n = vector n).
    fn take_irqs(&mut self, vf: usize) -> u32;
    /// The concrete emulator, for fault injection and checks.
    fn as_any_mut(&mut self) -> &mut dyn std::any::Any;
}
