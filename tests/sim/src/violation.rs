//! What tests read after a run: driver contract violations, and the PF's log of
//! refusals, resets, link changes and other events.
//!
//! A violation is something a correct driver never does (a wrong register width, a
//! malformed admin-queue descriptor, a virtchnl message of the wrong length, a TX
//! descriptor chain that trips MDD). An event is something the emulated PF did or
//! decided, including legitimate refusals a correct driver may meet (MAC filter
//! limit, pf_set_mac). A test passes only with the violations it expects.

use std::fmt;

/// Kinds of driver misbehaviour the emulator detects.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ViolationKind {
    /// BAR or config access of the wrong width or alignment (BAR0 is 32-bit only).
    BadWidth,
    /// BAR access to an offset that holds no register (or to a BAR that does not exist).
    UndefinedRegister,
    /// Write to a read-only register.
    ReadOnlyRegister,
    /// A register value the hardware cannot accept (tail beyond 13 bits, queue
    /// index not allocated to the VF, AQ head/tail beyond LEN ...).
    BadRegisterValue,
    /// Malformed admin-queue descriptor (bad opcode, datalen > 4096, missing BUF/RD
    /// with a payload, LB inconsistent with the length ...).
    AqDescriptor,
    /// Admin-queue ring misuse (doorbell with the ring disabled, LEN 0, ARQ buffer
    /// smaller than a message ...).
    AqRing,
    /// A DMA access (descriptor, buffer, ring) that hit no mapping.
    DmaFault,
    /// A virtchnl message the PF rejects as malformed: wrong length, zero count,
    /// invalid vsi_id/queue id/vector, field out of range.
    VirtchnlFormat,
    /// A virtchnl message sent in a state that does not allow it (5.1 gates; a
    /// second GET_VF_RESOURCES).
    VirtchnlState,
    /// An opcode the PF does not support, or a feature used without its granted cap.
    VirtchnlUnsupported,
    /// A malicious-driver-detection condition on TX (contract 5.11).
    Mdd,
    /// Other data-path misbehaviour (TX/RX DMA faults, tail out of range, bad offload).
    DataPath,
    /// MSI-X table or PCI capability misuse.
    Msix,
}

/// One recorded violation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    pub vf: usize,
    pub kind: ViolationKind,
    pub detail: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VF{} {:?}: {}", self.vf, self.kind, self.detail)
    }
}

/// Why a VF reset happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResetCause {
    /// The VF sent VIRTCHNL_OP_RESET_VF (no RESET_IMPENDING).
    VfRequest,
    /// The PF (test) called `pf_reset_vf`, or a fault plan fired one.
    PfInitiated,
    /// A granted REQUEST_QUEUES (5.8): RESET_IMPENDING, then reset.
    RequestQueues,
    /// PCIe function-level reset.
    Flr,
    /// Whole-PF reset (all VFs).
    PfReset,
    /// MDD policy.
    Mdd,
}

/// Things the PF did or decided, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PfEvent {
    /// The PF answered a request with a non-zero status. `reason` says which rule.
    Refused {
        vf: usize,
        opcode: u32,
        status: i32,
        reason: String,
    },
    /// The PF replied SUCCESS but, on purpose, did nothing (untrusted promisc, PF-UP
    /// VLAN limit quirk). `reason` says which rule.
    Ignored {
        vf: usize,
        opcode: u32,
        reason: String,
    },
    /// A request dropped without a reply (VF DISABLED, REQUEST_QUEUES while not ACTIVE,
    /// fault plan drop).
    Dropped {
        vf: usize,
        opcode: u32,
        reason: String,
    },
    /// A reply or event posted to the VF's ARQ (or queued for it).
    Sent {
        vf: usize,
        opcode: u32,
        retval: i32,
        len: usize,
    },
    /// A VF reset started.
    ResetStart { vf: usize, cause: ResetCause },
    /// A VF reset finished (VFGEN_RSTAT = VFACTIVE).
    ResetDone { vf: usize },
    /// A LINK_CHANGE event was sent.
    LinkChange {
        vf: usize,
        up: bool,
        speed_mbps: u32,
        advanced: bool,
    },
    /// RESET_IMPENDING was sent.
    ResetImpending { vf: usize },
    /// A message could not be queued on a full ARQ (ARQLEN.OVFL set).
    ArqOverflow { vf: usize, opcode: u32 },
    /// An MDD event on a TX queue (the queue stopped).
    Mdd {
        vf: usize,
        queue: u16,
        detail: String,
    },
    /// A tolerated oddity worth knowing (e.g. the Linux HKEY(13)/HLUT(16) over-write).
    Note { vf: usize, detail: String },
    /// A fault-plan action fired.
    Fault { vf: usize, detail: String },
}

/// At most this many violations and events are kept (a runaway driver must not eat
/// the machine); the rest are counted.
pub const LOG_CAP: usize = 100_000;

/// The two logs.
#[derive(Debug, Default)]
pub struct Log {
    pub violations: Vec<Violation>,
    pub events: Vec<PfEvent>,
    pub violations_dropped: u64,
    pub events_dropped: u64,
}

impl Log {
    pub fn violation(&mut self, vf: usize, kind: ViolationKind, detail: impl Into<String>) {
        if self.violations.len() < LOG_CAP {
            self.violations.push(Violation {
                vf,
                kind,
                detail: detail.into(),
            });
        } else {
            self.violations_dropped += 1;
        }
    }

    pub fn event(&mut self, ev: PfEvent) {
        if self.events.len() < LOG_CAP {
            self.events.push(ev);
        } else {
            self.events_dropped += 1;
        }
    }
}

impl fmt::Display for PfEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use crate::virtchnl::op_name;
        match self {
            PfEvent::Refused {
                vf,
                opcode,
                status,
                reason,
            } => {
                write!(
                    f,
                    "VF{vf} refused {}({opcode}) status {status}: {reason}",
                    op_name(*opcode)
                )
            }
            PfEvent::Ignored { vf, opcode, reason } => {
                write!(f, "VF{vf} ignored {}({opcode}): {reason}", op_name(*opcode))
            }
            PfEvent::Dropped { vf, opcode, reason } => {
                write!(f, "VF{vf} dropped {}({opcode}): {reason}", op_name(*opcode))
            }
            PfEvent::Sent {
                vf,
                opcode,
                retval,
                len,
            } => {
                write!(
                    f,
                    "VF{vf} sent {}({opcode}) retval {retval} len {len}",
                    op_name(*opcode)
                )
            }
            PfEvent::ResetStart { vf, cause } => write!(f, "VF{vf} reset start ({cause:?})"),
            PfEvent::ResetDone { vf } => write!(f, "VF{vf} reset done"),
            PfEvent::LinkChange {
                vf,
                up,
                speed_mbps,
                advanced,
            } => write!(
                f,
                "VF{vf} LINK_CHANGE {} {speed_mbps} Mbps ({})",
                if *up { "up" } else { "down" },
                if *advanced { "advanced" } else { "legacy" }
            ),
            PfEvent::ResetImpending { vf } => write!(f, "VF{vf} RESET_IMPENDING"),
            PfEvent::ArqOverflow { vf, opcode } => {
                write!(f, "VF{vf} ARQ overflow, {} lost", op_name(*opcode))
            }
            PfEvent::Mdd { vf, queue, detail } => {
                write!(f, "VF{vf} MDD on TX queue {queue}: {detail}")
            }
            PfEvent::Note { vf, detail } => write!(f, "VF{vf} note: {detail}"),
            PfEvent::Fault { vf, detail } => write!(f, "VF{vf} fault: {detail}"),
        }
    }
}
