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

# Counts move with more than the code counted: data layout (what glibc's memcpy and
# memcmp cost depends on alignment) shifts with every path compiled into the binary
# (gungraun's `main!` embeds the package's directory) and with code elsewhere in it. So
# the bench is built from a copy of the tracked files (as they are in the working tree) at
# a fixed path, into a target directory at a fixed path, with cargo's home remapped to a
# fixed name: counts do not depend on where the clone lives. The baseline is regenerated
# with every commit that touches src/ (BENCHMARKS.md, "Instruction counts").
guard=/tmp/ledgerhook-bench-guard
rm -rf "$guard/tree"
mkdir -p "$guard/tree"
git ls-files -z --cached --others --exclude-standard |
  tar --null --ignore-failed-read -T - -cf - 2>/dev/null | tar -xf - -C "$guard/tree"
export CARGO_TARGET_DIR=$guard/target
cargo_home=$(cd "${CARGO_HOME:-$HOME/.cargo}" && pwd -P)
export RUSTFLAGS="${RUSTFLAGS:-} --remap-path-prefix=$cargo_home=/cargo"
# Every bench builds here (CI's "benches compile" is this step), the counted one included.
(cd "$guard/tree" && cargo bench --quiet --no-run)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cc -O1 -o "$tmp/cpuid" .ci/valgrind-cpuid.c
machine=$(valgrind --tool=none -q "$tmp/cpuid")
host=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
(cd "$guard/tree" && cargo bench --quiet --bench instructions -- --output-format=json) >"$tmp/counts.json"
mode=--check
[[ "${1:-}" == "--update" ]] && mode=--write-baseline
python3 benches/report.py instructions "$tmp/counts.json" "$mode" --machine "$machine" --host "$host"
