//! A Linux TAP device as the PF's uplink port: frames the emulated VEB sends to the
//! uplink are written to it, and frames the host stack sends into it are injected
//! into the VEB. Opened on /dev/net/tun with IFF_TAP | IFF_NO_PI (no packet-info
//! prefix: each read/write is one Ethernet frame).

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;

// <linux/if_tun.h>: TUNSETIFF _IOW('T', 202, int); IFF_TAP 0x0002, IFF_NO_PI 0x1000.
const TUNSETIFF: libc::c_ulong = 0x4004_54ca;
const IFF_TAP: libc::c_short = 0x0002;
const IFF_NO_PI: libc::c_short = 0x1000;

pub struct Tap {
    file: File,
    pub name: String,
}

#[repr(C)]
struct IfReq {
    name: [u8; libc::IFNAMSIZ],
    flags: libc::c_short,
    _pad: [u8; 22],
}

impl Tap {
    /// Attach to (or create) TAP interface `name`, non-blocking.
    pub fn open(name: &str) -> io::Result<Tap> {
        if name.is_empty() || name.len() >= libc::IFNAMSIZ {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "bad interface name",
            ));
        }
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_NONBLOCK)
            .open("/dev/net/tun")?;
        let mut req = IfReq {
            name: [0; libc::IFNAMSIZ],
            flags: IFF_TAP | IFF_NO_PI,
            _pad: [0; 22],
        };
        req.name[..name.len()].copy_from_slice(name.as_bytes());
        // SAFETY: TUNSETIFF reads and writes a struct ifreq, which IfReq mirrors
        // (16-byte name, then the flags union member, padded to 40 bytes).
        let r = unsafe { libc::ioctl(file.as_raw_fd(), TUNSETIFF, &mut req as *mut IfReq) };
        if r < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(Tap {
            file,
            name: name.to_string(),
        })
    }

    pub fn fd(&self) -> i32 {
        self.file.as_raw_fd()
    }

    /// One frame from the host, or None if none is waiting.
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<Option<usize>> {
        match (&self.file).read(buf) {
            Ok(n) => Ok(Some(n)),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Send one frame to the host. A full queue drops the frame, as a wire would.
    pub fn send(&self, frame: &[u8]) -> io::Result<()> {
        match (&self.file).write(frame) {
            Ok(_) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(()),
            Err(e) => Err(e),
        }
    }
}

/// IEEE 802.1Q: TPID 0x8100 at offset 12, then the TCI (PCP 3 bits, DEI 1, VID 12).
const TPID_8021Q: u16 = 0x8100;

/// The PF's uplink as the host sees it: a trunk TAP carrying untagged frames and any
/// VLAN without its own port, plus optional access TAPs, one per VLAN, carrying that
/// VLAN's frames untagged — as an external 802.1Q switch would present them. The
/// access ports let the test reach a VLAN on the host side without VLAN support in
/// the host kernel.
pub struct Uplink {
    pub trunk: Option<Tap>,
    pub access: Vec<(u16, Tap)>,
}

impl Uplink {
    pub fn none() -> Uplink {
        Uplink {
            trunk: None,
            access: Vec::new(),
        }
    }

    /// Every TAP with the VLAN it carries untagged (None: the trunk).
    pub fn ports(&self) -> impl Iterator<Item = (Option<u16>, &Tap)> {
        self.trunk
            .iter()
            .map(|t| (None, t))
            .chain(self.access.iter().map(|(v, t)| (Some(*v), t)))
    }

    /// A frame the PF sends out of its uplink port.
    pub fn send(&self, frame: &[u8]) -> io::Result<()> {
        if let Some(vid) = frame_vid(frame) {
            if let Some((_, tap)) = self.access.iter().find(|(v, _)| *v == vid) {
                return tap.send(&untag(frame));
            }
        }
        match &self.trunk {
            Some(t) => t.send(frame),
            None => Ok(()),
        }
    }
}

/// The VID of an 802.1Q-tagged frame.
pub fn frame_vid(frame: &[u8]) -> Option<u16> {
    let tpid = u16::from_be_bytes([*frame.get(12)?, *frame.get(13)?]);
    let tci = u16::from_be_bytes([*frame.get(14)?, *frame.get(15)?]);
    (tpid == TPID_8021Q).then_some(tci & 0x0fff)
}

/// Remove the 4-byte tag after the MAC addresses.
pub fn untag(frame: &[u8]) -> Vec<u8> {
    let mut f = Vec::with_capacity(frame.len().saturating_sub(4));
    f.extend_from_slice(&frame[..12]);
    f.extend_from_slice(frame.get(16..).unwrap_or(&[]));
    f
}

/// Insert a tag (PCP 0) for `vid` after the MAC addresses. None if the frame is
/// shorter than its two addresses.
pub fn tag(frame: &[u8], vid: u16) -> Option<Vec<u8>> {
    if frame.len() < 12 {
        return None;
    }
    let mut f = Vec::with_capacity(frame.len() + 4);
    f.extend_from_slice(&frame[..12]);
    f.extend_from_slice(&TPID_8021Q.to_be_bytes());
    f.extend_from_slice(&(vid & 0x0fff).to_be_bytes());
    f.extend_from_slice(&frame[12..]);
    Some(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vlan_tag_round_trip() {
        // dst ff.., src 02:00:00:00:00:10, 802.1Q VID 100 (0x064), then ARP.
        let tagged: Vec<u8> = [
            &[0xff; 6][..],
            &[0x02, 0, 0, 0, 0, 0x10],
            &[0x81, 0x00, 0x00, 0x64],
            &[0x08, 0x06, 0xaa],
        ]
        .concat();
        assert_eq!(frame_vid(&tagged), Some(100));
        let plain = untag(&tagged);
        assert_eq!(&plain[12..], &[0x08, 0x06, 0xaa]);
        assert_eq!(frame_vid(&plain), None);
        assert_eq!(tag(&plain, 100).unwrap(), tagged);
        assert_eq!(tag(&plain[..11], 100), None);
        assert_eq!(frame_vid(&tagged[..15]), None);
    }
}
