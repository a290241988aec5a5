//! Every BAR0 register of contract 2.1: write a pattern, read it back, with the
//! expected value spelled out from the register's fields (REG-I40E), then a VF reset
//! and the post-reset value.

mod common;
use common::*;

use ravf_sim::{IovConfig, Sim};

/// (offset, value written, value read back, value after a VF reset)
fn table() -> Vec<(u64, u32, u32, u32)> {
    let mut t = Vec::new();
    for q in 0..4u64 {
        t.push((q * 4, 0x1FFF, 0x1FFF, 0)); // QTX_TAIL1(q) [12:0]
        t.push((0x2000 + q * 4, 0x0ABC, 0x0ABC, 0)); // QRX_TAIL1(q)
    }
    for i in 0..3u64 {
        for v in 0..16u64 {
            t.push((0x2800 + 64 * i + 4 * v, 0xFFFF_FFFF, 0xFFF, 0)); // VFINT_ITRN1 [11:0]
        }
        t.push((0x4C00 + 4 * i, 0x1234_5678, 0x678, 0)); // VFINT_ITR01 [11:0]
    }
    for v in 0..16u64 {
        // DYN_CTLN1: ITR_INDX 3, INTERVAL 0x10, SW_ITR_INDX 2, WB off; INTENA 0.
        let w = (3 << 3) | (0x10 << 5) | (2 << 25);
        t.push((0x3800 + 4 * v, w, w, 0));
    }
    t.push((0x5C00, (3 << 3) | 1, (3 << 3) | 1, 0)); // DYN_CTL01 with INTENA
    t.push((0x5000, 0xFFFF_FFFF, (1 << 30) | (1 << 25), 0)); // ICR0_ENA1
    t.push((0x5400, 0xFFFF_FFFF, 0xC, 0)); // STAT_CTL01 [3:2]
    t.push((0x6000, 0x1234_5678, 0x1234_5678, 0)); // ARQBAH
    t.push((0x6C00, 0x9ABC_DE00, 0x9ABC_DE00, 0)); // ARQBAL
    t.push((0x7800, 0x0000_0001, 0x0000_0001, 0)); // ATQBAH
    t.push((0x7C00, 0xFFFF_F000, 0xFFFF_F000, 0)); // ATQBAL
    t.push((0x6800, 0x0FFF_FC20, 0x20, 0)); // ATQLEN: reserved bits and error latches read 0
    t.push((0x8000, 0x0000_0040, 0x40, 0)); // ARQLEN without ENABLE
    t.push((0x8800, 0xFFFF_FFFF, 3, 2)); // VFGEN_RSTAT: VF writes accepted, [1:0]
    t.push((0xC400, 0xDEAD_0001, 0xDEAD_0001, 0x8000_0000)); // HENA(0)
    t.push((0xC404, 0x0000_0002, 0x0000_0002, 0x8000_7A1E)); // HENA(1)
    for i in 0..13u64 {
        t.push((
            0xCC00 + 4 * i,
            0xA5A5_0000 + i as u32,
            0xA5A5_0000 + i as u32,
            0,
        )); // HKEY
    }
    for i in 0..16u64 {
        t.push((0xD000 + 4 * i, 0xFFFF_FFFF, 0x0F0F_0F0F, 0)); // HLUT: 4 bits per entry
    }
    for i in 0..8u64 {
        t.push((0xD400 + 4 * i, 0x0765_4321, 0x0765_4321, 0)); // HREGION
    }
    t
}

#[test]
fn every_register_reads_back_by_its_fields_and_resets() {
    let mut sim = Sim::new(IovConfig::with_vfs(1), strict());
    for &(off, w, r, _) in &table() {
        sim.bar_write(0, 0, off, 4, w);
        assert_eq!(sim.bar_read(0, 0, off, 4), r, "register {off:#06x}");
    }
    assert!(sim.violations().is_empty(), "{:#?}", sim.violations());
    // The H registers take only 0 from the driver; ICR01 reads (and clears) 0; iWARP
    // error registers read 0.
    sim.bar_write(0, 0, 0x6400, 4, 0);
    sim.bar_write(0, 0, 0x7400, 4, 0);
    assert_eq!(sim.bar_read(0, 0, 0x4800, 4), 0);
    assert_eq!(sim.bar_read(0, 0, 0xD800, 4), 0);
    assert_eq!(sim.bar_read(0, 0, 0xDC00, 4), 0);
    assert!(sim.violations().is_empty());
    sim.flr(0);
    sim.advance(10_000_000);
    for &(off, _, _, after) in &table() {
        assert_eq!(
            sim.bar_read(0, 0, off, 4),
            after,
            "register {off:#06x} after the reset"
        );
    }
}

#[test]
fn dyn_ctl_one_shot_bits_read_zero() {
    let mut sim = Sim::new(IovConfig::with_vfs(1), strict());
    sim.bar_write(0, 0, 0x3800, 4, 0x1F); // INTENA | CLEARPBA | SWINT_TRIG | ITR_INDX(3)
                                          // SWINT fired nothing (MSI-X off) but INTENA stays; CLEARPBA/SWINT_TRIG read 0.
    assert_eq!(sim.bar_read(0, 0, 0x3800, 4), 0x19);
    let mut d = Drv::new(sim, 0);
    d.wr(0x6400, 5);
    assert_eq!(d.sim.take_violations().len(), 1, "a non-zero head write");
}
