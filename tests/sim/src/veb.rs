//! The PF's virtual Ethernet bridge (VEB): switches frames among the VF ports and one
//! uplink port by destination MAC and VLAN, with MAC anti-spoofing on VF transmit.
//!
//! Data-driven: the filters live with the emulated PF (ADD_ETH_ADDR, ADD_VLAN,
//! CONFIG_PROMISCUOUS_MODE, admin spoofchk) and are passed in as [`PortFilters`] per
//! call; the bridge itself only keeps counters.
//!
//! Rules (contract 5.5-5.7; the exact HW match rules are UNCONFIRMED there, these are the
//! contract's recommendations and standard bridge behaviour):
//! * TX anti-spoof: a frame from a VF port with `spoofchk` whose source MAC is not one of
//!   its unicast filters is dropped (counted; the PF counts it in `tx_discards`). With
//!   `vlan_spoofchk`, a tagged frame whose VLAN the port has no filter for is dropped too.
//! * VLAN: a port receives a frame tagged with VLAN v ≠ 0 only if it has a filter for v;
//!   untagged and priority-tagged (VID 0) frames are accepted by every port (VLAN 0 /
//!   untagged is always allowed, 5.6). The uplink accepts every VLAN. Promiscuous modes
//!   stay within these VLAN rules (i40e applies promisc per VLAN when VLAN filters exist, 5.7).
//! * Broadcast: every port but the source (uplink included).
//! * Multicast: VF ports with that multicast filter or multicast-promiscuous; out the
//!   uplink when it came from a VF.
//! * Unicast: the VF ports owning the MAC as a unicast filter; if none, out the uplink
//!   when it came from a VF, dropped (counted) when it came from the uplink.
//! * Unicast-promiscuous VF ports get a copy of every frame.
//! * Never back to the source port.

use crate::dp::wire::{self, Cast};

/// A switch port.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Port {
    /// The physical port / the rest of the network.
    Uplink,
    /// VF n.
    Vf(u16),
}

/// A VF port's filters, as the PF has programmed them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PortFilters {
    /// The VF this describes.
    pub vf: u16,
    /// Unicast MAC filters (the default MAC included).
    pub unicast: Vec<[u8; 6]>,
    /// Multicast MAC filters.
    pub multicast: Vec<[u8; 6]>,
    /// VLAN filters (VLAN ids 1..4095; 0 may be present and means nothing extra).
    pub vlans: Vec<u16>,
    pub unicast_promisc: bool,
    pub multicast_promisc: bool,
    /// MAC anti-spoof (on by default for every VF, 5.5).
    pub spoofchk: bool,
    /// VLAN anti-spoof (off unless the admin enabled it, 5.5).
    pub vlan_spoofchk: bool,
    /// Whether the port takes frames at all (e.g. the VF is not active); a port that is
    /// down is skipped as a destination.
    pub up: bool,
}

/// Why the bridge dropped a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VebDrop {
    /// Shorter than an Ethernet header.
    Runt,
    /// Source MAC not among the sending VF's unicast filters (spoofchk).
    SpoofedMac,
    /// Tagged with a VLAN the sending VF has no filter for (vlan_spoofchk).
    SpoofedVlan,
    /// Unicast from the uplink to a MAC no VF owns.
    UnknownUnicast,
    /// The source VF port is not in `ports`.
    UnknownSource,
}

/// Bridge counters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VebStats {
    pub forwarded: u64,
    /// Deliveries made (a flooded frame counts once per destination).
    pub copies: u64,
    pub drop_runt: u64,
    pub drop_spoofed_mac: u64,
    pub drop_spoofed_vlan: u64,
    pub drop_unknown_unicast: u64,
    pub drop_unknown_source: u64,
    /// Frames that were forwarded but reached no port.
    pub no_destination: u64,
}

/// The bridge.
#[derive(Clone, Debug, Default)]
pub struct Veb {
    pub stats: VebStats,
}

impl Veb {
    pub fn new() -> Self {
        Self::default()
    }

    /// Decide where `frame` (destination MAC first, no FCS) from `src` goes. Destination
    /// ports are appended to `out` (cleared first), in `ports` order with the uplink
    /// last. `ports` lists the VF ports (the uplink is implicit).
    pub fn forward(
        &mut self,
        src: Port,
        frame: &[u8],
        ports: &[PortFilters],
        out: &mut Vec<Port>,
    ) -> Result<(), VebDrop> {
        out.clear();
        let r = self.decide(src, frame, ports, out);
        match r {
            Ok(()) => {
                self.stats.forwarded += 1;
                self.stats.copies += out.len() as u64;
                if out.is_empty() {
                    self.stats.no_destination += 1;
                }
            }
            Err(d) => {
                out.clear();
                let s = &mut self.stats;
                match d {
                    VebDrop::Runt => s.drop_runt += 1,
                    VebDrop::SpoofedMac => s.drop_spoofed_mac += 1,
                    VebDrop::SpoofedVlan => s.drop_spoofed_vlan += 1,
                    VebDrop::UnknownUnicast => s.drop_unknown_unicast += 1,
                    VebDrop::UnknownSource => s.drop_unknown_source += 1,
                }
            }
        }
        r
    }

    fn decide(
        &self,
        src: Port,
        frame: &[u8],
        ports: &[PortFilters],
        out: &mut Vec<Port>,
    ) -> Result<(), VebDrop> {
        if frame.len() < wire::ETH_HLEN {
            return Err(VebDrop::Runt);
        }
        let dst: [u8; 6] = frame[0..6].try_into().unwrap_or_default();
        let smac: [u8; 6] = frame[6..12].try_into().unwrap_or_default();
        let vlan = frame_vlan(frame);
        if let Port::Vf(vf) = src {
            let sp = ports
                .iter()
                .find(|p| p.vf == vf)
                .ok_or(VebDrop::UnknownSource)?;
            if sp.spoofchk && !sp.unicast.contains(&smac) {
                return Err(VebDrop::SpoofedMac);
            }
            if sp.vlan_spoofchk && vlan.is_some_and(|v| !sp.vlans.contains(&v)) {
                return Err(VebDrop::SpoofedVlan);
            }
        }
        let cast = wire::cast_of(&dst);
        let from_vf = src != Port::Uplink;
        // For unicast: whether another port owns the MAC (whatever its state or VLANs)
        // and whether the source owns it; one filter scan per port.
        let (mut owned, mut to_self) = (false, false);
        for p in ports {
            let owns = cast == Cast::Unicast && p.unicast.contains(&dst);
            if Port::Vf(p.vf) == src {
                to_self |= owns;
                continue;
            }
            owned |= owns;
            if !p.up {
                continue;
            }
            if let Some(v) = vlan {
                if !p.vlans.contains(&v) {
                    continue;
                }
            }
            let take = p.unicast_promisc
                || match cast {
                    Cast::Broadcast => true,
                    Cast::Multicast => p.multicast_promisc || p.multicast.contains(&dst),
                    Cast::Unicast => owns,
                };
            if take {
                out.push(Port::Vf(p.vf));
            }
        }
        match cast {
            Cast::Broadcast | Cast::Multicast if from_vf => out.push(Port::Uplink),
            Cast::Unicast if !owned && !to_self => {
                if from_vf {
                    out.push(Port::Uplink);
                } else {
                    // Uplink unicast nobody owns: promiscuous ports may still have
                    // taken a copy; count the drop only if nobody did.
                    if out.is_empty() {
                        return Err(VebDrop::UnknownUnicast);
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }
}

/// The VLAN id of a frame's outer 802.1Q tag; None for untagged and priority-tagged
/// (VID 0) frames.
pub fn frame_vlan(frame: &[u8]) -> Option<u16> {
    if wire::be16(frame, 12)? != wire::ETHERTYPE_VLAN {
        return None;
    }
    let vid = wire::be16(frame, 14)? & 0x0FFF;
    (vid != 0).then_some(vid)
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: [u8; 6] = [0x02, 0, 0, 0, 0, 0xA];
    const B: [u8; 6] = [0x02, 0, 0, 0, 0, 0xB];
    const C: [u8; 6] = [0x02, 0, 0, 0, 0, 0xC];
    const EXT: [u8; 6] = [0x00, 0x1b, 0x21, 0, 0, 1];
    const MC: [u8; 6] = [0x01, 0x00, 0x5e, 0x00, 0x00, 0x01];
    const BC: [u8; 6] = [0xff; 6];

    fn port(vf: u16, mac: [u8; 6]) -> PortFilters {
        PortFilters {
            vf,
            unicast: vec![mac],
            spoofchk: true,
            up: true,
            ..Default::default()
        }
    }

    fn frame(dst: [u8; 6], src: [u8; 6], vlan: Option<u16>) -> Vec<u8> {
        let mut f = dst.to_vec();
        f.extend_from_slice(&src);
        if let Some(v) = vlan {
            f.extend_from_slice(&[0x81, 0x00]);
            f.extend_from_slice(&v.to_be_bytes());
        }
        f.extend_from_slice(&[0x08, 0x00]);
        f.resize(64, 0);
        f
    }

    fn fwd(
        veb: &mut Veb,
        src: Port,
        f: &[u8],
        ports: &[PortFilters],
    ) -> Result<Vec<Port>, VebDrop> {
        let mut out = vec![Port::Vf(99)]; // must be cleared
        veb.forward(src, f, ports, &mut out).map(|()| out)
    }

    #[test]
    fn unicast_between_vfs_and_to_uplink() {
        let ports = [port(0, A), port(1, B), port(2, C)];
        let mut veb = Veb::new();
        assert_eq!(
            fwd(&mut veb, Port::Vf(0), &frame(B, A, None), &ports),
            Ok(vec![Port::Vf(1)])
        );
        assert_eq!(
            fwd(&mut veb, Port::Vf(0), &frame(EXT, A, None), &ports),
            Ok(vec![Port::Uplink])
        );
        assert_eq!(
            fwd(&mut veb, Port::Uplink, &frame(C, EXT, None), &ports),
            Ok(vec![Port::Vf(2)])
        );
        assert_eq!(
            fwd(&mut veb, Port::Uplink, &frame(EXT, EXT, None), &ports),
            Err(VebDrop::UnknownUnicast)
        );
        assert_eq!(veb.stats.drop_unknown_unicast, 1);
        // To itself: never back to the source, and not out the uplink either.
        assert_eq!(
            fwd(&mut veb, Port::Vf(0), &frame(A, A, None), &ports),
            Ok(vec![])
        );
        // A port that is down is skipped.
        let mut down = ports.clone();
        down[1].up = false;
        assert_eq!(
            fwd(&mut veb, Port::Vf(0), &frame(B, A, None), &down),
            Ok(vec![])
        );
    }

    #[test]
    fn broadcast_and_multicast() {
        let mut ports = vec![port(0, A), port(1, B), port(2, C)];
        ports[1].multicast.push(MC);
        let mut veb = Veb::new();
        assert_eq!(
            fwd(&mut veb, Port::Vf(1), &frame(BC, B, None), &ports),
            Ok(vec![Port::Vf(0), Port::Vf(2), Port::Uplink])
        );
        assert_eq!(
            fwd(&mut veb, Port::Uplink, &frame(BC, EXT, None), &ports),
            Ok(vec![Port::Vf(0), Port::Vf(1), Port::Vf(2)])
        );
        assert_eq!(
            fwd(&mut veb, Port::Vf(0), &frame(MC, A, None), &ports),
            Ok(vec![Port::Vf(1), Port::Uplink])
        );
        assert_eq!(
            fwd(&mut veb, Port::Uplink, &frame(MC, EXT, None), &ports),
            Ok(vec![Port::Vf(1)])
        );
        ports[2].multicast_promisc = true;
        assert_eq!(
            fwd(&mut veb, Port::Uplink, &frame(MC, EXT, None), &ports),
            Ok(vec![Port::Vf(1), Port::Vf(2)])
        );
        // Multicast promiscuous does not take unicast for others.
        assert_eq!(
            fwd(&mut veb, Port::Uplink, &frame(A, EXT, None), &ports),
            Ok(vec![Port::Vf(0)])
        );
    }

    #[test]
    fn unicast_promiscuous_gets_everything() {
        let mut ports = vec![port(0, A), port(1, B), port(2, C)];
        ports[2].unicast_promisc = true;
        let mut veb = Veb::new();
        assert_eq!(
            fwd(&mut veb, Port::Vf(0), &frame(B, A, None), &ports),
            Ok(vec![Port::Vf(1), Port::Vf(2)])
        );
        assert_eq!(
            fwd(&mut veb, Port::Vf(0), &frame(EXT, A, None), &ports),
            Ok(vec![Port::Vf(2), Port::Uplink])
        );
        assert_eq!(
            fwd(&mut veb, Port::Uplink, &frame(EXT, EXT, None), &ports),
            Ok(vec![Port::Vf(2)])
        );
        assert_eq!(
            fwd(&mut veb, Port::Uplink, &frame(MC, EXT, None), &ports),
            Ok(vec![Port::Vf(2)])
        );
    }

    #[test]
    fn vlan_filtering() {
        let mut ports = vec![port(0, A), port(1, B), port(2, C)];
        ports[1].vlans = vec![100];
        let mut veb = Veb::new();
        // Tagged 100 to B: B has the filter.
        assert_eq!(
            fwd(&mut veb, Port::Vf(0), &frame(B, A, Some(100)), &ports),
            Ok(vec![Port::Vf(1)])
        );
        // Tagged 200 to B: no filter, so not delivered (and not flooded out: B owns the MAC).
        assert_eq!(
            fwd(&mut veb, Port::Vf(0), &frame(B, A, Some(200)), &ports),
            Ok(vec![])
        );
        // Untagged and priority-tagged (VID 0, PCP 5) reach every port.
        assert_eq!(
            fwd(&mut veb, Port::Vf(0), &frame(B, A, None), &ports),
            Ok(vec![Port::Vf(1)])
        );
        assert_eq!(
            fwd(&mut veb, Port::Vf(0), &frame(B, A, Some(0xA000)), &ports),
            Ok(vec![Port::Vf(1)])
        );
        // Tagged broadcast: only ports with that VLAN, plus the uplink.
        assert_eq!(
            fwd(&mut veb, Port::Vf(0), &frame(BC, A, Some(100)), &ports),
            Ok(vec![Port::Vf(1), Port::Uplink])
        );
        // A VF with no VLAN filters gets untagged only.
        let before = veb.stats.no_destination;
        assert_eq!(
            fwd(&mut veb, Port::Uplink, &frame(C, EXT, Some(100)), &ports),
            Ok(vec![])
        );
        assert_eq!(veb.stats.no_destination, before + 1);
    }

    #[test]
    fn anti_spoof() {
        let mut ports = vec![port(0, A), port(1, B)];
        let mut veb = Veb::new();
        assert_eq!(
            fwd(&mut veb, Port::Vf(0), &frame(B, C, None), &ports),
            Err(VebDrop::SpoofedMac)
        );
        assert_eq!(veb.stats.drop_spoofed_mac, 1);
        ports[0].spoofchk = false;
        assert_eq!(
            fwd(&mut veb, Port::Vf(0), &frame(B, C, None), &ports),
            Ok(vec![Port::Vf(1)])
        );
        // The uplink is never spoof-checked.
        assert!(fwd(&mut veb, Port::Uplink, &frame(A, C, None), &ports).is_ok());
        // VLAN anti-spoof.
        ports[0].vlan_spoofchk = true;
        ports[0].vlans = vec![7];
        ports[1].vlans = vec![7, 8];
        assert_eq!(
            fwd(&mut veb, Port::Vf(0), &frame(B, A, Some(8)), &ports),
            Err(VebDrop::SpoofedVlan)
        );
        assert_eq!(
            fwd(&mut veb, Port::Vf(0), &frame(B, A, Some(7)), &ports),
            Ok(vec![Port::Vf(1)])
        );
        // Unknown source port and runts.
        assert_eq!(
            fwd(&mut veb, Port::Vf(5), &frame(B, A, None), &ports),
            Err(VebDrop::UnknownSource)
        );
        assert_eq!(
            fwd(&mut veb, Port::Vf(0), &[0; 10], &ports),
            Err(VebDrop::Runt)
        );
    }
}
