//! Queue-vector interrupt control (hw-contract 2.4, 7).
//!
//! `v` is the queue-vector index: MSI-X vector `v + 1` is controlled by
//! `VFINT_DYN_CTLN1(v)` and `VFINT_ITRN1(i, v)` (vector 0 is the admin vector, owned by
//! the control plane). All functions refuse `v >= MAX_QUEUE_VECTORS` without writing.

use crate::os::Bar0;

/// The VF register block has 16 queue vectors: `VFINT_DYN_CTLN1(v)`, v = 0..15
/// (i40e_register.h).
pub const MAX_QUEUE_VECTORS: u16 = 16;

/// i40e_register.h: `I40E_VFINT_DYN_CTLN1(v) = 0x00003800 + 4*v`, v = 0..15.
#[inline]
pub const fn vfint_dyn_ctln1(v: u16) -> u32 {
    0x3800 + ((v as u32 & 0xF) << 2)
}

/// i40e_register.h: `I40E_VFINT_ITRN1(i, v) = 0x00002800 + 64*i + 4*v`, i = 0..2,
/// v = 0..15. INTERVAL `[11:0]` in 2 µs units.
#[inline]
pub const fn vfint_itrn1(i: u8, v: u16) -> u32 {
    0x2800 + ((i as u32 & 0x3) << 6) + ((v as u32 & 0xF) << 2)
}

/// DYN_CTLN1 bit 0 INTENA (i40e_register.h `I40E_VFINT_DYN_CTLN1_INTENA_SHIFT 0`).
pub const DYN_CTL_INTENA: u32 = 1 << 0;
/// DYN_CTLN1 bit 1 CLEARPBA.
pub const DYN_CTL_CLEARPBA: u32 = 1 << 1;
/// DYN_CTLN1 `[4:3]` ITR_INDX; 3 = "do not update any ITR" (iavf_txrx.h ITR_NONE).
pub const DYN_CTL_ITR_INDX_SHIFT: u32 = 3;
pub const DYN_CTL_ITR_NONE: u32 = 3 << DYN_CTL_ITR_INDX_SHIFT;

/// ITR index used for RX causes (FreeBSD/Linux `IAVF_RX_ITR = 0`).
pub const ITR_RX: u8 = 0;
/// ITR index used for TX causes (`IAVF_TX_ITR = 1`).
pub const ITR_TX: u8 = 1;
/// Largest ITR register value, 0xFF0 = 8160 µs (iavf_txrx.h `IAVF_MAX_ITR`).
pub const ITR_MAX: u16 = 0xFF0;

/// The queue vector index was out of range; nothing was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BadVector;

#[inline]
fn check(v: u16) -> Result<(), BadVector> {
    if v < MAX_QUEUE_VECTORS {
        Ok(())
    } else {
        Err(BadVector)
    }
}

/// Re-arm queue vector `v`: `INTENA | CLEARPBA | ITR_INDX(3)`, the value FreeBSD
/// `iavf_enable_queue_irq` and OpenBSD write (hw-contract 7.2).
#[inline]
pub fn queue_intr_enable<B: Bar0>(bar: &B, v: u16) -> Result<(), BadVector> {
    check(v)?;
    bar.wr32(
        vfint_dyn_ctln1(v),
        DYN_CTL_INTENA | DYN_CTL_CLEARPBA | DYN_CTL_ITR_NONE,
    );
    Ok(())
}

/// Mask queue vector `v`: `ITR_INDX(3)` only (INTENA = 0), as FreeBSD
/// `iavf_disable_queue_irq`.
#[inline]
pub fn queue_intr_disable<B: Bar0>(bar: &B, v: u16) -> Result<(), BadVector> {
    check(v)?;
    bar.wr32(vfint_dyn_ctln1(v), DYN_CTL_ITR_NONE);
    Ok(())
}

/// Set ITR `itr_idx` (0 = RX, 1 = TX, 2 = unused) of queue vector `v` to `interval`
/// in 2 µs units, clamped to [`ITR_MAX`] (FreeBSD `iavf_set_queue_rx_itr` writes the
/// raw register value the same way). `itr_idx > 2` is refused.
#[inline]
pub fn queue_itr_set<B: Bar0>(
    bar: &B,
    itr_idx: u8,
    v: u16,
    interval: u16,
) -> Result<(), BadVector> {
    check(v)?;
    if itr_idx > 2 {
        return Err(BadVector);
    }
    let val = if interval > ITR_MAX {
        ITR_MAX
    } else {
        interval
    };
    bar.wr32(vfint_itrn1(itr_idx, v), u32::from(val));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::txrx::testutil::BarLog;

    #[test]
    fn enable_disable_itr_values() {
        let bar = BarLog::default();
        queue_intr_enable(&bar, 0).unwrap();
        queue_intr_enable(&bar, 15).unwrap();
        queue_intr_disable(&bar, 3).unwrap();
        queue_itr_set(&bar, ITR_RX, 2, 0x3E).unwrap();
        queue_itr_set(&bar, ITR_TX, 2, 0xFFFF).unwrap();
        assert_eq!(queue_intr_enable(&bar, 16), Err(BadVector));
        assert_eq!(queue_itr_set(&bar, 3, 0, 1), Err(BadVector));
        // Offsets and values from hw-contract 2.4: DYN_CTLN1(v) = 0x3800 + 4v,
        // enable = INTENA|CLEARPBA|ITR_INDX(3) = 0x1B, disable = ITR_INDX(3) = 0x18,
        // ITRN1(i, v) = 0x2800 + 64i + 4v.
        assert_eq!(
            bar.writes(),
            [
                (0x3800, 0x1B),
                (0x383C, 0x1B),
                (0x380C, 0x18),
                (0x2808, 0x3E),
                (0x2848, 0xFF0)
            ]
        );
    }
}
