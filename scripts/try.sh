#!/usr/bin/env bash
# Try aws-rekey without an AWS account: a real rotation against the local
# IAM/STS emulator (moto, authentication enforced), in a throwaway home
# folder. The rotation talks only to 127.0.0.1; the first run downloads the
# emulator and the AWS CLI from PyPI (scripts/test-deps.sh), and builds
# aws-rekey unless the install command already did. Nothing in your own
# ~/.aws is read or written.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/test-deps.sh
source scripts/emulator.sh
source scripts/release-bin.sh
release_bin
echo "== starting the local IAM/STS emulator" >&2
start_emulator
use_throwaway_home
trap 'kill "$EMU_PID" 2>/dev/null; rm -rf "$home"' EXIT

# An IAM user with one key, in a credentials file with a comment and two profiles.
user="$(make_user newcomer)"
old_id="$(python -c 'import json,sys; print(json.loads(sys.argv[1])["access_key_id"])' "$user")"
old_secret="$(python -c 'import json,sys; print(json.loads(sys.argv[1])["secret_access_key"])' "$user")"
cat > "$home/.aws/credentials" <<CREDS
# my keys (a throwaway emulator user)
[default]
aws_access_key_id = $old_id
aws_secret_access_key = $old_secret

[elsewhere]
aws_access_key_id = AKIAUNTOUCHED0000000
aws_secret_access_key = untouched
CREDS
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
