#!/usr/bin/env bash
# ./glouglou demo: the whole pipeline on this machine. A private redis-server, the processing server, a probe
# replaying a shared capture (or watching lo), then what a viewer sees. Ctrl-C stops everything.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
G="$ROOT/glouglou"
WORK="$ROOT/.glouglou/demo"
REDIS_PORT=${DEMO_REDIS_PORT:-26379}
UDP_PORT=${DEMO_PORT:-24430}
METRICS=${DEMO_METRICS:-127.0.0.1:29430}
VIEWER_PORT=${DEMO_VIEWER_PORT:-24431}
CAPTURE=${1:-}

say() { echo "demo: $*" >&2; }
die() { echo "demo: $*" >&2; exit 2; }

case "$CAPTURE" in
  -h|--help)
    echo "usage: ./glouglou demo [CAPTURE.pcap]: redis, the server, a probe replaying the capture (default: a shared"
    echo "one, else the probe watches lo), then what a viewer sees. Ports: DEMO_REDIS_PORT, DEMO_PORT, DEMO_METRICS,"
    echo "DEMO_VIEWER_PORT."
    exit 0 ;;
  -*) die "unknown option '$CAPTURE': the only argument is a capture file (see --help)" ;;
esac
[ $# -le 1 ] || die "one capture file at most, got $#"
[ -z "$CAPTURE" ] || [ -f "$CAPTURE" ] || die "no such capture file: $CAPTURE"

command -v redis-server >/dev/null || die "redis-server is missing: apt-get install redis-server"
if [ -z "$CAPTURE" ]; then
  for c in "$ROOT/../shared/pcaps/web_browsing__ntopng-e2e_test_01.pcap" "$ROOT/pcaps/demo.pcap"; do
    [ -f "$c" ] && { CAPTURE=$c; break; }
  done
fi
mkdir -p "$WORK"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --logfile "$WORK/redis.log" &
pids+=($!)
for _ in $(seq 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 || die "redis-server did not start on port $REDIS_PORT (see $WORK/redis.log)"
redis-cli -p "$REDIS_PORT" flushall >/dev/null
say "redis-server on 127.0.0.1:$REDIS_PORT"

[ -f "$WORK/probe.secret" ] || "$G" probe --new-secret 1 --name demo-probe > "$WORK/probe.secret"
cp "$WORK/probe.secret" "$WORK/secrets"
chmod 644 "$WORK/secrets" "$WORK/probe.secret"
# one viewer for the demo: a token made by the server itself, kept beside the other demo files
if [ ! -s "$WORK/viewer.token" ]; then
  rm -f "$WORK/viewers"
  "$G" server --viewer-users "$WORK/viewers" --add-viewer demo 2> "$WORK/add-viewer.log" \
    | sed -n 's/.*(shown once): //p' > "$WORK/viewer.token"
  chmod 600 "$WORK/viewer.token"
  [ -s "$WORK/viewer.token" ] || die "could not make the demo viewer: $(tail -1 "$WORK/add-viewer.log")"
fi

"$G" server --listen "127.0.0.1:$UDP_PORT" --redis "redis://127.0.0.1:$REDIS_PORT" --secrets "$WORK/secrets" \
  --metrics "$METRICS" --viewers "127.0.0.1:$VIEWER_PORT" --viewer-users "$WORK/viewers" --state-dir "$WORK/state" \
  2> "$WORK/server.log" &
pids+=($!)
sleep 2
kill -0 "${pids[-1]}" 2>/dev/null || die "the server did not start: $(tail -1 "$WORK/server.log")"
say "processing server on udp 127.0.0.1:$UDP_PORT, metrics on http://$METRICS/metrics"

if [ -n "$CAPTURE" ]; then
  say "probe replays $(basename "$CAPTURE") at capture speed"
  "$G" probe --server "127.0.0.1:$UDP_PORT" --secret-file "$WORK/probe.secret" --read "$CAPTURE" --realtime \
    2> "$WORK/probe.log" || die "the probe failed: $(tail -1 "$WORK/probe.log")"
elif [ "$(id -u)" = 0 ]; then
  say "no capture file found: the probe watches lo for 10 s (make some traffic on 127.0.0.1)"
  timeout 10 "$G" probe --server "127.0.0.1:$UDP_PORT" --secret-file "$WORK/probe.secret" -i lo \
    2> "$WORK/probe.log" || true
else
  die "no capture to replay: give a pcap file ('./glouglou demo FILE'), or run as root to watch lo"
fi
sleep 0.5

say "the graph in Redis now:"
nodes=$(redis-cli -p "$REDIS_PORT" --scan --pattern 'gg:node:*' | wc -l)
links=$(redis-cli -p "$REDIS_PORT" --scan --pattern 'gg:link:*' | wc -l)
names=$(redis-cli -p "$REDIS_PORT" --scan --pattern 'gg:name:*' | wc -l)
echo "  $nodes hosts, $links host pairs, $names names"
echo "  probe status:"
redis-cli -p "$REDIS_PORT" hgetall gg:probe:1 | paste - - | sed 's/^/    /' | head -12

# the viewers: the certificate is pinned from the server's own log line (trust nothing else)
FP=$(sed -n 's/.*certificate SHA-256 fingerprint \([0-9A-F:]*\).*/\1/p' "$WORK/server.log" | tail -1)
[ -n "$FP" ] || die "the server did not log its viewer certificate fingerprint (see $WORK/server.log)"
VIEW=(--server "127.0.0.1:$VIEWER_PORT" --pin "$FP" --token-file "$WORK/viewer.token")
say "what a viewer sees (glouglou text --snapshot, certificate pinned to $FP):"
"$G" text "${VIEW[@]}" --snapshot 2> "$WORK/text.log" | sed 's/^/  /' | head -40 \
  || say "the text client failed: $(tail -1 "$WORK/text.log")"
if [ -n "${DISPLAY:-}" ]; then
  say "desktop viewer opening on $DISPLAY (close its window to end the demo)"
  "$G" view "${VIEW[@]}" 2> "$WORK/view.log" || say "the desktop viewer ended: $(tail -1 "$WORK/view.log")"
else
  say "no DISPLAY: skipping the desktop viewer (run './glouglou view ${VIEW[*]}' on a desktop)"
fi
