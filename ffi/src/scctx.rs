//! Filling iflib's context structs the way FreeBSD iavf does (freebsd-iavf-iflib.md
//! §1.4, §1.10, §1.14; hw-contract 8.2 step 6), as pure functions so they are tested
//! without iflib.

use core::ffi::c_int;

use ravf_sys::*;

/// iavf_iflib.h: `IAVF_MAX_TX_SEGS 8` — data descriptors per non-TSO packet.
pub const MAX_TX_SEGS: c_int = 8;
/// iavf_iflib.h: `IAVF_MAX_TSO_SEGS 128` (iflib lowers it to ntxd/12).
pub const MAX_TSO_SEGS: c_int = 128;
/// iavf_iflib.h: `IAVF_TSO_SIZE ((255 * 1024) - 1)` = 261119 bytes of payload.
pub const TSO_SIZE: c_int = 255 * 1024 - 1;
/// iavf_iflib.h: `IAVF_MAX_DMA_SEG_SIZE ((16 * 1024) - 1)`: TX BSIZE is 14 bits.
pub const MAX_DMA_SEG_SIZE: c_int = 16 * 1024 - 1;
/// iavf_iflib.h: `IAVF_RSS_VSI_LUT_SIZE 64`.
pub const RSS_LUT_SIZE: c_int = 64;
/// iavf_iflib.h: `DBA_ALIGN 128` — ring sizes are multiples of 128 bytes.
pub const DBA_ALIGN: u32 = 128;
/// iavf_type.h: `struct iavf_tx_desc` is 16 bytes.
pub const TX_DESC_SIZE: u32 = 16;
/// iavf_type.h: `union iavf_32byte_rx_desc` — iavf_osdep.h selects the 32-byte format.
pub const RX_DESC_SIZE: u32 = 32;
/// iavf_iflib.h: `IAVF_MAX_FRAME 9728`.
pub const MAX_FRAME: u32 = 9728;
/// iavf_iflib.h: `IAVF_MIN_MTU 112`.
pub const MIN_MTU: u32 = 112;
/// ether.h: header 14 + CRC 4 + one VLAN tag 4 — what iavf adds to the MTU.
pub const MTU_OVERHEAD: u32 = 14 + 4 + 4;
/// `IAVF_MAX_FRAME - MTU_OVERHEAD` = 9706.
pub const MAX_MTU: u32 = MAX_FRAME - MTU_OVERHEAD;
/// The VF register block addresses 16 queue pairs (QTX_TAIL1/QRX_TAIL1 q = 0..15).
pub const MAX_QUEUES: u16 = 16;

fn roundup(x: u32, to: u32) -> u32 {
    x.div_ceil(to) * to
}

/// `isc_txqsizes[0]`: `roundup2(ntxd * 16 + (head_wb ? 4 : 0), 128)`. The head
/// write-back word lives just past the last descriptor.
pub fn tx_ring_bytes(ntxd: u32, head_wb: bool) -> u32 {
    roundup(ntxd * TX_DESC_SIZE + if head_wb { 4 } else { 0 }, DBA_ALIGN)
}

/// `isc_rxqsizes[0]`: `roundup2(nrxd * 32, 128)`.
pub fn rx_ring_bytes(nrxd: u32) -> u32 {
    roundup(nrxd * RX_DESC_SIZE, DBA_ALIGN)
}

/// Clamp a descriptor count iflib hands us to what the rings accept (a power of two
/// in 64..=4096, `IAVF_MIN_RING`/`IAVF_MAX_RING`); out-of-range values become the
/// default 1024. iflib has already validated against the sctx limits; this guards
/// against a harness or a changed iflib.
pub fn sane_ndesc(n: c_int) -> u16 {
    match u16::try_from(n) {
        Ok(v) if (64..=4096).contains(&v) && v.is_power_of_two() => v,
        _ => 1024,
    }
}

/// Fill `if_softc_ctx` in attach_pre, as `iavf_if_attach_pre` does.
///
/// `queue_pairs` is what the PF granted (`vsi_res.num_queue_pairs`), `msix_bar` the
/// rid of the MSI-X table BAR, `txrx` the callback table.
pub fn fill_softc_ctx(
    s: &mut if_softc_ctx,
    queue_pairs: u16,
    head_wb: bool,
    msix_bar: c_int,
    txrx: if_txrx_t,
) {
    let q = c_int::from(queue_pairs.clamp(1, MAX_QUEUES));
    s.isc_ntxqsets_max = q;
    s.isc_nrxqsets_max = q;
    let ntxd = sane_ndesc(s.isc_ntxd[0]);
    let nrxd = sane_ndesc(s.isc_nrxd[0]);
    s.isc_ntxd[0] = c_int::from(ntxd);
    s.isc_nrxd[0] = c_int::from(nrxd);
    s.isc_txqsizes[0] = tx_ring_bytes(u32::from(ntxd), head_wb);
    s.isc_rxqsizes[0] = rx_ring_bytes(u32::from(nrxd));
    s.isc_txd_size[0] = TX_DESC_SIZE as u8;
    s.isc_rxd_size[0] = RX_DESC_SIZE as u8;
    s.isc_msix_bar = msix_bar;
    s.isc_tx_nsegments = MAX_TX_SEGS;
    s.isc_tx_tso_segments_max = MAX_TSO_SEGS;
    s.isc_tx_tso_size_max = TSO_SIZE;
    s.isc_tx_tso_segsize_max = MAX_DMA_SEG_SIZE;
    s.isc_rss_table_size = RSS_LUT_SIZE;
    s.isc_tx_csum_flags = RAVF_CSUM_OFFLOAD as c_int;
    s.isc_capabilities = RAVF_CAPS;
    s.isc_capenable = RAVF_CAPS;
    s.isc_txrx = txrx;
}

/// `isc_max_frame_size` for an MTU: MTU + 14 + 4 + 4 (iavf `iavf_setup_interface`).
/// `None` when the MTU is outside `[112, 9706]` (`ifdi_mtu_set` returns EINVAL).
pub fn max_frame_for_mtu(mtu: u32) -> Option<u16> {
    if !(MIN_MTU..=MAX_MTU).contains(&mtu) {
        return None;
    }
    u16::try_from(mtu + MTU_OVERHEAD).ok()
}

/// The synthetic media subtype iavf reports for a link speed in Mb/s (§1.14); the
/// VF has no PHY, so this only tells the user the speed. Speeds below 10 Mb/s
/// (unknown) give `IFM_AUTO`, i.e. no subtype.
pub fn media_subtype(speed_mbps: u32) -> c_int {
    match speed_mbps {
        100_000.. => IFM_100G_SR4,
        50_000.. => IFM_50G_SR2,
        40_000.. => IFM_40G_SR4,
        25_000.. => IFM_25G_SR,
        20_000.. => IFM_20G_KR2,
        10_000.. => IFM_10G_SR,
        5_000.. => IFM_5000_T,
        2_500.. => IFM_2500_T,
        1_000.. => IFM_1000_T,
        100.. => IFM_100_TX,
        10.. => IFM_10_T,
        _ => IFM_AUTO,
    }
}

/// Fill `ifm_status`/`ifm_active` (iavf `iavf_if_media_status`).
pub fn media_status(ifmr: &mut ifmediareq, link_up: bool, speed_mbps: u32) {
    ifmr.ifm_status = IFM_AVALID;
    ifmr.ifm_active = IFM_ETHER;
    if link_up {
        ifmr.ifm_status |= IFM_ACTIVE;
        ifmr.ifm_active |= IFM_FDX | media_subtype(speed_mbps);
    }
}

/// Write a queue's interrupt name ("rxq3", "txq12") into `buf` with a NUL.
pub fn queue_name(buf: &mut [u8; 8], prefix: &[u8; 3], q: u16) -> *const core::ffi::c_char {
    buf.fill(0);
    buf[..3].copy_from_slice(prefix);
    let q = q.min(999);
    let mut i = 3;
    if q >= 100 {
        buf[i] = b'0' + (q / 100) as u8;
        i += 1;
    }
    if q >= 10 {
        buf[i] = b'0' + (q / 10 % 10) as u8;
        i += 1;
    }
    buf[i] = b'0' + (q % 10) as u8;
    buf.as_ptr().cast()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zeroed_scctx() -> if_softc_ctx {
        // SAFETY: integers, arrays and raw pointers only: all-zero is valid.
        unsafe { core::mem::zeroed() }
    }

    #[test]
    fn ring_bytes_as_iavf_computes_them() {
        // 1024 * 16 = 16384, already a multiple of 128.
        assert_eq!(tx_ring_bytes(1024, false), 16384);
        // + 4 bytes of head write-back rounds up to the next 128.
        assert_eq!(tx_ring_bytes(1024, true), 16384 + 128);
        assert_eq!(rx_ring_bytes(1024), 32768);
        assert_eq!(tx_ring_bytes(64, false), 1024);
        assert_eq!(rx_ring_bytes(64), 2048);
    }

    #[test]
    fn softc_ctx_matches_freebsd_iavf() {
        let mut s = zeroed_scctx();
        s.isc_ntxd[0] = 1024;
        s.isc_nrxd[0] = 512;
        let txrx = 0x1000 as if_txrx_t;
        fill_softc_ctx(&mut s, 4, false, 0x1c, txrx);
        assert_eq!((s.isc_ntxqsets_max, s.isc_nrxqsets_max), (4, 4));
        assert_eq!((s.isc_txqsizes[0], s.isc_rxqsizes[0]), (16384, 16384));
        assert_eq!(s.isc_tx_nsegments, 8);
        assert_eq!(s.isc_tx_tso_segments_max, 128);
        assert_eq!(s.isc_tx_tso_size_max, 261_119);
        assert_eq!(s.isc_tx_tso_segsize_max, 16383);
        assert_eq!(s.isc_rss_table_size, 64);
        assert_eq!(s.isc_capabilities, s.isc_capenable);
        assert_eq!(s.isc_capabilities & IFCAP_TSO, IFCAP_TSO);
        assert_eq!(s.isc_tx_csum_flags as u32 & CSUM_TSO, CSUM_TSO);
        assert_eq!(s.isc_msix_bar, 0x1c);
        assert_eq!(s.isc_txrx, txrx);
    }

    #[test]
    fn queue_pairs_and_ring_sizes_are_bounded() {
        let mut s = zeroed_scctx();
        s.isc_ntxd[0] = 1000; // not a power of two
        s.isc_nrxd[0] = -1;
        fill_softc_ctx(&mut s, 200, true, 0, core::ptr::null_mut());
        assert_eq!(s.isc_ntxqsets_max, 16);
        assert_eq!((s.isc_ntxd[0], s.isc_nrxd[0]), (1024, 1024));
        assert_eq!(s.isc_txqsizes[0], 16384 + 128);
        fill_softc_ctx(&mut s, 0, false, 0, core::ptr::null_mut());
        assert_eq!(s.isc_nrxqsets_max, 1);
    }

    #[test]
    fn mtu_limits() {
        assert_eq!(max_frame_for_mtu(1500), Some(1522));
        assert_eq!(max_frame_for_mtu(9706), Some(9728));
        assert_eq!(max_frame_for_mtu(9707), None);
        assert_eq!(max_frame_for_mtu(111), None);
        assert_eq!(max_frame_for_mtu(112), Some(134));
    }

    #[test]
    fn media_words() {
        // SAFETY: integers and a raw pointer only: all-zero is valid.
        let mut m: ifmediareq = unsafe { core::mem::zeroed() };
        media_status(&mut m, true, 10_000);
        assert_eq!(m.ifm_status, IFM_AVALID | IFM_ACTIVE);
        assert_eq!(m.ifm_active, IFM_ETHER | IFM_FDX | IFM_10G_SR);
        media_status(&mut m, true, 25_000);
        assert_eq!(m.ifm_active, IFM_ETHER | IFM_FDX | IFM_25G_SR);
        media_status(&mut m, false, 40_000);
        assert_eq!((m.ifm_status, m.ifm_active), (IFM_AVALID, IFM_ETHER));
    }

    #[test]
    fn names() {
        let mut b = [0xFFu8; 8];
        queue_name(&mut b, b"rxq", 0);
        assert_eq!(&b, b"rxq0\0\0\0\0");
        queue_name(&mut b, b"txq", 15);
        assert_eq!(&b, b"txq15\0\0\0");
        queue_name(&mut b, b"rxq", 123);
        assert_eq!(&b, b"rxq123\0\0");
    }
}
