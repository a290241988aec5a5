//! The KPI seam: every C function ravf-ffi calls, in one `extern "C"` block.
//!
//! This file is the single list. The kernel module (`kmod/`) provides each symbol:
//! the `iflib_*`, `if_*` and `ifmedia_*` ones are FreeBSD's own exported functions
//! (declared as in releng/14.3 `sys/net/iflib.h`, `sys/net/if_var.h`,
//! `sys/net/if_media.h`), and the `ravf_kpi_*` ones are one-line C wrappers over
//! macros, static inlines, varargs functions or names that clash with libc. The test
//! harness (`tests/harness`) implements all of them in Rust, with these exact
//! signatures, as `#[no_mangle] extern "C"` functions.
//!
//! Contexts: "any" = interrupt filters included; "sleepable" = attach/detach, iflib's
//! ifdi methods (CTX sx lock held) and the ravf admin taskqueue, never an interrupt
//! filter or the if_txrx data path.

use core::ffi::{c_char, c_int, c_void};

use ravf_sys::{
    device_t, driver_filter_t, if_ctx_t, if_irq_t, if_softc_ctx_t, if_t, iflib_dma_info_t,
    iflib_intr_type_t, ifmedia, ift_counter,
};

extern "C" {
    // ----- iflib accessors (iflib.h) -----------------------------------------------

    /// The softc iflib allocated for this device (`struct ravf_softc *`). Any context.
    pub fn iflib_get_softc(ctx: if_ctx_t) -> *mut c_void;
    /// The newbus device. Any context.
    pub fn iflib_get_dev(ctx: if_ctx_t) -> device_t;
    /// The ifnet. Any context.
    pub fn iflib_get_ifp(ctx: if_ctx_t) -> if_t;
    /// The softc context the driver fills in attach_pre. Any context.
    pub fn iflib_get_softc_ctx(ctx: if_ctx_t) -> if_softc_ctx_t;
    /// The ifmedia iflib owns (for ifmedia_add/ifmedia_set in attach_post).
    pub fn iflib_get_media(ctx: if_ctx_t) -> *mut ifmedia;
    /// Set the interface's link-level address (6 bytes). attach_pre.
    pub fn iflib_set_mac(ctx: if_ctx_t, mac: *const u8);
    /// RX cluster size iflib chose for this init (2048 or 4096). ifdi_init.
    pub fn iflib_get_rx_mbuf_sz(ctx: if_ctx_t) -> u32;

    // ----- iflib services (iflib.h) ------------------------------------------------

    /// Report link state (`LINK_STATE_*`) and speed in bit/s. Sleepable; no iflib lock
    /// needed (FreeBSD iavf calls it from its own vc task).
    pub fn iflib_link_state_change(ctx: if_ctx_t, link_state: c_int, baudrate: u64);
    /// Enqueue iflib's admin task (runs ifdi_update_admin_status under the CTX lock,
    /// then a full reinit if a reset was requested). Any context.
    pub fn iflib_admin_intr_deferred(ctx: if_ctx_t);
    /// Mark the interface for a full stop/init on the next admin task run.
    pub fn iflib_request_reset(ctx: if_ctx_t);
    /// Allocate an MSI-X vector (`rid` = table entry + 1) with `filter` as its fast
    /// handler. Returns 0 or an errno. msix_intr_assign.
    pub fn iflib_irq_alloc_generic(
        ctx: if_ctx_t,
        irq: if_irq_t,
        rid: c_int,
        ty: iflib_intr_type_t,
        filter: Option<driver_filter_t>,
        filter_arg: *mut c_void,
        qid: c_int,
        name: *const c_char,
    ) -> c_int;
    /// Attach a TX task (no vector of its own) to queue `qid`'s RX interrupt.
    pub fn iflib_softirq_alloc_generic(
        ctx: if_ctx_t,
        irq: if_irq_t,
        ty: iflib_intr_type_t,
        arg: *mut c_void,
        qid: c_int,
        name: *const c_char,
    );
    /// Release an IRQ from iflib_irq_alloc_generic / iflib_softirq_alloc_generic.
    pub fn iflib_irq_free(ctx: if_ctx_t, irq: if_irq_t);
    /// Allocate `size` bytes of zeroed, physically contiguous, coherent DMA memory
    /// aligned to `align`; fills `*dma`. `mapflags` = `BUS_DMA_NOWAIT`. Returns 0 or
    /// an errno. Sleepable (attach).
    pub fn iflib_dma_alloc_align(
        ctx: if_ctx_t,
        size: c_int,
        align: c_int,
        dma: iflib_dma_info_t,
        mapflags: c_int,
    ) -> c_int;
    /// Free memory from iflib_dma_alloc_align. Sleepable.
    pub fn iflib_dma_free(dma: iflib_dma_info_t);

    // ----- ifnet / ifmedia (if_var.h, if_media.h) ----------------------------------

    /// Current MTU of the interface.
    pub fn if_getmtu(ifp: if_t) -> c_int;
    /// The interface's current link-level address (6 bytes, owned by the ifnet).
    pub fn if_getlladdr(ifp: if_t) -> *mut c_char;
    /// The counters iflib keeps itself (used for the ones the VF does not report).
    pub fn if_get_counter_default(ifp: if_t, cnt: ift_counter) -> u64;
    /// Add a media word to the list (`aux` = NULL). attach_post.
    pub fn ifmedia_add(ifm: *mut ifmedia, mword: c_int, data: c_int, aux: *mut c_void);
    /// Select the current media word. attach_post.
    pub fn ifmedia_set(ifm: *mut ifmedia, mword: c_int);

    // ----- ravf_kpi_* C wrappers ---------------------------------------------------

    /// Map BAR0 (`bus_alloc_resource_any(SYS_RES_MEMORY, PCIR_BAR(0), RF_ACTIVE)`).
    /// Returns an opaque handle for rd32/wr32 and writes the BAR size in bytes to
    /// `*size`; NULL on failure. attach_pre.
    pub fn ravf_kpi_bar0_map(dev: device_t, size: *mut u64) -> *mut c_void;
    /// Release BAR0 and the handle. detach.
    pub fn ravf_kpi_bar0_unmap(dev: device_t, bar: *mut c_void);
    /// `bus_space_read_4` at byte offset `off` (< size; ravf checks). Any context.
    pub fn ravf_kpi_rd32(bar: *mut c_void, off: u32) -> u32;
    /// `bus_space_write_4` at byte offset `off` (< size; ravf checks). Any context.
    pub fn ravf_kpi_wr32(bar: *mut c_void, off: u32, val: u32);
    /// `pci_enable_busmaster(dev)`. Sleepable.
    pub fn ravf_kpi_pci_enable_busmaster(dev: device_t) -> c_int;
    /// `pci_msix_table_bar(dev)`: the BAR rid (`PCIR_BAR(n)`) holding the MSI-X table,
    /// or -1. attach_pre.
    pub fn ravf_kpi_msix_table_bar(dev: device_t) -> c_int;

    /// `malloc(size, M_RAVF, flags)`; `flags` from `M_NOWAIT | M_WAITOK | M_ZERO`.
    /// Returns NULL on failure (M_NOWAIT). M_NOWAIT: any context.
    pub fn ravf_kpi_malloc(size: usize, flags: c_int) -> *mut c_void;
    /// `free(p, M_RAVF)`; NULL is allowed. Any context but filters.
    pub fn ravf_kpi_free(p: *mut c_void);

    /// `DELAY(us)` busy-wait. Any context.
    pub fn ravf_kpi_delay_us(us: u32);
    /// `pause_sbt("ravf", us)`: sleep at least `us` microseconds. Sleepable.
    pub fn ravf_kpi_sleep_us(us: u32);
    /// Monotonic time in microseconds (`sbinuptime()` scaled). Any context.
    pub fn ravf_kpi_now_us() -> u64;
    /// `arc4random_buf(buf, len)`. Any context.
    pub fn ravf_kpi_random(buf: *mut u8, len: usize);
    /// `device_printf(dev, "%.*s\n", len, msg)` with `level` 0 error, 1 warn, 2 info,
    /// 3 debug (the wrapper may drop debug). `msg` needs no NUL. Any context.
    pub fn ravf_kpi_log(dev: device_t, level: c_int, msg: *const c_char, len: usize);
    /// `panic("%.*s", len, msg)`. Never returns.
    pub fn ravf_kpi_panic(msg: *const c_char, len: usize) -> !;

    /// Create the ravf admin taskqueue ("ravf_vc", one thread, `PI_NET`) with one task
    /// whose function calls `ravf_admin_task(arg)`. Returns a handle or NULL.
    /// attach_pre. It must be a *fast* taskqueue (`taskqueue_create_fast`, spin lock),
    /// as FreeBSD iavf's "iavf_vc": the admin interrupt filter enqueues to it.
    pub fn ravf_kpi_admin_task_init(dev: device_t, arg: *mut c_void) -> *mut c_void;
    /// `taskqueue_enqueue` of that task (coalesces while pending). Any context,
    /// including the admin interrupt filter.
    pub fn ravf_kpi_admin_task_enqueue(tq: *mut c_void);
    /// `taskqueue_drain` the task (waits for a running instance). Sleepable.
    pub fn ravf_kpi_admin_task_drain(tq: *mut c_void);
    /// Drain and free the taskqueue and the handle. detach.
    pub fn ravf_kpi_admin_task_free(tq: *mut c_void);

    /// Create the control-plane lock. It must be **sleepable** (sx(9) in the kernel):
    /// its holder may `ravf_kpi_sleep_us`. Returns a handle or NULL. attach_pre.
    pub fn ravf_kpi_mtx_init(name: *const c_char) -> *mut c_void;
    /// Take the control-plane lock (exclusive). Sleepable contexts only.
    pub fn ravf_kpi_mtx_lock(m: *mut c_void);
    /// Release the control-plane lock.
    pub fn ravf_kpi_mtx_unlock(m: *mut c_void);
    /// Destroy the lock and free the handle. detach.
    pub fn ravf_kpi_mtx_destroy(m: *mut c_void);

    /// Copy the `hw.ravf.*` loader tunables into `*out` (kmod/if_ravf.c; the harness
    /// supplies its own). ravf range-checks them (`sysctl::sanitize_tunables`).
    /// attach_pre.
    pub fn ravf_kpi_tunables(out: *mut crate::sysctl::RavfTunables);

    /// Copy up to `max` link-level multicast addresses of `ifp` (6 bytes each,
    /// `if_foreach_llmaddr`) into `buf`; return how many the interface has (may be
    /// more than `max`). multi_set.
    pub fn ravf_kpi_mc_list(ifp: if_t, buf: *mut u8, max: u32) -> u32;
}
