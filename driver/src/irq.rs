//! Interrupt helpers for the admin vector (MSI-X vector 0) and queue-vector ITRs.
//!
//! These are free functions over a [`Bar0`] so that the interrupt filter (which runs
//! concurrently with the admin task and must not take the `Vf`) can use them.
//! Register facts are in [`crate::regs`] (hw-contract 2.4, 7). Queue-vector
//! enable/disable (VFINT_DYN_CTLN1) belongs to the data path: `crate::txrx::intr`.

use crate::os::Bar0;
use crate::regs::{self, dyn_ctl, icr0};

/// Enable the admin vector: `VFINT_DYN_CTL01 = INTENA | CLEARPBA | ITR_INDX(3)`
/// (0x1B) and `VFINT_ICR0_ENA1 = ADMINQ`, as FreeBSD `iavf_enable_adminq_irq`.
pub fn admin_irq_enable<B: Bar0>(bar: &B) {
    bar.wr32(regs::VFINT_DYN_CTL01, dyn_ctl::ENABLE);
    bar.wr32(regs::VFINT_ICR0_ENA1, icr0::ADMINQ);
}

/// Disable the admin vector (Linux `iavf_misc_irq_disable` writes DYN_CTL01 = 0).
pub fn admin_irq_disable<B: Bar0>(bar: &B) {
    bar.wr32(regs::VFINT_ICR0_ENA1, 0);
    bar.wr32(regs::VFINT_DYN_CTL01, 0);
}

/// What the vector-0 handler found.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AdminIntr {
    /// Run the admin task (ARQ work, or a reset to handle).
    pub schedule: bool,
    /// ICR01 read 0xDEADBEEF / all-ones: the VF is in reset (OpenBSD `iavf_intr`).
    pub reset: bool,
    /// ICR01.QUEUE_0: a queue cause linked to vector 0 (single-vector mode only).
    pub queue0: bool,
    /// The raw ICR01 value (read-to-clear), for counters/debugging.
    pub icr01: u32,
}

/// The vector-0 interrupt handler logic (filter context: no sleeping, no `Vf`).
///
/// Reads `VFINT_ICR0_ENA1` then the read-to-clear `VFINT_ICR01` (Linux
/// `iavf_msix_aq` reads both), decides whether the admin task must run, and re-arms
/// the vector (hardware auto-masked INTENA when it fired). Re-arming here is safe:
/// a message that arrives while the admin task runs fires again and re-queues it.
pub fn admin_intr<B: Bar0>(bar: &B) -> AdminIntr {
    let _ena = bar.rd32(regs::VFINT_ICR0_ENA1);
    let icr = bar.rd32(regs::VFINT_ICR01);
    let reset = regs::reads_as_reset(icr);
    let adminq = !reset && icr & icr0::ADMINQ != 0;
    let queue0 = !reset && icr & icr0::QUEUE_0 != 0;
    if !reset {
        bar.wr32(regs::VFINT_DYN_CTL01, dyn_ctl::ENABLE);
    }
    AdminIntr {
        schedule: adminq || reset,
        reset,
        queue0,
        icr01: icr,
    }
}

/// Program the RX (ITR0) and TX (ITR1) throttling intervals of queue vector `qv`
/// (MSI-X vector `qv + 1`), in 2 µs register units, clamped to 0xFF0.
pub fn set_queue_itr<B: Bar0>(bar: &B, qv: u16, rx_itr: u32, tx_itr: u32) {
    bar.wr32(
        regs::vfint_itrn1(regs::ITR_IDX_RX, qv),
        rx_itr.min(regs::ITR_MAX),
    );
    bar.wr32(
        regs::vfint_itrn1(regs::ITR_IDX_TX, qv),
        tx_itr.min(regs::ITR_MAX),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::os::Os;
    use crate::testing::{FakeOs, Pf};

    #[test]
    fn enable_and_intr() {
        let os = FakeOs::new(Pf::silent());
        let bar = os.bar();
        admin_irq_enable(bar);
        assert_eq!(bar.rd32(0x5C00), 0x1B);
        assert_eq!(bar.rd32(0x5000), 1 << 30);
        bar.wr32(0x5C00, 0); // as if auto-masked
        bar.wr32(0x4800, 1 << 30);
        let r = admin_intr(bar);
        assert!(r.schedule && !r.reset && !r.queue0);
        assert_eq!(bar.rd32(0x5C00), 0x1B);
        bar.wr32(0x4800, 0);
        assert!(!admin_intr(bar).schedule);
        bar.wr32(0x4800, 0xDEAD_BEEF);
        let r = admin_intr(bar);
        assert!(r.schedule && r.reset);
        bar.wr32(0x4800, 1 << 1);
        assert!(admin_intr(bar).queue0);
        admin_irq_disable(bar);
        assert_eq!(bar.rd32(0x5000), 0);
    }

    #[test]
    fn itr_registers() {
        let os = FakeOs::new(Pf::silent());
        let bar = os.bar();
        set_queue_itr(bar, 2, 0x3E, 0x10000);
        assert_eq!(bar.rd32(0x2808), 0x3E);
        assert_eq!(bar.rd32(0x2848), 0xFF0);
    }
}
