//! The stand-in is also a checker: KPI misuse the kernel would not forgive (foreign
//! pointers, out-of-range MMIO, sleeping in an interrupt filter or the data path,
//! lock misuse) is recorded as a contract error. These tests call the KPI
//! functions directly, as a misbehaving driver would, and expect the errors.

mod common;

use common::*;
use ravf_harness::ctx::Exec;
use ravf_harness::kpi;
use ravf_harness::sched::in_exec;

#[test]
fn foreign_pointers_are_refused() {
    let m = machine(GUIDE);
    let bogus = 0x1234usize as ravf_sys::if_ctx_t;
    assert!(kpi::iflib_get_softc(bogus).is_null());
    assert!(kpi::ravf_kpi_rd32(0x10usize as *mut _, 0) == 0xffff_ffff);
    let e = m.harness_errors();
    assert_eq!(e.len(), 2, "{e:?}");
    assert!(e[0].contains("iflib_get_softc"));
}

#[test]
fn mmio_outside_bar0_and_sleeping_in_a_filter_are_errors() {
    let mut m = machine(GUIDE);
    m.attach(0).unwrap();
    assert!(m.harness_errors().is_empty(), "{:?}", m.harness_errors());
    let sh = m.shared();
    // SAFETY: the registered context of VF 0 is live while the machine is.
    let c = unsafe { &*sh.ctxs.borrow()[0] };
    kpi::ravf_kpi_wr32(c.bar_ptr(), 0x1_0000, 0);
    kpi::ravf_kpi_rd32(c.bar_ptr(), 0x2);
    in_exec(sh, Exec::Filter, 0, || kpi::ravf_kpi_sleep_us(10));
    in_exec(sh, Exec::DataPath, 0, || kpi::ravf_kpi_malloc(8, 0));
    let e = m.harness_errors();
    assert_eq!(e.len(), 4, "{e:?}");
    assert!(e[0].contains("outside BAR0"));
    assert!(e[2].contains("sleep"));
    assert!(e[3].contains("malloc"));
}

#[test]
fn lock_misuse_is_reported() {
    let m = machine(GUIDE);
    // SAFETY: a valid NUL-terminated name.
    let l = unsafe { kpi::ravf_kpi_mtx_init(c"test".as_ptr()) };
    kpi::ravf_kpi_mtx_lock(l);
    kpi::ravf_kpi_mtx_lock(l); // recursion on a non-recursive sx: deadlock
    kpi::ravf_kpi_mtx_unlock(l);
    kpi::ravf_kpi_mtx_unlock(l); // not held
    kpi::ravf_kpi_mtx_destroy(l);
    let e = m.harness_errors();
    assert_eq!(e.len(), 2, "{e:?}");
    assert!(e[0].contains("deadlock"));
    assert!(e[1].contains("not held"));
}
