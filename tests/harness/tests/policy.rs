//! PF policy meets the driver: a MAC change the PF refuses, promiscuous mode on an
//! untrusted VF, multicast lists beyond the filter limit.

mod common;

use common::*;
use ravf_sim::virtchnl as vc;
use ravf_sim::PfEvent;

const LOCKED: &str = r#"
PF { device : "ixl0"; num_vfs : 2; }
DEFAULT { allow-set-mac : false; }
VF-0 { mac-addr : "aa:88:44:00:02:00"; }
VF-1 { mac-addr : "aa:88:44:00:02:01"; allow-promisc : true; }
"#;

#[test]
fn mac_change_refused_by_policy() {
    let mut m = machine(LOCKED);
    up_all(&mut m);
    let new = [0x02, 0x11, 0x22, 0x33, 0x44, 0x55];
    m.set_lladdr(0, new);
    m.run_until_idle();
    let refused = events(&m).iter().any(
        |e| matches!(e, PfEvent::Refused { vf: 0, opcode, .. } if *opcode == vc::OP_ADD_ETH_ADDR),
    );
    assert!(
        refused,
        "the PF must refuse the new MAC (allow-set-mac false)\n{}",
        dump(&m)
    );
    let w = warnings(&m);
    assert!(
        w.iter()
            .any(|l| l.contains("mac") || l.contains("eth_addr") || l.contains("address")),
        "no clear report of the refusal\n{}",
        dump(&m)
    );
    // The VF keeps working with the administrator's address.
    assert!(m.run_until(2_000_000_000, |m| m.link_up(0)));
    let mut h = hosts(&m);
    h.0.mac = m.lladdr(0).unwrap();
    if h.0.mac == new {
        // The interface shows the new address but the PF only passes the old one;
        // traffic is not expected to work, but nothing may break.
        assert_clean(&m);
        return;
    }
    assert!(ping(&mut m, &mut h.0, &mut h.1, 1), "{}", dump(&m));
    assert_clean(&m);
}

#[test]
fn mac_change_allowed_when_policy_allows() {
    let mut m = machine(GUIDE);
    up_all(&mut m);
    let new = [0x02, 0x11, 0x22, 0x33, 0x44, 0x55];
    m.set_lladdr(0, new);
    m.run_until_idle();
    assert!(m.run_until(2_000_000_000, |m| m.link_up(0)));
    assert!(
        emu::sim(&m).pf_state(0).unwrap().macs.contains(&new),
        "new MAC not programmed\n{}",
        dump(&m)
    );
    let (mut a, mut b) = hosts(&m);
    a.mac = new;
    assert!(ping(&mut m, &mut a, &mut b, 1), "{}", dump(&m));
    assert_clean(&m);
}

#[test]
fn promiscuous_not_applied_for_untrusted_vf() {
    let mut m = machine(LOCKED);
    up_all(&mut m);
    let ev0 = events(&m).len();
    assert_eq!(m.set_promisc(0, true), 0);
    m.run_until_idle();
    let ev: Vec<PfEvent> = events(&m).into_iter().skip(ev0).collect();
    assert!(
        ev.iter().any(|e| matches!(e, PfEvent::Ignored { vf: 0, opcode, .. } if *opcode == vc::OP_CONFIG_PROMISCUOUS_MODE)),
        "the PF should ignore promiscuous mode for an untrusted VF\n{}",
        dump(&m)
    );
    assert!(!emu::sim(&m).pf_state(0).unwrap().uc_promisc);
    assert!(
        m.log()
            .iter()
            .any(|l| l.level <= 2 && l.text.to_lowercase().contains("promisc")),
        "the driver must report that an untrusted VF's promiscuous request may not apply\n{}",
        dump(&m)
    );
    // A trusted VF gets it.
    assert_eq!(m.set_promisc(1, true), 0);
    m.run_until_idle();
    assert!(
        emu::sim(&m).pf_state(1).unwrap().uc_promisc,
        "trusted VF-1 promiscuous\n{}",
        dump(&m)
    );
    assert_eq!(m.set_promisc(1, false), 0);
    m.run_until_idle();
    assert!(!emu::sim(&m).pf_state(1).unwrap().uc_promisc);
    assert_clean(&m);
}

fn groups(n: usize) -> Vec<[u8; 6]> {
    (0..n)
        .map(|i| [0x01, 0x00, 0x5e, 0x00, (i >> 8) as u8, i as u8])
        .collect()
}

#[test]
fn multicast_list_programmed_then_overflows_to_allmulti() {
    let mut m = machine(LOCKED);
    up_all(&mut m);
    // VF-1 is trusted (allow-promisc): a small list becomes filters ...
    m.set_multicast(1, &groups(4));
    m.run_until_idle();
    {
        let s = emu::sim(&m);
        let pf = s.pf_state(1).unwrap();
        for g in groups(4) {
            assert!(pf.macs.contains(&g), "group {g:02x?} not programmed");
        }
        assert!(!pf.mc_promisc);
    }
    // ... and a list beyond the filter limit becomes multicast promiscuous.
    m.set_multicast(1, &groups(100));
    m.run_until_idle();
    assert!(
        emu::sim(&m).pf_state(1).unwrap().mc_promisc,
        "overflow must turn on allmulti\n{}",
        dump(&m)
    );
    // Back to a short list: allmulti off again.
    m.set_multicast(1, &groups(2));
    m.run_until_idle();
    assert!(
        !emu::sim(&m).pf_state(1).unwrap().mc_promisc,
        "{}",
        dump(&m)
    );
    // Untrusted VF-0 overflowing: the driver asks, the PF ignores, nothing breaks.
    m.set_multicast(0, &groups(100));
    m.run_until_idle();
    assert_clean(&m);
}

use ravf_harness::emu;
