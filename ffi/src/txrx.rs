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
use core::sync::atomic::{AtomicU64, Ordering};

use ravf::txrx::desc::RX_MAX_FRAGS;
use ravf::txrx::{RxFrag, RxPkt, RxRing, Seg, TxError, TxPktInfo};
use ravf_sys::*;
use static_assertions::const_assert_eq;

use crate::osdep::KDma;
use crate::scctx::MAX_TSO_SEGS;
use crate::state::{from_softc, TxQ};

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
/// Hot path (one segment): three null checks, the queue bound, the segment-count
/// bound, one CAS, the ring, one store. Every refusal, the busy lock and a NULL
/// `ipi_segs` leave through `#[cold]` out-of-line functions, so the hot path keeps
/// nothing in callee-saved registers but the queue across the ring's own slow call.
///
/// # Safety
/// `sc` is this driver's softc; `pi` points to iflib's `if_pkt_info` whose
/// `ipi_segs` holds `ipi_nsegs` segments (iflib's contract).
#[no_mangle]
pub unsafe extern "C" fn ravf_isc_txd_encap(sc: *mut c_void, pi: if_pkt_info_t) -> c_int {
    // SAFETY: caller contract (iflib passes its softc).
    let Some(st) = (unsafe { from_softc(sc) }) else {
        return bad_arg();
    };
    if pi.is_null() {
        return bad_arg();
    }
    // SAFETY: non-null `pi` is iflib's if_pkt_info for this call, exclusively ours
    // until we return.
    let pi = unsafe { &mut *pi };
    let Some(q) = st.txq(pi.ipi_qsidx) else {
        return no_queue();
    };
    if pi.ipi_nsegs != 1 || pi.ipi_segs.is_null() {
        return encap_other(q, pi);
    }
    // SAFETY: ipi_segs is non-null and ipi_nsegs is 1 (checked just above); iflib's
    // contract makes ipi_segs hold ipi_nsegs loaded segments.
    let view = unsafe { PktView::<SEGS_ONE>::new(pi) };
    q.with_or(
        move |ring| encap_errno(ring.map(|r| r.encap(view))),
        ENOBUFS,
    )
}

/// `Some(result)` of the ring, or `None` (queue within `ntxq` but no ring: ENOBUFS,
/// iflib keeps the packet and retries). ipi_new_pidx (and a clamped ipi_tso_segsz)
/// were written in place on success; ipi_ndescs is left alone (iflib derives the
/// count from ipi_new_pidx).
#[inline(always)]
fn encap_errno(r: Option<Result<(), TxError>>) -> c_int {
    match r {
        Some(Ok(())) => 0,
        Some(Err(e)) => e.errno(),
        None => ENOBUFS,
    }
}

/// Every packet but one segment at a non-NULL `ipi_segs`: several segments (large
/// frames, TSO), too many (EFBIG: iflib defragments and retries), or a NULL
/// `ipi_segs` (seen as no segments; the ring refuses the packet and counts it).
#[inline(never)]
fn encap_other(q: &TxQ, pi: &mut if_pkt_info) -> c_int {
    if pi.ipi_nsegs > MAX_SEGS {
        return too_many_segs();
    }
    if pi.ipi_segs.is_null() {
        // SAFETY: `SEGS_NONE` views never read ipi_segs.
        let view = unsafe { PktView::<SEGS_NONE>::new(pi) };
        return q.with_or(
            move |ring| encap_errno(ring.map(|r| r.encap(view))),
            ENOBUFS,
        );
    }
    // SAFETY: ipi_segs is non-null and ipi_nsegs <= MAX_SEGS (checked just above);
    // iflib's contract makes ipi_segs hold ipi_nsegs loaded segments.
    let view = unsafe { PktView::<SEGS_MANY>::new(pi) };
    q.with_or(
        move |ring| encap_errno(ring.map(|r| r.encap(view))),
        ENOBUFS,
    )
}

/// NULL pointers iflib passed to `txd_encap`/`rxd_pkt_get` (a caller bug; global,
/// since with a NULL softc there is no device to count it on).
pub static TXRX_BAD_ARGS: AtomicU64 = AtomicU64::new(0);

/// A NULL pointer from iflib: counted, EINVAL. (Its side effect also keeps the
/// compiler from hoisting the errno constant into the hot path.)
#[cold]
#[inline(never)]
fn bad_arg() -> c_int {
    TXRX_BAD_ARGS.fetch_add(1, Ordering::Relaxed);
    EINVAL
}

/// A queue index at or past the queue sets set up.
#[cold]
#[inline(never)]
fn no_queue() -> c_int {
    NO_QUEUE
}

/// More segments than the TSO tag allows: EFBIG makes iflib defragment and retry.
#[cold]
#[inline(never)]
fn too_many_segs() -> c_int {
    EFBIG
}

/// [`PktView`] kinds: how many segments `ipi_segs` is known to hold.
///
/// Exactly one (the hot path: `segs()` has a constant length, so the ring's own
/// one-segment test folds away).
const SEGS_ONE: u8 = 0;
/// `ipi_nsegs` (at most `MAX_SEGS`).
const SEGS_MANY: u8 = 1;
/// None: `ipi_segs` is NULL.
const SEGS_NONE: u8 = 2;

/// iflib's `if_pkt_info` as the ring sees it: one pointer (so it travels in a
/// register, also into the ring's out-of-line slow path); fields are read in place,
/// where the ring needs them (no copy), and `ipi_new_pidx`/`ipi_tso_segsz` written
/// back in place.
///
/// Invariant (from [`new`](Self::new)): for `SEGS_ONE`, `ipi_segs` is non-null and
/// `ipi_nsegs == 1`; for `SEGS_MANY`, `ipi_segs` is non-null and
/// `ipi_nsegs <= MAX_SEGS`; either way `ipi_segs` points to `ipi_nsegs` segments.
/// It keeps holding because the view holds the only reference to `*pi` and writes
/// only `ipi_new_pidx`/`ipi_tso_segsz`.
struct PktView<'a, const K: u8> {
    pi: &'a mut if_pkt_info,
}

impl<'a, const K: u8> PktView<'a, K> {
    /// # Safety
    /// For `SEGS_ONE`/`SEGS_MANY`, the type invariant above holds for `*pi`, and
    /// `pi.ipi_segs` is valid for reads of `pi.ipi_nsegs` `bus_dma_segment_t`s for
    /// `'a`, not written by anyone during `'a` and disjoint from `*pi`.
    #[inline(always)]
    unsafe fn new(pi: &'a mut if_pkt_info) -> Self {
        Self { pi }
    }
}

impl<const K: u8> TxPktInfo for PktView<'_, K> {
    #[inline(always)]
    fn segs(&self) -> &[Seg] {
        let n = match K {
            SEGS_ONE => 1,
            SEGS_MANY => usize::from(self.pi.ipi_nsegs),
            _ => return &[],
        };
        // SAFETY: the type invariant (checked by the caller of `new`): a non-null
        // ipi_segs holding `n` (= ipi_nsegs, at most MAX_SEGS) segments, unchanged
        // since; Seg has bus_dma_segment_t's layout (asserted at the top of this file).
        unsafe { slice::from_raw_parts(self.pi.ipi_segs.cast::<Seg>(), n) }
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
        q.with_or(
            move |ring| {
                if let Some(r) = ring {
                    r.flush(&st.bar, pidx);
                }
            },
            (),
        );
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
        q.with_or(move |ring| ring.map_or(0, |r| r.credits_update(true)), 0)
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
    q.ring.brief_with_or(
        move |ring| ring.map_or(0, |r| c_int::from(r.available(pidx, budget))),
        c_int::from(budget.min(1)),
    )
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
        return bad_arg();
    };
    if ri.is_null() {
        return bad_arg();
    }
    // SAFETY: non-null `ri` is iflib's if_rxd_info for this call, exclusively ours.
    let ri = unsafe { &mut *ri };
    if ri.iri_frags.is_null() {
        return bad_arg();
    }
    let Some(q) = st.rxq(ri.iri_qsidx) else {
        return no_queue();
    };
    // The busy lock and an absent ring (never in a correct system): EBADMSG, like a
    // refused frame (iflib resets the interface).
    q.ring.with_or(
        move |ring| match ring {
            Some(r) => pkt_get(r, ri),
            None => EBADMSG,
        },
        EBADMSG,
    )
}

/// The ring's `pkt_get` with iflib's `if_rxd_info` in and out: `RxPkt` borrows
/// `iri_frags` in place, and on the ring's inline fast path (one descriptor) the
/// struct never reaches memory, so its fields go straight from the descriptor into
/// `ri`.
#[inline(always)]
fn pkt_get(ring: &mut RxRing<KDma>, ri: &mut if_rxd_info) -> c_int {
    // SAFETY: iri_frags is non-null (checked by the caller) and has at least
    // RX_MAX_FRAGS entries (caller contract), disjoint from `ri` itself; RxFrag has
    // if_rxd_frag's layout (asserted).
    let frags = unsafe { slice::from_raw_parts_mut(ri.iri_frags.cast::<RxFrag>(), RX_MAX_FRAGS) };
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
    match ring.pkt_get(&mut pkt) {
        Ok(()) => {
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
        Err(e) => e.errno(),
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
    // The closure captures only `iru` (one register), so the lock's contended path
    // costs the hot path no stores; the fields are read under the lock.
    q.ring.with_or(
        move |ring| {
            if let Some(r) = ring {
                // iflib posts at most IFLIB_MAX_RX_REFRESH (32) per call; more would be
                // a caller bug and is clipped rather than trusted.
                let count = usize::from(iru.iru_count).min(IFLIB_MAX_RX_REFRESH);
                // SAFETY: iru_paddrs is non-null (checked above) and holds iru_count
                // (>= count) addresses (caller contract).
                let paddrs = unsafe { slice::from_raw_parts(iru.iru_paddrs, count) };
                r.refill(iru.iru_pidx, paddrs, count as u16);
            }
        },
        (),
    );
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
        q.ring.with_or(
            move |ring| {
                if let Some(r) = ring {
                    r.flush(&st.bar, pidx);
                }
            },
            (),
        );
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::Guarded;
    use core::ptr;
    use ravf::txrx::TxRing;

    const NTXD: u16 = 64;

    fn segs3() -> [bus_dma_segment_t; 3] {
        [
            bus_dma_segment_t {
                ds_addr: 0x1000,
                ds_len: 100,
            },
            bus_dma_segment_t {
                ds_addr: 0x2000,
                ds_len: 200,
            },
            bus_dma_segment_t {
                ds_addr: 0x3000,
                ds_len: 300,
            },
        ]
    }

    fn pkt(segs: *mut bus_dma_segment_t, nsegs: u16, len: u32) -> if_pkt_info {
        // SAFETY: integers and raw pointers only: all-zero is valid.
        let mut pi: if_pkt_info = unsafe { core::mem::zeroed() };
        pi.ipi_segs = segs;
        pi.ipi_nsegs = nsegs;
        pi.ipi_pidx = 7;
        pi.ipi_len = len;
        pi.ipi_flags = IPI_TX_INTR;
        pi
    }

    /// A TX queue with a ring over `mem` (NTXD descriptors, no head write-back).
    fn txq(mem: &mut [u64]) -> TxQ {
        // SAFETY: `mem` is 8-aligned, NTXD * 16 bytes, and outlives the queue (the
        // tests drop the queue first).
        let dma =
            unsafe { KDma::borrowed(mem.as_mut_ptr().cast(), 0x10_0000, mem.len() * 8) }.unwrap();
        let q = Guarded::new();
        assert!(q.set(Some(TxRing::new(dma, NTXD, 0, false).unwrap())));
        q
    }

    #[test]
    fn pkt_view_kinds_read_segments_in_place() {
        let mut segs = segs3();
        let mut pi = pkt(segs.as_mut_ptr(), 3, 600);
        // SAFETY: `segs` holds 3 segments and outlives the view.
        let v = unsafe { PktView::<SEGS_MANY>::new(&mut pi) };
        let s = v.segs();
        assert_eq!(s.len(), 3);
        assert_eq!((s[1].addr, s[1].len), (0x2000, 200));
        // SAFETY: as above; SEGS_ONE sees the first segment only.
        let v = unsafe { PktView::<SEGS_ONE>::new(&mut pi) };
        assert_eq!(v.segs().len(), 1);
        assert_eq!(v.segs()[0].addr, 0x1000);
        let mut pi = pkt(ptr::null_mut(), 3, 600);
        // SAFETY: SEGS_NONE never reads ipi_segs.
        let mut v = unsafe { PktView::<SEGS_NONE>::new(&mut pi) };
        assert!(v.segs().is_empty());
        v.set_new_pidx(9);
        v.set_tso_segsz(64);
        assert_eq!((pi.ipi_new_pidx, pi.ipi_tso_segsz), (9, 64));
    }

    /// Everything the hot path sends to `encap_other`: several segments (written,
    /// `ipi_new_pidx` past the last), too many (EFBIG, nothing read), NULL segments
    /// (refused by the ring: EINVAL), and a queue without a ring (ENOBUFS).
    #[test]
    fn encap_other_paths() {
        let mut mem = vec![0u64; usize::from(NTXD) * 2];
        let q = txq(&mut mem);
        let mut segs = segs3();
        let mut pi = pkt(segs.as_mut_ptr(), 3, 600);
        assert_eq!(encap_other(&q, &mut pi), 0);
        assert_eq!(pi.ipi_new_pidx, 10);
        let mut pi = pkt(segs.as_mut_ptr(), MAX_SEGS + 1, 600);
        assert_eq!(encap_other(&q, &mut pi), EFBIG);
        let mut pi = pkt(ptr::null_mut(), 1, 600);
        assert_eq!(encap_other(&q, &mut pi), EINVAL);
        assert_eq!(pi.ipi_new_pidx, 0, "nothing published");
        drop(q);
        // Descriptors 7, 8, 9 carry the three buffers (qword 0 of each).
        assert_eq!([mem[14], mem[16], mem[18]], [0x1000, 0x2000, 0x3000]);

        let empty: TxQ = Guarded::new();
        let mut pi = pkt(segs.as_mut_ptr(), 3, 600);
        assert_eq!(encap_other(&empty, &mut pi), ENOBUFS);
    }
}
