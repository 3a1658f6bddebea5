#!/usr/bin/env bash
# Reliability run: drives the test receiver (tools/, release build) on loopback with a known
# mix of deliveries, checks from the receiver's own records that every valid event was
# handled exactly once, reports the receiver's peak RSS, then runs the collision cases
# against a second receiver started with a short body-digest window and a small store.
#
#   scripts/reliability.sh                       # 100,000 requests, concurrency 64, in-memory store
#   RELIABILITY_STORE=redis scripts/reliability.sh
#   RELIABILITY_STORE=redis RELIABILITY_RESTART_REDIS=1 scripts/reliability.sh
#   RELIABILITY_REQUESTS=10000 scripts/reliability.sh    # the reduced size CI runs
#
# Other knobs: RELIABILITY_CONCURRENCY (64), RELIABILITY_DEADLINE_SECS (900),
# RELIABILITY_COLLISIONS (1; 0 skips the collision cases, `only` runs nothing else),
# RELIABILITY_DIGEST_WINDOW_MS (1500) and RELIABILITY_STORE_CAPACITY (2000) for the
# collision receiver, LEDGERHOOK_DEDUP=off (to see the checks fail without the dedup layer).
# Bounded: the driver stops issuing requests at the deadline, and each phase is killed
# after the deadline plus 5 minutes. Starts redis-server itself (scripts/redis.sh) when the
# store is redis, and stops everything it started on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

requests=${RELIABILITY_REQUESTS:-100000}
concurrency=${RELIABILITY_CONCURRENCY:-64}
store=${RELIABILITY_STORE:-memory}
restart=${RELIABILITY_RESTART_REDIS:-0}
deadline=${RELIABILITY_DEADLINE_SECS:-900}
collisions=${RELIABILITY_COLLISIONS:-1}
digest_window_ms=${RELIABILITY_DIGEST_WINDOW_MS:-1500}
store_capacity=${RELIABILITY_STORE_CAPACITY:-2000}
export CARGO_TERM_COLOR=never

case "$store" in
    memory | redis) ;;
    *) echo "RELIABILITY_STORE must be memory or redis" >&2; exit 2 ;;
esac

echo "=== building the test receiver and the driver (release, tools/) ==="
cargo build --release --quiet -p ledgerhook-tools --bin test-receiver --bin reliability-driver
target_dir=${CARGO_TARGET_DIR:-target}
bin="$target_dir/release"

receiver_pid=
redis_dir=
stop_receiver() {
    if [ -n "$receiver_pid" ]; then kill "$receiver_pid" 2>/dev/null || true; wait "$receiver_pid" 2>/dev/null || true; fi
    receiver_pid=
}
cleanup() {
    stop_receiver
    if [ -n "$redis_dir" ]; then scripts/redis.sh stop "$redis_dir" || true; fi
}
trap cleanup EXIT

receiver_env=(RUST_LOG="${RUST_LOG:-warn}")
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

# start_receiver ENV...: starts the test receiver on a free port; sets receiver_pid, port, log.
start_receiver() {
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
    log=$(mktemp "${TMPDIR:-/tmp}/ledgerhook-receiver.XXXXXX.log")
    env "${receiver_env[@]}" "$@" LEDGERHOOK_ADDR="127.0.0.1:$port" "$bin/test-receiver" >"$log" 2>&1 &
    receiver_pid=$!
    for _ in $(seq 1 100); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
        kill -0 "$receiver_pid" 2>/dev/null || { cat "$log" >&2; echo "receiver exited" >&2; exit 1; }
        sleep 0.1
    done
    echo "receiver did not start listening" >&2
    exit 1
}

report_receiver() {
    local hwm rss errors
    hwm=$(awk '/^VmHWM/ {print $2, $3}' "/proc/$receiver_pid/status" 2>/dev/null || echo unknown)
    rss=$(awk '/^VmRSS/ {print $2, $3}' "/proc/$receiver_pid/status" 2>/dev/null || echo unknown)
    echo "receiver peak RSS (VmHWM): $hwm; RSS at the end: $rss"
    errors=$(grep -ciE 'error|panic' "$log" || true)
    echo "receiver log: $(wc -l <"$log") lines, $errors mentioning error/panic ($log)"
    if grep -qi panic "$log"; then echo "FAILED: the receiver panicked" >&2; status=1; fi
}

status=0
if [ "$collisions" != only ]; then
    start_receiver
    echo "=== driving: $requests requests, concurrency $concurrency, store $store, restart redis: $restart, dedup: ${LEDGERHOOK_DEDUP:-on} ==="
    timeout --kill-after=10 "$((deadline + 300))" "$bin/reliability-driver" \
        --url "http://127.0.0.1:$port" --requests "$requests" --concurrency "$concurrency" \
        --deadline-secs "$deadline" "${restart_args[@]}" || status=$?
    report_receiver
    stop_receiver
fi

if [ "$collisions" != 0 ]; then
    echo "=== collision cases: store $store, body-digest window ${digest_window_ms} ms, store capacity $store_capacity ==="
    start_receiver LEDGERHOOK_BODY_DIGEST_WINDOW_MS="$digest_window_ms" LEDGERHOOK_STORE_CAPACITY="$store_capacity"
    timeout --kill-after=10 300 "$bin/reliability-driver" --url "http://127.0.0.1:$port" \
        --collisions --digest-window-ms "$digest_window_ms" || status=$?
    report_receiver
    stop_receiver
fi
exit "$status"
