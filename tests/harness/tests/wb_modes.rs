//! TX completion in both modes: descriptor done (DD written back into RS'd
//! descriptors, the default) and head write-back (hw.ravf.enable_head_writeback=1).

mod common;

use common::*;
use ravf_harness::host::settle;
use ravf_harness::ifdi::TUNABLE_DEFAULTS;
use ravf_harness::{emu, Offload, Options, SegLayout};

fn run(head_wb: bool) {
    let opts = Options {
        tunables: ravf_harness::ifdi::RavfTunables {
            rt_enable_head_writeback: i32::from(head_wb),
            ..TUNABLE_DEFAULTS
        },
        ..Options::default()
    };
    let mut m = machine_with(GUIDE, Default::default(), opts);
    up_all(&mut m);
    {
        let s = emu::sim(&m);
        let q = s.pf_state(0).unwrap().qcfg[0].expect("queue 0 configured");
        assert_eq!(
            q.tx_headwb.is_some(),
            head_wb,
            "CONFIG_VSI_QUEUES head write-back setting"
        );
    }
    let (mut a, mut b) = hosts(&m);
    // Enough traffic to wrap the 1024-descriptor ring several times, with multi-
    // segment frames, so reclaim is exercised in both modes.
    let fr = ravf_harness::pkt::ether(b.mac, a.mac, None, 0x88b5, &[0x11u8; 1400]);
    for i in 0..3000 {
        let layout = if i % 3 == 0 {
            SegLayout::Chunks(500)
        } else {
            SegLayout::Contiguous
        };
        let mut tries = 0;
        while m.send_on(0, 0, &fr, Offload::NONE, &layout).is_err() {
            tries += 1;
            assert!(
                tries < 50,
                "TX stuck at packet {i} (head_wb {head_wb})\n{}",
                dump(&m)
            );
            m.run_until_idle();
            m.tx_reclaim(0);
        }
        if i % 64 == 0 {
            settle(&mut m, &mut [&mut a, &mut b]);
        }
    }
    settle(&mut m, &mut [&mut a, &mut b]);
    m.tx_reclaim(0);
    let st = m.tx_stats(0, 0);
    assert_eq!(st.packets, 3000);
    assert!(
        st.reclaimed > 3 * 1024,
        "descriptors reclaimed: {}",
        st.reclaimed
    );
    assert!(
        m.tx_in_use(0, 0) < 64,
        "descriptors left in use: {}",
        m.tx_in_use(0, 0)
    );
    assert_eq!(
        b.frames,
        3000,
        "frames received\n{}\n{}",
        emu::counters(&m, 0),
        emu::counters(&m, 1)
    );
    assert_clean(&m);
}

#[test]
fn descriptor_done_mode() {
    run(false);
}

#[test]
fn head_write_back_mode() {
    run(true);
}
