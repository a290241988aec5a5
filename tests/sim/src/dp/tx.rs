//! The TX queue engine: descriptor fetch, MDD checks, gather, checksum offload, TSO,
//! VLAN insertion and completion write-back (contract 6.1-6.4, 5.11).

use std::collections::VecDeque;

use super::wire::{self, csum_add, csum_fold, inet_checksum, pseudo_sum};
use super::{DpEvents, DpViolation, Mdd, MddKind};
use crate::mem::GuestMemory;

/// TX descriptor size (contract 6.1).
pub const TX_DESC_LEN: usize = 16;

// QW1 of the data descriptor (TYPE `iavf_tx_desc`, contract 6.2).
const DTYPE_MASK: u64 = 0xF;
const DTYPE_DATA: u64 = 0x0;
const DTYPE_CONTEXT: u64 = 0x1;
/// DESC_DONE, written by HW into completed RS descriptors.
pub const DTYPE_DESC_DONE: u64 = 0xF;
const CMD_SHIFT: u32 = 4;
const CMD_EOP: u64 = 0x001;
const CMD_RS: u64 = 0x002;
const CMD_IL2TAG1: u64 = 0x008;
const CMD_DUMMY: u64 = 0x010;
const CMD_IIPT_SHIFT: u32 = 5; // relative to CMD: bits 10:9 of QW1
const CMD_L4T_SHIFT: u32 = 8; // relative to CMD: bits 13:12 of QW1
const OFFSET_SHIFT: u32 = 16;
const BUF_SZ_SHIFT: u32 = 34;
const BUF_SZ_MASK: u64 = 0x3FFF;
const L2TAG1_SHIFT: u32 = 48;

const IIPT_IPV6: u64 = 1;
const IIPT_IPV4: u64 = 2;
const IIPT_IPV4_CSUM: u64 = 3;
const L4T_TCP: u64 = 1;
const L4T_SCTP: u64 = 2;
const L4T_UDP: u64 = 3;

// Context descriptor QW1 (TYPE `iavf_tx_context_desc`, contract 6.3).
const CTX_CMD_TSO: u64 = 0x01;
const CTX_TSO_LEN_SHIFT: u32 = 30;
const CTX_TSO_LEN_MASK: u64 = 0x3_FFFF;
const CTX_MSS_SHIFT: u32 = 50;
const CTX_MSS_MASK: u64 = 0x3FFF;

// Limits (contract 5.11, 6.2, 6.3; TXRX `iavf_txrx.h`).
/// IAVF_MAX_BUFFER_TXD: data descriptors per non-TSO packet or per TSO segment.
const MAX_BUFFER_TXD: usize = 8;
/// The TSO header must fit in this many descriptors.
const MAX_TSO_HDR_DESCS: usize = 3;
/// IAVF_MIN_TX_LEN.
const MIN_TX_LEN: usize = 17;
/// Maximum non-TSO frame, and maximum TSO header + MSS (WRONG_SIZE).
const MAX_FRAME: usize = 9728;
const MIN_MSS: u64 = 64;
const MAX_MSS: u64 = 9668;

/// Ring bases are 128-byte aligned: the HW context keeps `base = addr / 128` (contract 5.2).
pub(crate) const RING_ALIGN_MASK: u64 = 0x7F;

/// QTX_TAIL1.TAIL is 13 bits (i40e_register.h QTX_TAIL1_TAIL_MASK 0x1FFF).
const TAIL_MASK: u32 = 0x1FFF;

/// TX queue context, from CONFIG_VSI_QUEUES (`virtchnl_txq_info`, contract 5.2).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TxQueueCfg {
    /// Ring DMA address (the PF drops the low 7 bits; the emulator uses it as given).
    pub ring_base: u64,
    /// Descriptor count.
    pub ring_len: u16,
    /// `dma_headwb_addr` when `headwb_enabled`: completions are reported by writing
    /// the 32-bit head there instead of DESC_DONE into descriptors (contract 6.4).
    pub headwb_addr: Option<u64>,
}

/// Cumulative counters of one TX queue.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TxStats {
    /// Descriptors consumed (context + data).
    pub descs: u64,
    /// Packets taken from the ring (a TSO packet counts once).
    pub packets: u64,
    /// Frames put on the switch (one per TSO segment).
    pub frames: u64,
    /// Bytes of those frames (after VLAN insertion, no FCS).
    pub bytes: u64,
    /// Non-TSO packets with an IPv4 header checksum request (IIPT = 3).
    pub csum_ip: u64,
    /// Non-TSO packets with an L4 checksum request (L4T != 0).
    pub csum_l4: u64,
    /// Non-TSO L4 checksum requests whose checksum field did not hold the pseudo-header
    /// sum the Linux/FreeBSD stacks seed (diagnostic only: the emulator overwrites the
    /// field anyway).
    pub csum_l4_unseeded: u64,
    /// Context descriptors with CMD.TSO.
    pub tso_ctx: u64,
    /// Segments produced by TSO.
    pub tso_segments: u64,
    /// Frames that got an 802.1Q tag inserted (CMD.IL2TAG1).
    pub vlan_inserted: u64,
    /// RS completions written (DESC_DONE write-backs or head write-backs).
    pub completions: u64,
    /// MDD events raised.
    pub mdd: u64,
}

/// Frames produced by [`TxQueue::process`], stored back to back in one buffer so a
/// batch costs no allocation once the buffers have grown. Reuse it across calls and
/// [`clear`](Self::clear) it after forwarding.
#[derive(Clone, Debug, Default)]
pub struct TxFrames {
    data: Vec<u8>,
    ends: Vec<usize>,
}

impl TxFrames {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn clear(&mut self) {
        self.data.clear();
        self.ends.clear();
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Frame `i` (destination MAC first, no FCS).
    pub fn get(&self, i: usize) -> Option<&[u8]> {
        let end = *self.ends.get(i)?;
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        self.data.get(start..end)
    }

    pub fn iter(&self) -> impl Iterator<Item = &[u8]> + '_ {
        (0..self.len()).filter_map(move |i| self.get(i))
    }

    /// Append `frame`, inserting an 802.1Q tag with `tci` after the source MAC if given.
    fn push(&mut self, frame: &[u8], tag: Option<u16>) {
        match tag {
            Some(tci) if frame.len() >= 12 => {
                self.data.extend_from_slice(&frame[..12]);
                self.data
                    .extend_from_slice(&wire::ETHERTYPE_VLAN.to_be_bytes());
                self.data.extend_from_slice(&tci.to_be_bytes());
                self.data.extend_from_slice(&frame[12..]);
            }
            _ => self.data.extend_from_slice(frame),
        }
        self.ends.push(self.data.len());
    }
}

/// One data descriptor of the packet being assembled.
#[derive(Clone, Copy, Debug)]
struct DataDesc {
    addr: u64,
    len: usize,
}

/// Offload fields of a packet, from its first data descriptor.
#[derive(Clone, Copy, Debug)]
struct Offload {
    maclen: usize,
    iplen: usize,
    l4len: usize,
    iipt: u64,
    l4t: u64,
    vlan: Option<u16>,
}

impl Offload {
    fn from_qw1(qw1: u64) -> Self {
        let cmd = (qw1 >> CMD_SHIFT) & 0x3FF;
        let off = (qw1 >> OFFSET_SHIFT) & 0x3_FFFF;
        Offload {
            maclen: ((off & 0x7F) * 2) as usize,
            iplen: (((off >> 7) & 0x7F) * 4) as usize,
            l4len: (((off >> 14) & 0xF) * 4) as usize,
            iipt: (cmd >> CMD_IIPT_SHIFT) & 3,
            l4t: (cmd >> CMD_L4T_SHIFT) & 3,
            vlan: (cmd & CMD_IL2TAG1 != 0).then_some((qw1 >> L2TAG1_SHIFT) as u16),
        }
    }
}

/// One emulated TX queue. Create one per queue pair at VF reset (an unconfigured
/// `TxQueueCfg::default()` latches tails too) and [`reconfigure`](Self::reconfigure) it
/// on CONFIG_VSI_QUEUES.
#[derive(Debug)]
pub struct TxQueue {
    cfg: TxQueueCfg,
    /// Next descriptor the HW will fetch.
    head: u16,
    /// Last value written to QTX_TAIL1 (latched at any time, contract 6.1).
    tail: u32,
    enabled: bool,
    /// Stopped by an MDD event or a fatal violation until re-enabled.
    stopped: bool,
    /// Fault injection: completions are withheld while set.
    stall: bool,
    /// RS descriptors done but not yet written back (descriptor write-back mode).
    pending_rs: VecDeque<u16>,
    /// Head value not yet written (head write-back mode).
    pending_head: Option<u16>,
    /// Ring index of position 0 of `ring_buf` (the head when it was fetched).
    fetch_head: usize,
    ring_buf: Vec<u8>,
    descs: Vec<DataDesc>,
    pkt: Vec<u8>,
    seg: Vec<u8>,
    pub stats: TxStats,
}

/// Result of checking one packet's descriptors.
struct PacketDescs {
    /// Ring-relative count of descriptors (context + data) in the packet.
    used: usize,
    first_qw1: u64,
    tso: Option<(usize, usize)>, // (mss, tso_len)
}

impl TxQueue {
    pub fn new(cfg: TxQueueCfg) -> Self {
        TxQueue {
            cfg,
            head: 0,
            tail: 0,
            enabled: false,
            stopped: false,
            stall: false,
            pending_rs: VecDeque::new(),
            pending_head: None,
            fetch_head: 0,
            ring_buf: Vec::new(),
            descs: Vec::new(),
            pkt: Vec::new(),
            seg: Vec::new(),
            stats: TxStats::default(),
        }
    }

    pub fn cfg(&self) -> &TxQueueCfg {
        &self.cfg
    }

    /// CONFIG_VSI_QUEUES on an existing queue: new context with head 0 (the PF zeroes
    /// the HMC context, contract 2.5), pending completions dropped, MDD stop cleared.
    /// The latched tail and the enabled state are kept: Linux writes tails before
    /// CONFIG_VSI_QUEUES (contract 2.5), so re-creating the queue would lose them.
    pub fn reconfigure(&mut self, cfg: TxQueueCfg) {
        self.cfg = cfg;
        self.head = 0;
        self.stopped = false;
        self.pending_rs.clear();
        self.pending_head = None;
    }

    /// Latch a QTX_TAIL1 write (13-bit field). Acted on by the next [`process`](Self::process).
    pub fn set_tail(&mut self, tail: u32) {
        self.tail = tail & TAIL_MASK;
    }

    pub fn tail(&self) -> u32 {
        self.tail
    }

    /// The HW head (next descriptor to fetch). Not visible to the VF; for tests and logs.
    pub fn head(&self) -> u16 {
        self.head
    }

    /// ENABLE_QUEUES / DISABLE_QUEUES. Enabling starts the head at 0 (contract 6.1) and
    /// clears a previous MDD stop; disabling drops completions not yet written.
    pub fn enable(&mut self, on: bool) {
        self.enabled = on;
        self.stopped = false;
        self.pending_rs.clear();
        self.pending_head = None;
        if on {
            self.head = 0;
        }
    }

    pub fn is_enabled(&self) -> bool {
        self.enabled
    }

    /// Whether an MDD event or a fatal violation stopped the queue.
    pub fn is_stopped(&self) -> bool {
        self.stopped
    }

    /// Fault injection: while `on`, completions (DESC_DONE / head write-back) are
    /// withheld (packets are still sent). Clearing it does not write them by itself:
    /// the next [`process`](Self::process) or [`flush_completions`](Self::flush_completions) does.
    pub fn set_stall(&mut self, on: bool) {
        self.stall = on;
    }

    pub fn stalled(&self) -> bool {
        self.stall
    }

    /// Fetch and execute the descriptors from head to the latched tail, appending the
    /// frames to put on the switch to `out`, then write back completions (unless
    /// stalled). Stops at the first MDD condition (reported in `ev.mdd`; the offending
    /// packet is not sent and the head stays at its first descriptor).
    pub fn process(&mut self, mem: &dyn GuestMemory, out: &mut TxFrames, ev: &mut DpEvents) {
        if !self.enabled || self.stopped {
            return;
        }
        let n = usize::from(self.cfg.ring_len);
        if n == 0 {
            return self.fatal(ev, DpViolation::BadConfig("TX ring_len 0"));
        }
        if self.cfg.ring_base & RING_ALIGN_MASK != 0 {
            // The PF programs base = addr / 128 (contract 5.2): real HW would fetch from
            // the rounded-down address. Stop loudly instead of emulating garbage.
            return self.fatal(
                ev,
                DpViolation::BadConfig("TX ring base not 128-byte aligned"),
            );
        }
        if self.tail as usize >= n {
            let v = DpViolation::TailOutOfRange {
                tail: self.tail,
                ring_len: self.cfg.ring_len,
            };
            return self.fatal(ev, v);
        }
        let head = usize::from(self.head);
        let avail = super::ring_wrap(self.tail as usize + n - head, n);
        if avail > 0 {
            self.fetch_head = head;
            if let Err(v) = self.fetch(mem, head, avail) {
                return self.fatal(ev, v);
            }
            let mut pos = 0;
            while pos < avail {
                match self.packet(mem, pos, avail, out, ev) {
                    Ok(used) => pos += used,
                    Err(()) => break, // stopped; reason already in ev
                }
            }
        }
        self.flush_completions(mem, ev);
    }

    /// Write pending completions now (unless stalled). The emulated PF calls this for a
    /// forced write-back (DYN_CTL SWINT_TRIG, contract 7.2) and after clearing a stall.
    pub fn flush_completions(&mut self, mem: &dyn GuestMemory, ev: &mut DpEvents) {
        if self.stall {
            return;
        }
        if let Some(addr) = self.cfg.headwb_addr {
            if let Some(h) = self.pending_head.take() {
                // Contract 6.4: a 32-bit little-endian head index, one past the last
                // completed descriptor.
                if let Err(fault) = mem.write(addr, &u32::from(h).to_le_bytes()) {
                    return self.fatal(
                        ev,
                        DpViolation::DmaFault {
                            what: "TX head write-back",
                            fault,
                        },
                    );
                }
                self.stats.completions += 1;
                ev.tx_completed = true;
            }
            return;
        }
        while let Some(idx) = self.pending_rs.pop_front() {
            // Contract 6.4 recommendation: QW0 untouched, QW1 = DTYPE DESC_DONE only.
            let addr = self
                .cfg
                .ring_base
                .wrapping_add(u64::from(idx) * TX_DESC_LEN as u64 + 8);
            if let Err(fault) = mem.write(addr, &DTYPE_DESC_DONE.to_le_bytes()) {
                return self.fatal(
                    ev,
                    DpViolation::DmaFault {
                        what: "TX descriptor write-back",
                        fault,
                    },
                );
            }
            self.stats.completions += 1;
            ev.tx_completed = true;
        }
    }

    fn fatal(&mut self, ev: &mut DpEvents, v: DpViolation) {
        self.stopped = true;
        ev.violations.push(v);
    }

    fn mdd<T>(
        &mut self,
        ev: &mut DpEvents,
        kind: MddKind,
        first: usize,
        detail: String,
    ) -> Result<T, ()> {
        self.stopped = true;
        self.stats.mdd += 1;
        let desc_index = self.ring_index(first);
        ev.mdd = Some(Mdd {
            kind,
            desc_index,
            detail,
        });
        Err(())
    }

    /// Read `avail` descriptors starting at ring index `head` into `ring_buf`, in one
    /// DMA read (two when the range wraps).
    fn fetch(
        &mut self,
        mem: &dyn GuestMemory,
        head: usize,
        avail: usize,
    ) -> Result<(), DpViolation> {
        let n = usize::from(self.cfg.ring_len);
        self.ring_buf.resize(avail * TX_DESC_LEN, 0);
        let first = avail.min(n - head);
        let base = self.cfg.ring_base;
        let fault = |fault| DpViolation::DmaFault {
            what: "TX descriptor fetch",
            fault,
        };
        mem.read(
            base.wrapping_add((head * TX_DESC_LEN) as u64),
            &mut self.ring_buf[..first * TX_DESC_LEN],
        )
        .map_err(fault)?;
        if first < avail {
            mem.read(base, &mut self.ring_buf[first * TX_DESC_LEN..])
                .map_err(fault)?;
        }
        Ok(())
    }

    fn qw(&self, pos: usize, word: usize) -> u64 {
        let o = pos * TX_DESC_LEN + word * 8;
        let b = &self.ring_buf[o..o + 8];
        u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])
    }

    /// Walk one packet's descriptors starting at relative position `start`, check the
    /// MDD rules, and fill `self.descs`.
    fn walk(&mut self, start: usize, avail: usize, ev: &mut DpEvents) -> Result<PacketDescs, ()> {
        self.descs.clear();
        let mut pos = start;
        let mut ctx = None;
        let qw1 = self.qw(pos, 1);
        if qw1 & DTYPE_MASK == DTYPE_CONTEXT {
            ctx = Some(qw1);
            pos += 1;
            if pos == avail {
                let d = "context descriptor is the last one before the tail".to_string();
                return self.mdd(ev, MddKind::NoEop, start, d);
            }
        }
        let mut first_qw1 = None;
        loop {
            let qw1 = self.qw(pos, 1);
            match qw1 & DTYPE_MASK {
                DTYPE_DATA => {}
                DTYPE_CONTEXT if first_qw1.is_none() => {
                    let d = format!(
                        "context descriptor at +{} follows a context descriptor",
                        pos - start
                    );
                    return self.mdd(ev, MddKind::CtxWithoutData, start, d);
                }
                t => {
                    let d = format!("DTYPE {t:#x} at +{} inside a packet", pos - start);
                    return self.mdd(ev, MddKind::BadDtype, start, d);
                }
            }
            let len = ((qw1 >> BUF_SZ_SHIFT) & BUF_SZ_MASK) as usize;
            if len == 0 {
                let d = format!("BUF_SZ 0 at +{}", pos - start);
                return self.mdd(ev, MddKind::ZeroBsize, start, d);
            }
            first_qw1.get_or_insert(qw1);
            self.descs.push(DataDesc {
                addr: self.qw(pos, 0),
                len,
            });
            pos += 1;
            if (qw1 >> CMD_SHIFT) & CMD_EOP != 0 {
                break;
            }
            if pos == avail {
                let d = format!("{} descriptors up to the tail without EOP", pos - start);
                return self.mdd(ev, MddKind::NoEop, start, d);
            }
        }
        let first_qw1 = first_qw1.unwrap_or(0);
        let total: usize = self.descs.iter().map(|d| d.len).sum();
        let ndata = self.descs.len();
        let tso = ctx.filter(|c| (c >> CMD_SHIFT) & CTX_CMD_TSO != 0);
        let Some(ctx) = tso else {
            if ndata > MAX_BUFFER_TXD {
                let d = format!("{ndata} data descriptors in a non-TSO packet");
                return self.mdd(ev, MddKind::MaxBuff, start, d);
            }
            if !(MIN_TX_LEN..=MAX_FRAME).contains(&total) {
                let d = format!("non-TSO packet of {total} bytes");
                return self.mdd(ev, MddKind::WrongSize, start, d);
            }
            return Ok(PacketDescs {
                used: pos - start,
                first_qw1,
                tso: None,
            });
        };
        let mss = (ctx >> CTX_MSS_SHIFT) & CTX_MSS_MASK;
        let tso_len = ((ctx >> CTX_TSO_LEN_SHIFT) & CTX_TSO_LEN_MASK) as usize;
        if !(MIN_MSS..=MAX_MSS).contains(&mss) {
            return self.mdd(ev, MddKind::BadLsoMss, start, format!("MSS {mss}"));
        }
        let mss = mss as usize;
        let o = Offload::from_qw1(first_qw1);
        let hdr = o.maclen + o.iplen + o.l4len;
        let hdr_ok = o.l4t == L4T_TCP && o.iipt != 0 && o.maclen >= wire::ETH_HLEN && o.l4len >= 20;
        if !hdr_ok || o.iplen < if o.iipt == IIPT_IPV6 { 40 } else { 20 } {
            let d = format!(
                "TSO header not IP/TCP: IIPT {} L4T {} MACLEN {} IPLEN {} L4LEN {}",
                o.iipt, o.l4t, o.maclen, o.iplen, o.l4len
            );
            return self.mdd(ev, MddKind::BadLsoLen, start, d);
        }
        if tso_len == 0 || total != hdr + tso_len {
            let d = format!("TSO_LEN {tso_len} + header {hdr} != {total} bytes given");
            return self.mdd(ev, MddKind::BadLsoLen, start, d);
        }
        if hdr + mss > MAX_FRAME {
            let d = format!("TSO header {hdr} + MSS {mss} > {MAX_FRAME}");
            return self.mdd(ev, MddKind::WrongSize, start, d);
        }
        if let Err(d) = check_tso_sparse(&self.descs, hdr, mss, total) {
            return self.mdd(ev, MddKind::MaxBuff, start, d);
        }
        Ok(PacketDescs {
            used: pos - start,
            first_qw1,
            tso: Some((mss, tso_len)),
        })
    }

    /// Execute one packet at relative position `start`; returns the descriptors used.
    fn packet(
        &mut self,
        mem: &dyn GuestMemory,
        start: usize,
        avail: usize,
        out: &mut TxFrames,
        ev: &mut DpEvents,
    ) -> Result<usize, ()> {
        let pd = self.walk(start, avail, ev)?;
        self.check_unmodelled(start, pd.used, ev);
        if pd.tso.is_some() {
            self.stats.tso_ctx += 1;
        }
        // Gather (any alignment, contract 6.2).
        let total: usize = self.descs.iter().map(|d| d.len).sum();
        self.pkt.resize(total, 0);
        let mut off = 0;
        for d in &self.descs {
            if let Err(fault) = mem.read(d.addr, &mut self.pkt[off..off + d.len]) {
                self.fatal(
                    ev,
                    DpViolation::DmaFault {
                        what: "TX buffer read",
                        fault,
                    },
                );
                return Err(());
            }
            off += d.len;
        }
        let first_idx = self.ring_index(start);
        let o = Offload::from_qw1(pd.first_qw1);
        let frames_before = out.len();
        let bytes_before = out.data.len();
        match pd.tso {
            None => {
                self.offload_csum(&o, first_idx, ev);
                out.push(&self.pkt, o.vlan);
            }
            Some((mss, _)) => self.segment(&o, mss, out),
        }
        let frames = (out.len() - frames_before) as u64;
        self.stats.frames += frames;
        self.stats.bytes += (out.data.len() - bytes_before) as u64;
        if o.vlan.is_some() {
            self.stats.vlan_inserted += frames;
        }
        self.stats.packets += 1;
        self.stats.descs += pd.used as u64;

        // Completion bookkeeping: RS on any data descriptor of the packet.
        let mut rs = false;
        for pos in start..start + pd.used {
            let qw1 = self.qw(pos, 1);
            if qw1 & DTYPE_MASK == DTYPE_DATA && (qw1 >> CMD_SHIFT) & CMD_RS != 0 {
                rs = true;
                if self.cfg.headwb_addr.is_none() {
                    // Bounded: more pending than ring slots can only be re-used slots
                    // (a driver ignoring completions while stalled); keep the newest.
                    if self.pending_rs.len() >= usize::from(self.cfg.ring_len) {
                        self.pending_rs.pop_front();
                    }
                    self.pending_rs.push_back(self.ring_index(pos));
                }
            }
        }
        let end = start + pd.used;
        if rs && self.cfg.headwb_addr.is_some() {
            self.pending_head = Some(self.ring_index(end));
        }
        // The head advances past the packet whether or not it asked for a completion.
        self.head = self.ring_index(end);
        Ok(pd.used)
    }

    /// Report descriptor features a VF driver has no business using and the emulator
    /// does not model, instead of silently sending a frame the HW would have built
    /// differently (contract 6.2/6.3): a context descriptor with any CMD bit but TSO
    /// (TSYN, IL2TAG2, SWTCH, SWPE ...) or non-zero `tunneling_params` (ENCAP offloads
    /// are not granted to the VF), and data descriptors with CMD.DUMMY. The packet is
    /// still processed as if those bits were clear; the queue continues.
    fn check_unmodelled(&self, start: usize, used: usize, ev: &mut DpEvents) {
        let idx = self.ring_index(start);
        let first = self.qw(start, 1);
        if first & DTYPE_MASK == DTYPE_CONTEXT {
            let cmd = (first >> CMD_SHIFT) & 0xFFFF;
            let tunneling = self.qw(start, 0) & 0xFFFF_FFFF;
            if cmd & !CTX_CMD_TSO != 0 || tunneling != 0 {
                ev.violations.push(DpViolation::BadOffload {
                    desc_index: idx,
                    detail: "context descriptor requests a feature other than TSO \
                             (CMD bits or tunneling_params): not modelled",
                });
            }
        }
        let dummy = (start..start + used).any(|pos| {
            let qw1 = self.qw(pos, 1);
            qw1 & DTYPE_MASK == DTYPE_DATA && (qw1 >> CMD_SHIFT) & CMD_DUMMY != 0
        });
        if dummy {
            ev.violations.push(DpViolation::BadOffload {
                desc_index: idx,
                detail: "data descriptor with CMD.DUMMY: not modelled",
            });
        }
    }

    /// Ring index of the descriptor at position `pos` of the current fetch.
    fn ring_index(&self, pos: usize) -> u16 {
        // fetch_head < ring_len and pos <= avail < ring_len: one subtraction wraps.
        super::ring_wrap(self.fetch_head + pos, usize::from(self.cfg.ring_len).max(1)) as u16
    }

    /// Non-TSO checksum offload on `self.pkt` in place (contract 6.2 recommendation:
    /// compute the full L4 checksum from scratch, ignoring the seed).
    fn offload_csum(&mut self, o: &Offload, idx: u16, ev: &mut DpEvents) {
        // MACLEN counts the L2 header (contract 6.2: 14 -> 7, 18 with a tag). Offsets
        // inside the Ethernet header would make the HW write a "checksum" over the MAC
        // addresses; refuse to guess, report it and send the frame untouched.
        if (o.iipt == IIPT_IPV4_CSUM || o.l4t != 0) && o.maclen < wire::ETH_HLEN {
            ev.violations.push(DpViolation::BadOffload {
                desc_index: idx,
                detail: "checksum offload with MACLEN below the 14-byte Ethernet header",
            });
            return;
        }
        if o.iipt == IIPT_IPV4_CSUM {
            self.stats.csum_ip += 1;
            if let Err(detail) = fix_ipv4_csum(&mut self.pkt, o.maclen, o.iplen) {
                ev.violations.push(DpViolation::BadOffload {
                    desc_index: idx,
                    detail,
                });
            }
        }
        if o.l4t != 0 {
            self.stats.csum_l4 += 1;
            match fix_l4_csum(&mut self.pkt, o, None) {
                Ok(seeded) => {
                    if !seeded {
                        self.stats.csum_l4_unseeded += 1;
                    }
                }
                Err(detail) => ev.violations.push(DpViolation::BadOffload {
                    desc_index: idx,
                    detail,
                }),
            }
        }
    }

    /// TSO: cut `self.pkt` into MSS-sized segments with replicated, fixed headers.
    /// Header layout was validated by `walk` (IP + TCP inside the packet).
    fn segment(&mut self, o: &Offload, mss: usize, out: &mut TxFrames) {
        let hdr = o.maclen + o.iplen + o.l4len;
        let ip = o.maclen;
        let tcp = o.maclen + o.iplen;
        let v6 = o.iipt == IIPT_IPV6;
        let id0 = wire::be16(&self.pkt, ip + 4).unwrap_or(0);
        let seq0 = wire::be32(&self.pkt, tcp + 4).unwrap_or(0);
        let payload_len = self.pkt.len() - hdr;
        let nseg = payload_len.div_ceil(mss);
        for s in 0..nseg {
            let pstart = hdr + s * mss;
            let plen = mss.min(self.pkt.len() - pstart);
            self.seg.clear();
            self.seg.extend_from_slice(&self.pkt[..hdr]);
            self.seg.extend_from_slice(&self.pkt[pstart..pstart + plen]);
            let f = &mut self.seg;
            if v6 {
                // Payload length counts extension headers (IPLEN covers them).
                let pl = (o.iplen - 40 + o.l4len + plen) as u16;
                f[ip + 4..ip + 6].copy_from_slice(&pl.to_be_bytes());
            } else {
                let tot = (o.iplen + o.l4len + plen) as u16;
                f[ip + 2..ip + 4].copy_from_slice(&tot.to_be_bytes());
                f[ip + 4..ip + 6].copy_from_slice(&id0.wrapping_add(s as u16).to_be_bytes());
                // With IIPT = 2 (IPv4, no checksum) the header checksum is left as the
                // driver gave it, now stale: what the driver asked for.
                if o.iipt == IIPT_IPV4_CSUM {
                    let _ = fix_ipv4_csum(f, ip, o.iplen);
                }
            }
            let seq = seq0.wrapping_add((s * mss) as u32);
            f[tcp + 4..tcp + 8].copy_from_slice(&seq.to_be_bytes());
            // Standard TSO flag handling (contract 6.3 recommendation): FIN and PSH only
            // on the last segment, CWR only on the first.
            let mut flags = f[tcp + 13];
            if s + 1 != nseg {
                flags &= !(TCP_FIN | TCP_PSH);
            }
            if s != 0 {
                flags &= !TCP_CWR;
            }
            f[tcp + 13] = flags;
            let _ = fix_l4_csum(f, o, Some(o.l4len + plen));
            out.push(&self.seg, o.vlan);
            self.stats.tso_segments += 1;
        }
    }
}

const TCP_FIN: u8 = 0x01;
const TCP_PSH: u8 = 0x08;
const TCP_CWR: u8 = 0x80;

/// Check the per-segment descriptor limit of a TSO packet (MDD MAX_BUFF).
///
/// Contract 5.11/6.3: "≤ 8 data descriptors per TSO segment, header in ≤ 3". How the
/// header counts is stated by Linux `__iavf_chk_linearize` (iavf_txrx.c, same note in
/// i40e/ice): the HW DMAs at most 8 buffers to build one packet on the wire, and for
/// TSO the header and the segment payload are counted separately (a buffer holding the
/// header and the start of the payload is two DMA transactions). Every segment on the
/// wire carries the replicated header, so for **every** segment the emulator counts the
/// descriptors holding header bytes plus the descriptors holding that segment's payload
/// bytes (a mixed descriptor counts in both), against 8. Linux keeps 2 spare of the 8
/// for this (windows of 6 fragments), FreeBSD `iavf_tso_detect_sparse` likewise (6).
fn check_tso_sparse(
    descs: &[DataDesc],
    hdr: usize,
    mss: usize,
    total: usize,
) -> Result<(), String> {
    // Header descriptors.
    let mut covered = 0;
    let mut hdr_descs = 0;
    for d in descs {
        if covered >= hdr {
            break;
        }
        hdr_descs += 1;
        covered += d.len;
    }
    if hdr_descs > MAX_TSO_HDR_DESCS {
        return Err(format!(
            "TSO header of {hdr} bytes in {hdr_descs} descriptors"
        ));
    }
    // Descriptor i covers [start_i, start_i + len_i).
    let mut d = 0; // first descriptor that ends after the segment start
    let mut d_start = 0; // its start offset
    let mut s = 0;
    let mut a = hdr;
    while a < total {
        let b = (a + mss).min(total);
        while d < descs.len() && d_start + descs[d].len <= a {
            d_start += descs[d].len;
            d += 1;
        }
        let (mut e, mut e_start) = (d, d_start);
        while e < descs.len() && e_start < b {
            e_start += descs[e].len;
            e += 1;
        }
        let count = hdr_descs + (e - d);
        if count > MAX_BUFFER_TXD {
            return Err(format!(
                "TSO segment {s} (bytes {a}..{b}): {hdr_descs} header + {} payload descriptors",
                e - d
            ));
        }
        a = b;
        s += 1;
    }
    Ok(())
}

/// Recompute the IPv4 header checksum of the header at `ip`, `iplen` bytes.
fn fix_ipv4_csum(pkt: &mut [u8], ip: usize, iplen: usize) -> Result<(), &'static str> {
    if iplen < 20 || ip + iplen > pkt.len() {
        return Err("IPv4 checksum: MACLEN + IPLEN beyond the packet or IPLEN < 20");
    }
    pkt[ip + 10] = 0;
    pkt[ip + 11] = 0;
    let c = inet_checksum(&pkt[ip..ip + iplen]);
    pkt[ip + 10..ip + 12].copy_from_slice(&c.to_be_bytes());
    Ok(())
}

/// Compute the L4 checksum requested by `o.l4t` from scratch over the pseudo-header.
/// `l4_len` None (non-TSO): the L4 length is the IP-declared one when consistent with
/// the packet, else the rest of the packet. Returns whether the field held the seed the
/// stacks put there (pseudo-header sum with length, folded, not complemented).
fn fix_l4_csum(pkt: &mut [u8], o: &Offload, l4_len: Option<usize>) -> Result<bool, &'static str> {
    let ip = o.maclen;
    let l4 = o.maclen + o.iplen;
    let v6 = match o.iipt {
        IIPT_IPV6 => true,
        IIPT_IPV4 | IIPT_IPV4_CSUM => false,
        _ => return Err("L4 checksum requested with IIPT = non-IP"),
    };
    if l4 > pkt.len() || o.iplen < if v6 { 40 } else { 20 } {
        return Err("L4 checksum: MACLEN + IPLEN beyond the packet");
    }
    let rest = pkt.len() - l4;
    let len = l4_len.unwrap_or_else(|| {
        let declared = if v6 {
            wire::be16(pkt, ip + 4)
                .map(|p| usize::from(p) + 40)
                .and_then(|t| t.checked_sub(o.iplen))
        } else {
            wire::be16(pkt, ip + 2)
                .map(usize::from)
                .and_then(|t| t.checked_sub(o.iplen))
        };
        declared.filter(|&d| d <= rest).unwrap_or(rest)
    });
    let (proto, field, min) = match o.l4t {
        L4T_TCP => (wire::IPPROTO_TCP, 16, 20),
        L4T_UDP => (wire::IPPROTO_UDP, 6, 8),
        L4T_SCTP => (wire::IPPROTO_SCTP, 8, 12),
        _ => return Err("unknown L4T"),
    };
    if len < min || len > rest {
        return Err("L4 checksum: L4 header beyond the packet");
    }
    if proto == wire::IPPROTO_SCTP {
        let seg = &mut pkt[l4..l4 + len];
        let crc = wire::sctp_checksum(seg).ok_or("SCTP too short")?;
        seg[8..12].copy_from_slice(&crc.to_le_bytes());
        return Ok(true);
    }
    let ps = pseudo_sum(&pkt[ip..], v6, proto, Some(len)).ok_or("IP header too short")?;
    let old = u16::from_be_bytes([pkt[l4 + field], pkt[l4 + field + 1]]);
    let seeded = old == csum_fold(ps) || (old == 0 && csum_fold(ps) == 0xFFFF);
    pkt[l4 + field] = 0;
    pkt[l4 + field + 1] = 0;
    let mut c = !csum_fold(csum_add(ps, &pkt[l4..l4 + len]));
    if proto == wire::IPPROTO_UDP && c == 0 {
        c = 0xFFFF; // RFC 768: a computed 0 is sent as all ones
    }
    pkt[l4 + field..l4 + field + 2].copy_from_slice(&c.to_be_bytes());
    Ok(seeded)
}

#[cfg(test)]
mod tests {
    // Only the public API: descriptor values come from testutil's contract encoders.
    use super::{TxFrames, TxQueue, TxQueueCfg};
    use crate::dp::testutil::*;
    use crate::dp::{DpEvents, DpViolation, MddKind};

    struct Rig {
        mem: Mem,
        ring: u64,
        n: u16,
        next: u16,
        q: TxQueue,
        out: TxFrames,
        ev: DpEvents,
    }

    impl Rig {
        fn new(n: u16, headwb: bool) -> Rig {
            let mem = Mem::new();
            let ring = mem.alloc(usize::from(n) * 16 + 64, 128);
            let headwb_addr = headwb.then_some(ring + u64::from(n) * 16);
            let mut q = TxQueue::new(TxQueueCfg {
                ring_base: ring,
                ring_len: n,
                headwb_addr,
            });
            q.enable(true);
            Rig {
                mem,
                ring,
                n,
                next: 0,
                q,
                out: TxFrames::new(),
                ev: DpEvents::default(),
            }
        }
        fn put(&mut self, d: [u8; 16]) -> u16 {
            let i = self.next;
            self.mem.write(self.ring + u64::from(i) * 16, &d);
            self.next = (i + 1) % self.n;
            i
        }
        fn kick(&mut self) {
            self.q.set_tail(u32::from(self.next));
            self.q.process(self.mem.g(), &mut self.out, &mut self.ev);
        }
        fn qw1(&self, i: u16) -> u64 {
            self.mem.qw(self.ring + u64::from(i) * 16 + 8)
        }
        fn qw0(&self, i: u16) -> u64 {
            self.mem.qw(self.ring + u64::from(i) * 16)
        }
        fn frames(&self) -> Vec<Vec<u8>> {
            self.out.iter().map(|f| f.to_vec()).collect()
        }
        /// Send `pkt` split into buffers of the given sizes.
        fn send_split(
            &mut self,
            pkt: &[u8],
            sizes: &[usize],
            cmd: u64,
            lens: (u64, u64, u64),
            tag: u16,
        ) {
            let mut off = 0;
            for (k, &sz) in sizes.iter().enumerate() {
                let a = self.mem.buf(&pkt[off..off + sz]);
                let last = k + 1 == sizes.len();
                let c = if last { cmd | EOP | RS } else { cmd };
                self.put(txd(a, c, lens, sz as u64, tag));
                off += sz;
            }
            assert_eq!(off, pkt.len());
        }
        fn mdd(&self) -> MddKind {
            self.ev.mdd.as_ref().expect("MDD expected").kind
        }
    }

    #[test]
    fn single_descriptor_packet_and_desc_done_writeback() {
        let mut r = Rig::new(64, false);
        let pkt = udp4_frame(18);
        let a = r.mem.buf(&pkt);
        // Literal QW1 from the contract 6.2 layout: DTYPE 0, CMD = EOP|RS|ICRC
        // (0x7 << 4 = 0x70), BUF_SZ = 60 << 34 (0x3C << 34 = 0xF0 << 32).
        assert_eq!(pkt.len(), 60);
        let qw1: u64 = 0x0000_00F0_0000_0070;
        let mut d = [0u8; 16];
        d[..8].copy_from_slice(&a.to_le_bytes());
        d[8..].copy_from_slice(&qw1.to_le_bytes());
        let i = r.put(d);
        r.kick();
        assert_eq!(r.frames(), vec![pkt]);
        assert_eq!(r.qw1(i), 0xF, "QW1 = DTYPE DESC_DONE only");
        assert_eq!(r.qw0(i), a, "QW0 untouched");
        assert!(r.ev.tx_completed);
        assert_eq!(r.q.head(), 1);
        assert_eq!(
            (r.q.stats.packets, r.q.stats.frames, r.q.stats.bytes),
            (1, 1, 60)
        );
        assert!(r.ev.mdd.is_none() && r.ev.violations.is_empty());
    }

    #[test]
    fn gather_unaligned_buffers_rs_only_where_set() {
        let mut r = Rig::new(64, false);
        let pkt = tcp4_frame(200);
        r.send_split(&pkt, &[14, 33, 100, pkt.len() - 147], ICRC, (0, 0, 0), 0);
        // A second packet without RS.
        let p2 = udp4_frame(30);
        let a = r.mem.buf(&p2);
        let i2 = r.put(txd(a, EOP | ICRC, (0, 0, 0), p2.len() as u64, 0));
        r.kick();
        assert_eq!(r.frames(), vec![pkt, p2]);
        for i in 0..3 {
            assert_eq!(
                r.qw1(i) & 0xF,
                0,
                "descriptor {i} has no RS: not written back"
            );
        }
        assert_eq!(r.qw1(3), 0xF);
        assert_eq!(r.qw1(i2) & 0xF, 0);
        assert_eq!(r.q.head(), 5);
        assert_eq!(r.q.stats.completions, 1);
    }

    #[test]
    fn no_rs_no_completion_event() {
        let mut r = Rig::new(64, false);
        let p = udp4_frame(30);
        let a = r.mem.buf(&p);
        r.put(txd(a, EOP, (0, 0, 0), p.len() as u64, 0));
        r.kick();
        assert_eq!(r.out.len(), 1);
        assert!(!r.ev.tx_completed);
    }

    #[test]
    fn head_writeback_writes_head_not_descriptors() {
        let mut r = Rig::new(64, true);
        let hw = r.ring + 64 * 16;
        r.mem.write(hw, &[0xAA; 4]);
        let p = udp4_frame(30);
        r.send_split(&p, &[20, p.len() - 20], 0, (0, 0, 0), 0);
        let a = r.mem.buf(&p);
        r.put(txd(a, EOP | RS, (0, 0, 0), p.len() as u64, 0));
        r.kick();
        assert_eq!(r.out.len(), 2);
        assert_eq!(
            r.mem.read(hw, 4),
            vec![3, 0, 0, 0],
            "head = one past the last completed descriptor"
        );
        assert_eq!(r.qw1(1) & 0xF, 0, "no DESC_DONE in head write-back mode");
        assert!(r.ev.tx_completed);
    }

    #[test]
    fn stall_withholds_completions_until_cleared() {
        let mut r = Rig::new(64, false);
        r.q.set_stall(true);
        let p = udp4_frame(30);
        let a = r.mem.buf(&p);
        let i = r.put(txd(a, EOP | RS, (0, 0, 0), p.len() as u64, 0));
        r.kick();
        assert_eq!(r.out.len(), 1, "packets still go out");
        assert_eq!(r.qw1(i) & 0xF, 0);
        assert!(!r.ev.tx_completed);
        r.q.set_stall(false);
        r.q.flush_completions(r.mem.g(), &mut r.ev);
        assert_eq!(r.qw1(i), 0xF);
        assert!(r.ev.tx_completed);
    }

    #[test]
    fn tail_latched_before_enable_and_ring_wraps() {
        let mem = Mem::new();
        let ring = mem.alloc(8 * 16, 128);
        let mut q = TxQueue::new(TxQueueCfg {
            ring_base: ring,
            ring_len: 8,
            headwb_addr: None,
        });
        let p = udp4_frame(40);
        let a = mem.buf(&p);
        mem.write(ring, &txd(a, EOP | RS, (0, 0, 0), p.len() as u64, 0));
        q.set_tail(1);
        let (mut out, mut ev) = (TxFrames::new(), DpEvents::default());
        q.process(mem.g(), &mut out, &mut ev);
        assert!(out.is_empty(), "disabled queue does nothing");
        q.enable(true);
        q.process(mem.g(), &mut out, &mut ev);
        assert_eq!(out.len(), 1);
        // Fill up to slot 6, then a 3-descriptor packet over 6, 7, 0.
        out.clear();
        for i in 1..6u64 {
            mem.write(ring + i * 16, &txd(a, EOP, (0, 0, 0), p.len() as u64, 0));
        }
        q.set_tail(6);
        q.process(mem.g(), &mut out, &mut ev);
        assert_eq!(out.len(), 5);
        // tail = head means empty: a driver keeps one slot free, so this batch ends at 1.
        let b = mem.buf(&p);
        mem.write(ring + 6 * 16, &txd(b, 0, (0, 0, 0), 10, 0));
        mem.write(ring + 7 * 16, &txd(b + 10, 0, (0, 0, 0), 10, 0));
        mem.write(
            ring,
            &txd(b + 20, EOP | RS, (0, 0, 0), p.len() as u64 - 20, 0),
        );
        q.set_tail(1);
        q.process(mem.g(), &mut out, &mut ev);
        assert_eq!(out.len(), 6);
        assert_eq!(out.get(5).unwrap(), &p[..]);
        assert_eq!(q.head(), 1);
        assert_eq!(mem.qw(ring + 8), 0xF);
    }

    #[test]
    fn ipv4_udp_checksum_offload() {
        let mut r = Rig::new(64, false);
        let mut pkt = udp4_frame(27);
        pkt[24] = 0x12; // garbage in the IPv4 checksum
        pkt[25] = 0x34;
        pkt[40] = 0; // UDP checksum zeroed
        pkt[41] = 0;
        r.send_split(
            &pkt,
            &[34, pkt.len() - 34],
            IIPT_V4_CSUM | L4T_UDP,
            (14, 20, 8),
            0,
        );
        r.kick();
        let f = &r.frames()[0];
        assert!(sum_is_ffff(&[&f[14..34]]), "IPv4 header checksum");
        let ph = pseudo(&f[14..], false, 17, f.len() - 34);
        assert!(sum_is_ffff(&[&ph, &f[34..]]), "UDP checksum");
        assert_eq!(&f[..24], &pkt[..24]);
        assert_eq!(&f[42..], &pkt[42..]);
        assert_eq!(
            (
                r.q.stats.csum_ip,
                r.q.stats.csum_l4,
                r.q.stats.csum_l4_unseeded
            ),
            (1, 1, 1)
        );
    }

    #[test]
    fn seeded_checksum_is_counted_as_seeded() {
        let mut r = Rig::new(64, false);
        let mut pkt = tcp4_frame(50);
        // The Linux/FreeBSD stack seed: folded pseudo-header sum with length.
        let ph = pseudo(&pkt[14..], false, 6, 70);
        let seed = !csum(&[&ph]);
        pkt[50..52].copy_from_slice(&seed.to_be_bytes());
        let a = r.mem.buf(&pkt);
        r.put(txd(
            a,
            EOP | RS | IIPT_V4 | L4T_TCP,
            (14, 20, 20),
            pkt.len() as u64,
            0,
        ));
        r.kick();
        let f = &r.frames()[0];
        assert!(sum_is_ffff(&[&ph, &f[34..]]));
        assert_eq!(r.q.stats.csum_l4_unseeded, 0);
        assert_eq!(r.q.stats.csum_ip, 0, "IIPT = 2: no IP checksum request");
    }

    #[test]
    fn ipv6_tcp_and_sctp_checksum_offload() {
        let mut r = Rig::new(64, false);
        let mut f6 = eth(MAC_B, MAC_A, 0x86DD);
        f6.extend(ipv6(6, 20 + 99));
        f6.extend(tcp(5, 6, 7, 0x18));
        f6.extend(payload(99, 9));
        r.send_split(
            &f6.clone(),
            &[54, 40, f6.len() - 94],
            IIPT_V6 | L4T_TCP,
            (14, 40, 20),
            0,
        );
        let mut s = eth(MAC_B, MAC_A, 0x0800);
        s.extend(ipv4(132, 20 + 28, 9, 0));
        s.extend_from_slice(&[0x13, 0x88, 0x13, 0x89, 0, 0, 0, 1, 0xEE, 0xEE, 0xEE, 0xEE]);
        s.extend(payload(16, 4));
        r.send_split(
            &s.clone(),
            &[s.len()],
            IIPT_V4_CSUM | L4T_SCTP,
            (14, 20, 12),
            0,
        );
        r.kick();
        let fr = r.frames();
        let f = &fr[0];
        let ph = pseudo(&f[14..], true, 6, 119);
        assert!(sum_is_ffff(&[&ph, &f[54..]]), "TCP over IPv6");
        let g = &fr[1];
        let mut zeroed = g[34..].to_vec();
        zeroed[8..12].fill(0);
        assert_eq!(
            &g[42..46],
            &crc32c_bitwise(&zeroed).to_le_bytes(),
            "SCTP CRC32c, little-endian"
        );
        assert!(sum_is_ffff(&[&g[14..34]]));
    }

    #[test]
    fn vlan_tag_insertion() {
        let mut r = Rig::new(64, false);
        let pkt = tcp4_frame(10);
        let a = r.mem.buf(&pkt);
        r.put(txd(
            a,
            EOP | RS | IL2TAG1 | IIPT_V4_CSUM | L4T_TCP,
            (14, 20, 20),
            pkt.len() as u64,
            0x6123,
        ));
        r.kick();
        let f = &r.frames()[0];
        assert_eq!(f.len(), pkt.len() + 4);
        assert_eq!(&f[..12], &pkt[..12]);
        assert_eq!(&f[12..16], &[0x81, 0x00, 0x61, 0x23]);
        assert_eq!(&f[16..], &pkt[12..]);
        assert_eq!(r.q.stats.vlan_inserted, 1);
        // Offsets were applied to the untagged packet.
        assert!(sum_is_ffff(&[&f[18..38]]));
    }

    /// One packet of the given data-descriptor sizes (bytes of a real frame).
    fn mdd_case(setup: impl FnOnce(&mut Rig)) -> Rig {
        let mut r = Rig::new(64, false);
        // A good packet first: it must go out and complete before the bad one stops the queue.
        let good = udp4_frame(30);
        let a = r.mem.buf(&good);
        r.put(txd(a, EOP | RS, (0, 0, 0), good.len() as u64, 0));
        setup(&mut r);
        r.kick();
        assert_eq!(r.out.len(), 1, "the packet before the bad one is sent");
        assert_eq!(r.qw1(0), 0xF);
        assert_eq!(r.q.head(), 1, "head stays at the bad packet");
        assert!(r.q.is_stopped());
        assert_eq!(r.ev.mdd.as_ref().unwrap().desc_index, 1);
        // A stopped queue does nothing more, even with more work.
        let mut ev = DpEvents::default();
        r.q.process(r.mem.g(), &mut r.out, &mut ev);
        assert!(ev.mdd.is_none() && r.out.len() == 1);
        r
    }

    #[test]
    fn mdd_wrong_size_short_and_long() {
        let r = mdd_case(|r| {
            let a = r.mem.buf(&[0u8; 16]);
            r.put(txd(a, EOP | RS, (0, 0, 0), 16, 0));
        });
        assert_eq!(r.mdd(), MddKind::WrongSize);
        let r = mdd_case(|r| {
            let big = vec![0u8; 9729];
            let a = r.mem.buf(&big);
            r.put(txd(a, EOP | RS, (0, 0, 0), 9729, 0));
        });
        assert_eq!(r.mdd(), MddKind::WrongSize);
        // 17 and 9728 are fine.
        for len in [17usize, 9728] {
            let mut r = Rig::new(64, false);
            let a = r.mem.buf(&vec![0u8; len]);
            r.put(txd(a, EOP | RS, (0, 0, 0), len as u64, 0));
            r.kick();
            assert!(r.ev.mdd.is_none(), "{len} bytes");
            assert_eq!(r.out.get(0).unwrap().len(), len);
        }
    }

    #[test]
    fn mdd_zero_bsize() {
        let r = mdd_case(|r| {
            let a = r.mem.buf(&[0u8; 64]);
            r.put(txd(a, 0, (0, 0, 0), 30, 0));
            r.put(txd(a, 0, (0, 0, 0), 0, 0));
            r.put(txd(a, EOP | RS, (0, 0, 0), 30, 0));
        });
        assert_eq!(r.mdd(), MddKind::ZeroBsize);
    }

    #[test]
    fn mdd_more_than_8_descriptors_non_tso() {
        let r = mdd_case(|r| {
            let a = r.mem.buf(&[0u8; 64]);
            for k in 0..9 {
                r.put(txd(a, if k == 8 { EOP | RS } else { 0 }, (0, 0, 0), 10, 0));
            }
        });
        assert_eq!(r.mdd(), MddKind::MaxBuff);
        // Exactly 8 is fine.
        let mut r = Rig::new(64, false);
        let a = r.mem.buf(&[0u8; 64]);
        for k in 0..8 {
            r.put(txd(a, if k == 7 { EOP | RS } else { 0 }, (0, 0, 0), 10, 0));
        }
        r.kick();
        assert!(r.ev.mdd.is_none());
        assert_eq!(r.out.get(0).unwrap().len(), 80);
    }

    #[test]
    fn mdd_no_eop_at_tail() {
        let r = mdd_case(|r| {
            let a = r.mem.buf(&[0u8; 64]);
            r.put(txd(a, 0, (0, 0, 0), 30, 0));
            r.put(txd(a, 0, (0, 0, 0), 30, 0));
        });
        assert_eq!(r.mdd(), MddKind::NoEop);
        let r = mdd_case(|r| {
            r.put(ctxd(true, 100, 100));
        });
        assert_eq!(r.mdd(), MddKind::NoEop);
    }

    #[test]
    fn mdd_context_not_followed_by_data_and_bad_dtype() {
        let r = mdd_case(|r| {
            r.put(ctxd(false, 0, 0));
            r.put(ctxd(false, 0, 0));
            let a = r.mem.buf(&[0u8; 64]);
            r.put(txd(a, EOP | RS, (0, 0, 0), 60, 0));
        });
        assert_eq!(r.mdd(), MddKind::CtxWithoutData);
        let r = mdd_case(|r| {
            let a = r.mem.buf(&[0u8; 64]);
            let mut d = txd(a, EOP | RS, (0, 0, 0), 60, 0);
            d[8] |= 0x8; // DTYPE 0x8: filter programming
            r.put(d);
        });
        assert_eq!(r.mdd(), MddKind::BadDtype);
        // A stale DESC_DONE descriptor handed back without being rewritten.
        let r = mdd_case(|r| {
            let mut d = [0u8; 16];
            d[8] = 0xF;
            r.put(d);
        });
        assert_eq!(r.mdd(), MddKind::BadDtype);
    }

    /// IPv4/TCP TSO packet: 54-byte header and `n` payload bytes.
    fn tso_pkt(n: usize, flags: u8) -> Vec<u8> {
        let mut f = eth(MAC_B, MAC_A, 0x0800);
        // Stack convention before TSO (Linux iavf_tso / iflib): tot_len and check 0.
        f.extend(ipv4(6, 0, 0xFFFE, 0x4000));
        f.extend(tcp(1000, 2000, 0xFFFF_FC00, flags));
        f.extend(payload(n, 5));
        f
    }

    fn tso_send(r: &mut Rig, pkt: &[u8], sizes: &[usize], tso_len: u64, mss: u64) {
        r.put(ctxd(true, tso_len, mss));
        r.send_split(pkt, sizes, IIPT_V4_CSUM | L4T_TCP, (14, 20, 20), 0);
    }

    #[test]
    fn mdd_tso_mss_len_and_size() {
        for mss in [63u64, 9669] {
            let r = mdd_case(|r| {
                let p = tso_pkt(1000, 0x10);
                tso_send(r, &p, &[54, 1000], 1000, mss);
            });
            assert_eq!(r.mdd(), MddKind::BadLsoMss, "MSS {mss}");
        }
        let r = mdd_case(|r| {
            let p = tso_pkt(1000, 0x10);
            tso_send(r, &p, &[54, 1000], 999, 500);
        });
        assert_eq!(r.mdd(), MddKind::BadLsoLen);
        // Header 14 + 60 + 60 = 134 with MSS 9668: 9802 > 9728.
        let r = mdd_case(|r| {
            let mut p = eth(MAC_B, MAC_A, 0x0800);
            let mut ip = ipv4(6, 0, 1, 0);
            ip[0] = 0x4F;
            p.extend(ip);
            p.extend_from_slice(&[1; 40]); // IP options (NOPs)
            let mut t = tcp(1, 2, 3, 0x10);
            t[12] = 0xF0;
            p.extend(t);
            p.extend_from_slice(&[1; 40]); // TCP options
            p.extend(payload(10000, 1));
            r.put(ctxd(true, 10000, 9668));
            r.send_split(
                &p,
                &[134, 5000, 5000],
                IIPT_V4_CSUM | L4T_TCP,
                (14, 60, 60),
                0,
            );
        });
        assert_eq!(r.mdd(), MddKind::WrongSize);
        // TSO whose offsets say "not TCP".
        let r = mdd_case(|r| {
            let p = tso_pkt(1000, 0x10);
            r.put(ctxd(true, 1000, 500));
            r.send_split(&p, &[54, 1000], IIPT_V4_CSUM | L4T_UDP, (14, 20, 20), 0);
        });
        assert_eq!(r.mdd(), MddKind::BadLsoLen);
    }

    #[test]
    fn mdd_tso_descriptor_limits() {
        // Header over 4 descriptors.
        let r = mdd_case(|r| {
            let p = tso_pkt(1000, 0x10);
            tso_send(r, &p, &[14, 10, 10, 20, 1000], 1000, 500);
        });
        assert_eq!(r.mdd(), MddKind::MaxBuff);
        // Header in 3 is fine.
        let mut ok = Rig::new(64, false);
        let p = tso_pkt(1000, 0x10);
        tso_send(&mut ok, &p, &[14, 20, 20, 1000], 1000, 500);
        ok.kick();
        assert!(ok.ev.mdd.is_none(), "{:?}", ok.ev.mdd);
        assert_eq!(ok.out.len(), 2);

        // Header in 1 descriptor, then the first 1000-byte segment over 8 payload
        // descriptors of 125 bytes: 9 for segment 0 counting the header descriptor.
        let r = mdd_case(|r| {
            let p = tso_pkt(2000, 0x10);
            let mut sizes = vec![54];
            sizes.extend([125; 8]);
            sizes.push(1000);
            tso_send(r, &p, &sizes, 2000, 1000);
        });
        assert_eq!(r.mdd(), MddKind::MaxBuff);
        // A later segment spread over 9 descriptors (no header counted there).
        let r = mdd_case(|r| {
            let p = tso_pkt(2000, 0x10);
            let mut sizes = vec![1054];
            sizes.extend([100; 9]);
            sizes.push(100);
            tso_send(r, &p, &sizes, 2000, 1000);
        });
        assert_eq!(r.mdd(), MddKind::MaxBuff);
        // Header descriptor + 7 payload descriptors for segment 0 and for segment 1:
        // 8 each, fine.
        let mut ok = Rig::new(64, false);
        let p = tso_pkt(2000, 0x10);
        let mut sizes = vec![54];
        sizes.extend([100, 100, 100, 100, 100, 100, 400]);
        sizes.extend([125, 125, 125, 125, 125, 125, 250]);
        tso_send(&mut ok, &p, &sizes, 2000, 1000);
        ok.kick();
        assert!(ok.ev.mdd.is_none(), "{:?}", ok.ev.mdd);
        assert_eq!(ok.out.len(), 2);
        // Segment 1 over 8 payload descriptors: its on-wire packet needs the header
        // buffer too, 9 DMA buffers (Linux `__iavf_chk_linearize` note) -> MAX_BUFF.
        let r = mdd_case(|r| {
            let p = tso_pkt(2000, 0x10);
            let mut sizes = vec![54];
            sizes.extend([100, 100, 100, 100, 100, 100, 400]);
            sizes.extend([125; 8]);
            tso_send(r, &p, &sizes, 2000, 1000);
        });
        assert_eq!(r.mdd(), MddKind::MaxBuff);
        // Header in 3 descriptors (14 + 20 + 20) and a later segment over 6 payload
        // descriptors: 3 + 6 = 9 -> MAX_BUFF; over 5: 8, fine.
        let r = mdd_case(|r| {
            let p = tso_pkt(2000, 0x10);
            let mut sizes = vec![14, 20, 20, 1000];
            sizes.extend([200, 200, 200, 200, 100, 100]);
            tso_send(r, &p, &sizes, 2000, 1000);
        });
        assert_eq!(r.mdd(), MddKind::MaxBuff);
        let mut ok = Rig::new(64, false);
        let p = tso_pkt(2000, 0x10);
        let mut sizes = vec![14, 20, 20, 1000];
        sizes.extend([200, 200, 200, 200, 200]);
        tso_send(&mut ok, &p, &sizes, 2000, 1000);
        ok.kick();
        assert!(ok.ev.mdd.is_none(), "{:?}", ok.ev.mdd);
        // A buffer holding header + payload counts twice: 54 + 100 in one buffer, then
        // 7 more 100-byte buffers in segment 0 (MSS 800) = 1 + 8 = 9 -> MAX_BUFF.
        let r = mdd_case(|r| {
            let p = tso_pkt(800, 0x10);
            tso_send(r, &p, &[154, 100, 100, 100, 100, 100, 100, 100], 800, 800);
        });
        assert_eq!(r.mdd(), MddKind::MaxBuff);
        // The Linux-style shape: header + payload in the first buffer, then 4 KiB pages.
        let mut ok = Rig::new(64, false);
        let p = tso_pkt(30000, 0x10);
        let mut sizes = vec![54 + 2000];
        sizes.extend([4096; 6]);
        sizes.push(30000 - 2000 - 6 * 4096);
        tso_send(&mut ok, &p, &sizes, 30000, 1448);
        ok.kick();
        assert!(ok.ev.mdd.is_none(), "{:?}", ok.ev.mdd);
        assert_eq!(ok.out.len(), 30000usize.div_ceil(1448));
    }

    #[test]
    fn tso_segmentation_ipv4() {
        let mut r = Rig::new(64, false);
        // FIN|PSH|ACK|CWR on the original.
        let pkt = tso_pkt(2500, 0x01 | 0x08 | 0x10 | 0x80);
        tso_send(&mut r, &pkt, &[54, 1250, 1250], 2500, 1000);
        r.kick();
        assert!(r.ev.mdd.is_none() && r.ev.violations.is_empty());
        let segs = r.frames();
        assert_eq!(segs.len(), 3);
        let want_len = [1000usize, 1000, 500];
        let want_flags = [0x10 | 0x80, 0x10, 0x10 | 0x01 | 0x08];
        for (s, f) in segs.iter().enumerate() {
            let pl = want_len[s];
            assert_eq!(f.len(), 54 + pl, "segment {s}");
            assert_eq!(&f[..14], &pkt[..14]);
            assert_eq!(
                u16::from_be_bytes([f[16], f[17]]) as usize,
                40 + pl,
                "IPv4 total length"
            );
            assert_eq!(
                u16::from_be_bytes([f[18], f[19]]),
                0xFFFEu16.wrapping_add(s as u16),
                "IPv4 ID"
            );
            assert!(
                sum_is_ffff(&[&f[14..34]]),
                "IPv4 header checksum of segment {s}"
            );
            let seq = u32::from_be_bytes([f[38], f[39], f[40], f[41]]);
            assert_eq!(
                seq,
                0xFFFF_FC00u32.wrapping_add(1000 * s as u32),
                "TCP sequence"
            );
            assert_eq!(f[47], want_flags[s], "TCP flags of segment {s}");
            let ph = pseudo(&f[14..], false, 6, 20 + pl);
            assert!(sum_is_ffff(&[&ph, &f[34..]]), "TCP checksum of segment {s}");
            assert_eq!(
                &f[54..],
                &pkt[54 + 1000 * s..54 + 1000 * s + pl],
                "payload of segment {s}"
            );
        }
        assert_eq!(
            (r.q.stats.tso_ctx, r.q.stats.tso_segments, r.q.stats.packets),
            (1, 3, 1)
        );
        assert_eq!(r.qw1(3), 0xF);
        assert_eq!(r.qw1(1) & 0xF, 0);
    }

    #[test]
    fn tso_segmentation_ipv6_with_vlan_insert() {
        let mut r = Rig::new(64, false);
        let mut pkt = eth(MAC_B, MAC_A, 0x86DD);
        pkt.extend(ipv6(6, 0));
        pkt.extend(tcp(7, 8, 100, 0x18));
        pkt.extend(payload(300, 8));
        r.put(ctxd(true, 300, 128));
        r.send_split(
            &pkt,
            &[74, 300],
            IIPT_V6 | L4T_TCP | IL2TAG1,
            (14, 40, 20),
            0x0064,
        );
        r.kick();
        let segs = r.frames();
        assert_eq!(segs.len(), 3);
        for (s, f) in segs.iter().enumerate() {
            let pl = [128usize, 128, 44][s];
            assert_eq!(&f[12..16], &[0x81, 0x00, 0x00, 0x64]);
            let ip = &f[18..58];
            assert_eq!(
                u16::from_be_bytes([ip[4], ip[5]]) as usize,
                20 + pl,
                "IPv6 payload length"
            );
            let ph = pseudo(ip, true, 6, 20 + pl);
            assert!(sum_is_ffff(&[&ph, &f[58..]]), "TCP checksum of segment {s}");
            let psh = f[58 + 13] & 0x08 != 0;
            assert_eq!(psh, s == 2);
        }
        assert_eq!(r.q.stats.vlan_inserted, 3);
    }

    #[test]
    fn dma_faults_are_violations_not_panics() {
        // Unmapped buffer address.
        let mut r = Rig::new(64, false);
        r.put(txd(0xdead_0000, EOP | RS, (0, 0, 0), 60, 0));
        r.kick();
        assert!(matches!(
            r.ev.violations[..],
            [DpViolation::DmaFault {
                what: "TX buffer read",
                ..
            }]
        ));
        assert!(r.q.is_stopped() && r.out.is_empty());
        // Unmapped ring.
        let mem = Mem::new();
        let mut q = TxQueue::new(TxQueueCfg {
            ring_base: 0x1000,
            ring_len: 64,
            headwb_addr: None,
        });
        q.enable(true);
        q.set_tail(3);
        let (mut out, mut ev) = (TxFrames::new(), DpEvents::default());
        q.process(mem.g(), &mut out, &mut ev);
        assert!(matches!(
            ev.violations[..],
            [DpViolation::DmaFault {
                what: "TX descriptor fetch",
                ..
            }]
        ));
        // Tail beyond the ring.
        let mut r = Rig::new(64, false);
        r.q.set_tail(64);
        r.q.process(r.mem.g(), &mut r.out, &mut r.ev);
        assert_eq!(
            r.ev.violations,
            vec![DpViolation::TailOutOfRange {
                tail: 64,
                ring_len: 64
            }]
        );
        // Re-enabling clears the stop.
        r.q.enable(true);
        assert!(!r.q.is_stopped());
        // A ring base that is not 128-byte aligned (the PF keeps addr / 128).
        let mem = Mem::new();
        let ring = mem.alloc(64 * 16 + 128, 128) + 64;
        let mut q = TxQueue::new(TxQueueCfg {
            ring_base: ring,
            ring_len: 64,
            headwb_addr: None,
        });
        q.enable(true);
        q.set_tail(1);
        let mut ev = DpEvents::default();
        q.process(mem.g(), &mut out, &mut ev);
        assert!(matches!(ev.violations[..], [DpViolation::BadConfig(_)]));
        assert!(q.is_stopped());
    }

    #[test]
    fn bad_offload_offsets_are_reported_and_packet_still_sent() {
        let mut r = Rig::new(64, false);
        let pkt = udp4_frame(10);
        let a = r.mem.buf(&pkt);
        r.put(txd(
            a,
            EOP | RS | IIPT_V4_CSUM | L4T_UDP,
            (14, 60, 8),
            pkt.len() as u64,
            0,
        ));
        r.kick();
        assert_eq!(r.out.len(), 1);
        assert_eq!(r.ev.violations.len(), 2);
        assert!(!r.ev.violations[0].stops_queue());
        assert!(!r.q.is_stopped());
    }

    #[test]
    fn unmodelled_context_and_dummy_bits_are_reported() {
        // Context descriptor with CMD.IL2TAG2 (0x04 at bit 4) besides TSO, then one with
        // tunneling_params = EIPT 3, then a data descriptor with CMD.DUMMY (0x010).
        let mut r = Rig::new(64, false);
        let p = tso_pkt(1000, 0x10);
        let mut c = ctxd(true, 1000, 500);
        c[8] |= 0x04 << 4;
        r.put(c);
        r.send_split(&p, &[1054], IIPT_V4_CSUM | L4T_TCP, (14, 20, 20), 0);
        let mut c = ctxd(true, 1000, 500);
        c[0] = 0x03;
        r.put(c);
        r.send_split(&p, &[1054], IIPT_V4_CSUM | L4T_TCP, (14, 20, 20), 0);
        let u = udp4_frame(30);
        let a = r.mem.buf(&u);
        r.put(txd(a, EOP | RS | 0x010, (0, 0, 0), u.len() as u64, 0));
        r.kick();
        assert!(r.ev.mdd.is_none(), "{:?}", r.ev.mdd);
        assert_eq!(r.out.len(), 5, "packets still sent");
        let idx: Vec<u16> =
            r.ev.violations
                .iter()
                .map(|v| match v {
                    DpViolation::BadOffload { desc_index, .. } => *desc_index,
                    other => panic!("unexpected {other:?}"),
                })
                .collect();
        assert_eq!(idx, vec![0, 2, 4]);
        // The plain TSO context of `tso_send` (junk only in l2tag2/rsvd) is clean.
        let mut ok = Rig::new(64, false);
        tso_send(&mut ok, &p, &[54, 1000], 1000, 500);
        ok.kick();
        assert!(ok.ev.violations.is_empty(), "{:?}", ok.ev.violations);
    }

    #[test]
    fn offload_with_maclen_inside_the_ethernet_header_is_refused() {
        let mut r = Rig::new(64, false);
        let pkt = udp4_frame(10);
        let a = r.mem.buf(&pkt);
        // MACLEN 0: IIPT=3 and L4T=UDP would checksum the MAC header.
        r.put(txd(
            a,
            EOP | RS | IIPT_V4_CSUM | L4T_UDP,
            (0, 20, 8),
            pkt.len() as u64,
            0,
        ));
        r.kick();
        assert_eq!(r.frames(), vec![pkt], "frame sent untouched");
        assert_eq!(r.ev.violations.len(), 1);
        assert!(matches!(
            r.ev.violations[0],
            DpViolation::BadOffload { desc_index: 0, .. }
        ));
        assert!(!r.q.is_stopped());
    }

    #[test]
    fn random_descriptors_never_panic() {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut rnd = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for _ in 0..200 {
            let mut r = Rig::new(32, rnd() & 1 == 0);
            let a = r.mem.buf(&[0x55; 4096]);
            for _ in 0..(rnd() % 31) {
                let mut d = [0u8; 16];
                let qw1 = rnd() & !0xE; // DTYPE 0 or 1 mostly
                let addr = if rnd() & 3 == 0 {
                    rnd()
                } else {
                    a + rnd() % 64
                };
                d[..8].copy_from_slice(&addr.to_le_bytes());
                d[8..].copy_from_slice(&qw1.to_le_bytes());
                r.put(d);
            }
            r.kick();
        }
    }
}
