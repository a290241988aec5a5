//! The driver's ifdi methods and admin task, as the C shim's kobj method table
//! (`DEVMETHOD(ifdi_*, ravf_if_*)`) reaches them: by symbol, with the C signatures
//! of `sys/net/ifdi_if.m`. The if_txrx callbacks are not here: iflib (and this
//! stand-in) calls them through `scctx->isc_txrx`, which attach_pre fills.
#![allow(improper_ctypes)]

use std::ffi::{c_int, c_void};

use ravf_sys::{caddr_t, if_ctx_t, iflib_restart_event, ifmediareq, ift_counter};

// The C structs of kmod/ravf.h that cross this boundary, as ravf-ffi defines them.
pub use ravf_ffi::sysctl::{
    RavfSysctlDesc, RavfTunables, RAVF_SYSCTL_NODE_DEV, RAVF_SYSCTL_NODE_RXQ, RAVF_SYSCTL_NODE_TXQ,
    RAVF_SYSCTL_NODE_VSI, TUNABLE_DEFAULTS,
};

extern "C" {
    pub fn ravf_if_attach_pre(ctx: if_ctx_t) -> c_int;
    pub fn ravf_if_attach_post(ctx: if_ctx_t) -> c_int;
    pub fn ravf_if_detach(ctx: if_ctx_t) -> c_int;
    pub fn ravf_if_shutdown(ctx: if_ctx_t) -> c_int;
    pub fn ravf_if_suspend(ctx: if_ctx_t) -> c_int;
    pub fn ravf_if_resume(ctx: if_ctx_t) -> c_int;
    pub fn ravf_if_init(ctx: if_ctx_t);
    pub fn ravf_if_stop(ctx: if_ctx_t);
    pub fn ravf_if_msix_intr_assign(ctx: if_ctx_t, msix: c_int) -> c_int;
    pub fn ravf_if_intr_enable(ctx: if_ctx_t);
    pub fn ravf_if_intr_disable(ctx: if_ctx_t);
    pub fn ravf_if_rx_queue_intr_enable(ctx: if_ctx_t, qid: u16) -> c_int;
    pub fn ravf_if_tx_queue_intr_enable(ctx: if_ctx_t, qid: u16) -> c_int;
    pub fn ravf_if_tx_queues_alloc(
        ctx: if_ctx_t,
        vaddrs: *mut caddr_t,
        paddrs: *mut u64,
        ntxqs: c_int,
        ntxqsets: c_int,
    ) -> c_int;
    pub fn ravf_if_rx_queues_alloc(
        ctx: if_ctx_t,
        vaddrs: *mut caddr_t,
        paddrs: *mut u64,
        nrxqs: c_int,
        nrxqsets: c_int,
    ) -> c_int;
    pub fn ravf_if_queues_free(ctx: if_ctx_t);
    pub fn ravf_if_update_admin_status(ctx: if_ctx_t);
    pub fn ravf_if_multi_set(ctx: if_ctx_t);
    pub fn ravf_if_mtu_set(ctx: if_ctx_t, mtu: u32) -> c_int;
    pub fn ravf_if_media_status(ctx: if_ctx_t, ifmr: *mut ifmediareq);
    pub fn ravf_if_media_change(ctx: if_ctx_t) -> c_int;
    pub fn ravf_if_promisc_set(ctx: if_ctx_t, flags: c_int) -> c_int;
    pub fn ravf_if_timer(ctx: if_ctx_t, qid: u16);
    pub fn ravf_if_vlan_register(ctx: if_ctx_t, vtag: u16);
    pub fn ravf_if_vlan_unregister(ctx: if_ctx_t, vtag: u16);
    pub fn ravf_if_get_counter(ctx: if_ctx_t, cnt: ift_counter) -> u64;
    pub fn ravf_if_needs_restart(ctx: if_ctx_t, event: iflib_restart_event) -> bool;
    /// The sysctl table walk kmod/ravf_sysctl.c does at attach.
    pub fn ravf_sysctl_desc(idx: u32, out: *mut RavfSysctlDesc) -> c_int;
    /// kmod/ravf_sysctl.c's handlers (ffi/src/sysctl.rs `export_sysctl_handlers!`).
    pub fn ravf_sysctl_get_u64(sc: *mut c_void, idx: u32, queue: u32, out: *mut u64) -> c_int;
    pub fn ravf_sysctl_set_int(sc: *mut c_void, idx: u32, value: c_int) -> c_int;
    /// The function the "ravf_vc" task runs (kpi.rs: ravf_kpi_admin_task_init).
    pub fn ravf_admin_task(arg: *mut c_void);
}
