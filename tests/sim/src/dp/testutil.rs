//! Test support for the data-path tests: guest memory rigs, descriptor encoders and
//! frame builders written from the contract and the RFCs, and checksum verifiers that
//! share no code with the engines under test.

use std::sync::Arc;

use crate::mem::{GuestMemory, HostMemory};

pub const MAC_A: [u8; 6] = [0x02, 0x00, 0x00, 0x00, 0x00, 0x0a];
pub const MAC_B: [u8; 6] = [0x02, 0x00, 0x00, 0x00, 0x00, 0x0b];
pub const IP_A: [u8; 4] = [192, 0, 2, 1];
pub const IP_B: [u8; 4] = [192, 0, 2, 2];
pub const IP6_A: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
pub const IP6_B: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];

/// Guest memory with helpers.
pub struct Mem {
    pub m: Arc<HostMemory>,
}

impl Mem {
    pub fn new() -> Self {
        Mem {
            m: HostMemory::new(),
        }
    }
    pub fn alloc(&self, len: usize, align: usize) -> u64 {
        self.m.alloc(len, align).iova
    }
    /// Allocate a buffer holding `bytes` at an odd offset (no alignment assumed by HW).
    pub fn buf(&self, bytes: &[u8]) -> u64 {
        let base = self.alloc(bytes.len() + 3, 64);
        self.write(base + 3, bytes);
        base + 3
    }
    pub fn write(&self, iova: u64, bytes: &[u8]) {
        self.m.write(iova, bytes).unwrap();
    }
    pub fn read(&self, iova: u64, len: usize) -> Vec<u8> {
        let mut v = vec![0; len];
        self.m.read(iova, &mut v).unwrap();
        v
    }
    pub fn qw(&self, iova: u64) -> u64 {
        u64::from_le_bytes(self.read(iova, 8).try_into().unwrap())
    }
    pub fn g(&self) -> &dyn GuestMemory {
        &*self.m
    }
}

// TX data descriptor CMD values relative to bit 4 (contract 6.2 table).
pub const EOP: u64 = 0x001;
pub const RS: u64 = 0x002;
pub const ICRC: u64 = 0x004;
pub const IL2TAG1: u64 = 0x008;
pub const IIPT_V6: u64 = 0x020;
pub const IIPT_V4: u64 = 0x040;
pub const IIPT_V4_CSUM: u64 = 0x060;
pub const L4T_TCP: u64 = 0x100;
pub const L4T_SCTP: u64 = 0x200;
pub const L4T_UDP: u64 = 0x300;

/// A TX data descriptor (contract 6.2): lengths in bytes, encoded as MACLEN/2,
/// IPLEN/4, L4LEN/4.
pub fn txd(addr: u64, cmd: u64, lens: (u64, u64, u64), bsz: u64, l2tag1: u16) -> [u8; 16] {
    let off = (lens.0 / 2) | (lens.1 / 4) << 7 | (lens.2 / 4) << 14;
    let qw1 = cmd << 4 | off << 16 | bsz << 34 | u64::from(l2tag1) << 48;
    let mut d = [0u8; 16];
    d[..8].copy_from_slice(&addr.to_le_bytes());
    d[8..].copy_from_slice(&qw1.to_le_bytes());
    d
}

/// A TX context descriptor (contract 6.3): DTYPE 1, CMD.TSO, TSO_LEN at 30, MSS at 50.
pub fn ctxd(tso: bool, tso_len: u64, mss: u64) -> [u8; 16] {
    let qw1 = 0x1 | u64::from(tso) << 4 | tso_len << 30 | mss << 50;
    let mut d = [0u8; 16];
    // FreeBSD leaves l2tag2/rsvd stale: put junk there.
    d[4..8].copy_from_slice(&[0xde, 0xad, 0xbe, 0xef]);
    d[8..].copy_from_slice(&qw1.to_le_bytes());
    d
}

/// Ethernet header.
pub fn eth(dst: [u8; 6], src: [u8; 6], ethertype: u16) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&dst);
    v.extend_from_slice(&src);
    v.extend_from_slice(&ethertype.to_be_bytes());
    v
}

/// IPv4 header without options, checksum 0.
pub fn ipv4(proto: u8, total_len: u16, id: u16, frag: u16) -> Vec<u8> {
    let mut v = vec![0x45, 0x00];
    v.extend_from_slice(&total_len.to_be_bytes());
    v.extend_from_slice(&id.to_be_bytes());
    v.extend_from_slice(&frag.to_be_bytes());
    v.extend_from_slice(&[64, proto, 0, 0]);
    v.extend_from_slice(&IP_A);
    v.extend_from_slice(&IP_B);
    v
}

/// IPv6 header.
pub fn ipv6(next: u8, payload_len: u16) -> Vec<u8> {
    let mut v = vec![0x60, 0, 0, 0];
    v.extend_from_slice(&payload_len.to_be_bytes());
    v.extend_from_slice(&[next, 64]);
    v.extend_from_slice(&IP6_A);
    v.extend_from_slice(&IP6_B);
    v
}

/// TCP header of 20 bytes, checksum 0.
pub fn tcp(sport: u16, dport: u16, seq: u32, flags: u8) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&sport.to_be_bytes());
    v.extend_from_slice(&dport.to_be_bytes());
    v.extend_from_slice(&seq.to_be_bytes());
    v.extend_from_slice(&0x1000_0000u32.to_be_bytes()); // ack
    v.extend_from_slice(&[0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
    v
}

/// UDP header, checksum 0.
pub fn udp(sport: u16, dport: u16, len: u16) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&sport.to_be_bytes());
    v.extend_from_slice(&dport.to_be_bytes());
    v.extend_from_slice(&len.to_be_bytes());
    v.extend_from_slice(&[0, 0]);
    v
}

pub fn payload(n: usize, seed: u8) -> Vec<u8> {
    (0..n)
        .map(|i| (i as u8).wrapping_mul(7).wrapping_add(seed))
        .collect()
}

/// Internet-checksum test, written independently of `wire`: the 16-bit ones-complement
/// sum of the concatenation of `parts`, folding the carry after every addition, must be
/// 0xFFFF.
pub fn sum_is_ffff(parts: &[&[u8]]) -> bool {
    let bytes: Vec<u8> = parts.iter().flat_map(|p| p.iter().copied()).collect();
    let mut acc: u32 = 0;
    let mut i = 0;
    while i < bytes.len() {
        let hi = u32::from(bytes[i]);
        let lo = u32::from(*bytes.get(i + 1).unwrap_or(&0));
        acc += hi << 8 | lo;
        acc = (acc & 0xFFFF) + (acc >> 16);
        i += 2;
    }
    acc == 0xFFFF
}

/// The RFC 1071 checksum of the concatenation, independent of `wire`.
pub fn csum(parts: &[&[u8]]) -> u16 {
    let bytes: Vec<u8> = parts.iter().flat_map(|p| p.iter().copied()).collect();
    let mut acc: u32 = 0;
    for pair in bytes.chunks(2) {
        acc += u32::from(pair[0]) << 8 | u32::from(*pair.get(1).unwrap_or(&0));
        acc = (acc & 0xFFFF) + (acc >> 16);
    }
    !(acc as u16)
}

/// Explicit pseudo-header bytes (RFC 793 / RFC 8200 8.1).
pub fn pseudo(ip: &[u8], v6: bool, proto: u8, l4_len: usize) -> Vec<u8> {
    let mut v = Vec::new();
    if v6 {
        v.extend_from_slice(&ip[8..40]);
        v.extend_from_slice(&(l4_len as u32).to_be_bytes());
        v.extend_from_slice(&[0, 0, 0, proto]);
    } else {
        v.extend_from_slice(&ip[12..20]);
        v.extend_from_slice(&[0, proto]);
        v.extend_from_slice(&(l4_len as u16).to_be_bytes());
    }
    v
}

/// Bitwise CRC32c (reflected 0x82F63B78), independent of the table version in `wire`.
pub fn crc32c_bitwise(data: &[u8]) -> u32 {
    let mut c = !0u32;
    for &b in data {
        c ^= u32::from(b);
        for _ in 0..8 {
            c = if c & 1 != 0 {
                (c >> 1) ^ 0x82F6_3B78
            } else {
                c >> 1
            };
        }
    }
    !c
}

/// Fill in the IPv4 header checksum at `ip` and the L4 checksum (TCP/UDP), with the
/// independent routines above, so RX fixtures carry correct sums.
pub fn fix_sums(frame: &mut [u8], ip: usize, v6: bool) {
    let (l4, proto, end) = if v6 {
        let plen = usize::from(u16::from_be_bytes([frame[ip + 4], frame[ip + 5]]));
        (ip + 40, frame[ip + 6], ip + 40 + plen)
    } else {
        let ihl = usize::from(frame[ip] & 0xF) * 4;
        frame[ip + 10] = 0;
        frame[ip + 11] = 0;
        let c = csum(&[&frame[ip..ip + ihl]]);
        frame[ip + 10..ip + 12].copy_from_slice(&c.to_be_bytes());
        let tot = usize::from(u16::from_be_bytes([frame[ip + 2], frame[ip + 3]]));
        (ip + ihl, frame[ip + 9], ip + tot)
    };
    let field = match proto {
        6 => 16,
        17 => 6,
        _ => return,
    };
    frame[l4 + field] = 0;
    frame[l4 + field + 1] = 0;
    let ph = pseudo(&frame[ip..], v6, proto, end - l4);
    let c = csum(&[&ph, &frame[l4..end]]);
    frame[l4 + field..l4 + field + 2].copy_from_slice(&c.to_be_bytes());
}

/// An IPv4/UDP frame with `n` payload bytes and correct checksums.
pub fn udp4_frame(n: usize) -> Vec<u8> {
    let mut f = eth(MAC_B, MAC_A, 0x0800);
    f.extend(ipv4(17, (20 + 8 + n) as u16, 0x1234, 0x4000));
    f.extend(udp(1000, 2000, (8 + n) as u16));
    f.extend(payload(n, 1));
    fix_sums(&mut f, 14, false);
    f
}

/// An IPv4/TCP frame with `n` payload bytes and correct checksums.
pub fn tcp4_frame(n: usize) -> Vec<u8> {
    let mut f = eth(MAC_B, MAC_A, 0x0800);
    f.extend(ipv4(6, (20 + 20 + n) as u16, 0x1234, 0x4000));
    f.extend(tcp(1000, 2000, 0x0102_0304, 0x18));
    f.extend(payload(n, 2));
    fix_sums(&mut f, 14, false);
    f
}

#[test]
fn independent_helpers_match_published_vectors() {
    // The IPv4 header example of RFC 1071-style walkthroughs (Wikipedia "IPv4 header
    // checksum"): checksum 0xB861.
    let hdr = [
        0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00, 0xc0, 0xa8, 0x00,
        0x01, 0xc0, 0xa8, 0x00, 0xc7,
    ];
    assert_eq!(csum(&[&hdr]), 0xB861);
    let mut h2 = hdr;
    h2[10] = 0xB8;
    h2[11] = 0x61;
    assert!(sum_is_ffff(&[&h2]));
    // RFC 3720 B.4 CRC32c vectors and the "123456789" check value.
    assert_eq!(crc32c_bitwise(b"123456789"), 0xE306_9283);
    assert_eq!(crc32c_bitwise(&[0u8; 32]), 0x8A91_36AA);
    assert_eq!(crc32c_bitwise(&[0xFFu8; 32]), 0x62A8_AB43);
    let inc: Vec<u8> = (0..32).collect();
    assert_eq!(crc32c_bitwise(&inc), 0x46DD_794E);
}
