#!/usr/bin/env bash
# Instruction-count guard: runs benches/instructions.rs under callgrind (gungraun) and fails
# when a count grew past the threshold against benches/instructions-baseline.json
# (thresholds and why: BENCHMARKS.md, "Instruction counts").
#
#   bash .ci/bench-guard.sh             # check
#   bash .ci/bench-guard.sh --update    # rewrite the baseline from this run (commit it)
#
# Installs valgrind (scripts/valgrind.sh) and gungraun-runner at the version in Cargo.lock
# when missing. Counts are deterministic, so this holds on a shared, noisy machine. When the
# CPU that valgrind shows (.ci/valgrind-cpuid.c) is not the baseline's, counts are compared
# as ratios to same-run references instead (report.py prints which mode ran).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/valgrind.sh
version=$(awk '/^name = "gungraun"$/ { getline; gsub(/"/, "", $3); print $3 }' Cargo.lock)
if [[ "$(gungraun-runner --version 2>/dev/null)" != "gungraun-runner $version" ]]; then
  echo "installing gungraun-runner $version..." >&2
  cargo install gungraun-runner --version "$version" --locked --quiet
fi

# The check logic itself, on fabricated baseline/run pairs.
python3 benches/report.py instructions --self-test

# Counts depend on where the program was built and run from, not only on its code: the
# checkout's path is compiled into panic locations (moving read-only data), and the
# binary's path is on the stack valgrind gives it (moving stack alignment). A clone in
# another directory counted up to 2 % more on small parses. So the bench is built with
# those paths remapped to fixed names, into a target directory at a fixed path, and the
# counts depend on the code alone.
export CARGO_TARGET_DIR=/tmp/ledgerhook-bench-guard
cargo_home=$(cd "${CARGO_HOME:-$HOME/.cargo}" && pwd -P)
export RUSTFLAGS="${RUSTFLAGS:-} --remap-path-prefix=$(pwd -P)=/ledgerhook --remap-path-prefix=$cargo_home=/cargo"
# Every bench builds here (CI's "benches compile" is this step), the counted one included.
cargo bench --quiet --no-run

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cc -O1 -o "$tmp/cpuid" .ci/valgrind-cpuid.c
machine=$(valgrind --tool=none -q "$tmp/cpuid")
host=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
cargo bench --quiet --bench instructions -- --output-format=json >"$tmp/counts.json"
mode=--check
[[ "${1:-}" == "--update" ]] && mode=--write-baseline
python3 benches/report.py instructions "$tmp/counts.json" "$mode" --machine "$machine" --host "$host"
