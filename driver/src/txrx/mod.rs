//! The data path: the logic behind iflib's seven `if_txrx` callbacks.
//!
//! | iflib callback            | here                          |
//! |---------------------------|-------------------------------|
//! | `ift_txd_encap`           | [`TxRing::encap`]             |
//! | `ift_txd_flush`           | [`TxRing::flush`]             |
//! | `ift_txd_credits_update`  | [`TxRing::credits_update`]    |
//! | `ift_rxd_available`       | [`RxRing::available`]         |
//! | `ift_rxd_pkt_get`         | [`RxRing::pkt_get`]           |
//! | `ift_rxd_refill`          | [`RxRing::refill`]            |
//! | `ift_rxd_flush`           | [`RxRing::flush`]             |
//!
//! plus the queue-vector interrupt helpers in [`intr`].
//!
//! The types mirror iflib's C structs field for field (`if_pkt_info` → [`TxPkt`],
//! `if_rxd_info` → [`RxPkt`], `bus_dma_segment_t` → [`Seg`], `if_rxd_frag` → [`RxFrag`]).
//! `TxRing::encap` takes any [`TxPktInfo`] (field accessors), so `ffi/` hands it a view
//! of iflib's own `if_pkt_info` and the ring loads each field where it uses it; `ffi/`
//! borrows iflib's arrays in place.
//!
//! # Hot-path rules (style-and-performance.md A.14 item 7)
//! * Ring indexes are always `& mask` (ring sizes are powers of two), and each
//!   descriptor access makes one bounds compare against the region's length: a TX
//!   descriptor through [`DmaRegion::wr_u64x2`](crate::os::DmaRegion::wr_u64x2), the RX fast path through
//!   [`DmaRegion::rd_u64x2`](crate::os::DmaRegion::rd_u64x2), the RX loops through `rd_qw1`/`wr_qw0`. Each compare
//!   implies the [`DmaRegion`] impl's own checks, which then fold away after inlining,
//!   and with them the impl's out-of-line fallback (a call whose clobbers would force
//!   spills and reloads around every descriptor).
//! * A descriptor is written as two 64-bit stores; the last one of a packet is written
//!   once, with EOP already in it (no read-modify-write of device memory).
//! * `if_pkt_info` fields are loaded once, before the first descriptor store.
//! * No division, no allocation, no panics: arithmetic on indexes and counters is
//!   `wrapping_*`, slices are reached through `get`/fixed-size arrays.
//! * Values read from the device (head write-back, RX write-back) are untrusted: they
//!   are bounded before use and a bad one becomes an error and a counter.
//!
//! # Wiring (for `ffi/`)
//! * Attach: `TxRing::new(region, ntxd, qid, head_wb)` over iflib's TX ring memory
//!   ([`tx_ring_bytes`] long, [`RING_ALIGN`]-aligned), `RxRing::new(region, nrxd, qid)`
//!   over the RX ring ([`rx_ring_bytes`]).
//! * `IFDI_INIT`: `TxRing::init` + `flush(bar, 0)`; `RxRing::init`,
//!   `RxRing::set_buf_size(iflib_get_rx_mbuf_sz(ctx))` (the same value goes to the PF as
//!   `databuffer_size`), `RxRing::set_rx_csum(capenable & (RXCSUM|RXCSUM_IPV6) != 0)`,
//!   then the queue configuration; iflib refills and flushes RX itself.
//! * The seven callbacks map 1:1 (table above); convert a `TxError`/`RxError` with
//!   `.errno()`. `credits_update` returns a count for iflib's `int`.
//! * Queue interrupts: [`intr::queue_intr_enable`]/[`intr::queue_intr_disable`] for
//!   `ifdi_{rx,tx}_queue_intr_enable`, `ifdi_intr_{enable,disable}`.
//!
//! [`DmaRegion`]: crate::os::DmaRegion

pub mod csum;
pub mod desc;
pub mod intr;
pub mod rx;
pub mod tx;

#[cfg(test)]
mod testutil;

pub use rx::{RxError, RxFrag, RxPkt, RxRing};
pub use tx::{Seg, TxError, TxPkt, TxPktInfo, TxRing};

// ---------------------------------------------------------------------------
// Registers used by the data path (BAR0, 32-bit). The control plane has its own
// register map (`crate::regs`); these few are repeated here so the data path has no
// dependency on it. Indexes are masked into the range the hardware defines.
// ---------------------------------------------------------------------------

/// Queues a 700-series VF can address: `QTX_TAIL1`/`QRX_TAIL1` q = 0..15
/// (i40e_register.h, VF register block).
pub const MAX_QUEUES: u16 = 16;

/// i40e_register.h: `I40E_QTX_TAIL1(q) = 0x00000000 + 4*q`, q = 0..15, TAIL `[12:0]`.
#[inline]
pub const fn qtx_tail1(q: u16) -> u32 {
    (q as u32 & 0xF) << 2
}

/// i40e_register.h: `I40E_QRX_TAIL1(q) = 0x00002000 + 4*q`, q = 0..15, TAIL `[12:0]`.
#[inline]
pub const fn qrx_tail1(q: u16) -> u32 {
    0x2000 + ((q as u32 & 0xF) << 2)
}

// ---------------------------------------------------------------------------
// Ring geometry
// ---------------------------------------------------------------------------

/// Smallest ring this code accepts. FreeBSD iavf/iflib use 64..4096 (`IAVF_MIN_RING`);
/// smaller powers of two work logically and keep unit tests short.
pub const MIN_RING: u16 = 8;
/// Largest ring: the TX/RX queue context holds at most 4096 descriptors
/// (i40e `I40E_MAX_NUM_DESCRIPTORS`, FreeBSD `IAVF_MAX_RING`).
pub const MAX_RING: u16 = 4096;

/// Why a ring could not be built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RingError {
    /// Descriptor count not a power of two in `MIN_RING..=MAX_RING`.
    BadSize,
    /// Queue index `>= MAX_QUEUES`.
    BadQueue,
    /// The DMA region is smaller than the ring (plus the head write-back word).
    RegionTooSmall,
}

/// Ring base alignment the hardware needs (queue context base in 128-byte units;
/// FreeBSD `DBA_ALIGN` = 128, hw-contract 6.1).
pub const RING_ALIGN: usize = 128;

/// Bytes of DMA memory for a TX ring of `ntxd` descriptors (`isc_txqsizes[0]`): the
/// descriptors plus the 32-bit head write-back word after them, rounded up to 128, as
/// FreeBSD iavf sizes it, so either completion mode fits.
pub const fn tx_ring_bytes(ntxd: u16) -> usize {
    (ntxd as usize * desc::TX_DESC_SIZE + 4).next_multiple_of(RING_ALIGN)
}

/// Bytes of DMA memory for an RX ring of `nrxd` 32-byte descriptors (`isc_rxqsizes[0]`).
pub const fn rx_ring_bytes(nrxd: u16) -> usize {
    (nrxd as usize * desc::RX_DESC_SIZE).next_multiple_of(RING_ALIGN)
}

#[inline]
pub(crate) fn ring_size_ok(n: u16) -> bool {
    (MIN_RING..=MAX_RING).contains(&n) && n.is_power_of_two()
}

// ---------------------------------------------------------------------------
// Counters
// ---------------------------------------------------------------------------

/// Per-queue counters (read by the sysctl/ifdi_get_counter code; never reset by
/// `init`, as FreeBSD keeps its ring counters across reinit).
///
/// All counts wrap (they are statistics, not invariants). Per packet the data path
/// touches only `packets` and `bytes` (and `csum`/`csum_err` when offloads are in play);
/// the others are bumped on error paths. `packets` and `bytes` are deliberately not
/// adjacent: adjacent, the host compiler fuses the two increments into a 6-instruction
/// SSE sequence (load, pack, add, store) where two scalar `add`s to memory suffice (the
/// kernel target has no SSE and always gets the two `add`s).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct QueueCounters {
    /// TX: packets encapsulated. RX: frames handed to iflib.
    pub packets: u64,
    /// TX: packets with checksum/TSO offload requested.
    pub csum: u64,
    /// TX: bytes in the DMA segments of encapsulated packets. RX: frame bytes.
    pub bytes: u64,
    /// RX: frames refused because of a bad write-back (RXE, OVERSIZE, bad length, more
    /// than 5 descriptors, missing DD). TX: garbage head write-back value or a
    /// completion reported for a descriptor the driver never flushed.
    pub desc_err: u64,
    /// TX: TSO context descriptors written.
    pub tso: u64,
    /// TX: TSO MSS below 64 raised to 64 (FreeBSD `mss_too_small`).
    pub mss_too_small: u64,
    /// TX: TSO MSS above the hardware maximum lowered to it.
    pub mss_too_large: u64,
    /// RX: frames whose L3 or L4 checksum the hardware found bad.
    pub csum_err: u64,
    /// TX: EFBIG returned (too many descriptors; iflib defragments and retries).
    pub efbig: u64,
    /// TX: packets shorter than 17 bytes (FreeBSD `pkt_too_small`).
    pub too_small: u64,
    /// TX: packets refused as malformed (no data, bad TSO headers, length mismatch,
    /// non-TSO frame above 9728 bytes).
    pub invalid: u64,
}

/// FreeBSD errno values (sys/sys/errno.h) the callbacks return to iflib.
pub mod errno {
    /// sys/sys/errno.h: `EINVAL 22`.
    pub const EINVAL: i32 = 22;
    /// sys/sys/errno.h: `EFBIG 27`.
    pub const EFBIG: i32 = 27;
    /// sys/sys/errno.h: `EBADMSG 89`.
    pub const EBADMSG: i32 = 89;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_sizes_and_tail_offsets() {
        // 1024 * 16 + 4 rounded up to 128; 1024 * 32.
        assert_eq!(tx_ring_bytes(1024), 16512);
        assert_eq!(rx_ring_bytes(1024), 32768);
        assert_eq!(tx_ring_bytes(64), 1152);
        // i40e_register.h: QTX_TAIL1(q) = 4q, QRX_TAIL1(q) = 0x2000 + 4q, q < 16.
        assert_eq!((qtx_tail1(0), qtx_tail1(15)), (0, 0x3C));
        assert_eq!((qrx_tail1(0), qrx_tail1(15)), (0x2000, 0x203C));
        assert!(ring_size_ok(8) && ring_size_ok(4096) && !ring_size_ok(96) && !ring_size_ok(0));
    }
}
