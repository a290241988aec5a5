//! Helpers shared by the integration tests.
#![allow(dead_code)]

use ravf_harness::emu;
use ravf_harness::host::{settle, Host};
use ravf_harness::pkt;
use ravf_harness::{Machine, Offload, Options};
use ravf_sim::{PfEvent, SimOptions};

/// The FreeBSD SR-IOV guide's example (examples/ixl0.conf).
pub const GUIDE: &str = r#"
PF { device : "ixl0"; num_vfs : 2; }
DEFAULT { allow-set-mac : true; }
VF-0 { mac-addr : "aa:88:44:00:02:00"; }
VF-1 { mac-addr : "aa:88:44:00:02:01"; }
"#;

pub fn machine(cfg: &str) -> Machine {
    emu::machine_from_config(cfg, Options::default()).expect("config")
}

pub fn machine_with(cfg: &str, sopts: SimOptions, opts: Options) -> Machine {
    emu::machine_from_config_with(cfg, sopts, opts).expect("config")
}

/// Attach every VF and wait (virtual time) for link up on all of them.
pub fn up_all(m: &mut Machine) {
    for vf in 0..m.num_vfs() {
        m.attach(vf)
            .unwrap_or_else(|e| panic!("attach VF{vf}: {e}\n{}", dump(m)));
    }
    let n = m.num_vfs();
    assert!(
        m.run_until(3_000_000_000, |m| (0..n).all(|vf| m.link_up(vf))),
        "link did not come up\n{}",
        dump(m)
    );
}

/// The last log lines and events, for failure messages.
pub fn dump(m: &Machine) -> String {
    let mut s = String::from("--- driver/iflib log (last 60) ---\n");
    let log = m.log();
    for l in log.iter().skip(log.len().saturating_sub(60)) {
        s += &format!("[{:>9} us] vf{} L{} {}\n", l.t_us, l.vf, l.level, l.text);
    }
    s += "--- emulator events (last 40) ---\n";
    let ev = emu::events_since(m, 0);
    for e in ev.iter().skip(ev.len().saturating_sub(40)) {
        s += &format!("{e}\n");
    }
    s += &format!(
        "--- violations ---\n{:#?}\n{:#?}\n",
        emu::violations(m),
        m.harness_errors()
    );
    s
}

/// Zero emulator violations and zero stand-in contract errors.
pub fn assert_clean(m: &Machine) {
    let v = emu::violations(m);
    let h = m.harness_errors();
    assert!(v.is_empty() && h.is_empty(), "violations:\n{}", dump(m));
}

/// Hosts for VF0 (10.0.0.1) and VF1 (10.0.0.2).
pub fn hosts(m: &Machine) -> (Host, Host) {
    (
        Host::new(0, m.lladdr(0).unwrap(), [10, 0, 0, 1]),
        Host::new(1, m.lladdr(1).unwrap(), [10, 0, 0, 2]),
    )
}

/// One ICMP echo from a to b; true when the matching reply came back.
pub fn ping(m: &mut Machine, a: &mut Host, b: &mut Host, seq: u16) -> bool {
    let data: Vec<u8> = (0..56u8).map(|x| x ^ seq as u8).collect();
    let echo = pkt::icmp_echo(pkt::ICMP_ECHO_REQUEST, 7, seq, &data);
    let ip = pkt::ipv4(a.ip, b.ip, pkt::IPPROTO_ICMP, seq, &echo);
    let fr = pkt::ether(b.mac, a.mac, None, pkt::ETHERTYPE_IP, &ip);
    if m.send(a.vf, &fr, Offload::NONE).is_err() {
        return false;
    }
    settle(m, &mut [a, b]);
    a.replies
        .iter()
        .any(|r| r.seq == seq && r.ident == 7 && r.data == data)
}

/// Log lines (driver) at warning or error level, lowercased.
pub fn warnings(m: &Machine) -> Vec<String> {
    m.log()
        .iter()
        .filter(|l| l.level <= 1)
        .map(|l| l.text.to_lowercase())
        .collect()
}

pub fn events(m: &Machine) -> Vec<PfEvent> {
    emu::sim(m).events().to_vec()
}

/// Whether the PF sent a reply to `opcode` for `vf` (the driver asked for it).
pub fn sent(m: &Machine, vf: usize, opcode: u32) -> bool {
    events(m)
        .iter()
        .any(|e| matches!(e, PfEvent::Sent { vf: v, opcode: o, .. } if *v == vf && *o == opcode))
}
