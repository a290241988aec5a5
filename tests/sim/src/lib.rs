//! ravf-sim: an emulated Intel Ethernet 700-series PF (X710 class) with SR-IOV VFs.
//!
//! See `docs/emulator.md` for what is emulated, what is not, and the source of
//! each behaviour.
//!
//! [`Sim`] is the seam: the PF with its VFs, as each VF sees it through PCI config
//! space, BAR0 (registers), BAR3 (MSI-X) and DMA. Everything runs synchronously in the
//! caller's thread on virtual time that only [`Sim::advance`] moves.

pub mod aq;
pub mod config;
pub mod dp;
pub mod fault;
pub mod intr;
pub mod mem;
pub mod pci;
pub mod pf;
pub mod regs;
pub mod veb;
pub mod vfio_user;
pub mod violation;
pub mod virtchnl;

use std::collections::VecDeque;
use std::sync::Arc;

pub use config::{ConfigError, IovConfig, VfConfig};
pub use fault::FaultPlan;
pub use pf::{DefaultMacMode, PfFlavor, RetvalStyle};
pub use violation::{PfEvent, ResetCause, Violation, ViolationKind};

use aq::{AdminQueue, ArqMsg, VfMsg};
use dp::{
    DpEvents, RssState, RxDrop, RxMeta, RxOutcome, RxQueue, RxQueueCfg, TxFrames, TxQueue,
    TxQueueCfg,
};
use intr::Interrupts;
use mem::GuestMemory;
use pci::{CfgAction, MsixTable, PciConfig};
use pf::{EthStats, PfOpts, PfVf};
use regs::*;
use veb::{Port, PortFilters, Veb};
use violation::Log;
use virtchnl as vc;

/// Knobs of the emulated PF (contract 9.4 lists why each exists).
#[derive(Clone, Debug)]
pub struct SimOptions {
    /// Uplink state the PF reports (default up, 10000 Mbps).
    pub link_up: bool,
    pub link_speed_mbps: u32,
    /// MSI-X vectors per VF, vector 0 included (default 5; 1..=17).
    pub vectors: u16,
    /// PF virtchnl minor version: 1 (default) or 0.
    pub pf_version_minor: u32,
    pub retval: RetvalStyle,
    pub flavor: PfFlavor,
    pub default_mac: DefaultMacMode,
    /// Seed of the fault plan's generator and of generated MACs.
    pub seed: u64,
    /// PHY max frame size, reported in `max_mtu` by PF-UP (default 9728).
    pub max_frame: u32,
    /// A VF reset reads 0xDEADBEEF from every BAR0 register for this long ...
    pub reset_deadbeef_ns: u64,
    /// ... and completes (VFGEN_RSTAT = VFACTIVE) this long after it started.
    pub reset_ns: u64,
    /// Gap between RESET_IMPENDING and the reset itself for PF-initiated resets.
    pub reset_notice_ns: u64,
    /// DPDK-PF style RSTAT sequence 0 → 1 (COMPLETED) → 2 instead of 0 → 2.
    pub rstat_completed_step: bool,
    /// Give the VF a different VSI id after each reset (whether real PFs do is
    /// UNCONFIRMED; drivers must re-read it).
    pub rotate_vsi_id: bool,
    /// Queue pairs the PF has for all its VFs (REQUEST_QUEUES is bounded by what is left).
    pub queue_pool: u16,
    /// On MDD, reset the VF (with RESET_IMPENDING) instead of only stopping the queue.
    pub mdd_reset: bool,
    /// DMA needs PCI Command.BusMaster (bit 2), as on real hardware: with it clear the
    /// device does no DMA and the attempt is a violation. Off by default only because
    /// some in-tree clients do not set Command yet; the emulator's own tests run with it on.
    pub require_bus_master: bool,
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions {
            link_up: true,
            link_speed_mbps: 10_000,
            vectors: config::DEFAULT_VECTORS,
            pf_version_minor: 1,
            retval: RetvalStyle::Virtchnl,
            flavor: PfFlavor::Upstream,
            default_mac: DefaultMacMode::I40eRule,
            seed: 0x5eed,
            max_frame: 9728,
            reset_deadbeef_ns: 50_000,
            reset_ns: 2_000_000,
            reset_notice_ns: 50_000,
            rstat_completed_step: false,
            rotate_vsi_id: false,
            queue_pool: 128,
            mdd_reset: false,
            require_bus_master: false,
        }
    }
}

/// Counters of one VF, cumulative since the Sim was created (they survive resets;
/// GET_STATS reports the VSI's counters since the last reset).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VfCounters {
    pub tx_frames: u64,
    pub tx_bytes: u64,
    pub tx_unicast: u64,
    pub tx_multicast: u64,
    pub tx_broadcast: u64,
    /// Packets taken from TX rings (a TSO packet counts once).
    pub tx_packets: u64,
    pub tx_descs: u64,
    pub tso_ctx: u64,
    pub tso_segments: u64,
    /// Checksum insertions asked for by non-TSO packets: one per IPv4 header checksum
    /// (IIPT = 3) and one per L4 checksum (L4T), so a TCP/IPv4 packet counts twice.
    pub csum_req: u64,
    pub tx_completions: u64,
    pub vlan_inserted: u64,
    /// Frames the VEB dropped for a foreign source MAC (mac-anti-spoof).
    pub spoof_drops: u64,
    /// All TX frames dropped by the switch (spoof drops included).
    pub tx_discards: u64,
    pub rx_frames: u64,
    pub rx_bytes: u64,
    pub rx_unicast: u64,
    pub rx_multicast: u64,
    pub rx_broadcast: u64,
    /// Frames for this VF dropped because no RX descriptor was posted.
    pub rx_no_desc: u64,
    /// All frames for this VF dropped at RX (rx_no_desc included).
    pub rx_discards: u64,
    pub rx_corrupted: u64,
    pub vlan_stripped: u64,
    pub rss_hashed: u64,
    pub mdd: u64,
    pub resets: u64,
    /// Interrupts delivered (all vectors).
    pub irqs: u64,
    /// virtchnl requests received and replies/events sent.
    pub vc_requests: u64,
    pub vc_sent: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ResetPhase {
    Idle,
    /// RESET_IMPENDING sent; the reset starts at `at`.
    Notice {
        at: u64,
        cause: ResetCause,
    },
    /// Registers read 0xDEADBEEF until `until`; the reset completes at `done`.
    Deadbeef {
        until: u64,
        done: u64,
    },
    /// RSTAT reads 0 (INPROGRESS), AQ registers cleared; completes at `done`.
    InProgress {
        done: u64,
    },
    /// DPDK-style: RSTAT reads 1 (COMPLETED) until `at`, then 2.
    Completed {
        at: u64,
    },
}

struct Vf {
    id: usize,
    mem: Option<Arc<dyn GuestMemory>>,
    pci: PciConfig,
    msix: MsixTable,
    aq: AdminQueue,
    intr: Interrupts,
    icr01: u32,
    icr0_ena1: u32,
    stat_ctl01: u32,
    rstat: u32,
    hregion: [u32; 8],
    rss: RssState,
    txq: Vec<Option<TxQueue>>,
    rxq: Vec<Option<RxQueue>>,
    tx_tail: [u32; 16],
    rx_tail: [u32; 16],
    pf: PfVf,
    phase: ResetPhase,
    counters: VfCounters,
    /// VSI counters at the last reset (GET_STATS reports the difference).
    stats_base: EthStats,
    irq_out: u32,
    resets: u64,
    /// A DMA attempt without bus mastering was reported since BME was last set.
    bme_warned: bool,
}

impl Vf {
    fn eth_stats(&self) -> EthStats {
        let c = &self.counters;
        EthStats {
            rx_bytes: c.rx_bytes,
            rx_unicast: c.rx_unicast,
            rx_multicast: c.rx_multicast,
            rx_broadcast: c.rx_broadcast,
            rx_discards: c.rx_discards,
            rx_unknown_protocol: 0,
            tx_bytes: c.tx_bytes,
            tx_unicast: c.tx_unicast,
            tx_multicast: c.tx_multicast,
            tx_broadcast: c.tx_broadcast,
            tx_discards: c.tx_discards,
            tx_errors: 0,
        }
    }

    fn in_reset_hw(&self) -> bool {
        matches!(self.phase, ResetPhase::Deadbeef { .. })
    }

    fn resetting(&self) -> bool {
        matches!(
            self.phase,
            ResetPhase::Deadbeef { .. } | ResetPhase::InProgress { .. }
        )
    }

    /// This VF's switch port as the PF has programmed it, written into `f` (whose
    /// vectors are reused: the TX path rebuilds the port list per batch without
    /// allocating once they have grown).
    fn fill_filters(&self, f: &mut PortFilters) {
        f.vf = self.id as u16;
        f.unicast.clear();
        f.unicast
            .extend(self.pf.macs.iter().filter(|m| !pf::is_multicast(m)));
        f.multicast.clear();
        f.multicast.extend(
            self.pf
                .macs
                .iter()
                .filter(|m| pf::is_multicast(m) && **m != pf::BROADCAST),
        );
        f.vlans.clear();
        f.vlans.extend_from_slice(&self.pf.vlans);
        f.unicast_promisc = self.pf.uc_promisc;
        f.multicast_promisc = self.pf.mc_promisc;
        f.spoofchk = self.pf.cfg.mac_anti_spoof;
        f.vlan_spoofchk = false;
        f.up = self.pf.active && !self.resetting();
    }
}

/// The emulated PF with its VFs.
pub struct Sim {
    opts: SimOptions,
    cfg: IovConfig,
    now: u64,
    vfs: Vec<Vf>,
    log: Log,
    faults: FaultPlan,
    link_up: bool,
    link_speed: u32,
    /// (time, speed) at which a flapped link comes back up.
    link_restore: Option<(u64, u32)>,
    /// Replies held back by the fault plan: (due time, VF, message).
    delayed: Vec<(u64, usize, ArqMsg)>,
    veb: Veb,
    uplink_out: VecDeque<Vec<u8>>,
    frames: TxFrames,
    dpev: DpEvents,
    /// Scratch for switching (rebuilt per TX batch, kept for its allocations): the
    /// VF ports' filters and one frame's destinations.
    ports: Vec<PortFilters>,
    dests: Vec<Port>,
    /// RX queues written during the current TX batch whose interrupt cause is not yet
    /// raised: (VF, queue, frames written, capped at 2). See [`Sim::raise_rx_causes`].
    rx_causes: Vec<(usize, usize, u8)>,
}

fn cast_of(frame: &[u8]) -> u8 {
    match frame.first() {
        Some(_) if frame.len() >= 6 && frame[..6] == [0xFF; 6] => 2,
        Some(b) if b & 1 != 0 => 1,
        _ => 0,
    }
}

const UPLINK_CAP: usize = 4096;

impl Sim {
    pub fn new(cfg: config::IovConfig, opts: SimOptions) -> Sim {
        let mut opts = opts;
        opts.vectors = opts.vectors.clamp(1, pci::MSIX_MAX_VECTORS);
        let vfs = cfg
            .vfs
            .iter()
            .enumerate()
            .map(|(i, c)| Vf {
                id: i,
                mem: None,
                pci: PciConfig::new(opts.vectors),
                msix: MsixTable::new(opts.vectors),
                aq: AdminQueue::default(),
                intr: Interrupts::default(),
                icr01: 0,
                icr0_ena1: 0,
                stat_ctl01: 0,
                rstat: vc::VFR_VFACTIVE,
                hregion: [0; 8],
                rss: RssState::default(),
                txq: (0..16).map(|_| None).collect(),
                rxq: (0..16).map(|_| None).collect(),
                tx_tail: [0; 16],
                rx_tail: [0; 16],
                pf: PfVf::new(i, c.clone(), opts.seed),
                phase: ResetPhase::Idle,
                counters: VfCounters::default(),
                stats_base: EthStats::default(),
                irq_out: 0,
                resets: 0,
                bme_warned: false,
            })
            .collect();
        let mut s = Sim {
            faults: FaultPlan::new(opts.seed),
            link_up: opts.link_up,
            link_speed: opts.link_speed_mbps,
            opts,
            cfg,
            now: 0,
            vfs,
            log: Log::default(),
            link_restore: None,
            delayed: Vec::new(),
            veb: Veb::new(),
            uplink_out: VecDeque::new(),
            frames: TxFrames::new(),
            dpev: DpEvents::default(),
            ports: Vec::new(),
            dests: Vec::new(),
            rx_causes: Vec::new(),
        };
        // Every VF starts as after the PF's initial reset of it (ixl_if_iov_vf_add).
        for i in 0..s.vfs.len() {
            let id = s.vsi_id_for(i);
            let mode = s.opts.default_mac;
            s.vfs[i].pf.reset_complete(mode, id);
        }
        s
    }

    pub fn from_config_str(text: &str, opts: SimOptions) -> Result<Sim, config::ConfigError> {
        let cfg = config::parse_with_vectors(text, opts.vectors)?;
        Ok(Sim::new(cfg, opts))
    }

    pub fn num_vfs(&self) -> usize {
        self.vfs.len()
    }

    pub fn config(&self) -> &IovConfig {
        &self.cfg
    }

    pub fn options(&self) -> &SimOptions {
        &self.opts
    }

    pub fn attach_memory(&mut self, vf: usize, mem: Arc<dyn GuestMemory>) {
        if let Some(v) = self.vfs.get_mut(vf) {
            v.mem = Some(mem);
        }
    }

    fn vsi_id_for(&self, vf: usize) -> u16 {
        // i40e VSI ids are PF-wide indexes; the emulator numbers VF VSIs from 8.
        let base = (vf as u16).wrapping_add(8);
        if self.opts.rotate_vsi_id {
            let r = self.vfs.get(vf).map(|v| v.resets).unwrap_or(0);
            base.wrapping_add((r as u16 % 16).wrapping_mul(self.vfs.len() as u16))
        } else {
            base
        }
    }

    // ------------------------------------------------------------------ BARs

    pub fn bar_read(&mut self, vf: usize, bar: u8, off: u64, width: u8) -> u32 {
        if vf >= self.vfs.len() {
            return 0xFFFF_FFFF;
        }
        if width != 4 || off % 4 != 0 {
            self.log.violation(
                vf,
                ViolationKind::BadWidth,
                format!("BAR{bar} read at {off:#x} width {width}: the VF registers take aligned 32-bit accesses only"),
            );
            return 0xFFFF_FFFF;
        }
        match bar {
            0 if off < BAR0_SIZE => self.bar0_read(vf, off),
            3 if off < BAR3_SIZE => self.bar3_read(vf, off),
            _ => {
                self.log.violation(
                    vf,
                    ViolationKind::UndefinedRegister,
                    format!("read of BAR{bar} offset {off:#x}"),
                );
                0xFFFF_FFFF
            }
        }
    }

    pub fn bar_write(&mut self, vf: usize, bar: u8, off: u64, width: u8, val: u32) {
        if vf >= self.vfs.len() {
            return;
        }
        if width != 4 || off % 4 != 0 {
            self.log.violation(
                vf,
                ViolationKind::BadWidth,
                format!("BAR{bar} write at {off:#x} width {width}: the VF registers take aligned 32-bit accesses only"),
            );
            return;
        }
        match bar {
            0 if off < BAR0_SIZE => self.bar0_write(vf, off, val),
            3 if off < BAR3_SIZE => self.bar3_write(vf, off, val),
            _ => self.log.violation(
                vf,
                ViolationKind::UndefinedRegister,
                format!("write of {val:#x} to BAR{bar} offset {off:#x}"),
            ),
        }
    }

    fn bar0_read(&mut self, vf: usize, off: u64) -> u32 {
        let v = &mut self.vfs[vf];
        if v.in_reset_hw() {
            // VC-UP: "reads the register while the hardware is in a reset state, it will return DEADBEEF".
            return 0xDEAD_BEEF;
        }
        match decode(off) {
            Reg::QtxTail(q) => v.tx_tail[q as usize],
            Reg::QrxTail(q) => v.rx_tail[q as usize],
            Reg::ItrN { idx, v: n } => v.intr.read_itr(n as usize + 1, idx as usize),
            Reg::DynCtlN(n) => v.intr.read_dyn_ctl(n as usize + 1),
            Reg::Icr01 => std::mem::take(&mut v.icr01), // read-to-clear (contract 2.4)
            Reg::Itr01(i) => v.intr.read_itr(0, i as usize),
            Reg::Icr0Ena1 => v.icr0_ena1,
            Reg::StatCtl01 => v.stat_ctl01,
            Reg::DynCtl01 => v.intr.read_dyn_ctl(0),
            Reg::ArqBah => v.aq.arq_bah,
            Reg::AtqH => v.aq.atq_h,
            Reg::AtqLen => v.aq.atq_len,
            Reg::ArqBal => v.aq.arq_bal,
            Reg::ArqT => v.aq.arq_t,
            Reg::ArqH => v.aq.arq_h,
            Reg::AtqBah => v.aq.atq_bah,
            Reg::AtqBal => v.aq.atq_bal,
            Reg::ArqLen => v.aq.arq_len,
            Reg::AtqT => v.aq.atq_t,
            Reg::Rstat => match v.phase {
                ResetPhase::InProgress { .. } => vc::VFR_INPROGRESS,
                ResetPhase::Completed { .. } => vc::VFR_COMPLETED,
                _ => v.rstat,
            },
            Reg::Hena(i) => (v.rss.hena >> (32 * i as u32)) as u32,
            Reg::Hkey(i) => {
                let o = 4 * i as usize;
                u32::from_le_bytes([
                    v.rss.key[o],
                    v.rss.key[o + 1],
                    v.rss.key[o + 2],
                    v.rss.key[o + 3],
                ])
            }
            Reg::Hlut(i) => {
                let o = 4 * i as usize;
                u32::from_le_bytes([
                    v.rss.lut[o],
                    v.rss.lut[o + 1],
                    v.rss.lut[o + 2],
                    v.rss.lut[o + 3],
                ]) & 0x0F0F_0F0F
            }
            Reg::Hregion(i) => v.hregion[i as usize],
            Reg::PeErrInfo | Reg::PeErrData => 0,
            Reg::LinuxOverWrite => {
                self.log.event(PfEvent::Note {
                    vf,
                    detail: format!("read of {off:#x} (one past HKEY/HLUT) reads 0"),
                });
                0
            }
            Reg::Undefined => {
                self.log.violation(
                    vf,
                    ViolationKind::UndefinedRegister,
                    format!("read of BAR0 offset {off:#x}"),
                );
                0
            }
        }
    }

    fn bar0_write(&mut self, vf: usize, off: u64, val: u32) {
        if self.vfs[vf].in_reset_hw() {
            return; // the function is in reset: writes are lost
        }
        let now = self.now;
        let reg = decode(off);
        match reg {
            Reg::QtxTail(q) | Reg::QrxTail(q) => {
                let is_tx = matches!(reg, Reg::QtxTail(_));
                let v = &mut self.vfs[vf];
                if q >= v.pf.alloc_qp {
                    self.log.violation(
                        vf,
                        ViolationKind::BadRegisterValue,
                        format!(
                            "{} tail write to queue {q}, which is not allocated to the VF ({} pairs)",
                            if is_tx { "TX" } else { "RX" },
                            v.pf.alloc_qp
                        ),
                    );
                    return;
                }
                if val & !TAIL_MASK != 0 {
                    self.log.violation(
                        vf,
                        ViolationKind::BadRegisterValue,
                        format!("tail value {val:#x} has bits above the 13-bit TAIL field"),
                    );
                }
                let qi = q as usize;
                if is_tx {
                    v.tx_tail[qi] = val & TAIL_MASK;
                    if let Some(t) = v.txq[qi].as_mut() {
                        t.set_tail(val);
                    }
                    self.run_tx(vf, qi);
                } else {
                    v.rx_tail[qi] = val & TAIL_MASK;
                    if let Some(r) = v.rxq[qi].as_mut() {
                        r.set_tail(val);
                    }
                }
            }
            Reg::ItrN { idx, v: n } => self.vfs[vf].intr.write_itr(n as usize + 1, idx as usize, val),
            Reg::Itr01(i) => self.vfs[vf].intr.write_itr(0, i as usize, val),
            Reg::DynCtlN(_) | Reg::DynCtl01 => {
                let vec = if let Reg::DynCtlN(n) = reg { n as usize + 1 } else { 0 };
                let v = &mut self.vfs[vf];
                if val & DYN_CTL_WB_ON_ITR != 0 && v.pf.caps & vc::VF_OFFLOAD_WB_ON_ITR == 0 {
                    self.log.violation(
                        vf,
                        ViolationKind::VirtchnlUnsupported,
                        format!("WB_ON_ITR written to vector {vec} without the granted capability"),
                    );
                }
                v.intr.write_dyn_ctl(vec, val, now);
                if val & DYN_CTL_SWINT_TRIG != 0 {
                    // Contract 7.2 RECOMMENDATION: a software interrupt forces pending
                    // descriptor write-backs of the vector's queues.
                    self.flush_tx_on_vector(vf, vec as u8);
                }
                self.service_irqs(vf);
            }
            Reg::Icr01 => self.log.violation(vf, ViolationKind::ReadOnlyRegister, "write to VFINT_ICR01 (read-to-clear)"),
            Reg::Icr0Ena1 => {
                let v = &mut self.vfs[vf];
                let was = v.icr0_ena1;
                v.icr0_ena1 = val & ICR0_ENA1_WRITABLE;
                // A latched ADMINQ cause becomes an interrupt once it is enabled again.
                if was & ICR01_ADMINQ == 0 && v.icr0_ena1 & ICR01_ADMINQ != 0 && v.icr01 & ICR01_ADMINQ != 0 {
                    let idx = ((v.stat_ctl01 >> 2) & 3) as u8;
                    v.intr.cause(0, idx, now);
                    self.service_irqs(vf);
                }
            }
            Reg::StatCtl01 => self.vfs[vf].stat_ctl01 = val & 0xC,
            Reg::ArqBah => self.vfs[vf].aq.arq_bah = val,
            Reg::ArqBal => self.vfs[vf].aq.arq_bal = val,
            Reg::AtqBah => self.vfs[vf].aq.atq_bah = val,
            Reg::AtqBal => self.vfs[vf].aq.atq_bal = val,
            Reg::AtqH | Reg::ArqH => {
                if val != 0 {
                    self.log.violation(
                        vf,
                        ViolationKind::BadRegisterValue,
                        format!("{:?} written with {val:#x}: the head is the hardware's (drivers write only 0)", reg),
                    );
                }
                let v = &mut self.vfs[vf];
                if reg == Reg::AtqH {
                    v.aq.atq_h = val & AQ_PTR_MASK;
                } else {
                    v.aq.arq_h = val & AQ_PTR_MASK;
                }
            }
            Reg::AtqLen => self.vfs[vf].aq.write_atq_len(val),
            Reg::ArqLen => {
                self.vfs[vf].aq.write_arq_len(val);
                self.deliver_arq(vf);
            }
            Reg::AtqT => {
                if val & !AQ_PTR_MASK != 0 {
                    self.log.violation(vf, ViolationKind::BadRegisterValue, format!("ATQT {val:#x} beyond 10 bits"));
                }
                self.vfs[vf].aq.atq_t = val & AQ_PTR_MASK;
                self.process_atq(vf);
            }
            Reg::ArqT => {
                if val & !AQ_PTR_MASK != 0 {
                    self.log.violation(vf, ViolationKind::BadRegisterValue, format!("ARQT {val:#x} beyond 10 bits"));
                }
                self.vfs[vf].aq.arq_t = val & AQ_PTR_MASK;
                self.deliver_arq(vf);
            }
            Reg::Rstat => {
                // FreeBSD writes INPROGRESS before RESET_VF (contract 2.2): accepted.
                let v = &mut self.vfs[vf];
                if v.phase == ResetPhase::Idle {
                    v.rstat = val & 3;
                }
            }
            Reg::Hena(i) => {
                let v = &mut self.vfs[vf];
                let sh = 32 * i as u32;
                v.rss.hena = (v.rss.hena & !(0xFFFF_FFFFu64 << sh)) | (val as u64) << sh;
            }
            Reg::Hkey(i) => {
                let o = 4 * i as usize;
                self.vfs[vf].rss.key[o..o + 4].copy_from_slice(&val.to_le_bytes());
            }
            Reg::Hlut(i) => {
                let o = 4 * i as usize;
                let b = (val & 0x0F0F_0F0F).to_le_bytes();
                self.vfs[vf].rss.lut[o..o + 4].copy_from_slice(&b);
            }
            Reg::Hregion(i) => self.vfs[vf].hregion[i as usize] = val,
            Reg::PeErrInfo | Reg::PeErrData => self.log.violation(
                vf,
                ViolationKind::ReadOnlyRegister,
                format!("write to iWARP error register {off:#x}"),
            ),
            Reg::LinuxOverWrite => self.log.event(PfEvent::Note {
                vf,
                detail: format!(
                    "write of {val:#x} to {off:#x}, one dword past VFQF_HKEY/HLUT (the Linux iavf loop does this); ignored"
                ),
            }),
            Reg::Undefined => self.log.violation(
                vf,
                ViolationKind::UndefinedRegister,
                format!("write of {val:#x} to BAR0 offset {off:#x}"),
            ),
        }
    }

    fn bar3_read(&mut self, vf: usize, off: u64) -> u32 {
        let v = &self.vfs[vf];
        let tlen = v.msix.len() as u64 * 16;
        if off < tlen {
            return v.msix.read(off).unwrap_or(0);
        }
        if off == pci::MSIX_PBA_OFF {
            let mask = (1u64 << v.msix.len()) - 1;
            return (v.intr.pending_mask() as u64 & mask) as u32;
        }
        if off == pci::MSIX_PBA_OFF + 4 {
            return 0;
        }
        self.log.violation(
            vf,
            ViolationKind::Msix,
            format!(
                "BAR3 read at {off:#x}: outside the MSI-X table ({} entries) and PBA",
                v.msix.len()
            ),
        );
        0
    }

    fn bar3_write(&mut self, vf: usize, off: u64, val: u32) {
        let tlen = self.vfs[vf].msix.len() as u64 * 16;
        if off < tlen {
            self.vfs[vf].msix.write(off, val);
            if off % 16 == 12 {
                self.service_irqs(vf); // an unmask may release a pending vector
            }
            return;
        }
        if off == pci::MSIX_PBA_OFF || off == pci::MSIX_PBA_OFF + 4 {
            self.log.violation(
                vf,
                ViolationKind::Msix,
                "write to the MSI-X PBA (read-only)",
            );
            return;
        }
        self.log.violation(
            vf,
            ViolationKind::Msix,
            format!(
                "BAR3 write of {val:#x} at {off:#x}: outside the MSI-X table ({} entries) and PBA",
                tlen / 16
            ),
        );
    }

    // ------------------------------------------------------------------ config space

    pub fn cfg_read(&mut self, vf: usize, off: u16, width: u8) -> u32 {
        let Some(v) = self.vfs.get(vf) else {
            return 0xFFFF_FFFF;
        };
        if !PciConfig::access_ok(off, width) {
            self.log.violation(
                vf,
                ViolationKind::BadWidth,
                format!("config read at {off:#x} width {width}"),
            );
            return 0xFFFF_FFFF;
        }
        v.pci.read(off, width)
    }

    pub fn cfg_write(&mut self, vf: usize, off: u16, width: u8, val: u32) {
        if vf >= self.vfs.len() {
            return;
        }
        if !PciConfig::access_ok(off, width) {
            self.log.violation(
                vf,
                ViolationKind::BadWidth,
                format!("config write at {off:#x} width {width}"),
            );
            return;
        }
        let bme_before = self.vfs[vf].pci.bus_master();
        let act = self.vfs[vf].pci.write(off, width, val);
        if act == CfgAction::Flr {
            self.flr(vf);
            return;
        }
        if !bme_before && self.vfs[vf].pci.bus_master() {
            // DMA possible again: messages that waited can be delivered.
            self.vfs[vf].bme_warned = false;
            self.deliver_arq(vf);
        }
        // MSI-X enable / function mask changes may release pending vectors.
        self.service_irqs(vf);
    }

    pub fn flr(&mut self, vf: usize) {
        let Some(v) = self.vfs.get_mut(vf) else {
            return;
        };
        v.pci.reset();
        v.msix.reset();
        self.reset_vf(vf, ResetCause::Flr, false);
    }

    // ------------------------------------------------------------------ time

    pub fn now_ns(&self) -> u64 {
        self.now
    }

    fn next_timer(&self) -> Option<u64> {
        let mut t: Option<u64> = None;
        let mut put = |x: u64| t = Some(t.map_or(x, |y: u64| y.min(x)));
        for v in &self.vfs {
            match v.phase {
                ResetPhase::Idle => {}
                ResetPhase::Notice { at, .. } => put(at),
                ResetPhase::Deadbeef { until, .. } => put(until),
                ResetPhase::InProgress { done } => put(done),
                ResetPhase::Completed { at } => put(at),
            }
            if let Some(d) = v.intr.next_due(self.now) {
                put(d);
            }
        }
        for (d, _, _) in &self.delayed {
            put(*d);
        }
        if let Some(d) = self.faults.next_due() {
            put(d);
        }
        if let Some((d, _)) = self.link_restore {
            put(d);
        }
        for &(_, until) in &self.faults.tx_stall_until {
            if until > self.now {
                put(until);
            }
        }
        t
    }

    pub fn advance(&mut self, ns: u64) {
        let target = self.now.saturating_add(ns);
        let mut guard = 0u32;
        while let Some(t) = self.next_timer() {
            if t > target || guard > 100_000 {
                break;
            }
            guard += 1;
            let stalled_before: Vec<usize> = (0..self.vfs.len())
                .filter(|&i| self.faults.tx_stalled(i, self.now))
                .collect();
            self.now = self.now.max(t);
            self.run_timers(&stalled_before);
        }
        let stalled_before: Vec<usize> = (0..self.vfs.len())
            .filter(|&i| self.faults.tx_stalled(i, self.now))
            .collect();
        self.now = target;
        self.run_timers(&stalled_before);
    }

    fn run_timers(&mut self, stalled_before: &[usize]) {
        let now = self.now;
        for i in 0..self.vfs.len() {
            loop {
                match self.vfs[i].phase {
                    ResetPhase::Notice { at, cause } if at <= now => {
                        let _ = cause;
                        self.start_reset(i);
                    }
                    ResetPhase::Deadbeef { until, done } if until <= now => {
                        self.vfs[i].phase = ResetPhase::InProgress { done };
                    }
                    ResetPhase::InProgress { done } if done <= now => self.complete_reset(i),
                    ResetPhase::Completed { at } if at <= now => {
                        self.vfs[i].phase = ResetPhase::Idle;
                        self.vfs[i].rstat = vc::VFR_VFACTIVE;
                    }
                    _ => break,
                }
            }
        }
        // Delayed replies in due order.
        let mut due: Vec<(u64, usize, ArqMsg)> = Vec::new();
        let mut k = 0;
        while k < self.delayed.len() {
            if self.delayed[k].0 <= now {
                due.push(self.delayed.remove(k));
            } else {
                k += 1;
            }
        }
        due.sort_by_key(|(t, _, _)| *t);
        for (_, vf, m) in due {
            self.send_now(vf, m);
        }
        for (_, a) in self.faults.take_due(now) {
            match a {
                fault::TimedFault::ResetVf(vf) if vf < self.vfs.len() => {
                    self.log.event(PfEvent::Fault {
                        vf,
                        detail: format!("timed reset at {now} ns"),
                    });
                    self.reset_vf(vf, ResetCause::PfInitiated, true);
                }
                fault::TimedFault::ResetPf => self.pf_reset(),
                fault::TimedFault::LinkFlap { down_ns } => {
                    let speed = self.link_speed;
                    self.set_link(false, speed);
                    self.link_restore = Some((now.saturating_add(down_ns), speed));
                }
                fault::TimedFault::Link { up, speed_mbps } => self.set_link(up, speed_mbps),
                _ => {}
            }
        }
        if let Some((t, speed)) = self.link_restore {
            if t <= now {
                self.link_restore = None;
                self.set_link(true, speed);
            }
        }
        // TX stalls that ended: flush the withheld completions.
        for &vf in stalled_before {
            if !self.faults.tx_stalled(vf, now) {
                for q in 0..16 {
                    self.flush_tx(vf, q);
                }
            }
        }
        for i in 0..self.vfs.len() {
            self.service_irqs(i);
        }
    }

    // ------------------------------------------------------------------ interrupts

    pub fn take_irqs(&mut self, vf: usize) -> u32 {
        self.vfs
            .get_mut(vf)
            .map(|v| std::mem::take(&mut v.irq_out))
            .unwrap_or(0)
    }

    fn service_irqs(&mut self, vf: usize) {
        let now = self.now;
        let v = &mut self.vfs[vf];
        let (pci, msix) = (&v.pci, &v.msix);
        let ok = pci.msix_enabled() && !pci.msix_function_masked();
        let fired = v
            .intr
            .fire_ready(now, |n| ok && n < msix.len() && !msix.masked(n));
        v.irq_out |= fired;
        v.counters.irqs += fired.count_ones() as u64;
    }

    /// A queue cause (RX write-back or TX completion) of queue `q`.
    fn queue_cause(&mut self, vf: usize, q: usize, rx: bool) {
        let now = self.now;
        let v = &mut self.vfs[vf];
        let map = if rx { v.pf.rx_irq[q] } else { v.pf.tx_irq[q] };
        if let Some((vec, itr)) = map {
            if vec == 0 {
                v.icr01 |= ICR01_QUEUE_0; // contract 2.4: queue causes on vector 0 → QUEUE_0
            }
            v.intr.cause(vec as usize, itr, now);
            self.service_irqs(vf);
        }
    }

    // ------------------------------------------------------------------ admin queue

    /// The VF's DMA view, if it may DMA now (memory attached; bus mastering enabled
    /// when `require_bus_master`). A blocked attempt is reported once per BME episode.
    fn dma(&mut self, vf: usize, what: &str) -> Option<Arc<dyn GuestMemory>> {
        if !self.dma_ok(vf, what) {
            return None;
        }
        self.vfs[vf].mem.clone()
    }

    /// Whether `vf` may DMA now (see [`dma`](Self::dma)); reports why not.
    #[inline]
    fn dma_ok(&mut self, vf: usize, what: &str) -> bool {
        let v = &self.vfs[vf];
        if (!self.opts.require_bus_master || v.pci.bus_master()) && v.mem.is_some() {
            return true;
        }
        self.dma_refused(vf, what)
    }

    /// The slow path of [`dma_ok`](Self::dma_ok): report and refuse.
    #[cold]
    #[inline(never)]
    fn dma_refused(&mut self, vf: usize, what: &str) -> bool {
        let v = &mut self.vfs[vf];
        if self.opts.require_bus_master && !v.pci.bus_master() {
            if !v.bme_warned {
                v.bme_warned = true;
                self.log.violation(
                    vf,
                    ViolationKind::DmaFault,
                    format!("{what}: DMA with PCI Command.BusMaster clear (the device cannot master the bus)"),
                );
            }
            return false;
        }
        if v.mem.is_none() {
            self.log.violation(
                vf,
                ViolationKind::DmaFault,
                format!("{what}: no guest memory attached"),
            );
            return false;
        }
        true
    }

    fn process_atq(&mut self, vf: usize) {
        loop {
            if self.vfs[vf].aq.atq_h == self.vfs[vf].aq.atq_t {
                break;
            }
            let Some(mem) = self.dma(vf, "admin send queue") else {
                break;
            };
            let v = &mut self.vfs[vf];
            let mem = Some(mem);
            let Some(item) = v.aq.next_atq(mem.as_deref(), vf, &mut self.log) else {
                break;
            };
            if let Some(msg) = item {
                self.pf_message(vf, msg);
            }
        }
    }

    fn deliver_arq(&mut self, vf: usize) {
        let now = self.now;
        let v = &self.vfs[vf];
        if v.aq.backlog.is_empty() || !v.aq.arq_enabled() || v.aq.arq_h == v.aq.arq_t {
            return;
        }
        let Some(mem) = self.dma(vf, "admin receive queue") else {
            return;
        };
        let v = &mut self.vfs[vf];
        let mem = Some(mem);
        let n = v.aq.deliver(mem.as_deref(), vf, &mut self.log);
        if n > 0 {
            v.icr01 |= ICR01_ADMINQ;
            if v.icr0_ena1 & ICR01_ADMINQ != 0 {
                let idx = ((v.stat_ctl01 >> 2) & 3) as u8;
                v.intr.cause(0, idx, now);
            }
            self.service_irqs(vf);
        }
    }

    /// Post a PF→VF message now (no faults).
    fn send_now(&mut self, vf: usize, m: ArqMsg) {
        let v = &mut self.vfs[vf];
        if !v.aq.arq_enabled() {
            self.log.event(PfEvent::Dropped {
                vf,
                opcode: m.v_opcode,
                reason: "the VF's ARQ is not enabled: firmware cannot deliver the message".into(),
            });
            return;
        }
        let (op, rv, len) = (m.v_opcode, m.v_retval, m.payload.len());
        if v.aq.post(m) {
            v.counters.vc_sent += 1;
            self.log.event(PfEvent::Sent {
                vf,
                opcode: op,
                retval: rv,
                len,
            });
        } else {
            self.log.event(PfEvent::ArqOverflow { vf, opcode: op });
        }
        self.deliver_arq(vf);
    }

    fn send_event(&mut self, vf: usize, payload: Vec<u8>) {
        self.send_now(
            vf,
            ArqMsg {
                v_opcode: vc::OP_EVENT,
                v_retval: 0,
                payload,
            },
        );
    }

    fn send_link_event(&mut self, vf: usize) {
        let (up, speed) = (self.link_up, self.link_speed);
        let adv = self.vfs[vf].pf.driver_caps & vc::VF_CAP_ADV_LINK_SPEED != 0;
        let mut b = vec![0u8; vc::pf_event::SIZE];
        vc::wr_u32(&mut b, vc::pf_event::event, vc::EVENT_LINK_CHANGE);
        let s = match (up, adv) {
            (false, _) => 0,
            (true, true) => speed,
            (true, false) => vc::legacy_link_speed(speed),
        };
        vc::wr_u32(&mut b, vc::pf_event::event_data, s);
        b[vc::pf_event::event_data + 4] = up as u8;
        vc::wr_u32(&mut b, vc::pf_event::severity, vc::PF_EVENT_SEVERITY_INFO);
        self.log.event(PfEvent::LinkChange {
            vf,
            up,
            speed_mbps: if up { speed } else { 0 },
            advanced: adv,
        });
        self.send_event(vf, b);
    }

    fn send_reset_impending(&mut self, vf: usize) {
        let mut b = vec![0u8; vc::pf_event::SIZE];
        vc::wr_u32(&mut b, vc::pf_event::event, vc::EVENT_RESET_IMPENDING);
        vc::wr_u32(
            &mut b,
            vc::pf_event::severity,
            vc::PF_EVENT_SEVERITY_CERTAIN_DOOM,
        );
        self.log.event(PfEvent::ResetImpending { vf });
        self.send_event(vf, b);
    }

    fn pf_message(&mut self, vf: usize, msg: VfMsg) {
        let op = msg.v_opcode;
        self.vfs[vf].counters.vc_requests += 1;
        let count = self.vfs[vf].pf.msg_count.get(&op).copied().unwrap_or(0) + 1;
        let faults = self.faults.reply_faults(vf, op, count);
        if let Some(st) = faults.iter().find_map(|f| {
            if let fault::ReplyFault::Refuse(s) = f {
                Some(*s)
            } else {
                None
            }
        }) {
            *self.vfs[vf].pf.msg_count.entry(op).or_insert(0) += 1;
            self.log.event(PfEvent::Fault {
                vf,
                detail: format!("{} refused by the fault plan", vc::op_name(op)),
            });
            self.log.event(PfEvent::Refused {
                vf,
                opcode: op,
                status: st,
                reason: "fault plan".into(),
            });
            self.send_now(
                vf,
                ArqMsg {
                    v_opcode: op,
                    v_retval: st,
                    payload: Vec::new(),
                },
            );
            return;
        }
        let queues_left = {
            let used: u32 = self.vfs.iter().map(|v| v.pf.alloc_qp as u32).sum();
            (self.opts.queue_pool as u32)
                .saturating_sub(used)
                .min(u16::MAX as u32) as u16
        };
        let o = PfOpts {
            retval: self.opts.retval,
            flavor: self.opts.flavor,
            pf_minor: self.opts.pf_version_minor,
            default_mac: self.opts.default_mac,
            max_frame: self.opts.max_frame,
            vectors: self.opts.vectors,
            num_vfs: self.vfs.len(),
        };
        let v = &mut self.vfs[vf];
        let stats = v.eth_stats().minus(&v.stats_base);
        let out =
            v.pf.handle(&o, op, &msg.payload, &mut v.rss, stats, queues_left);
        if let Some(r) = &out.refusal {
            let status = out.reply.as_ref().map(|x| x.0).unwrap_or(0);
            if let Some(k) = r.violation {
                self.log.violation(
                    vf,
                    k,
                    format!("{} refused ({status}): {}", vc::op_name(op), r.reason),
                );
            }
            self.log.event(PfEvent::Refused {
                vf,
                opcode: op,
                status,
                reason: r.reason.clone(),
            });
        }
        if let Some(s) = &out.ignored {
            self.log.event(PfEvent::Ignored {
                vf,
                opcode: op,
                reason: s.clone(),
            });
        }
        if let Some(s) = &out.dropped {
            self.log.event(PfEvent::Dropped {
                vf,
                opcode: op,
                reason: s.clone(),
            });
        }
        for (k, d) in &out.violations {
            self.log.violation(vf, *k, d.clone());
        }
        if out.queues_changed {
            self.sync_queues(vf);
        }
        if let Some((rv, payload)) = out.reply {
            let m = ArqMsg {
                v_opcode: op,
                v_retval: rv,
                payload,
            };
            let mut sent = false;
            let mut dup = false;
            for f in &faults {
                match *f {
                    fault::ReplyFault::Drop => {
                        self.log.event(PfEvent::Fault {
                            vf,
                            detail: format!("reply to {} dropped", vc::op_name(op)),
                        });
                        sent = true;
                    }
                    fault::ReplyFault::Delay(ns) => {
                        self.log.event(PfEvent::Fault {
                            vf,
                            detail: format!("reply to {} delayed {ns} ns", vc::op_name(op)),
                        });
                        self.delayed
                            .push((self.now.saturating_add(ns), vf, m.clone()));
                        sent = true;
                    }
                    fault::ReplyFault::Duplicate => dup = true,
                    _ => {}
                }
            }
            if !sent {
                self.send_now(vf, m.clone());
                if dup {
                    self.log.event(PfEvent::Fault {
                        vf,
                        detail: format!("reply to {} duplicated", vc::op_name(op)),
                    });
                    self.send_now(vf, m);
                }
            }
        }
        if out.link_event {
            self.send_link_event(vf);
        }
        match out.reset {
            Some(false) => self.reset_vf(vf, ResetCause::VfRequest, false),
            Some(true) => self.reset_vf(vf, ResetCause::RequestQueues, true),
            None => {}
        }
        if faults.contains(&fault::ReplyFault::ResetAfter) {
            self.log.event(PfEvent::Fault {
                vf,
                detail: format!("reset after {}", vc::op_name(op)),
            });
            self.reset_vf(vf, ResetCause::PfInitiated, true);
        }
    }

    // ------------------------------------------------------------------ queues and data path

    /// Make the data-path queues match the PF state after CONFIG_VSI_QUEUES /
    /// ENABLE_QUEUES / DISABLE_QUEUES.
    fn sync_queues(&mut self, vf: usize) {
        let mut to_run = Vec::new();
        {
            let v = &mut self.vfs[vf];
            for q in 0..16 {
                let want = v.pf.qcfg[q];
                match want {
                    None => {
                        v.txq[q] = None;
                        v.rxq[q] = None;
                    }
                    Some(c) => {
                        let tcfg = TxQueueCfg {
                            ring_base: c.tx_ring,
                            ring_len: c.tx_len,
                            headwb_addr: c.tx_headwb,
                        };
                        let rcfg = RxQueueCfg {
                            ring_base: c.rx_ring,
                            ring_len: c.rx_len,
                            buf_size: c.rx_buf,
                            max_pkt_size: c.rx_max_pkt,
                        };
                        if v.txq[q].as_ref().map(|t| *t.cfg() != tcfg).unwrap_or(true) {
                            // A new TX queue context starts empty: head 0 and tail 0. A
                            // tail latched before this context (a driver still sending on
                            // its old ring after a reset it has not noticed yet, as Linux
                            // iavf does until its watchdog runs) must not make the engine
                            // fetch the zeroed new ring. The RX tail is kept: Linux posts
                            // RX buffers before CONFIG_VSI_QUEUES (contract 2.5). How the
                            // hardware handles this is UNCONFIRMED; Linux recovers on it.
                            v.tx_tail[q] = 0;
                            v.txq[q] = Some(TxQueue::new(tcfg));
                        }
                        if v.rxq[q].as_ref().map(|r| *r.cfg() != rcfg).unwrap_or(true) {
                            let mut r = RxQueue::new(rcfg);
                            r.set_tail(v.rx_tail[q]);
                            v.rxq[q] = Some(r);
                        }
                    }
                }
                let (ten, ren) = (
                    v.pf.tx_enabled & (1 << q) != 0,
                    v.pf.rx_enabled & (1 << q) != 0,
                );
                if let Some(r) = v.rxq[q].as_mut() {
                    if r.is_enabled() != ren {
                        r.enable(ren);
                    }
                }
                if let Some(t) = v.txq[q].as_mut() {
                    if t.is_enabled() != ten {
                        t.enable(ten);
                        if ten {
                            to_run.push(q);
                        }
                    }
                }
            }
        }
        for q in to_run {
            self.run_tx(vf, q);
        }
    }

    fn handle_dp_events(&mut self, vf: usize, q: usize, ev: &mut DpEvents, rx: bool) {
        for d in ev.violations.drain(..) {
            self.log.violation(
                vf,
                ViolationKind::DataPath,
                format!("{} queue {q}: {d}", if rx { "RX" } else { "TX" }),
            );
        }
        if let Some(m) = ev.mdd.take() {
            self.vfs[vf].counters.mdd += 1;
            self.log
                .violation(vf, ViolationKind::Mdd, format!("TX queue {q}: {m}"));
            self.log.event(PfEvent::Mdd {
                vf,
                queue: q as u16,
                detail: m.to_string(),
            });
            if self.opts.mdd_reset {
                self.reset_vf(vf, ResetCause::Mdd, true);
            }
        }
    }

    fn flush_tx(&mut self, vf: usize, q: usize) {
        if self.vfs[vf].txq[q].is_none() {
            return;
        }
        let Some(mem) = self.dma(vf, "TX write-back") else {
            return;
        };
        let v = &mut self.vfs[vf];
        let Some(t) = v.txq[q].as_mut() else { return };
        let stall = self.faults.tx_stalled(vf, self.now);
        t.set_stall(stall);
        let mut ev = std::mem::take(&mut self.dpev);
        ev.clear();
        let before = t.stats.completions;
        t.flush_completions(&*mem, &mut ev);
        v.counters.tx_completions += t.stats.completions - before;
        let done = ev.tx_completed;
        self.handle_dp_events(vf, q, &mut ev, false);
        self.dpev = ev;
        if done {
            self.queue_cause(vf, q, false);
        }
    }

    fn flush_tx_on_vector(&mut self, vf: usize, vec: u8) {
        for q in 0..16 {
            if self.vfs[vf].pf.tx_irq[q].is_some_and(|(v, _)| v == vec) {
                self.flush_tx(vf, q);
            }
        }
    }

    /// Run TX queue `q` of `vf` and switch what it produced.
    fn run_tx(&mut self, vf: usize, q: usize) {
        let stall = self.faults.tx_stalled(vf, self.now);
        let v = &self.vfs[vf];
        if v.resetting() || !v.txq[q].as_ref().is_some_and(|t| t.is_enabled()) {
            return;
        }
        let Some(mem) = self.dma(vf, "TX descriptor fetch") else {
            return;
        };
        let v = &mut self.vfs[vf];
        let Some(t) = v.txq[q].as_mut() else { return };
        t.set_stall(stall);
        let mut frames = std::mem::take(&mut self.frames);
        let mut ev = std::mem::take(&mut self.dpev);
        frames.clear();
        ev.clear();
        let b = t.stats.clone();
        t.process(&*mem, &mut frames, &mut ev);
        let a = &t.stats;
        let c = &mut v.counters;
        c.tx_packets += a.packets - b.packets;
        c.tx_descs += a.descs - b.descs;
        c.tso_ctx += a.tso_ctx - b.tso_ctx;
        c.tso_segments += a.tso_segments - b.tso_segments;
        c.csum_req += (a.csum_ip - b.csum_ip) + (a.csum_l4 - b.csum_l4);
        c.vlan_inserted += a.vlan_inserted - b.vlan_inserted;
        c.tx_completions += a.completions - b.completions;
        let done = ev.tx_completed;
        self.handle_dp_events(vf, q, &mut ev, false);
        self.dpev = ev;
        if !frames.is_empty() {
            let mut ports = std::mem::take(&mut self.ports);
            let mut dests = std::mem::take(&mut self.dests);
            self.fill_ports(&mut ports);
            self.rx_causes.clear();
            for f in frames.iter() {
                match self.veb.forward(Port::Vf(vf as u16), f, &ports, &mut dests) {
                    Ok(()) => {
                        let c = &mut self.vfs[vf].counters;
                        c.tx_frames += 1;
                        c.tx_bytes += f.len() as u64;
                        match cast_of(f) {
                            0 => c.tx_unicast += 1,
                            1 => c.tx_multicast += 1,
                            _ => c.tx_broadcast += 1,
                        }
                        for d in dests.iter() {
                            match *d {
                                Port::Uplink => {
                                    if self.uplink_out.len() < UPLINK_CAP {
                                        self.uplink_out.push_back(f.to_vec());
                                    }
                                }
                                Port::Vf(n) => {
                                    let n = n as usize;
                                    if let Some(rq) = self.deliver_rx(n, f) {
                                        self.note_rx_cause(n, rq);
                                    }
                                }
                            }
                        }
                    }
                    Err(e) => {
                        let c = &mut self.vfs[vf].counters;
                        c.tx_discards += 1;
                        if e == veb::VebDrop::SpoofedMac {
                            c.spoof_drops += 1;
                        }
                    }
                }
            }
            self.raise_rx_causes();
            self.ports = ports;
            self.dests = dests;
        }
        self.frames = frames;
        if done {
            self.queue_cause(vf, q, false);
        }
    }

    /// The VF ports' filters for the switch, into `ports` (allocations reused).
    fn fill_ports(&self, ports: &mut Vec<PortFilters>) {
        ports.resize_with(self.vfs.len(), PortFilters::default);
        for (v, f) in self.vfs.iter().zip(ports.iter_mut()) {
            v.fill_filters(f);
        }
    }

    /// Remember that RX queue `q` of `vf` was written during this TX batch.
    fn note_rx_cause(&mut self, vf: usize, q: usize) {
        match self
            .rx_causes
            .iter_mut()
            .find(|(v, qq, _)| *v == vf && *qq == q)
        {
            Some(e) => e.2 = 2,
            None => self.rx_causes.push((vf, q, 1)),
        }
    }

    /// Raise the RX causes noted during a TX batch. Virtual time does not move within
    /// a batch and nothing in between looks at interrupt state, so raising a cause once
    /// per written frame is the same as raising it once, and once more when more frames
    /// followed: the first may fire the vector (clearing pending and INTENA); every
    /// later one then leaves the same pending cause due after the ITR interval, which a
    /// third cause at the same instant no longer changes (`Interrupts::cause`).
    fn raise_rx_causes(&mut self) {
        let causes = std::mem::take(&mut self.rx_causes);
        for &(vf, q, n) in &causes {
            for _ in 0..n {
                self.queue_cause(vf, q, true);
            }
        }
        self.rx_causes = causes;
    }

    /// Receive `frame` on VF `vf`: pick the queue by RSS (queue 0 without it). Returns
    /// the queue whose ring was written; the caller raises its RX interrupt cause.
    fn deliver_rx(&mut self, vf: usize, frame: &[u8]) -> Option<usize> {
        let v = &mut self.vfs[vf];
        if v.resetting() || !v.pf.active {
            v.counters.rx_discards += 1;
            return None;
        }
        if !self.dma_ok(vf, "RX write-back") {
            self.vfs[vf].counters.rx_discards += 1;
            return None;
        }
        // Borrow the memory and the queue as disjoint fields (no Arc clone per frame).
        let v = &mut self.vfs[vf];
        let mem = v.mem.as_deref()?;
        let rss_on = v.rss.key.iter().any(|&b| b != 0);
        // Parsed once, for RSS here and for PTYPE/checksums in the RX engine.
        let parsed = dp::wire::parse(frame);
        let hash = if rss_on {
            dp::rss_hash_parsed(&v.rss, frame, &parsed)
        } else {
            None
        };
        let q = hash.map_or(0, |h| dp::rss_queue(&v.rss, h) as usize);
        let Some(rxq) = v.rxq.get_mut(q).and_then(|r| r.as_mut()) else {
            v.counters.rx_discards += 1;
            return None;
        };
        let corrupt = if rxq.is_enabled() {
            self.faults.take_rx_corruption(vf)
        } else {
            None
        };
        // The scratch events borrowed in place (a disjoint field of self); taken out
        // only when there is something to report.
        let ev = &mut self.dpev;
        ev.clear();
        let meta = RxMeta {
            vlan_strip: v.pf.vlan_strip,
            rss: rss_on.then_some(&v.rss),
            corrupt,
            parsed: Some((&parsed, hash)),
        };
        // Only the three counters copied below (cloning all of RxStats costs more).
        let b = &rxq.stats;
        let before = (b.vlan_stripped, b.rss_hashed, b.corrupted);
        let r = rxq.receive(mem, frame, &meta, ev);
        let a = &rxq.stats;
        let c = &mut v.counters;
        c.vlan_stripped += a.vlan_stripped - before.0;
        c.rss_hashed += a.rss_hashed - before.1;
        c.rx_corrupted += a.corrupted - before.2;
        match r {
            RxOutcome::Delivered { len, .. } => {
                c.rx_frames += 1;
                c.rx_bytes += len as u64;
                match cast_of(frame) {
                    0 => c.rx_unicast += 1,
                    1 => c.rx_multicast += 1,
                    _ => c.rx_broadcast += 1,
                }
            }
            RxOutcome::Dropped(d) => {
                c.rx_discards += 1;
                if d == RxDrop::NoDescriptors {
                    c.rx_no_desc += 1;
                }
            }
        }
        let written = ev.rx_written;
        if !ev.violations.is_empty() || ev.mdd.is_some() {
            let mut ev = std::mem::take(&mut self.dpev);
            self.handle_dp_events(vf, q, &mut ev, true);
            self.dpev = ev;
        }
        written.then_some(q)
    }

    pub fn uplink_inject(&mut self, frame: &[u8]) {
        let mut ports = Vec::new();
        self.fill_ports(&mut ports);
        let mut dests = Vec::new();
        if self
            .veb
            .forward(Port::Uplink, frame, &ports, &mut dests)
            .is_ok()
        {
            for d in dests {
                if let Port::Vf(n) = d {
                    let n = n as usize;
                    if let Some(q) = self.deliver_rx(n, frame) {
                        self.queue_cause(n, q, true);
                    }
                }
            }
        }
    }

    pub fn uplink_take(&mut self) -> Option<Vec<u8>> {
        self.uplink_out.pop_front()
    }

    // ------------------------------------------------------------------ resets

    /// Begin a VF reset (contract 5.9). `notify`: PF-initiated, RESET_IMPENDING first.
    fn reset_vf(&mut self, vf: usize, cause: ResetCause, notify: bool) {
        self.log.event(PfEvent::ResetStart { vf, cause });
        let v = &self.vfs[vf];
        if notify && (v.pf.init || v.pf.active) && v.phase == ResetPhase::Idle {
            self.send_reset_impending(vf);
            if self.opts.reset_notice_ns > 0 {
                self.vfs[vf].phase = ResetPhase::Notice {
                    at: self.now.saturating_add(self.opts.reset_notice_ns),
                    cause,
                };
                return;
            }
        }
        self.start_reset(vf);
    }

    fn start_reset(&mut self, vf: usize) {
        let now = self.now;
        let (db, total) = (
            self.opts.reset_deadbeef_ns,
            self.opts.reset_ns.max(self.opts.reset_deadbeef_ns),
        );
        let v = &mut self.vfs[vf];
        v.stats_base = v.eth_stats();
        v.pf.reset_begin();
        v.aq.reset();
        v.intr.reset();
        v.icr01 = 0;
        v.icr0_ena1 = 0;
        v.stat_ctl01 = 0;
        v.rstat = vc::VFR_INPROGRESS;
        v.hregion = [0; 8];
        v.rss = RssState::default();
        for q in 0..16 {
            v.txq[q] = None;
            v.rxq[q] = None;
        }
        v.tx_tail = [0; 16];
        v.rx_tail = [0; 16];
        v.irq_out = 0;
        v.resets += 1;
        v.counters.resets += 1;
        v.phase = if db > 0 {
            ResetPhase::Deadbeef {
                until: now.saturating_add(db),
                done: now.saturating_add(total),
            }
        } else {
            ResetPhase::InProgress {
                done: now.saturating_add(total),
            }
        };
        if total == 0 {
            self.complete_reset(vf);
        }
    }

    fn complete_reset(&mut self, vf: usize) {
        let id = self.vsi_id_for(vf);
        let mode = self.opts.default_mac;
        let step = self.opts.rstat_completed_step;
        let now = self.now;
        let v = &mut self.vfs[vf];
        v.pf.reset_complete(mode, id);
        v.intr.pf_clear_queue_vectors();
        if step {
            v.phase = ResetPhase::Completed {
                at: now.saturating_add(1_000_000),
            };
            v.rstat = vc::VFR_COMPLETED;
        } else {
            v.phase = ResetPhase::Idle;
            v.rstat = vc::VFR_VFACTIVE;
        }
        self.log.event(PfEvent::ResetDone { vf });
    }

    /// PF-initiated reset of one VF: RESET_IMPENDING, then the reset.
    pub fn pf_reset_vf(&mut self, vf: usize) {
        if vf < self.vfs.len() {
            self.reset_vf(vf, ResetCause::PfInitiated, true);
        }
    }

    /// Whole-PF reset: RESET_IMPENDING to every VF, then every VF resets.
    pub fn pf_reset(&mut self) {
        for vf in 0..self.vfs.len() {
            self.reset_vf(vf, ResetCause::PfReset, true);
        }
    }

    // ------------------------------------------------------------------ admin knobs

    /// Link state change: LINK_CHANGE to every VF (i40e_vc_notify_link_state).
    pub fn set_link(&mut self, up: bool, speed_mbps: u32) {
        self.link_up = up;
        self.link_speed = speed_mbps;
        for vf in 0..self.vfs.len() {
            self.send_link_event(vf);
        }
    }

    /// Trust (`ip link set vf N trust on|off`): i40e resets the VF when it changes.
    pub fn set_trust(&mut self, vf: usize, trusted: bool) {
        let Some(v) = self.vfs.get_mut(vf) else {
            return;
        };
        if v.pf.trusted != trusted {
            v.pf.trusted = trusted;
            self.reset_vf(vf, ResetCause::PfInitiated, true);
        }
    }

    /// Mark the VF DISABLED (the PF drops its messages without replying) or not.
    pub fn set_vf_disabled(&mut self, vf: usize, disabled: bool) {
        if let Some(v) = self.vfs.get_mut(vf) {
            v.pf.disabled = disabled;
        }
    }

    pub fn faults(&mut self) -> &mut fault::FaultPlan {
        &mut self.faults
    }

    // ------------------------------------------------------------------ observation

    pub fn violations(&self) -> &[Violation] {
        &self.log.violations
    }

    pub fn take_violations(&mut self) -> Vec<Violation> {
        std::mem::take(&mut self.log.violations)
    }

    pub fn events(&self) -> &[PfEvent] {
        &self.log.events
    }

    pub fn take_events(&mut self) -> Vec<PfEvent> {
        std::mem::take(&mut self.log.events)
    }

    pub fn counters(&self, vf: usize) -> VfCounters {
        self.vfs
            .get(vf)
            .map(|v| v.counters.clone())
            .unwrap_or_default()
    }

    /// The PF's view of a VF (filters, caps, queue state ...), for tests.
    pub fn pf_state(&self, vf: usize) -> Option<&PfVf> {
        self.vfs.get(vf).map(|v| &v.pf)
    }

    /// The VF's RSS state (key, LUT, HENA), however programmed.
    pub fn rss(&self, vf: usize) -> Option<&RssState> {
        self.vfs.get(vf).map(|v| &v.rss)
    }

    /// Whether a VF reset is in progress (RSTAT not yet VFACTIVE).
    pub fn in_reset(&self, vf: usize) -> bool {
        self.vfs
            .get(vf)
            .is_some_and(|v| v.phase != ResetPhase::Idle)
    }

    /// (address, data) of MSI-X entry `v` of `vf`, as the driver programmed it.
    pub fn msix_message(&self, vf: usize, v: usize) -> Option<(u64, u32)> {
        self.vfs.get(vf).and_then(|x| x.msix.message(v))
    }

    /// Bridge counters.
    pub fn veb_stats(&self) -> &veb::VebStats {
        &self.veb.stats
    }
}

#[cfg(test)]
mod send_check {
    fn is_send<T: Send>() {}
    #[test]
    fn sim_is_send() {
        is_send::<super::Sim>();
    }
}
