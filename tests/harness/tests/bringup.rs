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
