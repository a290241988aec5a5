//! The RX queue engine: descriptor fetch, buffer fill, write-back with PTYPE, checksum
//! status, RSS hash and stripped VLAN tag (contract 6.5-6.8).

use super::rss::{rss_hash_parsed, RssState};
use super::wire::{self, Cast};
use super::{DpEvents, DpViolation};
use crate::mem::{DmaFault, GuestMemory};

/// RX descriptor size: the PF forces 32-byte descriptors (dsize = 1, contract 5.2).
pub const RX_DESC_LEN: usize = 32;
/// Most descriptors one frame may use (FreeBSD IAVF_MAX_RX_SEGS; contract 6.5
/// recommendation).
pub const MAX_RX_SEGS: usize = 5;

// status_error_len (QW1 of the write-back format, contract 6.5).
pub const RXD_DD: u64 = 1 << 0;
pub const RXD_EOF: u64 = 1 << 1;
pub const RXD_L2TAG1P: u64 = 1 << 2;
pub const RXD_L3L4P: u64 = 1 << 3;
pub const RXD_UMBCAST_SHIFT: u32 = 9;
pub const RXD_FLTSTAT_SHIFT: u32 = 12;
/// FLTSTAT value "RSS hash valid in bytes 4-7".
pub const RXD_FLTSTAT_RSS: u64 = 3;
pub const RXD_IPV6EXADD: u64 = 1 << 15;
pub const RXD_RXE: u64 = 1 << 19;
pub const RXD_IPE: u64 = 1 << 22;
pub const RXD_L4E: u64 = 1 << 23;
pub const RXD_PTYPE_SHIFT: u32 = 30;
pub const RXD_LEN_PBUF_SHIFT: u32 = 38;
pub const RXD_LEN_PBUF_MASK: u64 = 0x3FFF;

/// Largest data buffer the PF accepts (16384 - 128, contract 5.2).
const MAX_BUF_SIZE: u32 = 16256;
/// QRX_TAIL1.TAIL is 13 bits (i40e_register.h QRX_TAIL1_TAIL_MASK 0x1FFF).
const TAIL_MASK: u32 = 0x1FFF;

/// RX queue context, from CONFIG_VSI_QUEUES (`virtchnl_rxq_info`, contract 5.2).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RxQueueCfg {
    /// Ring DMA address.
    pub ring_base: u64,
    /// Descriptor count.
    pub ring_len: u16,
    /// `databuffer_size`; the HW context keeps it in 128-byte units, so the low 7 bits
    /// are dropped here too (contract 5.2).
    pub buf_size: u32,
    /// `max_pkt_size` (rxmax): frames whose on-wire length (tags included, + 4 FCS)
    /// exceeds it are dropped (contract 6.5 recommendation).
    pub max_pkt_size: u32,
}

/// Per-frame knobs from the emulated PF. Build with `..Default::default()` so fields
/// added later do not break callers.
#[derive(Clone, Copy, Debug, Default)]
pub struct RxMeta<'a> {
    /// VSI VLAN stripping (on after reset, contract 5.6): move the outer 802.1Q tag
    /// into `l2tag1` with L2TAG1P.
    pub vlan_strip: bool,
    /// The VF's RSS state; None = no hash (FLTSTAT 0).
    pub rss: Option<&'a RssState>,
    /// Fault injection: write a deliberately bad write-back for this frame.
    pub corrupt: Option<RxCorruption>,
    /// The frame's [`wire::parse`] and its RSS hash under `rss`, when the caller has
    /// already computed them (to pick the queue); None = computed here.
    pub parsed: Option<(&'a wire::Parsed, Option<u32>)>,
}

/// Deliberately bad write-backs, to test driver robustness. The frame's bytes are
/// written to the buffers as usual and every descriptor gets DD; only the EOF
/// descriptor's QW1 differs from a correct write-back, as follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RxCorruption {
    /// RXE (bit 19) set on the EOF descriptor: drivers must drop the frame
    /// (FreeBSD: EBADMSG, counted in desc_errs).
    Rxe,
    /// LENGTH_PBUF of the EOF descriptor = 0x3FFF (16383), larger than any buffer the
    /// PF allows (≤ 16256): a driver must not trust it past its buffer size.
    LengthOverrun,
    /// LENGTH_PBUF of the EOF descriptor = 0.
    ZeroLength,
}

/// Why a frame was not written to the ring.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RxDrop {
    /// The queue is not enabled.
    Disabled,
    /// Stopped by an earlier fatal violation.
    Stopped,
    /// Shorter than an Ethernet header.
    Runt,
    /// On-wire length + FCS > max_pkt_size.
    Oversize,
    /// Would need more than `MAX_RX_SEGS` (5) descriptors.
    TooManyDescriptors,
    /// Not enough posted descriptors between head and tail.
    NoDescriptors,
    /// Bad queue configuration or tail; a violation was reported.
    Violation,
}

/// What [`RxQueue::receive`] did with a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RxOutcome {
    /// Written to `descs` descriptors, `len` bytes (after VLAN stripping).
    Delivered {
        descs: usize,
        len: usize,
    },
    Dropped(RxDrop),
}

/// Cumulative counters of one RX queue.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RxStats {
    pub packets: u64,
    /// Bytes written to buffers (after stripping, no FCS).
    pub bytes: u64,
    pub descs: u64,
    pub unicast: u64,
    pub multicast: u64,
    pub broadcast: u64,
    pub drop_disabled: u64,
    pub drop_runt: u64,
    pub drop_oversize: u64,
    pub drop_too_many_descs: u64,
    pub drop_no_desc: u64,
    pub vlan_stripped: u64,
    pub rss_hashed: u64,
    /// Frames with L3L4P set, and of those with IPE / L4E.
    pub csum_checked: u64,
    pub csum_ipe: u64,
    pub csum_l4e: u64,
    /// Frames given a deliberately bad write-back.
    pub corrupted: u64,
}

impl RxStats {
    /// All drops (GET_STATS rx_discards material).
    pub fn drops(&self) -> u64 {
        self.drop_disabled
            + self.drop_runt
            + self.drop_oversize
            + self.drop_too_many_descs
            + self.drop_no_desc
    }
}

/// One emulated RX queue. Create one per queue pair at VF reset (an unconfigured
/// `RxQueueCfg::default()` latches tails too) and [`reconfigure`](Self::reconfigure) it
/// on CONFIG_VSI_QUEUES.
#[derive(Debug)]
pub struct RxQueue {
    cfg: RxQueueCfg,
    head: u16,
    tail: u32,
    enabled: bool,
    stopped: bool,
    /// The frame as written (after stripping); reused.
    data: Vec<u8>,
    pub stats: RxStats,
}

impl RxQueue {
    pub fn new(cfg: RxQueueCfg) -> Self {
        RxQueue {
            cfg,
            head: 0,
            tail: 0,
            enabled: false,
            stopped: false,
            data: Vec::new(),
            stats: RxStats::default(),
        }
    }

    pub fn cfg(&self) -> &RxQueueCfg {
        &self.cfg
    }

    /// CONFIG_VSI_QUEUES on an existing queue: new context with head 0, stop cleared;
    /// the latched tail and the enabled state are kept (Linux posts RX buffers and writes
    /// the tail before CONFIG_VSI_QUEUES, contract 2.5).
    pub fn reconfigure(&mut self, cfg: RxQueueCfg) {
        self.cfg = cfg;
        self.head = 0;
        self.stopped = false;
    }

    /// Latch a QRX_TAIL1 write (13-bit field), at any time (contract 6.1).
    pub fn set_tail(&mut self, tail: u32) {
        self.tail = tail & TAIL_MASK;
    }

    pub fn tail(&self) -> u32 {
        self.tail
    }

    /// The HW head (next descriptor to use). For tests and logs.
    pub fn head(&self) -> u16 {
        self.head
    }

    /// ENABLE_QUEUES / DISABLE_QUEUES; enabling starts the head at 0.
    pub fn enable(&mut self, on: bool) {
        self.enabled = on;
        self.stopped = false;
        if on {
            self.head = 0;
        }
    }

    pub fn is_enabled(&self) -> bool {
        self.enabled
    }

    pub fn is_stopped(&self) -> bool {
        self.stopped
    }

    /// Posted descriptors the HW owns (head to tail - 1).
    pub fn posted(&self) -> usize {
        let n = usize::from(self.cfg.ring_len);
        if n == 0 || self.tail as usize >= n {
            return 0;
        }
        super::ring_wrap(self.tail as usize + n - usize::from(self.head), n)
    }

    fn buf_size(&self) -> usize {
        (self.cfg.buf_size & !0x7F) as usize
    }

    fn violation(&mut self, ev: &mut DpEvents, v: DpViolation) -> RxOutcome {
        self.stopped = true;
        ev.violations.push(v);
        RxOutcome::Dropped(RxDrop::Violation)
    }

    /// Receive one frame (destination MAC first, no FCS) into the ring: buffers first,
    /// then the write-backs, EOF descriptor last, and within each descriptor the qword
    /// holding DD last (contract 6.1 recommendation).
    pub fn receive(
        &mut self,
        mem: &dyn GuestMemory,
        frame: &[u8],
        meta: &RxMeta<'_>,
        ev: &mut DpEvents,
    ) -> RxOutcome {
        if !self.enabled {
            self.stats.drop_disabled += 1;
            return RxOutcome::Dropped(RxDrop::Disabled);
        }
        if self.stopped {
            return RxOutcome::Dropped(RxDrop::Stopped);
        }
        let n = usize::from(self.cfg.ring_len);
        let bsz = self.buf_size();
        if n == 0 {
            return self.violation(ev, DpViolation::BadConfig("RX ring_len 0"));
        }
        if self.cfg.ring_base & super::tx::RING_ALIGN_MASK != 0 {
            return self.violation(
                ev,
                DpViolation::BadConfig("RX ring base not 128-byte aligned"),
            );
        }
        if bsz == 0 || self.cfg.buf_size > MAX_BUF_SIZE {
            return self.violation(
                ev,
                DpViolation::BadConfig("RX databuffer_size not in 128..=16256"),
            );
        }
        if self.tail as usize >= n {
            return self.violation(
                ev,
                DpViolation::TailOutOfRange {
                    tail: self.tail,
                    ring_len: self.cfg.ring_len,
                },
            );
        }
        if frame.len() < wire::ETH_HLEN {
            self.stats.drop_runt += 1;
            return RxOutcome::Dropped(RxDrop::Runt);
        }
        if frame.len() as u64 + 4 > u64::from(self.cfg.max_pkt_size) {
            self.stats.drop_oversize += 1;
            return RxOutcome::Dropped(RxDrop::Oversize);
        }

        // Parse the frame as it arrived (tags included), then strip.
        let own;
        let (parsed, hash) = match meta.parsed {
            Some((p, h)) => (p, meta.rss.and(h)),
            None => {
                own = wire::parse(frame);
                let h = meta.rss.and_then(|rss| rss_hash_parsed(rss, frame, &own));
                (&own, h)
            }
        };
        let strip = match parsed.outer_tag {
            Some((wire::ETHERTYPE_VLAN, tci)) if meta.vlan_strip => Some(tci),
            _ => None,
        };
        // Only a stripped frame is copied; otherwise the buffers are filled from `frame`.
        if strip.is_some() {
            self.data.clear();
            self.data.extend_from_slice(&frame[..12]);
            self.data.extend_from_slice(&frame[16..]);
        }
        let len = if strip.is_some() {
            self.data.len()
        } else {
            frame.len()
        };
        let need = len.div_ceil(bsz);
        if need > MAX_RX_SEGS {
            self.stats.drop_too_many_descs += 1;
            return RxOutcome::Dropped(RxDrop::TooManyDescriptors);
        }
        if need > self.posted() {
            self.stats.drop_no_desc += 1;
            return RxOutcome::Dropped(RxDrop::NoDescriptors);
        }

        // Fetch the descriptors: one read, two when the range wraps.
        let head = usize::from(self.head);
        let mut descs = [0u8; RX_DESC_LEN * MAX_RX_SEGS];
        let first = need.min(n - head);
        let base = self.cfg.ring_base;
        let desc_addr = |i: usize| base.wrapping_add((i * RX_DESC_LEN) as u64);
        let mut fetch = mem.read(desc_addr(head), &mut descs[..first * RX_DESC_LEN]);
        if fetch.is_ok() && first < need {
            fetch = mem.read(
                desc_addr(0),
                &mut descs[first * RX_DESC_LEN..need * RX_DESC_LEN],
            );
        }
        if let Err(fault) = fetch {
            return self.violation(
                ev,
                DpViolation::DmaFault {
                    what: "RX descriptor fetch",
                    fault,
                },
            );
        }

        // Buffers.
        let data = if strip.is_some() {
            &self.data[..]
        } else {
            frame
        };
        if let Err(fault) = write_buffers(mem, &descs[..need * RX_DESC_LEN], data, bsz) {
            return self.violation(
                ev,
                DpViolation::DmaFault {
                    what: "RX buffer write",
                    fault,
                },
            );
        }

        // Status of the EOF descriptor.
        let cast = wire::cast_of(frame);
        let csum = wire::verify_checksums(frame, parsed);
        let mut status = RXD_DD
            | RXD_EOF
            | ((cast as u64) << RXD_UMBCAST_SHIFT)
            | (u64::from(parsed.ptype) << RXD_PTYPE_SHIFT);
        if strip.is_some() {
            status |= RXD_L2TAG1P;
        }
        if hash.is_some() {
            status |= RXD_FLTSTAT_RSS << RXD_FLTSTAT_SHIFT;
        }
        if parsed.ipv6_ext {
            status |= RXD_IPV6EXADD;
        }
        if csum.l3l4p {
            status |= RXD_L3L4P;
            if csum.ipe {
                status |= RXD_IPE;
            }
            if csum.l4e {
                status |= RXD_L4E;
            }
        }
        let last_len = len - (need - 1) * bsz;
        let mut eof_len = last_len as u64;
        match meta.corrupt {
            Some(RxCorruption::Rxe) => status |= RXD_RXE,
            Some(RxCorruption::LengthOverrun) => eof_len = RXD_LEN_PBUF_MASK,
            Some(RxCorruption::ZeroLength) => eof_len = 0,
            None => {}
        }

        // Write-backs, EOF descriptor last; within each, QW1 (DD) last: the whole
        // descriptor first with QW1 zero (DD still clear, so a driver polling DD sees
        // nothing yet), then QW1 alone. Two accesses per descriptor, not three.
        for i in 0..need {
            let eof = i + 1 == need;
            let mut wb = [0u8; RX_DESC_LEN];
            let qw1 = if eof {
                wb[2..4].copy_from_slice(&strip.unwrap_or(0).to_le_bytes());
                wb[4..8].copy_from_slice(&hash.unwrap_or(0).to_le_bytes());
                status | (eof_len & RXD_LEN_PBUF_MASK) << RXD_LEN_PBUF_SHIFT
            } else {
                RXD_DD
                    | (u64::from(parsed.ptype) << RXD_PTYPE_SHIFT)
                    | (bsz as u64) << RXD_LEN_PBUF_SHIFT
            };
            let addr = desc_addr(super::ring_wrap(head + i, n));
            let r = mem
                .write(addr, &wb)
                .and_then(|()| mem.write(addr.wrapping_add(8), &qw1.to_le_bytes()));
            if let Err(fault) = r {
                return self.violation(
                    ev,
                    DpViolation::DmaFault {
                        what: "RX descriptor write-back",
                        fault,
                    },
                );
            }
        }

        self.head = super::ring_wrap(head + need, n) as u16;
        ev.rx_written = true;
        let s = &mut self.stats;
        s.packets += 1;
        s.bytes += len as u64;
        s.descs += need as u64;
        match cast {
            Cast::Unicast => s.unicast += 1,
            Cast::Multicast => s.multicast += 1,
            Cast::Broadcast => s.broadcast += 1,
        }
        s.vlan_stripped += u64::from(strip.is_some());
        s.rss_hashed += u64::from(hash.is_some());
        s.csum_checked += u64::from(csum.l3l4p);
        s.csum_ipe += u64::from(csum.l3l4p && csum.ipe);
        s.csum_l4e += u64::from(csum.l3l4p && csum.l4e);
        s.corrupted += u64::from(meta.corrupt.is_some());
        RxOutcome::Delivered { descs: need, len }
    }
}

/// Write `data` into the packet buffers of the fetched read-format descriptors `descs`
/// (`pkt_addr` at bytes 0-7 of each), `bsz` bytes per buffer.
fn write_buffers(
    mem: &dyn GuestMemory,
    descs: &[u8],
    data: &[u8],
    bsz: usize,
) -> Result<(), DmaFault> {
    for (chunk, d) in data.chunks(bsz).zip(descs.chunks_exact(RX_DESC_LEN)) {
        let pkt_addr = u64::from_le_bytes([d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]]);
        mem.write(pkt_addr, chunk)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    // Only the public API; bit positions are written out from contract 6.5.
    use super::{RxCorruption, RxDrop, RxMeta, RxOutcome, RxQueue, RxQueueCfg};
    use crate::dp::testutil::*;
    use crate::dp::{DpEvents, DpViolation, RssState};

    struct Rig {
        mem: Mem,
        ring: u64,
        bufs: Vec<u64>,
        q: RxQueue,
        ev: DpEvents,
    }

    const BUF: usize = 2048;

    impl Rig {
        /// A ring of `n` descriptors, `posted` of them posted, buffers of `buf` bytes.
        fn new(n: u16, posted: u16, buf: u32, max_pkt: u32) -> Rig {
            let mem = Mem::new();
            let ring = mem.alloc(usize::from(n) * 32, 128);
            let mut bufs = Vec::new();
            for i in 0..n {
                // Odd offsets: no alignment may be assumed for pkt_addr (contract 6.5).
                let b = mem.alloc(buf as usize + 8, 64) + 2;
                bufs.push(b);
                let mut d = [0u8; 32];
                d[..8].copy_from_slice(&b.to_le_bytes());
                // Stale junk in the upper half; hdr_addr = 0 as drivers write it.
                d[16..].fill(0x5A);
                mem.write(ring + u64::from(i) * 32, &d);
            }
            let cfg = RxQueueCfg {
                ring_base: ring,
                ring_len: n,
                buf_size: buf,
                max_pkt_size: max_pkt,
            };
            let mut q = RxQueue::new(cfg);
            q.set_tail(u32::from(posted));
            q.enable(true);
            Rig {
                mem,
                ring,
                bufs,
                q,
                ev: DpEvents::default(),
            }
        }
        fn rx(&mut self, f: &[u8], meta: &RxMeta<'_>) -> RxOutcome {
            self.q.receive(self.mem.g(), f, meta, &mut self.ev)
        }
        fn qw0(&self, i: usize) -> u64 {
            self.mem.qw(self.ring + i as u64 * 32)
        }
        fn qw1(&self, i: usize) -> u64 {
            self.mem.qw(self.ring + i as u64 * 32 + 8)
        }
        fn data(&self, i: usize, len: usize) -> Vec<u8> {
            self.mem.read(self.bufs[i], len)
        }
    }

    #[test]
    fn writeback_bit_positions_ipv4_udp() {
        let mut r = Rig::new(64, 63, BUF as u32, 1522);
        let f = udp4_frame(18);
        assert_eq!(
            r.rx(&f, &RxMeta::default()),
            RxOutcome::Delivered { descs: 1, len: 60 }
        );
        // DD (0) | EOF (1) | L3L4P (3) = 0xB; PTYPE 24 << 30 = 0x6_0000_0000;
        // LENGTH_PBUF 60 << 38 = 0xF00_0000_0000.
        assert_eq!(r.qw1(0), 0x0000_0F06_0000_000B);
        assert_eq!(r.qw0(0), 0, "no tag, no hash");
        assert_eq!(
            r.mem.read(r.ring + 16, 16),
            vec![0; 16],
            "upper half written as zero"
        );
        assert_eq!(r.data(0, 60), f);
        assert_eq!(r.qw1(1), 0, "next descriptor untouched");
        assert!(r.ev.rx_written);
        assert_eq!(r.q.head(), 1);
    }

    #[test]
    fn jumbo_frame_chains_descriptors() {
        let mut r = Rig::new(64, 63, BUF as u32, 9728);
        let f = tcp4_frame(5000 - 54);
        assert_eq!(
            r.rx(&f, &RxMeta::default()),
            RxOutcome::Delivered {
                descs: 3,
                len: 5000
            }
        );
        // Non-EOF descriptors: DD and LENGTH_PBUF = 2048, no EOF.
        for i in 0..2 {
            let q = r.qw1(i);
            assert_eq!(q & 0x3, 0x1, "DD without EOF on descriptor {i}");
            assert_eq!((q >> 38) & 0x3FFF, 2048);
            assert_eq!(r.data(i, BUF), f[i * BUF..(i + 1) * BUF].to_vec());
        }
        let q = r.qw1(2);
        assert_eq!(q & 0x3, 0x3, "DD|EOF on the last");
        assert_eq!((q >> 38) & 0x3FFF, 5000 - 4096);
        assert_eq!((q >> 30) & 0xFF, 26, "PTYPE IPv4/TCP");
        assert_eq!(q & (1 << 3), 1 << 3, "L3L4P");
        assert_eq!(q & (3 << 22), 0, "no IPE/L4E");
        assert_eq!(r.data(2, 5000 - 4096), f[4096..].to_vec());
        assert_eq!(r.q.head(), 3);
    }

    #[test]
    fn drops_oversize_too_many_descriptors_and_no_descriptors() {
        // max_pkt_size 1518: 1514-byte frame + 4 FCS fits, 1515 does not.
        let mut r = Rig::new(64, 63, BUF as u32, 1518);
        assert!(matches!(
            r.rx(&tcp4_frame(1460), &RxMeta::default()),
            RxOutcome::Delivered { .. }
        ));
        assert_eq!(
            r.rx(&tcp4_frame(1461), &RxMeta::default()),
            RxOutcome::Dropped(RxDrop::Oversize)
        );
        // 128-byte buffers: 640 bytes need 5 (fine), 641 need 6.
        let mut r = Rig::new(64, 63, 128, 9728);
        assert_eq!(
            r.rx(&tcp4_frame(640 - 54), &RxMeta::default()),
            RxOutcome::Delivered { descs: 5, len: 640 }
        );
        let out = r.rx(&tcp4_frame(641 - 54), &RxMeta::default());
        assert_eq!(out, RxOutcome::Dropped(RxDrop::TooManyDescriptors));
        // Two descriptors posted, a frame needing three.
        let mut r = Rig::new(64, 2, BUF as u32, 9728);
        assert_eq!(
            r.rx(&tcp4_frame(4500), &RxMeta::default()),
            RxOutcome::Dropped(RxDrop::NoDescriptors)
        );
        assert_eq!(r.qw1(0), 0, "nothing written on a drop");
        assert!(!r.ev.rx_written);
        // tail = head: nothing posted.
        let mut r = Rig::new(64, 0, BUF as u32, 9728);
        assert_eq!(
            r.rx(&udp4_frame(10), &RxMeta::default()),
            RxOutcome::Dropped(RxDrop::NoDescriptors)
        );
        assert_eq!(r.q.stats.drop_no_desc, 1);
        // Disabled queue.
        r.q.enable(false);
        assert_eq!(
            r.rx(&udp4_frame(10), &RxMeta::default()),
            RxOutcome::Dropped(RxDrop::Disabled)
        );
        assert_eq!(r.q.stats.drops(), 2);
    }

    fn tagged(f: &[u8], tci: u16) -> Vec<u8> {
        let mut t = f[..12].to_vec();
        t.extend_from_slice(&[0x81, 0x00]);
        t.extend_from_slice(&tci.to_be_bytes());
        t.extend_from_slice(&f[12..]);
        t
    }

    #[test]
    fn vlan_stripping_on_and_off() {
        let f = udp4_frame(30);
        let t = tagged(&f, 0xA00C);
        let mut r = Rig::new(64, 63, BUF as u32, 1522);
        let meta = RxMeta {
            vlan_strip: true,
            ..Default::default()
        };
        assert_eq!(
            r.rx(&t, &meta),
            RxOutcome::Delivered {
                descs: 1,
                len: f.len()
            }
        );
        let q = r.qw1(0);
        assert_eq!(q & (1 << 2), 1 << 2, "L2TAG1P");
        assert_eq!((q >> 30) & 0xFF, 24);
        assert_eq!(
            r.mem.read(r.ring + 2, 2),
            vec![0x0C, 0xA0],
            "l2tag1 little-endian at bytes 2-3"
        );
        assert_eq!(r.data(0, f.len()), f);
        // Stripping off: the tag stays in the data.
        let meta = RxMeta {
            vlan_strip: false,
            ..Default::default()
        };
        assert_eq!(
            r.rx(&t, &meta),
            RxOutcome::Delivered {
                descs: 1,
                len: t.len()
            }
        );
        let q = r.qw1(1);
        assert_eq!(q & (1 << 2), 0);
        assert_eq!((q >> 30) & 0xFF, 24, "PTYPE parsed through the tag");
        assert_eq!(r.qw0(1), 0);
        assert_eq!(r.data(1, t.len()), t);
    }

    #[test]
    fn rss_hash_and_fltstat() {
        // The first Microsoft verification vector as a TCP frame (see rss.rs).
        let mut f = eth(MAC_B, MAC_A, 0x0800);
        let mut ip = ipv4(6, 40, 0, 0);
        ip[12..16].copy_from_slice(&[66, 9, 149, 187]);
        ip[16..20].copy_from_slice(&[161, 142, 100, 80]);
        f.extend(ip);
        f.extend(tcp(2794, 1766, 0, 0x02));
        fix_sums(&mut f, 14, false);
        let mut rss = RssState::default();
        rss.key[..40].copy_from_slice(&[
            0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
            0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
            0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
        ]);
        let mut r = Rig::new(64, 63, BUF as u32, 1522);
        let meta = RxMeta {
            rss: Some(&rss),
            ..Default::default()
        };
        r.rx(&f, &meta);
        assert_eq!((r.qw1(0) >> 12) & 3, 3, "FLTSTAT = RSS hash");
        assert_eq!(
            r.mem.read(r.ring + 4, 4),
            0x51cc_c178u32.to_le_bytes().to_vec()
        );
        // HENA without IPV4_TCP: no hash.
        rss.hena = 1 << 31;
        let meta = RxMeta {
            rss: Some(&rss),
            ..Default::default()
        };
        r.rx(&f, &meta);
        assert_eq!((r.qw1(1) >> 12) & 3, 0);
        assert_eq!(r.qw0(1), 0);
    }

    /// The emulated PF parses and hashes once (to pick the queue) and hands both in
    /// `RxMeta::parsed`: the write-back must be the one the engine computes itself, and
    /// a hash handed in without `rss` must not be reported.
    #[test]
    fn caller_parse_and_hash_give_the_same_write_back() {
        let mut f = eth(MAC_B, MAC_A, 0x0800);
        f.extend(ipv4(6, 40, 0, 0));
        f.extend(tcp(2794, 1766, 0, 0x02));
        fix_sums(&mut f, 14, false);
        let mut rss = RssState::default();
        rss.key
            .iter_mut()
            .enumerate()
            .for_each(|(i, k)| *k = i as u8 | 1);
        let mut r = Rig::new(64, 63, BUF as u32, 1522);
        let own = RxMeta {
            rss: Some(&rss),
            ..Default::default()
        };
        r.rx(&f, &own);
        let p = crate::dp::wire::parse(&f);
        let h = crate::dp::rss_hash_parsed(&rss, &f, &p);
        assert!(h.is_some());
        let given = RxMeta {
            rss: Some(&rss),
            parsed: Some((&p, h)),
            ..Default::default()
        };
        r.rx(&f, &given);
        assert_eq!(r.qw0(0), r.qw0(1));
        assert_eq!(r.qw1(0), r.qw1(1));
        assert_eq!((r.qw1(1) >> 12) & 3, 3, "FLTSTAT = RSS hash");
        let no_rss = RxMeta {
            parsed: Some((&p, h)),
            ..Default::default()
        };
        r.rx(&f, &no_rss);
        assert_eq!((r.qw1(2) >> 12) & 3, 0, "no RSS state: no hash");
        assert_eq!(r.qw0(2) >> 32, 0);
    }

    #[test]
    fn checksum_errors_and_cast_bits() {
        let mut r = Rig::new(64, 63, BUF as u32, 1522);
        let good = tcp4_frame(20);
        let mut bad_ip = good.clone();
        bad_ip[24] ^= 0xFF;
        let mut bad_tcp = good.clone();
        bad_tcp[60] ^= 0xFF;
        let mut bcast = udp4_frame(20);
        bcast[..6].fill(0xFF);
        fix_sums(&mut bcast, 14, false);
        let mut mcast = udp4_frame(20);
        mcast[..6].copy_from_slice(&[0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb]);
        let mut icmp = eth(MAC_B, MAC_A, 0x0800);
        icmp.extend(ipv4(1, 28, 1, 0));
        icmp.extend_from_slice(&[8, 0, 0xf7, 0xff, 0, 0, 0, 0]);
        fix_sums(&mut icmp, 14, false);
        for f in [&good, &bad_ip, &bad_tcp, &bcast, &mcast, &icmp] {
            assert!(matches!(
                r.rx(f, &RxMeta::default()),
                RxOutcome::Delivered { .. }
            ));
        }
        let ipe = 1u64 << 22;
        let l4e = 1u64 << 23;
        let l3l4p = 1u64 << 3;
        assert_eq!(r.qw1(0) & (ipe | l4e | l3l4p), l3l4p);
        assert_eq!(r.qw1(1) & (ipe | l4e | l3l4p), l3l4p | ipe);
        assert_eq!(r.qw1(2) & (ipe | l4e | l3l4p), l3l4p | l4e);
        assert_eq!((r.qw1(3) >> 9) & 3, 2, "UMBCAST broadcast");
        assert_eq!((r.qw1(4) >> 9) & 3, 1, "UMBCAST multicast");
        assert_eq!((r.qw1(0) >> 9) & 3, 0, "UMBCAST unicast");
        assert_eq!(r.qw1(5) & l3l4p, 0, "ICMP: no L3L4P");
        assert_eq!((r.qw1(5) >> 30) & 0xFF, 28);
        assert_eq!(
            (r.q.stats.csum_ipe, r.q.stats.csum_l4e, r.q.stats.broadcast),
            (1, 1, 1)
        );
    }

    #[test]
    fn corrupt_writebacks_are_exactly_as_documented() {
        let f = udp4_frame(18);
        let mut r = Rig::new(64, 63, BUF as u32, 1522);
        r.rx(
            &f,
            &RxMeta {
                corrupt: Some(RxCorruption::Rxe),
                ..Default::default()
            },
        );
        assert_eq!(r.qw1(0), 0x0000_0F06_0000_000B | 1 << 19);
        r.rx(
            &f,
            &RxMeta {
                corrupt: Some(RxCorruption::LengthOverrun),
                ..Default::default()
            },
        );
        assert_eq!((r.qw1(1) >> 38) & 0x3FFF, 0x3FFF);
        assert_eq!(r.qw1(1) & 0x3, 0x3);
        r.rx(
            &f,
            &RxMeta {
                corrupt: Some(RxCorruption::ZeroLength),
                ..Default::default()
            },
        );
        assert_eq!((r.qw1(2) >> 38) & 0x3FFF, 0);
        assert_eq!(r.data(2, 60), f, "data still written");
        assert_eq!(r.q.stats.corrupted, 3);
    }

    #[test]
    fn ring_wraps_and_buffer_size_drops_low_bits() {
        // buf_size 2100 acts as 2048 (128-byte units, contract 5.2).
        let mut r = Rig::new(32, 0, 2100, 9728);
        r.q.set_tail(31);
        for _ in 0..30 {
            assert!(matches!(
                r.rx(&udp4_frame(10), &RxMeta::default()),
                RxOutcome::Delivered { .. }
            ));
        }
        assert_eq!(r.q.head(), 30);
        r.q.set_tail(2); // descriptors 31, 0, 1 posted after 30
        let f = tcp4_frame(4000);
        assert_eq!(
            r.rx(&f, &RxMeta::default()),
            RxOutcome::Delivered {
                descs: 2,
                len: 4054
            }
        );
        assert_eq!((r.qw1(30) >> 38) & 0x3FFF, 2048);
        assert_eq!(r.qw1(31) & 3, 3);
        assert_eq!(r.data(31, 4054 - 2048), f[2048..].to_vec());
        assert_eq!(r.q.head(), 0);
    }

    #[test]
    fn random_frames_and_descriptors_never_panic() {
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        let mut rnd = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut rss = RssState::default();
        rss.lut.fill(0xFF);
        for round in 0..300 {
            let mut r = Rig::new(
                32,
                (rnd() % 32) as u16,
                128 + (rnd() % 4) as u32 * 700,
                9728,
            );
            if round % 3 == 0 {
                // Garbage pkt_addr in a few descriptors.
                r.mem
                    .write(r.ring + (rnd() % 32) * 32, &rnd().to_le_bytes());
            }
            let len = (rnd() % 1600) as usize;
            let mut f: Vec<u8> = (0..len).map(|_| rnd() as u8).collect();
            if len > 20 && rnd() & 1 == 0 {
                let et: u16 = [0x0800, 0x86DD, 0x8100, 0x88A8][(rnd() % 4) as usize];
                f[12..14].copy_from_slice(&et.to_be_bytes());
                f[14] = if et == 0x0800 { 0x45 } else { 0x60 };
            }
            let meta = RxMeta {
                vlan_strip: rnd() & 1 == 0,
                rss: Some(&rss),
                corrupt: None,
                parsed: None,
            };
            let _ = r.rx(&f, &meta);
        }
    }

    #[test]
    fn tail_written_before_configuration_survives_reconfigure() {
        // Linux order: post buffers, write the tail, then CONFIG_VSI_QUEUES, ENABLE.
        let r0 = Rig::new(64, 0, BUF as u32, 1522);
        let mut q = RxQueue::new(RxQueueCfg::default());
        q.set_tail(63);
        q.reconfigure(*r0.q.cfg());
        q.enable(true);
        let mut ev = DpEvents::default();
        let out = q.receive(r0.mem.g(), &udp4_frame(10), &RxMeta::default(), &mut ev);
        assert_eq!(out, RxOutcome::Delivered { descs: 1, len: 52 });
        assert_eq!(q.posted(), 62);
    }

    #[test]
    fn dma_fault_and_bad_tail_are_violations() {
        let mut r = Rig::new(64, 63, BUF as u32, 1522);
        r.mem.write(r.ring, &0x10u64.to_le_bytes()); // unmapped pkt_addr
        assert_eq!(
            r.rx(&udp4_frame(10), &RxMeta::default()),
            RxOutcome::Dropped(RxDrop::Violation)
        );
        assert!(matches!(
            r.ev.violations[..],
            [DpViolation::DmaFault {
                what: "RX buffer write",
                ..
            }]
        ));
        assert!(r.q.is_stopped());
        assert_eq!(
            r.rx(&udp4_frame(10), &RxMeta::default()),
            RxOutcome::Dropped(RxDrop::Stopped)
        );
        let mut r = Rig::new(64, 63, 2100, 1522);
        let cfg = RxQueueCfg {
            ring_base: r.ring + 32,
            ..*r.q.cfg()
        };
        r.q = RxQueue::new(cfg);
        r.q.enable(true);
        r.q.set_tail(5);
        assert_eq!(
            r.rx(&udp4_frame(10), &RxMeta::default()),
            RxOutcome::Dropped(RxDrop::Violation)
        );
        assert!(matches!(r.ev.violations[..], [DpViolation::BadConfig(_)]));
        let mut r = Rig::new(64, 63, BUF as u32, 1522);
        r.q.set_tail(100);
        assert_eq!(
            r.rx(&udp4_frame(10), &RxMeta::default()),
            RxOutcome::Dropped(RxDrop::Violation)
        );
        assert_eq!(
            r.ev.violations,
            vec![DpViolation::TailOutOfRange {
                tail: 100,
                ring_len: 64
            }]
        );
    }
}
