//! `make demo-netns`: each ravf instance (one per emulated VF) exposed to Linux as a
//! TAP interface inside its own network namespace, so that real Linux network stacks
//! at both ends talk to each other through ravf and the emulator:
//!
//! ```text
//! Linux stack A -> TAP A -> ravf-netns -> iflib stand-in -> ravf txd_encap (VF0)
//!   -> emulator TX (TSO, checksums) -> VEB -> emulator RX (VF1) -> ravf rxd_pkt_get
//!   -> iflib stand-in -> ravf-netns -> TAP B -> Linux stack B      (and back)
//! ```
//!
//! The TAPs carry the virtio-net header (IFF_VNET_HDR, TUNSETOFFLOAD with
//! TUN_F_CSUM|TUN_F_TSO4|TUN_F_TSO6), so the kernel hands over GSO super-frames with
//! partial checksums. Each header becomes the request FreeBSD's stack would put in the
//! mbuf (csum_flags CSUM_IP_TSO/CSUM_IP6_TSO with tso_segsz, CSUM_IP_TCP/UDP,
//! CSUM_IP6_TCP/UDP, CSUM_IP) and goes to the driver through the stand-in; on the way
//! back the driver's CSUM_L4_VALID becomes VIRTIO_NET_HDR_F_DATA_VALID. Every
//! received frame the driver calls valid is also checked in software: a frame ravf
//! calls valid with a bad checksum (or the reverse) is a violation.
//!
//! The emulator's clock follows real time, and each VF's transmissions are paced at
//! its link speed (the emulator itself moves a whole TSO burst in an instant; see
//! [`WIRE_BURST`]). The TAP's MTU is mirrored to the driver (SIOCSIFMTU through the
//! stand-in) when it changes.
//!
//! Usage: ravf-netns [--config FILE] [--ns NS_A,NS_B] [--tap TAP_A,TAP_B]
//!                   [--ready FILE] [--stats FILE] [--max-seconds N] [--verbose]
//!                   [--wire]
//!
//! The namespaces must exist (`ip netns add`); the TAPs are created in them (setns(2)
//! around the TUNSETIFF) and vanish when this process exits. `--ready FILE` is
//! written once both TAPs exist with the VFs' MAC addresses and the links are up;
//! `--stats FILE` gets `key=value` lines at exit (SIGTERM/SIGINT or --max-seconds).
//! SIGUSR1 makes the emulated PF reset VF0 under whatever traffic is running. iflib's
//! link state is mirrored to each TAP's carrier, the multicast groups Linux joins on
//! a TAP to the driver's multicast filters (IFDI_MULTI_SET), and the VLAN devices
//! Linux puts on a TAP to its VLAN filters (vlan_register/vlan_unregister).
//! `--wire` bypasses ravf and the emulator (frames go TAP to TAP unchanged): a
//! plumbing check only, and it says so.

use std::collections::VecDeque;
use std::ffi::{c_int, c_ulong, CString};
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use ravf_harness::emu;
use ravf_harness::pkt::{self, csum_add, csum_fold, fmt_mac, Layout};
use ravf_harness::{Machine, Offload, Options, RxFrame, SegLayout, TxError};
use ravf_sys::{CSUM_L3_CALC, CSUM_L3_VALID, CSUM_L4_CALC, CSUM_L4_VALID};

const DEFAULT_CONFIG: &str = "examples/ixl0.conf";

// ---- Linux ABI: linux/if_tun.h, linux/virtio_net.h ----------------------------------

/// if_tun.h: `TUNSETIFF _IOW('T', 202, int)`.
const TUNSETIFF: c_ulong = 0x4004_54ca;
/// if_tun.h: `TUNSETOFFLOAD _IOW('T', 208, unsigned int)`.
const TUNSETOFFLOAD: c_ulong = 0x4004_54d0;
/// if_tun.h: `TUNSETVNETHDRSZ _IOW('T', 216, int)`.
const TUNSETVNETHDRSZ: c_ulong = 0x4004_54d8;
/// if_tun.h: `TUNSETCARRIER _IOW('T', 226, int)`.
const TUNSETCARRIER: c_ulong = 0x4004_54e2;
/// if_tun.h: `IFF_TAP 0x0002`, `IFF_NO_PI 0x1000`, `IFF_VNET_HDR 0x4000`.
const IFF_TAP: i16 = 0x0002;
const IFF_NO_PI: i16 = 0x1000;
const IFF_VNET_HDR: i16 = 0x4000;
/// if_tun.h: `TUN_F_CSUM 0x01`, `TUN_F_TSO4 0x02`, `TUN_F_TSO6 0x04`.
const TUN_F_CSUM: u32 = 0x01;
const TUN_F_TSO4: u32 = 0x02;
const TUN_F_TSO6: u32 = 0x04;
/// sizeof(struct virtio_net_hdr_mrg_rxbuf) (virtio 1.0's header): the 10-byte
/// virtio_net_hdr plus num_buffers.
const VNET_HDR_LEN: usize = 12;
/// virtio_net.h: `VIRTIO_NET_HDR_F_NEEDS_CSUM 1`, `VIRTIO_NET_HDR_F_DATA_VALID 2`.
const VNET_F_NEEDS_CSUM: u8 = 1;
const VNET_F_DATA_VALID: u8 = 2;
/// virtio_net.h: `VIRTIO_NET_HDR_GSO_NONE 0`, `_TCPV4 1`, `_UDP 3`, `_TCPV6 4`,
/// `_ECN 0x80`.
const VNET_GSO_NONE: u8 = 0;
const VNET_GSO_TCPV4: u8 = 1;
const VNET_GSO_UDP: u8 = 3;
const VNET_GSO_TCPV6: u8 = 4;
const VNET_GSO_ECN: u8 = 0x80;
/// sizeof(struct ifreq) on LP64 Linux: 16-byte name and a 24-byte union.
const IFREQ_LEN: usize = 40;
/// if_arp.h: `ARPHRD_ETHER 1`.
const ARPHRD_ETHER: u16 = 1;

/// What the 700 series segments without flagging MDD (hw-contract.md 5.11 and the
/// TSO limits: BAD_LSO_MSS for an MSS outside 64..9668, WRONG_SIZE when header + MSS
/// exceeds 9728). Linux asks for an MSS outside this only in odd cases (a peer
/// advertising a tiny MSS); those frames are segmented here in software instead.
const TSO_MSS_MIN: u16 = 64;
const TSO_MSS_MAX: u16 = 9668;
const TSO_MAX_SEGMENT_FRAME: usize = 9728;

/// Room for a 64 KiB GSO frame plus headers and the vnet header.
const RX_BUF: usize = 65536 + 256;
/// Frames read from one TAP per pass, and the most waiting for descriptors.
const READ_BATCH: usize = 64;
const PENDING_MAX: usize = 256;

// ---- the virtio-net header ----------------------------------------------------------

/// `struct virtio_net_hdr` (little-endian fields: TUN's default on x86).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct VnetHdr {
    flags: u8,
    gso_type: u8,
    hdr_len: u16,
    gso_size: u16,
    csum_start: u16,
    csum_offset: u16,
}

impl VnetHdr {
    fn parse(b: &[u8]) -> Option<VnetHdr> {
        let w = |o: usize| u16::from_le_bytes([b[o], b[o + 1]]);
        (b.len() >= 10).then(|| VnetHdr {
            flags: b[0],
            gso_type: b[1],
            hdr_len: w(2),
            gso_size: w(4),
            csum_start: w(6),
            csum_offset: w(8),
        })
    }

    fn bytes(&self) -> [u8; VNET_HDR_LEN] {
        let mut b = [0u8; VNET_HDR_LEN];
        b[0] = self.flags;
        b[1] = self.gso_type;
        b[2..4].copy_from_slice(&self.hdr_len.to_le_bytes());
        b[4..6].copy_from_slice(&self.gso_size.to_le_bytes());
        b[6..8].copy_from_slice(&self.csum_start.to_le_bytes());
        b[8..10].copy_from_slice(&self.csum_offset.to_le_bytes());
        // num_buffers: one buffer per frame.
        b[10..12].copy_from_slice(&1u16.to_le_bytes());
        b
    }
}

/// What to do with one frame Linux handed over.
#[derive(Clone, Debug, PartialEq, Eq)]
enum TxPlan {
    /// Give it to ravf with this request (NONE when nothing is asked).
    Offload(Offload),
    /// Already completed in software (checksum or segments); send without offload.
    Software(Vec<Vec<u8>>),
    /// Cannot be sent (malformed); the reason.
    Drop(String),
}

/// Tallies of the translation, for the summary.
#[derive(Clone, Copy, Debug, Default)]
struct TxCounts {
    frames: u64,
    gso: u64,
    csum: u64,
    sw_csum: u64,
    sw_seg: u64,
    dropped: u64,
    /// Frames of a VLAN device (tag moved to M_VLANTAG).
    vlan: u64,
}

fn be16(b: &[u8], o: usize) -> u16 {
    u16::from_be_bytes([b[o], b[o + 1]])
}

fn put16(b: &mut [u8], o: usize, v: u16) {
    b[o..o + 2].copy_from_slice(&v.to_be_bytes());
}

/// Translate a virtio-net header into what FreeBSD's stack would have put in the
/// mbuf for this frame, or the frames to send after completing it in software.
fn plan_tx(h: &VnetHdr, frame: &[u8], c: &mut TxCounts) -> TxPlan {
    c.frames += 1;
    let gso = h.gso_type & !VNET_GSO_ECN;
    let needs_csum = h.flags & VNET_F_NEEDS_CSUM != 0;
    if gso == VNET_GSO_NONE && !needs_csum {
        return TxPlan::Offload(Offload::NONE);
    }
    let l = pkt::layout(frame).ok();
    let is4 = l.is_some_and(|l| l.etype == pkt::ETHERTYPE_IP);
    let is6 = l.is_some_and(|l| l.etype == pkt::ETHERTYPE_IPV6);
    match gso {
        VNET_GSO_NONE => {}
        VNET_GSO_TCPV4 | VNET_GSO_TCPV6 => {
            c.gso += 1;
            let Some(l) = l else {
                return TxPlan::Drop("GSO frame without parseable headers".into());
            };
            let want4 = gso == VNET_GSO_TCPV4;
            if (want4 && !is4) || (!want4 && !is6) || l.ipproto != pkt::IPPROTO_TCP {
                return TxPlan::Drop(format!(
                    "GSO type {gso} on ethertype {:#06x} proto {}",
                    l.etype, l.ipproto
                ));
            }
            let hdr = l.ehdrlen + l.ip_hlen + l.l4_hlen;
            if (TSO_MSS_MIN..=TSO_MSS_MAX).contains(&h.gso_size)
                && hdr + usize::from(h.gso_size) <= TSO_MAX_SEGMENT_FRAME
            {
                // tcp_output with TSO: CSUM_IP_TSO/CSUM_IP6_TSO, tso_segsz = MSS, and
                // (IPv4) CSUM_IP, as ip_output sets it whenever the interface has
                // IP checksum offload.
                return TxPlan::Offload(Offload {
                    ip_csum: is4,
                    l4_csum: true,
                    tso_mss: Some(h.gso_size),
                    vlan: None,
                });
            }
            c.sw_seg += 1;
            return match sw_segment(frame, &l, usize::from(h.gso_size)) {
                Ok(v) => TxPlan::Software(v),
                Err(e) => TxPlan::Drop(e),
            };
        }
        VNET_GSO_UDP => return TxPlan::Drop("UFO was not offered (TUN_F_UFO is off)".into()),
        other => return TxPlan::Drop(format!("unknown GSO type {other}")),
    }
    // Checksum only. The L4 field holds the pseudo-header sum (Linux's
    // CHECKSUM_PARTIAL); the hardware offload covers TCP and UDP at their usual places.
    c.csum += 1;
    if let Some(l) = l {
        let l4 = l.ehdrlen + l.ip_hlen;
        let std_off = match l.ipproto {
            pkt::IPPROTO_TCP => Some(16),
            pkt::IPPROTO_UDP => Some(6),
            _ => None,
        };
        if (is4 || is6) && usize::from(h.csum_start) == l4 && std_off == Some(h.csum_offset) {
            return TxPlan::Offload(Offload {
                ip_csum: is4,
                l4_csum: true,
                tso_mss: None,
                vlan: None,
            });
        }
    }
    c.sw_csum += 1;
    let mut f = frame.to_vec();
    match sw_csum(
        &mut f,
        usize::from(h.csum_start),
        usize::from(h.csum_offset),
    ) {
        Ok(()) => TxPlan::Software(vec![f]),
        Err(e) => TxPlan::Drop(e),
    }
}

/// A frame from one of Linux's VLAN devices on the TAP carries its 802.1Q tag in the
/// data (tun puts it there). Take the tag out and ask for hardware insertion instead
/// (M_VLANTAG with the TCI, as FreeBSD's vlan(4) does over an interface with
/// VLAN_HWTAGGING); the checksum start moves with the header. None when untagged.
fn untag(h: &VnetHdr, frame: &[u8]) -> Option<(VnetHdr, Vec<u8>, u16)> {
    if frame.len() < 18 || be16(frame, 12) != pkt::ETHERTYPE_VLAN {
        return None;
    }
    let tci = be16(frame, 14);
    let mut f = Vec::with_capacity(frame.len() - 4);
    f.extend_from_slice(&frame[..12]);
    f.extend_from_slice(&frame[16..]);
    let mut h2 = *h;
    h2.hdr_len = h.hdr_len.saturating_sub(4);
    if h.flags & VNET_F_NEEDS_CSUM != 0 {
        h2.csum_start = h.csum_start.saturating_sub(4);
    }
    Some((h2, f, tci))
}

/// skb_checksum_help: sum from `start` to the end (the field holds the pseudo-header
/// sum), store the complement at `start + off`; 0 becomes 0xffff (CSUM_MANGLED_0).
fn sw_csum(f: &mut [u8], start: usize, off: usize) -> Result<(), String> {
    if start >= f.len() || start + off + 2 > f.len() {
        return Err(format!(
            "csum_start {start} + csum_offset {off} outside a {}-byte frame",
            f.len()
        ));
    }
    let c = !csum_fold(csum_add(0, &f[start..]));
    put16(f, start + off, if c == 0 { 0xffff } else { c });
    Ok(())
}

/// Software TCP segmentation (what Linux's tcp_gso_segment does), for the GSO
/// requests outside the hardware's MSS range.
fn sw_segment(frame: &[u8], l: &Layout, mss: usize) -> Result<Vec<Vec<u8>>, String> {
    if mss == 0 {
        return Err("GSO with gso_size 0".into());
    }
    let ip = l.ehdrlen;
    let th = ip + l.ip_hlen;
    let hdr = th + l.l4_hlen;
    let end = match l.etype {
        pkt::ETHERTYPE_IP => ip + usize::from(be16(frame, ip + 2)),
        _ => th + usize::from(be16(frame, ip + 4)),
    };
    if hdr > end || end > frame.len() {
        return Err(format!(
            "GSO frame lengths inconsistent (headers {hdr}, IP end {end}, frame {})",
            frame.len()
        ));
    }
    let payload = &frame[hdr..end];
    let seq0 = u32::from_be_bytes([frame[th + 4], frame[th + 5], frame[th + 6], frame[th + 7]]);
    let n = payload.len().div_ceil(mss).max(1);
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let chunk = &payload[(i * mss).min(payload.len())..((i + 1) * mss).min(payload.len())];
        let mut s = Vec::with_capacity(hdr + chunk.len());
        s.extend_from_slice(&frame[..hdr]);
        s.extend_from_slice(chunk);
        let l4_len = l.l4_hlen + chunk.len();
        if l.etype == pkt::ETHERTYPE_IP {
            put16(&mut s, ip + 2, (l.ip_hlen + l4_len) as u16);
            put16(&mut s, ip + 4, be16(frame, ip + 4).wrapping_add(i as u16));
            put16(&mut s, ip + 10, 0);
            let c = pkt::checksum(&s[ip..th]);
            put16(&mut s, ip + 10, c);
        } else {
            put16(&mut s, ip + 4, l4_len as u16);
        }
        let seq = seq0.wrapping_add((i * mss) as u32);
        s[th + 4..th + 8].copy_from_slice(&seq.to_be_bytes());
        if i + 1 < n {
            s[th + 13] &= !(pkt::TCP_FIN | pkt::TCP_PSH);
        }
        if i > 0 {
            s[th + 13] &= !0x80; // CWR only on the first segment
        }
        put16(&mut s, th + 16, 0);
        let pseudo = match l.etype {
            pkt::ETHERTYPE_IP => {
                let a: [u8; 4] = s[ip + 12..ip + 16].try_into().unwrap_or_default();
                let b: [u8; 4] = s[ip + 16..ip + 20].try_into().unwrap_or_default();
                pkt::pseudo4(a, b, pkt::IPPROTO_TCP, l4_len)
            }
            _ => {
                let a: [u8; 16] = s[ip + 8..ip + 24].try_into().unwrap_or_default();
                let b: [u8; 16] = s[ip + 24..ip + 40].try_into().unwrap_or_default();
                pkt::pseudo6(a, b, pkt::IPPROTO_TCP, l4_len)
            }
        };
        let c = !csum_fold(csum_add(pseudo, &s[th..]));
        put16(&mut s, th + 16, c);
        out.push(s);
    }
    Ok(out)
}

/// What the driver said about a received frame, and what a software check says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RxCsum {
    /// The driver verified L3 (IPv4) and L4: tell Linux DATA_VALID.
    Valid,
    /// The driver checked and found the checksum bad: Linux verifies (and drops).
    Bad,
    /// Not checked by the hardware (non-IP, ICMP, ...): Linux verifies.
    Unchecked,
}

fn rx_csum_status(f: &RxFrame) -> RxCsum {
    let l4 = f.csum_flags & (CSUM_L4_CALC | CSUM_L4_VALID);
    if l4 == 0 {
        return RxCsum::Unchecked;
    }
    let is4 = pkt::layout(&f.data).is_ok_and(|l| l.etype == pkt::ETHERTYPE_IP);
    let l3_ok =
        !is4 || f.csum_flags & (CSUM_L3_CALC | CSUM_L3_VALID) == (CSUM_L3_CALC | CSUM_L3_VALID);
    if l4 == (CSUM_L4_CALC | CSUM_L4_VALID) && l3_ok {
        RxCsum::Valid
    } else {
        RxCsum::Bad
    }
}

// ---- TAP devices in namespaces ------------------------------------------------------

fn errno_err(what: &str) -> io::Error {
    let e = io::Error::last_os_error();
    io::Error::new(e.kind(), format!("{what}: {e}"))
}

fn ifreq_named(name: &str) -> io::Result<[u8; IFREQ_LEN]> {
    let mut r = [0u8; IFREQ_LEN];
    if name.is_empty() || name.len() >= 16 || name.contains('/') {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("bad interface name '{name}'"),
        ));
    }
    r[..name.len()].copy_from_slice(name.as_bytes());
    Ok(r)
}

fn ioctl_ifreq(fd: RawFd, req: c_ulong, r: &mut [u8; IFREQ_LEN], what: &str) -> io::Result<()> {
    // SAFETY: r is a 40-byte buffer laid out as struct ifreq; the kernel reads and
    // writes at most sizeof(struct ifreq) bytes for these requests.
    let rc = unsafe { libc::ioctl(fd, req as _, r.as_mut_ptr()) };
    if rc < 0 {
        return Err(errno_err(what));
    }
    Ok(())
}

/// One TAP: its file descriptor and a socket in its namespace (for SIOCGIFMTU).
struct Tap {
    fd: OwnedFd,
    sock: OwnedFd,
    name: String,
    ns: String,
    /// The TAP's namespace and ours, for looking at its VLAN devices.
    ns_file: File,
    home: File,
}

fn open_file(path: &str) -> io::Result<File> {
    File::open(path).map_err(|e| io::Error::new(e.kind(), format!("{path}: {e}")))
}

fn setns_net(fd: RawFd, what: &str) -> io::Result<()> {
    // SAFETY: fd is an open namespace file; setns changes only this thread's netns.
    if unsafe { libc::setns(fd, libc::CLONE_NEWNET) } < 0 {
        return Err(errno_err(what));
    }
    Ok(())
}

/// Run `f` with this thread in the network namespace `ns_file`, then return to
/// `home`.
fn in_ns<R>(ns_file: &File, home: &File, ns: &str, f: impl FnOnce() -> R) -> io::Result<R> {
    setns_net(ns_file.as_raw_fd(), &format!("setns into {ns}"))?;
    let r = f();
    if let Err(e) = setns_net(home.as_raw_fd(), "setns back to the initial namespace") {
        // Continuing in the wrong namespace would misplace everything after.
        eprintln!("ravf-netns: {e}");
        std::process::exit(3);
    }
    Ok(r)
}

/// /proc/net/vlan/config (net/8021q/vlanproc.c): two header lines, then
/// `name | VID | parent` per VLAN device. The VIDs whose parent is `parent`.
fn parse_vlan_config(text: &str, parent: &str) -> Vec<u16> {
    let mut v: Vec<u16> = text
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split('|').map(str::trim).collect();
            match f[..] {
                [_, vid, p] if p == parent => vid.parse().ok().filter(|&x| (1..4095).contains(&x)),
                _ => None,
            }
        })
        .collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// /proc/net/dev_mcast (net/core/dev_addr_lists.c): `ifindex name users gusers
/// address-in-hex` per entry. The addresses of interface `name`, sorted.
fn parse_dev_mcast(text: &str, name: &str) -> Vec<[u8; 6]> {
    let mut v: Vec<[u8; 6]> = text
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            match f[..] {
                [_, n, _, _, hex] if n == name && hex.len() == 12 => {
                    let mut m = [0u8; 6];
                    for (i, b) in m.iter_mut().enumerate() {
                        *b = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
                    }
                    Some(m)
                }
                _ => None,
            }
        })
        .collect();
    v.sort_unstable();
    v.dedup();
    v
}

impl Tap {
    /// Create TAP `name` inside network namespace `ns` (/run/netns/NS) with the
    /// virtio-net header and the offloads, and give it `mac`.
    fn create(ns: &str, name: &str, mac: [u8; 6]) -> io::Result<Tap> {
        let home = open_file("/proc/thread-self/ns/net")?;
        let ns_file = open_file(&format!("/run/netns/{ns}"))?;
        let r = in_ns(&ns_file, &home, ns, || Tap::create_here(name, mac))?;
        r.map(|(fd, sock)| Tap {
            fd,
            sock,
            name: name.to_string(),
            ns: ns.to_string(),
            ns_file,
            home,
        })
    }

    /// What the stack in the TAP's namespace has configured on it: the VLAN IDs of
    /// its VLAN devices (`ip link add link TAP type vlan id N`, from
    /// /proc/net/vlan/config) and its link-level multicast list (the groups IPv4 and
    /// IPv6 joined, from /proc/net/dev_mcast), both as that namespace sees them.
    fn stack_state(&self) -> io::Result<(Vec<u16>, Vec<[u8; 6]>)> {
        let (vlan, mcast) = in_ns(&self.ns_file, &self.home, &self.ns, || {
            (
                std::fs::read_to_string("/proc/thread-self/net/vlan/config"),
                std::fs::read_to_string("/proc/thread-self/net/dev_mcast"),
            )
        })?;
        // No 8021q support or no VLAN devices in this namespace: none.
        let vlans = vlan
            .map(|t| parse_vlan_config(&t, &self.name))
            .unwrap_or_default();
        Ok((vlans, parse_dev_mcast(&mcast?, &self.name)))
    }

    fn create_here(name: &str, mac: [u8; 6]) -> io::Result<(OwnedFd, OwnedFd)> {
        let path = CString::new("/dev/net/tun").unwrap_or_default();
        // SAFETY: a NUL-terminated path; the result is checked.
        let raw = unsafe {
            libc::open(
                path.as_ptr(),
                libc::O_RDWR | libc::O_NONBLOCK | libc::O_CLOEXEC,
            )
        };
        if raw < 0 {
            return Err(errno_err("open /dev/net/tun"));
        }
        // SAFETY: raw is a fresh descriptor we own.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        let mut r = ifreq_named(name)?;
        r[16..18].copy_from_slice(&(IFF_TAP | IFF_NO_PI | IFF_VNET_HDR).to_ne_bytes());
        ioctl_ifreq(
            fd.as_raw_fd(),
            TUNSETIFF,
            &mut r,
            &format!("TUNSETIFF {name}"),
        )?;
        let sz: c_int = VNET_HDR_LEN as c_int;
        // SAFETY: TUNSETVNETHDRSZ reads one int through the pointer.
        if unsafe { libc::ioctl(fd.as_raw_fd(), TUNSETVNETHDRSZ as _, &sz as *const c_int) } < 0 {
            return Err(errno_err("TUNSETVNETHDRSZ"));
        }
        // SAFETY: TUNSETOFFLOAD takes the flags as the argument value.
        if unsafe {
            libc::ioctl(
                fd.as_raw_fd(),
                TUNSETOFFLOAD as _,
                (TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6) as c_ulong,
            )
        } < 0
        {
            return Err(errno_err("TUNSETOFFLOAD"));
        }
        // SAFETY: plain socket(2); checked.
        let s = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
        if s < 0 {
            return Err(errno_err("socket"));
        }
        // SAFETY: s is a fresh descriptor we own.
        let sock = unsafe { OwnedFd::from_raw_fd(s) };
        let mut r = ifreq_named(name)?;
        r[16..18].copy_from_slice(&ARPHRD_ETHER.to_ne_bytes());
        r[18..24].copy_from_slice(&mac);
        ioctl_ifreq(
            sock.as_raw_fd(),
            libc::SIOCSIFHWADDR as c_ulong,
            &mut r,
            "SIOCSIFHWADDR",
        )?;
        Ok((fd, sock))
    }

    /// Carrier on or off (what the link state of the port behind it is).
    fn set_carrier(&self, on: bool) -> io::Result<()> {
        let v: c_int = on.into();
        // SAFETY: TUNSETCARRIER reads one int through the pointer.
        if unsafe { libc::ioctl(self.fd.as_raw_fd(), TUNSETCARRIER as _, &v as *const c_int) } < 0 {
            return Err(errno_err("TUNSETCARRIER"));
        }
        Ok(())
    }

    fn mtu(&self) -> Option<u32> {
        let mut r = ifreq_named(&self.name).ok()?;
        ioctl_ifreq(
            self.sock.as_raw_fd(),
            libc::SIOCGIFMTU as c_ulong,
            &mut r,
            "SIOCGIFMTU",
        )
        .ok()?;
        Some(i32::from_ne_bytes([r[16], r[17], r[18], r[19]]) as u32)
    }

    /// Read one frame; None when nothing is waiting.
    fn read<'a>(&self, buf: &'a mut [u8]) -> io::Result<Option<(VnetHdr, &'a [u8])>> {
        // SAFETY: buf is writable for buf.len() bytes.
        let n = unsafe { libc::read(self.fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
        if n < 0 {
            let e = io::Error::last_os_error();
            return match e.kind() {
                io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted => Ok(None),
                _ => Err(e),
            };
        }
        let n = n as usize;
        if n < VNET_HDR_LEN {
            return Ok(None);
        }
        let h = VnetHdr::parse(&buf[..VNET_HDR_LEN]).unwrap_or_default();
        Ok(Some((h, &buf[VNET_HDR_LEN..n])))
    }

    fn write(&self, h: &VnetHdr, frame: &[u8]) -> io::Result<()> {
        let hb = h.bytes();
        let iov = [
            libc::iovec {
                iov_base: hb.as_ptr() as *mut _,
                iov_len: hb.len(),
            },
            libc::iovec {
                iov_base: frame.as_ptr() as *mut _,
                iov_len: frame.len(),
            },
        ];
        // SAFETY: both iovecs point to live buffers of the stated lengths; the kernel
        // only reads them.
        let n = unsafe { libc::writev(self.fd.as_raw_fd(), iov.as_ptr(), 2) };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
}

// ---- signals --------------------------------------------------------------------------

static STOP: AtomicBool = AtomicBool::new(false);
/// SIGUSR1: the PF resets VF0 (RESET_IMPENDING, then the reset), under whatever
/// traffic is running.
static RESET_VF0: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(sig: c_int) {
    if sig == libc::SIGUSR1 {
        RESET_VF0.store(true, Ordering::SeqCst);
    } else {
        STOP.store(true, Ordering::SeqCst);
    }
}

fn install_signals() {
    // When the script that started us dies (even by SIGKILL), stop too rather than
    // keep the TAPs and namespaces busy.
    // SAFETY: prctl(PR_SET_PDEATHSIG) with a valid signal number; no pointers.
    unsafe {
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM as libc::c_ulong);
    }
    for s in [libc::SIGTERM, libc::SIGINT, libc::SIGHUP, libc::SIGUSR1] {
        // SAFETY: the handler only stores to atomics (async-signal-safe).
        unsafe {
            libc::signal(s, on_signal as extern "C" fn(c_int) as libc::sighandler_t);
        }
    }
}

/// Wait until one of `fds` is readable or `timeout` passes (ppoll(2)).
fn wait_readable(fds: &[RawFd], timeout: Duration) {
    let mut p: Vec<libc::pollfd> = fds
        .iter()
        .map(|&fd| libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    let ts = libc::timespec {
        tv_sec: timeout.as_secs() as _,
        tv_nsec: timeout.subsec_nanos() as _,
    };
    // SAFETY: p and ts live across the call; no signal mask change.
    unsafe {
        libc::ppoll(p.as_mut_ptr(), p.len() as _, &ts, std::ptr::null());
    }
}

// ---- the pump ------------------------------------------------------------------------

struct Args {
    config: Option<String>,
    ns: [String; 2],
    tap: [String; 2],
    ready: Option<String>,
    stats: Option<String>,
    max_seconds: u64,
    verbose: bool,
    wire: bool,
}

fn usage() -> &'static str {
    "usage: ravf-netns [--config FILE] [--ns NS_A,NS_B] [--tap TAP_A,TAP_B] [--ready FILE]\n\
     \x20                 [--stats FILE] [--max-seconds N] [--verbose] [--wire]"
}

fn pair(s: &str, what: &str) -> Result<[String; 2], String> {
    match s.split(',').collect::<Vec<_>>()[..] {
        [a, b] if !a.is_empty() && !b.is_empty() && a != b => Ok([a.to_string(), b.to_string()]),
        _ => Err(format!(
            "{what} wants two different names separated by a comma, got '{s}'"
        )),
    }
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        config: None,
        ns: ["ra".into(), "rb".into()],
        tap: ["ravf0".into(), "ravf1".into()],
        ready: None,
        stats: None,
        max_seconds: 0,
        verbose: false,
        wire: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(x) = it.next() {
        let mut val = |n: &str| it.next().ok_or_else(|| format!("{n} needs a value"));
        match x.as_str() {
            "--config" | "-c" => a.config = Some(val("--config")?),
            "--ns" => a.ns = pair(&val("--ns")?, "--ns")?,
            "--tap" => a.tap = pair(&val("--tap")?, "--tap")?,
            "--ready" => a.ready = Some(val("--ready")?),
            "--stats" => a.stats = Some(val("--stats")?),
            "--max-seconds" => {
                a.max_seconds = val("--max-seconds")?
                    .parse()
                    .map_err(|e| format!("--max-seconds: {e}"))?
            }
            "--verbose" | "-v" => a.verbose = true,
            "--wire" => a.wire = true,
            "--help" | "-h" => {
                println!("{}", usage());
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument '{other}'\n{}", usage())),
        }
    }
    Ok(a)
}

#[derive(Default)]
struct RxCounts {
    frames: u64,
    bytes: u64,
    data_valid: u64,
    bad: u64,
    unchecked: u64,
    vlan_reinserted: u64,
    write_errors: u64,
}

/// One VF and its TAP.
struct Side {
    vf: usize,
    tap: Tap,
    /// Frames waiting for the wire or for TX descriptors, per queue.
    pending: Vec<VecDeque<Pending>>,
    /// The wire's pacing: bytes this VF may put on it now (see [`wire_cost`]).
    wire_tokens: i64,
    /// Where the next batch starts (queues take turns).
    next_q: usize,
    mtu: u32,
    /// VLAN IDs registered with the driver (the TAP's VLAN devices).
    vlans: Vec<u16>,
    /// The multicast list last given to the driver (the TAP's dev_mcast).
    mcast: Vec<[u8; 6]>,
    tx: TxCounts,
    rx: RxCounts,
    tx_sent: u64,
    tx_refused: u64,
    tx_netdown: u64,
    /// iflib's link state as last mirrored to the TAP's carrier.
    link: bool,
    link_changes: u64,
}

impl Side {
    fn pending_len(&self) -> usize {
        self.pending.iter().map(|q| q.len()).sum()
    }
}

/// A frame on its way to the driver.
struct Pending {
    frame: Vec<u8>,
    off: Offload,
    cost: i64,
}

/// The emulator moves a whole TSO burst from one VF's TX ring to the other's RX ring
/// the moment the tail is written; a real port cannot go faster than its link. To
/// keep what Linux bursts (hundreds of 64 KiB GSO frames) from overrunning the
/// receiver's ring in one instant, each VF's transmissions are paced at its link
/// speed with a token bucket of this depth.
const WIRE_BURST: i64 = 128 * 1024;

/// Bytes a frame occupies on the wire: each segment's headers, plus preamble,
/// inter-frame gap and FCS (24 bytes), minimum frame 60.
fn wire_cost(frame: &[u8], off: &Offload) -> i64 {
    let segs_hdr = off.tso_mss.and_then(|mss| {
        let l = pkt::layout(frame).ok()?;
        let hdr = l.ehdrlen + l.ip_hlen + l.l4_hlen;
        let payload = frame.len().checked_sub(hdr)?;
        Some((payload.div_ceil(usize::from(mss.max(1))).max(1), hdr))
    });
    let (segs, hdr) = segs_hdr.unwrap_or((1, 0));
    (frame.len().max(60) + (segs - 1) * hdr + segs * 24) as i64
}

/// iflib picks the TX queue from the flowid; for frames without one, a hash of the
/// addresses and ports keeps each flow on one queue.
fn pick_queue(frame: &[u8], nq: usize) -> usize {
    if nq <= 1 {
        return 0;
    }
    let Ok(l) = pkt::layout(frame) else { return 0 };
    let ip = l.ehdrlen;
    let (a, b) = match l.etype {
        pkt::ETHERTYPE_IP => (ip + 12, ip + 20),
        pkt::ETHERTYPE_IPV6 => (ip + 8, ip + 40),
        _ => return 0,
    };
    let ports = if matches!(l.ipproto, pkt::IPPROTO_TCP | pkt::IPPROTO_UDP)
        && frame.len() >= ip + l.ip_hlen + 4
    {
        &frame[ip + l.ip_hlen..ip + l.ip_hlen + 4]
    } else {
        &[][..]
    };
    let mut h: u32 = 0x811c_9dc5;
    for &x in frame[a..b].iter().chain(ports) {
        h = (h ^ u32::from(x)).wrapping_mul(0x0100_0193);
    }
    (h as usize) % nq
}

struct Violations {
    list: Vec<String>,
}

impl Violations {
    fn add(&mut self, s: String) {
        if self.list.len() < 1000 {
            eprintln!("ravf-netns: violation: {s}");
        }
        self.list.push(s);
    }
}

fn config_path(a: &Args) -> String {
    a.config.clone().unwrap_or_else(|| {
        let here = std::path::Path::new(DEFAULT_CONFIG);
        if here.exists() {
            DEFAULT_CONFIG.to_string()
        } else {
            format!("{}/../../{DEFAULT_CONFIG}", env!("CARGO_MANIFEST_DIR"))
        }
    })
}

fn write_file(path: &str, text: &str) {
    if let Err(e) = std::fs::write(path, text) {
        eprintln!("ravf-netns: cannot write {path}: {e}");
    }
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("ravf-netns: {e}");
            return ExitCode::from(2);
        }
    };
    install_signals();
    if args.wire {
        return wire(&args);
    }
    let path = config_path(&args);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("ravf-netns: cannot read {path}: {e}");
            return ExitCode::from(2);
        }
    };
    let opts = Options {
        verbose: args.verbose,
        ..Options::default()
    };
    let mut m = match emu::machine_from_config(&text, opts) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("ravf-netns: {path}: {e}");
            return ExitCode::from(2);
        }
    };
    if m.num_vfs() < 2 {
        eprintln!("ravf-netns: {path} has {} VFs; two are needed", m.num_vfs());
        return ExitCode::from(2);
    }
    println!("ravf-netns: emulated PF from {path}");
    print!("{}", emu::describe(&m));
    for vf in 0..2 {
        if let Err(e) = m.attach(vf) {
            eprintln!("ravf-netns: VF{vf}: attach failed: {e}");
            return ExitCode::from(1);
        }
    }
    if !m.run_until(5_000_000_000, |m| m.link_up(0) && m.link_up(1)) {
        eprintln!("ravf-netns: the VFs' links did not come up");
        return ExitCode::from(1);
    }
    let mut sides = Vec::new();
    for vf in 0..2 {
        let Some(mac) = m.lladdr(vf) else {
            eprintln!("ravf-netns: VF{vf} has no link-level address");
            return ExitCode::from(1);
        };
        let tap = match Tap::create(&args.ns[vf], &args.tap[vf], mac) {
            Ok(t) => t,
            Err(e) => {
                eprintln!(
                    "ravf-netns: TAP {} in namespace {}: {e}",
                    args.tap[vf], args.ns[vf]
                );
                return ExitCode::from(1);
            }
        };
        let (nq, _) = m.num_queues(vf);
        let (_, baud) = m.link(vf);
        println!(
            "ravf-netns: VF{vf} ravf up ({} Mbit/s, {nq} TX queues) as {} {} in netns {}",
            baud / 1_000_000,
            tap.name,
            fmt_mac(mac),
            tap.ns
        );
        let mtu = m.mtu(vf).max(0) as u32;
        sides.push(Side {
            vf,
            tap,
            pending: (0..nq.max(1)).map(|_| VecDeque::new()).collect(),
            wire_tokens: WIRE_BURST,
            next_q: 0,
            mtu,
            vlans: Vec::new(),
            mcast: Vec::new(),
            tx: TxCounts::default(),
            rx: RxCounts::default(),
            tx_sent: 0,
            tx_refused: 0,
            tx_netdown: 0,
            link: true,
            link_changes: 0,
        });
    }
    if let Some(r) = &args.ready {
        write_file(
            r,
            &format!(
                "{} {}\n{} {}\n",
                args.ns[0], args.tap[0], args.ns[1], args.tap[1]
            ),
        );
    }
    println!("ravf-netns: ready; pumping frames (SIGTERM to stop)");
    let mut viol = Violations { list: Vec::new() };
    pump(&mut m, &mut sides, &args, &mut viol);
    report(&m, &sides, &args, viol)
}

fn pump(m: &mut Machine, sides: &mut [Side], args: &Args, viol: &mut Violations) {
    let start = Instant::now();
    let mut last = Instant::now();
    let mut last_mtu_check = Instant::now();
    let mut last_work = Instant::now();
    let mut buf = vec![0u8; RX_BUF];
    let fds: Vec<RawFd> = sides.iter().map(|s| s.tap.fd.as_raw_fd()).collect();
    while !STOP.load(Ordering::SeqCst) {
        if args.max_seconds > 0 && start.elapsed() >= Duration::from_secs(args.max_seconds) {
            eprintln!("ravf-netns: --max-seconds {} reached", args.max_seconds);
            break;
        }
        let mut work = false;
        // The emulator's clock follows real time (at most 20 ms per step, so a
        // stall here does not turn into a burst of timer work).
        let now = Instant::now();
        let dt = now.duration_since(last).min(Duration::from_millis(20));
        last = now;
        // Linux -> ravf.
        for s in sides.iter_mut() {
            let mbps = (m.link(s.vf).1 / 1_000_000).max(100) as i64;
            s.wire_tokens = (s.wire_tokens + dt.as_nanos() as i64 * mbps / 8000).min(WIRE_BURST);
            let nq = s.pending.len();
            for _ in 0..READ_BATCH {
                if s.pending_len() >= PENDING_MAX {
                    break;
                }
                let (h, frame) = match s.tap.read(&mut buf) {
                    Ok(Some(x)) => x,
                    Ok(None) => break,
                    Err(e) => {
                        eprintln!("ravf-netns: read {}: {e}", s.tap.name);
                        STOP.store(true, Ordering::SeqCst);
                        break;
                    }
                };
                work = true;
                let untagged = untag(&h, frame);
                let (h, frame, vlan) = match &untagged {
                    Some((h2, f, tci)) => (*h2, f.as_slice(), Some(*tci)),
                    None => (h, frame, None),
                };
                if vlan.is_some() {
                    s.tx.vlan += 1;
                }
                let q = pick_queue(frame, nq);
                match plan_tx(&h, frame, &mut s.tx) {
                    TxPlan::Offload(mut off) => {
                        off.vlan = vlan;
                        let cost = wire_cost(frame, &off);
                        s.pending[q].push_back(Pending {
                            frame: frame.to_vec(),
                            off,
                            cost,
                        });
                    }
                    TxPlan::Software(v) => {
                        let off = Offload {
                            vlan,
                            ..Offload::NONE
                        };
                        for frame in v {
                            let cost = wire_cost(&frame, &off);
                            s.pending[q].push_back(Pending { frame, off, cost });
                        }
                    }
                    TxPlan::Drop(why) => {
                        s.tx.dropped += 1;
                        if args.verbose {
                            eprintln!("ravf-netns: {}: dropped a frame: {why}", s.tap.name);
                        }
                    }
                }
            }
            work |= send_pending(m, s, viol);
        }
        m.shared().advance(dt.as_nanos() as u64);
        for _ in 0..16 {
            if !m.poll() {
                break;
            }
            work = true;
        }
        if RESET_VF0.swap(false, Ordering::SeqCst) {
            println!(
                "ravf-netns: SIGUSR1: the PF resets VF0 (RESET_IMPENDING, then VFR) under traffic"
            );
            emu::sim(m).pf_reset_vf(0);
            work = true;
        }
        // iflib's link state (LINK_CHANGE events, resets) becomes the TAP's carrier,
        // so the Linux stack sees the link go down and up as ifconfig would.
        for s in sides.iter_mut() {
            let up = m.link_up(s.vf);
            if up != s.link {
                s.link = up;
                s.link_changes += 1;
                let t = start.elapsed().as_millis();
                println!(
                    "ravf-netns: VF{} link {} at {t} ms (carrier of {} {})",
                    s.vf,
                    if up { "up" } else { "down" },
                    s.tap.name,
                    if up { "on" } else { "off" }
                );
                if let Err(e) = s.tap.set_carrier(up) {
                    eprintln!("ravf-netns: {}: {e}", s.tap.name);
                }
            }
        }
        // ravf -> Linux.
        for s in sides.iter_mut() {
            while let Some(f) = m.recv(s.vf) {
                work = true;
                deliver(s, f, viol);
            }
        }
        // ifconfig mtu: mirror the TAP's MTU to the driver; and the VLAN devices on
        // the TAP to its VLAN filters (vlan(4)'s vlan_config/vlan_unconfig events).
        if last_mtu_check.elapsed() >= Duration::from_millis(200) {
            last_mtu_check = Instant::now();
            for s in sides.iter_mut() {
                let (vlans, mc) = match s.tap.stack_state() {
                    Ok(x) => x,
                    Err(e) => {
                        eprintln!("ravf-netns: the stack state of {}: {e}", s.tap.name);
                        (s.vlans.clone(), s.mcast.clone())
                    }
                };
                // SIOCADDMULTI/SIOCDELMULTI: the groups Linux joined become ravf's
                // multicast filters (IFDI_MULTI_SET), so IPv6 neighbour discovery
                // reaches the other side through the VF's filters.
                if mc != s.mcast {
                    m.set_multicast(s.vf, &mc);
                    let l: Vec<String> = mc.iter().map(|a| fmt_mac(*a)).collect();
                    println!(
                        "ravf-netns: {} multicast list -> ravf: [{}]",
                        s.tap.name,
                        l.join(" ")
                    );
                    s.mcast = mc;
                }
                for &tag in vlans.iter().filter(|t| !s.vlans.contains(t)) {
                    m.vlan_register(s.vf, tag);
                    println!(
                        "ravf-netns: {}.{tag} created: ravf vlan_register({tag})",
                        s.tap.name
                    );
                }
                for &tag in s.vlans.iter().filter(|t| !vlans.contains(t)) {
                    m.vlan_unregister(s.vf, tag);
                    println!(
                        "ravf-netns: {}.{tag} removed: ravf vlan_unregister({tag})",
                        s.tap.name
                    );
                }
                s.vlans = vlans;
                if let Some(mtu) = s.tap.mtu() {
                    if mtu != s.mtu {
                        let err = m.set_mtu(s.vf, mtu);
                        println!(
                            "ravf-netns: {} MTU {} -> {mtu}: ravf SIOCSIFMTU errno {err}",
                            s.tap.name, s.mtu
                        );
                        if err == 0 {
                            s.mtu = mtu;
                        } else {
                            viol.add(format!("VF{}: ravf refused MTU {mtu} (errno {err})", s.vf));
                            s.mtu = mtu;
                        }
                    }
                }
            }
        }
        if work {
            last_work = Instant::now();
            continue;
        }
        // Idle: short sleeps while traffic is recent (interrupt throttling keeps
        // frames in the emulator for ~100 us), longer ones when quiet.
        let t = if last_work.elapsed() < Duration::from_millis(5) {
            Duration::from_micros(50)
        } else {
            Duration::from_millis(1)
        };
        wait_readable(&fds, t);
    }
}

/// Hand the frames waiting on each queue to the stand-in in batches, as far as the
/// wire's pacing allows.
fn send_pending(m: &mut Machine, s: &mut Side, viol: &mut Violations) -> bool {
    let mut any = false;
    let nq = s.pending.len();
    for i in 0..nq {
        let q = (s.next_q + i) % nq;
        if s.pending[q].is_empty() || s.wire_tokens <= 0 {
            continue;
        }
        any = true;
        // The frames the wire takes now (at least one: the bucket may go negative).
        let mut tokens = s.wire_tokens;
        let n = s.pending[q]
            .iter()
            .take_while(|p| {
                let ok = tokens > 0;
                tokens -= p.cost;
                ok
            })
            .count();
        let before = m.tx_stats(s.vf, q);
        let batch: Vec<(&[u8], Offload)> = s.pending[q]
            .iter()
            .take(n)
            .map(|p| (p.frame.as_slice(), p.off))
            .collect();
        let r = m.send_batch(s.vf, q, &batch, &SegLayout::Contiguous);
        drop(batch);
        let after = m.tx_stats(s.vf, q);
        // Packets the driver (or iflib's parse) refused are dropped by send_batch;
        // ENOBUFS stops the batch and leaves the rest queued, as in iflib's ring.
        let refused = (after.encap_errors - before.encap_errors)
            + (after.mbuf_defrag_failed - before.mbuf_defrag_failed);
        let consumed = match r {
            Ok(sent) => {
                s.tx_sent += sent as u64;
                (sent + refused as usize).min(n)
            }
            Err(TxError::NoBufs) => 0,
            Err(TxError::NetDown) | Err(TxError::NoPort) => {
                s.tx_netdown += n as u64;
                n
            }
            Err(e) => {
                if refused == 0 {
                    viol.add(format!("VF{} q{q}: a frame was refused: {e:?}", s.vf));
                }
                1
            }
        };
        if refused > 0 {
            s.tx_refused += refused;
            viol.add(format!(
                "VF{} q{q}: {refused} frame(s) refused by txd_encap/iflib parse",
                s.vf
            ));
        }
        for p in s.pending[q].drain(..consumed) {
            s.wire_tokens -= p.cost;
        }
    }
    s.next_q = (s.next_q + 1) % nq.max(1);
    any
}

/// One frame iflib passed up: the checksum verdict into the vnet header, a software
/// cross-check, the VLAN tag back into the frame, then the TAP.
fn deliver(s: &mut Side, f: RxFrame, viol: &mut Violations) {
    s.rx.frames += 1;
    s.rx.bytes += f.data.len() as u64;
    let st = rx_csum_status(&f);
    let mut h = VnetHdr::default();
    match st {
        RxCsum::Valid => {
            // An independent check of what DATA_VALID tells Linux not to check.
            if let Err(e) = pkt::check_ip(&f.data) {
                viol.add(format!(
                    "VF{}: ravf reported a valid checksum on a bad frame: {e} ({})",
                    s.vf,
                    pkt::describe(&f.data)
                ));
            } else {
                h.flags = VNET_F_DATA_VALID;
                s.rx.data_valid += 1;
            }
        }
        RxCsum::Bad => {
            s.rx.bad += 1;
            if pkt::check_ip(&f.data).is_ok() {
                viol.add(format!(
                    "VF{}: ravf reported a bad checksum on a good frame ({})",
                    s.vf,
                    pkt::describe(&f.data)
                ));
            }
        }
        RxCsum::Unchecked => s.rx.unchecked += 1,
    }
    let data = match f.vtag {
        Some(tci) => {
            s.rx.vlan_reinserted += 1;
            pkt::insert_vlan(&f.data, tci)
        }
        None => f.data,
    };
    if s.tap.write(&h, &data).is_err() {
        s.rx.write_errors += 1;
    }
}

fn report(m: &Machine, sides: &[Side], args: &Args, mut viol: Violations) -> ExitCode {
    for v in emu::violations(m) {
        viol.add(format!("emulator: {v}"));
    }
    for e in m.harness_errors() {
        viol.add(format!("stand-in: {e}"));
    }
    let c: Vec<_> = (0..2).map(|vf| emu::sim(m).counters(vf)).collect();
    let tso_ctx: u64 = c.iter().map(|c| c.tso_ctx).sum();
    let tso_segments: u64 = c.iter().map(|c| c.tso_segments).sum();
    let csum_req: u64 = c.iter().map(|c| c.csum_req).sum();
    let vlan_inserted: u64 = c.iter().map(|c| c.vlan_inserted).sum();
    let vlan_stripped: u64 = c.iter().map(|c| c.vlan_stripped).sum();
    let tx_vlan: u64 = sides.iter().map(|s| s.tx.vlan).sum();
    let resets: u64 = c.iter().map(|c| c.resets).sum();
    let link_changes: u64 = sides.iter().map(|s| s.link_changes).sum();
    let link_up = sides.iter().all(|s| m.link_up(s.vf));
    let rx_vlan: u64 = sides.iter().map(|s| s.rx.vlan_reinserted).sum();
    println!("ravf-netns: summary");
    for s in sides {
        let t = &s.tx;
        let r = &s.rx;
        println!(
            "  VF{} {}: from Linux {} frames ({} GSO, {} csum, {} VLAN, {} sw csum, {} sw segmented, {} dropped), {} to ravf, {} refused, {} while down",
            s.vf, s.tap.name, t.frames, t.gso, t.csum, t.vlan, t.sw_csum, t.sw_seg, t.dropped, s.tx_sent, s.tx_refused, s.tx_netdown
        );
        println!(
            "  VF{} {}: to Linux {} frames {} bytes ({} DATA_VALID, {} bad checksum, {} unchecked, {} VLAN tags reinserted, {} write errors)",
            s.vf, s.tap.name, r.frames, r.bytes, r.data_valid, r.bad, r.unchecked, r.vlan_reinserted, r.write_errors
        );
        let (ntx, nrx) = m.num_queues(s.vf);
        let txq: Vec<String> = (0..ntx)
            .map(|q| m.tx_stats(s.vf, q).packets.to_string())
            .collect();
        let rxq: Vec<String> = (0..nrx)
            .map(|q| m.rx_stats(s.vf, q).packets.to_string())
            .collect();
        println!(
            "  VF{} per-queue packets: TX [{}] RX [{}]",
            s.vf,
            txq.join(" "),
            rxq.join(" ")
        );
        print!("{}", emu::counters(m, s.vf));
    }
    let tx_gso: u64 = sides.iter().map(|s| s.tx.gso).sum();
    let tx_csum: u64 = sides.iter().map(|s| s.tx.csum).sum();
    let rx_valid: u64 = sides.iter().map(|s| s.rx.data_valid).sum();
    // Every frame here was checksummed by the sending VF's offload: one that the
    // receiving VF finds bad means the TX checksum path is broken.
    let rx_bad: u64 = sides.iter().map(|s| s.rx.bad).sum();
    let rx_frames: u64 = sides.iter().map(|s| s.rx.frames).sum();
    let sw: u64 = sides.iter().map(|s| s.tx.sw_csum + s.tx.sw_seg).sum();
    let dropped: u64 = sides.iter().map(|s| s.tx.dropped).sum();
    let stats = format!(
        "tso_ctx={tso_ctx}\ntso_segments={tso_segments}\ncsum_req={csum_req}\ntx_gso={tx_gso}\ntx_csum={tx_csum}\n\
         tx_software={sw}\ntx_dropped={dropped}\nrx_frames={rx_frames}\nrx_data_valid={rx_valid}\nrx_bad_csum={rx_bad}\ntx_vlan={tx_vlan}\nrx_vlan={rx_vlan}\nvlan_inserted={vlan_inserted}\n\
         vlan_stripped={vlan_stripped}\nresets={resets}\nlink_changes={link_changes}\nlink_up_at_exit={link_up}\nviolations={}\n",
        viol.list.len()
    );
    println!(
        "ravf-netns: tso_ctx={tso_ctx} tso_segments={tso_segments} csum_req={csum_req} rx_data_valid={rx_valid} violations={}",
        viol.list.len()
    );
    if let Some(p) = &args.stats {
        write_file(p, &stats);
    }
    if viol.list.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// `--wire`: TAP to TAP with the headers unchanged, no ravf. Checks the namespace and
/// TAP plumbing only.
fn wire(args: &Args) -> ExitCode {
    println!("ravf-netns: --wire: frames go TAP to TAP WITHOUT ravf or the emulator (plumbing check only)");
    let macs = [[0xaa, 0x88, 0x44, 0, 2, 0], [0xaa, 0x88, 0x44, 0, 2, 1]];
    let mut taps = Vec::new();
    for (i, mac) in macs.into_iter().enumerate() {
        match Tap::create(&args.ns[i], &args.tap[i], mac) {
            Ok(t) => taps.push(t),
            Err(e) => {
                eprintln!(
                    "ravf-netns: TAP {} in namespace {}: {e}",
                    args.tap[i], args.ns[i]
                );
                return ExitCode::from(1);
            }
        }
    }
    if let Some(r) = &args.ready {
        write_file(r, "wire\n");
    }
    let fds: Vec<RawFd> = taps.iter().map(|t| t.fd.as_raw_fd()).collect();
    let mut buf = vec![0u8; RX_BUF];
    let mut n = [0u64; 2];
    while !STOP.load(Ordering::SeqCst) {
        wait_readable(&fds, Duration::from_millis(5));
        for i in 0..2 {
            while let Ok(Some((h, f))) = taps[i].read(&mut buf) {
                n[i] += 1;
                let _ = taps[1 - i].write(&h, f);
            }
        }
    }
    println!("ravf-netns: --wire forwarded {} and {} frames", n[0], n[1]);
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;
    use ravf_harness::pkt::{Addrs, TcpFields};

    fn hdr(flags: u8, gso_type: u8, gso_size: u16, csum_start: u16, csum_offset: u16) -> VnetHdr {
        VnetHdr {
            flags,
            gso_type,
            hdr_len: 66,
            gso_size,
            csum_start,
            csum_offset,
        }
    }

    fn tcp4(payload: usize) -> Vec<u8> {
        let a = Addrs::V4([10, 77, 0, 1], [10, 77, 0, 2]);
        let f = TcpFields {
            sport: 5201,
            dport: 40000,
            seq: 1000,
            ack: 7,
            flags: pkt::TCP_ACK | pkt::TCP_PSH,
            window: 500,
        };
        let seg = pkt::tcp(
            a,
            f,
            true,
            &(0..payload).map(|i| i as u8).collect::<Vec<_>>(),
        );
        let ip = pkt::ipv4(
            [10, 77, 0, 1],
            [10, 77, 0, 2],
            pkt::IPPROTO_TCP,
            0x1234,
            &seg,
        );
        pkt::ether([2; 6], [4; 6], None, pkt::ETHERTYPE_IP, &ip)
    }

    fn tcp6(payload: usize) -> Vec<u8> {
        let s = [0xfd, 0x77, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
        let d = [0xfd, 0x77, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];
        let f = TcpFields {
            sport: 1,
            dport: 2,
            seq: 5,
            ack: 0,
            flags: pkt::TCP_ACK,
            window: 9,
        };
        let seg = pkt::tcp(Addrs::V6(s, d), f, false, &vec![0x5a; payload]);
        pkt::ether(
            [2; 6],
            [4; 6],
            None,
            pkt::ETHERTYPE_IPV6,
            &pkt::ipv6(s, d, pkt::IPPROTO_TCP, &seg),
        )
    }

    #[test]
    fn vnet_header_bytes_follow_the_virtio_layout() {
        // virtio_net_hdr: flags, gso_type, hdr_len, gso_size, csum_start, csum_offset
        // (le16 each), then num_buffers (le16).
        let raw = [1u8, 1, 66, 0, 0xa8, 0x05, 34, 0, 16, 0, 0, 0];
        let h = VnetHdr::parse(&raw).unwrap();
        assert_eq!(
            h,
            VnetHdr {
                flags: 1,
                gso_type: 1,
                hdr_len: 66,
                gso_size: 1448,
                csum_start: 34,
                csum_offset: 16
            }
        );
        let mut back = raw;
        back[10] = 1; // num_buffers = 1 on the way out
        assert_eq!(h.bytes(), back);
        assert_eq!(VnetHdr::parse(&raw[..9]), None);
    }

    #[test]
    fn gso_tcpv4_becomes_tso_with_the_mss() {
        let f = tcp4(20000);
        let mut c = TxCounts::default();
        let p = plan_tx(
            &hdr(VNET_F_NEEDS_CSUM, VNET_GSO_TCPV4, 1448, 34, 16),
            &f,
            &mut c,
        );
        assert_eq!(
            p,
            TxPlan::Offload(Offload {
                ip_csum: true,
                l4_csum: true,
                tso_mss: Some(1448),
                vlan: None
            })
        );
        assert_eq!((c.gso, c.csum, c.sw_seg), (1, 0, 0));
        // The ECN bit does not change the request.
        let p = plan_tx(
            &hdr(
                VNET_F_NEEDS_CSUM,
                VNET_GSO_TCPV4 | VNET_GSO_ECN,
                1448,
                34,
                16,
            ),
            &f,
            &mut c,
        );
        assert!(matches!(p, TxPlan::Offload(o) if o.tso_mss == Some(1448)));
    }

    #[test]
    fn gso_tcpv6_has_no_ip_checksum_request() {
        let f = tcp6(9000);
        let mut c = TxCounts::default();
        let p = plan_tx(
            &hdr(VNET_F_NEEDS_CSUM, VNET_GSO_TCPV6, 1428, 54, 16),
            &f,
            &mut c,
        );
        assert_eq!(
            p,
            TxPlan::Offload(Offload {
                ip_csum: false,
                l4_csum: true,
                tso_mss: Some(1428),
                vlan: None
            })
        );
        // A TCPV4 GSO type on an IPv6 frame is malformed.
        assert!(matches!(
            plan_tx(&hdr(1, VNET_GSO_TCPV4, 1428, 54, 16), &f, &mut c),
            TxPlan::Drop(_)
        ));
    }

    #[test]
    fn partial_checksum_becomes_l4_offload() {
        let f = tcp4(100);
        let mut c = TxCounts::default();
        let p = plan_tx(
            &hdr(VNET_F_NEEDS_CSUM, VNET_GSO_NONE, 0, 34, 16),
            &f,
            &mut c,
        );
        assert_eq!(p, TxPlan::Offload(Offload::CSUM));
        assert_eq!(
            plan_tx(&hdr(0, 0, 0, 0, 0), &f, &mut c),
            TxPlan::Offload(Offload::NONE)
        );
        assert_eq!((c.frames, c.csum, c.sw_csum), (2, 1, 0));
    }

    #[test]
    fn unusual_checksum_position_is_done_in_software() {
        // A frame whose partial checksum is not at the TCP/UDP field: sum from
        // csum_start, complement into start+offset. Here: pretend the ICMP checksum
        // of an echo request (field at offset 2) was left partial (0).
        let echo = pkt::icmp_echo(pkt::ICMP_ECHO_REQUEST, 1, 2, &[1, 2, 3, 4, 5]);
        let want = echo.clone();
        let mut partial = echo;
        partial[2] = 0;
        partial[3] = 0;
        let ip = pkt::ipv4(
            [10, 77, 0, 1],
            [10, 77, 0, 2],
            pkt::IPPROTO_ICMP,
            1,
            &partial,
        );
        let f = pkt::ether([2; 6], [4; 6], None, pkt::ETHERTYPE_IP, &ip);
        let mut c = TxCounts::default();
        let TxPlan::Software(v) = plan_tx(&hdr(VNET_F_NEEDS_CSUM, 0, 0, 34, 2), &f, &mut c) else {
            panic!("not software")
        };
        assert_eq!(&v[0][34..], &want[..]);
        assert!(pkt::check_ip(&v[0]).is_ok());
        assert_eq!(c.sw_csum, 1);
        // Out of the frame: dropped.
        assert!(matches!(
            plan_tx(&hdr(VNET_F_NEEDS_CSUM, 0, 0, 400, 2), &f, &mut c),
            TxPlan::Drop(_)
        ));
    }

    #[test]
    fn tiny_mss_is_segmented_in_software_with_correct_checksums() {
        let payload = 100;
        let f = tcp4(payload);
        let mut c = TxCounts::default();
        let TxPlan::Software(segs) = plan_tx(
            &hdr(VNET_F_NEEDS_CSUM, VNET_GSO_TCPV4, 40, 34, 16),
            &f,
            &mut c,
        ) else {
            panic!("not software")
        };
        assert_eq!(segs.len(), 3);
        let mut data = Vec::new();
        let mut next = 1000u32;
        for (i, s) in segs.iter().enumerate() {
            let t = pkt::check_tcp(s).expect("segment checksums");
            assert_eq!(t.seq, next);
            next += t.payload.len() as u32;
            // PSH only on the last segment.
            assert_eq!(t.flags & pkt::TCP_PSH != 0, i == 2);
            // IP ids count up from the original.
            assert_eq!(be16(s, 18), 0x1234 + i as u16);
            data.extend_from_slice(&t.payload);
        }
        assert_eq!(data, (0..payload).map(|i| i as u8).collect::<Vec<_>>());
        assert_eq!(c.sw_seg, 1);
    }

    #[test]
    fn segments_larger_than_the_hardware_frame_are_done_in_software() {
        // 14 + 20 + 32 header bytes + MSS 9668 = 9734 > 9728 (WRONG_SIZE): software.
        let f = tcp4(20000);
        let mut c = TxCounts::default();
        let p = plan_tx(
            &hdr(VNET_F_NEEDS_CSUM, VNET_GSO_TCPV4, 9668, 34, 16),
            &f,
            &mut c,
        );
        let TxPlan::Software(segs) = p else {
            panic!("not software: {p:?}")
        };
        assert_eq!(segs.len(), 3);
        assert!(segs
            .iter()
            .all(|s| s.len() <= 9734 && pkt::check_tcp(s).is_ok()));
        // 66 + 9662 = 9728 fits.
        let p = plan_tx(
            &hdr(VNET_F_NEEDS_CSUM, VNET_GSO_TCPV4, 9662, 34, 16),
            &f,
            &mut c,
        );
        assert!(matches!(p, TxPlan::Offload(o) if o.tso_mss == Some(9662)));
    }

    #[test]
    fn wire_cost_counts_every_segment() {
        // 20000 payload bytes at MSS 1448 = 14 segments of 66 header bytes each:
        // the frame once, 13 more headers, 24 bytes of framing per segment.
        let f = tcp4(20000);
        let off = Offload::tso(1448);
        assert_eq!(wire_cost(&f, &off), (f.len() + 13 * 66 + 14 * 24) as i64);
        // A short frame is padded to 60 bytes.
        let arp = pkt::ether(pkt::BROADCAST, [4; 6], None, pkt::ETHERTYPE_ARP, &[0; 28]);
        assert_eq!(wire_cost(&arp, &Offload::NONE), 60 + 24);
    }

    #[test]
    fn rx_checksum_flags_map_to_data_valid_only_when_both_layers_pass() {
        let mk = |flags: u32, data: Vec<u8>| RxFrame {
            data,
            qid: 0,
            vtag: None,
            csum_flags: flags,
            csum_data: 0xffff,
            flowid: 0,
            rsstype: 0,
            nfrags: 1,
        };
        let all = CSUM_L3_CALC | CSUM_L3_VALID | CSUM_L4_CALC | CSUM_L4_VALID;
        assert_eq!(rx_csum_status(&mk(all, tcp4(10))), RxCsum::Valid);
        assert_eq!(
            rx_csum_status(&mk(CSUM_L3_CALC | CSUM_L3_VALID | CSUM_L4_CALC, tcp4(10))),
            RxCsum::Bad
        );
        assert_eq!(
            rx_csum_status(&mk(CSUM_L3_CALC | CSUM_L4_CALC | CSUM_L4_VALID, tcp4(10))),
            RxCsum::Bad
        );
        assert_eq!(
            rx_csum_status(&mk(CSUM_L3_CALC | CSUM_L3_VALID, tcp4(10))),
            RxCsum::Unchecked
        );
        // IPv6 has no header checksum: L4 valid is enough.
        assert_eq!(
            rx_csum_status(&mk(CSUM_L4_CALC | CSUM_L4_VALID, tcp6(10))),
            RxCsum::Valid
        );
    }

    #[test]
    fn vlan_tag_moves_from_the_frame_to_the_request() {
        let plain = tcp4(100);
        let tagged = pkt::insert_vlan(&plain, 0x2064); // PCP 1, VID 100
                                                       // Linux's csum_start counts the 4 tag bytes.
        let h = hdr(VNET_F_NEEDS_CSUM, VNET_GSO_NONE, 0, 38, 16);
        let (h2, f, tci) = untag(&h, &tagged).expect("tagged");
        assert_eq!((tci, h2.csum_start, h2.csum_offset), (0x2064, 34, 16));
        assert_eq!(f, plain);
        let mut c = TxCounts::default();
        assert_eq!(plan_tx(&h2, &f, &mut c), TxPlan::Offload(Offload::CSUM));
        assert_eq!(untag(&h, &plain), None);
    }

    #[test]
    fn vlan_config_lists_the_vids_of_one_parent() {
        // The format of net/8021q/vlanproc.c.
        let text = "VLAN Dev name\t | VLAN ID\nName-Type: VLAN_NAME_TYPE_RAW_PLUS_VID_NO_PAD\n\
                    ravf0.100      | 100  | ravf0\nravf0.7        | 7  | ravf0\nother.5        | 5  | eth0\n";
        assert_eq!(parse_vlan_config(text, "ravf0"), vec![7, 100]);
        assert_eq!(parse_vlan_config(text, "ravf1"), Vec::<u16>::new());
        assert_eq!(parse_vlan_config("", "ravf0"), Vec::<u16>::new());
    }

    #[test]
    fn dev_mcast_lists_the_groups_of_one_interface() {
        // The format of net/core/dev_addr_lists.c (dev_mc_seq_show).
        let text = "2    ravf0           1     0     333300000001\n\
                    2    ravf0           1     0     01005e000001\n\
                    2    ravf0           1     0     3333ff000001\n\
                    3    other           1     0     333300000001\n\
                    2    ravf0           1     0     zz\n";
        assert_eq!(
            parse_dev_mcast(text, "ravf0"),
            vec![
                [0x01, 0x00, 0x5e, 0, 0, 1],
                [0x33, 0x33, 0, 0, 0, 1],
                [0x33, 0x33, 0xff, 0, 0, 1]
            ]
        );
        assert!(parse_dev_mcast(text, "ravf1").is_empty());
    }

    #[test]
    fn flows_stay_on_one_queue() {
        let a = tcp4(10);
        let b = tcp4(500);
        assert_eq!(pick_queue(&a, 4), pick_queue(&b, 4));
        assert!(pick_queue(&a, 4) < 4);
        assert_eq!(pick_queue(&a, 1), 0);
    }
}
