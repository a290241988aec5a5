//! virtchnl: the VF ↔ PF message protocol carried over the admin queue.
//!
//! Wire structs first (as zerocopy types with little-endian fields, so they have
//! alignment 1 and exactly the C layout), then constants, then builders that produce
//! the exact message lengths the i40e PF validates, then checked parsers for every
//! PF reply. Facts come from `include/linux/avf/virtchnl.h` (cited as virtchnl.h);
//! `driver/tests/vendor_header.rs` checks every size, offset and constant here
//! against the installed header.
//!
//! # Message lengths
//! The PF demands exact lengths that keep the historical "one built-in array
//! element" sizing (virtchnl.h `virtchnl_vc_validate_vf_msg`, hw-contract 4.6):
//! CONFIG_VSI_QUEUES 72+64n, CONFIG_IRQ_MAP 14+12n, ADD/DEL_ETH_ADDR 12+8n,
//! ADD/DEL_VLAN 6+2n, CONFIG_RSS_KEY 5+len, CONFIG_RSS_LUT 5+n. The trailing element
//! is all zero bytes. The builders below zero the whole message first.

use core::fmt;

use static_assertions::const_assert_eq;
use zerocopy::byteorder::little_endian::{I32, U16, U32, U64};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

// ===========================================================================
// Wire structs
// ===========================================================================

/// `struct virtchnl_msg` (20): overlays bytes 0..20 of the AQ descriptor.
#[derive(Clone, Copy, Debug, Default, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct VirtchnlMsg {
    pub pad: [u8; 8],
    pub v_opcode: U32,
    pub v_retval: I32,
    pub vfid: U32,
}

/// `struct virtchnl_version_info` (8).
#[derive(Clone, Copy, Debug, Default, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct VersionInfo {
    pub major: U32,
    pub minor: U32,
}

/// `struct virtchnl_vsi_resource` (16).
#[derive(Clone, Copy, Debug, Default, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct VsiResource {
    pub vsi_id: U16,
    pub num_queue_pairs: U16,
    /// `enum virtchnl_vsi_type` (4 bytes).
    pub vsi_type: I32,
    pub qset_handle: U16,
    pub default_mac_addr: [u8; 6],
}

/// `struct virtchnl_vf_resource` without its `vsi_res[]` array (20 bytes).
/// The C struct with the legacy one-element array is 36 bytes.
#[derive(Clone, Copy, Debug, Default, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct VfResourceHdr {
    pub num_vsis: U16,
    pub num_queue_pairs: U16,
    pub max_vectors: U16,
    pub max_mtu: U16,
    pub vf_cap_flags: U32,
    pub rss_key_size: U32,
    pub rss_lut_size: U32,
}

/// `struct virtchnl_txq_info` (24).
#[derive(Clone, Copy, Debug, Default, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct TxqInfo {
    pub vsi_id: U16,
    pub queue_id: U16,
    /// Number of descriptors (multiple of 8; ravf uses multiples of 32).
    pub ring_len: U16,
    /// Deprecated with AVF 1.0 but still programmed by i40e (hw-contract 5.2).
    pub headwb_enabled: U16,
    pub dma_ring_addr: U64,
    pub dma_headwb_addr: U64,
}

/// `struct virtchnl_rxq_info` (40). Bytes 20..24 are `u32 pad1` in the 2018-2023
/// headers and `crc_disable, rxdid, flags, pad1` (u8 each) in newer ones; ravf
/// writes zero there (no CRC control, legacy 32-byte descriptors).
#[derive(Clone, Copy, Debug, Default, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct RxqInfo {
    pub vsi_id: U16,
    pub queue_id: U16,
    /// Number of descriptors (multiple of 32).
    pub ring_len: U32,
    pub hdr_size: U16,
    pub splithdr_enabled: U16,
    pub databuffer_size: U32,
    pub max_pkt_size: U32,
    pub pad1: U32,
    pub dma_ring_addr: U64,
    /// `enum virtchnl_rx_hsplit` (deprecated).
    pub rx_split_pos: I32,
    pub pad2: U32,
}

/// `struct virtchnl_queue_pair_info` (64).
#[derive(Clone, Copy, Debug, Default, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct QueuePairInfo {
    pub txq: TxqInfo,
    pub rxq: RxqInfo,
}

/// `struct virtchnl_vsi_queue_config_info` header (8; legacy sizeof 72).
#[derive(Clone, Copy, Debug, Default, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct VsiQueueConfigHdr {
    pub vsi_id: U16,
    pub num_queue_pairs: U16,
    pub pad: U32,
}

/// `struct virtchnl_vector_map` (12).
#[derive(Clone, Copy, Debug, Default, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct VectorMap {
    pub vsi_id: U16,
    pub vector_id: U16,
    pub rxq_map: U16,
    pub txq_map: U16,
    pub rxitr_idx: U16,
    pub txitr_idx: U16,
}

/// `struct virtchnl_irq_map_info` header (2; legacy sizeof 14). The C struct has
/// 2-byte alignment, so `vecmap[0]` starts at offset 2.
#[derive(Clone, Copy, Debug, Default, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct IrqMapHdr {
    pub num_vectors: U16,
}

/// `struct virtchnl_queue_select` (12): ENABLE/DISABLE_QUEUES, GET_STATS.
#[derive(Clone, Copy, Debug, Default, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct QueueSelect {
    pub vsi_id: U16,
    pub pad: U16,
    pub rx_queues: U32,
    pub tx_queues: U32,
}

/// `struct virtchnl_ether_addr` (8).
#[derive(Clone, Copy, Debug, Default, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct EtherAddr {
    pub addr: [u8; 6],
    /// LEGACY 0 / PRIMARY 1 / EXTRA 2 (pad in the 2018 headers).
    pub type_: u8,
    pub pad: u8,
}

/// `struct virtchnl_ether_addr_list` header (4; legacy sizeof 12).
#[derive(Clone, Copy, Debug, Default, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct EtherAddrListHdr {
    pub vsi_id: U16,
    pub num_elements: U16,
}

/// `struct virtchnl_vlan_filter_list` header (4; legacy sizeof 6).
#[derive(Clone, Copy, Debug, Default, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct VlanFilterListHdr {
    pub vsi_id: U16,
    pub num_elements: U16,
}

/// `struct virtchnl_promisc_info` (4).
#[derive(Clone, Copy, Debug, Default, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct PromiscInfo {
    pub vsi_id: U16,
    pub flags: U16,
}

/// `struct virtchnl_eth_stats` (96), the GET_STATS reply (iavf_type.h `iavf_eth_stats`;
/// not in every virtchnl.h).
#[derive(Clone, Copy, Debug, Default, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct EthStatsWire {
    pub rx_bytes: U64,
    pub rx_unicast: U64,
    pub rx_multicast: U64,
    pub rx_broadcast: U64,
    pub rx_discards: U64,
    pub rx_unknown_protocol: U64,
    pub tx_bytes: U64,
    pub tx_unicast: U64,
    pub tx_multicast: U64,
    pub tx_broadcast: U64,
    pub tx_discards: U64,
    pub tx_errors: U64,
}

/// `struct virtchnl_rss_key` header (4; legacy sizeof 6).
#[derive(Clone, Copy, Debug, Default, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct RssKeyHdr {
    pub vsi_id: U16,
    pub key_len: U16,
}

/// `struct virtchnl_rss_lut` header (4; legacy sizeof 6).
#[derive(Clone, Copy, Debug, Default, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct RssLutHdr {
    pub vsi_id: U16,
    pub lut_entries: U16,
}

/// `struct virtchnl_rss_hena` (8).
#[derive(Clone, Copy, Debug, Default, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct RssHena {
    pub hena: U64,
}

/// `struct virtchnl_vf_res_request` (2).
#[derive(Clone, Copy, Debug, Default, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct VfResRequest {
    pub num_queue_pairs: U16,
}

/// `struct virtchnl_pf_event` (16). The 8-byte union at offset 4 is read as its
/// `link_event_adv` view; the legacy `link_event` view has the same byte positions
/// (u32 speed enum at 4, bool status at 8).
#[derive(Clone, Copy, Debug, Default, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct PfEvent {
    pub event: I32,
    pub link_speed: U32,
    pub link_status: u8,
    pub pad: [u8; 3],
    pub severity: I32,
}

// virtchnl.h VIRTCHNL_CHECK_STRUCT_LEN values (headers: the part before the
// legacy one-element array).
const_assert_eq!(core::mem::size_of::<VirtchnlMsg>(), 20);
const_assert_eq!(core::mem::size_of::<VersionInfo>(), 8);
const_assert_eq!(core::mem::size_of::<VsiResource>(), 16);
const_assert_eq!(core::mem::size_of::<VfResourceHdr>(), 20);
const_assert_eq!(core::mem::size_of::<TxqInfo>(), 24);
const_assert_eq!(core::mem::size_of::<RxqInfo>(), 40);
const_assert_eq!(core::mem::size_of::<QueuePairInfo>(), 64);
const_assert_eq!(core::mem::size_of::<VsiQueueConfigHdr>(), 8);
const_assert_eq!(core::mem::size_of::<VectorMap>(), 12);
const_assert_eq!(core::mem::size_of::<IrqMapHdr>(), 2);
const_assert_eq!(core::mem::size_of::<QueueSelect>(), 12);
const_assert_eq!(core::mem::size_of::<EtherAddr>(), 8);
const_assert_eq!(core::mem::size_of::<EtherAddrListHdr>(), 4);
const_assert_eq!(core::mem::size_of::<VlanFilterListHdr>(), 4);
const_assert_eq!(core::mem::size_of::<PromiscInfo>(), 4);
const_assert_eq!(core::mem::size_of::<EthStatsWire>(), 96);
const_assert_eq!(core::mem::size_of::<RssKeyHdr>(), 4);
const_assert_eq!(core::mem::size_of::<RssLutHdr>(), 4);
const_assert_eq!(core::mem::size_of::<RssHena>(), 8);
const_assert_eq!(core::mem::size_of::<VfResRequest>(), 2);
const_assert_eq!(core::mem::size_of::<PfEvent>(), 16);

/// virtchnl.h: sizeof(struct virtchnl_vf_resource) = 36 (with `vsi_res[1]`).
pub const VF_RESOURCE_LEGACY_LEN: usize = 36;
/// virtchnl.h: sizeof(struct virtchnl_vsi_queue_config_info) = 72.
pub const VSI_QUEUE_CONFIG_LEGACY_LEN: usize = 72;
/// virtchnl.h: sizeof(struct virtchnl_irq_map_info) = 14.
pub const IRQ_MAP_LEGACY_LEN: usize = 14;
/// virtchnl.h: sizeof(struct virtchnl_ether_addr_list) = 12.
pub const ETHER_ADDR_LIST_LEGACY_LEN: usize = 12;
/// virtchnl.h: sizeof(struct virtchnl_vlan_filter_list) = 6.
pub const VLAN_FILTER_LIST_LEGACY_LEN: usize = 6;
/// virtchnl.h: sizeof(struct virtchnl_rss_key) = 6 (and virtchnl_rss_lut).
pub const RSS_KEY_LEGACY_LEN: usize = 6;
pub const RSS_LUT_LEGACY_LEN: usize = 6;

// ===========================================================================
// Constants
// ===========================================================================

/// A virtchnl opcode (`enum virtchnl_ops`). Debug prints its name.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct VcOp(pub u32);

impl VcOp {
    // virtchnl.h enum virtchnl_ops
    pub const UNKNOWN: VcOp = VcOp(0);
    pub const VERSION: VcOp = VcOp(1);
    pub const RESET_VF: VcOp = VcOp(2);
    pub const GET_VF_RESOURCES: VcOp = VcOp(3);
    pub const CONFIG_TX_QUEUE: VcOp = VcOp(4);
    pub const CONFIG_RX_QUEUE: VcOp = VcOp(5);
    pub const CONFIG_VSI_QUEUES: VcOp = VcOp(6);
    pub const CONFIG_IRQ_MAP: VcOp = VcOp(7);
    pub const ENABLE_QUEUES: VcOp = VcOp(8);
    pub const DISABLE_QUEUES: VcOp = VcOp(9);
    pub const ADD_ETH_ADDR: VcOp = VcOp(10);
    pub const DEL_ETH_ADDR: VcOp = VcOp(11);
    pub const ADD_VLAN: VcOp = VcOp(12);
    pub const DEL_VLAN: VcOp = VcOp(13);
    pub const CONFIG_PROMISCUOUS_MODE: VcOp = VcOp(14);
    pub const GET_STATS: VcOp = VcOp(15);
    pub const RSVD: VcOp = VcOp(16);
    pub const EVENT: VcOp = VcOp(17);
    pub const CONFIG_RSS_KEY: VcOp = VcOp(23);
    pub const CONFIG_RSS_LUT: VcOp = VcOp(24);
    pub const GET_RSS_HENA_CAPS: VcOp = VcOp(25);
    pub const SET_RSS_HENA: VcOp = VcOp(26);
    pub const ENABLE_VLAN_STRIPPING: VcOp = VcOp(27);
    pub const DISABLE_VLAN_STRIPPING: VcOp = VcOp(28);
    pub const REQUEST_QUEUES: VcOp = VcOp(29);

    /// All opcodes ravf names, with their virtchnl.h names (used by the vendor test).
    pub const ALL: [(VcOp, &'static str); 25] = [
        (VcOp::UNKNOWN, "VIRTCHNL_OP_UNKNOWN"),
        (VcOp::VERSION, "VIRTCHNL_OP_VERSION"),
        (VcOp::RESET_VF, "VIRTCHNL_OP_RESET_VF"),
        (VcOp::GET_VF_RESOURCES, "VIRTCHNL_OP_GET_VF_RESOURCES"),
        (VcOp::CONFIG_TX_QUEUE, "VIRTCHNL_OP_CONFIG_TX_QUEUE"),
        (VcOp::CONFIG_RX_QUEUE, "VIRTCHNL_OP_CONFIG_RX_QUEUE"),
        (VcOp::CONFIG_VSI_QUEUES, "VIRTCHNL_OP_CONFIG_VSI_QUEUES"),
        (VcOp::CONFIG_IRQ_MAP, "VIRTCHNL_OP_CONFIG_IRQ_MAP"),
        (VcOp::ENABLE_QUEUES, "VIRTCHNL_OP_ENABLE_QUEUES"),
        (VcOp::DISABLE_QUEUES, "VIRTCHNL_OP_DISABLE_QUEUES"),
        (VcOp::ADD_ETH_ADDR, "VIRTCHNL_OP_ADD_ETH_ADDR"),
        (VcOp::DEL_ETH_ADDR, "VIRTCHNL_OP_DEL_ETH_ADDR"),
        (VcOp::ADD_VLAN, "VIRTCHNL_OP_ADD_VLAN"),
        (VcOp::DEL_VLAN, "VIRTCHNL_OP_DEL_VLAN"),
        (
            VcOp::CONFIG_PROMISCUOUS_MODE,
            "VIRTCHNL_OP_CONFIG_PROMISCUOUS_MODE",
        ),
        (VcOp::GET_STATS, "VIRTCHNL_OP_GET_STATS"),
        (VcOp::RSVD, "VIRTCHNL_OP_RSVD"),
        (VcOp::EVENT, "VIRTCHNL_OP_EVENT"),
        (VcOp::CONFIG_RSS_KEY, "VIRTCHNL_OP_CONFIG_RSS_KEY"),
        (VcOp::CONFIG_RSS_LUT, "VIRTCHNL_OP_CONFIG_RSS_LUT"),
        (VcOp::GET_RSS_HENA_CAPS, "VIRTCHNL_OP_GET_RSS_HENA_CAPS"),
        (VcOp::SET_RSS_HENA, "VIRTCHNL_OP_SET_RSS_HENA"),
        (
            VcOp::ENABLE_VLAN_STRIPPING,
            "VIRTCHNL_OP_ENABLE_VLAN_STRIPPING",
        ),
        (
            VcOp::DISABLE_VLAN_STRIPPING,
            "VIRTCHNL_OP_DISABLE_VLAN_STRIPPING",
        ),
        (VcOp::REQUEST_QUEUES, "VIRTCHNL_OP_REQUEST_QUEUES"),
    ];

    /// The name without the `VIRTCHNL_OP_` prefix, or "?" for opcodes ravf does not name.
    pub fn name(self) -> &'static str {
        for (op, name) in VcOp::ALL.iter() {
            if *op == self {
                return name.strip_prefix("VIRTCHNL_OP_").unwrap_or(name);
            }
        }
        "?"
    }
}

impl fmt::Debug for VcOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}({})", self.name(), self.0)
    }
}

impl fmt::Display for VcOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// virtchnl.h `enum virtchnl_status_code`. Real PFs also put negative errno values
/// or i40e_status codes in `v_retval` (hw-contract 4.1): ravf treats every non-zero
/// value as failure and only uses these names for messages.
pub mod status {
    pub const SUCCESS: i32 = 0;
    pub const ERR_PARAM: i32 = -5;
    pub const ERR_NO_MEMORY: i32 = -18;
    pub const ERR_OPCODE_MISMATCH: i32 = -38;
    pub const ERR_CQP_COMPL_ERROR: i32 = -39;
    pub const ERR_INVALID_VF_ID: i32 = -40;
    pub const ERR_ADMIN_QUEUE_ERROR: i32 = -53;
    pub const ERR_NOT_SUPPORTED: i32 = -64;

    /// (value, virtchnl.h name) for the vendor test.
    pub const ALL: [(i32, &str); 8] = [
        (SUCCESS, "VIRTCHNL_STATUS_SUCCESS"),
        (ERR_PARAM, "VIRTCHNL_STATUS_ERR_PARAM"),
        (ERR_NO_MEMORY, "VIRTCHNL_STATUS_ERR_NO_MEMORY"),
        (ERR_OPCODE_MISMATCH, "VIRTCHNL_STATUS_ERR_OPCODE_MISMATCH"),
        (ERR_CQP_COMPL_ERROR, "VIRTCHNL_STATUS_ERR_CQP_COMPL_ERROR"),
        (ERR_INVALID_VF_ID, "VIRTCHNL_STATUS_ERR_INVALID_VF_ID"),
        (
            ERR_ADMIN_QUEUE_ERROR,
            "VIRTCHNL_STATUS_ERR_ADMIN_QUEUE_ERROR",
        ),
        (ERR_NOT_SUPPORTED, "VIRTCHNL_STATUS_ERR_NOT_SUPPORTED"),
    ];

    /// A readable name for a status value (virtchnl names first; the values are
    /// ambiguous across PF generations, so this is only a hint).
    pub fn name(v: i32) -> &'static str {
        for (val, name) in ALL.iter() {
            if *val == v {
                return name;
            }
        }
        "non-virtchnl status (errno or i40e_status)"
    }
}

bitflags::bitflags! {
    /// virtchnl.h `vf_cap_flags` (u32) bits that matter to a 700-series VF.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
    pub struct VfCaps: u32 {
        const L2 = 1 << 0;                 // VIRTCHNL_VF_OFFLOAD_L2
        const IWARP = 1 << 1;              // VIRTCHNL_VF_OFFLOAD_IWARP (RDMA)
        const RSS_AQ = 1 << 3;             // VIRTCHNL_VF_OFFLOAD_RSS_AQ
        const RSS_REG = 1 << 4;            // VIRTCHNL_VF_OFFLOAD_RSS_REG
        const WB_ON_ITR = 1 << 5;          // VIRTCHNL_VF_OFFLOAD_WB_ON_ITR
        const REQ_QUEUES = 1 << 6;         // VIRTCHNL_VF_OFFLOAD_REQ_QUEUES
        const ADV_LINK_SPEED = 1 << 7;     // VIRTCHNL_VF_CAP_ADV_LINK_SPEED
        const VLAN_V2 = 1 << 15;           // VIRTCHNL_VF_OFFLOAD_VLAN_V2
        const VLAN = 1 << 16;              // VIRTCHNL_VF_OFFLOAD_VLAN
        const RX_POLLING = 1 << 17;        // VIRTCHNL_VF_OFFLOAD_RX_POLLING
        const RSS_PCTYPE_V2 = 1 << 18;     // VIRTCHNL_VF_OFFLOAD_RSS_PCTYPE_V2
        const RSS_PF = 1 << 19;            // VIRTCHNL_VF_OFFLOAD_RSS_PF
        const ENCAP = 1 << 20;             // VIRTCHNL_VF_OFFLOAD_ENCAP
        const ENCAP_CSUM = 1 << 21;        // VIRTCHNL_VF_OFFLOAD_ENCAP_CSUM
        const RX_ENCAP_CSUM = 1 << 22;     // VIRTCHNL_VF_OFFLOAD_RX_ENCAP_CSUM
        const ADQ = 1 << 23;               // VIRTCHNL_VF_OFFLOAD_ADQ
        const USO = 1 << 25;               // VIRTCHNL_VF_OFFLOAD_USO
        const ADV_RSS_PF = 1 << 27;        // VIRTCHNL_VF_OFFLOAD_ADV_RSS_PF
        const FDIR_PF = 1 << 28;           // VIRTCHNL_VF_OFFLOAD_FDIR_PF
        // Unknown bits granted by a newer PF are kept, never acted on.
        const _ = !0;
    }
}

impl VfCaps {
    /// virtchnl.h VF_BASE_MODE_OFFLOADS = L2 | VLAN | RSS_PF.
    pub const BASE_MODE: VfCaps = VfCaps::L2.union(VfCaps::VLAN).union(VfCaps::RSS_PF);

    /// (mask, virtchnl.h name) for the vendor test.
    pub const NAMED: [(u32, &'static str); 19] = [
        (1 << 0, "VIRTCHNL_VF_OFFLOAD_L2"),
        (1 << 1, "VIRTCHNL_VF_OFFLOAD_IWARP"),
        (1 << 3, "VIRTCHNL_VF_OFFLOAD_RSS_AQ"),
        (1 << 4, "VIRTCHNL_VF_OFFLOAD_RSS_REG"),
        (1 << 5, "VIRTCHNL_VF_OFFLOAD_WB_ON_ITR"),
        (1 << 6, "VIRTCHNL_VF_OFFLOAD_REQ_QUEUES"),
        (1 << 7, "VIRTCHNL_VF_CAP_ADV_LINK_SPEED"),
        (1 << 15, "VIRTCHNL_VF_OFFLOAD_VLAN_V2"),
        (1 << 16, "VIRTCHNL_VF_OFFLOAD_VLAN"),
        (1 << 17, "VIRTCHNL_VF_OFFLOAD_RX_POLLING"),
        (1 << 18, "VIRTCHNL_VF_OFFLOAD_RSS_PCTYPE_V2"),
        (1 << 19, "VIRTCHNL_VF_OFFLOAD_RSS_PF"),
        (1 << 20, "VIRTCHNL_VF_OFFLOAD_ENCAP"),
        (1 << 21, "VIRTCHNL_VF_OFFLOAD_ENCAP_CSUM"),
        (1 << 22, "VIRTCHNL_VF_OFFLOAD_RX_ENCAP_CSUM"),
        (1 << 23, "VIRTCHNL_VF_OFFLOAD_ADQ"),
        (1 << 25, "VIRTCHNL_VF_OFFLOAD_USO"),
        (1 << 27, "VIRTCHNL_VF_OFFLOAD_ADV_RSS_PF"),
        (1 << 28, "VIRTCHNL_VF_OFFLOAD_FDIR_PF"),
    ];
}

/// virtchnl.h: VIRTCHNL_VERSION_MAJOR 1.
pub const VERSION_MAJOR: u32 = 1;
/// virtchnl.h: VIRTCHNL_VERSION_MINOR 1.
pub const VERSION_MINOR: u32 = 1;
/// virtchnl.h: VIRTCHNL_VERSION_MINOR_NO_VF_CAPS 0.
pub const VERSION_MINOR_NO_VF_CAPS: u32 = 0;

/// virtchnl.h enum virtchnl_vsi_type: VIRTCHNL_VSI_TYPE_INVALID = 0.
pub const VSI_TYPE_INVALID: i32 = 0;
/// virtchnl.h: VIRTCHNL_VSI_SRIOV = 6.
pub const VSI_SRIOV: i32 = 6;

/// virtchnl.h: VIRTCHNL_ETHER_ADDR_LEGACY 0.
pub const ETHER_ADDR_LEGACY: u8 = 0;
/// virtchnl.h: VIRTCHNL_ETHER_ADDR_PRIMARY 1.
pub const ETHER_ADDR_PRIMARY: u8 = 1;
/// virtchnl.h: VIRTCHNL_ETHER_ADDR_EXTRA 2.
pub const ETHER_ADDR_EXTRA: u8 = 2;

/// virtchnl.h: FLAG_VF_UNICAST_PROMISC 0x1.
pub const FLAG_VF_UNICAST_PROMISC: u16 = 0x1;
/// virtchnl.h: FLAG_VF_MULTICAST_PROMISC 0x2.
pub const FLAG_VF_MULTICAST_PROMISC: u16 = 0x2;

/// virtchnl.h enum virtchnl_event_codes.
pub mod event {
    pub const UNKNOWN: i32 = 0;
    pub const LINK_CHANGE: i32 = 1;
    pub const RESET_IMPENDING: i32 = 2;
    pub const PF_DRIVER_CLOSE: i32 = 3;
    /// virtchnl.h: PF_EVENT_SEVERITY_INFO 0.
    pub const SEVERITY_INFO: i32 = 0;
    /// virtchnl.h: PF_EVENT_SEVERITY_CERTAIN_DOOM 255.
    pub const SEVERITY_CERTAIN_DOOM: i32 = 255;
}

/// virtchnl.h enum virtchnl_link_speed (legacy bit-encoded speeds).
pub mod link_speed {
    pub const UNKNOWN: u32 = 0;
    pub const SPEED_2_5GB: u32 = 1 << 0;
    pub const SPEED_100MB: u32 = 1 << 1;
    pub const SPEED_1GB: u32 = 1 << 2;
    pub const SPEED_10GB: u32 = 1 << 3;
    pub const SPEED_40GB: u32 = 1 << 4;
    pub const SPEED_20GB: u32 = 1 << 5;
    pub const SPEED_25GB: u32 = 1 << 6;
    pub const SPEED_5GB: u32 = 1 << 7;

    /// (value, virtchnl.h name) for the vendor test.
    pub const ALL: [(u32, &str); 9] = [
        (UNKNOWN, "VIRTCHNL_LINK_SPEED_UNKNOWN"),
        (SPEED_2_5GB, "VIRTCHNL_LINK_SPEED_2_5GB"),
        (SPEED_100MB, "VIRTCHNL_LINK_SPEED_100MB"),
        (SPEED_1GB, "VIRTCHNL_LINK_SPEED_1GB"),
        (SPEED_10GB, "VIRTCHNL_LINK_SPEED_10GB"),
        (SPEED_40GB, "VIRTCHNL_LINK_SPEED_40GB"),
        (SPEED_20GB, "VIRTCHNL_LINK_SPEED_20GB"),
        (SPEED_25GB, "VIRTCHNL_LINK_SPEED_25GB"),
        (SPEED_5GB, "VIRTCHNL_LINK_SPEED_5GB"),
    ];

    /// Convert a legacy speed to Mbps (0 = unknown; a value with no or several
    /// bits set is unknown).
    pub fn to_mbps(v: u32) -> u32 {
        match v {
            SPEED_100MB => 100,
            SPEED_1GB => 1_000,
            SPEED_2_5GB => 2_500,
            SPEED_5GB => 5_000,
            SPEED_10GB => 10_000,
            SPEED_20GB => 20_000,
            SPEED_25GB => 25_000,
            SPEED_40GB => 40_000,
            _ => 0,
        }
    }
}

/// i40e (I40E_HKEY_ARRAY_SIZE): the RSS key is 52 bytes.
pub const RSS_KEY_SIZE: usize = 52;
/// i40e (I40E_VF_HLUT_ARRAY_SIZE): the VF RSS LUT has 64 entries.
pub const RSS_LUT_SIZE: usize = 64;

/// PCTYPE hash-enable bits (iavf_type.h `enum iavf_filter_pctype`, hw-contract 5.8).
pub mod pctype {
    pub const NONF_UNICAST_IPV4_UDP: u32 = 29;
    pub const NONF_MULTICAST_IPV4_UDP: u32 = 30;
    pub const NONF_IPV4_UDP: u32 = 31;
    pub const NONF_IPV4_TCP_SYN_NO_ACK: u32 = 32;
    pub const NONF_IPV4_TCP: u32 = 33;
    pub const NONF_IPV4_SCTP: u32 = 34;
    pub const NONF_IPV4_OTHER: u32 = 35;
    pub const FRAG_IPV4: u32 = 36;
    pub const NONF_UNICAST_IPV6_UDP: u32 = 39;
    pub const NONF_MULTICAST_IPV6_UDP: u32 = 40;
    pub const NONF_IPV6_UDP: u32 = 41;
    pub const NONF_IPV6_TCP_SYN_NO_ACK: u32 = 42;
    pub const NONF_IPV6_TCP: u32 = 43;
    pub const NONF_IPV6_SCTP: u32 = 44;
    pub const NONF_IPV6_OTHER: u32 = 45;
    pub const FRAG_IPV6: u32 = 46;
    pub const L2_PAYLOAD: u32 = 63;

    const fn b(p: u32) -> u64 {
        1u64 << p
    }
    /// iavf_type.h IAVF_DEFAULT_RSS_HENA_BASE (without L2_PAYLOAD): IPv4/IPv6
    /// UDP, TCP, SCTP, other and fragments = 0x00007A1E80000000.
    pub const HENA_BASE: u64 = b(NONF_IPV4_UDP)
        | b(NONF_IPV4_TCP)
        | b(NONF_IPV4_SCTP)
        | b(NONF_IPV4_OTHER)
        | b(FRAG_IPV4)
        | b(NONF_IPV6_UDP)
        | b(NONF_IPV6_TCP)
        | b(NONF_IPV6_SCTP)
        | b(NONF_IPV6_OTHER)
        | b(FRAG_IPV6);
    /// The X722 additions (IAVF_DEFAULT_RSS_HENA_EXPANDED minus BASE).
    pub const HENA_ADV: u64 = b(NONF_UNICAST_IPV4_UDP)
        | b(NONF_MULTICAST_IPV4_UDP)
        | b(NONF_IPV4_TCP_SYN_NO_ACK)
        | b(NONF_UNICAST_IPV6_UDP)
        | b(NONF_MULTICAST_IPV6_UDP)
        | b(NONF_IPV6_TCP_SYN_NO_ACK);
}

// ===========================================================================
// Builders
// ===========================================================================

/// Why a message could not be built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BuildError {
    /// The output buffer is smaller than the message.
    BufferTooSmall { need: usize, have: usize },
    /// A list message with no elements (the PF rejects `num_* == 0`).
    Empty,
    /// More elements than the message's u16 count (or the 4096-byte AQ buffer) holds.
    TooMany,
}

/// The AQ buffer size: no message may be larger (hw-contract 3.4).
pub const MAX_MSG_LEN: usize = 4096;

fn prepare(buf: &mut [u8], len: usize) -> Result<&mut [u8], BuildError> {
    if len > MAX_MSG_LEN {
        return Err(BuildError::TooMany);
    }
    let have = buf.len();
    let out = buf
        .get_mut(..len)
        .ok_or(BuildError::BufferTooSmall { need: len, have })?;
    out.fill(0);
    Ok(out)
}

fn put<T: IntoBytes + Immutable>(out: &mut [u8], off: usize, v: &T) {
    let b = v.as_bytes();
    // Offsets are computed by the builders from fixed sizes inside a buffer of
    // the exact message length, so this always fits; `get_mut` keeps it a no-op
    // rather than a panic if that reasoning were ever wrong.
    if let Some(dst) = out.get_mut(off..off + b.len()) {
        dst.copy_from_slice(b);
    }
}

/// VERSION (1): `virtchnl_version_info`, 8 bytes.
pub fn build_version(buf: &mut [u8], major: u32, minor: u32) -> Result<usize, BuildError> {
    let out = prepare(buf, 8)?;
    put(
        out,
        0,
        &VersionInfo {
            major: U32::new(major),
            minor: U32::new(minor),
        },
    );
    Ok(8)
}

/// GET_VF_RESOURCES (3): the u32 capability bitmap for a 1.1 PF (4 bytes), nothing
/// for a 1.0 PF.
pub fn build_get_vf_resources(buf: &mut [u8], caps: Option<u32>) -> Result<usize, BuildError> {
    match caps {
        None => Ok(0),
        Some(c) => {
            let out = prepare(buf, 4)?;
            put(out, 0, &U32::new(c));
            Ok(4)
        }
    }
}

/// CONFIG_VSI_QUEUES (6): 72 + 64·n bytes (8-byte header, n pairs, 64 zero bytes).
pub fn build_config_vsi_queues(
    buf: &mut [u8],
    vsi_id: u16,
    pairs: &[QueuePairInfo],
) -> Result<usize, BuildError> {
    build_config_vsi_queues_with(buf, vsi_id, pairs.len(), |i| {
        pairs.get(i).copied().unwrap_or_default()
    })
}

/// CONFIG_VSI_QUEUES with pair `i` produced by `pair(i)` for i in 0..n (so callers
/// need no array of pairs on the stack).
pub fn build_config_vsi_queues_with(
    buf: &mut [u8],
    vsi_id: u16,
    n: usize,
    pair: impl Fn(usize) -> QueuePairInfo,
) -> Result<usize, BuildError> {
    if n == 0 {
        return Err(BuildError::Empty);
    }
    let num = u16::try_from(n).map_err(|_| BuildError::TooMany)?;
    let len = n
        .checked_mul(64)
        .and_then(|x| x.checked_add(VSI_QUEUE_CONFIG_LEGACY_LEN))
        .ok_or(BuildError::TooMany)?;
    let out = prepare(buf, len)?;
    put(
        out,
        0,
        &VsiQueueConfigHdr {
            vsi_id: U16::new(vsi_id),
            num_queue_pairs: U16::new(num),
            pad: U32::new(0),
        },
    );
    for i in 0..n {
        put(out, 8 + 64 * i, &pair(i));
    }
    Ok(len)
}

/// CONFIG_IRQ_MAP (7): 14 + 12·n bytes (2-byte header, n maps, 12 zero bytes).
pub fn build_config_irq_map(buf: &mut [u8], maps: &[VectorMap]) -> Result<usize, BuildError> {
    let n = maps.len();
    if n == 0 {
        return Err(BuildError::Empty);
    }
    let num = u16::try_from(n).map_err(|_| BuildError::TooMany)?;
    let len = IRQ_MAP_LEGACY_LEN + 12 * n;
    let out = prepare(buf, len)?;
    put(
        out,
        0,
        &IrqMapHdr {
            num_vectors: U16::new(num),
        },
    );
    for (i, m) in maps.iter().enumerate() {
        put(out, 2 + 12 * i, m);
    }
    Ok(len)
}

/// ENABLE_QUEUES (8) / DISABLE_QUEUES (9) / GET_STATS (15): `virtchnl_queue_select`,
/// 12 bytes.
pub fn build_queue_select(
    buf: &mut [u8],
    vsi_id: u16,
    rx: u32,
    tx: u32,
) -> Result<usize, BuildError> {
    let out = prepare(buf, 12)?;
    put(
        out,
        0,
        &QueueSelect {
            vsi_id: U16::new(vsi_id),
            pad: U16::new(0),
            rx_queues: U32::new(rx),
            tx_queues: U32::new(tx),
        },
    );
    Ok(12)
}

/// ADD_ETH_ADDR (10) / DEL_ETH_ADDR (11): 12 + 8·n bytes, every entry of type `ty`.
pub fn build_ether_addr_list(
    buf: &mut [u8],
    vsi_id: u16,
    addrs: &[[u8; 6]],
    ty: u8,
) -> Result<usize, BuildError> {
    let n = addrs.len();
    if n == 0 {
        return Err(BuildError::Empty);
    }
    let num = u16::try_from(n).map_err(|_| BuildError::TooMany)?;
    let len = ETHER_ADDR_LIST_LEGACY_LEN + 8 * n;
    let out = prepare(buf, len)?;
    put(
        out,
        0,
        &EtherAddrListHdr {
            vsi_id: U16::new(vsi_id),
            num_elements: U16::new(num),
        },
    );
    for (i, a) in addrs.iter().enumerate() {
        put(
            out,
            4 + 8 * i,
            &EtherAddr {
                addr: *a,
                type_: ty,
                pad: 0,
            },
        );
    }
    Ok(len)
}

/// ADD_VLAN (12) / DEL_VLAN (13): 6 + 2·n bytes.
pub fn build_vlan_filter_list(
    buf: &mut [u8],
    vsi_id: u16,
    vids: &[u16],
) -> Result<usize, BuildError> {
    let n = vids.len();
    if n == 0 {
        return Err(BuildError::Empty);
    }
    let num = u16::try_from(n).map_err(|_| BuildError::TooMany)?;
    let len = VLAN_FILTER_LIST_LEGACY_LEN + 2 * n;
    let out = prepare(buf, len)?;
    put(
        out,
        0,
        &VlanFilterListHdr {
            vsi_id: U16::new(vsi_id),
            num_elements: U16::new(num),
        },
    );
    for (i, v) in vids.iter().enumerate() {
        put(out, 4 + 2 * i, &U16::new(*v));
    }
    Ok(len)
}

/// CONFIG_PROMISCUOUS_MODE (14): 4 bytes.
pub fn build_promisc(buf: &mut [u8], vsi_id: u16, flags: u16) -> Result<usize, BuildError> {
    let out = prepare(buf, 4)?;
    put(
        out,
        0,
        &PromiscInfo {
            vsi_id: U16::new(vsi_id),
            flags: U16::new(flags),
        },
    );
    Ok(4)
}

/// CONFIG_RSS_KEY (23): 5 + key_len bytes (4-byte header, key, one zero byte).
pub fn build_rss_key(buf: &mut [u8], vsi_id: u16, key: &[u8]) -> Result<usize, BuildError> {
    if key.is_empty() {
        return Err(BuildError::Empty);
    }
    let n = u16::try_from(key.len()).map_err(|_| BuildError::TooMany)?;
    let len = RSS_KEY_LEGACY_LEN - 1 + key.len();
    let out = prepare(buf, len)?;
    put(
        out,
        0,
        &RssKeyHdr {
            vsi_id: U16::new(vsi_id),
            key_len: U16::new(n),
        },
    );
    if let Some(dst) = out.get_mut(4..4 + key.len()) {
        dst.copy_from_slice(key);
    }
    Ok(len)
}

/// CONFIG_RSS_LUT (24): 5 + lut_entries bytes.
pub fn build_rss_lut(buf: &mut [u8], vsi_id: u16, lut: &[u8]) -> Result<usize, BuildError> {
    if lut.is_empty() {
        return Err(BuildError::Empty);
    }
    let n = u16::try_from(lut.len()).map_err(|_| BuildError::TooMany)?;
    let len = RSS_LUT_LEGACY_LEN - 1 + lut.len();
    let out = prepare(buf, len)?;
    put(
        out,
        0,
        &RssLutHdr {
            vsi_id: U16::new(vsi_id),
            lut_entries: U16::new(n),
        },
    );
    if let Some(dst) = out.get_mut(4..4 + lut.len()) {
        dst.copy_from_slice(lut);
    }
    Ok(len)
}

/// SET_RSS_HENA (26): 8 bytes.
pub fn build_set_rss_hena(buf: &mut [u8], hena: u64) -> Result<usize, BuildError> {
    let out = prepare(buf, 8)?;
    put(
        out,
        0,
        &RssHena {
            hena: U64::new(hena),
        },
    );
    Ok(8)
}

/// REQUEST_QUEUES (29): 2 bytes.
pub fn build_request_queues(buf: &mut [u8], n: u16) -> Result<usize, BuildError> {
    let out = prepare(buf, 2)?;
    put(
        out,
        0,
        &VfResRequest {
            num_queue_pairs: U16::new(n),
        },
    );
    Ok(2)
}

// ===========================================================================
// Parsers (every PF reply is untrusted)
// ===========================================================================

/// Why a PF message was rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParseError {
    /// The payload is shorter than the structure it must hold.
    Short { need: usize, got: usize },
    /// A count field is zero or does not fit the declared length.
    BadCount,
    /// GET_VF_RESOURCES listed no VSI of type VIRTCHNL_VSI_SRIOV (6).
    NoSriovVsi,
}

fn need(payload: &[u8], n: usize) -> Result<(), ParseError> {
    if payload.len() < n {
        Err(ParseError::Short {
            need: n,
            got: payload.len(),
        })
    } else {
        Ok(())
    }
}

/// The VERSION reply: (major, minor).
pub fn parse_version(payload: &[u8]) -> Result<(u32, u32), ParseError> {
    need(payload, 8)?;
    let (v, _) = VersionInfo::read_from_prefix(payload).map_err(|_| ParseError::Short {
        need: 8,
        got: payload.len(),
    })?;
    Ok((v.major.get(), v.minor.get()))
}

/// What ravf keeps from a GET_VF_RESOURCES reply.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VfResourceInfo {
    pub num_vsis: u16,
    pub num_queue_pairs: u16,
    pub max_vectors: u16,
    /// The PF's `max_mtu` field, which i40e fills with a *frame* size (0 = unknown).
    pub max_mtu: u16,
    pub caps: u32,
    pub rss_key_size: u32,
    pub rss_lut_size: u32,
    /// The chosen VSI (the first with vsi_type == VIRTCHNL_VSI_SRIOV).
    pub vsi_id: u16,
    pub vsi_num_queue_pairs: u16,
    pub qset_handle: u16,
    pub default_mac: [u8; 6],
    /// How many `vsi_res[]` entries were examined (those that fit in `payload`).
    pub vsis_examined: u16,
}

/// Parse a GET_VF_RESOURCES reply. `declared` is the length the PF put in the AQ
/// descriptor; `payload` is the part of it ravf copied (it may be shorter: ravf
/// examines only the `vsi_res[]` entries that fit). The declared length must cover
/// the header and all `num_vsis` entries (PF-UP sends 52, PF-OOT 36 for one VSI).
pub fn parse_vf_resources(payload: &[u8], declared: usize) -> Result<VfResourceInfo, ParseError> {
    const HDR: usize = core::mem::size_of::<VfResourceHdr>();
    need(payload, HDR)?;
    let (h, rest) = VfResourceHdr::read_from_prefix(payload).map_err(|_| ParseError::Short {
        need: HDR,
        got: payload.len(),
    })?;
    let num_vsis = h.num_vsis.get();
    if num_vsis == 0 {
        return Err(ParseError::BadCount);
    }
    let full = HDR + 16 * num_vsis as usize;
    if declared < full {
        return Err(ParseError::Short {
            need: full,
            got: declared,
        });
    }
    let fits = core::cmp::min(num_vsis as usize, rest.len() / 16);
    let mut info = VfResourceInfo {
        num_vsis,
        num_queue_pairs: h.num_queue_pairs.get(),
        max_vectors: h.max_vectors.get(),
        max_mtu: h.max_mtu.get(),
        caps: h.vf_cap_flags.get(),
        rss_key_size: h.rss_key_size.get(),
        rss_lut_size: h.rss_lut_size.get(),
        vsis_examined: fits as u16,
        ..Default::default()
    };
    for chunk in rest.chunks_exact(16).take(fits) {
        let Ok(v) = VsiResource::read_from_bytes(chunk) else {
            continue;
        };
        if v.vsi_type.get() == VSI_SRIOV {
            info.vsi_id = v.vsi_id.get();
            info.vsi_num_queue_pairs = v.num_queue_pairs.get();
            info.qset_handle = v.qset_handle.get();
            info.default_mac = v.default_mac_addr;
            return Ok(info);
        }
    }
    Err(ParseError::NoSriovVsi)
}

/// Ethernet statistics of the VF's VSI (GET_STATS reply).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EthStats {
    pub rx_bytes: u64,
    pub rx_unicast: u64,
    pub rx_multicast: u64,
    pub rx_broadcast: u64,
    pub rx_discards: u64,
    pub rx_unknown_protocol: u64,
    pub tx_bytes: u64,
    pub tx_unicast: u64,
    pub tx_multicast: u64,
    pub tx_broadcast: u64,
    pub tx_discards: u64,
    pub tx_errors: u64,
}

/// The GET_STATS reply: 96 bytes.
pub fn parse_eth_stats(payload: &[u8]) -> Result<EthStats, ParseError> {
    need(payload, 96)?;
    let (w, _) = EthStatsWire::read_from_prefix(payload).map_err(|_| ParseError::Short {
        need: 96,
        got: payload.len(),
    })?;
    Ok(EthStats {
        rx_bytes: w.rx_bytes.get(),
        rx_unicast: w.rx_unicast.get(),
        rx_multicast: w.rx_multicast.get(),
        rx_broadcast: w.rx_broadcast.get(),
        rx_discards: w.rx_discards.get(),
        rx_unknown_protocol: w.rx_unknown_protocol.get(),
        tx_bytes: w.tx_bytes.get(),
        tx_unicast: w.tx_unicast.get(),
        tx_multicast: w.tx_multicast.get(),
        tx_broadcast: w.tx_broadcast.get(),
        tx_discards: w.tx_discards.get(),
        tx_errors: w.tx_errors.get(),
    })
}

/// The GET_RSS_HENA_CAPS reply: a u64 PCTYPE bitmap.
pub fn parse_rss_hena(payload: &[u8]) -> Result<u64, ParseError> {
    need(payload, 8)?;
    let (h, _) = RssHena::read_from_prefix(payload).map_err(|_| ParseError::Short {
        need: 8,
        got: payload.len(),
    })?;
    Ok(h.hena.get())
}

/// The REQUEST_QUEUES reply: the number of queue pairs the PF could grant.
pub fn parse_vf_res_request(payload: &[u8]) -> Result<u16, ParseError> {
    need(payload, 2)?;
    let (r, _) = VfResRequest::read_from_prefix(payload).map_err(|_| ParseError::Short {
        need: 2,
        got: payload.len(),
    })?;
    Ok(r.num_queue_pairs.get())
}

/// A PF event (opcode 17).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// Link state. `speed_mbps` is 0 when unknown or down.
    LinkChange { up: bool, speed_mbps: u32 },
    /// The PF is about to reset this VF.
    ResetImpending { severity: i32 },
    /// The PF driver is going away.
    PfDriverClose,
    /// An event code ravf does not know (ignored, counted).
    Unknown(i32),
}

/// Parse an event. `adv_link_speed` selects the link format: it must be the
/// **granted** VIRTCHNL_VF_CAP_ADV_LINK_SPEED bit (virtchnl.h comment on
/// `virtchnl_pf_event`; Linux `ADV_LINK_SUPPORT()`, FreeBSD iavf).
pub fn parse_event(payload: &[u8], adv_link_speed: bool) -> Result<Event, ParseError> {
    need(payload, 16)?;
    let (e, _) = PfEvent::read_from_prefix(payload).map_err(|_| ParseError::Short {
        need: 16,
        got: payload.len(),
    })?;
    Ok(match e.event.get() {
        event::LINK_CHANGE => {
            let up = e.link_status != 0;
            let raw = e.link_speed.get();
            let speed = if !up {
                0
            } else if adv_link_speed {
                raw
            } else {
                link_speed::to_mbps(raw)
            };
            Event::LinkChange {
                up,
                speed_mbps: speed,
            }
        }
        event::RESET_IMPENDING => Event::ResetImpending {
            severity: e.severity.get(),
        },
        event::PF_DRIVER_CLOSE => Event::PfDriverClose,
        other => Event::Unknown(other),
    })
}

#[cfg(test)]
mod tests {
    //! Byte fixtures written from hw-contract 4.5/4.6 (offsets and lengths typed from
    //! the contract tables), not produced by the builders under test.
    extern crate std;
    use super::*;
    use std::vec;
    use std::vec::Vec;

    /// A zeroed message of `len` bytes with little-endian values placed at the
    /// contract's offsets.
    struct Fx(Vec<u8>);
    impl Fx {
        fn new(len: usize) -> Self {
            Fx(vec![0; len])
        }
        fn u8(mut self, off: usize, v: u8) -> Self {
            self.0[off] = v;
            self
        }
        fn u16(mut self, off: usize, v: u16) -> Self {
            self.0[off..off + 2].copy_from_slice(&v.to_le_bytes());
            self
        }
        fn u32(mut self, off: usize, v: u32) -> Self {
            self.0[off..off + 4].copy_from_slice(&v.to_le_bytes());
            self
        }
        fn u64(mut self, off: usize, v: u64) -> Self {
            self.0[off..off + 8].copy_from_slice(&v.to_le_bytes());
            self
        }
        fn bytes(mut self, off: usize, b: &[u8]) -> Self {
            self.0[off..off + b.len()].copy_from_slice(b);
            self
        }
    }

    fn built(f: impl FnOnce(&mut [u8]) -> Result<usize, BuildError>) -> Vec<u8> {
        // Pre-fill with garbage so a builder that forgets to zero padding fails.
        let mut buf = vec![0xA5u8; 4096];
        let n = f(&mut buf).unwrap();
        buf.truncate(n);
        buf
    }

    #[test]
    fn version_bytes() {
        let want = [1, 0, 0, 0, 1, 0, 0, 0];
        assert_eq!(built(|b| build_version(b, 1, 1)), want);
    }

    #[test]
    fn get_vf_resources_bytes() {
        // FreeBSD's request 0x00090081 (L2|VLAN|RSS_PF|ADV_LINK_SPEED), hw-contract 4.4.
        assert_eq!(
            built(|b| build_get_vf_resources(b, Some(0x0009_0081))),
            [0x81, 0x00, 0x09, 0x00]
        );
        assert_eq!(built(|b| build_get_vf_resources(b, None)), Vec::<u8>::new());
        let caps = VfCaps::L2 | VfCaps::VLAN | VfCaps::RSS_PF | VfCaps::ADV_LINK_SPEED;
        assert_eq!(caps.bits(), 0x0009_0081);
        assert_eq!(VfCaps::BASE_MODE.bits(), 0x0009_0001);
    }

    fn pair(q: u16) -> QueuePairInfo {
        QueuePairInfo {
            txq: TxqInfo {
                vsi_id: U16::new(0x18),
                queue_id: U16::new(q),
                ring_len: U16::new(1024),
                headwb_enabled: U16::new(0),
                dma_ring_addr: U64::new(0x1_2345_6000),
                dma_headwb_addr: U64::new(0),
            },
            rxq: RxqInfo {
                vsi_id: U16::new(0x18),
                queue_id: U16::new(q),
                ring_len: U32::new(512),
                databuffer_size: U32::new(2048),
                max_pkt_size: U32::new(1522),
                dma_ring_addr: U64::new(0xABCD_E000),
                ..Default::default()
            },
        }
    }

    #[test]
    fn config_vsi_queues_bytes() {
        let got = built(|b| build_config_vsi_queues(b, 0x18, &[pair(0), pair(1)]));
        assert_eq!(got.len(), 72 + 64 * 2);
        let mut fx = Fx::new(200).u16(0, 0x18).u16(2, 2);
        for q in 0..2usize {
            let base = 8 + 64 * q;
            // txq_info: vsi_id @0, queue_id @2, ring_len @4, headwb @6, ring @8, headwb_addr @16
            fx = fx
                .u16(base, 0x18)
                .u16(base + 2, q as u16)
                .u16(base + 4, 1024)
                .u64(base + 8, 0x1_2345_6000);
            // rxq_info @24: vsi_id @0, queue_id @2, ring_len(u32) @4, hdr_size @8,
            // splithdr @10, databuffer_size @12, max_pkt_size @16, pad1 @20, ring @24
            let r = base + 24;
            fx = fx
                .u16(r, 0x18)
                .u16(r + 2, q as u16)
                .u32(r + 4, 512)
                .u32(r + 12, 2048)
                .u32(r + 16, 1522)
                .u64(r + 24, 0xABCD_E000);
        }
        assert_eq!(got, fx.0);
        assert_eq!(
            build_config_vsi_queues(&mut [0u8; 4096], 1, &[]),
            Err(BuildError::Empty)
        );
        assert_eq!(
            build_config_vsi_queues(&mut [0u8; 100], 1, &[pair(0)]),
            Err(BuildError::BufferTooSmall {
                need: 136,
                have: 100
            })
        );
    }

    #[test]
    fn irq_map_bytes() {
        let m = |v: u16, q: u16| VectorMap {
            vsi_id: U16::new(7),
            vector_id: U16::new(v),
            rxq_map: U16::new(q),
            txq_map: U16::new(q),
            rxitr_idx: U16::new(0),
            txitr_idx: U16::new(1),
        };
        let got = built(|b| build_config_irq_map(b, &[m(1, 1), m(2, 2), m(0, 0)]));
        // 14 + 12*3 = 50; entries start at offset 2.
        let fx = Fx::new(50)
            .u16(0, 3)
            .u16(2, 7)
            .u16(4, 1)
            .u16(6, 1)
            .u16(8, 1)
            .u16(10, 0)
            .u16(12, 1)
            .u16(14, 7)
            .u16(16, 2)
            .u16(18, 2)
            .u16(20, 2)
            .u16(24, 1)
            .u16(26, 7)
            .u16(36, 1);
        assert_eq!(got, fx.0);
    }

    #[test]
    fn queue_select_bytes() {
        let got = built(|b| build_queue_select(b, 0x18, 0xF, 0xF));
        assert_eq!(got, [0x18, 0, 0, 0, 0xF, 0, 0, 0, 0xF, 0, 0, 0]);
    }

    #[test]
    fn ether_addr_bytes() {
        let a = [0x02, 0x11, 0x22, 0x33, 0x44, 0x55];
        let m = [0x01, 0x00, 0x5e, 0x00, 0x00, 0x01];
        let got = built(|b| build_ether_addr_list(b, 0x18, &[a, m], ETHER_ADDR_EXTRA));
        // 12 + 8*2 = 28
        let fx = Fx::new(28)
            .u16(0, 0x18)
            .u16(2, 2)
            .bytes(4, &a)
            .u8(10, 2)
            .bytes(12, &m)
            .u8(18, 2);
        assert_eq!(got, fx.0);
        let one = built(|b| build_ether_addr_list(b, 3, &[a], ETHER_ADDR_PRIMARY));
        assert_eq!(one.len(), 20);
        assert_eq!(one[10], 1);
    }

    #[test]
    fn vlan_bytes() {
        let got = built(|b| build_vlan_filter_list(b, 0x18, &[0, 100]));
        // 6 + 2*2 = 10
        assert_eq!(got, [0x18, 0, 2, 0, 0, 0, 100, 0, 0, 0]);
        assert_eq!(
            build_vlan_filter_list(&mut [0u8; 16], 1, &[]),
            Err(BuildError::Empty)
        );
    }

    #[test]
    fn promisc_bytes() {
        assert_eq!(built(|b| build_promisc(b, 0x18, 3)), [0x18, 0, 3, 0]);
    }

    #[test]
    fn rss_key_lut_hena_bytes() {
        let key: Vec<u8> = (0..52u8).collect();
        let got = built(|b| build_rss_key(b, 0x18, &key));
        assert_eq!(got.len(), 57);
        assert_eq!(got, Fx::new(57).u16(0, 0x18).u16(2, 52).bytes(4, &key).0);
        let lut: Vec<u8> = (0..64u8).map(|i| i % 4).collect();
        let got = built(|b| build_rss_lut(b, 0x18, &lut));
        assert_eq!(got.len(), 69);
        assert_eq!(got, Fx::new(69).u16(0, 0x18).u16(2, 64).bytes(4, &lut).0);
        assert_eq!(
            built(|b| build_set_rss_hena(b, 0x8000_7A1E_8000_0000)),
            [0, 0, 0, 0x80, 0x1E, 0x7A, 0, 0x80]
        );
        assert_eq!(pctype::HENA_BASE, 0x0000_7A1E_8000_0000);
        assert_eq!(pctype::HENA_BASE | pctype::HENA_ADV, 0x0000_7F9F_E000_0000);
    }

    #[test]
    fn request_queues_bytes() {
        assert_eq!(built(|b| build_request_queues(b, 8)), [8, 0]);
    }

    /// A GET_VF_RESOURCES reply as PF-UP sends it: 52 bytes (36 + 16), one VSI.
    fn vf_res_fixture(num_vsis: u16, len: usize) -> Vec<u8> {
        Fx::new(len)
            .u16(0, num_vsis)
            .u16(2, 4) // num_queue_pairs
            .u16(4, 5) // max_vectors
            .u16(6, 9728) // max_mtu (a frame size on i40e)
            .u32(8, 0x0009_00A1) // caps
            .u32(12, 52)
            .u32(16, 64)
            // vsi_res[0] @20: vsi_id @0, nqp @2, vsi_type @4, qset @8, mac @10
            .u16(20, 0x18)
            .u16(22, 4)
            .u32(24, 6)
            .u16(28, 9)
            .bytes(30, &[0, 0x1b, 0x21, 1, 2, 3])
            .0
    }

    #[test]
    fn vf_resources_parse() {
        let b = vf_res_fixture(1, 52);
        let r = parse_vf_resources(&b, 52).unwrap();
        assert_eq!(r.num_queue_pairs, 4);
        assert_eq!(r.max_vectors, 5);
        assert_eq!(r.max_mtu, 9728);
        assert_eq!(r.caps, 0x0009_00A1);
        assert_eq!(r.vsi_id, 0x18);
        assert_eq!(r.qset_handle, 9);
        assert_eq!(r.default_mac, [0, 0x1b, 0x21, 1, 2, 3]);
        // PF-OOT's 36-byte reply is also complete for one VSI.
        assert!(parse_vf_resources(&b[..36], 36).is_ok());
    }

    #[test]
    fn vf_resources_malformed() {
        let b = vf_res_fixture(1, 52);
        assert_eq!(
            parse_vf_resources(&b[..10], 10),
            Err(ParseError::Short { need: 20, got: 10 })
        );
        // Declared length too short for the VSI it claims.
        assert_eq!(
            parse_vf_resources(&b[..30], 30),
            Err(ParseError::Short { need: 36, got: 30 })
        );
        // num_vsis = 0.
        let z = vf_res_fixture(0, 52);
        assert_eq!(parse_vf_resources(&z, 52), Err(ParseError::BadCount));
        // num_vsis = 3 but only one entry's worth declared.
        let many = vf_res_fixture(3, 52);
        assert_eq!(
            parse_vf_resources(&many, 52),
            Err(ParseError::Short { need: 68, got: 52 })
        );
        // Wrong VSI type.
        let mut t = vf_res_fixture(1, 52);
        t[24] = 0;
        assert_eq!(parse_vf_resources(&t, 52), Err(ParseError::NoSriovVsi));
        // The SR-IOV VSI is second; the copied payload cut after the first: not found.
        let mut two = Fx::new(68).bytes(0, &vf_res_fixture(2, 52)).0;
        two[24] = 0;
        two[36..52].copy_from_slice(&Fx::new(16).u16(0, 0x30).u32(4, 6).0);
        assert_eq!(parse_vf_resources(&two, 68).unwrap().vsi_id, 0x30);
        assert_eq!(
            parse_vf_resources(&two[..40], 68),
            Err(ParseError::NoSriovVsi)
        );
    }

    #[test]
    fn events_parse() {
        // Advanced format: 10000 Mbps, up.
        let adv = Fx::new(16).u32(0, 1).u32(4, 10_000).u8(8, 1).0;
        assert_eq!(
            parse_event(&adv, true),
            Ok(Event::LinkChange {
                up: true,
                speed_mbps: 10_000
            })
        );
        // Legacy format: 0x10 = 40GB.
        let leg = Fx::new(16).u32(0, 1).u32(4, 0x10).u8(8, 1).0;
        assert_eq!(
            parse_event(&leg, false),
            Ok(Event::LinkChange {
                up: true,
                speed_mbps: 40_000
            })
        );
        // Down ⇒ speed 0 whatever the field says.
        let down = Fx::new(16).u32(0, 1).u32(4, 0x10).0;
        assert_eq!(
            parse_event(&down, false),
            Ok(Event::LinkChange {
                up: false,
                speed_mbps: 0
            })
        );
        let rst = Fx::new(16).u32(0, 2).u32(12, 255).0;
        assert_eq!(
            parse_event(&rst, true),
            Ok(Event::ResetImpending { severity: 255 })
        );
        assert_eq!(
            parse_event(&Fx::new(16).u32(0, 3).0, true),
            Ok(Event::PfDriverClose)
        );
        assert_eq!(
            parse_event(&Fx::new(16).u32(0, 9).0, true),
            Ok(Event::Unknown(9))
        );
        assert_eq!(
            parse_event(&adv[..15], true),
            Err(ParseError::Short { need: 16, got: 15 })
        );
    }

    #[test]
    fn stats_hena_version_parse() {
        let mut fx = Fx::new(96);
        for i in 0..12 {
            fx = fx.u64(8 * i, 1000 + i as u64);
        }
        let s = parse_eth_stats(&fx.0).unwrap();
        assert_eq!(s.rx_bytes, 1000);
        assert_eq!(s.rx_discards, 1004);
        assert_eq!(s.tx_bytes, 1006);
        assert_eq!(s.tx_errors, 1011);
        assert!(parse_eth_stats(&fx.0[..95]).is_err());
        assert_eq!(
            parse_rss_hena(&Fx::new(8).u64(0, 0x8000_7A1E_8000_0000).0),
            Ok(0x8000_7A1E_8000_0000)
        );
        assert!(parse_rss_hena(&[0; 7]).is_err());
        assert_eq!(parse_version(&Fx::new(8).u32(0, 1).u32(4, 0).0), Ok((1, 0)));
        assert!(parse_version(&[1, 0, 0, 0]).is_err());
        assert_eq!(parse_vf_res_request(&[16, 0]), Ok(16));
    }

    #[test]
    fn legacy_speeds() {
        assert_eq!(link_speed::to_mbps(0x01), 2_500);
        assert_eq!(link_speed::to_mbps(0x02), 100);
        assert_eq!(link_speed::to_mbps(0x04), 1_000);
        assert_eq!(link_speed::to_mbps(0x08), 10_000);
        assert_eq!(link_speed::to_mbps(0x20), 20_000);
        assert_eq!(link_speed::to_mbps(0x40), 25_000);
        assert_eq!(link_speed::to_mbps(0x80), 5_000);
        assert_eq!(link_speed::to_mbps(0x18), 0);
    }

    #[test]
    fn op_names() {
        assert_eq!(VcOp::CONFIG_IRQ_MAP.name(), "CONFIG_IRQ_MAP");
        assert_eq!(VcOp(99).name(), "?");
    }
}
