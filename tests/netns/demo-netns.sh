#!/usr/bin/env bash
# make demo-netns: two network namespaces, each with a TAP interface backed by one
# ravf instance on one emulated VF (examples/ixl0.conf), and real Linux traffic
# between them: ping (IPv4, IPv6, 9000-byte jumbo), iperf3 TCP both ways, UDP,
# VLAN 100 (when the kernel has 802.1Q), and a PF reset of VF0 under traffic.
#
#   ns ra: ravf0 10.77.0.1/24 fd77::1/64          ns rb: ravf1 10.77.0.2/24 fd77::2/64
#        |                                               ^
#        TAP (virtio-net header: GSO + partial checksums) |
#        v                                               |
#   ravf-netns: iflib stand-in -> ravf (VF0) -> emulator TX/TSO/csum -> VEB
#               -> emulator RX (VF1) -> ravf -> iflib stand-in -> TAP ravf1
#
# Needs root (namespaces, /dev/net/tun). Installs iproute2, iperf3 and iputils-ping
# with apt-get when missing. Prints one summary line
#   netns: ping_loss=0% tcp_mbit=N tso_ctx=N csum_req=N violations=0
# and exits non-zero when anything failed. The namespaces are removed on exit.
#
# Environment (tests/netns/README.md): RAVF_NETNS_NAMES (the two namespaces,
# default "ra,rb"; the integration test uses its own so that runs do not collide),
# RAVF_NETNS_BIN (a built ravf-netns; otherwise cargo builds it), RAVF_NETNS_CONFIG
# (an iovctl.conf), PING_COUNT (default 200), IPERF_SECONDS (default 3), and =0 to
# skip a part: RAVF_NETNS_JUMBO, RAVF_NETNS_IPV6, RAVF_NETNS_VLAN, RAVF_NETNS_RESET.

set -uo pipefail

# The whole script is one compound command, so bash has read all of it before it
# runs any of it: editing this file during a run cannot change that run.
{

RAVF_NETNS_NAMES=${RAVF_NETNS_NAMES:-ra,rb}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
NS_A=${RAVF_NETNS_NAMES%%,*}
NS_B=${RAVF_NETNS_NAMES##*,}
TAP_A=ravf0
TAP_B=ravf1
IP_A=10.77.0.1
IP_B=10.77.0.2
IP6_A=fd77::1
IP6_B=fd77::2
PING_COUNT=${PING_COUNT:-200}
IPERF_SECONDS=${IPERF_SECONDS:-3}
JUMBO=${RAVF_NETNS_JUMBO:-1}
VLAN=${RAVF_NETNS_VLAN:-1}
RESET=${RAVF_NETNS_RESET:-1}
VID=100
IPV6=${RAVF_NETNS_IPV6:-1}
CONFIG=${RAVF_NETNS_CONFIG:-$ROOT/examples/ixl0.conf}

WORK=$(mktemp -d /tmp/ravf-netns.XXXXXX)
PUMP_PID=""
IPERF_PID=""
FAILURES=()

say() { echo "netns: $*"; }
fail() { FAILURES+=("$*"); echo "netns: FAIL: $*"; }
die() {
	echo "netns: FAIL: $*" >&2
	echo "netns: ping_loss=? tcp_mbit=0 tso_ctx=0 csum_req=0 violations=? (setup failed)"
	exit 1
}

# shellcheck disable=SC2317 # invoked by the EXIT trap
cleanup() {
	# shellcheck disable=SC2086 # a list of PIDs
	if [ -n "$IPERF_PID" ]; then kill $IPERF_PID 2>/dev/null; fi
	if [ -n "$PUMP_PID" ] && kill -0 "$PUMP_PID" 2>/dev/null; then
		kill -TERM "$PUMP_PID" 2>/dev/null
		wait "$PUMP_PID" 2>/dev/null
	fi
	ip netns del "$NS_A" 2>/dev/null
	ip netns del "$NS_B" 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- prerequisites -------------------------------------------------------------
[ "$(id -u)" = 0 ] || die "needs root (network namespaces and TAP devices); try: sudo make demo-netns"
[ -c /dev/net/tun ] || modprobe tun 2>/dev/null
[ -c /dev/net/tun ] || die "/dev/net/tun is missing (no TUN/TAP support in this kernel?)"

missing=()
command -v ip >/dev/null || missing+=(iproute2)
command -v iperf3 >/dev/null || missing+=(iperf3)
command -v ping >/dev/null || missing+=(iputils-ping)
if [ ${#missing[@]} -gt 0 ]; then
	say "installing ${missing[*]} with apt-get"
	export DEBIAN_FRONTEND=noninteractive
	{ apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$WORK/apt.log" 2>&1 ||
		{ cat "$WORK/apt.log"; die "apt-get install ${missing[*]} failed"; }
fi

if [ -n "${RAVF_NETNS_BIN:-}" ]; then
	BIN=$RAVF_NETNS_BIN
else
	say "building ravf-netns (cargo build --release)"
	(cd "$ROOT" && ${CARGO:-cargo} build -q --release -p ravf-harness --bin ravf-netns) || die "cargo build failed"
	TD=${CARGO_TARGET_DIR:-$ROOT/target}
	case "$TD" in /*) ;; *) TD=$ROOT/$TD ;; esac
	BIN=$TD/release/ravf-netns
fi
[ -x "$BIN" ] || die "no ravf-netns binary at $BIN"

# ---- namespaces and the pump -------------------------------------------------------
case "$NS_A,$NS_B" in
*[!A-Za-z0-9_.,-]* | ,* | *, | *,*,*) die "RAVF_NETNS_NAMES must be two names separated by a comma" ;;
esac
[ "$NS_A" != "$NS_B" ] || die "RAVF_NETNS_NAMES must name two different namespaces"
# One run per pair of names at a time: a namespace that exists while nobody holds
# its lock is left over from a killed run and is removed.
mkdir -p /run/lock
exec 9>"/run/lock/ravf-netns.$NS_A.$NS_B.lock"
flock -n 9 || die "another demo-netns run is using namespaces $NS_A and $NS_B"
for ns in "$NS_A" "$NS_B"; do
	if ip netns list | grep -qw "^$ns"; then
		say "removing namespace $ns left over from an earlier run"
		ip netns del "$ns"
	fi
	ip netns add "$ns" || die "ip netns add $ns failed"
	ip -n "$ns" link set lo up
done

"$BIN" --config "$CONFIG" --ns "$NS_A,$NS_B" --tap "$TAP_A,$TAP_B" \
	--ready "$WORK/ready" --stats "$WORK/stats" --max-seconds 900 >"$WORK/pump.log" 2>&1 9>&- &
PUMP_PID=$!
for _ in $(seq 1 600); do
	[ -s "$WORK/ready" ] && break
	kill -0 "$PUMP_PID" 2>/dev/null || break
	sleep 0.1
done
if [ ! -s "$WORK/ready" ]; then
	cat "$WORK/pump.log"
	die "ravf-netns did not come up"
fi
sed 's/^/  /' "$WORK/pump.log"

for side in "$NS_A $TAP_A $IP_A $IP6_A" "$NS_B $TAP_B $IP_B $IP6_B"; do
	read -r ns tap ip ip6 <<<"$side"
	if [ "$IPV6" = 1 ]; then
		# No router solicitations (there is no router) and no DAD delay. Neighbour
		# discovery goes through the VFs' multicast filters: ravf-netns gives ravf
		# the groups Linux joined on the TAP (its solicited-node addresses).
		ip netns exec "$ns" sysctl -qw net.ipv6.conf."$tap".accept_dad=0 net.ipv6.conf."$tap".router_solicitations=0 >/dev/null 2>&1
	else
		ip netns exec "$ns" sysctl -qw net.ipv6.conf."$tap".disable_ipv6=1 >/dev/null 2>&1
	fi
	ip -n "$ns" addr add "$ip/24" dev "$tap" || die "address on $tap"
	ip -n "$ns" link set "$tap" mtu 1500 up || die "link up $tap"
	if [ "$IPV6" = 1 ]; then
		ip -n "$ns" addr add "$ip6/64" dev "$tap" nodad || die "IPv6 address on $tap"
	fi
done
MAC_A=$(ip -n "$NS_A" -o link show "$TAP_A" | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
MAC_B=$(ip -n "$NS_B" -o link show "$TAP_B" | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
V6_A=""
V6_B=""
if [ "$IPV6" = 1 ]; then
	V6_A=" $IP6_A/64"
	V6_B=" $IP6_B/64"
fi
say "$NS_A: $TAP_A $MAC_A $IP_A/24$V6_A    $NS_B: $TAP_B $MAC_B $IP_B/24$V6_B"
if command -v ethtool >/dev/null; then
	say "$TAP_A offloads: $(ip netns exec "$NS_A" ethtool -k "$TAP_A" 2>/dev/null |
		grep -E '^(tx-checksumming|tcp-segmentation-offload|generic-segmentation-offload):' | tr -s ' \n' ' ')"
fi

# ---- ping ---------------------------------------------------------------------------
WORST_LOSS=0
# ping_run NAME NS ARGS...: run ping -q, record the loss.
ping_run() {
	local name=$1 ns=$2
	shift 2
	local out loss
	out=$(ip netns exec "$ns" ping -q "$@" 2>&1)
	loss=$(sed -n 's/.* \([0-9.]*\)% packet loss.*/\1/p' <<<"$out")
	local rtt
	rtt=$(sed -n 's/^rtt .* = \(.*\)/\1/p' <<<"$out")
	if [ -z "$loss" ]; then
		echo "$out" | sed 's/^/    /'
		fail "$name: ping produced no statistics"
		WORST_LOSS=100
		return
	fi
	say "$name: $(grep -E 'packets transmitted' <<<"$out"), rtt min/avg/max/mdev $rtt"
	if [ "$loss" != 0 ]; then
		fail "$name: ${loss}% packet loss"
	fi
	if awk -v a="$loss" -v b="$WORST_LOSS" 'BEGIN { exit !(a > b) }'; then WORST_LOSS=$loss; fi
}

ping_run "ping $IP_A -> $IP_B (x$PING_COUNT, 10 ms)" "$NS_A" -c "$PING_COUNT" -i 0.01 -W 2 "$IP_B"
ping_run "ping $IP_B -> $IP_A (x100, 10 ms, 1400 bytes)" "$NS_B" -c 100 -i 0.01 -W 2 -s 1400 "$IP_A"
if [ "$IPV6" = 1 ]; then
	# The neighbour solicitation went to fd77::2's solicited-node group, which ravf
	# programmed into VF1's multicast filter from the TAP's list:
	grep 'multicast list' "$WORK/pump.log" | tail -2 | sed 's/^/  /'
	ping_run "ping $IP6_A -> $IP6_B (x100, 10 ms, neighbour discovery through the VFs)" "$NS_A" -6 -c 100 -i 0.01 -W 2 "$IP6_B"
fi

# ---- iperf3 ----------------------------------------------------------------------------
ip netns exec "$NS_B" iperf3 -s -B "$IP_B" >"$WORK/iperf-server.log" 2>&1 9>&- &
IPERF_PID=$!
if [ "$IPV6" = 1 ]; then
	ip netns exec "$NS_B" iperf3 -s -B "$IP6_B" -p 5202 >"$WORK/iperf6-server.log" 2>&1 9>&- &
	IPERF_PID="$IPERF_PID $!"
fi
sleep 0.5

# iperf_run VAR NAME ARGS...: one client run from ns A; sets VAR to the receiver's
# Mbit/s (0 when the run failed).
iperf_run() {
	local var=$1 name=$2
	shift 2
	local out mbit
	out=$(ip netns exec "$NS_A" timeout $((IPERF_SECONDS + 30)) iperf3 -f m "$@" 2>&1)
	mbit=$(awk '/receiver/ { for (i = 2; i <= NF; i++) if ($i == "Mbits/sec") print $(i - 1) }' <<<"$out" | tail -1)
	if [ -z "$mbit" ]; then
		echo "$out" | tail -5 | sed 's/^/    /'
		fail "$name: iperf3 did not complete"
		printf -v "$var" '%s' 0
		return
	fi
	local extra
	case " $* " in
	*" -u "*) extra=$(awk '/receiver/ { for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+\/[0-9]+$/) print $i " datagrams lost " $(i + 1) }' <<<"$out" | tail -1) ;;
	*) extra=$(awk '/sender/ { print $(NF-1) " retransmits" }' <<<"$out" | tail -1) ;;
	esac
	say "$name: $mbit Mbit/s (receiver), $extra"
	if awk -v m="$mbit" 'BEGIN { exit !(m <= 0) }'; then fail "$name: no throughput"; fi
	printf -v "$var" '%s' "$mbit"
}

MBIT_AB=0
MBIT_BA=0
MBIT6=""
MBIT_P=""
iperf_run MBIT_AB "iperf3 TCP $IP_A -> $IP_B ${IPERF_SECONDS}s" -c "$IP_B" -t "$IPERF_SECONDS"
iperf_run MBIT_BA "iperf3 TCP $IP_B -> $IP_A ${IPERF_SECONDS}s (-R)" -c "$IP_B" -t "$IPERF_SECONDS" -R
# Four flows: spread over the TX queues (by flow hash) and the RX queues (RSS).
iperf_run MBIT_P "iperf3 TCP $IP_A -> $IP_B 4 streams 2s" -c "$IP_B" -t 2 -P 4
# UDP: checksum offload of UDP (CSUM_IP_UDP). Datagram loss is reported, not failed:
# UDP has no flow control, so datagrams are lost where a queue overflows: the
# sending TAP's queue when ravf-netns cannot keep up (its tx_dropped), or the
# receiving socket's buffer (UdpRcvbufErrors). Frames lost between the TAPs would
# show as emulator no-desc drops in the summary.
MBIT_U=""
iperf_run MBIT_U "iperf3 UDP $IP_A -> $IP_B 200 Mbit/s 1s" -c "$IP_B" -u -b 200M -l 1400 -t 1
if command -v nstat >/dev/null; then
	say "  where: $TAP_A tx_dropped $(ip netns exec "$NS_A" cat "/sys/class/net/$TAP_A/statistics/tx_dropped" 2>/dev/null)," \
		"$NS_B $(ip netns exec "$NS_B" nstat -asz UdpInDatagrams UdpRcvbufErrors 2>/dev/null | awk 'NR > 1 { printf "%s %s ", $1, $2 }')"
fi
if [ "$IPV6" = 1 ]; then
	iperf_run MBIT6 "iperf3 TCP $IP6_A -> $IP6_B 2s" -c "$IP6_B" -p 5202 -t 2
fi

# ---- payload integrity ------------------------------------------------------------------
# iperf3 does not check what arrives. 32 MiB of random bytes over one TCP connection
# (bash's /dev/tcp to a perl listener; both in Debian's base system), compared by
# SHA-256: every TSO segment, checksum and reassembly on the way was right.
# xfer_check NAME FROM_NS TO_NS LISTEN_ADDR PORT CONNECT_ADDR
xfer_check() {
	local name=$1 from=$2 to=$3 laddr=$4 port=$5 caddr=$6
	rm -f "$WORK/xfer.out"
	ip netns exec "$to" timeout 60 perl -MIO::Socket::IP -e '
		my $s = IO::Socket::IP->new(LocalHost => $ARGV[1], LocalPort => $ARGV[2], Listen => 1, ReuseAddr => 1)
			or die "listen: $!";
		my $c = $s->accept or die "accept: $!";
		open(my $f, ">", $ARGV[0]) or die "$ARGV[0]: $!";
		binmode $c; binmode $f;
		my $b;
		while (sysread($c, $b, 65536)) { print $f $b or die "write: $!" }
		close $f or die "close: $!";' "$WORK/xfer.out" "$laddr" "$port" 9>&- &
	local lpid=$!
	local t0 t1
	t0=$(date +%s.%N)
	# Until the listener is up (a refused connection has sent nothing).
	ip netns exec "$from" timeout 60 bash -c '
		for _ in $(seq 100); do
			{ exec 3>"/dev/tcp/$2/$3"; } 2>/dev/null && exec cat "$1" >&3
			sleep 0.1
		done
		echo "cannot connect to $2 port $3" >&2
		exit 1' _ "$WORK/xfer.in" "$caddr" "$port"
	wait "$lpid"
	t1=$(date +%s.%N)
	local want got
	want=$(sha256sum <"$WORK/xfer.in" | cut -c1-16)
	got=$(sha256sum <"$WORK/xfer.out" 2>/dev/null | cut -c1-16)
	if [ "$want" = "$got" ]; then
		say "$name: 32 MiB, SHA-256 $got... identical ($(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s)"
	else
		fail "$name: the bytes received differ from the bytes sent (SHA-256 $want... vs ${got:-nothing}...)"
	fi
}
head -c $((32 << 20)) /dev/urandom >"$WORK/xfer.in"
xfer_check "TCP payload $IP_A -> $IP_B" "$NS_A" "$NS_B" "$IP_B" 5990 "$IP_B"
if [ "$IPV6" = 1 ]; then
	xfer_check "TCP payload $IP6_B -> $IP6_A" "$NS_B" "$NS_A" "$IP6_A" 5991 "$IP6_A"
else
	xfer_check "TCP payload $IP_B -> $IP_A" "$NS_B" "$NS_A" "$IP_A" 5991 "$IP_A"
fi

# ---- VLAN 100 on both TAPs --------------------------------------------------------------
# Linux's VLAN devices over the TAPs; ravf-netns registers the VID with ravf
# (vlan_register, as vlan(4)'s vlan_config event does) and moves the tag from the
# frame to M_VLANTAG, so the VF inserts it; on receive the stripped tag goes back
# into the frame for Linux.
MBIT_V=""
if [ "$VLAN" = 1 ] && ! ip -n "$NS_A" link add link "$TAP_A" name "$TAP_A.$VID" type vlan id "$VID" 2>"$WORK/vlan.err"; then
	if grep -qi "unknown device type" "$WORK/vlan.err"; then
		say "VLAN part skipped: this kernel has no 802.1Q VLAN devices (CONFIG_VLAN_8021Q)"
	else
		fail "could not create VLAN device $TAP_A.$VID in $NS_A: $(cat "$WORK/vlan.err")"
	fi
	VLAN=0
fi
if [ "$VLAN" = 1 ]; then
	ip -n "$NS_B" link add link "$TAP_B" name "$TAP_B.$VID" type vlan id "$VID" ||
		fail "could not create VLAN device $TAP_B.$VID in $NS_B"
	for side in "$NS_A $TAP_A 10.77.$VID.1" "$NS_B $TAP_B 10.77.$VID.2"; do
		read -r ns tap ip <<<"$side"
		ip -n "$ns" addr add "$ip/24" dev "$tap.$VID" &&
			ip -n "$ns" link set "$tap.$VID" up ||
			fail "could not create VLAN device $tap.$VID in $ns"
	done
	for _ in $(seq 1 50); do
		[ "$(grep -c "vlan_register($VID)" "$WORK/pump.log")" -ge 2 ] && break
		sleep 0.1
	done
	grep "vlan_register($VID)" "$WORK/pump.log" | sed 's/^/  /'
	ping_run "ping 10.77.$VID.1 -> 10.77.$VID.2 on VLAN $VID (x50, 10 ms)" "$NS_A" -c 50 -i 0.01 -W 2 "10.77.$VID.2"
	ip netns exec "$NS_B" iperf3 -s -B "10.77.$VID.2" -p 5203 >"$WORK/iperf-vlan-server.log" 2>&1 9>&- &
	IPERF_PID="$IPERF_PID $!"
	sleep 0.3
	iperf_run MBIT_V "iperf3 TCP 10.77.$VID.1 -> 10.77.$VID.2 on VLAN $VID 2s" -c "10.77.$VID.2" -p 5203 -t 2
	ip -n "$NS_A" link del "$TAP_A.$VID"
	ip -n "$NS_B" link del "$TAP_B.$VID"
	for _ in $(seq 1 50); do
		[ "$(grep -c "vlan_unregister($VID)" "$WORK/pump.log")" -ge 2 ] && break
		sleep 0.1
	done
	[ "$(grep -c "vlan_unregister($VID)" "$WORK/pump.log")" -ge 2 ] ||
		fail "the VLAN devices' removal did not reach ravf (vlan_unregister)"
fi

# ---- jumbo frames ---------------------------------------------------------------------
MBIT_J=""
if [ "$JUMBO" = 1 ]; then
	ip -n "$NS_A" link set "$TAP_A" mtu 9000 && ip -n "$NS_B" link set "$TAP_B" mtu 9000 ||
		fail "could not set MTU 9000 on the TAPs"
	# ravf-netns mirrors the MTU into ravf (SIOCSIFMTU: stop, MTU_SET, init); wait
	# for both, then let the links settle with a few unmeasured pings.
	for _ in $(seq 1 50); do
		[ "$(grep -c 'MTU 1500 -> 9000' "$WORK/pump.log")" -ge 2 ] && break
		sleep 0.1
	done
	grep 'MTU 1500 -> 9000' "$WORK/pump.log" | sed 's/^/  /'
	ip netns exec "$NS_A" ping -q -c 3 -i 0.2 -W 1 "$IP_B" >/dev/null 2>&1
	ping_run "ping $IP_A -> $IP_B MTU 9000 (x50, 8972 bytes, DF)" "$NS_A" -c 50 -i 0.02 -W 2 -s 8972 -M "do" "$IP_B"
	iperf_run MBIT_J "iperf3 TCP $IP_A -> $IP_B MTU 9000 2s" -c "$IP_B" -t 2
fi

# ---- a PF-initiated reset of VF0 in the middle of a TCP stream --------------------------
# SIGUSR1 makes the emulated PF send RESET_IMPENDING to VF0 and reset it. ravf must
# notice, report link down (the TAP's carrier goes off), re-negotiate, replay its
# state (MAC, MTU 9000 when the jumbo part ran) and come back; the stream stalls,
# TCP retransmits, and the transfer completes.
MBIT_R=""
if [ "$RESET" = 1 ]; then
	(sleep 1.5 && kill -USR1 "$PUMP_PID") &
	KICK_PID=$!
	iperf_run MBIT_R "iperf3 TCP $IP_A -> $IP_B 5s with a PF reset of VF0 at 1.5 s" -c "$IP_B" -t 5
	wait "$KICK_PID"
	grep -E 'SIGUSR1|VF0 link' "$WORK/pump.log" | sed 's/^/  /'
	grep -q 'SIGUSR1' "$WORK/pump.log" || fail "the reset was not triggered"
	if [ "$JUMBO" = 1 ]; then
		# The replayed MTU: 9000-byte frames still pass.
		ping_run "ping $IP_A -> $IP_B after the reset (x50, 10 ms, 8972 bytes, DF)" "$NS_A" -c 50 -i 0.01 -W 2 -s 8972 -M "do" "$IP_B"
	else
		ping_run "ping $IP_A -> $IP_B after the reset (x50, 10 ms)" "$NS_A" -c 50 -i 0.01 -W 2 "$IP_B"
	fi
fi

# ---- stop the pump, collect its verdict ------------------------------------------------
kill -TERM "$PUMP_PID"
wait "$PUMP_PID"
PUMP_RC=$?
PUMP_PID=""
for p in $IPERF_PID; do kill "$p" 2>/dev/null; done
IPERF_PID=""
sed -n '/ravf-netns: summary/,$p' "$WORK/pump.log" | sed 's/^/  /'
grep 'violation:' "$WORK/pump.log" | head -20 | sed 's/^/  /'
[ "$PUMP_RC" = 0 ] || fail "ravf-netns exited with status $PUMP_RC"

stat_of() { sed -n "s/^$1=//p" "$WORK/stats" 2>/dev/null | head -1; }
TSO_CTX=$(stat_of tso_ctx)
CSUM_REQ=$(stat_of csum_req)
VIOL=$(stat_of violations)
RX_VALID=$(stat_of rx_data_valid)
RX_BAD=$(stat_of rx_bad_csum)
TX_VLAN=$(stat_of tx_vlan)
RESETS=$(stat_of resets)
LINK_UP=$(stat_of link_up_at_exit)
VLAN_INS=$(stat_of vlan_inserted)
TX_GSO=$(stat_of tx_gso)
TX_DROPPED=$(stat_of tx_dropped)
[ -n "$VIOL" ] || fail "ravf-netns wrote no statistics"
[ "${VIOL:-1}" = 0 ] || fail "${VIOL:-?} violations"
[ "${TX_GSO:-0}" -gt 0 ] || fail "Linux handed over no GSO frames (TUNSETOFFLOAD not in effect?)"
[ "${TX_DROPPED:-0}" = 0 ] || fail "$TX_DROPPED frames from Linux could not be translated (ravf-netns --verbose says why)"
[ "${TSO_CTX:-0}" -gt 0 ] || fail "no TSO context descriptors reached the emulator"
[ "${CSUM_REQ:-0}" -gt 0 ] || fail "no checksum offload requests reached the emulator"
[ "${RX_VALID:-0}" -gt 0 ] || fail "no received frame was marked DATA_VALID from ravf's checksum status"
if [ "$VLAN" = 1 ]; then
	[ "${TX_VLAN:-0}" -gt 0 ] || fail "no VLAN frames came from Linux"
	[ "${VLAN_INS:-0}" -gt 0 ] || fail "the emulator inserted no VLAN tags (M_VLANTAG not reaching txd_encap?)"
fi
if [ "$RESET" = 1 ]; then
	[ "${RESETS:-0}" -ge 1 ] || fail "the emulator saw no VF reset"
fi
[ "${LINK_UP:-false}" = true ] || fail "a VF's link was not up at the end"
[ "${RX_BAD:-1}" = 0 ] || fail "${RX_BAD:-?} received frames had bad checksums (every one was checksummed by TX offload)"

# The slower direction is the figure; every direction is printed above.
TCP_MBIT=$(printf '%s\n' "$MBIT_AB" "$MBIT_BA" | sort -g | head -1)
say "iperf3 Mbit/s: tcp a->b ${MBIT_AB:-0}, tcp b->a ${MBIT_BA:-0}${MBIT_P:+, 4 streams a->b $MBIT_P}${MBIT_U:+, udp a->b $MBIT_U}${MBIT6:+, ipv6 a->b $MBIT6}${MBIT_V:+, vlan a->b $MBIT_V}${MBIT_R:+, across a reset a->b $MBIT_R}${MBIT_J:+, mtu9000 a->b $MBIT_J}"
echo "netns: ping_loss=${WORST_LOSS}% tcp_mbit=${TCP_MBIT:-0} tso_ctx=${TSO_CTX:-0} csum_req=${CSUM_REQ:-0} violations=${VIOL:-?}"
if [ ${#FAILURES[@]} -gt 0 ]; then
	echo "netns: FAIL (${#FAILURES[@]} checks)"
	for f in "${FAILURES[@]}"; do echo "  - $f"; done
	exit 1
fi
echo "netns: PASS"
exit 0
}
