//! `make demo-netns` as an integration test: real Linux network stacks in two network
//! namespaces talking through TAP interfaces, ravf and the emulator
//! (tests/netns/demo-netns.sh with the ravf-netns binary cargo built for this test).
//!
//! It needs root and /dev/net/tun (CI and the development machine run as root). When
//! either is missing, or the kernel refuses to create a network namespace, each test
//! says why and returns without running (as it does when RAVF_NETNS_SKIP is set);
//! when it runs, any failure of the script fails the test.

use std::path::Path;
use std::process::{Command, Output};
use std::sync::Mutex;

/// The runs load the machine; one at a time.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Why the demo cannot run here, if it cannot.
fn skip_reason() -> Option<String> {
    // An explicit opt-out for quick local iterations (never set in CI).
    if std::env::var_os("RAVF_NETNS_SKIP").is_some() {
        return Some("RAVF_NETNS_SKIP is set".into());
    }
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

/// Run the script with `bin` as ravf-netns in namespaces `<tag><pid>a/b`.
fn run_script(bin: &str, tag: &str, env: &[(&str, &str)]) -> (Output, String) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../netns/demo-netns.sh");
    let mut cmd = Command::new("bash");
    cmd.arg(script)
        .env("RAVF_NETNS_BIN", bin)
        // Namespaces of our own, so that a concurrent `make demo-netns` (ra, rb) or
        // another test run is not disturbed.
        .env(
            "RAVF_NETNS_NAMES",
            format!("{tag}{0}a,{tag}{0}b", std::process::id()),
        );
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run bash");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    println!("{stdout}");
    eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    (out, stdout)
}

#[test]
fn demo_netns_ping_and_iperf3_through_ravf() {
    if let Some(why) = skip_reason() {
        eprintln!("SKIPPED demo_netns_ping_and_iperf3_through_ravf: {why}");
        return;
    }
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let (out, stdout) = run_script(
        env!("CARGO_BIN_EXE_ravf-netns"),
        "rt",
        &[("PING_COUNT", "100"), ("IPERF_SECONDS", "2")],
    );
    assert!(
        out.status.success(),
        "demo-netns.sh failed ({}):\n{stdout}",
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

/// The script must not pass when the frames do not go through ravf: with
/// `ravf-netns --wire` (TAP to TAP, no driver, no emulator) pings and iperf3 work,
/// but no TSO or checksum offload reaches the emulator and there are no statistics.
#[test]
fn demo_netns_fails_when_ravf_is_bypassed() {
    if let Some(why) = skip_reason() {
        eprintln!("SKIPPED demo_netns_fails_when_ravf_is_bypassed: {why}");
        return;
    }
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let wrapper = std::env::temp_dir().join(format!("ravf-netns-wire-{}.sh", std::process::id()));
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\nexec '{}' --wire \"$@\"\n",
            env!("CARGO_BIN_EXE_ravf-netns")
        ),
    )
    .expect("write wrapper");
    let ok = Command::new("chmod")
        .arg("+x")
        .arg(&wrapper)
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "chmod {}", wrapper.display());
    let (out, stdout) = run_script(
        wrapper.to_str().expect("utf-8 temp path"),
        "rw",
        &[
            ("PING_COUNT", "20"),
            ("IPERF_SECONDS", "1"),
            ("RAVF_NETNS_JUMBO", "0"),
            ("RAVF_NETNS_IPV6", "0"),
            ("RAVF_NETNS_VLAN", "0"),
            ("RAVF_NETNS_RESET", "0"),
        ],
    );
    let _ = std::fs::remove_file(&wrapper);
    assert!(
        !out.status.success(),
        "the script passed without ravf:\n{stdout}"
    );
    assert!(
        stdout.contains("--wire"),
        "the bypass did not run:\n{stdout}"
    );
    assert!(
        stdout.contains("netns: FAIL: no TSO context descriptors reached the emulator"),
        "{stdout}"
    );
    assert!(!stdout.lines().any(|l| l == "netns: PASS"), "{stdout}");
}
