//! The full bring-up through the stand-in for iflib: attach_pre .. attach_post, init,
//! link, first traffic, media, counters, stop and detach.

mod common;

use common::*;
use ravf_harness::emu;
use ravf_sim::virtchnl as vc;
use ravf_sys::*;

#[test]
fn guide_config_bring_up_traffic_and_detach() {
    let mut m = machine(GUIDE);
    up_all(&mut m);
    for vf in 0..2 {
        // The administrator's MAC from iovctl.conf, as ether_ifattach saw it.
        assert_eq!(
            m.lladdr(vf).unwrap(),
            [0xaa, 0x88, 0x44, 0x00, 0x02, vf as u8]
        );
        let (state, baud) = m.link(vf);
        assert_eq!(state, LINK_STATE_UP);
        assert_eq!(baud, 10_000_000_000, "emulated PF reports 10G");
        let s = m.scctx(vf).unwrap();
        // 4 queue pairs granted (5 vectors), mp_ncpus 4: 4 queues and 5 vectors.
        assert_eq!(s.isc_nrxqsets, 4);
        assert_eq!(s.isc_ntxqsets, 4);
        assert_eq!(s.isc_vectors, 5);
        assert_eq!(s.isc_ntxd[0], 1024);
        assert!(s.isc_txqsizes[0] >= 1024 * 16);
        assert_eq!(s.isc_rxqsizes[0], 1024 * 32, "32-byte RX descriptors");
        assert!(s.isc_capenable & IFCAP_TSO4 != 0 && s.isc_capenable & IFCAP_RXCSUM != 0);
        for op in [
            vc::OP_VERSION,
            vc::OP_GET_VF_RESOURCES,
            vc::OP_CONFIG_VSI_QUEUES,
            vc::OP_CONFIG_IRQ_MAP,
            vc::OP_ENABLE_QUEUES,
        ] {
            assert!(
                sent(&m, vf, op),
                "VF{vf}: no {} exchange\n{}",
                vc::op_name(op),
                dump(&m)
            );
        }
        // MSI-X: vector 0 admin plus one per queue, programmed and unmasked.
        assert!(emu::sim(&m).msix_message(vf, 0).is_some());
    }
    // CONFIG_VSI_QUEUES carried iflib's rings and buffer size, queue by queue.
    for vf in 0..2 {
        let (tx, rx) = m.ring_addrs(vf);
        let s = emu::sim(&m);
        let pf = s.pf_state(vf).unwrap();
        for q in 0..4 {
            let c = pf.qcfg[q].unwrap_or_else(|| panic!("VF{vf} queue {q} not configured"));
            assert_eq!((c.tx_ring, c.tx_len), (tx[q], 1024), "VF{vf} TX queue {q}");
            assert_eq!((c.rx_ring, c.rx_len), (rx[q], 1024), "VF{vf} RX queue {q}");
            assert_eq!(c.rx_buf, m.rx_buf_size(vf), "VF{vf} RX buffer size");
            assert!(c.rx_max_pkt >= 1518, "VF{vf} max packet {}", c.rx_max_pkt);
        }
    }
    let (mut a, mut b) = hosts(&m);
    for seq in 1..=3 {
        assert!(
            ping(&mut m, &mut a, &mut b, seq),
            "ping {seq}\n{}",
            dump(&m)
        );
    }
    assert!(
        a.errors.is_empty() && b.errors.is_empty(),
        "{:?} {:?}",
        a.errors,
        b.errors
    );

    // media_status: active, Ethernet, a subtype for 10G.
    let md = m.media_status(0).unwrap();
    assert!(
        md.status & IFM_AVALID != 0 && md.status & IFM_ACTIVE != 0,
        "{md:?}"
    );
    assert!(md.active & IFM_ETHER != 0);
    assert!(md.active & IFM_FDX != 0);

    // Counters: the driver reports at least what iflib counted.
    m.run_for(1_200_000_000); // two timer ticks: GET_STATS
    assert!(
        m.get_counter(0, IFCOUNTER_OPACKETS) >= 3,
        "{}",
        m.get_counter(0, IFCOUNTER_OPACKETS)
    );
    assert!(m.get_counter(1, IFCOUNTER_IPACKETS) >= 3);

    // Down, up, traffic again; then detach both.
    m.down(0);
    assert!(!m.running(0));
    m.up(0);
    assert!(m.run_until(2_000_000_000, |m| m.link_up(0)));
    assert!(
        ping(&mut m, &mut a, &mut b, 9),
        "ping after down/up\n{}",
        dump(&m)
    );
    for vf in 0..2 {
        assert_eq!(m.detach(vf), 0);
    }
    m.run_until_idle();
    assert_clean(&m);
}

#[test]
fn handshake_is_bounded_and_in_order() {
    let mut m = machine(GUIDE);
    m.attach(0).unwrap();
    m.run_until_idle();
    // VERSION first, GET_VF_RESOURCES before any configuration, ENABLE_QUEUES last
    // of the init exchanges.
    let ops: Vec<u32> = events(&m)
        .iter()
        .filter_map(|e| match e {
            ravf_sim::PfEvent::Sent { vf: 0, opcode, .. } if *opcode != vc::OP_EVENT => {
                Some(*opcode)
            }
            _ => None,
        })
        .collect();
    let pos = |op| {
        ops.iter()
            .position(|&o| o == op)
            .unwrap_or_else(|| panic!("no {} in {ops:?}", vc::op_name(op)))
    };
    assert_eq!(ops[0], vc::OP_VERSION, "{ops:?}");
    assert!(pos(vc::OP_GET_VF_RESOURCES) < pos(vc::OP_CONFIG_VSI_QUEUES));
    assert!(pos(vc::OP_CONFIG_VSI_QUEUES) < pos(vc::OP_ENABLE_QUEUES));
    assert!(pos(vc::OP_CONFIG_IRQ_MAP) < pos(vc::OP_ENABLE_QUEUES));
    assert!(
        ops.len() < 40,
        "too many round trips to bring the link up: {ops:?}"
    );
    assert_clean(&m);
}

#[test]
fn bad_config_is_reported_with_its_line() {
    let e = emu::machine_from_config(
        "PF { device : \"ixl0\"; num_vfs : 2; }\nVF-7 { mac-addr : \"aa:88:44:00:02:00\"; }\n",
        Default::default(),
    )
    .err()
    .expect("VF-7 with num_vfs 2 must be refused");
    assert_eq!(e.line, 2, "{e}");
}

#[test]
fn ring_size_tunables_and_ring_wrap() {
    // dev.ravf.N.iflib.override_ntxds/nrxds: powers of two in 64..4096 are taken,
    // anything else falls back to the default 1024 (iflib_reset_qvalues).
    for (ntxd, nrxd, want_t, want_r) in [
        (64, 64, 64, 64),
        (4096, 512, 4096, 512),
        (100, 3000, 1024, 1024),
    ] {
        let opts = ravf_harness::Options {
            ntxd: Some(ntxd),
            nrxd: Some(nrxd),
            ..Default::default()
        };
        let mut m = machine_with(GUIDE, Default::default(), opts);
        up_all(&mut m);
        let s = m.scctx(0).unwrap();
        assert_eq!((s.isc_ntxd[0], s.isc_nrxd[0]), (want_t, want_r));
        // Clamp of iflib_device_register: tx_nsegments <= ntxd / 12.
        assert!(s.isc_tx_nsegments <= (want_t / 12).max(1));
        let (mut a, mut b) = hosts(&m);
        // More packets than either ring holds: indexes wrap several times.
        for seq in 1..=(3 * want_t.max(want_r) as u16 / 8).max(40) {
            assert!(
                ping(&mut m, &mut a, &mut b, seq),
                "ring {ntxd}/{nrxd}: ping {seq}\n{}",
                dump(&m)
            );
        }
        assert_clean(&m);
    }
}

/// Attach both VFs; then either both came up (link, traffic) or attach failed with a
/// message. Never a violation.
fn attach_under_faults(m: &mut ravf_harness::Machine, what: &str) -> bool {
    let r0 = m.attach(0);
    let r1 = m.attach(1);
    let up =
        r0.is_ok() && r1.is_ok() && m.run_until(60_000_000_000, |m| m.link_up(0) && m.link_up(1));
    if up {
        let (mut a, mut b) = hosts(m);
        assert!(
            ping(m, &mut a, &mut b, 1),
            "{what}: no traffic\n{}",
            dump(m)
        );
    } else {
        assert!(
            !warnings(m).is_empty(),
            "{what}: attach failed without a message: {r0:?} {r1:?}\n{}",
            dump(m)
        );
    }
    assert_clean(m);
    up
}

#[test]
fn late_mailbox_replies_never_break_the_contract() {
    for seed in 1..=6u64 {
        let sopts = ravf_sim::SimOptions {
            seed,
            ..Default::default()
        };
        let mut m = machine_with(GUIDE, sopts, Default::default());
        // 30% of the replies late by up to 30 ms (virtual).
        emu::sim(&m).faults().random_replies(0, 300_000, 30_000_000);
        assert!(
            attach_under_faults(&mut m, &format!("seed {seed}")),
            "late replies must not stop attach"
        );
    }
}

#[test]
fn each_dropped_init_reply_is_survived() {
    for op in [
        vc::OP_CONFIG_VSI_QUEUES,
        vc::OP_CONFIG_IRQ_MAP,
        vc::OP_ENABLE_QUEUES,
        vc::OP_ADD_ETH_ADDR,
        vc::OP_GET_RSS_HENA_CAPS,
        vc::OP_SET_RSS_HENA,
        vc::OP_CONFIG_RSS_KEY,
        vc::OP_CONFIG_RSS_LUT,
        vc::OP_CONFIG_PROMISCUOUS_MODE,
    ] {
        let mut m = machine(GUIDE);
        emu::sim(&m).faults().drop_reply(Some(0), op, 1);
        attach_under_faults(&mut m, vc::op_name(op));
    }
}

/// A dropped GET_VF_RESOURCES reply at attach: the PF answers it once per VF reset
/// (the emulator records a repeat without a reset as a VirtchnlState violation, hw-contract
/// 5.1), so the driver resets the VF (RESET_VF) before asking again.
#[test]
fn dropped_get_vf_resources_reply_is_survived() {
    let mut m = machine(GUIDE);
    emu::sim(&m)
        .faults()
        .drop_reply(Some(0), vc::OP_GET_VF_RESOURCES, 1);
    attach_under_faults(&mut m, "GET_VF_RESOURCES");
}

#[test]
fn media_change_is_refused_and_harmless() {
    let mut m = machine(GUIDE);
    up_all(&mut m);
    // A VF has no PHY: iavf's ifdi_media_change returns ENODEV.
    assert_ne!(m.media_change(0), 0);
    let (list, cur) = m.media_list(0);
    assert!(list.contains(&cur), "ifmedia_set of an added word");
    let (mut a, mut b) = hosts(&m);
    assert!(ping(&mut m, &mut a, &mut b, 1));
    assert_clean(&m);
}

#[test]
fn suspend_resume_and_shutdown() {
    let mut m = machine(GUIDE);
    up_all(&mut m);
    assert_eq!(m.suspend(0), 0);
    assert_eq!(m.resume(0), 0);
    assert!(
        m.run_until(2_000_000_000, |m| m.link_up(0) && m.running(0)),
        "{}",
        dump(&m)
    );
    let (mut a, mut b) = hosts(&m);
    assert!(
        ping(&mut m, &mut a, &mut b, 1),
        "traffic after resume\n{}",
        dump(&m)
    );
    assert_eq!(m.shutdown(1), 0);
    m.run_until_idle();
    assert_clean(&m);
}
