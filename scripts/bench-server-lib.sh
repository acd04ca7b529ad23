# Shared by scripts/bench-ingest.sh and scripts/bench-latency.sh (sourced, from the tree root, with WORK set):
# processes started here are killed on exit; free_port; CP, this tree's classes first, then the third-party jars
# (never the shared ~/.m2 copies of our own modules); start_redis sets RPORT and RPID.
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

# one reactor run, so the protocol's test jar resolves to its classes (no installed snapshot needed)
if [ ! -s processing-server/target/bench-classpath.txt ]; then
    mvn -B -q -o -pl processing-server -am test-compile dependency:build-classpath -Dmdep.includeScope=test \
        -Dmdep.outputFile=target/bench-classpath.txt >/dev/null
fi
EXT=$(tr ':' '\n' < processing-server/target/bench-classpath.txt | grep -v '/org/glouglou/' | paste -sd:)
CP="protocol-spec/target/classes:modules/network/target/classes:modules/process/target/classes:processing-server/target/classes:processing-server/target/test-classes:$EXT"

start_redis() {
    RPORT=$(free_port)
    redis-server --port "$RPORT" --bind 127.0.0.1 --save '' --appendonly no --daemonize no --dir "$WORK" \
        > "$WORK/redis.log" 2>&1 &
    RPID=$!; PIDS+=("$RPID")
    for _ in $(seq 50); do redis-cli -p "$RPORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
}
