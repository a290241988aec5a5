//! Unit tests of the exported functions with hand-built iflib structs, over the
//! recording KPI stand-ins in `testkpi.rs` (no PF: the control plane's end-to-end
//! behaviour is tested by tests/harness against the emulator).
//!
//! Descriptor values are written from hw-contract 6.2/6.5 (bit positions), not taken
//! from the code under test.

use core::ffi::c_void;
use core::ptr;
use core::sync::atomic::Ordering;

use ravf_sys::*;

use crate::ifdi::*;
use crate::intr::{notify_iflib, ravf_msix_adminq, ravf_msix_que};
use crate::lock::CtlLock;
use crate::scctx;
use crate::state::{Ctl, RavfState};
use crate::testkpi::{self, MockCtx};
use crate::txrx::*;

const NTXD: usize = 64;
const NRXD: usize = 64;

/// A device with its softc published, 2 TX and 2 RX rings of 64 descriptors, and no
/// `Vf` (the control plane needs a PF; see tests/harness).
struct Dev {
    mc: Box<MockCtx>,
    tx_mem: Vec<Vec<u64>>,
    rx_mem: Vec<Vec<u64>>,
}

/// Host address of a ring buffer, and the "bus" address the tests give it (so that
/// using one for the other shows).
fn bus(v: &[u64]) -> u64 {
    v.as_ptr() as u64 + testkpi::IOVA_OFFSET
}

impl Dev {
    fn new() -> Self {
        let mut mc = MockCtx::new();
        let ctx = mc.ctx();
        let ctl = CtlLock::new(
            b"test\0",
            Ctl {
                vf: None,
                reported: None,
                nvectors: 0,
            },
        )
        .unwrap();
        // SAFETY: mock ctx; the BAR handle is the mock's token.
        let mut st =
            unsafe { alloc_state(ctx, ptr::null_mut(), 8 as *mut c_void, 0x10000, ctl, false) }
                .unwrap();
        st.admin_tq = 16 as *mut c_void; // the mock's taskqueue token
        mc.softc.rs = Box::into_raw(st).cast();
        mc.scctx.isc_ntxd[0] = NTXD as i32;
        mc.scctx.isc_nrxd[0] = NRXD as i32;
        mc.scctx.isc_txqsizes[0] = scctx::tx_ring_bytes(NTXD as u32, false);
        mc.scctx.isc_rxqsizes[0] = scctx::rx_ring_bytes(NRXD as u32);
        mc.scctx.isc_ntxqsets = 2;
        mc.scctx.isc_nrxqsets = 2;
        let tx_mem: Vec<Vec<u64>> = (0..2).map(|_| vec![0u64; NTXD * 2]).collect();
        let rx_mem: Vec<Vec<u64>> = (0..2).map(|_| vec![0u64; NRXD * 4]).collect();
        let mut d = Dev { mc, tx_mem, rx_mem };
        let mut va: Vec<caddr_t> = d.tx_mem.iter_mut().map(|m| m.as_mut_ptr().cast()).collect();
        let mut pa: Vec<u64> = d.tx_mem.iter().map(|m| bus(m)).collect();
        // SAFETY: arrays of 2 entries for 1 ring x 2 sets; the memory outlives `d`'s rings.
        assert_eq!(
            unsafe { ravf_if_tx_queues_alloc(ctx, va.as_mut_ptr(), pa.as_mut_ptr(), 1, 2) },
            0
        );
        let mut va: Vec<caddr_t> = d.rx_mem.iter_mut().map(|m| m.as_mut_ptr().cast()).collect();
        let mut pa: Vec<u64> = d.rx_mem.iter().map(|m| bus(m)).collect();
        // SAFETY: as above.
        assert_eq!(
            unsafe { ravf_if_rx_queues_alloc(ctx, va.as_mut_ptr(), pa.as_mut_ptr(), 1, 2) },
            0
        );
        d
    }

    fn ctx(&mut self) -> if_ctx_t {
        self.mc.ctx()
    }

    fn sc(&mut self) -> *mut c_void {
        (&mut self.mc.softc as *mut RavfSoftc).cast()
    }

    fn st(&self) -> &RavfState {
        // SAFETY: published by Dev::new, freed only by detach (which nulls it).
        unsafe { &*self.mc.softc.rs.cast::<RavfState>() }
    }
}

impl Drop for Dev {
    fn drop(&mut self) {
        let ctx = self.ctx();
        // SAFETY: the mock ctx; detach frees the state and nulls the softc pointer.
        unsafe {
            ravf_if_detach(ctx);
            ravf_if_queues_free(ctx);
        }
    }
}

fn pkt(segs: &mut [bus_dma_segment_t], qsidx: u16, pidx: u16, len: u32) -> if_pkt_info {
    // SAFETY: integers and raw pointers only: all-zero is valid.
    let mut pi: if_pkt_info = unsafe { core::mem::zeroed() };
    pi.ipi_segs = segs.as_mut_ptr();
    pi.ipi_nsegs = segs.len() as u16;
    pi.ipi_qsidx = qsidx;
    pi.ipi_pidx = pidx;
    pi.ipi_len = len;
    pi.ipi_flags = IPI_TX_INTR;
    pi
}

// hw-contract 6.2: TX data descriptor qword1.
const TXD_EOP: u64 = 0x1 << 4;
const TXD_RS: u64 = 0x2 << 4;
const TXD_ICRC: u64 = 0x4 << 4;
const fn txd_bsize(q1: u64) -> u64 {
    (q1 >> 34) & 0x3FFF
}
// hw-contract 6.5: RX write-back qword1.
const RXD_DD: u64 = 1 << 0;
const RXD_EOF: u64 = 1 << 1;
const RXD_L2TAG1P: u64 = 1 << 2;
const RXD_RXE: u64 = 1 << 19;
const fn rxd_len(n: u64) -> u64 {
    n << 38
}

#[test]
fn txrx_table_points_at_the_callbacks() {
    assert_eq!(
        ravf_txrx.ift_txd_encap.map(|f| f as usize),
        Some(ravf_isc_txd_encap as *const () as usize)
    );
    assert_eq!(
        ravf_txrx.ift_txd_flush.map(|f| f as usize),
        Some(ravf_isc_txd_flush as *const () as usize)
    );
    assert_eq!(
        ravf_txrx.ift_txd_credits_update.map(|f| f as usize),
        Some(ravf_isc_txd_credits_update as *const () as usize)
    );
    assert_eq!(
        ravf_txrx.ift_rxd_available.map(|f| f as usize),
        Some(ravf_isc_rxd_available as *const () as usize)
    );
    assert_eq!(
        ravf_txrx.ift_rxd_pkt_get.map(|f| f as usize),
        Some(ravf_isc_rxd_pkt_get as *const () as usize)
    );
    assert_eq!(
        ravf_txrx.ift_rxd_refill.map(|f| f as usize),
        Some(ravf_isc_rxd_refill as *const () as usize)
    );
    assert_eq!(
        ravf_txrx.ift_rxd_flush.map(|f| f as usize),
        Some(ravf_isc_rxd_flush as *const () as usize)
    );
    assert!(ravf_txrx.ift_legacy_intr.is_none());
    assert!(ravf_txrx.ift_txq_select.is_none() && ravf_txrx.ift_txq_select_v2.is_none());
}

#[test]
fn encap_writes_descriptors_and_new_pidx() {
    let mut d = Dev::new();
    let sc = d.sc();
    let mut segs = [bus_dma_segment_t {
        ds_addr: 0x1234_5000,
        ds_len: 60,
    }];
    let mut pi = pkt(&mut segs, 1, 5, 60);
    // SAFETY: `pi` and its segment array are live for the call.
    assert_eq!(unsafe { ravf_isc_txd_encap(sc, &mut pi) }, 0);
    assert_eq!(pi.ipi_new_pidx, 6);
    let ring = &d.tx_mem[1];
    assert_eq!(
        ring[5 * 2],
        0x1234_5000,
        "buffer address in qword0 of descriptor 5"
    );
    let q1 = ring[5 * 2 + 1];
    assert_eq!(q1 & 0xF, 0, "DTYPE data");
    assert_eq!(
        q1 & (TXD_EOP | TXD_RS | TXD_ICRC),
        TXD_EOP | TXD_RS | TXD_ICRC
    );
    assert_eq!(txd_bsize(q1), 60);
    assert!(d.tx_mem[0].iter().all(|&w| w == 0), "queue 0 untouched");

    // Doorbell: QTX_TAIL1(1) = 0x4.
    // SAFETY: live softc.
    unsafe { ravf_isc_txd_flush(sc, 1, 6) };
    assert_eq!(testkpi::with(|m| m.writes.last().copied()), Some((0x4, 6)));

    // Completion: nothing yet, then DESC_DONE (DTYPE 0xF) written back on the RS
    // descriptor gives 6 credits (descriptors 0..=5, FreeBSD's processed index
    // starts at ntxd - 1).
    // SAFETY: live softc.
    unsafe {
        assert_eq!(ravf_isc_txd_credits_update(sc, 1, false), 0);
        d.tx_mem[1][5 * 2 + 1] = 0xF;
        assert_ne!(ravf_isc_txd_credits_update(sc, 1, false), 0);
        assert_eq!(ravf_isc_txd_credits_update(sc, 1, true), 6);
        assert_eq!(ravf_isc_txd_credits_update(sc, 1, true), 0);
    }
}

/// `txd_encap` reads iflib's `if_pkt_info` in place (PktView): every offload field
/// must reach the descriptor from the right `ipi_*` member, and the TSO MSS clamp is
/// written back to `ipi_tso_segsz` as FreeBSD does. Expected words from hw-contract
/// 6.2/6.3 bit positions, not from the ring's constants.
#[test]
fn encap_reads_offload_fields_in_place() {
    let mut d = Dev::new();
    let sc = d.sc();
    let mut segs = [bus_dma_segment_t {
        ds_addr: 0x9000,
        ds_len: 1514,
    }];
    let mut pi = pkt(&mut segs, 0, 3, 1514);
    pi.ipi_csum_flags = CSUM_IP | CSUM_IP_TCP;
    pi.ipi_etype = 0x0800;
    pi.ipi_ipproto = 6;
    pi.ipi_ehdrlen = 14;
    pi.ipi_ip_hlen = 20;
    pi.ipi_tcp_hlen = 32;
    pi.ipi_mflags = M_VLANTAG as u8;
    pi.ipi_vtag = 0x123;
    // SAFETY: `pi` and its segment array are live for the call.
    assert_eq!(unsafe { ravf_isc_txd_encap(sc, &mut pi) }, 0);
    assert_eq!(pi.ipi_new_pidx, 4);
    // CMD = EOP 0x1 | RS 0x2 | ICRC 0x4 | IL2TAG1 0x8 | IIPT 3 (0x60) | L4T TCP (0x100)
    // at bit 4; MACLEN 14/2 at 16, IPLEN 20/4 at 23, L4LEN 32/4 at 30; BUF_SZ at 34;
    // L2TAG1 at 48.
    let want = (0x16Fu64 << 4) | (7 << 16) | (5 << 23) | (8 << 30) | (1514 << 34) | (0x123 << 48);
    assert_eq!(d.tx_mem[0][3 * 2 + 1], want);
    assert_eq!(d.tx_mem[0][3 * 2], 0x9000);

    // TSO with an MSS below 64: raised, and written back into iflib's struct.
    let mut pi = pkt(&mut segs, 0, 10, 1514);
    pi.ipi_csum_flags = CSUM_IP | CSUM_IP_TSO;
    pi.ipi_etype = 0x0800;
    pi.ipi_ipproto = 6;
    pi.ipi_ehdrlen = 14;
    pi.ipi_ip_hlen = 20;
    pi.ipi_tcp_hlen = 32;
    pi.ipi_tso_segsz = 10;
    // SAFETY: as above.
    assert_eq!(unsafe { ravf_isc_txd_encap(sc, &mut pi) }, 0);
    assert_eq!(pi.ipi_new_pidx, 12, "context + one data descriptor");
    assert_eq!(pi.ipi_tso_segsz, 64);
    // Context descriptor: DTYPE 1 | CMD TSO (0x1 at bit 4) | TSO_LEN 1514 - 66 at 30 |
    // MSS at 50.
    let ctx = 1u64 | (1 << 4) | (1448 << 30) | (64 << 50);
    assert_eq!(d.tx_mem[0][10 * 2 + 1], ctx);
    assert_eq!(d.tx_mem[0][11 * 2], 0x9000);
}

#[test]
fn encap_bounds_what_iflib_passes() {
    let mut d = Dev::new();
    let sc = d.sc();
    let mut segs = [bus_dma_segment_t {
        ds_addr: 0x1000,
        ds_len: 60,
    }];
    // SAFETY: all pointers below are live or null on purpose.
    unsafe {
        let mut pi = pkt(&mut segs, 2, 0, 60); // only 2 queues
        assert_eq!(ravf_isc_txd_encap(sc, &mut pi), ENXIO);
        let mut pi = pkt(&mut segs, 0, 0, 60);
        pi.ipi_nsegs = 200; // more than the TSO segment limit: never read
        assert_eq!(ravf_isc_txd_encap(sc, &mut pi), EFBIG);
        assert_eq!(ravf_isc_txd_encap(sc, ptr::null_mut()), EINVAL);
        let mut pi = pkt(&mut segs, 0, 0, 60);
        assert_eq!(ravf_isc_txd_encap(ptr::null_mut(), &mut pi), EINVAL);
        let mut pi = pkt(&mut segs, 0, 0, 10); // below the 17-byte minimum
        assert_eq!(ravf_isc_txd_encap(sc, &mut pi), EINVAL);
        // Out-of-range queue ids on the other callbacks are ignored.
        ravf_isc_txd_flush(sc, 7, 1);
        assert_eq!(ravf_isc_txd_credits_update(sc, 9, true), 0);
        assert_eq!(ravf_isc_rxd_available(sc, 2, 0, 16), 0);
        ravf_isc_rxd_flush(sc, 16, 0, 1);
    }
    assert!(
        testkpi::with(|m| m.writes.is_empty()),
        "no doorbell for a bad queue"
    );
}

#[test]
fn rx_refill_available_pkt_get() {
    let mut d = Dev::new();
    let sc = d.sc();
    let mut paddrs = [0xA000u64, 0xB000, 0xC000];
    let mut idxs = [0u16, 1, 2];
    let iru = if_rxd_update {
        iru_paddrs: paddrs.as_mut_ptr(),
        iru_idxs: idxs.as_mut_ptr(),
        iru_pidx: 62,
        iru_qsidx: 1,
        iru_count: 3,
        iru_buf_size: 2048,
        iru_flidx: 0,
    };
    let mut iru2 = iru;
    // SAFETY: `iru` and its arrays are live.
    unsafe { ravf_isc_rxd_refill(sc, &mut iru2) };
    // 32-byte descriptors: pkt_addr in qword 0 of slots 62, 63 and (wrapping) 0.
    assert_eq!(d.rx_mem[1][62 * 4], 0xA000);
    assert_eq!(d.rx_mem[1][63 * 4], 0xB000);
    assert_eq!(d.rx_mem[1][0], 0xC000);
    // SAFETY: live softc.
    unsafe { ravf_isc_rxd_flush(sc, 1, 0, 1) };
    // QRX_TAIL1(1) = 0x2004.
    assert_eq!(
        testkpi::with(|m| m.writes.last().copied()),
        Some((0x2004, 1))
    );

    // The device writes back a 60-byte frame with a VLAN tag in slot 62.
    // SAFETY: live softc.
    unsafe { assert_eq!(ravf_isc_rxd_available(sc, 1, 62, 16), 0) };
    d.rx_mem[1][62 * 4] = 100 << 16; // qword0: L2TAG1 in bits 16..31
    d.rx_mem[1][62 * 4 + 1] = RXD_DD | RXD_EOF | RXD_L2TAG1P | rxd_len(60);
    // SAFETY: live softc.
    unsafe { assert_eq!(ravf_isc_rxd_available(sc, 1, 62, 16), 1) };

    let mut frags = [if_rxd_frag::default(); IFLIB_MAX_RX_SEGS];
    // SAFETY: integers and raw pointers only.
    let mut ri: if_rxd_info = unsafe { core::mem::zeroed() };
    ri.iri_qsidx = 1;
    ri.iri_cidx = 62;
    ri.iri_frags = frags.as_mut_ptr();
    // SAFETY: `ri` and its 64 frags are live.
    assert_eq!(unsafe { ravf_isc_rxd_pkt_get(sc, &mut ri) }, 0);
    assert_eq!((ri.iri_nfrags, ri.iri_len), (1, 60));
    assert_eq!((ri.iri_vtag, u32::from(ri.iri_flags)), (100, M_VLANTAG));
    assert_eq!(
        frags[0],
        if_rxd_frag {
            irf_flid: 0,
            irf_idx: 62,
            irf_len: 60
        }
    );

    // A frame with RXE: EBADMSG, which makes iflib reset the interface.
    d.rx_mem[1][63 * 4 + 1] = RXD_DD | RXD_EOF | RXD_RXE | rxd_len(60);
    ri.iri_cidx = 63;
    // SAFETY: as above.
    assert_eq!(unsafe { ravf_isc_rxd_pkt_get(sc, &mut ri) }, EBADMSG);

    // Bounds: a queue that does not exist, a missing frag array.
    ri.iri_qsidx = 5;
    // SAFETY: as above.
    assert_eq!(unsafe { ravf_isc_rxd_pkt_get(sc, &mut ri) }, ENXIO);
    ri.iri_qsidx = 1;
    ri.iri_frags = ptr::null_mut();
    // SAFETY: as above (null frags is refused before use).
    assert_eq!(unsafe { ravf_isc_rxd_pkt_get(sc, &mut ri) }, EINVAL);
}

#[test]
fn refill_clips_an_oversized_count() {
    let mut d = Dev::new();
    let sc = d.sc();
    let mut paddrs = [0x5000u64; 40];
    let mut iru = if_rxd_update {
        iru_paddrs: paddrs.as_mut_ptr(),
        iru_idxs: ptr::null_mut(),
        iru_pidx: 0,
        iru_qsidx: 0,
        iru_count: 40,
        iru_buf_size: 2048,
        iru_flidx: 0,
    };
    // SAFETY: 40 addresses live (more than the 32 used).
    unsafe { ravf_isc_rxd_refill(sc, &mut iru) };
    let posted = (0..NRXD).filter(|i| d.rx_mem[0][i * 4] == 0x5000).count();
    assert_eq!(posted, IFLIB_MAX_RX_REFRESH);
}

#[test]
fn filter_context_calls_never_wait_for_a_busy_queue() {
    let mut d = Dev::new();
    let sc = d.sc();
    let st = d.st();
    assert!(st.txq[0].lock.try_lock());
    assert!(st.rxq[0].ring.lock.try_lock());
    // SAFETY: live softc.
    unsafe {
        assert_eq!(ravf_isc_txd_credits_update(sc, 0, false), 1, "busy: maybe");
        assert_eq!(ravf_isc_rxd_available(sc, 0, 0, 1), 1, "busy: maybe");
    }
    let st = d.st();
    assert!(st.txq[0].lock.busy.load(Ordering::Relaxed) >= 1);
    st.txq[0].lock.unlock();
    st.rxq[0].ring.lock.unlock();
    // SAFETY: live softc.
    unsafe {
        assert_eq!(ravf_isc_txd_credits_update(sc, 0, false), 0);
        assert_eq!(ravf_isc_rxd_available(sc, 0, 0, 1), 0);
    }
}

#[test]
fn msix_assignment_follows_iavf() {
    let mut d = Dev::new();
    let ctx = d.ctx();
    // SAFETY: mock ctx.
    assert_eq!(
        unsafe { ravf_if_msix_intr_assign(ctx, 2) },
        EINVAL,
        "2 queues need 3 vectors"
    );
    // SAFETY: mock ctx.
    assert_eq!(unsafe { ravf_if_msix_intr_assign(ctx, 3) }, 0);
    let irqs = testkpi::with(|m| m.irqs.clone());
    let want: Vec<(i32, u32, String)> = vec![
        (1, IFLIB_INTR_ADMIN, "aq".into()),
        (2, IFLIB_INTR_RXTX, "rxq0".into()),
        (3, IFLIB_INTR_RXTX, "rxq1".into()),
        (0, IFLIB_INTR_TX, "txq0".into()),
        (0, IFLIB_INTR_TX, "txq1".into()),
    ];
    assert_eq!(irqs, want);
    assert_eq!(d.st().ctl.lock().nvectors, 3);
}

#[test]
fn queue_interrupt_enables() {
    let mut d = Dev::new();
    let ctx = d.ctx();
    // SAFETY: mock ctx.
    unsafe {
        assert_eq!(ravf_if_rx_queue_intr_enable(ctx, 1), 0);
        // VFINT_DYN_CTLN1(1) = 0x3804: INTENA | CLEARPBA | ITR_INDX 3 = 0x1B.
        assert_eq!(
            testkpi::with(|m| m.writes.last().copied()),
            Some((0x3804, 0x1B))
        );
        assert_eq!(ravf_if_rx_queue_intr_enable(ctx, 2), EINVAL);
        assert_eq!(ravf_if_tx_queue_intr_enable(ctx, 3), EINVAL);
        assert_eq!(ravf_if_tx_queue_intr_enable(ctx, 0), 0);
        assert_eq!(
            testkpi::with(|m| m.writes.last().copied()),
            Some((0x3800, 0x1B))
        );
        ravf_if_intr_disable(ctx);
        // Disable: ITR_INDX 3 only, both queue vectors.
        let w = testkpi::with(|m| m.writes.clone());
        assert_eq!(&w[w.len() - 2..], &[(0x3800, 0x18), (0x3804, 0x18)]);
    }
}

#[test]
fn filters_and_timer() {
    let mut d = Dev::new();
    let ctx = d.ctx();
    let st_ptr = d.mc.softc.rs;
    // SAFETY: st_ptr is the live state; the RxQ pointer is inside it.
    unsafe {
        // Before attach_post: counted, ignored.
        assert_eq!(ravf_msix_adminq(st_ptr), FILTER_HANDLED);
        assert_eq!(testkpi::with(|m| m.admin_enqueued), 0);
        d.st().initialized.store(true, Ordering::Release);
        // ICR01 (0x4800) with ADMINQ (bit 30): admin task queued, vector re-armed.
        testkpi::with(|m| m.regs[0x4800 / 4] = 1 << 30);
        assert_eq!(ravf_msix_adminq(st_ptr), FILTER_HANDLED);
        assert_eq!(testkpi::with(|m| m.admin_enqueued), 1);
        assert!(testkpi::with(|m| m.writes.contains(&(0x5C00, 0x1B))));
        assert_eq!(d.st().admin_irqs.load(Ordering::Relaxed), 2);

        let q = ptr::from_ref(&d.st().rxq[1]).cast_mut().cast::<c_void>();
        assert_eq!(ravf_msix_que(q), FILTER_HANDLED, "not running");
        d.st().running.store(true, Ordering::Release);
        assert_eq!(ravf_msix_que(q), FILTER_SCHEDULE_THREAD);
        assert_eq!(d.st().rxq[1].irqs.load(Ordering::Relaxed), 2);

        ravf_if_timer(ctx, 1);
        assert!(!d.st().timer_due.load(Ordering::Relaxed));
        ravf_if_timer(ctx, 0);
        assert!(d.st().timer_due.load(Ordering::Relaxed));
        assert_eq!(testkpi::with(|m| m.admin_enqueued), 2);
    }
}

#[test]
fn counters_and_media_from_snapshots() {
    let mut d = Dev::new();
    let ctx = d.ctx();
    let st = d.st();
    for (i, a) in st.stats.iter().enumerate() {
        a.store(10 * (i as u64 + 1), Ordering::Relaxed);
    }
    st.store_link(ravf::Link {
        up: true,
        speed_mbps: 25_000,
    });
    // SAFETY: mock ctx; ifmr zeroed and live.
    unsafe {
        // rx unicast + multicast + broadcast = 20 + 30 + 40.
        assert_eq!(ravf_if_get_counter(ctx, IFCOUNTER_IPACKETS), 90);
        assert_eq!(ravf_if_get_counter(ctx, IFCOUNTER_OPACKETS), 80 + 90 + 100);
        assert_eq!(ravf_if_get_counter(ctx, IFCOUNTER_IBYTES), 10);
        assert_eq!(ravf_if_get_counter(ctx, IFCOUNTER_OERRORS), 120);
        assert_eq!(ravf_if_get_counter(ctx, IFCOUNTER_IQDROPS), 50);
        assert_eq!(ravf_if_get_counter(ctx, IFCOUNTER_NOPROTO), 60);
        // Not from the PF: iflib's default (the mock returns 1000 + counter).
        assert_eq!(ravf_if_get_counter(ctx, IFCOUNTER_IERRORS), 1001);
        let mut ifmr: ifmediareq = core::mem::zeroed();
        ravf_if_media_status(ctx, &mut ifmr);
        assert_eq!(ifmr.ifm_status, IFM_AVALID | IFM_ACTIVE);
        assert_eq!(ifmr.ifm_active, IFM_ETHER | IFM_FDX | IFM_25G_SR);
        assert_eq!(ravf_if_media_change(ctx), ENODEV);
        assert!(!ravf_if_needs_restart(ctx, IFLIB_RESTART_VLAN_CONFIG));
    }
}

#[test]
fn detach_frees_everything_and_later_calls_are_harmless() {
    let mut d = Dev::new();
    let ctx = d.ctx();
    let sc = d.sc();
    // SAFETY: mock ctx.
    unsafe {
        assert_eq!(ravf_if_msix_intr_assign(ctx, 3), 0);
        assert_eq!(ravf_if_detach(ctx), 0);
    }
    assert!(d.mc.softc.rs.is_null());
    // SAFETY: the softc is unpublished: every entry point must see "no device".
    unsafe {
        ravf_if_queues_free(ctx);
        let mut segs = [bus_dma_segment_t {
            ds_addr: 1,
            ds_len: 60,
        }];
        let mut pi = pkt(&mut segs, 0, 0, 60);
        assert_eq!(ravf_isc_txd_encap(sc, &mut pi), EINVAL);
        assert_eq!(ravf_isc_rxd_available(sc, 0, 0, 4), 0);
        assert_eq!(ravf_if_mtu_set(ctx, 1500), ENXIO);
    }
    assert!(testkpi::with(|m| m.mallocs.is_empty() && m.dma.is_empty()));
}

#[test]
fn attach_pre_failure_cleans_up() {
    // VFGEN_RSTAT never reads ready: Vf::attach gives up after its bounded wait
    // (the mock clock advances with every sleep).
    let mut mc = MockCtx::new();
    let ctx = mc.ctx();
    mc.scctx.isc_ntxd[0] = 1024;
    mc.scctx.isc_nrxd[0] = 1024;
    // SAFETY: mock ctx with a zeroed softc.
    let rc = unsafe { ravf_if_attach_pre(ctx) };
    assert_ne!(rc, 0);
    assert!(mc.softc.rs.is_null(), "nothing published");
    assert!(testkpi::with(|m| m.dma.is_empty()), "AQ memory freed");
    assert!(testkpi::with(|m| m.locked == 0));
    assert!(testkpi::with(|m| m
        .logs
        .iter()
        .any(|(lvl, s)| *lvl == 0 && s.contains("attach failed"))));
}

/// iflib's admin task may be enqueued only between attach_post and the start of
/// device_detach: before msix_intr_assign it is not attached to a taskqueue, and 14.x
/// iflib detaches it (iflib_tqg_detach) before IFDI_DETACH, after which
/// iflib_admin_intr_deferred dereferences a NULL taskqueue.
#[test]
fn iflib_admin_task_only_between_attach_post_and_detach() {
    let mut d = Dev::new();
    let ctx = d.ctx();
    let counts = || testkpi::with(|m| (m.iflib_admin_deferred, m.resets_requested));
    // Before attach_post: nothing asked of iflib.
    notify_iflib(d.st(), true, true);
    assert_eq!(counts(), (0, 0));
    d.st().initialized.store(true, Ordering::Release);
    notify_iflib(d.st(), true, false);
    assert_eq!(counts(), (1, 0));
    notify_iflib(d.st(), false, true);
    assert_eq!(counts(), (2, 1));
    // device_detach begins: the flag is set, then the running task is drained.
    // SAFETY: mock ctx with the state published.
    unsafe { ravf_set_detaching(ctx, 1) };
    assert!(d.st().detaching.load(Ordering::Acquire));
    assert_eq!(testkpi::with(|m| m.admin_drained), 1);
    notify_iflib(d.st(), true, true);
    assert_eq!(
        counts(),
        (2, 1),
        "detaching: iflib's admin task is left alone"
    );
    // iflib refused the detach (VLAN in use): back to normal, no drain needed.
    // SAFETY: as above.
    unsafe { ravf_set_detaching(ctx, 0) };
    assert_eq!(testkpi::with(|m| m.admin_drained), 1);
    notify_iflib(d.st(), true, false);
    assert_eq!(counts(), (3, 1));
    // After detach the export finds no device and does nothing.
    // SAFETY: as above; detach unpublishes and frees the state.
    unsafe {
        assert_eq!(ravf_if_detach(ctx), 0);
        ravf_set_detaching(ctx, 1);
    }
    assert_eq!(testkpi::with(|m| m.admin_drained), 1);
}
