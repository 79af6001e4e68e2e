#!/usr/bin/env bash
# cps.sh -- INVITE transactions per second: the same SIPp command as the peer
# harness's cps.sh (/work/shared/peerbench/cps.sh, SIPp's built-in "uac":
# INVITE -> 200 -> ACK -> BYE -> 200, no media) against minuas, on loopback,
# at increasing rates. Run it right after the peer's cps.sh, in the same
# session, to compare with the sipgo UAS.
#
#   bash interop/cmd/minuas/cps.sh                   # rates 2000..16000, 12 s each
#   RATES="4000 8000" DUR=10 bash interop/cmd/minuas/cps.sh
#   UAS_PORT=15180 SIPP_PORT=15190 ...   # other ports, beside another run
#   MINUAS_ARGS="-readers 1 -rcvbuf 0" ...  # minuas flags
#   MINUAS_BIN=/tmp/minuas-b ...            # a prebuilt minuas (A/B runs)
#   MINUAS_BIN=/tmp/flooruas ...            # the floor: no SIP stack (../flooruas)
#   RATES="2000 2000 2000 4000 4000 4000" ...  # repeats: a median per rate at the end
#
# Columns as the peer's, plus: cpu_us/call (UAS user+system CPU over the
# rate step / successful calls), goroutines before/after the step, and
# heap_B/call (live heap after GC right after the step, less the baseline,
# per call completed in the step: the transactions then still wait out
# Timers J and L, 32 s). Every run is bounded by -m and a timeout; minuas
# exits by itself (-max-time) and is stopped by PID at the end.
set -euo pipefail
cd "$(dirname "$0")/../../.."
export PATH=$PATH:/usr/local/go/bin
RATES=${RATES:-"2000 4000 6000 8000 10000 12000 16000"}
DUR=${DUR:-12}
UAS_ADDR=127.0.0.1:${UAS_PORT:-15080}
SIPP_PORT=${SIPP_PORT:-15090}
OUT=${OUT:-$(mktemp -d /tmp/minuas-cps.XXXX)}
command -v sipp >/dev/null || { echo "sipp missing: apt-get install -y sip-tester" >&2; exit 1; }
echo "# minuas cps.sh $(date -Is) RATES=\"$RATES\" DUR=$DUR MINUAS_ARGS=\"${MINUAS_ARGS:-}\" GOMAXPROCS=${GOMAXPROCS:-} nproc=$(nproc); $(sipp -v 2>&1 | grep -o 'SIPp v[^ ]*'); $(go version)"
echo "# load average before: $(cut -d' ' -f1-3 /proc/loadavg) (other processes skew rates; cpu_us/call less so)"

if [ -n "${MINUAS_BIN:-}" ]; then cp "$MINUAS_BIN" "$OUT/minuas"; else go build -o "$OUT/minuas" ./interop/cmd/minuas; fi
TCK=$(getconf CLK_TCK)
"$OUT/minuas" -addr $UAS_ADDR -max-time 15m -http 127.0.0.1:0 ${MINUAS_ARGS:-} 2>"$OUT/uas.log" &
UAS=$!
trap 'kill $UAS 2>/dev/null || true' EXIT
for _ in $(seq 50); do grep -q '^http=' "$OUT/uas.log" && break; sleep 0.1; done
HTTP=$(sed -n 's/^http=//p' "$OUT/uas.log")
kill -0 $UAS

cpu_ticks() { awk '{print $14+$15}' /proc/$1/stat; }
stat_of() { curl -s "http://$HTTP/stats" | sed -n "s/^$1=//p"; }
UAS_HEXPORT=$(printf '%04X' "${UAS_ADDR##*:}")
uas_drops() { awk -v p=":$UAS_HEXPORT" '$2 ~ p"$" {print $NF; exit}' /proc/net/udp; }
all_drops() { awk '/^Udp:/{n++} /^Udp:/&&n==2{print $6}' /proc/net/snmp; }
col() { awk -F';' -v n="$2" 'NR==1{for(i=1;i<=NF;i++) if($i==n) c=i} END{print $c}' "$1"; }

base_heap=$(stat_of heap_alloc); base_g=$(stat_of goroutines)
echo "baseline: goroutines=$base_g heap_alloc=$base_heap"
printf "%-7s %-8s %-8s %-7s %-8s %-8s %-8s %-9s %-8s %-9s %-10s %-11s %-9s %-11s\n" \
  target calls ok failed retrans achv_cps uas_cpu% sipp_cpu% call_ms udp_drops uas_rss_MB cpu_us/call goro_b/a heap_B/call
for R in $RATES; do
  M=$((R * DUR))
  g0=$(stat_of goroutines)
  t0=$(cpu_ticks $UAS); s0=$(date +%s.%N); d0=$(uas_drops); a0=$(all_drops)
  rm -f "$OUT"/uac_*.csv
  set +e
  ( cd "$OUT" && /usr/bin/time -f "%U %S %e" -o "$OUT/sipp-time-$R" \
      timeout $((DUR * 3 + 40)) sipp -sn uac $UAS_ADDR -i 127.0.0.1 -p $SIPP_PORT \
      -r "$R" -m "$M" -l 10000 -buff_size 4194304 -timeout $((DUR * 3 + 30))s -nostdin \
      -trace_stat -fd 1 -trace_screen -screen_file "$OUT/screen-$R.log" \
      >"$OUT/sipp-$R.out" 2>"$OUT/sipp-$R.err" )
  rc=$?
  set -e
  s1=$(date +%s.%N); t1=$(cpu_ticks $UAS); d1=$(uas_drops); a1=$(all_drops)
  heap=$(stat_of heap_alloc); g1=$(stat_of goroutines)
  csv=$(ls "$OUT"/uac_*.csv | head -1); cp "$csv" "$OUT/stat-$R.csv"
  ok=$(col "$csv" 'SuccessfulCall(C)'); failed=$(col "$csv" 'FailedCall(C)')
  retr=$(col "$csv" 'Retransmissions(C)'); rt=$(col "$csv" 'CallLength(C)')
  read -r su ss se < <(tail -1 "$OUT/sipp-time-$R")
  wall=$(echo "$s1 - $s0" | bc -l)
  achv=$(echo "$ok / $se" | bc -l)
  ucpu=$(echo "100 * ($t1 - $t0) / $TCK / $wall" | bc -l)
  scpu=$(echo "100 * ($su + $ss) / $se" | bc -l)
  cpc=$(echo "1000000 * ($t1 - $t0) / $TCK / ($ok + 0.000001)" | bc -l)
  hpc=$(echo "($heap - $base_heap) / ($ok + 0.000001)" | bc -l)
  rss=$(awk '/VmHWM/{print $2/1024}' /proc/$UAS/status)
  rtms=$(echo "$rt" | awk -F: '{printf "%.2f", ($1*3600+$2*60+$3)*1000 + $4/1000}')
  printf "%-7s %-8s %-8s %-7s %-8s %-8.0f %-8.0f %-9.0f %-8s %-9s %-10.1f %-11.1f %-9s %-11.0f%s\n" \
    "$R" "$M" "$ok" "$failed" "$retr" "$achv" "$ucpu" "$scpu" "$rtms" "$((d1 - d0))/$((a1 - a0))" "$rss" \
    "$cpc" "$g0/$g1" "$hpc" "$([ $rc -ne 0 ] && echo "  (sipp rc=$rc)")"
  [ "$failed" = 0 ] && [ "$retr" = 0 ] && echo "$R $cpc" >>"$OUT/cpu-per-call"
  # Let the step's transactions end (Timers J and L: 32 s) before the next,
  # so heap_B/call counts one step only.
  for _ in $(seq 40); do [ "$(stat_of heap_alloc)" -lt $((base_heap + 2000000)) ] && break; sleep 1; done
done
# A rate listed more than once (RATES="2000 2000 2000 4000 4000 4000"):
# the median of its clean runs, as this machine's speed drifts by +-10 us.
if [ -s "$OUT/cpu-per-call" ]; then
  echo "cpu_us/call over clean runs (no failure, no retransmission): rate median [min-max] runs"
  for R in $(awk '{print $1}' "$OUT/cpu-per-call" | sort -n | uniq); do
    awk -v r="$R" '$1 == r {print $2}' "$OUT/cpu-per-call" | sort -g |
      awk -v r="$R" '{v[NR] = $1} END {m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
        printf "%-7s %.1f [%.1f-%.1f] %d\n", r, m, v[1], v[NR], NR}'
  done
fi
echo "after: goroutines=$(stat_of goroutines) heap_alloc=$(stat_of heap_alloc) (baseline $base_g, $base_heap)"
echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
kill $UAS; wait $UAS 2>/dev/null || true
trap - EXIT
echo "raw SIPp stats and logs: $OUT"
cat "$OUT/uas.log"
