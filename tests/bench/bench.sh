#!/usr/bin/env bash
# make bench: instructions per call of ravf's if_txrx callbacks (callgrind, counted
# only inside the callback symbols via --toggle-collect while the iflib stand-in and
# the emulator run around them), and packets per second of the full in-process loop
# (txd_encap -> emulator TX -> switch -> emulator RX -> rxd_available/pkt_get/refill).
#
# MMIO: in the harness a tail write runs the emulator synchronously inside the
# callback; that work is excluded and each register access counted as 1 instruction
# (what bus_space_write_4 is on amd64).
#
# Output: a table on stdout and target/bench/results.csv (not committed).
# Targets (issue 3, style-and-performance.md B.8): txd_encap no offload <= 88 Ir,
# with checksum offload <= 120, rxd_pkt_get with checksum <= 106, RX+TX <= 200 Ir per
# packet at batch 32, full loop >= 25 Mpps at 64 bytes and batch 32.
set -euo pipefail

cd "$(dirname "$0")/../.."
ROOT=$(pwd)
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
OUT=$TARGET_DIR/bench
mkdir -p "$OUT"
N=${BENCH_N:-20000}
SECS=${BENCH_SECS:-2}

cargo build -q --release -p ravf-harness --bin ravf-bench
BIN=$TARGET_DIR/release/ravf-bench

# The callback symbols (ffi exports them #[no_mangle]).
ENCAP=${SYM_ENCAP:-ravf_isc_txd_encap}
FLUSH=${SYM_FLUSH:-ravf_isc_txd_flush}
CREDITS=${SYM_CREDITS:-ravf_isc_txd_credits_update}
AVAIL=${SYM_AVAIL:-ravf_isc_rxd_available}
PKTGET=${SYM_PKTGET:-ravf_isc_rxd_pkt_get}
REFILL=${SYM_REFILL:-ravf_isc_rxd_refill}
RFLUSH=${SYM_RFLUSH:-ravf_isc_rxd_flush}

CSV=$OUT/results.csv
echo "measurement,value,unit,calls,target,status" > "$CSV"
printf '%-50s %12s %-8s %10s %10s  %s\n' measurement value unit calls target status

have_valgrind=1
command -v valgrind >/dev/null 2>&1 || have_valgrind=0

kv() { sed -n "s/^$1=//p" "$2" | tail -1; }

# ir MODE SYMBOLS...: Ir inside SYMBOLS (inclusive, with the emulator work behind
# MMIO accesses taken out: cg_cost.py), divided by the number of calls of the first
# symbol (all calls of the run, warm-up included, as the Ir are).
ir() {
  local mode=$1; shift
  local syms
  syms=$(IFS=,; echo "$*")
  local cg=$OUT/callgrind.$mode.out
  valgrind --tool=callgrind --callgrind-out-file="$cg" \
    "$BIN" "$mode" "$N" > "$OUT/$mode.txt" 2> "$OUT/$mode.valgrind.txt"
  local total calls
  read -r total calls < <(python3 tests/bench/cg_cost.py "$cg" "$syms" --exclude ravf_kpi_wr32,ravf_kpi_rd32)
  if [ -z "$calls" ] || [ "$calls" = 0 ] || [ -z "$total" ]; then echo "NA 0"; return; fi
  if [ "$(kv violations "$OUT/$mode.txt")" != 0 ]; then echo "run had violations, see $OUT/$mode.txt" >&2; fi
  awk -v t="$total" -v c="$calls" 'BEGIN { printf "%.1f %d\n", t / c, c }'
}

row() { # name value unit calls target cmp(le|ge)
  local name=$1 value=$2 unit=$3 calls=$4 target=$5 cmp=$6 status
  if [ "$value" = NA ]; then status="n/a"
  elif [ "$cmp" = info ]; then status="(breakdown)"
  elif awk -v v="$value" -v t="$target" -v c="$cmp" 'BEGIN { exit !((c=="le" && v<=t) || (c=="ge" && v>=t)) }'
  then status="meets"; else status="misses"; fi
  printf '%-50s %12s %-8s %10s %10s  %s\n' "$name" "$value" "$unit" "$calls" "$cmp $target" "$status"
  echo "\"$name\",$value,$unit,$calls,$cmp $target,$status" >> "$CSV"
}

if [ $have_valgrind = 1 ]; then
  read -r v c < <(ir tx-plain "$ENCAP")
  row "txd_encap, 1 segment, no offload" "$v" Ir/call "$c" 88 le
  read -r v c < <(ir tx-csum "$ENCAP")
  row "txd_encap, 1 segment, IPv4/TCP csum offload" "$v" Ir/call "$c" 120 le
  read -r v c < <(ir rx-csum "$PKTGET")
  row "rxd_pkt_get, 1 descriptor, RXCSUM IPv4/TCP" "$v" Ir/call "$c" 106 le
  read -r v c < <(ir rxtx "$PKTGET" "$ENCAP" "$FLUSH" "$CREDITS" "$AVAIL" "$REFILL" "$RFLUSH")
  row "RX+TX callbacks per packet, batch 32" "$v" Ir/pkt "$c" 200 le
  # Where the in-process loop's instructions go (same run): everything, the
  # emulator's entry points, and the stand-in for iflib as the rest.
  cg=$OUT/callgrind.rxtx.out
  pk=$c
  all=$(python3 tests/bench/cg_cost.py "$cg" ravf_bench::run | cut -d' ' -f1)
  emu=$(python3 tests/bench/cg_cost.py "$cg" ravf_sim::Sim::bar_write,ravf_sim::Sim::bar_read,ravf_sim::Sim::advance,ravf_sim::Sim::take_irqs | cut -d' ' -f1)
  drv=$(python3 tests/bench/cg_cost.py "$cg" ravf_isc_rxd_pkt_get,ravf_isc_txd_encap,ravf_isc_txd_flush,ravf_isc_txd_credits_update,ravf_isc_rxd_available,ravf_isc_rxd_refill,ravf_isc_rxd_flush,ravf_msix_que,ravf_if_rx_queue_intr_enable,ravf_if_tx_queue_intr_enable --exclude ravf_kpi_wr32,ravf_kpi_rd32 | cut -d' ' -f1)
  per() { awk -v t="$1" -v c="$pk" 'BEGIN { printf "%.0f", t / c }'; }
  row "loop Ir/pkt: all (stand-in+emulator+driver)" "$(per "$all")" Ir/pkt "$pk" 0 info
  row "loop Ir/pkt: emulator (TX+switch+RX; ~2 descs)" "$(per "$emu")" Ir/pkt "$pk" 150 le
  row "loop Ir/pkt: driver (callbacks, filter, re-arm)" "$(per "$drv")" Ir/pkt "$pk" 0 info
  row "loop Ir/pkt: iflib stand-in (the rest)" "$(per "$((all - emu - drv))")" Ir/pkt "$pk" 0 info
else
  echo "valgrind not found: instruction counts skipped" >&2
fi

for b in 1 8 32 256; do
  "$BIN" loop "$b" "$SECS" > "$OUT/loop.$b.txt"
  row "full loop, 64-byte frames, batch $b" "$(kv mpps "$OUT/loop.$b.txt")" Mpps "$(kv packets "$OUT/loop.$b.txt")" 25 ge
done

echo
echo "CSV: $CSV"
echo "rustc: $(rustc --version)"
