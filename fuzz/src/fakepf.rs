//! A fake VF BAR0, admin-queue firmware and PF for `ravf::Vf`, whose answers the
//! fuzzer chooses.
//!
//! * BAR0 is a register map. An ATQT write makes the firmware consume the ATQ at once
//!   (descriptor write-back DD|CMP, ATQH advanced) and the PF react to each message.
//! * The PF draws one decision byte per request from its [`Tape`]: a correct answer
//!   (built from hw-contract 4.5 layouts), silence, a refusal, a corrupted or
//!   truncated or oversized answer, the answer under another opcode, a duplicate, an
//!   extra event, a mangled ARQ descriptor, or a VF reset. With the tape used up (or
//!   while `scripted` is false) it answers correctly, so every run can settle.
//! * Time is virtual (`sleep_us`/`delay_us` advance it). Every BAR access counts
//!   towards [`WORK_LIMIT`]; going past it means the driver is spinning without bound,
//!   and the fake panics so the fuzzer reports it.

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::rc::Rc;

use ravf::os::{Bar0, Level, Os};

use crate::dma::VecDma;
use crate::input::{Draw, Tape};

/// BAR accesses allowed per run: a `vf_mailbox` run does about 10 000 at most (its
/// waits are bounded by virtual time), so this only trips on a loop without a bound.
pub const WORK_LIMIT: u64 = 1_000_000;

// i40e_register.h VF registers (hw-contract 2), repeated here on purpose so that the
// fake does not share the driver's constants.
const ATQBAH: u32 = 0x7800;
const ATQBAL: u32 = 0x7C00;
const ATQLEN: u32 = 0x6800;
const ATQH: u32 = 0x6400;
const ATQT: u32 = 0x8400;
const ARQBAH: u32 = 0x6000;
const ARQBAL: u32 = 0x6C00;
const ARQLEN: u32 = 0x8000;
const ARQH: u32 = 0x7400;
const ARQT: u32 = 0x7000;
const RSTAT: u32 = 0x8800;
const ICR01: u32 = 0x4800;
const LEN_ENABLE: u32 = 1 << 31;
const IDX_MASK: u32 = 0x3FF;

/// Registers a fuzzer "device glitch" may overwrite.
pub const GLITCH_REGS: [u32; 8] = [ATQH, ARQH, ATQLEN, ARQLEN, RSTAT, ICR01, ATQT, ARQT];

// iavf_adminq_cmd.h descriptor flags.
const AQ_DD: u16 = 1 << 0;
const AQ_CMP: u16 = 1 << 1;
const AQ_ERR: u16 = 1 << 2;
const AQ_BUF: u16 = 1 << 12;

// virtchnl.h opcodes the PF answers with data.
const OP_VERSION: u32 = 1;
const OP_RESET_VF: u32 = 2;
const OP_GET_VF_RESOURCES: u32 = 3;
const OP_ENABLE_QUEUES: u32 = 8;
const OP_GET_STATS: u32 = 15;
const OP_EVENT: u32 = 17;
const OP_GET_RSS_HENA_CAPS: u32 = 25;
const OP_REQUEST_QUEUES: u32 = 29;

/// Capabilities the fake PF grants when asked (virtchnl.h VIRTCHNL_VF_OFFLOAD_*: L2,
/// RSS_REG, VLAN, WB_ON_ITR, RSS_PF, ADV_LINK_SPEED).
const SUPPORTED_CAPS: u32 = 0x0000_0001 | 0x10 | 0x1_0000 | 0x20 | 0x8_0000 | 0x80;

/// One message the PF will post on the ARQ.
#[derive(Clone, Debug)]
pub struct Msg {
    pub op: u32,
    pub retval: i32,
    pub payload: Vec<u8>,
    /// The descriptor's datalen; `None` = the payload length.
    pub datalen: Option<u16>,
    /// Extra descriptor flags (e.g. ERR).
    pub flags: u16,
}

impl Msg {
    pub fn new(op: u32, retval: i32, payload: Vec<u8>) -> Self {
        Msg {
            op,
            retval,
            payload,
            datalen: None,
            flags: 0,
        }
    }
}

/// The fake's state.
pub struct Hw {
    regs: HashMap<u32, u32>,
    mem: Vec<VecDma>,
    next_pa: u64,
    pub now: u64,
    /// BAR accesses so far.
    pub work: u64,
    /// The PF's (and the harness's) decisions.
    pub tape: Tape,
    /// Draw PF decisions from the tape (false: always answer correctly).
    pub scripted: bool,
    pending: VecDeque<Msg>,
    reset_done_at: Option<u64>,
    /// Virtual µs a VF reset takes.
    pub reset_us: u64,
    /// Fail the n-th `dma_alloc` (1-based; 0 = never).
    pub fail_alloc: u32,
    allocs: u32,
    stats: u64,
    /// Messages the VF sent (count only, to keep memory bounded).
    pub sent: u64,
    pub resets: u64,
    pub admin_tasks_scheduled: u64,
}

impl Hw {
    fn new(tape: Tape) -> Self {
        let mut regs = HashMap::new();
        regs.insert(RSTAT, 2); // VFR_VFACTIVE
        Hw {
            regs,
            mem: Vec::new(),
            next_pa: 0x1_0000_0000,
            now: 0,
            work: 0,
            tape,
            scripted: true,
            pending: VecDeque::new(),
            reset_done_at: None,
            reset_us: 2_000,
            fail_alloc: 0,
            allocs: 0,
            stats: 0,
            sent: 0,
            resets: 0,
            admin_tasks_scheduled: 0,
        }
    }

    fn tick(&mut self) {
        self.work += 1;
        if self.work > WORK_LIMIT {
            panic!(
                "driver spun for {} BAR accesses (virtual time {} us): unbounded work",
                self.work, self.now
            );
        }
    }

    pub fn reg(&self, off: u32) -> u32 {
        self.regs.get(&off).copied().unwrap_or(0)
    }

    /// A device glitch: overwrite a register behind the driver's back.
    pub fn set_reg(&mut self, off: u32, v: u32) {
        self.regs.insert(off, v);
    }

    fn find(&self, pa: u64, n: usize) -> Option<(&VecDma, usize)> {
        self.mem
            .iter()
            .find_map(|d| d.offset_of(pa, n).map(|off| (d, off)))
    }

    fn read_mem(&self, pa: u64, n: usize) -> Vec<u8> {
        match self.find(pa, n) {
            Some((d, off)) => d.snapshot(off, n),
            None => vec![0; n],
        }
    }

    fn write_mem(&self, pa: u64, data: &[u8]) {
        if let Some((d, off)) = self.find(pa, data.len()) {
            d.poke(off, data);
        }
    }

    fn base(&self, bal: u32, bah: u32) -> u64 {
        (u64::from(self.reg(bah)) << 32) | u64::from(self.reg(bal))
    }

    /// Firmware: consume ATQ descriptors from ATQH to ATQT.
    fn process_atq(&mut self) {
        let lenreg = self.reg(ATQLEN);
        let len = lenreg & IDX_MASK;
        if lenreg & LEN_ENABLE == 0 || len == 0 {
            return;
        }
        let base = self.base(ATQBAL, ATQBAH);
        let tail = self.reg(ATQT) & IDX_MASK;
        let mut head = self.reg(ATQH) & IDX_MASK;
        for _ in 0..len {
            if head == tail || head >= len {
                break;
            }
            let dpa = base + u64::from(head) * 32;
            let mut d = self.read_mem(dpa, 32);
            let flags = u16::from_le_bytes([d[0], d[1]]);
            let datalen = usize::from(u16::from_le_bytes([d[4], d[5]]));
            let op = u32::from_le_bytes([d[8], d[9], d[10], d[11]]);
            let addr = (u64::from(u32::from_le_bytes([d[24], d[25], d[26], d[27]])) << 32)
                | u64::from(u32::from_le_bytes([d[28], d[29], d[30], d[31]]));
            let payload = if flags & AQ_BUF != 0 {
                self.read_mem(addr, datalen.min(4096))
            } else {
                Vec::new()
            };
            d[0..2].copy_from_slice(&(flags | AQ_DD | AQ_CMP).to_le_bytes());
            d[6..8].copy_from_slice(&0u16.to_le_bytes());
            self.write_mem(dpa, &d);
            head = (head + 1) % len;
            self.regs.insert(ATQH, head);
            self.sent += 1;
            self.pf_handle(op, &payload);
            if self.reg(ATQLEN) & LEN_ENABLE == 0 {
                break; // the message reset the VF
            }
        }
        self.flush_arq();
    }

    fn draw(&mut self) -> Option<u8> {
        (self.scripted && !self.tape.is_empty()).then(|| self.tape.u8())
    }

    /// The PF's reaction to one VF message.
    fn pf_handle(&mut self, op: u32, payload: &[u8]) {
        if op == OP_RESET_VF {
            // No reply; the hardware resets the VF (unless the PF ignores it).
            if self.draw().is_none_or(|a| a % 8 != 7) {
                self.do_reset();
            }
            return;
        }
        let good = self.good_reply(op, payload);
        let Some(action) = self.draw() else {
            self.queue_good(op, good);
            return;
        };
        match action % 16 {
            0..=5 => self.queue_good(op, good),
            6 => {
                // Corrupt a few bytes of the right answer.
                let mut p = good;
                for _ in 0..1 + self.tape.u8() % 4 {
                    let at = usize::from(self.tape.u8());
                    let v = self.tape.u8();
                    let at = at % p.len().max(1);
                    if let Some(b) = p.get_mut(at) {
                        *b = v;
                    }
                }
                self.pending.push_back(Msg::new(op, 0, p));
            }
            7 => {
                // Truncate or extend the right answer.
                let mut p = good;
                let n = usize::from(self.tape.u8());
                p.resize(n, self.tape.u8());
                self.pending.push_back(Msg::new(op, 0, p));
            }
            8 => {} // silence
            9 => {
                let st = self
                    .tape
                    .pick(&[-5i32, -38, -53, -64, -1, 1, 2, i32::MIN, 0x7FFF_FFFF]);
                let p = if self.tape.bool() { good } else { Vec::new() };
                self.pending.push_back(Msg::new(op, st, p));
            }
            10 => {
                // Arbitrary bytes as the answer.
                let n = usize::from(self.tape.u16() % 320);
                let p = self.tape.vec(n);
                self.pending.push_back(Msg::new(op, 0, p));
            }
            11 => {
                self.queue_good(op, good);
                let e = self.event();
                self.pending.push_back(e);
            }
            12 => {
                // The answer under another opcode (late/duplicate/foreign reply).
                let other = u32::from(self.tape.u8() % 32);
                let retval = if self.tape.bool() { 0 } else { -5 };
                self.pending.push_back(Msg::new(other, retval, good));
            }
            13 => {
                self.queue_good(op, good.clone());
                self.pending.push_back(Msg::new(op, 0, good));
            }
            14 => {
                // A mangled ARQ descriptor: datalen/flags not matching the buffer.
                let mut m = Msg::new(op, 0, good);
                m.datalen = Some(self.tape.pick(&[0, 1, 4095, 4096, 4097, 0xFFFF, 200]));
                if self.tape.bool() {
                    m.flags |= AQ_ERR;
                }
                self.pending.push_back(m);
            }
            _ => {
                // The PF resets the VF instead of answering, maybe announcing it.
                if self.tape.bool() {
                    let mut ev = vec![0u8; 16];
                    ev[0..4].copy_from_slice(&2i32.to_le_bytes()); // RESET_IMPENDING
                    ev[12..16].copy_from_slice(&255i32.to_le_bytes()); // PF_EVENT_SEVERITY_CERTAIN_DOOM
                    self.push_now(Msg::new(OP_EVENT, 0, ev));
                } else {
                    self.do_reset();
                }
            }
        }
    }

    /// A PF event chosen by the tape (virtchnl.h `struct virtchnl_pf_event`, 16 bytes).
    pub fn event(&mut self) -> Msg {
        let mut ev = vec![0u8; 16];
        let kind = self.tape.pick(&[1i32, 1, 2, 3, 0, 4, -1]);
        ev[0..4].copy_from_slice(&kind.to_le_bytes());
        let speed = self
            .tape
            .pick(&[40_000u32, 0, 1, 0x20, 0x10, u32::MAX, 100_000]);
        ev[4..8].copy_from_slice(&speed.to_le_bytes());
        ev[8] = self.tape.u8() & 1;
        let sev = self.tape.pick(&[255i32, 0, -1]);
        ev[12..16].copy_from_slice(&sev.to_le_bytes());
        let retval = if self.tape.u8().is_multiple_of(8) {
            -5
        } else {
            0
        };
        let mut m = Msg::new(OP_EVENT, retval, ev);
        if self.tape.u8().is_multiple_of(8) {
            m.payload.truncate(usize::from(self.tape.u8() % 16));
        }
        m
    }

    fn queue_good(&mut self, op: u32, good: Vec<u8>) {
        self.pending.push_back(Msg::new(op, 0, good));
        if op == OP_GET_VF_RESOURCES || op == OP_ENABLE_QUEUES {
            // i40e follows both with a LINK_CHANGE event (advanced format: Mbps).
            let mut ev = vec![0u8; 16];
            ev[0..4].copy_from_slice(&1i32.to_le_bytes());
            ev[4..8].copy_from_slice(&40_000u32.to_le_bytes());
            ev[8] = 1;
            self.pending.push_back(Msg::new(OP_EVENT, 0, ev));
        }
    }

    /// The answer an upstream i40e PF gives (hw-contract 4.5 layouts).
    fn good_reply(&mut self, op: u32, payload: &[u8]) -> Vec<u8> {
        match op {
            OP_VERSION => [1u32.to_le_bytes(), 1u32.to_le_bytes()].concat(),
            OP_GET_VF_RESOURCES => {
                let req = payload
                    .get(0..4)
                    .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                    .unwrap_or(0x0001_0011);
                let caps = (req & SUPPORTED_CAPS) | 1;
                let mut v = vec![0u8; 52];
                v[0..2].copy_from_slice(&1u16.to_le_bytes()); // num_vsis
                v[2..4].copy_from_slice(&4u16.to_le_bytes()); // num_queue_pairs
                v[4..6].copy_from_slice(&5u16.to_le_bytes()); // max_vectors
                v[6..8].copy_from_slice(&9728u16.to_le_bytes()); // max_mtu
                v[8..12].copy_from_slice(&caps.to_le_bytes()); // vf_cap_flags
                v[12..16].copy_from_slice(&52u32.to_le_bytes()); // rss_key_size
                v[16..20].copy_from_slice(&64u32.to_le_bytes()); // rss_lut_size
                v[20..22].copy_from_slice(&0x18u16.to_le_bytes()); // vsi_res[0].vsi_id
                v[22..24].copy_from_slice(&4u16.to_le_bytes()); // .num_queue_pairs
                v[24..28].copy_from_slice(&6i32.to_le_bytes()); // .vsi_type = SRIOV
                v[28..30].copy_from_slice(&7u16.to_le_bytes()); // .qset_handle
                v[30..36].copy_from_slice(&[0x00, 0x1b, 0x21, 0x01, 0x02, 0x03]);
                v
            }
            OP_GET_STATS => {
                self.stats += 1000;
                (0..12u64)
                    .flat_map(|i| (self.stats + i).to_le_bytes())
                    .collect()
            }
            OP_GET_RSS_HENA_CAPS => 0x8000_7A1E_8000_0000u64.to_le_bytes().to_vec(),
            OP_REQUEST_QUEUES => payload.get(0..2).unwrap_or(&[4, 0]).to_vec(),
            _ => Vec::new(),
        }
    }

    /// A VF reset: AQ registers cleared, VFGEN_RSTAT = INPROGRESS until `reset_us`.
    pub fn do_reset(&mut self) {
        self.resets += 1;
        for r in [
            ATQH, ATQT, ATQLEN, ATQBAL, ATQBAH, ARQH, ARQT, ARQLEN, ARQBAL, ARQBAH,
        ] {
            self.regs.insert(r, 0);
        }
        self.regs.insert(RSTAT, 0);
        self.pending.clear();
        self.reset_done_at = Some(self.now + self.reset_us);
    }

    /// Post queued messages while the ARQ has room.
    pub fn flush_arq(&mut self) {
        while let Some(m) = self.pending.pop_front() {
            if !self.post_arq(&m) {
                self.pending.push_front(m);
                break;
            }
        }
        // A hostile PF can flood; the fake keeps a bounded backlog.
        while self.pending.len() > 256 {
            self.pending.pop_back();
        }
    }

    /// Queue a message and post it if there is room.
    pub fn push_now(&mut self, m: Msg) {
        self.pending.push_back(m);
        self.flush_arq();
    }

    /// Write one message into the ARQ slot at ARQH. False if the ring is off or full.
    fn post_arq(&mut self, m: &Msg) -> bool {
        let lenreg = self.reg(ARQLEN);
        let len = lenreg & IDX_MASK;
        if lenreg & LEN_ENABLE == 0 || len == 0 {
            return false;
        }
        let head = self.reg(ARQH) & IDX_MASK;
        let tail = self.reg(ARQT) & IDX_MASK;
        if head == tail || head >= len {
            return false;
        }
        let dpa = self.base(ARQBAL, ARQBAH) + u64::from(head) * 32;
        let mut d = self.read_mem(dpa, 32);
        let addr = (u64::from(u32::from_le_bytes([d[24], d[25], d[26], d[27]])) << 32)
            | u64::from(u32::from_le_bytes([d[28], d[29], d[30], d[31]]));
        let bufsz = usize::from(u16::from_le_bytes([d[4], d[5]]));
        let n = m.payload.len().min(bufsz).min(4096);
        self.write_mem(addr, &m.payload[..n]);
        let datalen = m.datalen.unwrap_or(m.payload.len() as u16);
        let flags = u16::from_le_bytes([d[0], d[1]]) | AQ_DD | AQ_CMP | m.flags;
        d[0..2].copy_from_slice(&flags.to_le_bytes());
        d[2..4].copy_from_slice(&0x0802u16.to_le_bytes()); // send_msg_to_vf
        d[4..6].copy_from_slice(&datalen.to_le_bytes());
        d[6..8].copy_from_slice(&0u16.to_le_bytes());
        d[8..12].copy_from_slice(&m.op.to_le_bytes());
        d[12..16].copy_from_slice(&(m.retval as u32).to_le_bytes());
        self.write_mem(dpa, &d);
        self.regs.insert(ARQH, (head + 1) % len);
        let icr = self.reg(ICR01) | (1 << 30); // ADMINQ
        self.regs.insert(ICR01, icr);
        true
    }

    /// Let virtual time pass.
    pub fn advance(&mut self, us: u64) {
        self.now = self.now.saturating_add(us);
        if let Some(t) = self.reset_done_at {
            if self.now >= t {
                self.regs.insert(RSTAT, 2);
                self.reset_done_at = None;
            }
        }
        self.flush_arq();
    }
}

#[derive(Clone)]
pub struct FakeBar(Rc<RefCell<Hw>>);

impl Bar0 for FakeBar {
    fn rd32(&self, off: u32) -> u32 {
        let mut hw = self.0.borrow_mut();
        hw.tick();
        hw.reg(off)
    }
    fn wr32(&self, off: u32, val: u32) {
        let mut hw = self.0.borrow_mut();
        hw.tick();
        hw.regs.insert(off, val);
        match off {
            ATQT => hw.process_atq(),
            ARQT => hw.flush_arq(),
            _ => {}
        }
    }
}

/// The `Os` the Vf runs on.
pub struct FakeOs {
    hw: Rc<RefCell<Hw>>,
    bar: FakeBar,
}

impl FakeOs {
    /// A VF whose PF decides from `tape`.
    pub fn new(tape: Tape) -> Self {
        let hw = Rc::new(RefCell::new(Hw::new(tape)));
        FakeOs {
            bar: FakeBar(hw.clone()),
            hw,
        }
    }

    /// The fake's state (do not hold the borrow across a call into the driver).
    pub fn hw(&self) -> std::cell::RefMut<'_, Hw> {
        self.hw.borrow_mut()
    }

    /// Another handle on the same fake (the Vf takes one by value).
    pub fn handle(&self) -> FakeOs {
        FakeOs {
            hw: self.hw.clone(),
            bar: self.bar.clone(),
        }
    }

    /// Total out-of-range DMA accesses by the driver over all regions.
    pub fn dma_oob(&self) -> u64 {
        self.hw.borrow().mem.iter().map(|d| d.oob()).sum()
    }
}

impl Os for FakeOs {
    type Bar = FakeBar;
    type Dma = VecDma;

    fn bar(&self) -> &FakeBar {
        &self.bar
    }
    fn dma_alloc(&self, size: usize, align: usize) -> Option<VecDma> {
        let mut hw = self.hw.borrow_mut();
        hw.allocs += 1;
        if hw.allocs == hw.fail_alloc {
            return None;
        }
        let a = align.max(1) as u64;
        let pa = hw.next_pa.div_ceil(a) * a;
        hw.next_pa = pa + size as u64 + 4096;
        let d = VecDma::new(pa, size);
        hw.mem.push(d.clone());
        Some(d)
    }
    fn now_us(&self) -> u64 {
        self.hw.borrow().now
    }
    fn delay_us(&self, us: u32) {
        let mut hw = self.hw.borrow_mut();
        hw.tick();
        hw.advance(u64::from(us));
    }
    fn sleep_us(&self, us: u32) {
        let mut hw = self.hw.borrow_mut();
        hw.tick();
        hw.advance(u64::from(us));
    }
    fn random_bytes(&self, buf: &mut [u8]) {
        for (i, b) in buf.iter_mut().enumerate() {
            *b = (i as u8).wrapping_mul(151).wrapping_add(0x3D);
        }
    }
    fn log(&self, _level: Level, args: core::fmt::Arguments<'_>) {
        // Format it (the driver's Display impls run) but keep nothing.
        let _ = std::fmt::format(args);
    }
    fn schedule_admin_task(&self) {
        self.hw.borrow_mut().admin_tasks_scheduled += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ravf::{AttachConfig, Error, Vf, VfState};

    fn cfg() -> AttachConfig {
        AttachConfig {
            aq_len: 4,
            reset_wait_us: 100_000,
            reset_drop_wait_us: 20_000,
            reply_timeout_us: 20_000,
            ..AttachConfig::default()
        }
    }

    #[test]
    fn correct_pf_lets_the_vf_attach() {
        let os = FakeOs::new(Tape::new(&[]));
        let h = os.handle();
        let vf = Vf::attach_boxed(os, &cfg()).expect("attach");
        assert_eq!(vf.state(), VfState::Running);
        assert_eq!(vf.resources().vsi_id, 0x18);
        assert_eq!(vf.resources().num_queue_pairs, 4);
        assert_eq!(vf.mac(), [0x00, 0x1b, 0x21, 0x01, 0x02, 0x03]);
        let hw = h.hw();
        assert_eq!((hw.sent, hw.resets), (3, 1)); // VERSION, RESET_VF, GET_VF_RESOURCES
        drop(hw);
        assert_eq!(h.dma_oob(), 0);
    }

    #[test]
    fn silent_pf_makes_attach_time_out() {
        // Decision byte 8 = no answer, for every request.
        let os = FakeOs::new(Tape::new(&[8; 64]));
        let r = Vf::attach_boxed(os, &cfg()).map(|_| ());
        assert!(matches!(r, Err(Error::Timeout { .. })), "{r:?}");
    }

    #[test]
    fn refusing_pf_is_reported() {
        // VERSION answered, RESET_VF performed, GET_VF_RESOURCES refused (9, then
        // status choice 0 = -5, then "no payload").
        let os = FakeOs::new(Tape::new(&[0, 0, 9, 0, 0]));
        let r = Vf::attach_boxed(os, &cfg()).map(|_| ());
        assert!(matches!(r, Err(Error::Refused { status: -5, .. })), "{r:?}");
    }
}
