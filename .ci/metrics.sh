#!/usr/bin/env bash
# CI step (called from .ci/run): the metrics scrape test with its output validated by
# `promtool check metrics`. Installs promtool (Debian package `prometheus`) if missing;
# LEDGERHOOK_REQUIRE_PROMTOOL=1 makes the test fail if promtool did not run, and the
# step checks that the test said so.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never

if ! command -v promtool >/dev/null; then
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
    $sudo apt-get update -qq
    # Only the binaries are needed: the package's service is never started here.
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends prometheus
fi
promtool --version | head -1

out=$(mktemp)
trap 'rm -f "$out"' EXIT
LEDGERHOOK_REQUIRE_PROMTOOL=1 cargo test --all-features --test it metrics:: -- --nocapture 2>&1 | tee "$out"
grep -q '^promtool check metrics: ran, no problems' "$out" || {
    echo "the scrape was not validated by promtool" >&2
    exit 1
}
