#!/usr/bin/env bash
# The whole test suite, on a fresh machine: installs what the tests need
# (the IAM/STS emulator and the AWS CLI from PyPI, D-Bus and GNOME Keyring
# from Debian for a real Secret Service), then runs every unit, property and
# end-to-end test inside a private, unlocked keyring session.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v dbus-run-session >/dev/null || ! command -v gnome-keyring-daemon >/dev/null; then
  echo "installing dbus and gnome-keyring (Debian packages) for the keychain tests" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq dbus gnome-keyring >/dev/null
fi
# Debian and Ubuntu ship venv (with the ensurepip it needs) separately.
if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
  echo "installing python3-venv (Debian package) for the emulator's Python environment" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq python3-venv >/dev/null
fi
source scripts/test-deps.sh
exec scripts/with-keyring.sh cargo test --all-targets "$@"
