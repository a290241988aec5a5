//! The emulator's own definitions of the virtchnl wire protocol (PF side).
//!
//! Written from the contract (hw-contract.md section 4) and checked against the
//! installed Linux header by `tests/vendor_header.rs`; nothing here is shared with the
//! driver crate, so the emulator is an independent implementation of the contract.
//! Source of every value: virtchnl.h (VC-UP / VC-OLD, identical for these).
//!
//! Structs are described as byte offsets (little-endian) rather than `#[repr(C)]`
//! types: the PF reads untrusted bytes with bounds-checked helpers.

// ---- enum virtchnl_ops (virtchnl.h) ----
pub const OP_UNKNOWN: u32 = 0;
pub const OP_VERSION: u32 = 1;
pub const OP_RESET_VF: u32 = 2;
pub const OP_GET_VF_RESOURCES: u32 = 3;
pub const OP_CONFIG_TX_QUEUE: u32 = 4;
pub const OP_CONFIG_RX_QUEUE: u32 = 5;
pub const OP_CONFIG_VSI_QUEUES: u32 = 6;
pub const OP_CONFIG_IRQ_MAP: u32 = 7;
pub const OP_ENABLE_QUEUES: u32 = 8;
pub const OP_DISABLE_QUEUES: u32 = 9;
pub const OP_ADD_ETH_ADDR: u32 = 10;
pub const OP_DEL_ETH_ADDR: u32 = 11;
pub const OP_ADD_VLAN: u32 = 12;
pub const OP_DEL_VLAN: u32 = 13;
pub const OP_CONFIG_PROMISCUOUS_MODE: u32 = 14;
pub const OP_GET_STATS: u32 = 15;
pub const OP_RSVD: u32 = 16;
pub const OP_EVENT: u32 = 17;
pub const OP_IWARP: u32 = 20;
pub const OP_CONFIG_IWARP_IRQ_MAP: u32 = 21;
pub const OP_RELEASE_IWARP_IRQ_MAP: u32 = 22;
pub const OP_CONFIG_RSS_KEY: u32 = 23;
pub const OP_CONFIG_RSS_LUT: u32 = 24;
pub const OP_GET_RSS_HENA_CAPS: u32 = 25;
pub const OP_SET_RSS_HENA: u32 = 26;
pub const OP_ENABLE_VLAN_STRIPPING: u32 = 27;
pub const OP_DISABLE_VLAN_STRIPPING: u32 = 28;
pub const OP_REQUEST_QUEUES: u32 = 29;
pub const OP_ENABLE_CHANNELS: u32 = 30;
pub const OP_DISABLE_CHANNELS: u32 = 31;
pub const OP_ADD_CLOUD_FILTER: u32 = 32;
pub const OP_DEL_CLOUD_FILTER: u32 = 33;

/// Opcode names, for logs and for the vendor-header check (`VIRTCHNL_OP_<name>`).
pub const OPCODES: &[(&str, u32)] = &[
    ("UNKNOWN", OP_UNKNOWN),
    ("VERSION", OP_VERSION),
    ("RESET_VF", OP_RESET_VF),
    ("GET_VF_RESOURCES", OP_GET_VF_RESOURCES),
    ("CONFIG_TX_QUEUE", OP_CONFIG_TX_QUEUE),
    ("CONFIG_RX_QUEUE", OP_CONFIG_RX_QUEUE),
    ("CONFIG_VSI_QUEUES", OP_CONFIG_VSI_QUEUES),
    ("CONFIG_IRQ_MAP", OP_CONFIG_IRQ_MAP),
    ("ENABLE_QUEUES", OP_ENABLE_QUEUES),
    ("DISABLE_QUEUES", OP_DISABLE_QUEUES),
    ("ADD_ETH_ADDR", OP_ADD_ETH_ADDR),
    ("DEL_ETH_ADDR", OP_DEL_ETH_ADDR),
    ("ADD_VLAN", OP_ADD_VLAN),
    ("DEL_VLAN", OP_DEL_VLAN),
    ("CONFIG_PROMISCUOUS_MODE", OP_CONFIG_PROMISCUOUS_MODE),
    ("GET_STATS", OP_GET_STATS),
    ("RSVD", OP_RSVD),
    ("EVENT", OP_EVENT),
    ("IWARP", OP_IWARP),
    ("CONFIG_IWARP_IRQ_MAP", OP_CONFIG_IWARP_IRQ_MAP),
    ("RELEASE_IWARP_IRQ_MAP", OP_RELEASE_IWARP_IRQ_MAP),
    ("CONFIG_RSS_KEY", OP_CONFIG_RSS_KEY),
    ("CONFIG_RSS_LUT", OP_CONFIG_RSS_LUT),
    ("GET_RSS_HENA_CAPS", OP_GET_RSS_HENA_CAPS),
    ("SET_RSS_HENA", OP_SET_RSS_HENA),
    ("ENABLE_VLAN_STRIPPING", OP_ENABLE_VLAN_STRIPPING),
    ("DISABLE_VLAN_STRIPPING", OP_DISABLE_VLAN_STRIPPING),
    ("REQUEST_QUEUES", OP_REQUEST_QUEUES),
    ("ENABLE_CHANNELS", OP_ENABLE_CHANNELS),
    ("DISABLE_CHANNELS", OP_DISABLE_CHANNELS),
    ("ADD_CLOUD_FILTER", OP_ADD_CLOUD_FILTER),
    ("DEL_CLOUD_FILTER", OP_DEL_CLOUD_FILTER),
];

pub fn op_name(op: u32) -> &'static str {
    OPCODES
        .iter()
        .find(|(_, v)| *v == op)
        .map(|(n, _)| *n)
        .unwrap_or("?")
}

// ---- enum virtchnl_status_code (virtchnl.h) ----
pub const STATUS_SUCCESS: i32 = 0;
pub const STATUS_ERR_PARAM: i32 = -5;
pub const STATUS_ERR_NO_MEMORY: i32 = -18;
pub const STATUS_ERR_OPCODE_MISMATCH: i32 = -38;
pub const STATUS_ERR_CQP_COMPL_ERROR: i32 = -39;
pub const STATUS_ERR_INVALID_VF_ID: i32 = -40;
pub const STATUS_ERR_ADMIN_QUEUE_ERROR: i32 = -53;
pub const STATUS_ERR_NOT_SUPPORTED: i32 = -64;

pub const STATUS_CODES: &[(&str, i32)] = &[
    ("SUCCESS", STATUS_SUCCESS),
    ("ERR_PARAM", STATUS_ERR_PARAM),
    ("ERR_NO_MEMORY", STATUS_ERR_NO_MEMORY),
    ("ERR_OPCODE_MISMATCH", STATUS_ERR_OPCODE_MISMATCH),
    ("ERR_CQP_COMPL_ERROR", STATUS_ERR_CQP_COMPL_ERROR),
    ("ERR_INVALID_VF_ID", STATUS_ERR_INVALID_VF_ID),
    ("ERR_ADMIN_QUEUE_ERROR", STATUS_ERR_ADMIN_QUEUE_ERROR),
    ("ERR_NOT_SUPPORTED", STATUS_ERR_NOT_SUPPORTED),
];

// ---- version (virtchnl.h VIRTCHNL_VERSION_MAJOR/MINOR) ----
pub const VERSION_MAJOR: u32 = 1;
pub const VERSION_MINOR: u32 = 1;
pub const VERSION_MINOR_NO_VF_CAPS: u32 = 0;

// ---- vf_cap_flags (virtchnl.h VIRTCHNL_VF_OFFLOAD_* / VIRTCHNL_VF_CAP_*) ----
pub const VF_OFFLOAD_L2: u32 = 1 << 0;
pub const VF_OFFLOAD_IWARP: u32 = 1 << 1;
pub const VF_OFFLOAD_RSS_AQ: u32 = 1 << 3;
pub const VF_OFFLOAD_RSS_REG: u32 = 1 << 4;
pub const VF_OFFLOAD_WB_ON_ITR: u32 = 1 << 5;
pub const VF_OFFLOAD_REQ_QUEUES: u32 = 1 << 6;
pub const VF_CAP_ADV_LINK_SPEED: u32 = 1 << 7;
pub const VF_OFFLOAD_CRC: u32 = 1 << 10;
pub const VF_OFFLOAD_VLAN_V2: u32 = 1 << 15;
pub const VF_OFFLOAD_VLAN: u32 = 1 << 16;
pub const VF_OFFLOAD_RX_POLLING: u32 = 1 << 17;
pub const VF_OFFLOAD_RSS_PCTYPE_V2: u32 = 1 << 18;
pub const VF_OFFLOAD_RSS_PF: u32 = 1 << 19;
pub const VF_OFFLOAD_ENCAP: u32 = 1 << 20;
pub const VF_OFFLOAD_ENCAP_CSUM: u32 = 1 << 21;
pub const VF_OFFLOAD_RX_ENCAP_CSUM: u32 = 1 << 22;
pub const VF_OFFLOAD_ADQ: u32 = 1 << 23;
pub const VF_OFFLOAD_USO: u32 = 1 << 25;
pub const VF_OFFLOAD_ADV_RSS_PF: u32 = 1 << 27;
pub const VF_OFFLOAD_FDIR_PF: u32 = 1 << 28;
/// virtchnl.h `VF_BASE_MODE_OFFLOADS` = L2 | VLAN | RSS_PF.
pub const VF_BASE_MODE_OFFLOADS: u32 = VF_OFFLOAD_L2 | VF_OFFLOAD_VLAN | VF_OFFLOAD_RSS_PF;

/// Cap names as the header spells them after `VIRTCHNL_VF_`.
pub const CAPS: &[(&str, u32)] = &[
    ("OFFLOAD_L2", VF_OFFLOAD_L2),
    ("OFFLOAD_IWARP", VF_OFFLOAD_IWARP),
    ("OFFLOAD_RSS_AQ", VF_OFFLOAD_RSS_AQ),
    ("OFFLOAD_RSS_REG", VF_OFFLOAD_RSS_REG),
    ("OFFLOAD_WB_ON_ITR", VF_OFFLOAD_WB_ON_ITR),
    ("OFFLOAD_REQ_QUEUES", VF_OFFLOAD_REQ_QUEUES),
    ("CAP_ADV_LINK_SPEED", VF_CAP_ADV_LINK_SPEED),
    ("OFFLOAD_CRC", VF_OFFLOAD_CRC),
    ("OFFLOAD_VLAN_V2", VF_OFFLOAD_VLAN_V2),
    ("OFFLOAD_VLAN", VF_OFFLOAD_VLAN),
    ("OFFLOAD_RX_POLLING", VF_OFFLOAD_RX_POLLING),
    ("OFFLOAD_RSS_PCTYPE_V2", VF_OFFLOAD_RSS_PCTYPE_V2),
    ("OFFLOAD_RSS_PF", VF_OFFLOAD_RSS_PF),
    ("OFFLOAD_ENCAP", VF_OFFLOAD_ENCAP),
    ("OFFLOAD_ENCAP_CSUM", VF_OFFLOAD_ENCAP_CSUM),
    ("OFFLOAD_RX_ENCAP_CSUM", VF_OFFLOAD_RX_ENCAP_CSUM),
    ("OFFLOAD_ADQ", VF_OFFLOAD_ADQ),
    ("OFFLOAD_USO", VF_OFFLOAD_USO),
    ("OFFLOAD_ADV_RSS_PF", VF_OFFLOAD_ADV_RSS_PF),
    ("OFFLOAD_FDIR_PF", VF_OFFLOAD_FDIR_PF),
];

// ---- enum virtchnl_vsi_type ----
pub const VSI_TYPE_INVALID: u32 = 0;
pub const VSI_SRIOV: u32 = 6;

// ---- enum virtchnl_event_codes, severities ----
pub const EVENT_UNKNOWN: u32 = 0;
pub const EVENT_LINK_CHANGE: u32 = 1;
pub const EVENT_RESET_IMPENDING: u32 = 2;
pub const EVENT_PF_DRIVER_CLOSE: u32 = 3;
pub const EVENT_CODES: &[(&str, u32)] = &[
    ("UNKNOWN", EVENT_UNKNOWN),
    ("LINK_CHANGE", EVENT_LINK_CHANGE),
    ("RESET_IMPENDING", EVENT_RESET_IMPENDING),
    ("PF_DRIVER_CLOSE", EVENT_PF_DRIVER_CLOSE),
];
pub const PF_EVENT_SEVERITY_INFO: u32 = 0;
pub const PF_EVENT_SEVERITY_CERTAIN_DOOM: u32 = 255;

// ---- enum virtchnl_link_speed (legacy event format; contract 4.7) ----
pub const LINK_SPEED_UNKNOWN: u32 = 0;
pub const LINK_SPEED_2_5GB: u32 = 1 << 0;
pub const LINK_SPEED_100MB: u32 = 1 << 1;
pub const LINK_SPEED_1GB: u32 = 1 << 2;
pub const LINK_SPEED_10GB: u32 = 1 << 3;
pub const LINK_SPEED_40GB: u32 = 1 << 4;
pub const LINK_SPEED_20GB: u32 = 1 << 5;
pub const LINK_SPEED_25GB: u32 = 1 << 6;
pub const LINK_SPEED_5GB: u32 = 1 << 7;
pub const LINK_SPEEDS: &[(&str, u32)] = &[
    ("UNKNOWN", LINK_SPEED_UNKNOWN),
    ("100MB", LINK_SPEED_100MB),
    ("1GB", LINK_SPEED_1GB),
    ("10GB", LINK_SPEED_10GB),
    ("40GB", LINK_SPEED_40GB),
    ("20GB", LINK_SPEED_20GB),
    ("25GB", LINK_SPEED_25GB),
    ("2_5GB", LINK_SPEED_2_5GB),
    ("5GB", LINK_SPEED_5GB),
];

/// Legacy encoding of a speed in Mbps (i40e `i40e_virtchnl_link_speed`; contract 4.7).
pub fn legacy_link_speed(mbps: u32) -> u32 {
    match mbps {
        100 => LINK_SPEED_100MB,
        1000 => LINK_SPEED_1GB,
        2500 => LINK_SPEED_2_5GB,
        5000 => LINK_SPEED_5GB,
        10000 => LINK_SPEED_10GB,
        20000 => LINK_SPEED_20GB,
        25000 => LINK_SPEED_25GB,
        40000 => LINK_SPEED_40GB,
        _ => LINK_SPEED_UNKNOWN,
    }
}

// ---- promisc flags, ether_addr types ----
pub const FLAG_VF_UNICAST_PROMISC: u16 = 0x1;
pub const FLAG_VF_MULTICAST_PROMISC: u16 = 0x2;
pub const ETHER_ADDR_LEGACY: u8 = 0;
pub const ETHER_ADDR_PRIMARY: u8 = 1;
pub const ETHER_ADDR_EXTRA: u8 = 2;
pub const ETHER_ADDR_TYPE_MASK: u8 = 3;

// ---- enum virtchnl_vfr_states (VFGEN_RSTAT values; contract 2.2) ----
pub const VFR_INPROGRESS: u32 = 0;
pub const VFR_COMPLETED: u32 = 1;
pub const VFR_VFACTIVE: u32 = 2;

/// Byte layout of one struct: C name, size (legacy `[1]`-array size for the list
/// messages), the size without the trailing array (`hdr`, equal to `size` for fixed
/// structs), and field offsets. Checked against the header by tests/vendor_header.rs.
pub struct Layout {
    pub name: &'static str,
    pub size: usize,
    pub hdr: usize,
    pub fields: &'static [(&'static str, usize)],
}

macro_rules! layout {
    ($modname:ident, $cname:literal, size $size:literal, hdr $hdr:literal, { $($f:ident = $off:literal),* $(,)? }) => {
        #[allow(non_upper_case_globals, dead_code)]
        pub mod $modname {
            pub const SIZE: usize = $size;
            pub const HDR: usize = $hdr;
            $(pub const $f: usize = $off;)*
            pub const LAYOUT: super::Layout = super::Layout {
                name: $cname,
                size: $size,
                hdr: $hdr,
                fields: &[$((stringify!($f), $off)),*],
            };
        }
    };
}

layout!(version_info, "virtchnl_version_info", size 8, hdr 8, { major = 0, minor = 4 });
layout!(vsi_resource, "virtchnl_vsi_resource", size 16, hdr 16, {
    vsi_id = 0, num_queue_pairs = 2, vsi_type = 4, qset_handle = 8, default_mac_addr = 10
});
layout!(vf_resource, "virtchnl_vf_resource", size 36, hdr 20, {
    num_vsis = 0, num_queue_pairs = 2, max_vectors = 4, max_mtu = 6, vf_cap_flags = 8,
    rss_key_size = 12, rss_lut_size = 16, vsi_res = 20
});
layout!(txq_info, "virtchnl_txq_info", size 24, hdr 24, {
    vsi_id = 0, queue_id = 2, ring_len = 4, headwb_enabled = 6, dma_ring_addr = 8, dma_headwb_addr = 16
});
// Bytes 20..24 are `u32 pad1` in the [1]-array era headers and crc_disable/rxdid/
// flags/pad1 bytes in later ones; i40e ignores them either way (contract 5.2), so they
// are not listed.
layout!(rxq_info, "virtchnl_rxq_info", size 40, hdr 40, {
    vsi_id = 0, queue_id = 2, ring_len = 4, hdr_size = 8, splithdr_enabled = 10,
    databuffer_size = 12, max_pkt_size = 16, dma_ring_addr = 24, rx_split_pos = 32, pad2 = 36
});
layout!(queue_pair_info, "virtchnl_queue_pair_info", size 64, hdr 64, { txq = 0, rxq = 24 });
layout!(vsi_queue_config_info, "virtchnl_vsi_queue_config_info", size 72, hdr 8, {
    vsi_id = 0, num_queue_pairs = 2, qpair = 8
});
layout!(vector_map, "virtchnl_vector_map", size 12, hdr 12, {
    vsi_id = 0, vector_id = 2, rxq_map = 4, txq_map = 6, rxitr_idx = 8, txitr_idx = 10
});
layout!(irq_map_info, "virtchnl_irq_map_info", size 14, hdr 2, { num_vectors = 0, vecmap = 2 });
layout!(queue_select, "virtchnl_queue_select", size 12, hdr 12, {
    vsi_id = 0, pad = 2, rx_queues = 4, tx_queues = 8
});
layout!(ether_addr, "virtchnl_ether_addr", size 8, hdr 8, { addr = 0, type_ = 6, pad = 7 });
layout!(ether_addr_list, "virtchnl_ether_addr_list", size 12, hdr 4, {
    vsi_id = 0, num_elements = 2, list = 4
});
layout!(vlan_filter_list, "virtchnl_vlan_filter_list", size 6, hdr 4, {
    vsi_id = 0, num_elements = 2, vlan_id = 4
});
layout!(promisc_info, "virtchnl_promisc_info", size 4, hdr 4, { vsi_id = 0, flags = 2 });
layout!(rss_key, "virtchnl_rss_key", size 6, hdr 4, { vsi_id = 0, key_len = 2, key = 4 });
layout!(rss_lut, "virtchnl_rss_lut", size 6, hdr 4, { vsi_id = 0, lut_entries = 2, lut = 4 });
layout!(rss_hena, "virtchnl_rss_hena", size 8, hdr 8, { hena = 0 });
layout!(pf_event, "virtchnl_pf_event", size 16, hdr 16, { event = 0, event_data = 4, severity = 12 });
layout!(vf_res_request, "virtchnl_vf_res_request", size 2, hdr 2, { num_queue_pairs = 0 });
layout!(msg, "virtchnl_msg", size 20, hdr 20, { pad = 0, v_opcode = 8, v_retval = 12, vfid = 16 });

/// Every layout above, for the vendor-header check.
pub const LAYOUTS: &[&Layout] = &[
    &version_info::LAYOUT,
    &vsi_resource::LAYOUT,
    &vf_resource::LAYOUT,
    &txq_info::LAYOUT,
    &rxq_info::LAYOUT,
    &queue_pair_info::LAYOUT,
    &vsi_queue_config_info::LAYOUT,
    &vector_map::LAYOUT,
    &irq_map_info::LAYOUT,
    &queue_select::LAYOUT,
    &ether_addr::LAYOUT,
    &ether_addr_list::LAYOUT,
    &vlan_filter_list::LAYOUT,
    &promisc_info::LAYOUT,
    &rss_key::LAYOUT,
    &rss_lut::LAYOUT,
    &rss_hena::LAYOUT,
    &pf_event::LAYOUT,
    &msg::LAYOUT,
];

/// `struct virtchnl_eth_stats`: 12 u64 counters (VC-OOT; contract 4.5), 96 bytes.
pub const ETH_STATS_LEN: usize = 96;

// ---- bounds-checked little-endian readers over untrusted bytes ----
pub fn rd_u8(b: &[u8], off: usize) -> u8 {
    b.get(off).copied().unwrap_or(0)
}
pub fn rd_u16(b: &[u8], off: usize) -> u16 {
    u16::from_le_bytes([rd_u8(b, off), rd_u8(b, off + 1)])
}
pub fn rd_u32(b: &[u8], off: usize) -> u32 {
    u32::from_le_bytes([
        rd_u8(b, off),
        rd_u8(b, off + 1),
        rd_u8(b, off + 2),
        rd_u8(b, off + 3),
    ])
}
pub fn rd_u64(b: &[u8], off: usize) -> u64 {
    rd_u32(b, off) as u64 | (rd_u32(b, off + 4) as u64) << 32
}
pub fn wr_u16(b: &mut [u8], off: usize, v: u16) {
    if let Some(s) = b.get_mut(off..off + 2) {
        s.copy_from_slice(&v.to_le_bytes());
    }
}
pub fn wr_u32(b: &mut [u8], off: usize, v: u32) {
    if let Some(s) = b.get_mut(off..off + 4) {
        s.copy_from_slice(&v.to_le_bytes());
    }
}
pub fn wr_u64(b: &mut [u8], off: usize, v: u64) {
    if let Some(s) = b.get_mut(off..off + 8) {
        s.copy_from_slice(&v.to_le_bytes());
    }
}

/// Why `validate_len` rejected a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LenError {
    /// The header's `virtchnl_vc_validate_vf_msg` does not know the opcode
    /// (returns ERR_PARAM): EVENT, UNKNOWN, reserved numbers.
    UnknownOpcode,
    /// Wrong length, or a list message with a zero count (ERR_OPCODE_MISMATCH).
    Mismatch { want: usize, got: usize },
    /// A list message with `num_* == 0`.
    ZeroCount,
}

/// The exact length rule of `virtchnl_vc_validate_vf_msg` with the legacy
/// `[1]`-array sizes (contract 4.6). `vf_is_v11`: the VF's stored version is 1.1
/// (decides GET_VF_RESOURCES' 4-byte caps payload).
pub fn validate_len(op: u32, vf_is_v11: bool, msg: &[u8]) -> Result<(), LenError> {
    let len = msg.len();
    let list =
        |hdr_legacy: usize, count: usize, elem: usize, byone: bool| -> Result<usize, LenError> {
            if len < hdr_legacy {
                return Err(LenError::Mismatch {
                    want: hdr_legacy,
                    got: len,
                });
            }
            if count == 0 && !byone {
                return Err(LenError::ZeroCount);
            }
            Ok(hdr_legacy + count * elem - if byone { 1 } else { 0 })
        };
    let want = match op {
        OP_VERSION => version_info::SIZE,
        OP_RESET_VF => 0,
        OP_GET_VF_RESOURCES => {
            if vf_is_v11 {
                4
            } else {
                0
            }
        }
        OP_CONFIG_TX_QUEUE => txq_info::SIZE,
        OP_CONFIG_RX_QUEUE => rxq_info::SIZE,
        OP_CONFIG_VSI_QUEUES => list(
            vsi_queue_config_info::SIZE,
            rd_u16(msg, vsi_queue_config_info::num_queue_pairs) as usize,
            queue_pair_info::SIZE,
            false,
        )?,
        OP_CONFIG_IRQ_MAP => list(
            irq_map_info::SIZE,
            rd_u16(msg, irq_map_info::num_vectors) as usize,
            vector_map::SIZE,
            false,
        )?,
        OP_ENABLE_QUEUES | OP_DISABLE_QUEUES | OP_GET_STATS => queue_select::SIZE,
        OP_ADD_ETH_ADDR | OP_DEL_ETH_ADDR => list(
            ether_addr_list::SIZE,
            rd_u16(msg, ether_addr_list::num_elements) as usize,
            ether_addr::SIZE,
            false,
        )?,
        OP_ADD_VLAN | OP_DEL_VLAN => list(
            vlan_filter_list::SIZE,
            rd_u16(msg, vlan_filter_list::num_elements) as usize,
            2,
            false,
        )?,
        OP_CONFIG_PROMISCUOUS_MODE => promisc_info::SIZE,
        OP_CONFIG_RSS_KEY => list(
            rss_key::SIZE,
            rd_u16(msg, rss_key::key_len) as usize,
            1,
            true,
        )?,
        OP_CONFIG_RSS_LUT => list(
            rss_lut::SIZE,
            rd_u16(msg, rss_lut::lut_entries) as usize,
            1,
            true,
        )?,
        OP_GET_RSS_HENA_CAPS
        | OP_ENABLE_VLAN_STRIPPING
        | OP_DISABLE_VLAN_STRIPPING
        | OP_DISABLE_CHANNELS => 0,
        OP_SET_RSS_HENA => rss_hena::SIZE,
        OP_REQUEST_QUEUES => vf_res_request::SIZE,
        OP_ENABLE_CHANNELS => {
            // virtchnl_tc_info: legacy 24, header 8, 16 per channel_info.
            if len < 24 {
                return Err(LenError::Mismatch { want: 24, got: len });
            }
            let n = rd_u32(msg, 0) as usize;
            if n == 0 {
                return Err(LenError::ZeroCount);
            }
            8 + 16 * n
        }
        OP_ADD_CLOUD_FILTER | OP_DEL_CLOUD_FILTER => 272,
        OP_RELEASE_IWARP_IRQ_MAP => 0,
        OP_IWARP => {
            if len == 0 {
                return Err(LenError::ZeroCount);
            }
            len
        }
        _ => return Err(LenError::UnknownOpcode),
    };
    if want != len {
        return Err(LenError::Mismatch { want, got: len });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list_msg(hdr: usize, count_off: usize, count: u16, total: usize) -> Vec<u8> {
        let mut m = vec![0u8; total.max(hdr)];
        m[count_off..count_off + 2].copy_from_slice(&count.to_le_bytes());
        m
    }

    #[test]
    fn legacy_lengths_from_the_contract() {
        // Contract 4.6 table, exact byte counts.
        for (n, ok) in [(1u16, 136usize), (4, 328), (16, 1096)] {
            let m = list_msg(72, 2, n, ok);
            assert_eq!(validate_len(OP_CONFIG_VSI_QUEUES, true, &m), Ok(()));
            let m2 = list_msg(72, 2, n, ok - 64);
            assert!(
                validate_len(OP_CONFIG_VSI_QUEUES, true, &m2).is_err(),
                "header-sized (flex) length must fail"
            );
        }
        assert_eq!(
            validate_len(OP_CONFIG_IRQ_MAP, true, &list_msg(14, 0, 5, 74)),
            Ok(())
        );
        assert!(validate_len(OP_CONFIG_IRQ_MAP, true, &list_msg(14, 0, 5, 62)).is_err());
        assert_eq!(
            validate_len(OP_ADD_ETH_ADDR, true, &list_msg(12, 2, 1, 20)),
            Ok(())
        );
        assert!(validate_len(OP_ADD_ETH_ADDR, true, &list_msg(12, 2, 1, 12)).is_err());
        assert_eq!(
            validate_len(OP_ADD_VLAN, true, &list_msg(6, 2, 1, 8)),
            Ok(())
        );
        assert_eq!(
            validate_len(OP_DEL_VLAN, true, &list_msg(6, 2, 3, 12)),
            Ok(())
        );
        assert_eq!(
            validate_len(OP_CONFIG_RSS_KEY, true, &list_msg(6, 2, 52, 57)),
            Ok(())
        );
        assert!(validate_len(OP_CONFIG_RSS_KEY, true, &list_msg(6, 2, 52, 56)).is_err());
        assert_eq!(
            validate_len(OP_CONFIG_RSS_LUT, true, &list_msg(6, 2, 64, 69)),
            Ok(())
        );
        assert_eq!(
            validate_len(OP_ADD_ETH_ADDR, true, &list_msg(12, 2, 0, 12)),
            Err(LenError::ZeroCount)
        );
        assert_eq!(validate_len(OP_GET_VF_RESOURCES, true, &[0; 4]), Ok(()));
        assert!(validate_len(OP_GET_VF_RESOURCES, false, &[0; 4]).is_err());
        assert_eq!(validate_len(OP_GET_VF_RESOURCES, false, &[]), Ok(()));
        assert_eq!(validate_len(OP_VERSION, false, &[0; 8]), Ok(()));
        assert_eq!(validate_len(OP_REQUEST_QUEUES, true, &[0; 2]), Ok(()));
        assert_eq!(
            validate_len(OP_EVENT, true, &[0; 16]),
            Err(LenError::UnknownOpcode)
        );
        assert_eq!(validate_len(44, true, &[]), Err(LenError::UnknownOpcode));
        assert!(validate_len(OP_RESET_VF, true, &[0]).is_err());
    }

    #[test]
    fn readers_never_panic_past_the_end() {
        assert_eq!(rd_u32(&[1, 2], 0), 0x0201);
        assert_eq!(rd_u64(&[], 100), 0);
    }
}
