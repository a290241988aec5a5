//! Check ravf's virtchnl definitions against the installed Linux vendor header
//! (`/usr/src/linux-headers-*-common/include/linux/avf/virtchnl.h`, or the file named
//! by `RAVF_VIRTCHNL_H`).
//!
//! The test reads the header text with a small, honest C parser: it collects
//! `VIRTCHNL_CHECK_STRUCT_LEN(n, name)` assertions, enum values and `#define`
//! constants, and computes each struct's C layout (x86-64 alignment rules) from its
//! body: u8/u16/u32/u64/s*/__le*/__be*/bool/int, arrays (sizes may be macros),
//! nested and anonymous structs/unions, enums as 4 bytes. The parser checks itself
//! against every CHECK_STRUCT_LEN it can compute, then ravf's struct sizes, field
//! offsets and constants are compared with the header.
//!
//! If the header is missing the test fails with a clear message, unless
//! `RAVF_NO_VENDOR_HEADERS=1` is set.

use std::collections::HashMap;
use std::fs;
use std::path::PathBuf;

use ravf::virtchnl::{self as vc, VcOp, VfCaps};
use std::mem::{offset_of, size_of};

// ---------------------------------------------------------------------------
// Finding the header
// ---------------------------------------------------------------------------

fn find_header() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("RAVF_VIRTCHNL_H") {
        return Some(PathBuf::from(p));
    }
    let mut found: Vec<PathBuf> = Vec::new();
    let dir = fs::read_dir("/usr/src").ok()?;
    for e in dir.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with("linux-headers-") && name.ends_with("-common") {
            let p = e.path().join("include/linux/avf/virtchnl.h");
            if p.is_file() {
                found.push(p);
            }
        }
    }
    found.sort();
    found.pop()
}

fn load() -> Option<(PathBuf, Header)> {
    match find_header() {
        Some(p) => {
            let text = fs::read_to_string(&p)
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", p.display()));
            Some((p, Header::parse(&text)))
        }
        None => {
            if std::env::var("RAVF_NO_VENDOR_HEADERS").as_deref() == Ok("1") {
                eprintln!("vendor_header: no virtchnl.h found; skipped (RAVF_NO_VENDOR_HEADERS=1)");
                None
            } else {
                panic!(
                    "vendor_header: the Linux vendor header was not found at \
                     /usr/src/linux-headers-*-common/include/linux/avf/virtchnl.h. Install \
                     linux-headers-<version>-common (Debian), point RAVF_VIRTCHNL_H at a copy, \
                     or set RAVF_NO_VENDOR_HEADERS=1 to skip this test."
                )
            }
        }
    }
}

// ---------------------------------------------------------------------------
// A small C header parser
// ---------------------------------------------------------------------------

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Id(String),
    Num(i64),
    P(char),
    Shl,
}

fn strip_comments(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'/' && i + 1 < b.len() && b[i + 1] == b'*' {
            i += 2;
            while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                if b[i] == b'\n' {
                    out.push('\n');
                }
                i += 1;
            }
            i += 2;
            out.push(' ');
        } else if b[i] == b'/' && i + 1 < b.len() && b[i + 1] == b'/' {
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

fn tokenize(s: &str) -> Vec<Tok> {
    let c: Vec<char> = s.chars().collect();
    let mut t = Vec::new();
    let mut i = 0;
    while i < c.len() {
        let ch = c[i];
        if ch.is_whitespace() || ch == '\\' {
            i += 1;
        } else if ch.is_ascii_alphabetic() || ch == '_' {
            let st = i;
            while i < c.len() && (c[i].is_ascii_alphanumeric() || c[i] == '_') {
                i += 1;
            }
            t.push(Tok::Id(c[st..i].iter().collect()));
        } else if ch.is_ascii_digit() {
            let st = i;
            while i < c.len() && (c[i].is_ascii_alphanumeric()) {
                i += 1;
            }
            let raw: String = c[st..i].iter().collect();
            let digits = raw.trim_end_matches(['u', 'U', 'l', 'L']);
            let v = if let Some(h) = digits
                .strip_prefix("0x")
                .or_else(|| digits.strip_prefix("0X"))
            {
                i64::from_str_radix(h, 16).unwrap_or(0)
            } else {
                digits.parse().unwrap_or(0)
            };
            t.push(Tok::Num(v));
        } else if ch == '<' && i + 1 < c.len() && c[i + 1] == '<' {
            t.push(Tok::Shl);
            i += 2;
        } else {
            t.push(Tok::P(ch));
            i += 1;
        }
    }
    t
}

/// Evaluate a constant expression: numbers, names, BIT(x), parentheses, unary
/// minus, `|`, `+`, `<<`. None if anything is unknown.
fn eval(toks: &[Tok], names: &HashMap<String, i64>) -> Option<i64> {
    fn primary(t: &[Tok], i: &mut usize, n: &HashMap<String, i64>) -> Option<i64> {
        match t.get(*i)? {
            Tok::Num(v) => {
                *i += 1;
                Some(*v)
            }
            Tok::P('-') => {
                *i += 1;
                primary(t, i, n).map(|v| -v)
            }
            Tok::P('(') => {
                *i += 1;
                let v = expr(t, i, n)?;
                if t.get(*i) != Some(&Tok::P(')')) {
                    return None;
                }
                *i += 1;
                Some(v)
            }
            Tok::Id(s) if s == "BIT" || s == "BIT_ULL" => {
                *i += 1;
                if t.get(*i) != Some(&Tok::P('(')) {
                    return None;
                }
                *i += 1;
                let v = expr(t, i, n)?;
                if t.get(*i) != Some(&Tok::P(')')) {
                    return None;
                }
                *i += 1;
                Some(1i64 << v)
            }
            Tok::Id(s) => {
                *i += 1;
                n.get(s).copied()
            }
            _ => None,
        }
    }
    fn expr(t: &[Tok], i: &mut usize, n: &HashMap<String, i64>) -> Option<i64> {
        let mut v = primary(t, i, n)?;
        loop {
            match t.get(*i) {
                Some(Tok::P('|')) => {
                    *i += 1;
                    v |= primary(t, i, n)?;
                }
                Some(Tok::P('+')) => {
                    *i += 1;
                    v += primary(t, i, n)?;
                }
                Some(Tok::Shl) => {
                    *i += 1;
                    v <<= primary(t, i, n)?;
                }
                _ => return Some(v),
            }
        }
    }
    let mut i = 0;
    let v = expr(toks, &mut i, names)?;
    if i == toks.len() {
        Some(v)
    } else {
        None
    }
}

/// A computed C layout: size, alignment, and every (dotted) field path's offset.
#[derive(Clone, Debug, Default)]
struct Layout {
    size: usize,
    align: usize,
    fields: Vec<(String, usize)>,
}

impl Layout {
    fn offset(&self, path: &str) -> Option<usize> {
        self.fields.iter().find(|(p, _)| p == path).map(|(_, o)| *o)
    }
}

struct Header {
    /// name → value, from enums and #defines.
    consts: HashMap<String, i64>,
    /// struct/union name → CHECK_STRUCT_LEN/CHECK_UNION_LEN value.
    checks: HashMap<String, usize>,
    /// struct/union name → layout (only the ones the parser could compute).
    layouts: HashMap<String, Layout>,
    /// Names the parser could not lay out, with the reason.
    unparsed: HashMap<String, String>,
}

fn scalar(name: &str) -> Option<usize> {
    Some(match name {
        "u8" | "s8" | "__u8" | "__s8" | "char" | "bool" => 1,
        "u16" | "s16" | "__u16" | "__s16" | "__le16" | "__be16" | "short" => 2,
        "u32" | "s32" | "__u32" | "__s32" | "__le32" | "__be32" | "int" => 4,
        "u64" | "s64" | "__u64" | "__s64" | "__le64" | "__be64" => 8,
        _ => return None,
    })
}

fn align_up(x: usize, a: usize) -> usize {
    x.div_ceil(a) * a
}

impl Header {
    fn parse(text: &str) -> Header {
        let text = strip_comments(text);
        // Join continuation lines, split off preprocessor lines.
        let joined = text.replace("\\\n", " ");
        let mut body = String::new();
        let mut defines: Vec<(String, Vec<Tok>)> = Vec::new();
        for line in joined.lines() {
            let l = line.trim_start();
            if let Some(rest) = l.strip_prefix('#') {
                let rest = rest.trim_start();
                if let Some(d) = rest.strip_prefix("define") {
                    let toks = tokenize(d);
                    if let Some(Tok::Id(name)) = toks.first() {
                        // Skip function-like macros: NAME( with no space is indistinguishable
                        // after tokenizing, so check the raw text.
                        let after = d.trim_start().get(name.len()..).unwrap_or("");
                        if !after.starts_with('(') {
                            defines.push((name.clone(), toks[1..].to_vec()));
                        }
                    }
                }
                continue;
            }
            body.push_str(line);
            body.push('\n');
        }
        let toks = tokenize(&body);
        let mut h = Header {
            consts: HashMap::new(),
            checks: HashMap::new(),
            layouts: HashMap::new(),
            unparsed: HashMap::new(),
        };
        h.consts.insert("ETH_ALEN".into(), 6);
        // Enums and defines may refer to each other: iterate to a fixed point.
        for _ in 0..4 {
            for (name, val) in &defines {
                if let Some(v) = eval(val, &h.consts) {
                    h.consts.insert(name.clone(), v);
                }
            }
            h.scan_enums(&toks);
        }
        h.scan_checks(&toks);
        h.scan_structs(&toks);
        h
    }

    fn scan_enums(&mut self, t: &[Tok]) {
        let mut i = 0;
        while i < t.len() {
            if t[i] == Tok::Id("enum".into()) {
                let mut j = i + 1;
                if matches!(t.get(j), Some(Tok::Id(_))) {
                    j += 1;
                }
                if t.get(j) == Some(&Tok::P('{')) {
                    j += 1;
                    let mut next: Option<i64> = Some(0);
                    while j < t.len() && t[j] != Tok::P('}') {
                        let Some(Tok::Id(name)) = t.get(j).cloned() else {
                            j += 1;
                            continue;
                        };
                        j += 1;
                        let mut val = next;
                        if t.get(j) == Some(&Tok::P('=')) {
                            j += 1;
                            let st = j;
                            let mut depth = 0;
                            while j < t.len() {
                                match &t[j] {
                                    Tok::P('(') => depth += 1,
                                    Tok::P(')') => depth -= 1,
                                    Tok::P(',') | Tok::P('}') if depth == 0 => break,
                                    _ => {}
                                }
                                j += 1;
                            }
                            val = eval(&t[st..j], &self.consts);
                        }
                        if let Some(v) = val {
                            self.consts.insert(name, v);
                        }
                        next = val.map(|v| v + 1);
                        if t.get(j) == Some(&Tok::P(',')) {
                            j += 1;
                        }
                    }
                    i = j;
                }
            }
            i += 1;
        }
    }

    fn scan_checks(&mut self, t: &[Tok]) {
        for w in t.windows(6) {
            if let [Tok::Id(m), Tok::P('('), Tok::Num(n), Tok::P(','), Tok::Id(name), Tok::P(')')] =
                w
            {
                if m == "VIRTCHNL_CHECK_STRUCT_LEN" || m == "VIRTCHNL_CHECK_UNION_LEN" {
                    self.checks.insert(name.clone(), *n as usize);
                }
            }
        }
    }

    /// Find every top-level `struct NAME {` / `union NAME {` and lay it out.
    fn scan_structs(&mut self, t: &[Tok]) {
        let mut i = 0;
        while i + 2 < t.len() {
            let is_su = matches!(&t[i], Tok::Id(k) if k == "struct" || k == "union");
            if is_su {
                if let (Tok::Id(name), Tok::P('{')) = (&t[i + 1], &t[i + 2]) {
                    let is_union = t[i] == Tok::Id("union".into());
                    let mut j = i + 3;
                    match self.body(t, &mut j, is_union) {
                        Ok(l) => {
                            self.layouts.insert(name.clone(), l);
                        }
                        Err(e) => {
                            self.unparsed.insert(name.clone(), e);
                            // Skip to the matching brace.
                            let mut depth = 1;
                            j = i + 3;
                            while j < t.len() && depth > 0 {
                                match t[j] {
                                    Tok::P('{') => depth += 1,
                                    Tok::P('}') => depth -= 1,
                                    _ => {}
                                }
                                j += 1;
                            }
                        }
                    }
                    i = j;
                    continue;
                }
            }
            i += 1;
        }
    }

    /// Parse members up to the closing `}` (consumed) and compute the layout.
    fn body(&self, t: &[Tok], j: &mut usize, is_union: bool) -> Result<Layout, String> {
        let mut l = Layout {
            size: 0,
            align: 1,
            fields: Vec::new(),
        };
        loop {
            match t.get(*j) {
                None => return Err("unterminated body".into()),
                Some(Tok::P('}')) => {
                    *j += 1;
                    break;
                }
                _ => {}
            }
            // Member type.
            let (inner, anon_body): (Layout, bool) = match t.get(*j) {
                Some(Tok::Id(k)) if k == "struct" || k == "union" => {
                    let u = k == "union";
                    *j += 1;
                    match t.get(*j) {
                        Some(Tok::P('{')) => {
                            *j += 1;
                            (self.body(t, j, u)?, true)
                        }
                        Some(Tok::Id(n)) => {
                            *j += 1;
                            if t.get(*j) == Some(&Tok::P('{')) {
                                *j += 1;
                                (self.body(t, j, u)?, true)
                            } else {
                                let nl = self
                                    .layouts
                                    .get(n)
                                    .cloned()
                                    .ok_or(format!("unknown struct {n}"))?;
                                (nl, false)
                            }
                        }
                        _ => return Err("bad struct member".into()),
                    }
                }
                Some(Tok::Id(k)) if k == "enum" => {
                    *j += 2;
                    (
                        Layout {
                            size: 4,
                            align: 4,
                            fields: Vec::new(),
                        },
                        false,
                    )
                }
                Some(Tok::Id(k)) => {
                    let mut k = k.clone();
                    *j += 1;
                    while k == "const" || k == "volatile" || k == "unsigned" || k == "signed" {
                        match t.get(*j) {
                            Some(Tok::Id(n)) => {
                                k = n.clone();
                                *j += 1;
                            }
                            _ => return Err("bad type".into()),
                        }
                    }
                    let sz = scalar(&k).ok_or(format!("unknown type {k}"))?;
                    (
                        Layout {
                            size: sz,
                            align: sz,
                            fields: Vec::new(),
                        },
                        false,
                    )
                }
                other => return Err(format!("unexpected token {other:?}")),
            };
            // Declarators (possibly none for an anonymous struct/union).
            let mut declared = false;
            loop {
                match t.get(*j) {
                    Some(Tok::P(';')) => {
                        *j += 1;
                        break;
                    }
                    Some(Tok::P(',')) => {
                        *j += 1;
                    }
                    Some(Tok::Id(fname)) => {
                        let fname = fname.clone();
                        *j += 1;
                        let mut count = 1usize;
                        while t.get(*j) == Some(&Tok::P('[')) {
                            *j += 1;
                            let st = *j;
                            while *j < t.len() && t[*j] != Tok::P(']') {
                                *j += 1;
                            }
                            let dim = if st == *j {
                                0
                            } else {
                                eval(&t[st..*j], &self.consts)
                                    .ok_or(format!("array size of {fname}"))?
                                    as usize
                            };
                            count *= dim;
                            *j += 1;
                        }
                        if t.get(*j) == Some(&Tok::P(':')) {
                            return Err(format!("bitfield {fname}"));
                        }
                        Self::place(&mut l, &fname, &inner, count, is_union);
                        declared = true;
                    }
                    other => return Err(format!("unexpected declarator {other:?}")),
                }
            }
            if !declared && anon_body {
                // Anonymous struct/union: its members belong to this scope.
                let off = if is_union {
                    0
                } else {
                    align_up(l.size, inner.align)
                };
                for (p, o) in &inner.fields {
                    l.fields.push((p.clone(), off + o));
                }
                l.size = if is_union {
                    l.size.max(inner.size)
                } else {
                    off + inner.size
                };
                l.align = l.align.max(inner.align);
            }
        }
        l.size = align_up(l.size, l.align);
        Ok(l)
    }

    fn place(l: &mut Layout, name: &str, inner: &Layout, count: usize, is_union: bool) {
        let off = if is_union {
            0
        } else {
            align_up(l.size, inner.align)
        };
        l.fields.push((name.to_string(), off));
        for (p, o) in &inner.fields {
            l.fields.push((format!("{name}.{p}"), off + o));
        }
        let sz = inner.size * count;
        l.size = if is_union { l.size.max(sz) } else { off + sz };
        l.align = l.align.max(inner.align);
    }

    fn konst(&self, name: &str) -> Option<i64> {
        self.consts.get(name).copied()
    }
}

// ---------------------------------------------------------------------------
// What ravf defines, by C name
// ---------------------------------------------------------------------------

/// (C struct, ravf header size, ravf legacy size if the C struct ends in a
/// one-element array, the array member, [(C field path, ravf offset)])
type StructSpec = (
    &'static str,
    usize,
    Option<usize>,
    Option<&'static str>,
    Vec<(&'static str, usize)>,
);

fn ravf_structs() -> Vec<StructSpec> {
    use vc::*;
    vec![
        (
            "virtchnl_msg",
            size_of::<VirtchnlMsg>(),
            None,
            None,
            vec![
                ("pad", offset_of!(VirtchnlMsg, pad)),
                ("v_opcode", offset_of!(VirtchnlMsg, v_opcode)),
                ("v_retval", offset_of!(VirtchnlMsg, v_retval)),
                ("vfid", offset_of!(VirtchnlMsg, vfid)),
            ],
        ),
        (
            "virtchnl_version_info",
            size_of::<VersionInfo>(),
            None,
            None,
            vec![
                ("major", offset_of!(VersionInfo, major)),
                ("minor", offset_of!(VersionInfo, minor)),
            ],
        ),
        (
            "virtchnl_vsi_resource",
            size_of::<VsiResource>(),
            None,
            None,
            vec![
                ("vsi_id", offset_of!(VsiResource, vsi_id)),
                ("num_queue_pairs", offset_of!(VsiResource, num_queue_pairs)),
                ("vsi_type", offset_of!(VsiResource, vsi_type)),
                ("qset_handle", offset_of!(VsiResource, qset_handle)),
                (
                    "default_mac_addr",
                    offset_of!(VsiResource, default_mac_addr),
                ),
            ],
        ),
        (
            "virtchnl_vf_resource",
            size_of::<VfResourceHdr>(),
            Some(VF_RESOURCE_LEGACY_LEN),
            Some("vsi_res"),
            vec![
                ("num_vsis", offset_of!(VfResourceHdr, num_vsis)),
                (
                    "num_queue_pairs",
                    offset_of!(VfResourceHdr, num_queue_pairs),
                ),
                ("max_vectors", offset_of!(VfResourceHdr, max_vectors)),
                ("max_mtu", offset_of!(VfResourceHdr, max_mtu)),
                ("vf_cap_flags", offset_of!(VfResourceHdr, vf_cap_flags)),
                ("rss_key_size", offset_of!(VfResourceHdr, rss_key_size)),
                ("rss_lut_size", offset_of!(VfResourceHdr, rss_lut_size)),
            ],
        ),
        (
            "virtchnl_txq_info",
            size_of::<TxqInfo>(),
            None,
            None,
            vec![
                ("vsi_id", offset_of!(TxqInfo, vsi_id)),
                ("queue_id", offset_of!(TxqInfo, queue_id)),
                ("ring_len", offset_of!(TxqInfo, ring_len)),
                ("headwb_enabled", offset_of!(TxqInfo, headwb_enabled)),
                ("dma_ring_addr", offset_of!(TxqInfo, dma_ring_addr)),
                ("dma_headwb_addr", offset_of!(TxqInfo, dma_headwb_addr)),
            ],
        ),
        (
            // pad1 is not compared: bytes 20..24 are `u32 pad1` in older headers and
            // crc_disable/rxdid/flags/pad1 in newer ones (ravf writes zeros there).
            "virtchnl_rxq_info",
            size_of::<RxqInfo>(),
            None,
            None,
            vec![
                ("vsi_id", offset_of!(RxqInfo, vsi_id)),
                ("queue_id", offset_of!(RxqInfo, queue_id)),
                ("ring_len", offset_of!(RxqInfo, ring_len)),
                ("hdr_size", offset_of!(RxqInfo, hdr_size)),
                ("splithdr_enabled", offset_of!(RxqInfo, splithdr_enabled)),
                ("databuffer_size", offset_of!(RxqInfo, databuffer_size)),
                ("max_pkt_size", offset_of!(RxqInfo, max_pkt_size)),
                ("dma_ring_addr", offset_of!(RxqInfo, dma_ring_addr)),
                ("rx_split_pos", offset_of!(RxqInfo, rx_split_pos)),
                ("pad2", offset_of!(RxqInfo, pad2)),
            ],
        ),
        (
            "virtchnl_queue_pair_info",
            size_of::<QueuePairInfo>(),
            None,
            None,
            vec![
                ("txq", offset_of!(QueuePairInfo, txq)),
                ("rxq", offset_of!(QueuePairInfo, rxq)),
            ],
        ),
        (
            "virtchnl_vsi_queue_config_info",
            size_of::<VsiQueueConfigHdr>(),
            Some(VSI_QUEUE_CONFIG_LEGACY_LEN),
            Some("qpair"),
            vec![
                ("vsi_id", offset_of!(VsiQueueConfigHdr, vsi_id)),
                (
                    "num_queue_pairs",
                    offset_of!(VsiQueueConfigHdr, num_queue_pairs),
                ),
            ],
        ),
        (
            "virtchnl_vector_map",
            size_of::<VectorMap>(),
            None,
            None,
            vec![
                ("vsi_id", offset_of!(VectorMap, vsi_id)),
                ("vector_id", offset_of!(VectorMap, vector_id)),
                ("rxq_map", offset_of!(VectorMap, rxq_map)),
                ("txq_map", offset_of!(VectorMap, txq_map)),
                ("rxitr_idx", offset_of!(VectorMap, rxitr_idx)),
                ("txitr_idx", offset_of!(VectorMap, txitr_idx)),
            ],
        ),
        (
            "virtchnl_irq_map_info",
            size_of::<IrqMapHdr>(),
            Some(IRQ_MAP_LEGACY_LEN),
            Some("vecmap"),
            vec![("num_vectors", offset_of!(IrqMapHdr, num_vectors))],
        ),
        (
            "virtchnl_queue_select",
            size_of::<QueueSelect>(),
            None,
            None,
            vec![
                ("vsi_id", offset_of!(QueueSelect, vsi_id)),
                ("pad", offset_of!(QueueSelect, pad)),
                ("rx_queues", offset_of!(QueueSelect, rx_queues)),
                ("tx_queues", offset_of!(QueueSelect, tx_queues)),
            ],
        ),
        (
            "virtchnl_ether_addr",
            size_of::<EtherAddr>(),
            None,
            None,
            vec![
                ("addr", offset_of!(EtherAddr, addr)),
                ("type", offset_of!(EtherAddr, type_)),
                ("pad", offset_of!(EtherAddr, pad)),
            ],
        ),
        (
            "virtchnl_ether_addr_list",
            size_of::<EtherAddrListHdr>(),
            Some(ETHER_ADDR_LIST_LEGACY_LEN),
            Some("list"),
            vec![
                ("vsi_id", offset_of!(EtherAddrListHdr, vsi_id)),
                ("num_elements", offset_of!(EtherAddrListHdr, num_elements)),
            ],
        ),
        (
            "virtchnl_vlan_filter_list",
            size_of::<VlanFilterListHdr>(),
            Some(VLAN_FILTER_LIST_LEGACY_LEN),
            Some("vlan_id"),
            vec![
                ("vsi_id", offset_of!(VlanFilterListHdr, vsi_id)),
                ("num_elements", offset_of!(VlanFilterListHdr, num_elements)),
            ],
        ),
        (
            "virtchnl_promisc_info",
            size_of::<PromiscInfo>(),
            None,
            None,
            vec![
                ("vsi_id", offset_of!(PromiscInfo, vsi_id)),
                ("flags", offset_of!(PromiscInfo, flags)),
            ],
        ),
        (
            "virtchnl_eth_stats",
            size_of::<EthStatsWire>(),
            None,
            None,
            vec![
                ("rx_bytes", offset_of!(EthStatsWire, rx_bytes)),
                ("rx_discards", offset_of!(EthStatsWire, rx_discards)),
                ("tx_bytes", offset_of!(EthStatsWire, tx_bytes)),
                ("tx_errors", offset_of!(EthStatsWire, tx_errors)),
            ],
        ),
        (
            "virtchnl_rss_key",
            size_of::<RssKeyHdr>(),
            Some(RSS_KEY_LEGACY_LEN),
            Some("key"),
            vec![
                ("vsi_id", offset_of!(RssKeyHdr, vsi_id)),
                ("key_len", offset_of!(RssKeyHdr, key_len)),
            ],
        ),
        (
            "virtchnl_rss_lut",
            size_of::<RssLutHdr>(),
            Some(RSS_LUT_LEGACY_LEN),
            Some("lut"),
            vec![
                ("vsi_id", offset_of!(RssLutHdr, vsi_id)),
                ("lut_entries", offset_of!(RssLutHdr, lut_entries)),
            ],
        ),
        (
            "virtchnl_rss_hena",
            size_of::<RssHena>(),
            None,
            None,
            vec![("hena", offset_of!(RssHena, hena))],
        ),
        (
            "virtchnl_vf_res_request",
            size_of::<VfResRequest>(),
            None,
            None,
            vec![("num_queue_pairs", offset_of!(VfResRequest, num_queue_pairs))],
        ),
        (
            "virtchnl_pf_event",
            size_of::<PfEvent>(),
            None,
            None,
            vec![
                ("event", offset_of!(PfEvent, event)),
                ("event_data", offset_of!(PfEvent, link_speed)),
                (
                    "event_data.link_event.link_speed",
                    offset_of!(PfEvent, link_speed),
                ),
                (
                    "event_data.link_event.link_status",
                    offset_of!(PfEvent, link_status),
                ),
                (
                    "event_data.link_event_adv.link_speed",
                    offset_of!(PfEvent, link_speed),
                ),
                (
                    "event_data.link_event_adv.link_status",
                    offset_of!(PfEvent, link_status),
                ),
                ("severity", offset_of!(PfEvent, severity)),
            ],
        ),
    ]
}

/// Structs that every virtchnl.h generation has (the others, e.g. eth_stats, may
/// live in the drivers' own headers).
const REQUIRED_STRUCTS: &[&str] = &[
    "virtchnl_msg",
    "virtchnl_version_info",
    "virtchnl_vsi_resource",
    "virtchnl_vf_resource",
    "virtchnl_txq_info",
    "virtchnl_rxq_info",
    "virtchnl_queue_pair_info",
    "virtchnl_vsi_queue_config_info",
    "virtchnl_vector_map",
    "virtchnl_irq_map_info",
    "virtchnl_queue_select",
    "virtchnl_ether_addr",
    "virtchnl_ether_addr_list",
    "virtchnl_vlan_filter_list",
    "virtchnl_promisc_info",
    "virtchnl_rss_key",
    "virtchnl_rss_lut",
    "virtchnl_rss_hena",
    "virtchnl_vf_res_request",
    "virtchnl_pf_event",
];

fn ravf_consts() -> Vec<(String, i64)> {
    let mut v: Vec<(String, i64)> = Vec::new();
    for (op, name) in VcOp::ALL.iter() {
        v.push((name.to_string(), op.0 as i64));
    }
    for (val, name) in vc::status::ALL.iter() {
        v.push((name.to_string(), *val as i64));
    }
    for (mask, name) in VfCaps::NAMED.iter() {
        v.push((name.to_string(), *mask as i64));
    }
    for (val, name) in vc::link_speed::ALL.iter() {
        v.push((name.to_string(), *val as i64));
    }
    let more: [(&str, i64); 21] = [
        ("VIRTCHNL_EVENT_UNKNOWN", vc::event::UNKNOWN as i64),
        ("VIRTCHNL_EVENT_LINK_CHANGE", vc::event::LINK_CHANGE as i64),
        (
            "VIRTCHNL_EVENT_RESET_IMPENDING",
            vc::event::RESET_IMPENDING as i64,
        ),
        (
            "VIRTCHNL_EVENT_PF_DRIVER_CLOSE",
            vc::event::PF_DRIVER_CLOSE as i64,
        ),
        ("PF_EVENT_SEVERITY_INFO", vc::event::SEVERITY_INFO as i64),
        (
            "PF_EVENT_SEVERITY_CERTAIN_DOOM",
            vc::event::SEVERITY_CERTAIN_DOOM as i64,
        ),
        ("VIRTCHNL_VERSION_MAJOR", vc::VERSION_MAJOR as i64),
        ("VIRTCHNL_VERSION_MINOR", vc::VERSION_MINOR as i64),
        (
            "VIRTCHNL_VERSION_MINOR_NO_VF_CAPS",
            vc::VERSION_MINOR_NO_VF_CAPS as i64,
        ),
        ("VIRTCHNL_VSI_TYPE_INVALID", vc::VSI_TYPE_INVALID as i64),
        ("VIRTCHNL_VSI_SRIOV", vc::VSI_SRIOV as i64),
        ("VIRTCHNL_ETHER_ADDR_LEGACY", vc::ETHER_ADDR_LEGACY as i64),
        ("VIRTCHNL_ETHER_ADDR_PRIMARY", vc::ETHER_ADDR_PRIMARY as i64),
        ("VIRTCHNL_ETHER_ADDR_EXTRA", vc::ETHER_ADDR_EXTRA as i64),
        (
            "FLAG_VF_UNICAST_PROMISC",
            vc::FLAG_VF_UNICAST_PROMISC as i64,
        ),
        (
            "FLAG_VF_MULTICAST_PROMISC",
            vc::FLAG_VF_MULTICAST_PROMISC as i64,
        ),
        ("VIRTCHNL_VFR_INPROGRESS", ravf::regs::VFR_INPROGRESS as i64),
        ("VIRTCHNL_VFR_COMPLETED", ravf::regs::VFR_COMPLETED as i64),
        ("VIRTCHNL_VFR_VFACTIVE", ravf::regs::VFR_VFACTIVE as i64),
        ("VF_BASE_MODE_OFFLOADS", VfCaps::BASE_MODE.bits() as i64),
        ("VIRTCHNL_OP_EVENT", VcOp::EVENT.0 as i64),
    ];
    for (n, x) in more {
        v.push((n.to_string(), x));
    }
    v
}

/// Names that newer headers renamed (old name → accepted new name).
const RENAMED: &[(&str, &str)] = &[
    ("VIRTCHNL_VF_OFFLOAD_IWARP", "VIRTCHNL_VF_OFFLOAD_RDMA"),
    (
        "VIRTCHNL_OP_GET_RSS_HENA_CAPS",
        "VIRTCHNL_OP_GET_RSS_HASHCFG_CAPS",
    ),
    ("VIRTCHNL_OP_SET_RSS_HENA", "VIRTCHNL_OP_SET_RSS_HASHCFG"),
];

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

#[test]
fn parser_agrees_with_the_headers_own_size_checks() {
    let Some((path, h)) = load() else { return };
    let mut checked = 0;
    let mut errs = Vec::new();
    for (name, want) in &h.checks {
        if let Some(l) = h.layouts.get(name) {
            checked += 1;
            if l.size != *want {
                errs.push(format!(
                    "{name}: computed {} but CHECK_STRUCT_LEN says {want}",
                    l.size
                ));
            }
        }
    }
    assert!(
        errs.is_empty(),
        "{}: layout parser disagrees with the header:\n{}",
        path.display(),
        errs.join("\n")
    );
    // The structs ravf uses must all be computable.
    for s in REQUIRED_STRUCTS {
        assert!(
            h.layouts.contains_key(*s),
            "{}: could not lay out {s}: {:?}",
            path.display(),
            h.unparsed.get(*s)
        );
    }
    assert!(checked >= 15, "only {checked} structs checked");
}

#[test]
fn struct_sizes_and_offsets_match() {
    let Some((path, h)) = load() else { return };
    let mut errs = Vec::new();
    for (cname, hdr_size, legacy, array, fields) in ravf_structs() {
        let Some(l) = h.layouts.get(cname) else {
            if REQUIRED_STRUCTS.contains(&cname) {
                errs.push(format!("{cname}: not found in the header"));
            } else {
                eprintln!(
                    "note: {cname} is not in {} (checked by its CHECK-less size only)",
                    path.display()
                );
            }
            continue;
        };
        // Size: either the header has the legacy one-element array (size == legacy)
        // or a flexible array (size == ravf's header struct).
        let size_ok = l.size == hdr_size || legacy == Some(l.size);
        if !size_ok {
            errs.push(format!(
                "{cname}: header size {} vs ravf {hdr_size} (legacy {legacy:?})",
                l.size
            ));
        }
        if let Some(n) = h.checks.get(cname) {
            if !(*n == hdr_size || legacy == Some(*n)) {
                errs.push(format!(
                    "{cname}: CHECK_STRUCT_LEN {n} vs ravf {hdr_size}/{legacy:?}"
                ));
            }
        }
        if let Some(a) = array {
            match l.offset(a) {
                Some(o) if o == hdr_size => {}
                other => errs.push(format!(
                    "{cname}.{a}: header offset {other:?}, ravf header size {hdr_size}"
                )),
            }
        }
        for (f, off) in fields {
            match l.offset(f) {
                Some(o) if o == off => {}
                other => errs.push(format!(
                    "{cname}.{f}: header offset {other:?} vs ravf {off}"
                )),
            }
        }
    }
    assert!(
        errs.is_empty(),
        "{} disagrees with ravf::virtchnl:\n{}",
        path.display(),
        errs.join("\n")
    );
}

#[test]
fn constants_match() {
    let Some((path, h)) = load() else { return };
    let mut errs = Vec::new();
    for (name, val) in ravf_consts() {
        let got = h.konst(&name).or_else(|| {
            RENAMED
                .iter()
                .find(|(old, _)| *old == name)
                .and_then(|(_, new)| h.konst(new))
        });
        match got {
            Some(v) if v == val => {}
            Some(v) => errs.push(format!("{name}: header {v} vs ravf {val}")),
            None => errs.push(format!("{name}: not found in the header")),
        }
    }
    assert!(
        errs.is_empty(),
        "{} disagrees with ravf:\n{}",
        path.display(),
        errs.join("\n")
    );
}

#[test]
fn parser_self_test() {
    // Independent of the installed header: a tiny header written here.
    let h = Header::parse(
        "#define N 3\n#define F BIT(4)\n\
         enum e { A = -5, B, C = F | 1 };\n\
         struct in { u8 a; u32 b; };\n\
         struct s { u16 x; struct in y[N]; union { struct { u32 sp; bool st; } le; u8 raw[8]; } u; int sev; u8 t[]; };\n\
         VIRTCHNL_CHECK_STRUCT_LEN(40, s);\n",
    );
    assert_eq!(h.konst("A"), Some(-5));
    assert_eq!(h.konst("B"), Some(-4));
    assert_eq!(h.konst("C"), Some(17));
    let s = &h.layouts["s"];
    assert_eq!(s.offset("y"), Some(4));
    assert_eq!(s.offset("y.b"), Some(8));
    assert_eq!(s.offset("u"), Some(28));
    assert_eq!(s.offset("u.le.st"), Some(32));
    assert_eq!(s.offset("sev"), Some(36));
    assert_eq!(s.offset("t"), Some(40));
    assert_eq!(s.size, 40);
    assert_eq!(h.checks["s"], 40);
}
