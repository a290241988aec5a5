//! Faults from the PF side: a PF-initiated reset in the middle of traffic (the
//! driver recovers and replays its state, traffic resumes), link flaps, corrupt RX
//! write-backs.

mod common;

use common::*;
use ravf_harness::emu;
use ravf_harness::host::settle;
use ravf_sim::dp::RxCorruption;
use ravf_sys::*;

#[test]
fn pf_reset_mid_traffic_recovers_and_replays() {
    let mut m = machine(GUIDE);
    up_all(&mut m);
    for vf in 0..2 {
        m.vlan_register(vf, 42);
    }
    m.set_multicast(1, &[[0x01, 0x00, 0x5e, 0, 0, 7]]);
    let (mut a, mut b) = hosts(&m);
    assert!(ping(&mut m, &mut a, &mut b, 1));
    // Queue a burst, then reset VF1 while it is in flight.
    for seq in 100..110u16 {
        let echo = ravf_harness::pkt::icmp_echo(8, 7, seq, &[1; 32]);
        let ip = ravf_harness::pkt::ipv4(a.ip, b.ip, 1, seq, &echo);
        let fr = ravf_harness::pkt::ether(b.mac, a.mac, None, 0x0800, &ip);
        let _ = m.send(0, &fr, Default::default());
    }
    emu::sim(&m).pf_reset_vf(1);
    let went_down = m.run_until(2_000_000_000, |m| !m.link_up(1));
    assert!(
        went_down,
        "the driver must report link down during the reset\n{}",
        dump(&m)
    );
    let back = m.run_until(30_000_000_000, |m| m.link_up(1) && m.running(1));
    assert!(back, "VF1 did not recover from the PF reset\n{}", dump(&m));
    settle(&mut m, &mut [&mut a, &mut b]);
    // Replay: MAC, VLAN and multicast filters are back on the PF.
    {
        let s = emu::sim(&m);
        let pf = s.pf_state(1).unwrap();
        assert!(pf.macs.contains(&b.mac), "unicast MAC replayed");
        assert!(
            pf.macs.contains(&[0x01, 0x00, 0x5e, 0, 0, 7]),
            "multicast replayed"
        );
        assert!(pf.vlans.contains(&42), "VLAN replayed: {:?}", pf.vlans);
    }
    let ok = (2..8).filter(|&s| ping(&mut m, &mut a, &mut b, s)).count();
    assert!(
        ok >= 5,
        "traffic resumes after the reset ({ok}/6)\n{}",
        dump(&m)
    );
    assert_clean(&m);
}

#[test]
fn link_flap() {
    let mut m = machine(GUIDE);
    up_all(&mut m);
    emu::sim(&m).set_link(false, 10_000);
    assert!(
        m.run_until(2_000_000_000, |m| !m.link_up(0) && !m.link_up(1)),
        "link down not reported\n{}",
        dump(&m)
    );
    let (mut a, mut b) = hosts(&m);
    assert_eq!(
        m.send(0, &[0u8; 60], Default::default()),
        Err(ravf_harness::TxError::NetDown)
    );
    emu::sim(&m).set_link(true, 25_000);
    assert!(
        m.run_until(2_000_000_000, |m| m.link_up(0) && m.link_up(1)),
        "link up not reported\n{}",
        dump(&m)
    );
    assert_eq!(m.link(0).1, 25_000_000_000);
    let md = m.media_status(0).unwrap();
    assert!(md.status & IFM_ACTIVE != 0);
    assert!(ping(&mut m, &mut a, &mut b, 1), "{}", dump(&m));
    // A timed flap from the fault plan.
    let t = m.now_ns() + 1_000_000;
    emu::sim(&m).faults().link_flap_at(t, 50_000_000);
    m.run_for(20_000_000);
    assert!(!m.link_up(0), "{}", dump(&m));
    assert!(m.run_until(2_000_000_000, |m| m.link_up(0)));
    assert!(ping(&mut m, &mut a, &mut b, 2), "{}", dump(&m));
    assert_clean(&m);
}

#[test]
fn corrupt_rx_write_back_dropped_and_ring_keeps_working() {
    for how in [
        RxCorruption::Rxe,
        RxCorruption::LengthOverrun,
        RxCorruption::ZeroLength,
    ] {
        let mut m = machine(GUIDE);
        up_all(&mut m);
        let (mut a, mut b) = hosts(&m);
        assert!(ping(&mut m, &mut a, &mut b, 1));
        emu::sim(&m).faults().corrupt_rx(1, 1, how);
        // The request to VF1 arrives corrupt: dropped, no reply.
        assert!(
            !ping(&mut m, &mut a, &mut b, 2),
            "{how:?}: a corrupt frame must not be delivered"
        );
        // The ring keeps working, without an interface reset.
        for s in 3..40 {
            assert!(
                ping(&mut m, &mut a, &mut b, s),
                "{how:?}: ping {s} after the corrupt write-back\n{}",
                dump(&m)
            );
        }
        assert!(
            b.errors.is_empty(),
            "{how:?}: a corrupt frame reached the stack: {:?}",
            b.errors
        );
        let desc_err: u64 = (0..m.num_queues(1).1)
            .map(|q| {
                m.sysctl_u64(1, &format!("vsi.rxq{q:02}.desc_err"))
                    .unwrap_or(0)
            })
            .sum();
        assert!(
            desc_err >= 1 || m.get_counter(1, IFCOUNTER_IERRORS) >= 1,
            "{how:?}: the error is counted (desc_err {desc_err})"
        );
        assert_clean(&m);
    }
}
