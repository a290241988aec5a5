//! TX ring tests. Descriptor fixtures are hex literals computed by hand (and checked
//! with a few lines of Python) from the bit tables of hw-contract 6.2/6.3, never from
//! this crate's constants.

extern crate std;

use std::vec;
use std::vec::Vec;

use super::*;
use crate::txrx::testutil::{BarLog, VecDma, XorShift};

const NTXD: u16 = 64;

fn ring(hwb: bool) -> TxRing<VecDma> {
    let extra = if hwb { 16 } else { 0 };
    TxRing::new(VecDma::new(NTXD as usize * 16 + extra), NTXD, 3, hwb).unwrap()
}

/// Descriptor `i` as (QW0, QW1), decoded from raw little-endian bytes.
fn desc(r: &TxRing<VecDma>, i: u16) -> (u64, u64) {
    let b = r.region().bytes(i as usize * 16, 16);
    (
        u64::from_le_bytes(b[0..8].try_into().unwrap()),
        u64::from_le_bytes(b[8..16].try_into().unwrap()),
    )
}

fn pkt<'a>(segs: &'a [Seg], len: u32, pidx: u16) -> TxPkt<'a> {
    TxPkt {
        segs,
        len,
        nsegs: segs.len() as u16,
        pidx,
        new_pidx: 0xFFFF,
        ..Default::default()
    }
}

/// Set the hardware's DESC_DONE write-back on descriptor `i` (QW1 = 0xF, hw-contract
/// 6.4 recommendation).
fn hw_done(r: &TxRing<VecDma>, i: u16) {
    r.region().wr_u64(i as usize * 16 + 8, 0xF);
}

fn set_head(r: &TxRing<VecDma>, head: u32) {
    r.region().wr_u32(NTXD as usize * 16, head);
}

#[test]
fn one_segment_exact_bytes() {
    let mut r = ring(false);
    let segs = [Seg {
        addr: 0x0000_1234_5678_9000,
        len: 60,
    }];
    let mut p = pkt(&segs, 60, 5);
    p.flags = IPI_TX_INTR;
    r.encap(&mut p).unwrap();
    assert_eq!(p.new_pidx, 6);
    // QW0 = address; QW1 = CMD EOP|RS|ICRC (0x7 << 4), BUF_SZ 60 << 34.
    assert_eq!(
        r.region().bytes(5 * 16, 16),
        [
            0x00, 0x90, 0x78, 0x56, 0x34, 0x12, 0x00, 0x00, 0x70, 0x00, 0x00, 0x00, 0xF0, 0x00,
            0x00, 0x00
        ]
    );
    assert_eq!(desc(&r, 4), (0, 0));
    assert_eq!(desc(&r, 6), (0, 0));
    assert_eq!(r.counters.packets, 1);
    assert_eq!(r.counters.bytes, 60);
    assert_eq!(r.region().oob(), 0);
}

#[test]
fn multi_segment_wraps_and_marks_eop_last_only() {
    let mut r = ring(false);
    let segs = [
        Seg {
            addr: 0xA000,
            len: 100,
        },
        Seg {
            addr: 0xB000,
            len: 200,
        },
        Seg {
            addr: 0xC000,
            len: 300,
        },
    ];
    let mut p = pkt(&segs, 600, 62);
    r.encap(&mut p).unwrap();
    assert_eq!(p.new_pidx, 1);

    assert_eq!(desc(&r, 62), (0xA000, 0x0000_0190_0000_0040)); // ICRC, 100 bytes
    assert_eq!(desc(&r, 63), (0xB000, 0x0000_0320_0000_0040)); // ICRC, 200 bytes
    assert_eq!(desc(&r, 0), (0xC000, 0x0000_04B0_0000_0050)); // EOP|ICRC, 300, no RS
    assert_eq!(desc(&r, 1), (0, 0));
}

#[test]
fn zero_length_segments_get_no_descriptor() {
    let mut r = ring(false);
    let segs = [
        Seg {
            addr: 0x1000,
            len: 60,
        },
        Seg {
            addr: 0x2000,
            len: 0,
        },
        Seg {
            addr: 0x3000,
            len: 40,
        },
    ];
    let mut p = pkt(&segs, 100, 0);
    p.flags = IPI_TX_INTR;
    r.encap(&mut p).unwrap();
    assert_eq!(p.new_pidx, 2);
    assert_eq!(desc(&r, 0), (0x1000, 0x0000_00F0_0000_0040));
    assert_eq!(desc(&r, 1), (0x3000, 0x0000_00A0_0000_0070));
}

#[test]
fn checksum_ipv4_tcp() {
    let mut r = ring(false);
    let segs = [Seg {
        addr: 0x8000,
        len: 1514,
    }];
    let mut p = pkt(&segs, 1514, 10);
    p.flags = IPI_TX_INTR | IPI_TX_IPV4;
    p.csum_flags = CSUM_IP | CSUM_IP_TCP;
    p.etype = 0x0800;
    p.ipproto = 6;
    p.ehdrlen = 14;
    p.ip_hlen = 20;
    p.tcp_hlen = 20;
    r.encap(&mut p).unwrap();
    // CMD EOP|RS|ICRC|IIPT=3|L4T=TCP = 0x167, MACLEN 7, IPLEN 5, L4LEN 5, BUF_SZ 1514.
    assert_eq!(desc(&r, 10), (0x8000, 0x0000_17A9_4287_1670));
    assert_eq!(r.counters.csum, 1);
}

#[test]
fn checksum_ipv6_udp() {
    let mut r = ring(false);
    let segs = [Seg {
        addr: 0x8000,
        len: 1000,
    }];
    let mut p = pkt(&segs, 1000, 0);
    p.csum_flags = CSUM_IP6_UDP;
    p.etype = 0x86DD;
    p.ipproto = 17;
    p.ehdrlen = 14;
    p.ip_hlen = 40;
    r.encap(&mut p).unwrap();
    // CMD EOP|ICRC|IIPT=1|L4T=UDP = 0x325, MACLEN 7, IPLEN 10, L4LEN 2.
    assert_eq!(desc(&r, 0), (0x8000, 0x0000_0FA0_8507_3250));
}

#[test]
fn checksum_ipv4_sctp_without_ip_header_csum() {
    let mut r = ring(false);
    let segs = [Seg {
        addr: 0x8000,
        len: 500,
    }];
    let mut p = pkt(&segs, 500, 0);
    p.csum_flags = CSUM_IP_SCTP;
    p.etype = 0x0800;
    p.ipproto = 132;
    p.ehdrlen = 14;
    p.ip_hlen = 20;
    r.encap(&mut p).unwrap();
    // CMD EOP|ICRC|IIPT=2|L4T=SCTP = 0x245, MACLEN 7, IPLEN 5, L4LEN 3.
    assert_eq!(desc(&r, 0), (0x8000, 0x0000_07D0_C287_2450));
}

#[test]
fn vlan_insertion() {
    let mut r = ring(false);
    let segs = [Seg {
        addr: 0x4000,
        len: 64,
    }];
    let mut p = pkt(&segs, 64, 0);
    p.mflags = M_VLANTAG;
    p.vtag = 0x2123; // PCP 1, VID 0x123
    r.encap(&mut p).unwrap();
    // CMD EOP|ICRC|IL2TAG1 = 0xD, BUF_SZ 64, L2TAG1 0x2123.
    assert_eq!(desc(&r, 0), (0x4000, 0x2123_0100_0000_00D0));
    // Without M_VLANTAG the tag is not inserted and the field stays 0.
    let mut p = pkt(&segs, 64, 1);
    p.vtag = 0x2123;
    r.encap(&mut p).unwrap();
    assert_eq!(desc(&r, 1).1 >> 48, 0);
}

fn tso_v4<'a>(segs: &'a [Seg], len: u32, mss: u16) -> TxPkt<'a> {
    let mut p = pkt(segs, len, 0);
    p.csum_flags = CSUM_IP | CSUM_IP_TSO;
    p.etype = 0x0800;
    p.ipproto = 6;
    p.ehdrlen = 14;
    p.ip_hlen = 20;
    p.tcp_hlen = 20;
    p.tso_segsz = mss;
    p
}

#[test]
fn tso_context_and_data_descriptors() {
    let mut r = ring(false);
    let segs = [
        Seg {
            addr: 0x1_0000,
            len: 54,
        },
        Seg {
            addr: 0x2_0000,
            len: 2000,
        },
        Seg {
            addr: 0x3_0000,
            len: 2000,
        },
    ];
    let mut p = tso_v4(&segs, 4054, 1448);
    p.pidx = 20;
    p.flags = IPI_TX_INTR;
    r.encap(&mut p).unwrap();
    assert_eq!(p.new_pidx, 24);

    // Context: DTYPE 1, CMD TSO, TSO_LEN 4000 (payload only), MSS 1448.
    assert_eq!(desc(&r, 20), (0, 0x16A0_03E8_0000_0011));
    // Data: ICRC|IIPT=3|L4T=TCP (+EOP|RS on the last), MACLEN 7, IPLEN 5, L4LEN 5.
    assert_eq!(desc(&r, 21), (0x1_0000, 0x0000_00D9_4287_1640));
    assert_eq!(desc(&r, 22), (0x2_0000, 0x0000_1F41_4287_1640));
    assert_eq!(desc(&r, 23), (0x3_0000, 0x0000_1F41_4287_1670));
    assert_eq!(r.counters.tso, 1);
}

#[test]
fn tso_splits_segments_above_16383() {
    let mut r = ring(false);
    let segs = [
        Seg {
            addr: 0x10_0000,
            len: 86,
        },
        Seg {
            addr: 0x20_0000,
            len: 20000,
        },
    ];
    let mut p = pkt(&segs, 20086, 0);
    p.csum_flags = CSUM_IP6_TSO;
    p.etype = 0x86DD;
    p.ipproto = 6;
    p.ehdrlen = 14;
    p.ip_hlen = 40;
    p.tcp_hlen = 32;
    p.tso_segsz = 1448;
    r.encap(&mut p).unwrap();
    assert_eq!(p.new_pidx, 4);
    assert_eq!(desc(&r, 0), (0, 0x16A0_1388_0000_0011)); // TSO_LEN 20000
                                                         // ICRC|IIPT=1|L4T=TCP, MACLEN 7, IPLEN 10, L4LEN 8.
    assert_eq!(desc(&r, 1), (0x10_0000, 0x0000_015A_0507_1240)); // 86 bytes
    assert_eq!(desc(&r, 2), (0x20_0000, 0x0000_FFFE_0507_1240)); // 16383 bytes
    assert_eq!(desc(&r, 3), (0x20_0000 + 16383, 0x0000_3886_0507_1250)); // 3617, EOP
}

#[test]
fn tso_sparse_window_is_efbig_and_publishes_nothing() {
    let mut r = ring(false);
    let mut segs = vec![Seg {
        addr: 0x1000,
        len: 54,
    }];
    for k in 0..10 {
        segs.push(Seg {
            addr: 0x10_0000 + k * 0x1000,
            len: 100,
        });
    }
    // One 1448-byte window holds all ten 100-byte descriptors: 1 + 10 > 8.
    let mut p = tso_v4(&segs, 1054, 1448);
    p.flags = IPI_TX_INTR;
    assert_eq!(r.encap(&mut p), Err(TxError::Efbig));
    assert_eq!(TxError::Efbig.errno(), 27);
    assert_eq!(p.new_pidx, 0xFFFF);
    assert_eq!(r.counters.efbig, 1);
    assert_eq!(r.counters.packets, 0);
    assert_eq!(r.counters.tso, 0);
    assert!(r
        .region()
        .bytes(0, NTXD as usize * 16)
        .iter()
        .all(|&b| b == 0));
    assert_eq!(r.credits_update(true), 0);

    // Seven payload descriptors in the window: 1 + 7 = 8 is allowed.
    segs.truncate(8);
    let mut p = tso_v4(&segs, 754, 1448);
    r.encap(&mut p).unwrap();
    assert_eq!(p.new_pidx, 9);

    // Small windows spread over many segments are fine as long as each window is.
    let mut segs = vec![Seg {
        addr: 0x1000,
        len: 54,
    }];
    for k in 0..20 {
        segs.push(Seg {
            addr: 0x10_0000 + k * 0x1000,
            len: 1000,
        });
    }
    let mut p = tso_v4(&segs, 20054, 1000);
    p.pidx = 9;
    r.encap(&mut p).unwrap();
    assert_eq!(p.new_pidx, 31);
}

#[test]
fn tso_header_in_four_descriptors_is_efbig() {
    let mut r = ring(false);
    let segs = [
        Seg {
            addr: 0x1000,
            len: 14,
        },
        Seg {
            addr: 0x2000,
            len: 20,
        },
        Seg {
            addr: 0x3000,
            len: 10,
        },
        Seg {
            addr: 0x4000,
            len: 10,
        },
        Seg {
            addr: 0x5000,
            len: 1000,
        },
    ];
    let mut p = tso_v4(&segs, 1054, 500);
    assert_eq!(r.encap(&mut p), Err(TxError::Efbig));
}

/// Found by `fuzz/` (tx_encap): a last segment with a huge length started the
/// fast path's running sum unchecked, so adding the other segments overflowed (a
/// panic with overflow checks on; a wrapped sum otherwise). Refused, nothing published.
#[test]
fn huge_last_segment_is_refused_without_overflow() {
    for tso in [false, true] {
        let mut r = ring(false);
        let segs = [
            Seg {
                addr: 0x1000,
                len: 100,
            },
            Seg {
                addr: 0x2000,
                len: u64::MAX - 50,
            },
        ];
        let mut p = if tso {
            tso_v4(&segs, 1000, 500)
        } else {
            pkt(&segs, 100, 0)
        };
        assert_eq!(r.encap(&mut p), Err(TxError::Invalid), "tso {tso}");
        assert_eq!(p.new_pidx, 0xFFFF);
        assert_eq!(r.counters.packets, 0);
    }
}

#[test]
fn nine_segments_without_tso_is_efbig() {
    let mut r = ring(false);
    let segs: Vec<Seg> = (0..9)
        .map(|k| Seg {
            addr: 0x1000 * (k + 1),
            len: 100,
        })
        .collect();
    let mut p = pkt(&segs, 900, 0);
    assert_eq!(r.encap(&mut p), Err(TxError::Efbig));
    assert_eq!(p.new_pidx, 0xFFFF);
    assert_eq!(r.counters.efbig, 1);
    let mut p = pkt(&segs[..8], 800, 0);
    r.encap(&mut p).unwrap();
    assert_eq!(p.new_pidx, 8);
}

#[test]
fn tso_mss_below_64_is_raised() {
    let mut r = ring(false);
    let segs = [Seg {
        addr: 0x9000,
        len: 1054,
    }];
    let mut p = tso_v4(&segs, 1054, 10);
    p.flags = IPI_TX_INTR;
    r.encap(&mut p).unwrap();
    assert_eq!(desc(&r, 0), (0, 0x0100_00FA_0000_0011)); // TSO_LEN 1000, MSS 64
    assert_eq!(desc(&r, 1), (0x9000, 0x0000_1079_4287_1670));
    assert_eq!(p.tso_segsz, 64);
    assert_eq!(r.counters.mss_too_small, 1);
}

#[test]
fn tso_mss_above_max_is_lowered() {
    let mut r = ring(false);
    let segs = [Seg {
        addr: 0x9000,
        len: 30054,
    }];
    let mut p = tso_v4(&segs, 30054, 16000);
    r.encap(&mut p).unwrap();
    assert_eq!(desc(&r, 0).1 >> 50, 9668);
    assert_eq!(r.counters.mss_too_large, 1);
}

#[test]
fn malformed_requests_are_refused() {
    let mut r = ring(false);
    let segs = [Seg {
        addr: 0x9000,
        len: 16,
    }];
    let mut p = pkt(&segs, 16, 0);
    assert_eq!(r.encap(&mut p), Err(TxError::TooSmall));
    assert_eq!(TxError::TooSmall.errno(), 22);
    assert_eq!(r.counters.too_small, 1);

    let big = [Seg {
        addr: 0x9000,
        len: 9729,
    }];
    assert_eq!(r.encap(&mut pkt(&big, 9729, 0)), Err(TxError::Invalid));

    let none: [Seg; 0] = [];
    assert_eq!(r.encap(&mut pkt(&none, 60, 0)), Err(TxError::Invalid));

    let segs = [Seg {
        addr: 0x9000,
        len: 1054,
    }];
    let mut p = tso_v4(&segs, 1054, 1448);
    p.tcp_hlen = 0;
    assert_eq!(r.encap(&mut p), Err(TxError::Invalid));
    let mut p = tso_v4(&segs, 54, 1448); // no payload
    assert_eq!(r.encap(&mut p), Err(TxError::Invalid));
    let mut p = tso_v4(&segs, 2000, 1448); // segments do not add up to len
    assert_eq!(r.encap(&mut p), Err(TxError::Invalid));
    let mut p = tso_v4(&segs, 1054, 1448);
    p.ipproto = 17;
    assert_eq!(r.encap(&mut p), Err(TxError::Invalid));
    assert_eq!(r.counters.invalid, 6);
    assert_eq!(r.counters.packets, 0);
}

#[test]
fn flush_writes_qtx_tail1() {
    let mut r = ring(false);
    let bar = BarLog::default();
    r.flush(&bar, 17);
    r.flush(&bar, NTXD + 1); // out of range: masked, never a tail past the ring
                             // QTX_TAIL1(3) = 0x0000 + 4 * 3.
    assert_eq!(bar.writes(), [(0x0C, 17), (0x0C, 1)]);
}

#[test]
fn new_rejects_bad_geometry() {
    assert_eq!(
        TxRing::new(VecDma::new(1024), 48, 0, false).err(),
        Some(RingError::BadSize)
    );
    assert_eq!(
        TxRing::new(VecDma::new(1 << 17), 8192, 0, false).err(),
        Some(RingError::BadSize)
    );
    assert_eq!(
        TxRing::new(VecDma::new(1024), 64, 16, false).err(),
        Some(RingError::BadQueue)
    );
    assert_eq!(
        TxRing::new(VecDma::new(1023), 64, 0, false).err(),
        Some(RingError::RegionTooSmall)
    );
    assert_eq!(
        TxRing::new(VecDma::new(1024), 64, 0, true).err(),
        Some(RingError::RegionTooSmall)
    );
    let r = TxRing::new(VecDma::new(1028), 64, 0, true).unwrap();
    assert_eq!(r.head_wb_paddr(), Some(0x1_0000_0000 + 1024));
}

#[test]
fn init_zeroes_ring_and_head_word() {
    let mut r = ring(true);
    r.region().fill(0xAB);
    r.init();
    assert!(r
        .region()
        .bytes(0, NTXD as usize * 16 + 16)
        .iter()
        .all(|&b| b == 0));
    assert_eq!(r.credits_update(true), 0);
}

#[test]
fn dwb_credits_follow_rs_positions() {
    let mut r = ring(false);
    let bar = BarLog::default();
    let segs = [Seg {
        addr: 0x1000,
        len: 60,
    }];
    let mut pidx = 0;
    for _ in 0..3 {
        let mut p = pkt(&segs, 60, pidx);
        p.flags = IPI_TX_INTR;
        r.encap(&mut p).unwrap();
        pidx = p.new_pidx;
    }
    // Not flushed yet: a DESC_DONE there is not believed.
    hw_done(&r, 0);
    assert_eq!(r.credits_update(false), 0);
    assert_eq!(r.credits_update(true), 0);
    r.flush(&bar, pidx);
    // Descriptors 0 and 1 done: peek says "something", twice (no state change).
    hw_done(&r, 1);
    assert_eq!(r.credits_update(false), 1);
    assert_eq!(r.credits_update(false), 1);
    assert_eq!(r.credits_update(true), 2);
    assert_eq!(r.credits_update(true), 0);
    hw_done(&r, 2);
    assert_eq!(r.credits_update(true), 1);
    assert_eq!(r.credits_update(false), 0);
}

#[test]
fn dwb_credits_count_descriptors_between_reports_across_wrap() {
    let mut r = ring(false);
    let bar = BarLog::default();
    let segs = [
        Seg {
            addr: 0x1000,
            len: 100,
        },
        Seg {
            addr: 0x2000,
            len: 100,
        },
        Seg {
            addr: 0x3000,
            len: 100,
        },
    ];
    let mut rng = XorShift(0x1234_5678);
    let (mut pidx, mut used, mut credited, mut reported) = (0u16, 0u64, 0u64, 0u64);
    let mut inflight = 0u16;
    for n in 0..500 {
        let k = 1 + (rng.next() % 3) as usize;
        if inflight + k as u16 + 2 >= NTXD {
            // Ring nearly full: the hardware completes everything and iflib reclaims.
            for i in 0..NTXD {
                if r.region().rd_u64(i as usize * 16 + 8) & 0x30 == 0x30 {
                    hw_done(&r, i); // EOP|RS descriptors are written back
                }
            }
            let c = r.credits_update(true) as u64;
            credited += c;
            inflight -= c as u16;
        }
        let mut p = pkt(&segs[..k], 100 * k as u32, pidx);
        let report = n % 4 == 3;
        if report {
            p.flags = IPI_TX_INTR;
        }
        r.encap(&mut p).unwrap();
        pidx = p.new_pidx;
        used += k as u64;
        inflight += k as u16;
        if report {
            reported = used;
        }
        r.flush(&bar, pidx);
    }
    for i in 0..NTXD {
        if r.region().rd_u64(i as usize * 16 + 8) & 0x30 == 0x30 {
            hw_done(&r, i);
        }
    }
    credited += r.credits_update(true) as u64;
    // Every descriptor up to the last reported packet has been credited, exactly once.
    assert_eq!(credited, reported);
    assert_eq!(r.region().oob(), 0);
}

#[test]
fn hwb_credits_and_wrap() {
    let mut r = ring(true);
    let bar = BarLog::default();
    let segs = [
        Seg {
            addr: 0x1000,
            len: 100,
        },
        Seg {
            addr: 0x2000,
            len: 100,
        },
    ];
    // Two packets: 2 + 1 descriptors.
    let mut p = pkt(&segs, 200, 0);
    p.flags = IPI_TX_INTR;
    r.encap(&mut p).unwrap();
    let mut p = pkt(&segs[..1], 100, p.new_pidx);
    r.encap(&mut p).unwrap();
    r.flush(&bar, p.new_pidx);
    assert_eq!(r.credits_update(true), 0);
    set_head(&r, 2);
    assert_eq!(r.credits_update(false), 2);
    assert_eq!(r.credits_update(false), 2);
    assert_eq!(r.credits_update(true), 2);
    assert_eq!(r.credits_update(true), 0);
    set_head(&r, 3);
    assert_eq!(r.credits_update(true), 1);

    // Walk the ring around twice, 5 descriptors at a time.
    let mut pidx = 3u16;
    let mut total = 0u32;
    for _ in 0..30 {
        for _ in 0..5 {
            let mut p = pkt(&segs[..1], 100, pidx);
            r.encap(&mut p).unwrap();
            pidx = p.new_pidx;
        }
        r.flush(&bar, pidx);
        set_head(&r, u32::from(pidx));
        total += r.credits_update(true);
    }
    assert_eq!(total, 150);
    assert_eq!(r.counters.desc_err, 0);
}

#[test]
fn hwb_garbage_head_is_bounded() {
    let mut r = ring(true);
    let bar = BarLog::default();
    let segs = [Seg {
        addr: 0x1000,
        len: 100,
    }];
    let mut pidx = 0;
    for _ in 0..3 {
        let mut p = pkt(&segs, 100, pidx);
        r.encap(&mut p).unwrap();
        pidx = p.new_pidx;
    }
    r.flush(&bar, pidx); // tail = 3
    set_head(&r, 0xFFFF_FFFF);
    assert_eq!(r.credits_update(false), 0);
    assert_eq!(r.credits_update(true), 0);
    set_head(&r, 64); // one past the ring
    assert_eq!(r.credits_update(true), 0);
    set_head(&r, 10); // inside the ring but past the tail
    assert_eq!(r.credits_update(true), 0);
    assert_eq!(r.counters.desc_err, 3);
    set_head(&r, 3); // the real value still works afterwards
    assert_eq!(r.credits_update(true), 3);
}

/// What the hardware checks before sending a packet (hw-contract 5.11, 6.2, 6.3),
/// decoded from the raw descriptor bits of the contract tables (not this crate's
/// constants): descriptors `[from, to)` must be one packet the hardware accepts without
/// an MDD event. Returns the frame bytes the data descriptors carry.
fn hw_rules(r: &TxRing<VecDma>, from: u16, to: u16) -> Result<u64, &'static str> {
    let mask = NTXD - 1;
    let mut i = from & mask;
    let mut ctx = None;
    if desc(r, i).1 & 0xF == 0x1 {
        ctx = Some(desc(r, i).1);
        i = (i + 1) & mask;
    }
    let mut lens = Vec::new();
    let mut first_qw1 = None;
    while i != to {
        let qw1 = desc(r, i).1;
        if qw1 & 0xF != 0 {
            return Err("DTYPE not data inside the packet");
        }
        let bsz = (qw1 >> 34) & 0x3FFF;
        if bsz == 0 {
            return Err("ZERO_BSIZE");
        }
        first_qw1.get_or_insert(qw1);
        lens.push(bsz);
        i = (i + 1) & mask;
        let eop = qw1 & (1 << 4) != 0;
        if eop != (i == to) {
            return Err("EOP not exactly on the last descriptor");
        }
    }
    let first_qw1 = first_qw1.ok_or("no data descriptor")?;
    let total: u64 = lens.iter().sum();
    let Some(ctx) = ctx.filter(|c| c & (1 << 4) != 0) else {
        if lens.len() > 8 {
            return Err("MAX_BUFF (non-TSO)");
        }
        if !(17..=9728).contains(&total) {
            return Err("WRONG_SIZE");
        }
        return Ok(total);
    };
    let tso_len = (ctx >> 30) & 0x3FFFF;
    let mss = ctx >> 50;
    if !(64..=9668).contains(&mss) {
        return Err("BAD_LSO_MSS");
    }
    let hdr = ((first_qw1 >> 16) & 0x7F) * 2
        + ((first_qw1 >> 23) & 0x7F) * 4
        + ((first_qw1 >> 30) & 0xF) * 4;
    if (first_qw1 >> 12) & 3 != 1 || (first_qw1 >> 9) & 3 == 0 {
        return Err("TSO without L4T = TCP and an IP IIPT");
    }
    if tso_len == 0 || hdr + tso_len != total {
        return Err("BAD_LSO_LEN");
    }
    if hdr + mss > 9728 {
        return Err("WRONG_SIZE (TSO header + MSS)");
    }
    // Per segment on the wire: header buffers + that segment's payload buffers <= 8
    // (Linux `__iavf_chk_linearize` note), header in <= 3.
    let mut starts = Vec::new();
    let mut pos = 0;
    for l in &lens {
        starts.push(pos);
        pos += l;
    }
    let hdr_descs = starts.iter().filter(|&&s| s < hdr).count();
    if hdr_descs > 3 {
        return Err("MAX_BUFF (TSO header)");
    }
    let mut a = hdr;
    while a < total {
        let b = (a + mss).min(total);
        let payload = starts
            .iter()
            .zip(&lens)
            .filter(|(&s, &l)| s < b && s + l > a)
            .count();
        if hdr_descs + payload > 8 {
            return Err("MAX_BUFF (TSO segment)");
        }
        a = b;
    }
    Ok(total)
}

/// Random packets and random device memory: no panic, no access outside the region,
/// a successful encap uses between 1 and nsegs + 2 slots, and what it wrote is a packet
/// the hardware accepts (no MDD condition) carrying exactly `len` bytes.
#[test]
fn fuzz_encap_and_credits() {
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    for hwb in [false, true] {
        let mut r = ring(hwb);
        let bar = BarLog::default();
        let mut segs = [Seg::default(); 12];
        let mut oks = 0;
        for _ in 0..20_000 {
            let n = (rng.next() % 12) as usize;
            for s in segs.iter_mut().take(n) {
                let v = rng.next();
                s.addr = rng.next();
                s.len = match v % 4 {
                    0 => v >> 50,
                    1 => (v >> 40) % 20_000,
                    2 => (v >> 8) % 2000,
                    _ => 0,
                };
            }
            let sum: u64 = segs[..n].iter().map(|s| s.len).sum();
            let v = rng.next();
            let real = (v >> 60) & 7 != 0;
            let mut p = TxPkt {
                segs: &segs[..n],
                len: if v & 3 != 0 {
                    sum as u32
                } else {
                    (v >> 32) as u32 % 70_000
                },
                nsegs: n as u16,
                flags: (v >> 8) as u16 & 7,
                pidx: (v >> 16) as u16,
                new_pidx: 0xFFFF,
                // Mostly header lengths a real stack produces, else anything.
                ehdrlen: if real {
                    [14, 18][(v >> 24) as usize % 2]
                } else {
                    (v >> 24) as u8 % 40
                },
                ip_hlen: if real {
                    [20, 40, 60][(v >> 28) as usize % 3]
                } else {
                    (v >> 28) as u8 % 80
                },
                tcp_hlen: if real {
                    [20, 32, 60][(v >> 36) as usize % 3]
                } else {
                    (v >> 36) as u8 % 80
                },
                ipproto: [6, 17, 132, 1][(v >> 44) as usize % 4],
                csum_flags: (rng.next() as u32) & 0x1E1F,
                tso_segsz: rng.next() as u16,
                vtag: rng.next() as u16,
                etype: [0x0800, 0x86DD, 0x0806][(v >> 50) as usize % 3],
                mflags: (v >> 56) as u8 & 0x80,
                ..Default::default()
            };
            if r.encap(&mut p).is_ok() {
                oks += 1;
                assert!(p.new_pidx < NTXD);
                let used = p.new_pidx.wrapping_sub(p.pidx & (NTXD - 1)) & (NTXD - 1);
                assert!(used >= 1 && used as usize <= n + 2, "used {used} nsegs {n}");
                assert_eq!(hw_rules(&r, p.pidx, p.new_pidx), Ok(u64::from(p.len)));
                r.flush(&bar, p.new_pidx);
            }
            // The device scribbles on descriptors and on the head word.
            let v = rng.next();
            if v & 3 == 0 {
                let len = r.region().len();
                r.region()
                    .wr_u64(((v as usize >> 8) % len) & !7, rng.next());
            }
            let c = r.credits_update(v & 4 != 0);
            assert!(c < u32::from(NTXD));
        }
        assert_eq!(r.region().oob(), 0);
        assert!(oks > 1000, "fuzz encapsulated only {oks} packets");
        let c = r.counters;
        assert!(c.efbig > 0 && c.invalid > 0 && c.too_small > 0 && c.tso > 0 && c.csum > 0);
    }
}

#[test]
fn dwb_partial_completion_walks_then_batches() {
    let mut r = ring(false);
    let bar = BarLog::default();
    let segs = [
        Seg {
            addr: 0x1000,
            len: 100,
        },
        Seg {
            addr: 0x2000,
            len: 100,
        },
    ];
    // Packets of 2 descriptors at 0..2, 2..4, ..., RS on packets ending at 1, 5, 9, 13.
    let mut pidx = 0;
    for k in 0..8 {
        let mut p = pkt(&segs, 200, pidx);
        if k % 2 == 0 {
            p.flags = IPI_TX_INTR;
        }
        r.encap(&mut p).unwrap();
        pidx = p.new_pidx;
    }
    assert_eq!(pidx, 16);
    r.flush(&bar, 12); // slots 12..16 not handed over yet
    hw_done(&r, 1);
    hw_done(&r, 5);
    // Newest RS (13) is not flushed: the walk credits 0..=5.
    assert_eq!(r.credits_update(false), 1);
    assert_eq!(r.credits_update(true), 6);
    hw_done(&r, 13); // garbage: not flushed, must not count
    hw_done(&r, 9);
    assert_eq!(r.credits_update(true), 4);
    r.flush(&bar, 16);
    assert_eq!(r.credits_update(true), 4);
    assert_eq!(r.credits_update(true), 0);
    assert_eq!(r.credits_update(false), 0);
}

/// Model check: a device that completes a random prefix of the flushed descriptors
/// (DESC_DONE on the RS slots it passed). Credits must equal the distance from the last
/// credited RS slot to the newest completed one, as FreeBSD's rsq walk would count.
#[test]
fn dwb_credits_match_fifo_model() {
    for ntxd in [8u16, 64, 256] {
        let mut r = TxRing::new(VecDma::new(ntxd as usize * 16), ntxd, 0, false).unwrap();
        let bar = BarLog::default();
        let mask = ntxd - 1;
        let segs = [
            Seg {
                addr: 0x1000,
                len: 100,
            },
            Seg {
                addr: 0x2000,
                len: 100,
            },
        ];
        let mut rng = XorShift(u64::from(ntxd) * 7919);
        let mut pidx: u16 = 0;
        let mut inflight: u16 = 0; // descriptors not yet credited
        let mut hw_head: u16 = 0; // device: next descriptor to complete
        let mut fifo: std::collections::VecDeque<u16> = Default::default();
        let mut last: u16 = mask; // model of FreeBSD's tx_cidx_processed
        let mut flushed: u16 = 0;
        for _ in 0..5000 {
            let v = rng.next();
            let k = 1 + (v % 2) as usize;
            if inflight + k as u16 + 1 < ntxd && v & 8 == 0 {
                let mut p = pkt(&segs[..k], 100 * k as u32, pidx);
                if v & 0x30 == 0 {
                    p.flags = IPI_TX_INTR;
                }
                r.encap(&mut p).unwrap();
                if p.flags != 0 {
                    fifo.push_back(p.new_pidx.wrapping_sub(1) & mask);
                }
                pidx = p.new_pidx;
                inflight += k as u16;
            }
            if v & 0x40 != 0 {
                r.flush(&bar, pidx);
                flushed = pidx;
            }
            // The device completes some of what was flushed, in order.
            let avail = flushed.wrapping_sub(hw_head) & mask;
            if avail != 0 {
                let n = 1 + (rng.next() % u64::from(avail)) as u16;
                for _ in 0..n {
                    if fifo.contains(&hw_head) {
                        hw_done(&r, hw_head);
                    }
                    hw_head = (hw_head + 1) & mask;
                }
            }
            // Expected: walk the FIFO while its slot is among the completed descriptors
            // (m_last, hw_head).
            let mut expect = 0u16;
            let mut m_last = last;
            let mut consumed = 0;
            let mut done_max = hw_head.wrapping_sub(1).wrapping_sub(m_last) & mask;
            for &slot in fifo.iter() {
                let d = slot.wrapping_sub(m_last) & mask;
                if d == 0 || d > done_max {
                    break;
                }
                expect += d;
                done_max -= d;
                m_last = slot;
                consumed += 1;
            }
            assert_eq!(r.credits_update(false), u32::from(expect > 0));
            let got = r.credits_update(true);
            assert_eq!(got, u32::from(expect), "ntxd {ntxd}");
            for _ in 0..consumed {
                fifo.pop_front();
            }
            last = m_last;
            inflight -= expect;
        }
        assert_eq!(r.region().oob(), 0);
    }
}

/// The hardware sizes a frame from the BUF_SZ fields, so segments that do not add up to
/// iflib's `len` are refused before anything is published (a 1000-byte `len` over
/// 9800 bytes of segments would be MDD WRONG_SIZE on the wire).
#[test]
fn segments_must_add_up_to_len() {
    let mut r = ring(false);
    let one = [Seg {
        addr: 0x1000,
        len: 60,
    }];
    assert_eq!(r.encap(&mut pkt(&one, 100, 0)), Err(TxError::Invalid));
    let many: Vec<Seg> = (0..2)
        .map(|k| Seg {
            addr: 0x1000 * (k + 1),
            len: 4900,
        })
        .collect();
    assert_eq!(r.encap(&mut pkt(&many, 1000, 0)), Err(TxError::Invalid));
    // Slow path (a zero-length segment) too.
    let gap = [
        Seg {
            addr: 0x1000,
            len: 9000,
        },
        Seg {
            addr: 0x2000,
            len: 0,
        },
        Seg {
            addr: 0x3000,
            len: 9000,
        },
    ];
    assert_eq!(r.encap(&mut pkt(&gap, 9000, 0)), Err(TxError::Invalid));
    assert_eq!(r.counters.invalid, 3);
    assert_eq!(r.counters.packets, 0);
    let bar = BarLog::default();
    r.flush(&bar, 0);
    assert_eq!(r.credits_update(true), 0);
}

/// TSO header lengths the descriptor fields cannot carry exactly (hw-contract 6.2:
/// MACLEN in 2-byte words, IPLEN/L4LEN in 4-byte words, L4LEN 4 bits) or a TSO flag
/// that contradicts the EtherType are refused: the hardware would compute a header
/// length that disagrees with TSO_LEN (MDD BAD_LSO_LEN).
#[test]
fn tso_header_lengths_must_encode_exactly() {
    let segs = [Seg {
        addr: 0x9000,
        len: 1078,
    }];
    type Tweak = fn(&mut TxPkt<'_>);
    let cases: [(&str, Tweak); 8] = [
        ("tcp_hlen 64 (L4LEN would wrap to 0)", |p| p.tcp_hlen = 64),
        ("tcp_hlen 18", |p| p.tcp_hlen = 18),
        ("tcp_hlen 22", |p| p.tcp_hlen = 22),
        ("odd ehdrlen", |p| p.ehdrlen = 15),
        ("ehdrlen 12", |p| p.ehdrlen = 12),
        ("ip_hlen 22", |p| p.ip_hlen = 22),
        ("ARP EtherType", |p| p.etype = 0x0806),
        ("IPv6 EtherType with IPv4 TSO flag", |p| {
            p.etype = 0x86DD;
            p.ip_hlen = 40;
        }),
    ];
    for (what, tweak) in cases {
        let mut r = ring(false);
        // 14 + 20 + 20 header, 1024 payload, before the tweak.
        let mut p = tso_v4(&segs, 1078, 512);
        tweak(&mut p);
        // Keep len consistent with the segments so only the header is wrong.
        p.len = 1078;
        assert_eq!(r.encap(&mut p), Err(TxError::Invalid), "{what}");
        assert_eq!(desc(&r, 0), (0, 0), "{what}: nothing written");
    }
    // The same packet with a 60-byte TCP header (L4LEN 15) is fine:
    // MACLEN 7, IPLEN 5, L4LEN 15 -> OFFSET (15 << 14 | 5 << 7 | 7) << 16.
    let mut r = ring(false);
    let mut p = tso_v4(&segs, 1078, 512);
    p.tcp_hlen = 60;
    r.encap(&mut p).unwrap();
    // Context: DTYPE 1, CMD TSO, TSO_LEN 1078 - 94 = 984 (0x3D8 << 30), MSS 512 << 50.
    assert_eq!(desc(&r, 0), (0, 0x0800_00F6_0000_0011));
    // Data: EOP|ICRC|IIPT=3|L4T=TCP = 0x165, OFFSET as above, BUF_SZ 1078 (0x436).
    assert_eq!(desc(&r, 1), (0x9000, 0x0000_10DB_C287_1650));
}

/// A checksum-offload request whose header lengths the OFFSET field cannot carry is
/// refused (both paths), not sent with a truncated L4LEN/MACLEN.
#[test]
fn checksum_request_with_unencodable_lengths_is_refused() {
    let one = [Seg {
        addr: 0x8000,
        len: 1514,
    }];
    let two = [
        Seg {
            addr: 0x8000,
            len: 14,
        },
        Seg {
            addr: 0x9000,
            len: 1500,
        },
    ];
    for segs in [&one[..], &two[..]] {
        let mut r = ring(false);
        let mut p = pkt(segs, 1514, 0);
        p.csum_flags = CSUM_IP | CSUM_IP_TCP;
        p.etype = 0x0800;
        p.ipproto = 6;
        p.ehdrlen = 14;
        p.ip_hlen = 20;
        p.tcp_hlen = 64; // L4LEN is 4 bits: 16 would be written as 0
        assert_eq!(r.encap(&mut p), Err(TxError::Invalid));
        assert_eq!(p.new_pidx, 0xFFFF);
        assert_eq!(r.counters.invalid, 1);
        p.tcp_hlen = 60;
        r.encap(&mut p).unwrap();
        // L4LEN 15 at bit 30: OFFSET = (15 << 14 | 5 << 7 | 7) << 16.
        assert_eq!((desc(&r, 0).1 >> 16) & 0x3FFFF, 15 << 14 | 5 << 7 | 7);
    }
}

/// A descriptor holding the end of the header and the start of the payload is DMA'd
/// twice for the first segment (once as header, once as payload: Linux
/// `__iavf_chk_linearize` note), so 8 descriptors where the first is mixed need 9 DMA
/// buffers for segment 0: EFBIG, even though the packet has only 8 data descriptors.
#[test]
fn tso_mixed_header_descriptor_counts_twice() {
    let mut segs = vec![Seg {
        addr: 0x1000,
        len: 54 + 100,
    }];
    for k in 0..7 {
        segs.push(Seg {
            addr: 0x10_0000 + k * 0x1000,
            len: 100,
        });
    }
    // 854 bytes, MSS 800: one segment whose payload touches all 8 descriptors.
    let mut r = ring(false);
    let mut p = tso_v4(&segs, 854, 800);
    assert_eq!(r.encap(&mut p), Err(TxError::Efbig));
    assert_eq!(desc(&r, 0), (0, 0), "nothing written");
    // Header in a descriptor of its own: 1 + 7 = 8 buffers, accepted.
    let mut segs2 = vec![
        Seg {
            addr: 0x1000,
            len: 54,
        },
        Seg {
            addr: 0x2000,
            len: 100,
        },
    ];
    segs2.extend_from_slice(&segs[1..7]);
    let mut p = tso_v4(&segs2, 754, 700);
    r.encap(&mut p).unwrap();
    assert_eq!(p.new_pidx, 9);
    assert_eq!(hw_rules(&r, 0, 9), Ok(754));
}
