//! PF validation and policy (contract 4.6, 5.2-5.8), trust rules and the data path
//! through the VEB, driven as a VF driver would.

mod common;
use common::*;

use ravf_sim::mem::GuestMemory;
use ravf_sim::{IovConfig, PfEvent, PfFlavor, Sim, SimOptions, ViolationKind};

fn up(vf: usize, sim: Sim) -> Drv {
    let mut d = Drv::new(sim, vf);
    d.bring_up(CAPS_FBSD);
    d.drain();
    d
}

#[test]
fn exact_lengths_and_list_counts() {
    let mut d = up(0, two_vfs());
    // 4.6: ADD_ETH_ADDR with one entry is 20 bytes; the flex-array size 12 is refused.
    let mut m = d.mac_list(&[([0x02, 0, 0, 0, 0, 1], 0)]);
    assert_eq!(m.len(), 20);
    assert_eq!(d.call(OP_ADD_ETH_ADDR, &m[..12]).retval, -5);
    assert_eq!(d.call(OP_ADD_ETH_ADDR, &m).retval, 0);
    m[2] = 0; // num_elements 0
    assert_eq!(d.call(OP_ADD_ETH_ADDR, &m[..12]).retval, -5);
    // CONFIG_RSS_KEY: 5 + key_len.
    let mut k = vec![0u8; 57];
    w16(&mut k, 0, d.vsi);
    w16(&mut k, 2, 52);
    k[4] = 0x6d;
    assert_eq!(d.call(OP_RSS_KEY, &k).retval, 0);
    assert_eq!(d.sim.rss(0).unwrap().key[0], 0x6d);
    assert_eq!(d.call(OP_RSS_KEY, &k[..56]).retval, -5);
    // CONFIG_RSS_LUT: 5 + entries, each < num_queue_pairs (4).
    let mut l = vec![0u8; 69];
    w16(&mut l, 0, d.vsi);
    w16(&mut l, 2, 64);
    for i in 0..64 {
        l[4 + i] = (i % 4) as u8;
    }
    assert_eq!(d.call(OP_RSS_LUT, &l).retval, 0);
    l[10] = 4;
    assert_eq!(
        d.call(OP_RSS_LUT, &l).retval,
        -5,
        "entry beyond the queue pairs"
    );
    let v = d.sim.take_violations();
    assert_eq!(v.len(), 4, "{v:#?}");
    assert!(v.iter().all(|x| x.kind == ViolationKind::VirtchnlFormat));
}

#[test]
fn wrong_vsi_id_is_refused() {
    let mut d = up(0, two_vfs());
    let mut m = d.queue_select(1, 1);
    w16(&mut m, 0, d.vsi + 1);
    assert_eq!(d.call(OP_GET_STATS, &m).retval, -5);
    assert_eq!(
        d.sim.take_violations()[0].kind,
        ViolationKind::VirtchnlFormat
    );
}

#[test]
fn mac_filter_limit_and_pf_set_mac() {
    let mut d = up(0, two_vfs());
    // Untrusted: 18 filters including broadcast (5.5). Broadcast is there already.
    let macs: Vec<_> = (0..17u8).map(|i| ([0x01, 0, 0x5e, 0, 0, i], 2)).collect();
    let m = d.mac_list(&macs);
    assert_eq!(d.call(OP_ADD_ETH_ADDR, &m).retval, 0, "1 + 17 = 18");
    let m = d.mac_list(&[([0x01, 0, 0x5e, 0, 1, 0], 2)]);
    assert_eq!(d.call(OP_ADD_ETH_ADDR, &m).retval, -1, "19th: -EPERM");
    assert!(
        d.sim.violations().is_empty(),
        "a policy refusal is not a violation"
    );
    // Re-adding present addresses is fine.
    let m = d.mac_list(&[([0x01, 0, 0x5e, 0, 0, 3], 2)]);
    assert_eq!(d.call(OP_ADD_ETH_ADDR, &m).retval, 0);
    // Broadcast / zero are invalid.
    let m = d.mac_list(&[([0xFF; 6], 0)]);
    assert_eq!(d.call(OP_ADD_ETH_ADDR, &m).retval, -5);
    // Deleting an address that is not there.
    let m = d.mac_list(&[([0x02, 9, 9, 9, 9, 9], 0)]);
    assert_eq!(d.call(OP_DEL_ETH_ADDR, &m).retval, -5);

    // pf_set_mac: admin MAC without allow-set-mac.
    let cfg = IovConfig::parse(
        "PF { device: ixl0; num_vfs: 1; }\nVF-0 { mac-addr: \"aa:88:44:00:02:00\"; }\n",
    )
    .unwrap();
    let mut d = up(0, Sim::new(cfg, strict()));
    let other = d.mac_list(&[([0x02, 1, 2, 3, 4, 5], 1)]);
    assert_eq!(
        d.call(OP_ADD_ETH_ADDR, &other).retval,
        -1,
        "unicast change refused with -EPERM"
    );
    let same = d.mac_list(&[([0xaa, 0x88, 0x44, 0x00, 0x02, 0x00], 1)]);
    assert_eq!(
        d.call(OP_ADD_ETH_ADDR, &same).retval,
        0,
        "re-adding the admin MAC is fine"
    );
    assert_eq!(
        d.call(OP_DEL_ETH_ADDR, &same).retval,
        0,
        "deleting it is silently skipped"
    );
    assert!(d
        .sim
        .pf_state(0)
        .unwrap()
        .macs
        .contains(&[0xaa, 0x88, 0x44, 0x00, 0x02, 0x00]));
    let mc = d.mac_list(&[([0x33, 0x33, 0, 0, 0, 1], 2)]);
    assert_eq!(
        d.call(OP_ADD_ETH_ADDR, &mc).retval,
        0,
        "multicast is allowed"
    );
    assert!(d.sim.events().iter().any(|e| matches!(
        e,
        PfEvent::Refused {
            opcode: 10,
            status: -1,
            ..
        }
    )));
}

#[test]
fn promisc_is_a_lie_for_untrusted_vfs() {
    let mut d = up(0, two_vfs());
    let mut p = vec![0u8; 4];
    w16(&mut p, 0, d.vsi);
    w16(&mut p, 2, 3);
    assert_eq!(d.call(OP_PROMISC, &p).retval, 0);
    assert!(!d.sim.pf_state(0).unwrap().uc_promisc);
    assert!(d
        .sim
        .events()
        .iter()
        .any(|e| matches!(e, PfEvent::Ignored { opcode: 14, .. })));
    w16(&mut p, 2, 4);
    assert_eq!(d.call(OP_PROMISC, &p).retval, -5, "flags > 3");
    // Trust resets the VF (i40e), after which promisc takes effect.
    d.sim.set_trust(0, true);
    d.wait_pf_reset();
    d.init_aq();
    let r = d.call(OP_GET_VF_RESOURCES, &CAPS_FBSD.to_le_bytes());
    assert_eq!(r.retval, 0);
    d.vsi = r16(&r.data, 20);
    w16(&mut p, 0, d.vsi);
    w16(&mut p, 2, 1);
    assert_eq!(d.call(OP_PROMISC, &p).retval, 0);
    assert!(d.sim.pf_state(0).unwrap().uc_promisc);
}

#[test]
fn vlan_limit_upstream_and_oot() {
    let mut d = up(0, two_vfs());
    let ids: Vec<u16> = (1..=16).collect();
    let m = d.vlan_list(&ids);
    assert_eq!(d.call(OP_ADD_VLAN, &m).retval, 0);
    let m = d.vlan_list(&[17]);
    assert_eq!(d.call(OP_ADD_VLAN, &m).retval, 0, "PF-UP: SUCCESS");
    assert!(
        !d.sim.pf_state(0).unwrap().vlans.contains(&17),
        "... and nothing added"
    );
    let m = d.vlan_list(&[4096]);
    assert_eq!(d.call(OP_ADD_VLAN, &m).retval, -5);
    let m = d.vlan_list(&[99]);
    assert_eq!(
        d.call(OP_DEL_VLAN, &m).retval,
        0,
        "deleting an absent VLAN is a no-op"
    );

    let opts = SimOptions {
        flavor: PfFlavor::OutOfTree,
        ..strict()
    };
    let mut d = up(0, Sim::new(IovConfig::with_vfs(1), opts));
    let ids: Vec<u16> = (1..=17).collect();
    let m = d.vlan_list(&ids);
    assert_eq!(d.call(OP_ADD_VLAN, &m).retval, -5, "PF-OOT: ERR_PARAM");
    assert_eq!(
        d.sim.pf_state(0).unwrap().vlans.len(),
        16,
        "earlier elements stay"
    );

    // No VLAN cap granted: refused.
    let mut d = Drv::new(two_vfs(), 1);
    d.bring_up(0x0008_0001);
    d.drain();
    let m = d.vlan_list(&[5]);
    assert_eq!(d.call(OP_ADD_VLAN, &m).retval, -5);
    // Every VLAN op needs the cap: DEL_VLAN and the stripping toggles too (5.6).
    assert_eq!(d.call(OP_DEL_VLAN, &m).retval, -5);
    assert_eq!(d.call(OP_DIS_STRIP, &[]).retval, -5);
    assert_eq!(d.call(OP_EN_STRIP, &[]).retval, -5);
    assert!(d.sim.pf_state(1).unwrap().vlan_strip, "stripping untouched");
    let v = d.sim.take_violations();
    assert_eq!(v.len(), 4, "{v:#?}");
    assert!(v
        .iter()
        .all(|x| x.kind == ViolationKind::VirtchnlUnsupported));
}

#[test]
fn config_vsi_queues_rules() {
    let mut d = up(0, two_vfs());
    let rings = [(0x10_0000u64, 0x20_0000u64); 4];
    let ok = d.vsi_queues_msg(1, &rings, 512, 2048);
    assert_eq!(ok.len(), 136);
    assert_eq!(d.call(OP_CONFIG_VSI_QUEUES, &ok).retval, 0);
    let mut bad = ok.clone();
    w16(&mut bad, 8 + 4, 500); // TX ring_len not a multiple of 8
    assert_eq!(d.call(OP_CONFIG_VSI_QUEUES, &bad).retval, -5);
    let mut bad = ok.clone();
    w32(&mut bad, 8 + 24 + 4, 8192); // RX ring_len > 8160
    assert_eq!(d.call(OP_CONFIG_VSI_QUEUES, &bad).retval, -5);
    let mut bad = ok.clone();
    w16(&mut bad, 8 + 2, 4); // queue 4 of 4 allocated
    w16(&mut bad, 8 + 24 + 2, 4);
    assert_eq!(d.call(OP_CONFIG_VSI_QUEUES, &bad).retval, -5);
    let mut bad = ok.clone();
    w16(&mut bad, 8 + 24 + 2, 1); // rxq id != txq id
    assert_eq!(d.call(OP_CONFIG_VSI_QUEUES, &bad).retval, -5);
    let mut bad = ok.clone();
    w32(&mut bad, 8 + 24 + 16, 63); // max_pkt_size < 64
    assert_eq!(d.call(OP_CONFIG_VSI_QUEUES, &bad).retval, -5);
    // ENABLE_QUEUES of a queue never configured.
    let m = d.queue_select(0b10, 0b10);
    assert_eq!(d.call(OP_ENABLE_QUEUES, &m).retval, -5);
    let m = d.queue_select(0b1, 0b1);
    assert_eq!(d.call(OP_ENABLE_QUEUES, &m).retval, 0);
    let ev = d.recv().expect("LINK_CHANGE after ENABLE_QUEUES");
    assert_eq!(ev.op, OP_EVENT);
    assert_eq!(d.call(OP_DISABLE_QUEUES, &m).retval, 0);
    assert_eq!(
        d.call(OP_ENABLE_QUEUES, &m).retval,
        -5,
        "must reconfigure after a disable"
    );
    assert_eq!(d.sim.take_violations().len(), 7);
}

#[test]
fn irq_map_rules() {
    let mut d = up(0, two_vfs());
    // FreeBSD style: queue i on vector i+1, rxitr 0, txitr 1, vector 0 last with empty maps.
    let m = d.irq_map_msg(&[(1, 1, 1, 0, 1), (2, 2, 2, 0, 1), (0, 0, 0, 0, 0)]);
    assert_eq!(m.len(), 14 + 36);
    assert_eq!(d.call(OP_CONFIG_IRQ_MAP, &m).retval, 0);
    let st = d.sim.pf_state(0).unwrap();
    assert_eq!(st.rx_irq[0], Some((1, 0)));
    assert_eq!(st.tx_irq[1], Some((2, 1)));
    let m = d.irq_map_msg(&[(5, 1, 1, 0, 1)]);
    assert_eq!(d.call(OP_CONFIG_IRQ_MAP, &m).retval, -5, "vector 5 of 5");
    let m = d.irq_map_msg(&[(1, 1 << 4, 0, 0, 1)]);
    assert_eq!(d.call(OP_CONFIG_IRQ_MAP, &m).retval, -5, "queue 4 of 4");
    let m = d.irq_map_msg(&[(1, 1, 1, 0, 1); 6]);
    assert_eq!(
        d.call(OP_CONFIG_IRQ_MAP, &m).retval,
        -5,
        "6 entries > 5 vectors"
    );
}

#[test]
fn request_queues_resets_or_answers() {
    let mut d = Drv::new(two_vfs(), 0);
    d.bring_up(CAPS_FBSD | 0x40);
    d.drain();
    assert_eq!(
        d.call(OP_REQUEST_QUEUES, &20u16.to_le_bytes()).data,
        16u16.to_le_bytes(),
        "> 16: the max"
    );
    d.send(OP_REQUEST_QUEUES, &8u16.to_le_bytes());
    let m = d.recv().expect("RESET_IMPENDING, no reply");
    assert_eq!((m.op, r32(&m.data, 0)), (OP_EVENT, 2));
    d.sim.advance(100_000);
    d.wait_reset();
    d.init_aq();
    let r = d.call(OP_GET_VF_RESOURCES, &CAPS_FBSD.to_le_bytes());
    assert_eq!(r16(&r.data, 2), 8, "the new queue count");
    assert!(d.sim.violations().is_empty(), "{:#?}", d.sim.violations());
}

#[test]
fn stats_hena_and_stripping() {
    let mut d = up(0, two_vfs());
    let r = d.call(OP_GET_HENA_CAPS, &[]);
    assert_eq!(r.data, 0x8000_7A1E_8000_0000u64.to_le_bytes());
    let h = 0x8000_0000_8000_0000u64;
    assert_eq!(d.call(OP_SET_HENA, &h.to_le_bytes()).retval, 0);
    assert_eq!(d.rd(0xC404), 0x8000_0000);
    assert_eq!(d.call(OP_DIS_STRIP, &[]).retval, 0);
    assert!(!d.sim.pf_state(0).unwrap().vlan_strip);
    let q = d.queue_select(0, 0);
    let s = d.call(OP_GET_STATS, &q);
    assert_eq!(s.data.len(), 96);
    assert!(s.data.iter().all(|&b| b == 0));
}

#[test]
fn disabled_vf_gets_no_reply() {
    let mut d = Drv::new(two_vfs(), 0);
    d.init_aq();
    d.sim.set_vf_disabled(0, true);
    d.send(OP_VERSION, &[1, 0, 0, 0, 1, 0, 0, 0]);
    assert!(d.recv().is_none());
    assert!(d
        .sim
        .events()
        .iter()
        .any(|e| matches!(e, PfEvent::Dropped { opcode: 1, .. })));
}

#[test]
fn fault_plan_drop_delay_duplicate_refuse() {
    let mut d = Drv::new(two_vfs(), 0);
    d.sim
        .faults()
        .drop_reply(Some(0), OP_VERSION, 1)
        .delay_reply(None, OP_VERSION, 2, 5_000);
    d.sim
        .faults()
        .duplicate_reply(None, OP_VERSION, 3)
        .refuse(None, OP_GET_VF_RESOURCES, 1, -53);
    d.init_aq();
    let v = [1, 0, 0, 0, 1, 0, 0, 0];
    d.send(OP_VERSION, &v);
    assert!(d.recv().is_none(), "dropped");
    d.send(OP_VERSION, &v);
    assert!(d.recv().is_none(), "delayed");
    d.sim.advance(5_000);
    assert_eq!(d.recv().unwrap().op, OP_VERSION);
    d.send(OP_VERSION, &v);
    assert_eq!(d.drain().len(), 2, "duplicated");
    assert_eq!(
        d.call(OP_GET_VF_RESOURCES, &CAPS_FBSD.to_le_bytes()).retval,
        -53
    );
    assert_eq!(
        d.call(OP_GET_VF_RESOURCES, &CAPS_FBSD.to_le_bytes()).retval,
        0,
        "only the 1st"
    );
}

#[test]
fn link_flap_and_timed_reset() {
    let mut d = up(0, two_vfs());
    d.sim.faults().link_flap_at(1_000, 500).reset_at(0, 10_000);
    d.sim.advance(1_200);
    let m = d.recv().unwrap();
    assert_eq!(
        &m.data[..12],
        &[1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        "link down, speed 0"
    );
    d.sim.advance(400);
    let m = d.recv().unwrap();
    assert_eq!(&m.data[4..9], &[0x10, 0x27, 0, 0, 1]);
    d.sim.advance(10_000);
    let m = d.recv().unwrap();
    assert_eq!(r32(&m.data, 0), 2, "RESET_IMPENDING");
    d.wait_pf_reset();
    assert_eq!(d.sim.counters(0).resets, 1);
}

// ---------------------------------------------------------------- data path

#[test]
fn vf_to_vf_through_the_veb_and_to_the_uplink() {
    let cfg = IovConfig::parse(include_str!("../../../examples/ixl0.conf")).unwrap();
    let sim = Sim::new(cfg, strict());
    let mut a = up(0, sim);
    let ra = queues_up(&mut a);
    // Move the Sim to VF1's driver (one Sim, two VFs).
    let mut b = Drv::new(a.sim, 1);
    b.bring_up(CAPS_FBSD);
    b.drain();
    let rb = queues_up(&mut b);
    let mac_a = [0xaa, 0x88, 0x44, 0x00, 0x02, 0x00];
    let mac_b = [0xaa, 0x88, 0x44, 0x00, 0x02, 0x01];
    let f = frame(mac_b, mac_a, 100);
    // VF0 transmits (through b.sim, which is the shared Sim).
    let mem_a = a.mem.clone();
    {
        let buf = mem_a.alloc(f.len(), 64).iova;
        mem_a.write(buf, &f).unwrap();
        let mut desc = [0u8; 16];
        w64(&mut desc, 0, buf);
        w64(&mut desc, 8, (0x7 << 4) | ((f.len() as u64) << 34));
        mem_a.write(ra.tx, &desc).unwrap();
        b.sim.bar_write(0, 0, 0x0000, 4, 1);
    }
    // TX write-back: DTYPE = 0xF (DESC_DONE) in the RS descriptor.
    let mut wb = [0u8; 16];
    mem_a.read(ra.tx, &mut wb).unwrap();
    assert_eq!(wb[8] & 0xF, 0xF, "DESC_DONE");
    assert_eq!(b.sim.take_irqs(0), 1 << 1, "VF0 TX cause on vector 1");
    // VF1 received it in descriptor 0.
    let mut rd = [0u8; 32];
    b.mem.read(rb.rx, &mut rd).unwrap();
    let qw1 = u64::from_le_bytes(rd[8..16].try_into().unwrap());
    assert_eq!(qw1 & 0x3, 0x3, "DD | EOF");
    assert_eq!((qw1 >> 38) & 0x3FFF, 100, "LENGTH_PBUF");
    let mut got = vec![0u8; 100];
    b.mem.read(rb.bufs[0], &mut got).unwrap();
    assert_eq!(got, f);
    assert_eq!(b.sim.take_irqs(1), 1 << 1, "VF1 RX cause on vector 1");
    let c0 = b.sim.counters(0);
    let c1 = b.sim.counters(1);
    assert_eq!((c0.tx_frames, c0.tx_bytes, c0.tx_unicast), (1, 100, 1));
    assert_eq!((c1.rx_frames, c1.rx_bytes, c1.rx_unicast), (1, 100, 1));
    assert!(
        b.sim.uplink_take().is_none(),
        "VF-to-VF unicast stays in the VEB"
    );
    // Unknown unicast goes out the uplink.
    let f2 = frame([0x02, 9, 9, 9, 9, 9], mac_a, 64);
    {
        let buf = mem_a.alloc(64, 64).iova;
        mem_a.write(buf, &f2).unwrap();
        let mut desc = [0u8; 16];
        w64(&mut desc, 0, buf);
        w64(&mut desc, 8, (0x7 << 4) | (64u64 << 34));
        mem_a.write(ra.tx + 16, &desc).unwrap();
        b.sim.bar_write(0, 0, 0x0000, 4, 2);
    }
    assert_eq!(b.sim.uplink_take(), Some(f2));
    // Spoofed source MAC: dropped and counted (mac-anti-spoof default on).
    let f3 = frame(mac_b, [0x02, 6, 6, 6, 6, 6], 64);
    {
        let buf = mem_a.alloc(64, 64).iova;
        mem_a.write(buf, &f3).unwrap();
        let mut desc = [0u8; 16];
        w64(&mut desc, 0, buf);
        w64(&mut desc, 8, (0x7 << 4) | (64u64 << 34));
        mem_a.write(ra.tx + 32, &desc).unwrap();
        b.sim.bar_write(0, 0, 0x0000, 4, 3);
    }
    assert_eq!(b.sim.counters(0).spoof_drops, 1);
    assert_eq!(b.sim.counters(1).rx_frames, 1);
    // From the uplink to VF1; then GET_STATS of VF1 counts 2 received.
    b.sim
        .uplink_inject(&frame(mac_b, [0x02, 7, 7, 7, 7, 7], 80));
    assert_eq!(b.sim.counters(1).rx_frames, 2);
    let q = b.queue_select(0, 0);
    let s = b.call(OP_GET_STATS, &q);
    assert_eq!(
        u64::from_le_bytes(s.data[0..8].try_into().unwrap()),
        180,
        "rx_bytes"
    );
    assert_eq!(
        u64::from_le_bytes(s.data[8..16].try_into().unwrap()),
        2,
        "rx_unicast"
    );
    assert!(b.sim.violations().is_empty(), "{:#?}", b.sim.violations());
}

#[test]
fn rx_without_posted_buffers_drops_and_counts() {
    let mut d = up(0, two_vfs());
    let r = queues_up(&mut d);
    let _ = r;
    d.wr(0x2000, 0); // tail = head: nothing posted
    d.sim
        .uplink_inject(&frame([0xFF; 6], [0x02, 1, 1, 1, 1, 1], 60));
    let c = d.sim.counters(0);
    assert_eq!((c.rx_frames, c.rx_no_desc), (0, 1));
}

#[test]
fn mdd_is_a_violation_and_stops_the_queue() {
    let mut d = up(0, two_vfs());
    let r = queues_up(&mut d);
    // A zero-size buffer: MDD ZERO_BSIZE.
    let mut desc = [0u8; 16];
    w64(&mut desc, 0, r.bufs[0]);
    w64(&mut desc, 8, 0x7 << 4);
    d.mem.write(r.tx, &desc).unwrap();
    d.wr(0x0000, 1);
    let v = d.sim.take_violations();
    assert!(v.iter().any(|x| x.kind == ViolationKind::Mdd), "{v:#?}");
    assert_eq!(d.sim.counters(0).mdd, 1);
    assert!(d.sim.events().iter().any(|e| matches!(
        e,
        PfEvent::Mdd {
            vf: 0,
            queue: 0,
            ..
        }
    )));
}
