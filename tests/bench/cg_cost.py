#!/usr/bin/env python3
"""Instructions spent in a set of functions, from a callgrind output file.

usage: cg_cost.py FILE FUNC[,FUNC...] [--exclude FUNC[,FUNC...]]

Prints "<total Ir> <calls>": the inclusive instruction count of the listed
functions and the number of calls of the first one, with the cost of every call (direct or nested) into an excluded
function taken out and replaced by one instruction per call. The excluded ones are
the KPI's MMIO accessors (ravf_kpi_rd32/wr32): in the kernel a register access is
one instruction, while in the harness a tail write runs the emulator's whole TX or
RX engine synchronously, which is not the driver's cost. Nested exclusion uses
callgrind's per-caller/callee call costs, scaling a callee's inclusive cost by the
share of it that is not excluded (callgrind's call graph is context-insensitive).
"""
import sys
from collections import defaultdict


def parse(path):
    names = {}
    self_cost = defaultdict(int)
    call_cost = defaultdict(lambda: defaultdict(int))
    call_count = defaultdict(lambda: defaultdict(int))
    cur = None
    pending_call = None  # (callee, count) waiting for its cost line

    def name_of(spec):
        spec = spec.strip()
        if spec.startswith("("):
            idx, _, rest = spec.partition(")")
            idx = idx[1:]
            rest = rest.strip()
            if rest:
                names[idx] = rest
            return names.get(idx, idx)
        return spec

    with open(path, errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line[0] == "#":
                continue
            if line.startswith("fn="):
                cur = name_of(line[3:])
                continue
            if line.startswith("cfn="):
                callee = name_of(line[4:])
                pending_call = [callee, 0]
                continue
            if line.startswith("calls="):
                parts = line[6:].split()
                if pending_call is not None:
                    pending_call[1] = int(parts[0])
                continue
            if line[0].isdigit() or line[0] in "+-*":
                parts = line.split()
                if len(parts) < 2 or cur is None:
                    pending_call = None
                    continue
                try:
                    ir = int(parts[1])
                except ValueError:
                    pending_call = None
                    continue
                if pending_call is not None and pending_call[1] > 0:
                    callee, n = pending_call
                    call_cost[cur][callee] += ir
                    call_count[cur][callee] += n
                    pending_call = None
                else:
                    self_cost[cur] += ir
                    pending_call = None
                continue
            # fl=, fi=, fe=, ob=, cob=, cfi=, cfl=, positions:, events:, ...
            if line.startswith(("cfi=", "cfl=", "cob=")):
                continue
            pending_call = None if not line.startswith(("fi=", "fe=", "fl=", "ob=")) else pending_call
    return self_cost, call_cost, call_count


def main():
    args = sys.argv[1:]
    if len(args) < 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    path, funcs = args[0], args[1].split(",")
    exclude = set()
    if "--exclude" in args:
        exclude = set(args[args.index("--exclude") + 1].split(","))
    self_cost, call_cost, call_count = parse(path)

    memo = {}

    def incl(fn, stack=()):
        """(full inclusive cost, cost without excluded callees) of fn."""
        if fn in memo:
            return memo[fn]
        if fn in stack:
            return (self_cost[fn], self_cost[fn])
        full = self_cost[fn]
        kept = self_cost[fn]
        for callee, c in call_cost[fn].items():
            full += c
            if callee in exclude:
                kept += call_count[fn][callee]  # one instruction per MMIO access
                continue
            cf, ck = incl(callee, stack + (fn,))
            kept += c * (ck / cf) if cf else c
        memo[fn] = (full, kept)
        return memo[fn]

    total = 0.0
    for fn in funcs:
        total += incl(fn)[1]
    calls = sum(cc[funcs[0]] for cc in call_count.values())
    print(f"{total:.0f} {calls}")


if __name__ == "__main__":
    main()
