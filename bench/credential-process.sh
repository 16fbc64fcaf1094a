#!/usr/bin/env bash
# `aws-rekey credential-process` latency (what the AWS CLI pays on every
# command for a keychain profile), against starting the same binary with no
# work (`--version`) and against reading the credentials file (`cat`, what
# a file profile costs). Uses a real Secret Service (GNOME Keyring in a
# private D-Bus session) and the local emulator. Needs hyperfine.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${DBUS_SESSION_BUS_ADDRESS:-}" ]; then
  exec scripts/with-keyring.sh "$0" "$@"
fi
command -v hyperfine >/dev/null || { sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo; $sudo apt-get install -y -qq hyperfine >/dev/null; }
source scripts/test-deps.sh
source scripts/emulator.sh
source scripts/release-bin.sh
release_bin
start_emulator
real_home="$HOME"
use_throwaway_home
trap 'kill "$EMU_PID" 2>/dev/null; rm -rf "$home"' EXIT
make_user bench | python -c 'import json,sys; u=json.load(sys.stdin); print(u["access_key_id"]); print(u["secret_access_key"])' \
  | "$bin" setup --profile bench-cp --store keychain --no-rotate >/dev/null
printf '[file]\naws_access_key_id = AKIAFILE000000000000\naws_secret_access_key = s\n' >> "$home/.aws/credentials"
"$bin" credential-process --profile bench-cp | python -c 'import json,sys; assert json.load(sys.stdin)["Version"] == 1'
hyperfine -N --warmup 20 --runs 200 "$@" \
  "$bin --version" \
  "$bin credential-process --profile bench-cp" \
  "cat $home/.aws/credentials"
