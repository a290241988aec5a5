//! The VF interrupt model (contract 2.4, 7.2-7.4).
//!
//! Per vector: INTENA (auto-masked when the vector fires), a pending bit, three ITR
//! intervals (2 us units) and the time of the last fire. A cause sets pending with a
//! due time = last fire + the ITR interval its index selects (index 3 = NOITR:
//! immediately). A pending vector fires when INTENA is set, its due time has passed,
//! MSI-X is enabled, the function is not masked and its table entry is not masked;
//! firing clears INTENA and pending. CLEARPBA clears pending, SWINT_TRIG sets it.
//! Vector 0 is controlled by DYN_CTL01/ITR01, vector v >= 1 by DYN_CTLN1(v-1)/ITRN1(., v-1).
//!
//! UNCONFIRMED (contract 9.3) and decided here: INTENA_MSK (bit 31) set = "this write
//! leaves INTENA as it is"; SW_ITR_INDX selects the ITR that throttles a software
//! interrupt when SW_ITR_INDX_ENA is set, otherwise a software interrupt is immediate.

use crate::regs::*;

/// ITR index meaning "no ITR": fire immediately (TXRX `IAVF_ITR_NONE`).
pub const ITR_NONE: u8 = 3;
/// ITR unit: 2 microseconds.
pub const ITR_UNIT_NS: u64 = 2_000;

#[derive(Clone, Debug, Default)]
pub struct Vector {
    pub intena: bool,
    pub pending: bool,
    /// Virtual time at which the pending cause may fire.
    pub due: u64,
    /// ITR[0..3] intervals in 2 us units.
    pub itr: [u32; 3],
    pub last_fire: Option<u64>,
    /// Last value written to DYN_CTL, without the one-shot bits.
    pub dyn_ctl: u32,
    /// Times this vector fired.
    pub fired: u64,
}

impl Vector {
    fn due_after(&self, itr_idx: u8, now: u64) -> u64 {
        match (itr_idx, self.last_fire) {
            (0..=2, Some(t)) => {
                let iv = self.itr[itr_idx as usize] as u64 * ITR_UNIT_NS;
                t.saturating_add(iv).max(now)
            }
            _ => now,
        }
    }
}

/// All vectors of one VF (vector 0 + up to 16 queue vectors; all 17 register sets
/// exist in BAR0 whatever the MSI-X table size).
#[derive(Clone, Debug)]
pub struct Interrupts {
    pub vec: Vec<Vector>,
}

impl Default for Interrupts {
    fn default() -> Self {
        Interrupts {
            vec: vec![Vector::default(); 17],
        }
    }
}

impl Interrupts {
    pub fn reset(&mut self) {
        *self = Interrupts::default();
    }

    /// A cause on vector `v` throttled by ITR index `itr_idx` (0..2, 3 = none).
    pub fn cause(&mut self, v: usize, itr_idx: u8, now: u64) {
        let Some(x) = self.vec.get_mut(v) else { return };
        let due = x.due_after(itr_idx, now);
        if x.pending {
            x.due = x.due.min(due);
        } else {
            x.pending = true;
            x.due = due;
        }
    }

    /// A DYN_CTL01 (v = 0) or DYN_CTLN1(v - 1) write.
    pub fn write_dyn_ctl(&mut self, v: usize, val: u32, now: u64) {
        let Some(x) = self.vec.get_mut(v) else { return };
        if val & DYN_CTL_INTENA_MSK == 0 {
            x.intena = val & DYN_CTL_INTENA != 0;
        }
        let idx = ((val >> DYN_CTL_ITR_INDX_SHIFT) & 3) as usize;
        if idx < 3 {
            x.itr[idx] = (val >> DYN_CTL_INTERVAL_SHIFT) & DYN_CTL_INTERVAL_MASK;
        }
        if val & DYN_CTL_CLEARPBA != 0 {
            x.pending = false;
        }
        x.dyn_ctl = val & !(DYN_CTL_CLEARPBA | DYN_CTL_SWINT_TRIG | DYN_CTL_INTENA);
        if val & DYN_CTL_SWINT_TRIG != 0 {
            let sw_idx = if val & DYN_CTL_SW_ITR_INDX_ENA != 0 {
                ((val >> DYN_CTL_SW_ITR_INDX_SHIFT) & 3) as u8
            } else {
                ITR_NONE
            };
            self.cause(v, sw_idx, now);
        }
    }

    /// DYN_CTL read-back: the stored fields with the live INTENA.
    pub fn read_dyn_ctl(&self, v: usize) -> u32 {
        self.vec
            .get(v)
            .map(|x| x.dyn_ctl | x.intena as u32)
            .unwrap_or(0)
    }

    pub fn write_itr(&mut self, v: usize, idx: usize, val: u32) {
        if let Some(x) = self.vec.get_mut(v) {
            if let Some(i) = x.itr.get_mut(idx) {
                *i = val & ITR_INTERVAL_MASK;
            }
        }
    }

    pub fn read_itr(&self, v: usize, idx: usize) -> u32 {
        self.vec
            .get(v)
            .and_then(|x| x.itr.get(idx).copied())
            .unwrap_or(0)
    }

    /// Fire every vector that can; `deliverable(v)` says whether MSI-X lets vector
    /// `v` through (enabled, function and entry unmasked). Returns the fired mask.
    pub fn fire_ready(&mut self, now: u64, deliverable: impl Fn(usize) -> bool) -> u32 {
        let mut fired = 0u32;
        for (v, x) in self.vec.iter_mut().enumerate() {
            if x.pending && x.intena && now >= x.due && deliverable(v) {
                x.pending = false;
                x.intena = false;
                x.last_fire = Some(now);
                x.fired += 1;
                fired |= 1 << v;
            }
        }
        fired
    }

    /// The earliest future time at which a pending, enabled vector becomes due.
    pub fn next_due(&self, now: u64) -> Option<u64> {
        self.vec
            .iter()
            .filter(|x| x.pending && x.intena && x.due > now)
            .map(|x| x.due)
            .min()
    }

    /// PBA bits (pending per vector; the table decides what is visible).
    pub fn pending_mask(&self) -> u32 {
        self.vec
            .iter()
            .enumerate()
            .filter(|(_, x)| x.pending)
            .fold(0, |m, (v, _)| m | 1 << v)
    }

    /// The PF's reset-time write of CLEARPBA to every queue vector (PF-OOT
    /// `i40e_free_vf_res`): INTENA = 0, pending cleared.
    pub fn pf_clear_queue_vectors(&mut self) {
        for x in self.vec.iter_mut().skip(1) {
            x.intena = false;
            x.pending = false;
            x.dyn_ctl = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: fn(usize) -> bool = |_| true;

    #[test]
    fn auto_mask_and_rearm() {
        let mut i = Interrupts::default();
        // Linux misc enable: INTENA | ITR_INDX(3) = 0x19.
        i.write_dyn_ctl(0, 0x19, 0);
        i.cause(0, ITR_NONE, 10);
        assert_eq!(i.fire_ready(10, ALL), 1);
        assert!(!i.vec[0].intena, "auto-masked");
        i.cause(0, ITR_NONE, 20);
        assert_eq!(i.fire_ready(20, ALL), 0, "held pending while masked");
        assert_eq!(i.pending_mask(), 1);
        i.write_dyn_ctl(0, 0x19, 30);
        assert_eq!(i.fire_ready(30, ALL), 1, "fires on re-enable");
    }

    #[test]
    fn itr_throttles_in_2us_units() {
        let mut i = Interrupts::default();
        // ITR0 of vector 1 = 0x19 (50 us), set through DYN_CTLN1 INTERVAL: idx 0, 25 units.
        i.write_dyn_ctl(1, DYN_CTL_INTENA | 25 << 5, 0);
        assert_eq!(i.read_itr(1, 0), 25);
        i.cause(1, 0, 1_000);
        assert_eq!(i.fire_ready(1_000, ALL), 2, "no previous fire: immediate");
        i.write_dyn_ctl(1, DYN_CTL_INTENA | 3 << 3, 1_000);
        i.cause(1, 0, 2_000);
        assert_eq!(i.fire_ready(2_000, ALL), 0, "within 50 us of the last fire");
        assert_eq!(i.next_due(2_000), Some(51_000));
        assert_eq!(i.fire_ready(51_000, ALL), 2);
        // NOITR cause is immediate even right after a fire.
        i.write_dyn_ctl(1, DYN_CTL_INTENA | 3 << 3, 51_000);
        i.cause(1, ITR_NONE, 51_001);
        assert_eq!(i.fire_ready(51_001, ALL), 2);
    }

    #[test]
    fn clearpba_swint_and_msix_gate() {
        let mut i = Interrupts::default();
        i.cause(2, ITR_NONE, 0);
        i.write_dyn_ctl(2, DYN_CTL_INTENA | DYN_CTL_CLEARPBA | 3 << 3, 0);
        assert_eq!(
            i.fire_ready(0, ALL),
            0,
            "CLEARPBA dropped the pending cause"
        );
        i.write_dyn_ctl(2, DYN_CTL_INTENA | DYN_CTL_SWINT_TRIG | 3 << 3, 5);
        assert_eq!(i.fire_ready(5, |v| v != 2), 0, "masked entry holds it");
        assert_eq!(i.fire_ready(6, ALL), 4);
        assert_eq!(
            i.read_dyn_ctl(2) & 7,
            0,
            "one-shot bits and auto-masked INTENA read 0"
        );
        // INTENA_MSK: the write leaves INTENA alone.
        i.write_dyn_ctl(2, DYN_CTL_INTENA, 7);
        i.write_dyn_ctl(2, DYN_CTL_INTENA_MSK | 3 << 3, 8);
        assert!(i.vec[2].intena);
    }
}
