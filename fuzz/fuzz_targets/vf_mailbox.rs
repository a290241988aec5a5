//! `ravf::Vf` against a PF whose every answer the fuzzer chooses
//! (`ravf_fuzz::fakepf`): attach, then a sequence of control-plane calls, PF messages
//! (opcode, retval, datalen, payload, descriptor flags), device register glitches and
//! the passing of time, driven through `admin_task`, `timer` and `wait`; then detach.
//! No panic, no unbounded spinning (the fake panics past a fixed amount of BAR work),
//! no DMA access outside the admin-queue memory, and what the Vf reports stays inside
//! its documented bounds.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ravf::os::Os;
use ravf::vf::{QueueSetup, RxRingSetup, TxRingSetup};
use ravf::{wait, AttachConfig, Poll, Ticket, Vf, VfCaps, VfState};
use ravf_fuzz::fakepf::{FakeOs, Msg, GLITCH_REGS};
use ravf_fuzz::input::{Draw, Input, Tape};

fn check(vf: &Vf<FakeOs>) {
    if vf.state() == VfState::Running {
        let r = vf.resources();
        assert!(
            (1..=16).contains(&r.num_queue_pairs),
            "num_queue_pairs {}",
            r.num_queue_pairs
        );
        assert!(r.max_vectors <= 17, "max_vectors {}", r.max_vectors);
        assert!(r.max_mtu <= 9706, "max_mtu {}", r.max_mtu);
        assert_eq!(r.mac[0] & 1, 0, "multicast MAC in use: {:02x?}", r.mac);
        assert!(r.mac != [0; 6], "zero MAC in use");
    }
    assert!(vf.multicast().len() <= 16);
    let _ = format!(
        "{:?} {:?} {:?}",
        vf.counters(),
        vf.aq_counters(),
        vf.last_error()
    );
    if let Some(e) = vf.last_error() {
        let _ = format!("{e}");
    }
}

fn setup(inp: &mut Input<'_>) -> QueueSetup {
    if !inp.u8().is_multiple_of(4) {
        // What iflib asks for on a correctly attached VF (4 queue pairs, 5 vectors).
        let nq = 1 + u16::from(inp.u8() % 4);
        let mut s = QueueSetup::new(nq, 1 + nq, 2048, 1522);
        for i in 0..16 {
            s.tx[i] = TxRingSetup {
                paddr: 0x5_0000_0000 + 0x10000 * i as u64,
                len: 1024,
                headwb_paddr: 0,
            };
            s.rx[i] = RxRingSetup {
                paddr: 0x7_0000_0000 + 0x10000 * i as u64,
                len: 1024,
            };
        }
        return s;
    }
    let nq = u16::from(inp.u8() % 18);
    let nv = u16::from(inp.u8() % 19);
    let mut s = QueueSetup::new(
        nq,
        nv,
        inp.pick(&[2048, 4096, 9216, 0, 16384, 1]),
        inp.pick(&[1522, 9728, 64, 100_000]),
    );
    for i in 0..16 {
        s.tx[i] = TxRingSetup {
            paddr: 0x5_0000_0000 + 0x10000 * i as u64,
            len: inp.pick(&[1024, 64, 0, 4096, 8192, 33]),
            headwb_paddr: if inp.u8().is_multiple_of(4) {
                0x6_0000_0000
            } else {
                0
            },
        };
        s.rx[i] = RxRingSetup {
            paddr: 0x7_0000_0000 + 0x10000 * i as u64,
            len: inp.pick(&[1024, 512, 0, 4096, 8192, 33]),
        };
    }
    s
}

fuzz_target!(|data: &[u8]| {
    // The first part of the input drives the harness, the rest is the PF's tape.
    let mut inp = Input::new(data);
    let split = usize::from(inp.u16());
    let rest = inp.rest();
    let (ops, tape) = rest.split_at(split.min(rest.len()));
    let mut inp = Input::new(ops);

    let os = FakeOs::new(Tape::new(tape));
    let h = os.handle();
    {
        let mut hw = h.hw();
        hw.scripted = !inp.u8().is_multiple_of(4); // else: a correct PF until attach is done
        hw.reset_us = u64::from(inp.u8()) * 100;
        hw.fail_alloc = u32::from(inp.u8() % 16); // mostly 0 or past the last alloc
    }
    let cfg = AttachConfig {
        aq_len: inp.pick(&[2, 3, 4, 8, 32]),
        reset_wait_us: 100_000,
        reset_drop_wait_us: 20_000,
        reply_timeout_us: inp.pick(&[20_000, 50_000, 5_000]),
        poll_interval_us: 1_000,
        request_caps: if inp.bool() {
            AttachConfig::default().request_caps
        } else {
            VfCaps::from_bits_retain(inp.u32())
        },
        reset_on_attach: !inp.u8().is_multiple_of(4),
        stats_interval_us: 500_000,
        mc_filters_max: u16::from(inp.u8() % 20),
    };
    let mut vf = match Vf::attach_boxed(os, &cfg) {
        Ok(vf) => vf,
        Err(e) => {
            let _ = format!("{e} {e:?}");
            if ravf_fuzz::stats_enabled() {
                eprintln!("STATS attach_failed {e:?}");
            }
            assert_eq!(h.dma_oob(), 0);
            return;
        }
    };
    h.hw().scripted = true;
    check(&vf);
    let mut tickets: Vec<Ticket> = Vec::new();
    let mut n = 0;
    while !inp.is_empty() && n < 64 {
        n += 1;
        let t = match inp.u8() % 22 {
            0 | 1 => {
                let _ = vf.admin_task();
                None
            }
            2 => {
                let _ = vf.timer();
                None
            }
            3 => {
                let us = u32::from(inp.u16()) * 20;
                vf.os().sleep_us(us);
                let _ = vf.timer();
                None
            }
            4 => vf.start_init(&setup(&mut inp)).ok(),
            5 => vf.start_stop().ok(),
            6 => {
                let mut m = [0u8; 6];
                m.iter_mut().for_each(|b| *b = inp.u8());
                vf.set_mac(m).ok()
            }
            7 => vf.set_promisc(inp.bool(), inp.bool()).ok(),
            8 => {
                let k = usize::from(inp.u8() % 24);
                let list: Vec<[u8; 6]> = (0..k)
                    .map(|j| [0x01, 0x00, 0x5e, 0, inp.u8(), j as u8])
                    .collect();
                vf.set_multicast(&list).ok()
            }
            9 => vf.vlan_register(inp.u16()).ok(),
            10 => vf.vlan_unregister(inp.u16()).ok(),
            11 => vf.set_vlan_stripping(inp.bool()).ok(),
            12 => {
                let _ = vf.set_mtu(inp.u32());
                None
            }
            13 => {
                let _ = vf.request_reset();
                None
            }
            14 => {
                // Wait for a ticket (bounded).
                if let Some(&t) = tickets.get(usize::from(inp.u8()) % tickets.len().max(1)) {
                    let _ = wait(&mut vf, t, u32::from(inp.u8()) * 500);
                }
                None
            }
            15 | 16 => {
                // An unsolicited PF message, fully chosen by the fuzzer.
                let op = if inp.bool() {
                    17
                } else {
                    u32::from(inp.u8() % 32)
                };
                let retval = inp.pick(&[0i32, 0, -5, -53, 1, -1]);
                let len = usize::from(inp.u16() % 300);
                let payload = inp.bytes(len).to_vec();
                let mut m = Msg::new(op, retval, payload);
                if inp.u8().is_multiple_of(4) {
                    m.datalen = Some(inp.u16());
                }
                if inp.u8().is_multiple_of(8) {
                    m.flags = inp.u16();
                }
                h.hw().push_now(m);
                None
            }
            17 => {
                let ev = h.hw().event();
                h.hw().push_now(ev);
                None
            }
            18 => {
                // A device glitch: a register reads something unexpected.
                let reg = inp.pick(&GLITCH_REGS);
                let v = match inp.u8() % 4 {
                    0 => 0xDEAD_BEEF,
                    1 => 0xFFFF_FFFF,
                    2 => u32::from(inp.u16()),
                    _ => inp.u32(),
                };
                h.hw().set_reg(reg, v);
                None
            }
            19 => {
                // The PF resets the VF on its own.
                h.hw().do_reset();
                None
            }
            20 => {
                vf.note_allocation(u16::from(inp.u8()), u16::from(inp.u8()));
                vf.set_itr(inp.u32(), inp.u32());
                if inp.bool() {
                    vf.enable_admin_irq();
                } else {
                    vf.disable_admin_irq();
                }
                None
            }
            _ => {
                let mut key = [0u8; 52];
                key.iter_mut().for_each(|b| *b = inp.u8());
                vf.set_rss_key(&key);
                None
            }
        };
        if let Some(t) = t {
            tickets.push(t);
            if tickets.len() > 32 {
                tickets.remove(0);
            }
        }
        for &t in &tickets {
            if let Poll::Done(r) = vf.poll(t) {
                let _ = format!("{r:?}");
            }
        }
        check(&vf);
    }
    // Let the PF settle, then leave: both must be bounded.
    for _ in 0..4 {
        vf.os().sleep_us(200_000);
        let _ = vf.timer();
        let _ = vf.admin_task();
    }
    check(&vf);
    if ravf_fuzz::stats_enabled() {
        eprintln!(
            "STATS attached state={:?} queues={} ops={n} work={} counters={:?}",
            vf.state(),
            vf.queues_enabled(),
            h.hw().work,
            vf.counters()
        );
    }
    vf.detach();
    assert_eq!(vf.state(), VfState::Detached);
    let _ = vf.admin_task();
    let _ = vf.timer();
    assert_eq!(h.dma_oob(), 0, "DMA access outside the admin-queue memory");
});
