//! The PF side of virtchnl for one VF: what Linux i40e (PF-UP, with the PF-OOT
//! variants the options select) validates and answers (contract sections 4-5, 9.1
//! items 10-15).
//!
//! `handle` takes one VF→PF message and returns an [`Outcome`]: the reply (or none),
//! plus what must follow (a LINK_CHANGE event, a VF reset). Every refusal says which
//! rule fired; the caller logs it as a [`PfEvent::Refused`](crate::PfEvent) and, when
//! the rule is one a correct driver never trips, as a violation too.

use std::collections::HashMap;

use crate::config::VfConfig;
use crate::violation::ViolationKind;
use crate::virtchnl::{self as vc, rd_u16, rd_u32, rd_u64, rd_u8, wr_u16, wr_u32, wr_u64};

/// How the PF encodes failures in `v_retval` (contract 4.1, 9.4).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RetvalStyle {
    /// virtchnl status codes: -5 parameter/state, -18 no memory, -64 unsupported.
    #[default]
    Virtchnl,
    /// Current upstream i40e: negative errno (-22, -1, -12, -95, -5).
    Errno,
    /// Intel out-of-tree i40e: i40e_status codes (-5, -10, -18, -60).
    I40eStatus,
}

/// Which PF driver's variant of a behaviour to follow where they differ.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PfFlavor {
    /// Linux upstream i40e (PF-UP): GET_VF_RESOURCES reply 52 bytes with max_mtu =
    /// max frame; untrusted 17th VLAN → SUCCESS without effect; ADD_VLAN re-enables
    /// stripping.
    #[default]
    Upstream,
    /// Intel OOT i40e (PF-OOT): reply 36 bytes with max_mtu 0; VLAN limit per element
    /// with ERR_PARAM.
    OutOfTree,
}

/// Default MAC policy (contract 9.4).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DefaultMacMode {
    /// i40e: report zero unless the VF requested OFFLOAD_USO or the admin set a MAC.
    #[default]
    I40eRule,
    /// Always report a MAC (the admin's, else one the PF generated).
    AlwaysAssigned,
    /// Always report zero.
    AlwaysZero,
}

/// Abstract refusal reasons, mapped to numbers by [`RetvalStyle`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PfErr {
    Param,
    Perm,
    NoMem,
    /// Opcode the validator knows but this PF does not handle.
    NotSupported,
    /// Opcode the validator does not know.
    UnknownOpcode,
    InvalidMac,
}

impl RetvalStyle {
    pub fn code(self, e: PfErr) -> i32 {
        use PfErr::*;
        match (self, e) {
            // -EPERM leaks through from every i40e variant for MAC permission/limits.
            (_, Perm) => -1,
            (RetvalStyle::Virtchnl, Param | InvalidMac) => vc::STATUS_ERR_PARAM,
            (RetvalStyle::Virtchnl, NoMem) => vc::STATUS_ERR_NO_MEMORY,
            (RetvalStyle::Virtchnl, NotSupported | UnknownOpcode) => vc::STATUS_ERR_NOT_SUPPORTED,
            (RetvalStyle::Errno, Param | InvalidMac | UnknownOpcode) => -22,
            (RetvalStyle::Errno, NoMem) => -12,
            (RetvalStyle::Errno, NotSupported) => -95,
            (RetvalStyle::I40eStatus, Param | UnknownOpcode) => -5,
            (RetvalStyle::I40eStatus, InvalidMac) => -10,
            (RetvalStyle::I40eStatus, NoMem) => -18,
            (RetvalStyle::I40eStatus, NotSupported) => -60,
        }
    }
}

/// A refusal: the error, the rule, and whether a correct driver can meet it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub err: PfErr,
    pub reason: String,
    /// Some(kind) when only a broken driver gets this refusal.
    pub violation: Option<ViolationKind>,
}

fn bad(kind: ViolationKind, err: PfErr, reason: impl Into<String>) -> Refusal {
    Refusal {
        err,
        reason: reason.into(),
        violation: Some(kind),
    }
}
fn policy(err: PfErr, reason: impl Into<String>) -> Refusal {
    Refusal {
        err,
        reason: reason.into(),
        violation: None,
    }
}
fn fmt_err(reason: impl Into<String>) -> Refusal {
    bad(ViolationKind::VirtchnlFormat, PfErr::Param, reason)
}

/// What the caller must do after `handle`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// (v_retval, payload); None = no reply.
    pub reply: Option<(i32, Vec<u8>)>,
    /// A refusal to log (the reply carries its code).
    pub refusal: Option<Refusal>,
    /// A note to log when the PF accepted but did nothing on purpose.
    pub ignored: Option<String>,
    /// A dropped request (no reply) to log.
    pub dropped: Option<String>,
    /// Extra violations to record even though the request was served.
    pub violations: Vec<(ViolationKind, String)>,
    /// Send LINK_CHANGE after the reply.
    pub link_event: bool,
    /// Reset the VF after the reply; `true` = PF-initiated (RESET_IMPENDING first).
    pub reset: Option<bool>,
    /// Queue state changed (enable/disable/config): the caller re-syncs the data path.
    pub queues_changed: bool,
}

/// One queue pair's configuration from CONFIG_VSI_QUEUES.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct QpCfg {
    pub tx_ring: u64,
    pub tx_len: u16,
    pub tx_headwb: Option<u64>,
    pub rx_ring: u64,
    pub rx_len: u16,
    pub rx_buf: u32,
    pub rx_max_pkt: u32,
}

/// Counters GET_STATS reports (`struct virtchnl_eth_stats` order).
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

impl EthStats {
    pub fn to_bytes(&self) -> Vec<u8> {
        let v = [
            self.rx_bytes,
            self.rx_unicast,
            self.rx_multicast,
            self.rx_broadcast,
            self.rx_discards,
            self.rx_unknown_protocol,
            self.tx_bytes,
            self.tx_unicast,
            self.tx_multicast,
            self.tx_broadcast,
            self.tx_discards,
            self.tx_errors,
        ];
        let mut b = vec![0u8; vc::ETH_STATS_LEN];
        for (i, x) in v.iter().enumerate() {
            wr_u64(&mut b, i * 8, *x);
        }
        b
    }

    pub fn minus(&self, base: &EthStats) -> EthStats {
        EthStats {
            rx_bytes: self.rx_bytes.wrapping_sub(base.rx_bytes),
            rx_unicast: self.rx_unicast.wrapping_sub(base.rx_unicast),
            rx_multicast: self.rx_multicast.wrapping_sub(base.rx_multicast),
            rx_broadcast: self.rx_broadcast.wrapping_sub(base.rx_broadcast),
            rx_discards: self.rx_discards.wrapping_sub(base.rx_discards),
            rx_unknown_protocol: self
                .rx_unknown_protocol
                .wrapping_sub(base.rx_unknown_protocol),
            tx_bytes: self.tx_bytes.wrapping_sub(base.tx_bytes),
            tx_unicast: self.tx_unicast.wrapping_sub(base.tx_unicast),
            tx_multicast: self.tx_multicast.wrapping_sub(base.tx_multicast),
            tx_broadcast: self.tx_broadcast.wrapping_sub(base.tx_broadcast),
            tx_discards: self.tx_discards.wrapping_sub(base.tx_discards),
            tx_errors: self.tx_errors.wrapping_sub(base.tx_errors),
        }
    }
}

pub const BROADCAST: [u8; 6] = [0xFF; 6];
/// Untrusted MAC filter limit (I40E_VC_MAX_MAC_ADDR_PER_VF: 16 multicast + 1 unicast
/// + 1 broadcast; contract 5.5).
pub const MAX_MAC_UNTRUSTED: usize = 18;
/// Untrusted VLAN filter limit (I40E_VC_MAX_VLAN_PER_VF; contract 5.6).
pub const MAX_VLAN_UNTRUSTED: usize = 16;
/// I40E_MAX_MACVLAN_PER_HW 3072, split over the ports; the emulated adapter has 2.
pub const MACVLAN_PER_PF: usize = 3072 / 2;
/// Largest VLAN id (I40E_MAX_VLANID).
pub const MAX_VLANID: u16 = 4095;
/// Ring length ceiling (0x1FE0, PF-OOT and PF-UP with the 2025 fix; contract 5.2).
pub const MAX_RING_LEN: u32 = 0x1FE0;
/// RX buffer ceiling (16384 - 128) and max_pkt_size bounds (contract 5.2).
pub const MAX_RX_BUF: u32 = 16256;

pub fn is_zero(m: &[u8; 6]) -> bool {
    m.iter().all(|&b| b == 0)
}
pub fn is_multicast(m: &[u8; 6]) -> bool {
    m[0] & 1 != 0
}
pub fn fmt_mac(m: &[u8; 6]) -> String {
    format!(
        "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
        m[0], m[1], m[2], m[3], m[4], m[5]
    )
}

/// Options of the PF agent (a view of `SimOptions`).
#[derive(Clone, Copy, Debug)]
pub struct PfOpts {
    pub retval: RetvalStyle,
    pub flavor: PfFlavor,
    /// PF virtchnl version: 1.1 (default) or 1.0.
    pub pf_minor: u32,
    pub default_mac: DefaultMacMode,
    pub max_frame: u32,
    pub vectors: u16,
    pub num_vfs: usize,
}

/// The PF's state for one VF (i40e `struct i40e_vf` plus its VSI).
#[derive(Clone, Debug)]
pub struct PfVf {
    pub id: usize,
    pub cfg: VfConfig,
    /// The version the VF sent (kept across resets, contract 4.3).
    pub vf_ver: Option<(u32, u32)>,
    pub init: bool,
    pub active: bool,
    pub disabled: bool,
    pub resources_loaded: bool,
    pub driver_caps: u32,
    pub caps: u32,
    pub trusted: bool,
    /// Queue pairs allocated to the VF's VSI (num-queues, or a granted request).
    pub alloc_qp: u16,
    pub num_req_queues: Option<u16>,
    /// The VSI's num_queue_pairs (set by GET_VF_RESOURCES and CONFIG_VSI_QUEUES);
    /// bounds the RSS LUT entries.
    pub vsi_qp: u16,
    pub vsi_id: u16,
    pub default_mac: [u8; 6],
    /// A PF-generated MAC for `DefaultMacMode::AlwaysAssigned` without an admin MAC.
    pub generated_mac: [u8; 6],
    /// Every MAC filter on the VSI (unicast, multicast, broadcast).
    pub macs: Vec<[u8; 6]>,
    pub vlans: Vec<u16>,
    pub vlan_strip: bool,
    pub uc_promisc: bool,
    pub mc_promisc: bool,
    pub qcfg: [Option<QpCfg>; 16],
    /// Configured since the last disable (a disabled queue must be reconfigured).
    pub qfresh: u16,
    pub rx_enabled: u16,
    pub tx_enabled: u16,
    /// Per queue: (vector, itr index) from CONFIG_IRQ_MAP.
    pub rx_irq: [Option<(u8, u8)>; 16],
    pub tx_irq: [Option<(u8, u8)>; 16],
    /// RSS key/LUT/HENA live in the VF registers; the agent writes them there.
    pub msg_count: HashMap<u32, u32>,
}

impl PfVf {
    pub fn new(id: usize, cfg: VfConfig, seed: u64) -> PfVf {
        // A locally administered unicast MAC derived from the seed and VF number.
        let s =
            crate::fault::SplitMix64::new(seed ^ (id as u64).wrapping_mul(0x1000_0001)).next_u64();
        let mut generated_mac = [0x02, 0, 0, 0, 0, 0];
        generated_mac[2..6].copy_from_slice(&(s as u32).to_be_bytes());
        generated_mac[1] = id as u8;
        let mut p = PfVf {
            id,
            trusted: cfg.allow_promisc,
            alloc_qp: cfg.num_queues.clamp(1, crate::config::MAX_QUEUES),
            cfg,
            vf_ver: None,
            init: false,
            active: false,
            disabled: false,
            resources_loaded: false,
            driver_caps: 0,
            caps: 0,
            num_req_queues: None,
            vsi_qp: 0,
            vsi_id: 0,
            default_mac: [0; 6],
            generated_mac,
            macs: Vec::new(),
            vlans: Vec::new(),
            vlan_strip: true,
            uc_promisc: false,
            mc_promisc: false,
            qcfg: [None; 16],
            qfresh: 0,
            rx_enabled: 0,
            tx_enabled: 0,
            rx_irq: [None; 16],
            tx_irq: [None; 16],
            msg_count: HashMap::new(),
        };
        p.default_mac = p.cfg.mac_addr.unwrap_or([0; 6]);
        p
    }

    /// The capabilities granted by the last GET_VF_RESOURCES (0 before it).
    pub fn granted_caps(&self) -> u32 {
        self.caps
    }

    /// The admin's MAC, or for `AlwaysAssigned` the generated one.
    fn assigned_mac(&self, mode: DefaultMacMode) -> Option<[u8; 6]> {
        match (self.cfg.mac_addr, mode) {
            (Some(m), _) => Some(m),
            (None, DefaultMacMode::AlwaysAssigned) => Some(self.generated_mac),
            _ => None,
        }
    }

    /// Trigger half of a VF reset (`i40e_trigger_vf_reset` + `i40e_free_vf_res`):
    /// the VF loses everything but its negotiated version and the PF's policy.
    pub fn reset_begin(&mut self) {
        self.init = false;
        self.active = false;
        self.resources_loaded = false;
        // driver_caps (what the VF asked for) survives, as in i40e: it picks the link
        // event format until the next GET_VF_RESOURCES. The grant does not.
        self.caps = 0;
        self.macs.clear();
        self.vlans.clear();
        self.uc_promisc = false;
        self.mc_promisc = false;
        self.qcfg = [None; 16];
        self.qfresh = 0;
        self.rx_enabled = 0;
        self.tx_enabled = 0;
        self.rx_irq = [None; 16];
        self.tx_irq = [None; 16];
        if let Some(n) = self.num_req_queues.take() {
            self.alloc_qp = n;
        }
    }

    /// Cleanup half (`i40e_cleanup_reset_vf`, `i40e_alloc_vsi_res`): new VSI, default
    /// MAC filter (if the default MAC is valid) + broadcast filter, VLAN stripping on,
    /// state INIT. `new_vsi_id` lets the caller move the VSI id across resets.
    pub fn reset_complete(&mut self, mode: DefaultMacMode, new_vsi_id: u16) {
        self.vsi_id = new_vsi_id;
        if let Some(m) = self.assigned_mac(mode) {
            if is_zero(&self.default_mac) {
                self.default_mac = m;
            }
        }
        if !is_zero(&self.default_mac) {
            self.macs.push(self.default_mac);
        }
        self.macs.push(BROADCAST);
        self.vlan_strip = true;
        self.vsi_qp = self.alloc_qp;
        self.init = true;
    }

    fn mac_max(&self, num_vfs: usize) -> usize {
        if self.trusted {
            MACVLAN_PER_PF.saturating_sub(num_vfs * MAX_MAC_UNTRUSTED) / num_vfs.max(1)
                + MAX_MAC_UNTRUSTED
        } else {
            MAX_MAC_UNTRUSTED
        }
    }

    fn check_vsi(&self, vsi: u16, what: &str) -> Result<(), Refusal> {
        if vsi != self.vsi_id {
            return Err(fmt_err(format!(
                "{what}: vsi_id {vsi} is not the VF's VSI ({})",
                self.vsi_id
            )));
        }
        Ok(())
    }

    fn need_active(&self, op: u32) -> Result<(), Refusal> {
        if !self.active {
            return Err(bad(
                ViolationKind::VirtchnlState,
                PfErr::Param,
                format!(
                    "{} needs the VF ACTIVE (send GET_VF_RESOURCES first)",
                    vc::op_name(op)
                ),
            ));
        }
        Ok(())
    }

    fn cap_used(&self, cap: u32, op: u32, out: &mut Outcome) {
        if self.caps & cap == 0 {
            out.violations.push((
                ViolationKind::VirtchnlUnsupported,
                format!(
                    "{} used without the granted capability {cap:#x}",
                    vc::op_name(op)
                ),
            ));
        }
    }

    /// Handle one message. `rss` is the VF's RSS state (HKEY/HLUT/HENA registers);
    /// `stats` the VSI's counters; `link` (up, Mbps); `queues_left` the PF's free pool.
    #[allow(clippy::too_many_arguments)]
    pub fn handle(
        &mut self,
        o: &PfOpts,
        op: u32,
        msg: &[u8],
        rss: &mut crate::dp::RssState,
        stats: EthStats,
        queues_left: u16,
    ) -> Outcome {
        let mut out = Outcome::default();
        if self.disabled {
            out.dropped = Some("VF is DISABLED: no reply (i40e_vc_process_vf_msg)".into());
            return out;
        }
        *self.msg_count.entry(op).or_insert(0) += 1;
        let v11 = o.pf_minor == 1 && self.vf_ver == Some((1, 1));
        if let Err(e) = vc::validate_len(op, v11, msg) {
            let r = match e {
                vc::LenError::UnknownOpcode => bad(
                    ViolationKind::VirtchnlUnsupported,
                    PfErr::UnknownOpcode,
                    format!("opcode {op} is not a VF request"),
                ),
                vc::LenError::ZeroCount => fmt_err(format!("{}: element count 0", vc::op_name(op))),
                vc::LenError::Mismatch { want, got } => fmt_err(format!(
                    "{}: length {got}, the PF requires exactly {want}",
                    vc::op_name(op)
                )),
            };
            out.reply = Some((o.retval.code(r.err), Vec::new()));
            out.refusal = Some(r);
            return out;
        }
        let res = match op {
            vc::OP_VERSION => self.version(o, msg),
            vc::OP_RESET_VF => {
                out.reset = Some(false);
                return out;
            }
            vc::OP_GET_VF_RESOURCES => self.get_vf_resources(o, msg, &mut out),
            vc::OP_CONFIG_VSI_QUEUES => self.config_vsi_queues(msg, &mut out),
            vc::OP_CONFIG_IRQ_MAP => self.config_irq_map(o, msg),
            vc::OP_ENABLE_QUEUES => self.enable_queues(msg, true, &mut out),
            vc::OP_DISABLE_QUEUES => self.enable_queues(msg, false, &mut out),
            vc::OP_ADD_ETH_ADDR => self.add_mac(o, msg),
            vc::OP_DEL_ETH_ADDR => self.del_mac(msg),
            vc::OP_ADD_VLAN => self.add_vlan(o, msg, &mut out),
            vc::OP_DEL_VLAN => self.del_vlan(msg),
            vc::OP_CONFIG_PROMISCUOUS_MODE => self.promisc(msg, &mut out),
            vc::OP_GET_STATS => self.get_stats(msg, stats),
            vc::OP_CONFIG_RSS_KEY => self.rss_key(msg, rss, &mut out),
            vc::OP_CONFIG_RSS_LUT => self.rss_lut(msg, rss, &mut out),
            vc::OP_GET_RSS_HENA_CAPS => self.need_active(op).map(|_| {
                self.cap_used(vc::VF_OFFLOAD_RSS_PF, op, &mut out);
                let mut b = vec![0u8; 8];
                wr_u64(&mut b, 0, crate::regs::DEFAULT_RSS_HENA);
                b
            }),
            vc::OP_SET_RSS_HENA => self.need_active(op).map(|_| {
                self.cap_used(vc::VF_OFFLOAD_RSS_PF, op, &mut out);
                rss.hena = rd_u64(msg, 0);
                Vec::new()
            }),
            vc::OP_ENABLE_VLAN_STRIPPING | vc::OP_DISABLE_VLAN_STRIPPING => self
                .need_active(op)
                .and_then(|_| self.need_vlan_cap(op))
                .map(|_| {
                    self.vlan_strip = op == vc::OP_ENABLE_VLAN_STRIPPING;
                    Vec::new()
                }),
            vc::OP_REQUEST_QUEUES => {
                if !self.active {
                    out.dropped =
                        Some("REQUEST_QUEUES while not ACTIVE: PF-UP sends no reply".into());
                    out.violations.push((
                        ViolationKind::VirtchnlState,
                        "REQUEST_QUEUES while not ACTIVE".into(),
                    ));
                    return out;
                }
                self.cap_used(vc::VF_OFFLOAD_REQ_QUEUES, op, &mut out);
                let req = rd_u16(msg, 0);
                let cur = self.alloc_qp;
                let mut b = vec![0u8; 2];
                if req == 0 {
                    Err(fmt_err("REQUEST_QUEUES for 0 queue pairs"))
                } else if req > crate::config::MAX_QUEUES {
                    wr_u16(&mut b, 0, crate::config::MAX_QUEUES);
                    out.ignored = Some(format!(
                        "REQUEST_QUEUES {req} > 16: replied with the maximum"
                    ));
                    Ok(b)
                } else if req > cur && req - cur > queues_left {
                    wr_u16(&mut b, 0, cur + queues_left);
                    out.ignored = Some(format!(
                        "REQUEST_QUEUES {req}: only {} available",
                        cur + queues_left
                    ));
                    Ok(b)
                } else {
                    self.num_req_queues = Some(req);
                    out.reset = Some(true);
                    return out;
                }
            }
            vc::OP_CONFIG_TX_QUEUE
            | vc::OP_CONFIG_RX_QUEUE
            | vc::OP_IWARP
            | vc::OP_CONFIG_IWARP_IRQ_MAP
            | vc::OP_RELEASE_IWARP_IRQ_MAP
            | vc::OP_ENABLE_CHANNELS
            | vc::OP_DISABLE_CHANNELS
            | vc::OP_ADD_CLOUD_FILTER
            | vc::OP_DEL_CLOUD_FILTER => Err(bad(
                ViolationKind::VirtchnlUnsupported,
                PfErr::NotSupported,
                format!("{} is not supported by this PF", vc::op_name(op)),
            )),
            _ => Err(bad(
                ViolationKind::VirtchnlUnsupported,
                PfErr::UnknownOpcode,
                format!("opcode {op} unknown"),
            )),
        };
        match res {
            Ok(payload) => out.reply = Some((0, payload)),
            Err(r) => {
                out.reply = Some((o.retval.code(r.err), Vec::new()));
                if op == vc::OP_GET_STATS && o.flavor == PfFlavor::OutOfTree {
                    // PF-OOT sends 96 zero bytes with the error.
                    out.reply = Some((o.retval.code(r.err), vec![0; vc::ETH_STATS_LEN]));
                }
                out.refusal = Some(r);
                out.link_event = false;
                out.reset = None;
            }
        }
        out
    }

    fn version(&mut self, o: &PfOpts, msg: &[u8]) -> Result<Vec<u8>, Refusal> {
        let (maj, min) = (rd_u32(msg, 0), rd_u32(msg, 4));
        self.vf_ver = Some((maj, min));
        // "VFs running the 1.0 API expect to get 1.0 back or they will cry."
        let minor = if (maj, min) == (1, 0) || o.pf_minor == 0 {
            0
        } else {
            vc::VERSION_MINOR
        };
        let mut b = vec![0u8; 8];
        wr_u32(&mut b, 0, vc::VERSION_MAJOR);
        wr_u32(&mut b, 4, minor);
        Ok(b)
    }

    fn get_vf_resources(
        &mut self,
        o: &PfOpts,
        msg: &[u8],
        out: &mut Outcome,
    ) -> Result<Vec<u8>, Refusal> {
        if !self.init {
            return Err(bad(
                ViolationKind::VirtchnlState,
                PfErr::Param,
                "GET_VF_RESOURCES before the VF reset completed (VF not in INIT)",
            ));
        }
        if self.resources_loaded || self.active {
            return Err(bad(
                ViolationKind::VirtchnlState,
                PfErr::Param,
                "a second GET_VF_RESOURCES without a reset in between",
            ));
        }
        let v11 = o.pf_minor == 1 && self.vf_ver == Some((1, 1));
        self.driver_caps = if v11 {
            rd_u32(msg, 0)
        } else {
            vc::VF_OFFLOAD_L2 | vc::VF_OFFLOAD_RSS_REG | vc::VF_OFFLOAD_VLAN
        };
        let req = self.driver_caps;
        // Contract 9.1 item 12 / 5.10: L2 always; VLAN, REQ_QUEUES, ADV_LINK_SPEED if
        // requested; RSS_PF if requested else RSS_REG. X722-only and unemulated caps
        // (RSS_AQ, WB_ON_ITR, PCTYPE_V2, ENCAP*, ADQ, USO, RX_POLLING, CRC) never.
        let mut caps = vc::VF_OFFLOAD_L2;
        caps |= req & (vc::VF_OFFLOAD_VLAN | vc::VF_OFFLOAD_REQ_QUEUES | vc::VF_CAP_ADV_LINK_SPEED);
        caps |= if req & vc::VF_OFFLOAD_RSS_PF != 0 {
            vc::VF_OFFLOAD_RSS_PF
        } else {
            vc::VF_OFFLOAD_RSS_REG
        };
        self.caps = caps;
        // Zero-MAC quirk (contract 5.10).
        let report_zero = match o.default_mac {
            DefaultMacMode::I40eRule => {
                req & vc::VF_OFFLOAD_USO == 0 && self.cfg.mac_addr.is_none()
            }
            DefaultMacMode::AlwaysAssigned => false,
            DefaultMacMode::AlwaysZero => true,
        };
        if report_zero && !is_zero(&self.default_mac) {
            let m = self.default_mac;
            self.macs.retain(|x| *x != m);
            self.default_mac = [0; 6];
            out.ignored = Some(format!(
                "zero-MAC rule: default MAC {} deleted and reported as 00:00:00:00:00:00 (OFFLOAD_USO not requested, no admin MAC)",
                fmt_mac(&m)
            ));
        }
        let len = match o.flavor {
            PfFlavor::Upstream => vc::vf_resource::SIZE + vc::vsi_resource::SIZE,
            PfFlavor::OutOfTree => vc::vf_resource::HDR + vc::vsi_resource::SIZE,
        };
        let mut b = vec![0u8; len];
        wr_u16(&mut b, vc::vf_resource::num_vsis, 1);
        wr_u16(&mut b, vc::vf_resource::num_queue_pairs, self.alloc_qp);
        wr_u16(&mut b, vc::vf_resource::max_vectors, o.vectors);
        let mtu = match o.flavor {
            PfFlavor::Upstream => o.max_frame.min(u16::MAX as u32) as u16,
            PfFlavor::OutOfTree => 0,
        };
        wr_u16(&mut b, vc::vf_resource::max_mtu, mtu);
        wr_u32(&mut b, vc::vf_resource::vf_cap_flags, caps);
        wr_u32(
            &mut b,
            vc::vf_resource::rss_key_size,
            crate::regs::RSS_KEY_LEN as u32,
        );
        wr_u32(
            &mut b,
            vc::vf_resource::rss_lut_size,
            crate::regs::RSS_LUT_LEN as u32,
        );
        let v = vc::vf_resource::vsi_res;
        wr_u16(&mut b, v + vc::vsi_resource::vsi_id, self.vsi_id);
        wr_u16(&mut b, v + vc::vsi_resource::num_queue_pairs, self.alloc_qp);
        wr_u32(&mut b, v + vc::vsi_resource::vsi_type, vc::VSI_SRIOV);
        wr_u16(&mut b, v + vc::vsi_resource::qset_handle, self.id as u16);
        let mo = v + vc::vsi_resource::default_mac_addr;
        b[mo..mo + 6].copy_from_slice(&self.default_mac);
        self.vsi_qp = self.alloc_qp;
        self.resources_loaded = true;
        self.active = true;
        out.link_event = true;
        Ok(b)
    }

    fn config_vsi_queues(&mut self, msg: &[u8], out: &mut Outcome) -> Result<Vec<u8>, Refusal> {
        self.need_active(vc::OP_CONFIG_VSI_QUEUES)?;
        let vsi = rd_u16(msg, vc::vsi_queue_config_info::vsi_id);
        self.check_vsi(vsi, "CONFIG_VSI_QUEUES")?;
        let n = rd_u16(msg, vc::vsi_queue_config_info::num_queue_pairs);
        if n > crate::config::MAX_QUEUES {
            return Err(fmt_err(format!("CONFIG_VSI_QUEUES: {n} pairs > 16")));
        }
        for i in 0..n as usize {
            let p = vc::vsi_queue_config_info::qpair + i * vc::queue_pair_info::SIZE;
            let t = p + vc::queue_pair_info::txq;
            let r = p + vc::queue_pair_info::rxq;
            let tq = rd_u16(msg, t + vc::txq_info::queue_id);
            let rq = rd_u16(msg, r + vc::rxq_info::queue_id);
            let (tv, rv) = (
                rd_u16(msg, t + vc::txq_info::vsi_id),
                rd_u16(msg, r + vc::rxq_info::vsi_id),
            );
            if tv != vsi || rv != vsi {
                return Err(fmt_err(format!(
                    "CONFIG_VSI_QUEUES pair {i}: txq/rxq vsi_id {tv}/{rv} != {vsi}"
                )));
            }
            if tq != rq {
                return Err(fmt_err(format!(
                    "CONFIG_VSI_QUEUES pair {i}: txq queue_id {tq} != rxq queue_id {rq}"
                )));
            }
            if tq >= self.alloc_qp {
                return Err(fmt_err(format!(
                    "CONFIG_VSI_QUEUES pair {i}: queue_id {tq} >= allocated {}",
                    self.alloc_qp
                )));
            }
            let tx_len = rd_u16(msg, t + vc::txq_info::ring_len) as u32;
            let tx_ring = rd_u64(msg, t + vc::txq_info::dma_ring_addr);
            let headwb = rd_u16(msg, t + vc::txq_info::headwb_enabled) != 0;
            let headwb_addr = rd_u64(msg, t + vc::txq_info::dma_headwb_addr);
            let rx_len = rd_u32(msg, r + vc::rxq_info::ring_len);
            let rx_ring = rd_u64(msg, r + vc::rxq_info::dma_ring_addr);
            let split = rd_u16(msg, r + vc::rxq_info::splithdr_enabled);
            let dbuf = rd_u32(msg, r + vc::rxq_info::databuffer_size);
            let maxp = rd_u32(msg, r + vc::rxq_info::max_pkt_size);
            let q = format!("CONFIG_VSI_QUEUES queue {tq}");
            if tx_len == 0 || tx_len % 8 != 0 || tx_len > MAX_RING_LEN {
                return Err(fmt_err(format!(
                    "{q}: TX ring_len {tx_len} (must be a non-zero multiple of 8, <= 8160)"
                )));
            }
            if rx_len == 0 || rx_len % 32 != 0 || rx_len > MAX_RING_LEN {
                return Err(fmt_err(format!(
                    "{q}: RX ring_len {rx_len} (must be a non-zero multiple of 32, <= 8160)"
                )));
            }
            if tx_ring % 128 != 0 || rx_ring % 128 != 0 {
                // The HW context keeps addr/128: a misaligned ring would be read from
                // the wrong place. i40e does not check; the emulator refuses.
                return Err(fmt_err(format!(
                    "{q}: ring address {:#x}/{:#x} not 128-byte aligned",
                    tx_ring, rx_ring
                )));
            }
            if headwb && headwb_addr % 4 != 0 {
                return Err(fmt_err(format!(
                    "{q}: head write-back address {headwb_addr:#x} not 4-byte aligned"
                )));
            }
            if split != 0 {
                return Err(bad(
                    ViolationKind::VirtchnlUnsupported,
                    PfErr::Param,
                    format!("{q}: header split is not emulated (deprecated with AVF 1.0)"),
                ));
            }
            if dbuf == 0 || dbuf > MAX_RX_BUF {
                return Err(fmt_err(format!(
                    "{q}: databuffer_size {dbuf} (must be 128..=16256)"
                )));
            }
            if dbuf % 128 != 0 {
                out.violations.push((
                    ViolationKind::VirtchnlFormat,
                    format!(
                        "{q}: databuffer_size {dbuf} is not a multiple of 128; the HW uses {}",
                        dbuf & !0x7F
                    ),
                ));
            }
            if !(64..16384).contains(&maxp) {
                return Err(fmt_err(format!(
                    "{q}: max_pkt_size {maxp} (must be 64..16383)"
                )));
            }
            let qi = tq as usize;
            if (self.tx_enabled | self.rx_enabled) & (1 << qi) != 0 {
                out.violations.push((
                    ViolationKind::VirtchnlState,
                    format!("{q}: reconfigured while enabled"),
                ));
            }
            self.qcfg[qi] = Some(QpCfg {
                tx_ring,
                tx_len: tx_len as u16,
                tx_headwb: headwb.then_some(headwb_addr),
                rx_ring,
                rx_len: rx_len as u16,
                rx_buf: dbuf,
                rx_max_pkt: maxp,
            });
            self.qfresh |= 1 << qi;
            out.queues_changed = true;
        }
        self.vsi_qp = n;
        Ok(Vec::new())
    }

    fn config_irq_map(&mut self, o: &PfOpts, msg: &[u8]) -> Result<Vec<u8>, Refusal> {
        self.need_active(vc::OP_CONFIG_IRQ_MAP)?;
        let n = rd_u16(msg, vc::irq_map_info::num_vectors);
        if n > o.vectors {
            return Err(fmt_err(format!(
                "CONFIG_IRQ_MAP: {n} vectors > {} granted",
                o.vectors
            )));
        }
        let qmask = (1u32 << self.alloc_qp) - 1;
        // Validate every entry first, then apply.
        for i in 0..n as usize {
            let e = vc::irq_map_info::vecmap + i * vc::vector_map::SIZE;
            let vsi = rd_u16(msg, e + vc::vector_map::vsi_id);
            let vec = rd_u16(msg, e + vc::vector_map::vector_id);
            let rxm = rd_u16(msg, e + vc::vector_map::rxq_map) as u32;
            let txm = rd_u16(msg, e + vc::vector_map::txq_map) as u32;
            let (ri, ti) = (
                rd_u16(msg, e + vc::vector_map::rxitr_idx),
                rd_u16(msg, e + vc::vector_map::txitr_idx),
            );
            self.check_vsi(vsi, "CONFIG_IRQ_MAP")?;
            if vec >= o.vectors {
                return Err(fmt_err(format!(
                    "CONFIG_IRQ_MAP entry {i}: vector {vec} >= {} granted",
                    o.vectors
                )));
            }
            if (rxm | txm) & !qmask != 0 {
                return Err(fmt_err(format!(
                    "CONFIG_IRQ_MAP entry {i}: queue maps {rxm:#x}/{txm:#x} name queues beyond {}",
                    self.alloc_qp
                )));
            }
            if ri > 3 || ti > 3 {
                return Err(fmt_err(format!(
                    "CONFIG_IRQ_MAP entry {i}: ITR index {ri}/{ti} > 3"
                )));
            }
        }
        for i in 0..n as usize {
            let e = vc::irq_map_info::vecmap + i * vc::vector_map::SIZE;
            let vec = rd_u16(msg, e + vc::vector_map::vector_id) as u8;
            let rxm = rd_u16(msg, e + vc::vector_map::rxq_map);
            let txm = rd_u16(msg, e + vc::vector_map::txq_map);
            let ri = rd_u16(msg, e + vc::vector_map::rxitr_idx) as u8;
            let ti = rd_u16(msg, e + vc::vector_map::txitr_idx) as u8;
            // The vector's linked list is rebuilt: drop its old queues.
            for s in self.rx_irq.iter_mut().chain(self.tx_irq.iter_mut()) {
                if s.is_some_and(|(v, _)| v == vec) {
                    *s = None;
                }
            }
            for q in 0..16 {
                if rxm & (1 << q) != 0 {
                    self.rx_irq[q] = Some((vec, ri));
                }
                if txm & (1 << q) != 0 {
                    self.tx_irq[q] = Some((vec, ti));
                }
            }
        }
        Ok(Vec::new())
    }

    fn enable_queues(
        &mut self,
        msg: &[u8],
        on: bool,
        out: &mut Outcome,
    ) -> Result<Vec<u8>, Refusal> {
        let op = if on {
            vc::OP_ENABLE_QUEUES
        } else {
            vc::OP_DISABLE_QUEUES
        };
        self.need_active(op)?;
        let name = vc::op_name(op);
        self.check_vsi(rd_u16(msg, vc::queue_select::vsi_id), name)?;
        let rx = rd_u32(msg, vc::queue_select::rx_queues);
        let tx = rd_u32(msg, vc::queue_select::tx_queues);
        if rx | tx == 0 {
            return Err(fmt_err(format!("{name}: no queue selected")));
        }
        if rx >= 1 << 16 || tx >= 1 << 16 {
            return Err(fmt_err(format!(
                "{name}: queue bitmap {rx:#x}/{tx:#x} beyond 16 queues"
            )));
        }
        let qmask = (1u32 << self.alloc_qp) - 1;
        if (rx | tx) & !qmask != 0 {
            return Err(fmt_err(format!(
                "{name}: queue bitmap {rx:#x}/{tx:#x} beyond the {} allocated",
                self.alloc_qp
            )));
        }
        let (rx, tx) = (rx as u16, tx as u16);
        if on {
            let unconf = (rx | tx) & !self.qfresh;
            if unconf != 0 {
                return Err(fmt_err(format!(
                    "ENABLE_QUEUES: queues {unconf:#x} not configured by CONFIG_VSI_QUEUES since their last disable"
                )));
            }
            self.rx_enabled |= rx;
            self.tx_enabled |= tx;
            out.link_event = true;
        } else {
            self.tx_enabled &= !tx;
            self.rx_enabled &= !rx;
            // The HW context must be rewritten before the queue runs again.
            self.qfresh &= !(rx | tx);
        }
        out.queues_changed = true;
        Ok(Vec::new())
    }

    fn mac_list(msg: &[u8]) -> Vec<([u8; 6], u8)> {
        let n = rd_u16(msg, vc::ether_addr_list::num_elements) as usize;
        (0..n)
            .map(|i| {
                let e = vc::ether_addr_list::list + i * vc::ether_addr::SIZE;
                let mut m = [0u8; 6];
                for (k, b) in m.iter_mut().enumerate() {
                    *b = rd_u8(msg, e + k);
                }
                (
                    m,
                    rd_u8(msg, e + vc::ether_addr::type_) & vc::ETHER_ADDR_TYPE_MASK,
                )
            })
            .collect()
    }

    fn add_mac(&mut self, o: &PfOpts, msg: &[u8]) -> Result<Vec<u8>, Refusal> {
        self.need_active(vc::OP_ADD_ETH_ADDR)?;
        self.check_vsi(rd_u16(msg, vc::ether_addr_list::vsi_id), "ADD_ETH_ADDR")?;
        let list = Self::mac_list(msg);
        // Every entry is checked before any is added (i40e_check_vf_permission).
        let mut new = Vec::new();
        for (m, _) in &list {
            if *m == BROADCAST || is_zero(m) {
                return Err(fmt_err(format!(
                    "ADD_ETH_ADDR: invalid address {}",
                    fmt_mac(m)
                )));
            }
            if !is_multicast(m)
                && self.cfg.mac_locked()
                && !self.trusted
                && Some(*m) != self.cfg.mac_addr
            {
                return Err(policy(
                    PfErr::Perm,
                    format!(
                        "ADD_ETH_ADDR {}: the administrator set MAC {} and does not allow the VF to change it",
                        fmt_mac(m),
                        fmt_mac(&self.cfg.mac_addr.unwrap_or_default())
                    ),
                ));
            }
            if !self.macs.contains(m) && !new.contains(m) {
                new.push(*m);
            }
        }
        let max = self.mac_max(o.num_vfs);
        if self.macs.len() + new.len() > max {
            return Err(policy(
                PfErr::Perm,
                format!(
                    "ADD_ETH_ADDR: {} filters + {} new > {max} allowed for {} VF",
                    self.macs.len(),
                    new.len(),
                    if self.trusted {
                        "a trusted"
                    } else {
                        "an untrusted"
                    }
                ),
            ));
        }
        self.macs.extend_from_slice(&new);
        for (m, ty) in &list {
            if is_multicast(m) {
                continue;
            }
            match *ty {
                vc::ETHER_ADDR_PRIMARY => self.default_mac = *m,
                vc::ETHER_ADDR_LEGACY if is_zero(&self.default_mac) => self.default_mac = *m,
                _ => {}
            }
        }
        Ok(Vec::new())
    }

    fn del_mac(&mut self, msg: &[u8]) -> Result<Vec<u8>, Refusal> {
        self.need_active(vc::OP_DEL_ETH_ADDR)?;
        self.check_vsi(rd_u16(msg, vc::ether_addr_list::vsi_id), "DEL_ETH_ADDR")?;
        let list = Self::mac_list(msg);
        for (m, _) in &list {
            if *m == BROADCAST || is_zero(m) {
                return Err(fmt_err(format!(
                    "DEL_ETH_ADDR: invalid address {}",
                    fmt_mac(m)
                )));
            }
        }
        for (m, _) in &list {
            if self.cfg.mac_locked() && !self.trusted && Some(*m) == self.cfg.mac_addr {
                continue; // silently kept (contract 5.5)
            }
            let Some(i) = self.macs.iter().position(|x| x == m) else {
                return Err(fmt_err(format!(
                    "DEL_ETH_ADDR: {} is not a filter of the VF",
                    fmt_mac(m)
                )));
            };
            self.macs.remove(i);
            if *m == self.default_mac {
                self.default_mac = [0; 6];
                if self.trusted {
                    if let Some(u) = self.macs.iter().rev().find(|x| !is_multicast(x)) {
                        self.default_mac = *u;
                    }
                }
            }
        }
        Ok(Vec::new())
    }

    fn vlan_list(msg: &[u8]) -> Vec<u16> {
        let n = rd_u16(msg, vc::vlan_filter_list::num_elements) as usize;
        (0..n)
            .map(|i| rd_u16(msg, vc::vlan_filter_list::vlan_id + 2 * i))
            .collect()
    }

    /// Contract 5.6: the driver sends VLAN ops (filters and stripping) only when
    /// OFFLOAD_VLAN was granted; the emulator refuses them with ERR_PARAM otherwise.
    fn need_vlan_cap(&self, op: u32) -> Result<(), Refusal> {
        if self.caps & vc::VF_OFFLOAD_VLAN == 0 {
            return Err(bad(
                ViolationKind::VirtchnlUnsupported,
                PfErr::Param,
                format!(
                    "{} without the granted OFFLOAD_VLAN capability",
                    vc::op_name(op)
                ),
            ));
        }
        Ok(())
    }

    fn add_vlan(&mut self, o: &PfOpts, msg: &[u8], out: &mut Outcome) -> Result<Vec<u8>, Refusal> {
        self.need_active(vc::OP_ADD_VLAN)?;
        self.need_vlan_cap(vc::OP_ADD_VLAN)?;
        self.check_vsi(rd_u16(msg, vc::vlan_filter_list::vsi_id), "ADD_VLAN")?;
        let list = Self::vlan_list(msg);
        if let Some(v) = list.iter().find(|&&v| v > MAX_VLANID) {
            return Err(fmt_err(format!("ADD_VLAN: VLAN id {v} > 4095")));
        }
        let counted = |s: &Self| s.vlans.iter().filter(|&&v| v != 0).count();
        match o.flavor {
            PfFlavor::Upstream => {
                if !self.trusted && counted(self) >= MAX_VLAN_UNTRUSTED {
                    out.ignored = Some(format!(
                        "ADD_VLAN: untrusted VF already has {MAX_VLAN_UNTRUSTED} VLANs; PF-UP replies SUCCESS and adds nothing"
                    ));
                    return Ok(Vec::new());
                }
                for v in list {
                    if !self.vlans.contains(&v) {
                        self.vlans.push(v);
                    }
                }
                // PF-UP i40e_vc_add_vlan_msg: i40e_vlan_stripping_enable on every ADD_VLAN.
                self.vlan_strip = true;
            }
            PfFlavor::OutOfTree => {
                for v in list {
                    if self.vlans.contains(&v) {
                        continue;
                    }
                    if v != 0 && !self.trusted && counted(self) >= MAX_VLAN_UNTRUSTED {
                        return Err(policy(
                            PfErr::Param,
                            format!("ADD_VLAN {v}: untrusted VF limit of {MAX_VLAN_UNTRUSTED} VLANs (PF-OOT)"),
                        ));
                    }
                    self.vlans.push(v);
                }
            }
        }
        Ok(Vec::new())
    }

    fn del_vlan(&mut self, msg: &[u8]) -> Result<Vec<u8>, Refusal> {
        self.need_active(vc::OP_DEL_VLAN)?;
        self.need_vlan_cap(vc::OP_DEL_VLAN)?;
        self.check_vsi(rd_u16(msg, vc::vlan_filter_list::vsi_id), "DEL_VLAN")?;
        let list = Self::vlan_list(msg);
        if let Some(v) = list.iter().find(|&&v| v > MAX_VLANID) {
            return Err(fmt_err(format!("DEL_VLAN: VLAN id {v} > 4095")));
        }
        self.vlans.retain(|v| !list.contains(v));
        Ok(Vec::new())
    }

    fn promisc(&mut self, msg: &[u8], out: &mut Outcome) -> Result<Vec<u8>, Refusal> {
        self.need_active(vc::OP_CONFIG_PROMISCUOUS_MODE)?;
        self.check_vsi(
            rd_u16(msg, vc::promisc_info::vsi_id),
            "CONFIG_PROMISCUOUS_MODE",
        )?;
        let flags = rd_u16(msg, vc::promisc_info::flags);
        if flags > (vc::FLAG_VF_UNICAST_PROMISC | vc::FLAG_VF_MULTICAST_PROMISC) {
            return Err(fmt_err(format!(
                "CONFIG_PROMISCUOUS_MODE: flags {flags:#x} > 3"
            )));
        }
        if !self.trusted {
            // "Lie to the VF on purpose, because this is an error we can cause."
            out.ignored = Some(format!(
                "CONFIG_PROMISCUOUS_MODE flags {flags:#x} from an untrusted VF: SUCCESS, nothing changed"
            ));
            return Ok(Vec::new());
        }
        self.uc_promisc = flags & vc::FLAG_VF_UNICAST_PROMISC != 0;
        self.mc_promisc = flags & vc::FLAG_VF_MULTICAST_PROMISC != 0;
        Ok(Vec::new())
    }

    fn get_stats(&mut self, msg: &[u8], stats: EthStats) -> Result<Vec<u8>, Refusal> {
        self.need_active(vc::OP_GET_STATS)?;
        self.check_vsi(rd_u16(msg, vc::queue_select::vsi_id), "GET_STATS")?;
        Ok(stats.to_bytes())
    }

    fn rss_key(
        &mut self,
        msg: &[u8],
        rss: &mut crate::dp::RssState,
        out: &mut Outcome,
    ) -> Result<Vec<u8>, Refusal> {
        self.need_active(vc::OP_CONFIG_RSS_KEY)?;
        self.cap_used(vc::VF_OFFLOAD_RSS_PF, vc::OP_CONFIG_RSS_KEY, out);
        self.check_vsi(rd_u16(msg, vc::rss_key::vsi_id), "CONFIG_RSS_KEY")?;
        let n = rd_u16(msg, vc::rss_key::key_len) as usize;
        if n != crate::regs::RSS_KEY_LEN {
            return Err(fmt_err(format!("CONFIG_RSS_KEY: key_len {n} != 52")));
        }
        for (i, k) in rss.key.iter_mut().enumerate() {
            *k = rd_u8(msg, vc::rss_key::key + i);
        }
        Ok(Vec::new())
    }

    fn rss_lut(
        &mut self,
        msg: &[u8],
        rss: &mut crate::dp::RssState,
        out: &mut Outcome,
    ) -> Result<Vec<u8>, Refusal> {
        self.need_active(vc::OP_CONFIG_RSS_LUT)?;
        self.cap_used(vc::VF_OFFLOAD_RSS_PF, vc::OP_CONFIG_RSS_LUT, out);
        self.check_vsi(rd_u16(msg, vc::rss_lut::vsi_id), "CONFIG_RSS_LUT")?;
        let n = rd_u16(msg, vc::rss_lut::lut_entries) as usize;
        if n != crate::regs::RSS_LUT_LEN {
            return Err(fmt_err(format!("CONFIG_RSS_LUT: lut_entries {n} != 64")));
        }
        for i in 0..n {
            let e = rd_u8(msg, vc::rss_lut::lut + i);
            // Bound: vf->num_queue_pairs, the count GET_VF_RESOURCES reported (5.8).
            if e as u16 >= self.alloc_qp {
                return Err(fmt_err(format!(
                    "CONFIG_RSS_LUT: entry {i} = {e} >= {} queue pairs",
                    self.alloc_qp
                )));
            }
        }
        for (i, l) in rss.lut.iter_mut().enumerate() {
            *l = rd_u8(msg, vc::rss_lut::lut + i);
        }
        Ok(Vec::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retval_styles_from_the_contract() {
        // Contract 4.1: virtchnl codes; PF-UP errno; PF-OOT i40e_status; -EPERM leaks in all.
        let v = RetvalStyle::Virtchnl;
        assert_eq!(
            [
                v.code(PfErr::Param),
                v.code(PfErr::NoMem),
                v.code(PfErr::NotSupported),
                v.code(PfErr::UnknownOpcode)
            ],
            [-5, -18, -64, -64]
        );
        let e = RetvalStyle::Errno;
        assert_eq!(
            [
                e.code(PfErr::Param),
                e.code(PfErr::NoMem),
                e.code(PfErr::NotSupported),
                e.code(PfErr::UnknownOpcode)
            ],
            [-22, -12, -95, -22]
        );
        let o = RetvalStyle::I40eStatus;
        assert_eq!(
            [
                o.code(PfErr::Param),
                o.code(PfErr::InvalidMac),
                o.code(PfErr::NoMem),
                o.code(PfErr::NotSupported)
            ],
            [-5, -10, -18, -60]
        );
        for s in [v, e, o] {
            assert_eq!(s.code(PfErr::Perm), -1);
        }
    }

    #[test]
    fn eth_stats_byte_order() {
        let s = EthStats {
            rx_bytes: 0x0102,
            tx_errors: 7,
            ..Default::default()
        };
        let b = s.to_bytes();
        assert_eq!(b.len(), 96);
        assert_eq!(&b[0..8], &[0x02, 0x01, 0, 0, 0, 0, 0, 0]);
        assert_eq!(&b[88..96], &[7, 0, 0, 0, 0, 0, 0, 0]);
    }
}
