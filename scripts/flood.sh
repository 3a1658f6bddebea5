#!/usr/bin/env bash
# Flood run: starts the test receiver (tools/, release) on loopback, then the flood driver
# (tools/src/bin/flood.rs): streaming connections with well-formed forged Railz signatures
# holding back their last byte, slow-header connections, and genuine deliveries retried on
# 503 like a provider. Reports the receiver's peak RSS, the genuine deliveries accepted and
# handled (each once, from GET /stats) and how long the flood lasted. Exits non-zero if a
# genuine delivery was lost or handled twice, or if the peak RSS exceeds FLOOD_MAX_RSS_MB.
#
#   bash scripts/flood.sh                                   # 256 streams, 1,000 slow, 2,000 genuine
#   FLOOD_GENUINE=1000 FLOOD_MAX_SECS=60 bash scripts/flood.sh   # the CI size
#   FLOOD_BODY_BYTES=1048576 bash scripts/flood.sh          # a smaller body than the route limit
#   FLOOD_ROUTE=rootfi FLOOD_MAX_INFLIGHT_MIB=4096 bash scripts/flood.sh   # RootFi v4 (16 MiB limit):
#                                                           # 256 x 16 MiB against the 128 MiB budget
#
# Knobs: FLOOD_ROUTE (railz | rootfi), FLOOD_FRAMING (both: half Content-Length, half
# chunked | length | chunked), FLOOD_STREAMS (256), FLOOD_SLOW (1000), FLOOD_GENUINE (2000),
# FLOOD_GENUINE_CONCURRENCY (16), FLOOD_BODY_BYTES (unset: just under the route's limit,
# found by probing), FLOOD_SLOW_INTERVAL_SECS (3), FLOOD_SLOW_HEAD_BYTES (0: header bytes
# each slow connection sends at once before trickling), FLOOD_SPREAD_SECS (30: the genuine
# deliveries start evenly over this time, so the flood lasts at least that long), FLOOD_MAX_SECS (120: the genuine
# deliveries stop retrying then), FLOOD_MAX_RSS_MB (300), FLOOD_MAX_INFLIGHT_MIB (1024: the
# driver refuses FLOOD_STREAMS x body size above it), FLOOD_ABORT_RSS_MB (3 x FLOOD_MAX_RSS_MB:
# the driver stops the flood and fails if the receiver's RSS passes it). The receiver reads its own LEDGERHOOK_*
# settings from the environment, e.g. LEDGERHOOK_HEADER_TIMEOUT_SECS=0
# LEDGERHOOK_MAX_CONNECTIONS=0 (hyper without those guards) or LEDGERHOOK_SERVE=axum (plain
# axum::serve, as examples/receiver.rs served before the fixes).
# Bounded: the driver is killed after FLOOD_MAX_SECS + 120 s; everything started is stopped
# on exit. Loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."

streams=${FLOOD_STREAMS:-256}
slow=${FLOOD_SLOW:-1000}
genuine=${FLOOD_GENUINE:-2000}
genuine_concurrency=${FLOOD_GENUINE_CONCURRENCY:-16}
body_bytes=${FLOOD_BODY_BYTES:-0}
slow_interval=${FLOOD_SLOW_INTERVAL_SECS:-3}
slow_head_bytes=${FLOOD_SLOW_HEAD_BYTES:-0}
spread=${FLOOD_SPREAD_SECS:-30}
max_secs=${FLOOD_MAX_SECS:-120}
max_rss_mb=${FLOOD_MAX_RSS_MB:-300}
max_inflight_mib=${FLOOD_MAX_INFLIGHT_MIB:-1024}
abort_rss_mb=${FLOOD_ABORT_RSS_MB:-$((3 * max_rss_mb))}
route=${FLOOD_ROUTE:-railz}
framing=${FLOOD_FRAMING:-both}
export CARGO_TERM_COLOR=never

# Both processes hold one descriptor per connection: streams + slow + genuine + spare.
need=$((streams + slow + genuine_concurrency + 512))
hard=$(ulimit -Hn)
if [ "$hard" != unlimited ] && [ "$hard" -lt "$need" ]; then
    echo "the open-files hard limit ($hard) is below the $need descriptors needed" >&2
    exit 2
fi
want=$((need > 8192 ? need : 8192))
if [ "$hard" != unlimited ] && [ "$hard" -lt "$want" ]; then want=$hard; fi
ulimit -n "$want"
echo "open-files limit: $(ulimit -n)"

echo "=== building the test receiver and the flood driver (release, tools/) ==="
cargo build --release --quiet -p ledgerhook-tools --bin test-receiver --bin flood
bin="${CARGO_TARGET_DIR:-target}/release"

receiver_pid=
cleanup() {
    if [ -n "$receiver_pid" ]; then kill "$receiver_pid" 2>/dev/null || true; wait "$receiver_pid" 2>/dev/null || true; fi
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
log=$(mktemp "${TMPDIR:-/tmp}/ledgerhook-flood-receiver.XXXXXX.log")
unset LEDGERHOOK_REDIS_URL
RUST_LOG="${RUST_LOG:-warn}" LEDGERHOOK_ADDR="127.0.0.1:$port" "$bin/test-receiver" >"$log" 2>&1 &
receiver_pid=$!
for _ in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
    kill -0 "$receiver_pid" 2>/dev/null || { cat "$log" >&2; echo "receiver exited" >&2; exit 1; }
    sleep 0.1
done
[ "${LEDGERHOOK_SERVE:-}" = axum ] && echo "receiver serving with plain axum::serve (LEDGERHOOK_SERVE=axum)"
echo "receiver settings: header timeout ${LEDGERHOOK_HEADER_TIMEOUT_SECS:-10} s (0 = none), max connections ${LEDGERHOOK_MAX_CONNECTIONS:-2048} (0 = unlimited), connection buffer ${LEDGERHOOK_MAX_BUF_BYTES:-16384} bytes (0 = hyper's ~400 KiB), body deadline ${LEDGERHOOK_BODY_TIMEOUT_SECS:-10} s"

body_label="$body_bytes bytes"
[ "$body_bytes" = 0 ] && body_label="just under the route limit"
echo "=== flood on /webhooks/$route: $streams streams, $slow slow-header, $genuine genuine (concurrency $genuine_concurrency), body $body_label ==="
status=0
timeout --kill-after=10 "$((spread + max_secs + 120))" "$bin/flood" --url "http://127.0.0.1:$port" \
    --streams "$streams" --slow "$slow" --genuine "$genuine" \
    --genuine-concurrency "$genuine_concurrency" --body-bytes "$body_bytes" \
    --slow-interval-secs "$slow_interval" --slow-head-bytes "$slow_head_bytes" --spread-secs "$spread" --max-secs "$max_secs" \
    --max-inflight-mib "$max_inflight_mib" --abort-rss-mb "$abort_rss_mb" --route "$route" --framing "$framing" \
    --receiver-pid "$receiver_pid" || status=$?

hwm_kb=$(awk '/^VmHWM/ {print $2}' "/proc/$receiver_pid/status" 2>/dev/null || echo 0)
rss_kb=$(awk '/^VmRSS/ {print $2}' "/proc/$receiver_pid/status" 2>/dev/null || echo 0)
echo "receiver peak RSS (VmHWM): $((hwm_kb / 1024)) MB (limit $max_rss_mb MB); RSS at the end: $((rss_kb / 1024)) MB"
echo "receiver log: $(wc -l <"$log") lines, $(wc -c <"$log") bytes ($log)"
if grep -qi panic "$log"; then echo "FAILED: the receiver panicked" >&2; status=1; fi
if [ "$hwm_kb" -eq 0 ]; then echo "FAILED: could not read the receiver's peak RSS" >&2; status=1; fi
if [ "$((hwm_kb / 1024))" -gt "$max_rss_mb" ]; then
    echo "FAILED: receiver peak RSS $((hwm_kb / 1024)) MB exceeds FLOOD_MAX_RSS_MB=$max_rss_mb" >&2
    status=1
fi
[ "$status" = 0 ] && echo "FLOOD OK"
exit "$status"
