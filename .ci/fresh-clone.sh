#!/usr/bin/env bash
# CI step (called from .ci/run): clones the committed tree into an empty temporary
# directory, with nothing beside it, and runs the README's test command there, so a test,
# example or script that reaches outside the repository fails CI.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never

# The README's second command, read from the README itself so the two cannot drift.
test_cmd=$(awk '/^```sh$/{f=1;next} f&&/^```/{exit} f' README.md | sed -n 2p | sed 's/ *#.*$//')
case "$test_cmd" in
    cargo\ test*) ;;
    *) echo "FAILED: README's second command is not a cargo test command: '$test_cmd'" >&2; exit 1 ;;
esac

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
git clone --quiet --no-local . "$dir/ledgerhook"
# Reuse the compiled dependencies; the clone's own crate (another path) is built anew.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
cd "$dir/ledgerhook"
if [ "$(ls -A "$dir")" != "ledgerhook" ]; then echo "FAILED: something is beside the clone" >&2; exit 1; fi
echo "running '$test_cmd' in $dir/ledgerhook"
eval "$test_cmd"
