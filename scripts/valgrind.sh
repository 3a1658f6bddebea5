#!/usr/bin/env bash
# Installs valgrind from Debian's packages when it is missing (the instruction-count
# benches run under callgrind: benches/instructions.rs, .ci/bench-guard.sh).
set -euo pipefail
if command -v valgrind >/dev/null; then
  exit 0
fi
echo "installing valgrind..." >&2
apt-get update -qq >/dev/null
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind >/dev/null
valgrind --version >&2
