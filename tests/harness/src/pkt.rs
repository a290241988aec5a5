//! Frame builders and checkers: Ethernet, 802.1Q, ARP, IPv4, IPv6, ICMP, UDP, TCP.
//!
//! The demo and the tests build real frames here (with correct checksums) and check
//! what arrives: every header checksum, every L4 checksum, lengths. Layouts are the
//! RFCs' (RFC 791 IPv4, RFC 8200 IPv6, RFC 792 ICMP, RFC 768 UDP, RFC 9293 TCP,
//! RFC 826 ARP, IEEE 802.1Q); the checksum is RFC 1071's one's-complement sum.

pub type Mac = [u8; 6];
pub type Ip4 = [u8; 4];
pub type Ip6 = [u8; 16];

pub const ETHERTYPE_IP: u16 = 0x0800;
pub const ETHERTYPE_ARP: u16 = 0x0806;
pub const ETHERTYPE_VLAN: u16 = 0x8100;
pub const ETHERTYPE_IPV6: u16 = 0x86dd;
pub const IPPROTO_ICMP: u8 = 1;
pub const IPPROTO_TCP: u8 = 6;
pub const IPPROTO_UDP: u8 = 17;
pub const IPPROTO_ICMPV6: u8 = 58;
pub const ETHER_HDR_LEN: usize = 14;
pub const ETHER_VLAN_ENCAP_LEN: usize = 4;
pub const BROADCAST: Mac = [0xff; 6];

pub const TCP_FIN: u8 = 0x01;
pub const TCP_SYN: u8 = 0x02;
pub const TCP_PSH: u8 = 0x08;
pub const TCP_ACK: u8 = 0x10;

fn be16(b: &[u8], off: usize) -> u16 {
    u16::from_be_bytes([b[off], b[off + 1]])
}

fn be32(b: &[u8], off: usize) -> u32 {
    u32::from_be_bytes([b[off], b[off + 1], b[off + 2], b[off + 3]])
}

/// RFC 1071: add `data` to a running 32-bit one's-complement sum (big-endian words,
/// an odd trailing byte padded with zero).
pub fn csum_add(mut sum: u32, data: &[u8]) -> u32 {
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        sum = sum.wrapping_add(u32::from(u16::from_be_bytes([c[0], c[1]])));
        // Fold early so long buffers cannot overflow.
        if sum & 0x8000_0000 != 0 {
            sum = (sum & 0xffff) + (sum >> 16);
        }
    }
    if let [last] = chunks.remainder() {
        sum = sum.wrapping_add(u32::from(*last) << 8);
    }
    sum
}

/// Fold a running sum to 16 bits (not complemented).
pub fn csum_fold(mut sum: u32) -> u16 {
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum as u16
}

/// The Internet checksum of `data` (complemented fold).
pub fn checksum(data: &[u8]) -> u16 {
    !csum_fold(csum_add(0, data))
}

/// Pseudo-header sum for IPv4 (RFC 9293 3.1): addresses, protocol, L4 length.
pub fn pseudo4(src: Ip4, dst: Ip4, proto: u8, l4_len: usize) -> u32 {
    let mut s = csum_add(0, &src);
    s = csum_add(s, &dst);
    s += u32::from(proto);
    s += l4_len as u32;
    s
}

/// Pseudo-header sum for IPv6 (RFC 8200 8.1).
pub fn pseudo6(src: Ip6, dst: Ip6, next: u8, l4_len: usize) -> u32 {
    let mut s = csum_add(0, &src);
    s = csum_add(s, &dst);
    s += (l4_len as u32 >> 16) + (l4_len as u32 & 0xffff);
    s += u32::from(next);
    s
}

/// An Ethernet frame: dst, src, optional 802.1Q tag, ethertype, payload.
pub fn ether(dst: Mac, src: Mac, vlan: Option<u16>, ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = Vec::with_capacity(18 + payload.len());
    f.extend_from_slice(&dst);
    f.extend_from_slice(&src);
    if let Some(tci) = vlan {
        f.extend_from_slice(&ETHERTYPE_VLAN.to_be_bytes());
        f.extend_from_slice(&tci.to_be_bytes());
    }
    f.extend_from_slice(&ethertype.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

/// ARP operation codes (RFC 826).
pub const ARP_REQUEST: u16 = 1;
pub const ARP_REPLY: u16 = 2;

/// An Ethernet/IPv4 ARP packet (28 bytes).
pub fn arp(op: u16, sha: Mac, spa: Ip4, tha: Mac, tpa: Ip4) -> Vec<u8> {
    let mut p = Vec::with_capacity(28);
    p.extend_from_slice(&1u16.to_be_bytes()); // htype Ethernet
    p.extend_from_slice(&ETHERTYPE_IP.to_be_bytes());
    p.push(6);
    p.push(4);
    p.extend_from_slice(&op.to_be_bytes());
    p.extend_from_slice(&sha);
    p.extend_from_slice(&spa);
    p.extend_from_slice(&tha);
    p.extend_from_slice(&tpa);
    p
}

/// A parsed ARP packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Arp {
    pub op: u16,
    pub sha: Mac,
    pub spa: Ip4,
    pub tha: Mac,
    pub tpa: Ip4,
}

pub fn parse_arp(p: &[u8]) -> Option<Arp> {
    if p.len() < 28 || be16(p, 0) != 1 || be16(p, 2) != ETHERTYPE_IP || p[4] != 6 || p[5] != 4 {
        return None;
    }
    let mut a = Arp {
        op: be16(p, 6),
        sha: [0; 6],
        spa: [0; 4],
        tha: [0; 6],
        tpa: [0; 4],
    };
    a.sha.copy_from_slice(&p[8..14]);
    a.spa.copy_from_slice(&p[14..18]);
    a.tha.copy_from_slice(&p[18..24]);
    a.tpa.copy_from_slice(&p[24..28]);
    Some(a)
}

/// An IPv4 header (20 bytes, no options) followed by `payload`, with its checksum.
pub fn ipv4(src: Ip4, dst: Ip4, proto: u8, id: u16, payload: &[u8]) -> Vec<u8> {
    let total = 20 + payload.len();
    let mut p = Vec::with_capacity(total);
    p.push(0x45);
    p.push(0);
    p.extend_from_slice(&(total.min(0xffff) as u16).to_be_bytes());
    p.extend_from_slice(&id.to_be_bytes());
    p.extend_from_slice(&0x4000u16.to_be_bytes()); // DF
    p.push(64);
    p.push(proto);
    p.extend_from_slice(&[0, 0]);
    p.extend_from_slice(&src);
    p.extend_from_slice(&dst);
    let c = checksum(&p[..20]);
    p[10..12].copy_from_slice(&c.to_be_bytes());
    p.extend_from_slice(payload);
    p
}

/// An IPv6 header followed by `payload`.
pub fn ipv6(src: Ip6, dst: Ip6, next: u8, payload: &[u8]) -> Vec<u8> {
    let mut p = Vec::with_capacity(40 + payload.len());
    p.extend_from_slice(&0x6000_0000u32.to_be_bytes());
    p.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    p.push(next);
    p.push(64);
    p.extend_from_slice(&src);
    p.extend_from_slice(&dst);
    p.extend_from_slice(payload);
    p
}

pub const ICMP_ECHO_REPLY: u8 = 0;
pub const ICMP_ECHO_REQUEST: u8 = 8;

/// An ICMP echo request or reply (RFC 792) with its checksum.
pub fn icmp_echo(kind: u8, ident: u16, seq: u16, data: &[u8]) -> Vec<u8> {
    let mut p = vec![kind, 0, 0, 0];
    p.extend_from_slice(&ident.to_be_bytes());
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(data);
    let c = checksum(&p);
    p[2..4].copy_from_slice(&c.to_be_bytes());
    p
}

/// L3 addresses for the L4 builders (they need the pseudo-header).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Addrs {
    V4(Ip4, Ip4),
    V6(Ip6, Ip6),
}

impl Addrs {
    fn pseudo(&self, proto: u8, len: usize) -> u32 {
        match *self {
            Addrs::V4(s, d) => pseudo4(s, d, proto, len),
            Addrs::V6(s, d) => pseudo6(s, d, proto, len),
        }
    }
}

/// A UDP datagram with its checksum.
pub fn udp(addrs: Addrs, sport: u16, dport: u16, data: &[u8]) -> Vec<u8> {
    let len = 8 + data.len();
    let mut p = Vec::with_capacity(len);
    p.extend_from_slice(&sport.to_be_bytes());
    p.extend_from_slice(&dport.to_be_bytes());
    p.extend_from_slice(&(len as u16).to_be_bytes());
    p.extend_from_slice(&[0, 0]);
    p.extend_from_slice(data);
    let mut c = !csum_fold(csum_add(addrs.pseudo(IPPROTO_UDP, len), &p));
    if c == 0 {
        c = 0xffff;
    }
    p[6..8].copy_from_slice(&c.to_be_bytes());
    p
}

/// TCP header fields for [`tcp`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TcpFields {
    pub sport: u16,
    pub dport: u16,
    pub seq: u32,
    pub ack: u32,
    pub flags: u8,
    pub window: u16,
}

/// A TCP segment with a 20-byte header (or 32 with `timestamps`, like FreeBSD's
/// stack sends), with its checksum.
pub fn tcp(addrs: Addrs, f: TcpFields, timestamps: bool, data: &[u8]) -> Vec<u8> {
    let hlen = if timestamps { 32 } else { 20 };
    let mut p = Vec::with_capacity(hlen + data.len());
    p.extend_from_slice(&f.sport.to_be_bytes());
    p.extend_from_slice(&f.dport.to_be_bytes());
    p.extend_from_slice(&f.seq.to_be_bytes());
    p.extend_from_slice(&f.ack.to_be_bytes());
    p.push(((hlen / 4) as u8) << 4);
    p.push(f.flags);
    p.extend_from_slice(&f.window.to_be_bytes());
    p.extend_from_slice(&[0, 0, 0, 0]); // checksum, urgent pointer
    if timestamps {
        // NOP, NOP, TS(8, 10, TSval, TSecr) as RFC 7323 appendix A lays them out.
        p.extend_from_slice(&[1, 1, 8, 10]);
        p.extend_from_slice(&0x0102_0304u32.to_be_bytes());
        p.extend_from_slice(&0u32.to_be_bytes());
    }
    p.extend_from_slice(data);
    let c = !csum_fold(csum_add(addrs.pseudo(IPPROTO_TCP, p.len()), &p));
    p[16..18].copy_from_slice(&c.to_be_bytes());
    p
}

/// Where the headers of a frame are, as a receiver or iflib's header parser finds them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Layout {
    /// Ethernet header length including one 802.1Q tag.
    pub ehdrlen: usize,
    /// The tag's TCI, when the frame carries one.
    pub vlan: Option<u16>,
    /// The ethertype after any tag.
    pub etype: u16,
    /// IP header length (0 when not IP).
    pub ip_hlen: usize,
    /// IP protocol / IPv6 next header (0 when not IP).
    pub ipproto: u8,
    /// TCP header length (0 when not TCP).
    pub l4_hlen: usize,
}

/// Find the headers. Errors on a frame too short for what its headers claim.
pub fn layout(f: &[u8]) -> Result<Layout, String> {
    if f.len() < ETHER_HDR_LEN {
        return Err(format!("frame of {} bytes has no Ethernet header", f.len()));
    }
    let mut l = Layout {
        ehdrlen: ETHER_HDR_LEN,
        etype: be16(f, 12),
        ..Default::default()
    };
    if l.etype == ETHERTYPE_VLAN {
        if f.len() < 18 {
            return Err("truncated 802.1Q tag".into());
        }
        l.vlan = Some(be16(f, 14));
        l.etype = be16(f, 16);
        l.ehdrlen = 18;
    }
    let ip = &f[l.ehdrlen..];
    match l.etype {
        ETHERTYPE_IP => {
            if ip.len() < 20 || ip[0] >> 4 != 4 {
                return Err("bad IPv4 header".into());
            }
            l.ip_hlen = usize::from(ip[0] & 0xf) * 4;
            if l.ip_hlen < 20 || ip.len() < l.ip_hlen {
                return Err(format!("bad IPv4 header length {}", l.ip_hlen));
            }
            l.ipproto = ip[9];
        }
        ETHERTYPE_IPV6 => {
            if ip.len() < 40 || ip[0] >> 4 != 6 {
                return Err("bad IPv6 header".into());
            }
            l.ip_hlen = 40;
            l.ipproto = ip[6];
        }
        _ => return Ok(l),
    }
    if l.ipproto == IPPROTO_TCP {
        let th = &ip[l.ip_hlen..];
        if th.len() < 20 {
            return Err("truncated TCP header".into());
        }
        l.l4_hlen = usize::from(th[12] >> 4) * 4;
        if l.l4_hlen < 20 || th.len() < l.l4_hlen {
            return Err(format!("bad TCP header length {}", l.l4_hlen));
        }
    } else if l.ipproto == IPPROTO_UDP {
        l.l4_hlen = 8;
    }
    Ok(l)
}

/// A received IP packet, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IpPacket {
    pub layout: Layout,
    pub addrs: Addrs,
    /// Offset of the L4 header in the frame.
    pub l4_off: usize,
    /// The L4 header and payload (bounded by the IP length, so padding is excluded).
    pub l4: Vec<u8>,
}

/// Check an IPv4/IPv6 frame: version, lengths, the IPv4 header checksum and the L4
/// checksum (TCP, UDP, ICMP, ICMPv6). Errors name what is wrong.
pub fn check_ip(f: &[u8]) -> Result<IpPacket, String> {
    let l = layout(f)?;
    let ip = &f[l.ehdrlen..];
    let (addrs, l4) = match l.etype {
        ETHERTYPE_IP => {
            if checksum(&ip[..l.ip_hlen]) != 0 {
                return Err(format!("bad IPv4 header checksum {:#06x}", be16(ip, 10)));
            }
            let total = usize::from(be16(ip, 2));
            if total < l.ip_hlen || total > ip.len() {
                return Err(format!(
                    "IPv4 total length {total} vs {} bytes present",
                    ip.len()
                ));
            }
            let mut s = [0; 4];
            let mut d = [0; 4];
            s.copy_from_slice(&ip[12..16]);
            d.copy_from_slice(&ip[16..20]);
            (Addrs::V4(s, d), &ip[l.ip_hlen..total])
        }
        ETHERTYPE_IPV6 => {
            let plen = usize::from(be16(ip, 4));
            if 40 + plen > ip.len() {
                return Err(format!(
                    "IPv6 payload length {plen} vs {} bytes present",
                    ip.len() - 40
                ));
            }
            let mut s = [0; 16];
            let mut d = [0; 16];
            s.copy_from_slice(&ip[8..24]);
            d.copy_from_slice(&ip[24..40]);
            (Addrs::V6(s, d), &ip[40..40 + plen])
        }
        t => return Err(format!("not IP (ethertype {t:#06x})")),
    };
    let ok = match l.ipproto {
        IPPROTO_TCP | IPPROTO_UDP | IPPROTO_ICMPV6 => {
            if l.ipproto == IPPROTO_UDP
                && l4.len() >= 8
                && be16(l4, 6) == 0
                && matches!(addrs, Addrs::V4(..))
            {
                true // RFC 768: no checksum
            } else {
                csum_fold(csum_add(addrs.pseudo(l.ipproto, l4.len()), l4)) == 0xffff
            }
        }
        IPPROTO_ICMP => checksum(l4) == 0,
        _ => true,
    };
    if !ok {
        return Err(format!("bad L4 checksum (proto {})", l.ipproto));
    }
    Ok(IpPacket {
        layout: l,
        addrs,
        l4_off: l.ehdrlen + l.ip_hlen,
        l4: l4.to_vec(),
    })
}

/// A parsed TCP segment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TcpSeg {
    pub sport: u16,
    pub dport: u16,
    pub seq: u32,
    pub ack: u32,
    pub flags: u8,
    pub payload: Vec<u8>,
}

/// Check an IP/TCP frame fully (both checksums) and return the segment.
pub fn check_tcp(f: &[u8]) -> Result<TcpSeg, String> {
    let p = check_ip(f)?;
    if p.layout.ipproto != IPPROTO_TCP {
        return Err(format!("not TCP (proto {})", p.layout.ipproto));
    }
    let t = &p.l4;
    Ok(TcpSeg {
        sport: be16(t, 0),
        dport: be16(t, 2),
        seq: be32(t, 4),
        ack: be32(t, 8),
        flags: t[13],
        payload: t[p.layout.l4_hlen..].to_vec(),
    })
}

/// Insert an 802.1Q tag after the MAC addresses (what the hardware does on TX
/// insertion; used by tests to compare).
pub fn insert_vlan(f: &[u8], tci: u16) -> Vec<u8> {
    let mut out = Vec::with_capacity(f.len() + 4);
    out.extend_from_slice(&f[..12]);
    out.extend_from_slice(&ETHERTYPE_VLAN.to_be_bytes());
    out.extend_from_slice(&tci.to_be_bytes());
    out.extend_from_slice(&f[12..]);
    out
}

/// Remove an 802.1Q tag, returning the frame and the TCI.
pub fn strip_vlan(f: &[u8]) -> Option<(Vec<u8>, u16)> {
    if f.len() < 18 || be16(f, 12) != ETHERTYPE_VLAN {
        return None;
    }
    let mut out = Vec::with_capacity(f.len() - 4);
    out.extend_from_slice(&f[..12]);
    out.extend_from_slice(&f[16..]);
    Some((out, be16(f, 14)))
}

/// A readable one-line summary of a frame, for logs and failures.
pub fn describe(f: &[u8]) -> String {
    let Ok(l) = layout(f) else {
        return format!("{} bytes (unparseable)", f.len());
    };
    let vlan = l
        .vlan
        .map(|t| format!(" vlan {}", t & 0xfff))
        .unwrap_or_default();
    match l.etype {
        ETHERTYPE_ARP => match parse_arp(&f[l.ehdrlen..]) {
            Some(a) => format!(
                "ARP {} {} -> {}{vlan}",
                if a.op == ARP_REQUEST {
                    "who-has"
                } else {
                    "reply"
                },
                fmt_ip4(a.spa),
                fmt_ip4(a.tpa)
            ),
            None => format!("ARP (malformed){vlan}"),
        },
        ETHERTYPE_IP | ETHERTYPE_IPV6 => {
            format!("IP proto {} {} bytes{vlan}", l.ipproto, f.len())
        }
        t => format!("ethertype {t:#06x} {} bytes{vlan}", f.len()),
    }
}

pub fn fmt_mac(m: Mac) -> String {
    format!(
        "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
        m[0], m[1], m[2], m[3], m[4], m[5]
    )
}

pub fn fmt_ip4(a: Ip4) -> String {
    format!("{}.{}.{}.{}", a[0], a[1], a[2], a[3])
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 1071 section 3 example: the words 0001 f203 f4f5 f6f7 sum to ddf2 (folded).
    #[test]
    fn rfc1071_example() {
        let d = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(csum_fold(csum_add(0, &d)), 0xddf2);
        assert_eq!(checksum(&d), !0xddf2);
    }

    // A well-known IPv4 header (Wikipedia "IPv4 header checksum" example):
    // 4500 0073 0000 4000 4011 [b861] c0a8 0001 c0a8 00c7.
    #[test]
    fn ipv4_header_checksum_fixture() {
        let h = ipv4(
            [192, 168, 0, 1],
            [192, 168, 0, 199],
            IPPROTO_UDP,
            0,
            &[0u8; 0x73 - 20],
        );
        assert_eq!(&h[..4], &[0x45, 0x00, 0x00, 0x73]);
        // Our builder sets ID 0 and DF like the fixture, TTL 64 = 0x40 like the fixture.
        assert_eq!(&h[10..12], &[0xb8, 0x61]);
    }

    #[test]
    fn tcp_roundtrip_and_corruption_detected() {
        let a = Addrs::V4([10, 0, 0, 1], [10, 0, 0, 2]);
        let f = TcpFields {
            sport: 1000,
            dport: 2000,
            seq: 7,
            ack: 0,
            flags: TCP_ACK,
            window: 65535,
        };
        let seg = tcp(a, f, true, b"hello world");
        let pkt = ipv4([10, 0, 0, 1], [10, 0, 0, 2], IPPROTO_TCP, 1, &seg);
        let mut frame = ether([2; 6], [4; 6], None, ETHERTYPE_IP, &pkt);
        let t = check_tcp(&frame).unwrap();
        assert_eq!(t.payload, b"hello world");
        assert_eq!(t.seq, 7);
        let l = layout(&frame).unwrap();
        assert_eq!(
            (l.ehdrlen, l.ip_hlen, l.l4_hlen, l.ipproto),
            (14, 20, 32, IPPROTO_TCP)
        );
        let n = frame.len();
        frame[n - 1] ^= 1;
        assert!(check_tcp(&frame).is_err());
    }

    #[test]
    fn vlan_and_ipv6() {
        let a = Addrs::V6([0xfe; 16], [0xfd; 16]);
        let u = udp(a, 1, 2, b"x");
        let f = ether(
            [2; 6],
            [4; 6],
            Some(0x2064),
            ETHERTYPE_IPV6,
            &ipv6([0xfe; 16], [0xfd; 16], IPPROTO_UDP, &u),
        );
        let l = layout(&f).unwrap();
        assert_eq!(
            (l.ehdrlen, l.vlan, l.etype, l.ip_hlen),
            (18, Some(0x2064), ETHERTYPE_IPV6, 40)
        );
        check_ip(&f).unwrap();
        let (plain, tci) = strip_vlan(&f).unwrap();
        assert_eq!(tci, 0x2064);
        assert_eq!(insert_vlan(&plain, tci), f);
    }

    #[test]
    fn icmp_and_arp() {
        let e = icmp_echo(ICMP_ECHO_REQUEST, 1, 2, b"ping");
        assert_eq!(checksum(&e), 0);
        let a = arp(ARP_REQUEST, [2; 6], [10, 0, 0, 1], [0; 6], [10, 0, 0, 2]);
        let p = parse_arp(&a).unwrap();
        assert_eq!(p.tpa, [10, 0, 0, 2]);
        assert_eq!(a.len(), 28);
    }
}
