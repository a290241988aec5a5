//! The SimOptions variants of contract 9.4 (PF flavours, versions, default MAC,
//! RSTAT sequence, VSI id rotation) and MAC bookkeeping details.

mod common;
use common::*;

use ravf_sim::{DefaultMacMode, IovConfig, PfEvent, PfFlavor, Sim, SimOptions};

fn sim(opts: SimOptions) -> Sim {
    Sim::new(IovConfig::with_vfs(2), opts)
}

#[test]
fn out_of_tree_flavor_reply_is_36_bytes_with_max_mtu_0() {
    let mut d = Drv::new(
        sim(SimOptions {
            flavor: PfFlavor::OutOfTree,
            ..strict()
        }),
        0,
    );
    let r = d.bring_up(CAPS_FBSD);
    assert_eq!(r.data.len(), 36);
    assert_eq!(r16(&r.data, 6), 0, "max_mtu 0 (PF-OOT)");
    assert_eq!(r32(&r.data, 24), 6, "vsi_type");
}

#[test]
fn pf_version_1_0_mode() {
    let mut d = Drv::new(
        sim(SimOptions {
            pf_version_minor: 0,
            ..strict()
        }),
        0,
    );
    d.init_aq();
    let v = d.version(1, 1);
    assert_eq!(v.data, vec![1, 0, 0, 0, 0, 0, 0, 0], "a 1.0 PF answers 1.0");
    // A VF that follows the PF's answer sends no caps.
    let r = d.call(OP_GET_VF_RESOURCES, &[]);
    assert_eq!(r.retval, 0);
    assert_eq!(r32(&r.data, 8), 0x0001_0011);
}

#[test]
fn default_mac_modes() {
    let mut d = Drv::new(
        sim(SimOptions {
            default_mac: DefaultMacMode::AlwaysAssigned,
            ..strict()
        }),
        1,
    );
    let r = d.bring_up(CAPS_FBSD);
    let mac = &r.data[30..36];
    assert_ne!(mac, &[0u8; 6]);
    assert_eq!(mac[0] & 0x03, 0x02, "locally administered unicast");
    // The same seed gives the same MAC.
    let mut d2 = Drv::new(
        sim(SimOptions {
            default_mac: DefaultMacMode::AlwaysAssigned,
            ..strict()
        }),
        1,
    );
    let r2 = d2.bring_up(CAPS_FBSD);
    assert_eq!(&r2.data[30..36], mac);

    let cfg = IovConfig::parse(
        "PF { device: ixl0; num_vfs: 1; }\nVF-0 { mac-addr: \"02:00:00:00:00:07\"; }\n",
    )
    .unwrap();
    let opts = SimOptions {
        default_mac: DefaultMacMode::AlwaysZero,
        ..strict()
    };
    let mut d = Drv::new(Sim::new(cfg, opts), 0);
    let r = d.bring_up(CAPS_FBSD | 1 << 25);
    assert_eq!(&r.data[30..36], &[0u8; 6]);
}

#[test]
fn dpdk_style_rstat_sequence() {
    let mut d = Drv::new(
        sim(SimOptions {
            rstat_completed_step: true,
            ..strict()
        }),
        0,
    );
    d.bring_up(CAPS_FBSD);
    d.send(OP_RESET_VF, &[]);
    let mut seen = Vec::new();
    for _ in 0..100 {
        let v = d.rd(RSTAT);
        if seen.last() != Some(&v) {
            seen.push(v);
        }
        if v == 2 {
            break;
        }
        d.sim.advance(100_000);
    }
    assert_eq!(seen, vec![0xDEAD_BEEF, 0, 1, 2]);
}

#[test]
fn rotated_vsi_id_makes_the_old_one_invalid() {
    let mut d = Drv::new(
        sim(SimOptions {
            rotate_vsi_id: true,
            ..strict()
        }),
        0,
    );
    d.bring_up(CAPS_FBSD);
    let old = d.vsi;
    d.send(OP_RESET_VF, &[]);
    d.wait_reset();
    d.init_aq();
    let r = d.call(OP_GET_VF_RESOURCES, &CAPS_FBSD.to_le_bytes());
    let new = r16(&r.data, 20);
    assert_ne!(new, old);
    d.drain();
    let q = d.queue_select(0, 0); // still carries the old vsi_id
    assert_eq!(d.call(OP_GET_STATS, &q).retval, -5);
    d.vsi = new;
    let q = d.queue_select(0, 0);
    assert_eq!(d.call(OP_GET_STATS, &q).retval, 0);
}

#[test]
fn primary_and_legacy_default_mac_bookkeeping() {
    let mut d = Drv::new(sim(strict()), 0);
    d.bring_up(CAPS_FBSD);
    d.drain();
    assert_eq!(
        d.sim.pf_state(0).unwrap().default_mac,
        [0; 6],
        "zero-MAC rule"
    );
    let a = [0x02, 0xa, 0, 0, 0, 1];
    let b = [0x02, 0xb, 0, 0, 0, 2];
    let c = [0x02, 0xc, 0, 0, 0, 3];
    assert_eq!(d.call(OP_ADD_ETH_ADDR, &d.mac_list(&[(a, 0)])).retval, 0);
    assert_eq!(
        d.sim.pf_state(0).unwrap().default_mac,
        a,
        "LEGACY becomes default when it was zero"
    );
    assert_eq!(d.call(OP_ADD_ETH_ADDR, &d.mac_list(&[(b, 0)])).retval, 0);
    assert_eq!(
        d.sim.pf_state(0).unwrap().default_mac,
        a,
        "LEGACY does not replace a default"
    );
    assert_eq!(d.call(OP_ADD_ETH_ADDR, &d.mac_list(&[(c, 2)])).retval, 0);
    assert_eq!(d.sim.pf_state(0).unwrap().default_mac, a, "EXTRA never");
    assert_eq!(d.call(OP_ADD_ETH_ADDR, &d.mac_list(&[(b, 1)])).retval, 0);
    assert_eq!(d.sim.pf_state(0).unwrap().default_mac, b, "PRIMARY always");
    assert_eq!(d.call(OP_DEL_ETH_ADDR, &d.mac_list(&[(b, 1)])).retval, 0);
    assert_eq!(
        d.sim.pf_state(0).unwrap().default_mac,
        [0; 6],
        "deleting the default zeroes it"
    );
    // A whole list fails if one element is bad, and nothing is added.
    let n = d.sim.pf_state(0).unwrap().macs.len();
    let m = d.mac_list(&[([0x02, 0xd, 0, 0, 0, 4], 2), ([0; 6], 2)]);
    assert_eq!(d.call(OP_ADD_ETH_ADDR, &m).retval, -5);
    assert_eq!(d.sim.pf_state(0).unwrap().macs.len(), n);
}

#[test]
fn trusted_vf_has_the_larger_mac_limit() {
    let cfg =
        IovConfig::parse("PF { device: ixl0; num_vfs: 2; }\nDEFAULT { allow-promisc: true; }\n")
            .unwrap();
    let mut d = Drv::new(Sim::new(cfg, strict()), 0);
    d.bring_up(CAPS_FBSD);
    d.drain();
    let macs: Vec<_> = (0..40u8).map(|i| ([0x01, 0, 0x5e, 0, 1, i], 2)).collect();
    assert_eq!(
        d.call(OP_ADD_ETH_ADDR, &d.mac_list(&macs)).retval,
        0,
        "(1536 - 2*18)/2 + 18 = 768 for a trusted VF"
    );
}

#[test]
fn random_reply_faults_are_reproducible_from_the_seed() {
    fn run(seed: u64) -> Vec<bool> {
        let mut d = Drv::new(sim(SimOptions { seed, ..strict() }), 0);
        d.sim.faults().random_replies(300_000, 0, 0);
        d.bring_up(CAPS_FBSD);
        d.drain();
        let q = d.queue_select(0, 0);
        (0..30)
            .map(|_| {
                d.send(OP_GET_STATS, &q);
                d.recv().is_some()
            })
            .collect()
    }
    let a = run(7);
    assert_eq!(a, run(7));
    assert!(a.iter().any(|x| !x) && a.iter().any(|x| *x), "{a:?}");
    assert_ne!(a, run(8));
}

#[test]
fn set_link_reaches_every_vf_with_an_enabled_arq() {
    let mut d = Drv::new(sim(strict()), 0);
    d.bring_up(CAPS_FBSD);
    d.drain();
    d.sim.set_link(true, 40_000);
    let m = d.recv().unwrap();
    assert_eq!(
        m.data[..9],
        [1, 0, 0, 0, 0x40, 0x9C, 0, 0, 1],
        "40000 Mbps, advanced"
    );
    // VF 1 never enabled its ARQ: the message is dropped, not queued.
    assert!(d.sim.events().iter().any(|e| matches!(
        e,
        PfEvent::Dropped {
            vf: 1,
            opcode: 17,
            ..
        }
    )));
}
