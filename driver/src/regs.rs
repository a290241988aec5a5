//! The VF's BAR0 register map, as data.
//!
//! Every offset and field below is a fact from `i40e_register.h` (Intel's i40e driver,
//! the VF register block; the iavf driver's `iavf_register.h` has the same offsets).
//! All registers are 32 bits wide and accessed with 32-bit MMIO only.
//!
//! Indexed registers are `const fn`s that mask their index into the range the
//! hardware defines, so a wrong index can never produce an offset outside the block.

// ---------------------------------------------------------------------------
// Queue tails
// ---------------------------------------------------------------------------

/// Number of queue pairs a 700-series VF can address (QTX_TAIL1/QRX_TAIL1 q = 0..15).
pub const MAX_QUEUES: usize = 16;

/// i40e_register.h: I40E_QTX_TAIL1(q) = 0x00000000 + 4*q, q = 0..15; TAIL `[12:0]`.
pub const fn qtx_tail1(q: u16) -> u32 {
    (q as u32 & 0xF) * 4
}
/// i40e_register.h: I40E_QRX_TAIL1(q) = 0x00002000 + 4*q, q = 0..15; TAIL `[12:0]`.
pub const fn qrx_tail1(q: u16) -> u32 {
    0x2000 + (q as u32 & 0xF) * 4
}
/// i40e_register.h: QTX_TAIL1/QRX_TAIL1 TAIL field mask (13 bits).
pub const QTAIL_MASK: u32 = 0x1FFF;

// ---------------------------------------------------------------------------
// Interrupts (vector 0 = admin/"other", vectors 1..=16 = queue vectors)
// ---------------------------------------------------------------------------

/// Number of queue vectors the VF register block has (VFINT_DYN_CTLN1 v = 0..15).
pub const MAX_QUEUE_VECTORS: usize = 16;

/// ITR index: RX causes use ITR0 (iavf/FreeBSD IAVF_RX_ITR = 0).
pub const ITR_IDX_RX: u16 = 0;
/// ITR index: TX causes use ITR1 (IAVF_TX_ITR = 1).
pub const ITR_IDX_TX: u16 = 1;
/// ITR index 3 means "no ITR" / "do not update an ITR" (iavf_txrx.h IAVF_ITR_NONE).
pub const ITR_IDX_NONE: u16 = 3;

/// i40e_register.h: I40E_VFINT_ITRN1(i, v) = 0x00002800 + 64*i + 4*v, i = 0..2, v = 0..15.
/// INTERVAL `[11:0]` in 2 µs units. `v` is the queue-vector index (MSI-X vector - 1).
pub const fn vfint_itrn1(itr: u16, v: u16) -> u32 {
    let i = if itr > 2 { 2 } else { itr as u32 };
    0x2800 + 64 * i + 4 * (v as u32 & 0xF)
}
/// i40e_register.h: I40E_VFINT_ITR01(i) = 0x00004C00 + 4*i, i = 0..2 (vector 0).
pub const fn vfint_itr01(itr: u16) -> u32 {
    let i = if itr > 2 { 2 } else { itr as u32 };
    0x4C00 + 4 * i
}
/// i40e_register.h: VFINT_ITRN1 / ITR01 INTERVAL field mask (`[11:0]`).
pub const ITR_INTERVAL_MASK: u32 = 0xFFF;
/// iavf_txrx.h / FreeBSD iavf: maximum ITR register value 0xFF0 (8160 µs).
pub const ITR_MAX: u32 = 0xFF0;
/// FreeBSD iavf IAVF_ITR_8K = 0x3E (124 µs): default RX ITR.
pub const ITR_RX_DEFAULT: u32 = 0x3E;
/// FreeBSD iavf IAVF_ITR_4K = 0x7A (244 µs): default TX ITR.
pub const ITR_TX_DEFAULT: u32 = 0x7A;

/// i40e_register.h: I40E_VFINT_DYN_CTLN1(v) = 0x00003800 + 4*v, v = 0..15 (queue vector v+1).
pub const fn vfint_dyn_ctln1(v: u16) -> u32 {
    0x3800 + 4 * (v as u32 & 0xF)
}
/// i40e_register.h: I40E_VFINT_DYN_CTL01 = 0x00005C00 (vector 0), same layout as DYN_CTLN1.
pub const VFINT_DYN_CTL01: u32 = 0x5C00;

/// DYN_CTL01 / DYN_CTLN1 fields (i40e_register.h I40E_VFINT_DYN_CTLN1_*).
pub mod dyn_ctl {
    /// bit 0 INTENA: interrupt enabled (auto-cleared by hardware when it fires).
    pub const INTENA: u32 = 1 << 0;
    /// bit 1 CLEARPBA: clear this vector's pending bit.
    pub const CLEARPBA: u32 = 1 << 1;
    /// bit 2 SWINT_TRIG: trigger a software interrupt.
    pub const SWINT_TRIG: u32 = 1 << 2;
    /// bits 4:3 ITR_INDX.
    pub const ITR_INDX_SHIFT: u32 = 3;
    pub const ITR_INDX_MASK: u32 = 0x3 << ITR_INDX_SHIFT;
    /// bits 16:5 INTERVAL (2 µs units).
    pub const INTERVAL_SHIFT: u32 = 5;
    pub const INTERVAL_MASK: u32 = 0xFFF << INTERVAL_SHIFT;
    /// bit 24 SW_ITR_INDX_ENA.
    pub const SW_ITR_INDX_ENA: u32 = 1 << 24;
    /// bits 26:25 SW_ITR_INDX.
    pub const SW_ITR_INDX_SHIFT: u32 = 25;
    pub const SW_ITR_INDX_MASK: u32 = 0x3 << SW_ITR_INDX_SHIFT;
    /// bit 30 WB_ON_ITR (i40e_register.h I40E_VFINT_DYN_CTLN_WB_ON_ITR_SHIFT 30).
    pub const WB_ON_ITR: u32 = 1 << 30;
    /// bit 31 INTENA_MSK (meaning UNCONFIRMED; never written by ravf).
    pub const INTENA_MSK: u32 = 1 << 31;

    /// The ITR_INDX field for index `idx` (0..=3).
    pub const fn itr_indx(idx: u16) -> u32 {
        ((idx as u32) << ITR_INDX_SHIFT) & ITR_INDX_MASK
    }
    /// Value written to enable a vector without touching its ITRs, as FreeBSD iavf
    /// does for both vector 0 and the queue vectors: INTENA | CLEARPBA | ITR_INDX(3).
    pub const ENABLE: u32 = INTENA | CLEARPBA | itr_indx(super::ITR_IDX_NONE);
    /// Value written to disable a queue vector (FreeBSD: ITR_INDX(3), INTENA clear).
    pub const DISABLE: u32 = itr_indx(super::ITR_IDX_NONE);
}

/// i40e_register.h: I40E_VFINT_ICR01 = 0x00004800 (read-to-clear cause register of vector 0).
pub const VFINT_ICR01: u32 = 0x4800;
/// i40e_register.h: I40E_VFINT_ICR0_ENA1 = 0x00005000 (cause enables of vector 0).
pub const VFINT_ICR0_ENA1: u32 = 0x5000;
/// i40e_register.h: I40E_VFINT_STAT_CTL01 = 0x00005400 (`[3:2]` OTHER_ITR_INDX; unused).
pub const VFINT_STAT_CTL01: u32 = 0x5400;

/// VFINT_ICR01 / VFINT_ICR0_ENA1 fields (i40e_register.h I40E_VFINT_ICR01_*).
pub mod icr0 {
    /// bit 0 INTEVENT.
    pub const INTEVENT: u32 = 1 << 0;
    /// bit 1 QUEUE_0: a queue cause linked to vector 0.
    pub const QUEUE_0: u32 = 1 << 1;
    /// bit 25 LINK_STAT_CHANGE (unused by VFs: link changes arrive as virtchnl events).
    pub const LINK_STAT_CHANGE: u32 = 1 << 25;
    /// bit 30 ADMINQ: the PF posted a message on the ARQ.
    pub const ADMINQ: u32 = 1 << 30;
    /// bit 31 SWINT.
    pub const SWINT: u32 = 1 << 31;
}

// ---------------------------------------------------------------------------
// Admin queue (mailbox)
// ---------------------------------------------------------------------------

/// i40e_register.h: I40E_VF_ARQBAH1 = 0x00006000.
pub const VF_ARQBAH1: u32 = 0x6000;
/// i40e_register.h: I40E_VF_ATQH1 = 0x00006400, ATQH `[9:0]`.
pub const VF_ATQH1: u32 = 0x6400;
/// i40e_register.h: I40E_VF_ATQLEN1 = 0x00006800.
pub const VF_ATQLEN1: u32 = 0x6800;
/// i40e_register.h: I40E_VF_ARQBAL1 = 0x00006C00.
pub const VF_ARQBAL1: u32 = 0x6C00;
/// i40e_register.h: I40E_VF_ARQT1 = 0x00007000, ARQT `[9:0]`.
pub const VF_ARQT1: u32 = 0x7000;
/// i40e_register.h: I40E_VF_ARQH1 = 0x00007400, ARQH `[9:0]`.
pub const VF_ARQH1: u32 = 0x7400;
/// i40e_register.h: I40E_VF_ATQBAH1 = 0x00007800.
pub const VF_ATQBAH1: u32 = 0x7800;
/// i40e_register.h: I40E_VF_ATQBAL1 = 0x00007C00.
pub const VF_ATQBAL1: u32 = 0x7C00;
/// i40e_register.h: I40E_VF_ARQLEN1 = 0x00008000.
pub const VF_ARQLEN1: u32 = 0x8000;
/// i40e_register.h: I40E_VF_ATQT1 = 0x00008400, ATQT `[9:0]`.
pub const VF_ATQT1: u32 = 0x8400;

/// xQH / xQT / xQLEN.LEN field mask, `[9:0]` (i40e_register.h; iavf_adminq.c masks ARQH with 0x3FF).
pub const AQ_IDX_MASK: u32 = 0x3FF;

/// ATQLEN1 / ARQLEN1 fields (i40e_register.h I40E_VF_ATQLEN1_* / I40E_VF_ARQLEN1_*).
pub mod aqlen {
    /// `[9:0]` LEN: ring length in descriptors.
    pub const LEN_MASK: u32 = super::AQ_IDX_MASK;
    /// bit 28 VFE: VF error.
    pub const VFE: u32 = 1 << 28;
    /// bit 29 OVFL: overflow (an ARQ message was dropped).
    pub const OVFL: u32 = 1 << 29;
    /// bit 30 CRIT: critical error.
    pub const CRIT: u32 = 1 << 30;
    /// bit 31 ENABLE. Reads 0 after a VF reset (how Linux iavf and DPDK detect resets).
    pub const ENABLE: u32 = 1 << 31;
    /// The three latched error bits, cleared by writing LEN back without them.
    pub const ERRORS: u32 = VFE | OVFL | CRIT;
}

/// One admin-queue register set, so ATQ and ARQ code can be shared (OpenBSD style).
#[derive(Clone, Copy, Debug)]
pub struct AqRegs {
    pub head: u32,
    pub tail: u32,
    pub len: u32,
    pub bal: u32,
    pub bah: u32,
}

/// The send queue (VF → PF).
pub const ATQ_REGS: AqRegs = AqRegs {
    head: VF_ATQH1,
    tail: VF_ATQT1,
    len: VF_ATQLEN1,
    bal: VF_ATQBAL1,
    bah: VF_ATQBAH1,
};
/// The receive queue (PF → VF).
pub const ARQ_REGS: AqRegs = AqRegs {
    head: VF_ARQH1,
    tail: VF_ARQT1,
    len: VF_ARQLEN1,
    bal: VF_ARQBAL1,
    bah: VF_ARQBAH1,
};

// ---------------------------------------------------------------------------
// Reset status
// ---------------------------------------------------------------------------

/// i40e_register.h: I40E_VFGEN_RSTAT = 0x00008800, VFR_STATE `[1:0]`.
pub const VFGEN_RSTAT: u32 = 0x8800;
/// VFGEN_RSTAT VFR_STATE mask.
pub const RSTAT_VFR_STATE_MASK: u32 = 0x3;
/// virtchnl.h enum virtchnl_vfr_states: VIRTCHNL_VFR_INPROGRESS = 0.
pub const VFR_INPROGRESS: u32 = 0;
/// virtchnl.h: VIRTCHNL_VFR_COMPLETED = 1.
pub const VFR_COMPLETED: u32 = 1;
/// virtchnl.h: VIRTCHNL_VFR_VFACTIVE = 2.
pub const VFR_VFACTIVE: u32 = 2;

/// virtchnl.h comment / OpenBSD IAVF_REG_VFR: registers read 0xDEADBEEF while the
/// function is in reset.
pub const REG_IN_RESET: u32 = 0xDEAD_BEEF;
/// A read of all-ones: the device is gone or in reset (Linux iavf, FreeBSD iavf).
pub const REG_ALL_ONES: u32 = 0xFFFF_FFFF;

/// True if a register value says "the device is in reset / not there".
pub const fn reads_as_reset(v: u32) -> bool {
    v == REG_IN_RESET || v == REG_ALL_ONES
}

/// True if VFGEN_RSTAT says the VF is ready (COMPLETED or VFACTIVE), as every
/// driver's init path accepts.
pub const fn rstat_ready(v: u32) -> bool {
    if reads_as_reset(v) {
        return false;
    }
    let s = v & RSTAT_VFR_STATE_MASK;
    s == VFR_COMPLETED || s == VFR_VFACTIVE
}

// ---------------------------------------------------------------------------
// RSS registers (used only when the PF grants VIRTCHNL_VF_OFFLOAD_RSS_REG)
// ---------------------------------------------------------------------------

/// i40e_register.h: I40E_VFQF_HENA(i) = 0x0000C400 + 4*i, i = 0..1 (i = 0 is the low word).
pub const fn vfqf_hena(i: u16) -> u32 {
    0xC400 + 4 * (i as u32 & 0x1)
}
/// i40e_register.h: I40E_VFQF_HKEY(i) = 0x0000CC00 + 4*i, i = 0..12 (52-byte key).
pub const fn vfqf_hkey(i: u16) -> u32 {
    let i = if i > 12 { 12 } else { i as u32 };
    0xCC00 + 4 * i
}
/// Number of VFQF_HKEY registers.
pub const VFQF_HKEY_COUNT: u16 = 13;
/// i40e_register.h: I40E_VFQF_HLUT(i) = 0x0000D000 + 4*i, i = 0..15 (64 4-bit entries,
/// one per byte lane).
pub const fn vfqf_hlut(i: u16) -> u32 {
    0xD000 + 4 * (i as u32 & 0xF)
}
/// Number of VFQF_HLUT registers.
pub const VFQF_HLUT_COUNT: u16 = 16;
/// i40e_register.h: VFQF_HLUT LUT entry mask per byte lane (`[3:0]`, `[11:8]`, ...).
pub const HLUT_ENTRY_MASK: u32 = 0x0F0F_0F0F;

#[cfg(test)]
mod tests {
    use super::*;

    // Offsets restated from hw-contract 2.1 (i40e_register.h), not from the functions.
    #[test]
    fn indexed_offsets() {
        assert_eq!(qtx_tail1(0), 0x0000);
        assert_eq!(qtx_tail1(15), 0x003C);
        assert_eq!(qrx_tail1(3), 0x200C);
        assert_eq!(vfint_itrn1(0, 0), 0x2800);
        assert_eq!(vfint_itrn1(1, 2), 0x2848);
        assert_eq!(vfint_itrn1(2, 15), 0x28BC);
        assert_eq!(vfint_dyn_ctln1(0), 0x3800);
        assert_eq!(vfint_dyn_ctln1(15), 0x383C);
        assert_eq!(vfint_itr01(2), 0x4C08);
        assert_eq!(vfqf_hena(1), 0xC404);
        assert_eq!(vfqf_hkey(12), 0xCC30);
        assert_eq!(vfqf_hlut(15), 0xD03C);
    }

    #[test]
    fn indexes_are_clamped_into_the_block() {
        assert_eq!(qtx_tail1(16), qtx_tail1(0));
        assert!(vfint_dyn_ctln1(0xFFFF) <= 0x383C);
        assert!(vfqf_hkey(200) <= 0xCC30);
        assert!(vfint_itrn1(7, 3) < 0x2800 + 3 * 64);
    }

    #[test]
    fn dyn_ctl_values_match_drivers() {
        // FreeBSD iavf writes 0x1B to enable vector 0 / queue vectors (hw-contract 2.4).
        assert_eq!(dyn_ctl::ENABLE, 0x1B);
        assert_eq!(dyn_ctl::DISABLE, 0x18);
    }

    #[test]
    fn rstat() {
        assert!(!rstat_ready(0));
        assert!(rstat_ready(1));
        assert!(rstat_ready(2));
        assert!(!rstat_ready(3));
        assert!(!rstat_ready(REG_IN_RESET));
        assert!(!rstat_ready(REG_ALL_ONES));
    }
}
