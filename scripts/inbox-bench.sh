#!/usr/bin/env bash
# Side-by-side inbox measurement (tests/it/inbox_bench.rs), in one run, release build:
# receiver throughput and latency with the inbox on Redis vs dedup only on Redis vs
# verification only; worker drain rate; accept-to-handler latency. Loopback only.
#
#   scripts/inbox-bench.sh                       # 20,000 deliveries per receiver, concurrency 64
#   INBOX_BENCH_DELIVERIES=50000 scripts/inbox-bench.sh
#
# Uses LEDGERHOOK_REDIS_URL/LEDGERHOOK_REDIS_DIR if set, else starts its own redis-server.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never
if [ -z "${LEDGERHOOK_REDIS_DIR:-}" ]; then
    eval "$(scripts/redis.sh start)"
    trap 'scripts/redis.sh stop "$LEDGERHOOK_REDIS_DIR"' EXIT
fi
LEDGERHOOK_INBOX_BENCH=1 cargo test --release --all-features --test it \
    inbox_bench::inbox_bench -- --exact --nocapture
