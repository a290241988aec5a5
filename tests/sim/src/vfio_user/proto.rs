//! vfio-user wire format: the message header and the payloads this server handles.
//!
//! Source: QEMU `docs/interop/vfio-user.rst` (the protocol specification) and
//! `hw/vfio-user/protocol.h` (the client's definitions); region and IRQ indexes and
//! flag bits are those of `<linux/vfio.h>`, which the protocol reuses. All fields
//! are in host byte order; this server runs on x86-64 only, so little-endian.
//!
//! Parsing is by checked views over the received bytes: a payload too short for its
//! fixed part is an `EINVAL` reply, never a panic.

/// vfio-user.rst "Header": 16 bytes before every message.
pub const HDR_LEN: usize = 16;

// vfio-user.rst "Commands".
pub const CMD_VERSION: u16 = 1;
pub const CMD_DMA_MAP: u16 = 2;
pub const CMD_DMA_UNMAP: u16 = 3;
pub const CMD_DEVICE_GET_INFO: u16 = 4;
pub const CMD_DEVICE_GET_REGION_INFO: u16 = 5;
pub const CMD_DEVICE_GET_REGION_IO_FDS: u16 = 6;
pub const CMD_DEVICE_GET_IRQ_INFO: u16 = 7;
pub const CMD_DEVICE_SET_IRQS: u16 = 8;
pub const CMD_REGION_READ: u16 = 9;
pub const CMD_REGION_WRITE: u16 = 10;
pub const CMD_DEVICE_RESET: u16 = 13;

// vfio-user.rst "Header", Flags: bits 0-3 type, bit 4 no_reply, bit 5 error.
pub const FLAG_TYPE_MASK: u32 = 0xf;
pub const FLAG_TYPE_COMMAND: u32 = 0x0;
pub const FLAG_TYPE_REPLY: u32 = 0x1;
pub const FLAG_NO_REPLY: u32 = 0x10;
pub const FLAG_ERROR: u32 = 0x20;

// <linux/vfio.h>: VFIO_DEVICE_FLAGS_RESET (1 << 0), VFIO_DEVICE_FLAGS_PCI (1 << 1).
pub const DEVICE_FLAGS_RESET: u32 = 1 << 0;
pub const DEVICE_FLAGS_PCI: u32 = 1 << 1;

// <linux/vfio.h>: VFIO_PCI_BAR0_REGION_INDEX .. VFIO_PCI_NUM_REGIONS.
pub const REGION_BAR0: u32 = 0;
pub const REGION_BAR3: u32 = 3;
pub const REGION_CONFIG: u32 = 7;
pub const NUM_REGIONS: u32 = 9;

// <linux/vfio.h>: VFIO_REGION_INFO_FLAG_READ (1 << 0), _WRITE (1 << 1).
pub const REGION_INFO_FLAG_READ: u32 = 1 << 0;
pub const REGION_INFO_FLAG_WRITE: u32 = 1 << 1;

// <linux/vfio.h>: VFIO_PCI_INTX_IRQ_INDEX 0, MSI 1, MSIX 2, ERR 3, REQ 4, NUM 5.
pub const IRQ_INTX: u32 = 0;
pub const IRQ_MSI: u32 = 1;
pub const IRQ_MSIX: u32 = 2;
pub const IRQ_ERR: u32 = 3;
pub const IRQ_REQ: u32 = 4;
pub const NUM_IRQS: u32 = 5;

// <linux/vfio.h>: VFIO_IRQ_INFO_EVENTFD (1 << 0), _NORESIZE (1 << 3).
pub const IRQ_INFO_EVENTFD: u32 = 1 << 0;
pub const IRQ_INFO_NORESIZE: u32 = 1 << 3;

// <linux/vfio.h>: VFIO_IRQ_SET_DATA_NONE (1 << 0), _BOOL (1 << 1), _EVENTFD (1 << 2),
// VFIO_IRQ_SET_ACTION_MASK (1 << 3), _UNMASK (1 << 4), _TRIGGER (1 << 5).
pub const IRQ_SET_DATA_NONE: u32 = 1 << 0;
pub const IRQ_SET_DATA_BOOL: u32 = 1 << 1;
pub const IRQ_SET_DATA_EVENTFD: u32 = 1 << 2;
pub const IRQ_SET_ACTION_MASK: u32 = 1 << 3;
pub const IRQ_SET_ACTION_UNMASK: u32 = 1 << 4;
pub const IRQ_SET_ACTION_TRIGGER: u32 = 1 << 5;

// errno values placed in the header's Error field (Linux x86-64).
pub const EINVAL: u32 = 22;
pub const EEXIST: u32 = 17;
pub const ENOENT: u32 = 2;
pub const ENOTSUP: u32 = 95;
pub const E2BIG: u32 = 7;
pub const EFAULT: u32 = 14;

/// Largest data count of one REGION_READ/WRITE we accept; vfio-user.rst
/// "max_data_xfer_size" default (1 MiB), which we also advertise.
pub const MAX_DATA_XFER: usize = 1 << 20;
/// Largest message we accept: the data plus its fixed part and header.
pub const MAX_MSG: usize = MAX_DATA_XFER + 64;
/// File descriptors accepted per message (advertised as max_msg_fds). QEMU splits
/// SET_IRQS for more vectors than this into several messages (device.c).
pub const MAX_MSG_FDS: usize = 16;

/// vfio-user.rst "Header".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hdr {
    pub id: u16,
    pub command: u16,
    pub size: u32,
    pub flags: u32,
    pub error: u32,
}

impl Hdr {
    pub fn parse(b: &[u8; HDR_LEN]) -> Hdr {
        Hdr {
            id: u16::from_le_bytes([b[0], b[1]]),
            command: u16::from_le_bytes([b[2], b[3]]),
            size: le32(b, 4),
            flags: le32(b, 8),
            error: le32(b, 12),
        }
    }

    pub fn encode(&self) -> [u8; HDR_LEN] {
        let mut b = [0u8; HDR_LEN];
        b[0..2].copy_from_slice(&self.id.to_le_bytes());
        b[2..4].copy_from_slice(&self.command.to_le_bytes());
        b[4..8].copy_from_slice(&self.size.to_le_bytes());
        b[8..12].copy_from_slice(&self.flags.to_le_bytes());
        b[12..16].copy_from_slice(&self.error.to_le_bytes());
        b
    }
}

fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn le64(b: &[u8], at: usize) -> u64 {
    let mut x = [0u8; 8];
    x.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(x)
}

/// A checked little-endian reader over a payload: `u32(at)` fails instead of panicking
/// when the payload is short.
pub struct View<'a>(pub &'a [u8]);

impl View<'_> {
    pub fn u16(&self, at: usize) -> Result<u16, u32> {
        let s = self.0.get(at..at + 2).ok_or(EINVAL)?;
        Ok(u16::from_le_bytes([s[0], s[1]]))
    }
    pub fn u32(&self, at: usize) -> Result<u32, u32> {
        let s = self.0.get(at..at + 4).ok_or(EINVAL)?;
        Ok(le32(s, 0))
    }
    pub fn u64(&self, at: usize) -> Result<u64, u32> {
        let s = self.0.get(at..at + 8).ok_or(EINVAL)?;
        Ok(le64(s, 0))
    }
}

/// vfio-user.rst "VFIO_USER_DMA_MAP" request: argsz, flags, offset, address, size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DmaMap {
    pub flags: u32,
    pub offset: u64,
    pub address: u64,
    pub size: u64,
}

impl DmaMap {
    pub const LEN: usize = 32;
    pub fn parse(p: &[u8]) -> Result<DmaMap, u32> {
        let v = View(p);
        Ok(DmaMap {
            flags: v.u32(4)?,
            offset: v.u64(8)?,
            address: v.u64(16)?,
            size: v.u64(24)?,
        })
    }
}

/// vfio-user.rst "VFIO_USER_DMA_UNMAP" request: argsz, flags, address, size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DmaUnmap {
    pub argsz: u32,
    pub flags: u32,
    pub address: u64,
    pub size: u64,
}

impl DmaUnmap {
    pub const LEN: usize = 24;
    /// <linux/vfio.h>: VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP (1 << 0), _ALL (1 << 1).
    pub const FLAG_DIRTY_BITMAP: u32 = 1 << 0;
    pub const FLAG_ALL: u32 = 1 << 1;
    pub fn parse(p: &[u8]) -> Result<DmaUnmap, u32> {
        let v = View(p);
        Ok(DmaUnmap {
            argsz: v.u32(0)?,
            flags: v.u32(4)?,
            address: v.u64(8)?,
            size: v.u64(16)?,
        })
    }
}

/// vfio-user.rst "VFIO_USER_REGION_READ/WRITE": offset u64, region u32, count u32, data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RegionRw {
    pub offset: u64,
    pub region: u32,
    pub count: u32,
}

impl RegionRw {
    pub const LEN: usize = 16;
    pub fn parse(p: &[u8]) -> Result<RegionRw, u32> {
        let v = View(p);
        Ok(RegionRw {
            offset: v.u64(0)?,
            region: v.u32(8)?,
            count: v.u32(12)?,
        })
    }
    pub fn encode(&self) -> [u8; 16] {
        let mut b = [0u8; 16];
        b[0..8].copy_from_slice(&self.offset.to_le_bytes());
        b[8..12].copy_from_slice(&self.region.to_le_bytes());
        b[12..16].copy_from_slice(&self.count.to_le_bytes());
        b
    }
}

/// `struct vfio_irq_set` as vfio-user carries it: argsz, flags, index, start, count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IrqSet {
    pub argsz: u32,
    pub flags: u32,
    pub index: u32,
    pub start: u32,
    pub count: u32,
}

impl IrqSet {
    pub const LEN: usize = 20;
    pub fn parse(p: &[u8]) -> Result<IrqSet, u32> {
        let v = View(p);
        Ok(IrqSet {
            argsz: v.u32(0)?,
            flags: v.u32(4)?,
            index: v.u32(8)?,
            start: v.u32(12)?,
            count: v.u32(16)?,
        })
    }
}

/// `struct vfio_region_info` (32 bytes): argsz, flags, index, cap_offset, size, offset.
pub fn region_info(flags: u32, index: u32, size: u64) -> [u8; 32] {
    let mut b = [0u8; 32];
    b[0..4].copy_from_slice(&32u32.to_le_bytes());
    b[4..8].copy_from_slice(&flags.to_le_bytes());
    b[8..12].copy_from_slice(&index.to_le_bytes());
    // cap_offset 0: no capabilities; offset 0: nothing to mmap.
    b[16..24].copy_from_slice(&size.to_le_bytes());
    b
}

/// `struct vfio_irq_info` (16 bytes): argsz, flags, index, count.
pub fn irq_info(flags: u32, index: u32, count: u32) -> [u8; 16] {
    let mut b = [0u8; 16];
    b[0..4].copy_from_slice(&16u32.to_le_bytes());
    b[4..8].copy_from_slice(&flags.to_le_bytes());
    b[8..12].copy_from_slice(&index.to_le_bytes());
    b[12..16].copy_from_slice(&count.to_le_bytes());
    b
}

/// `struct vfio_device_info` (16 bytes): argsz, flags, num_regions, num_irqs.
pub fn device_info() -> [u8; 16] {
    let mut b = [0u8; 16];
    b[0..4].copy_from_slice(&16u32.to_le_bytes());
    b[4..8].copy_from_slice(&(DEVICE_FLAGS_PCI | DEVICE_FLAGS_RESET).to_le_bytes());
    b[8..12].copy_from_slice(&NUM_REGIONS.to_le_bytes());
    b[12..16].copy_from_slice(&NUM_IRQS.to_le_bytes());
    b
}

/// The VERSION reply payload: major 0 (the only major), minor 0 (vfio-user.rst: the
/// reply's minor may not exceed the proposed one; 0 never does, and nothing this
/// server uses came later), and our capabilities as a NUL-terminated JSON string. We advertise no
/// optional feature (no twin socket, no write_multiple, no migration): everything
/// the server says, it says in replies.
pub fn version_reply() -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(&0u16.to_le_bytes());
    b.extend_from_slice(&0u16.to_le_bytes());
    let caps = format!(
        "{{\"capabilities\":{{\"max_msg_fds\":{MAX_MSG_FDS},\"max_data_xfer_size\":{MAX_DATA_XFER},\"pgsizes\":4096}}}}"
    );
    b.extend_from_slice(caps.as_bytes());
    b.push(0);
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    // Fixtures written from vfio-user.rst's tables, byte by byte.

    #[test]
    fn header_layout() {
        // id 0x0102, command 10 (REGION_WRITE), size 0x24, flags no_reply, error 0
        let b: [u8; 16] = [0x02, 0x01, 10, 0, 0x24, 0, 0, 0, 0x10, 0, 0, 0, 0, 0, 0, 0];
        let h = Hdr::parse(&b);
        assert_eq!(
            h,
            Hdr {
                id: 0x0102,
                command: CMD_REGION_WRITE,
                size: 0x24,
                flags: FLAG_NO_REPLY,
                error: 0
            }
        );
        assert_eq!(h.encode(), b);
    }

    #[test]
    fn dma_map_layout() {
        let mut p = [0u8; 32];
        p[0] = 32; // argsz
        p[4] = 3; // read | write
        p[8..16].copy_from_slice(&0x1000u64.to_le_bytes()); // fd offset
        p[16..24].copy_from_slice(&0xc_0000u64.to_le_bytes()); // IOVA
        p[24..32].copy_from_slice(&0x2_0000u64.to_le_bytes()); // size
        let m = DmaMap::parse(&p).unwrap();
        assert_eq!(
            m,
            DmaMap {
                flags: 3,
                offset: 0x1000,
                address: 0xc_0000,
                size: 0x2_0000
            }
        );
        assert_eq!(DmaMap::parse(&p[..31]), Err(EINVAL));
    }

    #[test]
    fn dma_unmap_layout() {
        let mut p = [0u8; 24];
        p[0] = 24;
        p[4] = 2; // unmap all
        p[8..16].copy_from_slice(&0x4000u64.to_le_bytes());
        p[16..24].copy_from_slice(&0x1000u64.to_le_bytes());
        let u = DmaUnmap::parse(&p).unwrap();
        assert_eq!(
            u,
            DmaUnmap {
                argsz: 24,
                flags: DmaUnmap::FLAG_ALL,
                address: 0x4000,
                size: 0x1000
            }
        );
    }

    #[test]
    fn region_rw_layout() {
        let p: [u8; 20] = [
            0x00, 0x88, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0xaa, 0xbb, 0xcc, 0xdd,
        ];
        let rw = RegionRw::parse(&p).unwrap();
        assert_eq!(
            rw,
            RegionRw {
                offset: 0x8800,
                region: REGION_BAR0,
                count: 4
            }
        );
        assert_eq!(&rw.encode()[..], &p[..16]);
        assert_eq!(RegionRw::parse(&p[..15]), Err(EINVAL));
    }

    #[test]
    fn irq_set_layout() {
        // argsz 20 + 2 fds' worth, flags EVENTFD|TRIGGER, index MSIX, start 1, count 2
        let p: [u8; 20] = [
            28, 0, 0, 0, 0x24, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0,
        ];
        let s = IrqSet::parse(&p).unwrap();
        assert_eq!(s.flags, IRQ_SET_DATA_EVENTFD | IRQ_SET_ACTION_TRIGGER);
        assert_eq!((s.argsz, s.index, s.start, s.count), (28, IRQ_MSIX, 1, 2));
    }

    #[test]
    fn info_replies() {
        let r = region_info(
            REGION_INFO_FLAG_READ | REGION_INFO_FLAG_WRITE,
            REGION_BAR3,
            0x4000,
        );
        assert_eq!(&r[0..12], &[32, 0, 0, 0, 3, 0, 0, 0, 3, 0, 0, 0]);
        assert_eq!(&r[16..24], &[0, 0x40, 0, 0, 0, 0, 0, 0]);
        assert_eq!(
            device_info(),
            [16, 0, 0, 0, 3, 0, 0, 0, 9, 0, 0, 0, 5, 0, 0, 0]
        );
        assert_eq!(
            irq_info(IRQ_INFO_EVENTFD, IRQ_MSIX, 5),
            [16, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 5, 0, 0, 0]
        );
    }

    #[test]
    fn version_reply_is_nul_terminated_json() {
        let v = version_reply();
        assert_eq!(&v[0..4], &[0, 0, 0, 0]);
        assert_eq!(*v.last().unwrap(), 0);
        let s = std::str::from_utf8(&v[4..v.len() - 1]).unwrap();
        assert!(s.starts_with("{\"capabilities\":{") && s.contains("\"max_msg_fds\":16"));
    }
}
