"""Shared by the bench/ scripts: the test emulator in a subprocess, a
throwaway home, and the release binary. Run the scripts through
bench/run.sh, which builds the release binary and sets up the emulator's
Python environment."""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = os.environ.get("AWS_REKEY_BIN", str(ROOT / "target" / "release" / "aws-rekey"))


class Emulator:
    def __init__(self):
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "tests" / "emulator" / "emulator.py")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.endpoint = json.loads(self.proc.stdout.readline())["endpoint"]

    def call(self, route, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(
            f"{self.endpoint}/_harness/{route}", data=data, method="POST" if data else "GET"
        )
        return json.load(urllib.request.urlopen(req))

    def user(self, name):
        return self.call("user", {"name": name})

    def log(self):
        return self.call("log")

    def clear_log(self):
        self.call("clear-log", {})

    def fault(self, **spec):
        self.call("fault", spec)

    def close(self):
        self.proc.kill()


class Home:
    """A throwaway home whose AWS files and state belong to the benchmark."""

    def __init__(self, emulator):
        self.dir = tempfile.mkdtemp(prefix="aws-rekey-bench-")
        os.makedirs(f"{self.dir}/.aws")
        self.env = {
            k: v for k, v in os.environ.items() if not k.startswith("AWS_")
        } | {
            "HOME": self.dir,
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": f"{self.dir}/.aws/config",
            "AWS_SHARED_CREDENTIALS_FILE": f"{self.dir}/.aws/credentials",
            "AWS_ENDPOINT_URL": emulator.endpoint,
            "AWS_REKEY_STATE_DIR": f"{self.dir}/state",
            "AWS_DEFAULT_REGION": "us-east-1",
        }

    def write_profiles(self, users):
        with open(f"{self.dir}/.aws/credentials", "w") as f:
            for name, u in users:
                f.write(
                    f"[{name}]\naws_access_key_id = {u['access_key_id']}\n"
                    f"aws_secret_access_key = {u['secret_access_key']}\n\n"
                )

    def run(self, args, check=True):
        start = time.perf_counter()
        out = subprocess.run(args, env=self.env, capture_output=True, text=True)
        elapsed = time.perf_counter() - start
        if check and out.returncode != 0:
            raise SystemExit(f"{args} failed ({out.returncode}): {out.stderr}")
        return elapsed, out


def median(xs):
    return statistics.median(xs)


def machine():
    cpu = "unknown CPU"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {cpu}"
