#!/usr/bin/env bash
# Release binary size, and the time of a clean release build (in a separate
# target folder, so the usual one stays warm).
set -euo pipefail
cd "$(dirname "$0")/.."
scratch="$(mktemp -d)"; trap 'rm -rf "$scratch"' EXIT
start=$(date +%s)
CARGO_TARGET_DIR="$scratch" cargo build --release --quiet
end=$(date +%s)
echo "== size"
echo "clean release build: $((end - start)) s on $(nproc) cores"
echo "release binary: $(stat -c %s "$scratch/release/aws-rekey") bytes ($(du -h "$scratch/release/aws-rekey" | cut -f1))"
