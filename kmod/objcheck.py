#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Gates for the relocatable object that goes into if_ravf.ko.

Run by kmod/kmod-check.sh (make kmod-check) on the Rust part alone and, when FreeBSD headers
are available, on the Rust part linked with the C shim. Each gate prints what it found and
the script exits 1 if any gate fails. The gates:

  elf       ELF64, x86-64, ET_REL: amd64 modules are relocatable objects (kmod.mk: ld -r;
            sys/kern/link_elf_obj.c refuses anything but ET_REL with ENOSYS).
  sections  no TLS, no constructor arrays, no COMMON symbols: link_elf_obj.c loads only
            PROGBITS/NOBITS/X86_64_UNWIND sections and has no thread-local storage.
  reloc     only the relocation types sys/amd64/amd64/elf_machdep.c elf_reloc_internal()
            accepts, counted in SHF_ALLOC sections only (.rela.debug_* is never applied).
  fpu       no SSE/AVX/AVX-512/MMX/x87 instruction: the kernel does not save the FPU
            state around driver code (fpu_kern_enter is not used), kern.mk builds with
            -mno-mmx -mno-sse -msoft-float.
  undef     every undefined symbol is listed in the allowlist (kmod/kpi-allowlist.txt),
            each entry naming the FreeBSD header that declares it.
  panic     no panic machinery reachable from the data-path roots (ravf_isc_*, the
            queue interrupt filter): a call graph from the relocations of every function.
  sleep     no sleeping or allocating call reachable from the roots that run where
            sleeping is forbidden (the if_txrx callbacks, both MSI-X filters, ifdi_timer,
            which iflib's callout runs with the TX queue mutex held, and the ifdi methods
            iflib may call from interrupt context or with a mutex held): the same call
            graph as the panic gate, against the KPI functions that may sleep (sx, pause,
            taskqueue drain/free, busdma and IRQ setup, malloc/free).
  frame     no stack frame larger than --max-frame bytes (amd64 kernel stacks are
            KSTACK_PAGES=4 pages, shared with iflib and the network stack above us).

The ELF reader below is deliberately tiny: section headers, symbols, RELA entries.
"""

import argparse
import os
import re
import struct
import subprocess
import sys
from collections import defaultdict, deque

# elf.h
ET_REL = 1
EM_X86_64 = 62
SHT_SYMTAB, SHT_STRTAB, SHT_RELA, SHT_NOTE, SHT_NOBITS, SHT_REL = 2, 3, 4, 7, 8, 9
SHT_INIT_ARRAY, SHT_FINI_ARRAY, SHT_PREINIT_ARRAY = 14, 15, 16
SHT_X86_64_UNWIND = 0x70000001
SHF_WRITE, SHF_ALLOC, SHF_EXECINSTR, SHF_TLS = 0x1, 0x2, 0x4, 0x400
STT_NOTYPE, STT_OBJECT, STT_FUNC, STT_SECTION, STT_FILE, STT_TLS = 0, 1, 2, 3, 4, 6
STB_LOCAL = 0
SHN_UNDEF, SHN_ABS, SHN_COMMON = 0, 0xFFF1, 0xFFF2

# x86-64 psABI relocation numbers.
R_NAMES = {
    0: "R_X86_64_NONE", 1: "R_X86_64_64", 2: "R_X86_64_PC32", 3: "R_X86_64_GOT32",
    4: "R_X86_64_PLT32", 5: "R_X86_64_COPY", 6: "R_X86_64_GLOB_DAT",
    7: "R_X86_64_JUMP_SLOT", 8: "R_X86_64_RELATIVE", 9: "R_X86_64_GOTPCREL",
    10: "R_X86_64_32", 11: "R_X86_64_32S", 12: "R_X86_64_16", 13: "R_X86_64_PC16",
    14: "R_X86_64_8", 15: "R_X86_64_PC8", 16: "R_X86_64_DTPMOD64",
    17: "R_X86_64_DTPOFF64", 18: "R_X86_64_TPOFF64", 19: "R_X86_64_TLSGD",
    20: "R_X86_64_TLSLD", 21: "R_X86_64_DTPOFF32", 22: "R_X86_64_GOTTPOFF",
    23: "R_X86_64_TPOFF32", 24: "R_X86_64_PC64", 25: "R_X86_64_GOTOFF64",
    26: "R_X86_64_GOTPC32", 37: "R_X86_64_IRELATIVE", 41: "R_X86_64_GOTPCRELX",
    42: "R_X86_64_REX_GOTPCRELX",
}
# sys/amd64/amd64/elf_machdep.c elf_reloc_internal(): the cases that do not end in
# "kldload: unexpected relocation type" (COPY is a case, but it fails the load too).
R_ACCEPTED = {0, 1, 2, 4, 6, 7, 8, 11, 37}
# Accepted by the kernel, but a compiler emitting them into a -r object means a dynamic
# linking model leaked in: reported, not failed.
R_UNUSUAL = {6, 7, 8, 37}
R_PCREL = {2, 4}

# Names (after demangling) that are the panic machinery. Matched as substrings.
PANIC_PATTERNS = [
    "core::panicking::",
    "panic_bounds_check",
    "slice_start_index_len_fail",
    "slice_end_index_len_fail",
    "slice_index_order_fail",
    "slice_index_fail",
    "copy_from_slice::len_mismatch_fail",
    "len_mismatch_fail",
    "unwrap_failed",
    "expect_failed",
    "rust_begin_unwind",
    "panic_fmt",
    "panic_nounwind",
    "handle_alloc_error",
    "__rust_alloc_error_handler",
]
# Kernel-side panics (panic(9) itself and our wrapper around it) are as fatal.
PANIC_EXACT = {"panic", "ravf_kpi_panic", "kassert_panic"}


class Elf:
    def __init__(self, path):
        with open(path, "rb") as f:
            self.data = f.read()
        d = self.data
        if d[:4] != b"\x7fELF":
            raise ValueError(f"{path}: not an ELF file")
        self.ei_class, self.ei_data = d[4], d[5]
        if self.ei_class != 2 or self.ei_data != 1:
            raise ValueError(f"{path}: not ELF64 little-endian")
        (self.e_type, self.e_machine, _v, _entry, _phoff, shoff, _flags, _ehsize, _phentsize,
         _phnum, shentsize, shnum, shstrndx) = struct.unpack_from("<HHIQQQIHHHHHH", d, 16)
        self.sections = []
        for i in range(shnum):
            (name, typ, flags, addr, off, size, link, info, align, entsize) = struct.unpack_from(
                "<IIQQQQIIQQ", d, shoff + i * shentsize)
            self.sections.append(dict(idx=i, name_off=name, type=typ, flags=flags, addr=addr,
                                      off=off, size=size, link=link, info=info, align=align,
                                      entsize=entsize))
        shstr = self.sections[shstrndx]
        for s in self.sections:
            s["name"] = self._str(shstr, s["name_off"])
        self.symbols = []
        symtabs = [s for s in self.sections if s["type"] == SHT_SYMTAB]
        self.nsymtab = len(symtabs)
        if symtabs:
            st = symtabs[0]
            strtab = self.sections[st["link"]]
            for i in range(st["size"] // 24):
                name, info, other, shndx, value, size = struct.unpack_from(
                    "<IBBHQQ", d, st["off"] + i * 24)
                self.symbols.append(dict(idx=i, name=self._str(strtab, name), bind=info >> 4,
                                         type=info & 0xF, other=other, shndx=shndx,
                                         value=value, size=size))
        self.relocs = []  # (target section idx, offset, type, sym idx, addend)
        for s in self.sections:
            if s["type"] == SHT_RELA:
                for i in range(s["size"] // 24):
                    off, info, addend = struct.unpack_from("<QQq", d, s["off"] + i * 24)
                    self.relocs.append((s["info"], off, info & 0xFFFFFFFF, info >> 32, addend))
            elif s["type"] == SHT_REL:
                for i in range(s["size"] // 16):
                    off, info = struct.unpack_from("<QQ", d, s["off"] + i * 16)
                    self.relocs.append((s["info"], off, info & 0xFFFFFFFF, info >> 32, 0))

    def _str(self, sec, off):
        start = sec["off"] + off
        end = self.data.index(b"\0", start)
        return self.data[start:end].decode("utf-8", "replace")


def demangle_all(names):
    """Demangle with binutils c++filt (it knows Rust legacy and v0 mangling)."""
    names = list(names)
    if not names:
        return {}
    try:
        out = subprocess.run([os.environ.get("CXXFILT", "c++filt")], input="\n".join(names) + "\n",
                             capture_output=True,
                             text=True, check=True).stdout.splitlines()
    except (OSError, subprocess.CalledProcessError):
        return {n: n for n in names}
    if len(out) != len(names):
        return {n: n for n in names}
    # Drop the crate disambiguators ("core[4c300208fef7d3a6]::") and legacy hashes.
    clean = [re.sub(r"::h[0-9a-f]{16}$", "", re.sub(r"\[[0-9a-f]+\]", "", o)) for o in out]
    return dict(zip(names, clean))


class Report:
    def __init__(self):
        self.failed = []

    def ok(self, gate, msg):
        print(f"  ok    {gate:8} {msg}")

    def fail(self, gate, msg, details=()):
        self.failed.append(gate)
        print(f"  FAIL  {gate:8} {msg}")
        for line in details:
            print(f"          {line}")

    def info(self, gate, msg):
        print(f"  info  {gate:8} {msg}")


def load_allowlist(path):
    """`symbol  header-or-file  [comment]` per line; '#' starts a comment line."""
    allow = {}
    bad = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            parts = line.split()
            if len(parts) < 2:
                bad.append(f"{path}:{n}: '{parts[0]}' has no declaring header")
                continue
            allow[parts[0]] = parts[1]
    return allow, bad


def gate_elf(elf, rep):
    if elf.e_type != ET_REL or elf.e_machine != EM_X86_64:
        rep.fail("elf", f"e_type={elf.e_type} e_machine={elf.e_machine}, want ET_REL (1) "
                 f"and EM_X86_64 (62)")
    elif elf.nsymtab != 1:
        rep.fail("elf", f"{elf.nsymtab} SHT_SYMTAB sections, link_elf_obj wants exactly one")
    else:
        rep.ok("elf", "ELF64 x86-64 ET_REL, one symbol table")


def gate_sections(elf, rep):
    bad = []
    for s in elf.sections:
        if s["flags"] & SHF_TLS or s["name"].startswith((".tdata", ".tbss")):
            bad.append(f"thread-local section {s['name']}")
        if s["type"] in (SHT_INIT_ARRAY, SHT_FINI_ARRAY, SHT_PREINIT_ARRAY) or \
                s["name"].startswith((".ctors", ".dtors")):
            bad.append(f"constructor/destructor section {s['name']}")
        if s["flags"] & SHF_ALLOC and s["type"] not in (1, SHT_NOBITS, SHT_X86_64_UNWIND,
                                                         SHT_NOTE):
            # SHT_PROGBITS == 1. link_elf_obj.c skips other allocated types: their contents
            # would be missing at run time. Notes (kmod.mk's --build-id) are read by tools,
            # never by the module, so skipping them is fine.
            bad.append(f"allocated section {s['name']} of type {s['type']:#x} is not loaded")
    for sym in elf.symbols:
        if sym["type"] == STT_TLS:
            bad.append(f"thread-local symbol {sym['name']}")
        if sym["shndx"] == SHN_COMMON:
            bad.append(f"COMMON symbol {sym['name']} (kern.mk builds with -fno-common)")
    if bad:
        rep.fail("sections", f"{len(bad)} problem(s)", bad[:20])
    else:
        rep.ok("sections", "no TLS, no constructors, no COMMON, every allocated section loadable")


def gate_reloc(elf, rep):
    counts = defaultdict(int)
    where = defaultdict(set)
    for (tsec, _off, typ, _sym, _add) in elf.relocs:
        sec = elf.sections[tsec] if tsec < len(elf.sections) else None
        if sec is None or not sec["flags"] & SHF_ALLOC:
            continue
        counts[typ] += 1
        if len(where[typ]) < 5:
            where[typ].add(sec["name"])
    summary = ", ".join(f"{R_NAMES.get(t, t)} {c}" for t, c in sorted(counts.items()))
    bad = {t: c for t, c in counts.items() if t not in R_ACCEPTED}
    if bad:
        rep.fail("reloc", "relocation types the amd64 kernel linker refuses: " + ", ".join(
            f"{R_NAMES.get(t, t)} x{c}" for t, c in sorted(bad.items())),
            [f"{R_NAMES.get(t, t)} in {sorted(where[t])}" for t in sorted(bad)])
    else:
        rep.ok("reloc", f"loaded sections carry only accepted types ({summary or 'none'})")
    unusual = {t: c for t, c in counts.items() if t in R_UNUSUAL}
    if unusual:
        rep.info("reloc", "accepted but unexpected in a -r object: " + ", ".join(
            f"{R_NAMES[t]} x{c}" for t, c in sorted(unusual.items())))


# Registers and mnemonics of the FPU/vector units (AT&T syntax, as objdump prints them).
FPU_REG = re.compile(r"%(?:[xyz]mm[0-9]+|mm[0-7]|st(?:\([0-7]\))?|k[0-7])\b")
FPU_MNEMONIC = re.compile(
    r"^(?:f[a-z0-9]*|ldmxcsr|stmxcsr|vldmxcsr|vstmxcsr|emms|femms|vzeroupper|vzeroall|"
    r"xsave[a-z0-9]*|xrstor[a-z0-9]*|fxsave[a-z0-9]*|fxrstor[a-z0-9]*|movnti|maskmov[a-z]*)$")


def disassemble(path):
    """Yield (function, mnemonic, operands) for every instruction."""
    # GNU objdump's AT&T output (binutils; on FreeBSD: pkg install binutils, and
    # OBJDUMP=/usr/local/bin/objdump).
    out = subprocess.run([os.environ.get("OBJDUMP", "objdump"), "-d", "-w", "--no-show-raw-insn", path],
                         capture_output=True, text=True, check=True).stdout
    func = "?"
    for line in out.splitlines():
        m = re.match(r"^[0-9a-f]+ <(.*)>:$", line)
        if m:
            func = m.group(1)
            continue
        m = re.match(r"^\s+[0-9a-f]+:\s+(\S+)\s*(.*)$", line)
        if not m:
            continue
        mnem, ops = m.group(1), m.group(2)
        # Prefixes such as "rep", "lock", "notrack", "data16" come first.
        while mnem in ("rep", "repz", "repe", "repnz", "repne", "lock", "notrack", "data16",
                       "cs", "ds", "ss", "es", "fs", "gs", "bnd", "addr32") and ops:
            parts = ops.split(None, 1)
            mnem, ops = parts[0], (parts[1] if len(parts) > 1 else "")
        yield func, mnem, ops


def gate_fpu(insns, rep, names):
    hits = []
    total = 0
    for func, mnem, ops in insns:
        total += 1
        if mnem == "(bad)" or mnem.startswith("."):
            continue
        if FPU_MNEMONIC.match(mnem) or FPU_REG.search(ops):
            hits.append(f"{names.get(func, func)}: {mnem} {ops}".strip())
    if hits:
        rep.fail("fpu", f"{len(hits)} SSE/AVX/MMX/x87 instruction(s)", hits[:20])
    else:
        rep.ok("fpu", f"no SSE/AVX/MMX/x87 instruction in {total} instructions")


def gate_frame(insns, rep, names, limit):
    """Frame size per function. Frames over a page are allocated with inline stack
    probes, one `sub $0x1000,%rsp` (and a touch) per page and then the rest, or with a
    probe loop whose bound is computed in %r11; so sum the immediate subtractions from
    %rsp, add the %r11 bound, and take the epilogue's `add $N,%rsp` if that is larger."""
    subs, r11, adds = {}, {}, {}
    for func, mnem, ops in insns:
        m = re.match(r"^\$0x([0-9a-f]+),%(rsp|r11)$", ops)
        if not m:
            continue
        v = int(m.group(1), 16)
        if mnem in ("sub", "subq") and m.group(2) == "rsp":
            subs[func] = subs.get(func, 0) + v
        elif mnem in ("sub", "subq"):
            r11[func] = max(r11.get(func, 0), v)
        elif mnem in ("add", "addq") and m.group(2) == "rsp":
            adds[func] = max(adds.get(func, 0), v)
    frames = {}
    for func in set(subs) | set(r11) | set(adds):
        frames[func] = max(subs.get(func, 0) + r11.get(func, 0), adds.get(func, 0))
    big = sorted(((v, f) for f, v in frames.items() if v > limit), reverse=True)
    top = sorted(((v, f) for f, v in frames.items()), reverse=True)[:3]
    names.update(demangle_all({f for _, f in big + top if f not in names}))
    if big:
        rep.fail("frame", f"{len(big)} function(s) with a stack frame over {limit} bytes",
                 [f"{v} bytes: {names.get(f, f)}" for v, f in big[:10]])
    else:
        rep.ok("frame", "largest frames: " + (", ".join(
            f"{names.get(f, f)} {v}" for v, f in top) or "none"))


def gate_undef(elf, rep, allow, allow_bad):
    und = sorted({s["name"] for s in elf.symbols
                  if s["shndx"] == SHN_UNDEF and s["name"] and s["type"] != STT_SECTION})
    missing = [u for u in und if u not in allow]
    if allow_bad:
        rep.fail("undef", "malformed allowlist entries", allow_bad)
    if missing:
        rep.fail("undef", f"{len(missing)} undefined symbol(s) not in the allowlist", missing)
    else:
        rep.ok("undef", f"all {len(und)} undefined symbols are allowlisted")
    return und


def build_graph(elf):
    """Nodes are symbol names (or 'section:<name>' where no symbol covers an offset).

    Every relocation inside a node is an edge from it to the relocation's target: calls and
    tail calls, but also address-taken functions and vtables in data. Over-approximate on
    purpose: a panic path reachable through a function pointer still counts.
    """
    by_sec = defaultdict(list)  # section idx -> [(start, end, name)]
    for s in elf.symbols:
        if s["shndx"] in (SHN_UNDEF, SHN_ABS, SHN_COMMON) or s["shndx"] >= len(elf.sections):
            continue
        if s["type"] in (STT_SECTION, STT_FILE) or not s["name"]:
            continue
        by_sec[s["shndx"]].append((s["value"], s["value"] + max(s["size"], 1), s["name"]))
    for lst in by_sec.values():
        lst.sort()

    def node_at(secidx, off):
        best = None
        for start, end, name in by_sec.get(secidx, ()):
            if start <= off < end:
                # Prefer the innermost (latest starting) covering symbol.
                best = name
            elif start > off:
                break
        if best is None:
            # Nearest preceding symbol in the section, else the section itself.
            prev = [n for (st, _e, n) in by_sec.get(secidx, ()) if st <= off]
            best = prev[-1] if prev else f"section:{elf.sections[secidx]['name']}"
        return best

    edges = defaultdict(set)
    for (tsec, off, typ, symidx, addend) in elf.relocs:
        if tsec >= len(elf.sections) or not elf.sections[tsec]["flags"] & SHF_ALLOC:
            continue
        src = node_at(tsec, off)
        if symidx >= len(elf.symbols):
            continue
        sym = elf.symbols[symidx]
        if sym["type"] == STT_SECTION:
            target_off = addend + (4 if typ in R_PCREL else 0)
            dst = node_at(sym["shndx"], max(target_off, 0))
        elif sym["name"]:
            dst = sym["name"]
        else:
            continue
        if dst != src:
            edges[src].add(dst)
    # A section node stands for everything in the section.
    for secidx, lst in by_sec.items():
        sname = f"section:{elf.sections[secidx]['name']}"
        if sname in edges:
            for _s, _e, n in lst:
                edges[sname].add(n)
    return edges


# Functions that may sleep (or allocate/free, which the data path must not do either).
# The ravf_kpi_* wrappers are ours (kmod/ravf_kpi.c, contexts in ffi/src/kpi.rs); the
# others are what those wrappers and the Rust side call in the kernel.
SLEEP_EXACT = {
    "ravf_kpi_sleep_us", "ravf_kpi_mtx_init", "ravf_kpi_mtx_lock", "ravf_kpi_mtx_destroy",
    "ravf_kpi_admin_task_init", "ravf_kpi_admin_task_drain", "ravf_kpi_admin_task_free",
    "ravf_kpi_bar0_map", "ravf_kpi_bar0_unmap", "ravf_kpi_pci_enable_busmaster",
    "ravf_kpi_malloc", "ravf_kpi_free", "ravf_kpi_mc_list",
    "iflib_dma_alloc_align", "iflib_dma_free", "iflib_irq_alloc_generic", "iflib_irq_free",
    "iflib_softirq_alloc_generic",
    "pause_sbt", "_sx_xlock", "_sx_slock", "_sx_xlock_hard", "sx_init_flags",
    "taskqueue_drain", "taskqueue_free", "taskqueue_create_fast", "malloc", "free",
    "bus_alloc_resource", "bus_release_resource", "sysctl_ctx_free",
}
# Roots that must not sleep: the data path, the filters, the timer callout, and the
# ifdi methods iflib calls from its interrupt/callout paths (intr_enable/disable, the
# queue re-arms) or that must stay lock-free (get_counter).
SLEEP_ROOTS = (r"^(ravf_isc_|ravf_msix_|ravf_if_timer$|ravf_if_get_counter$|"
               r"ravf_if_intr_enable$|ravf_if_intr_disable$|ravf_if_rx_queue_intr_enable$|"
               r"ravf_if_tx_queue_intr_enable$)")


def is_sleep(name, _dem):
    return name in SLEEP_EXACT


def is_panic(name, dem):
    if name in PANIC_EXACT:
        return True
    return any(p in dem for p in PANIC_PATTERNS)


def reach(edges, roots, dem, pred):
    """For each root, the shortest call path to a node matching pred, if any."""
    bad = []
    for root in roots:
        parent = {root: None}
        q = deque([root])
        hit = None
        while q:
            n = q.popleft()
            if n != root and pred(n, dem.get(n, n)):
                hit = n
                break
            for m in sorted(edges.get(n, ())):
                if m not in parent:
                    parent[m] = n
                    q.append(m)
        if hit:
            path = []
            n = hit
            while n is not None:
                path.append(dem.get(n, n))
                n = parent[n]
            bad.append(f"{root}: " + " -> ".join(reversed(path)))
    return bad


def gate_panic(elf, rep, root_re, expect_roots, names, edges):
    roots = sorted({s["name"] for s in elf.symbols
                    if s["shndx"] != SHN_UNDEF and re.match(root_re, s["name"])})
    if expect_roots and len(roots) < expect_roots:
        rep.fail("panic", f"found {len(roots)} data-path root(s) matching /{root_re}/, "
                 f"expected at least {expect_roots}", roots)
        if not roots:
            return
    allnodes = set(edges) | {d for ds in edges.values() for d in ds}
    dem = demangle_all(sorted(allnodes | set(roots)))
    names.update(dem)
    bad = reach(edges, roots, dem, is_panic)
    if bad:
        rep.fail("panic", f"panic machinery reachable from {len(bad)} of {len(roots)} "
                 f"data-path root(s)", bad)
    else:
        rep.ok("panic", f"no panic path from {len(roots)} root(s): {' '.join(roots)}")


def gate_sleep(elf, rep, root_re, names, edges):
    roots = sorted({s["name"] for s in elf.symbols
                    if s["shndx"] != SHN_UNDEF and re.match(root_re, s["name"])})
    bad = reach(edges, roots, names, is_sleep)
    if bad:
        rep.fail("sleep", f"a sleeping/allocating call is reachable from {len(bad)} of "
                 f"{len(roots)} non-sleepable root(s)", bad)
    else:
        rep.ok("sleep", f"no sleeping or allocating call from {len(roots)} non-sleepable "
               f"root(s)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("object")
    ap.add_argument("--allowlist", required=True)
    ap.add_argument("--roots", default=r"^(ravf_isc_|ravf_msix_que$)",
                    help="regex of the data-path root symbols")
    ap.add_argument("--sleep-roots", default=SLEEP_ROOTS,
                    help="regex of the roots from which nothing may sleep")
    ap.add_argument("--expect-roots", type=int, default=0,
                    help="fail unless at least this many roots exist")
    ap.add_argument("--max-frame", type=int, default=2048)
    ap.add_argument("--print-undef", action="store_true")
    args = ap.parse_args()

    elf = Elf(args.object)
    rep = Report()
    allow, allow_bad = load_allowlist(args.allowlist)
    alloc = sum(s["size"] for s in elf.sections if s["flags"] & SHF_ALLOC)
    text = sum(s["size"] for s in elf.sections if s["flags"] & SHF_EXECINSTR)
    print(f"{args.object}: {alloc} bytes loaded ({text} text), "
          f"{sum(1 for s in elf.symbols if s['type'] == STT_FUNC)} functions")

    gate_elf(elf, rep)
    gate_sections(elf, rep)
    gate_reloc(elf, rep)
    insns = list(disassemble(args.object))
    names = {}
    edges = build_graph(elf)
    gate_panic(elf, rep, args.roots, args.expect_roots, names, edges)
    gate_sleep(elf, rep, args.sleep_roots, names, edges)
    gate_fpu(insns, rep, names)
    gate_frame(insns, rep, names, args.max_frame)
    und = gate_undef(elf, rep, allow, allow_bad)
    if args.print_undef:
        print(f"  undefined symbols ({len(und)}):")
        for u in und:
            print(f"          {u:40} {allow.get(u, '(NOT ALLOWLISTED)')}")
    if rep.failed:
        print(f"FAILED gates: {' '.join(sorted(set(rep.failed)))}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
