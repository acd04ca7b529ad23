#!/usr/bin/env bash
# End-to-end latency and fan-out benchmark (issue 5): its own redis-server on a free loopback port, the processing
# server with its TLS viewer port (ServerMain, from this work tree's classes), the ingest load generator
# (org.glouglou.server.bench.IngestBench) at RATE events/s, and org.glouglou.server.bench.LatencyBench: a marker probe
# session, one unfiltered JSON viewer that times the marker from datagram to update, and VIEWERS more TLS viewers with
# different filters, formats and levels. Prints latency p50/p90/p99/max, server CPU and resident memory.
#
#   scripts/bench-latency.sh                       defaults: RATE=100000 FLOWS=10000 VIEWERS=49 DURATION=20
#   RATE=100000 FLOWS=10000 VIEWERS=49 DURATION=20 WARMUP=40 INTERVAL_MS=20 TICK=100 scripts/bench-latency.sh
#
# Needs: mvn -pl processing-server -am test-compile done (classes), redis-server, redis-cli.
set -euo pipefail
cd "$(dirname "$0")/.."
RATE=${RATE:-100000}
FLOWS=${FLOWS:-10000}
VIEWERS=${VIEWERS:-49}
SECONDS_=${DURATION:-20}
WARMUP=${WARMUP:-40}
INTERVAL_MS=${INTERVAL_MS:-20}
PROBES=${PROBES:-8}
TICK=${TICK:-100}
BUDGET=${BUDGET:-50000}
WORK=$(mktemp -d /tmp/gg-latency.XXXXXX)
source scripts/bench-server-lib.sh
start_redis
UPORT=$(free_port); MPORT=$(free_port); VPORT=$(free_port)

java -cp "$CP" org.glouglou.server.bench.IngestBench --make-secrets "$((PROBES + 1))" "$WORK/secrets"
java -cp "$CP" org.glouglou.server.bench.LatencyBench --make-users "$WORK/viewers"
java -Xms1g -Xmx2g -XX:+UseParallelGC ${SERVER_JAVA_OPTS:-} -cp "$CP" org.glouglou.server.ServerMain \
    --listen "127.0.0.1:$UPORT" --redis "redis://127.0.0.1:$RPORT" --secrets "$WORK/secrets" \
    --metrics "127.0.0.1:$MPORT" --rate-limit 10000000 --redis-keys-per-second "$BUDGET" --tick "$TICK" \
    --viewers "127.0.0.1:$VPORT" --viewer-users "$WORK/viewers" --state-dir "$WORK/state" \
    --max-viewers $((VIEWERS + 10)) > "$WORK/server.log" 2>&1 &
SPID=$!; PIDS+=("$SPID")
# the viewer port opens after the TLS identity is made (seconds on a busy box)
for _ in $(seq 600); do grep -q 'viewers on tcp' "$WORK/server.log" && break; sleep 0.1; done
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$MPORT/metrics" >/dev/null 2>&1 && break; sleep 0.1; done

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
# viewers and the marker session connect first (Argon2 logins take a while on a busy box); the load starts once they
# are in, and runs past the measured window on both sides
java -Xmx512m -cp "$CP" org.glouglou.server.bench.LatencyBench --server "127.0.0.1:$UPORT" \
    --secrets "$WORK/secrets" --probe-id "$((PROBES + 1))" --viewer-port "$VPORT" --known "$WORK/known_servers" \
    --viewers "$VIEWERS" --interval-ms "$INTERVAL_MS" --warmup "$WARMUP" --seconds "$SECONDS_" --server-pid "$SPID" \
    --ready "$WORK/ready" > "$WORK/lat.out" 2>"$WORK/lat.log" &
LPID=$!; PIDS+=("$LPID")
for _ in $(seq 1200); do [ -e "$WORK/ready" ] && break; sleep 0.1; done
java -Xmx1g -cp "$CP" org.glouglou.server.bench.IngestBench --server "127.0.0.1:$UPORT" --secrets "$WORK/secrets" \
    --metrics "http://127.0.0.1:$MPORT/metrics" --probes "$PROBES" --threads 1 --flows "$FLOWS" \
    --rate "$RATE" --warmup 2 --seconds "$((WARMUP + SECONDS_))" --server-pid "$SPID" --redis-pid "$RPID" \
    --label load > "$WORK/gen.out" 2>"$WORK/gen.log" &
GPID=$!; PIDS+=("$GPID")
wait "$LPID" || echo "latency run failed: see $WORK/lat.log" >&2
wait "$GPID" || true
LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
echo
printf 'load %s events/s over %s flows by %s probes; tick %s ms; write budget %s keys/s; load average after: %s\n' \
    "$RATE" "$FLOWS" "$PROBES" "$TICK" "$BUDGET" "$LOAD"
grep '^RESULT' "$WORK/gen.out" | sed 's/^RESULT //' | tr ' ' '\n' | grep -E '^(sent|delivered|keys|cpu_server|cpu_redis|cpu_gen)=' | paste -sd' ' | sed 's/^/ingest: /'
grep '^RESULT' "$WORK/lat.out" | sed 's/^RESULT /latency: /'
echo "(p*_ms: a marker DATA datagram to the unfiltered JSON viewer's update; cpu_server: % of one core, 2 cores = 200%;"
echo " server_rss_mib at the end; *_kib_s: stream bytes the watching viewer / all other viewers received per second)"
echo "logs: $WORK"
