//! Each virtchnl request the driver makes, refused by the PF with an error status:
//! the driver must fail or degrade with a named error, never panic, and never break
//! the contract (zero violations).

mod common;

use common::*;
use ravf_sim::virtchnl as vc;

/// Opcodes ravf sends during attach and init.
const OPS: &[u32] = &[
    vc::OP_VERSION,
    vc::OP_GET_VF_RESOURCES,
    vc::OP_CONFIG_VSI_QUEUES,
    vc::OP_CONFIG_IRQ_MAP,
    vc::OP_ENABLE_QUEUES,
    vc::OP_ADD_ETH_ADDR,
    vc::OP_CONFIG_PROMISCUOUS_MODE,
    vc::OP_GET_RSS_HENA_CAPS,
    vc::OP_SET_RSS_HENA,
    vc::OP_CONFIG_RSS_KEY,
    vc::OP_CONFIG_RSS_LUT,
];

/// virtchnl.h: VIRTCHNL_STATUS_ERR_PARAM = -5, ERR_NOT_SUPPORTED = -64.
const STATUSES: &[i32] = &[-5, -64];

#[test]
fn every_init_request_refused() {
    let mut exercised = 0;
    for &op in OPS {
        for &status in STATUSES {
            let mut m = machine(GUIDE);
            emu::sim(&m).faults().refuse(Some(0), op, 1, status);
            let r = m.attach(0);
            m.run_until_idle();
            let name = vc::op_name(op)
                .trim_start_matches("VIRTCHNL_OP_")
                .to_lowercase();
            let refused = events(&m).iter().any(
                |e| matches!(e, ravf_sim::PfEvent::Refused { vf: 0, opcode, .. } if *opcode == op),
            );
            if !refused {
                // The driver did not send this one in this configuration; nothing to check.
                assert_clean(&m);
                continue;
            }
            exercised += 1;
            let w = warnings(&m);
            let named = w
                .iter()
                .any(|l| l.contains(&name) || l.contains(&name.replace('_', " ")));
            assert!(
                named,
                "{} refused ({status}): no warning naming it (attach {r:?})\n{}",
                vc::op_name(op),
                dump(&m)
            );
            assert_clean(&m);
        }
    }
    // Every request on the list is sent during attach and init, so each refusal
    // must have been exercised.
    assert_eq!(exercised, OPS.len() * STATUSES.len());
}

use ravf_harness::emu;
