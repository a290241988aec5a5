//! One vfio-user connection: read a request, act on the device, reply.
//!
//! The server only ever replies (no server-to-client commands: DMA goes through the
//! shared maps, interrupts through eventfds), so one thread per socket owns the
//! stream. Every request is read whole before it is handled; a request the server
//! rejects gets an error reply and the stream stays in step.

use std::io;
use std::os::unix::net::UnixStream;
use std::sync::Arc;

use super::dma::VfioMemory;
use super::irq::IrqLines;
use super::proto::*;
use super::sock::{self, Msg};
use super::{log, VfDevice};

/// Region sizes the VF presents (issue 2, "PCI function"): 4 KiB PCIe config space,
/// BAR0 64 KiB (the VF register space), BAR3 16 KiB (MSI-X table and PBA).
pub const CONFIG_SIZE: u64 = 4096;
pub const BAR0_SIZE: u64 = 64 * 1024;
pub const BAR3_SIZE: u64 = 16 * 1024;

fn region_size(index: u32) -> u64 {
    match index {
        REGION_CONFIG => CONFIG_SIZE,
        REGION_BAR0 => BAR0_SIZE,
        REGION_BAR3 => BAR3_SIZE,
        _ => 0,
    }
}

/// Per-connection state.
pub struct Conn<'a> {
    dev: &'a dyn VfDevice,
    irqs: &'a IrqLines,
    mem: Arc<VfioMemory>,
    name: String,
    versioned: bool,
}

type Reply = Result<Vec<u8>, u32>;

impl<'a> Conn<'a> {
    pub fn new(dev: &'a dyn VfDevice, irqs: &'a IrqLines, name: String) -> Self {
        let mem = Arc::new(VfioMemory::new());
        dev.attach_memory(mem.clone());
        Conn {
            dev,
            irqs,
            mem,
            name,
            versioned: false,
        }
    }

    /// Serve requests until the client closes the socket or the stream breaks.
    pub fn run(&mut self, stream: &mut UnixStream) -> io::Result<()> {
        while let Some(msg) = sock::recv(stream)? {
            let h = msg.hdr;
            if h.flags & FLAG_TYPE_MASK != FLAG_TYPE_COMMAND {
                log::warn(format_args!(
                    "{}: ignoring non-command message (flags {:#x})",
                    self.name, h.flags
                ));
                continue;
            }
            let r = self.handle(msg);
            if let Err(e) = r {
                log::debug(format_args!(
                    "{}: command {} id {} -> errno {e}",
                    self.name, h.command, h.id
                ));
            }
            if h.flags & FLAG_NO_REPLY != 0 {
                continue;
            }
            let (flags, error, payload) = match r {
                Ok(p) => (FLAG_TYPE_REPLY, 0, p),
                Err(e) => (FLAG_TYPE_REPLY | FLAG_ERROR, e, Vec::new()),
            };
            let rh = Hdr {
                id: h.id,
                command: h.command,
                size: (HDR_LEN + payload.len()) as u32,
                flags,
                error,
            };
            sock::send(stream, &rh, &payload)?;
        }
        Ok(())
    }

    fn handle(&mut self, msg: Msg) -> Reply {
        let p = &msg.payload[..];
        if !self.versioned && msg.hdr.command != CMD_VERSION {
            // vfio-user.rst: VERSION is the first message on a connection.
            return Err(EINVAL);
        }
        match msg.hdr.command {
            CMD_VERSION => {
                let major = View(p).u16(0)?;
                let minor = View(p).u16(2)?;
                if major != 0 {
                    return Err(ENOTSUP);
                }
                self.versioned = true;
                log::info(format_args!(
                    "{}: client speaks vfio-user {major}.{minor}",
                    self.name
                ));
                Ok(version_reply())
            }
            CMD_DMA_MAP => {
                let m = DmaMap::parse(p)?;
                let mut fds = msg.fds.into_iter();
                let fd = fds.next();
                if fds.next().is_some() {
                    return Err(EINVAL);
                }
                log::debug(format_args!(
                    "{}: DMA_MAP iova {:#x} len {:#x} off {:#x} fd {}",
                    self.name,
                    m.address,
                    m.size,
                    m.offset,
                    fd.is_some()
                ));
                self.mem
                    .map(m.address, m.size, m.offset, m.flags, fd)
                    .map(|_| Vec::new())
            }
            CMD_DMA_UNMAP => {
                let u = DmaUnmap::parse(p)?;
                if u.flags & DmaUnmap::FLAG_DIRTY_BITMAP != 0 {
                    return Err(ENOTSUP);
                }
                log::debug(format_args!(
                    "{}: DMA_UNMAP iova {:#x} len {:#x}",
                    self.name, u.address, u.size
                ));
                self.mem
                    .unmap(u.address, u.size, u.flags & DmaUnmap::FLAG_ALL != 0)?;
                // vfio-user.rst: the reply carries the original DMA entry.
                Ok(p[..DmaUnmap::LEN].to_vec())
            }
            CMD_DEVICE_GET_INFO => Ok(device_info().to_vec()),
            CMD_DEVICE_GET_REGION_INFO => {
                let index = View(p).u32(8)?;
                if index >= NUM_REGIONS {
                    return Err(EINVAL);
                }
                let size = region_size(index);
                let flags = if size != 0 {
                    REGION_INFO_FLAG_READ | REGION_INFO_FLAG_WRITE
                } else {
                    0
                };
                Ok(region_info(flags, index, size).to_vec())
            }
            CMD_DEVICE_GET_IRQ_INFO => {
                let index = View(p).u32(8)?;
                let (flags, count) = match index {
                    IRQ_INTX | IRQ_MSI => (IRQ_INFO_EVENTFD, 0), // a VF has neither INTx nor MSI
                    IRQ_MSIX => (IRQ_INFO_EVENTFD | IRQ_INFO_NORESIZE, self.irqs.count()),
                    IRQ_ERR | IRQ_REQ => (IRQ_INFO_EVENTFD, 1),
                    _ => return Err(EINVAL),
                };
                Ok(irq_info(flags, index, count).to_vec())
            }
            CMD_DEVICE_SET_IRQS => self.set_irqs(p, msg.fds),
            CMD_REGION_READ => {
                let rw = RegionRw::parse(p)?;
                let data = self.region_read(rw)?;
                let mut out = rw.encode().to_vec();
                out.extend_from_slice(&data);
                self.dev.after_access();
                Ok(out)
            }
            CMD_REGION_WRITE => {
                let rw = RegionRw::parse(p)?;
                let data = p
                    .get(RegionRw::LEN..RegionRw::LEN + rw.count as usize)
                    .ok_or(EINVAL)?;
                self.region_write(rw, data)?;
                self.dev.after_access();
                Ok(rw.encode().to_vec())
            }
            CMD_DEVICE_RESET => {
                log::info(format_args!(
                    "{}: DEVICE_RESET (function-level reset)",
                    self.name
                ));
                self.dev.flr();
                self.dev.after_access();
                Ok(Vec::new())
            }
            CMD_DEVICE_GET_REGION_IO_FDS => Err(ENOTSUP),
            _ => Err(ENOTSUP),
        }
    }

    fn check_range(rw: &RegionRw) -> Result<(), u32> {
        let size = region_size(rw.region);
        let end = rw.offset.checked_add(rw.count as u64).ok_or(EINVAL)?;
        if size == 0 || end > size || rw.count as usize > MAX_DATA_XFER {
            return Err(EINVAL);
        }
        Ok(())
    }

    fn region_read(&self, rw: RegionRw) -> Result<Vec<u8>, u32> {
        Self::check_range(&rw)?;
        let mut out = vec![0u8; rw.count as usize];
        let off = rw.offset as u32;
        match rw.region {
            // The client reads config space in bulk (4 KiB at realize): split into
            // naturally aligned accesses.
            REGION_CONFIG => {
                let mut at = 0usize;
                while at < out.len() {
                    let w = natural_width(off + at as u32, out.len() - at);
                    let v = self.dev.cfg_read(off + at as u32, w as u32);
                    out[at..at + w].copy_from_slice(&v.to_le_bytes()[..w]);
                    at += w;
                }
            }
            // BAR accesses go through with the guest's own width, so the emulator
            // sees (and records) anything but a 32-bit access.
            bar => {
                let v = self.dev.bar_read(bar, off, rw.count);
                let n = out.len().min(4);
                out[..n].copy_from_slice(&v.to_le_bytes()[..n]);
            }
        }
        Ok(out)
    }

    fn region_write(&self, rw: RegionRw, data: &[u8]) -> Result<(), u32> {
        Self::check_range(&rw)?;
        let off = rw.offset as u32;
        match rw.region {
            REGION_CONFIG => {
                let mut at = 0usize;
                while at < data.len() {
                    let w = natural_width(off + at as u32, data.len() - at);
                    let mut b = [0u8; 4];
                    b[..w].copy_from_slice(&data[at..at + w]);
                    self.dev
                        .cfg_write(off + at as u32, w as u32, u32::from_le_bytes(b));
                    at += w;
                }
            }
            bar => {
                let mut b = [0u8; 4];
                let n = data.len().min(4);
                b[..n].copy_from_slice(&data[..n]);
                self.dev
                    .bar_write(bar, off, rw.count, u32::from_le_bytes(b));
            }
        }
        Ok(())
    }

    fn set_irqs(&self, p: &[u8], fds: Vec<std::os::fd::OwnedFd>) -> Reply {
        let s = IrqSet::parse(p)?;
        let data = p.get(IrqSet::LEN..).unwrap_or(&[]);
        let data_kind = s.flags & (IRQ_SET_DATA_NONE | IRQ_SET_DATA_BOOL | IRQ_SET_DATA_EVENTFD);
        let action =
            s.flags & (IRQ_SET_ACTION_MASK | IRQ_SET_ACTION_UNMASK | IRQ_SET_ACTION_TRIGGER);
        if data_kind.count_ones() != 1 || action.count_ones() != 1 {
            return Err(EINVAL);
        }
        match s.index {
            IRQ_MSIX => {}
            IRQ_ERR | IRQ_REQ => {
                fds.into_iter().for_each(|f| self.irqs.keep_other(f));
                return Ok(Vec::new());
            }
            _ => {
                return if s.count == 0 {
                    Ok(Vec::new())
                } else {
                    Err(EINVAL)
                }
            }
        }
        // Masking is done by the client, which emulates the MSI-X table.
        if action != IRQ_SET_ACTION_TRIGGER {
            return Ok(Vec::new());
        }
        let end = s.start.checked_add(s.count).ok_or(EINVAL)?;
        if end > self.irqs.count() {
            return Err(EINVAL);
        }
        match data_kind {
            IRQ_SET_DATA_EVENTFD => {
                // device.c: a run of valid fds travels with the message; a run of -1
                // (disable) travels with none.
                if fds.is_empty() {
                    (s.start..end).for_each(|v| {
                        self.irqs.set(v, None);
                    });
                } else if fds.len() == s.count as usize {
                    for (v, fd) in (s.start..end).zip(fds) {
                        self.irqs.set(v, Some(fd));
                    }
                } else {
                    return Err(EINVAL);
                }
                log::debug(format_args!(
                    "{}: MSI-X eventfds [{}, {}) -> {} installed",
                    self.name,
                    s.start,
                    end,
                    self.irqs.installed()
                ));
            }
            IRQ_SET_DATA_NONE => {
                if s.count == 0 {
                    self.irqs.clear();
                } else {
                    self.irqs.signal(range_mask(s.start, end));
                }
            }
            _ => {
                // DATA_BOOL: one byte per vector, trigger where non-zero.
                let bools = data.get(..s.count as usize).ok_or(EINVAL)?;
                let mut mask = 0;
                for (i, b) in bools.iter().enumerate() {
                    if *b != 0 {
                        mask |= 1u32.checked_shl(s.start + i as u32).unwrap_or(0);
                    }
                }
                self.irqs.signal(mask);
            }
        }
        Ok(Vec::new())
    }
}

fn range_mask(start: u32, end: u32) -> u32 {
    (start..end.min(32)).fold(0, |m, v| m | 1 << v)
}

/// Largest of 4, 2, 1 that is aligned at `off` and fits in `left`.
fn natural_width(off: u32, left: usize) -> usize {
    if off % 4 == 0 && left >= 4 {
        4
    } else if off % 2 == 0 && left >= 2 {
        2
    } else {
        1
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mem::GuestMemory;
    use std::sync::Mutex;

    /// A register file that records every access, to check routing and widths.
    #[derive(Default)]
    struct Recorder {
        log: Mutex<Vec<String>>,
    }

    impl VfDevice for Recorder {
        fn cfg_read(&self, off: u32, width: u32) -> u32 {
            self.log
                .lock()
                .unwrap()
                .push(format!("cfg_read {off:#x} {width}"));
            0x1122_3344
        }
        fn cfg_write(&self, off: u32, width: u32, val: u32) {
            self.log
                .lock()
                .unwrap()
                .push(format!("cfg_write {off:#x} {width} {val:#x}"));
        }
        fn bar_read(&self, bar: u32, off: u32, width: u32) -> u32 {
            self.log
                .lock()
                .unwrap()
                .push(format!("bar_read {bar} {off:#x} {width}"));
            0xdead_beef
        }
        fn bar_write(&self, bar: u32, off: u32, width: u32, val: u32) {
            self.log
                .lock()
                .unwrap()
                .push(format!("bar_write {bar} {off:#x} {width} {val:#x}"));
        }
        fn attach_memory(&self, _mem: Arc<dyn GuestMemory>) {}
        fn flr(&self) {
            self.log.lock().unwrap().push("flr".into());
        }
        fn after_access(&self) {}
    }

    fn request(stream: &mut UnixStream, id: u16, command: u16, payload: &[u8]) -> (Hdr, Vec<u8>) {
        let h = Hdr {
            id,
            command,
            size: (HDR_LEN + payload.len()) as u32,
            flags: 0,
            error: 0,
        };
        sock::send(stream, &h, payload).unwrap();
        let m = sock::recv(stream).unwrap().unwrap();
        (m.hdr, m.payload)
    }

    fn rw(offset: u64, region: u32, count: u32, data: &[u8]) -> Vec<u8> {
        let mut v = RegionRw {
            offset,
            region,
            count,
        }
        .encode()
        .to_vec();
        v.extend_from_slice(data);
        v
    }

    #[test]
    fn session_routes_accesses_and_rejects_bad_requests() {
        let (mut client, mut server) = UnixStream::pair().unwrap();
        let dev = Arc::new(Recorder::default());
        let d2 = dev.clone();
        let t = std::thread::spawn(move || {
            let irqs = IrqLines::new(5);
            let mut c = Conn::new(&*d2, &irqs, "test".into());
            c.run(&mut server).unwrap();
        });
        // Before VERSION everything is refused.
        let (h, _) = request(&mut client, 1, CMD_DEVICE_GET_INFO, &[0u8; 16]);
        assert_eq!((h.flags, h.error), (FLAG_TYPE_REPLY | FLAG_ERROR, EINVAL));
        let mut v = vec![0, 0, 1, 0];
        v.extend_from_slice(b"{}\0");
        let (h, p) = request(&mut client, 2, CMD_VERSION, &v);
        assert_eq!((h.id, h.flags), (2, FLAG_TYPE_REPLY));
        assert_eq!(&p[0..4], &[0, 0, 0, 0]);
        let (_, p) = request(
            &mut client,
            3,
            CMD_DEVICE_GET_INFO,
            &[16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        );
        assert_eq!(p, device_info().to_vec());
        // BAR0 32-bit read at VFGEN_RSTAT's offset goes through with width 4.
        let (h, p) = request(
            &mut client,
            4,
            CMD_REGION_READ,
            &rw(0x8800, REGION_BAR0, 4, &[]),
        );
        assert_eq!(h.flags, FLAG_TYPE_REPLY);
        assert_eq!(&p[16..], &[0xef, 0xbe, 0xad, 0xde]);
        // A 2-byte BAR write keeps its width (the emulator judges it).
        request(
            &mut client,
            5,
            CMD_REGION_WRITE,
            &rw(0x2000, REGION_BAR0, 2, &[0x34, 0x12]),
        );
        // Config space bulk read: split into aligned pieces.
        let (_, p) = request(
            &mut client,
            6,
            CMD_REGION_READ,
            &rw(0x2, REGION_CONFIG, 8, &[]),
        );
        assert_eq!(p.len(), 16 + 8);
        // Out of range: error, and the stream stays usable.
        let (h, _) = request(
            &mut client,
            7,
            CMD_REGION_READ,
            &rw(0xfffe, REGION_BAR0, 4, &[]),
        );
        assert_eq!((h.flags & FLAG_ERROR, h.error), (FLAG_ERROR, EINVAL));
        let (h, _) = request(&mut client, 8, CMD_REGION_WRITE, &rw(0, 5, 4, &[0; 4]));
        assert_eq!(h.error, EINVAL);
        let (h, _) = request(&mut client, 9, CMD_DEVICE_RESET, &[]);
        assert_eq!(h.flags, FLAG_TYPE_REPLY);
        let (h, _) = request(&mut client, 10, 99, &[]);
        assert_eq!(h.error, ENOTSUP);
        // Region info for BAR3 and an absent BAR.
        let mut ri = [0u8; 32];
        ri[0] = 32;
        ri[8] = 3;
        let (_, p) = request(&mut client, 11, CMD_DEVICE_GET_REGION_INFO, &ri);
        assert_eq!(&p[16..24], &BAR3_SIZE.to_le_bytes());
        ri[8] = 1;
        let (_, p) = request(&mut client, 12, CMD_DEVICE_GET_REGION_INFO, &ri);
        assert_eq!(&p[4..8], &[0; 4]);
        drop(client);
        t.join().unwrap();
        let log = dev.log.lock().unwrap().clone();
        assert_eq!(
            log,
            vec![
                "bar_read 0 0x8800 4",
                "bar_write 0 0x2000 2 0x1234",
                "cfg_read 0x2 2",
                "cfg_read 0x4 4",
                "cfg_read 0x8 2",
                "flr",
            ]
        );
    }

    #[test]
    fn natural_widths() {
        assert_eq!(natural_width(0, 4096), 4);
        assert_eq!(natural_width(2, 8), 2);
        assert_eq!(natural_width(3, 8), 1);
        assert_eq!(natural_width(4, 3), 2);
        assert_eq!(range_mask(1, 3), 0b110);
    }
}
