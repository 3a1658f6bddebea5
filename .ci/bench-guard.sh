#!/usr/bin/env bash
# Instruction-count guard: runs benches/instructions.rs under callgrind (gungraun) and fails
# when a count grew past the threshold against benches/instructions-baseline.json
# (thresholds and why: BENCHMARKS.md, "Instruction counts").
#
#   bash .ci/bench-guard.sh             # check
#   bash .ci/bench-guard.sh --update    # rewrite the baseline from this run (commit it)
#
# Installs valgrind (scripts/valgrind.sh) and gungraun-runner at the version in Cargo.lock
# when missing. Counts are deterministic, so this holds on a shared, noisy machine.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/valgrind.sh
version=$(awk '/^name = "gungraun"$/ { getline; gsub(/"/, "", $3); print $3 }' Cargo.lock)
if [[ "$(gungraun-runner --version 2>/dev/null)" != "gungraun-runner $version" ]]; then
  echo "installing gungraun-runner $version..." >&2
  cargo install gungraun-runner --version "$version" --locked --quiet
fi

out=$(mktemp)
trap 'rm -f "$out"' EXIT
cargo bench --quiet --bench instructions -- --output-format=json >"$out"
if [[ "${1:-}" == "--update" ]]; then
  python3 benches/report.py instructions "$out" --write-baseline
else
  python3 benches/report.py instructions "$out" --check
fi
