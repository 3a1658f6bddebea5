#!/usr/bin/env bash
# The feature combinations CI checks (library only): none (the verification core), each
# feature on its own, pairs that change what gets compiled, the defaults, and all.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never

combinations=(
    ""                  # verify only: no tower, tokio, serde
    "events"
    "layer"
    "idempotency"
    "axum"
    "tracing"
    "explain"           # the signature explainer on the verify-only core
    "redis"
    "layer,tracing"     # the log summary without axum
    "events,layer"      # `VerifiedBytes::parse` without the extractors
    "axum,tracing"
    "metrics"           # delivery, body and handler metrics, no events or idempotency
    "axum,metrics"      # + event counts in the extractor
    "idempotency,metrics"   # + store latency
    "metrics,tracing"   # + the span without the extractor
)
for features in "${combinations[@]}"; do
    echo "--- cargo check --no-default-features --features '${features}'"
    cargo check --quiet --no-default-features --features "${features}"
done
echo "--- cargo check (defaults)"
cargo check --quiet
echo "--- cargo check --all-features"
cargo check --quiet --all-features
