#!/usr/bin/env bash
# The inbox reliability run (tests/it/inbox_reliability.rs): a receiver with the inbox on
# a throwaway redis-server, two worker processes, a handler failing for a while, one
# worker SIGKILLed and redis-server restarted mid-run. Bounded and loopback only.
#
#   scripts/inbox-reliability.sh                       # reduced: 10,000 deliveries, handler failing 15 s
#   INBOX_RELIABILITY_DELIVERIES=100000 INBOX_RELIABILITY_FAIL_SECS=130 scripts/inbox-reliability.sh
#
# Uses LEDGERHOOK_REDIS_URL/LEDGERHOOK_REDIS_DIR if set (a server from scripts/redis.sh),
# else starts and stops its own.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never
if [ -z "${LEDGERHOOK_REDIS_DIR:-}" ]; then
    eval "$(scripts/redis.sh start)"
    trap 'scripts/redis.sh stop "$LEDGERHOOK_REDIS_DIR"' EXIT
fi
out=$(mktemp)
LEDGERHOOK_INBOX_RELIABILITY=1 cargo test --release --all-features --test it \
    inbox_reliability::inbox_reliability_run -- --exact --nocapture 2>&1 | tee "$out"
grep -q '^inbox reliability run passed' "$out" || { echo "FAILED: inbox reliability run did not pass" >&2; exit 1; }
