#!/usr/bin/env bash
# Sourced by scripts/test.sh and scripts/try.sh: makes a private Python
# environment with the IAM/STS emulator and the AWS CLI (tests/requirements.txt),
# once, and puts it first on PATH.
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/target/test-venv"
stamp="$venv/.requirements"
if ! cmp -s "$root/tests/requirements.txt" "$stamp" 2>/dev/null; then
  echo "installing the emulator and the AWS CLI into $venv (from PyPI, once)" >&2
  if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
    echo "python3 with venv is needed (on Debian/Ubuntu: apt-get install python3-venv)" >&2
    return 1 2>/dev/null || exit 1
  fi
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$root/tests/requirements.txt"
  cp "$root/tests/requirements.txt" "$stamp"
fi
export PATH="$venv/bin:$PATH"
export AWS_REKEY_TEST_PYTHON="$venv/bin/python"
