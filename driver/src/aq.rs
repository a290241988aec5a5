//! The admin queue (mailbox): the ATQ (VF → PF) and ARQ (PF → VF) descriptor rings
//! in DMA memory, as the VF side of `iavf_adminq.c` does it (hw-contract 3).
//!
//! * Rings are `len` 32-byte descriptors, 4096-byte aligned, each slot with its own
//!   4096-byte buffer.
//! * ATQ completion is tracked through ATQH (Linux/FreeBSD `iavf_asq_done`), ARQ
//!   work is found by comparing ARQH with our next-to-clean (never by DD).
//! * Everything the PF/firmware writes (ATQH, ARQH, descriptor datalen) is bounded
//!   before it is used as an index or a length.

use zerocopy::byteorder::little_endian::{U16, U32};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

use crate::os::{Bar0, DmaRegion, Os};
use crate::regs::{self, aqlen, AqRegs, ARQ_REGS, ATQ_REGS};

/// iavf_adminq_cmd.h `struct iavf_aq_desc` (32 bytes), the indirect-buffer view.
/// For virtchnl, cookie_high = v_opcode and cookie_low = v_retval.
#[derive(Clone, Copy, Debug, Default, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct AqDesc {
    pub flags: U16,
    pub opcode: U16,
    pub datalen: U16,
    pub retval: U16,
    pub cookie_high: U32,
    pub cookie_low: U32,
    pub param0: U32,
    pub param1: U32,
    pub addr_high: U32,
    pub addr_low: U32,
}
static_assertions::const_assert_eq!(core::mem::size_of::<AqDesc>(), 32);

/// Descriptor size in bytes.
pub const DESC_SIZE: usize = 32;

/// iavf_adminq_cmd.h descriptor flags (IAVF_AQ_FLAG_*).
pub mod flags {
    pub const DD: u16 = 1 << 0;
    pub const CMP: u16 = 1 << 1;
    pub const ERR: u16 = 1 << 2;
    pub const VFE: u16 = 1 << 3;
    pub const LB: u16 = 1 << 9;
    pub const RD: u16 = 1 << 10;
    pub const VFC: u16 = 1 << 11;
    pub const BUF: u16 = 1 << 12;
    pub const SI: u16 = 1 << 13;
    pub const EI: u16 = 1 << 14;
    pub const FE: u16 = 1 << 15;
}

/// iavf_adminq_cmd.h: iavf_aqc_opc_send_msg_to_pf = 0x0801.
pub const OPC_SEND_MSG_TO_PF: u16 = 0x0801;
/// iavf_adminq_cmd.h: iavf_aqc_opc_send_msg_to_vf = 0x0802 (what the PF's messages carry).
pub const OPC_SEND_MSG_TO_VF: u16 = 0x0802;
/// iavf_adminq.h: IAVF_AQ_LARGE_BUF 512 — buffers above this need the LB flag.
pub const LARGE_BUF: usize = 512;
/// Buffer size per slot (IAVF_MAX_AQ_BUF_SIZE 4096); also the largest message.
pub const BUF_SIZE: usize = 4096;
/// Ring length used by ravf (Linux iavf uses 32, FreeBSD 256; LEN is 10 bits).
pub const DEFAULT_LEN: u16 = 32;
/// Ring alignment (IAVF_ADMINQ_DESC_ALIGNMENT 4096 is safe for every PF).
pub const RING_ALIGN: usize = 4096;

/// Admin-queue failures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AqError {
    /// `Os::dma_alloc` returned None.
    NoMemory,
    /// The base address read back from BAL differs from what was written
    /// (`iavf_config_asq_regs` / `iavf_config_arq_regs` check).
    InitReadback { queue: Queue },
    /// The payload is larger than the 4096-byte buffer.
    TooLarge,
    /// No free ATQ descriptor (the PF has stopped consuming).
    Full,
    /// A head register pointed outside the ring (untrusted hardware value).
    BadHead { queue: Queue, head: u32 },
    /// A register read 0xDEADBEEF / 0xFFFFFFFF: the VF is in reset.
    InReset,
    /// The queue is not initialised.
    NotInitialized,
}

/// Which ring.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Queue {
    Atq,
    Arq,
}

/// A message taken off the ARQ.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArqMsg {
    /// cookie_high: the virtchnl opcode.
    pub v_opcode: u32,
    /// cookie_low: the virtchnl status.
    pub v_retval: i32,
    /// The descriptor's datalen, bounded to BUF_SIZE.
    pub declared_len: usize,
    /// Bytes copied into the caller's buffer (≤ declared_len, ≤ the buffer).
    pub copied: usize,
    /// True if datalen was larger than the buffer size (counted, then clipped).
    pub oversized: bool,
    /// The descriptor's flags and AQ opcode/retval, as written by firmware.
    pub aq_flags: u16,
    pub aq_opcode: u16,
    pub aq_retval: u16,
}

impl ArqMsg {
    /// Firmware flagged an error on this descriptor (Linux stops processing on it).
    pub fn aq_error(&self) -> bool {
        self.aq_flags & flags::ERR != 0
    }
}

/// Health of the mailbox, from ATQLEN / ARQLEN.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AqHealth {
    /// A length register read 0xDEADBEEF / all-ones.
    pub in_reset: bool,
    /// ARQLEN.ENABLE (or ATQLEN.ENABLE) reads 0: a VF reset cleared the registers.
    pub disabled: bool,
    /// Error bits seen (and cleared) this time: VFE / OVFL / CRIT on either ring.
    pub errors: u32,
}

/// Counters kept by the admin queue.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AqCounters {
    pub sent: u64,
    pub received: u64,
    pub arq_vfe: u64,
    pub arq_ovfl: u64,
    pub arq_crit: u64,
    pub atq_vfe: u64,
    pub atq_ovfl: u64,
    pub atq_crit: u64,
    pub bad_head: u64,
    pub oversized: u64,
    pub desc_err_flag: u64,
    pub full: u64,
    pub inits: u64,
}

/// The two rings and their buffers.
pub struct AdminQueue<D: DmaRegion> {
    atq: D,
    arq: D,
    atq_bufs: D,
    arq_bufs: D,
    len: u16,
    atq_ntu: u16,
    atq_ntc: u16,
    arq_ntc: u16,
    up: bool,
    counters: AqCounters,
}

impl<D: DmaRegion> AdminQueue<D> {
    /// Allocate both rings (`len` descriptors each, 2..=1023) and their buffers.
    pub fn alloc<O: Os<Dma = D>>(os: &O, len: u16) -> Result<Self, AqError> {
        let len = len.clamp(2, regs::AQ_IDX_MASK as u16);
        let ring = len as usize * DESC_SIZE;
        let bufs = len as usize * BUF_SIZE;
        let atq = os.dma_alloc(ring, RING_ALIGN).ok_or(AqError::NoMemory)?;
        let arq = os.dma_alloc(ring, RING_ALIGN).ok_or(AqError::NoMemory)?;
        let atq_bufs = os.dma_alloc(bufs, RING_ALIGN).ok_or(AqError::NoMemory)?;
        let arq_bufs = os.dma_alloc(bufs, RING_ALIGN).ok_or(AqError::NoMemory)?;
        if atq.len() < ring || arq.len() < ring || atq_bufs.len() < bufs || arq_bufs.len() < bufs {
            return Err(AqError::NoMemory);
        }
        Ok(AdminQueue {
            atq,
            arq,
            atq_bufs,
            arq_bufs,
            len,
            atq_ntu: 0,
            atq_ntc: 0,
            arq_ntc: 0,
            up: false,
            counters: AqCounters::default(),
        })
    }

    /// Ring length in descriptors.
    pub fn len(&self) -> u16 {
        self.len
    }

    /// Always false (a ring has at least 2 descriptors); for clippy's len/is_empty rule.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// True between a successful `init` and `shutdown`.
    pub fn is_up(&self) -> bool {
        self.up
    }

    pub fn counters(&self) -> &AqCounters {
        &self.counters
    }

    fn buf_addr(bufs: &D, slot: u16) -> u64 {
        bufs.paddr() + slot as u64 * BUF_SIZE as u64
    }

    fn write_desc(ring: &D, slot: u16, d: &AqDesc) {
        ring.write(slot as usize * DESC_SIZE, d.as_bytes());
    }

    fn read_desc(ring: &D, slot: u16) -> AqDesc {
        let mut b = [0u8; DESC_SIZE];
        ring.read(slot as usize * DESC_SIZE, &mut b);
        AqDesc::read_from_bytes(&b).unwrap_or_default()
    }

    /// The descriptor the VF pre-posts on the ARQ (`iavf_alloc_arq_bufs`): BUF (+LB),
    /// datalen = buffer size, buffer address; everything else 0.
    fn post_arq(&self, slot: u16) {
        let addr = Self::buf_addr(&self.arq_bufs, slot);
        let mut f = flags::BUF;
        if BUF_SIZE > LARGE_BUF {
            f |= flags::LB;
        }
        let d = AqDesc {
            flags: U16::new(f),
            datalen: U16::new(BUF_SIZE as u16),
            addr_high: U32::new((addr >> 32) as u32),
            addr_low: U32::new(addr as u32),
            ..Default::default()
        };
        Self::write_desc(&self.arq, slot, &d);
    }

    fn program<B: Bar0>(bar: &B, r: &AqRegs, ring: &D, len: u16) -> bool {
        // iavf_config_asq_regs / iavf_config_arq_regs order (hw-contract 3.5):
        // H = 0, T = 0, LEN | ENABLE, BAL, BAH; then read BAL back.
        let pa = ring.paddr();
        bar.wr32(r.head, 0);
        bar.wr32(r.tail, 0);
        bar.wr32(r.len, (len as u32 & aqlen::LEN_MASK) | aqlen::ENABLE);
        bar.wr32(r.bal, pa as u32);
        bar.wr32(r.bah, (pa >> 32) as u32);
        bar.rd32(r.bal) == pa as u32
    }

    /// Initialise both rings: zero the ATQ, post every ARQ buffer, program the
    /// registers (ATQ first), and give the ARQ to hardware (ARQT = len - 1).
    pub fn init<B: Bar0>(&mut self, bar: &B) -> Result<(), AqError> {
        self.atq.zero(0, self.len as usize * DESC_SIZE);
        for slot in 0..self.len {
            self.post_arq(slot);
        }
        self.atq_ntu = 0;
        self.atq_ntc = 0;
        self.arq_ntc = 0;
        if !Self::program(bar, &ATQ_REGS, &self.atq, self.len) {
            self.up = false;
            return Err(AqError::InitReadback { queue: Queue::Atq });
        }
        if !Self::program(bar, &ARQ_REGS, &self.arq, self.len) {
            self.up = false;
            return Err(AqError::InitReadback { queue: Queue::Arq });
        }
        bar.wr32(ARQ_REGS.tail, (self.len - 1) as u32);
        self.up = true;
        self.counters.inits += 1;
        Ok(())
    }

    /// Stop both rings (`iavf_shutdown_asq/arq`: H, T, LEN, BAL, BAH = 0). The
    /// 0x0003 queue-shutdown command is not sent (a VF reset follows anyway).
    pub fn shutdown<B: Bar0>(&mut self, bar: &B) {
        for r in [&ATQ_REGS, &ARQ_REGS] {
            bar.wr32(r.head, 0);
            bar.wr32(r.tail, 0);
            bar.wr32(r.len, 0);
            bar.wr32(r.bal, 0);
            bar.wr32(r.bah, 0);
        }
        self.up = false;
    }

    /// Forget the software indexes without touching registers (after the hardware
    /// reset them in a VF reset).
    pub fn mark_down(&mut self) {
        self.up = false;
    }

    /// Queue one virtchnl message on the ATQ (asynchronous; `iavf_aq_send_msg_to_pf`
    /// descriptor, hw-contract 3.4) and ring the doorbell.
    pub fn send<B: Bar0>(&mut self, bar: &B, v_opcode: u32, payload: &[u8]) -> Result<(), AqError> {
        if !self.up {
            return Err(AqError::NotInitialized);
        }
        if payload.len() > BUF_SIZE {
            return Err(AqError::TooLarge);
        }
        // Free space after reclaiming what the PF consumed.
        self.clean_atq(bar)?;
        let next = (self.atq_ntu + 1) % self.len;
        if next == self.atq_ntc {
            self.counters.full += 1;
            return Err(AqError::Full);
        }
        let slot = self.atq_ntu;
        let mut f = flags::SI;
        let mut addr = 0u64;
        if !payload.is_empty() {
            f |= flags::BUF | flags::RD;
            if payload.len() > LARGE_BUF {
                f |= flags::LB;
            }
            addr = Self::buf_addr(&self.atq_bufs, slot);
            self.atq_bufs.write(slot as usize * BUF_SIZE, payload);
        }
        let d = AqDesc {
            flags: U16::new(f),
            opcode: U16::new(OPC_SEND_MSG_TO_PF),
            datalen: U16::new(payload.len() as u16),
            retval: U16::new(0),
            cookie_high: U32::new(v_opcode),
            cookie_low: U32::new(0),
            param0: U32::new(0),
            param1: U32::new(0),
            addr_high: U32::new((addr >> 32) as u32),
            addr_low: U32::new(addr as u32),
        };
        Self::write_desc(&self.atq, slot, &d);
        self.atq_ntu = next;
        bar.wr32(ATQ_REGS.tail, next as u32);
        self.counters.sent += 1;
        Ok(())
    }

    /// Reclaim ATQ descriptors the PF consumed (ATQH). Returns true when every
    /// sent descriptor has been consumed (`iavf_asq_done`).
    pub fn clean_atq<B: Bar0>(&mut self, bar: &B) -> Result<bool, AqError> {
        let raw = bar.rd32(ATQ_REGS.head);
        if regs::reads_as_reset(raw) {
            return Err(AqError::InReset);
        }
        let head = raw & regs::AQ_IDX_MASK;
        if head >= self.len as u32 {
            self.counters.bad_head += 1;
            return Err(AqError::BadHead {
                queue: Queue::Atq,
                head,
            });
        }
        let head = head as u16;
        // Only accept a head inside the in-flight window [ntc, ntu]; anything else is
        // a PF/firmware bug and must not make us reuse descriptors still in flight.
        let in_flight = (self.atq_ntu + self.len - self.atq_ntc) % self.len;
        let advanced = (head + self.len - self.atq_ntc) % self.len;
        if advanced > in_flight {
            self.counters.bad_head += 1;
            return Err(AqError::BadHead {
                queue: Queue::Atq,
                head: head as u32,
            });
        }
        self.atq_ntc = head;
        Ok(self.atq_ntc == self.atq_ntu)
    }

    /// True when every sent descriptor has been consumed (no register read).
    pub fn atq_idle(&self) -> bool {
        self.atq_ntc == self.atq_ntu
    }

    /// Take the next PF message off the ARQ, if any, copying up to `out.len()`
    /// bytes of its payload into `out`, then re-post the slot and return it to
    /// hardware (ARQT = the cleaned index, `iavf_clean_arq_element`).
    pub fn receive<B: Bar0>(&mut self, bar: &B, out: &mut [u8]) -> Result<Option<ArqMsg>, AqError> {
        if !self.up {
            return Err(AqError::NotInitialized);
        }
        let raw = bar.rd32(ARQ_REGS.head);
        if regs::reads_as_reset(raw) {
            return Err(AqError::InReset);
        }
        let head = raw & regs::AQ_IDX_MASK;
        if head >= self.len as u32 {
            self.counters.bad_head += 1;
            return Err(AqError::BadHead {
                queue: Queue::Arq,
                head,
            });
        }
        if head as u16 == self.arq_ntc {
            return Ok(None);
        }
        let slot = self.arq_ntc;
        let d = Self::read_desc(&self.arq, slot);
        let raw_len = d.datalen.get() as usize;
        let oversized = raw_len > BUF_SIZE;
        if oversized {
            self.counters.oversized += 1;
        }
        let declared = raw_len.min(BUF_SIZE);
        let copied = declared.min(out.len());
        if let Some(dst) = out.get_mut(..copied) {
            self.arq_bufs.read(slot as usize * BUF_SIZE, dst);
        }
        let f = d.flags.get();
        if f & flags::ERR != 0 {
            self.counters.desc_err_flag += 1;
        }
        let msg = ArqMsg {
            v_opcode: d.cookie_high.get(),
            v_retval: d.cookie_low.get() as i32,
            declared_len: declared,
            copied,
            oversized,
            aq_flags: f,
            aq_opcode: d.opcode.get(),
            aq_retval: d.retval.get(),
        };
        // Give the slot back: re-post, then ARQT = the slot just cleaned.
        self.post_arq(slot);
        bar.wr32(ARQ_REGS.tail, slot as u32);
        self.arq_ntc = (slot + 1) % self.len;
        self.counters.received += 1;
        Ok(Some(msg))
    }

    /// Check ATQLEN / ARQLEN: reset signatures, ENABLE dropped, and the latched
    /// VFE / OVFL / CRIT bits, which are counted and cleared by writing LEN back
    /// without them (FreeBSD `iavf_check_aq_errors`, Linux `iavf_adminq_task`).
    pub fn check_health<B: Bar0>(&mut self, bar: &B) -> AqHealth {
        let mut h = AqHealth::default();
        for (r, q) in [(&ARQ_REGS, Queue::Arq), (&ATQ_REGS, Queue::Atq)] {
            let v = bar.rd32(r.len);
            if regs::reads_as_reset(v) {
                h.in_reset = true;
                continue;
            }
            if v & aqlen::ENABLE == 0 {
                h.disabled = true;
            }
            let e = v & aqlen::ERRORS;
            if e != 0 {
                h.errors |= e;
                let c = &mut self.counters;
                let (vfe, ovfl, crit) = match q {
                    Queue::Arq => (&mut c.arq_vfe, &mut c.arq_ovfl, &mut c.arq_crit),
                    Queue::Atq => (&mut c.atq_vfe, &mut c.atq_ovfl, &mut c.atq_crit),
                };
                if e & aqlen::VFE != 0 {
                    *vfe += 1;
                }
                if e & aqlen::OVFL != 0 {
                    *ovfl += 1;
                }
                if e & aqlen::CRIT != 0 {
                    *crit += 1;
                }
                bar.wr32(r.len, v & !aqlen::ERRORS);
            }
        }
        h
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use crate::testing::{FakeOs, Pf};
    use std::vec;
    use std::vec::Vec;

    fn setup() -> (FakeOs, AdminQueue<crate::testing::FakeDma>) {
        let os = FakeOs::new(Pf::silent());
        os.hw().borrow_mut().atq_stalled = true;
        let mut aq = AdminQueue::alloc(&os, 8).unwrap();
        aq.init(os.bar()).unwrap();
        (os, aq)
    }

    #[test]
    fn init_programs_registers_in_order() {
        let (os, aq) = setup();
        let hw = os.hw();
        let w = hw.borrow().writes.clone();
        // ATQ: H, T, LEN|ENABLE, BAL, BAH; then ARQ the same; then ARQT = len - 1.
        let offs: Vec<u32> = w.iter().map(|(o, _)| *o).collect();
        assert_eq!(
            offs,
            vec![
                0x6400, 0x8400, 0x6800, 0x7C00, 0x7800, 0x7400, 0x7000, 0x8000, 0x6C00, 0x6000,
                0x7000
            ]
        );
        assert_eq!(w[2].1, 0x8000_0008);
        assert_eq!(w[7].1, 0x8000_0008);
        assert_eq!(w[10].1, 7);
        assert_eq!(w[3].1 as u64, aq.atq.paddr() & 0xFFFF_FFFF);
        assert_eq!(w[8].1 as u64, aq.arq.paddr() & 0xFFFF_FFFF);
        // Every ARQ slot is posted: flags BUF|LB = 0x1200, datalen 4096, its buffer.
        for s in 0..8u16 {
            let d = AdminQueue::read_desc(&aq.arq, s);
            assert_eq!(d.flags.get(), 0x1200);
            assert_eq!(d.datalen.get(), 4096);
            let a = ((d.addr_high.get() as u64) << 32) | d.addr_low.get() as u64;
            assert_eq!(a, aq.arq_bufs.paddr() + 4096 * s as u64);
        }
    }

    #[test]
    fn init_fails_on_readback_mismatch() {
        let os = FakeOs::new(Pf::silent());
        os.hw().borrow_mut().bal_readback_broken = true;
        let mut aq = AdminQueue::alloc(&os, 8).unwrap();
        assert_eq!(
            aq.init(os.bar()),
            Err(AqError::InitReadback { queue: Queue::Atq })
        );
        assert!(!aq.is_up());
    }

    #[test]
    fn send_builds_descriptor() {
        let (os, mut aq) = setup();
        aq.send(os.bar(), 6, &[0xAB; 600]).unwrap();
        let d = AdminQueue::read_desc(&aq.atq, 0);
        // SI | BUF | RD | LB = 0x2000 | 0x1000 | 0x0400 | 0x0200
        assert_eq!(d.flags.get(), 0x3600);
        assert_eq!(d.opcode.get(), 0x0801);
        assert_eq!(d.datalen.get(), 600);
        assert_eq!(d.cookie_high.get(), 6);
        assert_eq!(d.cookie_low.get(), 0);
        let a = ((d.addr_high.get() as u64) << 32) | d.addr_low.get() as u64;
        assert_eq!(a, aq.atq_bufs.paddr());
        assert_eq!(os.bar().rd32(0x8400), 1);
        // A zero-length message: SI only, no address.
        aq.send(os.bar(), 2, &[]).unwrap();
        let d = AdminQueue::read_desc(&aq.atq, 1);
        assert_eq!(d.flags.get(), 0x2000);
        assert_eq!(d.addr_low.get(), 0);
        assert_eq!(d.datalen.get(), 0);
        // Small payload: SI|BUF|RD.
        aq.send(os.bar(), 1, &[1; 8]).unwrap();
        assert_eq!(AdminQueue::read_desc(&aq.atq, 2).flags.get(), 0x3400);
        assert_eq!(aq.send(os.bar(), 1, &[0; 4097]), Err(AqError::TooLarge));
    }

    #[test]
    fn atq_full_and_bad_head() {
        let (os, mut aq) = setup();
        // The silent PF never consumes: 7 of 8 slots usable.
        for _ in 0..7 {
            aq.send(os.bar(), 1, &[0; 8]).unwrap();
        }
        assert_eq!(aq.send(os.bar(), 1, &[0; 8]), Err(AqError::Full));
        // A head outside the ring.
        os.bar().wr32(0x6400, 9);
        assert!(matches!(
            aq.clean_atq(os.bar()),
            Err(AqError::BadHead { .. })
        ));
        os.bar().wr32(0x6400, 0xDEAD_BEEF);
        assert_eq!(aq.clean_atq(os.bar()), Err(AqError::InReset));
        os.bar().wr32(0x6400, 7);
        assert_eq!(aq.clean_atq(os.bar()), Ok(true));
    }

    #[test]
    fn receive_bounds_and_reposts() {
        let (os, mut aq) = setup();
        let hw = os.hw();
        // The fake PF posts a message claiming 5000 bytes.
        hw.borrow_mut().post_arq_raw(17, 0, &[1, 0, 0, 0], 5000);
        let mut out = [0u8; 64];
        let m = aq.receive(os.bar(), &mut out).unwrap().unwrap();
        assert_eq!(m.v_opcode, 17);
        assert!(m.oversized);
        assert_eq!(m.declared_len, 4096);
        assert_eq!(m.copied, 64);
        assert_eq!(aq.counters().oversized, 1);
        // Re-posted and returned: ARQT = 0 (the slot cleaned).
        assert_eq!(os.bar().rd32(0x7000), 0);
        let d = AdminQueue::read_desc(&aq.arq, 0);
        assert_eq!(d.datalen.get(), 4096);
        assert_eq!(d.cookie_high.get(), 0);
        assert_eq!(aq.receive(os.bar(), &mut out), Ok(None));
        // ARQH out of range.
        os.bar().wr32(0x7400, 0x3FF);
        assert!(matches!(
            aq.receive(os.bar(), &mut out),
            Err(AqError::BadHead { .. })
        ));
    }

    #[test]
    fn health_clears_error_bits() {
        let (os, mut aq) = setup();
        os.bar().wr32(0x8000, 0x8000_0008 | (1 << 29) | (1 << 30));
        let h = aq.check_health(os.bar());
        assert_eq!(h.errors, (1 << 29) | (1 << 30));
        assert!(!h.disabled && !h.in_reset);
        assert_eq!(os.bar().rd32(0x8000), 0x8000_0008);
        assert_eq!(aq.counters().arq_ovfl, 1);
        assert_eq!(aq.counters().arq_crit, 1);
        os.bar().wr32(0x8000, 0x0000_0008);
        assert!(aq.check_health(os.bar()).disabled);
        os.bar().wr32(0x8000, 0xDEAD_BEEF);
        assert!(aq.check_health(os.bar()).in_reset);
    }

    #[test]
    fn shutdown_zeroes_registers() {
        let (os, mut aq) = setup();
        aq.shutdown(os.bar());
        for off in [
            0x6400, 0x8400, 0x6800, 0x7C00, 0x7800, 0x7400, 0x7000, 0x8000, 0x6C00, 0x6000,
        ] {
            assert_eq!(os.bar().rd32(off), 0, "reg {off:#x}");
        }
        assert!(!aq.is_up());
    }
}
