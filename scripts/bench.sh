#!/usr/bin/env bash
# ./glouglou bench [FILE...]: offline summarisation throughput of the probe's network pipeline next to softflowd and
# tcpdump on the same files, in the same run (issue 3 figure). glouglou loops each file in one process for a while
# (OfflineBench: read + decode + flow table + DNS + hops, events to a counting sink); the C tools run whole processes,
# start-up included, as a user would run them, repeated and the median taken. Also prints the probe's own whole-process
# time on each file (./glouglou probe --read F --print > /dev/null), start-up included, for the same comparison.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SECONDS_PER_FILE=${BENCH_SECONDS:-10}
RUNS=${BENCH_RUNS:-5}
if [ $# -gt 0 ]; then FILES=("$@"); else
  FILES=("$ROOT"/../shared/pcaps/midsize_synflood__stopddos_pkt.TCP.synflood.spoofed.pcap
         "$ROOT"/../shared/pcaps/web_browsing__ntopng-e2e_test_01.pcap)
fi
for f in "${FILES[@]}"; do [ -f "$f" ] || { echo "bench: no such capture: $f" >&2; exit 2; }; done

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
timeit() { # command... -> seconds (median of RUNS)
  for _ in $(seq "$RUNS"); do
    local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null 2>&1 || true; t1=$(date +%s.%N)
    awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}'
  done | median
}
CP="$ROOT/probe/target/lib/*"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
printf "%-62s %14s %14s\n" "file / tool" "packets/s" "flows/s"
for f in "${FILES[@]}"; do
  pkts=$(capinfos -T -r -c "$f" 2>/dev/null | awk -F'\t' '{print $2}')
  name=$(basename "$f")
  echo "$name ($pkts packets)"
  # glouglou, in-process steady state, throughput JVM options (C2)
  java -XX:+UseParallelGC -cp "$CP" org.glouglou.module.network.bench.OfflineBench "$f" --seconds "$SECONDS_PER_FILE" \
    --warmup 3 2>/dev/null | awk -v n="glouglou OfflineBench (in-process loop, C2)" '
      /pkt\/s/ { for (i = 1; i <= NF; i++) { if ($(i) ~ /^pkt\/s,?$/ && !p) p = $(i-1); if ($(i) ~ /^flows\/s,?$/ && !fl) fl = $(i-1) }
                 printf "  %-60s %14s %14s\n", n, p, fl }'
  # glouglou, in-process, the launcher's small-footprint options
  # shellcheck disable=SC2046
  java -XX:+UseSerialGC -Xms16m -Xmx96m -XX:MinHeapFreeRatio=10 -XX:MaxHeapFreeRatio=30 -XX:TieredStopAtLevel=1 \
    -cp "$CP" org.glouglou.module.network.bench.OfflineBench "$f" --seconds "$SECONDS_PER_FILE" --warmup 3 2>/dev/null \
    | awk -v n="glouglou OfflineBench (launcher's probe options, C1)" '
      /pkt\/s/ { for (i = 1; i <= NF; i++) { if ($(i) ~ /^pkt\/s,?$/ && !p) p = $(i-1); if ($(i) ~ /^flows\/s,?$/ && !fl) fl = $(i-1) }
                 printf "  %-60s %14s %14s\n", n, p, fl }'
  t=$(timeit "$ROOT/glouglou" probe --read "$f" --print --keep-privileges)
  printf "  %-60s %14.0f\n" "glouglou probe --read --print, whole process" "$(awk -v p="$pkts" -v t="$t" 'BEGIN {print p / t}')"
  if command -v softflowd >/dev/null; then
    t=$(timeit softflowd -r "$f" -n 127.0.0.1:9995 -v 9 -d)
    printf "  %-60s %14.0f\n" "softflowd -r (NetFlow v9 to 127.0.0.1:9995), whole process" "$(awk -v p="$pkts" -v t="$t" 'BEGIN {print p / t}')"
  fi
  if command -v tcpdump >/dev/null; then
    t=$(timeit tcpdump -r "$f" -w /dev/null)
    printf "  %-60s %14.0f\n" "tcpdump -r -w /dev/null (libpcap read ceiling)" "$(awk -v p="$pkts" -v t="$t" 'BEGIN {print p / t}')"
    t=$(timeit tcpdump -nr "$f")
    printf "  %-60s %14.0f\n" "tcpdump -nr (decode and print)" "$(awk -v p="$pkts" -v t="$t" 'BEGIN {print p / t}')"
  fi
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
