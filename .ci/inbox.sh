#!/usr/bin/env bash
# CI step (called from .ci/run): the inbox tests against a real redis-server and a real
# three-master Redis Cluster on loopback. Fails if any of them was skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never

eval "$(scripts/redis.sh start)"
eval "$(scripts/redis-cluster.sh start)"
trap 'scripts/redis.sh stop "$LEDGERHOOK_REDIS_DIR"; scripts/redis-cluster.sh stop "$LEDGERHOOK_REDIS_CLUSTER_DIR"' EXIT

cargo check --no-default-features --features inbox
cargo check --no-default-features --features inbox-redis

out=$(mktemp)
LEDGERHOOK_REQUIRE_REDIS=1 cargo test --all-features --test it inbox -- --nocapture 2>&1 | tee "$out"
single=$(grep -c '^ran against Redis: ' "$out" || true)
cluster=$(grep -c '^ran against Redis Cluster: ' "$out" || true)
expected=15
if [ "$single" -lt "$expected" ] || [ "$cluster" -lt "$expected" ]; then
    echo "FAILED: inbox tests ran $single/$expected against Redis and $cluster/$expected against the cluster" >&2
    exit 1
fi
echo "inbox Redis tests: $single ran against $LEDGERHOOK_REDIS_URL, $cluster against the cluster ($LEDGERHOOK_REDIS_CLUSTER_URLS)"

bash scripts/inbox-reliability.sh
