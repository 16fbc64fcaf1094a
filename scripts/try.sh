#!/usr/bin/env bash
# Try aws-rekey without an AWS account: a real rotation against the local
# IAM/STS emulator (moto, authentication enforced), in a throwaway home
# folder. Nothing outside 127.0.0.1 is contacted; nothing in your own
# ~/.aws is read or written.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/test-deps.sh
cargo build --quiet
bin="$PWD/target/debug/aws-rekey"

home="$(mktemp -d)"
coproc EMU { exec python tests/emulator/emulator.py; }
trap 'kill "$EMU_PID" 2>/dev/null; rm -rf "$home"' EXIT
read -r ready <&"${EMU[0]}"
endpoint="$(python -c 'import json,sys; print(json.loads(sys.argv[1])["endpoint"])' "$ready")"

export HOME="$home" AWS_EC2_METADATA_DISABLED=true AWS_ENDPOINT_URL="$endpoint" \
  AWS_CONFIG_FILE="$home/.aws/config" AWS_SHARED_CREDENTIALS_FILE="$home/.aws/credentials" \
  AWS_REKEY_STATE_DIR="$home/state" AWS_DEFAULT_REGION=us-east-1
unset AWS_PROFILE AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN

# An IAM user with one key, in a credentials file with a comment and two profiles.
python - "$endpoint" "$home" <<'PY'
import json, os, sys, urllib.request
endpoint, home = sys.argv[1:]
req = urllib.request.Request(endpoint + "/_harness/user", data=b'{"name": "newcomer"}', method="POST")
user = json.load(urllib.request.urlopen(req))
os.makedirs(home + "/.aws")
with open(home + "/.aws/credentials", "w") as f:
    f.write("# my keys (a throwaway emulator user)\n[default]\n"
            f"aws_access_key_id = {user['access_key_id']}\n"
            f"aws_secret_access_key = {user['secret_access_key']}\n\n"
            "[elsewhere]\naws_access_key_id = AKIAUNTOUCHED0000000\naws_secret_access_key = untouched\n")
PY
old_id="$(sed -n 's/^aws_access_key_id = //p' "$home/.aws/credentials" | head -1)"
old_secret="$(sed -n 's/^aws_secret_access_key = //p' "$home/.aws/credentials" | head -1)"
show() { sed -E 's/(aws_secret_access_key = ).{4}.*/\1…(secret)/' "$home/.aws/credentials"; }

echo "== before"; show
echo; echo "== aws-rekey rotate"
"$bin" rotate
echo; echo "== after (only the two values changed)"; show
echo; echo "== the AWS CLI reads the new key"
aws sts get-caller-identity --profile default --output text
echo; echo "== the old key is dead"
if AWS_ACCESS_KEY_ID="$old_id" AWS_SECRET_ACCESS_KEY="$old_secret" aws sts get-caller-identity >/dev/null 2>&1; then
  echo "unexpected: the old key still works"; exit 1
else
  echo "rejected, as it should be"
fi
