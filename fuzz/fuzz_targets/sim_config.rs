//! `ravf_sim::config::IovConfig::parse` (iovctl.conf text) on arbitrary input: no
//! panic, and an accepted configuration respects the documented limits.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ravf_sim::config::{self, IovConfig, MAX_QUEUES, MAX_VFS};

fn check(c: &IovConfig) {
    assert!(!c.device.is_empty(), "accepted without a device");
    assert!(
        !c.vfs.is_empty() && c.vfs.len() <= usize::from(MAX_VFS),
        "num_vfs {} accepted",
        c.vfs.len()
    );
    for v in &c.vfs {
        assert!(
            (1..=MAX_QUEUES).contains(&v.num_queues),
            "num-queues {}",
            v.num_queues
        );
        if let Some(m) = v.mac_addr {
            assert_eq!(m[0] & 1, 0, "multicast mac-addr accepted: {m:02x?}");
        }
    }
}

fuzz_target!(|data: &[u8]| {
    // Arbitrary bytes as text: valid UTF-8 as is, anything else lossily converted so
    // byte-level mutations still reach the parser.
    let text = String::from_utf8_lossy(data);
    if let Ok(c) = IovConfig::parse(&text) {
        check(&c);
    }
    if let Some((&v, rest)) = data.split_first() {
        let text = String::from_utf8_lossy(rest);
        if let Ok(c) = config::parse_with_vectors(&text, u16::from(v)) {
            check(&c);
        }
        let _ = config::parse_mac(&text);
    }
});
