//! Serving emulated VFs to QEMU's `vfio-user-pci` client (QEMU 11.1).
//!
//! One VF per Unix socket; one thread per socket answers the client's requests
//! ([`conn`]); a second thread ([`machine::Machine::run_clock`]) drives the
//! emulator's virtual time from the real clock, signals MSI-X eventfds and moves
//! frames between the PF's uplink port and a Linux TAP device. Several sockets may
//! share one emulated PF, so VFs of the same PF can talk through its VEB.
//!
//! Protocol: QEMU `docs/interop/vfio-user.rst`. The server side is small enough to
//! implement directly over a Unix stream with SCM_RIGHTS ([`sock`]); doing so lets
//! every request be read whole before it is handled, so an error never
//! desynchronises the stream.

pub mod conn;
pub mod ctl;
pub mod dma;
pub mod irq;
pub mod machine;
pub mod proto;
pub mod sock;
pub mod tap;

use std::sync::Arc;

use crate::mem::GuestMemory;

/// What a connection needs from the emulated VF behind it. Offsets are within the
/// region; `width` is the access size in bytes as the guest made it.
pub trait VfDevice: Send + Sync {
    fn cfg_read(&self, off: u32, width: u32) -> u32;
    fn cfg_write(&self, off: u32, width: u32, val: u32);
    fn bar_read(&self, bar: u32, off: u32, width: u32) -> u32;
    fn bar_write(&self, bar: u32, off: u32, width: u32, val: u32);
    /// Guest memory as the device reaches it by IOVA (the connection's DMA maps).
    fn attach_memory(&self, mem: Arc<dyn GuestMemory>);
    /// Function-level reset (DEVICE_RESET).
    fn flr(&self);
    /// Called after every access: bring virtual time up to now, deliver interrupts,
    /// move uplink frames.
    fn after_access(&self);
}

/// Minimal leveled logging to stderr (the server runs beside QEMU; its log is a file
/// the test script keeps). Level from `RAVF_SIM_LOG` = error|warn|info|debug.
pub mod log {
    use std::sync::atomic::{AtomicU8, Ordering};
    use std::sync::OnceLock;
    use std::time::Instant;

    static LEVEL: AtomicU8 = AtomicU8::new(2);
    static T0: OnceLock<Instant> = OnceLock::new();

    pub fn init_from_env() {
        let l = match std::env::var("RAVF_SIM_LOG").as_deref() {
            Ok("error") => 0,
            Ok("warn") => 1,
            Ok("debug") => 3,
            _ => 2,
        };
        LEVEL.store(l, Ordering::Relaxed);
        T0.get_or_init(Instant::now);
    }

    fn emit(level: u8, tag: &str, a: std::fmt::Arguments) {
        if level <= LEVEL.load(Ordering::Relaxed) {
            let t = T0.get_or_init(Instant::now).elapsed();
            eprintln!("[{:>5}.{:03}] {tag} {a}", t.as_secs(), t.subsec_millis());
        }
    }
    pub fn warn(a: std::fmt::Arguments) {
        emit(1, "warn", a)
    }
    pub fn info(a: std::fmt::Arguments) {
        emit(2, "info", a)
    }
    pub fn debug(a: std::fmt::Arguments) {
        emit(3, "debug", a)
    }
}
