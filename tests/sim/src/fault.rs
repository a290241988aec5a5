//! Deterministic fault injection.
//!
//! A [`FaultPlan`] holds rules that the emulated PF consults at fixed points: before
//! answering a virtchnl request (drop, delay, duplicate or refuse the reply; reset the
//! VF after the request), at virtual times (reset a VF, flap the link), and on the data
//! path (corrupt an RX write-back, stall TX completions). Randomised rules draw from a
//! SplitMix64 generator seeded from `SimOptions::seed`, so a run is reproducible from
//! its seed.

pub use crate::dp::RxCorruption;

/// SplitMix64 (Steele, Lea, Flood 2014): tiny, good enough for fault dice.
#[derive(Clone, Debug)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// True with probability `ppm` / 1_000_000.
    pub fn chance(&mut self, ppm: u32) -> bool {
        self.next_u64() % 1_000_000 < ppm as u64
    }

    /// Uniform in `0..n` (0 if n is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next_u64() % n
        }
    }
}

/// Which requests a reply rule matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Match {
    /// None = any VF.
    pub vf: Option<usize>,
    /// None = any opcode.
    pub opcode: Option<u32>,
    /// 1-based: the Nth matching request (counted per VF and opcode); 0 = every one.
    pub nth: u32,
}

/// What to do to a matched request's reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplyFault {
    /// Process the request but send no reply.
    Drop,
    /// Send the reply `ns` of virtual time later (other replies keep their order
    /// relative to each other, so a delayed reply can arrive after later ones).
    Delay(u64),
    /// Send the reply twice.
    Duplicate,
    /// Do not process the request; reply with this status.
    Refuse(i32),
    /// Process and reply, then reset the VF (with RESET_IMPENDING).
    ResetAfter,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReplyRule {
    pub when: Match,
    pub fault: ReplyFault,
    pub fired: u32,
}

/// Time-triggered actions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimedFault {
    /// PF-initiated reset of a VF (RESET_IMPENDING first).
    ResetVf(usize),
    /// Whole-PF reset.
    ResetPf,
    /// Link down now, back up (at the previous speed) `down_ns` later.
    LinkFlap { down_ns: u64 },
    /// Link state change.
    Link { up: bool, speed_mbps: u32 },
}

/// The plan. Build it through `Sim::faults()`.
#[derive(Clone, Debug)]
pub struct FaultPlan {
    pub rng: SplitMix64,
    pub reply_rules: Vec<ReplyRule>,
    /// (virtual time, action), fired by `Sim::advance`.
    pub timed: Vec<(u64, TimedFault)>,
    /// Random reply faults: probability (ppm) of dropping / delaying a reply, and the
    /// maximum delay. Applied after the explicit rules, never to VERSION.
    pub random_drop_ppm: u32,
    pub random_delay_ppm: u32,
    pub random_delay_max_ns: u64,
    /// Per VF: corrupt the next N RX write-backs in the given way.
    pub rx_corrupt: Vec<(usize, u32, RxCorruption)>,
    /// Per VF: TX completions withheld until this virtual time.
    pub tx_stall_until: Vec<(usize, u64)>,
}

impl FaultPlan {
    pub fn new(seed: u64) -> FaultPlan {
        FaultPlan {
            rng: SplitMix64::new(seed),
            reply_rules: Vec::new(),
            timed: Vec::new(),
            random_drop_ppm: 0,
            random_delay_ppm: 0,
            random_delay_max_ns: 0,
            rx_corrupt: Vec::new(),
            tx_stall_until: Vec::new(),
        }
    }

    fn rule(
        &mut self,
        vf: Option<usize>,
        opcode: Option<u32>,
        nth: u32,
        fault: ReplyFault,
    ) -> &mut Self {
        self.reply_rules.push(ReplyRule {
            when: Match { vf, opcode, nth },
            fault,
            fired: 0,
        });
        self
    }

    /// Drop the reply to the `nth` (1-based; 0 = every) request `opcode` of `vf` (None = any VF).
    pub fn drop_reply(&mut self, vf: Option<usize>, opcode: u32, nth: u32) -> &mut Self {
        self.rule(vf, Some(opcode), nth, ReplyFault::Drop)
    }

    pub fn delay_reply(&mut self, vf: Option<usize>, opcode: u32, nth: u32, ns: u64) -> &mut Self {
        self.rule(vf, Some(opcode), nth, ReplyFault::Delay(ns))
    }

    pub fn duplicate_reply(&mut self, vf: Option<usize>, opcode: u32, nth: u32) -> &mut Self {
        self.rule(vf, Some(opcode), nth, ReplyFault::Duplicate)
    }

    /// Refuse `opcode` with `status` (e.g. -5) without processing it.
    pub fn refuse(&mut self, vf: Option<usize>, opcode: u32, nth: u32, status: i32) -> &mut Self {
        self.rule(vf, Some(opcode), nth, ReplyFault::Refuse(status))
    }

    /// Reset the VF right after answering its `nth` request `opcode`.
    pub fn reset_after(&mut self, vf: Option<usize>, opcode: u32, nth: u32) -> &mut Self {
        self.rule(vf, Some(opcode), nth, ReplyFault::ResetAfter)
    }

    /// PF-initiated reset of `vf` at virtual time `t_ns`.
    pub fn reset_at(&mut self, vf: usize, t_ns: u64) -> &mut Self {
        self.timed.push((t_ns, TimedFault::ResetVf(vf)));
        self
    }

    pub fn pf_reset_at(&mut self, t_ns: u64) -> &mut Self {
        self.timed.push((t_ns, TimedFault::ResetPf));
        self
    }

    /// Link down at `t_ns`, up again `down_ns` later.
    pub fn link_flap_at(&mut self, t_ns: u64, down_ns: u64) -> &mut Self {
        self.timed.push((t_ns, TimedFault::LinkFlap { down_ns }));
        self
    }

    /// Corrupt the next `n` RX write-backs of `vf` (the data path writes the bad
    /// write-back, see [`RxCorruption`]).
    pub fn corrupt_rx(&mut self, vf: usize, n: u32, how: RxCorruption) -> &mut Self {
        self.rx_corrupt.push((vf, n, how));
        self
    }

    /// Withhold `vf`'s TX completions until virtual time `until_ns`.
    pub fn stall_tx(&mut self, vf: usize, until_ns: u64) -> &mut Self {
        self.tx_stall_until.push((vf, until_ns));
        self
    }

    /// Random reply faults drawn from the seed.
    pub fn random_replies(
        &mut self,
        drop_ppm: u32,
        delay_ppm: u32,
        max_delay_ns: u64,
    ) -> &mut Self {
        self.random_drop_ppm = drop_ppm;
        self.random_delay_ppm = delay_ppm;
        self.random_delay_max_ns = max_delay_ns;
        self
    }

    /// Faults for the request that is the `count`-th (1-based) `opcode` of `vf`.
    pub fn reply_faults(&mut self, vf: usize, opcode: u32, count: u32) -> Vec<ReplyFault> {
        let mut out = Vec::new();
        for r in self.reply_rules.iter_mut() {
            let m = r.when;
            if m.vf.is_some_and(|x| x != vf) || m.opcode.is_some_and(|o| o != opcode) {
                continue;
            }
            if m.nth == 0 || m.nth == count {
                r.fired += 1;
                out.push(r.fault);
            }
        }
        if opcode != crate::virtchnl::OP_VERSION {
            if self.random_drop_ppm > 0 && self.rng.chance(self.random_drop_ppm) {
                out.push(ReplyFault::Drop);
            } else if self.random_delay_ppm > 0 && self.rng.chance(self.random_delay_ppm) {
                let d = 1 + self.rng.below(self.random_delay_max_ns.max(1));
                out.push(ReplyFault::Delay(d));
            }
        }
        out
    }

    /// Timed actions due at `now`, removed from the plan, in time order.
    pub fn take_due(&mut self, now: u64) -> Vec<(u64, TimedFault)> {
        let mut due: Vec<(u64, TimedFault)> = Vec::new();
        self.timed.retain(|&(t, a)| {
            if t <= now {
                due.push((t, a));
                false
            } else {
                true
            }
        });
        due.sort_by_key(|(t, _)| *t);
        due
    }

    /// The next time a timed action is due.
    pub fn next_due(&self) -> Option<u64> {
        self.timed.iter().map(|(t, _)| *t).min()
    }

    /// Consume one RX corruption credit of `vf`.
    pub fn take_rx_corruption(&mut self, vf: usize) -> Option<RxCorruption> {
        for (v, n, how) in self.rx_corrupt.iter_mut() {
            if *v == vf && *n > 0 {
                *n -= 1;
                return Some(*how);
            }
        }
        None
    }

    /// Whether `vf`'s TX completions are stalled at `now`.
    pub fn tx_stalled(&self, vf: usize, now: u64) -> bool {
        self.tx_stall_until.iter().any(|&(v, t)| v == vf && now < t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix_is_deterministic() {
        // Reference values of SplitMix64 seeded with 0 (published test vector).
        let mut r = SplitMix64::new(0);
        assert_eq!(r.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(r.next_u64(), 0x6E78_9E6A_A1B9_65F4);
        let (mut a, mut b) = (SplitMix64::new(42), SplitMix64::new(42));
        for _ in 0..100 {
            assert_eq!(a.next_u64(), b.next_u64());
        }
    }

    #[test]
    fn nth_matching() {
        let mut p = FaultPlan::new(1);
        p.drop_reply(Some(0), 6, 2).refuse(None, 8, 0, -5);
        assert!(p.reply_faults(0, 6, 1).is_empty());
        assert_eq!(p.reply_faults(0, 6, 2), vec![ReplyFault::Drop]);
        assert!(p.reply_faults(1, 6, 2).is_empty(), "other VF");
        assert_eq!(p.reply_faults(1, 8, 7), vec![ReplyFault::Refuse(-5)]);
    }

    #[test]
    fn timed_in_order() {
        let mut p = FaultPlan::new(1);
        p.reset_at(0, 500).link_flap_at(100, 10);
        assert!(p.take_due(50).is_empty());
        assert_eq!(p.next_due(), Some(100));
        let d = p.take_due(1000);
        assert_eq!(
            d,
            vec![
                (100, TimedFault::LinkFlap { down_ns: 10 }),
                (500, TimedFault::ResetVf(0))
            ]
        );
        assert!(p.timed.is_empty());
    }
}
