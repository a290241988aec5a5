//! The VF's BAR0 register map (contract section 2.1; offsets and fields from
//! i40e_register.h, the `I40E_VF*` / `I40E_QTX_TAIL1` block, REG-I40E).
//!
//! This module only names and decodes offsets; the behaviour of each register lives
//! with its owner (AQ registers in `aq.rs`, interrupt registers in `intr.rs`, tails
//! and RSS in `lib.rs`).
//!
//! Reset domains. The header annotates each register (VFR, CORER, PFR, EMPR); a VF
//! sees only VF resets (VFR, VFLR/FLR) in the emulator, and on every one of them the
//! emulator resets **all** of the VF's BAR0 state:
//!
//! | registers | header domain | on a VF reset | why |
//! |---|---|---|---|
//! | ITRN1, DYN_CTLN1, ITR01, DYN_CTL01, VFGEN_RSTAT | VFR | cleared (RSTAT: 0 then 2) | header |
//! | AQ registers (ATQ/ARQ BAL, BAH, LEN, H, T) | EMPR | cleared | contract 2.3: drivers detect resets by ARQLEN.ENABLE = 0 |
//! | QTX_TAIL1 (PFR), QRX_TAIL1 (CORER) | PFR/CORER | cleared | the PF rebuilds the queue contexts; no queue survives a reset (5.9) |
//! | ICR01, ICR0_ENA1, STAT_CTL01 | CORER | cleared | UNCONFIRMED (contract 7.4); every driver rewrites them after AQ init |
//! | VFQF_HENA | CORER | default HENA | the PF writes it at VSI setup (5.9) |
//! | VFQF_HKEY, HLUT, HREGION | CORER | zero | "the PF initializes the key and LUT to 0" (VC-UP) |
//!
//! Read-back: tails, ITRs, BAL/BAH, HENA/HKEY/HREGION read what was written (tails
//! 13 bits, ITRs 12 bits, H/T 10 bits, LEN its LEN/ENABLE bits plus the error latches,
//! HLUT 4 bits per entry, ICR0_ENA1 bits 25/30, STAT_CTL01 bits 3:2); DYN_CTL reads
//! the written fields without the one-shot bits (CLEARPBA, SWINT_TRIG) and with the
//! live INTENA; ICR01 reads and clears; VFGEN_RSTAT reads the reset state; the iWARP
//! error registers read 0.

/// BAR0 size: 64 KiB (contract section 1).
pub const BAR0_SIZE: u64 = 0x1_0000;
/// BAR3 (MSI-X) size: 16 KiB.
pub const BAR3_SIZE: u64 = 0x4000;

// i40e_register.h: I40E_QTX_TAIL1(q) 0x00000000 + 4q, q = 0..15, [12:0] TAIL (PFR)
pub const QTX_TAIL1_BASE: u64 = 0x0000;
// i40e_register.h: I40E_QRX_TAIL1(q) 0x00002000 + 4q, [12:0] TAIL (CORER)
pub const QRX_TAIL1_BASE: u64 = 0x2000;
pub const TAIL_MASK: u32 = 0x1FFF;
// i40e_register.h: I40E_VFINT_ITRN1(i, v) 0x00002800 + 64i + 4v, i = 0..2, v = 0..15, [11:0] (VFR)
pub const VFINT_ITRN1_BASE: u64 = 0x2800;
// i40e_register.h: I40E_VFINT_DYN_CTLN1(v) 0x00003800 + 4v, v = 0..15 (VFR)
pub const VFINT_DYN_CTLN1_BASE: u64 = 0x3800;
// i40e_register.h: I40E_VFINT_ICR01 0x00004800 (CORER)
pub const VFINT_ICR01: u64 = 0x4800;
// i40e_register.h: I40E_VFINT_ITR01(i) 0x00004C00 + 4i, i = 0..2 (VFR)
pub const VFINT_ITR01_BASE: u64 = 0x4C00;
// i40e_register.h: I40E_VFINT_ICR0_ENA1 0x00005000 (CORER)
pub const VFINT_ICR0_ENA1: u64 = 0x5000;
// i40e_register.h: I40E_VFINT_STAT_CTL01 0x00005400 (CORER)
pub const VFINT_STAT_CTL01: u64 = 0x5400;
// i40e_register.h: I40E_VFINT_DYN_CTL01 0x00005C00 (VFR)
pub const VFINT_DYN_CTL01: u64 = 0x5C00;
// i40e_register.h: admin queue registers (EMPR)
pub const VF_ARQBAH1: u64 = 0x6000;
pub const VF_ATQH1: u64 = 0x6400;
pub const VF_ATQLEN1: u64 = 0x6800;
pub const VF_ARQBAL1: u64 = 0x6C00;
pub const VF_ARQT1: u64 = 0x7000;
pub const VF_ARQH1: u64 = 0x7400;
pub const VF_ATQBAH1: u64 = 0x7800;
pub const VF_ATQBAL1: u64 = 0x7C00;
pub const VF_ARQLEN1: u64 = 0x8000;
pub const VF_ATQT1: u64 = 0x8400;
// i40e_register.h: I40E_VFGEN_RSTAT 0x00008800, [1:0] VFR_STATE (VFR)
pub const VFGEN_RSTAT: u64 = 0x8800;
// i40e_register.h: I40E_VFQF_HENA(i) 0x0000C400 + 4i, i = 0..1 (CORER)
pub const VFQF_HENA_BASE: u64 = 0xC400;
// i40e_register.h: I40E_VFQF_HKEY(i) 0x0000CC00 + 4i, i = 0..12 (CORER)
pub const VFQF_HKEY_BASE: u64 = 0xCC00;
// i40e_register.h: I40E_VFQF_HLUT(i) 0x0000D000 + 4i, i = 0..15 (CORER)
pub const VFQF_HLUT_BASE: u64 = 0xD000;
// i40e_register.h: I40E_VFQF_HREGION(i) 0x0000D400 + 4i, i = 0..7 (CORER)
pub const VFQF_HREGION_BASE: u64 = 0xD400;
// i40e_register.h: I40E_VFCM_PE_ERRINFO1 0x0000D800, I40E_VFCM_PE_ERRDATA1 0x0000DC00 (iWARP)
pub const VFCM_PE_ERRINFO1: u64 = 0xD800;
pub const VFCM_PE_ERRDATA1: u64 = 0xDC00;

// xQLEN fields (i40e_register.h I40E_VF_ARQLEN1_*)
pub const AQLEN_LEN_MASK: u32 = 0x3FF;
pub const AQLEN_VFE: u32 = 1 << 28;
pub const AQLEN_OVFL: u32 = 1 << 29;
pub const AQLEN_CRIT: u32 = 1 << 30;
pub const AQLEN_ENABLE: u32 = 1 << 31;
pub const AQ_PTR_MASK: u32 = 0x3FF;

// DYN_CTL fields (i40e_register.h I40E_VFINT_DYN_CTLN1_*; contract 2.4)
pub const DYN_CTL_INTENA: u32 = 1 << 0;
pub const DYN_CTL_CLEARPBA: u32 = 1 << 1;
pub const DYN_CTL_SWINT_TRIG: u32 = 1 << 2;
pub const DYN_CTL_ITR_INDX_SHIFT: u32 = 3;
pub const DYN_CTL_INTERVAL_SHIFT: u32 = 5;
pub const DYN_CTL_INTERVAL_MASK: u32 = 0xFFF;
pub const DYN_CTL_SW_ITR_INDX_ENA: u32 = 1 << 24;
pub const DYN_CTL_SW_ITR_INDX_SHIFT: u32 = 25;
pub const DYN_CTL_WB_ON_ITR: u32 = 1 << 30;
pub const DYN_CTL_INTENA_MSK: u32 = 1 << 31;

// ICR01 / ICR0_ENA1 fields (i40e_register.h I40E_VFINT_ICR01_*)
pub const ICR01_INTEVENT: u32 = 1 << 0;
pub const ICR01_QUEUE_0: u32 = 1 << 1;
pub const ICR01_LINK_STAT_CHANGE: u32 = 1 << 25;
pub const ICR01_ADMINQ: u32 = 1 << 30;
pub const ICR01_SWINT: u32 = 1 << 31;
pub const ICR0_ENA1_WRITABLE: u32 = ICR01_LINK_STAT_CHANGE | ICR01_ADMINQ;

pub const ITR_INTERVAL_MASK: u32 = 0xFFF;

/// Default RSS hash enables of an X710/XL710 (i40e `I40E_DEFAULT_RSS_HENA`, contract 5.8).
pub const DEFAULT_RSS_HENA: u64 = 0x8000_7A1E_8000_0000;
/// HKEY is 13 dwords (52 bytes), HLUT 16 dwords (64 one-byte entries, 4 bits used).
pub const HKEY_DWORDS: usize = 13;
pub const HLUT_DWORDS: usize = 16;
pub const RSS_KEY_LEN: usize = 52;
pub const RSS_LUT_LEN: usize = 64;

/// A decoded BAR0 offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reg {
    QtxTail(u16),
    QrxTail(u16),
    ItrN {
        idx: u8,
        v: u8,
    },
    DynCtlN(u8),
    Icr01,
    Itr01(u8),
    Icr0Ena1,
    StatCtl01,
    DynCtl01,
    ArqBah,
    AtqH,
    AtqLen,
    ArqBal,
    ArqT,
    ArqH,
    AtqBah,
    AtqBal,
    ArqLen,
    AtqT,
    Rstat,
    Hena(u8),
    Hkey(u8),
    Hlut(u8),
    Hregion(u8),
    PeErrInfo,
    PeErrData,
    /// Linux iavf's loop writes one dword past HKEY and HLUT (`iavf_config_rss_reg`,
    /// contract 2.1 note): tolerated, read 0, logged as a note.
    LinuxOverWrite,
    Undefined,
}

/// Decode a dword-aligned BAR0 offset.
pub fn decode(off: u64) -> Reg {
    let idx = |base: u64, n: u64| -> Option<u64> {
        (off >= base && off < base + 4 * n).then(|| (off - base) / 4)
    };
    if let Some(q) = idx(QTX_TAIL1_BASE, 16) {
        return Reg::QtxTail(q as u16);
    }
    if let Some(q) = idx(QRX_TAIL1_BASE, 16) {
        return Reg::QrxTail(q as u16);
    }
    if (VFINT_ITRN1_BASE..VFINT_ITRN1_BASE + 3 * 64).contains(&off) {
        let rel = off - VFINT_ITRN1_BASE;
        let (i, v) = (rel / 64, (rel % 64) / 4);
        return Reg::ItrN {
            idx: i as u8,
            v: v as u8,
        };
    }
    if let Some(v) = idx(VFINT_DYN_CTLN1_BASE, 16) {
        return Reg::DynCtlN(v as u8);
    }
    if let Some(i) = idx(VFINT_ITR01_BASE, 3) {
        return Reg::Itr01(i as u8);
    }
    if let Some(i) = idx(VFQF_HENA_BASE, 2) {
        return Reg::Hena(i as u8);
    }
    if let Some(i) = idx(VFQF_HKEY_BASE, HKEY_DWORDS as u64) {
        return Reg::Hkey(i as u8);
    }
    if let Some(i) = idx(VFQF_HLUT_BASE, HLUT_DWORDS as u64) {
        return Reg::Hlut(i as u8);
    }
    if let Some(i) = idx(VFQF_HREGION_BASE, 8) {
        return Reg::Hregion(i as u8);
    }
    match off {
        VFINT_ICR01 => Reg::Icr01,
        VFINT_ICR0_ENA1 => Reg::Icr0Ena1,
        VFINT_STAT_CTL01 => Reg::StatCtl01,
        VFINT_DYN_CTL01 => Reg::DynCtl01,
        VF_ARQBAH1 => Reg::ArqBah,
        VF_ATQH1 => Reg::AtqH,
        VF_ATQLEN1 => Reg::AtqLen,
        VF_ARQBAL1 => Reg::ArqBal,
        VF_ARQT1 => Reg::ArqT,
        VF_ARQH1 => Reg::ArqH,
        VF_ATQBAH1 => Reg::AtqBah,
        VF_ATQBAL1 => Reg::AtqBal,
        VF_ARQLEN1 => Reg::ArqLen,
        VF_ATQT1 => Reg::AtqT,
        VFGEN_RSTAT => Reg::Rstat,
        VFCM_PE_ERRINFO1 => Reg::PeErrInfo,
        VFCM_PE_ERRDATA1 => Reg::PeErrData,
        0xCC34 | 0xD040 => Reg::LinuxOverWrite,
        _ => Reg::Undefined,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_from_the_contract_table() {
        // Contract 2.1, offsets written out by hand.
        assert_eq!(decode(0x0000), Reg::QtxTail(0));
        assert_eq!(decode(0x003C), Reg::QtxTail(15));
        assert_eq!(decode(0x0040), Reg::Undefined);
        assert_eq!(decode(0x2000), Reg::QrxTail(0));
        assert_eq!(decode(0x203C), Reg::QrxTail(15));
        assert_eq!(decode(0x2800), Reg::ItrN { idx: 0, v: 0 });
        assert_eq!(decode(0x2844), Reg::ItrN { idx: 1, v: 1 });
        assert_eq!(decode(0x28BC), Reg::ItrN { idx: 2, v: 15 });
        assert_eq!(decode(0x28C0), Reg::Undefined);
        assert_eq!(decode(0x3800), Reg::DynCtlN(0));
        assert_eq!(decode(0x383C), Reg::DynCtlN(15));
        assert_eq!(decode(0x4800), Reg::Icr01);
        assert_eq!(decode(0x4C00), Reg::Itr01(0));
        assert_eq!(decode(0x4C08), Reg::Itr01(2));
        assert_eq!(decode(0x4C0C), Reg::Undefined);
        assert_eq!(decode(0x5000), Reg::Icr0Ena1);
        assert_eq!(decode(0x5400), Reg::StatCtl01);
        assert_eq!(decode(0x5C00), Reg::DynCtl01);
        assert_eq!(decode(0x6000), Reg::ArqBah);
        assert_eq!(decode(0x6400), Reg::AtqH);
        assert_eq!(decode(0x6800), Reg::AtqLen);
        assert_eq!(decode(0x6C00), Reg::ArqBal);
        assert_eq!(decode(0x7000), Reg::ArqT);
        assert_eq!(decode(0x7400), Reg::ArqH);
        assert_eq!(decode(0x7800), Reg::AtqBah);
        assert_eq!(decode(0x7C00), Reg::AtqBal);
        assert_eq!(decode(0x8000), Reg::ArqLen);
        assert_eq!(decode(0x8400), Reg::AtqT);
        assert_eq!(decode(0x8800), Reg::Rstat);
        assert_eq!(decode(0xC400), Reg::Hena(0));
        assert_eq!(decode(0xC404), Reg::Hena(1));
        assert_eq!(decode(0xCC00), Reg::Hkey(0));
        assert_eq!(decode(0xCC30), Reg::Hkey(12));
        assert_eq!(decode(0xCC34), Reg::LinuxOverWrite);
        assert_eq!(decode(0xD000), Reg::Hlut(0));
        assert_eq!(decode(0xD03C), Reg::Hlut(15));
        assert_eq!(decode(0xD040), Reg::LinuxOverWrite);
        assert_eq!(decode(0xD400), Reg::Hregion(0));
        assert_eq!(decode(0xD41C), Reg::Hregion(7));
        assert_eq!(decode(0xD800), Reg::PeErrInfo);
        assert_eq!(decode(0xDC00), Reg::PeErrData);
        assert_eq!(decode(0x8804), Reg::Undefined);
        assert_eq!(decode(0xFFFC), Reg::Undefined);
    }
}
