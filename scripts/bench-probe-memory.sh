#!/usr/bin/env bash
# Resident memory of the probe with N open flows, with the JVM options the launcher uses (issue 3 figure).
# Replays the SYN-flood capture at capture speed with the flow table bounded to N (its flows never close, so the
# table fills to N open flows and stays there, evicting the oldest), and samples VmRSS of the probe process next to
# the flows_active counter of its STATS; reports the largest RSS seen once N flows are open, over 10 s.
# Usage: scripts/bench-probe-memory.sh [N=10000] [capture]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
N=${1:-10000}
CAP=${2:-$ROOT/../shared/pcaps/midsize_synflood__stopddos_pkt.TCP.synflood.spoofed.pcap}
[ -f "$CAP" ] || { echo "capture not found: $CAP" >&2; exit 2; }
OUT=$(mktemp)
trap 'kill $PID 2>/dev/null || true' EXIT
"$ROOT/glouglou" probe -r "$CAP" --realtime --max-flows "$N" --print --print-stats --stats-interval 1 --keep-privileges > "$OUT" 2>/dev/null &
PID=$!
sleep 1
JPID=$(pgrep -P $PID java || echo $PID)
printf "%8s %12s %12s\n" seconds flows_active rss_mib
for s in $(seq 1 60); do
  sleep 1
  kill -0 "$JPID" 2>/dev/null || break
  rss=$(awk '/VmRSS/ {print $2}' /proc/$JPID/status)
  flows=$( (grep '"STATS"' "$OUT" || true) | tail -1 | sed 's/.*"flows_active":\([0-9]*\).*/\1/')
  mib=$(awk -v k="$rss" 'BEGIN {printf "%.1f", k / 1024}')
  printf "%8d %12s %12s\n" "$s" "${flows:-0}" "$mib"
  if [ "${flows:-0}" -ge "$N" ]; then
    full=$((${full:-0} + 1))
    max=$(awk -v a="${max:-0}" -v b="$mib" 'BEGIN {print (b > a ? b : a)}')
    if [ "$full" -ge 10 ]; then
      echo "probe with $N open flows for 10 s: at most $max MiB resident (JVM options: ${GLOUGLOU_JAVA_OPTS:-launcher defaults})"
      exit 0
    fi
  fi
done
echo "did not reach $N open flows" >&2
exit 1
