#!/usr/bin/env bash
# CI step (called from .ci/run): clippy and unit tests of the test tools (tools/, not covered by the root
# package's clippy), the Redis integration tests against a real redis-server, then the
# reliability run at reduced size (mix and collision cases) with the in-memory store and
# with Redis (restarted mid-run), then the flood at reduced size on the Railz route and a
# short one on the RootFi route (its 16 MiB limit x 64 streams = 8 x the buffer budget).
# Fails if the Redis tests were skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never
step() { printf '\n--- %s (at %ss) ---\n' "$*" "$SECONDS"; }

step "tools: clippy and unit tests"
cargo clippy -p ledgerhook-tools --all-targets -- -D warnings
cargo test -p ledgerhook-tools

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
# The RootFi route: 64 streams x 16 MiB is 1 GiB against the 128 MiB budget; genuine
# deliveries get 503 + Retry-After while it is full and succeed on retry.
step "flood, RootFi route (buffer budget)"
FLOOD_ROUTE=rootfi FLOOD_STREAMS=64 FLOOD_SLOW=0 FLOOD_GENUINE=300 FLOOD_SPREAD_SECS=10 \
    FLOOD_MAX_SECS=40 bash scripts/flood.sh
step "done"
