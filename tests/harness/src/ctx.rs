//! The per-device iflib context (what `if_ctx_t`, `device_t` and `if_t` point to in
//! the harness) and the per-thread machine state the KPI functions reach.
//!
//! Every pointer the driver gets from the harness points into an [`IflibCtx`] (or a
//! lock handle); every pointer the driver hands back is looked up in a registry
//! before use, so a wrong pointer becomes a recorded harness error instead of
//! undefined behaviour.

use std::cell::{Cell, RefCell, UnsafeCell};
use std::collections::HashMap;
use std::ffi::c_void;
use std::rc::Rc;
use std::sync::Arc;

use ravf_sim::mem::{DmaBuf, HostMemory};
use ravf_sys::{driver_filter_t, if_softc_ctx, iflib_intr_type_t, LINK_STATE_UNKNOWN};

use crate::device::Device;

/// One log line from the driver (ravf_kpi_log) or the harness.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogLine {
    /// Virtual time in microseconds.
    pub t_us: u64,
    /// The port (VF index) the line belongs to.
    pub vf: usize,
    /// 0 error, 1 warn, 2 info, 3 debug; 9 = harness (iflib stand-in) note.
    pub level: i32,
    pub text: String,
}

/// One interrupt registered by `iflib_irq_alloc_generic`.
#[derive(Clone, Copy, Debug)]
pub struct IrqSlot {
    pub irq: usize,
    pub vector: u32,
    pub ty: iflib_intr_type_t,
    pub filter: Option<driver_filter_t>,
    pub arg: *mut c_void,
    pub qid: i32,
}

/// Execution context, for the checks on what may sleep or lock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exec {
    /// iflib's own thread (ioctl, attach, the CTX-locked ifdi methods): sleepable.
    Iflib,
    /// The ravf admin taskqueue (ravf_admin_task): sleepable.
    AdminTask,
    /// An interrupt filter: no sleeping, no sleepable locks.
    Filter,
    /// The if_txrx data path: no sleeping, no locks, no allocation.
    DataPath,
}

/// The control-plane lock handed out by `ravf_kpi_mtx_init`.
pub struct Mtx {
    pub name: String,
    /// Which context holds it, if any.
    pub held: Cell<Option<Exec>>,
    /// The VF whose attach created it.
    pub vf: usize,
}

/// What `if_ctx_t` points to.
pub struct IflibCtx {
    pub vf: usize,
    /// `struct ravf_softc` storage, RAVF_SOFTC_SIZE bytes, zeroed (iflib allocates the
    /// softc from driver_t.size with M_ZERO).
    pub softc: Box<UnsafeCell<[u64; 1]>>,
    pub scctx: Box<UnsafeCell<if_softc_ctx>>,
    /// Anchors: distinct addresses for device_t, if_t, the media, BAR0 and the admin
    /// task handle, all inside this struct.
    pub dev_anchor: u64,
    pub ifp_anchor: u64,
    pub media_anchor: u64,
    pub bar_anchor: u64,
    pub task_anchor: u64,
    /// iflib_set_mac (ifc_mac) and the ifnet's lladdr (ether_ifattach copies it).
    pub mac: Cell<[u8; 6]>,
    pub lladdr: UnsafeCell<[u8; 8]>,
    pub mtu: Cell<i32>,
    pub rx_mbuf_sz: Cell<u32>,
    pub link_state: Cell<i32>,
    pub baudrate: Cell<u64>,
    pub bar_mapped: Cell<bool>,
    pub bar_size: Cell<u64>,
    pub media: RefCell<Vec<i32>>,
    pub media_current: Cell<i32>,
    pub irqs: RefCell<Vec<IrqSlot>>,
    /// iflib_softirq_alloc_generic registrations: (irq, qid).
    pub softirqs: RefCell<Vec<(usize, i32)>>,
    /// MSI-X vectors iflib allocated (pci_alloc_msix).
    pub msix_vectors: Cell<u32>,
    /// Queue vectors that fired and whose iflib task has not run yet.
    pub pending_vectors: Cell<u32>,
    /// The ravf admin task: arg, pending, running, created.
    pub admin_task_arg: Cell<*mut c_void>,
    pub admin_task_pending: Cell<bool>,
    pub admin_task_running: Cell<bool>,
    pub admin_task_live: Cell<bool>,
    /// iflib's own admin task (iflib_admin_intr_deferred) and IFC_DO_RESET.
    pub iflib_admin_pending: Cell<bool>,
    pub do_reset: Cell<bool>,
    pub in_detach: Cell<bool>,
    /// IFF_DRV_RUNNING.
    pub running: Cell<bool>,
    /// Multicast list for ravf_kpi_mc_list (if_foreach_llmaddr).
    pub mc_list: RefCell<Vec<[u8; 6]>>,
    /// iflib's own counters (if_get_counter_default), indexed by ift_counter.
    pub counters: RefCell<[u64; 12]>,
    /// DMA allocations (iflib_dma_alloc_align), by bus address.
    pub dma: RefCell<HashMap<u64, DmaBuf>>,
}

impl IflibCtx {
    pub fn new(vf: usize) -> Box<IflibCtx> {
        Box::new(IflibCtx {
            vf,
            softc: Box::new(UnsafeCell::new([0; 1])),
            // SAFETY: if_softc_ctx holds integers, arrays and raw pointers only; iflib
            // starts from a zeroed one (it lives in the M_ZERO-allocated iflib_ctx).
            scctx: Box::new(UnsafeCell::new(unsafe { std::mem::zeroed() })),
            dev_anchor: 0,
            ifp_anchor: 0,
            media_anchor: 0,
            bar_anchor: 0,
            task_anchor: 0,
            mac: Cell::new([0; 6]),
            lladdr: UnsafeCell::new([0; 8]),
            mtu: Cell::new(1500),
            rx_mbuf_sz: Cell::new(2048),
            link_state: Cell::new(LINK_STATE_UNKNOWN),
            baudrate: Cell::new(0),
            bar_mapped: Cell::new(false),
            bar_size: Cell::new(0),
            media: RefCell::new(Vec::new()),
            media_current: Cell::new(0),
            irqs: RefCell::new(Vec::new()),
            softirqs: RefCell::new(Vec::new()),
            msix_vectors: Cell::new(0),
            pending_vectors: Cell::new(0),
            admin_task_arg: Cell::new(std::ptr::null_mut()),
            admin_task_pending: Cell::new(false),
            admin_task_running: Cell::new(false),
            admin_task_live: Cell::new(false),
            iflib_admin_pending: Cell::new(false),
            do_reset: Cell::new(false),
            in_detach: Cell::new(false),
            running: Cell::new(false),
            mc_list: RefCell::new(Vec::new()),
            counters: RefCell::new([0; 12]),
            dma: RefCell::new(HashMap::new()),
        })
    }

    pub fn ctx_ptr(&self) -> ravf_sys::if_ctx_t {
        (self as *const IflibCtx).cast_mut().cast()
    }
    pub fn dev_ptr(&self) -> ravf_sys::device_t {
        (&self.dev_anchor as *const u64).cast_mut().cast()
    }
    pub fn ifp_ptr(&self) -> ravf_sys::if_t {
        (&self.ifp_anchor as *const u64).cast_mut().cast()
    }
    pub fn media_ptr(&self) -> *mut ravf_sys::ifmedia {
        (&self.media_anchor as *const u64).cast_mut().cast()
    }
    pub fn bar_ptr(&self) -> *mut c_void {
        (&self.bar_anchor as *const u64).cast_mut().cast()
    }
    pub fn task_ptr(&self) -> *mut c_void {
        (&self.task_anchor as *const u64).cast_mut().cast()
    }
    pub fn softc_ptr(&self) -> *mut c_void {
        self.softc.get().cast()
    }
    pub fn scctx_ptr(&self) -> *mut if_softc_ctx {
        self.scctx.get()
    }
    /// A copy of the softc context (the harness reads it between driver calls).
    pub fn scctx(&self) -> if_softc_ctx {
        // SAFETY: the driver writes the scctx only inside ifdi calls; the harness is
        // single-threaded and reads it between calls. if_softc_ctx is Copy-able POD.
        unsafe { std::ptr::read(self.scctx.get()) }
    }
    pub fn lladdr(&self) -> [u8; 6] {
        // SAFETY: as for scctx: read between driver calls.
        let l = unsafe { *self.lladdr.get() };
        [l[0], l[1], l[2], l[3], l[4], l[5]]
    }
    pub fn set_lladdr(&self, m: [u8; 6]) {
        // SAFETY: as for scctx.
        unsafe {
            let l = &mut *self.lladdr.get();
            l[..6].copy_from_slice(&m);
        }
    }
}

/// The machine state the KPI functions reach through the thread-local.
pub struct Shared {
    pub dev: RefCell<Box<dyn Device>>,
    pub mem: Arc<HostMemory>,
    /// Live contexts (boxed; the addresses are stable), by VF.
    pub ctxs: RefCell<Vec<*const IflibCtx>>,
    pub mtxs: RefCell<Vec<*const Mtx>>,
    pub log: RefCell<Vec<LogLine>>,
    /// Contract violations the stand-in itself detected (bad indices, lengths,
    /// pointers, sleeping in the data path ...).
    pub errors: RefCell<Vec<String>>,
    pub exec: Cell<Exec>,
    /// Virtual time the harness advanced the emulator by (ns).
    pub now_ns: Cell<u64>,
    pub rng: Cell<u64>,
    pub verbose: Cell<bool>,
    /// The VF whose ifdi method or task is running (for logs and lock ownership).
    pub cur_vf: Cell<usize>,
    /// What ravf_kpi_tunables reports.
    pub tunables: Cell<crate::ifdi::RavfTunables>,
}

impl Shared {
    pub fn error(&self, msg: impl Into<String>) {
        let msg = msg.into();
        if self.verbose.get() {
            eprintln!("[harness error] {msg}");
        }
        self.errors.borrow_mut().push(msg);
    }

    pub fn note(&self, vf: usize, text: impl Into<String>) {
        let line = LogLine {
            t_us: self.now_ns.get() / 1000,
            vf,
            level: 9,
            text: text.into(),
        };
        if self.verbose.get() {
            eprintln!("[{:>10} us] vf{} iflib: {}", line.t_us, vf, line.text);
        }
        self.log.borrow_mut().push(line);
    }

    /// Find the context a driver-supplied pointer belongs to. `anchor` is the byte
    /// offset of the anchor field the pointer should address.
    pub fn ctx_from(&self, p: *const c_void, anchor: usize, what: &str) -> Option<&IflibCtx> {
        let addr = p as usize;
        for &c in self.ctxs.borrow().iter() {
            if c as usize + anchor == addr {
                // SAFETY: registered contexts are live Boxes owned by the Machine, which
                // owns this Shared too and unregisters a context before dropping it.
                return Some(unsafe { &*c });
            }
        }
        self.error(format!(
            "{what}: pointer {addr:#x} is not one the harness handed out"
        ));
        None
    }

    pub fn next_random(&self) -> u64 {
        // xorshift64*: deterministic, so runs are reproducible.
        let mut x = self.rng.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng.set(x);
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Advance the emulator's clock.
    pub fn advance(&self, ns: u64) {
        self.dev.borrow_mut().advance(ns);
        self.now_ns.set(self.now_ns.get() + ns);
    }
}

thread_local! {
    static CURRENT: RefCell<Option<Rc<Shared>>> = const { RefCell::new(None) };
}

/// Make `s` the machine the KPI functions on this thread see; returns the previous one.
pub fn set_current(s: Option<Rc<Shared>>) -> Option<Rc<Shared>> {
    CURRENT.with(|c| std::mem::replace(&mut *c.borrow_mut(), s))
}

/// The current machine. Panics (a harness bug, not a driver bug) when a KPI function
/// is called with no machine set up on this thread.
pub fn current() -> Rc<Shared> {
    CURRENT
        .with(|c| c.borrow().clone())
        .expect("ravf-harness: KPI call with no Machine on this thread")
}
