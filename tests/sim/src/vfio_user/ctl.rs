//! The control channel: a Unix socket taking one text command per connection, so a
//! test script can act as the PF's administrator while a guest runs, and read what
//! the emulator saw. `ravf-sim ctl --socket PATH CMD...` is its client.
//!
//! Commands (reply: lines of text; the first word of a failure is `error`):
//! - `stats`: `vfN key=value ...` per served VF (the emulator's counters), then
//!   `violations=N`.
//! - `violations`: one line per recorded violation (empty when none).
//! - `events`: the PF's event log, one line each.
//! - `reset-vf N`: PF-initiated reset of VF N (RESET_IMPENDING, then the reset).
//! - `link up|down [MBPS]`: change the uplink state (and speed) the PF reports.
//! - `trust N on|off`: the administrator changes VF N's trust (the PF resets it).

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::sync::Arc;

use super::log;
use super::machine::Machine;

/// Serve the control socket forever.
pub fn serve(m: Arc<Machine>, listener: UnixListener) {
    for s in listener.incoming().flatten() {
        if let Err(e) = one(&m, s) {
            log::warn(format_args!("ctl: {e}"));
        }
    }
}

fn one(m: &Machine, s: UnixStream) -> std::io::Result<()> {
    let mut line = String::new();
    BufReader::new(&s).read_line(&mut line)?;
    let reply = execute(m, line.trim());
    log::info(format_args!(
        "ctl: {} -> {}",
        line.trim(),
        reply.lines().next().unwrap_or("")
    ));
    (&s).write_all(reply.as_bytes())
}

/// Execute one command line; the text reply.
pub fn execute(m: &Machine, cmd: &str) -> String {
    let w: Vec<&str> = cmd.split_whitespace().collect();
    let mut st = m.lock();
    let out = match w.as_slice() {
        ["stats"] => {
            let mut s = String::new();
            for &vf in m.served_vfs() {
                s += &format!("vf{vf} {}\n", flat(&format!("{:?}", st.sim.counters(vf))));
            }
            s += &format!("violations={}\n", st.sim.violations().len());
            s
        }
        ["violations"] => st
            .sim
            .violations()
            .iter()
            .map(|v| format!("{v}\n"))
            .collect(),
        ["events"] => st.sim.events().iter().map(|e| format!("{e}\n")).collect(),
        ["reset-vf", n] => match n.parse::<usize>() {
            Ok(vf) => {
                st.sim.pf_reset_vf(vf);
                "ok\n".to_string()
            }
            Err(_) => "error: reset-vf takes a VF number\n".to_string(),
        },
        ["link", updown, rest @ ..] if *updown == "up" || *updown == "down" => {
            match rest.first().map(|s| s.parse::<u32>()) {
                Some(Err(_)) => "error: link speed is in Mbit/s\n".to_string(),
                speed => {
                    let mbps = speed
                        .and_then(Result::ok)
                        .unwrap_or(st.sim.options().link_speed_mbps);
                    st.sim.set_link(*updown == "up", mbps);
                    "ok\n".to_string()
                }
            }
        }
        ["trust", n, onoff] if *onoff == "on" || *onoff == "off" => match n.parse::<usize>() {
            Ok(vf) => {
                st.sim.set_trust(vf, *onoff == "on");
                "ok\n".to_string()
            }
            Err(_) => "error: trust takes a VF number\n".to_string(),
        },
        _ => format!("error: unknown command '{cmd}'\n"),
    };
    m.pump_locked(&mut st);
    out
}

/// `Counters { a: 1, b: 2 }` -> `a=1 b=2`: one greppable line per VF.
fn flat(debug: &str) -> String {
    let inner = match (debug.find('{'), debug.rfind('}')) {
        (Some(a), Some(b)) if a < b => &debug[a + 1..b],
        _ => debug,
    };
    inner
        .split(',')
        .map(|kv| kv.trim().replacen(": ", "=", 1))
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The client side: send `cmd`, return the reply.
pub fn request(path: &str, cmd: &str) -> std::io::Result<String> {
    let mut s = UnixStream::connect(path)?;
    s.write_all(format!("{cmd}\n").as_bytes())?;
    s.shutdown(std::net::Shutdown::Write)?;
    let mut out = String::new();
    std::io::Read::read_to_string(&mut s, &mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::flat;

    #[test]
    fn counters_flatten_to_key_value() {
        assert_eq!(
            flat("Counters { tso_ctx: 3, csum_req: 10 }"),
            "tso_ctx=3 csum_req=10"
        );
        assert_eq!(flat("X {}"), "");
    }
}
