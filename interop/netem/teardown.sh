#!/usr/bin/env bash
# teardown.sh -- undo setup.sh: stop the wire relay by its recorded PID and
# delete the two namespaces it made (which removes their veth/TUN ends).
NS_A=${NS_A:-xpA}; NS_B=${NS_B:-xpB}
ST=${NETEM_STATE:-/tmp/xphone-netem}
if [ -s "$ST/wire.pid" ]; then
	pid=$(cat "$ST/wire.pid")
	if kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid"
		for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
	fi
	tail -1 "$ST/wire.log" 2>/dev/null
	rm -f "$ST/wire.pid"
fi
for ns in "$NS_A" "$NS_B"; do ip netns del "$ns" 2>/dev/null || true; done
rm -f "$ST/mode"
echo "teardown done"
