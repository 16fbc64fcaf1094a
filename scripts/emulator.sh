#!/usr/bin/env bash
# Sourced by scripts/try.sh and the bench/ scripts: starts the IAM/STS
# emulator (tests/emulator/emulator.py) in the background for this shell, and
# gives a helper to create users. Needs scripts/test-deps.sh sourced first.
#   start_emulator        sets $endpoint; the emulator dies with this shell
#   make_user NAME        prints {"arn", "access_key_id", "secret_access_key"}
start_emulator() {
  local root
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  coproc EMU { exec python "$root/tests/emulator/emulator.py"; }
  local ready
  read -r ready <&"${EMU[0]}"
  endpoint="$(python -c 'import json,sys; print(json.loads(sys.argv[1])["endpoint"])' "$ready")"
  export endpoint
}

make_user() {
  python - "$endpoint" "$1" <<'PY'
import json, sys, urllib.request
endpoint, name = sys.argv[1:]
req = urllib.request.Request(endpoint + "/_harness/user", data=json.dumps({"name": name}).encode(), method="POST")
print(urllib.request.urlopen(req).read().decode())
PY
}

# A throwaway home with the AWS environment pointed at it and the emulator.
use_throwaway_home() {
  home="$(mktemp -d)"
  export HOME="$home" AWS_EC2_METADATA_DISABLED=true AWS_ENDPOINT_URL="$endpoint" \
    AWS_CONFIG_FILE="$home/.aws/config" AWS_SHARED_CREDENTIALS_FILE="$home/.aws/credentials" \
    AWS_REKEY_STATE_DIR="$home/state" AWS_DEFAULT_REGION=us-east-1
  unset AWS_PROFILE AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN
  mkdir -p "$home/.aws"
}
