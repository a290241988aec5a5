//! Interrupt filters and the ravf admin task.
//!
//! * `ravf_msix_adminq` (vector 0, filter context): acknowledge through
//!   `ravf::irq::admin_intr` (BAR0 only, no lock) and enqueue the admin task.
//! * `ravf_msix_que` (queue vectors): count, and let iflib schedule its RX/TX tasks
//!   while the queues run.
//! * `ravf_admin_task` (the "ravf_vc" taskqueue, sleepable, no iflib lock): run the
//!   mailbox engine (`Vf::admin_task`, or `Vf::timer` when `ifdi_timer` asked) under
//!   the control lock and turn its report into iflib calls.

use core::ffi::{c_int, c_void};
use core::sync::atomic::Ordering;

use ravf::os::Level;
use ravf::{AdminReport, Link};
use ravf_sys::*;

use crate::kpi;
use crate::lock::CtlGuard;
use crate::osdep::log_dev;
use crate::state::{Ctl, RavfState, RxQ};

/// The admin (vector 0) interrupt filter. `arg` is the `RavfState`.
///
/// # Safety
/// `arg` is the pointer msix_intr_assign registered: a live `RavfState` (the IRQ is
/// freed in detach before the state).
#[no_mangle]
pub unsafe extern "C" fn ravf_msix_adminq(arg: *mut c_void) -> c_int {
    if arg.is_null() {
        return FILTER_STRAY;
    }
    // SAFETY: caller contract; shared reference, atomics and BAR0 only.
    let st = unsafe { &*arg.cast::<RavfState>() };
    st.admin_irqs.fetch_add(1, Ordering::Relaxed);
    if !st.initialized.load(Ordering::Acquire) {
        return FILTER_HANDLED;
    }
    let r = ravf::irq::admin_intr(&st.bar);
    if r.schedule && !st.admin_tq.is_null() {
        // SAFETY: admin_tq is a live fast taskqueue handle (freed in detach after
        // this IRQ); enqueue is filter-safe on a fast taskqueue.
        unsafe { kpi::ravf_kpi_admin_task_enqueue(st.admin_tq) };
    }
    FILTER_HANDLED
}

/// A queue vector's filter. `arg` is the `RxQ`. iflib's fast handler then checks
/// for RX/TX work itself and schedules the queue tasks.
///
/// # Safety
/// `arg` is the `RxQ` pointer msix_intr_assign registered (inside a live
/// `RavfState`; the IRQ is freed in detach before the state).
#[no_mangle]
pub unsafe extern "C" fn ravf_msix_que(arg: *mut c_void) -> c_int {
    if arg.is_null() {
        return FILTER_STRAY;
    }
    // SAFETY: caller contract; shared reference, atomics only.
    let q = unsafe { &*arg.cast::<RxQ>() };
    q.irqs.fetch_add(1, Ordering::Relaxed);
    // SAFETY: `owner` points to the RavfState containing `q` (set before the IRQ
    // was registered; the state does not move: it is boxed).
    let st = unsafe { &*q.owner };
    if !st.running.load(Ordering::Acquire) {
        return FILTER_HANDLED;
    }
    FILTER_SCHEDULE_THREAD
}

/// The admin taskqueue's work function (called by the C task trampoline, or by the
/// test harness's scheduler). `arg` is the `RavfState`.
///
/// # Safety
/// `arg` is the pointer given to `ravf_kpi_admin_task_init`: a live `RavfState` (the
/// taskqueue is drained and freed in detach before the state).
#[no_mangle]
pub unsafe extern "C" fn ravf_admin_task(arg: *mut c_void) {
    if arg.is_null() {
        return;
    }
    // SAFETY: caller contract.
    let st = unsafe { &*arg.cast::<RavfState>() };
    let timer = st.timer_due.swap(false, Ordering::AcqRel);
    let mut ctl = st.ctl.lock();
    let Some(vf) = ctl.vf.as_mut() else {
        return;
    };
    let rep = if timer { vf.timer() } else { vf.admin_task() };
    handle_report(st, &mut ctl, &rep);
}

/// Copy the control plane's link and statistics into the lock-free snapshots, and
/// act on an `AdminReport`. Called from ravf's admin task with the control lock held.
pub fn handle_report(st: &RavfState, ctl: &mut CtlGuard<'_, Ctl>, rep: &AdminReport) {
    let Some(vf) = ctl.vf.as_ref() else {
        return;
    };
    let link = vf.link();
    let s = vf.stats();
    let vals = [
        s.rx_bytes,
        s.rx_unicast,
        s.rx_multicast,
        s.rx_broadcast,
        s.rx_discards,
        s.rx_unknown_protocol,
        s.tx_bytes,
        s.tx_unicast,
        s.tx_multicast,
        s.tx_broadcast,
        s.tx_discards,
        s.tx_errors,
    ];
    for (a, v) in st.stats.iter().zip(vals) {
        a.store(v, Ordering::Relaxed);
    }
    st.store_link(link);

    if rep.reset_detected {
        // The queues are gone until iflib reinitialises; stop the queue filters from
        // scheduling work on them.
        st.running.store(false, Ordering::Release);
        log_dev(
            st.dev,
            Level::Warn,
            format_args!("VF reset detected, recovering"),
        );
    }
    if let Some(e) = rep.recovery_failed {
        log_dev(
            st.dev,
            Level::Error,
            format_args!("reset recovery failed: {e}"),
        );
    }
    // iflib hears about the link from ifdi_update_admin_status, under its CTX lock, as
    // FreeBSD iavf does: ask iflib's admin task to run when what it was last told is
    // stale.
    let stale = ctl.reported != Some(normalize(shown_link(st, link)));
    notify_iflib(st, stale, rep.reinit_needed);
    if rep.more_work && !st.admin_tq.is_null() {
        // SAFETY: live taskqueue handle.
        unsafe { kpi::ravf_kpi_admin_task_enqueue(st.admin_tq) };
    }
}

/// Ask iflib's admin task to run (`stale`: the link iflib was told is out of date) and
/// for a full stop/init (`reinit`). iflib's admin task exists only from
/// msix_intr_assign until device_detach begins (`RavfState::iflib_admin_ok`); outside
/// that window nothing is asked of it. Nothing is lost: ifdi_init reports the link,
/// and a reinit request before attach_post or during detach has nothing to
/// reinitialise.
pub(crate) fn notify_iflib(st: &RavfState, stale: bool, reinit: bool) {
    if !st.iflib_admin_ok() {
        return;
    }
    if stale {
        // SAFETY: st.ctx is the live iflib context and its admin task is attached
        // (iflib_admin_ok; ravf_set_detaching drains this task after clearing it).
        unsafe { kpi::iflib_admin_intr_deferred(st.ctx) };
    }
    if reinit {
        // Full stop/init by iflib's admin task (which then calls ifdi_init).
        // SAFETY: as above.
        unsafe {
            kpi::iflib_request_reset(st.ctx);
            kpi::iflib_admin_intr_deferred(st.ctx);
        }
    }
}

/// The link iflib should see: down while the queues are not running (as newest
/// FreeBSD iavf does), because iflib would otherwise transmit into disabled queues;
/// ifdi_init reports the core's link once ENABLE_QUEUES completed.
pub fn shown_link(st: &RavfState, link: Link) -> Link {
    if st.running.load(Ordering::Acquire) {
        link
    } else {
        Link::default()
    }
}

/// A down link carries no speed.
fn normalize(link: Link) -> Link {
    if link.up {
        link
    } else {
        Link {
            up: false,
            speed_mbps: 0,
        }
    }
}

/// Tell iflib the link state if it differs from what was last reported (or always,
/// with `force`). Speed in bit/s, as iavf (`IF_Mbps`). CTX-locked contexts only
/// (ifdi methods), where iflib expects `iflib_link_state_change`.
pub fn report_link(st: &RavfState, ctl: &mut Ctl, link: Link, force: bool) {
    let link = normalize(link);
    if !force && ctl.reported == Some(link) {
        return;
    }
    ctl.reported = Some(link);
    let state = if link.up {
        LINK_STATE_UP
    } else {
        LINK_STATE_DOWN
    };
    // SAFETY: st.ctx is the live iflib context; iflib_link_state_change takes only
    // iflib's internal STATE lock (after ours in the lock order).
    unsafe { kpi::iflib_link_state_change(st.ctx, state, if_mbps(u64::from(link.speed_mbps))) };
}
