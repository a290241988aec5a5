//! `make demo`: an emulated PF with the VFs of an iovctl.conf, ravf attached to each
//! through the stand-in for iflib, and traffic between VF 0 and VF 1: ARP, ICMP echo
//! and a TCP-like bulk stream with TSO and checksum offload. Exits non-zero if any
//! check fails.
//!
//! Usage: ravf-demo [--config FILE] [--debug] [--verbose]

use std::process::ExitCode;

use ravf_harness::emu;
use ravf_harness::host::{settle, Host};
use ravf_harness::pkt::{self, fmt_ip4, fmt_mac, TcpFields};
use ravf_harness::{Machine, Offload, Options};
use ravf_sys::{IFCOUNTER_IBYTES, IFCOUNTER_IPACKETS, IFCOUNTER_OBYTES, IFCOUNTER_OPACKETS};

const DEFAULT_CONFIG: &str = "examples/ixl0.conf";

struct Demo {
    failures: Vec<String>,
}

impl Demo {
    fn check(&mut self, ok: bool, what: impl Into<String>) -> bool {
        let what = what.into();
        if ok {
            println!("  ok   {what}");
        } else {
            println!("  FAIL {what}");
            self.failures.push(what);
        }
        ok
    }
}

fn section(title: &str) {
    println!();
    println!("== {title}");
}

fn main() -> ExitCode {
    let mut config = None;
    let mut verbose = false;
    let mut debug = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--config" | "-c" => match args.next() {
                Some(f) => config = Some(f),
                None => {
                    eprintln!("ravf-demo: --config needs a file name");
                    return ExitCode::from(2);
                }
            },
            "--verbose" | "-v" => verbose = true,
            "--debug" | "-d" => debug = true,
            "--help" | "-h" => {
                println!("usage: ravf-demo [--config FILE] [--debug] [--verbose]");
                println!(
                    "  --debug: hw.ravf.debug_mask=1, the driver's debug log in the handshake"
                );
                println!("  --verbose: every driver and stand-in log line as it happens");
                println!(
                    "  FILE: an iovctl.conf(5) for the emulated PF (default {DEFAULT_CONFIG})"
                );
                return ExitCode::SUCCESS;
            }
            other => {
                eprintln!("ravf-demo: unknown argument '{other}' (try --help)");
                return ExitCode::from(2);
            }
        }
    }
    let path = config.unwrap_or_else(|| {
        // Work from the repository root or from tests/harness.
        let here = std::path::Path::new(DEFAULT_CONFIG);
        if here.exists() {
            DEFAULT_CONFIG.to_string()
        } else {
            format!("{}/../../{DEFAULT_CONFIG}", env!("CARGO_MANIFEST_DIR"))
        }
    });
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("ravf-demo: cannot read {path}: {e}");
            return ExitCode::from(2);
        }
    };
    let mut opts = Options {
        verbose,
        ..Options::default()
    };
    if debug {
        opts.tunables.rt_debug_mask = 1;
    }
    let mut m = match emu::machine_from_config(&text, opts) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("ravf-demo: {path}: {e}");
            return ExitCode::from(2);
        }
    };
    let mut d = Demo {
        failures: Vec::new(),
    };
    run(&mut m, &path, &mut d);

    section("result");
    let v = emu::violations(&m);
    let h = m.harness_errors();
    for x in v.iter().chain(h.iter()) {
        println!("  violation: {x}");
    }
    println!("violations={}", v.len() + h.len());
    if !v.is_empty() || !h.is_empty() {
        d.failures.push(format!(
            "{} emulator and {} stand-in violations",
            v.len(),
            h.len()
        ));
    }
    if d.failures.is_empty() {
        println!("demo: PASS");
        ExitCode::SUCCESS
    } else {
        println!("demo: FAIL ({} checks failed)", d.failures.len());
        for f in &d.failures {
            println!("  - {f}");
        }
        ExitCode::from(1)
    }
}

fn run(m: &mut Machine, path: &str, d: &mut Demo) {
    section(&format!("emulated PF from {path}"));
    print!("{}", emu::describe(m));
    let n = m.num_vfs();
    if n < 2 {
        d.check(
            false,
            format!("the demo needs at least 2 VFs (the configuration has {n})"),
        );
        return;
    }

    section("attach: ravf on each VF through the iflib stand-in");
    for vf in 0..n {
        let ev0 = emu::event_count(m);
        let log0 = m.log().len();
        let r = m.attach(vf);
        if !d.check(
            r.is_ok(),
            match &r {
                Ok(()) => format!("VF{vf}: attach and init through the iflib stand-in"),
                Err(e) => format!("VF{vf}: attach failed: {e}"),
            },
        ) {
            continue;
        }
        println!("  VF{vf} virtchnl exchanges:");
        for e in emu::events_since(m, ev0) {
            println!("    {e}");
        }
        println!("  VF{vf} driver log:");
        for l in m.log().iter().skip(log0).filter(|l| l.level <= 3) {
            println!("    [{:>8} us] {}", l.t_us, l.text);
        }
    }

    section("link");
    let up = m.run_until(2_000_000_000, |m| (0..2).all(|vf| m.link_up(vf)));
    for vf in 0..2 {
        let (_, baud) = m.link(vf);
        let mac = m.lladdr(vf).unwrap_or_default();
        d.check(
            m.link_up(vf),
            format!(
                "VF{vf}: link up at {} Mbit/s, lladdr {}",
                baud / 1_000_000,
                fmt_mac(mac)
            ),
        );
    }
    if !up {
        return;
    }
    let (q0, _) = m.num_queues(0);
    println!("  queues: VF0 {q0}, VF1 {}", m.num_queues(1).0);

    let mac0 = m.lladdr(0).unwrap_or_default();
    let mac1 = m.lladdr(1).unwrap_or_default();
    let mut a = Host::new(0, mac0, [10, 0, 0, 1]);
    let mut b = Host::new(1, mac1, [10, 0, 0, 2]);

    section("ARP");
    let req = pkt::arp(pkt::ARP_REQUEST, mac0, a.ip, [0; 6], b.ip);
    let fr = pkt::ether(pkt::BROADCAST, mac0, None, pkt::ETHERTYPE_ARP, &req);
    let sent = m.send(0, &fr, Offload::NONE);
    d.check(
        sent.is_ok(),
        format!(
            "VF0 sends who-has {} tell {} ({sent:?})",
            fmt_ip4(b.ip),
            fmt_ip4(a.ip)
        ),
    );
    settle(m, &mut [&mut a, &mut b]);
    let learned = a.arp.get(&b.ip).copied();
    d.check(
        learned == Some(mac1),
        format!(
            "VF0 learns {} is-at {}",
            fmt_ip4(b.ip),
            learned.map(fmt_mac).unwrap_or("?".into())
        ),
    );
    d.check(
        b.arp.get(&a.ip) == Some(&mac0),
        "VF1 learned VF0 from the request",
    );

    section("ICMP echo");
    let payload: Vec<u8> = (0..56u8).collect();
    for seq in 1..=4u16 {
        let t0 = m.now_ns();
        let echo = pkt::icmp_echo(pkt::ICMP_ECHO_REQUEST, 0x4242, seq, &payload);
        let ip = pkt::ipv4(a.ip, b.ip, pkt::IPPROTO_ICMP, seq, &echo);
        let fr = pkt::ether(mac1, mac0, None, pkt::ETHERTYPE_IP, &ip);
        let r = m.send(0, &fr, Offload::NONE);
        settle(m, &mut [&mut a, &mut b]);
        let rep = a
            .replies
            .iter()
            .find(|r| r.seq == seq && r.ident == 0x4242)
            .cloned();
        let ok = r.is_ok()
            && rep
                .as_ref()
                .is_some_and(|r| r.data == payload && r.from == b.ip);
        let rtt = rep.map(|r| r.t_ns.saturating_sub(t0) / 1000).unwrap_or(0);
        d.check(
            ok,
            format!(
                "64 bytes from {}: icmp_seq={seq} (virtual rtt <= {rtt} us)",
                fmt_ip4(b.ip)
            ),
        );
    }

    section("TCP bulk: 1 MiB in 64 KiB TSO sends, checksum offload, MSS 1448");
    let total = 1 << 20;
    let data: Vec<u8> = (0..total).map(|i| (i * 7 + i / 251) as u8).collect();
    let isn = 0x1000_0000u32;
    let chunk = 64 * 1024 - 1024;
    let mut off = 0usize;
    let mut sends = 0;
    let mut send_errors = 0;
    while off < total {
        let n = chunk.min(total - off);
        let f = TcpFields {
            sport: 40000,
            dport: 5001,
            seq: isn.wrapping_add(off as u32),
            ack: 1,
            flags: pkt::TCP_ACK | pkt::TCP_PSH,
            window: 65535,
        };
        let fr = a.tcp_frame(mac1, b.ip, f, &data[off..off + n]);
        let mut tries = 0;
        loop {
            match m.send(0, &fr, Offload::tso(1448)) {
                Ok(()) => break,
                Err(ravf_harness::TxError::NoBufs) if tries < 100 => {
                    tries += 1;
                    settle(m, &mut [&mut a, &mut b]);
                }
                Err(_) => {
                    send_errors += 1;
                    break;
                }
            }
        }
        sends += 1;
        off += n;
        settle(m, &mut [&mut a, &mut b]);
    }
    settle(m, &mut [&mut a, &mut b]);
    let rx = b.tcp.get(&(40000, 5001)).cloned().unwrap_or_default();
    d.check(
        send_errors == 0,
        format!("{sends} TSO sends accepted by the driver"),
    );
    d.check(
        rx.segments as usize >= total / 1448,
        format!(
            "VF1 received {} segments (max payload {} bytes)",
            rx.segments, rx.max_seg
        ),
    );
    d.check(rx.max_seg <= 1448, "no segment larger than the MSS");
    d.check(
        rx.hw_csum_ok == rx.segments,
        format!(
            "{}/{} segments reported L3+L4 checksum valid by the driver",
            rx.hw_csum_ok, rx.segments
        ),
    );
    let stream = rx.stream();
    d.check(
        stream == data,
        format!(
            "reassembled {} of {} bytes, identical to what was sent",
            stream.len(),
            total
        ),
    );
    d.check(
        a.errors.is_empty() && b.errors.is_empty(),
        format!(
            "every IP/TCP checksum verified in software ({} errors)",
            a.errors.len() + b.errors.len()
        ),
    );
    for e in a.errors.iter().chain(b.errors.iter()).take(5) {
        println!("    {e}");
    }

    section("counters");
    // The interface counters come from the PF (GET_STATS, sent by the driver's timer
    // every 500 ms): let a second of virtual time pass so they include the traffic.
    m.run_for(1_000_000_000);
    for vf in 0..2 {
        println!(
            "  VF{vf}: ipackets {} ibytes {} opackets {} obytes {} (driver get_counter)",
            m.get_counter(vf, IFCOUNTER_IPACKETS),
            m.get_counter(vf, IFCOUNTER_IBYTES),
            m.get_counter(vf, IFCOUNTER_OPACKETS),
            m.get_counter(vf, IFCOUNTER_OBYTES)
        );
        let (tq, rq) = m.num_queues(vf);
        for q in 0..tq.max(rq) {
            let t = m.tx_stats(vf, q);
            let r = m.rx_stats(vf, q);
            println!(
                "    q{q}: tx {} pkts {} bytes {} descs {} rs | rx {} pkts {} bytes {} frags {} irqs",
                t.packets, t.bytes, t.descs, t.rs_requests, r.packets, r.bytes, r.frags, r.irqs
            );
        }
        print!("{}", emu::counters(m, vf));
    }
}
