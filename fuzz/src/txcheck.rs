//! What the hardware (and ravf's documented TX contract) requires of the descriptors
//! `TxRing::encap` wrote for one packet. Decoded from raw bit positions typed from
//! hw-contract 5.11 / 6.2 / 6.3, not from ravf's constants, so a wrong constant in the
//! driver shows up as a violation here.

/// The packet as iflib described it (the inputs of `encap` this check needs).
#[derive(Clone, Copy, Debug, Default)]
pub struct Pkt<'a> {
    /// `(addr, len)` of each DMA segment, in order.
    pub segs: &'a [(u64, u64)],
    pub len: u32,
    /// `IPI_TX_INTR` requested (RS on the last descriptor).
    pub tx_intr: bool,
    /// TSO requested.
    pub tso: bool,
    /// `(ehdrlen, ip_hlen, tcp_hlen)`.
    pub hdr: (u8, u8, u8),
    /// The MSS after encap (ravf clamps it in place to 64..=9668).
    pub mss: u16,
    /// VLAN tag to insert, if `M_VLANTAG`.
    pub vtag: Option<u16>,
}

// hw-contract 6.2, QW1 of a data descriptor.
const DTYPE_MASK: u64 = 0xF;
const EOP: u64 = 1 << 4;
const RS: u64 = 1 << 5;
const IL2TAG1: u64 = 1 << 7;
const fn iipt(q: u64) -> u64 {
    (q >> 9) & 3
}
const fn l4t(q: u64) -> u64 {
    (q >> 12) & 3
}
const fn maclen_bytes(q: u64) -> u64 {
    ((q >> 16) & 0x7F) * 2
}
const fn iplen_bytes(q: u64) -> u64 {
    ((q >> 23) & 0x7F) * 4
}
const fn l4len_bytes(q: u64) -> u64 {
    ((q >> 30) & 0xF) * 4
}
const fn buf_sz(q: u64) -> u64 {
    (q >> 34) & 0x3FFF
}
const fn l2tag1(q: u64) -> u64 {
    q >> 48
}
// hw-contract 6.3, QW1 of a context descriptor.
const CTX_TSO: u64 = 1 << 4;
const fn tso_len(q: u64) -> u64 {
    (q >> 30) & 0x3_FFFF
}
const fn mss(q: u64) -> u64 {
    q >> 50
}

/// Check descriptors `[from, to)` of `ring` (all `(qw0, qw1)` pairs of the ring, whose
/// length is a power of two) against `pkt`. `Err` names the first rule broken.
pub fn hw_rules(ring: &[(u64, u64)], from: u16, to: u16, pkt: &Pkt<'_>) -> Result<(), String> {
    let n = ring.len();
    if n == 0 || !n.is_power_of_two() {
        return Err("ring size".into());
    }
    let mask = n - 1;
    let (from, to) = (usize::from(from) & mask, usize::from(to) & mask);
    let mut i = from;
    let mut ctx = None;
    if pkt.tso {
        let (qw0, qw1) = ring[i];
        if qw1 & DTYPE_MASK != 1 || qw1 & CTX_TSO == 0 {
            return Err(format!(
                "TSO packet without a TSO context descriptor: {qw1:#x}"
            ));
        }
        if qw0 != 0 {
            return Err("context descriptor QW0 not 0 (no tunnelling, no L2TAG2)".into());
        }
        ctx = Some(qw1);
        i = (i + 1) & mask;
    }
    // The data descriptors.
    let mut data = Vec::new();
    while i != to {
        let (addr, qw1) = ring[i];
        if qw1 & DTYPE_MASK != 0 {
            return Err(format!(
                "slot {i}: DTYPE {:#x} inside the packet",
                qw1 & DTYPE_MASK
            ));
        }
        if buf_sz(qw1) == 0 {
            return Err(format!("slot {i}: ZERO_BSIZE"));
        }
        i = (i + 1) & mask;
        let last = i == to;
        if (qw1 & EOP != 0) != last {
            return Err(format!("slot {i}: EOP not exactly on the last descriptor"));
        }
        if (qw1 & RS != 0) != (last && pkt.tx_intr) {
            return Err(format!(
                "slot {i}: RS not exactly on the last of an IPI_TX_INTR packet"
            ));
        }
        data.push((addr, qw1));
        if data.len() > n {
            return Err("runaway packet".into());
        }
    }
    let Some(&(_, first)) = data.first() else {
        return Err("no data descriptor (NO_HEAD)".into());
    };
    // ravf writes the same CMD/OFFSET/L2TAG1 into every data descriptor (as Linux).
    let common = |q: u64| q & !(EOP | RS) & !(0x3FFF << 34);
    if data.iter().any(|&(_, q)| common(q) != common(first)) {
        return Err("data descriptors disagree on CMD/OFFSET/L2TAG1".into());
    }
    match pkt.vtag {
        Some(t) if first & IL2TAG1 == 0 || l2tag1(first) != u64::from(t) => {
            return Err("VLAN tag not inserted as asked".into())
        }
        None if first & IL2TAG1 != 0 || l2tag1(first) != 0 => {
            return Err("IL2TAG1/L2TAG1 set without M_VLANTAG".into())
        }
        _ => {}
    }
    // The buffers, in order, are exactly the segments' bytes (zero-length segments
    // skipped, long ones split into consecutive pieces).
    let mut pieces = data.iter().map(|&(a, q)| (a, buf_sz(q)));
    let mut total = 0u64;
    for &(saddr, slen) in pkt.segs {
        let mut off = 0u64;
        while off < slen {
            let Some((a, l)) = pieces.next() else {
                return Err("segments not fully covered by descriptors".into());
            };
            if a != saddr.wrapping_add(off) || l > slen - off {
                return Err(format!(
                    "descriptor ({a:#x}, {l}) is not the next piece of segment ({saddr:#x}, {slen}) at {off}"
                ));
            }
            off += l;
            total += l;
        }
    }
    if pieces.next().is_some() {
        return Err("descriptors beyond the segments".into());
    }
    if total != u64::from(pkt.len) {
        return Err(format!(
            "descriptors carry {total} bytes, ipi_len is {}",
            pkt.len
        ));
    }
    let Some(ctx) = ctx else {
        if data.len() > 8 {
            return Err(format!(
                "MAX_BUFF: {} data descriptors (non-TSO)",
                data.len()
            ));
        }
        if !(17..=9728).contains(&total) {
            return Err(format!("WRONG_SIZE: {total} bytes (non-TSO)"));
        }
        return Ok(());
    };
    // TSO (hw-contract 5.11, 6.3).
    let m = mss(ctx);
    if !(64..=9668).contains(&m) {
        return Err(format!("BAD_LSO_MSS: {m}"));
    }
    if m != u64::from(pkt.mss) {
        return Err(format!(
            "context MSS {m} differs from the written-back {}",
            pkt.mss
        ));
    }
    if l4t(first) != 1 || iipt(first) == 0 {
        return Err("TSO without L4T = TCP and an IP IIPT".into());
    }
    let hdr = maclen_bytes(first) + iplen_bytes(first) + l4len_bytes(first);
    let (e, ip, tcp) = pkt.hdr;
    if hdr != u64::from(e) + u64::from(ip) + u64::from(tcp) {
        return Err(format!(
            "header length fields say {hdr}, the packet {e}+{ip}+{tcp}"
        ));
    }
    if tso_len(ctx) == 0 || hdr + tso_len(ctx) != total {
        return Err(format!(
            "BAD_LSO_LEN: header {hdr} + TSO_LEN {} != {total}",
            tso_len(ctx)
        ));
    }
    if hdr + m > 9728 {
        return Err(format!("WRONG_SIZE: header {hdr} + MSS {m} > 9728"));
    }
    // Per segment on the wire: the header's descriptors plus those holding that
    // segment's payload, at most 8; the header in at most 3. A descriptor holding both
    // header and payload bytes counts in both (it is read twice).
    let mut spans = Vec::with_capacity(data.len());
    let mut pos = 0u64;
    for &(_, q) in &data {
        spans.push((pos, pos + buf_sz(q)));
        pos += buf_sz(q);
    }
    let hdr_descs = spans.iter().filter(|s| s.0 < hdr).count();
    if hdr_descs > 3 {
        return Err(format!("MAX_BUFF: header in {hdr_descs} descriptors"));
    }
    let mut a = hdr;
    while a < total {
        let b = (a + m).min(total);
        let payload = spans.iter().filter(|s| s.0 < b && s.1 > a).count();
        if hdr_descs + payload > 8 {
            return Err(format!(
                "MAX_BUFF: TSO segment [{a}, {b}) needs {hdr_descs} + {payload} descriptors"
            ));
        }
        a = b;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const EOP_RS: u64 = EOP | RS;

    fn data(len: u64, cmd: u64) -> u64 {
        (len << 34) | cmd | (1 << 6)
    }

    #[test]
    fn accepts_a_plain_two_descriptor_packet() {
        let segs = [(0x1000, 40), (0x9000, 24)];
        let mut ring = vec![(0u64, 0u64); 8];
        ring[6] = (0x1000, data(40, 0));
        ring[7] = (0x9000, data(24, EOP_RS));
        let pkt = Pkt {
            segs: &segs,
            len: 64,
            tx_intr: true,
            ..Default::default()
        };
        assert_eq!(hw_rules(&ring, 6, 0, &pkt), Ok(()));
    }

    #[test]
    fn rejects_each_broken_rule() {
        let segs = [(0x1000, 40), (0x9000, 24)];
        let pkt = Pkt {
            segs: &segs,
            len: 64,
            tx_intr: false,
            ..Default::default()
        };
        let mut ring = vec![(0u64, 0u64); 8];
        ring[0] = (0x1000, data(40, EOP));
        ring[1] = (0x9000, data(24, EOP));
        assert!(hw_rules(&ring, 0, 2, &pkt).unwrap_err().contains("EOP"));
        ring[0] = (0x1000, data(40, 0));
        ring[1] = (0x9000, data(24, EOP_RS));
        assert!(hw_rules(&ring, 0, 2, &pkt).unwrap_err().contains("RS"));
        ring[1] = (0x9001, data(24, EOP));
        assert!(hw_rules(&ring, 0, 2, &pkt)
            .unwrap_err()
            .contains("next piece"));
        ring[1] = (0x9000, data(0, EOP));
        assert!(hw_rules(&ring, 0, 2, &pkt)
            .unwrap_err()
            .contains("ZERO_BSIZE"));
        // Nine 2-byte descriptors of a 9-segment packet: MAX_BUFF.
        let segs9: Vec<(u64, u64)> = (0..9).map(|k| (0x100 * k, 2)).collect();
        let mut ring = vec![(0u64, 0u64); 16];
        for (k, d) in ring.iter_mut().take(9).enumerate() {
            *d = (0x100 * k as u64, data(2, if k == 8 { EOP } else { 0 }));
        }
        let pkt = Pkt {
            segs: &segs9,
            len: 18,
            ..Default::default()
        };
        assert!(hw_rules(&ring, 0, 9, &pkt)
            .unwrap_err()
            .contains("MAX_BUFF"));
    }

    #[test]
    fn tso_window_rule() {
        // Header 54 (MACLEN 7, IPLEN 5, L4LEN 5) in one descriptor, MSS 64, then nine
        // 8-byte payload descriptors: the first window [54, 118) touches 8 of them.
        let off = (7 << 16) | (5 << 23) | (5 << 30) | (3 << 9) | (1 << 12);
        let mut segs = vec![(0x1000u64, 54u64)];
        segs.extend((0..9).map(|k| (0x2000 + 0x100 * k, 8)));
        let mut ring = vec![(0u64, 0u64); 16];
        let total = 54 + 72;
        ring[0] = (0, 1 | CTX_TSO | (72 << 30) | (64 << 50));
        for (k, &(a, l)) in segs.iter().enumerate() {
            ring[k + 1] = (a, data(l, off | if k == 9 { EOP } else { 0 }));
        }
        let pkt = Pkt {
            segs: &segs,
            len: total,
            tso: true,
            hdr: (14, 20, 20),
            mss: 64,
            ..Default::default()
        };
        assert!(hw_rules(&ring, 0, 11, &pkt)
            .unwrap_err()
            .contains("MAX_BUFF"));
        // An MSS below 64 is refused by the hardware whatever the windows.
        ring[0] = (0, 1 | CTX_TSO | (72 << 30) | (32 << 50));
        let pkt = Pkt { mss: 32, ..pkt };
        assert!(hw_rules(&ring, 0, 11, &pkt)
            .unwrap_err()
            .contains("BAD_LSO_MSS"));
        ring[0] = (0, 1 | CTX_TSO | (72 << 30) | (64 << 50));
        ring[1].1 = data(54, off | (1 << 7) | (5 << 48));
        let pkt = Pkt {
            mss: 64,
            vtag: Some(5),
            ..pkt
        };
        assert!(hw_rules(&ring, 0, 11, &pkt)
            .unwrap_err()
            .contains("disagree"));
    }
}
