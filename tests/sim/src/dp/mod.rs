//! The data path of the emulated VF: TX and RX queue engines, checksum and TSO
//! offloads, PTYPE classification and RSS.
//!
//! Everything here works on guest memory through [`GuestMemory`] only and treats every
//! byte read from it as untrusted: a bad descriptor becomes an MDD event or a
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
//! Typical use by the emulated PF:
//! ```ignore
//! let mut frames = TxFrames::default();
//! let mut ev = DpEvents::default();
//! txq.set_tail(value_written_to_QTX_TAIL1);
//! txq.process(&*mem, &mut frames, &mut ev);
//! for f in frames.iter() {
//!     // switch it; for each destination VF port pick a queue with rss_hash/rss_queue, then
//!     rxq.receive(&*mem, f, &RxMeta { vlan_strip: true, rss: Some(&rss), ..Default::default() }, &mut ev);
//! }
//! if ev.tx_completed { /* raise the TX cause of txq */ }
//! if ev.rx_written { /* raise the RX cause of rxq */ }
//! if let Some(m) = ev.mdd.take() { /* record, disable the VF */ }
//! ```

use std::fmt;

use crate::mem::DmaFault;

mod rss;
mod rx;
mod tx;
pub mod wire;

pub use rss::{rss_hash, rss_input, rss_queue, toeplitz, RssState};
pub use rx::{RxCorruption, RxDrop, RxMeta, RxOutcome, RxQueue, RxQueueCfg, RxStats};
pub use tx::{TxFrames, TxQueue, TxQueueCfg, TxStats};

/// What one call into the data path produced, for the caller to act on.
///
/// The engines only set fields; the caller clears them (see [`DpEvents::clear`]).
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
        write!(f, "MDD {:?} at descriptor {}: {}", self.kind, self.desc_index, self.detail)
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
    BadOffload { desc_index: u16, detail: &'static str },
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
                write!(f, "DMA fault on {what}: iova {:#x} len {}", fault.iova, fault.len)
            }
            DpViolation::TailOutOfRange { tail, ring_len } => {
                write!(f, "tail {tail} out of range (ring_len {ring_len})")
            }
            DpViolation::BadConfig(s) => write!(f, "bad queue configuration: {s}"),
            DpViolation::BadOffload { desc_index, detail } => {
                write!(f, "bad offload request at descriptor {desc_index}: {detail}")
            }
        }
    }
}
