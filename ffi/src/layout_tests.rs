//! Layout tests of ravf-sys against freebsd-iavf-iflib.md §2.1.
//!
//! The sizes and offsets are also `const` assertions in ravf-sys; these tests check
//! them a second way: each builds the C struct as raw bytes at the documented
//! offsets (as C code compiled from iflib.h would lay it out) and reads it back
//! through the Rust mirror, so a field that is in the wrong place reads the wrong
//! bytes.

use core::mem::{align_of, size_of};

use ravf_sys::*;

/// A 64-byte-aligned scratch buffer standing in for C memory.
#[repr(C, align(64))]
struct Raw<const N: usize>([u8; N]);

impl<const N: usize> Raw<N> {
    fn new() -> Self {
        Self([0; N])
    }
    fn put(&mut self, off: usize, bytes: &[u8]) {
        self.0[off..off + bytes.len()].copy_from_slice(bytes);
    }
    fn u8(&mut self, off: usize, v: u8) {
        self.put(off, &[v]);
    }
    fn u16(&mut self, off: usize, v: u16) {
        self.put(off, &v.to_ne_bytes());
    }
    fn u32(&mut self, off: usize, v: u32) {
        self.put(off, &v.to_ne_bytes());
    }
    fn u64(&mut self, off: usize, v: u64) {
        self.put(off, &v.to_ne_bytes());
    }
    /// View as `T`.
    fn view<T>(&self) -> &T {
        assert!(size_of::<T>() <= N && align_of::<T>() <= 64);
        // SAFETY: the buffer is large and aligned enough (asserted); every T viewed
        // here is plain integers and raw pointers, for which any bytes are valid.
        unsafe { &*self.0.as_ptr().cast::<T>() }
    }
}

#[test]
fn sizes_match_the_reference() {
    assert_eq!(size_of::<if_rxd_frag>(), 6);
    assert_eq!(align_of::<if_rxd_frag>(), 2);
    assert_eq!(size_of::<if_rxd_info>(), 40);
    assert_eq!(size_of::<if_rxd_update>(), 32);
    assert_eq!(size_of::<if_pkt_info>(), 48);
    assert_eq!(size_of::<if_irq>(), 24);
    assert_eq!(size_of::<pci_vendor_info_t>(), 32);
    assert_eq!(size_of::<if_txrx>(), 80);
    assert_eq!(size_of::<if_softc_ctx>(), 312);
    assert_eq!(size_of::<if_shared_ctx>(), 384);
    assert_eq!(align_of::<if_shared_ctx>(), 64);
    assert_eq!(size_of::<bus_dma_segment_t>(), 16);
    assert_eq!(size_of::<iflib_dma_info>(), 40);
    assert_eq!(size_of::<ifmediareq>(), 48);
    assert_eq!(size_of::<RavfSoftc>(), 8);
}

#[test]
fn if_pkt_info_fields_at_documented_offsets() {
    let mut r = Raw::<48>::new();
    r.u64(0, 0xDEAD_0000);
    r.u32(8, 1514);
    r.u16(12, 3);
    r.u16(14, 2);
    r.u16(16, 0x1111);
    r.u16(18, IPI_TX_INTR);
    r.u16(20, 1000);
    r.u16(22, 0x2222);
    r.u8(24, 14);
    r.u8(25, 20);
    r.u8(26, 32);
    r.u8(27, 6);
    r.u32(28, CSUM_IP_TSO);
    r.u16(32, 1448);
    r.u16(34, 100);
    r.u16(36, 0x0800);
    r.u8(38, 0x18);
    r.u8(39, M_VLANTAG as u8);
    r.u32(40, 0x1234_5678);
    r.u8(44, 0x10);
    let p: &if_pkt_info = r.view();
    assert_eq!(p.ipi_segs as usize, 0xDEAD_0000);
    assert_eq!(p.ipi_len, 1514);
    assert_eq!(p.ipi_qsidx, 3);
    assert_eq!(p.ipi_nsegs, 2);
    assert_eq!(p.ipi_ndescs, 0x1111);
    assert_eq!(p.ipi_flags, IPI_TX_INTR);
    assert_eq!(p.ipi_pidx, 1000);
    assert_eq!(p.ipi_new_pidx, 0x2222);
    assert_eq!(
        (p.ipi_ehdrlen, p.ipi_ip_hlen, p.ipi_tcp_hlen, p.ipi_ipproto),
        (14, 20, 32, 6)
    );
    assert_eq!(p.ipi_csum_flags, CSUM_IP_TSO);
    assert_eq!(p.ipi_tso_segsz, 1448);
    assert_eq!(p.ipi_vtag, 100);
    assert_eq!(p.ipi_etype, 0x0800);
    assert_eq!(p.ipi_tcp_hflags, 0x18);
    assert_eq!(u32::from(p.ipi_mflags), M_VLANTAG);
    assert_eq!(p.ipi_tcp_seq, 0x1234_5678);
    assert_eq!(p.ipi_ip_tos, 0x10);
}

#[test]
fn if_rxd_info_and_frag_fields_at_documented_offsets() {
    let mut r = Raw::<40>::new();
    r.u16(0, 7);
    r.u16(2, 0x0FFF);
    r.u16(4, 60);
    r.u16(6, 511);
    r.u64(8, 0xAAAA_0000);
    r.u64(16, 0xBBBB_0000);
    r.u32(24, 0xC0FF_EE00);
    r.u32(28, CSUM_L3_CALC);
    r.u32(32, 0xFFFF);
    r.u8(36, M_VLANTAG as u8);
    r.u8(37, 5);
    r.u8(38, M_HASHTYPE_RSS_TCP_IPV4);
    r.u8(39, 2);
    let ri: &if_rxd_info = r.view();
    assert_eq!(
        (ri.iri_qsidx, ri.iri_vtag, ri.iri_len, ri.iri_cidx),
        (7, 0x0FFF, 60, 511)
    );
    assert_eq!(ri.iri_ifp as usize, 0xAAAA_0000);
    assert_eq!(ri.iri_frags as usize, 0xBBBB_0000);
    assert_eq!(ri.iri_flowid, 0xC0FF_EE00);
    assert_eq!(ri.iri_csum_flags, CSUM_L3_CALC);
    assert_eq!(ri.iri_csum_data, 0xFFFF);
    assert_eq!(u32::from(ri.iri_flags), M_VLANTAG);
    assert_eq!(ri.iri_nfrags, 5);
    assert_eq!(ri.iri_rsstype, M_HASHTYPE_RSS_TCP_IPV4);
    assert_eq!(ri.iri_pad, 2);

    let mut f = Raw::<6>::new();
    f.u8(0, 1);
    f.u16(2, 4095);
    f.u16(4, 2048);
    let fr: &if_rxd_frag = f.view();
    assert_eq!((fr.irf_flid, fr.irf_idx, fr.irf_len), (1, 4095, 2048));
}

#[test]
fn if_rxd_update_fields_at_documented_offsets() {
    let mut r = Raw::<32>::new();
    r.u64(0, 0x1000);
    r.u64(8, 0x2000);
    r.u16(16, 17);
    r.u16(18, 3);
    r.u16(20, 32);
    r.u16(22, 2048);
    r.u8(24, 1);
    let u: &if_rxd_update = r.view();
    assert_eq!(u.iru_paddrs as usize, 0x1000);
    assert_eq!(u.iru_idxs as usize, 0x2000);
    assert_eq!(
        (
            u.iru_pidx,
            u.iru_qsidx,
            u.iru_count,
            u.iru_buf_size,
            u.iru_flidx
        ),
        (17, 3, 32, 2048, 1)
    );
}

#[test]
fn if_softc_ctx_fields_at_documented_offsets() {
    let mut r = Raw::<320>::new();
    r.u32(0, 5);
    r.u32(4, 4);
    r.u32(8, 3);
    r.u32(20, 0x1c);
    r.u32(24, 8);
    r.u32(28, 1024);
    r.u32(60, 512);
    r.u32(92, 16384);
    r.u32(124, 32768);
    r.u8(156, 16);
    r.u8(164, 32);
    r.u32(172, 128);
    r.u32(176, 261_119);
    r.u32(180, 16383);
    r.u32(184, RAVF_CSUM_OFFLOAD);
    r.u32(188, RAVF_CAPS as u32);
    r.u32(192, 0x77);
    r.u32(196, 64);
    r.u32(200, 63);
    r.u32(204, 16);
    r.u32(208, 15);
    r.u32(216, IFLIB_INTR_MSIX);
    r.u16(220, 4096);
    r.u16(236, 1522);
    r.u16(238, 60);
    r.u32(240, 9);
    r.u32(280, 1);
    r.u64(288, 0x5000);
    r.u64(296, 0x6000);
    r.u64(304, 64);
    let s: &if_softc_ctx = r.view();
    assert_eq!((s.isc_vectors, s.isc_nrxqsets, s.isc_ntxqsets), (5, 4, 3));
    assert_eq!((s.isc_msix_bar, s.isc_tx_nsegments), (0x1c, 8));
    assert_eq!((s.isc_ntxd[0], s.isc_nrxd[0]), (1024, 512));
    assert_eq!((s.isc_txqsizes[0], s.isc_rxqsizes[0]), (16384, 32768));
    assert_eq!((s.isc_txd_size[0], s.isc_rxd_size[0]), (16, 32));
    assert_eq!(s.isc_tx_tso_segments_max, 128);
    assert_eq!(s.isc_tx_tso_size_max, 261_119);
    assert_eq!(s.isc_tx_tso_segsize_max, 16383);
    assert_eq!(s.isc_tx_csum_flags as u32, RAVF_CSUM_OFFLOAD);
    assert_eq!(s.isc_capabilities, RAVF_CAPS);
    assert_eq!(s.isc_capenable, 0x77);
    assert_eq!((s.isc_rss_table_size, s.isc_rss_table_mask), (64, 63));
    assert_eq!((s.isc_nrxqsets_max, s.isc_ntxqsets_max), (16, 15));
    assert_eq!(s.isc_intr, IFLIB_INTR_MSIX);
    assert_eq!(s.isc_rxd_buf_size[0], 4096);
    assert_eq!((s.isc_max_frame_size, s.isc_min_frame_size), (1522, 60));
    assert_eq!(s.isc_pause_frames, 9);
    assert_eq!(s.isc_disable_msix, 1);
    assert_eq!(s.isc_txrx as usize, 0x5000);
    assert_eq!(s.isc_media as usize, 0x6000);
    assert_eq!(s.isc_dma_width, 64);
}

#[test]
fn if_shared_ctx_fields_at_documented_offsets() {
    let mut r = Raw::<384>::new();
    r.u32(0, IFLIB_MAGIC);
    r.u64(16, 4096);
    r.u64(40, 261_137);
    r.u32(72, 5);
    r.u32(76, 1);
    r.u32(104, 64);
    r.u32(264, 4096);
    r.u32(320, 1);
    r.u32(324, 1);
    r.u32(328, 1);
    r.u32(340, (IFLIB_NEED_SCRATCH | IFLIB_IS_VF) as u32);
    let s: &if_shared_ctx = r.view();
    assert_eq!(s.isc_magic, IFLIB_MAGIC);
    assert_eq!(s.isc_q_align, 4096);
    assert_eq!(s.isc_tso_maxsize, 261_137);
    assert_eq!((s.isc_rx_nsegments, s.isc_admin_intrcnt), (5, 1));
    assert_eq!(s.isc_nrxd_min[0], 64);
    assert_eq!(s.isc_ntxd_max[0], 4096);
    assert_eq!((s.isc_nfl, s.isc_ntxqs, s.isc_nrxqs), (1, 1, 1));
    assert_eq!(s.isc_flags, IFLIB_NEED_SCRATCH | IFLIB_IS_VF);
}

#[test]
fn if_txrx_slots_in_documented_order() {
    // Fill each slot with a distinct non-null "function pointer" value and check
    // which Rust field sees it.
    let mut r = Raw::<80>::new();
    for i in 0..10u64 {
        r.u64(i as usize * 8, 0x1000 + i);
    }
    let t: &if_txrx = r.view();
    let addr = |f: Option<usize>| f.unwrap_or(0);
    assert_eq!(addr(t.ift_txd_encap.map(|f| f as usize)), 0x1000);
    assert_eq!(addr(t.ift_txd_flush.map(|f| f as usize)), 0x1001);
    assert_eq!(addr(t.ift_txd_credits_update.map(|f| f as usize)), 0x1002);
    assert_eq!(addr(t.ift_rxd_available.map(|f| f as usize)), 0x1003);
    assert_eq!(addr(t.ift_rxd_pkt_get.map(|f| f as usize)), 0x1004);
    assert_eq!(addr(t.ift_rxd_refill.map(|f| f as usize)), 0x1005);
    assert_eq!(addr(t.ift_rxd_flush.map(|f| f as usize)), 0x1006);
    assert_eq!(addr(t.ift_legacy_intr.map(|f| f as usize)), 0x1007);
    assert_eq!(addr(t.ift_txq_select.map(|f| f as usize)), 0x1008);
    assert_eq!(addr(t.ift_txq_select_v2.map(|f| f as usize)), 0x1009);
}

#[test]
fn small_structs_at_documented_offsets() {
    let mut r = Raw::<40>::new();
    r.u64(0, 0x1_0000_0000);
    r.u64(8, 0xFFFF_8000_0000_0000);
    r.u64(16, 0x10);
    r.u64(24, 0x20);
    r.u32(32, 4096);
    let d: &iflib_dma_info = r.view();
    assert_eq!(d.idi_paddr, 0x1_0000_0000);
    assert_eq!(d.idi_vaddr as usize, 0xFFFF_8000_0000_0000);
    assert_eq!((d.idi_tag as usize, d.idi_map as usize), (0x10, 0x20));
    assert_eq!(d.idi_size, 4096);

    let mut s = Raw::<16>::new();
    s.u64(0, 0xABCD_0000);
    s.u64(8, 1500);
    let seg: &bus_dma_segment_t = s.view();
    assert_eq!((seg.ds_addr, seg.ds_len), (0xABCD_0000, 1500));

    let mut v = Raw::<32>::new();
    v.u32(0, 0x8086);
    v.u32(4, 0x154C);
    v.u64(24, 0x7777);
    let pvi: &pci_vendor_info_t = v.view();
    assert_eq!((pvi.pvi_vendor_id, pvi.pvi_device_id), (0x8086, 0x154C));
    assert_eq!(pvi.pvi_name as usize, 0x7777);

    let mut q = Raw::<24>::new();
    q.u64(0, 0x11);
    q.u32(8, 0x22);
    q.u64(16, 0x33);
    let irq: &if_irq = q.view();
    assert_eq!(
        (irq.ii_res as usize, irq.__spare0__, irq.ii_tag as usize),
        (0x11, 0x22, 0x33)
    );

    let mut m = Raw::<48>::new();
    m.u32(24, (IFM_AVALID | IFM_ACTIVE) as u32);
    m.u32(28, (IFM_ETHER | IFM_FDX | IFM_10G_SR) as u32);
    let ifmr: &ifmediareq = m.view();
    assert_eq!(ifmr.ifm_status, IFM_AVALID | IFM_ACTIVE);
    assert_eq!(ifmr.ifm_active, IFM_ETHER | IFM_FDX | IFM_10G_SR);
}
