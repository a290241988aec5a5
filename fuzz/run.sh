#!/usr/bin/env bash
# Run each ravf fuzz target for N seconds (default 30) with cargo-fuzz / libFuzzer and
# fail if any of them finds a crash, a hang (-timeout) or runs out of memory.
#
#   fuzz/run.sh [SECONDS] [TARGET...]        e.g. fuzz/run.sh 60 tx_encap
#
# Needs a nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`). Each target
# starts from fuzz/regressions/<target>/ (past crashes, always replayed first) and
# fuzz/corpus/<target>/ (grown by earlier runs, not committed). A crashing input is
# left in fuzz/artifacts/<target>/; reproduce it with
#   cargo +nightly fuzz run <target> fuzz/artifacts/<target>/<file>
# Honours CARGO_TARGET_DIR and TOOLCHAIN (default: nightly).
set -u
secs=${1:-30}
[ $# -gt 0 ] && shift
here=$(cd "$(dirname "$0")" && pwd)
cd "$here" || exit 2
tc=${TOOLCHAIN:-nightly}
all=(virtchnl_reply vf_mailbox rx_descriptors tx_encap sim_config)
if [ $# -gt 0 ]; then targets=("$@"); else targets=("${all[@]}"); fi

if ! cargo "+$tc" fuzz --version >/dev/null 2>&1; then
    echo "fuzz/run.sh: needs cargo-fuzz on the $tc toolchain (cargo install cargo-fuzz)" >&2
    exit 2
fi
if ! cargo "+$tc" fuzz build; then
    echo "fuzz/run.sh: build failed" >&2
    exit 2
fi

failed=()
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t" "regressions/$t" "artifacts/$t"
    max_len=4096
    [ "$t" = vf_mailbox ] && max_len=16384
    log=$(mktemp)
    echo "== $t: ${secs}s"
    cargo "+$tc" fuzz run "$t" "corpus/$t" "regressions/$t" -- \
        -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len="$max_len" \
        -print_final_stats=1 >"$log" 2>&1
    rc=$?
    runs=$(grep -m1 'stat::number_of_executed_units' "$log" | awk '{print $2}')
    eps=$(grep -m1 'stat::average_exec_per_sec' "$log" | awk '{print $2}')
    cov=$(grep -E '^#[0-9]+.*(DONE|pulse|NEW|REDUCE)' "$log" | tail -1 | grep -o 'cov: [0-9]*')
    if [ $rc -ne 0 ]; then
        echo "   FAILED (exit $rc): see below; the input is in fuzz/artifacts/$t/"
        grep -E 'panicked|ERROR: libFuzzer|SUMMARY|Test unit written|deadly signal|timeout' "$log" | head -20
        failed+=("$t")
    else
        echo "   ok: ${runs:-?} runs, ${eps:-?} exec/s, ${cov:-cov: ?}"
    fi
    rm -f "$log"
done

if [ ${#failed[@]} -ne 0 ]; then
    echo "fuzz/run.sh: crashes in: ${failed[*]}" >&2
    exit 1
fi
echo "fuzz/run.sh: all ${#targets[@]} targets ran ${secs}s without a crash"
