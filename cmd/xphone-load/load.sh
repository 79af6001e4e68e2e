#!/usr/bin/env bash
# Concurrent calls WITH RTP media, xphone's side of ../shared/peerbench/media-load.sh:
# cmd/xphone-load in "uac" mode places N calls (PCMU, one 160-byte frame every
# 20 ms each way) against cmd/xphone-load in "uas" mode (answers, echoes the
# audio back through PCMReader -> PCMWriter), two processes on loopback. One
# run per N: ramp, steady phase with all calls up, hangup; CPU of both
# processes from /proc/PID/stat over the steady phase. Same columns as
# media-load.sh, plus goroutines and KB of VmHWM per call of the UAS.
#
#   cmd/xphone-load/load.sh                          # N = 100 250 500 500 1000, 10 s ramp + 60 s steady
#   CALLS="1000 2500" DUR=60 RAMP=10 cmd/xphone-load/load.sh
#   ECHO=rtp ...        # UAS echoes RTP payloads as received (diago-load's echo), not PCM
#   TRIM=1 ...          # UAS with Config.TrimWriteBacklog
#   WRITE=pcm ...       # UAC writes decoded frames to PCMWriter (encoded by the call), not RTP payloads to RTPWriter
#   BIN=/tmp/xphone-load JITTER_MIN=5ms READ=pcm PPROF=127.0.0.1:6061 STATS_EVERY=5s ...  # prebuilt binary, UAS jitter floor, UAC reads PCM, UAS pprof, UAS stats period
#
# A run "breaks" as in media-load.sh (> BREAK_FAIL_PCT % failed, loss >
# BREAK_LOSS_PCT %, or echo p99 > BREAK_RTT_MS); larger N are then skipped.
# All traffic goes to 127.0.0.1; both processes exit by themselves.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH=$PATH:/usr/local/go/bin
CALLS=${CALLS:-"100 250 500 500 1000"}
DUR=${DUR:-60}
RAMP=${RAMP:-10}
BREAK_FAIL_PCT=${BREAK_FAIL_PCT:-5}
BREAK_LOSS_PCT=${BREAK_LOSS_PCT:-5}
BREAK_RTT_MS=${BREAK_RTT_MS:-200}
JITTER_MIN=${JITTER_MIN:-0}
READ=${READ:-raw}
WRITE=${WRITE:-rtp}
ECHO=${ECHO:-pcm}
TRIM=${TRIM:-}
UAS_ADDR=127.0.0.1:15260
UAC_ADDR=127.0.0.1:15270
OUT=${OUT:-$(mktemp -d /tmp/xphone-load.XXXX)}
if [ -z "${BIN:-}" ]; then
  BIN=$OUT/xphone-load
  go build -o "$BIN" ./cmd/xphone-load
fi
echo "# load.sh $(date -Is) CALLS=\"$CALLS\" DUR=${DUR}s RAMP=${RAMP}s JITTER_MIN=$JITTER_MIN READ=$READ WRITE=$WRITE ECHO=$ECHO TRIM=${TRIM:-off}; xphone $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
echo "# $(go version); nproc=$(nproc) GOMAXPROCS=${GOMAXPROCS:-default} GOGC=${GOGC:-default}; ulimit -n $(ulimit -n)"
echo "# net.core.rmem_default=$(cat /proc/sys/net/core/rmem_default) rmem_max=$(cat /proc/sys/net/core/rmem_max); raw logs: $OUT"

val() { # val KEY FILE -> value of KEY=... in the RESULT line
  awk -v k="$1" '/^RESULT /{for(i=2;i<=NF;i++){split($i,a,"="); if(a[1]==k) print a[2]}}' "$2"
}

UAS=
trap '[ -n "$UAS" ] && kill $UAS 2>/dev/null || true' EXIT
printf "%-5s %-5s %-5s %-7s %-8s %-8s %-8s %-8s %-8s %-8s %-7s %-7s %-7s %-7s %-6s %-8s %-8s %-8s %-8s %s\n" \
  N estab fail loss% late_ms late_p99 rtt_p99 uac_cpu% uas_cpu% busy% uac_MB uas_MB uac_gor uas_gor drops gor/call KB/call dKB/call liveKB/c load
run=0
for N in $CALLS; do
  run=$((run + 1))
  tag="$N-$run"
  "$BIN" uas -listen $UAS_ADDR -echo "$ECHO" ${TRIM:+-trim} -jitter-min "$JITTER_MIN" -stats-every "${STATS_EVERY:-5s}" ${PPROF:+-pprof $PPROF} -max-time $((RAMP + DUR + 120))s 2>"$OUT/uas-$tag.log" &
  UAS=$!
  sleep 0.5
  kill -0 $UAS 2>/dev/null || { echo "UAS did not start:"; cat "$OUT/uas-$tag.log"; exit 1; }
  set +e
  timeout $((RAMP + DUR + 90)) "$BIN" uac -listen $UAC_ADDR -target $UAS_ADDR -calls "$N" -read "$READ" -write "$WRITE" \
    -duration "${DUR}s" -ramp "${RAMP}s" -uas-pid $UAS -max-time $((RAMP + DUR + 80))s \
    >"$OUT/uac-$tag.out" 2>"$OUT/uac-$tag.log"
  rc=$?
  set -e
  load=$(cut -d' ' -f1 /proc/loadavg)
  kill -TERM $UAS 2>/dev/null || true
  wait $UAS 2>/dev/null || true
  UAS=
  r="$OUT/uac-$tag.out"
  if ! grep -q '^RESULT ' "$r"; then
    echo "N=$N: no RESULT (uac rc=$rc); see $OUT/uac-$tag.log"; break
  fi
  uas_gor=$(awk '/^stats /{for(i=1;i<=NF;i++) if($i ~ /^goroutines=/){split($i,a,"="); if(a[2]>m) m=a[2]}} END{print m+0}' "$OUT/uas-$tag.log")
  uas_mb=$(val uas_hwm_mb "$r")
  est=$(val established "$r")
  # base: VmHWM of the idle UAS at start; live: Go heap live at the last GC + stacks per
  # active call, at the UAS stats line with the most active calls.
  uas_base=$(awk '/^xphone-load uas /{for(i=1;i<=NF;i++) if($i ~ /^hwm_mb=/){split($i,a,"="); print a[2]}}' "$OUT/uas-$tag.log")
  live=$(awk '/^stats /{a=0;h=0;s=0; for(i=1;i<=NF;i++){split($i,kv,"="); if(kv[1]=="active") a=kv[2]; if(kv[1]=="heap_live_kb") h=kv[2]; if(kv[1]=="stack_inuse_kb") s=kv[2]} if(a>0 && a>=ma){ma=a; v=(h+s)/a}} END{if(ma>0) printf "%.1f", v; else print "-"}' "$OUT/uas-$tag.log")
  per=$(awk -v g="$uas_gor" -v m="$uas_mb" -v b="${uas_base:-0}" -v n="$est" 'BEGIN{if(n>0) printf "%.2f %.1f %.1f", g/n, m*1024/n, (m-b)*1024/n; else print "- - -"}')
  printf "%-5s %-5s %-5s %-7s %-8s %-8s %-8s %-8s %-8s %-8s %-7s %-7s %-7s %-7s %-6s %-8s %-8s %-8s %-8s %s%s\n" \
    "$N" "$est" "$(val failed "$r")" "$(val loss_pct "$r")" \
    "$(val late_mean_ms "$r")" "$(val late_p99_ms "$r")" "$(val rtt_p99_ms "$r")" \
    "$(val uac_cpu_pct "$r")" "$(val uas_cpu_pct "$r")" "$(val machine_busy_pct "$r")" \
    "$(val uac_hwm_mb "$r")" "$uas_mb" "$(val uac_goroutines_mid "$r")" "$uas_gor" \
    "$(val udp_rcvbuf_errors "$r")" ${per} "$live" "$load" "$([ $rc -ne 0 ] && echo "  (uac rc=$rc)")"
  echo "    $(grep '^RESULT' "$r" | cut -c8-)" >>"$OUT/results.txt"
  grep -h '^uas done' "$OUT/uas-$tag.log" >>"$OUT/results.txt" || true
  fail=$(val failed "$r"); loss=$(val loss_pct "$r"); sloss=$(val steady_loss_pct "$r"); rtt=$(val rtt_p99_ms "$r")
  if [ $((fail * 100)) -gt $((N * BREAK_FAIL_PCT)) ] ||
    awk -v l="$loss" -v s="$sloss" -v b="$BREAK_LOSS_PCT" -v r="$rtt" -v rb="$BREAK_RTT_MS" 'BEGIN{exit !(l > b || s > b || r > rb)}'; then
    echo "N=$N broke (failed=$fail, loss=$loss %, steady-phase loss=$sloss %, rtt p99=$rtt ms): not going higher"
    break
  fi
  sleep 3
done
echo "columns as media-load.sh; gor/call = uas_gor / established (the UAS runs one echo goroutine per call of its own);"
echo "KB/call = uas VmHWM / established (includes the process's fixed base); dKB/call = (uas VmHWM - its VmHWM when idle at start) / established;"
echo "liveKB/c = uas Go heap found live by the last GC + goroutine stacks / active calls, at the stats sample with the most calls (-stats-every \$STATS_EVERY, default 5s);"
echo "load = 1-min load average at the end of the run"
echo "RESULT also has: rtt_* over the whole run (ramps included, as media-load.sh), steady_rtt_* over the steady phase only, call_min_rtt_* over each call's lowest round trip (high when a queue stands on a call's path)"
echo "--- RESULT lines and UAS totals"
cat "$OUT/results.txt"
