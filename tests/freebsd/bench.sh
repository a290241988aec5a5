#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# Side-by-side benchmark of ravf(4) and iavf(4) on the same Virtual Functions, on FreeBSD.
#
# For each driver in turn (ravf, then iavf) the script binds the given VFs to it with
# devctl(8), configures the first one, and runs the same tests against a peer:
#
#   tcp_tx     iperf3 -c PEER -P STREAMS          TCP throughput, VF sends   (Mbit/s)
#   tcp_rx     iperf3 -c PEER -P STREAMS -R       TCP throughput, VF receives (Mbit/s)
#   udp64_tx   iperf3 -u -l 64 -b 0               small-packet UDP through the stack (Mbit/s)
#   pktgen_tx  pkt-gen -f tx -l 60 (netmap)       64-byte frames on the wire, VF sends (Mpps)
#
# and records, for each, the result and the system's CPU busy % over the run (from
# kern.cp_time), so throughput per CPU can be compared too. It prints a table at the end
# and writes a CSV. The VFs are given back to their original driver on exit.
#
# Needs: root; both if_ravf.ko and iavf (GENERIC has iavf; `kldload if_ravf`); iperf3
# (pkg install iperf3) here and `iperf3 -s` running on the peer; pkt-gen for the netmap
# test (cd /usr/src/tools/tools/netmap && make pkt-gen; skipped if absent).
#
# Usage:
#   tests/freebsd/bench.sh -v pci0:1:0:16 -a 10.9.0.1/24 -p 10.9.0.2 [-m PEER_MAC]
#                          [-t SECONDS] [-P STREAMS] [-r ROUNDS] [-o results.csv]
#                          [-d "ravf iavf"]
#   tests/freebsd/bench.sh --selftest      check the output parsers on recorded samples
#
#   -v SEL   a VF (pciconf -l selector, e.g. pci0:1:0:16); the first -v is the one tested,
#            more -v are rebound too (so every VF of the test runs the same driver)
#   -a CIDR  address for the tested VF      -p IP    the peer's address (iperf3 -s there)
#   -m MAC   the peer's MAC for pkt-gen (default: from arp after a ping)
#   -t SEC   seconds per test (default 30)  -P N     iperf3 streams (default 4)
#   -r N     rounds per test; the median is reported (default 3)
#   -o FILE  CSV output (default bench-<date>.csv)
#   -d LIST  drivers to compare, in order (default "ravf iavf")
set -eu

DURATION=30
STREAMS=4
ROUNDS=3
DRIVERS="ravf iavf"
ADDR=""
PEER=""
PEER_MAC=""
VFS=""
CSV="bench-$(date +%Y%m%d-%H%M%S).csv"

die() { echo "bench: $*" >&2; exit 1; }
log() { echo "bench: $*" >&2; }

# ---- parsers (pure text in, number out; exercised by --selftest) ---------------------

# iperf3 -f m text output: the receiver's rate of the [SUM] line (or the only stream).
parse_iperf3_mbps() {
	awk '/receiver/ { for (i = 1; i < NF; i++) if ($(i + 1) == "Mbits/sec") v = $i;
	                  if ($1 == "[SUM]") sum = v; last = v }
	     END { if (sum != "") print sum; else if (last != "") print last; else print "NA" }'
}

# pkt-gen prints one line per second: "... 14.203 Mpps (14.210 Mpkts 6.820 Gbps in ...".
# Average the per-second rates, in Mpps (Kpps lines are scaled), skipping the first
# second (ramp-up) when there are more than two samples.
parse_pktgen_mpps() {
	awk '{ for (i = 2; i <= NF; i++) {
	         if ($i == "Mpps") { r[n++] = $(i - 1) + 0; break }
	         if ($i == "Kpps") { r[n++] = ($(i - 1) + 0) / 1000; break }
	         if ($i == "pps")  { r[n++] = ($(i - 1) + 0) / 1000000; break } } }
	     END { s = 0; k = 0; for (j = (n > 2 ? 1 : 0); j < n; j++) { s += r[j]; k++ }
	           if (k == 0) print "NA"; else printf "%.3f\n", s / k }'
}

# kern.cp_time is "user nice sys intr idle" ticks since boot; busy % between two samples.
cpu_busy_pct() { # before after
	echo "$1 $2" | awk '{ t = 0; for (i = 1; i <= 5; i++) t += $(i + 5) - $i;
	                      idle = $10 - $5; if (t <= 0) print "NA";
	                      else printf "%.1f\n", 100 * (t - idle) / t }'
}

# Median of numbers on stdin ("NA" if none).
median() {
	grep -v '^NA$' | sort -n | awk '{ v[n++] = $1 } END { if (n == 0) print "NA";
	                                  else if (n % 2) print v[(n - 1) / 2];
	                                  else printf "%.3f\n", (v[n / 2 - 1] + v[n / 2]) / 2 }'
}

selftest() {
	fail=0
	check() { # name got want
		if [ "$2" = "$3" ]; then echo "ok   $1 = $2"; else echo "FAIL $1: got '$2', want '$3'"; fail=1; fi
	}
	got=$(parse_iperf3_mbps <<'EOF'
[ ID] Interval           Transfer     Bitrate         Retr
[  5]   0.00-30.00  sec  8.20 GBytes  2348 Mbits/sec    0             sender
[  5]   0.00-30.00  sec  8.20 GBytes  2347 Mbits/sec                  receiver
[  7]   0.00-30.00  sec  8.10 GBytes  2319 Mbits/sec    3             sender
[  7]   0.00-30.00  sec  8.10 GBytes  2318 Mbits/sec                  receiver
[SUM]   0.00-30.00  sec  16.3 GBytes  4666 Mbits/sec    3             sender
[SUM]   0.00-30.00  sec  16.3 GBytes  4665 Mbits/sec                  receiver
EOF
)
	check "iperf3 [SUM] receiver" "$got" 4665
	got=$(parse_iperf3_mbps <<'EOF'
[  5]   0.00-10.00  sec  10.9 GBytes  9393 Mbits/sec    0             sender
[  5]   0.00-10.04  sec  10.9 GBytes  9350 Mbits/sec                  receiver
EOF
)
	check "iperf3 single stream" "$got" 9350
	got=$(echo "iperf3: error - unable to connect to server" | parse_iperf3_mbps)
	check "iperf3 failure" "$got" NA
	got=$(parse_pktgen_mpps <<'EOF'
151.722436 main_thread [2781] 5.100 Mpps (5.105 Mpkts 2.450 Gbps in 1000981 usec) 256.00 avg_batch 0 min_space
152.723411 main_thread [2781] 14.200 Mpps (14.214 Mpkts 6.823 Gbps in 1000975 usec) 512.00 avg_batch 99999 min_space
153.724398 main_thread [2781] 14.300 Mpps (14.314 Mpkts 6.871 Gbps in 1000987 usec) 512.00 avg_batch 99999 min_space
EOF
)
	check "pkt-gen Mpps, ramp-up skipped" "$got" 14.250
	got=$(echo "1.0 main_thread [2781] 900.000 Kpps (900.9 Kpkts 432 Mbps in 1001000 usec)" | parse_pktgen_mpps)
	check "pkt-gen Kpps" "$got" 0.900
	got=$(cpu_busy_pct "100 0 100 0 800" "150 0 250 50 1550")
	check "cpu busy" "$got" 25.0
	got=$(printf '3\nNA\n1\n2\n' | median)
	check "median odd" "$got" 2
	got=$(printf '4\n1\n' | median)
	check "median even" "$got" 2.500
	return $fail
}

# ---- the run --------------------------------------------------------------------------

if [ "${1:-}" = --selftest ]; then
	selftest
	exit $?
fi

while getopts "v:a:p:m:t:P:r:o:d:" opt; do
	case $opt in
	v) VFS="$VFS $OPTARG" ;;
	a) ADDR=$OPTARG ;;
	p) PEER=$OPTARG ;;
	m) PEER_MAC=$OPTARG ;;
	t) DURATION=$OPTARG ;;
	P) STREAMS=$OPTARG ;;
	r) ROUNDS=$OPTARG ;;
	o) CSV=$OPTARG ;;
	d) DRIVERS=$OPTARG ;;
	*) die "see the usage at the top of $0" ;;
	esac
done
[ "$(uname -s)" = FreeBSD ] || die "runs on FreeBSD (try --selftest elsewhere)"
[ "$(id -u)" = 0 ] || die "must run as root (devctl, ifconfig, netmap)"
[ -n "$VFS" ] && [ -n "$ADDR" ] && [ -n "$PEER" ] || die "need -v SEL, -a CIDR and -p PEER"
command -v iperf3 >/dev/null || die "iperf3 not found (pkg install iperf3)"
PKTGEN=$(command -v pkt-gen || true)
[ -n "$PKTGEN" ] || log "pkt-gen not found: the netmap test is skipped"
kldstat -q -m ravf || kldload if_ravf || die "cannot load if_ravf"
DUT=$(echo "$VFS" | awk '{ print $1 }')

# The driver name of a VF selector ("ravf0"), from pciconf -l ("ravf0@pci0:1:0:16:").
ifname_of() {
	pciconf -l | awk -F'[@: \t]+' -v sel="$1" '{ split($0, a, "@"); split(a[2], b, ":");
		s = b[1] ":" b[2] ":" b[3] ":" b[4]; if (s == sel) print a[1] }'
}

ORIG=""
for v in $VFS; do ORIG="$ORIG $v=$(ifname_of "$v" | sed 's/[0-9]*$//')"; done

restore() {
	for pair in $ORIG; do
		devctl clear driver -f "${pair%%=*}" >/dev/null 2>&1 || true
	done
	log "VFs handed back to their default driver"
}
trap restore EXIT INT TERM

bind_to() { # driver
	for v in $VFS; do
		devctl set driver -f "$v" "$1" || die "devctl set driver -f $v $1 failed"
	done
	i=0
	while [ $i -lt 30 ]; do
		name=$(ifname_of "$DUT")
		case $name in "$1"[0-9]*) echo "$name"; return 0 ;; esac
		sleep 1; i=$((i + 1))
	done
	die "$DUT did not attach to $1 within 30 s"
}

wait_link() { # ifname
	i=0
	while [ $i -lt 30 ]; do
		ifconfig "$1" | grep -q 'status: active' && return 0
		sleep 1; i=$((i + 1))
	done
	die "$1: no link after 30 s"
}

cp_time() { sysctl -n kern.cp_time; }

RESULTS=$(mktemp -t ravfbench)
echo "driver,ifname,test,round,value,unit,cpu_busy_pct,duration_s" > "$CSV"

run_test() { # driver ifname test unit command...
	drv=$1; ifn=$2; test=$3; unit=$4; shift 4
	r=1
	while [ $r -le "$ROUNDS" ]; do
		c0=$(cp_time)
		out=$("$@" 2>&1 || true)
		c1=$(cp_time)
		case $unit in
		Mbit/s) val=$(echo "$out" | parse_iperf3_mbps) ;;
		Mpps) val=$(echo "$out" | parse_pktgen_mpps) ;;
		esac
		busy=$(cpu_busy_pct "$c0" "$c1")
		[ "$val" = NA ] && log "$drv $test round $r: no result; output was:" && echo "$out" | tail -5 >&2
		echo "$drv,$ifn,$test,$r,$val,$unit,$busy,$DURATION" >> "$CSV"
		echo "$drv $test $val $busy" >> "$RESULTS"
		log "$drv $ifn $test round $r: $val $unit, CPU $busy%"
		r=$((r + 1))
		sleep 2
	done
}

for drv in $DRIVERS; do
	log "=== $drv"
	ifn=$(bind_to "$drv")
	ifconfig "$ifn" inet "$ADDR" up
	wait_link "$ifn"
	ping -c 3 -t 10 "$PEER" >/dev/null || die "$ifn: cannot ping $PEER"
	mac=$PEER_MAC
	[ -n "$mac" ] || mac=$(arp -n "$PEER" | awk '{ print $4 }')
	src=${ADDR%/*}

	run_test "$drv" "$ifn" tcp_tx Mbit/s iperf3 -f m -c "$PEER" -t "$DURATION" -P "$STREAMS"
	run_test "$drv" "$ifn" tcp_rx Mbit/s iperf3 -f m -c "$PEER" -t "$DURATION" -P "$STREAMS" -R
	run_test "$drv" "$ifn" udp64_tx Mbit/s iperf3 -f m -c "$PEER" -t "$DURATION" -u -b 0 -l 64
	if [ -n "$PKTGEN" ]; then
		# netmap takes the interface over for the duration; iflib provides the netmap
		# support for both drivers.
		run_test "$drv" "$ifn" pktgen_tx Mpps timeout "$((DURATION + 5))" "$PKTGEN" \
			-i "$ifn" -f tx -l 60 -s "$src" -d "$PEER" -D "$mac" -T 1000 -n "$((DURATION * 20000000))"
		wait_link "$ifn"
	fi
	sysctl "dev.$(echo "$ifn" | sed 's/[0-9]*$//').$(echo "$ifn" | sed 's/^[a-z]*//')" \
		> "${CSV%.csv}-$drv-sysctl.txt" 2>/dev/null || true
	ifconfig "$ifn" inet "$ADDR" -alias 2>/dev/null || true
done

echo
printf '%-10s %-10s %14s %10s\n' driver test "median" "CPU busy %"
for drv in $DRIVERS; do
	for t in tcp_tx tcp_rx udp64_tx pktgen_tx; do
		v=$(awk -v d="$drv" -v t="$t" '$1 == d && $2 == t { print $3 }' "$RESULTS" | median)
		c=$(awk -v d="$drv" -v t="$t" '$1 == d && $2 == t { print $4 }' "$RESULTS" | median)
		[ "$v" = NA ] && [ "$c" = NA ] && continue
		u=Mbit/s; [ "$t" = pktgen_tx ] && u=Mpps
		printf '%-10s %-10s %14s %10s\n' "$drv" "$t" "$v $u" "$c"
	done
done
echo
echo "CSV: $CSV (one line per round); sysctl snapshots: ${CSV%.csv}-<driver>-sysctl.txt"
rm -f "$RESULTS"
