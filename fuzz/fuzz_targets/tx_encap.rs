//! `ravf::txrx::TxRing::encap` with fuzzer-chosen `TxPkt` fields and segment lists,
//! interleaved with `flush`, device completions (honest or garbage) and
//! `credits_update`, under iflib's rules (a packet is only offered when
//! `nsegs + 2` slots are free). Checked:
//! * no panic, no access outside the ring memory;
//! * on `Ok`, the descriptors written obey the hardware rules
//!   (`ravf_fuzz::txcheck::hw_rules`, written from hw-contract 5.11/6.2/6.3) and carry
//!   exactly the segments' bytes, using 1..=nsegs+2 slots;
//! * on any result, no slot outside the `nsegs + 2` iflib reserved was written, and
//!   the head write-back word is untouched;
//! * credits never exceed the descriptors handed to the hardware.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ravf::os::{Bar0, DmaRegion};
use ravf::txrx::csum::{
    CSUM_IP, CSUM_IP6_SCTP, CSUM_IP6_TCP, CSUM_IP6_TSO, CSUM_IP6_UDP, CSUM_IP_SCTP, CSUM_IP_TCP,
    CSUM_IP_TSO, CSUM_IP_UDP, IPI_TX_INTR, M_VLANTAG,
};
use ravf::txrx::{tx_ring_bytes, Seg, TxPkt, TxRing};
use ravf_fuzz::dma::VecDma;
use ravf_fuzz::input::{Draw, Input};
use ravf_fuzz::txcheck::{hw_rules, Pkt};

struct NoBar;
impl Bar0 for NoBar {
    fn rd32(&self, _off: u32) -> u32 {
        0
    }
    fn wr32(&self, _off: u32, _val: u32) {}
}

fn seg_len(inp: &mut Input<'_>) -> u64 {
    match inp.u8() % 8 {
        0 => 0,
        1 => u64::from(inp.u8()),
        2 | 3 => u64::from(inp.u16() % 2048),
        4 => u64::from(inp.u16()),
        5 => 16383 + u64::from(inp.u8() % 3),
        6 => u64::from(inp.u32() % 70_000),
        _ => inp.u64(),
    }
}

fn csum_flags(inp: &mut Input<'_>) -> u32 {
    let tso = CSUM_IP_TSO | CSUM_IP6_TSO;
    match inp.u8() % 8 {
        0 => 0,
        1 => CSUM_IP | CSUM_IP_TCP,
        2 => CSUM_IP6_UDP,
        3 => CSUM_IP_TSO | CSUM_IP,
        4 => CSUM_IP6_TSO,
        5 => inp.pick(&[CSUM_IP_UDP, CSUM_IP_SCTP, CSUM_IP6_SCTP, CSUM_IP6_TCP, tso]),
        _ => inp.u32(),
    }
}

fn descs(mem: &VecDma, n: u16) -> Vec<(u64, u64)> {
    let b = mem.snapshot(0, usize::from(n) * 16);
    b.chunks_exact(16)
        .map(|c| {
            (
                u64::from_le_bytes(c[0..8].try_into().unwrap()),
                u64::from_le_bytes(c[8..16].try_into().unwrap()),
            )
        })
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let mut inp = Input::new(data);
    let n: u16 = 1 << (3 + inp.u8() % 10); // 8..=4096
    let mask = n - 1;
    let hwb = inp.bool();
    let bytes = tx_ring_bytes(n);
    let mem = VecDma::new(0x4_0000_0000, bytes);
    let Ok(mut ring) = TxRing::new(mem.clone(), n, u16::from(inp.u8() % 16), hwb) else {
        panic!("TxRing::new refused a valid geometry");
    };
    ring.init();
    let head_off = usize::from(n) * 16;
    let mut pidx: u16 = 0;
    // Descriptors used by published packets and not yet credited; of which flushed.
    let mut in_flight: u32 = 0;
    let mut unflushed: u32 = 0;
    // Honest device: its head, and the tail it was given.
    let mut dev_head: u16 = 0;
    let mut tail: u16 = 0;
    let mut honest = true;
    let mut ops = 0;
    let mut segs = Vec::new();
    let (mut oks, mut tsos, mut errs) = (0u32, 0u32, 0u32);
    while !inp.is_empty() && ops < 256 {
        ops += 1;
        match inp.u8() % 8 {
            0..=3 => {
                let nsegs = usize::from(inp.u8() % if inp.bool() { 12 } else { 40 });
                segs.clear();
                let base = inp.u64();
                for k in 0..nsegs {
                    let addr = if inp.u8().is_multiple_of(4) {
                        inp.u64()
                    } else {
                        base.wrapping_add(k as u64 * 0x10000)
                    };
                    segs.push(Seg {
                        addr,
                        len: seg_len(&mut inp),
                    });
                }
                let sum = segs.iter().fold(0u64, |a, s| a.saturating_add(s.len));
                let len = if !inp.u8().is_multiple_of(4) {
                    sum as u32
                } else {
                    inp.u32() % 300_000
                };
                let real = !inp.u8().is_multiple_of(4);
                let mut p = TxPkt {
                    segs: &segs,
                    len,
                    nsegs: nsegs as u16,
                    flags: u16::from(inp.u8() & 7),
                    pidx: if inp.u8().is_multiple_of(8) {
                        inp.u16()
                    } else {
                        pidx
                    },
                    new_pidx: 0xFFFF,
                    ehdrlen: if real { inp.pick(&[14, 18]) } else { inp.u8() },
                    ip_hlen: if real {
                        inp.pick(&[20, 40, 24, 60])
                    } else {
                        inp.u8()
                    },
                    tcp_hlen: if real {
                        inp.pick(&[20, 32, 60])
                    } else {
                        inp.u8()
                    },
                    ipproto: inp.pick(&[6, 17, 132, 1, 6, 6]),
                    csum_flags: csum_flags(&mut inp),
                    tso_segsz: inp.pick(&[1448, 64, 0, 63, 9668, 9669, 536]).max(inp.u16()),
                    vtag: inp.u16(),
                    etype: inp.pick(&[0x0800, 0x86DD, 0x0806, 0x8100]),
                    mflags: inp.pick(&[0, M_VLANTAG, 0xFF]),
                    ..Default::default()
                };
                // iflib offers a packet only with nsegs + 2 free slots (one kept empty).
                let reserve = nsegs as u32 + 2;
                let fits = reserve + in_flight + unflushed < u32::from(n);
                let before = mem.to_vec();
                let start = p.pidx & mask;
                let r = ring.encap(&mut p);
                let after = mem.to_vec();
                // Nothing written outside the reserved slots, nor the head word.
                for slot in 0..n {
                    let rel = u32::from(slot.wrapping_sub(start) & mask);
                    if rel >= reserve {
                        let o = usize::from(slot) * 16;
                        assert_eq!(before[o..o + 16], after[o..o + 16], "slot {slot} written outside the reservation (start {start}, nsegs {nsegs}, {r:?})");
                    }
                }
                assert_eq!(
                    before[head_off..],
                    after[head_off..],
                    "encap wrote past the ring"
                );
                if let Ok(()) = r {
                    oks += 1;
                    tsos += u32::from(p.csum_flags & (CSUM_IP_TSO | CSUM_IP6_TSO) != 0);
                    assert!(p.new_pidx < n);
                    let used = u32::from(p.new_pidx.wrapping_sub(start) & mask);
                    if reserve < u32::from(n) {
                        assert!(
                            used >= 1 && used <= reserve,
                            "used {used} slots for {nsegs} segments"
                        );
                    }
                    let sp: Vec<(u64, u64)> = segs.iter().map(|s| (s.addr, s.len)).collect();
                    let tso = p.csum_flags & (CSUM_IP_TSO | CSUM_IP6_TSO) != 0;
                    let pk = Pkt {
                        segs: &sp,
                        len: p.len,
                        tx_intr: p.flags & IPI_TX_INTR != 0,
                        tso,
                        hdr: (p.ehdrlen, p.ip_hlen, p.tcp_hlen),
                        mss: p.tso_segsz,
                        vtag: (p.mflags & M_VLANTAG != 0).then_some(p.vtag),
                    };
                    if reserve < u32::from(n) {
                        if let Err(e) = hw_rules(&descs(&mem, n), start, p.new_pidx, &pk) {
                            panic!("encap wrote a packet the hardware refuses: {e}\n{p:?}");
                        }
                    }
                    if fits && start == pidx {
                        pidx = p.new_pidx;
                        unflushed += used;
                    } else {
                        // Outside iflib's rules: stop modelling completions.
                        honest = false;
                    }
                } else {
                    errs += 1;
                    assert_eq!(p.new_pidx, 0xFFFF, "new_pidx set on failure");
                }
            }
            4 => {
                ring.flush(&NoBar, pidx);
                tail = pidx;
                in_flight += unflushed;
                unflushed = 0;
            }
            5 => {
                if honest && inp.bool() {
                    // The hardware completes k descriptors in order.
                    let k = inp.u8();
                    for _ in 0..k {
                        if dev_head == tail {
                            break;
                        }
                        let o = usize::from(dev_head) * 16 + 8;
                        let qw1 = mem.rd_u64(o);
                        if qw1 & (1 << 5) != 0 && qw1 & 0xF == 0 {
                            mem.poke(o, &(qw1 | 0xF).to_le_bytes());
                        }
                        dev_head = (dev_head + 1) & mask;
                    }
                    mem.poke(head_off, &u32::from(dev_head).to_le_bytes());
                } else {
                    // Garbage: a DESC_DONE anywhere, or any head value.
                    honest = false;
                    if inp.bool() {
                        let o = usize::from(inp.u16() & mask) * 16 + 8;
                        mem.poke(o, &(inp.u64() | 0xF).to_le_bytes());
                    } else {
                        mem.poke(head_off, &inp.u32().to_le_bytes());
                    }
                }
            }
            6 => {
                let clear = inp.bool();
                let c = ring.credits_update(clear);
                assert!(c < u32::from(n), "credits {c} on a ring of {n}");
                if honest {
                    assert!(
                        c <= in_flight,
                        "credited {c} of {in_flight} descriptors in flight"
                    );
                    if clear {
                        in_flight -= c;
                    }
                }
            }
            _ => {
                ring.init();
                pidx = 0;
                in_flight = 0;
                unflushed = 0;
                dev_head = 0;
                tail = 0;
                honest = true;
                // The descriptors, and in head write-back mode the head word too.
                let zeroed = if hwb { head_off + 4 } else { head_off };
                assert!(
                    mem.to_vec()[..zeroed].iter().all(|&b| b == 0),
                    "init left bytes"
                );
            }
        }
        assert_eq!(mem.oob(), 0, "access outside the TX ring memory");
    }
    if ravf_fuzz::stats_enabled() {
        eprintln!("STATS ok={oks} tso={tsos} err={errs} c={:?}", ring.counters);
    }
});
