//! The stand-in's [`Device`] over ravf-sim's [`Sim`], and helpers to build a
//! [`Machine`] from an iovctl.conf and to report what the emulator saw.

use std::cell::RefMut;
use std::sync::Arc;

use ravf_sim::mem::HostMemory;
use ravf_sim::virtchnl::op_name;
use ravf_sim::{ConfigError, PfEvent, Sim, SimOptions};

use crate::device::Device;
use crate::machine::{Machine, Options};

/// ravf-sim as a PCI device tree.
pub struct SimDevice {
    pub sim: Sim,
}

impl Device for SimDevice {
    fn num_vfs(&self) -> usize {
        self.sim.num_vfs()
    }
    fn bar_read(&mut self, vf: usize, bar: u8, off: u64) -> u32 {
        self.sim.bar_read(vf, bar, off, 4)
    }
    fn bar_write(&mut self, vf: usize, bar: u8, off: u64, val: u32) {
        self.sim.bar_write(vf, bar, off, 4, val)
    }
    fn bar_size(&self, _vf: usize, bar: u8) -> u64 {
        // pci.rs: BAR0 64 KiB (CSRs), BAR3 16 KiB (MSI-X).
        match bar {
            0 => 0x1_0000,
            3 => 0x4000,
            _ => 0,
        }
    }
    fn cfg_read(&mut self, vf: usize, off: u16, width: u8) -> u32 {
        self.sim.cfg_read(vf, off, width)
    }
    fn cfg_write(&mut self, vf: usize, off: u16, width: u8, val: u32) {
        self.sim.cfg_write(vf, off, width, val)
    }
    fn advance(&mut self, ns: u64) {
        self.sim.advance(ns)
    }
    fn take_irqs(&mut self, vf: usize) -> u32 {
        self.sim.take_irqs(vf)
    }
    fn as_any_mut(&mut self) -> &mut dyn std::any::Any {
        self
    }
}

/// A machine around `sim`, every VF's DMA going to one in-process memory.
pub fn machine_with_sim(mut sim: Sim, opts: Options) -> Machine {
    let mem = HostMemory::new();
    for vf in 0..sim.num_vfs() {
        sim.attach_memory(vf, mem.clone());
    }
    Machine::new(Box::new(SimDevice { sim }), mem as Arc<HostMemory>, opts)
}

/// A machine for an iovctl.conf text with the emulator's default options.
pub fn machine_from_config(text: &str, opts: Options) -> Result<Machine, ConfigError> {
    machine_from_config_with(text, SimOptions::default(), opts)
}

pub fn machine_from_config_with(
    text: &str,
    sopts: SimOptions,
    opts: Options,
) -> Result<Machine, ConfigError> {
    let sim = Sim::from_config_str(text, sopts)?;
    Ok(machine_with_sim(sim, opts))
}

/// The emulator inside a machine built here.
pub fn sim(m: &Machine) -> RefMut<'_, Sim> {
    RefMut::map(m.shared().dev.borrow_mut(), |d| {
        &mut d
            .as_any_mut()
            .downcast_mut::<SimDevice>()
            .expect("machine built by emu")
            .sim
    })
}

/// The emulator's violations, as text.
pub fn violations(m: &Machine) -> Vec<String> {
    sim(m).violations().iter().map(|v| v.to_string()).collect()
}

pub fn event_count(m: &Machine) -> usize {
    sim(m).events().len()
}

/// One PF event as a line for people.
pub fn fmt_event(e: &PfEvent) -> String {
    match e {
        PfEvent::Refused {
            vf,
            opcode,
            status,
            reason,
        } => {
            format!(
                "VF{vf} <- {} refused, status {status} ({reason})",
                op_name(*opcode)
            )
        }
        PfEvent::Ignored { vf, opcode, reason } => format!(
            "VF{vf} <- {} accepted but ignored ({reason})",
            op_name(*opcode)
        ),
        PfEvent::Dropped { vf, opcode, reason } => {
            format!("VF{vf} -> {} dropped ({reason})", op_name(*opcode))
        }
        PfEvent::Sent {
            vf,
            opcode,
            retval,
            len,
        } if *opcode == ravf_sim::virtchnl::OP_EVENT => {
            format!("VF{vf} <- EVENT ({len} bytes)")
        }
        PfEvent::Sent {
            vf,
            opcode,
            retval,
            len,
        } => format!(
            "VF{vf} -> {:<26} <- {} ({len} bytes)",
            op_name(*opcode),
            if *retval == 0 {
                "SUCCESS".to_string()
            } else {
                format!("status {retval}")
            }
        ),
        PfEvent::ResetStart {
            vf,
            cause: ravf_sim::ResetCause::VfRequest,
        } => {
            format!("VF{vf} -> RESET_VF                   (no reply: the PF resets the VF)")
        }
        PfEvent::ResetStart { vf, cause } => format!("VF{vf} reset started ({cause:?})"),
        PfEvent::ResetDone { vf } => format!("VF{vf} reset done"),
        PfEvent::LinkChange {
            vf,
            up,
            speed_mbps,
            advanced,
        } => format!(
            "VF{vf} <- LINK_CHANGE {} {speed_mbps} Mbit/s{}",
            if *up { "up" } else { "down" },
            if *advanced { " (advanced)" } else { "" }
        ),
        PfEvent::ResetImpending { vf } => format!("VF{vf} <- RESET_IMPENDING"),
        PfEvent::ArqOverflow { vf, opcode } => {
            format!("VF{vf} ARQ overflow dropping {}", op_name(*opcode))
        }
        PfEvent::Mdd { vf, queue, detail } => format!("VF{vf} MDD on TX queue {queue}: {detail}"),
        PfEvent::Note { vf, detail } => format!("VF{vf} note: {detail}"),
        PfEvent::Fault { vf, detail } => format!("VF{vf} fault injected: {detail}"),
    }
}

/// Events from index `from` on, formatted.
pub fn events_since(m: &Machine, from: usize) -> Vec<String> {
    sim(m).events().iter().skip(from).map(fmt_event).collect()
}

/// A summary of the PF and its VFs.
pub fn describe(m: &Machine) -> String {
    let s = sim(m);
    let cfg = s.config();
    let mut out = format!("  PF {} with {} VFs\n", cfg.device, cfg.vfs.len());
    for (i, v) in cfg.vfs.iter().enumerate() {
        out += &format!(
            "  VF-{i}: mac-addr {}, allow-set-mac {}, allow-promisc {}, num-queues {}\n",
            v.mac_addr
                .map(crate::pkt::fmt_mac)
                .unwrap_or_else(|| "(none)".into()),
            v.allow_set_mac,
            v.allow_promisc,
            v.num_queues
        );
    }
    for (l, w) in cfg.warnings.iter() {
        out += &format!("  warning, line {l}: {w}\n");
    }
    out
}

/// The emulator's counters of `vf`, as text.
pub fn counters(m: &Machine, vf: usize) -> String {
    let c = sim(m).counters(vf);
    format!(
        "    emulator: tx {} frames {} bytes ({} TSO segments, {} csum requests) | rx {} frames {} bytes, {} no-desc drops | {} irqs, {} virtchnl requests\n",
        c.tx_frames, c.tx_bytes, c.tso_segments, c.csum_req, c.rx_frames, c.rx_bytes, c.rx_no_desc, c.irqs, c.vc_requests
    )
}
