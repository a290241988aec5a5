//! The attach-time contract: admin queue mechanics, VERSION, GET_VF_RESOURCES,
//! RESET_VF, register file behaviour. Expected bytes come from hw-contract.md.

mod common;
use common::*;

use ravf_sim::{IovConfig, PfEvent, ResetCause, Sim, SimOptions, ViolationKind};

#[test]
fn version_round_trip_and_descriptor_write_backs() {
    let mut d = Drv::new(two_vfs(), 1);
    assert_eq!(d.rd(RSTAT) & 3, 2, "VFACTIVE at start");
    d.init_aq();
    let wb = d.send(OP_VERSION, &[1, 0, 0, 0, 1, 0, 0, 0]);
    // Contract 3.4/9.1-6: flags |= DD|CMP (SI|BUF|RD were set), retval 0, ATQH advanced.
    assert_eq!(r16(&wb, 0), 0x2000 | 0x1000 | 0x0400 | 0x0001 | 0x0002);
    assert_eq!(r16(&wb, 6), 0);
    assert_eq!(d.rd(ATQH), 1);
    let m = d.recv().expect("VERSION reply");
    // Contract 3.5 / 9.1-7: the ARQ descriptor.
    assert_eq!(
        m.u16(0),
        0x1000 | 0x0200 | 0x0001 | 0x0002,
        "posted BUF|LB kept, DD|CMP added, no ERR"
    );
    assert_eq!(m.u16(2), 0x0802);
    assert_eq!(m.u16(4), 8);
    assert_eq!(m.u16(6), 0);
    assert_eq!(m.u32(8), OP_VERSION);
    assert_eq!(m.u32(12), 0);
    assert_eq!(m.u32(16), 1, "param0 = VF id");
    assert_eq!(m.u32(20), 0);
    assert_eq!(m.data, vec![1, 0, 0, 0, 1, 0, 0, 0]);
    assert_eq!(d.rd(ARQH), 1);
    assert!(d.sim.violations().is_empty(), "{:#?}", d.sim.violations());
}

#[test]
fn openbsd_init_order_works_too() {
    let mut d = Drv::new(two_vfs(), 0);
    d.init_aq_obsd();
    let m = d.version(1, 1);
    assert_eq!(m.data, vec![1, 0, 0, 0, 1, 0, 0, 0]);
    assert!(d.sim.violations().is_empty(), "{:#?}", d.sim.violations());
}

#[test]
fn version_1_0_gets_1_0_and_legacy_everything() {
    let mut d = Drv::new(two_vfs(), 0);
    d.init_aq();
    let m = d.version(1, 0);
    assert_eq!(
        m.data,
        vec![1, 0, 0, 0, 0, 0, 0, 0],
        "a 1.0 VF gets 1.0 back"
    );
    // 1.0: GET_VF_RESOURCES has no payload; a 4-byte payload is a length error.
    let bad = d.call(OP_GET_VF_RESOURCES, &CAPS_FBSD.to_le_bytes());
    assert_eq!(bad.retval, -5);
    let r = d.call(OP_GET_VF_RESOURCES, &[]);
    assert_eq!(r.retval, 0);
    assert_eq!(
        r32(&r.data, 8),
        0x0001_0011,
        "L2 | RSS_REG | VLAN for a 1.0 VF"
    );
    let ev = d.recv().expect("LINK_CHANGE");
    assert_eq!(ev.op, OP_EVENT);
    assert_eq!(
        ev.data,
        vec![1, 0, 0, 0, 0x08, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0],
        "legacy 10GB = BIT(3)"
    );
}

#[test]
fn get_vf_resources_reply_bytes() {
    let mut d = Drv::new(two_vfs(), 0);
    d.init_aq();
    d.version(1, 1);
    let r = d.call(OP_GET_VF_RESOURCES, &CAPS_FBSD.to_le_bytes());
    // Contract 4.5/5.10, PF-UP sizing: 36 + 16 = 52 bytes.
    #[rustfmt::skip]
    let want: [u8; 52] = [
        1, 0,             // num_vsis
        4, 0,             // num_queue_pairs (ixl default)
        5, 0,             // max_vectors
        0x00, 0x26,       // max_mtu = max frame 9728 (PF-UP)
        0x81, 0, 0x09, 0, // caps granted = requested L2|VLAN|RSS_PF|ADV_LINK_SPEED
        52, 0, 0, 0,      // rss_key_size
        64, 0, 0, 0,      // rss_lut_size
        8, 0,             // vsi_res[0].vsi_id
        4, 0,             // num_queue_pairs
        6, 0, 0, 0,       // VIRTCHNL_VSI_SRIOV
        0, 0,             // qset_handle
        0, 0, 0, 0, 0, 0, // zero MAC: no USO requested, no admin MAC
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    ];
    assert_eq!(r.data, want);
    // Then a LINK_CHANGE in the advanced format (ADV_LINK_SPEED was requested).
    let ev = d.recv().expect("LINK_CHANGE after GET_VF_RESOURCES");
    assert_eq!(ev.op, OP_EVENT);
    assert_eq!(
        ev.data,
        vec![1, 0, 0, 0, 0x10, 0x27, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]
    );
    // One per reset.
    let again = d.call(OP_GET_VF_RESOURCES, &CAPS_FBSD.to_le_bytes());
    assert_eq!(again.retval, -5);
    let v = d.sim.take_violations();
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].kind, ViolationKind::VirtchnlState);
}

#[test]
fn admin_mac_is_reported_and_uso_keeps_the_mac() {
    let cfg = IovConfig::parse(include_str!("../../../examples/ixl0.conf")).unwrap();
    let mut d = Drv::new(Sim::new(cfg, strict()), 1);
    let r = d.bring_up(CAPS_FBSD);
    assert_eq!(&r.data[30..36], &[0xaa, 0x88, 0x44, 0x00, 0x02, 0x01]);
    // Without an admin MAC, requesting USO keeps a MAC the VF added before a reset.
    let mut d = Drv::new(two_vfs(), 0);
    d.bring_up(CAPS_FBSD | 1 << 25);
    let mac = [0x02, 0x11, 0x22, 0x33, 0x44, 0x55];
    let m = d.mac_list(&[(mac, 0)]);
    assert_eq!(d.call(OP_ADD_ETH_ADDR, &m).retval, 0);
    d.send(OP_RESET_VF, &[]);
    d.wait_reset();
    d.init_aq();
    let r = d.call(OP_GET_VF_RESOURCES, &(CAPS_FBSD | 1 << 25).to_le_bytes());
    assert_eq!(&r.data[30..36], &mac, "USO requested: the PF keeps the MAC");
    let g = d.sim.pf_state(0).unwrap().granted_caps();
    assert_eq!(g & (1 << 25), 0, "USO itself is not granted (not emulated)");
}

#[test]
fn reset_vf_sequence_deadbeef_enable_clear_and_version_kept() {
    let mut d = Drv::new(two_vfs(), 0);
    d.bring_up(CAPS_FBSD);
    d.drain();
    // FreeBSD writes RSTAT = INPROGRESS before RESET_VF: accepted.
    d.wr(RSTAT, 0);
    assert_eq!(d.rd(RSTAT), 0);
    d.send(OP_RESET_VF, &[]);
    assert!(d.recv().is_none(), "RESET_VF gets no reply");
    assert_eq!(
        d.rd(RSTAT),
        0xDEAD_BEEF,
        "registers read DEADBEEF while the HW is in reset"
    );
    assert_eq!(d.rd(ARQLEN), 0xDEAD_BEEF);
    d.sim.advance(100_000);
    assert_eq!(d.rd(RSTAT), 0, "INPROGRESS");
    assert_eq!(
        d.rd(ARQLEN) & ENABLE,
        0,
        "ARQLEN.ENABLE cleared (Linux/DPDK reset detection)"
    );
    assert_eq!(d.rd(ATQLEN), 0);
    assert_eq!(d.rd(ARQBAL), 0);
    d.wait_reset();
    assert_eq!(d.rd(RSTAT), 2, "ends at VFACTIVE (Linux waits for 2 only)");
    let ev: Vec<_> = d
        .sim
        .events()
        .iter()
        .filter(|e| matches!(e, PfEvent::ResetImpending { .. }))
        .collect();
    assert!(ev.is_empty(), "no RESET_IMPENDING for a VF-requested reset");
    assert!(d.sim.events().contains(&PfEvent::ResetStart {
        vf: 0,
        cause: ResetCause::VfRequest
    }));
    // The version survives: GET_VF_RESOURCES with the 1.1 payload, no VERSION resent.
    d.init_aq();
    let r = d.call(OP_GET_VF_RESOURCES, &CAPS_FBSD.to_le_bytes());
    assert_eq!(r.retval, 0);
    assert!(d.sim.violations().is_empty(), "{:#?}", d.sim.violations());
}

#[test]
fn pf_initiated_reset_sends_reset_impending_first() {
    let mut d = Drv::new(two_vfs(), 0);
    d.bring_up(CAPS_FBSD);
    d.drain();
    d.sim.pf_reset_vf(0);
    let m = d.recv().expect("RESET_IMPENDING");
    assert_eq!(m.op, OP_EVENT);
    assert_eq!(r32(&m.data, 0), 2, "VIRTCHNL_EVENT_RESET_IMPENDING");
    assert_eq!(r32(&m.data, 12), 255, "PF_EVENT_SEVERITY_CERTAIN_DOOM");
    d.sim.advance(60_000);
    assert_eq!(d.rd(ARQLEN), 0xDEAD_BEEF);
    d.wait_reset();
    assert_eq!(d.rd(ARQLEN) & ENABLE, 0);
    // Filters are back to default MAC (none: zero MAC) + broadcast.
    let st = d.sim.pf_state(0).unwrap();
    assert_eq!(st.macs, vec![[0xFF; 6]]);
}

#[test]
fn pf_reset_resets_every_vf() {
    let mut sim = two_vfs();
    sim.pf_reset();
    sim.advance(10_000_000);
    let starts = sim
        .events()
        .iter()
        .filter(|e| {
            matches!(
                e,
                PfEvent::ResetStart {
                    cause: ResetCause::PfReset,
                    ..
                }
            )
        })
        .count();
    let done = sim
        .events()
        .iter()
        .filter(|e| matches!(e, PfEvent::ResetDone { .. }))
        .count();
    assert_eq!((starts, done), (2, 2));
    assert_eq!(sim.counters(1).resets, 1);
}

#[test]
fn flr_through_config_space() {
    let mut d = Drv::new(two_vfs(), 0);
    d.bring_up(CAPS_FBSD);
    d.sim.cfg_write(0, 0x72, 2, 0x8000);
    d.sim.cfg_write(0, 0xA8, 2, 0x8000 | 0x2810);
    assert_eq!(
        d.sim.cfg_read(0, 0x72, 2) & 0x8000,
        0,
        "FLR clears MSI-X enable"
    );
    d.wait_reset();
    assert!(d.sim.events().contains(&PfEvent::ResetStart {
        vf: 0,
        cause: ResetCause::Flr
    }));
}

#[test]
fn register_access_rules() {
    let mut sim = two_vfs();
    assert_eq!(sim.bar_read(0, 0, 0x8800, 4), 2);
    sim.bar_read(0, 0, 0x8800, 2);
    sim.bar_write(0, 0, 0x8802, 4, 0);
    sim.bar_read(0, 0, 0x8804, 4);
    sim.bar_read(0, 1, 0, 4);
    let v = sim.take_violations();
    let kinds: Vec<_> = v.iter().map(|x| x.kind).collect();
    assert_eq!(
        kinds,
        vec![
            ViolationKind::BadWidth,
            ViolationKind::BadWidth,
            ViolationKind::UndefinedRegister,
            ViolationKind::UndefinedRegister
        ]
    );
    // The Linux HKEY(13)/HLUT(16) over-write: a note, not a violation.
    sim.bar_write(0, 0, 0xCC34, 4, 1);
    sim.bar_write(0, 0, 0xD040, 4, 1);
    assert!(sim.violations().is_empty());
    assert_eq!(
        sim.events()
            .iter()
            .filter(|e| matches!(e, PfEvent::Note { .. }))
            .count(),
        2
    );
    // RSS registers: HKEY bytes, HLUT 4-bit entries, HENA default.
    sim.bar_write(0, 0, 0xCC00, 4, 0x4433_2211);
    assert_eq!(sim.rss(0).unwrap().key[..4], [0x11, 0x22, 0x33, 0x44]);
    sim.bar_write(0, 0, 0xD000, 4, 0xFF03_0201);
    assert_eq!(sim.bar_read(0, 0, 0xD000, 4), 0x0F03_0201);
    assert_eq!(sim.bar_read(0, 0, 0xC400, 4), 0x8000_0000);
    assert_eq!(sim.bar_read(0, 0, 0xC404, 4), 0x8000_7A1E);
    // ICR0_ENA1 keeps only its defined bits; ICR01 is read-only.
    sim.bar_write(0, 0, 0x5000, 4, 0xFFFF_FFFF);
    assert_eq!(sim.bar_read(0, 0, 0x5000, 4), (1 << 30) | (1 << 25));
    sim.bar_write(0, 0, 0x4800, 4, 1);
    assert_eq!(
        sim.take_violations()[0].kind,
        ViolationKind::ReadOnlyRegister
    );
}

#[test]
fn admin_interrupt_auto_masks_and_icr01_clears_on_read() {
    let mut d = Drv::new(two_vfs(), 0);
    // MSI-X on, entry 0 unmasked.
    d.sim.cfg_write(0, 0x72, 2, 0x8000);
    d.sim.bar_write(0, 3, 0x0, 4, 0xFEE0_0000);
    d.sim.bar_write(0, 3, 0xC, 4, 0);
    d.init_aq();
    d.wr(DYN_CTL01, 0x1B); // FreeBSD: INTENA | CLEARPBA | ITR_INDX(3)
    d.wr(ICR0_ENA1, 1 << 30);
    d.send(OP_VERSION, &[1, 0, 0, 0, 1, 0, 0, 0]);
    assert_eq!(d.sim.take_irqs(0), 1, "vector 0 fired");
    assert_eq!(d.rd(ICR01) & (1 << 30), 1 << 30, "ICR01.ADMINQ set");
    assert_eq!(d.rd(ICR01), 0, "read-to-clear");
    assert_eq!(d.rd(DYN_CTL01) & 1, 0, "INTENA auto-masked");
    d.recv().unwrap();
    d.send(OP_VERSION, &[1, 0, 0, 0, 1, 0, 0, 0]);
    assert_eq!(d.sim.take_irqs(0), 0, "held while masked");
    assert_eq!(d.sim.bar_read(0, 3, 0x2000, 4), 1, "PBA shows it pending");
    d.wr(DYN_CTL01, 0x19);
    assert_eq!(d.sim.take_irqs(0), 1, "fires on re-enable");
}

#[test]
fn malformed_atq_descriptors_are_violations() {
    let mut d = Drv::new(two_vfs(), 0);
    d.init_aq();
    // datalen > 0 without BUF.
    let mut desc = [0u8; 32];
    w16(&mut desc, 2, 0x0801);
    w16(&mut desc, 4, 8);
    w32(&mut desc, 8, OP_VERSION);
    use ravf_sim::mem::GuestMemory;
    d.mem.write(d.atq.iova, &desc).unwrap();
    d.ntu = 1;
    d.wr(ATQT, 1);
    let mut wb = [0u8; 32];
    d.mem.read(d.atq.iova, &mut wb).unwrap();
    assert_eq!(r16(&wb, 0) & 0x7, 0x7, "DD|CMP|ERR");
    assert_ne!(r16(&wb, 6), 0, "retval");
    assert!(d.recv().is_none(), "nothing reaches the PF");
    // Queue shutdown (0x0003) is consumed silently.
    let mut desc = [0u8; 32];
    w16(&mut desc, 0, 0x2000);
    w16(&mut desc, 2, 0x0003);
    w32(&mut desc, 16, 1);
    d.mem.write(d.atq.iova + 32, &desc).unwrap();
    d.wr(ATQT, 2);
    assert_eq!(d.rd(ATQH), 2);
    assert!(d.recv().is_none());
    let v = d.sim.take_violations();
    assert_eq!(v.len(), 1, "{v:#?}");
    assert_eq!(v[0].kind, ViolationKind::AqDescriptor);
}

#[test]
fn unknown_opcode_and_state_gates() {
    let mut d = Drv::new(two_vfs(), 0);
    d.init_aq();
    d.version(1, 1);
    assert_eq!(
        d.call(44, &[]).retval,
        -64,
        "unknown opcode: NOT_SUPPORTED in the default mode"
    );
    let m = d.irq_map_msg(&[(0, 0, 0, 0, 0)]);
    assert_eq!(
        d.call(OP_CONFIG_IRQ_MAP, &m).retval,
        -5,
        "before GET_VF_RESOURCES"
    );
    let kinds: Vec<_> = d.sim.take_violations().iter().map(|v| v.kind).collect();
    assert_eq!(
        kinds,
        vec![
            ViolationKind::VirtchnlUnsupported,
            ViolationKind::VirtchnlState
        ]
    );
    assert!(d.sim.events().iter().any(|e| matches!(
        e,
        PfEvent::Refused {
            opcode: 7,
            status: -5,
            ..
        }
    )));
}

#[test]
fn errno_retval_style() {
    let opts = SimOptions {
        retval: ravf_sim::RetvalStyle::Errno,
        ..strict()
    };
    let mut d = Drv::new(Sim::new(IovConfig::with_vfs(1), opts), 0);
    d.init_aq();
    d.version(1, 1);
    assert_eq!(d.call(OP_GET_VF_RESOURCES, &[0; 3]).retval, -22);
}

#[test]
fn no_dma_without_bus_mastering() {
    let mut d = Drv::new(two_vfs(), 0);
    d.init_aq();
    d.sim.cfg_write(0, 0x04, 2, 0x0002); // BusMaster off
    d.send(OP_VERSION, &[1, 0, 0, 0, 1, 0, 0, 0]);
    assert_eq!(d.rd(ATQH), 0, "the ATQ is not fetched");
    let v = d.sim.take_violations();
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].kind, ViolationKind::DmaFault);
    d.sim.cfg_write(0, 0x04, 2, 0x0006);
    d.wr(ATQT, 1); // the driver rings again
    assert_eq!(d.rd(ATQH), 1);
    assert_eq!(d.recv().unwrap().op, OP_VERSION);
    // FLR clears Command: DMA stops until the driver re-enables bus mastering.
    d.sim.flr(0);
    assert_eq!(d.sim.cfg_read(0, 0x04, 2) & 0x4, 0);
}

/// A driver that has not noticed a PF-initiated reset yet (Linux iavf until its
/// watchdog runs) keeps ringing the ATQ and the old TX ring. The hardware ignores
/// the ATQ doorbell, and the new queue context after the reset starts empty: neither
/// may be charged to the driver, and the stale TX tail must not make the engine fetch
/// the new, zeroed ring (which would be an MDD event).
#[test]
fn writes_before_the_driver_notices_a_reset_are_not_violations() {
    let mut d = Drv::new(two_vfs(), 0);
    d.bring_up(CAPS_FBSD);
    let _ = queues_up(&mut d);
    d.drain();
    d.sim.pf_reset_vf(0);
    d.wait_pf_reset();
    // Still unaware: a doorbell on the (now disabled) ATQ, and a TX tail write.
    d.wr(ATQT, 1);
    d.wr(0x0000, 5); // QTX_TAIL1(0)
    assert!(
        d.sim.violations().is_empty(),
        "pre-notice writes: {:#?}",
        d.sim.violations()
    );
    // The driver notices, re-initialises and brings the queues up on fresh rings.
    d.init_aq();
    let r = d.call(OP_GET_VF_RESOURCES, &CAPS_FBSD.to_le_bytes());
    assert_eq!(r.retval, 0);
    d.drain();
    let _ = queues_up(&mut d);
    assert_eq!(d.sim.counters(0).mdd, 0, "{:#?}", d.sim.events());
    assert!(d.sim.violations().is_empty(), "{:#?}", d.sim.violations());
    // Once the driver has re-enabled its ATQ, a doorbell on a disabled ring is the
    // driver's fault again.
    d.wr(ATQLEN, 0);
    d.wr(ATQT, 3);
    assert_eq!(d.sim.violations().len(), 1, "{:#?}", d.sim.violations());
}
