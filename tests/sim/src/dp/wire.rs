//! Frame parsing, PTYPE/PCTYPE classification and checksums, as the emulated NIC's
//! parser sees frames. Bounds-checked throughout: any frame (including garbage from a
//! misbehaving driver) classifies without panicking.

/// Ethernet header length without tags.
pub const ETH_HLEN: usize = 14;
pub const ETHERTYPE_IPV4: u16 = 0x0800;
pub const ETHERTYPE_ARP: u16 = 0x0806;
pub const ETHERTYPE_IPV6: u16 = 0x86DD;
/// IEEE 802.1Q customer tag TPID (contract 6.2: IL2TAG1 inserts TPID 0x8100).
pub const ETHERTYPE_VLAN: u16 = 0x8100;
/// IEEE 802.1ad service tag TPID.
pub const ETHERTYPE_QINQ: u16 = 0x88A8;
/// Pre-standard QinQ TPID, still seen in the wild.
pub const ETHERTYPE_QINQ_OLD: u16 = 0x9100;

pub const IPPROTO_ICMP: u8 = 1;
pub const IPPROTO_TCP: u8 = 6;
pub const IPPROTO_UDP: u8 = 17;
pub const IPPROTO_SCTP: u8 = 132;
pub const IPPROTO_ICMPV6: u8 = 58;

// IPv6 extension headers walked by the parser (RFC 8200 section 4).
const IPV6_HOPOPTS: u8 = 0;
const IPV6_ROUTING: u8 = 43;
const IPV6_FRAGMENT: u8 = 44;
const IPV6_AH: u8 = 51;
const IPV6_DSTOPTS: u8 = 60;
/// Bound on extension headers walked; deeper chains classify as "no L4".
const IPV6_MAX_EXT: usize = 8;

// PTYPE values (contract 6.6, OOT iavf `iavf_ptype_lookup[]`).
pub const PTYPE_L2: u8 = 1;
pub const PTYPE_L2_ARP: u8 = 11;
pub const PTYPE_IPV4_FRAG: u8 = 22;
pub const PTYPE_IPV4_PAY3: u8 = 23;
pub const PTYPE_IPV4_UDP: u8 = 24;
pub const PTYPE_IPV4_TCP: u8 = 26;
pub const PTYPE_IPV4_SCTP: u8 = 27;
pub const PTYPE_IPV4_ICMP: u8 = 28;
pub const PTYPE_IPV6_FRAG: u8 = 88;
pub const PTYPE_IPV6_PAY3: u8 = 89;
pub const PTYPE_IPV6_UDP: u8 = 90;
pub const PTYPE_IPV6_TCP: u8 = 92;
pub const PTYPE_IPV6_SCTP: u8 = 93;
pub const PTYPE_IPV6_ICMP: u8 = 94;

// PCTYPE numbers = RSS hash-enable bit positions (contract 5.8, `enum iavf_filter_pctype`).
pub const PCTYPE_IPV4_UDP: u8 = 31;
pub const PCTYPE_IPV4_TCP: u8 = 33;
pub const PCTYPE_IPV4_SCTP: u8 = 34;
pub const PCTYPE_IPV4_OTHER: u8 = 35;
pub const PCTYPE_FRAG_IPV4: u8 = 36;
pub const PCTYPE_IPV6_UDP: u8 = 41;
pub const PCTYPE_IPV6_TCP: u8 = 43;
pub const PCTYPE_IPV6_SCTP: u8 = 44;
pub const PCTYPE_IPV6_OTHER: u8 = 45;
pub const PCTYPE_FRAG_IPV6: u8 = 46;
pub const PCTYPE_L2_PAYLOAD: u8 = 63;

/// Big-endian u16 at `off`, if in bounds.
#[inline]
pub fn be16(b: &[u8], off: usize) -> Option<u16> {
    let s = b.get(off..off.checked_add(2)?)?;
    Some(u16::from_be_bytes([s[0], s[1]]))
}

/// Big-endian u32 at `off`, if in bounds.
#[inline]
pub fn be32(b: &[u8], off: usize) -> Option<u32> {
    let s = b.get(off..off.checked_add(4)?)?;
    Some(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

/// Network layer of a parsed frame.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum L3 {
    #[default]
    None,
    Ipv4,
    Ipv6,
}

/// What the parser found in a frame. Offsets are from the start of the frame.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Parsed {
    /// TCI of the outermost tag, if the frame carries one (any of 0x8100/0x88A8/0x9100).
    pub outer_tag: Option<(u16, u16)>,
    /// EtherType after the tags.
    pub ethertype: u16,
    /// Offset of the L3 header.
    pub l3_off: usize,
    pub l3: L3,
    /// End of the IP packet per its length field (None if the field is inconsistent
    /// with the frame: then no checksum is verified).
    pub ip_end: Option<usize>,
    /// IPv4 header length or IPv6 fixed + extension header length.
    pub l3_hdr_len: usize,
    /// IP fragment (IPv4 MF or offset, IPv6 fragment header).
    pub frag: bool,
    /// IPv6 with extension headers (RX status IPV6EXADD).
    pub ipv6_ext: bool,
    /// Upper-layer protocol number (IPv4 protocol / final IPv6 next header).
    pub l4_proto: u8,
    /// Offset of the L4 header (valid when l3 != None and !frag).
    pub l4_off: usize,
    /// PTYPE per contract 6.6 (minimum set; tunnels are not recognised).
    pub ptype: u8,
    /// PCTYPE per contract 5.8 (selects the HENA bit and the RSS input).
    pub pctype: u8,
}

/// Classify a frame as the RX parser does. The frame starts at the destination MAC and
/// carries no FCS. Frames shorter than an Ethernet header classify as PTYPE 1 (L2).
pub fn parse(frame: &[u8]) -> Parsed {
    let mut p = Parsed {
        ptype: PTYPE_L2,
        pctype: PCTYPE_L2_PAYLOAD,
        ..Parsed::default()
    };
    let Some(mut et) = be16(frame, 12) else {
        return p;
    };
    let mut off = ETH_HLEN;
    // Up to two tags (QinQ); the parser looks through them as real HW does.
    for _ in 0..2 {
        if et != ETHERTYPE_VLAN && et != ETHERTYPE_QINQ && et != ETHERTYPE_QINQ_OLD {
            break;
        }
        let (Some(tci), Some(next)) = (be16(frame, off), be16(frame, off + 2)) else {
            return p;
        };
        if p.outer_tag.is_none() {
            p.outer_tag = Some((et, tci));
        }
        et = next;
        off += 4;
    }
    p.ethertype = et;
    p.l3_off = off;
    match et {
        ETHERTYPE_ARP => p.ptype = PTYPE_L2_ARP,
        ETHERTYPE_IPV4 => parse_ipv4(frame, &mut p),
        ETHERTYPE_IPV6 => parse_ipv6(frame, &mut p),
        _ => {}
    }
    p
}

fn parse_ipv4(frame: &[u8], p: &mut Parsed) {
    let o = p.l3_off;
    let Some(h) = frame.get(o..o + 20) else {
        return;
    };
    let ihl = usize::from(h[0] & 0x0F) * 4;
    if h[0] >> 4 != 4 || ihl < 20 || frame.len() < o + ihl {
        return; // not a parseable IPv4 header: stays L2
    }
    let tot = usize::from(u16::from_be_bytes([h[2], h[3]]));
    p.l3 = L3::Ipv4;
    p.l3_hdr_len = ihl;
    p.ip_end = (tot >= ihl && o + tot <= frame.len()).then_some(o + tot);
    p.frag = u16::from_be_bytes([h[6], h[7]]) & 0x3FFF != 0; // MF or fragment offset
    p.l4_proto = h[9];
    p.l4_off = o + ihl;
    (p.ptype, p.pctype) = if p.frag {
        (PTYPE_IPV4_FRAG, PCTYPE_FRAG_IPV4)
    } else {
        match p.l4_proto {
            IPPROTO_UDP => (PTYPE_IPV4_UDP, PCTYPE_IPV4_UDP),
            IPPROTO_TCP => (PTYPE_IPV4_TCP, PCTYPE_IPV4_TCP),
            IPPROTO_SCTP => (PTYPE_IPV4_SCTP, PCTYPE_IPV4_SCTP),
            IPPROTO_ICMP => (PTYPE_IPV4_ICMP, PCTYPE_IPV4_OTHER),
            _ => (PTYPE_IPV4_PAY3, PCTYPE_IPV4_OTHER),
        }
    };
}

fn parse_ipv6(frame: &[u8], p: &mut Parsed) {
    let o = p.l3_off;
    let Some(h) = frame.get(o..o + 40) else {
        return;
    };
    if h[0] >> 4 != 6 {
        return;
    }
    let plen = usize::from(u16::from_be_bytes([h[4], h[5]]));
    p.l3 = L3::Ipv6;
    // Payload length 0 (jumbogram) or beyond the frame: no trusted end.
    p.ip_end = (plen != 0 && o + 40 + plen <= frame.len()).then_some(o + 40 + plen);
    let mut nh = h[6];
    let mut off = o + 40;
    let mut walked = 0;
    let mut known_l4 = true;
    loop {
        let len = match nh {
            IPV6_HOPOPTS | IPV6_ROUTING | IPV6_DSTOPTS => {
                frame.get(off + 1).map(|&l| (usize::from(l) + 1) * 8)
            }
            IPV6_AH => frame.get(off + 1).map(|&l| (usize::from(l) + 2) * 4),
            IPV6_FRAGMENT => {
                p.frag = true;
                Some(8)
            }
            _ => break,
        };
        walked += 1;
        p.ipv6_ext = true;
        match (len, frame.get(off)) {
            (Some(len), Some(&next)) if walked <= IPV6_MAX_EXT => {
                nh = next;
                off += len;
            }
            _ => {
                known_l4 = false;
                break;
            }
        }
    }
    p.l3_hdr_len = off - o;
    p.l4_proto = nh;
    p.l4_off = off;
    (p.ptype, p.pctype) = if p.frag {
        (PTYPE_IPV6_FRAG, PCTYPE_FRAG_IPV6)
    } else if !known_l4 {
        (PTYPE_IPV6_PAY3, PCTYPE_IPV6_OTHER)
    } else {
        match nh {
            IPPROTO_UDP => (PTYPE_IPV6_UDP, PCTYPE_IPV6_UDP),
            IPPROTO_TCP => (PTYPE_IPV6_TCP, PCTYPE_IPV6_TCP),
            IPPROTO_SCTP => (PTYPE_IPV6_SCTP, PCTYPE_IPV6_SCTP),
            IPPROTO_ICMPV6 => (PTYPE_IPV6_ICMP, PCTYPE_IPV6_OTHER),
            _ => (PTYPE_IPV6_PAY3, PCTYPE_IPV6_OTHER),
        }
    };
}

/// Add `data` to a ones-complement sum as big-endian 16-bit words (an odd trailing
/// byte is padded with zero, RFC 1071).
pub fn csum_add(mut sum: u64, data: &[u8]) -> u64 {
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        sum += u64::from(u16::from_be_bytes([c[0], c[1]]));
    }
    if let [b] = chunks.remainder() {
        sum += u64::from(*b) << 8;
    }
    sum
}

/// Fold a ones-complement sum to 16 bits (not complemented).
pub fn csum_fold(mut sum: u64) -> u16 {
    while sum > 0xFFFF {
        sum = (sum & 0xFFFF) + (sum >> 16);
    }
    sum as u16
}

/// The Internet checksum of `data` (RFC 1071): complement of the folded sum.
pub fn inet_checksum(data: &[u8]) -> u16 {
    !csum_fold(csum_add(0, data))
}

/// Ones-complement sum of the pseudo-header (RFC 768/793 for IPv4, RFC 8200 8.1 for
/// IPv6) for the IP header at `ip[0..]`. `l4_len` None leaves the length out (the TSO
/// seed convention of Linux `iavf_tso` and iflib's `in_pseudo(.., htons(IPPROTO_TCP))`).
/// Returns None if the header is too short for the addresses.
pub fn pseudo_sum(ip: &[u8], v6: bool, proto: u8, l4_len: Option<usize>) -> Option<u64> {
    let addrs = if v6 { ip.get(8..40)? } else { ip.get(12..20)? };
    let mut sum = csum_add(0, addrs) + u64::from(proto);
    if let Some(len) = l4_len {
        let len = len as u64;
        sum += (len >> 16) + (len & 0xFFFF);
    }
    Some(sum)
}

/// CRC32c (Castagnoli, reflected polynomial 0x82F63B78), as SCTP uses it (RFC 4960
/// appendix B; RFC 3309). Check value: crc32c(b"123456789") = 0xE3069283.
pub fn crc32c(data: &[u8]) -> u32 {
    !crc32c_update(!0, data)
}

fn crc32c_update(mut crc: u32, data: &[u8]) -> u32 {
    for &b in data {
        crc = CRC32C_TABLE[((crc ^ u32::from(b)) & 0xFF) as usize] ^ (crc >> 8);
    }
    crc
}

static CRC32C_TABLE: [u32; 256] = crc32c_table();

const fn crc32c_table() -> [u32; 256] {
    let mut t = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                (c >> 1) ^ 0x82F6_3B78
            } else {
                c >> 1
            };
            k += 1;
        }
        t[i] = c;
        i += 1;
    }
    t
}

/// The SCTP checksum of a whole SCTP packet `sctp` with its checksum field (bytes
/// 8..12) treated as zero. The value goes on the wire little-endian (RFC 4960
/// appendix B: the CRC's least significant byte first, as Linux
/// `sctp_compute_cksum` stores `cpu_to_le32`).
pub fn sctp_checksum(sctp: &[u8]) -> Option<u32> {
    let head = sctp.get(..8)?;
    let tail = sctp.get(12..)?;
    let crc = crc32c_update(!0, head);
    let crc = crc32c_update(crc, &[0; 4]);
    Some(!crc32c_update(crc, tail))
}

/// Result of verifying a received frame's checksums (contract 6.7 recommendation).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CsumVerdict {
    /// L3L4P: the checksums below were computed.
    pub l3l4p: bool,
    /// IPE: IPv4 header checksum wrong.
    pub ipe: bool,
    /// L4E: TCP/UDP/SCTP checksum wrong.
    pub l4e: bool,
}

/// Verify the checksums of a parsed frame. Per the contract's recommendation (6.7),
/// L3L4P is set only for unfragmented IPv4/IPv6 frames carrying TCP, UDP or SCTP whose
/// lengths are consistent; ICMP, fragments and everything else get L3L4P = 0.
/// UDP over IPv4 with checksum 0 means "no checksum" and is good (RFC 768); over IPv6
/// a zero UDP checksum is invalid (RFC 8200 8.1) and reported as L4E.
pub fn verify_checksums(frame: &[u8], p: &Parsed) -> CsumVerdict {
    let mut v = CsumVerdict::default();
    if p.l3 == L3::None || p.frag || !matches!(p.l4_proto, IPPROTO_TCP | IPPROTO_UDP | IPPROTO_SCTP)
    {
        return v;
    }
    let Some(end) = p.ip_end else { return v };
    let (Some(ip), Some(l4)) = (frame.get(p.l3_off..end), frame.get(p.l4_off..end)) else {
        return v;
    };
    let v6 = p.l3 == L3::Ipv6;
    let ok = match p.l4_proto {
        IPPROTO_TCP if l4.len() >= 20 => pseudo_sum(ip, v6, IPPROTO_TCP, Some(l4.len()))
            .map(|ps| csum_fold(csum_add(ps, l4)) == 0xFFFF),
        IPPROTO_UDP if l4.len() >= 8 => {
            let ulen = usize::from(u16::from_be_bytes([l4[4], l4[5]]));
            let sum = u16::from_be_bytes([l4[6], l4[7]]);
            if ulen != l4.len() {
                Some(false)
            } else if sum == 0 {
                Some(!v6)
            } else {
                pseudo_sum(ip, v6, IPPROTO_UDP, Some(l4.len()))
                    .map(|ps| csum_fold(csum_add(ps, l4)) == 0xFFFF)
            }
        }
        IPPROTO_SCTP if l4.len() >= 12 => {
            let stored = u32::from_le_bytes([l4[8], l4[9], l4[10], l4[11]]);
            sctp_checksum(l4).map(|c| c == stored)
        }
        _ => None, // too short for its header: no verdict
    };
    let Some(ok) = ok else { return v };
    v.l3l4p = true;
    v.l4e = !ok;
    if !v6 {
        v.ipe = match frame.get(p.l3_off..p.l3_off + p.l3_hdr_len) {
            Some(h) => csum_fold(csum_add(0, h)) != 0xFFFF,
            None => true,
        };
    }
    v
}

/// Destination-address class of a frame (RX status UMBCAST, contract 6.5: 0 unicast,
/// 1 multicast, 2 broadcast).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cast {
    Unicast = 0,
    Multicast = 1,
    Broadcast = 2,
}

/// Classify a destination MAC address.
pub fn cast_of(dst: &[u8]) -> Cast {
    match dst.get(..6) {
        Some([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]) => Cast::Broadcast,
        Some(d) if d[0] & 1 != 0 => Cast::Multicast,
        _ => Cast::Unicast,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dp::testutil::*;

    fn ptype(f: &[u8]) -> u8 {
        parse(f).ptype
    }

    #[test]
    fn ptype_of_sample_frames() {
        // ARP request: 28-byte ARP body after the Ethernet header.
        let mut arp = eth([0xff; 6], MAC_A, 0x0806);
        arp.extend_from_slice(&[0, 1, 8, 0, 6, 4, 0, 1]);
        arp.extend_from_slice(&[0; 20]);
        assert_eq!(ptype(&arp), 11);
        // LLDP: an unknown EtherType is plain L2 payload.
        let mut lldp = eth(MAC_B, MAC_A, 0x88CC);
        lldp.extend_from_slice(&[0; 46]);
        assert_eq!(ptype(&lldp), 1);
        assert_eq!(parse(&lldp).pctype, 63);

        assert_eq!(ptype(&udp4_frame(18)), 24);
        assert_eq!(ptype(&tcp4_frame(6)), 26);
        for (proto, want) in [(132u8, 27u8), (1, 28), (47, 23)] {
            let mut f = eth(MAC_B, MAC_A, 0x0800);
            f.extend(ipv4(proto, 20 + 26, 1, 0));
            f.extend_from_slice(&[0; 26]);
            assert_eq!(ptype(&f), want, "IPv4 protocol {proto}");
        }
        // IPv4 fragments: MF set, or a non-zero offset.
        for frag in [0x2000u16, 0x0010] {
            let mut f = eth(MAC_B, MAC_A, 0x0800);
            f.extend(ipv4(6, 20 + 26, 1, frag));
            f.extend_from_slice(&[0; 26]);
            assert_eq!(ptype(&f), 22);
            assert_eq!(parse(&f).pctype, 36);
        }
        for (next, want) in [(17u8, 90u8), (6, 92), (132, 93), (58, 94), (59, 89)] {
            let mut f = eth(MAC_B, MAC_A, 0x86DD);
            f.extend(ipv6(next, 24));
            f.extend_from_slice(&[0; 24]);
            assert_eq!(ptype(&f), want, "IPv6 next header {next}");
            assert!(!parse(&f).ipv6_ext);
        }
        // IPv6 hop-by-hop (8 bytes) then TCP: still TCP, with the extension flag.
        let mut f = eth(MAC_B, MAC_A, 0x86DD);
        f.extend(ipv6(0, 8 + 20));
        f.extend_from_slice(&[6, 0, 1, 4, 0, 0, 0, 0]);
        f.extend(tcp(1, 2, 3, 0x10));
        let p = parse(&f);
        assert_eq!((p.ptype, p.ipv6_ext, p.l4_off), (92, true, 14 + 48));
        // IPv6 fragment header.
        let mut f = eth(MAC_B, MAC_A, 0x86DD);
        f.extend(ipv6(44, 8 + 8));
        f.extend_from_slice(&[17, 0, 0, 1, 0, 0, 0, 7]);
        f.extend_from_slice(&[0; 8]);
        assert_eq!(ptype(&f), 88);
        // 802.1Q-tagged IPv4/TCP parses through the tag.
        let plain = tcp4_frame(10);
        let mut tagged = plain[..12].to_vec();
        tagged.extend_from_slice(&[0x81, 0x00, 0x20, 0x05]);
        tagged.extend_from_slice(&plain[12..]);
        let p = parse(&tagged);
        assert_eq!(
            (p.ptype, p.outer_tag, p.l3_off),
            (26, Some((0x8100, 0x2005)), 18)
        );
        // Truncated or wrong-version IP headers are L2 only; runts too.
        assert_eq!(ptype(&plain[..30]), 1);
        let mut v5 = plain.clone();
        v5[14] = 0x55;
        assert_eq!(ptype(&v5), 1);
        assert_eq!(ptype(&plain[..10]), 1);
    }

    #[test]
    fn checksum_primitives_match_published_vectors() {
        let hdr = [
            0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00, 0xc0, 0xa8,
            0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
        ];
        assert_eq!(inet_checksum(&hdr), 0xB861);
        assert_eq!(crc32c(b"123456789"), 0xE306_9283);
        assert_eq!(crc32c(&[0u8; 32]), 0x8A91_36AA);
        assert_eq!(crc32c(&[0xFFu8; 32]), 0x62A8_AB43);
        // Odd length: trailing byte padded with zero.
        assert_eq!(inet_checksum(&[0x01]), !0x0100);
    }

    #[test]
    fn verify_good_and_bad_checksums() {
        let good = udp4_frame(20);
        let p = parse(&good);
        assert_eq!(
            verify_checksums(&good, &p),
            CsumVerdict {
                l3l4p: true,
                ipe: false,
                l4e: false
            }
        );
        let mut bad_ip = good.clone();
        bad_ip[14 + 10] ^= 0x01;
        assert_eq!(
            verify_checksums(&bad_ip, &p),
            CsumVerdict {
                l3l4p: true,
                ipe: true,
                l4e: false
            }
        );
        let mut bad_l4 = good.clone();
        *bad_l4.last_mut().unwrap() ^= 0x80;
        assert_eq!(
            verify_checksums(&bad_l4, &p),
            CsumVerdict {
                l3l4p: true,
                ipe: false,
                l4e: true
            }
        );
        // UDP checksum 0 over IPv4 = none: good.
        let mut zero = good.clone();
        zero[14 + 20 + 6] = 0;
        zero[14 + 20 + 7] = 0;
        assert!(!verify_checksums(&zero, &p).l4e);
        // Padding after the IP packet (a 60-byte minimum frame) does not disturb it.
        let mut small = udp4_frame(2);
        assert_eq!(small.len(), 44);
        small.resize(60, 0xAA);
        let ps = parse(&small);
        assert_eq!(
            verify_checksums(&small, &ps),
            CsumVerdict {
                l3l4p: true,
                ipe: false,
                l4e: false
            }
        );

        let t = tcp4_frame(33);
        let pt = parse(&t);
        assert_eq!(
            verify_checksums(&t, &pt),
            CsumVerdict {
                l3l4p: true,
                ipe: false,
                l4e: false
            }
        );
        let mut tb = t.clone();
        tb[14 + 20 + 16] ^= 0xFF;
        assert!(verify_checksums(&tb, &pt).l4e);

        // IPv6/TCP, and a zero UDP checksum over IPv6 is an error.
        let mut f6 = eth(MAC_B, MAC_A, 0x86DD);
        f6.extend(ipv6(6, 20 + 7));
        f6.extend(tcp(5, 6, 7, 0x10));
        f6.extend(payload(7, 3));
        fix_sums(&mut f6, 14, true);
        let p6 = parse(&f6);
        assert_eq!(
            verify_checksums(&f6, &p6),
            CsumVerdict {
                l3l4p: true,
                ipe: false,
                l4e: false
            }
        );
        let mut u6 = eth(MAC_B, MAC_A, 0x86DD);
        u6.extend(ipv6(17, 8 + 4));
        u6.extend(udp(5, 6, 12));
        u6.extend(payload(4, 3));
        let pu6 = parse(&u6);
        assert!(verify_checksums(&u6, &pu6).l4e);

        // SCTP: CRC32c little-endian at bytes 8..12 of the SCTP header.
        let mut s = eth(MAC_B, MAC_A, 0x0800);
        s.extend(ipv4(132, 20 + 16, 9, 0));
        s.extend_from_slice(&[0x13, 0x88, 0x13, 0x89, 0, 0, 0, 1, 0, 0, 0, 0, 1, 2, 3, 4]);
        fix_sums(&mut s, 14, false); // IP header only
        let crc = crc32c_bitwise(&s[34..]);
        s[42..46].copy_from_slice(&crc.to_le_bytes());
        let ps = parse(&s);
        assert_eq!(
            verify_checksums(&s, &ps),
            CsumVerdict {
                l3l4p: true,
                ipe: false,
                l4e: false
            }
        );
        s[42] ^= 1;
        assert!(verify_checksums(&s, &ps).l4e);

        // ICMP and fragments: no verdict (L3L4P = 0).
        let mut icmp = eth(MAC_B, MAC_A, 0x0800);
        icmp.extend(ipv4(1, 28, 1, 0));
        icmp.extend_from_slice(&[8, 0, 0, 0, 0, 0, 0, 0]);
        assert!(!verify_checksums(&icmp, &parse(&icmp)).l3l4p);
        // IP total length beyond the frame: no verdict.
        let mut lie = good.clone();
        lie[14 + 3] = lie[14 + 3].wrapping_add(50);
        assert!(!verify_checksums(&lie, &parse(&lie)).l3l4p);
    }

    #[test]
    fn cast_classes() {
        assert_eq!(cast_of(&[0xff; 6]), Cast::Broadcast);
        assert_eq!(cast_of(&[0x01, 0x00, 0x5e, 0, 0, 1]), Cast::Multicast);
        assert_eq!(cast_of(&[0x33, 0x33, 0, 0, 0, 1]), Cast::Multicast);
        assert_eq!(cast_of(&MAC_A), Cast::Unicast);
    }

    #[test]
    fn parser_survives_garbage() {
        let mut x: u32 = 0x1234_5678;
        for len in 0..200 {
            let f: Vec<u8> = (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 17;
                    x ^= x << 5;
                    x as u8
                })
                .collect();
            let mut g = f.clone();
            if g.len() > 14 {
                g[12] = 0x86;
                g[13] = 0xDD;
                g[14] = 0x60 | (g[14] & 0xF);
            }
            for fr in [&f, &g] {
                let p = parse(fr);
                let _ = verify_checksums(fr, &p);
            }
        }
    }
}
