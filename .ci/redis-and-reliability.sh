#!/usr/bin/env bash
# CI step (called from .ci/run): clippy and unit tests of the test tools (tools/, not covered by the root
# package's clippy), the example receiver run as a user runs it, the Redis integration tests against a real redis-server, then the
# reliability run at reduced size (mix and collision cases) with the in-memory store and
# with Redis (restarted mid-run), then the flood at reduced size on the Railz route and a
# short one on the RootFi route (64 x 12 MiB declared = 6 x the buffer budget).
# Fails if the Redis tests were skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never
step() { printf '\n--- %s (at %ss) ---\n' "$*" "$SECONDS"; }

step "tools: clippy and unit tests"
cargo clippy -p ledgerhook-tools --all-targets -- -D warnings
cargo test -p ledgerhook-tools

# The README's first commands on the real binaries: the example receiver starts with no
# setup (development secrets, with warnings), accepts the README's three `ledgerhook send`
# fixtures, answers a
# redelivery as a duplicate, and exits on SIGTERM.
step "example receiver: zero-setup run, the README's send commands, SIGTERM"
cargo build --quiet --example receiver
cargo build --quiet -p ledgerhook-cli
(
    examples="${CARGO_TARGET_DIR:-target}/debug/examples"
    cli="${CARGO_TARGET_DIR:-target}/debug/ledgerhook"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
    log=$(mktemp)
    env -u RAILZ_WEBHOOK_SECRET -u ROOTFI_WEBHOOK_SECRET -u ROOTFI_V3_TOKEN -u LEDGERHOOK_REDIS_URL \
        LEDGERHOOK_ADDR="127.0.0.1:$port" "$examples/receiver" >"$log" 2>&1 &
    pid=$!
    trap 'kill "$pid" 2>/dev/null || true' EXIT
    for _ in $(seq 1 100); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
        sleep 0.1
    done
    send() { LEDGERHOOK_ADDR="127.0.0.1:$port" timeout 20 "$cli" send "$@"; }
    send railz tests/fixtures/railz_auth.json
    send rootfi tests/fixtures/rootfi_sync_completed.json
    send rootfi-v3 tests/fixtures/rootfi_connection_changed_v3.json
    again=$(send railz tests/fixtures/railz_auth.json)
    echo "$again"
    case "$again" in
        *duplicate*) ;;
        *) echo "FAILED: the redelivery was not answered as a duplicate" >&2; exit 1 ;;
    esac
    grep -q "DEVELOPMENT secret" "$log" || { echo "FAILED: no development-secret warning" >&2; exit 1; }
    kill -TERM "$pid"
    if ! timeout 10 tail --pid="$pid" -f /dev/null; then
        echo "FAILED: the example receiver did not exit within 10 s of SIGTERM" >&2
        exit 1
    fi
    wait "$pid" || { echo "FAILED: the example receiver exited with an error" >&2; cat "$log" >&2; exit 1; }
    echo "example receiver OK"
)

step "Redis idempotency tests"
eval "$(scripts/redis.sh start)"
trap 'scripts/redis.sh stop "$LEDGERHOOK_REDIS_DIR"' EXIT

# A skipped Redis test fails under LEDGERHOOK_REQUIRE_REDIS=1; also count that they ran.
out=$(mktemp)
LEDGERHOOK_REQUIRE_REDIS=1 cargo test --all-features --test it idempotency_redis -- --nocapture 2>&1 | tee "$out"
ran=$(grep -c '^ran against Redis: ' "$out" || true)
expected=16
if [ "$ran" -lt "$expected" ]; then
    echo "FAILED: only $ran of $expected Redis idempotency tests ran against Redis" >&2
    exit 1
fi
echo "Redis idempotency tests: $ran ran against $LEDGERHOOK_REDIS_URL"

export RELIABILITY_REQUESTS=${RELIABILITY_REQUESTS:-10000}
export RELIABILITY_DEADLINE_SECS=${RELIABILITY_DEADLINE_SECS:-300}
step "reliability mix and collisions, in-memory store"
RELIABILITY_STORE=memory scripts/reliability.sh
step "reliability mix and collisions, Redis restarted mid-run"
RELIABILITY_STORE=redis RELIABILITY_RESTART_REDIS=1 scripts/reliability.sh

# The flood at the reduced size: 256 streaming + 1,000 slow-header connections, 1,000
# genuine deliveries started over 30 s, bounded at 60 s.
step "flood, Railz route"
FLOOD_STREAMS=256 FLOOD_SLOW=1000 FLOOD_GENUINE=1000 FLOOD_SPREAD_SECS=30 FLOOD_MAX_SECS=60 \
    bash scripts/flood.sh
# The RootFi route: 64 forged streams of 16 MiB (the route's limit), half declared by
# `Content-Length`, half chunked, against the 128 MiB budget: they keep its shared part full
# to the byte, the peak RSS must stay near the budget, and the 300 small genuine deliveries
# get through the budget's reserve for small declared bodies (before the reserve, this
# flood starved them: docs/RELIABILITY.md).
step "flood, RootFi route (buffer budget full of forgeries)"
FLOOD_ROUTE=rootfi FLOOD_STREAMS=64 FLOOD_SLOW=0 \
    FLOOD_GENUINE=300 FLOOD_SPREAD_SECS=10 FLOOD_MAX_SECS=40 bash scripts/flood.sh
step "done"
