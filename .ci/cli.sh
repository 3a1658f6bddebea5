#!/usr/bin/env bash
# CI step (called from .ci/run): the `ledgerhook` command line (workspace member cli/).
# The root package's steps do not cover it (`cargo clippy` at the root lints the root
# package only), so it is linted, documented and tested here, the `inbox` commands
# against a real redis-server and a real three-master Redis Cluster (fails if they were
# skipped).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never

cargo clippy -p ledgerhook-cli --all-targets -- -D warnings
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps -p ledgerhook-cli
# The registration models build alone, and with their client.
cargo check --no-default-features --features setup
cargo check --no-default-features --features setup-client

eval "$(scripts/redis.sh start)"
eval "$(scripts/redis-cluster.sh start)"
trap 'scripts/redis.sh stop "$LEDGERHOOK_REDIS_DIR"; scripts/redis-cluster.sh stop "$LEDGERHOOK_REDIS_CLUSTER_DIR"' EXIT

# Real processes over loopback: test receivers, `ledgerhook listen`, a fake RootFi API,
# and `ledgerhook inbox` against Redis. A skipped Redis test fails under
# LEDGERHOOK_REQUIRE_REDIS=1; also count that they ran.
out=$(mktemp)
LEDGERHOOK_REQUIRE_REDIS=1 cargo test -p ledgerhook-cli -- --nocapture 2>&1 | tee "$out"
single=$(grep -c '^ran against Redis: inbox' "$out" || true)
cluster=$(grep -c '^ran against Redis Cluster: inbox' "$out" || true)
expected_single=4
expected_cluster=1
if [ "$single" -lt "$expected_single" ] || [ "$cluster" -lt "$expected_cluster" ]; then
    echo "FAILED: CLI inbox tests ran $single/$expected_single against Redis and $cluster/$expected_cluster against the cluster" >&2
    exit 1
fi
echo "CLI inbox tests: $single ran against $LEDGERHOOK_REDIS_URL, $cluster against the cluster ($LEDGERHOOK_REDIS_CLUSTER_URLS)"
