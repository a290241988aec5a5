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

#[test]
fn whole_pf_reset_recovers_both_vfs() {
    let mut m = machine(GUIDE);
    up_all(&mut m);
    let (mut a, mut b) = hosts(&m);
    assert!(ping(&mut m, &mut a, &mut b, 1));
    emu::sim(&m).pf_reset();
    assert!(
        m.run_until(2_000_000_000, |m| !m.link_up(0) && !m.link_up(1)),
        "{}",
        dump(&m)
    );
    assert!(
        m.run_until(30_000_000_000, |m| (0..2)
            .all(|vf| m.link_up(vf) && m.running(vf))),
        "both VFs must recover\n{}",
        dump(&m)
    );
    assert!(ping(&mut m, &mut a, &mut b, 2), "{}", dump(&m));
    assert!(
        m.sysctl_u64(0, "recoveries").unwrap_or(0) >= 1,
        "recoveries counted"
    );
    assert_clean(&m);
}

#[test]
fn trust_change_resets_the_vf_and_promiscuous_is_replayed() {
    let mut m = machine(GUIDE);
    up_all(&mut m);
    assert_eq!(m.set_promisc(0, true), 0);
    m.run_until_idle();
    assert!(
        !emu::sim(&m).pf_state(0).unwrap().uc_promisc,
        "untrusted: not applied"
    );
    // `ip link set ... trust on`: i40e resets the VF; ravf recovers and replays its
    // state, and the promiscuous request now takes effect.
    emu::sim(&m).set_trust(0, true);
    assert!(
        m.run_until(30_000_000_000, |m| {
            m.link_up(0) && m.running(0) && emu::sim(m).pf_state(0).unwrap().uc_promisc
        }),
        "promiscuous mode replayed after the trust change\n{}",
        dump(&m)
    );
    let (mut a, mut b) = hosts(&m);
    assert!(ping(&mut m, &mut a, &mut b, 1), "{}", dump(&m));
    assert_clean(&m);
}

#[test]
fn resets_under_continuous_bidirectional_traffic() {
    let mut m = machine(GUIDE);
    up_all(&mut m);
    let (mut a, mut b) = hosts(&m);
    let t0 = m.now_ns();
    // Two PF-initiated resets of VF1 and one of VF0 while both send continuously.
    {
        let mut s = emu::sim(&m);
        s.faults().reset_at(1, t0 + 3_000_000);
        s.faults().reset_at(0, t0 + 40_000_000);
        s.faults().reset_at(1, t0 + 90_000_000);
    }
    let f01 = ravf_harness::pkt::ether(b.mac, a.mac, None, 0x88b5, &[1u8; 700]);
    let f10 = ravf_harness::pkt::ether(a.mac, b.mac, None, 0x88b5, &[2u8; 300]);
    let batch: Vec<(&[u8], ravf_harness::Offload)> =
        (0..16).map(|_| (&f01[..], Default::default())).collect();
    let back: Vec<(&[u8], ravf_harness::Offload)> =
        (0..8).map(|_| (&f10[..], Default::default())).collect();
    let mut sent = 0;
    while m.now_ns() < t0 + 200_000_000 {
        for (vf, pkts) in [(0usize, &batch), (1, &back)] {
            for q in 0..4 {
                if let Ok(n) = m.send_batch(vf, q, pkts, &Default::default()) {
                    sent += n;
                }
            }
        }
        m.run_for(200_000);
        a.poll(&mut m);
        b.poll(&mut m);
    }
    // Recovery backs off (250 ms, 1 s, ...): give it virtual time.
    assert!(
        m.run_until(30_000_000_000, |m| (0..2)
            .all(|vf| m.link_up(vf) && m.running(vf))),
        "both VFs must recover\n{}",
        dump(&m)
    );
    settle(&mut m, &mut [&mut a, &mut b]);
    assert!(sent > 10_000, "sent {sent}");
    assert!(ping(&mut m, &mut a, &mut b, 1), "{}", dump(&m));
    // After recovery, a burst each way arrives complete.
    let (a0, b0) = (a.frames, b.frames);
    let mut n01 = 0;
    let mut n10 = 0;
    for _ in 0..10 {
        n01 += m.send_batch(0, 1, &batch, &Default::default()).unwrap();
        n10 += m.send_batch(1, 2, &back, &Default::default()).unwrap();
        settle(&mut m, &mut [&mut a, &mut b]);
    }
    assert_eq!(
        (b.frames - b0, a.frames - a0),
        (n01 as u64, n10 as u64),
        "{}",
        dump(&m)
    );
    assert_clean(&m);
}
