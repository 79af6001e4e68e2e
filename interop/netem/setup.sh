#!/usr/bin/env bash
# setup.sh [--delay MS] [--jitter MS] [--loss PCT] [--reorder] [--seed N] [--mode auto|netem|wire]
#   Two network namespaces ($NS_A, $NS_B; default xpA/xpB) joined by one
#   impaired link, for trying a peer by hand over a bad network. Addresses
#   stay in the loopback range: A=127.100.0.1, B=127.100.0.2 (route_localnet;
#   each namespace's lo keeps only 127.0.0.1/32 so the rest of 127/8 routes
#   over the link). Impairment applies in both directions:
#     netem : veth pair + tc netem (needs sch_netem in the kernel)
#     wire  : TUN pair + interop/cmd/wire (user space, this repository)
#     auto  : netem when the kernel has it, else wire (default)
#   Run programs inside: ip netns exec xpA <cmd>   (binding 127.100.0.1)
#   State (mode, wire PID and log) in $NETEM_STATE (default /tmp/xphone-netem).
#   Undo with teardown.sh. Root only. The Go test (interop/netem_test.go)
#   does the same by itself; this script is for manual use.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
NS_A=${NS_A:-xpA}; NS_B=${NS_B:-xpB}
ST=${NETEM_STATE:-/tmp/xphone-netem}
A=127.100.0.1; B=127.100.0.2
DELAY=0; JITTER=0; LOSS=0; MODE=auto; REORDER=""; SEED=1
while [ $# -gt 0 ]; do
	case $1 in
		--delay) DELAY=$2; shift 2 ;;
		--jitter) JITTER=$2; shift 2 ;;
		--loss) LOSS=$2; shift 2 ;;
		--seed) SEED=$2; shift 2 ;;
		--reorder) REORDER=-reorder; shift ;;
		--mode) MODE=$2; shift 2 ;;
		*) echo "unknown argument $1" >&2; exit 64 ;;
	esac
done
[ "$(id -u)" = 0 ] || { echo "setup.sh: root needed" >&2; exit 1; }
if ip netns list | grep -qw "$NS_A"; then echo "$NS_A exists: run teardown.sh first" >&2; exit 1; fi
mkdir -p "$ST"

for ns in "$NS_A" "$NS_B"; do
	ip netns add "$ns"
	ip -n "$ns" link set lo up
	ip -n "$ns" addr del 127.0.0.1/8 dev lo 2>/dev/null || true
	ip -n "$ns" addr add 127.0.0.1/32 dev lo 2>/dev/null || true
	ip netns exec "$ns" sysctl -qw net.ipv4.conf.all.route_localnet=1
done

if [ "$MODE" = auto ]; then
	ip -n "$NS_A" link add xp-probe0 type veth peer name xp-probe1
	if ip netns exec "$NS_A" tc qdisc add dev xp-probe0 root netem delay 1ms 2>/dev/null; then MODE=netem; else MODE=wire; fi
	ip -n "$NS_A" link del xp-probe0
fi

case $MODE in
netem)
	ip link add xp-va type veth peer name xp-vb
	ip link set xp-va netns "$NS_A"; ip link set xp-vb netns "$NS_B"
	for x in "$NS_A xp-va $A $B" "$NS_B xp-vb $B $A"; do
		set -- $x
		ip netns exec "$1" sysctl -qw "net.ipv4.conf.$2.route_localnet=1"
		ip -n "$1" addr add "$3" peer "$4/32" dev "$2"
		ip -n "$1" link set "$2" up
		args=(delay "${DELAY}ms")
		[ "$JITTER" != 0 ] && args+=("${JITTER}ms")
		[ "$LOSS" != 0 ] && args+=(loss "${LOSS}%")
		ip netns exec "$1" tc qdisc add dev "$2" root netem "${args[@]}"
	done ;;
wire)
	(cd "$ROOT" && go build -o "$ST/wire" ./interop/cmd/wire)
	setsid "$ST/wire" -ns-a "$NS_A" -ns-b "$NS_B" -addr-a $A -addr-b $B \
		-delay "${DELAY}ms" -jitter "${JITTER}ms" -loss "$LOSS" -seed "$SEED" $REORDER \
		> "$ST/wire.log" 2>&1 < /dev/null &
	echo $! > "$ST/wire.pid"
	for _ in $(seq 100); do grep -q '^ready' "$ST/wire.log" 2>/dev/null && break; sleep 0.1; done
	grep -q '^ready' "$ST/wire.log" || { cat "$ST/wire.log" >&2; exit 1; } ;;
*) echo "bad mode $MODE" >&2; exit 64 ;;
esac
echo "$MODE" > "$ST/mode"
echo "mode=$MODE $NS_A=$A $NS_B=$B delay=${DELAY}ms jitter=${JITTER}ms loss=${LOSS}% ${REORDER:+reorder}"
