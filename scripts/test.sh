#!/usr/bin/env bash
# The whole test suite, on a fresh machine: installs what the tests need
# (the IAM/STS emulator and the AWS CLI from PyPI, D-Bus and GNOME Keyring
# from Debian for a real Secret Service, tinyproxy and openssl for the
# network tests), then runs every unit, property and
# end-to-end test inside a private, unlocked keyring session.
set -euo pipefail
cd "$(dirname "$0")/.."

# What the end-to-end tests run, from Debian: D-Bus and GNOME Keyring (a
# real Secret Service), python3-venv (with the ensurepip it needs, for the
# emulator's Python environment), zsh and fish (the completion scripts are
# run in their shells), tinyproxy and openssl (the network tests run a real
# HTTP CONNECT proxy and make their own certificate authority).
missing=()
command -v dbus-run-session >/dev/null || missing+=(dbus)
command -v gnome-keyring-daemon >/dev/null || missing+=(gnome-keyring)
python3 -c 'import venv, ensurepip' 2>/dev/null || missing+=(python3-venv)
command -v zsh >/dev/null || missing+=(zsh)
command -v fish >/dev/null || missing+=(fish)
command -v tinyproxy >/dev/null || missing+=(tinyproxy-bin)
command -v openssl >/dev/null || missing+=(openssl)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing ${missing[*]} (Debian packages) for the tests" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
source scripts/test-deps.sh
exec scripts/with-keyring.sh cargo test --all-targets "$@"
