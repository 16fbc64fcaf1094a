"""One full rotation: aws-rekey against the manual AWS CLI recipe, side by
side against the same emulator, alternating, medians of several runs; and
the HTTP requests aws-rekey makes against the minimum the protocol needs."""

import json
import sys

from emulator import BIN, Emulator, Home, machine, median

RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 7


def manual(home, profile):
    """The recipe people follow by hand (the IAM user guide's steps)."""
    t = 0.0
    dt, out = home.run(["aws", "iam", "create-access-key", "--profile", profile, "--output", "json"])
    t += dt
    new = json.loads(out.stdout)["AccessKey"]
    dt, out = home.run(["aws", "iam", "list-access-keys", "--profile", profile, "--output", "json"])
    t += dt
    old = next(k["AccessKeyId"] for k in json.loads(out.stdout)["AccessKeyMetadata"] if k["AccessKeyId"] != new["AccessKeyId"])
    # Note the secret on a command line: one of the recipe's own flaws.
    dt, _ = home.run(["aws", "configure", "set", "aws_access_key_id", new["AccessKeyId"], "--profile", profile])
    t += dt
    dt, _ = home.run(["aws", "configure", "set", "aws_secret_access_key", new["SecretAccessKey"], "--profile", profile])
    t += dt
    dt, _ = home.run(["aws", "sts", "get-caller-identity", "--profile", profile])
    t += dt
    dt, _ = home.run(["aws", "iam", "delete-access-key", "--access-key-id", old, "--profile", profile])
    t += dt
    return t


def main():
    emu = Emulator()
    try:
        home = Home(emu)
        tool, cli = [], []
        for i in range(RUNS):
            order = ["tool", "cli"] if i % 2 == 0 else ["cli", "tool"]
            for which in order:
                user = emu.user(f"{which}{i}")
                home.write_profiles([("p", user)])
                if which == "tool":
                    dt, _ = home.run([BIN, "rotate", "--profile", "p"])
                    tool.append(dt)
                else:
                    cli.append(manual(home, "p"))
        user = emu.user("count")
        home.write_profiles([("p", user)])
        emu.clear_log()
        home.run([BIN, "rotate", "--profile", "p"])
        actions = [e["action"] for e in emu.log()]
        emu.clear_log()
        user = emu.user("count-cli")
        home.write_profiles([("p", user)])
        manual(home, "p")
        cli_requests = len(emu.log())
    finally:
        emu.close()
    print(f"machine: {machine()}")
    print(f"runs: {RUNS} of each, alternating")
    print(f"aws-rekey rotate        median {median(tool) * 1000:.0f} ms")
    print(f"manual AWS CLI recipe   median {median(cli) * 1000:.0f} ms")
    print(f"ratio (recipe / tool)   {median(cli) / median(tool):.1f}x")
    print(f"aws-rekey requests      {len(actions)}: {', '.join(actions)}")
    print("protocol minimum        5: GetCallerIdentity, ListAccessKeys, CreateAccessKey, GetCallerIdentity, DeleteAccessKey")
    print("                        (+1 GetAccessKeyLastUsed: AWS's last-use check before deleting)")
    print(f"manual recipe requests  {cli_requests} (no identity check of the old key, no last-use check)")


main()
