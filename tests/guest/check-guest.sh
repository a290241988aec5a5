#!/bin/bash
# make check-guest: Linux's own iavf, in a QEMU guest, drives VFs emulated by ravf-sim
# over vfio-user. Prints one summary line beginning "guest:" and exits non-zero if any
# item fails. Needs root (chroot, TAP, addresses); the setup is cached in
# $RAVF_GUEST_CACHE (default /var/tmp/ravf-guest), outside the repository.
#
# Topology: one guest, two vfio-user devices served by one ravf-sim process (VF0 and
# VF1 of the same emulated PF, so they share its VEB); the PF's uplink port is the
# host TAP device $TAP (10.77.0.1/24), where an iperf3 server listens. VLAN 100 of
# the uplink reaches the host untagged on a second TAP, $TAP.v100 (10.77.100.1/24),
# as an external 802.1Q switch's access port would present it (ravf-sim --tap-vlan):
# the host kernel needs no VLAN support. The guest's script is tests/guest/init.
set -uo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
C=${RAVF_GUEST_CACHE:-/var/tmp/ravf-guest}
TAP=${RAVF_GUEST_TAP:-ravfup0}
TAPV=$TAP.v100                      # VLAN 100 access port
TIMEOUT=${RAVF_GUEST_TIMEOUT:-480}
SPEED=${RAVF_GUEST_SPEED:-40000}   # Mbit/s: the link speed the emulated PF reports (not its default)
T0=$(date +%s)
say() { echo "[check-guest +$(( $(date +%s) - T0 ))s] $*"; }
die() { echo "guest: setup-failed ($*)"; exit 1; }
[ "$(id -u)" = 0 ] || die "must run as root"
mkdir -p "$C"
# One run at a time per cache (fixed TAP names, one chroot).
exec 9> "$C/lock"
flock 9 || die "lock $C/lock"

bash "$REPO/tests/guest/setup.sh" "$C" || die "setup.sh"

say "building ravf-sim"
( cd "$REPO" && ${CARGO:-cargo} build -q --release -p ravf-sim --bin ravf-sim ) || die "cargo build"
SIM="${CARGO_TARGET_DIR:-$REPO/target}/release/ravf-sim"
[ -x "$SIM" ] || die "no $SIM"

OUT=$C/last; rm -rf "$OUT"; mkdir -p "$OUT"
RUN=$C/trixie/run/ravf; rm -rf "$RUN"; mkdir -p "$RUN"   # inside the chroot: QEMU sees /run/ravf

# initramfs = cached base + this repo's init (concatenated cpio archives)
T=$(mktemp -d); cp "$REPO/tests/guest/init" "$T/init"; chmod +x "$T/init"
( cd "$T" && echo init | cpio -o -H newc 2>/dev/null | gzip -1 ) > "$OUT/init.cpio.gz"; rm -rf "$T"
cat "$C/trixie/lab/base.cpio.gz" "$OUT/init.cpio.gz" > "$C/trixie/lab/test.cpio.gz"

PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  [ -f "$OUT/iperf3.pid" ] && kill "$(cat "$OUT/iperf3.pid")" 2>/dev/null
  ip link del "$TAP" 2>/dev/null
  ip link del "$TAPV" 2>/dev/null
  wait 2>/dev/null
}
trap cleanup EXIT

say "host network: $TAP, $TAPV"
for t in "$TAP" "$TAPV"; do
  ip link del "$t" 2>/dev/null
  ip tuntap add dev "$t" mode tap || die "tuntap $t"
done
ip link set "$TAP" mtu 9000
ip addr add 10.77.0.1/24 dev "$TAP"
ip addr add 10.77.100.1/24 dev "$TAPV"
ip link set "$TAP" up; ip link set "$TAPV" up
iperf3 -s -D -B 10.77.0.1 --pidfile "$OUT/iperf3.pid" || die "iperf3 server"
snmp() { awk -v k="$1" -v f="$2" '$1==k":" && !h{for(i=2;i<=NF;i++) n[i]=$i; h=1; next} $1==k":" && h{for(i=2;i<=NF;i++) if(n[i]==f) print $i}' /proc/net/snmp; }
TCP_ERR0=$(( $(snmp Tcp InErrs) + $(snmp Tcp InCsumErrors) ))

say "starting ravf-sim"
RAVF_SIM_LOG=${RAVF_SIM_LOG:-info} "$SIM" serve --config "$REPO/tests/guest/ixl0.conf" \
  --socket "$RUN/vf0.sock" --socket "$RUN/vf1.sock" --tap "$TAP" --tap-vlan "100=$TAPV" --ctl "$RUN/ctl.sock" \
  --link-speed "$SPEED" --reset-hold-us "${RAVF_GUEST_RESET_HOLD_US:-20000}" > "$OUT/sim.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do [ -S "$RUN/ctl.sock" ] && break; sleep 0.1; done
[ -S "$RUN/ctl.sock" ] || { cat "$OUT/sim.log"; die "ravf-sim did not start"; }
ctl() { "$SIM" ctl --socket "$RUN/ctl.sock" "$@"; }

say "booting the guest (TCG)"
: > "$OUT/guest.log"
dev() { echo "{\"driver\":\"vfio-user-pci\",\"socket\":{\"path\":\"/run/ravf/$1.sock\",\"type\":\"unix\"}}"; }
timeout "$TIMEOUT" chroot "$C/trixie" qemu-system-x86_64 \
  -machine q35,memory-backend=mem -object memory-backend-memfd,id=mem,size=768M,share=on -m 768M \
  -accel tcg,thread=multi -smp 2 -nographic -vga none -net none -no-reboot \
  -kernel /lab/vmlinuz -initrd /lab/test.cpio.gz -append "console=ttyS0 panic=-1 quiet loglevel=4" \
  -device "$(dev vf0)" -device "$(dev vf1)" > "$OUT/guest.log" 2>&1 &
QEMU=$!; PIDS+=($QEMU)
reset_sent=0
while kill -0 $QEMU 2>/dev/null; do
  if [ $reset_sent = 0 ] && grep -q '^@@RESET_NOW' "$OUT/guest.log"; then
    sleep 1; ctl reset-vf 0 > "$OUT/reset.txt" 2>&1; reset_sent=1; say "PF-initiated reset of VF0: $(cat "$OUT/reset.txt")"
  fi
  sleep 0.2
done
wait $QEMU; QRC=$?
say "guest finished (qemu rc=$QRC)"
ctl stats > "$OUT/stats.txt" 2>&1
ctl violations > "$OUT/violations.txt" 2>&1
ctl events > "$OUT/events.txt" 2>&1
TCP_ERR=$(( $(snmp Tcp InErrs) + $(snmp Tcp InCsumErrors) - TCP_ERR0 ))

# ---- judge ----
G=$(tr -d '\r' < "$OUT/guest.log")
res() { echo "$G" | awk -v it="$1" -v k="$2" '$1=="@@R" && $2==it {for(i=3;i<=NF;i++){split($i,a,"="); if(a[1]==k) print substr($i, length(k)+2)}}' | tail -1; }
# stat KEY [VF]: the emulator counter KEY summed over the served VFs, or of one VF
stat() { awk -v k="$1" -v vf="${2:-}" 'vf=="" || $1=="vf"vf {for(i=1;i<=NF;i++){split($i,a,"="); if(a[1]==k) s+=a[2]}} END{print s+0}' "$OUT/stats.txt"; }
FAIL=()
chk() { if eval "$2"; then :; else FAIL+=("$1"); fi; }
eq0() { [ "${1:-x}" = 0 ] || [ "${1:-x}" = 0.0 ]; }

bound=$(res bind bound); chk bound '[ "${bound:-0}" = 2 ]'
link=$(res link state); speed=$(res link speed)
chk link '[ "$link" = up ] && [ "$speed" = "$SPEED" ]'
tso=$(res offload tso); txcsum=$(res offload txcsum)
chk offload '[ "$tso" = on ] && [ "$txcsum" = on ]'
ping_loss=$(res ping loss); chk ping 'eq0 "$ping_loss"'
tx=$(res tcp tx_mbit); rx=$(res tcp rx_mbit)
tso_ctx=$(stat tso_ctx); csum_req=$(stat csum_req)
chk tcp 'awk -v a="${tx:-0}" -v b="${rx:-0}" "BEGIN{exit !(a>0 && b>0)}" && [ "$tso_ctx" -gt 0 ] && [ "$csum_req" -gt 0 ] && [ "$TCP_ERR" = 0 ]'
jumbo=$(res jumbo loss); jmtu=$(res jumbo mtu); chk jumbo 'eq0 "$jumbo" && [ "$jmtu" = 9000 ]'
vlan=$(res vlan loss); chk vlan 'eq0 "$vlan"'
# VF1's echo replies must have crossed the VEB (VF1 transmitted them; nothing else
# talks to VF1).
vf2vf=$(res vf2vf loss); vf1_tx=$(stat tx_unicast 1); chk vf2vf 'eq0 "$vf2vf" && [ "$vf1_tx" -ge 50 ]'
r_after=$(res reset after_loss); r_lines=$(res reset dmesg_reset_lines)
chk reset '[ $reset_sent = 1 ] && eq0 "$r_after" && [ "${r_lines:-0}" -gt 0 ] && grep -q "^ok" "$OUT/reset.txt"'
mac_rc=$(res macchange rc); mac_now=$(res macchange mac_now)
# Refused by the guest's ip command, MAC unchanged, and refused by the PF (its event log).
chk macchange '[ "${mac_rc:-0}" != 0 ] && [ "$mac_now" = 02:00:00:00:00:10 ] && grep -q "^VF0 refused ADD_ETH_ADDR.*02:00:00:00:00:99" "$OUT/events.txt"'
nviol=$(grep -c . "$OUT/violations.txt" 2>/dev/null); [ -s "$OUT/violations.txt" ] || nviol=0
grep -q '^error' "$OUT/violations.txt" && nviol=unknown
chk violations '[ "$nviol" = 0 ]'
chk done 'echo "$G" | grep -q "^@@DONE"'

ok() { case " ${FAIL[*]} " in *" $1 "*) echo "$2";; *) echo "$3";; esac; }
echo "--- logs in $OUT (guest.log, sim.log, stats.txt, violations.txt, events.txt)"
[ "$nviol" = 0 ] || head -20 "$OUT/violations.txt"
[ ${#FAIL[@]} = 0 ] || echo "failed: ${FAIL[*]}"
echo "guest: bound=${bound:-0} link=${link:-down} speed=${speed:-?} ping_loss=${ping_loss:-?}%" \
  "tcp_mbit=${tx:-0}/${rx:-0} tso_ctx=$tso_ctx csum_req=$csum_req tcp_host_errors=$TCP_ERR" \
  "jumbo=$(ok jumbo fail ok) vlan=$(ok vlan fail ok) vf2vf=$(ok vf2vf fail ok)" \
  "reset=$(ok reset failed recovered) macchange=$(ok macchange accepted refused) violations=$nviol" \
  "wall=$(( $(date +%s) - T0 ))s"
[ ${#FAIL[@]} = 0 ]
