//! Interrupt delivery and deferred work: what the kernel's interrupt threads and
//! taskqueues do concurrently, done here at well-defined points (a driver sleep, or
//! the harness's own poll loop), never re-entrantly.

use ravf_sys::{IFLIB_INTR_ADMIN, IFLIB_INTR_IOV};

use crate::ctx::{Exec, IflibCtx, IrqSlot, Shared};
use crate::ifdi;

/// Run `f` in execution context `e` on behalf of `vf`, restoring the previous one.
pub fn in_exec<R>(sh: &Shared, e: Exec, vf: usize, f: impl FnOnce() -> R) -> R {
    let prev = sh.exec.replace(e);
    let prev_vf = sh.cur_vf.replace(vf);
    let r = f();
    sh.exec.set(prev);
    sh.cur_vf.set(prev_vf);
    r
}

/// The indexes of the set bits of `bits`, lowest first.
pub fn set_bits(bits: u32) -> impl Iterator<Item = u32> {
    let mut rest = bits;
    std::iter::from_fn(move || {
        (rest != 0).then(|| {
            let v = rest.trailing_zeros();
            rest &= rest - 1;
            v
        })
    })
}

/// The registered contexts as they are now (a snapshot: what runs for one may
/// register or unregister others). Up to 8 contexts, the usual case, are copied to
/// the stack so a poll of an idle machine costs no allocation.
fn ctx_list(sh: &Shared) -> CtxList<'_> {
    let l = sh.ctxs.borrow();
    let mut few = [None; 8];
    if l.len() > few.len() {
        // SAFETY: registered contexts outlive the Shared borrow (see Shared::ctx_from).
        return CtxList::Many(l.iter().map(|&c| unsafe { &*c }).collect());
    }
    for (d, &c) in few.iter_mut().zip(l.iter()) {
        // SAFETY: as above.
        *d = Some(unsafe { &*c });
    }
    CtxList::Few(few)
}

enum CtxList<'a> {
    Few([Option<&'a IflibCtx>; 8]),
    Many(Vec<&'a IflibCtx>),
}

impl<'a> CtxList<'a> {
    fn iter(&self) -> impl Iterator<Item = &'a IflibCtx> + '_ {
        let (few, many): (&[Option<&'a IflibCtx>], &[&'a IflibCtx]) = match self {
            CtxList::Few(f) => (f, &[]),
            CtxList::Many(m) => (&[], m),
        };
        few.iter().flatten().copied().chain(many.iter().copied())
    }
}

/// The interrupt registrations of the vectors in `bits`, as they are when taken (a
/// snapshot: the handlers run afterwards may change them). A single fired vector, the
/// data-path case, is looked up without copying the whole table.
pub enum IrqSnapshot {
    One(u32, Option<IrqSlot>),
    All(Vec<IrqSlot>),
}

impl IrqSnapshot {
    pub fn take(c: &IflibCtx, bits: u32) -> IrqSnapshot {
        let slots = c.irqs.borrow();
        if bits.count_ones() == 1 {
            let v = bits.trailing_zeros();
            IrqSnapshot::One(v, slots.iter().find(|s| s.vector == v).copied())
        } else {
            IrqSnapshot::All(slots.clone())
        }
    }

    /// The first registration of vector `v` (as `iter().find` on the table would).
    pub fn find(&self, v: u32) -> Option<IrqSlot> {
        match self {
            IrqSnapshot::One(w, s) => s.filter(|_| *w == v),
            IrqSnapshot::All(slots) => slots.iter().find(|s| s.vector == v).copied(),
        }
    }
}

/// Take the vectors the emulator fired. The admin vector's filter runs at once (a
/// fast interrupt handler); queue vectors are left pending for the iflib RX/TX task,
/// which only the harness's poll loop runs (the data path is not sleepable context,
/// and iflib's tasks do nothing before IFF_DRV_RUNNING anyway).
pub fn poll_irqs(sh: &Shared) -> bool {
    let mut any = false;
    for c in ctx_list(sh).iter() {
        let bits = sh.dev.borrow_mut().take_irqs(c.vf);
        if bits == 0 {
            continue;
        }
        any = true;
        let slots = IrqSnapshot::take(c, bits);
        // The set bits in ascending order (as a 0..32 scan would visit them).
        for v in set_bits(bits) {
            match slots.find(v) {
                Some(s) if s.ty == IFLIB_INTR_ADMIN || s.ty == IFLIB_INTR_IOV => {
                    if let Some(filter) = s.filter {
                        let arg = s.arg;
                        // SAFETY: filter and arg are what the driver registered with
                        // iflib_irq_alloc_generic for this vector.
                        in_exec(sh, Exec::Filter, c.vf, || unsafe { filter(arg) });
                    }
                }
                Some(_) => c.pending_vectors.set(c.pending_vectors.get() | (1 << v)),
                None => sh.note(
                    c.vf,
                    format!("stray MSI-X vector {v} (no handler registered)"),
                ),
            }
        }
    }
    any
}

/// Whether the driver's control-plane lock of `vf` is held (then its admin task would
/// block on it in the kernel; here it waits for a later run point).
fn vf_locked(sh: &Shared, vf: usize) -> bool {
    // SAFETY: registered locks are live until ravf_kpi_mtx_destroy unregisters them.
    sh.mtxs
        .borrow()
        .iter()
        .any(|&m| unsafe { (*m).vf == vf && (*m).held.get().is_some() })
}

/// Run the ravf admin task of `c` if it is pending and may run now.
pub fn run_admin_task(sh: &Shared, c: &IflibCtx) -> bool {
    if !c.admin_task_live.get() || !c.admin_task_pending.get() || c.admin_task_running.get() {
        return false;
    }
    if vf_locked(sh, c.vf) {
        return false;
    }
    c.admin_task_pending.set(false);
    c.admin_task_running.set(true);
    let arg = c.admin_task_arg.get();
    // SAFETY: arg is what the driver passed to ravf_kpi_admin_task_init.
    in_exec(sh, Exec::AdminTask, c.vf, || unsafe {
        ifdi::ravf_admin_task(arg)
    });
    c.admin_task_running.set(false);
    true
}

/// Run every runnable ravf admin task. Returns whether any ran.
pub fn run_admin_tasks(sh: &Shared) -> bool {
    let mut any = false;
    for c in ctx_list(sh).iter() {
        any |= run_admin_task(sh, c);
    }
    any
}

/// `pause_sbt`: let virtual time pass, deliver interrupts, and run the deferred work
/// that would run on other threads meanwhile (the ravf admin taskqueue).
pub fn sleep_us(sh: &Shared, us: u32) {
    match sh.exec.get() {
        Exec::Filter | Exec::DataPath => {
            sh.error(format!(
                "vf{}: sleep of {us} us in {:?} context",
                sh.cur_vf.get(),
                sh.exec.get()
            ));
        }
        _ => {}
    }
    // Advance in slices so replies that arrive early are handled early, as they would
    // be by the concurrently running task (bounded: at most 100 slices).
    let total = u64::from(us.max(1)) * 1000;
    let slice = (total / 100).max(10_000);
    let mut done = 0;
    while done < total {
        let step = slice.min(total - done);
        sh.advance(step);
        done += step;
        poll_irqs(sh);
        run_admin_tasks(sh);
    }
}

#[cfg(test)]
mod tests {
    use super::set_bits;

    #[test]
    fn set_bits_visits_each_set_bit_in_ascending_order() {
        assert_eq!(set_bits(0).count(), 0);
        assert_eq!(set_bits(1).collect::<Vec<_>>(), vec![0]);
        assert_eq!(set_bits(0x8000_0005).collect::<Vec<_>>(), vec![0, 2, 31]);
        assert_eq!(
            set_bits(u32::MAX).collect::<Vec<_>>(),
            (0..32).collect::<Vec<_>>()
        );
    }
}
