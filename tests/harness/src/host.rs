//! A minimal host network stack on top of one port, for the demo and the tests:
//! ARP (answers requests, learns replies), ICMP echo (answers requests, records
//! replies), and a TCP receiver that checks every segment (IP and TCP checksums,
//! the checksum status the driver reported) and reassembles the byte stream.

use std::collections::{BTreeMap, HashMap};

use ravf_sys::{CSUM_L3_CALC, CSUM_L3_VALID, CSUM_L4_CALC, CSUM_L4_VALID};

use crate::machine::{Machine, RxFrame};
use crate::parse::Offload;
use crate::pkt::{self, Addrs, Ip4, Mac, TcpFields};

/// One received echo reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EchoReply {
    pub from: Ip4,
    pub ident: u16,
    pub seq: u16,
    pub data: Vec<u8>,
    pub t_ns: u64,
}

/// The receive side of one TCP flow.
#[derive(Clone, Debug, Default)]
pub struct TcpRx {
    pub isn: Option<u32>,
    pub segs: BTreeMap<u32, Vec<u8>>,
    pub segments: u64,
    /// Segments whose checksum status from the driver was L3+L4 valid.
    pub hw_csum_ok: u64,
    pub max_seg: usize,
}

impl TcpRx {
    /// The contiguous byte stream from the first sequence number.
    pub fn stream(&self) -> Vec<u8> {
        let Some(isn) = self.isn else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let mut next = isn;
        for (&s, d) in self.segs.iter() {
            if s != next {
                break;
            }
            out.extend_from_slice(d);
            next = s.wrapping_add(d.len() as u32);
        }
        out
    }
}

/// A host: one port's addresses and protocol state.
pub struct Host {
    pub vf: usize,
    pub mac: Mac,
    pub ip: Ip4,
    pub arp: HashMap<Ip4, Mac>,
    pub replies: Vec<EchoReply>,
    pub tcp: HashMap<(u16, u16), TcpRx>,
    pub frames: u64,
    /// Problems found in received frames (bad checksums, wrong flags).
    pub errors: Vec<String>,
    /// Every frame, if kept (tests).
    pub keep: bool,
    pub kept: Vec<RxFrame>,
    /// Reply to ARP and ICMP.
    pub respond: bool,
}

impl Host {
    pub fn new(vf: usize, mac: Mac, ip: Ip4) -> Host {
        Host {
            vf,
            mac,
            ip,
            arp: HashMap::new(),
            replies: Vec::new(),
            tcp: HashMap::new(),
            frames: 0,
            errors: Vec::new(),
            keep: false,
            kept: Vec::new(),
            respond: true,
        }
    }

    /// Process every frame received on this host's port; send replies.
    pub fn poll(&mut self, m: &mut Machine) {
        while let Some(f) = m.recv(self.vf) {
            self.frames += 1;
            self.handle(m, &f);
            if self.keep {
                self.kept.push(f);
            }
        }
    }

    fn handle(&mut self, m: &mut Machine, f: &RxFrame) {
        let Ok(l) = pkt::layout(&f.data) else {
            self.errors
                .push(format!("unparseable frame of {} bytes", f.data.len()));
            return;
        };
        match l.etype {
            pkt::ETHERTYPE_ARP => {
                let Some(a) = pkt::parse_arp(&f.data[l.ehdrlen..]) else {
                    return;
                };
                self.arp.insert(a.spa, a.sha);
                if a.op == pkt::ARP_REQUEST && a.tpa == self.ip && self.respond {
                    let reply = pkt::arp(pkt::ARP_REPLY, self.mac, self.ip, a.sha, a.spa);
                    let fr = pkt::ether(a.sha, self.mac, None, pkt::ETHERTYPE_ARP, &reply);
                    let _ = m.send(self.vf, &fr, Offload::NONE);
                }
            }
            pkt::ETHERTYPE_IP | pkt::ETHERTYPE_IPV6 => self.handle_ip(m, f),
            _ => {}
        }
    }

    fn handle_ip(&mut self, m: &mut Machine, f: &RxFrame) {
        let p = match pkt::check_ip(&f.data) {
            Ok(p) => p,
            Err(e) => {
                self.errors.push(format!("received a bad IP frame: {e}"));
                return;
            }
        };
        // The driver must have reported a verified checksum for a good IPv4/TCP/UDP
        // frame when RXCSUM is on (the emulator checks and reports like hardware).
        let csum_ok = f.csum_flags & (CSUM_L3_CALC | CSUM_L3_VALID)
            == (CSUM_L3_CALC | CSUM_L3_VALID)
            || matches!(p.addrs, Addrs::V6(..));
        let l4_ok = f.csum_flags & (CSUM_L4_CALC | CSUM_L4_VALID) == (CSUM_L4_CALC | CSUM_L4_VALID);
        match p.layout.ipproto {
            pkt::IPPROTO_ICMP => {
                let icmp = &p.l4;
                if icmp.len() < 8 {
                    return;
                }
                let ident = u16::from_be_bytes([icmp[4], icmp[5]]);
                let seq = u16::from_be_bytes([icmp[6], icmp[7]]);
                let Addrs::V4(src, dst) = p.addrs else { return };
                if icmp[0] == pkt::ICMP_ECHO_REQUEST && dst == self.ip && self.respond {
                    let rep = pkt::icmp_echo(pkt::ICMP_ECHO_REPLY, ident, seq, &icmp[8..]);
                    let ip = pkt::ipv4(self.ip, src, pkt::IPPROTO_ICMP, seq, &rep);
                    let dmac = f.data[6..12].try_into().unwrap_or([0; 6]);
                    let fr = pkt::ether(dmac, self.mac, None, pkt::ETHERTYPE_IP, &ip);
                    let _ = m.send(self.vf, &fr, Offload::NONE);
                } else if icmp[0] == pkt::ICMP_ECHO_REPLY {
                    self.replies.push(EchoReply {
                        from: src,
                        ident,
                        seq,
                        data: icmp[8..].to_vec(),
                        t_ns: m.now_ns(),
                    });
                }
            }
            pkt::IPPROTO_TCP => {
                let seg = match pkt::check_tcp(&f.data) {
                    Ok(s) => s,
                    Err(e) => {
                        self.errors.push(format!("bad TCP segment: {e}"));
                        return;
                    }
                };
                let rx = self.tcp.entry((seg.sport, seg.dport)).or_default();
                rx.segments += 1;
                if csum_ok && l4_ok {
                    rx.hw_csum_ok += 1;
                }
                if seg.payload.is_empty() {
                    return;
                }
                rx.max_seg = rx.max_seg.max(seg.payload.len());
                if rx.isn.is_none() || seg.flags & pkt::TCP_SYN != 0 {
                    rx.isn.get_or_insert(seg.seq);
                }
                rx.segs.insert(seg.seq, seg.payload);
            }
            _ => {}
        }
    }

    /// An IPv4/TCP frame from this host to `dst` carrying `data`.
    pub fn tcp_frame(&self, dst_mac: Mac, dst: Ip4, f: TcpFields, data: &[u8]) -> Vec<u8> {
        let seg = pkt::tcp(Addrs::V4(self.ip, dst), f, true, data);
        let ip = pkt::ipv4(self.ip, dst, pkt::IPPROTO_TCP, (f.seq >> 8) as u16, &seg);
        pkt::ether(dst_mac, self.mac, None, pkt::ETHERTYPE_IP, &ip)
    }
}

/// Run the machine, letting every host process what it receives as it arrives (so
/// replies go out at once), until nothing has happened for 10 ms of virtual time.
pub fn settle(m: &mut Machine, hosts: &mut [&mut Host]) {
    use crate::machine::{MAX_STEP_NS, MIN_STEP_NS};
    let limit = m.now_ns() + 30_000_000_000;
    let mut quiet_since = m.now_ns();
    let mut step = MIN_STEP_NS;
    while m.now_ns() - quiet_since < 10_000_000 && m.now_ns() < limit {
        let before: u64 = hosts.iter().map(|h| h.frames).sum();
        let busy = m.poll();
        for h in hosts.iter_mut() {
            h.poll(m);
        }
        let after: u64 = hosts.iter().map(|h| h.frames).sum();
        if busy || after != before {
            quiet_since = m.now_ns();
            step = MIN_STEP_NS;
        } else {
            step = (step * 2).min(MAX_STEP_NS);
        }
        m.step(step);
    }
}
