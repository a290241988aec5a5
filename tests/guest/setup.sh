#!/bin/bash
# Prepare the fidelity lab from Debian packages, cached outside the repo.
#   usage: setup.sh CACHE_DIR
# Produces, under CACHE_DIR:
#   trixie/            debootstrap minbase tree with QEMU 11.1 (trixie-backports), whose
#                      qemu-system-x86_64 has the vfio-user-pci client (Debian 12's QEMU has not)
#   trixie/lab/vmlinuz Debian's 6.12 kernel (bookworm-backports)
#   trixie/lab/base.cpio.gz  initramfs without /init: busybox, iavf and its module closure
#                      (libie, libeth), 8021q, iperf3, iproute2's ip, ethtool, their libraries
# Each step leaves a stamp, so a rerun with a warm cache takes seconds.
# Runs as root (debootstrap, chroot, apt-get).
set -euo pipefail
C=${1:?cache dir}
mkdir -p "$C"; cd "$C"
T0=$(date +%s)
say() { echo "[setup +$(( $(date +%s) - T0 ))s] $*"; }
# Bump when the recipe changes so stale caches are rebuilt.
RECIPE=3

MIRROR=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
MIRROR=${MIRROR:-http://deb.debian.org/debian}

if [ ! -e stamp.host.$RECIPE ]; then
  say "host packages"
  grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/ ||
    echo "deb $MIRROR bookworm-backports main" > /etc/apt/sources.list.d/ravf-bookworm-backports.list
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    debootstrap busybox-static kmod xz-utils cpio gzip iperf3 ethtool iproute2 >/dev/null
  touch stamp.host.$RECIPE
fi

if [ ! -e stamp.qemu.$RECIPE ]; then
  say "debootstrap trixie minbase + QEMU from trixie-backports"
  [ -x trixie/usr/bin/apt-get ] || debootstrap --variant=minbase trixie trixie "$MIRROR" > debootstrap.log 2>&1
  echo "deb $MIRROR trixie-backports main" > trixie/etc/apt/sources.list.d/backports.list
  chroot trixie apt-get update -qq
  chroot trixie env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    --no-install-recommends -t trixie-backports qemu-system-x86 > qemu-install.log 2>&1
  chroot trixie qemu-system-x86_64 -device vfio-user-pci,help | grep -q 'socket=' ||
    { echo "setup: this QEMU has no vfio-user-pci client" >&2; exit 1; }
  touch stamp.qemu.$RECIPE
fi
say "$(chroot trixie qemu-system-x86_64 --version | head -1)"

if [ ! -e stamp.kernel.$RECIPE ]; then
  say "guest kernel from bookworm-backports"
  rm -rf kernel; mkdir -p kernel trixie/lab
  PKG=$(apt-cache depends -t bookworm-backports linux-image-amd64 | awk '/Depends: linux-image-6/{print $2; exit}')
  [ -n "$PKG" ] || { echo "setup: no bookworm-backports kernel found" >&2; exit 1; }
  ( cd kernel && apt-get download "$PKG" >/dev/null && dpkg-deb -x "$PKG"_*.deb root && rm -f ./*.deb )
  KV=$(ls kernel/root/lib/modules/)
  depmod -b kernel/root "$KV"   # the package ships no modules.dep
  cp kernel/root/boot/vmlinuz-"$KV" trixie/lab/vmlinuz
  echo "$KV" > kernel/version
  touch stamp.kernel.$RECIPE
fi
KV=$(cat kernel/version)
say "kernel $KV"

if [ ! -e stamp.initramfs.$RECIPE ]; then
  say "base initramfs"
  R=initramfs; rm -rf $R
  mkdir -p $R/{bin,sbin,proc,sys,dev,tmp,run,etc,lib/modules,usr/bin,usr/sbin}
  cp /bin/busybox $R/bin/busybox
  # Modules in load order: depth-first over modinfo's depends (modules.dep lists
  # the closure but not the order).
  closure() {
    local m=$1 d
    for d in $(modinfo -b kernel/root -k "$KV" -F depends "$m" | tr , ' '); do closure "$d"; done
    echo "$m"
  }
  ORDER=$( (closure iavf; closure 8021q) | awk '!seen[$0]++')
  for m in $ORDER; do
    f=$(modinfo -b kernel/root -k "$KV" -n "$m")
    case $f in
      *.xz) xz -dc "$f" > $R/lib/modules/"$m".ko ;;
      *.zst) zstd -qdc "$f" > $R/lib/modules/"$m".ko ;;
      *) cp "$f" $R/lib/modules/"$m".ko ;;
    esac
  done
  echo $ORDER > $R/lib/modules/order
  # Host (bookworm) user-space tools with their shared-library closure.
  for b in /usr/bin/iperf3 /usr/sbin/ip /usr/sbin/ethtool; do
    cp "$b" $R/usr/bin/
    for l in $(ldd "$b" | awk '/=>/{print $3} /^\s*\/lib/{print $1}'); do
      mkdir -p "$R$(dirname "$l")"; cp -L "$l" "$R$l"
    done
  done
  mkdir -p $R/lib64; cp -L /lib64/ld-linux-x86-64.so.2 $R/lib64/
  echo "root:x:0:0:root:/:/bin/sh" > $R/etc/passwd
  ( cd $R && find . | cpio -o -H newc 2>/dev/null | gzip -1 > ../trixie/lab/base.cpio.gz )
  say "modules: $ORDER"
  touch stamp.initramfs.$RECIPE
fi
say "ready"
