"""`aws-rekey rotate --all` with 1, 5, 10 and 20 users: how the wall time
grows (rotations run concurrently)."""

import sys

from emulator import BIN, Emulator, Home, machine, median

RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 3


def main():
    emu = Emulator()
    rows = []
    try:
        home = Home(emu)
        for n in (1, 5, 10, 20):
            times = []
            for r in range(RUNS):
                users = [(f"p{i}", emu.user(f"all{n}-{r}-{i}")) for i in range(n)]
                home.write_profiles(users)
                dt, _ = home.run([BIN, "rotate", "--all"])
                times.append(dt)
            rows.append((n, median(times)))
    finally:
        emu.close()
    print(f"machine: {machine()}")
    print("users | median wall time | per user")
    for n, t in rows:
        print(f"{n:>5} | {t * 1000:>13.0f} ms | {t * 1000 / n:>5.0f} ms")


main()
