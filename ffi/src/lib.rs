//! ravf-ffi: the iflib entry points. Built `no_std` for the kernel (target_os = "none"),
//! and with std on the host so the stand-in for iflib can link it into tests.
#![cfg_attr(target_os = "none", no_std)]
