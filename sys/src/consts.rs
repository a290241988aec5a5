//! Constants from FreeBSD headers (values checked against releng/14.3; unchanged in
//! main). Each group names its header once.

use core::ffi::{c_int, c_uint};

// ---------------------------------------------------------------------------
// sys/net/iflib.h
// ---------------------------------------------------------------------------

/// iflib.h: `IFLIB_MAGIC 0xCAFEF00D` (`isc_magic`).
pub const IFLIB_MAGIC: c_uint = 0xCAFE_F00D;

// iflib.h: `isc_flags` bits.
pub const IFLIB_HAS_RXCQ: c_int = 0x01;
pub const IFLIB_SKIP_MSIX: c_int = 0x02;
pub const IFLIB_IS_VF: c_int = 0x04;
pub const IFLIB_HAS_TXCQ: c_int = 0x08;
pub const IFLIB_NEED_SCRATCH: c_int = 0x10;
pub const IFLIB_TSO_INIT_IP: c_int = 0x20;
pub const IFLIB_DO_RX_FIXUP: c_int = 0x40;
pub const IFLIB_NEED_ZERO_CSUM: c_int = 0x80;
pub const IFLIB_NEED_ETHER_PAD: c_int = 0x100;
pub const IFLIB_ADMIN_ALWAYS_RUN: c_int = 0x10000;
pub const IFLIB_DRIVER_MEDIA: c_int = 0x20000;
pub const IFLIB_SINGLE_IRQ_RX_ONLY: c_int = 0x40000;
pub const IFLIB_HAS_ADMINCQ: c_int = 0x100000;
pub const IFLIB_PRESERVE_TX_INDICES: c_int = 0x200000;

// iflib.h: `iflib_intr_mode_t` (enum, in order).
pub const IFLIB_INTR_LEGACY: c_uint = 0;
pub const IFLIB_INTR_MSI: c_uint = 1;
pub const IFLIB_INTR_MSIX: c_uint = 2;

// iflib.h: `iflib_intr_type_t` (enum, in order: RX, TX, RXTX, ADMIN, IOV).
pub const IFLIB_INTR_RX: c_uint = 0;
pub const IFLIB_INTR_TX: c_uint = 1;
pub const IFLIB_INTR_RXTX: c_uint = 2;
pub const IFLIB_INTR_ADMIN: c_uint = 3;
pub const IFLIB_INTR_IOV: c_uint = 4;

/// iflib.h: `enum iflib_restart_event { IFLIB_RESTART_VLAN_CONFIG }`.
pub const IFLIB_RESTART_VLAN_CONFIG: c_uint = 0;

// iflib.h: `ipi_flags`.
pub const IPI_TX_INTR: u16 = 0x1;
pub const IPI_TX_IPV4: u16 = 0x2;
pub const IPI_TX_IPV6: u16 = 0x4;

/// iflib.c: `IFLIB_MAX_RX_REFRESH 32` — the most buffers one `rxd_refill` carries.
pub const IFLIB_MAX_RX_REFRESH: usize = 32;

// ---------------------------------------------------------------------------
// sys/sys/mbuf.h
// ---------------------------------------------------------------------------

// mbuf.h: `m_flags` bits that fit the u8 `ipi_mflags` / `iri_flags`.
pub const M_BCAST: u32 = 0x0000_0010;
pub const M_MCAST: u32 = 0x0000_0020;
/// mbuf.h: `M_VLANTAG 0x00000080` (ether_vtag is valid).
pub const M_VLANTAG: u32 = 0x0000_0080;

// mbuf.h: checksum flags (`csum_flags`, `ipi_csum_flags`, `iri_csum_flags`).
pub const CSUM_IP: u32 = 0x0000_0001;
pub const CSUM_IP_UDP: u32 = 0x0000_0002;
pub const CSUM_IP_TCP: u32 = 0x0000_0004;
pub const CSUM_IP_SCTP: u32 = 0x0000_0008;
pub const CSUM_IP_TSO: u32 = 0x0000_0010;
pub const CSUM_IP_ISCSI: u32 = 0x0000_0020;
pub const CSUM_IP6_UDP: u32 = 0x0000_0200;
pub const CSUM_IP6_TCP: u32 = 0x0000_0400;
pub const CSUM_IP6_SCTP: u32 = 0x0000_0800;
pub const CSUM_IP6_TSO: u32 = 0x0000_1000;
pub const CSUM_IP6_ISCSI: u32 = 0x0000_2000;
pub const CSUM_L3_CALC: u32 = 0x0100_0000;
pub const CSUM_L3_VALID: u32 = 0x0200_0000;
pub const CSUM_L4_CALC: u32 = 0x0400_0000;
pub const CSUM_L4_VALID: u32 = 0x0800_0000;
// mbuf.h: compatibility aliases.
pub const CSUM_TCP: u32 = CSUM_IP_TCP;
pub const CSUM_UDP: u32 = CSUM_IP_UDP;
pub const CSUM_SCTP: u32 = CSUM_IP_SCTP;
pub const CSUM_TSO: u32 = CSUM_IP_TSO | CSUM_IP6_TSO;
pub const CSUM_UDP_IPV6: u32 = CSUM_IP6_UDP;
pub const CSUM_TCP_IPV6: u32 = CSUM_IP6_TCP;
pub const CSUM_SCTP_IPV6: u32 = CSUM_IP6_SCTP;
pub const CSUM_IP_CHECKED: u32 = CSUM_L3_CALC;
pub const CSUM_IP_VALID: u32 = CSUM_L3_VALID;
pub const CSUM_DATA_VALID: u32 = CSUM_L4_VALID;
pub const CSUM_PSEUDO_HDR: u32 = CSUM_L4_CALC;
/// iavf_iflib.h: `IAVF_CSUM_OFFLOAD` = IPv4 (IP, TCP, UDP, SCTP) | IPv6 (TCP, UDP,
/// SCTP) | TSO — what the 700-series VF offloads on transmit.
pub const RAVF_CSUM_OFFLOAD: u32 = CSUM_IP
    | CSUM_TCP
    | CSUM_UDP
    | CSUM_SCTP
    | CSUM_TCP_IPV6
    | CSUM_UDP_IPV6
    | CSUM_SCTP_IPV6
    | CSUM_TSO;

// mbuf.h: RSS hash types (`iri_rsstype`); `M_HASHTYPE_HASH(t)` = 0x80 | t.
pub const M_HASHTYPE_HASHPROP: u8 = 0x80;
pub const M_HASHTYPE_NONE: u8 = 0;
pub const M_HASHTYPE_RSS_IPV4: u8 = M_HASHTYPE_HASHPROP | 1;
pub const M_HASHTYPE_RSS_TCP_IPV4: u8 = M_HASHTYPE_HASHPROP | 2;
pub const M_HASHTYPE_RSS_IPV6: u8 = M_HASHTYPE_HASHPROP | 3;
pub const M_HASHTYPE_RSS_TCP_IPV6: u8 = M_HASHTYPE_HASHPROP | 4;
pub const M_HASHTYPE_RSS_IPV6_EX: u8 = M_HASHTYPE_HASHPROP | 5;
pub const M_HASHTYPE_RSS_TCP_IPV6_EX: u8 = M_HASHTYPE_HASHPROP | 6;
pub const M_HASHTYPE_RSS_UDP_IPV4: u8 = M_HASHTYPE_HASHPROP | 7;
pub const M_HASHTYPE_RSS_UDP_IPV6: u8 = M_HASHTYPE_HASHPROP | 9;
pub const M_HASHTYPE_RSS_UDP_IPV6_EX: u8 = M_HASHTYPE_HASHPROP | 10;
/// mbuf.h: `M_HASHTYPE_OPAQUE 0x3f` (ordering, not affinity; no HASHPROP bit).
pub const M_HASHTYPE_OPAQUE: u8 = 0x3f;
/// mbuf.h: `M_HASHTYPE_OPAQUE_HASH` = HASHPROP | OPAQUE.
pub const M_HASHTYPE_OPAQUE_HASH: u8 = M_HASHTYPE_HASHPROP | M_HASHTYPE_OPAQUE;

/// param.h: `MCLBYTES` (2 KiB clusters).
pub const MCLBYTES: u32 = 2048;
/// param.h: `MJUMPAGESIZE` = `PAGE_SIZE` on amd64.
pub const MJUMPAGESIZE: u32 = 4096;

// ---------------------------------------------------------------------------
// sys/sys/malloc.h
// ---------------------------------------------------------------------------

pub const M_NOWAIT: c_int = 0x0001;
pub const M_WAITOK: c_int = 0x0002;
pub const M_ZERO: c_int = 0x0100;

// ---------------------------------------------------------------------------
// sys/sys/bus_dma.h
// ---------------------------------------------------------------------------

pub const BUS_DMA_WAITOK: c_int = 0x00;
pub const BUS_DMA_NOWAIT: c_int = 0x01;
pub const BUS_DMA_COHERENT: c_int = 0x04;
pub const BUS_DMA_ZERO: c_int = 0x08;

// ---------------------------------------------------------------------------
// sys/sys/bus.h
// ---------------------------------------------------------------------------

// bus.h: interrupt filter return values.
pub const FILTER_STRAY: c_int = 0x01;
pub const FILTER_HANDLED: c_int = 0x02;
pub const FILTER_SCHEDULE_THREAD: c_int = 0x04;

// bus.h: probe priorities.
pub const BUS_PROBE_SPECIFIC: c_int = 0;
pub const BUS_PROBE_VENDOR: c_int = -10;
pub const BUS_PROBE_DEFAULT: c_int = -20;
pub const BUS_PROBE_LOW_PRIORITY: c_int = -40;
pub const BUS_PROBE_GENERIC: c_int = -100;

// ---------------------------------------------------------------------------
// sys/net/if.h, sys/net/if_var.h
// ---------------------------------------------------------------------------

// if.h: interface flags (`promisc_set` receives these).
pub const IFF_UP: c_int = 0x1;
pub const IFF_BROADCAST: c_int = 0x2;
pub const IFF_DRV_RUNNING: c_int = 0x40;
pub const IFF_PROMISC: c_int = 0x100;
pub const IFF_ALLMULTI: c_int = 0x200;
pub const IFF_SIMPLEX: c_int = 0x800;
pub const IFF_MULTICAST: c_int = 0x8000;

// if.h: link states for `iflib_link_state_change`.
pub const LINK_STATE_UNKNOWN: c_int = 0;
pub const LINK_STATE_DOWN: c_int = 1;
pub const LINK_STATE_UP: c_int = 2;

/// if.h: `IF_Mbps(x)` — bits per second.
pub const fn if_mbps(x: u64) -> u64 {
    x * 1_000_000
}
/// if.h: `IF_Gbps(x)`.
pub const fn if_gbps(x: u64) -> u64 {
    x * 1_000_000_000
}

// if.h: capability bits, `IFCAP_BIT(IFCAP_B_*)` = 1 << bit.
pub const IFCAP_RXCSUM: c_int = 1 << 0;
pub const IFCAP_TXCSUM: c_int = 1 << 1;
pub const IFCAP_NETCONS: c_int = 1 << 2;
pub const IFCAP_VLAN_MTU: c_int = 1 << 3;
pub const IFCAP_VLAN_HWTAGGING: c_int = 1 << 4;
pub const IFCAP_JUMBO_MTU: c_int = 1 << 5;
pub const IFCAP_POLLING: c_int = 1 << 6;
pub const IFCAP_VLAN_HWCSUM: c_int = 1 << 7;
pub const IFCAP_TSO4: c_int = 1 << 8;
pub const IFCAP_TSO6: c_int = 1 << 9;
pub const IFCAP_LRO: c_int = 1 << 10;
pub const IFCAP_VLAN_HWFILTER: c_int = 1 << 16;
pub const IFCAP_VLAN_HWTSO: c_int = 1 << 18;
pub const IFCAP_LINKSTATE: c_int = 1 << 19;
pub const IFCAP_NETMAP: c_int = 1 << 20;
pub const IFCAP_RXCSUM_IPV6: c_int = 1 << 21;
pub const IFCAP_TXCSUM_IPV6: c_int = 1 << 22;
pub const IFCAP_HWSTATS: c_int = 1 << 23;
pub const IFCAP_MEXTPG: c_int = 1 << 26;
/// if.h: `IFCAP_TSO` = TSO4 | TSO6.
pub const IFCAP_TSO: c_int = IFCAP_TSO4 | IFCAP_TSO6;
/// iavf_iflib.h: `IAVF_CAPS` — the capability set FreeBSD's iavf advertises.
pub const RAVF_CAPS: c_int = IFCAP_TSO4
    | IFCAP_TSO6
    | IFCAP_TXCSUM
    | IFCAP_TXCSUM_IPV6
    | IFCAP_RXCSUM
    | IFCAP_RXCSUM_IPV6
    | IFCAP_VLAN_HWFILTER
    | IFCAP_VLAN_HWTSO
    | IFCAP_VLAN_HWTAGGING
    | IFCAP_VLAN_HWCSUM
    | IFCAP_VLAN_MTU
    | IFCAP_JUMBO_MTU
    | IFCAP_LRO;

// if_var.h: `ift_counter` (enum, in order).
pub const IFCOUNTER_IPACKETS: c_uint = 0;
pub const IFCOUNTER_IERRORS: c_uint = 1;
pub const IFCOUNTER_OPACKETS: c_uint = 2;
pub const IFCOUNTER_OERRORS: c_uint = 3;
pub const IFCOUNTER_COLLISIONS: c_uint = 4;
pub const IFCOUNTER_IBYTES: c_uint = 5;
pub const IFCOUNTER_OBYTES: c_uint = 6;
pub const IFCOUNTER_IMCASTS: c_uint = 7;
pub const IFCOUNTER_OMCASTS: c_uint = 8;
pub const IFCOUNTER_IQDROPS: c_uint = 9;
pub const IFCOUNTER_OQDROPS: c_uint = 10;
pub const IFCOUNTER_NOPROTO: c_uint = 11;

// ---------------------------------------------------------------------------
// sys/net/if_media.h
// ---------------------------------------------------------------------------

pub const IFM_ETHER: c_int = 0x0000_0020;
pub const IFM_AUTO: c_int = 0;
pub const IFM_FDX: c_int = 0x0010_0000;
pub const IFM_AVALID: c_int = 0x0000_0001;
pub const IFM_ACTIVE: c_int = 0x0000_0002;
/// if_media.h: `IFM_TMASK 0x1f` (media subtype).
pub const IFM_TMASK: c_int = 0x0000_001f;
/// if_media.h: `IFM_ETH_XTYPE 0x7800` (extended Ethernet subtypes).
pub const IFM_ETH_XTYPE: c_int = 0x0000_7800;
/// if_media.h: `IFM_ETH_XSHIFT 6`.
pub const IFM_ETH_XSHIFT: c_int = 6;

/// if_media.h: `IFM_X(x)` = `IFM_ETHER_SUBTYPE(x)`: subtypes above 31 keep their low
/// five bits in `IFM_TMASK` and move the rest into `IFM_ETH_XTYPE`.
pub const fn ifm_x(x: c_int) -> c_int {
    (x & IFM_TMASK) | ((x & (IFM_ETH_XTYPE >> IFM_ETH_XSHIFT)) << IFM_ETH_XSHIFT)
}

// if_media.h: Ethernet subtypes used by `media_status` (synthetic, by link speed).
pub const IFM_10_T: c_int = 3;
pub const IFM_100_TX: c_int = 6;
pub const IFM_1000_T: c_int = 16;
pub const IFM_10G_SR: c_int = 19;
pub const IFM_40G_SR4: c_int = 28;
pub const IFM_20G_KR2: c_int = ifm_x(35);
pub const IFM_2500_T: c_int = ifm_x(37);
pub const IFM_5000_T: c_int = ifm_x(38);
pub const IFM_100G_SR4: c_int = ifm_x(48);
pub const IFM_25G_SR: c_int = ifm_x(55);
pub const IFM_50G_SR2: c_int = ifm_x(75);

// ---------------------------------------------------------------------------
// sys/sys/errno.h (FreeBSD numbering; differs from Linux above 34)
// ---------------------------------------------------------------------------

pub const EIO: c_int = 5;
pub const ENXIO: c_int = 6;
pub const ENOMEM: c_int = 12;
pub const EBUSY: c_int = 16;
pub const ENODEV: c_int = 19;
pub const EINVAL: c_int = 22;
pub const EFBIG: c_int = 27;
pub const ENOSPC: c_int = 28;
pub const EAGAIN: c_int = 35;
pub const EOPNOTSUPP: c_int = 45;
pub const ENOTSUP: c_int = EOPNOTSUPP;
pub const ENETDOWN: c_int = 50;
pub const ENOBUFS: c_int = 55;
pub const ETIMEDOUT: c_int = 60;
pub const EBADMSG: c_int = 89;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ifm_x_moves_high_bits() {
        // 35 = 0b1_00011: low five bits 3, bit 5 moves to bit 11.
        assert_eq!(IFM_20G_KR2, 0x803);
        // 75 = 0b10_01011: 11 | (0x40 << 6).
        assert_eq!(IFM_50G_SR2, 0x100b);
        // Subtypes below 32 are unchanged.
        assert_eq!(ifm_x(IFM_10G_SR), 19);
    }

    #[test]
    fn capability_word_matches_live_ifconfig() {
        // freebsd-iavf-iflib.md 1.10: ifconfig shows options=4e507bb with iflib's
        // HWSTATS and MEXTPG added to IAVF_CAPS.
        assert_eq!(RAVF_CAPS | IFCAP_HWSTATS | IFCAP_MEXTPG, 0x4e5_07bb);
    }

    #[test]
    fn mbuf_flags_fit_u8_fields() {
        assert!(M_VLANTAG <= u8::MAX as u32);
        assert_eq!(CSUM_TSO, 0x1010);
    }
}
