//! The kernel side of ravf-ffi's KPI seam (`ffi/src/kpi.rs`), implemented over the
//! emulator: every function there, with the same C signature, as
//! `#[no_mangle] extern "C"`.
//!
//! BAR0 goes to the emulated VF's registers; DMA memory comes from [`HostMemory`]
//! (host pointer for the driver, a distinct IOVA as the bus address); sleeping lets
//! virtual time pass and runs the deferred work (`sched`); time is the emulator's
//! virtual clock; log lines are collected (the demo prints them). Every pointer the
//! driver passes back is checked against what the harness handed out.
//!
//! [`HostMemory`]: ravf_sim::mem::HostMemory
#![allow(clippy::missing_safety_doc)]

use std::alloc::{alloc, alloc_zeroed, dealloc, Layout};
use std::ffi::{c_char, c_int, c_void};
use std::mem::offset_of;

use ravf_sys::{
    device_t, driver_filter_t, if_ctx_t, if_irq_t, if_softc_ctx_t, if_t, iflib_dma_info_t,
    iflib_intr_type_t, ifmedia, ift_counter, EINVAL, ENXIO, LINK_STATE_DOWN, LINK_STATE_UP, M_ZERO,
};

use crate::ctx::{current, Exec, IflibCtx, IrqSlot, LogLine, Mtx, Shared};
use crate::sched;

fn ctx<'a>(sh: &'a Shared, c: if_ctx_t, what: &str) -> Option<&'a IflibCtx> {
    sh.ctx_from(c.cast(), 0, what)
}
fn dev<'a>(sh: &'a Shared, d: device_t, what: &str) -> Option<&'a IflibCtx> {
    sh.ctx_from(d.cast(), offset_of!(IflibCtx, dev_anchor), what)
}
fn ifp<'a>(sh: &'a Shared, i: if_t, what: &str) -> Option<&'a IflibCtx> {
    sh.ctx_from(i.cast(), offset_of!(IflibCtx, ifp_anchor), what)
}

// ----- iflib accessors ------------------------------------------------------------

#[no_mangle]
pub extern "C" fn iflib_get_softc(c: if_ctx_t) -> *mut c_void {
    let sh = current();
    ctx(&sh, c, "iflib_get_softc").map_or(std::ptr::null_mut(), |c| c.softc_ptr())
}

#[no_mangle]
pub extern "C" fn iflib_get_dev(c: if_ctx_t) -> device_t {
    let sh = current();
    ctx(&sh, c, "iflib_get_dev").map_or(std::ptr::null_mut(), |c| c.dev_ptr())
}

#[no_mangle]
pub extern "C" fn iflib_get_ifp(c: if_ctx_t) -> if_t {
    let sh = current();
    ctx(&sh, c, "iflib_get_ifp").map_or(std::ptr::null_mut(), |c| c.ifp_ptr())
}

#[no_mangle]
pub extern "C" fn iflib_get_softc_ctx(c: if_ctx_t) -> if_softc_ctx_t {
    let sh = current();
    ctx(&sh, c, "iflib_get_softc_ctx").map_or(std::ptr::null_mut(), |c| c.scctx_ptr())
}

#[no_mangle]
pub extern "C" fn iflib_get_media(c: if_ctx_t) -> *mut ifmedia {
    let sh = current();
    ctx(&sh, c, "iflib_get_media").map_or(std::ptr::null_mut(), |c| c.media_ptr())
}

#[no_mangle]
pub unsafe extern "C" fn iflib_set_mac(c: if_ctx_t, mac: *const u8) {
    let sh = current();
    let Some(c) = ctx(&sh, c, "iflib_set_mac") else {
        return;
    };
    if mac.is_null() {
        sh.error("iflib_set_mac: NULL address");
        return;
    }
    let mut m = [0u8; 6];
    // SAFETY: the KPI contract: mac points to 6 bytes.
    unsafe { std::ptr::copy_nonoverlapping(mac, m.as_mut_ptr(), 6) };
    c.mac.set(m);
}

#[no_mangle]
pub extern "C" fn iflib_get_rx_mbuf_sz(c: if_ctx_t) -> u32 {
    let sh = current();
    ctx(&sh, c, "iflib_get_rx_mbuf_sz").map_or(2048, |c| c.rx_mbuf_sz.get())
}

// ----- iflib services -------------------------------------------------------------

#[no_mangle]
pub extern "C" fn iflib_link_state_change(c: if_ctx_t, link_state: c_int, baudrate: u64) {
    let sh = current();
    let Some(c) = ctx(&sh, c, "iflib_link_state_change") else {
        return;
    };
    if !matches!(sh.exec.get(), Exec::Iflib | Exec::AdminTask) {
        sh.error(format!(
            "vf{}: iflib_link_state_change from {:?} context",
            c.vf,
            sh.exec.get()
        ));
    }
    if c.link_state.get() != link_state || c.baudrate.get() != baudrate {
        let s = match link_state {
            LINK_STATE_UP => "UP",
            LINK_STATE_DOWN => "DOWN",
            _ => "UNKNOWN",
        };
        sh.note(
            c.vf,
            format!(
                "link state changed to {s} ({} Mbit/s)",
                baudrate / 1_000_000
            ),
        );
    }
    c.link_state.set(link_state);
    c.baudrate.set(baudrate);
}

#[no_mangle]
pub extern "C" fn iflib_admin_intr_deferred(c: if_ctx_t) {
    let sh = current();
    if let Some(c) = ctx(&sh, c, "iflib_admin_intr_deferred") {
        c.iflib_admin_pending.set(true);
    }
}

#[no_mangle]
pub extern "C" fn iflib_request_reset(c: if_ctx_t) {
    let sh = current();
    if let Some(c) = ctx(&sh, c, "iflib_request_reset") {
        c.do_reset.set(true);
    }
}

#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn iflib_irq_alloc_generic(
    c: if_ctx_t,
    irq: if_irq_t,
    rid: c_int,
    ty: iflib_intr_type_t,
    filter: Option<driver_filter_t>,
    filter_arg: *mut c_void,
    qid: c_int,
    _name: *const c_char,
) -> c_int {
    let sh = current();
    let Some(c) = ctx(&sh, c, "iflib_irq_alloc_generic") else {
        return EINVAL;
    };
    // MSI-X rids start at 1 (rid = table entry + 1).
    if rid < 1 || rid as u32 > c.msix_vectors.get() {
        sh.error(format!(
            "vf{}: iflib_irq_alloc_generic rid {rid} outside 1..={}",
            c.vf,
            c.msix_vectors.get()
        ));
        return ENXIO;
    }
    if irq.is_null() {
        sh.error(format!("vf{}: iflib_irq_alloc_generic with NULL irq", c.vf));
        return EINVAL;
    }
    let vector = (rid - 1) as u32;
    if c.irqs.borrow().iter().any(|s| s.vector == vector) {
        sh.error(format!("vf{}: vector {vector} allocated twice", c.vf));
        return EINVAL;
    }
    // SAFETY: irq points to the driver's struct if_irq (KPI contract); iflib fills
    // ii_res and ii_tag. Non-NULL values that are never dereferenced.
    unsafe {
        (*irq).ii_res = c.bar_ptr().cast();
        (*irq).ii_tag = c.task_ptr();
    }
    c.irqs.borrow_mut().push(IrqSlot {
        irq: irq as usize,
        vector,
        ty,
        filter,
        arg: filter_arg,
        qid,
    });
    // bus_setup_intr unmasks the MSI-X table entry (address/data programmed by
    // pci_alloc_msix); the PCI layer does it, so the stand-in does it here.
    let base = u64::from(vector) * 16;
    let mut d = sh.dev.borrow_mut();
    d.bar_write(c.vf, 3, base, 0xfee0_0000);
    d.bar_write(c.vf, 3, base + 4, 0);
    d.bar_write(c.vf, 3, base + 8, 0x40 + vector);
    d.bar_write(c.vf, 3, base + 12, 0);
    0
}

#[no_mangle]
pub extern "C" fn iflib_softirq_alloc_generic(
    c: if_ctx_t,
    irq: if_irq_t,
    _ty: iflib_intr_type_t,
    _arg: *mut c_void,
    qid: c_int,
    _name: *const c_char,
) {
    let sh = current();
    if let Some(c) = ctx(&sh, c, "iflib_softirq_alloc_generic") {
        c.softirqs.borrow_mut().push((irq as usize, qid));
    }
}

#[no_mangle]
pub extern "C" fn iflib_irq_free(c: if_ctx_t, irq: if_irq_t) {
    let sh = current();
    let Some(c) = ctx(&sh, c, "iflib_irq_free") else {
        return;
    };
    let mut irqs = c.irqs.borrow_mut();
    if let Some(s) = irqs.iter().find(|s| s.irq == irq as usize) {
        let base = u64::from(s.vector) * 16;
        sh.dev.borrow_mut().bar_write(c.vf, 3, base + 12, 1);
    }
    irqs.retain(|s| s.irq != irq as usize);
    c.softirqs.borrow_mut().retain(|s| s.0 != irq as usize);
}

#[no_mangle]
pub unsafe extern "C" fn iflib_dma_alloc_align(
    c: if_ctx_t,
    size: c_int,
    align: c_int,
    dma: iflib_dma_info_t,
    _mapflags: c_int,
) -> c_int {
    let sh = current();
    let Some(c) = ctx(&sh, c, "iflib_dma_alloc_align") else {
        return EINVAL;
    };
    if size <= 0 || align <= 0 || (align as u32).count_ones() != 1 || dma.is_null() {
        sh.error(format!(
            "vf{}: iflib_dma_alloc_align size {size} align {align}",
            c.vf
        ));
        return EINVAL;
    }
    let b = sh.mem.alloc(size as usize, align as usize);
    c.dma.borrow_mut().insert(b.iova, b);
    // SAFETY: dma points to the driver's iflib_dma_info (KPI contract).
    unsafe {
        (*dma).idi_paddr = b.iova;
        (*dma).idi_vaddr = b.vaddr.cast();
        (*dma).idi_tag = c.bar_ptr().cast();
        (*dma).idi_map = c.task_ptr().cast();
        (*dma).idi_size = size as u32;
    }
    0
}

#[no_mangle]
pub unsafe extern "C" fn iflib_dma_free(dma: iflib_dma_info_t) {
    let sh = current();
    if dma.is_null() {
        return;
    }
    // SAFETY: dma points to the driver's iflib_dma_info (KPI contract).
    let paddr = unsafe { (*dma).idi_paddr };
    if paddr == 0 {
        return;
    }
    let ctxs: Vec<*const IflibCtx> = sh.ctxs.borrow().clone();
    for c in ctxs {
        // SAFETY: registered contexts are live (Shared::ctx_from).
        let c = unsafe { &*c };
        let b = c.dma.borrow_mut().remove(&paddr);
        if let Some(b) = b {
            sh.mem.free(b);
            // SAFETY: as above.
            unsafe { *dma = ravf_sys::iflib_dma_info::zeroed() };
            return;
        }
    }
    sh.error(format!("iflib_dma_free of unknown bus address {paddr:#x}"));
}

// ----- ifnet / ifmedia ------------------------------------------------------------

#[no_mangle]
pub extern "C" fn if_getmtu(i: if_t) -> c_int {
    let sh = current();
    ifp(&sh, i, "if_getmtu").map_or(1500, |c| c.mtu.get())
}

#[no_mangle]
pub extern "C" fn if_getlladdr(i: if_t) -> *mut c_char {
    let sh = current();
    ifp(&sh, i, "if_getlladdr").map_or(std::ptr::null_mut(), |c| c.lladdr.get().cast())
}

#[no_mangle]
pub extern "C" fn if_get_counter_default(i: if_t, cnt: ift_counter) -> u64 {
    let sh = current();
    ifp(&sh, i, "if_get_counter_default").map_or(0, |c| {
        c.counters.borrow().get(cnt as usize).copied().unwrap_or(0)
    })
}

#[no_mangle]
pub extern "C" fn ifmedia_add(ifm: *mut ifmedia, mword: c_int, _data: c_int, _aux: *mut c_void) {
    let sh = current();
    if let Some(c) = sh.ctx_from(
        ifm.cast(),
        offset_of!(IflibCtx, media_anchor),
        "ifmedia_add",
    ) {
        c.media.borrow_mut().push(mword);
    }
}

#[no_mangle]
pub extern "C" fn ifmedia_set(ifm: *mut ifmedia, mword: c_int) {
    let sh = current();
    if let Some(c) = sh.ctx_from(
        ifm.cast(),
        offset_of!(IflibCtx, media_anchor),
        "ifmedia_set",
    ) {
        if !c.media.borrow().contains(&mword) {
            sh.error(format!(
                "vf{}: ifmedia_set({mword:#x}) of a word never added",
                c.vf
            ));
        }
        c.media_current.set(mword);
    }
}

// ----- ravf_kpi_* -----------------------------------------------------------------

#[no_mangle]
pub unsafe extern "C" fn ravf_kpi_bar0_map(d: device_t, size: *mut u64) -> *mut c_void {
    let sh = current();
    let Some(c) = dev(&sh, d, "ravf_kpi_bar0_map") else {
        return std::ptr::null_mut();
    };
    let sz = sh.dev.borrow().bar_size(c.vf, 0);
    c.bar_size.set(sz);
    c.bar_mapped.set(true);
    if !size.is_null() {
        // SAFETY: size points to a u64 (KPI contract).
        unsafe { *size = sz };
    }
    c.bar_ptr()
}

#[no_mangle]
pub extern "C" fn ravf_kpi_bar0_unmap(d: device_t, bar: *mut c_void) {
    let sh = current();
    let Some(c) = dev(&sh, d, "ravf_kpi_bar0_unmap") else {
        return;
    };
    if bar != c.bar_ptr() {
        sh.error(format!(
            "vf{}: ravf_kpi_bar0_unmap of a handle that is not this device's BAR0",
            c.vf
        ));
    }
    c.bar_mapped.set(false);
}

fn bar<'a>(sh: &'a Shared, b: *mut c_void, off: u32, what: &str) -> Option<&'a IflibCtx> {
    let c = sh.ctx_from(b, offset_of!(IflibCtx, bar_anchor), what)?;
    if !c.bar_mapped.get() {
        sh.error(format!("vf{}: {what} on an unmapped BAR0", c.vf));
        return None;
    }
    if u64::from(off) + 4 > c.bar_size.get() || off % 4 != 0 {
        sh.error(format!(
            "vf{}: {what} at {off:#x} outside BAR0 or unaligned",
            c.vf
        ));
        return None;
    }
    Some(c)
}

#[no_mangle]
pub extern "C" fn ravf_kpi_rd32(b: *mut c_void, off: u32) -> u32 {
    let sh = current();
    match bar(&sh, b, off, "ravf_kpi_rd32") {
        Some(c) => sh.dev.borrow_mut().bar_read(c.vf, 0, u64::from(off)),
        None => 0xffff_ffff,
    }
}

#[no_mangle]
pub extern "C" fn ravf_kpi_wr32(b: *mut c_void, off: u32, val: u32) {
    let sh = current();
    if let Some(c) = bar(&sh, b, off, "ravf_kpi_wr32") {
        sh.dev.borrow_mut().bar_write(c.vf, 0, u64::from(off), val);
    }
}

#[no_mangle]
pub extern "C" fn ravf_kpi_pci_enable_busmaster(d: device_t) -> c_int {
    let sh = current();
    let Some(c) = dev(&sh, d, "ravf_kpi_pci_enable_busmaster") else {
        return EINVAL;
    };
    let mut dv = sh.dev.borrow_mut();
    let cmd = dv.cfg_read(c.vf, 0x04, 2);
    // pcireg.h: PCIM_CMD_BUSMASTEREN 0x0004 (plus MEMEN 0x0002, which the PCI layer
    // sets when it activates the BAR).
    dv.cfg_write(c.vf, 0x04, 2, cmd | 0x6);
    0
}

#[no_mangle]
pub extern "C" fn ravf_kpi_msix_table_bar(d: device_t) -> c_int {
    let sh = current();
    let Some(c) = dev(&sh, d, "ravf_kpi_msix_table_bar") else {
        return -1;
    };
    // Walk the capability list for MSI-X (pcireg.h: PCIY_MSIX 0x11; the table BIR is
    // bits 2:0 of the dword at cap + 4) and return PCIR_BAR(bir) = 0x10 + 4 * bir.
    let mut dv = sh.dev.borrow_mut();
    let mut p = dv.cfg_read(c.vf, 0x34, 1) as u16;
    for _ in 0..48 {
        if p < 0x40 {
            break;
        }
        if dv.cfg_read(c.vf, p, 1) == 0x11 {
            let bir = dv.cfg_read(c.vf, p + 4, 4) & 7;
            return 0x10 + 4 * bir as c_int;
        }
        p = dv.cfg_read(c.vf, p + 1, 1) as u16;
    }
    -1
}

const MALLOC_HDR: usize = 16;

#[no_mangle]
pub extern "C" fn ravf_kpi_malloc(size: usize, flags: c_int) -> *mut c_void {
    let sh = current();
    if sh.exec.get() == Exec::DataPath {
        sh.error(format!(
            "vf{}: malloc({size}) on the data path",
            sh.cur_vf.get()
        ));
    }
    let Ok(layout) = Layout::from_size_align(size + MALLOC_HDR, MALLOC_HDR) else {
        return std::ptr::null_mut();
    };
    // SAFETY: layout has non-zero size (size + 16).
    let p = unsafe {
        if flags & M_ZERO != 0 {
            alloc_zeroed(layout)
        } else {
            alloc(layout)
        }
    };
    if p.is_null() {
        return p.cast();
    }
    // SAFETY: p is valid for size + 16 bytes; the header keeps the size for free.
    unsafe {
        p.cast::<usize>().write(size);
        p.add(MALLOC_HDR).cast()
    }
}

#[no_mangle]
pub unsafe extern "C" fn ravf_kpi_free(p: *mut c_void) {
    if p.is_null() {
        return;
    }
    // SAFETY: p came from ravf_kpi_malloc (KPI contract), which put the size 16 bytes
    // before it.
    unsafe {
        let base = p.cast::<u8>().sub(MALLOC_HDR);
        let size = base.cast::<usize>().read();
        dealloc(
            base,
            Layout::from_size_align_unchecked(size + MALLOC_HDR, MALLOC_HDR),
        );
    }
}

#[no_mangle]
pub extern "C" fn ravf_kpi_delay_us(us: u32) {
    let sh = current();
    if us > 100_000 {
        sh.error(format!(
            "vf{}: DELAY({us}) busy-waits more than 100 ms",
            sh.cur_vf.get()
        ));
    }
    sh.advance(u64::from(us) * 1000);
}

#[no_mangle]
pub extern "C" fn ravf_kpi_sleep_us(us: u32) {
    let sh = current();
    sched::sleep_us(&sh, us);
}

#[no_mangle]
pub extern "C" fn ravf_kpi_now_us() -> u64 {
    current().now_ns.get() / 1000
}

#[no_mangle]
pub unsafe extern "C" fn ravf_kpi_random(buf: *mut u8, len: usize) {
    let sh = current();
    for i in 0..len {
        // SAFETY: buf is valid for len bytes (KPI contract).
        unsafe { *buf.add(i) = sh.next_random() as u8 };
    }
}

#[no_mangle]
pub unsafe extern "C" fn ravf_kpi_log(d: device_t, level: c_int, msg: *const c_char, len: usize) {
    let sh = current();
    let vf = dev(&sh, d, "ravf_kpi_log").map_or(usize::MAX, |c| c.vf);
    let text = if msg.is_null() {
        String::new()
    } else {
        // SAFETY: msg is valid for len bytes (KPI contract).
        String::from_utf8_lossy(unsafe { std::slice::from_raw_parts(msg.cast::<u8>(), len) })
            .into_owned()
    };
    let line = LogLine {
        t_us: sh.now_ns.get() / 1000,
        vf,
        level,
        text,
    };
    if sh.verbose.get() {
        eprintln!("[{:>10} us] vf{} ravf: {}", line.t_us, vf, line.text);
    }
    sh.log.borrow_mut().push(line);
}

#[no_mangle]
pub unsafe extern "C" fn ravf_kpi_panic(msg: *const c_char, len: usize) -> ! {
    // SAFETY: msg is valid for len bytes (KPI contract).
    let text =
        String::from_utf8_lossy(unsafe { std::slice::from_raw_parts(msg.cast::<u8>(), len) })
            .into_owned();
    eprintln!("ravf panic: {text}");
    std::process::abort()
}

#[no_mangle]
pub extern "C" fn ravf_kpi_admin_task_init(d: device_t, arg: *mut c_void) -> *mut c_void {
    let sh = current();
    let Some(c) = dev(&sh, d, "ravf_kpi_admin_task_init") else {
        return std::ptr::null_mut();
    };
    c.admin_task_arg.set(arg);
    c.admin_task_live.set(true);
    c.admin_task_pending.set(false);
    c.task_ptr()
}

fn task<'a>(sh: &'a Shared, tq: *mut c_void, what: &str) -> Option<&'a IflibCtx> {
    let c = sh.ctx_from(tq, offset_of!(IflibCtx, task_anchor), what)?;
    if !c.admin_task_live.get() {
        sh.error(format!("vf{}: {what} on a freed task", c.vf));
        return None;
    }
    Some(c)
}

#[no_mangle]
pub extern "C" fn ravf_kpi_admin_task_enqueue(tq: *mut c_void) {
    let sh = current();
    if let Some(c) = task(&sh, tq, "ravf_kpi_admin_task_enqueue") {
        c.admin_task_pending.set(true);
    }
}

#[no_mangle]
pub extern "C" fn ravf_kpi_admin_task_drain(tq: *mut c_void) {
    let sh = current();
    let Some(c) = task(&sh, tq, "ravf_kpi_admin_task_drain") else {
        return;
    };
    if c.admin_task_running.get() {
        sh.error(format!(
            "vf{}: taskqueue_drain of the admin task from inside it (deadlock)",
            c.vf
        ));
        return;
    }
    // taskqueue_drain waits for a pending instance to run.
    if c.admin_task_pending.get() && !sched::run_admin_task(&sh, c) {
        sh.error(format!(
            "vf{}: taskqueue_drain while the task waits for a lock the caller holds (deadlock)",
            c.vf
        ));
        c.admin_task_pending.set(false);
    }
}

#[no_mangle]
pub extern "C" fn ravf_kpi_admin_task_free(tq: *mut c_void) {
    let sh = current();
    let Some(c) = task(&sh, tq, "ravf_kpi_admin_task_free") else {
        return;
    };
    ravf_kpi_admin_task_drain(tq);
    c.admin_task_live.set(false);
    c.admin_task_pending.set(false);
}

#[no_mangle]
pub unsafe extern "C" fn ravf_kpi_mtx_init(name: *const c_char) -> *mut c_void {
    let sh = current();
    let name = if name.is_null() {
        String::new()
    } else {
        // SAFETY: name is a NUL-terminated C string (KPI contract).
        unsafe { std::ffi::CStr::from_ptr(name) }
            .to_string_lossy()
            .into_owned()
    };
    let m = Box::into_raw(Box::new(Mtx {
        name,
        held: std::cell::Cell::new(None),
        vf: sh.cur_vf.get(),
    }));
    sh.mtxs.borrow_mut().push(m);
    m.cast()
}

fn mtx<'a>(sh: &'a Shared, m: *mut c_void, what: &str) -> Option<&'a Mtx> {
    if sh
        .mtxs
        .borrow()
        .iter()
        .any(|&x| std::ptr::eq(x.cast::<c_void>(), m))
    {
        // SAFETY: registered locks are live Boxes until ravf_kpi_mtx_destroy.
        Some(unsafe { &*(m as *const Mtx) })
    } else {
        sh.error(format!(
            "{what}: {m:p} is not a lock from ravf_kpi_mtx_init"
        ));
        None
    }
}

#[no_mangle]
pub extern "C" fn ravf_kpi_mtx_lock(m: *mut c_void) {
    let sh = current();
    let Some(m) = mtx(&sh, m, "ravf_kpi_mtx_lock") else {
        return;
    };
    let e = sh.exec.get();
    if matches!(e, Exec::Filter | Exec::DataPath) {
        sh.error(format!(
            "vf{}: sleepable lock {} taken in {e:?} context",
            m.vf, m.name
        ));
    }
    if let Some(h) = m.held.get() {
        sh.error(format!(
            "vf{}: lock {} taken by {e:?} while {h:?} holds it (deadlock)",
            m.vf, m.name
        ));
    }
    m.held.set(Some(e));
}

#[no_mangle]
pub extern "C" fn ravf_kpi_mtx_unlock(m: *mut c_void) {
    let sh = current();
    let Some(m) = mtx(&sh, m, "ravf_kpi_mtx_unlock") else {
        return;
    };
    if m.held.get().is_none() {
        sh.error(format!(
            "vf{}: unlock of {} which is not held",
            m.vf, m.name
        ));
    }
    m.held.set(None);
}

#[no_mangle]
pub extern "C" fn ravf_kpi_mtx_destroy(m: *mut c_void) {
    let sh = current();
    let Some(x) = mtx(&sh, m, "ravf_kpi_mtx_destroy") else {
        return;
    };
    if x.held.get().is_some() {
        sh.error(format!("vf{}: destroy of held lock {}", x.vf, x.name));
    }
    sh.mtxs
        .borrow_mut()
        .retain(|&p| !std::ptr::eq(p.cast::<c_void>(), m));
    // SAFETY: m was created by Box::into_raw in ravf_kpi_mtx_init and is now
    // unregistered, so no later call can reach it.
    drop(unsafe { Box::from_raw(m as *mut Mtx) });
}

#[no_mangle]
pub unsafe extern "C" fn ravf_kpi_mc_list(i: if_t, buf: *mut u8, max: u32) -> u32 {
    let sh = current();
    let Some(c) = ifp(&sh, i, "ravf_kpi_mc_list") else {
        return 0;
    };
    let list = c.mc_list.borrow();
    for (k, m) in list.iter().take(max as usize).enumerate() {
        // SAFETY: buf is valid for max * 6 bytes (KPI contract).
        unsafe { std::ptr::copy_nonoverlapping(m.as_ptr(), buf.add(k * 6), 6) };
    }
    list.len() as u32
}

/// kmod/if_ravf.c: the `hw.ravf.*` loader tunables (here: `Options::tunables`).
#[no_mangle]
pub unsafe extern "C" fn ravf_kpi_tunables(out: *mut crate::ifdi::RavfTunables) {
    let sh = current();
    if out.is_null() {
        sh.error("ravf_kpi_tunables(NULL)");
        return;
    }
    // SAFETY: out points to a struct ravf_tunables (KPI contract).
    unsafe { out.write(sh.tunables.get()) };
}

/// Addresses of every KPI function, referenced from `Machine::new` so the linker
/// keeps them whatever order it sees the archives in.
pub fn keep() -> Vec<usize> {
    vec![
        iflib_get_softc as *const () as usize,
        iflib_get_dev as *const () as usize,
        iflib_get_ifp as *const () as usize,
        iflib_get_softc_ctx as *const () as usize,
        iflib_get_media as *const () as usize,
        iflib_set_mac as *const () as usize,
        iflib_get_rx_mbuf_sz as *const () as usize,
        iflib_link_state_change as *const () as usize,
        iflib_admin_intr_deferred as *const () as usize,
        iflib_request_reset as *const () as usize,
        iflib_irq_alloc_generic as *const () as usize,
        iflib_softirq_alloc_generic as *const () as usize,
        iflib_irq_free as *const () as usize,
        iflib_dma_alloc_align as *const () as usize,
        iflib_dma_free as *const () as usize,
        if_getmtu as *const () as usize,
        if_getlladdr as *const () as usize,
        if_get_counter_default as *const () as usize,
        ifmedia_add as *const () as usize,
        ifmedia_set as *const () as usize,
        ravf_kpi_bar0_map as *const () as usize,
        ravf_kpi_bar0_unmap as *const () as usize,
        ravf_kpi_rd32 as *const () as usize,
        ravf_kpi_wr32 as *const () as usize,
        ravf_kpi_pci_enable_busmaster as *const () as usize,
        ravf_kpi_msix_table_bar as *const () as usize,
        ravf_kpi_malloc as *const () as usize,
        ravf_kpi_free as *const () as usize,
        ravf_kpi_delay_us as *const () as usize,
        ravf_kpi_sleep_us as *const () as usize,
        ravf_kpi_now_us as *const () as usize,
        ravf_kpi_random as *const () as usize,
        ravf_kpi_log as *const () as usize,
        ravf_kpi_panic as *const () as usize,
        ravf_kpi_admin_task_init as *const () as usize,
        ravf_kpi_admin_task_enqueue as *const () as usize,
        ravf_kpi_admin_task_drain as *const () as usize,
        ravf_kpi_admin_task_free as *const () as usize,
        ravf_kpi_mtx_init as *const () as usize,
        ravf_kpi_mtx_lock as *const () as usize,
        ravf_kpi_mtx_unlock as *const () as usize,
        ravf_kpi_mtx_destroy as *const () as usize,
        ravf_kpi_mc_list as *const () as usize,
        ravf_kpi_tunables as *const () as usize,
    ]
}
