//! Descriptor layouts, as bit positions (all little-endian 64-bit words).
//!
//! Source: Intel `iavf_type.h` (`struct iavf_tx_desc`, `struct iavf_tx_context_desc`,
//! `union iavf_32byte_rx_desc`), identical in FreeBSD `sys/dev/iavf/iavf_type.h` and
//! OpenBSD `if_iavf.c`; summarised in hw-contract.md 6.2, 6.3, 6.5.

// ---------------------------------------------------------------------------
// TX data descriptor (16 bytes): QW0 = buffer address, QW1 = cmd_type_offset_bsz.
// ---------------------------------------------------------------------------

/// Size of one TX descriptor in bytes.
pub const TX_DESC_SIZE: usize = 16;

/// QW1 `[3:0]` DTYPE.
pub const TXD_DTYPE_MASK: u64 = 0xF;
/// DTYPE 0x0: data descriptor.
pub const TXD_DTYPE_DATA: u64 = 0x0;
/// DTYPE 0x1: context descriptor.
pub const TXD_DTYPE_CONTEXT: u64 = 0x1;
/// DTYPE 0xF: DESC_DONE, written back by the hardware on an RS descriptor.
pub const TXD_DTYPE_DESC_DONE: u64 = 0xF;

/// QW1 `[13:4]` CMD; the values below are already shifted into place.
const TXD_CMD_SHIFT: u32 = 4;
/// CMD EOP (0x001): last descriptor of the packet.
pub const TXD_CMD_EOP: u64 = 0x001 << TXD_CMD_SHIFT;
/// CMD RS (0x002): report status (write DESC_DONE back / update head).
pub const TXD_CMD_RS: u64 = 0x002 << TXD_CMD_SHIFT;
/// CMD ICRC (0x004): append the Ethernet FCS.
pub const TXD_CMD_ICRC: u64 = 0x004 << TXD_CMD_SHIFT;
/// CMD IL2TAG1 (0x008): insert the 802.1Q tag in the L2TAG1 field.
pub const TXD_CMD_IL2TAG1: u64 = 0x008 << TXD_CMD_SHIFT;
/// CMD IIPT (0x060) = 1: IPv6.
pub const TXD_CMD_IIPT_IPV6: u64 = 0x020 << TXD_CMD_SHIFT;
/// CMD IIPT = 2: IPv4 without header checksum offload.
pub const TXD_CMD_IIPT_IPV4: u64 = 0x040 << TXD_CMD_SHIFT;
/// CMD IIPT = 3: IPv4 with header checksum offload.
pub const TXD_CMD_IIPT_IPV4_CSUM: u64 = 0x060 << TXD_CMD_SHIFT;
/// CMD L4T (0x300) = 1: TCP.
pub const TXD_CMD_L4T_TCP: u64 = 0x100 << TXD_CMD_SHIFT;
/// CMD L4T = 2: SCTP.
pub const TXD_CMD_L4T_SCTP: u64 = 0x200 << TXD_CMD_SHIFT;
/// CMD L4T = 3: UDP.
pub const TXD_CMD_L4T_UDP: u64 = 0x300 << TXD_CMD_SHIFT;

/// QW1 OFFSET `[33:16]`: MACLEN `[22:16]` in 2-byte words.
pub const TXD_MACLEN_SHIFT: u32 = 16;
/// IPLEN `[29:23]` in 4-byte words.
pub const TXD_IPLEN_SHIFT: u32 = 23;
/// L4LEN `[33:30]` in 4-byte words.
pub const TXD_L4LEN_SHIFT: u32 = 30;
/// Width masks of MACLEN (7 bits), IPLEN (7 bits), L4LEN (4 bits).
pub const TXD_MACLEN_MASK: u64 = 0x7F;
pub const TXD_IPLEN_MASK: u64 = 0x7F;
pub const TXD_L4LEN_MASK: u64 = 0xF;
/// QW1 BUF_SZ `[47:34]` (14 bits).
pub const TXD_BUF_SZ_SHIFT: u32 = 34;
/// QW1 L2TAG1 `[63:48]`.
pub const TXD_L2TAG1_SHIFT: u32 = 48;

/// Largest buffer one data descriptor can carry: BUF_SZ is 14 bits
/// (iavf_txrx.h `IAVF_MAX_DATA_PER_TXD = 16383`).
pub const TX_MAX_BUF: u64 = 16383;
/// Data descriptors per packet (non-TSO) or per TSO segment, header included
/// (iavf_txrx.h `IAVF_MAX_BUFFER_TXD = 8`; more triggers MDD MAX_BUFF, hw-contract 5.11).
pub const TX_MAX_DATA_DESC: u32 = 8;
/// The TSO header must fit in at most 3 descriptors (FreeBSD `iavf_tso_detect_sparse`
/// comment; hw-contract 5.11).
pub const TX_MAX_HDR_DESC: u32 = 3;
/// Smallest frame the hardware accepts (FreeBSD `IAVF_MIN_FRAME`, Linux `IAVF_MIN_TX_LEN`;
/// shorter triggers MDD WRONG_SIZE).
pub const TX_MIN_FRAME: u32 = 17;
/// Largest non-TSO frame (FreeBSD `IAVF_MAX_FRAME`, MDD WRONG_SIZE above it).
pub const TX_MAX_FRAME: u32 = 9728;

// ---------------------------------------------------------------------------
// TX context descriptor (16 bytes): QW0 = tunneling_params | l2tag2 << 32 | rsvd,
// QW1 = type_cmd_tso_mss.
// ---------------------------------------------------------------------------

/// Context CMD TSO (0x01 at bit 4).
pub const TXCTX_CMD_TSO: u64 = 0x01 << 4;
/// TSO_LEN `[47:30]` (18 bits): TCP payload bytes of the whole TSO packet.
pub const TXCTX_TSO_LEN_SHIFT: u32 = 30;
/// Largest TSO_LEN the field holds.
pub const TXCTX_TSO_LEN_MAX: u32 = (1 << 18) - 1;
/// MSS `[63:50]` (14 bits).
pub const TXCTX_MSS_SHIFT: u32 = 50;
/// MSS limits: below 64 or above 9668 trigger MDD BAD_LSO_MSS (FreeBSD
/// `IAVF_MIN_TSO_MSS` = 64, `IAVF_MAX_TSO_MSS` = 9668).
pub const TSO_MIN_MSS: u16 = 64;
pub const TSO_MAX_MSS: u16 = 9668;

// ---------------------------------------------------------------------------
// RX descriptor, 32-byte format. Read format: QW0 = pkt_addr, QW1 = hdr_addr (0).
// Write-back: QW0 = mirror/fcoe [15:0] | l2tag1 [31:16] | rss [63:32],
//             QW1 = status_error_len.
// ---------------------------------------------------------------------------

/// Size of one RX descriptor in bytes (32-byte format: the i40e PF forces dsize = 1).
pub const RX_DESC_SIZE: usize = 32;
/// Offset of QW1 (`hdr_addr` / `status_error_len`) in a descriptor.
pub const RXD_QW1: usize = 8;

/// QW1 status bit 0: DD, descriptor done.
pub const RXD_DD: u64 = 1 << 0;
/// Status bit 1: EOF, last descriptor of the frame.
pub const RXD_EOF: u64 = 1 << 1;
/// Status bit 2: L2TAG1P, `l2tag1` holds a stripped VLAN tag.
pub const RXD_L2TAG1P: u64 = 1 << 2;
/// Status bit 3: L3L4P, the hardware checked L3/L4 (error bits are meaningful).
pub const RXD_L3L4P: u64 = 1 << 3;
/// Status `[13:12]` FLTSTAT; 3 = RSS hash valid in QW0 `[63:32]`.
pub const RXD_FLTSTAT_SHIFT: u32 = 12;
pub const RXD_FLTSTAT_MASK: u64 = 0x3;
pub const RXD_FLTSTAT_RSS: u64 = 0x3;
/// Status bit 15: IPV6EXADD, IPv6 with extension headers.
pub const RXD_IPV6EXADD: u64 = 1 << 15;
/// Error bit 19: RXE, MAC receive error.
pub const RXD_RXE: u64 = 1 << 19;
/// Error bit 22: IPE, IP (inner or only) header checksum error.
pub const RXD_IPE: u64 = 1 << 22;
/// Error bit 23: L4E, L4 checksum error.
pub const RXD_L4E: u64 = 1 << 23;
/// Error bit 24: EIPE, outer IP checksum error (tunnels).
pub const RXD_EIPE: u64 = 1 << 24;
/// Error bit 25: OVERSIZE, frame longer than the queue's `max_pkt_size`.
pub const RXD_OVERSIZE: u64 = 1 << 25;
/// Error bit 26: PPRS, parser error.
pub const RXD_PPRS: u64 = 1 << 26;
/// `[37:30]` PTYPE (8 bits).
pub const RXD_PTYPE_SHIFT: u32 = 30;
/// `[51:38]` LENGTH_PBUF (14 bits): bytes in this descriptor's buffer.
pub const RXD_PBUF_SHIFT: u32 = 38;
pub const RXD_PBUF_MASK: u64 = 0x3FFF;

/// At most this many descriptors per received frame (FreeBSD `IAVF_MAX_RX_SEGS` = 5;
/// whether it is a hardware limit is UNCONFIRMED, hw-contract 6.5; the emulator keeps it).
pub const RX_MAX_FRAGS: usize = 5;
