//! Receive ring: iflib's `rxd_available`, `rxd_pkt_get`, `rxd_refill` and `rxd_flush`.
//!
//! iflib owns the buffers; the ring only holds their bus addresses (read format) until
//! the hardware writes a frame back (32-byte write-back format, hw-contract 6.5). A
//! frame spans one or more descriptors, each with DD; the last has EOF, and only the
//! EOF descriptor's status, errors, PTYPE, RSS hash and VLAN tag are meaningful.
//!
//! # Errors and iflib
//! FreeBSD 14's `iflib_rxeof` treats **any** non-zero return from `rxd_pkt_get` the same
//! way: it does not advance its consumer index, sets `IFC_DO_RESET` and schedules the
//! admin task, which stops and reinitialises the interface (`iflib_stop` zeroes every
//! descriptor ring, `IFDI_INIT` reprograms the queues, the free lists are refilled).
//! FreeBSD iavf returns `EBADMSG` for a frame with RXE and so resets on it; this code
//! does the same for every untrusted-value violation (RXE, OVERSIZE, a buffer length
//! above the buffer size, a zero or over-64 KiB frame, more than 5 descriptors, a
//! descriptor without DD). There is no cheaper way to drop a frame through iflib: a
//! "successful" frame whose fragments all have length 0 is recycled by
//! `assemble_segments`, but it leaks the mbuf header and trips `MPASS(iri_len != 0)`.
//!
//! On such an error the descriptors already read are cleared (so a stale DD can never
//! be taken for a new frame), the descriptor without DD is not touched (the hardware may
//! still own it), nothing past the frame is read, and `desc_err` counts it.

use super::csum::*;
use super::desc::*;
use super::{errno, qrx_tail1, ring_size_ok, QueueCounters, RingError, MAX_QUEUES};
use crate::os::{Bar0, DmaRegion};

/// One buffer of a received frame; the same layout as iflib's `struct if_rxd_frag`
/// (`uint8_t irf_flid; qidx_t irf_idx; uint16_t irf_len;`, 6 bytes, align 2), so `ffi/`
/// can hand iflib's `iri_frags` array over as `&mut [RxFrag]`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RxFrag {
    /// Free list id (iavf has one: always 0).
    pub flid: u8,
    /// Ring slot, which is also the free-list slot.
    pub idx: u16,
    /// Bytes in this buffer (LENGTH_PBUF).
    pub len: u16,
}

static_assertions::assert_eq_size!(RxFrag, [u8; 6]);
static_assertions::const_assert_eq!(core::mem::align_of::<RxFrag>(), 2);

/// One frame to collect: the fields of iflib's `struct if_rxd_info`. iflib fills
/// `qsidx`, `cidx` and `frags`; the ring fills the rest (all of it, on success).
#[derive(Debug)]
pub struct RxPkt<'a> {
    /// `iri_cidx`: first descriptor of the frame.
    pub cidx: u16,
    /// `iri_frags`: at least [`RX_MAX_FRAGS`] (5) entries.
    pub frags: &'a mut [RxFrag],
    /// `iri_nfrags` (output).
    pub nfrags: u8,
    /// `iri_len` (output): frame length (FCS stripped).
    pub len: u16,
    /// `iri_vtag` (output): stripped VLAN TCI when `flags & M_VLANTAG`.
    pub vtag: u16,
    /// `iri_flags` (output): `M_VLANTAG` or 0.
    pub flags: u8,
    /// `iri_flowid` (output): RSS hash (0 when the hardware did not hash the frame).
    pub flowid: u32,
    /// `iri_rsstype` (output): `M_HASHTYPE_*`.
    pub rsstype: u8,
    /// `iri_csum_flags` (output): `CSUM_L3_CALC | CSUM_L3_VALID | CSUM_L4_CALC | CSUM_L4_VALID`.
    pub csum_flags: u32,
    /// `iri_csum_data` (output): 0xffff when L4 is valid.
    pub csum_data: u32,
    /// `iri_qsidx`: RX queue (selects the ring; not used by the ring itself).
    pub qsidx: u16,
}

/// Why a frame was refused (each counted in `desc_err`; iflib resets the interface).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RxError {
    /// A descriptor of the frame does not have DD (iflib called us past what
    /// `available` reported, or the device rewrote the descriptor).
    NotDone,
    /// No EOF within 5 descriptors.
    TooManyFrags,
    /// LENGTH_PBUF above the buffer size, or a frame of 0 or more than 65535 bytes.
    BadLength,
    /// The EOF descriptor has RXE (MAC error) or OVERSIZE.
    FrameError,
    /// `frags` has fewer than 5 entries (a caller bug; nothing was read).
    NoFragSpace,
}

impl RxError {
    /// The errno FreeBSD iavf returns (`EBADMSG`); iflib only tests for non-zero.
    pub fn errno(self) -> i32 {
        errno::EBADMSG
    }
}

/// Default buffer size until [`RxRing::set_buf_size`] is called: the smallest cluster
/// iflib uses (`MCLBYTES` = 2048), so an unconfigured ring refuses rather than accepts
/// lengths that might not fit.
pub const RX_DEFAULT_BUF: u16 = 2048;

/// One RX queue.
pub struct RxRing<D: DmaRegion> {
    ring: D,
    /// `nrxd - 1`.
    mask: u16,
    qid: u16,
    buf_size: u16,
    /// [`RX_PT_MASK_CSUM_ON`] with RXCSUM on, [`RX_PT_MASK_CSUM_OFF`] with it off
    /// (masks the [`RX_PT`] entry: class and flags 0, no verdict; the hash type kept).
    pt_mask: u64,
    pub counters: QueueCounters,
}

impl<D: DmaRegion> RxRing<D> {
    /// A ring of `nrxd` 32-byte descriptors in `ring`.
    pub fn new(ring: D, nrxd: u16, qid: u16) -> Result<Self, RingError> {
        if !ring_size_ok(nrxd) {
            return Err(RingError::BadSize);
        }
        if qid >= MAX_QUEUES {
            return Err(RingError::BadQueue);
        }
        if ring.len() < usize::from(nrxd) * RX_DESC_SIZE {
            return Err(RingError::RegionTooSmall);
        }
        Ok(RxRing {
            ring,
            mask: nrxd - 1,
            qid,
            buf_size: RX_DEFAULT_BUF,
            pt_mask: RX_PT_MASK_CSUM_ON,
            counters: QueueCounters::default(),
        })
    }

    /// Zero every descriptor (DD = 0 everywhere). iflib then refills and flushes.
    pub fn init(&mut self) {
        self.ring
            .zero(0, (usize::from(self.mask) + 1) * RX_DESC_SIZE);
    }

    /// The receive buffer size (`iflib_get_rx_mbuf_sz`, the `databuffer_size` told to
    /// the PF): a descriptor claiming more bytes than this is refused. Values above the
    /// 14-bit LENGTH_PBUF field are clamped to it.
    pub fn set_buf_size(&mut self, size: u16) {
        self.buf_size = size.min(RXD_PBUF_MASK as u16);
    }

    /// Report checksum verdicts (`IFCAP_RXCSUM`/`IFCAP_RXCSUM_IPV6` enabled); on by default.
    pub fn set_rx_csum(&mut self, on: bool) {
        self.pt_mask = if on {
            RX_PT_MASK_CSUM_ON
        } else {
            RX_PT_MASK_CSUM_OFF
        };
    }

    /// Number of descriptors.
    pub fn nrxd(&self) -> u16 {
        self.mask.wrapping_add(1)
    }
    /// VF-relative queue index.
    pub fn qid(&self) -> u16 {
        self.qid
    }
    /// Buffer size in force.
    pub fn buf_size(&self) -> u16 {
        self.buf_size
    }
    /// Bus address of the ring (`virtchnl_rxq_info.dma_ring_addr`).
    pub fn ring_paddr(&self) -> u64 {
        self.ring.paddr()
    }
    /// The DMA region.
    pub fn region(&self) -> &D {
        &self.ring
    }

    /// iflib `rxd_available`: complete frames (EOF seen) ready from `idx`, at most
    /// `budget`. Walks while DD is set and never more than `nrxd - 1` descriptors (iflib
    /// keeps one slot empty, so a longer run of DD is device garbage; FreeBSD's loop
    /// bounds the frame count instead and would spin on a ring of DD without EOF).
    /// Unlike FreeBSD (which can answer `budget + 1`) the answer never exceeds `budget`.
    #[inline]
    pub fn available(&self, idx: u16, budget: u16) -> u16 {
        if budget == 0 {
            return 0;
        }
        // Walk by masked index, stopping before the slot `mask` steps ahead (the one
        // just behind `idx`), so at most `nrxd - 1` descriptors are read. (Indexes, not
        // byte offsets: from `i << 5` the compiler sees the offset is aligned.)
        let mask = self.mask;
        let mut i = idx & mask;
        let stop = idx.wrapping_add(mask) & mask;
        let mut pkts: u16 = 0;
        loop {
            let q1 = self.rd_qw1(i);
            if q1 & RXD_DD == 0 {
                break;
            }
            pkts += ((q1 & RXD_EOF) >> 1) as u16;
            if pkts >= budget {
                break;
            }
            i = i.wrapping_add(1) & mask;
            if i == stop {
                break;
            }
        }
        pkts
    }

    /// QW1 (status) of descriptor `i` (a masked index); 0 (no DD) if it were outside
    /// the region, which `new` rules out. This compare is the only bounds check left
    /// once the region's accessor is inlined: it implies the accessor's own, which then
    /// folds away together with its out-of-line fallback, so a loop over descriptors
    /// keeps its pointers in registers instead of spilling them around that call.
    #[inline(always)]
    fn rd_qw1(&self, i: u16) -> u64 {
        let off = (usize::from(i) << 5) + RXD_QW1;
        if off + 8 <= self.ring.len() {
            self.ring.rd_u64(off)
        } else {
            0
        }
    }

    /// Write `pkt_addr` (QW0) of descriptor `i` (a masked index); see [`Self::rd_qw1`].
    #[inline(always)]
    fn wr_qw0(&self, i: u16, pa: u64) {
        let off = usize::from(i) << 5;
        if off + 8 <= self.ring.len() {
            self.ring.wr_u64(off, pa);
        }
    }

    /// iflib `rxd_pkt_get`: collect the frame starting at `ri.cidx` (see the module
    /// comment for errors). Clears each descriptor's status qword as it goes.
    ///
    /// The usual frame — one descriptor with DD and EOF, no RXE/OVERSIZE, a length of
    /// 1..=buf_size — is taken inline with one status read and no loop; anything else
    /// (chains, errors, a short `frags`) goes to the general walk, which re-reads the
    /// descriptor (nothing was written before the branch).
    #[inline]
    pub fn pkt_get(&mut self, ri: &mut RxPkt<'_>) -> Result<(), RxError> {
        let cidx = ri.cidx & self.mask;
        let off = usize::from(cidx) << 5;
        // Both qwords in one bounds check, the status (QW1) first: QW0 (RSS hash, VLAN
        // tag) is used only when QW1 shows DD, and is then at least as new.
        let [q0, q1] = self.ring.rd_u64x2(off);
        let plen = (q1 >> RXD_PBUF_SHIFT) & RXD_PBUF_MASK;
        if q1 & (RXD_DD | RXD_EOF | RXD_RXE | RXD_OVERSIZE) == RXD_DD | RXD_EOF
            && plen.wrapping_sub(1) < u64::from(self.buf_size)
            && ri.frags.len() >= RX_MAX_FRAGS
        {
            if let Some(f) = ri.frags.first_mut() {
                self.ring.wr_u64(off + RXD_QW1, 0);
                *f = RxFrag {
                    flid: 0,
                    idx: cidx,
                    len: plen as u16,
                };
                self.finish(ri, q0, q1, 1, plen as u32);
                return Ok(());
            }
        }
        // The general walk fills a copy, made here in the branch, so that `ri` never
        // has its address taken on the fast path (inlined into ffi it then lives in
        // registers and is written straight into iflib's `if_rxd_info`).
        let mut p = RxPkt {
            cidx: ri.cidx,
            frags: &mut *ri.frags,
            nfrags: 0,
            len: 0,
            vtag: 0,
            flags: 0,
            flowid: 0,
            rsstype: 0,
            csum_flags: 0,
            csum_data: 0,
            qsidx: ri.qsidx,
        };
        let r = self.pkt_get_general(&mut p);
        if r.is_ok() {
            let (nfrags, len, vtag, flags) = (p.nfrags, p.len, p.vtag, p.flags);
            let (flowid, rsstype, csum_flags, csum_data) =
                (p.flowid, p.rsstype, p.csum_flags, p.csum_data);
            ri.nfrags = nfrags;
            ri.len = len;
            ri.vtag = vtag;
            ri.flags = flags;
            ri.flowid = flowid;
            ri.rsstype = rsstype;
            ri.csum_flags = csum_flags;
            ri.csum_data = csum_data;
        }
        r
    }

    /// The general frame walk: up to 5 descriptors, every check.
    #[inline(never)]
    fn pkt_get_general(&mut self, ri: &mut RxPkt<'_>) -> Result<(), RxError> {
        let frags: &mut [RxFrag; RX_MAX_FRAGS] = match ri
            .frags
            .get_mut(..RX_MAX_FRAGS)
            .and_then(|s| s.try_into().ok())
        {
            Some(f) => f,
            None => return Err(self.bad(RxError::NoFragSpace)),
        };
        let mask = self.mask;
        let buf = u64::from(self.buf_size);
        let mut cidx = ri.cidx & mask;
        let mut total: u32 = 0;
        let mut eof = None;
        for (n, frag) in frags.iter_mut().enumerate() {
            let off = usize::from(cidx) << 5;
            let q1 = self.ring.rd_u64(off + RXD_QW1);
            if q1 & RXD_DD == 0 {
                return Err(self.bad(RxError::NotDone));
            }
            self.ring.wr_u64(off + RXD_QW1, 0);
            let plen = (q1 >> RXD_PBUF_SHIFT) & RXD_PBUF_MASK;
            if plen > buf {
                return Err(self.bad(RxError::BadLength));
            }
            *frag = RxFrag {
                flid: 0,
                idx: cidx,
                len: plen as u16,
            };
            total += plen as u32;
            if q1 & RXD_EOF != 0 {
                eof = Some((n, q1, off));
                break;
            }
            cidx = cidx.wrapping_add(1) & mask;
        }
        let (n, q1, off) = match eof {
            Some(e) => e,
            None => return Err(self.bad(RxError::TooManyFrags)),
        };
        if q1 & (RXD_RXE | RXD_OVERSIZE) != 0 {
            return Err(self.bad(RxError::FrameError));
        }
        if total == 0 || total > u32::from(u16::MAX) {
            return Err(self.bad(RxError::BadLength));
        }
        let q0 = self.ring.rd_u64(off);
        self.finish(ri, q0, q1, n as u8 + 1, total);
        Ok(())
    }

    /// Fill the frame's metadata from its EOF descriptor (QW0 `q0`, status `q1`; `q0`
    /// read after `q1` showed DD).
    #[inline(always)]
    fn finish(&mut self, ri: &mut RxPkt<'_>, q0: u64, q1: u64, nfrags: u8, total: u32) {
        ri.nfrags = nfrags;
        ri.len = total as u16;
        if q1 & RXD_L2TAG1P != 0 {
            ri.vtag = (q0 >> 16) as u16;
            ri.flags = M_VLANTAG;
        } else {
            ri.vtag = 0;
            ri.flags = 0;
        }
        // One load gives the clean-status verdict, csum_data, hash type and class; with
        // RXCSUM off the mask leaves the hash type only: no verdict, without a branch.
        let pt = RX_PT[(q1 >> RXD_PTYPE_SHIFT) as u8 as usize] & self.pt_mask;
        if (q1 >> RXD_FLTSTAT_SHIFT) & RXD_FLTSTAT_MASK == RXD_FLTSTAT_RSS {
            ri.flowid = (q0 >> 32) as u32;
            ri.rsstype = (pt >> 48) as u8;
        } else {
            ri.flowid = 0;
            ri.rsstype = M_HASHTYPE_OPAQUE;
        }
        if q1 & RXD_CSUM_BITS == RXD_L3L4P {
            // Checked and clean: the table entry is the verdict (rx_csum_flags' first
            // case; the unit test rx_pt_table_matches_ptypes_and_verdict ties them).
            ri.csum_flags = pt as u32;
            ri.csum_data = u32::from((pt >> 32) as u16);
        } else {
            let (f, bad) = rx_csum_flags(q1, (pt >> 56) as u8);
            ri.csum_flags = f;
            ri.csum_data = if f & CSUM_L4_VALID != 0 { 0xffff } else { 0 };
            if bad {
                self.counters.csum_err = self.counters.csum_err.wrapping_add(1);
            }
        }
        let c = &mut self.counters;
        c.packets = c.packets.wrapping_add(1);
        c.bytes = c.bytes.wrapping_add(u64::from(total));
    }

    #[cold]
    fn bad(&mut self, e: RxError) -> RxError {
        self.counters.desc_err = self.counters.desc_err.wrapping_add(1);
        e
    }

    /// iflib `rxd_refill`: post `count` buffers, `paddrs[k]` at slot `pidx + k`
    /// (wrapping); `count` is clamped to `paddrs.len()`. Only `pkt_addr` is written, as
    /// FreeBSD does: `hdr_addr`/status is already 0 in every slot iflib can refill
    /// (`init` zeroes the ring, `pkt_get` clears each descriptor it hands over, and after
    /// a refused frame iflib reinitialises the interface, which runs `init`), so DD reads
    /// 0 until the hardware writes the slot back.
    #[inline]
    pub fn refill(&mut self, pidx: u16, paddrs: &[u64], count: u16) {
        let mask = self.mask;
        let n = usize::from(count).min(paddrs.len());
        let mut i = pidx & mask;
        for &pa in paddrs.get(..n).unwrap_or_default() {
            self.wr_qw0(i, pa);
            i = i.wrapping_add(1) & mask;
        }
    }

    /// iflib `rxd_flush`: `QRX_TAIL1(q) = pidx`, the slot iflib will fill next.
    #[inline]
    pub fn flush<B: Bar0>(&self, bar: &B, pidx: u16) {
        bar.wr32(qrx_tail1(self.qid), u32::from(pidx & self.mask));
    }
}

#[cfg(test)]
mod tests;
