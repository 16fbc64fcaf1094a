#!/usr/bin/env bash
# `aws-rekey check` (run at every shell start) against `cat` of the
# credentials file, the yardstick, with 20 profiles. Offline; needs hyperfine
# (installed from Debian if missing). Usage: bench/check.sh [hyperfine args]
set -euo pipefail
cd "$(dirname "$0")/.."
command -v hyperfine >/dev/null || { sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo; $sudo apt-get install -y -qq hyperfine >/dev/null; }
source scripts/release-bin.sh
release_bin
dir="$(mktemp -d)"; trap 'rm -rf "$dir"' EXIT
export AWS_SHARED_CREDENTIALS_FILE="$dir/credentials" AWS_CONFIG_FILE="$dir/config" AWS_REKEY_STATE_DIR="$dir/state"
python3 - "$dir" <<'PY'
import json, sys, datetime
d = sys.argv[1]
now = datetime.datetime.now(datetime.timezone.utc)
creds, config, keys = [], [], {}
for i in range(20):
    key_id = f"AKIABENCH{i:011d}"
    creds.append(f"# profile {i}\n[p{i}]\naws_access_key_id = {key_id}\naws_secret_access_key = secret{i}\n")
    config.append(f"[profile p{i}]\nregion = eu-west-1\noutput = json\n")
    # Young keys: check prints nothing, the common case at shell start.
    keys[key_id] = {"created": (now - datetime.timedelta(days=i)).isoformat().replace("+00:00", "Z"), "user_arn": "", "profiles": [f"p{i}"]}
open(f"{d}/credentials", "w").write("\n".join(creds))
open(f"{d}/config", "w").write("\n".join(config))
import os; os.makedirs(f"{d}/state")
open(f"{d}/state/keys.json", "w").write(json.dumps({"keys": keys}))
PY
out="$("$bin" check)"; [ -z "$out" ] || { echo "check was not silent: $out"; exit 1; }
hyperfine -N --warmup 50 --runs 500 "$@" \
  "cat $dir/credentials" \
  "$bin check"
