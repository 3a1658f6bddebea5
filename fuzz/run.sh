#!/usr/bin/env bash
# Builds every fuzz target and runs each for a bounded time; fails if any target finds a
# crash (panic, failed assertion, timeout, out-of-memory). Called by .ci/run.
#
#   bash fuzz/run.sh [SECONDS_PER_TARGET]     (default 20)
#
# Environment: FUZZ_SANITIZER=address|none (default none, see fuzz/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-20}"
sanitizer="${FUZZ_SANITIZER:-none}"
# cargo-fuzz passes nightly-only compiler flags (`-Cpasses=sancov-module`,
# `-Zsanitizer=...`); RUSTC_BOOTSTRAP=1 lets the stable toolchain accept them.
export RUSTC_BOOTSTRAP=1
# The fuzz crate builds into fuzz/target; a caller's target dir is for the main crate.
unset CARGO_TARGET_DIR

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi

cargo fuzz build --sanitizer "$sanitizer"

passed=0
failed=()
for target in $(cargo fuzz list); do
  # Work on a scratch copy of the checked-in seeds and regressions, so a CI run leaves the
  # local corpus alone and always starts from the same inputs.
  work="$(mktemp -d)"
  cp fuzz/corpus/"$target"/seed-* "$work"/ 2>/dev/null || true
  cp fuzz/regressions/"$target"/* "$work"/ 2>/dev/null || true
  log="$(mktemp)"
  if cargo fuzz run --sanitizer "$sanitizer" "$target" "$work" -- \
      -max_total_time="$seconds" -timeout=10 -print_final_stats=1 >"$log" 2>&1; then
    runs="$(grep -a 'stat::number_of_executed_units' "$log" | awk '{print $2}')"
    echo "fuzz $target: ${runs:-?} executions in ${seconds}s, no crash"
    passed=$((passed + 1))
  else
    # The report: libFuzzer's crash summary, the panic message and the saved input.
    grep -av '^ \+[0-9]*:\|^ \+at ' "$log" | tail -n 60
    echo "fuzz $target: CRASH (input saved under fuzz/artifacts/$target/)"
    failed+=("$target")
  fi
  rm -rf "$work" "$log"
done

echo "fuzz: ${passed} passed, ${#failed[@]} failed"
if ((${#failed[@]})); then
  echo "failing targets: ${failed[*]}"
  exit 1
fi
