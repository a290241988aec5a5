//! Receive-side scaling: Toeplitz hash, per-PCTYPE input and HENA, LUT (contract 6.8).
//!
//! UNCONFIRMED in the contract and decided here: the standard Toeplitz of the Microsoft
//! RSS specification over input = source address, destination address, then (for the
//! TCP/UDP/SCTP PCTYPEs) source port, destination port, all in network byte order;
//! queue = `LUT[hash & 63]`, low 4 bits. Non-IP frames (PCTYPE 63, L2_PAYLOAD) are not
//! hashed: what the HW feeds Toeplitz for them is unknown.

use super::wire::{self, Parsed, L3};

/// Key size in bytes (I40E_HKEY_ARRAY_SIZE, contract 5.8).
pub const RSS_KEY_LEN: usize = 52;
/// LUT entries (I40E_VF_HLUT_ARRAY_SIZE, contract 5.8).
pub const RSS_LUT_LEN: usize = 64;
/// I40E_DEFAULT_RSS_HENA for X710/XL710 (contract 5.8).
pub const DEFAULT_HENA: u64 = 0x8000_7A1E_8000_0000;

/// The VF's RSS configuration as programmed by CONFIG_RSS_KEY/LUT and SET_RSS_HENA (or
/// the VFQF_HKEY/HLUT/HENA registers). After a VF reset key and LUT are zero and HENA
/// is the default (contract 5.8): that is [`RssState::default`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RssState {
    pub key: [u8; RSS_KEY_LEN],
    pub lut: [u8; RSS_LUT_LEN],
    pub hena: u64,
}

impl Default for RssState {
    fn default() -> Self {
        RssState {
            key: [0; RSS_KEY_LEN],
            lut: [0; RSS_LUT_LEN],
            hena: DEFAULT_HENA,
        }
    }
}

/// The Toeplitz hash of `input` under `key` (Microsoft RSS specification): for each
/// input bit set, XOR in the 32-bit window of the key starting at that bit. Key bits
/// past the end of `key` read as zero.
pub fn toeplitz(key: &[u8], input: &[u8]) -> u32 {
    let kb = |i: usize| u64::from(key.get(i).copied().unwrap_or(0));
    // `window` holds key bits [8i, 8i + 64) for input byte i; the 32-bit window for
    // bit b (0 = most significant) of that byte is bits [8i + b, 8i + b + 32).
    let mut window = (0..8).fold(0u64, |w, i| w << 8 | kb(i));
    let mut hash = 0u32;
    for (i, &byte) in input.iter().enumerate() {
        // Visit only the set bits (inputs are sparse: addresses and ports).
        let mut m = byte;
        while m != 0 {
            let b = m.leading_zeros(); // 0 = most significant bit
            hash ^= (window >> (32 - b)) as u32;
            m &= !(0x80 >> b);
        }
        window = window << 8 | kb(i + 8);
    }
    hash
}

/// Fill `buf` with the Toeplitz input for a parsed frame and return (PCTYPE, length),
/// or None for frames that are not hashed (non-IP, or headers cut short).
pub fn rss_input(frame: &[u8], p: &Parsed, buf: &mut [u8; 36]) -> Option<(u8, usize)> {
    let (addrs, alen) = match p.l3 {
        L3::Ipv4 => (frame.get(p.l3_off + 12..p.l3_off + 20)?, 8),
        L3::Ipv6 => (frame.get(p.l3_off + 8..p.l3_off + 40)?, 32),
        L3::None => return None,
    };
    buf[..alen].copy_from_slice(addrs);
    let l4 = matches!(
        p.pctype,
        wire::PCTYPE_IPV4_TCP
            | wire::PCTYPE_IPV4_UDP
            | wire::PCTYPE_IPV4_SCTP
            | wire::PCTYPE_IPV6_TCP
            | wire::PCTYPE_IPV6_UDP
            | wire::PCTYPE_IPV6_SCTP
    );
    if !l4 {
        return Some((p.pctype, alen));
    }
    // TCP, UDP and SCTP all start with source port, destination port.
    let ports = frame.get(p.l4_off..p.l4_off + 4)?;
    buf[alen..alen + 4].copy_from_slice(ports);
    Some((p.pctype, alen + 4))
}

/// The RSS hash of a frame under `rss`, or None when the frame's PCTYPE is not enabled
/// in HENA or the frame is not hashed at all (then the RX descriptor has FLTSTAT = 0).
pub fn rss_hash(rss: &RssState, frame: &[u8]) -> Option<u32> {
    rss_hash_parsed(rss, frame, &wire::parse(frame))
}

pub(crate) fn rss_hash_parsed(rss: &RssState, frame: &[u8], p: &Parsed) -> Option<u32> {
    let mut buf = [0u8; 36];
    let (pctype, len) = rss_input(frame, p, &mut buf)?;
    if rss.hena >> pctype & 1 == 0 {
        return None;
    }
    Some(toeplitz(&rss.key, &buf[..len]))
}

/// The RX queue index RSS selects for `hash`: `LUT[hash & 63]`, low 4 bits (HW uses 4
/// bits of each entry, contract 6.8). The caller must still bound it by the VF's
/// enabled queue count (the PF validates LUT entries < num_queue_pairs, 5.8).
pub fn rss_queue(rss: &RssState, hash: u32) -> u16 {
    u16::from(rss.lut[(hash & 63) as usize] & 0x0F)
}

/// The RX queue (of the VF's queue pairs) a frame goes to: the LUT entry for its RSS
/// hash, or queue 0 when RSS does not hash it (non-IP, PCTYPE disabled in HENA) — the
/// VSI's first queue takes unhashed traffic. The returned value may still be >=
/// `num_queues` if the LUT says so (a LUT the PF validated cannot); such a frame should
/// be dropped by the caller.
pub fn rx_queue_for(rss: &RssState, frame: &[u8]) -> (u16, Option<u32>) {
    match rss_hash(rss, frame) {
        Some(h) => (rss_queue(rss, h), Some(h)),
        None => (0, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The key of the Microsoft RSS verification suite ("Verifying the RSS Hash
    /// Calculation", Windows driver docs), also used by DPDK's test_thash.c.
    const MS_KEY: [u8; 40] = [
        0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3, 0x8f,
        0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30,
        0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
    ];

    fn v4_input(src: [u8; 4], dst: [u8; 4], sport: u16, dport: u16) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&src);
        v.extend_from_slice(&dst);
        v.extend_from_slice(&sport.to_be_bytes());
        v.extend_from_slice(&dport.to_be_bytes());
        v
    }

    /// (source, destination, source port, destination port, IPv4-only hash, with TCP ports)
    type V4Case = ([u8; 4], [u8; 4], u16, u16, u32, u32);

    #[test]
    fn toeplitz_microsoft_ipv4_vectors() {
        let cases: [V4Case; 5] = [
            (
                [66, 9, 149, 187],
                [161, 142, 100, 80],
                2794,
                1766,
                0x323e8fc2,
                0x51ccc178,
            ),
            (
                [199, 92, 111, 2],
                [65, 69, 140, 83],
                14230,
                4739,
                0xd718262a,
                0xc626b0ea,
            ),
            (
                [24, 19, 198, 95],
                [12, 22, 207, 184],
                12898,
                38024,
                0xd2d0a5de,
                0x5c2b394a,
            ),
            (
                [38, 27, 205, 30],
                [209, 142, 163, 6],
                48228,
                2217,
                0x82989176,
                0xafc7327f,
            ),
            (
                [153, 39, 163, 191],
                [202, 188, 127, 2],
                44251,
                1303,
                0x5d1809c5,
                0x10e828a2,
            ),
        ];
        for (src, dst, sp, dp, h_ip, h_tcp) in cases {
            let inp = v4_input(src, dst, sp, dp);
            assert_eq!(toeplitz(&MS_KEY, &inp[..8]), h_ip, "{src:?}->{dst:?} ip");
            assert_eq!(toeplitz(&MS_KEY, &inp), h_tcp, "{src:?}->{dst:?} tcp");
        }
    }

    fn v6(s: &str) -> [u8; 16] {
        s.parse::<std::net::Ipv6Addr>().unwrap().octets()
    }

    #[test]
    fn toeplitz_microsoft_ipv6_vectors() {
        let cases = [
            (
                "3ffe:2501:200:1fff::7",
                "3ffe:2501:200:3::1",
                2794u16,
                1766u16,
                0x2cc18cd5u32,
                0x40207d3du32,
            ),
            (
                "3ffe:501:8::260:97ff:fe40:efab",
                "ff02::1",
                14230,
                4739,
                0x0f0c461c,
                0xdde51bbf,
            ),
            (
                "3ffe:1900:4545:3:200:f8ff:fe21:67cf",
                "fe80::200:f8ff:fe21:67cf",
                44251,
                38024,
                0x4b61e985,
                0x02d1feef,
            ),
        ];
        for (src, dst, sp, dp, h_ip, h_tcp) in cases {
            let mut inp = Vec::new();
            inp.extend_from_slice(&v6(src));
            inp.extend_from_slice(&v6(dst));
            assert_eq!(toeplitz(&MS_KEY, &inp), h_ip, "{src}->{dst} ip");
            inp.extend_from_slice(&sp.to_be_bytes());
            inp.extend_from_slice(&dp.to_be_bytes());
            assert_eq!(toeplitz(&MS_KEY, &inp), h_tcp, "{src}->{dst} tcp");
        }
    }

    /// A hand-written IPv4/TCP frame carrying the first Microsoft vector: the frame-level
    /// hash must equal the vector, and HENA gates it per PCTYPE.
    #[test]
    fn frame_hash_uses_addresses_and_ports_and_hena() {
        #[rustfmt::skip]
        let frame: [u8; 54] = [
            0x02, 0, 0, 0, 0, 1,  0x02, 0, 0, 0, 0, 2,  0x08, 0x00,
            0x45, 0, 0, 40,  0, 0, 0x40, 0,  64, 6, 0, 0,
            66, 9, 149, 187,  161, 142, 100, 80,
            0x0a, 0xea,  0x06, 0xe6, // 2794 -> 1766
            0, 0, 0, 0,  0, 0, 0, 0,  0x50, 0x02, 0xff, 0xff,  0, 0, 0, 0,
        ];
        let mut rss = RssState::default();
        rss.key[..40].copy_from_slice(&MS_KEY);
        assert_eq!(rss_hash(&rss, &frame), Some(0x51ccc178));
        rss.hena &= !(1 << 33); // IPV4_TCP off
        assert_eq!(rss_hash(&rss, &frame), None);
        assert_eq!(rx_queue_for(&rss, &frame), (0, None));
        rss.hena |= 1 << 33;
        rss.lut[0x78 & 63] = 0x13; // only the low 4 bits count
        assert_eq!(rss_queue(&rss, 0x51ccc178), 3);
        assert_eq!(rx_queue_for(&rss, &frame), (3, Some(0x51ccc178)));
    }
}
