//! `#[repr(C)]` mirrors of the iflib structs (amd64).
//!
//! Field names and order follow `sys/net/iflib.h` (releng/14.3 and main; see the crate
//! docs). Every struct carries `const` assertions of its size and of each field
//! offset the driver reads or writes; the numbers are those of
//! freebsd-iavf-iflib.md §2.1 (gcc, x86_64), re-derived here from the header text.

use core::ffi::{c_char, c_int, c_uint, c_void};
use core::marker::{PhantomData, PhantomPinned};
use core::mem::{align_of, offset_of, size_of};

use static_assertions::const_assert_eq;

/// Declares an opaque, unsized-in-spirit C type: only ever used behind a pointer.
macro_rules! opaque {
    ($($(#[$m:meta])* $name:ident;)*) => {$(
        $(#[$m])*
        #[repr(C)]
        pub struct $name {
            _data: [u8; 0],
            _marker: PhantomData<(*mut u8, PhantomPinned)>,
        }
    )*};
}

opaque! {
    /// `struct iflib_ctx` (private to iflib.c).
    iflib_ctx;
    /// `struct ifnet` (private since 14.0: `net/if_private.h`).
    ifnet;
    /// `struct _device` (newbus).
    device;
    /// `struct resource` (newbus).
    resource;
    /// `struct ifmedia`.
    ifmedia;
    /// `struct mbuf`.
    mbuf;
    /// `struct kobj_class` (`driver_t`).
    kobj_class;
    /// `struct bus_dma_tag`.
    bus_dma_tag;
    /// `struct bus_dmamap`.
    bus_dmamap;
}

/// iflib.h: `typedef struct iflib_ctx *if_ctx_t`.
pub type if_ctx_t = *mut iflib_ctx;
/// if.h: `typedef struct ifnet *if_t` (14.0+).
pub type if_t = *mut ifnet;
/// bus.h: `typedef struct _device *device_t`.
pub type device_t = *mut device;
/// bus.h: `typedef struct kobj_class driver_t`.
pub type driver_t = kobj_class;
/// amd64 `_bus.h`: `bus_addr_t` is `uint64_t`.
pub type bus_addr_t = u64;
/// amd64 `_bus.h`: `bus_size_t` is `uint64_t`.
pub type bus_size_t = u64;
/// bus_dma.h: `typedef struct bus_dma_tag *bus_dma_tag_t`.
pub type bus_dma_tag_t = *mut bus_dma_tag;
/// bus_dma.h: `typedef struct bus_dmamap *bus_dmamap_t`.
pub type bus_dmamap_t = *mut bus_dmamap;
/// types.h: `typedef char *caddr_t`.
pub type caddr_t = *mut c_char;
/// iflib.h: `typedef uint16_t qidx_t`.
pub type qidx_t = u16;
/// iflib.h: `QIDX_INVALID 0xFFFF`.
pub const QIDX_INVALID: qidx_t = 0xFFFF;
/// iflib.h: `iflib_intr_mode_t` (a C enum: 4 bytes).
pub type iflib_intr_mode_t = c_uint;
/// iflib.h: `iflib_intr_type_t` (a C enum).
pub type iflib_intr_type_t = c_uint;
/// iflib.h: `enum iflib_restart_event`.
pub type iflib_restart_event = c_uint;
/// if_var.h: `ift_counter` (a C enum).
pub type ift_counter = c_uint;
/// bus.h: `typedef int driver_filter_t(void *)`.
pub type driver_filter_t = unsafe extern "C" fn(arg: *mut c_void) -> c_int;
/// taskqueue.h: `typedef void task_fn_t(void *context, int pending)`.
pub type task_fn_t = unsafe extern "C" fn(context: *mut c_void, pending: c_int);

/// bus_dma.h: `bus_dma_segment_t` — 16 bytes.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct bus_dma_segment {
    /// DMA (bus) address.
    pub ds_addr: bus_addr_t,
    /// Length in bytes.
    pub ds_len: bus_size_t,
}
pub type bus_dma_segment_t = bus_dma_segment;
const_assert_eq!(size_of::<bus_dma_segment>(), 16);
const_assert_eq!(offset_of!(bus_dma_segment, ds_len), 8);

/// iflib.h: `struct if_rxd_frag` — 6 bytes, align 2.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct if_rxd_frag {
    /// Free-list id.
    pub irf_flid: u8,
    /// Ring slot of the buffer.
    pub irf_idx: qidx_t,
    /// Bytes in this buffer.
    pub irf_len: u16,
}
pub type if_rxd_frag_t = *mut if_rxd_frag;
const_assert_eq!(size_of::<if_rxd_frag>(), 6);
const_assert_eq!(align_of::<if_rxd_frag>(), 2);
const_assert_eq!(offset_of!(if_rxd_frag, irf_idx), 2);
const_assert_eq!(offset_of!(if_rxd_frag, irf_len), 4);

/// iflib.h: `IFLIB_MAX_RX_SEGS 64` (the most frags any driver may report).
pub const IFLIB_MAX_RX_SEGS: usize = 64;

/// iflib.h: `struct if_rxd_info` — 40 bytes. Passed to `ift_rxd_pkt_get`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct if_rxd_info {
    /// Set by iflib: queue set index.
    pub iri_qsidx: u16,
    /// Driver: VLAN tag (valid with `M_VLANTAG` in `iri_flags`).
    pub iri_vtag: u16,
    /// Driver: packet length.
    pub iri_len: u16,
    /// Set by iflib: first descriptor of the packet.
    pub iri_cidx: qidx_t,
    /// Set by iflib.
    pub iri_ifp: if_t,
    /// Set by iflib: array of `isc_rx_nsegments` frags the driver fills.
    pub iri_frags: if_rxd_frag_t,
    /// Driver: RSS hash.
    pub iri_flowid: u32,
    /// Driver: `CSUM_*` receive flags.
    pub iri_csum_flags: u32,
    /// Driver: checksum data (0xffff with `CSUM_L4_VALID`).
    pub iri_csum_data: u32,
    /// Driver: mbuf flags (`M_VLANTAG`).
    pub iri_flags: u8,
    /// Driver: number of frags used.
    pub iri_nfrags: u8,
    /// Driver: `M_HASHTYPE_*`.
    pub iri_rsstype: u8,
    /// Driver: padding before the data.
    pub iri_pad: u8,
}
pub type if_rxd_info_t = *mut if_rxd_info;
const_assert_eq!(size_of::<if_rxd_info>(), 40);
const_assert_eq!(offset_of!(if_rxd_info, iri_vtag), 2);
const_assert_eq!(offset_of!(if_rxd_info, iri_len), 4);
const_assert_eq!(offset_of!(if_rxd_info, iri_cidx), 6);
const_assert_eq!(offset_of!(if_rxd_info, iri_ifp), 8);
const_assert_eq!(offset_of!(if_rxd_info, iri_frags), 16);
const_assert_eq!(offset_of!(if_rxd_info, iri_flowid), 24);
const_assert_eq!(offset_of!(if_rxd_info, iri_csum_flags), 28);
const_assert_eq!(offset_of!(if_rxd_info, iri_csum_data), 32);
const_assert_eq!(offset_of!(if_rxd_info, iri_flags), 36);
const_assert_eq!(offset_of!(if_rxd_info, iri_nfrags), 37);
const_assert_eq!(offset_of!(if_rxd_info, iri_rsstype), 38);
const_assert_eq!(offset_of!(if_rxd_info, iri_pad), 39);

/// iflib.h: `struct if_rxd_update` — 32 bytes (no `iru_vaddrs` since 2020). Passed to
/// `ift_rxd_refill`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct if_rxd_update {
    /// `iru_count` bus addresses of fresh buffers.
    pub iru_paddrs: *mut u64,
    /// `iru_count` free-list slot ids.
    pub iru_idxs: *mut qidx_t,
    /// First ring slot to fill.
    pub iru_pidx: qidx_t,
    /// Queue set index.
    pub iru_qsidx: u16,
    /// Number of buffers (≤ 32, `IFLIB_MAX_RX_REFRESH`).
    pub iru_count: u16,
    /// Buffer size.
    pub iru_buf_size: u16,
    /// Free-list index.
    pub iru_flidx: u8,
}
pub type if_rxd_update_t = *mut if_rxd_update;
const_assert_eq!(size_of::<if_rxd_update>(), 32);
const_assert_eq!(offset_of!(if_rxd_update, iru_idxs), 8);
const_assert_eq!(offset_of!(if_rxd_update, iru_pidx), 16);
const_assert_eq!(offset_of!(if_rxd_update, iru_qsidx), 18);
const_assert_eq!(offset_of!(if_rxd_update, iru_count), 20);
const_assert_eq!(offset_of!(if_rxd_update, iru_buf_size), 22);
const_assert_eq!(offset_of!(if_rxd_update, iru_flidx), 24);

/// iflib.h: `struct if_pkt_info` — 48 bytes (iflib.c `CTASSERT`s 6×8). Passed to
/// `ift_txd_encap`.
#[cfg(not(feature = "freebsd15"))]
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct if_pkt_info {
    /// `ipi_nsegs` DMA segments of the packet.
    pub ipi_segs: *mut bus_dma_segment_t,
    /// Packet length.
    pub ipi_len: u32,
    /// Queue set index.
    pub ipi_qsidx: u16,
    /// Number of segments.
    pub ipi_nsegs: qidx_t,
    /// Descriptors used by encap (driver may set).
    pub ipi_ndescs: qidx_t,
    /// `IPI_TX_*`.
    pub ipi_flags: u16,
    /// First free descriptor.
    pub ipi_pidx: qidx_t,
    /// Driver: descriptor after the last one used.
    pub ipi_new_pidx: qidx_t,
    pub ipi_ehdrlen: u8,
    pub ipi_ip_hlen: u8,
    pub ipi_tcp_hlen: u8,
    pub ipi_ipproto: u8,
    /// `CSUM_*` transmit flags.
    pub ipi_csum_flags: u32,
    pub ipi_tso_segsz: u16,
    pub ipi_vtag: u16,
    pub ipi_etype: u16,
    pub ipi_tcp_hflags: u8,
    /// mbuf flags (`M_VLANTAG`).
    pub ipi_mflags: u8,
    pub ipi_tcp_seq: u32,
    pub ipi_ip_tos: u8,
    pub __spare0__: u8,
    pub __spare1__: u16,
}

/// FreeBSD 15.0's `struct if_pkt_info` (net/iflib.h of 15.0, /usr/include as shipped):
/// still 48 bytes, but `ipi_tcp_hflags` grew to 16 bits (TCP's 12-bit flags field) and
/// `ipi_mflags` moved behind `ipi_ip_tos`, from offset 39 to 45. Reading 14.x's
/// offset on 15.0 would take M_VLANTAG from the TCP flags.
#[cfg(feature = "freebsd15")]
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct if_pkt_info {
    pub ipi_segs: *mut bus_dma_segment_t,
    pub ipi_len: u32,
    pub ipi_qsidx: u16,
    pub ipi_nsegs: qidx_t,
    pub ipi_ndescs: qidx_t,
    pub ipi_flags: u16,
    pub ipi_pidx: qidx_t,
    pub ipi_new_pidx: qidx_t,
    pub ipi_ehdrlen: u8,
    pub ipi_ip_hlen: u8,
    pub ipi_tcp_hlen: u8,
    pub ipi_ipproto: u8,
    pub ipi_csum_flags: u32,
    pub ipi_tso_segsz: u16,
    pub ipi_vtag: u16,
    pub ipi_etype: u16,
    pub ipi_tcp_hflags: u16,
    pub ipi_tcp_seq: u32,
    pub ipi_ip_tos: u8,
    /// mbuf flags (`M_VLANTAG`).
    pub ipi_mflags: u8,
    pub __spare0__: u8,
    pub __spare1__: u8,
}
pub type if_pkt_info_t = *mut if_pkt_info;
const_assert_eq!(size_of::<if_pkt_info>(), 48);
const_assert_eq!(offset_of!(if_pkt_info, ipi_len), 8);
const_assert_eq!(offset_of!(if_pkt_info, ipi_qsidx), 12);
const_assert_eq!(offset_of!(if_pkt_info, ipi_nsegs), 14);
const_assert_eq!(offset_of!(if_pkt_info, ipi_ndescs), 16);
const_assert_eq!(offset_of!(if_pkt_info, ipi_flags), 18);
const_assert_eq!(offset_of!(if_pkt_info, ipi_pidx), 20);
const_assert_eq!(offset_of!(if_pkt_info, ipi_new_pidx), 22);
const_assert_eq!(offset_of!(if_pkt_info, ipi_ehdrlen), 24);
const_assert_eq!(offset_of!(if_pkt_info, ipi_ip_hlen), 25);
const_assert_eq!(offset_of!(if_pkt_info, ipi_tcp_hlen), 26);
const_assert_eq!(offset_of!(if_pkt_info, ipi_ipproto), 27);
const_assert_eq!(offset_of!(if_pkt_info, ipi_csum_flags), 28);
const_assert_eq!(offset_of!(if_pkt_info, ipi_tso_segsz), 32);
const_assert_eq!(offset_of!(if_pkt_info, ipi_vtag), 34);
const_assert_eq!(offset_of!(if_pkt_info, ipi_etype), 36);
const_assert_eq!(offset_of!(if_pkt_info, ipi_tcp_hflags), 38);
#[cfg(not(feature = "freebsd15"))]
const_assert_eq!(offset_of!(if_pkt_info, ipi_mflags), 39);
#[cfg(feature = "freebsd15")]
const_assert_eq!(offset_of!(if_pkt_info, ipi_mflags), 45);
const_assert_eq!(offset_of!(if_pkt_info, ipi_tcp_seq), 40);
const_assert_eq!(offset_of!(if_pkt_info, ipi_ip_tos), 44);

/// iflib.h: `struct if_irq` — 24 bytes. The driver owns the storage; iflib fills it.
#[repr(C)]
#[derive(Debug)]
pub struct if_irq {
    pub ii_res: *mut resource,
    pub __spare0__: c_int,
    pub ii_tag: *mut c_void,
}
pub type if_irq_t = *mut if_irq;
const_assert_eq!(size_of::<if_irq>(), 24);
const_assert_eq!(offset_of!(if_irq, __spare0__), 8);
const_assert_eq!(offset_of!(if_irq, ii_tag), 16);

impl if_irq {
    /// An unallocated IRQ slot.
    pub const fn zeroed() -> Self {
        Self {
            ii_res: core::ptr::null_mut(),
            __spare0__: 0,
            ii_tag: core::ptr::null_mut(),
        }
    }
}

/// iflib.h: `pci_vendor_info_t` — 32 bytes; tables end with an all-zero entry.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct pci_vendor_info {
    pub pvi_vendor_id: u32,
    pub pvi_device_id: u32,
    pub pvi_subvendor_id: u32,
    pub pvi_subdevice_id: u32,
    pub pvi_rev_id: u32,
    pub pvi_class_mask: u32,
    pub pvi_name: *const c_char,
}
pub type pci_vendor_info_t = pci_vendor_info;
const_assert_eq!(size_of::<pci_vendor_info>(), 32);
const_assert_eq!(offset_of!(pci_vendor_info, pvi_class_mask), 20);
const_assert_eq!(offset_of!(pci_vendor_info, pvi_name), 24);

/// `ift_txd_encap`: `int (*)(void *sc, if_pkt_info_t)`.
pub type ift_txd_encap_t = unsafe extern "C" fn(sc: *mut c_void, pi: if_pkt_info_t) -> c_int;
/// `ift_txd_flush`: `void (*)(void *sc, uint16_t qid, qidx_t pidx)`.
pub type ift_txd_flush_t = unsafe extern "C" fn(sc: *mut c_void, qid: u16, pidx: qidx_t);
/// `ift_txd_credits_update`: `int (*)(void *sc, uint16_t qid, bool clear)`.
pub type ift_txd_credits_update_t =
    unsafe extern "C" fn(sc: *mut c_void, qid: u16, clear: bool) -> c_int;
/// `ift_rxd_available`: `int (*)(void *sc, uint16_t qid, qidx_t pidx, qidx_t budget)`.
pub type ift_rxd_available_t =
    unsafe extern "C" fn(sc: *mut c_void, qid: u16, pidx: qidx_t, budget: qidx_t) -> c_int;
/// `ift_rxd_pkt_get`: `int (*)(void *sc, if_rxd_info_t)`.
pub type ift_rxd_pkt_get_t = unsafe extern "C" fn(sc: *mut c_void, ri: if_rxd_info_t) -> c_int;
/// `ift_rxd_refill`: `void (*)(void *sc, if_rxd_update_t)`.
pub type ift_rxd_refill_t = unsafe extern "C" fn(sc: *mut c_void, iru: if_rxd_update_t);
/// `ift_rxd_flush`: `void (*)(void *sc, uint16_t qid, uint8_t flid, qidx_t pidx)`.
pub type ift_rxd_flush_t = unsafe extern "C" fn(sc: *mut c_void, qid: u16, flid: u8, pidx: qidx_t);
/// `ift_legacy_intr`: `int (*)(void *sc)`.
pub type ift_legacy_intr_t = unsafe extern "C" fn(sc: *mut c_void) -> c_int;
/// `ift_txq_select`: `qidx_t (*)(void *sc, struct mbuf *)`.
pub type ift_txq_select_t = unsafe extern "C" fn(sc: *mut c_void, m: *mut mbuf) -> qidx_t;
/// `ift_txq_select_v2`: `qidx_t (*)(void *sc, struct mbuf *, if_pkt_info_t)`.
pub type ift_txq_select_v2_t =
    unsafe extern "C" fn(sc: *mut c_void, m: *mut mbuf, pi: if_pkt_info_t) -> qidx_t;

/// iflib.h: `struct if_txrx` — 80 bytes (64 before the 14.0 `txq_select` hooks).
/// `Option<fn>` has the C function-pointer layout, NULL being `None`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct if_txrx {
    pub ift_txd_encap: Option<ift_txd_encap_t>,
    pub ift_txd_flush: Option<ift_txd_flush_t>,
    pub ift_txd_credits_update: Option<ift_txd_credits_update_t>,
    pub ift_rxd_available: Option<ift_rxd_available_t>,
    pub ift_rxd_pkt_get: Option<ift_rxd_pkt_get_t>,
    pub ift_rxd_refill: Option<ift_rxd_refill_t>,
    pub ift_rxd_flush: Option<ift_rxd_flush_t>,
    pub ift_legacy_intr: Option<ift_legacy_intr_t>,
    pub ift_txq_select: Option<ift_txq_select_t>,
    pub ift_txq_select_v2: Option<ift_txq_select_v2_t>,
}
pub type if_txrx_t = *mut if_txrx;
const_assert_eq!(size_of::<if_txrx>(), 80);
const_assert_eq!(offset_of!(if_txrx, ift_txd_flush), 8);
const_assert_eq!(offset_of!(if_txrx, ift_txd_credits_update), 16);
const_assert_eq!(offset_of!(if_txrx, ift_rxd_available), 24);
const_assert_eq!(offset_of!(if_txrx, ift_rxd_pkt_get), 32);
const_assert_eq!(offset_of!(if_txrx, ift_rxd_refill), 40);
const_assert_eq!(offset_of!(if_txrx, ift_rxd_flush), 48);
const_assert_eq!(offset_of!(if_txrx, ift_legacy_intr), 56);
const_assert_eq!(offset_of!(if_txrx, ift_txq_select), 64);
const_assert_eq!(offset_of!(if_txrx, ift_txq_select_v2), 72);

/// iflib.h: `struct if_softc_ctx` — 312 bytes. Filled by the driver in attach_pre,
/// updated by iflib (queue counts, ring sizes chosen) before `tx/rx_queues_alloc`.
#[repr(C)]
#[derive(Debug)]
pub struct if_softc_ctx {
    pub isc_vectors: c_int,
    pub isc_nrxqsets: c_int,
    pub isc_ntxqsets: c_int,
    pub __spare0__: u16,
    pub __spare1__: u32,
    pub isc_msix_bar: c_int,
    pub isc_tx_nsegments: c_int,
    pub isc_ntxd: [c_int; 8],
    pub isc_nrxd: [c_int; 8],
    pub isc_txqsizes: [u32; 8],
    pub isc_rxqsizes: [u32; 8],
    pub isc_txd_size: [u8; 8],
    pub isc_rxd_size: [u8; 8],
    pub isc_tx_tso_segments_max: c_int,
    pub isc_tx_tso_size_max: c_int,
    pub isc_tx_tso_segsize_max: c_int,
    pub isc_tx_csum_flags: c_int,
    pub isc_capabilities: c_int,
    pub isc_capenable: c_int,
    pub isc_rss_table_size: c_int,
    pub isc_rss_table_mask: c_int,
    pub isc_nrxqsets_max: c_int,
    pub isc_ntxqsets_max: c_int,
    pub __spare2__: u32,
    pub isc_intr: iflib_intr_mode_t,
    /// 0 means "iflib picks from isc_max_frame_size".
    pub isc_rxd_buf_size: [u16; 8],
    pub isc_max_frame_size: u16,
    pub isc_min_frame_size: u16,
    pub isc_pause_frames: u32,
    pub __spare3__: u32,
    pub __spare4__: u32,
    pub __spare5__: u32,
    pub __spare6__: u32,
    pub __spare7__: u32,
    pub __spare8__: u32,
    pub __spare9__: caddr_t,
    pub isc_disable_msix: c_int,
    pub isc_txrx: if_txrx_t,
    pub isc_media: *mut ifmedia,
    /// Device DMA width in bits; 0 = `BUS_SPACE_MAXADDR`.
    pub isc_dma_width: bus_size_t,
}
pub type if_softc_ctx_t = *mut if_softc_ctx;
const_assert_eq!(size_of::<if_softc_ctx>(), 312);
const_assert_eq!(offset_of!(if_softc_ctx, isc_nrxqsets), 4);
const_assert_eq!(offset_of!(if_softc_ctx, isc_ntxqsets), 8);
const_assert_eq!(offset_of!(if_softc_ctx, __spare0__), 12);
const_assert_eq!(offset_of!(if_softc_ctx, __spare1__), 16);
const_assert_eq!(offset_of!(if_softc_ctx, isc_msix_bar), 20);
const_assert_eq!(offset_of!(if_softc_ctx, isc_tx_nsegments), 24);
const_assert_eq!(offset_of!(if_softc_ctx, isc_ntxd), 28);
const_assert_eq!(offset_of!(if_softc_ctx, isc_nrxd), 60);
const_assert_eq!(offset_of!(if_softc_ctx, isc_txqsizes), 92);
const_assert_eq!(offset_of!(if_softc_ctx, isc_rxqsizes), 124);
const_assert_eq!(offset_of!(if_softc_ctx, isc_txd_size), 156);
const_assert_eq!(offset_of!(if_softc_ctx, isc_rxd_size), 164);
const_assert_eq!(offset_of!(if_softc_ctx, isc_tx_tso_segments_max), 172);
const_assert_eq!(offset_of!(if_softc_ctx, isc_tx_tso_size_max), 176);
const_assert_eq!(offset_of!(if_softc_ctx, isc_tx_tso_segsize_max), 180);
const_assert_eq!(offset_of!(if_softc_ctx, isc_tx_csum_flags), 184);
const_assert_eq!(offset_of!(if_softc_ctx, isc_capabilities), 188);
const_assert_eq!(offset_of!(if_softc_ctx, isc_capenable), 192);
const_assert_eq!(offset_of!(if_softc_ctx, isc_rss_table_size), 196);
const_assert_eq!(offset_of!(if_softc_ctx, isc_rss_table_mask), 200);
const_assert_eq!(offset_of!(if_softc_ctx, isc_nrxqsets_max), 204);
const_assert_eq!(offset_of!(if_softc_ctx, isc_ntxqsets_max), 208);
const_assert_eq!(offset_of!(if_softc_ctx, __spare2__), 212);
const_assert_eq!(offset_of!(if_softc_ctx, isc_intr), 216);
const_assert_eq!(offset_of!(if_softc_ctx, isc_rxd_buf_size), 220);
const_assert_eq!(offset_of!(if_softc_ctx, isc_max_frame_size), 236);
const_assert_eq!(offset_of!(if_softc_ctx, isc_min_frame_size), 238);
const_assert_eq!(offset_of!(if_softc_ctx, isc_pause_frames), 240);
const_assert_eq!(offset_of!(if_softc_ctx, __spare3__), 244);
const_assert_eq!(offset_of!(if_softc_ctx, __spare8__), 264);
const_assert_eq!(offset_of!(if_softc_ctx, __spare9__), 272);
const_assert_eq!(offset_of!(if_softc_ctx, isc_disable_msix), 280);
const_assert_eq!(offset_of!(if_softc_ctx, isc_txrx), 288);
const_assert_eq!(offset_of!(if_softc_ctx, isc_media), 296);
const_assert_eq!(offset_of!(if_softc_ctx, isc_dma_width), 304);

/// `isc_parse_devinfo`: `void (*)(uint16_t *device_id, uint16_t *subvendor_id,
/// uint16_t *subdevice_id, uint16_t *rev_id)`.
pub type isc_parse_devinfo_t = unsafe extern "C" fn(
    device_id: *mut u16,
    subvendor_id: *mut u16,
    subdevice_id: *mut u16,
    rev_id: *mut u16,
);

/// iflib.h: `struct if_shared_ctx` — 384 bytes, align 64 (`isc_nfl` is
/// `__aligned(CACHE_LINE_SIZE)`, so 24 bytes of padding precede it). The C shim
/// defines the driver's instance; this mirror is for tests and checks.
#[repr(C, align(64))]
#[derive(Debug)]
pub struct if_shared_ctx {
    /// `IFLIB_MAGIC`.
    pub isc_magic: c_uint,
    pub isc_driver: *mut driver_t,
    pub isc_q_align: bus_size_t,
    pub isc_tx_maxsize: bus_size_t,
    pub isc_tx_maxsegsize: bus_size_t,
    pub isc_tso_maxsize: bus_size_t,
    pub isc_tso_maxsegsize: bus_size_t,
    pub isc_rx_maxsize: bus_size_t,
    pub isc_rx_maxsegsize: bus_size_t,
    pub isc_rx_nsegments: c_int,
    pub isc_admin_intrcnt: c_int,
    pub isc_vendor_info: *const pci_vendor_info_t,
    pub isc_driver_version: *const c_char,
    pub isc_parse_devinfo: Option<isc_parse_devinfo_t>,
    pub isc_nrxd_min: [c_int; 8],
    pub isc_nrxd_default: [c_int; 8],
    pub isc_nrxd_max: [c_int; 8],
    pub isc_ntxd_min: [c_int; 8],
    pub isc_ntxd_default: [c_int; 8],
    pub isc_ntxd_max: [c_int; 8],
    /// The padding C inserts before the cache-line aligned `isc_nfl`.
    pub _pad_nfl: [u8; 24],
    pub isc_nfl: c_int,
    pub isc_ntxqs: c_int,
    pub isc_nrxqs: c_int,
    pub __spare0__: c_int,
    pub isc_tx_reclaim_thresh: c_int,
    /// `IFLIB_*` flags.
    pub isc_flags: c_int,
}
/// iflib.h (14.0+): `typedef const struct if_shared_ctx *if_shared_ctx_t`.
pub type if_shared_ctx_t = *const if_shared_ctx;
const_assert_eq!(size_of::<if_shared_ctx>(), 384);
const_assert_eq!(align_of::<if_shared_ctx>(), 64);
const_assert_eq!(offset_of!(if_shared_ctx, isc_driver), 8);
const_assert_eq!(offset_of!(if_shared_ctx, isc_q_align), 16);
const_assert_eq!(offset_of!(if_shared_ctx, isc_tx_maxsize), 24);
const_assert_eq!(offset_of!(if_shared_ctx, isc_tx_maxsegsize), 32);
const_assert_eq!(offset_of!(if_shared_ctx, isc_tso_maxsize), 40);
const_assert_eq!(offset_of!(if_shared_ctx, isc_tso_maxsegsize), 48);
const_assert_eq!(offset_of!(if_shared_ctx, isc_rx_maxsize), 56);
const_assert_eq!(offset_of!(if_shared_ctx, isc_rx_maxsegsize), 64);
const_assert_eq!(offset_of!(if_shared_ctx, isc_rx_nsegments), 72);
const_assert_eq!(offset_of!(if_shared_ctx, isc_admin_intrcnt), 76);
const_assert_eq!(offset_of!(if_shared_ctx, isc_vendor_info), 80);
const_assert_eq!(offset_of!(if_shared_ctx, isc_driver_version), 88);
const_assert_eq!(offset_of!(if_shared_ctx, isc_parse_devinfo), 96);
const_assert_eq!(offset_of!(if_shared_ctx, isc_nrxd_min), 104);
const_assert_eq!(offset_of!(if_shared_ctx, isc_nrxd_default), 136);
const_assert_eq!(offset_of!(if_shared_ctx, isc_nrxd_max), 168);
const_assert_eq!(offset_of!(if_shared_ctx, isc_ntxd_min), 200);
const_assert_eq!(offset_of!(if_shared_ctx, isc_ntxd_default), 232);
const_assert_eq!(offset_of!(if_shared_ctx, isc_ntxd_max), 264);
const_assert_eq!(offset_of!(if_shared_ctx, isc_nfl), 320);
const_assert_eq!(offset_of!(if_shared_ctx, isc_ntxqs), 324);
const_assert_eq!(offset_of!(if_shared_ctx, isc_nrxqs), 328);
const_assert_eq!(offset_of!(if_shared_ctx, isc_tx_reclaim_thresh), 336);
const_assert_eq!(offset_of!(if_shared_ctx, isc_flags), 340);

/// iflib.h: `struct iflib_dma_info` — 40 bytes. Filled by `iflib_dma_alloc`.
#[repr(C)]
#[derive(Debug)]
pub struct iflib_dma_info {
    pub idi_paddr: bus_addr_t,
    pub idi_vaddr: caddr_t,
    pub idi_tag: bus_dma_tag_t,
    pub idi_map: bus_dmamap_t,
    pub idi_size: u32,
}
pub type iflib_dma_info_t = *mut iflib_dma_info;
const_assert_eq!(size_of::<iflib_dma_info>(), 40);
const_assert_eq!(offset_of!(iflib_dma_info, idi_vaddr), 8);
const_assert_eq!(offset_of!(iflib_dma_info, idi_tag), 16);
const_assert_eq!(offset_of!(iflib_dma_info, idi_map), 24);
const_assert_eq!(offset_of!(iflib_dma_info, idi_size), 32);

impl iflib_dma_info {
    /// An empty descriptor, ready to be passed to `iflib_dma_alloc`.
    pub const fn zeroed() -> Self {
        Self {
            idi_paddr: 0,
            idi_vaddr: core::ptr::null_mut(),
            idi_tag: core::ptr::null_mut(),
            idi_map: core::ptr::null_mut(),
            idi_size: 0,
        }
    }
}

/// if.h: `IFNAMSIZ` = `IF_NAMESIZE` = 16.
pub const IFNAMSIZ: usize = 16;

/// if.h: `struct ifmediareq` — 48 bytes. `ifdi_media_status` fills `ifm_status` and
/// `ifm_active`.
#[repr(C)]
#[derive(Debug)]
pub struct ifmediareq {
    pub ifm_name: [c_char; IFNAMSIZ],
    pub ifm_current: c_int,
    pub ifm_mask: c_int,
    pub ifm_status: c_int,
    pub ifm_active: c_int,
    pub ifm_count: c_int,
    pub ifm_ulist: *mut c_int,
}
const_assert_eq!(size_of::<ifmediareq>(), 48);
const_assert_eq!(offset_of!(ifmediareq, ifm_current), 16);
const_assert_eq!(offset_of!(ifmediareq, ifm_status), 24);
const_assert_eq!(offset_of!(ifmediareq, ifm_active), 28);
const_assert_eq!(offset_of!(ifmediareq, ifm_ulist), 40);
