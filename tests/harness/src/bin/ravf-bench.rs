//! Benchmark driver for `make bench` (tests/bench/bench.sh). One mode per
//! measurement; each prints `key=value` lines the script reads.
//!
//! Instruction counts come from callgrind with `--toggle-collect` on the callback
//! symbols (the script passes them), so only the driver's code is counted while the
//! whole iflib stand-in and emulator run around it. Packets per second are wall
//! clock, measured here (not under valgrind).
//!
//! Modes:
//!   tx-plain N   N 60-byte frames, no offload, batches of 32 (txd_encap)
//!   tx-csum  N   N 1514-byte IPv4/TCP frames with checksum offload (txd_encap)
//!   rx-csum  N   N 1514-byte IPv4/TCP frames received with RXCSUM (rxd_pkt_get)
//!   rxtx     N   N 64-byte frames VF0 -> VF1 at batch 32 (all callbacks)
//!   loop B SECS  64-byte frames VF0 -> VF1 at batch B for SECS seconds: pps

use std::time::Instant;

use ravf_harness::emu;
use ravf_harness::pkt::{self, Addrs, TcpFields};
use ravf_harness::{Machine, Offload, Options, SegLayout, TxError};

const CONFIG: &str =
    "PF { device : \"ixl0\"; num_vfs : 2; }\nDEFAULT { allow-set-mac : true; num-queues : 1; }\n";

fn setup() -> Machine {
    let mut m = emu::machine_from_config(CONFIG, Options::default()).expect("bench config");
    for vf in 0..2 {
        m.attach(vf).expect("attach");
    }
    assert!(
        m.run_until(2_000_000_000, |m| m.link_up(0) && m.link_up(1)),
        "link did not come up"
    );
    m
}

fn frame(m: &Machine, len: usize, tcp: bool) -> Vec<u8> {
    let src = m.lladdr(0).unwrap();
    let dst = m.lladdr(1).unwrap();
    if tcp {
        let hdr = 14 + 20 + 20;
        let a = Addrs::V4([10, 0, 0, 1], [10, 0, 0, 2]);
        let f = TcpFields {
            sport: 1,
            dport: 2,
            seq: 1,
            ack: 1,
            flags: pkt::TCP_ACK,
            window: 100,
        };
        let seg = pkt::tcp(a, f, false, &vec![0x5a; len.saturating_sub(hdr)]);
        pkt::ether(
            dst,
            src,
            None,
            pkt::ETHERTYPE_IP,
            &pkt::ipv4([10, 0, 0, 1], [10, 0, 0, 2], pkt::IPPROTO_TCP, 1, &seg),
        )
    } else {
        let payload = vec![0x33u8; len.saturating_sub(14)];
        pkt::ether(dst, src, None, 0x88b5, &payload)
    }
}

/// Send `n` frames VF0 -> VF1 in batches of `batch`, pumping the emulator and
/// draining VF1 in between. Returns frames received.
fn run(m: &mut Machine, f: &[u8], off: Offload, n: usize, batch: usize) -> usize {
    let pkts: Vec<(&[u8], Offload)> = (0..batch).map(|_| (f, off)).collect();
    let mut sent = 0;
    let mut got = 0;
    let mut stalls = 0;
    while sent < n {
        let b = batch.min(n - sent);
        match m.send_batch(0, 0, &pkts[..b], &SegLayout::Contiguous) {
            Ok(k) => {
                sent += k;
                if k == 0 {
                    stalls += 1;
                }
            }
            Err(TxError::NoBufs) => stalls += 1,
            Err(e) => panic!("send failed: {e:?}"),
        }
        // Enough virtual time for the interrupt throttle to let the vector fire.
        m.pump(200_000);
        got += m.rx_discard(1);
        if stalls > 1000 {
            panic!("TX stalled");
        }
    }
    for _ in 0..10 {
        m.pump(200_000);
        got += m.rx_discard(1);
    }
    got
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mode = args.first().map(String::as_str).unwrap_or("help");
    let num = |i: usize, d: usize| args.get(i).and_then(|s| s.parse().ok()).unwrap_or(d);
    match mode {
        "tx-plain" | "tx-csum" | "rx-csum" | "rxtx" => {
            let n = num(1, 20_000);
            let mut m = setup();
            let (f, off, batch) = match mode {
                "tx-plain" => (frame(&m, 60, false), Offload::NONE, 32),
                "rxtx" => (frame(&m, 60, false), Offload::NONE, 32),
                _ => (frame(&m, 1514, true), Offload::CSUM, 32),
            };
            // Warm up (rings, caches) before the counted part; callgrind counts only
            // inside the toggled symbols anyway.
            run(&mut m, &f, off, 1024, batch);
            let tx0 = m.tx_stats(0, 0).packets;
            let rx0 = m.rx_stats(1, 0).packets;
            let got = run(&mut m, &f, off, n, batch);
            let tx = m.tx_stats(0, 0).packets - tx0;
            let rx = m.rx_stats(1, 0).packets - rx0;
            println!("mode={mode}");
            println!("tx_packets={tx}");
            println!("rx_packets={rx}");
            println!("received={got}");
            println!(
                "violations={}",
                emu::violations(&m).len() + m.harness_errors().len()
            );
        }
        "loop" => {
            let batch = num(1, 32);
            let secs: f64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(2.0);
            let mut m = setup();
            let f = frame(&m, 60, false);
            run(&mut m, &f, Offload::NONE, 4096, batch);
            let start = Instant::now();
            let mut total = 0usize;
            while start.elapsed().as_secs_f64() < secs {
                total += run(&mut m, &f, Offload::NONE, batch * 256, batch);
            }
            let dt = start.elapsed().as_secs_f64();
            println!("mode=loop");
            println!("batch={batch}");
            println!("packets={total}");
            println!("seconds={dt:.3}");
            println!("mpps={:.3}", total as f64 / dt / 1e6);
            println!(
                "violations={}",
                emu::violations(&m).len() + m.harness_errors().len()
            );
        }
        _ => {
            eprintln!("usage: ravf-bench tx-plain|tx-csum|rx-csum|rxtx [N] | loop [BATCH] [SECS]");
            std::process::exit(2);
        }
    }
}
