//! A minimal test driver for the emulated VF: admin-queue setup and virtchnl
//! send/receive, written from the contract (hw-contract.md 3.4, 3.5), not from the
//! emulator's code. Byte layouts are spelled out here on purpose.
#![allow(dead_code)]

use std::sync::Arc;

use ravf_sim::mem::{DmaBuf, GuestMemory, HostMemory};
use ravf_sim::{IovConfig, Sim, SimOptions};

pub const ATQH: u64 = 0x6400;
pub const ATQLEN: u64 = 0x6800;
pub const ATQBAL: u64 = 0x7C00;
pub const ATQBAH: u64 = 0x7800;
pub const ATQT: u64 = 0x8400;
pub const ARQH: u64 = 0x7400;
pub const ARQLEN: u64 = 0x8000;
pub const ARQBAL: u64 = 0x6C00;
pub const ARQBAH: u64 = 0x6000;
pub const ARQT: u64 = 0x7000;
pub const RSTAT: u64 = 0x8800;
pub const ICR01: u64 = 0x4800;
pub const ICR0_ENA1: u64 = 0x5000;
pub const DYN_CTL01: u64 = 0x5C00;
pub const ENABLE: u32 = 1 << 31;

pub const OP_VERSION: u32 = 1;
pub const OP_RESET_VF: u32 = 2;
pub const OP_GET_VF_RESOURCES: u32 = 3;
pub const OP_CONFIG_VSI_QUEUES: u32 = 6;
pub const OP_CONFIG_IRQ_MAP: u32 = 7;
pub const OP_ENABLE_QUEUES: u32 = 8;
pub const OP_DISABLE_QUEUES: u32 = 9;
pub const OP_ADD_ETH_ADDR: u32 = 10;
pub const OP_DEL_ETH_ADDR: u32 = 11;
pub const OP_ADD_VLAN: u32 = 12;
pub const OP_DEL_VLAN: u32 = 13;
pub const OP_PROMISC: u32 = 14;
pub const OP_GET_STATS: u32 = 15;
pub const OP_EVENT: u32 = 17;
pub const OP_RSS_KEY: u32 = 23;
pub const OP_RSS_LUT: u32 = 24;
pub const OP_GET_HENA_CAPS: u32 = 25;
pub const OP_SET_HENA: u32 = 26;
pub const OP_EN_STRIP: u32 = 27;
pub const OP_DIS_STRIP: u32 = 28;
pub const OP_REQUEST_QUEUES: u32 = 29;

/// FreeBSD's request: L2 | VLAN | RSS_PF | ADV_LINK_SPEED.
pub const CAPS_FBSD: u32 = 0x0009_0081;

pub const N: u32 = 32; // ring entries (Linux IAVF_AQ_LEN)

pub struct Msg {
    pub desc: [u8; 32],
    pub op: u32,
    pub retval: i32,
    pub data: Vec<u8>,
}

impl Msg {
    pub fn u16(&self, o: usize) -> u16 {
        u16::from_le_bytes([self.desc[o], self.desc[o + 1]])
    }
    pub fn u32(&self, o: usize) -> u32 {
        u32::from_le_bytes(self.desc[o..o + 4].try_into().unwrap())
    }
}

pub struct Drv {
    pub sim: Sim,
    pub mem: Arc<HostMemory>,
    pub vf: usize,
    pub atq: DmaBuf,
    pub arq: DmaBuf,
    pub atq_bufs: Vec<DmaBuf>,
    pub arq_bufs: Vec<DmaBuf>,
    pub ntu: u32,
    pub ntc: u32,
    pub vsi: u16,
}

pub fn w32(b: &mut [u8], o: usize, v: u32) {
    b[o..o + 4].copy_from_slice(&v.to_le_bytes());
}
pub fn w16(b: &mut [u8], o: usize, v: u16) {
    b[o..o + 2].copy_from_slice(&v.to_le_bytes());
}
pub fn w64(b: &mut [u8], o: usize, v: u64) {
    b[o..o + 8].copy_from_slice(&v.to_le_bytes());
}
pub fn r16(b: &[u8], o: usize) -> u16 {
    u16::from_le_bytes([b[o], b[o + 1]])
}
pub fn r32(b: &[u8], o: usize) -> u32 {
    u32::from_le_bytes(b[o..o + 4].try_into().unwrap())
}

/// Options for the emulator's own tests: defaults plus the strict bus-master rule.
pub fn strict() -> SimOptions {
    SimOptions {
        require_bus_master: true,
        ..SimOptions::default()
    }
}

pub fn two_vfs() -> Sim {
    Sim::new(IovConfig::with_vfs(2), strict())
}

impl Drv {
    pub fn new(sim: Sim, vf: usize) -> Drv {
        let mem = HostMemory::new();
        let mut sim = sim;
        let m: Arc<dyn GuestMemory> = mem.clone();
        sim.attach_memory(vf, m);
        // pci_enable_busmaster: Command.MEM | Command.BusMaster.
        sim.cfg_write(vf, 0x04, 2, 0x0006);
        let atq = mem.alloc(N as usize * 32, 4096);
        let arq = mem.alloc(N as usize * 32, 4096);
        let atq_bufs = (0..N).map(|_| mem.alloc(4096, 4096)).collect();
        let arq_bufs = (0..N).map(|_| mem.alloc(4096, 4096)).collect();
        Drv {
            sim,
            mem,
            vf,
            atq,
            arq,
            atq_bufs,
            arq_bufs,
            ntu: 0,
            ntc: 0,
            vsi: 0,
        }
    }

    pub fn rd(&mut self, off: u64) -> u32 {
        self.sim.bar_read(self.vf, 0, off, 4)
    }
    pub fn wr(&mut self, off: u64, v: u32) {
        self.sim.bar_write(self.vf, 0, off, 4, v)
    }

    fn post_arq(&mut self, i: u32) {
        // Contract 3.5: flags BUF | LB (buffer > 512), datalen = 4096, address.
        let mut d = [0u8; 32];
        w16(&mut d, 0, 0x1000 | 0x0200);
        w16(&mut d, 4, 4096);
        let a = self.arq_bufs[i as usize].iova;
        w32(&mut d, 24, (a >> 32) as u32);
        w32(&mut d, 28, a as u32);
        self.mem.write(self.arq.iova + 32 * i as u64, &d).unwrap();
    }

    /// AQ init in the Linux/FreeBSD order (AQ iavf_config_asq_regs/arq_regs):
    /// H = T = 0, LEN | ENABLE, BAL, BAH, ARQT = N - 1.
    pub fn init_aq(&mut self) {
        self.ntu = 0;
        self.ntc = 0;
        for i in 0..N {
            self.post_arq(i);
        }
        let (atq, arq) = (self.atq.iova, self.arq.iova);
        self.wr(ATQH, 0);
        self.wr(ATQT, 0);
        self.wr(ATQLEN, N | ENABLE);
        self.wr(ATQBAL, atq as u32);
        self.wr(ATQBAH, (atq >> 32) as u32);
        assert_eq!(self.rd(ATQBAL), atq as u32, "BAL reads back");
        self.wr(ARQH, 0);
        self.wr(ARQT, 0);
        self.wr(ARQLEN, N | ENABLE);
        self.wr(ARQBAL, arq as u32);
        self.wr(ARQBAH, (arq >> 32) as u32);
        self.wr(ARQT, N - 1);
    }

    /// The OpenBSD order: heads/tails 0, BAL, BAH, LEN | ENABLE, then ARQT.
    pub fn init_aq_obsd(&mut self) {
        self.ntu = 0;
        self.ntc = 0;
        for i in 0..N {
            self.post_arq(i);
        }
        let (atq, arq) = (self.atq.iova, self.arq.iova);
        self.wr(ATQH, 0);
        self.wr(ARQH, 0);
        self.wr(ATQT, 0);
        self.wr(ATQBAL, atq as u32);
        self.wr(ATQBAH, (atq >> 32) as u32);
        self.wr(ATQLEN, N | ENABLE);
        self.wr(ARQBAL, arq as u32);
        self.wr(ARQBAH, (arq >> 32) as u32);
        self.wr(ARQLEN, N | ENABLE);
        self.wr(ARQT, N - 1);
    }

    /// Send one virtchnl message as AQ iavf_aq_send_msg_to_pf builds it (contract 3.4);
    /// returns the ATQ descriptor as written back.
    pub fn send(&mut self, op: u32, payload: &[u8]) -> [u8; 32] {
        let i = self.ntu;
        let mut d = [0u8; 32];
        let mut flags: u16 = 0x2000; // SI
        if !payload.is_empty() {
            flags |= 0x1000 | 0x0400; // BUF | RD
            if payload.len() > 512 {
                flags |= 0x0200; // LB
            }
            let b = self.atq_bufs[i as usize];
            self.mem.write(b.iova, payload).unwrap();
            w32(&mut d, 24, (b.iova >> 32) as u32);
            w32(&mut d, 28, b.iova as u32);
        }
        w16(&mut d, 0, flags);
        w16(&mut d, 2, 0x0801);
        w16(&mut d, 4, payload.len() as u16);
        w32(&mut d, 8, op);
        let da = self.atq.iova + 32 * i as u64;
        self.mem.write(da, &d).unwrap();
        self.ntu = (i + 1) % N;
        let t = self.ntu;
        self.wr(ATQT, t);
        let mut wb = [0u8; 32];
        self.mem.read(da, &mut wb).unwrap();
        wb
    }

    /// Next ARQ message, if ARQH moved (the VF never looks at DD, contract 3.5).
    pub fn recv(&mut self) -> Option<Msg> {
        let raw = self.rd(ARQH);
        if raw == 0xDEAD_BEEF || raw & 0x3FF == self.ntc {
            return None;
        }
        let i = self.ntc;
        let mut desc = [0u8; 32];
        self.mem
            .read(self.arq.iova + 32 * i as u64, &mut desc)
            .unwrap();
        let len = r16(&desc, 4) as usize;
        let mut data = vec![0u8; len.min(4096)];
        self.mem
            .read(self.arq_bufs[i as usize].iova, &mut data)
            .unwrap();
        let m = Msg {
            desc,
            op: r32(&desc, 8),
            retval: r32(&desc, 12) as i32,
            data,
        };
        self.post_arq(i);
        self.ntc = (i + 1) % N;
        // "set tail = the last cleaned desc index"
        self.wr(ARQT, i);
        Some(m)
    }

    /// The reply to `op`, skipping events; panics if none is waiting.
    pub fn reply(&mut self, op: u32) -> Msg {
        while let Some(m) = self.recv() {
            if m.op == op {
                return m;
            }
            assert_eq!(
                m.op, OP_EVENT,
                "unexpected message {} while waiting for {op}",
                m.op
            );
        }
        panic!("no reply to opcode {op}; events: {:#?}", self.sim.events());
    }

    /// Drain every waiting message.
    pub fn drain(&mut self) -> Vec<Msg> {
        let mut v = Vec::new();
        while let Some(m) = self.recv() {
            v.push(m);
        }
        v
    }

    pub fn call(&mut self, op: u32, payload: &[u8]) -> Msg {
        self.send(op, payload);
        self.reply(op)
    }

    pub fn version(&mut self, major: u32, minor: u32) -> Msg {
        let mut p = [0u8; 8];
        w32(&mut p, 0, major);
        w32(&mut p, 4, minor);
        self.call(OP_VERSION, &p)
    }

    /// VERSION 1.1 + GET_VF_RESOURCES(caps); records the vsi_id.
    pub fn bring_up(&mut self, caps: u32) -> Msg {
        self.init_aq();
        let v = self.version(1, 1);
        assert_eq!(v.retval, 0);
        let r = self.call(OP_GET_VF_RESOURCES, &caps.to_le_bytes());
        assert_eq!(
            r.retval,
            0,
            "GET_VF_RESOURCES refused: {:#?}",
            self.sim.events()
        );
        self.vsi = r16(&r.data, 20);
        r
    }

    /// Let a reset run to completion (virtual time), as a driver's bounded poll would.
    pub fn wait_reset(&mut self) {
        for _ in 0..1000 {
            if self.rd(RSTAT) & 3 == 2 {
                return;
            }
            self.sim.advance(1_000_000);
        }
        panic!("reset never finished");
    }

    /// After RESET_IMPENDING: wait for ARQLEN.ENABLE to drop (Linux iavf_reset_task),
    /// then for VFACTIVE.
    pub fn wait_pf_reset(&mut self) {
        for _ in 0..1000 {
            let l = self.rd(ARQLEN);
            if l != 0xDEAD_BEEF && l & ENABLE == 0 {
                return self.wait_reset();
            }
            self.sim.advance(10_000);
        }
        panic!("the reset never started");
    }

    /// CONFIG_VSI_QUEUES for `n` pairs with rings at the given addresses.
    pub fn vsi_queues_msg(
        &self,
        n: usize,
        rings: &[(u64, u64)],
        ring_len: u16,
        buf: u32,
    ) -> Vec<u8> {
        let mut m = vec![0u8; 72 + 64 * n];
        w16(&mut m, 0, self.vsi);
        w16(&mut m, 2, n as u16);
        for (i, ring) in rings.iter().enumerate().take(n) {
            let p = 8 + 64 * i;
            w16(&mut m, p, self.vsi);
            w16(&mut m, p + 2, i as u16);
            w16(&mut m, p + 4, ring_len);
            w64(&mut m, p + 8, ring.0);
            let r = p + 24;
            w16(&mut m, r, self.vsi);
            w16(&mut m, r + 2, i as u16);
            w32(&mut m, r + 4, ring_len as u32);
            w32(&mut m, r + 12, buf);
            w32(&mut m, r + 16, 1522);
            w64(&mut m, r + 24, ring.1);
        }
        m
    }

    pub fn queue_select(&self, rx: u32, tx: u32) -> Vec<u8> {
        let mut m = vec![0u8; 12];
        w16(&mut m, 0, self.vsi);
        w32(&mut m, 4, rx);
        w32(&mut m, 8, tx);
        m
    }

    pub fn mac_list(&self, macs: &[([u8; 6], u8)]) -> Vec<u8> {
        let mut m = vec![0u8; 12 + 8 * macs.len()];
        w16(&mut m, 0, self.vsi);
        w16(&mut m, 2, macs.len() as u16);
        for (i, (a, t)) in macs.iter().enumerate() {
            m[4 + 8 * i..10 + 8 * i].copy_from_slice(a);
            m[10 + 8 * i] = *t;
        }
        m
    }

    pub fn vlan_list(&self, ids: &[u16]) -> Vec<u8> {
        let mut m = vec![0u8; 6 + 2 * ids.len()];
        w16(&mut m, 0, self.vsi);
        w16(&mut m, 2, ids.len() as u16);
        for (i, v) in ids.iter().enumerate() {
            w16(&mut m, 4 + 2 * i, *v);
        }
        m
    }

    pub fn irq_map_msg(&self, entries: &[(u16, u16, u16, u16, u16)]) -> Vec<u8> {
        // (vector, rxq_map, txq_map, rxitr, txitr)
        let mut m = vec![0u8; 14 + 12 * entries.len()];
        w16(&mut m, 0, entries.len() as u16);
        for (i, e) in entries.iter().enumerate() {
            let o = 2 + 12 * i;
            w16(&mut m, o, self.vsi);
            w16(&mut m, o + 2, e.0);
            w16(&mut m, o + 4, e.1);
            w16(&mut m, o + 6, e.2);
            w16(&mut m, o + 8, e.3);
            w16(&mut m, o + 10, e.4);
        }
        m
    }
}

// ---------------------------------------------------------------- data path helpers

pub struct Rings {
    pub tx: u64,
    pub rx: u64,
    pub bufs: Vec<u64>,
}

/// Configure queue 0 of an up VF: rings of 64 entries, 2048-byte RX buffers, all RX
/// descriptors posted, vector 1 for queue 0, MSI-X on.
pub fn queues_up(d: &mut Drv) -> Rings {
    queues_up_map(d, &[(1, 1, 1, 3, 3), (0, 0, 0, 0, 0)])
}

/// As [`queues_up`] with a given CONFIG_IRQ_MAP.
pub fn queues_up_map(d: &mut Drv, map: &[(u16, u16, u16, u16, u16)]) -> Rings {
    let tx = d.mem.alloc(64 * 16, 4096).iova;
    let rx = d.mem.alloc(64 * 32, 4096).iova;
    let bufs: Vec<u64> = (0..64).map(|_| d.mem.alloc(2048, 4096).iova).collect();
    for (i, b) in bufs.iter().enumerate() {
        let mut desc = [0u8; 32];
        w64(&mut desc, 0, *b);
        d.mem.write(rx + 32 * i as u64, &desc).unwrap();
    }
    let vf = d.vf;
    d.sim.cfg_write(vf, 0x72, 2, 0x8000);
    for e in 0..5u64 {
        d.sim.bar_write(vf, 3, 16 * e + 12, 4, 0);
    }
    let m = d.irq_map_msg(map);
    assert_eq!(d.call(OP_CONFIG_IRQ_MAP, &m).retval, 0);
    let m = d.vsi_queues_msg(1, &[(tx, rx)], 64, 2048);
    assert_eq!(d.call(OP_CONFIG_VSI_QUEUES, &m).retval, 0);
    let m = d.queue_select(1, 1);
    assert_eq!(d.call(OP_ENABLE_QUEUES, &m).retval, 0);
    d.drain();
    d.wr(0x2000, 63); // QRX_TAIL1(0)
    d.wr(0x3800, 0x19); // DYN_CTLN1(0): INTENA | ITR_INDX(3)
    Rings { tx, rx, bufs }
}

pub fn frame(dst: [u8; 6], src: [u8; 6], len: usize) -> Vec<u8> {
    let mut f = vec![0u8; len];
    f[..6].copy_from_slice(&dst);
    f[6..12].copy_from_slice(&src);
    f[12] = 0x88;
    f[13] = 0xB5; // local experimental ethertype: no L3 parsing
    for (i, b) in f.iter_mut().enumerate().skip(14) {
        *b = i as u8;
    }
    f
}

/// Put one single-descriptor packet (EOP|RS|ICRC) in TX slot `slot` of `ring` and
/// write QTX_TAIL1(0) = slot + 1 on `vf`.
pub fn tx_one(sim: &mut Sim, vf: usize, mem: &HostMemory, ring: u64, slot: u64, f: &[u8]) {
    let buf = mem.alloc(f.len().max(1), 64).iova;
    mem.write(buf, f).unwrap();
    let mut desc = [0u8; 16];
    w64(&mut desc, 0, buf);
    // Contract 6.2: DTYPE 0, CMD at bit 4 (EOP 0x1, RS 0x2, ICRC 0x4), BUF_SZ at bit 34.
    w64(&mut desc, 8, (0x7 << 4) | ((f.len() as u64) << 34));
    mem.write(ring + 16 * slot, &desc).unwrap();
    sim.bar_write(vf, 0, 0x0000, 4, slot as u32 + 1);
}
