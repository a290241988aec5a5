//! ravf-sim: serve emulated 700-series VFs to QEMU over vfio-user, or talk to a
//! running server's control socket.
//!
//! ```text
//! ravf-sim serve --config FILE --socket PATH [--socket PATH ...] [--vf N]
//!                [--tap IFNAME] [--tap-vlan VID=IFNAME ...] [--ctl PATH] [--link-speed MBPS] [--reset-hold-us N] [--seed N]
//! ravf-sim ctl --socket CTLPATH COMMAND...
//! ```
//! `serve`: the i-th `--socket` serves VF `N + i` (N from `--vf`, default 0) of one
//! emulated PF, so VFs served by one process share its VEB. `--tap` is the uplink
//! trunk; each `--tap-vlan` an access port carrying one VLAN untagged (as an
//! external 802.1Q switch would), so the host needs no VLAN support of its own. The control socket
//! defaults to the first socket's path with `.ctl` appended. Commands: see
//! `ravf_sim::vfio_user::ctl`.

use std::os::unix::net::UnixListener;
use std::process::ExitCode;

use ravf_sim::vfio_user::{
    ctl, log,
    machine::Machine,
    tap::{Tap, Uplink},
};
use ravf_sim::{Sim, SimOptions};

const USAGE: &str = "usage:\n  ravf-sim serve --config FILE --socket PATH [--socket PATH ...] [--vf N] [--tap IFNAME] [--tap-vlan VID=IFNAME ...] [--ctl PATH] [--link-speed MBPS] [--reset-hold-us N] [--seed N]\n  ravf-sim ctl --socket CTLPATH COMMAND...";

fn main() -> ExitCode {
    log::init_from_env();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let r = match args.first().map(String::as_str) {
        Some("serve") => serve(&args[1..]),
        Some("ctl") => ctl_client(&args[1..]),
        _ => Err(USAGE.to_string()),
    };
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ravf-sim: {e}");
            ExitCode::from(2)
        }
    }
}

struct ServeArgs {
    config: String,
    sockets: Vec<String>,
    vf_base: usize,
    tap: Option<String>,
    tap_vlan: Vec<(u16, String)>,
    ctl: Option<String>,
    link_speed: Option<u32>,
    seed: Option<u64>,
    reset_hold_us: Option<u64>,
}

fn parse_serve(args: &[String]) -> Result<ServeArgs, String> {
    let mut a = ServeArgs {
        config: String::new(),
        sockets: Vec::new(),
        vf_base: 0,
        tap: None,
        tap_vlan: Vec::new(),
        ctl: None,
        link_speed: None,
        seed: None,
        reset_hold_us: None,
    };
    let mut it = args.iter();
    while let Some(k) = it.next() {
        let mut val = || {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{k} needs a value"))
        };
        match k.as_str() {
            "--config" => a.config = val()?,
            "--socket" => a.sockets.push(val()?),
            "--vf" => {
                a.vf_base = val()?
                    .parse()
                    .map_err(|_| "--vf takes a number".to_string())?
            }
            "--tap" => a.tap = Some(val()?),
            "--tap-vlan" => {
                let v = val()?;
                let (vid, name) = v.split_once('=').ok_or("--tap-vlan takes VID=IFNAME")?;
                let vid: u16 = vid
                    .parse()
                    .ok()
                    .filter(|v| (1..4095).contains(v))
                    .ok_or("--tap-vlan: VID must be 1..4094")?;
                a.tap_vlan.push((vid, name.to_string()));
            }
            "--ctl" => a.ctl = Some(val()?),
            "--link-speed" => {
                a.link_speed = Some(
                    val()?
                        .parse()
                        .map_err(|_| "--link-speed takes Mbit/s".to_string())?,
                )
            }
            "--reset-hold-us" => {
                a.reset_hold_us = Some(
                    val()?
                        .parse()
                        .map_err(|_| "--reset-hold-us takes microseconds".to_string())?,
                )
            }
            "--seed" => {
                a.seed = Some(
                    val()?
                        .parse()
                        .map_err(|_| "--seed takes a number".to_string())?,
                )
            }
            _ => return Err(format!("unknown option {k}\n{USAGE}")),
        }
    }
    if a.config.is_empty() || a.sockets.is_empty() {
        return Err(USAGE.to_string());
    }
    Ok(a)
}

fn listen(path: &str) -> Result<UnixListener, String> {
    let _ = std::fs::remove_file(path);
    UnixListener::bind(path).map_err(|e| format!("{path}: {e}"))
}

fn serve(args: &[String]) -> Result<(), String> {
    let a = parse_serve(args)?;
    let text = std::fs::read_to_string(&a.config).map_err(|e| format!("{}: {e}", a.config))?;
    let mut opts = SimOptions::default();
    if let Some(mbps) = a.link_speed {
        opts.link_speed_mbps = mbps;
    }
    if let Some(seed) = a.seed {
        opts.seed = seed;
    }
    if let Some(us) = a.reset_hold_us {
        // i40e_reset_vf holds the VF in reset (VPGEN_VFRTRIG set: its register
        // writes are lost, reads return 0xDEADBEEF) for its whole cleanup, and
        // sets VFGEN_RSTAT to VFACTIVE right after releasing it.
        opts.reset_deadbeef_ns = us * 1000;
        opts.reset_ns = us * 1000 + 100_000;
    }
    let sim = Sim::from_config_str(&text, opts).map_err(|e| format!("{}: {e}", a.config))?;
    let vfs: Vec<usize> = (0..a.sockets.len()).map(|i| a.vf_base + i).collect();
    let open = |name: &str| Tap::open(name).map_err(|e| format!("tap {name}: {e}"));
    let mut uplink = Uplink::none();
    if let Some(name) = &a.tap {
        uplink.trunk = Some(open(name)?);
    }
    for (vid, name) in &a.tap_vlan {
        uplink.access.push((*vid, open(name)?));
    }
    let m = Machine::new(sim, vfs.clone(), uplink);
    let mut threads = Vec::new();
    for (slot, path) in a.sockets.iter().enumerate() {
        let l = listen(path)?;
        log::info(format_args!("vf{}: listening on {path}", vfs[slot]));
        let m = m.clone();
        threads.push(
            std::thread::Builder::new()
                .name(format!("vfu-vf{}", vfs[slot]))
                .spawn(move || m.serve_slot(slot, l))
                .map_err(|e| e.to_string())?,
        );
    }
    let ctl_path = a
        .ctl
        .clone()
        .unwrap_or_else(|| format!("{}.ctl", a.sockets[0]));
    let l = listen(&ctl_path)?;
    log::info(format_args!("control socket {ctl_path}"));
    let mc = m.clone();
    std::thread::Builder::new()
        .name("ctl".into())
        .spawn(move || ctl::serve(mc, l))
        .map_err(|e| e.to_string())?;
    let mk = m.clone();
    let clock = std::thread::Builder::new()
        .name("clock".into())
        .spawn(move || mk.run_clock())
        .map_err(|e| e.to_string())?;
    let _ = clock.join();
    Ok(())
}

fn ctl_client(args: &[String]) -> Result<(), String> {
    let (path, cmd) = match args {
        [flag, path, cmd @ ..] if flag == "--socket" && !cmd.is_empty() => (path, cmd.join(" ")),
        _ => return Err(USAGE.to_string()),
    };
    let out = ctl::request(path, &cmd).map_err(|e| format!("{path}: {e}"))?;
    print!("{out}");
    if out.starts_with("error") {
        return Err(format!("'{cmd}' failed"));
    }
    Ok(())
}
