#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Keep the C side of the module in step with the Rust mirrors.

  abi-gen.py            write kmod/ravf_abi.c from the layout and constant assertions in
                        sys/src/*.rs and ffi/src/sysctl.rs
  abi-gen.py --check    fail if kmod/ravf_abi.c is stale, or if the C shim and the KPI seam
                        disagree: every function ffi/src/kpi.rs imports must be defined in
                        kmod/*.c (ravf_kpi_*) or listed in kmod/kpi-allowlist.txt, every
                        ravf_kpi_* the C defines must be imported by kpi.rs, and each
                        ravf_kpi_* / ravf_sysctl_* / ravf_admin_task must have the same
                        parameter and return types on both sides
  abi-gen.py --check-sigs IFDI_IF_H IFLIB_H
                        compare the Rust exports ravf_if_<m> with the ifdi_<m>_t typedefs of
                        the generated ifdi_if.h, and ravf_isc_<cb> with the ift_<cb> members
                        of struct if_txrx in iflib.h (run by kmod/fbsd-compile.sh: the C
                        compiler checks the C side of these tables, this checks the Rust side)

ravf_abi.c is compiled into if_ravf.ko: each Rust `size_of`/`offset_of`/`align_of`
assertion becomes a C11 _Static_assert against the installed FreeBSD headers, and each
constant the Rust side copies from a FreeBSD header becomes `_Static_assert(NAME == value)`.
A FreeBSD release whose headers differ therefore fails the module build instead of
corrupting memory at run time.
"""

import argparse
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "kmod", "ravf_abi.c")

# Rust mirror type -> the C type it mirrors.
C_TYPES = {
    "bus_dma_segment": "bus_dma_segment_t",
    "if_rxd_frag": "struct if_rxd_frag",
    "if_rxd_info": "struct if_rxd_info",
    "if_rxd_update": "struct if_rxd_update",
    "if_pkt_info": "struct if_pkt_info",
    "if_irq": "struct if_irq",
    "pci_vendor_info": "pci_vendor_info_t",
    "if_txrx": "struct if_txrx",
    "if_softc_ctx": "struct if_softc_ctx",
    "if_shared_ctx": "struct if_shared_ctx",
    "iflib_dma_info": "struct iflib_dma_info",
    "ifmediareq": "struct ifmediareq",
    "RavfSoftc": "struct ravf_softc",
    "RavfTunables": "struct ravf_tunables",
    "RavfSysctlDesc": "struct ravf_sysctl_desc",
}

# Rust-only padding fields (C pads implicitly).
SKIP_FIELDS = {("if_shared_ctx", "_pad_nfl")}

# Rust constants checked under another C name.
CONST_ALIASES = {"RAVF_SYSCTL_ENOENT": "ENOENT"}

# Our own constants that kmod/ravf.h defines too (checked like the FreeBSD ones).
OWN_CONSTS = re.compile(r"^RAVF_SYSCTL_(NODE_[A-Z]+|U64|RWINT|STR)$")

# Constants the Rust side defines that are not (or not as such) in a FreeBSD header.
SKIP_CONSTS = {
    # iflib.c (not a header): the most buffers one rxd_refill call passes.
    "IFLIB_MAX_RX_REFRESH",
    # Helpers derived in Rust from header macros, asserted through their inputs.
    "IFM_ETH_XSHIFT",
}

SOURCES = ["sys/src/iflib.rs", "sys/src/softc.rs", "sys/src/consts.rs", "ffi/src/sysctl.rs"]

HEADERS = """\
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/bus.h>
#include <sys/errno.h>
#include <sys/kernel.h>
#include <sys/malloc.h>
#include <sys/mbuf.h>
#include <sys/socket.h>
#include <sys/sockio.h>
#include <sys/stddef.h>

#include <machine/bus.h>

#include <net/ethernet.h>
#include <net/if.h>
#include <net/if_var.h>
#include <net/if_media.h>
#include <net/iflib.h>

#include "ravf.h"
"""


def read(rel):
    path = os.path.join(ROOT, rel)
    if not os.path.exists(path):
        return ""
    with open(path) as f:
        return f.read()


def strip_comments(text):
    return re.sub(r"//[^\n]*", "", text)


def eval_consts(texts):
    """Evaluate `pub const NAME: T = EXPR;` in file order, like the compiler would."""
    env = {}

    def ifm_x(x):
        return (x & env["IFM_TMASK"]) | ((x & (env["IFM_ETH_XTYPE"] >> env["IFM_ETH_XSHIFT"]))
                                         << env["IFM_ETH_XSHIFT"])

    order = []
    for text in texts:
        ints = r"(?:c_int|c_uint|u8|u16|u32|u64|usize|i8|i16|i32|i64)"
        for m in re.finditer(r"pub const ([A-Z][A-Z0-9_]*): " + ints + r" = (.*?);", text, re.S):
            name, expr = m.group(1), " ".join(m.group(2).split())
            py = re.sub(r"\bas \w+", "", expr)
            try:
                val = eval(py, {"__builtins__": {}, "ifm_x": ifm_x}, env)  # noqa: S307
            except Exception as e:  # pragma: no cover - reported, not hidden
                raise SystemExit(f"abi-gen: cannot evaluate {name} = {expr}: {e}")
            env[name] = val
            order.append(name)
    return env, order


def cfg_of(text, pos):
    """The FreeBSD-version condition of the assertion starting at `pos`: the
    `#[cfg(feature = "freebsd15")]` or `#[cfg(not(feature = "freebsd15"))]` attribute on
    the line above it, as "15", "14" or None (all versions)."""
    before = text[:pos].rstrip().splitlines()
    prev = before[-1].strip() if before else ""
    if re.fullmatch(r'#\[cfg\(not\(feature\s*=\s*"freebsd15"\)\)\]', prev):
        return "14"
    if re.fullmatch(r'#\[cfg\(feature\s*=\s*"freebsd15"\)\]', prev):
        return "15"
    return None


def layout_asserts(texts, env):
    out = []
    pats = [
        (r"const_assert_eq!\(\s*size_of::<(\w+)>\(\),\s*(\w+)\s*\)", "size"),
        (r"const_assert_eq!\(\s*align_of::<(\w+)>\(\),\s*(\w+)\s*\)", "align"),
        (r"const_assert_eq!\(\s*offset_of!\((\w+),\s*(\w+)\),\s*(\w+)\s*\)", "offset"),
        (r"assert!\(\s*size_of::<(\w+)>\(\)\s*==\s*(\w+)\s*\)", "size"),
        (r"assert!\(\s*align_of::<(\w+)>\(\)\s*==\s*(\w+)\s*\)", "align"),
        (r"assert!\(\s*offset_of!\((\w+),\s*(\w+)\)\s*==\s*(\w+)\s*\)", "offset"),
    ]
    for text in texts:
        for pat, kind in pats:
            for m in re.finditer(pat, text):
                g = m.groups()
                ty = g[0]
                if ty not in C_TYPES:
                    raise SystemExit(f"abi-gen: no C type known for Rust type {ty}; "
                                     f"add it to C_TYPES in kmod/abi-gen.py")
                raw = g[-1]
                val = int(raw, 0) if raw[0].isdigit() else env.get(raw)
                if val is None:
                    raise SystemExit(f"abi-gen: cannot resolve {raw} in an assertion on {ty}")
                cfg = cfg_of(text, m.start())
                if kind == "offset":
                    if (ty, g[1]) in SKIP_FIELDS:
                        continue
                    out.append((ty, kind, g[1], val, cfg))
                else:
                    out.append((ty, kind, None, val, cfg))
    # Stable order: by type as first seen, sizes first, then offsets by value.
    seen = []
    for ty, *_ in out:
        if ty not in seen:
            seen.append(ty)
    rank = {"size": 0, "align": 1, "offset": 2}
    uniq = sorted(set(out), key=lambda a: (seen.index(a[0]), rank[a[1]], a[3], a[2] or "",
                                           a[4] or ""))
    return uniq


def generate():
    texts = [strip_comments(read(s)) for s in SOURCES]
    env, order = eval_consts(texts)
    lines = [
        "/*-",
        " * SPDX-License-Identifier: BSD-2-Clause",
        " *",
        " * GENERATED by kmod/abi-gen.py from " + ", ".join(SOURCES) + ";",
        " * do not edit. `make kmod-check` fails when this file is stale.",
        " *",
        " * Every layout and constant the Rust side mirrors, checked against the FreeBSD",
        " * headers this module is built with: a mismatch stops the build here.",
        " */",
        "",
        HEADERS,
        "#define\tRAVF_SIZE(t, n)\t\t_Static_assert(sizeof(t) == (n), \"sizeof(\" #t \")\")",
        "#define\tRAVF_ALIGN(t, n)\t_Static_assert(_Alignof(t) == (n), \"_Alignof(\" #t \")\")",
        "#define\tRAVF_OFF(t, f, n)\t_Static_assert(offsetof(t, f) == (n), \\",
        "\t\t\t\t    \"offsetof(\" #t \", \" #f \")\")",
        "#define\tRAVF_CONST(c, n)\t_Static_assert((c) == (n), #c)",
        "",
        "/* Layouts (sys/src/iflib.rs, sys/src/softc.rs, ffi/src/sysctl.rs). */",
    ]
    # Assertions under #[cfg(feature = "freebsd15")] / not(...) hold only for that
    # release line: build-rust.sh turns the feature on for __FreeBSD_version >= 1500000.
    guards = {"14": "#if __FreeBSD_version < 1500000", "15": "#if __FreeBSD_version >= 1500000"}
    for ty, kind, field, val, cfg in layout_asserts(texts, env):
        cty = C_TYPES[ty]
        if kind == "size":
            line = f"RAVF_SIZE({cty}, {val});"
        elif kind == "align":
            line = f"RAVF_ALIGN({cty}, {val});"
        else:
            line = f"RAVF_OFF({cty}, {field}, {val});"
        if cfg:
            lines += [guards[cfg], line, "#endif"]
        else:
            lines.append(line)
    lines += ["", "/* Constants (sys/src/consts.rs, ffi/src/sysctl.rs). */"]
    for name in order:
        cname = CONST_ALIASES.get(name, name)
        if name in SKIP_CONSTS or (cname.startswith("RAVF_") and not OWN_CONSTS.match(cname)):
            continue
        val = env[name]
        lit = f"{val:#x}" if val >= 0 else str(val)
        lines.append(f"RAVF_CONST({cname}, {lit});")
    return "\n".join(lines) + "\n"


def check_kpi():
    """kpi.rs imports vs. C definitions vs. the allowlist."""
    problems = []
    kpi = strip_comments(read("ffi/src/kpi.rs"))
    imports = set(re.findall(r"\bpub fn (\w+)\s*\(", kpi))
    c_src = ""
    kdir = os.path.join(ROOT, "kmod")
    for fn in sorted(os.listdir(kdir)):
        if fn.endswith(".c"):
            c_src += read(os.path.join("kmod", fn))
    # Global function definitions in BSD style: the name starts a line, and the line
    # above (the return type) does not start with "static".
    c_defs = set()
    lines = c_src.splitlines()
    for i, line in enumerate(lines):
        m = re.match(r"^(\w+)\(", line)
        if m and i > 0 and not lines[i - 1].startswith("static"):
            c_defs.add(m.group(1))
    allow = set()
    for line in read("kmod/kpi-allowlist.txt").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            allow.add(line.split()[0])
    for name in sorted(imports):
        if name.startswith("ravf_kpi_"):
            if name not in c_defs:
                problems.append(f"kpi.rs imports {name}, no kmod/*.c defines it")
        elif name not in allow:
            problems.append(f"kpi.rs imports {name}, which kmod/kpi-allowlist.txt lacks")
    for name in sorted(d for d in c_defs if d.startswith("ravf_kpi_")):
        if name not in imports:
            problems.append(f"kmod/*.c defines {name}, which ffi/src/kpi.rs does not import")
    return problems, len(imports)


# ---- signatures -------------------------------------------------------------------------

# Both sides are reduced to one spelling: Rust primitive names, `*mut T` / `*const T`.
C_SCALARS = {
    "void": "()", "int": "c_int", "u_int": "c_uint", "unsigned": "c_uint",
    "unsigned int": "c_uint", "uint8_t": "u8", "uint16_t": "u16", "uint32_t": "u32",
    "uint64_t": "u64", "int32_t": "i32", "size_t": "usize", "bool": "bool", "char": "c_char",
    "qidx_t": "u16", "enum iflib_restart_event": "iflib_restart_event",
}
R_ALIASES = {"qidx_t": "u16", "i32": "c_int", "c_void": "c_void"}


def c_type(t):
    """A C parameter or return type (name already removed) in the common spelling."""
    t = " ".join(t.replace("*", " * ").split())
    ptrs = t.count("*")
    base = t.replace("*", "").strip()
    const = base.startswith("const ")
    base = base.removeprefix("const ").strip()
    base = base.removeprefix("struct ").strip()
    base = C_SCALARS.get(base, base)
    if base == "()" and ptrs:
        base = "c_void"
    for i in range(ptrs):
        base = ("*const " if const and i == 0 else "*mut ") + base
    return base


def c_param(p):
    """Drop the parameter name from a C parameter declaration."""
    p = " ".join(p.split())
    if p in ("", "void"):
        return None
    m = re.match(r"^(.*?[\s*])(_?[A-Za-z_]\w*)$", p)
    if m and m.group(1).strip() and m.group(1).strip() not in ("struct", "enum", "const"):
        # "uint16_t qsidx" -> "uint16_t", "caddr_t *_vaddrs" -> "caddr_t *", but
        # "uint16_t" alone stays.
        head = m.group(1).strip()
        if head.split()[-1] not in ("struct", "enum") and not (
                head in ("unsigned",) and m.group(2) == "int"):
            return c_type(head)
    return c_type(p)


def r_type(t):
    t = " ".join(t.split())
    t = re.sub(r"(::)?core::ffi::", "", t)
    t = re.sub(r"(::)?ravf_sys::", "", t)
    # Paths inside the crate: `crate::sysctl::RavfTunables` -> `RavfTunables`.
    t = re.sub(r"\b(?:crate|self|super|\$crate)::(?:\w+::)*", "", t)
    m = re.match(r"^\*(mut|const)\s+(.*)$", t)
    if m:
        return f"*{m.group(1)} " + r_type(m.group(2))
    if t == "!":
        return "()"
    if t.startswith("Ravf") and t in C_TYPES:
        return C_TYPES[t].removeprefix("struct ")
    return R_ALIASES.get(t, t)


def split_params(s):
    out, depth, cur = [], 0, ""
    for ch in s:
        if ch in "<(":
            depth += 1
        elif ch in ">)":
            depth -= 1
        if ch == "," and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    if cur.strip():
        out.append(cur)
    return [x.strip() for x in out if x.strip()]


def rust_fns(texts):
    """name -> (params, ret) of `pub [unsafe] extern "C" fn` definitions and of the
    `pub fn` declarations inside `extern "C"` blocks."""
    fns = {}
    for text in texts:
        text = strip_comments(text)
        for m in re.finditer(r"(?:pub\s+)?(?:unsafe\s+)?extern\s+\"C\"\s+fn\s+(\w+)\s*\((.*?)\)"
                             r"\s*(?:->\s*([^{;]+?))?\s*\{", text, re.S):
            fns[m.group(1)] = m
        for blk in re.finditer(r"extern\s+\"C\"\s*\{(.*?)\n\}", text, re.S):
            for m in re.finditer(r"\bfn\s+(\w+)\s*\((.*?)\)\s*(?:->\s*([^;]+?))?\s*;",
                                 blk.group(1), re.S):
                fns[m.group(1)] = m
    out = {}
    for name, m in fns.items():
        params = [r_type(p.split(":", 1)[1]) for p in split_params(m.group(2))]
        ret = r_type(m.group(3)) if m.group(3) else "()"
        out[name] = (params, ret)
    return out


def c_protos(text):
    """name -> (params, ret) of C prototypes and function typedefs in `text`."""
    out = {}
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    for m in re.finditer(r"^(?:typedef\s+)?([A-Za-z_][\w ]*?[\s*]+)(\w+)\s*\(([^;{)]*)\)\s*"
                         r"(?:__dead2\s*)?;", text, re.M):
        ret, name, params = m.group(1), m.group(2), m.group(3)
        if ret.strip() in ("return", "else"):
            continue
        ps = [c_param(p) for p in params.split(",")]
        out[name] = ([p for p in ps if p is not None], c_type(ret.strip()))
    return out


def compare(pairs):
    problems = []
    for label, rs, cs in pairs:
        if rs is None:
            problems.append(f"{label}: no Rust definition")
        elif cs is None:
            problems.append(f"{label}: no C prototype")
        elif rs != cs:
            problems.append(f"{label}: Rust {rs[0]} -> {rs[1]}, C {cs[0]} -> {cs[1]}")
    return problems


def ffi_texts():
    d = os.path.join(ROOT, "ffi", "src")
    return [read(os.path.join("ffi", "src", f)) for f in sorted(os.listdir(d)) if f.endswith(".rs")]


def check_seam_sigs():
    """ravf_kpi_* (C defines, Rust imports) and the Rust exports C declares in ravf.h."""
    rs = rust_fns(ffi_texts())
    cs = {}
    for f in ("kmod/ravf.h", "kmod/ravf_kpi.c"):
        cs.update(c_protos(read(f)))
    names = sorted(n for n in cs if n.startswith(("ravf_kpi_", "ravf_sysctl_"))
                   or n in ("ravf_admin_task", "ravf_set_detaching"))
    names = [n for n in names if n not in ("ravf_sysctl_attach", "ravf_sysctl_detach")]
    return compare([(n, rs.get(n), cs.get(n)) for n in names]), len(names)


def check_iflib_sigs(ifdi_h, iflib_h):
    rs = rust_fns(ffi_texts())
    with open(ifdi_h) as f:
        typedefs = c_protos(f.read())
    pairs = []
    for name in sorted(n for n in rs if n.startswith("ravf_if_")):
        pairs.append((name, rs[name], typedefs.get("ifdi_" + name[len("ravf_if_"):] + "_t")))
    with open(iflib_h) as f:
        txt = f.read()
    m = re.search(r"typedef struct if_txrx \{(.*?)\}", txt, re.S)
    members = {}
    if m:
        for mm in re.finditer(r"([\w ]+?[\s*]+)\(\s*\*\s*(ift_\w+)\s*\)\s*\(([^;]*)\)\s*;", m.group(1)):
            members[mm.group(2)] = ([p for p in (c_param(x) for x in mm.group(3).split(","))
                                     if p is not None], c_type(mm.group(1).strip()))
    for name in sorted(n for n in rs if n.startswith("ravf_isc_")):
        pairs.append((name, rs[name], members.get("ift_" + name[len("ravf_isc_"):])))
    return compare(pairs), len(pairs)


def selftest():
    """The signature comparison must see an argument swap and a narrowed integer."""
    rs = rust_fns(["""extern "C" {
    pub fn ravf_kpi_log(dev: device_t, msg: *const c_char, level: c_int, len: usize);
    pub fn ravf_kpi_rd32(bar: *mut c_void, off: u32) -> u32;
}
#[no_mangle]
pub unsafe extern "C" fn ravf_if_timer(ctx: if_ctx_t, qid: u32) {}
pub unsafe extern "C" fn ravf_isc_txd_flush(sc: *mut core::ffi::c_void, q: u16, pidx: qidx_t) {}
"""])
    cs = c_protos("""void ravf_kpi_log(device_t dev, int level, const char *msg, size_t len);
uint32_t ravf_kpi_rd32(void *bar, uint32_t off);
typedef void ifdi_timer_t(if_ctx_t _ctx, uint16_t _txqid);
typedef void flush_t(void *, uint16_t, qidx_t pidx);
""")
    got = [
        bool(compare([("log", rs["ravf_kpi_log"], cs["ravf_kpi_log"])])),
        bool(compare([("rd32", rs["ravf_kpi_rd32"], cs["ravf_kpi_rd32"])])),
        bool(compare([("timer", rs["ravf_if_timer"], cs["ifdi_timer_t"])])),
        bool(compare([("flush", rs["ravf_isc_txd_flush"], cs["flush_t"])])),
    ]
    want = [True, False, True, False]
    ok = got == want
    print(f"  {'ok  ' if ok else 'FAIL'}  selftest signature comparison: mismatches found {got}, "
          f"expected {want}")
    return 0 if ok else 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--check-sigs", nargs=2, metavar=("IFDI_IF_H", "IFLIB_H"))
    ap.add_argument("--selftest", action="store_true")
    args = ap.parse_args()
    if args.selftest:
        return selftest()
    if args.check_sigs:
        problems, n = check_iflib_sigs(*args.check_sigs)
        if problems:
            print("  FAIL  sigs     Rust ifdi/if_txrx exports differ from the FreeBSD headers")
            for p in problems:
                print(f"          {p}")
            return 1
        print(f"  ok    sigs     {n} ravf_if_*/ravf_isc_* exports match ifdi_if.h and iflib.h")
        return 0
    text = generate()
    if not args.check:
        with open(OUT, "w") as f:
            f.write(text)
        print(f"abi-gen: wrote {os.path.relpath(OUT, ROOT)}")
        return 0
    rc = 0
    if read("kmod/ravf_abi.c") != text:
        print("  FAIL  abi      kmod/ravf_abi.c is stale: run python3 kmod/abi-gen.py")
        rc = 1
    else:
        n = text.count("\nRAVF_")
        print(f"  ok    abi      kmod/ravf_abi.c matches the Rust mirrors ({n} assertions)")
    problems, n = check_kpi()
    if problems:
        print("  FAIL  kpi      the C shim and ffi/src/kpi.rs disagree")
        for p in problems:
            print(f"          {p}")
        rc = 1
    else:
        print(f"  ok    kpi      all {n} kpi.rs imports are defined in kmod/*.c or allowlisted")
    names = sorted(set(re.findall(r'\be\(\s*c"(\w+)"', read("ffi/src/sysctl.rs"))))
    names += ["hw.ravf." + t for t in re.findall(r'SYSCTL_INT\(_hw_ravf, OID_AUTO, (\w+),',
                                                 read("kmod/if_ravf.c"))]
    man = read("docs/ravf.4")
    undocumented = [n for n in names if not re.search(r"(?<![\w.])" + re.escape(n) + r"\b", man)]
    if undocumented:
        print("  FAIL  man      sysctls/tunables missing from docs/ravf.4: " + " ".join(undocumented))
        rc = 1
    else:
        print(f"  ok    man      docs/ravf.4 documents all {len(names)} sysctl and tunable names")
    problems, n = check_seam_sigs()
    if problems:
        print("  FAIL  sigs     C and Rust disagree on a signature")
        for p in problems:
            print(f"          {p}")
        rc = 1
    else:
        print(f"  ok    sigs     {n} C/Rust seam functions have the same types on both sides")
    return rc


if __name__ == "__main__":
    sys.exit(main())
