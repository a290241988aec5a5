//! `ravf::txrx::RxRing` over descriptor memory the fuzzer writes, as a device would:
//! `available`, `pkt_get`, `refill`, `flush` and an iflib-like receive loop in any
//! order. No panic, no access outside the ring, and every frame handed to iflib has
//! 1..=5 fragments at consecutive ring slots (< ring size), each no longer than the
//! buffer size, adding up to the frame length.
#![no_main]

use std::cell::RefCell;

use libfuzzer_sys::fuzz_target;
use ravf::os::{Bar0, DmaRegion};
use ravf::txrx::csum::{CSUM_L3_CALC, CSUM_L3_VALID, CSUM_L4_CALC, CSUM_L4_VALID, M_VLANTAG};
use ravf::txrx::{rx_ring_bytes, RxFrag, RxPkt, RxRing};
use ravf_fuzz::dma::VecDma;
use ravf_fuzz::input::{Draw, Input};

#[derive(Default)]
struct Bar(RefCell<Vec<(u32, u32)>>);
impl Bar0 for Bar {
    fn rd32(&self, _off: u32) -> u32 {
        0
    }
    fn wr32(&self, off: u32, val: u32) {
        self.0.borrow_mut().push((off, val));
    }
}

// hw-contract 6.5 write-back QW1: DD bit 0, EOF bit 1, RXE bit 19, LENGTH_PBUF 51:38.
const DD: u64 = 1;
const EOF: u64 = 2;

/// A device write-back status word, mostly plausible.
fn status(inp: &mut Input<'_>, buf: u16) -> u64 {
    let raw = inp.u64();
    match inp.u8() % 4 {
        0 => raw,
        1 => (raw & !(0x3FFF << 38)) | DD | EOF | (u64::from(inp.u16() % (buf + 2)) << 38),
        2 => (raw & !(0x3FFF << 38)) | DD | (u64::from(inp.u16() % (buf + 2)) << 38),
        _ => (raw & !(0x3FFF << 38) & !(1 << 19) & !(1 << 25)) | DD | EOF | (64 << 38),
    }
}

struct Rx {
    ring: RxRing<VecDma>,
    mem: VecDma,
    n: u16,
    csum: bool,
}

impl Rx {
    fn check_frame(&self, cidx: u16, p: &RxPkt<'_>) {
        let nf = usize::from(p.nfrags);
        assert!((1..=5).contains(&nf), "nfrags {nf}");
        let mut sum = 0u32;
        for (k, f) in p.frags[..nf].iter().enumerate() {
            assert!(
                f.idx < self.n,
                "fragment index {} >= ring size {}",
                f.idx,
                self.n
            );
            assert_eq!(
                f.idx,
                cidx.wrapping_add(k as u16) & (self.n - 1),
                "fragments not consecutive"
            );
            assert!(
                f.len <= self.ring.buf_size(),
                "fragment {} > buffer {}",
                f.len,
                self.ring.buf_size()
            );
            assert_eq!(f.flid, 0);
            sum += u32::from(f.len);
        }
        assert!(
            p.len > 0 && u32::from(p.len) == sum,
            "len {} vs fragments {sum}",
            p.len
        );
        let known = CSUM_L3_CALC | CSUM_L3_VALID | CSUM_L4_CALC | CSUM_L4_VALID;
        assert_eq!(p.csum_flags & !known, 0, "csum flags {:#x}", p.csum_flags);
        if !self.csum {
            assert_eq!(p.csum_flags, 0, "checksum verdict with RXCSUM off");
        }
        assert!(p.csum_data == 0 || p.csum_data == 0xffff);
        assert!(p.flags == 0 || p.flags == M_VLANTAG);
        if p.flags == 0 {
            assert_eq!(p.vtag, 0);
        }
    }

    fn pkt_get(&mut self, cidx: u16, nfr: usize) -> Result<u8, ()> {
        let mut frags = [RxFrag {
            flid: 9,
            idx: 0xFFFF,
            len: 0xFFFF,
        }; 8];
        let mut p = RxPkt {
            cidx,
            frags: &mut frags[..nfr],
            nfrags: 0,
            len: 0,
            vtag: 0,
            flags: 0,
            flowid: 0,
            rsstype: 0,
            csum_flags: 0,
            csum_data: 0,
            qsidx: 0,
        };
        match self.ring.pkt_get(&mut p) {
            Ok(()) => {
                self.check_frame(cidx & (self.n - 1), &p);
                Ok(p.nfrags)
            }
            Err(e) => {
                assert_eq!(e.errno(), 89);
                Err(())
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let mut inp = Input::new(data);
    let shift = 3 + inp.u8() % 10; // 8..=4096 descriptors
    let n = 1u16 << shift;
    let qid = u16::from(inp.u8() % 17);
    let short = inp.u8().is_multiple_of(16);
    let bytes = rx_ring_bytes(n) - if short { 32 } else { 0 };
    let mem = VecDma::new(0x2_0000_0000, bytes);
    let ring = match RxRing::new(mem.clone(), n, qid) {
        Ok(r) => r,
        Err(_) => {
            assert!(short || qid >= 16);
            return;
        }
    };
    assert!(!short && qid < 16, "RxRing::new accepted a bad geometry");
    let mut rx = Rx {
        ring,
        mem,
        n,
        csum: true,
    };
    rx.ring.init();
    let bar = Bar::default();
    let mask = n - 1;
    let mut cidx: u16 = 0;
    let mut ops = 0;
    while !inp.is_empty() && ops < 1024 {
        ops += 1;
        match inp.u8() % 10 {
            0 | 1 => {
                // The device writes back one descriptor.
                let slot = inp.u16() & mask;
                let q0 = inp.u64();
                let q1 = status(&mut inp, rx.ring.buf_size());
                rx.mem.poke(usize::from(slot) * 32, &q0.to_le_bytes());
                rx.mem.poke(usize::from(slot) * 32 + 8, &q1.to_le_bytes());
            }
            2 => {
                // The device writes back a frame of k descriptors from cidx.
                let k = 1 + inp.u8() % 6;
                for j in 0..k {
                    let slot = cidx.wrapping_add(u16::from(j)) & mask;
                    let len = u64::from(inp.u16() % (rx.ring.buf_size() + 1));
                    let q1 = DD
                        | if j + 1 == k { EOF } else { 0 }
                        | (len << 38)
                        | (u64::from(inp.u8()) << 30);
                    rx.mem.poke(usize::from(slot) * 32 + 8, &q1.to_le_bytes());
                }
            }
            3 => {
                let idx = if inp.bool() { cidx } else { inp.u16() };
                let budget = inp.u16();
                let a = rx.ring.available(idx, budget);
                assert!(
                    a <= budget && a < n,
                    "available {a} budget {budget} ring {n}"
                );
            }
            4 => {
                let at = if inp.bool() { cidx } else { inp.u16() };
                let nfr = usize::from(inp.u8() % 9);
                if let Ok(nf) = rx.pkt_get(at, nfr) {
                    assert!(nfr >= 5, "frame accepted into {nfr} fragment slots");
                    if at == cidx {
                        cidx = cidx.wrapping_add(u16::from(nf)) & mask;
                    }
                }
            }
            5 => {
                let pidx = inp.u16();
                let k = usize::from(inp.u8() % 40);
                let paddrs: Vec<u64> = (0..k).map(|_| inp.u64()).collect();
                let count = inp.u16() % 64;
                rx.ring.refill(pidx, &paddrs, count);
                let m = k.min(usize::from(count));
                if m <= usize::from(n) {
                    for (j, pa) in paddrs.iter().take(m).enumerate() {
                        let slot = (usize::from(pidx) + j) & usize::from(mask);
                        assert_eq!(rx.mem.rd_u64(slot * 32), *pa, "refill slot {slot}");
                    }
                }
            }
            6 => {
                let pidx = inp.u16();
                rx.ring.flush(&bar, pidx);
                let (off, val) = *bar.0.borrow().last().unwrap();
                assert_eq!(off, 0x2000 + 4 * u32::from(qid));
                assert!(val < u32::from(n));
                bar.0.borrow_mut().clear();
            }
            7 => {
                rx.ring.set_buf_size(inp.u16());
                rx.csum = inp.bool();
                rx.ring.set_rx_csum(rx.csum);
            }
            8 => {
                // iflib's receive loop: available, then pkt_get each frame, then refill.
                let budget = 1 + inp.u16() % 64;
                let avail = rx.ring.available(cidx, budget);
                let start = cidx;
                for _ in 0..avail {
                    match rx.pkt_get(cidx, 5) {
                        Ok(nf) => cidx = cidx.wrapping_add(u16::from(nf)) & mask,
                        Err(()) => {
                            // iflib resets the interface: init, refill from 0.
                            rx.ring.init();
                            cidx = 0;
                            break;
                        }
                    }
                }
                let used = usize::from(cidx.wrapping_sub(start) & mask);
                let paddrs: Vec<u64> = (0..used as u64).map(|j| 0x9_0000_0000 + j * 2048).collect();
                rx.ring.refill(start, &paddrs, used as u16);
                rx.ring.flush(&bar, cidx);
            }
            _ => {
                rx.ring.init();
                cidx = 0;
                assert!(
                    rx.mem.to_vec().iter().all(|&b| b == 0),
                    "init left descriptor bytes"
                );
            }
        }
        assert_eq!(rx.mem.oob(), 0, "access outside the RX ring");
        assert_eq!(rx.ring.region().len(), bytes);
    }
});
