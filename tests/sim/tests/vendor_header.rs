//! Checks the emulator's own virtchnl definitions (`ravf_sim::virtchnl`) against the
//! Linux vendor header, without compiling C: the header text is parsed here.
//!
//! What is compared: every opcode, status code, event code, capability bit, link
//! speed and version constant the emulator defines; every `VIRTCHNL_CHECK_STRUCT_LEN`
//! size of the structs it uses; and every field offset it uses, computed from the
//! header's struct text with the C layout rules (natural alignment of u8/u16/u32/u64/
//! s32/enum/bool members, arrays, nested and anonymous structs and unions). The layout
//! computation is itself checked: its size for each struct must equal the header's
//! own `VIRTCHNL_CHECK_STRUCT_LEN`.
//!
//! The header is found at `/usr/src/linux-headers-*-common/include/linux/avf/virtchnl.h`.
//! Without it the test fails (install linux-headers-*-common) unless
//! `RAVF_NO_VENDOR_HEADERS=1` is set.

use std::collections::HashMap;
use std::path::PathBuf;

use ravf_sim::virtchnl as vc;

fn find_header() -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/src")
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let n = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            n.starts_with("linux-headers-") && n.ends_with("-common")
        })
        .map(|p| p.join("include/linux/avf/virtchnl.h"))
        .filter(|p| p.exists())
        .collect();
    found.sort();
    found.pop()
}

fn load() -> Option<Header> {
    match find_header() {
        Some(p) => {
            let text = std::fs::read_to_string(&p).expect("read virtchnl.h");
            Some(Header::parse(&text))
        }
        None => {
            if std::env::var("RAVF_NO_VENDOR_HEADERS").as_deref() == Ok("1") {
                eprintln!(
                    "vendor_header: no virtchnl.h installed; skipped (RAVF_NO_VENDOR_HEADERS=1)"
                );
                None
            } else {
                panic!(
                    "no /usr/src/linux-headers-*-common/include/linux/avf/virtchnl.h: install the \
                     Debian package linux-headers-<version>-common (CI does), or set \
                     RAVF_NO_VENDOR_HEADERS=1 to skip this check"
                );
            }
        }
    }
}

// ---------------------------------------------------------------- header text

struct Header {
    /// #define NAME → value (only those that evaluate to integers).
    defines: HashMap<String, i64>,
    /// Enumerator NAME → value, from every enum.
    enums: HashMap<String, i64>,
    /// struct name → body text (comments and preprocessor lines removed).
    structs: HashMap<String, String>,
    /// VIRTCHNL_CHECK_STRUCT_LEN(n, name).
    checks: HashMap<String, usize>,
    /// Names of enum types (members of these types are 4 bytes).
    enum_types: Vec<String>,
    /// Which entries of `structs` are unions.
    unions: Vec<String>,
}

fn strip_comments(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
            i += 2;
            while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                if b[i] == b'\n' {
                    out.push('\n');
                }
                i += 1;
            }
            i += 2;
        } else if b[i] == b'/' && b.get(i + 1) == Some(&b'/') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else {
            out.push(b[i] as char);
            i += 1;
        }
    }
    out
}

/// A tiny integer expression evaluator: literals (dec/hex, U/UL suffixes), names,
/// BIT(x), unary -, ~, parentheses, binary | & << >> + -.
fn eval(expr: &str, names: &dyn Fn(&str) -> Option<i64>) -> Option<i64> {
    let toks = tokenize(expr)?;
    let mut p = 0;
    let v = eval_or(&toks, &mut p, names)?;
    (p == toks.len()).then_some(v)
}

fn tokenize(s: &str) -> Option<Vec<String>> {
    let mut t = Vec::new();
    let c: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < c.len() {
        let ch = c[i];
        if ch.is_whitespace() || ch == '\\' {
            i += 1;
        } else if ch.is_ascii_alphanumeric() || ch == '_' {
            let st = i;
            while i < c.len() && (c[i].is_ascii_alphanumeric() || c[i] == '_') {
                i += 1;
            }
            t.push(c[st..i].iter().collect());
        } else if (ch == '<' || ch == '>') && c.get(i + 1) == Some(&ch) {
            t.push(format!("{ch}{ch}"));
            i += 2;
        } else if "()|&+-~".contains(ch) {
            t.push(ch.to_string());
            i += 1;
        } else {
            return None;
        }
    }
    Some(t)
}

fn eval_or(t: &[String], p: &mut usize, n: &dyn Fn(&str) -> Option<i64>) -> Option<i64> {
    let mut v = eval_and(t, p, n)?;
    while t.get(*p).map(|s| s.as_str()) == Some("|") {
        *p += 1;
        v |= eval_and(t, p, n)?;
    }
    Some(v)
}
fn eval_and(t: &[String], p: &mut usize, n: &dyn Fn(&str) -> Option<i64>) -> Option<i64> {
    let mut v = eval_shift(t, p, n)?;
    while t.get(*p).map(|s| s.as_str()) == Some("&") {
        *p += 1;
        v &= eval_shift(t, p, n)?;
    }
    Some(v)
}
fn eval_shift(t: &[String], p: &mut usize, n: &dyn Fn(&str) -> Option<i64>) -> Option<i64> {
    let mut v = eval_add(t, p, n)?;
    loop {
        match t.get(*p).map(|s| s.as_str()) {
            Some("<<") => {
                *p += 1;
                v <<= eval_add(t, p, n)?;
            }
            Some(">>") => {
                *p += 1;
                v >>= eval_add(t, p, n)?;
            }
            _ => return Some(v),
        }
    }
}
fn eval_add(t: &[String], p: &mut usize, n: &dyn Fn(&str) -> Option<i64>) -> Option<i64> {
    let mut v = eval_unary(t, p, n)?;
    loop {
        match t.get(*p).map(|s| s.as_str()) {
            Some("+") => {
                *p += 1;
                v += eval_unary(t, p, n)?;
            }
            Some("-") => {
                *p += 1;
                v -= eval_unary(t, p, n)?;
            }
            _ => return Some(v),
        }
    }
}
fn eval_unary(t: &[String], p: &mut usize, n: &dyn Fn(&str) -> Option<i64>) -> Option<i64> {
    let tok = t.get(*p)?.clone();
    *p += 1;
    match tok.as_str() {
        "-" => Some(-eval_unary(t, p, n)?),
        "~" => Some(!eval_unary(t, p, n)?),
        "(" => {
            let v = eval_or(t, p, n)?;
            (t.get(*p)?.as_str() == ")").then(|| *p += 1)?;
            Some(v)
        }
        "BIT" | "BIT_ULL" => {
            (t.get(*p)?.as_str() == "(").then(|| *p += 1)?;
            let v = eval_or(t, p, n)?;
            (t.get(*p)?.as_str() == ")").then(|| *p += 1)?;
            Some(1i64 << v)
        }
        s if s.starts_with(|c: char| c.is_ascii_digit()) => {
            let s = s.trim_end_matches(['U', 'L', 'u', 'l']);
            if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
                i64::from_str_radix(h, 16).ok()
            } else {
                s.parse().ok()
            }
        }
        s => n(s),
    }
}

impl Header {
    fn parse(raw: &str) -> Header {
        let text = strip_comments(raw);
        // Join continued #define lines.
        let joined = text.replace("\\\n", " ");
        let mut h = Header {
            defines: HashMap::new(),
            enums: HashMap::new(),
            structs: HashMap::new(),
            checks: HashMap::new(),
            enum_types: Vec::new(),
            unions: Vec::new(),
        };
        let mut raw_defines: Vec<(String, String)> = Vec::new();
        let mut body = String::new();
        for line in joined.lines() {
            let l = line.trim();
            if let Some(rest) = l.strip_prefix("#define") {
                let rest = rest.trim();
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                let after = &rest[name.len()..];
                if !after.starts_with('(') && !name.is_empty() {
                    raw_defines.push((name, after.trim().to_string()));
                }
            } else if l.starts_with('#') {
            } else {
                body.push_str(line);
                body.push('\n');
                if let Some(x) = l
                    .strip_prefix("VIRTCHNL_CHECK_STRUCT_LEN(")
                    .or_else(|| l.strip_prefix("VIRTCHNL_CHECK_UNION_LEN("))
                {
                    let inner = x.trim_end_matches(';').trim_end_matches(')');
                    let mut it = inner.split(',');
                    let n = it.next().unwrap().trim();
                    let name = it.next().unwrap().trim().to_string();
                    if let Ok(n) = n.parse::<usize>() {
                        h.checks.insert(name, n);
                    } else if let Some(v) = raw_defines.iter().find(|(k, _)| k == n) {
                        h.checks.insert(name, v.1.parse().unwrap_or(0));
                    }
                }
            }
        }
        // Enums (in order, with implicit values).
        let mut rest = body.as_str();
        while let Some(i) = rest.find("enum ") {
            rest = &rest[i + 5..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            let after = rest[name.len()..].trim_start();
            if !after.starts_with('{') {
                continue;
            }
            let open = rest.find('{').unwrap();
            let close = rest[open..].find('}').unwrap() + open;
            h.enum_types.push(name);
            let mut next = 0i64;
            for item in rest[open + 1..close].split(',') {
                let item = item.trim();
                if item.is_empty() {
                    continue;
                }
                let (n, v) = match item.split_once('=') {
                    Some((n, e)) => {
                        let v = {
                            let (defs, enums) = (&h.defines, &h.enums);
                            let raws = &raw_defines;
                            eval(e.trim(), &|s| lookup(s, defs, enums, raws))
                        };
                        (n.trim().to_string(), v)
                    }
                    None => (item.to_string(), Some(next)),
                };
                if let Some(v) = v {
                    h.enums.insert(n, v);
                    next = v + 1;
                }
            }
            rest = &rest[close..];
        }
        for (n, e) in &raw_defines {
            if let Some(v) = eval(e, &|s| lookup(s, &h.defines, &h.enums, &raw_defines)) {
                h.defines.insert(n.clone(), v);
            }
        }
        // Structs and unions: "struct NAME {" / "union NAME {" ... matching "}".
        let b = body.as_bytes();
        for kw in ["struct ", "union "] {
            let mut i = 0;
            while let Some(k) = body[i..].find(kw) {
                let s = i + k + kw.len();
                let name: String = body[s..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                let after = body[s + name.len()..].trim_start();
                i = s;
                if name.is_empty() || !after.starts_with('{') {
                    continue;
                }
                let open = s + body[s..].find('{').unwrap();
                let mut depth = 0;
                let mut j = open;
                while j < b.len() {
                    match b[j] {
                        b'{' => depth += 1,
                        b'}' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                    j += 1;
                }
                if kw == "union " {
                    h.unions.push(name.clone());
                }
                h.structs.insert(name, body[open + 1..j].to_string());
                i = j;
            }
        }
        h
    }

    fn value(&self, name: &str) -> Option<i64> {
        self.enums
            .get(name)
            .or_else(|| self.defines.get(name))
            .copied()
    }
}

fn lookup(
    s: &str,
    defs: &HashMap<String, i64>,
    enums: &HashMap<String, i64>,
    raws: &[(String, String)],
) -> Option<i64> {
    if let Some(v) = enums.get(s).or_else(|| defs.get(s)) {
        return Some(*v);
    }
    if s == "ETH_ALEN" {
        return Some(6); // from <linux/if_ether.h>, not this header
    }
    let e = &raws.iter().find(|(k, _)| k == s)?.1;
    eval(e, &|x| {
        if x == s {
            None
        } else {
            lookup(x, defs, enums, raws)
        }
    })
}

// ---------------------------------------------------------------- C layout

#[derive(Clone, Debug)]
struct Lay {
    size: usize,
    align: usize,
    fields: Vec<(String, usize)>,
    /// The last member is a flexible or `[1]` array (its element size).
    trailing_array: Option<(usize, bool)>,
}

fn prim(ty: &str, h: &Header) -> Option<usize> {
    Some(match ty {
        "u8" | "s8" | "char" | "bool" | "__u8" => 1,
        "u16" | "s16" | "__le16" | "__be16" | "__u16" => 2,
        "u32" | "s32" | "int" | "__le32" | "__be32" | "__u32" => 4,
        "u64" | "s64" | "__le64" | "__be64" | "__u64" => 8,
        _ if ty.starts_with("enum ") && h.enum_types.iter().any(|e| ty == format!("enum {e}")) => 4,
        _ => return None,
    })
}

/// Split a struct/union body into members at depth-0 semicolons.
fn members(body: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0;
    let mut cur = String::new();
    for ch in body.chars() {
        match ch {
            '{' => depth += 1,
            '}' => depth -= 1,
            _ => {}
        }
        if ch == ';' && depth == 0 {
            let m = cur.split_whitespace().collect::<Vec<_>>().join(" ");
            if !m.is_empty() {
                out.push(m);
            }
            cur.clear();
        } else {
            cur.push(ch);
        }
    }
    out
}

fn layout(body: &str, is_union: bool, h: &Header) -> Result<Lay, String> {
    let mut off = 0usize;
    let mut size = 0usize;
    let mut align = 1usize;
    let mut fields = Vec::new();
    let mut trailing = None;
    for m in members(body) {
        // Member type layout and name.
        let (elem, name_part) = if let Some(open) = m.find('{') {
            let close = m.rfind('}').ok_or("unbalanced braces")?;
            let kind = m[..open].trim();
            let inner = layout(&m[open + 1..close], kind.starts_with("union"), h)?;
            (inner, m[close + 1..].trim().to_string())
        } else {
            let toks: Vec<&str> = m.split_whitespace().collect();
            let (ty, name) = if toks.len() >= 2 {
                (
                    toks[..toks.len() - 1].join(" "),
                    toks[toks.len() - 1].to_string(),
                )
            } else {
                return Err(format!("cannot parse member '{m}'"));
            };
            let ty = ty.trim_start_matches("const ").to_string();
            let el = if let Some(n) = prim(&ty, h) {
                Lay {
                    size: n,
                    align: n,
                    fields: vec![],
                    trailing_array: None,
                }
            } else if let Some(s) = ty.strip_prefix("struct ") {
                let b = h.structs.get(s).ok_or(format!("unknown struct {s}"))?;
                layout(b, false, h)?
            } else if let Some(s) = ty.strip_prefix("union ") {
                let b = h.structs.get(s).ok_or(format!("unknown union {s}"))?;
                layout(b, true, h)?
            } else {
                return Err(format!("unknown type '{ty}' in '{m}'"));
            };
            (el, name)
        };
        let (name, count, flex) = match name_part.find('[') {
            Some(b) => {
                let inner = &name_part[b + 1..name_part.len() - 1];
                let n = if inner.trim().is_empty() {
                    0
                } else {
                    eval(inner, &|s| {
                        h.value(s).or(if s == "ETH_ALEN" { Some(6) } else { None })
                    })
                    .ok_or(format!("array size '{inner}'"))? as usize
                };
                (
                    name_part[..b].to_string(),
                    n,
                    inner.trim().is_empty() || inner.trim() == "1",
                )
            }
            None => (name_part, 1, false),
        };
        align = align.max(elem.align);
        let o = if is_union {
            0
        } else {
            off.div_ceil(elem.align) * elem.align
        };
        fields.push((name, o));
        let end = o + elem.size * count;
        if is_union {
            size = size.max(elem.size * count);
        } else {
            off = end;
            size = end;
        }
        trailing = flex.then_some((elem.size, count == 0));
    }
    let size = size.div_ceil(align) * align;
    Ok(Lay {
        size,
        align,
        fields,
        trailing_array: trailing,
    })
}

// ---------------------------------------------------------------- checks

/// Header names that changed over time: ours → accepted alternatives.
fn aliases(name: &str) -> Vec<String> {
    let mut v = vec![name.to_string()];
    for (a, b) in [
        ("IWARP", "RDMA"),
        ("GET_RSS_HENA_CAPS", "GET_RSS_HASHCFG_CAPS"),
        ("SET_RSS_HENA", "SET_RSS_HASHCFG"),
    ] {
        if name.contains(a) {
            v.push(name.replace(a, b));
        }
    }
    v
}

fn check_values(h: &Header, prefix: &str, ours: &[(&str, i64)], errs: &mut Vec<String>) {
    for (n, v) in ours {
        let names = aliases(n);
        match names.iter().find_map(|a| h.value(&format!("{prefix}{a}"))) {
            Some(x) if x == *v => {}
            Some(x) => errs.push(format!("{prefix}{n}: header {x}, emulator {v}")),
            None => errs.push(format!("{prefix}{n}: not in the header")),
        }
    }
}

#[test]
fn constants_match_the_vendor_header() {
    let Some(h) = load() else { return };
    let mut errs = Vec::new();
    let ops: Vec<_> = vc::OPCODES.iter().map(|(n, v)| (*n, *v as i64)).collect();
    check_values(&h, "VIRTCHNL_OP_", &ops, &mut errs);
    let st: Vec<_> = vc::STATUS_CODES
        .iter()
        .map(|(n, v)| (*n, *v as i64))
        .collect();
    check_values(&h, "VIRTCHNL_STATUS_", &st, &mut errs);
    let ev: Vec<_> = vc::EVENT_CODES
        .iter()
        .map(|(n, v)| (*n, *v as i64))
        .collect();
    check_values(&h, "VIRTCHNL_EVENT_", &ev, &mut errs);
    let ls: Vec<_> = vc::LINK_SPEEDS
        .iter()
        .map(|(n, v)| (*n, *v as i64))
        .collect();
    check_values(&h, "VIRTCHNL_LINK_SPEED_", &ls, &mut errs);
    // Capability bits: ours must match; bits the emulator does not define are listed
    // only when the header gives one of our names a different value.
    for (n, v) in vc::CAPS {
        let names = aliases(n);
        match names
            .iter()
            .find_map(|a| h.value(&format!("VIRTCHNL_VF_{a}")))
        {
            Some(x) if x == *v as i64 => {}
            Some(x) => errs.push(format!("VIRTCHNL_VF_{n}: header {x:#x}, emulator {v:#x}")),
            // OFFLOAD_CRC appeared after some header versions (VC-FBSD put CRC at bit 7).
            None if *n == "OFFLOAD_CRC" => {}
            None => errs.push(format!("VIRTCHNL_VF_{n}: not in the header")),
        }
    }
    for (n, v) in [
        ("VF_BASE_MODE_OFFLOADS", vc::VF_BASE_MODE_OFFLOADS as i64),
        ("VIRTCHNL_VERSION_MAJOR", vc::VERSION_MAJOR as i64),
        ("VIRTCHNL_VERSION_MINOR", vc::VERSION_MINOR as i64),
        (
            "VIRTCHNL_VERSION_MINOR_NO_VF_CAPS",
            vc::VERSION_MINOR_NO_VF_CAPS as i64,
        ),
        ("VIRTCHNL_VSI_SRIOV", vc::VSI_SRIOV as i64),
        ("PF_EVENT_SEVERITY_INFO", vc::PF_EVENT_SEVERITY_INFO as i64),
        (
            "PF_EVENT_SEVERITY_CERTAIN_DOOM",
            vc::PF_EVENT_SEVERITY_CERTAIN_DOOM as i64,
        ),
        (
            "FLAG_VF_UNICAST_PROMISC",
            vc::FLAG_VF_UNICAST_PROMISC as i64,
        ),
        (
            "FLAG_VF_MULTICAST_PROMISC",
            vc::FLAG_VF_MULTICAST_PROMISC as i64,
        ),
        ("VIRTCHNL_ETHER_ADDR_LEGACY", vc::ETHER_ADDR_LEGACY as i64),
        ("VIRTCHNL_ETHER_ADDR_PRIMARY", vc::ETHER_ADDR_PRIMARY as i64),
        ("VIRTCHNL_ETHER_ADDR_EXTRA", vc::ETHER_ADDR_EXTRA as i64),
        (
            "VIRTCHNL_ETHER_ADDR_TYPE_MASK",
            vc::ETHER_ADDR_TYPE_MASK as i64,
        ),
    ] {
        match h.value(n) {
            Some(x) if x == v => {}
            other => errs.push(format!("{n}: header {other:?}, emulator {v}")),
        }
    }
    // Every opcode the header numbers 0..=33 must be known to the emulator.
    for (k, v) in &h.enums {
        if let Some(op) = k.strip_prefix("VIRTCHNL_OP_") {
            if (0..=33).contains(v)
                && op != "MAX"
                && !vc::OPCODES.iter().any(|(_, o)| *o as i64 == *v)
            {
                errs.push(format!("header opcode {k} = {v} unknown to the emulator"));
            }
        }
    }
    assert!(
        errs.is_empty(),
        "virtchnl.rs disagrees with the vendor header:\n{}",
        errs.join("\n")
    );
}

#[test]
fn struct_sizes_and_offsets_match_the_vendor_header() {
    let Some(h) = load() else { return };
    let mut errs = Vec::new();
    for l in vc::LAYOUTS {
        let Some(body) = h.structs.get(l.name) else {
            errs.push(format!("struct {} not in the header", l.name));
            continue;
        };
        let lay = match layout(body, false, &h) {
            Ok(x) => x,
            Err(e) => {
                errs.push(format!("struct {}: layout parser: {e}", l.name));
                continue;
            }
        };
        // The parser must agree with the header's own size assertion.
        match h.checks.get(l.name) {
            Some(&n) if n != lay.size => errs.push(format!(
                "struct {}: computed size {} but CHECK_STRUCT_LEN says {n}",
                l.name, lay.size
            )),
            None if l.name != "virtchnl_vf_res_request" => errs.push(format!(
                "struct {}: no VIRTCHNL_CHECK_STRUCT_LEN in the header",
                l.name
            )),
            _ => {}
        }
        // Ours: `size` is the legacy [1]-array size, `hdr` the size without the array.
        match lay.trailing_array {
            Some((elem, true)) => {
                // Flexible array `[]`: header size is the header part; legacy size is
                // header + one element, rounded to the alignment.
                if lay.size != l.hdr {
                    errs.push(format!(
                        "struct {}: header part {} bytes, emulator {}",
                        l.name, lay.size, l.hdr
                    ));
                }
                let legacy_name = format!("{}_LEGACY_SIZEOF", l.name);
                let legacy = h
                    .value(&legacy_name)
                    .map(|v| v as usize)
                    .unwrap_or((lay.size + elem).div_ceil(lay.align) * lay.align);
                if legacy != l.size {
                    errs.push(format!(
                        "struct {}: legacy size {legacy}, emulator {}",
                        l.name, l.size
                    ));
                }
            }
            Some((elem, false)) if l.hdr != l.size => {
                // `[1]` array: the header size is the legacy size.
                if lay.size != l.size {
                    errs.push(format!(
                        "struct {}: legacy size {}, emulator {}",
                        l.name, lay.size, l.size
                    ));
                }
                let hdr_end = lay.fields.last().map(|f| f.1).unwrap_or(0);
                if hdr_end != l.hdr {
                    errs.push(format!(
                        "struct {}: array at {hdr_end}, emulator header {}",
                        l.name, l.hdr
                    ));
                }
                let _ = elem;
            }
            _ => {
                if lay.size != l.size {
                    errs.push(format!(
                        "struct {}: size {}, emulator {}",
                        l.name, lay.size, l.size
                    ));
                }
            }
        }
        for (f, off) in l.fields {
            let cname = f.trim_end_matches('_');
            match lay.fields.iter().find(|(n, _)| n == cname) {
                Some((_, o)) if o == off => {}
                Some((_, o)) => errs.push(format!(
                    "{}.{cname}: header offset {o}, emulator {off}",
                    l.name
                )),
                None => errs.push(format!("{}.{cname}: no such member in the header", l.name)),
            }
        }
    }
    assert!(
        errs.is_empty(),
        "virtchnl.rs layouts disagree with the vendor header:\n{}",
        errs.join("\n")
    );
}

#[test]
fn the_layout_parser_reproduces_every_size_assertion() {
    // The parser is only trusted if it gets the header's own numbers right for every
    // struct the header asserts (not just the ones the emulator uses); unions and
    // structs with types this small parser does not know are reported, not hidden.
    let Some(h) = load() else { return };
    let mut bad = Vec::new();
    let mut ok = 0;
    for (name, &n) in &h.checks {
        let Some(body) = h.structs.get(name) else {
            continue;
        };
        match layout(body, h.unions.contains(name), &h) {
            Ok(l) if l.size == n => ok += 1,
            Ok(l) => bad.push(format!("{name}: computed {} != {n}", l.size)),
            Err(e) => bad.push(format!("{name}: {e}")),
        }
    }
    assert!(ok >= 20, "only {ok} structs laid out");
    assert!(
        bad.is_empty(),
        "layout parser disagrees with the header:\n{}",
        bad.join("\n")
    );
}
