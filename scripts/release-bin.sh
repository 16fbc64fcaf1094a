#!/usr/bin/env bash
# Sourced by scripts/try.sh and the bench/ scripts: sets $bin to the release
# binary, asking cargo where it is rather than assuming target/release
# (CARGO_TARGET_DIR and build.target-dir move it). The build is the one the
# install command (`cargo install --locked --path .`) made in the same
# target folder, so after installing this only checks that it is current;
# without it, it builds once (a few minutes on a small machine).
release_bin() {
  local root
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  echo "== building aws-rekey (release; reuses the build of \`cargo install --locked --path .\` if current)" >&2
  # Cargo's own progress and errors go to stderr; stdout carries one JSON
  # message per built unit, the executable's among them.
  bin="$(cd "$root" && cargo build --release --locked --bin aws-rekey --message-format=json-render-diagnostics |
    python3 -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["name"] == "aws-rekey":
        print(m["executable"])
')"
  if [ ! -x "$bin" ]; then
    echo "could not find the aws-rekey binary cargo built" >&2
    return 1
  fi
  echo "== using $bin" >&2
}
