#!/usr/bin/env bash
# CI step (called from .ci/run): clippy and unit tests of the test tools (tools/, not covered by the root
# package's clippy), the Redis integration tests against a real redis-server, then the
# reliability run at reduced size (mix and collision cases) with the in-memory store and
# with Redis (restarted mid-run), then the flood at reduced size. Fails if the Redis tests
# were skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never

cargo clippy -p ledgerhook-tools --all-targets -- -D warnings
cargo test -p ledgerhook-tools

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
RELIABILITY_STORE=memory scripts/reliability.sh
RELIABILITY_STORE=redis RELIABILITY_RESTART_REDIS=1 scripts/reliability.sh

# The flood at the reduced size: 256 streaming + 1,000 slow-header connections, 1,000
# genuine deliveries started over 30 s, bounded at 60 s.
FLOOD_STREAMS=256 FLOOD_SLOW=1000 FLOOD_GENUINE=1000 FLOOD_SPREAD_SECS=30 FLOOD_MAX_SECS=60 \
    bash scripts/flood.sh
