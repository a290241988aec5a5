//! Transmit ring: iflib's `txd_encap`, `txd_flush` and `txd_credits_update`.
//!
//! Ownership (hw-contract 6.1): the driver fills descriptors from iflib's `pidx`, then
//! `flush` writes `QTX_TAIL1(q) = pidx`; the hardware owns `[head, tail)`. Completion is
//! reported either by DESC_DONE (DTYPE = 0xF) written into descriptors that had RS set
//! ("descriptor write-back", the default), or by a 32-bit head index DMA'd right after
//! the ring ("head write-back", hw-contract 6.4).
//!
//! Differences from FreeBSD `iavf_isc_txd_encap` (all deliberate):
//! * RS is set only on packets iflib marked `IPI_TX_INTR` (as em(4)/igb do), not on every
//!   EOP: iflib only ever asks about those, and every RS costs a write-back.
//! * Segments longer than 16383 bytes are split over several descriptors instead of
//!   overflowing BUF_SZ (iavf advertises 16383-byte DMA segments, so with a correct
//!   `isc_tx_maxsegsize` this never happens).
//! * The TSO window check (MDD MAX_BUFF) counts descriptors exactly, after splitting,
//!   header descriptors included, instead of FreeBSD's 6-descriptor approximation.
//! * Malformed requests that FreeBSD only `MPASS`es or trusts (TSO without headers or
//!   payload, a non-TSO frame above 9728 bytes, segments that do not add up to
//!   `ipi_len`, header lengths the MACLEN/IPLEN/L4LEN fields cannot carry exactly, a
//!   TSO flag that contradicts the EtherType) are refused with `EINVAL`, since each
//!   would make the hardware raise an MDD event (the PF then resets the VF) or checksum
//!   the wrong bytes.
//! * Head write-back values are bounded: a head outside the ring, or beyond what the
//!   driver flushed, is counted in `desc_err` and yields no credits.
//! * Descriptor write-back credits check the newest RS slot first: completion is in
//!   order, so when it is done the whole batch is credited with one descriptor read
//!   (FreeBSD reads every RS slot). A partly completed batch falls back to the walk.
//!
//! What the device sees (for the emulator): ICRC on every data descriptor (as FreeBSD
//! and Linux); EOP on the last; RS on the last only for `IPI_TX_INTR` packets; L2TAG1 is
//! 0 unless IL2TAG1 is set; a TSO context descriptor has QW0 = 0 and sits in the slot
//! before the packet's data descriptors; no descriptor has BUF_SZ 0.

use super::csum::*;
use super::desc::*;
use super::{errno, qtx_tail1, ring_size_ok, QueueCounters, RingError, MAX_QUEUES, MAX_RING};
use crate::os::{Bar0, DmaRegion};

/// One DMA segment of a packet; the same layout as FreeBSD's `bus_dma_segment_t`
/// (`bus_addr_t ds_addr; bus_size_t ds_len;`, 16 bytes on amd64) so `ffi/` can borrow
/// iflib's `ipi_segs` array as `&[Seg]`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Seg {
    pub addr: u64,
    pub len: u64,
}

static_assertions::assert_eq_size!(Seg, [u64; 2]);

/// One packet to encapsulate: the fields of iflib's `struct if_pkt_info` that a driver
/// reads (inputs) or writes (`new_pidx`, `ndescs`, `tso_segsz` when raised).
#[derive(Debug, Default)]
pub struct TxPkt<'a> {
    /// `ipi_segs[0..ipi_nsegs]`.
    pub segs: &'a [Seg],
    /// `ipi_len`: total frame length.
    pub len: u32,
    /// `ipi_qsidx`: TX queue (selects the ring; not used by the ring itself).
    pub qsidx: u16,
    /// `ipi_nsegs` (informational; `segs.len()` is authoritative).
    pub nsegs: u16,
    /// `ipi_flags`: `IPI_TX_INTR | IPI_TX_IPV4 | IPI_TX_IPV6`.
    pub flags: u16,
    /// `ipi_pidx`: first free descriptor.
    pub pidx: u16,
    /// `ipi_new_pidx` (output): the descriptor after the last one used.
    pub new_pidx: u16,
    pub ehdrlen: u8,
    pub ip_hlen: u8,
    pub tcp_hlen: u8,
    pub ipproto: u8,
    /// `ipi_csum_flags`: `CSUM_*` from sys/sys/mbuf.h.
    pub csum_flags: u32,
    /// `ipi_tso_segsz`: TSO MSS (raised to 64 in place when smaller, as FreeBSD does).
    pub tso_segsz: u16,
    /// `ipi_vtag`: VLAN TCI to insert when `mflags & M_VLANTAG`.
    pub vtag: u16,
    /// `ipi_etype`: EtherType of the L3 header.
    pub etype: u16,
    /// `ipi_mflags`: mbuf flags (`M_VLANTAG`).
    pub mflags: u8,
    /// `ipi_ndescs`: mirrored for layout completeness; iflib computes the count from
    /// `new_pidx` itself, so the ring neither reads nor writes it.
    pub ndescs: u16,
}

/// What `encap` reads of a packet (the `if_pkt_info` fields a driver uses) and the
/// two it writes. Implemented by [`TxPkt`] (an owned copy: tests, other callers) and
/// by ffi's view over iflib's own `if_pkt_info`, so that on the data path the ring
/// loads each field where it needs it, straight from iflib's struct, instead of from
/// a copy built field by field before the call. Every method is a plain field access.
pub trait TxPktInfo {
    /// `ipi_segs[0..ipi_nsegs]`.
    fn segs(&self) -> &[Seg];
    /// `ipi_len`.
    fn frame_len(&self) -> u32;
    /// `ipi_flags`.
    fn flags(&self) -> u16;
    /// `ipi_pidx`.
    fn pidx(&self) -> u16;
    /// `ipi_ehdrlen`.
    fn ehdrlen(&self) -> u8;
    /// `ipi_ip_hlen`.
    fn ip_hlen(&self) -> u8;
    /// `ipi_tcp_hlen`.
    fn tcp_hlen(&self) -> u8;
    /// `ipi_ipproto`.
    fn ipproto(&self) -> u8;
    /// `ipi_csum_flags`.
    fn csum_flags(&self) -> u32;
    /// `ipi_tso_segsz`.
    fn tso_segsz(&self) -> u16;
    /// `ipi_vtag`.
    fn vtag(&self) -> u16;
    /// `ipi_etype`.
    fn etype(&self) -> u16;
    /// `ipi_mflags`.
    fn mflags(&self) -> u8;
    /// Output `ipi_new_pidx`.
    fn set_new_pidx(&mut self, v: u16);
    /// Output: the TSO MSS after clamping (FreeBSD writes it back too).
    fn set_tso_segsz(&mut self, v: u16);
}

/// `encap` takes its packet by value (a small view); `&mut` any packet is one too.
impl<T: TxPktInfo + ?Sized> TxPktInfo for &mut T {
    #[inline(always)]
    fn segs(&self) -> &[Seg] {
        (**self).segs()
    }
    #[inline(always)]
    fn frame_len(&self) -> u32 {
        (**self).frame_len()
    }
    #[inline(always)]
    fn flags(&self) -> u16 {
        (**self).flags()
    }
    #[inline(always)]
    fn pidx(&self) -> u16 {
        (**self).pidx()
    }
    #[inline(always)]
    fn ehdrlen(&self) -> u8 {
        (**self).ehdrlen()
    }
    #[inline(always)]
    fn ip_hlen(&self) -> u8 {
        (**self).ip_hlen()
    }
    #[inline(always)]
    fn tcp_hlen(&self) -> u8 {
        (**self).tcp_hlen()
    }
    #[inline(always)]
    fn ipproto(&self) -> u8 {
        (**self).ipproto()
    }
    #[inline(always)]
    fn csum_flags(&self) -> u32 {
        (**self).csum_flags()
    }
    #[inline(always)]
    fn tso_segsz(&self) -> u16 {
        (**self).tso_segsz()
    }
    #[inline(always)]
    fn vtag(&self) -> u16 {
        (**self).vtag()
    }
    #[inline(always)]
    fn etype(&self) -> u16 {
        (**self).etype()
    }
    #[inline(always)]
    fn mflags(&self) -> u8 {
        (**self).mflags()
    }
    #[inline(always)]
    fn set_new_pidx(&mut self, v: u16) {
        (**self).set_new_pidx(v)
    }
    #[inline(always)]
    fn set_tso_segsz(&mut self, v: u16) {
        (**self).set_tso_segsz(v)
    }
}

impl TxPktInfo for TxPkt<'_> {
    #[inline(always)]
    fn segs(&self) -> &[Seg] {
        self.segs
    }
    #[inline(always)]
    fn frame_len(&self) -> u32 {
        self.len
    }
    #[inline(always)]
    fn flags(&self) -> u16 {
        self.flags
    }
    #[inline(always)]
    fn pidx(&self) -> u16 {
        self.pidx
    }
    #[inline(always)]
    fn ehdrlen(&self) -> u8 {
        self.ehdrlen
    }
    #[inline(always)]
    fn ip_hlen(&self) -> u8 {
        self.ip_hlen
    }
    #[inline(always)]
    fn tcp_hlen(&self) -> u8 {
        self.tcp_hlen
    }
    #[inline(always)]
    fn ipproto(&self) -> u8 {
        self.ipproto
    }
    #[inline(always)]
    fn csum_flags(&self) -> u32 {
        self.csum_flags
    }
    #[inline(always)]
    fn tso_segsz(&self) -> u16 {
        self.tso_segsz
    }
    #[inline(always)]
    fn vtag(&self) -> u16 {
        self.vtag
    }
    #[inline(always)]
    fn etype(&self) -> u16 {
        self.etype
    }
    #[inline(always)]
    fn mflags(&self) -> u8 {
        self.mflags
    }
    #[inline(always)]
    fn set_new_pidx(&mut self, v: u16) {
        self.new_pidx = v;
    }
    #[inline(always)]
    fn set_tso_segsz(&mut self, v: u16) {
        self.tso_segsz = v;
    }
}

/// Why a packet was not encapsulated. Nothing was published: `new_pidx`, the RS
/// bookkeeping and the packet counters are unchanged (descriptors past `pidx` may have
/// been scribbled, but they are free slots the tail has not reached).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TxError {
    /// Shorter than 17 bytes (MDD WRONG_SIZE). FreeBSD returns `EINVAL`.
    TooSmall,
    /// Needs more descriptors than the hardware (8 per packet or per TSO segment, 3 for
    /// the TSO header) or iflib's reservation (`nsegs + 2`) allows: iflib collapses or
    /// defragments the mbuf chain and retries once.
    Efbig,
    /// Malformed: no data, bad TSO header lengths or payload, segments that do not add
    /// up to `len` (TSO), a non-TSO frame above 9728 bytes.
    Invalid,
}

impl TxError {
    /// The errno iflib expects.
    pub fn errno(self) -> i32 {
        match self {
            TxError::Efbig => errno::EFBIG,
            TxError::TooSmall | TxError::Invalid => errno::EINVAL,
        }
    }
}

const RS_WORDS: usize = MAX_RING as usize / 64;

/// One TX queue.
pub struct TxRing<D: DmaRegion> {
    ring: D,
    /// `ntxd - 1`.
    mask: u16,
    qid: u16,
    head_wb: bool,
    /// Descriptor write-back: index of the last descriptor known complete (starts at
    /// `ntxd - 1`, as FreeBSD's `tx_cidx_processed`, so the first RS position `k` yields
    /// `k + 1` credits). Head write-back: the last head value consumed (starts at 0).
    processed: u16,
    /// Last value written to `QTX_TAIL1`: descriptors up to `tail - 1` were handed to the
    /// hardware, nothing at or past `tail` can be complete.
    tail: u16,
    /// Descriptor write-back: RS positions not yet reclaimed, one bit per ring slot
    /// (the role of FreeBSD's `tx_rsq[]`, in 512 bytes instead of 8 KiB; positions are
    /// found in ring order from `processed`).
    rs_bits: [u64; RS_WORDS],
    /// The most recently recorded RS slot, meaningful while `rs_any`.
    rs_newest: u16,
    /// Some recorded RS slot has not been credited yet.
    rs_any: bool,
    pub counters: QueueCounters,
}

impl<D: DmaRegion> TxRing<D> {
    /// A ring of `ntxd` 16-byte descriptors in `ring` (plus the 32-bit head word right
    /// after the last descriptor in head write-back mode, FreeBSD's layout).
    pub fn new(ring: D, ntxd: u16, qid: u16, head_writeback: bool) -> Result<Self, RingError> {
        if !ring_size_ok(ntxd) {
            return Err(RingError::BadSize);
        }
        if qid >= MAX_QUEUES {
            return Err(RingError::BadQueue);
        }
        let need = usize::from(ntxd) * TX_DESC_SIZE + if head_writeback { 4 } else { 0 };
        if ring.len() < need {
            return Err(RingError::RegionTooSmall);
        }
        let mut r = TxRing {
            ring,
            mask: ntxd - 1,
            qid,
            head_wb: head_writeback,
            processed: 0,
            tail: 0,
            rs_bits: [0; RS_WORDS],
            rs_newest: 0,
            rs_any: false,
            counters: QueueCounters::default(),
        };
        r.reset_indexes();
        Ok(r)
    }

    fn reset_indexes(&mut self) {
        self.processed = if self.head_wb { 0 } else { self.mask };
        self.tail = 0;
        self.rs_bits = [0; RS_WORDS];
        self.rs_newest = 0;
        self.rs_any = false;
    }

    /// Zero the ring (and the head word in head write-back mode, as FreeBSD
    /// `iavf_init_tx_ring` zeroes `ntxd + 1` descriptors) and reset the indexes. The
    /// caller writes tail 0 (`flush(bar, 0)`) before CONFIG_VSI_QUEUES.
    pub fn init(&mut self) {
        let ring_bytes = self.ntxd_usize() * TX_DESC_SIZE;
        let len = if self.head_wb {
            (ring_bytes + TX_DESC_SIZE).min(self.ring.len())
        } else {
            ring_bytes
        };
        self.ring.zero(0, len);
        self.reset_indexes();
    }

    #[inline]
    fn ntxd_usize(&self) -> usize {
        usize::from(self.mask) + 1
    }

    /// Number of descriptors.
    pub fn ntxd(&self) -> u16 {
        self.mask.wrapping_add(1)
    }
    /// VF-relative queue index.
    pub fn qid(&self) -> u16 {
        self.qid
    }
    /// Head write-back mode?
    pub fn head_writeback(&self) -> bool {
        self.head_wb
    }
    /// Bus address of the ring (`virtchnl_txq_info.dma_ring_addr`).
    pub fn ring_paddr(&self) -> u64 {
        self.ring.paddr()
    }
    /// Bus address of the head word (`virtchnl_txq_info.dma_headwb_addr`) in head
    /// write-back mode: right after the last descriptor.
    pub fn head_wb_paddr(&self) -> Option<u64> {
        self.head_wb.then(|| {
            self.ring
                .paddr()
                .wrapping_add((self.ntxd_usize() * TX_DESC_SIZE) as u64)
        })
    }
    /// The DMA region (for the emulator-facing tests and for teardown).
    pub fn region(&self) -> &D {
        &self.ring
    }

    /// One 16-byte descriptor at slot `i` (a masked index), QW0 then QW1.
    #[inline(always)]
    fn write_desc(&self, i: u16, qw0: u64, qw1: u64) {
        self.ring.wr_u64x2(usize::from(i) << 4, [qw0, qw1]);
    }

    /// iflib `txd_encap`: write the packet's descriptors from `pkt.pidx()`, set
    /// `pkt.new_pidx`. See [`TxError`] for the refusals.
    #[inline]
    pub fn encap<P: TxPktInfo>(&mut self, mut pkt: P) -> Result<(), TxError> {
        // The fast path makes no calls, so it needs no spills. One segment (small
        // frames) is handled inline; anything else continues, by a tail call, in
        // `encap_general`.
        if pkt.segs().len() == 1 && self.encap_fast(&mut pkt) {
            return Ok(());
        }
        // By value: only this branch needs the packet (view) in memory.
        self.encap_general(pkt)
    }

    /// Several segments (the same fast path, out of line), else everything unusual
    /// (TSO, bad lengths, empty/oversized/too many segments) in `encap_slow`.
    #[inline(never)]
    fn encap_general<P: TxPktInfo>(&mut self, mut pkt: P) -> Result<(), TxError> {
        let pkt = &mut pkt;
        if self.encap_fast(pkt) {
            return Ok(());
        }
        self.encap_slow(pkt)
    }

    /// Non-TSO packet of 17..=9728 bytes in 1..=8 segments of 1..=16383 bytes each.
    /// Returns false, having published nothing, for anything else.
    ///
    /// Every `if_pkt_info` field is loaded once, before the first descriptor store, and
    /// kept in a local: after a (volatile) store the compiler would otherwise have to
    /// reload whatever it cannot prove the store left alone.
    #[inline(always)]
    fn encap_fast<P: TxPktInfo>(&mut self, pkt: &mut P) -> bool {
        let csum_flags = pkt.csum_flags();
        let len = pkt.frame_len();
        if len.wrapping_sub(TX_MIN_FRAME) > TX_MAX_FRAME - TX_MIN_FRAME {
            return false;
        }
        // data_qw1, with the length check fused into the offload encoding.
        let mut qw1 = TXD_DTYPE_DATA | TXD_CMD_ICRC;
        let offload = csum_flags & CSUM_OFFLOAD != 0;
        if offload {
            // CSUM_TSO is one of the CSUM_OFFLOAD bits (asserted below the impl):
            // packets without any offload skip this test.
            if csum_flags & CSUM_TSO != 0 {
                return false;
            }
            match tx_csum_bits(
                csum_flags,
                pkt.etype(),
                pkt.ipproto(),
                pkt.ehdrlen(),
                pkt.ip_hlen(),
                pkt.tcp_hlen(),
            ) {
                Some(b) => qw1 |= b,
                None => return false,
            }
        }
        if pkt.mflags() & M_VLANTAG != 0 {
            qw1 |= TXD_CMD_IL2TAG1 | (u64::from(pkt.vtag()) << TXD_L2TAG1_SHIFT);
        }
        let ipi_flags = pkt.flags();
        let last_cmd = Self::last_cmd_for(ipi_flags);
        let mask = self.mask;
        let first = pkt.pidx() & mask;
        let (last, next) = if let [s] = pkt.segs() {
            // One segment (small frames): `len` is 17..=9728 (checked above), so
            // `s.len == len` alone also proves 1 <= s.len <= 16383 (BUF_SZ, no split).
            if s.len != u64::from(len) {
                return false;
            }
            self.write_desc(first, s.addr, qw1 | (s.len << TXD_BUF_SZ_SHIFT) | last_cmd);
            (first, first.wrapping_add(1) & mask)
        } else {
            match self.write_simple(pkt.segs(), u64::from(len), first, qw1, last_cmd) {
                Some(next) => (next.wrapping_sub(1) & mask, next),
                None => return false,
            }
        };
        self.publish(pkt, last, next, ipi_flags, len, offload);
        true
    }

    /// Everything `encap_fast` declines: TSO, refusals, splitting.
    #[inline(never)]
    #[cold]
    fn encap_slow<P: TxPktInfo>(&mut self, pkt: &mut P) -> Result<(), TxError> {
        if pkt.csum_flags() & CSUM_TSO != 0 {
            return self.encap_tso(pkt);
        }
        if pkt.frame_len().wrapping_sub(TX_MIN_FRAME) > TX_MAX_FRAME - TX_MIN_FRAME {
            return Err(self.bad_len(pkt.frame_len()));
        }
        // The hardware sizes the frame from BUF_SZ, not from `len`: segments that do
        // not add up to `len` could put a frame outside 17..=9728 on the wire (MDD
        // WRONG_SIZE) although `len` passed the check above.
        if seg_sum(pkt.segs()) != u64::from(pkt.frame_len())
            || (pkt.csum_flags() & CSUM_OFFLOAD != 0 && !Self::csum_ok(pkt))
        {
            return Err(self.invalid());
        }
        let qw1 = Self::data_qw1(pkt);
        let last_cmd = Self::last_cmd(pkt);
        let first = pkt.pidx() & self.mask;
        let next = self.write_data(pkt.segs(), first, qw1, last_cmd, TX_MAX_DATA_DESC)?;
        self.commit(pkt, next);
        Ok(())
    }

    #[inline(always)]
    fn csum_ok<P: TxPktInfo>(pkt: &P) -> bool {
        csum_lens_ok(
            pkt.csum_flags(),
            pkt.ipproto(),
            pkt.ehdrlen(),
            pkt.ip_hlen(),
            pkt.tcp_hlen(),
        )
    }

    /// QW1 bits shared by all data descriptors of the packet: DTYPE 0, ICRC, the
    /// checksum offload fields, the VLAN tag to insert.
    #[inline(always)]
    fn data_qw1<P: TxPktInfo>(pkt: &P) -> u64 {
        let flags = pkt.csum_flags();
        let mut qw1 = TXD_DTYPE_DATA | TXD_CMD_ICRC;
        if flags & CSUM_OFFLOAD != 0 {
            qw1 |= tx_offload_bits(
                flags,
                pkt.etype(),
                pkt.ipproto(),
                pkt.ehdrlen(),
                pkt.ip_hlen(),
                pkt.tcp_hlen(),
            );
        }
        if pkt.mflags() & M_VLANTAG != 0 {
            qw1 |= TXD_CMD_IL2TAG1 | (u64::from(pkt.vtag()) << TXD_L2TAG1_SHIFT);
        }
        qw1
    }

    /// EOP always; RS (CMD bit 1 = QW1 bit 5) exactly when iflib asks for a report
    /// (`IPI_TX_INTR` = bit 0).
    #[inline(always)]
    fn last_cmd<P: TxPktInfo>(pkt: &P) -> u64 {
        Self::last_cmd_for(pkt.flags())
    }

    #[inline(always)]
    fn last_cmd_for(ipi_flags: u16) -> u64 {
        TXD_CMD_EOP | (u64::from(ipi_flags & IPI_TX_INTR) << 5)
    }

    /// Publish a packet whose last descriptor is `next - 1`: RS bookkeeping, `new_pidx`, counters.
    #[inline(always)]
    fn commit<P: TxPktInfo>(&mut self, pkt: &mut P, next: u16) {
        let (flags, len) = (pkt.flags(), pkt.frame_len());
        let offload = pkt.csum_flags() & CSUM_OFFLOAD != 0;
        self.publish(
            pkt,
            next.wrapping_sub(1) & self.mask,
            next,
            flags,
            len,
            offload,
        );
    }

    /// [`Self::commit`] with the packet's last slot (`next - 1`, masked) and fields
    /// (`ipi_flags`, `ipi_len`, whether an offload was requested) already in hand, so
    /// nothing is re-read after the descriptor stores. Per packet it touches only
    /// `packets` and `bytes` (and `csum` for offload requests); every other counter
    /// lives on an error path.
    #[inline(always)]
    fn publish<P: TxPktInfo>(
        &mut self,
        pkt: &mut P,
        last: u16,
        next: u16,
        ipi_flags: u16,
        len: u32,
        offload: bool,
    ) {
        if ipi_flags & IPI_TX_INTR != 0 && !self.head_wb {
            self.record_rs(last);
        }
        pkt.set_new_pidx(next);
        let c = &mut self.counters;
        c.packets = c.packets.wrapping_add(1);
        c.bytes = c.bytes.wrapping_add(u64::from(len));
        if offload {
            c.csum = c.csum.wrapping_add(1);
        }
    }

    /// The TSO half of `encap`: context descriptor, then data descriptors with
    /// splitting, under the window check of [`tso_descriptors`].
    #[inline(always)]
    fn encap_tso<P: TxPktInfo>(&mut self, pkt: &mut P) -> Result<(), TxError> {
        if pkt.frame_len() < TX_MIN_FRAME {
            return Err(self.bad_len(pkt.frame_len()));
        }
        let first = pkt.pidx() & self.mask;
        let max_desc = self.tso_setup(pkt, first)?;
        let qw1 = Self::data_qw1(pkt);
        let last_cmd = Self::last_cmd(pkt);
        let i = first.wrapping_add(1) & self.mask;
        // tso_setup has checked the segments; the simple writer takes the usual case.
        let next = match self.write_simple(pkt.segs(), u64::from(pkt.frame_len()), i, qw1, last_cmd)
        {
            Some(n) => n,
            None => self.write_data(pkt.segs(), i, qw1, last_cmd, max_desc)?,
        };
        self.counters.tso = self.counters.tso.wrapping_add(1);
        self.commit(pkt, next);
        Ok(())
    }

    /// The common case: every segment 1..=16383 bytes, at most 8 of them, adding up to
    /// `len`, one descriptor each. `None` sends the packet to the general
    /// [`Self::write_data`] (which splits, skips empty segments, or refuses); the
    /// descriptors it may have written are free slots nothing was published for.
    #[inline(always)]
    fn write_simple(&self, segs: &[Seg], len: u64, i: u16, qw1: u64, last_cmd: u64) -> Option<u16> {
        let mask = self.mask;
        // One segment is the common case for small frames: no loop at all.
        if let [s] = segs {
            if s.len.wrapping_sub(1) >= TX_MAX_BUF || s.len != len {
                return None;
            }
            self.write_desc(i, s.addr, qw1 | (s.len << TXD_BUF_SZ_SHIFT) | last_cmd);
            return Some(i.wrapping_add(1) & mask);
        }
        let (last, body) = segs.split_last()?;
        // `last.len` is checked before it starts the sum (an unchecked huge length
        // overflowed it: fuzz/regressions/tx_encap/huge-last-segment).
        if body.len() >= TX_MAX_DATA_DESC as usize || last.len.wrapping_sub(1) >= TX_MAX_BUF {
            return None;
        }
        let mut i = i;
        // Each length is < 16384 here and there are at most 8: no overflow.
        let mut sum = last.len;
        for s in body {
            if s.len.wrapping_sub(1) >= TX_MAX_BUF {
                return None;
            }
            sum += s.len;
            self.write_desc(i, s.addr, qw1 | (s.len << TXD_BUF_SZ_SHIFT));
            i = i.wrapping_add(1) & mask;
        }
        if sum != len {
            return None;
        }
        self.write_desc(
            i,
            last.addr,
            qw1 | (last.len << TXD_BUF_SZ_SHIFT) | last_cmd,
        );
        Some(i.wrapping_add(1) & mask)
    }

    #[cold]
    fn bad_len(&mut self, len: u32) -> TxError {
        if len < TX_MIN_FRAME {
            self.counters.too_small = self.counters.too_small.wrapping_add(1);
            TxError::TooSmall
        } else {
            self.invalid()
        }
    }

    #[cold]
    fn invalid(&mut self) -> TxError {
        self.counters.invalid = self.counters.invalid.wrapping_add(1);
        TxError::Invalid
    }

    #[cold]
    fn efbig(&mut self) -> TxError {
        self.counters.efbig = self.counters.efbig.wrapping_add(1);
        TxError::Efbig
    }

    /// Data descriptors for `segs` from slot `i`: one per segment, or several for a
    /// segment above 16383 bytes; zero-length segments get none (MDD ZERO_BSIZE). The
    /// last descriptor is held back and written once with `last_cmd` (EOP, RS) in it.
    /// Returns the slot after the last one, or `Efbig` past `max` descriptors
    /// (checked before each write, so at most `max` slots are ever touched), or
    /// `Invalid` when there is no data at all; both counted.
    #[inline(never)]
    fn write_data(
        &mut self,
        segs: &[Seg],
        mut i: u16,
        qw1: u64,
        last_cmd: u64,
        max: u32,
    ) -> Result<u16, TxError> {
        let mask = self.mask;
        let mut n: u32 = 0;
        let mut have = false;
        let (mut p_i, mut p_addr, mut p_qw1) = (0u16, 0u64, 0u64);
        for s in segs {
            let mut addr = s.addr;
            let mut rem = s.len;
            while rem != 0 {
                let c = if rem > TX_MAX_BUF { TX_MAX_BUF } else { rem };
                if n >= max {
                    return Err(self.efbig());
                }
                if have {
                    self.write_desc(p_i, p_addr, p_qw1);
                }
                have = true;
                p_i = i;
                p_addr = addr;
                p_qw1 = qw1 | (c << TXD_BUF_SZ_SHIFT);
                n += 1;
                i = i.wrapping_add(1) & mask;
                addr = addr.wrapping_add(c);
                rem -= c;
            }
        }
        if !have {
            return Err(self.invalid());
        }
        self.write_desc(p_i, p_addr, p_qw1 | last_cmd);
        Ok(i)
    }

    /// Validate a TSO request, write its context descriptor at slot `i` and return how
    /// many data descriptors the packet may use.
    ///
    /// Context descriptor (hw-contract 6.3; FreeBSD `iavf_tso_setup`): QW0 = 0 (no
    /// tunnelling, no L2TAG2), QW1 = DTYPE 1 | CMD TSO | TSO_LEN | MSS, where TSO_LEN is
    /// the payload (total − headers) and MSS is clamped to 64..=min(9668, 9728 − headers).
    #[inline(always)]
    fn tso_setup<P: TxPktInfo>(&mut self, pkt: &mut P, i: u16) -> Result<u32, TxError> {
        let hdr = u32::from(pkt.ehdrlen()) + u32::from(pkt.ip_hlen()) + u32::from(pkt.tcp_hlen());
        if !tso_header_ok(pkt) {
            return Err(self.invalid()); // MDD BAD_LSO_LEN / NO_HEAD
        }
        if pkt.frame_len() <= hdr || pkt.frame_len() - hdr > TXCTX_TSO_LEN_MAX {
            return Err(self.invalid()); // MDD BAD_LSO_LEN
        }
        let tsolen = pkt.frame_len() - hdr;
        let mut mss = pkt.tso_segsz();
        if mss < TSO_MIN_MSS {
            // FreeBSD raises it (and writes it back) rather than provoke BAD_LSO_MSS.
            self.counters.mss_too_small = self.counters.mss_too_small.wrapping_add(1);
            mss = TSO_MIN_MSS;
            pkt.set_tso_segsz(mss);
        }
        // hdr <= 3 * 255, so 9728 - hdr >= 8963 > 64.
        let max_mss = TSO_MAX_MSS.min((TX_MAX_FRAME - hdr) as u16);
        if mss > max_mss {
            self.counters.mss_too_large = self.counters.mss_too_large.wrapping_add(1);
            mss = max_mss;
            pkt.set_tso_segsz(mss);
        }
        // iflib reserved nsegs + 2 slots; one goes to the context descriptor.
        let budget = u32::try_from(pkt.segs().len())
            .unwrap_or(u32::MAX)
            .saturating_add(1);
        // Usual case first: segments of 1..=16383 bytes need no splitting, and when there
        // are few enough no window check: every segment's on-wire packet uses at most
        // all the descriptors, plus one when a descriptor holds both the end of the
        // header and payload (it is DMA'd once as header and once as payload, Linux
        // `__iavf_chk_linearize` note; hw-contract 5.11). Then only the header's
        // descriptor count and the total length need checking.
        let (mut sum, mut hdr_descs, mut mixed, mut simple) = (0u64, 0u32, false, true);
        let h = u64::from(hdr);
        for s in pkt.segs() {
            simple &= s.len.wrapping_sub(1) < TX_MAX_BUF;
            hdr_descs += u32::from(sum < h);
            mixed |= sum < h && sum.saturating_add(s.len) > h;
            sum = sum.saturating_add(s.len);
        }
        simple &= pkt.segs().len() + usize::from(mixed) <= TX_MAX_DATA_DESC as usize;
        let ndata = if simple {
            if sum != u64::from(pkt.frame_len()) {
                return Err(self.invalid());
            }
            if hdr_descs > TX_MAX_HDR_DESC {
                return Err(self.efbig());
            }
            pkt.segs().len() as u32
        } else {
            match tso_descriptors(
                pkt.segs(),
                u64::from(hdr),
                u64::from(mss),
                u64::from(pkt.frame_len()),
            ) {
                Ok(n) => n,
                Err(TxError::Efbig) => return Err(self.efbig()),
                Err(_) => return Err(self.invalid()),
            }
        };
        if ndata > budget {
            return Err(self.efbig());
        }
        let qw1 = TXD_DTYPE_CONTEXT
            | TXCTX_CMD_TSO
            | (u64::from(tsolen) << TXCTX_TSO_LEN_SHIFT)
            | (u64::from(mss) << TXCTX_MSS_SHIFT);
        self.write_desc(i, 0, qw1);
        Ok(ndata)
    }

    #[inline(always)]
    fn record_rs(&mut self, slot: u16) {
        let w = (usize::from(slot) >> 6) & (RS_WORDS - 1);
        self.rs_bits[w] |= 1u64 << (slot & 63);
        self.rs_newest = slot;
        self.rs_any = true;
    }

    /// Forget the RS bits of slots `(after, upto]` (ring order), word by word.
    fn clear_rs_range(&mut self, after: u16, upto: u16) {
        let mask = self.mask;
        let ntxd = u32::from(mask) + 1;
        let mut s = u32::from(after.wrapping_add(1) & mask);
        let mut left = u32::from(upto.wrapping_sub(after) & mask);
        while left != 0 {
            let off = s & 63;
            // Stay inside the word, the ring and the range.
            let n = (64 - off).min(ntxd - s).min(left);
            let m = (u64::MAX >> (64 - n)) << off;
            self.rs_bits[(s as usize >> 6) & (RS_WORDS - 1)] &= !m;
            s = (s + n) & u32::from(mask);
            left -= n;
        }
    }

    /// iflib `txd_flush`: hand descriptors up to `pidx - 1` to the hardware.
    #[inline]
    pub fn flush<B: Bar0>(&mut self, bar: &B, pidx: u16) {
        let p = pidx & self.mask;
        self.tail = p;
        bar.wr32(qtx_tail1(self.qid), u32::from(p));
    }

    /// iflib `txd_credits_update`: descriptors the hardware finished since the last
    /// `clear` call. With `clear == false` nothing changes and the result is only
    /// "non-zero if anything is done" (iflib calls it so from interrupt filters).
    #[inline]
    pub fn credits_update(&mut self, clear: bool) -> u32 {
        if self.head_wb {
            self.credits_hwb(clear)
        } else {
            self.credits_dwb(clear)
        }
    }

    /// Descriptor write-back. The hardware completes descriptors in order (hw-contract
    /// 6.4), so when the newest RS slot reads DTYPE = DESC_DONE everything up to it is
    /// done: one check credits the whole batch (the usual case). Otherwise walk the
    /// recorded slots in ring order while they read DESC_DONE, each adding its distance
    /// from the previous one (FreeBSD's walk). Slots past the last flushed tail are not
    /// looked at: the hardware cannot have completed them, so a DESC_DONE there is
    /// device garbage.
    #[inline]
    fn credits_dwb(&mut self, clear: bool) -> u32 {
        if !self.rs_any {
            return 0;
        }
        let mask = self.mask;
        let last = self.processed;
        // Slots (last, tail) were handed to the hardware.
        let room = self.tail.wrapping_sub(last).wrapping_sub(1) & mask;
        let newest = self.rs_newest;
        let dn = newest.wrapping_sub(last) & mask;
        if dn != 0 && dn <= room && self.desc_done(newest) {
            if clear {
                self.clear_rs_range(last, newest);
                self.processed = newest;
                self.rs_any = false;
            }
            return if clear { u32::from(dn) } else { 1 };
        }
        self.credits_walk(clear, room)
    }

    #[inline(always)]
    fn desc_done(&self, slot: u16) -> bool {
        // The explicit compare (which `new` guarantees) implies the region's own and
        // lets it fold away with its out-of-line fallback; outside, "not done".
        let off = (usize::from(slot) << 4) + 8;
        off + 8 <= self.ring.len() && self.ring.rd_u64(off) & TXD_DTYPE_MASK == TXD_DTYPE_DESC_DONE
    }

    /// The slot-by-slot walk for a partly completed batch.
    #[inline(never)]
    fn credits_walk(&mut self, clear: bool, mut room: u16) -> u32 {
        let mask = self.mask;
        let nwords = (usize::from(mask) >> 6) + 1;
        let mut last = self.processed;
        let mut total: u32 = 0;
        // Scan the bitmap from the slot after `last`, one word at a time: the start word
        // (bits below the start masked off), the other words, then the start word again
        // (its low bits, which come last in ring order).
        let start = last.wrapping_add(1) & mask;
        let mut w = (usize::from(start) >> 6) & (RS_WORDS - 1);
        let mut bits = self.rs_bits[w] & (!0u64 << (start & 63));
        let mut words_left = nwords;
        'walk: loop {
            while bits == 0 {
                if words_left == 0 {
                    break 'walk;
                }
                words_left -= 1;
                w += 1;
                if w >= nwords {
                    w = 0;
                }
                bits = self.rs_bits[w & (RS_WORDS - 1)];
            }
            let b = bits.trailing_zeros();
            let cur = ((w << 6) as u16 | b as u16) & mask;
            let delta = cur.wrapping_sub(last) & mask;
            if delta == 0 || delta > room || !self.desc_done(cur) {
                break;
            }
            if !clear {
                return 1;
            }
            bits &= bits.wrapping_sub(1);
            self.rs_bits[w & (RS_WORDS - 1)] &= !(1u64 << b);
            total = total.wrapping_add(u32::from(delta));
            room = room.wrapping_sub(delta);
            last = cur;
            if cur == self.rs_newest {
                self.rs_any = false;
                break;
            }
        }
        self.processed = last;
        total
    }

    /// Head write-back: the hardware's head index (one past the last completed
    /// descriptor) is the u32 after the ring. Untrusted: it must be a ring index and must
    /// not run past the tail we wrote.
    fn credits_hwb(&mut self, clear: bool) -> u32 {
        let head = self.ring.rd_u32(self.ntxd_usize() * TX_DESC_SIZE);
        let inflight = self.tail.wrapping_sub(self.processed) & self.mask;
        if head > u32::from(self.mask) {
            return self.bad_head(clear);
        }
        let head = head as u16;
        let credits = head.wrapping_sub(self.processed) & self.mask;
        if credits > inflight {
            return self.bad_head(clear);
        }
        if clear {
            self.processed = head;
        }
        u32::from(credits)
    }

    #[cold]
    fn bad_head(&mut self, clear: bool) -> u32 {
        if clear {
            self.counters.desc_err = self.counters.desc_err.wrapping_add(1);
        }
        0
    }
}

// `encap_fast` tests CSUM_TSO only inside its CSUM_OFFLOAD branch.
const _: () = assert!(CSUM_TSO & !CSUM_OFFLOAD == 0);

/// Total bytes of `segs` (saturating: iflib's lengths are untrusted).
#[cold]
fn seg_sum(segs: &[Seg]) -> u64 {
    segs.iter().fold(0u64, |a, s| a.saturating_add(s.len))
}

/// The TSO header lengths must be exactly what the hardware will read back from the
/// data descriptors, since it takes the header length for TSO_LEN from them
/// (hw-contract 6.2/6.3): MACLEN counts 2-byte words, IPLEN and L4LEN 4-byte words and
/// L4LEN has only 4 bits, so an odd `ehdrlen`, an `ip_hlen`/`tcp_hlen` not a multiple
/// of 4 or a `tcp_hlen` above 60 would be silently truncated by the encoding and the
/// hardware would see a header length that disagrees with TSO_LEN (MDD BAD_LSO_LEN).
/// Also required: an Ethernet header, an IPv4 (>= 20) or IPv6 (>= 40) header whose
/// TSO flag matches the EtherType (so IIPT is IPv4+csum or IPv6, never "non-IP"), and
/// a TCP header of 20..=60 bytes (RFC 9293 data offset).
fn tso_header_ok<P: TxPktInfo>(pkt: &P) -> bool {
    let ip_min = match pkt.etype() {
        ETHERTYPE_IP if pkt.csum_flags() & CSUM_IP_TSO != 0 => 20,
        ETHERTYPE_IPV6 if pkt.csum_flags() & CSUM_IP6_TSO != 0 => 40,
        _ => return false,
    };
    pkt.ipproto() == IPPROTO_TCP
        && pkt.ehdrlen() >= 14
        && pkt.ehdrlen() & 1 == 0
        && pkt.ip_hlen() >= ip_min
        && pkt.ip_hlen() & 3 == 0
        && (20..=60).contains(&pkt.tcp_hlen())
        && pkt.tcp_hlen() & 3 == 0
}

/// Count the data descriptors a TSO packet needs (segments split at 16383 bytes,
/// zero-length segments dropped) and check the hardware's per-segment limit: for every
/// MSS-sized window of the payload, the header descriptors plus the descriptors holding
/// that window's bytes must be at most 8, and the header must fit in 3 (MDD MAX_BUFF,
/// hw-contract 5.11). A descriptor holding both header and payload bytes is counted in
/// both sets: the hardware DMAs it once as header and once as payload (Linux
/// `__iavf_chk_linearize` note: such a buffer is two DMA transactions); every segment on
/// the wire carries the replicated header, so the header descriptors count in every
/// window.
///
/// `Err(Efbig)` when a limit is exceeded, `Err(Invalid)` when the segments do not add up
/// to `len` (the hardware would see a TSO_LEN that does not match: MDD BAD_LSO_LEN).
/// No division: windows advance by addition. Work is bounded by the number of
/// descriptors plus the number of MSS windows (≤ 256 KiB / 64).
fn tso_descriptors(segs: &[Seg], hdr: u64, mss: u64, len: u64) -> Result<u32, TxError> {
    let mut pos: u64 = 0;
    let mut chunks: u32 = 0;
    let mut hdr_descs: u32 = 0;
    let mut win_end = hdr + mss;
    let mut win_descs: u32 = 0;
    for s in segs {
        let mut rem = s.len;
        while rem != 0 {
            let c = if rem > TX_MAX_BUF { TX_MAX_BUF } else { rem };
            let start = pos;
            let end = pos + c; // pos <= len < 2^32 and c < 2^14: no overflow
            if end > len {
                return Err(TxError::Invalid);
            }
            rem -= c;
            pos = end;
            chunks += 1;
            if start < hdr {
                hdr_descs += 1;
                if hdr_descs > TX_MAX_HDR_DESC {
                    return Err(TxError::Efbig);
                }
            }
            if end > hdr {
                let pstart = if start > hdr { start } else { hdr };
                if pstart >= win_end {
                    // The previous window ended exactly where this descriptor begins.
                    if hdr_descs + win_descs > TX_MAX_DATA_DESC {
                        return Err(TxError::Efbig);
                    }
                    win_end += mss;
                    win_descs = 0;
                }
                win_descs += 1;
                while end > win_end {
                    if hdr_descs + win_descs > TX_MAX_DATA_DESC {
                        return Err(TxError::Efbig);
                    }
                    win_end += mss;
                    win_descs = 1;
                }
            }
        }
    }
    if pos != len {
        return Err(TxError::Invalid);
    }
    if hdr_descs + win_descs > TX_MAX_DATA_DESC {
        return Err(TxError::Efbig);
    }
    Ok(chunks)
}

#[cfg(test)]
mod tests;
