#!/usr/bin/env bash
# `aws-rekey find` against ripgrep (`rg -uu --fixed-strings -l`, the same
# ids) on a generated tree of 50,000 small text files, a few of which hold a
# key id, some in git-ignored and hidden folders. Both search every file of
# the tree (it has no folder on find's skip list), warm cache. Checks first
# that both report the same files. Needs ripgrep and hyperfine (installed
# from Debian if missing). Usage: bench/find.sh [hyperfine args];
# ROUNDS=N (6) RUNS=N (5 per round); RG=PATH compares another ripgrep build.
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
command -v hyperfine >/dev/null || missing+=(hyperfine)
command -v rg >/dev/null || missing+=(ripgrep)
if [ "${#missing[@]}" -gt 0 ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
source scripts/release-bin.sh
release_bin
dir="$(mktemp -d)"; trap 'rm -rf "$dir"' EXIT
export AWS_SHARED_CREDENTIALS_FILE="$dir/aws/credentials" AWS_CONFIG_FILE="$dir/aws/config" AWS_REKEY_STATE_DIR="$dir/state"
# The ids, one per line, for rg's command line below.
python3 - "$dir" > "$dir/ids" <<'PY'
import os, random, sys
d = sys.argv[1]
rng = random.Random(12)
abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/+"
keys = [("AKIA" + "".join(rng.choice(abc) for _ in range(16)),
         "".join(rng.choice(b64) for _ in range(40))) for _ in range(5)]
os.makedirs(f"{d}/aws")
with open(f"{d}/aws/credentials", "w") as f:
    for i, (kid, secret) in enumerate(keys):
        f.write(f"[p{i}]\naws_access_key_id = {kid}\naws_secret_access_key = {secret}\n")
open(f"{d}/aws/config", "w").write("")
words = ("the quick brown fox jumps over lazy dog export PATH HOME region bucket "
         "deploy build test config value key token server client data").split()
tree = f"{d}/tree"
n = 0
# 50 projects x 20 folders x 50 files = 50,000 files of 0.2-2 KiB; some
# projects are git repositories whose .gitignore hides .env files and a
# secrets/ folder, some folders are hidden.
for p in range(50):
    proj = f"{tree}/project{p:02}"
    os.makedirs(proj)
    if p % 5 == 0:
        os.makedirs(f"{proj}/.git")
        open(f"{proj}/.gitignore", "w").write(".env\nsecrets/\n")
    for s in range(20):
        name = [f"src{s}", f".hidden{s}", f"secrets{s}" if p % 5 else "secrets"][s % 3]
        sub = f"{proj}/{name}/{s}"
        os.makedirs(sub, exist_ok=True)
        for i in range(50):
            text = "\n".join(" ".join(rng.choice(words) for _ in range(rng.randint(3, 12)))
                             for _ in range(rng.randint(4, 30)))
            # Near misses: other AKIA ids, in about one file in ten.
            if rng.random() < 0.1:
                text += "\nAKIA" + "".join(rng.choice(abc) for _ in range(16))
            fname = ".env" if i == 0 and s % 3 == 1 else f"file{i}.txt"
            open(f"{sub}/{fname}", "w").write(text + "\n")
            n += 1
assert n == 50000, n
# Twelve copies: in hidden, git-ignored and plain files, some with the secret.
hits = rng.sample(range(50 * 20), 12)
for h, (p, s) in enumerate(divmod(x, 20) for x in hits):
    proj = f"{tree}/project{p:02}"
    name = [f"src{s}", f".hidden{s}", f"secrets{s}" if p % 5 else "secrets"][s % 3]
    kid, secret = keys[h % 5]
    path = f"{proj}/{name}/{s}/file{h}.txt"
    with open(path, "a") as f:
        f.write(f"AWS_ACCESS_KEY_ID={kid}\n")
        if h % 2:
            f.write(f"AWS_SECRET_ACCESS_KEY={secret}\n")
for kid, _ in keys:
    print(kid)
PY
tree="$dir/tree"
# RG=/path/to/rg compares another ripgrep build.
rg="${RG:-rg}"
rg_args=(-uu --fixed-strings -l)
while read -r id; do rg_args+=(-e "$id"); done < "$dir/ids"
echo "== $(find "$tree" -type f | wc -l) files, $(find "$tree" -type d | wc -l) folders, $(du -sh "$tree" | cut -f1)"
# Same answer first: the files each reports.
diff <("$rg" "${rg_args[@]}" "$tree" | sort) \
     <("$bin" find --output json "$tree" | python3 -c 'import json,sys; print("\n".join(sorted({h["path"] for h in json.load(sys.stdin)["hits"]})))') \
  || { echo "aws-rekey find and rg report different files" >&2; exit 1; }
echo "== both report the same $("$rg" "${rg_args[@]}" "$tree" | wc -l) files"
echo "== $("$rg" --version | head -1), $(hyperfine --version), $(nproc) cores"
# Rounds of a few runs each, the order swapped every round, so that a burst
# of load from other jobs on a shared machine falls on both alike.
rounds="${ROUNDS:-6}"; runs="${RUNS:-5}"
rg_cmd="$rg ${rg_args[*]} $tree"; find_cmd="$bin find $tree"
for i in $(seq 1 "$rounds"); do
  if [ $((i % 2)) -eq 1 ]; then first="$rg_cmd"; second="$find_cmd"; else first="$find_cmd"; second="$rg_cmd"; fi
  hyperfine -N --warmup 2 --runs "$runs" --style basic --export-json "$dir/round$i.json" "$@" "$first" "$second" >/dev/null
done
# Medians, minimums and CPU time over all rounds: on a shared machine the
# mean wall time carries other jobs' noise.
python3 - "$dir" "$rounds" "$find_cmd" <<'PY'
import json, statistics, sys
d, rounds, find_cmd = sys.argv[1], int(sys.argv[2]), sys.argv[3]
times = {"rg": [], "find": []}
cpu = {"rg": [], "find": []}
for i in range(1, rounds + 1):
    for r in json.load(open(f"{d}/round{i}.json"))["results"]:
        k = "find" if r["command"] == find_cmd else "rg"
        times[k] += r["times"]
        cpu[k].append(r["user"] + r["system"])
for label, f in [("median", statistics.median), ("min", min)]:
    a, b = f(times["rg"]), f(times["find"])
    print(f"{label + ':':8}rg {a*1000:.0f} ms, aws-rekey find {b*1000:.0f} ms, ratio {b/a:.2f}")
a, b = statistics.mean(cpu["rg"]), statistics.mean(cpu["find"])
print(f"cpu:    rg {a*1000:.0f} ms, aws-rekey find {b*1000:.0f} ms, ratio {b/a:.2f} (user+system per run)")
print(f"({len(times['rg'])} runs each, in {rounds} rounds)")
PY
