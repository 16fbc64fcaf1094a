#!/usr/bin/env bash
# Runs a command inside a private D-Bus session with an unlocked GNOME Keyring
# (a real Secret Service), headless and without stdin, for the keychain tests.
# Usage: scripts/with-keyring.sh COMMAND [ARGS...]
set -euo pipefail
if [ -z "${AWS_REKEY_KEYRING_SESSION:-}" ]; then
  # Bus-activated services inherit the bus's environment, so the daemon's
  # HOME and XDG_RUNTIME_DIR are set before the bus starts: the test keyring
  # lives in a temp folder, never in the real home.
  scratch="$(mktemp -d)"
  trap 'rm -rf "$scratch"' EXIT
  mkdir -m 700 "$scratch/runtime"
  status=0
  AWS_REKEY_KEYRING_SESSION=1 AWS_REKEY_REAL_HOME="$HOME" \
    HOME="$scratch" XDG_RUNTIME_DIR="$scratch/runtime" \
    dbus-run-session --dbus-daemon="$(dirname "$0")/dbus-daemon-quiet.sh" -- "$0" "$@" || status=$?
  exit "$status"
fi
# Inside the session: create and unlock the login keyring, then start the
# secrets component (without --unlock it reports no storage access).
printf 'aws-rekey-tests' | gnome-keyring-daemon --unlock --components=secrets >/dev/null
gnome-keyring-daemon --start --components=secrets >/dev/null 2>&1
export HOME="$AWS_REKEY_REAL_HOME"
unset AWS_REKEY_KEYRING_SESSION AWS_REKEY_REAL_HOME
# Tells the tests the Secret Service is this private one: without it they
# never touch a keyring (a desktop's own session has a bus address too).
export AWS_REKEY_TEST_KEYRING=1
"$@"
