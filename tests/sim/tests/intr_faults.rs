//! Interrupt routing (contract 5.3, 7.2-7.4) and data-path fault injection.

mod common;
use common::*;

use ravf_sim::fault::RxCorruption;
use ravf_sim::mem::GuestMemory;
use ravf_sim::{IovConfig, PfEvent, Sim, ViolationKind};

const MAC0: [u8; 6] = [0xaa, 0x88, 0x44, 0x00, 0x02, 0x00];
const MAC1: [u8; 6] = [0xaa, 0x88, 0x44, 0x00, 0x02, 0x01];

fn example() -> Sim {
    Sim::new(
        IovConfig::parse(include_str!("../../../examples/ixl0.conf")).unwrap(),
        strict(),
    )
}

fn up(vf: usize, sim: Sim) -> Drv {
    let mut d = Drv::new(sim, vf);
    d.bring_up(CAPS_FBSD);
    d.drain();
    d
}

#[test]
fn single_vector_mode_sets_icr01_queue_0() {
    // OpenBSD with one interrupt: all queues on vector 0, NOITR (contract 5.3, 2.4).
    let mut d = up(0, example());
    let r = queues_up_map(&mut d, &[(0, 1, 1, 3, 3)]);
    let _ = r;
    d.wr(DYN_CTL01, 0x1B);
    d.sim.uplink_inject(&frame(MAC0, [0x02, 1, 1, 1, 1, 1], 60));
    assert_eq!(d.sim.counters(0).rx_frames, 1);
    assert_eq!(d.sim.take_irqs(0), 1, "vector 0");
    assert_eq!(d.rd(ICR01) & 0x2, 0x2, "ICR01.QUEUE_0");
    assert!(d.sim.violations().is_empty(), "{:#?}", d.sim.violations());
}

#[test]
fn rx_itr_throttles_the_queue_vector() {
    let mut d = up(0, example());
    // RX on vector 1 with ITR index 0; ITR0 of vector 1 = 25 units = 50 us.
    queues_up_map(&mut d, &[(1, 1, 1, 0, 1), (0, 0, 0, 0, 0)]);
    d.wr(0x2800, 25); // VFINT_ITRN1(0, 0)
    d.wr(0x3800, 0x19);
    let f = frame(MAC0, [0x02, 1, 1, 1, 1, 1], 60);
    d.sim.uplink_inject(&f);
    assert_eq!(
        d.sim.take_irqs(0),
        2,
        "first cause: no previous fire, immediate"
    );
    d.wr(0x3800, 0x19); // re-arm
    d.sim.uplink_inject(&f);
    assert_eq!(d.sim.take_irqs(0), 0, "within 50 us of the last interrupt");
    d.sim.advance(49_000);
    assert_eq!(d.sim.take_irqs(0), 0);
    d.sim.advance(1_000);
    assert_eq!(
        d.sim.take_irqs(0),
        2,
        "fires when the ITR interval has passed"
    );
}

#[test]
fn msix_masking_holds_and_releases() {
    let mut d = up(0, example());
    queues_up(&mut d);
    d.sim.bar_write(0, 3, 16 + 12, 4, 1); // mask entry 1
    d.sim.uplink_inject(&frame(MAC0, [0x02, 1, 1, 1, 1, 1], 60));
    assert_eq!(d.sim.take_irqs(0), 0);
    assert_eq!(d.sim.bar_read(0, 3, 0x2000, 4), 2, "PBA bit 1");
    d.sim.bar_write(0, 3, 16 + 12, 4, 0);
    assert_eq!(d.sim.take_irqs(0), 2, "delivered on unmask");
    // Function mask.
    d.wr(0x3800, 0x19);
    d.sim.cfg_write(0, 0x72, 2, 0xC000);
    d.sim.uplink_inject(&frame(MAC0, [0x02, 1, 1, 1, 1, 1], 60));
    assert_eq!(d.sim.take_irqs(0), 0);
    d.sim.cfg_write(0, 0x72, 2, 0x8000);
    assert_eq!(d.sim.take_irqs(0), 2);
    // Beyond the 5-entry table.
    d.sim.bar_read(0, 3, 5 * 16, 4);
    assert_eq!(d.sim.take_violations()[0].kind, ViolationKind::Msix);
}

#[test]
fn tail_write_to_an_unallocated_queue_is_a_violation() {
    let mut d = up(0, example());
    d.wr(4 * 4, 1); // QTX_TAIL1(4) = 0x0000 + 4 * 4, with 4 queue pairs
    d.wr(0x2000 + 4 * 15, 1);
    let v = d.sim.take_violations();
    assert_eq!(v.len(), 2);
    assert!(v.iter().all(|x| x.kind == ViolationKind::BadRegisterValue));
}

#[test]
fn tx_stall_withholds_completions_until_it_ends() {
    let mut a = up(0, example());
    let ra = queues_up(&mut a);
    a.sim.faults().stall_tx(0, 1_000_000);
    let mem = a.mem.clone();
    tx_one(&mut a.sim, 0, &mem, ra.tx, 0, &frame(MAC1, MAC0, 60));
    let mut wb = [0u8; 16];
    mem.read(ra.tx, &mut wb).unwrap();
    assert_ne!(wb[8] & 0xF, 0xF, "no DESC_DONE while stalled");
    assert_eq!(a.sim.counters(0).tx_frames, 1, "the frame itself went out");
    assert_eq!(a.sim.take_irqs(0), 0);
    a.sim.advance(1_000_000);
    mem.read(ra.tx, &mut wb).unwrap();
    assert_eq!(wb[8] & 0xF, 0xF, "written back when the stall ends");
    assert_eq!(a.sim.take_irqs(0), 2);
}

#[test]
fn swint_trig_forces_the_pending_write_back() {
    let mut a = up(0, example());
    let ra = queues_up(&mut a);
    a.sim.faults().stall_tx(0, 1_000_000_000);
    let mem = a.mem.clone();
    tx_one(&mut a.sim, 0, &mem, ra.tx, 0, &frame(MAC1, MAC0, 60));
    a.sim.faults().tx_stall_until.clear();
    // Linux iavf_force_wb: INTENA | ITR_INDX(3) | SWINT_TRIG | SW_ITR_INDX_ENA.
    a.wr(0x3800, 1 | 3 << 3 | 1 << 2 | 1 << 24);
    let mut wb = [0u8; 16];
    mem.read(ra.tx, &mut wb).unwrap();
    assert_eq!(wb[8] & 0xF, 0xF);
    assert_eq!(a.sim.take_irqs(0), 2);
}

#[test]
fn corrupted_rx_write_back_is_delivered_with_rxe() {
    let mut d = up(0, example());
    let r = queues_up(&mut d);
    d.sim.faults().corrupt_rx(0, 1, RxCorruption::Rxe);
    d.sim.uplink_inject(&frame(MAC0, [0x02, 1, 1, 1, 1, 1], 60));
    let mut rd = [0u8; 32];
    d.mem.read(r.rx, &mut rd).unwrap();
    let qw1 = u64::from_le_bytes(rd[8..16].try_into().unwrap());
    assert_eq!(qw1 & 1, 1, "DD");
    assert_ne!(qw1 & (1 << 19), 0, "RXE (contract 6.5 bit 19)");
    assert_eq!(d.sim.counters(0).rx_corrupted, 1);
    d.sim.uplink_inject(&frame(MAC0, [0x02, 1, 1, 1, 1, 1], 60));
    d.mem.read(r.rx + 32, &mut rd).unwrap();
    let qw1 = u64::from_le_bytes(rd[8..16].try_into().unwrap());
    assert_eq!(qw1 & (1 << 19), 0, "only one corrupted");
}

#[test]
fn arq_overflow_latches_ovfl() {
    let mut d = Drv::new(example(), 0);
    d.init_aq();
    // Give hardware no ARQ descriptor: tail = head.
    d.wr(ARQT, 0);
    for _ in 0..70 {
        d.send(OP_VERSION, &[1, 0, 0, 0, 1, 0, 0, 0]);
    }
    assert_ne!(d.rd(ARQLEN) & (1 << 29), 0, "OVFL");
    assert!(d
        .sim
        .events()
        .iter()
        .any(|e| matches!(e, PfEvent::ArqOverflow { .. })));
    // Write 0 to clear it, as drivers do.
    let l = d.rd(ARQLEN);
    d.wr(ARQLEN, l & !(1 << 29));
    assert_eq!(d.rd(ARQLEN) & (1 << 29), 0);
}

#[test]
fn delayed_reply_arrives_after_later_ones() {
    let mut d = up(0, example());
    d.sim.faults().delay_reply(Some(0), OP_GET_STATS, 1, 10_000);
    let q = d.queue_select(0, 0);
    d.send(OP_GET_STATS, &q);
    d.send(OP_GET_HENA_CAPS, &[]);
    let first = d.recv().unwrap();
    assert_eq!(first.op, OP_GET_HENA_CAPS);
    assert!(d.recv().is_none());
    d.sim.advance(10_000);
    assert_eq!(d.recv().unwrap().op, OP_GET_STATS);
}

#[test]
fn reset_after_nth_message() {
    let mut d = up(0, example());
    d.sim.faults().reset_after(Some(0), OP_GET_STATS, 2);
    let q = d.queue_select(0, 0);
    assert_eq!(d.call(OP_GET_STATS, &q).retval, 0);
    d.send(OP_GET_STATS, &q);
    let m = d.drain();
    assert_eq!(m.len(), 2, "the reply, then RESET_IMPENDING");
    assert_eq!(r32(&m[1].data, 0), 2);
    d.wait_pf_reset();
    assert_eq!(d.sim.counters(0).resets, 1);
}
