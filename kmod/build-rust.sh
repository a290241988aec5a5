#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# Build the Rust part of if_ravf.ko and pre-link it into one relocatable object.
# Used by kmod/Makefile (FreeBSD, bsd.kmod.mk) and kmod/kmod-check.sh (Linux), so the
# object the Linux gates check is made exactly as the one the FreeBSD module links.
#
#   kmod/build-rust.sh OUT.o
#
# Environment (all optional):
#   CARGO            cargo command (default: cargo)
#   RAVF_TOOLCHAIN   rustup toolchain for the kernel build (default: nightly-2026-05-20, the
#                    compiler the gates were last run with; set it empty to
#                    use whatever `cargo` is, e.g. FreeBSD's lang/rust-nightly)
#   CARGO_TARGET_DIR cargo's target directory (default: <repo>/target)
#   LD               linker that understands -m elf_x86_64_fbsd (default: ld.lld, else ld)
#   NM               nm (default: nm)
#   RAVF_RUSTFLAGS   extra rustc flags appended to the kernel set below
#   RAVF_PACKAGE     the staticlib package (default: ravf-ffi), RAVF_MANIFEST its workspace
#                    manifest (default: <repo>/Cargo.toml); for testing the pipeline
#
# Why these flags (freebsd-iavf-iflib.md 3.3-3.5, measured on this project's machines):
# - target x86_64-unknown-none: soft-float ABI, SSE/MMX/x87 off, no red zone, kernel code
#   model, panic=abort, all by default (kmod-check.sh prints and verifies the target spec).
# - relocation-model=static: the target defaults to PIC, whose GOTPCREL/REX_GOTPCRELX
#   relocations sys/amd64/amd64/elf_machdep.c refuses ("kldload: unexpected relocation").
# - relro-level=off: with full RELRO rustc marks external functions nonlazybind and LLVM
#   calls them through the GOT even in the static model.
# - -Z build-std: the prebuilt core/compiler_builtins are PIC (thousands of GOTPCREL) and
#   parts of compiler_builtins use SSE/x87; rebuilding them with the same flags fixes both.
#   This is why the kernel build needs a nightly toolchain with rust-src.
# - force-frame-pointers: kernel backtraces (ddb, dtrace, hwpmc) walk frame pointers;
#   kmod.mk builds C with -fno-omit-frame-pointer for the same reason.
# - force-unwind-tables=no: panic=abort; the kernel loads .eh_frame but never uses it.
# - the `kernel` cargo profile (workspace Cargo.toml): panic=abort, codegen-units=1.
#
# The pre-link keeps only what the exported entry points reach: every global symbol the
# staticlib defines whose name starts with `ravf_` (the C shim's only way in) is a root for
# `ld -r --gc-sections`, so unused parts of core never reach the module.
set -eu

out=${1:?usage: build-rust.sh OUT.o}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)

CARGO=${CARGO:-cargo}
toolchain=${RAVF_TOOLCHAIN-nightly-2026-05-20}
tc=""
[ -n "$toolchain" ] && tc="+$toolchain"
target_dir=${CARGO_TARGET_DIR:-$root/target}
NM=${NM:-nm}
if [ -z "${LD:-}" ]; then
	if command -v ld.lld >/dev/null 2>&1; then LD=ld.lld; else LD=ld; fi
fi

RUSTFLAGS="-C relocation-model=static -C code-model=kernel -C relro-level=off \
-C force-frame-pointers=yes -C no-redzone=yes -C force-unwind-tables=no ${RAVF_RUSTFLAGS:-}"
export RUSTFLAGS CARGO_TARGET_DIR="$target_dir"

# FreeBSD 15 changed struct if_pkt_info (ipi_tcp_hflags became 16 bits, ipi_mflags moved
# from offset 39 to 45; checked against 15.0's net/iflib.h). ravf-sys carries both
# layouts; pick the one of the release the module is built for: RAVF_FREEBSD_VERSION
# (__FreeBSD_version, set by kmod/Makefile from ${SYSDIR}/sys/param.h), else the running
# system's on FreeBSD. kmod/ravf_abi.c asserts the same choice against the headers.
ver=${RAVF_FREEBSD_VERSION:-}
if [ -z "$ver" ] && [ "$(uname -s)" = FreeBSD ]; then
	ver=$(sysctl -n kern.osreldate)
fi
features=""
if [ -n "$ver" ] && [ "$ver" -ge 1500000 ]; then
	features="--features ravf-sys/freebsd15"
fi

pkg=${RAVF_PACKAGE:-ravf-ffi}
manifest=${RAVF_MANIFEST:-$root/Cargo.toml}
# shellcheck disable=SC2086 # $tc is empty or one word
# shellcheck disable=SC2086 # $features is empty or two words
(cd "$(dirname "$manifest")" && $CARGO $tc build --manifest-path "$manifest" -p "$pkg" \
	$features --profile kernel --target x86_64-unknown-none \
	-Z build-std=core,alloc,compiler_builtins)

lib="$target_dir/x86_64-unknown-none/kernel/lib$(echo "$pkg" | tr - _).a"
[ -f "$lib" ] || { echo "build-rust.sh: $lib was not built" >&2; exit 1; }

roots=$($NM -g --defined-only "$lib" 2>/dev/null | awk '$3 ~ /^ravf_/ { print "-u " $3 }' |
	sort -u)
[ -n "$roots" ] || { echo "build-rust.sh: $lib exports no ravf_* symbol" >&2; exit 1; }

# shellcheck disable=SC2086 # one "-u sym" pair per root
$LD -m elf_x86_64_fbsd -r --gc-sections $roots -o "$out" "$lib"
echo "build-rust.sh: $out from $lib ($(echo "$roots" | wc -l | tr -d ' ') roots," \
	"FreeBSD ${ver:-14.x default} layouts${features:+, $features})"
