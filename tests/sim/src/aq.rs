//! The VF admin queue (mailbox) as firmware runs it (contract section 3, 9.1 items 6-8).
//!
//! ATQ: on the ATQT doorbell, descriptors ATQH..ATQT are processed in order, one at a
//! time (the PF may reset the VF in the middle of a batch, which disables the ring);
//! each gets `flags |= DD|CMP`, `retval = 0` written back and ATQH advances. BAL/BAH are
//! read at doorbell time, so both init orders work (LEN|ENABLE before or after the
//! base address). Opcode 0x0003 (queue shutdown) is consumed without a virtchnl
//! message. ARQ: PF messages are copied into the buffer of descriptor ARQH only while
//! ARQH != ARQT; the descriptor gets opcode 0x0802, datalen, cookies (v_opcode,
//! v_retval), param0 = VF id; then ARQH advances. With no free descriptor messages
//! wait in a bounded internal queue; past the bound they are dropped and ARQLEN.OVFL
//! latches (contract 3.5 RECOMMENDATION).

use std::collections::VecDeque;

use crate::mem::GuestMemory;
use crate::regs::*;
use crate::violation::{Log, PfEvent, ViolationKind};

// iavf_adminq_cmd.h: descriptor flags
pub const AQ_FLAG_DD: u16 = 0x0001;
pub const AQ_FLAG_CMP: u16 = 0x0002;
pub const AQ_FLAG_ERR: u16 = 0x0004;
pub const AQ_FLAG_VFE: u16 = 0x0008;
pub const AQ_FLAG_LB: u16 = 0x0200;
pub const AQ_FLAG_RD: u16 = 0x0400;
pub const AQ_FLAG_VFC: u16 = 0x0800;
pub const AQ_FLAG_BUF: u16 = 0x1000;
pub const AQ_FLAG_SI: u16 = 0x2000;
pub const AQ_FLAG_EI: u16 = 0x4000;
pub const AQ_FLAG_FE: u16 = 0x8000;
// iavf_adminq_cmd.h: opcodes
pub const AQC_OPC_QUEUE_SHUTDOWN: u16 = 0x0003;
pub const AQC_OPC_SEND_MSG_TO_PF: u16 = 0x0801;
pub const AQC_OPC_SEND_MSG_TO_VF: u16 = 0x0802;
// iavf_adminq_cmd.h: enum iavf_admin_queue_err
pub const AQ_RC_OK: u16 = 0;
pub const AQ_RC_ESRCH: u16 = 3;
pub const AQ_RC_EFAULT: u16 = 11;
pub const AQ_RC_EINVAL: u16 = 14;

pub const DESC_SIZE: u64 = 32;
/// The AQ buffer size every driver uses and the largest message (IAVF_MAX_AQ_BUF_SIZE).
pub const MAX_BUF: usize = 4096;
/// `IAVF_AQ_LARGE_BUF`: buffers above this need the LB flag.
pub const LARGE_BUF: usize = 512;
/// Ring base alignment the emulator demands (OpenBSD uses 64 on real hardware; the
/// hardware minimum is UNCONFIRMED, contract 3.5).
pub const RING_ALIGN: u64 = 64;
/// Messages held for a full ARQ before OVFL (an emulator choice).
pub const ARQ_BACKLOG: usize = 64;

/// A 32-byte AQ descriptor (contract 3.1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AqDesc {
    pub flags: u16,
    pub opcode: u16,
    pub datalen: u16,
    pub retval: u16,
    pub cookie_high: u32,
    pub cookie_low: u32,
    pub param0: u32,
    pub param1: u32,
    pub addr_high: u32,
    pub addr_low: u32,
}

impl AqDesc {
    pub fn from_bytes(b: &[u8; 32]) -> AqDesc {
        let u16_at = |o: usize| u16::from_le_bytes([b[o], b[o + 1]]);
        let u32_at = |o: usize| u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]);
        AqDesc {
            flags: u16_at(0),
            opcode: u16_at(2),
            datalen: u16_at(4),
            retval: u16_at(6),
            cookie_high: u32_at(8),
            cookie_low: u32_at(12),
            param0: u32_at(16),
            param1: u32_at(20),
            addr_high: u32_at(24),
            addr_low: u32_at(28),
        }
    }

    pub fn to_bytes(&self) -> [u8; 32] {
        let mut b = [0u8; 32];
        b[0..2].copy_from_slice(&self.flags.to_le_bytes());
        b[2..4].copy_from_slice(&self.opcode.to_le_bytes());
        b[4..6].copy_from_slice(&self.datalen.to_le_bytes());
        b[6..8].copy_from_slice(&self.retval.to_le_bytes());
        b[8..12].copy_from_slice(&self.cookie_high.to_le_bytes());
        b[12..16].copy_from_slice(&self.cookie_low.to_le_bytes());
        b[16..20].copy_from_slice(&self.param0.to_le_bytes());
        b[20..24].copy_from_slice(&self.param1.to_le_bytes());
        b[24..28].copy_from_slice(&self.addr_high.to_le_bytes());
        b[28..32].copy_from_slice(&self.addr_low.to_le_bytes());
        b
    }

    pub fn addr(&self) -> u64 {
        (self.addr_high as u64) << 32 | self.addr_low as u64
    }
}

/// A PF→VF message waiting for an ARQ slot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArqMsg {
    pub v_opcode: u32,
    pub v_retval: i32,
    pub payload: Vec<u8>,
}

/// A VF→PF virtchnl message taken from the ATQ.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VfMsg {
    pub v_opcode: u32,
    pub payload: Vec<u8>,
}

/// The ten AQ registers and the ARQ backlog.
#[derive(Clone, Debug, Default)]
pub struct AdminQueue {
    pub atq_bal: u32,
    pub atq_bah: u32,
    pub atq_len: u32,
    pub atq_h: u32,
    pub atq_t: u32,
    pub arq_bal: u32,
    pub arq_bah: u32,
    pub arq_len: u32,
    pub arq_h: u32,
    pub arq_t: u32,
    pub backlog: VecDeque<ArqMsg>,
    /// Set by a VF reset, cleared by the driver's next ATQLEN write: the window in
    /// which a driver that has not yet noticed the reset may still ring the ATQ.
    /// Linux iavf does this (a watchdog GET_STATS, or RESET_VF from iavf_remove)
    /// and works on real hardware, which ignores the doorbell.
    pub reset_unacked: bool,
}

/// A write to an xQLEN register: plain storage, except that VFE/OVFL/CRIT are
/// hardware-set latches that software clears by writing 0 (contract 2.3, 3.6).
fn len_write(old: u32, val: u32) -> u32 {
    let errs = AQLEN_VFE | AQLEN_OVFL | AQLEN_CRIT;
    // Bits 27:10 are reserved (REG-I40E): they read 0.
    (val & (AQLEN_LEN_MASK | AQLEN_ENABLE)) | (old & val & errs)
}

impl AdminQueue {
    /// Every AQ register to 0 (VF reset; contract 2.3 "clear ATQLEN/ARQLEN and should
    /// clear H/T/BAL/BAH too"), backlog dropped.
    pub fn reset(&mut self) {
        *self = AdminQueue {
            reset_unacked: true,
            ..AdminQueue::default()
        };
    }

    pub fn write_atq_len(&mut self, val: u32) {
        self.reset_unacked = false;
        self.atq_len = len_write(self.atq_len, val);
    }

    pub fn write_arq_len(&mut self, val: u32) {
        self.arq_len = len_write(self.arq_len, val);
    }

    fn atq_base(&self) -> u64 {
        (self.atq_bah as u64) << 32 | self.atq_bal as u64
    }

    fn arq_base(&self) -> u64 {
        (self.arq_bah as u64) << 32 | self.arq_bal as u64
    }

    pub fn atq_enabled(&self) -> bool {
        self.atq_len & AQLEN_ENABLE != 0 && self.atq_len & AQLEN_LEN_MASK != 0
    }

    pub fn arq_enabled(&self) -> bool {
        self.arq_len & AQLEN_ENABLE != 0 && self.arq_len & AQLEN_LEN_MASK != 0
    }

    /// Take the next ATQ descriptor, if the ring has work: validate it, write it back
    /// and advance ATQH. Returns the virtchnl message it carried (None when the ring is
    /// idle; `Some(None)` for a consumed descriptor without a PF message).
    pub fn next_atq(
        &mut self,
        mem: Option<&dyn GuestMemory>,
        vf: usize,
        log: &mut Log,
    ) -> Option<Option<VfMsg>> {
        let len = self.atq_len & AQLEN_LEN_MASK;
        let (h, t) = (self.atq_h & AQ_PTR_MASK, self.atq_t & AQ_PTR_MASK);
        if h == t {
            return None;
        }
        if !self.atq_enabled() {
            let what = format!(
                "ATQT doorbell ({t}) with the ATQ disabled (ATQLEN {:#x})",
                self.atq_len
            );
            if self.reset_unacked {
                // The hardware ignores it; the driver cannot know yet (see reset_unacked).
                log.event(PfEvent::Note {
                    vf,
                    detail: format!("{what}, before the driver noticed the reset: ignored"),
                });
            } else {
                log.violation(vf, ViolationKind::AqRing, what);
            }
            // Nothing runs until the driver enables the ring; avoid re-reporting.
            self.atq_t = self.atq_h;
            return None;
        }
        if t >= len || h >= len {
            log.violation(
                vf,
                ViolationKind::BadRegisterValue,
                format!("ATQ head {h}/tail {t} beyond LEN {len}"),
            );
            self.atq_len |= AQLEN_CRIT;
            self.atq_t = self.atq_h;
            return None;
        }
        let base = self.atq_base();
        if base % RING_ALIGN != 0 {
            log.violation(
                vf,
                ViolationKind::AqRing,
                format!("ATQ base {base:#x} is not {RING_ALIGN}-byte aligned"),
            );
        }
        let Some(mem) = mem else {
            log.violation(
                vf,
                ViolationKind::DmaFault,
                "ATQ doorbell with no guest memory attached",
            );
            self.atq_t = self.atq_h;
            return None;
        };
        let daddr = base.wrapping_add(h as u64 * DESC_SIZE);
        let mut raw = [0u8; 32];
        if let Err(f) = mem.read(daddr, &mut raw) {
            log.violation(
                vf,
                ViolationKind::DmaFault,
                format!("ATQ descriptor {h} read at {:#x}: fault", f.iova),
            );
            // The ring is unusable: firmware stops and flags a critical error.
            self.atq_len |= AQLEN_CRIT;
            self.atq_t = self.atq_h;
            return None;
        }
        let mut d = AqDesc::from_bytes(&raw);
        let mut out = None;
        let mut rc = AQ_RC_OK;
        match d.opcode {
            AQC_OPC_SEND_MSG_TO_PF => {
                let n = d.datalen as usize;
                let mut bad = None;
                if n > MAX_BUF {
                    bad = Some(format!("datalen {n} > {MAX_BUF}"));
                } else if n > 0 && d.flags & AQ_FLAG_BUF == 0 {
                    bad = Some(format!("datalen {n} without the BUF flag"));
                } else if n > 0 && d.flags & AQ_FLAG_RD == 0 {
                    bad = Some(format!(
                        "datalen {n} without the RD flag (firmware would not read the buffer)"
                    ));
                } else if n > LARGE_BUF && d.flags & AQ_FLAG_LB == 0 {
                    bad = Some(format!("datalen {n} > {LARGE_BUF} without the LB flag"));
                }
                if let Some(why) = bad {
                    log.violation(
                        vf,
                        ViolationKind::AqDescriptor,
                        format!("ATQ descriptor {h}: {why}"),
                    );
                    rc = AQ_RC_EINVAL;
                } else {
                    let mut payload = vec![0u8; n];
                    if n > 0 {
                        if let Err(f) = mem.read(d.addr(), &mut payload) {
                            log.violation(
                                vf,
                                ViolationKind::DmaFault,
                                format!(
                                    "ATQ descriptor {h} buffer {:#x}+{n}: fault at {:#x}",
                                    d.addr(),
                                    f.iova
                                ),
                            );
                            rc = AQ_RC_EFAULT;
                        }
                    }
                    if rc == AQ_RC_OK {
                        out = Some(VfMsg {
                            v_opcode: d.cookie_high,
                            payload,
                        });
                    }
                }
            }
            AQC_OPC_QUEUE_SHUTDOWN => {
                // Direct command from iavf_shutdown_adminq: consumed, nothing for the PF.
                if d.datalen != 0 {
                    log.violation(
                        vf,
                        ViolationKind::AqDescriptor,
                        "queue shutdown (0x0003) with a buffer",
                    );
                }
            }
            op => {
                log.violation(
                    vf,
                    ViolationKind::AqDescriptor,
                    format!("ATQ descriptor {h}: opcode {op:#06x} is not for a VF"),
                );
                rc = AQ_RC_ESRCH;
            }
        }
        d.flags |= AQ_FLAG_DD | AQ_FLAG_CMP;
        if rc != AQ_RC_OK {
            d.flags |= AQ_FLAG_ERR;
        }
        d.retval = rc;
        let wb = d.to_bytes();
        // Everything but the flags first, then the flags word holding DD.
        let w1 = mem.write(daddr + 2, &wb[2..]);
        let w2 = mem.write(daddr, &wb[..2]);
        if w1.is_err() || w2.is_err() {
            log.violation(
                vf,
                ViolationKind::DmaFault,
                format!("ATQ descriptor {h} write-back fault"),
            );
        }
        self.atq_h = (h + 1) % len;
        Some(out)
    }

    /// Queue a PF→VF message. Returns false (and latches OVFL) if the backlog is full.
    pub fn post(&mut self, msg: ArqMsg) -> bool {
        if self.backlog.len() >= ARQ_BACKLOG {
            self.arq_len |= AQLEN_OVFL;
            return false;
        }
        self.backlog.push_back(msg);
        true
    }

    /// Copy backlog messages into free ARQ descriptors. Returns how many were written.
    pub fn deliver(&mut self, mem: Option<&dyn GuestMemory>, vf: usize, log: &mut Log) -> usize {
        let mut n = 0;
        while !self.backlog.is_empty() && self.arq_enabled() {
            let len = self.arq_len & AQLEN_LEN_MASK;
            let (h, t) = (self.arq_h & AQ_PTR_MASK, self.arq_t & AQ_PTR_MASK);
            if t >= len {
                log.violation(
                    vf,
                    ViolationKind::BadRegisterValue,
                    format!("ARQT {t} beyond LEN {len}"),
                );
                self.arq_t = h;
                break;
            }
            if h == t {
                break; // no descriptor given to hardware
            }
            let Some(mem) = mem else { break };
            let base = self.arq_base();
            if base % RING_ALIGN != 0 {
                log.violation(
                    vf,
                    ViolationKind::AqRing,
                    format!("ARQ base {base:#x} is not {RING_ALIGN}-byte aligned"),
                );
            }
            let daddr = base.wrapping_add(h as u64 * DESC_SIZE);
            let mut raw = [0u8; 32];
            if let Err(f) = mem.read(daddr, &mut raw) {
                log.violation(
                    vf,
                    ViolationKind::DmaFault,
                    format!("ARQ descriptor {h} read at {:#x}: fault", f.iova),
                );
                self.arq_len |= AQLEN_CRIT;
                break;
            }
            let Some(msg) = self.backlog.pop_front() else {
                break;
            };
            let posted = AqDesc::from_bytes(&raw);
            let plen = msg.payload.len();
            if plen > 0 {
                let cap = posted.datalen as usize;
                if posted.flags & AQ_FLAG_BUF == 0 {
                    log.violation(
                        vf,
                        ViolationKind::AqRing,
                        format!("ARQ descriptor {h} posted without BUF"),
                    );
                } else {
                    if cap < plen {
                        log.violation(
                            vf,
                            ViolationKind::AqRing,
                            format!("ARQ descriptor {h} buffer of {cap} bytes < message of {plen}; truncated"),
                        );
                    }
                    let k = cap.min(plen);
                    if let Err(f) = mem.write(posted.addr(), &msg.payload[..k]) {
                        log.violation(
                            vf,
                            ViolationKind::DmaFault,
                            format!(
                                "ARQ descriptor {h} buffer {:#x}: fault at {:#x}",
                                posted.addr(),
                                f.iova
                            ),
                        );
                    }
                }
            }
            let d = AqDesc {
                flags: (posted.flags & (AQ_FLAG_BUF | AQ_FLAG_LB)) | AQ_FLAG_DD | AQ_FLAG_CMP,
                opcode: AQC_OPC_SEND_MSG_TO_VF,
                datalen: plen as u16,
                retval: 0,
                cookie_high: msg.v_opcode,
                cookie_low: msg.v_retval as u32,
                param0: vf as u32,
                param1: 0,
                addr_high: posted.addr_high,
                addr_low: posted.addr_low,
            };
            let wb = d.to_bytes();
            let w1 = mem.write(daddr + 2, &wb[2..]);
            let w2 = mem.write(daddr, &wb[..2]);
            if w1.is_err() || w2.is_err() {
                log.violation(
                    vf,
                    ViolationKind::DmaFault,
                    format!("ARQ descriptor {h} write fault"),
                );
            }
            self.arq_h = (h + 1) % len;
            n += 1;
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptor_bytes_follow_the_contract() {
        // Contract 3.1/3.4: a VERSION message as the VF builds it, written by hand.
        let raw: [u8; 32] = [
            0x00, 0x34, // flags SI|BUF|RD = 0x3400
            0x01, 0x08, // opcode 0x0801
            0x08, 0x00, // datalen 8
            0x00, 0x00, // retval
            0x01, 0x00, 0x00, 0x00, // cookie_high = VIRTCHNL_OP_VERSION
            0x00, 0x00, 0x00, 0x00, // cookie_low
            0, 0, 0, 0, 0, 0, 0, 0, // param0, param1
            0x78, 0x56, 0x34, 0x12, // addr_high
            0x00, 0x10, 0x00, 0x00, // addr_low
        ];
        let d = AqDesc::from_bytes(&raw);
        assert_eq!(d.flags, AQ_FLAG_SI | AQ_FLAG_BUF | AQ_FLAG_RD);
        assert_eq!(d.opcode, AQC_OPC_SEND_MSG_TO_PF);
        assert_eq!(d.datalen, 8);
        assert_eq!(d.cookie_high, 1);
        assert_eq!(d.addr(), 0x1234_5678_0000_1000);
        assert_eq!(d.to_bytes(), raw);
    }

    #[test]
    fn len_error_bits_are_write_zero_to_clear_latches() {
        let mut q = AdminQueue::default();
        q.write_arq_len(AQLEN_ENABLE | 32 | AQLEN_OVFL);
        assert_eq!(q.arq_len, AQLEN_ENABLE | 32, "software cannot set OVFL");
        q.arq_len |= AQLEN_OVFL | AQLEN_CRIT;
        q.write_arq_len(AQLEN_ENABLE | 32 | AQLEN_CRIT);
        assert_eq!(
            q.arq_len,
            AQLEN_ENABLE | 32 | AQLEN_CRIT,
            "OVFL cleared by 0, CRIT kept by 1"
        );
    }
}
