#!/usr/bin/env bash
# The whole test suite, on a fresh machine: installs what the tests need,
# then runs every unit, property and end-to-end test.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/test-deps.sh
cargo test --all-targets "$@"
