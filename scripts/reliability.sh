#!/usr/bin/env bash
# Reliability run: drives the example receiver (release build) on loopback with a known mix
# of deliveries, checks from the receiver's own records that every valid event was handled
# exactly once, and reports the receiver's peak RSS.
#
#   scripts/reliability.sh                       # 100,000 requests, concurrency 64, in-memory store
#   RELIABILITY_STORE=redis scripts/reliability.sh
#   RELIABILITY_STORE=redis RELIABILITY_RESTART_REDIS=1 scripts/reliability.sh
#   RELIABILITY_REQUESTS=10000 scripts/reliability.sh    # the reduced size CI runs
#
# Other knobs: RELIABILITY_CONCURRENCY (64), RELIABILITY_DEADLINE_SECS (900),
# LEDGERHOOK_DEDUP=off (to see the check fail without the dedup layer).
# Bounded: the driver stops issuing requests at the deadline, and the whole run is killed
# after the deadline plus 5 minutes. Starts redis-server itself (scripts/redis.sh) when the
# store is redis, and stops everything it started on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

requests=${RELIABILITY_REQUESTS:-100000}
concurrency=${RELIABILITY_CONCURRENCY:-64}
store=${RELIABILITY_STORE:-memory}
restart=${RELIABILITY_RESTART_REDIS:-0}
deadline=${RELIABILITY_DEADLINE_SECS:-900}
export CARGO_TERM_COLOR=never

case "$store" in
    memory | redis) ;;
    *) echo "RELIABILITY_STORE must be memory or redis" >&2; exit 2 ;;
esac
# One build for both stores: without LEDGERHOOK_REDIS_URL the receiver keeps its records
# in memory.
features=(--features redis)

echo "=== building the receiver and the driver (release) ==="
cargo build --release --quiet "${features[@]}" --example receiver --example reliability_driver
target_dir=${CARGO_TARGET_DIR:-target}
bin="$target_dir/release/examples"

receiver_pid=
redis_dir=
cleanup() {
    if [ -n "$receiver_pid" ]; then kill "$receiver_pid" 2>/dev/null || true; wait "$receiver_pid" 2>/dev/null || true; fi
    if [ -n "$redis_dir" ]; then scripts/redis.sh stop "$redis_dir" || true; fi
}
trap cleanup EXIT

receiver_env=(LEDGERHOOK_STATS=1 RUST_LOG="${RUST_LOG:-warn}")
restart_args=()
if [ "$store" = redis ]; then
    eval "$(scripts/redis.sh start)"
    redis_dir=$LEDGERHOOK_REDIS_DIR
    receiver_env+=(LEDGERHOOK_REDIS_URL="$LEDGERHOOK_REDIS_URL")
    if [ "$restart" = 1 ]; then
        restart_args=(--restart-cmd "scripts/redis.sh restart $redis_dir")
    fi
else
    unset LEDGERHOOK_REDIS_URL
fi

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
log=$(mktemp "${TMPDIR:-/tmp}/ledgerhook-receiver.XXXXXX.log")
env "${receiver_env[@]}" LEDGERHOOK_ADDR="127.0.0.1:$port" "$bin/receiver" >"$log" 2>&1 &
receiver_pid=$!
for _ in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
    kill -0 "$receiver_pid" 2>/dev/null || { cat "$log" >&2; echo "receiver exited" >&2; exit 1; }
    sleep 0.1
done

echo "=== driving: $requests requests, concurrency $concurrency, store $store, restart redis: $restart, dedup: ${LEDGERHOOK_DEDUP:-on} ==="
status=0
timeout --kill-after=10 "$((deadline + 300))" "$bin/reliability_driver" \
    --url "http://127.0.0.1:$port" --requests "$requests" --concurrency "$concurrency" \
    --deadline-secs "$deadline" "${restart_args[@]}" || status=$?

hwm=$(awk '/^VmHWM/ {print $2, $3}' "/proc/$receiver_pid/status" 2>/dev/null || echo unknown)
rss=$(awk '/^VmRSS/ {print $2, $3}' "/proc/$receiver_pid/status" 2>/dev/null || echo unknown)
echo "receiver peak RSS (VmHWM): $hwm; RSS at the end: $rss"
errors=$(grep -ciE 'error|panic' "$log" || true)
echo "receiver log: $(wc -l <"$log") lines, $errors mentioning error/panic ($log)"
if grep -qi panic "$log"; then echo "FAILED: the receiver panicked" >&2; status=1; fi
exit "$status"
