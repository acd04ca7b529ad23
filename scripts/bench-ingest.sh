#!/usr/bin/env bash
# Ingest benchmark: its own redis-server on a free loopback port, SERVERS processing servers on that one Redis
# (ServerMain, from this work tree's classes; the probes are shared out among them), the load generator
# (org.glouglou.server.bench.IngestBench, test scope), run without and then with a keyspace subscriber attached (on the
# viewers' key families, as the hub subscribes), and redis-benchmark -P 16 -t hset on the same Redis in the same run.
# Prints one table. Figures only: the generator shares the box with the servers and Redis (its CPU share is printed).
# GC: every server logs its safepoints (-Xlog:safepoint: the time the application threads were stopped, for any
# collector, ZGC's short pauses included); the table ends with the p50/p99/max of those a collector asked for.
#
#   scripts/bench-ingest.sh [FLOWS...]            default: 10000 50000
#   SERVERS=2 SERVER_GC="-XX:+UseZGC" SERVER_JAVA_OPTS=-XX:StartFlightRecording=... RATE=500000 DURATION=15 \
#       WARMUP=25 PROBES=8 THREADS=2 BUDGET=50000 CASES=no-subscriber HSET_BENCH=0 scripts/bench-ingest.sh 10000
#
# Needs: mvn -pl processing-server -am test-compile done (classes), redis-server, redis-cli, redis-benchmark.
set -euo pipefail
cd "$(dirname "$0")/.."
FLOWS=("${@:-10000 50000}")
read -r -a FLOWS <<< "${FLOWS[*]}"
RATE=${RATE:-500000}
SECONDS_=${DURATION:-15}
WARMUP=${WARMUP:-25}
PROBES=${PROBES:-8}
THREADS=${THREADS:-2}
BUDGET=${BUDGET:-50000}
SERVERS=${SERVERS:-1}
CASES=${CASES:-no-subscriber subscriber}
HSET_BENCH=${HSET_BENCH:-1}
# the launcher's collector and heap unless told otherwise (./glouglou SERVER_OPTS)
SERVER_GC=${SERVER_GC:-$(sed -n 's/^SERVER_OPTS="\(.*\)"/\1/p' glouglou)}
WORK=$(mktemp -d /tmp/gg-bench.XXXXXX)
source scripts/bench-server-lib.sh
start_redis

java -cp "$CP" org.glouglou.server.bench.IngestBench --make-secrets "$PROBES" "$WORK/secrets"
UPORTS=(); MPORTS=(); SPIDS=()
for i in $(seq "$SERVERS"); do
    UPORT=$(free_port); MPORT=$(free_port)
    # every bench probe comes from 127.0.0.1: the per-source limit (20k datagrams/s) would cap them all together
    java $SERVER_GC -Xlog:safepoint:file="$WORK/gc-$i.log" ${SERVER_JAVA_OPTS:-} -cp "$CP" org.glouglou.server.ServerMain \
        --listen "127.0.0.1:$UPORT" --redis "redis://127.0.0.1:$RPORT" --secrets "$WORK/secrets" \
        --metrics "127.0.0.1:$MPORT" --rate-limit 10000000 --redis-keys-per-second "$BUDGET" > "$WORK/server-$i.log" 2>&1 &
    SPIDS+=("$!"); PIDS+=("$!"); UPORTS+=("127.0.0.1:$UPORT"); MPORTS+=("http://127.0.0.1:$MPORT/metrics")
    for _ in $(seq 100); do curl -sf "http://127.0.0.1:$MPORT/metrics" >/dev/null 2>&1 && break; sleep 0.1; done
done
join() { local IFS=,; echo "$*"; }

run() { # label flows
    java -Xmx1g -cp "$CP" org.glouglou.server.bench.IngestBench --server "$(join "${UPORTS[@]}")" \
        --secrets "$WORK/secrets" --metrics "$(join "${MPORTS[@]}")" --probes "$PROBES" --threads "$THREADS" \
        --flows "$2" --rate "$RATE" --warmup "$WARMUP" --seconds "$SECONDS_" --server-pid "$(join "${SPIDS[@]}")" \
        --redis-pid "$RPID" \
        --label "$1" 2>>"$WORK/gen.log" | tee -a "$WORK/gen.out" >&2 || echo "generator run $1 $2 failed: see $WORK/gen.log" >&2
}

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for f in "${FLOWS[@]}"; do
    for c in $CASES; do
        if [ "$c" = subscriber ]; then
            redis-cli -p "$RPORT" psubscribe '__keyspace@0__:gg:node:*' '__keyspace@0__:gg:link:*' > /dev/null &
            SUB=$!; PIDS+=("$SUB")
            sleep 0.5
        fi
        run "$c" "$f"
        if [ "$c" = subscriber ]; then kill "$SUB" 2>/dev/null || true; fi
    done
done
LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
BENCH=skipped; BENCHSUB=skipped
if [ "$HSET_BENCH" = 1 ]; then
    BENCH=$(redis-benchmark -p "$RPORT" -P 16 -t hset -n 1000000 -q 2>/dev/null | tr '\r' '\n' | grep -a 'requests per second' | tail -1)
    redis-cli -p "$RPORT" psubscribe '__keyspace@0__:*' > /dev/null &
    SUB=$!; PIDS+=("$SUB")
    sleep 0.5
    BENCHSUB=$(redis-benchmark -p "$RPORT" -P 16 -t hset -n 1000000 -q 2>/dev/null | tr '\r' '\n' | grep -a 'requests per second' | tail -1)
    kill "$SUB" 2>/dev/null || true
fi

echo
printf 'target %s events/s, %s probes on %s threads, %s server(s) (%s), write budget %s keys/s per server, load average after: %s\n' \
    "$RATE" "$PROBES" "$THREADS" "$SERVERS" "$SERVER_GC" "$BUDGET" "$LOAD"
printf '%-14s %7s %7s %10s %10s %7s %10s %10s %9s %8s %8s %8s %8s %10s\n' case servers flows sent/s deliv/s deliv% \
    redis_keys/s redis_cmd/s deferred cpu_gen cpu_srv cpu_rds cmd/event ev/srv-cpu-s
grep '^RESULT' "$WORK/gen.out" | sed 's/^RESULT //' | awk '{
    for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    printf "%-14s %7d %7d %10.0f %10.0f %6.1f%% %10.0f %10.0f %9.0f %7.0f%% %7.0f%% %7.0f%% %8.3f %10.0f\n", v["label"], v["servers"], v["flows"],
        v["sent"], v["delivered"], 100 * v["delivered"] / (v["sent"] > 0 ? v["sent"] : 1), v["keys"], v["cmds"],
        v["deferred_per_tick"], v["cpu_gen"], v["cpu_server"], v["cpu_redis"], v["cmds"] / (v["delivered"] > 0 ? v["delivered"] : 1),
        (v["cpu_server"] > 0 ? v["delivered"] / (v["cpu_server"] / 100) : 0) }'
echo "redis-benchmark -P 16 -t hset -n 1000000, same Redis, same run:      $BENCH"
echo "redis-benchmark -P 16 -t hset -n 1000000, with a keyspace subscriber: $BENCHSUB"
echo "(cpu_*: % of one core over the window; 2 cores = 200%; deferred: dirty keys left per 100 ms tick by the budget;"
echo " ev/srv-cpu-s: delivered events per second of server CPU, the figure least bent by other load on the box)"
# GC pauses of every server over the whole run (warm-up included), from -Xlog:safepoint:
#   Safepoint "G1CollectForAllocation", Time since last: N ns, Reaching safepoint: N ns, At safepoint: N ns, Total: N ns
cat "$WORK"/gc-*.log | grep -E 'Safepoint "[^"]*(GC|Collect|G1|Parallel|Z[A-Z])' | sed 's/.*Total: \([0-9]*\) ns.*/\1/' \
    | sort -n | awk '
    { a[NR] = $1 / 1e6 } END { if (NR == 0) { print "GC pauses: none logged"; exit }
      p50 = a[int(NR * 0.50) > 0 ? int(NR * 0.50) : 1]; p99 = a[int(NR * 0.99) > 0 ? int(NR * 0.99) : 1]
      printf "GC pauses (safepoints a collector asked for, all servers, whole run): %d, p50 %.2f ms, p99 %.2f ms, max %.2f ms\n", NR, p50, p99, a[NR] }'
echo "logs: $WORK"
