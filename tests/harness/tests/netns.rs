//! `make demo-netns` as an integration test: real Linux network stacks in two network
//! namespaces talking through TAP interfaces, ravf and the emulator
//! (tests/netns/demo-netns.sh with the ravf-netns binary cargo built for this test).
//!
//! It needs root and /dev/net/tun (CI and the development machine run as root). When
//! either is missing, or the kernel refuses to create a network namespace, it says
//! why and returns without running; when it runs, any failure of the script fails
//! the test.

use std::path::Path;
use std::process::Command;

/// Why the demo cannot run here, if it cannot.
fn skip_reason() -> Option<String> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        return Some("not running as root (network namespaces and TAP devices need it)".into());
    }
    if !Path::new("/dev/net/tun").exists() {
        return Some("/dev/net/tun does not exist (no TUN/TAP in this kernel or container)".into());
    }
    if let Err(e) = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/net/tun")
    {
        return Some(format!("/dev/net/tun cannot be opened: {e}"));
    }
    // Can this process make a network namespace at all (containers often cannot)?
    // unshare(1) is in util-linux (Essential on Debian); without it, let the script
    // find out.
    if let Ok(out) = Command::new("unshare").args(["--net", "true"]).output() {
        if !out.status.success() {
            return Some(format!(
                "cannot create a network namespace here (unshare --net: {})",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
    }
    None
}

#[test]
fn demo_netns_ping_and_iperf3_through_ravf() {
    if let Some(why) = skip_reason() {
        eprintln!("SKIPPED demo_netns_ping_and_iperf3_through_ravf: {why}");
        return;
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../netns/demo-netns.sh");
    let out = Command::new("bash")
        .arg(script)
        .env("RAVF_NETNS_BIN", env!("CARGO_BIN_EXE_ravf-netns"))
        // Namespaces of our own, so that a concurrent `make demo-netns` (ra, rb) or
        // another test run is not disturbed.
        .env(
            "RAVF_NETNS_NAMES",
            format!("rt{0}a,rt{0}b", std::process::id()),
        )
        .env("PING_COUNT", "100")
        .env("IPERF_SECONDS", "2")
        .output()
        .expect("run bash");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    eprintln!("{stderr}");
    assert!(
        out.status.success(),
        "demo-netns.sh failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    let summary = stdout
        .lines()
        .find(|l| l.starts_with("netns: ping_loss="))
        .unwrap_or_else(|| panic!("no summary line in:\n{stdout}"));
    assert!(summary.contains("ping_loss=0%"), "{summary}");
    assert!(summary.ends_with("violations=0"), "{summary}");
    assert!(!summary.contains("tso_ctx=0 "), "{summary}");
    assert!(!summary.contains("csum_req=0 "), "{summary}");
    assert!(
        stdout.lines().any(|l| l == "netns: PASS"),
        "no PASS line in:\n{stdout}"
    );
}
