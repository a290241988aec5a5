//! Unit-test stand-ins for the KPI seam (`kpi.rs`), compiled only into ravf-ffi's own
//! test binary. The end-to-end stand-in for iflib, driving the emulator, is
//! `tests/harness`; this one only records calls so the conversions in this crate can
//! be checked in isolation.
//!
//! State is per thread (the test runner gives each test its own thread).
#![allow(clippy::missing_safety_doc)]

use std::alloc::{alloc_zeroed, dealloc, Layout};
use std::cell::RefCell;
use std::collections::HashMap;
use std::ffi::{c_char, c_int, c_void};

use ravf_sys::*;

/// Distance between a mock DMA buffer's host address and its "bus" address, so a
/// test notices if one is used for the other.
pub const IOVA_OFFSET: u64 = 0x4000_0000_0000;

/// What `if_ctx_t` points to in these tests.
#[repr(C)]
pub struct MockCtx {
    pub softc: RavfSoftc,
    pub scctx: if_softc_ctx,
    pub mac: [u8; 6],
    pub mtu: c_int,
    pub lladdr: [u8; 6],
    pub rx_mbuf_sz: u32,
}

impl MockCtx {
    pub fn new() -> Box<Self> {
        // SAFETY: every field is an integer, array or raw pointer: all-zero is valid.
        let mut b: Box<Self> = Box::new(unsafe { core::mem::zeroed() });
        b.mtu = 1500;
        b.rx_mbuf_sz = 2048;
        b
    }

    pub fn ctx(&mut self) -> if_ctx_t {
        (self as *mut Self).cast()
    }
}

#[derive(Default)]
pub struct Mock {
    /// BAR0 as 16K 32-bit registers.
    pub regs: Vec<u32>,
    /// Every register write, in order.
    pub writes: Vec<(u32, u32)>,
    pub now_us: u64,
    pub slept_us: u64,
    pub logs: Vec<(c_int, String)>,
    pub link: Vec<(c_int, u64)>,
    pub admin_enqueued: u32,
    pub admin_drained: u32,
    pub iflib_admin_deferred: u32,
    pub resets_requested: u32,
    pub dma: HashMap<usize, Layout>,
    pub mallocs: HashMap<usize, Layout>,
    pub locked: u32,
    pub irqs: Vec<(c_int, c_uint, String)>,
    /// What ravf_kpi_tunables reports (`None`: the defaults).
    pub tunables: Option<crate::sysctl::RavfTunables>,
}

use std::ffi::c_uint;

thread_local! {
    pub static MOCK: RefCell<Mock> = RefCell::new(Mock {
        regs: vec![0; 0x4000],
        ..Default::default()
    });
}

pub fn with<R>(f: impl FnOnce(&mut Mock) -> R) -> R {
    MOCK.with(|m| f(&mut m.borrow_mut()))
}

fn mock_ctx<'a>(ctx: if_ctx_t) -> &'a mut MockCtx {
    // SAFETY: tests only pass pointers from MockCtx::ctx() that outlive the call.
    unsafe { &mut *ctx.cast::<MockCtx>() }
}

#[no_mangle]
pub unsafe extern "C" fn iflib_get_softc(ctx: if_ctx_t) -> *mut c_void {
    (&mut mock_ctx(ctx).softc as *mut RavfSoftc).cast()
}
#[no_mangle]
pub unsafe extern "C" fn iflib_get_dev(_ctx: if_ctx_t) -> device_t {
    core::ptr::null_mut()
}
#[no_mangle]
pub unsafe extern "C" fn iflib_get_ifp(ctx: if_ctx_t) -> if_t {
    ctx.cast()
}
#[no_mangle]
pub unsafe extern "C" fn iflib_get_softc_ctx(ctx: if_ctx_t) -> if_softc_ctx_t {
    &mut mock_ctx(ctx).scctx
}
#[no_mangle]
pub unsafe extern "C" fn iflib_get_media(_ctx: if_ctx_t) -> *mut ifmedia {
    core::ptr::null_mut()
}
#[no_mangle]
pub unsafe extern "C" fn iflib_set_mac(ctx: if_ctx_t, mac: *const u8) {
    let m = mock_ctx(ctx);
    m.mac.copy_from_slice(std::slice::from_raw_parts(mac, 6));
}
#[no_mangle]
pub unsafe extern "C" fn iflib_get_rx_mbuf_sz(ctx: if_ctx_t) -> u32 {
    mock_ctx(ctx).rx_mbuf_sz
}
#[no_mangle]
pub unsafe extern "C" fn iflib_link_state_change(_ctx: if_ctx_t, st: c_int, baud: u64) {
    with(|m| m.link.push((st, baud)));
}
#[no_mangle]
pub unsafe extern "C" fn iflib_admin_intr_deferred(_ctx: if_ctx_t) {
    with(|m| m.iflib_admin_deferred += 1);
}
#[no_mangle]
pub unsafe extern "C" fn iflib_request_reset(_ctx: if_ctx_t) {
    with(|m| m.resets_requested += 1);
}
#[no_mangle]
pub unsafe extern "C" fn iflib_irq_alloc_generic(
    _ctx: if_ctx_t,
    irq: if_irq_t,
    rid: c_int,
    ty: iflib_intr_type_t,
    _filter: Option<driver_filter_t>,
    _arg: *mut c_void,
    _qid: c_int,
    name: *const c_char,
) -> c_int {
    (*irq).ii_tag = 1 as *mut c_void;
    let n = std::ffi::CStr::from_ptr(name)
        .to_string_lossy()
        .into_owned();
    with(|m| m.irqs.push((rid, ty, n)));
    0
}
#[no_mangle]
pub unsafe extern "C" fn iflib_softirq_alloc_generic(
    _ctx: if_ctx_t,
    _irq: if_irq_t,
    ty: iflib_intr_type_t,
    _arg: *mut c_void,
    _qid: c_int,
    name: *const c_char,
) {
    let n = std::ffi::CStr::from_ptr(name)
        .to_string_lossy()
        .into_owned();
    with(|m| m.irqs.push((0, ty, n)));
}
#[no_mangle]
pub unsafe extern "C" fn iflib_irq_free(_ctx: if_ctx_t, irq: if_irq_t) {
    (*irq).ii_tag = core::ptr::null_mut();
}
#[no_mangle]
pub unsafe extern "C" fn iflib_dma_alloc_align(
    _ctx: if_ctx_t,
    size: c_int,
    align: c_int,
    dma: iflib_dma_info_t,
    _flags: c_int,
) -> c_int {
    let Ok(layout) = Layout::from_size_align(size as usize, align.max(1) as usize) else {
        return EINVAL;
    };
    let p = alloc_zeroed(layout);
    if p.is_null() {
        return ENOMEM;
    }
    with(|m| m.dma.insert(p as usize, layout));
    (*dma).idi_vaddr = p.cast();
    (*dma).idi_paddr = p as u64 + IOVA_OFFSET;
    (*dma).idi_size = size as u32;
    0
}
#[no_mangle]
pub unsafe extern "C" fn iflib_dma_free(dma: iflib_dma_info_t) {
    let p = (*dma).idi_vaddr as usize;
    if let Some(layout) = with(|m| m.dma.remove(&p)) {
        dealloc(p as *mut u8, layout);
    }
    (*dma).idi_vaddr = core::ptr::null_mut();
}
#[no_mangle]
pub unsafe extern "C" fn if_getmtu(ifp: if_t) -> c_int {
    mock_ctx(ifp.cast()).mtu
}
#[no_mangle]
pub unsafe extern "C" fn if_getlladdr(ifp: if_t) -> *mut c_char {
    mock_ctx(ifp.cast()).lladdr.as_mut_ptr().cast()
}
#[no_mangle]
pub unsafe extern "C" fn if_get_counter_default(_ifp: if_t, cnt: ift_counter) -> u64 {
    1000 + u64::from(cnt)
}
#[no_mangle]
pub unsafe extern "C" fn ifmedia_add(_m: *mut ifmedia, _w: c_int, _d: c_int, _a: *mut c_void) {}
#[no_mangle]
pub unsafe extern "C" fn ifmedia_set(_m: *mut ifmedia, _w: c_int) {}

#[no_mangle]
pub unsafe extern "C" fn ravf_kpi_bar0_map(_dev: device_t, size: *mut u64) -> *mut c_void {
    *size = 0x10000;
    8 as *mut c_void
}
#[no_mangle]
pub unsafe extern "C" fn ravf_kpi_bar0_unmap(_dev: device_t, _bar: *mut c_void) {}
#[no_mangle]
pub unsafe extern "C" fn ravf_kpi_rd32(_bar: *mut c_void, off: u32) -> u32 {
    with(|m| m.regs[(off / 4) as usize])
}
#[no_mangle]
pub unsafe extern "C" fn ravf_kpi_wr32(_bar: *mut c_void, off: u32, val: u32) {
    with(|m| {
        m.regs[(off / 4) as usize] = val;
        m.writes.push((off, val));
    })
}
#[no_mangle]
pub unsafe extern "C" fn ravf_kpi_pci_enable_busmaster(_dev: device_t) -> c_int {
    0
}
#[no_mangle]
pub unsafe extern "C" fn ravf_kpi_msix_table_bar(_dev: device_t) -> c_int {
    0x1c
}
#[no_mangle]
pub unsafe extern "C" fn ravf_kpi_malloc(size: usize, flags: c_int) -> *mut c_void {
    let layout = Layout::from_size_align(size.max(1), 16).unwrap();
    let p = alloc_zeroed(layout);
    if flags & M_ZERO == 0 && !p.is_null() {
        // Poison, so a missing M_ZERO shows.
        p.write_bytes(0xA5, size);
    }
    with(|m| m.mallocs.insert(p as usize, layout));
    p.cast()
}
#[no_mangle]
pub unsafe extern "C" fn ravf_kpi_free(p: *mut c_void) {
    if let Some(layout) = with(|m| m.mallocs.remove(&(p as usize))) {
        dealloc(p.cast(), layout);
    }
}
#[no_mangle]
pub unsafe extern "C" fn ravf_kpi_delay_us(us: u32) {
    with(|m| m.now_us += u64::from(us));
}
#[no_mangle]
pub unsafe extern "C" fn ravf_kpi_sleep_us(us: u32) {
    with(|m| {
        m.now_us += u64::from(us);
        m.slept_us += u64::from(us);
    });
}
#[no_mangle]
pub unsafe extern "C" fn ravf_kpi_now_us() -> u64 {
    with(|m| m.now_us)
}
#[no_mangle]
pub unsafe extern "C" fn ravf_kpi_random(buf: *mut u8, len: usize) {
    for i in 0..len {
        *buf.add(i) = (i as u8).wrapping_mul(37).wrapping_add(11);
    }
}
#[no_mangle]
pub unsafe extern "C" fn ravf_kpi_log(
    _dev: device_t,
    level: c_int,
    msg: *const c_char,
    len: usize,
) {
    let s = std::slice::from_raw_parts(msg.cast::<u8>(), len);
    let s = String::from_utf8_lossy(s).into_owned();
    with(|m| m.logs.push((level, s)));
}
#[no_mangle]
pub unsafe extern "C" fn ravf_kpi_panic(msg: *const c_char, len: usize) -> ! {
    let s = std::slice::from_raw_parts(msg.cast::<u8>(), len);
    panic!("ravf_kpi_panic: {}", String::from_utf8_lossy(s));
}
#[no_mangle]
pub unsafe extern "C" fn ravf_kpi_admin_task_init(
    _dev: device_t,
    _arg: *mut c_void,
) -> *mut c_void {
    16 as *mut c_void
}
#[no_mangle]
pub unsafe extern "C" fn ravf_kpi_admin_task_enqueue(_tq: *mut c_void) {
    with(|m| m.admin_enqueued += 1);
}
#[no_mangle]
pub unsafe extern "C" fn ravf_kpi_admin_task_drain(_tq: *mut c_void) {
    with(|m| m.admin_drained += 1);
}
#[no_mangle]
pub unsafe extern "C" fn ravf_kpi_admin_task_free(_tq: *mut c_void) {}
#[no_mangle]
pub unsafe extern "C" fn ravf_kpi_mtx_init(_name: *const c_char) -> *mut c_void {
    24 as *mut c_void
}
#[no_mangle]
pub unsafe extern "C" fn ravf_kpi_mtx_lock(_m: *mut c_void) {
    with(|m| {
        assert_eq!(m.locked, 0, "control lock taken twice");
        m.locked += 1;
    });
}
#[no_mangle]
pub unsafe extern "C" fn ravf_kpi_mtx_unlock(_m: *mut c_void) {
    with(|m| {
        assert_eq!(m.locked, 1, "control lock released while not held");
        m.locked -= 1;
    });
}
#[no_mangle]
pub unsafe extern "C" fn ravf_kpi_mtx_destroy(_m: *mut c_void) {}
#[no_mangle]
pub unsafe extern "C" fn ravf_kpi_mc_list(_ifp: if_t, buf: *mut u8, max: u32) -> u32 {
    let addrs = [[0x01, 0x00, 0x5e, 0, 0, 1], [0x33, 0x33, 0, 0, 0, 1]];
    for (i, a) in addrs.iter().enumerate().take(max as usize) {
        std::ptr::copy_nonoverlapping(a.as_ptr(), buf.add(i * 6), 6);
    }
    addrs.len() as u32
}
#[no_mangle]
pub unsafe extern "C" fn ravf_kpi_tunables(out: *mut crate::sysctl::RavfTunables) {
    *out = with(|m| m.tunables).unwrap_or(crate::sysctl::TUNABLE_DEFAULTS);
}
