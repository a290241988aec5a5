//! The SR-IOV configuration an administrator writes for the PF, in FreeBSD's
//! iovctl.conf(5) syntax, e.g. `/etc/iov/ixl0.conf`.
//!
//! Grammar (iovctl.conf(5): "uses UCL format"; this is the subset iovctl accepts):
//! top-level sections `PF { ... }`, `DEFAULT { ... }`, `VF-<n> { ... }`; inside a
//! section `key : value;` (`=` or nothing instead of `:`; `;`, `,` or a newline end
//! an entry); values are quoted strings, bare words, integers (decimal or 0x hex)
//! and UCL booleans (`true/false/yes/no/on/off`); comments are `#` to end of line and
//! `/* ... */`. Rules from iovctl.conf(5): one PF section, one DEFAULT section which
//! must come before any VF section, no duplicate sections, VF indices decimal without
//! leading zeros and below `num_vfs`, `num_vfs` not zero, `device` required.
//!
//! Keys per section (iovctl.conf(5) for `device`, `num_vfs`, `passthrough`; the ixl
//! PF schema, FreeBSD `sys/dev/ixl/ixl_pf_iov.c` `ixl_initialize_sriov`, for the
//! rest): `mac-addr` (unicast MAC, no default), `mac-anti-spoof` (bool, default
//! true), `allow-set-mac` (bool, default false), `allow-promisc` (bool, default false),
//! `num-queues` (uint16, default `max(1, min(vectors - 1, 16))` = 4 with 5 vectors).
//! ixl clamps `num-queues` to 1..16 with a console warning (`ixl_vf_reserve_queues`);
//! so does this parser, recording the warning in [`IovConfig::warnings`].
//!
//! How ixl applies them (`ixl_if_iov_vf_add`): without `mac-addr` the VF may set any
//! MAC; with `mac-addr` it may change it only if `allow-set-mac`.

use std::fmt;

/// A configuration error: the line (1-based) and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    pub line: usize,
    pub msg: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.msg)
    }
}

impl std::error::Error for ConfigError {}

/// Per-VF policy, after DEFAULT and VF-n sections are merged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VfConfig {
    /// `mac-addr`: the administrator's MAC for the VF.
    pub mac_addr: Option<[u8; 6]>,
    /// `mac-anti-spoof` (default true): TX frames with a foreign source MAC are dropped.
    pub mac_anti_spoof: bool,
    /// `allow-set-mac` (default false): with `mac-addr`, whether the VF may change it.
    pub allow_set_mac: bool,
    /// `allow-promisc` (default false): the VF is trusted (promiscuous requests take
    /// effect, filter limits are the trusted ones).
    pub allow_promisc: bool,
    /// `num-queues`: queue pairs (1..=16).
    pub num_queues: u16,
    /// `passthrough` (default false): reserved for bhyve; no effect in the emulator.
    pub passthrough: bool,
}

impl VfConfig {
    /// ixl's schema defaults for a PF whose VFs get `vectors` MSI-X vectors.
    pub fn defaults(vectors: u16) -> VfConfig {
        VfConfig {
            mac_addr: None,
            mac_anti_spoof: true,
            allow_set_mac: false,
            allow_promisc: false,
            num_queues: vectors.saturating_sub(1).clamp(1, MAX_QUEUES),
            passthrough: false,
        }
    }

    /// i40e's `pf_set_mac`: the admin fixed the MAC and the VF may not change it.
    pub fn mac_locked(&self) -> bool {
        self.mac_addr.is_some() && !self.allow_set_mac
    }
}

/// Maximum queue pairs per VF (ixl `IAVF_MAX_QUEUES`; i40e `I40E_MAX_VF_QUEUES`).
pub const MAX_QUEUES: u16 = 16;
/// The emulator's limit on `num_vfs` (the real maximum is device-specific: the PF's
/// SR-IOV TotalVFs; this is an emulator choice).
pub const MAX_VFS: u16 = 64;
/// Default MSI-X vectors per VF (LSPCI Count=5; contract section 1).
pub const DEFAULT_VECTORS: u16 = 5;

/// A parsed configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IovConfig {
    /// `device` of the PF section, e.g. "ixl0".
    pub device: String,
    /// One entry per VF, index = VF number.
    pub vfs: Vec<VfConfig>,
    /// Non-fatal remarks (line, text), e.g. a clamped `num-queues`.
    pub warnings: Vec<(usize, String)>,
}

impl IovConfig {
    /// `num_vfs` VFs with ixl's defaults (no admin MACs), device "ixl0".
    pub fn with_vfs(num_vfs: usize) -> IovConfig {
        IovConfig {
            device: "ixl0".into(),
            vfs: vec![VfConfig::defaults(DEFAULT_VECTORS); num_vfs],
            warnings: Vec::new(),
        }
    }

    /// Parse iovctl.conf text; VF defaults assume [`DEFAULT_VECTORS`] vectors.
    pub fn parse(text: &str) -> Result<IovConfig, ConfigError> {
        parse_with_vectors(text, DEFAULT_VECTORS)
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    LBrace,
    RBrace,
    Sep,
    End,
    Word(String),
    Quoted(String),
}

fn tokenize(text: &str) -> Result<Vec<(usize, Tok)>, ConfigError> {
    let mut out = Vec::new();
    let b = text.as_bytes();
    let mut i = 0;
    let mut line = 1;
    while i < b.len() {
        let c = b[i];
        match c {
            b'\n' => {
                // A newline ends an entry (UCL); the parser ignores extra ones.
                out.push((line, Tok::End));
                line += 1;
                i += 1;
            }
            b' ' | b'\t' | b'\r' => i += 1,
            b'#' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let start = line;
                i += 2;
                loop {
                    if i + 1 >= b.len() {
                        return Err(ConfigError {
                            line: start,
                            msg: "unterminated /* comment".into(),
                        });
                    }
                    if b[i] == b'*' && b[i + 1] == b'/' {
                        i += 2;
                        break;
                    }
                    if b[i] == b'\n' {
                        line += 1;
                    }
                    i += 1;
                }
            }
            b'{' => {
                out.push((line, Tok::LBrace));
                i += 1;
            }
            b'}' => {
                out.push((line, Tok::RBrace));
                i += 1;
            }
            b':' | b'=' => {
                out.push((line, Tok::Sep));
                i += 1;
            }
            b';' | b',' => {
                out.push((line, Tok::End));
                i += 1;
            }
            b'"' | b'\'' => {
                let q = c;
                let start = line;
                i += 1;
                let mut s = Vec::new();
                loop {
                    let Some(&d) = b.get(i) else {
                        return Err(ConfigError {
                            line: start,
                            msg: "unterminated string".into(),
                        });
                    };
                    i += 1;
                    if d == q {
                        break;
                    }
                    if d == b'\n' {
                        return Err(ConfigError {
                            line: start,
                            msg: "unterminated string".into(),
                        });
                    }
                    if d == b'\\' && q == b'"' {
                        let Some(&e) = b.get(i) else {
                            return Err(ConfigError {
                                line: start,
                                msg: "unterminated string".into(),
                            });
                        };
                        i += 1;
                        s.push(match e {
                            b'n' => b'\n',
                            b't' => b'\t',
                            b'"' | b'\\' | b'/' => e,
                            _ => {
                                return Err(ConfigError {
                                    line,
                                    msg: format!("unknown escape \\{} in string", e as char),
                                })
                            }
                        });
                    } else {
                        s.push(d);
                    }
                }
                let s = String::from_utf8(s).map_err(|_| ConfigError {
                    line: start,
                    msg: "string is not UTF-8".into(),
                })?;
                out.push((start, Tok::Quoted(s)));
            }
            _ => {
                let start = i;
                while i < b.len() && !b" \t\r\n{}:=;,#\"'".contains(&b[i]) {
                    i += 1;
                }
                if i == start {
                    return Err(ConfigError {
                        line,
                        msg: format!("unexpected character '{}'", c as char),
                    });
                }
                let w = std::str::from_utf8(&b[start..i]).map_err(|_| ConfigError {
                    line,
                    msg: "text is not UTF-8".into(),
                })?;
                out.push((line, Tok::Word(w.to_string())));
            }
        }
    }
    Ok(out)
}

/// A value as UCL types it.
#[derive(Clone, Debug)]
enum Value {
    Str(String),
    Int(u64),
    Bool(bool),
}

impl Value {
    fn from_tok(t: &Tok) -> Option<Value> {
        match t {
            Tok::Quoted(s) => Some(Value::Str(s.clone())),
            Tok::Word(w) => {
                let lw = w.to_ascii_lowercase();
                Some(match lw.as_str() {
                    "true" | "yes" | "on" => Value::Bool(true),
                    "false" | "no" | "off" => Value::Bool(false),
                    _ => {
                        if let Some(h) = lw.strip_prefix("0x") {
                            match u64::from_str_radix(h, 16) {
                                Ok(v) => Value::Int(v),
                                Err(_) => Value::Str(w.clone()),
                            }
                        } else if w.bytes().all(|c| c.is_ascii_digit()) {
                            match w.parse::<u64>() {
                                Ok(v) => Value::Int(v),
                                Err(_) => Value::Str(w.clone()),
                            }
                        } else {
                            Value::Str(w.clone())
                        }
                    }
                })
            }
            _ => None,
        }
    }

    fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "a string",
            Value::Int(_) => "an integer",
            Value::Bool(_) => "a boolean",
        }
    }
}

struct Entry {
    line: usize,
    key: String,
    value: Value,
}

struct Section {
    line: usize,
    name: String,
    entries: Vec<Entry>,
}

fn parse_sections(toks: &[(usize, Tok)]) -> Result<Vec<Section>, ConfigError> {
    let mut sections = Vec::new();
    let mut i = 0;
    let last_line = toks.last().map(|t| t.0).unwrap_or(1);
    let skip_ends = |i: &mut usize| {
        while matches!(toks.get(*i), Some((_, Tok::End))) {
            *i += 1;
        }
    };
    loop {
        skip_ends(&mut i);
        let Some((line, t)) = toks.get(i) else { break };
        let name = match t {
            Tok::Word(w) | Tok::Quoted(w) => w.clone(),
            other => {
                return Err(ConfigError {
                    line: *line,
                    msg: format!("expected a section name, found {}", tok_name(other)),
                })
            }
        };
        let sline = *line;
        i += 1;
        if matches!(toks.get(i), Some((_, Tok::Sep))) {
            i += 1;
        }
        match toks.get(i) {
            Some((_, Tok::LBrace)) => i += 1,
            Some((l, other)) => {
                return Err(ConfigError {
                    line: *l,
                    msg: format!(
                        "expected '{{' after section name {name}, found {}",
                        tok_name(other)
                    ),
                })
            }
            None => {
                return Err(ConfigError {
                    line: sline,
                    msg: format!("section {name} has no body"),
                })
            }
        }
        let mut entries: Vec<Entry> = Vec::new();
        loop {
            skip_ends(&mut i);
            let Some((line, t)) = toks.get(i) else {
                return Err(ConfigError {
                    line: sline,
                    msg: format!("section {name} is not closed (missing '}}')"),
                });
            };
            let line = *line;
            let key = match t {
                Tok::RBrace => {
                    i += 1;
                    break;
                }
                Tok::Word(w) | Tok::Quoted(w) => w.clone(),
                other => {
                    return Err(ConfigError {
                        line,
                        msg: format!(
                            "expected a key in section {name}, found {}",
                            tok_name(other)
                        ),
                    })
                }
            };
            i += 1;
            if matches!(toks.get(i), Some((_, Tok::Sep))) {
                i += 1;
            }
            let value = match toks.get(i) {
                Some((_, Tok::LBrace)) => {
                    return Err(ConfigError {
                        line,
                        msg: format!("key {key}: nested sections are not allowed"),
                    })
                }
                Some((_, t)) => match Value::from_tok(t) {
                    Some(v) => v,
                    None => {
                        return Err(ConfigError {
                            line,
                            msg: format!("key {key} has no value"),
                        })
                    }
                },
                None => {
                    return Err(ConfigError {
                        line,
                        msg: format!("key {key} has no value"),
                    })
                }
            };
            i += 1;
            match toks.get(i) {
                Some((_, Tok::End)) => i += 1,
                Some((_, Tok::RBrace)) | None => {}
                Some((l, other)) => {
                    return Err(ConfigError {
                        line: *l,
                        msg: format!(
                            "expected ';' after the value of {key}, found {}",
                            tok_name(other)
                        ),
                    })
                }
            }
            if entries.iter().any(|e| e.key == key) {
                return Err(ConfigError {
                    line,
                    msg: format!("key {key} given twice in section {name}"),
                });
            }
            entries.push(Entry { line, key, value });
        }
        sections.push(Section {
            line: sline,
            name,
            entries,
        });
    }
    if sections.is_empty() {
        return Err(ConfigError {
            line: last_line,
            msg: "no PF section".into(),
        });
    }
    Ok(sections)
}

fn tok_name(t: &Tok) -> String {
    match t {
        Tok::LBrace => "'{'".into(),
        Tok::RBrace => "'}'".into(),
        Tok::Sep => "':'".into(),
        Tok::End => "';'".into(),
        Tok::Word(w) => format!("'{w}'"),
        Tok::Quoted(s) => format!("\"{s}\""),
    }
}

fn want_bool(e: &Entry) -> Result<bool, ConfigError> {
    match e.value {
        Value::Bool(b) => Ok(b),
        ref v => Err(ConfigError {
            line: e.line,
            msg: format!(
                "{} must be a boolean (true or false), not {}",
                e.key,
                v.type_name()
            ),
        }),
    }
}

fn want_u16(e: &Entry) -> Result<u16, ConfigError> {
    match e.value {
        Value::Int(n) => u16::try_from(n).map_err(|_| ConfigError {
            line: e.line,
            msg: format!("{} = {n} is out of range for uint16_t (0..65535)", e.key),
        }),
        ref v => Err(ConfigError {
            line: e.line,
            msg: format!("{} must be an integer, not {}", e.key, v.type_name()),
        }),
    }
}

/// Parse `xx:xx:xx:xx:xx:xx` with one or two hex digits per byte (iovctl.conf(5)).
pub fn parse_mac(s: &str) -> Option<[u8; 6]> {
    let mut mac = [0u8; 6];
    let mut n = 0;
    for part in s.split(':') {
        if n == 6
            || part.is_empty()
            || part.len() > 2
            || !part.bytes().all(|c| c.is_ascii_hexdigit())
        {
            return None;
        }
        mac[n] = u8::from_str_radix(part, 16).ok()?;
        n += 1;
    }
    (n == 6).then_some(mac)
}

fn apply_vf_key(
    vf: &mut VfConfig,
    e: &Entry,
    warnings: &mut Vec<(usize, String)>,
) -> Result<(), ConfigError> {
    match e.key.as_str() {
        "mac-addr" => {
            let Value::Str(s) = &e.value else {
                return Err(ConfigError {
                    line: e.line,
                    msg: format!("mac-addr must be a string like \"xx:xx:xx:xx:xx:xx\", not {}", e.value.type_name()),
                });
            };
            let mac = parse_mac(s).ok_or_else(|| ConfigError {
                line: e.line,
                msg: format!("mac-addr \"{s}\" is not a MAC address of the form xx:xx:xx:xx:xx:xx"),
            })?;
            if mac[0] & 1 != 0 {
                return Err(ConfigError { line: e.line, msg: format!("mac-addr \"{s}\" is not a unicast address") });
            }
            vf.mac_addr = Some(mac);
        }
        "mac-anti-spoof" => vf.mac_anti_spoof = want_bool(e)?,
        "allow-set-mac" => vf.allow_set_mac = want_bool(e)?,
        "allow-promisc" => vf.allow_promisc = want_bool(e)?,
        "passthrough" => vf.passthrough = want_bool(e)?,
        "num-queues" => {
            let n = want_u16(e)?;
            // ixl_vf_reserve_queues: "Invalid num-queues", then clamp to 1..IAVF_MAX_QUEUES.
            let c = n.clamp(1, MAX_QUEUES);
            if c != n {
                warnings.push((e.line, format!("invalid num-queues ({n}); set to {c} (as ixl does)")));
            }
            vf.num_queues = c;
        }
        k => {
            return Err(ConfigError {
                line: e.line,
                msg: format!(
                    "unknown VF key '{k}' (ixl accepts mac-addr, mac-anti-spoof, allow-set-mac, allow-promisc, num-queues, passthrough)"
                ),
            })
        }
    }
    Ok(())
}

/// Parse with VF defaults computed for `vectors` MSI-X vectors per VF.
pub fn parse_with_vectors(text: &str, vectors: u16) -> Result<IovConfig, ConfigError> {
    let toks = tokenize(text)?;
    let sections = parse_sections(&toks)?;
    let mut pf: Option<&Section> = None;
    let mut default: Option<&Section> = None;
    let mut vf_secs: Vec<(usize, &Section)> = Vec::new();
    for s in &sections {
        if s.name == "PF" {
            if pf.is_some() {
                return Err(ConfigError {
                    line: s.line,
                    msg: "a second PF section (only one is allowed)".into(),
                });
            }
            pf = Some(s);
        } else if s.name == "DEFAULT" {
            if default.is_some() {
                return Err(ConfigError {
                    line: s.line,
                    msg: "a second DEFAULT section (only one is allowed)".into(),
                });
            }
            if let Some((_, v)) = vf_secs.first() {
                return Err(ConfigError {
                    line: s.line,
                    msg: format!(
                        "the DEFAULT section must come before any VF section ({} is on line {})",
                        v.name, v.line
                    ),
                });
            }
            default = Some(s);
        } else if let Some(idx) = s.name.strip_prefix("VF-") {
            let ok = !idx.is_empty()
                && idx.bytes().all(|c| c.is_ascii_digit())
                && (idx == "0" || !idx.starts_with('0'));
            let n: usize = match idx.parse() {
                Ok(n) if ok => n,
                _ => {
                    return Err(ConfigError {
                        line: s.line,
                        msg: format!(
                        "bad VF section name {} (VF- then a decimal index without leading zeros)",
                        s.name
                    ),
                    })
                }
            };
            if let Some((_, prev)) = vf_secs.iter().find(|(m, _)| *m == n) {
                return Err(ConfigError {
                    line: s.line,
                    msg: format!(
                        "section {} defined twice (first on line {})",
                        s.name, prev.line
                    ),
                });
            }
            vf_secs.push((n, s));
        } else {
            return Err(ConfigError {
                line: s.line,
                msg: format!(
                    "unknown section '{}' (expected PF, DEFAULT or VF-<n>)",
                    s.name
                ),
            });
        }
    }
    let last_line = toks.last().map(|t| t.0).unwrap_or(1);
    let pf = pf.ok_or(ConfigError {
        line: last_line,
        msg: "no PF section".into(),
    })?;
    let mut device = None;
    let mut num_vfs = None;
    for e in &pf.entries {
        match e.key.as_str() {
            "device" => match &e.value {
                Value::Str(s) if !s.is_empty() => device = Some(s.clone()),
                v => {
                    return Err(ConfigError {
                        line: e.line,
                        msg: format!("device must be a non-empty string, not {}", v.type_name()),
                    })
                }
            },
            "num_vfs" => {
                let n = want_u16(e)?;
                if n == 0 {
                    return Err(ConfigError {
                        line: e.line,
                        msg: "num_vfs may not be zero".into(),
                    });
                }
                if n > MAX_VFS {
                    return Err(ConfigError {
                        line: e.line,
                        msg: format!(
                            "num_vfs = {n} exceeds the emulated PF's maximum of {MAX_VFS}"
                        ),
                    });
                }
                num_vfs = Some(n);
            }
            k => {
                return Err(ConfigError {
                    line: e.line,
                    msg: format!("unknown PF key '{k}' (the PF section takes device and num_vfs)"),
                })
            }
        }
    }
    let device = device.ok_or(ConfigError {
        line: pf.line,
        msg: "the PF section has no device".into(),
    })?;
    let num_vfs = num_vfs.ok_or(ConfigError {
        line: pf.line,
        msg: "the PF section has no num_vfs".into(),
    })?;
    let mut warnings = Vec::new();
    let mut base = VfConfig::defaults(vectors);
    if let Some(d) = default {
        for e in &d.entries {
            apply_vf_key(&mut base, e, &mut warnings)?;
        }
        if base.mac_addr.is_some() {
            // The same MAC on every VF would make them clash; iovctl has no such
            // check, but two VFs with one MAC cannot both work. Say so.
            warnings.push((
                d.line,
                "mac-addr in DEFAULT gives every VF the same MAC".into(),
            ));
        }
    }
    let mut vfs = vec![base; num_vfs as usize];
    for (n, s) in &vf_secs {
        let Some(vf) = vfs.get_mut(*n) else {
            return Err(ConfigError {
                line: s.line,
                msg: format!(
                    "{} is out of range: num_vfs is {num_vfs}, so VF indices are 0..{}",
                    s.name,
                    num_vfs - 1
                ),
            });
        };
        for e in &s.entries {
            apply_vf_key(vf, e, &mut warnings)?;
        }
    }
    Ok(IovConfig {
        device,
        vfs,
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = include_str!("../../../examples/ixl0.conf");

    #[test]
    fn example_file_parses() {
        let c = IovConfig::parse(EXAMPLE).unwrap();
        assert_eq!(c.device, "ixl0");
        assert_eq!(c.vfs.len(), 2);
        assert_eq!(
            c.vfs[0].mac_addr,
            Some([0xaa, 0x88, 0x44, 0x00, 0x02, 0x00])
        );
        assert_eq!(
            c.vfs[1].mac_addr,
            Some([0xaa, 0x88, 0x44, 0x00, 0x02, 0x01])
        );
        for v in &c.vfs {
            assert!(v.allow_set_mac, "DEFAULT applies to every VF");
            assert!(v.mac_anti_spoof, "ixl default");
            assert!(!v.allow_promisc, "ixl default");
            assert_eq!(v.num_queues, 4);
            assert!(!v.mac_locked());
        }
        assert!(c.warnings.is_empty());
    }

    #[test]
    fn full_vf_section_and_overrides() {
        let t = r#"
# comment line
PF { device : "ixl1"; num_vfs : 3; }
DEFAULT { allow-set-mac : true; passthrough = yes }
VF-0 {
    mac-addr : "aa:88:44:00:02:00";  # trailing comment
    allow-set-mac: false;
    mac-anti-spoof: true;
    allow-promisc: on;
    num-queues: 0x8;
    passthrough: false;
}
/* block
   comment */ VF-2 { num-queues : 1 }
"#;
        let c = IovConfig::parse(t).unwrap();
        assert_eq!(c.device, "ixl1");
        assert_eq!(c.vfs.len(), 3);
        let v0 = &c.vfs[0];
        assert!(v0.mac_locked());
        assert!(v0.allow_promisc);
        assert_eq!(v0.num_queues, 8);
        assert!(!v0.passthrough);
        assert!(c.vfs[1].passthrough && c.vfs[1].allow_set_mac && c.vfs[1].mac_addr.is_none());
        assert_eq!(c.vfs[1].num_queues, 4);
        assert_eq!(c.vfs[2].num_queues, 1);
    }

    #[test]
    fn single_digit_mac_bytes_and_clamped_queues() {
        let t = "PF { device: ixl0; num_vfs: 1; }\nVF-0 { mac-addr: \"2:0:0:a:b:c\"; num-queues: 40; }\n";
        let c = IovConfig::parse(t).unwrap();
        assert_eq!(c.vfs[0].mac_addr, Some([2, 0, 0, 0xa, 0xb, 0xc]));
        assert_eq!(c.vfs[0].num_queues, 16);
        assert_eq!(c.warnings.len(), 1);
        assert_eq!(c.warnings[0].0, 2);
    }

    fn err(t: &str) -> ConfigError {
        IovConfig::parse(t).unwrap_err()
    }

    #[test]
    fn errors_name_the_line() {
        let cases: &[(&str, usize, &str)] = &[
            ("PF { device: \"ixl0\"; num_vfs: 2; }\nVF-0 { mac-addr: \"01:00:00:00:00:01\"; }\n", 2, "unicast"),
            ("PF { device: \"ixl0\"; num_vfs: 2; }\nVF-0 {\n  mac-addr: \"zz:00:00:00:00:01\";\n}\n", 3, "not a MAC"),
            ("PF { device: \"ixl0\"; num_vfs: 2; }\nVF-2 { }\n", 2, "out of range"),
            ("PF { device: \"ixl0\"; num_vfs: 0; }\n", 1, "zero"),
            ("PF { device: \"ixl0\"; num_vfs: 2; }\nVF-0 { allow-promisc: \"true\"; }\n", 2, "boolean"),
            ("PF { device: \"ixl0\"; num_vfs: 2; }\nVF-0 {\n\n  vlan: 4;\n}\n", 4, "unknown VF key"),
            ("PF { device: \"ixl0\"; num_vfs: 2; }\nVF-0 { }\nDEFAULT { }\n", 3, "before any VF"),
            ("PF { device: \"ixl0\"; num_vfs: 2; }\nVF-0 { }\nVF-0 { }\n", 3, "twice"),
            ("PF { device: \"ixl0\"; num_vfs: 2; }\nVF-01 { }\n", 2, "leading zeros"),
            ("PF { device: \"ixl0\"; num_vfs: 2; }\nPF { device: x; num_vfs: 1 }\n", 2, "second PF"),
            ("PF { device: \"ixl0; num_vfs: 2; }\n", 1, "unterminated string"),
            ("PF { device: \"ixl0\";\n num_vfs: 2;\n", 1, "not closed"),
            ("PF { num_vfs: 2; }\n", 1, "no device"),
            ("DEFAULT { }\n", 1, "no PF section"),
            ("PF { device: \"ixl0\"; num_vfs: 2 3; }\n", 1, "expected ';'"),
            ("PF { device: \"ixl0\"; num_vfs: 70000; }\n", 1, "uint16"),
            ("PF { device: \"ixl0\"; num_vfs: 2; }\nVF-1 { num-queues: 2; num-queues: 3; }\n", 2, "twice"),
            ("PF { device: \"ixl0\"; num_vfs: 2; }\nFOO { }\n", 2, "unknown section"),
            ("PF { device: \"ixl0\"; num_vfs: 2; }\n/* open\n\n", 2, "unterminated /*"),
        ];
        for (text, line, what) in cases {
            let e = err(text);
            assert_eq!(e.line, *line, "{text:?} -> {e}");
            assert!(e.msg.contains(what), "{text:?} -> {e} (wanted '{what}')");
            assert!(e.to_string().starts_with(&format!("line {line}:")));
        }
    }
}
