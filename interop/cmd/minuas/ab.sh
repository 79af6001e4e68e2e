#!/usr/bin/env bash
# ab.sh -- two minuas builds side by side, each under its own SIPp at the
# same rate, on loopback: the machine's drift (a factor of 1.3 within an
# hour on the 2-core VM) then moves both alike, and a change of a few per
# cent shows where runs one after the other hide it. Prints each process's
# CPU ticks (1/CLK_TCK s) per 10 s window; a done record is due after 32 s
# and Timer I after 5 s, so the windows past those show the steady state.
#
#   go build -o /tmp/minuas-a ./interop/cmd/minuas   # before the change
#   go build -o /tmp/minuas-b ./interop/cmd/minuas   # after it
#   A=/tmp/minuas-a B=/tmp/minuas-b RATE=2000 DUR=70 bash interop/cmd/minuas/ab.sh
#   REJECT=486 DUR=40 ...   # refused calls: minuas -reject 486 under uac-expect-busy.xml
#
# Every run is bounded by -m and a timeout; both minuas exit by themselves
# (-max-time) and are stopped by PID at the end.
set -euo pipefail
cd "$(dirname "$0")/../../.."
A=${A:?A=path of the first minuas build}
B=${B:?B=path of the second minuas build}
RATE=${RATE:-2000}
DUR=${DUR:-70}
REJECT=${REJECT:-}
OUT=${OUT:-$(mktemp -d /tmp/minuas-ab.XXXX)}
command -v sipp >/dev/null || { echo "sipp missing: apt-get install -y sip-tester" >&2; exit 1; }
SCEN=(-sn uac)
ARGS=()
if [ -n "$REJECT" ]; then
  SCEN=(-sf "$PWD/interop/testdata/sipp/uac-expect-busy.xml" -s minuas)
  ARGS=(-reject "$REJECT")
fi
echo "# minuas ab.sh $(date -Is) A=$A B=$B RATE=$RATE DUR=$DUR REJECT=$REJECT; load average $(cut -d' ' -f1-3 /proc/loadavg)"

pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT
"$A" -addr 127.0.0.1:15480 -max-time $((DUR + 90))s "${ARGS[@]}" 2>"$OUT/a.log" &
PA=$!
pids+=($PA)
"$B" -addr 127.0.0.1:15580 -max-time $((DUR + 90))s "${ARGS[@]}" 2>"$OUT/b.log" &
PB=$!
pids+=($PB)
for _ in $(seq 50); do grep -q '^listening=' "$OUT/a.log" && grep -q '^listening=' "$OUT/b.log" && break; sleep 0.1; done
for side in a:15480 b:15580; do
  ( cd "$OUT" && timeout $((DUR * 2 + 30)) sipp "${SCEN[@]}" "127.0.0.1:${side#*:}" -i 127.0.0.1 -p $((${side#*:} + 10)) \
      -r "$RATE" -m $((RATE * DUR)) -l 20000 -buff_size 4194304 -nostdin \
      -trace_screen -screen_file "$OUT/screen-${side%%:*}.log" >"$OUT/sipp-${side%%:*}.out" 2>&1 ) &
  pids+=($!)
done
ticks() { awk '{print $14+$15}' /proc/$1/stat; }
pa=$(ticks $PA); pb=$(ticks $PB); ta=0; tb=0
printf "%-6s %-8s %-8s %-8s\n" window A_ticks B_ticks B/A
for i in $(seq $((DUR / 10))); do
  sleep 10
  a=$(ticks $PA); b=$(ticks $PB)
  printf "%-6s %-8s %-8s %-8.3f\n" "$((i * 10))s" $((a - pa)) $((b - pb)) "$(echo "($b - $pb) / ($a - $pa + 0.000001)" | bc -l)"
  ta=$((ta + a - pa)); tb=$((tb + b - pb)); pa=$a; pb=$b
done
printf "%-6s %-8s %-8s %-8.3f\n" all $ta $tb "$(echo "$tb / ($ta + 0.000001)" | bc -l)"
wait "${pids[2]}" "${pids[3]}" || true
for s in a b; do
  echo "$s: $(grep -E 'Successful call|Failed call' "$OUT/screen-$s.log" | tail -2 | tr -s ' ' | tr '\n' ' ')"
done
echo "raw SIPp screens and logs: $OUT"
