//! A tiny in-memory fake of the VF and a scripted PF, for unit tests.
//!
//! * BAR0 is a register map with a write log; ATQT writes make the fake PF consume
//!   the ATQ immediately (like firmware: DD|CMP, advance ATQH) and queue replies.
//! * DMA regions live at fake bus addresses above 4 GiB (so BAH matters); the PF
//!   reaches them by bus address, as the device would.
//! * Time is virtual: `sleep_us`/`delay_us` advance it, nothing waits for real.
//! * Replies are built by hand from the contract (hw-contract 4.5) in `Pf`, not by
//!   ravf's builders.
extern crate std;

use core::cell::RefCell;
use std::boxed::Box;
use std::collections::{HashMap, VecDeque};
use std::rc::Rc;
use std::vec;
use std::vec::Vec;

use crate::os::{Bar0, DmaRegion, Level, Os};

pub type Reply = (u32, i32, Vec<u8>);
/// A full override of the PF's answer to one request.
pub type CustomPf = Box<dyn FnMut(u32, &[u8]) -> Option<Vec<Reply>>>;

/// A scripted PF.
pub struct Pf {
    pub respond: bool,
    pub version: (u32, u32),
    pub num_qp: u16,
    pub max_vectors: u16,
    pub max_mtu: u16,
    /// Granted = requested ∩ supported (plus L2).
    pub supported_caps: u32,
    pub mac: [u8; 6],
    pub vsi_id: u16,
    pub hena_caps: u64,
    /// op → status for every request of that op.
    pub refuse: HashMap<u32, i32>,
    /// ops that get no reply.
    pub silent_ops: Vec<u32>,
    /// Full override: return Some(replies) to replace the default behaviour.
    pub custom: Option<CustomPf>,
    /// Send a LINK_CHANGE event after GET_VF_RESOURCES and ENABLE_QUEUES.
    pub link_events: bool,
    /// Virtual µs the VF reset takes (RSTAT 0 → 2).
    pub reset_us: u64,
    pub vf_res_len: usize,
    pub stats_seed: u64,
}

impl Pf {
    /// A PF that never answers anything.
    pub fn silent() -> Self {
        Pf {
            respond: false,
            ..Pf::good()
        }
    }

    /// A PF that behaves like upstream i40e for a 4-queue, 5-vector VF.
    pub fn good() -> Self {
        Pf {
            respond: true,
            version: (1, 1),
            num_qp: 4,
            max_vectors: 5,
            max_mtu: 9728,
            supported_caps: 0x0009_00B1, // L2 | RSS_REG | WB_ON_ITR | ADV_LINK_SPEED | VLAN | RSS_PF
            mac: [0; 6],
            vsi_id: 0x18,
            hena_caps: 0x8000_7A1E_8000_0000,
            refuse: HashMap::new(),
            silent_ops: Vec::new(),
            custom: None,
            link_events: true,
            reset_us: 5_000,
            vf_res_len: 52,
            stats_seed: 100,
        }
    }
}

fn le16(v: &mut [u8], off: usize, x: u16) {
    v[off..off + 2].copy_from_slice(&x.to_le_bytes());
}
fn le32(v: &mut [u8], off: usize, x: u32) {
    v[off..off + 4].copy_from_slice(&x.to_le_bytes());
}

/// A LINK_CHANGE event payload (advanced format: Mbps).
pub fn link_event(up: bool, speed: u32) -> Vec<u8> {
    let mut v = vec![0u8; 16];
    le32(&mut v, 0, 1);
    le32(&mut v, 4, speed);
    v[8] = up as u8;
    v
}

/// A RESET_IMPENDING event payload.
pub fn reset_event() -> Vec<u8> {
    let mut v = vec![0u8; 16];
    le32(&mut v, 0, 2);
    le32(&mut v, 12, 255);
    v
}

pub struct FakeHw {
    pub regs: HashMap<u32, u32>,
    pub writes: Vec<(u32, u32)>,
    pub mem: Vec<(u64, Rc<RefCell<Vec<u8>>>)>,
    next_paddr: u64,
    pub now: u64,
    pub bal_readback_broken: bool,
    /// Firmware does not consume the ATQ at all.
    pub atq_stalled: bool,
    pub pf: Pf,
    /// Every message the VF sent: (v_opcode, payload).
    pub sent: Vec<(u32, Vec<u8>)>,
    pub pending: VecDeque<Reply>,
    pub reset_done_at: Option<u64>,
    pub requested_caps: u32,
    pub resets: u32,
    pub admin_tasks_scheduled: u32,
    pub log: Vec<String>,
}

use std::string::String;

impl FakeHw {
    fn new(pf: Pf) -> Self {
        let mut regs = HashMap::new();
        regs.insert(0x8800, 2); // VFGEN_RSTAT = VFACTIVE
        FakeHw {
            regs,
            writes: Vec::new(),
            mem: Vec::new(),
            next_paddr: 0x1_0000_0000,
            now: 0,
            bal_readback_broken: false,
            atq_stalled: false,
            pf,
            sent: Vec::new(),
            pending: VecDeque::new(),
            reset_done_at: None,
            requested_caps: 0,
            resets: 0,
            admin_tasks_scheduled: 0,
            log: Vec::new(),
        }
    }

    pub fn reg(&self, off: u32) -> u32 {
        self.regs.get(&off).copied().unwrap_or(0)
    }

    fn region(&self, pa: u64, len: usize) -> Option<(Rc<RefCell<Vec<u8>>>, usize)> {
        for (base, r) in &self.mem {
            let l = r.borrow().len() as u64;
            if pa >= *base && pa + len as u64 <= base + l {
                return Some((r.clone(), (pa - base) as usize));
            }
        }
        None
    }

    pub fn read_mem(&self, pa: u64, len: usize) -> Vec<u8> {
        match self.region(pa, len) {
            Some((r, off)) => r.borrow()[off..off + len].to_vec(),
            None => vec![0; len],
        }
    }

    pub fn write_mem(&self, pa: u64, data: &[u8]) {
        if let Some((r, off)) = self.region(pa, data.len()) {
            r.borrow_mut()[off..off + data.len()].copy_from_slice(data);
        }
    }

    fn base(&self, bal: u32, bah: u32) -> u64 {
        ((self.reg(bah) as u64) << 32) | self.reg(bal) as u64
    }

    /// Consume ATQ descriptors from ATQH to ATQT.
    fn process_atq(&mut self) {
        if self.atq_stalled {
            return;
        }
        let len = self.reg(0x6800) & 0x3FF;
        if self.reg(0x6800) & (1 << 31) == 0 || len == 0 {
            return;
        }
        let base = self.base(0x7C00, 0x7800);
        let tail = self.reg(0x8400) & 0x3FF;
        let mut head = self.reg(0x6400) & 0x3FF;
        let mut guard = 0;
        while head != tail && guard < 1024 {
            guard += 1;
            let dpa = base + head as u64 * 32;
            let mut d = self.read_mem(dpa, 32);
            let flags = u16::from_le_bytes([d[0], d[1]]);
            let datalen = u16::from_le_bytes([d[4], d[5]]) as usize;
            let op = u32::from_le_bytes([d[8], d[9], d[10], d[11]]);
            let addr = ((u32::from_le_bytes([d[24], d[25], d[26], d[27]]) as u64) << 32)
                | u32::from_le_bytes([d[28], d[29], d[30], d[31]]) as u64;
            let payload = if flags & 0x1000 != 0 {
                self.read_mem(addr, datalen)
            } else {
                Vec::new()
            };
            // firmware write-back: DD | CMP, retval 0
            let nf = flags | 0x3;
            d[0..2].copy_from_slice(&nf.to_le_bytes());
            d[6..8].copy_from_slice(&0u16.to_le_bytes());
            self.write_mem(dpa, &d);
            head = (head + 1) % len;
            self.regs.insert(0x6400, head);
            self.sent.push((op, payload.clone()));
            self.pf_handle(op, &payload);
        }
        self.flush_arq();
    }

    fn pf_handle(&mut self, op: u32, payload: &[u8]) {
        if !self.pf.respond {
            return;
        }
        if let Some(f) = self.pf.custom.as_mut() {
            if let Some(replies) = f(op, payload) {
                self.pending.extend(replies);
                return;
            }
        }
        if op == 2 {
            // RESET_VF: no reply; the hardware resets the VF.
            self.do_reset();
            return;
        }
        if self.pf.silent_ops.contains(&op) {
            return;
        }
        if let Some(st) = self.pf.refuse.get(&op) {
            self.pending.push_back((op, *st, Vec::new()));
            return;
        }
        let reply: Vec<u8> = match op {
            1 => {
                let mut v = vec![0u8; 8];
                le32(&mut v, 0, self.pf.version.0);
                le32(&mut v, 4, self.pf.version.1);
                v
            }
            3 => {
                let req = if payload.len() >= 4 {
                    u32::from_le_bytes([payload[0], payload[1], payload[2], payload[3]])
                } else {
                    0x0001_0011
                };
                self.requested_caps = req;
                let grant = (req & self.pf.supported_caps) | 1;
                let mut v = vec![0u8; self.pf.vf_res_len.max(36)];
                le16(&mut v, 0, 1);
                le16(&mut v, 2, self.pf.num_qp);
                le16(&mut v, 4, self.pf.max_vectors);
                le16(&mut v, 6, self.pf.max_mtu);
                le32(&mut v, 8, grant);
                le32(&mut v, 12, 52);
                le32(&mut v, 16, 64);
                le16(&mut v, 20, self.pf.vsi_id);
                le16(&mut v, 22, self.pf.num_qp);
                le32(&mut v, 24, 6);
                le16(&mut v, 28, 7);
                v[30..36].copy_from_slice(&self.pf.mac);
                v.truncate(self.pf.vf_res_len);
                v
            }
            15 => {
                let mut v = vec![0u8; 96];
                for i in 0..12 {
                    v[i * 8..i * 8 + 8]
                        .copy_from_slice(&(self.pf.stats_seed + i as u64).to_le_bytes());
                }
                v
            }
            25 => self.pf.hena_caps.to_le_bytes().to_vec(),
            _ => Vec::new(),
        };
        self.pending.push_back((op, 0, reply));
        if self.pf.link_events && (op == 3 || op == 8) {
            self.pending.push_back((17, 0, link_event(true, 40_000)));
        }
    }

    /// A VF reset: AQ registers cleared, RSTAT = INPROGRESS until `reset_us` passes.
    pub fn do_reset(&mut self) {
        self.resets += 1;
        for off in [
            0x6400u32, 0x8400, 0x6800, 0x7C00, 0x7800, 0x7400, 0x7000, 0x8000, 0x6C00, 0x6000,
        ] {
            self.regs.insert(off, 0);
        }
        self.regs.insert(0x8800, 0);
        self.pending.clear();
        self.reset_done_at = Some(self.now + self.pf.reset_us);
    }

    /// Post queued replies while the ARQ has room.
    pub fn flush_arq(&mut self) {
        while let Some((op, st, payload)) = self.pending.front().cloned() {
            let dl = payload.len() as u16;
            if !self.post_arq_raw(op, st, &payload, dl) {
                break;
            }
            self.pending.pop_front();
        }
    }

    /// Write one message into the ARQ with a chosen datalen. False if no room.
    pub fn post_arq_raw(&mut self, op: u32, retval: i32, payload: &[u8], datalen: u16) -> bool {
        let arqlen = self.reg(0x8000);
        let len = arqlen & 0x3FF;
        if arqlen & (1 << 31) == 0 || len == 0 {
            return false;
        }
        let head = self.reg(0x7400) & 0x3FF;
        let tail = self.reg(0x7000) & 0x3FF;
        if head == tail {
            return false;
        }
        let base = self.base(0x6C00, 0x6000);
        let dpa = base + head as u64 * 32;
        let mut d = self.read_mem(dpa, 32);
        let addr = ((u32::from_le_bytes([d[24], d[25], d[26], d[27]]) as u64) << 32)
            | u32::from_le_bytes([d[28], d[29], d[30], d[31]]) as u64;
        let n = payload.len().min(4096);
        self.write_mem(addr, &payload[..n]);
        let flags = u16::from_le_bytes([d[0], d[1]]) | 0x3;
        d[0..2].copy_from_slice(&flags.to_le_bytes());
        d[2..4].copy_from_slice(&0x0802u16.to_le_bytes());
        d[4..6].copy_from_slice(&datalen.to_le_bytes());
        d[6..8].copy_from_slice(&0u16.to_le_bytes());
        d[8..12].copy_from_slice(&op.to_le_bytes());
        d[12..16].copy_from_slice(&(retval as u32).to_le_bytes());
        self.write_mem(dpa, &d);
        self.regs.insert(0x7400, (head + 1) % len);
        let icr = self.reg(0x4800) | (1 << 30);
        self.regs.insert(0x4800, icr);
        true
    }

    /// Queue a PF message (event or reply) and post it if there is room.
    pub fn push_msg(&mut self, op: u32, retval: i32, payload: Vec<u8>) {
        self.pending.push_back((op, retval, payload));
        self.flush_arq();
    }

    pub fn advance(&mut self, us: u64) {
        self.now += us;
        if let Some(t) = self.reset_done_at {
            if self.now >= t {
                self.regs.insert(0x8800, 2);
                self.reset_done_at = None;
            }
        }
        self.flush_arq();
    }

    /// Messages sent with opcode `op`.
    pub fn sent_of(&self, op: u32) -> Vec<Vec<u8>> {
        self.sent
            .iter()
            .filter(|(o, _)| *o == op)
            .map(|(_, p)| p.clone())
            .collect()
    }

    pub fn sent_ops(&self) -> Vec<u32> {
        self.sent.iter().map(|(o, _)| *o).collect()
    }
}

#[derive(Clone)]
pub struct FakeBar(Rc<RefCell<FakeHw>>);

impl Bar0 for FakeBar {
    fn rd32(&self, off: u32) -> u32 {
        self.0.borrow().reg(off)
    }
    fn wr32(&self, off: u32, val: u32) {
        let mut hw = self.0.borrow_mut();
        hw.writes.push((off, val));
        let stored = if (off == 0x7C00 || off == 0x6C00) && hw.bal_readback_broken {
            val ^ 0x80
        } else {
            val
        };
        hw.regs.insert(off, stored);
        if off == 0x8400 {
            hw.process_atq();
        }
        if off == 0x7000 {
            hw.flush_arq();
        }
    }
}

#[derive(Clone, Debug)]
pub struct FakeDma {
    paddr: u64,
    data: Rc<RefCell<Vec<u8>>>,
}

impl FakeDma {
    fn get(&self, off: usize, n: usize) -> Option<Vec<u8>> {
        let d = self.data.borrow();
        d.get(off..off.checked_add(n)?).map(|s| s.to_vec())
    }
    fn put(&self, off: usize, src: &[u8]) {
        let mut d = self.data.borrow_mut();
        if let Some(end) = off.checked_add(src.len()) {
            if let Some(dst) = d.get_mut(off..end) {
                dst.copy_from_slice(src);
            }
        }
    }
}

impl DmaRegion for FakeDma {
    fn paddr(&self) -> u64 {
        self.paddr
    }
    fn len(&self) -> usize {
        self.data.borrow().len()
    }
    fn rd_u16(&self, off: usize) -> u16 {
        self.get(off, 2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]))
            .unwrap_or(0)
    }
    fn rd_u32(&self, off: usize) -> u32 {
        self.get(off, 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .unwrap_or(0)
    }
    fn rd_u64(&self, off: usize) -> u64 {
        self.get(off, 8)
            .map(|b| u64::from_le_bytes(b.try_into().unwrap()))
            .unwrap_or(0)
    }
    fn wr_u16(&self, off: usize, val: u16) {
        self.put(off, &val.to_le_bytes())
    }
    fn wr_u32(&self, off: usize, val: u32) {
        self.put(off, &val.to_le_bytes())
    }
    fn wr_u64(&self, off: usize, val: u64) {
        self.put(off, &val.to_le_bytes())
    }
    fn read(&self, off: usize, dst: &mut [u8]) {
        match self.get(off, dst.len()) {
            Some(b) => dst.copy_from_slice(&b),
            None => dst.fill(0),
        }
    }
    fn write(&self, off: usize, src: &[u8]) {
        self.put(off, src)
    }
    fn zero(&self, off: usize, len: usize) {
        self.put(off, &vec![0; len])
    }
}

pub struct FakeOs {
    hw: Rc<RefCell<FakeHw>>,
    bar: FakeBar,
}

impl FakeOs {
    pub fn new(pf: Pf) -> Self {
        let hw = Rc::new(RefCell::new(FakeHw::new(pf)));
        FakeOs {
            bar: FakeBar(hw.clone()),
            hw,
        }
    }
    pub fn hw(&self) -> Rc<RefCell<FakeHw>> {
        self.hw.clone()
    }
    /// Another handle on the same fake (the Vf takes one by value).
    pub fn handle(&self) -> FakeOs {
        FakeOs {
            hw: self.hw.clone(),
            bar: self.bar.clone(),
        }
    }
}

impl Os for FakeOs {
    type Bar = FakeBar;
    type Dma = FakeDma;

    fn bar(&self) -> &FakeBar {
        &self.bar
    }
    fn dma_alloc(&self, size: usize, align: usize) -> Option<FakeDma> {
        let mut hw = self.hw.borrow_mut();
        let a = align.max(1) as u64;
        let pa = hw.next_paddr.div_ceil(a) * a;
        hw.next_paddr = pa + size as u64 + 4096;
        let data = Rc::new(RefCell::new(vec![0u8; size]));
        hw.mem.push((pa, data.clone()));
        Some(FakeDma { paddr: pa, data })
    }
    fn now_us(&self) -> u64 {
        self.hw.borrow().now
    }
    fn delay_us(&self, us: u32) {
        self.hw.borrow_mut().advance(us as u64);
    }
    fn sleep_us(&self, us: u32) {
        self.hw.borrow_mut().advance(us as u64);
    }
    fn random_bytes(&self, buf: &mut [u8]) {
        for (i, b) in buf.iter_mut().enumerate() {
            *b = (0x5A ^ (i as u8).wrapping_mul(37)) | 0x01;
        }
    }
    fn log(&self, level: Level, args: core::fmt::Arguments<'_>) {
        let s = std::format!("{level:?}: {args}");
        self.hw.borrow_mut().log.push(s);
    }
    fn schedule_admin_task(&self) {
        self.hw.borrow_mut().admin_tasks_scheduled += 1;
    }
}
