#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# make kmod-check: build the Rust part of if_ravf.ko for the FreeBSD amd64 kernel on Linux
# and check the object the module would link, with gates that fail the run:
#
#   1. self-test: every gate of kmod/objcheck.py must fail on its fixture in kmod/tests/
#      (so a gate that silently passes everything is caught) and pass on clean.s;
#   2. kmod/ravf_abi.c is current with the Rust mirrors in sys/, and every function
#      ffi/src/kpi.rs imports is defined by kmod/*.c or allowlisted (abi-gen.py --check);
#   3. the target spec of x86_64-unknown-none still says soft-float, no SSE, no red zone,
#      kernel code model, panic=abort (rustc owns those defaults; we rely on them);
#   4. kmod/build-rust.sh builds ravf-ffi and pre-links it to ravf_rust.o exactly as the
#      FreeBSD build does;
#   5. kmod/objcheck.py gates on ravf_rust.o: relocations, FPU instructions, undefined
#      symbols against kmod/kpi-allowlist.txt, panic reachability from the data path,
#      sleeping/allocating calls reachable from non-sleepable contexts (the data path,
#      the filters, the timer callout), stack frames, sections;
#   6. optional, when RAVF_FBSD_HDRS=<dir> points at a FreeBSD header tree (see
#      kmod/fbsd-compile.sh): compile kmod/*.c against it with kern.mk/kmod.mk flags and
#      -Werror, link everything into if_ravf.o with ld.lld -m elf_x86_64_fbsd -r, and run
#      the gates again on the whole module object.
#
# Needs: rustup (the nightly toolchain and its rust-src are added if missing), ld.lld (Debian:
# lld), objdump/as/c++filt (binutils), python3. Step 6 also needs clang (clang-19
# preferred: FreeBSD 14.3 builds with clang 19; see kmod/fbsd-compile.sh).
#
# Environment: CARGO_TARGET_DIR (default <repo>/target), RAVF_TOOLCHAIN (default nightly-2026-05-20, pinned),
# RAVF_EXPECT_ROOTS (data-path roots that must exist, default 7), RAVF_MAX_FRAME (default
# 2048), RAVF_FBSD_HDRS (enables step 6).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/target}
out=$CARGO_TARGET_DIR/kmod
mkdir -p "$out"
toolchain=${RAVF_TOOLCHAIN-nightly-2026-05-20}
allow=kmod/kpi-allowlist.txt
expect_roots=${RAVF_EXPECT_ROOTS:-7}
max_frame=${RAVF_MAX_FRAME:-2048}

step() { printf '\n== kmod-check: %s\n' "$*"; }
die() { echo "kmod-check: $*" >&2; exit 1; }

for tool in ld.lld objdump as c++filt python3 nm; do
	command -v "$tool" >/dev/null || die "missing $tool (Debian: apt-get install lld binutils python3)"
done

step "self-test of the gates (kmod/tests/*.s)"
st=0
for fx in kmod/tests/*.s; do
	name=$(basename "$fx" .s)
	want=$(sed -n 's/^# expect: //p' "$fx" | head -1)
	fx_frame=$(sed -n 's/^# max-frame: //p' "$fx" | head -1)
	as --64 -o "$out/fx-$name.o" "$fx"
	if res=$(python3 kmod/objcheck.py "$out/fx-$name.o" --allowlist "$allow" \
		--max-frame "${fx_frame:-$max_frame}"); then
		got=none
	else
		got=$(printf '%s\n' "$res" | sed -n 's/^FAILED gates: //p')
		[ -n "$got" ] || got="error"
	fi
	if [ "$got" = "$want" ]; then
		printf '  ok    %-16s fails: %s\n' "$name" "$want"
	else
		printf '  FAIL  %-16s expected failing gates "%s", got "%s"\n' "$name" "$want" "$got"
		printf '%s\n' "$res" | sed 's/^/          /'
		st=1
	fi
done
[ $st = 0 ] || die "the gates do not behave as their fixtures say"

step "C shim and Rust seam agree (kmod/abi-gen.py --check)"
python3 kmod/abi-gen.py --selftest || die "the signature comparison is broken"
python3 kmod/abi-gen.py --check || die "regenerate kmod/ravf_abi.c or fix the KPI seam"

step "target spec of x86_64-unknown-none ($toolchain)"
tc=""; [ -n "$toolchain" ] && tc="+$toolchain"
if command -v rustup >/dev/null && [ -n "$toolchain" ]; then
	if ! rustup run "$toolchain" rustc --version >/dev/null 2>&1; then
		rustup toolchain install "$toolchain" --profile minimal --component rust-src
	fi
	# -Z build-std compiles core from source: it needs rust-src for that toolchain.
	rustup component list --installed --toolchain "$toolchain" 2>/dev/null | grep -q '^rust-src' ||
		rustup component add rust-src --toolchain "$toolchain"
fi
# shellcheck disable=SC2086
spec=$(rustc $tc -Z unstable-options --print target-spec-json --target x86_64-unknown-none)
rustc $tc --version
spec_ok=1
check_spec() { # key, expected JSON value text
	local v
	v=$(printf '%s\n' "$spec" | sed -n "s/^ *\"$1\": \(.*\),\{0,1\}$/\1/p" | sed 's/,$//')
	if [ "$v" = "$2" ]; then echo "  ok    $1 = $v"; else echo "  FAIL  $1 = '$v', want $2"; spec_ok=0; fi
}
check_spec code-model '"kernel"'
check_spec disable-redzone true
check_spec panic-strategy '"abort"'
check_spec rustc-abi '"softfloat"'
feat=$(printf '%s\n' "$spec" | sed -n 's/^ *"features": "\(.*\)",*$/\1/p')
feat_ok=1
for f in -mmx -sse -sse2 -avx -avx2 +soft-float; do
	case ",$feat," in
	*",$f,"*) ;;
	*) echo "  FAIL  features '$feat' lack $f"; feat_ok=0; spec_ok=0 ;;
	esac
done
[ $feat_ok = 0 ] || echo "  ok    features = $feat"
[ $spec_ok = 1 ] || die "x86_64-unknown-none changed its defaults; pass the flags explicitly"

step "build ravf-ffi for the kernel and pre-link ravf_rust.o"
# With a header tree, build the Rust side for that tree's release (its CFLAGS file names
# __FreeBSD_version), so both halves agree on the layouts.
if [ -n "${RAVF_FBSD_HDRS:-}" ] && [ -z "${RAVF_FREEBSD_VERSION:-}" ] && [ -f "$RAVF_FBSD_HDRS/CFLAGS" ]; then
	RAVF_FREEBSD_VERSION=$(sed -n 's/.*-D__FreeBSD_version=\([0-9]*\).*/\1/p' "$RAVF_FBSD_HDRS/CFLAGS")
	export RAVF_FREEBSD_VERSION
fi
RAVF_TOOLCHAIN=$toolchain sh kmod/build-rust.sh "$out/ravf_rust.o"

step "gates on the Rust object"
size "$out/ravf_rust.o"
failed=""
python3 kmod/objcheck.py "$out/ravf_rust.o" --allowlist "$allow" \
	--expect-roots "$expect_roots" --max-frame "$max_frame" --print-undef ||
	failed="$failed ravf_rust.o"

if [ -n "${RAVF_FBSD_HDRS:-}" ]; then
	step "C shim against FreeBSD headers in $RAVF_FBSD_HDRS"
	bash kmod/fbsd-compile.sh "$RAVF_FBSD_HDRS" "$out" "$out/ravf_rust.o"
	size "$out/if_ravf.o"
	python3 kmod/objcheck.py "$out/if_ravf.o" --allowlist "$allow" \
		--expect-roots "$expect_roots" --max-frame "$max_frame" --print-undef ||
		failed="$failed if_ravf.o"
else
	step "C shim: skipped (set RAVF_FBSD_HDRS=<dir>, see kmod/fbsd-compile.sh)"
fi
echo
[ -z "$failed" ] || die "gates failed on:$failed (see above)"
echo "kmod-check: all gates passed"
