//! One emulated PF served over vfio-user: the shared [`Sim`], the VFs served (one
//! socket each), their interrupt lines, the uplink TAP, and the clock thread.
//!
//! Locking: a single mutex around the Sim. Connection threads take it for each
//! register access; the clock thread takes it every tick. Nothing else is held while
//! it is held except the short IrqLines/TAP operations in [`Machine::pump_locked`].

use std::os::fd::AsRawFd;
use std::os::unix::net::UnixListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::mem::GuestMemory;
use crate::Sim;

use super::conn::Conn;
use super::irq::IrqLines;
use super::tap::{self, Uplink};
use super::{log, VfDevice};

/// The emulator and the virtual time it has reached.
pub struct Locked {
    pub sim: Sim,
    /// Virtual nanoseconds handed to `Sim::advance` so far.
    virt_ns: u64,
}

pub struct Machine {
    state: Mutex<Locked>,
    t0: Instant,
    /// VF index served by each slot (socket).
    vfs: Vec<usize>,
    irqs: Vec<Arc<IrqLines>>,
    uplink: Uplink,
    stop: AtomicBool,
}

/// Largest Ethernet frame we read from the TAP: 9000-byte MTU plus header and tag.
const TAP_FRAME_MAX: usize = 9022 + 64;
/// Clock thread period when idle (no TAP traffic): the resolution of virtual time
/// seen by the emulator's timers (ITR, reset progress, link events).
const TICK: Duration = Duration::from_micros(500);

impl Machine {
    /// `vfs[i]` is the VF the i-th socket serves; `vectors[i]` its MSI-X vector count.
    pub fn new(mut sim: Sim, vfs: Vec<usize>, uplink: Uplink) -> Arc<Machine> {
        let irqs = vfs
            .iter()
            .map(|&vf| Arc::new(IrqLines::new(msix_vectors(&mut sim, vf))))
            .collect();
        Arc::new(Machine {
            state: Mutex::new(Locked { sim, virt_ns: 0 }),
            t0: Instant::now(),
            vfs,
            irqs,
            uplink,
            stop: AtomicBool::new(false),
        })
    }

    pub fn lock(&self) -> MutexGuard<'_, Locked> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn served_vfs(&self) -> &[usize] {
        &self.vfs
    }

    /// Bring virtual time up to the real clock, deliver interrupts of every served
    /// VF, and move uplink frames to the TAP. Called with the lock held.
    pub fn pump_locked(&self, st: &mut Locked) {
        let now = self.t0.elapsed().as_nanos() as u64;
        if now > st.virt_ns {
            st.sim.advance(now - st.virt_ns);
            st.virt_ns = now;
        }
        for (slot, &vf) in self.vfs.iter().enumerate() {
            let mask = st.sim.take_irqs(vf);
            if mask != 0 {
                self.irqs[slot].signal(mask);
            }
        }
        while let Some(frame) = st.sim.uplink_take() {
            if let Err(e) = self.uplink.send(&frame) {
                log::warn(format_args!("uplink: send: {e}"));
            }
        }
    }

    pub fn pump(&self) {
        let mut st = self.lock();
        self.pump_locked(&mut st);
    }

    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }

    /// The clock thread: ticks virtual time, and carries frames from the TAP into the
    /// PF's uplink port. Returns when [`stop`](Self::stop) is called.
    pub fn run_clock(self: &Arc<Self>) {
        let mut buf = vec![0u8; TAP_FRAME_MAX];
        let ports: Vec<_> = self.uplink.ports().collect();
        let mut pfds: Vec<libc::pollfd> = ports
            .iter()
            .map(|(_, t)| libc::pollfd {
                fd: t.fd(),
                events: libc::POLLIN,
                revents: 0,
            })
            .collect();
        while !self.stop.load(Ordering::Relaxed) {
            if pfds.is_empty() {
                std::thread::sleep(TICK);
                self.pump();
                continue;
            }
            // SAFETY: pfds is a live array of pfds.len() pollfd structs.
            unsafe { libc::poll(pfds.as_mut_ptr(), pfds.len() as libc::nfds_t, 1) };
            let mut st = self.lock();
            for (vid, t) in &ports {
                // Bounded batch per port so register accesses are not starved.
                for _ in 0..64 {
                    match t.recv(&mut buf) {
                        Ok(Some(n)) => match vid {
                            None => st.sim.uplink_inject(&buf[..n]),
                            Some(v) => {
                                if let Some(f) = tap::tag(&buf[..n], *v) {
                                    st.sim.uplink_inject(&f)
                                }
                            }
                        },
                        Ok(None) => break,
                        Err(e) => {
                            log::warn(format_args!("tap {}: recv: {e}", t.name));
                            break;
                        }
                    }
                }
            }
            self.pump_locked(&mut st);
        }
    }

    /// Accept vfio-user clients on `listener` for slot `slot`, one at a time, for as
    /// long as the process lives (a restarted QEMU reconnects).
    pub fn serve_slot(self: &Arc<Self>, slot: usize, listener: UnixListener) {
        let port = Port {
            m: self.clone(),
            slot,
        };
        let name = format!("vf{}", self.vfs[slot]);
        for stream in listener.incoming() {
            let mut stream = match stream {
                Ok(s) => s,
                Err(e) => {
                    log::warn(format_args!("{name}: accept: {e}"));
                    continue;
                }
            };
            log::info(format_args!(
                "{name}: client connected (fd {})",
                stream.as_raw_fd()
            ));
            let irqs = self.irqs[slot].clone();
            let mut conn = Conn::new(&port, &irqs, name.clone());
            match conn.run(&mut stream) {
                Ok(()) => log::info(format_args!("{name}: client disconnected")),
                Err(e) => log::warn(format_args!("{name}: connection ended: {e}")),
            }
            irqs.clear();
        }
    }
}

/// The MSI-X vector count the VF's config space advertises (MSI-X capability,
/// Message Control bits 10:0 = table size - 1; PCI Local Bus 3.0 6.8.2), found by
/// walking the capability list from 0x34.
fn msix_vectors(sim: &mut Sim, vf: usize) -> u32 {
    let mut ptr = sim.cfg_read(vf, 0x34, 1) & 0xfc;
    for _ in 0..48 {
        if ptr == 0 {
            break;
        }
        let hdr = sim.cfg_read(vf, ptr as u16, 4);
        if hdr & 0xff == 0x11 {
            return ((hdr >> 16) & 0x7ff) + 1;
        }
        ptr = (hdr >> 8) & 0xfc;
    }
    0
}

/// One served VF as a [`VfDevice`].
struct Port {
    m: Arc<Machine>,
    slot: usize,
}

impl Port {
    fn vf(&self) -> usize {
        self.m.vfs[self.slot]
    }

    /// QEMU's vfio-pci emulates the MSI-X table and PBA itself (it overlays them on
    /// the BAR and never forwards their accesses) and does the per-vector masking:
    /// a vector signalled while masked is held pending by QEMU and delivered on
    /// unmask. The emulator's own table therefore only ever holds reset values
    /// (every vector masked), which would block all delivery. The client, which owns
    /// the table, is the one masking, so its mirror in the emulator is kept unmasked:
    /// this writes TVCTRL = 0 for every entry, after anything that resets the table.
    fn mirror_client_msix(&self, st: &mut Locked) {
        let vf = self.vf();
        for v in 0..self.m.irqs[self.slot].count() {
            st.sim.bar_write(vf, 3, v as u64 * 16 + 12, 4, 0);
        }
    }
}

impl VfDevice for Port {
    fn cfg_read(&self, off: u32, width: u32) -> u32 {
        self.m
            .lock()
            .sim
            .cfg_read(self.vf(), off as u16, width as u8)
    }
    fn cfg_write(&self, off: u32, width: u32, val: u32) {
        let mut st = self.m.lock();
        st.sim.cfg_write(self.vf(), off as u16, width as u8, val);
        // A config write may be an FLR (Device Control's Initiate FLR bit).
        self.mirror_client_msix(&mut st);
    }
    fn bar_read(&self, bar: u32, off: u32, width: u32) -> u32 {
        self.m
            .lock()
            .sim
            .bar_read(self.vf(), bar as u8, off as u64, width as u8)
    }
    fn bar_write(&self, bar: u32, off: u32, width: u32, val: u32) {
        self.m
            .lock()
            .sim
            .bar_write(self.vf(), bar as u8, off as u64, width as u8, val)
    }
    fn attach_memory(&self, mem: Arc<dyn GuestMemory>) {
        let mut st = self.m.lock();
        st.sim.attach_memory(self.vf(), mem);
        self.mirror_client_msix(&mut st);
    }
    fn flr(&self) {
        let mut st = self.m.lock();
        st.sim.flr(self.vf());
        self.mirror_client_msix(&mut st);
    }
    fn after_access(&self) {
        self.m.pump()
    }
}

#[cfg(test)]
mod tests {
    //! The served emulator end to end over a real Unix socket, as QEMU drives it:
    //! handshake, identity through config space, a register read, a wrong-width
    //! access the emulator must record, and an admin-queue exchange whose rings and
    //! buffers live in client memory shared through a DMA_MAP fd.
    use super::*;
    use crate::vfio_user::proto::*;
    use crate::vfio_user::sock;
    use crate::SimOptions;
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    use std::os::unix::fs::FileExt;
    use std::os::unix::net::UnixStream;

    const CONF: &str =
        "PF { device : \"ixl0\"; num_vfs : 1; }\nVF-0 { mac-addr : \"02:00:00:00:00:10\"; }\n";

    // i40e_register.h / iavf_register.h (VF BAR0 offsets).
    const VFGEN_RSTAT: u64 = 0x8800;
    const VF_ATQBAL1: u64 = 0x7C00;
    const VF_ATQBAH1: u64 = 0x7800;
    const VF_ATQLEN1: u64 = 0x6800;
    const VF_ATQT1: u64 = 0x8400;
    const VF_ARQBAL1: u64 = 0x6C00;
    const VF_ARQBAH1: u64 = 0x6000;
    const VF_ARQLEN1: u64 = 0x8000;
    const VF_ARQT1: u64 = 0x7000;
    const LEN_ENABLE: u32 = 1 << 31;
    // i40e_adminq_cmd.h: descriptor flags and the two mailbox opcodes.
    const AQ_DD: u16 = 0x1;
    const AQ_CMP: u16 = 0x2;
    const AQ_RD: u16 = 0x400;
    const AQ_BUF: u16 = 0x1000;
    const AQ_SI: u16 = 0x2000;
    const OPC_SEND_MSG_TO_PF: u16 = 0x0801;
    const OPC_SEND_MSG_TO_VF: u16 = 0x0802;

    struct Client {
        s: UnixStream,
        id: u16,
    }

    impl Client {
        fn call(&mut self, command: u16, payload: &[u8], fd: Option<&OwnedFd>) -> (Hdr, Vec<u8>) {
            self.id += 1;
            let h = Hdr {
                id: self.id,
                command,
                size: (HDR_LEN + payload.len()) as u32,
                flags: 0,
                error: 0,
            };
            let mut bytes = h.encode().to_vec();
            bytes.extend_from_slice(payload);
            send_with_fd(&self.s, &bytes, fd);
            let m = sock::recv(&mut self.s).unwrap().unwrap();
            assert_eq!(m.hdr.id, self.id);
            (m.hdr, m.payload)
        }
        fn read(&mut self, region: u32, off: u64, count: u32) -> Vec<u8> {
            let (h, p) = self.call(
                CMD_REGION_READ,
                &RegionRw {
                    offset: off,
                    region,
                    count,
                }
                .encode(),
                None,
            );
            assert_eq!(h.flags & FLAG_ERROR, 0);
            p[16..].to_vec()
        }
        fn rd32(&mut self, region: u32, off: u64) -> u32 {
            u32::from_le_bytes(self.read(region, off, 4).try_into().unwrap())
        }
        fn wr32(&mut self, off: u64, val: u32) {
            let mut p = RegionRw {
                offset: off,
                region: REGION_BAR0,
                count: 4,
            }
            .encode()
            .to_vec();
            p.extend_from_slice(&val.to_le_bytes());
            let (h, _) = self.call(CMD_REGION_WRITE, &p, None);
            assert_eq!(h.flags & FLAG_ERROR, 0);
        }
    }

    fn send_with_fd(s: &UnixStream, bytes: &[u8], fd: Option<&OwnedFd>) {
        let mut cbuf = [0u64; 4];
        let mut iov = libc::iovec {
            iov_base: bytes.as_ptr() as *mut _,
            iov_len: bytes.len(),
        };
        // SAFETY: test helper; every pointer refers to a live local of the stated size.
        unsafe {
            let mut mh: libc::msghdr = std::mem::zeroed();
            mh.msg_iov = &mut iov;
            mh.msg_iovlen = 1;
            if let Some(fd) = fd {
                mh.msg_control = cbuf.as_mut_ptr().cast();
                mh.msg_controllen = libc::CMSG_SPACE(4) as _;
                let c = libc::CMSG_FIRSTHDR(&mh);
                (*c).cmsg_level = libc::SOL_SOCKET;
                (*c).cmsg_type = libc::SCM_RIGHTS;
                (*c).cmsg_len = libc::CMSG_LEN(4) as _;
                *(libc::CMSG_DATA(c) as *mut i32) = fd.as_raw_fd();
            }
            assert_eq!(libc::sendmsg(s.as_raw_fd(), &mh, 0), bytes.len() as isize);
        }
    }

    fn desc(flags: u16, opcode: u16, datalen: u16, cookie_high: u32, addr: u64) -> [u8; 32] {
        let mut d = [0u8; 32];
        d[0..2].copy_from_slice(&flags.to_le_bytes());
        d[2..4].copy_from_slice(&opcode.to_le_bytes());
        d[4..6].copy_from_slice(&datalen.to_le_bytes());
        d[8..12].copy_from_slice(&cookie_high.to_le_bytes());
        d[24..28].copy_from_slice(&((addr >> 32) as u32).to_le_bytes());
        d[28..32].copy_from_slice(&(addr as u32).to_le_bytes());
        d
    }

    #[test]
    fn served_vf_over_a_socket() {
        let sim = Sim::from_config_str(CONF, SimOptions::default()).unwrap();
        let m = Machine::new(sim, vec![0], Uplink::none());
        let dir = std::env::temp_dir().join(format!("ravf-vfu-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("vf0.sock");
        let _ = std::fs::remove_file(&path);
        let l = UnixListener::bind(&path).unwrap();
        let ms = m.clone();
        std::thread::spawn(move || ms.serve_slot(0, l));
        let mut c = Client {
            s: UnixStream::connect(&path).unwrap(),
            id: 0,
        };

        let (h, _) = c.call(CMD_VERSION, &[0, 0, 0, 0, b'{', b'}', 0], None);
        assert_eq!(h.flags, FLAG_TYPE_REPLY);
        // MSI-X vector count comes from the emulated capability (default 5).
        let (_, p) = c.call(CMD_DEVICE_GET_IRQ_INFO, &irq_info(0, IRQ_MSIX, 0), None);
        assert_eq!(u32::from_le_bytes(p[12..16].try_into().unwrap()), 5);
        // Identity: 8086:154C, class 0x020000.
        assert_eq!(c.rd32(REGION_CONFIG, 0), 0x154C_8086);
        assert_eq!(c.rd32(REGION_CONFIG, 8) >> 8, 0x02_0000);
        // VIRTCHNL_VFR_VFACTIVE = 2 (virtchnl.h).
        assert_eq!(c.rd32(REGION_BAR0, VFGEN_RSTAT), 2);
        assert!(m.lock().sim.violations().is_empty());
        // A 16-bit BAR0 read reaches the emulator as such and is recorded.
        c.read(REGION_BAR0, VFGEN_RSTAT, 2);
        assert_eq!(m.lock().sim.violations().len(), 1);
        m.lock().sim.take_violations();

        // Client memory: 64 KiB memfd mapped at IOVA 0x10_0000.
        // SAFETY: memfd_create with a static NUL-terminated name; we own the result.
        let fd = unsafe { OwnedFd::from_raw_fd(libc::memfd_create(c"guest-ram".as_ptr(), 0)) };
        let ram = std::fs::File::from(fd.try_clone().unwrap());
        ram.set_len(0x1_0000).unwrap();
        let base = 0x10_0000u64;
        let mut map = [0u8; 32];
        map[0] = 32;
        map[4] = 3;
        map[16..24].copy_from_slice(&base.to_le_bytes());
        map[24..32].copy_from_slice(&0x1_0000u64.to_le_bytes());
        let (h, _) = c.call(CMD_DMA_MAP, &map, Some(&fd));
        assert_eq!(h.flags, FLAG_TYPE_REPLY);

        // ARQ: 4 descriptors at +0x0000, 512-byte buffers at +0x2000; ATQ: 4 at +0x1000.
        for i in 0..4u64 {
            let d = desc(AQ_BUF, 0, 512, 0, base + 0x2000 + i * 512);
            ram.write_all_at(&d, i * 32).unwrap();
        }
        c.wr32(VF_ARQBAL1, base as u32);
        c.wr32(VF_ARQBAH1, 0);
        c.wr32(VF_ARQLEN1, 4 | LEN_ENABLE);
        c.wr32(VF_ARQT1, 3);
        c.wr32(VF_ATQBAL1, (base + 0x1000) as u32);
        c.wr32(VF_ATQBAH1, 0);
        c.wr32(VF_ATQLEN1, 4 | LEN_ENABLE);
        // VIRTCHNL_OP_VERSION (1) with struct virtchnl_version_info {major 1, minor 1}.
        ram.write_all_at(&[1, 0, 0, 0, 1, 0, 0, 0], 0x4000).unwrap();
        let d = desc(
            AQ_SI | AQ_BUF | AQ_RD,
            OPC_SEND_MSG_TO_PF,
            8,
            1,
            base + 0x4000,
        );
        ram.write_all_at(&d, 0x1000).unwrap();
        c.wr32(VF_ATQT1, 1);

        // The ATQ descriptor completes synchronously with the doorbell...
        let mut back = [0u8; 32];
        ram.read_exact_at(&mut back, 0x1000).unwrap();
        let flags = u16::from_le_bytes([back[0], back[1]]);
        assert_eq!(
            flags & (AQ_DD | AQ_CMP),
            AQ_DD | AQ_CMP,
            "ATQ descriptor not completed: {back:02x?}"
        );
        // ... and the PF's VERSION reply lands in the first ARQ buffer.
        ram.read_exact_at(&mut back, 0).unwrap();
        assert_eq!(u16::from_le_bytes([back[2], back[3]]), OPC_SEND_MSG_TO_VF);
        assert_eq!(
            u32::from_le_bytes(back[8..12].try_into().unwrap()),
            1,
            "v_opcode VERSION"
        );
        assert_eq!(u16::from_le_bytes([back[4], back[5]]), 8);
        let mut ver = [0u8; 8];
        ram.read_exact_at(&mut ver, 0x2000).unwrap();
        assert_eq!(ver, [1, 0, 0, 0, 1, 0, 0, 0]);
        let v = m.lock().sim.violations().to_vec();
        assert!(v.is_empty(), "violations: {v:?}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
