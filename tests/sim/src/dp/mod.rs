//! The data path of the emulated VF: TX and RX queue engines, checksum and TSO
//! offloads, PTYPE classification and RSS.
//!
//! Everything here works on guest memory through
//! [`GuestMemory`](crate::mem::GuestMemory) only and treats every byte read from it as
//! untrusted: a bad descriptor becomes an MDD event or a
//! [`DpViolation`], never a panic. The engines are synchronous: the caller (the
//! emulated PF, `lib.rs`) calls [`TxQueue::process`] after a tail write (or whenever
//! it likes), hands each produced frame to the switch ([`crate::veb`]) and calls
//! [`RxQueue::receive`] on each destination queue. Interrupt causes come back in
//! [`DpEvents`].
//!
//! Layouts and rules are those of `/work/shared/reference/hw-contract.md` sections 6.1-6.8
//! and 5.11 (sources named there: TYPE = OOT iavf `iavf_type.h`, TXRX = `iavf_txrx.c/.h`,
//! FBSD = FreeBSD `sys/dev/iavf`). Behaviour the contract marks UNCONFIRMED is decided
//! here and said so where it is implemented.
//!
//! Decisions on points the contract leaves open (each also noted where implemented):
//! * TX L4 checksums are computed from scratch over the pseudo-header; the seed in the
//!   field is ignored (contract 6.2 recommendation). Whether it held the pseudo-header
//!   sum the stacks put there is counted in [`TxStats::csum_l4_unseeded`] (diagnostic).
//!   SCTP gets CRC32c, stored little-endian. UDP's computed 0 is sent as 0xFFFF.
//! * Offsets (MACLEN/IPLEN/L4LEN, IIPT, L4T, IL2TAG1/L2TAG1) are taken from the first
//!   data descriptor of a packet; EOP from the last; RS from any. The 802.1Q tag is
//!   inserted after the offloads, which use offsets of the untagged packet.
//! * TSO: headers replicated; IPv4 total length, ID (+1 per segment, wrapping) and
//!   checksum (only with IIPT = 3); IPv6 payload length; TCP sequence; FIN/PSH only on
//!   the last segment, CWR only on the first; TCP checksum from scratch.
//! * MDD per segment: see `tx::check_tso_sparse` (header descriptors count in every
//!   segment, a header+payload descriptor twice). After MDD the queue is stopped until
//!   re-enabled; packets before the offending one are sent and completed.
//! * Features the emulator does not model are reported as [`DpViolation::BadOffload`]
//!   rather than silently ignored: context CMD bits other than TSO, non-zero
//!   `tunneling_params`, data CMD.DUMMY, checksum offload with MACLEN < 14.
//! * Completion: DESC_DONE (QW1 = 0xF, QW0 untouched) into each RS descriptor; in head
//!   write-back mode only the head (one past the packet's last descriptor) is written,
//!   once per [`TxQueue::process`] call that completed an RS packet, and no DESC_DONE.
//! * RX: frames that do not fit the posted descriptors are dropped at once (no FIFO);
//!   more than 5 descriptors → drop; on-wire length + 4 > max_pkt_size → drop. L3L4P
//!   only for unfragmented IPv4/IPv6 TCP/UDP/SCTP with consistent lengths (6.7
//!   recommendation); IPV6EXADD is set when IPv6 extension headers are present. The
//!   write-back of each descriptor writes all 32 bytes with QW1 zero first, QW1 last.
//! * RSS: non-IP frames are not hashed (FLTSTAT 0); unhashed frames belong on queue 0
//!   ([`rx_queue_for`]).
//! * A ring base that is not 128-byte aligned stops the queue with a violation (the HW
//!   would silently use the rounded-down address).
//!
//! Typical use by the emulated PF:
//! ```ignore
//! let mut frames = TxFrames::default();
//! let mut ev = DpEvents::default();
//! txq.set_tail(value_written_to_QTX_TAIL1);
//! txq.process(&*mem, &mut frames, &mut ev);
//! for f in frames.iter() {
//!     // switch it (veb.forward); for each destination VF port:
//!     let (q, _hash) = rx_queue_for(&vf_rss, f); // bound q by the VF's queue count
//!     let mut rx_ev = DpEvents::default();
//!     let meta = RxMeta { vlan_strip: true, rss: Some(&vf_rss), ..Default::default() };
//!     rxqs[q].receive(&*mem, f, &meta, &mut rx_ev);
//!     if rx_ev.rx_written { /* raise the RX cause of that queue */ }
//! }
//! if ev.tx_completed { /* raise the TX cause of txq */ }
//! if let Some(m) = ev.mdd.take() { /* record, disable the VF */ }
//! ```

use std::fmt;

use crate::mem::DmaFault;

mod rss;
mod rx;
#[cfg(test)]
mod testutil;
mod tx;
pub mod wire;

pub(crate) use rss::rss_hash_parsed;
pub use rss::{
    rss_hash, rss_input, rss_queue, rx_queue_for, toeplitz, RssState, DEFAULT_HENA, RSS_KEY_LEN,
    RSS_LUT_LEN,
};
pub use rx::{RxCorruption, RxDrop, RxMeta, RxOutcome, RxQueue, RxQueueCfg, RxStats};
pub use tx::{TxFrames, TxQueue, TxQueueCfg, TxStats};
pub use wire::{cast_of, Cast};

/// `i % n` for the ring arithmetic, where `i` is almost always below `2 * n` (an index
/// below `n` plus a count below `n`): a compare and a subtraction instead of a
/// division per descriptor. `n` must not be 0.
#[inline]
pub(crate) fn ring_wrap(i: usize, n: usize) -> usize {
    if i < n {
        i
    } else if i < 2 * n {
        i - n
    } else {
        i % n
    }
}

/// What one call into the data path produced, for the caller to act on.
///
/// The engines only set fields; the caller clears them (see [`DpEvents::clear`]). The
/// flags do not name a queue: use one `DpEvents` per queue call (or look right after
/// each call) to know which queue's cause to raise.
#[derive(Debug, Default)]
pub struct DpEvents {
    /// A TX completion was made visible to the driver (DESC_DONE written into an RS
    /// descriptor, or the head written to the head write-back address): raise the
    /// queue's TX interrupt cause (contract 6.4, 7.2).
    pub tx_completed: bool,
    /// An RX descriptor write-back happened: raise the queue's RX interrupt cause.
    pub rx_written: bool,
    /// A Malicious Driver Detection event (contract 5.11). The TX queue that raised it
    /// has stopped; the PF policy (disable/reset the VF) is the caller's.
    pub mdd: Option<Mdd>,
    /// Driver misbehaviour that is not an MDD condition (DMA faults, tail out of
    /// range, offload offsets outside the packet). Fatal ones also stop the queue
    /// (see [`DpViolation::stops_queue`]).
    pub violations: Vec<DpViolation>,
}

impl DpEvents {
    /// Reset every field (keeps the violation vector's capacity).
    pub fn clear(&mut self) {
        self.tx_completed = false;
        self.rx_written = false;
        self.mdd = None;
        self.violations.clear();
    }
}

/// The MDD condition detected (names from the FreeBSD `iavf_txrx_iflib.c` comment
/// and PF-OOT, contract 5.11).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MddKind {
    /// More than 8 data descriptors per non-TSO packet or per TSO segment, or a TSO
    /// header spread over more than 3 descriptors.
    MaxBuff,
    /// A data descriptor with BUF_SZ = 0.
    ZeroBsize,
    /// NO_HEAD / ENDLESS_TX: the descriptors up to the tail end without EOP.
    NoEop,
    /// TSO MSS < 64 or > 9668.
    BadLsoMss,
    /// TSO_LEN differs from the payload bytes given, or the TSO header (from the
    /// MACLEN/IPLEN/L4LEN offsets) is not a TCP header inside the packet.
    BadLsoLen,
    /// Non-TSO packet < 17 or > 9728 bytes; TSO header + MSS > 9728.
    WrongSize,
    /// A descriptor type the VF may not use (anything but 0 data and 1 context).
    BadDtype,
    /// A context descriptor not followed by a data descriptor.
    CtxWithoutData,
}

/// One MDD event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mdd {
    pub kind: MddKind,
    /// Ring index of the first descriptor of the offending packet.
    pub desc_index: u16,
    /// Human-readable detail for logs and test failures.
    pub detail: String,
}

impl fmt::Display for Mdd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "MDD {:?} at descriptor {}: {}",
            self.kind, self.desc_index, self.detail
        )
    }
}

/// Driver misbehaviour seen by the data path that is not an MDD condition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DpViolation {
    /// A DMA access hit no mapping. `what` says which access (descriptor fetch, buffer
    /// read, write-back ...). The queue stops.
    DmaFault { what: &'static str, fault: DmaFault },
    /// A tail value at or beyond the ring length. The queue stops.
    TailOutOfRange { tail: u32, ring_len: u16 },
    /// The queue configuration cannot work (ring_len 0, buf_size not a multiple of
    /// 128 or 0 ...). The queue stops. CONFIG_VSI_QUEUES validation should have
    /// refused it first.
    BadConfig(&'static str),
    /// A checksum/TSO offload request whose offsets do not fit the packet; the packet
    /// is sent without that offload. The queue continues.
    BadOffload {
        desc_index: u16,
        detail: &'static str,
    },
}

impl DpViolation {
    /// Whether the queue that reported it has stopped.
    pub fn stops_queue(&self) -> bool {
        !matches!(self, DpViolation::BadOffload { .. })
    }
}

impl fmt::Display for DpViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DpViolation::DmaFault { what, fault } => {
                write!(
                    f,
                    "DMA fault on {what}: iova {:#x} len {}",
                    fault.iova, fault.len
                )
            }
            DpViolation::TailOutOfRange { tail, ring_len } => {
                write!(f, "tail {tail} out of range (ring_len {ring_len})")
            }
            DpViolation::BadConfig(s) => write!(f, "bad queue configuration: {s}"),
            DpViolation::BadOffload { desc_index, detail } => {
                write!(
                    f,
                    "bad offload request at descriptor {desc_index}: {detail}"
                )
            }
        }
    }
}

/// End to end through the engines: TX offloads produce frames the RX checksum
/// verification accepts, through the VEB.
#[cfg(test)]
mod pipeline_tests {
    use super::testutil::*;
    use super::*;
    use crate::veb::{Port, PortFilters, Veb};

    #[test]
    fn tx_offloads_verify_on_rx_through_the_veb() {
        let mem = Mem::new();
        let tring = mem.alloc(64 * 16, 128);
        let rring = mem.alloc(64 * 32, 128);
        let mut txq = TxQueue::new(TxQueueCfg {
            ring_base: tring,
            ring_len: 64,
            headwb_addr: None,
        });
        let mut rxq = RxQueue::new(RxQueueCfg {
            ring_base: rring,
            ring_len: 64,
            buf_size: 2048,
            max_pkt_size: 1522,
        });
        txq.enable(true);
        rxq.enable(true);
        for i in 0..64u64 {
            let b = mem.alloc(2048, 128);
            mem.write(rring + i * 32, &b.to_le_bytes());
        }
        rxq.set_tail(63);

        // A TSO packet (IPv4/TCP, 3000 payload bytes, MSS 1200) with a VLAN tag to
        // insert, and a UDP packet with checksum offload; all sums left zero/garbage.
        let mut tso = eth(MAC_B, MAC_A, 0x0800);
        tso.extend(ipv4(6, 0, 77, 0x4000));
        tso.extend(tcp(80, 8080, 1, 0x18));
        tso.extend(payload(3000, 1));
        let a = mem.buf(&tso);
        mem.write(tring, &ctxd(true, 3000, 1200));
        mem.write(
            tring + 16,
            &txd(
                a,
                EOP | RS | IL2TAG1 | IIPT_V4_CSUM | L4T_TCP,
                (14, 20, 20),
                tso.len() as u64,
                42,
            ),
        );
        let mut u = udp4_frame(100);
        u[24] = 0xAB;
        u[40] = 0xCD;
        let b = mem.buf(&u);
        mem.write(
            tring + 32,
            &txd(
                b,
                EOP | RS | IIPT_V4_CSUM | L4T_UDP,
                (14, 20, 8),
                u.len() as u64,
                0,
            ),
        );
        txq.set_tail(3);
        let (mut out, mut ev) = (TxFrames::new(), DpEvents::default());
        txq.process(mem.g(), &mut out, &mut ev);
        assert_eq!(out.len(), 4);

        let mut vf1 = PortFilters {
            vf: 1,
            unicast: vec![MAC_B],
            spoofchk: true,
            up: true,
            ..Default::default()
        };
        vf1.vlans.push(42);
        let vf0 = PortFilters {
            vf: 0,
            unicast: vec![MAC_A],
            spoofchk: true,
            up: true,
            ..Default::default()
        };
        let ports = [vf0, vf1];
        let mut veb = Veb::new();
        let mut dst = Vec::new();
        let meta = RxMeta {
            vlan_strip: true,
            ..Default::default()
        };
        for f in out.iter() {
            veb.forward(Port::Vf(0), f, &ports, &mut dst).unwrap();
            assert_eq!(dst, vec![Port::Vf(1)]);
            assert!(matches!(
                rxq.receive(mem.g(), f, &meta, &mut ev),
                RxOutcome::Delivered { .. }
            ));
        }
        for i in 0..4u64 {
            let qw1 = mem.qw(rring + i * 32 + 8);
            assert_eq!(qw1 & 0xB, 0xB, "DD|EOF|L3L4P on frame {i}");
            assert_eq!(qw1 & (3 << 22), 0, "no IPE/L4E on frame {i}");
            let tagged = i < 3;
            assert_eq!(qw1 & 4 != 0, tagged, "L2TAG1P on frame {i}");
            if tagged {
                assert_eq!(mem.read(rring + i * 32 + 2, 2), vec![42, 0]);
            }
        }
        assert_eq!(rxq.stats.csum_checked, 4);
        assert!(ev.tx_completed && ev.rx_written);
    }
}

#[cfg(test)]
mod ring_wrap_tests {
    #[test]
    fn ring_wrap_is_modulo() {
        for n in [1usize, 2, 7, 64, 4096] {
            for i in (0..3 * n + 2).chain([usize::MAX / 2]) {
                assert_eq!(super::ring_wrap(i, n), i % n, "i {i} n {n}");
            }
        }
    }
}
