"""IAM's eventual consistency: the emulator refuses a new key with
InvalidClientTokenId for S seconds, then on every other request for F more
(as real IAM sometimes does after a first success). Reports how long after
the key became usable aws-rekey finished, and how many requests it spent
waiting."""

import sys

from emulator import BIN, Emulator, Home, machine

CASES = [(2.4, 0), (5.7, 0), (10.5, 0), (5.7, 3), (10.5, 5)]


def main():
    emu = Emulator()
    rows = []
    try:
        home = Home(emu)
        for i, (s, f) in enumerate(CASES):
            user = emu.user(f"prop{i}")
            home.write_profiles([("p", user)])
            emu.clear_log()
            emu.fault(propagation_s=s, flap_s=f)
            _, out = home.run([BIN, "rotate", "--profile", "p", "--verify-timeout", "120"])
            log = emu.log()
            emu.fault()
            created = next(e["t"] for e in log if e["action"] == "CreateAccessKey")
            usable = created + s
            finished = max(e["t"] for e in log)
            refused = sum(1 for e in log if e["status"] == "propagating")
            waiting = sum(1 for e in log if e["t"] > created and e["action"] in ("GetCallerIdentity", "DeleteAccessKey"))
            rows.append((s, f, finished - usable, refused, waiting))
    finally:
        emu.close()
    print(f"machine: {machine()}")
    print("refused for | flapping for | finished after usable | requests refused | requests with the new key")
    for s, f, over, refused, waiting in rows:
        print(f"{s:>9.1f} s | {f:>10.1f} s | {over:>19.2f} s | {refused:>16} | {waiting:>25}")


main()
