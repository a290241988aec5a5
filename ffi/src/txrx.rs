//! The seven `if_txrx` callbacks and the `ravf_txrx` table iflib calls them through.
//!
//! Each callback bounds what iflib hands it (queue index against the queue sets set
//! up, segment and fragment counts against fixed maxima), borrows iflib's arrays in
//! place (`ipi_segs` as `&[Seg]`, `iri_frags` as `&mut [RxFrag]`, `iru_paddrs` as
//! `&[u64]`; the layouts are asserted equal below), and calls drv-dp's ring code. No
//! allocation, no sleeping, no control lock: iflib serialises each queue, and the
//! per-queue lock only fences the filter-context calls (see `state.rs`).

use core::ffi::{c_int, c_void};
use core::mem::{align_of, offset_of, size_of};
use core::slice;

use ravf::txrx::desc::RX_MAX_FRAGS;
use ravf::txrx::{RxFrag, RxPkt, Seg, TxPktInfo};
use ravf_sys::*;
use static_assertions::const_assert_eq;

use crate::scctx::MAX_TSO_SEGS;
use crate::state::{from_softc, RavfState};

// drv-dp's borrowed views must have iflib's layouts exactly.
const_assert_eq!(size_of::<Seg>(), size_of::<bus_dma_segment_t>());
const_assert_eq!(align_of::<Seg>(), align_of::<bus_dma_segment_t>());
const_assert_eq!(
    offset_of!(Seg, addr),
    offset_of!(bus_dma_segment_t, ds_addr)
);
const_assert_eq!(offset_of!(Seg, len), offset_of!(bus_dma_segment_t, ds_len));
const_assert_eq!(size_of::<RxFrag>(), size_of::<if_rxd_frag>());
const_assert_eq!(align_of::<RxFrag>(), align_of::<if_rxd_frag>());
const_assert_eq!(offset_of!(RxFrag, flid), offset_of!(if_rxd_frag, irf_flid));
const_assert_eq!(offset_of!(RxFrag, idx), offset_of!(if_rxd_frag, irf_idx));
const_assert_eq!(offset_of!(RxFrag, len), offset_of!(if_rxd_frag, irf_len));

/// Most DMA segments a packet may have: the TSO tag's `isc_tx_tso_segments_max`
/// (iflib only lowers it). More is refused with EFBIG (iflib defragments, retries).
const MAX_SEGS: u16 = MAX_TSO_SEGS as u16;

/// sys/sys/errno.h: `ENXIO 6` — a queue that is not set up.
const NO_QUEUE: c_int = ENXIO;

/// ift_txd_encap: write one packet's descriptors.
///
/// # Safety
/// `sc` is this driver's softc; `pi` points to iflib's `if_pkt_info` whose
/// `ipi_segs` holds `ipi_nsegs` segments (iflib's contract).
#[no_mangle]
pub unsafe extern "C" fn ravf_isc_txd_encap(sc: *mut c_void, pi: if_pkt_info_t) -> c_int {
    // SAFETY: caller contract (iflib passes its softc).
    let Some(st) = (unsafe { from_softc(sc) }) else {
        return EINVAL;
    };
    if pi.is_null() {
        return EINVAL;
    }
    // SAFETY: non-null `pi` is iflib's if_pkt_info for this call, exclusively ours
    // until we return.
    let pi = unsafe { &mut *pi };
    encap(st, pi)
}

/// iflib's `if_pkt_info` as the ring sees it: fields are read in place, where the
/// ring needs them (no copy), and `ipi_new_pidx`/`ipi_tso_segsz` written back in place.
struct PktView<'a> {
    pi: &'a mut if_pkt_info,
    segs: &'a [Seg],
}

impl TxPktInfo for PktView<'_> {
    #[inline(always)]
    fn segs(&self) -> &[Seg] {
        self.segs
    }
    #[inline(always)]
    fn frame_len(&self) -> u32 {
        self.pi.ipi_len
    }
    #[inline(always)]
    fn flags(&self) -> u16 {
        self.pi.ipi_flags
    }
    #[inline(always)]
    fn pidx(&self) -> u16 {
        self.pi.ipi_pidx
    }
    #[inline(always)]
    fn ehdrlen(&self) -> u8 {
        self.pi.ipi_ehdrlen
    }
    #[inline(always)]
    fn ip_hlen(&self) -> u8 {
        self.pi.ipi_ip_hlen
    }
    #[inline(always)]
    fn tcp_hlen(&self) -> u8 {
        self.pi.ipi_tcp_hlen
    }
    #[inline(always)]
    fn ipproto(&self) -> u8 {
        self.pi.ipi_ipproto
    }
    #[inline(always)]
    fn csum_flags(&self) -> u32 {
        self.pi.ipi_csum_flags
    }
    #[inline(always)]
    fn tso_segsz(&self) -> u16 {
        self.pi.ipi_tso_segsz
    }
    #[inline(always)]
    fn vtag(&self) -> u16 {
        self.pi.ipi_vtag
    }
    #[inline(always)]
    fn etype(&self) -> u16 {
        self.pi.ipi_etype
    }
    #[inline(always)]
    fn mflags(&self) -> u8 {
        self.pi.ipi_mflags
    }
    #[inline(always)]
    fn set_new_pidx(&mut self, v: u16) {
        self.pi.ipi_new_pidx = v;
    }
    #[inline(always)]
    fn set_tso_segsz(&mut self, v: u16) {
        self.pi.ipi_tso_segsz = v;
    }
}

#[inline(always)]
fn encap(st: &RavfState, pi: &mut if_pkt_info) -> c_int {
    let Some(q) = st.txq(pi.ipi_qsidx) else {
        return NO_QUEUE;
    };
    let nsegs = pi.ipi_nsegs;
    if nsegs > MAX_SEGS {
        return EFBIG;
    }
    let segs: &[Seg] = if pi.ipi_segs.is_null() {
        &[]
    } else {
        // SAFETY: iflib's ipi_segs holds ipi_nsegs loaded segments (bounded above),
        // not modified during the call, and disjoint from `pi`; Seg has
        // bus_dma_segment_t's layout (asserted).
        unsafe { slice::from_raw_parts(pi.ipi_segs.cast::<Seg>(), usize::from(nsegs)) }
    };
    match q.with(|ring| ring.encap(PktView { pi, segs })) {
        // ipi_new_pidx (and a clamped ipi_tso_segsz) were written in place. ipi_ndescs
        // is left alone: iflib derives the count from ipi_new_pidx.
        Some(Ok(())) => 0,
        Some(Err(e)) => e.errno(),
        // Queue lock not obtained (never in a correct system): ENOBUFS makes iflib
        // keep the packet and retry later.
        None => ENOBUFS,
    }
}

/// ift_txd_flush: the TX doorbell.
///
/// # Safety
/// `sc` is this driver's softc.
#[no_mangle]
pub unsafe extern "C" fn ravf_isc_txd_flush(sc: *mut c_void, qid: u16, pidx: qidx_t) {
    // SAFETY: caller contract.
    let Some(st) = (unsafe { from_softc(sc) }) else {
        return;
    };
    if let Some(q) = st.txq(qid) {
        q.with(|ring| ring.flush(&st.bar, pidx));
    }
}

/// ift_txd_credits_update: descriptors completed. `clear == false` is iflib's "is
/// anything done?" from interrupt filters: it never waits for the queue lock and
/// answers 1 ("maybe") when the queue is busy, which only makes iflib run the TX task.
///
/// # Safety
/// `sc` is this driver's softc.
#[no_mangle]
pub unsafe extern "C" fn ravf_isc_txd_credits_update(
    sc: *mut c_void,
    qid: u16,
    clear: bool,
) -> c_int {
    // SAFETY: caller contract.
    let Some(st) = (unsafe { from_softc(sc) }) else {
        return 0;
    };
    let Some(q) = st.txq(qid) else {
        return 0;
    };
    let n = if clear {
        q.with(|ring| ring.credits_update(true)).unwrap_or(0)
    } else {
        match q.try_with(|ring| ring.credits_update(false)) {
            Ok(v) => v.unwrap_or(0),
            Err(()) => 1,
        }
    };
    c_int::try_from(n).unwrap_or(c_int::MAX)
}

/// ift_rxd_available: complete frames from `pidx`, at most `budget`. Called from the
/// RX task and from iflib's interrupt handler (budget 1), which may have interrupted
/// the RX task on its own CPU while it holds the queue lock; so this waits only
/// briefly (`lock_brief`) and then answers 1 ("maybe": iflib schedules the RX task,
/// which looks again). The brief wait makes a "maybe" in task context — which would
/// send iflib to `pkt_get` on a frame that may not be there — practically
/// impossible: it needs another CPU to hold the lock for thousands of spins.
///
/// # Safety
/// `sc` is this driver's softc.
#[no_mangle]
pub unsafe extern "C" fn ravf_isc_rxd_available(
    sc: *mut c_void,
    qid: u16,
    pidx: qidx_t,
    budget: qidx_t,
) -> c_int {
    // SAFETY: caller contract.
    let Some(st) = (unsafe { from_softc(sc) }) else {
        return 0;
    };
    let Some(q) = st.rxq(qid) else {
        return 0;
    };
    match q.ring.brief_with(|ring| ring.available(pidx, budget)) {
        Ok(v) => c_int::from(v.unwrap_or(0)),
        Err(()) => c_int::from(budget.min(1)),
    }
}

/// ift_rxd_pkt_get: describe the frame at `iri_cidx`. Non-zero makes iflib reset the
/// interface (see drv-dp's rx.rs).
///
/// # Safety
/// `sc` is this driver's softc; `ri` points to iflib's `if_rxd_info` whose `iri_frags`
/// has room for at least `RX_MAX_FRAGS` (5) entries (iflib's has 64).
#[no_mangle]
pub unsafe extern "C" fn ravf_isc_rxd_pkt_get(sc: *mut c_void, ri: if_rxd_info_t) -> c_int {
    // SAFETY: caller contract.
    let Some(st) = (unsafe { from_softc(sc) }) else {
        return EINVAL;
    };
    if ri.is_null() {
        return EINVAL;
    }
    // SAFETY: non-null `ri` is iflib's if_rxd_info for this call, exclusively ours.
    let ri = unsafe { &mut *ri };
    if ri.iri_frags.is_null() {
        return EINVAL;
    }
    // SAFETY: iri_frags has at least RX_MAX_FRAGS entries (caller contract), disjoint
    // from `ri` itself; RxFrag has if_rxd_frag's layout (asserted).
    let frags = unsafe { slice::from_raw_parts_mut(ri.iri_frags.cast::<RxFrag>(), RX_MAX_FRAGS) };
    pkt_get(st, ri, frags)
}

#[inline]
fn pkt_get(st: &RavfState, ri: &mut if_rxd_info, frags: &mut [RxFrag]) -> c_int {
    let Some(q) = st.rxq(ri.iri_qsidx) else {
        return NO_QUEUE;
    };
    let mut pkt = RxPkt {
        cidx: ri.iri_cidx,
        frags,
        nfrags: 0,
        len: 0,
        vtag: 0,
        flags: 0,
        flowid: 0,
        rsstype: 0,
        csum_flags: 0,
        csum_data: 0,
        qsidx: ri.iri_qsidx,
    };
    match q.ring.with(|ring| ring.pkt_get(&mut pkt)) {
        Some(Ok(())) => {
            ri.iri_nfrags = pkt.nfrags;
            ri.iri_len = pkt.len;
            ri.iri_vtag = pkt.vtag;
            ri.iri_flags = pkt.flags;
            ri.iri_flowid = pkt.flowid;
            ri.iri_rsstype = pkt.rsstype;
            ri.iri_csum_flags = pkt.csum_flags;
            ri.iri_csum_data = pkt.csum_data;
            0
        }
        Some(Err(e)) => e.errno(),
        None => EBADMSG,
    }
}

/// ift_rxd_refill: post `iru_count` buffers from `iru_pidx`.
///
/// # Safety
/// `sc` is this driver's softc; `iru` points to iflib's `if_rxd_update` whose
/// `iru_paddrs` holds `iru_count` addresses.
#[no_mangle]
pub unsafe extern "C" fn ravf_isc_rxd_refill(sc: *mut c_void, iru: if_rxd_update_t) {
    // SAFETY: caller contract.
    let Some(st) = (unsafe { from_softc(sc) }) else {
        return;
    };
    if iru.is_null() {
        return;
    }
    // SAFETY: non-null `iru` is iflib's if_rxd_update for this call.
    let iru = unsafe { &*iru };
    let Some(q) = st.rxq(iru.iru_qsidx) else {
        return;
    };
    if iru.iru_paddrs.is_null() {
        return;
    }
    // iflib posts at most IFLIB_MAX_RX_REFRESH (32) per call; more would be a caller
    // bug and is clipped rather than trusted.
    let count = usize::from(iru.iru_count).min(IFLIB_MAX_RX_REFRESH);
    // SAFETY: iru_paddrs holds iru_count (≥ count) addresses (caller contract).
    let paddrs = unsafe { slice::from_raw_parts(iru.iru_paddrs, count) };
    q.ring
        .with(|ring| ring.refill(iru.iru_pidx, paddrs, count as u16));
}

/// ift_rxd_flush: the RX doorbell.
///
/// # Safety
/// `sc` is this driver's softc.
#[no_mangle]
pub unsafe extern "C" fn ravf_isc_rxd_flush(sc: *mut c_void, qid: u16, _flid: u8, pidx: qidx_t) {
    // SAFETY: caller contract.
    let Some(st) = (unsafe { from_softc(sc) }) else {
        return;
    };
    if let Some(q) = st.rxq(qid) {
        q.ring.with(|ring| ring.flush(&st.bar, pidx));
    }
}

/// The table `isc_txrx` points at. `ift_legacy_intr` is NULL (MSI-X only, as iavf),
/// and so are the `txq_select` hooks (iflib's default queue selection).
#[no_mangle]
pub static ravf_txrx: if_txrx = if_txrx {
    ift_txd_encap: Some(ravf_isc_txd_encap),
    ift_txd_flush: Some(ravf_isc_txd_flush),
    ift_txd_credits_update: Some(ravf_isc_txd_credits_update),
    ift_rxd_available: Some(ravf_isc_rxd_available),
    ift_rxd_pkt_get: Some(ravf_isc_rxd_pkt_get),
    ift_rxd_refill: Some(ravf_isc_rxd_refill),
    ift_rxd_flush: Some(ravf_isc_rxd_flush),
    ift_legacy_intr: None,
    ift_txq_select: None,
    ift_txq_select_v2: None,
};
