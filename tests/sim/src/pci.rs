//! PCI configuration space of one VF, and its MSI-X table (BAR3).
//!
//! Identity and layout from contract section 1 (LSPCI capture of a real 8086:154c VF;
//! FreeBSD `iavf_update_msix_devinfo` hard-codes the MSI-X capability at 0x70):
//! 8086:154C rev 02, class 02/00/00, subsystem 8086:0000; BAR0 64-bit prefetchable
//! 64 KiB (CSRs), BAR3 64-bit prefetchable 16 KiB (MSI-X); capabilities MSI-X at 0x70
//! (table BIR 3 offset 0, PBA BIR 3 offset 0x2000 -- inferred from the VFMSIX_*
//! offsets of i40e_register.h, UNCONFIRMED in the contract), PCI Express endpoint at
//! 0xA0; extended capability AER at 0x100 (the capture also lists TPH at 0x1a0 and
//! ACS at 0x1d0, not emulated: the AER header ends the list).
//!
//! Registers not described here read as zero and ignore writes, as reserved PCI
//! configuration space does.

pub const VENDOR_INTEL: u16 = 0x8086;
/// iavf_devids.h: IAVF_DEV_ID_VF 0x154C ("Ethernet Virtual Function 700 Series").
pub const DEVICE_VF: u16 = 0x154C;
pub const REVISION: u8 = 0x02;
pub const CLASS_ETHERNET: u32 = 0x02_00_00;
pub const SUBSYS_VENDOR: u16 = 0x8086;
pub const SUBSYS_ID: u16 = 0x0000;

pub const CFG_SIZE: usize = 4096;
pub const CAP_MSIX: u16 = 0x70;
pub const CAP_PCIE: u16 = 0xA0;
pub const EXT_CAP_AER: u16 = 0x100;
/// PCIe Device Control (capability + 8), bit 15 = Initiate Function Level Reset.
pub const PCIE_DEVCTL: u16 = CAP_PCIE + 8;
pub const DEVCTL_BCR_FLR: u16 = 1 << 15;

pub const MSIX_CTRL_ENABLE: u16 = 1 << 15;
pub const MSIX_CTRL_FMASK: u16 = 1 << 14;
/// MSI-X table and PBA inside BAR3 (i40e_register.h I40E_VFMSIX_TADD(i) 0x0+16i,
/// TUADD 0x4+16i, TMSG 0x8+16i, TVCTRL 0xC+16i (bit 0 MASK), I40E_VFMSIX_PBA 0x2000).
pub const MSIX_TABLE_OFF: u64 = 0x0000;
pub const MSIX_PBA_OFF: u64 = 0x2000;
/// The hardware has entries for vector 0 plus 16 queue vectors.
pub const MSIX_MAX_VECTORS: u16 = 17;

const BAR0_SIZE: u32 = 0x1_0000;
const BAR3_SIZE: u32 = 0x4000;
/// Memory BAR, 64-bit (type 10b in bits 2:1), prefetchable (bit 3).
const BAR_FLAGS_64_PREF: u32 = 0x4 | 0x8;

/// Result of a config write the device must act on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CfgAction {
    None,
    /// The driver set Initiate FLR in the PCIe Device Control register.
    Flr,
}

/// Config space bytes plus a per-bit write mask.
pub struct PciConfig {
    bytes: [u8; CFG_SIZE],
    wmask: [u8; CFG_SIZE],
    vectors: u16,
}

impl PciConfig {
    /// Config space of a VF whose MSI-X table has `vectors` entries (1..=17).
    pub fn new(vectors: u16) -> PciConfig {
        let vectors = vectors.clamp(1, MSIX_MAX_VECTORS);
        let mut c = PciConfig {
            bytes: [0; CFG_SIZE],
            wmask: [0; CFG_SIZE],
            vectors,
        };
        c.init();
        c
    }

    fn put16(&mut self, off: usize, v: u16) {
        self.bytes[off..off + 2].copy_from_slice(&v.to_le_bytes());
    }
    fn put32(&mut self, off: usize, v: u32) {
        self.bytes[off..off + 4].copy_from_slice(&v.to_le_bytes());
    }
    fn mask32(&mut self, off: usize, m: u32) {
        self.wmask[off..off + 4].copy_from_slice(&m.to_le_bytes());
    }
    fn mask16(&mut self, off: usize, m: u16) {
        self.wmask[off..off + 2].copy_from_slice(&m.to_le_bytes());
    }

    fn init(&mut self) {
        self.bytes = [0; CFG_SIZE];
        self.wmask = [0; CFG_SIZE];
        self.put16(0x00, VENDOR_INTEL);
        self.put16(0x02, DEVICE_VF);
        // Command: memory space, bus master, parity, SERR, INTx disable are writable.
        self.mask16(0x04, 0x0002 | 0x0004 | 0x0040 | 0x0100 | 0x0400);
        // Status: capabilities list present.
        self.put16(0x06, 0x0010);
        self.bytes[0x08] = REVISION;
        self.bytes[0x09] = (CLASS_ETHERNET & 0xFF) as u8;
        self.bytes[0x0A] = ((CLASS_ETHERNET >> 8) & 0xFF) as u8;
        self.bytes[0x0B] = ((CLASS_ETHERNET >> 16) & 0xFF) as u8;
        self.wmask[0x0C] = 0xFF; // cache line size
                                 // BAR0 (0x10 low, 0x14 high) and BAR3 (0x1C low, 0x20 high).
        self.put32(0x10, BAR_FLAGS_64_PREF);
        self.mask32(0x10, !(BAR0_SIZE - 1));
        self.mask32(0x14, 0xFFFF_FFFF);
        self.put32(0x1C, BAR_FLAGS_64_PREF);
        self.mask32(0x1C, !(BAR3_SIZE - 1));
        self.mask32(0x20, 0xFFFF_FFFF);
        self.put16(0x2C, SUBSYS_VENDOR);
        self.put16(0x2E, SUBSYS_ID);
        self.bytes[0x34] = CAP_MSIX as u8;
        self.wmask[0x3C] = 0xFF; // interrupt line
                                 // MSI-X capability: ID 0x11, next = PCIe; control = table size - 1 (RO),
                                 // function mask and enable writable; table BIR 3 offset 0; PBA BIR 3 offset 0x2000.
        let m = CAP_MSIX as usize;
        self.bytes[m] = 0x11;
        self.bytes[m + 1] = CAP_PCIE as u8;
        self.put16(m + 2, self.vectors - 1);
        self.mask16(m + 2, MSIX_CTRL_ENABLE | MSIX_CTRL_FMASK);
        self.put32(m + 4, MSIX_TABLE_OFF as u32 | 3);
        self.put32(m + 8, MSIX_PBA_OFF as u32 | 3);
        // PCI Express capability v2, endpoint; last in the list.
        let p = CAP_PCIE as usize;
        self.bytes[p] = 0x10;
        self.bytes[p + 1] = 0x00;
        self.put16(p + 2, 0x0002);
        // Device Capabilities: max payload 512 (2), extended tag (bit 5), role-based
        // error reporting (bit 15), FLR capable (bit 28).
        self.put32(p + 4, 0x0000_0002 | 1 << 5 | 1 << 15 | 1 << 28);
        // Device Control: error reporting enables, relaxed ordering, payload/read
        // request sizes, no-snoop are writable; bit 15 (FLR) is write-only (reads 0).
        self.mask16(p + 8, 0x7FFF);
        self.put16(p + 8, 0x2810); // MRRS 512, relaxed ordering, no-snoop
                                   // Device Control 2 (p + 0x28) writable low bits (completion timeout etc.).
        self.mask16(p + 0x28, 0x001F);
        // AER extended capability header: ID 0x0001, version 2, next 0.
        self.put32(EXT_CAP_AER as usize, 0x0001 | 2 << 16);
        // AER masks and severities (offsets 0x08, 0x0C, 0x14, 0x18) are writable storage.
        for o in [0x08usize, 0x0C, 0x14, 0x18] {
            self.mask32(EXT_CAP_AER as usize + o, 0xFFFF_FFFF);
        }
    }

    /// Reset to power-on values (FLR resets the function's config state too).
    pub fn reset(&mut self) {
        self.init();
    }

    /// Whether `(off, width)` is a legal config access: width 1, 2 or 4, naturally
    /// aligned, inside the 4 KiB space.
    pub fn access_ok(off: u16, width: u8) -> bool {
        matches!(width, 1 | 2 | 4)
            && (off as usize) + (width as usize) <= CFG_SIZE
            && off % width as u16 == 0
    }

    pub fn read(&self, off: u16, width: u8) -> u32 {
        if !Self::access_ok(off, width) {
            return 0xFFFF_FFFF;
        }
        let o = off as usize;
        let mut v = 0u32;
        for i in 0..width as usize {
            v |= (self.bytes[o + i] as u32) << (8 * i);
        }
        v
    }

    pub fn write(&mut self, off: u16, width: u8, val: u32) -> CfgAction {
        if !Self::access_ok(off, width) {
            return CfgAction::None;
        }
        let o = off as usize;
        let mut action = CfgAction::None;
        for i in 0..width as usize {
            let b = (val >> (8 * i)) as u8;
            let m = self.wmask[o + i];
            self.bytes[o + i] = (self.bytes[o + i] & !m) | (b & m);
            if o + i == PCIE_DEVCTL as usize + 1 && b & 0x80 != 0 {
                action = CfgAction::Flr;
            }
        }
        action
    }

    pub fn msix_enabled(&self) -> bool {
        self.read(CAP_MSIX + 2, 2) as u16 & MSIX_CTRL_ENABLE != 0
    }

    pub fn msix_function_masked(&self) -> bool {
        self.read(CAP_MSIX + 2, 2) as u16 & MSIX_CTRL_FMASK != 0
    }

    pub fn bus_master(&self) -> bool {
        self.read(0x04, 2) & 0x4 != 0
    }

    pub fn vectors(&self) -> u16 {
        self.vectors
    }
}

/// The MSI-X table (VFMSIX_TADD/TUADD/TMSG/TVCTRL per 16-byte entry).
pub struct MsixTable {
    entries: Vec<[u32; 4]>,
}

impl MsixTable {
    pub fn new(vectors: u16) -> MsixTable {
        let mut t = MsixTable {
            entries: vec![[0; 4]; vectors.clamp(1, MSIX_MAX_VECTORS) as usize],
        };
        t.reset();
        t
    }

    /// PCI: every entry comes out of reset masked, with address and data zero.
    pub fn reset(&mut self) {
        for e in self.entries.iter_mut() {
            *e = [0, 0, 0, 1];
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Entry `v` is masked (TVCTRL bit 0); vectors beyond the table count as masked.
    pub fn masked(&self, v: usize) -> bool {
        self.entries.get(v).map(|e| e[3] & 1 != 0).unwrap_or(true)
    }

    /// (address, data) programmed in entry `v`.
    pub fn message(&self, v: usize) -> Option<(u64, u32)> {
        self.entries
            .get(v)
            .map(|e| ((e[1] as u64) << 32 | e[0] as u64, e[2]))
    }

    /// Read a table dword at `off` (relative to the table start); None if the offset
    /// is past the table.
    pub fn read(&self, off: u64) -> Option<u32> {
        let (i, f) = ((off / 16) as usize, ((off % 16) / 4) as usize);
        self.entries.get(i).map(|e| e[f])
    }

    /// Write a table dword. TADD bits 1:0 are reserved zero; TVCTRL keeps only MASK.
    pub fn write(&mut self, off: u64, val: u32) -> bool {
        let (i, f) = ((off / 16) as usize, ((off % 16) / 4) as usize);
        let Some(e) = self.entries.get_mut(i) else {
            return false;
        };
        e[f] = match f {
            0 => val & !3,
            3 => val & 1,
            _ => val,
        };
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_bytes() {
        let c = PciConfig::new(5);
        assert_eq!(c.read(0x00, 4), 0x154C_8086);
        assert_eq!(c.read(0x08, 4), 0x0200_0002, "class 020000, rev 2");
        assert_eq!(c.read(0x2C, 4), 0x0000_8086);
        assert_eq!(c.read(0x34, 1), 0x70);
        assert_eq!(c.read(0x06, 2) & 0x10, 0x10);
    }

    #[test]
    fn bar_sizing_by_all_ones() {
        let mut c = PciConfig::new(5);
        assert_eq!(
            c.read(0x10, 4),
            0x0000_000C,
            "64-bit prefetchable memory BAR"
        );
        c.write(0x10, 4, 0xFFFF_FFFF);
        c.write(0x14, 4, 0xFFFF_FFFF);
        assert_eq!(c.read(0x10, 4), 0xFFFF_000C, "64 KiB");
        assert_eq!(c.read(0x14, 4), 0xFFFF_FFFF);
        c.write(0x1C, 4, 0xFFFF_FFFF);
        assert_eq!(c.read(0x1C, 4), 0xFFFF_C00C, "16 KiB");
        c.write(0x18, 4, 0xFFFF_FFFF);
        assert_eq!(
            c.read(0x18, 4),
            0,
            "BAR2 is the upper half of nothing: unimplemented"
        );
        c.write(0x10, 4, 0xFEDC_0000);
        assert_eq!(c.read(0x10, 4), 0xFEDC_000C);
        c.write(0x24, 4, 0xFFFF_FFFF);
        assert_eq!(c.read(0x24, 4), 0, "BAR5 unimplemented");
    }

    #[test]
    fn capability_chain() {
        let c = PciConfig::new(5);
        assert_eq!(c.read(0x70, 2), 0xA011, "MSI-X, next 0xA0");
        assert_eq!(c.read(0x72, 2), 4, "table size 5 encoded as 4");
        assert_eq!(c.read(0x74, 4), 0x0000_0003, "table BIR 3 offset 0");
        assert_eq!(c.read(0x78, 4), 0x0000_2003, "PBA BIR 3 offset 0x2000");
        assert_eq!(c.read(0xA0, 2), 0x0010, "PCIe, end of list");
        assert_eq!(c.read(0xA2, 2) & 0xF0, 0, "endpoint");
        assert_ne!(c.read(0xA4, 4) & (1 << 28), 0, "FLR capable");
        assert_eq!(c.read(0x100, 4), 0x0002_0001, "AER v2, next 0");
    }

    #[test]
    fn msix_control_and_flr_trigger() {
        let mut c = PciConfig::new(5);
        assert!(!c.msix_enabled());
        c.write(0x72, 2, 0xFFFF);
        assert!(c.msix_enabled() && c.msix_function_masked());
        assert_eq!(c.read(0x72, 2), 0xC004, "table size is read-only");
        c.write(0x72, 2, 0x8000);
        assert!(c.msix_enabled() && !c.msix_function_masked());
        assert_eq!(c.write(0xA8, 2, 0x8000 | 0x2810), CfgAction::Flr);
        assert_eq!(c.read(0xA8, 2) & 0x8000, 0, "FLR bit reads 0");
        assert_eq!(c.write(0xA8, 4, 0x2810), CfgAction::None);
        assert_eq!(c.write(0xA9, 1, 0x80), CfgAction::Flr);
    }

    #[test]
    fn msix_table_entries() {
        let mut t = MsixTable::new(5);
        assert!(t.masked(0) && t.masked(4) && t.masked(5));
        assert!(t.write(0x10, 0xFEE0_0003));
        assert_eq!(t.read(0x10), Some(0xFEE0_0000), "TADD low bits reserved");
        t.write(0x14, 0x1);
        t.write(0x18, 0x4021);
        t.write(0x1C, 0);
        assert!(!t.masked(1));
        assert_eq!(t.message(1), Some((0x1_FEE0_0000, 0x4021)));
        assert!(!t.write(0x50, 0), "entry 5 does not exist with 5 vectors");
        assert_eq!(t.read(0x50), None);
    }
}
