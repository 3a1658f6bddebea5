#!/usr/bin/env bash
# CI step (called from .ci/run): the `ledgerhook` command line (workspace member cli/).
# The root package's steps do not cover it (`cargo clippy` at the root lints the root
# package only), so it is linted, documented and tested here.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never

cargo clippy -p ledgerhook-cli --all-targets -- -D warnings
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps -p ledgerhook-cli
# The registration models build alone, and with their client.
cargo check --no-default-features --features setup
cargo check --no-default-features --features setup-client
# Real processes over loopback: test receivers, `ledgerhook listen`, a fake RootFi API.
cargo test -p ledgerhook-cli
