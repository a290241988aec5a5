//! The VF control plane: attach, the mailbox engine, init/stop, filters and modes,
//! link and statistics, and reset recovery.
//!
//! # Model
//! [`Vf::attach`] is synchronous (it polls the ARQ itself with `Os::sleep_us`; no
//! admin task runs yet) and every wait in it is bounded. After attach, everything
//! is a **non-blocking engine**:
//!
//! * Requests ([`Vf::start_init`], [`Vf::set_mac`], ...) queue one or more virtchnl
//!   commands under a [`Ticket`] and kick the admin task; they never sleep.
//! * [`Vf::admin_task`] (the deferred-work context, never under iflib's context lock
//!   in the kernel) cleans the ARQ, matches each reply to the one outstanding
//!   request (one at a time, as Linux iavf does: a reply is matched by opcode and each
//!   request has its own deadline), sends the next queued command, handles events,
//!   detects resets and drives recovery.
//! * [`Vf::timer`] (iflib's timer) adds GET_STATS, reset detection by VFGEN_RSTAT,
//!   request deadlines and the recovery back-off.
//! * [`Vf::poll`] tells whether a ticket is done; [`wait`] is a bounded blocking
//!   helper for single-threaded users (tests, harness).
//!
//! # How iflib's methods map onto this (for `ffi/`)
//!
//! | iflib / kernel                 | call                                                     |
//! |--------------------------------|----------------------------------------------------------|
//! | `ifdi_attach_pre`              | [`Vf::attach`], then [`Vf::resources`] for the softc ctx   |
//! | `ifdi_msix_intr_assign`        | [`Vf::note_allocation`] (queues, vectors incl. vector 0)  |
//! | `ifdi_attach_post`             | [`Vf::enable_admin_irq`]                                  |
//! | vector-0 filter                | [`crate::irq::admin_intr`] on the BAR (no `Vf`), enqueue the admin task |
//! | admin taskqueue                | [`Vf::admin_task`] → act on the [`AdminReport`]           |
//! | `ifdi_timer`                   | [`Vf::timer`] (from the admin context; it never sleeps)   |
//! | `ifdi_init`                    | [`Vf::start_init`], drop the lock, sleep, [`Vf::poll`]     |
//! | `ifdi_stop`                    | [`Vf::start_stop`], then poll the same way                |
//! | `ifdi_mtu_set`                 | [`Vf::set_mtu`] → new isc_max_frame_size                  |
//! | `ifdi_multi_set`               | [`Vf::set_multicast`] with the whole list                 |
//! | `ifdi_promisc_set`             | [`Vf::set_promisc`]                                       |
//! | `ifdi_vlan_register/unregister`| [`Vf::vlan_register`] / [`Vf::vlan_unregister`]           |
//! | lladdr change (in `ifdi_init`) | [`Vf::set_mac`] before `start_init`                       |
//! | `ifdi_get_counter`, sysctls    | [`Vf::stats`], [`Vf::counters`], [`Vf::aq_counters`]      |
//! | `ifdi_detach`                  | [`Vf::detach`] (before BAR0 is released: it writes registers) |
//!
//! `AdminReport::link_changed` → `iflib_link_state_change(vf.link())`;
//! `reset_detected` → the queues are gone, link down; `reinit_needed` →
//! `iflib_request_reset` (iflib then calls stop/init); `recovery_failed` → stay down;
//! `more_work` → schedule the admin task again. Single-threaded users (tests,
//! harness) can use [`wait`] instead of sleeping and polling.
//!
//! Commands are stored as small descriptions and the message bytes are built when
//! the command is sent, from the current state (so a replay after reset uses the
//! current filters and the new VSI id).
//!
//! # What the PF may hide
//! An untrusted VF's CONFIG_PROMISCUOUS_MODE is acknowledged with SUCCESS and not
//! applied (i40e: "Lie to the VF on purpose"); the 17th VLAN of an untrusted VF is
//! acknowledged and not added by current upstream i40e. Neither is detectable from
//! the reply: [`PromiscState`] shows what was requested and what was acknowledged,
//! nothing more.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::fmt;

use crate::aq::{AdminQueue, AqError, ArqMsg};
use crate::filters::{is_multicast, is_valid_unicast, Mac, MacList, VlanSet};
use crate::irq;
use crate::os::{Bar0, Level, Os};
use crate::regs::{self, aqlen};
use crate::virtchnl::{
    self as vc, EthStats, Event, ParseError, QueuePairInfo, RxqInfo, TxqInfo, VcOp, VectorMap,
    VfCaps, VfResourceInfo,
};
use zerocopy::byteorder::little_endian::{U16, U32, U64};

// ===========================================================================
// Limits and defaults
// ===========================================================================

/// i40e I40E_VC_MAX_MAC_ADDR_PER_VF: 16 multicast filters for an untrusted VF
/// (plus one unicast and the broadcast filter = 18). Beyond this ravf switches to
/// multicast promiscuous.
pub const MC_FILTERS_MAX: usize = 16;
/// ravf's VLAN filter limit (fits one replay message of 6 + 2·257 bytes). Untrusted
/// VFs are limited to 16 by the PF anyway (I40E_VC_MAX_VLAN_PER_VF).
pub const VLANS_MAX: usize = 256;
/// FreeBSD iavf IAVF_MIN_MTU.
pub const MTU_MIN: u32 = 112;
/// FreeBSD iavf: max MTU 9706 = IAVF_MAX_FRAME 9728 − 14 − 4 − 4.
pub const MTU_MAX: u32 = 9706;
/// Ethernet header + FCS + one VLAN tag: max frame = MTU + 22 (FreeBSD iavf).
pub const FRAME_OVERHEAD: u32 = 22;
/// Reset-recovery back-off (FreeBSD main `iavf_mbx_lost`): 250 ms, 1 s, 4 s, 8 s,
/// then every 8 s.
pub const RECOVERY_BACKOFF_US: [u64; 4] = [250_000, 1_000_000, 4_000_000, 8_000_000];
/// After RESET_IMPENDING, how many back-off steps to wait for the PF to actually
/// reset us (ARQLEN.ENABLE dropping / RSTAT leaving ready) before re-handshaking anyway.
pub const IMPENDING_GRACE_STEPS: u8 = 2;
/// After a RESET_VF ravf sent, how many back-off steps RSTAT may keep reading the
/// INPROGRESS ravf wrote, with the AQ registers untouched (no reset started), before
/// ravf concludes the RESET_VF was lost and sends it again.
pub const STUCK_REQUEST_STEPS: u8 = 2;

const QCAP: usize = 24;
const TICKETS: usize = 16;
const SCRATCH: usize = 1152;
/// Bytes of each PF message ravf copies out of the ARQ buffer. The largest reply it
/// parses is GET_STATS (96); GET_VF_RESOURCES beyond this is examined only as far
/// as it fits (14 VSIs).
const RX_COPY: usize = 256;
/// ARQ messages handled per admin-task pass (FreeBSD uses 2; bounded either way).
const ARQ_BUDGET: usize = 32;

/// Attach-time configuration. `Default` gives the values in the field docs.
#[derive(Clone, Copy, Debug)]
pub struct AttachConfig {
    /// Admin queue length in descriptors (32, as Linux iavf).
    pub aq_len: u16,
    /// Budget for VFGEN_RSTAT to read ready (10 s, FreeBSD 100 × 100 ms).
    pub reset_wait_us: u32,
    /// After RESET_VF: how long to wait for ARQLEN.ENABLE to drop before checking
    /// RSTAT anyway (1 s; Linux "Never saw reset" continues the same way).
    pub reset_drop_wait_us: u32,
    /// Deadline of each request (3 s, OpenBSD IAVF_EXEC_TIMEOUT).
    pub reply_timeout_us: u32,
    /// Poll step of synchronous waits (1 ms).
    pub poll_interval_us: u32,
    /// Capabilities requested in GET_VF_RESOURCES.
    pub request_caps: VfCaps,
    /// Send RESET_VF at attach (FreeBSD does; the virtchnl.h comment recommends it).
    pub reset_on_attach: bool,
    /// Minimum interval between GET_STATS requests sent by `timer` (0.5 s).
    pub stats_interval_us: u64,
    /// Multicast filters before overflowing to multicast promiscuous (16).
    pub mc_filters_max: u16,
}

impl Default for AttachConfig {
    fn default() -> Self {
        AttachConfig {
            aq_len: crate::aq::DEFAULT_LEN,
            reset_wait_us: 10_000_000,
            reset_drop_wait_us: 1_000_000,
            reply_timeout_us: 3_000_000,
            poll_interval_us: 1_000,
            request_caps: VfCaps::L2
                | VfCaps::VLAN
                | VfCaps::RSS_PF
                | VfCaps::ADV_LINK_SPEED
                | VfCaps::WB_ON_ITR,
            reset_on_attach: true,
            stats_interval_us: 500_000,
            mc_filters_max: MC_FILTERS_MAX as u16,
        }
    }
}

// ===========================================================================
// Public types
// ===========================================================================

/// Errors of the control plane. Every PF refusal, timeout and malformed message is
/// also counted in [`CtlCounters`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// The PF did not answer `op` before its deadline.
    Timeout { op: VcOp },
    /// The PF answered `op` with a non-zero status (virtchnl code, negative errno
    /// or i40e_status, depending on the PF: hw-contract 4.1).
    Refused { op: VcOp, status: i32 },
    /// The PF's reply to `op` was malformed.
    BadReply { op: VcOp, why: ParseError },
    /// The PF speaks a virtchnl version newer than 1.1.
    VersionMismatch { major: u32, minor: u32 },
    /// A VF reset interrupted the request.
    Reset,
    /// The VF is recovering from a reset; retry after `reinit_needed` is reported.
    InReset,
    /// VFGEN_RSTAT never read ready within the budget.
    NotReady,
    /// Admin-queue failure.
    Aq(AqError),
    /// After a reset the PF offers fewer queues/vectors than iflib allocated; the
    /// VF stays down.
    ResourcesShrunk { queues: u16, vectors: u16 },
    /// An argument is out of range.
    Invalid,
    /// The PF did not grant the capability this needs.
    NotSupported,
    /// A filter table is full.
    NoSpace,
    /// Memory for the driver's tables could not be allocated (attach only).
    NoMemory,
    /// The request queue or ticket table is full; retry later.
    Busy,
    /// The ticket is unknown (too old, evicted).
    StaleTicket,
    /// A bounded wait ran out before the ticket completed (it is still pending).
    WaitExpired,
    /// The VF has been detached.
    Detached,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Timeout { op } => write!(f, "PF did not answer {op}"),
            Error::Refused { op, status } => {
                write!(
                    f,
                    "PF refused {op} with status {status} ({})",
                    vc::status::name(*status)
                )
            }
            Error::BadReply { op, why } => write!(f, "malformed PF reply to {op}: {why:?}"),
            Error::VersionMismatch { major, minor } => {
                write!(f, "PF virtchnl version {major}.{minor} unsupported")
            }
            Error::Reset => f.write_str("interrupted by a VF reset"),
            Error::InReset => f.write_str("VF reset recovery in progress"),
            Error::NotReady => f.write_str("VF never became ready (VFGEN_RSTAT)"),
            Error::Aq(e) => write!(f, "admin queue: {e:?}"),
            Error::ResourcesShrunk { queues, vectors } => {
                write!(
                    f,
                    "after reset the PF offers only {queues} queues / {vectors} vectors"
                )
            }
            Error::Invalid => f.write_str("invalid argument"),
            Error::NotSupported => f.write_str("capability not granted by the PF"),
            Error::NoSpace => f.write_str("filter table full"),
            Error::NoMemory => f.write_str("out of memory"),
            Error::Busy => f.write_str("request queue full"),
            Error::StaleTicket => f.write_str("unknown ticket"),
            Error::WaitExpired => f.write_str("wait budget expired"),
            Error::Detached => f.write_str("detached"),
        }
    }
}

impl From<AqError> for Error {
    fn from(e: AqError) -> Self {
        Error::Aq(e)
    }
}

/// A handle on a queued request (one or more virtchnl messages).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Ticket(u32);

impl Ticket {
    pub fn id(self) -> u32 {
        self.0
    }
}

/// The state of a ticket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Poll {
    Pending,
    Done(Result<(), Error>),
}

/// What the PF granted at attach (or after the last recovery).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Resources {
    /// The PF's virtchnl version answer.
    pub version: (u32, u32),
    /// Queue pairs usable: min(vf_res, vsi_res), at most 16, at least 1.
    pub num_queue_pairs: u16,
    /// MSI-X vectors including vector 0, at most 17.
    pub max_vectors: u16,
    /// The PF's `max_mtu` field, which i40e fills with a **frame** size; 0 = unknown.
    pub pf_max_frame: u32,
    /// Largest MTU ravf accepts: min(9706, pf_max_frame − 22) (9706 if unknown).
    pub max_mtu: u32,
    /// Granted capabilities (only these are used).
    pub caps: VfCaps,
    pub vsi_id: u16,
    pub qset_handle: u16,
    /// The MAC address in use.
    pub mac: Mac,
    /// True if the PF supplied `mac`; false if ravf generated it (PF sent zero).
    pub mac_from_pf: bool,
    /// The PF's default MAC as last reported (may be zero).
    pub pf_mac: Mac,
    pub rss_key_size: u16,
    pub rss_lut_size: u16,
}

impl Resources {
    /// Queue vectors available (MSI-X vectors minus the admin vector).
    pub fn max_queue_vectors(&self) -> u16 {
        self.max_vectors.saturating_sub(1)
    }
}

/// One TX ring as iflib allocated it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TxRingSetup {
    /// Bus address of descriptor 0 (128-byte aligned).
    pub paddr: u64,
    /// Descriptors (multiple of 32, 32..=4096).
    pub len: u16,
    /// Head write-back address, 0 = off (descriptor-done write-back).
    pub headwb_paddr: u64,
}

/// One RX ring as iflib allocated it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RxRingSetup {
    pub paddr: u64,
    pub len: u16,
}

/// What `start_init` needs from iflib.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueueSetup {
    /// Queue pairs in use (iflib's nrxqsets = ntxqsets), 1..=num_queue_pairs.
    pub num_queues: u16,
    /// MSI-X vectors in use including vector 0. Queue i goes on vector
    /// 1 + i mod (num_vectors − 1); with 1 vector all queues share vector 0.
    pub num_vectors: u16,
    pub tx: [TxRingSetup; regs::MAX_QUEUES],
    pub rx: [RxRingSetup; regs::MAX_QUEUES],
    /// RX buffer size iflib chose (multiple of 128, ≤ 16256).
    pub rx_buf_size: u32,
    /// Largest frame (isc_max_frame_size = MTU + 22); clamped to the PF's max.
    pub max_frame: u32,
}

impl QueueSetup {
    /// A setup with no rings filled in yet.
    pub fn new(num_queues: u16, num_vectors: u16, rx_buf_size: u32, max_frame: u32) -> Self {
        QueueSetup {
            num_queues,
            num_vectors,
            tx: [TxRingSetup::default(); regs::MAX_QUEUES],
            rx: [RxRingSetup::default(); regs::MAX_QUEUES],
            rx_buf_size,
            max_frame,
        }
    }

    /// The RX/TX bitmap of the queues in use.
    pub fn queue_mask(&self) -> u32 {
        let n = (self.num_queues as u32).min(regs::MAX_QUEUES as u32);
        if n >= 32 {
            u32::MAX
        } else {
            (1u32 << n) - 1
        }
    }
}

/// Link state from the PF's LINK_CHANGE events.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Link {
    pub up: bool,
    /// Mbps; 0 = unknown or down.
    pub speed_mbps: u32,
}

/// Promiscuous state: what was asked, what was sent, what the PF acknowledged.
/// An untrusted VF's PF acknowledges without applying (undetectable).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PromiscState {
    /// IFF_PROMISC requested.
    pub promisc: bool,
    /// IFF_ALLMULTI requested.
    pub allmulti: bool,
    /// The multicast list overflowed the filter limit (forces multicast promisc).
    pub mc_overflow: bool,
    /// FLAG_VF_* bits last sent.
    pub sent_flags: u16,
    /// FLAG_VF_* bits the PF last acknowledged with SUCCESS.
    pub acked_flags: u16,
}

impl PromiscState {
    /// The FLAG_VF_* bits the current request implies (Linux iavf: IFF_PROMISC →
    /// unicast + multicast promiscuous; IFF_ALLMULTI or overflow → multicast).
    pub fn wanted_flags(&self) -> u16 {
        let mut f = 0;
        if self.promisc {
            f |= vc::FLAG_VF_UNICAST_PROMISC | vc::FLAG_VF_MULTICAST_PROMISC;
        }
        if self.allmulti || self.mc_overflow {
            f |= vc::FLAG_VF_MULTICAST_PROMISC;
        }
        f
    }
}

/// Control-plane counters (all monotonic).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CtlCounters {
    pub requests_sent: u64,
    pub replies: u64,
    /// Replies with a non-zero status.
    pub refused: u64,
    pub timeouts: u64,
    /// Replies or events that failed parsing, or an ARQ descriptor with ERR set.
    pub bad_msgs: u64,
    /// Replies matching no outstanding request (late, duplicate, wrong opcode).
    pub unexpected_replies: u64,
    /// Errors of non-fatal steps (logged, the ticket still completes).
    pub soft_errors: u64,
    pub events: u64,
    pub link_events: u64,
    pub unknown_events: u64,
    pub aq_errors: u64,
    pub resets_detected: u64,
    pub reset_impending: u64,
    pub recovery_attempts: u64,
    pub recoveries: u64,
    pub recovery_failures: u64,
    /// RESET_VF sent by ravf after attach (request_reset, failed handshakes).
    pub reset_requests: u64,
    pub mc_overflows: u64,
    pub stats_updates: u64,
    pub busy: u64,
}

/// What changed since the last report, so the ffi layer can tell iflib.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AdminReport {
    /// `Vf::link()` changed: call iflib_link_state_change.
    pub link_changed: bool,
    /// A PF/VF reset was detected; the link is down and recovery has started.
    pub reset_detected: bool,
    /// Recovery finished and filters were replayed: ask iflib for a reinit
    /// (which calls `start_init` again).
    pub reinit_needed: bool,
    /// Recovery gave up (e.g. resources shrank); the VF stays down.
    pub recovery_failed: Option<Error>,
    /// More ARQ messages are waiting: schedule the admin task again.
    pub more_work: bool,
    /// Requests completed (any result) and failed since the last report.
    pub completed: u16,
    pub failed: u16,
}

impl AdminReport {
    /// Combine two reports (e.g. from `timer` and `admin_task`).
    pub fn merge(&mut self, o: &AdminReport) {
        self.link_changed |= o.link_changed;
        self.reset_detected |= o.reset_detected;
        self.reinit_needed |= o.reinit_needed;
        if o.recovery_failed.is_some() {
            self.recovery_failed = o.recovery_failed;
        }
        self.more_work |= o.more_work;
        self.completed = self.completed.saturating_add(o.completed);
        self.failed = self.failed.saturating_add(o.failed);
    }
}

/// Where the VF is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VfState {
    Attaching,
    Running,
    Recovering,
    Failed(Error),
    Detached,
}

// ===========================================================================
// Internal command queue
// ===========================================================================

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct MacBatch {
    n: u8,
    a: [Mac; MC_FILTERS_MAX],
}

impl MacBatch {
    fn one(m: Mac) -> Self {
        let mut b = MacBatch {
            n: 1,
            a: [[0; 6]; MC_FILTERS_MAX],
        };
        b.a[0] = m;
        b
    }
    fn from_slice(s: &[Mac]) -> Self {
        let mut b = MacBatch {
            n: 0,
            a: [[0; 6]; MC_FILTERS_MAX],
        };
        for (dst, src) in b.a.iter_mut().zip(s.iter()) {
            *dst = *src;
            b.n += 1;
        }
        b
    }
    fn as_slice(&self) -> &[Mac] {
        self.a.get(..self.n as usize).unwrap_or(&[])
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cmd {
    Version,
    GetVfResources,
    GetRssHenaCaps,
    SetRssHena,
    RssKey,
    RssLut,
    ConfigVsiQueues,
    ConfigIrqMap,
    EnableQueues,
    /// DISABLE_QUEUES, skipped if the queues are not enabled when it is sent.
    DisableQueues,
    /// ADD_ETH_ADDR. `primary`: on success this becomes the VF's MAC.
    AddEth {
        batch: MacBatch,
        ty: u8,
        primary: bool,
    },
    DelEth {
        batch: MacBatch,
        ty: u8,
    },
    /// ADD_ETH_ADDR (PRIMARY) of the VF's MAC as it is when the command is sent
    /// (init and replay: a `set_mac` queued before has completed by then).
    AddPrimary,
    /// DEL_ETH_ADDR of the unicast filter a successful primary ADD replaced, decided
    /// when sent (skipped if none). Deciding late keeps two `set_mac` calls in flight
    /// from leaving the intermediate MAC behind as an extra filter, and never deletes
    /// an address the PF does not have (i40e refuses that, hw-contract 5.5).
    DelStalePrimary,
    /// ADD_ETH_ADDR of the whole stored multicast list (replay); skipped if empty.
    AddMcStored,
    AddVlan {
        vids: [u16; 2],
        n: u8,
    },
    DelVlan {
        vids: [u16; 2],
        n: u8,
    },
    /// ADD_VLAN of VLAN 0 and every stored VLAN (replay); skipped if none.
    AddVlanStored,
    Promisc,
    GetStats,
    /// ENABLE_VLAN_STRIPPING (on) / DISABLE_VLAN_STRIPPING (off); no payload.
    VlanStripping {
        on: bool,
    },
}

impl Cmd {
    fn op(&self) -> VcOp {
        match self {
            Cmd::Version => VcOp::VERSION,
            Cmd::GetVfResources => VcOp::GET_VF_RESOURCES,
            Cmd::GetRssHenaCaps => VcOp::GET_RSS_HENA_CAPS,
            Cmd::SetRssHena => VcOp::SET_RSS_HENA,
            Cmd::RssKey => VcOp::CONFIG_RSS_KEY,
            Cmd::RssLut => VcOp::CONFIG_RSS_LUT,
            Cmd::ConfigVsiQueues => VcOp::CONFIG_VSI_QUEUES,
            Cmd::ConfigIrqMap => VcOp::CONFIG_IRQ_MAP,
            Cmd::EnableQueues => VcOp::ENABLE_QUEUES,
            Cmd::DisableQueues => VcOp::DISABLE_QUEUES,
            Cmd::AddEth { .. } | Cmd::AddMcStored | Cmd::AddPrimary => VcOp::ADD_ETH_ADDR,
            Cmd::DelEth { .. } | Cmd::DelStalePrimary => VcOp::DEL_ETH_ADDR,
            Cmd::AddVlan { .. } | Cmd::AddVlanStored => VcOp::ADD_VLAN,
            Cmd::DelVlan { .. } => VcOp::DEL_VLAN,
            Cmd::Promisc => VcOp::CONFIG_PROMISCUOUS_MODE,
            Cmd::GetStats => VcOp::GET_STATS,
            Cmd::VlanStripping { on: true } => VcOp::ENABLE_VLAN_STRIPPING,
            Cmd::VlanStripping { on: false } => VcOp::DISABLE_VLAN_STRIPPING,
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct Queued {
    cmd: Cmd,
    /// 0 = no ticket (internal, e.g. GET_STATS).
    ticket: u32,
    /// A failure of a fatal step fails the whole ticket and drops its later steps.
    fatal: bool,
}

/// A short list of (command, fatal) built by a request before it is queued.
struct CmdList<const N: usize> {
    items: [(Cmd, bool); N],
    n: usize,
}

impl<const N: usize> CmdList<N> {
    fn new() -> Self {
        CmdList {
            items: [(Cmd::GetStats, false); N],
            n: 0,
        }
    }
    fn push(&mut self, c: Cmd, fatal: bool) {
        if let Some(slot) = self.items.get_mut(self.n) {
            *slot = (c, fatal);
            self.n += 1;
        }
    }
    fn as_slice(&self) -> &[(Cmd, bool)] {
        self.items.get(..self.n).unwrap_or(&[])
    }
}

#[derive(Clone, Copy, Debug)]
struct Outstanding {
    q: Queued,
    deadline: u64,
}

struct CmdQueue {
    /// QCAP slots, on the heap (see [`boxed_slice`]).
    items: Box<[Option<Queued>]>,
    head: usize,
    len: usize,
}

impl CmdQueue {
    fn new() -> Result<Self, Error> {
        Ok(CmdQueue {
            items: boxed_slice(None, QCAP)?,
            head: 0,
            len: 0,
        })
    }
    fn free(&self) -> usize {
        QCAP - self.len
    }
    fn is_empty(&self) -> bool {
        self.len == 0
    }
    fn push(&mut self, q: Queued) -> bool {
        if self.len >= QCAP {
            return false;
        }
        let i = (self.head + self.len) % QCAP;
        if let Some(slot) = self.items.get_mut(i) {
            *slot = Some(q);
            self.len += 1;
            true
        } else {
            false
        }
    }
    fn pop(&mut self) -> Option<Queued> {
        if self.len == 0 {
            return None;
        }
        let q = self.items.get_mut(self.head).and_then(|s| s.take());
        self.head = (self.head + 1) % QCAP;
        self.len -= 1;
        q
    }
    /// Remove every entry for which `drop` is true, keeping the order of the rest,
    /// and hand each removed entry to `f`. In place (no second queue on the stack).
    fn remove_if(&mut self, mut drop: impl FnMut(&Queued) -> bool, mut f: impl FnMut(Queued)) {
        for _ in 0..self.len {
            if let Some(q) = self.pop() {
                if drop(&q) {
                    f(q);
                } else {
                    // Cannot fail: one entry was just popped.
                    self.push(q);
                }
            }
        }
    }
}

#[derive(Clone, Copy, Debug, Default)]
struct TicketSlot {
    id: u32,
    remaining: u16,
    result: Option<Result<(), Error>>,
}

// ===========================================================================
// Recovery
// ===========================================================================

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RecPhase {
    /// Waiting (back-off) for the PF to finish the reset.
    WaitReset,
    /// VERSION + GET_VF_RESOURCES in flight.
    Handshake(Ticket),
    /// MAC / multicast / VLAN / promisc replay in flight.
    Replay(Ticket),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Recovery {
    attempt: u8,
    next_at: u64,
    phase: RecPhase,
    /// The reset itself has been observed (not only announced by RESET_IMPENDING).
    saw_reset: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Life {
    Attaching,
    Running,
    Recovering(Recovery),
    Failed(Error),
    Detached,
}

/// Why a reset was detected (for logs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ResetCause {
    Impending,
    PfClose,
    AqDisabled,
    RegInReset,
    RstatNotReady,
    /// `request_reset`: RSTAT was written INPROGRESS by us, so the first attempt
    /// waits for the PF to bring it back to ready.
    Requested,
}

// ===========================================================================
// The VF
// ===========================================================================

/// The control plane of one VF.
pub struct Vf<O: Os> {
    os: O,
    cfg: AttachConfig,
    aq: AdminQueue<O::Dma>,
    life: Life,
    res: Resources,
    link: Link,
    stats: EthStats,
    counters: CtlCounters,
    report: AdminReport,
    last_error: Option<Error>,

    queue: CmdQueue,
    outstanding: Option<Outstanding>,
    /// TICKETS slots, on the heap.
    tickets: Box<[TicketSlot]>,
    next_ticket: u32,

    /// The last QueueSetup given to start_init (one slot on the heap: 656 bytes
    /// kept out of `Vf`, see [`boxed_slice`]); valid when `has_setup`.
    setup_slot: Box<[QueueSetup]>,
    has_setup: bool,
    /// (queues, vectors) iflib allocated: recovery must find at least this many.
    in_use: (u16, u16),
    queues_enabled: bool,
    enabled_mask: u32,

    rss_key: [u8; vc::RSS_KEY_SIZE],
    hena_caps: Option<u64>,
    rx_itr: u32,
    tx_itr: u32,
    admin_irq_on: bool,

    /// The unicast filter the PF holds for our MAC (None: none known, e.g. the PF
    /// reported a zero MAC and deleted its default filter, hw-contract 5.10).
    primary_filter: Option<Mac>,
    /// A primary filter replaced by a successful ADD, to be deleted by DelStalePrimary.
    stale_primary: Option<Mac>,
    /// The MAC the last AddPrimary carried (res.mac may change before its reply).
    primary_sent: Mac,

    mc: MacList<MC_FILTERS_MAX>,
    vlans: VlanSet,
    promisc: PromiscState,
    promisc_in_flight: u16,
    /// VLAN stripping wanted / last acknowledged (the PF's default after a reset: on).
    vlan_strip: bool,
    vlan_strip_acked: bool,

    last_stats_at: u64,
    /// SCRATCH bytes, on the heap: where each request is built before it is sent.
    scratch: Box<[u8]>,
}

/// A zero-filled slice of `n` elements built directly on the heap (never as a
/// temporary on the stack), failing with [`Error::NoMemory`] instead of panicking.
///
/// Why: a `Vf` is created in attach_pre on a 16 KiB amd64 kernel stack; its bulky
/// tables (command queue, tickets, message scratch) would otherwise make a multi-KiB
/// value that is built and then moved (kmod-check's frame gate caught 15.7 KiB).
/// Attach time only; never called on the data path.
fn boxed_slice<T: Clone>(fill: T, n: usize) -> Result<Box<[T]>, Error> {
    let mut v = Vec::new();
    v.try_reserve_exact(n).map_err(|_| Error::NoMemory)?;
    v.resize(n, fill);
    Ok(v.into_boxed_slice())
}

/// A [`Vf`] in its own heap allocation, obtained without a panic on allocation
/// failure: in the kernel every allocation is M_NOWAIT, and running out of memory at
/// attach must fail attach with ENOMEM rather than panic. Stable Rust has no fallible
/// `Box::new`, so the slot is a one-element `Vec` reserved with `try_reserve_exact` and
/// turned into a `Box<[Vf; 1]>`.
pub struct HeapVf<O: Os>(Box<[Vf<O>; 1]>);

impl<O: Os> HeapVf<O> {
    fn from_slot(slot: Vec<Vf<O>>) -> Result<Self, Error> {
        // Cannot fail: the slot holds exactly one Vf (pushed just before).
        let b: Box<[Vf<O>; 1]> = slot
            .into_boxed_slice()
            .try_into()
            .map_err(|_| Error::Invalid)?;
        Ok(HeapVf(b))
    }

    /// Move the `Vf` out of its heap slot (tests and single-threaded users).
    pub fn into_inner(self) -> Vf<O> {
        let [vf] = *self.0;
        vf
    }
}

impl<O: Os> core::ops::Deref for HeapVf<O> {
    type Target = Vf<O>;
    fn deref(&self) -> &Vf<O> {
        let [vf] = &*self.0;
        vf
    }
}

impl<O: Os> core::ops::DerefMut for HeapVf<O> {
    fn deref_mut(&mut self) -> &mut Vf<O> {
        let [vf] = &mut *self.0;
        vf
    }
}

/// Dropping a `Vf` without `detach` still stops the admin queue, so the device never
/// writes into ring memory that is freed with it (the rings drop after this runs).
impl<O: Os> Drop for Vf<O> {
    fn drop(&mut self) {
        if self.aq.is_up() {
            self.aq.shutdown(self.os.bar());
        }
    }
}

impl<O: Os> fmt::Debug for Vf<O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Vf")
            .field("state", &self.state())
            .field("resources", &self.res)
            .field("link", &self.link)
            .field("queues_enabled", &self.queues_enabled)
            .field("outstanding", &self.outstanding.map(|o| o.q.cmd.op()))
            .field("queued", &self.queue.len)
            .finish()
    }
}

impl<O: Os> Vf<O> {
    // -------------------------------------------------------------------
    // Attach / detach
    // -------------------------------------------------------------------

    /// attach_pre: wait for VFGEN_RSTAT ready, AQ init, VERSION 1.1 (a PF answering
    /// 1.0 gets a caps-less GET_VF_RESOURCES), RESET_VF (RSTAT = 0 first, as FreeBSD),
    /// AQ re-init, GET_VF_RESOURCES, choose the SR-IOV VSI, random locally
    /// administered MAC if the PF gives none. Synchronous; every wait is bounded.
    pub fn attach(os: O, cfg: &AttachConfig) -> Result<Self, Error> {
        Self::attach_boxed(os, cfg).map(HeapVf::into_inner)
    }

    /// [`attach`](Self::attach), with the `Vf` placed on the heap before the
    /// handshake runs, so that no caller frame holds it twice (the kernel's attach_pre
    /// runs on a 16 KiB stack; kmod-check gates every frame at 2 KiB).
    pub fn attach_boxed(os: O, cfg: &AttachConfig) -> Result<HeapVf<O>, Error> {
        let mut vf = Self::construct(os, cfg)?;
        vf.finish_attach()?;
        Ok(vf)
    }

    /// Wait for the VF, allocate the AQ and the driver's tables; no messages yet.
    #[inline(never)]
    fn construct(os: O, cfg: &AttachConfig) -> Result<HeapVf<O>, Error> {
        let cfg = *cfg;
        wait_rstat_ready(&os, cfg.reset_wait_us, cfg.poll_interval_us)?;
        let aq = AdminQueue::alloc(&os, cfg.aq_len)?;
        let queue = CmdQueue::new()?;
        let tickets = boxed_slice(TicketSlot::default(), TICKETS)?;
        let scratch = boxed_slice(0u8, SCRATCH)?;
        let setup_slot = boxed_slice(QueueSetup::new(0, 0, 0, 0), 1)?;
        let mut rss_key = [0u8; vc::RSS_KEY_SIZE];
        os.random_bytes(&mut rss_key);
        // The Vf's own heap slot, reserved fallibly before it is built.
        let mut slot = Vec::new();
        slot.try_reserve_exact(1).map_err(|_| Error::NoMemory)?;
        slot.push(Vf {
            os,
            cfg,
            aq,
            life: Life::Attaching,
            res: Resources::default(),
            link: Link::default(),
            stats: EthStats::default(),
            counters: CtlCounters::default(),
            report: AdminReport::default(),
            last_error: None,
            queue,
            outstanding: None,
            tickets,
            next_ticket: 1,
            setup_slot,
            has_setup: false,
            in_use: (0, 0),
            queues_enabled: false,
            enabled_mask: 0,
            rss_key,
            hena_caps: None,
            rx_itr: regs::ITR_RX_DEFAULT,
            tx_itr: regs::ITR_TX_DEFAULT,
            admin_irq_on: false,
            primary_filter: None,
            stale_primary: None,
            primary_sent: [0; 6],
            mc: MacList::new(),
            vlans: VlanSet::new(),
            promisc: PromiscState::default(),
            promisc_in_flight: 0,
            vlan_strip: true,
            vlan_strip_acked: true,
            last_stats_at: 0,
            scratch,
        });
        HeapVf::from_slot(slot)
    }

    /// The handshake of attach, in place.
    #[inline(never)]
    fn finish_attach(&mut self) -> Result<(), Error> {
        let vf = self;
        if let Err(e) = vf.attach_steps() {
            // Never leave the device pointing at rings that are about to be freed.
            vf.aq.shutdown(vf.os.bar());
            vf.life = Life::Detached;
            return Err(e);
        }
        vf.life = Life::Running;
        let r = vf.res;
        vf.log(
            Level::Info,
            format_args!(
                "virtchnl {}.{}, {} queue pairs, {} vectors, caps {:#010x}, vsi {}, max frame {}",
                r.version.0,
                r.version.1,
                r.num_queue_pairs,
                r.max_vectors,
                r.caps.bits(),
                r.vsi_id,
                r.pf_max_frame
            ),
        );
        Ok(())
    }

    fn attach_steps(&mut self) -> Result<(), Error> {
        self.aq.init(self.os.bar())?;
        // VERSION, resent once on timeout (FreeBSD iavf_setup_vc).
        self.sync_retry(Cmd::Version)?;
        if self.cfg.reset_on_attach {
            self.reset_vf_sync()?;
        }
        // GET_VF_RESOURCES, asked again once on timeout (FreeBSD iavf_vf_config). The PF
        // answers it once per VF reset (hw-contract 5.1: only in state INIT; PF-OOT gates
        // on RESOURCES_LOADED), and a lost reply may mean the PF already moved to
        // ACTIVE; so the second request follows a fresh RESET_VF instead of being
        // refused or ignored.
        let budget = self.sync_budget();
        let t = self.enqueue(&[(Cmd::GetVfResources, true)])?;
        match wait(self, t, budget) {
            Err(Error::Timeout { .. }) | Err(Error::WaitExpired) => {
                self.log(
                    Level::Warn,
                    format_args!(
                        "no answer to GET_VF_RESOURCES; resetting the VF and asking again"
                    ),
                );
                self.fail_all(Error::Reset);
                self.reset_vf_sync()?;
                let t = self.enqueue(&[(Cmd::GetVfResources, true)])?;
                wait(self, t, budget)
            }
            r => r,
        }
    }

    /// The budget of one synchronous attach-time request: the reply timeout plus two
    /// poll intervals.
    fn sync_budget(&self) -> u32 {
        self.cfg
            .reply_timeout_us
            .saturating_add(self.cfg.poll_interval_us.saturating_mul(2))
    }

    /// Stop using the device: DISABLE_QUEUES if enabled, RESET_VF, AQ shutdown.
    /// Bounded (at most two reply timeouts).
    pub fn detach(&mut self) {
        if matches!(self.life, Life::Detached) {
            return;
        }
        if matches!(self.life, Life::Running) && self.queues_enabled && self.aq.is_up() {
            self.fail_all(Error::Detached);
            if let Ok(t) = self.enqueue(&[(Cmd::DisableQueues, true)]) {
                let budget = self.cfg.reply_timeout_us;
                let _ = wait(self, t, budget);
            }
        }
        self.fail_all(Error::Detached);
        if self.aq.is_up() {
            let bar = self.os.bar();
            bar.wr32(regs::VFGEN_RSTAT, regs::VFR_INPROGRESS);
            if self.aq.send(bar, VcOp::RESET_VF.0, &[]).is_ok() {
                self.wait_atq_idle(250_000);
            }
        }
        if self.admin_irq_on {
            irq::admin_irq_disable(self.os.bar());
            self.admin_irq_on = false;
        }
        self.aq.shutdown(self.os.bar());
        self.queues_enabled = false;
        self.life = Life::Detached;
    }

    // -------------------------------------------------------------------
    // Accessors
    // -------------------------------------------------------------------

    pub fn os(&self) -> &O {
        &self.os
    }
    pub fn config(&self) -> &AttachConfig {
        &self.cfg
    }
    pub fn resources(&self) -> &Resources {
        &self.res
    }
    pub fn link(&self) -> Link {
        self.link
    }
    pub fn stats(&self) -> &EthStats {
        &self.stats
    }
    pub fn counters(&self) -> &CtlCounters {
        &self.counters
    }
    pub fn aq_counters(&self) -> &crate::aq::AqCounters {
        self.aq.counters()
    }
    pub fn promisc_state(&self) -> PromiscState {
        self.promisc
    }
    pub fn mac(&self) -> Mac {
        self.res.mac
    }
    /// The multicast addresses currently installed as filters (empty on overflow).
    pub fn multicast(&self) -> &[Mac] {
        self.mc.as_slice()
    }
    pub fn vlans(&self) -> &VlanSet {
        &self.vlans
    }
    pub fn queues_enabled(&self) -> bool {
        self.queues_enabled
    }
    /// The most recent error of any request (fatal or not).
    pub fn last_error(&self) -> Option<Error> {
        self.last_error
    }
    /// The current RSS key (random at attach).
    pub fn rss_key(&self) -> &[u8; vc::RSS_KEY_SIZE] {
        &self.rss_key
    }
    pub fn state(&self) -> VfState {
        match self.life {
            Life::Attaching => VfState::Attaching,
            Life::Running => VfState::Running,
            Life::Recovering(_) => VfState::Recovering,
            Life::Failed(e) => VfState::Failed(e),
            Life::Detached => VfState::Detached,
        }
    }

    /// Tell the VF how many queue sets and MSI-X vectors (including vector 0)
    /// iflib allocated, so recovery can check the PF still offers them.
    /// `start_init` records the same automatically.
    pub fn note_allocation(&mut self, queues: u16, vectors: u16) {
        self.in_use = (queues, vectors);
    }

    /// Use `key` as the RSS key from the next `start_init` on (e.g. the kernel's
    /// `rss_getkey()`).
    pub fn set_rss_key(&mut self, key: &[u8; vc::RSS_KEY_SIZE]) {
        self.rss_key = *key;
    }

    /// Set the RX/TX ITR register values (2 µs units, ≤ 0xFF0) of the queue
    /// vectors; applied now to the vectors in use and at every `start_init`.
    pub fn set_itr(&mut self, rx_itr: u32, tx_itr: u32) {
        self.rx_itr = rx_itr.min(regs::ITR_MAX);
        self.tx_itr = tx_itr.min(regs::ITR_MAX);
        if let Some(s) = self.setup() {
            self.write_itrs(&s);
        }
    }

    /// The queue setup of the last start_init, if any.
    fn setup(&self) -> Option<QueueSetup> {
        if self.has_setup {
            self.setup_slot.first().copied()
        } else {
            None
        }
    }

    pub fn itr(&self) -> (u32, u32) {
        (self.rx_itr, self.tx_itr)
    }

    /// Enable the admin interrupt (vector 0); re-enabled automatically after every
    /// AQ re-init during recovery.
    pub fn enable_admin_irq(&mut self) {
        irq::admin_irq_enable(self.os.bar());
        self.admin_irq_on = true;
    }

    pub fn disable_admin_irq(&mut self) {
        irq::admin_irq_disable(self.os.bar());
        self.admin_irq_on = false;
    }

    // -------------------------------------------------------------------
    // Requests (non-blocking)
    // -------------------------------------------------------------------

    /// Configure and enable the queues: (DISABLE_QUEUES if enabled), ADD_ETH_ADDR
    /// (the MAC), CONFIG_VSI_QUEUES, RSS (GET_RSS_HENA_CAPS once, SET_RSS_HENA,
    /// CONFIG_RSS_KEY, CONFIG_RSS_LUT; or the VFQF registers with RSS_REG),
    /// CONFIG_IRQ_MAP, CONFIG_PROMISCUOUS_MODE, ENABLE_QUEUES. MAC, RSS and promisc
    /// failures are soft (counted, `last_error`); the others fail the ticket.
    pub fn start_init(&mut self, q: &QueueSetup) -> Result<Ticket, Error> {
        self.check_running()?;
        self.validate_setup(q)?;
        let mut s = *q;
        let pf_max = self.max_frame();
        s.max_frame = s.max_frame.max(64).min(pf_max);
        if let Some(slot) = self.setup_slot.first_mut() {
            *slot = s;
            self.has_setup = true;
        }
        self.in_use = (
            self.in_use.0.max(s.num_queues),
            self.in_use.1.max(s.num_vectors),
        );
        self.write_itrs(&s);

        let mut cmds: CmdList<13> = CmdList::new();
        // Decided when sent: an earlier init still in flight may enable them first.
        cmds.push(Cmd::DisableQueues, true);
        cmds.push(Cmd::AddPrimary, false);
        cmds.push(Cmd::DelStalePrimary, false);
        cmds.push(Cmd::ConfigVsiQueues, true);
        if self.res.caps.contains(VfCaps::RSS_PF) {
            if self.hena_caps.is_none() {
                cmds.push(Cmd::GetRssHenaCaps, false);
            }
            cmds.push(Cmd::SetRssHena, false);
            cmds.push(Cmd::RssKey, false);
            cmds.push(Cmd::RssLut, false);
        } else if self.res.caps.contains(VfCaps::RSS_REG) {
            self.write_rss_regs(&s);
        }
        cmds.push(Cmd::ConfigIrqMap, true);
        cmds.push(Cmd::Promisc, false);
        cmds.push(Cmd::EnableQueues, true);
        let t = self.enqueue(cmds.as_slice())?;
        self.kick();
        Ok(t)
    }

    /// DISABLE_QUEUES (a ticket that is already done if the queues are not enabled).
    pub fn start_stop(&mut self) -> Result<Ticket, Error> {
        match self.life {
            Life::Running => {}
            Life::Recovering(_) => {
                // The reset already stopped the queues.
                self.queues_enabled = false;
                return self.enqueue(&[]);
            }
            Life::Failed(_) => return self.enqueue(&[]),
            Life::Detached => return Err(Error::Detached),
            Life::Attaching => return Err(Error::Invalid),
        }
        if !self.queues_enabled && self.outstanding.is_none() && self.queue.is_empty() {
            return self.enqueue(&[]);
        }
        // Decided when sent (skipped if the queues are not enabled by then).
        let t = self.enqueue(&[(Cmd::DisableQueues, true)])?;
        self.kick();
        Ok(t)
    }

    /// Change the unicast MAC: ADD_ETH_ADDR(new) first, then DEL_ETH_ADDR of the
    /// filter it replaced (if the PF has one), so a refusal (e.g. -EPERM for an
    /// untrusted VF with an admin-set MAC) leaves the old filter and `mac()`
    /// unchanged and the ticket fails with `Error::Refused { op: ADD_ETH_ADDR, status }`.
    /// Several calls may be in flight; the last one wins and only its MAC stays.
    pub fn set_mac(&mut self, new: Mac) -> Result<Ticket, Error> {
        if !is_valid_unicast(&new) {
            return Err(Error::Invalid);
        }
        self.check_usable()?;
        if new == self.res.mac && !self.primary_pending() {
            return self.enqueue(&[]);
        }
        if !matches!(self.life, Life::Running) {
            // Replayed when recovery completes.
            self.res.mac = new;
            return self.enqueue(&[]);
        }
        let t = self.enqueue(&[
            (
                Cmd::AddEth {
                    batch: MacBatch::one(new),
                    ty: vc::ETHER_ADDR_PRIMARY,
                    primary: true,
                },
                true,
            ),
            (Cmd::DelStalePrimary, false),
        ])?;
        self.kick();
        Ok(t)
    }

    /// A primary-MAC ADD is queued or outstanding (its reply will change `res.mac`).
    fn primary_pending(&self) -> bool {
        let is_primary = |c: &Cmd| matches!(c, Cmd::AddEth { primary: true, .. } | Cmd::AddPrimary);
        self.outstanding.is_some_and(|o| is_primary(&o.q.cmd))
            || self
                .queue
                .items
                .iter()
                .flatten()
                .any(|q| is_primary(&q.cmd))
    }

    /// Record that the PF now holds a filter for `m` as our primary MAC; the one it
    /// replaced (if any) becomes stale.
    fn primary_installed(&mut self, m: Mac) {
        if let Some(p) = self.primary_filter {
            if p != m {
                self.stale_primary = Some(p);
            }
        }
        self.primary_filter = Some(m);
    }

    /// Promiscuous / all-multicast (IFF_PROMISC / IFF_ALLMULTI). Sends
    /// CONFIG_PROMISCUOUS_MODE with the implied flags. See [`PromiscState`] for
    /// why an acknowledged request may still have no effect.
    pub fn set_promisc(&mut self, promisc: bool, allmulti: bool) -> Result<Ticket, Error> {
        self.check_usable()?;
        self.promisc.promisc = promisc;
        self.promisc.allmulti = allmulti;
        if !matches!(self.life, Life::Running) {
            return self.enqueue(&[]);
        }
        let t = self.enqueue(&[(Cmd::Promisc, true)])?;
        self.kick();
        Ok(t)
    }

    /// Replace the multicast filter list. Up to `mc_filters_max` (16) addresses
    /// become filters (DEL the removed ones, ADD the new ones); more switch the VF
    /// to multicast promiscuous instead (and drop the individual filters).
    pub fn set_multicast(&mut self, list: &[Mac]) -> Result<Ticket, Error> {
        self.check_usable()?;
        // Dedupe and validate into a bounded list; count distinct addresses beyond it.
        let limit = (self.cfg.mc_filters_max as usize).min(MC_FILTERS_MAX);
        let mut new: MacList<MC_FILTERS_MAX> = MacList::new();
        let mut overflow = false;
        for m in list {
            if !is_multicast(m) {
                return Err(Error::Invalid);
            }
            if new.contains(m) {
                continue;
            }
            if new.len() >= limit || new.insert(*m).is_err() {
                overflow = true;
            }
        }
        let old = self.mc;
        let was_overflow = self.promisc.mc_overflow;
        if overflow {
            self.mc.clear();
            if !was_overflow {
                self.counters.mc_overflows += 1;
            }
        } else {
            self.mc = new;
        }
        self.promisc.mc_overflow = overflow;
        if !matches!(self.life, Life::Running) {
            return self.enqueue(&[]);
        }

        let mut del: MacList<MC_FILTERS_MAX> = MacList::new();
        let mut add: MacList<MC_FILTERS_MAX> = MacList::new();
        for m in old.as_slice() {
            if overflow || !new.contains(m) {
                let _ = del.insert(*m);
            }
        }
        if !overflow {
            for m in new.as_slice() {
                if !old.contains(m) {
                    let _ = add.insert(*m);
                }
            }
        }
        let mut cmds: CmdList<3> = CmdList::new();
        if !del.is_empty() {
            let batch = MacBatch::from_slice(del.as_slice());
            cmds.push(
                Cmd::DelEth {
                    batch,
                    ty: vc::ETHER_ADDR_EXTRA,
                },
                false,
            );
        }
        if !add.is_empty() {
            let batch = MacBatch::from_slice(add.as_slice());
            cmds.push(
                Cmd::AddEth {
                    batch,
                    ty: vc::ETHER_ADDR_EXTRA,
                    primary: false,
                },
                true,
            );
        }
        if overflow != was_overflow {
            cmds.push(Cmd::Promisc, true);
        }
        let t = self.enqueue(cmds.as_slice())?;
        self.kick();
        Ok(t)
    }

    /// Add a VLAN filter (ifdi_vlan_register). The first VLAN also adds VLAN 0, as
    /// FreeBSD iavf does, so untagged traffic keeps flowing.
    pub fn vlan_register(&mut self, vid: u16) -> Result<Ticket, Error> {
        if vid == 0 || vid > 4095 {
            return Err(Error::Invalid);
        }
        self.check_usable()?;
        if !self.res.caps.contains(VfCaps::VLAN) {
            return Err(Error::NotSupported);
        }
        if self.vlans.contains(vid) {
            return self.enqueue(&[]);
        }
        if self.vlans.len() >= VLANS_MAX {
            return Err(Error::NoSpace);
        }
        let first = self.vlans.is_empty();
        if !matches!(self.life, Life::Running) {
            self.vlans.insert(vid);
            return self.enqueue(&[]);
        }
        let cmd = if first {
            Cmd::AddVlan {
                vids: [0, vid],
                n: 2,
            }
        } else {
            Cmd::AddVlan {
                vids: [vid, 0],
                n: 1,
            }
        };
        let t = self.enqueue(&[(cmd, true)])?;
        self.vlans.insert(vid);
        self.kick();
        Ok(t)
    }

    /// Remove a VLAN filter; removing the last one also removes VLAN 0.
    pub fn vlan_unregister(&mut self, vid: u16) -> Result<Ticket, Error> {
        if vid == 0 || vid > 4095 {
            return Err(Error::Invalid);
        }
        self.check_usable()?;
        if !self.vlans.contains(vid) {
            return self.enqueue(&[]);
        }
        let last = self.vlans.len() == 1;
        if !matches!(self.life, Life::Running) {
            self.vlans.remove(vid);
            return self.enqueue(&[]);
        }
        let cmd = if last {
            Cmd::DelVlan {
                vids: [vid, 0],
                n: 2,
            }
        } else {
            Cmd::DelVlan {
                vids: [vid, 0],
                n: 1,
            }
        };
        let t = self.enqueue(&[(cmd, true)])?;
        self.vlans.remove(vid);
        self.kick();
        Ok(t)
    }

    /// VLAN tag stripping on receive (IFCAP_VLAN_HWTAGGING): ENABLE/DISABLE_VLAN_STRIPPING.
    /// The PF strips by default after every reset; when off, ravf replays the
    /// setting after a reset.
    pub fn set_vlan_stripping(&mut self, on: bool) -> Result<Ticket, Error> {
        self.check_usable()?;
        if !self.res.caps.contains(VfCaps::VLAN) {
            return Err(Error::NotSupported);
        }
        self.vlan_strip = on;
        if !matches!(self.life, Life::Running) {
            return self.enqueue(&[]);
        }
        let t = self.enqueue(&[(Cmd::VlanStripping { on }, true)])?;
        self.kick();
        Ok(t)
    }

    /// VLAN stripping: (wanted, last acknowledged by the PF).
    pub fn vlan_stripping(&self) -> (bool, bool) {
        (self.vlan_strip, self.vlan_strip_acked)
    }

    /// Validate an MTU (112..=max_mtu, where max_mtu ≤ 9706 is lowered to the PF's
    /// max frame − 22) and return the max frame size (MTU + 22) for
    /// isc_max_frame_size. Takes effect at the next `start_init` (iflib reinits).
    pub fn set_mtu(&mut self, mtu: u32) -> Result<u32, Error> {
        if !(MTU_MIN..=self.res.max_mtu.max(MTU_MIN)).contains(&mtu) {
            return Err(Error::Invalid);
        }
        Ok(mtu + FRAME_OVERHEAD)
    }

    /// Reset the VF from our side (e.g. iflib's watchdog reset after a TX hang):
    /// write VFGEN_RSTAT = INPROGRESS, send RESET_VF, and go through the same
    /// recovery as a PF-initiated reset (the report says `reset_detected` now and
    /// `reinit_needed` when done). Non-blocking.
    pub fn request_reset(&mut self) -> Result<(), Error> {
        self.check_running()?;
        self.fail_all(Error::Reset);
        let bar = self.os.bar();
        bar.wr32(regs::VFGEN_RSTAT, regs::VFR_INPROGRESS);
        if let Err(e) = self.aq.send(bar, VcOp::RESET_VF.0, &[]) {
            self.log(Level::Warn, format_args!("RESET_VF not sent: {e:?}"));
        }
        self.counters.reset_requests += 1;
        self.detect_reset(ResetCause::Requested);
        Ok(())
    }

    /// The state of a ticket.
    pub fn poll(&self, t: Ticket) -> Poll {
        match self.tickets.iter().find(|s| s.id == t.0 && s.id != 0) {
            None => Poll::Done(Err(Error::StaleTicket)),
            Some(s) => match s.result {
                None => Poll::Pending,
                Some(r) => Poll::Done(r),
            },
        }
    }

    // -------------------------------------------------------------------
    // The mailbox engine
    // -------------------------------------------------------------------

    /// The deferred-work entry point (iflib admin task / own taskqueue): clean the
    /// ARQ, complete requests, handle events, detect resets, drive recovery, send
    /// the next request. Returns everything that changed since the last report.
    pub fn admin_task(&mut self) -> AdminReport {
        self.run_admin();
        core::mem::take(&mut self.report)
    }

    /// Periodic work (iflib timer, about every 0.5 s): reset detection through
    /// VFGEN_RSTAT, GET_STATS when idle, request deadlines, the recovery back-off,
    /// and everything `admin_task` does.
    pub fn timer(&mut self) -> AdminReport {
        if matches!(self.life, Life::Running) {
            let rstat = self.os.bar().rd32(regs::VFGEN_RSTAT);
            if !regs::rstat_ready(rstat) {
                self.detect_reset(if regs::reads_as_reset(rstat) {
                    ResetCause::RegInReset
                } else {
                    ResetCause::RstatNotReady
                });
            }
        }
        if matches!(self.life, Life::Running) {
            let now = self.os.now_us();
            let due = now.saturating_sub(self.last_stats_at) >= self.cfg.stats_interval_us;
            if due && self.outstanding.is_none() && self.queue.is_empty() {
                self.last_stats_at = now;
                if self.queue.push(Queued {
                    cmd: Cmd::GetStats,
                    ticket: 0,
                    fatal: false,
                }) {
                    // sent below by run_admin
                }
            }
        }
        self.run_admin();
        core::mem::take(&mut self.report)
    }

    fn run_admin(&mut self) {
        if matches!(self.life, Life::Detached) {
            return;
        }
        if self.aq.is_up() {
            let h = self.aq.check_health(self.os.bar());
            if h.errors != 0 {
                self.counters.aq_errors += 1;
                self.log(
                    Level::Warn,
                    format_args!("admin queue error bits {:#x} (cleared)", h.errors),
                );
            }
            if h.in_reset {
                self.detect_reset(ResetCause::RegInReset);
            } else if h.disabled {
                self.detect_reset(ResetCause::AqDisabled);
            }
        }
        if self.aq.is_up() {
            let mut drained = false;
            for _ in 0..ARQ_BUDGET {
                let mut buf = [0u8; RX_COPY];
                let r = self.aq.receive(self.os.bar(), &mut buf);
                match r {
                    Ok(Some(m)) => {
                        let n = m.copied.min(RX_COPY);
                        self.handle_msg(&m, buf.get(..n).unwrap_or(&[]));
                        if !self.aq.is_up() {
                            drained = true;
                            break;
                        }
                    }
                    Ok(None) => {
                        drained = true;
                        break;
                    }
                    Err(AqError::InReset) => {
                        self.detect_reset(ResetCause::RegInReset);
                        drained = true;
                        break;
                    }
                    Err(e) => {
                        self.counters.aq_errors += 1;
                        self.log(Level::Warn, format_args!("ARQ: {e:?}"));
                        drained = true;
                        break;
                    }
                }
            }
            if !drained {
                self.report.more_work = true;
            }
        }
        self.check_deadline();
        self.advance_recovery();
        self.pump();
        // A recovery step may have completed inside `pump` (a command with nothing
        // to send): look again so its ticket is consumed in this same pass.
        self.advance_recovery();
        self.pump();
    }

    fn handle_msg(&mut self, m: &ArqMsg, payload: &[u8]) {
        if m.aq_error() {
            // Linux stops processing on a descriptor with ERR; ravf drops the
            // message (the request it answers, if any, times out).
            self.counters.bad_msgs += 1;
            self.log(
                Level::Warn,
                format_args!("ARQ descriptor with ERR flag (op {})", m.v_opcode),
            );
            return;
        }
        if m.oversized {
            // datalen larger than the 4096-byte buffer we posted: not a message we
            // can trust to be complete.
            self.counters.bad_msgs += 1;
            self.log(
                Level::Warn,
                format_args!(
                    "ARQ message with datalen beyond the buffer (op {})",
                    m.v_opcode
                ),
            );
            return;
        }
        let op = VcOp(m.v_opcode);
        if op == VcOp::EVENT {
            self.handle_event(payload);
            return;
        }
        let Some(o) = self.outstanding else {
            self.counters.unexpected_replies += 1;
            self.log(
                Level::Debug,
                format_args!("unexpected reply {op} (nothing outstanding)"),
            );
            return;
        };
        if o.q.cmd.op() != op {
            self.counters.unexpected_replies += 1;
            self.log(
                Level::Debug,
                format_args!("reply {op} while waiting for {} (ignored)", o.q.cmd.op()),
            );
            return;
        }
        self.outstanding = None;
        self.counters.replies += 1;
        self.log(
            Level::Debug,
            format_args!(
                "virtchnl <- {op} status {} ({} bytes)",
                m.v_retval,
                payload.len()
            ),
        );
        let res = if m.v_retval != 0 {
            Err(Error::Refused {
                op,
                status: m.v_retval,
            })
        } else {
            self.apply_reply(&o.q.cmd, payload, m.declared_len)
        };
        self.finish(o.q, res);
    }

    fn handle_event(&mut self, payload: &[u8]) {
        self.counters.events += 1;
        let adv = self.res.caps.contains(VfCaps::ADV_LINK_SPEED);
        match vc::parse_event(payload, adv) {
            Err(e) => {
                self.counters.bad_msgs += 1;
                self.log(Level::Warn, format_args!("malformed PF event: {e:?}"));
            }
            Ok(Event::LinkChange { up, speed_mbps }) => {
                self.counters.link_events += 1;
                self.log(
                    Level::Debug,
                    format_args!(
                        "virtchnl <- EVENT link {} {speed_mbps} Mb/s",
                        if up { "up" } else { "down" }
                    ),
                );
                if matches!(
                    self.life,
                    Life::Recovering(_) | Life::Failed(_) | Life::Detached
                ) {
                    // The link stays reported down until recovery completes.
                    return;
                }
                let l = Link { up, speed_mbps };
                if l != self.link {
                    self.link = l;
                    self.report.link_changed = true;
                }
            }
            Ok(Event::ResetImpending { .. }) => {
                self.counters.reset_impending += 1;
                self.log(
                    Level::Debug,
                    format_args!("virtchnl <- EVENT reset impending"),
                );
                self.detect_reset(ResetCause::Impending);
            }
            Ok(Event::PfDriverClose) => {
                // No i40e path sends it; treat it like a reset (stop, then recover).
                self.detect_reset(ResetCause::PfClose);
            }
            Ok(Event::Unknown(code)) => {
                self.counters.unknown_events += 1;
                self.log(Level::Debug, format_args!("unknown PF event {code}"));
            }
        }
    }

    /// Use a successful reply's payload.
    fn apply_reply(&mut self, cmd: &Cmd, payload: &[u8], declared: usize) -> Result<(), Error> {
        let op = cmd.op();
        let bad = |why| Error::BadReply { op, why };
        match cmd {
            Cmd::Version => {
                let (major, minor) = vc::parse_version(payload).map_err(bad)?;
                if major != vc::VERSION_MAJOR || minor > vc::VERSION_MINOR {
                    return Err(Error::VersionMismatch { major, minor });
                }
                self.res.version = (major, minor);
                Ok(())
            }
            Cmd::GetVfResources => {
                let info = vc::parse_vf_resources(payload, declared).map_err(bad)?;
                self.apply_resources(&info)
            }
            Cmd::GetRssHenaCaps => {
                self.hena_caps = Some(vc::parse_rss_hena(payload).map_err(bad)?);
                Ok(())
            }
            Cmd::GetStats => {
                self.stats = vc::parse_eth_stats(payload).map_err(bad)?;
                self.counters.stats_updates += 1;
                Ok(())
            }
            Cmd::EnableQueues => {
                self.queues_enabled = true;
                self.enabled_mask = self.setup().map(|s| s.queue_mask()).unwrap_or(0);
                Ok(())
            }
            Cmd::DisableQueues => {
                self.queues_enabled = false;
                Ok(())
            }
            Cmd::VlanStripping { on } => {
                self.vlan_strip_acked = *on;
                Ok(())
            }
            Cmd::AddVlan { .. } | Cmd::AddVlanStored => {
                // Upstream i40e turns VLAN stripping on with every ADD_VLAN
                // (`i40e_vlan_stripping_enable`, hw-contract 5.6): if it is meant to
                // be off, say so again (unless a stripping command is already queued).
                self.vlan_strip_acked = true;
                let queued = self
                    .queue
                    .items
                    .iter()
                    .flatten()
                    .any(|q| matches!(q.cmd, Cmd::VlanStripping { .. }));
                if !self.vlan_strip && !queued {
                    let ok = self.queue.push(Queued {
                        cmd: Cmd::VlanStripping { on: false },
                        ticket: 0,
                        fatal: false,
                    });
                    if !ok {
                        self.counters.busy += 1;
                    }
                }
                Ok(())
            }
            Cmd::AddEth {
                batch,
                primary: true,
                ..
            } => {
                if let Some(m) = batch.as_slice().first().copied() {
                    self.res.mac = m;
                    self.primary_installed(m);
                }
                Ok(())
            }
            Cmd::AddPrimary => {
                let m = self.primary_sent;
                self.primary_installed(m);
                Ok(())
            }
            Cmd::DelStalePrimary => {
                self.stale_primary = None;
                Ok(())
            }
            Cmd::Promisc => {
                let f = self.promisc_in_flight;
                if f != self.promisc.acked_flags && f != 0 {
                    // i40e acknowledges an untrusted VF's request without applying it
                    // ("Lie to the VF on purpose"); nothing in the reply tells.
                    self.log(
                        Level::Info,
                        format_args!(
                            "PF acknowledged promiscuous flags {f:#x}; if this VF is not \
                             trusted on the host the PF may not apply them (undetectable)"
                        ),
                    );
                }
                self.promisc.acked_flags = f;
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn apply_resources(&mut self, info: &VfResourceInfo) -> Result<(), Error> {
        let op = VcOp::GET_VF_RESOURCES;
        let mut nqp = info.num_queue_pairs;
        if info.vsi_num_queue_pairs != 0 {
            nqp = nqp.min(info.vsi_num_queue_pairs);
        }
        let nqp = nqp.min(regs::MAX_QUEUES as u16);
        let nvec = info.max_vectors.min(regs::MAX_QUEUE_VECTORS as u16 + 1);
        if nqp == 0 || nvec == 0 {
            return Err(Error::BadReply {
                op,
                why: ParseError::BadCount,
            });
        }
        if let Life::Recovering(_) = self.life {
            let (q, v) = self.in_use;
            if nqp < q || nvec < v {
                return Err(Error::ResourcesShrunk {
                    queues: nqp,
                    vectors: nvec,
                });
            }
        }
        let pf_max_frame = info.max_mtu as u32;
        let max_mtu = if pf_max_frame == 0 {
            MTU_MAX
        } else {
            pf_max_frame
                .saturating_sub(FRAME_OVERHEAD)
                .clamp(MTU_MIN, MTU_MAX)
        };
        let r = &mut self.res;
        r.num_queue_pairs = nqp;
        r.max_vectors = nvec;
        r.pf_max_frame = pf_max_frame;
        r.max_mtu = max_mtu;
        r.caps = VfCaps::from_bits_retain(info.caps);
        r.vsi_id = info.vsi_id;
        r.qset_handle = info.qset_handle;
        r.pf_mac = info.default_mac;
        // A new VSI: the PF holds a filter for its default MAC only, and only if
        // that MAC is valid (i40e zeroes it and deletes the filter otherwise, 5.10).
        self.primary_filter = is_valid_unicast(&info.default_mac).then_some(info.default_mac);
        self.stale_primary = None;
        r.rss_key_size = u16::try_from(info.rss_key_size).unwrap_or(u16::MAX);
        r.rss_lut_size = u16::try_from(info.rss_lut_size).unwrap_or(u16::MAX);
        if matches!(self.life, Life::Attaching) {
            if is_valid_unicast(&info.default_mac) {
                self.res.mac = info.default_mac;
                self.res.mac_from_pf = true;
            } else {
                // i40e zeroes the MAC unless USO was requested or the admin set one
                // (hw-contract 5.10): generate a locally administered unicast address.
                let mut m = [0u8; 6];
                self.os.random_bytes(&mut m);
                m[0] = (m[0] & 0xFE) | 0x02;
                self.res.mac = m;
                self.res.mac_from_pf = false;
            }
        }
        // After a reset ravf keeps the MAC iflib knows; it is re-added by the replay.
        Ok(())
    }

    /// Complete the outstanding/queued command `q` with `res`.
    fn finish(&mut self, q: Queued, res: Result<(), Error>) {
        self.report.completed = self.report.completed.saturating_add(1);
        if let Err(e) = res {
            self.report.failed = self.report.failed.saturating_add(1);
            self.last_error = Some(e);
            match e {
                Error::Refused { op, status } => {
                    self.counters.refused += 1;
                    self.log(
                        Level::Warn,
                        format_args!(
                            "PF refused {op}: status {status} ({})",
                            vc::status::name(status)
                        ),
                    );
                }
                Error::Timeout { op } => {
                    self.counters.timeouts += 1;
                    self.log(Level::Warn, format_args!("PF did not answer {op}"));
                }
                Error::BadReply { op, why } => {
                    self.counters.bad_msgs += 1;
                    self.log(
                        Level::Warn,
                        format_args!("malformed reply to {op}: {why:?}"),
                    );
                }
                _ => {}
            }
            // Undo the bookkeeping of filters the PF refused. Not on a reset or a
            // timeout: the filter stays wanted and the post-reset replay adds it.
            if matches!(e, Error::Refused { .. }) {
                if q.cmd == Cmd::DelStalePrimary {
                    // The PF no longer has it (or will not let it go): do not retry.
                    self.stale_primary = None;
                }
                if let Cmd::AddVlan { vids, n } = q.cmd {
                    for v in vids.iter().take(n as usize) {
                        self.vlans.remove(*v);
                    }
                }
                if let Cmd::AddEth {
                    batch,
                    primary: false,
                    ..
                } = q.cmd
                {
                    for m in batch.as_slice() {
                        self.mc.remove(m);
                    }
                }
            }
            if !q.fatal {
                self.counters.soft_errors += 1;
            }
        }
        if q.ticket == 0 {
            return;
        }
        let fatal_err = match res {
            Err(e) if q.fatal => Some(e),
            _ => None,
        };
        if let Some(slot) = self.tickets.iter_mut().find(|s| s.id == q.ticket) {
            slot.remaining = slot.remaining.saturating_sub(1);
            if slot.result.is_none() {
                if let Some(e) = fatal_err {
                    slot.result = Some(Err(e));
                } else if slot.remaining == 0 {
                    slot.result = Some(Ok(()));
                }
            }
        }
        if fatal_err.is_some() {
            // Drop the ticket's remaining steps.
            let t = q.ticket;
            let mut dropped = 0u16;
            self.queue.remove_if(|x| x.ticket == t, |_| dropped += 1);
            if let Some(slot) = self.tickets.iter_mut().find(|s| s.id == t) {
                slot.remaining = slot.remaining.saturating_sub(dropped);
            }
        }
    }

    fn check_deadline(&mut self) {
        let Some(o) = self.outstanding else { return };
        if self.os.now_us() >= o.deadline {
            self.outstanding = None;
            self.finish(o.q, Err(Error::Timeout { op: o.q.cmd.op() }));
        }
    }

    /// Send queued commands until one is outstanding.
    fn pump(&mut self) {
        // Bounded: each iteration consumes one queue entry.
        for _ in 0..QCAP + 1 {
            if self.outstanding.is_some() || !self.aq.is_up() {
                return;
            }
            match self.life {
                Life::Running | Life::Attaching | Life::Recovering(_) => {}
                Life::Failed(_) | Life::Detached => return,
            }
            let Some(q) = self.queue.pop() else { return };
            match self.build(&q.cmd) {
                Ok(None) => self.finish(q, Ok(())),
                Ok(Some(len)) => {
                    let op = q.cmd.op();
                    let payload = self.scratch.get(..len).unwrap_or(&[]);
                    match self.aq.send(self.os.bar(), op.0, payload) {
                        Ok(()) => {
                            self.counters.requests_sent += 1;
                            self.log(Level::Debug, format_args!("virtchnl -> {op} ({len} bytes)"));
                            let deadline = self
                                .os
                                .now_us()
                                .saturating_add(self.cfg.reply_timeout_us as u64);
                            self.outstanding = Some(Outstanding { q, deadline });
                        }
                        Err(e) => {
                            self.counters.aq_errors += 1;
                            self.finish(q, Err(Error::Aq(e)));
                            if e == AqError::InReset {
                                self.detect_reset(ResetCause::RegInReset);
                            }
                        }
                    }
                }
                Err(e) => self.finish(q, Err(e)),
            }
        }
    }

    /// Build `cmd` into `self.scratch`. `Ok(None)`: nothing to send (complete now).
    fn build(&mut self, cmd: &Cmd) -> Result<Option<usize>, Error> {
        let op = cmd.op();
        let vsi = self.res.vsi_id;
        let be = |_| Error::Invalid;
        let len = match cmd {
            Cmd::Version => {
                vc::build_version(&mut self.scratch, vc::VERSION_MAJOR, vc::VERSION_MINOR)
                    .map_err(be)?
            }
            Cmd::GetVfResources => {
                let caps = if self.res.version == (1, 0) {
                    None
                } else {
                    Some(self.cfg.request_caps.bits())
                };
                vc::build_get_vf_resources(&mut self.scratch, caps).map_err(be)?
            }
            Cmd::GetRssHenaCaps => 0,
            Cmd::SetRssHena => {
                // Hash what the PF supports of IPv4/IPv6 TCP/UDP/SCTP/other/fragments
                // (and the X722 extras if offered). Unknown caps: leave the PF default.
                let Some(caps) = self.hena_caps else {
                    return Ok(None);
                };
                let want = (vc::pctype::HENA_BASE | vc::pctype::HENA_ADV) & caps;
                if want == 0 {
                    return Ok(None);
                }
                vc::build_set_rss_hena(&mut self.scratch, want).map_err(be)?
            }
            Cmd::RssKey => {
                let n = match self.res.rss_key_size as usize {
                    0 => vc::RSS_KEY_SIZE,
                    k => k.min(vc::RSS_KEY_SIZE),
                };
                let key = self.rss_key;
                vc::build_rss_key(&mut self.scratch, vsi, key.get(..n).unwrap_or(&key))
                    .map_err(be)?
            }
            Cmd::RssLut => {
                let Some(s) = self.setup() else {
                    return Ok(None);
                };
                let n = match self.res.rss_lut_size as usize {
                    0 => vc::RSS_LUT_SIZE,
                    k => k.min(512),
                };
                let nq = s.num_queues.max(1) as usize;
                let mut lut = [0u8; 512];
                for (i, e) in lut.iter_mut().enumerate().take(n) {
                    *e = (i % nq) as u8;
                }
                vc::build_rss_lut(&mut self.scratch, vsi, lut.get(..n).unwrap_or(&[]))
                    .map_err(be)?
            }
            Cmd::ConfigVsiQueues => {
                let Some(s) = self.setup() else {
                    return Err(Error::Invalid);
                };
                self.build_vsi_queues(&s)?
            }
            Cmd::ConfigIrqMap => {
                let Some(s) = self.setup() else {
                    return Err(Error::Invalid);
                };
                let mut maps = [VectorMap::default(); regs::MAX_QUEUE_VECTORS + 1];
                let n = irq_map(&s, vsi, &mut maps);
                vc::build_config_irq_map(&mut self.scratch, maps.get(..n).unwrap_or(&[]))
                    .map_err(be)?
            }
            Cmd::EnableQueues => {
                let mask = self.setup().map(|s| s.queue_mask()).unwrap_or(0);
                if mask == 0 {
                    return Err(Error::Invalid);
                }
                vc::build_queue_select(&mut self.scratch, vsi, mask, mask).map_err(be)?
            }
            Cmd::DisableQueues => {
                if !self.queues_enabled {
                    return Ok(None);
                }
                let mut mask = self.enabled_mask;
                if mask == 0 {
                    mask = self.setup().map(|s| s.queue_mask()).unwrap_or(0);
                }
                if mask == 0 {
                    return Ok(None);
                }
                vc::build_queue_select(&mut self.scratch, vsi, mask, mask).map_err(be)?
            }
            Cmd::GetStats => vc::build_queue_select(&mut self.scratch, vsi, 0, 0).map_err(be)?,
            Cmd::AddEth { batch, ty, .. } | Cmd::DelEth { batch, ty } => {
                if batch.n == 0 {
                    return Ok(None);
                }
                vc::build_ether_addr_list(&mut self.scratch, vsi, batch.as_slice(), *ty)
                    .map_err(be)?
            }
            Cmd::AddPrimary => {
                let mac = self.res.mac;
                self.primary_sent = mac;
                vc::build_ether_addr_list(&mut self.scratch, vsi, &[mac], vc::ETHER_ADDR_PRIMARY)
                    .map_err(be)?
            }
            Cmd::DelStalePrimary => {
                let Some(m) = self.stale_primary else {
                    return Ok(None);
                };
                if Some(m) == self.primary_filter {
                    self.stale_primary = None;
                    return Ok(None);
                }
                vc::build_ether_addr_list(&mut self.scratch, vsi, &[m], vc::ETHER_ADDR_PRIMARY)
                    .map_err(be)?
            }
            Cmd::AddMcStored => {
                if self.mc.is_empty() || self.promisc.mc_overflow {
                    return Ok(None);
                }
                let list = self.mc;
                vc::build_ether_addr_list(
                    &mut self.scratch,
                    vsi,
                    list.as_slice(),
                    vc::ETHER_ADDR_EXTRA,
                )
                .map_err(be)?
            }
            Cmd::AddVlan { vids, n } | Cmd::DelVlan { vids, n } => {
                if !self.res.caps.contains(VfCaps::VLAN) {
                    return Err(Error::NotSupported);
                }
                vc::build_vlan_filter_list(
                    &mut self.scratch,
                    vsi,
                    vids.get(..*n as usize).unwrap_or(&[]),
                )
                .map_err(be)?
            }
            Cmd::AddVlanStored => {
                if self.vlans.is_empty() || !self.res.caps.contains(VfCaps::VLAN) {
                    return Ok(None);
                }
                let mut v = [0u16; VLANS_MAX + 1];
                let n = 1 + self.vlans.fill(v.get_mut(1..).unwrap_or(&mut []));
                vc::build_vlan_filter_list(&mut self.scratch, vsi, v.get(..n).unwrap_or(&[]))
                    .map_err(be)?
            }
            Cmd::VlanStripping { .. } => {
                if !self.res.caps.contains(VfCaps::VLAN) {
                    return Err(Error::NotSupported);
                }
                0
            }
            Cmd::Promisc => {
                let f = self.promisc.wanted_flags();
                self.promisc.sent_flags = f;
                self.promisc_in_flight = f;
                vc::build_promisc(&mut self.scratch, vsi, f).map_err(be)?
            }
        };
        let _ = op;
        Ok(Some(len))
    }

    fn build_vsi_queues(&mut self, s: &QueueSetup) -> Result<usize, Error> {
        let vsi = self.res.vsi_id;
        let n = (s.num_queues as usize).min(regs::MAX_QUEUES);
        let pair = |i: usize| {
            let tx = s.tx.get(i).copied().unwrap_or_default();
            let rx = s.rx.get(i).copied().unwrap_or_default();
            QueuePairInfo {
                txq: TxqInfo {
                    vsi_id: U16::new(vsi),
                    queue_id: U16::new(i as u16),
                    ring_len: U16::new(tx.len),
                    headwb_enabled: U16::new(u16::from(tx.headwb_paddr != 0)),
                    dma_ring_addr: U64::new(tx.paddr),
                    dma_headwb_addr: U64::new(tx.headwb_paddr),
                },
                rxq: RxqInfo {
                    vsi_id: U16::new(vsi),
                    queue_id: U16::new(i as u16),
                    ring_len: U32::new(rx.len as u32),
                    databuffer_size: U32::new(s.rx_buf_size),
                    max_pkt_size: U32::new(s.max_frame),
                    dma_ring_addr: U64::new(rx.paddr),
                    ..Default::default()
                },
            }
        };
        vc::build_config_vsi_queues_with(&mut self.scratch, vsi, n, pair)
            .map_err(|_| Error::Invalid)
    }

    /// The largest frame the PF accepts: its `max_mtu` field (a frame size on
    /// i40e), bounded to [MTU_MIN + 22, 9728]; 9728 when unknown.
    fn max_frame(&self) -> u32 {
        let hard = MTU_MAX + FRAME_OVERHEAD;
        if self.res.pf_max_frame == 0 {
            hard
        } else {
            self.res.pf_max_frame.clamp(MTU_MIN + FRAME_OVERHEAD, hard)
        }
    }

    fn validate_setup(&self, q: &QueueSetup) -> Result<(), Error> {
        let nq = q.num_queues as usize;
        if nq == 0 || nq > self.res.num_queue_pairs as usize || nq > regs::MAX_QUEUES {
            return Err(Error::Invalid);
        }
        if q.num_vectors == 0 || q.num_vectors > self.res.max_vectors {
            return Err(Error::Invalid);
        }
        // i40e: databuffer_size ≤ 16256 and used in 128-byte units.
        if q.rx_buf_size < 128 || q.rx_buf_size > 16256 || q.rx_buf_size % 128 != 0 {
            return Err(Error::Invalid);
        }
        let ok_len = |l: u16| (32..=4096).contains(&l) && l % 32 == 0;
        for i in 0..nq {
            let (Some(tx), Some(rx)) = (q.tx.get(i), q.rx.get(i)) else {
                return Err(Error::Invalid);
            };
            if !ok_len(tx.len) || !ok_len(rx.len) {
                return Err(Error::Invalid);
            }
            // The PF drops the low 7 bits of ring addresses (base = addr / 128).
            if tx.paddr == 0 || rx.paddr == 0 || tx.paddr % 128 != 0 || rx.paddr % 128 != 0 {
                return Err(Error::Invalid);
            }
            // The head write-back target is a 32-bit word the device writes
            // (hw-contract 6.4); the emulator refuses a misaligned one.
            if tx.headwb_paddr % 4 != 0 {
                return Err(Error::Invalid);
            }
        }
        Ok(())
    }

    fn write_itrs(&self, s: &QueueSetup) {
        let bar = self.os.bar();
        let qv = s.num_vectors.saturating_sub(1).min(s.num_queues);
        for v in 0..qv {
            irq::set_queue_itr(bar, v, self.rx_itr, self.tx_itr);
        }
    }

    /// RSS through registers when the PF grants RSS_REG instead of RSS_PF
    /// (FreeBSD iavf_config_rss_reg): key, LUT (i mod nq), HENA.
    fn write_rss_regs(&self, s: &QueueSetup) {
        let bar = self.os.bar();
        for i in 0..regs::VFQF_HKEY_COUNT {
            let b = |k: usize| self.rss_key.get(i as usize * 4 + k).copied().unwrap_or(0) as u32;
            bar.wr32(
                regs::vfqf_hkey(i),
                b(0) | (b(1) << 8) | (b(2) << 16) | (b(3) << 24),
            );
        }
        let nq = s.num_queues.max(1) as u32;
        for i in 0..regs::VFQF_HLUT_COUNT {
            let mut v = 0u32;
            for k in 0..4u32 {
                let e = (i as u32 * 4 + k) % nq;
                v |= (e & 0xF) << (8 * k);
            }
            bar.wr32(regs::vfqf_hlut(i), v & regs::HLUT_ENTRY_MASK);
        }
        let hena = if nq > 1 { vc::pctype::HENA_BASE } else { 0 };
        bar.wr32(regs::vfqf_hena(0), hena as u32);
        bar.wr32(regs::vfqf_hena(1), (hena >> 32) as u32);
    }

    // -------------------------------------------------------------------
    // Tickets and queue
    // -------------------------------------------------------------------

    fn check_running(&self) -> Result<(), Error> {
        match self.life {
            Life::Running => Ok(()),
            Life::Recovering(_) => Err(Error::InReset),
            Life::Failed(e) => Err(e),
            Life::Detached => Err(Error::Detached),
            Life::Attaching => Err(Error::Invalid),
        }
    }

    /// Running or recovering (filter changes are stored and replayed).
    fn check_usable(&self) -> Result<(), Error> {
        match self.life {
            Life::Running | Life::Recovering(_) => Ok(()),
            Life::Failed(e) => Err(e),
            Life::Detached => Err(Error::Detached),
            Life::Attaching => Err(Error::Invalid),
        }
    }

    /// Queue `cmds` under a new ticket (all or nothing).
    fn enqueue(&mut self, cmds: &[(Cmd, bool)]) -> Result<Ticket, Error> {
        if cmds.len() > self.queue.free() {
            self.counters.busy += 1;
            return Err(Error::Busy);
        }
        // A slot that is free or holds a finished ticket (the oldest id first).
        let slot_idx = {
            let mut best: Option<usize> = None;
            for (i, s) in self.tickets.iter().enumerate() {
                let reusable = s.id == 0 || s.result.is_some();
                if !reusable {
                    continue;
                }
                best = match best {
                    None => Some(i),
                    Some(b) => {
                        let bs = self.tickets.get(b).map(|x| x.id).unwrap_or(0);
                        if s.id == 0 || (bs != 0 && s.id.wrapping_sub(bs) > u32::MAX / 2) {
                            Some(i)
                        } else {
                            Some(b)
                        }
                    }
                };
                if s.id == 0 {
                    break;
                }
            }
            match best {
                Some(i) => i,
                None => {
                    self.counters.busy += 1;
                    return Err(Error::Busy);
                }
            }
        };
        let id = self.next_ticket;
        self.next_ticket = self.next_ticket.wrapping_add(1);
        if self.next_ticket == 0 {
            self.next_ticket = 1;
        }
        let n = cmds.len() as u16;
        if let Some(slot) = self.tickets.get_mut(slot_idx) {
            *slot = TicketSlot {
                id,
                remaining: n,
                result: if n == 0 { Some(Ok(())) } else { None },
            };
        }
        for (cmd, fatal) in cmds {
            self.queue.push(Queued {
                cmd: *cmd,
                ticket: id,
                fatal: *fatal,
            });
        }
        Ok(Ticket(id))
    }

    fn kick(&self) {
        self.os.schedule_admin_task();
    }

    /// Fail the outstanding request and every queued one with `e`.
    fn fail_all(&mut self, e: Error) {
        if let Some(o) = self.outstanding.take() {
            self.finish(o.q, Err(e));
        }
        // Bounded: `finish` only ever removes entries, so the queue shrinks each pass.
        for _ in 0..QCAP {
            match self.queue.pop() {
                Some(q) => self.finish(q, Err(e)),
                None => break,
            }
        }
    }

    // -------------------------------------------------------------------
    // Synchronous helpers (attach/detach only)
    // -------------------------------------------------------------------

    fn sync_retry(&mut self, cmd: Cmd) -> Result<(), Error> {
        let budget = self.sync_budget();
        for attempt in 0..2 {
            let t = self.enqueue(&[(cmd, true)])?;
            match wait(self, t, budget) {
                Err(Error::Timeout { .. }) | Err(Error::WaitExpired) if attempt == 0 => {
                    self.log(
                        Level::Warn,
                        format_args!("no answer to {}, resending", cmd.op()),
                    );
                    self.fail_all(Error::Reset);
                }
                r => return r,
            }
        }
        Err(Error::Timeout { op: cmd.op() })
    }

    fn wait_atq_idle(&mut self, budget_us: u32) -> bool {
        let step = self.cfg.poll_interval_us.max(1);
        for _ in 0..budget_us / step + 1 {
            match self.aq.clean_atq(self.os.bar()) {
                Ok(true) => return true,
                Ok(false) => {}
                Err(_) => return false,
            }
            self.os.sleep_us(step);
        }
        false
    }

    /// RESET_VF as FreeBSD `iavf_reset`: write RSTAT = INPROGRESS, send RESET_VF,
    /// wait for ARQLEN.ENABLE to drop (bounded), then for RSTAT ready, then re-init
    /// the AQ. The negotiated version survives (i40e keeps `vf_ver`).
    fn reset_vf_sync(&mut self) -> Result<(), Error> {
        let bar = self.os.bar();
        bar.wr32(regs::VFGEN_RSTAT, regs::VFR_INPROGRESS);
        self.aq.send(bar, VcOp::RESET_VF.0, &[])?;
        self.log(
            Level::Debug,
            format_args!("virtchnl -> RESET_VF (no reply; waiting for the reset)"),
        );
        let step = self.cfg.poll_interval_us.max(1);
        let mut seen = false;
        for _ in 0..self.cfg.reset_drop_wait_us / step + 1 {
            let v = self.os.bar().rd32(regs::VF_ARQLEN1);
            if regs::reads_as_reset(v) || v & aqlen::ENABLE == 0 {
                seen = true;
                break;
            }
            self.os.sleep_us(step);
        }
        if !seen {
            self.log(
                Level::Warn,
                format_args!("never saw the VF reset start; continuing"),
            );
        }
        wait_rstat_ready(&self.os, self.cfg.reset_wait_us, step)?;
        self.aq.shutdown(self.os.bar());
        self.aq.init(self.os.bar())?;
        if self.admin_irq_on {
            irq::admin_irq_enable(self.os.bar());
        }
        Ok(())
    }

    // -------------------------------------------------------------------
    // Reset detection and recovery
    // -------------------------------------------------------------------

    fn detect_reset(&mut self, cause: ResetCause) {
        let now = self.os.now_us();
        match self.life {
            Life::Running => {
                self.counters.resets_detected += 1;
                self.log(
                    Level::Warn,
                    format_args!("VF reset detected ({cause:?}); recovering"),
                );
                self.fail_all(Error::Reset);
                self.queues_enabled = false;
                if self.link.up {
                    self.link = Link::default();
                    self.report.link_changed = true;
                }
                self.report.reset_detected = true;
                self.aq.mark_down();
                self.life = Life::Recovering(Recovery {
                    attempt: 0,
                    next_at: now.saturating_add(RECOVERY_BACKOFF_US[0]),
                    phase: RecPhase::WaitReset,
                    saw_reset: cause != ResetCause::Impending && cause != ResetCause::PfClose,
                });
            }
            Life::Recovering(mut rec) => {
                // Another reset while handshaking/replaying: start over after a back-off.
                self.fail_all(Error::Reset);
                self.aq.mark_down();
                rec.saw_reset |= cause != ResetCause::Impending && cause != ResetCause::PfClose;
                self.backoff(rec);
            }
            Life::Attaching => {
                self.fail_all(Error::Reset);
            }
            Life::Failed(_) | Life::Detached => {}
        }
    }

    fn backoff(&mut self, mut rec: Recovery) {
        rec.attempt = rec.attempt.saturating_add(1);
        let i = (rec.attempt as usize).min(RECOVERY_BACKOFF_US.len() - 1);
        let d = RECOVERY_BACKOFF_US.get(i).copied().unwrap_or(8_000_000);
        rec.next_at = self.os.now_us().saturating_add(d);
        rec.phase = RecPhase::WaitReset;
        self.life = Life::Recovering(rec);
    }

    /// The time of the next recovery attempt, if recovering (for tests and logs).
    pub fn recovery_next_at(&self) -> Option<u64> {
        match self.life {
            Life::Recovering(r) if r.phase == RecPhase::WaitReset => Some(r.next_at),
            _ => None,
        }
    }

    fn advance_recovery(&mut self) {
        let Life::Recovering(rec) = self.life else {
            return;
        };
        match rec.phase {
            RecPhase::WaitReset => {
                if self.os.now_us() >= rec.next_at {
                    self.recovery_attempt(rec);
                }
            }
            RecPhase::Handshake(t) => match self.poll(t) {
                Poll::Pending => {}
                Poll::Done(Ok(())) => {
                    // The reset restored the PF's defaults (stripping on, no filters
                    // but the default MAC, promisc off): put back what was wanted.
                    self.vlan_strip_acked = true;
                    self.promisc.acked_flags = 0;
                    let mut cmds: CmdList<6> = CmdList::new();
                    cmds.push(Cmd::AddPrimary, false);
                    cmds.push(Cmd::DelStalePrimary, false);
                    cmds.push(Cmd::AddMcStored, false);
                    cmds.push(Cmd::AddVlanStored, false);
                    if !self.vlan_strip && self.res.caps.contains(VfCaps::VLAN) {
                        cmds.push(Cmd::VlanStripping { on: false }, false);
                    }
                    cmds.push(Cmd::Promisc, false);
                    match self.enqueue(cmds.as_slice()) {
                        Ok(t2) => {
                            self.life = Life::Recovering(Recovery {
                                phase: RecPhase::Replay(t2),
                                ..rec
                            });
                        }
                        Err(_) => self.backoff(rec),
                    }
                }
                Poll::Done(Err(e @ Error::ResourcesShrunk { .. })) => {
                    self.counters.recovery_failures += 1;
                    self.log(
                        Level::Error,
                        format_args!("recovery failed: {e}; staying down"),
                    );
                    self.life = Life::Failed(e);
                    self.report.recovery_failed = Some(e);
                }
                Poll::Done(Err(e)) => {
                    self.log(
                        Level::Warn,
                        format_args!("recovery handshake failed: {e}; retrying"),
                    );
                    if rec.attempt >= 1 && self.aq.is_up() {
                        // A PF answers GET_VF_RESOURCES once per reset (i40e gates it on
                        // INIT): if the handshake keeps failing, start from a reset we
                        // request ourselves, as Linux iavf does.
                        let bar = self.os.bar();
                        bar.wr32(regs::VFGEN_RSTAT, regs::VFR_INPROGRESS);
                        let _ = self.aq.send(bar, VcOp::RESET_VF.0, &[]);
                        self.counters.reset_requests += 1;
                    }
                    self.aq.mark_down();
                    self.backoff(rec);
                }
            },
            RecPhase::Replay(t) => match self.poll(t) {
                Poll::Pending => {}
                Poll::Done(_) => {
                    // Replay steps are soft: failures are counted, not fatal.
                    self.life = Life::Running;
                    self.counters.recoveries += 1;
                    self.report.reinit_needed = true;
                    self.log(Level::Info, format_args!("VF reset recovery complete"));
                }
            },
        }
    }

    /// Re-initialise the AQ and send RESET_VF again (RSTAT = INPROGRESS first).
    fn resend_reset_vf(&mut self) {
        self.log(
            Level::Warn,
            format_args!("VF reset requested but never started; sending RESET_VF again"),
        );
        let bar = self.os.bar();
        self.aq.shutdown(bar);
        if self.aq.init(bar).is_ok() {
            bar.wr32(regs::VFGEN_RSTAT, regs::VFR_INPROGRESS);
            if self.aq.send(bar, VcOp::RESET_VF.0, &[]).is_ok() {
                self.counters.reset_requests += 1;
            }
        }
        self.aq.mark_down();
    }

    fn recovery_attempt(&mut self, mut rec: Recovery) {
        self.counters.recovery_attempts += 1;
        let bar = self.os.bar();
        let rstat = bar.rd32(regs::VFGEN_RSTAT);
        let arqlen = bar.rd32(regs::VF_ARQLEN1);
        if !rec.saw_reset {
            if regs::reads_as_reset(arqlen)
                || arqlen & aqlen::ENABLE == 0
                || !regs::rstat_ready(rstat)
            {
                rec.saw_reset = true;
            } else if rec.attempt < IMPENDING_GRACE_STEPS {
                // RESET_IMPENDING announced a reset that has not happened yet.
                self.backoff(rec);
                return;
            }
        }
        if !regs::rstat_ready(rstat) {
            if rec.attempt >= STUCK_REQUEST_STEPS
                && rstat == regs::VFR_INPROGRESS
                && !regs::reads_as_reset(arqlen)
                && arqlen & aqlen::ENABLE != 0
            {
                // RSTAT still holds the INPROGRESS that ravf wrote before RESET_VF,
                // yet the AQ registers were never cleared: no reset happened (the
                // RESET_VF was lost). Ask again instead of waiting forever.
                self.resend_reset_vf();
            }
            self.backoff(rec);
            return;
        }
        self.aq.shutdown(bar);
        if let Err(e) = self.aq.init(self.os.bar()) {
            self.log(Level::Warn, format_args!("AQ re-init failed: {e:?}"));
            self.backoff(rec);
            return;
        }
        if self.admin_irq_on {
            irq::admin_irq_enable(self.os.bar());
        }
        // i40e keeps the version across resets, but resending it costs nothing and
        // protects against a PF that lost its state (hw-contract 8.5 step 9).
        match self.enqueue(&[(Cmd::Version, true), (Cmd::GetVfResources, true)]) {
            Ok(t) => {
                self.life = Life::Recovering(Recovery {
                    phase: RecPhase::Handshake(t),
                    ..rec
                })
            }
            Err(_) => self.backoff(rec),
        }
    }

    fn log(&self, level: Level, args: fmt::Arguments<'_>) {
        self.os.log(level, args);
    }
}

/// Compute the CONFIG_IRQ_MAP entries for `s` into `out`; returns how many.
/// Queue i → vector 1 + (i mod (num_vectors − 1)), rxitr 0, txitr 1, then a final
/// `{vector 0, maps 0}` entry (Linux/FreeBSD). With one vector, every queue goes on
/// vector 0 with NOITR (OpenBSD single-vector mode).
fn irq_map(s: &QueueSetup, vsi: u16, out: &mut [VectorMap]) -> usize {
    let nq = (s.num_queues as usize).min(regs::MAX_QUEUES);
    let entry = |v: u16, map: u16, rxi: u16, txi: u16| VectorMap {
        vsi_id: U16::new(vsi),
        vector_id: U16::new(v),
        rxq_map: U16::new(map),
        txq_map: U16::new(map),
        rxitr_idx: U16::new(rxi),
        txitr_idx: U16::new(txi),
    };
    if s.num_vectors < 2 {
        let all = s.queue_mask() as u16;
        if let Some(e) = out.get_mut(0) {
            *e = entry(0, all, regs::ITR_IDX_NONE, regs::ITR_IDX_NONE);
            return 1;
        }
        return 0;
    }
    let qv = (s.num_vectors as usize - 1).min(regs::MAX_QUEUE_VECTORS);
    let used = qv.min(nq);
    let mut n = 0;
    for v in 0..used {
        let mut map = 0u16;
        for i in 0..nq {
            if i % qv == v {
                map |= 1 << i;
            }
        }
        if let Some(e) = out.get_mut(n) {
            *e = entry(v as u16 + 1, map, regs::ITR_IDX_RX, regs::ITR_IDX_TX);
            n += 1;
        }
    }
    if let Some(e) = out.get_mut(n) {
        *e = entry(0, 0, 0, 0);
        n += 1;
    }
    n
}

fn wait_rstat_ready<O: Os>(os: &O, budget_us: u32, step_us: u32) -> Result<(), Error> {
    let step = step_us.max(1);
    for _ in 0..budget_us / step + 1 {
        if regs::rstat_ready(os.bar().rd32(regs::VFGEN_RSTAT)) {
            return Ok(());
        }
        os.sleep_us(step);
    }
    Err(Error::NotReady)
}

/// Bounded blocking helper for single-threaded users: run the admin task and sleep
/// until `t` completes or `budget_us` passes. Reports produced meanwhile are kept
/// and returned by the next `admin_task`/`timer` call.
pub fn wait<O: Os>(vf: &mut Vf<O>, t: Ticket, budget_us: u32) -> Result<(), Error> {
    let step = vf.cfg.poll_interval_us.max(1);
    let start = vf.os.now_us();
    // Iteration cap too, so a clock that does not advance cannot make this unbounded.
    for _ in 0..budget_us / step + 2 {
        vf.run_admin();
        if let Poll::Done(r) = vf.poll(t) {
            return r;
        }
        if vf.os.now_us().saturating_sub(start) >= budget_us as u64 {
            break;
        }
        vf.os.sleep_us(step);
    }
    vf.run_admin();
    match vf.poll(t) {
        Poll::Done(r) => r,
        Poll::Pending => Err(Error::WaitExpired),
    }
}

#[cfg(test)]
#[path = "vf_tests.rs"]
mod tests;
