//! The stand-in for iflib proper: device registration, queue allocation, MSI-X,
//! init/stop, the transmit path, the RX task, the admin task, the timer and the
//! ioctl paths, each mirroring the iflib.c function named in its comment
//! (FreeBSD 14 `sys/net/iflib.c`).

use std::borrow::Cow;
use std::collections::VecDeque;
use std::ffi::c_int;
use std::rc::Rc;
use std::sync::Arc;

use ravf_sim::mem::{DmaBuf, HostMemory};
use ravf_sys::*;

use crate::ctx::{self, Exec, IflibCtx, LogLine, Shared};
use crate::device::Device;
use crate::ifdi;
use crate::parse::{self, Offload};
use crate::queues::{RxRing, RxStats, TxPkt, TxRing, TxStats};
use crate::sched::{self, in_exec};

/// The `if_shared_ctx` values of the driver: kmod/if_ravf.c `ravf_sctx_init` (the
/// same as iavf's `iavf_sctx`, freebsd-iavf-iflib.md 1.4). Keep the two in step.
#[derive(Clone, Copy, Debug)]
pub struct Sctx {
    pub q_align: usize,
    pub tx_maxsize: usize,
    pub tx_maxsegsize: usize,
    pub tso_maxsize: usize,
    pub tso_maxsegsize: usize,
    pub rx_nsegments: usize,
    pub admin_intrcnt: u32,
    pub ntxd_min: u16,
    pub ntxd_max: u16,
    pub ntxd_default: u16,
    pub nrxd_min: u16,
    pub nrxd_max: u16,
    pub nrxd_default: u16,
    pub tx_reclaim_thresh: u64,
    pub flags: c_int,
}

impl Default for Sctx {
    fn default() -> Self {
        Sctx {
            q_align: 4096,
            tx_maxsize: 9728,
            tx_maxsegsize: 9728,
            tso_maxsize: 261_119 + 18,
            tso_maxsegsize: 16383,
            rx_nsegments: 5,
            admin_intrcnt: 1,
            ntxd_min: 64,
            ntxd_max: 4096,
            ntxd_default: 1024,
            nrxd_min: 64,
            nrxd_max: 4096,
            nrxd_default: 1024,
            tx_reclaim_thresh: 0,
            flags: IFLIB_NEED_SCRATCH | IFLIB_NEED_ZERO_CSUM | IFLIB_TSO_INIT_IP | IFLIB_IS_VF,
        }
    }
}

/// When the TX doorbell (`txd_flush`) is rung.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Doorbell {
    /// Once at the end of each batch (what ixy-style batching and the benchmarks do).
    PerBatch,
    /// iflib.c `iflib_txd_db_check`: after a packet when `db_pending` reaches
    /// `txq_max_db_deferred(in_use)` or the ring is nearly full, and at batch end.
    Iflib,
}

/// How an outgoing frame is laid out in memory before busdma maps it.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum SegLayout {
    /// One contiguous buffer (busdma still splits it at the max segment size).
    #[default]
    Contiguous,
    /// Pieces of this many bytes each (the last may be shorter), like an mbuf chain.
    Chunks(usize),
    /// Exactly these piece lengths (must sum to the frame length).
    Explicit(Vec<usize>),
}

/// Stand-in options (iflib's sysctls and tunables, and the machine's CPU count).
#[derive(Clone, Debug)]
pub struct Options {
    /// mp_ncpus: iflib_msix_init caps the queue count by it.
    pub ncpus: usize,
    /// dev.X.N.iflib.override_ntxds / override_nrxds.
    pub ntxd: Option<u16>,
    pub nrxd: Option<u16>,
    /// dev.X.N.iflib.rx_budget (0 = 16).
    pub rx_budget: u16,
    pub doorbell: Doorbell,
    /// Print driver and stand-in log lines as they happen.
    pub verbose: bool,
    /// Seed for ravf_kpi_random.
    pub seed: u64,
    pub sctx: Sctx,
    /// The `hw.ravf.*` loader tunables (ravf_kpi_tunables).
    pub tunables: crate::ifdi::RavfTunables,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            ncpus: 4,
            ntxd: None,
            nrxd: None,
            rx_budget: 0,
            doorbell: Doorbell::PerBatch,
            verbose: false,
            seed: 0x5eed_1234_abcd_0001,
            sctx: Sctx::default(),
            tunables: crate::ifdi::TUNABLE_DEFAULTS,
        }
    }
}

/// Why a frame was not transmitted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TxError {
    /// The port is not attached.
    NoPort,
    /// IFF_DRV_RUNNING is clear or the link is not up (iflib_if_transmit: ENETDOWN).
    NetDown,
    /// No descriptors (iflib_encap: ENOBUFS; the packet stays queued in iflib).
    NoBufs,
    /// The driver refused the packet (errno), after iflib's defrag retry for EFBIG.
    Encap(c_int),
    /// The frame or offload request is malformed (iflib_parse_header errno).
    Parse(c_int),
}

/// A received frame, as iflib would build the mbuf.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RxFrame {
    pub data: Vec<u8>,
    pub qid: u16,
    /// M_VLANTAG and ether_vtag.
    pub vtag: Option<u16>,
    pub csum_flags: u32,
    pub csum_data: u32,
    pub flowid: u32,
    pub rsstype: u8,
    pub nfrags: u8,
}

/// `struct ifmediareq` results.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Media {
    pub status: c_int,
    pub active: c_int,
}

struct Port {
    vf: usize,
    kctx: Box<IflibCtx>,
    txrx: if_txrx,
    txq: Vec<TxRing>,
    rxq: Vec<RxRing>,
    rx: VecDeque<RxFrame>,
    /// Data buffers of frames dropped by [`Machine::rx_discard`], reused for the next
    /// frames received (a benchmark's "stack" should not cost an allocation a frame).
    rx_spare: Vec<Vec<u8>>,
    /// if_flags (IFF_UP, IFF_PROMISC, IFF_ALLMULTI) and iflib's copy (ifc_if_flags).
    if_flags: c_int,
    ifc_if_flags: c_int,
    next_timer_ns: u64,
    /// Ring memory iflib_queues_alloc allocated.
    rings: Vec<DmaBuf>,
    tx_nsegments: usize,
    tso_segments_max: usize,
    rx_mbuf_sz: u32,
    vlans: Vec<u16>,
}

/// A PF with VFs, the drivers attached to them through the stand-in, and the
/// emulator's clock. Single-threaded; one per test.
pub struct Machine {
    sh: Rc<Shared>,
    ports: Vec<Option<Port>>,
    opts: Options,
    prev: Option<Rc<Shared>>,
}

const TIMER_NS: u64 = 500_000_000;
/// Most spare RX data buffers kept per port (a little more than a ring's worth).
const RX_SPARE_MAX: usize = 4096;
/// The scheduler's time step: 10 µs while things happen, doubling to 1 ms when quiet
/// (virtual time; the emulator runs its own timers exactly within a step).
pub const MIN_STEP_NS: u64 = 10_000;
pub const MAX_STEP_NS: u64 = 1_000_000;

fn ptr_ok<T>(p: Option<T>) -> bool {
    p.is_some()
}

impl Machine {
    /// Wrap an emulated device. `mem` must be the memory the device does DMA to.
    pub fn new(dev: Box<dyn Device>, mem: Arc<HostMemory>, opts: Options) -> Machine {
        let n = dev.num_vfs();
        let sh = Rc::new(Shared {
            dev: std::cell::RefCell::new(dev),
            mem,
            ctxs: Default::default(),
            mtxs: Default::default(),
            log: Default::default(),
            errors: Default::default(),
            exec: std::cell::Cell::new(Exec::Iflib),
            now_ns: std::cell::Cell::new(0),
            rng: std::cell::Cell::new(opts.seed | 1),
            verbose: std::cell::Cell::new(opts.verbose),
            cur_vf: std::cell::Cell::new(0),
            tunables: std::cell::Cell::new(opts.tunables),
        });
        std::hint::black_box(crate::kpi::keep());
        let prev = ctx::set_current(Some(sh.clone()));
        Machine {
            sh,
            ports: (0..n).map(|_| None).collect(),
            opts,
            prev,
        }
    }

    pub fn shared(&self) -> &Shared {
        &self.sh
    }

    /// The emulated device (for fault injection and checks).
    pub fn with_device<R>(&self, f: impl FnOnce(&mut dyn Device) -> R) -> R {
        f(&mut **self.sh.dev.borrow_mut())
    }

    pub fn mem(&self) -> &Arc<HostMemory> {
        &self.sh.mem
    }

    pub fn now_ns(&self) -> u64 {
        self.sh.now_ns.get()
    }

    pub fn num_vfs(&self) -> usize {
        self.ports.len()
    }

    pub fn log(&self) -> Vec<LogLine> {
        self.sh.log.borrow().clone()
    }

    /// Contract violations the stand-in detected (empty for a correct driver).
    pub fn harness_errors(&self) -> Vec<String> {
        self.sh.errors.borrow().clone()
    }

    pub fn set_verbose(&self, v: bool) {
        self.sh.verbose.set(v);
    }

    fn port(&self, vf: usize) -> Option<&Port> {
        self.ports.get(vf).and_then(|p| p.as_ref())
    }

    fn port_mut(&mut self, vf: usize) -> Option<&mut Port> {
        self.ports.get_mut(vf).and_then(|p| p.as_mut())
    }

    pub fn is_attached(&self, vf: usize) -> bool {
        self.port(vf).is_some()
    }

    /// The driver's softc context (what attach_pre filled, as iflib adjusted it).
    pub fn scctx(&self, vf: usize) -> Option<if_softc_ctx> {
        self.port(vf).map(|p| p.kctx.scctx())
    }

    /// iflib's view of the link: (LINK_STATE_*, baudrate in bit/s).
    pub fn link(&self, vf: usize) -> (c_int, u64) {
        self.port(vf).map_or((LINK_STATE_UNKNOWN, 0), |p| {
            (p.kctx.link_state.get(), p.kctx.baudrate.get())
        })
    }

    pub fn link_up(&self, vf: usize) -> bool {
        self.link(vf).0 == LINK_STATE_UP
    }

    pub fn running(&self, vf: usize) -> bool {
        self.port(vf).is_some_and(|p| p.kctx.running.get())
    }

    /// The interface's link-level address (what ether_ifattach got from iflib_set_mac).
    pub fn lladdr(&self, vf: usize) -> Option<[u8; 6]> {
        self.port(vf).map(|p| p.kctx.lladdr())
    }

    pub fn num_queues(&self, vf: usize) -> (usize, usize) {
        self.port(vf).map_or((0, 0), |p| (p.txq.len(), p.rxq.len()))
    }

    /// Bus addresses of the descriptor rings iflib allocated: (TX rings, RX rings).
    pub fn ring_addrs(&self, vf: usize) -> (Vec<u64>, Vec<u64>) {
        self.port(vf).map_or((Vec::new(), Vec::new()), |p| {
            (
                p.txq.iter().map(|t| t.ring.iova).collect(),
                p.rxq.iter().map(|r| r.ring.iova).collect(),
            )
        })
    }

    /// The RX cluster size iflib uses for `vf` (iflib_fl_setup's ifl_buf_size).
    pub fn rx_buf_size(&self, vf: usize) -> u32 {
        self.port(vf)
            .and_then(|p| p.rxq.first())
            .map_or(0, |r| r.buf_size)
    }

    pub fn tx_stats(&self, vf: usize, q: usize) -> TxStats {
        self.port(vf)
            .and_then(|p| p.txq.get(q))
            .map(|t| t.stats)
            .unwrap_or_default()
    }

    pub fn rx_stats(&self, vf: usize, q: usize) -> RxStats {
        self.port(vf)
            .and_then(|p| p.rxq.get(q))
            .map(|r| r.stats)
            .unwrap_or_default()
    }

    /// The media words the driver added and the current one.
    pub fn media_list(&self, vf: usize) -> (Vec<c_int>, c_int) {
        self.port(vf).map_or((Vec::new(), 0), |p| {
            (p.kctx.media.borrow().clone(), p.kctx.media_current.get())
        })
    }

    /// Run `f` as an ifdi call into the driver for `vf` (CTX-locked iflib context).
    fn ifdi<R>(&self, vf: usize, f: impl FnOnce() -> R) -> R {
        in_exec(&self.sh, Exec::Iflib, vf, f)
    }

    fn note(&self, vf: usize, s: impl Into<String>) {
        self.sh.note(vf, s);
    }

    // ----- iflib_device_register -----------------------------------------------------

    /// Attach the driver to `vf` (iflib_device_register) and bring the interface up
    /// (`ifconfig up`: iflib_if_init → iflib_init_locked).
    pub fn attach(&mut self, vf: usize) -> Result<(), String> {
        self.attach_only(vf)?;
        self.up(vf);
        Ok(())
    }

    /// iflib_device_register, without bringing the interface up.
    pub fn attach_only(&mut self, vf: usize) -> Result<(), String> {
        if vf >= self.ports.len() {
            return Err(format!("no VF {vf} (the PF has {})", self.ports.len()));
        }
        if self.ports[vf].is_some() {
            return Err(format!("VF {vf} is already attached"));
        }
        let sctx = self.opts.sctx;
        let kctx = IflibCtx::new(vf);
        self.sh.ctxs.borrow_mut().push(&*kctx as *const IflibCtx);
        let c = kctx.ctx_ptr();

        // iflib_reset_qvalues: descriptor counts from the tunables or the sctx defaults;
        // a value that is not a power of two within [min, max] falls back to the default.
        {
            let pick = |o: Option<u16>, min: u16, max: u16, def: u16| match o {
                Some(n) if n.is_power_of_two() && (min..=max).contains(&n) => n,
                _ => def,
            };
            let ntxd = pick(
                self.opts.ntxd,
                sctx.ntxd_min,
                sctx.ntxd_max,
                sctx.ntxd_default,
            );
            let nrxd = pick(
                self.opts.nrxd,
                sctx.nrxd_min,
                sctx.nrxd_max,
                sctx.nrxd_default,
            );
            // SAFETY: no driver call is running; the scctx is ours to initialise.
            let s = unsafe { &mut *kctx.scctx_ptr() };
            s.isc_ntxd[0] = c_int::from(ntxd);
            s.isc_nrxd[0] = c_int::from(nrxd);
        }
        self.note(vf, "device_register: attach_pre");
        // SAFETY: c is the live context registered above.
        let rc = self.ifdi(vf, || unsafe { ifdi::ravf_if_attach_pre(c) });
        if rc != 0 {
            self.note(vf, format!("attach_pre failed: errno {rc}"));
            self.unregister(&kctx);
            return Err(format!("VF {vf}: ifdi_attach_pre returned {rc}"));
        }
        match self.attach_rest(vf, kctx, sctx) {
            Ok(()) => Ok(()),
            Err((kctx, e)) => {
                // iflib's fail path after attach_pre: IFDI_DETACH, free the queues.
                // SAFETY: live context.
                self.ifdi(vf, || unsafe { ifdi::ravf_if_detach(c) });
                self.unregister(&kctx);
                Err(e)
            }
        }
    }

    fn unregister(&self, kctx: &IflibCtx) {
        self.sh
            .ctxs
            .borrow_mut()
            .retain(|&p| !std::ptr::eq(p, kctx));
        for (_, b) in kctx.dma.borrow_mut().drain() {
            self.sh.mem.free(b);
        }
    }

    #[allow(clippy::result_large_err)]
    fn attach_rest(
        &mut self,
        vf: usize,
        kctx: Box<IflibCtx>,
        sctx: Sctx,
    ) -> Result<(), (Box<IflibCtx>, String)> {
        let c = kctx.ctx_ptr();
        let mut s = kctx.scctx();
        if s.isc_txrx.is_null() {
            return Err((kctx, format!("VF {vf}: attach_pre left isc_txrx NULL")));
        }
        // SAFETY: the driver set isc_txrx to its static if_txrx.
        let txrx = unsafe { std::ptr::read(s.isc_txrx) };
        let all = [
            ptr_ok(txrx.ift_txd_encap),
            ptr_ok(txrx.ift_txd_flush),
            ptr_ok(txrx.ift_txd_credits_update),
            ptr_ok(txrx.ift_rxd_available),
            ptr_ok(txrx.ift_rxd_pkt_get),
            ptr_ok(txrx.ift_rxd_refill),
            ptr_ok(txrx.ift_rxd_flush),
        ];
        if all.iter().any(|x| !x) {
            return Err((kctx, format!("VF {vf}: isc_txrx has a NULL callback")));
        }
        let ntxd = s.isc_ntxd[0];
        let nrxd = s.isc_nrxd[0];
        if !(ntxd as u16).is_power_of_two()
            || !(nrxd as u16).is_power_of_two()
            || ntxd < 8
            || nrxd < 8
        {
            return Err((
                kctx,
                format!("VF {vf}: ring sizes {ntxd}/{nrxd} are not powers of two"),
            ));
        }
        if (s.isc_txqsizes[0] as usize) < ntxd as usize * 16
            || (s.isc_rxqsizes[0] as usize) < nrxd as usize * 16
        {
            self.sh.error(format!(
                "vf{vf}: ring byte sizes {}/{} too small for {ntxd}/{nrxd} descriptors",
                s.isc_txqsizes[0], s.isc_rxqsizes[0]
            ));
        }
        // iflib_device_register: MAX_SINGLE_PACKET_FRACTION clamps; RSS table default.
        let frac = (ntxd / 12).max(1);
        if s.isc_tx_nsegments > frac {
            s.isc_tx_nsegments = frac;
        }
        if s.isc_tx_tso_segments_max > frac {
            s.isc_tx_tso_segments_max = frac;
        }
        if s.isc_rss_table_size == 0 {
            s.isc_rss_table_size = 64;
        }
        s.isc_rss_table_mask = s.isc_rss_table_size - 1;

        // iflib_msix_init.
        if s.isc_msix_bar == 0 {
            return Err((kctx, format!("VF {vf}: isc_msix_bar is 0 (no MSI-X)")));
        }
        let (msix_cap, avail) = {
            let mut d = self.sh.dev.borrow_mut();
            let mut p = d.cfg_read(vf, 0x34, 1) as u16;
            let mut cap = 0u16;
            for _ in 0..48 {
                if p < 0x40 {
                    break;
                }
                if d.cfg_read(vf, p, 1) == 0x11 {
                    cap = p;
                    break;
                }
                p = d.cfg_read(vf, p + 1, 1) as u16;
            }
            let n = if cap != 0 {
                (d.cfg_read(vf, cap + 2, 2) & 0x7ff) + 1
            } else {
                0
            };
            (cap, n)
        };
        if avail < 2 {
            return Err((
                kctx,
                format!("VF {vf}: Cannot use iflib with only {avail} MSI-X interrupt(s)"),
            ));
        }
        let admincnt = sctx.admin_intrcnt;
        let mut queues = (avail - admincnt).min(self.opts.ncpus as u32).max(1);
        if s.isc_nrxqsets_max > 0 {
            queues = queues.min(s.isc_nrxqsets_max as u32);
        }
        let mut txqs = queues;
        if s.isc_ntxqsets_max > 0 {
            txqs = txqs.min(s.isc_ntxqsets_max as u32);
        }
        let vectors = queues + admincnt;
        s.isc_nrxqsets = queues as c_int;
        s.isc_ntxqsets = txqs as c_int;
        s.isc_vectors = vectors as c_int;
        s.isc_intr = IFLIB_INTR_MSIX;
        kctx.msix_vectors.set(vectors);
        {
            // pci_alloc_msix: MSI-X Enable in the message control word.
            let mut d = self.sh.dev.borrow_mut();
            let ctl = d.cfg_read(vf, msix_cap + 2, 2);
            d.cfg_write(vf, msix_cap + 2, 2, (ctl | 0x8000) & !0x4000);
        }
        // SAFETY: between driver calls; write back iflib's adjustments.
        unsafe { std::ptr::write(kctx.scctx_ptr(), s) };
        let s = kctx.scctx();
        self.note(vf, format!("Using {ntxd} TX descriptors and {nrxd} RX descriptors, {queues} RX queues, {txqs} TX queues, {vectors} MSI-X vectors"));

        // iflib_queues_alloc.
        let mut rings = Vec::new();
        let mut tx_v: Vec<caddr_t> = Vec::new();
        let mut tx_p: Vec<u64> = Vec::new();
        let mut txq = Vec::new();
        for q in 0..txqs {
            let b = self.sh.mem.alloc(s.isc_txqsizes[0] as usize, sctx.q_align);
            rings.push(b);
            tx_v.push(b.vaddr.cast());
            tx_p.push(b.iova);
            txq.push(TxRing::new(&self.sh.mem, q as u16, ntxd as u16, b));
        }
        let mut rx_v: Vec<caddr_t> = Vec::new();
        let mut rx_p: Vec<u64> = Vec::new();
        let mut rxq = Vec::new();
        for q in 0..queues {
            let b = self.sh.mem.alloc(s.isc_rxqsizes[0] as usize, sctx.q_align);
            rings.push(b);
            rx_v.push(b.vaddr.cast());
            rx_p.push(b.iova);
            rxq.push(RxRing::new(q as u16, nrxd as u16, b));
        }
        let free_rings =
            |m: &Machine, rings: Vec<DmaBuf>| rings.into_iter().for_each(|b| m.sh.mem.free(b));
        // SAFETY: the arrays hold txqs/queues entries, as the counts say.
        let rc = self.ifdi(vf, || unsafe {
            ifdi::ravf_if_tx_queues_alloc(c, tx_v.as_mut_ptr(), tx_p.as_mut_ptr(), 1, txqs as c_int)
        });
        if rc != 0 {
            free_rings(self, rings);
            return Err((kctx, format!("VF {vf}: ifdi_tx_queues_alloc returned {rc}")));
        }
        // SAFETY: as above.
        let rc = self.ifdi(vf, || unsafe {
            ifdi::ravf_if_rx_queues_alloc(
                c,
                rx_v.as_mut_ptr(),
                rx_p.as_mut_ptr(),
                1,
                queues as c_int,
            )
        });
        if rc != 0 {
            // SAFETY: live context.
            self.ifdi(vf, || unsafe { ifdi::ravf_if_queues_free(c) });
            free_rings(self, rings);
            return Err((kctx, format!("VF {vf}: ifdi_rx_queues_alloc returned {rc}")));
        }
        // SAFETY: live context.
        self.ifdi(vf, || unsafe { ifdi::ravf_if_intr_disable(c) });
        // SAFETY: live context.
        let rc = self.ifdi(vf, || unsafe {
            ifdi::ravf_if_msix_intr_assign(c, vectors as c_int)
        });
        if rc != 0 {
            // SAFETY: live context.
            self.ifdi(vf, || unsafe { ifdi::ravf_if_queues_free(c) });
            free_rings(self, rings);
            return Err((
                kctx,
                format!("VF {vf}: ifdi_msix_intr_assign returned {rc}"),
            ));
        }
        self.check_irqs(vf, &kctx, queues);
        // ether_ifattach(ifp, ctx->ifc_mac).
        kctx.set_lladdr(kctx.mac.get());
        // SAFETY: live context.
        let rc = self.ifdi(vf, || unsafe { ifdi::ravf_if_attach_post(c) });
        if rc != 0 {
            // SAFETY: live context.
            self.ifdi(vf, || unsafe { ifdi::ravf_if_queues_free(c) });
            free_rings(self, rings);
            return Err((kctx, format!("VF {vf}: ifdi_attach_post returned {rc}")));
        }
        let s = kctx.scctx();
        let port = Port {
            vf,
            txrx,
            txq,
            rxq,
            rx: VecDeque::new(),
            rx_spare: Vec::new(),
            if_flags: IFF_BROADCAST | IFF_SIMPLEX | IFF_MULTICAST,
            ifc_if_flags: IFF_BROADCAST | IFF_SIMPLEX | IFF_MULTICAST,
            next_timer_ns: 0,
            rings,
            tx_nsegments: s.isc_tx_nsegments.max(1) as usize,
            tso_segments_max: s.isc_tx_tso_segments_max.max(1) as usize,
            rx_mbuf_sz: 2048,
            vlans: Vec::new(),
            kctx,
        };
        self.note(
            vf,
            format!(
                "attached, lladdr {}",
                crate::pkt::fmt_mac(port.kctx.lladdr())
            ),
        );
        self.ports[vf] = Some(port);
        Ok(())
    }

    /// Check msix_intr_assign registered vector 0 as ADMIN and one RXTX vector per
    /// RX queue, each with a filter.
    fn check_irqs(&self, vf: usize, kctx: &IflibCtx, queues: u32) {
        let irqs = kctx.irqs.borrow();
        match irqs.iter().find(|s| s.vector == 0) {
            Some(s) if s.ty == IFLIB_INTR_ADMIN && s.filter.is_some() => {}
            _ => self.sh.error(format!(
                "vf{vf}: vector 0 is not an ADMIN interrupt with a filter"
            )),
        }
        for q in 0..queues {
            if !irqs
                .iter()
                .any(|s| s.ty != IFLIB_INTR_ADMIN && s.qid == q as i32 && s.filter.is_some())
            {
                self.sh
                    .error(format!("vf{vf}: RX queue {q} has no interrupt"));
            }
        }
    }

    // ----- init / stop ---------------------------------------------------------------

    /// `ifconfig up` (SIOCSIFFLAGS with IFF_UP while not running → iflib_init_locked).
    pub fn up(&mut self, vf: usize) {
        let Some(p) = self.port_mut(vf) else { return };
        p.if_flags |= IFF_UP;
        p.ifc_if_flags = p.if_flags;
        self.init_locked(vf);
    }

    /// `ifconfig down` (SIOCSIFFLAGS without IFF_UP while running → iflib_stop).
    pub fn down(&mut self, vf: usize) {
        let Some(p) = self.port_mut(vf) else { return };
        p.if_flags &= !IFF_UP;
        p.ifc_if_flags = p.if_flags;
        if p.kctx.running.get() {
            self.stop(vf);
        }
    }

    /// iflib.c `iflib_init_locked`.
    fn init_locked(&mut self, vf: usize) {
        let Some(p) = self.port(vf) else { return };
        let c = p.kctx.ctx_ptr();
        p.kctx.running.set(false);
        // SAFETY: live context.
        self.ifdi(vf, || unsafe { ifdi::ravf_if_intr_disable(c) });
        // iflib_calc_rx_mbuf_sz.
        let mfs = p.kctx.scctx().isc_max_frame_size;
        let mbuf_sz = if u32::from(mfs) <= MCLBYTES {
            MCLBYTES
        } else {
            MJUMPAGESIZE
        };
        p.kctx.rx_mbuf_sz.set(mbuf_sz);
        self.note(vf, "init: ifdi_init");
        // SAFETY: live context.
        self.ifdi(vf, || unsafe { ifdi::ravf_if_init(c) });
        let now = self.sh.now_ns.get();
        let sh = self.sh.clone();
        let p = self.port_mut(vf).expect("port");
        p.rx_mbuf_sz = mbuf_sz;
        let s = p.kctx.scctx();
        // iflib_fl_setup for each RX queue: buffer size from isc_rxd_buf_size[0] when
        // the driver set one, else the mbuf size; pulled up to a cluster size.
        let want = if s.isc_rxd_buf_size[0] != 0 {
            u32::from(s.isc_rxd_buf_size[0])
        } else {
            mbuf_sz
        };
        let buf_size = if want <= MCLBYTES {
            MCLBYTES
        } else {
            MJUMPAGESIZE
        };
        for q in 0..p.rxq.len() {
            p.rxq[q].reset(&sh.mem);
            p.rxq[q].set_buf_size(&sh.mem, buf_size);
            let n = (p.rxq[q].size - 1).min(128);
            fl_refill(&sh, p, q, n);
        }
        p.kctx.running.set(true);
        p.next_timer_ns = now + TIMER_NS;
        let c = p.kctx.ctx_ptr();
        // SAFETY: live context.
        self.ifdi(vf, || unsafe { ifdi::ravf_if_intr_enable(c) });
    }

    /// iflib.c `iflib_stop`.
    fn stop(&mut self, vf: usize) {
        let Some(p) = self.port(vf) else { return };
        let c = p.kctx.ctx_ptr();
        p.kctx.running.set(false);
        // SAFETY: live context.
        self.ifdi(vf, || unsafe { ifdi::ravf_if_intr_disable(c) });
        self.sh.advance(1_000_000);
        self.note(vf, "stop: ifdi_stop");
        // SAFETY: live context.
        self.ifdi(vf, || unsafe { ifdi::ravf_if_stop(c) });
        self.sh.advance(1_000_000);
        let preserve = self.opts.sctx.flags & IFLIB_PRESERVE_TX_INDICES != 0;
        let sh = self.sh.clone();
        let p = self.port_mut(vf).expect("port");
        for t in p.txq.iter_mut() {
            t.reset(&sh.mem, preserve);
        }
        for r in p.rxq.iter_mut() {
            r.reset(&sh.mem);
        }
        p.kctx.pending_vectors.set(0);
    }

    /// iflib_if_init_locked: stop, then init.
    fn reinit(&mut self, vf: usize) {
        self.stop(vf);
        self.init_locked(vf);
    }

    // ----- ioctls ----------------------------------------------------------------------

    /// SIOCSIFMTU: iflib_stop, IFDI_MTU_SET, if_setmtu on success, iflib_init_locked,
    /// and the driver flags restored. Returns the driver's errno.
    pub fn set_mtu(&mut self, vf: usize, mtu: u32) -> c_int {
        let Some(p) = self.port(vf) else { return ENXIO };
        if p.kctx.mtu.get() == mtu as c_int {
            return 0;
        }
        let was_running = p.kctx.running.get();
        let c = p.kctx.ctx_ptr();
        self.stop(vf);
        // SAFETY: live context.
        let err = self.ifdi(vf, || unsafe { ifdi::ravf_if_mtu_set(c, mtu) });
        let p = self.port(vf).expect("port");
        if err == 0 {
            p.kctx.mtu.set(mtu as c_int);
        }
        self.note(vf, format!("SIOCSIFMTU {mtu}: errno {err}"));
        self.init_locked(vf);
        if !was_running {
            self.port(vf).expect("port").kctx.running.set(false);
        }
        err
    }

    /// `ifconfig ether MAC` (SIOCSIFLLADDR → if_setlladdr, which cycles an up
    /// interface down and up so the driver's init programs the new address).
    pub fn set_lladdr(&mut self, vf: usize, mac: [u8; 6]) {
        let Some(p) = self.port(vf) else { return };
        let was_up = p.if_flags & IFF_UP != 0;
        if was_up {
            self.down(vf);
        }
        if let Some(p) = self.port(vf) {
            p.kctx.set_lladdr(mac);
        }
        if was_up {
            self.up(vf);
        }
    }

    pub fn mtu(&self, vf: usize) -> c_int {
        self.port(vf).map_or(0, |p| p.kctx.mtu.get())
    }

    fn set_flags(&mut self, vf: usize, set: c_int, clear: c_int) -> c_int {
        let Some(p) = self.port_mut(vf) else {
            return ENXIO;
        };
        p.if_flags = (p.if_flags | set) & !clear;
        let flags = p.if_flags;
        // iflib_if_ioctl SIOCSIFFLAGS: running and PROMISC/ALLMULTI changed →
        // IFDI_PROMISC_SET (called with the CTX lock dropped).
        let mut err = 0;
        if p.kctx.running.get() && (flags ^ p.ifc_if_flags) & (IFF_PROMISC | IFF_ALLMULTI) != 0 {
            let c = p.kctx.ctx_ptr();
            // SAFETY: live context.
            err = self.ifdi(vf, || unsafe { ifdi::ravf_if_promisc_set(c, flags) });
        }
        let p = self.port_mut(vf).expect("port");
        p.ifc_if_flags = flags;
        err
    }

    /// `ifconfig promisc` / `-promisc`.
    pub fn set_promisc(&mut self, vf: usize, on: bool) -> c_int {
        if on {
            self.set_flags(vf, IFF_PROMISC, 0)
        } else {
            self.set_flags(vf, 0, IFF_PROMISC)
        }
    }

    /// IFF_ALLMULTI on or off.
    pub fn set_allmulti(&mut self, vf: usize, on: bool) -> c_int {
        if on {
            self.set_flags(vf, IFF_ALLMULTI, 0)
        } else {
            self.set_flags(vf, 0, IFF_ALLMULTI)
        }
    }

    /// SIOCADDMULTI/SIOCDELMULTI with the resulting group list: when running,
    /// IFDI_INTR_DISABLE, IFDI_MULTI_SET (which reads the list through
    /// if_foreach_llmaddr, here ravf_kpi_mc_list), IFDI_INTR_ENABLE.
    pub fn set_multicast(&mut self, vf: usize, list: &[[u8; 6]]) {
        let Some(p) = self.port(vf) else { return };
        *p.kctx.mc_list.borrow_mut() = list.to_vec();
        if !p.kctx.running.get() {
            return;
        }
        let c = p.kctx.ctx_ptr();
        // SAFETY: live context, for the three calls.
        self.ifdi(vf, || unsafe {
            ifdi::ravf_if_intr_disable(c);
            ifdi::ravf_if_multi_set(c);
            ifdi::ravf_if_intr_enable(c);
        });
    }

    /// iflib_vlan_register (the vlan_config event): tags 1..4095; stop/init around it
    /// when the driver says it needs a restart.
    pub fn vlan_register(&mut self, vf: usize, vtag: u16) {
        self.vlan_event(vf, vtag, true)
    }

    pub fn vlan_unregister(&mut self, vf: usize, vtag: u16) {
        self.vlan_event(vf, vtag, false)
    }

    fn vlan_event(&mut self, vf: usize, vtag: u16, add: bool) {
        if vtag == 0 || vtag > 4095 {
            return;
        }
        let Some(p) = self.port(vf) else { return };
        if p.kctx.in_detach.get() {
            return;
        }
        let c = p.kctx.ctx_ptr();
        // SAFETY: live context.
        let restart = self.ifdi(vf, || unsafe {
            ifdi::ravf_if_needs_restart(c, IFLIB_RESTART_VLAN_CONFIG)
        });
        if restart {
            self.stop(vf);
        }
        // SAFETY: live context.
        self.ifdi(vf, || unsafe {
            if add {
                ifdi::ravf_if_vlan_register(c, vtag)
            } else {
                ifdi::ravf_if_vlan_unregister(c, vtag)
            }
        });
        if restart {
            self.init_locked(vf);
        }
        let p = self.port_mut(vf).expect("port");
        if add {
            p.vlans.push(vtag);
        } else {
            p.vlans.retain(|&v| v != vtag);
        }
    }

    /// iflib_media_status: IFDI_UPDATE_ADMIN_STATUS then IFDI_MEDIA_STATUS.
    pub fn media_status(&mut self, vf: usize) -> Option<Media> {
        let p = self.port(vf)?;
        let c = p.kctx.ctx_ptr();
        // SAFETY: ifmediareq is plain old data; zeroed is a valid request.
        let mut req: ifmediareq = unsafe { std::mem::zeroed() };
        req.ifm_current = p.kctx.media_current.get();
        // SAFETY: live context; req outlives the call.
        self.ifdi(vf, || unsafe {
            ifdi::ravf_if_update_admin_status(c);
            ifdi::ravf_if_media_status(c, &mut req);
        });
        Some(Media {
            status: req.ifm_status,
            active: req.ifm_active,
        })
    }

    /// `ifconfig media X` (iflib_media_change → IFDI_MEDIA_CHANGE, init on success).
    pub fn media_change(&mut self, vf: usize) -> c_int {
        let Some(p) = self.port(vf) else { return ENXIO };
        let c = p.kctx.ctx_ptr();
        // SAFETY: live context.
        let err = self.ifdi(vf, || unsafe { ifdi::ravf_if_media_change(c) });
        if err == 0 {
            self.reinit(vf);
        }
        err
    }

    /// iflib_if_get_counter → IFDI_GET_COUNTER.
    pub fn get_counter(&self, vf: usize, cnt: ift_counter) -> u64 {
        let Some(p) = self.port(vf) else { return 0 };
        let c = p.kctx.ctx_ptr();
        // SAFETY: live context.
        self.ifdi(vf, || unsafe { ifdi::ravf_if_get_counter(c, cnt) })
    }

    /// Read a sysctl node of the driver, e.g. `"resets_detected"`,
    /// `"vsi.rxq00.desc_err"` or `"vsi.txq01.tso"` (kmod/ravf_sysctl.c's view).
    pub fn sysctl_u64(&self, vf: usize, path: &str) -> Option<u64> {
        use crate::ifdi::{
            RavfSysctlDesc, RAVF_SYSCTL_NODE_DEV, RAVF_SYSCTL_NODE_RXQ, RAVF_SYSCTL_NODE_TXQ,
            RAVF_SYSCTL_NODE_VSI,
        };
        let p = self.port(vf)?;
        let (node, queue, name) = if let Some(rest) = path.strip_prefix("vsi.rxq") {
            let (q, n) = rest.split_once('.')?;
            (RAVF_SYSCTL_NODE_RXQ, q.parse::<u32>().ok()?, n)
        } else if let Some(rest) = path.strip_prefix("vsi.txq") {
            let (q, n) = rest.split_once('.')?;
            (RAVF_SYSCTL_NODE_TXQ, q.parse::<u32>().ok()?, n)
        } else if let Some(n) = path.strip_prefix("vsi.") {
            (RAVF_SYSCTL_NODE_VSI, 0, n)
        } else {
            (RAVF_SYSCTL_NODE_DEV, 0, path)
        };
        // Walk the table as kmod/ravf_sysctl.c does.
        let mut idx = None;
        for i in 0..1024u32 {
            let mut d = RavfSysctlDesc {
                rsd_name: std::ptr::null(),
                rsd_descr: std::ptr::null(),
                rsd_node: 0,
                rsd_kind: 0,
            };
            // SAFETY: d is valid for one write.
            if unsafe { ifdi::ravf_sysctl_desc(i, &mut d) } != 0 {
                break;
            }
            // SAFETY: the driver's table holds NUL-terminated static names.
            let n = unsafe { std::ffi::CStr::from_ptr(d.rsd_name) };
            if d.rsd_node == node && n.to_bytes() == name.as_bytes() {
                idx = Some(i);
                break;
            }
        }
        let idx = idx?;
        let sc = p.kctx.softc_ptr();
        let mut out = 0u64;
        // SAFETY: sc is this driver's softc; out is valid for one write.
        let rc = self.ifdi(vf, || unsafe {
            ifdi::ravf_sysctl_get_u64(sc, idx, queue, &mut out)
        });
        (rc == 0).then_some(out)
    }

    /// iflib's own counter (if_get_counter_default).
    pub fn iflib_counter(&self, vf: usize, cnt: ift_counter) -> u64 {
        self.port(vf).map_or(0, |p| {
            p.kctx
                .counters
                .borrow()
                .get(cnt as usize)
                .copied()
                .unwrap_or(0)
        })
    }

    /// iflib_device_shutdown: IFDI_SHUTDOWN under the CTX lock.
    pub fn shutdown(&mut self, vf: usize) -> c_int {
        let Some(p) = self.port(vf) else { return ENXIO };
        let c = p.kctx.ctx_ptr();
        // SAFETY: live context.
        self.ifdi(vf, || unsafe { ifdi::ravf_if_shutdown(c) })
    }

    /// iflib_device_suspend: IFDI_SUSPEND under the CTX lock.
    pub fn suspend(&mut self, vf: usize) -> c_int {
        let Some(p) = self.port(vf) else { return ENXIO };
        let c = p.kctx.ctx_ptr();
        // SAFETY: live context.
        self.ifdi(vf, || unsafe { ifdi::ravf_if_suspend(c) })
    }

    /// iflib_device_resume: IFDI_RESUME, then iflib_if_init_locked (stop + init).
    pub fn resume(&mut self, vf: usize) -> c_int {
        let Some(p) = self.port(vf) else { return ENXIO };
        let c = p.kctx.ctx_ptr();
        // SAFETY: live context.
        let rc = self.ifdi(vf, || unsafe { ifdi::ravf_if_resume(c) });
        self.reinit(vf);
        rc
    }

    /// iflib_device_deregister: stop, IFDI_DETACH, free interrupts, queues and rings.
    pub fn detach(&mut self, vf: usize) -> c_int {
        let Some(p) = self.port(vf) else { return ENXIO };
        p.kctx.in_detach.set(true);
        let c = p.kctx.ctx_ptr();
        if p.kctx.running.get() {
            self.stop(vf);
        }
        self.note(vf, "detach: ifdi_detach");
        // SAFETY: live context.
        let rc = self.ifdi(vf, || unsafe { ifdi::ravf_if_detach(c) });
        // SAFETY: live context.
        self.ifdi(vf, || unsafe { ifdi::ravf_if_queues_free(c) });
        let p = self.ports[vf].take().expect("port");
        if !p.kctx.irqs.borrow().is_empty() {
            self.sh.error(format!(
                "vf{vf}: detach left {} interrupts allocated",
                p.kctx.irqs.borrow().len()
            ));
        }
        if p.kctx.bar_mapped.get() {
            self.sh.error(format!("vf{vf}: detach left BAR0 mapped"));
        }
        if !p.kctx.dma.borrow().is_empty() {
            self.sh.error(format!(
                "vf{vf}: detach left {} DMA allocations",
                p.kctx.dma.borrow().len()
            ));
        }
        for b in p.rings.iter() {
            self.sh.mem.free(*b);
        }
        for t in p.txq.iter() {
            self.sh.mem.free(t.arena.buf);
        }
        for r in p.rxq.iter() {
            if let Some(b) = r.bufs {
                self.sh.mem.free(b);
            }
        }
        self.unregister(&p.kctx);
        rc
    }

    // ----- transmit ------------------------------------------------------------------

    /// Send one frame on queue 0 (or the queue iflib would pick from a flowid: the
    /// caller chooses with [`send_on`](Self::send_on)). The doorbell rings before
    /// this returns.
    pub fn send(&mut self, vf: usize, frame: &[u8], off: Offload) -> Result<(), TxError> {
        self.send_on(vf, 0, frame, off, &SegLayout::Contiguous)
    }

    pub fn send_on(
        &mut self,
        vf: usize,
        q: usize,
        frame: &[u8],
        off: Offload,
        layout: &SegLayout,
    ) -> Result<(), TxError> {
        let r = self.send_batch(vf, q, &[(frame, off)], layout);
        match r {
            Ok(1) => Ok(()),
            Ok(_) => Err(TxError::NoBufs),
            Err(e) => Err(e),
        }
    }

    /// iflib.c `iflib_txq_drain` over a batch: reclaim, encap each packet (stopping
    /// at ENOBUFS), doorbell per the policy. Returns how many were sent; packet
    /// errors other than ENOBUFS drop that packet (and are returned if it was the
    /// only one).
    pub fn send_batch(
        &mut self,
        vf: usize,
        q: usize,
        pkts: &[(&[u8], Offload)],
        layout: &SegLayout,
    ) -> Result<usize, TxError> {
        let sh = self.sh.clone();
        let sctx = self.opts.sctx;
        let doorbell = self.opts.doorbell;
        let Some(p) = self.port_mut(vf) else {
            return Err(TxError::NoPort);
        };
        if !p.kctx.running.get() || p.kctx.link_state.get() != LINK_STATE_UP {
            return Err(TxError::NetDown);
        }
        if q >= p.txq.len() {
            return Err(TxError::NoPort);
        }
        completed_tx_reclaim(&sh, p, q, sctx.tx_reclaim_thresh);
        let mut sent = 0;
        let mut last_err = None;
        for (frame, off) in pkts {
            match encap(&sh, &sctx, p, q, frame, *off, layout) {
                Ok(()) => {
                    sent += 1;
                    if doorbell == Doorbell::Iflib {
                        let t = &p.txq[q];
                        let max_tx = p.tx_nsegments.max(p.tso_segments_max) as u16;
                        if t.db_pending >= t.max_db_deferred() || t.avail() <= max_tx + 2 {
                            txd_flush(&sh, p, q);
                        }
                    }
                }
                Err(TxError::NoBufs) => {
                    last_err = Some(TxError::NoBufs);
                    break;
                }
                Err(e) => last_err = Some(e),
            }
        }
        if p.txq[q].db_pending > 0 {
            txd_flush(&sh, p, q);
        }
        let mut ctrs = p.kctx.counters.borrow_mut();
        ctrs[IFCOUNTER_OPACKETS as usize] += sent as u64;
        drop(ctrs);
        match (sent, last_err) {
            (0, Some(e)) if pkts.len() == 1 => Err(e),
            _ => Ok(sent),
        }
    }

    /// Reclaim completed TX descriptors on every queue of `vf` (iflib's TX task).
    pub fn tx_reclaim(&mut self, vf: usize) -> usize {
        let sh = self.sh.clone();
        let thresh = self.opts.sctx.tx_reclaim_thresh;
        let Some(p) = self.port_mut(vf) else { return 0 };
        (0..p.txq.len())
            .map(|q| completed_tx_reclaim(&sh, p, q, thresh))
            .sum()
    }

    /// Descriptors in use on TX queue `q` (encapsulated, not yet reclaimed).
    pub fn tx_in_use(&self, vf: usize, q: usize) -> u16 {
        self.port(vf)
            .and_then(|p| p.txq.get(q))
            .map_or(0, |t| t.in_use)
    }

    // ----- receive ---------------------------------------------------------------------

    /// The next frame iflib passed up the stack for `vf`.
    pub fn recv(&mut self, vf: usize) -> Option<RxFrame> {
        self.port_mut(vf).and_then(|p| p.rx.pop_front())
    }

    /// Drop every received frame of `vf`; returns how many there were (benchmarks).
    pub fn rx_discard(&mut self, vf: usize) -> usize {
        self.port_mut(vf).map_or(0, |p| {
            let n = p.rx.len();
            for f in p.rx.drain(..) {
                if p.rx_spare.len() < RX_SPARE_MAX {
                    p.rx_spare.push(f.data);
                }
            }
            n
        })
    }

    /// All frames received so far for `vf`.
    pub fn recv_all(&mut self, vf: usize) -> Vec<RxFrame> {
        self.port_mut(vf)
            .map(|p| p.rx.drain(..).collect())
            .unwrap_or_default()
    }

    // ----- the scheduler ---------------------------------------------------------------

    /// One pass of everything the kernel would run concurrently: deliver interrupts,
    /// run the ravf admin task, iflib's admin task and timers, and the queue tasks.
    /// Returns whether anything happened.
    pub fn poll(&mut self) -> bool {
        let sh = self.sh.clone();
        let mut any = sched::poll_irqs(&sh);
        any |= sched::run_admin_tasks(&sh);
        for vf in 0..self.ports.len() {
            let Some(p) = self.port(vf) else { continue };
            // _task_fn_admin.
            if p.kctx.iflib_admin_pending.get() {
                p.kctx.iflib_admin_pending.set(false);
                any = true;
                self.task_fn_admin(vf);
            }
            // iflib_timer, per TX queue, every hz/2.
            let now = sh.now_ns.get();
            let Some(p) = self.port_mut(vf) else { continue };
            if p.kctx.running.get() && now >= p.next_timer_ns {
                p.next_timer_ns = now + TIMER_NS;
                let c = p.kctx.ctx_ptr();
                let n = p.txq.len();
                for q in 0..n {
                    // SAFETY: live context.
                    in_exec(&sh, Exec::Iflib, vf, || unsafe {
                        ifdi::ravf_if_timer(c, q as u16)
                    });
                }
                any = true;
            }
            any |= self.queue_tasks(vf);
        }
        any
    }

    /// iflib.c `_task_fn_admin`.
    fn task_fn_admin(&mut self, vf: usize) {
        let Some(p) = self.port(vf) else { return };
        let do_reset = p.kctx.do_reset.replace(false);
        let always = self.opts.sctx.flags & IFLIB_ADMIN_ALWAYS_RUN != 0;
        if (!p.kctx.running.get() && !always) || p.kctx.in_detach.get() {
            return;
        }
        let c = p.kctx.ctx_ptr();
        // SAFETY: live context.
        self.ifdi(vf, || unsafe { ifdi::ravf_if_update_admin_status(c) });
        if do_reset {
            self.note(vf, "admin task: IFC_DO_RESET → stop and init");
            self.reinit(vf);
        }
    }

    /// The queue vectors that fired: iflib_fast_intr_rxtx (driver filter, then the
    /// "anything to do?" checks), then _task_fn_tx and _task_fn_rx where there is.
    fn queue_tasks(&mut self, vf: usize) -> bool {
        let sh = self.sh.clone();
        let thresh = self.opts.sctx.tx_reclaim_thresh;
        let budget = if self.opts.rx_budget == 0 {
            16
        } else {
            self.opts.rx_budget
        };
        let rx_nsegs = self.opts.sctx.rx_nsegments;
        let Some(p) = self.port_mut(vf) else {
            return false;
        };
        let bits = p.kctx.pending_vectors.replace(0);
        if bits == 0 {
            return false;
        }
        let c = p.kctx.ctx_ptr();
        let slots = sched::IrqSnapshot::take(&p.kctx, bits);
        let (Some(credits), Some(avail)) =
            (p.txrx.ift_txd_credits_update, p.txrx.ift_rxd_available)
        else {
            return false;
        };
        let softc = p.kctx.softc_ptr();
        // The set bits in ascending order (as a 0..32 scan would visit them).
        for v in sched::set_bits(bits) {
            let Some(s) = slots.find(v) else {
                continue;
            };
            let q = s.qid as usize;
            if q >= p.rxq.len() {
                continue;
            }
            p.rxq[q].stats.irqs += 1;
            if let Some(f) = s.filter {
                let arg = s.arg;
                // SAFETY: the filter and arg the driver registered for this vector.
                let r = in_exec(&sh, Exec::Filter, vf, || unsafe { f(arg) });
                if r & FILTER_SCHEDULE_THREAD == 0 {
                    continue;
                }
            }
            // The TX queue sharing this interrupt (iflib_softirq_alloc_generic).
            if q < p.txq.len() {
                // SAFETY: the driver's callback with its softc and a valid queue id.
                let work = in_exec(&sh, Exec::Filter, vf, || unsafe {
                    credits(softc, q as u16, false)
                });
                if work == 0 {
                    // SAFETY: live context.
                    in_exec(&sh, Exec::Filter, vf, || unsafe {
                        ifdi::ravf_if_tx_queue_intr_enable(c, q as u16)
                    });
                } else if p.kctx.running.get() {
                    // _task_fn_tx: reclaim, then re-arm.
                    completed_tx_reclaim(&sh, p, q, thresh);
                    // SAFETY: live context.
                    in_exec(&sh, Exec::DataPath, vf, || unsafe {
                        ifdi::ravf_if_tx_queue_intr_enable(c, q as u16)
                    });
                }
            }
            let cidx = p.rxq[q].cidx;
            // SAFETY: the driver's callback with its softc, a valid queue and iflib's cidx.
            let ready = in_exec(&sh, Exec::Filter, vf, || unsafe {
                avail(softc, q as u16, cidx, 1)
            });
            if ready == 0 || !p.kctx.running.get() {
                // SAFETY: live context.
                in_exec(&sh, Exec::Filter, vf, || unsafe {
                    ifdi::ravf_if_rx_queue_intr_enable(c, q as u16)
                });
                continue;
            }
            // _task_fn_rx: iflib_rxeof until it reports no more, then re-arm.
            let mut rounds = 0;
            while rxeof(&sh, p, q, budget, rx_nsegs) && rounds < 1024 {
                rounds += 1;
            }
            if rounds >= 1024 {
                sh.error(format!(
                    "vf{vf}: RX queue {q} never ran dry (rxd_available keeps reporting work)"
                ));
            }
            if p.kctx.running.get() {
                // SAFETY: live context.
                in_exec(&sh, Exec::DataPath, vf, || unsafe {
                    ifdi::ravf_if_rx_queue_intr_enable(c, q as u16)
                });
            }
        }
        true
    }

    /// Let `ns` of virtual time pass in the emulator (no polling).
    pub fn step(&mut self, ns: u64) {
        self.sh.advance(ns);
    }

    /// Advance virtual time by `ns` in 10 µs steps, running [`poll`](Self::poll) at
    /// each step.
    pub fn run_for(&mut self, ns: u64) {
        let end = self.sh.now_ns.get() + ns;
        while self.sh.now_ns.get() < end {
            let step = (end - self.sh.now_ns.get()).min(10_000);
            self.sh.advance(step);
            self.poll();
        }
    }

    /// Run until nothing has happened for 10 ms of virtual time (longer than any
    /// interrupt throttle), or at most `limit_ns`. Returns whether it went quiet.
    pub fn run_until_idle_for(&mut self, limit_ns: u64) -> bool {
        let start = self.sh.now_ns.get();
        let mut quiet_since = start;
        let mut step = MIN_STEP_NS;
        loop {
            let now = self.sh.now_ns.get();
            if now - quiet_since >= 10_000_000 {
                return true;
            }
            if now - start >= limit_ns {
                return false;
            }
            if self.poll() {
                quiet_since = self.sh.now_ns.get();
                step = MIN_STEP_NS;
            } else {
                step = (step * 2).min(MAX_STEP_NS);
            }
            self.sh.advance(step);
        }
    }

    /// [`run_until_idle_for`](Self::run_until_idle_for) with a 10 s limit.
    pub fn run_until_idle(&mut self) -> bool {
        self.run_until_idle_for(10_000_000_000)
    }

    /// Run until `cond` holds or `limit_ns` of virtual time passed.
    pub fn run_until(&mut self, limit_ns: u64, mut cond: impl FnMut(&mut Machine) -> bool) -> bool {
        let end = self.sh.now_ns.get() + limit_ns;
        let mut step = MIN_STEP_NS;
        loop {
            let busy = self.poll();
            if cond(self) {
                return true;
            }
            if self.sh.now_ns.get() >= end {
                return false;
            }
            step = if busy {
                MIN_STEP_NS
            } else {
                (step * 2).min(MAX_STEP_NS)
            };
            self.sh.advance(step);
        }
    }

    /// For the benchmark: one lean pass (interrupts and queue tasks only).
    pub fn pump(&mut self, ns: u64) {
        if ns > 0 {
            self.sh.advance(ns);
        }
        let sh = self.sh.clone();
        sched::poll_irqs(&sh);
        for vf in 0..self.ports.len() {
            self.queue_tasks(vf);
        }
    }

    /// Direct access to the driver's if_txrx and softc (benchmarks).
    pub fn raw(&self, vf: usize) -> Option<(if_txrx, *mut std::ffi::c_void)> {
        self.port(vf).map(|p| (p.txrx, p.kctx.softc_ptr()))
    }
}

impl Drop for Machine {
    fn drop(&mut self) {
        // Leave the drivers attached (tests may drop a machine mid-flight); only the
        // thread-local goes back.
        ctx::set_current(self.prev.take());
    }
}

// ----- the data path, as free functions over one port ------------------------------

fn txd_flush(sh: &Shared, p: &mut Port, q: usize) {
    let t = &mut p.txq[q];
    let Some(flush) = p.txrx.ift_txd_flush else {
        return;
    };
    let softc = p.kctx.softc_ptr();
    let pidx = t.pidx;
    // SAFETY: the driver's txd_flush with its softc, a valid queue id and iflib's pidx.
    in_exec(sh, Exec::DataPath, p.vf, || unsafe {
        flush(softc, q as u16, pidx)
    });
    t.db_pending = 0;
    t.stats.flushes += 1;
}

/// iflib.c `iflib_completed_tx_reclaim` (with iflib_tx_credits_update and
/// iflib_tx_desc_free).
fn completed_tx_reclaim(sh: &Shared, p: &mut Port, q: usize, thresh: u64) -> usize {
    let Some(credits) = p.txrx.ift_txd_credits_update else {
        return 0;
    };
    let softc = p.kctx.softc_ptr();
    let vf = p.vf;
    let nseg = p.tx_nsegments as u64;
    let t = &mut p.txq[q];
    // iflib_tx_credits_update: clear = true only (the peek is the filter's).
    // SAFETY: the driver's callback with its softc and a valid queue id.
    let n = in_exec(sh, Exec::DataPath, vf, || unsafe {
        credits(softc, q as u16, true)
    });
    if n < 0 {
        sh.error(format!("vf{vf}: txd_credits_update(q{q}) returned {n}"));
        return 0;
    }
    if n == 0 {
        return 0;
    }
    let outstanding = u64::from(t.in_use) - (t.processed - t.cleaned);
    if n as u64 > outstanding {
        sh.error(format!("vf{vf}: txd_credits_update(q{q}) returned {n} credits, only {outstanding} descriptors outstanding"));
        return 0;
    }
    t.processed += n as u64;
    // DESC_RECLAIMABLE: processed - cleaned - isc_tx_nsegments.
    let reclaimable = (t.processed - t.cleaned).saturating_sub(nseg);
    if reclaimable <= thresh {
        return 0;
    }
    let mask = t.size - 1;
    for _ in 0..reclaimable {
        let i = usize::from(t.cidx);
        if let Some(pkt) = t.slots[i].take() {
            if !t.arena.free(pkt.arena_off) {
                sh.error(format!(
                    "vf{vf}: TX q{q} buffers reclaimed out of order at slot {i}"
                ));
            }
        }
        t.cidx = (t.cidx + 1) & mask;
        if t.cidx == 0 {
            t.gen = false;
        }
    }
    t.cleaned += reclaimable;
    t.in_use -= reclaimable as u16;
    t.stats.reclaimed += reclaimable;
    reclaimable as usize
}

/// The pieces ("mbufs") of one frame; one piece needs no allocation.
enum Pieces {
    One([usize; 1]),
    Many(Vec<usize>),
}

impl Pieces {
    fn as_slice(&self) -> &[usize] {
        match self {
            Pieces::One(a) => a,
            Pieces::Many(v) => v,
        }
    }
}

/// Split a frame into the pieces of `layout`.
fn pieces(len: usize, layout: &SegLayout) -> Pieces {
    match layout {
        SegLayout::Contiguous => Pieces::One([len]),
        SegLayout::Chunks(n) => {
            let n = (*n).max(1);
            let mut v = vec![n; len / n];
            if len % n != 0 {
                v.push(len % n);
            }
            Pieces::Many(v)
        }
        SegLayout::Explicit(v) if v.iter().sum::<usize>() == len => Pieces::Many(v.clone()),
        SegLayout::Explicit(_) => Pieces::One([len]),
    }
}

/// iflib.c `iflib_encap` for one frame.
fn encap(
    sh: &Shared,
    sctx: &Sctx,
    p: &mut Port,
    q: usize,
    frame: &[u8],
    off: Offload,
    layout: &SegLayout,
) -> Result<(), TxError> {
    let vf = p.vf;
    // The mbuf: the caller's bytes, copied only when the stack or iflib edits them.
    let mut buf: Cow<'_, [u8]> = Cow::Borrowed(frame);
    let csum_flags = if off == Offload::NONE {
        0
    } else {
        off.csum_flags(frame)
    };
    if csum_flags != 0 {
        // The stack's share: what it leaves in the headers for the offloads it asks for.
        parse::stack_prepare(buf.to_mut(), csum_flags);
    }
    if sctx.flags & IFLIB_NEED_ETHER_PAD != 0 {
        let min = usize::from(p.kctx.scctx().isc_min_frame_size);
        if buf.len() < min {
            buf.to_mut().resize(min, 0);
        }
    }
    let t = &mut p.txq[q];
    // SAFETY: if_pkt_info is plain old data; zeroed is pkt_info_zero.
    let mut pi: if_pkt_info = unsafe { std::mem::zeroed() };
    let mut mflags = 0u8;
    if off.vlan.is_some() {
        mflags |= M_VLANTAG as u8;
    }
    if buf.len() >= 6 && buf[..6] == [0xff; 6] {
        mflags |= M_BCAST as u8;
    } else if !buf.is_empty() && buf[0] & 1 != 0 {
        mflags |= M_MCAST as u8;
    }
    pi.ipi_mflags = mflags;
    pi.ipi_pidx = t.pidx;
    pi.ipi_qsidx = q as u16;
    pi.ipi_len = buf.len() as u32;
    pi.ipi_csum_flags = csum_flags;
    pi.ipi_vtag = off.vlan.unwrap_or(0);
    let tso = csum_flags & (CSUM_IP_TSO | CSUM_IP6_TSO) != 0;
    if pi.ipi_csum_flags | u32::from(pi.ipi_vtag) != 0 {
        parse::parse_header(buf.to_mut(), &mut pi, sctx.flags, off.tso_mss.unwrap_or(0)).map_err(
            |e| {
                t.stats.encap_errors += 1;
                TxError::Parse(e)
            },
        )?;
    }
    let (max_segs, maxsegsize) = if tso {
        (p.tso_segments_max, sctx.tso_maxsegsize)
    } else {
        (p.tx_nsegments, sctx.tx_maxsegsize)
    };
    let mut pcs = pieces(buf.len(), layout);
    let mut remap = 0;
    loop {
        // bus_dmamap_load_mbuf_sg.
        let Some(arena_off) = t.load(&sh.mem, &buf, pcs.as_slice(), maxsegsize) else {
            t.stats.no_desc_avail += 1;
            return Err(TxError::NoBufs);
        };
        let nsegs = t.segs.len();
        if nsegs > max_segs {
            // EFBIG from busdma: m_collapse/m_defrag, once.
            t.arena.unalloc(arena_off);
            if remap >= 1 {
                t.stats.mbuf_defrag_failed += 1;
                return Err(TxError::Encap(EFBIG));
            }
            remap = 1;
            t.stats.mbuf_defrag += 1;
            pcs = pieces(buf.len(), &SegLayout::Chunks(MCLBYTES as usize));
            continue;
        }
        if nsegs + 2 > usize::from(t.avail()) {
            t.arena.unalloc(arena_off);
            t.stats.no_desc_avail += 1;
            return Err(TxError::NoBufs);
        }
        // Report-status policy.
        t.rs_pending += nsegs as u16 + 1;
        let max_tx = p.tx_nsegments.max(p.tso_segments_max);
        pi.ipi_flags &= !IPI_TX_INTR;
        if t.rs_pending > t.max_rs_deferred() || usize::from(t.avail()) - nsegs <= max_tx + 2 {
            pi.ipi_flags |= IPI_TX_INTR;
            t.rs_pending = 0;
            t.stats.rs_requests += 1;
        }
        pi.ipi_segs = t.segs.as_mut_ptr();
        pi.ipi_nsegs = nsegs as u16;
        pi.ipi_new_pidx = 0;
        pi.ipi_ndescs = 0;
        let pidx = t.pidx;
        let Some(encap_fn) = p.txrx.ift_txd_encap else {
            return Err(TxError::NoPort);
        };
        let softc = p.kctx.softc_ptr();
        // SAFETY: pi and the segment array it points to live across the call.
        let err = in_exec(sh, Exec::DataPath, vf, || unsafe {
            encap_fn(softc, &mut pi)
        });
        if err == 0 {
            let size = t.size;
            if pi.ipi_new_pidx >= size {
                sh.error(format!(
                    "vf{vf}: txd_encap set ipi_new_pidx {} >= ring size {size}",
                    pi.ipi_new_pidx
                ));
                t.arena.unalloc(arena_off);
                return Err(TxError::Encap(EINVAL));
            }
            let mut ndesc = pi.ipi_new_pidx.wrapping_sub(pidx);
            if pi.ipi_new_pidx < pidx {
                ndesc = ndesc.wrapping_add(size);
                t.gen = true;
            }
            if pi.ipi_new_pidx == pidx || usize::from(ndesc) > nsegs + 2 {
                sh.error(format!(
                    "vf{vf}: txd_encap used {ndesc} descriptors for {nsegs} segments (pidx {pidx} -> {})",
                    pi.ipi_new_pidx
                ));
            }
            t.in_use += ndesc;
            t.pidx = pi.ipi_new_pidx;
            t.db_pending += ndesc;
            t.slots[usize::from(pidx)] = Some(TxPkt {
                arena_off,
                len: buf.len(),
            });
            t.stats.packets += 1;
            t.stats.bytes += buf.len() as u64;
            t.stats.descs += u64::from(ndesc);
            p.kctx.counters.borrow_mut()[IFCOUNTER_OBYTES as usize] += buf.len() as u64;
            return Ok(());
        }
        t.arena.unalloc(arena_off);
        if err == EFBIG {
            t.stats.encap_efbig += 1;
            if remap < 2 {
                // iflib: remap = 1; goto defrag → m_defrag, retry once.
                remap = 2;
                t.stats.mbuf_defrag += 1;
                pcs = pieces(buf.len(), &SegLayout::Chunks(MCLBYTES as usize));
                continue;
            }
            t.stats.mbuf_defrag_failed += 1;
        } else {
            t.stats.encap_errors += 1;
        }
        return Err(TxError::Encap(err));
    }
}

/// iflib.c `iflib_fl_refill` for `count` buffers (count <= size - credits - 1).
fn fl_refill(sh: &Shared, p: &mut Port, q: usize, count: u16) {
    let (Some(refill), Some(flush)) = (p.txrx.ift_rxd_refill, p.txrx.ift_rxd_flush) else {
        return;
    };
    let softc = p.kctx.softc_ptr();
    let vf = p.vf;
    let r = &mut p.rxq[q];
    if count == 0 {
        return;
    }
    let mask = r.size - 1;
    let mut n = 0usize;
    let mut pidx = r.pidx;
    let mut idx = r.pidx;
    let mut left = count;
    while left > 0 {
        left -= 1;
        if r.posted[usize::from(idx)] {
            sh.error(format!(
                "vf{vf}: RX q{q} slot {idx} refilled while still posted"
            ));
        }
        r.paddrs[n] = r.buf_addr(idx);
        r.idxs[n] = idx;
        r.posted[usize::from(idx)] = true;
        n += 1;
        idx = (idx + 1) & mask;
        if left == 0 || n == IFLIB_MAX_RX_REFRESH {
            let mut iru = if_rxd_update {
                iru_paddrs: r.paddrs.as_mut_ptr(),
                iru_idxs: r.idxs.as_mut_ptr(),
                iru_pidx: pidx,
                iru_qsidx: q as u16,
                iru_count: n as u16,
                iru_buf_size: r.buf_size as u16,
                iru_flidx: 0,
            };
            // SAFETY: iru and the arrays it points to live across the call.
            in_exec(sh, Exec::DataPath, vf, || unsafe {
                refill(softc, &mut iru)
            });
            r.credits += n as u16;
            r.pidx = idx;
            r.stats.refills += 1;
            pidx = idx;
            n = 0;
        }
    }
    let fpidx = r.pidx;
    // SAFETY: the driver's rxd_flush with a valid queue and iflib's pidx.
    in_exec(sh, Exec::DataPath, vf, || unsafe {
        flush(softc, q as u16, 0, fpidx)
    });
    r.stats.flushes += 1;
}

/// iflib.c `iflib_fl_refill_all`: leave one descriptor unused.
fn fl_refill_all(sh: &Shared, p: &mut Port, q: usize) {
    let r = &p.rxq[q];
    let reclaimable = r.size - r.credits - 1;
    if reclaimable > 0 {
        fl_refill(sh, p, q, reclaimable);
    }
}

/// iflib.c `iflib_rxeof`. Returns whether more work remains.
fn rxeof(sh: &Shared, p: &mut Port, q: usize, budget: u16, rx_nsegments: usize) -> bool {
    let (Some(avail_fn), Some(pkt_get)) = (p.txrx.ift_rxd_available, p.txrx.ift_rxd_pkt_get) else {
        return false;
    };
    let softc = p.kctx.softc_ptr();
    let vf = p.vf;
    let rx_nsegs = rx_nsegments.min(IFLIB_MAX_RX_SEGS);
    let avail_call = |cidx: u16, b: u16| -> c_int {
        // SAFETY: the driver's callback with its softc, a valid queue and iflib's cidx.
        in_exec(sh, Exec::DataPath, vf, || unsafe {
            avail_fn(softc, q as u16, cidx, b)
        })
    };
    let mut avail = avail_call(p.rxq[q].cidx, budget);
    if avail < 0 || avail > c_int::from(p.rxq[q].size) {
        sh.error(format!("vf{vf}: rxd_available(q{q}) returned {avail}"));
        return false;
    }
    if avail == 0 {
        fl_refill_all(sh, p, q);
        return false;
    }
    let mut budget_left = budget;
    let mut rx_bytes = 0u64;
    let mut rx_pkts = 0u64;
    while budget_left > 0 && avail > 0 {
        if !p.kctx.running.get() {
            break;
        }
        let r = &mut p.rxq[q];
        // SAFETY: if_rxd_info is plain old data; zeroed is rxd_info_zero.
        let mut ri: if_rxd_info = unsafe { std::mem::zeroed() };
        ri.iri_qsidx = q as u16;
        ri.iri_cidx = r.cidx;
        ri.iri_ifp = p.kctx.ifp_ptr();
        ri.iri_frags = r.frags.as_mut_ptr();
        // SAFETY: ri and the frag array (IFLIB_MAX_RX_SEGS entries) live across the call.
        let err = in_exec(sh, Exec::DataPath, vf, || unsafe {
            pkt_get(softc, &mut ri)
        });
        if err != 0 {
            // iflib: IFC_DO_RESET and the admin task.
            r.stats.pkt_get_errors += 1;
            p.kctx.do_reset.set(true);
            p.kctx.iflib_admin_pending.set(true);
            sh.note(
                vf,
                format!("rxd_pkt_get(q{q}) returned {err}: IFC_DO_RESET"),
            );
            return false;
        }
        let nfrags = usize::from(ri.iri_nfrags);
        if nfrags == 0 || nfrags > rx_nsegs || ri.iri_len == 0 {
            sh.error(format!(
                "vf{vf}: rxd_pkt_get(q{q}) gave nfrags {nfrags}, len {}",
                ri.iri_len
            ));
            return false;
        }
        // Check every fragment against the ring and the buffers, then assemble.
        let mask = r.size - 1;
        let mut data = p.rx_spare.pop().unwrap_or_default();
        data.clear();
        data.reserve(usize::from(ri.iri_len));
        let mut total = 0usize;
        let mut bad = None;
        for i in 0..nfrags {
            let f = r.frags[i];
            let expect = r.cidx.wrapping_add(i as u16) & mask;
            if f.irf_flid != 0 || f.irf_idx != expect || !r.posted[usize::from(f.irf_idx & mask)] {
                bad = Some(format!(
                    "frag {i}: flid {} idx {} (expected {expect}, posted {})",
                    f.irf_flid,
                    f.irf_idx,
                    r.posted
                        .get(usize::from(f.irf_idx))
                        .copied()
                        .unwrap_or(false)
                ));
                break;
            }
            if u32::from(f.irf_len) > r.buf_size {
                bad = Some(format!(
                    "frag {i}: len {} > buffer {}",
                    f.irf_len, r.buf_size
                ));
                break;
            }
            total += usize::from(f.irf_len);
        }
        if bad.is_none() && total != usize::from(ri.iri_len) {
            bad = Some(format!("frags total {total} != iri_len {}", ri.iri_len));
        }
        if bad.is_none() && usize::from(ri.iri_pad) >= total {
            bad = Some(format!("iri_pad {} >= length {total}", ri.iri_pad));
        }
        if let Some(b) = bad {
            sh.error(format!("vf{vf}: rxd_pkt_get(q{q}) at cidx {}: {b}", r.cidx));
            return false;
        }
        for i in 0..nfrags {
            let f = r.frags[i];
            let skip = if i == 0 { usize::from(ri.iri_pad) } else { 0 };
            if f.irf_len > 0 {
                r.read(
                    &sh.mem,
                    f.irf_idx,
                    skip,
                    &mut data,
                    usize::from(f.irf_len) - skip,
                );
            }
            r.posted[usize::from(f.irf_idx)] = false;
        }
        r.cidx = r.cidx.wrapping_add(nfrags as u16) & mask;
        r.credits -= nfrags as u16;
        r.stats.packets += 1;
        r.stats.frags += nfrags as u64;
        r.stats.bytes += data.len() as u64;
        rx_bytes += data.len() as u64;
        rx_pkts += 1;
        let vtag = if u32::from(ri.iri_flags) & M_VLANTAG != 0 {
            Some(ri.iri_vtag)
        } else {
            None
        };
        p.rx.push_back(RxFrame {
            data,
            qid: q as u16,
            vtag,
            csum_flags: ri.iri_csum_flags,
            csum_data: ri.iri_csum_data,
            flowid: ri.iri_flowid,
            rsstype: ri.iri_rsstype,
            nfrags: ri.iri_nfrags,
        });
        avail -= 1;
        budget_left -= 1;
        if avail == 0 && budget_left > 0 {
            avail = avail_call(p.rxq[q].cidx, budget_left);
        }
    }
    fl_refill_all(sh, p, q);
    {
        let mut c = p.kctx.counters.borrow_mut();
        c[IFCOUNTER_IPACKETS as usize] += rx_pkts;
        c[IFCOUNTER_IBYTES as usize] += rx_bytes;
    }
    avail > 0 || avail_call(p.rxq[q].cidx, 1) > 0
}
