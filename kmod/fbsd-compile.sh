#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# Compile the C shim (kmod/*.c) against real FreeBSD kernel headers on a non-FreeBSD
# machine, with the flags of sys/conf/kern.mk and kmod.mk and -Werror, then link it with
# the Rust object into if_ravf.o the way kmod.mk links a module (ld -r). Called by
# kmod-check.sh when RAVF_FBSD_HDRS is set; usable alone:
#
#   kmod/fbsd-compile.sh HDRS OUTDIR [RUST_OBJ]
#   kmod/fbsd-compile.sh --prepare-rtems RTEMS_LIBBSD ZIG_LIBC_INCLUDE HDRS
#   kmod/fbsd-compile.sh --prepare-zig RTEMS_LIBBSD ZIG_LIBC_INCLUDE HDRS FREEBSD_VERSION
#
# HDRS is a header tree with this layout (nothing in it is ever copied into the repo):
#   HDRS/sys/      kernel source root, searched first (-I${SYSDIR} in kmod.mk); a full
#                  freebsd-src "sys" works, so does a partial one
#   HDRS/include/  an installed /usr/include of the same release (machine/, x86/, sys/,
#                  vm/...), searched after HDRS/sys; optional with a full sys/ tree
#   HDRS/gen/      the generated device_if.h bus_if.h pci_if.h ifdi_if.h; if absent and
#                  HDRS/sys/tools/makeobjops.awk exists they are generated from the .m files
#   HDRS/VERSION   one line naming the sources and release (printed)
#   HDRS/CFLAGS    optional extra flags (e.g. -D__FreeBSD_version=1403000 when the
#                  installed sys/param.h had it removed)
#
# --prepare-rtems builds such a tree from an RTEMS/rtems-libbsd checkout of branch
# 7-freebsd-14 (FreeBSD releng/14.3 net/, dev/, contrib/ck and the generated *_if.h;
# rtems-libbsd patches sys/sys/*.h for RTEMS, so those are not used) and the FreeBSD
# /usr/include that the PyPI ziglang wheel carries (0.15.2: FreeBSD 14.0; pass
# .../ziglang/lib/libc/include, which holds generic-freebsd and x86_64-freebsd-none).
# RTEMS_REV names the rtems-libbsd commit in VERSION when the checkout is not a git tree.
# --prepare-zig takes net/ (iflib.h) from the wheel too: with ziglang==0.17.1 and
# 1500068 that checks the module against FreeBSD 15.0's iflib layouts.
set -euo pipefail

if [ "${1:-}" = --prepare-rtems ] || [ "${1:-}" = --prepare-zig ]; then
	mode=$1
	rtems=$(cd "$2" && pwd); zig=$(cd "$3" && pwd); dst=$4
	ver=${5:-1403000}
	[ -f "$rtems/freebsd/sys/net/iflib.h" ] || { echo "no rtems-libbsd tree at $rtems" >&2; exit 1; }
	mkdir -p "$dst/sys" "$dst/gen/rtems/bsd" "$dst/include"
	# --prepare-rtems: net/ from rtems-libbsd (14.3); --prepare-zig: net/ from the wheel's
	# /usr/include (its release), with dev/pci and the *_if.h still from 14.3.
	dirs="dev contrib"
	[ "$mode" = --prepare-rtems ] && dirs="net dev contrib"
	for d in $dirs; do ln -sfn "$rtems/freebsd/sys/$d" "$dst/sys/$d"; done
	for h in device bus pci ifdi; do
		cp "$rtems/rtemsbsd/include/rtems/bsd/local/${h}_if.h" "$dst/gen/"
	done
	# rtems-libbsd's pcivar.h includes <rtems/bsd/local/pci_if.h>: point it at gen/.
	ln -sfn "$(cd "$dst/gen" && pwd)" "$dst/gen/rtems/bsd/local"
	# generic-freebsd first, then the amd64 files over it (zig's own search order).
	cp -r "$zig/generic-freebsd/." "$dst/include/"
	cp -r "$zig/x86_64-freebsd-none/." "$dst/include/"
	# zig strips __FreeBSD_version from sys/param.h ("defined by the compiler") and
	# guards FreeBSD 15's ssp headers with a version test of its own: undo the guards.
	for f in $(grep -rl '^#if __FreeBSD_version >= 1500500' "$dst/include" || true); do
		sed -i.zig 's|^#if __FreeBSD_version >= 1500500|#if 1 /* zig guard undone */|' "$f"
		rm -f "$f.zig"
	done
	echo "-D__FreeBSD_version=$ver" > "$dst/CFLAGS"
	rb=${RTEMS_REV:-$(git -C "$rtems" rev-parse --short HEAD 2>/dev/null || echo "?")}
	if [ "$mode" = --prepare-rtems ]; then
		echo "FreeBSD 14.3 (rtems-libbsd 7-freebsd-14 @ $rb: net/ dev/ contrib/ck, *_if.h)" \
			"+ FreeBSD /usr/include of the ziglang wheel (sys/ machine/ x86/ vm/)" > "$dst/VERSION"
	else
		echo "FreeBSD $ver /usr/include of the ziglang wheel (sys/ net/ machine/ x86/ vm/)" \
			"+ 14.3 dev/pci, contrib/ck, *_if.h (rtems-libbsd 7-freebsd-14 @ $rb)" > "$dst/VERSION"
	fi
	echo "prepared $dst: $(cat "$dst/VERSION")"
	exit 0
fi

hdrs=$(cd "${1:?usage: fbsd-compile.sh HDRS OUTDIR [RUST_OBJ]}" && pwd)
out=${2:?usage: fbsd-compile.sh HDRS OUTDIR [RUST_OBJ]}
rust_obj=${3:-}
here=$(cd "$(dirname "$0")" && pwd)
# FreeBSD 14.3's base compiler is clang 19. Debian 12's default clang 14 reaches
# __stack_chk_guard through the GOT (REX_GOTPCRELX, which kldload refuses) even with
# -fno-pic, so prefer a newer clang when one is installed (Debian: clang-19).
if [ -z "${CC:-}" ]; then
	CC=clang
	for v in 19 18 17 16 15; do
		if command -v "clang-$v" >/dev/null; then CC=clang-$v; break; fi
	done
fi
LD=${LD:-ld.lld}
mkdir -p "$out/cobj"
out=$(cd "$out" && pwd)

echo "fbsd-compile: headers: $(cat "$hdrs/VERSION" 2>/dev/null || echo "$hdrs")"
echo "fbsd-compile: compiler: $("$CC" --version | head -1)"
command -v "$CC" >/dev/null || { echo "fbsd-compile: needs clang (Debian: apt-get install clang)" >&2; exit 1; }

gen=$hdrs/gen
if [ ! -f "$gen/ifdi_if.h" ]; then
	awkf=$hdrs/sys/tools/makeobjops.awk
	[ -f "$awkf" ] || { echo "fbsd-compile: no $gen/ifdi_if.h and no $awkf" >&2; exit 1; }
	gen=$out/gen; mkdir -p "$gen"
	for m in kern/device_if.m kern/bus_if.m dev/pci/pci_if.m net/ifdi_if.m; do
		(cd "$gen" && awk -f "$awkf" -- -h "$hdrs/sys/$m")
	done
fi

# What kmod.mk generates when there is no KERNBUILDDIR: opt_global.h with the GENERIC
# defaults that change structure layouts or code paths (VIMAGE above all).
cat > "$out/cobj/opt_global.h" <<'EOF'
#define SMP 1
#define MAC 1
#define VIMAGE 1
EOF

inc=(-I"$out/cobj" -I"$gen" -I"$hdrs/sys" -I"$hdrs/sys/contrib/ck/include")
[ -d "$hdrs/include" ] && inc+=(-I"$hdrs/include")
if [ -d "$hdrs/sys/amd64/include" ]; then
	# A full source tree: kmod.mk's machine/ and x86/ symlinks.
	ln -sfn "$hdrs/sys/amd64/include" "$out/cobj/machine"
	ln -sfn "$hdrs/sys/x86/include" "$out/cobj/x86"
fi
extra=()
[ -f "$hdrs/CFLAGS" ] && read -r -a extra < "$hdrs/CFLAGS"

# sys/conf/kern.mk (amd64, clang) and sys/conf/kmod.mk. -fno-pic: kern.mk relies on the
# FreeBSD compiler's non-PIC default; Debian's clang defaults to PIE even for a FreeBSD
# target, which turns __stack_chk_guard accesses into REX_GOTPCRELX.
cflags=(--target=x86_64-unknown-freebsd14.3 -O2 -pipe -fno-strict-aliasing -Werror
	-D_KERNEL -DKLD_MODULE -nostdinc "${inc[@]}" -include opt_global.h
	-fno-common -ffreestanding -fwrapv -fstack-protector -g -fno-pic
	-mcmodel=kernel -mno-red-zone -mno-mmx -mno-sse -msoft-float
	-fno-asynchronous-unwind-tables -mno-aes -mno-avx
	-fno-omit-frame-pointer -mno-omit-leaf-frame-pointer
	-std=gnu99 -Wall -Wstrict-prototypes -Wmissing-prototypes -Wpointer-arith
	-Wcast-qual -Wundef -Wno-pointer-sign -D__printf__=__freebsd_kprintf__
	-Wmissing-include-dirs -fdiagnostics-show-option -Wno-unknown-pragmas -Wswitch
	"${extra[@]}")

# The C compiler checks the C side of the method tables; this checks the Rust side:
# every ravf_if_<m> against ifdi_<m>_t, every ravf_isc_<cb> against struct if_txrx.
iflib_h=$hdrs/sys/net/iflib.h
[ -f "$iflib_h" ] || iflib_h=$hdrs/include/net/iflib.h
python3 "$here/abi-gen.py" --check-sigs "$gen/ifdi_if.h" "$iflib_h"

objs=()
bad=""
for c in "$here"/*.c; do
	o=$out/cobj/$(basename "$c" .c).o
	# Compile every file even after a failure, so one run shows every problem.
	if "$CC" "${cflags[@]}" -c "$c" -o "$o"; then
		echo "  cc    $(basename "$c")"
	else
		echo "  FAIL  cc $(basename "$c")"
		bad="$bad $(basename "$c")"
	fi
	objs+=("$o")
done
[ -z "$bad" ] || { echo "fbsd-compile: failed:$bad" >&2; exit 1; }

# kmod.mk: ${LD} -m elf_x86_64_fbsd -d -warn-common --build-id=sha1 -r -o ${KMOD}.ko.
# (-d is only for non-lld linkers or lld < 14.)
"$LD" -m elf_x86_64_fbsd -warn-common --build-id=sha1 -r -o "$out/if_ravf.o" \
	"${objs[@]}" ${rust_obj:+"$rust_obj"}
echo "fbsd-compile: $out/if_ravf.o ($(basename -a "${objs[@]}" | tr '\n' ' ')${rust_obj:+ + $(basename "$rust_obj")})"
