//! RX ring tests. Write-back images are built from the bit table of hw-contract 6.5
//! with the local constants below (not this crate's), plus one raw byte fixture.

extern crate std;

use std::vec;
use std::vec::Vec;

use super::*;
use crate::txrx::testutil::{BarLog, VecDma, XorShift};

const NRXD: u16 = 64;

// hw-contract 6.5, status_error_len.
const DD: u64 = 1 << 0;
const EOF: u64 = 1 << 1;
const L2TAG1P: u64 = 1 << 2;
const L3L4P: u64 = 1 << 3;
const FLT_RSS: u64 = 3 << 12;
const IPV6EXADD: u64 = 1 << 15;
const RXE: u64 = 1 << 19;
const IPE: u64 = 1 << 22;
const L4E: u64 = 1 << 23;
const OVERSIZE: u64 = 1 << 25;

fn qw1(bits: u64, ptype: u64, plen: u64) -> u64 {
    bits | (ptype << 30) | (plen << 38)
}

/// A write-back: QW0 = l2tag1 `[31:16]` | rss `[63:32]`, QW1 = status.
fn wb(r: &RxRing<VecDma>, i: u16, l2tag1: u16, rss: u32, q1: u64) {
    let q0 = (u64::from(l2tag1) << 16) | (u64::from(rss) << 32);
    r.region().wr_u64(i as usize * 32, q0);
    r.region().wr_u64(i as usize * 32 + 8, q1);
}

fn status(r: &RxRing<VecDma>, i: u16) -> u64 {
    r.region().rd_u64(i as usize * 32 + 8)
}

fn ring() -> RxRing<VecDma> {
    let mut r = RxRing::new(VecDma::new(NRXD as usize * 32), NRXD, 5).unwrap();
    r.set_buf_size(2048);
    r
}

fn info(frags: &mut [RxFrag], cidx: u16) -> RxPkt<'_> {
    RxPkt {
        cidx,
        frags,
        nfrags: 0xEE,
        len: 0xEEEE,
        vtag: 0xEEEE,
        flags: 0xEE,
        flowid: 0xEEEE_EEEE,
        rsstype: 0xEE,
        csum_flags: 0xEEEE_EEEE,
        csum_data: 0xEEEE_EEEE,
        qsidx: 5,
    }
}

const L3L4_ALL: u32 = 0x0100_0000 | 0x0200_0000 | 0x0400_0000 | 0x0800_0000;

#[test]
fn single_descriptor_exact_bytes() {
    let mut r = ring();
    // DD|EOF|L3L4P|FLTSTAT=3, PTYPE 26 (IPv4/TCP), LENGTH_PBUF 60; RSS 0xDEADBEEF.
    r.region().write(
        7 * 32,
        &[
            0x00, 0x00, 0x00, 0x00, 0xEF, 0xBE, 0xAD, 0xDE, // QW0
            0x0B, 0x30, 0x00, 0x80, 0x06, 0x0F, 0x00, 0x00, // QW1
        ],
    );
    assert_eq!(r.available(7, 16), 1);
    let mut frags = [RxFrag::default(); 5];
    let mut ri = info(&mut frags, 7);
    r.pkt_get(&mut ri).unwrap();
    assert_eq!(ri.nfrags, 1);
    assert_eq!(ri.len, 60);
    assert_eq!((ri.vtag, ri.flags), (0, 0));
    assert_eq!(ri.flowid, 0xDEAD_BEEF);
    assert_eq!(ri.rsstype, 0x82); // M_HASHTYPE_RSS_TCP_IPV4
    assert_eq!(ri.csum_flags, L3L4_ALL);
    assert_eq!(ri.csum_data, 0xFFFF);
    assert_eq!(
        frags[0],
        RxFrag {
            flid: 0,
            idx: 7,
            len: 60
        }
    );
    // Status cleared, QW0 left alone.
    assert_eq!(r.region().bytes(7 * 32 + 8, 8), [0; 8]);
    assert_eq!(r.region().rd_u64(7 * 32), 0xDEAD_BEEF_0000_0000);
    assert_eq!(r.available(7, 16), 0);
    assert_eq!(
        (r.counters.packets, r.counters.bytes, r.counters.desc_err),
        (1, 60, 0)
    );
}

#[test]
fn multi_descriptor_frame_wraps_with_vlan() {
    let mut r = ring();
    wb(&r, 62, 0, 0, qw1(DD, 0, 2048));
    wb(&r, 63, 0, 0, qw1(DD, 0, 2048));
    wb(
        &r,
        0,
        0x0064,
        0x1111,
        qw1(DD | EOF | L2TAG1P | L3L4P, 24, 1000),
    ); // IPv4/UDP, no RSS
    assert_eq!(r.available(62, 16), 1);
    let mut frags = [RxFrag::default(); 8];
    let mut ri = info(&mut frags, 62);
    r.pkt_get(&mut ri).unwrap();
    assert_eq!(ri.nfrags, 3);
    assert_eq!(ri.len, 5096);
    assert_eq!((ri.vtag, ri.flags), (0x0064, 0x80)); // M_VLANTAG
    assert_eq!((ri.flowid, ri.rsstype), (0, 63)); // FLTSTAT != 3: no hash, M_HASHTYPE_OPAQUE
    assert_eq!(ri.csum_flags, L3L4_ALL);
    assert_eq!(
        frags[..3],
        [
            RxFrag {
                flid: 0,
                idx: 62,
                len: 2048
            },
            RxFrag {
                flid: 0,
                idx: 63,
                len: 2048
            },
            RxFrag {
                flid: 0,
                idx: 0,
                len: 1000
            }
        ]
    );
    for i in [62, 63, 0] {
        assert_eq!(status(&r, i), 0);
    }
}

#[test]
fn rss_hash_types_follow_ptype() {
    let mut r = ring();
    // (ptype, rsstype): 92 IPv6/TCP, 90 IPv6/UDP, 24 IPv4/UDP, 23 IPv4, 89 IPv6, 1 L2.
    let cases = [
        (92, 0x84),
        (90, 0x89),
        (24, 0x87),
        (23, 0x81),
        (89, 0x83),
        (1, 63),
    ];
    for (k, (pt, ht)) in cases.into_iter().enumerate() {
        let i = k as u16;
        wb(
            &r,
            i,
            0,
            0xA5A5_0000 + i as u32,
            qw1(DD | EOF | FLT_RSS, pt, 100),
        );
        let mut frags = [RxFrag::default(); 5];
        let mut ri = info(&mut frags, i);
        r.pkt_get(&mut ri).unwrap();
        assert_eq!(
            (ri.flowid, ri.rsstype),
            (0xA5A5_0000 + i as u32, ht),
            "ptype {pt}"
        );
    }
}

#[test]
fn checksum_verdicts_per_ptype() {
    let l3 = 0x0100_0000 | 0x0200_0000;
    let cases: [(u64, u64, u32, u32); 9] = [
        // (status bits, ptype, csum_flags, csum_data)
        (L3L4P, 26, L3L4_ALL, 0xFFFF),          // IPv4/TCP good
        (L3L4P | IPE, 26, 0x0100_0000, 0),      // bad IP header checksum
        (L3L4P | L4E, 26, l3 | 0x0400_0000, 0), // bad TCP checksum
        (0, 26, 0, 0),                          // not checked by HW
        (L3L4P, 93, L3L4_ALL, 0xFFFF),          // IPv6/SCTP good
        (L3L4P | IPV6EXADD, 92, 0, 0),          // IPv6 + ext headers: no verdict
        (L3L4P, 22, l3, 0),                     // IPv4 fragment: L3 only
        (L3L4P, 11, 0, 0),                      // ARP: nothing
        (L3L4P, 33, l3, 0),                     // tunnelled TCP: outer L3 only
    ];
    let mut r = ring();
    for (k, (bits, pt, flags, data)) in cases.into_iter().enumerate() {
        let i = k as u16;
        wb(&r, i, 0, 0, qw1(DD | EOF | bits, pt, 200));
        let mut frags = [RxFrag::default(); 5];
        let mut ri = info(&mut frags, i);
        r.pkt_get(&mut ri).unwrap();
        assert_eq!((ri.csum_flags, ri.csum_data), (flags, data), "case {k}");
    }
    assert_eq!(r.counters.csum_err, 2);
    // With RXCSUM off nothing is reported.
    r.set_rx_csum(false);
    wb(&r, 20, 0, 0, qw1(DD | EOF | L3L4P, 26, 200));
    let mut frags = [RxFrag::default(); 5];
    let mut ri = info(&mut frags, 20);
    r.pkt_get(&mut ri).unwrap();
    assert_eq!((ri.csum_flags, ri.csum_data), (0, 0));
}

fn get_err(r: &mut RxRing<VecDma>, cidx: u16) -> RxError {
    let mut frags = [RxFrag::default(); 5];
    let mut ri = info(&mut frags, cidx);
    r.pkt_get(&mut ri).unwrap_err()
}

#[test]
fn error_descriptors_are_counted_and_cleared() {
    let mut r = ring();
    // RXE on the EOF descriptor of a 2-descriptor frame.
    wb(&r, 0, 0, 0, qw1(DD, 26, 2048));
    wb(&r, 1, 0, 0, qw1(DD | EOF | RXE, 26, 10));
    assert_eq!(get_err(&mut r, 0), RxError::FrameError);
    assert_eq!(RxError::FrameError.errno(), 89);
    assert_eq!((status(&r, 0), status(&r, 1)), (0, 0));
    // OVERSIZE.
    wb(&r, 2, 0, 0, qw1(DD | EOF | OVERSIZE, 26, 100));
    assert_eq!(get_err(&mut r, 2), RxError::FrameError);
    // LENGTH_PBUF above the 2048-byte buffer.
    wb(&r, 3, 0, 0, qw1(DD | EOF, 26, 3000));
    assert_eq!(get_err(&mut r, 3), RxError::BadLength);
    // Zero-length frame.
    wb(&r, 4, 0, 0, qw1(DD | EOF, 26, 0));
    assert_eq!(get_err(&mut r, 4), RxError::BadLength);
    // Six descriptors without EOF: five read and cleared, the sixth untouched.
    for i in 10..16 {
        wb(&r, i, 0, 0, qw1(DD, 0, 100));
    }
    assert_eq!(get_err(&mut r, 10), RxError::TooManyFrags);
    for i in 10..15 {
        assert_eq!(status(&r, i), 0);
    }
    assert_eq!(status(&r, 15), qw1(DD, 0, 100));
    // A descriptor without DD in the middle of a frame: not touched.
    wb(&r, 20, 0, 0, qw1(DD, 0, 2048));
    wb(&r, 21, 0, 0, qw1(EOF, 0, 100));
    assert_eq!(get_err(&mut r, 20), RxError::NotDone);
    assert_eq!(status(&r, 20), 0);
    assert_eq!(status(&r, 21), qw1(EOF, 0, 100));
    // Nothing at cidx at all.
    assert_eq!(get_err(&mut r, 30), RxError::NotDone);
    // Not enough room for 5 fragments: refused before reading anything.
    wb(&r, 40, 0, 0, qw1(DD | EOF, 26, 100));
    let mut frags = [RxFrag::default(); 4];
    let mut ri = info(&mut frags, 40);
    assert_eq!(r.pkt_get(&mut ri), Err(RxError::NoFragSpace));
    assert_eq!(status(&r, 40), qw1(DD | EOF, 26, 100));
    assert_eq!(r.counters.desc_err, 8);
    assert_eq!(r.counters.packets, 0);
    assert_eq!(r.region().oob(), 0);
}

#[test]
fn available_counts_complete_frames_within_budget() {
    let r = ring();
    // Frame A: 1 descriptor. Frame B: 2. Frame C: 3, the last not yet written back.
    wb(&r, 0, 0, 0, qw1(DD | EOF, 26, 60));
    wb(&r, 1, 0, 0, qw1(DD, 26, 2048));
    wb(&r, 2, 0, 0, qw1(DD | EOF, 26, 60));
    wb(&r, 3, 0, 0, qw1(DD, 26, 2048));
    wb(&r, 4, 0, 0, qw1(DD, 26, 2048));
    assert_eq!(r.available(0, 16), 2);
    assert_eq!(r.available(0, 1), 1);
    assert_eq!(r.available(0, 0), 0);
    assert_eq!(r.available(1, 16), 1);
    assert_eq!(r.available(3, 16), 0);
    // Index outside the ring is masked (64 + 2 = slot 2).
    assert_eq!(r.available(66, 16), 1);
}

#[test]
fn available_never_walks_more_than_the_ring() {
    let r = ring();
    // Device garbage: every descriptor has DD and none has EOF.
    for i in 0..NRXD {
        wb(&r, i, 0, 0, qw1(DD, 0, 100));
    }
    assert_eq!(r.available(17, u16::MAX), 0);
    // Every descriptor a complete frame: at most nrxd - 1 of them, at most budget.
    for i in 0..NRXD {
        wb(&r, i, 0, 0, qw1(DD | EOF, 0, 100));
    }
    assert_eq!(r.available(5, u16::MAX), NRXD - 1);
    assert_eq!(r.available(5, 16), 16);
}

#[test]
fn refill_wraps_and_flush_writes_qrx_tail1() {
    let mut r = ring();
    r.region().fill(0xFF);
    r.refill(62, &[0xA000, 0xB000, 0xC000, 0xD000], 4);
    for (i, a) in [(62u16, 0xA000u64), (63, 0xB000), (0, 0xC000), (1, 0xD000)] {
        assert_eq!(r.region().rd_u64(i as usize * 32), a);
        assert_eq!(status(&r, i), u64::MAX); // only pkt_addr is written
    }
    assert_eq!(r.region().rd_u64(2 * 32), u64::MAX); // untouched
    assert_eq!(r.region().rd_u64(61 * 32), u64::MAX);
    // count above the slice is clamped; count below it is honoured.
    r.refill(10, &[0x1], 5);
    assert_eq!(r.region().rd_u64(11 * 32), u64::MAX);
    r.refill(20, &[0x1, 0x2, 0x3], 2);
    assert_eq!(r.region().rd_u64(21 * 32), 0x2);
    assert_eq!(r.region().rd_u64(22 * 32), u64::MAX);
    let bar = BarLog::default();
    r.flush(&bar, 2);
    r.flush(&bar, NRXD + 3);
    // QRX_TAIL1(5) = 0x2000 + 4 * 5.
    assert_eq!(bar.writes(), [(0x2014, 2), (0x2014, 3)]);
}

#[test]
fn init_clears_every_descriptor() {
    let mut r = ring();
    r.region().fill(0xFF);
    r.init();
    assert!(r
        .region()
        .bytes(0, NRXD as usize * 32)
        .iter()
        .all(|&b| b == 0));
    assert_eq!(r.available(0, 100), 0);
}

/// iflib's loop in miniature: available, pkt_get per frame, refill, flush; the device
/// writes frames of 1..=3 descriptors into posted slots.
#[test]
fn iflib_style_receive_loop() {
    let mut r = ring();
    let bar = BarLog::default();
    let mut rng = XorShift(77);
    let mut cidx: u16 = 0;
    let mut hw: u16 = 0; // device's next slot
    let mut sent = 0u64;
    let mut got = 0u64;
    r.refill(0, &[0x1000; 63], 63);
    r.flush(&bar, 63);
    let mut posted_end: u16 = 63;
    for _ in 0..400 {
        // Device: one frame if it fits before the tail.
        let nd = 1 + (rng.next() % 3) as u16;
        let room = posted_end.wrapping_sub(hw) & (NRXD - 1);
        if nd <= room {
            for k in 0..nd {
                let last = k + 1 == nd;
                let bits = DD | if last { EOF | L3L4P } else { 0 };
                wb(
                    &r,
                    (hw + k) & (NRXD - 1),
                    0,
                    0,
                    qw1(bits, 26, if last { 100 } else { 2048 }),
                );
            }
            hw = (hw + nd) & (NRXD - 1);
            sent += 1;
        }
        // Driver.
        let avail = r.available(cidx, 8);
        let mut used = 0u16;
        for _ in 0..avail {
            let mut frags = [RxFrag::default(); 5];
            let mut ri = info(&mut frags, cidx);
            r.pkt_get(&mut ri).unwrap();
            cidx = (cidx + ri.nfrags as u16) & (NRXD - 1);
            used += ri.nfrags as u16;
            got += 1;
        }
        if used != 0 {
            let addrs = vec![0x2000u64; used as usize];
            r.refill(posted_end, &addrs, used);
            posted_end = (posted_end + used) & (NRXD - 1);
            r.flush(&bar, posted_end);
        }
    }
    got += r.available(cidx, 64) as u64;
    assert_eq!(got, sent);
    assert_eq!(r.counters.desc_err, 0);
}

/// Random descriptor bytes: available and pkt_get never panic, never leave the region,
/// and every accepted frame is self-consistent and consumed (status cleared).
#[test]
fn fuzz_random_descriptors() {
    let mut rng = XorShift(0xDEAD_BEEF_CAFE_F00D);
    let mut r = ring();
    let mut oks = 0;
    for round in 0..3000 {
        // Randomise a few descriptors, biased towards plausible write-backs.
        for _ in 0..8 {
            let i = (rng.next() % NRXD as u64) as u16;
            let v = rng.next();
            let q1 = match v % 3 {
                0 => v,
                1 => (v & !(0x3FFF << 38)) | DD | ((v >> 7) % 2600) << 38,
                _ => (v & !(0x3FFF << 38) & !RXE & !OVERSIZE) | DD | EOF | ((v >> 9) % 2049) << 38,
            };
            wb(&r, i, v as u16, (v >> 20) as u32, q1);
        }
        if round % 7 == 0 {
            r.set_buf_size((rng.next() % 20_000) as u16);
        }
        let idx = rng.next() as u16;
        let budget = (rng.next() % 80) as u16;
        let a = r.available(idx, budget);
        assert!(a <= budget);
        let cidx = rng.next() as u16;
        let mut frags = [RxFrag::default(); 5];
        let mut ri = info(&mut frags, cidx);
        let before: Vec<u64> = (0..NRXD).map(|i| status(&r, i)).collect();
        let res = r.pkt_get(&mut ri);
        if res.is_ok() {
            oks += 1;
            let n = ri.nfrags as usize;
            assert!((1..=5).contains(&n));
            let mut sum = 0u32;
            for (k, f) in ri.frags[..n].iter().enumerate() {
                assert_eq!(f.idx, (cidx as usize + k) as u16 & (NRXD - 1));
                assert!(f.len <= r.buf_size());
                assert_eq!(f.flid, 0);
                sum += f.len as u32;
                assert_eq!(status(&r, f.idx), 0);
                assert_ne!(before[f.idx as usize] & DD, 0);
            }
            assert_eq!(sum, ri.len as u32);
            assert!(ri.len > 0);
            let last = before[ri.frags[n - 1].idx as usize];
            assert_ne!(last & EOF, 0);
            assert_eq!(ri.flags == 0x80, last & L2TAG1P != 0);
        }
        if rng.next() % 5 == 0 {
            let p = rng.next() as u16;
            let addrs = [rng.next(); 40];
            r.refill(p, &addrs, (rng.next() % 50) as u16);
        }
    }
    assert!(oks > 100, "fuzz accepted only {oks} frames");
    assert_eq!(r.region().oob(), 0);
}
