//! Offload bookkeeping: the FreeBSD flag values iflib hands us, the hardware PTYPE
//! table, the receive checksum verdict and the transmit offload fields.

use super::desc::*;

// ---------------------------------------------------------------------------
// FreeBSD ABI values (sys/sys/mbuf.h, sys/net/iflib.h, sys/net/ethernet.h, netinet/in.h)
// ---------------------------------------------------------------------------

// The FreeBSD values themselves live once, in ravf-sys (sys/sys/mbuf.h, sys/net/iflib.h,
// each cited there); the core reads them from there so the two can never disagree.
pub use ravf_sys::{
    CSUM_IP, CSUM_IP6_SCTP, CSUM_IP6_TCP, CSUM_IP6_TSO, CSUM_IP6_UDP, CSUM_IP_SCTP, CSUM_IP_TCP,
    CSUM_IP_TSO, CSUM_IP_UDP, CSUM_L3_CALC, CSUM_L3_VALID, CSUM_L4_CALC, CSUM_L4_VALID, CSUM_TSO,
    IPI_TX_INTR, IPI_TX_IPV4, IPI_TX_IPV6, M_HASHTYPE_NONE, M_HASHTYPE_OPAQUE, M_HASHTYPE_RSS_IPV4,
    M_HASHTYPE_RSS_IPV6, M_HASHTYPE_RSS_TCP_IPV4, M_HASHTYPE_RSS_TCP_IPV6, M_HASHTYPE_RSS_UDP_IPV4,
    M_HASHTYPE_RSS_UDP_IPV6,
};

/// FreeBSD iavf_lib.h `CSUM_OFFLOAD` = `CSUM_OFFLOAD_IPV4 | CSUM_OFFLOAD_IPV6 | CSUM_TSO`:
/// every transmit offload the VF advertises.
pub const CSUM_OFFLOAD: u32 = CSUM_IP
    | CSUM_IP_TCP
    | CSUM_IP_UDP
    | CSUM_IP_SCTP
    | CSUM_IP6_TCP
    | CSUM_IP6_UDP
    | CSUM_IP6_SCTP
    | CSUM_TSO;
/// FreeBSD iavf_iflib.h `IAVF_CSUM_TCP`: flags that ask for TCP checksum insertion.
pub const IAVF_CSUM_TCP: u32 = CSUM_IP_TCP | CSUM_IP_TSO | CSUM_IP6_TSO | CSUM_IP6_TCP;
/// FreeBSD iavf_iflib.h `IAVF_CSUM_UDP`.
pub const IAVF_CSUM_UDP: u32 = CSUM_IP_UDP | CSUM_IP6_UDP;
/// FreeBSD iavf_iflib.h `IAVF_CSUM_SCTP`.
pub const IAVF_CSUM_SCTP: u32 = CSUM_IP_SCTP | CSUM_IP6_SCTP;
/// FreeBSD iavf_iflib.h `IAVF_CSUM_IPV4`: flags that ask for the IPv4 header checksum.
pub const IAVF_CSUM_IPV4: u32 = CSUM_IP | CSUM_IP_TSO;

/// sys/sys/mbuf.h `M_VLANTAG 0x00000080`, as the byte iflib carries it in
/// `ipi_mflags` and `iri_flags`.
pub const M_VLANTAG: u8 = ravf_sys::M_VLANTAG as u8;
const _: () = assert!(ravf_sys::M_VLANTAG <= 0xFF);

/// sys/net/ethernet.h `ETHERTYPE_IP 0x0800`.
pub const ETHERTYPE_IP: u16 = 0x0800;
/// sys/net/ethernet.h `ETHERTYPE_IPV6 0x86dd`.
pub const ETHERTYPE_IPV6: u16 = 0x86DD;
/// netinet/in.h `IPPROTO_TCP 6`.
pub const IPPROTO_TCP: u8 = 6;
/// netinet/in.h `IPPROTO_UDP 17`.
pub const IPPROTO_UDP: u8 = 17;
/// netinet/in.h `IPPROTO_SCTP 132`.
pub const IPPROTO_SCTP: u8 = 132;

/// UDP header length in 4-byte words (`sizeof(struct udphdr) >> 2`).
const UDP_HLEN_WORDS: u64 = 8 >> 2;
/// SCTP common header length in 4-byte words (`sizeof(struct sctphdr) >> 2`).
const SCTP_HLEN_WORDS: u64 = 12 >> 2;

// ---------------------------------------------------------------------------
// Transmit offload fields
// ---------------------------------------------------------------------------

/// CMD (IIPT, L4T) and OFFSET (MACLEN, IPLEN, L4LEN) bits of a data descriptor's QW1
/// for the requested checksum offloads, following FreeBSD `iavf_tx_setup_offload`:
/// IIPT from the EtherType (IPv4 with header checksum only when asked), MACLEN/IPLEN
/// always, L4T/L4LEN only for TCP/UDP/SCTP with the matching flag.
///
/// Called only when `csum_flags & CSUM_OFFLOAD != 0`, after [`csum_lens_ok`] (and for
/// TSO the stricter header check in `tx.rs`) accepted the lengths; the masks are a
/// second line of defence so a length can never spill into BUF_SZ.
#[inline(always)]
pub fn tx_offload_bits(
    csum_flags: u32,
    etype: u16,
    ipproto: u8,
    ehdrlen: u8,
    ip_hlen: u8,
    tcp_hlen: u8,
) -> u64 {
    let iipt = match etype {
        ETHERTYPE_IP => {
            if csum_flags & IAVF_CSUM_IPV4 != 0 {
                TXD_CMD_IIPT_IPV4_CSUM
            } else {
                TXD_CMD_IIPT_IPV4
            }
        }
        ETHERTYPE_IPV6 => TXD_CMD_IIPT_IPV6,
        _ => 0,
    };
    let lens = ((u64::from(ehdrlen >> 1) & TXD_MACLEN_MASK) << TXD_MACLEN_SHIFT)
        | ((u64::from(ip_hlen >> 2) & TXD_IPLEN_MASK) << TXD_IPLEN_SHIFT);
    let l4 = match ipproto {
        IPPROTO_TCP if csum_flags & IAVF_CSUM_TCP != 0 => {
            TXD_CMD_L4T_TCP | ((u64::from(tcp_hlen >> 2) & TXD_L4LEN_MASK) << TXD_L4LEN_SHIFT)
        }
        IPPROTO_UDP if csum_flags & IAVF_CSUM_UDP != 0 => {
            TXD_CMD_L4T_UDP | (UDP_HLEN_WORDS << TXD_L4LEN_SHIFT)
        }
        IPPROTO_SCTP if csum_flags & IAVF_CSUM_SCTP != 0 => {
            TXD_CMD_L4T_SCTP | (SCTP_HLEN_WORDS << TXD_L4LEN_SHIFT)
        }
        _ => 0,
    };
    iipt | lens | l4
}

/// Whether the header lengths of a checksum-offload request fit the descriptor fields
/// exactly (hw-contract 6.2: MACLEN in 2-byte words, IPLEN in 4-byte words, L4LEN in
/// 4-byte words and 4 bits wide): an Ethernet header of at least 14 bytes, an IP header
/// of at least 20, and for TCP a header of 20..=60 bytes. [`tx_offload_bits`] masks the
/// fields to their widths so nothing spills into BUF_SZ, but a truncated length would
/// make the hardware checksum the wrong bytes; such a request is refused instead. iflib
/// never produces one from a real packet (`iflib_parse_header`), so only corrupt input
/// is refused.
#[inline(always)]
pub fn csum_lens_ok(csum_flags: u32, ipproto: u8, ehdrlen: u8, ip_hlen: u8, tcp_hlen: u8) -> bool {
    let tcp_ok = ipproto != IPPROTO_TCP
        || csum_flags & IAVF_CSUM_TCP == 0
        || ((20..=60).contains(&tcp_hlen) && tcp_hlen & 3 == 0);
    ehdrlen >= 14 && ehdrlen & 1 == 0 && ip_hlen >= 20 && ip_hlen & 3 == 0 && tcp_ok
}

/// [`csum_lens_ok`] and [`tx_offload_bits`] in one pass, for the transmit fast path:
/// `Some(bits)` exactly when `csum_lens_ok` accepts, with the bits `tx_offload_bits`
/// returns (the unit test `fused_csum_matches_the_two_steps` checks the equivalence).
///
/// Branch-light: each header length is one lookup in a 256-entry table
/// ([`TX_MACLEN`], [`TX_IPLEN`], [`TX_L4LEN`]) that holds either the field already
/// shifted into place or [`TX_LEN_BAD`]; the entries are ORed together and one test of
/// that bit refuses any length that cannot be encoded. The L4 dispatch is a table
/// lookup by `ipproto`; TCP's L4LEN entry is kept by an all-ones mask, every other
/// protocol's is masked away (so a bad `tcp_hlen` only refuses TCP with the TCP flag).
#[inline(always)]
pub fn tx_csum_bits(
    csum_flags: u32,
    etype: u16,
    ipproto: u8,
    ehdrlen: u8,
    ip_hlen: u8,
    tcp_hlen: u8,
) -> Option<u64> {
    let t = &TX_TABLES;
    let k = &t.l4[usize::from(t.l4_kind[usize::from(ipproto)] & 3)];
    let l4 = if csum_flags & k.want != 0 {
        k.bits | (t.l4len[usize::from(tcp_hlen)] & k.tcp_mask)
    } else {
        0
    };
    let iipt = match etype {
        ETHERTYPE_IP if csum_flags & IAVF_CSUM_IPV4 != 0 => TXD_CMD_IIPT_IPV4_CSUM,
        ETHERTYPE_IP => TXD_CMD_IIPT_IPV4,
        ETHERTYPE_IPV6 => TXD_CMD_IIPT_IPV6,
        _ => 0,
    };
    let v = iipt | t.maclen[usize::from(ehdrlen)] | t.iplen[usize::from(ip_hlen)] | l4;
    if v & TX_LEN_BAD != 0 {
        return None;
    }
    Some(v)
}

/// Marks a header length the descriptor cannot encode in the length tables (bit 63 of
/// QW1 is the top of BUF_SZ/L2TAG1 space and is never produced by a valid entry; the
/// value is refused before it could reach a descriptor).
const TX_LEN_BAD: u64 = 1 << 63;

/// Builds a length table: `len` in `min..=max` and a multiple of `1 << unit_shift`
/// maps to `(len >> unit_shift) << field_shift`, everything else to [`TX_LEN_BAD`].
const fn len_table(min: u8, max: u8, unit_shift: u32, field_shift: u32) -> [u64; 256] {
    let mut t = [TX_LEN_BAD; 256];
    let mut i = 0usize;
    while i < 256 {
        let len = i as u8;
        if len >= min && len <= max && len & ((1u8 << unit_shift) - 1) == 0 {
            t[i] = ((len >> unit_shift) as u64) << field_shift;
        }
        i += 1;
    }
    t
}

/// `ehdrlen` → MACLEN (2-byte words, 7 bits): 14..=254, even.
const TX_MACLEN: [u64; 256] = len_table(14, 254, 1, TXD_MACLEN_SHIFT);
/// `ip_hlen` → IPLEN (4-byte words, 7 bits): 20..=252, a multiple of 4.
const TX_IPLEN: [u64; 256] = len_table(20, 252, 2, TXD_IPLEN_SHIFT);
/// `tcp_hlen` → L4LEN (4-byte words, 4 bits): 20..=60, a multiple of 4.
const TX_L4LEN: [u64; 256] = len_table(20, 60, 2, TXD_L4LEN_SHIFT);

/// The transmit offload tables in one static, so the fast path finds them all from
/// one base address (one GOT entry in a position-independent build instead of five).
struct TxTables {
    maclen: [u64; 256],
    iplen: [u64; 256],
    l4len: [u64; 256],
    l4: [TxL4; 4],
    l4_kind: [u8; 256],
}

static TX_TABLES: TxTables = TxTables {
    maclen: TX_MACLEN,
    iplen: TX_IPLEN,
    l4len: TX_L4LEN,
    l4: TX_L4,
    l4_kind: TX_L4_KIND,
};

/// One L4 checksum offload: the `csum_flags` that ask for it, its L4T | L4LEN bits,
/// and `tcp_mask`, all ones for TCP (L4LEN comes from `tcp_hlen` via [`TX_L4LEN`]).
#[derive(Clone, Copy)]
struct TxL4 {
    want: u32,
    bits: u64,
    tcp_mask: u64,
}

/// Indexed by [`TX_L4_KIND`]: none, TCP, UDP, SCTP (FreeBSD `iavf_tx_setup_offload`).
const TX_L4: [TxL4; 4] = [
    TxL4 {
        want: 0,
        bits: 0,
        tcp_mask: 0,
    },
    TxL4 {
        want: IAVF_CSUM_TCP,
        bits: TXD_CMD_L4T_TCP,
        tcp_mask: !0,
    },
    TxL4 {
        want: IAVF_CSUM_UDP,
        bits: TXD_CMD_L4T_UDP | (UDP_HLEN_WORDS << TXD_L4LEN_SHIFT),
        tcp_mask: 0,
    },
    TxL4 {
        want: IAVF_CSUM_SCTP,
        bits: TXD_CMD_L4T_SCTP | (SCTP_HLEN_WORDS << TXD_L4LEN_SHIFT),
        tcp_mask: 0,
    },
];

/// `ipproto` → index into [`TX_L4`] (256 bytes; every other protocol is 0).
const TX_L4_KIND: [u8; 256] = {
    let mut t = [0u8; 256];
    t[IPPROTO_TCP as usize] = 1;
    t[IPPROTO_UDP as usize] = 2;
    t[IPPROTO_SCTP as usize] = 3;
    t
};

// ---------------------------------------------------------------------------
// PTYPE table (hw-contract 6.6; iavf_common.c `iavf_ptype_lookup[]`)
// ---------------------------------------------------------------------------

// PTYPE class bits. The low nibble is, shifted left by 24, exactly the
// `CSUM_L3_CALC | CSUM_L3_VALID | CSUM_L4_CALC | CSUM_L4_VALID` a good frame of this type
// earns, so the receive path turns a table entry into flags with one shift.

/// Outer header is IP (not L2-only, not unused): an L3 verdict is possible
/// (`CSUM_L3_CALC | CSUM_L3_VALID` >> 24).
pub const PT_IP: u8 = 0x03;
/// Plain (not tunnelled), unfragmented TCP/UDP/SCTP: the hardware's L4 verdict is about
/// the header the stack will check (`CSUM_L4_CALC | CSUM_L4_VALID` >> 24).
pub const PT_L4: u8 = 0x0C;
/// Outer IP is IPv6 (0x10: shifted left by 11 it lands on IPV6EXADD, status bit 15).
pub const PT_IPV6: u8 = 0x10;
static_assertions::const_assert_eq!((PT_IPV6 as u64) << 11, RXD_IPV6EXADD);
/// Tunnelled (IP-in-IP, GRE/NAT ...).
pub const PT_TUNNEL: u8 = 0x20;

/// What the receive path needs to know about one PTYPE.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ptype {
    /// `PT_*` bits.
    pub class: u8,
    /// `M_HASHTYPE_*` for an RSS-hashed frame of this type.
    pub hash: u8,
}

const PT_UNKNOWN: Ptype = Ptype {
    class: 0,
    hash: M_HASHTYPE_OPAQUE,
};

#[derive(Clone, Copy)]
enum Inner {
    None,
    Udp,
    Tcp,
    Sctp,
    Icmp,
    Unused,
}

/// Inner protocol at offset `k` (0..7) of a 7-entry IP group: frag, none, UDP, unused,
/// TCP, SCTP, ICMP (iavf_ptype_lookup: e.g. 22..28 for plain IPv4).
const fn group_inner(k: u8) -> (Inner, bool) {
    match k {
        0 => (Inner::None, true),
        1 => (Inner::None, false),
        2 => (Inner::Udp, false),
        4 => (Inner::Tcp, false),
        5 => (Inner::Sctp, false),
        6 => (Inner::Icmp, false),
        _ => (Inner::Unused, false),
    }
}

/// Decode one PTYPE. Layout of each outer-IP block (IPv4 = 22..=87, IPv6 = 88..=153,
/// offsets relative to the block start): 0..=6 plain; 7..=13 IP→IPv4; 14..=20 IP→IPv6;
/// 21 GRE/NAT; 22..=28 GRE→IPv4; 29..=35 GRE→IPv6; 36 GRE→MAC; 37..=43 GRE→MAC→IPv4;
/// 44..=50 GRE→MAC→IPv6; 51 GRE→MAC/VLAN; 52..=58 → IPv4; 59..=65 → IPv6.
/// Everything else (0..=21 L2 types, unused entries, 154..=255) carries no IP verdict.
const fn decode(p: u8) -> Ptype {
    let (outer, base) = if p >= 22 && p <= 87 {
        (PT_IP, 22u8)
    } else if p >= 88 && p <= 153 {
        (PT_IP | PT_IPV6, 88u8)
    } else {
        return PT_UNKNOWN;
    };
    let rel = p - base;
    let (tunnel, inner, frag) = match rel {
        0..=6 => {
            let (i, f) = group_inner(rel);
            (false, i, f)
        }
        21 | 36 | 51 => (true, Inner::None, false),
        7..=20 => {
            let (i, f) = group_inner((rel - 7) % 7);
            (true, i, f)
        }
        22..=35 => {
            let (i, f) = group_inner((rel - 22) % 7);
            (true, i, f)
        }
        37..=50 => {
            let (i, f) = group_inner((rel - 37) % 7);
            (true, i, f)
        }
        _ => {
            let (i, f) = group_inner((rel - 52) % 7);
            (true, i, f)
        }
    };
    let v6 = outer & PT_IPV6 != 0;
    // Hash type as FreeBSD `iavf_ptype_to_hash`: outer IP version + innermost protocol.
    let hash = match inner {
        Inner::Unused => return PT_UNKNOWN,
        Inner::Tcp => {
            if v6 {
                M_HASHTYPE_RSS_TCP_IPV6
            } else {
                M_HASHTYPE_RSS_TCP_IPV4
            }
        }
        Inner::Udp => {
            if v6 {
                M_HASHTYPE_RSS_UDP_IPV6
            } else {
                M_HASHTYPE_RSS_UDP_IPV4
            }
        }
        Inner::None | Inner::Sctp | Inner::Icmp => {
            if v6 {
                M_HASHTYPE_RSS_IPV6
            } else {
                M_HASHTYPE_RSS_IPV4
            }
        }
    };
    let l4 = matches!(inner, Inner::Tcp | Inner::Udp | Inner::Sctp) && !frag && !tunnel;
    let class = outer | if l4 { PT_L4 } else { 0 } | if tunnel { PT_TUNNEL } else { 0 };
    Ptype { class, hash }
}

const fn build_table() -> [Ptype; 256] {
    let mut t = [PT_UNKNOWN; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = decode(i as u8);
        i += 1;
    }
    t
}

/// The 256-entry PTYPE table, indexed by the 8-bit PTYPE (no bounds check possible).
pub static PTYPES: [Ptype; 256] = build_table();

/// Receive fast-path view of one PTYPE, packed in a u64 so the completion reads it with
/// one load and masks it with one AND ([`RX_PT_MASK_CSUM_ON`] / [`RX_PT_MASK_CSUM_OFF`]):
/// bits 0..32 the `iri_csum_flags` a frame with a clean status earns (what
/// [`rx_csum_flags`] returns for it), bits 32..48 its `csum_data` (0xffff exactly when
/// L4_VALID is set), bits 48..56 the `M_HASHTYPE_*`, bits 56..64 the `PT_*` class.
pub static RX_PT: [u64; 256] = {
    let mut t = [0u64; 256];
    let mut i = 0usize;
    while i < 256 {
        let pt = PTYPES[i];
        let good = ((pt.class & (PT_IP | PT_L4)) as u32) << 24;
        let data: u64 = if good & CSUM_L4_VALID != 0 { 0xffff } else { 0 };
        t[i] = good as u64 | (data << 32) | ((pt.hash as u64) << 48) | ((pt.class as u64) << 56);
        i += 1;
    }
    t
};
/// [`RX_PT`] mask with RXCSUM on: everything.
pub const RX_PT_MASK_CSUM_ON: u64 = !0;
/// [`RX_PT`] mask with RXCSUM off: the hash type only (class 0: no verdict).
pub const RX_PT_MASK_CSUM_OFF: u64 = 0xFF << 48;
/// The QW1 status bits that decide the verdict; equal to [`RXD_L3L4P`] alone means
/// "checked, clean": the [`RX_PT`] flags apply as they are.
pub const RXD_CSUM_BITS: u64 = RXD_L3L4P | RXD_PPRS | RXD_IPV6EXADD | RXD_IPE | RXD_EIPE | RXD_L4E;

// ---------------------------------------------------------------------------
// Receive checksum verdict
// ---------------------------------------------------------------------------

/// The `iri_csum_flags` for a frame, from its EOF descriptor's QW1 and PTYPE class,
/// and whether the hardware found a checksum bad.
///
/// FreeBSD `iavf_rx_checksum` (hw-contract 6.7) with two deliberate tightenings:
/// * no verdict at all unless the PTYPE says the outer header is IP (FreeBSD reports
///   L3/L4 valid for any frame with L3L4P, whatever the PTYPE), and no L4 verdict
///   unless it is plain, unfragmented TCP/UDP/SCTP: a "valid" L4 flag on an IP
///   fragment or a tunnel would make the stack skip a checksum the hardware never
///   checked;
/// * PPRS (parser error) means no verdict, as Linux `iavf_rx_csum` does.
///
/// Steps, as FreeBSD: no L3L4P → nothing; IPv6 with IPV6EXADD → nothing; L3_CALC;
/// IPE (or EIPE) → stop (bad); L3_VALID | L4_CALC; L4E → stop (bad); L4_VALID.
/// `csum_data` is 0xffff exactly when L4_VALID is set.
#[inline(always)]
pub fn rx_csum_flags(qw1: u64, class: u8) -> (u32, bool) {
    let good = u32::from(class & (PT_IP | PT_L4)) << 24;
    // The usual frame first, in one test: checked (L3L4P), no parser error, no
    // IPV6EXADD whatever the IP version, no checksum error: every verdict the class
    // allows is good. The steps below give the same answer for it.
    if qw1 & RXD_CSUM_BITS == RXD_L3L4P {
        return (good, false);
    }
    // Next most usual: the hardware did not check the frame (not IP, or checksum
    // offload not in play): no verdict.
    if qw1 & RXD_L3L4P == 0 {
        return (0, false);
    }
    // No verdict: L3L4P clear, PPRS set, or IPv6 (PT_IPV6 = 0x10, << 11 = bit 15) with
    // IPV6EXADD (bit 15).
    let check = RXD_L3L4P | RXD_PPRS | (u64::from(class & PT_IPV6) << 11);
    if qw1 & check != RXD_L3L4P {
        return (0, false);
    }
    if qw1 & (RXD_IPE | RXD_EIPE | RXD_L4E) == 0 {
        return (good, false);
    }
    let f = if qw1 & (RXD_IPE | RXD_EIPE) != 0 {
        good & CSUM_L3_CALC
    } else {
        good & !CSUM_L4_VALID
    };
    (f, f != good)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Unused PTYPEs, written from hw-contract 6.6 / iavf_ptype_lookup.
    const UNUSED: [u8; 24] = [
        0, 4, 5, 8, 9, 25, 32, 39, 47, 54, 62, 69, 77, 84, 91, 98, 105, 113, 120, 128, 135, 143,
        150, 154,
    ];

    #[test]
    fn ptype_table_fixture() {
        let cases: [(u8, u8, u8); 22] = [
            // (ptype, class, hash)
            (1, 0, M_HASHTYPE_OPAQUE),        // L2
            (11, 0, M_HASHTYPE_OPAQUE),       // ARP
            (22, PT_IP, M_HASHTYPE_RSS_IPV4), // IPv4 frag
            (23, PT_IP, M_HASHTYPE_RSS_IPV4),
            (24, PT_IP | PT_L4, M_HASHTYPE_RSS_UDP_IPV4),
            (26, PT_IP | PT_L4, M_HASHTYPE_RSS_TCP_IPV4),
            (27, PT_IP | PT_L4, M_HASHTYPE_RSS_IPV4), // SCTP: 2-tuple hash type
            (28, PT_IP, M_HASHTYPE_RSS_IPV4),         // ICMP
            (33, PT_IP | PT_TUNNEL, M_HASHTYPE_RSS_TCP_IPV4), // IPv4→IPv4 TCP
            (40, PT_IP | PT_TUNNEL, M_HASHTYPE_RSS_TCP_IPV4), // IPv4→IPv6 TCP
            (43, PT_IP | PT_TUNNEL, M_HASHTYPE_RSS_IPV4), // IPv4→GRE
            (58, PT_IP | PT_TUNNEL, M_HASHTYPE_RSS_IPV4), // IPv4→GRE→MAC
            (87, PT_IP | PT_TUNNEL, M_HASHTYPE_RSS_IPV4), // ...→IPv6 ICMP
            (88, PT_IP | PT_IPV6, M_HASHTYPE_RSS_IPV6), // IPv6 frag
            (89, PT_IP | PT_IPV6, M_HASHTYPE_RSS_IPV6),
            (90, PT_IP | PT_IPV6 | PT_L4, M_HASHTYPE_RSS_UDP_IPV6),
            (92, PT_IP | PT_IPV6 | PT_L4, M_HASHTYPE_RSS_TCP_IPV6),
            (93, PT_IP | PT_IPV6 | PT_L4, M_HASHTYPE_RSS_IPV6),
            (94, PT_IP | PT_IPV6, M_HASHTYPE_RSS_IPV6),
            (97, PT_IP | PT_IPV6 | PT_TUNNEL, M_HASHTYPE_RSS_UDP_IPV6), // IPv6→IPv4 UDP
            (139, PT_IP | PT_IPV6 | PT_TUNNEL, M_HASHTYPE_RSS_IPV6),    // GRE→MAC/VLAN
            (153, PT_IP | PT_IPV6 | PT_TUNNEL, M_HASHTYPE_RSS_IPV6),
        ];
        for (p, class, hash) in cases {
            assert_eq!(PTYPES[p as usize], Ptype { class, hash }, "ptype {p}");
        }
    }

    #[test]
    fn ptype_unused_entries_carry_nothing() {
        for p in UNUSED {
            assert_eq!(PTYPES[p as usize], PT_UNKNOWN, "ptype {p}");
        }
        for (p, pt) in PTYPES.iter().enumerate().skip(154) {
            assert_eq!(*pt, PT_UNKNOWN, "ptype {p}");
        }
        // Every IP-range entry not in UNUSED is IP.
        for p in 22u8..=153 {
            if !UNUSED.contains(&p) {
                assert_ne!(PTYPES[p as usize].class & PT_IP, 0, "ptype {p}");
            }
        }
    }

    #[test]
    fn tx_offload_fields() {
        // IPv4/TCP, 14-byte L2, 20-byte IP, 32-byte TCP:
        // IIPT=3 (0x60<<4), L4T=TCP (0x100<<4), MACLEN 7 @16, IPLEN 5 @23, L4LEN 8 @30.
        let v = tx_offload_bits(CSUM_IP | CSUM_IP_TCP, ETHERTYPE_IP, IPPROTO_TCP, 14, 20, 32);
        assert_eq!(v, 0x600 | 0x1000 | (7 << 16) | (5 << 23) | (8u64 << 30));
        // IPv4 without CSUM_IP: IIPT=2.
        let v = tx_offload_bits(CSUM_IP_UDP, ETHERTYPE_IP, IPPROTO_UDP, 14, 20, 0);
        assert_eq!(v, 0x400 | 0x3000 | (7 << 16) | (5 << 23) | (2u64 << 30));
        // A flag for another protocol leaves L4T at 0.
        let v = tx_offload_bits(CSUM_IP_UDP, ETHERTYPE_IP, IPPROTO_TCP, 14, 20, 20);
        assert_eq!(v, 0x400 | (7 << 16) | (5 << 23));
        // Oversized TCP header length is masked to 4 bits, never into BUF_SZ.
        let v = tx_offload_bits(CSUM_IP6_TCP, ETHERTYPE_IPV6, IPPROTO_TCP, 14, 40, 255);
        assert_eq!(v >> 34, 0);
    }

    #[test]
    fn csum_lens_that_do_not_encode_are_refused() {
        let tcp4 = CSUM_IP | CSUM_IP_TCP;
        assert!(csum_lens_ok(tcp4, IPPROTO_TCP, 14, 20, 20));
        assert!(csum_lens_ok(tcp4, IPPROTO_TCP, 18, 60, 60));
        assert!(!csum_lens_ok(tcp4, IPPROTO_TCP, 14, 20, 64)); // L4LEN would be 0
        assert!(!csum_lens_ok(tcp4, IPPROTO_TCP, 14, 20, 22));
        assert!(!csum_lens_ok(tcp4, IPPROTO_TCP, 14, 20, 16));
        assert!(!csum_lens_ok(tcp4, IPPROTO_TCP, 15, 20, 20));
        assert!(!csum_lens_ok(tcp4, IPPROTO_TCP, 0, 20, 20));
        assert!(!csum_lens_ok(tcp4, IPPROTO_TCP, 14, 21, 20));
        assert!(!csum_lens_ok(CSUM_IP, IPPROTO_UDP, 14, 0, 0));
        // The TCP length only matters when TCP checksum insertion is asked for.
        assert!(csum_lens_ok(CSUM_IP_UDP, IPPROTO_UDP, 14, 20, 0));
        assert!(csum_lens_ok(CSUM_IP, IPPROTO_TCP, 14, 20, 0));
        assert!(csum_lens_ok(CSUM_IP6_TCP, IPPROTO_TCP, 14, 40, 32));
    }

    /// The length tables at their edges, from hw-contract 6.2 (MACLEN 2-byte words at
    /// bit 16, IPLEN 4-byte words at bit 23, L4LEN 4-byte words at bit 30).
    #[test]
    fn tx_len_tables_fixture() {
        assert_eq!(TX_MACLEN[14], 7 << 16);
        assert_eq!(TX_MACLEN[254], 127 << 16);
        for bad in [0u8, 12, 13, 15, 255] {
            assert_eq!(TX_MACLEN[usize::from(bad)], TX_LEN_BAD, "ehdrlen {bad}");
        }
        assert_eq!(TX_IPLEN[20], 5 << 23);
        assert_eq!(TX_IPLEN[252], 63 << 23);
        for bad in [0u8, 16, 19, 21, 22, 253, 255] {
            assert_eq!(TX_IPLEN[usize::from(bad)], TX_LEN_BAD, "ip_hlen {bad}");
        }
        assert_eq!(TX_L4LEN[20], 5 << 30);
        assert_eq!(TX_L4LEN[60], 15 << 30);
        for bad in [0u8, 16, 21, 61, 64, 252] {
            assert_eq!(TX_L4LEN[usize::from(bad)], TX_LEN_BAD, "tcp_hlen {bad}");
        }
    }

    /// Every [`RX_PT`] entry, with RXCSUM on and off, against the [`PTYPES`] entry and
    /// [`rx_csum_flags`] for a clean status.
    #[test]
    fn rx_pt_table_matches_ptypes_and_verdict() {
        for (i, pt) in PTYPES.iter().enumerate() {
            for (mask, cmask) in [(RX_PT_MASK_CSUM_ON, 0xFFu8), (RX_PT_MASK_CSUM_OFF, 0)] {
                let v = RX_PT[i] & mask;
                let class = pt.class & cmask;
                let (f, bad) = rx_csum_flags(RXD_L3L4P, class);
                assert!(!bad);
                assert_eq!(v as u32, f, "ptype {i}");
                let data = if f & CSUM_L4_VALID != 0 { 0xffff } else { 0 };
                assert_eq!((v >> 32) as u16, data, "ptype {i}");
                assert_eq!((v >> 48) as u8, pt.hash, "ptype {i}");
                assert_eq!((v >> 56) as u8, class, "ptype {i}");
            }
        }
        // A plain IPv4/TCP frame (PTYPE 26, hw-contract 6.6) earns all four flags.
        assert_eq!(
            RX_PT[26] as u32,
            CSUM_L3_CALC | CSUM_L3_VALID | CSUM_L4_CALC | CSUM_L4_VALID
        );
        assert_eq!((RX_PT[26] >> 32) as u16, 0xffff);
    }

    #[test]
    fn fused_csum_matches_the_two_steps() {
        let flag_sets = [
            CSUM_IP | CSUM_IP_TCP,
            CSUM_IP_UDP,
            CSUM_IP6_TCP | CSUM_IP6_SCTP,
            CSUM_IP,
            CSUM_IP6_UDP | CSUM_IP_SCTP,
        ];
        for &f in &flag_sets {
            for &et in &[ETHERTYPE_IP, ETHERTYPE_IPV6, 0x88B5] {
                for &pr in &[IPPROTO_TCP, IPPROTO_UDP, IPPROTO_SCTP, 1] {
                    for eh in 0u8..=40 {
                        for ip in (0u8..=72).chain([124, 252, 255]) {
                            for tcp in (0u8..=68).chain([252, 255]) {
                                let want = csum_lens_ok(f, pr, eh, ip, tcp)
                                    .then(|| tx_offload_bits(f, et, pr, eh, ip, tcp));
                                assert_eq!(
                                    tx_csum_bits(f, et, pr, eh, ip, tcp),
                                    want,
                                    "flags {f:#x} etype {et:#x} proto {pr} lens {eh}/{ip}/{tcp}"
                                );
                            }
                        }
                    }
                }
            }
        }
    }

    /// Every combination of the six bits the verdict reads, for every PTYPE class, with
    /// RXCSUM on and off, against the steps of the doc comment written out one by one
    /// (FreeBSD `iavf_rx_checksum` order), so the one-test shortcut cannot drift.
    #[test]
    fn rx_csum_shortcut_matches_the_steps() {
        let bits = [
            RXD_L3L4P,
            RXD_PPRS,
            RXD_IPV6EXADD,
            RXD_IPE,
            RXD_EIPE,
            RXD_L4E,
        ];
        for pt in PTYPES.iter() {
            for class in [pt.class, 0] {
                for combo in 0u32..64 {
                    let mut qw1 = RXD_DD | RXD_EOF;
                    for (k, b) in bits.iter().enumerate() {
                        if combo & (1 << k) != 0 {
                            qw1 |= b;
                        }
                    }
                    let ip = class & PT_IP != 0;
                    let l4 = class & PT_L4 != 0;
                    let v6 = class & PT_IPV6 != 0;
                    let mut f = 0u32;
                    let mut bad = false;
                    if qw1 & RXD_L3L4P != 0
                        && qw1 & RXD_PPRS == 0
                        && !(v6 && qw1 & RXD_IPV6EXADD != 0)
                        && ip
                    {
                        f |= CSUM_L3_CALC;
                        if qw1 & (RXD_IPE | RXD_EIPE) != 0 {
                            bad = true;
                        } else {
                            f |= CSUM_L3_VALID;
                            if l4 {
                                f |= CSUM_L4_CALC;
                                if qw1 & RXD_L4E != 0 {
                                    bad = true;
                                } else {
                                    f |= CSUM_L4_VALID;
                                }
                            }
                        }
                    }
                    assert_eq!(
                        rx_csum_flags(qw1, class),
                        (f, bad),
                        "qw1 {qw1:#x} class {class:#x}"
                    );
                }
            }
        }
    }

    #[test]
    fn rx_csum_decisions() {
        let ok = RXD_DD | RXD_EOF | RXD_L3L4P;
        let tcp4 = PTYPES[26].class;
        let all = CSUM_L3_CALC | CSUM_L3_VALID | CSUM_L4_CALC | CSUM_L4_VALID;
        assert_eq!(rx_csum_flags(ok, tcp4), (all, false));
        assert_eq!(rx_csum_flags(RXD_DD | RXD_EOF, tcp4), (0, false));
        assert_eq!(rx_csum_flags(ok | RXD_IPE, tcp4), (CSUM_L3_CALC, true));
        assert_eq!(rx_csum_flags(ok | RXD_EIPE, tcp4), (CSUM_L3_CALC, true));
        assert_eq!(
            rx_csum_flags(ok | RXD_L4E, tcp4),
            (CSUM_L3_CALC | CSUM_L3_VALID | CSUM_L4_CALC, true)
        );
        assert_eq!(rx_csum_flags(ok | RXD_PPRS, tcp4), (0, false));
        // IPv6 with extension headers: no verdict; IPV6EXADD on IPv4 is ignored.
        assert_eq!(
            rx_csum_flags(ok | RXD_IPV6EXADD, PTYPES[92].class),
            (0, false)
        );
        assert_eq!(rx_csum_flags(ok | RXD_IPV6EXADD, tcp4), (all, false));
        assert_eq!(rx_csum_flags(ok, PTYPES[92].class), (all, false));
        // Fragment: L3 only, and an L4 error there is no verdict on L4. L2: nothing.
        let l3 = CSUM_L3_CALC | CSUM_L3_VALID;
        assert_eq!(rx_csum_flags(ok, PTYPES[22].class), (l3, false));
        assert_eq!(rx_csum_flags(ok | RXD_L4E, PTYPES[22].class), (l3, false));
        assert_eq!(rx_csum_flags(ok, PTYPES[1].class), (0, false));
        assert_eq!(rx_csum_flags(ok | RXD_IPE, PTYPES[1].class), (0, false));
    }
}
