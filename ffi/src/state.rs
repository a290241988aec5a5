//! The per-device Rust state behind `struct ravf_softc { void *rs; }`, and the only
//! functions that turn the raw pointers iflib passes around into references to it.
//!
//! # Sharing
//! One [`RavfState`] is shared by several contexts at once:
//! * iflib's ifdi methods (CTX sx lock held), the ravf admin task (own taskqueue) and
//!   the timer deferral reach the control plane through [`RavfState::ctl`] (the
//!   control lock; lock order in `lock.rs`);
//! * the if_txrx callbacks reach one ring each through [`TxQ`]/[`RxQ`], guarded by a
//!   per-queue [`QLock`] (iflib already serialises each queue's data path; the lock
//!   exists because the interrupt filter path — `txd_credits_update(clear = false)`
//!   and `rxd_available` — may run concurrently with it, and because two `&mut` to one
//!   ring must never exist);
//! * the interrupt filters read only atomics and BAR0.
//!
//! ## Why the serialised data path still takes the QLock
//! iflib serialises each queue's data path: `txd_encap`, `txd_flush` and
//! `txd_credits_update(clear = true)` run in `iflib_txq_drain` (the mp_ring consumer,
//! one at a time per ring; in 15's simple_tx mode under the TXQ lock), and
//! `rxd_pkt_get`/`rxd_refill`/`rxd_flush` in `iflib_rxeof` (the queue's RX grouptask).
//! That alone would let those calls take `&mut` without an atomic, if every other
//! user of the ring could be kept off it without one. Three cannot:
//! * the filter-context calls (`iflib_fast_intr_rxtx`, `iflib_txq_can_drain`), which
//!   iflib runs concurrently with the task (they would need a read-only path over
//!   immutable geometry, DMA words read atomically on both sides, and an atomic
//!   mirror of the consumer state);
//! * `IFDI_INIT` (`ravf_if_init` re-initialises the rings): iflib_stop separates it
//!   from a late drainer or RX task only by `IFDI_INTR_DISABLE` + `DELAY(1000)` (its
//!   own comment: "make sure all transmitters have completed before proceeding XXX"),
//!   not by draining them, so without the lock that window would be two `&mut` to
//!   one ring — undefined behaviour rather than a benign race;
//! * the sysctl counters (`QueueCounters` live inside the ring), read at any time.
//!
//! So the lock stays; what it costs was cut to the minimum: one inline `lock
//! cmpxchg` (Acquire) to take it and one plain store (Release) to drop it, with the
//! bounded spin out of line (`QLock::lock`), and no closure left un-inlined. The lock
//! byte also records whether the slot holds a ring (`FREE`/`HELD`/`EMPTY`), so the
//! CAS `FREE -> HELD` is the "ring present?" check too; and the data path's form,
//! [`Guarded::with_or`], sends a busy lock to a cold out-of-line function that
//! redoes the whole call, so the callbacks keep no registers alive across the spin.
//!
//! Fields that are neither atomics nor behind one of those locks are written only
//! before the state is published (attach_pre) or with iflib's CTX lock held while no
//! data path or filter can use them (queue and IRQ setup/teardown).

use core::cell::UnsafeCell;
use core::ffi::c_void;
use core::hint::spin_loop;
use core::sync::atomic::{AtomicBool, AtomicU16, AtomicU64, AtomicU8, Ordering};

use ravf::txrx::{RxRing, TxRing};
use ravf::{HeapVf, Link};
use ravf_sys::{device_t, if_ctx_t, if_irq, RavfSoftc};

use crate::lock::CtlLock;
use crate::osdep::{KBar, KDma, KOs};
use crate::scctx::MAX_QUEUES;

pub const NQ: usize = MAX_QUEUES as usize;
// Queue lookups mask the index with NQ - 1.
const _: () = assert!(NQ.is_power_of_two());

/// How long a serialised data-path call spins for its queue lock before giving up.
/// The only possible holder is an interrupt filter on another CPU doing a handful of
/// descriptor reads, so this bound is never reached in a correct system; it exists so
/// that no wait is unbounded.
const QLOCK_SPINS: u32 = 1 << 20;

/// Spins of [`QLock::lock_brief`].
const BRIEF_SPINS: u32 = 1 << 12;

/// [`QLock`] states. The lock byte also says whether its [`Guarded`] slot holds a ring,
/// so the data path's one CAS (`FREE` -> `HELD`) is also its "is the ring there?" check.
///
/// Unlocked, a ring installed.
const FREE: u8 = 0;
/// Held by one thread (whichever state it was taken from, it is that thread's to end).
const HELD: u8 = 1;
/// Unlocked, no ring installed (only [`Guarded`] uses this state).
const EMPTY: u8 = 2;

/// A per-queue try-lock (one atomic byte: `FREE`, `HELD`, or — inside a [`Guarded`]
/// slot with no ring — `EMPTY`).
pub struct QLock {
    state: AtomicU8,
    /// Times a serialised caller gave up after `QLOCK_SPINS` (should stay 0).
    pub timeouts: AtomicU64,
    /// Times a filter-context caller found the queue busy and answered "maybe".
    pub busy: AtomicU64,
}

impl QLock {
    /// A free lock (with nothing behind it, or a ring present).
    pub const fn new() -> Self {
        Self::with_state(FREE)
    }

    const fn with_state(s: u8) -> Self {
        Self {
            state: AtomicU8::new(s),
            timeouts: AtomicU64::new(0),
            busy: AtomicU64::new(0),
        }
    }

    /// One attempt, nothing counted: `FREE` -> `HELD` (the data path's inline fast
    /// path; inside a [`Guarded`] success also means the ring is there).
    #[inline(always)]
    pub(crate) fn acquire_once(&self) -> bool {
        self.state
            .compare_exchange(FREE, HELD, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
    }

    #[cfg(test)]
    /// One attempt (interrupt filters: never wait).
    #[inline]
    pub(crate) fn try_lock(&self) -> bool {
        let ok = self.acquire_once();
        if !ok {
            self.busy.fetch_add(1, Ordering::Relaxed);
        }
        ok
    }

    /// Spin briefly (`BRIEF_SPINS`), for callers that may be either an interrupt
    /// filter or a serialised task: long enough to outlast any other CPU's critical
    /// section here (a few descriptor reads), short enough that a filter which
    /// interrupted the holder on its own CPU only loses microseconds before giving up.
    /// One inline CAS when free; the spin is out of line.
    #[inline(always)]
    pub fn lock_brief(&self) -> bool {
        self.acquire_once() || self.lock_brief_contended()
    }

    #[cold]
    #[inline(never)]
    fn lock_brief_contended(&self) -> bool {
        match self.spin(BRIEF_SPINS) {
            Acq::Held => true,
            _ => {
                self.busy.fetch_add(1, Ordering::Relaxed);
                false
            }
        }
    }

    /// Spin, bounded by `QLOCK_SPINS` (serialised data-path callers). The uncontended
    /// case — the only one in a correct system outside a filter's few-instruction
    /// critical section — is one inline CAS; the spin is out of line.
    #[cfg(test)]
    #[inline(always)]
    pub(crate) fn lock(&self) -> bool {
        self.acquire_once() || self.lock_contended()
    }

    #[cfg(test)]
    #[cold]
    #[inline(never)]
    fn lock_contended(&self) -> bool {
        matches!(self.spin_counted(), Acq::Held)
    }

    /// Up to `spins` attempts at `FREE` -> `HELD`; stops early at `EMPTY` (nothing to
    /// wait for: an empty slot only fills under the CTX lock, not in a spin).
    fn spin(&self, spins: u32) -> Acq {
        for _ in 0..spins {
            match self
                .state
                .compare_exchange_weak(FREE, HELD, Ordering::Acquire, Ordering::Relaxed)
            {
                Ok(_) => return Acq::Held,
                Err(EMPTY) => return Acq::Empty,
                Err(_) => spin_loop(),
            }
        }
        Acq::Busy
    }

    /// [`spin`](Self::spin) with `QLOCK_SPINS`, a timeout counted.
    fn spin_counted(&self) -> Acq {
        let a = self.spin(QLOCK_SPINS);
        if let Acq::Busy = a {
            self.timeouts.fetch_add(1, Ordering::Relaxed);
        }
        a
    }

    /// Take the lock from `FREE` or `EMPTY` (bounded; timeouts counted): `Some(true)`
    /// if it was `FREE` (a ring present), `Some(false)` if `EMPTY`.
    fn lock_any(&self) -> Option<bool> {
        for _ in 0..QLOCK_SPINS {
            let cur = self.state.load(Ordering::Relaxed);
            if cur != HELD
                && self
                    .state
                    .compare_exchange_weak(cur, HELD, Ordering::Acquire, Ordering::Relaxed)
                    .is_ok()
            {
                return Some(cur == FREE);
            }
            spin_loop();
        }
        self.timeouts.fetch_add(1, Ordering::Relaxed);
        None
    }

    /// Release a lock taken by `acquire_once`/`try_lock`/`lock`/`lock_brief` (which
    /// only succeed from `FREE`, so `FREE` is what it goes back to). Only the holder
    /// may call this.
    #[inline(always)]
    pub(crate) fn unlock(&self) {
        self.state.store(FREE, Ordering::Release);
    }

    /// Release, recording whether the slot now holds a ring ([`Guarded::set`]).
    #[inline(always)]
    fn unlock_as(&self, has_ring: bool) {
        let s = if has_ring { FREE } else { EMPTY };
        self.state.store(s, Ordering::Release);
    }
}

impl Default for QLock {
    fn default() -> Self {
        Self::new()
    }
}

/// What a bounded spin on a [`QLock`] got.
enum Acq {
    /// `FREE` -> `HELD`: the lock is ours and (in a [`Guarded`]) the ring is there.
    Held,
    /// The slot has no ring (not locked).
    Empty,
    /// Still held by someone else when the spin ran out.
    Busy,
}

/// A ring slot guarded by a [`QLock`].
///
/// Invariant: the lock is `FREE` only while the slot holds a ring (`Some`), and
/// `EMPTY` only while it holds none; a thread that took it `FREE` -> `HELD` finds a
/// ring, which stays until it unlocks (only [`set`](Self::set)/[`clear`](Self::clear)
/// change the `Option`, after taking the lock themselves, and they publish the
/// matching state when they release it). So the data path needs no second check of
/// the `Option` after its CAS.
pub struct Guarded<R> {
    pub(crate) lock: QLock,
    ring: UnsafeCell<Option<R>>,
}

impl<R> Guarded<R> {
    pub const fn new() -> Self {
        Self {
            lock: QLock::with_state(EMPTY),
            ring: UnsafeCell::new(None),
        }
    }

    /// The ring, for a thread that took the lock `FREE` -> `HELD`.
    ///
    /// # Safety
    /// The caller took the lock from `FREE` (`acquire_once`/`spin` returned held)
    /// and has not released it; the reference must not outlive the unlock.
    #[inline(always)]
    #[allow(clippy::mut_from_ref)]
    unsafe fn ring_held(&self) -> &mut R {
        // SAFETY: the lock is held (caller contract), so this is the only reference
        // to the slot; taken from `FREE`, the slot holds a ring (type invariant).
        unsafe { (*self.ring.get()).as_mut().unwrap_unchecked() }
    }

    /// Run `f` on the ring with the lock held (spinning, bounded). `None` if the ring
    /// is absent or the lock could not be taken.
    #[inline(always)]
    pub fn with<T>(&self, f: impl FnOnce(&mut R) -> T) -> Option<T> {
        self.with_or(|r| r.map(f), None)
    }

    /// The data path's form of `with`: `f` sees the slot (`None`: no ring installed)
    /// and maps everything, errors included, to one `T`. The uncontended case is one
    /// inline CAS — which also proves the ring is there — `f`, and one Release store;
    /// anything else goes to the cold, out-of-line `with_contended` as a tail call,
    /// so the caller keeps no registers alive across the bounded spin. `timed_out` is
    /// the answer when even the bounded spin fails (never in a correct system).
    #[inline(always)]
    pub fn with_or<T, F: FnOnce(Option<&mut R>) -> T>(&self, f: F, timed_out: T) -> T {
        if !self.lock.acquire_once() {
            return self.with_contended(f, timed_out);
        }
        // SAFETY: taken FREE -> HELD just above, released below after `f` (which
        // cannot keep the reference: its lifetime ends with `f`).
        let r = f(Some(unsafe { self.ring_held() }));
        self.lock.unlock();
        r
    }

    /// [`with_or`](Self::with_or) after its CAS failed: the bounded spin, then `f`.
    #[cold]
    #[inline(never)]
    fn with_contended<T, F: FnOnce(Option<&mut R>) -> T>(&self, f: F, timed_out: T) -> T {
        self.after_spin(self.lock.spin_counted(), f, timed_out)
    }

    /// `f` after a spin: on the ring if it was taken, on `None` if the slot is empty,
    /// else `busy`.
    #[inline(always)]
    fn after_spin<T, F: FnOnce(Option<&mut R>) -> T>(&self, a: Acq, f: F, busy: T) -> T {
        match a {
            Acq::Held => {
                // SAFETY: `spin` took the lock FREE -> HELD; released right after `f`.
                let r = f(Some(unsafe { self.ring_held() }));
                self.lock.unlock();
                r
            }
            Acq::Empty => f(None),
            Acq::Busy => busy,
        }
    }

    /// [`with_or`](Self::with_or) with [`QLock::lock_brief`]'s short spin (callers that
    /// may be an interrupt filter); `busy` if the lock stayed held.
    #[inline(always)]
    pub fn brief_with_or<T, F: FnOnce(Option<&mut R>) -> T>(&self, f: F, busy: T) -> T {
        if !self.lock.acquire_once() {
            return self.brief_contended(f, busy);
        }
        // SAFETY: as in `with_or`.
        let r = f(Some(unsafe { self.ring_held() }));
        self.lock.unlock();
        r
    }

    #[cold]
    #[inline(never)]
    fn brief_contended<T, F: FnOnce(Option<&mut R>) -> T>(&self, f: F, busy: T) -> T {
        let a = self.lock.spin(BRIEF_SPINS);
        if let Acq::Busy = a {
            self.lock.busy.fetch_add(1, Ordering::Relaxed);
        }
        self.after_spin(a, f, busy)
    }

    /// Like `with`, but with [`QLock::lock_brief`]. `Err(())` if still busy.
    #[inline(always)]
    #[allow(clippy::result_unit_err)]
    pub fn brief_with<T>(&self, f: impl FnOnce(&mut R) -> T) -> Result<Option<T>, ()> {
        self.brief_with_or(|r| Ok(r.map(f)), Err(()))
    }

    /// Like `with`, but one attempt only (filter context). `Err(())` if busy.
    #[inline(always)]
    #[allow(clippy::result_unit_err)]
    pub fn try_with<T>(&self, f: impl FnOnce(&mut R) -> T) -> Result<Option<T>, ()> {
        if self.lock.acquire_once() {
            // SAFETY: as in `with_or`.
            let r = f(unsafe { self.ring_held() });
            self.lock.unlock();
            return Ok(Some(r));
        }
        self.try_failed()
    }

    /// `try_with`'s CAS failed: an empty slot, or busy (counted).
    #[cold]
    #[inline(never)]
    fn try_failed<T>(&self) -> Result<Option<T>, ()> {
        if self.lock.state.load(Ordering::Relaxed) == EMPTY {
            return Ok(None);
        }
        self.lock.busy.fetch_add(1, Ordering::Relaxed);
        Err(())
    }

    /// Replace the ring (queue setup/teardown). Setup and teardown run with iflib's
    /// CTX lock held and the data path stopped, so at most a filter's short critical
    /// section can hold the lock. Returns false (and changes nothing) if the bounded
    /// spin still failed.
    ///
    /// Out of line: a ring is most of a KiB, and inlined into its callers the old and
    /// new values would both sit in their frames (kmod-check gates frames at 2 KiB).
    #[must_use]
    #[inline(never)]
    pub fn set(&self, ring: Option<R>) -> bool {
        if self.lock.lock_any().is_none() {
            return false;
        }
        let has = ring.is_some();
        // SAFETY: the QLock is held (taken from FREE or EMPTY), so this is the only
        // access to the slot.
        let old = unsafe { core::mem::replace(&mut *self.ring.get(), ring) };
        // Publishes the state matching the slot (type invariant).
        self.lock.unlock_as(has);
        drop(old);
        true
    }

    /// Remove the ring, dropping it in place (no copy through the stack). Same
    /// bounded lock as [`set`](Self::set).
    #[must_use]
    pub fn clear(&self) -> bool {
        if self.lock.lock_any().is_none() {
            return false;
        }
        // SAFETY: the QLock is held, so this is the only access to the slot.
        unsafe { *self.ring.get() = None };
        self.lock.unlock_as(false);
        true
    }

    /// Whether a ring is installed (with the lock held, bounded).
    pub fn is_set(&self) -> bool {
        self.with(|_| ()).is_some()
    }
}

// SAFETY: every access to the slot goes through the QLock (acquire/release), which
// gives one thread at a time exclusive access; moving `R` between threads that way
// needs `R: Send`.
unsafe impl<R: Send> Sync for Guarded<R> {}

impl<R> Default for Guarded<R> {
    fn default() -> Self {
        Self::new()
    }
}

pub type TxQ = Guarded<TxRing<KDma>>;

/// One RX queue: its ring, and what its MSI-X filter needs.
pub struct RxQ {
    pub ring: Guarded<RxRing<KDma>>,
    /// Back-pointer to the owning state (filter argument is `&RxQ`).
    pub owner: *const RavfState,
    pub qid: u16,
    /// Interrupts taken (FreeBSD `rxq->irqs`).
    pub irqs: AtomicU64,
}

/// IRQ bookkeeping: touched only in msix_intr_assign and detach (CTX lock held).
pub struct Irqs {
    pub admin: if_irq,
    pub rx: [if_irq; NQ],
    pub tx: [if_irq; NQ],
    pub rx_names: [[u8; 8]; NQ],
    pub tx_names: [[u8; 8]; NQ],
    /// Number of `rx` entries allocated (freed in detach).
    pub rx_allocated: u16,
    pub admin_allocated: bool,
}

/// The control plane, behind the control lock.
pub struct Ctl {
    /// On the heap (the core is a few KiB; see `ravf::HeapVf`).
    pub vf: Option<HeapVf<KOs>>,
    /// The link last reported to iflib (`None`: nothing reported yet).
    pub reported: Option<Link>,
    /// MSI-X vectors iflib allocated (admin included), from msix_intr_assign.
    pub nvectors: u16,
}

/// Everything ravf keeps per device.
pub struct RavfState {
    pub ctx: if_ctx_t,
    pub dev: device_t,
    /// BAR0 for the data path and the filters (the `Vf` owns another `KBar` over the
    /// same mapping; both are plain handles, the C side does the accesses).
    pub bar: KBar,
    /// `ravf_kpi_admin_task_init` handle.
    pub admin_tq: *mut c_void,
    pub ctl: CtlLock<Ctl>,
    /// Set once attach_post has enabled the admin vector (FreeBSD INITIALIZED).
    pub initialized: AtomicBool,
    /// Queues enabled and iflib running (FreeBSD RUNNING): queue filters schedule.
    pub running: AtomicBool,
    /// device_detach has begun (`ravf_set_detaching`, called by the C shim before
    /// `iflib_device_detach`): iflib's own admin task is about to be detached from
    /// its taskqueue (14.x `iflib_tqg_detach`, before IFDI_DETACH), so ravf's admin
    /// task must no longer enqueue it (`iflib_admin_intr_deferred` on a detached
    /// grouptask dereferences a NULL taskqueue).
    pub detaching: AtomicBool,
    /// `ifdi_timer` asked for `Vf::timer` (run by the admin task, which may sleep).
    pub timer_due: AtomicBool,
    /// Admin vector interrupts taken.
    pub admin_irqs: AtomicU64,
    /// Link snapshot for media_status: bit 63 = up, low 32 bits = Mb/s.
    pub link_snap: AtomicU64,
    /// Statistics snapshot for get_counter (which may run where the control lock
    /// cannot be taken): the 12 `virtchnl_eth_stats` counters in wire order.
    pub stats: [AtomicU64; 12],
    /// Queue sets iflib set up (0 until tx/rx_queues_alloc).
    pub ntxq: AtomicU16,
    pub nrxq: AtomicU16,
    pub head_wb: bool,
    pub txq: [TxQ; NQ],
    pub rxq: [RxQ; NQ],
    pub irqs: UnsafeCell<Irqs>,
}

impl RavfState {
    /// Whether ravf's admin task may call iflib's `iflib_admin_intr_deferred` /
    /// `iflib_request_reset`: only between attach_post (iflib attached its admin
    /// grouptask while allocating the admin IRQ in msix_intr_assign, which precedes
    /// attach_post) and the start of device_detach.
    #[inline]
    pub fn iflib_admin_ok(&self) -> bool {
        self.initialized.load(Ordering::Acquire) && !self.detaching.load(Ordering::Acquire)
    }

    /// Link snapshot encode/decode.
    pub fn store_link(&self, l: Link) {
        let v = (u64::from(l.up) << 63) | u64::from(l.speed_mbps);
        self.link_snap.store(v, Ordering::Relaxed);
    }

    pub fn load_link(&self) -> Link {
        let v = self.link_snap.load(Ordering::Relaxed);
        Link {
            up: v >> 63 != 0,
            speed_mbps: v as u32,
        }
    }

    /// The TX queue `qid` if iflib set it up. One compare: `ntxq <= NQ` (queues_alloc
    /// refuses more), and the index is masked into the array (NQ is a power of two),
    /// so there is no second bounds check.
    #[inline(always)]
    pub fn txq(&self, qid: u16) -> Option<&TxQ> {
        if qid >= self.ntxq.load(Ordering::Relaxed) {
            return None;
        }
        Some(&self.txq[usize::from(qid) & (NQ - 1)])
    }

    /// The RX queue `qid` if iflib set it up (as [`txq`](Self::txq)).
    #[inline(always)]
    pub fn rxq(&self, qid: u16) -> Option<&RxQ> {
        if qid >= self.nrxq.load(Ordering::Relaxed) {
            return None;
        }
        Some(&self.rxq[usize::from(qid) & (NQ - 1)])
    }
}

/// The state behind an iflib softc pointer (the `void *sc` of the if_txrx callbacks
/// and the return value of `iflib_get_softc`).
///
/// # Safety
/// `sc` must be NULL or point to the `RavfSoftc` iflib allocated for this driver;
/// its `rs` is NULL or a `RavfState` published by attach_pre and not yet freed by
/// detach (iflib calls nothing on the device after detach).
#[inline(always)]
pub unsafe fn from_softc<'a>(sc: *mut c_void) -> Option<&'a RavfState> {
    let sc = sc.cast::<RavfSoftc>();
    if sc.is_null() {
        return None;
    }
    // SAFETY: non-null `sc` points to a live RavfSoftc (caller contract); reading its
    // one pointer field.
    let rs = unsafe { (*sc).rs }.cast::<RavfState>();
    if rs.is_null() {
        return None;
    }
    // SAFETY: a non-null `rs` is a RavfState published by attach_pre, alive until
    // detach (caller contract); only shared references are made from it.
    Some(unsafe { &*rs })
}

/// The state of an iflib context.
///
/// # Safety
/// `ctx` must be the live iflib context of a ravf device (iflib passes it to every
/// ifdi method); see [`from_softc`].
#[inline]
pub unsafe fn from_ctx<'a>(ctx: if_ctx_t) -> Option<&'a RavfState> {
    if ctx.is_null() {
        return None;
    }
    // SAFETY: live ctx (caller contract).
    let sc = unsafe { crate::kpi::iflib_get_softc(ctx) };
    // SAFETY: iflib_get_softc returns this driver's softc (caller contract).
    unsafe { from_softc(sc) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qlock_try_brief_and_bounded() {
        let l = QLock::new();
        assert!(l.try_lock());
        assert!(!l.try_lock(), "held: a filter gets no");
        assert!(!l.lock_brief(), "held: the brief spin gives up");
        assert_eq!(l.busy.load(Ordering::Relaxed), 2);
        assert!(!l.lock(), "held: the bounded spin gives up and counts it");
        assert_eq!(l.timeouts.load(Ordering::Relaxed), 1);
        l.unlock();
        assert!(l.lock());
        l.unlock();
        assert!(l.lock_brief());
        l.unlock();
    }

    #[test]
    fn guarded_slot_set_with_and_busy() {
        let g: Guarded<u32> = Guarded::new();
        assert_eq!(g.with(|v| *v), None, "empty slot");
        assert!(g.set(Some(7)));
        assert_eq!(
            g.with(|v| {
                *v += 1;
                *v
            }),
            Some(8)
        );
        assert!(g.lock.try_lock());
        assert_eq!(g.try_with(|v| *v), Err(()));
        assert_eq!(g.brief_with(|v| *v), Err(()));
        g.lock.unlock();
        assert_eq!(g.try_with(|v| *v), Ok(Some(8)));
        assert!(g.set(None));
        assert!(!g.is_set());
    }

    #[test]
    fn with_or_fast_contended_and_empty() {
        let g: Guarded<u32> = Guarded::new();
        assert_eq!(g.with_or(|r| r.map(|v| *v), Some(99)), None, "empty slot");
        assert!(g.set(Some(5)));
        assert_eq!(
            g.with_or(
                |r| r.map(|v| {
                    *v += 1;
                    *v
                }),
                None
            ),
            Some(6)
        );
        // Held elsewhere: the contended paths give up with their fallback and count.
        assert!(g.lock.acquire_once());
        assert_eq!(g.brief_with_or(|r| r.map(|v| *v), Some(77)), Some(77));
        assert_eq!(g.lock.busy.load(Ordering::Relaxed), 1);
        assert_eq!(g.with_or(|r| r.map(|v| *v), Some(88)), Some(88));
        assert_eq!(g.lock.timeouts.load(Ordering::Relaxed), 1);
        g.lock.unlock();
        // Released: both forms reach the ring again, and leave the lock free.
        assert_eq!(g.brief_with_or(|r| r.map(|v| *v), None), Some(6));
        assert_eq!(g.with_or(|r| r.map(|v| *v), None), Some(6));
        assert!(g.lock.acquire_once());
        g.lock.unlock();
    }

    #[test]
    fn qlock_excludes_across_threads() {
        use std::sync::Arc;
        let g = Arc::new(Guarded::<u64>::new());
        assert!(g.set(Some(0)));
        let hs: Vec<_> = (0..4)
            .map(|_| {
                let g = Arc::clone(&g);
                std::thread::spawn(move || {
                    for _ in 0..10_000 {
                        // A non-atomic read-modify-write: loses updates unless the
                        // lock excludes the other threads.
                        g.with(|v| *v = core::hint::black_box(*v) + 1).unwrap();
                    }
                })
            })
            .collect();
        for h in hs {
            h.join().unwrap();
        }
        assert_eq!(g.with(|v| *v), Some(40_000));
    }
}
