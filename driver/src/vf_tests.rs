//! Tests of the control plane against the scripted fake PF (`crate::testing`).
//! Expected message bytes are written from hw-contract 4.5/4.6 offsets, not by the
//! builders under test.
extern crate std;

use super::*;
use crate::testing::{link_event, reset_event, FakeOs, Pf};
use std::boxed::Box;
use std::vec;
use std::vec::Vec;

const RING_TX: u64 = 0x2_0000_0000;
const RING_RX: u64 = 0x3_0000_0000;

fn attached(pf: Pf) -> (FakeOs, Vf<FakeOs>) {
    let os = FakeOs::new(pf);
    let h = os.handle();
    let vf = Vf::attach(os, &AttachConfig::default()).expect("attach");
    (h, vf)
}

fn setup(nq: u16, nv: u16) -> QueueSetup {
    let mut s = QueueSetup::new(nq, nv, 2048, 1522);
    for i in 0..nq as usize {
        s.tx[i] = TxRingSetup {
            paddr: RING_TX + 0x10000 * i as u64,
            len: 1024,
            headwb_paddr: 0,
        };
        s.rx[i] = RxRingSetup {
            paddr: RING_RX + 0x10000 * i as u64,
            len: 512,
        };
    }
    s
}

fn le16(v: &mut [u8], off: usize, x: u16) {
    v[off..off + 2].copy_from_slice(&x.to_le_bytes());
}
fn le32(v: &mut [u8], off: usize, x: u32) {
    v[off..off + 4].copy_from_slice(&x.to_le_bytes());
}
fn le64(v: &mut [u8], off: usize, x: u64) {
    v[off..off + 8].copy_from_slice(&x.to_le_bytes());
}

fn done(vf: &mut Vf<FakeOs>, t: Ticket) -> Result<(), Error> {
    wait(vf, t, 10_000_000)
}

fn init_ok(os: &FakeOs, vf: &mut Vf<FakeOs>, nq: u16, nv: u16) {
    let t = vf.start_init(&setup(nq, nv)).unwrap();
    assert_eq!(done(vf, t), Ok(()));
    let _ = os;
}

// ---------------------------------------------------------------------------
// attach
// ---------------------------------------------------------------------------

#[test]
fn attach_sequence_and_bytes() {
    let (os, vf) = attached(Pf::good());
    let hw = os.hw();
    let hw = hw.borrow();
    assert_eq!(hw.sent_ops(), vec![1, 2, 3]);
    assert_eq!(hw.sent[0].1, vec![1, 0, 0, 0, 1, 0, 0, 0]);
    assert!(hw.sent[1].1.is_empty());
    // L2 | WB_ON_ITR | ADV_LINK_SPEED | VLAN | RSS_PF = 0x000900A1
    assert_eq!(hw.sent[2].1, vec![0xA1, 0x00, 0x09, 0x00]);
    // RSTAT was written INPROGRESS before RESET_VF went out (FreeBSD order).
    assert!(hw.writes.iter().any(|&(o, v)| o == 0x8800 && v == 0));
    assert_eq!(hw.resets, 1);
    let r = vf.resources();
    assert_eq!(r.version, (1, 1));
    assert_eq!(r.num_queue_pairs, 4);
    assert_eq!(r.max_vectors, 5);
    assert_eq!(r.vsi_id, 0x18);
    assert_eq!(r.pf_max_frame, 9728);
    assert_eq!(r.max_mtu, 9706);
    assert!(r
        .caps
        .contains(VfCaps::RSS_PF | VfCaps::VLAN | VfCaps::ADV_LINK_SPEED));
    // The PF gave a zero MAC: a locally administered unicast one was generated.
    assert!(!r.mac_from_pf);
    assert_eq!(r.mac[0] & 0x03, 0x02);
    assert_eq!(vf.state(), VfState::Running);
    // The LINK_CHANGE after GET_VF_RESOURCES is picked up by the next admin pass.
    drop(hw);
    let mut vf = vf;
    let rep = vf.admin_task();
    assert!(rep.link_changed);
    assert_eq!(
        vf.link(),
        Link {
            up: true,
            speed_mbps: 40_000
        }
    );
}

#[test]
fn attach_keeps_pf_mac() {
    let mut pf = Pf::good();
    pf.mac = [0x00, 0x1b, 0x21, 0xaa, 0xbb, 0xcc];
    let (_os, vf) = attached(pf);
    assert_eq!(vf.mac(), [0x00, 0x1b, 0x21, 0xaa, 0xbb, 0xcc]);
    assert!(vf.resources().mac_from_pf);
}

#[test]
fn attach_pf_version_1_0_sends_no_caps() {
    let mut pf = Pf::good();
    pf.version = (1, 0);
    let (os, vf) = attached(pf);
    assert_eq!(vf.resources().version, (1, 0));
    assert!(os.hw().borrow().sent_of(3)[0].is_empty());
}

#[test]
fn attach_rejects_newer_pf() {
    let mut pf = Pf::good();
    pf.version = (1, 2);
    let os = FakeOs::new(pf);
    let r = Vf::attach(os, &AttachConfig::default());
    assert!(matches!(
        r,
        Err(Error::VersionMismatch { major: 1, minor: 2 })
    ));
}

#[test]
fn attach_not_ready() {
    let os = FakeOs::new(Pf::good());
    os.hw().borrow_mut().regs.insert(0x8800, 0);
    let h = os.handle();
    let r = Vf::attach(os, &AttachConfig::default());
    assert!(matches!(r, Err(Error::NotReady)));
    // Bounded: about the 10 s budget of virtual time.
    let t = h.hw().borrow().now;
    assert!((10_000_000..11_000_000).contains(&t), "{t}");
}

#[test]
fn attach_silent_pf_times_out_after_one_resend() {
    let os = FakeOs::new(Pf::silent());
    let h = os.handle();
    let r = Vf::attach(os, &AttachConfig::default());
    assert!(
        matches!(r, Err(Error::Timeout { op: VcOp::VERSION })),
        "{r:?}"
    );
    assert_eq!(h.hw().borrow().sent_ops(), vec![1, 1]);
}

#[test]
fn attach_reset_never_completes() {
    let mut pf = Pf::good();
    pf.reset_us = u64::MAX / 2;
    let r = Vf::attach(FakeOs::new(pf), &AttachConfig::default());
    assert!(matches!(r, Err(Error::NotReady)));
}

fn attach_with_vf_res(bytes: Vec<u8>) -> Result<Vf<FakeOs>, Error> {
    let mut pf = Pf::good();
    let mut b = Some(bytes);
    pf.custom = Some(Box::new(move |op, _| {
        if op == 3 {
            Some(vec![(3, 0, b.take().unwrap_or_default())])
        } else {
            None
        }
    }));
    Vf::attach(FakeOs::new(pf), &AttachConfig::default())
}

fn vf_res_bytes(num_vsis: u16, vsi_type: u32, len: usize) -> Vec<u8> {
    let mut v = vec![0u8; len.max(36)];
    le16(&mut v, 0, num_vsis);
    le16(&mut v, 2, 4);
    le16(&mut v, 4, 5);
    le32(&mut v, 8, 0x0009_0081);
    le16(&mut v, 20, 0x18);
    le16(&mut v, 22, 4);
    le32(&mut v, 24, vsi_type);
    v.truncate(len);
    v
}

#[test]
fn attach_malformed_vf_resources() {
    let short = attach_with_vf_res(vf_res_bytes(1, 6, 10));
    assert!(matches!(
        short,
        Err(Error::BadReply {
            op: VcOp::GET_VF_RESOURCES,
            why: ParseError::Short { need: 20, got: 10 }
        })
    ));
    let zero = attach_with_vf_res(vf_res_bytes(0, 6, 52));
    assert!(matches!(
        zero,
        Err(Error::BadReply {
            why: ParseError::BadCount,
            ..
        })
    ));
    let wrong_type = attach_with_vf_res(vf_res_bytes(1, 3, 52));
    assert!(matches!(
        wrong_type,
        Err(Error::BadReply {
            why: ParseError::NoSriovVsi,
            ..
        })
    ));
    let too_many = attach_with_vf_res(vf_res_bytes(4, 6, 52));
    assert!(matches!(
        too_many,
        Err(Error::BadReply {
            why: ParseError::Short { .. },
            ..
        })
    ));
    // 36 bytes (PF-OOT) is fine.
    assert!(attach_with_vf_res(vf_res_bytes(1, 6, 36)).is_ok());
}

#[test]
fn attach_zero_queues_rejected() {
    let mut b = vf_res_bytes(1, 6, 52);
    le16(&mut b, 2, 0);
    le16(&mut b, 22, 0);
    assert!(matches!(
        attach_with_vf_res(b),
        Err(Error::BadReply {
            why: ParseError::BadCount,
            ..
        })
    ));
}

// ---------------------------------------------------------------------------
// init / stop
// ---------------------------------------------------------------------------

#[test]
fn init_sends_exact_messages() {
    let (os, mut vf) = attached(Pf::good());
    let mac = vf.mac();
    os.hw().borrow_mut().sent.clear();
    let t = vf.start_init(&setup(4, 3)).unwrap();
    assert!(os.hw().borrow().admin_tasks_scheduled > 0);
    assert_eq!(done(&mut vf, t), Ok(()));
    let hw = os.hw();
    let hw = hw.borrow();
    assert_eq!(hw.sent_ops(), vec![10, 6, 25, 26, 23, 24, 7, 14, 8]);

    // ADD_ETH_ADDR: 12 + 8 = 20 bytes, type PRIMARY (1).
    let mut want = vec![0u8; 20];
    le16(&mut want, 0, 0x18);
    le16(&mut want, 2, 1);
    want[4..10].copy_from_slice(&mac);
    want[10] = 1;
    assert_eq!(hw.sent[0].1, want);

    // CONFIG_VSI_QUEUES: 72 + 64*4 = 328 bytes.
    let mut want = vec![0u8; 328];
    le16(&mut want, 0, 0x18);
    le16(&mut want, 2, 4);
    for q in 0..4usize {
        let b = 8 + 64 * q;
        le16(&mut want, b, 0x18);
        le16(&mut want, b + 2, q as u16);
        le16(&mut want, b + 4, 1024);
        le64(&mut want, b + 8, RING_TX + 0x10000 * q as u64);
        let r = b + 24;
        le16(&mut want, r, 0x18);
        le16(&mut want, r + 2, q as u16);
        le32(&mut want, r + 4, 512);
        le32(&mut want, r + 12, 2048);
        le32(&mut want, r + 16, 1522);
        le64(&mut want, r + 24, RING_RX + 0x10000 * q as u64);
    }
    assert_eq!(hw.sent[1].1, want);

    // GET_RSS_HENA_CAPS: empty. SET_RSS_HENA: caps ∩ (BASE|ADV) = 0x00007A1E80000000.
    assert!(hw.sent[2].1.is_empty());
    assert_eq!(
        hw.sent[3].1,
        0x0000_7A1E_8000_0000u64.to_le_bytes().to_vec()
    );

    // CONFIG_RSS_KEY: 57 bytes; CONFIG_RSS_LUT: 69 bytes, entries i % 4.
    let key = &hw.sent[4].1;
    assert_eq!(key.len(), 57);
    assert_eq!(&key[0..4], &[0x18, 0, 52, 0]);
    assert_eq!(&key[4..56], &vf.rss_key()[..]);
    assert_eq!(key[56], 0);
    let lut = &hw.sent[5].1;
    assert_eq!(lut.len(), 69);
    assert_eq!(&lut[0..4], &[0x18, 0, 64, 0]);
    for i in 0..64 {
        assert_eq!(lut[4 + i], (i % 4) as u8);
    }
    assert_eq!(lut[68], 0);

    // CONFIG_IRQ_MAP, 4 queues on 2 queue vectors: v1 = {0,2}, v2 = {1,3}, then v0.
    let mut want = vec![0u8; 14 + 12 * 3];
    le16(&mut want, 0, 3);
    for (k, (vec_id, map, txitr)) in [(1u16, 0b0101u16, 1u16), (2, 0b1010, 1), (0, 0, 0)]
        .iter()
        .enumerate()
    {
        let b = 2 + 12 * k;
        le16(&mut want, b, 0x18);
        le16(&mut want, b + 2, *vec_id);
        le16(&mut want, b + 4, *map);
        le16(&mut want, b + 6, *map);
        le16(&mut want, b + 8, 0);
        le16(&mut want, b + 10, *txitr);
    }
    assert_eq!(hw.sent[6].1, want);

    // PROMISC flags 0; ENABLE_QUEUES mask 0xF both ways.
    assert_eq!(hw.sent[7].1, vec![0x18, 0, 0, 0]);
    assert_eq!(
        hw.sent[8].1,
        vec![0x18, 0, 0, 0, 0xF, 0, 0, 0, 0xF, 0, 0, 0]
    );
    drop(hw);
    assert!(vf.queues_enabled());
    // ITRs of the two queue vectors were written (defaults 0x3E / 0x7A).
    let hw = os.hw();
    assert_eq!(hw.borrow().reg(0x2800), 0x3E);
    assert_eq!(hw.borrow().reg(0x2844), 0x7A);
}

#[test]
fn init_validates_setup() {
    let (_os, mut vf) = attached(Pf::good());
    assert_eq!(vf.start_init(&setup(5, 3)), Err(Error::Invalid)); // more queues than granted
    assert_eq!(vf.start_init(&setup(4, 6)), Err(Error::Invalid)); // more vectors than granted
    let mut s = setup(2, 3);
    s.rx[1].len = 100;
    assert_eq!(vf.start_init(&s), Err(Error::Invalid));
    let mut s = setup(2, 3);
    s.tx[0].paddr += 64;
    assert_eq!(vf.start_init(&s), Err(Error::Invalid));
    let mut s = setup(2, 3);
    s.rx_buf_size = 2000;
    assert_eq!(vf.start_init(&s), Err(Error::Invalid));
    let mut s = setup(2, 3);
    s.tx[1].headwb_paddr = RING_TX + 0x8002; // not a 4-byte aligned word
    assert_eq!(vf.start_init(&s), Err(Error::Invalid));
    s.tx[1].headwb_paddr = RING_TX + 0x8000;
    assert!(vf.start_init(&s).is_ok());
}

#[test]
fn init_refused_step_fails_ticket_and_drops_the_rest() {
    let mut pf = Pf::good();
    pf.refuse.insert(6, -5);
    let (os, mut vf) = attached(pf);
    os.hw().borrow_mut().sent.clear();
    let t = vf.start_init(&setup(2, 3)).unwrap();
    assert_eq!(
        done(&mut vf, t),
        Err(Error::Refused {
            op: VcOp::CONFIG_VSI_QUEUES,
            status: -5
        })
    );
    assert_eq!(os.hw().borrow().sent_ops(), vec![10, 6]);
    assert_eq!(vf.counters().refused, 1);
    assert!(!vf.queues_enabled());
}

#[test]
fn init_soft_failure_still_completes() {
    let mut pf = Pf::good();
    pf.refuse.insert(24, -22); // CONFIG_RSS_LUT refused (upstream -EINVAL)
    let (_os, mut vf) = attached(pf);
    let t = vf.start_init(&setup(2, 3)).unwrap();
    assert_eq!(done(&mut vf, t), Ok(()));
    assert_eq!(vf.counters().soft_errors, 1);
    assert_eq!(
        vf.last_error(),
        Some(Error::Refused {
            op: VcOp::CONFIG_RSS_LUT,
            status: -22
        })
    );
}

#[test]
fn init_timeout_is_named_and_counted() {
    let mut pf = Pf::good();
    pf.silent_ops.push(8);
    let (os, mut vf) = attached(pf);
    let t = vf.start_init(&setup(1, 2)).unwrap();
    for _ in 0..20 {
        vf.admin_task();
    }
    assert_eq!(vf.poll(t), Poll::Pending);
    os.hw().borrow_mut().advance(3_000_001);
    vf.timer();
    assert_eq!(
        vf.poll(t),
        Poll::Done(Err(Error::Timeout {
            op: VcOp::ENABLE_QUEUES
        }))
    );
    assert_eq!(vf.counters().timeouts, 1);
    // A late reply is counted as unexpected, not matched to anything.
    os.hw().borrow_mut().push_msg(8, 0, vec![]);
    vf.admin_task();
    assert_eq!(vf.counters().unexpected_replies, 1);
}

#[test]
fn single_vector_maps_everything_to_vector_0() {
    let (os, mut vf) = attached(Pf::good());
    os.hw().borrow_mut().sent.clear();
    init_ok(&os, &mut vf, 2, 1);
    let m = os.hw().borrow().sent_of(7)[0].clone();
    let mut want = vec![0u8; 26];
    le16(&mut want, 0, 1);
    le16(&mut want, 2, 0x18);
    le16(&mut want, 4, 0);
    le16(&mut want, 6, 3);
    le16(&mut want, 8, 3);
    le16(&mut want, 10, 3);
    le16(&mut want, 12, 3);
    assert_eq!(m, want);
}

#[test]
fn stop_disables_queues() {
    let (os, mut vf) = attached(Pf::good());
    init_ok(&os, &mut vf, 3, 4);
    let t = vf.start_stop().unwrap();
    assert_eq!(done(&mut vf, t), Ok(()));
    assert_eq!(
        os.hw().borrow().sent_of(9)[0],
        vec![0x18, 0, 0, 0, 7, 0, 0, 0, 7, 0, 0, 0]
    );
    assert!(!vf.queues_enabled());
    // Stopping again sends nothing and completes at once.
    let n = os.hw().borrow().sent.len();
    let t = vf.start_stop().unwrap();
    assert_eq!(vf.poll(t), Poll::Done(Ok(())));
    assert_eq!(os.hw().borrow().sent.len(), n);
}

#[test]
fn reinit_disables_first() {
    let (os, mut vf) = attached(Pf::good());
    init_ok(&os, &mut vf, 2, 3);
    os.hw().borrow_mut().sent.clear();
    init_ok(&os, &mut vf, 2, 3);
    assert_eq!(os.hw().borrow().sent_ops()[0], 9);
    // HENA caps are asked only once.
    assert!(os.hw().borrow().sent_of(25).is_empty());
}

// ---------------------------------------------------------------------------
// filters and modes
// ---------------------------------------------------------------------------

#[test]
fn set_mac_refused_keeps_old() {
    let mut pf = Pf::good();
    pf.refuse.insert(10, -1); // -EPERM: untrusted VF with an admin MAC
    let (os, mut vf) = attached(pf);
    let old = vf.mac();
    let t = vf.set_mac([0x02, 1, 2, 3, 4, 5]).unwrap();
    assert_eq!(
        done(&mut vf, t),
        Err(Error::Refused {
            op: VcOp::ADD_ETH_ADDR,
            status: -1
        })
    );
    assert_eq!(vf.mac(), old);
    assert!(os.hw().borrow().sent_of(11).is_empty());
}

/// Replay the ADD/DEL_ETH_ADDR messages the VF sent (bytes at the contract's offsets:
/// num_elements @2, entries of 8 bytes from @4) over the PF's initial unicast filter
/// set, asserting that every DEL names an address the PF has (i40e refuses others,
/// hw-contract 5.5). Returns the resulting unicast filters.
fn unicast_filters(os: &FakeOs, initial: &[Mac]) -> Vec<Mac> {
    let hw = os.hw();
    let hw = hw.borrow();
    let mut f: Vec<Mac> = initial.to_vec();
    for (op, p) in hw.sent.iter() {
        if *op != 10 && *op != 11 {
            continue;
        }
        let n = u16::from_le_bytes([p[2], p[3]]) as usize;
        for i in 0..n {
            let mut m = [0u8; 6];
            m.copy_from_slice(&p[4 + 8 * i..10 + 8 * i]);
            if m[0] & 1 != 0 {
                continue;
            }
            if *op == 10 {
                if !f.contains(&m) {
                    f.push(m);
                }
            } else {
                let at = f.iter().position(|x| *x == m);
                assert!(
                    at.is_some(),
                    "DEL_ETH_ADDR of {m:02x?}, which the PF does not have"
                );
                f.retain(|x| *x != m);
            }
        }
    }
    f
}

const PF_MAC: Mac = [0x00, 0x1b, 0x21, 0xaa, 0xbb, 0xcc];

#[test]
fn set_mac_adds_new_then_deletes_old() {
    let mut pf = Pf::good();
    pf.mac = PF_MAC;
    let (os, mut vf) = attached(pf);
    assert_eq!(vf.mac(), PF_MAC);
    let new = [0x02, 1, 2, 3, 4, 5];
    let t = vf.set_mac(new).unwrap();
    assert_eq!(done(&mut vf, t), Ok(()));
    assert_eq!(vf.mac(), new);
    {
        let hw = os.hw();
        let hw = hw.borrow();
        assert_eq!(hw.sent_ops()[3..], [10, 11]);
        assert_eq!(&hw.sent_of(10)[0][4..10], &new);
        assert_eq!(&hw.sent_of(11)[0][4..10], &PF_MAC);
    }
    assert_eq!(unicast_filters(&os, &[PF_MAC]), vec![new]);
    assert_eq!(vf.set_mac([0x01, 0, 0x5e, 0, 0, 1]), Err(Error::Invalid));
    assert_eq!(vf.set_mac([0; 6]), Err(Error::Invalid));
}

#[test]
fn set_mac_with_zero_pf_mac_deletes_nothing_the_pf_lacks() {
    // The PF reported 00:00:00:00:00:00 and holds no unicast filter (hw-contract
    // 5.10); ravf's random MAC is not installed before init, so there is nothing
    // to delete.
    let (os, mut vf) = attached(Pf::good());
    let new = [0x02, 1, 2, 3, 4, 5];
    let t = vf.set_mac(new).unwrap();
    assert_eq!(done(&mut vf, t), Ok(()));
    assert_eq!(vf.mac(), new);
    assert!(os.hw().borrow().sent_of(11).is_empty());
    assert_eq!(unicast_filters(&os, &[]), vec![new]);
}

#[test]
fn two_set_macs_in_flight_leave_only_the_last() {
    let mut pf = Pf::good();
    pf.mac = PF_MAC;
    let (os, mut vf) = attached(pf);
    let b = [0x02, 0xB, 0, 0, 0, 1];
    let c = [0x02, 0xC, 0, 0, 0, 1];
    let t1 = vf.set_mac(b).unwrap();
    let t2 = vf.set_mac(c).unwrap();
    assert_eq!(done(&mut vf, t1), Ok(()));
    assert_eq!(done(&mut vf, t2), Ok(()));
    assert_eq!(vf.mac(), c);
    assert_eq!(unicast_filters(&os, &[PF_MAC]), vec![c]);
    // Back to the original while a change is pending: the pending change must not win.
    let t3 = vf.set_mac(b).unwrap();
    let t4 = vf.set_mac(c).unwrap();
    assert_eq!(done(&mut vf, t3), Ok(()));
    assert_eq!(done(&mut vf, t4), Ok(()));
    assert_eq!(vf.mac(), c);
    assert_eq!(unicast_filters(&os, &[PF_MAC]), vec![c]);
}

#[test]
fn set_mac_first_refused_second_accepted_removes_the_original() {
    let mut pf = Pf::good();
    pf.mac = PF_MAC;
    let b = [0x02, 0xB, 0, 0, 0, 1];
    let c = [0x02, 0xC, 0, 0, 0, 1];
    pf.custom = Some(Box::new(move |op, p| {
        (op == 10 && p[4..10] == b).then(|| vec![(10, -1, Vec::new())])
    }));
    let (os, mut vf) = attached(pf);
    let t1 = vf.set_mac(b).unwrap();
    let t2 = vf.set_mac(c).unwrap();
    assert!(matches!(done(&mut vf, t1), Err(Error::Refused { .. })));
    assert_eq!(done(&mut vf, t2), Ok(()));
    assert_eq!(vf.mac(), c);
    // The refused ADD installed nothing; the custom PF hides it from the replay.
    os.hw()
        .borrow_mut()
        .sent
        .retain(|(op, p)| !(*op == 10 && p[4..10] == b));
    assert_eq!(unicast_filters(&os, &[PF_MAC]), vec![c]);
}

fn mc(i: u8) -> Mac {
    [0x01, 0x00, 0x5e, 0x00, 0x00, i]
}

#[test]
fn multicast_diff_and_overflow() {
    let (os, mut vf) = attached(Pf::good());
    os.hw().borrow_mut().sent.clear();
    let t = vf.set_multicast(&[mc(1), mc(2), mc(3)]).unwrap();
    assert_eq!(done(&mut vf, t), Ok(()));
    {
        let hw = os.hw();
        let hw = hw.borrow();
        let m = &hw.sent_of(10)[0];
        assert_eq!(m.len(), 12 + 8 * 3);
        assert_eq!(&m[0..4], &[0x18, 0, 3, 0]);
        assert_eq!(&m[4..10], &mc(1));
        assert_eq!(m[10], 2); // EXTRA
        assert_eq!(&m[20..26], &mc(3));
    }
    os.hw().borrow_mut().sent.clear();
    let t = vf.set_multicast(&[mc(2), mc(3), mc(4), mc(4)]).unwrap();
    assert_eq!(done(&mut vf, t), Ok(()));
    {
        let hw = os.hw();
        let hw = hw.borrow();
        assert_eq!(hw.sent_ops(), vec![11, 10]);
        assert_eq!(&hw.sent_of(11)[0][4..10], &mc(1));
        assert_eq!(hw.sent_of(10)[0].len(), 20);
        assert_eq!(&hw.sent_of(10)[0][4..10], &mc(4));
    }
    // 17 addresses: more than the 16 filters an untrusted VF gets.
    let many: Vec<Mac> = (10..27).map(mc).collect();
    os.hw().borrow_mut().sent.clear();
    let t = vf.set_multicast(&many).unwrap();
    assert_eq!(done(&mut vf, t), Ok(()));
    {
        let hw = os.hw();
        let hw = hw.borrow();
        assert_eq!(hw.sent_ops(), vec![11, 14]);
        assert_eq!(hw.sent_of(11)[0].len(), 12 + 8 * 3);
        assert_eq!(hw.sent_of(14)[0], vec![0x18, 0, 2, 0]);
    }
    let p = vf.promisc_state();
    assert!(p.mc_overflow);
    assert_eq!(p.acked_flags, 2);
    assert!(vf.multicast().is_empty());
    assert_eq!(vf.counters().mc_overflows, 1);
    // Back under the limit: filters again, multicast promisc off.
    os.hw().borrow_mut().sent.clear();
    let t = vf.set_multicast(&[mc(9)]).unwrap();
    assert_eq!(done(&mut vf, t), Ok(()));
    assert_eq!(os.hw().borrow().sent_ops(), vec![10, 14]);
    assert_eq!(os.hw().borrow().sent_of(14)[0], vec![0x18, 0, 0, 0]);
    assert_eq!(
        vf.set_multicast(&[[0x02, 0, 0, 0, 0, 1]]),
        Err(Error::Invalid)
    );
}

#[test]
fn promisc_requested_vs_acked() {
    let (os, mut vf) = attached(Pf::good());
    let t = vf.set_promisc(true, false).unwrap();
    assert_eq!(done(&mut vf, t), Ok(()));
    assert_eq!(os.hw().borrow().sent_of(14)[0], vec![0x18, 0, 3, 0]);
    let p = vf.promisc_state();
    assert!(p.promisc && !p.allmulti);
    assert_eq!(p.sent_flags, 3);
    assert_eq!(p.acked_flags, 3);
    let t = vf.set_promisc(false, true).unwrap();
    assert_eq!(done(&mut vf, t), Ok(()));
    assert_eq!(vf.promisc_state().acked_flags, 2);
}

#[test]
fn promisc_refused_is_reported() {
    let mut pf = Pf::good();
    pf.refuse.insert(14, -5);
    let (_os, mut vf) = attached(pf);
    let t = vf.set_promisc(true, true).unwrap();
    assert_eq!(
        done(&mut vf, t),
        Err(Error::Refused {
            op: VcOp::CONFIG_PROMISCUOUS_MODE,
            status: -5
        })
    );
    let p = vf.promisc_state();
    assert_eq!(p.sent_flags, 3);
    assert_eq!(p.acked_flags, 0);
}

#[test]
fn vlan_register_adds_vlan0_first() {
    let (os, mut vf) = attached(Pf::good());
    let t = vf.vlan_register(100).unwrap();
    assert_eq!(done(&mut vf, t), Ok(()));
    let t = vf.vlan_register(200).unwrap();
    assert_eq!(done(&mut vf, t), Ok(()));
    let t = vf.vlan_unregister(100).unwrap();
    assert_eq!(done(&mut vf, t), Ok(()));
    let t = vf.vlan_unregister(200).unwrap();
    assert_eq!(done(&mut vf, t), Ok(()));
    let hw = os.hw();
    let hw = hw.borrow();
    let add = hw.sent_of(12);
    let del = hw.sent_of(13);
    assert_eq!(add[0], vec![0x18, 0, 2, 0, 0, 0, 100, 0, 0, 0]);
    assert_eq!(add[1], vec![0x18, 0, 1, 0, 200, 0, 0, 0]);
    assert_eq!(del[0], vec![0x18, 0, 1, 0, 100, 0, 0, 0]);
    assert_eq!(del[1], vec![0x18, 0, 2, 0, 200, 0, 0, 0, 0, 0]);
    assert!(vf.vlans().is_empty());
}

#[test]
fn vlan_refused_rolls_back() {
    let mut pf = Pf::good();
    pf.refuse.insert(12, -5);
    let (_os, mut vf) = attached(pf);
    let t = vf.vlan_register(7).unwrap();
    assert_eq!(
        done(&mut vf, t),
        Err(Error::Refused {
            op: VcOp::ADD_VLAN,
            status: -5
        })
    );
    assert!(!vf.vlans().contains(7));
    assert_eq!(vf.vlan_register(0), Err(Error::Invalid));
    assert_eq!(vf.vlan_register(4096), Err(Error::Invalid));
}

#[test]
fn vlan_needs_cap() {
    let mut pf = Pf::good();
    pf.supported_caps &= !(1 << 16);
    let (_os, mut vf) = attached(pf);
    assert_eq!(vf.vlan_register(5), Err(Error::NotSupported));
}

#[test]
fn mtu_bounds() {
    let (_os, mut vf) = attached(Pf::good());
    assert_eq!(vf.set_mtu(1500), Ok(1522));
    assert_eq!(vf.set_mtu(9706), Ok(9728));
    assert_eq!(vf.set_mtu(9707), Err(Error::Invalid));
    assert_eq!(vf.set_mtu(111), Err(Error::Invalid));
    let mut pf = Pf::good();
    pf.max_mtu = 1522; // a frame size
    let (_os, mut vf) = attached(pf);
    assert_eq!(vf.resources().max_mtu, 1500);
    assert_eq!(vf.set_mtu(1500), Ok(1522));
    assert_eq!(vf.set_mtu(1501), Err(Error::Invalid));
    let mut pf = Pf::good();
    pf.max_mtu = 0; // unknown (PF-OOT)
    let (_os, vf) = attached(pf);
    assert_eq!(vf.resources().max_mtu, 9706);
}

// ---------------------------------------------------------------------------
// link, stats, malformed PF messages
// ---------------------------------------------------------------------------

#[test]
fn stats_from_timer() {
    let (os, mut vf) = attached(Pf::good());
    os.hw().borrow_mut().advance(1_000_000);
    vf.timer();
    vf.admin_task();
    assert_eq!(
        os.hw().borrow().sent_of(15)[0],
        vec![0x18, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
    );
    assert_eq!(vf.stats().rx_bytes, 100);
    assert_eq!(vf.stats().tx_errors, 111);
    assert_eq!(vf.counters().stats_updates, 1);
    // Not again before the interval.
    vf.timer();
    vf.admin_task();
    assert_eq!(os.hw().borrow().sent_of(15).len(), 1);
}

#[test]
fn legacy_link_format_when_not_granted() {
    let mut pf = Pf::good();
    pf.supported_caps &= !(1 << 7);
    pf.link_events = false;
    let (os, mut vf) = attached(pf);
    let mut e = vec![0u8; 16];
    le32(&mut e, 0, 1);
    le32(&mut e, 4, 0x08); // VIRTCHNL_LINK_SPEED_10GB
    e[8] = 1;
    os.hw().borrow_mut().push_msg(17, 0, e);
    assert!(vf.admin_task().link_changed);
    assert_eq!(
        vf.link(),
        Link {
            up: true,
            speed_mbps: 10_000
        }
    );
    os.hw().borrow_mut().push_msg(17, 0, link_event(false, 0));
    assert!(vf.admin_task().link_changed);
    assert!(!vf.link().up);
}

#[test]
fn malformed_messages_are_counted_not_fatal() {
    let (os, mut vf) = attached(Pf::good());
    vf.admin_task();
    let before = *vf.counters();
    {
        let hw = os.hw();
        let mut hw = hw.borrow_mut();
        hw.push_msg(17, 0, vec![1, 0, 0]); // short event
        hw.push_msg(6, 0, vec![]); // reply with nothing outstanding
        hw.push_msg(17, 0, {
            let mut v = vec![0u8; 16];
            le32(&mut v, 0, 77);
            v
        });
        hw.post_arq_raw(17, 0, &[0; 16], 0xFFFF); // datalen beyond the buffer
    }
    vf.admin_task();
    let c = vf.counters();
    assert_eq!(c.bad_msgs, before.bad_msgs + 2);
    assert_eq!(c.unexpected_replies, before.unexpected_replies + 1);
    assert_eq!(c.unknown_events, before.unknown_events + 1);
    assert_eq!(vf.aq_counters().oversized, 1);
    assert_eq!(vf.state(), VfState::Running);
}

#[test]
fn wrong_opcode_reply_does_not_complete_request() {
    let mut pf = Pf::good();
    pf.custom = Some(Box::new(|op, _| {
        if op == 14 {
            Some(vec![(13, 0, vec![])])
        } else {
            None
        }
    }));
    let (os, mut vf) = attached(pf);
    let t = vf.set_promisc(true, false).unwrap();
    vf.admin_task();
    vf.admin_task();
    assert_eq!(vf.poll(t), Poll::Pending);
    assert_eq!(vf.counters().unexpected_replies, 1);
    os.hw().borrow_mut().advance(3_000_001);
    vf.timer();
    assert_eq!(
        vf.poll(t),
        Poll::Done(Err(Error::Timeout {
            op: VcOp::CONFIG_PROMISCUOUS_MODE
        }))
    );
}

#[test]
fn bad_stats_reply() {
    let mut pf = Pf::good();
    pf.custom = Some(Box::new(|op, _| {
        if op == 15 {
            Some(vec![(15, 0, vec![0; 40])])
        } else {
            None
        }
    }));
    let (os, mut vf) = attached(pf);
    os.hw().borrow_mut().advance(1_000_000);
    vf.timer();
    vf.admin_task();
    assert_eq!(vf.counters().bad_msgs, 1);
    assert!(matches!(
        vf.last_error(),
        Some(Error::BadReply {
            op: VcOp::GET_STATS,
            ..
        })
    ));
}

#[test]
fn aq_error_bits_are_counted_and_cleared() {
    let (os, mut vf) = attached(Pf::good());
    let v = os.hw().borrow().reg(0x8000);
    os.hw().borrow_mut().regs.insert(0x8000, v | (1 << 29));
    vf.admin_task();
    assert_eq!(vf.counters().aq_errors, 1);
    assert_eq!(vf.aq_counters().arq_ovfl, 1);
    assert_eq!(os.hw().borrow().reg(0x8000), v);
    assert_eq!(vf.state(), VfState::Running);
}

#[test]
fn queue_full_is_busy() {
    let mut pf = Pf::good();
    pf.silent_ops.push(12);
    let (_os, mut vf) = attached(pf);
    let mut busy = false;
    for v in 1..100 {
        match vf.vlan_register(v) {
            Ok(_) => {}
            Err(Error::Busy) => {
                busy = true;
                break;
            }
            Err(e) => panic!("{e:?}"),
        }
    }
    assert!(busy);
    assert!(vf.counters().busy >= 1);
}

// ---------------------------------------------------------------------------
// reset recovery
// ---------------------------------------------------------------------------

fn tick(os: &FakeOs, vf: &mut Vf<FakeOs>, us: u64) -> AdminReport {
    os.hw().borrow_mut().advance(us);
    let mut r = vf.timer();
    for _ in 0..8 {
        r.merge(&vf.admin_task());
    }
    r
}

#[test]
fn recovery_after_pf_reset_replays_state() {
    let (os, mut vf) = attached(Pf::good());
    init_ok(&os, &mut vf, 2, 3);
    let t = vf.vlan_register(10).unwrap();
    assert_eq!(done(&mut vf, t), Ok(()));
    let t = vf.set_multicast(&[mc(1)]).unwrap();
    assert_eq!(done(&mut vf, t), Ok(()));
    let t = vf.set_promisc(false, true).unwrap();
    assert_eq!(done(&mut vf, t), Ok(()));
    vf.admin_task();
    assert!(vf.link().up);
    // PF-initiated reset: RESET_IMPENDING, then the reset itself.
    os.hw().borrow_mut().push_msg(17, 0, reset_event());
    let rep = vf.admin_task();
    assert!(rep.reset_detected && rep.link_changed);
    assert!(!vf.link().up);
    assert_eq!(vf.state(), VfState::Recovering);
    assert!(!vf.queues_enabled());
    assert_eq!(vf.start_init(&setup(2, 3)), Err(Error::InReset));
    os.hw().borrow_mut().do_reset();
    os.hw().borrow_mut().sent.clear();
    // Nothing happens before the first 250 ms back-off.
    let r = tick(&os, &mut vf, 200_000);
    assert!(!r.reinit_needed);
    assert!(os.hw().borrow().sent.is_empty());
    let r = tick(&os, &mut vf, 60_000);
    assert!(r.reinit_needed, "{r:?}");
    assert_eq!(vf.state(), VfState::Running);
    let hw = os.hw();
    let ops = hw.borrow().sent_ops();
    assert_eq!(ops, vec![1, 3, 10, 10, 12, 14]);
    // Replay: primary MAC, the multicast list, VLAN 0 + 10, allmulti.
    assert_eq!(&hw.borrow().sent_of(10)[0][4..10], &vf.mac());
    assert_eq!(&hw.borrow().sent_of(10)[1][4..10], &mc(1));
    assert_eq!(
        hw.borrow().sent_of(12)[0],
        vec![0x18, 0, 2, 0, 0, 0, 10, 0, 0, 0]
    );
    assert_eq!(hw.borrow().sent_of(14)[0], vec![0x18, 0, 2, 0]);
    assert_eq!(vf.counters().recoveries, 1);
    assert_eq!(vf.counters().resets_detected, 1);
    // iflib's reinit then works again.
    init_ok(&os, &mut vf, 2, 3);
    assert!(vf.queues_enabled());
}

#[test]
fn recovery_detects_silent_reset_via_arqlen() {
    let (os, mut vf) = attached(Pf::good());
    init_ok(&os, &mut vf, 1, 2);
    os.hw().borrow_mut().do_reset();
    let rep = vf.admin_task();
    assert!(rep.reset_detected);
    let r = tick(&os, &mut vf, 300_000);
    assert!(r.reinit_needed);
}

#[test]
fn recovery_detects_deadbeef_and_rstat() {
    let (os, mut vf) = attached(Pf::good());
    os.hw().borrow_mut().regs.insert(0x8000, 0xDEAD_BEEF);
    assert!(vf.admin_task().reset_detected);
    let (os, mut vf) = attached(Pf::good());
    os.hw().borrow_mut().regs.insert(0x8800, 0);
    assert!(vf.timer().reset_detected);
    let _ = os;
}

#[test]
fn recovery_backoff_schedule() {
    let (os, mut vf) = attached(Pf::good());
    // The VF stays in reset for a long time.
    os.hw().borrow_mut().pf.reset_us = 100_000_000;
    os.hw().borrow_mut().do_reset();
    let t0 = os.hw().borrow().now;
    assert!(vf.admin_task().reset_detected);
    assert_eq!(vf.recovery_next_at(), Some(t0 + 250_000));
    let mut expect = t0 + 250_000;
    for d in [1_000_000u64, 4_000_000, 8_000_000, 8_000_000, 8_000_000] {
        let now = os.hw().borrow().now;
        tick(&os, &mut vf, expect - now);
        expect += d;
        assert_eq!(vf.recovery_next_at(), Some(expect));
    }
    assert_eq!(vf.counters().recovery_attempts, 5);
    assert_eq!(vf.state(), VfState::Recovering);
}

#[test]
fn recovery_resources_shrunk_stays_down() {
    let (os, mut vf) = attached(Pf::good());
    init_ok(&os, &mut vf, 4, 5);
    os.hw().borrow_mut().pf.num_qp = 2;
    os.hw().borrow_mut().do_reset();
    vf.admin_task();
    let r = tick(&os, &mut vf, 300_000);
    assert_eq!(
        r.recovery_failed,
        Some(Error::ResourcesShrunk {
            queues: 2,
            vectors: 5
        })
    );
    assert_eq!(
        vf.state(),
        VfState::Failed(Error::ResourcesShrunk {
            queues: 2,
            vectors: 5
        })
    );
    assert_eq!(vf.counters().recovery_failures, 1);
    assert!(matches!(
        vf.start_init(&setup(2, 3)),
        Err(Error::ResourcesShrunk { .. })
    ));
}

#[test]
fn recovery_retries_when_handshake_fails() {
    let (os, mut vf) = attached(Pf::good());
    os.hw().borrow_mut().do_reset();
    vf.admin_task();
    // The PF answers nothing for a while.
    os.hw().borrow_mut().pf.respond = false;
    tick(&os, &mut vf, 300_000);
    assert_eq!(vf.state(), VfState::Recovering);
    tick(&os, &mut vf, 3_100_000); // the VERSION deadline passes
    assert_eq!(vf.counters().timeouts, 1);
    os.hw().borrow_mut().pf.respond = true;
    let r = tick(&os, &mut vf, 1_100_000);
    assert!(r.reinit_needed, "{r:?}");
    assert_eq!(vf.state(), VfState::Running);
}

#[test]
fn impending_without_reset_eventually_rehandshakes() {
    let (os, mut vf) = attached(Pf::good());
    os.hw().borrow_mut().push_msg(17, 0, reset_event());
    assert!(vf.admin_task().reset_detected);
    os.hw().borrow_mut().sent.clear();
    tick(&os, &mut vf, 260_000);
    // Still waiting for the announced reset.
    assert!(os.hw().borrow().sent.is_empty());
    tick(&os, &mut vf, 1_000_000);
    assert!(os.hw().borrow().sent.is_empty());
    tick(&os, &mut vf, 4_000_000);
    assert_eq!(os.hw().borrow().sent_ops()[0], 1);
}

#[test]
fn filter_changes_during_recovery_are_replayed() {
    let (os, mut vf) = attached(Pf::good());
    os.hw().borrow_mut().do_reset();
    vf.admin_task();
    let t = vf.vlan_register(33).unwrap();
    assert_eq!(vf.poll(t), Poll::Done(Ok(())));
    let t = vf.set_mac([0x02, 9, 9, 9, 9, 9]).unwrap();
    assert_eq!(vf.poll(t), Poll::Done(Ok(())));
    os.hw().borrow_mut().sent.clear();
    assert!(tick(&os, &mut vf, 300_000).reinit_needed);
    let hw = os.hw();
    assert_eq!(&hw.borrow().sent_of(10)[0][4..10], &[0x02, 9, 9, 9, 9, 9]);
    assert_eq!(
        hw.borrow().sent_of(12)[0],
        vec![0x18, 0, 2, 0, 0, 0, 33, 0, 0, 0]
    );
}

// ---------------------------------------------------------------------------
// detach
// ---------------------------------------------------------------------------

#[test]
fn detach_disables_resets_and_shuts_down() {
    let (os, mut vf) = attached(Pf::good());
    init_ok(&os, &mut vf, 2, 3);
    vf.enable_admin_irq();
    os.hw().borrow_mut().sent.clear();
    vf.detach();
    assert_eq!(os.hw().borrow().sent_ops(), vec![9, 2]);
    for off in [0x6800u32, 0x8000, 0x7C00, 0x6C00] {
        assert_eq!(os.hw().borrow().reg(off), 0);
    }
    assert_eq!(os.hw().borrow().reg(0x5000), 0);
    assert_eq!(vf.state(), VfState::Detached);
    assert_eq!(vf.start_init(&setup(1, 2)), Err(Error::Detached));
    vf.detach(); // idempotent
}

#[test]
fn stale_ticket() {
    let (_os, mut vf) = attached(Pf::good());
    let first = vf.set_promisc(true, false).unwrap();
    assert_eq!(done(&mut vf, first), Ok(()));
    for _ in 0..TICKETS + 1 {
        let t = vf.set_promisc(false, false).unwrap();
        assert_eq!(done(&mut vf, t), Ok(()));
    }
    assert_eq!(vf.poll(first), Poll::Done(Err(Error::StaleTicket)));
}

// ---------------------------------------------------------------------------
// more edge cases
// ---------------------------------------------------------------------------

#[test]
fn rss_through_registers_when_only_rss_reg_granted() {
    let mut pf = Pf::good();
    pf.supported_caps &= !(1 << 19); // no RSS_PF
    pf.custom = Some(Box::new(|op, p| {
        if op == 3 {
            // Like i40e: RSS_PF not requested-and-supported ⇒ grant RSS_REG.
            let req = u32::from_le_bytes([p[0], p[1], p[2], p[3]]);
            let mut v = vec![0u8; 52];
            le16(&mut v, 0, 1);
            le16(&mut v, 2, 4);
            le16(&mut v, 4, 5);
            le32(&mut v, 8, (req & 0x0001_0081) | 0x11);
            le32(&mut v, 12, 52);
            le32(&mut v, 16, 64);
            le16(&mut v, 20, 0x18);
            le16(&mut v, 22, 4);
            le32(&mut v, 24, 6);
            Some(vec![(3, 0, v)])
        } else {
            None
        }
    }));
    let (os, mut vf) = attached(pf);
    assert!(vf.resources().caps.contains(VfCaps::RSS_REG));
    assert!(!vf.resources().caps.contains(VfCaps::RSS_PF));
    os.hw().borrow_mut().sent.clear();
    init_ok(&os, &mut vf, 3, 4);
    let hw = os.hw();
    let hw = hw.borrow();
    // No virtchnl RSS messages.
    assert!(hw.sent_of(23).is_empty() && hw.sent_of(24).is_empty() && hw.sent_of(26).is_empty());
    // VFQF_HKEY(0) holds key bytes 0..3 little-endian; VFQF_HLUT(0) = entries 0,1,2,0.
    let k = vf.rss_key();
    assert_eq!(hw.reg(0xCC00), u32::from_le_bytes([k[0], k[1], k[2], k[3]]));
    assert_eq!(
        hw.reg(0xCC30),
        u32::from_le_bytes([k[48], k[49], k[50], k[51]])
    );
    assert_eq!(hw.reg(0xD000), 0x0002_0100);
    assert_eq!(hw.reg(0xD004), 0x0100_0201);
    // HENA = the base PCTYPE set.
    assert_eq!(hw.reg(0xC400), 0x8000_0000);
    assert_eq!(hw.reg(0xC404), 0x0000_7A1E);
}

#[test]
fn attach_skips_events_while_waiting() {
    let mut pf = Pf::good();
    pf.custom = Some(Box::new(|op, _| {
        if op == 1 {
            Some(vec![
                (17, 0, link_event(false, 0)),
                (15, 0, vec![0; 96]),
                (1, 0, vec![1, 0, 0, 0, 1, 0, 0, 0]),
            ])
        } else {
            None
        }
    }));
    let (_os, vf) = attached(pf);
    assert_eq!(vf.resources().version, (1, 1));
    assert_eq!(vf.counters().unexpected_replies, 1);
    // The injected event and the LINK_CHANGE that follows GET_VF_RESOURCES.
    assert_eq!(vf.counters().events, 2);
}

#[test]
fn attach_aborts_on_reset_impending() {
    let mut pf = Pf::good();
    pf.custom = Some(Box::new(|op, _| {
        if op == 3 {
            Some(vec![(17, 0, reset_event())])
        } else {
            None
        }
    }));
    let r = Vf::attach(FakeOs::new(pf), &AttachConfig::default());
    assert!(matches!(r, Err(Error::Reset)), "{r:?}");
}

#[test]
fn attach_without_reset_when_configured() {
    let os = FakeOs::new(Pf::good());
    let h = os.handle();
    let cfg = AttachConfig {
        reset_on_attach: false,
        ..AttachConfig::default()
    };
    let vf = Vf::attach(os, &cfg).unwrap();
    assert_eq!(h.hw().borrow().sent_ops(), vec![1, 3]);
    assert_eq!(vf.state(), VfState::Running);
}

#[test]
fn vf_is_small_enough_to_embed() {
    let n = core::mem::size_of::<Vf<FakeOs>>();
    std::eprintln!("size_of::<Vf<FakeOs>>() = {n}");
    assert!(n < 8 * 1024, "{n}");
}

#[test]
fn max_frame_is_clamped_to_the_pf() {
    let mut pf = Pf::good();
    pf.max_mtu = 1522;
    let (os, mut vf) = attached(pf);
    let mut s = setup(1, 2);
    s.max_frame = 9000;
    let t = vf.start_init(&s).unwrap();
    assert_eq!(done(&mut vf, t), Ok(()));
    let m = &os.hw().borrow().sent_of(6)[0];
    // rxq.max_pkt_size @ 8 + 24 + 16
    assert_eq!(u32::from_le_bytes([m[48], m[49], m[50], m[51]]), 1522);
    // A bogus tiny PF value cannot make the clamp panic.
    let mut pf = Pf::good();
    pf.max_mtu = 10;
    let (_os, mut vf) = attached(pf);
    let t = vf.start_init(&setup(1, 2)).unwrap();
    assert_eq!(done(&mut vf, t), Ok(()));
}

#[test]
fn timeout_on_every_request_is_bounded() {
    // A PF that answers attach and then nothing: every request of init times out
    // in turn (only the first fatal one runs), and nothing blocks.
    let (os, mut vf) = attached(Pf::good());
    os.hw().borrow_mut().pf.respond = false;
    let t = vf.start_init(&setup(1, 2)).unwrap();
    let r = wait(&mut vf, t, 100_000_000);
    assert!(matches!(r, Err(Error::Timeout { .. })), "{r:?}");
    // Soft steps timed out one by one (ADD_ETH_ADDR), then the fatal CONFIG_VSI_QUEUES.
    assert_eq!(vf.counters().timeouts, 2);
}

#[test]
fn failed_attach_shuts_the_aq_down() {
    let mut pf = Pf::good();
    pf.refuse.insert(3, -5);
    let os = FakeOs::new(pf);
    let h = os.handle();
    let r = Vf::attach(os, &AttachConfig::default());
    assert!(matches!(
        r,
        Err(Error::Refused {
            op: VcOp::GET_VF_RESOURCES,
            status: -5
        })
    ));
    for off in [0x6800u32, 0x8000, 0x7C00, 0x6C00, 0x7800, 0x6000] {
        assert_eq!(h.hw().borrow().reg(off), 0, "{off:#x}");
    }
}

#[test]
fn drop_without_detach_shuts_the_aq_down() {
    let (os, vf) = attached(Pf::good());
    assert_ne!(os.hw().borrow().reg(0x8000), 0);
    drop(vf);
    assert_eq!(os.hw().borrow().reg(0x8000), 0);
    assert_eq!(os.hw().borrow().reg(0x6800), 0);
}

#[test]
fn vlan_interrupted_by_reset_is_replayed_not_forgotten() {
    let mut pf = Pf::good();
    pf.silent_ops.push(12);
    let (os, mut vf) = attached(pf);
    let t = vf.vlan_register(42).unwrap();
    vf.admin_task();
    assert_eq!(vf.poll(t), Poll::Pending);
    os.hw().borrow_mut().pf.silent_ops.clear();
    os.hw().borrow_mut().do_reset();
    vf.admin_task();
    assert_eq!(vf.poll(t), Poll::Done(Err(Error::Reset)));
    assert!(vf.vlans().contains(42));
    os.hw().borrow_mut().sent.clear();
    assert!(tick(&os, &mut vf, 300_000).reinit_needed);
    assert_eq!(
        os.hw().borrow().sent_of(12)[0],
        vec![0x18, 0, 2, 0, 0, 0, 42, 0, 0, 0]
    );
}

#[test]
fn request_reset_recovers() {
    let (os, mut vf) = attached(Pf::good());
    init_ok(&os, &mut vf, 2, 3);
    os.hw().borrow_mut().sent.clear();
    vf.request_reset().unwrap();
    assert_eq!(os.hw().borrow().sent_ops(), vec![2]);
    assert_eq!(os.hw().borrow().resets, 2);
    let rep = vf.admin_task();
    assert!(rep.reset_detected);
    assert_eq!(vf.state(), VfState::Recovering);
    assert!(!vf.queues_enabled());
    let r = tick(&os, &mut vf, 300_000);
    assert!(r.reinit_needed, "{r:?}");
    assert_eq!(os.hw().borrow().sent_ops()[..3], [2, 1, 3]);
    assert_eq!(vf.request_reset(), Ok(()));
}

#[test]
fn lost_reset_vf_is_sent_again() {
    // The first RESET_VF after attach is swallowed (no reset starts): RSTAT keeps the
    // INPROGRESS ravf wrote while ARQLEN.ENABLE stays set. Recovery must not wait
    // on that forever; it re-sends RESET_VF and then completes.
    let swallowed = std::rc::Rc::new(core::cell::Cell::new(0u32));
    let s2 = swallowed.clone();
    let mut pf = Pf::good();
    pf.custom = Some(Box::new(move |op, _| {
        if op == 2 && s2.get() < 2 {
            s2.set(s2.get() + 1);
            // The attach-time RESET_VF is the first; swallow the second only.
            if s2.get() == 2 {
                return Some(Vec::new());
            }
        }
        None
    }));
    let (os, mut vf) = attached(pf);
    init_ok(&os, &mut vf, 2, 3);
    let resets = os.hw().borrow().resets;
    vf.request_reset().unwrap();
    assert_eq!(os.hw().borrow().resets, resets, "RESET_VF swallowed");
    assert_eq!(
        os.hw().borrow().reg(0x8800),
        0,
        "RSTAT holds our INPROGRESS"
    );
    let mut recovered = false;
    for _ in 0..40 {
        if tick(&os, &mut vf, 500_000).reinit_needed {
            recovered = true;
            break;
        }
    }
    assert!(recovered, "{:?}", vf.state());
    assert_eq!(os.hw().borrow().resets, resets + 1);
    assert_eq!(vf.counters().reset_requests, 2);
    assert_eq!(vf.state(), VfState::Running);
}

#[test]
fn set_mac_then_init_adds_the_new_mac_only() {
    let mut pf = Pf::good();
    pf.mac = PF_MAC;
    let (os, mut vf) = attached(pf);
    let new = [0x02, 0xAA, 0, 0, 0, 1];
    os.hw().borrow_mut().sent.clear();
    let _ = vf.set_mac(new).unwrap();
    let t = vf.start_init(&setup(1, 2)).unwrap();
    assert_eq!(done(&mut vf, t), Ok(()));
    let hw = os.hw();
    let adds = hw.borrow().sent_of(10);
    assert_eq!(adds.len(), 2);
    assert_eq!(&adds[0][4..10], &new);
    assert_eq!(&adds[1][4..10], &new);
    assert_eq!(hw.borrow().sent_of(11).len(), 1);
    assert_eq!(&hw.borrow().sent_of(11)[0][4..10], &PF_MAC);
    drop(hw);
    assert_eq!(unicast_filters(&os, &[PF_MAC]), vec![new]);
    assert_eq!(vf.mac(), new);
}

#[test]
fn set_mac_during_recovery_deletes_the_pf_default_after_replay() {
    let mut pf = Pf::good();
    pf.mac = PF_MAC;
    let (os, mut vf) = attached(pf);
    os.hw().borrow_mut().do_reset();
    vf.admin_task();
    let new = [0x02, 9, 9, 9, 9, 9];
    let t = vf.set_mac(new).unwrap();
    assert_eq!(vf.poll(t), Poll::Done(Ok(())));
    os.hw().borrow_mut().sent.clear();
    assert!(tick(&os, &mut vf, 300_000).reinit_needed);
    // After the reset the PF re-created its default filter (PF_MAC) only.
    assert_eq!(unicast_filters(&os, &[PF_MAC]), vec![new]);
}

/// xorshift64*: deterministic pseudo-random numbers for the fuzz test.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

#[test]
fn fuzz_pf_replies_never_panic_and_waits_stay_bounded() {
    let mut attached_count = 0;
    let mut recovered = 0;
    for seed in 1..=200u64 {
        let rng = std::rc::Rc::new(core::cell::RefCell::new(Rng(
            seed.wrapping_mul(0x9E37_79B9_7F4A_7C15)
        )));
        let mut pf = Pf::good();
        let r2 = rng.clone();
        pf.custom = Some(Box::new(move |op, _| {
            let mut r = r2.borrow_mut();
            // Mostly well-formed answers (so attach gets somewhere), sometimes garbage.
            if r.below(4) != 0 {
                return None;
            }
            let mut out = Vec::new();
            for _ in 0..r.below(3) {
                let len = r.below(120) as usize;
                let payload: Vec<u8> = (0..len).map(|_| r.next() as u8).collect();
                let reply_op = if r.below(3) == 0 {
                    r.below(30) as u32
                } else {
                    op
                };
                let status = if r.below(3) == 0 {
                    -(r.below(100) as i32)
                } else {
                    0
                };
                out.push((reply_op, status, payload));
            }
            if r.below(5) == 0 {
                let mut e = vec![0u8; 16];
                for b in e.iter_mut() {
                    *b = r.next() as u8;
                }
                e[0] = r.below(5) as u8;
                e[1] = 0;
                e[2] = 0;
                e[3] = 0;
                out.push((17, 0, e));
            }
            Some(out)
        }));
        let os = FakeOs::new(pf);
        let h = os.handle();
        let Ok(mut vf) = Vf::attach(os, &AttachConfig::default()) else {
            continue;
        };
        attached_count += 1;
        for round in 0..6 {
            let n = vf.resources().num_queue_pairs.min(4);
            let nv = vf.resources().max_vectors.min(n + 1);
            let t = match round % 3 {
                0 => vf.start_init(&setup(n, nv)),
                1 => vf.set_multicast(&[mc(1), mc(2)]),
                _ => vf.vlan_register(5 + round as u16),
            };
            if let Ok(t) = t {
                let _ = wait(&mut vf, t, 20_000_000);
            }
            // Occasionally a garbage ARQH or a reset.
            let x = rng.borrow_mut().below(10);
            if x == 0 {
                h.hw().borrow_mut().regs.insert(0x7400, 0x3FF);
            } else if x == 1 {
                h.hw().borrow_mut().do_reset();
            }
            for _ in 0..4 {
                h.hw().borrow_mut().advance(2_000_000);
                vf.timer();
                vf.admin_task();
            }
        }
        recovered += vf.counters().recoveries;
        vf.detach();
    }
    std::eprintln!("fuzz: {attached_count}/200 attached, {recovered} recoveries");
    // The fuzz must reach past attach often enough to mean something.
    assert!(attached_count >= 50, "{attached_count}");
}

#[test]
fn head_writeback_fields_in_config_vsi_queues() {
    let (os, mut vf) = attached(Pf::good());
    let mut s = setup(2, 3);
    s.tx[1].headwb_paddr = 0x4_0000_1000;
    let t = vf.start_init(&s).unwrap();
    assert_eq!(done(&mut vf, t), Ok(()));
    let m = &os.hw().borrow().sent_of(6)[0];
    // pair 0: headwb_enabled @ 8+6 = 0, dma_headwb_addr @ 8+16 = 0
    assert_eq!(&m[14..16], &[0, 0]);
    assert_eq!(&m[24..32], &[0; 8]);
    // pair 1 @ 72: headwb_enabled @ 78 = 1, dma_headwb_addr @ 88
    assert_eq!(&m[78..80], &[1, 0]);
    assert_eq!(&m[88..96], &0x4_0000_1000u64.to_le_bytes());
}

#[test]
fn repeated_handshake_failure_requests_a_reset() {
    let (os, mut vf) = attached(Pf::good());
    os.hw().borrow_mut().pf.refuse.insert(3, -22);
    os.hw().borrow_mut().do_reset();
    assert!(vf.admin_task().reset_detected);
    os.hw().borrow_mut().sent.clear();
    tick(&os, &mut vf, 260_000); // attempt 0: VERSION, GET_VF_RESOURCES refused
    assert_eq!(os.hw().borrow().sent_ops(), vec![1, 3]);
    assert_eq!(vf.counters().reset_requests, 0);
    tick(&os, &mut vf, 1_000_000); // attempt 1: refused again → RESET_VF
    assert_eq!(os.hw().borrow().sent_ops(), vec![1, 3, 1, 3, 2]);
    assert_eq!(vf.counters().reset_requests, 1);
    assert_eq!(os.hw().borrow().resets, 3);
    os.hw().borrow_mut().pf.refuse.clear();
    let r = tick(&os, &mut vf, 4_000_000);
    assert!(r.reinit_needed, "{r:?}");
    assert_eq!(vf.state(), VfState::Running);
}

#[test]
fn vlan_stripping_and_its_replay() {
    let (os, mut vf) = attached(Pf::good());
    assert_eq!(vf.vlan_stripping(), (true, true));
    let t = vf.set_vlan_stripping(false).unwrap();
    assert_eq!(done(&mut vf, t), Ok(()));
    assert_eq!(vf.vlan_stripping(), (false, false));
    assert_eq!(os.hw().borrow().sent_of(28), vec![Vec::<u8>::new()]);
    // After a reset the PF strips again; ravf turns it back off.
    os.hw().borrow_mut().do_reset();
    vf.admin_task();
    os.hw().borrow_mut().sent.clear();
    assert!(tick(&os, &mut vf, 300_000).reinit_needed);
    assert_eq!(os.hw().borrow().sent_ops(), vec![1, 3, 10, 28, 14]);
    assert_eq!(vf.vlan_stripping(), (false, false));
    let t = vf.set_vlan_stripping(true).unwrap();
    assert_eq!(done(&mut vf, t), Ok(()));
    assert_eq!(os.hw().borrow().sent_of(27).len(), 1);
    let mut pf = Pf::good();
    pf.supported_caps &= !(1 << 16);
    let (_os, mut vf) = attached(pf);
    assert_eq!(vf.set_vlan_stripping(false), Err(Error::NotSupported));
}

#[test]
fn add_vlan_re_disables_stripping_that_upstream_i40e_turned_on() {
    // PF-UP enables VLAN stripping on every ADD_VLAN (hw-contract 5.6).
    let (os, mut vf) = attached(Pf::good());
    let t = vf.set_vlan_stripping(false).unwrap();
    assert_eq!(done(&mut vf, t), Ok(()));
    os.hw().borrow_mut().sent.clear();
    let t = vf.vlan_register(10).unwrap();
    assert_eq!(done(&mut vf, t), Ok(()));
    for _ in 0..4 {
        vf.admin_task();
    }
    assert_eq!(os.hw().borrow().sent_ops(), vec![12, 28]);
    assert_eq!(vf.vlan_stripping(), (false, false));
    // With stripping wanted on, nothing extra is sent.
    let t = vf.set_vlan_stripping(true).unwrap();
    assert_eq!(done(&mut vf, t), Ok(()));
    os.hw().borrow_mut().sent.clear();
    let t = vf.vlan_register(11).unwrap();
    assert_eq!(done(&mut vf, t), Ok(()));
    vf.admin_task();
    assert_eq!(os.hw().borrow().sent_ops(), vec![12]);
}

#[test]
fn back_to_back_inits_disable_in_between() {
    let (os, mut vf) = attached(Pf::good());
    os.hw().borrow_mut().sent.clear();
    let t1 = vf.start_init(&setup(2, 3)).unwrap();
    let t2 = vf.start_init(&setup(2, 3)).unwrap();
    let t3 = vf.start_stop().unwrap();
    assert_eq!(done(&mut vf, t3), Ok(()));
    assert_eq!(vf.poll(t1), Poll::Done(Ok(())));
    assert_eq!(vf.poll(t2), Poll::Done(Ok(())));
    let ops = os.hw().borrow().sent_ops();
    // First init (no DISABLE: nothing enabled yet), second init starts with DISABLE,
    // the stop ends with DISABLE.
    assert_eq!(ops.iter().filter(|&&o| o == 9).count(), 2, "{ops:?}");
    assert_eq!(ops.iter().filter(|&&o| o == 8).count(), 2, "{ops:?}");
    assert_eq!(*ops.last().unwrap(), 9);
    assert!(!vf.queues_enabled());
}
