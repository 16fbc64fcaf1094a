#!/usr/bin/env bash
# Runs every benchmark and prints the figures for docs/benchmarks.md:
#   bench/run.sh            all of them
#   bench/run.sh rotation   one of: rotation propagation rotate_all check credential-process find size
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/test-deps.sh
source scripts/release-bin.sh
release_bin
# The Python benchmarks (bench/emulator.py) run this binary.
export AWS_REKEY_BIN="$bin"
which="${1:-all}"
py() { echo "== $1"; python "bench/$1.py" "${@:2}"; echo; }
case "$which" in
  all)
    py rotation; py propagation; py rotate_all
    echo "== check"; bash bench/check.sh; echo
    echo "== credential-process"; bash bench/credential-process.sh; echo
    echo "== find"; bash bench/find.sh; echo
    bash bench/size.sh ;;
  rotation|propagation|rotate_all) py "$which" "${@:2}" ;;
  check) bash bench/check.sh ;;
  credential-process) bash bench/credential-process.sh ;;
  find) bash bench/find.sh "${@:2}" ;;
  size) bash bench/size.sh ;;
  *) echo "unknown benchmark: $which" >&2; exit 2 ;;
esac
