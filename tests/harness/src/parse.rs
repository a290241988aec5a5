//! What the FreeBSD network stack and iflib do to an outgoing frame before
//! `txd_encap` sees it.
//!
//! * [`stack_prepare`]: the stack's part (`tcp_output`/`udp_output`/`ip_output` with
//!   hardware checksum offload): the IPv4 header checksum is left 0 when `CSUM_IP` is
//!   offloaded, and the L4 checksum field holds the pseudo-header sum *with* the
//!   length (`in_pseudo(src, dst, htons(len + proto))`, not complemented).
//! * [`parse_header`]: iflib.c `iflib_parse_header`, field for field: ehdrlen (one
//!   802.1Q tag skipped), etype, ip_hlen, ipproto, IPI_TX_IPV4/IPV6, the TCP header
//!   length/flags/seq when TCP offload is asked, and for TSO the fix-ups iflib makes:
//!   `th_sum = in_pseudo(src, dst, htons(IPPROTO_TCP))` (no length), and with
//!   `IFLIB_TSO_INIT_IP` `ip_sum = 0`, `ip_len = htons(ip_hlen + tcp_hlen + tso_segsz)`;
//!   with `IFLIB_NEED_ZERO_CSUM` and `CSUM_IP`, `ip_sum = 0`. Non-IP frames lose every
//!   offload flag (`csum_flags &= ~CSUM_OFFLOAD`).
//!
//! iflib calls the parser only when `csum_flags | vtag` is non-zero (iflib_encap's
//! "deliberate bitwise OR"); the caller here does the same.

use ravf_sys::{
    if_pkt_info, CSUM_IP, CSUM_IP6_SCTP, CSUM_IP6_TCP, CSUM_IP6_TSO, CSUM_IP6_UDP, CSUM_IP_SCTP,
    CSUM_IP_TCP, CSUM_IP_TSO, CSUM_IP_UDP, ENXIO, IFLIB_NEED_ZERO_CSUM, IFLIB_TSO_INIT_IP,
    IPI_TX_IPV4, IPI_TX_IPV6,
};

use crate::pkt::{
    self, csum_add, csum_fold, ETHERTYPE_IP, ETHERTYPE_IPV6, ETHERTYPE_VLAN, IPPROTO_TCP,
    IPPROTO_UDP,
};

/// iflib.c `CSUM_OFFLOAD`.
pub const CSUM_OFFLOAD: u32 = CSUM_IP_TSO
    | CSUM_IP6_TSO
    | CSUM_IP
    | CSUM_IP_UDP
    | CSUM_IP_TCP
    | CSUM_IP_SCTP
    | CSUM_IP6_UDP
    | CSUM_IP6_TCP
    | CSUM_IP6_SCTP;

/// What the sender asks the interface to do (the mbuf's csum_flags, tso_segsz and
/// M_VLANTAG/ether_vtag, as the stack would set them).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Offload {
    /// Offload the IPv4 header checksum (CSUM_IP).
    pub ip_csum: bool,
    /// Offload the TCP/UDP checksum (CSUM_IP_TCP/UDP or CSUM_IP6_TCP/UDP, by frame).
    pub l4_csum: bool,
    /// TCP segmentation with this MSS (CSUM_IP_TSO / CSUM_IP6_TSO).
    pub tso_mss: Option<u16>,
    /// Insert this 802.1Q TCI (M_VLANTAG).
    pub vlan: Option<u16>,
}

impl Offload {
    pub const NONE: Offload = Offload {
        ip_csum: false,
        l4_csum: false,
        tso_mss: None,
        vlan: None,
    };
    /// Full checksum offload (IP + L4), as FreeBSD's stack asks for with TXCSUM on.
    pub const CSUM: Offload = Offload {
        ip_csum: true,
        l4_csum: true,
        tso_mss: None,
        vlan: None,
    };

    pub fn tso(mss: u16) -> Offload {
        Offload {
            ip_csum: true,
            l4_csum: true,
            tso_mss: Some(mss),
            vlan: None,
        }
    }

    pub fn with_vlan(mut self, tci: u16) -> Offload {
        self.vlan = Some(tci);
        self
    }

    /// The mbuf csum_flags this request maps to for `frame`.
    pub fn csum_flags(&self, frame: &[u8]) -> u32 {
        let Ok(l) = pkt::layout(frame) else { return 0 };
        let mut f = 0;
        match l.etype {
            ETHERTYPE_IP => {
                if self.ip_csum {
                    f |= CSUM_IP;
                }
                if self.tso_mss.is_some() {
                    f |= CSUM_IP_TSO;
                } else if self.l4_csum {
                    f |= match l.ipproto {
                        IPPROTO_TCP => CSUM_IP_TCP,
                        IPPROTO_UDP => CSUM_IP_UDP,
                        _ => 0,
                    };
                }
            }
            ETHERTYPE_IPV6 => {
                if self.tso_mss.is_some() {
                    f |= CSUM_IP6_TSO;
                } else if self.l4_csum {
                    f |= match l.ipproto {
                        IPPROTO_TCP => CSUM_IP6_TCP,
                        IPPROTO_UDP => CSUM_IP6_UDP,
                        _ => 0,
                    };
                }
            }
            _ => {}
        }
        f
    }
}

fn rd16(b: &[u8], off: usize) -> u16 {
    u16::from_be_bytes([b[off], b[off + 1]])
}

fn wr16(b: &mut [u8], off: usize, v: u16) {
    b[off..off + 2].copy_from_slice(&v.to_be_bytes());
}

/// The stack's preparation of a complete, correct frame for the offloads in
/// `csum_flags` (see the module comment). TSO frames are left for [`parse_header`].
pub fn stack_prepare(frame: &mut [u8], csum_flags: u32) {
    let Ok(l) = pkt::layout(frame) else { return };
    let ip = l.ehdrlen;
    let l4 = ip + l.ip_hlen;
    if l.etype == ETHERTYPE_IP && csum_flags & CSUM_IP != 0 {
        wr16(frame, ip + 10, 0);
    }
    let l4_field = match l.ipproto {
        IPPROTO_TCP => l4 + 16,
        IPPROTO_UDP => l4 + 6,
        _ => return,
    };
    if csum_flags & (CSUM_IP_TCP | CSUM_IP_UDP | CSUM_IP6_TCP | CSUM_IP6_UDP) == 0 {
        return;
    }
    if l4_field + 2 > frame.len() {
        return;
    }
    let (sum, _) = match l.etype {
        ETHERTYPE_IP => {
            let total = usize::from(rd16(frame, ip + 2));
            let len = total.saturating_sub(l.ip_hlen);
            let mut s = [0; 4];
            let mut d = [0; 4];
            s.copy_from_slice(&frame[ip + 12..ip + 16]);
            d.copy_from_slice(&frame[ip + 16..ip + 20]);
            (pkt::pseudo4(s, d, l.ipproto, len), len)
        }
        _ => {
            let len = usize::from(rd16(frame, ip + 4));
            let mut s = [0; 16];
            let mut d = [0; 16];
            s.copy_from_slice(&frame[ip + 8..ip + 24]);
            d.copy_from_slice(&frame[ip + 24..ip + 40]);
            (pkt::pseudo6(s, d, l.ipproto, len), len)
        }
    };
    wr16(frame, l4_field, csum_fold(sum));
}

/// iflib.c `iflib_parse_header` over a contiguous frame (the harness never needs
/// m_pullup: the whole frame is in one buffer while it is parsed). `pi` must already
/// hold `ipi_csum_flags` and `ipi_vtag`; `tso_segsz` is the mbuf's. Returns an errno
/// (ENXIO for TSO of a non-TCP packet, as iflib does).
pub fn parse_header(
    frame: &mut [u8],
    pi: &mut if_pkt_info,
    sctx_flags: i32,
    tso_segsz: u16,
) -> Result<(), i32> {
    if frame.len() < 14 {
        return Err(ENXIO);
    }
    if rd16(frame, 12) == ETHERTYPE_VLAN && frame.len() >= 18 {
        pi.ipi_etype = rd16(frame, 16);
        pi.ipi_ehdrlen = 18;
    } else {
        pi.ipi_etype = rd16(frame, 12);
        pi.ipi_ehdrlen = 14;
    }
    let ip = usize::from(pi.ipi_ehdrlen);
    match pi.ipi_etype {
        ETHERTYPE_IP => {
            if frame.len() < ip + 20 {
                return Err(ENXIO);
            }
            let ip_hlen = usize::from(frame[ip] & 0xf) << 2;
            pi.ipi_ip_hlen = ip_hlen as u8;
            pi.ipi_ipproto = frame[ip + 9];
            pi.ipi_flags |= IPI_TX_IPV4;
            let th = ip + ip_hlen;
            let has_th = frame.len() >= th + 20;
            if pi.ipi_csum_flags & (CSUM_IP_TCP | CSUM_IP_TSO) != 0 {
                if pi.ipi_ipproto == IPPROTO_TCP && has_th {
                    set_tcp_hflags(pi, frame[th + 13]);
                    pi.ipi_tcp_hlen = (frame[th + 12] >> 4) << 2;
                    pi.ipi_tcp_seq = u32::from_ne_bytes([
                        frame[th + 4],
                        frame[th + 5],
                        frame[th + 6],
                        frame[th + 7],
                    ]);
                }
                if pi.ipi_csum_flags & CSUM_IP_TSO != 0 {
                    if pi.ipi_ipproto != IPPROTO_TCP || !has_th {
                        return Err(ENXIO);
                    }
                    // TSO always requires hardware checksum offload.
                    pi.ipi_csum_flags |= CSUM_IP_TCP | CSUM_IP;
                    // in_pseudo(src, dst, htons(IPPROTO_TCP)): the sum without length.
                    let mut s = csum_add(0, &frame[ip + 12..ip + 20]);
                    s += u32::from(IPPROTO_TCP);
                    wr16(frame, th + 16, csum_fold(s));
                    pi.ipi_tso_segsz = tso_segsz;
                    if sctx_flags & IFLIB_TSO_INIT_IP != 0 {
                        wr16(frame, ip + 10, 0);
                        let len = u16::from(pi.ipi_ip_hlen)
                            + u16::from(pi.ipi_tcp_hlen)
                            + pi.ipi_tso_segsz;
                        wr16(frame, ip + 2, len);
                    }
                }
            }
            if sctx_flags & IFLIB_NEED_ZERO_CSUM != 0 && pi.ipi_csum_flags & CSUM_IP != 0 {
                wr16(frame, ip + 10, 0);
            }
        }
        ETHERTYPE_IPV6 => {
            if frame.len() < ip + 40 {
                return Err(ENXIO);
            }
            pi.ipi_ip_hlen = 40;
            pi.ipi_ipproto = frame[ip + 6];
            pi.ipi_flags |= IPI_TX_IPV6;
            let th = ip + 40;
            let has_th = frame.len() >= th + 20;
            if pi.ipi_csum_flags & (CSUM_IP6_TCP | CSUM_IP6_TSO) != 0 {
                if pi.ipi_ipproto == IPPROTO_TCP && has_th {
                    set_tcp_hflags(pi, frame[th + 13]);
                    pi.ipi_tcp_hlen = (frame[th + 12] >> 4) << 2;
                    pi.ipi_tcp_seq = u32::from_ne_bytes([
                        frame[th + 4],
                        frame[th + 5],
                        frame[th + 6],
                        frame[th + 7],
                    ]);
                }
                if pi.ipi_csum_flags & CSUM_IP6_TSO != 0 {
                    if pi.ipi_ipproto != IPPROTO_TCP || !has_th {
                        return Err(ENXIO);
                    }
                    pi.ipi_csum_flags |= CSUM_IP6_TCP;
                    // in6_cksum_pseudo(ip6, 0, IPPROTO_TCP, 0).
                    let mut s = csum_add(0, &frame[ip + 8..ip + 40]);
                    s += u32::from(IPPROTO_TCP);
                    wr16(frame, th + 16, csum_fold(s));
                    pi.ipi_tso_segsz = tso_segsz;
                }
            }
        }
        _ => {
            pi.ipi_csum_flags &= !CSUM_OFFLOAD;
            pi.ipi_ip_hlen = 0;
        }
    }
    Ok(())
}

/// `ipi_tcp_hflags` is u8 on FreeBSD 14 and u16 on 15 (ravf-sys feature `freebsd15`).
#[allow(clippy::useless_conversion)]
fn set_tcp_hflags(pi: &mut if_pkt_info, flags: u8) {
    pi.ipi_tcp_hflags = flags.into();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pkt::*;

    fn zero_pi() -> if_pkt_info {
        // SAFETY: if_pkt_info is plain old data (integers and a raw pointer); all-zero
        // is iflib's own pkt_info_zero state.
        unsafe { core::mem::zeroed() }
    }

    fn tcp4_frame(vlan: Option<u16>, payload: usize) -> Vec<u8> {
        let a = Addrs::V4([10, 0, 0, 1], [10, 0, 0, 2]);
        let f = TcpFields {
            sport: 1,
            dport: 2,
            seq: 0x01020304,
            ack: 0,
            flags: TCP_ACK | TCP_PSH,
            window: 1,
        };
        let seg = tcp(a, f, true, &vec![0xa5; payload]);
        ether(
            [2; 6],
            [4; 6],
            vlan,
            ETHERTYPE_IP,
            &ipv4([10, 0, 0, 1], [10, 0, 0, 2], IPPROTO_TCP, 9, &seg),
        )
    }

    #[test]
    fn tso4_fixups_match_iflib() {
        let mut f = tcp4_frame(Some(5), 4000);
        let mut pi = zero_pi();
        pi.ipi_csum_flags = CSUM_IP_TSO;
        parse_header(
            &mut f,
            &mut pi,
            IFLIB_TSO_INIT_IP | IFLIB_NEED_ZERO_CSUM,
            1448,
        )
        .unwrap();
        assert_eq!(
            (
                pi.ipi_ehdrlen,
                pi.ipi_ip_hlen,
                pi.ipi_tcp_hlen,
                pi.ipi_ipproto
            ),
            (18, 20, 32, 6)
        );
        assert_eq!(pi.ipi_etype, ETHERTYPE_IP);
        assert_eq!(pi.ipi_flags, IPI_TX_IPV4);
        assert_eq!(pi.ipi_csum_flags, CSUM_IP_TSO | CSUM_IP_TCP | CSUM_IP);
        assert_eq!(pi.ipi_tso_segsz, 1448);
        assert_eq!(pi.ipi_tcp_seq.to_ne_bytes(), [1, 2, 3, 4]);
        // ip_len = 20 + 32 + 1448 = 1500, ip_sum = 0.
        assert_eq!(&f[18 + 2..18 + 4], &1500u16.to_be_bytes());
        assert_eq!(&f[18 + 10..18 + 12], &[0, 0]);
        // th_sum = fold(0x0a00 + 0x0001 + 0x0a00 + 0x0002 + 6) = 0x1409.
        assert_eq!(&f[38 + 16..38 + 18], &0x1409u16.to_be_bytes());
    }

    #[test]
    fn non_ip_loses_offload_flags() {
        let mut f = ether(
            [2; 6],
            [4; 6],
            None,
            ETHERTYPE_ARP,
            &arp(1, [4; 6], [1; 4], [0; 6], [2; 4]),
        );
        let mut pi = zero_pi();
        pi.ipi_csum_flags = CSUM_IP | CSUM_IP_TCP;
        parse_header(&mut f, &mut pi, 0, 0).unwrap();
        assert_eq!(pi.ipi_csum_flags, 0);
        assert_eq!(pi.ipi_ehdrlen, 14);
    }

    #[test]
    fn stack_prepare_then_fold_gives_correct_checksum() {
        // After stack_prepare, summing the L4 bytes (with the partial sum in place)
        // and complementing must give the correct checksum: what the hardware does.
        let orig = tcp4_frame(None, 100);
        let mut f = orig.clone();
        stack_prepare(&mut f, CSUM_IP | CSUM_IP_TCP);
        assert_eq!(&f[24..26], &[0, 0]);
        let l4 = &f[34..];
        let c = !csum_fold(csum_add(0, l4));
        assert_eq!(&c.to_be_bytes(), &orig[34 + 16..34 + 18]);
    }
}
